/*
 * cmd_audit.c - "hanko-offline audit verify|show|note" (CPS 4-11-1,
 * 4-11-2, 4-11-3, 4-11-5): the internal auditor checks the chain, the head
 * file and every checkpoint signature against the audit key, and reads the
 * records; a note enters what happened outside the program (room entry,
 * media); the weekly review (CPS 4-11-1, 4-11-3, 4-11-7: shared/review.c),
 * read-only.
 * "audit backup" (CPS 4-11-6) is in audit_backup.c.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "audit.h"
#include "clock.h"
#include "p11.h"
#include "err.h"
#include "offline.h"
#include "review.h"
#include "state.h"

static const char audit_usage[] =
"usage: hanko-offline audit verify --state DIR [--previous FILE]\n"
"           [--clock T]\n"
"       hanko-offline audit verify --log FILE [--key PEM] [--previous FILE]\n"
"       hanko-offline audit close --state DIR --share FILE [--passin SPEC]...\n"
"       hanko-offline audit show (--state DIR | --log FILE)\n"
"       hanko-offline audit note --state DIR --event EVENT --actors IDS\n"
"           --text TEXT [--clock T]\n"
"       hanko-offline audit backup --state DIR --out MEDIUM|NEWDIR "
"[--previous BACKUP]\n"
"       hanko-offline audit review (--state DIR [--key PEM] [--clock T] |\n"
"           --log FILE --key PEM) [--since T | --from-seq N] [--until T]\n"
"           [--previous FILE] [--hours HH:MM-HH:MM [--routine-actors IDS]]\n";


/*
 * The auditor's check of the CA's own log is itself an event of that log
 * (CPS 4-11-2: access to the system's records). A copy checked with --log
 * is left untouched.
 */
static void
log_verification(const char *log, int r, const struct hk_audit_report *rep)
{
	struct hk_err_kept saved;
	char details[HK_AUDIT_DETAILS_MAX];

	hk_err_keep(&saved);
	if (r == 0)
		snprintf(details, sizeof(details), "%llu records, %llu "
		    "checkpoints verified%s; %llu time back-step%s",
		    (unsigned long long)rep->records,
		    (unsigned long long)rep->checkpoints, rep->head_lag ?
		    "; the head file named the record before the last (a "
		    "crash after an append), brought forward by this record" :
		    "", (unsigned long long)rep->time_backsteps,
		    rep->time_backsteps == 1 ? "" : "s");
	else
		snprintf(details, sizeof(details), "%s", rep->reason[0] ?
		    rep->reason : saved.msg);
	if (hk_audit_append(log, "log.verify", r == 0 ? "ok" : "fail",
	    "-", details) != 0)
		fprintf(stderr, "hanko-offline: AUDIT LOG NOT WRITTEN: %s\n",
		    hk_err_msg());
	hk_err_restore(&saved);
}

/*
 * "audit note" (CPS 4-11-2: 入退室記録; docs/audit-log.md "Notes"): what
 * happened outside the program, into the chained log, its actors the
 * people it is of; the next activation's checkpoint signs it.
 */
