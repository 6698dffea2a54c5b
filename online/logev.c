/*
 * logev.c - the audit log read as evidence (logev.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "hex.h"
#include "logev.h"

char *
hk_logev_details(const struct hk_audit_record *rec)
{
	char *d;

	if ((d = malloc(rec->dlen + 1)) == NULL)
		return NULL;
	memcpy(d, rec->details, rec->dlen);
	d[rec->dlen] = '\0';
	return d;
}

int
hk_logev_serial_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 2 * HK_STORE_SERIAL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' &&
		    s[i] <= 'F')))
			return 0;
	return 1;
}

const char *
hk_logev_done_batch(const char *d)
{
	const char *t;

	/* the batch's SHA-256 just before ": this run" (its file name may
	 * hold anything) */
	for (t = d; (t = strstr(t, ": this run ")) != NULL; t++)
		if (t - d >= 72 && memcmp(t - 72, " sha256 ", 8) == 0 &&
		    strspn(t - 64, "0123456789abcdef") >= 64)
			return t - 64;
	return NULL;
}

int
hk_logev_revoke_serial(const char *d, const char **s, size_t *sl,
    const char **m, size_t *ml, int *reason)
{
	const char *mu, *q;

	if (strncmp(d, "serial ", 7) != 0 ||
	    (mu = strstr(d + 7, ": municipality ")) == NULL ||
	    (q = strstr(mu, ", reason ")) == NULL || q[9] < '1' ||
	    q[9] > '5' || q[10] != ' ' ||
	    !hk_logev_serial_ok(d + 7, (size_t)(mu - d - 7)))
		return 0;
	*s = d + 7;
	*sl = (size_t)(mu - d - 7);
	*m = mu + 15;
	*ml = (size_t)(q - mu - 15);
	*reason = q[9] - '0';
	return 1;
}

int
hk_logev_revoke_all(const char *d, int *gen, const char **kid, size_t *kl)
{
	const char *k;
	uint64_t g;
	size_t n;

	if (strncmp(d, "issuing generation ", 19) != 0)
		return 0;
	/* G as revoke writes it (%d): digits, no sign, blank or leading
	 * zero (strtol would take "+1", " 1" and "01") */
	n = strspn(d + 19, "0123456789");
	if (hk_dec_parse(d + 19, n, 3, &g) != 0 ||
	    strncmp(d + 19 + n, " key id ", 8) != 0)
		return 0;
	k = d + 19 + n + 8;
	n = strspn(k, "0123456789abcdef");
	if (n < 2 || n > 2 * HK_STORE_KEYID_MAX || k[n] != ':')
		return 0;
	*gen = (int)g;
	*kid = k;
	*kl = n;
	return 1;
}

int
hk_logev_revoked_at(const char *d, time_t *at, char when[21])
{
	const char *t = strstr(d, "; revoked at ");
	char buf[24];
	time_t v;

	if (t == NULL || strlen(t + 13) < 20)
		return 0;
	memcpy(buf, t + 13, 20);
	buf[20] = '\0';
	/* canonical: hk_time_parse (sscanf) also takes " 4" or "+4" for
	 * "04", which no writer writes */
	if (hk_time_parse(buf, &v) != 0)
		return 0;
	hk_time_format(v, when, 21);
	if (strcmp(when, buf) != 0)
		return 0;
	*at = v;
	return 1;
}

const char *
hk_logev_start_sha(const char *d)
{
	const char *t, *h = NULL, *q = d;

	if (strncmp(d, "batch ", 6) != 0)
		return NULL;
	while ((t = strstr(q, " sha256 ")) != NULL) {
		if (strspn(t + 8, "0123456789abcdef") >= 64 && (t[72] == ':' ||
		    strncmp(t + 72, " (--replace):", 13) == 0))
			h = t;
		q = t + 1;
	}
	return h;
}

long
hk_logev_start_gen(const char *sha)
{
	const char *g;
	uint64_t gen;

	if ((g = strstr(sha, ", issuing CA generation ")) == NULL)
		return -1;
	g += 24;
	/* digits to its end, as issue writes them (%d): no sign, blank or
	 * leading zero */
	if (hk_dec_parse(g, strlen(g), 18, &gen) != 0)
		return -1;
	return (long)gen;
}

struct issued_scan {
	char *base;
	size_t n, stride, ndone;
};

static int
issued_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hk_logev_issued *)a)->hex,
	    ((const struct hk_logev_issued *)b)->hex);
}

/* The element of hex (NULL: not asked). */
static struct hk_logev_issued *
issued_find(struct issued_scan *s, const char *hex, size_t n)
{
	struct hk_logev_issued key;

	if (n >= sizeof(key.hex))
		return NULL;
	memset(&key, 0, sizeof(key));
	memcpy(key.hex, hex, n);
	return bsearch(&key, s->base, s->n, s->stride, issued_cmp);
}

