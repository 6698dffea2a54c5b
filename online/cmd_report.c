/*
 * cmd_report.c - "hanko-online report": the monthly report of the
 * provision of revocation information (CPS 4-5; docs/records.md): for one
 * calendar month in JST (the prefecture's month: from 00:00+09:00 on the
 * 1st, 15:00Z the day before), each recipient, the month, the count and
 * the method, from the store's provisions (recorded by serve as it
 * answers); then the counts by object (a partition's CRL, the ARL, OCSP).
 * A table for people, or --csv (RFC 4180) for the published report;
 * --by-object selects the second part in CSV. Audited (records.report)
 * with a checkpoint. An empty month is a report of zero rows; a month not
 * over at the clock of the run (or not begun) is said to be partial (a
 * warning on stderr, a line in the table, the audit record).
 *
 * serve records http and ocsp; ldap and media come only from
 * "hanko-online provision" (cmd_provision.c), which the table says. When
 * the audit log shows LDAP publishing in the month (ldap.publish ok) and
 * no ldap provision is recorded for it, a warning on stderr says the
 * report may be missing the directory's reads (exit 0 all the same: a
 * month in which no party read the directory has nothing to record).
 * Those records, and serve's provision.lost, are read from the live log
 * and the closed logs it links back to (after the yearly close the months
 * before it are only there), each verified with the token's audit key as
 * check and recover read them (hk_logev_logs_open); a month that began
 * before the oldest log still kept (the one before it deleted after its
 * year) is warned of: its records there cannot be read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "logev.h"
#include "online.h"
#include "store.h"

struct report_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *month;		/* --month YYYY-MM */
	int csv;			/* --csv */
	int by_object;			/* --by-object */
	int year, mon;			/* the month, parsed */
	time_t now;			/* the clock of the run */
};

/* What the row printers add up. */
struct report_work {
	const struct report_opts *o;
	size_t rows;			/* rows printed */
	uint64_t total;			/* provisions counted */
};

/* LDAP in the month: publishing (the audit log) against provisions. */
struct ldap_month {
	time_t from, to;		/* the month's bounds */
	uint64_t pushes;		/* ldap.publish ok records in it */
	uint64_t provisions;		/* ldap provisions recorded for it */
	uint64_t lost;			/* serve's provision.lost in it */
	int seen;			/* a record read (first set) */
	time_t first;			/* the oldest record read */
	struct hk_audit_gone gone;	/* a closed log no longer kept */
};

static const char report_usage[] =
"usage: hanko-online report --state DIR --month YYYY-MM [--csv "
"[--by-object]]\n";

/* YYYY-MM exactly, 1970-01 to 9999-12. */
static int
month_parse(struct report_opts *o)
{
	const char *m = o->month;

	if (strlen(m) != 7 || strspn(m, "0123456789") != 4 || m[4] != '-' ||
	    strspn(m + 5, "0123456789") != 2)
		goto bad;
	o->year = (m[0] - '0') * 1000 + (m[1] - '0') * 100 +
	    (m[2] - '0') * 10 + (m[3] - '0');
	o->mon = (m[5] - '0') * 10 + (m[6] - '0');
	if (o->year < 1970 || o->mon < 1 || o->mon > 12)
		goto bad;
	return 0;
bad:
	hk_err_set("--month %s: CPS 4-5: a calendar month YYYY-MM, 1970-01 "
	    "to 9999-12 (JST)", m);
	return HK_ERR_USAGE;
}

static int
parse(struct report_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--month", .value = &o->month, .required = 1 },
		{ .name = "--csv", .flag = &o->csv },
		{ .name = "--by-object", .flag = &o->by_object },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, report_usage, args,
	    NULL)) != 0)
		return r;
	if (o->by_object && !o->csv) {
		hk_err_set("--by-object selects the CSV part; the table shows "
		    "both parts");
		return HK_ERR_USAGE;
	}
	return month_parse(o);
}

