/*
 * serve_keyholder.c - the key holder of "hanko-online serve"
 * (serve_keyholder.h, docs/process-model.md).
 *
 * One thread, one poll loop over the channel from the worker and a
 * signalfd (SIGTERM, SIGINT: stop; SIGHUP: refresh OCSP now; SIGCHLD: the
 * worker ended). Every second it also writes the provision counts that
 * are due (one transaction per --flush period, never one per request),
 * refreshes the pre-signed OCSP responses when --refresh has passed or a
 * new repository set appears, says when state.conf names a responder it
 * did not load (a restart uses it), and signs an audit checkpoint hourly.
 * While the clock is more than HK_ONLINE_CLOCK_TOLERANCE s behind the
 * audit log's newest record it signs no OCSP response (clock_hold).
 *
 * What the worker sends is checked before use: framing by frame.c, jobs
 * by hk_ocsp_sign_job's strict decoder, audit events from a fixed set,
 * and rates capped (signing jobs at twice the worker's own limit, audit
 * records at AUDIT_RATE per second), so that even a subverted worker can
 * neither make the key sign without limit nor fill the disk.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "frame.h"
#include "ocsp.h"
#include "online.h"
#include "serve_keyholder.h"
#include "state.h"
#include "store.h"

#define TICK_MS		1000		/* periodic work */
#define STOP_WAIT_MS	5000		/* the worker's time to stop */
#define AUDIT_RATE	20		/* worker audit records per second */
#define AUDIT_BURST	200
#define CHECKPOINT_S	3600	/* a checkpoint when records were added */
#define AGG_MAX		1024		/* provision counters between flushes */
/* A flush waits this long for another writer (a batch's commit takes
 * milliseconds), not the store's 10 s: the key holder is one loop, and a
 * store held for minutes (revoke --issuing-key-compromise) must not hold up
 * the OCSP signing jobs queued meanwhile for 10 s every --flush period. */
#define FLUSH_BUSY_MS	250

/* The clock guard's state as last said (stderr and the audit log). */
#define HOLD_NONE	0		/* signing */
#define HOLD_BEHIND	1		/* the clock is behind: signs nothing */
#define HOLD_UNREAD	2		/* the log's end unreadable: the same */

/* Provision counts between two flushes, per party, method, object and JST
 * day: a counter is written with the time of its first provision, so its
 * provisions must all fall in that one's JST month (CPS 4-5), also when
 * failing flushes keep it across midnight JST (15:00Z). */
struct agg {
	char name[HK_FRAME_NAME_MAX + 1];
	char object[HK_FRAME_OBJECT_MAX + 1];
	const char *method;		/* "http" or "ocsp" */
	long long day;			/* JST day of the first
					 * (hk_store_jst_day) */
	time_t first;			/* when the first was reported */
	uint64_t count;
};

