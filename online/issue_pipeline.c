/*
 * issue_pipeline.c - one resident's certificate: prepared (checked, built,
 * TBS fixed with the issuer's signature algorithm, linted), then signed by
 * the token in a pool of threads, verified, compared with the reserved
 * TBSCertificate (issue_pipeline.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "err.h"
#include "issue_pipeline.h"
#include "lint.h"

/* RSAPublicKey (RFC 8017 A.1.1), to hand the resident's key to the
 * builder in OpenSSL's built-in RSA form (legacy_rsa). */
typedef struct {
	BIGNUM *n;			/* modulus */
	BIGNUM *e;			/* publicExponent */
} HK_RSA_PUB;

ASN1_SEQUENCE(HK_RSA_PUB) = {
	ASN1_SIMPLE(HK_RSA_PUB, n, BIGNUM),
	ASN1_SIMPLE(HK_RSA_PUB, e, BIGNUM),
} static_ASN1_SEQUENCE_END(HK_RSA_PUB)

IMPLEMENT_STATIC_ASN1_ALLOC_FUNCTIONS(HK_RSA_PUB)
IMPLEMENT_STATIC_ASN1_ENCODE_FUNCTIONS(HK_RSA_PUB)

/*
 * The same RSA public key as an EVP_PKEY of OpenSSL's built-in RSA type
 * (d2i_PublicKey). OpenSSL 3.0 encodes a provider key's
 * SubjectPublicKeyInfo through an OSSL_ENCODER and decodes it back through
 * an OSSL_DECODER each time a certificate is built or its key identifier
 * computed (about 0.2 ms per call, three calls per certificate, more than
 * the token's signature); the built-in type encodes directly. Same n and
 * e, so the same key.
 */
