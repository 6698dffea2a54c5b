/* hex.h - lowercase hex and base64 of non-secret bytes. */
#ifndef HK_HEX_H
#define HK_HEX_H

#include <stddef.h>

/* out must hold 2*len+1 bytes. */
void hk_hex_encode(const unsigned char *in, size_t len, char *out);
/* Strict lowercase hex of exactly outlen bytes: 0 or HK_ERR_PARSE. */
int hk_hex_decode(const char *in, unsigned char *out, size_t outlen);
/* SHA-256 fingerprint as "AA:BB:..." (96 bytes incl. NUL). */
void hk_fingerprint_colons(const unsigned char dgst[32], char out[96]);

#endif
