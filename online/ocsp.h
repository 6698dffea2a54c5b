/*
 * ocsp.h - OCSP (RFC 6960) for hanko-online: the request path of the
 * network workers, the signing path of the key holder, and the pre-signed
 * responses (docs/ocsp.md; CPS 4-4-4-1 to 4-4-4-3).
 *
 * Two sides that never share memory (serve's process model, DESIGN.md 7):
 *
 *   network worker: hk_ocsp_ctx over a read-only store, the issuing CA
 *   and responder certificates, and no key. It parses the hostile request
 *   (hk_ocsp_request_parse) and either hands back a pre-signed response,
 *   an unsigned error response, or a compact signing job.
 *
 *   key holder: hk_ocsp_signer with the responder key in the online token.
 *   It never sees request bytes: it decodes the job (our own ASN.1
 *   structure, OpenSSL templates, strict), looks the status up in the store
 *   itself and signs.
 *
 * Every output buffer is malloc'd: free() it. Every function returns 0 or
 * an HK_ERR_* code with a one-line detail (hk_err_msg).
 */
#ifndef HK_OCSP_H
#define HK_OCSP_H

#include <stddef.h>
#include <time.h>

#include <openssl/ocsp.h>

#define HK_OCSP_REQ_MAX		4096	/* bytes of an OCSPRequest */
#define HK_OCSP_MAX_IDS		8	/* single requests in one request */
#define HK_OCSP_NONCE_MAX	32	/* RFC 8954 2.1: 1..32 octets */
#define HK_OCSP_JOB_MAX		2048	/* bytes of a signing job */
#define HK_OCSP_VALIDITY	(24 * 3600) /* nextUpdate - thisUpdate */
#define HK_OCSP_REFRESH_MARGIN	(12 * 3600) /* refresh when less is left */
#define HK_OCSP_SERVE_MARGIN	3600	/* no stored response handed out
					 * with less than this left */
#define HK_OCSP_RENEW_DAYS	30	/* a responder is renewed this long
					 * before its end (ocsp-refresh warns,
					 * status reports) */

struct hk_online;

/* A request reduced to what we answer: also the content of a job. */
struct hk_ocsp_request {
	size_t n;				/* CertIDs: 1..MAX_IDS */
	OCSP_CERTID *ids[HK_OCSP_MAX_IDS];	/* owned copies */
	unsigned char params_null[HK_OCSP_MAX_IDS]; /* 1: hashAlgorithm's
						 * parameters a NULL (the form
						 * OpenSSL's CertIDs take) */
	int has_nonce;				/* 1: echo nonce */
	unsigned char nonce[HK_OCSP_NONCE_MAX];	/* the Nonce's octets */
	size_t nonce_len;			/* 1..32 when has_nonce */
};

/*
 * Parse a DER OCSPRequest strictly and without any state: at most
 * HK_OCSP_REQ_MAX bytes, DER (the re-encoding equals the input, so no
 * trailing bytes and no BER), version v1, 1..HK_OCSP_MAX_IDS CertIDs with
 * hashAlgorithm SHA-1 or SHA-256 (parameters absent or NULL), hashes of
 * the algorithm's length, serialNumber positive and at most 20 octets
 * (RFC 5280 4.1.2.2); at most one nonce, an OCTET STRING of 1..32 octets
 * (RFC 8954); no duplicate extension; no critical extension we do not
 * know. A request signature is ignored (RFC 5019 2.1.2: access control is
 * serve's, by registered relying party). HK_ERR_PARSE or HK_ERR_INVALID
 * with "request: field: rule". hk_ocsp_request_clear frees it.
 */
int hk_ocsp_request_parse(const unsigned char *der, size_t len,
    struct hk_ocsp_request *out);
void hk_ocsp_request_clear(struct hk_ocsp_request *r);

/*
 * The signing job: our own structure (OpenSSL ASN.1 templates)
 *
 *   HankoOcspJob ::= SEQUENCE {
 *     version  INTEGER (1),
 *     certIDs  SEQUENCE SIZE (1..8) OF CertID,    -- RFC 6960 4.1.1
 *     nonce    [0] IMPLICIT OCTET STRING (SIZE (1..32)) OPTIONAL }
 *
 * Nothing else of the request is copied. Decoding is strict: at most
 * HK_OCSP_JOB_MAX bytes, DER, no trailing bytes, and the same rules as
 * hk_ocsp_request_parse for every field.
 */
