/*
 * cmd_issue.c - "hanko-online issue": residents' certificates from a batch
 * of requests (CPS 4-1 to 4-3), re-issues with --replace (CPS 4-4-1-1,
 * 4-4-4-2), crash-safe and resumable (docs/requests.md, docs/store.md
 * "Crash safety: issuance protocol").
 *
 * CPS 4-14-2: first of all, a run is refused (nothing recovered, reserved
 * or signed) when the newest root generation is declared compromised or
 * the issuing CA certificate it would use verifies under one so declared
 * (root_distrust: trust --compromised). A key the root's newest imported
 * ARL revokes (arl_stops) signs nothing: what a crash left pending under it
 * is voided, and find_issuer refuses the batch when it is the current one.
 *
 * A batch is its content's SHA-256; the store's batch journal keeps one
 * result per request line, so running the same batch again resumes it and
 * rewrites results.csv from the journal. At start, every pending
 * certificate a crash left is recovered (its reserved TBS signed again:
 * PKCS#1 v1.5 gives the same certificate) or voided. Then the lines without
 * a result go through in chunks:
 *
 *   prepare   check, build, fix the TBS (the issuer's signature
 *             algorithm), lint (the pool's threads and this one; taken
 *             before signatures)
 *   reserve   one transaction: refusals, re-issue revocations with their
 *             CRL entries, serials with their TBS, the lines' results;
 *             then audited (cert.revoke, cert.reserve)
 *   sign      the token, one thread per core, while the next chunk is
 *             prepared and reserved: the reserved TBS's own bytes
 *             signed (hk_cert_sign_tbs), each signature verified
 *   finish    audited (cert.issue), one transaction completing the chunk
 *
 * At the end results.csv is written from the journal, each issued line with
 * its certificate from the store and its status now: "ok", or "revoked" /
 * "expired" for one no longer to be delivered (each_result).
 *
 * A refused line is one result and never stops the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "basic4.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "crlpub.h"
#include "err.h"
#include "hex.h"
#include "issue_pipeline.h"
#include "lint.h"
#include "municipalities.h"
#include "name.h"
#include "online.h"
#include "profile.h"
#include "request.h"
#include "secmem.h"
#include "store.h"

#define CHUNK_DEFAULT	128		/* lines per chunk */
#define CHUNK_MIN	1
#define CHUNK_MAX	4096
#define BATCH_MAX	(256UL * 1024 * 1024) /* bytes of a batch file */
#define AUDIT_LIST_MAX	7600		/* bytes of entries in one record */
#define MARKER		"batch.sha256"	/* <out>/batch.sha256 */

struct issue_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *batch;		/* --batch FILE: the requests (CSV) */
	const char *out;		/* --out DIR: results.csv */
	int replace;			/* --replace: re-issue (CPS 4-4) */
	int chunk;			/* --chunk N: lines per chunk */
	int threads;			/* --threads N: signing threads */
};

/* An issuing key the token holds, with its generation. */
struct gen_key {
	int gen;			/* issuing.<gen>.key-uri */
	EVP_PKEY *key;			/* private (token) */
	EVP_PKEY *pub;			/* public */
	int compromised;		/* issuing.<gen>.compromised is set */
	char stopped[512];		/* the root's ARL revokes it: the line
					 * (hk_online_issuing_stopped), or "" */
};

/* A chunk: items in line order, the reserved ones handed to the pool. */
struct chunk {
	struct hk_issue_item **it;	/* prepared items */
	size_t n;			/* how many */
	struct hk_issue_item **sign;	/* reserved, to sign */
	size_t nsign;			/* how many */
};

/* What a batch works with, freed in one place. */
struct issue_work {
	const struct issue_opts *o;	/* the command line */
	struct hk_online *on;		/* the state, logged in */
	struct hk_store *store;		/* open store */
	struct hk_profile *p;		/* the state's profile */
	struct hk_munis *munis;		/* the state's municipalities */
	unsigned char *skey;		/* store key (hk_secret_alloc) */
	int rehearsal;			/* 1: rehearsal state */
	int lockfd;			/* flock(2) on the state folder */
	struct hk_sign_pool *pool;	/* signing threads */
	struct gen_key *gens;		/* issuing keys in the token */
	size_t ngens;
	X509 **cas;			/* stored issuing CA certificates */
	int *cagens;			/* and the generation of each */
	size_t ncas;
	X509 *issuer;			/* the one issuing now */
	struct gen_key *cur;		/* its key */
	EVP_MD *md;			/* digest of the issuer's signatures,
					 * fetched once (not per signature) */
	struct hk_request_ctx req;	/* the request rules */
	struct hk_batch_file bf;	/* the batch file: its bytes, lines,
					 * SHA-256 and folder (request.h) */
	struct hk_store_batch b;	/* its journal row */
	int resumed;			/* 1: the batch was known */
	int started;			/* 1: issue.start was written */
	unsigned char *done;		/* per line (1-based): has a result */
	size_t requests;		/* request lines in the batch */
	size_t todo;			/* request lines without a result */
	int stop_r;			/* a failure that ends the run */
	char stop_err[1024];		/* its detail */
	size_t n_issued, n_refused;	/* this run */
	size_t n_recovered, n_voided;	/* recovery at start */
	size_t n_ok, n_bad, n_pending;	/* the whole batch (results.csv) */
	size_t n_unprocessed;		/* request lines no run reached */
	size_t n_revoked, n_expired;	/* issued, since revoked or expired:
					 * not to be delivered */
	size_t n_compromised;		/* valid, but of an issuing key marked
					 * compromised: not revoked yet */
	int compromised_gen;		/* the first such generation */
	struct timespec t0;		/* start of the chunks, for the rate */
	size_t progressed;		/* lines with a result in this run */
};

static const char issue_usage[] =
"usage: hanko-online issue --state DIR --batch FILE --out DIR [--replace]\n"
"                          [--chunk N] [--threads N] [--clock T]\n";

static int
parse(struct issue_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--batch", .value = &o->batch, .required = 1 },
		{ .name = "--out", .value = &o->out, .required = 1 },
		{ .name = "--replace", .flag = &o->replace },
		{ .name = "--chunk", .num = &o->chunk, .lo = CHUNK_MIN,
		    .hi = CHUNK_MAX },
		{ .name = "--threads", .num = &o->threads, .lo = 1,
		    .hi = HK_ISSUE_THREADS_MAX },
		{ .name = NULL },
	};
	long ncpu;

	memset(o, 0, sizeof(*o));
	o->chunk = CHUNK_DEFAULT;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->threads = ncpu < 1 ? 1 : ncpu > HK_ISSUE_THREADS_MAX ?
	    HK_ISSUE_THREADS_MAX : (int)ncpu;
	return hk_online_parse(&o->c, argc, argv, issue_usage, args, NULL);
}

/* ---- opening: state, store, token keys, issuing CA ------------------ */

/* One issuing process per state folder: recovery must never take another
 * run's in-flight reservations for a crash's. */
static int
state_lock(struct issue_work *w)
{
	return hk_online_issue_lock(w->on, &w->lockfd);
}

/* state.conf read again under the lock: "revoke --issuing-key-compromise"
 * marks issuing.N.compromised while it holds the lock, so a copy read
 * before the lock may predate the mark (CPS 4-14-2: nothing is issued or
 * recovered under the key once it is marked). */
static int
state_reload(struct issue_work *w)
{
	struct hk_state *st;
	int r;

	if ((r = hk_state_load(w->on->st->dir, &st)) != 0)
		return r;
	hk_state_free(w->on->st);
	w->on->st = st;
	return 0;
}

static int
each_ca(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct issue_work *w = arg;
	const unsigned char *p = der;
	X509 *x, **nc;
	int *ng;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored issuing CA certificate "
		    "does not parse");
		return HK_ERR_STATE;
	}
	if ((nc = reallocarray(w->cas, w->ncas + 1, sizeof(*nc))) == NULL) {
		X509_free(x);
		return HK_ERR_ALLOC;
	}
	w->cas = nc;
	if ((ng = reallocarray(w->cagens, w->ncas + 1, sizeof(*ng))) == NULL) {
		X509_free(x);
		return HK_ERR_ALLOC;
	}
	w->cagens = ng;
	w->cagens[w->ncas] = gen;
	w->cas[w->ncas++] = x;
	return 0;
}

/* state.conf's issuing.<gen>.compromised (its time), or NULL. */
static const char *
compromise_mark(const struct issue_work *w, int gen)
{
	char key[64];

	snprintf(key, sizeof(key), "issuing.%d.compromised", gen);
	return hk_state_get(w->on->st, key);
}

/*
 * The keys the root has revoked (CPS 4-14-2; hk_online_issuing_stopped:
 * the newest stored ARL lists a certificate of the key and none of its
 * certificates valid now is unlisted): what a crash left pending under
 * one is voided, never signed (recover); find_issuer refuses to issue
 * under one (hk_online_current_issuer).
 */
static int
arl_stops(struct issue_work *w)
{
	struct hk_online_issuing l;
	size_t i;
	int r;

	if ((r = hk_online_issuing_load(w->store, &l)) != 0)
		return r;
	if ((r = hk_online_issuing_arl(w->store, &l)) == 0)
		for (i = 0; i < w->ngens; i++)
			(void)hk_online_issuing_stopped(&l, w->gens[i].pub,
			    hk_clock_now(), w->gens[i].stopped,
			    sizeof(w->gens[i].stopped));
	hk_online_issuing_free(&l);
	return r;
}

/* Every issuing key the token still holds (recovery may need an older
 * generation's), and every stored issuing CA certificate. */
