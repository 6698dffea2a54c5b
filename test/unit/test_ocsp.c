/*
 * test_ocsp.c - the network side of OCSP (online/ocsp.h, docs/ocsp.md):
 * the strict request parser over hostile requests made with OpenSSL's own
 * OCSP client API, the signing job's strict decoder, hk_ocsp_answer over a
 * small state made here (an issuing CA and a responder certificate with
 * software keys, a store with certificates and stored responses), and the
 * store's choice of the responses due for refresh. The key holder's
 * signing runs through the token in test/integration/t_online_ocsp.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "atomic.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "ocsp.h"
#include "state.h"
#include "store.h"
#include "testutil.h"

#define NOW	1795000000	/* 2026-11-19 */
#define DAY	86400

static const unsigned char E[3] = { 0x30, 0x01, 0x00 };	/* CRL entry */

/* What a test state holds. */
struct fixture {
	char dir[4096];			/* the state folder */
	EVP_PKEY *ikey, *rkey, *okey;	/* issuing, responder, other */
	X509 *issuing, *responder, *other;
	unsigned char keyid[20];	/* the issuing CA's SKI */
	unsigned char rfp[32];		/* SHA-256 of the responder's
					 * certificate: what its responses
					 * record */
};

static struct fixture F;

/* serial n of the tests: 20 octets, 0x40 first, as the issuer makes */
static void
serial_of(int n, unsigned char s[20])
{
	memset(s, 0x5a, 20);
	s[0] = 0x40;
	s[1] = (unsigned char)n;
}

static ASN1_INTEGER *
asn1_serial(int n)
{
	unsigned char s[20];
	BIGNUM *bn;
	ASN1_INTEGER *ai;

	serial_of(n, s);
	cr_assert_not_null(bn = BN_bin2bn(s, 20, NULL));
	cr_assert_not_null(ai = BN_to_ASN1_INTEGER(bn, NULL));
	BN_free(bn);
	return ai;
}

static EVP_PKEY *
eckey(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	cr_assert_not_null(k);
	return k;
}

static void
ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	cr_assert_not_null(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value),
	    "%s", value);
	cr_assert(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for pub named cn, by issuer (NULL: self-signed). */
static X509 *
cert(const char *cn, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey, int ca,
    time_t nb)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	cr_assert(X509_set_version(x, X509_VERSION_3));
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &(time_t){ nb });
	X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &(time_t){ nb });
	X509_set_pubkey(x, pub);
	ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (ca) {
		ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		ext(x, issuer, NID_ext_key_usage, "OCSPSigning");
	}
	cr_assert(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

static void
reserve(struct hk_store *s, int n, const char *resident, time_t na)
{
	struct hk_store_cert c;
	static const unsigned char key[32] = "0123456789abcdef0123456789abcde";

	memset(&c, 0, sizeof(c));
	serial_of(n, c.serial);
	c.serial_len = 20;
	snprintf(c.municipality, sizeof(c.municipality), "431010");
	cr_assert_eq(hk_store_resident_key(key, resident, c.resident_key), 0);
	memcpy(c.issuer, F.keyid, 20);
	c.issuer_len = 20;
	c.not_before = NOW - 30 * DAY;
	c.not_after = na;
	cr_assert_eq(hk_store_cert_reserve(s, &c), 0, "%s", hk_err_msg());
}

static void
complete(struct hk_store *s, int n)
{
	unsigned char serial[20];

	serial_of(n, serial);
	cr_assert_eq(hk_store_cert_complete(s, serial, 20,
	    (const unsigned char *)"cert", 4), 0, "%s", hk_err_msg());
}

/* The response of serial n, signed by responder (SHA-256 of its
 * certificate; NULL: F.responder). */
static void
put_by(struct hk_store *s, int n, int revoked, time_t tu, time_t nu,
    const unsigned char *responder, const char *der)
{
	unsigned char serial[20];

	serial_of(n, serial);
	cr_assert_eq(hk_store_ocsp_put(s, serial, 20, revoked, tu, nu,
	    responder != NULL ? responder : F.rfp, (const unsigned char *)der,
	    strlen(der)), 0, "%s", hk_err_msg());
}

static void
put(struct hk_store *s, int n, int revoked, time_t tu, time_t nu,
    const char *der)
{
	put_by(s, n, revoked, tu, nu, NULL, der);
}

/*
 * The state: issuing CA, responder 1 (notBefore NOW - 10 days); in the
 * store serial 1 valid with a fresh stored response, 2 revoked with a
 * stored "good" response, 3 pending, 4 valid without a response, 5 valid
 * with a response about to end, 6 valid but expired, 7 valid with a
 * response signed by another responder in the responder's first second
 * (its notBefore), 8 valid with a response from the future, 9 valid with
 * a response stored before schema 8 (no responder recorded), 10 valid
 * with a response older than the responder but signed by it.
 */
static void
setup(void)
{
	struct hk_state *st;
	struct hk_store *s;
	ASN1_OCTET_STRING *ski;
	unsigned char *der = NULL, serial[20];
	char path[4200];
	int len;

	snprintf(F.dir, sizeof(F.dir), "%s", hk_test_dir("ocsp-state"));
	F.ikey = eckey();
	F.rkey = eckey();
	F.okey = eckey();
	F.issuing = cert("Issuing CA 1", F.ikey, NULL, F.ikey, 1,
	    NOW - 100 * DAY);
	F.other = cert("Another CA", F.okey, NULL, F.okey, 1, NOW - 100 * DAY);
	F.responder = cert("OCSP Responder 1", F.rkey, F.issuing, F.ikey, 0,
	    NOW - 10 * DAY);
	ski = X509_get_ext_d2i(F.issuing, NID_subject_key_identifier, NULL,
	    NULL);
	cr_assert(ski != NULL && ASN1_STRING_length(ski) == 20);
	memcpy(F.keyid, ASN1_STRING_get0_data(ski), 20);
	ASN1_OCTET_STRING_free(ski);
	cr_assert_eq(hk_cert_fingerprint(F.responder, F.rfp), 0);

	snprintf(path, sizeof(path), "%s/certs", F.dir);
	cr_assert_eq(hk_dir_create(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/certs/ocsp-responder-1.der", F.dir);
	cr_assert_eq(hk_cert_write(F.responder, path, NULL), 0);
	cr_assert_eq(hk_state_new(F.dir, &st), 0);
	cr_assert_eq(hk_state_set(st, "format", "1"), 0);
	cr_assert_eq(hk_state_set(st, "kind", "online"), 0);
	cr_assert_eq(hk_state_set(st, "responder.current", "1"), 0);
	cr_assert_eq(hk_state_set(st, "responder.1.cert",
	    "certs/ocsp-responder-1.der"), 0);
	cr_assert_eq(hk_state_save(st), 0);
	hk_state_free(st);

	snprintf(path, sizeof(path), "%s/store.db", F.dir);
	cr_assert_eq(hk_store_open(path, 1, &s), 0, "%s", hk_err_msg());
	cr_assert((len = i2d_X509(F.other, &der)) > 0);
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ISSUING, 9, "other", der,
	    (size_t)len, 0), 0);
	OPENSSL_free(der);
	der = NULL;
	cr_assert((len = i2d_X509(F.issuing, &der)) > 0);
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ISSUING, 1, "issuing", der,
	    (size_t)len, 0), 0);
	OPENSSL_free(der);
	reserve(s, 1, "10000000001", NOW + 900 * DAY);
	complete(s, 1);
	put(s, 1, 0, NOW - 3600, NOW + DAY - 3600, "response-1");
	reserve(s, 2, "10000000002", NOW + 900 * DAY);
	complete(s, 2);
	put(s, 2, 0, NOW - 3600, NOW + DAY - 3600, "response-2");
	serial_of(2, serial);
	cr_assert_eq(hk_store_cert_revoke(s, serial, 20, 1, NOW - 60, E, 3),
	    0);
	reserve(s, 3, "10000000003", NOW + 900 * DAY);
	reserve(s, 4, "10000000004", NOW + 900 * DAY);
	complete(s, 4);
	reserve(s, 5, "10000000005", NOW + 900 * DAY);
	complete(s, 5);
	put(s, 5, 0, NOW - DAY + 1800, NOW + 1800, "response-5");
	reserve(s, 6, "10000000006", NOW - DAY);
	complete(s, 6);
	reserve(s, 7, "10000000007", NOW + 900 * DAY);
	complete(s, 7);
	put_by(s, 7, 0, NOW - 10 * DAY, NOW + DAY,
	    (const unsigned char[32]){ 0x11, 0x11 }, "response-7");
	reserve(s, 8, "10000000008", NOW + 900 * DAY);
	complete(s, 8);
	put(s, 8, 0, NOW + 3600, NOW + 2 * DAY, "response-8");
	reserve(s, 9, "10000000009", NOW + 900 * DAY);
	complete(s, 9);
	put(s, 9, 0, NOW - 3600, NOW + DAY - 3600, "response-9");
	reserve(s, 10, "10000000010", NOW + 900 * DAY);
	complete(s, 10);
	put(s, 10, 0, NOW - 11 * DAY, NOW + DAY, "response-10");
	/* a newer responder's, after this one's notBefore (a renewal since
	 * a serve loaded this one) */
	reserve(s, 11, "10000000011", NOW + 900 * DAY);
	complete(s, 11);
	put_by(s, 11, 0, NOW - 3600, NOW + DAY,
	    (const unsigned char[32]){ 0x33, 0x33 }, "response-11");
	hk_store_close(s);
	{
		sqlite3 *db = NULL;

		cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
		cr_assert_eq(sqlite3_exec(db, "UPDATE ocsp_responses SET "
		    "responder = NULL WHERE der = CAST('response-9' AS BLOB)",
		    NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
		cr_assert_eq(sqlite3_changes(db), 1);
		sqlite3_close(db);
	}
}

static void
teardown(void)
{
	X509_free(F.issuing);
	X509_free(F.responder);
	X509_free(F.other);
	EVP_PKEY_free(F.ikey);
	EVP_PKEY_free(F.rkey);
	EVP_PKEY_free(F.okey);
	memset(&F, 0, sizeof(F));
}

/* ---- requests, made with OpenSSL's client API ---- */

static OCSP_CERTID *
id_for(X509 *issuer, const EVP_MD *md, int n)
{
	ASN1_INTEGER *ai = asn1_serial(n);
	OCSP_CERTID *id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), ai);

	cr_assert_not_null(id);
	ASN1_INTEGER_free(ai);
	return id;
}

