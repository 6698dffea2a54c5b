/* test_lint.c - a good root passes; each mutation is refused with its rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "basic4.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "lint.h"
#include "name.h"
#include "profile.h"

static EVP_PKEY *k;
static struct hk_profile *p;

static void
setup(void)
{
	FILE *f = fopen(HK_TEST_DATA "/cert/rsa2048.pem", "r");

	cr_assert_not_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(k);
	hk_profile_default(&p);
}

static void
teardown(void)
{
	EVP_PKEY_free(k);
	hk_profile_free(p);
}

static X509 *
good(int reh)
{
	X509 *x = NULL;
	time_t t;

	hk_time_parse("2026-04-01T00:00:00Z", &t);
	cr_assert_eq(hk_cert_build_root(p, k, t, reh, &x), 0);
	cr_assert_eq(hk_cert_sign_checked(x, k, k, p, HK_CERT_ROOT, reh), 0,
	    "%s", hk_err_msg());
	return x;
}

/* Re-sign the mutated certificate and expect lint, for a certificate of
 * kind, to give msg. */
static void user_gen_lints(X509 *x, int gen, const char *msg);

static void
refused_as(X509 *x, enum hk_cert_kind kind, const char *msg)
{
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	hk_err_clear();
	cr_assert_eq(hk_lint_cert(x, p, kind, 0), HK_ERR_LINT,
	    "accepted; wanted %s", msg);
	cr_assert_str_eq(hk_err_msg(), msg);
	if (kind == HK_CERT_USER)	/* and with a lint context */
		user_gen_lints(x, 1, msg);
	X509_free(x);
}

/* The same for a root. */
static void
refused(X509 *x, const char *msg)
{
	refused_as(x, HK_CERT_ROOT, msg);
}

static X509_EXTENSION *
ext(X509 *x, int nid)
{
	return X509_get_ext(x, X509_get_ext_by_NID(x, nid, -1));
}

static void
replace(X509 *x, int nid, void *val, int crit)
{
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, nid,
	    -1)));
	if (val != NULL)
		cr_assert_eq(X509_add1_ext_i2d(x, nid, val, crit,
		    X509V3_ADD_DEFAULT), 1);
}

TestSuite(lint, .init = setup, .fini = teardown);

Test(lint, good_roots_pass)
{
	X509 *x = good(0);

	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 0), 0, "%s",
	    hk_err_msg());
	/* a production root is not a rehearsal root, and vice versa */
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 1), HK_ERR_LINT);
	X509_free(x);
	x = good(1);
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 1), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "root: PROFILE.md: issuer must be the "
	    "profile's root DN \"C=JP, O=JPKI, OU=Kumamoto-ken, OU=Governor "
	    "of Kumamoto Prefecture\"");
	X509_free(x);
}

Test(lint, root_is_not_a_user_certificate)
{
	X509 *x = good(0);

	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_USER, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "user: PROFILE.md: subject must be "
	    "\"C=JP, O=JPKI, OU=Kumamoto-ken, L=<municipality>, CN=<serial in "
	    "hex>\"");
	X509_free(x);
}

Test(lint, bc_not_critical)
{
	X509 *x = good(0);

	X509_EXTENSION_set_critical(ext(x, NID_basic_constraints), 0);
	refused(x, "root: RFC 5280 4.2.1.9: basicConstraints must be critical "
	    "in a CA certificate");
}

Test(lint, bc_not_ca_or_pathlen)
{
	X509 *x = good(0);
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();

	replace(x, NID_basic_constraints, bc, 1);
	refused(x, "root: RFC 5280 4.2.1.9: basicConstraints must assert cA "
	    "in a CA certificate");
	x = good(0);
	bc->ca = 0xff;
	bc->pathlen = ASN1_INTEGER_new();
	ASN1_INTEGER_set(bc->pathlen, 0);
	replace(x, NID_basic_constraints, bc, 1);
	refused(x, "root: PROFILE.md: the root's basicConstraints carries no "
	    "pathLenConstraint");
	x = good(0);
	replace(x, NID_basic_constraints, NULL, 1);
	refused(x, "root: RFC 5280 4.2.1.9: basicConstraints must be present "
	    "in a CA certificate");
	BASIC_CONSTRAINTS_free(bc);
}

Test(lint, aki_added)
{
	X509 *x = good(0);
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

	aki->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(x));
	cr_assert_eq(X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_DEFAULT), 1);
	AUTHORITY_KEYID_free(aki);
	refused(x, "root: PROFILE.md: a self-signed root carries no "
	    "authorityKeyIdentifier");
}

Test(lint, validity)
{
	X509 *x = good(0);
	time_t t;
	ASN1_TIME *a;

	hk_time_parse("2036-04-01T00:00:00Z", &t);	/* 10 y, not 10 y - 1 s */
	a = ASN1_TIME_set(NULL, t);
	X509_set1_notAfter(x, a);
	ASN1_TIME_free(a);
	refused(x, "root: CPS 6-3-1-2 / PROFILE.md: validity must be 10 years "
	    "minus 1 second (notAfter 2036-04-01T00:00:00Z, expected "
	    "2036-03-31T23:59:59Z)");

	x = good(0);
	hk_time_parse("2026-04-01T00:00:00Z", &t);
	a = ASN1_GENERALIZEDTIME_set(NULL, t);
	X509_set1_notBefore(x, a);
	ASN1_TIME_free(a);
	refused(x, "root: RFC 5280 4.1.2.5: notBefore before 2050 must be "
	    "UTCTime");
}

Test(lint, dn_string_types)
{
	X509 *x = good(0);
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "C", V_ASN1_PRINTABLESTRING,
	    (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", V_ASN1_UTF8STRING,
	    (const unsigned char *)"JPKI", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_PRINTABLESTRING,
	    (const unsigned char *)"Kumamoto-ken", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", V_ASN1_UTF8STRING,
	    (const unsigned char *)"Governor of Kumamoto Prefecture", -1, -1,
	    0);
	X509_set_subject_name(x, n);
	refused(x, "root: RFC 5280 4.1.2.6 / PROFILE.md: subject: attributes "
	    "other than C must be UTF8String");
	X509_NAME_free(n);

	x = good(0);
	n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "C", V_ASN1_UTF8STRING,
	    (const unsigned char *)"JP", -1, -1, 0);
	X509_set_issuer_name(x, n);
	refused(x, "root: RFC 5280 4.1.2.4 / PROFILE.md: issuer: C must be a "
	    "PrintableString");
	X509_NAME_free(n);
}

Test(lint, key_usage)
{
	X509 *x = good(0);
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();

	ASN1_BIT_STRING_set_bit(ku, 0, 1);	/* digitalSignature */
	ASN1_BIT_STRING_set_bit(ku, 5, 1);
	ASN1_BIT_STRING_set_bit(ku, 6, 1);
	replace(x, NID_key_usage, ku, 1);
	refused(x, "root: PROFILE.md: keyUsage must be exactly keyCertSign and "
	    "cRLSign");
	x = good(0);
	ASN1_BIT_STRING_set_bit(ku, 0, 0);
	ASN1_BIT_STRING_set_bit(ku, 6, 0);	/* keyCertSign only */
	replace(x, NID_key_usage, ku, 1);
	refused(x, "root: PROFILE.md: keyUsage must be exactly keyCertSign and "
	    "cRLSign");
	x = good(0);
	X509_EXTENSION_set_critical(ext(x, NID_key_usage), 0);
	refused(x, "root: RFC 5280 4.2.1.3: keyUsage must be critical "
	    "(PROFILE.md)");
	ASN1_BIT_STRING_free(ku);
}

