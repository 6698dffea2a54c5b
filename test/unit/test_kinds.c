/* test_kinds.c - the certificates the root issues: issuing CA, link
 * (OldWithNew / NewWithOld), cross, OCSP responder and validation server.
 * Fields are read back with OpenSSL getters (independently of lint.c),
 * each lint rule is shown by a mutation, and the link and cross paths are
 * checked by openssl verify and GnuTLS certtool as relying parties. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "csr.h"
#include "err.h"
#include "lint.h"
#include "name.h"
#include "profile.h"
#include "testutil.h"

#define PREFIX	"C=JP, O=JPKI, OU=Kumamoto-ken"
#define BRIDGE	"C=JP, O=JPKI, OU=Bridge CA"
#define POL_CA	"1.2.392.200149.8.5.1.1.10"
#define POL_BCA	"1.2.392.200149.8.5.99.1"	/* the toy bridge's policy */

static struct hk_profile *p;
static EVP_PKEY *k;			/* old root key (test data) */

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

TestSuite(kinds, .init = setup, .fini = teardown);

static EVP_PKEY *
rsa(void)
{
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	cr_assert_not_null(x);
	return x;
}

static X509_REQ *
csr_for(EVP_PKEY *key, const char *dn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = NULL;

	cr_assert_eq(hk_name_parse(dn, &n), 0, "%s", hk_err_msg());
	cr_assert_eq(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	cr_assert_eq(X509_REQ_set_subject_name(req, n), 1);
	cr_assert_eq(X509_REQ_set_pubkey(req, key), 1);
	cr_assert_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
	X509_NAME_free(n);
	return req;
}

static X509 *
mkroot(EVP_PKEY *key, time_t nb, int reh)
{
	X509 *x = NULL;

	cr_assert_eq(hk_cert_build_root(p, key, nb, reh, &x), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_cert_sign_checked(x, key, key, p, HK_CERT_ROOT, reh),
	    0, "%s", hk_err_msg());
	return x;
}

static X509 *
mkissuing(X509 *root, EVP_PKEY *rootkey, EVP_PKEY *sub, int gen, time_t nb,
    int reh)
{
	char dn[256];
	X509_REQ *req;
	X509 *x = NULL;

	snprintf(dn, sizeof(dn), PREFIX ", OU=Issuing CA %d%s", gen,
	    reh ? ", OU=TEST" : "");
	req = csr_for(sub, dn);
	cr_assert_eq(hk_cert_build_issuing(p, root, req, gen, nb, reh, &x), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_cert_sign_issued(x, root, rootkey, p, HK_CERT_ISSUING,
	    reh), 0, "%s", hk_err_msg());
	X509_REQ_free(req);
	return x;
}

static X509 *
mklink(enum hk_link_dir dir, X509 *old, X509 *new, EVP_PKEY *signkey,
    time_t gen, int reh)
{
	X509 *x = NULL;

	cr_assert_eq(hk_cert_build_link(p, dir, old, new, gen, reh, &x), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_cert_sign_issued(x, dir == HK_LINK_OLD_WITH_NEW ? new :
	    old, signkey, p, HK_CERT_LINK, reh), 0, "%s", hk_err_msg());
	return x;
}

static X509 *
mkcross(X509 *root, EVP_PKEY *rootkey, EVP_PKEY *bca, int pathlen,
    const char *mapped, time_t nb)
{
	X509_REQ *req = csr_for(bca, BRIDGE);
	X509 *x = NULL;

	cr_assert_eq(hk_cert_build_cross(p, root, req, BRIDGE, pathlen, mapped,
	    nb, 0, &x), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_cert_sign_issued(x, root, rootkey, p, HK_CERT_CROSS,
	    0), 0, "%s", hk_err_msg());
	X509_REQ_free(req);
	return x;
}

static X509 *
mkserver(X509 *root, EVP_PKEY *rootkey, EVP_PKEY *sub, enum hk_cert_kind kind,
    time_t nb, int reh)
{
	char dn[256];
	X509_REQ *req;
	X509 *x = NULL;

	snprintf(dn, sizeof(dn), PREFIX ", CN=%s 1%s", kind == HK_CERT_OCSP ?
	    "OCSP Responder" : "Official Certificate Validation Server",
	    reh ? ", OU=TEST" : "");
	req = csr_for(sub, dn);
	cr_assert_eq((kind == HK_CERT_OCSP ? hk_cert_build_ocsp :
	    hk_cert_build_validation)(p, root, req, 1, nb, reh, &x), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_cert_sign_issued(x, root, rootkey, p, kind, reh), 0,
	    "%s", hk_err_msg());
	X509_REQ_free(req);
	return x;
}

static X509_EXTENSION *
ext(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	cr_assert_geq(i, 0, "extension %s missing", OBJ_nid2sn(nid));
	cr_assert_lt(X509_get_ext_by_NID(x, nid, i), 0, "duplicate");
	return X509_get_ext(x, i);
}

static void
time_is(const ASN1_TIME *t, const char *text)
{
	cr_assert_eq(ASN1_STRING_length(t), (int)strlen(text));
	cr_assert(memcmp(ASN1_STRING_get0_data(t), text, strlen(text)) == 0,
	    "time %.*s, want %s", ASN1_STRING_length(t),
	    ASN1_STRING_get0_data(t), text);
}

static void
dn_is(const X509_NAME *n, const char *text)
{
	char *s = hk_name_print(n);

	cr_assert_str_eq(s, text);
	free(s);
}

static void
policy_is(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *cps;
	char buf[128];

	cr_assert_eq(X509_EXTENSION_get_critical(ext(x,
	    NID_certificate_policies)), 0);
	cps = X509V3_EXT_d2i(ext(x, NID_certificate_policies));
	cr_assert_eq(sk_POLICYINFO_num(cps), 1);
	OBJ_obj2txt(buf, sizeof(buf), sk_POLICYINFO_value(cps, 0)->policyid, 1);
	cr_assert_str_eq(buf, oid);
	cr_assert_null(sk_POLICYINFO_value(cps, 0)->qualifiers);
	sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
}

static void
aki_is_ski_of(X509 *x, X509 *issuer)
{
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x,
	    NID_authority_key_identifier)), 0);
	cr_assert_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(issuer)), 0);
	cr_assert_eq(X509_check_issued(issuer, x), X509_V_OK);
	cr_assert_eq(X509_verify(x, X509_get0_pubkey(issuer)), 1);
}