static int
load_keys(struct issue_work *w)
{
	char key[64];
	int n, i, r;

	if ((r = hk_online_top_gen(w->on, &n)) != 0)
		return r;
	if ((w->gens = calloc((size_t)n, sizeof(*w->gens))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 1; i <= n; i++) {
		struct gen_key *k = &w->gens[w->ngens];
		const char *uri;

		snprintf(key, sizeof(key), "issuing.%d.key-uri", i);
		if ((uri = hk_state_get(w->on->st, key)) == NULL)
			continue;
		r = hk_token_key(w->on->tok, uri, &k->key, &k->pub);
		if (r == HK_ERR_NOT_FOUND && i < n)
			continue;	/* an older key, retired */
		if (r != 0)
			return r;
		k->gen = i;
		k->compromised = compromise_mark(w, i) != NULL;
		w->ngens++;
	}
	if ((r = hk_store_ca_each(w->store, HK_CA_ISSUING, each_ca, w)) != 0)
		return r;
	return arl_stops(w);
}

static void
gen_free(struct issue_work *w)
{
	size_t i;

	for (i = 0; i < w->ngens; i++) {
		EVP_PKEY_free(w->gens[i].key);
		EVP_PKEY_free(w->gens[i].pub);
	}
	free(w->gens);
	for (i = 0; i < w->ncas; i++)
		X509_free(w->cas[i]);
	free(w->cas);
	free(w->cagens);
}

/* The token key of a CA certificate, or NULL. */
static struct gen_key *
key_of(struct issue_work *w, X509 *ca)
{
	size_t i;

	for (i = 0; i < w->ngens; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(ca), w->gens[i].pub) == 1)
			return &w->gens[i];
	return NULL;
}

/*
 * CPS 1-3-2: a resident's certificate runs 3 years from issue, never cut
 * short (hk_cert_user_not_after). An issuing CA whose certificate ends
 * before one issued at now would has closed its issuing window (PROFILE.md:
 * it covers its window + 3 y): HK_ERR_STATE, the message saying what comes
 * next. Its key still signs CRLs and OCSP for what it issued (publish,
 * responder).
 */
static int
window_open(struct issue_work *w, time_t now)
{
	struct hk_err_kept keep;
	time_t na;
	int r, top = 0;

	if ((r = hk_cert_user_not_after(w->p, w->issuer, w->cur->gen, now,
	    &na)) != HK_ERR_STATE)
		return r;
	hk_err_keep(&keep);
	if (hk_online_top_gen(w->on, &top) == 0 && top > w->cur->gen)
		hk_err_set("%s; issuing generation %d (requested) has no "
		    "certificate valid now: certify it (the issue-subca "
		    "ceremony) and hanko-online import it (docs/air-gap.md)",
		    keep.msg, top);
	else
		hk_err_set("%s; make the next issuing generation: "
		    "hanko-online request --type csr, the issue-subca "
		    "ceremony, hanko-online import (docs/air-gap.md)",
		    keep.msg);
	return r;
}

/*
 * The current issuing CA (hk_online_current_issuer, the rule publish and
 * responder use too). A new key issues only once the root has certified
 * it and its certificate is imported and valid; until then (the days a
 * re-key request takes across the air gap) the generation before it goes
 * on issuing, so that the municipalities' counters never stop. Only the
 * current generation issues: once its window has closed nothing is issued
 * (window_open) until a newer one is imported and valid, which is then the
 * current one (a newer generation's certificate ends later: no older one
 * could have an open window).
 */
static int
find_issuer(struct issue_work *w)
{
	X509 *x = NULL;
	size_t i;
	int gen, r;

	if ((r = hk_online_current_issuer(w->on, w->store, hk_clock_now(), &x,
	    &gen, NULL)) != 0)
		return r;
	for (i = 0; i < w->ncas && w->issuer == NULL; i++)
		if (X509_cmp(w->cas[i], x) == 0)
			w->issuer = w->cas[i];
	X509_free(x);
	if (w->issuer == NULL || (w->cur = key_of(w, w->issuer)) == NULL ||
	    w->cur->gen != gen) {
		hk_err_set("issue: the current issuing CA is not among the "
		    "loaded ones");
		return HK_ERR_INTERNAL;
	}
	if (w->cur->compromised) {
		hk_err_set("%s/state.conf: issuing.%d.compromised: CPS 4-14-2: "
		    "no issuance under a compromised issuing key",
		    w->on->st->dir, w->cur->gen);
		return HK_ERR_STATE;
	}
	if ((r = window_open(w, hk_clock_now())) != 0)
		return r;
	if (!EVP_PKEY_is_a(w->cur->pub, "RSA")) {
		hk_err_set("issue: the issuing key must be RSA (PROFILE.md)");
		return HK_ERR_STATE;
	}
	/* the pool's threads share the issuer: fill OpenSSL's caches of it
	 * (extensions, public key) here, before they read it */
	(void)X509_check_purpose(w->issuer, -1, 0);
	(void)X509_get0_pubkey(w->issuer);
	if ((w->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(hk_cert_md(w->p,
	    w->cur->pub)), NULL)) == NULL) {
		hk_err_set("issue: cannot fetch the digest");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	return 0;
}

/* One municipality's newest valid certificate against today's names. */
struct names_ctx {
	struct issue_work *w;
	const struct hk_muni *m;
};

/* "CN=..." of a name, or the whole DN when cn is 0, for messages. */
static void
name_text(const X509_NAME *dn, int cn, char *buf, size_t len)
{
	int i = dn != NULL ? X509_NAME_get_index_by_NID(dn, NID_commonName,
	    -1) : -1;
	const ASN1_STRING *v;
	char *t;

	snprintf(buf, len, "%s", "(no directoryName)");
	if (dn != NULL && !cn && (t = hk_name_print(dn)) != NULL) {
		snprintf(buf, len, "%s", t);
		free(t);
	} else if (i >= 0 && (v = X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(dn, i))) != NULL)
		snprintf(buf, len, "CN=%.*s", ASN1_STRING_length(v),
		    (const char *)ASN1_STRING_get0_data(v));
}

static int
names_newest(const unsigned char *der, size_t len,
    const unsigned char *issuer, size_t issuer_len, time_t not_after,
    void *arg)
{
	struct names_ctx *nc = arg;
	struct issue_work *w = nc->w;
	const ASN1_OCTET_STRING *ski;
	struct hk_crlpub_dpname want, got;
	char a[HK_PROFILE_DN_MAX + 64], b[HK_PROFILE_DN_MAX + 64];
	char field[160], serial[2 * 20 + 1] = "?";
	const unsigned char *p = der;
	X509 *x;
	size_t i;
	int gen = 0, r = 0;

	if (not_after < hk_clock_now())
		return 0;	/* expired: its partition answers for nothing */
	for (i = 0; i < w->ncas && gen == 0; i++)
		if ((ski = X509_get0_subject_key_id(w->cas[i])) != NULL &&
		    (size_t)ASN1_STRING_length(ski) == issuer_len &&
		    memcmp(ASN1_STRING_get0_data(ski), issuer,
		    issuer_len) == 0)
			gen = w->cagens[i];
	if (gen < 1)
		return 0;	/* not an issuing CA of the store's */
	memset(&want, 0, sizeof(want));
	memset(&got, 0, sizeof(got));
	if (hk_crlpub_cert_dp(der, len, &got) != 0) {
		hk_err_clear();
		return 0;	/* not ours to judge (lint passed it once) */
	}
	if ((r = hk_crlpub_partition_names(w->p, nc->m->romaji, nc->m->code,
	    gen, w->rehearsal, &want)) != 0)
		goto out;
	if (hk_crlpub_dpname_eq(&want, &got))
		goto out;
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
		const ASN1_INTEGER *sn = X509_get0_serialNumber(x);

		if (sn->length > 0 && sn->length <= 20)
			hk_issue_hex(sn->data, (size_t)sn->length, serial);
		X509_free(x);
	}
	if (got.dn != NULL && hk_cert_name_eq(want.dn, got.dn)) {
		snprintf(field, sizeof(field), "profile.yaml: repository-url");
		snprintf(a, sizeof(a), "%s", want.uri[0] ? want.uri : "no URI");
		snprintf(b, sizeof(b), "%s", got.uri[0] ? got.uri : "no URI");
	} else {
		name_text(want.dn, 1, a, sizeof(a));
		name_text(got.dn, 1, b, sizeof(b));
		if (strcmp(a, b) != 0)
			snprintf(field, sizeof(field), "municipalities.csv: %s: "
			    "romaji \"%s\"", nc->m->code, nc->m->romaji);
		else {
			snprintf(field, sizeof(field), "profile.yaml: "
			    "issuing-ca: subject-prefix");
			name_text(want.dn, 0, a, sizeof(a));
			name_text(got.dn, 0, b, sizeof(b));
		}
	}
	hk_err_set("%s: partition %s (issuing generation %d) would be named "
	    "%s, but its newest valid certificate (serial %s) names %s: RFC "
	    "5280 5.2.5, 6.3.3: a certificate names its partition for life "
	    "and no CRL covers both names; put the old value back "
	    "(docs/municipalities.md, \"A merger or a rename\"); nothing "
	    "issued", field, nc->m->code, gen, a, serial, b);
	r = HK_ERR_STATE;
out:
	hk_crlpub_dpname_clear(&want);
	hk_crlpub_dpname_clear(&got);
	return r;
}

