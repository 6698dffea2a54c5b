/*
 * test_crlpub.c - the publisher's partition CRLs (online/crlpub.c) and its
 * repository sets (online/repo.c).
 *
 * The template-built CRL is compared with what OpenSSL's own X509_CRL code
 * makes of the same CRL (shared/crl.c: hk_crl_build + hk_crl_sign_checked,
 * RSA PKCS#1 v1.5 being deterministic): the same bytes, for 0, 1 and many
 * entries (every length form of the SEQUENCE OF header); and read back by
 * d2i_X509_CRL: signature, entries, serials, reasons, dates, IDP and number
 * equal, hk_crl_lint passes. A wrong key or a number that does not increase
 * is refused. The entry cache is appended, checked and rebuilt against a
 * real store.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "crlpub.h"
#include "err.h"
#include "name.h"
#include "profile.h"
#include "repo.h"
#include "store.h"
#include "basic4.h"
#include "testutil.h"

#define PART_DN	"C=JP, O=JPKI, OU=Kumamoto-ken, OU=CRL Distribution " \
		"Points, CN=Kumamoto-shi Chuo-ku CRLDP"

static struct hk_profile *p;
static EVP_PKEY *k;
static X509 *ca;
static X509_NAME *part;

static EVP_PKEY *
key_file(const char *name)
{
	char path[4096];
	EVP_PKEY *key;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cert/%s", HK_TEST_DATA, name);
	cr_assert_not_null(f = fopen(path, "r"));
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(key);
	return key;
}

/* A CA certificate to sign with (the root kind has what a CRL issuer
 * needs: subject, SKI, cRLSign). */
static X509 *
ca_for(const struct hk_profile *prof, EVP_PKEY *key)
{
	X509 *x = NULL;

	cr_assert_eq(hk_cert_build_root(prof, key,
	    hk_test_at("2026-04-01T00:00:00Z"),
	    0, &x), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_cert_sign_checked(x, key, key, prof, HK_CERT_ROOT, 0),
	    0, "%s", hk_err_msg());
	return x;
}

static void
setup(void)
{
	k = key_file("rsa2048.pem");
	cr_assert_eq(hk_profile_default(&p), 0);
	ca = ca_for(p, k);
	cr_assert_eq(hk_name_parse(PART_DN, &part), 0);
}

static void
teardown(void)
{
	X509_NAME_free(part);
	X509_free(ca);
	EVP_PKEY_free(k);
	hk_profile_free(p);
}

TestSuite(crlpub, .init = setup, .fini = teardown);

static void
spec_user(struct hk_crl_spec *s, X509 *issuer, const struct hk_profile *prof)
{
	memset(s, 0, sizeof(*s));
	s->issuer = issuer;
	s->scope = HK_CRL_SCOPE_USER;
	s->idp_dn = part;
	hk_cert_partition_uri(prof, "431010", 1, s->idp_uri,
	    sizeof(s->idp_uri));
	s->validity_hours = prof->crl_validity_hours;
	s->interval_hours = prof->crl_interval_hours;
}

/* n entries with ascending serials (9..20 bytes), reasons 1..5 and none,
 * revocation dates spread before thisUpdate. */
static struct hk_crl_entry *
entries_make(size_t n)
{
	struct hk_crl_entry *e = calloc(n + 1, sizeof(*e));
	size_t i;

	cr_assert_not_null(e);
	for (i = 0; i < n; i++) {
		BIGNUM *bn = BN_new();
		ASN1_INTEGER *ai;

		/* 0x40 <i> <random>: ascending in i, 20 octets, positive */
		unsigned char b[20];
		b[0] = 0x40;
		b[1] = (unsigned char)(i >> 16);
		b[2] = (unsigned char)(i >> 8);
		b[3] = (unsigned char)i;
		cr_assert_eq(RAND_bytes(b + 4, 16), 1);
		cr_assert_not_null(BN_bin2bn(b, 20, bn));
		cr_assert_not_null(ai = BN_to_ASN1_INTEGER(bn, NULL));
		BN_free(bn);
		e[i].serial = ai;
		e[i].revoked = hk_test_at("2026-04-10T00:00:00Z") +
		    (time_t)i * 61;
		e[i].reason = (enum hk_crl_reason)(i % 6);
	}
	return e;
}

static void
entries_free(struct hk_crl_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ASN1_INTEGER_free((ASN1_INTEGER *)e[i].serial);
	free(e);
}

/* The template path: entries in the given order. */
static int
template_crl(const struct hk_crl_spec *s, const struct hk_profile *prof,
    EVP_PKEY *key, const struct hk_crl_entry *e, size_t n, const size_t *order,
    uint64_t number, uint64_t last, unsigned char **der, size_t *len)
{
	struct hk_crlpub_entries pe;
	struct hk_crlpub_in in;
	size_t i;

	memset(&pe, 0, sizeof(pe));
	for (i = 0; i < n; i++) {
		unsigned char *d = NULL;
		size_t dl = 0;

		cr_assert_eq(hk_crl_entry_der(&e[order ? order[i] : i], &d,
		    &dl), 0);
		cr_assert_eq(hk_crlpub_entries_add(&pe, d, dl), 0);
		OPENSSL_free(d);
	}
	memset(&in, 0, sizeof(in));
	in.spec = s;
	in.p = prof;
	in.this_update = hk_test_at("2026-04-20T00:00:00Z");
	in.number = number;
	in.last = last;
	in.key = key;
	return hk_crlpub_sign(&in, &pe, der, len);
}

/* Everything OpenSSL's parser reads back equals what went in. */
static void
check_read_back(const unsigned char *der, size_t len,
    const struct hk_crl_spec *s, const struct hk_profile *prof,
    const struct hk_crl_entry *e, size_t n, uint64_t number)
{
	const unsigned char *q = der;
	X509_CRL *c;
	STACK_OF(X509_REVOKED) *revs;
	ISSUING_DIST_POINT *idp;
	uint64_t num = 0;
	size_t i;
	int crit = -1, j;

	cr_assert_not_null(c = d2i_X509_CRL(NULL, &q, (long)len));
	cr_assert_eq(q, der + len, "trailing bytes after the CRL");
	cr_assert_eq(X509_CRL_verify(c, X509_get0_pubkey(s->issuer)), 1);
	cr_assert_eq(hk_crl_verify(c, s->issuer), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_crl_lint(c, s, prof, 1), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_crl_number(c, &num), 0);
	cr_assert_eq(num, number);
	cr_assert_eq(X509_CRL_get_version(c), X509_CRL_VERSION_2);
	idp = X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, &crit,
	    NULL);
	cr_assert_not_null(idp);
	cr_assert_eq(crit, 1, "IDP must be critical");
	cr_assert(idp->onlyuser);
	cr_assert_eq(X509_NAME_cmp(sk_GENERAL_NAME_value(
	    idp->distpoint->name.fullname, 0)->d.directoryName, part), 0);
	ISSUING_DIST_POINT_free(idp);
	revs = X509_CRL_get_REVOKED(c);
	/* no entries: the list is absent (RFC 5280 5.1.2.6), a NULL stack */
	cr_assert_eq(revs == NULL ? 0 : (size_t)sk_X509_REVOKED_num(revs), n);
	for (i = 0; i < n; i++) {
		const X509_REVOKED *rv = NULL;
		ASN1_ENUMERATED *reason;
		ASN1_TIME *t = ASN1_TIME_set(NULL, e[i].revoked);

		/* found by serial, whatever the order on the wire */
		for (j = 0; j < sk_X509_REVOKED_num(revs); j++)
			if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(
			    sk_X509_REVOKED_value(revs, j)), e[i].serial) == 0)
				rv = sk_X509_REVOKED_value(revs, j);
		cr_assert_not_null(rv, "entry %zu missing", i);
		cr_assert_eq(ASN1_TIME_compare(
		    X509_REVOKED_get0_revocationDate(rv), t), 0);
		ASN1_TIME_free(t);
		reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, NULL,
		    NULL);
		if (e[i].reason == HK_REASON_NONE)
			cr_assert_null(reason);
		else {
			cr_assert_not_null(reason);
			cr_assert_eq(ASN1_ENUMERATED_get(reason),
			    (long)e[i].reason);
		}
		ASN1_ENUMERATED_free(reason);
	}
	X509_CRL_free(c);
}