Test(lint, ski)
{
	X509 *x = good(0);
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	replace(x, NID_subject_key_identifier, NULL, 0);
	refused(x, "root: RFC 5280 4.2.1.2: subjectKeyIdentifier must be "
	    "present in a CA certificate");
	x = good(0);
	ASN1_OCTET_STRING_set(s, (const unsigned char *)"01234567890123456789",
	    20);
	replace(x, NID_subject_key_identifier, s, 0);
	refused(x, "root: RFC 5280 4.2.1.2 (1): subjectKeyIdentifier must be "
	    "the SHA-1 of the subjectPublicKey bits");
	ASN1_OCTET_STRING_free(s);
}

Test(lint, duplicate_and_unknown_extensions)
{
	X509 *x = good(0);
	X509_EXTENSION *dup = X509_EXTENSION_dup(ext(x, NID_subject_alt_name));
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();

	X509_add_ext(x, dup, -1);
	X509_EXTENSION_free(dup);
	refused(x, "root: RFC 5280 4.2: extension X509v3 Subject Alternative "
	    "Name appears more than once");
	x = good(0);
	sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth));
	X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT);
	refused(x, "root: PROFILE.md: extension X509v3 Extended Key Usage is "
	    "not in the root profile");
	sk_ASN1_OBJECT_free(eku);
}

Test(lint, san)
{
	X509 *x = good(0);
	GENERAL_NAMES *san;

	X509_EXTENSION_set_critical(ext(x, NID_subject_alt_name), 1);
	refused(x, "root: RFC 5280 4.2.1.6: subjectAltName must not be "
	    "critical when the subject is not empty");
	x = good(0);
	san = X509V3_EXT_d2i(ext(x, NID_subject_alt_name));
	X509_NAME_add_entry_by_txt(sk_GENERAL_NAME_value(san, 0)->d.dirn,
	    "OU", V_ASN1_UTF8STRING, (const unsigned char *)"熊本市", -1, -1,
	    0);
	replace(x, NID_subject_alt_name, san, 0);
	refused(x, "root: PROFILE.md: subjectAltName directoryName must be the "
	    "Japanese name \"C=JP, O=公的個人認証サービス, OU=熊本県知事\"");
	GENERAL_NAMES_free(san);
}

Test(lint, crldp)
{
	X509 *x = good(0);

	replace(x, NID_crl_distribution_points, NULL, 0);
	refused(x, "root: PROFILE.md: cRLDistributionPoints naming the root DN "
	    "must be present");
	x = good(0);
	X509_EXTENSION_set_critical(ext(x, NID_crl_distribution_points), 1);
	refused(x, "root: RFC 5280 4.2.1.13: cRLDistributionPoints should be "
	    "non-critical");
	/* a profile naming a repository wants the URI too */
	x = good(0);
	snprintf(p->repository_url, sizeof(p->repository_url),
	    "http://repo.example.jp");
	refused(x, "root: PROFILE.md: cRLDistributionPoints fullName must be "
	    "the root DN and the repository's arl.crl URI");
}

/* A resident's certificate of 432024 (Yatsushiro-shi) of issuing
 * generation gen (a rehearsal one if reh), issued here by the root for
 * brevity: its cRLDistributionPoints name the partition of that
 * generation. */
static X509 *
good_user_at(int gen, int reh)
{
	struct hk_basic4 b;
	X509 *root = good(reh), *x = NULL;
	time_t t;

	memset(&b, 0, sizeof(b));
	strcpy(b.name, "八代　花子");
	strcpy(b.birth, "419900815");
	strcpy(b.gender, "2");
	strcpy(b.address, "熊本県八代市松江城町１番２５号");
	strcpy(b.name_flags, "00000");
	strcpy(b.addr_flags, "000000000000000");
	hk_time_parse("2026-04-02T00:00:00Z", &t);
	cr_assert_eq(hk_cert_build_user(p, root, gen, k, "Yatsushiro-shi",
	    "432024", &b, t, reh, &x), 0, "%s", hk_err_msg());
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	X509_free(root);
	return x;
}

static X509 *
good_user_gen(int gen)
{
	return good_user_at(gen, 0);
}

static X509 *
good_user(void)
{
	return good_user_gen(1);
}

/* Lint x as a user certificate of generation gen (of a rehearsal if
 * reh): msg, or NULL for none; the same through a lint context
 * (hk_lint_user_with) that has the partitions' names made once, and
 * through one that has none. */
static void
user_lints(X509 *x, int reh, int gen, const char *msg)
{
	struct hk_lint_user_ctx *c;
	int i;

	hk_err_clear();
	if (msg == NULL)
		cr_assert_eq(hk_lint_user(x, p, reh, gen), 0, "%s",
		    hk_err_msg());
	else {
		cr_assert_eq(hk_lint_user(x, p, reh, gen), HK_ERR_LINT,
		    "accepted as generation %d; wanted %s", gen, msg);
		cr_assert_str_eq(hk_err_msg(), msg);
	}
	if (gen < 1 || gen > HK_CERT_GEN_MAX) {
		cr_assert_eq(hk_lint_user_ctx_new(p, reh, gen, &c),
		    HK_ERR_INVALID);
		return;
	}
	for (i = 0; i < 2; i++) {
		cr_assert_eq(hk_lint_user_ctx_new(p, reh, gen, &c), 0);
		if (i == 0) {
			cr_assert_eq(hk_lint_user_ctx_partition(c,
			    "Kumamoto-shi", "431001"), 0);
			cr_assert_eq(hk_lint_user_ctx_partition(c,
			    "Yatsushiro-shi", "432024"), 0);
		}
		hk_err_clear();
		if (msg == NULL)
			cr_assert_eq(hk_lint_user_with(x, c), 0, "context %d: "
			    "%s", i, hk_err_msg());
		else {
			cr_assert_eq(hk_lint_user_with(x, c), HK_ERR_LINT,
			    "context %d: accepted as generation %d; wanted %s",
			    i, gen, msg);
			cr_assert_str_eq(hk_err_msg(), msg, "context %d", i);
		}
		hk_lint_user_ctx_free(c);
	}
}

static void
user_gen_lints(X509 *x, int gen, const char *msg)
{
	user_lints(x, 0, gen, msg);
}

/* A CRL distribution point of one directoryName (taken) and one URI, or
 * the directoryName only when uri is NULL. */