/*
 * docs/municipalities.md, "A merger or a rename": a certificate names its
 * partition (romaji, subject prefix, repository URL) for life, and publish
 * holds back a partition whose names changed (step 5). A certificate
 * issued under the new names would name a partition that no CRL of the
 * old ones covers, and putting the old value back would leave it
 * uncovered in turn: the batch is refused before anything is signed when
 * the newest valid certificate of any partition names other than today's
 * file and profile give (one index seek each).
 */
static int
names_check(struct issue_work *w)
{
	struct names_ctx nc;
	size_t i;
	int r;

	nc.w = w;
	for (i = 0; i < w->munis->n; i++) {
		if (!w->munis->m[i].partition)
			continue;
		nc.m = &w->munis->m[i];
		if ((r = hk_store_cert_newest_valid(w->store, nc.m->code,
		    names_newest, &nc)) != 0)
			return r;
	}
	return 0;
}

/*
 * The token's compromise marks (hk_online_mark_lost), once per run, under
 * the issuance lock as the state.conf read: a generation the token marks
 * compromised is compromised, whatever state.conf says. One that
 * state.conf does not mark means a state.conf older than the compromise
 * (restored from a backup): nothing is issued or recovered under any key
 * until revoke --issuing-key-compromise has marked it again, as the store
 * restored with it holds the key's certificates valid again.
 */
static int
token_marks(struct issue_work *w)
{
	char val[HK_P11_DATA_MAX];
	size_t i;
	int gen, r;

	if ((r = hk_online_mark_lost(w->on, 1, &gen, val, sizeof(val))) < 0)
		return r;
	if (r == 0)
		return 0;
	for (i = 0; i < w->ngens; i++)
		if (w->gens[i].gen == gen)
			w->gens[i].compromised = 1;
	return hk_online_mark_refuse(w->on, gen, val);
}

static int
work_open(struct issue_work *w, const struct issue_opts *o)
{
	const char *reh;
	char path[4096];
	int r;

	w->o = o;
	w->lockfd = -1;
	if ((r = hk_online_open(&o->c, &w->on)) != 0 ||
	    (r = state_lock(w)) != 0 || (r = state_reload(w)) != 0)
		return r;
	reh = hk_state_get(w->on->st, "rehearsal");
	w->rehearsal = reh != NULL && strcmp(reh, "yes") == 0;
	if ((r = hk_online_profile(w->on, &w->p)) != 0 ||
	    (r = hk_online_path(w->on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &w->munis)) != 0 ||
	    (r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0,
	    &w->store)) != 0)
		return r;
	if ((r = hk_online_store_key_checked(w->on, &w->skey)) != 0)
		return r;
	if ((r = load_keys(w)) != 0 || (r = token_marks(w)) != 0)
		return r;
	return hk_sign_pool_start(o->threads, &w->pool);
}

static void
work_close(struct issue_work *w)
{
	hk_sign_pool_stop(w->pool);
	hk_secret_free(w->skey);
	EVP_MD_free(w->md);
	gen_free(w);
	free(w->done);
	hk_batch_file_free(&w->bf);
	hk_munis_free(w->munis);
	hk_profile_free(w->p);
	hk_store_close(w->store);
	if (w->lockfd >= 0)
		close(w->lockfd);
	hk_online_close(w->on);
}

/* ---- audit records listing many certificates ------------------------ */

/* One event whose entries are packed into as few records as fit. */
struct audit_list {
	struct hk_online *on;		/* where records go */
	const char *event;		/* e.g. "cert.issue" */
	const char *result;		/* "ok" */
	char head[160];			/* what the entries are */
	char buf[AUDIT_LIST_MAX + 256];	/* entries so far */
	size_t len;			/* bytes in buf */
	size_t n;			/* entries in buf */
	int r;				/* first append failure */
};

static void
alist_init(struct audit_list *l, struct hk_online *on, const char *event,
    const char *head)
{
	memset(l, 0, sizeof(*l));
	l->on = on;
	l->event = event;
	l->result = "ok";
	snprintf(l->head, sizeof(l->head), "%s", head);
}

static int
alist_flush(struct audit_list *l)
{
	int r;

	if (l->n == 0)
		return l->r;
	r = hk_online_audit(l->on, l->event, l->result, "%s (%zu): %s",
	    l->head, l->n, l->buf);
	if (r != 0 && l->r == 0)
		l->r = r;
	l->len = l->n = 0;
	l->buf[0] = '\0';
	return l->r;
}

static void
alist_add(struct audit_list *l, const char *entry)
{
	size_t el = strlen(entry);

	if (l->len > 0 && l->len + 1 + el > AUDIT_LIST_MAX)
		alist_flush(l);
	if (l->len > 0)
		l->buf[l->len++] = ' ';
	snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s", entry);
	l->len += strlen(l->buf + l->len);
	l->n++;
}

/* ---- recovery of what a crash left pending -------------------------- */

struct recovery {
	struct issue_work *w;		/* the run */
	struct hk_issue_item **it;	/* pending certificates */
	size_t n, cap;
	char (*why)[600];		/* per item: "" signable, or why not */
};

static X509 *
ca_of(struct issue_work *w, const struct hk_store_cert *c)
{
	ASN1_OCTET_STRING *ski;
	X509 *found = NULL;
	size_t i;

	for (i = 0; i < w->ncas; i++) {
		if ((ski = hk_cert_ski(w->cas[i])) == NULL)
			continue;
		if ((size_t)ASN1_STRING_length(ski) == c->issuer_len &&
		    memcmp(ASN1_STRING_get0_data(ski), c->issuer,
		    c->issuer_len) == 0)
			found = w->cas[i];
		ASN1_OCTET_STRING_free(ski);
	}
	return found;
}

/* A reservation of a key revoked key-compromise since it was made (CPS
 * 4-4-2-5: never certified again): why says so, it is voided, not signed.
 * 0 (why set or left empty), or a failure of the store. */
static int
pending_banned(struct issue_work *w, struct hk_issue_item *it, char *why)
{
	unsigned char s[HK_STORE_SERIAL_MAX];
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	size_t sl;
	int r;

	if (hk_issue_key_sha(it->x, it->key_sha) != 0) {
		snprintf(why, 600, "%s", hk_err_msg());
		return 0;
	}
	if ((r = hk_store_key_compromised_find(w->store, it->key_sha, s,
	    &sl)) == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		return 0;
	}
	if (r != 0)
		return r;
	hk_issue_hex(s, sl, hex);
	snprintf(why, 600, "its key is that of certificate %s, revoked "
	    "key-compromise since it was reserved (CPS 4-4-2-1, 4-4-2-5: a "
	    "compromised key is never certified again)", hex);
	return 0;
}

