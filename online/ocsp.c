/*
 * ocsp.c - OCSP (RFC 6960, RFC 5019, RFC 8954) for hanko-online: strict
 * request parsing and the network workers' answer (no key), the signing
 * job, and the key holder's signing and pre-signing (docs/ocsp.md).
 *
 * The responders are the delegated ones that "hanko-online responder"
 * makes: each issued by the issuing CA whose certificates it answers for
 * (RFC 6960 4.2.2.2), key in the online token; state.conf holds
 * responder.current (the newest), responder.<n>.key-uri, responder.<n>.cert
 * and responder.<n>.issuing-generation. Every issuing key whose
 * certificate is valid is answered for by its newest responder, so the
 * certificates of an older issuing generation keep their answers after a
 * re-key (docs/ocsp.md, "Issuing generations").
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "err.h"
#include "ocsp.h"
#include "online.h"
#include "state.h"
#include "store.h"

#define JOB_VERSION	1	/* HankoOcspJob version */
#define REFRESH_BATCH	256	/* serials signed per transaction */
#define MAX_ISSUERS	8	/* issuing keys answered for at once */

/*
 * HankoOcspJob (ocsp.h): what the network side hands the key holder.
 */
typedef struct {
	ASN1_INTEGER *version;			/* JOB_VERSION */
	STACK_OF(OCSP_CERTID) *ids;		/* 1..HK_OCSP_MAX_IDS */
	ASN1_OCTET_STRING *nonce;		/* [0], may be NULL */
} HK_OCSP_JOB;