static int
pathlen_of(X509 *x)
{
	BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(ext(x, NID_basic_constraints));
	int r;

	cr_assert_eq(X509_EXTENSION_get_critical(ext(x,
	    NID_basic_constraints)), 1);
	cr_assert(bc->ca);
	r = bc->pathlen == NULL ? -1 : (int)ASN1_INTEGER_get(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* ---- fields ---- */

Test(kinds, issuing_fields)
{
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0), *x;
	EVP_PKEY *sub = rsa();

	x = mkissuing(root, k, sub, 1, hk_test_at("2026-04-02T09:00:00Z"), 0);
	dn_is(X509_get_subject_name(x), PREFIX ", OU=Issuing CA 1");
	dn_is(X509_get_issuer_name(x), "C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=Governor of Kumamoto Prefecture");
	time_is(X509_get0_notBefore(x), "260402090000Z");
	time_is(X509_get0_notAfter(x), "310402085959Z");	/* 5 y - 1 s */
	cr_assert_eq(pathlen_of(x), 0);
	cr_assert_eq(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x, NID_key_usage)), 1);
	policy_is(x, POL_CA);
	aki_is_ski_of(x, root);
	cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(x), sub), 1);
	ext(x, NID_crl_distribution_points);
	cr_assert_eq(X509_get_ext_count(x), 6);
	X509_free(x);
	/* late in the root's life: cut back to the root's notAfter */
	x = mkissuing(root, k, sub, 2, hk_test_at("2034-01-01T00:00:00Z"), 0);
	time_is(X509_get0_notAfter(x), "360331235959Z");
	X509_free(x);
	EVP_PKEY_free(sub);
	X509_free(root);
}

/* A rollover re-certifies the issuing CA under the new key with its own
 * notAfter, never a longer one (CPS 4-13), and refuses an expired one. */
Test(kinds, issuing_renew_keeps_not_after)
{
	EVP_PKEY *nk = rsa(), *sub = rsa();
	X509 *old = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0);
	X509 *new = mkroot(nk, hk_test_at("2027-02-01T09:00:00Z"), 0);
	X509 *iss = mkissuing(old, k, sub, 1,
	    hk_test_at("2026-04-02T09:00:00Z"), 0);
	X509 *x = NULL, *late;

	cr_assert_eq(hk_cert_build_issuing_renew(p, new, iss,
	    hk_test_at("2027-02-01T09:00:00Z"), 0, &x), 0, "%s", hk_err_msg());
	time_is(X509_get0_notBefore(x), "270201090000Z");
	time_is(X509_get0_notAfter(x), "310402085959Z");	/* issuing-1's */
	cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(x), sub), 1);
	X509_free(x);
	x = NULL;
	/* cut back to a new root that ends first */
	late = mkroot(nk, hk_test_at("2021-01-01T00:00:00Z"), 0);
	cr_assert_eq(hk_cert_build_issuing_renew(p, late, iss,
	    hk_test_at("2027-02-01T09:00:00Z"), 0, &x), 0, "%s", hk_err_msg());
	time_is(X509_get0_notAfter(x), "301231235959Z");
	X509_free(x);
	x = NULL;
	cr_assert_eq(hk_cert_build_issuing_renew(p, new, iss,
	    hk_test_at("2031-04-02T09:00:00Z"), 0, &x), HK_ERR_INVALID);
	cr_assert_null(x);
	cr_assert_str_eq(hk_err_msg(), "issuing: the certificate to renew "
	    "expired at 2031-04-02T08:59:59Z: an expired issuing CA is not "
	    "re-certified (CPS 4-13)");
	X509_free(late);
	X509_free(iss);
	X509_free(new);
	X509_free(old);
	EVP_PKEY_free(sub);
	EVP_PKEY_free(nk);
}

Test(kinds, issuing_refuses_wrong_request)
{
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0),
	    *x = NULL;
	EVP_PKEY *sub = rsa(), *big;
	X509_REQ *req;

	req = csr_for(sub, PREFIX ", OU=Issuing CA 2");
	cr_assert_eq(hk_cert_build_issuing(p, root, req, 1,
	    hk_test_at("2026-04-02T00:00:00Z"), 0, &x), HK_ERR_INVALID);
	cr_assert_null(x);
	cr_assert_str_eq(hk_err_msg(), "issuing CA request: subject: must be "
	    "\"" PREFIX ", OU=Issuing CA 1\"");
	X509_REQ_free(req);
	big = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	req = csr_for(big, PREFIX ", OU=Issuing CA 1");
	cr_assert_eq(hk_cert_build_issuing(p, root, req, 1,
	    hk_test_at("2026-04-02T00:00:00Z"), 0, &x), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "issuing CA request: subjectPKInfo: the "
	    "key is rsa-3072 but the profile asks rsa-2048");
	X509_REQ_free(req);
	EVP_PKEY_free(big);
	EVP_PKEY_free(sub);
	X509_free(root);
}

