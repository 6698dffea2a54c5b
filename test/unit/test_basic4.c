/* test_basic4.c - the six otherNames (shared/basic4.c): encode, decode
 * back strictly, and refuse every deviation. */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "basic4.h"
#include "err.h"

static void
sample(struct hk_basic4 *b)
{
	memset(b, 0, sizeof(*b));
	strcpy(b->name, "熊本　太郎");
	strcpy(b->birth, "319750301");
	strcpy(b->gender, "1");
	strcpy(b->address, "熊本県熊本市中央区水前寺６丁目");
	strcpy(b->name_flags, "00000");
	strcpy(b->addr_flags, "0000000000000");
}

static GENERAL_NAMES *
encoded(void)
{
	struct hk_basic4 b;
	GENERAL_NAMES *g = NULL;

	sample(&b);
	cr_assert_eq(hk_basic4_encode(&b, &g), 0);
	return g;
}

Test(basic4, round_trip_in_profile_order)
{
	static const char *oids[] = { "1.2.392.200149.8.5.5.1",
	    "1.2.392.200149.8.5.5.4", "1.2.392.200149.8.5.5.3",
	    "1.2.392.200149.8.5.5.5", "1.2.392.200149.8.5.5.2",
	    "1.2.392.200149.8.5.5.6" };
	struct hk_basic4 b, d;
	GENERAL_NAMES *g = encoded();
	char oid[64];
	int i;

	cr_assert_eq(sk_GENERAL_NAME_num(g), 6);
	for (i = 0; i < 6; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);

		cr_assert_eq(gn->type, GEN_OTHERNAME);
		OBJ_obj2txt(oid, sizeof(oid), gn->d.otherName->type_id, 1);
		cr_assert_str_eq(oid, oids[i]);
		cr_assert_str_eq(hk_basic4_oid(i), oids[i]);
		cr_assert_eq(gn->d.otherName->value->type, V_ASN1_UTF8STRING);
	}
	sample(&b);
	cr_assert_eq(hk_basic4_decode(g, &d), 0, "%s", hk_err_msg());
	cr_assert_eq(memcmp(&b, &d, sizeof(b)), 0);
	GENERAL_NAMES_free(g);
}

Test(basic4, der_is_explicit_0_utf8string)
{
	GENERAL_NAMES *g = encoded();
	unsigned char *der = NULL, *p;
	int len = i2d_GENERAL_NAMES(g, &der);

	/* SEQUENCE { [0] { OID, [0] { UTF8String "熊本　太郎" } } ... } */
	cr_assert_gt(len, 0);
	p = der + (der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2);
	cr_assert_eq(p[0], 0xa0);	/* otherName [0] IMPLICIT */
	cr_assert_eq(p[2], 0x06);	/* type-id */
	p += 2 + 2 + p[3];
	cr_assert_eq(p[0], 0xa0);	/* value [0] EXPLICIT */
	cr_assert_eq(p[2], 0x0c);	/* UTF8String */
	cr_assert_eq(p[3], strlen("熊本　太郎"));
	cr_assert_eq(memcmp(p + 4, "熊本　太郎", p[3]), 0);
	OPENSSL_free(der);
	GENERAL_NAMES_free(g);
}

Test(basic4, refuses_wrong_count)
{
	GENERAL_NAMES *g = encoded();
	struct hk_basic4 d;

	GENERAL_NAME_free(sk_GENERAL_NAME_pop(g));
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "subjectAltName: PROFILE.md: exactly 6 "
	    "otherNames (the basic 4 items), found 5 names");
	GENERAL_NAMES_free(g);
}

Test(basic4, refuses_extra_name)
{
	GENERAL_NAMES *g = encoded();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	struct hk_basic4 d;

	ASN1_STRING_set(s, "x@example.jp", -1);
	GENERAL_NAME_set0_value(gn, GEN_EMAIL, s);
	sk_GENERAL_NAME_push(g, gn);
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "found 7 names"));
	GENERAL_NAMES_free(g);
}

Test(basic4, refuses_swapped_order)
{
	GENERAL_NAMES *g = encoded();
	GENERAL_NAME *a = sk_GENERAL_NAME_value(g, 1), *b =
	    sk_GENERAL_NAME_value(g, 2);
	struct hk_basic4 d;

	sk_GENERAL_NAME_set(g, 1, b);
	sk_GENERAL_NAME_set(g, 2, a);
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "subjectAltName: name 2: PROFILE.md: "
	    "OID must be 1.2.392.200149.8.5.5.4 (dateOfBirth) in this "
	    "position");
	GENERAL_NAMES_free(g);
}