int hk_ocsp_job_encode(const struct hk_ocsp_request *r, unsigned char **job,
    size_t *job_len);
int hk_ocsp_job_decode(const unsigned char *job, size_t job_len,
    struct hk_ocsp_request *out);

/* An unsigned OCSPResponse with only responseStatus (RFC 6960 4.2.1):
 * OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, _INTERNALERROR, _TRYLATER or
 * _UNAUTHORIZED (serve answers an unregistered client with this, CPS
 * 4-4-4-3). */
int hk_ocsp_error_response(int status, unsigned char **resp,
    size_t *resp_len);

/* The responseStatus of an OCSPResponse from the first bytes only (no
 * parse of a signed response): OCSP_RESPONSE_STATUS_SUCCESSFUL, an error
 * status, or -1 when der does not start as an OCSPResponse. */
int hk_ocsp_response_status(const unsigned char *der, size_t len);

/* Network side: read-only store, issuing CA and responder certificates,
 * no key. */
struct hk_ocsp_ctx;
int hk_ocsp_ctx_open(const char *state_dir, struct hk_ocsp_ctx **out);
void hk_ocsp_ctx_free(struct hk_ocsp_ctx *c);
/* The responders left out, as hk_ocsp_signer_warning says (without the
 * token: a certificate that does not load, or an issuing key beyond the 8
 * newest valid now); NULL when none. */
const char *hk_ocsp_ctx_warning(const struct hk_ocsp_ctx *c);

enum hk_ocsp_outcome {
	HK_OCSP_READY,		/* *resp: the pre-signed response */
	HK_OCSP_NEEDS_SIGNING,	/* *job: for hk_ocsp_sign_job */
	HK_OCSP_ERROR_RESPONSE,	/* *resp: unsigned, status only */
};

/*
 * Answer a DER OCSPRequest from the network; never signs. READY: *resp is
 * the stored pre-signed response of the one serial asked (a SHA-1 CertID
 * equal to ours, no nonce, the stored status still the certificate's, at
 * least HK_OCSP_SERVE_MARGIN left). ERROR_RESPONSE: *resp is an unsigned
 * OCSPResponse: malformedRequest (hk_ocsp_request_parse refused it),
 * unauthorized (a CertID names an issuer we do not answer for, or the
 * CertIDs name two issuing CAs: one request, one responder), tryLater
 * (the store is busy), internalError. NEEDS_SIGNING: *job for the key
 * holder, when the request carries a nonce, asks more than one serial or
 * with SHA-256, names a serial without a stored response (never issued:
 * the key holder answers unknown), or the stored one is stale. Returns 0
 * for each of these outcomes (the detail of an error response stays in
 * hk_err_msg for serve's log); an error only when no answer can be made.
 */
int hk_ocsp_answer(struct hk_ocsp_ctx *c, const unsigned char *req,
    size_t len, time_t now, enum hk_ocsp_outcome *out, unsigned char **resp,
    size_t *resp_len, unsigned char **job, size_t *job_len);

/* What serve needs for the caching headers of a READY answer, so that the
 * request path never parses the response it hands out (d2i of a response
 * decodes its responder certificate: OpenSSL 3.0's decoders, slow and
 * lock-bound). cacheable is 1 only for a pre-signed answer (one response,
 * no nonce). */
struct hk_ocsp_meta {
	int cacheable;
	time_t this_update;
	time_t next_update;
};
/* hk_ocsp_answer, and *meta filled (when not NULL). */
int hk_ocsp_answer_meta(struct hk_ocsp_ctx *c, const unsigned char *req,
    size_t len, time_t now, enum hk_ocsp_outcome *out, unsigned char **resp,
    size_t *resp_len, unsigned char **job, size_t *job_len,
    struct hk_ocsp_meta *meta);

/*
 * Key-holder side: the responder keys in the online token. on must be
 * logged in (hk_online_login) and outlive the signer. Both sides answer
 * for every issuing key whose certificate is valid now, each by its newest
 * responder (responder.current first; docs/ocsp.md "Issuing
 * generations"); one request names one issuing CA.
 */
