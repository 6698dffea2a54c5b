/*
 * basic4.h - the basic 4 items (基本4情報) of a resident's certificate
 * (PROFILE.md "The basic 4 items"): subjectAltName holds exactly six
 * otherName entries, in this order, each value an explicit [0] UTF8String:
 *
 *   1 1.2.392.200149.8.5.5.1 commonName (name)
 *   2 1.2.392.200149.8.5.5.4 dateOfBirth (EYYYYMMDD)
 *   3 1.2.392.200149.8.5.5.3 gender ("1", "2", "3")
 *   4 1.2.392.200149.8.5.5.5 address
 *   5 1.2.392.200149.8.5.5.2 substituteCharacterOfCommonName
 *   6 1.2.392.200149.8.5.5.6 substituteCharacterOfAddress
 *
 * Built with OpenSSL's GENERAL_NAME / OTHERNAME templates (ASN1_TYPE
 * values), never hand-written DER; decoded back strictly (count, order,
 * OIDs, value types, UTF-8, no trailing bytes, DER round trip). The values
 * are checked as requests (online/request.c); here only their shape.
 */
#ifndef HK_BASIC4_H
#define HK_BASIC4_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define HK_B4_ITEMS		6	/* otherNames in the subjectAltName */
#define HK_B4_NAME_CHARS	100	/* characters of a name (chosen) */
#define HK_B4_ADDR_CHARS	200	/* characters of an address (PROFILE.md) */
#define HK_B4_NAME_MAX		(HK_B4_NAME_CHARS * 4 + 1) /* UTF-8 bytes */
#define HK_B4_ADDR_MAX		(HK_B4_ADDR_CHARS * 4 + 1)

struct hk_basic4 {
	char name[HK_B4_NAME_MAX];		/* 氏名, UTF-8 */
	char birth[10];				/* 生年月日, "EYYYYMMDD" */
	char gender[2];				/* 性別, "1".."3" */
	char address[HK_B4_ADDR_MAX];		/* 住所, UTF-8 */
	char name_flags[HK_B4_NAME_CHARS + 1];	/* "0"/"1" per name char */
	char addr_flags[HK_B4_ADDR_CHARS + 1];	/* "0"/"1" per address char */
};

/* The dotted OID and the PROFILE.md item name of position i (0..5). */
const char *hk_basic4_oid(int i);
const char *hk_basic4_item(int i);

/* The six otherNames in order (values copied from b). */
int hk_basic4_encode(const struct hk_basic4 *b, GENERAL_NAMES **out);
/* Add them to x as a non-critical subjectAltName. */
int hk_basic4_add(X509 *x, const struct hk_basic4 *b);
/*
 * Decode strictly: exactly six otherNames, the OIDs above in that order,
 * each value a UTF8String of valid UTF-8 without NUL that fits its field.
 * HK_ERR_INVALID with a detail naming the position, OID and rule.
 */
int hk_basic4_decode(const GENERAL_NAMES *gns, struct hk_basic4 *out);
/* The subjectAltName extension of x (DER, no trailing bytes, exactly
 * once) decoded with hk_basic4_decode. */
int hk_basic4_from_cert(X509 *x, struct hk_basic4 *out);

/* Characters in s[0..len) if it is valid, shortest-form UTF-8 without
 * NUL or surrogates, else -1. */
int hk_utf8_chars(const char *s, size_t len);

#endif
