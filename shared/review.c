/*
 * review.c - the internal auditor's weekly review (CPS 4-11-1, 4-11-3,
 * 4-11-7; docs/audit-log.md "Weekly review"). One pass over the log
 * (hk_audit_verify_each: the chain, the head file and every checkpoint
 * signature checked as audit verify checks them, each record handed over
 * as it is read), the findings kept in counts and capped lists, the text
 * built in memory and printed only when the log verified, its SHA-256
 * last.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "basic4.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "review.h"

#define JST		(9 * 3600)
#define DETAILS_SHOWN	240	/* bytes of details shown in a listed line */
#define RUNS_SHOWN	8	/* runs of a period not contiguous named */
#define TABLE_SIZE	4096	/* distinct keys counted (a power of 2) */

/* The events the auditor always reads, whatever the week (their ok
 * records; a record not ok is in the list of those): docs/audit-log.md
 * "Weekly review" names why each is there. */
static const char *const always[] = {
	/* the clock: a set-back accepted */
	"clock.accept",
	/* the people: the roster, the quorum and its shares */
	"roster.approve", "roster.change", "roster.credential",
	"roster.replace", "quorum.rotate", "quorum.rotate.request",
	"quorum.rotate.start", "quorum.stand-in", "share.issue",
	/* what the CA signs with and for */
	"profile.accept", "profile.adopt", "key.generate", "token.init",
	"init.start", "root.trust",
	/* compromise (offline's ceremony, the publisher's declaration) and
	 * the revocations of a whole generation */
	"root.compromise", "root.distrust", "cert.revoke-all",
	/* restores and recovery */
	"restore.start", "restore.done", "key.restore", "recover.start",
	"recover.done", "bundle.recover",
	/* destruction, the yearly close, the log itself */
	"key.destroy", "key.destroy.request", "key.destroy.start",
	"key.destroy.done", "audit.close", "audit.link",
	/* what happened outside the programs (audit note) */
	"room.enter", "room.leave", "media.in", "media.out", "note",
	/* records the key holder could not keep */
	"serve.suppressed",
};

struct ent {
	char *key;
	uint64_t n;
};

struct table {
	struct ent e[TABLE_SIZE];
	size_t used;
	uint64_t other;		/* counted when the table is full */
};

/* A list of lines, capped: the first HK_REVIEW_LINES_MAX kept. */
struct list {
	FILE *f;
	char *buf;
	size_t len;
	uint64_t n;		/* lines, kept or not */
	uint64_t more_first, more_last;	/* seqs of those not kept */
};

/* a backup.create ok in the period */
struct bk {
	time_t t;
	uint64_t seq;
	int closed;		/* in the closed log before the live one */
};

struct rv {
	const struct hk_review_opts *o;
	char since[21];		/* the period's start, when by time */
	char until[21];		/* its end */
	time_t start_t, end_t;
	/* the log's first record (record 0), when it began within the
	 * period and no closed log before it is read: the cadence from
	 * there (the days before init are in no log); 0 otherwise */
	time_t log_t;
	uint64_t n, first_seq, last_seq;
	char first_time[21], last_time[21];
	/* the period's records in log order: runs of consecutive seqs
	 * (more than one when records between are dated outside it: a
	 * clock set back or corrected), the first RUNS_SHOWN kept */
	uint64_t nruns, run_first[RUNS_SHOWN], run_last[RUNS_SHOWN];
	/* the first record after the period's last one so far that is
	 * dated outside it, when gap */
	int gap;
	uint64_t gap_seq;
	char gap_time[21], gap_event[72];
	uint64_t ck_n, ck_first, ck_last;
	int covered;		/* a checkpoint after the period's last */
	uint64_t cover_seq;
	char cover_time[21];
	char prev_time[21];	/* the record before, any */
	struct table *events, *actors;
	struct list notok, attn, gaps, hours;
	struct list cer;	/* offline: each ceremony's transcript */
	/* offline: the last ceremony.start of the period with no
	 * ceremony.done after it yet (a run killed leaves it so) */
	int cer_open;
	uint64_t cer_seq;
	char cer_time[21], cer_what[4 * 96 + 1];
	/* publication: the JST days with a publish.done ok */
	long *days;
	size_t ndays, capdays;
	/* online backup: the last backup.create ok before the period, and
	 * those in it (of the closed log before a linked log too) */
	int have_backup;
	time_t backup_t;
	uint64_t backup_seq;
	int backup_closed;	/* that one is the closed log's */
	struct bk *bk;
	size_t nbk, capbk;
	int closed_pass;	/* reading the closed log before the live one */
	time_t cad_end_t;	/* the cadence's end: the period's, or the close */
	/* offline: the first record of work no log.backup followed yet */
	int unbacked;
	time_t unbacked_t;
	uint64_t unbacked_seq;
	int unbacked_before;	/* that record is before the period */
	time_t prev_end;	/* where the previous review ended: --since - 1
				 * s, or the time of record --from-seq - 1 */
	int err;
};

/* ---- options ------------------------------------------------------- */

int
hk_review_opt(struct hk_review_opts *o, int argc, char **argv, int *i,
    int *r)
{
	static const char *const names[] = { "--since", "--from-seq",
	    "--until", "--hours", "--routine-actors" };
	const char **slot[] = { &o->since, &o->from_seq, &o->until,
	    &o->hours, &o->routine };
	size_t k;

	*r = 0;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (strcmp(argv[*i], names[k]) != 0)
			continue;
		if (*i + 1 >= argc) {
			hk_err_set("%s: needs a value", names[k]);
			*r = HK_ERR_USAGE;
			return 1;
		}
		if (*slot[k] != NULL) {
			*r = hk_err_twice(names[k], *slot[k], argv[*i + 1]);
			return 1;
		}
		*slot[k] = argv[++*i];
		return 1;
	}
	return 0;
}