Test(kinds, link_fields)
{
	EVP_PKEY *nk = rsa();
	X509 *old = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0);
	X509 *new = mkroot(nk, hk_test_at("2031-03-01T00:00:00Z"), 0);
	X509 *own, *nwo, *same = NULL;

	own = mklink(HK_LINK_OLD_WITH_NEW, old, new, nk,
	    hk_test_at("2026-04-01T00:00:00Z"), 0);
	nwo = mklink(HK_LINK_NEW_WITH_OLD, old, new, k,
	    hk_test_at("2031-02-28T10:00:00Z"), 0);
	/* OldWithNew: old key, signed by the new key */
	cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(own), k), 1);
	aki_is_ski_of(own, new);
	cr_assert_eq(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(own),
	    X509_get0_subject_key_id(old)), 0);
	time_is(X509_get0_notBefore(own), "260401000000Z");
	time_is(X509_get0_notAfter(own), "360331235959Z");
	/* NewWithOld: new key, signed by the old key */
	cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(nwo), nk), 1);
	aki_is_ski_of(nwo, old);
	time_is(X509_get0_notBefore(nwo), "310228100000Z");
	time_is(X509_get0_notAfter(nwo), "360331235959Z");
	/* self-issued: issuer = subject = root DN */
	cr_assert_eq(X509_NAME_cmp(X509_get_subject_name(own),
	    X509_get_issuer_name(own)), 0);
	cr_assert_eq(X509_NAME_cmp(X509_get_subject_name(nwo),
	    X509_get_subject_name(old)), 0);
	cr_assert_eq(pathlen_of(own), -1);
	cr_assert_eq(X509_get_key_usage(nwo), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	cr_assert_lt(X509_get_ext_by_NID(nwo, NID_subject_alt_name, -1), 0);
	cr_assert_eq(X509_get_ext_count(nwo), 5);
	/* the same key twice is no rollover */
	cr_assert_eq(hk_cert_build_link(p, HK_LINK_NEW_WITH_OLD, old, old,
	    hk_test_at("2031-02-28T10:00:00Z"), 0, &same), HK_ERR_INVALID);
	cr_assert_null(same);
	X509_free(own);
	X509_free(nwo);
	X509_free(old);
	X509_free(new);
	EVP_PKEY_free(nk);
}

Test(kinds, cross_fields)
{
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0), *x;
	EVP_PKEY *bca = rsa();
	POLICY_MAPPINGS *pms;
	char buf[128];

	x = mkcross(root, k, bca, 1, POL_BCA,
	    hk_test_at("2026-05-01T00:00:00Z"));
	dn_is(X509_get_subject_name(x), BRIDGE);
	time_is(X509_get0_notAfter(x), "310430235959Z");
	cr_assert_eq(pathlen_of(x), 1);
	policy_is(x, POL_CA);
	aki_is_ski_of(x, root);
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x, NID_policy_mappings)),
	    0);
	pms = X509V3_EXT_d2i(ext(x, NID_policy_mappings));
	cr_assert_eq(sk_POLICY_MAPPING_num(pms), 1);
	OBJ_obj2txt(buf, sizeof(buf),
	    sk_POLICY_MAPPING_value(pms, 0)->issuerDomainPolicy, 1);
	cr_assert_str_eq(buf, POL_CA);
	OBJ_obj2txt(buf, sizeof(buf),
	    sk_POLICY_MAPPING_value(pms, 0)->subjectDomainPolicy, 1);
	cr_assert_str_eq(buf, POL_BCA);
	sk_POLICY_MAPPING_pop_free(pms, POLICY_MAPPING_free);
	X509_free(x);
	/* no pathLen, no mapping; and critical when the profile says so */
	x = mkcross(root, k, bca, HK_CERT_PATHLEN_NONE, NULL,
	    hk_test_at("2026-05-01T00:00:00Z"));
	cr_assert_eq(pathlen_of(x), -1);
	cr_assert_lt(X509_get_ext_by_NID(x, NID_policy_mappings, -1), 0);
	X509_free(x);
	p->policy_mappings_critical = 1;
	x = mkcross(root, k, bca, 0, POL_BCA,
	    hk_test_at("2026-05-01T00:00:00Z"));
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x, NID_policy_mappings)),
	    1);
	X509_free(x);
	/* 5 years must fit inside the root */
	{
		X509_REQ *req = csr_for(bca, BRIDGE);

		cr_assert_eq(hk_cert_build_cross(p, root, req, NULL, 0, NULL,
		    hk_test_at("2032-01-01T00:00:00Z"), 0, &x), HK_ERR_INVALID);
		X509_REQ_free(req);
	}
	EVP_PKEY_free(bca);
	X509_free(root);
}

Test(kinds, ocsp_and_validation_fields)
{
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0), *x;
	EVP_PKEY *sub = rsa();
	EXTENDED_KEY_USAGE *eku;
	const ASN1_OCTET_STRING *v;

	x = mkserver(root, k, sub, HK_CERT_OCSP,
	    hk_test_at("2026-04-02T00:00:00Z"), 0);
	dn_is(X509_get_subject_name(x), PREFIX ", CN=OCSP Responder 1");
	time_is(X509_get0_notAfter(x), "270401235959Z");
	cr_assert_lt(X509_get_ext_by_NID(x, NID_basic_constraints, -1), 0);
	cr_assert_lt(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1),
	    0);
	cr_assert_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	eku = X509V3_EXT_d2i(ext(x, NID_ext_key_usage));
	cr_assert_eq(sk_ASN1_OBJECT_num(eku), 1);
	cr_assert_eq(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_OCSP_sign);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x,
	    NID_id_pkix_OCSP_noCheck)), 0);
	v = X509_EXTENSION_get_data(ext(x, NID_id_pkix_OCSP_noCheck));
	cr_assert_eq(ASN1_STRING_length(v), 2);
	cr_assert(memcmp(ASN1_STRING_get0_data(v), "\x05\x00", 2) == 0);
	policy_is(x, "1.2.392.200149.8.5.1.300");
	aki_is_ski_of(x, root);
	X509_free(x);
	x = mkserver(root, k, sub, HK_CERT_VALIDATION,
	    hk_test_at("2026-04-02T00:00:00Z"), 0);
	dn_is(X509_get_subject_name(x), PREFIX ", CN=Official Certificate "
	    "Validation Server 1");
	cr_assert_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE |
	    KU_NON_REPUDIATION);
	cr_assert_eq(X509_EXTENSION_get_critical(ext(x, NID_key_usage)), 1);
	policy_is(x, "1.2.392.200149.8.5.1.200");
	ext(x, NID_crl_distribution_points);
	X509_free(x);
	EVP_PKEY_free(sub);
	X509_free(root);
}

