/* test_issued.c - the register of what the root signed: add, find,
 * revoke once with a CPS reason, save and load back, refuse damage. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "err.h"
#include "issued.h"
#include "testutil.h"

static X509 *
toy_cert(long serial, const char *cn)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	cr_assert(k && x && n);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	cr_assert(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
	return x;
}

Test(issued, add_revoke_save_load)
{
	const char *dir = hk_test_dir("issued-rt");
	struct hk_issued *r, *back;
	struct hk_issued_entry *e;
	X509 *a = toy_cert(0x1234abcd, "Issuing CA 1"), *b = toy_cert(77, "熊本");

	cr_assert_eq(hk_issued_load(dir, &r), 0, "a missing register is empty");
	cr_assert_eq(r->n, 0);
	cr_assert_eq(hk_issued_add(r, a, "issuing", "certs/issuing-1.der"), 0);
	cr_assert_eq(hk_issued_add(r, b, "cross", "certs/cross-1.der"), 0);
	cr_assert_eq(hk_issued_add(r, a, "issuing", "x"), HK_ERR_EXISTS);
	cr_assert_not_null(hk_issued_find(r, "1234ABCD"), "hex in any case");
	cr_assert_eq(hk_issued_revoke(r, "1234abcd", 1800000000, 6), HK_ERR_INVALID,
	    "certificateHold is not a CPS reason");
	cr_assert_eq(hk_issued_revoke(r, "ffff", 1800000000, 1), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_issued_revoke(r, "1234abcd", 1800000000, 2), 0);
	cr_assert_eq(hk_issued_revoke(r, "1234abcd", 1800000001, 1), HK_ERR_EXISTS,
	    "never re-revoked or re-dated");
	cr_assert_eq(hk_issued_save(r), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_issued_load(dir, &back), 0, "%s", hk_err_msg());
	cr_assert_eq(back->n, 2);
	e = hk_issued_find(back, "1234abcd");
	cr_assert(e && e->revoked && e->reason == 2 && e->revoked_at == 1800000000);
	cr_assert_str_eq(e->kind, "issuing");
	cr_assert_str_eq(e->file, "certs/issuing-1.der");
	cr_assert_str_eq(e->subject, "CN=Issuing CA 1");
	e = hk_issued_find(back, "4d");
	cr_assert(e && !e->revoked);
	cr_assert_str_eq(e->subject, "CN=熊本");
	hk_issued_free(r);
	hk_issued_free(back);
	X509_free(a);
	X509_free(b);
}

Test(issued, refuses_damaged_registers)
{
	static const char *bad[] = {
		"zz\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\tvalid\t-\t-\tCN=x\n",
		"12\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\trevoked\t-\t1\tCN=x\n",
		"12\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\trevoked\t2026-02-01T00:00:00Z\t6\tCN=x\n",
		"12\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\tvalid\t-\t-\n",
		"12\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\tvalid\t-\t-\tCN=x\n"
		"12\tissuing\t2026-01-01T00:00:00Z\t2027-01-01T00:00:00Z\t" "0000000000000000000000000000000000000000000000000000000000000000\tf\tvalid\t-\t-\tCN=y\n",
	};
	const char *dir = hk_test_dir("issued-bad");
	char path[4096];
	struct hk_issued *r = NULL;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, HK_ISSUED_FILE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hk_test_write(path, bad[i], strlen(bad[i]));
		cr_assert_eq(hk_issued_load(dir, &r), HK_ERR_PARSE, "case %zu", i);
		cr_assert(strstr(hk_err_msg(), HK_ISSUED_FILE ":") != NULL,
		    "%s", hk_err_msg());
		cr_assert_null(r);
	}
}