/* The same CRL through shared/crl.c (X509_CRL, sorted by serial). */
static unsigned char *
reference_crl(struct hk_crl_spec *s, const struct hk_profile *prof,
    EVP_PKEY *key, const struct hk_crl_entry *e, size_t n, uint64_t number,
    int *len)
{
	X509_CRL *c = NULL;
	unsigned char *der = NULL;

	s->entries = e;
	s->n_entries = n;
	cr_assert_eq(hk_crl_build(s, hk_test_at("2026-04-20T00:00:00Z"), number,
	    &c),
	    0, "%s", hk_err_msg());
	cr_assert_eq(hk_crl_sign_checked(c, s, prof, key, NULL, NULL), 0, "%s",
	    hk_err_msg());
	cr_assert_gt(*len = i2d_X509_CRL(c, &der), 0);
	X509_CRL_free(c);
	s->entries = NULL;
	s->n_entries = 0;
	return der;
}

static void
same_as_openssl(size_t n)
{
	struct hk_crl_spec s;
	struct hk_crl_entry *e = entries_make(n);
	unsigned char *der = NULL, *ref;
	size_t len = 0;
	int rlen = 0;

	spec_user(&s, ca, p);
	cr_assert_eq(template_crl(&s, p, k, e, n, NULL, 7, 6, &der, &len), 0,
	    "%s", hk_err_msg());
	check_read_back(der, len, &s, p, e, n, 7);
	ref = reference_crl(&s, p, k, e, n, 7, &rlen);
	cr_assert_eq(len, (size_t)rlen, "%zu entries: length %zu, OpenSSL's "
	    "%d", n, len, rlen);
	cr_assert_eq(memcmp(der, ref, len), 0, "%zu entries: the bytes differ "
	    "from OpenSSL's X509_CRL encoding", n);
	OPENSSL_free(ref);
	OPENSSL_free(der);
	entries_free(e, n);
}

/* 0 (list absent), 1 (short length), 3 (0x81), 100 (0x82), 2000 (0x83) */
Test(crlpub, no_entries_same_bytes_as_openssl) { same_as_openssl(0); }
Test(crlpub, one_entry_same_bytes_as_openssl) { same_as_openssl(1); }
Test(crlpub, three_entries_same_bytes_as_openssl) { same_as_openssl(3); }
Test(crlpub, hundred_entries_same_bytes_as_openssl) { same_as_openssl(100); }
Test(crlpub, many_entries_same_bytes_as_openssl, .timeout = 120)
{
	same_as_openssl(2000);
}

Test(crlpub, revocation_order_reads_back_and_lints)
{
	struct hk_crl_spec s;
	size_t n = 50, order[50], i;
	struct hk_crl_entry *e = entries_make(n);
	unsigned char *der = NULL;
	size_t len = 0;

	for (i = 0; i < n; i++)
		order[i] = (i * 17) % n;	/* not sorted by serial */
	spec_user(&s, ca, p);
	cr_assert_eq(template_crl(&s, p, k, e, n, order, 2, 1, &der, &len), 0,
	    "%s", hk_err_msg());
	check_read_back(der, len, &s, p, e, n, 2);
	OPENSSL_free(der);
	entries_free(e, n);
}

Test(crlpub, repository_uri_in_the_idp)
{
	struct hk_profile *rp = NULL;
	struct hk_crl_spec s;
	struct hk_crl_entry *e = entries_make(2);
	unsigned char *der = NULL, *ref;
	const unsigned char *q;
	ISSUING_DIST_POINT *idp;
	GENERAL_NAME *gn;
	X509_CRL *c;
	size_t len = 0;
	int rlen = 0;

	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-repo.yaml",
	    &rp), 0);
	spec_user(&s, ca, rp);
	cr_assert_str_eq(s.idp_uri,
	    "http://repo.example.jp/kumamoto/crl/431010.crl");
	cr_assert_eq(template_crl(&s, rp, k, e, 2, NULL, 3, 0, &der, &len), 0,
	    "%s", hk_err_msg());
	check_read_back(der, len, &s, rp, e, 2, 3);
	ref = reference_crl(&s, rp, k, e, 2, 3, &rlen);
	cr_assert_eq(len, (size_t)rlen);
	cr_assert_eq(memcmp(der, ref, len), 0);
	q = der;
	c = d2i_X509_CRL(NULL, &q, (long)len);
	idp = X509_CRL_get_ext_d2i(c, NID_issuing_distribution_point, NULL,
	    NULL);
	gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 1);
	cr_assert_eq(gn->type, GEN_URI);
	ISSUING_DIST_POINT_free(idp);
	X509_CRL_free(c);
	OPENSSL_free(ref);
	OPENSSL_free(der);
	entries_free(e, 2);
	hk_profile_free(rp);
}

Test(crlpub, ecdsa_p384_issuer)
{
	struct hk_profile *ep = NULL;
	struct hk_crl_spec s;
	struct hk_crl_entry *e = entries_make(5);
	EVP_PKEY *ek = key_file("p384.pem");
	X509 *eca;
	unsigned char *der = NULL;
	size_t len = 0;

	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-p384.yaml",
	    &ep), 0, "%s", hk_err_msg());
	eca = ca_for(ep, ek);
	spec_user(&s, eca, ep);
	cr_assert_eq(template_crl(&s, ep, ek, e, 5, NULL, 1, 0, &der, &len), 0,
	    "%s", hk_err_msg());
	check_read_back(der, len, &s, ep, e, 5, 1);
	OPENSSL_free(der);
	X509_free(eca);
	EVP_PKEY_free(ek);
	entries_free(e, 5);
	hk_profile_free(ep);
}

Test(crlpub, wrong_key_refused)
{
	struct hk_crl_spec s;
	struct hk_crl_entry *e = entries_make(3);
	EVP_PKEY *other = key_file("rsa3072.pem");
	unsigned char *der = NULL;
	size_t len = 0;

	spec_user(&s, ca, p);
	cr_assert_eq(template_crl(&s, p, other, e, 3, NULL, 2, 1, &der, &len),
	    HK_ERR_VERIFY);
	cr_assert_null(der);
	cr_assert_eq(len, 0);
	cr_assert(strstr(hk_err_msg(), "does not verify") != NULL, "%s",
	    hk_err_msg());
	EVP_PKEY_free(other);
	entries_free(e, 3);
}

Test(crlpub, number_must_increase)
{
	struct hk_crl_spec s;
	struct hk_crl_entry *e = entries_make(1);
	unsigned char *der = NULL;
	size_t len = 0;

	spec_user(&s, ca, p);
	cr_assert_eq(template_crl(&s, p, k, e, 1, NULL, 5, 5, &der, &len),
	    HK_ERR_INVALID);
	cr_assert_eq(template_crl(&s, p, k, e, 1, NULL, 4, 5, &der, &len),
	    HK_ERR_INVALID);
	cr_assert_null(der);
	cr_assert(strstr(hk_err_msg(), "RFC 5280 5.2.3") != NULL);
	entries_free(e, 1);
}

