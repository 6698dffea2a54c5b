/* csr.c - read and check PKCS#10 requests (RFC 2986) strictly. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "csr.h"
#include "err.h"
#include "hex.h"
#include "name.h"
#include "profile.h"

static int
all_blank(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isspace(p[i]))
			return 0;
	return 1;
}

/* DER bytes to a request: no trailing bytes, canonical DER. */
static int
parse_der(const unsigned char *der, size_t len, const char *input,
    X509_REQ **out)
{
	const unsigned char *pp = der;
	unsigned char *re = NULL;
	X509_REQ *req = NULL;
	int n, r = HK_ERR_PARSE;

	if (len == 0 || len > HK_CSR_MAX) {
		hk_err_set("%s: RFC 2986 4.2: request empty or larger than %d "
		    "bytes", input, HK_CSR_MAX);
		goto out;
	}
	if ((req = d2i_X509_REQ(NULL, &pp, (long)len)) == NULL) {
		hk_err_set("%s: RFC 2986 4.2: not a CertificationRequest",
		    input);
		goto out;
	}
	if (pp != der + len) {
		hk_err_set("%s: RFC 2986 4.2: %zu trailing bytes after the "
		    "request", input, (size_t)(der + len - pp));
		goto out;
	}
	if ((n = i2d_X509_REQ(req, &re)) <= 0 || (size_t)n != len ||
	    memcmp(re, der, len) != 0) {
		hk_err_set("%s: X.690 10: the request is not DER (BER or "
		    "re-encoding differs)", input);
		goto out;
	}
	*out = req;
	req = NULL;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(re);
	X509_REQ_free(req);
	return r;
}

int
hk_csr_parse(const unsigned char *buf, size_t len, const char *input,
    X509_REQ **out)
{
	static const char begin[] = "-----BEGIN ";
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *start;
	char *rest;
	long dlen = 0, restlen;
	BIO *bio = NULL;
	int r = HK_ERR_PARSE;

	*out = NULL;
	if (len > HK_CSR_MAX) {
		hk_err_set("%s: larger than %d bytes", input, HK_CSR_MAX);
		return HK_ERR_PARSE;
	}
	start = memmem(buf, len, begin, sizeof(begin) - 1);
	if (start == NULL)
		return parse_der(buf, len, input, out);
	if (!all_blank(buf, (size_t)(start - buf))) {
		hk_err_set("%s: RFC 7468 2: text before the PEM block", input);
		return HK_ERR_PARSE;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return HK_ERR_ALLOC;
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
		hk_err_set("%s: RFC 7468: not a PEM block", input);
		goto out;
	}
	if (strcmp(name, "CERTIFICATE REQUEST") != 0 &&
	    strcmp(name, "NEW CERTIFICATE REQUEST") != 0) {
		hk_err_set("%s: RFC 7468 7: PEM label \"%s\" is not "
		    "CERTIFICATE REQUEST", input, name);
		goto out;
	}
	if (*header != '\0') {
		hk_err_set("%s: RFC 7468 2: PEM headers are not allowed",
		    input);
		goto out;
	}
	restlen = BIO_get_mem_data(bio, &rest);
	if (restlen < 0 || !all_blank((unsigned char *)rest, (size_t)restlen)) {
		hk_err_set("%s: RFC 7468 2: data after the PEM block", input);
		goto out;
	}
	r = parse_der(data, (size_t)dlen, input, out);
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return r;
}

int
hk_csr_read(const char *path, X509_REQ **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, HK_CSR_MAX, &buf, &len)) != 0) {
		if (*hk_err_msg() == '\0')
			hk_err_set("%s: %s", path, hk_strerror(r));
		return r;
	}
	r = hk_csr_parse(buf, len, path, out);
	free(buf);
	return r;
}

static int
sigalg_allowed(int nid)
{
	switch (nid) {
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_ecdsa_with_SHA512:
		return 1;
	}
	return 0;
}