static int
each_pending(const struct hk_store_cert *c, void *arg)
{
	struct recovery *rc = arg;
	struct issue_work *w = rc->w;
	struct hk_issue_item *it, **ni;
	time_t now = hk_clock_now();
	struct gen_key *k = NULL;
	char (*nw)[600];
	X509 *ca;
	int r;

	if (rc->n == rc->cap) {
		size_t cap = rc->cap ? 2 * rc->cap : 64;

		if ((ni = reallocarray(rc->it, cap, sizeof(*ni))) == NULL)
			return HK_ERR_ALLOC;
		rc->it = ni;
		if ((nw = reallocarray(rc->why, cap, sizeof(*nw))) == NULL)
			return HK_ERR_ALLOC;
		rc->why = nw;
		rc->cap = cap;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return HK_ERR_ALLOC;
	rc->it[rc->n] = it;
	rc->why[rc->n][0] = '\0';
	rc->n++;
	it->c = *c;
	it->c.tbs = NULL;
	hk_issue_hex(c->serial, c->serial_len, it->hex);
	if (c->tbs == NULL || c->tbs_len == 0 || c->tbs_len > INT_MAX) {
		snprintf(rc->why[rc->n - 1], 600, "no TBSCertificate recorded");
		return 0;
	}
	/* out of memory stops the run: the rows stay pending (a void is for
	 * what can never be signed) */
	if ((it->tbs = OPENSSL_memdup(c->tbs, c->tbs_len)) == NULL)
		return HK_ERR_ALLOC;
	it->tbs_len = (int)c->tbs_len;
	it->c.tbs = it->tbs;
	if ((ca = ca_of(w, c)) == NULL || (k = key_of(w, ca)) == NULL)
		snprintf(rc->why[rc->n - 1], 600, "its issuing key is not in "
		    "the token or its CA certificate not in the store");
	else if (k->compromised)
		snprintf(rc->why[rc->n - 1], 600, "issuing key generation %d "
		    "is compromised (CPS 4-4-1-3)", k->gen);
	else if (k->stopped[0] != '\0')
		snprintf(rc->why[rc->n - 1], 600, "the root has revoked its "
		    "issuing CA (CPS 4-14-2): %s", k->stopped);
	else if (X509_cmp_time(X509_get0_notAfter(ca), &now) <= 0)
		snprintf(rc->why[rc->n - 1], 600, "its issuing CA certificate "
		    "has expired");
	else if ((r = hk_cert_unsigned_from_tbs(it->tbs, (size_t)it->tbs_len,
	    k->pub, hk_cert_md(w->p, k->pub), &it->x)) != 0) {
		/* bytes that are not a TBSCertificate of this key can never
		 * be signed; anything else stops the run with the rows
		 * pending */
		if (r != HK_ERR_PARSE && r != HK_ERR_INVALID)
			return r;
		snprintf(rc->why[rc->n - 1], 600, "%s", hk_err_msg());
	} else if ((r = pending_banned(w, it, rc->why[rc->n - 1])) != 0) {
		return r;
	} else if (rc->why[rc->n - 1][0] == '\0') {
		it->key = k->key;
		it->pub = k->pub;
		it->md = hk_cert_md(w->p, k->pub);
	}
	return 0;
}

static int
each_replaced(const unsigned char *serial, size_t len, int reason, void *arg)
{
	char *buf = arg, hex[2 * HK_STORE_SERIAL_MAX + 1];
	size_t l = strlen(buf);

	hk_issue_hex(serial, len, hex);
	snprintf(buf + l, 1024 - l, "%s serial %s revoked, reason %d (%s)",
	    l == 0 ? "; it replaced:" : ",", hex, reason,
	    hk_revreq_reason_name(reason));
	return 0;
}

/*
 * Every pending certificate: its recorded TBS signed again (the same
 * certificate), compared, verified, audited cert.recover, completed; voided
 * (cert.void, the serial never reused) only when it cannot be signed any
 * more. A token failure stops (the rows stay pending for the next run).
 */
static int
recover(struct issue_work *w)
{
	struct recovery rc;
	struct hk_issue_item **sign = NULL;
	char replaced[1024];
	size_t i, ns = 0;
	int r = 0;

	memset(&rc, 0, sizeof(rc));
	rc.w = w;
	/* a pending row is always of a stored issuing CA (its AKI): one
	 * index range per CA, not a scan of the whole table */
	for (i = 0; i < w->ncas; i++) {
		ASN1_OCTET_STRING *ski = hk_cert_ski(w->cas[i]), *o;
		size_t k;

		for (k = 0; ski != NULL && k < i; k++) {
			/* a key certified twice: its rows once */
			if ((o = hk_cert_ski(w->cas[k])) != NULL &&
			    ASN1_OCTET_STRING_cmp(o, ski) == 0) {
				ASN1_OCTET_STRING_free(ski);
				ski = NULL;
			}
			ASN1_OCTET_STRING_free(o);
		}
		if (ski == NULL)
			continue;
		r = hk_store_pending_each(w->store, ASN1_STRING_get0_data(ski),
		    (size_t)ASN1_STRING_length(ski), each_pending, &rc);
		ASN1_OCTET_STRING_free(ski);
		if (r != 0)
			goto out;
	}
	if (rc.n == 0)
		goto out;
	if ((sign = calloc(rc.n, sizeof(*sign))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < rc.n; i++)
		if (rc.why[i][0] == '\0')
			sign[ns++] = rc.it[i];
	hk_sign_pool_submit(w->pool, sign, ns);
	hk_sign_pool_wait(w->pool);
	/* audited before the commit: a crash in between is recovered again */
	for (i = 0; i < rc.n; i++) {
		struct hk_issue_item *it = rc.it[i];

		if (rc.why[i][0] == '\0' && it->sign_r == HK_ERR_P11) {
			hk_err_set("recovery: %s", it->sign_err);
			r = HK_ERR_P11;
			goto out;
		}
		if (rc.why[i][0] == '\0' && it->sign_r != 0)
			snprintf(rc.why[i], 600, "%s", it->sign_err);
		replaced[0] = '\0';
		if ((r = hk_store_replaced_each(w->store, it->c.serial,
		    it->c.serial_len, each_replaced, replaced)) != 0)
			goto out;
		if (rc.why[i][0] == '\0')
			r = hk_online_audit(w->on, "cert.recover", "ok",
			    "serial %s: municipality %s: reserved before a "
			    "crash, its recorded TBSCertificate signed again "
			    "and verified%s", it->hex, it->c.municipality,
			    replaced);
		else
			r = hk_online_audit(w->on, "cert.void", "fail",
			    "serial %s: municipality %s: reserved before a "
			    "crash, cannot be signed any more: %s; the serial "
			    "is never used again%s", it->hex,
			    it->c.municipality, rc.why[i], replaced);
		if (r != 0)
			goto out;
	}
	if ((r = hk_store_begin(w->store)) != 0)
		goto out;
	for (i = 0; i < rc.n && r == 0; i++) {
		struct hk_issue_item *it = rc.it[i];

		if (rc.why[i][0] == '\0') {
			r = hk_store_cert_complete(w->store, it->c.serial,
			    it->c.serial_len, it->der, (size_t)it->der_len);
			w->n_recovered++;
		} else {
			r = hk_store_cert_void(w->store, it->c.serial,
			    it->c.serial_len);
			w->n_voided++;
		}
	}
	if (r == 0)
		r = hk_store_commit(w->store);
	else
		hk_store_rollback(w->store);
	if (r != 0)
		w->n_recovered = w->n_voided = 0;
 out:
	for (i = 0; i < rc.n; i++) {
		hk_issue_item_clear(rc.it[i]);
		free(rc.it[i]);
	}
	free(rc.it);
	free(rc.why);
	free(sign);
	return r;
}

/* ---- the batch: identity, journal, output folder -------------------- */

static int
batch_read(struct issue_work *w)
{
	int r;

	w->req.munis = w->munis;
	w->req.p = w->p;
	w->req.now = hk_clock_now();
	/* req.basedir points into w->bf, the run's own */
	if ((r = hk_batch_file_read(w->o->batch, BATCH_MAX, &w->bf, &w->req)) != 0)
		return r;
	if ((w->done = calloc(w->bf.nlines + 1, 1)) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

/* Line ln (1-based) as a C string; NULL past the end. */
static const char *
line_text(struct issue_work *w, size_t ln)
{
	return ln >= 1 && ln <= w->bf.nlines ?
	    (const char *)w->bf.content + w->bf.lines[ln - 1] : NULL;
}

/* Line ln's length in bytes (0 when there is no such line). */
static size_t
line_len(struct issue_work *w, size_t ln)
{
	return ln >= 1 && ln <= w->bf.nlines ? w->bf.lens[ln - 1] : 0;
}

static int
is_request(const char *t, size_t len)
{
	/* blank only when empty: a line starting with a NUL byte is a
	 * request, and refused as one */
	return t != NULL && len > 0 && t[0] != '#';
}

static int
each_done(const struct hk_store_batch_result *res, void *arg)
{
	struct issue_work *w = arg;

	if (res->line >= 2 && res->line <= w->bf.nlines)
		w->done[res->line] = 1;
	return 0;
}

/* The journal row of the same content run before (resume), whose mode
 * must be this run's; none for a new batch (journal_add makes it once the
 * output folder is there). */
static int
journal_find(struct issue_work *w)
{
	int r, was;

	if ((r = hk_store_batch_find(w->store, w->bf.sha, &w->b)) ==
	    HK_ERR_NOT_FOUND) {
		memset(&w->b, 0, sizeof(w->b));
		return 0;
	}
	if (r != 0)
		return r;
	w->resumed = 1;
	was = strncmp(w->b.name, "issue --replace ", 16) == 0;
	if (was != w->o->replace) {
		hk_err_set("%s: this batch (sha256 %.16s...) was started %s "
		    "--replace; a batch keeps its mode: rerun it that way, or "
		    "send %s as a new batch", w->o->batch, w->bf.sha, was ?
		    "with" : "without", was ? "the first issues" :
		    "the re-issues");
		return HK_ERR_USAGE;
	}
	return hk_store_batch_each(w->store, w->b.id, each_done, w);
}

static int
journal_add(struct issue_work *w)
{
	size_t ln;
	int r;

	if (!w->resumed) {
		snprintf(w->b.name, sizeof(w->b.name), "issue%s %s",
		    w->o->replace ? " --replace" : "", w->o->batch);
		if ((r = hk_store_batch_add(w->store, w->bf.sha, w->b.name,
		    hk_clock_now(), &w->b.id)) != 0)
			return r;
	}
	for (ln = 2; ln <= w->bf.nlines; ln++)
		if (is_request(line_text(w, ln), line_len(w, ln))) {
			w->requests++;
			w->todo += !w->done[ln];
		}
	return 0;
}

/* The folder name in dfd, opened without following a symlink; NULL if
 * it cannot be. */
static DIR *
dir_at(int dfd, const char *name)
{
	DIR *dir;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return NULL;
	if ((dir = fdopendir(fd)) == NULL)
		close(fd);
	return dir;
}

/* 1 if DIR (a folder "<out>.issue-XXXXXX" beside <out>) is one that a run
 * killed between making and renaming its new output folder left: nothing
 * but at most the batch marker, and unchanged for a
 * minute (no live run is between the two steps that long). */
static int
stale_out(int dfd, const char *name)
{
	struct dirent *e;
	struct stat st;
	DIR *dir;
	int fd, ok = 1;
	time_t now = time(NULL);

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    now - st.st_mtime < 60 || (dir = dir_at(dfd, name)) == NULL)
		return 0;
	fd = dirfd(dir);
	while (ok && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strcmp(e->d_name, MARKER) == 0)
			ok = fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 && S_ISREG(st.st_mode) && st.st_size <= 65;
		else
			ok = 0;
	}
	closedir(dir);
	return ok;
}

/* Remove what stale_out finds beside <out> (docs/requests.md). */
static void
out_sweep(const char *out)
{
	char parent[4096], tmp[4200];
	const char *base = strrchr(out, '/');
	struct dirent *e;
	size_t bl;
	DIR *dir;
	int dfd;

	if (base == NULL) {
		snprintf(parent, sizeof(parent), ".");
		base = out;
	} else {
		snprintf(parent, sizeof(parent), "%.*s", (int)(base - out) +
		    (base == out), out);
		base++;
	}
	bl = strlen(base);
	if (bl == 0 || (dir = opendir(parent)) == NULL)
		return;
	dfd = dirfd(dir);
	while ((e = readdir(dir)) != NULL) {
		const char *n = e->d_name;

		if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".issue-",
		    7) != 0 || strlen(n + bl + 7) != 6 || !stale_out(dfd, n))
			continue;
		snprintf(tmp, sizeof(tmp), "%s/%s", n, MARKER);
		(void)unlinkat(dfd, tmp, 0);
		if (unlinkat(dfd, n, AT_REMOVEDIR) == 0)
			printf("removed %s/%s, left by a run interrupted while "
			    "it made its output folder\n", parent, n);
	}
	closedir(dir);
}