Test(crlpub, entries_must_be_one_sequence_each)
{
	struct hk_crlpub_entries pe;
	static const unsigned char good[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const unsigned char trailing[] = { 0x30, 0x03, 0x02, 0x01, 0x05,
	    0x00 };
	static const unsigned char set[] = { 0x31, 0x03, 0x02, 0x01, 0x05 };
	static const unsigned char shortl[] = { 0x30, 0x05, 0x02, 0x01, 0x05 };

	memset(&pe, 0, sizeof(pe));
	cr_assert_eq(hk_crlpub_entries_add(&pe, good, sizeof(good)), 0);
	cr_assert_neq(hk_crlpub_entries_add(&pe, trailing, sizeof(trailing)),
	    0);
	cr_assert_neq(hk_crlpub_entries_add(&pe, set, sizeof(set)), 0);
	cr_assert_neq(hk_crlpub_entries_add(&pe, shortl, sizeof(shortl)), 0);
	cr_assert_eq(pe.count, 1);
	cr_assert_eq(pe.len, sizeof(good));
	hk_crlpub_entries_free(&pe);
}

/* ---- the names of a partition, read back ---- */

/* Write der to dir/name. */
static void
file_put(const char *dir, const char *name, const void *der, size_t len)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	hk_test_write(path, der, len);
}

/* hk_crlpub_idp_read reads the IDP a CRL was made with, whatever the
 * length of its entries (absent, short and long forms, megabytes skipped
 * unread), and refuses what is not such a CRL. */
Test(crlpub, idp_read_without_the_entries, .timeout = 120)
{
	/* 400,000 entries: over 16 MiB, the length of its content takes 4
	 * octets (the reader skips them unparsed) */
	static const size_t ns[] = { 0, 1, 100, 30000, 400000 };
	struct hk_profile *pu = NULL;
	struct hk_crlpub_dpname want, got;
	struct hk_crl_spec s;
	struct hk_crl_entry *e;
	unsigned char *der = NULL, *cut;
	const char *dir = hk_test_dir("crlpub_idp");
	size_t i, len = 0;
	int dfd;

	cr_assert_eq(hk_profile_default(&pu), 0);
	snprintf(pu->repository_url, sizeof(pu->repository_url), "%s",
	    "http://repo.example.jp/kumamoto");
	cr_assert_geq(dfd = open(dir, O_RDONLY | O_DIRECTORY), 0);
	memset(&want, 0, sizeof(want));
	want.dn = part;
	snprintf(want.uri, sizeof(want.uri), "%s",
	    "http://repo.example.jp/kumamoto/crl/431010.crl");
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		e = entries_make(ns[i]);
		spec_user(&s, ca, pu);
		cr_assert_eq(template_crl(&s, pu, k, e, ns[i], NULL, 7, 6,
		    &der, &len), 0, "%s", hk_err_msg());
		if (ns[i] == 400000)
			cr_assert_gt(len, (size_t)16 << 20, "%zu octets", len);
		file_put(dir, "c.crl", der, len);
		cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got), 0,
		    "%zu entries: %s", ns[i], hk_err_msg());
		cr_assert(hk_crlpub_dpname_eq(&got, &want), "%zu entries: "
		    "the names read back are not the spec's", ns[i]);
		cr_assert_str_eq(got.uri, want.uri);
		hk_crlpub_dpname_clear(&got);
		/* cut short, or a byte more: refused */
		file_put(dir, "c.crl", der, len - 1);
		cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got),
		    HK_ERR_PARSE);
		cut = malloc(len + 1);
		memcpy(cut, der, len);
		cut[len] = 0;
		file_put(dir, "c.crl", cut, len + 1);
		cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got),
		    HK_ERR_PARSE);
		free(cut);
		OPENSSL_free(der);
		der = NULL;
		entries_free(e, ns[i]);
	}
	/* another partition's name differs */
	cr_assert_eq(hk_cert_partition_dn(pu, "Yatsushiro-shi", 1, 0,
	    &got.dn), 0);
	snprintf(got.uri, sizeof(got.uri), "%s", want.uri);
	cr_assert(!hk_crlpub_dpname_eq(&got, &want));
	hk_crlpub_dpname_clear(&got);
	/* not a CRL: a certificate; no file */
	cr_assert_gt(len = (size_t)i2d_X509(ca, &der), 0);
	file_put(dir, "c.crl", der, len);
	OPENSSL_free(der);
	cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got), HK_ERR_PARSE);
	cr_assert_eq(hk_crlpub_idp_read(dfd, "none.crl", &got), HK_ERR_IO);
	close(dfd);
	hk_profile_free(pu);
}

/* hk_crlpub_cert_dp reads a resident's certificate's CRL DP: generation
 * 1's and 2's partitions of a municipality, as publish names them. */
/* hk_crlpub_entries_read gives the revokedCertificates bytes of a CRL, each
 * entry as OpenSSL encodes it (the field absent: none), of the template's
 * and of OpenSSL's own CRL alike, and refuses what is not such a CRL. */
Test(crlpub, entries_read_gives_the_entry_bytes)
{
	static const size_t ns[] = { 0, 1, 3, 100, 3000 };
	struct hk_crl_spec s;
	struct hk_crl_entry *e;
	STACK_OF(X509_REVOKED) *rs;
	X509_CRL *c;
	unsigned char *der = NULL, *got = NULL, *want, *q;
	const unsigned char *pp;
	const char *dir = hk_test_dir("crlpub_entries");
	size_t i, len = 0, glen = 0, wlen;
	int dfd, j, n, ref, rlen = 0;

	cr_assert_geq(dfd = open(dir, O_RDONLY | O_DIRECTORY), 0);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (ref = 0; ref < 2; ref++) {
			e = entries_make(ns[i]);
			spec_user(&s, ca, p);
			if (ref) {
				der = reference_crl(&s, p, k, e, ns[i], 7,
				    &rlen);
				len = (size_t)rlen;
			} else
				cr_assert_eq(template_crl(&s, p, k, e, ns[i],
				    NULL, 7, 6, &der, &len), 0, "%s",
				    hk_err_msg());
			file_put(dir, "c.crl", der, len);
			cr_assert_eq(hk_crlpub_entries_read(dfd, "c.crl", &got,
			    &glen), 0, "%zu entries: %s", ns[i], hk_err_msg());
			/* what OpenSSL parses, each entry encoded again */
			pp = der;
			cr_assert_not_null(c = d2i_X509_CRL(NULL, &pp,
			    (long)len));
			rs = X509_CRL_get_REVOKED(c);
			cr_assert_eq(rs == NULL ? 0 :
			    (size_t)sk_X509_REVOKED_num(rs), ns[i]);
			for (wlen = 0, j = 0; j < sk_X509_REVOKED_num(rs); j++)
				wlen += (size_t)i2d_X509_REVOKED(
				    sk_X509_REVOKED_value(rs, j), NULL);
			want = malloc(wlen + 1);
			for (q = want, j = 0; j < sk_X509_REVOKED_num(rs); j++)
				cr_assert_gt(n = i2d_X509_REVOKED(
				    sk_X509_REVOKED_value(rs, j), &q), 0);
			cr_assert_eq(glen, wlen, "%zu entries: %zu bytes read, "
			    "%zu wanted", ns[i], glen, wlen);
			cr_assert(ns[i] == 0 ? got == NULL :
			    memcmp(got, want, wlen) == 0, "%zu entries: not "
			    "the entries' bytes", ns[i]);
			free(want);
			free(got);
			got = NULL;
			X509_CRL_free(c);
			/* cut short: refused */
			file_put(dir, "c.crl", der, len - 1);
			cr_assert_eq(hk_crlpub_entries_read(dfd, "c.crl", &got,
			    &glen), HK_ERR_PARSE);
			cr_assert_null(got);
			OPENSSL_free(der);
			der = NULL;
			entries_free(e, ns[i]);
		}
	/* not a CRL: a certificate */
	n = i2d_X509(ca, &der);
	cr_assert_gt(n, 0);
	file_put(dir, "c.crl", der, (size_t)n);
	cr_assert_eq(hk_crlpub_entries_read(dfd, "c.crl", &got, &glen),
	    HK_ERR_PARSE);
	OPENSSL_free(der);
	close(dfd);
}