ASN1_SEQUENCE(HK_OCSP_JOB) = {
	ASN1_SIMPLE(HK_OCSP_JOB, version, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(HK_OCSP_JOB, ids, OCSP_CERTID),
	ASN1_IMP_OPT(HK_OCSP_JOB, nonce, ASN1_OCTET_STRING, 0),
} static_ASN1_SEQUENCE_END(HK_OCSP_JOB)

/*
 * A view of a CertID (RFC 6960 4.1.1) with its AlgorithmIdentifier, which
 * OpenSSL's opaque OCSP_CERTID does not hand out: for the parameter check.
 */
typedef struct {
	X509_ALGOR *alg;			/* hashAlgorithm */
	ASN1_OCTET_STRING *name_hash;		/* issuerNameHash */
	ASN1_OCTET_STRING *key_hash;		/* issuerKeyHash */
	ASN1_INTEGER *serial;			/* serialNumber */
} HK_CERTID_VIEW;

ASN1_SEQUENCE(HK_CERTID_VIEW) = {
	ASN1_SIMPLE(HK_CERTID_VIEW, alg, X509_ALGOR),
	ASN1_SIMPLE(HK_CERTID_VIEW, name_hash, ASN1_OCTET_STRING),
	ASN1_SIMPLE(HK_CERTID_VIEW, key_hash, ASN1_OCTET_STRING),
	ASN1_SIMPLE(HK_CERTID_VIEW, serial, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(HK_CERTID_VIEW)

/* Who we answer for: one issuing CA and its newest responder. */
struct ocsp_ident {
	X509 *issuer;			/* the issuing CA certificate */
	X509 *responder;		/* its newest responder certificate */
	int number;			/* its n (responder.<n>) */
	int gen;			/* responder.<n>.issuing-generation
					 * (0: not recorded) */
	time_t since;			/* its notBefore */
	unsigned char cert256[HK_STORE_RESPONDER_LEN]; /* SHA-256 of its
					 * certificate (DER): recorded with
					 * each response it signs; a response
					 * recorded with another up to since
					 * is signed again */
	time_t not_after;		/* its notAfter */
	time_t issuer_end;		/* the issuing CA's notAfter */
	unsigned char name1[20];	/* SHA-1 of the issuer's DN (DER) */
	unsigned char key1[20];		/* SHA-1 of its public key bits */
	unsigned char name256[32];	/* the same with SHA-256 */
	unsigned char key256[32];
	unsigned char keyid[HK_STORE_KEYID_MAX]; /* its SKI: the certificates'
						 * issuer column */
	size_t keyid_len;
};

#define WARN_MAX	1024	/* bytes of the responders left out */

struct hk_ocsp_ctx {
	struct hk_store *store;		/* read-only */
	struct ocsp_ident id[MAX_ISSUERS]; /* no key; [0] the newest */
	size_t n;
	char warn[WARN_MAX];		/* older responders left out */
};

struct hk_ocsp_signer {
	struct hk_online *on;		/* borrowed, logged in */
	struct hk_store *store;		/* read-write */
	struct ocsp_ident id[MAX_ISSUERS]; /* [0] the newest responder */
	EVP_PKEY *key[MAX_ISSUERS];	/* their keys (token) */
	size_t n;
	char warn[WARN_MAX];		/* older responders left out */
};

/* ---- strict parsing ---- */

static void
ids_free(struct hk_ocsp_request *r)
{
	size_t i;

	for (i = 0; i < r->n && i < HK_OCSP_MAX_IDS; i++)
		OCSP_CERTID_free(r->ids[i]);
}

void
hk_ocsp_request_clear(struct hk_ocsp_request *r)
{
	if (r == NULL)
		return;
	ids_free(r);
	memset(r, 0, sizeof(*r));
}

/* 0 when a's parameters are absent or NULL. */
static int
params_absent_or_null(const X509_ALGOR *a)
{
	int ptype;
	const void *pval;

	X509_ALGOR_get0(NULL, &ptype, &pval, a);
	return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL ? 0 : -1;
}

/* The CertID rules (what: "request" or "job"; i counts from 1). */
static int
certid_check(OCSP_CERTID *id, const char *what, size_t i,
    unsigned char *params_null)
{
	HK_CERTID_VIEW *v = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	const ASN1_OBJECT *obj;
	BIGNUM *bn = NULL;
	int n, nid, hl, r = HK_ERR_INVALID;

	if ((n = i2d_OCSP_CERTID(id, &der)) <= 0) {
		hk_err_set("%s: certID %zu: does not encode", what, i);
		r = HK_ERR_PARSE;
		goto out;
	}
	p = der;
	if ((v = (HK_CERTID_VIEW *)ASN1_item_d2i(NULL, &p, n,
	    ASN1_ITEM_rptr(HK_CERTID_VIEW))) == NULL || p != der + n) {
		hk_err_set("%s: certID %zu: RFC 6960 4.1.1: not a CertID", what,
		    i);
		r = HK_ERR_PARSE;
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, v->alg);
	nid = OBJ_obj2nid(obj);
	hl = nid == NID_sha1 ? 20 : nid == NID_sha256 ? 32 : 0;
	if (hl == 0) {
		hk_err_set("%s: certID %zu: hashAlgorithm: RFC 6960 4.1.1 / "
		    "docs/ocsp.md: SHA-1 or SHA-256 only", what, i);
		goto out;
	}
	if (params_absent_or_null(v->alg) != 0) {
		hk_err_set("%s: certID %zu: hashAlgorithm: RFC 5754 2: "
		    "parameters must be absent or NULL", what, i);
		goto out;
	}
	if (params_null != NULL) {
		int ptype;

		X509_ALGOR_get0(NULL, &ptype, NULL, v->alg);
		*params_null = ptype == V_ASN1_NULL;
	}
	if (ASN1_STRING_length(v->name_hash) != hl ||
	    ASN1_STRING_length(v->key_hash) != hl) {
		hk_err_set("%s: certID %zu: issuerNameHash, issuerKeyHash: RFC "
		    "6960 4.1.1: must be %d octets (the hash's length)", what,
		    i, hl);
		goto out;
	}
	if (ASN1_STRING_type(v->serial) != V_ASN1_INTEGER ||
	    (bn = ASN1_INTEGER_to_BN(v->serial, NULL)) == NULL ||
	    BN_is_zero(bn) || BN_num_bytes(bn) > HK_STORE_SERIAL_MAX) {
		hk_err_set("%s: certID %zu: serialNumber: RFC 5280 4.1.2.2: a "
		    "positive integer of at most 20 octets", what, i);
		goto out;
	}
	r = 0;
 out:
	ERR_clear_error();
	BN_free(bn);
	ASN1_item_free((ASN1_VALUE *)v, ASN1_ITEM_rptr(HK_CERTID_VIEW));
	OPENSSL_free(der);
	return r;
}

/* The Nonce (RFC 6960 4.4.1, RFC 8954 2.1) from an extnValue. */
static int
nonce_take(const ASN1_OCTET_STRING *v, struct hk_ocsp_request *out)
{
	const unsigned char *p = ASN1_STRING_get0_data(v), *start = p;
	ASN1_OCTET_STRING *os = NULL;
	int len = ASN1_STRING_length(v), n, r = HK_ERR_INVALID;

	if ((os = d2i_ASN1_OCTET_STRING(NULL, &p, len)) == NULL ||
	    p != start + len) {
		hk_err_set("request: nonce: RFC 6960 4.4.1: the value must be "
		    "one DER OCTET STRING");
		goto out;
	}
	n = ASN1_STRING_length(os);
	if (n < 1 || n > HK_OCSP_NONCE_MAX) {
		hk_err_set("request: nonce: RFC 8954 2.1: 1 to %d octets (got "
		    "%d)", HK_OCSP_NONCE_MAX, n);
		goto out;
	}
	/* a primitive definite encoding of n < 128 octets: 2 + n bytes */
	if (len != n + 2) {
		hk_err_set("request: nonce: X.690 10: not DER");
		goto out;
	}
	memcpy(out->nonce, ASN1_STRING_get0_data(os), (size_t)n);
	out->nonce_len = (size_t)n;
	out->has_nonce = 1;
	r = 0;
 out:
	ERR_clear_error();
	ASN1_OCTET_STRING_free(os);
	return r;
}

/*
 * Extensions of the request (nonce_ok) or of one single request: no
 * duplicate, no critical one but the nonce, the nonce taken.
 */
static int
exts_check(const STACK_OF(X509_EXTENSION) *exts, int nonce_ok,
    struct hk_ocsp_request *out, const char *where)
{
	X509_EXTENSION *e, *f;
	int i, j, nid, n = sk_X509_EXTENSION_num(exts);

	for (i = 0; i < n; i++) {
		e = sk_X509_EXTENSION_value(exts, i);
		for (j = 0; j < i; j++) {
			f = sk_X509_EXTENSION_value(exts, j);
			if (OBJ_cmp(X509_EXTENSION_get_object(e),
			    X509_EXTENSION_get_object(f)) == 0) {
				hk_err_set("request: %s: RFC 5280 4.2: an "
				    "extension appears twice", where);
				return HK_ERR_INVALID;
			}
		}
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		if (nonce_ok && nid == NID_id_pkix_OCSP_Nonce) {
			if (nonce_take(X509_EXTENSION_get_data(e), out) != 0)
				return HK_ERR_INVALID;
			continue;
		}
		/* RFC 6960 4.4: unrecognized extensions are ignored unless
		 * critical */
		if (X509_EXTENSION_get_critical(e)) {
			hk_err_set("request: %s: RFC 6960 4.4: a critical "
			    "extension this responder does not know", where);
			return HK_ERR_INVALID;
		}
	}
	return 0;
}

/*
 * tbsRequest.version: OpenSSL keeps it but has no accessor, so read it
 * from the (already DER-checked) bytes with OpenSSL's own TLV reader.
 */
static int
request_version(const unsigned char *der, size_t len, long *version)
{
	const unsigned char *p = der, *end = der + len, *q;
	ASN1_INTEGER *v = NULL;
	long l;
	int tag, xclass;

	*version = -1;
	if ((ASN1_get_object(&p, &l, &tag, &xclass, (long)len) & 0x80) ||
	    (ASN1_get_object(&p, &l, &tag, &xclass, end - p) & 0x80) ||
	    p >= end)
		return HK_ERR_PARSE;
	q = p;
	if (ASN1_get_object(&q, &l, &tag, &xclass, end - p) & 0x80)
		return HK_ERR_PARSE;
	if (xclass != V_ASN1_CONTEXT_SPECIFIC || tag != 0) {
		*version = 0;		/* DEFAULT v1 */
		return 0;
	}
	if ((v = d2i_ASN1_INTEGER(NULL, &q, l)) == NULL)
		return HK_ERR_PARSE;
	*version = ASN1_INTEGER_get(v);
	ASN1_INTEGER_free(v);
	return 0;
}

int
hk_ocsp_request_parse(const unsigned char *der, size_t len,
    struct hk_ocsp_request *out)
{
	OCSP_REQUEST *req = NULL;
	OCSP_ONEREQ *one;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const unsigned char *p = der;
	unsigned char *re = NULL;
	char where[32];
	long version;
	int n, i, r = HK_ERR_PARSE;

	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0) {
		hk_err_set("request: empty");
		return HK_ERR_PARSE;
	}
	if (len > HK_OCSP_REQ_MAX) {
		hk_err_set("request: size: at most %d bytes (got %zu)",
		    HK_OCSP_REQ_MAX, len);
		return HK_ERR_INVALID;
	}
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL) {
		hk_err_set("request: RFC 6960 4.1.1: not an OCSPRequest");
		goto out;
	}
	if (p != der + len) {
		hk_err_set("request: %zu bytes after the OCSPRequest",
		    (size_t)(der + len - p));
		goto out;
	}
	if ((n = i2d_OCSP_REQUEST(req, &re)) <= 0 || (size_t)n != len ||
	    memcmp(re, der, len) != 0) {
		hk_err_set("request: X.690 10: the encoding is not DER");
		goto out;
	}
	if (request_version(der, len, &version) != 0 || version != 0) {
		hk_err_set("request: version: RFC 6960 4.1.1: v1 only");
		r = HK_ERR_INVALID;
		goto out;
	}
	r = HK_ERR_INVALID;
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > HK_OCSP_MAX_IDS) {
		hk_err_set("request: requestList: docs/ocsp.md: 1 to %d single "
		    "requests (got %d)", HK_OCSP_MAX_IDS, n);
		goto out;
	}
	/* the request's extensions, as a stack for exts_check */
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < OCSP_REQUEST_get_ext_count(req); i++)
		if (!sk_X509_EXTENSION_push(exts, OCSP_REQUEST_get_ext(req,
		    i))) {
			r = HK_ERR_ALLOC;
			goto out;
		}
	if ((r = exts_check(exts, 1, out, "requestExtensions")) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		int j;

		one = OCSP_request_onereq_get0(req, i);
		sk_X509_EXTENSION_zero(exts);
		for (j = 0; j < OCSP_ONEREQ_get_ext_count(one); j++)
			if (!sk_X509_EXTENSION_push(exts,
			    OCSP_ONEREQ_get_ext(one, j))) {
				r = HK_ERR_ALLOC;
				goto out;
			}
		snprintf(where, sizeof(where), "request %d", i + 1);
		if ((r = exts_check(exts, 0, out, where)) != 0 ||
		    (r = certid_check(OCSP_onereq_get0_id(one), "request",
		    (size_t)i + 1, &out->params_null[i])) != 0)
			goto out;
		if ((out->ids[i] = OCSP_CERTID_dup(OCSP_onereq_get0_id(one))) ==
		    NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		out->n = (size_t)i + 1;
	}
	r = 0;
 out:
	ERR_clear_error();
	sk_X509_EXTENSION_free(exts);	/* the extensions are req's */
	OPENSSL_free(re);
	OCSP_REQUEST_free(req);
	if (r != 0)
		hk_ocsp_request_clear(out);
	return r;
}

/* ---- the signing job ---- */

