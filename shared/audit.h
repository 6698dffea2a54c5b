/*
 * audit.h - the tamper-evident audit log (CPS 4-11-2, 4-11-5).
 *
 * One record per line, chained by SHA-256, with checkpoints signed by a CA
 * key and a head file "<log>.head" naming the last record, so that edits,
 * removals, insertions, reordering and truncation are all found by
 * hk_audit_verify. The exact format is in docs/audit-log.md.
 *
 * Appends hold an exclusive flock(2) on the log; verify holds a shared one.
 * Only this module writes the log: a line it cannot parse is tampering.
 * All failures leave a one-line detail (file:line: record N: rule) with
 * hk_err_set().
 */
#ifndef HK_AUDIT_H
#define HK_AUDIT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

#include "err.h"

#define HK_AUDIT_DETAILS_MAX	8192	/* bytes of details before escaping */
#define HK_AUDIT_ACTORS_MAX	1024	/* bytes of the actors field */
#define HK_AUDIT_LINE_MAX	40960	/* bytes of one line, '\n' included */

/* Events only this module writes; hk_audit_append refuses them. */
#define HK_AUDIT_EV_CREATE	"audit.create"
#define HK_AUDIT_EV_CHECKPOINT	"audit.checkpoint"
#define HK_AUDIT_EV_MISMATCH	"audit.head-mismatch"
#define HK_AUDIT_EV_CLOSE	"audit.close"	/* the last record but its checkpoint */
#define HK_AUDIT_EV_LINK	"audit.link"	/* record 1 of a log begun by a close */

struct hk_audit_report {
	char log_id[33];		/* hex log id of the genesis record; "" if unread */
	char first_time[21];		/* the genesis record's time: when the log
					 * began; "" if unread */
	uint64_t records;		/* records that passed (all of them when ok) */
	uint64_t checkpoints;		/* checkpoint records among them */
	int64_t last_checkpoint_seq;	/* seq of the last checkpoint, -1 when none */
	uint64_t unsigned_records;	/* records after the last checkpoint (all when none) */
	uint64_t time_backsteps;	/* records older than the one before (not an error) */
	uint64_t head_mismatches;	/* audit.head-mismatch records (an error) */
	int signatures_checked;		/* 1 when a public key was given */
	int head_lag;			/* 1 when the head file is one record behind
					 * (crash between append and head write; not an error) */
	uint64_t bad_line;		/* line of the first failure; 0 when none or
					 * when the failure is in the head file */
	int64_t bad_seq;		/* record (position) of the first failure, -1 when none */
	/* the first failure as hk_err_msg(), "" when ok: as long as it, so
	 * that a log's path deep in the file system (a closed log's, named
	 * again by whoever reads it) never cuts off the rule after it */
	char reason[HK_ERR_DETAIL_MAX];
	char last_hash[65];		/* hash of the last record that passed (hex);
					 * "" when none did */
	/* the yearly close (docs/audit-log.md "Retention") */
	int64_t close_seq;		/* seq of the audit.close record, -1 none */
	int sealed;			/* 1: the checkpoint after it is there */
	char close_time[21];		/* its time, "" when none */
	int linked;			/* 1: record 1 is an audit.link */
	char prev_log_id[33];		/* the closed log it names */
	uint64_t prev_seq;		/* that log's last seq */
	char prev_hash[65];		/* and its last record's hash */
	char link_time[21];		/* the audit.link record's time */
};

/*
 * Create a new log holding only its genesis record (seq 0, event
 * audit.create, a random 128-bit log id), and its head file. Refuses an
 * existing path with HK_ERR_EXISTS. Not to be run while others append.
 */
/* The SHA-256 of k's public key (its DER SubjectPublicKeyInfo), as the
 * checkpoints name the key that signs them and the ceremony record keeps
 * it (docs/audit-log.md); in lower-case hex (64 digits and a NUL). */
int hk_audit_key_sha256(EVP_PKEY *k, unsigned char out[32]);
int hk_audit_key_sha256_hex(EVP_PKEY *k, char out[65]);

int hk_audit_create(const char *path);

/*
 * Append one record. event: [a-z0-9][a-z0-9._-]{0,63}, not audit.*;
 * result: [a-z][a-z0-9_-]{0,31} ("ok", "fail", ...); actors: "-" or
 * comma-separated ids [A-Za-z0-9][A-Za-z0-9._@-]{0,63}, NULL means "-";
 * details: any text up to HK_AUDIT_DETAILS_MAX bytes (escaped on write),
 * NULL means "". Time is hk_clock_now(). If the head file does not match the
 * log's last record, an audit.head-mismatch record describing both is
 * written first (and verify will fail), then this record. On failure the
 * log and head file are as they were (what was added is cut off again).
 */