/* Temporary results a run killed while writing them left in <out>
 * (hk_wfile: "results.csv.tmp-" and 16 hex digits). */
static void
results_sweep(const char *out)
{
	(void)hk_tmp_sweep(out, "results.csv");
}

/* <out>: made (with the batch marker) beside and renamed into
 * place, or the folder of this same batch (resume). */
static int
out_open(struct issue_work *w)
{
	const char *out = w->o->out;
	char tmp[4096], path[4200], line[80];
	unsigned char *m = NULL;
	size_t ml = 0;
	int r;

	if (hk_path_exists(out)) {
		snprintf(path, sizeof(path), "%s/%s", out, MARKER);
		snprintf(line, sizeof(line), "%s\n", w->bf.sha);
		if (hk_file_read(path, 4096, &m, &ml) != 0 ||
		    ml != strlen(line) || memcmp(m, line, ml) != 0) {
			free(m);
			hk_err_set("%s: already exists and is not the output "
			    "of this batch (%s); give a new --out, or the "
			    "batch's own to resume it", out, MARKER);
			return HK_ERR_EXISTS;
		}
		free(m);
		results_sweep(out);
	} else {
		out_sweep(out);
		if ((r = hk_dir_temp_beside(out, "issue", tmp,
		    sizeof(tmp))) != 0)
			return r;
		snprintf(path, sizeof(path), "%s/%s", tmp, MARKER);
		snprintf(line, sizeof(line), "%s\n", w->bf.sha);
		if ((r = hk_file_write(path, line, strlen(line), 0644,
		    HK_WRITE_NOREPLACE)) != 0)
			goto fail;
		if (chmod(tmp, 0755) != 0 || renameat2(AT_FDCWD, tmp,
		    AT_FDCWD, out, RENAME_NOREPLACE) != 0) {
			hk_err_set("%s: cannot rename into place: %s", out,
			    strerror(errno));
			r = errno == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
			goto fail;
		}
		if ((r = hk_dir_sync(out)) != 0)
			return r;
	}
	return 0;
 fail:
	snprintf(path, sizeof(path), "%s/%s", tmp, MARKER);
	(void)unlink(path);
	(void)rmdir(tmp);
	return r;
}

/* ---- progress ------------------------------------------------------- */

static double
elapsed(const struct issue_work *w)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - w->t0.tv_sec) +
	    (double)(t.tv_nsec - w->t0.tv_nsec) / 1e9;
}

static void
progress(struct issue_work *w, int last)
{
	double s = elapsed(w), rate = s > 0 ? (double)w->progressed / s : 0;
	size_t total = w->todo, done = w->progressed;
	long eta = rate > 0 ? (long)((double)(total - done) / rate) : 0;
	char bar[31];
	size_t i, fill = total ? done * 30 / total : 30;

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\rissue [%s] %zu/%zu lines, %.0f/s, ETA %ld:%02ld ",
	    bar, done, total, rate, eta / 60, eta % 60);
	if (last)
		fputc('\n', stderr);
}

/* ---- a chunk: prepare, reserve, finish ------------------------------ */

static struct hk_issue_item *
item_new(void)
{
	return calloc(1, sizeof(struct hk_issue_item));
}

static void
item_free(struct hk_issue_item *it)
{
	if (it != NULL) {
		hk_issue_item_clear(it);
		free(it);
	}
}

/* Fill cur: the items carried over first, then new lines, prepared by
 * the pool (this thread too). */
static int
prepare(struct issue_work *w, const struct hk_issue_env *env,
    struct chunk *cur, struct chunk *carry, struct hk_prep_job *jobs,
    size_t *next)
{
	const char *t;
	time_t now = hk_clock_now();
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < carry->n; i++)
		cur->it[cur->n++] = carry->it[i];
	carry->n = 0;
	while (cur->n < (size_t)w->o->chunk && *next <= w->bf.nlines) {
		size_t ln = (*next)++;

		if (w->done[ln] || !is_request(t = line_text(w, ln),
		    line_len(w, ln)))
			continue;
		/* the window closing during the run ends it, what is in
		 * flight finished; the lines left get no result (the batch
		 * resumes under the next generation) */
		if (n == 0 && (r = window_open(w, now)) != 0) {
			if (r != HK_ERR_STATE)
				return r;
			w->stop_r = r;
			snprintf(w->stop_err, sizeof(w->stop_err), "%s",
			    hk_err_msg());
			r = 0;
			break;
		}
		if ((cur->it[cur->n] = item_new()) == NULL)
			return HK_ERR_ALLOC;
		jobs[n].line = ln;
		jobs[n].text = t;
		jobs[n].len = line_len(w, ln);
		jobs[n].now = now;
		jobs[n].it = cur->it[cur->n++];
		jobs[n++].r = 0;
	}
	hk_sign_pool_prepare(w->pool, env, jobs, n);
	for (i = 0; i < n; i++)
		if (jobs[i].r != 0 && r == 0)
			r = jobs[i].r;
	return r;
}

/* 1 if serial is an item of c reserved and not yet completed. */
static int
in_set(const struct chunk *c, const unsigned char *s, size_t sl)
{
	size_t i;

	for (i = 0; i < c->nsign; i++)
		if (c->sign[i]->c.serial_len == sl &&
		    memcmp(c->sign[i]->c.serial, s, sl) == 0)
			return 1;
	return 0;
}

/* The same basic 4 items (and substitute-character flags) as the old
 * certificate: superseded(4); otherwise affiliationChanged(3). */
static int
replace_reason(struct hk_issue_item *it, const unsigned char *der,
    size_t len, int *reason, ASN1_INTEGER **serial)
{
	const unsigned char *p = der;
	struct hk_basic4 old;
	X509 *x;
	int r;

	*serial = NULL;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		hk_err_set("resident_id: the valid certificate in the store "
		    "does not parse");
		return HK_ERR_STATE;
	}
	if ((r = hk_basic4_from_cert(x, &old)) != 0) {
		hk_err_set("resident_id: the basic 4 items of the valid "
		    "certificate do not decode: %s", hk_err_msg());
		X509_free(x);
		return r;
	}
	*reason = strcmp(old.name, it->b4.name) == 0 &&
	    strcmp(old.birth, it->b4.birth) == 0 &&
	    strcmp(old.gender, it->b4.gender) == 0 &&
	    strcmp(old.address, it->b4.address) == 0 &&
	    strcmp(old.name_flags, it->b4.name_flags) == 0 &&
	    strcmp(old.addr_flags, it->b4.addr_flags) == 0 ?
	    HK_REASON_SUPERSEDED : HK_REASON_AFFILIATION_CHANGED;
	if ((*serial = ASN1_INTEGER_dup(X509_get0_serialNumber(x))) == NULL)
		r = HK_ERR_ALLOC;
	OPENSSL_cleanse(&old, sizeof(old));
	X509_free(x);
	return r;
}

/*
 * One line in the reserve transaction: 0 and a result recorded (a
 * reservation or a refusal), 1 when it must wait for the next chunk (its
 * resident's certificate is still being signed), or a failure that ends
 * the run.
 */
static int
reserve_one(struct issue_work *w, struct chunk *cur, const struct chunk *fly,
    struct hk_issue_item *it, time_t now)
{
	struct hk_store_replace old, *op = NULL;
	struct hk_crl_entry e;
	ASN1_INTEGER *os = NULL;
	unsigned char s[HK_STORE_SERIAL_MAX], *der = NULL, *entry = NULL;
	enum hk_cert_status st;
	time_t na;
	size_t sl, dl, el = 0;
	int r, reason = 0;

