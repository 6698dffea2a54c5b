/*
 * cmd_profile.c - "hanko-online profile show|accept": the profile the
 * publisher signs with, and the explicit, audited acceptance of a change
 * of it (docs/profile.md "A profile changed after init"; CPS 7-1, 7-2,
 * 8-1, 8-3, 6-6-1).
 *
 * Every command that reads <state>/profile.yaml refuses it unless its
 * SHA-256 is the one state.conf records as accepted (hk_online_profile).
 * "profile accept" checks the file as init does, shows what changed from
 * the copy of the profile accepted (profile.accepted.yaml), logs
 * profile.accept with both digests, records the new digest in state.conf
 * under state.lock and keeps the new copy. "profile show" changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "clock.h"
#include "err.h"
#include "online.h"
#include "profile.h"
#include "profile_accept.h"
#include "state.h"

#define CHANGES_MAX	4096	/* bytes of the list of keys changed */

struct profile_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *verb;		/* show, accept */
	const char *sha256;		/* --sha256 HEX: the digest reviewed */
};

static const char profile_usage[] =
"usage: hanko-online profile show --state DIR\n"
"       hanko-online profile accept --state DIR [--sha256 HEX]\n"
"  accept: <state>/profile.yaml as it is now becomes the profile every\n"
"  later command signs with; --sha256: the SHA-256 of the change reviewed\n";

static int
parse(struct profile_opts *o, int argc, char **argv)
{
	int i, r;

	memset(o, 0, sizeof(*o));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(profile_usage, stdout);
		return 1;
	}
	if (argc < 2 || (strcmp(argv[1], "show") != 0 &&
	    strcmp(argv[1], "accept") != 0)) {
		hk_err_set("%s: expected show or accept (see --help)",
		    argc < 2 ? "profile" : argv[1]);
		return HK_ERR_USAGE;
	}
	o->verb = argv[1];
	for (i = 2; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(profile_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--sha256") != 0 ||
		    strcmp(o->verb, "accept") != 0) {
			hk_err_set("%s: unknown argument for profile %s (see "
			    "--help)", argv[i], o->verb);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(&o->sha256, argc, argv, &i)) != 0)
			return r;
	}
	if (o->c.state == NULL) {
		hk_err_set("profile %s: --state is required (see --help)",
		    o->verb);
		return HK_ERR_USAGE;
	}
	if (o->sha256 != NULL && (strlen(o->sha256) != 64 ||
	    strspn(o->sha256, "0123456789abcdefABCDEF") != 64)) {
		hk_err_set("--sha256 %.80s: 64 hex digits are required",
		    o->sha256);
		return HK_ERR_USAGE;
	}
	return 0;
}

/* What the profile accepted was: the digest state.conf records, else the
 * one init recorded (a state made before the record; legacy = 1). */
struct accepted {
	char hex[65];		/* "" when none is known */
	char at[32];
	char by[64];
	int legacy;
};

static void
accepted_get(struct hk_online *on, struct accepted *a)
{
	const char *v;

	memset(a, 0, sizeof(*a));
	if ((v = hk_state_get(on->st, HK_PROFILE_KEY_SHA)) != NULL) {
		snprintf(a->hex, sizeof(a->hex), "%s", v);
		v = hk_state_get(on->st, HK_PROFILE_KEY_AT);
		snprintf(a->at, sizeof(a->at), "%s", v ? v : "?");
		v = hk_state_get(on->st, HK_PROFILE_KEY_BY);
		snprintf(a->by, sizeof(a->by), "%s", v ? v : "?");
		return;
	}
	a->legacy = 1;
	if (hk_profile_init_digest(on->st, a->hex, a->at) == 0)
		snprintf(a->by, sizeof(a->by), "init");
	else {
		a->hex[0] = '\0';
		hk_err_clear();
	}
}

/* "key: A -> B" for every key changed since the copy accepted, joined by
 * sep; "" and -1 when there is no copy to compare with. */
static long
changes(struct hk_online *on, const struct accepted *a,
    const struct hk_profile *p, const char *sep, char *buf, size_t len)
{
	struct hk_profile *old = NULL;
	size_t n;

	buf[0] = '\0';
	if (a->hex[0] == '\0' ||
	    hk_profile_accepted_copy(on->st, a->hex, &old) != 0 || old == NULL)
		return -1;
	n = hk_profile_changes(old, p, sep, buf, len);
	hk_profile_free(old);
	return (long)n;
}

