/* test_crl.c - ARLs: fields, batches with continuing numbers, openssl crl
 * -verify, lint mutations, and the user-CRL form of the same code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "name.h"
#include "profile.h"
#include "testutil.h"

static struct hk_profile *p;
static EVP_PKEY *k;
static X509 *root;
static ASN1_INTEGER *s1, *s2, *s3;
static struct hk_crl_entry ents[3];

static void
setup(void)
{
	FILE *f = fopen(HK_TEST_DATA "/cert/rsa2048.pem", "r");

	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	hk_profile_default(&p);
	cr_assert_eq(hk_cert_build_root(p, k,
	    hk_test_at("2026-04-01T00:00:00Z"), 0, &root), 0);
	cr_assert_eq(hk_cert_sign_checked(root, k, k, p, HK_CERT_ROOT, 0), 0);
	s1 = ASN1_INTEGER_new();
	s2 = ASN1_INTEGER_new();
	s3 = ASN1_INTEGER_new();
	ASN1_INTEGER_set(s1, 0x1001);
	ASN1_INTEGER_set(s2, 0x1002);
	ASN1_INTEGER_set(s3, 0x1003);
	ents[0] = (struct hk_crl_entry){ s2, hk_test_at("2026-04-10T00:00:00Z"),
	    HK_REASON_KEY_COMPROMISE };
	ents[1] = (struct hk_crl_entry){ s1, hk_test_at("2026-04-11T00:00:00Z"),
	    HK_REASON_SUPERSEDED };
	ents[2] = (struct hk_crl_entry){ s3, hk_test_at("2026-04-12T00:00:00Z"),
	    HK_REASON_NONE };
}

static void
teardown(void)
{
	X509_free(root);
	EVP_PKEY_free(k);
	ASN1_INTEGER_free(s1);
	ASN1_INTEGER_free(s2);
	ASN1_INTEGER_free(s3);
	hk_profile_free(p);
}

TestSuite(crl, .init = setup, .fini = teardown);

static void
spec_arl(struct hk_crl_spec *s, size_t n)
{
	cr_assert_eq(hk_crl_spec_arl(s, p, root), 0);
	s->entries = ents;
	s->n_entries = n;
}

static X509_CRL *
one(const struct hk_crl_spec *s, const char *tu, uint64_t num)
{
	X509_CRL *c = NULL;

	cr_assert_eq(hk_crl_build(s, hk_test_at(tu), num, &c), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_crl_sign_checked(c, s, p, k, NULL, NULL), 0, "%s",
	    hk_err_msg());
	return c;
}

Test(crl, arl_fields)
{
	struct hk_crl_spec s;
	X509_CRL *c;
	ISSUING_DIST_POINT *idp;
	STACK_OF(X509_REVOKED) *revs;
	ASN1_ENUMERATED *reason;
	uint64_t num;
	int crit = -1, i;

	spec_arl(&s, 3);
	c = one(&s, "2026-04-20T00:00:00Z", 7);
	cr_assert_eq(X509_CRL_get_version(c), X509_CRL_VERSION_2);
	cr_assert_eq(X509_NAME_cmp(X509_CRL_get_issuer(c),
	    X509_get_subject_name(root)), 0);
	{
		ASN1_TIME *t = ASN1_TIME_set(NULL,
		    hk_test_at("2026-04-20T00:00:00Z"));
		int day = 0, sec = 0;

		cr_assert_eq(ASN1_TIME_compare(X509_CRL_get0_lastUpdate(c), t),
		    0);
		ASN1_TIME_free(t);

		ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(c),
		    X509_CRL_get0_nextUpdate(c));
		cr_assert_eq(day * 86400 + sec, 72 * 3600);
	}
	cr_assert_eq(hk_crl_number(c, &num), 0);
	cr_assert_eq(num, 7);
	idp = X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, &crit,
	    NULL);
	cr_assert_not_null(idp);
	cr_assert_eq(crit, 1);
	cr_assert(idp->onlyCA);
	cr_assert(!idp->onlyuser);
	cr_assert_eq(sk_GENERAL_NAME_num(idp->distpoint->name.fullname), 1);
	cr_assert_eq(X509_NAME_cmp(sk_GENERAL_NAME_value(
	    idp->distpoint->name.fullname, 0)->d.directoryName,
	    X509_get_subject_name(root)), 0);
	ISSUING_DIST_POINT_free(idp);
	/* sorted by serial; reasons 1 and 4 present, none on the third */
	revs = X509_CRL_get_REVOKED(c);
	cr_assert_eq(sk_X509_REVOKED_num(revs), 3);
	for (i = 0; i < 3; i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, i);

		cr_assert_eq(ASN1_INTEGER_get(
		    X509_REVOKED_get0_serialNumber(rv)), 0x1001 + i);
		reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit,
		    NULL);
		if (i == 2) {
			cr_assert_null(reason);
			continue;
		}
		cr_assert_eq(crit, 0);
		cr_assert_eq(ASN1_ENUMERATED_get(reason), i == 0 ? 4 : 1);
		ASN1_ENUMERATED_free(reason);
	}
	cr_assert_eq(hk_crl_verify(c, root), 0, "%s", hk_err_msg());
	X509_CRL_free(c);
}