static void
set_dp(X509 *x, X509_NAME *dn, const char *uri)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *g1 = GENERAL_NAME_new(), *g2 = NULL;
	ASN1_IA5STRING *u;

	cr_assert(dps && dp && g1);
	GENERAL_NAME_set0_value(g1, GEN_DIRNAME, dn);
	dp->distpoint = DIST_POINT_NAME_new();
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
	sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g1);
	if (uri != NULL) {
		g2 = GENERAL_NAME_new();
		u = ASN1_IA5STRING_new();
		cr_assert(g2 && u);
		cr_assert_eq(ASN1_STRING_set(u, uri, (int)strlen(uri)), 1);
		GENERAL_NAME_set0_value(g2, GEN_URI, u);
		sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g2);
	}
	sk_DIST_POINT_push(dps, dp);
	replace(x, NID_crl_distribution_points, dps, 0);
	CRL_DIST_POINTS_free(dps);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
}

/* docs/publish.md "Issuing generations": each generation's certificates
 * name its own partitions, generation 1 the PROFILE.md ones. */
Test(lint, user_crldp_of_its_generation)
{
	X509 *x1 = good_user_gen(1), *x2 = good_user_gen(2);
	X509_NAME *dn = NULL;
	char uri[256], id[HK_CERT_PARTITION_ID_MAX];

	user_gen_lints(x1, 1, NULL);
	user_gen_lints(x2, 2, NULL);
	user_gen_lints(x2, 1, "user: PROFILE.md: cRLDistributionPoints "
	    "fullName must be the partition \"C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=CRL Distribution Points, CN=Yatsushiro-shi CRLDP\" of issuing "
	    "generation 1 only");
	user_gen_lints(x1, 2, "user: PROFILE.md: cRLDistributionPoints "
	    "fullName must be the partition \"C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=CRL Distribution Points, CN=Yatsushiro-shi CRLDP 2\" of "
	    "issuing generation 2 only");
	user_gen_lints(x2, 3, "user: PROFILE.md: cRLDistributionPoints "
	    "fullName must be the partition \"C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=CRL Distribution Points, CN=Yatsushiro-shi CRLDP 3\" of "
	    "issuing generation 3 only");
	user_gen_lints(x2, 0, "user: issuing generation 0: a number from 1 "
	    "to 999");
	X509_free(x1);
	X509_free(x2);

	/* with a repository URL: the file is <code>-<gen>.crl after 1 */
	snprintf(p->repository_url, sizeof(p->repository_url),
	    "http://repo.example.jp");
	x2 = good_user_gen(2);
	user_gen_lints(x2, 2, NULL);
	hk_cert_partition_uri(p, "432024", 2, uri, sizeof(uri));
	cr_assert_str_eq(uri, "http://repo.example.jp/crl/432024-2.crl");
	hk_cert_partition_uri(p, "432024", 1, uri, sizeof(uri));
	cr_assert_str_eq(uri, "http://repo.example.jp/crl/432024.crl");
	/* generation 2's DN with generation 1's file */
	cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 2, 0, &dn), 0);
	set_dp(x2, dn, uri);
	user_gen_lints(x2, 2, "user: PROFILE.md: cRLDistributionPoints URI "
	    "must be http://repo.example.jp/crl/<code>-<generation>.crl "
	    "(issuing generation 2)");
	/* ... or of generation 3, or no id at all */
	cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 2, 0, &dn), 0);
	set_dp(x2, dn, "http://repo.example.jp/crl/432024-3.crl");
	user_gen_lints(x2, 2, "user: PROFILE.md: cRLDistributionPoints URI "
	    "must be http://repo.example.jp/crl/<code>-<generation>.crl "
	    "(issuing generation 2)");
	cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 2, 0, &dn), 0);
	set_dp(x2, dn, "http://repo.example.jp/crl/432024-02.crl");
	user_gen_lints(x2, 2, "user: PROFILE.md: cRLDistributionPoints URI "
	    "must be http://repo.example.jp/crl/<code>-<generation>.crl "
	    "(issuing generation 2)");
	/* an id longer than any partition's (the lint copies it out to
	 * parse it: refused, nothing overrun; ASan would see it) */
	{
		char longu[600];

		snprintf(longu, sizeof(longu), "http://repo.example.jp/crl/"
		    "432024-%0500d.crl", 2);
		cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 2, 0,
		    &dn), 0);
		set_dp(x2, dn, longu);
		user_gen_lints(x2, 2, "user: PROFILE.md: cRLDistributionPoints "
		    "URI must be http://repo.example.jp/crl/<code>-"
		    "<generation>.crl (issuing generation 2)");
	}
	cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 2, 0, &dn), 0);
	set_dp(x2, dn, "http://repo.example.jp/crl/432024-2.crl");
	user_gen_lints(x2, 2, NULL);
	X509_free(x2);
	/* generation 1: its file under the repository, nothing else */
	{
		static const char *bad1[] = {
			"http://repo.example.jp/crl/432024.pem",
			"http://other.example.jp/crl/432024.crl",
			"http://repo.example.jp/arl.crl",
			"http://repo.example.jp/crl/4320.crl",
		};
		size_t i;

		x1 = good_user_gen(1);
		user_gen_lints(x1, 1, NULL);
		for (i = 0; i < sizeof(bad1) / sizeof(bad1[0]); i++) {
			cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi",
			    1, 0, &dn), 0);
			set_dp(x1, dn, bad1[i]);
			user_gen_lints(x1, 1, "user: PROFILE.md: "
			    "cRLDistributionPoints URI must be "
			    "http://repo.example.jp/crl/<code>.crl (issuing "
			    "generation 1)");
		}
		X509_free(x1);
	}
	/* the last generation there can be, and one past it */
	x2 = good_user_gen(HK_CERT_GEN_MAX);
	user_gen_lints(x2, HK_CERT_GEN_MAX, NULL);
	user_gen_lints(x2, HK_CERT_GEN_MAX + 1, "user: issuing generation "
	    "1000: a number from 1 to 999");
	X509_free(x2);

	/* the longest romaji municipalities.csv takes (54) still names
	 * generation 999's partition; one more does not (ub-common-name) */
	cr_assert_eq(hk_cert_partition_dn(p, "Aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-"
	    "aaaaaaaaaa-aaaaaa-shi", 999, 0, &dn), 0, "%s", hk_err_msg());
	X509_NAME_free(dn);
	cr_assert_neq(hk_cert_partition_dn(p, "Aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-"
	    "aaaaaaaaaa-aaaaaaa-shi", 999, 0, &dn), 0);
	/* the ids */
	{
		char code[7];
		int g;

		cr_assert_eq(hk_cert_partition_id("431010", 1, id,
		    sizeof(id)), 0);
		cr_assert_str_eq(id, "431010");
		cr_assert_eq(hk_cert_partition_id("431010", 999, id,
		    sizeof(id)), 0);
		cr_assert_str_eq(id, "431010-999");
		cr_assert_eq(hk_cert_partition_id("431010", 1000, id,
		    sizeof(id)), HK_ERR_INVALID);
		cr_assert_eq(hk_cert_partition_id("43101", 1, id,
		    sizeof(id)), HK_ERR_INVALID);
		cr_assert_eq(hk_cert_partition_id_parse("431010-12", code, &g),
		    0);
		cr_assert_str_eq(code, "431010");
		cr_assert_eq(g, 12);
		cr_assert_eq(hk_cert_partition_id_parse("431010", code, &g), 0);
		cr_assert_eq(g, 1);
		cr_assert_eq(hk_cert_partition_id_parse("431010-1", code, &g),
		    HK_ERR_PARSE, "generation 1 has no suffix");
		cr_assert_eq(hk_cert_partition_id_parse("431010-0", code, &g),
		    HK_ERR_PARSE);
		cr_assert_eq(hk_cert_partition_id_parse("431010-1000", code,
		    &g), HK_ERR_PARSE);
		cr_assert_eq(hk_cert_partition_id_parse("431010-", code, &g),
		    HK_ERR_PARSE);
		cr_assert_eq(hk_cert_partition_id_parse("4310102", code, &g),
		    HK_ERR_PARSE);
		cr_assert_eq(hk_cert_partition_id_parse("43101a", code, &g),
		    HK_ERR_PARSE);
		cr_assert_eq(hk_cert_partition_id_parse("431010-2x", code, &g),
		    HK_ERR_PARSE);
	}
}