static unsigned char *
der_of(OCSP_REQUEST *req, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_REQUEST(req, &der);

	cr_assert(n > 0);
	*len = (size_t)n;
	OCSP_REQUEST_free(req);
	return der;
}

/* One CertID of issuer (SHA-1) for serial n; nonce_len 0 = none. */
static unsigned char *
request(X509 *issuer, int n, int nonce_len, size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();

	cr_assert(OCSP_request_add0_id(req, id_for(issuer, EVP_sha1(), n)));
	if (nonce_len > 0)
		cr_assert(OCSP_request_add1_nonce(req, NULL, nonce_len));
	return der_of(req, len);
}

/* A request extension with a raw extnValue. */
static void
add_ext(OCSP_REQUEST *req, int nid, int crit, const unsigned char *v,
    int vlen)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	cr_assert(ASN1_OCTET_STRING_set(os, v, vlen));
	cr_assert_not_null(e = X509_EXTENSION_create_by_NID(NULL, nid, crit,
	    os));
	cr_assert(OCSP_REQUEST_add_ext(req, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
}

static int
parse(const unsigned char *der, size_t len)
{
	struct hk_ocsp_request r;
	int rc = hk_ocsp_request_parse(der, len, &r);

	hk_ocsp_request_clear(&r);
	return rc;
}

TestSuite(ocsp_parse, .init = setup, .fini = teardown);

Test(ocsp_parse, plain_and_nonce)
{
	struct hk_ocsp_request r;
	unsigned char *der;
	size_t len;

	der = request(F.issuing, 1, 0, &len);
	cr_assert_eq(hk_ocsp_request_parse(der, len, &r), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.has_nonce, 0);
	hk_ocsp_request_clear(&r);
	OPENSSL_free(der);
	der = request(F.issuing, 1, 32, &len);
	cr_assert_eq(hk_ocsp_request_parse(der, len, &r), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(r.has_nonce, 1);
	cr_assert_eq(r.nonce_len, 32);
	hk_ocsp_request_clear(&r);
	OPENSSL_free(der);
}

Test(ocsp_parse, truncated_trailing_oversized_ber)
{
	unsigned char *der, *buf;
	size_t len, i;

	der = request(F.issuing, 1, 16, &len);
	for (i = 0; i < len; i++)
		cr_assert_neq(parse(der, i), 0, "prefix of %zu bytes", i);
	cr_assert(len < 126);
	buf = calloc(1, HK_OCSP_REQ_MAX + 2);
	memcpy(buf, der, len);
	buf[len] = 0;
	cr_assert_eq(parse(buf, len + 1), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "1 bytes after") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(parse(buf, HK_OCSP_REQ_MAX + 1), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "size: at most 4096") != NULL);
	/* the same request with a long-form (BER) outer length */
	buf[0] = 0x30;
	buf[1] = 0x81;
	buf[2] = der[1];
	memcpy(buf + 3, der + 2, len - 2);
	cr_assert_eq(parse(buf, len + 1), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "not DER") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(parse(NULL, 0), HK_ERR_PARSE);
	free(buf);
	OPENSSL_free(der);
}

Test(ocsp_parse, nonce_rules)
{
	static const unsigned char n0[] = { 0x04, 0x00 };
	unsigned char n33[35], raw[16];
	OCSP_REQUEST *req;
	unsigned char *der;
	size_t len;

	/* RFC 8954: 1..32 octets */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	add_ext(req, NID_id_pkix_OCSP_Nonce, 0, n0, sizeof(n0));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "RFC 8954") != NULL, "%s",
	    hk_err_msg());
	OPENSSL_free(der);
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	n33[0] = 0x04;
	n33[1] = 33;
	memset(n33 + 2, 0xab, 33);
	add_ext(req, NID_id_pkix_OCSP_Nonce, 0, n33, sizeof(n33));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "1 to 32 octets (got 33)") != NULL,
	    "%s", hk_err_msg());
	OPENSSL_free(der);
	/* the bare octets (not an OCTET STRING) */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	memset(raw, 0x11, sizeof(raw));
	add_ext(req, NID_id_pkix_OCSP_Nonce, 0, raw, sizeof(raw));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	OPENSSL_free(der);
	/* two nonces (OCSP_request_add1_nonce would replace the first) */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	n33[1] = 8;
	add_ext(req, NID_id_pkix_OCSP_Nonce, 0, n33, 10);
	add_ext(req, NID_id_pkix_OCSP_Nonce, 0, n33, 10);
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "appears twice") != NULL);
	OPENSSL_free(der);
}

