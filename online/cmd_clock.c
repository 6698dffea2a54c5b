/*
 * cmd_clock.c - "hanko-online clock": the clock guard's view, and the
 * audited acceptance of a clock that was ahead (CPS 4-12-2-5;
 * docs/clock.md).
 *
 * The commands that sign a certificate, a revocation or an OCSP response
 * refuse to run with a clock more than HK_ONLINE_CLOCK_TOLERANCE seconds
 * behind the newest record of the live audit log's end (hk_online_open,
 * online.h). Without --accept-set-back this prints the clock, that record
 * and whether the guard passes (exit 0) or would refuse (exit 3), and
 * writes nothing. With it, after the CA manager has confirmed the time
 * source, a clock.accept record names the clock, the record and the
 * difference, its actors the people --actors names (the CA manager first),
 * and is signed into the log by a checkpoint: the guard then compares with
 * it (the records before it no longer count).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "err.h"
#include "online.h"

struct clock_opts {
	struct hk_online_opts c;	/* --state, --clock */
	int accept;			/* --accept-set-back */
	const char *actors;		/* --actors IDS: who confirmed it */
};

static const char clock_usage[] =
"usage: hanko-online clock --state DIR [--accept-set-back --actors IDS]\n"
"                          [--clock T]\n"
"  the clock, the newest record of the audit log's end and whether the\n"
"  clock guard passes (exit 0) or refuses (exit 3); --accept-set-back:\n"
"  after the CA manager has confirmed the time source, record (clock.accept)\n"
"  that the clock was ahead when those records were written and is right\n"
"  now, its actors IDS (required: the CA manager, and whoever else was\n"
"  present, ids joined by ',') (docs/clock.md)\n";

int
cmd_clock(int argc, char **argv)
{
	struct clock_opts o;
	struct hk_online_arg args[] = {
		{ .name = "--accept-set-back", .flag = NULL },
		{ .name = "--actors", .value = NULL },
		{ .name = NULL },
	};
	struct hk_audit_newest nw;
	struct hk_online *on = NULL;
	char t[32], line[HK_ERR_DETAIL_MAX];
	long long behind;
	time_t now;
	int r;

	memset(&o, 0, sizeof(o));
	args[0].flag = &o.accept;
	args[1].value = &o.actors;
	if ((r = hk_online_parse(&o.c, argc, argv, clock_usage, args,
	    NULL)) != 0)
		return r == 1 ? 0 : r;
	/* the acceptance names who confirmed the time source (CPS 4-11-2:
	 * the originator of a record; docs/clock.md) */
	if (o.accept && o.actors == NULL) {
		hk_err_set("--accept-set-back needs --actors IDS: the CA "
		    "manager who confirmed the time source (and whoever else "
		    "was present), named in the clock.accept record "
		    "(docs/clock.md); nothing recorded");
		return HK_ERR_USAGE;
	}
	if (o.actors != NULL && !o.accept) {
		hk_err_set("--actors %s: only with --accept-set-back (without "
		    "it nothing is recorded)", o.actors);
		return HK_ERR_USAGE;
	}
	if (o.actors != NULL && (strcmp(o.actors, "-") == 0 ||
	    !hk_audit_actors_ok(o.actors))) {
		hk_err_set("--actors %s: must be at least one id "
		    "[A-Za-z0-9][A-Za-z0-9._@-]{0,63}, ids joined by ',' (at "
		    "most %d bytes); nothing recorded", o.actors,
		    HK_AUDIT_ACTORS_MAX);
		return HK_ERR_USAGE;
	}
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	now = hk_clock_now();
	if ((r = hk_online_clock_read(on, now, &nw, &behind)) != 0)
		goto out;
	hk_time_format(now, t, sizeof(t));
	printf("clock: %s%s\n", t, hk_clock_is_set() ? " (--clock)" : "");
	printf("audit log: newest record %" PRIu64 " (%s, %s)%s%s; last record %"
	    PRIu64 " (%s)\n", nw.seq, nw.time, nw.event,
	    nw.closed[0] ? " of the closed log " : "", nw.closed, nw.last_seq,
	    nw.last_time);
	if (behind <= HK_ONLINE_CLOCK_TOLERANCE) {
		if (behind > 0)
			printf("guard: passes: the clock is %lld s behind "
			    "record %" PRIu64 ", within the %d s allowed\n",
			    behind, nw.seq, HK_ONLINE_CLOCK_TOLERANCE);
		else
			printf("guard: passes: the clock is not behind record %"
			    PRIu64 "\n", nw.seq);
		if (o.accept)
			printf("nothing to accept: nothing recorded\n");
		r = 0;
		goto out;
	}
	printf("guard: refuses: the clock is %lld s behind record %" PRIu64
	    ", over the %d s allowed (CPS 4-12-2-5)\n", behind, nw.seq,
	    HK_ONLINE_CLOCK_TOLERANCE);
	if (!o.accept) {
		hk_online_clock_line(on, now, &nw, behind, line, sizeof(line));
		hk_err_set("%s", line);
		r = HK_ERR_STATE;
		goto out;
	}
	if ((r = hk_online_audit_by(on, o.actors, HK_ONLINE_CLOCK_ACCEPT, "ok",
	    "CPS 4-12-2-5: the clock reads %s, %lld s behind audit record %"
	    PRIu64 " (%s, %s)%s%s: accepted as a clock that was ahead when "
	    "that record was written and is right now, the time source "
	    "confirmed by the CA manager; the clock guard compares with this "
	    "record from now on", t, behind, nw.seq, nw.time, nw.event,
	    nw.closed[0] ? " of the closed log " : "", nw.closed)) != 0)
		goto out;
	if ((r = hk_online_checkpoint(on)) != 0) {
		hk_err_set("the clock.accept record is in the log, but no "
		    "checkpoint signs it: %s", hk_err_msg());
		goto out;
	}
	printf("Accepted: the clock %s, %lld s behind record %" PRIu64 " (%s), "
	    "recorded (clock.accept, actors %s); the guard compares with that "
	    "record now\n", t, behind, nw.seq, nw.time, o.actors);
	r = 0;
 out:
	hk_online_close(on);
	return r;
}