Test(crlpub, cert_dp_is_the_partition_of_its_generation)
{
	struct hk_crlpub_dpname got, want;
	struct hk_basic4 b;
	X509 *x = NULL;
	unsigned char *der = NULL;
	int len, gen;

	memset(&b, 0, sizeof(b));
	strcpy(b.name, "八代　花子");
	strcpy(b.birth, "419900815");
	strcpy(b.gender, "2");
	strcpy(b.address, "熊本県八代市松江城町１番２５号");
	strcpy(b.name_flags, "00000");
	strcpy(b.addr_flags, "000000000000000");
	snprintf(p->repository_url, sizeof(p->repository_url), "%s",
	    "http://repo.example.jp/kumamoto");
	for (gen = 1; gen <= 2; gen++) {
		cr_assert_eq(hk_cert_build_user(p, ca, gen, k,
		    "Yatsushiro-shi", "432024", &b,
		        hk_test_at("2026-04-02T00:00:00Z"),
		    0, &x), 0, "%s", hk_err_msg());
		cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
		cr_assert_gt(len = i2d_X509(x, &der), 0);
		cr_assert_eq(hk_crlpub_cert_dp(der, (size_t)len, &got), 0,
		    "%s", hk_err_msg());
		memset(&want, 0, sizeof(want));
		cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", gen, 0,
		    &want.dn), 0);
		hk_cert_partition_uri(p, "432024", gen, want.uri,
		    sizeof(want.uri));
		cr_assert(hk_crlpub_dpname_eq(&got, &want), "generation %d",
		    gen);
		hk_crlpub_dpname_clear(&want);
		/* and not the other romaji's */
		cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-city", gen,
		    0, &want.dn), 0);
		hk_cert_partition_uri(p, "432024", gen, want.uri,
		    sizeof(want.uri));
		cr_assert(!hk_crlpub_dpname_eq(&got, &want));
		hk_crlpub_dpname_clear(&want);
		hk_crlpub_dpname_clear(&got);
		OPENSSL_free(der);
		der = NULL;
		X509_free(x);
		x = NULL;
	}
	/* not a certificate */
	cr_assert_eq(hk_crlpub_cert_dp((const unsigned char *)"\x30\x00", 2,
	    &got), HK_ERR_PARSE);
	cr_assert_null(got.dn);
}

/* A certificate whose cRLDistributionPoints is dps, signed with k. */
static unsigned char *
cert_with_dps(CRL_DIST_POINTS *dps, size_t *len)
{
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int l;

	cr_assert_not_null(x);
	cr_assert_eq(X509_set_version(x, 2), 1);
	cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	cr_assert_eq(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);
	cr_assert_eq(X509_set_subject_name(x, X509_get_subject_name(ca)), 1);
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	cr_assert_eq(X509_set_pubkey(x, k), 1);
	cr_assert_eq(X509_add1_ext_i2d(x, NID_crl_distribution_points, dps,
	    0, X509V3_ADD_DEFAULT), 1);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	cr_assert_gt(l = i2d_X509(x, &der), 0);
	X509_free(x);
	*len = (size_t)l;
	return der;
}

/* A fullName: the names of types[] in that order, GEN_DIRNAME the
 * partition's name (dns[] when given), GEN_URI uri. */
static DIST_POINT_NAME *
full_name(const int *types, X509_NAME *const *dns, size_t n,
    const char *uri)
{
	DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
	GENERAL_NAME *gn;
	size_t i;

	cr_assert_not_null(dpn);
	dpn->type = 0;
	cr_assert_not_null(dpn->name.fullname = GENERAL_NAMES_new());
	for (i = 0; i < n; i++) {
		cr_assert_not_null(gn = GENERAL_NAME_new());
		if (types[i] == GEN_DIRNAME)
			GENERAL_NAME_set0_value(gn, GEN_DIRNAME,
			    X509_NAME_dup(dns != NULL ? dns[i] : part));
		else {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			cr_assert_eq(ASN1_STRING_set(s, uri, -1), 1);
			GENERAL_NAME_set0_value(gn, GEN_URI, s);
		}
		cr_assert(sk_GENERAL_NAME_push(dpn->name.fullname, gn) > 0);
	}
	return dpn;
}

/* The names of a fullName are read whatever their order: the URI before
 * the directoryName too; of two directoryNames the first; a
 * cRLDistributionPoints with no point is no partition. */
Test(crlpub, cert_dp_names_in_any_order)
{
	static const int uri_first[] = { GEN_URI, GEN_DIRNAME };
	static const int two_dn[] = { GEN_DIRNAME, GEN_DIRNAME };
	const char *uri = "http://repo.example.jp/kumamoto/crl/431010.crl";
	CRL_DIST_POINTS *dps;
	DIST_POINT *dp;
	X509_NAME *other = NULL, *dns[2];
	struct hk_crlpub_dpname got, want;
	unsigned char *der;
	size_t len;

	memset(&want, 0, sizeof(want));
	want.dn = part;
	snprintf(want.uri, sizeof(want.uri), "%s", uri);
	/* URI, then directoryName */
	cr_assert_not_null(dps = CRL_DIST_POINTS_new());
	cr_assert_not_null(dp = DIST_POINT_new());
	dp->distpoint = full_name(uri_first, NULL, 2, uri);
	cr_assert(sk_DIST_POINT_push(dps, dp) > 0);
	der = cert_with_dps(dps, &len);
	CRL_DIST_POINTS_free(dps);
	cr_assert_eq(hk_crlpub_cert_dp(der, len, &got), 0, "%s",
	    hk_err_msg());
	cr_assert(hk_crlpub_dpname_eq(&got, &want));
	cr_assert_str_eq(got.uri, uri);
	hk_crlpub_dpname_clear(&got);
	OPENSSL_free(der);
	/* two directoryNames: the first is the partition */
	cr_assert_eq(hk_cert_partition_dn(p, "Yatsushiro-shi", 1, 0, &other),
	    0);
	dns[0] = part;
	dns[1] = other;
	cr_assert_not_null(dps = CRL_DIST_POINTS_new());
	cr_assert_not_null(dp = DIST_POINT_new());
	dp->distpoint = full_name(two_dn, dns, 2, NULL);
	cr_assert(sk_DIST_POINT_push(dps, dp) > 0);
	der = cert_with_dps(dps, &len);
	CRL_DIST_POINTS_free(dps);
	cr_assert_eq(hk_crlpub_cert_dp(der, len, &got), 0, "%s",
	    hk_err_msg());
	want.uri[0] = '\0';
	cr_assert(hk_crlpub_dpname_eq(&got, &want), "not the first "
	    "directoryName");
	hk_crlpub_dpname_clear(&got);
	OPENSSL_free(der);
	X509_NAME_free(other);
	/* no distribution point at all */
	cr_assert_not_null(dps = CRL_DIST_POINTS_new());
	der = cert_with_dps(dps, &len);
	CRL_DIST_POINTS_free(dps);
	cr_assert_eq(hk_crlpub_cert_dp(der, len, &got), HK_ERR_PARSE);
	cr_assert_null(got.dn);
	OPENSSL_free(der);
}

