/*
 * serve_http.c - the network worker of "hanko-online serve"
 * (serve_http.h, docs/process-model.md, docs/relying-parties.md).
 *
 * libmicrohttpd runs a pool of threads over the listening socket the key
 * holder made. Each request resolves the repository link once (a set is
 * opened by hk_repo_open, held by reference, and files are read from its
 * folder descriptor), so a swap by "publish" is atomic for every reader:
 * a request sees the old set or the new one, never a mix.
 *
 * Public paths (CPS 2-6-3) are free; crl/, MANIFEST and /ocsp need a
 * registered, unretired relying party (CPS 2-6-3, 4-4-4-3, 4-4-4-5): a
 * bearer token as "Authorization: Bearer <token>" or as the password of
 * HTTP Basic with the party's name as the user. Refusals are audited
 * through the key holder, identical ones once a minute with a count.
 * Provisions are counted in memory and sent to the key holder twice a
 * second; it writes them to the store in batches (CPS 4-5).
 *
 * The main thread waits for signals and, every TICK_MS, drops requests
 * that overrun their deadline (slow clients), sends queued audit events
 * and provision counts. OCSP requests that need the key holder (signing
 * jobs) never hold an HTTP thread: the connection is suspended and the job
 * queued for the signer thread, the channel's only reader, which sends the
 * jobs one at a time and resumes each connection with its answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>

#include "cert.h"
#include "clock.h"
#include "err.h"
#include "frame.h"
#include "hex.h"
#include "index_page.h"
#include "ocsp.h"
#include "repo.h"
#include "secmem.h"
#include "serve_http.h"
#include "store.h"

#define TICK_MS			500	/* main loop period */
#define SIGN_WAIT_MS		3000	/* a signing job, queued to answered */
#define SIGN_QUEUE_MAX		256	/* signing jobs waiting, at most */
#define RP_RELOAD_MS		1000	/* relying parties re-read after */
#define REFUSAL_WINDOW_MS	60000	/* identical refusals: one record */
#define REFUSALS		64	/* distinct refusals tracked at once */
#define OCSP_POOL_MAX		8	/* OCSP contexts (one per HTTP thread) */
#define AUDIT_QUEUE		128	/* audit events waiting for a tick */
#define PROV_SLOTS		4096	/* (party, method, object) counters */
#define MEMORY_LIMIT		16384	/* bytes per connection (headers) */
#define AGE_CERT		3600	/* max-age of certificates */
#define AGE_CRL			300 /* max-age of CRLs, ARL, MANIFEST, OCSP */
#define AGE_INDEX		60	/* the index page is rebuilt after */
#define TOKEN_LEN		64	/* hex characters of a bearer token */

/* One open set, shared by the requests that use it. */
struct set_ref {
	struct hk_repo_set *set;	/* hk_repo_open's set */
	dev_t dev;			/* its folder's identity */
	ino_t ino;
	time_t mtime;			/* its folder's mtime (Last-Modified) */
	unsigned refs;			/* holders (the cache is one) */
	unsigned char *manifest;	/* MANIFEST's bytes (not listed in
					 * itself) */
	size_t manifest_len;
	struct hk_repo_file mf;		/* a line for it: path, SHA-256 */
	pthread_mutex_t index_mu;	/* guards the three below */
	char *index;			/* the index page, or NULL */
	size_t index_len;
	time_t index_at;		/* when it was made */
};

/* A relying party as the worker knows it (re-read every second). */
struct rp_ent {
	char name[HK_STORE_RP_NAME_MAX + 1];
	unsigned char cred[HK_STORE_RP_CRED_LEN];
	int retired;
};

/* Identical refusals within a window: one record, then a count. */
struct refusal {
	int used;
	unsigned code;			/* hk_frame_event */
	char key[160];			/* client and reason */
	char detail[200];		/* what the first record said */
	long long first_ms;		/* when the first was recorded */
	unsigned long more;		/* refused again since */
};

struct audit_ev {
	unsigned code;
	char detail[HK_FRAME_DETAIL_MAX + 1];
};

/* A connection, for the request deadline. */
struct conn {
	struct conn *prev, *next;
	int fd;			/* its socket (owned by libmicrohttpd) */
	long long start_ms;		/* when its current request began */
	int waiting;			/* 1 while a request is arriving */
	int dropped;			/* 1 once shut down by the deadline */
};

/* Where a request's signing job is (struct req's sign). */
enum sign_state {
	SIGN_NONE = 0,			/* no job */
	SIGN_QUEUED,			/* with the signer, connection suspended */
	SIGN_DONE,			/* answered, connection resumed */
};

/*
 * The access log (serve --access-log; docs/ocsp.md "Access log", CPS
 * 4-11-2: every access for validity confirmation): one line for every
 * answer serve queues, written with one write(2) to a file the key holder
 * opened with O_APPEND (fd 5) or to standard output. Lines that cannot be
 * written are counted and audited (serve.access-log fail) by the main loop.
 */
static struct {
	int fd;				/* -1: no access log */
	atomic_ulong lost;		/* lines not written, not yet audited */
	atomic_int err;			/* errno of the last one */
} access_log = { .fd = -1 };
/* the request whose answer this thread queues (set by on_request) */
static __thread const char *acc_method, *acc_url;
static __thread char acc_party[HK_STORE_RP_NAME_MAX + 1];

/* Per request. */
struct req {
	unsigned char body[HK_OCSP_REQ_MAX];	/* POST /ocsp body */
	size_t len;
	int ocsp_post;			/* 1: POST /ocsp, body expected */
	int head;			/* 1: HEAD (no provision counted) */
	/* a signing job (sign_mu guards these while SIGN_QUEUED) */
	int sign;			/* enum sign_state */
	struct req *qnext;		/* next in the signer's queue */
	struct MHD_Connection *conn;	/* suspended while SIGN_QUEUED */
	unsigned char *job;		/* the job, until the signer took it */
	size_t jlen;
	long long queued_ms;		/* when queued: its deadline counts
					 * from here */
	int result;			/* SIGN_DONE: 0 with resp, 1 busy
					 * (tryLater), else an error */
	unsigned char *resp;		/* the signed response, or NULL */
	size_t rlen;
	char name[HK_STORE_RP_NAME_MAX + 1];	/* the relying party */
};

/* A relying party's own signing budget (docs/ocsp.md): a token bucket per
 * party, so that one party's nonces never use up the others'. */
struct party_rate {
	char name[HK_STORE_RP_NAME_MAX + 1];
	double tokens;			/* its signing jobs available */
	long long ms;			/* last refill */
};

/* The worker. */
struct worker {
	const struct hk_http_cfg *cfg;
	struct MHD_Daemon *d;
	struct hk_store *store;		/* read-only: relying parties */
	/* one OCSP context (read-only store handle, certificates) for each
	 * HTTP thread, so that answers run side by side: each is used by one
	 * thread at a time; none with --no-ocsp */
	struct {
		struct hk_ocsp_ctx *ctx;
		pthread_mutex_t mu;
	} ocsp[OCSP_POOL_MAX];
	unsigned nocsp;			/* contexts open */
	EVP_MD *sha256;			/* fetched once: tokens' digests */
	unsigned ocsp_next;		/* round robin start (atomic) */
	atomic_int broken;		/* the channel failed: stop */
	int started;			/* 1 once the daemon runs (logging) */

	pthread_mutex_t set_mu;
	struct set_ref *cur;		/* the set last seen, or NULL */

	pthread_mutex_t rp_mu;
	struct rp_ent *rps;
	size_t nrps;
	long long rps_ms;		/* when read; 0: never */

	pthread_mutex_t lim_mu;
	struct refusal ref[REFUSALS];
	unsigned long overflow;		/* refusals not tracked (table full) */
	long long overflow_ms;		/* first of those */
	struct audit_ev q[AUDIT_QUEUE];
	size_t qn;
	unsigned long qlost;		/* events lost to a full queue */

	pthread_mutex_t prov_mu;
	struct hk_frame_prov prov[PROV_SLOTS];	/* count 0: free */
	size_t nprov;
	unsigned long prov_lost;

	pthread_mutex_t conn_mu;
	struct conn *conns;

	pthread_mutex_t write_mu;	/* one frame written at a time */
	pthread_mutex_t sign_mu;	/* the signer's queue, jobs' state */
	struct req *sq_head, *sq_tail;	/* signing jobs not yet taken */
	unsigned sq_waiting;		/* jobs queued or being answered */
	unsigned sq_cap;		/* at most that many */
	int sign_stop;			/* 1: answer every job busy, end */
	int wake_fd;			/* eventfd: a job queued, or stop */
	pthread_t signer;		/* the channel's only reader */
	int signer_started;
	uint32_t next_id;		/* the signer's last job id */
	pthread_mutex_t rate_mu;
	double tokens;			/* signing jobs available */
	long long tokens_ms;		/* last refill */
	struct party_rate *prates;	/* per party (rate_mu), a slot of a
					 * full bucket reused */
	size_t nprates, cprates;	/* used, allocated */
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hk_http_bad_frame_parse(const char *s, enum hk_http_bad_frame *out)
{
	static const char *names[] = { "", "magic", "type", "oversize",
	    "short", "audit" };
	size_t i;

	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum hk_http_bad_frame)i;
			return 0;
		}
	return -1;
}

/* ---- the channel ---- */

