/*
 * cmd_audit.c - "hanko-online audit verify|close|note" (CPS 4-11-2,
 * 4-11-3, 4-11-4, 4-11-5; docs/audit-log.md): verify the live log (the
 * chain, the head file, every checkpoint with the audit key, and the link
 * to the closed log before it); the yearly close: the log sealed with
 * audit.close and a checkpoint, moved into audit/closed/ read-only, a new
 * log begun that names it (shared/audit.c, hk_audit_close); a note of
 * what happened outside the program (room entry, media); and the internal
 * auditor's weekly review (CPS 4-11-1, 4-11-3, 4-11-7: shared/review.c),
 * read-only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "online.h"
#include "p11.h"
#include "review.h"
#include "state.h"

static const char audit_usage[] =
"usage: hanko-online audit verify --state DIR [--key PEM] [--previous FILE]\n"
"       hanko-online audit close --state DIR [--actors IDS]\n"
"       hanko-online audit note --state DIR --event EVENT --actors IDS\n"
"           --text TEXT\n"
"       hanko-online audit review (--state DIR [--key PEM] | --log FILE --key PEM)\n"
"           [--since T | --from-seq N] [--until T] [--previous FILE]\n"
"           [--hours HH:MM-HH:MM [--routine-actors IDS]]\n";


static int
audit_verify(int argc, char **argv)
{
	struct hk_online_opts o;
	const char *key = NULL, *prev = NULL;
	const struct hk_online_arg args[] = {
		{ .name = "--key", .value = &key },
		{ .name = "--previous", .value = &prev },
		{ .name = NULL },
	};
	struct hk_audit_report rep;
	struct hk_online *on = NULL;
	EVP_PKEY *pub = NULL;
	char keybuf[4096];
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = hk_online_parse(&o, argc, argv, audit_usage, args,
	    NULL)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o, &on)) != 0)
		return r;
	if (key == NULL) {
		if ((r = hk_online_path(on, "audit/audit-key.pem", keybuf,
		    sizeof(keybuf))) != 0)
			goto out;
		key = keybuf;
	}
	if ((r = hk_audit_pub_load(key, &pub)) != 0)
		goto out;
	if ((r = hk_audit_verify(on->audit_log, pub, &rep)) != 0)
		goto out;
	/* the live log's line (OK only when the closed logs before it
	 * verify too), the notes, the link back */
	r = hk_audit_report_verified(on->audit_log, &rep, prev, pub, stdout);
 out:
	EVP_PKEY_free(pub);
	hk_online_close(on);
	return r;
}

static int
audit_close(int argc, char **argv)
{
	struct hk_online_opts o;
	const char *actors = NULL, *uri;
	const struct hk_online_arg args[] = {
		{ .name = "--actors", .value = &actors },
		{ .name = NULL },
	};
	struct hk_audit_report rep;
	struct hk_audit_closed c;
	struct hk_online *on = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = hk_online_parse(&o, argc, argv, audit_usage, args,
	    NULL)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o, &on)) != 0)
		return r;
	/* no backup copies the state's files meanwhile */
	if ((r = hk_online_state_lock_wait(on)) != 0)
		goto out;
	if ((uri = hk_state_get(on->st, "audit.key-uri")) == NULL) {
		hk_err_set("%s/state.conf: audit.key-uri missing",
		    on->st->dir);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_token_key(on->tok, uri, &priv, &pub)) != 0)
		goto out;
	if ((r = hk_audit_close(on->audit_log, priv, "audit-1", actors,
	    &c)) != 0)
		goto out;
	if (c.resumed)
		printf("A close that stopped part-way is finished.\n");
	printf("Closed log %s at record %llu hash %s: %s (read-only; keep it "
	    "one year after its last record, CPS 4-11-4)\n", c.old_log_id,
	    (unsigned long long)c.last_seq, c.last_hash,
	    c.closed_log[0] ? c.closed_log : "(not found in audit/closed/)");
	printf("New log %s: %s, its record 1 (audit.link) names the closed "
	    "log\n", c.new_log_id, on->audit_log);
	if ((r = hk_audit_verify(on->audit_log, pub, &rep)) != 0)
		goto out;
	r = hk_audit_check_previous(on->audit_log, &rep,
	    c.closed_log[0] ? c.closed_log : NULL, pub, stdout);
 out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	hk_online_close(on);
	return r;
}