/* A CRL signed with k whose issuingDistributionPoint is idp. */
static unsigned char *
crl_with_idp(ISSUING_DIST_POINT *idp, size_t *len)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	unsigned char *der = NULL;
	int l;

	cr_assert_not_null(c);
	cr_assert_eq(X509_CRL_set_version(c, 1), 1);
	cr_assert_eq(X509_CRL_set_issuer_name(c, X509_get_subject_name(ca)),
	    1);
	cr_assert_not_null(X509_gmtime_adj(t, 0));
	cr_assert_eq(X509_CRL_set1_lastUpdate(c, t), 1);
	cr_assert_not_null(X509_gmtime_adj(t, 3600));
	cr_assert_eq(X509_CRL_set1_nextUpdate(c, t), 1);
	cr_assert_eq(X509_CRL_add1_ext_i2d(c, NID_issuing_distribution_point,
	    idp, 1, X509V3_ADD_DEFAULT), 1);
	cr_assert_gt(X509_CRL_sign(c, k, EVP_sha256()), 0);
	cr_assert_gt(l = i2d_X509_CRL(c, &der), 0);
	ASN1_TIME_free(t);
	X509_CRL_free(c);
	*len = (size_t)l;
	return der;
}

/* An IDP's names are read in any order; an IDP without a
 * distributionPoint (scope only) names no partition. */
Test(crlpub, idp_read_names_in_any_order_and_none)
{
	static const int uri_first[] = { GEN_URI, GEN_DIRNAME };
	const char *uri = "http://repo.example.jp/kumamoto/crl/431010.crl";
	const char *dir = hk_test_dir("crlpub_idp_order");
	ISSUING_DIST_POINT *idp;
	struct hk_crlpub_dpname got, want;
	unsigned char *der;
	size_t len;
	int dfd;

	cr_assert_geq(dfd = open(dir, O_RDONLY | O_DIRECTORY), 0);
	memset(&want, 0, sizeof(want));
	want.dn = part;
	snprintf(want.uri, sizeof(want.uri), "%s", uri);
	cr_assert_not_null(idp = ISSUING_DIST_POINT_new());
	idp->distpoint = full_name(uri_first, NULL, 2, uri);
	idp->onlyuser = 0xff;
	der = crl_with_idp(idp, &len);
	ISSUING_DIST_POINT_free(idp);
	file_put(dir, "c.crl", der, len);
	OPENSSL_free(der);
	cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got), 0, "%s",
	    hk_err_msg());
	cr_assert(hk_crlpub_dpname_eq(&got, &want));
	hk_crlpub_dpname_clear(&got);
	/* onlyContainsCACerts alone: no names */
	cr_assert_not_null(idp = ISSUING_DIST_POINT_new());
	idp->onlyCA = 0xff;
	der = crl_with_idp(idp, &len);
	ISSUING_DIST_POINT_free(idp);
	file_put(dir, "c.crl", der, len);
	OPENSSL_free(der);
	cr_assert_eq(hk_crlpub_idp_read(dfd, "c.crl", &got), HK_ERR_PARSE);
	cr_assert_null(got.dn);
	close(dfd);
}

/* ---- the entry cache against a real store ---- */

static struct hk_store *st;
static char sdb[4000];			/* its file */
static char cdir[4000];
static int nserial;
static unsigned char issuer_byte = 0x11;	/* the issuing key of the
						 * certificates revoked next:
						 * 20 such octets */

static struct hk_store *
store_fresh(const char *name)
{
	snprintf(sdb, sizeof(sdb), "%.3900s/store.db", hk_test_dir(name));
	snprintf(cdir, sizeof(cdir), "%.3900s/crlcache", hk_test_dir(name));
	cr_assert_eq(hk_store_open(sdb, 1, &st), 0, "%s", hk_err_msg());
	nserial = 0;
	return st;
}

static int entry_garbage;		/* 1: the next rows' entry is no
					 * SEQUENCE */

