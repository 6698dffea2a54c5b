/*
 * logev.h - the audit log read as evidence by the restore tooling (check,
 * recover, revoke; docs/backup.md "Restore", docs/audit-log.md): the live
 * log and the closed logs it links back to, one sequence of records.
 *
 * Pure parsers of the details of ok records as issue and revoke write them,
 * and one scan. What each reads, from which record:
 *
 *   hk_logev_details     any record: its details, NUL-terminated.
 *   hk_logev_serial_ok   a serial as issue and revoke write it in details:
 *                        1 to 2 * HK_STORE_SERIAL_MAX uppercase hex digits.
 *   hk_logev_done_batch  issue.done "batch FILE sha256 H: this run ...":
 *                        H (64 lowercase hex digits just before ": this
 *                        run"; FILE may hold anything).
 *   hk_logev_revoke_serial cert.revoke "serial S: municipality M, reason R
 *                        (NAME)..." (revoke, check): S, M, R.
 *   hk_logev_revoke_all  cert.revoke-all "issuing generation G key id K:
 *                        ..." (revoke --issuing-key-compromise): G, K.
 *   hk_logev_revoked_at  cert.revoke and cert.revoke-all "...; revoked at
 *                        T" (revoke, check, issue --replace): T, a time
 *                        as hanko writes it (YYYY-MM-DDTHH:MM:SSZ).
 *   hk_logev_start_sha   issue.start "batch FILE sha256 H[ (--replace)]:
 *                        ..., issuing CA generation G": the last " sha256 "
 *                        followed by 64 lowercase hex digits and ":" or
 *                        " (--replace):"; hk_logev_start_gen its G.
 *   hk_logev_issued      cert.issue "batch B, serial/municipality/line
 *                        (N): S/M/L ...", cert.reserve "batch B, ...",
 *                        issue.start and issue.done (above): for each
 *                        serial asked, its first cert.issue, then a later
 *                        issue.done ok of that batch, or a cert.reserve
 *                        ok of it before that run ended (below).
 *
 * Nothing here decides: what a command prints, refuses or counts stays in
 * the command.
 */
#ifndef HANKO_ONLINE_LOGEV_H
#define HANKO_ONLINE_LOGEV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audit.h"
#include "store.h"

/* rec's details as a NUL-terminated malloc'd string; NULL: out of memory. */
char *hk_logev_details(const struct hk_audit_record *rec);

/* 1 if s[0..n) is a serial as issue and revoke write it, else 0. */
int hk_logev_serial_ok(const char *s, size_t n);

/* issue.done's details d: its batch's SHA-256 (64 lowercase hex digits,
 * not NUL-terminated, its first 16 the sha16 cert.issue names) within d,
 * or NULL (not issue's form). */
const char *hk_logev_done_batch(const char *d);

/* cert.revoke's "serial S: municipality M, reason R (NAME)..." (revoke,
 * check): 1 with S (a serial, hk_logev_serial_ok), M (up to the first
 * ", reason " after it, not NUL-terminated) and R (1 to 5); 0 when d is
 * not of that form (issue --replace's "batch B, ..." is not). */
int hk_logev_revoke_serial(const char *d, const char **s, size_t *sl,
    const char **m, size_t *ml, int *reason);

/* cert.revoke-all's "issuing generation G key id K: ..." (revoke
 * --issuing-key-compromise): 1 with G (0 to 999, a plain decimal: no
 * sign, blank or leading zero) and K (2 to 2 * HK_STORE_KEYID_MAX
 * lowercase hex digits, not NUL-terminated); else 0. */
int hk_logev_revoke_all(const char *d, int *gen, const char **kid,
    size_t *kl);

/* The T of the first "; revoked at T" in d: 1 with *at and when (T,
 * NUL-terminated) when T is a real UTC time written as hk_time_format
 * writes it (20 characters, no blank or sign in a number: what revoke,
 * check and issue write); 0 when d says no such time. */
int hk_logev_revoked_at(const char *d, time_t *at, char when[21]);

/* issue.start's "batch FILE sha256 H[ (--replace)]: ..." (cmd_issue.c):
 * where the last " sha256 " followed by H (64 lowercase hex digits) and
 * ":" or " (--replace):" begins within d (H at +8; FILE may hold
 * anything), or NULL. */
const char *hk_logev_start_sha(const char *d);

/* The G of that record's ", issuing CA generation G" (digits to its
 * end: a plain decimal, no sign, blank or leading zero) after sha
 * (hk_logev_start_sha's), or -1: not said or not a number (the caller
 * says which G it takes). */