int
hk_ocsp_job_encode(const struct hk_ocsp_request *r, unsigned char **job,
    size_t *job_len)
{
	HK_OCSP_JOB j;
	STACK_OF(OCSP_CERTID) *ids = NULL;
	ASN1_INTEGER *v = NULL;
	ASN1_OCTET_STRING *nonce = NULL;
	unsigned char *der = NULL;
	size_t i;
	int n, ret = HK_ERR_ALLOC;

	*job = NULL;
	*job_len = 0;
	if (r->n < 1 || r->n > HK_OCSP_MAX_IDS || (r->has_nonce &&
	    (r->nonce_len < 1 || r->nonce_len > HK_OCSP_NONCE_MAX))) {
		hk_err_set("job: 1 to %d CertIDs and a nonce of 1 to %d octets",
		    HK_OCSP_MAX_IDS, HK_OCSP_NONCE_MAX);
		return HK_ERR_INVALID;
	}
	if ((v = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set(v, JOB_VERSION) != 1 ||
	    (ids = sk_OCSP_CERTID_new_null()) == NULL)
		goto out;
	for (i = 0; i < r->n; i++)
		if (!sk_OCSP_CERTID_push(ids, r->ids[i]))
			goto out;
	if (r->has_nonce && ((nonce = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(nonce, r->nonce, (int)r->nonce_len) != 1))
		goto out;
	j.version = v;
	j.ids = ids;
	j.nonce = nonce;
	ret = HK_ERR_CRYPTO;
	if ((n = ASN1_item_i2d((ASN1_VALUE *)&j, &der,
	    ASN1_ITEM_rptr(HK_OCSP_JOB))) <= 0 || n > HK_OCSP_JOB_MAX) {
		hk_err_set("job: cannot encode");
		goto out;
	}
	ret = HK_ERR_ALLOC;
	if ((*job = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*job, der, (size_t)n);
	*job_len = (size_t)n;
	ret = 0;
 out:
	ERR_clear_error();
	OPENSSL_free(der);
	sk_OCSP_CERTID_free(ids);	/* the CertIDs are r's */
	ASN1_INTEGER_free(v);
	ASN1_OCTET_STRING_free(nonce);
	return ret;
}

int
hk_ocsp_job_decode(const unsigned char *job, size_t job_len,
    struct hk_ocsp_request *out)
{
	HK_OCSP_JOB *j = NULL;
	const unsigned char *p = job;
	unsigned char *re = NULL;
	int n, i, r = HK_ERR_PARSE;

	memset(out, 0, sizeof(*out));
	if (job == NULL || job_len == 0 || job_len > HK_OCSP_JOB_MAX) {
		hk_err_set("job: size: 1 to %d bytes (got %zu)",
		    HK_OCSP_JOB_MAX, job_len);
		return HK_ERR_INVALID;
	}
	if ((j = (HK_OCSP_JOB *)ASN1_item_d2i(NULL, &p, (long)job_len,
	    ASN1_ITEM_rptr(HK_OCSP_JOB))) == NULL) {
		hk_err_set("job: docs/ocsp.md: not a HankoOcspJob");
		goto out;
	}
	if (p != job + job_len) {
		hk_err_set("job: %zu bytes after the job",
		    (size_t)(job + job_len - p));
		goto out;
	}
	if ((n = ASN1_item_i2d((ASN1_VALUE *)j, &re,
	    ASN1_ITEM_rptr(HK_OCSP_JOB))) <= 0 || (size_t)n != job_len ||
	    memcmp(re, job, job_len) != 0) {
		hk_err_set("job: X.690 10: the encoding is not DER");
		goto out;
	}
	r = HK_ERR_INVALID;
	if (ASN1_STRING_type(j->version) != V_ASN1_INTEGER ||
	    ASN1_INTEGER_get(j->version) != JOB_VERSION) {
		hk_err_set("job: version: must be %d", JOB_VERSION);
		goto out;
	}
	n = sk_OCSP_CERTID_num(j->ids);
	if (n < 1 || n > HK_OCSP_MAX_IDS) {
		hk_err_set("job: certIDs: 1 to %d (got %d)", HK_OCSP_MAX_IDS,
		    n);
		goto out;
	}
	if (j->nonce != NULL) {
		int nl = ASN1_STRING_length(j->nonce);
		if (nl < 1 || nl > HK_OCSP_NONCE_MAX) {
			hk_err_set("job: nonce: RFC 8954 2.1: 1 to %d octets",
			    HK_OCSP_NONCE_MAX);
			goto out;
		}
		memcpy(out->nonce, ASN1_STRING_get0_data(j->nonce),
		    (size_t)nl);
		out->nonce_len = (size_t)nl;
		out->has_nonce = 1;
	}
	for (i = 0; i < n; i++) {
		if ((r = certid_check(sk_OCSP_CERTID_value(j->ids, i), "job",
		    (size_t)i + 1, NULL)) != 0)
			goto out;
		if ((out->ids[i] = OCSP_CERTID_dup(sk_OCSP_CERTID_value(j->ids,
		    i))) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		out->n = (size_t)i + 1;
	}
	r = 0;
 out:
	ERR_clear_error();
	OPENSSL_free(re);
	ASN1_item_free((ASN1_VALUE *)j, ASN1_ITEM_rptr(HK_OCSP_JOB));
	if (r != 0)
		hk_ocsp_request_clear(out);
	return r;
}

/* ---- responses ---- */

/* i2d into malloc'd memory (the callers free() what we hand out). */
static int
resp_der(OCSP_RESPONSE *resp, unsigned char **out, size_t *out_len)
{
	unsigned char *der = NULL;
	int n;

	if ((n = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		hk_err_set("response: cannot encode");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return HK_ERR_ALLOC;
	}
	memcpy(*out, der, (size_t)n);
	*out_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

int
hk_ocsp_error_response(int status, unsigned char **resp, size_t *resp_len)
{
	OCSP_RESPONSE *o;
	int r;

	*resp = NULL;
	*resp_len = 0;
	if (status != OCSP_RESPONSE_STATUS_MALFORMEDREQUEST &&
	    status != OCSP_RESPONSE_STATUS_INTERNALERROR &&
	    status != OCSP_RESPONSE_STATUS_TRYLATER &&
	    status != OCSP_RESPONSE_STATUS_UNAUTHORIZED) {
		hk_err_set("response: status %d: RFC 6960 4.2.1: not an "
		    "error status", status);
		return HK_ERR_INVALID;
	}
	if ((o = OCSP_response_create(status, NULL)) == NULL)
		return HK_ERR_ALLOC;
	r = resp_der(o, resp, resp_len);
	OCSP_RESPONSE_free(o);
	return r;
}

int
hk_ocsp_response_status(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *q;
	long l;
	int tag, xclass;

	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... } */
	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (ASN1_get_object(&p, &l, &tag, &xclass, (long)len) & 0x80) ||
	    tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL)
		return -1;
	q = p;
	if ((ASN1_get_object(&q, &l, &tag, &xclass, (long)len - (p - der)) &
	    0x80) || tag != V_ASN1_ENUMERATED || xclass != V_ASN1_UNIVERSAL ||
	    l != 1 || *q > OCSP_RESPONSE_STATUS_UNAUTHORIZED) {
		ERR_clear_error();
		return -1;
	}
	return *q;
}

/* ---- who we answer for ---- */

static void
ident_free(struct ocsp_ident *id)
{
	X509_free(id->issuer);
	X509_free(id->responder);
	memset(id, 0, sizeof(*id));
}

/* 1 when the responder ends with its issuing CA (cut back to its notAfter
 * in the CA's last year): no renewal can take it further, and every
 * certificate it answers for ends by then (docs/ocsp.md). */
static int
ident_final(const struct ocsp_ident *id)
{
	return id->not_after >= id->issuer_end;
}

struct find_issuer {
	X509 *responder;		/* whose issuer we seek */
	X509 *found;			/* the latest stored match */
};

static int
each_issuing(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct find_issuer *f = arg;
	const unsigned char *p = der;
	X509 *x;

	(void)gen;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored issuing CA certificate "
		    "does not parse");
		return HK_ERR_STATE;
	}
	/* X509_check_issued: names, AKI and keyUsage; X509_verify: 1 good */
	if (X509_check_issued(x, f->responder) == X509_V_OK &&
	    X509_verify(f->responder, X509_get0_pubkey(x)) == 1) {
		X509_free(f->found);
		f->found = x;		/* oldest first: keep the latest */
	} else
		X509_free(x);
	ERR_clear_error();
	return 0;
}

static int
hash_of(const EVP_MD *md, const unsigned char *in, size_t len,
    unsigned char *out)
{
	return EVP_Digest(in, len, out, NULL, md, NULL) == 1 ? 0 :
	    HK_ERR_CRYPTO;
}

/* Responder n and its issuer, from state.conf and the store. */
static int
ident_load(const struct hk_state *st, struct hk_store *s, long n,
    struct ocsp_ident *id)
{
	struct find_issuer f = { NULL, NULL };
	const ASN1_BIT_STRING *key;
	ASN1_OCTET_STRING *ski = NULL;
	unsigned char *name = NULL;
	const char *rel, *g;
	char k[64], path[4096];
	int nl, r;

	memset(id, 0, sizeof(*id));
	id->number = (int)n;
	snprintf(k, sizeof(k), "responder.%ld.issuing-generation", n);
	if ((g = hk_state_get(st, k)) != NULL)
		id->gen = atoi(g);
	snprintf(k, sizeof(k), "responder.%ld.cert", n);
	if ((rel = hk_state_get(st, k)) == NULL) {
		hk_err_set("%s/state.conf: %s: missing", st->dir, k);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(st, rel, path, sizeof(path))) != 0 ||
	    (r = hk_cert_read(path, &id->responder)) != 0)
		goto out;
	f.responder = id->responder;
	if ((r = hk_store_ca_each(s, HK_CA_ISSUING, each_issuing, &f)) != 0)
		goto out;
	if ((id->issuer = f.found) == NULL) {
		hk_err_set("%s: RFC 6960 4.2.2.2: the issuing CA that issued "
		    "OCSP responder %d is not in the store", path, id->number);
		r = HK_ERR_STATE;
		goto out;
	}
	if (hk_cert_time(X509_get0_notBefore(id->responder), &id->since) != 0 ||
	    hk_cert_time(X509_get0_notAfter(id->responder),
	    &id->not_after) != 0 ||
	    hk_cert_time(X509_get0_notAfter(id->issuer),
	    &id->issuer_end) != 0) {
		hk_err_set("%s: validity does not decode", path);
		r = HK_ERR_STATE;
		goto out;
	}
	r = HK_ERR_CRYPTO;
	/* the SHA-256 responder audits (cert.issue) and prints */
	if (hk_cert_fingerprint(id->responder, id->cert256) != 0)
		goto out;
	key = X509_get0_pubkey_bitstr(id->issuer);
	if ((nl = i2d_X509_NAME(X509_get_subject_name(id->issuer),
	    &name)) <= 0 || key == NULL ||
	    hash_of(EVP_sha1(), name, (size_t)nl, id->name1) != 0 ||
	    hash_of(EVP_sha256(), name, (size_t)nl, id->name256) != 0 ||
	    hash_of(EVP_sha1(), key->data, (size_t)key->length,
	    id->key1) != 0 ||
	    hash_of(EVP_sha256(), key->data, (size_t)key->length,
	    id->key256) != 0)
		goto out;
	if ((ski = hk_cert_ski(id->issuer)) == NULL ||
	    ASN1_STRING_length(ski) < 1 ||
	    ASN1_STRING_length(ski) > HK_STORE_KEYID_MAX) {
		hk_err_set("issuing CA: RFC 5280 4.2.1.2: no usable "
		    "subjectKeyIdentifier");
		r = HK_ERR_STATE;
		goto out;
	}
	id->keyid_len = (size_t)ASN1_STRING_length(ski);
	memcpy(id->keyid, ASN1_STRING_get0_data(ski), id->keyid_len);
	r = 0;
 out:
	ERR_clear_error();
	OPENSSL_free(name);
	ASN1_OCTET_STRING_free(ski);
	if (r != 0)
		ident_free(id);
	return r;
}

int
hk_ocsp_responder_info(const struct hk_state *st, struct hk_store *s, long n,
    int *gen, time_t *not_after, int *final)
{
	struct ocsp_ident id;
	int r;

	*gen = *final = 0;
	*not_after = 0;
	if ((r = ident_load(st, s, n, &id)) != 0)
		return r;
	*gen = id.gen;
	*not_after = id.not_after;
	*final = ident_final(&id);
	ident_free(&id);
	return 0;
}

/* Append "; <what>" (or "<what>" first) to a warning buffer. */
static void
warn_add(char *warn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn_add(char *warn, const char *fmt, ...)
{
	size_t off = strlen(warn);
	va_list ap;

	if (off > 0 && off + 2 < WARN_MAX) {
		memcpy(warn + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	if (off < WARN_MAX)
		vsnprintf(warn + off, WARN_MAX - off, fmt, ap);
	va_end(ap);
}

/*
 * How many issuing keys are answered at once: MAX_ISSUERS, or fewer on a
 * rehearsal state whose environment says HANKO_OCSP_MAX_ISSUERS=1..8 (so
 * that a test shows the limit without making nine issuing generations); a
 * production state ignores it.
 */
static size_t
max_issuers(const struct hk_state *st)
{
	const char *reh = hk_state_get(st, "rehearsal");
	const char *e = getenv("HANKO_OCSP_MAX_ISSUERS");
	char *end;
	long v;

	if (reh == NULL || strcmp(reh, "yes") != 0 || e == NULL)
		return MAX_ISSUERS;
	v = strtol(e, &end, 10);
	return *end == '\0' && v >= 1 && v <= MAX_ISSUERS ? (size_t)v :
	    MAX_ISSUERS;
}

/* Newer issuing key first: the higher issuing generation (0, not
 * recorded, the oldest), then the newer responder. */
static int
ident_newer(const struct ocsp_ident *a, const struct ocsp_ident *b)
{
	if (a->gen != b->gen)
		return a->gen > b->gen;
	return a->number > b->number;
}

/*
 * Every issuing CA we answer for, each with its newest responder:
 * responder.current first, then the older responders, newest first, each
 * kept when it is the newest of an issuing key whose certificate is still
 * valid at now (an older generation's certificates stay answered after a
 * re-key; once its certificate ends, so have all it issued). An older
 * responder of a generation already answered for is not even read; one
 * that does not load is left out with a line in warn (its generation's
 * certificates are then answered unauthorized), so that it never stops
 * the answers of the others. responder.current's certificate must load
 * (state.conf names it: a damaged state folder is an error); it is left
 * out like the others when its issuing key's certificate has ended, unless
 * no other responder is left (a state whose issuing CAs have all ended
 * still opens, and its answers say the responder is not valid). Of more than
 * max_issuers() live issuing keys, the newest are kept (ident_newer) and
 * the others left out with a line in warn, never an error: a ninth live
 * generation must not stop every OCSP answer.
 */
static int
idents_load(const struct hk_state *st, struct hk_store *s, time_t now,
    struct ocsp_ident *ids, size_t *count, char *warn)
{
	struct ocsp_ident id, ended_top, *all = NULL;
	const char *cur, *g;
	char k[64], *end;
	size_t j, nall = 0, cap = max_issuers(st), newer;
	long n, top;
	int r, dup, have_ended_top = 0;

	*count = 0;
	if ((cur = hk_state_get(st, "responder.current")) == NULL) {
		hk_err_set("%s/state.conf: responder.current: no OCSP "
		    "responder yet (run hanko-online responder)", st->dir);
		return HK_ERR_STATE;
	}
	top = strtol(cur, &end, 10);
	if (*end != '\0' || top < 1 || top > 999) {
		hk_err_set("%s/state.conf: responder.current: 1..999", st->dir);
		return HK_ERR_STATE;
	}
	if ((all = calloc((size_t)top, sizeof(*all))) == NULL)
		return HK_ERR_ALLOC;
	warn[0] = '\0';
	for (n = top; n >= 1; n--) {
		snprintf(k, sizeof(k), "responder.%ld.cert", n);
		if (n < top && hk_state_get(st, k) == NULL)
			continue;
		snprintf(k, sizeof(k), "responder.%ld.issuing-generation", n);
		if (n < top && (g = hk_state_get(st, k)) != NULL) {
			for (j = 0, dup = 0; j < nall && !dup; j++)
				dup = all[j].gen > 0 && all[j].gen == atoi(g);
			if (dup)
				continue;	/* a newer one answers */
		}
		if ((r = ident_load(st, s, n, &id)) != 0) {
			if (n == top || r == HK_ERR_ALLOC)
				goto fail;
			warn_add(warn, "OCSP responder %ld left out: %s", n,
			    hk_err_msg());
			hk_err_clear();
			continue;
		}
		for (j = 0, dup = 0; j < nall && !dup; j++)
			dup = all[j].keyid_len == id.keyid_len &&
			    memcmp(all[j].keyid, id.keyid, id.keyid_len) == 0;
		if (!dup && n == top &&
		    X509_cmp_time(X509_get0_notAfter(id.issuer), &now) <= 0) {
			ended_top = id;	/* kept only if no other is left */
			have_ended_top = 1;
			continue;
		}
		if (dup ||
		    X509_cmp_time(X509_get0_notAfter(id.issuer), &now) <= 0) {
			ident_free(&id);
			continue;
		}
		all[nall++] = id;	/* at most one per responder: < top */
	}
	/* responder.current of an issuing key that has ended (the last one
	 * made, "responder --generation N" in that generation's last year):
	 * left out like any other, but for a state with nothing else */
	if (have_ended_top && nall == 0)
		all[nall++] = ended_top;
	else if (have_ended_top)
		ident_free(&ended_top);
	/* the cap newest, in the order found (responder.current first) */
	for (j = 0; j < nall; j++) {
		size_t i;

		for (i = 0, newer = 0; i < nall; i++)
			newer += i != j && ident_newer(&all[i], &all[j]);
		if (newer < cap) {
			ids[(*count)++] = all[j];
			continue;
		}
		warn_add(warn, "OCSP responder %d left out: issuing generation "
		    "%d is older than the %zu newest issuing keys valid now, "
		    "the most OCSP answers for at once", all[j].number,
		    all[j].gen, cap);
		ident_free(&all[j]);
	}
	free(all);
	ERR_clear_error();
	return 0;
 fail:
	if (have_ended_top)
		ident_free(&ended_top);
	while (nall > 0)
		ident_free(&all[--nall]);
	free(all);
	return r;
}

int
hk_ocsp_responders_each(const struct hk_state *st, struct hk_store *s,
    time_t now, int (*fn)(long n, int gen, time_t not_after, int final,
    void *arg), void *arg)
{
	struct ocsp_ident ids[MAX_ISSUERS];
	char warn[WARN_MAX];
	size_t n = 0, i;
	int r;

	if ((r = idents_load(st, s, now, ids, &n, warn)) != 0)
		return r;
	for (i = 0, r = 0; i < n; i++) {
		if (r == 0)
			r = fn(ids[i].number, ids[i].gen, ids[i].not_after,
			    ident_final(&ids[i]), arg);
		ident_free(&ids[i]);
	}
	return r;
}

/* 1 when cid names our issuing CA (its DN and key hashed as cid says). */
static int
ident_match(const struct ocsp_ident *id, OCSP_CERTID *cid)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *md = NULL;
	const unsigned char *n, *k;
	size_t hl;

	if (OCSP_id_get0_info(&nh, &md, &kh, NULL, cid) != 1)
		return 0;
	switch (OBJ_obj2nid(md)) {
	case NID_sha1:
		n = id->name1;
		k = id->key1;
		hl = 20;
		break;
	case NID_sha256:
		n = id->name256;
		k = id->key256;
		hl = 32;
		break;
	default:
		return 0;
	}
	return (size_t)ASN1_STRING_length(nh) == hl &&
	    (size_t)ASN1_STRING_length(kh) == hl &&
	    memcmp(ASN1_STRING_get0_data(nh), n, hl) == 0 &&
	    memcmp(ASN1_STRING_get0_data(kh), k, hl) == 0;
}

/* The issuing CA of ids that cid names, or -1. */
static int
ident_find(const struct ocsp_ident *ids, size_t n, OCSP_CERTID *cid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ident_match(&ids[i], cid))
			return (int)i;
	return -1;
}

/*
 * The one issuing CA that every CertID of rq names (RFC 6960 2.3: a
 * request is answered by one responder): its index, or -1 with the detail
 * set ("<what>: certID <i>: ...").
 */
static int
ident_of_request(const struct ocsp_ident *ids, size_t n,
    const struct hk_ocsp_request *rq, const char *what)
{
	size_t i;
	int at = -1, k;

	for (i = 0; i < rq->n; i++) {
		if ((k = ident_find(ids, n, rq->ids[i])) < 0) {
			hk_err_set("%s: certID %zu: RFC 6960 2.3: not an issuer "
			    "this responder answers for", what, i + 1);
			return -1;
		}
		if (at >= 0 && k != at) {
			hk_err_set("%s: certID %zu: RFC 6960 2.3: another "
			    "issuing CA than certID 1's (one request, one "
			    "responder)", what, i + 1);
			return -1;
		}
		at = k;
	}
	return at;
}

/* The serial of cid in the store's form; 0 when it cannot be one of ours
 * (the store holds positive serials of 1..20 octets, first octet < 0x80,
 * as the issuer makes them). */
static int
certid_serial(OCSP_CERTID *cid, struct hk_store_serial *s)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn;
	int n, ok = 0;

	memset(s, 0, sizeof(*s));
	if (OCSP_id_get0_info(NULL, NULL, NULL, &ai, cid) != 1 || ai == NULL ||
	    ASN1_STRING_type(ai) != V_ASN1_INTEGER ||
	    (bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL)
		return 0;
	n = BN_num_bytes(bn);
	if (n >= 1 && n <= HK_STORE_SERIAL_MAX && !BN_is_negative(bn)) {
		s->len = (size_t)BN_bn2bin(bn, s->serial);
		ok = (s->serial[0] & 0x80) == 0;
	}
	BN_free(bn);
	return ok;
}

/* 1 when cid is, byte for byte, the SHA-1 CertID we pre-sign for its
 * serial (hashAlgorithm sha1 with NULL parameters, as OpenSSL, RFC 5019
 * clients send it). */
/* The same by building that CertID and comparing the DER: the key
 * holder's (cold) path, where the form of the parameters is not known. */
static int
certid_canonical_der(const struct ocsp_ident *id, OCSP_CERTID *cid)
{
	ASN1_INTEGER *serial = NULL;
	OCSP_CERTID *c = NULL;
	unsigned char *a = NULL, *b = NULL;
	int na, nb, same = 0;

	if (OCSP_id_get0_info(NULL, NULL, NULL, &serial, cid) != 1)
		return 0;
	if ((c = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(id->issuer),
	    X509_get0_pubkey_bitstr(id->issuer), serial)) != NULL &&
	    (na = i2d_OCSP_CERTID(c, &a)) > 0 &&
	    (nb = i2d_OCSP_CERTID(cid, &b)) > 0)
		same = na == nb && memcmp(a, b, (size_t)na) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	OCSP_CERTID_free(c);
	ERR_clear_error();
	return same;
}

static int
certid_canonical(const struct ocsp_ident *id, OCSP_CERTID *cid,
    int params_null)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *md = NULL;

	/* the form OCSP_cert_id_new(EVP_sha1(), issuer) takes, compared
	 * field by field against the hashes made once (no hashing here) */
	if (!params_null ||
	    OCSP_id_get0_info(&nh, &md, &kh, NULL, cid) != 1 ||
	    OBJ_obj2nid(md) != NID_sha1 ||
	    ASN1_STRING_length(nh) != 20 || ASN1_STRING_length(kh) != 20)
		return 0;
	return memcmp(ASN1_STRING_get0_data(nh), id->name1, 20) == 0 &&
	    memcmp(ASN1_STRING_get0_data(kh), id->key1, 20) == 0;
}