/* CPS 1-3-2: exactly 3 years minus 1 second from issue, as lint_validity
 * asks of roots and cross certificates: neither longer nor shorter. */
Test(lint, user_validity_exact)
{
	static const char *const ends[] = {
		"2026-04-03T00:00:00Z",		/* one day */
		"2029-04-01T23:59:58Z",		/* a second short */
		"2029-04-02T00:00:00Z",		/* a second long */
	};
	char msg[256];
	ASN1_TIME *t;
	X509 *x = good_user();
	size_t i;
	time_t end;

	/* the builder's: notBefore 2026-04-02T00:00:00Z */
	user_gen_lints(x, 1, NULL);
	cr_assert_eq(hk_time_parse("2029-04-01T23:59:59Z", &end), 0);
	cr_assert_eq(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), end), 0);
	X509_free(x);
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {

		x = good_user();
		cr_assert_eq(hk_time_parse(ends[i], &end), 0);
		t = ASN1_TIME_set(NULL, end);
		cr_assert_eq(X509_set1_notAfter(x, t), 1);
		ASN1_TIME_free(t);
		snprintf(msg, sizeof(msg), "user: CPS 1-3-2 / PROFILE.md: "
		    "validity must be 3 years minus 1 second (notAfter %s, "
		    "expected 2029-04-01T23:59:59Z)", ends[i]);
		refused_as(x, HK_CERT_USER, msg);
	}
}

/* A resident's certificate is never cut short to its issuer's end: under
 * an issuer ending before notBefore + 3 y - 1 s (its issuing window
 * closed) the builder refuses; at the window's last second it fits. */
Test(lint, user_not_cut_to_the_issuer)
{
	struct hk_basic4 b;
	X509 *root = good(0), *x = NULL;	/* ends 2036-03-31T23:59:59Z */
	time_t t, na;

	memset(&b, 0, sizeof(b));
	strcpy(b.name, "八代　花子");
	strcpy(b.birth, "419900815");
	strcpy(b.gender, "2");
	strcpy(b.address, "熊本県八代市松江城町１番２５号");
	strcpy(b.name_flags, "00000");
	strcpy(b.addr_flags, "000000000000000");
	hk_time_parse("2033-04-01T00:00:00Z", &t);
	cr_assert_eq(hk_cert_build_user(p, root, 1, k, "Yatsushiro-shi",
	    "432024", &b, t, 0, &x), 0, "%s", hk_err_msg());
	cr_assert_eq(ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(root)), 0);
	X509_free(x);
	x = NULL;
	cr_assert_eq(hk_cert_user_not_after(p, root, 1, t, &na), 0);
	cr_assert_eq(na, t + (365 * 3 + 1) * 86400 - 1);
	t += 1;
	cr_assert_eq(hk_cert_build_user(p, root, 7, k, "Yatsushiro-shi",
	    "432024", &b, t, 0, &x), HK_ERR_STATE);
	cr_assert_null(x);
	cr_assert_str_eq(hk_err_msg(), "issuing CA 7 (notAfter "
	    "2036-03-31T23:59:59Z): CPS 1-3-2: its issuing window has closed: "
	    "a resident's certificate issued at 2033-04-01T00:00:01Z would end "
	    "at 2036-04-01T00:00:00Z (3 years minus 1 second), after it");
	X509_free(root);
}

/* A resident's certificate of Yatsushiro-shi with these basic 4 items,
 * built (the builder takes them as given) and signed, notBefore
 * 2026-04-02T00:00:00Z (09:00 in Japan); it passes hk_lint_issued. */
static X509 *
user_with_gender(const char *name, const char *nflags, const char *birth,
    const char *gender, const char *address, const char *aflags)
{
	struct hk_basic4 b;
	X509 *root = good(0), *x = NULL;
	time_t t;

	memset(&b, 0, sizeof(b));
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.name_flags, sizeof(b.name_flags), "%s", nflags);
	snprintf(b.birth, sizeof(b.birth), "%s", birth);
	snprintf(b.gender, sizeof(b.gender), "%s", gender);
	snprintf(b.address, sizeof(b.address), "%s", address);
	snprintf(b.addr_flags, sizeof(b.addr_flags), "%s", aflags);
	hk_time_parse("2026-04-02T00:00:00Z", &t);
	cr_assert_eq(hk_cert_build_user(p, root, 1, k, "Yatsushiro-shi",
	    "432024", &b, t, 0, &x), 0, "%s", hk_err_msg());
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	cr_assert_eq(hk_lint_issued(x, root, p, HK_CERT_USER), 0, "%s",
	    hk_err_msg());
	X509_free(root);
	return x;
}

static X509 *
user_with(const char *name, const char *nflags, const char *birth,
    const char *address, const char *aflags)
{
	return user_with_gender(name, nflags, birth, "1", address, aflags);
}

/* PROFILE.md: gender is "1" male, "2" female, "3" unknown; nothing else
 * (the builder takes the value as given: the lint is the last net). */
Test(lint, user_gender)
{
	static const char *ok[] = { "1", "2", "3" };
	static const struct {
		const char *g, *msg;
	} no[] = {
		{ "0", "user: PROFILE.md: gender must be 1, 2 or 3" },
		{ "4", "user: PROFILE.md: gender must be 1, 2 or 3" },
		{ "9", "user: PROFILE.md: gender must be 1, 2 or 3" },
		{ "A", "user: PROFILE.md: gender must be 1, 2 or 3" },
		{ "", "user: subjectAltName: 1.2.392.200149.8.5.5.3 (gender): "
		    "value must be non-empty valid UTF-8 of at most 1 bytes" },
	};
	size_t i;
	X509 *x;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		x = user_with_gender("八代　太郎", "00000", "319620415", ok[i],
		    "熊本県八代市松江城町１番", "000000000000");
		cr_assert_eq(hk_lint_user(x, p, 0, 1), 0, "gender %s: %s", ok[i],
		    hk_err_msg());
		X509_free(x);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		x = user_with_gender("八代　太郎", "00000", "319620415", no[i].g,
		    "熊本県八代市松江城町１番", "000000000000");
		hk_err_clear();
		cr_assert_eq(hk_lint_user(x, p, 0, 1), HK_ERR_LINT,
		    "gender \"%s\" accepted", no[i].g);
		cr_assert_str_eq(hk_err_msg(), no[i].msg, "gender \"%s\": %s",
		    no[i].g, hk_err_msg());
		X509_free(x);
	}
}