Test(ocsp_parse, extensions_and_certids)
{
	static const unsigned char v[] = { 0x05, 0x00 };
	OCSP_REQUEST *req;
	OCSP_ONEREQ *one;
	ASN1_INTEGER *neg;
	unsigned char *der;
	size_t len;
	int i;

	/* an unknown extension: ignored, unless critical (RFC 6960 4.4) */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	add_ext(req, NID_id_pkix_OCSP_serviceLocator, 0, v, sizeof(v));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), 0, "%s", hk_err_msg());
	OPENSSL_free(der);
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	add_ext(req, NID_id_pkix_OCSP_serviceLocator, 1, v, sizeof(v));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "critical extension") != NULL);
	OPENSSL_free(der);
	/* the same in a single request's extensions (its first and only):
	 * ignored unless critical */
	for (i = 0; i <= 1; i++) {
		X509_EXTENSION *e;
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		req = OCSP_REQUEST_new();
		one = OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(),
		    1));
		cr_assert_not_null(one);
		cr_assert(ASN1_OCTET_STRING_set(os, v, sizeof(v)));
		cr_assert_not_null(e = X509_EXTENSION_create_by_NID(NULL,
		    NID_id_pkix_OCSP_serviceLocator, i, os));
		cr_assert(OCSP_ONEREQ_add_ext(one, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		der = der_of(req, &len);
		if (i == 0)
			cr_assert_eq(parse(der, len), 0, "%s", hk_err_msg());
		else {
			cr_assert_eq(parse(der, len), HK_ERR_INVALID);
			cr_assert(strstr(hk_err_msg(), "request 1: RFC 6960 4.4: "
			    "a critical extension") != NULL, "%s",
			    hk_err_msg());
		}
		OPENSSL_free(der);
	}
	/* 8 CertIDs are accepted, 9 refused */
	req = OCSP_REQUEST_new();
	for (i = 1; i <= HK_OCSP_MAX_IDS; i++)
		OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha256(), i));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), 0, "%s", hk_err_msg());
	OPENSSL_free(der);
	req = OCSP_REQUEST_new();
	for (i = 1; i <= HK_OCSP_MAX_IDS + 1; i++)
		OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), i));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "1 to 8 single requests") != NULL);
	OPENSSL_free(der);
	/* MD5 CertIDs are refused */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_md5(), 1));
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "SHA-1 or SHA-256 only") != NULL);
	OPENSSL_free(der);
	/* a negative serial */
	req = OCSP_REQUEST_new();
	neg = ASN1_INTEGER_new();
	ASN1_INTEGER_set(neg, -5);
	OCSP_request_add0_id(req, OCSP_cert_id_new(EVP_sha1(),
	    X509_get_subject_name(F.issuing),
	    X509_get0_pubkey_bitstr(F.issuing), neg));
	ASN1_INTEGER_free(neg);
	der = der_of(req, &len);
	cr_assert_eq(parse(der, len), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "serialNumber") != NULL);
	OPENSSL_free(der);
}

TestSuite(ocsp_job, .init = setup, .fini = teardown);

/* An encoded TLV (test input only: hostile jobs). */
static size_t
tlv(unsigned char *out, int tag, int xclass, int constructed,
    const unsigned char *c, size_t clen)
{
	unsigned char *p = out;

	ASN1_put_object(&p, constructed, (int)clen, tag, xclass);
	memcpy(p, c, clen);
	return (size_t)(p - out) + clen;
}