static int
key_allowed(EVP_PKEY *pk, enum hk_key_alg *found)
{
	static const enum hk_key_alg all[] = {
		HK_KEY_RSA2048, HK_KEY_RSA3072, HK_KEY_RSA4096, HK_KEY_EC_P384
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (hk_key_alg_matches(pk, all[i])) {
			*found = all[i];
			return 1;
		}
	return 0;
}

int
hk_csr_check(X509_REQ *req, const char *input, const X509_NAME *expected,
    const enum hk_key_alg *want, unsigned flags)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	const X509_NAME *subj = X509_REQ_get_subject_name(req);
	EVP_PKEY *pk;
	enum hk_key_alg found;
	const char *why = NULL;
	char *text = NULL;
	int i, n, nid, r = HK_ERR_INVALID;

	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		hk_err_set("%s: RFC 2986 4.1: version must be 0 (v1)", input);
		goto out;
	}
	X509_REQ_get0_signature(req, NULL, &alg);
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	nid = OBJ_obj2nid(obj);
	if (!sigalg_allowed(nid)) {
		hk_err_set("%s: signatureAlgorithm: %s is not in the allow-list "
		    "(SHA-256/384/512 with RSA or ECDSA)", input,
		    nid == NID_undef ? "unknown" : OBJ_nid2sn(nid));
		goto out;
	}
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL) {
		hk_err_set("%s: subjectPKInfo: the public key does not decode",
		    input);
		goto out;
	}
	if (!key_allowed(pk, &found)) {
		hk_err_set("%s: subjectPKInfo: %s-%d is not allowed (RSA-2048/"
		    "3072/4096 or EC P-384, CPS 6-1-1-2)", input,
		    EVP_PKEY_is_a(pk, "RSA") ? "RSA" : EVP_PKEY_is_a(pk, "EC") ?
		    "EC" : "other", EVP_PKEY_get_bits(pk));
		goto out;
	}
	if (want != NULL && found != *want) {
		hk_err_set("%s: subjectPKInfo: the key is %s but the profile "
		    "asks %s", input, hk_key_alg_name(found),
		    hk_key_alg_name(*want));
		goto out;
	}
	if ((EVP_PKEY_is_a(pk, "RSA") &&
	    (nid == NID_ecdsa_with_SHA256 || nid == NID_ecdsa_with_SHA384 ||
	    nid == NID_ecdsa_with_SHA512)) || (EVP_PKEY_is_a(pk, "EC") &&
	    (nid == NID_sha256WithRSAEncryption ||
	    nid == NID_sha384WithRSAEncryption ||
	    nid == NID_sha512WithRSAEncryption))) {
		hk_err_set("%s: signatureAlgorithm %s does not fit the key",
		    input, OBJ_nid2sn(nid));
		goto out;
	}
	/* X509_REQ_verify() returns 1 on success, 0 or -1 otherwise. */
	if (X509_REQ_verify(req, pk) != 1) {
		hk_err_set("%s: RFC 2986 3: signature does not verify with the "
		    "request's key (no proof of possession)", input);
		r = HK_ERR_VERIFY;
		goto out;
	}
	if (subj == NULL || X509_NAME_entry_count(subj) == 0) {
		hk_err_set("%s: subject: must not be empty", input);
		goto out;
	}
	if (hk_name_check_types(subj, &why) != 0) {
		hk_err_set("%s: subject: PROFILE.md: %s", input, why);
		goto out;
	}
	if (expected != NULL && !hk_cert_name_eq(subj, expected)) {
		text = hk_name_print(expected);
		hk_err_set("%s: subject: must be \"%s\"", input,
		    text != NULL ? text : "?");
		goto out;
	}
	n = X509_REQ_get_attr_count(req);
	for (i = 0; i < n; i++) {
		X509_ATTRIBUTE *a = X509_REQ_get_attr(req, i);
		int an = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));

		if (an == NID_ext_req && (flags & HK_CSR_ALLOW_EXTENSIONS))
			continue;
		if (an != NID_ext_req && (flags & HK_CSR_ALLOW_ATTRIBUTES))
			continue;
		hk_err_set("%s: attributes: %s is not accepted (the root takes "
		    "only the subject and key from a request)", input,
		    an == NID_ext_req ? "extensionRequest" : "an attribute");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	free(text);
	return r;
}

int
hk_csr_fingerprint_text(X509_REQ *req, char out[96])
{
	unsigned char *der = NULL, d[32];
	int n, r = HK_ERR_CRYPTO;

	if ((n = i2d_X509_REQ(req, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, d, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	hk_fingerprint_colons(d, out);
	r = 0;
out:
	OPENSSL_free(der);
	return r;
}