static int
chan_send(struct worker *w, unsigned type, uint32_t id, const void *p,
    size_t len)
{
	int r;

	pthread_mutex_lock(&w->write_mu);
	r = hk_frame_write(w->cfg->channel_fd, type, id, p, len);
	pthread_mutex_unlock(&w->write_mu);
	if (r != 0) {
		fprintf(stderr, "hanko-online serve: worker: %s\n",
		    hk_err_msg());
		atomic_store(&w->broken, 1);
	}
	return r;
}

/* Tokens of a bucket refilled at rate per second up to cap. */
static void
refill(double *tok, long long *ms, long long now, double rate, double cap)
{
	*tok += (double)(now - *ms) * rate / 1000.0;
	if (*tok > cap)
		*tok = cap;
	*ms = now;
}

/* The party's bucket (rate_mu held): a new one starts full, in the slot
 * of a full bucket if there is one (no different from a new one), so the
 * table holds only the parties signing now. NULL when out of memory. */
static struct party_rate *
party_bucket(struct worker *w, const char *name, long long now)
{
	double rate = w->cfg->party_rate, cap = 2.0 * rate;
	struct party_rate *p, *spare = NULL;
	size_t i;

	for (i = 0; i < w->nprates; i++) {
		p = &w->prates[i];
		if (strcmp(p->name, name) == 0)
			return p;
		if (spare == NULL) {
			refill(&p->tokens, &p->ms, now, rate, cap);
			if (p->tokens >= cap)
				spare = p;
		}
	}
	if (spare == NULL) {
		if (w->nprates == w->cprates) {
			size_t n = w->cprates ? 2 * w->cprates : 16;

			if ((p = realloc(w->prates, n * sizeof(*p))) == NULL)
				return NULL;
			w->prates = p;
			w->cprates = n;
		}
		spare = &w->prates[w->nprates++];
	}
	snprintf(spare->name, sizeof(spare->name), "%s", name);
	spare->tokens = cap;
	spare->ms = now;
	return spare;
}

/*
 * Take a signing token of the party's and one of the global budget: 0
 * taken; RATE_PARTY when the party has none left (the global one then
 * untouched, so a party over its budget costs the others nothing);
 * RATE_GLOBAL when the global budget has none (or no memory).
 */
enum { RATE_OK = 0, RATE_GLOBAL = 1, RATE_PARTY = 2 };

static int
rate_take(struct worker *w, const char *name)
{
	long long now = mono_ms();
	struct party_rate *p;
	int r;

	pthread_mutex_lock(&w->rate_mu);
	refill(&w->tokens, &w->tokens_ms, now, w->cfg->sign_rate,
	    w->cfg->sign_rate * 2.0);
	if ((p = party_bucket(w, name, now)) == NULL)
		r = RATE_GLOBAL;
	else {
		refill(&p->tokens, &p->ms, now, w->cfg->party_rate,
		    w->cfg->party_rate * 2.0);
		if (p->tokens < 1.0)
			r = RATE_PARTY;
		else if (w->tokens < 1.0)
			r = RATE_GLOBAL;
		else {
			p->tokens -= 1.0;
			w->tokens -= 1.0;
			r = RATE_OK;
		}
	}
	pthread_mutex_unlock(&w->rate_mu);
	return r;
}

static void
signer_wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		fprintf(stderr, "hanko-online serve: worker: eventfd: %s\n",
		    strerror(errno));
}

/*
 * Queue a signing job of rq->name's and suspend the connection (the caller
 * returns MHD_YES; the signer resumes it with the answer). RATE_GLOBAL:
 * busy (the global rate limit, the queue full, or stopping: tryLater);
 * RATE_PARTY: the party is over its own budget (tryLater); either way the
 * job freed. 0: queued, the job now the signer's. The connection is
 * suspended before the signer can see the job, so that its resume never
 * comes first.
 */
static int
sign_queue(struct worker *w, struct MHD_Connection *c, struct req *rq,
    unsigned char *job, size_t len)
{
	int r = RATE_GLOBAL;

	pthread_mutex_lock(&w->sign_mu);
	if (!w->sign_stop && w->sq_waiting < w->sq_cap &&
	    (r = rate_take(w, rq->name)) == RATE_OK) {
		MHD_suspend_connection(c);
		rq->sign = SIGN_QUEUED;
		rq->conn = c;
		rq->job = job;
		rq->jlen = len;
		rq->queued_ms = mono_ms();
		rq->qnext = NULL;
		if (w->sq_tail != NULL)
			w->sq_tail->qnext = rq;
		else
			w->sq_head = rq;
		w->sq_tail = rq;
		w->sq_waiting++;
		job = NULL;
		r = 0;
	}
	pthread_mutex_unlock(&w->sign_mu);
	free(job);
	if (r == 0)
		signer_wake(w);
	return r;
}

/* A job answered: its result stored, its connection resumed (rq belongs
 * to libmicrohttpd again: not touched after). */
static void
sign_done(struct worker *w, struct req *rq, int result, unsigned char *resp,
    size_t rlen)
{
	struct MHD_Connection *c;

	free(rq->job);
	rq->job = NULL;
	pthread_mutex_lock(&w->sign_mu);
	rq->result = result;
	rq->resp = resp;
	rq->rlen = rlen;
	rq->sign = SIGN_DONE;
	c = rq->conn;
	w->sq_waiting--;
	pthread_mutex_unlock(&w->sign_mu);
	MHD_resume_connection(c);
}

/*
 * Read the channel until the answer to job id comes (0 with *resp), the
 * deadline passes or serve stops (1), the key holder refuses (FAILED:
 * HK_ERR_CRYPTO) or the channel breaks (its error; w->broken set). id 0:
 * no job is out, only late answers are read, until the signer is woken
 * (1). Answers to other ids (late ones) are dropped. A broken channel is
 * not read again (only the wake-up).
 */
static int
signer_read(struct worker *w, uint32_t id, long long deadline,
    unsigned char **resp, size_t *rlen)
{
	struct hk_frame f;
	struct pollfd pfd[2];
	uint64_t n;
	nfds_t nfd;
	int r, left, stop;

	for (;;) {
		left = -1;
		if (id != 0 && (left = (int)(deadline - mono_ms())) <= 0)
			return 1;
		pfd[0].fd = w->wake_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w->cfg->channel_fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		nfd = atomic_load(&w->broken) ? 1 : 2;
		if (id != 0 && nfd == 1)
			return HK_ERR_IO;
		if (poll(pfd, nfd, left) <= 0)
			continue;
		if (pfd[0].revents != 0) {
			if (read(w->wake_fd, &n, sizeof(n)) < 0 &&
			    errno != EAGAIN)
				return 1;
			pthread_mutex_lock(&w->sign_mu);
			stop = w->sign_stop;
			pthread_mutex_unlock(&w->sign_mu);
			if (stop || id == 0)
				return 1;
		}
		if (pfd[1].revents == 0)
			continue;
		if ((r = hk_frame_read(w->cfg->channel_fd, HK_FRAME_TO_WORKER,
		    0, &f)) != 0) {
			fprintf(stderr, "hanko-online serve: worker: %s\n",
			    hk_err_msg());
			atomic_store(&w->broken, 1);
			return r;
		}
		if (id == 0 || f.id != id || f.type == HK_FRAME_PONG) {
			hk_frame_free(&f);
			continue;
		}
		if (f.type == HK_FRAME_RESPONSE && f.len > 0) {
			*resp = f.data;
			*rlen = f.len;
			return 0;
		}
		hk_frame_free(&f);
		return HK_ERR_CRYPTO;
	}
}

/* Send one job and wait for its answer, never past SIGN_WAIT_MS after it
 * was queued (a job already past it is not sent: busy). */
static void
signer_answer(struct worker *w, struct req *rq)
{
	long long deadline = rq->queued_ms + SIGN_WAIT_MS;
	unsigned char *resp = NULL;
	size_t rlen = 0;
	int r = 1;

	if (atomic_load(&w->broken))
		r = HK_ERR_IO;
	else if (mono_ms() < deadline) {
		if (++w->next_id == 0)
			w->next_id = 1;
		if (chan_send(w, HK_FRAME_SIGN_OCSP, w->next_id, rq->job,
		    rq->jlen) != 0)
			r = HK_ERR_IO;
		else if (!atomic_load(&w->broken))
			r = signer_read(w, w->next_id, deadline, &resp, &rlen);
		else
			r = HK_ERR_IO;
	}
	sign_done(w, rq, r, resp, rlen);
}

/*
 * The signer thread: the one reader of the channel (after the first
 * PONG). It takes the jobs in order and answers each; between jobs it
 * reads (and drops) late answers. On stop every job still queued is
 * answered busy, so that no connection stays suspended.
 */
static void *
signer_run(void *arg)
{
	struct worker *w = arg;
	struct req *rq;
	int stop;

	for (;;) {
		pthread_mutex_lock(&w->sign_mu);
		stop = w->sign_stop;
		if ((rq = w->sq_head) != NULL) {
			if ((w->sq_head = rq->qnext) == NULL)
				w->sq_tail = NULL;
			rq->qnext = NULL;
		}
		pthread_mutex_unlock(&w->sign_mu);
		if (rq == NULL && stop)
			break;
		if (rq == NULL) {
			signer_read(w, 0, 0, NULL, NULL);
			continue;
		}
		if (stop)
			sign_done(w, rq, 1, NULL, 0);
		else
			signer_answer(w, rq);
	}
	return NULL;
}

/* Stop the signer: every job answered busy, the thread joined. */
static void
signer_stop(struct worker *w)
{
	if (!w->signer_started)
		return;
	pthread_mutex_lock(&w->sign_mu);
	w->sign_stop = 1;
	pthread_mutex_unlock(&w->sign_mu);
	signer_wake(w);
	pthread_join(w->signer, NULL);
	w->signer_started = 0;
}