/* PROFILE.md: the era digit agrees with the date, and the name and the
 * address lie in JIS X 0208 or JIS X 0212 (CPS 3-1-8): the request
 * checker's rules (shared/basic4.c), not only the values' shape. */
Test(lint, user_basic4_values)
{
	static const struct {
		const char *name, *nflags, *birth, *address, *aflags;
		const char *msg;	/* NULL: passes */
	} c[] = {
		{ "八代　太郎", "00000", "319620415", "熊本県八代市松江城町１番",
		    "000000000000", NULL },
		/* JIS X 0212 characters; era 0 with the month and day unknown */
		{ "鷗外　丂", "0000", "019500000", "熊本県八代市松江城町１番",
		    "000000000000", NULL },
		/* the first day of 平成, the day of issue in Japan */
		{ "八代　太郎", "00000", "419890108", "熊本県八代市松江城町１番",
		    "000000000000", NULL },
		{ "八代　太郎", "00000", "520260402", "熊本県八代市松江城町１番",
		    "000000000000", NULL },
		{ "ABC", "000", "319620415", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName commonName: CPS 3-1-8: "
		    "character 1 (U+0041) is ASCII / JIS X 0201: use the "
		    "full-width JIS X 0208 character" },
		{ "八代　太郎", "00000", "419620415", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName dateOfBirth: era 4 "
		    "(平成) does not cover 1962-04-15" },
		{ "八代　太郎", "00000", "419890107", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName dateOfBirth: era 4 "
		    "(平成) does not cover 1989-01-07" },
		{ "八代　太郎", "00000", "319620431", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName dateOfBirth: "
		    "PROFILE.md: 1962-04-31 is not a calendar date" },
		{ "八代　太郎", "00000", "520260403", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName dateOfBirth: "
		    "2026-04-03 is in the future (today is 2026-04-02 in Japan)" },
		{ "八代　太郎", "00000", "619620415", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName dateOfBirth: "
		    "PROFILE.md: era digit 6 is not 0-5" },
		{ "八代　太郎", "00000", "319620415", "熊本県八代市髙田１番",
		    "0000000000", "user: subjectAltName address: CPS 3-1-8: "
		    "character 7 (U+9AD9) is in neither JIS X 0208 nor JIS X "
		    "0212: send its substitute with the flag 1" },
		{ "ﾔﾂｼﾛ", "0000", "319620415", "熊本県八代市松江城町１番",
		    "000000000000", "user: subjectAltName commonName: CPS 3-1-8: "
		    "character 1 (U+FF94) is a half-width kana (JIS X 0201): "
		    "use the JIS X 0208 character" },
	};
	size_t i;
	X509 *x;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		x = user_with(c[i].name, c[i].nflags, c[i].birth, c[i].address,
		    c[i].aflags);
		hk_err_clear();
		if (c[i].msg == NULL)
			cr_assert_eq(hk_lint_user(x, p, 0, 1), 0, "case %zu: %s",
			    i, hk_err_msg());
		else {
			cr_assert_eq(hk_lint_user(x, p, 0, 1), HK_ERR_LINT,
			    "case %zu accepted; wanted %s", i, c[i].msg);
			cr_assert_str_eq(hk_err_msg(), c[i].msg, "case %zu", i);
		}
		X509_free(x);
	}
}

/* PROFILE.md: an address of up to 200 characters, its flags one per
 * character. The flags were read past the name's flags into the address's
 * and past the end of the decoded items, so that every address of 101
 * characters or more was refused ("substitute flags are 0 or 1"). */
Test(lint, user_long_address_flags)
{
	static const size_t lens[] = { 100, 101, 150, 200 };
	const char *pre = "熊本県八代市松江城町";	/* 10 characters */
	char addr[HK_B4_ADDR_MAX], flags[HK_B4_ADDR_CHARS + 1];
	size_t i, j;
	X509 *x;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(addr, sizeof(addr), "%s", pre);
		for (j = 10; j < lens[i]; j++)
			strcat(addr, "あ");
		memset(flags, '0', lens[i]);
		flags[lens[i]] = '\0';
		flags[lens[i] - 1] = '1';	/* a substitute at the end */
		x = user_with("八代　太郎", "00000", "319620415", addr, flags);
		hk_err_clear();
		cr_assert_eq(hk_lint_user(x, p, 0, 1), 0, "%zu characters: %s",
		    lens[i], hk_err_msg());
		X509_free(x);
		/* a flag neither 0 nor 1, last in the address, is refused */
		flags[lens[i] - 1] = '2';
		x = user_with("八代　太郎", "00000", "319620415", addr, flags);
		cr_assert_eq(hk_lint_user(x, p, 0, 1), HK_ERR_LINT,
		    "%zu characters: flag 2 accepted", lens[i]);
		cr_assert_str_eq(hk_err_msg(), "user: PROFILE.md: substitute "
		    "flags are 0 or 1");
		X509_free(x);
	}
	/* and the name's flags, the last of the longest name */
	memset(flags, '0', HK_B4_NAME_CHARS);
	flags[HK_B4_NAME_CHARS] = '\0';
	flags[HK_B4_NAME_CHARS - 1] = '2';
	addr[0] = '\0';
	for (j = 0; j < HK_B4_NAME_CHARS; j++)
		strcat(addr, "八");
	x = user_with(addr, flags, "319620415", "熊本県八代市松江城町１番",
	    "000000000000");
	cr_assert_eq(hk_lint_user(x, p, 0, 1), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "user: PROFILE.md: substitute flags "
	    "are 0 or 1");
	X509_free(x);
}

Test(lint, user_crldp)
{
	X509 *x = good_user(), *root;
	CRL_DIST_POINTS *dps;

	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_USER, 0), 0, "%s",
	    hk_err_msg());
	replace(x, NID_crl_distribution_points, NULL, 0);
	refused_as(x, HK_CERT_USER, "user: PROFILE.md: cRLDistributionPoints "
	    "naming the municipality's partition must be present");
	x = good_user();
	X509_EXTENSION_set_critical(ext(x, NID_crl_distribution_points), 1);
	refused_as(x, HK_CERT_USER, "user: RFC 5280 4.2.1.13: "
	    "cRLDistributionPoints should be non-critical");
	/* the root's point (its DN) is not the partition's */
	x = good_user();
	root = good(0);
	dps = X509_get_ext_d2i(root, NID_crl_distribution_points, NULL, NULL);
	cr_assert_not_null(dps);
	replace(x, NID_crl_distribution_points, dps, 0);
	CRL_DIST_POINTS_free(dps);
	X509_free(root);
	refused_as(x, HK_CERT_USER, "user: PROFILE.md: cRLDistributionPoints "
	    "fullName must be the partition \"C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=CRL Distribution Points, CN=Yatsushiro-shi CRLDP\" of issuing "
	    "generation 1 only");
	/* a profile naming a repository wants the http URI too */
	x = good_user();
	snprintf(p->repository_url, sizeof(p->repository_url),
	    "http://repo.example.jp");
	refused_as(x, HK_CERT_USER, "user: PROFILE.md: cRLDistributionPoints "
	    "fullName must be the partition \"C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=CRL Distribution Points, CN=Yatsushiro-shi CRLDP\" of issuing "
	    "generation 1 and its http URI");
}