Test(kinds, rehearsal_marks_test)
{
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 1), *x;
	EVP_PKEY *sub = rsa();

	x = mkissuing(root, k, sub, 1, hk_test_at("2026-04-02T00:00:00Z"), 1);
	dn_is(X509_get_subject_name(x), PREFIX ", OU=Issuing CA 1, OU=TEST");
	policy_is(x, "1.2.392.200149.8.5.1.0.10");
	/* a rehearsal certificate never passes as a real one */
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_ISSUING, 0), HK_ERR_LINT);
	X509_free(x);
	x = mkserver(root, k, sub, HK_CERT_OCSP,
	    hk_test_at("2026-04-02T00:00:00Z"), 1);
	policy_is(x, "1.2.392.200149.8.5.1.0.300");
	X509_free(x);
	x = mkserver(root, k, sub, HK_CERT_VALIDATION,
	    hk_test_at("2026-04-02T00:00:00Z"), 1);
	policy_is(x, "1.2.392.200149.8.5.1.0.200");
	X509_free(x);
	EVP_PKEY_free(sub);
	X509_free(root);
}

Test(kinds, sign_issued_checks_the_issuer)
{
	EVP_PKEY *nk = rsa(), *sub = rsa();
	X509 *root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0);
	X509 *other = mkroot(nk, hk_test_at("2026-04-01T00:00:00Z"), 0);
	X509_REQ *req = csr_for(sub, PREFIX ", OU=Issuing CA 1");
	X509 *x = NULL;

	cr_assert_eq(hk_cert_build_issuing(p, root, req, 1,
	    hk_test_at("2026-04-02T00:00:00Z"), 0, &x), 0);
	/* the wrong root's certificate: AKI does not match */
	cr_assert_eq(hk_cert_sign_issued(x, other, nk, p, HK_CERT_ISSUING, 0),
	    HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "issuing: RFC 5280 4.2.1.1: "
	    "authorityKeyIdentifier must be the issuer's subjectKeyIdentifier");
	/* the right certificate, the wrong key */
	cr_assert_eq(hk_cert_sign_issued(x, root, nk, p, HK_CERT_ISSUING, 0),
	    HK_ERR_VERIFY);
	cr_assert_str_eq(hk_err_msg(), "issuing: signature does not verify "
	    "with the expected public key");
	/* signed as another kind */
	cr_assert_eq(hk_cert_sign_issued(x, root, k, p, HK_CERT_LINK, 0),
	    HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "before signing: link: PROFILE.md: "
	    "subject must be the profile's root DN \"C=JP, O=JPKI, "
	    "OU=Kumamoto-ken, OU=Governor of Kumamoto Prefecture\"");
	X509_free(x);
	X509_REQ_free(req);
	X509_free(root);
	X509_free(other);
	EVP_PKEY_free(nk);
	EVP_PKEY_free(sub);
}

/* ---- lint: one mutation per rule ---- */

static void
refused(X509 *x, enum hk_cert_kind kind, const char *msg)
{
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	hk_err_clear();
	cr_assert_eq(hk_lint_cert(x, p, kind, 0), HK_ERR_LINT,
	    "accepted; wanted %s", msg);
	cr_assert_str_eq(hk_err_msg(), msg);
	X509_free(x);
}

static void
replace(X509 *x, int nid, void *val, int crit)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (val != NULL)
		cr_assert_eq(X509_add1_ext_i2d(x, nid, val, crit,
		    X509V3_ADD_DEFAULT), 1);
}

/* x with its notAfter set to at (ISO 8601, UTC); x */
static X509 *
with_not_after(X509 *x, const char *at)
{
	ASN1_TIME *t = ASN1_TIME_set(NULL, hk_test_at(at));

	cr_assert_not_null(t);
	cr_assert_eq(X509_set1_notAfter(x, t), 1);
	ASN1_TIME_free(t);
	return x;
}

/* x with the subject dn (hk_name_parse); x */
static X509 *
with_subject(X509 *x, const char *dn)
{
	X509_NAME *n = NULL;

	cr_assert_eq(hk_name_parse(dn, &n), 0, "%s", dn);
	cr_assert_eq(X509_set_subject_name(x, n), 1);
	X509_NAME_free(n);
	return x;
}

/* x with the issuerDomainPolicy (subject 0) or subjectDomainPolicy
 * (subject 1) of its first policy mapping set to oid; x */
static X509 *
with_mapping(X509 *x, int subject, const char *oid)
{
	POLICY_MAPPINGS *pms = X509V3_EXT_d2i(ext(x, NID_policy_mappings));
	POLICY_MAPPING *pm = sk_POLICY_MAPPING_value(pms, 0);
	ASN1_OBJECT **side = subject ? &pm->subjectDomainPolicy :
	    &pm->issuerDomainPolicy;

	ASN1_OBJECT_free(*side);
	cr_assert_not_null(*side = OBJ_txt2obj(oid, 1));
	replace(x, NID_policy_mappings, pms, 0);
	sk_POLICY_MAPPING_pop_free(pms, POLICY_MAPPING_free);
	return x;
}

struct fixture {
	X509 *root, *iss, *own, *nwo, *cross, *ocsp, *va;
	EVP_PKEY *nk, *sub;
};

static void
fixture_make(struct fixture *f)
{
	X509 *new;

	f->nk = rsa();
	f->sub = rsa();
	f->root = mkroot(k, hk_test_at("2026-04-01T00:00:00Z"), 0);
	new = mkroot(f->nk, hk_test_at("2031-03-01T00:00:00Z"), 0);
	f->iss = mkissuing(f->root, k, f->sub, 1,
	    hk_test_at("2026-04-02T00:00:00Z"),
	    0);
	f->own = mklink(HK_LINK_OLD_WITH_NEW, f->root, new, f->nk,
	    hk_test_at("2026-04-01T00:00:00Z"), 0);
	f->nwo = mklink(HK_LINK_NEW_WITH_OLD, f->root, new, k,
	    hk_test_at("2031-03-01T00:00:00Z"), 0);
	f->cross = mkcross(f->root, k, f->sub, 0, POL_BCA,
	    hk_test_at("2026-04-02T00:00:00Z"));
	f->ocsp = mkserver(f->root, k, f->sub, HK_CERT_OCSP,
	    hk_test_at("2026-04-02T00:00:00Z"), 0);
	f->va = mkserver(f->root, k, f->sub, HK_CERT_VALIDATION,
	    hk_test_at("2026-04-02T00:00:00Z"), 0);
	X509_free(new);
}