/* ---- audit events and refusals ---- */

static void
queue_event(struct worker *w, unsigned code, const char *detail)
{
	if (w->qn == AUDIT_QUEUE) {
		w->qlost++;
		return;
	}
	w->q[w->qn].code = code;
	snprintf(w->q[w->qn].detail, sizeof(w->q[w->qn].detail), "%s", detail);
	w->qn++;
}

/*
 * A refusal: the first of its kind (code, key) in a window is queued for
 * the audit log at once, the rest are counted and summed up when the
 * window ends, so a flood cannot fill the disk (docs/relying-parties.md).
 */
static void
refuse(struct worker *w, unsigned code, const char *key, const char *detail)
{
	long long now = mono_ms();
	struct refusal *free_slot = NULL;
	size_t i;

	pthread_mutex_lock(&w->lim_mu);
	for (i = 0; i < REFUSALS; i++) {
		struct refusal *f = &w->ref[i];

		if (!f->used) {
			if (free_slot == NULL)
				free_slot = f;
			continue;
		}
		if (f->code == code && strcmp(f->key, key) == 0) {
			f->more++;
			goto out;
		}
	}
	if (free_slot == NULL) {
		if (w->overflow++ == 0)
			w->overflow_ms = now;
		goto out;
	}
	free_slot->used = 1;
	free_slot->code = code;
	free_slot->first_ms = now;
	free_slot->more = 0;
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	snprintf(free_slot->detail, sizeof(free_slot->detail), "%s", detail);
	queue_event(w, code, detail);
 out:
	pthread_mutex_unlock(&w->lim_mu);
}

/* End the windows that are over (all with force) and send the queue. */
static void
flush_events(struct worker *w, int force)
{
	struct audit_ev *out = NULL;
	unsigned char buf[2 + HK_FRAME_DETAIL_MAX];
	long long now = mono_ms();
	const char *ev, *res;
	char d[HK_FRAME_DETAIL_MAX + 1];
	size_t i, n = 0;

	pthread_mutex_lock(&w->lim_mu);
	for (i = 0; i < REFUSALS; i++) {
		struct refusal *f = &w->ref[i];

		if (!f->used || (!force && now - f->first_ms <
		    REFUSAL_WINDOW_MS))
			continue;
		if (f->more > 0 && hk_frame_event_name(f->code, &ev,
		    &res) == 0) {
			snprintf(d, sizeof(d), "%lu more %s %s within %lld s "
			    "like: %s", f->more, ev, res,
			    (now - f->first_ms + 999) / 1000, f->detail);
			queue_event(w, HK_EV_SUPPRESSED, d);
		}
		f->used = 0;
	}
	if (w->overflow > 0 && (force || now - w->overflow_ms >=
	    REFUSAL_WINDOW_MS)) {
		snprintf(d, sizeof(d), "%lu refusals of more than %d kinds "
		    "within %lld s, not recorded one by one", w->overflow,
		    REFUSALS, (now - w->overflow_ms + 999) / 1000);
		queue_event(w, HK_EV_SUPPRESSED, d);
		w->overflow = 0;
	}
	if (w->qlost > 0 && w->qn < AUDIT_QUEUE) {
		snprintf(d, sizeof(d), "%lu audit events lost to a full "
		    "queue", w->qlost);
		queue_event(w, HK_EV_SUPPRESSED, d);
		w->qlost = 0;
	}
	if (w->qn > 0 && (out = malloc(w->qn * sizeof(*out))) != NULL) {
		memcpy(out, w->q, w->qn * sizeof(*out));
		n = w->qn;
		w->qn = 0;
	}
	pthread_mutex_unlock(&w->lim_mu);
	for (i = 0; i < n; i++)
		if (chan_send(w, HK_FRAME_AUDIT, 0, buf,
		    hk_frame_audit_encode(out[i].code, out[i].detail,
		    buf)) != 0)
			break;
	free(out);
}

/* ---- provisions (CPS 4-5) ---- */

static size_t
prov_hash(const char *name, unsigned method, const char *object)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ method) * 16777619u;
	for (p = object; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % PROV_SLOTS;
}

static void
provision(struct worker *w, const char *name, unsigned method,
    const char *object)
{
	size_t i, k;

	pthread_mutex_lock(&w->prov_mu);
	for (k = 0, i = prov_hash(name, method, object); k < PROV_SLOTS;
	    k++, i = (i + 1) % PROV_SLOTS) {
		struct hk_frame_prov *p = &w->prov[i];

		if (p->count == 0) {
			if (w->nprov >= PROV_SLOTS * 3 / 4)
				break;
			snprintf(p->name, sizeof(p->name), "%s", name);
			snprintf(p->object, sizeof(p->object), "%s", object);
			p->method = method;
			p->count = 1;
			w->nprov++;
			goto out;
		}
		if (p->method == method && strcmp(p->name, name) == 0 &&
		    strcmp(p->object, object) == 0) {
			if (p->count < UINT32_MAX)
				p->count++;
			else
				w->prov_lost++;
			goto out;
		}
	}
	w->prov_lost++;
 out:
	pthread_mutex_unlock(&w->prov_mu);
}

static void
flush_provisions(struct worker *w)
{
	struct hk_frame_prov *recs;
	unsigned char *p = NULL;
	unsigned long lost;
	size_t i, n = 0, off, len;

	if ((recs = malloc(PROV_SLOTS * sizeof(*recs))) == NULL)
		return;
	pthread_mutex_lock(&w->prov_mu);
	for (i = 0; i < PROV_SLOTS; i++)
		if (w->prov[i].count > 0) {
			recs[n++] = w->prov[i];
			w->prov[i].count = 0;
		}
	w->nprov = 0;
	lost = w->prov_lost;
	w->prov_lost = 0;
	pthread_mutex_unlock(&w->prov_mu);
	if (lost > 0)
		fprintf(stderr, "hanko-online serve: worker: %lu provisions "
		    "not counted (counter table full)\n", lost);
	for (off = 0; off < n; off += HK_FRAME_PROV_MAX) {
		size_t k = n - off < HK_FRAME_PROV_MAX ? n - off :
		    HK_FRAME_PROV_MAX;

		if (hk_frame_prov_encode(recs + off, k, &p, &len) != 0) {
			fprintf(stderr, "hanko-online serve: worker: %s\n",
			    hk_err_msg());
			for (i = off; i < off + k; i++)
				lost += recs[i].count;	/* said below */
			continue;
		}
		if (chan_send(w, HK_FRAME_PROVISION, 0, p, len) != 0)
			off = n;
		free(p);
	}
	free(recs);
	/* what could not be counted reaches the audit log as the key
	 * holder's own losses do (provision.lost, with the number), so that
	 * report warns for the month (CPS 4-5); the key holder adds these up
	 * and writes one record per flush period */
	if (lost > 0 && !atomic_load(&w->broken)) {
		unsigned char buf[2 + HK_FRAME_DETAIL_MAX];
		char d[24];

		snprintf(d, sizeof(d), "%lu", lost);
		(void)chan_send(w, HK_FRAME_AUDIT, 0, buf,
		    hk_frame_audit_encode(HK_EV_PROV_LOST, d, buf));
	}
}

/* ---- relying parties ---- */

static int
rp_collect(const struct hk_store_rp *rp, void *arg)
{
	struct {
		struct rp_ent *v;
		size_t n, cap;
	} *a = arg;
	struct rp_ent *nv;

	if (strcmp(rp->kind, "token") != 0)
		return 0;
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		if ((nv = realloc(a->v, a->cap * sizeof(*nv))) == NULL)
			return HK_ERR_ALLOC;
		a->v = nv;
	}
	snprintf(a->v[a->n].name, sizeof(a->v[a->n].name), "%s", rp->name);
	memcpy(a->v[a->n].cred, rp->credential, HK_STORE_RP_CRED_LEN);
	a->v[a->n].retired = rp->retired_at != 0;
	a->n++;
	return 0;
}

/* Re-read the parties when the copy is older than RP_RELOAD_MS (rp_mu
 * held); a failed read keeps the old copy. */
static void
rp_reload(struct worker *w)
{
	struct {
		struct rp_ent *v;
		size_t n, cap;
	} a = { NULL, 0, 0 };
	long long now = mono_ms();

	if (w->rps_ms != 0 && now - w->rps_ms < RP_RELOAD_MS)
		return;
	if (hk_store_rp_each(w->store, rp_collect, &a) != 0) {
		fprintf(stderr, "hanko-online serve: worker: %s\n",
		    hk_err_msg());
		free(a.v);
		return;
	}
	free(w->rps);
	w->rps = a.v;
	w->nrps = a.n;
	w->rps_ms = now;
}

enum auth {
	AUTH_NONE,		/* no credential: 401 */
	AUTH_OK,		/* a registered, unretired party */
	AUTH_BAD,	/* a wrong, unknown or retired credential: 403 */
};