/* CPS 4-11-2: what happened outside the program, into the chained log;
 * its actors the people it is of, the operator who entered it named in
 * the details (docs/audit-log.md "Notes"). */
static int
audit_note(int argc, char **argv)
{
	struct hk_online_opts o;
	const char *event = NULL, *actors = NULL, *text = NULL;
	const struct hk_online_arg args[] = {
		{ .name = "--event", .value = &event, .required = 1 },
		{ .name = "--actors", .value = &actors, .required = 1 },
		{ .name = "--text", .value = &text, .required = 1 },
		{ .name = NULL },
	};
	struct hk_online *on = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = hk_online_parse(&o, argc, argv, audit_usage, args,
	    NULL)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_audit_note_check(event, actors, text)) != 0)
		return r;
	if ((r = hk_online_open(&o, &on)) != 0)
		return r;
	if ((r = hk_online_audit_by(on, actors, event, "ok", "%s (entered by "
	    "%s)", text, on->operator)) == 0)
		printf("Recorded %s (actors %s) in %s; the next checkpoint "
		    "signs it\n", event, actors, on->audit_log);
	hk_online_close(on);
	return r;
}

/*
 * CPS 4-11-1, 4-11-3: the internal auditor's weekly review of the live log
 * (--state) or of a copy (--log, --key), verified first as audit verify
 * verifies it. Read-only, on the state too: no record of it enters the
 * shared log (CPS 4-11-7: without notifying those who caused the events;
 * docs/audit-log.md "Weekly review"). Exit 9 when anything needs the
 * auditor's attention.
 */
static int
audit_review(int argc, char **argv)
{
	struct hk_online_opts o;
	struct hk_review_opts ro;
	const char *key = NULL, *log = NULL, *prev = NULL;
	struct hk_online *on = NULL;
	EVP_PKEY *pub = NULL;
	char keybuf[4096];
	time_t now = (time_t)-1;
	int i, r;

	memset(&o, 0, sizeof(o));
	memset(&ro, 0, sizeof(ro));
	for (i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0) {
			fputs(audit_usage, stdout);
			return 0;
		}
		if (hk_online_common_opt(&o, argc, argv, &i, &r) ||
		    hk_review_opt(&ro, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--key") == 0)
			slot = &key;
		else if (strcmp(argv[i], "--log") == 0)
			slot = &log;
		else if (strcmp(argv[i], "--previous") == 0)
			slot = &prev;
		else {
			hk_err_set("%s: unknown option (see 'hanko-online "
			    "audit --help')", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if ((o.state == NULL) == (log == NULL)) {
		hk_err_set("audit review: give either --state DIR or --log "
		    "FILE (see 'hanko-online audit --help')");
		return HK_ERR_USAGE;
	}
	if (log != NULL && key == NULL) {
		hk_err_set("--log %s: needs --key PEM, the audit key's public "
		    "half (the copy's checkpoints are checked)", log);
		return HK_ERR_USAGE;
	}
	if (log != NULL && o.clock != NULL) {
		hk_err_set("--clock %s: only with --state (a copy's period "
		    "ends at its last record, or at --until)", o.clock);
		return HK_ERR_USAGE;
	}
	ro.program = "hanko-online";
	ro.online = 1;
	if ((r = hk_review_check(&ro)) != 0)
		return r;
	if (o.state != NULL) {
		o.read_only = 1;
		if ((r = hk_online_open(&o, &on)) != 0)
			return r;
		log = on->audit_log;
		now = hk_clock_now();
		if (key == NULL) {
			if ((r = hk_online_path(on, "audit/audit-key.pem",
			    keybuf, sizeof(keybuf))) != 0)
				goto out;
			key = keybuf;
		}
	}
	if ((r = hk_audit_pub_load(key, &pub)) != 0)
		goto out;
	r = hk_review_run(log, pub, prev, &ro, now, stdout);
 out:
	EVP_PKEY_free(pub);
	hk_online_close(on);
	return r;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: verify, close, note or review (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(audit_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "close") == 0)
		return audit_close(argc - 1, argv + 1);
	if (strcmp(argv[1], "note") == 0)
		return audit_note(argc - 1, argv + 1);
	if (strcmp(argv[1], "review") == 0)
		return audit_review(argc - 1, argv + 1);
	hk_err_set("audit %s: unknown; expected verify, close, note or review",
	    argv[1]);
	return HK_ERR_USAGE;
}