long hk_logev_start_gen(const char *sha);

/* One serial asked of hk_logev_issued: the first member of the caller's
 * element (hex filled in; the rest zero before the scan). Delivered (done
 * set): after its first cert.issue ok, either an issue.done ok of its
 * batch, or a cert.reserve ok of its batch before the run ended (its
 * batch's next issue.done, any result, or issue.start): issue reserves
 * the next chunk only once the chunk it finished committed, so the run
 * went on past this certificate's commit (a run that failed later wrote
 * it into results.csv, then issue.done fail). A later cert.issue is no
 * such sign (one chunk's list may take several records); a crash (no end
 * but the next issue.start) leaves it undelivered. */
struct hk_logev_issued {
	char hex[2 * HK_STORE_SERIAL_MAX + 1];	/* uppercase */
	char batch[17];		/* sha16 of its first cert.issue ok */
	uint64_t issued;	/* that record's place (hk_logev_scan), or 0 */
	uint64_t done;		/* the record saying it was delivered, or 0 */
	char event[16];		/* its event: "issue.done" (ok; that run's
				 * own when it has one) or "cert.reserve" (ok,
				 * the same run, which then ended otherwise) */
	int ended;		/* the scan's: that run ended since */
};

/*
 * The audit logs read as one sequence of records (docs/backup.md
 * "Restore", step 9): the closed logs the live log links back to
 * (audit/closed/, docs/audit-log.md "Retention"), oldest first, then the
 * live log. After a yearly close the records between a backup and the
 * close are only in the closed log. Seqs restart in each log: a record's
 * place here is one number, its log's base plus its seq, in the records'
 * order across the logs (an issue run may have records on both sides of a
 * close: its appends wait for the close's lock, then go to the new log).
 * Place 0 is the oldest log's audit.create, never evidence: 0 stays "none".
 */
struct hk_logev_log {
	char *path;			/* the closed log's file, or the live log */
	uint64_t base;			/* the place of its record 0 */
};
struct hk_logev_logs {
	struct hk_logev_log *log;	/* oldest first; the live log last */
	size_t n;
	struct hk_audit_gone gone;	/* a closed log no longer kept (after
					 * its year) ended the walk; log_id ""
					 * when none */
	const char *failed;		/* after a scan that failed: the log */
};

/*
 * The logs behind the live log at live, rep its hk_audit_verify report:
 * hk_audit_walk_closed with pub (NULL: the chain and head only, as the
 * live log was read), each closed log checked with its link. A closed log
 * that fails or is missing within its year: HK_ERR_AUDIT (or what reading
 * it gave) with hk_audit_walk_closed's detail naming it; one no longer kept
 * after its year is in L->gone, and when prog is not NULL said on stderr
 * as a note. hk_logev_logs_free after, on every path.
 */
int hk_logev_logs_open(struct hk_logev_logs *L, const char *live,
    const struct hk_audit_report *rep, EVP_PKEY *pub, const char *prog);
void hk_logev_logs_free(struct hk_logev_logs *L);

/* Each log in turn, oldest first (hk_audit_scan: the chain checked, no
 * signatures), every record handed to each() with its place in seq. A log
 * that fails: its hk_audit_scan result, L->failed its path. */
int hk_logev_scan(struct hk_logev_logs *L,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg);

/* The closed log holding place at (its path), or NULL: the live log. */
const char *hk_logev_closed_of(const struct hk_logev_logs *L, uint64_t at);

/* The seq within its log of the record at place at. */
uint64_t hk_logev_seq_in(const struct hk_logev_logs *L, uint64_t at);

/* For a message, the record at place at: "N" (its seq) in the live log,
 * "N of the closed log PATH" in a closed one (hk_logev_at); its log:
 * "live log" or "closed log PATH" (hk_logev_name). Each string stays
 * valid until 8 more are asked (one message's worth). */
#define HK_LOGEV_AT_MAX	4200	/* bytes of one such string, NUL included */
const char *hk_logev_at(const struct hk_logev_logs *L, uint64_t at);
const char *hk_logev_name(const struct hk_logev_logs *L, uint64_t at);

/*
 * Scan the logs (hk_logev_scan) for the n elements at base, stride bytes
 * apart, each beginning with a struct hk_logev_issued, sorted by hex
 * (strcmp); their issued and done are places. *ndone (NULL: not wanted):
 * how many got a done. Returns hk_logev_scan's result.
 */
int hk_logev_issued(struct hk_logev_logs *L, void *base, size_t n,
    size_t stride, size_t *ndone);

#endif