/* Strict base64 (standard or URL-safe alphabet, padding optional). */
static int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t cap,
    size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0, pad = 0;
	int bits = 0, v;

	*outlen = 0;
	while (inlen > 0 && in[inlen - 1] == '=' && pad < 2) {
		inlen--;
		pad++;
	}
	if (inlen == 0 || (pad > 0 && (inlen + pad) % 4 != 0) ||
	    inlen % 4 == 1)
		return -1;
	for (i = 0; i < inlen; i++) {
		char ch = in[i];

		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+' || ch == '-')
			v = 62;
		else if (ch == '/' || ch == '_')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* leftover bits must be zero (a canonical encoding) */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

/* Look a token up; *name filled when it is a registered party's. */
static enum auth
token_check(struct worker *w, const char *tok, size_t len, const char *user,
    char *name, char *why, size_t whylen)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	char hex[17];
	size_t i, hit = (size_t)-1;

	for (i = 0; i < len; i++)
		if (!((tok[i] >= '0' && tok[i] <= '9') ||
		    (tok[i] >= 'a' && tok[i] <= 'f')))
			break;
	if (len != TOKEN_LEN || i != len) {
		snprintf(why, whylen, "malformed token (64 lowercase hex "
		    "characters)");
		return AUTH_BAD;
	}
	/* the digest fetched once (SHA256() fetches it on every call in
	 * OpenSSL 3.0, under a lock) */
	if (EVP_Digest(tok, len, h, NULL, w->sha256, NULL) != 1) {
		snprintf(why, whylen, "internal error");
		return AUTH_BAD;
	}
	hk_hex_encode(h, 8, hex);
	pthread_mutex_lock(&w->rp_mu);
	rp_reload(w);
	/* every row compared, in constant time */
	for (i = 0; i < w->nrps; i++)
		if (hk_ct_memcmp(w->rps[i].cred, h, sizeof(h)) == 0)
			hit = i;
	if (hit == (size_t)-1)
		snprintf(why, whylen, "unknown credential %s...", hex);
	else if (w->rps[hit].retired)
		snprintf(why, whylen, "retired relying party %s",
		    w->rps[hit].name);
	else if (user != NULL && strcmp(user, w->rps[hit].name) != 0)
		snprintf(why, whylen, "the token is not %.64s's", user);
	else
		snprintf(name, HK_STORE_RP_NAME_MAX + 1, "%s",
		    w->rps[hit].name);
	pthread_mutex_unlock(&w->rp_mu);
	hk_wipe(h, sizeof(h));
	return name[0] != '\0' ? AUTH_OK : AUTH_BAD;
}

/* The credential of a request: Bearer or Basic (name:token). */
static enum auth
credential(struct worker *w, struct MHD_Connection *c, char *name,
    char *why, size_t whylen)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char dec[HK_STORE_RP_NAME_MAX + 1 + TOKEN_LEN + 1];
	const char *colon;
	size_t n = 0;
	enum auth r;

	name[0] = '\0';
	why[0] = '\0';
	if (a == NULL) {
		snprintf(why, whylen, "no credential");
		return AUTH_NONE;
	}
	if (strncasecmp(a, "Bearer ", 7) == 0) {
		for (a += 7; *a == ' '; a++)
			;
		return token_check(w, a, strlen(a), NULL, name, why,
		    whylen);
	}
	if (strncasecmp(a, "Basic ", 6) == 0) {
		for (a += 6; *a == ' '; a++)
			;
		if (b64_decode(a, strlen(a), dec, sizeof(dec) - 1, &n) != 0 ||
		    (colon = memchr(dec, ':', n)) == NULL ||
		    (size_t)((const unsigned char *)colon - dec) >
		    HK_STORE_RP_NAME_MAX) {
			hk_wipe(dec, sizeof(dec));
			snprintf(why, whylen, "malformed Basic credential");
			return AUTH_BAD;
		}
		if (memchr(dec, '\0', (size_t)(colon - (const char *)dec)) !=
		    NULL)
			dec[0] = '\0';		/* a NUL in the name */
		dec[colon - (const char *)dec] = '\0';
		if (!hk_store_rp_name_ok((const char *)dec)) {
			hk_wipe(dec, sizeof(dec));
			snprintf(why, whylen, "Basic: not a relying party's "
			    "name");
			return AUTH_BAD;
		}
		r = token_check(w, colon + 1, n - (size_t)(colon + 1 -
		    (const char *)dec), (const char *)dec, name, why, whylen);
		hk_wipe(dec, sizeof(dec));
		return r;
	}
	snprintf(why, whylen, "no Bearer or Basic credential");
	return AUTH_NONE;
}

/* credential's, the party it names kept for the access log's line */
static enum auth
authenticate(struct worker *w, struct MHD_Connection *c, char *name,
    char *why, size_t whylen)
{
	enum auth a = credential(w, c, name, why, whylen);

	if (a == AUTH_OK)
		snprintf(acc_party, sizeof(acc_party), "%s", name);
	return a;
}

/* ---- the current set ---- */

/*
 * Read name from the set's folder: openat2 with RESOLVE_BENEATH and no
 * links at all where the kernel has it, else openat with O_NOFOLLOW (name
 * is a fixed file name then, never from the network).
 */
static int
read_beneath(int dfd, const char *name, size_t max, unsigned char **buf,
    size_t *len)
{
	struct open_how how;
	struct stat sb;
	unsigned char *p;
	size_t off = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	*len = 0;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dfd, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		hk_err_set("%s: %s", name, strerror(errno));
		return HK_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (size_t)sb.st_size > max ||
	    (p = malloc((size_t)sb.st_size + 1)) == NULL) {
		hk_err_set("%s: not a regular file of at most %zu bytes", name,
		    max);
		close(fd);
		return HK_ERR_INVALID;
	}
	while (off < (size_t)sb.st_size) {
		n = read(fd, p + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hk_err_set("%s: cannot read", name);
			free(p);
			close(fd);
			return HK_ERR_IO;
		}
		off += (size_t)n;
	}
	close(fd);
	*buf = p;
	*len = off;
	return 0;
}

static void
set_release(struct worker *w, struct set_ref *s)
{
	int last;

	if (s == NULL)
		return;
	pthread_mutex_lock(&w->set_mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&w->set_mu);
	if (!last)
		return;
	hk_repo_close(s->set);
	free(s->manifest);
	free(s->index);
	pthread_mutex_destroy(&s->index_mu);
	free(s);
}

/*
 * The current set, held (set_release it): the link is resolved once per
 * request; a set not seen before is opened and becomes the cached one.
 * NULL (answered 503) when nothing is published or the set is unusable.
 */
static struct set_ref *
set_acquire(struct worker *w)
{
	struct set_ref *s, *old = NULL;
	struct hk_repo_set *set = NULL;
	struct stat sb;
	char key[160];
	int r;

	if (stat(w->cfg->repo, &sb) != 0)
		return NULL;
	pthread_mutex_lock(&w->set_mu);
	if ((s = w->cur) != NULL && s->dev == sb.st_dev &&
	    s->ino == sb.st_ino) {
		s->refs++;
		pthread_mutex_unlock(&w->set_mu);
		return s;
	}
	pthread_mutex_unlock(&w->set_mu);
	if ((r = hk_repo_open(w->cfg->repo, &set)) != 0) {
		snprintf(key, sizeof(key), "%s", hk_err_msg());
		refuse(w, HK_EV_SET_BAD, key, key);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    fstat(set->dfd, &sb) != 0 || read_beneath(set->dfd,
	    HK_REPO_MANIFEST, (size_t)HK_REPO_FILES_MAX *
	    (HK_REPO_PATH_MAX + 160), &s->manifest, &s->manifest_len) != 0) {
		if (s != NULL)
			free(s->manifest);
		free(s);
		hk_repo_close(set);
		return NULL;
	}
	snprintf(s->mf.path, sizeof(s->mf.path), "%s", HK_REPO_MANIFEST);
	SHA256(s->manifest, s->manifest_len, s->mf.sha256);
	s->mf.size = s->manifest_len;
	s->set = set;
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->mtime = sb.st_mtime;
	s->refs = 2;			/* the cache and the caller */
	pthread_mutex_init(&s->index_mu, NULL);
	pthread_mutex_lock(&w->set_mu);
	if (w->cur != NULL && w->cur->dev == s->dev &&
	    w->cur->ino == s->ino) {
		/* another request opened it meanwhile: use that one */
		old = s;
		s = w->cur;
		s->refs++;
		old->refs = 1;
	} else {
		old = w->cur;
		w->cur = s;
	}
	pthread_mutex_unlock(&w->set_mu);
	set_release(w, old);
	return s;
}

/* Lines of the access log that could not be written: audited as
 * serve.access-log fail, rate-limited as a refusal (the first at once,
 * the rest counted). */
static void
access_report(struct worker *w)
{
	unsigned long n = atomic_exchange(&access_log.lost, 0);
	char detail[200];

	if (n == 0)
		return;
	snprintf(detail, sizeof(detail), "%lu lines of the access log not "
	    "written: %s", n, strerror(atomic_load(&access_log.err)));
	refuse(w, HK_EV_ACCESS_LOST, "access-log", detail);
}

/* ---- responses ---- */

static void
http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void client_addr(struct MHD_Connection *c, char *buf, size_t len);


/* src into dst as printable ASCII: bytes outside 0x21-0x7e and '%' as
 * %XX, cut at max bytes of output with "..." after. */
static void
access_esc(char *dst, size_t cap, const char *src, size_t max)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; src != NULL && *src != '\0'; src++) {
		unsigned char b = (unsigned char)*src;

		if (o + 3 > max || o + 4 > cap) {
			snprintf(dst + o, cap - o, "...");
			return;
		}
		if (b < 0x21 || b > 0x7e || b == '%') {
			dst[o++] = '%';
			dst[o++] = hex[b >> 4];
			dst[o++] = hex[b & 15];
		} else
			dst[o++] = (char)b;
	}
	if (o == 0)
		dst[o++] = '-';
	dst[o] = '\0';
}

