/*
 * issue_pipeline.h - one resident's certificate on its way through
 * "hanko-online issue" (docs/requests.md, docs/store.md "Crash safety"):
 * prepared (request checked, certificate built, its TBSCertificate fixed
 * with the issuer's signature algorithm, linted), then signed
 * by the token, both in a pool of threads, one per core (libp11 keeps a
 * pool of sessions per slot, so one key serves them all): the reserved
 * TBSCertificate's own bytes signed (hk_cert_sign_tbs), each signature
 * verified with the issuer's key before anything is written. The store is
 * the main thread's only.
 */
#ifndef HK_ISSUE_PIPELINE_H
#define HK_ISSUE_PIPELINE_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "basic4.h"
#include "profile.h"
#include "request.h"
#include "store.h"

#define HK_ISSUE_REASON_MAX	1400	/* bytes of a refusal */
#define HK_ISSUE_THREADS_MAX	64	/* signing threads */

/* What preparing a line needs; read-only while the pool runs (prepared
 * in several threads at once). */
struct hk_issue_env {
	const struct hk_request_ctx *req; /* the batch's request rules */
	const unsigned char *skey;	/* store key (resident hashes) */
	const struct hk_profile *p;	/* the state's profile */
	X509 *issuer;			/* the issuing CA certificate in use */
	EVP_PKEY *ikey;			/* its private key (token) */
	EVP_PKEY *ipub;			/* its public key */
	const EVP_MD *md;		/* the profile's digest for ipub */
	const struct hk_cert_user_tmpl *tmpl; /* issuer's shared extensions
					 * for its generation (the CRL DP
					 * partitions) and rehearsal or not;
					 * never NULL */
	const struct hk_lint_user_ctx *lint; /* the lint's names for the
					 * same; never NULL */
};

/* One request line, from its text to its signed certificate. */
struct hk_issue_item {
	size_t line;			/* line of the batch file */
	int refused;			/* 1: no certificate, reason says why */
	char reason[HK_ISSUE_REASON_MAX]; /* "<file>:<line>: <field>: <rule>" */
	unsigned char rkey[HK_STORE_RKEY_LEN]; /* the resident's keyed hash */
	struct hk_store_cert c;		/* the row to reserve (tbs points
					 * into this item) */
	struct hk_basic4 b4;		/* the requested basic 4 items */
	char hex[2 * HK_STORE_SERIAL_MAX + 1]; /* serial, upper-case hex */
	X509 *x;			/* the certificate being issued */
	unsigned char key_sha[32];	/* SHA-256 of its subjectPublicKey
					 * bits (hk_issue_key_sha) */
	unsigned char *tbs;		/* its TBSCertificate (OPENSSL_malloc) */
	int tbs_len;
	/* signing (a pool thread) */
	EVP_PKEY *key;			/* the signer (token) */
	EVP_PKEY *pub;			/* the signer's public key */
	const EVP_MD *md;		/* digest of the signature */
	int sign_r;			/* 0, or the signing error */
	char sign_err[512];		/* its detail */
	unsigned char *der;		/* the signed certificate (OPENSSL_malloc) */
	int der_len;
	/* re-issue (--replace) */
	unsigned char old[HK_STORE_SERIAL_MAX]; /* serial it replaces */
	size_t old_len;			/* 0 when none */
	int old_reason;			/* 3 or 4; 0: it had expired (not
					 * revoked, no longer live) */
	char old_hex[2 * HK_STORE_SERIAL_MAX + 1];
	char old_muni[HK_STORE_CODE_LEN + 1]; /* the old one's partition */
};

/*
 * Check the line, hash the resident, build the certificate from e->tmpl
 * (hk_cert_build_user_tmpl), fix its TBS (hk_cert_set_sigalg), lint it
 * (hk_lint_issued, hk_lint_user_with with e->lint). The line is judged
 * at now, the certificate's notBefore, not at e->req's (the batch's
 * start): a municipality retired by now issues nothing. Always fills it:
 * either a certificate to reserve or refused with the reason.
 * Returns non-zero only when the batch cannot go on (out of memory).
 */
/* SHA-256 of the subjectPublicKey bits of x's key into sha. */
int hk_issue_key_sha(X509 *x, unsigned char sha[32]);
/* The refusal of a key revoked key-compromise with certificate hex (upper
 * case): the message set, HK_ERR_INVALID. */
int hk_issue_banned(const char *hex);
int hk_issue_prepare(const struct hk_issue_env *e, size_t line,
    const char *text, size_t len, time_t now, struct hk_issue_item *it);
/* Sign it->tbs as it is with it->key, verify with it->pub, encode the
 * certificate around it into it->der (hk_cert_sign_tbs). Sets it->sign_r
 * and sign_err: HK_ERR_P11 (the token did not sign) or HK_ERR_VERIFY.
 * Thread-safe. */
void hk_issue_sign(struct hk_issue_item *it);
void hk_issue_item_clear(struct hk_issue_item *it);

/* Serial of x as big-endian bytes and upper-case hex. */
int hk_issue_serial(X509 *x, unsigned char s[HK_STORE_SERIAL_MAX],
    size_t *len, char hex[2 * HK_STORE_SERIAL_MAX + 1]);
/* Upper-case hex of bytes (2 * len + 1 bytes of out). */
void hk_issue_hex(const unsigned char *b, size_t len, char *out);

/*
 * Threads that prepare and sign items. Two sets at a time: lines to
 * prepare (taken first, so that the main thread can reserve the next chunk
 * while the current one is signed) and items to sign.
 */
struct hk_sign_pool;

/* A line to prepare (hk_issue_prepare) into it. */
struct hk_prep_job {
	size_t line;			/* line of the batch file */
	const char *text;		/* its text: len bytes, no newline */
	size_t len;
	time_t now;			/* notBefore */
	struct hk_issue_item *it;	/* where it goes */
	int r;				/* out: hk_issue_prepare's return */
};

int hk_sign_pool_start(int threads, struct hk_sign_pool **out);
/* Prepare n lines with env; the calling thread works on them too and
 * returns when all are done. */
void hk_sign_pool_prepare(struct hk_sign_pool *p,
    const struct hk_issue_env *env, struct hk_prep_job *jobs, size_t n);
/* Hand n items to sign (the previous set must have been waited for);
 * returns at once. */
void hk_sign_pool_submit(struct hk_sign_pool *p, struct hk_issue_item **items,
    size_t n);
/* Until every item of the set handed over is signed (or failed). */
void hk_sign_pool_wait(struct hk_sign_pool *p);
void hk_sign_pool_stop(struct hk_sign_pool *p);

#endif
