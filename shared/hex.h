/* hex.h - lowercase hex and base64 of non-secret bytes. */
#ifndef HK_HEX_H
#define HK_HEX_H

#include <stddef.h>
#include <stdint.h>

/* out must hold 2*len+1 bytes. */
void hk_hex_encode(const unsigned char *in, size_t len, char *out);
/* Strict lowercase hex of exactly outlen bytes: 0 or HK_ERR_PARSE. */
int hk_hex_decode(const char *in, unsigned char *out, size_t outlen);
/* A strict decimal of s[0..n): 1 to maxd digits (maxd <= 19), no sign,
 * no space, no leading zero but "0" itself: 0 with *out, or -1. */
int hk_dec_parse(const char *s, size_t n, size_t maxd, uint64_t *out);
/* SHA-256 fingerprint as "AA:BB:..." (96 bytes incl. NUL). */
void hk_fingerprint_colons(const unsigned char dgst[32], char out[96]);

#endif