int hk_audit_append(const char *path, const char *event, const char *result,
    const char *actors, const char *details);

/* 1 if actors is "-" or ids [A-Za-z0-9][A-Za-z0-9._@-]{0,63} joined by ','
 * (at most HK_AUDIT_ACTORS_MAX bytes), as hk_audit_append takes them. */
int hk_audit_actors_ok(const char *actors);

/*
 * A note (docs/audit-log.md "Notes"; CPS 4-11-2: 入退室記録): what happened
 * outside the programs, entered into the chained log by `audit note` of
 * either program: people entering or leaving the CA's room, a medium
 * taken in or out, anything else the auditor should read beside the
 * records (note). 0, or HK_ERR_USAGE naming the option and its rule: an
 * event of the list, actors ids (not "-"), text 1 to HK_AUDIT_NOTE_MAX
 * bytes of UTF-8 without control or direction characters.
 */
#define HK_AUDIT_NOTE_EVENTS \
	"room.enter", "room.leave", "media.in", "media.out", "note"
#define HK_AUDIT_NOTE_EVENTS_TEXT \
	"room.enter, room.leave, media.in, media.out, note"
#define HK_AUDIT_NOTE_MAX	1024
int hk_audit_note_check(const char *event, const char *actors,
    const char *text);

/*
 * Verify the whole chain, then append a checkpoint record signed by key
 * (RSA PKCS#1 v1.5 or ECDSA, SHA-256, EVP_DigestSign only, so a PKCS#11
 * key works) over the log id, the seq and hash of the record before it and
 * the checkpoint's time. The signature is checked with the same key before
 * it is written. key_label: [A-Za-z0-9._:@-]{1,64}, shown in the record.
 * Refuses (HK_ERR_AUDIT) to sign a chain that does not verify.
 */
int hk_audit_checkpoint(const char *path, EVP_PKEY *key, const char *key_label);

/* The audit key's public half from a PEM file (at most 16 KiB, read
 * bounded): 0 with *out, or the file's error / HK_ERR_PARSE ("not a PEM
 * public key"), named. The one loader of audit verify and backup verify. */
int hk_audit_pub_load(const char *path, EVP_PKEY **out);
/* audit verify's line for the live log at path (rep: hk_audit_verify's of
 * it): "<path>: OK: <records, checkpoints, ...>" when the closed logs before
 * it verified too (previous_ok), else "<path>: FAILS: the closed log before
 * it does not verify (below); the live log's own chain: <the same>": a
 * run that exits 6 does not say OK of the log it was asked about. */
void hk_audit_report_live(const char *path,
    const struct hk_audit_report *rep, int previous_ok, FILE *out);
/* audit verify's report after hk_audit_verify of the log at path passed
 * (both programs): hk_audit_check_reopened (a failure: nothing printed),
 * then hk_audit_check_previous, its lines printed after the live log's
 * (hk_audit_report_live, OK only when it returned 0) and the notes.
 * Returns hk_audit_check_previous's result. */
int hk_audit_report_verified(const char *path,
    const struct hk_audit_report *rep, const char *prev, EVP_PKEY *pub,
    FILE *out);
/* The lines audit verify prints under its OK for what verification accepts
 * but the auditor explains (docs/audit-log.md): records older than the one
 * before them, a head file one record behind. */
void hk_audit_report_notes(const struct hk_audit_report *rep, FILE *out);

/*
 * Whether the log at copy (a backup's) is where the log at log begins,
 * byte for byte (both verified by the caller: every line ends in '\n',
 * line n is record n - 1): 0 and *differs 0 when it is; else *differs 1
 * with *record the first record of copy that differs (*missing 0) or that
 * log lacks (*missing 1). HK_ERR_IO (named) when either cannot be read.
 */
int hk_audit_prefix(const char *copy, const char *log, int *differs,
    uint64_t *record, int *missing);

/*
 * Check every rule of docs/audit-log.md; with pub, also every checkpoint
 * signature (pub NULL: chain and head only). 0 when clean; HK_ERR_AUDIT on
 * any change, removal, insertion, reordering or truncation, naming the first
 * bad record; HK_ERR_NOT_FOUND / HK_ERR_IO when the log cannot be read.
 * rep may be NULL; it is always filled when given.
 */
int hk_audit_verify(const char *path, EVP_PKEY *pub,
    struct hk_audit_report *rep);

/*
 * A copy of the log at path and of its head file, to and "<to>.head", taken
 * under the log's shared lock: no append is under way meanwhile, so the
 * copy holds no part of a record and its head file is the one of the log
 * copied. New files (HK_ERR_EXISTS when either is there), mode 0600, each
 * fsynced with its folder; on failure neither is left (not even one whose
 * folder fsync failed after its rename). The genesis and the last record
 * are checked as an append checks them; the whole copy is for the caller
 * to check (hk_audit_verify on it). out: what was copied.
 */