/* ---- the network side ---- */

int
hk_ocsp_ctx_open(const char *state_dir, struct hk_ocsp_ctx **out)
{
	struct hk_ocsp_ctx *c;
	struct hk_state *st = NULL;
	const char *kind;
	char path[4096];
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_state_load(state_dir, &st)) != 0)
		goto out;
	if ((kind = hk_state_get(st, "kind")) == NULL ||
	    strcmp(kind, "online") != 0) {
		hk_err_set("%s/state.conf: kind: not an online state folder",
		    state_dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_state_path(st, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_store_open_readonly(path, &c->store)) != 0 ||
	    (r = idents_load(st, c->store, hk_clock_now(), c->id, &c->n,
	    c->warn)) != 0)
		goto out;
	*out = c;
	c = NULL;
 out:
	hk_state_free(st);
	hk_ocsp_ctx_free(c);
	return r;
}

const char *
hk_ocsp_ctx_warning(const struct hk_ocsp_ctx *c)
{
	return c->warn[0] != '\0' ? c->warn : NULL;
}

void
hk_ocsp_ctx_free(struct hk_ocsp_ctx *c)
{
	if (c == NULL)
		return;
	hk_store_close(c->store);
	while (c->n > 0)
		ident_free(&c->id[--c->n]);
	free(c);
}

