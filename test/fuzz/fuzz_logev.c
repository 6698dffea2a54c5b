/*
 * fuzz_logev.c - the live audit log read as evidence (online/logev.c, and
 * recover's record parsers in online/cmd_recover.c: "; revoked at T",
 * cert.revoke, cert.revoke-all, issue.start, cert.issue/cert.reserve
 * entries, issue.done).
 *
 * Input: lines "event<TAB>result<TAB>details" (a line without two tabs
 * is the details of a cert.revoke ok). Each line's details go through
 * logev's parsers directly; then the lines are appended to a new audit
 * log (hk_audit_append: the records as the commands write them), which
 * is scanned with recover's each_record (cmd_recover.c, compiled into
 * this target) and with hk_logev_issued for the serials the cert.issue
 * records name.
 *
 * Beyond "no crash, no leak" it checks what logev.h says each parser
 * returns: a serial of uppercase hex, G a plain decimal, K lowercase hex,
 * the sha256 followed by ':' or " (--replace):", the last one; and of
 * recover: a revocation time it takes from "; revoked at T" is a real
 * UTC time as hanko writes it; an entry "S/M/L" it takes from a
 * cert.issue or cert.reserve is written so (L a plain decimal, as issue
 * writes it); of hk_logev_issued: delivered only after
 * issued, by an issue.done or cert.reserve, the count right. Seeds:
 * corpus/logev/ (records in the formats of cmd_issue.c, cmd_revoke.c,
 * cmd_check.c and cmd_recover.c).
 */
#include "../../online/cmd_recover.c"
#include "fuzz_tmp.h"

#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BATCH_SHA \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define RECORDS_MAX	24
#define ASK_MAX		32

static const char *dir;
static char logp[4200], headp[4300];

/* cmd_revoke.c's, which recover calls only to redo (never here) */
int
hk_online_revoke_all_at(struct hk_online *on, struct hk_store *store,
    int gen, const char *kid, time_t t, struct hk_online_revoked_all *out)
{
	(void)on; (void)store; (void)gen; (void)kid; (void)t; (void)out;
	abort();
}

static int
lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

/* A plain decimal of what v is: no sign, blank or leading zero. */
static int
plain_dec(const char *s, size_t n, long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", v);
	return strlen(b) == n && memcmp(b, s, n) == 0;
}

/* A sha256 of issue.start's form at t (" sha256 " H ':' or
 * " (--replace):"). */
static int
start_at(const char *t)
{
	return strncmp(t, " sha256 ", 8) == 0 && strlen(t + 8) >= 64 &&
	    lower_hex(t + 8, 64) && (t[72] == ':' || strncmp(t + 72,
	    " (--replace):", 13) == 0);
}

/* logev's parsers on one details string d. */
static void
parsers(const char *d)
{
	const char *s, *m, *k, *h, *t;
	size_t sl, ml, kl, n = strlen(d);
	int reason, gen;
	long g;

	(void)hk_logev_serial_ok(d, n);
	if (hk_logev_revoke_serial(d, &s, &sl, &m, &ml, &reason)) {
		if (s != d + 7 || !hk_logev_serial_ok(s, sl) ||
		    m != s + sl + 15 || memcmp(s + sl, ": municipality ",
		    15) != 0 || strncmp(m + ml, ", reason ", 9) != 0 ||
		    reason < 1 || reason > 5 || m[ml + 9] != '0' + reason)
			abort();
	}
	if (hk_logev_revoke_all(d, &gen, &k, &kl)) {
		if (gen < 0 || gen > 999 || kl < 2 ||
		    kl > 2 * HK_STORE_KEYID_MAX || !lower_hex(k, kl) ||
		    k[kl] != ':' || k < d + 19 + 1 + 8 ||
		    strncmp(k - 8, " key id ", 8) != 0 ||
		    !plain_dec(d + 19, (size_t)(k - 8 - (d + 19)), gen))
			abort();
	}
	if ((h = hk_logev_start_sha(d)) != NULL) {
		if (strncmp(d, "batch ", 6) != 0 || h < d + 5 || !start_at(h))
			abort();
		for (t = h + 1; (t = strstr(t, " sha256 ")) != NULL; t++)
			if (start_at(t))
				abort();	/* not the last one */
		if ((g = hk_logev_start_gen(h)) >= 0) {
			t = strstr(h, ", issuing CA generation ") + 24;
			if (!plain_dec(t, strlen(t), g))
				abort();
		}
	}
	if ((h = hk_logev_done_batch(d)) != NULL) {
		if (h < d + 8 || strncmp(h - 8, " sha256 ", 8) != 0 ||
		    !lower_hex(h, 64) || strncmp(h + 64, ": this run ", 11) != 0)
			abort();
	}
}

/* Each entry recover took from a cert.issue or cert.reserve record (w->el
 * from n on) is written in d as issue writes it: "S/M/L" with L a plain
 * decimal (no sign, blank or leading zero), a whole token. */
static void
lines_as_written(const struct rc_work *w, size_t n, const char *d)
{
	const char *t;
	char tok[160];
	size_t tl;

	for (; n < w->nel; n++) {
		snprintf(tok, sizeof(tok), "%s/%s/%" PRIu64, w->el[n].serial,
		    w->el[n].muni, w->el[n].line);
		tl = strlen(tok);
		for (t = d; (t = strstr(t, tok)) != NULL; t++)
			if ((t == d || t[-1] == ' ') && (t[tl] == ' ' ||
			    t[tl] == '\0'))
				break;
		if (t == NULL)
			abort();
	}
}