struct hk_audit_copy {
	char log_id[33];		/* hex log id */
	uint64_t last_seq;		/* seq of the last record copied */
	char last_hash[65];		/* its hash (hex) */
	uint64_t log_size;		/* bytes of the log copied */
	unsigned char log_sha256[32];	/* SHA-256 of them */
	uint64_t head_size;		/* bytes of the head file copied */
	unsigned char head_sha256[32];	/* SHA-256 of them */
};
int hk_audit_copy(const char *path, const char *to, struct hk_audit_copy *out);

/*
 * The yearly close (CPS 4-11-4; docs/audit-log.md "Retention"). Under the
 * log's exclusive lock (appends wait; afterwards they go to the new log):
 * verify the chain, append audit.close (actors: NULL means "-") and a
 * checkpoint signed by key; build the new log "<path>.next" (audit.create,
 * audit.link naming this log's id, last seq and last hash, a checkpoint);
 * hard-link the log and its head file into "<dir>/closed/audit-<id>-
 * <YYYYMMDD of the close>.log" (+ ".head"), mode 0400, the folder fsynced;
 * then rename the new log, then its head file, over the live ones. key
 * NULL: only to finish a close already sealed (hk_audit_close_pending). A
 * close that stopped part-way is found by the next call and finished; in
 * between, appends and checkpoints refuse (HK_ERR_AUDIT), naming what to
 * run. out may be NULL.
 */
struct hk_audit_closed {
	char closed_log[4096];		/* where the closed log now is */
	char old_log_id[33];		/* its id */
	uint64_t last_seq;		/* its last record (the checkpoint) */
	char last_hash[65];
	char new_log_id[33];		/* the live log's id now */
	int resumed;			/* 1: an earlier close was finished */
};
int hk_audit_close(const char *path, EVP_PKEY *key, const char *key_label,
    const char *actors, struct hk_audit_closed *out);
/* 1 when a close of the log at path stopped part-way after its seal (the
 * log closed, or the new log in place without its head file): then
 * hk_audit_close with key NULL finishes it (the new log without a
 * checkpoint, for the caller to make once it may append again); 0 when
 * none; <0 is not used, errors of reading are HK_ERR_*. */
int hk_audit_close_pending(const char *path);

/*
 * The link between a log and the closed log before it: prev is verified
 * (with pub when given) and must end with audit.close and its checkpoint;
 * the link record of path (rep_new, from hk_audit_verify of it) must name
 * prev's log id, last seq and last hash. 0, else HK_ERR_AUDIT with a
 * one-line detail naming prev and what differs (HK_ERR_NOT_FOUND when prev
 * is missing). rep_prev may be NULL.
 */
int hk_audit_verify_link(const struct hk_audit_report *rep_new,
    const char *prev, EVP_PKEY *pub, struct hk_audit_report *rep_prev);

/*
 * The closed log a linked log names, looked up in "<dir of path>/closed/"
 * as audit-<prev_log_id>-*.log: its path into buf, 0; HK_ERR_NOT_FOUND
 * when there is none (deleted after its year, or never put there).
 */
int hk_audit_find_closed(const char *path, const char *prev_log_id,
    char *buf, size_t len);

/*
 * The rollback check hk_audit_check_previous begins with (rep:
 * hk_audit_verify's of the log at path): a closed log of this log's own id
 * in audit/closed/ while this log is not that file and not closed and
 * sealed itself is an older copy of the log put back after its close:
 * HK_ERR_AUDIT naming both; 0 otherwise. audit verify runs it before it
 * says anything of the live log: such a log is not OK.
 */
int hk_audit_check_reopened(const char *path,
    const struct hk_audit_report *rep);

/*
 * audit verify's report of a close, for both programs: rep is
 * hk_audit_verify's of the log at path. A log closed: said. A log that
 * begins with an audit.link: the closed log it names (prev when given,
 * else hk_audit_find_closed) checked with hk_audit_verify_link; then, when
 * that closed log begins with an audit.link too, the closed log it names,
 * and so on back (a second close within a year). One line each on out; 0,
 * or HK_ERR_AUDIT / HK_ERR_NOT_FOUND with the detail. A closed log not
 * found is refused while CPS 4-11-4 keeps it (a year after the link record
 * naming it) and said, not refused, after (which ends the walk).
 */
int hk_audit_check_previous(const char *path,
    const struct hk_audit_report *rep, const char *prev, EVP_PKEY *pub,
    FILE *out);