static void
access_line(struct MHD_Connection *c, unsigned status, size_t size)
{
	char line[1200], client[64], when[24], method[64], path[1100];
	ssize_t n;
	int len;

	if (access_log.fd < 0)
		return;
	client_addr(c, client, sizeof(client));
	hk_time_format(hk_clock_now(), when, sizeof(when));
	access_esc(method, sizeof(method), acc_method, 16);
	access_esc(path, sizeof(path), acc_url, 1024);
	len = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%u\t%zu\n",
	    when, client, acc_party[0] ? acc_party : "-", method, path, status,
	    size);
	if (len < 0 || (size_t)len >= sizeof(line))
		return;
	if ((n = write(access_log.fd, line, (size_t)len)) != len) {
		atomic_store(&access_log.err, n < 0 ? errno : EIO);
		atomic_fetch_add(&access_log.lost, 1);
	}
}

/* Queue resp (size: its body's bytes, for the access log). */
static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp,
    size_t size)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		access_line(c, status, size);
	return ret;
}

/* A short text answer (one line). */
static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned status, const char *text,
    const char *allow)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return queue(c, status, resp, strlen(text));
}

static void
add_challenge(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Bearer realm=\"hanko\"");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
	    "Basic realm=\"hanko\", charset=\"UTF-8\"");
}

static enum MHD_Result
reply_401(struct MHD_Connection *c)
{
	static const char text[] = "401 unauthorized: a registered relying "
	    "party's credential is needed (Authorization: Bearer, or Basic "
	    "with the party's name; CPS 2-6-3, 4-4-4-5)\n";
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(sizeof(text) - 1,
	    (void *)text, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	add_challenge(resp);
	return queue(c, MHD_HTTP_UNAUTHORIZED, resp, sizeof(text) - 1);
}

/* 1 if If-None-Match names etag (weak comparison, RFC 9110 13.1.2). */
static int
etag_matches(struct MHD_Connection *c, const char *etag)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	size_t el = strlen(etag), n;
	const char *p;

	if (v == NULL)
		return 0;
	for (p = v; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ", \t");
		if (n == el && strncmp(p, etag, el) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* Cache-Control for a file of the set: never beyond a CRL's nextUpdate. */
static void
cache_control(const struct hk_repo_set *set, const struct hk_repo_file *f,
    int pub, time_t now, char *buf, size_t len)
{
	long age = f->is_crl ? AGE_CRL : AGE_CERT;
	time_t next = f->is_crl ? f->next_update : 0;
	size_t i;

	if (strcmp(f->path, HK_REPO_MANIFEST) == 0 || f->path[0] == '\0') {
		age = AGE_CRL;
		for (i = 0; i < set->nfiles; i++)
			if (set->files[i].is_crl && (next == 0 ||
			    set->files[i].next_update < next))
				next = set->files[i].next_update;
	}
	if (next != 0 && next - now < age)
		age = next > now ? (long)(next - now) : 0;
	if (age == 0)
		snprintf(buf, len, "%s, no-cache", pub ? "public" : "private");
	else
		snprintf(buf, len, "%s, max-age=%ld", pub ? "public" :
		    "private", age);
}

/* The client's address as text. */
static void
client_addr(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, len, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, buf, (socklen_t)len);
}

/*
 * Check a request path of the set: "/" is the index (returns 1); else
 * components of [A-Za-z0-9._-], none empty, none starting with '.'
 * (so no "..", no hidden files), short enough (returns 0); -1 otherwise.
 * Percent-escapes were decoded by unescape() (a NUL or a bad escape made
 * the whole path "\x01").
 */
static int
path_check(const char *url)
{
	const char *p;
	int start = 1;

	if (url[0] != '/')
		return -1;
	if (url[1] == '\0')
		return 1;
	if (strlen(url + 1) >= HK_REPO_PATH_MAX)
		return -1;
	for (p = url + 1; *p != '\0'; p++) {
		if (*p == '/') {
			if (start)
				return -1;
			start = 1;
			continue;
		}
		if (start && *p == '.')
			return -1;
		start = 0;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return -1;
	}
	return start ? -1 : 0;
}

static enum MHD_Result
serve_index(struct worker *w, struct MHD_Connection *c, struct set_ref *s,
    time_t now)
{
	struct MHD_Response *resp;
	char *copy = NULL;
	size_t len = 0;
	int r = 0;

	pthread_mutex_lock(&s->index_mu);
	if (s->index == NULL || now - s->index_at >= AGE_INDEX ||
	    now < s->index_at) {
		char *html = NULL;
		size_t hl = 0;

		if ((r = hk_index_html_set(s->set, now, &html, &hl)) == 0) {
			free(s->index);
			s->index = html;
			s->index_len = hl;
			s->index_at = now;
		} else
			fprintf(stderr, "hanko-online serve: worker: index: "
			    "%s\n", hk_err_msg());
	}
	if (s->index != NULL && (copy = malloc(s->index_len + 1)) != NULL) {
		memcpy(copy, s->index, s->index_len);
		len = s->index_len;
	}
	pthread_mutex_unlock(&s->index_mu);
	(void)w;
	if (copy == NULL)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "500 the index page cannot be made\n", NULL);
	resp = MHD_create_response_from_buffer_with_free_callback(len, copy,
	    free);
	if (resp == NULL) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "public, max-age=60");
	return queue(c, MHD_HTTP_OK, resp, len);
}

/* The object of a provision for path: a partition code or "arl"; NULL
 * when path is not revocation information. */
static const char *
prov_object(const char *path, char *buf, size_t len)
{
	size_t n;

	if (strcmp(path, "arl.crl") == 0)
		return "arl";
	if (strncmp(path, "crl/", 4) != 0 || (n = strlen(path)) < 9 ||
	    strcmp(path + n - 4, ".crl") != 0 || n - 8 > len - 1 ||
	    n - 8 > HK_FRAME_OBJECT_MAX)
		return NULL;
	memcpy(buf, path + 4, n - 8);
	buf[n - 8] = '\0';
	if (strspn(buf, "0123456789abcdefghijklmnopqrstuvwxyz-") != n - 8)
		return NULL;		/* a partition id: 431010, 431010-2 */
	return buf;
}

static enum MHD_Result
serve_file(struct worker *w, struct MHD_Connection *c, const char *url,
    const char *method)
{
	struct MHD_Response *resp;
	const struct hk_repo_file *f;
	struct set_ref *s;
	unsigned char *buf = NULL;
	char name[HK_STORE_RP_NAME_MAX + 1], why[128], client[64];
	char key[192], detail[400], etag[68], cc[64], date[64], obj[20];
	const char *path = url + 1, *o;
	time_t now = hk_clock_now();
	enum MHD_Result ret;
	enum auth a = AUTH_NONE;
	size_t len = 0;
	int pc, pub, head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if ((pc = path_check(url)) < 0)
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "400 bad request: "
		    "path: components of [A-Za-z0-9._-], none empty or "
		    "starting with '.'\n", NULL);
	if ((s = set_acquire(w)) == NULL)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "503 no "
		    "repository set is published yet\n", NULL);
	if (pc == 1) {
		ret = serve_index(w, c, s, now);
		set_release(w, s);
		return ret;
	}
	if (strcmp(path, HK_REPO_MANIFEST) == 0)
		f = &s->mf;
	else if ((f = hk_repo_find(s->set, path)) == NULL) {
		set_release(w, s);
		return reply_text(c, MHD_HTTP_NOT_FOUND, "404 not in the "
		    "repository\n", NULL);
	}
	pub = hk_repo_public(path);
	if (!pub || MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION) != NULL)
		a = authenticate(w, c, name, why, sizeof(why));
	if (!pub && a != AUTH_OK) {
		client_addr(c, client, sizeof(client));
		snprintf(key, sizeof(key), "%s %s", client, why);
		snprintf(detail, sizeof(detail), "client %s: %s /%s: %s",
		    client, method, path, why);
		refuse(w, a == AUTH_NONE ? HK_EV_REPO_UNAUTH :
		    HK_EV_REPO_FORBIDDEN, key, detail);
		set_release(w, s);
		if (a == AUTH_NONE)
			return reply_401(c);
		return reply_text(c, MHD_HTTP_FORBIDDEN, "403 forbidden: the "
		    "credential is not a registered, unretired relying "
		    "party's\n", NULL);
	}
	etag[0] = '"';
	hk_hex_encode(f->sha256, sizeof(f->sha256), etag + 1);
	strcat(etag, "\"");
	cache_control(s->set, f, pub, now, cc, sizeof(cc));
	http_date(f->is_crl ? f->this_update : s->mtime, date, sizeof(date));
	if (etag_matches(c, etag)) {
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
		ret = MHD_NO;
		if (resp != NULL) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
			    etag);
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_CACHE_CONTROL, cc);
			MHD_add_response_header(resp,
			    MHD_HTTP_HEADER_LAST_MODIFIED, date);
			/* RFC 9110 15.4.5: the Vary a 200 would carry */
			if (!pub)
				MHD_add_response_header(resp,
				    MHD_HTTP_HEADER_VARY,
				    MHD_HTTP_HEADER_AUTHORIZATION);
			ret = queue(c, MHD_HTTP_NOT_MODIFIED, resp, 0);
		}
		set_release(w, s);
		return ret;
	}
	if (f == &s->mf) {
		if ((buf = malloc(s->manifest_len + 1)) == NULL) {
			set_release(w, s);
			return MHD_NO;
		}
		memcpy(buf, s->manifest, s->manifest_len);
		len = s->manifest_len;
	} else if (hk_repo_read(s->set, path, &buf, &len) != 0) {
		fprintf(stderr, "hanko-online serve: worker: %s\n",
		    hk_err_msg());
		set_release(w, s);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 the "
		    "file does not match its MANIFEST line\n", NULL);
	}
	set_release(w, s);
	if ((resp = MHD_create_response_from_buffer_with_free_callback(len,
	    buf, free)) == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    hk_repo_content_type(path));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
	if (!pub)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
		    MHD_HTTP_HEADER_AUTHORIZATION);
	if (a == AUTH_OK && !head && (o = prov_object(path, obj,
	    sizeof(obj))) != NULL)
		provision(w, name, HK_PROV_HTTP, o);
	return queue(c, MHD_HTTP_OK, resp, len);
}