/* Each asked serial of batch (sha16) issued and not yet delivered: the
 * record rec is evidence (ok: delivered by it) or ends the run (end). */
static void
issued_mark(struct issued_scan *s, const char *batch,
    const struct hk_audit_record *rec, int ok, int end, const char *event)
{
	struct hk_logev_issued *p;
	size_t i;

	for (i = 0; i < s->n; i++) {
		p = (struct hk_logev_issued *)(s->base + i * s->stride);
		if (p->issued == 0 || memcmp(p->batch, batch, 16) != 0 ||
		    (p->done != 0 && (p->ended || !end)))
			continue;
		/* cert.reserve: only within the run that wrote cert.issue;
		 * that run's issue.done ok, when it comes, is said instead */
		if (ok && (end || !p->ended)) {
			s->ndone += p->done == 0;
			p->done = rec->seq;
			snprintf(p->event, sizeof(p->event), "%s", event);
		}
		if (end)
			p->ended = 1;
	}
}

static int
each_issued(const struct hk_audit_record *rec, void *arg)
{
	struct issued_scan *s = arg;
	struct hk_logev_issued *p;
	const char *e, *sl;
	char *d;
	size_t n;
	int ok = strcmp(rec->result, "ok") == 0;

	if (strcmp(rec->event, "issue.done") != 0 &&
	    strcmp(rec->event, "issue.start") != 0 &&
	    (!ok || (strcmp(rec->event, "cert.issue") != 0 &&
	    strcmp(rec->event, "cert.reserve") != 0)))
		return 0;
	if ((d = hk_logev_details(rec)) == NULL)
		return HK_ERR_ALLOC;
	if (strcmp(rec->event, "issue.done") == 0) {
		/* any result ends the run; ok delivers (in any later run of
		 * the batch: it recovered or wrote what was committed) */
		if ((e = hk_logev_done_batch(d)) != NULL)
			issued_mark(s, e, rec, ok, 1, rec->event);
		goto out;
	}
	if (strcmp(rec->event, "issue.start") == 0) {
		/* the run of the batch before it ended (a crash) */
		if ((e = hk_logev_start_sha(d)) != NULL)
			issued_mark(s, e + 8, rec, 0, 1, rec->event);
		goto out;
	}
	if (rec->dlen < 23 || memcmp(d, "batch ", 6) != 0 ||
	    strspn(d + 6, "0123456789abcdef") < 16 ||
	    (e = strstr(d, "): ")) == NULL)
		goto out;
	if (strcmp(rec->event, "cert.reserve") == 0) {
		/* a later chunk reserved: issue's loop went on past the
		 * commit of every chunk whose cert.issue came before */
		issued_mark(s, d + 6, rec, 1, 0, rec->event);
		goto out;
	}
	for (e += 3; *e != '\0'; e += n, e += *e == ' ') {
		n = strcspn(e, " ");
		if ((sl = memchr(e, '/', n)) == NULL || sl == e ||
		    (p = issued_find(s, e, (size_t)(sl - e))) == NULL ||
		    p->issued != 0)
			continue;
		memcpy(p->batch, d + 6, 16);
		p->issued = rec->seq;
	}
out:
	free(d);
	return 0;
}

int
hk_logev_issued(struct hk_logev_logs *L, void *base, size_t n, size_t stride,
    size_t *ndone)
{
	struct issued_scan s;
	int r;

	s.base = base;
	s.n = n;
	s.stride = stride;
	s.ndone = 0;
	r = hk_logev_scan(L, each_issued, &s);
	if (ndone != NULL)
		*ndone = s.ndone;
	return r;
}

/* ---- the live log and the closed logs behind it ---------------------- */

/* hk_audit_walk_closed's each(): newest first, kept as found. */
struct walked {
	struct hk_logev_log *log;
	size_t n;
	uint64_t *records;
};

static int
each_closed(const struct hk_audit_report *rn, const char *closed,
    const struct hk_audit_report *rp, void *arg)
{
	struct walked *wk = arg;
	struct hk_logev_log *l;
	uint64_t *rc;

	(void)rn;
	if ((l = reallocarray(wk->log, wk->n + 2, sizeof(*l))) == NULL)
		return HK_ERR_ALLOC;
	wk->log = l;
	if ((rc = reallocarray(wk->records, wk->n + 1, sizeof(*rc))) == NULL)
		return HK_ERR_ALLOC;
	wk->records = rc;
	memset(&l[wk->n], 0, sizeof(*l));
	if ((l[wk->n].path = strdup(closed)) == NULL)
		return HK_ERR_ALLOC;
	rc[wk->n] = rp->records;
	wk->n++;
	return 0;
}