/* 1 when the store's status of the certificate is the response's. */
static int
status_agrees(const struct ocsp_ident *id, const struct hk_store_cert *c,
    const struct hk_store_ocsp *o)
{
	if (c->issuer_len != id->keyid_len ||
	    memcmp(c->issuer, id->keyid, id->keyid_len) != 0)
		return 0;
	return (c->status == HK_CERT_VALID && !o->revoked) ||
	    (c->status == HK_CERT_REVOKED && o->revoked);
}

/*
 * The pre-signed response for cid, fresh: 0 and *resp, HK_ERR_NOT_FOUND
 * when there is none to hand out (the key holder signs), or a store error.
 */
static int
stored(struct hk_ocsp_ctx *c, const struct ocsp_ident *id, OCSP_CERTID *cid,
    int params_null, time_t now, unsigned char **resp, size_t *resp_len,
    struct hk_ocsp_meta *meta)
{
	struct hk_store_serial s;
	struct hk_store_ocsp o;
	struct hk_store_cert cert;
	int r;

	memset(&o, 0, sizeof(o));
	if (!certid_canonical(id, cid, params_null) ||
	    !certid_serial(cid, &s))
		return HK_ERR_NOT_FOUND;
	/* one statement, one read transaction (the hot path) */
	if ((r = hk_store_ocsp_lookup(c->store, s.serial, s.len, &o,
	    &cert)) != 0)
		goto out;
	/* signed by another responder than id's up to its notBefore (or
	 * none recorded): signed again, as refresh would
	 * (hk_store_ocsp_due); one signed after it is a newer responder's
	 * (a renewal since this serve loaded id): handed out */
	if (!status_agrees(id, &cert, &o) || o.this_update > now ||
	    !o.has_responder || (memcmp(o.responder, id->cert256,
	    HK_STORE_RESPONDER_LEN) != 0 && o.this_update <= id->since) ||
	    o.next_update - HK_OCSP_SERVE_MARGIN <= now) {
		r = HK_ERR_NOT_FOUND;	/* stale */
		goto out;
	}
	*resp = o.der;
	*resp_len = o.der_len;
	o.der = NULL;
	if (meta != NULL) {
		meta->cacheable = 1;
		meta->this_update = o.this_update;
		meta->next_update = o.next_update;
	}
	r = 0;
 out:
	hk_store_ocsp_clear(&o);
	return r;
}

