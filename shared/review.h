/*
 * review.h - the internal auditor's weekly review of an audit log (CPS
 * 4-11-1, 4-11-3, 4-11-7; docs/audit-log.md "Weekly review"), for both
 * programs' `audit review`: the log verified as audit verify does, then,
 * from the same one pass, a plain-text review of a period to be read
 * against the work records (業務実施記録): the period, the counts per event
 * and result and per actor, every record whose result is not ok, the
 * events the auditor always reads, the gaps in the CPS cadence, the
 * operations outside a working window, and a last line with the SHA-256
 * of the text above it. Read-only: it appends nothing to the log.
 */
#ifndef HK_REVIEW_H
#define HK_REVIEW_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

#define HK_REVIEW_LINES_MAX	200	/* lines of one list before "... N more" */
#define HK_REVIEW_BACKUP_MAX	(26 * 3600)	/* CPS 4-11-6: daily, + 2 h */

struct hk_review_opts {
	const char *program;	/* "hanko-online" or "hanko-offline" */
	int online;		/* 1: the publisher's cadence (publication,
				 * backup.create); 0: the offline CA's
				 * (log.backup after the work of a day) */
	const char *since;	/* --since T, or NULL */
	const char *from_seq;	/* --from-seq N, or NULL */
	const char *until;	/* --until T, or NULL */
	const char *hours;	/* --hours HH:MM-HH:MM (JST), or NULL */
	const char *routine;	/* --routine-actors IDS, or NULL */
	/* parsed by hk_review_check */
	time_t since_t, until_t;
	int has_since, has_until;
	uint64_t from;
	int has_from;
	int h_from, h_to;	/* minutes after midnight JST */
};

/*
 * One of review's own options at argv[*i] (--since, --from-seq, --until,
 * --hours, --routine-actors): 1 when it was one (its value taken, *r 0 or
 * HK_ERR_USAGE when the value is missing or the option was given before,
 * each once only), 0 when not.
 */
int hk_review_opt(struct hk_review_opts *o, int argc, char **argv, int *i,
    int *r);

/* The values' rules, one line naming the option (HK_ERR_USAGE). */
int hk_review_check(struct hk_review_opts *o);

/*
 * The review of the log at log (its checkpoints checked with pub; prev:
 * --previous, the closed log before it, or NULL) on out. now: the end of
 * the period when --until is not given, or (time_t)-1 for the time of the
 * log's last record (a copy). The log that does not verify is refused as
 * audit verify refuses it (its error, nothing printed). 0 when nothing
 * needs the auditor's attention, HK_ERR_WARNING (exit 9) when something
 * listed does.
 */
int hk_review_run(const char *log, EVP_PKEY *pub, const char *prev,
    const struct hk_review_opts *o, time_t now, FILE *out);

#endif