/* ---- OCSP ---- */

/* Caching headers for a successful OCSP response: none beyond its
 * nextUpdate, none at all when it carries a nonce. */
static void
ocsp_cache(struct MHD_Response *resp, const unsigned char *der, size_t len,
    time_t now)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *or = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *sr;
	ASN1_GENERALIZEDTIME *thisu = NULL, *nextu = NULL;
	char cc[64], date[64];
	time_t t, lm;
	long age = AGE_CRL;
	int status, reason, nonce;

	snprintf(cc, sizeof(cc), "no-store");
	if ((or = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL ||
	    OCSP_response_status(or) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(or)) == NULL)
		goto out;
	nonce = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce,
	    -1) >= 0;
	if (nonce || OCSP_resp_count(bs) != 1 ||
	    (sr = OCSP_resp_get0(bs, 0)) == NULL)
		goto out;
	status = OCSP_single_get0_status(sr, &reason, NULL, &thisu, &nextu);
	if (status < 0 || hk_cert_time(nextu, &t) != 0)
		goto out;
	if (t - now < age)
		age = t > now ? (long)(t - now) : 0;
	snprintf(cc, sizeof(cc), age > 0 ? "private, max-age=%ld" :
	    "private, no-cache", age);
	http_date(t, date, sizeof(date));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_EXPIRES, date);
	if (hk_cert_time(thisu, &lm) == 0) {
		http_date(lm, date, sizeof(date));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED,
		    date);
	}
 out:
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(or);
}

/* The caching headers of a pre-signed answer from the times the store
 * holds (no parse of the response on the hot path). */
static void
ocsp_cache_meta(struct MHD_Response *resp, const struct hk_ocsp_meta *m,
    time_t now)
{
	char cc[64], date[64];
	long age = AGE_CRL;

	if (!m->cacheable) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "no-store");
		return;
	}
	if (m->next_update - now < age)
		age = m->next_update > now ? (long)(m->next_update - now) : 0;
	snprintf(cc, sizeof(cc), age > 0 ? "private, max-age=%ld" :
	    "private, no-cache", age);
	http_date(m->next_update, date, sizeof(date));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_EXPIRES, date);
	http_date(m->this_update, date, sizeof(date));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
}

/* Queue an OCSPResponse (HTTP 200 whatever its responseStatus: an OCSP
 * client reads the status from the body, RFC 6960 2.3). m: what the store
 * said of a pre-signed answer; NULL: read the times from the response. */
static enum MHD_Result
reply_ocsp(struct MHD_Connection *c, unsigned char *der, size_t len,
    int challenge, time_t now, const struct hk_ocsp_meta *m)
{
	struct MHD_Response *resp;

	if ((resp = MHD_create_response_from_buffer_with_free_callback(len,
	    der, free)) == NULL) {
		free(der);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/ocsp-response");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (challenge)
		add_challenge(resp);
	if (m != NULL)
		ocsp_cache_meta(resp, m, now);
	else
		ocsp_cache(resp, der, len, now);
	return queue(c, MHD_HTTP_OK, resp, len);
}

static enum MHD_Result
reply_ocsp_status(struct MHD_Connection *c, int status, int challenge,
    time_t now)
{
	static const struct hk_ocsp_meta nometa;	/* no-store */

	unsigned char *der = NULL;
	size_t len = 0;

	if (hk_ocsp_error_response(status, &der, &len) != 0)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "500 internal error\n", NULL);
	return reply_ocsp(c, der, len, challenge, now, &nometa);
}

/* A signing job refused or not answered in time: tryLater, audited (party:
 * refused for the party's own budget, RATE_PARTY). */
static enum MHD_Result
sign_busy(struct worker *w, struct MHD_Connection *c, const char *name,
    int party, time_t now)
{
	char client[64], key[192], detail[400];

	client_addr(c, client, sizeof(client));
	snprintf(key, sizeof(key), "%s %s%s", client, name, party ?
	    " party" : "");
	if (party)
		snprintf(detail, sizeof(detail), "client %s: %s: signing jobs "
		    "over %u/s for this relying party (--sign-rate-per-party): "
		    "tryLater", client, name, w->cfg->party_rate);
	else
		snprintf(detail, sizeof(detail), "client %s: %s: signing jobs "
		    "over %u/s or the key holder busy: tryLater", client, name,
		    w->cfg->sign_rate);
	refuse(w, HK_EV_OCSP_BUSY, key, detail);
	return reply_ocsp_status(c, OCSP_RESPONSE_STATUS_TRYLATER, 0, now);
}

/* The request again, resumed by the signer: its job's answer. */
static enum MHD_Result
sign_reply(struct worker *w, struct MHD_Connection *c, struct req *rq)
{
	time_t now = hk_clock_now();
	unsigned char *resp;
	int result;

	pthread_mutex_lock(&w->sign_mu);
	result = rq->result;
	resp = rq->resp;
	rq->resp = NULL;
	pthread_mutex_unlock(&w->sign_mu);
	if (result == 1)
		return sign_busy(w, c, rq->name, 0, now);
	if (result != 0)
		return reply_ocsp_status(c,
		    OCSP_RESPONSE_STATUS_INTERNALERROR, 0, now);
	/* an answer, not the unauthorized of an issuing CA whose
	 * responder's key the key holder left out */
	if (!rq->head && hk_ocsp_response_status(resp, rq->rlen) ==
	    OCSP_RESPONSE_STATUS_SUCCESSFUL)
		provision(w, rq->name, HK_PROV_OCSP, "ocsp");
	/* a signed job's response: its times read from it */
	return reply_ocsp(c, resp, rq->rlen, 0, now, NULL);
}

/*
 * Answer an OCSP request: a pre-signed or error response at once; a
 * signing job queued for the signer (the connection suspended: MHD_YES
 * and no response yet; sign_reply answers when it is resumed) or, when
 * refused, tryLater.
 */
static enum MHD_Result
serve_ocsp(struct worker *w, struct MHD_Connection *c, struct req *rq,
    const char *method, const unsigned char *der, size_t len)
{
	enum hk_ocsp_outcome out = HK_OCSP_ERROR_RESPONSE;
	struct hk_ocsp_meta meta;
	unsigned char *resp = NULL, *job = NULL;
	char name[HK_STORE_RP_NAME_MAX + 1], why[128], client[64];
	char key[192], detail[400];
	size_t rlen = 0, jlen = 0;
	time_t now = hk_clock_now();
	enum auth a;
	int r;

	a = authenticate(w, c, name, why, sizeof(why));
	if (a != AUTH_OK) {
		client_addr(c, client, sizeof(client));
		snprintf(key, sizeof(key), "%s %s", client, why);
		snprintf(detail, sizeof(detail), "client %s: %s /ocsp: %s: "
		    "unauthorized (RFC 6960 2.3)", client, method, why);
		refuse(w, a == AUTH_NONE ? HK_EV_OCSP_UNAUTH :
		    HK_EV_OCSP_FORBIDDEN, key, detail);
		return reply_ocsp_status(c, OCSP_RESPONSE_STATUS_UNAUTHORIZED,
		    a == AUTH_NONE, now);
	}
	{
		unsigned i, k, start = __atomic_fetch_add(&w->ocsp_next, 1,
		    __ATOMIC_RELAXED);

		/* a free context if there is one, else wait for ours */
		for (k = 0; k < w->nocsp; k++) {
			i = (start + k) % w->nocsp;
			if (pthread_mutex_trylock(&w->ocsp[i].mu) == 0)
				break;
		}
		if (k == w->nocsp) {
			i = start % w->nocsp;
			pthread_mutex_lock(&w->ocsp[i].mu);
		}
		r = hk_ocsp_answer_meta(w->ocsp[i].ctx, der, len, now, &out,
		    &resp, &rlen, &job, &jlen, &meta);
		pthread_mutex_unlock(&w->ocsp[i].mu);
	}
	if (r != 0) {
		fprintf(stderr, "hanko-online serve: worker: ocsp: %s\n",
		    hk_err_msg());
		free(resp);
		free(job);
		return reply_ocsp_status(c,
		    OCSP_RESPONSE_STATUS_INTERNALERROR, 0, now);
	}
	if (out == HK_OCSP_ERROR_RESPONSE)
		return reply_ocsp(c, resp, rlen, 0, now, &meta);
	if (out == HK_OCSP_NEEDS_SIGNING) {
		free(resp);
		snprintf(rq->name, sizeof(rq->name), "%s", name);
		if ((r = sign_queue(w, c, rq, job, jlen)) == RATE_OK)
			return MHD_YES;
		return sign_busy(w, c, name, r == RATE_PARTY, now);
	}
	free(job);
	if (!rq->head)
		provision(w, name, HK_PROV_OCSP, "ocsp");
	return reply_ocsp(c, resp, rlen, 0, now, &meta);
}