static int
answer_error(int status, enum hk_ocsp_outcome *out, unsigned char **resp,
    size_t *resp_len)
{
	struct hk_err_kept keep;
	int r;

	hk_err_keep(&keep);
	if ((r = hk_ocsp_error_response(status, resp, resp_len)) != 0)
		return r;
	*out = HK_OCSP_ERROR_RESPONSE;
	hk_err_restore(&keep);
	return 0;
}

int
hk_ocsp_answer(struct hk_ocsp_ctx *c, const unsigned char *req, size_t len,
    time_t now, enum hk_ocsp_outcome *out, unsigned char **resp,
    size_t *resp_len, unsigned char **job, size_t *job_len)
{
	return hk_ocsp_answer_meta(c, req, len, now, out, resp, resp_len, job,
	    job_len, NULL);
}

int
hk_ocsp_answer_meta(struct hk_ocsp_ctx *c, const unsigned char *req,
    size_t len, time_t now, enum hk_ocsp_outcome *out, unsigned char **resp,
    size_t *resp_len, unsigned char **job, size_t *job_len,
    struct hk_ocsp_meta *meta)
{
	struct hk_ocsp_request rq;
	int r, at;

	if (meta != NULL)
		memset(meta, 0, sizeof(*meta));

	*out = HK_OCSP_ERROR_RESPONSE;
	*resp = NULL;
	*resp_len = 0;
	*job = NULL;
	*job_len = 0;
	hk_err_clear();
	if (hk_ocsp_request_parse(req, len, &rq) != 0)
		return answer_error(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, out,
		    resp, resp_len);
	if ((at = ident_of_request(c->id, c->n, &rq, "request")) < 0) {
		hk_ocsp_request_clear(&rq);
		return answer_error(OCSP_RESPONSE_STATUS_UNAUTHORIZED, out,
		    resp, resp_len);
	}
	if (rq.n == 1 && !rq.has_nonce) {
		r = stored(c, &c->id[at], rq.ids[0], rq.params_null[0], now,
		    resp, resp_len, meta);
		if (r == 0) {
			*out = HK_OCSP_READY;
			hk_ocsp_request_clear(&rq);
			return 0;
		}
		if (r != HK_ERR_NOT_FOUND) {
			hk_ocsp_request_clear(&rq);
			/* a busy store maps to HK_ERR_IO (store_sqlite.c) */
			return answer_error(r == HK_ERR_IO ?
			    OCSP_RESPONSE_STATUS_TRYLATER :
			    OCSP_RESPONSE_STATUS_INTERNALERROR, out, resp,
			    resp_len);
		}
	}
	r = hk_ocsp_job_encode(&rq, job, job_len);
	hk_ocsp_request_clear(&rq);
	if (r != 0)
		return answer_error(OCSP_RESPONSE_STATUS_INTERNALERROR, out,
		    resp, resp_len);
	*out = HK_OCSP_NEEDS_SIGNING;
	return 0;
}

/* ---- the key holder ---- */

int
hk_ocsp_signer_open(struct hk_online *on, struct hk_ocsp_signer **out)
{
	struct hk_ocsp_signer *sg;
	EVP_PKEY *pub = NULL;
	const char *uri;
	char k[64], path[4096];
	size_t i;
	int r;

	*out = NULL;
	if (on == NULL || on->tok == NULL) {
		hk_err_set("ocsp: the signer needs the token logged in");
		return HK_ERR_STATE;
	}
	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return HK_ERR_ALLOC;
	sg->on = on;
	if ((r = hk_state_path(on->st, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_store_open(path, 0, &sg->store)) != 0 ||
	    (r = idents_load(on->st, sg->store, hk_clock_now(), sg->id,
	    &sg->n, sg->warn)) != 0)
		goto out;
	for (i = 0; i < sg->n; ) {
		snprintf(k, sizeof(k), "responder.%d.key-uri",
		    sg->id[i].number);
		if ((uri = hk_state_get(on->st, k)) == NULL) {
			hk_err_set("%s/state.conf: %s: missing", on->st->dir,
			    k);
			r = HK_ERR_STATE;
		} else if ((r = hk_token_key(on->tok, uri, &sg->key[i],
		    &pub)) == 0 && EVP_PKEY_eq(pub,
		    X509_get0_pubkey(sg->id[i].responder)) != 1) {
			hk_err_set("%s: the token's key is not the key of OCSP "
			    "responder %d's certificate", uri,
			    sg->id[i].number);
			r = HK_ERR_STATE;
		}
		EVP_PKEY_free(pub);
		pub = NULL;
		if (r == 0) {
			i++;
			continue;
		}
		if (r == HK_ERR_ALLOC || sg->n == 1)
			goto out;	/* the last one: nothing to sign with */
		/* left out: the other generations' responders sign on */
		warn_add(sg->warn, "OCSP responder %d left out: %s",
		    sg->id[i].number, hk_err_msg());
		hk_err_clear();
		EVP_PKEY_free(sg->key[i]);
		ident_free(&sg->id[i]);
		memmove(&sg->id[i], &sg->id[i + 1], (sg->n - i - 1) *
		    sizeof(sg->id[0]));
		memmove(&sg->key[i], &sg->key[i + 1], (sg->n - i - 1) *
		    sizeof(sg->key[0]));
		sg->n--;
		sg->key[sg->n] = NULL;
		memset(&sg->id[sg->n], 0, sizeof(sg->id[0]));
		r = 0;			/* the next one is now at i */
	}
	*out = sg;
	sg = NULL;
	r = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_free(pub);
	hk_ocsp_signer_free(sg);
	return r;
}

void
hk_ocsp_signer_free(struct hk_ocsp_signer *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->n; i++) {
		EVP_PKEY_free(sg->key[i]);
		ident_free(&sg->id[i]);
	}
	hk_store_close(sg->store);
	free(sg);
}