Test(crl, reasons_refused)
{
	struct hk_crl_spec s;
	struct hk_crl_entry e = { NULL, 0, 6 };
	X509_CRL *c = NULL;

	spec_arl(&s, 0);
	e.serial = s1;
	e.revoked = hk_test_at("2026-04-10T00:00:00Z");
	s.entries = &e;
	s.n_entries = 1;
	cr_assert_eq(hk_crl_build(&s, hk_test_at("2026-04-20T00:00:00Z"), 1,
	    &c),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "crl: entry 1: CPS 4-4-4-2 / PROFILE.md: "
	    "reason 6 is not one of 1..5 (never unspecified or "
	    "certificateHold)");
	e.reason = HK_REASON_SUPERSEDED;
	e.revoked = hk_test_at("2026-04-21T00:00:00Z");
	cr_assert_eq(hk_crl_build(&s, hk_test_at("2026-04-20T00:00:00Z"), 1,
	    &c),
	    HK_ERR_INVALID);
	cr_assert_null(c);
}

Test(crl, lint_mutations)
{
	struct hk_crl_spec s;
	X509_CRL *c;
	X509_REVOKED *rv;
	ASN1_ENUMERATED *zero = ASN1_ENUMERATED_new();

	spec_arl(&s, 2);
	/* IDP not critical */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	X509_EXTENSION_set_critical(X509_CRL_get_ext(c,
	    X509_CRL_get_ext_by_NID(c, NID_issuing_distribution_point, -1)), 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 1), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.2.5: "
	    "issuingDistributionPoint must be critical");
	X509_CRL_free(c);
	/* an unspecified(0) reason */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	rv = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(c), 0);
	ASN1_ENUMERATED_set(zero, 0);
	X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, zero, 0,
	    X509V3_ADD_REPLACE);
	cr_assert_eq(hk_crl_lint(c, &s, p, 1), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: entry 1: CPS 4-4-4-2 / PROFILE.md: "
	    "reasonCode 0 is not one of 1..5 (unspecified is omitted, "
	    "certificateHold never used)");
	/* certificateHold */
	ASN1_ENUMERATED_set(zero, 6);
	X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, zero, 0,
	    X509V3_ADD_REPLACE);
	cr_assert_eq(hk_crl_lint(c, &s, p, 1), HK_ERR_LINT);
	X509_CRL_free(c);
	/* a user-CRL spec does not accept an ARL */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	s.scope = HK_CRL_SCOPE_USER;
	cr_assert_eq(hk_crl_lint(c, &s, p, 1), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: issuingDistributionPoint "
	    "must assert onlyContainsUserCerts only");
	s.scope = HK_CRL_SCOPE_CA;
	/* nextUpdate moved */
	{
		ASN1_TIME *t = ASN1_TIME_set(NULL,
		    hk_test_at("2026-04-22T00:00:00Z"));

		X509_CRL_set1_nextUpdate(c, t);
		ASN1_TIME_free(t);
	}
	cr_assert_eq(hk_crl_lint(c, &s, p, 1), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: CPS 7-2 / PROFILE.md: nextUpdate "
	    "must be thisUpdate + 72 hours");
	X509_CRL_free(c);
	ASN1_ENUMERATED_free(zero);
}

/* An ARL's issuingDistributionPoint with the scope flags changed. */
static void
arl_idp_flags(X509_CRL *c, int only_ca, int only_user)
{
	ISSUING_DIST_POINT *idp = X509_CRL_get_ext_d2i(c,
	    NID_issuing_distribution_point, NULL, NULL);

	cr_assert_not_null(idp);
	idp->onlyCA = only_ca ? 0xff : 0;
	idp->onlyuser = only_user ? 0xff : 0;
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_issuing_distribution_point,
	    idp, 1, X509V3_ADD_REPLACE), 1);
	ISSUING_DIST_POINT_free(idp);
}

