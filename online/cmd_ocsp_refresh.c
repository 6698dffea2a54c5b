/*
 * cmd_ocsp_refresh.c - "hanko-online ocsp-refresh": sign the OCSP
 * responses that are due (hk_ocsp_refresh: missing, revoked since, within
 * HK_OCSP_REFRESH_MARGIN of nextUpdate, older than the current responder)
 * with the responder key in the token, store them, audit the count with a
 * checkpoint (CPS 4-4-4-1, 4-4-4-2; docs/ocsp.md). Run after every
 * revocation and from the same timer as publish (hourly is enough);
 * serve's key holder runs the same function by itself.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "ocsp.h"
#include "online.h"

struct ocsp_refresh_opts {
	struct hk_online_opts c;	/* --state, --clock */
};

static const char ocsp_refresh_usage[] =
"usage: hanko-online ocsp-refresh --state DIR [--clock T]\n";

static int
parse(struct ocsp_refresh_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	return hk_online_common_parse(&o->c, argc, argv, ocsp_refresh_usage);
}

int
cmd_ocsp_refresh(int argc, char **argv)
{
	struct ocsp_refresh_opts o;
	struct hk_online *on = NULL;
	struct hk_ocsp_signer *sg = NULL;
	struct hk_err_kept lost;
	size_t count = 0, i;
	time_t now, until;
	char t[32], who[1024];
	int r, n, g, off;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;	/* docs/clock.md */
	if ((r = hk_online_open(&o.c, &on)) != 0)
		goto out;
	now = hk_clock_now();
	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_ocsp_signer_open(on, &sg)) != 0 ||
	    (r = hk_ocsp_refresh(sg, now, &count)) != 0) {
		hk_online_audit(on, "ocsp.refresh", "fail", "%zu responses "
		    "signed before: %s", count, hk_err_msg());
		if (on->tok != NULL)
			hk_online_checkpoint_keep_err(on);
		goto out;
	}
	/* "responder 3, valid until T" and, after a re-key, the older
	 * generations' "; responder 2 (issuing generation 1) until T" */
	who[0] = '\0';
	for (i = 0, off = 0; i < hk_ocsp_signer_count(sg) &&
	    (size_t)off < sizeof(who); i++) {
		hk_ocsp_signer_info(sg, i, &n, &g, &until);
		hk_time_format(until, t, sizeof(t));
		if (i == 0)
			off += snprintf(who + off, sizeof(who) - (size_t)off,
			    "responder %d, valid until %s", n, t);
		else if (g > 0)
			off += snprintf(who + off, sizeof(who) - (size_t)off,
			    "; responder %d (issuing generation %d) until %s",
			    n, g, t);
		else
			off += snprintf(who + off, sizeof(who) - (size_t)off,
			    "; responder %d until %s", n, t);
	}
	/* the responses are in place (serve answers with them): one whose
	 * record is lost stays, and the run ends with exit 6 naming it
	 * (below; docs/audit-log.md "When an append fails") */
	lost.msg[0] = '\0';
	if (hk_online_audit(on, "ocsp.refresh", "ok", "%zu responses signed: "
	    "%s", count, who) != 0)
		hk_err_keep(&lost);
	if (hk_ocsp_signer_warning(sg) != NULL)
		hk_online_audit(on, "ocsp.refresh", "fail", "%s",
		    hk_ocsp_signer_warning(sg));
	if (lost.msg[0] != '\0')
		hk_online_checkpoint_keep_err(on);
	else if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	printf("%zu OCSP responses signed (%s)\n", count, who);
	if (hk_ocsp_signer_warning(sg) != NULL)
		printf("warning: %s: the certificates of its issuing "
		    "generation are answered unauthorized (docs/ocsp.md "
		    "\"Issuing generations\")\n", hk_ocsp_signer_warning(sg));
	for (i = 0; i < hk_ocsp_signer_count(sg); i++) {
		char opt[32] = "";

		hk_ocsp_signer_info(sg, i, &n, &g, &until);
		hk_time_format(until, t, sizeof(t));
		if (g > 0)
			snprintf(opt, sizeof(opt), " --generation %d", g);
		/* cut back to its issuing CA's notAfter: a renewal would
		 * end there too (docs/ocsp.md), nothing to do */
		if (until - now < HK_OCSP_RENEW_DAYS * 86400 &&
		    hk_ocsp_signer_final(sg, i)) {
			char ca[32] = "its issuing CA";

			if (g > 0)
				snprintf(ca, sizeof(ca), "issuing CA %d", g);
			printf("OCSP responder %d ends %s with %s: it cannot be "
			    "renewed beyond it, and every certificate it "
			    "answers for ends by then\n", n, t, ca);
		} else if (until - now < HK_OCSP_RENEW_DAYS * 86400)
			printf("warning: OCSP responder %d ends %s: run "
			    "hanko-online responder%s to renew it, then "
			    "restart hanko-online serve (it signs with the "
			    "responders it loaded at start)\n", n, t, opt);
	}
	if (lost.msg[0] != '\0') {
		char done[1280], rec[1536];

		hk_time_format(now, t, sizeof(t));
		snprintf(done, sizeof(done), "ocsp-refresh: %zu OCSP responses "
		    "signed at %s and in place (served; kept)", count, t);
		snprintf(rec, sizeof(rec), "the refresh (%zu responses signed "
		    "at %s: %s)", count, t, who);
		r = hk_online_unrecorded(done, "its ocsp.refresh record is",
		    lost.msg, rec);
	}
 out:
	hk_ocsp_signer_free(sg);
	hk_online_close(on);
	return r;
}
