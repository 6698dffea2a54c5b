/*
 * cmd_recover.c - "hanko-online recover": the certificates a batch issued
 * after the last backup, put back into a restored store from the batch's
 * own outputs (docs/backup.md "Restore", step 10; CPS 4-4, 4-14-1).
 *
 * A certificate that is in a resident's card but not in the store can
 * never be revoked by hanko. Its issuance outputs survive the store: the
 * batch's results.csv holds every issued certificate, the batch file the
 * lines they were built from, the live audit log (when it survived) and
 * the closed logs it links back to (hk_logev_logs_open: after a yearly
 * close the records between the backup and the close are only there) the
 * cert.reserve/cert.issue and re-issue records naming their serials.
 *
 * Every "ok" line of results.csv is put back only when
 *   - its certificate is one DER certificate whose signature verifies with
 *     a stored issuing CA certificate of its authorityKeyIdentifier;
 *   - it is byte for byte the TBSCertificate issue builds from its batch
 *     line (the resident's key, municipality, basic 4 items, notBefore and
 *     notAfter) with its serial;
 *   - the batch is the one results.csv was written for (its folder's
 *     batch.sha256) or the audit log names (issue.start), and every
 *     cert.reserve/cert.issue record of its serial names this batch, line
 *     and municipality (with the log's issue.start of the batch, one such
 *     record is required).
 * It goes in as issue leaves it (valid, TBS, DER, dates, partition,
 * resident hash, the journal's line), in one transaction per chunk, never
 * over another certificate's serial; the same serial with the same
 * certificate is there already and skipped. A resident with another live
 * certificate: put back only with the audit log's cert.revoke (or
 * cert.expire) record of this batch naming that certificate as the one
 * this serial replaced, which is then revoked with that record's reason
 * and time, as issue did; else the line is refused. A certificate of an
 * issuing key that the log's cert.revoke-all revoked as a set (CPS
 * 4-4-1-3, 4-14-2) after the serial's cert.issue goes in revoked, reason
 * 2 at that record's time (the earliest such record), in the same
 * transaction: never valid in the store; one of a key marked compromised
 * (state.conf, or the token's mark a restored state.conf lacks: taken as
 * state.conf's, said on stderr) or revoked as a set without such a record
 * is refused. Every
 * put-back certificate and every refusal is audited (cert.recover), the
 * run ends with recover.done and a checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "err.h"
#include "hex.h"
#include "issue_pipeline.h"
#include "logev.h"
#include "municipalities.h"
#include "online.h"
#include "profile.h"
#include "request.h"
#include "secmem.h"
#include "state.h"
#include "store.h"

#define RC_CHUNK_DEFAULT 128
#define RC_BATCH_MAX	(256UL * 1024 * 1024)	/* issue's BATCH_MAX */
#define RC_RESULTS_MAX	(2UL * 1024 * 1024 * 1024)
#define RC_WHY_MAX	1200
#define SERIAL_HEX	(2 * HK_STORE_SERIAL_MAX + 1)

struct rc_opts {
	struct hk_online_opts c;
	const char *batch;		/* --batch FILE */
	const char *results;		/* --results FILE */
	int chunk;			/* --chunk N */
	int revocations;		/* --revocations */
};

/* A cert.reserve or cert.issue entry of any batch (batch: its sha16). */
struct ev_line {
	char serial[SERIAL_HEX];
	char batch[17];
	char muni[HK_STORE_CODE_LEN + 1];
	uint64_t line;
	uint64_t seq;
	int issued;			/* cert.issue (else cert.reserve) */
};

/* A batch's first issue.start: its SHA-256 and file as the log has them,
 * its issuing CA generation (-1: not said). */
struct ev_start {
	char sha[65];
	char *file;
	uint64_t seq;
	int gen;
};

/* A cert.revoke (reason 3, 4) or cert.expire (reason 0) entry of this
 * batch: old replaced by new. */
struct ev_rep {
	char neu[SERIAL_HEX];
	char old[SERIAL_HEX];
	int reason;
	time_t at;
	uint64_t seq;
};

/* A cert.revoke-all entry: every certificate of an issuing key revoked
 * cACompromise (revoke --issuing-key-compromise). */
struct ev_all {
	int gen;
	char kid[2 * HK_STORE_KEYID_MAX + 1];	/* lowercase hex */
	char time[24];			/* the record's */
	char when[24];			/* the revocations' (said_at) */
	time_t at;			/* ... */
	uint64_t seq;
};

/* A cert.revoke entry of any serial, any form (revoke and check: "serial
 * S: municipality M, reason R (...)"; issue's re-issue: OLD/MUNI/R/NEW):
 * a revocation before a cert.revoke-all of its key is the certificate's
 * own (the set revoked only the valid ones). */
struct ev_rv {
	char serial[SERIAL_HEX];
	char time[24];			/* the record's */
	char when[24];			/* the revocation's (said_at) */
	int reason;
	time_t at;			/* ... */
	int said;			/* ... as the record says it */
	uint64_t seq;
};

/* A line's result in the store's journal. */
struct jres {
	int kind;			/* 0 none, 1 serial, 2 refused */
	unsigned char serial[HK_STORE_SERIAL_MAX];
	size_t serial_len;
};

struct rc_work {
	const struct rc_opts *o;
	struct hk_online *on;
	struct hk_store *store;
	struct hk_profile *p;
	struct hk_munis *munis;
	unsigned char *skey;		/* store key (hk_secret_alloc) */
	int rehearsal;
	int lockfd;
	struct hk_online_issuing cas;
	struct hk_cert_user_tmpl *tmpl[HK_ONLINE_ISSUING_MAX];
	struct hk_request_ctx req;
	struct hk_batch_file bf;	/* the batch file (request.h) */
	unsigned char *res;		/* results.csv */
	size_t res_len;
	/* the audit log: the closed logs the live log links back to, then
	 * the live log (hk_logev_logs); every seq below is a place in it */
	struct hk_logev_logs logs;
	int log_start;			/* issue.start names this batch */
	int log_replace;		/* ... with --replace */
	uint64_t log_start_seq;		/* its first issue.start */
	time_t log_start_at;		/* ... its time (0: none) */
	time_t log_done_at;		/* its last issue.done ok's (0: none) */
	struct ev_start *es;		/* every batch's first issue.start */
	size_t nes, capes;
	struct ev_line *el;
	size_t nel, capel;
	struct ev_rep *er;
	size_t ner, caper;
	struct ev_all *ea;		/* cert.revoke-all, in seq order */
	size_t nea, capea;
	struct ev_rv *rv;		/* every cert.revoke, by serial, seq */
	size_t nrv, caprv;
	/* every serial of a cert.issue: delivered? (hk_logev_issued) */
	struct hk_logev_issued *iss;	/* by hex */
	size_t niss;
	/* the token's compromise marks the restored state.conf lacks */
	unsigned char lost[HK_CERT_GEN_MAX + 1];
	char *notes;			/* ... said on stderr */
	size_t notes_len;
	/* the journal */
	struct hk_store_batch b;
	int known;			/* the batch row was there */
	struct jres *jr;		/* per line, 1-based */
	/* counts */
	size_t n_ok, n_put, n_there, n_refused, n_noted;
	/* --revocations */
	size_t n_recs, n_redone, n_same, n_notes;
	int tx;				/* a redo's transaction is open */
};

static const char recover_usage[] =
"usage: hanko-online recover --state DIR --batch FILE --results FILE\n"
"                            [--chunk N] [--clock T]\n"
"       hanko-online recover --state DIR --revocations [--clock T]\n";

/* The details of a revocation recover --revocations redid: not one of its
 * own (its record's time is the redo's, not the revocation's). */
#define REDONE	"redone from the "	/* "live log's record seq N" or
					 * "closed log PATH's record seq N" */
/* A record's place in the logs (hk_logev_logs) for a message: "N" in the
 * live log, "N of the closed log PATH" in a closed one. */
#define AT(w, at)	hk_logev_at(&(w)->logs, (at))

/* The logs read, for a message: "live log", or "live log and the N closed
 * log(s) it links back to". */
static const char *
logs_said(const struct rc_work *w)
{
	static char buf[96];

	if (w->logs.n <= 1)
		return "live log";
	snprintf(buf, sizeof(buf), "live log and the %zu closed log%s it "
	    "links back to", w->logs.n - 1, w->logs.n == 2 ? "" : "s");
	return buf;
}

/* ---- the audit log's evidence ----------------------------------------- */

/* "batch <sha16>, " of this batch; the rest after ": " (the entries). */
static const char *
entries_of(const struct rc_work *w, const char *d)
{
	const char *e;

	if (strncmp(d, "batch ", 6) != 0 || strncmp(d + 6, w->bf.sha, 16) != 0 ||
	    d[22] != ',' || (e = strstr(d, "): ")) == NULL)
		return NULL;
	return e + 3;
}

/* "batch <sha16>, " of any batch, its sha16 in b; the entries after ": ". */
static const char *
entries_any(const char *d, char b[17])
{
	const char *e;
	size_t i;

	if (strncmp(d, "batch ", 6) != 0 || strlen(d) < 23 || d[22] != ',' ||
	    (e = strstr(d, "): ")) == NULL)
		return NULL;
	for (i = 0; i < 16; i++)
		if (!((d[6 + i] >= '0' && d[6 + i] <= '9') || (d[6 + i] >= 'a' &&
		    d[6 + i] <= 'f')))
			return NULL;
	memcpy(b, d + 6, 16);
	b[16] = '\0';
	return e + 3;
}