/* GET /ocsp/<base64 of the DER request> (RFC 6960 A.1). */
static enum MHD_Result
serve_ocsp_get(struct worker *w, struct MHD_Connection *c, struct req *rq,
    const char *b64)
{
	unsigned char der[HK_OCSP_REQ_MAX];
	size_t n = 0;

	if (b64_decode(b64, strlen(b64), der, sizeof(der), &n) != 0)
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "400 bad request: "
		    "/ocsp/<base64 of a DER OCSPRequest> (RFC 6960 A.1): "
		    "not base64, or over 4096 bytes\n", NULL);
	return serve_ocsp(w, c, rq, "GET", der, n);
}

/* ---- libmicrohttpd callbacks ---- */

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* The request has arrived: it is no longer under the deadline. */
static void
conn_arrived(struct worker *w, struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k == NULL)
		return;
	pthread_mutex_lock(&w->conn_mu);
	k->waiting = 0;
	pthread_mutex_unlock(&w->conn_mu);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **sctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct worker *w = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *k;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (k = calloc(1, sizeof(*k))) == NULL)
			return;
		k->fd = ci->connect_fd;
		k->start_ms = mono_ms();
		k->waiting = 1;
		pthread_mutex_lock(&w->conn_mu);
		k->next = w->conns;
		if (w->conns != NULL)
			w->conns->prev = k;
		w->conns = k;
		pthread_mutex_unlock(&w->conn_mu);
		*sctx = k;
		return;
	}
	/* closed: unlinked before libmicrohttpd closes the socket, so the
	 * deadline never shuts a reused descriptor down */
	if ((k = *sctx) == NULL)
		return;
	pthread_mutex_lock(&w->conn_mu);
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		w->conns = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&w->conn_mu);
	free(k);
	*sctx = NULL;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct worker *w = cls;
	struct conn *k = conn_of(c);
	struct req *rq = *con_cls;

	(void)toe;
	if (rq != NULL) {
		/* never a queued job: a suspended connection is not ended
		 * (the signer resumes every one before the daemon stops) */
		free(rq->job);
		free(rq->resp);
		free(rq);
	}
	*con_cls = NULL;
	if (k == NULL)
		return;
	/* the next request on this connection has its own deadline */
	pthread_mutex_lock(&w->conn_mu);
	k->waiting = 1;
	k->start_ms = mono_ms();
	pthread_mutex_unlock(&w->conn_mu);
}

/* Drop the connections whose request overran the deadline. A request
 * whose job waits for the signer (its connection suspended) has arrived
 * (conn_arrived before serve_ocsp): never dropped here. */
