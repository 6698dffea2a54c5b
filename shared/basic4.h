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
 * OIDs, value types, UTF-8, no trailing bytes, DER round trip). The rules
 * of the values that need more than their shape (the date of birth's era,
 * the JIS X 0208/0212 sets) are here too, for the request checker
 * (online/request.c) and the lint of a certificate (shared/lint.c) alike.
 */
#ifndef HK_BASIC4_H
#define HK_BASIC4_H

#include <stddef.h>
#include <time.h>

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
/* The UTF-8 character at s (n bytes left): its length, its code point in
 * *cp; 0 if it is not valid (hk_utf8_chars' rules) or n is 0. */
size_t hk_utf8_char(const char *s, size_t n, unsigned *cp);

/*
 * The values' rules: 0, or HK_ERR_INVALID with the rule written into why
 * (HK_ERR_INTERNAL when glibc's iconv has no EUC-JP).
 *
 * hk_basic4_birth_ok: dateOfBirth "EYYYYMMDD" (PROFILE.md): 9 digits, era
 * digit 0-5 that agrees with the date (1 明治 1868-01-25.., 2 大正
 * 1912-07-30.., 3 昭和 1926-12-25.., 4 平成 1989-01-08.., 5 令和
 * 2019-05-01..; 0 unknown, which alone may leave the month and day, or the
 * day, as 00), a calendar date from 1868, not after now's date in Japan
 * (UTC+9).
 *
 * hk_basic4_jis_ok: every character of s in JIS X 0208 or JIS X 0212
 * (CPS 3-1-8; glibc iconv to EUC-JP, one character at a time: ASCII, JIS
 * X 0201 half-width kana and anything in neither set refused).
 */
int hk_basic4_birth_ok(const char *s, time_t now, char *why, size_t len);
int hk_basic4_jis_ok(const char *s, char *why, size_t len);

#endif