/* A name in the table: control bytes shown as '?'. */
static void
put_text(const char *s, int width)
{
	int n = 0;

	for (; *s; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	for (; n < width; n++)
		putchar(' ');
}

/* A CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break, quotes doubled. */
static void
put_csv(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int
row(const char *a, const char *b, uint64_t count, void *arg)
{
	struct report_work *w = arg;

	w->rows++;
	w->total += count;
	if (w->o->csv) {
		put_csv(a);
		printf(",%s,%" PRIu64, w->o->month, count);
		if (b != NULL) {
			putchar(',');
			put_csv(b);
		}
		putchar('\n');
		return 0;
	}
	put_text(a, 32);
	printf("  %-7s  %10" PRIu64, w->o->month, count);
	if (b != NULL) {
		printf("  ");
		put_text(b, 0);
	}
	putchar('\n');
	return 0;
}

static int
ldap_push_seen(const struct hk_audit_record *rec, void *arg)
{
	struct ldap_month *l = arg;
	time_t t;

	/* the oldest log's first record: handed over first */
	if (!l->seen && hk_time_parse(rec->time, &t) == 0) {
		l->seen = 1;
		l->first = t;
	}
	/* ldap-push and publish --ldap (hk_online_ldap_push) */
	if (strcmp(rec->event, "ldap.publish") == 0 &&
	    strcmp(rec->result, "ok") == 0 &&
	    hk_time_parse(rec->time, &t) == 0 && t >= l->from && t < l->to)
		l->pushes++;
	/* serve's provisions it could not count (serve_keyholder.c
	 * lost_audit): the details start with their number */
	if (strcmp(rec->event, "provision.lost") == 0 &&
	    hk_time_parse(rec->time, &t) == 0 && t >= l->from &&
	    t < l->to) {
		uint64_t n = 0;
		size_t i;
		for (i = 0; i < rec->dlen && i < 19 && rec->details[i] >= '0' &&
		    rec->details[i] <= '9'; i++)
			n = n * 10 + (uint64_t)(rec->details[i] - '0');
		l->lost += n;
	}
	return 0;
}

static int
ldap_provision_seen(const char *a, const char *b, uint64_t count, void *arg)
{
	struct ldap_month *l = arg;

	(void)a;
	if (b != NULL && strcmp(b, "ldap") == 0)
		l->provisions += count;
	return 0;
}

/*
 * Did LDAP publishing run in the month, and are its reads recorded? Did
 * serve lose counts in it? The live log and the closed logs it links back
 * to (docs/audit-log.md "Retention": after the yearly close the months
 * before it are only in the closed log), oldest first, each verified with
 * the token's audit key and its link checked, as check and recover read
 * them as evidence: a log that fails fails the report (exit 6), named.
 */
static int
ldap_month_check(struct hk_online *on, struct hk_store *store,
    const struct report_opts *o, struct ldap_month *l)
{
	struct hk_audit_report rep;
	struct hk_logev_logs L;
	int r;

	memset(l, 0, sizeof(*l));
	memset(&L, 0, sizeof(L));
	if ((r = hk_store_month_bounds(o->year, o->mon, &l->from,
	    &l->to)) != 0 ||
	    (r = hk_store_provision_month(store, o->year, o->mon,
	    HK_PROVISION_BY_RECIPIENT, ldap_provision_seen, l)) != 0)
		return r;
	if ((r = hk_online_audit_verify(on, &rep)) == HK_ERR_AUDIT) {
		hk_err_set("%s: the audit log fails verification with the "
		    "token's audit key (%s): its records of the month "
		    "(ldap.publish, provision.lost) cannot be read",
		    on->audit_log, rep.reason[0] ? rep.reason : hk_err_msg());
		return r;
	}
	if (r != 0)
		return r;
	r = hk_online_logs_open(on, &rep, NULL, &L);
	if (r == 0 && (r = hk_logev_scan(&L, ldap_push_seen, l)) ==
	    HK_ERR_AUDIT && L.failed != NULL)
		hk_err_set("%s: fails verification (%s)", L.failed,
		    hk_err_msg());
	if (r == HK_ERR_AUDIT)
		hk_err_set("%s: its records of the month (ldap.publish, "
		    "provision.lost) cannot be read", hk_err_msg());
	if (r == 0)
		l->gone = L.gone;
	hk_logev_logs_free(&L);
	return r;
}

/* The report itself; w counts the first part. */
static int
report(struct hk_store *store, const struct report_opts *o,
    struct report_work *w)
{
	struct report_work wo;
	time_t from, to;
	char f[32], t[32], fz[32], tz[32];
	int r;

	memset(&wo, 0, sizeof(wo));
	wo.o = o;
	w->o = o;
	if ((r = hk_store_month_bounds(o->year, o->mon, &from, &to)) != 0)
		return r;
	if (o->csv && o->by_object) {
		printf("object,month,count\n");
		return hk_store_provision_month(store, o->year, o->mon,
		    HK_PROVISION_BY_OBJECT, row, w);
	}
	if (o->csv) {
		printf("recipient,month,count,method\n");
		return hk_store_provision_month(store, o->year, o->mon,
		    HK_PROVISION_BY_RECIPIENT, row, w);
	}
	hk_store_jst_format(from, f, sizeof(f));
	hk_store_jst_format(to, t, sizeof(t));
	hk_time_format(from, fz, sizeof(fz));
	hk_time_format(to, tz, sizeof(tz));
	printf("Provision of revocation information (CPS 4-5), %s\n"
	    "(JST, from %s to before %s;\n"
	    " in UTC from %s to before %s)\n\n", o->month, f, t, fz, tz);
	if (o->now < from) {
		hk_store_jst_format(o->now, f, sizeof(f));
		printf("PARTIAL: the month has not begun at %s: no counts "
		    "yet, not the month's report.\n\n", f);
	} else if (o->now < to) {
		hk_store_jst_format(o->now, f, sizeof(f));
		printf("PARTIAL: the month is not over at %s: the counts so "
		    "far, not the month's report.\n\n", f);
	}
	put_text("recipient", 32);
	printf("  %-7s  %10s  %s\n", "month", "count", "method");
	if ((r = hk_store_provision_month(store, o->year, o->mon,
	    HK_PROVISION_BY_RECIPIENT, row, w)) != 0)
		return r;
	put_text("total", 32);
	printf("  %-7s  %10" PRIu64 "\n\n", o->month, w->total);
	put_text("object", 32);
	printf("  %-7s  %10s\n", "month", "count");
	if ((r = hk_store_provision_month(store, o->year, o->mon,
	    HK_PROVISION_BY_OBJECT, row, &wo)) != 0)
		return r;
	printf("\nMethods: http and ocsp are recorded by hanko-online serve as "
	    "it answers;\nldap and media only as the operators record them "
	    "with hanko-online provision.\n");
	return 0;
}

int
cmd_report(int argc, char **argv)
{
	struct report_opts o;
	struct report_work w;
	struct ldap_month l;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	char path[4096], now[32], end[32], begin[32], lost[80] = "";
	char gone[160] = "";
	time_t from, to;
	int r, warn, partial = 0;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	o.now = hk_clock_now();
	if ((r = hk_online_path(on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0, &store)) != 0 ||
	    (r = hk_online_login(on)) != 0)
		goto out;
	if ((r = ldap_month_check(on, store, &o, &l)) != 0 ||
	    (r = report(store, &o, &w)) != 0) {
		hk_online_audit(on, "records.report", "fail", "month %s: %s",
		    o.month, hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		hk_err_set("report: standard output: write failed");
		r = HK_ERR_IO;
	}
	/* CPS 4-5 reports a month: one not over (or not begun) at the
	 * clock of the run is the counts so far, said so */
	if (r == 0 && hk_store_month_bounds(o.year, o.mon, &from, &to) == 0 &&
	    o.now < to) {
		partial = 1;
		hk_store_jst_format(o.now, now, sizeof(now));
		hk_store_jst_format(to, end, sizeof(end));
		hk_store_jst_format(from, begin, sizeof(begin));
		fprintf(stderr, "hanko-online report: warning: %s: the month "
		    "%s (it %s %s, the clock reads %s): the counts are "
		    "partial, not the month's report\n", o.month, o.now < from ?
		    "has not begun" : "is not over", o.now < from ? "begins" :
		    "ends", o.now < from ? begin : end, now);
	}
	/* the month began before the oldest log still kept: the closed log
	 * before it was deleted after its year (CPS 4-11-4), and its records
	 * of the month with it */
	if (r == 0 && l.gone.log_id[0] != '\0' && (!l.seen ||
	    l.from < l.first)) {
		hk_store_jst_format(l.first, now, sizeof(now));
		snprintf(gone, sizeof(gone), "; the audit log before %s no "
		    "longer kept (closed log %s): not read (warned)", now,
		    l.gone.log_id);
		fprintf(stderr, "hanko-online report: warning: %s: the audit "
		    "log before %s is no longer kept (closed log %s, kept "
		    "until %s, CPS 4-11-4): the month's ldap.publish and "
		    "provision.lost records before it are not read, and their "
		    "warnings cannot be given\n", o.month, now, l.gone.log_id,
		    l.gone.until);
	}
	warn = r == 0 && l.pushes > 0 && l.provisions == 0;
	if (r == 0 && l.lost > 0) {
		snprintf(lost, sizeof(lost), "; %" PRIu64 " provisions serve "
		    "could not count (warned)", l.lost);
		fprintf(stderr, "hanko-online report: warning: %s: serve could "
		    "not count %" PRIu64 " provisions (provision.lost in the "
		    "audit log): the counts fall short by them\n", o.month,
		    l.lost);
	}
	if (warn)
		fprintf(stderr, "hanko-online report: warning: %s: LDAP "
		    "publishing ran (ldap.publish ok: %" PRIu64 ") but no "
		    "ldap provision is recorded: count the directory's reads "
		    "(docs/ldap.md) and record them with hanko-online "
		    "provision, unless no relying party read it\n", o.month,
		    l.pushes);
	hk_online_audit(on, "records.report", r == 0 ? "ok" : "fail",
	    "CPS 4-5: month %s%s: %zu rows, %" PRIu64 " provisions%s%s%s%s",
	    o.month, o.csv ? (o.by_object ? " (csv, by object)" : " (csv)") :
	    "", w.rows, w.total, partial ? "; the month not over: partial "
	    "(warned)" : "", warn ? "; LDAP published but no ldap provision "
	    "recorded (warned)" : "", lost, gone);
	if (r == 0)
		r = hk_online_checkpoint(on);
	else
		hk_online_checkpoint_keep_err(on);
out:
	hk_store_close(store);
	hk_online_close(on);
	return r;
}
