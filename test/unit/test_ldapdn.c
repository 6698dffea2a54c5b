/* test_ldapdn.c - hk_ldap_dn (online/ldap_publish.c): X.509 names as RFC
 * 4514 strings, checked against OpenLDAP's own parser (ldap_str2dn). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ldap.h>
#include <openssl/x509.h>

#include "err.h"
#include "ldap_publish.h"
#include "name.h"

static X509_NAME *
parse(const char *dn)
{
	X509_NAME *n = NULL;

	cr_assert_eq(hk_name_parse(dn, &n), 0, "%s: %s", dn, hk_err_msg());
	return n;
}

static char *
dn_of(const X509_NAME *n)
{
	char *s = NULL;

	cr_assert_eq(hk_ldap_dn(n, &s), 0, "%s", hk_err_msg());
	return s;
}

Test(ldapdn, rehearsal_root_and_partition)
{
	X509_NAME *n = parse("C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=Governor of Kumamoto Prefecture, OU=TEST");
	char *s = dn_of(n);

	cr_assert_str_eq(s, "ou=TEST,ou=Governor of Kumamoto Prefecture,"
	    "ou=Kumamoto-ken,o=JPKI,c=JP");
	free(s);
	X509_NAME_free(n);
	n = parse("C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL Distribution "
	    "Points, CN=Kumamoto-shi Chuo-ku CRLDP");
	s = dn_of(n);
	cr_assert_str_eq(s, "cn=Kumamoto-shi Chuo-ku CRLDP,ou=CRL Distribution "
	    "Points,ou=Kumamoto-ken,o=JPKI,c=JP");
	free(s);
	X509_NAME_free(n);
}

/* Every value comes back unchanged through ldap_str2dn. */
Test(ldapdn, hostile_values_round_trip)
{
	static const char *const v[] = {
		"a,b+c\"d\\e<f>g;h=i", " leading space", "trailing space ",
		"#hash first", "in#side", "熊本県知事", "tab\there", "\x01\x1f",
		" ", "#", "x\x7fy",
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		X509_NAME *n = X509_NAME_new();
		LDAPDN ldn = NULL;
		char *s;

		cr_assert(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
		    (const unsigned char *)"JP", -1, -1, 0));
		cr_assert(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
		    (const unsigned char *)v[i], -1, -1, 0));
		s = dn_of(n);
		cr_assert_eq(ldap_str2dn(s, &ldn, LDAP_DN_FORMAT_LDAPV3),
		    LDAP_SUCCESS, "value %zu: %s", i, s);
		cr_assert_not_null(ldn[0]);
		cr_assert_not_null(ldn[1]);
		cr_assert_null(ldn[2]);
		cr_assert_eq(ldn[0][0]->la_value.bv_len, strlen(v[i]),
		    "value %zu: %s", i, s);
		cr_assert_eq(memcmp(ldn[0][0]->la_value.bv_val, v[i],
		    strlen(v[i])), 0, "value %zu: %s", i, s);
		cr_assert_eq(ldn[0][0]->la_attr.bv_len, 2);
		cr_assert_eq(memcmp(ldn[0][0]->la_attr.bv_val, "ou", 2), 0);
		ldap_dnfree(ldn);
		free(s);
		X509_NAME_free(n);
	}
}

Test(ldapdn, escapes)
{
	X509_NAME *n = X509_NAME_new();
	char *s;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"#a, b ", -1, -1, 0);
	s = dn_of(n);
	cr_assert_str_eq(s, "cn=\\#a\\, b\\ ");
	free(s);
	X509_NAME_free(n);
}

Test(ldapdn, multi_valued_rdn)
{
	X509_NAME *n = X509_NAME_new();
	char *s;

	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"a", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)"b", -1, -1, -1);	/* same RDN */
	s = dn_of(n);
	cr_assert_str_eq(s, "ou=b+cn=a,c=JP");
	free(s);
	X509_NAME_free(n);
}

Test(ldapdn, bmpstring_as_utf8)
{
	X509_NAME *n = X509_NAME_new();
	char *s;

	/* 熊 U+718A in UCS-2 */
	X509_NAME_add_entry_by_txt(n, "O", V_ASN1_BMPSTRING,
	    (const unsigned char *)"\x71\x8a", 2, -1, 0);
	s = dn_of(n);
	cr_assert_str_eq(s, "o=熊");
	free(s);
	X509_NAME_free(n);
}

Test(ldapdn, refused)
{
	X509_NAME *n = X509_NAME_new();
	char *s = (char *)1;

	X509_NAME_add_entry_by_txt(n, "emailAddress", MBSTRING_ASC,
	    (const unsigned char *)"a@example.jp", -1, -1, 0);
	cr_assert_eq(hk_ldap_dn(n, &s), HK_ERR_INVALID);
	cr_assert_null(s);
	X509_NAME_free(n);
	n = X509_NAME_new();
	cr_assert_eq(hk_ldap_dn(n, &s), HK_ERR_INVALID);	/* empty */
	cr_assert_null(s);
	X509_NAME_free(n);
	n = X509_NAME_new();
	/* an OU of bytes that are not UTF-8 */
	X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)"\xff\xfe", 2, -1, 0);
	cr_assert_eq(hk_ldap_dn(n, &s), HK_ERR_INVALID);
	X509_NAME_free(n);
}