size_t
hk_ocsp_signer_count(const struct hk_ocsp_signer *sg)
{
	return sg->n;
}

const char *
hk_ocsp_signer_warning(const struct hk_ocsp_signer *sg)
{
	return sg->warn[0] != '\0' ? sg->warn : NULL;
}

void
hk_ocsp_signer_info(const struct hk_ocsp_signer *sg, size_t i, int *number,
    int *gen, time_t *not_after)
{
	*number = sg->id[i].number;
	*gen = sg->id[i].gen;
	*not_after = sg->id[i].not_after;
}

int
hk_ocsp_signer_final(const struct hk_ocsp_signer *sg, size_t i)
{
	return ident_final(&sg->id[i]);
}

/* What the store says of cid's certificate. */
struct cert_status {
	int status;			/* V_OCSP_CERTSTATUS_* */
	int reason;			/* CPS 4-4-4-2 reason when revoked */
	time_t revoked_at;		/* when revoked */
};

static int
status_of(struct hk_ocsp_signer *sg, const struct ocsp_ident *id,
    OCSP_CERTID *cid, struct cert_status *cs)
{
	struct hk_store_serial s;
	struct hk_store_cert c;
	int r;

	memset(cs, 0, sizeof(*cs));
	cs->status = V_OCSP_CERTSTATUS_UNKNOWN;
	if (!certid_serial(cid, &s))
		return 0;
	if ((r = hk_store_cert_get(sg->store, s.serial, s.len, &c)) != 0)
		return r == HK_ERR_NOT_FOUND ? 0 : r;
	/* another issuing key's certificate is not ours to answer for */
	if (c.issuer_len != id->keyid_len ||
	    memcmp(c.issuer, id->keyid, c.issuer_len) != 0)
		return 0;
	if (c.status == HK_CERT_VALID)
		cs->status = V_OCSP_CERTSTATUS_GOOD;
	else if (c.status == HK_CERT_REVOKED) {
		cs->status = V_OCSP_CERTSTATUS_REVOKED;
		cs->reason = c.reason;
		cs->revoked_at = c.revoked_at;
	}
	return 0;
}

/*
 * Sign bs with responder k's key: responderID byKey, the responder
 * certificate included, producedAt now; verify the signature before the
 * response leaves.
 */
static int
sign_basic(struct hk_ocsp_signer *sg, size_t k, OCSP_BASICRESP *bs,
    time_t now, unsigned char **der, size_t *der_len)
{
	const struct ocsp_ident *id = &sg->id[k];
	EVP_MD_CTX *mctx = NULL;
	OCSP_RESPONSE *resp = NULL;
	const ASN1_GENERALIZEDTIME *pat;
	const EVP_MD *md = hk_cert_md(NULL, sg->key[k]);
	int r = HK_ERR_CRYPTO;

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, NULL, md, NULL, sg->key[k]) != 1 ||
	    OCSP_basic_sign_ctx(bs, id->responder, mctx, NULL,
	    OCSP_RESPID_KEY) != 1) {
		hk_err_set("ocsp: OCSP responder %d: signing failed",
		    id->number);
		goto out;
	}
	/*
	 * OCSP_basic_sign_ctx sets producedAt from the system clock; with the
	 * clock of a rehearsal (or a second later) set it to now and sign
	 * again. OpenSSL has no setter: the const getters point into bs.
	 */
	pat = OCSP_resp_get0_produced_at(bs);
	if (ASN1_TIME_cmp_time_t(pat, now) != 0) {
		EVP_MD_CTX_free(mctx);
		if (ASN1_GENERALIZEDTIME_set((ASN1_GENERALIZEDTIME *)pat,
		    now) == NULL || (mctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(mctx, NULL, md, NULL, sg->key[k]) !=
		    1 ||
		    ASN1_item_sign_ctx(ASN1_ITEM_rptr(OCSP_RESPDATA),
		    (X509_ALGOR *)OCSP_resp_get0_tbs_sigalg(bs), NULL,
		    (ASN1_BIT_STRING *)OCSP_resp_get0_signature(bs),
		    OCSP_resp_get0_respdata(bs), mctx) <= 0) {
			hk_err_set("ocsp: OCSP responder %d: signing failed",
			    id->number);
			goto out;
		}
	}
	/* ASN1_item_verify: 1 good, 0 bad, -1 error */
	if (ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA),
	    OCSP_resp_get0_tbs_sigalg(bs), OCSP_resp_get0_signature(bs),
	    OCSP_resp_get0_respdata(bs),
	    X509_get0_pubkey(id->responder)) != 1) {
		hk_err_set("ocsp: the response's signature does not verify "
		    "with OCSP responder %d's key", id->number);
		r = HK_ERR_VERIFY;
		goto out;
	}
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL)
		goto out;
	r = resp_der(resp, der, der_len);
 out:
	if (r == HK_ERR_CRYPTO)
		hk_err_add_openssl();
	ERR_clear_error();
	OCSP_RESPONSE_free(resp);
	EVP_MD_CTX_free(mctx);
	return r;
}

/*
 * A signed response for the CertIDs of rq (all of one issuing CA of ours)
 * at now, by that CA's responder (*k); *first: the status of the first,
 * for the caller that stores it.
 */
static int
sign_request(struct hk_ocsp_signer *sg, const struct hk_ocsp_request *rq,
    time_t now, unsigned char **der, size_t *der_len,
    struct cert_status *first, size_t *k)
{
	const struct ocsp_ident *id;
	OCSP_BASICRESP *bs = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL, *rt = NULL;
	ASN1_OCTET_STRING *nonce = NULL;
	X509_EXTENSION *ext = NULL;
	struct cert_status cs;
	time_t next;
	size_t i;
	int r, at;

	*der = NULL;
	*der_len = 0;
	if ((at = ident_of_request(sg->id, sg->n, rq, "job")) < 0)
		return HK_ERR_INVALID;
	*k = (size_t)at;
	id = &sg->id[at];
	if (now < id->since || now >= id->not_after) {
		char gen[48] = "";

		if (id->gen > 0)
			snprintf(gen, sizeof(gen), " --generation %d", id->gen);
		hk_err_set("ocsp: OCSP responder %d is not valid now (run "
		    "hanko-online responder%s)", id->number, gen);
		return HK_ERR_STATE;
	}
	/* RFC 5019 4: nextUpdate; never after the responder's notAfter */
	next = now + HK_OCSP_VALIDITY;
	if (next > id->not_after)
		next = id->not_after;
	r = HK_ERR_ALLOC;
	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (tu = ASN1_TIME_set(NULL, now)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, next)) == NULL)
		goto out;
	for (i = 0; i < rq->n; i++) {
		if ((r = status_of(sg, id, rq->ids[i], &cs)) != 0)
			goto out;
		if (i == 0)
			*first = cs;
		ASN1_TIME_free(rt);
		rt = NULL;
		r = HK_ERR_CRYPTO;
		if (cs.status == V_OCSP_CERTSTATUS_REVOKED &&
		    (rt = ASN1_TIME_set(NULL, cs.revoked_at)) == NULL)
			goto out;
		/* reasons 1..5 are RFC 5280 CRLReason values 1..5 */
		if (OCSP_basic_add1_status(bs, rq->ids[i], cs.status,
		    cs.status == V_OCSP_CERTSTATUS_REVOKED ? cs.reason :
		    OCSP_REVOKED_STATUS_NOSTATUS, rt, tu, nu) == NULL) {
			hk_err_set("ocsp: cannot add a single response");
			goto out;
		}
	}
	if (rq->has_nonce) {
		/*
		 * RFC 6960 4.4.1, RFC 8954: the nonce echoed, extnValue the
		 * DER of the Nonce OCTET STRING. Not OCSP_BASICRESP_add1_
		 * ext_i2d: OpenSSL's nonce method writes the bare octets.
		 */
		unsigned char *enc = NULL;
		int el;

		r = HK_ERR_CRYPTO;
		if ((nonce = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(nonce, rq->nonce,
		    (int)rq->nonce_len) != 1 ||
		    (el = i2d_ASN1_OCTET_STRING(nonce, &enc)) <= 0 ||
		    ASN1_OCTET_STRING_set(nonce, enc, el) != 1 ||
		    (ext = X509_EXTENSION_create_by_NID(NULL,
		    NID_id_pkix_OCSP_Nonce, 0, nonce)) == NULL ||
		    OCSP_BASICRESP_add_ext(bs, ext, -1) != 1) {
			OPENSSL_free(enc);
			hk_err_set("ocsp: cannot add the nonce");
			goto out;
		}
		OPENSSL_free(enc);
	}
	r = sign_basic(sg, *k, bs, now, der, der_len);
 out:
	ERR_clear_error();
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(nonce);
	ASN1_TIME_free(rt);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	OCSP_BASICRESP_free(bs);
	return r;
}