/* The first entry's revocationDate set to t (taken). */
static void
first_revoked_at(X509_CRL *c, ASN1_TIME *t)
{
	cr_assert_not_null(t);
	cr_assert_eq(X509_REVOKED_set_revocationDate(sk_X509_REVOKED_value(
	    X509_CRL_get_REVOKED(c), 0), t), 1);
	ASN1_TIME_free(t);
}

/* What lint_mutations leaves out: the ARL's scope flags, a missing
 * cRLNumber, a cRLNumber of 21 octets, a serial listed twice, and the
 * UTCTime/GeneralizedTime change at 2050 (RFC 5280 5.1.2.4). */
Test(crl, lint_scope_number_duplicates_and_2050)
{
	struct hk_crl_spec s;
	X509_CRL *c;
	X509_REVOKED *dup;
	ASN1_INTEGER *big;
	ASN1_TIME *t;
	unsigned char b21[21];
	int i;

	spec_arl(&s, 2);
	/* the ARL asserts onlyContainsCACerts and nothing else */
	for (i = 0; i < 3; i++) {
		c = one(&s, "2026-04-20T00:00:00Z", 1);
		arl_idp_flags(c, i == 1, i != 0);	/* none, both, user */
		cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT, "case %d",
		    i);
		cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: "
		    "issuingDistributionPoint must assert onlyContainsCACerts "
		    "only", "case %d", i);
		X509_CRL_free(c);
	}
	/* cRLNumber: present, at most 20 octets */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	X509_EXTENSION_free(X509_CRL_delete_ext(c,
	    X509_CRL_get_ext_by_NID(c, NID_crl_number, -1)));
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.2.3: cRLNumber must be "
	    "present");
	memset(b21, 0x7f, sizeof(b21));
	big = ASN1_INTEGER_new();
	cr_assert_eq(ASN1_STRING_set(big, b21, sizeof(b21)), 1);
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_crl_number, big, 0,
	    X509V3_ADD_REPLACE), 1);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.2.3: cRLNumber must be "
	    "a non-negative integer of at most 20 octets");
	cr_assert_eq(ASN1_STRING_set(big, b21, 20), 1);	/* 20: taken */
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_crl_number, big, 0,
	    X509V3_ADD_REPLACE), 1);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s", hk_err_msg());
	ASN1_INTEGER_free(big);
	X509_CRL_free(c);
	/* the same serial twice */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	dup = X509_REVOKED_dup(sk_X509_REVOKED_value(X509_CRL_get_REVOKED(c),
	    0));
	cr_assert_not_null(dup);
	cr_assert_eq(X509_CRL_add0_revoked(c, dup), 1);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.1.2.6: a serial is "
	    "listed twice");
	X509_CRL_free(c);
	/* a revocation date on 2050-01-01 is GeneralizedTime, 2049-12-31
	 * UTCTime; each the other way is refused */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	first_revoked_at(c, ASN1_GENERALIZEDTIME_set(NULL,
	    hk_test_at("2050-01-01T00:00:00Z")));
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: entry 1: RFC 5280 5.3: "
	    "revocationDate after thisUpdate");
	t = ASN1_UTCTIME_set(NULL, hk_test_at("2050-01-01T00:00:00Z"));
	cr_assert_null(t, "UTCTime cannot hold 2050 in OpenSSL");
	first_revoked_at(c, ASN1_GENERALIZEDTIME_set(NULL,
	    hk_test_at("2049-12-31T23:59:59Z")));
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.1.2.4: revocationDate "
	    "must be UTCTime YYMMDDHHMMSSZ through 2049, else "
	    "GeneralizedTime");
	X509_CRL_free(c);
}

/* The authorityKeyIdentifier of c replaced by aki (critical when crit),
 * in its place, or deleted when aki is NULL. */
static void
set_aki(X509_CRL *c, AUTHORITY_KEYID *aki, int crit)
{
	if (aki == NULL) {
		X509_EXTENSION_free(X509_CRL_delete_ext(c,
		    X509_CRL_get_ext_by_NID(c, NID_authority_key_identifier,
		    -1)));
		return;
	}
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_authority_key_identifier, aki,
	    crit, X509V3_ADD_REPLACE), 1);
}

/* A keyIdentifier-only AKI naming the root's key (the profile's form). */
static AUTHORITY_KEYID *
root_aki(void)
{
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();

	cr_assert_not_null(aki);
	aki->keyid = hk_cert_ski(root);
	cr_assert_not_null(aki->keyid);
	return aki;
}

#define AKI_ONLY "crl: RFC 5280 5.2.1 / PROFILE.md: authorityKeyIdentifier " \
    "must be the issuer's subjectKeyIdentifier only"

/* The AKI is required, non-critical, and exactly the issuer's SKI as a
 * keyIdentifier: one test per rule of lint_exts. */