/* A job built from parts: version v, n SHA-1 CertIDs, nonce of nl. */
static size_t
job_of(unsigned char *out, long v, int n, int nl)
{
	unsigned char body[4096], ids[4096], *p;
	size_t bl = 0, il = 0;
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	OCSP_CERTID *id;
	unsigned char nonce[64];
	int i, k;

	ASN1_INTEGER_set(ai, v);
	p = body;
	bl = (size_t)i2d_ASN1_INTEGER(ai, &p);
	ASN1_INTEGER_free(ai);
	for (i = 1; i <= n; i++) {
		id = id_for(F.issuing, EVP_sha1(), i);
		p = ids + il;
		k = i2d_OCSP_CERTID(id, &p);
		il += (size_t)k;
		OCSP_CERTID_free(id);
	}
	bl += tlv(body + bl, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, ids, il);
	if (nl >= 0) {
		memset(nonce, 0x42, sizeof(nonce));
		bl += tlv(body + bl, 0, V_ASN1_CONTEXT_SPECIFIC, 0, nonce,
		    (size_t)nl);
	}
	return tlv(out, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, body, bl);
}

static int
decode(const unsigned char *job, size_t len)
{
	struct hk_ocsp_request r;
	int rc = hk_ocsp_job_decode(job, len, &r);

	hk_ocsp_request_clear(&r);
	return rc;
}

/* RFC 6960 4.1.1: version v1 only; a request saying v2 ([0] EXPLICIT
 * INTEGER 1 before the requestList, made by hand: OpenSSL has no setter)
 * is refused. */
Test(ocsp_parse, version_v1_only)
{
	static const unsigned char v2[] = { 0xa0, 0x03, 0x02, 0x01, 0x01 };
	unsigned char *der, tbs[256], body[256], buf[256];
	size_t len, tl, bl;

	der = request(F.issuing, 1, 0, &len);
	/* OCSPRequest { TBSRequest { requestList } }, short lengths */
	cr_assert(len < 126 && der[0] == 0x30 && der[2] == 0x30 &&
	    (size_t)der[3] + 4 == len);
	memcpy(body, v2, sizeof(v2));
	memcpy(body + sizeof(v2), der + 4, len - 4);
	tl = tlv(tbs, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, body,
	    sizeof(v2) + len - 4);
	bl = tlv(buf, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, tbs, tl);
	cr_assert_eq(parse(buf, bl), HK_ERR_INVALID, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "request: version: RFC 6960 4.1.1: v1 "
	    "only") != NULL, "%s", hk_err_msg());
	OPENSSL_free(der);
}

Test(ocsp_job, round_trip_and_hostile_jobs)
{
	struct hk_ocsp_request r, back;
	unsigned char *der, *job, buf[8192];
	size_t len, jl, i;

	der = request(F.issuing, 1, 20, &len);
	cr_assert_eq(hk_ocsp_request_parse(der, len, &r), 0);
	cr_assert_eq(hk_ocsp_job_encode(&r, &job, &jl), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_ocsp_job_decode(job, jl, &back), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(back.n, 1);
	cr_assert_eq(back.nonce_len, 20);
	cr_assert_arr_eq(back.nonce, r.nonce, 20);
	cr_assert_eq(OCSP_id_cmp(back.ids[0], r.ids[0]), 0);
	hk_ocsp_request_clear(&back);
	/* every prefix and a trailing byte refused */
	for (i = 0; i < jl; i++)
		cr_assert_neq(decode(job, i), 0, "prefix of %zu bytes", i);
	memcpy(buf, job, jl);
	buf[jl] = 0;
	cr_assert_eq(decode(buf, jl + 1), HK_ERR_PARSE);
	free(job);
	hk_ocsp_request_clear(&r);
	OPENSSL_free(der);

	/* the template's own rules */
	jl = job_of(buf, 1, 2, 32);
	cr_assert_eq(decode(buf, jl), 0, "%s", hk_err_msg());
	jl = job_of(buf, 1, 1, -1);
	cr_assert_eq(decode(buf, jl), 0, "%s", hk_err_msg());
	jl = job_of(buf, 2, 1, 8);
	cr_assert_eq(decode(buf, jl), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "version") != NULL);
	jl = job_of(buf, 1, 0, 8);
	cr_assert_eq(decode(buf, jl), HK_ERR_INVALID);
	jl = job_of(buf, 1, HK_OCSP_MAX_IDS + 1, 8);
	cr_assert_eq(decode(buf, jl), HK_ERR_INVALID);
	jl = job_of(buf, 1, 1, 33);
	cr_assert_eq(decode(buf, jl), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "RFC 8954") != NULL);
	jl = job_of(buf, 1, 1, 0);
	cr_assert_eq(decode(buf, jl), HK_ERR_INVALID);
	cr_assert_eq(decode(buf, HK_OCSP_JOB_MAX + 1), HK_ERR_INVALID);
}

TestSuite(ocsp_answer, .init = setup, .fini = teardown);

struct answer {
	enum hk_ocsp_outcome out;
	unsigned char *resp, *job;
	size_t resp_len, job_len;
};

static void
answer(struct hk_ocsp_ctx *c, const unsigned char *req, size_t len,
    time_t now, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	cr_assert_eq(hk_ocsp_answer(c, req, len, now, &a->out, &a->resp,
	    &a->resp_len, &a->job, &a->job_len), 0, "%s", hk_err_msg());
	cr_assert_eq(a->out == HK_OCSP_NEEDS_SIGNING, a->job != NULL);
	cr_assert_eq(a->out != HK_OCSP_NEEDS_SIGNING, a->resp != NULL);
}

static void
answer_free(struct answer *a)
{
	free(a->resp);
	free(a->job);
}

/* The outcome for serial n (SHA-1, nonce_len 0 = none) at now. */
static enum hk_ocsp_outcome
outcome(struct hk_ocsp_ctx *c, int n, int nonce_len, time_t now)
{
	struct answer a;
	unsigned char *der;
	size_t len;

	der = request(F.issuing, n, nonce_len, &len);
	answer(c, der, len, now, &a);
	OPENSSL_free(der);
	answer_free(&a);
	return a.out;
}

static int
error_status(const struct answer *a)
{
	const unsigned char *p = a->resp;
	OCSP_RESPONSE *o = d2i_OCSP_RESPONSE(NULL, &p, (long)a->resp_len);
	int st;

	cr_assert_not_null(o);
	cr_assert_null(OCSP_response_get1_basic(o));
	st = OCSP_response_status(o);
	OCSP_RESPONSE_free(o);
	return st;
}

static struct hk_ocsp_ctx *
ctx(void)
{
	struct hk_ocsp_ctx *c = NULL;

	cr_assert_eq(hk_ocsp_ctx_open(F.dir, &c), 0, "%s", hk_err_msg());
	return c;
}

