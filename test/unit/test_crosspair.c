/* test_crosspair.c - CertificatePair encode/decode and hostile inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert.h"
#include "clock.h"
#include "crosspair.h"
#include "err.h"
#include "profile.h"

static struct hk_profile *p;
static EVP_PKEY *k, *bk;
static X509 *root, *fwd, *rev;

/* a self-signed certificate for key named dn (stands for either cross) */
static X509 *
cert(EVP_PKEY *key, const char *cn, EVP_PKEY *signer)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	cr_assert_gt(X509_sign(x, signer, EVP_sha256()), 0);
	X509_NAME_free(n);
	return x;
}

static void
setup(void)
{
	FILE *f = fopen(HK_TEST_DATA "/cert/rsa2048.pem", "r");
	time_t t;
	X509_NAME *n;

	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	bk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	hk_profile_default(&p);
	hk_time_parse("2026-04-01T00:00:00Z", &t);
	cr_assert_eq(hk_cert_build_root(p, k, t, 0, &root), 0);
	cr_assert_eq(hk_cert_sign_checked(root, k, k, p, HK_CERT_ROOT, 0), 0);
	/* forward: issued by the bridge to our root's name and key */
	fwd = cert(k, "x", bk);
	X509_set_subject_name(fwd, X509_get_subject_name(root));
	n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)"Bridge CA", -1, -1, 0);
	X509_set_issuer_name(fwd, n);
	X509_NAME_free(n);
	cr_assert_gt(X509_sign(fwd, bk, EVP_sha256()), 0);
	/* reverse: ours to the bridge's key */
	rev = cert(bk, "Bridge CA", k);
}

static void
teardown(void)
{
	X509_free(root);
	X509_free(fwd);
	X509_free(rev);
	EVP_PKEY_free(k);
	EVP_PKEY_free(bk);
	hk_profile_free(p);
}

TestSuite(crosspair, .init = setup, .fini = teardown);

Test(crosspair, round_trip)
{
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *f = NULL, *r = NULL;

	cr_assert_eq(hk_crosspair_encode(fwd, rev, &der, &len), 0);
	/* SEQUENCE { [0] { Certificate } [1] { Certificate } } */
	cr_assert_eq(der[0], 0x30);
	cr_assert_eq(hk_crosspair_decode(der, len, &f, &r), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(X509_cmp(f, fwd), 0);
	cr_assert_eq(X509_cmp(r, rev), 0);
	cr_assert_eq(hk_crosspair_check(f, r, root, rev), 0, "%s",
	    hk_err_msg());
	X509_free(f);
	X509_free(r);
	OPENSSL_free(der);
	/* one member alone */
	cr_assert_eq(hk_crosspair_encode(NULL, rev, &der, &len), 0);
	cr_assert_eq(hk_crosspair_decode(der, len, &f, &r), 0);
	cr_assert_null(f);
	cr_assert_not_null(r);
	cr_assert_eq(der[2 + (der[1] & 0x80 ? (der[1] & 0x7f) : 0)], 0xa1);
	X509_free(r);
	OPENSSL_free(der);
	/* [0] constructed, explicit */
	cr_assert_eq(hk_crosspair_encode(fwd, NULL, &der, &len), 0);
	cr_assert_eq(der[2 + (der[1] & 0x80 ? (der[1] & 0x7f) : 0)], 0xa0);
	OPENSSL_free(der);
}

Test(crosspair, hostile)
{
	unsigned char *der = NULL, *buf;
	size_t len = 0;
	X509 *f = NULL, *r = NULL;
	static const unsigned char empty[] = { 0x30, 0x00 };
	static const unsigned char notseq[] = { 0x31, 0x00 };

	cr_assert_eq(hk_crosspair_encode(NULL, NULL, &der, &len),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_crosspair_decode(empty, sizeof(empty), &f, &r),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "crosspair: X.509 11.2.3: at least one "
	    "of forward and reverse must be present");
	cr_assert_eq(hk_crosspair_decode(notseq, sizeof(notseq), &f, &r),
	    HK_ERR_PARSE);
	cr_assert_eq(hk_crosspair_encode(fwd, rev, &der, &len), 0);
	/* trailing bytes */
	buf = malloc(len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	cr_assert_eq(hk_crosspair_decode(buf, len + 1, &f, &r), HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "crosspair: 1 trailing bytes after the "
	    "pair");
	/* wrong tags: [0] -> [2], and [0] made implicit-looking primitive */
	memcpy(buf, der, len);
	buf[4] = 0xa2;
	cr_assert_eq(hk_crosspair_decode(buf, len, &f, &r), HK_ERR_PARSE);
	memcpy(buf, der, len);
	buf[4] = 0x80;
	cr_assert_eq(hk_crosspair_decode(buf, len, &f, &r), HK_ERR_PARSE);
	/* truncated */
	cr_assert_eq(hk_crosspair_decode(der, len - 1, &f, &r), HK_ERR_PARSE);
	cr_assert_null(f);
	cr_assert_null(r);
	free(buf);
	OPENSSL_free(der);
}

Test(crosspair, check_members)
{
	X509 *other = NULL;

	/* forward certifying another key */
	other = X509_dup(fwd);
	X509_set_pubkey(other, bk);
	cr_assert_eq(hk_crosspair_check(other, NULL, root, rev),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "crosspair: forward: must certify our "
	    "root's current key");
	X509_free(other);
	/* swapped members */
	cr_assert_eq(hk_crosspair_check(rev, fwd, root, rev), HK_ERR_INVALID);
	/* reverse not the one we issued */
	other = X509_dup(rev);
	ASN1_INTEGER_set(X509_get_serialNumber(other), 43);
	cr_assert_gt(X509_sign(other, k, EVP_sha256()), 0);
	cr_assert_eq(hk_crosspair_check(NULL, other, root, rev),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "crosspair: reverse: must be the cross "
	    "certificate we issued");
	X509_free(other);
}