/* The response (of responder k) is the one to pre-sign for its serial:
 * keep it. */
static int
keep(struct hk_ocsp_signer *sg, size_t k, OCSP_CERTID *cid,
    const struct cert_status *cs, time_t now, const unsigned char *der,
    size_t der_len)
{
	struct hk_store_serial s;
	time_t next = now + HK_OCSP_VALIDITY;

	if (cs->status == V_OCSP_CERTSTATUS_UNKNOWN ||
	    !certid_canonical_der(&sg->id[k], cid) || !certid_serial(cid, &s))
		return 0;
	if (next > sg->id[k].not_after)
		next = sg->id[k].not_after;
	return hk_store_ocsp_put(sg->store, s.serial, s.len,
	    cs->status == V_OCSP_CERTSTATUS_REVOKED, now, next,
	    sg->id[k].cert256, der, der_len);
}

int
hk_ocsp_sign_job(struct hk_ocsp_signer *sg, const unsigned char *job,
    size_t job_len, time_t now, unsigned char **resp, size_t *resp_len)
{
	struct hk_ocsp_request rq;
	struct cert_status first;
	size_t k = 0;
	int r;

	*resp = NULL;
	*resp_len = 0;
	if ((r = hk_ocsp_job_decode(job, job_len, &rq)) != 0)
		return r;
	/* an issuer the network side answers for but this signer does not:
	 * its responder's key was left out at open (docs/ocsp.md "Issuing
	 * generations"): unauthorized, the detail kept for the caller */
	if (ident_of_request(sg->id, sg->n, &rq, "job") < 0) {
		struct hk_err_kept kept;

		hk_err_keep(&kept);
		if ((r = hk_ocsp_error_response(
		    OCSP_RESPONSE_STATUS_UNAUTHORIZED, resp, resp_len)) == 0)
			hk_err_restore(&kept);
		goto out;
	}
	if ((r = sign_request(sg, &rq, now, resp, resp_len, &first,
	    &k)) != 0)
		goto out;
	/* a plain one-serial request: what refresh would have stored */
	if (rq.n == 1 && !rq.has_nonce &&
	    keep(sg, k, rq.ids[0], &first, now, *resp, *resp_len) != 0) {
		fprintf(stderr, "hanko-online: ocsp: response signed, not "
		    "stored: %s\n", hk_err_msg());
		hk_err_clear();
	}
 out:
	hk_ocsp_request_clear(&rq);
	if (r != 0) {
		free(*resp);
		*resp = NULL;
		*resp_len = 0;
	}
	return r;
}

/* Sign and store the pre-signed response of one serial of issuing CA k. */
static int
presign(struct hk_ocsp_signer *sg, size_t k, const struct hk_store_serial *s,
    time_t now)
{
	struct hk_ocsp_request rq;
	struct cert_status cs;
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0, by = 0;
	int r = HK_ERR_ALLOC;

	memset(&rq, 0, sizeof(rq));
	if ((bn = BN_bin2bn(s->serial, (int)s->len, NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (rq.ids[0] = OCSP_cert_id_new(EVP_sha1(),
	    X509_get_subject_name(sg->id[k].issuer),
	    X509_get0_pubkey_bitstr(sg->id[k].issuer), ai)) == NULL)
		goto out;
	rq.n = 1;
	if ((r = sign_request(sg, &rq, now, &der, &der_len, &cs, &by)) != 0)
		goto out;
	if (by != k) {
		hk_err_set("ocsp: issuing CA %zu's CertID matched issuing CA "
		    "%zu", k, by);
		r = HK_ERR_INTERNAL;
		goto out;
	}
	if (cs.status == V_OCSP_CERTSTATUS_UNKNOWN) {
		hk_err_set("ocsp: a serial due for refresh is not a "
		    "certificate of ours");
		r = HK_ERR_STATE;
		goto out;
	}
	r = keep(sg, k, rq.ids[0], &cs, now, der, der_len);
 out:
	ERR_clear_error();
	free(der);
	hk_ocsp_request_clear(&rq);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* Refresh what responder k answers for (hk_ocsp_refresh). */
static int
refresh_one(struct hk_ocsp_signer *sg, size_t k, time_t now, size_t *count)
{
	const struct ocsp_ident *id = &sg->id[k];
	struct hk_store_serial *batch = NULL, last;
	time_t refresh_by = now + HK_OCSP_REFRESH_MARGIN;
	char t[32];
	size_t n, i;
	int r, have_last = 0;

	/* a responder that ends with its issuing CA cannot be renewed
	 * beyond it: up to its end it signs, each response's nextUpdate
	 * cut to that end (sign_request), and such a response is not due
	 * again for being short */
	if (ident_final(id) && now >= id->since && now < id->not_after &&
	    refresh_by >= id->not_after)
		refresh_by = id->not_after - 1;
	else if (now < id->since ||
	    id->not_after - now <= HK_OCSP_REFRESH_MARGIN) {
		char gen[48] = "";

		if (id->gen > 0)
			snprintf(gen, sizeof(gen), " --generation %d", id->gen);
		hk_time_format(id->not_after, t, sizeof(t));
		hk_err_set("ocsp: OCSP responder %d (valid until %s) is not "
		    "valid for the next %d hours: run hanko-online "
		    "responder%s", id->number, t, HK_OCSP_REFRESH_MARGIN / 3600,
		    gen);
		return HK_ERR_STATE;
	}
	if ((batch = calloc(REFRESH_BATCH, sizeof(*batch))) == NULL)
		return HK_ERR_ALLOC;
	memset(&last, 0, sizeof(last));
	for (;;) {
		/* each batch starts after the last one: the loop ends even
		 * if a response stayed due (a certificate issued meanwhile
		 * with a lower serial waits for the next refresh) */
		if ((r = hk_store_ocsp_due(sg->store, id->keyid,
		    id->keyid_len, now, refresh_by,
		    id->cert256, id->since, have_last ? &last : NULL, batch,
		    REFRESH_BATCH, &n)) != 0 || n == 0)
			break;
		if ((r = hk_store_begin(sg->store)) != 0)
			break;
		for (i = 0; i < n; i++)
			if ((r = presign(sg, k, &batch[i], now)) != 0)
				break;
		if (r != 0) {
			hk_store_rollback(sg->store);
			break;
		}
		if ((r = hk_store_commit(sg->store)) != 0)
			break;
		*count += n;
		last = batch[n - 1];
		have_last = 1;
	}
	free(batch);
	return r;
}

int
hk_ocsp_refresh(struct hk_ocsp_signer *sg, time_t now, size_t *count)
{
	struct hk_err_kept keep = { "" };
	size_t k;
	int r, first = 0;

	*count = 0;
	/* every responder in turn: one that must be renewed does not stop
	 * the others' refresh; its error is the one returned */
	for (k = 0; k < sg->n; k++) {
		if ((r = refresh_one(sg, k, now, count)) == 0)
			continue;
		if (r != HK_ERR_STATE)
			return r;
		if (first == 0) {
			first = r;
			hk_err_keep(&keep);
		}
	}
	if (first != 0)
		hk_err_restore(&keep);
	return first;
}

int
hk_ocsp_refresh_state(struct hk_online *on, time_t now, size_t *count)
{
	struct hk_ocsp_signer *sg = NULL;
	int r;

	*count = 0;
	if (hk_state_get(on->st, "responder.current") == NULL)
		return 0;
	if ((r = hk_ocsp_signer_open(on, &sg)) == 0)
		r = hk_ocsp_refresh(sg, now, count);
	hk_ocsp_signer_free(sg);
	return r;
}