Test(crl, lint_aki_present)
{
	struct hk_crl_spec s;
	X509_CRL *c;

	spec_arl(&s, 1);
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	set_aki(c, NULL, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.2.1: "
	    "authorityKeyIdentifier must be present");
	X509_CRL_free(c);
}

Test(crl, lint_aki_not_critical)
{
	struct hk_crl_spec s;
	AUTHORITY_KEYID *aki = root_aki();
	X509_CRL *c;

	spec_arl(&s, 1);
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	set_aki(c, aki, 1);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: RFC 5280 5.2.1: "
	    "authorityKeyIdentifier must not be critical");
	set_aki(c, aki, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s", hk_err_msg());
	AUTHORITY_KEYID_free(aki);
	X509_CRL_free(c);
}

/* keyIdentifier: present and the issuer's subjectKeyIdentifier */
Test(crl, lint_aki_keyid_is_the_issuers_ski)
{
	struct hk_crl_spec s;
	AUTHORITY_KEYID *aki = root_aki();
	X509_CRL *c;
	unsigned char id[64];
	int n;

	spec_arl(&s, 1);
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	/* the profile's form, re-encoded, is taken */
	set_aki(c, aki, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s", hk_err_msg());
	/* another key's identifier (one bit off), and the right one with
	 * one more octet */
	n = ASN1_STRING_length(aki->keyid);
	cr_assert(n > 0 && n < (int)sizeof(id));
	memcpy(id, ASN1_STRING_get0_data(aki->keyid), (size_t)n);
	id[0] ^= 0x01;
	cr_assert_eq(ASN1_OCTET_STRING_set(aki->keyid, id, n), 1);
	set_aki(c, aki, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), AKI_ONLY);
	id[0] ^= 0x01;
	id[n] = 0x00;
	cr_assert_eq(ASN1_OCTET_STRING_set(aki->keyid, id, n + 1), 1);
	set_aki(c, aki, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), AKI_ONLY);
	/* no keyIdentifier at all (an empty AKI SEQUENCE) */
	ASN1_OCTET_STRING_free(aki->keyid);
	aki->keyid = NULL;
	set_aki(c, aki, 0);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), AKI_ONLY);
	AUTHORITY_KEYID_free(aki);
	X509_CRL_free(c);
}

/* The right keyIdentifier with authorityCertIssuer, with
 * authorityCertSerialNumber, or both: the profile's AKI is the
 * keyIdentifier only. */
Test(crl, lint_aki_no_issuer_and_serial)
{
	struct hk_crl_spec s;
	X509_CRL *c;
	int i;

	spec_arl(&s, 1);
	for (i = 1; i <= 3; i++) {
		AUTHORITY_KEYID *aki = root_aki();
		GENERAL_NAME *gn;

		c = one(&s, "2026-04-20T00:00:00Z", 1);
		if (i & 1) {
			aki->issuer = GENERAL_NAMES_new();
			gn = GENERAL_NAME_new();
			cr_assert(aki->issuer != NULL && gn != NULL);
			GENERAL_NAME_set0_value(gn, GEN_DIRNAME,
			    X509_NAME_dup(X509_get_subject_name(root)));
			cr_assert(sk_GENERAL_NAME_push(aki->issuer, gn) > 0);
		}
		if (i & 2) {
			aki->serial = ASN1_INTEGER_dup(
			    X509_get0_serialNumber(root));
			cr_assert_not_null(aki->serial);
		}
		set_aki(c, aki, 0);
		cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT, "case %d",
		    i);
		cr_assert_str_eq(hk_err_msg(), AKI_ONLY, "case %d", i);
		AUTHORITY_KEYID_free(aki);
		X509_CRL_free(c);
	}
}

/* The issuingDistributionPoint of c (decoded; idp_put puts it back). */
static ISSUING_DIST_POINT *
idp_get(X509_CRL *c)
{
	ISSUING_DIST_POINT *idp = X509_CRL_get_ext_d2i(c,
	    NID_issuing_distribution_point, NULL, NULL);

	cr_assert_not_null(idp);
	return idp;
}

/* idp, critical, in place of c's issuingDistributionPoint; idp freed. */
static void
idp_put(X509_CRL *c, ISSUING_DIST_POINT *idp)
{
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_issuing_distribution_point,
	    idp, 1, X509V3_ADD_REPLACE), 1);
	ISSUING_DIST_POINT_free(idp);
}

/* The i-th fullName entry of c's IDP set to a name of type (GEN_URI,
 * GEN_DNS) with text, or appended when i is the count. */