/*
 * The newest record of the log's end, read cheaply for the clock guard of
 * hanko-online (docs/clock.md): the record with the latest time (the last
 * of equal ones) among the records in the log's last HK_AUDIT_NEWEST_WINDOW
 * bytes, from the last record of event `since` on (since NULL: all of
 * them), and the log's last record. A log begun by a close that is shorter
 * than the window: the rest of the window is the end of the closed log it
 * links back to (audit/closed/; and so on back), where the newest record
 * may be (`closed` then names that log). Read under each log's shared
 * lock; the genesis and every record read are checked as an append checks
 * the last one (a line that is not a record, a closed log of another id:
 * HK_ERR_AUDIT, run audit verify).
 */
#define HK_AUDIT_NEWEST_WINDOW	(1 << 20)
struct hk_audit_newest {
	uint64_t seq;			/* the newest record's seq */
	char time[21];			/* its time, YYYY-MM-DDTHH:MM:SSZ */
	time_t t;			/* the same, parsed */
	char event[65];			/* its event */
	char closed[4096];		/* "", or the closed log it is in */
	uint64_t last_seq;		/* the log's last record */
	char last_time[21];		/* its time */
};
int hk_audit_newest(const char *path, const char *since,
    struct hk_audit_newest *out);

/*
 * The closed logs behind a linked log, as hk_audit_check_previous walks
 * them (rep: hk_audit_verify's of the log at path): the closed log its
 * audit.link names, found with hk_audit_find_closed (beside path, else
 * beside the closed log that links to it) and checked with
 * hk_audit_verify_link (with pub), is handed to each() with the report of
 * the log linking to it (rn) and its own (rp); then the one it links to,
 * and so on back. A non-zero return of each() stops the walk and is
 * returned. A closed log missing within its year (CPS 4-11-4) is
 * HK_ERR_AUDIT naming it and the date; after its year the walk ends there,
 * 0, its id and that date in gone (gone->log_id "" otherwise).
 */
struct hk_audit_gone {
	char log_id[33];		/* the closed log no longer kept */
	char until[21];			/* kept until then */
};
int hk_audit_walk_closed(const char *path, const struct hk_audit_report *rep,
    EVP_PKEY *pub, int (*each)(const struct hk_audit_report *rn,
    const char *closed, const struct hk_audit_report *rp, void *arg),
    void *arg, struct hk_audit_gone *gone);

/* One record as hk_audit_scan hands it over (valid during the call). */
struct hk_audit_record {
	uint64_t seq;			/* sequence number */
	const char *time;		/* YYYY-MM-DDTHH:MM:SSZ */
	const char *event;		/* e.g. "roster.credential" */
	const char *result;		/* e.g. "ok" */
	const char *actors;		/* "-" or ids joined by ',' */
	const unsigned char *details;	/* unescaped bytes, not NUL-terminated */
	size_t dlen;			/* bytes in details */
};

/*
 * Check the log as hk_audit_verify does without a key (every record, the
 * chain, the head file) and hand each record to each(), in order, except
 * checkpoints. A non-zero return of each() stops the scan and is
 * returned; a log that fails verification is HK_ERR_AUDIT, even when each()
 * saw its first records (the caller must not use what it collected).
 */
int hk_audit_scan(const char *path,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg);

/*
 * hk_audit_verify (with pub: every checkpoint signature) and, in the same
 * one pass, each record handed to each() in order, checkpoints included
 * (audit review: docs/audit-log.md "Weekly review"). A non-zero return of
 * each() stops and is returned; when the log fails, HK_ERR_AUDIT and rep
 * as hk_audit_verify's: the caller must not use what it collected.
 */
int hk_audit_verify_each(const char *path, EVP_PKEY *pub,
    struct hk_audit_report *rep,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg);

/*
 * Print one record per line for humans: seq, time, event, result, actors,
 * details (still escaped, so nothing can reach the terminal raw).
 * Checks the chain as it goes (no signatures) and stops at the first bad
 * record with its error.
 */
int hk_audit_print(const char *path, FILE *out);

/*
 * Escape len bytes of in as a record's details are (docs/audit-log.md,
 * "Escaping of details"): \\ \t \n \r; other C0 controls, DEL, bytes that
 * are not valid UTF-8, C1 controls and the bidirectional and line controls
 * (U+061C, U+200E, U+200F, U+2028, U+2029, U+202A..U+202E, U+2066..U+2069,
 * U+FEFF) as \xHH per byte; everything else, 日本語 too, as it is. For other
 * records shown to people (the ceremony transcript). out holds 4 * len + 1
 * bytes; returns the length written, out NUL-terminated.
 */
size_t hk_audit_escape(const void *in, size_t len, char *out);

#endif