static void
fixture_free(struct fixture *f)
{
	X509_free(f->root);
	X509_free(f->iss);
	X509_free(f->own);
	X509_free(f->nwo);
	X509_free(f->cross);
	X509_free(f->ocsp);
	X509_free(f->va);
	EVP_PKEY_free(f->nk);
	EVP_PKEY_free(f->sub);
}

#define DUP(x)	X509_dup(x)

Test(kinds, lint_good_pass)
{
	struct fixture f;

	fixture_make(&f);
	cr_assert_eq(hk_lint_cert(f.iss, p, HK_CERT_ISSUING, 0), 0);
	cr_assert_eq(hk_lint_cert(f.own, p, HK_CERT_LINK, 0), 0);
	cr_assert_eq(hk_lint_cert(f.nwo, p, HK_CERT_LINK, 0), 0);
	cr_assert_eq(hk_lint_cert(f.cross, p, HK_CERT_CROSS, 0), 0);
	cr_assert_eq(hk_lint_cert(f.ocsp, p, HK_CERT_OCSP, 0), 0);
	cr_assert_eq(hk_lint_cert(f.va, p, HK_CERT_VALIDATION, 0), 0);
	/* kinds are not interchangeable */
	cr_assert_eq(hk_lint_cert(f.iss, p, HK_CERT_LINK, 0), HK_ERR_LINT);
	cr_assert_eq(hk_lint_cert(f.ocsp, p, HK_CERT_VALIDATION, 0),
	    HK_ERR_LINT);
	cr_assert_eq(hk_lint_cert(f.root, p, HK_CERT_LINK, 0), HK_ERR_LINT);
	fixture_free(&f);
}

Test(kinds, lint_issuing_pathlen)
{
	struct fixture f;
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	X509 *x;

	fixture_make(&f);
	bc->ca = 0xff;
	x = DUP(f.iss);
	replace(x, NID_basic_constraints, bc, 1);
	refused(x, HK_CERT_ISSUING, "issuing: PROFILE.md: an issuing CA's "
	    "basicConstraints must have pathLenConstraint 0");
	x = DUP(f.nwo);
	bc->pathlen = ASN1_INTEGER_new();
	ASN1_INTEGER_set(bc->pathlen, 0);
	replace(x, NID_basic_constraints, bc, 1);
	refused(x, HK_CERT_LINK, "link: PROFILE.md: the link's "
	    "basicConstraints carries no pathLenConstraint");
	BASIC_CONSTRAINTS_free(bc);
	fixture_free(&f);
}

Test(kinds, lint_subject_pattern)
{
	struct fixture f;
	X509 *x;

	fixture_make(&f);
	refused(with_subject(DUP(f.iss), PREFIX ", OU=Issuing CA 01"),
	    HK_CERT_ISSUING, "issuing: PROFILE.md: subject must be \""
	    PREFIX ", OU=Issuing CA <n>\"");
	/* <n> is 1 to 999 in digits, and nothing after them */
	{
		static const char *bad[] = { "1A", "2x", "1000", "0", "9-",
		    "1.5", "12:" };
		char dn[256];
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(dn, sizeof(dn), "%s, OU=Issuing CA %s", PREFIX,
			    bad[i]);
			refused(with_subject(DUP(f.iss), dn), HK_CERT_ISSUING,
			    "issuing: PROFILE.md: subject must be \"" PREFIX
			    ", OU=Issuing CA <n>\"");
		}
	}
	refused(with_subject(DUP(f.ocsp),
	    PREFIX ", CN=OCSP Responder 1, OU=extra"), HK_CERT_OCSP,
	    "ocsp: PROFILE.md: subject must be \""
	    PREFIX ", CN=OCSP Responder <n>\"");
	x = DUP(f.cross);
	X509_set_subject_name(x, X509_get_subject_name(f.root));
	refused(x, HK_CERT_CROSS, "cross: RFC 5280 3.2: a cross certificate's "
	    "subject is the other CA, not our root DN");
	fixture_free(&f);
}

Test(kinds, lint_validity)
{
	struct fixture f;

	fixture_make(&f);
	refused(with_not_after(DUP(f.iss), "2031-04-02T00:00:00Z"),
	    HK_CERT_ISSUING, "issuing: PROFILE.md: validity must be at "
	    "most 5 years minus 1 second (notAfter 2031-04-02T00:00:00Z, "
	    "latest 2031-04-01T23:59:59Z)");
	refused(with_not_after(DUP(f.cross), "2030-04-02T00:00:00Z"),
	    HK_CERT_CROSS, "cross: CPS 7-1-2 / PROFILE.md: validity "
	    "must be 5 years minus 1 second (notAfter 2030-04-02T00:00:00Z, "
	    "expected 2031-04-01T23:59:59Z)");
	refused(with_not_after(DUP(f.ocsp), "2028-04-01T00:00:00Z"),
	    HK_CERT_OCSP, "ocsp: PROFILE.md: validity must be at most 1 "
	    "years minus 1 second (notAfter 2028-04-01T00:00:00Z, latest "
	    "2027-04-01T23:59:59Z)");
	refused(with_not_after(DUP(f.nwo), "2031-02-01T00:00:00Z"),
	    HK_CERT_LINK, "link: RFC 5280 4.1.2.5: notAfter must be "
	    "after notBefore");
	fixture_free(&f);
}