static int
hhmm(const char *s, int *min)
{
	if (!(s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' &&
	    s[4] <= '9'))
		return -1;
	*min = ((s[0] - '0') * 10 + s[1] - '0') * 60 + (s[3] - '0') * 10 +
	    s[4] - '0';
	return *min <= 24 * 60 && (*min < 24 * 60 || s[3] == '0') ? 0 : -1;
}

int
hk_review_check(struct hk_review_opts *o)
{
	o->has_since = o->has_until = o->has_from = 0;
	if (o->since != NULL && o->from_seq != NULL) {
		hk_err_set("--since %s, --from-seq %s: give one of them, not "
		    "both", o->since, o->from_seq);
		return HK_ERR_USAGE;
	}
	if (o->since != NULL) {
		if (hk_time_parse(o->since, &o->since_t) != 0) {
			hk_err_set("--since %s: must be a time "
			    "YYYY-MM-DDTHH:MM:SSZ (UTC)", o->since);
			return HK_ERR_USAGE;
		}
		o->has_since = 1;
	}
	if (o->until != NULL) {
		if (hk_time_parse(o->until, &o->until_t) != 0) {
			hk_err_set("--until %s: must be a time "
			    "YYYY-MM-DDTHH:MM:SSZ (UTC)", o->until);
			return HK_ERR_USAGE;
		}
		o->has_until = 1;
	}
	if (o->has_since && o->has_until && o->until_t < o->since_t) {
		hk_err_set("--until %s: before --since %s", o->until,
		    o->since);
		return HK_ERR_USAGE;
	}
	if (o->from_seq != NULL) {
		const char *p = o->from_seq;
		char *end;

		errno = 0;
		o->from = strtoull(p, &end, 10);
		if (*p < '0' || *p > '9' || *end != '\0' || errno != 0 ||
		    (p[0] == '0' && p[1] != '\0') || strlen(p) > 18) {
			hk_err_set("--from-seq %s: must be a record number "
			    "(decimal, 0 to 18 digits)", o->from_seq);
			return HK_ERR_USAGE;
		}
		o->has_from = 1;
	}
	if (o->hours != NULL && (strlen(o->hours) != 11 ||
	    o->hours[5] != '-' || hhmm(o->hours, &o->h_from) != 0 ||
	    hhmm(o->hours + 6, &o->h_to) != 0 || o->h_from == o->h_to)) {
		hk_err_set("--hours %s: must be HH:MM-HH:MM (JST, two "
		    "different times of day, e.g. 08:00-19:00)", o->hours);
		return HK_ERR_USAGE;
	}
	if (o->routine != NULL && (!hk_audit_actors_ok(o->routine) ||
	    strcmp(o->routine, "-") == 0)) {
		hk_err_set("--routine-actors %s: must be ids [A-Za-z0-9]"
		    "[A-Za-z0-9._@-]* joined by ','", o->routine);
		return HK_ERR_USAGE;
	}
	if (o->routine != NULL && o->hours == NULL) {
		hk_err_set("--routine-actors %s: only with --hours",
		    o->routine);
		return HK_ERR_USAGE;
	}
	return 0;
}

/* ---- helpers ------------------------------------------------------- */

/* A record's time (already checked by the verifier): seconds since the
 * epoch, without libc (one per record of a year's log). */
static time_t
rtime(const char *s)
{
	int y, m, d, H, M, S;
	long era, yoe, doy, doe;

#define D2(p) (((p)[0] - '0') * 10 + (p)[1] - '0')
	y = D2(s) * 100 + D2(s + 2);
	m = D2(s + 5);
	d = D2(s + 8);
	H = D2(s + 11);
	M = D2(s + 14);
	S = D2(s + 17);
#undef D2
	/* days from civil (H. Hinnant) */
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (time_t)((era * 146097 + doe - 719468) * 86400L +
	    H * 3600L + M * 60L + S);
}

static long
jst_day(time_t t)
{
	return (long)((t + JST) / 86400);
}

static void
jst_date(long day, char *buf, size_t len)
{
	char t[21];

	hk_time_format((time_t)day * 86400, t, sizeof(t));
	snprintf(buf, len, "%.10s", t);
}