struct holder {
	const struct hk_keyholder_cfg *cfg;
	struct hk_online *on;
	struct hk_store *store;
	struct hk_ocsp_signer *sg;	/* NULL with --no-ocsp */
	int chan;			/* our end of the channel */
	int sfd;			/* signalfd */
	pid_t worker;			/* 0 once reaped */
	int worker_status;		/* its wait status once reaped */
	int ready;			/* the worker said PING */
	int stopping;			/* SIGTERM or SIGINT seen */
	long long stop_ms;		/* when the worker is killed */
	struct agg agg[AGG_MAX];
	size_t nagg;
	int flush_failing;		/* the last flush failed */
	uint64_t lost;			/* provisions not counted (counters
					 * full, the store refusing them)
					 * since lost_audit said so */
	uint64_t wlost;			/* the same the worker could not
					 * count (its counter table full),
					 * as its provision.lost events say */
	double jtok, atok;		/* job and audit tokens */
	long long jms, ams;		/* their last refill */
	unsigned long adropped;		/* audit events over the rate */
	long long adropped_ms;		/* first of those */
	char target[4096];		/* the repository link's target */
	long long next_flush, next_refresh, next_checkpoint;
	int dirty;			/* records since the last checkpoint */
	char refresh_err[256];		/* the last refresh failure reported */
	/* the clock guard (docs/clock.md): the newest record of the audit
	 * log's end as the last refresh read it, and what was said */
	struct hk_audit_newest nw;
	int nw_ok;			/* nw read (0: not yet, or unreadable) */
	char nw_err[HK_ERR_DETAIL_MAX];	/* why the log's end could not be
					 * read: whole (a closed log's path
					 * deep in the file system, then what
					 * is wrong in it) */
	int held;			/* HOLD_*: what was said last */
	unsigned long held_jobs;	/* jobs answered tryLater since */
	char resp_start[16];		/* responder.current at start */
	char resp_seen[16];		/* the last one state.conf named */
	struct timespec conf_mtime;	/* state.conf's when last read */
};

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An audit record of the key holder's own. */
static void
holder_audit(struct holder *h, const char *event, const char *result,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
holder_audit(struct holder *h, const char *event, const char *result,
    const char *fmt, ...)
{
	char d[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	hk_online_audit(h->on, event, result, "%s", d);
	h->dirty = 1;
}

static int
take(double *tok, long long *ms, double rate, double burst)
{
	long long now = mono_ms();

	*tok += (double)(now - *ms) * rate / 1000.0;
	if (*tok > burst)
		*tok = burst;
	*ms = now;
	if (*tok < 1.0)
		return 0;
	*tok -= 1.0;
	return 1;
}

/* A frame to the worker; HK_ERR_NOT_FOUND when it is gone (hk_frame_write),
 * so that the loop reaps it as a worker that died, not as one that broke
 * the protocol. */
static int
chan_write(struct holder *h, unsigned type, uint32_t id, const void *data,
    size_t len)
{
	return hk_frame_write(h->chan, type, id, data, len);
}

/* ---- provisions (CPS 4-5) ---- */

static int
agg_add(const struct hk_frame_prov *rec, void *arg)
{
	struct holder *h = arg;
	time_t now = hk_clock_now();
	long long day = hk_store_jst_day(now);
	const char *m = hk_frame_method_name(rec->method);
	struct agg *a;
	size_t i;

	for (i = 0; i < h->nagg; i++) {
		a = &h->agg[i];
		if (a->day == day && a->method == m &&
		    strcmp(a->name, rec->name) == 0 &&
		    strcmp(a->object, rec->object) == 0) {
			a->count += rec->count;
			return 0;
		}
	}
	if (h->nagg == AGG_MAX) {
		/* full, and the flush before the frame failed: not counted,
		 * said by lost_audit */
		h->lost += rec->count;
		return 0;
	}
	a = &h->agg[h->nagg++];
	snprintf(a->name, sizeof(a->name), "%s", rec->name);
	snprintf(a->object, sizeof(a->object), "%s", rec->object);
	a->method = m;
	a->day = day;
	a->first = now;
	a->count = rec->count;
	return 0;
}

/* Write the counts in one transaction; on failure keep them for the next
 * flush (reported once per failing streak). */
static int
flush_provisions(struct holder *h)
{
	size_t i;
	int r;

	if (h->nagg == 0)
		return 0;
	hk_store_busy_timeout(h->store, FLUSH_BUSY_MS);
	if ((r = hk_store_begin(h->store)) != 0)
		goto fail;
	for (i = 0; i < h->nagg; i++)
		if ((r = hk_store_provision_add_count(h->store,
		    h->agg[i].name, h->agg[i].method, h->agg[i].object,
		    h->agg[i].first, h->agg[i].count)) != 0)
			goto fail;
	if ((r = hk_store_commit(h->store)) != 0)
		goto fail;
	hk_store_busy_timeout(h->store, 0);
	h->nagg = 0;
	if (h->flush_failing)
		holder_audit(h, "provision.flush", "ok", "provision counts "
		    "written again");
	h->flush_failing = 0;
	return 0;
 fail:
	hk_store_rollback(h->store);
	hk_store_busy_timeout(h->store, 0);
	if (!h->flush_failing) {
		fprintf(stderr, "hanko-online serve: provisions: %s\n",
		    hk_err_msg());
		holder_audit(h, "provision.flush", "fail", "%zu counters kept "
		    "for the next try: %s", h->nagg, hk_err_msg());
	}
	h->flush_failing = 1;
	return r;
}

/* Provisions lost since the last call: one line on stderr and an audit
 * record (provision.lost) with their number, which report (CPS 4-5) adds
 * up for the month; called with each periodic flush and at the stop, so at
 * most one record per --flush period. */
static void
lost_audit(struct holder *h)
{
	if (h->wlost > 0) {
		holder_audit(h, "provision.lost", "fail", "%" PRIu64
		    " provisions not counted: the serve worker's counter table "
		    "was full between two hand-overs to the key holder; the CPS "
		    "4-5 report of this month falls short by them", h->wlost);
		h->wlost = 0;
	}
	if (h->lost == 0)
		return;
	fprintf(stderr, "hanko-online serve: provisions: %" PRIu64 " not "
	    "counted: the counters are full and the store refuses them\n",
	    h->lost);
	holder_audit(h, "provision.lost", "fail", "%" PRIu64 " provisions not "
	    "counted: the %d counters are full and the store refuses them; "
	    "the CPS 4-5 report of this month falls short by them", h->lost,
	    AGG_MAX);
	h->lost = 0;
}

static int
on_provision(struct holder *h, const struct hk_frame *f)
{
	/* room for a whole frame first; what finds the counters full all the
	 * same is counted as lost (lost_audit) */
	if (h->nagg > AGG_MAX - HK_FRAME_PROV_MAX)
		(void)flush_provisions(h);
	return hk_frame_prov_decode(f->data, f->len, agg_add, h);
}

/* ---- OCSP ---- */

/*
 * The clock guard of the key holder (CPS 4-12-2-5; docs/clock.md): while
 * the clock is more than HK_ONLINE_CLOCK_TOLERANCE s behind the newest
 * record of the audit log's end (hk_online_clock_read, as the commands
 * that sign read it), the key holder signs no OCSP response: the refresh
 * is skipped and a signing job is answered tryLater. Serving goes on
 * (CPS 2-6): the repository and the responses already pre-signed.
 *
 * reread (each refresh): read the log's end again into h->nw; else (each
 * signing job) compare the clock with the record read last, which only
 * gets newer until a clock.accept (then the next refresh reads it). A log
 * whose end cannot be read holds signing as the commands that sign refuse.
 * A change of state is said once, on stderr and in the audit log
 * (ocsp.refresh fail, then ok when signing again). 1: signs nothing.
 */
static int
clock_hold(struct holder *h, int reread, const char *why)
{
	char line[HK_ERR_DETAIL_MAX], t[32];
	long long behind = 0;
	time_t now = hk_clock_now();
	int state;

	if (reread) {
		if (hk_online_clock_read(h->on, now, &h->nw, &behind) == 0) {
			h->nw_ok = 1;
			h->nw_err[0] = '\0';
		} else {
			h->nw_ok = 0;
			snprintf(h->nw_err, sizeof(h->nw_err), "%s",
			    hk_err_msg());
			hk_err_clear();
		}
	}
	if (!h->nw_ok)
		state = HOLD_UNREAD;
	else {
		behind = (long long)h->nw.t - (long long)now;
		state = behind > HK_ONLINE_CLOCK_TOLERANCE ? HOLD_BEHIND :
		    HOLD_NONE;
	}
	if (state == h->held)
		return state != HOLD_NONE;
	if (state == HOLD_BEHIND) {
		hk_online_clock_line(h->on, now, &h->nw, behind, line,
		    sizeof(line));
		fprintf(stderr, "hanko-online serve: ocsp: %s; no OCSP "
		    "response is signed meanwhile: the pre-signed ones are "
		    "served, requests that need a signature get tryLater\n",
		    line);
		holder_audit(h, "ocsp.refresh", "fail", "%s: %s; no OCSP "
		    "response is signed meanwhile: the pre-signed ones are "
		    "served, requests that need a signature get tryLater", why,
		    line);
	} else if (state == HOLD_UNREAD) {
		fprintf(stderr, "hanko-online serve: ocsp: CPS 4-12-2-5: the "
		    "clock is not checked: the end of the audit log, whose "
		    "newest record the clock guard compares with, cannot be "
		    "read: %s; no OCSP response is signed until it can be: "
		    "the pre-signed ones are served, requests that need a "
		    "signature get tryLater\n", h->nw_err);
		holder_audit(h, "ocsp.refresh", "fail", "%s: CPS 4-12-2-5: "
		    "the clock is not checked: the end of the audit log "
		    "cannot be read: %s; no OCSP response is signed until it "
		    "can be", why, h->nw_err);
	} else {
		hk_time_format(now, t, sizeof(t));
		fprintf(stderr, "hanko-online serve: ocsp: CPS 4-12-2-5: the "
		    "clock reads %s, not behind audit record %" PRIu64
		    " (%s) by more than %d s: signing OCSP responses again "
		    "(%lu requests got tryLater meanwhile)\n", t, h->nw.seq,
		    h->nw.time, HK_ONLINE_CLOCK_TOLERANCE, h->held_jobs);
		holder_audit(h, "ocsp.refresh", "ok", "%s: CPS 4-12-2-5: the "
		    "clock reads %s, not behind audit record %" PRIu64
		    " (%s) by more than %d s: signing OCSP responses again "
		    "(%lu requests got tryLater meanwhile)", why, t,
		    h->nw.seq, h->nw.time, HK_ONLINE_CLOCK_TOLERANCE,
		    h->held_jobs);
	}
	h->held = state;
	h->held_jobs = 0;
	return state != HOLD_NONE;
}

static void
refresh(struct holder *h, const char *why)
{
	size_t count = 0;
	int r;

	h->next_refresh = mono_ms() + h->cfg->refresh * 1000LL;
	if (h->sg == NULL || clock_hold(h, 1, why))
		return;
	if ((r = hk_ocsp_refresh(h->sg, hk_clock_now(), &count)) != 0) {
		/* the other responders' work is done all the same */
		if (count > 0) {
			struct hk_err_kept keep;

			hk_err_keep(&keep);
			holder_audit(h, "ocsp.refresh", "ok", "%s: %zu "
			    "responses signed", why, count);
			hk_err_restore(&keep);
		}
		/* once per distinct failure: serving goes on (CPS 2-6-4) */
		if (strcmp(h->refresh_err, hk_err_msg()) != 0) {
			snprintf(h->refresh_err, sizeof(h->refresh_err), "%s",
			    hk_err_msg());
			fprintf(stderr, "hanko-online serve: ocsp refresh: "
			    "%s\n", hk_err_msg());
			holder_audit(h, "ocsp.refresh", "fail", "%s: %s", why,
			    hk_err_msg());
		}
		return;
	}
	h->refresh_err[0] = '\0';
	if (count > 0)
		holder_audit(h, "ocsp.refresh", "ok", "%s: %zu responses "
		    "signed", why, count);
}

static int
on_sign(struct holder *h, const struct hk_frame *f)
{
	unsigned char *resp = NULL;
	size_t len = 0;
	int r;

	if (h->sg == NULL)
		return chan_write(h, HK_FRAME_FAILED, f->id, NULL, 0);
	/* the clock behind: tryLater (RFC 6960 4.2.1), unsigned */
	if (clock_hold(h, 0, "signing job")) {
		h->held_jobs++;
		if (hk_ocsp_error_response(OCSP_RESPONSE_STATUS_TRYLATER,
		    &resp, &len) != 0)
			return chan_write(h, HK_FRAME_FAILED, f->id, NULL, 0);
		r = chan_write(h, HK_FRAME_RESPONSE, f->id, resp, len);
		free(resp);
		return r;
	}
	if (!take(&h->jtok, &h->jms, 2.0 * h->cfg->sign_rate,
	    4.0 * h->cfg->sign_rate))
		return chan_write(h, HK_FRAME_FAILED, f->id, NULL, 0);
	if (hk_ocsp_sign_job(h->sg, f->data, f->len, hk_clock_now(), &resp,
	    &len) != 0 || len > HK_FRAME_MAX) {
		fprintf(stderr, "hanko-online serve: ocsp job: %s\n",
		    hk_err_msg());
		free(resp);
		return chan_write(h, HK_FRAME_FAILED, f->id, NULL, 0);
	}
	r = chan_write(h, HK_FRAME_RESPONSE, f->id, resp, len);
	free(resp);
	return r;
}

/*
 * The signer is opened once, at start: a responder made or renewed since
 * (hanko-online responder writes responder.current) is not used until
 * serve restarts. Say so once per change, on stderr and in the audit log,
 * so that the operators restart it (docs/ocsp.md). state.conf is read
 * again only when its mtime changes.
 */
static void
check_responder(struct holder *h)
{
	struct hk_state *st = NULL;
	struct stat sb;
	char path[4096];
	const char *cur;

	if (h->sg == NULL ||
	    hk_online_path(h->on, "state.conf", path, sizeof(path)) != 0 ||
	    stat(path, &sb) != 0 ||
	    (sb.st_mtim.tv_sec == h->conf_mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == h->conf_mtime.tv_nsec))
		return;
	h->conf_mtime = sb.st_mtim;
	if (hk_state_load(h->on->st->dir, &st) != 0) {
		hk_err_clear();		/* being replaced: next tick */
		h->conf_mtime.tv_sec = 0;
		return;
	}
	if ((cur = hk_state_get(st, "responder.current")) != NULL &&
	    strcmp(cur, h->resp_start) != 0 && strcmp(cur, h->resp_seen) != 0) {
		snprintf(h->resp_seen, sizeof(h->resp_seen), "%s", cur);
		fprintf(stderr, "hanko-online serve: ocsp: state.conf names "
		    "OCSP responder %s, this serve signs with the responders "
		    "it loaded at start (responder.current %s): restart serve "
		    "to use it\n", cur, h->resp_start);
		holder_audit(h, "ocsp.responder", "fail", "state.conf names "
		    "OCSP responder %s, this serve signs with the responders "
		    "it loaded at start (responder.current %s): restart serve "
		    "to use it", cur, h->resp_start);
	}
	hk_state_free(st);
}

/* ---- frames ---- */

static int
on_audit(struct holder *h, const struct hk_frame *f)
{
	char detail[HK_FRAME_DETAIL_MAX + 1];
	const char *ev, *res;
	unsigned code;
	int r;

	if ((r = hk_frame_audit_decode(f->data, f->len, &code, detail)) != 0 ||
	    hk_frame_event_name(code, &ev, &res) != 0)
		return r != 0 ? r : HK_ERR_PARSE;
	if (code == HK_EV_PROV_LOST) {
		/* the worker's lost provisions: their number alone, added up
		 * and audited by lost_audit (one record per flush period
		 * whatever the worker sends, so not rate-limited here) */
		uint64_t n = 0;
		size_t i, len = strlen(detail);

		for (i = 0; i < len && detail[i] >= '0' && detail[i] <= '9' &&
		    n <= (UINT64_MAX - 9) / 10; i++)
			n = n * 10 + (uint64_t)(detail[i] - '0');
		if (len == 0 || len > 19 || i != len || n == 0) {
			hk_err_set("channel: AUDIT: provision.lost: detail "
			    "'%.40s': not a count (1 to 19 digits, not 0)",
			    detail);
			return HK_ERR_PARSE;
		}
		h->wlost = h->wlost > UINT64_MAX - n ? UINT64_MAX :
		    h->wlost + n;
		return 0;
	}
	if (!take(&h->atok, &h->ams, AUDIT_RATE, AUDIT_BURST)) {
		if (h->adropped++ == 0)
			h->adropped_ms = mono_ms();
		return 0;
	}
	holder_audit(h, ev, res, "%s", detail);
	return 0;
}

static int
on_frame(struct holder *h, const struct hk_frame *f)
{
	switch (f->type) {
	case HK_FRAME_PING:
		if (!h->ready) {
			h->ready = 1;
			printf("hanko-online serve: listening on %s (key "
			    "holder %ld, worker %ld)\n", h->cfg->listen,
			    (long)getpid(), (long)h->worker);
			fflush(stdout);
		}
		return chan_write(h, HK_FRAME_PONG, f->id, NULL, 0);
	case HK_FRAME_SIGN_OCSP:
		return on_sign(h, f);
	case HK_FRAME_AUDIT:
		return on_audit(h, f);
	case HK_FRAME_PROVISION:
		return on_provision(h, f);
	}
	hk_err_set("channel: type %u: not a frame this side accepts", f->type);
	return HK_ERR_PARSE;
}

/* ---- the worker process ---- */

static int
spawn(struct holder *h, const sigset_t *orig)
{
	int sv[2], c, l;
	/* the access log's file, fd 5 of the worker (standard output, fd 1,
	 * it has anyway) */
	int a = h->cfg->access_fd > 2 ? h->cfg->access_fd : -1;
	pid_t parent = getpid(), p;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		hk_err_set("socketpair: %s", strerror(errno));
		return HK_ERR_IO;
	}
	fflush(NULL);
	if ((p = fork()) < 0) {
		hk_err_set("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return HK_ERR_IO;
	}
	if (p == 0) {
		/* the child: only async-signal-safe calls until exec */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(70);
		if ((c = fcntl(sv[1], F_DUPFD, 10)) < 0 ||
		    (l = fcntl(h->cfg->listen_fd, F_DUPFD, 10)) < 0 ||
		    (a >= 0 && (a = fcntl(a, F_DUPFD, 10)) < 0) ||
		    dup2(c, 3) != 3 || dup2(l, 4) != 4 ||
		    (a >= 0 && dup2(a, 5) != 5))
			_exit(70);
		close_range(a >= 0 ? 6 : 5, ~0U, 0);
		sigprocmask(SIG_SETMASK, orig, NULL);
		execv("/proc/self/exe", h->cfg->worker_argv);
		_exit(127);
	}
	close(sv[1]);
	h->chan = sv[0];
	h->worker = p;
	return 0;
}

/* Reap the worker if it ended (wait: block up to STOP_WAIT_MS, then
 * SIGKILL it). 1 when reaped. */
static int
reap(struct holder *h, int wait)
{
	long long until = mono_ms() + STOP_WAIT_MS;
	pid_t p;

	if (h->worker == 0)
		return 1;
	for (;;) {
		p = waitpid(h->worker, &h->worker_status, WNOHANG);
		if (p == h->worker || (p < 0 && errno == ECHILD)) {
			h->worker = 0;
			return 1;
		}
		if (!wait)
			return 0;
		if (mono_ms() > until) {
			kill(h->worker, SIGKILL);
			until = mono_ms() + STOP_WAIT_MS;
		}
		usleep(20000);
	}
}

static void
describe_status(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "ended (status %d)", st);
}

/* ---- periodic work ---- */

static void
check_set(struct holder *h)
{
	char t[sizeof(h->target)];
	ssize_t n;

	if ((n = readlink(h->cfg->repo, t, sizeof(t) - 1)) < 0)
		n = 0;
	t[n] = '\0';
	if (strcmp(t, h->target) == 0)
		return;
	snprintf(h->target, sizeof(h->target), "%s", t);
	holder_audit(h, "repo.set", "ok", "%s -> %s: now serving this set",
	    h->cfg->repo, n > 0 ? t : "(nothing published)");
	refresh(h, "new repository set");
}

static void
tick(struct holder *h)
{
	long long now = mono_ms();

	if (now >= h->next_flush) {
		h->next_flush = now + h->cfg->flush * 1000LL;
		(void)flush_provisions(h);
		lost_audit(h);
	}
	if (now >= h->next_refresh)
		refresh(h, "periodic");
	check_set(h);
	check_responder(h);
	if (h->adropped > 0 && now - h->adropped_ms >= 60000) {
		holder_audit(h, "serve.suppressed", "ok", "%lu audit events "
		    "from the worker over %d/s not recorded", h->adropped,
		    AUDIT_RATE);
		h->adropped = 0;
	}
	if (h->dirty && now >= h->next_checkpoint) {
		h->next_checkpoint = now + CHECKPOINT_S * 1000LL;
		if (hk_online_checkpoint(h->on) == 0)
			h->dirty = 0;
		else
			fprintf(stderr, "hanko-online serve: checkpoint: %s\n",
			    hk_err_msg());
	}
}

/* SIGTERM, SIGINT: stop; SIGHUP: refresh now; SIGCHLD: reap. */
static void
on_signals(struct holder *h)
{
	struct signalfd_siginfo si;

	while (read(h->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (!h->stopping && h->worker != 0)
				kill(h->worker, SIGTERM);
			if (!h->stopping)
				h->stop_ms = mono_ms() + STOP_WAIT_MS;
			h->stopping = 1;
			break;
		case SIGHUP:
			refresh(h, "SIGHUP");
			check_responder(h);
			break;
		case SIGCHLD:
			(void)reap(h, 0);
			break;
		}
	}
}

/*
 * The loop: 0 after a requested stop, else the error that ended it (the
 * channel broke, a bad frame, the worker died), audited.
 */
static int
loop(struct holder *h)
{
	struct pollfd pfd[2];
	struct hk_frame f;
	char st[64];
	int r;

	for (;;) {
		pfd[0].fd = h->chan;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->sfd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, TICK_MS) < 0 && errno != EINTR) {
			hk_err_set("poll: %s", strerror(errno));
			return HK_ERR_IO;
		}
		if (pfd[1].revents & POLLIN)
			on_signals(h);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = hk_frame_read(h->chan, HK_FRAME_TO_HOLDER, 0, &f);
			if (r == 0) {
				r = on_frame(h, &f);
				hk_frame_free(&f);
			}
			/* the channel's end: EOF on the read, or an
			 * answer that met the worker gone (chan_write) */
			if (r == HK_ERR_NOT_FOUND && h->stopping)
				return 0;
			if (r == HK_ERR_NOT_FOUND) {
				(void)reap(h, 1);
				describe_status(h->worker_status, st,
				    sizeof(st));
				hk_err_set("the worker %s; serve stops (a "
				    "supervisor restarts it)", st);
				holder_audit(h, "serve.worker", "fail", "%s",
				    hk_err_msg());
				return HK_ERR_INTERNAL;
			}
			if (r != 0) {
				if (h->worker != 0)
					kill(h->worker, SIGKILL);
				hk_err_set("%s: the worker broke the channel "
				    "protocol; serve stops (a supervisor "
				    "restarts it)", hk_err_msg());
				holder_audit(h, "serve.channel", "fail", "%s",
				    hk_err_msg());
				return r == HK_ERR_ALLOC ? r : HK_ERR_PARSE;
			}
		}
		if (h->stopping && h->worker != 0 && mono_ms() > h->stop_ms) {
			kill(h->worker, SIGKILL);
			h->stop_ms = mono_ms() + STOP_WAIT_MS;
		}
		tick(h);
	}
}