void
hk_logev_logs_free(struct hk_logev_logs *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free(L->log[i].path);
	free(L->log);
	L->log = NULL;
	L->n = 0;
}

int
hk_logev_logs_open(struct hk_logev_logs *L, const char *live,
    const struct hk_audit_report *rep, EVP_PKEY *pub, const char *prog)
{
	struct walked wk;
	struct hk_logev_log t;
	uint64_t base = 0;
	size_t i;
	int r;

	memset(L, 0, sizeof(*L));
	memset(&wk, 0, sizeof(wk));
	r = hk_audit_walk_closed(live, rep, pub, each_closed, &wk, &L->gone);
	if (r == 0 && (wk.log == NULL && (wk.log = malloc(sizeof(*wk.log))) ==
	    NULL))
		r = HK_ERR_ALLOC;
	if (r == 0) {
		memset(&wk.log[wk.n], 0, sizeof(*wk.log));
		if ((wk.log[wk.n].path = strdup(live)) == NULL)
			r = HK_ERR_ALLOC;
	}
	L->log = wk.log;
	L->n = wk.n + (r == 0);
	if (r != 0) {
		free(wk.records);
		hk_logev_logs_free(L);
		return r;
	}
	/* oldest first: the walk went back from the live log */
	for (i = 0; i < wk.n / 2; i++) {
		t = L->log[i];
		L->log[i] = L->log[wk.n - 1 - i];
		L->log[wk.n - 1 - i] = t;
	}
	for (i = 0; i < wk.n; i++) {
		L->log[i].base = base;
		base += wk.records[wk.n - 1 - i];
	}
	L->log[wk.n].base = base;
	free(wk.records);
	if (prog != NULL && L->gone.log_id[0] != '\0')
		fprintf(stderr, "%s: note: %s: the closed log %s, which this "
		    "log links back to, is no longer in audit/closed/ (kept "
		    "until %s, CPS 4-11-4: deleted after its year): its "
		    "records are not read, those of the %zu log%s after it "
		    "are\n", prog, live, L->gone.log_id, L->gone.until, L->n,
		    L->n == 1 ? "" : "s");
	return 0;
}

struct placed {
	uint64_t base;
	int (*each)(const struct hk_audit_record *, void *);
	void *arg;
};

static int
each_placed(const struct hk_audit_record *rec, void *arg)
{
	const struct placed *p = arg;
	struct hk_audit_record r = *rec;

	r.seq = p->base + rec->seq;
	return p->each(&r, p->arg);
}

int
hk_logev_scan(struct hk_logev_logs *L,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg)
{
	struct placed p;
	size_t i;
	int r;

	L->failed = NULL;
	p.each = each;
	p.arg = arg;
	for (i = 0; i < L->n; i++) {
		p.base = L->log[i].base;
		if ((r = hk_audit_scan(L->log[i].path, each_placed, &p)) != 0) {
			L->failed = L->log[i].path;
			return r;
		}
	}
	return 0;
}

/* The log holding place at. */
static size_t
log_of(const struct hk_logev_logs *L, uint64_t at)
{
	size_t i = L->n;

	while (i > 1 && at < L->log[i - 1].base)
		i--;
	return i - 1;
}

const char *
hk_logev_closed_of(const struct hk_logev_logs *L, uint64_t at)
{
	size_t i;

	if (L->n == 0)
		return NULL;
	i = log_of(L, at);
	return i + 1 < L->n ? L->log[i].path : NULL;
}

uint64_t
hk_logev_seq_in(const struct hk_logev_logs *L, uint64_t at)
{
	return L->n == 0 ? at : at - L->log[log_of(L, at)].base;
}

/* Up to 8 strings of one message (a ring: each valid until 8 more). */
static char *
ring(void)
{
	static char buf[8][HK_LOGEV_AT_MAX];
	static unsigned k;

	return buf[k++ % 8];
}

const char *
hk_logev_at(const struct hk_logev_logs *L, uint64_t at)
{
	const char *c = hk_logev_closed_of(L, at);
	char *b = ring();

	if (c == NULL)
		snprintf(b, HK_LOGEV_AT_MAX, "%" PRIu64, hk_logev_seq_in(L, at));
	else
		snprintf(b, HK_LOGEV_AT_MAX, "%" PRIu64 " of the closed log %s",
		    hk_logev_seq_in(L, at), c);
	return b;
}

const char *
hk_logev_name(const struct hk_logev_logs *L, uint64_t at)
{
	const char *c = hk_logev_closed_of(L, at);
	char *b;

	if (c == NULL)
		return "live log";
	b = ring();
	snprintf(b, HK_LOGEV_AT_MAX, "closed log %s", c);
	return b;
}