static uint32_t
fnv(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int
count(struct table *t, const char *key)
{
	size_t i = fnv(key) & (TABLE_SIZE - 1);

	for (;;) {
		if (t->e[i].key == NULL) {
			if (t->used >= TABLE_SIZE / 2) {
				t->other++;
				return 0;
			}
			if ((t->e[i].key = strdup(key)) == NULL)
				return HK_ERR_ALLOC;
			t->used++;
			t->e[i].n = 1;
			return 0;
		}
		if (strcmp(t->e[i].key, key) == 0) {
			t->e[i].n++;
			return 0;
		}
		i = (i + 1) & (TABLE_SIZE - 1);
	}
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static void
table_print(struct table *t, FILE *out)
{
	struct ent *v;
	size_t i, n = 0;

	if ((v = calloc(t->used + 1, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < TABLE_SIZE; i++)
		if (t->e[i].key != NULL)
			v[n++] = t->e[i];
	qsort(v, n, sizeof(*v), ent_cmp);
	for (i = 0; i < n; i++)
		fprintf(out, "  %s: %llu\n", v[i].key,
		    (unsigned long long)v[i].n);
	if (t->other)
		fprintf(out, "  (others, more kinds than counted apart): "
		    "%llu\n", (unsigned long long)t->other);
	free(v);
}

static void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < TABLE_SIZE; i++)
		free(t->e[i].key);
	free(t);
}

/* A line of a list when there is room, else counted. */
static FILE *
list_line(struct list *l, uint64_t seq)
{
	if (l->n++ < HK_REVIEW_LINES_MAX)
		return l->f;
	if (l->n == HK_REVIEW_LINES_MAX + 1)
		l->more_first = seq;
	l->more_last = seq;
	return NULL;
}

static void
list_end(struct list *l, FILE *out)
{
	fflush(l->f);
	fwrite(l->buf, 1, l->len, out);
	if (l->n > HK_REVIEW_LINES_MAX)
		fprintf(out, "  ... and %llu more, records %llu to %llu\n",
		    (unsigned long long)(l->n - HK_REVIEW_LINES_MAX),
		    (unsigned long long)l->more_first,
		    (unsigned long long)l->more_last);
}

/* The bytes of details shown: all, or at most DETAILS_SHOWN ending at a
 * character (a UTF-8 character across the cut is left out whole, not
 * shown as \xHH of its first bytes; bytes that are not UTF-8 are shown
 * one by one, escaped, so any of them may end the cut). */
static size_t
details_cut(const unsigned char *d, size_t len)
{
	size_t i = 0, n;
	unsigned cp;

	if (len <= DETAILS_SHOWN)
		return len;
	while (i < DETAILS_SHOWN) {
		n = d[i] < 0x80 ? 1 : hk_utf8_char((const char *)d + i,
		    len - i, &cp);
		if (n == 0)
			n = 1;
		if (i + n > DETAILS_SHOWN)
			break;
		i += n;
	}
	return i;
}

/* seq time event result actors details (escaped, cut) */
static void
record_line(struct list *l, const struct hk_audit_record *rec)
{
	char esc[4 * DETAILS_SHOWN + 1];
	size_t n = details_cut(rec->details, rec->dlen);
	FILE *f;

	if ((f = list_line(l, rec->seq)) == NULL)
		return;
	hk_audit_escape(rec->details, n, esc);
	fprintf(f, "  %llu %s %s %s %s %s%s\n", (unsigned long long)rec->seq,
	    rec->time, rec->event, rec->result, rec->actors, esc,
	    n < rec->dlen ? " [cut]" : "");
}

/* seq time details, the details whole (a ceremony.transcript record: the
 * script, the transcript's path and SHA-256, who signed it) */
static int
record_line_whole(struct list *l, const struct hk_audit_record *rec)
{
	char *esc;
	FILE *f;

	if ((f = list_line(l, rec->seq)) == NULL)
		return 0;
	if ((esc = malloc(4 * rec->dlen + 1)) == NULL)
		return HK_ERR_ALLOC;
	hk_audit_escape(rec->details, rec->dlen, esc);
	fprintf(f, "  %llu %s %s\n", (unsigned long long)rec->seq, rec->time,
	    esc);
	free(esc);
	return 0;
}

static int
always_read(const char *event)
{
	size_t i;

	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (strcmp(event, always[i]) == 0)
			return 1;
	return 0;
}

/* 1 when every id of actors is in list (both ids joined by ','). */
static int
all_routine(const char *actors, const char *list)
{
	const char *a = actors, *e, *p, *q;
	size_t n;

	if (list == NULL)
		return 0;
	while (*a) {
		e = strchr(a, ',');
		n = e != NULL ? (size_t)(e - a) : strlen(a);
		for (p = list;; p = q + 1) {
			q = strchr(p, ',');
			if ((q != NULL ? (size_t)(q - p) : strlen(p)) == n &&
			    strncmp(p, a, n) == 0)
				break;
			if (q == NULL)
				return 0;
		}
		a += n + (e != NULL);
	}
	return 1;
}

static int
days_add(struct rv *v, long day)
{
	long *nd;

	if (v->ndays > 0 && v->days[v->ndays - 1] == day)
		return 0;
	if (v->ndays == v->capdays) {
		v->capdays = v->capdays ? 2 * v->capdays : 64;
		if ((nd = realloc(v->days, v->capdays * sizeof(*nd))) == NULL)
			return HK_ERR_ALLOC;
		v->days = nd;
	}
	v->days[v->ndays++] = day;
	return 0;
}

static int
long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void
gap_line(struct rv *v, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
gap_line(struct rv *v, uint64_t seq, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	if ((f = list_line(&v->gaps, seq)) == NULL)
		return;
	fputs("  ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* The start of the period's cadence: its start, or the log's first
 * record when the log began after it. */
static time_t
cadence_start(const struct rv *v)
{
	return v->log_t > v->start_t ? v->log_t : v->start_t;
}

/* online: backup.create ok records more than 26 h apart (CPS 4-11-6),
 * from the last one before the period when there is one */
static void
backup_gap(struct rv *v, time_t from, const char *since, time_t t,
    uint64_t seq, const char *what)
{
	char a[21], b[21];

	if (t - from <= HK_REVIEW_BACKUP_MAX)
		return;
	hk_time_format(from, a, sizeof(a));
	hk_time_format(t, b, sizeof(b));
	gap_line(v, seq, "backup: none from %s (%s) to %s (%s): %ld h, over "
	    "%d h (CPS 4-11-6: daily)", a, since, b, what,
	    (long)((t - from) / 3600), HK_REVIEW_BACKUP_MAX / 3600);
}

static int
bk_add(struct rv *v, time_t t, uint64_t seq)
{
	struct bk *nb;

	if (v->nbk == v->capbk) {
		v->capbk = v->capbk ? 2 * v->capbk : 64;
		if ((nb = realloc(v->bk, v->capbk * sizeof(*nb))) == NULL)
			return HK_ERR_ALLOC;
		v->bk = nb;
	}
	v->bk[v->nbk].t = t;
	v->bk[v->nbk].seq = seq;
	v->bk[v->nbk++].closed = v->closed_pass;
	return 0;
}

static int
bk_cmp(const void *a, const void *b)
{
	const struct bk *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* ---- the pass -------------------------------------------------------- */

/* offline: the first record of work no log.backup ok followed yet is more
 * than 26 h old at t; one from before the period only when its 26 h ran
 * out after the previous review's end (that review did not list it) */
static int
unbacked_late(const struct rv *v, time_t t)
{
	return v->unbacked && t - v->unbacked_t > HK_REVIEW_BACKUP_MAX &&
	    (!v->unbacked_before || v->unbacked_t + HK_REVIEW_BACKUP_MAX >=
	    v->prev_end);
}

/* offline: a record of work starts the wait for a log.backup ok, a
 * log.backup ok ends it */
static void
unbacked_track(struct rv *v, const struct hk_audit_record *rec, time_t t,
    int before)
{
	if (strcmp(rec->event, "log.backup") == 0) {
		if (strcmp(rec->result, "ok") == 0)
			v->unbacked = 0;
	} else if (!v->unbacked && strcmp(rec->event, "log.verify") &&
	    strcmp(rec->event, HK_AUDIT_EV_CREATE) &&
	    strcmp(rec->event, HK_AUDIT_EV_CHECKPOINT)) {
		v->unbacked = 1;
		v->unbacked_t = t;
		v->unbacked_seq = rec->seq;
		v->unbacked_before = before;
	}
}

/* offline: a ceremony.start of the period that no ceremony.done follows
 * before the next ceremony.start (or the log's end: then) is a run that
 * was killed (SIGKILL, a power cut) or is still going: what it made
 * before it died was not undone (docs/ceremonies.md "Killed runs"). Ctrl-C and the like end a run with ceremony.done fail. */
static void
cer_unfinished(struct rv *v, const char *then)
{
	FILE *f;

	if (!v->cer_open)
		return;
	v->cer_open = 0;
	if ((f = list_line(&v->attn, v->cer_seq)) != NULL)
		fprintf(f, "  %llu %s ceremony.start %s: no ceremony.done "
		    "follows it %s: the run was killed or the machine lost "
		    "power, and what it made was not undone "
		    "(docs/ceremonies.md \"Killed runs\": the next ceremony run "
		    "removes it)\n",
		    (unsigned long long)v->cer_seq, v->cer_time, v->cer_what,
		    then);
}

static void
cer_track(struct rv *v, const struct hk_audit_record *rec, int in_period)
{
	size_t n;

	if (v->o->online)
		return;
	if (strcmp(rec->event, "ceremony.done") == 0) {
		v->cer_open = 0;
		return;
	}
	if (strcmp(rec->event, "ceremony.start") != 0)
		return;
	cer_unfinished(v, "before the next ceremony.start");
	if (!in_period)
		return;
	v->cer_open = 1;
	v->cer_seq = rec->seq;
	snprintf(v->cer_time, sizeof(v->cer_time), "%s", rec->time);
	n = rec->dlen < 96 ? rec->dlen : 96;
	while (n > 0 && n < rec->dlen &&
	    ((unsigned char)rec->details[n] & 0xc0) == 0x80)
		n--;		/* not inside a UTF-8 character */
	hk_audit_escape(rec->details, n, v->cer_what);
}

static int
each(const struct hk_audit_record *rec, void *arg)
{
	struct rv *v = arg;
	const struct hk_review_opts *o = v->o;
	int ok = strcmp(rec->result, "ok") == 0;
	int before, after, r;
	char key[64 + 32 + 2], id[65];
	const char *a, *e;
	time_t t;

	if (v->closed_pass) {
		/* the closed log before a linked log: only its part of the
		 * cadence (its records are reviewed with --log on it) */
		if (!ok)
			return 0;
		t = rtime(rec->time);
		if (strcmp(rec->event, "backup.create") == 0) {
			if (strcmp(rec->time, v->since) < 0) {
				if (!v->have_backup || t >= v->backup_t) {
					v->have_backup = 1;
					v->backup_t = t;
					v->backup_seq = rec->seq;
					v->backup_closed = 1;
				}
			} else if (strcmp(rec->time, v->until) <= 0)
				return bk_add(v, t, rec->seq);
		} else if (strcmp(rec->event, "publish.done") == 0 &&
		    strcmp(rec->time, v->until) <= 0)
			return days_add(v, jst_day(t));
		return 0;
	}
	if (rec->seq == 0)
		v->log_t = rtime(rec->time);
	before = o->has_from ? rec->seq < o->from :
	    strcmp(rec->time, v->since) < 0;
	after = strcmp(rec->time, v->until) > 0;
	cer_track(v, rec, !before && !after);
	if (before || after) {
		/* a checkpoint after the period's last record signs it, also
		 * one dated before the period (a clock set back since) */
		if (v->n > 0 && !v->covered && strcmp(rec->event,
		    HK_AUDIT_EV_CHECKPOINT) == 0) {
			v->covered = 1;
			v->cover_seq = rec->seq;
			snprintf(v->cover_time, sizeof(v->cover_time), "%s",
			    rec->time);
		}
		/* the cadence before the period: where its gaps begin; the
		 * publications of the day it begins in */
		if (before && ok && o->online &&
		    strcmp(rec->event, "publish.done") == 0 &&
		    (r = days_add(v, jst_day(rtime(rec->time)))) != 0)
			return r;
		if (before && ok && o->online &&
		    strcmp(rec->event, "backup.create") == 0) {
			v->have_backup = 1;
			v->backup_t = rtime(rec->time);
			v->backup_seq = rec->seq;
		}
		/* offline: work before the period not backed up yet */
		if (before && !o->online) {
			t = rtime(rec->time);
			unbacked_track(v, rec, t, 1);
			if (o->has_from)
				v->prev_end = t;
		}
		/* records between the period's, dated outside it */
		if (v->n > 0 && !v->gap) {
			v->gap = 1;
			v->gap_seq = rec->seq;
			snprintf(v->gap_time, sizeof(v->gap_time), "%s",
			    rec->time);
			snprintf(v->gap_event, sizeof(v->gap_event), "%s",
			    rec->event);
		}
		snprintf(v->prev_time, sizeof(v->prev_time), "%s", rec->time);
		return 0;
	}
	t = rtime(rec->time);
	if (v->n++ == 0) {
		v->first_seq = rec->seq;
		snprintf(v->first_time, sizeof(v->first_time), "%s",
		    rec->time);
		if (o->has_from)
			v->start_t = t < v->end_t ? t : v->end_t;
	}
	if (v->n == 1 || v->gap) {
		/* a run of the period's records begins */
		if (v->nruns < RUNS_SHOWN)
			v->run_first[v->nruns] = rec->seq;
		v->nruns++;
	}
	if (v->nruns <= RUNS_SHOWN)
		v->run_last[v->nruns - 1] = rec->seq;
	if (v->gap) {
		/* not in this review, nor in the review of the period they
		 * are dated in when that one was made before them */
		FILE *f = list_line(&v->attn, v->gap_seq);

		if (f != NULL)
			fprintf(f, "  %llu %s %s: records %llu to %llu, between "
			    "the period's records %llu and %llu, are dated "
			    "outside the period: the clock was set back or "
			    "corrected (docs/clock.md); they are not in this "
			    "review\n", (unsigned long long)v->gap_seq,
			    v->gap_time, v->gap_event,
			    (unsigned long long)v->gap_seq,
			    (unsigned long long)rec->seq - 1,
			    (unsigned long long)v->last_seq,
			    (unsigned long long)rec->seq);
		v->gap = 0;
	}
	v->last_seq = rec->seq;
	snprintf(v->last_time, sizeof(v->last_time), "%s", rec->time);
	if (strcmp(rec->event, HK_AUDIT_EV_CHECKPOINT) == 0) {
		if (v->ck_n++ == 0)
			v->ck_first = rec->seq;
		v->ck_last = rec->seq;
		v->covered = 1;
		v->cover_seq = rec->seq;
		snprintf(v->cover_time, sizeof(v->cover_time), "%s",
		    rec->time);
	} else
		v->covered = 0;
	snprintf(key, sizeof(key), "%s %s", rec->event, rec->result);
	if ((r = count(v->events, key)) != 0)
		return r;
	for (a = rec->actors; *a; a = *e ? e + 1 : e) {
		e = a + strcspn(a, ",");
		snprintf(id, sizeof(id), "%.*s", (int)(e - a), a);
		if ((r = count(v->actors, id)) != 0)
			return r;
	}
	if (!ok)
		record_line(&v->notok, rec);
	else if (always_read(rec->event))
		record_line(&v->attn, rec);
	if (!o->online && strcmp(rec->event, "ceremony.transcript") == 0 &&
	    (r = record_line_whole(&v->cer, rec)) != 0)
		return r;
	if (v->prev_time[0] && strcmp(rec->time, v->prev_time) < 0) {
		FILE *f = list_line(&v->attn, rec->seq);

		if (f != NULL)
			fprintf(f, "  %llu %s %s: older than the record before "
			    "it (%s): the clock was set back or corrected "
			    "(docs/clock.md)\n", (unsigned long long)rec->seq,
			    rec->time, rec->event, v->prev_time);
	}
	snprintf(v->prev_time, sizeof(v->prev_time), "%s", rec->time);
	if (o->hours != NULL && strcmp(rec->actors, "-") != 0 &&
	    !all_routine(rec->actors, o->routine)) {
		int m = (int)(((t + JST) % 86400) / 60);
		int in = o->h_from < o->h_to ? m >= o->h_from && m < o->h_to :
		    m >= o->h_from || m < o->h_to;

		if (!in)
			record_line(&v->hours, rec);
	}
	if (o->online && ok && strcmp(rec->event, "publish.done") == 0 &&
	    (r = days_add(v, jst_day(t))) != 0)
		return r;
	if (o->online && ok && strcmp(rec->event, "backup.create") == 0 &&
	    (r = bk_add(v, t, rec->seq)) != 0)
		return r;
	if (!o->online) {
		if (ok && strcmp(rec->event, "log.backup") == 0 &&
		    unbacked_late(v, t)) {
			char ut[21];

			hk_time_format(v->unbacked_t, ut, sizeof(ut));
			gap_line(v, rec->seq, "backup: record %llu (%s) and "
			    "those after it first backed up by record %llu "
			    "(%s, log.backup ok), %ld h later, over %d h (CPS "
			    "4-11-6: daily)", (unsigned long long)v->unbacked_seq,
			    ut, (unsigned long long)rec->seq, rec->time,
			    (long)((t - v->unbacked_t) / 3600),
			    HK_REVIEW_BACKUP_MAX / 3600);
		}
		unbacked_track(v, rec, t, 0);
	}
	return 0;
}

/* The time of the log's last line (not checked: verification follows
 * and refuses a log whose lines are not records). */
static int
last_time(const char *log, char out[21])
{
	static char buf[HK_AUDIT_LINE_MAX + 1];
	struct stat st;
	ssize_t n;
	off_t off;
	char *p, *q;
	int fd;

	out[0] = '\0';
	if ((fd = open(log, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size < 2) {
		close(fd);
		return -1;
	}
	off = st.st_size > HK_AUDIT_LINE_MAX ? st.st_size - HK_AUDIT_LINE_MAX :
	    0;
	n = pread(fd, buf, (size_t)(st.st_size - off), off);
	close(fd);
	if (n < 2 || buf[n - 1] != '\n')
		return -1;
	buf[n - 1] = '\0';
	p = (p = strrchr(buf, '\n')) != NULL ? p + 1 : buf;
	if ((q = strchr(p, '\t')) == NULL || strlen(q + 1) < 21 ||
	    q[21] != '\t')
		return -1;
	memcpy(out, q + 1, 20);
	out[20] = '\0';
	return 0;
}

static int
list_open(struct list *l)
{
	memset(l, 0, sizeof(*l));
	return (l->f = open_memstream(&l->buf, &l->len)) != NULL ? 0 :
	    HK_ERR_ALLOC;
}

static void
list_free(struct list *l)
{
	if (l->f != NULL)
		fclose(l->f);
	free(l->buf);
}

/* The period, the checkpoints over it and the unsigned tail. */
static void
print_period(const struct rv *v, const struct hk_audit_report *rep,
    FILE *f)
{
	const struct hk_review_opts *o = v->o;

	if (o->has_from)
		fprintf(f, "Period: from record %llu to %s (JST, UTC+9, for "
		    "days and hours)\n", (unsigned long long)o->from,
		    v->until);
	else
		fprintf(f, "Period: %s to %s (JST, UTC+9, for days and "
		    "hours)\n", v->since, v->until);
	/* the seqs are this log's: a log begun by a yearly close numbers
	 * its records from 0 again */
	fprintf(f, "  log %s: the record numbers below are this log's\n",
	    rep->log_id);
	if (v->n == 0) {
		fprintf(f, "  no records in the period\n");
		return;
	}
	if (v->nruns <= 1)
		fprintf(f, "  records %llu to %llu: %llu records, %s to %s\n",
		    (unsigned long long)v->first_seq,
		    (unsigned long long)v->last_seq,
		    (unsigned long long)v->n, v->first_time, v->last_time);
	else {
		/* A to B spans records dated outside the period: each run
		 * named, and how many are not the period's */
		uint64_t i;

		fprintf(f, "  records %llu to %llu in log order, not "
		    "contiguous: %llu records in %llu runs (",
		    (unsigned long long)v->first_seq,
		    (unsigned long long)v->last_seq,
		    (unsigned long long)v->n, (unsigned long long)v->nruns);
		for (i = 0; i < v->nruns && i < RUNS_SHOWN; i++)
			fprintf(f, "%s%llu to %llu", i ? ", " : "",
			    (unsigned long long)v->run_first[i],
			    (unsigned long long)v->run_last[i]);
		if (v->nruns > RUNS_SHOWN)
			fprintf(f, ", and %llu more",
			    (unsigned long long)(v->nruns - RUNS_SHOWN));
		fprintf(f, "), %s to %s; the %llu records between them are "
		    "dated outside the period (the clock was set back or "
		    "corrected: docs/clock.md) and are not in this review\n",
		    v->first_time, v->last_time,
		    (unsigned long long)(v->last_seq - v->first_seq + 1 -
		    v->n));
	}
	if (v->ck_n > 0)
		fprintf(f, "  checkpoints in the period: %llu (records %llu "
		    "to %llu)\n", (unsigned long long)v->ck_n,
		    (unsigned long long)v->ck_first,
		    (unsigned long long)v->ck_last);
	else
		fprintf(f, "  checkpoints in the period: none\n");
	if (v->covered)
		fprintf(f, "  the period's last record %llu is signed by the "
		    "checkpoint record %llu (%s)\n",
		    (unsigned long long)v->last_seq,
		    (unsigned long long)v->cover_seq, v->cover_time);
	else if (rep->last_checkpoint_seq >= 0)
		fprintf(f, "  the period's last record %llu is not signed "
		    "yet: it is in the unsigned tail (%llu records after "
		    "the last checkpoint, record %lld)\n",
		    (unsigned long long)v->last_seq,
		    (unsigned long long)rep->unsigned_records,
		    (long long)rep->last_checkpoint_seq);
	else
		fprintf(f, "  the period's last record %llu is not signed "
		    "yet: it is in the unsigned tail (%llu records, no "
		    "checkpoint yet)\n", (unsigned long long)v->last_seq,
		    (unsigned long long)rep->unsigned_records);
}

/* CPS 4-4-9: every JST day that ends within the period has a publication
 * (looked for over the whole day, also before the period's start: so
 * consecutive periods, aligned to JST midnight or not, check each day once);
 * CPS 4-11-6: no 26 h without a backup up to the period's end. Both up to
 * the log's close instead when it was closed within the period (the rest
 * is the next log's, whose review reads the closed log's part too). */
static void
cadence_end(struct rv *v)
{
	long d, first, last;
	char date[11], since[96];
	size_t lo, hi, mid, i;
	time_t from;

	if (v->cad_end_t < cadence_start(v))
		return;		/* the log has no time in the period */
	if (v->o->online) {
		if (v->ndays > 0)
			qsort(v->days, v->ndays, sizeof(*v->days), long_cmp);
		/* the day the period begins in (it ends in this period), or
		 * the first whole day of a log begun within it */
		first = v->log_t > v->start_t ? jst_day(v->log_t + 86399) :
		    jst_day(v->start_t);
		last = jst_day(v->cad_end_t + 1) - 1;
		for (d = first; d <= last; d++) {
			for (lo = 0, hi = v->ndays; lo < hi;) {
				mid = (lo + hi) / 2;
				if (v->days[mid] < d)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < v->ndays && v->days[lo] == d)
				continue;
			jst_date(d, date, sizeof(date));
			gap_line(v, v->last_seq, "publication: none on %s "
			    "(JST): no publish.done ok record that day (CPS "
			    "4-4-9: CRLs every 24 hours)", date);
		}
		if (v->nbk > 0)
			qsort(v->bk, v->nbk, sizeof(*v->bk), bk_cmp);
		from = v->have_backup ? v->backup_t : cadence_start(v);
		if (v->have_backup)
			snprintf(since, sizeof(since), "backup.create ok record "
			    "%llu%s", (unsigned long long)v->backup_seq,
			    v->backup_closed ? " of the closed log" : "");
		else
			snprintf(since, sizeof(since), "%s", v->log_t >
			    v->start_t ? "the log's first record" :
			    "the period's start");
		for (i = 0; i < v->nbk; i++) {
			backup_gap(v, from, since, v->bk[i].t, v->bk[i].seq,
			    v->bk[i].closed ? "backup.create ok of the closed "
			    "log" : "backup.create ok");
			from = v->bk[i].t;
			snprintf(since, sizeof(since), "backup.create ok record "
			    "%llu%s", (unsigned long long)v->bk[i].seq,
			    v->bk[i].closed ? " of the closed log" : "");
		}
		backup_gap(v, from, since, v->cad_end_t, v->last_seq,
		    v->cad_end_t < v->end_t ? "the log's close" :
		    "the period's end");
	} else if (unbacked_late(v, v->cad_end_t)) {
		char a[21];

		hk_time_format(v->unbacked_t, a, sizeof(a));
		gap_line(v, v->unbacked_seq, "backup: record %llu (%s) and "
		    "those after it have no log.backup ok after them by the "
		    "%s, %ld h later, over %d h (CPS 4-11-6: daily)",
		    (unsigned long long)v->unbacked_seq, a,
		    v->cad_end_t < v->end_t ? "log's close" : "period's end",
		    (long)((v->cad_end_t - v->unbacked_t) / 3600),
		    HK_REVIEW_BACKUP_MAX / 3600);
	}
}

int
hk_review_run(const char *log, EVP_PKEY *pub, const char *prev,
    const struct hk_review_opts *o, time_t now, FILE *out)
{
	struct hk_audit_report rep;
	struct rv v;
	char *text = NULL, lt[21], closed[4096] = "";
	size_t tlen = 0;
	unsigned char md[32];
	char hex[65];
	uint64_t findings;
	FILE *f = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	v.o = o;
	if (o->has_until)
		v.end_t = o->until_t;
	else if (now != (time_t)-1)
		v.end_t = now;
	else if (last_time(log, lt) == 0 && hk_time_parse(lt, &v.end_t) == 0)
		;
	else {
		/* not a log's last line: verification names why */
		if ((r = hk_audit_verify(log, pub, &rep)) != 0)
			return r;
		hk_err_set("%s: the last record's time cannot be read; give "
		    "--until", log);
		return HK_ERR_AUDIT;
	}
	hk_time_format(v.end_t, v.until, sizeof(v.until));
	v.start_t = o->has_since ? o->since_t : o->has_from ? v.end_t :
	    v.end_t - 7 * 86400;
	hk_time_format(o->has_from ? 0 : v.start_t, v.since, sizeof(v.since));
	v.prev_end = o->has_from ? 0 : v.start_t - 1;
	if (!o->has_from && v.start_t > v.end_t) {
		hk_err_set("--since %s: after the period's end %s", v.since,
		    v.until);
		return HK_ERR_USAGE;
	}
	r = HK_ERR_ALLOC;
	if ((v.events = calloc(1, sizeof(*v.events))) == NULL ||
	    (v.actors = calloc(1, sizeof(*v.actors))) == NULL ||
	    list_open(&v.notok) != 0 || list_open(&v.attn) != 0 ||
	    list_open(&v.gaps) != 0 || list_open(&v.hours) != 0 ||
	    list_open(&v.cer) != 0 ||
	    (f = open_memstream(&text, &tlen)) == NULL)
		goto out;
	if ((r = hk_audit_verify_each(log, pub, &rep, each, &v)) != 0)
		goto out;
	cer_unfinished(&v, "in the log yet (a run still going, or killed)");
	fprintf(f, "%s audit review of %s\n", o->program, log);
	/* audit verify's lines: the log, the notes, the links back */
	if ((r = hk_audit_report_verified(log, &rep, prev, pub, f)) != 0)
		goto out;
	/* a log closed within the period: its cadence up to the close */
	v.cad_end_t = v.end_t;
	if (rep.close_seq >= 0 && rep.close_time[0] &&
	    strcmp(rep.close_time, v.until) <= 0 &&
	    rtime(rep.close_time) >= v.start_t)
		v.cad_end_t = rtime(rep.close_time);
	/* a log begun by a close within the period: the closed log's part of
	 * it (verified above with the link) read for the cadence too */
	if (o->online && !o->has_from && rep.linked && rep.link_time[0] &&
	    strcmp(rep.link_time, v.since) > 0) {
		struct hk_audit_report crep;

		if (prev != NULL)
			snprintf(closed, sizeof(closed), "%s", prev);
		else if (hk_audit_find_closed(log, rep.prev_log_id, closed,
		    sizeof(closed)) != 0)
			closed[0] = '\0';
		if (closed[0] != '\0') {
			v.closed_pass = 1;
			if ((r = hk_audit_verify_each(closed, NULL, &crep, each,
			    &v)) != 0)
				goto out;
			v.closed_pass = 0;
			v.log_t = 0;	/* the days before the link: there */
		}
	}
	if (v.n > 0 || o->has_from == 0)
		cadence_end(&v);
	print_period(&v, &rep, f);
	if (rep.linked && rep.link_time[0] && !o->has_from &&
	    strcmp(rep.link_time, v.since) > 0)
		fprintf(f, "  the log begins at %s (record 1, audit.link), "
		    "after the period's start: the period's records before it "
		    "are in the closed log %s%s (review them with --log on it, "
		    "the same --since and --until)%s\n", rep.link_time,
		    closed[0] ? closed : rep.prev_log_id,
		    closed[0] ? "" : " (not kept)", closed[0] && o->online ?
		    "; its publications and backups count in the cadence "
		    "gaps below" : "");
	if (v.cad_end_t < v.end_t)
		fprintf(f, "  the log was closed at %s (record %lld, "
		    "audit.close), before the period's end: the period's "
		    "records after it are in the next log (review it with the "
		    "same --since and --until); the cadence gaps below are "
		    "checked up to the close\n", rep.close_time,
		    (long long)rep.close_seq);
	fprintf(f, "Counts per event and result:\n");
	table_print(v.events, f);
	fprintf(f, "Counts per actor (%s):\n", o->online ?
	    "OPERATOR@SYSTEM" : "roster ids");
	table_print(v.actors, f);
	fprintf(f, "Not ok (fail, refusals, every result but ok): %llu\n",
	    (unsigned long long)v.notok.n);
	list_end(&v.notok, f);
	fprintf(f, "Always read (their ok records; clock, roster, quorum, "
	    "profile, keys, compromise, restore, destroy, close, notes): "
	    "%llu\n", (unsigned long long)v.attn.n);
	list_end(&v.attn, f);
	if (!o->online) {
		fprintf(f, "Ceremonies (each transcript, to hold against its "
		    "signed printed copy: sha256sum of the .txt): %llu\n",
		    (unsigned long long)v.cer.n);
		list_end(&v.cer, f);
	}
	fprintf(f, "Cadence gaps (%s): %llu\n", o->online ? "CPS 4-4-9 "
	    "publication, 4-11-6 backup" : "CPS 4-11-6 backup",
	    (unsigned long long)v.gaps.n);
	list_end(&v.gaps, f);
	if (o->hours != NULL) {
		fprintf(f, "Outside the working hours %s JST%s%s: %llu\n",
		    o->hours, o->routine ? ", but for " : "",
		    o->routine ? o->routine : "",
		    (unsigned long long)v.hours.n);
		list_end(&v.hours, f);
	} else
		fprintf(f, "Working hours: not checked (no --hours)\n");
	findings = v.notok.n + v.attn.n + v.gaps.n + v.hours.n;
	if (findings > 0)
		fprintf(f, "Needs the auditor's attention: %llu lines above "
		    "(exit 9)\n", (unsigned long long)findings);
	else
		fprintf(f, "Nothing needs the auditor's attention (exit 0)\n");
	if (fflush(f) != 0 || ferror(f)) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (EVP_Digest(text, tlen, md, NULL, EVP_sha256(), NULL) != 1) {
		hk_err_set("audit review: SHA-256 failed");
		r = HK_ERR_CRYPTO;
		goto out;
	}
	hk_hex_encode(md, 32, hex);
	fwrite(text, 1, tlen, out);
	fprintf(out, "SHA-256 of the review above (every line before this "
	    "one): %s\n", hex);
	if (fflush(out) != 0 || ferror(out)) {
		hk_err_set("audit review: cannot write the review: %s",
		    strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (findings > 0) {
		hk_err_set("audit review: %llu lines need the auditor's "
		    "attention (listed above)", (unsigned long long)findings);
		r = HK_ERR_WARNING;
	}
 out:
	if (f != NULL)
		fclose(f);
	free(text);
	list_free(&v.notok);
	list_free(&v.attn);
	list_free(&v.gaps);
	list_free(&v.hours);
	list_free(&v.cer);
	table_free(v.events);
	table_free(v.actors);
	free(v.days);
	free(v.bk);
	return r;
}