Test(ocsp_answer, the_stored_response_when_fresh)
{
	struct hk_ocsp_ctx *c = ctx();
	struct answer a;
	unsigned char *der;
	size_t len;

	der = request(F.issuing, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_READY);
	cr_assert_eq(a.resp_len, strlen("response-1"));
	cr_assert_arr_eq(a.resp, "response-1", a.resp_len);
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
}

Test(ocsp_answer, signing_when_stale_unknown_or_nonce)
{
	struct hk_ocsp_ctx *c = ctx();

	/* revoked since the stored "good": never handed out */
	cr_assert_eq(outcome(c, 2, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	/* pending, never issued, no stored response */
	cr_assert_eq(outcome(c, 3, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 99, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 4, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	/* less than HK_OCSP_SERVE_MARGIN left: 1800 s at NOW */
	cr_assert_eq(outcome(c, 5, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 5, 0, NOW + 1800 - HK_OCSP_SERVE_MARGIN - 1),
	    HK_OCSP_READY);
	cr_assert_eq(outcome(c, 5, 0, NOW + 1800 - HK_OCSP_SERVE_MARGIN),
	    HK_OCSP_NEEDS_SIGNING);
	/* signed by another responder (in the current one's first second),
	 * by none recorded (before schema 8); made in the future */
	cr_assert_eq(outcome(c, 7, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 9, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 8, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(outcome(c, 8, 0, NOW + 7200), HK_OCSP_READY);
	/* signed by the current responder: its time is not what counts */
	cr_assert_eq(outcome(c, 10, 0, NOW), HK_OCSP_READY);
	/* signed by a newer responder than this one (a renewal since a
	 * serve loaded it): handed out, not signed again by the older */
	cr_assert_eq(outcome(c, 11, 0, NOW), HK_OCSP_READY);
	/* a nonce must be echoed: never the stored response */
	cr_assert_eq(outcome(c, 1, 16, NOW), HK_OCSP_NEEDS_SIGNING);
	hk_ocsp_ctx_free(c);
}

Test(ocsp_answer, the_job_carries_the_certid_and_nonce_only)
{
	struct hk_ocsp_ctx *c = ctx();
	struct hk_ocsp_request rq, job;
	struct answer a;
	unsigned char *der;
	size_t len;

	der = request(F.issuing, 1, 32, &len);
	cr_assert_eq(hk_ocsp_request_parse(der, len, &rq), 0);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_NEEDS_SIGNING);
	cr_assert_eq(hk_ocsp_job_decode(a.job, a.job_len, &job), 0);
	cr_assert_eq(job.n, 1);
	cr_assert_eq(OCSP_id_cmp(job.ids[0], rq.ids[0]), 0);
	cr_assert_eq(job.nonce_len, 32);
	cr_assert_arr_eq(job.nonce, rq.nonce, 32);
	/* a version (3), one CertID in its SEQUENCE OF (2 + 2 + 11 + 22 +
	 * 22 + 22), a nonce (2 + 32): nothing else */
	cr_assert_eq(a.job_len, 2 + 3 + 2 + 79 + 34, "job of %zu bytes",
	    a.job_len);
	hk_ocsp_request_clear(&job);
	hk_ocsp_request_clear(&rq);
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
}

/* RFC 8954 2.1: a nonce of 1 octet is a nonce (1..32): parsed and put in
 * the job as it came, not refused. */
Test(ocsp_answer, a_one_octet_nonce_goes_to_the_key_holder)
{
	struct hk_ocsp_ctx *c = ctx();
	struct hk_ocsp_request rq, job;
	struct answer a;
	unsigned char *der;
	size_t len;

	der = request(F.issuing, 1, 1, &len);
	cr_assert_eq(hk_ocsp_request_parse(der, len, &rq), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(rq.nonce_len, 1);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_NEEDS_SIGNING, "%s", hk_err_msg());
	cr_assert_eq(hk_ocsp_job_decode(a.job, a.job_len, &job), 0);
	cr_assert_eq(job.has_nonce, 1);
	cr_assert_eq(job.nonce_len, 1);
	cr_assert_eq(job.nonce[0], rq.nonce[0]);
	hk_ocsp_request_clear(&job);
	hk_ocsp_request_clear(&rq);
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
}

Test(ocsp_answer, sha256_certids_are_signed_for_the_request)
{
	struct hk_ocsp_ctx *c = ctx();
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	struct answer a;
	unsigned char *der;
	size_t len;

	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha256(), 1));
	der = der_of(req, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_NEEDS_SIGNING);
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
}

Test(ocsp_answer, other_issuers_unauthorized_garbage_malformed)
{
	struct hk_ocsp_ctx *c = ctx();
	OCSP_REQUEST *req;
	struct answer a;
	unsigned char *der;
	size_t len;

	/* another CA, even one in the store (CPS 4-4-4-3, RFC 6960 2.3) */
	der = request(F.other, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_ERROR_RESPONSE);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	answer_free(&a);
	OPENSSL_free(der);
	/* one of ours and one not */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	OCSP_request_add0_id(req, id_for(F.other, EVP_sha1(), 2));
	der = der_of(req, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	answer_free(&a);
	OPENSSL_free(der);
	/* the responder's own name and key are not the issuer's */
	der = request(F.responder, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	answer_free(&a);
	OPENSSL_free(der);
	answer(c, (const unsigned char *)"\x30\x03\x02\x01\x00", 5, NOW, &a);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	answer_free(&a);
	answer(c, (const unsigned char *)"", 0, NOW, &a);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	answer_free(&a);
	hk_ocsp_ctx_free(c);
}

/* RFC 6960 4.1.1: a CertID names our issuing CA by both hashes; our DN
 * with another key (a CA of the same name), or our key under another DN,
 * is another issuer: unauthorized. */
Test(ocsp_answer, both_issuer_hashes_must_match)
{
	X509 *same_name = cert("Issuing CA 1", F.okey, NULL, F.okey, 1,
	    NOW - 100 * DAY);
	X509 *same_key = cert("Issuing CA 1 bis", F.ikey, NULL, F.ikey, 1,
	    NOW - 100 * DAY);
	struct hk_ocsp_ctx *c = ctx();
	struct answer a;
	unsigned char *der;
	size_t len;

	der = request(same_name, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_ERROR_RESPONSE);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	answer_free(&a);
	OPENSSL_free(der);
	der = request(same_key, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_ERROR_RESPONSE);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
	X509_free(same_name);
	X509_free(same_key);
}

/* Store issuing CA x (generation gen) and write responder n's certificate
 * r, for generation gen, into the state. */
static void
add_responder(X509 *x, int gen, int n, X509 *r, int current)
{
	struct hk_state *st;
	struct hk_store *s;
	unsigned char *der = NULL;
	char path[4200], rel[64], key[64], num[16];
	int len;

	snprintf(path, sizeof(path), "%s/store.db", F.dir);
	cr_assert_eq(hk_store_open(path, 0, &s), 0, "%s", hk_err_msg());
	if (x != NULL) {
		cr_assert((len = i2d_X509(x, &der)) > 0);
		cr_assert_eq(hk_store_ca_add(s, HK_CA_ISSUING, gen, "x", der,
		    (size_t)len, 0), 0, "%s", hk_err_msg());
		OPENSSL_free(der);
	}
	hk_store_close(s);
	snprintf(rel, sizeof(rel), "certs/ocsp-responder-%d.der", n);
	snprintf(path, sizeof(path), "%s/%s", F.dir, rel);
	cr_assert_eq(hk_cert_write(r, path, NULL), 0);
	cr_assert_eq(hk_state_load(F.dir, &st), 0);
	snprintf(key, sizeof(key), "responder.%d.cert", n);
	cr_assert_eq(hk_state_set(st, key, rel), 0);
	snprintf(key, sizeof(key), "responder.%d.issuing-generation", n);
	snprintf(num, sizeof(num), "%d", gen);
	cr_assert_eq(hk_state_set(st, key, num), 0);
	snprintf(num, sizeof(num), "%d", n);
	if (current)
		cr_assert_eq(hk_state_set(st, "responder.current", num), 0);
	cr_assert_eq(hk_state_save(st), 0);
	hk_state_free(st);
}

/* The unsigned status of the answer to req (consumed), or -1 when it is
 * not an error response. */
static int
status_for(struct hk_ocsp_ctx *c, OCSP_REQUEST *req)
{
	struct answer a;
	unsigned char *der;
	size_t len;
	int st;

	der = der_of(req, &len);
	answer(c, der, len, NOW, &a);
	OPENSSL_free(der);
	st = a.out == HK_OCSP_ERROR_RESPONSE ? error_status(&a) : -1;
	answer_free(&a);
	return st;
}

/*
 * docs/ocsp.md "Issuing generations": every issuing key whose certificate
 * is valid is answered for by its newest responder, an older one's too;
 * an expired issuer's responder is dropped; one request names one CA; an
 * older responder whose certificate is gone is left out, not fatal.
 */
Test(ocsp_answer, every_live_issuing_key_by_its_newest_responder)
{
	EVP_PKEY *k2 = eckey(), *k3 = eckey(), *kold = eckey();
	X509 *old = cert("Old CA", kold, NULL, kold, 1, NOW - 400 * DAY);
	X509 *r2 = cert("OCSP Responder 2", k2, old, kold, 0, NOW - 390 * DAY);
	X509 *r3 = cert("OCSP Responder 3", k3, F.other, F.okey, 0,
	    NOW - DAY);
	struct hk_ocsp_ctx *c;
	OCSP_REQUEST *req;
	char path[4200];

	/* responder 1: Issuing CA 1 (the fixture); 2: Old CA, expired
	 * 35 days ago; 3, the newest: Another CA (generation 9). Which are
	 * valid is decided at the clock: NOW, not the real one (Issuing CA
	 * 1 ends 265 days after NOW). */
	hk_clock_set(NOW);
	add_responder(old, 5, 2, r2, 0);
	add_responder(NULL, 9, 3, r3, 1);
	c = ctx();
	/* Issuing CA 1 still by responder 1: its stored response */
	cr_assert_eq(outcome(c, 1, 0, NOW), HK_OCSP_READY);
	/* Another CA now answered: its serial 1 is not one of its own
	 * certificates, so the key holder signs "unknown" */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.other, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), -1, "Another CA is answered for");
	/* Old CA's certificate ended: its responder is dropped */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(old, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	/* one request, one responder */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	OCSP_request_add0_id(req, id_for(F.other, EVP_sha1(), 2));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	cr_assert(strstr(hk_err_msg(), "certID 2: RFC 6960 2.3: another "
	    "issuing CA than certID 1's") != NULL, "%s", hk_err_msg());
	/* ... in either order: certID 1 of the newest responder's CA */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.other, EVP_sha1(), 2));
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	cr_assert(strstr(hk_err_msg(), "certID 2: RFC 6960 2.3: another "
	    "issuing CA than certID 1's") != NULL, "%s", hk_err_msg());
	hk_ocsp_ctx_free(c);
	/* responder 1's certificate gone: left out, the others answer */
	snprintf(path, sizeof(path), "%s/certs/ocsp-responder-1.der", F.dir);
	cr_assert_eq(unlink(path), 0);
	c = ctx();
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.other, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), -1);
	hk_ocsp_ctx_free(c);
	hk_clock_unset();
	X509_free(old);
	X509_free(r2);
	X509_free(r3);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(kold);
}

