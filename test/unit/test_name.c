/* test_name.c - DN text <-> X509_NAME, string types, escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "name.h"

static void
round_trip(const char *in, const char *want)
{
	X509_NAME *n = NULL;
	char *out;

	cr_assert_eq(hk_name_parse(in, &n), 0, "%s: %s", in, hk_err_msg());
	out = hk_name_print(n);
	cr_assert_not_null(out);
	cr_assert_str_eq(out, want);
	free(out);
	X509_NAME_free(n);
}

Test(name, round_trip)
{
	round_trip("C=JP, O=JPKI, OU=Kumamoto-ken, OU=Governor of Kumamoto "
	    "Prefecture", "C=JP, O=JPKI, OU=Kumamoto-ken, OU=Governor of "
	    "Kumamoto Prefecture");
	round_trip("C=JP, O=公的個人認証サービス, OU=熊本県知事",
	    "C=JP, O=公的個人認証サービス, OU=熊本県知事");
	round_trip("C=JP,ST=Kumamoto,L=Kumamoto-shi,CN=a\\, b\\\\c",
	    "C=JP, ST=Kumamoto, L=Kumamoto-shi, CN=a\\, b\\\\c");
	round_trip("CN=x\\, ", "CN=x\\,");
	/* blanks and tabs around separators are not part of a value */
	round_trip("C=JP,\tO=JPKI\t, OU=\tKumamoto-ken", "C=JP, O=JPKI, "
	    "OU=Kumamoto-ken");
}

Test(name, string_types_and_order)
{
	X509_NAME *n = NULL;
	const X509_NAME_ENTRY *e;
	const char *why;
	int i;

	cr_assert_eq(hk_name_parse("C=JP, O=公的個人認証サービス, OU=熊本県知事",
	    &n), 0);
	cr_assert_eq(X509_NAME_entry_count(n), 3);
	e = X509_NAME_get_entry(n, 0);
	cr_assert_eq(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)),
	    NID_countryName);
	cr_assert_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_PRINTABLESTRING);
	for (i = 1; i < 3; i++) {
		e = X509_NAME_get_entry(n, i);
		cr_assert_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
		    V_ASN1_UTF8STRING);
		cr_assert_eq(X509_NAME_ENTRY_set(e), i);
	}
	e = X509_NAME_get_entry(n, 2);
	cr_assert_eq(ASN1_STRING_length(X509_NAME_ENTRY_get_data(e)),
	    (int)strlen("熊本県知事"));
	cr_assert(memcmp(ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(e)),
	    "熊本県知事", strlen("熊本県知事")) == 0);
	cr_assert_eq(hk_name_check_types(n, &why), 0);
	cr_assert_eq(hk_name_add_ou(n, "TEST"), 0);
	cr_assert_eq(X509_NAME_entry_count(n), 4);
	X509_NAME_free(n);

	/* a PrintableString OU is refused by the type check */
	n = X509_NAME_new();
	X509_NAME_add_entry_by_NID(n, NID_countryName, V_ASN1_PRINTABLESTRING,
	    (const unsigned char *)"JP", 2, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_organizationalUnitName,
	    V_ASN1_PRINTABLESTRING, (const unsigned char *)"x", 1, -1, 0);
	cr_assert_eq(hk_name_check_types(n, &why), HK_ERR_INVALID);
	cr_assert_str_eq(why, "attributes other than C must be UTF8String");
	X509_NAME_free(n);
}

Test(name, refusals)
{
	static const struct {
		const char *in, *msg;
	} c[] = {
		{ "", "DN is empty" },
		{ "C=JP, O=", "DN \"C=JP, O=\": O has an empty value" },
		{ "C=JP, X=1", "DN \"C=JP, X=1\": unknown attribute 'X'" },
		{ "C=jp", "C must be two capital letters" },
		{ "C=J", "C must be two capital letters" },
		{ "C=JP, O", "expected ATTR=value" },
		{ "C=JP,", "ends with a comma" },
		{ "C=JP, O=a=b", "'=' (missing comma?)" },
		{ "CN=a\\b", "only \\, and \\\\ may be escaped" },
		{ "C=JP,, O=x", "expected ATTR=value" },
		{ "CN=\xff", "not valid UTF-8" },
		{ "emailAddress=a@b", "unknown attribute" },
		/* a control character would stay in the DN for life, shown
		 * as a blank or acted on by a terminal */
		{ "C=JP, OU=Kumamoto\tken", "DN: OU: a control character (U+0009) in a value" },
		{ "C=JP, O=JPKI\x1b[2J", "DN: O: a control character (U+001B) in a value" },
		{ "CN=a\x7f", "DN: CN: a control character (U+007F) in a value" },
		{ "CN=a\xc2\x85" "b", "DN: CN: a control character (U+0085) in a value" },
	};
	size_t i;
	X509_NAME *n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		n = NULL;
		hk_err_clear();
		cr_assert_eq(hk_name_parse(c[i].in, &n), HK_ERR_INVALID,
		    "accepted %s", c[i].in);
		cr_assert_null(n);
		cr_assert(strstr(hk_err_msg(), c[i].msg) != NULL,
		    "%s: got %s", c[i].in, hk_err_msg());
	}
}