static void
idp_set_text(X509_CRL *c, int i, int type, const char *text)
{
	ISSUING_DIST_POINT *idp = idp_get(c);
	GENERAL_NAMES *full = idp->distpoint->name.fullname;
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *v = ASN1_IA5STRING_new();

	cr_assert(gn != NULL && v != NULL);
	cr_assert_eq(ASN1_STRING_set(v, text, (int)strlen(text)), 1);
	GENERAL_NAME_set0_value(gn, type, v);
	if (i == sk_GENERAL_NAME_num(full))
		cr_assert(sk_GENERAL_NAME_push(full, gn) > 0);
	else {
		GENERAL_NAME_free(sk_GENERAL_NAME_value(full, i));
		cr_assert_not_null(sk_GENERAL_NAME_set(full, i, gn));
	}
	idp_put(c, idp);
}

/* The profile with a repository: ARLs carry <repository-url>/arl.crl. */
static void
spec_repo(struct hk_crl_spec *s)
{
	hk_profile_free(p);
	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-repo.yaml",
	    &p), 0, "%s", hk_err_msg());
	spec_arl(s, 1);
	cr_assert_str_eq(s->idp_uri, "http://repo.example.jp/kumamoto/arl.crl");
}

/* The IDP's http URI is exactly the spec's: another host, another file,
 * the right one with more after it, or the right text as a dNSName, are
 * refused; so is a user CRL naming another partition's file. */
Test(crl, lint_idp_uri_is_the_specs)
{
	static const char *const bad[] = {
		"http://evil.example.jp/kumamoto/arl.crl",	/* host */
		"http://repo.example.jp/kumamoto/crl.crl",	/* file */
		"http://repo.example.jp/kumamoto/arl.crl.old",	/* longer */
		"https://repo.example.jp/kumamoto/arl.crl",	/* scheme */
	};
	struct hk_crl_spec s;
	X509_NAME *part = NULL;
	X509_CRL *c;
	size_t i;

	spec_repo(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = one(&s, "2026-04-20T00:00:00Z", 1);
		idp_set_text(c, 1, GEN_URI, bad[i]);
		cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT, "%s",
		    bad[i]);
		cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: "
		    "issuingDistributionPoint URI must be "
		    "http://repo.example.jp/kumamoto/arl.crl", "%s", bad[i]);
		X509_CRL_free(c);
	}
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp_set_text(c, 1, GEN_URI, s.idp_uri);		/* control */
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s", hk_err_msg());
	idp_set_text(c, 1, GEN_DNS, s.idp_uri);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: "
	    "issuingDistributionPoint URI must be "
	    "http://repo.example.jp/kumamoto/arl.crl");
	X509_CRL_free(c);
	/* a user CRL: the partition's own file, not a neighbour's */
	cr_assert_eq(hk_name_parse("C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL "
	    "Distribution Points, CN=Yatsushiro-shi CRLDP", &part), 0);
	s.scope = HK_CRL_SCOPE_USER;
	s.idp_dn = part;
	snprintf(s.idp_uri, sizeof(s.idp_uri), "%s",
	    "http://repo.example.jp/crl/432024.crl");
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp_set_text(c, 1, GEN_URI, "http://repo.example.jp/crl/432016.crl");
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: "
	    "issuingDistributionPoint URI must be "
	    "http://repo.example.jp/crl/432024.crl");
	X509_CRL_free(c);
	X509_NAME_free(part);
}

#define FULL_DN_URI "crl: PROFILE.md: issuingDistributionPoint fullName " \
    "must be the root DN and its http URI"

/* fullName: the DN, then the URI when the spec has one, nothing else. */
Test(crl, lint_idp_fullname_dn_and_uri)
{
	struct hk_crl_spec s;
	ISSUING_DIST_POINT *idp;
	X509_NAME *other = NULL;
	X509_CRL *c;
	char uri[HK_CRL_URI_MAX];

	spec_repo(&s);
	snprintf(uri, sizeof(uri), "%s", s.idp_uri);
	/* the URI missing */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp = idp_get(c);
	GENERAL_NAME_free(sk_GENERAL_NAME_pop(idp->distpoint->name.fullname));
	idp_put(c, idp);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), FULL_DN_URI);
	/* ... and the same ARL with a spec that has no URI is taken */
	s.idp_uri[0] = '\0';
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s", hk_err_msg());
	X509_CRL_free(c);
	/* a URI where the spec has none */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp_set_text(c, 1, GEN_URI, uri);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: issuingDistributionPoint "
	    "fullName must be the root DN only");
	X509_CRL_free(c);
	snprintf(s.idp_uri, sizeof(s.idp_uri), "%s", uri);
	/* URI first, DN second */
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp = idp_get(c);
	{
		GENERAL_NAMES *full = idp->distpoint->name.fullname;
		GENERAL_NAME *dn = sk_GENERAL_NAME_shift(full);

		cr_assert(sk_GENERAL_NAME_push(full, dn) > 0);
	}
	idp_put(c, idp);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), FULL_DN_URI);
	X509_CRL_free(c);
	/* another DN */
	cr_assert_eq(hk_name_parse("C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=Governor of Kagoshima Prefecture", &other), 0);
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp = idp_get(c);
	{
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(
		    idp->distpoint->name.fullname, 0);

		cr_assert_eq(gn->type, GEN_DIRNAME);
		cr_assert_eq(X509_NAME_set(&gn->d.directoryName, other), 1);
	}
	idp_put(c, idp);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), FULL_DN_URI);
	X509_CRL_free(c);
	X509_NAME_free(other);
}