Test(basic4, refuses_other_value_type)
{
	GENERAL_NAMES *g = encoded();
	GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, 2);
	ASN1_STRING *s = ASN1_PRINTABLESTRING_new();
	struct hk_basic4 d;

	ASN1_STRING_set(s, "1", 1);
	ASN1_TYPE_set(gn->d.otherName->value, V_ASN1_PRINTABLESTRING, s);
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "subjectAltName: 1.2.392.200149.8.5.5.3 "
	    "(gender): PROFILE.md: value must be an explicit [0] UTF8String");
	GENERAL_NAMES_free(g);
}

Test(basic4, refuses_not_othername_and_bad_utf8)
{
	GENERAL_NAMES *g = encoded();
	GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, 0);
	struct hk_basic4 d;

	ASN1_STRING_set(gn->d.otherName->value->value.utf8string,
	    "\xc3\x28", 2);
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), "valid UTF-8"));
	GENERAL_NAMES_free(g);
	g = encoded();
	gn = GENERAL_NAME_new();
	{
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		ASN1_STRING_set(s, "a.example", -1);
		GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	}
	GENERAL_NAME_free(sk_GENERAL_NAME_value(g, 5));
	sk_GENERAL_NAME_set(g, 5, gn);	/* returns gn, not the old name */
	cr_assert_eq(hk_basic4_decode(g, &d), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "subjectAltName: name 6: PROFILE.md: "
	    "must be an otherName (substituteCharacterOfAddress)");
	GENERAL_NAMES_free(g);
}

Test(basic4, from_cert_needs_the_extension_once)
{
	struct hk_basic4 b, d;
	X509 *x = X509_new();

	cr_assert_eq(hk_basic4_from_cert(x, &d), HK_ERR_INVALID);
	sample(&b);
	cr_assert_eq(hk_basic4_add(x, &b), 0);
	cr_assert_eq(hk_basic4_from_cert(x, &d), 0, "%s", hk_err_msg());
	cr_assert_str_eq(d.address, b.address);
	{
		/* a second subjectAltName, added past X509V3_ADD_DEFAULT */
		X509_EXTENSION *e = X509_EXTENSION_dup(X509_get_ext(x, 0));

		cr_assert_eq(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	cr_assert_eq(hk_basic4_from_cert(x, &d), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "subjectAltName: PROFILE.md: must be "
	    "present exactly once");
	X509_free(x);
}

Test(basic4, utf8_chars)
{
	cr_assert_eq(hk_utf8_chars("熊本　太郎", strlen("熊本　太郎")), 5);
	cr_assert_eq(hk_utf8_chars("\xc0\x80", 2), -1);	/* overlong */
	cr_assert_eq(hk_utf8_chars("\xed\xa0\x80", 3), -1);	/* surrogate */
	cr_assert_eq(hk_utf8_chars("\xf0\xa0\xae\xb7", 4), 1);	/* 𠮷 */
	cr_assert_eq(hk_utf8_chars("\xe3\x80", 2), -1);	/* truncated */
	/* every byte that cannot lead a sequence, alone or after text */
	cr_assert_eq(hk_utf8_chars("\x80", 1), -1);	/* continuation */
	cr_assert_eq(hk_utf8_chars("\xbf", 1), -1);
	cr_assert_eq(hk_utf8_chars("a\x80b", 3), -1);
	cr_assert_eq(hk_utf8_chars("\xc1\xbf", 2), -1);	/* overlong 2 */
	cr_assert_eq(hk_utf8_chars("\xe0\x9f\xbf", 3), -1);	/* overlong 3 */
	cr_assert_eq(hk_utf8_chars("\xf0\x8f\xbf\xbf", 4), -1); /* overlong 4 */
	cr_assert_eq(hk_utf8_chars("\xf4\x90\x80\x80", 4), -1); /* > U+10FFFF */
	cr_assert_eq(hk_utf8_chars("\xf5\x80\x80\x80", 4), -1);
	cr_assert_eq(hk_utf8_chars("\xff", 1), -1);
	/* the boundaries that are characters */
	cr_assert_eq(hk_utf8_chars("\x7f", 1), 1);
	cr_assert_eq(hk_utf8_chars("\xc2\x80", 2), 1);	/* U+0080 */
	cr_assert_eq(hk_utf8_chars("\xe0\xa0\x80", 3), 1);	/* U+0800 */
	cr_assert_eq(hk_utf8_chars("\xef\xbf\xbf", 3), 1);	/* U+FFFF */
	cr_assert_eq(hk_utf8_chars("\xf4\x8f\xbf\xbf", 4), 1); /* U+10FFFF */
	cr_assert_eq(hk_utf8_chars("\xee\x80\x80", 3), 1);	/* U+E000 */
}