/*
 * docs/ocsp.md "Issuing generations": an issuing key whose certificate
 * has ended is not answered for, even when responder.current is its
 * responder (the last one made, by "responder --generation N" in that
 * generation's last year): its certificates are answered unauthorized and
 * the other generations by their own responders. Only when no other
 * responder is left does responder.current stay (as before), so that the
 * context still opens.
 */
Test(ocsp_answer, an_ended_issuer_is_dropped_even_when_current)
{
	EVP_PKEY *kold = eckey(), *k2 = eckey();
	X509 *old = cert("Old CA", kold, NULL, kold, 1, NOW - 400 * DAY);
	X509 *r2 = cert("OCSP Responder 2", k2, old, kold, 0, NOW - 390 * DAY);
	struct hk_ocsp_ctx *c;
	OCSP_REQUEST *req;
	char path[4200];

	/* responder 1: Issuing CA 1 (the fixture, valid); responder 2, the
	 * current one: Old CA, ended 35 days before NOW */
	hk_clock_set(NOW);
	add_responder(old, 5, 2, r2, 1);
	c = ctx();
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(old, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED,
	    "an ended issuing CA is answered for");
	cr_assert_eq(outcome(c, 1, 0, NOW), HK_OCSP_READY);
	hk_ocsp_ctx_free(c);
	/* responder 1's certificate gone: responder.current alone, kept */
	snprintf(path, sizeof(path), "%s/certs/ocsp-responder-1.der", F.dir);
	cr_assert_eq(unlink(path), 0);
	c = ctx();
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(old, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), -1);
	hk_ocsp_ctx_free(c);
	hk_clock_unset();
	X509_free(old);
	X509_free(r2);
	EVP_PKEY_free(kold);
	EVP_PKEY_free(k2);
}