Test(lint, serial)
{
	X509 *x = good(0);
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	BIGNUM *bn = BN_new();

	ASN1_INTEGER_set(i, -5);
	X509_set_serialNumber(x, i);
	refused(x, "root: RFC 5280 4.1.2.2: serialNumber must be positive");
	x = good(0);
	ASN1_INTEGER_set(i, 0);
	X509_set_serialNumber(x, i);
	refused(x, "root: RFC 5280 4.1.2.2: serialNumber must be non-zero");
	x = good(0);
	ASN1_INTEGER_set(i, 123456);
	X509_set_serialNumber(x, i);
	refused(x, "root: PROFILE.md: serialNumber must carry at least 127 "
	    "random bits (has 17 bits)");
	x = good(0);
	BN_set_bit(bn, 160);			/* 21 octets */
	BN_to_ASN1_INTEGER(bn, i);
	X509_set_serialNumber(x, i);
	refused(x, "root: RFC 5280 4.1.2.2: serialNumber must be at most 20 "
	    "octets");
	ASN1_INTEGER_free(i);
	BN_free(bn);
}

Test(lint, version)
{
	X509 *x = good(0);

	X509_set_version(x, X509_VERSION_1);
	refused(x, "root: RFC 5280 4.1.2.1: version must be 3 when extensions "
	    "are present");
}

Test(lint, signature_algorithm)
{
	X509 *x = good(0);

	cr_assert_gt(X509_sign(x, k, EVP_sha384()), 0);
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "root: PROFILE.md: signature algorithm "
	    "must be sha256WithRSAEncryption");
	X509_free(x);
}

Test(lint, key_size)
{
	X509 *x = good(0);

	p->root_key = HK_KEY_RSA3072;
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "root: CPS 6-1-1-2 / PROFILE.md: the "
	    "key must be rsa-3072 (found RSA-2048)");
	X509_free(x);
}

/*
 * What the lint expects comes from the profile and PROFILE.md, not from
 * the builder it checks (lint.h): the tests below write the expected
 * values out by hand, build the certificate with the builder, put the
 * hand-written value in (or a value a slipping builder could make), sign
 * it here and lint it. The builders do not lint (hk_cert_sign_checked
 * does), so a builder changed under these tests still builds, and these
 * tests then fail where a lint asking the builder would agree with it.
 */

/* A name written out attribute by attribute ("C=JP", "O=JPKI", ...,
 * NULL), C a PrintableString and the rest UTF8String (PROFILE.md Names),
 * without the project's DN parser. */
static X509_NAME *
dn_of(const char *const *rdn)
{
	X509_NAME *n = X509_NAME_new();
	const char *eq;
	char attr[8];
	size_t i, al;

	cr_assert_not_null(n);
	for (i = 0; rdn[i] != NULL; i++) {
		eq = strchr(rdn[i], '=');
		cr_assert(eq != NULL && (al = (size_t)(eq - rdn[i])) <
		    sizeof(attr));
		memcpy(attr, rdn[i], al);
		attr[al] = '\0';
		cr_assert_eq(X509_NAME_add_entry_by_txt(n, attr,
		    strcmp(attr, "C") == 0 ? V_ASN1_PRINTABLESTRING :
		    V_ASN1_UTF8STRING, (const unsigned char *)eq + 1, -1, -1,
		    0), 1, "%s", rdn[i]);
	}
	return n;
}

/* "C=JP, O=JPKI, OU=Kumamoto-ken, <ou>, <cn>" (no ou when NULL), then
 * OU=TEST if test. */
static X509_NAME *
part_dn(const char *ou, const char *cn, int test)
{
	const char *r[8];
	size_t n = 0;

	r[n++] = "C=JP";
	r[n++] = "O=JPKI";
	r[n++] = "OU=Kumamoto-ken";
	if (ou != NULL)
		r[n++] = ou;
	r[n++] = cn;
	if (test)
		r[n++] = "OU=TEST";
	r[n] = NULL;
	return dn_of(r);
}

/* PROFILE.md Names: the partition is "C=JP, O=JPKI, OU=Kumamoto-ken,
 * OU=CRL Distribution Points, CN=<Municipality> CRLDP", from generation 2
 * "... CRLDP <g>" (docs/publish.md "Issuing generations"), + OU=TEST in a
 * rehearsal (docs/certificates.md). */
Test(lint, partition_from_the_profile_not_the_builder)
{
	static const int gens[] = { 1, 2, 17 };
	static const char *const dpou = "OU=CRL Distribution Points";
	static const struct {
		int gen, reh;
		const char *cn, *ok, *no, *msg;
	} files[] = {
		{ 2, 0, "CN=Yatsushiro-shi CRLDP 2",
		    "http://repo.example.jp/crl/432024-2.crl",
		    "http://repo.example.jp/crl/432024_2.crl",
		    "user: PROFILE.md: cRLDistributionPoints URI must be "
		    "http://repo.example.jp/crl/<code>-<generation>.crl (issuing "
		    "generation 2)" },
		{ 1, 1, "CN=Yatsushiro-shi CRLDP",
		    "http://repo.example.jp/crl/432024.crl",
		    "http://repo.example.jp/crl/432024-1.crl",
		    "user: PROFILE.md: cRLDistributionPoints URI must be "
		    "http://repo.example.jp/crl/<code>.crl (issuing generation "
		    "1)" },
	};
	char cn[64], cn2[64], cn3[64], gsuf[16], msg[512];
	size_t i, j;
	int reh, g;
	X509 *x;

	for (reh = 0; reh < 2; reh++) {
		for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
			struct {
				const char *ou, *cn;
				int test;
			} no[6];

			g = gens[i];
			gsuf[0] = '\0';
			if (g > 1)
				snprintf(gsuf, sizeof(gsuf), " %d", g);
			snprintf(cn, sizeof(cn), "CN=Yatsushiro-shi CRLDP%s",
			    gsuf);
			/* another generation's name, and a dash for the
			 * blank */
			snprintf(cn2, sizeof(cn2), "CN=Yatsushiro-shi CRLDP%s",
			    g > 1 ? "" : " 1");
			snprintf(cn3, sizeof(cn3), "CN=Yatsushiro-shi CRLDP-%d",
			    g);
			snprintf(msg, sizeof(msg), "user: PROFILE.md: "
			    "cRLDistributionPoints fullName must be the "
			    "partition \"C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL "
			    "Distribution Points, CN=Yatsushiro-shi CRLDP%s\" "
			    "of issuing generation %d only", gsuf, g);
			no[0].ou = dpou, no[0].cn = cn2, no[0].test = reh;
			no[1].ou = dpou, no[1].cn = cn3, no[1].test = reh;
			no[2].ou = NULL, no[2].cn = cn, no[2].test = reh;
			no[3].ou = "OU=CRL Distribution Point", no[3].cn = cn,
			    no[3].test = reh;
			no[4].ou = dpou, no[4].cn = "CN=432024 CRLDP",
			    no[4].test = reh;
			no[5].ou = dpou, no[5].cn = cn, no[5].test = !reh;

			x = good_user_at(g, reh);
			set_dp(x, part_dn(dpou, cn, reh), NULL);
			user_lints(x, reh, g, NULL);
			for (j = 0; j < sizeof(no) / sizeof(no[0]); j++) {
				set_dp(x, part_dn(no[j].ou, no[j].cn,
				    no[j].test), NULL);
				user_lints(x, reh, g, msg);
			}
			X509_free(x);
		}
	}

	/* with a repository URL, beside the name its file, written out */
	snprintf(p->repository_url, sizeof(p->repository_url),
	    "http://repo.example.jp");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		g = files[i].gen;
		reh = files[i].reh;
		x = good_user_at(g, reh);
		set_dp(x, part_dn(dpou, files[i].cn, reh), files[i].ok);
		user_lints(x, reh, g, NULL);
		set_dp(x, part_dn(dpou, files[i].cn, reh), files[i].no);
		user_lints(x, reh, g, files[i].msg);
		X509_free(x);
	}
}