Test(kinds, lint_aki)
{
	struct fixture f;
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	X509 *x;

	fixture_make(&f);
	x = DUP(f.iss);
	replace(x, NID_authority_key_identifier, NULL, 0);
	refused(x, HK_CERT_ISSUING, "issuing: RFC 5280 4.2.1.1: "
	    "authorityKeyIdentifier must be present");
	x = DUP(f.own);
	aki->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(f.root));
	replace(x, NID_authority_key_identifier, aki, 1);
	refused(x, HK_CERT_LINK, "link: RFC 5280 4.2.1.1: "
	    "authorityKeyIdentifier must not be critical");
	x = DUP(f.own);
	aki->serial = ASN1_INTEGER_new();
	ASN1_INTEGER_set(aki->serial, 7);
	replace(x, NID_authority_key_identifier, aki, 0);
	refused(x, HK_CERT_LINK, "link: PROFILE.md: authorityKeyIdentifier "
	    "holds the keyIdentifier only (no issuer and serial)");
	AUTHORITY_KEYID_free(aki);
	fixture_free(&f);
}

Test(kinds, lint_policies)
{
	struct fixture f;
	X509 *x;

	fixture_make(&f);
	x = DUP(f.iss);
	replace(x, NID_certificate_policies, NULL, 0);
	refused(x, HK_CERT_ISSUING, "issuing: PROFILE.md: certificatePolicies "
	    POL_CA " must be present");
	x = DUP(f.va);
	X509_EXTENSION_set_critical(ext(x, NID_certificate_policies), 1);
	refused(x, HK_CERT_VALIDATION, "validation: PROFILE.md: "
	    "certificatePolicies must not be critical in a validation "
	    "certificate");
	/* the production policy on a rehearsal certificate */
	x = DUP(f.ocsp);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	cr_assert_eq(hk_lint_cert(x, p, HK_CERT_OCSP, 1), HK_ERR_LINT);
	X509_free(x);
	/* a root or link carries none */
	x = DUP(f.own);
	{
		CERTIFICATEPOLICIES *cps = X509V3_EXT_d2i(ext(f.iss,
		    NID_certificate_policies));

		replace(x, NID_certificate_policies, cps, 0);
		sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
	}
	refused(x, HK_CERT_LINK, "link: PROFILE.md: extension X509v3 "
	    "Certificate Policies is not in the link profile");
	fixture_free(&f);
}

Test(kinds, lint_policy_mappings)
{
	struct fixture f;
	X509 *x;

	fixture_make(&f);
	x = DUP(f.cross);
	X509_EXTENSION_set_critical(ext(x, NID_policy_mappings), 1);
	refused(x, HK_CERT_CROSS, "cross: PROFILE.md (interoperability): "
	    "policyMappings must be non-critical as the profile says");
	refused(with_mapping(DUP(f.cross), 1, "2.5.29.32.0"), HK_CERT_CROSS,
	    "cross: RFC 5280 4.2.1.5: policyMappings must not map to or from "
	    "anyPolicy");
	refused(with_mapping(DUP(f.cross), 0, POL_BCA), HK_CERT_CROSS,
	    "cross: PROFILE.md: policyMappings issuerDomainPolicy must be our "
	    "CA policy " POL_CA);
	fixture_free(&f);
}

Test(kinds, lint_ocsp_rules)
{
	struct fixture f;
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	X509 *x;

	fixture_make(&f);
	x = DUP(f.ocsp);
	replace(x, NID_id_pkix_OCSP_noCheck, NULL, 0);
	refused(x, HK_CERT_OCSP, "ocsp: RFC 6960 4.2.2.2.1 / PROFILE.md: "
	    "id-pkix-ocsp-nocheck must be present");
	x = DUP(f.ocsp);
	X509_EXTENSION_set_critical(ext(x, NID_id_pkix_OCSP_noCheck), 1);
	refused(x, HK_CERT_OCSP, "ocsp: RFC 6960 4.2.2.2.1: "
	    "id-pkix-ocsp-nocheck must not be critical");
	x = DUP(f.ocsp);
	{
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();

		ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x04\x00", 2);
		X509_EXTENSION_set_data(ext(x, NID_id_pkix_OCSP_noCheck), v);
		ASN1_OCTET_STRING_free(v);
	}
	refused(x, HK_CERT_OCSP, "ocsp: RFC 6960 4.2.2.2.1: "
	    "id-pkix-ocsp-nocheck value must be NULL");
	x = DUP(f.ocsp);
	sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_OCSP_sign));
	sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth));
	replace(x, NID_ext_key_usage, eku, 0);
	refused(x, HK_CERT_OCSP, "ocsp: RFC 6960 4.2.2.2 / PROFILE.md: "
	    "extendedKeyUsage must be exactly id-kp-OCSPSigning");
	x = DUP(f.ocsp);
	replace(x, NID_ext_key_usage, NULL, 0);
	refused(x, HK_CERT_OCSP, "ocsp: RFC 6960 4.2.2.2: extendedKeyUsage "
	    "id-kp-OCSPSigning must be present");
	sk_ASN1_OBJECT_free(eku);
	/* EKU is the OCSP responder's only */
	x = DUP(f.va);
	eku = sk_ASN1_OBJECT_new_null();
	sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_OCSP_sign));
	replace(x, NID_ext_key_usage, eku, 0);
	sk_ASN1_OBJECT_free(eku);
	refused(x, HK_CERT_VALIDATION, "validation: PROFILE.md: extension "
	    "X509v3 Extended Key Usage is not in the validation profile");
	fixture_free(&f);
}