static int
audit_note(int argc, char **argv)
{
	static const char usage[] =
	    "usage: hanko-offline audit note --state DIR --event EVENT "
	    "--actors IDS --text TEXT [--clock T]\n";
	struct hk_common_opts co = { NULL, NULL };
	const char *event = NULL, *actors = NULL, *text = NULL;
	struct hk_ca *ca = NULL;
	int i, r;

	for (i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (hk_common_opt(&co, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--event") == 0)
			slot = &event;
		else if (strcmp(argv[i], "--actors") == 0)
			slot = &actors;
		else if (strcmp(argv[i], "--text") == 0)
			slot = &text;
		else {
			hk_err_set("%s: unknown option (see 'hanko-offline "
			    "audit note --help')", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if (co.state == NULL || event == NULL || actors == NULL ||
	    text == NULL) {
		hk_err_set("audit note: --state, --event, --actors and --text "
		    "are required (see 'hanko-offline audit note --help')");
		return HK_ERR_USAGE;
	}
	if ((r = hk_audit_note_check(event, actors, text)) != 0)
		return r;
	if ((r = hk_ca_open(&co, "audit note", &ca)) != 0)
		return r;
	if ((r = hk_audit_append(ca->audit_log, event, "ok", actors,
	    text)) == 0)
		printf("Recorded %s (actors %s) in %s; the next activation's "
		    "checkpoint signs it\n", event, actors, ca->audit_log);
	hk_ca_close(ca);
	return r;
}

/*
 * CPS 4-11-1, 4-11-3: the internal auditor's weekly review of the log
 * (--state) or of a copy (--log, --key), verified first as audit verify
 * verifies it. Read-only: unlike audit verify --state it appends no
 * record (CPS 4-11-7: without notifying those who caused the events;
 * docs/audit-log.md "Weekly review"). Exit 9 when anything needs the
 * auditor's attention.
 */
static int
audit_review(int argc, char **argv)
{
	struct hk_review_opts ro;
	const char *state = NULL, *log = NULL, *key = NULL, *prev = NULL;
	const char *clock = NULL;
	char logbuf[4096], keybuf[4096];
	EVP_PKEY *pub = NULL;
	time_t now = (time_t)-1;
	int i, r;

	memset(&ro, 0, sizeof(ro));
	for (i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0) {
			fputs(audit_usage, stdout);
			return 0;
		}
		if (hk_review_opt(&ro, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--state") == 0)
			slot = &state;
		else if (strcmp(argv[i], "--log") == 0)
			slot = &log;
		else if (strcmp(argv[i], "--key") == 0)
			slot = &key;
		else if (strcmp(argv[i], "--previous") == 0)
			slot = &prev;
		else if (strcmp(argv[i], "--clock") == 0)
			slot = &clock;
		else {
			hk_err_set("%s: unknown option (see 'hanko-offline "
			    "audit --help')", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if ((state == NULL) == (log == NULL)) {
		hk_err_set("audit review: give either --state DIR or --log "
		    "FILE (see 'hanko-offline audit --help')");
		return HK_ERR_USAGE;
	}
	if (log != NULL && key == NULL) {
		hk_err_set("--log %s: needs --key PEM, the audit key's public "
		    "half (the copy's checkpoints are checked)", log);
		return HK_ERR_USAGE;
	}
	if (log != NULL && clock != NULL) {
		hk_err_set("--clock %s: only with --state (a copy's period "
		    "ends at its last record, or at --until)", clock);
		return HK_ERR_USAGE;
	}
	ro.program = "hanko-offline";
	ro.online = 0;
	if ((r = hk_review_check(&ro)) != 0)
		return r;
	if (state != NULL) {
		/* --clock: a rehearsal's only (hk_ca_open's rule); it ends
		 * the default period as the clock of every other command */
		if (clock != NULL) {
			struct hk_common_opts co = { state, clock };
			struct hk_ca *ca;

			if ((r = hk_ca_open(&co, "audit review", &ca)) != 0)
				return r;
			hk_ca_close(ca);
		}
		snprintf(logbuf, sizeof(logbuf), "%s/audit/audit.log", state);
		snprintf(keybuf, sizeof(keybuf), "%s/audit/audit-key.pem",
		    state);
		log = logbuf;
		if (key == NULL)
			key = keybuf;
		now = hk_clock_now();
	}
	if ((r = hk_audit_pub_load(key, &pub)) != 0)
		return r;
	r = hk_review_run(log, pub, prev, &ro, now, stdout);
	EVP_PKEY_free(pub);
	return r;
}

int
cmd_audit(int argc, char **argv)
{
	const char *state = NULL, *log = NULL, *key = NULL, *prev = NULL;
	const char *verb, *clock = NULL;
	char logbuf[4096], keybuf[4096];
	struct hk_audit_report rep;
	EVP_PKEY *pub = NULL;
	int i, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: verify, show, review, backup, close or note (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(audit_usage, stdout);
		return 0;
	}
	verb = argv[1];
	if (strcmp(verb, "backup") == 0)
		return cmd_audit_backup(argc - 1, argv + 1);
	if (strcmp(verb, "close") == 0)
		return cmd_audit_close(argc - 1, argv + 1);
	if (strcmp(verb, "note") == 0)
		return audit_note(argc - 1, argv + 1);
	if (strcmp(verb, "review") == 0)
		return audit_review(argc - 1, argv + 1);
	for (i = 2; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--help") == 0) {
			fputs(audit_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--state") == 0)
			slot = &state;
		else if (strcmp(argv[i], "--log") == 0)
			slot = &log;
		else if (strcmp(argv[i], "--key") == 0)
			slot = &key;
		else if (strcmp(argv[i], "--previous") == 0)
			slot = &prev;
		else if (strcmp(argv[i], "--clock") == 0)
			slot = &clock;
		else {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if ((state == NULL) == (log == NULL)) {
		hk_err_set("give either --state DIR or --log FILE (see "
		    "'hanko-offline audit --help')");
		return HK_ERR_USAGE;
	}
	if (state != NULL) {
		snprintf(logbuf, sizeof(logbuf), "%s/audit/audit.log", state);
		snprintf(keybuf, sizeof(keybuf), "%s/audit/audit-key.pem",
		    state);
		log = logbuf;
		if (key == NULL)
			key = keybuf;
	}
	if (strcmp(verb, "show") == 0) {
		if (clock != NULL) {
			hk_err_set("--clock %s: audit show appends nothing to "
			    "date (see --help)", clock);
			return HK_ERR_USAGE;
		}
		return hk_audit_print(log, stdout);
	}
	if (strcmp(verb, "verify") != 0) {
		hk_err_set("audit %s: unknown; expected verify, show, review, "
		    "backup, close or note", verb);
		return HK_ERR_USAGE;
	}
	/* The log.verify record at the rehearsal's clock, as every other
	 * record of a rehearsal state (hk_ca_open's rule: refused on a real
	 * CA); --log appends nothing, so there is nothing to date. */
	if (clock != NULL) {
		struct hk_common_opts co = { state, clock };
		struct hk_ca *ca;

		if (state == NULL) {
			hk_err_set("--clock %s: only with --state (it dates the "
			    "log.verify record; --log appends nothing)",
			    clock);
			return HK_ERR_USAGE;
		}
		if ((r = hk_ca_open(&co, "audit verify", &ca)) != 0)
			return r;
		hk_ca_close(ca);
	}
	if (key != NULL && (r = hk_audit_pub_load(key, &pub)) != 0)
		return r;
	r = hk_audit_verify(log, pub, &rep);
	/* the live log's line (OK only when the closed logs before it
	 * verify too: the yearly close's link), the notes, the link back */
	if (r == 0)
		r = hk_audit_report_verified(log, &rep, prev, pub, stdout);
	/* recorded with the whole run's result: a log.verify ok only for a
	 * run that exits 0 */
	if (state != NULL)
		log_verification(log, r, &rep);
	EVP_PKEY_free(pub);
	return r;
}

/*
 * "audit close" (CPS 4-11-4; docs/audit-log.md "Retention"): the quorum
 * activates the token (its records in the log being closed), then
 * hk_audit_close seals the log, moves it into audit/closed/ and begins the
 * new one with its checkpoint. A close that stopped part-way after its seal
 * is finished first, without the token (nothing more may enter the closed
 * log); the activation's records then go into the new log, sealed by the
 * checkpoint after them.
 */
int
cmd_audit_close(int argc, char **argv)
{
	static const char usage[] =
	    "usage: hanko-offline audit close --state DIR --share FILE "
	    "[--passin SPEC]... [--clock T]\n";
	struct hk_ca_args a = { 0 };
	struct hk_audit_closed c;
	struct hk_audit_report rep;
	struct hk_ca *ca = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL;
	const char *uri;
	char kp[4096];
	int r, pending;

	if ((r = hk_ca_parse(&a, NULL, usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_ca_open(&a.c, "audit close", &ca)) != 0)
		return r;
	if ((pending = hk_audit_close_pending(ca->audit_log)) < 0) {
		r = pending;
		goto out;
	}
	if (pending) {
		if ((r = hk_audit_close(ca->audit_log, NULL, NULL, NULL,
		    &c)) != 0)
			goto out;
		printf("A close that stopped part-way is finished.\n");
	}
	r = hk_ca_activate(ca, a.shares, a.nshares);
	if (pending) {
		if (r == 0)
			r = hk_ca_checkpoint(ca);
		if (r != 0) {
			/* The close is done: another audit close would close
			 * the new log. Its records want a checkpoint only. */
			struct hk_err_kept why;

			hk_err_keep(&why);
			hk_err_set("%s; the close is finished (the live log is "
			    "the new log %s): sign its records with "
			    "'hanko-offline activate --state %s --share ...', "
			    "not audit close again (that would close the new "
			    "log)", why.msg, c.new_log_id, ca->st->dir);
			goto out;
		}
	} else if (r != 0) {
		goto out;
	} else {
		if ((uri = hk_state_get(ca->st, "audit.key-uri")) == NULL) {
			hk_err_set("state.conf: audit.key-uri missing");
			r = HK_ERR_STATE;
			goto out;
		}
		if ((r = hk_token_key(ca->tok, uri, &priv, NULL)) != 0)
			goto out;
		r = hk_audit_close(ca->audit_log, priv, "audit-1",
		    ca->actors[0] ? ca->actors : NULL, &c);
	}
	if (r != 0)
		goto out;
	printf("Closed log %s at record %llu hash %s: %s (read-only; keep it "
	    "one year after its last record, CPS 4-11-4)\n", c.old_log_id,
	    (unsigned long long)c.last_seq, c.last_hash,
	    c.closed_log[0] ? c.closed_log : "(not found in audit/closed/)");
	printf("New log %s: %s, its record 1 (audit.link) names the closed "
	    "log\n", c.new_log_id, ca->audit_log);
	snprintf(kp, sizeof(kp), "%s/audit/audit-key.pem", ca->st->dir);
	if ((r = hk_audit_pub_load(kp, &pub)) != 0)
		goto out;
	if ((r = hk_audit_verify(ca->audit_log, pub, &rep)) != 0)
		goto out;
	r = hk_audit_check_previous(ca->audit_log, &rep, c.closed_log[0] ?
	    c.closed_log : NULL, pub, stdout);
 out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	hk_ca_close(ca);
	return r;
}