/* The distribution point is a fullName, never nameRelativeToCRLIssuer. */
Test(crl, lint_idp_names_a_fullname)
{
	struct hk_crl_spec s;
	ISSUING_DIST_POINT *idp;
	STACK_OF(X509_NAME_ENTRY) *rdn;
	X509_NAME_ENTRY *ne;
	X509_CRL *c;

	spec_arl(&s, 1);
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp = idp_get(c);
	GENERAL_NAMES_free(idp->distpoint->name.fullname);
	idp->distpoint->type = 1;
	rdn = sk_X509_NAME_ENTRY_new_null();
	ne = X509_NAME_ENTRY_create_by_txt(NULL, "CN", MBSTRING_ASC,
	    (const unsigned char *)"ARL", -1);
	cr_assert(rdn != NULL && ne != NULL);
	cr_assert_eq(sk_X509_NAME_ENTRY_push(rdn, ne), 1);
	idp->distpoint->name.relativename = rdn;
	idp_put(c, idp);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: issuingDistributionPoint "
	    "must name a fullName");
	/* no distributionPoint at all */
	idp = idp_get(c);
	DIST_POINT_NAME_free(idp->distpoint);
	idp->distpoint = NULL;
	idp_put(c, idp);
	cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "crl: PROFILE.md: issuingDistributionPoint "
	    "must name a fullName");
	X509_CRL_free(c);
}

/* The IDP asserts its scope and nothing else (PROFILE.md): each of
 * onlySomeReasons, indirectCRL and onlyContainsAttributeCerts refused on
 * its own, on an ARL and on a partition CRL. */
Test(crl, lint_idp_no_reasons_indirect_or_attributes)
{
	static const char want[] = "crl: PROFILE.md: issuingDistributionPoint "
	    "carries no onlySomeReasons, indirectCRL or "
	    "onlyContainsAttributeCerts";
	struct hk_crl_spec s;
	ISSUING_DIST_POINT *idp;
	X509_NAME *part = NULL;
	X509_CRL *c;
	int scope, field;

	cr_assert_eq(hk_name_parse("C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL "
	    "Distribution Points, CN=Yatsushiro-shi CRLDP", &part), 0);
	for (scope = 0; scope < 2; scope++)
		for (field = 0; field < 3; field++) {
			spec_arl(&s, 1);
			if (scope == 1) {	/* a partition's CRL */
				s.scope = HK_CRL_SCOPE_USER;
				s.idp_dn = part;
			}
			c = one(&s, "2026-04-20T00:00:00Z", 1);
			cr_assert_eq(hk_crl_lint(c, &s, p, 0), 0, "%s",
			    hk_err_msg());
			idp = idp_get(c);
			if (field == 0) {
				cr_assert_not_null(idp->onlysomereasons =
				    ASN1_BIT_STRING_new());
				cr_assert_eq(ASN1_BIT_STRING_set_bit(
				    idp->onlysomereasons, 1, 1), 1);
			} else if (field == 1)
				idp->indirectCRL = 0xff;
			else
				idp->onlyattr = 0xff;
			idp_put(c, idp);
			cr_assert_eq(hk_crl_lint(c, &s, p, 0), HK_ERR_LINT,
			    "scope %d field %d accepted", scope, field);
			cr_assert_str_eq(hk_err_msg(), want, "scope %d field %d",
			    scope, field);
			X509_CRL_free(c);
		}
	X509_NAME_free(part);
}

/* a signing callback standing for the token */
static int
sign_cb(X509_CRL *c, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return X509_CRL_sign(c, k, EVP_sha256()) > 0 ? 0 : HK_ERR_CRYPTO;
}