/*
 * docs/ocsp.md "Issuing generations": nine issuing keys valid at once (a
 * responder each) are more than the 8 answered at once; the 8 newest
 * generations are answered and the oldest left out with a warning, never
 * every answer stopped. A rehearsal state lowers the limit with
 * HANKO_OCSP_MAX_ISSUERS; a production state ignores it.
 */
Test(ocsp_answer, nine_live_issuing_keys_the_eight_newest_answered)
{
	EVP_PKEY *k[10] = { 0 }, *rk[10] = { 0 };
	X509 *x[10] = { 0 }, *r[10] = { 0 };
	struct hk_ocsp_ctx *c;
	struct hk_state *st;
	OCSP_REQUEST *req;
	char cn[32];
	int g;

	hk_clock_set(NOW);
	cr_assert_eq(hk_state_load(F.dir, &st), 0);
	cr_assert_eq(hk_state_set(st, "responder.1.issuing-generation", "1"),
	    0);
	cr_assert_eq(hk_state_save(st), 0);
	hk_state_free(st);
	/* generations 2..9, each with its responder; 9 the current one */
	for (g = 2; g <= 9; g++) {
		k[g] = eckey();
		rk[g] = eckey();
		snprintf(cn, sizeof(cn), "Issuing CA %d", g);
		x[g] = cert(cn, k[g], NULL, k[g], 1, NOW - (100 - g) * DAY);
		snprintf(cn, sizeof(cn), "OCSP Responder %d", g);
		r[g] = cert(cn, rk[g], x[g], k[g], 0, NOW - DAY);
		add_responder(x[g], g, g, r[g], g == 9);
	}
	c = ctx();
	cr_assert_not_null(hk_ocsp_ctx_warning(c));
	cr_assert(strstr(hk_ocsp_ctx_warning(c), "OCSP responder 1 left out: "
	    "issuing generation 1 is older than the 8 newest issuing keys "
	    "valid now") != NULL, "%s", hk_ocsp_ctx_warning(c));
	/* the oldest unauthorized, the 8 newest answered */
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(F.issuing, EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	for (g = 2; g <= 9; g++) {
		req = OCSP_REQUEST_new();
		OCSP_request_add0_id(req, id_for(x[g], EVP_sha1(), 1));
		cr_assert_eq(status_for(c, req), -1, "generation %d", g);
	}
	hk_ocsp_ctx_free(c);
	/* the test limit: ignored on a production state ... */
	cr_assert_eq(setenv("HANKO_OCSP_MAX_ISSUERS", "2", 1), 0);
	c = ctx();
	req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id_for(x[2], EVP_sha1(), 1));
	cr_assert_eq(status_for(c, req), -1);
	hk_ocsp_ctx_free(c);
	/* ... honoured on a rehearsal state: generations 8 and 9 only */
	cr_assert_eq(hk_state_load(F.dir, &st), 0);
	cr_assert_eq(hk_state_set(st, "rehearsal", "yes"), 0);
	cr_assert_eq(hk_state_save(st), 0);
	hk_state_free(st);
	c = ctx();
	cr_assert(strstr(hk_ocsp_ctx_warning(c), "OCSP responder 7 left out: "
	    "issuing generation 7 is older than the 2 newest") != NULL, "%s",
	    hk_ocsp_ctx_warning(c));
	for (g = 2; g <= 9; g++) {
		req = OCSP_REQUEST_new();
		OCSP_request_add0_id(req, id_for(x[g], EVP_sha1(), 1));
		cr_assert_eq(status_for(c, req), g >= 8 ? -1 :
		    OCSP_RESPONSE_STATUS_UNAUTHORIZED, "generation %d", g);
	}
	hk_ocsp_ctx_free(c);
	unsetenv("HANKO_OCSP_MAX_ISSUERS");
	hk_clock_unset();
	for (g = 2; g <= 9; g++) {
		X509_free(x[g]);
		X509_free(r[g]);
		EVP_PKEY_free(k[g]);
		EVP_PKEY_free(rk[g]);
	}
}

/* docs/ocsp.md: a busy store is answered tryLater (the client asks
 * again), not internalError. Another connection holds the store
 * exclusively (the store in rollback-journal mode here, where a writer
 * blocks readers, unlike WAL); the worker waits its short busy timeout
 * (2 s). */
Test(ocsp_answer, a_busy_store_is_try_later)
{
	struct hk_ocsp_ctx *c;
	struct answer a;
	sqlite3 *db = NULL;
	unsigned char *der;
	char path[4200];
	size_t len;

	snprintf(path, sizeof(path), "%s/store.db", F.dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL,
	    NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	c = ctx();
	cr_assert_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	der = request(F.issuing, 1, 0, &len);
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_ERROR_RESPONSE);
	cr_assert_eq(error_status(&a), OCSP_RESPONSE_STATUS_TRYLATER, "%s",
	    hk_err_msg());
	answer_free(&a);
	cr_assert_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	/* the store free again: the stored response */
	answer(c, der, len, NOW, &a);
	cr_assert_eq(a.out, HK_OCSP_READY, "%s", hk_err_msg());
	answer_free(&a);
	OPENSSL_free(der);
	hk_ocsp_ctx_free(c);
}

/* responder.current is a decimal number: the tenth responder (ten
 * renewals) is responder 10, not 11 or 1. */
Test(ocsp_answer, responder_ten_is_read_in_decimal)
{
	EVP_PKEY *k = eckey();
	X509 *r10 = cert("OCSP Responder 10", k, F.issuing, F.ikey, 0,
	    NOW - 1800);
	struct hk_ocsp_ctx *c;

	hk_clock_set(NOW);
	add_responder(NULL, 1, 10, r10, 1);
	c = ctx();
	cr_assert_null(hk_ocsp_ctx_warning(c));
	/* responder 10 (not 1) answers: it is newer than the stored
	 * response of serial 1 (NOW - 3600), which is signed again */
	cr_assert_eq(outcome(c, 1, 0, NOW), HK_OCSP_NEEDS_SIGNING);
	hk_ocsp_ctx_free(c);
	hk_clock_unset();
	X509_free(r10);
	EVP_PKEY_free(k);
}