/* recover's reading of every record (each_record), and said_at's time. */
static int
each_recover(const struct hk_audit_record *rec, void *arg)
{
	struct rc_work *w = arg;
	char *d, when[24], fmt[24];
	size_t nel = w->nel;
	time_t at;
	int said, r;

	if ((d = hk_logev_details(rec)) == NULL)
		abort();
	parsers(d);
	if (said_at(d, rec, &at, when, &said) == 0) {
		/* the time taken is the one written, as hanko writes times */
		hk_time_format(at, fmt, sizeof(fmt));
		if (strcmp(fmt, when) != 0)
			abort();
	}
	r = each_record(rec, w);
	lines_as_written(w, nel, d);
	free(d);
	return r;
}

static void
rc_free(struct rc_work *w)
{
	size_t i;

	for (i = 0; i < w->nes; i++)
		free(w->es[i].file);
	free(w->es);
	free(w->el);
	free(w->er);
	free(w->ea);
	free(w->rv);
	free(w->notes);
}

static int
ask_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The temp folder goes at exit (libFuzzer ends with exit()). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_tmp_dir("fuzz_logev");
	snprintf(logp, sizeof(logp), "%s/audit.log", dir);
	snprintf(headp, sizeof(headp), "%s/audit.log.head", dir);
	hk_clock_set(1775124000);	/* 2026-04-02T10:00:00Z */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_logev_issued ask[ASK_MAX];
	struct hk_audit_report rep;
	struct hk_logev_logs L;
	struct rc_work w;
	char *in, *line, *next, *ev, *res, *det, *tab, *e;
	size_t nrec = 0, nask = 0, ndone = 0, i, cnt;
	int r;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	unlink(logp);
	unlink(headp);
	if (hk_audit_create(logp) != 0)
		abort();
	memset(ask, 0, sizeof(ask));
	snprintf(ask[nask++].hex, sizeof(ask[0].hex), "0A1B");
	for (line = in; line != NULL && nrec < RECORDS_MAX; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		ev = "cert.revoke";
		res = "ok";
		det = line;
		if ((tab = strchr(line, '\t')) != NULL &&
		    strchr(tab + 1, '\t') != NULL) {
			ev = line;
			*tab = '\0';
			res = tab + 1;
			tab = strchr(res, '\t');
			*tab = '\0';
			det = tab + 1;
		}
		parsers(det);
		if (hk_audit_append(logp, ev, res, "-", det) != 0)
			continue;
		nrec++;
		/* the serials of a cert.issue are asked of hk_logev_issued */
		if (strcmp(ev, "cert.issue") != 0 ||
		    (e = strstr(det, "): ")) == NULL)
			continue;
		for (e += 3; *e != '\0' && nask < ASK_MAX; e += *e == ' ') {
			size_t n = strcspn(e, " "), sl = strcspn(e, "/ ");
			if (sl < n && hk_logev_serial_ok(e, sl)) {
				memcpy(ask[nask].hex, e, sl);
				ask[nask].hex[sl] = '\0';
				for (i = 0; i < nask; i++)
					if (strcmp(ask[i].hex, ask[nask].hex) ==
					    0)
						break;
				if (i == nask)
					nask++;
				else
					memset(ask[nask].hex, 0, sl);
			}
			e += n;
		}
	}
	free(in);

	/* recover's scan: the log is sound (ours) */
	memset(&w, 0, sizeof(w));
	snprintf(w.bf.sha, sizeof(w.bf.sha), "%s", BATCH_SHA);
	if (hk_audit_scan(logp, each_recover, &w) != 0)
		abort();
	for (i = 0; i < w.nrv; i++)
		if (w.rv[i].reason < 1 || w.rv[i].reason > 5 ||
		    !hk_logev_serial_ok(w.rv[i].serial,
		    strlen(w.rv[i].serial)))
			abort();
	for (i = 0; i < w.nea; i++)
		if (w.ea[i].gen < 0 || w.ea[i].gen > 999)
			abort();
	rc_free(&w);

	/* what was delivered of the serials asked (the log alone: it
	 * begins with no audit.link) */
	qsort(ask, nask, sizeof(ask[0]), ask_cmp);
	if (hk_audit_verify(logp, NULL, &rep) != 0 ||
	    hk_logev_logs_open(&L, logp, &rep, NULL, NULL) != 0)
		abort();
	r = hk_logev_issued(&L, ask, nask, sizeof(ask[0]), &ndone);
	hk_logev_logs_free(&L);
	if (r != 0)
		abort();
	for (i = cnt = 0; i < nask; i++) {
		const struct hk_logev_issued *p = &ask[i];
		if (p->done == 0)
			continue;
		cnt++;
		if (p->issued == 0 || p->done <= p->issued ||
		    strlen(p->batch) != 16 || !lower_hex(p->batch, 16) ||
		    (strcmp(p->event, "issue.done") != 0 &&
		    strcmp(p->event, "cert.reserve") != 0))
			abort();
	}
	if (cnt != ndone)
		abort();
	hk_err_clear();
	ERR_clear_error();
	return 0;
}