/* A valid certificate of muni expiring at not_after, revoked now. */
static void
revoked_cert(const char *muni, time_t not_after, int reason)
{
	static const unsigned char key[32] = "0123456789abcdef0123456789abcde";
	struct hk_store_cert c;
	struct hk_crl_entry e;
	ASN1_INTEGER *ai;
	BIGNUM *bn;
	unsigned char *d = NULL;
	char id[32];
	size_t dl = 0;

	memset(&c, 0, sizeof(c));
	c.serial[0] = 0x41;
	c.serial[1] = (unsigned char)++nserial;
	memset(c.serial + 2, 0x33, 18);
	c.serial_len = 20;
	snprintf(c.municipality, sizeof(c.municipality), "%s", muni);
	snprintf(id, sizeof(id), "resident-%d", nserial);
	cr_assert_eq(hk_store_resident_key(key, id, c.resident_key), 0);
	memset(c.issuer, issuer_byte, 20);
	c.issuer_len = 20;
	c.not_before = hk_test_at("2026-04-01T00:00:00Z");
	c.not_after = not_after;
	c.tbs = (const unsigned char *)"tbs";
	c.tbs_len = 3;
	cr_assert_eq(hk_store_cert_reserve(st, &c), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_complete(st, c.serial, c.serial_len,
	    (const unsigned char *)"der", 3), 0);
	bn = BN_bin2bn(c.serial, 20, NULL);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	e.serial = ai;
	e.revoked = hk_test_at("2026-04-05T00:00:00Z") + nserial;
	e.reason = (enum hk_crl_reason)reason;
	cr_assert_eq(hk_crl_entry_der(&e, &d, &dl), 0);
	if (entry_garbage)		/* an OCTET STRING, no entry */
		memcpy(d, "\x04\x01\x00", dl = 3);
	cr_assert_eq(hk_store_cert_revoke(st, c.serial, c.serial_len, reason,
	    e.revoked, d, dl), 0, "%s", hk_err_msg());
	OPENSSL_free(d);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

static void
ctx_gen(struct hk_crlcache_ctx *cc, const char *now, int gen,
    const unsigned char *issuer)
{
	memset(cc, 0, sizeof(*cc));
	cc->store = st;
	cc->issuer = issuer;
	cc->issuer_len = 20;
	cc->gen = gen;
	cc->dir = cdir;
	cc->store_id = "test-store";
	cc->now = hk_test_at(now);
	cr_assert_eq(hk_store_crl_seq_max(st, &cc->upto), 0);
}

static const unsigned char key11[20] = {
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
static const unsigned char key22[20] = {
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };

/* Generation 1, whose key is 0x11... */
static void
ctx_now(struct hk_crlcache_ctx *cc, const char *now)
{
	ctx_gen(cc, now, 1, key11);
}

static void
get(struct hk_crlcache_ctx *cc, const char *code, int want_rebuilt,
    size_t want_count, struct hk_crlpub_entries *e)
{
	struct hk_crlcache *c = NULL;
	const char *codes[1] = { code };
	int rebuilt = -1;

	cr_assert_eq(hk_crlcache_open(cc, codes, 1, &c), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_crlcache_get(c, 0, e, &rebuilt), 0, "%s",
	    hk_err_msg());
	hk_crlcache_free(c);
	cr_assert_eq(rebuilt, want_rebuilt, "%s: rebuilt %d, wanted %d", code,
	    rebuilt, want_rebuilt);
	cr_assert_eq(e->count, want_count, "%s: %zu entries, wanted %zu",
	    code, e->count, want_count);
}

static int
same(const struct hk_crlpub_entries *a, const struct hk_crlpub_entries *b)
{
	return a->len == b->len && a->count == b->count && (a->len == 0 ||
	    memcmp(a->buf + HK_CRLPUB_ROOM, b->buf + HK_CRLPUB_ROOM,
	    a->len) == 0);
}

static void
rm_cache(const char *code)
{
	char path[4100];

	snprintf(path, sizeof(path), "%s/%s.entries", cdir, code);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.head", cdir, code);
	unlink(path);
}

Test(crlpub, cache_append_check_and_rebuild, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlpub_entries a, b;
	time_t far = hk_test_at("2029-04-01T00:00:00Z");
	char path[4100];
	unsigned char *buf;
	size_t len;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	store_fresh("crlpub_cache");
	revoked_cert("431010", far, 1);
	revoked_cert("432024", far, 3);
	revoked_cert("431010", far, 4);
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	/* first: built from the store, each partition its own entries */
	get(&cc, "431010", 1, 2, &a);
	hk_crlpub_entries_free(&a);
	get(&cc, "432024", 1, 1, &a);
	hk_crlpub_entries_free(&a);
	get(&cc, "435015", 1, 0, &a);
	hk_crlpub_entries_free(&a);
	/* again: read from the cache */
	get(&cc, "431010", 0, 2, &a);
	/* a new revocation is appended, not rebuilt */
	revoked_cert("431010", far, 5);
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	get(&cc, "431010", 0, 3, &b);
	cr_assert_eq(memcmp(a.buf + HK_CRLPUB_ROOM, b.buf + HK_CRLPUB_ROOM,
	    a.len), 0, "the old entries come first, unchanged");
	hk_crlpub_entries_free(&a);
	/* the appended cache reads back whole, not rebuilt */
	get(&cc, "431010", 0, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	/* deleted: rebuilt, the same bytes */
	rm_cache("431010");
	get(&cc, "431010", 1, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	/* a flipped byte: rebuilt, the same bytes */
	snprintf(path, sizeof(path), "%s/431010.entries", cdir);
	buf = hk_test_read(path, &len);
	buf[len / 2] ^= 0x01;
	hk_test_write(path, buf, len);
	free(buf);
	get(&cc, "431010", 1, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	/* a damaged header: rebuilt */
	snprintf(path, sizeof(path), "%s/431010.head", cdir);
	hk_test_write(path, "hanko-crlcache 3\n", 17);
	get(&cc, "431010", 1, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	/* an append whose header never followed (a crash): cut, not used */
	snprintf(path, sizeof(path), "%s/431010.entries", cdir);
	buf = hk_test_read(path, &len);
	buf = realloc(buf, len + 5);
	memcpy(buf + len, "\x30\x03\x02\x01\x07", 5);
	hk_test_write(path, buf, len + 5);
	free(buf);
	get(&cc, "431010", 0, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	/* another store's cache: rebuilt */
	cc.store_id = "another-store";
	get(&cc, "431010", 1, 3, &a);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	hk_crlpub_entries_free(&b);
	hk_store_close(st);
}

/* A row that cannot be an entry, revoked after good ones appended to a
 * cache: the partition fails, every run, and is not published without
 * it (nor the header moved past it). */
Test(crlpub, cache_append_stops_at_a_bad_row, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlcache *c = NULL;
	struct hk_crlpub_entries a;
	const char *codes[1] = { "431010" };
	time_t far = hk_test_at("2029-04-01T00:00:00Z");
	int i, rebuilt;

	memset(&a, 0, sizeof(a));
	store_fresh("crlpub_cache_bad");
	revoked_cert("431010", far, 1);
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	get(&cc, "431010", 1, 1, &a);
	hk_crlpub_entries_free(&a);
	revoked_cert("431010", far, 3);
	entry_garbage = 1;
	revoked_cert("431010", far, 4);
	entry_garbage = 0;
	for (i = 0; i < 2; i++) {
		ctx_now(&cc, "2026-04-06T00:00:00Z");
		cr_assert_eq(hk_crlcache_open(&cc, codes, 1, &c), 0, "%s",
		    hk_err_msg());
		rebuilt = -1;
		cr_assert_eq(hk_crlcache_get(c, 0, &a, &rebuilt),
		    HK_ERR_STATE, "run %d: published without the bad row", i);
		cr_assert_eq(a.count, 0);
		hk_crlcache_free(c);
	}
	hk_store_close(st);
}

Test(crlpub, expired_entry_dropped_only_after_expiry, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlpub_entries a;

	memset(&a, 0, sizeof(a));
	store_fresh("crlpub_expiry");
	revoked_cert("431010", hk_test_at("2026-06-01T00:00:00Z"), 1);
	revoked_cert("431010", hk_test_at("2029-04-01T00:00:00Z"), 2);
	ctx_now(&cc, "2026-05-31T23:59:59Z");
	get(&cc, "431010", 1, 2, &a);
	hk_crlpub_entries_free(&a);
	/* at the second it expires it is still listed */
	ctx_now(&cc, "2026-06-01T00:00:00Z");
	get(&cc, "431010", 0, 2, &a);
	hk_crlpub_entries_free(&a);
	/* after: the cache holds an expired entry, rebuilt without it */
	ctx_now(&cc, "2026-06-01T00:00:01Z");
	get(&cc, "431010", 1, 1, &a);
	hk_crlpub_entries_free(&a);
	get(&cc, "431010", 0, 1, &a);
	hk_crlpub_entries_free(&a);
	hk_store_close(st);
}

/* A store restored from a backup (docs/publish.md "Speed"): the caches
 * were made from rows 1..3, the backup holds row 1 only, and two
 * revocations after the restore take seqs 2 and 3 again (AUTOINCREMENT
 * continues from the backup). The headers' seq is not ahead of the store,
 * but the row at it is another entry: every cache is rebuilt, and lists
 * what the store holds, not what it held. */
Test(crlpub, cache_of_a_restored_store_rebuilt, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlpub_entries a, b;
	time_t far = hk_test_at("2029-04-01T00:00:00Z");
	unsigned char *backup;
	char path[4100];
	size_t blen;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	store_fresh("crlpub_restore");
	revoked_cert("431010", far, 4);		/* seq 1: in the backup */
	hk_store_close(st);
	backup = hk_test_read(sdb, &blen);
	cr_assert_eq(hk_store_open(sdb, 0, &st), 0, "%s", hk_err_msg());
	revoked_cert("431010", far, 4);		/* seq 2 */
	revoked_cert("432024", far, 4);		/* seq 3 */
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	get(&cc, "431010", 1, 2, &a);
	hk_crlpub_entries_free(&a);
	get(&cc, "432024", 1, 1, &a);
	hk_crlpub_entries_free(&a);
	get(&cc, "431010", 0, 2, &a);		/* usable while unchanged */
	hk_crlpub_entries_free(&a);
	hk_store_close(st);
	/* restored: the backup over the store */
	hk_test_write(sdb, backup, blen);
	free(backup);
	snprintf(path, sizeof(path), "%s-wal", sdb);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", sdb);
	unlink(path);
	cr_assert_eq(hk_store_open(sdb, 0, &st), 0, "%s", hk_err_msg());
	revoked_cert("431010", far, 1);		/* seq 2 again */
	revoked_cert("431010", far, 1);		/* seq 3 again */
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	cr_assert_eq(cc.upto, 3, "the store is at seq 3 again");
	/* 431010: rows 1, 2, 3 of the restored store (not the old 1, 2) */
	get(&cc, "431010", 1, 3, &a);
	/* 432024: its row 3 is gone */
	get(&cc, "432024", 1, 0, &b);
	hk_crlpub_entries_free(&b);
	/* the same bytes as a cache built afresh */
	rm_cache("431010");
	get(&cc, "431010", 1, 3, &b);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&b);
	/* and from now on used as usual */
	get(&cc, "431010", 0, 3, &b);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	hk_crlpub_entries_free(&b);
	hk_store_close(st);
}

/* Open the caches of three partitions in one run (one bulk pass). */
static void
get3(struct hk_crlcache_ctx *cc, const int want_rebuilt[3],
    const size_t want_count[3], struct hk_crlpub_entries e[3])
{
	static const char *codes[3] = { "431010", "432024", "435015" };
	struct hk_crlcache *c = NULL;
	int i, rebuilt;

	cr_assert_eq(hk_crlcache_open(cc, codes, 3, &c), 0, "%s",
	    hk_err_msg());
	for (i = 0; i < 3; i++) {
		rebuilt = -1;
		cr_assert_eq(hk_crlcache_get(c, (size_t)i, &e[i], &rebuilt),
		    0, "%s", hk_err_msg());
		cr_assert_eq(rebuilt, want_rebuilt[i], "%s: rebuilt %d",
		    codes[i], rebuilt);
		cr_assert_eq(e[i].count, want_count[i], "%s: %zu entries",
		    codes[i], e[i].count);
	}
	hk_crlcache_free(c);
}

Test(crlpub, cache_bulk_pass_routes_each_row_to_its_partition, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlpub_entries e[3], one;
	time_t far = hk_test_at("2029-04-01T00:00:00Z");
	static const int all[3] = { 1, 1, 1 }, none[3] = { 0, 0, 0 };
	static const int first[3] = { 1, 0, 0 };
	static const size_t c1[3] = { 2, 1, 0 }, c2[3] = { 2, 2, 0 };
	static const size_t c3[3] = { 1, 2, 0 };
	int i;

	memset(e, 0, sizeof(e));
	memset(&one, 0, sizeof(one));
	store_fresh("crlpub_bulk");
	revoked_cert("431010", hk_test_at("2026-06-01T00:00:00Z"), 1);
	revoked_cert("432024", far, 3);
	revoked_cert("431010", far, 4);
	revoked_cert("431001", far, 4);	/* not a partition of the run */
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	get3(&cc, all, c1, e);
	/* the same bytes as each partition rebuilt on its own */
	rm_cache("431010");
	get(&cc, "431010", 1, 2, &one);
	cr_assert(same(&one, &e[0]));
	hk_crlpub_entries_free(&one);
	for (i = 0; i < 3; i++)
		hk_crlpub_entries_free(&e[i]);
	/* one new revocation: appended to its partition, nothing rebuilt */
	revoked_cert("432024", far, 5);
	ctx_now(&cc, "2026-04-06T00:00:00Z");
	get3(&cc, none, c2, e);
	for (i = 0; i < 3; i++)
		hk_crlpub_entries_free(&e[i]);
	/* an expiry in one partition rebuilds that one only */
	ctx_now(&cc, "2026-06-02T00:00:00Z");
	get3(&cc, first, c3, e);
	for (i = 0; i < 3; i++)
		hk_crlpub_entries_free(&e[i]);
	hk_store_close(st);
}

/* Two issuing generations (docs/publish.md "Issuing generations"): each
 * key's caches hold the entries of the certificates it issued, under the
 * partition ids 431010 and 431010-2, and a header of the other key is not
 * used. */
Test(crlpub, cache_per_issuing_generation, .timeout = 60)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlpub_entries a, b;
	time_t far = hk_test_at("2029-04-01T00:00:00Z");
	char path[4100], path2[4100];
	unsigned char *buf;
	size_t len;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	store_fresh("crlpub_generations");
	issuer_byte = 0x11;
	revoked_cert("431010", far, 1);
	revoked_cert("431010", far, 3);
	issuer_byte = 0x22;
	revoked_cert("431010", far, 4);
	revoked_cert("432024", far, 5);
	issuer_byte = 0x11;
	ctx_gen(&cc, "2026-04-06T00:00:00Z", 1, key11);
	get(&cc, "431010", 1, 2, &a);
	get(&cc, "432024", 1, 0, &b);
	hk_crlpub_entries_free(&b);
	ctx_gen(&cc, "2026-04-06T00:00:00Z", 2, key22);
	get(&cc, "431010", 1, 1, &b);
	cr_assert(!same(&a, &b));
	hk_crlpub_entries_free(&b);
	get(&cc, "432024", 1, 1, &b);
	hk_crlpub_entries_free(&b);
	snprintf(path, sizeof(path), "%s/431010-2.head", cdir);
	cr_assert_eq(access(path, F_OK), 0, "%s: generation 2's cache", path);
	buf = hk_test_read(path, &len);
	cr_assert_not_null(memmem(buf, len, "\npartition 431010-2\nissuer "
	    "2222222222222222222222222222222222222222\n", 60));
	/* a new revocation under key 2 leaves generation 1's cache alone */
	issuer_byte = 0x22;
	revoked_cert("431010", far, 2);
	issuer_byte = 0x11;
	ctx_gen(&cc, "2026-04-06T00:00:00Z", 1, key11);
	get(&cc, "431010", 0, 2, &b);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&b);
	ctx_gen(&cc, "2026-04-06T00:00:00Z", 2, key22);
	get(&cc, "431010", 0, 2, &b);
	hk_crlpub_entries_free(&b);
	/* generation 1's own header and entries, but naming key 2: only
	 * the issuer line differs, and it is not used (rebuilt, the same
	 * entries) */
	free(buf);
	snprintf(path2, sizeof(path2), "%s/431010.head", cdir);
	buf = hk_test_read(path2, &len);
	{
		char *at = memmem(buf, len, "\nissuer 1111", 12);

		cr_assert_not_null(at, "generation 1's header names key 1");
		memset(at + 8, '2', 40);
	}
	hk_test_write(path2, buf, len);
	free(buf);
	ctx_gen(&cc, "2026-04-06T00:00:00Z", 1, key11);
	get(&cc, "431010", 1, 2, &b);
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&b);
	get(&cc, "431010", 0, 2, &b);		/* and now it is */
	cr_assert(same(&a, &b));
	hk_crlpub_entries_free(&a);
	hk_crlpub_entries_free(&b);
	hk_store_close(st);
}

/* ---- the ARLs publish may release ---- */

/* A batch of ARLs 1..10 (one a day from 04-02, each valid 72 h) and an
 * emergency ARL 11 on 04-03 (docs/publish.md "After an emergency ARL"):
 * ARL 11 is in effect from its thisUpdate on, also after it expired, and
 * the horizon from 11 on is its nextUpdate, not batch 1's. */
Test(crlpub, arl_in_effect_and_horizon_from_a_number)
{
	time_t d0 = hk_test_at("2026-04-02T11:00:00Z"), h;
	struct hk_store_arl a;
	uint64_t n, i;

	store_fresh("crlpub_arls");
	cr_assert_eq(hk_store_arl_in_effect(st, d0, &n), 0);
	cr_assert_eq(n, 0, "none stored");
	cr_assert_eq(hk_store_arl_horizon(st, 0, &h), 0);
	cr_assert_eq(h, 0);
	for (i = 1; i <= 10; i++)
		cr_assert_eq(hk_store_arl_add(st, i, d0 + (time_t)(i - 1) *
		    86400, d0 + (time_t)(i + 2) * 86400,
		    (const unsigned char *)"a", 1, 0), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_arl_add(st, 11,
	    hk_test_at("2026-04-03T11:30:00Z"),
	    hk_test_at("2026-04-06T11:30:00Z"), (const unsigned char *)"e", 1,
	        0), 0);
	cr_assert_eq(hk_store_arl_in_effect(st, d0 - 1, &n), 0);
	cr_assert_eq(n, 0, "before the first thisUpdate");
	cr_assert_eq(hk_store_arl_in_effect(st,
	    hk_test_at("2026-04-03T11:00:00Z"),
	    &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(hk_store_arl_in_effect(st,
	    hk_test_at("2026-04-03T11:30:00Z"),
	    &n), 0);
	cr_assert_eq(n, 11, "the emergency ARL from its thisUpdate");
	cr_assert_eq(hk_store_arl_in_effect(st,
	    hk_test_at("2026-04-07T03:00:00Z"),
	    &n), 0);
	cr_assert_eq(n, 11, "and after it expired");
	/* the ARL of the day on 04-07 is batch 1's ARL 5: below 11 */
	cr_assert_eq(hk_store_arl_current(st,
	    hk_test_at("2026-04-07T03:00:00Z"), &a),
	    0);
	cr_assert_eq(a.number, 5);
	hk_store_arl_clear(&a);
	cr_assert_eq(hk_store_arl_horizon(st, 0, &h), 0);
	cr_assert_eq(h, hk_test_at("2026-04-14T11:00:00Z"), "all: ARL 10's");
	cr_assert_eq(hk_store_arl_horizon(st, 11, &h), 0);
	cr_assert_eq(h, hk_test_at("2026-04-06T11:30:00Z"),
	    "from 11: ARL 11's");
	cr_assert_eq(hk_store_arl_horizon(st, 12, &h), 0);
	cr_assert_eq(h, 0, "none from 12");
	/* ARL 11 by its number, after it expired: what publish keeps when
	 * the current set's arl.crl cannot be read */
	cr_assert_eq(hk_store_arl_get(st, 11, &a), 0, "%s", hk_err_msg());
	cr_assert(a.number == 11 && a.len == 1 && a.der[0] == 'e' &&
	    a.this_update == hk_test_at("2026-04-03T11:30:00Z") &&
	    a.next_update == hk_test_at("2026-04-06T11:30:00Z"));
	hk_store_arl_clear(&a);
	cr_assert_eq(hk_store_arl_get(st, 12, &a), HK_ERR_NOT_FOUND);
	cr_assert_null(a.der);
	cr_assert_eq(hk_store_arl_get(st, 0, &a), HK_ERR_INVALID);
	hk_store_close(st);
}

/* ---- repository sets ---- */

static void
put(struct hk_repo_writer *w, const char *path, const char *text,
    uint64_t number)
{
	struct hk_repo_file crl;

	memset(&crl, 0, sizeof(crl));
	crl.this_update = hk_test_at("2026-04-20T00:00:00Z");
	crl.next_update = hk_test_at("2026-04-23T00:00:00Z");
	crl.number = number;
	cr_assert_eq(hk_repo_add(w, path, text, strlen(text), number ? &crl :
	    NULL), 0, "%s", hk_err_msg());
}

Test(crlpub, repo_sets_swap_read_and_prune)
{
	char repo[4200], path[4300];
	struct hk_repo_writer *w;
	struct hk_repo_set *s = NULL, *old = NULL;
	const struct hk_repo_file *f;
	unsigned char *buf;
	size_t len;
	unsigned long n;
	int i;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("crlpub_repo"));
	cr_assert_eq(hk_repo_open(repo, &s), HK_ERR_NOT_FOUND);
	for (i = 1; i <= 5; i++) {
		char text[32];

		cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
		snprintf(text, sizeof(text), "set %d", i);
		put(w, "root/gen-1.cer", text, 0);
		put(w, "crl/431010.crl", text, (uint64_t)i);
		put(w, "arl.crl", "arl", 9);
		cr_assert_eq(hk_repo_add(w, "../x", "x", 1, NULL),
		    HK_ERR_INVALID);
		cr_assert_eq(hk_repo_add(w, "MANIFEST", "x", 1, NULL),
		    HK_ERR_INVALID);
		cr_assert_eq(hk_repo_add(w, "arl.crl", "x", 1, NULL),
		    HK_ERR_EXISTS);
		cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
		hk_repo_abort(w);
		cr_assert_eq(n, (unsigned long)i);
		if (i == 1)
			cr_assert_eq(hk_repo_open(repo, &old), 0);
	}
	cr_assert_eq(hk_repo_open(repo, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(s->n, 5);
	cr_assert_eq(s->nfiles, 3);
	cr_assert_not_null(f = hk_repo_find(s, "crl/431010.crl"));
	cr_assert(f->is_crl);
	cr_assert_eq(f->number, 5);
	cr_assert_eq(f->next_update, hk_test_at("2026-04-23T00:00:00Z"));
	cr_assert_eq(hk_repo_read(s, "root/gen-1.cer", &buf, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(buf, "set 5", 5), 0);
	free(buf);
	/* sets 3 and 4 kept, 1 and 2 removed; a reader of set 1 keeps its
	 * MANIFEST (read at open) */
	snprintf(path, sizeof(path), "%s.sets/4/MANIFEST", repo);
	cr_assert_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s.sets/3/MANIFEST", repo);
	cr_assert_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s.sets/2", repo);
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(old->n, 1);
	cr_assert_eq(hk_repo_find(old, "crl/431010.crl")->number, 1);
	hk_repo_close(old);
	/* a changed file is caught against its MANIFEST line */
	snprintf(path, sizeof(path), "%s.sets/5/arl.crl", repo);
	hk_test_write(path, "ARL", 3);
	cr_assert_eq(hk_repo_read(s, "arl.crl", &buf, &len), HK_ERR_VERIFY);
	hk_repo_close(s);
	/* an uncommitted set leaves nothing visible */
	cr_assert_eq(hk_repo_begin(repo, &w), 0);
	put(w, "root/gen-1.cer", "half", 0);
	hk_repo_abort(w);
	cr_assert_eq(hk_repo_open(repo, &s), 0);
	cr_assert_eq(s->n, 5);
	hk_repo_close(s);
	/* a repo that is a folder is refused */
	snprintf(path, sizeof(path), "%s/plain", hk_test_dir("crlpub_repo2"));
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(hk_repo_begin(path, &w), HK_ERR_STATE);
	cr_assert_eq(hk_repo_open(path, &s), HK_ERR_STATE);
}

Test(crlpub, repo_access_and_types)
{
	cr_assert(hk_repo_public("arl.crl"));
	cr_assert(hk_repo_public("root/gen-1.cer"));
	cr_assert(hk_repo_public("cross/pair-0011223344556677.der"));
	cr_assert(!hk_repo_public("crl/431010.crl"));
	cr_assert(!hk_repo_public("MANIFEST"));
	cr_assert_str_eq(hk_repo_content_type("root/gen-1.cer"),
	    "application/pkix-cert");
	cr_assert_str_eq(hk_repo_content_type("crl/431010.crl"),
	    "application/pkix-crl");
	cr_assert_str_eq(hk_repo_content_type("root/roots.p7c"),
	    "application/pkcs7-mime");
	cr_assert_str_eq(hk_repo_content_type("cross/pair-0011.der"),
	    "application/octet-stream");
}