Test(ocsp_answer, error_response_only_for_error_statuses)
{
	unsigned char *der;
	size_t len;

	cr_assert_eq(hk_ocsp_error_response(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    &der, &len), HK_ERR_INVALID);
	cr_assert_null(der);
	cr_assert_eq(hk_ocsp_error_response(OCSP_RESPONSE_STATUS_TRYLATER,
	    &der, &len), 0);
	/* OCSPResponse { responseStatus tryLater(3) } */
	cr_assert_eq(len, 5);
	cr_assert_arr_eq(der, "\x30\x03\x0a\x01\x03", 5);
	free(der);
}

/* The status read from the first bytes: an error response's, a signed
 * one's (successful, a long-form length), -1 for anything else. */
Test(ocsp_answer, response_status_from_the_first_bytes)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_RESPONSE *o;
	OCSP_CERTID *id = id_for(F.issuing, EVP_sha1(), 1);
	ASN1_TIME *tu = NULL;
	unsigned char *der = NULL;
	size_t len;
	int n;

	cr_assert_eq(hk_ocsp_error_response(OCSP_RESPONSE_STATUS_UNAUTHORIZED,
	    &der, &len), 0);
	cr_assert_eq(hk_ocsp_response_status(der, len),
	    OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	cr_assert_eq(hk_ocsp_response_status(der, 4), -1, "truncated");
	der[2] = 0x02;			/* an INTEGER, not ENUMERATED */
	cr_assert_eq(hk_ocsp_response_status(der, len), -1);
	free(der);
	der = NULL;
	cr_assert_not_null(tu = ASN1_TIME_set(NULL, NOW));
	cr_assert_not_null(OCSP_basic_add1_status(bs, id,
	    V_OCSP_CERTSTATUS_GOOD, 0, NULL, tu, NULL));
	cr_assert_eq(OCSP_basic_sign(bs, F.responder, F.rkey, EVP_sha256(),
	    NULL, 0), 1);
	cr_assert_not_null(o = OCSP_response_create(
	    OCSP_RESPONSE_STATUS_SUCCESSFUL, bs));
	cr_assert((n = i2d_OCSP_RESPONSE(o, &der)) > 128);
	cr_assert_eq(hk_ocsp_response_status(der, (size_t)n),
	    OCSP_RESPONSE_STATUS_SUCCESSFUL);
	cr_assert_eq(hk_ocsp_response_status((const unsigned char *)"GET /",
	    5), -1);
	cr_assert_eq(hk_ocsp_response_status(NULL, 0), -1);
	OPENSSL_free(der);
	OCSP_RESPONSE_free(o);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
}

Test(ocsp_answer, no_responder_no_context)
{
	struct hk_ocsp_ctx *c = NULL;
	struct hk_state *st;

	cr_assert_eq(hk_state_load(F.dir, &st), 0);
	cr_assert_eq(hk_state_set(st, "responder.current", "2"), 0);
	cr_assert_eq(hk_state_save(st), 0);
	hk_state_free(st);
	cr_assert_eq(hk_ocsp_ctx_open(F.dir, &c), HK_ERR_STATE);
	cr_assert_null(c);
	cr_assert(strstr(hk_err_msg(), "responder.2.cert: missing") != NULL,
	    "%s", hk_err_msg());
}

Test(ocsp_answer, the_store_picks_what_is_due)
{
	struct hk_store *s;
	struct hk_store_serial due[16], after;
	unsigned char other[20];
	char path[4200];
	size_t n, i;
	int seen[16] = { 0 };

	snprintf(path, sizeof(path), "%s/store.db", F.dir);
	cr_assert_eq(hk_store_open(path, 0, &s), 0);
	/* now NOW, refresh what ends within 12 h, re-sign what the current
	 * responder (F.rfp, notBefore NOW - 10 days) did not sign up to its
	 * notBefore */
	cr_assert_eq(hk_store_ocsp_due(s, F.keyid, 20, NOW, NOW + 12 * 3600,
	    F.rfp, NOW - 10 * DAY, NULL, due, 16, &n), 0, "%s",
	    hk_err_msg());
	for (i = 0; i < n; i++) {
		cr_assert_eq(due[i].len, 20);
		seen[due[i].serial[1]] = 1;
	}
	/* 2 (revoked since), 4 (none), 5 (ends), 7 (another responder,
	 * though made in this one's first second), 8 (future), 9 (no
	 * responder recorded); not 1 (fresh), 3 (pending), 6 (expired), 10
	 * (made before this responder's notBefore, but by it), 11 (by a
	 * newer responder, after this one's notBefore) */
	cr_assert_eq(n, 6);
	cr_assert(seen[2] && seen[4] && seen[5] && seen[7] && seen[8] &&
	    seen[9]);
	cr_assert(!seen[1] && !seen[3] && !seen[6] && !seen[10] &&
	    !seen[11]);
	/* after: the rest of the list */
	after = due[1];
	cr_assert_eq(hk_store_ocsp_due(s, F.keyid, 20, NOW, NOW + 12 * 3600,
	    F.rfp, NOW - 10 * DAY, &after, due, 16, &n), 0);
	cr_assert_eq(n, 4);
	/* another responder current, made now: every response of this one
	 * and of the others is due */
	memset(seen, 0, sizeof(seen));
	cr_assert_eq(hk_store_ocsp_due(s, F.keyid, 20, NOW, NOW + 12 * 3600,
	    (unsigned char[32]){ 0x22 }, NOW, NULL, due, 16, &n), 0);
	for (i = 0; i < n; i++)
		seen[due[i].serial[1]] = 1;
	cr_assert_eq(n, 9);
	cr_assert(seen[1] && seen[7] && seen[10] && seen[11] && !seen[3] &&
	    !seen[6]);
	/* another issuing key's certificates are not ours */
	memset(other, 0x77, sizeof(other));
	cr_assert_eq(hk_store_ocsp_due(s, other, 20, NOW, NOW + 12 * 3600,
	    F.rfp, NOW - 10 * DAY, NULL, due, 16, &n), 0);
	cr_assert_eq(n, 0);
	hk_store_close(s);
}