static void
conn_deadlines(struct worker *w)
{
	long long now = mono_ms(), limit = w->cfg->deadline * 1000LL;
	struct conn *k;

	pthread_mutex_lock(&w->conn_mu);
	for (k = w->conns; k != NULL; k = k->next)
		if (k->waiting && !k->dropped && now - k->start_ms > limit) {
			shutdown(k->fd, SHUT_RDWR);
			k->dropped = 1;
		}
	pthread_mutex_unlock(&w->conn_mu);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* %HH decoding; a bad escape or an escaped NUL makes the value "\x01",
 * which no path check accepts. */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *rp = s, *wp = s;
	int hi, lo;

	(void)cls;
	(void)c;
	while (*rp != '\0') {
		if (*rp != '%') {
			*wp++ = *rp++;
			continue;
		}
		if ((hi = hexval(rp[1])) < 0 || (lo = hexval(rp[2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			s[0] = '\x01';
			s[1] = '\0';
			return 1;
		}
		*wp++ = (char)(hi * 16 + lo);
		rp += 3;
	}
	*wp = '\0';
	return (size_t)(wp - s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct worker *w = cls;

	/* only start-up problems: later ones are the clients' */
	if (w->started)
		return;
	fputs("hanko-online serve: worker: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* What scan_header found in the request's header fields. */
struct hdr_scan {
	int bad;		/* a control character or NUL in a value */
	int lengths;			/* Content-Length fields */
	int chunked;			/* Transfer-Encoding fields */
	int te_plain;		/* the last one is "chunked" and nothing else */
	int te_final;		/* the last one's last coding is chunked */
	int auths;			/* Authorization fields */
	int hosts;			/* Host fields */
};

/* What a Transfer-Encoding value says: plain (exactly "chunked", which is
 * all libmicrohttpd reads: any other value makes it read the body until
 * the connection closes) and final (its last coding is chunked). */
static void
scan_te(struct hdr_scan *h, const char *v, size_t n)
{
	const char *last;
	size_t ln;

	h->te_plain = n == 7 && strncasecmp(v, "chunked", 7) == 0;
	for (last = v + n; last > v && last[-1] != ','; last--)
		;
	while (last < v + n && (*last == ' ' || *last == '\t'))
		last++;
	for (ln = (size_t)(v + n - last); ln > 0 && (last[ln - 1] == ' ' ||
	    last[ln - 1] == '\t'); ln--)
		;
	h->te_final = ln == 7 && strncasecmp(last, "chunked", 7) == 0;
}

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct hdr_scan *h = cls;
	size_t i;

	(void)kind;
	(void)key_size;
	for (i = 0; value != NULL && i < value_size; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
		    value[i] == 0x7f)
			h->bad = 1;
	if (key == NULL)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		h->lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		h->chunked++;
		scan_te(h, value != NULL ? value : "", value != NULL ?
		    value_size : 0);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
		h->auths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		h->hosts++;
	return MHD_YES;
}

/*
 * RFC 9110 5.5: no NUL or control character in a field value; RFC 9112
 * 6.3: one Content-Length at most and not with Transfer-Encoding, and a
 * Transfer-Encoding whose last coding is not chunked is 400 (request
 * smuggling: the body's length is not known); any other coding than
 * chunked alone is 501 (RFC 9112 6.1: libmicrohttpd reads no other);
 * RFC 9112 3.2: one Host; one Authorization (no choice between two
 * credentials). NULL when the fields are acceptable, else the refusal's
 * text and *code.
 */
static const char *
headers_refusal(struct MHD_Connection *c, unsigned *code)
{
	struct hdr_scan h;

	memset(&h, 0, sizeof(h));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &h);
	*code = MHD_HTTP_BAD_REQUEST;
	if (h.bad)
		return "400 bad request: a header value holds a control "
		    "character (RFC 9110 5.5)\n";
	if (h.lengths > 1 || (h.lengths > 0 && h.chunked > 0))
		return "400 bad request: Content-Length twice or with "
		    "Transfer-Encoding (RFC 9112 6.3)\n";
	if (h.chunked > 0 && !h.te_final)
		return "400 bad request: Transfer-Encoding whose last coding "
		    "is not chunked (RFC 9112 6.3)\n";
	if (h.chunked > 0 && (h.chunked > 1 || !h.te_plain)) {
		*code = MHD_HTTP_NOT_IMPLEMENTED;
		return "501 not implemented: Transfer-Encoding: chunked is "
		    "the only transfer coding taken (RFC 9112 6.1)\n";
	}
	if (h.hosts > 1)
		return "400 bad request: more than one Host (RFC 9112 3.2)\n";
	if (h.auths > 1)
		return "400 bad request: more than one Authorization\n";
	return NULL;
}

/*
 * What is refused as soon as the headers are in: bad header fields, OCSP
 * on a server without it, POST /ocsp of another type or over the size.
 * NULL when the request may go on, else the text and *code.
 */
static const char *
early_refusal(struct worker *w, struct MHD_Connection *c, int ocsp,
    int ocsp_post, unsigned *code)
{
	const char *v;

	if ((v = headers_refusal(c, code)) != NULL)
		return v;
	*code = MHD_HTTP_NOT_FOUND;
	if (ocsp && !w->cfg->ocsp)
		return "404 this server answers no OCSP (--no-ocsp)\n";
	if (!ocsp_post)
		return NULL;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	*code = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	if (v == NULL || strncasecmp(v, "application/ocsp-request", 24) != 0 ||
	    (v[24] != '\0' && v[24] != ';'))
		return "415 POST /ocsp takes Content-Type: "
		    "application/ocsp-request (RFC 6960 A.1)\n";
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	*code = MHD_HTTP_CONTENT_TOO_LARGE;
	if (v != NULL && (strspn(v, "0123456789") != strlen(v) ||
	    strlen(v) > 9 || strtoul(v, NULL, 10) > HK_OCSP_REQ_MAX))
		return "413 an OCSP request is at most 4096 bytes\n";
	return NULL;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct worker *w = cls;
	struct req *rq = *con_cls;
	const char *v;
	int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	int is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	int ocsp = strcmp(url, "/ocsp") == 0;
	int ocsp_get = strncmp(url, "/ocsp/", 6) == 0;
	unsigned code;

	(void)version;
	/* the access log's line of the answer queued in this call */
	acc_method = method;
	acc_url = url;
	snprintf(acc_party, sizeof(acc_party), "%s", rq != NULL ? rq->name :
	    "");
	if (rq == NULL) {
		/* headers in: refuse early what can be refused (the
		 * connection then closes), else wait for the whole request,
		 * so that a connection answered in full stays open */
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		if ((v = early_refusal(w, c, ocsp || ocsp_get, ocsp &&
		    is_post, &code)) != NULL) {
			conn_arrived(w, c);
			return reply_text(c, code, v, NULL);
		}
		/* a method the path does not take: answered now, before
		 * any body, which could be too long to read through */
		if ((ocsp && is_get) || ((ocsp || ocsp_get) &&
		    !(ocsp ? is_post : is_get || is_head)) || (!ocsp &&
		    !ocsp_get && !is_get && !is_head)) {
			conn_arrived(w, c);
			if (ocsp && is_get)
				return reply_text(c, MHD_HTTP_BAD_REQUEST,
				    "400 bad request: GET takes /ocsp/<base64 "
				    "of the DER request> (RFC 6960 A.1)\n",
				    NULL);
			if (ocsp)
				return reply_text(c,
				    MHD_HTTP_METHOD_NOT_ALLOWED, "405 /ocsp "
				    "takes POST, /ocsp/<base64> GET and "
				    "HEAD\n", "POST");
			if (ocsp_get)
				return reply_text(c,
				    MHD_HTTP_METHOD_NOT_ALLOWED, "405 /ocsp "
				    "takes POST, /ocsp/<base64> GET and "
				    "HEAD\n", "GET, HEAD");
			return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "405 the repository takes GET and HEAD\n",
			    "GET, HEAD");
		}
		rq->ocsp_post = ocsp && is_post;
		rq->head = is_head;
		return MHD_YES;
	}
	if (rq->sign == SIGN_DONE)		/* resumed by the signer */
		return sign_reply(w, c, rq);
	if (*upload_size > 0) {
		/* a body: POST /ocsp keeps at most HK_OCSP_REQ_MAX bytes,
		 * another request's is dropped up to as much; a longer one
		 * (chunked, no Content-Length) drops the connection, as no
		 * answer can be queued while a body arrives */
		if (*upload_size > sizeof(rq->body) - rq->len)
			return MHD_NO;
		if (rq->ocsp_post)
			memcpy(rq->body + rq->len, upload, *upload_size);
		rq->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	conn_arrived(w, c);
	/* the method was checked with the headers: POST /ocsp, GET
	 * /ocsp/<base64>, else GET or HEAD of the repository */
	if (rq->ocsp_post)
		return serve_ocsp(w, c, rq, "POST", rq->body, rq->len);
	if (ocsp_get)
		return serve_ocsp_get(w, c, rq, url + 6);
	return serve_file(w, c, url, method);
}

/* ---- the process ---- */

static int
drop_privileges(const struct hk_http_cfg *cfg)
{
	struct rlimit rl;
	struct passwd *pw;
	rlim_t files = (rlim_t)cfg->max_conn + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > files) {
		rl.rlim_cur = rl.rlim_max = files;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			hk_err_set("setrlimit: %s", strerror(errno));
			return HK_ERR_INTERNAL;
		}
	}
	if (cfg->user != NULL) {
		if ((pw = getpwnam(cfg->user)) == NULL) {
			hk_err_set("--user %s: no such user", cfg->user);
			return HK_ERR_USAGE;
		}
		if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0) {
			hk_err_set("--user %s: cannot become this user: %s",
			    cfg->user, strerror(errno));
			return HK_ERR_USAGE;
		}
		if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
			hk_err_set("--user %s: root could be regained",
			    cfg->user);
			return HK_ERR_INTERNAL;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		hk_err_set("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return HK_ERR_INTERNAL;
	}
	return 0;
}

/* The rehearsal-only test hook: a frame the key holder must refuse. */
static void
write_bad_frame(struct worker *w)
{
	unsigned char b[32];
	size_t n = 16;

	memset(b, 0, sizeof(b));
	b[0] = 'H';
	b[1] = 'K';
	b[2] = 'F';
	b[3] = '1';
	switch (w->cfg->bad_frame) {
	case HK_BAD_FRAME_MAGIC:
		memcpy(b, "GARBAGE!", 8);
		break;
	case HK_BAD_FRAME_TYPE:
		b[5] = HK_FRAME_RESPONSE;	/* only the holder sends it */
		break;
	case HK_BAD_FRAME_OVERSIZE:
		b[5] = HK_FRAME_SIGN_OCSP;
		b[13] = 0x01;			/* 65537 bytes */
		b[14] = 0x00;
		b[15] = 0x01;
		break;
	case HK_BAD_FRAME_SHORT:
		b[5] = HK_FRAME_SIGN_OCSP;
		b[15] = 100;			/* 100 said, 10 sent */
		n = 26;
		break;
	case HK_BAD_FRAME_AUDIT:
		b[5] = HK_FRAME_AUDIT;
		b[15] = 2;
		b[16] = 0x03;			/* event 999 */
		b[17] = 0xe7;
		n = 18;
		break;
	default:
		return;
	}
	pthread_mutex_lock(&w->write_mu);
	if (write(w->cfg->channel_fd, b, n) != (ssize_t)n)
		atomic_store(&w->broken, 1);
	pthread_mutex_unlock(&w->write_mu);
}

static int
worker_open(struct worker *w)
{
	char path[4096];
	int r;

	if (snprintf(path, sizeof(path), "%s/store.db", w->cfg->state) >=
	    (int)sizeof(path))
		return HK_ERR_INVALID;
	if ((r = hk_store_open_readonly(path, &w->store)) != 0)
		return r;
	if (w->cfg->ocsp) {
		unsigned n = w->cfg->workers < 1 ? 1 : w->cfg->workers;

		if (n > OCSP_POOL_MAX)
			n = OCSP_POOL_MAX;
		for (w->nocsp = 0; w->nocsp < n; w->nocsp++)
			if ((r = hk_ocsp_ctx_open(w->cfg->state,
			    &w->ocsp[w->nocsp].ctx)) != 0)
				return r;
	}
	/* read once now, before any privilege is dropped */
	pthread_mutex_lock(&w->rp_mu);
	rp_reload(w);
	pthread_mutex_unlock(&w->rp_mu);
	return 0;
}

static void
worker_free(struct worker *w)
{
	struct set_ref *s = w->cur;

	w->cur = NULL;
	if (s != NULL)
		set_release(w, s);
	while (w->nocsp > 0)
		hk_ocsp_ctx_free(w->ocsp[--w->nocsp].ctx);
	EVP_MD_free(w->sha256);
	w->sha256 = NULL;
	hk_store_close(w->store);
	free(w->rps);
	free(w->prates);
}

int
hk_http_run(const struct hk_http_cfg *cfg)
{
	static struct worker W;
	struct worker *w = &W;
	sigset_t set;
	struct timespec ts = { 0, TICK_MS * 1000000L };
	pid_t holder = getppid();
	unsigned flags;
	int r, sig;

	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	if ((w->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		fprintf(stderr, "hanko-online serve: worker: no SHA-256\n");
		return HK_ERR_CRYPTO;
	}
	w->tokens = cfg->sign_rate;
	/* the jobs the bucket's burst admits at once, as a queue */
	w->sq_cap = cfg->sign_rate * 2;
	if (w->sq_cap > SIGN_QUEUE_MAX)
		w->sq_cap = SIGN_QUEUE_MAX;
	if ((w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		fprintf(stderr, "hanko-online serve: worker: eventfd: %s\n",
		    strerror(errno));
		EVP_MD_free(w->sha256);
		return HK_ERR_IO;
	}
	w->tokens_ms = mono_ms();
	access_log.fd = cfg->access_fd;
	for (r = 0; r < OCSP_POOL_MAX; r++)
		pthread_mutex_init(&w->ocsp[r].mu, NULL);
	pthread_mutex_init(&w->set_mu, NULL);
	pthread_mutex_init(&w->rp_mu, NULL);
	pthread_mutex_init(&w->lim_mu, NULL);
	pthread_mutex_init(&w->prov_mu, NULL);
	pthread_mutex_init(&w->conn_mu, NULL);
	pthread_mutex_init(&w->write_mu, NULL);
	pthread_mutex_init(&w->sign_mu, NULL);
	pthread_mutex_init(&w->rate_mu, NULL);
	/* the signals are taken here only, by sigtimedwait */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((r = worker_open(w)) != 0 || (r = drop_privileges(cfg)) != 0)
		goto out;
	if ((r = chan_send(w, HK_FRAME_PING, 0, NULL, 0)) != 0)
		goto out;
	/* ready (the socket listens already): the key holder answers
	 * PONG, read before any job could read the channel */
	{
		struct hk_frame f;

		if ((r = hk_frame_read(cfg->channel_fd, HK_FRAME_TO_WORKER,
		    HK_FRAME_TIMEOUT_MS, &f)) != 0)
			goto out;
		hk_frame_free(&f);
	}
	/* from now on the signer alone reads the channel */
	if ((errno = pthread_create(&w->signer, NULL, signer_run, w)) != 0) {
		hk_err_set("pthread_create: %s", strerror(errno));
		r = HK_ERR_INTERNAL;
		goto out;
	}
	w->signer_started = 1;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	w->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, w,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)cfg->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->workers > 1 ?
	    cfg->workers : 0),
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_conn,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, w,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_END);
	if (w->d == NULL) {
		hk_err_set("libmicrohttpd: cannot start on the listening "
		    "socket");
		r = HK_ERR_IO;
		goto out;
	}
	w->started = 1;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR2)
			write_bad_frame(w);
		conn_deadlines(w);
		access_report(w);
		flush_events(w, 0);
		flush_provisions(w);
		if (atomic_load(&w->broken) || getppid() != holder) {
			hk_err_set("the channel to the key holder is gone");
			r = HK_ERR_IO;
			break;
		}
	}
 out:
	/* every suspended connection resumed (tryLater) before the daemon
	 * stops: libmicrohttpd aborts when one is left */
	signer_stop(w);
	if (w->d != NULL)
		MHD_stop_daemon(w->d);
	w->d = NULL;
	if (!atomic_load(&w->broken)) {
		flush_events(w, 1);
		flush_provisions(w);
	}
	worker_free(w);
	close(w->wake_fd);
	return r;
}