	if (it->refused)
		return hk_store_batch_refuse(w->store, w->b.id, it->line,
		    it->reason);
	hk_err_clear();
	it->old_len = 0;
	/* CPS 4-4-2-1, 4-4-2-5: a key revoked key-compromise is never
	 * certified again; looked up here, under the write lock that
	 * reserves, so a revocation committed while the run goes (revoke
	 * takes no issuance lock) is seen too */
	if ((r = hk_store_key_compromised_find(w->store, it->key_sha, s,
	    &sl)) == 0) {
		char hex[2 * HK_STORE_SERIAL_MAX + 1];

		hk_issue_hex(s, sl, hex);
		hk_issue_banned(hex);
		snprintf(it->reason, sizeof(it->reason), "%s:%zu: %s",
		    w->req.input, it->line, hk_err_msg());
		it->refused = 1;
		return hk_store_batch_refuse(w->store, w->b.id, it->line,
		    it->reason);
	}
	if (r != HK_ERR_NOT_FOUND)
		return r;
	hk_err_clear();
	r = hk_store_batch_live(w->store, it->rkey, s, &sl, &st, &na, &der,
	    &dl);
	if (r != 0 && r != HK_ERR_NOT_FOUND)
		return r;
	if (r == 0 && st == HK_CERT_VALID && na < now) {
		/* CPS 4-2-3 counts a valid certificate only: one past its
		 * notAfter stops being live, neither refused nor revoked */
		free(der);
		hk_issue_hex(s, sl, it->old_hex);
		memcpy(it->old, s, sl);
		it->old_len = sl;
		it->old_reason = 0;
		memset(&old, 0, sizeof(old));
		old.serial = it->old;
		old.serial_len = sl;
		old.at = now;
		op = &old;
	} else if (r == 0) {
		hk_issue_hex(s, sl, it->old_hex);
		if (st == HK_CERT_PENDING && (in_set(fly, s, sl) ||
		    in_set(cur, s, sl))) {
			free(der);
			return 1;
		}
		if (st == HK_CERT_PENDING || !w->o->replace) {
			free(der);
			snprintf(it->reason, sizeof(it->reason), "%s:%zu: "
			    "resident_id: CPS 4-2-3: the resident already has "
			    "a valid certificate (serial %s)%s", w->req.input,
			    it->line, it->old_hex, st == HK_CERT_PENDING ?
			    ", not yet signed" : "");
			it->refused = 1;
			return hk_store_batch_refuse(w->store, w->b.id,
			    it->line, it->reason);
		}
		r = replace_reason(it, der, dl, &reason, &os);
		free(der);
		if (r == 0) {
			e.serial = os;
			e.revoked = now;
			e.reason = (enum hk_crl_reason)reason;
			r = hk_crl_entry_der(&e, &entry, &el);
		}
		ASN1_INTEGER_free(os);
		if (r != 0) {
			OPENSSL_free(entry);
			if (r == HK_ERR_ALLOC || r == HK_ERR_IO)
				return r;
			snprintf(it->reason, sizeof(it->reason), "%s:%zu: %s",
			    w->req.input, it->line, hk_err_msg());
			it->refused = 1;
			return hk_store_batch_refuse(w->store, w->b.id,
			    it->line, it->reason);
		}
		memcpy(it->old, s, sl);
		it->old_len = sl;
		it->old_reason = reason;
		memset(&old, 0, sizeof(old));
		old.serial = it->old;
		old.serial_len = sl;
		old.reason = reason;
		old.at = now;
		old.entry = entry;
		old.entry_len = el;
		op = &old;
	}
	r = hk_store_batch_reserve(w->store, w->b.id, it->line, &it->c, op);
	OPENSSL_free(entry);
	if (r == HK_ERR_INVALID || r == HK_ERR_EXISTS) {
		/* a rule of the store refused it: this line only */
		snprintf(it->reason, sizeof(it->reason), "%s:%zu: %s",
		    w->req.input, it->line, hk_err_msg());
		it->refused = 1;
		it->old_len = 0;
		return hk_store_batch_refuse(w->store, w->b.id, it->line,
		    it->reason);
	}
	if (r == 0)
		cur->sign[cur->nsign++] = it;
	return r;
}

/*
 * The reserve transaction of cur; the items from the first that must wait
 * move to carry. Then the audit records of what was committed.
 */
static int
reserve(struct issue_work *w, struct chunk *cur, const struct chunk *fly,
    struct chunk *carry)
{
	struct audit_list res, rev, exp;
	char head[160], entry[160], omuni[HK_STORE_CODE_LEN + 1], when[32];
	time_t now = hk_clock_now();
	size_t i, k;
	int r, r2, r3;

	cur->nsign = 0;
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	for (i = 0; i < cur->n; i++) {
		if ((r = reserve_one(w, cur, fly, cur->it[i], now)) == 1)
			break;
		if (r != 0) {
			hk_store_rollback(w->store);
			cur->nsign = 0;
			return r;
		}
	}
	for (k = i; k < cur->n; k++)
		carry->it[carry->n++] = cur->it[k];
	cur->n = i;
	if ((r = hk_store_commit(w->store)) != 0) {
		cur->nsign = 0;
		return r;
	}
	for (i = 0; i < cur->n; i++)
		if (cur->it[i]->refused)
			w->n_refused++;
	w->progressed += cur->n;
	/* after the commit; a crash before these is named by recovery */
	hk_time_format(now, when, sizeof(when));
	snprintf(head, sizeof(head), "batch %.16s, CPS 4-4-1-1 re-issue, "
	    "old/municipality/reason/new; revoked at %s", w->bf.sha, when);
	alist_init(&rev, w->on, "cert.revoke", head);
	snprintf(head, sizeof(head), "batch %.16s, CPS 4-2-3 expired, no "
	    "longer live, old/municipality/new", w->bf.sha);
	alist_init(&exp, w->on, "cert.expire", head);
	snprintf(head, sizeof(head), "batch %.16s, serial/municipality/line",
	    w->bf.sha);
	alist_init(&res, w->on, "cert.reserve", head);
	for (i = 0; i < cur->nsign; i++) {
		struct hk_issue_item *it = cur->sign[i];

		if (it->old_len > 0) {
			struct hk_store_cert oc;

			omuni[0] = '\0';
			if (hk_store_cert_get(w->store, it->old, it->old_len,
			    &oc) == 0)
				snprintf(omuni, sizeof(omuni), "%s",
				    oc.municipality);
			if (it->old_reason == 0) {
				snprintf(entry, sizeof(entry), "%s/%s/%s",
				    it->old_hex, omuni, it->hex);
				alist_add(&exp, entry);
			} else {
				snprintf(entry, sizeof(entry), "%s/%s/%d/%s",
				    it->old_hex, omuni, it->old_reason,
				    it->hex);
				alist_add(&rev, entry);
			}
		}
		snprintf(entry, sizeof(entry), "%s/%s/%zu", it->hex,
		    it->c.municipality, it->line);
		alist_add(&res, entry);
	}
	/* both lists are written; the first failure ends the run (recovery
	 * names what was committed but not audited) */
	r = alist_flush(&rev);
	r2 = alist_flush(&exp);
	r3 = alist_flush(&res);
	return r != 0 ? r : r2 != 0 ? r2 : r3;
}

/*
 * After the pool signed fly: cert.issue audited, then one transaction
 * completes the chunk (and voids a certificate whose signature failed its
 * checks, audited cert.void first). A token
 * failure leaves its rows pending for recovery and ends the run.
 */
static int
finish(struct issue_work *w, struct chunk *fly)
{
	struct audit_list iss;
	char head[160], entry[160];
	size_t i;
	int r = 0;

	snprintf(head, sizeof(head), "batch %.16s, serial/municipality/line",
	    w->bf.sha);
	alist_init(&iss, w->on, "cert.issue", head);
	for (i = 0; i < fly->nsign; i++) {
		struct hk_issue_item *it = fly->sign[i];

		if (it->sign_r == 0) {
			snprintf(entry, sizeof(entry), "%s/%s/%zu", it->hex,
			    it->c.municipality, it->line);
			alist_add(&iss, entry);
		} else if (it->sign_r == HK_ERR_VERIFY &&
		    (r = hk_online_audit(w->on, "cert.void", "fail", "serial "
		    "%s: %s:%zu: %s; the serial is never used again",
		    it->hex, w->req.input, it->line, it->sign_err)) != 0) {
			/* not voided unaudited: left pending, the run ends */
			it->sign_r = r;
			if (w->stop_r == 0) {
				w->stop_r = r;
				snprintf(w->stop_err, sizeof(w->stop_err),
				    "%s:%zu: serial %s: its cert.void record "
				    "could not be appended to the audit log "
				    "(left pending: the next run recovers it)",
				    w->req.input, it->line, it->hex);
			}
		} else if (it->sign_r != HK_ERR_VERIFY && w->stop_r == 0) {
			w->stop_r = it->sign_r;
			snprintf(w->stop_err, sizeof(w->stop_err), "%s:%zu: "
			    "%s (left pending: the next run recovers it)",
			    w->req.input, it->line, it->sign_err);
		}
	}
	if ((r = alist_flush(&iss)) != 0)
		return r;
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	for (i = 0; i < fly->nsign && r == 0; i++) {
		struct hk_issue_item *it = fly->sign[i];

		if (it->sign_r == 0)
			r = hk_store_cert_complete(w->store, it->c.serial,
			    it->c.serial_len, it->der, (size_t)it->der_len);
		else if (it->sign_r == HK_ERR_VERIFY)
			r = hk_store_cert_void(w->store, it->c.serial,
			    it->c.serial_len);
	}
	if (r != 0 || (r = hk_store_commit(w->store)) != 0) {
		hk_store_rollback(w->store);
		return r;
	}
	for (i = 0; i < fly->nsign; i++)
		w->n_issued += fly->sign[i]->sign_r == 0;
	return 0;
}

static void
chunk_free_items(struct chunk *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		item_free(c->it[i]);
	c->n = c->nsign = 0;
}