/* The URI's six digits are the code of the municipality the DN names,
 * as the run's context (municipalities.csv) gives it: Yatsushiro-shi is
 * 432024; 431010 (Kumamoto-shi Chuo-ku) is another municipality's file,
 * and the right code with another generation's suffix is no file of
 * this generation's partition. */
static void
user_uri_with(X509 *x, int gen, const char *yatsushiro, const char *msg)
{
	struct hk_lint_user_ctx *c;

	cr_assert_eq(hk_lint_user_ctx_new(p, 0, gen, &c), 0);
	cr_assert_eq(hk_lint_user_ctx_partition(c, "Kumamoto-shi Chuo-ku",
	    "431010"), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_lint_user_ctx_partition(c, "Yatsushiro-shi",
	    yatsushiro), 0, "%s", hk_err_msg());
	hk_err_clear();
	if (msg == NULL)
		cr_assert_eq(hk_lint_user_with(x, c), 0, "%s", hk_err_msg());
	else {
		cr_assert_eq(hk_lint_user_with(x, c), HK_ERR_LINT,
		    "generation %d: accepted; wanted %s", gen, msg);
		cr_assert_str_eq(hk_err_msg(), msg);
	}
	hk_lint_user_ctx_free(c);
}

/* x's CRL DP: Yatsushiro-shi's partition of generation g and the file
 * http://repo.example.jp/crl/<file>.crl. */
static void
set_yatsushiro_dp(X509 *x, int g, const char *file)
{
	char uri[256], cn[64];

	if (g > 1)
		snprintf(cn, sizeof(cn), "CN=Yatsushiro-shi CRLDP %d", g);
	else
		snprintf(cn, sizeof(cn), "CN=Yatsushiro-shi CRLDP");
	snprintf(uri, sizeof(uri), "http://repo.example.jp/crl/%s.crl", file);
	set_dp(x, part_dn("OU=CRL Distribution Points", cn, 0), uri);
}

Test(lint, user_crldp_uri_names_the_municipality)
{
	static const int gens[] = { 1, 2, 17 };
	char file[32], msg[256];
	size_t i;
	int g;
	X509 *x;

	snprintf(p->repository_url, sizeof(p->repository_url),
	    "http://repo.example.jp");
	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		g = gens[i];
		x = good_user_gen(g);
		/* the right code, as the builder wrote it and as written
		 * out here */
		user_uri_with(x, g, "432024", NULL);
		snprintf(file, sizeof(file), g > 1 ? "432024-%d" : "432024", g);
		set_yatsushiro_dp(x, g, file);
		user_uri_with(x, g, "432024", NULL);
		/* the context's code for the DN's municipality decides */
		user_uri_with(x, g, "431010", "user: PROFILE.md: "
		    "cRLDistributionPoints URI must name the partition's "
		    "municipality Yatsushiro-shi, code 431010, not 432024");
		/* another municipality's code */
		snprintf(file, sizeof(file), g > 1 ? "431010-%d" : "431010", g);
		set_yatsushiro_dp(x, g, file);
		user_uri_with(x, g, "432024", "user: PROFILE.md: "
		    "cRLDistributionPoints URI must name the partition's "
		    "municipality Yatsushiro-shi, code 432024, not 431010");
		/* the right code, another generation's suffix (or none) */
		snprintf(msg, sizeof(msg), "user: PROFILE.md: "
		    "cRLDistributionPoints URI must be http://repo.example.jp/"
		    "crl/<code>%s.crl (issuing generation %d)", g > 1 ?
		    "-<generation>" : "", g);
		snprintf(file, sizeof(file), "432024-%d", g + 1);
		set_yatsushiro_dp(x, g, file);
		user_uri_with(x, g, "432024", msg);
		if (g > 1) {
			set_yatsushiro_dp(x, g, "432024");
			user_uri_with(x, g, "432024", msg);
		}
		X509_free(x);
	}
}

/* A context takes a municipality's code as municipalities.csv writes it:
 * six digits, nothing else. */
Test(lint, user_ctx_partition_code_is_six_digits)
{
	static const char *const no[] = { "", "43202", "4320245", "43202a",
	    " 432024", "432024 ", "-43202" };
	struct hk_lint_user_ctx *c;
	char msg[128];
	size_t i;

	cr_assert_eq(hk_lint_user_ctx_new(p, 0, 1, &c), 0);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		hk_err_clear();
		cr_assert_eq(hk_lint_user_ctx_partition(c, "Yatsushiro-shi",
		    no[i]), HK_ERR_INVALID, "code \"%s\" taken", no[i]);
		snprintf(msg, sizeof(msg), "user: partition Yatsushiro-shi: "
		    "code \"%s\": must be 6 digits", no[i]);
		cr_assert_str_eq(hk_err_msg(), msg);
	}
	cr_assert_eq(hk_lint_user_ctx_partition(c, "Yatsushiro-shi",
	    "432024"), 0, "%s", hk_err_msg());
	hk_lint_user_ctx_free(c);
}

