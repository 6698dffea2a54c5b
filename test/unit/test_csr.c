/* test_csr.c - PKCS#10 requests read and checked strictly (test/data/csr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csr.h"
#include "err.h"
#include "name.h"
#include "profile.h"

#define D	HK_TEST_DATA "/csr/"
#define DN	"C=JP, O=JPKI, OU=Kumamoto-ken, OU=Issuing CA 1"

static X509_REQ *
read_ok(const char *path)
{
	X509_REQ *r = NULL;

	cr_assert_eq(hk_csr_read(path, &r), 0, "%s", hk_err_msg());
	return r;
}

static void
check_fails(const char *path, int want_r, const char *msg)
{
	X509_REQ *r = read_ok(path);
	X509_NAME *n = NULL;
	enum hk_key_alg k = HK_KEY_RSA2048;

	hk_name_parse(DN, &n);
	cr_assert_eq(hk_csr_check(r, path, n, &k, 0), want_r, "%s",
	    hk_err_msg());
	cr_assert(strstr(hk_err_msg(), msg) != NULL, "%s", hk_err_msg());
	X509_NAME_free(n);
	X509_REQ_free(r);
}

Test(csr, good_pem_and_der_same_fingerprint)
{
	X509_REQ *a = read_ok(D "good.pem"), *b = read_ok(D "good.der");
	X509_NAME *n = NULL;
	enum hk_key_alg k = HK_KEY_RSA2048;
	char f1[96], f2[96], cmd[512], f3[200];
	FILE *f;

	cr_assert_eq(hk_name_parse(DN, &n), 0);
	cr_assert_eq(hk_csr_check(a, "good.pem", n, &k, 0), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_csr_check(b, "good.der", NULL, NULL, 0), 0);
	cr_assert_eq(hk_csr_fingerprint_text(a, f1), 0);
	cr_assert_eq(hk_csr_fingerprint_text(b, f2), 0);
	cr_assert_str_eq(f1, f2);
	/* the fingerprint is that of the file's bytes */
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -c %s | "
	    "sed 's/.*= //' | tr a-f A-F", D "good.der");
	cr_assert_not_null(f = popen(cmd, "r"));
	cr_assert_not_null(fgets(f3, sizeof(f3), f));
	pclose(f);
	f3[strcspn(f3, "\n")] = '\0';
	cr_assert_str_eq(f1, f3);
	X509_NAME_free(n);
	X509_REQ_free(a);
	X509_REQ_free(b);
}

Test(csr, trailing_bytes_refused)
{
	X509_REQ *r = NULL;

	cr_assert_eq(hk_csr_read(D "trailing.der", &r), HK_ERR_PARSE);
	cr_assert_null(r);
	cr_assert_str_eq(hk_err_msg(), D "trailing.der: RFC 2986 4.2: 2 "
	    "trailing bytes after the request");
	cr_assert_eq(hk_csr_read(D "trailing.pem", &r), HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), D "trailing.pem: RFC 7468 2: data after "
	    "the PEM block");
}

Test(csr, not_a_request)
{
	X509_REQ *r = NULL;

	cr_assert_eq(hk_csr_read(HK_TEST_DATA "/cert/README", &r),
	    HK_ERR_PARSE);
	cr_assert_eq(hk_csr_read(HK_TEST_DATA "/cert/rsa2048.pem", &r),
	    HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "is not CERTIFICATE REQUEST") != NULL,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_csr_parse((const unsigned char *)"", 0, "empty", &r),
	    HK_ERR_PARSE);
}

Test(csr, bad_signature_refused)
{
	check_fails(D "bad-signature.der", HK_ERR_VERIFY, "bad-signature.der: "
	    "RFC 2986 3: signature does not verify with the request's key "
	    "(no proof of possession)");
}

Test(csr, printable_ou_refused)
{
	check_fails(D "printable.pem", HK_ERR_INVALID, "printable.pem: subject: "
	    "PROFILE.md: attributes other than C must be UTF8String");
}

Test(csr, small_key_refused)
{
	check_fails(D "small-key.pem", HK_ERR_INVALID, "small-key.pem: "
	    "subjectPKInfo: RSA-1024 is not allowed");
}

Test(csr, sha1_refused)
{
	check_fails(D "sha1.pem", HK_ERR_INVALID, "sha1.pem: signatureAlgorithm: "
	    "RSA-SHA1 is not in the allow-list");
}

Test(csr, extensions_refused_unless_allowed)
{
	X509_REQ *r = read_ok(D "with-ext.pem");

	cr_assert_eq(hk_csr_check(r, "with-ext.pem", NULL, NULL, 0),
	    HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "with-ext.pem: attributes: "
	    "extensionRequest is not accepted (the root takes only the "
	    "subject and key from a request)");
	cr_assert_eq(hk_csr_check(r, "with-ext.pem", NULL, NULL,
	    HK_CSR_ALLOW_EXTENSIONS), 0);
	X509_REQ_free(r);
}

Test(csr, wrong_dn_and_wrong_key_type)
{
	X509_REQ *r = read_ok(D "good.pem");
	X509_NAME *n = NULL;
	enum hk_key_alg k = HK_KEY_EC_P384;

	hk_name_parse("C=JP, O=JPKI, OU=Kumamoto-ken, OU=Issuing CA 2", &n);
	cr_assert_eq(hk_csr_check(r, "good.pem", n, NULL, 0), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "good.pem: subject: must be \"C=JP, "
	    "O=JPKI, OU=Kumamoto-ken, OU=Issuing CA 2\"");
	cr_assert_eq(hk_csr_check(r, "good.pem", NULL, &k, 0), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "good.pem: subjectPKInfo: the key is "
	    "rsa-2048 but the profile asks ec-p384");
	X509_NAME_free(n);
	X509_REQ_free(r);
}