static int
chunk_alloc(struct chunk *c, size_t n)
{
	memset(c, 0, sizeof(*c));
	if ((c->it = calloc(n, sizeof(*c->it))) == NULL ||
	    (c->sign = calloc(n, sizeof(*c->sign))) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

static void
chunk_free(struct chunk *c)
{
	chunk_free_items(c);
	free(c->it);
	free(c->sign);
}

/* The template of this run's certificates and the lint's context, with
 * every municipality's partition. */
static int
user_tmpl(struct issue_work *w, struct hk_cert_user_tmpl **out,
    struct hk_lint_user_ctx **lc)
{
	const struct hk_munis *m = w->req.munis;
	size_t i;
	int r;

	if ((r = hk_cert_user_tmpl_new(w->p, w->issuer, w->cur->gen,
	    w->rehearsal, out)) != 0 ||
	    (r = hk_lint_user_ctx_new(w->p, w->rehearsal, w->cur->gen,
	    lc)) != 0)
		return r;
	for (i = 0; i < m->n; i++)
		if ((r = hk_cert_user_tmpl_partition(*out, m->m[i].romaji,
		    m->m[i].code)) != 0 ||
		    (r = hk_lint_user_ctx_partition(*lc, m->m[i].romaji,
		    m->m[i].code)) != 0)
			return r;
	return 0;
}

/* Every line without a result, chunk by chunk; the pool signs one chunk
 * while the next is prepared and reserved. */
static int
run_chunks(struct issue_work *w)
{
	struct hk_issue_env env;
	struct chunk a, b, carry, *cur = &a, *fly = &b, *t;
	struct hk_prep_job *jobs = NULL;
	struct hk_cert_user_tmpl *tmpl = NULL;
	struct hk_lint_user_ctx *lc = NULL;
	size_t next = 2, cap = (size_t)w->o->chunk;
	int r, flying = 0, tty = isatty(2);

	memset(&env, 0, sizeof(env));
	/* zeroed first: a failed chunk_alloc leaves the others to free */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&carry, 0, sizeof(carry));
	env.req = &w->req;
	env.skey = w->skey;
	env.p = w->p;
	env.issuer = w->issuer;
	env.ikey = w->cur->key;
	env.ipub = w->cur->pub;
	env.md = w->md;
	/* what every certificate of this issuer shares, encoded once (the
	 * same code as one certificate at a time: hk_cert_build_user) */
	if ((r = user_tmpl(w, &tmpl, &lc)) != 0)
		goto out;
	env.tmpl = tmpl;
	env.lint = lc;
	if ((r = chunk_alloc(&a, cap)) != 0 || (r = chunk_alloc(&b, cap)) !=
	    0 || (r = chunk_alloc(&carry, cap)) != 0)
		goto out;
	if ((jobs = calloc(cap, sizeof(*jobs))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	for (;;) {
		if ((r = prepare(w, &env, cur, &carry, jobs, &next)) != 0)
			break;
		if (cur->n == 0 && !flying)
			break;
		if (cur->n > 0 && (r = reserve(w, cur, fly, &carry)) != 0)
			break;
		if (flying)
			hk_sign_pool_wait(w->pool);
		if (cur->nsign > 0)
			hk_sign_pool_submit(w->pool, cur->sign, cur->nsign);
		if (flying) {
			r = finish(w, fly);
			chunk_free_items(fly);
			if (tty)
				progress(w, 0);
		}
		flying = cur->nsign > 0;
		if (!flying)
			chunk_free_items(cur);
		t = fly;
		fly = cur;
		cur = t;
		if (r != 0 || w->stop_r != 0)
			break;
	}
	if (flying) {
		/* after a failure of the store or the log, what is in flight
		 * stays pending for the next run's recovery */
		hk_sign_pool_wait(w->pool);
		if (r == 0)
			r = finish(w, fly);
	}
	if (tty)
		progress(w, 1);
 out:
	hk_lint_user_ctx_free(lc);
	hk_cert_user_tmpl_free(tmpl);
	free(jobs);
	chunk_free(&a);
	chunk_free(&b);
	chunk_free(&carry);
	return r;
}

/* ---- results -------------------------------------------------------- */

struct results {
	struct issue_work *w;		/* the run */
	struct hk_wfile f;		/* results.csv being written */
	char line[2 * HK_ISSUE_REASON_MAX]; /* one line, then into f */
	char *b64;			/* a certificate in base64 */
	size_t b64cap;
	size_t next;			/* the next batch line to list */
};

static int
results_add(struct results *rs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
results_add(struct results *rs, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rs->line, sizeof(rs->line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rs->line))
		return HK_ERR_INTERNAL;
	return hk_wfile_write(&rs->f, rs->line, (size_t)n);
}

/* "<line>,ok,<serial>,<base64 of the DER certificate>", or with what
 * (revoked, expired) and a note after the certificate: "<line>,revoked,
 * <serial>,<base64>,reason R (NAME) at T: do not deliver" */
static int
result_cert(struct results *rs, const struct hk_store_batch_result *res,
    const char *hex, const char *what, const char *note)
{
	size_t need = 4 * ((res->der_len + 2) / 3) + 1;
	int r, n;

	if (res->der == NULL || res->der_len == 0 || res->der_len > INT_MAX) {
		hk_err_set("store: serial %s is issued but its certificate is "
		    "not stored", hex);
		return HK_ERR_STATE;
	}
	if (need > rs->b64cap) {
		char *nb = realloc(rs->b64, need);

		if (nb == NULL)
			return HK_ERR_ALLOC;
		rs->b64 = nb;
		rs->b64cap = need;
	}
	n = EVP_EncodeBlock((unsigned char *)rs->b64, res->der,
	    (int)res->der_len);
	if ((r = results_add(rs, "%" PRIu64 ",%s,%s,", res->line, what,
	    hex)) != 0 ||
	    (r = hk_wfile_write(&rs->f, rs->b64, (size_t)n)) != 0)
		return r;
	if (note != NULL)
		return results_add(rs, ",%s\n", note);
	return hk_wfile_write(&rs->f, "\n", 1);
}

/* The request lines before line `upto` that no run has given a result
 * (a run that stopped before them): listed, so that results.csv has one
 * line per request line whatever happened. */
static int
results_unprocessed(struct results *rs, size_t upto)
{
	struct issue_work *w = rs->w;
	int r;

	for (; rs->next < upto && rs->next <= w->bf.nlines; rs->next++) {
		if (!is_request(line_text(w, rs->next),
		    line_len(w, rs->next)))
			continue;
		w->n_unprocessed++;
		if ((r = results_add(rs, "%zu,unprocessed\n", rs->next)) != 0)
			return r;
	}
	return 0;
}

/* The generation of the stored issuing CA certificate whose key
 * identifier is a certificate's issuer (its AKI), or 0. */
static int
issuer_gen(const struct issue_work *w, const unsigned char *issuer,
    size_t len)
{
	const ASN1_OCTET_STRING *ski;
	size_t i;

	for (i = 0; issuer != NULL && i < w->ncas; i++)
		if ((ski = X509_get0_subject_key_id(w->cas[i])) != NULL &&
		    (size_t)ASN1_STRING_length(ski) == len &&
		    memcmp(ASN1_STRING_get0_data(ski), issuer, len) == 0)
			return w->cagens[i];
	return 0;
}

static int
each_result(const struct hk_store_batch_result *res, void *arg)
{
	struct results *rs = arg;
	struct issue_work *w = rs->w;
	char hex[2 * HK_STORE_SERIAL_MAX + 1];
	int r;

	if (res->line >= rs->next) {
		if ((r = results_unprocessed(rs, (size_t)res->line)) != 0)
			return r;
		rs->next = (size_t)res->line + 1;
	}
	if (res->serial == NULL) {
		w->n_bad++;
		return results_add(rs, "%" PRIu64 ",refused,%s\n", res->line,
		    res->reason);
	}
	hk_issue_hex(res->serial, res->serial_len, hex);
	switch (res->status) {
	case HK_CERT_REVOKED: {
		/* revoked since it was issued (revoke, a re-issue of the
		 * same resident, an issuing key's compromise): not "ok", or
		 * a resumed batch would hand it out (CPS 4-4, 4-14-2); the
		 * certificate stays on the line (recover puts it back from
		 * here after a restore) */
		const char *rn = hk_revreq_reason_name(res->revoke_reason);
		char when[32], note[128];

		hk_time_format(res->revoked_at, when, sizeof(when));
		snprintf(note, sizeof(note), "reason %d (%s) at %s: do not "
		    "deliver", res->revoke_reason, rn != NULL ? rn : "?", when);
		w->n_revoked++;
		return result_cert(rs, res, hex, "revoked", note);
	}
	case HK_CERT_VALID: {
		const char *mark;
		int gen = issuer_gen(w, res->issuer, res->issuer_len);

		/* of an issuing key marked compromised whose revocations
		 * have not been made (revoke --issuing-key-compromise
		 * failed after the mark): not revoked, but signed by a key
		 * that may be in other hands (CPS 4-14-2) */
		if (gen > 0 && (mark = compromise_mark(w, gen)) != NULL) {
			char note[256];

			snprintf(note, sizeof(note), "issuing generation %d is "
			    "compromised (issuing.%d.compromised = %s) and "
			    "this certificate is not revoked yet: revoke "
			    "--issuing-key-compromise --generation %d again; "
			    "do not deliver", gen, gen, mark, gen);
			if (w->n_compromised++ == 0)
				w->compromised_gen = gen;
			return result_cert(rs, res, hex, "compromised", note);
		}
	}
		/* past its notAfter now (at its notAfter second it is still
		 * valid, as CPS 4-2-3 counts it): expired, not "ok" */
		if (res->not_after != 0 && res->not_after < hk_clock_now()) {
			char when[32], note[128];

			hk_time_format(res->not_after, when, sizeof(when));
			snprintf(note, sizeof(note), "notAfter %s: do not "
			    "deliver", when);
			w->n_expired++;
			return result_cert(rs, res, hex, "expired", note);
		}
		w->n_ok++;
		return result_cert(rs, res, hex, "ok", NULL);
	case HK_CERT_PENDING:
		w->n_pending++;
		return results_add(rs, "%" PRIu64 ",pending,%s\n", res->line,
		    hex);
	default:
		w->n_bad++;
		return results_add(rs, "%" PRIu64 ",refused,%s:%" PRIu64 ": "
		    "serial %s was reserved, then voided (cert.void in the "
		    "audit log): not issued\n", res->line, w->req.input,
		    res->line, hex);
	}
}

/* results.csv from the journal and the store's certificates, written
 * piece by piece and renamed into place. */
static int
results_write(struct issue_work *w)
{
	struct results *rs;
	char path[4200];
	int r;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return HK_ERR_ALLOC;
	rs->w = w;
	rs->next = 2;			/* line 1 is the header */
	w->n_ok = w->n_bad = w->n_pending = w->n_unprocessed = 0;
	w->n_revoked = w->n_expired = w->n_compromised = 0;
	w->compromised_gen = 0;
	snprintf(path, sizeof(path), "%s/results.csv", w->o->out);
	if ((r = hk_wfile_open(&rs->f, path, 0644, 0)) != 0)
		goto out;
	if ((r = results_add(rs, "line,result,serial_or_reason,"
	    "certificate\n")) != 0 || (r = hk_store_batch_each(w->store,
	    w->b.id, each_result, rs)) != 0 ||
	    (r = results_unprocessed(rs, w->bf.nlines + 1)) != 0) {
		if (r == HK_ERR_IO)
			hk_err_set("%s: cannot write: %s", rs->f.tmp,
			    strerror(rs->f.err));
		hk_wfile_abort(&rs->f);
		goto out;
	}
	r = hk_wfile_commit(&rs->f);
 out:
	free(rs->b64);
	free(rs);
	return r;
}

/* ---- the command ---------------------------------------------------- */

/* ", K revoked since issued, E expired: do not deliver those" when the
 * batch has such lines (results.csv "revoked", "expired"), else "". */
static const char *
gone_said(const struct issue_work *w, char *buf, size_t len)
{
	buf[0] = '\0';
	if (w->n_compromised > 0)
		snprintf(buf, len, ", %zu revoked since issued, %zu expired, "
		    "%zu of a compromised issuing key not revoked yet: do not "
		    "deliver those", w->n_revoked, w->n_expired,
		    w->n_compromised);
	else if (w->n_revoked + w->n_expired > 0)
		snprintf(buf, len, ", %zu revoked since issued, %zu expired: "
		    "do not deliver those", w->n_revoked, w->n_expired);
	return buf;
}

/*
 * CPS 4-14-2: nothing is issued under an issuing CA certificate that a
 * root generation declared compromised (trust --compromised: state.conf's
 * mark or the token's) certified; checked first, before anything is
 * reserved, and before the recovery of a crash's reservations signs any of
 * them (their certificates would chain to it too): the run is refused,
 * the reservations left as they are.
 */
static int
root_distrust(struct issue_work *w)
{
	X509 *x = NULL;
	int gen, r;

	if ((r = hk_online_distrust_newest(w->on, w->store,
	    "nothing issued")) != 0)
		return r;
	if (hk_online_current_issuer(w->on, w->store, hk_clock_now(), &x, &gen,
	    NULL) != 0) {
		hk_err_clear();	/* none: find_issuer says so after */
		return 0;
	}
	r = hk_online_distrust_ca(w->on, w->store, x, gen, "nothing issued");
	X509_free(x);
	return r;
}

static int
run(struct issue_work *w)
{
	int r, r2, top;

	if ((r = root_distrust(w)) != 0 || (r = recover(w)) != 0)
		return r;
	if (w->n_recovered + w->n_voided > 0)
		printf("recovered %zu certificates left pending by a crash, "
		    "voided %zu\n", w->n_recovered, w->n_voided);
	if ((r = find_issuer(w)) != 0 || (r = names_check(w)) != 0 ||
	    (r = hk_online_top_gen(w->on, &top)) != 0 ||
	    (r = batch_read(w)) != 0 ||
	    (r = journal_find(w)) != 0 ||
	    /* a batch the journal holds keeps its lines' results */
	    (!w->resumed && (r = hk_batch_file_utf8(&w->bf,
	    w->o->batch)) != 0) || (r = out_open(w)) != 0 ||
	    (r = journal_add(w)) != 0)
		return r;
	if (top > w->cur->gen)
		printf("issuing CA %d issues: the certificate of generation %d "
		    "(requested) is not imported yet\n", w->cur->gen, top);
	if ((r = hk_online_audit(w->on, "issue.start", "ok", "batch %s sha256 "
	    "%s%s: %zu requests, %zu without a result%s, issuing CA "
	    "generation %d", w->o->batch, w->bf.sha,
	    w->o->replace ? " (--replace)" : "", w->requests, w->todo,
	    w->resumed ? " (resumed)" : "", w->cur->gen)) != 0)
		return r;
	w->started = 1;
	r = run_chunks(w);
	if (w->stop_r != 0 && r == 0) {
		hk_err_set("%s", w->stop_err);
		r = w->stop_r;
	}
	if (r != 0) {
		struct hk_err_kept keep;
		char gone[128];

		hk_err_keep(&keep);
		if (results_write(w) == 0)
			printf("%s: stopped: %zu issued, %zu refused, %zu "
			    "pending, %zu unprocessed%s; results in "
			    "%s/results.csv; run the same batch again to "
			    "finish it\n", w->o->batch, w->n_ok, w->n_bad,
			    w->n_pending, w->n_unprocessed, gone_said(w, gone,
			    sizeof(gone)), w->o->out);
		(void)fflush(stdout);	/* before the error line */
		hk_err_restore(&keep);
		return r;
	}
	if ((r = results_write(w)) != 0)
		return r;
	if (w->n_pending == 0 && w->n_ok + w->n_bad + w->n_revoked +
	    w->n_expired + w->n_compromised == w->requests &&
	    (r2 = hk_store_batch_finish(w->store, w->b.id,
	    hk_clock_now())) != 0)
		return r2;
	return 0;
}

int
cmd_issue(int argc, char **argv)
{
	struct issue_opts o;
	struct issue_work w;
	struct hk_err_kept lost;
	char gone[128] = "";
	int r;

	memset(&w, 0, sizeof(w));
	w.lockfd = -1;
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;	/* docs/clock.md */
	if ((r = work_open(&w, &o)) != 0)
		goto out;
	r = run(&w);
	/* the certificates are signed and delivered in results.csv: a run
	 * whose issue.done record is lost stands, and ends with exit 6
	 * naming it (below; docs/audit-log.md "When an append fails") */
	lost.msg[0] = '\0';
	if (w.started && hk_online_audit(w.on, "issue.done", r == 0 ? "ok" :
	    "fail", "batch %s sha256 %s: this run %zu issued, %zu refused; "
	    "the batch %zu issued, %zu refused of %zu%s", o.batch, w.bf.sha,
	    w.n_issued, w.n_refused, w.n_ok, w.n_bad, w.requests,
	    gone_said(&w, gone, sizeof(gone))) != 0 &&
	    r == 0)
		hk_err_keep(&lost);
	if (r == 0 && lost.msg[0] != '\0')
		hk_online_checkpoint_keep_err(w.on);
	else if (r == 0)
		r = hk_online_checkpoint(w.on);
	else if (w.on != NULL && w.on->tok != NULL)
		hk_online_checkpoint_keep_err(w.on);
	if (r != 0)
		goto out;
	printf("%s: %zu issued, %zu refused%s; results in %s/results.csv\n",
	    o.batch, w.n_ok, w.n_bad, gone_said(&w, gone, sizeof(gone)), o.out);
	/* a certificate revoked or expired since it was issued is no
	 * success to deliver: exit 9 (3 when lines were refused too) */
	if (w.n_compromised > 0) {
		/* the revocations the operators must make first */
		hk_err_set("%s: %zu certificates of issuing generation %d, "
		    "marked compromised, are not revoked yet (lines "
		    "\"compromised\" in %s/results.csv): CPS 4-14-2: run "
		    "hanko-online revoke --issuing-key-compromise --generation "
		    "%d again; do not deliver them", o.batch, w.n_compromised,
		    w.compromised_gen, o.out, w.compromised_gen);
		r = w.n_bad > 0 ? HK_ERR_INVALID : HK_ERR_WARNING;
	} else if (w.n_bad > 0) {
		hk_err_set("%s: %zu of %zu requests refused (see %s/"
		    "results.csv)%s", o.batch, w.n_bad, w.requests, o.out,
		    gone);
		r = HK_ERR_INVALID;
	} else if (w.n_revoked + w.n_expired > 0) {
		hk_err_set("%s: %zu of %zu certificates revoked or expired "
		    "since issued (lines \"revoked\", \"expired\" in %s/"
		    "results.csv): do not deliver those (CPS 4-4)", o.batch,
		    w.n_revoked + w.n_expired, w.requests, o.out);
		r = HK_ERR_WARNING;
	}
	if (lost.msg[0] != '\0') {
		char done[HK_ERR_DETAIL_MAX], rec[HK_ERR_DETAIL_MAX];

		snprintf(done, sizeof(done), "issue %s: this run %zu issued "
		    "and %zu refused, the batch %zu issued and %zu refused of "
		    "%zu%s, in %s/results.csv (signed and delivered: kept)%s",
		    o.batch, w.n_issued, w.n_refused, w.n_ok, w.n_bad,
		    w.requests, gone, o.out, w.n_bad > 0 ? "; the refused "
		    "ones are in results.csv" : "");
		snprintf(rec, sizeof(rec), "the end of the run (batch %s "
		    "sha256 %s: this run %zu issued, %zu refused; each "
		    "certificate has its cert.issue record)", o.batch,
		    w.bf.sha, w.n_issued, w.n_refused);
		r = hk_online_unrecorded(done, "its issue.done record is",
		    lost.msg, rec);
	}
out:
	work_close(&w);
	return r;
}