static int
show(struct hk_online *on)
{
	struct hk_profile *p = NULL;
	struct accepted a;
	unsigned char *buf = NULL;
	char hex[65], path[4096], list[CHANGES_MAX];
	size_t len;
	long n;
	int r;

	if ((r = hk_online_path(on, HK_PROFILE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_profile_read_state(on->st, &buf, &len, hex)) != 0)
		return r;
	accepted_get(on, &a);
	printf("%s: SHA-256 %s\n", path, hex);
	if (a.hex[0] == '\0')
		printf("  accepted: none recorded (a state made before hanko "
		    "recorded one, and no init.start record names one)\n");
	else
		printf("  accepted: SHA-256 %s on %s by %s%s\n", a.hex, a.at,
		    a.by, a.legacy ? " (from the init.start record; not yet "
		    "in state.conf)" : "");
	printf("  status:   %s\n", strcmp(a.hex, hex) == 0 ? "the profile "
	    "accepted" : "CHANGED since accepted: every command that signs "
	    "refuses it until it is put back or accepted");
	if (strcmp(a.hex, hex) != 0) {
		if (hk_profile_load_buf(path, buf, len, &p) != 0) {
			printf("  it does not load: %s\n", hk_err_msg());
			hk_err_clear();
		} else if ((n = changes(on, &a, p, "\n    ", list,
		    sizeof(list))) < 0)
			printf("  no copy of the profile accepted to compare "
			    "with (%s)\n", HK_PROFILE_COPY);
		else
			printf("  changed (accepted -> now): %ld\n    %s\n", n,
			    n ? list : "no value; only the text");
	}
	hk_profile_free(p);
	free(buf);
	return 0;
}

static int
accept_run(struct hk_online *on, const struct profile_opts *o)
{
	struct hk_profile *p = NULL;
	struct accepted a;
	X509_NAME *dn = NULL;
	unsigned char *buf = NULL, *old = NULL;
	char hex[65], path[4096], list[CHANGES_MAX], alist[CHANGES_MAX], t[32];
	char retired[4200] = "";
	size_t olen = 0;
	const char *reh = hk_state_get(on->st, "rehearsal");
	size_t len;
	long n;
	int r;

	/* the file as init checks one (the issuing CA's DN built from it) */
	if ((r = hk_online_path(on, HK_PROFILE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_profile_read_state(on->st, &buf, &len, hex)) != 0 ||
	    (r = hk_profile_load_buf(path, buf, len, &p)) != 0 ||
	    (r = hk_online_issuing_subject(p, 1, reh != NULL &&
	    strcmp(reh, "yes") == 0, &dn)) != 0)
		goto out;
	if (o->sha256 != NULL && strcasecmp(o->sha256, hex) != 0) {
		hk_err_set("%s: SHA-256 %s is not %s, the one given with "
		    "--sha256 (the change reviewed); nothing accepted", path,
		    hex, o->sha256);
		r = HK_ERR_INVALID;
		goto out;
	}
	accepted_get(on, &a);
	if (!a.legacy && strcmp(a.hex, hex) == 0) {
		printf("%s: SHA-256 %s is already the profile accepted (on %s "
		    "by %s); nothing changed\n", path, hex, a.at, a.by);
		r = 0;
		goto out;
	}
	n = changes(on, &a, p, "\n    ", list, sizeof(list));
	(void)changes(on, &a, p, "; ", alist, sizeof(alist));
	printf("%s: SHA-256 %s\n  accepted until now: %s%s%s%s%s\n", path, hex,
	    a.hex[0] ? "SHA-256 " : "none recorded", a.hex, a.hex[0] ?
	    " on " : "", a.at, a.legacy && a.hex[0] ? " (init.start record)" :
	    "");
	if (n < 0)
		printf("  no copy of the profile accepted to compare with\n");
	else
		printf("  changed (accepted -> now): %ld\n    %s\n", n,
		    n ? list : "no value; only the text");
	/* the token before anything is written: the checkpoint needs it */
	if ((r = hk_online_login(on)) != 0)
		goto out;
	hk_time_format(hk_clock_now(), t, sizeof(t));
	/* logged before it is recorded: nothing is accepted that the log
	 * does not hold */
	if ((r = hk_online_audit(on, "profile.accept", "ok", "%s SHA-256 %s "
	    "accepted, replacing SHA-256 %s (accepted on %s by %s); changed: "
	    "%s", path, hex, a.hex[0] ? a.hex : "none recorded",
	    a.at[0] ? a.at : "?", a.by[0] ? a.by : "?", n < 0 ?
	    "no copy of the profile accepted to compare with" : n == 0 ?
	    "no value, only the text" : alist)) != 0)
		goto out;
	/* the profile that governed what was signed until now stays in the
	 * state, read-only, as the offline ceremony keeps it */
	hk_profile_accepted_bytes(on->st, a.hex, &old, &olen);
	if (old != NULL && (r = hk_profile_retire(on->st, old, olen, a.hex,
	    retired, sizeof(retired))) != 0) {
		hk_online_audit(on, "profile.accept", "fail", "%s SHA-256 %s: "
		    "the profile accepted until now not kept: %s", path, hex,
		    hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if ((r = hk_profile_record(on->st, hex, t, "profile accept")) != 0 ||
	    (r = hk_state_save(on->st)) != 0) {
		hk_online_audit(on, "profile.accept", "fail", "%s SHA-256 %s: "
		    "not recorded in state.conf: %s", path, hex, hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if ((r = hk_profile_keep_copy(on->st, buf, len)) != 0) {
		hk_err_set("%s: accepted and recorded, but the copy %s was not "
		    "kept: %s", path, HK_PROFILE_COPY, hk_err_msg());
		hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	printf("Profile %s accepted on %s: SHA-256 %s%s%s\n", path, t, hex,
	    retired[0] ? "; the one it replaces kept as " : "",
	    retired[0] ? (strrchr(retired, '/') ? strrchr(retired, '/') + 1 :
	    retired) : "");
	r = 0;
 out:
	X509_NAME_free(dn);
	hk_profile_free(p);
	free(buf);
	free(old);
	return r;
}

int
cmd_profile(int argc, char **argv)
{
	struct profile_opts o;
	struct hk_online *on = NULL;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	if (strcmp(o.verb, "show") == 0)
		r = show(on);
	else if ((r = hk_online_state_lock(on)) == 0)
		r = accept_run(on, &o);
 out:
	hk_online_close(on);
	return r;
}