Test(kinds, lint_key_usage)
{
	struct fixture f;
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	X509 *x;

	fixture_make(&f);
	ASN1_BIT_STRING_set_bit(ku, 0, 1);
	x = DUP(f.va);
	replace(x, NID_key_usage, ku, 1);
	refused(x, HK_CERT_VALIDATION, "validation: PROFILE.md: keyUsage must "
	    "be exactly digitalSignature and nonRepudiation");
	ASN1_BIT_STRING_set_bit(ku, 1, 1);
	x = DUP(f.ocsp);
	replace(x, NID_key_usage, ku, 1);
	refused(x, HK_CERT_OCSP, "ocsp: PROFILE.md: keyUsage must be exactly "
	    "digitalSignature");
	x = DUP(f.cross);
	replace(x, NID_key_usage, ku, 1);
	refused(x, HK_CERT_CROSS, "cross: PROFILE.md: keyUsage must be exactly "
	    "keyCertSign and cRLSign");
	x = DUP(f.ocsp);
	replace(x, NID_key_usage, NULL, 1);
	refused(x, HK_CERT_OCSP, "ocsp: PROFILE.md: keyUsage must be present");
	ASN1_BIT_STRING_free(ku);
	/* no basicConstraints on an end entity */
	{
		BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();

		x = DUP(f.ocsp);
		replace(x, NID_basic_constraints, bc, 1);
		BASIC_CONSTRAINTS_free(bc);
	}
	refused(x, HK_CERT_OCSP, "ocsp: PROFILE.md: extension X509v3 Basic "
	    "Constraints (critical) is not in the ocsp profile");
	fixture_free(&f);
}

Test(kinds, lint_issued_rules)
{
	struct fixture f;
	X509 *x;

	fixture_make(&f);
	cr_assert_eq(hk_lint_issued(f.iss, f.root, p, HK_CERT_ISSUING), 0);
	/* beyond the root */
	x = with_not_after(DUP(f.cross), "2036-04-01T00:00:00Z");
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_CROSS), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "cross: PROFILE.md: notAfter must not be "
	    "after the issuer's notAfter");
	X509_free(x);
	/* issuer DN */
	x = DUP(f.iss);
	X509_set_issuer_name(x, X509_get_subject_name(f.iss));
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_ISSUING),
	    HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "issuing: RFC 5280 4.1.2.4: issuer must "
	    "equal the issuing certificate's subject");
	X509_free(x);
	fixture_free(&f);
}

/* An OCSP responder or validation server certificate runs its profile
 * term, or ends exactly with its issuer (it answers for what the issuer
 * issued, all of which ends by then), never anything else shorter. */
Test(kinds, server_validity_full_or_cut_to_issuer)
{
	struct fixture f;
	X509 *x;

	fixture_make(&f);
	cr_assert_eq(hk_lint_issued(f.ocsp, f.root, p, HK_CERT_OCSP), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_lint_issued(f.va, f.root, p, HK_CERT_VALIDATION), 0,
	    "%s", hk_err_msg());
	/* silently short: half a year */
	x = with_not_after(DUP(f.ocsp), "2026-10-02T00:00:00Z");
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_OCSP), HK_ERR_LINT);
	cr_assert_str_eq(hk_err_msg(), "ocsp: PROFILE.md: validity must be 1 "
	    "years minus 1 second, or end with the issuer's notAfter "
	    "(notAfter 2026-10-02T00:00:00Z, expected 2027-04-01T23:59:59Z or "
	    "2036-03-31T23:59:59Z)");
	X509_free(x);
	x = with_not_after(DUP(f.va), "2027-04-01T23:59:58Z");
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_VALIDATION),
	    HK_ERR_LINT);
	X509_free(x);
	/* less than a year left on the issuer: cut to its end, and lint
	 * takes that end and nothing a second shorter */
	x = mkserver(f.root, k, f.sub, HK_CERT_OCSP,
	    hk_test_at("2035-06-01T00:00:00Z"), 0);
	cr_assert(ASN1_TIME_compare(X509_get0_notAfter(x),
	    X509_get0_notAfter(f.root)) == 0);
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_OCSP), 0, "%s",
	    hk_err_msg());
	with_not_after(x, "2036-03-31T23:59:58Z");
	cr_assert_eq(hk_lint_issued(x, f.root, p, HK_CERT_OCSP), HK_ERR_LINT);
	X509_free(x);
	fixture_free(&f);
}

/* ---- relying parties: openssl verify and GnuTLS certtool ---- */

static void
write_pem(const char *dir, const char *name, X509 *x)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(hk_cert_write(x, NULL, path), 0, "%s", hk_err_msg());
}

static void
cat(const char *dir, const char *out, const char *a, const char *b)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && cat %s %s > %s", dir, a, b, out);
	cr_assert_eq(system(cmd), 0);
}

/* exit status of cmd run in dir, output to dir/log */
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

static time_t
now_minus(long s)
{
	return time(NULL) - s;
}

Test(kinds, link_paths_openssl_and_certtool, .timeout = 120)
{
	const char *dir = hk_test_dir("kinds_link_paths");
	EVP_PKEY *nk = rsa(), *s1 = rsa(), *s2 = rsa();
	time_t old_nb = now_minus(400L * 86400), new_nb = now_minus(3600);
	X509 *old = mkroot(k, old_nb, 0), *new = mkroot(nk, new_nb, 0);
	X509 *own = mklink(HK_LINK_OLD_WITH_NEW, old, new, nk, old_nb, 0);
	X509 *nwo = mklink(HK_LINK_NEW_WITH_OLD, old, new, k, new_nb - 60, 0);
	X509 *inew = mkissuing(new, nk, s1, 2, new_nb, 0);
	X509 *iold = mkissuing(old, k, s2, 1, old_nb + 60, 0);

	write_pem(dir, "old.pem", old);
	write_pem(dir, "new.pem", new);
	write_pem(dir, "oldwithnew.pem", own);
	write_pem(dir, "newwithold.pem", nwo);
	write_pem(dir, "issuing-new.pem", inew);
	write_pem(dir, "issuing-old.pem", iold);
	/* a party trusting only the old root reaches the new generation */
	cr_assert_eq(run(dir, "openssl verify -x509_strict -CAfile old.pem "
	    "-untrusted newwithold.pem issuing-new.pem"), 0);
	/* ... and not without the link certificate */
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile old.pem "
	    "-untrusted new.pem issuing-new.pem"), 0);
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile old.pem "
	    "issuing-new.pem"), 0);
	/* a party trusting only the new root reaches the old generation */
	cr_assert_eq(run(dir, "openssl verify -x509_strict -CAfile new.pem "
	    "-untrusted oldwithnew.pem issuing-old.pem"), 0);
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile new.pem "
	    "-untrusted old.pem issuing-old.pem"), 0);
	/* the link in the wrong direction does not help */
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile new.pem "
	    "-untrusted newwithold.pem issuing-old.pem"), 0);

	/* GnuTLS: the chain (leaf first) in the infile */
	cat(dir, "chain-new.pem", "issuing-new.pem", "newwithold.pem");
	cat(dir, "chain-old.pem", "issuing-old.pem", "oldwithnew.pem");
	cr_assert_eq(run(dir, "certtool --verify --load-ca-certificate old.pem "
	    "--infile chain-new.pem"), 0);
	cr_assert_eq(run(dir, "certtool --verify --load-ca-certificate new.pem "
	    "--infile chain-old.pem"), 0);
	cr_assert_neq(run(dir, "certtool --verify --load-ca-certificate old.pem "
	    "--infile issuing-new.pem"), 0);
	cr_assert_neq(run(dir, "certtool --verify --load-ca-certificate new.pem "
	    "--infile issuing-old.pem"), 0);

	X509_free(old);
	X509_free(new);
	X509_free(own);
	X509_free(nwo);
	X509_free(inew);
	X509_free(iold);
	EVP_PKEY_free(nk);
	EVP_PKEY_free(s1);
	EVP_PKEY_free(s2);
}