int
hk_keyholder_run(const struct hk_keyholder_cfg *cfg)
{
	static struct holder H;
	struct holder *h = &H;
	sigset_t set, orig;
	char path[4096], st[64];
	struct hk_err_kept keep;
	ssize_t n;
	int r, r2;

	memset(h, 0, sizeof(*h));
	h->cfg = cfg;
	h->on = cfg->on;
	h->chan = h->sfd = -1;
	h->jtok = 2.0 * cfg->sign_rate;
	h->atok = AUDIT_BURST;
	h->jms = h->ams = mono_ms();
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &orig) != 0 ||
	    (h->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		hk_err_set("signalfd: %s", strerror(errno));
		close(cfg->listen_fd);
		return HK_ERR_INTERNAL;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r = hk_online_path(h->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0,
	    &h->store)) != 0) {
		close(cfg->listen_fd);
		goto out;
	}
	if (cfg->ocsp && (r = hk_ocsp_signer_open(h->on, &h->sg)) != 0) {
		close(cfg->listen_fd);
		goto out;
	}
	if (h->sg != NULL && hk_ocsp_signer_warning(h->sg) != NULL) {
		fprintf(stderr, "hanko-online serve: ocsp: %s\n",
		    hk_ocsp_signer_warning(h->sg));
		holder_audit(h, "ocsp.refresh", "fail", "start: %s",
		    hk_ocsp_signer_warning(h->sg));
	}
	refresh(h, "start");
	if (h->sg != NULL) {
		const char *cur = hk_state_get(h->on->st, "responder.current");
		struct stat sb;

		snprintf(h->resp_start, sizeof(h->resp_start), "%s",
		    cur != NULL ? cur : "");
		if (hk_online_path(h->on, "state.conf", path,
		    sizeof(path)) == 0 && stat(path, &sb) == 0)
			h->conf_mtime = sb.st_mtim;
	}
	if ((n = readlink(cfg->repo, h->target, sizeof(h->target) - 1)) > 0)
		h->target[n] = '\0';
	r = spawn(h, &orig);
	/* the key holder never accepts a connection: only the worker
	 * keeps the listening socket */
	close(cfg->listen_fd);
	if (r != 0)
		goto out;
	holder_audit(h, "serve.start", "ok", "listening on %s, repository "
	    "%s -> %s, key holder %ld, worker %ld%s", cfg->listen, cfg->repo,
	    h->target[0] ? h->target : "(nothing published)", (long)getpid(),
	    (long)h->worker, cfg->ocsp ? "" : ", no OCSP");
	if ((r = hk_online_checkpoint(h->on)) != 0)
		goto out;
	h->dirty = 0;
	h->next_flush = mono_ms() + cfg->flush * 1000LL;
	h->next_checkpoint = mono_ms() + CHECKPOINT_S * 1000LL;
	r = loop(h);
 out:
	hk_err_keep(&keep);
	if (h->worker != 0) {
		if (r != 0)
			kill(h->worker, SIGTERM);
		(void)reap(h, 1);
	}
	if (h->store != NULL) {
		if ((r2 = flush_provisions(h)) != 0 && r == 0) {
			hk_err_keep(&keep);
			r = r2;
		}
		lost_audit(h);
	}
	if (h->chan >= 0) {
		describe_status(h->worker_status, st, sizeof(st));
		holder_audit(h, "serve.stop", r == 0 ? "ok" : "fail",
		    "worker %s%s%s", st, r == 0 ? "" : ": ", r == 0 ? "" :
		    keep.msg);
		hk_err_restore(&keep);
		hk_online_checkpoint_keep_err(h->on);
		close(h->chan);
	} else if (r != 0) {
		holder_audit(h, "serve.start", "fail", "%s", keep.msg);
		hk_err_restore(&keep);
		hk_online_checkpoint_keep_err(h->on);
	}
	hk_err_restore(&keep);
	hk_ocsp_signer_free(h->sg);
	hk_store_close(h->store);
	close(h->sfd);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return r;
}