/* A token that signs the first *arg CRLs as the profile says (SHA-256),
 * then with SHA-512: a signature that verifies, in an algorithm the
 * profile does not use. */
static int
sign_sha512_after(X509_CRL *c, void *arg)
{
	int *good = arg;

	return X509_CRL_sign(c, k, (*good)-- > 0 ? EVP_sha256() :
	    EVP_sha512()) > 0 ? 0 : HK_ERR_CRYPTO;
}

/* hk_crl_sign_checked lints what it is given before signing (a refused
 * CRL never reaches the token) and what came back signed (a refused one
 * is not returned: a batch hands out none). hk_crl_build itself does not
 * lint; these two are the self-check. */
Test(crl, sign_checked_lints_before_and_after_signing)
{
	struct hk_crl_spec s;
	X509_CRL *c = NULL, *a[3];
	int calls = 0, good = 0;

	spec_arl(&s, 1);
	/* before: an AKI-less CRL is refused and the token never called */
	cr_assert_eq(hk_crl_build(&s, hk_test_at("2026-04-20T00:00:00Z"), 1,
	    &c), 0);
	set_aki(c, NULL, 0);
	cr_assert_eq(hk_crl_sign_checked(c, &s, p, NULL, sign_cb, &calls),
	    HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "before signing: crl: RFC 5280 5.2.1: "
	    "authorityKeyIdentifier must be present");
	cr_assert_eq(calls, 0);
	X509_CRL_free(c);
	/* after: signed in SHA-512, it verifies, the lint refuses it */
	cr_assert_eq(hk_crl_build(&s, hk_test_at("2026-04-20T00:00:00Z"), 1,
	    &c), 0);
	cr_assert_eq(hk_crl_sign_checked(c, &s, p, NULL, sign_sha512_after,
	    &good), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "after signing: crl: PROFILE.md: "
	    "signature algorithm must be sha256WithRSAEncryption");
	cr_assert_eq(hk_crl_verify(c, root), 0, "%s", hk_err_msg());
	X509_CRL_free(c);
	/* a batch whose second ARL is refused returns neither */
	good = 1;
	cr_assert_eq(hk_crl_batch(&s, p, hk_test_at("2026-05-01T00:00:00Z"), 3,
	    1,
	    NULL, sign_sha512_after, &good, a), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "batch item 2 (cRLNumber 3): after "
	    "signing: crl: PROFILE.md: signature algorithm must be "
	    "sha256WithRSAEncryption");
	cr_assert_null(a[0]);
	cr_assert_null(a[1]);
	cr_assert_null(a[2]);
}

static int
run(const char *dir, const char *cmd)
{
	char full[4096];
	int st;

	snprintf(full, sizeof(full), "cd %s && (%s) >>log 2>&1", dir, cmd);
	st = system(full);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(crl, batches_of_35_continue_and_verify, .timeout = 120)
{
	const char *dir = hk_test_dir("crl_batches");
	struct hk_crl_spec s;
	X509_CRL *a[HK_CRL_BATCH_DEFAULT], *b[HK_CRL_BATCH_DEFAULT];
	uint64_t num, prev = 0;
	char path[512], cmd[1024];
	int calls = 0, day, sec;
	size_t i;

	spec_arl(&s, 3);
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	cr_assert_eq(hk_cert_write(root, NULL, path), 0);
	cr_assert_eq(hk_crl_batch(&s, p, hk_test_at("2026-05-01T00:00:00Z"), 0,
	    100, k,
	    NULL, NULL, a), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_crl_batch(&s, p, hk_test_at("2026-06-05T00:00:00Z"),
	    HK_CRL_BATCH_DEFAULT, 135, NULL, sign_cb, &calls, b), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(calls, HK_CRL_BATCH_DEFAULT);
	for (i = 0; i < 2 * HK_CRL_BATCH_DEFAULT; i++) {
		X509_CRL *c = i < HK_CRL_BATCH_DEFAULT ? a[i] :
		    b[i - HK_CRL_BATCH_DEFAULT];

		cr_assert_eq(hk_crl_number(c, &num), 0);
		cr_assert_eq(num, 101 + i, "item %zu number %llu", i,
		    (unsigned long long)num);
		cr_assert_gt(num, prev);
		prev = num;
		if (i > 0) {	/* one a day */
			X509_CRL *pc = i - 1 < HK_CRL_BATCH_DEFAULT ? a[i - 1] :
			    b[i - 1 - HK_CRL_BATCH_DEFAULT];

			ASN1_TIME_diff(&day, &sec, X509_CRL_get0_lastUpdate(pc),
			    X509_CRL_get0_lastUpdate(c));
			cr_assert_eq(day, 1);
			cr_assert_eq(sec, 0);
		}
		snprintf(path, sizeof(path), "%s/arl-%zu.crl", dir, i);
		cr_assert_eq(hk_crl_write(c, path, NULL), 0);
		snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in "
		    "arl-%zu.crl -noout -verify -CAfile root.pem", i);
		cr_assert_eq(run(dir, cmd), 0, "%s", cmd);
		/* independent reader: IDP critical, onlyContainsCACerts,
		 * reasons never 0 or 6 */
		snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in "
		    "arl-%zu.crl -noout -text > t-%zu.txt && grep -q "
		    "'Issuing Distribution Point: critical' t-%zu.txt && "
		    "grep -q 'Only CA Certificates' t-%zu.txt && "
		    "grep -c 'Reason Code' t-%zu.txt | grep -qx 2 && "
		    "! grep -Eq 'Unspecified|Certificate Hold' t-%zu.txt",
		    i, i, i, i, i, i);
		cr_assert_eq(run(dir, cmd), 0, "%s", cmd);
	}
	for (i = 0; i < HK_CRL_BATCH_DEFAULT; i++) {
		X509_CRL_free(a[i]);
		X509_CRL_free(b[i]);
	}
	/* a number that would wrap is refused */
	cr_assert_eq(hk_crl_batch(&s, p, hk_test_at("2026-06-05T00:00:00Z"), 2,
	    UINT64_MAX - 1, k, NULL, NULL, a), HK_ERR_INVALID);
}