/* The toy bridge CA: a self-signed anchor and what it issues, made with
 * plain OpenSSL calls (it is not our code under test). */
static X509 *
bridge_issue(const char *subject, EVP_PKEY *pub, X509 *bridge,
    EVP_PKEY *bkey, const char *policy, time_t nb)
{
	X509 *x = X509_new();
	X509_NAME *n = NULL;
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	static long serial = 1000;

	cr_assert_eq(hk_name_parse(subject, &n), 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(sn, serial++);
	X509_set_serialNumber(x, sn);
	ASN1_INTEGER_free(sn);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, bridge ? X509_get_subject_name(bridge) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), nb - time(NULL));
	X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400);
	X509_set_pubkey(x, pub);
	X509V3_set_ctx(&ctx, bridge ? bridge : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
	    "critical,keyCertSign,cRLSign");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (bridge != NULL) {
		e = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_authority_key_identifier, "keyid:always");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (policy != NULL) {
		CERTIFICATEPOLICIES *cps = sk_POLICYINFO_new_null();
		POLICYINFO *pi = POLICYINFO_new();

		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(policy, 1);
		sk_POLICYINFO_push(cps, pi);
		e = X509V3_EXT_i2d(NID_certificate_policies, 0, cps);
		sk_POLICYINFO_pop_free(cps, POLICYINFO_free);
		cr_assert_not_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	cr_assert_gt(X509_sign(x, bkey, EVP_sha256()), 0);
	X509_NAME_free(n);
	return x;
}

Test(kinds, bridge_paths_openssl, .timeout = 120)
{
	const char *dir = hk_test_dir("kinds_bridge_paths");
	EVP_PKEY *bkey = rsa(), *sub = rsa(), *okey = rsa();
	time_t nb = now_minus(86400);
	X509 *root = mkroot(k, nb, 0);
	X509 *iss = mkissuing(root, k, sub, 1, nb + 60, 0);
	X509 *anchor = bridge_issue(BRIDGE, bkey, NULL, bkey, NULL, nb);
	/* the bridge's cross certificate for our root (forward) */
	X509 *fwd = bridge_issue("C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=Governor of Kumamoto Prefecture", k, anchor, bkey, POL_CA, nb);
	/* ours to the bridge (reverse), mapping our policy to the bridge's */
	X509 *rev = mkcross(root, k, bkey, HK_CERT_PATHLEN_NONE, POL_BCA,
	    nb + 60);
	/* a CA the bridge certifies, under the bridge's policy */
	X509 *other = bridge_issue("C=JP, O=Other, OU=Other CA", okey, anchor,
	    bkey, POL_BCA, nb);

	write_pem(dir, "root.pem", root);
	write_pem(dir, "issuing.pem", iss);
	write_pem(dir, "bridge.pem", anchor);
	write_pem(dir, "bridge-to-us.pem", fwd);
	write_pem(dir, "us-to-bridge.pem", rev);
	write_pem(dir, "other.pem", other);
	/* a party trusting the bridge reaches our issuing CA */
	cr_assert_eq(run(dir, "openssl verify -x509_strict -policy_check "
	    "-explicit_policy -policy " POL_CA " -CAfile bridge.pem "
	    "-untrusted bridge-to-us.pem issuing.pem"), 0);
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile bridge.pem "
	    "issuing.pem"), 0);
	/* under a policy nobody asserted, the path has none */
	cr_assert_neq(run(dir, "openssl verify -x509_strict -policy_check "
	    "-explicit_policy -policy 1.2.3.4 -CAfile bridge.pem "
	    "-untrusted bridge-to-us.pem issuing.pem"), 0);
	/* a party trusting our root reaches the bridge's CAs through our
	 * cross certificate, our policy mapped onto the bridge's */
	cr_assert_eq(run(dir, "openssl verify -x509_strict -policy_check "
	    "-explicit_policy -policy " POL_CA " -CAfile root.pem "
	    "-untrusted us-to-bridge.pem other.pem"), 0);
	cr_assert_neq(run(dir, "openssl verify -x509_strict -CAfile root.pem "
	    "other.pem"), 0);
	/* GnuTLS takes the non-critical mapping (PROFILE.md) */
	cat(dir, "chain-other.pem", "other.pem", "us-to-bridge.pem");
	cr_assert_eq(run(dir, "certtool --verify --load-ca-certificate "
	    "root.pem --infile chain-other.pem"), 0);
	X509_free(root);
	X509_free(iss);
	X509_free(anchor);
	X509_free(fwd);
	X509_free(rev);
	X509_free(other);
	EVP_PKEY_free(bkey);
	EVP_PKEY_free(sub);
	EVP_PKEY_free(okey);
}
