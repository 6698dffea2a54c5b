/*
 * cmd_activate.c - "hanko-offline activate": m key managers show that their
 * shares activate the token (CPS 6-2-1-7, 6-2-1-8), and nothing else
 * happens. Key managers run it after init and at each handover to know
 * that the set works before it is needed. Audited, with a checkpoint.
 */
#include <stdio.h>

#include "err.h"
#include "offline.h"

static const char activate_usage[] =
"usage: hanko-offline activate --state DIR --share FILE [--passin SPEC]...\n";

int
cmd_activate(int argc, char **argv)
{
	struct hk_ca_args a = { 0 };
	struct hk_ca *ca = NULL;
	int r;

	if ((r = hk_ca_parse(&a, NULL, activate_usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_ca_open(&a.c, "activate", &ca)) != 0)
		return r;
	if ((r = hk_ca_activate(ca, a.shares, a.nshares)) != 0)
		goto out;
	if ((r = hk_ca_audit(ca, "quorum.activate-check", "ok", ca->actors,
	    "the token was activated and is deactivated again")) != 0 ||
	    (r = hk_ca_checkpoint(ca)) != 0)
		goto out;
	printf("Quorum reached by %s: the token activates. Deactivated "
	    "again.\n", ca->actors);
 out:
	hk_ca_close(ca);
	return r;
}