Test(crl, batch_stops_on_a_bad_signer)
{
	struct hk_crl_spec s;
	X509_CRL *a[3];
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	spec_arl(&s, 1);
	cr_assert_eq(hk_crl_batch(&s, p, hk_test_at("2026-05-01T00:00:00Z"), 3,
	    1,
	    other, NULL, NULL, a), HK_ERR_VERIFY);
	cr_assert_str_eq(hk_err_msg(), "batch item 1 (cRLNumber 2): crl: "
	    "signature does not verify with the issuer's key");
	cr_assert_null(a[0]);
	cr_assert_null(a[2]);
	EVP_PKEY_free(other);
}

Test(crl, user_crl_form_and_repository_uri)
{
	struct hk_crl_spec s;
	X509_NAME *part = NULL;
	X509_CRL *c;
	ISSUING_DIST_POINT *idp;
	GENERAL_NAME *gn;

	hk_profile_free(p);
	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-repo.yaml",
	    &p), 0);
	spec_arl(&s, 1);
	cr_assert_str_eq(s.idp_uri, "http://repo.example.jp/kumamoto/arl.crl");
	c = one(&s, "2026-04-20T00:00:00Z", 1);
	idp = X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, NULL,
	    NULL);
	gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 1);
	cr_assert_eq(gn->type, GEN_URI);
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_free(c);
	/* the publisher's form: a partition, user certificates only */
	cr_assert_eq(hk_name_parse("C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL "
	    "Distribution Points, CN=Kumamoto-shi CRLDP", &part), 0);
	s.scope = HK_CRL_SCOPE_USER;
	s.idp_dn = part;
	s.idp_uri[0] = '\0';
	c = one(&s, "2026-04-20T00:00:00Z", 9);
	idp = X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, NULL,
	    NULL);
	cr_assert(idp->onlyuser);
	cr_assert(!idp->onlyCA);
	cr_assert_eq(X509_NAME_cmp(sk_GENERAL_NAME_value(
	    idp->distpoint->name.fullname, 0)->d.directoryName, part), 0);
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_free(c);
	X509_NAME_free(part);
}

/* DER and PEM are written both or neither (as hk_cert_write). */
Test(crl, write_pair_all_or_nothing)
{
	const char *dir = hk_test_dir("crl_write_pair");
	struct hk_crl_spec s;
	char der[512], pem[512], bad[512];
	X509_CRL *c;

	spec_arl(&s, 1);
	c = one(&s, "2026-05-01T00:00:00Z", 1);
	snprintf(der, sizeof(der), "%s/arl-1.crl", dir);
	snprintf(pem, sizeof(pem), "%s/arl-1.pem", dir);
	snprintf(bad, sizeof(bad), "%s/missing/arl-1.pem", dir);
	cr_assert_neq(hk_crl_write(c, der, bad), 0);
	cr_assert_eq(access(der, F_OK), -1, "the DER was left without its PEM");
	cr_assert_eq(hk_crl_write(c, der, pem), 0, "%s", hk_err_msg());
	cr_assert_eq(access(der, F_OK), 0);
	cr_assert_eq(access(pem, F_OK), 0);
	X509_CRL_free(c);
}