struct hk_ocsp_signer;
int hk_ocsp_signer_open(struct hk_online *on, struct hk_ocsp_signer **out);
void hk_ocsp_signer_free(struct hk_ocsp_signer *sg);
/* The responders (for warnings): how many, and of responder i (0: the
 * newest) its number, issuing generation (0: not recorded) and notAfter. */
size_t hk_ocsp_signer_count(const struct hk_ocsp_signer *sg);
/* The responders left out (an older responder's certificate file, or any
 * responder's key in the token, that does not load; an issuing key older
 * than the 8 newest whose certificates are valid now: OCSP answers for
 * at most 8 at once): their generation's certificates are answered
 * unauthorized; one line; NULL when none. The open fails when
 * responder.current's certificate does not load or no responder's key is
 * left. */
const char *hk_ocsp_signer_warning(const struct hk_ocsp_signer *sg);
void hk_ocsp_signer_info(const struct hk_ocsp_signer *sg, size_t i,
    int *number, int *gen, time_t *not_after);
/* 1 when responder i ends with its issuing CA (made in the CA's last
 * year): no renewal takes it further, so refresh signs with it up to its
 * end and nobody is asked to renew it. */
int hk_ocsp_signer_final(const struct hk_ocsp_signer *sg, size_t i);
/* Responder n as the signer loads it (state.conf responder.<n>.cert, the
 * stored issuing CA that issued it), without the token: its issuing
 * generation (0: not recorded), notAfter, and *final as
 * hk_ocsp_signer_final. For status. */
struct hk_state;
struct hk_store;
int hk_ocsp_responder_info(const struct hk_state *st, struct hk_store *s,
    long n, int *gen, time_t *not_after, int *final);
/* Each responder the signer would sign with at now (hk_ocsp_signer_open's
 * choice, without the token: every issuing generation valid now, by its
 * newest responder), as hk_ocsp_responder_info gives them, to fn; its
 * non-zero return stops the walk and is returned. For status. */
int hk_ocsp_responders_each(const struct hk_state *st, struct hk_store *s,
    time_t now, int (*fn)(long n, int gen, time_t not_after, int final,
    void *arg), void *arg);

/*
 * Decode a job strictly (hk_ocsp_job_decode), check that every CertID
 * names one issuing CA this signer answers for (otherwise *resp is an
 * unsigned unauthorized response, the detail in hk_err_msg: an issuing
 * CA whose responder's key was left out at open, which the network side,
 * without the token, still answers for), look each status up in the
 * store and sign a BasicOCSPResponse with that CA's responder
 * (responderID byKey, the responder certificate
 * included, producedAt = thisUpdate = now, nextUpdate = now +
 * HK_OCSP_VALIDITY cut to the responder's notAfter): good for a valid
 * certificate of ours, revoked with revocationTime and reason from the
 * store, unknown for any other serial (never issued, voided, pending, or
 * another issuing key's); the nonce echoed. The signature is verified
 * before the response is returned. A job for one canonical SHA-1 CertID
 * without a nonce also refreshes the stored response.
 */
int hk_ocsp_sign_job(struct hk_ocsp_signer *sg, const unsigned char *job,
    size_t job_len, time_t now, unsigned char **resp, size_t *resp_len);

/*
 * Pre-sign, with each responder, for every certificate of its issuing CA
 * that is valid or revoked and not expired, whose stored response is
 * missing, has another status than the store's (revoked since), has less
 * than HK_OCSP_REFRESH_MARGIN left, is from the future or is older than
 * the responder certificate. Batches of one transaction each. *count:
 * responses signed. HK_ERR_STATE when a responder certificate ends within
 * the refresh margin (run hanko-online responder [--generation N]) but
 * for one that ends with its issuing CA (hk_ocsp_signer_final), which
 * signs up to its end; the other responders' responses are signed all
 * the same.
 */
int hk_ocsp_refresh(struct hk_ocsp_signer *sg, time_t now, size_t *count);

/*
 * For revoke and publish, after they change a status: hk_ocsp_refresh
 * with a signer of its own when state.conf names a responder (on logged
 * in); 0 with *count 0 when no responder is made yet. The caller audits
 * (ocsp.refresh) and checkpoints.
 */
int hk_ocsp_refresh_state(struct hk_online *on, time_t now, size_t *count);

#endif