/* A request for dn signed with the test key. */
static X509_REQ *
req_for(const char *dn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = NULL;

	cr_assert_not_null(req);
	cr_assert_eq(hk_name_parse(dn, &n), 0, "%s", hk_err_msg());
	cr_assert_eq(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	cr_assert_eq(X509_REQ_set_subject_name(req, n), 1);
	cr_assert_eq(X509_REQ_set_pubkey(req, k), 1);
	cr_assert_gt(X509_REQ_sign(req, k, EVP_sha256()), 0);
	X509_NAME_free(n);
	return req;
}

#define BRIDGE	"C=JP, O=JPKI, OU=Bridge CA"

/* An issuing CA, cross, OCSP responder or validation server certificate
 * (a rehearsal one if reh) the builder makes under the root, signed here
 * with the test key. */
static X509 *
good_kind(enum hk_cert_kind kind, int reh)
{
	X509 *root = good(reh), *x = NULL;
	X509_REQ *req;
	char dn[256];
	time_t t;
	int r;

	hk_time_parse("2026-04-02T00:00:00Z", &t);
	snprintf(dn, sizeof(dn), "C=JP, O=JPKI, OU=Kumamoto-ken, %s%s",
	    kind == HK_CERT_ISSUING ? "OU=Issuing CA 1" :
	    kind == HK_CERT_OCSP ? "CN=OCSP Responder 1" :
	    "CN=Official Certificate Validation Server 1",
	    reh ? ", OU=TEST" : "");
	req = req_for(kind == HK_CERT_CROSS ? BRIDGE : dn);
	switch (kind) {
	case HK_CERT_ISSUING:
		r = hk_cert_build_issuing(p, root, req, 1, t, reh, &x);
		break;
	case HK_CERT_CROSS:
		r = hk_cert_build_cross(p, root, req, BRIDGE, -1, NULL, t, reh,
		    &x);
		break;
	case HK_CERT_OCSP:
		r = hk_cert_build_ocsp(p, root, req, 1, t, reh, &x);
		break;
	case HK_CERT_VALIDATION:
		r = hk_cert_build_validation(p, root, req, 1, t, reh, &x);
		break;
	default:
		cr_assert_fail("no builder here for %s",
		    hk_cert_kind_name(kind));
	}
	cr_assert_eq(r, 0, "%s", hk_err_msg());
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	X509_REQ_free(req);
	X509_free(root);
	return x;
}

/* The certificatePolicies the builder made with its policy OID set to oid
 * (criticality and qualifiers kept), signed again. */
static void
set_policy(X509 *x, const char *oid)
{
	int i = X509_get_ext_by_NID(x, NID_certificate_policies, -1), crit;
	CERTIFICATEPOLICIES *cps;
	POLICYINFO *pi;

	cr_assert_geq(i, 0);
	crit = X509_EXTENSION_get_critical(X509_get_ext(x, i));
	cps = X509V3_EXT_d2i(X509_get_ext(x, i));
	cr_assert_not_null(cps);
	cr_assert_eq(sk_POLICYINFO_num(cps), 1);
	pi = sk_POLICYINFO_value(cps, 0);
	ASN1_OBJECT_free(pi->policyid);
	cr_assert_not_null(pi->policyid = OBJ_txt2obj(oid, 1));
	replace(x, NID_certificate_policies, cps, crit);
	sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
}

#define ARC	"1.2.392.200149.8.5.1."

/* PROFILE.md's certificatePolicies row (docs/certificates.md for the CA
 * kinds in a rehearsal): each kind's OID passes, every other OID of the
 * profile is refused, naming the kind's. */
Test(lint, policies_from_the_profile_not_the_builder)
{
	static const struct {
		enum hk_cert_kind kind;
		const char *kn;
		const char *oid[2];	/* production, rehearsal */
	} c[] = {
		{ HK_CERT_ISSUING, "issuing", { ARC "1.10", ARC "0.10" } },
		{ HK_CERT_CROSS, "cross", { ARC "1.10", ARC "0.10" } },
		{ HK_CERT_OCSP, "ocsp", { ARC "300", ARC "0.300" } },
		{ HK_CERT_VALIDATION, "validation", { ARC "200", ARC "0.200" } },
		{ HK_CERT_USER, "user", { ARC "1.10", ARC "0.10" } },
	};
	static const char *const all[] = {
		ARC "1.10", ARC "0.10", ARC "300", ARC "0.300", ARC "200",
		ARC "0.200",
	};
	char msg[256];
	const char *want;
	size_t i, j;
	int reh;
	X509 *x;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		for (reh = 0; reh < 2; reh++) {
			want = c[i].oid[reh];
			x = c[i].kind == HK_CERT_USER ? good_user_at(1, reh) :
			    good_kind(c[i].kind, reh);
			set_policy(x, want);
			hk_err_clear();
			cr_assert_eq(hk_lint_cert(x, p, c[i].kind, reh), 0,
			    "%s rehearsal %d: %s", c[i].kn, reh, hk_err_msg());
			snprintf(msg, sizeof(msg), "%s: PROFILE.md: "
			    "certificatePolicies must be exactly %s%s%s",
			    c[i].kn, want, reh ? " (the rehearsal arc)" : "",
			    c[i].kind == HK_CERT_USER ? "" :
			    " without qualifiers");
			for (j = 0; j < sizeof(all) / sizeof(all[0]); j++) {
				if (strcmp(all[j], want) == 0)
					continue;
				set_policy(x, all[j]);
				hk_err_clear();
				cr_assert_eq(hk_lint_cert(x, p, c[i].kind, reh),
				    HK_ERR_LINT, "%s rehearsal %d: %s accepted",
				    c[i].kn, reh, all[j]);
				cr_assert_str_eq(hk_err_msg(), msg);
			}
			X509_free(x);
		}
}

/* RFC 5280 4.2.1.2 (1): the SHA-1 of the certificate's subjectPublicKey
 * bits, computed here, not by the builder's hk_cert_key_id: that passes;
 * the SHA-1 of the whole SubjectPublicKeyInfo, or method (2), does not. */
Test(lint, ski_from_the_key_bits_not_the_builder)
{
	static const char *const msg = "root: RFC 5280 4.2.1.2 (1): "
	    "subjectKeyIdentifier must be the SHA-1 of the subjectPublicKey "
	    "bits";
	X509 *x = good(0);
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	unsigned char md[20], m2[8], *der = NULL;
	int n;

	cr_assert(bits != NULL && s != NULL);
	cr_assert_eq(EVP_Digest(ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits), md, NULL, EVP_sha1(), NULL), 1);
	/* method (2): 0100 and the least significant 60 bits */
	memcpy(m2, md + 12, 8);
	m2[0] = (unsigned char)(0x40 | (m2[0] & 0x0f));
	cr_assert_eq(ASN1_OCTET_STRING_set(s, md, 20), 1);
	replace(x, NID_subject_key_identifier, s, 0);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	hk_err_clear();
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ROOT, 0), 0, "%s",
	    hk_err_msg());

	cr_assert_gt(n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der), 0);
	cr_assert_eq(EVP_Digest(der, (size_t)n, md, NULL, EVP_sha1(), NULL),
	    1);
	OPENSSL_free(der);
	cr_assert_eq(ASN1_OCTET_STRING_set(s, md, 20), 1);
	replace(x, NID_subject_key_identifier, s, 0);
	refused(x, msg);

	x = good(0);
	cr_assert_eq(ASN1_OCTET_STRING_set(s, m2, 8), 1);
	replace(x, NID_subject_key_identifier, s, 0);
	refused(x, msg);
	ASN1_OCTET_STRING_free(s);
}