static int
legacy_rsa(EVP_PKEY *pk, EVP_PKEY **out)
{
	HK_RSA_PUB *rp = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len, r = HK_ERR_CRYPTO;

	*out = NULL;
	if (EVP_PKEY_get0_provider(pk) == NULL) {
		/* already the built-in type (request.c's spki_rsa) */
		if (EVP_PKEY_up_ref(pk) != 1)
			return HK_ERR_ALLOC;
		*out = pk;
		return 0;
	}
	if ((rp = HK_RSA_PUB_new()) == NULL)
		return HK_ERR_ALLOC;
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &rp->n) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &rp->e) != 1 ||
	    (len = i2d_HK_RSA_PUB(rp, &der)) <= 0)
		goto out;
	p = der;
	if ((*out = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len)) == NULL ||
	    p != der + len) {
		EVP_PKEY_free(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		hk_err_set("key: the RSA public key does not convert");
	OPENSSL_free(der);
	HK_RSA_PUB_free(rp);
	return r;
}

void
hk_issue_hex(const unsigned char *b, size_t len, char *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
hk_issue_serial(X509 *x, unsigned char s[HK_STORE_SERIAL_MAX], size_t *len,
    char hex[2 * HK_STORE_SERIAL_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	int n;

	*len = 0;
	if (bn == NULL || BN_is_negative(bn) || (n = BN_num_bytes(bn)) < 1 ||
	    n > HK_STORE_SERIAL_MAX) {
		BN_free(bn);
		hk_err_set("user: serial: RFC 5280 4.1.2.2: 1 to 20 octets, "
		    "positive");
		return HK_ERR_INTERNAL;
	}
	*len = (size_t)BN_bn2bin(bn, s);
	BN_free(bn);
	hk_issue_hex(s, *len, hex);
	return 0;
}

void
hk_issue_item_clear(struct hk_issue_item *it)
{
	X509_free(it->x);
	OPENSSL_free(it->tbs);
	OPENSSL_free(it->der);
	OPENSSL_cleanse(it, sizeof(*it));
}

/* The refusal: every reason names the input and the line. */
static void
refuse(const struct hk_issue_env *e, struct hk_issue_item *it, int r)
{
	const char *m = *hk_err_msg() ? hk_err_msg() : hk_strerror(r);
	size_t il = strlen(e->req->input);

	it->refused = 1;
	if (strncmp(m, e->req->input, il) == 0 && m[il] == ':')
		snprintf(it->reason, sizeof(it->reason), "%s", m);
	else
		snprintf(it->reason, sizeof(it->reason), "%s:%zu: %s",
		    e->req->input, it->line, m);
	X509_free(it->x);
	it->x = NULL;
	ERR_clear_error();
}

/* Fix the TBSCertificate as the issuer will sign it (its signature
 * AlgorithmIdentifiers), encode it, lint. */
static int
fix_and_lint(const struct hk_issue_env *e, struct hk_issue_item *it)
{
	int r;

	if ((r = hk_cert_set_sigalg(it->x, e->ipub, e->md)) != 0)
		return r;
	if ((it->tbs_len = i2d_re_X509_tbs(it->x, &it->tbs)) <= 0) {
		hk_err_set("user: cannot encode the TBSCertificate");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	if ((r = hk_lint_issued(it->x, e->issuer, e->p, HK_CERT_USER)) != 0 ||
	    (r = hk_lint_user_with(it->x, e->lint)) != 0) {
		hk_err_set("lint: %s", hk_err_msg());
	}
	return r;
}

/* The row to reserve: serial, partition, issuer key id, validity. */
static int
row_of(struct hk_issue_item *it, const char *muni, time_t now)
{
	ASN1_OCTET_STRING *aki;
	int r, n;

	if ((r = hk_issue_serial(it->x, it->c.serial, &it->c.serial_len,
	    it->hex)) != 0)
		return r;
	snprintf(it->c.municipality, sizeof(it->c.municipality), "%s", muni);
	memcpy(it->c.resident_key, it->rkey, HK_STORE_RKEY_LEN);
	/* the extension itself (hk_cert_aki_keyid), not OpenSSL's cache of
	 * every extension, which costs a lock and a decode of them all */
	aki = hk_cert_aki_keyid(it->x);
	if (aki == NULL || (n = ASN1_STRING_length(aki)) < 1 ||
	    n > HK_STORE_KEYID_MAX) {
		ASN1_OCTET_STRING_free(aki);
		hk_err_set("user: RFC 5280 4.2.1.1: no authorityKeyIdentifier");
		return HK_ERR_INTERNAL;
	}
	memcpy(it->c.issuer, ASN1_STRING_get0_data(aki), (size_t)n);
	it->c.issuer_len = (size_t)n;
	ASN1_OCTET_STRING_free(aki);
	if (hk_cert_time(X509_get0_notAfter(it->x), &it->c.not_after) != 0) {
		hk_err_set("user: notAfter does not decode");
		return HK_ERR_INTERNAL;
	}
	it->c.status = HK_CERT_PENDING;
	it->c.not_before = now;
	it->c.tbs = it->tbs;
	it->c.tbs_len = (size_t)it->tbs_len;
	return 0;
}

int
hk_issue_key_sha(X509 *x, unsigned char sha[32])
{
	const unsigned char *pk;
	int pklen;

	if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)) != 1 || pklen <= 0) {
		hk_err_set("user: the certificate's public key does not decode");
		return HK_ERR_CRYPTO;
	}
	SHA256(pk, (size_t)pklen, sha);
	return 0;
}

int
hk_issue_banned(const char *hex)
{
	hk_err_set("key: CPS 4-4-2-1, 4-4-2-5: the public key of certificate "
	    "%s, revoked key-compromise: a compromised key is never certified "
	    "again; the resident needs a new key pair (a new card)", hex);
	return HK_ERR_INVALID;
}

/* CPS 4-4-2-1, 4-4-2-5: a key whose certificate was revoked for its
 * compromise (a lost or stolen card) is never certified again, for this
 * resident or another. Its hash, kept in it->key_sha, is looked up in
 * compromised_keys by the reservation's transaction (reserve_one,
 * cmd_issue.c), which also sees a revocation made while the run goes. */
static int
key_sha(struct hk_issue_item *it)
{
	return hk_issue_key_sha(it->x, it->key_sha);
}

int
hk_issue_prepare(const struct hk_issue_env *e, size_t line,
    const char *text, size_t len, time_t now, struct hk_issue_item *it)
{
	struct hk_request_ctx rc = *e->req;
	struct hk_request req;
	EVP_PKEY *key = NULL;
	int r;

	memset(it, 0, sizeof(*it));
	it->line = line;
	hk_err_clear();
	/* judged at now, the certificate's notBefore, not at the batch's
	 * start: a batch running over midnight JST into a municipality's
	 * retired day issues nothing under its code from that day on
	 * (docs/municipalities.md) */
	rc.now = now;
	/* by length: a NUL byte in the line is refused, not an end */
	if ((r = hk_request_parse_bytes(&rc, line, text, len, &req)) !=
	    0) {
		if (r == HK_ERR_ALLOC)
			return r;
		refuse(e, it, r);
		return 0;
	}
	it->b4 = req.b4;
	if ((r = hk_store_resident_key(e->skey, req.resident_id,
	    it->rkey)) != 0 || (r = legacy_rsa(req.key, &key)) != 0 ||
	    (r = hk_cert_build_user_tmpl(e->tmpl, key, req.muni->romaji,
	    req.muni->code, &req.b4, now, &it->x)) != 0 ||
	    (r = key_sha(it)) != 0 ||
	    (r = fix_and_lint(e, it)) != 0 ||
	    (r = row_of(it, req.muni->code, now)) != 0) {
		EVP_PKEY_free(key);
		hk_request_clear(&req);
		if (r == HK_ERR_ALLOC)
			return r;
		refuse(e, it, r);
		return 0;
	}
	EVP_PKEY_free(key);
	hk_request_clear(&req);
	it->key = e->ikey;
	it->pub = e->ipub;
	it->md = e->md;
	return 0;
}

void
hk_issue_sign(struct hk_issue_item *it)
{
	hk_err_clear();
	/* the reserved TBSCertificate's own bytes are signed, verified and
	 * wrapped (hk_cert_sign_tbs): what is signed is byte for byte what
	 * the store recorded, with no re-encoding to compare */
	it->sign_r = hk_cert_sign_tbs(it->tbs, (size_t)it->tbs_len, it->key,
	    it->pub, it->md, &it->der, &it->der_len);
	if (it->sign_r == HK_ERR_CRYPTO)	/* no certificate: as before */
		it->sign_r = HK_ERR_P11;
	if (it->sign_r != 0)
		snprintf(it->sign_err, sizeof(it->sign_err), "serial %s: %s",
		    it->hex, hk_err_msg());
	ERR_clear_error();
}

/* ---- the pool ------------------------------------------------------- */

struct hk_sign_pool {
	pthread_mutex_t mu;		/* guards everything below */
	pthread_cond_t work;		/* jobs handed over, or stop */
	pthread_cond_t done;		/* a set is finished */
	const struct hk_issue_env *env;	/* for the prepare jobs */
	struct hk_prep_job *prep;	/* lines to prepare (taken first) */
	size_t pn, pnext, pdone;	/* their count, next, finished */
	struct hk_issue_item **items;	/* items to sign */
	size_t n, next, finished;	/* their count, next, finished */
	int stop;			/* 1: threads leave */
	int nthreads;			/* started threads */
	pthread_t tid[HK_ISSUE_THREADS_MAX];
};

/* Run one job (unlocked); 0 when there is none. */
static int
pool_one(struct hk_sign_pool *p, int sign_too)
{
	struct hk_prep_job *j = NULL;
	struct hk_issue_item *it = NULL;

	if (p->pnext < p->pn)
		j = &p->prep[p->pnext++];
	else if (sign_too && p->next < p->n)
		it = p->items[p->next++];
	else
		return 0;
	pthread_mutex_unlock(&p->mu);
	if (j != NULL)
		j->r = hk_issue_prepare(p->env, j->line, j->text, j->len,
		    j->now, j->it);
	else
		hk_issue_sign(it);
	pthread_mutex_lock(&p->mu);
	if (j != NULL && ++p->pdone == p->pn)
		pthread_cond_broadcast(&p->done);
	if (it != NULL && ++p->finished == p->n)
		pthread_cond_broadcast(&p->done);
	return 1;
}

static void *
pool_thread(void *arg)
{
	struct hk_sign_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop)
		if (!pool_one(p, 1))
			pthread_cond_wait(&p->work, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
hk_sign_pool_start(int threads, struct hk_sign_pool **out)
{
	struct hk_sign_pool *p;
	int i;

	*out = NULL;
	if (threads < 1 || threads > HK_ISSUE_THREADS_MAX) {
		hk_err_set("--threads %d: 1 to %d", threads,
		    HK_ISSUE_THREADS_MAX);
		return HK_ERR_USAGE;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return HK_ERR_ALLOC;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&p->tid[i], NULL, pool_thread, p) != 0) {
			hk_sign_pool_stop(p);
			hk_err_set("issue: cannot start signing thread %d",
			    i + 1);
			return HK_ERR_INTERNAL;
		}
		p->nthreads++;
	}
	*out = p;
	return 0;
}

void
hk_sign_pool_prepare(struct hk_sign_pool *p, const struct hk_issue_env *env,
    struct hk_prep_job *jobs, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->env = env;
	p->prep = jobs;
	p->pn = n;
	p->pnext = p->pdone = 0;
	pthread_cond_broadcast(&p->work);
	while (p->pnext < p->pn)	/* this thread works too */
		pool_one(p, 0);
	while (p->pdone < p->pn)
		pthread_cond_wait(&p->done, &p->mu);
	p->prep = NULL;
	p->pn = p->pnext = p->pdone = 0;
	pthread_mutex_unlock(&p->mu);
}

void
hk_sign_pool_submit(struct hk_sign_pool *p, struct hk_issue_item **items,
    size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->items = items;
	p->n = n;
	p->next = 0;
	p->finished = 0;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void
hk_sign_pool_wait(struct hk_sign_pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->finished < p->n)
		pthread_cond_wait(&p->done, &p->mu);
	p->items = NULL;
	p->n = p->next = p->finished = 0;
	pthread_mutex_unlock(&p->mu);
}

void
hk_sign_pool_stop(struct hk_sign_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