static int
add_line(struct rc_work *w, const char *tok, size_t n, const char *batch,
    uint64_t seq, int issued)
{
	const char *a = memchr(tok, '/', n), *b;
	struct ev_line *e;
	uint64_t line;

	/* L as issue writes it (%PRIu64): a plain decimal, no sign, blank or
	 * leading zero (strtoull would take "+2", "\t2" and "02") */
	if (a == NULL || (b = memchr(a + 1, '/', n - (size_t)(a + 1 - tok))) ==
	    NULL || !hk_logev_serial_ok(tok, (size_t)(a - tok)) ||
	    (size_t)(b - a - 1) > HK_STORE_CODE_LEN ||
	    hk_dec_parse(b + 1, (size_t)(tok + n - b - 1), 19, &line) != 0)
		return 0;	/* not an entry of issue's form: not evidence */
	if (w->nel == w->capel) {
		size_t cap = w->capel ? 2 * w->capel : 256;

		if ((e = reallocarray(w->el, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->el = e;
		w->capel = cap;
	}
	e = &w->el[w->nel];
	memset(e, 0, sizeof(*e));
	memcpy(e->serial, tok, (size_t)(a - tok));
	memcpy(e->muni, a + 1, (size_t)(b - a - 1));
	memcpy(e->batch, batch, sizeof(e->batch));
	e->line = line;
	e->seq = seq;
	e->issued = issued;
	w->nel++;
	return 0;
}

/*
 * issue.start's "batch FILE sha256 HEX[ (--replace)]: ...": the batch's
 * first one (records come in seq order) kept with its file and seq.
 */
static int
add_start(struct rc_work *w, const char *d, uint64_t seq)
{
	const char *h;
	struct ev_start *e;
	size_t i, fl;
	long g;

	if ((h = hk_logev_start_sha(d)) == NULL || h < d + 6)
		return 0;	/* not issue's form (" sha256 " after "batch "): not
				 * evidence */
	for (i = 0; i < w->nes; i++)
		if (strncmp(w->es[i].sha, h + 8, 64) == 0)
			return 0;	/* a resumed run: its first kept */
	if (w->nes == w->capes) {
		size_t cap = w->capes ? 2 * w->capes : 16;

		if ((e = reallocarray(w->es, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->es = e;
		w->capes = cap;
	}
	e = &w->es[w->nes];
	memset(e, 0, sizeof(*e));
	memcpy(e->sha, h + 8, 64);
	fl = (size_t)(h - (d + 6));
	if ((e->file = malloc(fl + 1)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(e->file, d + 6, fl);
	e->file[fl] = '\0';
	e->seq = seq;
	e->gen = -1;
	if ((g = hk_logev_start_gen(h)) >= 1 && g <= HK_CERT_GEN_MAX)
		e->gen = (int)g;
	w->nes++;
	return 0;
}

/* "OLD/MUNI/REASON/NEW" (revoke) or "OLD/MUNI/NEW" (expire). */
static int
add_rep(struct rc_work *w, const char *tok, size_t n, int expire,
    time_t at, uint64_t seq)
{
	const char *f[4], *end = tok + n, *q = tok;
	size_t k = 0, want = expire ? 3 : 4, fl[4];
	struct ev_rep *e;

	while (k < 4) {
		const char *s = memchr(q, '/', (size_t)(end - q));

		f[k] = q;
		fl[k] = (size_t)((s != NULL ? s : end) - q);
		k++;
		if (s == NULL)
			break;
		q = s + 1;
	}
	if (k != want || !hk_logev_serial_ok(f[0], fl[0]) ||
	    !hk_logev_serial_ok(f[want - 1], fl[want - 1]))
		return 0;
	if (w->ner == w->caper) {
		size_t cap = w->caper ? 2 * w->caper : 64;

		if ((e = reallocarray(w->er, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->er = e;
		w->caper = cap;
	}
	e = &w->er[w->ner];
	memset(e, 0, sizeof(*e));
	memcpy(e->old, f[0], fl[0]);
	memcpy(e->neu, f[want - 1], fl[want - 1]);
	if (expire)
		e->reason = 0;
	else if (fl[2] == 1 && (f[2][0] == '3' || f[2][0] == '4'))
		e->reason = f[2][0] - '0';
	else
		return 0;
	e->at = at;
	e->seq = seq;
	w->ner++;
	return 0;
}

/*
 * The time of the revocations a record made: "; revoked at T" (revoke and
 * check write it since their records' own time is read after the
 * revocation's, seconds later in a slow run), else the record's time
 * (older records, issue's re-issues): *said says which.
 */
static int
said_at(const char *d, const struct hk_audit_record *rec, time_t *at,
    char when[24], int *said)
{
	*said = 0;
	if (hk_logev_revoked_at(d, at, when)) {
		*said = 1;
		return 0;
	}
	if (hk_time_parse(rec->time, at) != 0)
		return -1;
	snprintf(when, 24, "%s", rec->time);
	return 0;
}

static int
add_rv(struct rc_work *w, const char *serial, size_t sl, int reason,
    const struct hk_audit_record *rec, time_t at, const char *when, int said)
{
	struct ev_rv *e;

	if (!hk_logev_serial_ok(serial, sl) || reason < 1 || reason > 5)
		return 0;	/* not an entry as revoke or issue writes it */
	if (w->nrv == w->caprv) {
		size_t cap = w->caprv ? 2 * w->caprv : 64;

		if ((e = reallocarray(w->rv, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->rv = e;
		w->caprv = cap;
	}
	e = &w->rv[w->nrv++];
	memset(e, 0, sizeof(*e));
	memcpy(e->serial, serial, sl);
	snprintf(e->time, sizeof(e->time), "%s", rec->time);
	snprintf(e->when, sizeof(e->when), "%s", when);
	e->reason = reason;
	e->at = at;
	e->said = said;
	e->seq = rec->seq;
	return 0;
}

/* Every revocation a cert.revoke record makes: "serial S: municipality M,
 * reason R (NAME)" (revoke, check) or "batch B, ...: OLD/MUNI/R/NEW ..."
 * (issue --replace, any batch). */
static int
add_revs(struct rc_work *w, const char *d, const struct hk_audit_record *rec)
{
	const char *e, *s, *m;
	char b[17], when[24];
	size_t sl, ml;
	time_t at;
	int r = 0, said, reason;

	if (strncmp(d, "serial ", 7) == 0) {
		if (!hk_logev_revoke_serial(d, &s, &sl, &m, &ml, &reason) ||
		    said_at(d, rec, &at, when, &said) != 0)
			return 0;
		return add_rv(w, s, sl, reason, rec, at, when, said);
	}
	if (said_at(d, rec, &at, when, &said) != 0)
		return 0;
	if ((e = entries_any(d, b)) == NULL)
		return 0;
	while (*e != '\0' && r == 0) {
		size_t n = strcspn(e, " ");
		const char *s1 = memchr(e, '/', n), *s2, *s3;

		if (s1 != NULL && (s2 = memchr(s1 + 1, '/', n - (size_t)(s1 +
		    1 - e))) != NULL && (s3 = memchr(s2 + 1, '/', n -
		    (size_t)(s2 + 1 - e))) != NULL && s3 == s2 + 2)
			r = add_rv(w, e, (size_t)(s1 - e), s2[1] - '0', rec,
			    at, when, said);
		e += n;
		e += *e == ' ';
	}
	return r;
}

/* "issuing generation G key id K: ..." (revoke --issuing-key-compromise) */
static int
add_all(struct rc_work *w, const char *d, const struct hk_audit_record *rec)
{
	struct ev_all *e;
	const char *k;
	size_t kl;
	time_t at;
	char when[24];
	int gen, said;

	if (!hk_logev_revoke_all(d, &gen, &k, &kl) ||
	    said_at(d, rec, &at, when, &said) != 0)
		return 0;	/* not revoke's form: not evidence */
	if (w->nea == w->capea) {
		size_t cap = w->capea ? 2 * w->capea : 4;

		if ((e = reallocarray(w->ea, cap, sizeof(*e))) == NULL)
			return HK_ERR_ALLOC;
		w->ea = e;
		w->capea = cap;
	}
	e = &w->ea[w->nea++];
	memset(e, 0, sizeof(*e));
	e->gen = gen;
	memcpy(e->kid, k, kl);
	snprintf(e->time, sizeof(e->time), "%s", rec->time);
	snprintf(e->when, sizeof(e->when), "%s", when);
	e->at = at;
	e->seq = rec->seq;
	return 0;
}

/* "batch FILE sha256 H: this run ..." (issue's issue.done) of this
 * batch: the time of its last run when that run ended ok (issue finishes
 * a batch only in a run that ends ok), else 0 */
static void
done_time(struct rc_work *w, const char *d, const struct hk_audit_record *rec)
{
	const char *h;
	time_t at;

	if ((h = hk_logev_done_batch(d)) == NULL ||
	    strncmp(h, w->bf.sha, 64) != 0)
		return;
	if (strcmp(rec->result, "ok") != 0 || hk_time_parse(rec->time,
	    &at) != 0)
		at = 0;
	w->log_done_at = at;
}

static int
each_record(const struct hk_audit_record *rec, void *arg)
{
	struct rc_work *w = arg;
	char *d, want[80], bsha[17], when[24];
	const char *e, *t;
	int kind, r = 0, said;
	time_t at = 0;

	if (strcmp(rec->event, "issue.start") == 0)
		kind = 0;
	else if (strcmp(rec->event, "cert.reserve") == 0)
		kind = 1;
	else if (strcmp(rec->event, "cert.issue") == 0)
		kind = 4;
	else if (strcmp(rec->event, "cert.revoke") == 0)
		kind = 2;
	else if (strcmp(rec->event, "cert.expire") == 0)
		kind = 3;
	else if (strcmp(rec->event, "cert.revoke-all") == 0)
		kind = 5;
	else if (strcmp(rec->event, "issue.done") == 0)
		kind = 6;
	else
		return 0;
	if (strcmp(rec->result, "ok") != 0 && kind != 6)
		return 0;
	if ((d = hk_logev_details(rec)) == NULL)
		return HK_ERR_ALLOC;
	if (kind == 0) {
		snprintf(want, sizeof(want), " sha256 %s", w->bf.sha);
		if ((t = strstr(d, want)) != NULL) {
			if (!w->log_start) {
				w->log_start_seq = rec->seq;
				if (hk_time_parse(rec->time,
				    &w->log_start_at) != 0)
					w->log_start_at = 0;
			}
			w->log_start = 1;
			if (strncmp(t + strlen(want), " (--replace)", 12) == 0)
				w->log_replace = 1;
		}
		r = add_start(w, d, rec->seq);
		goto out;
	}
	if (kind == 5) {
		r = add_all(w, d, rec);
		goto out;
	}
	if (kind == 6) {
		done_time(w, d, rec);
		goto out;
	}
	if (kind == 2 && (r = add_revs(w, d, rec)) != 0)
		goto out;
	/* a serial's cert.reserve/cert.issue of any batch (another batch's
	 * is its refusal); the replacements of this batch only */
	if ((e = kind == 1 || kind == 4 ? entries_any(d, bsha) :
	    entries_of(w, d)) == NULL)
		goto out;
	/* a re-issue's revocations at the time its record says (issue
	 * writes "; revoked at T" since 2026-11-27), an expiry's at the
	 * record's */
	if (kind == 2 && said_at(d, rec, &at, when, &said) != 0)
		goto out;
	if (kind == 3 && hk_time_parse(rec->time, &at) != 0)
		goto out;
	while (*e != '\0' && r == 0) {
		size_t n = strcspn(e, " ");

		if (kind == 1 || kind == 4)
			r = add_line(w, e, n, bsha, rec->seq, kind == 4);
		else
			r = add_rep(w, e, n, kind == 3, at, rec->seq);
		e += n;
		e += *e == ' ';
	}
out:
	free(d);
	return r;
}

static int
el_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ev_line *)a)->serial,
	    ((const struct ev_line *)b)->serial);
}

static int
rv_cmp(const void *a, const void *b)
{
	const struct ev_rv *x = a, *y = b;
	int c = strcmp(x->serial, y->serial);

	return c != 0 ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
er_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ev_rep *)a)->neu,
	    ((const struct ev_rep *)b)->neu);
}

/*
 * The log's checkpoints checked with the token's audit key first: the
 * chain alone (hk_audit_scan) is rebuilt by anyone who can write the file,
 * records, hashes and head file alike; a signed checkpoint is not. What
 * follows the last checkpoint is vouched for by no signature: said on
 * stderr (after a crash the last batch's records may be there). Then the
 * closed logs it links back to (docs/audit-log.md "Retention"), each
 * verified with the same key and its link checked: after a yearly close
 * the records between the backup and the close are only there
 * (hk_logev_logs_open; one that fails is refused, exit 6, naming it).
 */
static int
log_keyed(struct rc_work *w)
{
	struct hk_audit_report rep;
	int r;

	if ((r = hk_online_audit_verify(w->on, &rep)) == HK_ERR_AUDIT) {
		hk_err_set("%s: the audit log fails verification with the "
		    "token's audit key (%s): it cannot be evidence; "
		    "docs/backup.md \"Restore\", step 6", w->on->audit_log,
		    rep.reason[0] ? rep.reason : hk_err_msg());
		return r;
	}
	if (r != 0)
		return r;
	if (rep.unsigned_records > 0)
		fprintf(stderr, "hanko-online recover: warning: %s: its last "
		    "%" PRIu64 " record%s follow%s its last signed checkpoint "
		    "(seq %" PRId64 "): no signature vouches for them\n",
		    w->on->audit_log, rep.unsigned_records,
		    rep.unsigned_records == 1 ? "" : "s",
		    rep.unsigned_records == 1 ? "s" : "", rep.last_checkpoint_seq);
	r = hk_online_logs_open(w->on, &rep, "hanko-online recover",
	    &w->logs);
	if (r == HK_ERR_AUDIT)
		hk_err_set("%s: it cannot be evidence; docs/backup.md "
		    "\"Restore\", step 6", hk_err_msg());
	return r;
}

/* r of a pass over the logs: a log that failed verification named. */
static int
log_failed(struct rc_work *w, int r)
{
	if (r == HK_ERR_AUDIT)
		hk_err_set("%s: the audit log fails verification (%s): it "
		    "cannot be evidence; docs/backup.md \"Restore\", step 6",
		    w->logs.failed != NULL ? w->logs.failed :
		    w->on->audit_log, hk_err_msg());
	return r;
}

/* A scan of the logs that failed: the log named. */
static int
log_scan(struct rc_work *w, int (*each)(const struct hk_audit_record *,
    void *))
{
	return log_failed(w, hk_logev_scan(&w->logs, each, w));
}

/*
 * Which serials of a cert.issue the live log shows committed and
 * delivered: the project's one rule (hk_logev_issued, as check's void
 * finding and revoke's pending refusal read it): its first cert.issue ok,
 * then an issue.done ok of its batch, or a cert.reserve ok of its batch
 * before that run ended (a run that failed later wrote it into
 * results.csv).
 */
static int
log_delivered(struct rc_work *w)
{
	size_t k;

	for (k = 0; k < w->nel; k++)
		if (w->el[k].issued && (w->niss == 0 ||
		    strcmp(w->iss[w->niss - 1].hex, w->el[k].serial) != 0)) {
			if (w->niss % 64 == 0) {
				struct hk_logev_issued *n = reallocarray(
				    w->iss, w->niss + 64, sizeof(*n));

				if (n == NULL)
					return HK_ERR_ALLOC;
				w->iss = n;
			}
			memset(&w->iss[w->niss], 0, sizeof(*w->iss));
			memcpy(w->iss[w->niss].hex, w->el[k].serial,
			    sizeof(w->iss[0].hex));
			w->niss++;
		}
	if (w->niss == 0)
		return 0;
	return log_failed(w, hk_logev_issued(&w->logs, w->iss, w->niss,
	    sizeof(*w->iss), NULL));
}

static int
log_read(struct rc_work *w)
{
	int r;

	if ((r = log_keyed(w)) != 0)
		return r;
	if ((r = log_scan(w, each_record)) != 0)
		return r;
	if (w->nel > 1)
		qsort(w->el, w->nel, sizeof(*w->el), el_cmp);
	if (w->ner > 1)
		qsort(w->er, w->ner, sizeof(*w->er), er_cmp);
	if (w->nrv > 1)
		qsort(w->rv, w->nrv, sizeof(*w->rv), rv_cmp);
	return log_delivered(w);
}

/* The earliest cert.revoke record of serial (hex), or NULL. */
static const struct ev_rv *
rv_first(const struct rc_work *w, const char *hex)
{
	size_t lo = 0, hi = w->nrv, m;

	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (strcmp(w->rv[m].serial, hex) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < w->nrv && strcmp(w->rv[lo].serial, hex) == 0 ?
	    &w->rv[lo] : NULL;
}

/* What the live log says of serial (hex) having been delivered
 * (log_delivered), or NULL: not delivered, or no cert.issue of it. */
static const struct hk_logev_issued *
delivered(const struct rc_work *w, const char *hex)
{
	size_t lo = 0, hi = w->niss, m;
	int c;

	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if ((c = strcmp(w->iss[m].hex, hex)) == 0)
			return w->iss[m].done != 0 ? &w->iss[m] : NULL;
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return NULL;
}

/* How it was delivered, for a message: "; the live log: cert.issue seq
 * N, then issue.done ok seq M ended that run" (or "cert.reserve seq M:
 * the run went on past its commit"), as check and revoke say it. */
static void
delivered_said(const struct rc_work *w, const struct hk_logev_issued *p,
    char *buf, size_t n)
{
	int res = strcmp(p->event, "cert.reserve") == 0;

	snprintf(buf, n, "cert.issue seq %s (batch %s), then %s seq %s%s",
	    AT(w, p->issued), p->batch, res ? "cert.reserve" :
	    "issue.done ok", AT(w, p->done), res ? ": the run went on past "
	    "its commit" : " ended that run");
}

/* The first evidence entry of serial (hex) and how many there are. */
static const struct ev_line *
el_find(const struct rc_work *w, const char *hex, size_t *n)
{
	size_t lo = 0, hi = w->nel, m;

	*n = 0;
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (strcmp(w->el[m].serial, hex) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	while (lo + *n < w->nel && strcmp(w->el[lo + *n].serial, hex) == 0)
		(*n)++;
	return *n > 0 ? &w->el[lo] : NULL;
}

static const struct ev_rep *
er_find(const struct rc_work *w, const char *neu, const char *old)
{
	size_t lo = 0, hi = w->ner, m;

	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (strcmp(w->er[m].neu, neu) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	for (; lo < w->ner && strcmp(w->er[lo].neu, neu) == 0; lo++)
		if (strcmp(w->er[lo].old, old) == 0)
			return &w->er[lo];
	return NULL;
}

/* ---- opening ------------------------------------------------------------ */

static int
parse(struct rc_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--batch", .value = &o->batch },
		{ .name = "--results", .value = &o->results },
		{ .name = "--chunk", .num = &o->chunk, .lo = 1, .hi = 4096 },
		{ .name = "--revocations", .flag = &o->revocations },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, recover_usage, args,
	    NULL)) != 0)
		return r;
	if (o->revocations) {
		if (o->batch != NULL || o->results != NULL || o->chunk != 0) {
			hk_err_set("--revocations takes no --batch, --results "
			    "or --chunk: it redoes the live log's revocations; "
			    "recover each batch first, on its own (see --help)");
			return HK_ERR_USAGE;
		}
		return 0;
	}
	if (o->batch == NULL || o->results == NULL) {
		hk_err_set("--state, --batch and --results are required, or "
		    "--state and --revocations (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->chunk == 0)
		o->chunk = RC_CHUNK_DEFAULT;
	return 0;
}

static int
batch_read(struct rc_work *w)
{
	int r;

	w->req.munis = w->munis;
	w->req.p = w->p;
	w->req.now = hk_clock_now();
	/* req.basedir points into w->bf, the run's own */
	if ((r = hk_batch_file_read(w->o->batch, RC_BATCH_MAX, &w->bf, &w->req)) != 0)
		return r;
	if ((w->jr = calloc(w->bf.nlines + 1, sizeof(*w->jr))) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

static int
is_request(const struct rc_work *w, uint64_t ln)
{
	return ln >= 2 && ln <= w->bf.nlines && w->bf.lens[ln - 1] > 0 &&
	    w->bf.content[w->bf.lines[ln - 1]] != '#';
}

/* The folder of results.csv was made for this batch (its batch.sha256),
 * or the audit log's issue.start names it: else nothing ties the two. */
static int
batch_tie(struct rc_work *w)
{
	char dir[4096], path[4200], line[80], *slash;
	unsigned char *m = NULL;
	size_t ml = 0;
	int r, marker = 0;

	snprintf(dir, sizeof(dir), "%s", w->o->results);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(path, sizeof(path), "%s/batch.sha256", dir);
	snprintf(line, sizeof(line), "%s\n", w->bf.sha);
	r = hk_file_read(path, 4096, &m, &ml);
	if (r == 0) {
		if (ml != strlen(line) || memcmp(m, line, ml) != 0) {
			free(m);
			hk_err_set("%s: names another batch than %s (sha256 "
			    "%s): these results are not of this batch", path,
			    w->o->batch, w->bf.sha);
			return HK_ERR_INVALID;
		}
		marker = 1;
		free(m);
	} else if (r != HK_ERR_NOT_FOUND)
		return r;
	if (!marker && !w->log_start) {
		hk_err_set("%s: neither %s nor the audit log's issue.start "
		    "names batch %s (sha256 %s): nothing shows these results "
		    "are of this batch", w->o->results, path, w->o->batch,
		    w->bf.sha);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* Upper-case hex of an even length (add_line's form) to bytes. */
static int
unhex(const char *h, unsigned char *b, size_t *n)
{
	size_t i, l = strlen(h);

	if (l % 2 != 0 || l / 2 > HK_STORE_SERIAL_MAX)
		return -1;
	for (i = 0; i < l; i++) {
		int v = h[i] >= 'A' ? h[i] - 'A' + 10 : h[i] - '0';

		if (i % 2 == 0)
			b[i / 2] = (unsigned char)(v << 4);
		else
			b[i / 2] |= (unsigned char)v;
	}
	*n = l / 2;
	return 0;
}

/*
 * Batches in the order they ran: another batch whose first issue.start is
 * before this batch's first (when the log has none of this batch's, it
 * says nothing of when this one ran: its lines are judged one by one) and
 * whose cert.issue certificates are not all in the store (none of its
 * rows, pending, or void though the logs show it delivered: see
 * log_delivered) must be recovered first. Else this batch's re-issue
 * of a resident that batch issued finds no certificate to replace: put
 * back without its revocation, and that batch's certificate refused for
 * good. A batch the restored store's journal has finished is wholly in
 * the store; one all of whose lines were refused has no cert.issue.
 * Nothing is changed on a refusal.
 */
static int
order_check(struct rc_work *w)
{
	struct hk_store_batch b;
	struct hk_store_cert c;
	unsigned char sb[HK_STORE_SERIAL_MAX];
	size_t i, k, sl, miss, nvoid;
	const struct hk_logev_issued *dv, *fvoid;
	const char *first, *last;
	char said[600], vs[1200];
	int r;

	if (!w->log_start)
		return 0;	/* when it ran: the log does not say */
	for (i = 0; i < w->nes; i++) {
		const struct ev_start *s = &w->es[i];

		if (s->seq >= w->log_start_seq)
			break;		/* in seq order: the rest ran after */
		if (strcmp(s->sha, w->bf.sha) == 0)
			continue;
		if ((r = hk_store_batch_find(w->store, s->sha, &b)) == 0 &&
		    b.finished_at != 0)
			continue;
		if (r != 0 && r != HK_ERR_NOT_FOUND)
			return r;
		hk_err_clear();
		miss = nvoid = 0;
		first = last = NULL;
		fvoid = NULL;
		/* el is in serial order: a serial's entries together */
		for (k = 0; k < w->nel; k++) {
			const struct ev_line *e = &w->el[k];

			if (!e->issued || strncmp(e->batch, s->sha, 16) != 0 ||
			    (last != NULL && strcmp(last, e->serial) == 0) ||
			    unhex(e->serial, sb, &sl) != 0)
				continue;
			last = e->serial;
			r = hk_store_cert_get(w->store, sb, sl, &c);
			/* void though delivered: voided after a restore
			 * (revoke --issuing-key-compromise before this
			 * recover), not in the store for good */
			dv = r == 0 && c.status == HK_CERT_VOID ?
			    delivered(w, e->serial) : NULL;
			if (r == 0 && c.status != HK_CERT_PENDING && dv == NULL)
				continue;
			if (r != 0 && r != HK_ERR_NOT_FOUND)
				return r;
			hk_err_clear();
			if (first == NULL)
				first = e->serial;
			if (dv != NULL && nvoid++ == 0)
				fvoid = dv;
			miss++;
		}
		if (miss == 0)
			continue;
		vs[0] = '\0';
		if (fvoid != NULL) {
			delivered_said(w, fvoid, said, sizeof(said));
			snprintf(vs, sizeof(vs), "; %zu of them void in it, "
			    "though the %s log shows %s delivered (serial %s: "
			    "%s): restore the state from the backup again, "
			    "recover the batches first, then redo the "
			    "revocations", nvoid, w->logs.n > 1 ? "audit" :
			    "live", nvoid == 1 ? "it" : "them", fvoid->hex,
			    said);
		}
		hk_err_set("%s: batch %s (sha256 %s), whose issue.start (seq "
		    "%s) is before this batch's (seq %s), has "
		    "%zu certificate%s (cert.issue) not in the store (serial "
		    "%s among them): recover it first; nothing changed "
		    "(docs/backup.md \"Restore\", step 9)%s", w->o->batch,
		    s->file, s->sha, AT(w, s->seq), AT(w, w->log_start_seq),
		    miss,
		    miss == 1 ? "" : "s", first, vs);
		return HK_ERR_INVALID;
	}
	return 0;
}

static int
each_jres(const struct hk_store_batch_result *res, void *arg)
{
	struct rc_work *w = arg;
	struct jres *j;

	if (res->line < 1 || res->line > w->bf.nlines)
		return 0;
	j = &w->jr[res->line];
	if (res->serial != NULL) {
		j->kind = 1;
		memcpy(j->serial, res->serial, res->serial_len);
		j->serial_len = res->serial_len;
	} else
		j->kind = 2;
	return 0;
}

static int
journal(struct rc_work *w)
{
	int r;

	if ((r = hk_store_batch_find(w->store, w->bf.sha, &w->b)) == 0) {
		w->known = 1;
		return hk_store_batch_each(w->store, w->b.id, each_jres, w);
	}
	if (r != HK_ERR_NOT_FOUND)
		return r;
	memset(&w->b, 0, sizeof(w->b));
	/* as issue names it: its mode is what a resumed run must keep */
	snprintf(w->b.name, sizeof(w->b.name), "issue%s %s",
	    w->log_replace ? " --replace" : "", w->o->batch);
	/* dated as issue dated it: its first issue.start in the live log */
	return hk_store_batch_add(w->store, w->bf.sha, w->b.name,
	    w->log_start_at != 0 ? w->log_start_at : hk_clock_now(), &w->b.id);
}

#define NOTE_FMT "hanko-online recover: note: token '%s': " \
	"issuing.%d.compromised (%s), but %s/state.conf lacks it (restored " \
	"from a backup taken before the compromise?): taken as marked (CPS " \
	"4-14-2): its certificates go back revoked per the audit log's " \
	"cert.revoke-all, never valid; once every batch is recovered, redo " \
	"the log's revocations, which marks generation %d again at the " \
	"cert.revoke-all's time: hanko-online recover --state %s " \
	"--revocations (docs/backup.md \"Restore\", step 9)\n"

static int
work_open(struct rc_work *w)
{
	const char *reh, *label;
	char path[4096], val[HK_P11_DATA_MAX];
	struct hk_state *st;
	int r, gen;

	/* --revocations marks a compromise in state.conf as revoke does:
	 * under state.conf's lock first, then the issuance lock */
	if ((r = hk_online_open(&w->o->c, &w->on)) != 0 ||
	    (w->o->revocations && (r = hk_online_state_lock_wait(w->on)) !=
	    0) || (r = hk_online_issue_lock(w->on, &w->lockfd)) != 0)
		return r;
	/* state.conf again under the lock (a compromise mark) */
	if ((r = hk_state_load(w->on->st->dir, &st)) != 0)
		return r;
	hk_state_free(w->on->st);
	w->on->st = st;
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
	/* the token's compromise marks, once, under the lock: one that the
	 * restored state.conf lacks (hk_online_mark_lost) is taken as
	 * state.conf's (revoked_all): recover signs nothing, its certificates
	 * go back revoked per the log's cert.revoke-all or not at all; the
	 * mark is made again once the batches are back (docs/backup.md
	 * "Restore", step 9: revoke refuses to void the backup's pending
	 * rows of certificates issued after it, pending_issued) */
	label = hk_state_get(w->on->st, "token.label");
	gen = 0;
	while ((r = hk_online_mark_lost(w->on, gen + 1, &gen, val,
	    sizeof(val))) == 1) {
		char *n;
		int l;

		if (gen >= 1 && gen <= HK_CERT_GEN_MAX)
			w->lost[gen] = 1;
		/* said once the run goes on (a refusal stays one line) */
		if ((l = snprintf(NULL, 0, NOTE_FMT, label != NULL ? label :
		    "?", gen, val, w->on->st->dir, gen, w->on->st->dir)) < 0 ||
		    (n = realloc(w->notes, w->notes_len + (size_t)l + 1)) ==
		    NULL)
			return HK_ERR_ALLOC;
		w->notes = n;
		snprintf(n + w->notes_len, (size_t)l + 1, NOTE_FMT, label !=
		    NULL ? label : "?", gen, val, w->on->st->dir, gen,
		    w->on->st->dir);
		w->notes_len += (size_t)l;
	}
	if (r < 0)
		return r;
	return hk_online_issuing_load(w->store, &w->cas);
}

static void
work_close(struct rc_work *w)
{
	size_t k;
	int i;

	for (i = 0; i < HK_ONLINE_ISSUING_MAX; i++)
		hk_cert_user_tmpl_free(w->tmpl[i]);
	hk_online_issuing_free(&w->cas);
	hk_secret_free(w->skey);
	hk_batch_file_free(&w->bf);
	free(w->jr);
	free(w->el);
	free(w->er);
	free(w->ea);
	free(w->rv);
	free(w->iss);
	hk_logev_logs_free(&w->logs);
	free(w->notes);
	for (k = 0; k < w->nes; k++)
		free(w->es[k].file);
	free(w->es);
	if (w->res != NULL)
		OPENSSL_cleanse(w->res, w->res_len);
	free(w->res);
	hk_munis_free(w->munis);
	hk_profile_free(w->p);
	hk_store_close(w->store);
	if (w->lockfd >= 0)
		close(w->lockfd);
	hk_online_close(w->on);
}

/* ---- one certificate ---------------------------------------------------- */

/* One "ok" line of results.csv on its way into the store. */
struct rc_item {
	uint64_t line;			/* the batch line (results.csv's) */
	size_t rline;			/* the line of results.csv */
	char hex[SERIAL_HEX];		/* results.csv's serial */
	unsigned char *der;		/* the decoded certificate */
	size_t der_len;
	X509 *x;
	struct hk_store_cert c;		/* its row */
	char why[RC_WHY_MAX];		/* "": put back or there */
	int there;			/* 1: already in the store */
	int complete;			/* 1: a pending row of it completed */
	/* what it replaced, for the record: its cert.revoke record is
	 * hk_logev_at's (a closed log's whole path) */
	char rep[HK_LOGEV_AT_MAX + 200];
	const struct ev_all *all;	/* put back revoked per this record */
	const struct ev_rv *first;	/* ... or per this earlier one */
};

static void
item_clear(struct rc_item *it)
{
	X509_free(it->x);
	free(it->der);
	OPENSSL_cleanse(it, sizeof(*it));
}

/* The TBSCertificate bytes inside a DER certificate. */
static int
tbs_span(const unsigned char *der, size_t len, const unsigned char **tbs,
    size_t *tl)
{
	const unsigned char *p = der, *q;
	long l;
	int tag, cls, ret;

	ret = ASN1_get_object(&p, &l, &tag, &cls, (long)len);
	if (ret & 0x80 || tag != V_ASN1_SEQUENCE)
		return -1;
	q = p;
	ret = ASN1_get_object(&p, &l, &tag, &cls, (long)(len - (size_t)(q -
	    der)));
	if (ret & 0x80 || tag != V_ASN1_SEQUENCE)
		return -1;
	*tbs = q;
	*tl = (size_t)(p - q) + (size_t)l;
	return 0;
}

/* The TBSCertificate issue builds from the batch line with ca (index ci)
 * for the certificate's serial and notBefore, compared with x's. 0 when
 * the same bytes; else why in it->why. */
static int
rebuild(struct rc_work *w, int ci, const struct hk_request *req,
    struct rc_item *it, time_t nb)
{
	const unsigned char *tbs;
	unsigned char *mine = NULL;
	X509_NAME *dn = NULL;
	X509_NAME_ENTRY *e;
	X509 *y = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	size_t tl;
	int r, idx, ml, type;
	EVP_PKEY *cpub = X509_get0_pubkey(w->cas.x[ci]);

	if (w->tmpl[ci] == NULL && (r = hk_cert_user_tmpl_new(w->p,
	    w->cas.x[ci], w->cas.gen[ci], w->rehearsal, &w->tmpl[ci])) != 0)
		return r;
	if ((r = hk_cert_build_user_tmpl(w->tmpl[ci], req->key,
	    req->muni->romaji, req->muni->code, &req->b4, nb, &y)) != 0) {
		snprintf(it->why, sizeof(it->why), "the certificate cannot be "
		    "built from line %" PRIu64 " again: %s", it->line,
		    hk_err_msg());
		r = 0;
		goto out;
	}
	/* its serial, and the subject's CN that names it (cert.c's
	 * user_subject: the serial in upper-case hex) */
	r = HK_ERR_CRYPTO;
	if (X509_set_serialNumber(y, X509_get_serialNumber(it->x)) != 1 ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(it->x),
	    NULL)) == NULL || (hex = BN_bn2hex(bn)) == NULL ||
	    (dn = X509_NAME_dup(X509_get_subject_name(y))) == NULL ||
	    (idx = X509_NAME_get_index_by_NID(dn, NID_commonName, -1)) < 0)
		goto out;
	e = X509_NAME_get_entry(dn, idx);
	type = ASN1_STRING_type(X509_NAME_ENTRY_get_data(e));
	X509_NAME_ENTRY_free(X509_NAME_delete_entry(dn, idx));
	if (X509_NAME_add_entry_by_NID(dn, NID_commonName, type,
	    (const unsigned char *)hex, -1, idx, 0) != 1 ||
	    X509_set_subject_name(y, dn) != 1)
		goto out;
	if ((r = hk_cert_set_sigalg(y, cpub, hk_cert_md(w->p, cpub))) != 0)
		goto out;
	if ((ml = i2d_re_X509_tbs(y, &mine)) <= 0) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	r = 0;
	if (tbs_span(it->der, it->der_len, &tbs, &tl) != 0 ||
	    tl != (size_t)ml || memcmp(tbs, mine, tl) != 0)
		snprintf(it->why, sizeof(it->why), "the certificate is not "
		    "the one issue builds from line %" PRIu64 " of %s (its "
		    "resident's key, municipality %s, basic 4 items, dates, "
		    "issuing CA %d): another certificate, or the profile or "
		    "municipalities.csv changed since", it->line, w->o->batch,
		    req->muni->code, w->cas.gen[ci]);
out:
	if (r == HK_ERR_CRYPTO)
		hk_err_set("recover: cannot rebuild the certificate");
	OPENSSL_free(mine);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_NAME_free(dn);
	X509_free(y);
	return r;
}

/*
 * An issuing key revoked as a set (CPS 4-4-1-3, 4-14-2): the earliest
 * cert.revoke-all record of the certificate's key id (its AKI, the stored
 * issuing CA's SKI) after the serial's first cert.issue record revoked it,
 * as it revoked every valid certificate of the key: it->all, the line put
 * back revoked with that record's reason and time. Else a key marked
 * compromised (state.conf, or the token's mark it lacks: w->lost) or
 * revoked as a set by a record that does not follow the serial's
 * cert.issue: when it was revoked is not known; refused (-1, it->why).
 * 0 for a key never revoked as a set.
 */
static int
revoked_all(struct rc_work *w, struct rc_item *it, int gen,
    const struct ev_line *ev, size_t nev)
{
	char kid[2 * HK_STORE_KEYID_MAX + 1], key[48], iss[600] = "";
	const struct ev_all *any = NULL;
	uint64_t first = 0;
	size_t k;

	hk_hex_encode(it->c.issuer, it->c.issuer_len, kid);
	for (k = 0; k < nev; k++)
		if (ev[k].issued && (first == 0 || ev[k].seq < first))
			first = ev[k].seq;
	for (k = 0; k < w->nea && it->all == NULL; k++) {
		if (strcmp(w->ea[k].kid, kid) != 0)
			continue;
		any = &w->ea[k];
		if (first != 0 && w->ea[k].seq > first)
			it->all = &w->ea[k];	/* seq order: the earliest */
	}
	if (it->all != NULL) {
		/* the set revoked the key's valid certificates: one revoked
		 * before it (a re-issue, revoke) keeps its own revocation,
		 * never a later one (RFC 5280 5.3.2) */
		const struct ev_rv *f = rv_first(w, it->hex);

		if (f != NULL && f->seq < it->all->seq)
			it->first = f;
		return 0;
	}
	snprintf(key, sizeof(key), "issuing.%d.compromised", gen);
	if (any == NULL && hk_state_get(w->on->st, key) == NULL &&
	    (gen < 1 || gen > HK_CERT_GEN_MAX || !w->lost[gen]))
		return 0;
	if (first != 0)
		snprintf(iss, sizeof(iss), " (record %s)", AT(w, first));
	snprintf(it->why, sizeof(it->why), "issuing key generation %d is "
	    "compromised (CPS 4-4-1-3): its certificates are revoked as a set, "
	    "and the audit log has no cert.revoke-all record of its key id %s "
	    "after this serial's cert.issue%s%s: its revocation time is not "
	    "known; not put back", gen, kid, iss, first == 0 ? " (the log has "
	    "no cert.issue record of this serial)" : "");
	return -1;
}

/* Decode, verify and rebuild one "ok" line; it->why says why not. A
 * non-zero return ends the run. */
static int
vet(struct rc_work *w, struct rc_item *it, const char *b64, size_t bl)
{
	const unsigned char *p;
	struct hk_request_ctx rc = w->req;
	struct hk_request req;
	const struct ev_line *ev;
	ASN1_OCTET_STRING *aki = NULL, *ski;
	unsigned char *der, *enc = NULL;
	size_t nev, k;
	time_t nb, na;
	int i, n, r = 0, found = 0, enl, gen = 0;
	char sh[SERIAL_HEX];

	memset(&req, 0, sizeof(req));
	/* the certificate: base64 of one DER certificate, nothing else */
	if (bl == 0 || bl % 4 != 0 || bl > INT_MAX ||
	    (der = malloc(bl / 4 * 3 + 1)) == NULL) {
		if (bl != 0 && bl % 4 == 0 && bl <= INT_MAX)
			return HK_ERR_ALLOC;
		snprintf(it->why, sizeof(it->why), "certificate: not base64 "
		    "of a DER certificate");
		return 0;
	}
	it->der = der;
	if ((n = EVP_DecodeBlock(der, (const unsigned char *)b64,
	    (int)bl)) < 0) {
		snprintf(it->why, sizeof(it->why), "certificate: not base64");
		return 0;
	}
	n -= (b64[bl - 1] == '=') + (b64[bl - 2] == '=');
	it->der_len = (size_t)n;
	p = der;
	if ((it->x = d2i_X509(NULL, &p, n)) == NULL || p != der + n ||
	    (enl = i2d_X509(it->x, &enc)) != n || memcmp(enc, der,
	    (size_t)n) != 0) {
		OPENSSL_free(enc);
		ERR_clear_error();
		snprintf(it->why, sizeof(it->why), "certificate: not one DER "
		    "X.509 certificate");
		return 0;
	}
	OPENSSL_free(enc);
	if ((r = hk_issue_serial(it->x, it->c.serial, &it->c.serial_len,
	    sh)) != 0) {
		snprintf(it->why, sizeof(it->why), "certificate: its "
		    "serialNumber is not a serial of this CA's");
		return 0;
	}
	if (strcmp(sh, it->hex) != 0) {
		snprintf(it->why, sizeof(it->why), "serial: %s, but the "
		    "certificate's serialNumber is %s", it->hex, sh);
		return 0;
	}
	/* its issuing CA: a stored one of its AKI whose key verifies it */
	if ((aki = hk_cert_aki_keyid(it->x)) == NULL ||
	    ASN1_STRING_length(aki) < 1 ||
	    ASN1_STRING_length(aki) > HK_STORE_KEYID_MAX) {
		ASN1_OCTET_STRING_free(aki);
		snprintf(it->why, sizeof(it->why), "certificate: no "
		    "authorityKeyIdentifier of an issuing CA (RFC 5280 "
		    "4.2.1.1)");
		return 0;
	}
	memcpy(it->c.issuer, ASN1_STRING_get0_data(aki),
	    (size_t)ASN1_STRING_length(aki));
	it->c.issuer_len = (size_t)ASN1_STRING_length(aki);
	ASN1_OCTET_STRING_free(aki);
	if (hk_cert_time(X509_get0_notBefore(it->x), &nb) != 0 ||
	    hk_cert_time(X509_get0_notAfter(it->x), &na) != 0) {
		snprintf(it->why, sizeof(it->why), "certificate: its validity "
		    "does not decode");
		return 0;
	}
	if (!is_request(w, it->line)) {
		snprintf(it->why, sizeof(it->why), "line %" PRIu64 " of %s is "
		    "no request line", it->line, w->o->batch);
		return 0;
	}
	/* the line as issue judged it, at the certificate's notBefore */
	rc.now = nb;
	if ((r = hk_request_parse_bytes(&rc, it->line, (const char *)
	    w->bf.content + w->bf.lines[it->line - 1], w->bf.lens[it->line - 1],
	    &req)) != 0) {
		if (r == HK_ERR_ALLOC)
			return r;
		snprintf(it->why, sizeof(it->why), "its batch line does not "
		    "pass the request rules: %s", hk_err_msg());
		return 0;
	}
	for (i = 0; i < w->cas.n && !found; i++) {
		if ((ski = hk_cert_ski(w->cas.x[i])) == NULL)
			continue;
		k = (size_t)ASN1_STRING_length(ski);
		n = k == it->c.issuer_len && memcmp(ASN1_STRING_get0_data(ski),
		    it->c.issuer, k) == 0;
		ASN1_OCTET_STRING_free(ski);
		if (!n)
			continue;
		if (X509_verify(it->x, X509_get0_pubkey(w->cas.x[i])) != 1) {
			ERR_clear_error();
			continue;
		}
		it->why[0] = '\0';
		if ((r = rebuild(w, i, &req, it, nb)) != 0)
			goto out;
		/* else another certificate of the same key may be it */
		found = it->why[0] == '\0';
		gen = w->cas.gen[i];
	}
	if (!found) {
		if (it->why[0] == '\0')
			snprintf(it->why, sizeof(it->why), "certificate: its "
			    "signature does not verify with a stored issuing "
			    "CA certificate of its authorityKeyIdentifier");
		goto out;
	}
	/* the audit log's records of the serial name this batch's line */
	ev = el_find(w, it->hex, &nev);
	for (k = 0; k < nev; k++)
		if (strncmp(ev[k].batch, w->bf.sha, 16) != 0) {
			snprintf(it->why, sizeof(it->why), "the audit log's "
			    "record %s names serial %s for line %"
			    PRIu64 ", municipality %s of batch %s, not of batch "
			    "%.16s (%s): not its batch file", AT(w, ev[k].seq),
			    it->hex, ev[k].line, ev[k].muni, ev[k].batch,
			    w->bf.sha, w->o->batch);
			goto out;
		} else if (ev[k].line != it->line ||
		    strcmp(ev[k].muni, req.muni->code) != 0) {
			snprintf(it->why, sizeof(it->why), "the audit log's "
			    "record %s names serial %s for line %"
			    PRIu64 ", municipality %s of this batch, not line %"
			    PRIu64 ", municipality %s", AT(w, ev[k].seq), it->hex,
			    ev[k].line, ev[k].muni, it->line, req.muni->code);
			goto out;
		}
	if (nev == 0 && w->log_start) {
		snprintf(it->why, sizeof(it->why), "the audit log names this "
		    "batch (issue.start) but no cert.reserve or cert.issue "
		    "record of serial %s", it->hex);
		goto out;
	}
	if (revoked_all(w, it, gen, ev, nev) != 0)
		goto out;
	snprintf(it->c.municipality, sizeof(it->c.municipality), "%s",
	    req.muni->code);
	if ((r = hk_store_resident_key(w->skey, req.resident_id,
	    it->c.resident_key)) != 0)
		goto out;
	it->c.status = HK_CERT_PENDING;
	it->c.not_before = nb;
	it->c.not_after = na;
	if (tbs_span(it->der, it->der_len, &it->c.tbs, &it->c.tbs_len) != 0)
		snprintf(it->why, sizeof(it->why), "certificate: no "
		    "TBSCertificate");
out:
	hk_request_clear(&req);
	OPENSSL_cleanse(&req, sizeof(req));
	return r;
}

/* A certificate just completed, of a key revoked as a set: revoked as
 * the cert.revoke-all record did, or as its own earlier cert.revoke
 * record did, in the same transaction (never valid once committed). */
static int
revoke_all_one(struct rc_work *w, struct rc_item *it)
{
	unsigned char *entry = NULL;
	size_t el = 0;
	int r, reason;
	time_t at;

	if (it->all == NULL)
		return 0;
	reason = it->first != NULL ? it->first->reason :
	    HK_REASON_CA_COMPROMISE;
	at = it->first != NULL ? it->first->at : it->all->at;
	if ((r = hk_store_revoke_entry(it->c.serial, it->c.serial_len,
	    reason, at, &entry, &el)) == 0)
		r = hk_store_cert_revoke(w->store, it->c.serial,
		    it->c.serial_len, reason, at, entry, el);
	OPENSSL_free(entry);
	return r;
}

/* No live certificate of the resident: the one this batch's cert.revoke
 * record names as replaced by this serial may be in the store revoked
 * already with that record's reason and time (its own batch's recover
 * put it back so, its key revoked as a set since): the replacement is
 * done; said in it->rep, as when it is made here. */
static int
replaced_already(struct rc_work *w, struct rc_item *it)
{
	struct hk_store_cert oc;
	unsigned char os[HK_STORE_SERIAL_MAX];
	size_t lo = 0, hi = w->ner, m, osl;
	int r;

	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (strcmp(w->er[m].neu, it->hex) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	for (; lo < w->ner && strcmp(w->er[lo].neu, it->hex) == 0; lo++) {
		const struct ev_rep *ev = &w->er[lo];

		if (ev->reason == 0 || unhex(ev->old, os, &osl) != 0)
			continue;
		if ((r = hk_store_cert_get(w->store, os, osl, &oc)) ==
		    HK_ERR_NOT_FOUND) {
			hk_err_clear();
			continue;
		}
		if (r != 0)
			return r;
		if (oc.status != HK_CERT_REVOKED || oc.reason != ev->reason ||
		    oc.revoked_at != ev->at || memcmp(oc.resident_key,
		    it->c.resident_key, HK_STORE_RKEY_LEN) != 0)
			continue;
		snprintf(it->rep, sizeof(it->rep), "; it replaced serial %s, "
		    "revoked reason %d as cert.revoke record %s says "
		    "(so in the store already)", ev->old, ev->reason,
		    AT(w, ev->seq));
		break;
	}
	return 0;
}

/* Inside the chunk's transaction: put it back (or find it there), or
 * it->why. A non-zero return ends the run (the chunk rolled back). */
static int
place(struct rc_work *w, struct rc_item *it)
{
	struct hk_store_replace old, *op = NULL;
	struct hk_store_cert have;
	unsigned char *sder = NULL, *stbs = NULL, ls[HK_STORE_SERIAL_MAX];
	unsigned char *ldr = NULL, *entry = NULL;
	size_t sdl = 0, stl = 0, lsl = 0, ldl = 0, el = 0;
	enum hk_cert_status lst;
	const struct ev_rep *ev;
	struct jres *j = &w->jr[it->line];
	char lhex[SERIAL_HEX];
	time_t lna;
	int r;

	r = hk_store_cert_get(w->store, it->c.serial, it->c.serial_len, &have);
	if (r == 0) {
		if ((r = hk_store_cert_der(w->store, it->c.serial,
		    it->c.serial_len, &sder, &sdl, &stbs, &stl)) != 0)
			goto out;
		if ((have.status == HK_CERT_VALID ||
		    have.status == HK_CERT_REVOKED) && sdl == it->der_len &&
		    memcmp(sder, it->der, sdl) == 0)
			it->there = 1;
		else if (have.status == HK_CERT_PENDING && stl ==
		    it->c.tbs_len && memcmp(stbs, it->c.tbs, stl) == 0 &&
		    memcmp(have.resident_key, it->c.resident_key,
		    HK_STORE_RKEY_LEN) == 0) {
			/* reserved before the backup, signed after it: the
			 * signature issue's recovery would make again */
			if ((r = hk_store_cert_complete(w->store,
			    it->c.serial, it->c.serial_len, it->der,
			    it->der_len)) != 0 || (r = revoke_all_one(w,
			    it)) != 0)
				goto out;
			it->complete = 1;
		} else if (have.status == HK_CERT_VOID && stl ==
		    it->c.tbs_len && memcmp(stbs, it->c.tbs, stl) == 0 &&
		    memcmp(have.resident_key, it->c.resident_key,
		    HK_STORE_RKEY_LEN) == 0) {
			/* the same reservation: pending in the backup, signed
			 * after it, voided since (revoke
			 * --issuing-key-compromise before this recover) */
			const struct hk_logev_issued *dv = delivered(w,
			    it->hex);
			char said[700] = "", ds[600];

			if (dv != NULL) {
				delivered_said(w, dv, ds, sizeof(ds));
				snprintf(said, sizeof(said), " (the %s: %s)",
				    w->logs.n > 1 ? "audit log" : "live log",
				    ds);
			}
			snprintf(it->why, sizeof(it->why), "serial %s is void "
			    "in the store with this certificate's "
			    "TBSCertificate: reserved in the backup, signed and "
			    "delivered after it%s, then voided in the restored "
			    "store "
			    "(revoke --issuing-key-compromise run before this "
			    "recover?); a void row never changes, so this "
			    "certificate is on no CRL: nothing changed; restore "
			    "the state from the backup again, recover the "
			    "batches first, then redo the revocations "
			    "(docs/backup.md \"Restore\", step 9)", it->hex,
			    said);
		} else
			snprintf(it->why, sizeof(it->why), "INCIDENT: serial "
			    "%s is in the store (%s) with another "
			    "certificate: nothing changed; hand both to the "
			    "internal auditor", it->hex,
			    hk_cert_status_name(have.status));
		goto out;
	}
	if (r != HK_ERR_NOT_FOUND)
		goto out;
	r = 0;
	hk_err_clear();
	if (j->kind != 0) {
		char jh[SERIAL_HEX] = "";

		if (j->kind == 1)
			hk_issue_hex(j->serial, j->serial_len, jh);
		snprintf(it->why, sizeof(it->why), "the store's journal has "
		    "line %" PRIu64 " of this batch as %s%s, not serial %s",
		    it->line, j->kind == 1 ? "serial " : "refused", jh,
		    it->hex);
		goto out;
	}
	r = hk_store_batch_live(w->store, it->c.resident_key, ls, &lsl, &lst,
	    &lna, &ldr, &ldl);
	if (r != 0 && r != HK_ERR_NOT_FOUND)
		goto out;
	if (r == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		if ((r = replaced_already(w, it)) != 0)
			goto out;
		r = HK_ERR_NOT_FOUND;
	}
	if (r == 0) {
		hk_issue_hex(ls, lsl, lhex);
		if (lst != HK_CERT_VALID) {
			snprintf(it->why, sizeof(it->why), "the resident's "
			    "certificate serial %s is pending in the store: "
			    "run hanko-online issue on its batch first, then "
			    "this again", lhex);
			goto out;
		}
		if ((ev = er_find(w, it->hex, lhex)) == NULL) {
			snprintf(it->why, sizeof(it->why), "CPS 4-2-3: the "
			    "resident has a valid certificate in the store "
			    "(serial %s) and the audit log has no cert.revoke "
			    "or cert.expire record of this batch naming it "
			    "replaced by serial %s: not guessed; if it was "
			    "revoked after the backup, redo that at its "
			    "record's time (hanko-online recover "
			    "--revocations, docs/backup.md, \"Restore\") "
			    "and run this again", lhex, it->hex);
			goto out;
		}
		memset(&old, 0, sizeof(old));
		old.serial = ls;
		old.serial_len = lsl;
		old.reason = ev->reason;
		old.at = ev->at;
		if (ev->reason != 0) {
			if ((r = hk_store_revoke_entry(ls, lsl, ev->reason,
			    ev->at, &entry, &el)) != 0)
				goto out;
			old.entry = entry;
			old.entry_len = el;
			snprintf(it->rep, sizeof(it->rep), "; it replaced "
			    "serial %s, revoked reason %d as cert.revoke "
			    "record %s says", lhex, ev->reason,
			    AT(w, ev->seq));
		} else
			snprintf(it->rep, sizeof(it->rep), "; it replaced "
			    "serial %s, expired (cert.expire record %s)",
			    lhex, AT(w, ev->seq));
		op = &old;
	}
	r = hk_store_batch_reserve(w->store, w->b.id, it->line, &it->c, op);
	if (r == HK_ERR_INVALID || r == HK_ERR_EXISTS) {
		snprintf(it->why, sizeof(it->why), "refused by the store: %s",
		    hk_err_msg());
		r = 0;
		goto out;
	}
	if (r != 0 || (r = hk_store_cert_complete(w->store, it->c.serial,
	    it->c.serial_len, it->der, it->der_len)) != 0 ||
	    (r = revoke_all_one(w, it)) != 0)
		goto out;
	j->kind = 1;
	memcpy(j->serial, it->c.serial, it->c.serial_len);
	j->serial_len = it->c.serial_len;
out:
	OPENSSL_free(entry);
	free(ldr);
	free(sder);
	free(stbs);
	return r;
}

/* ---- the run ------------------------------------------------------------- */

static void
refusal(struct rc_work *w, const struct rc_item *it)
{
	w->n_refused++;
	fprintf(stderr, "%s:%zu: line %" PRIu64 ", serial %s: %s\n",
	    w->o->results, it->rline, it->line, it->hex[0] ? it->hex : "?",
	    it->why);
	(void)hk_online_audit(w->on, "cert.recover", "fail", "%s:%zu: batch "
	    "%s line %" PRIu64 ", serial %s: not put back: %s", w->o->results,
	    it->rline, w->bf.sha, it->line, it->hex[0] ? it->hex : "?", it->why);
}

/* "; revoked ...": how a certificate of a key revoked as a set went in. */
static void
all_note(const struct rc_work *w, const struct rc_item *it, char *buf,
    size_t len)
{
	if (it->all == NULL)
		snprintf(buf, len, "%s", "");
	else if (it->first != NULL)
		snprintf(buf, len, "; revoked reason %d (%s) at %s per "
		    "cert.revoke seq %s, before cert.revoke-all seq %s "
		    "(issuing generation %d key id %s, CPS 4-4-1-3) "
		    "revoked the key's valid certificates: never valid",
		    it->first->reason, hk_revreq_reason_name(it->first->reason),
		    it->first->when, AT(w, it->first->seq), AT(w, it->all->seq),
		    it->all->gen,
		    it->all->kid);
	else
		snprintf(buf, len, "; revoked reason 2 (ca-compromise) at %s "
		    "per cert.revoke-all seq %s (issuing generation "
		    "%d key id %s, CPS 4-4-1-3): never valid", it->all->when,
		    AT(w, it->all->seq), it->all->gen, it->all->kid);
}

/* One chunk: audited, then committed (a crash in between: the next run
 * finds them missing and puts them back again). */
static int
chunk_run(struct rc_work *w, struct rc_item *its, size_t n)
{
	char allw[2 * HK_LOGEV_AT_MAX + 400];	/* two records named */
	size_t i;
	int r;

	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (its[i].why[0] != '\0')
			continue;
		if ((r = place(w, &its[i])) != 0) {
			hk_store_rollback(w->store);
			return r;
		}
	}
	for (i = 0; i < n && r == 0; i++) {
		struct rc_item *it = &its[i];

		if (it->why[0] != '\0' || it->there)
			continue;
		all_note(w, it, allw, sizeof(allw));
		r = hk_online_audit(w->on, "cert.recover", "ok", "serial %s: "
		    "municipality %s: batch %s line %" PRIu64 " (%s:%zu): "
		    "put back after a restore%s, its signature verified and "
		    "its TBSCertificate the one the line builds%s%s", it->hex,
		    it->c.municipality, w->bf.sha, it->line, w->o->results,
		    it->rline, it->complete ? " (reserved in the backup, "
		    "signed after it)" : "", it->rep, allw);
	}
	if (r != 0 || (r = hk_store_commit(w->store)) != 0) {
		hk_store_rollback(w->store);
		return r;
	}
	for (i = 0; i < n; i++) {
		struct rc_item *it = &its[i];

		if (it->why[0] != '\0')
			refusal(w, it);
		else if (it->there) {
			w->n_there++;
			printf("%s:%zu: serial %s: already in the store, "
			    "unchanged\n", w->o->results, it->rline, it->hex);
		} else {
			w->n_put++;
			all_note(w, it, allw, sizeof(allw));
			printf("%s:%zu: serial %s: put back (line %" PRIu64
			    ", municipality %s)%s%s\n", w->o->results, it->rline,
			    it->hex, it->line, it->c.municipality, it->rep,
			    allw);
		}
	}
	return 0;
}

/* A "refused" line of results.csv whose line has no result in the
 * journal: recorded as it was, so that a resumed issue keeps it. */
static int
note_refused(struct rc_work *w, uint64_t ln, const char *reason, size_t rl)
{
	char buf[HK_ISSUE_REASON_MAX];
	int r;

	if (!is_request(w, ln) || w->jr[ln].kind != 0)
		return 0;
	snprintf(buf, sizeof(buf), "%.*s", (int)(rl < sizeof(buf) - 1 ? rl :
	    sizeof(buf) - 1), reason);
	if ((r = hk_store_batch_refuse(w->store, w->b.id, ln, buf)) != 0)
		return r;
	w->jr[ln].kind = 2;
	w->n_noted++;
	return 0;
}

static int
results_run(struct rc_work *w)
{
	static const char head[] = "line,result,serial_or_reason,certificate";
	struct rc_item *its = NULL;
	size_t cap = (size_t)w->o->chunk, n = 0, pos = 0, rline = 0, i;
	int r = 0;

	if ((r = hk_file_read(w->o->results, RC_RESULTS_MAX, &w->res,
	    &w->res_len)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("%s: cannot open the results",
			    w->o->results);
		return r;
	}
	if (w->res_len == 0) {
		/* cut short to nothing: no header, not "no certificates" */
		hk_err_set("%s:1: header: not \"%s\" (docs/requests.md)",
		    w->o->results, head);
		return HK_ERR_PARSE;
	}
	if ((its = calloc(cap, sizeof(*its))) == NULL)
		return HK_ERR_ALLOC;
	while (pos < w->res_len && r == 0) {
		const char *l = (const char *)w->res + pos, *c1, *c2, *c3;
		const unsigned char *nl = memchr(w->res + pos, '\n',
		    w->res_len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - (w->res + pos)) :
		    w->res_len - pos;
		uint64_t ln = 0;
		int noted;

		pos += ll + 1;
		rline++;
		if (rline == 1) {
			if (ll != sizeof(head) - 1 || memcmp(l, head, ll) !=
			    0) {
				hk_err_set("%s:1: header: not \"%s\" "
				    "(docs/requests.md)", w->o->results, head);
				r = HK_ERR_PARSE;
			}
			continue;
		}
		if (ll == 0)
			continue;
		/* "N,unprocessed" (a line no run reached) has no third
		 * field; every other result has */
		if (memchr(l, '\0', ll) != NULL ||
		    (c1 = memchr(l, ',', ll)) == NULL ||
		    ((c2 = memchr(c1 + 1, ',', ll - (size_t)(c1 + 1 - l))) ==
		    NULL && !(ll - (size_t)(c1 + 1 - l) == 11 &&
		    memcmp(c1 + 1, "unprocessed", 11) == 0))) {
			hk_err_set("%s:%zu: not \"line,result,...\" "
			    "(docs/requests.md)", w->o->results, rline);
			r = HK_ERR_PARSE;
			break;
		}
		/* the line as issue writes it (%PRIu64 of a line of this
		 * batch file): a plain decimal, no sign, blank or leading
		 * zero (strtoull took "+2", " 2" and "02" as line 2, and
		 * "-4" wrapped); else not issue's form, as a bad result */
		if (hk_dec_parse(l, (size_t)(c1 - l), 19, &ln) != 0) {
			hk_err_set("%s:%zu: line: not a plain decimal (digits "
			    "only: no sign, blank or leading zero), as issue "
			    "writes it (docs/requests.md)", w->o->results,
			    rline);
			r = HK_ERR_PARSE;
			break;
		}
		if (ln < 2 || ln > w->bf.nlines) {
			hk_err_set("%s:%zu: line: %" PRIu64 " is not a line of "
			    "%s after its header (2 to %zu), as issue "
			    "writes it (docs/requests.md)", w->o->results,
			    rline, ln, w->o->batch, w->bf.nlines);
			r = HK_ERR_PARSE;
			break;
		}
		if (c2 == NULL) {
			printf("%s:%zu: line %" PRIu64 ": unprocessed when the "
			    "results were written (no run had reached it): no "
			    "certificate to put back\n", w->o->results, rline,
			    ln);
			continue;
		}
		if (c2 - c1 - 1 == 7 && memcmp(c1 + 1, "refused", 7) == 0) {
			r = note_refused(w, ln, c2 + 1, ll - (size_t)(c2 + 1 -
			    l));
			continue;
		}
		if (c2 - c1 - 1 == 7 && memcmp(c1 + 1, "pending", 7) == 0) {
			printf("%s:%zu: line %" PRIu64 ": pending when the "
			    "results were written: no certificate to put "
			    "back\n", w->o->results, rline, ln);
			continue;
		}
		/* "revoked", "expired" and "compromised" (issued, then
		 * revoked, past its notAfter, or of an issuing key marked
		 * compromised when the results were written) carry the
		 * certificate as "ok" does, then a note: put back as issued
		 * (the revocation is the audit log's, redone by recover
		 * --revocations, or already in the store) */
		noted = (c2 - c1 - 1 == 7 && (memcmp(c1 + 1, "revoked", 7) ==
		    0 || memcmp(c1 + 1, "expired", 7) == 0)) ||
		    (c2 - c1 - 1 == 11 && memcmp(c1 + 1, "compromised", 11) ==
		    0);
		if (!(c2 - c1 - 1 == 2 && memcmp(c1 + 1, "ok", 2) == 0) &&
		    !noted) {
			hk_err_set("%s:%zu: result: not ok, revoked, expired, "
			    "compromised, refused, pending or unprocessed",
			    w->o->results, rline);
			r = HK_ERR_PARSE;
			break;
		}
		w->n_ok++;
		{
			struct rc_item *it = &its[n++];
			const char *end = l + ll, *c4;
			size_t hl;

			memset(it, 0, sizeof(*it));
			it->line = ln;
			it->rline = rline;
			c3 = memchr(c2 + 1, ',', ll - (size_t)(c2 + 1 - l));
			hl = c3 != NULL ? (size_t)(c3 - c2 - 1) : 0;
			/* the certificate ends at the note's comma */
			if (noted && c3 != NULL && (c4 = memchr(c3 + 1, ',',
			    (size_t)(end - c3 - 1))) != NULL)
				end = c4;
			if (c3 == NULL || !hk_logev_serial_ok(c2 + 1, hl))
				snprintf(it->why, sizeof(it->why), "serial: "
				    "not upper-case hex of 1 to 20 bytes, "
				    "then the certificate");
			else {
				memcpy(it->hex, c2 + 1, hl);
				if (noted && end == l + ll)
					snprintf(it->why, sizeof(it->why),
					    "not line,%.*s,serial,certificate,"
					    "note, as issue writes it "
					    "(docs/requests.md)", (int)(c2 - c1 -
					    1), c1 + 1);
				else
					r = vet(w, it, c3 + 1, (size_t)(end -
					    c3 - 1));
			}
		}
		if (r == 0 && n == cap) {
			r = chunk_run(w, its, n);
			for (i = 0; i < n; i++)
				item_clear(&its[i]);
			n = 0;
		}
	}
	if (r == 0 && n > 0)
		r = chunk_run(w, its, n);
	for (i = 0; i < n; i++)
		item_clear(&its[i]);
	free(its);
	return r;
}

static int
batch_done(struct rc_work *w)
{
	struct hk_store_cert c;
	size_t ln;
	int r;

	if (w->b.finished_at != 0)
		return 0;
	for (ln = 2; ln <= w->bf.nlines; ln++)
		if (is_request(w, ln) && w->jr[ln].kind == 0)
			return 0;
	/* finished: every line has a result and none is pending (as issue
	 * has it, docs/store.md); a row the backup holds pending and
	 * results.csv does not complete is left to the next issue */
	for (ln = 2; ln <= w->bf.nlines; ln++) {
		if (w->jr[ln].kind != 1)
			continue;
		r = hk_store_cert_get(w->store, w->jr[ln].serial,
		    w->jr[ln].serial_len, &c);
		if (r == 0 && c.status == HK_CERT_PENDING)
			return 0;
		if (r != 0 && r != HK_ERR_NOT_FOUND)
			return r;
		hk_err_clear();
	}
	/* as issue finished it: at its last issue.done ok in the live log */
	return hk_store_batch_finish(w->store, w->b.id, w->log_done_at != 0 ?
	    w->log_done_at : hk_clock_now());
}

/* ---- --revocations: the audit log's revocations redone --------------- */

/* The records of the logs (the closed logs the live log links back to,
 * then it) recover --revocations needs, in their order:
 * cert.revoke and cert.revoke-all (not the redone ones: REDONE), and for
 * the certificates a cert.revoke-all revoked as a set, cert.issue and
 * issue.start (the generation). */
static int
each_rev_record(const struct hk_audit_record *rec, void *arg)
{
	struct rc_work *w = arg;
	const char *e;
	char *d, bsha[17];
	int kind, r = 0;

	if (strcmp(rec->result, "ok") != 0)
		return 0;
	if (strcmp(rec->event, "cert.revoke") == 0)
		kind = 0;
	else if (strcmp(rec->event, "cert.revoke-all") == 0)
		kind = 1;
	else if (strcmp(rec->event, "cert.issue") == 0)
		kind = 2;
	else if (strcmp(rec->event, "issue.start") == 0)
		kind = 3;
	else
		return 0;
	if ((d = hk_logev_details(rec)) == NULL)
		return HK_ERR_ALLOC;
	if (kind <= 1 && strstr(d, REDONE) != NULL)
		goto out;
	if (kind == 0)
		r = add_revs(w, d, rec);
	else if (kind == 1)
		r = add_all(w, d, rec);
	else if (kind == 3)
		r = add_start(w, d, rec->seq);
	else if ((e = entries_any(d, bsha)) != NULL)
		while (*e != '\0' && r == 0) {
			size_t n = strcspn(e, " ");

			r = add_line(w, e, n, bsha, rec->seq, 1);
			e += n;
			e += *e == ' ';
		}
out:
	free(d);
	return r;
}

/* A record not redone: one line on stderr, audited; the run goes on. */
static void
rv_refuse(struct rc_work *w, const char *why)
{
	w->n_refused++;
	fprintf(stderr, "hanko-online recover: %s\n", why);
	(void)hk_online_audit(w->on, "cert.revoke", "fail", "recover "
	    "--revocations: %s", why);
}

/* A cert.revoke record's revocation of one serial, at its time. */
static int
redo_rv(struct rc_work *w, const struct ev_rv *e)
{
	struct hk_store_cert c;
	unsigned char s[HK_STORE_SERIAL_MAX], *entry = NULL;
	char why[RC_WHY_MAX], at[32];
	const char *rn = hk_revreq_reason_name(e->reason);
	size_t sl, el = 0;
	int r;

	if (unhex(e->serial, s, &sl) != 0)
		return 0;	/* no row has it: issue writes whole bytes */
	if ((r = hk_store_cert_get(w->store, s, sl, &c)) != 0 &&
	    r != HK_ERR_NOT_FOUND)
		return r;
	hk_err_clear();
	if (r == HK_ERR_NOT_FOUND || c.status == HK_CERT_PENDING) {
		snprintf(why, sizeof(why), "serial %s: the audit log's "
		    "cert.revoke seq %s (%s) revoked it reason %d (%s), "
		    "but it is %s: recover its batch first (hanko-online "
		    "recover --batch FILE --results FILE, docs/backup.md "
		    "\"Restore\", step 9), then this again", e->serial,
		    AT(w, e->seq),
		    e->time, e->reason, rn, r == HK_ERR_NOT_FOUND ? "not in the "
		    "store (issued after the backup)" : "pending in the store "
		    "(reserved in the backup, signed after it)");
		rv_refuse(w, why);
		return 0;
	}
	if (c.status == HK_CERT_VOID) {
		snprintf(why, sizeof(why), "serial %s (municipality %s): the "
		    "audit log's cert.revoke seq %s (%s) revoked it "
		    "reason %d (%s), but it is void in the store (a void row "
		    "never changes: on no CRL): restore the state from the "
		    "backup again, recover the batches first, then this "
		    "(docs/backup.md \"Restore\", step 9)", e->serial,
		    c.municipality, AT(w, e->seq), e->time, e->reason, rn);
		rv_refuse(w, why);
		return 0;
	}
	if (c.status == HK_CERT_REVOKED) {
		/* the same revocation: at the time the record says, or,
		 * a record that says none, at or before its own time (read
		 * after the revocation's: a second or more later in a slow
		 * run); a later one is a redo by hand, noted */
		if (c.reason == e->reason && (c.revoked_at == e->at ||
		    (!e->said && c.revoked_at <= e->at))) {
			w->n_same++;
			return 0;
		}
		/* as check says it: revoked, a revocation is final */
		hk_time_format(c.revoked_at, at, sizeof(at));
		printf("note: serial %s (municipality %s): revoked reason %d "
		    "(%s) at %s in the store; the audit log's cert.revoke seq "
		    "%s (%s) says reason %d (%s); a revocation is final: "
		    "not changed\n", e->serial, c.municipality, c.reason,
		    hk_revreq_reason_name(c.reason), at, AT(w, e->seq), e->time,
		    e->reason, rn);
		w->n_notes++;
		return 0;
	}
	/* valid: revoked with the record's reason and time (RFC 5280
	 * 5.3.2), its CRL entry made, audited, then committed (a crash in
	 * between: the next run finds it valid and redoes it) */
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	w->tx = 1;
	if ((r = hk_store_revoke_entry(s, sl, e->reason, e->at, &entry,
	    &el)) != 0 || (r = hk_store_cert_revoke(w->store, s, sl,
	    e->reason, e->at, entry, el)) != 0)
		goto out;
	if ((r = hk_online_audit(w->on, "cert.revoke", "ok", "serial %s: "
	    "municipality %s, reason %d (%s): revoked at %s, " REDONE "%s's "
	    "record seq %" PRIu64 " after a restore (docs/backup.md "
	    "\"Restore\", step 9)", e->serial, c.municipality, e->reason, rn,
	    e->when, hk_logev_name(&w->logs, e->seq),
	    hk_logev_seq_in(&w->logs, e->seq))) != 0 ||
	    (r = hk_store_commit(w->store)) != 0)
		goto out;
	w->tx = 0;
	w->n_redone++;
	printf("serial %s (municipality %s): revoked reason %d (%s) at %s, "
	    "as the %s's cert.revoke seq %" PRIu64 " says\n", e->serial,
	    c.municipality, e->reason, rn, e->when, hk_logev_name(&w->logs,
	    e->seq), hk_logev_seq_in(&w->logs, e->seq));
out:
	OPENSSL_free(entry);
	return r;
}

/* The generation of batch (sha16)'s first issue.start, or -1; *last
 * caches the last one found (a batch's cert.issue records are together). */
static int
gen_of(const struct rc_work *w, const char *batch, const struct ev_start **last)
{
	size_t i;

	if (*last != NULL && strncmp((*last)->sha, batch, 16) == 0)
		return (*last)->gen;
	for (i = 0; i < w->nes; i++)
		if (strncmp(w->es[i].sha, batch, 16) == 0) {
			*last = &w->es[i];
			return w->es[i].gen;
		}
	return -1;
}

/* A serial's own cert.revoke record before seq (w->rv in seq order). */
static int
revoked_before(const struct rc_work *w, const char *hex, uint64_t seq)
{
	size_t i;

	for (i = 0; i < w->nrv && w->rv[i].seq < seq; i++)
		if (strcmp(w->rv[i].serial, hex) == 0)
			return 1;
	return 0;
}

/* The certificates a cert.issue record before a's names under its
 * generation (its batch's issue.start) that the store lacks: the set
 * revoked them, the record names none; recover puts them back revoked.
 * One revoked before the set by its own record is that record's. */
static int
all_missing(struct rc_work *w, const struct ev_all *a)
{
	const struct ev_start *last = NULL;
	struct hk_store_cert c;
	unsigned char s[HK_STORE_SERIAL_MAX];
	char why[RC_WHY_MAX];
	const char *first = NULL;
	size_t k, sl, miss = 0;
	int r;

	for (k = 0; k < w->nel && w->el[k].seq < a->seq; k++) {
		const struct ev_line *e = &w->el[k];

		if (gen_of(w, e->batch, &last) != a->gen ||
		    unhex(e->serial, s, &sl) != 0)
			continue;
		if ((r = hk_store_cert_get(w->store, s, sl, &c)) == 0)
			continue;	/* in the store: pending_issued's */
		if (r != HK_ERR_NOT_FOUND)
			return r;
		hk_err_clear();
		if (revoked_before(w, e->serial, a->seq))
			continue;
		if (first == NULL)
			first = e->serial;
		miss++;
	}
	if (miss == 0)
		return 0;
	snprintf(why, sizeof(why), "issuing generation %d (key id %s): the "
	    "audit log's cert.revoke-all seq %s (%s) revoked every "
	    "certificate of the key reason 2 (ca-compromise), but %zu it "
	    "records as issued before (cert.issue) %s not in the store "
	    "(serial %s among them): recover their batches first "
	    "(hanko-online recover --batch FILE --results FILE puts them back "
	    "revoked, docs/backup.md \"Restore\", step 9), then this again",
	    a->gen, a->kid, AT(w, a->seq), a->time, miss, miss == 1 ? "is" :
	    "are",
	    first);
	rv_refuse(w, why);
	return 0;
}

/* A cert.revoke-all record's revocations, at its time: the marks first,
 * then the key's valid certificates (hk_online_revoke_all_at). */
static int
redo_all(struct rc_work *w, const struct ev_all *a)
{
	struct hk_online_revoked_all ra;
	char why[RC_WHY_MAX];
	int r;

	r = hk_online_revoke_all_at(w->on, w->store, a->gen, a->kid, a->at,
	    &ra);
	if (r == HK_ERR_NOT_FOUND || r == HK_ERR_INVALID || r ==
	    HK_ERR_STATE) {
		/* the marks go first (CPS 4-14-2: issuance stops, even
		 * when the revocations wait for recover): said, not "nothing
		 * changed" */
		snprintf(why, sizeof(why), "issuing generation %d (key id %s): "
		    "the audit log's cert.revoke-all seq %s (%s): %s%s%s%s",
		    a->gen, a->kid, AT(w, a->seq), a->time, hk_err_msg(),
		    ra.token_made || ra.conf_made ? "; but marked compromised "
		    "at the record's time (issuance stops) in " : "",
		    ra.token_made ? ra.conf_made ? "the token and state.conf" :
		    "the token" : "", !ra.token_made && ra.conf_made ?
		    "state.conf" : "");
		hk_err_clear();
		rv_refuse(w, why);
		return all_missing(w, a);
	}
	if (r != 0)
		return r;
	w->tx = 1;
	if (ra.revoked == 0 && ra.voided == 0 && !ra.token_made &&
	    !ra.conf_made) {
		hk_store_rollback(w->store);	/* nothing changed */
		w->tx = 0;
		w->n_same++;
		return all_missing(w, a);
	}
	if ((r = hk_online_audit(w->on, "cert.revoke-all", "ok", "issuing "
	    "generation %d key id %s: CPS 4-4-1-3: %" PRIu64 " certificates "
	    "revoked reason 2 (ca-compromise) at %s, %" PRIu64 " pending "
	    "voided; marked compromised (token%s, state.conf%s): " REDONE "%s's "
	    "record seq %" PRIu64 " after a restore (docs/backup.md "
	    "\"Restore\", step 9)", a->gen, a->kid, ra.revoked, a->when,
	    ra.voided, ra.token_made ? " now" : " already", ra.conf_made ?
	    " now" : " already", hk_logev_name(&w->logs, a->seq),
	    hk_logev_seq_in(&w->logs, a->seq))) != 0 ||
	    (r = hk_store_commit(w->store)) != 0)
		return r;
	w->tx = 0;
	w->n_redone++;
	printf("issuing generation %d (key id %s): %" PRIu64 " certificates "
	    "revoked reason 2 (ca-compromise) at %s, %" PRIu64 " pending "
	    "voided, as the %s's cert.revoke-all seq %" PRIu64 " says; "
	    "marked compromised in the token%s and in state.conf%s\n", a->gen,
	    a->kid, ra.revoked, a->when, ra.voided, hk_logev_name(&w->logs,
	    a->seq), hk_logev_seq_in(&w->logs, a->seq), ra.token_made ?
	    "" : " (kept)", ra.conf_made ? "" : " (kept)");
	return all_missing(w, a);
}

/* Every record, in the log's order (w->rv and w->ea each in seq order; a
 * re-issue's several revocations share its seq). */
static int
revocations_run(struct rc_work *w)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r == 0 && (i < w->nrv || j < w->nea)) {
		if (j >= w->nea || (i < w->nrv && w->rv[i].seq < w->ea[j].seq))
			r = redo_rv(w, &w->rv[i++]);
		else
			r = redo_all(w, &w->ea[j++]);
	}
	if (w->tx) {
		hk_store_rollback(w->store);
		w->tx = 0;
	}
	return r;
}

static int
cmd_revocations(struct rc_work *w)
{
	int r, started = 0;

	if ((r = work_open(w)) != 0 || (r = log_keyed(w)) != 0)
		goto out;
	if ((r = log_scan(w, each_rev_record)) != 0)
		goto out;
	w->n_recs = w->nrv + w->nea;
	if ((r = hk_online_audit(w->on, "recover.start", "ok", "revocations: "
	    "the %s's %zu cert.revoke and cert.revoke-all revocations "
	    "the store lacks redone with their records' reasons and times "
	    "(docs/backup.md \"Restore\", step 9)", logs_said(w),
	    w->n_recs)) != 0)
		goto out;
	started = 1;
	r = revocations_run(w);
out:
	if (started) {
		struct hk_err_kept keep;

		hk_err_keep(&keep);
		(void)hk_online_audit(w->on, "recover.done", r == 0 &&
		    w->n_refused == 0 ? "ok" : "fail", "revocations: %zu "
		    "redone, %zu already in the store, %zu noted, %zu refused of "
		    "%zu", w->n_redone, w->n_same, w->n_notes, w->n_refused,
		    w->n_recs);
		hk_err_restore(&keep);
		if (r == 0)
			r = hk_online_checkpoint(w->on);
		else
			hk_online_checkpoint_keep_err(w->on);
	}
	if (r == 0) {
		printf("Revocations of the %s: %zu redone at their "
		    "records' times, %zu already in the store, %zu noted, %zu "
		    "refused of %zu\n", logs_said(w), w->n_redone, w->n_same,
		    w->n_notes,
		    w->n_refused, w->n_recs);
		if (w->n_refused > 0) {
			hk_err_set("%zu of %zu revocations refused (above): the "
			    "store lacks them; recover the batches first, then "
			    "this again", w->n_refused, w->n_recs);
			r = HK_ERR_INVALID;
		} else if (w->n_redone > 0)
			printf("Next: hanko-online check (docs/backup.md "
			    "\"Restore\", step 8: clean now), then "
			    "ocsp-refresh and publish --now (step 10)\n");
	}
	work_close(w);
	return r;
}

int
cmd_recover(int argc, char **argv)
{
	struct rc_opts o;
	struct rc_work w;
	int r, started = 0;

	memset(&w, 0, sizeof(w));
	w.lockfd = -1;
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;	/* docs/clock.md */
	w.o = &o;
	if (o.revocations)
		return cmd_revocations(&w);
	if ((r = work_open(&w)) != 0 || (r = batch_read(&w)) != 0 ||
	    (r = log_read(&w)) != 0 || (r = batch_tie(&w)) != 0 ||
	    (r = order_check(&w)) != 0)
		goto out;
	if (w.notes != NULL)
		fputs(w.notes, stderr);
	if ((r = hk_online_audit(w.on, "recover.start", "ok", "batch %s "
	    "sha256 %s, results %s: the certificates issued after the last "
	    "backup put back (docs/backup.md)", o.batch, w.bf.sha,
	    o.results)) != 0)
		goto out;
	started = 1;
	if ((r = journal(&w)) != 0 || (r = results_run(&w)) != 0 ||
	    (r = batch_done(&w)) != 0)
		goto out;
 out:
	if (started) {
		struct hk_err_kept keep;

		hk_err_keep(&keep);
		(void)hk_online_audit(w.on, "recover.done", r == 0 &&
		    w.n_refused == 0 ? "ok" : "fail", "batch %s sha256 %s: %zu "
		    "put back, %zu already there, %zu refused of %zu issued",
		    o.batch, w.bf.sha, w.n_put, w.n_there, w.n_refused, w.n_ok);
		hk_err_restore(&keep);
		if (r == 0)
			r = hk_online_checkpoint(w.on);
		else
			hk_online_checkpoint_keep_err(w.on);
	}
	if (r == 0) {
		printf("%s: %zu put back, %zu already in the store, %zu "
		    "refused of %zu issued\n", o.results, w.n_put, w.n_there,
		    w.n_refused, w.n_ok);
		if (w.n_refused > 0) {
			hk_err_set("%s: %zu of %zu certificates refused (above)",
			    o.results, w.n_refused, w.n_ok);
			r = HK_ERR_INVALID;
		}
	}
	work_close(&w);
	return r;
}
