/*
 * cmd_activate.c - "hanko-offline activate": m key managers show that their
 * shares activate the token (CPS 6-2-1-7, 6-2-1-8), and nothing else
 * happens. Key managers run it after init and at each handover to know
 * that the set works before it is needed. Audited, with a checkpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "offline.h"

static const char activate_usage[] =
"usage: hanko-offline activate --state DIR --share FILE [--passin SPEC]...\n";

int
cmd_activate(int argc, char **argv)
{
	struct hk_common_opts c = { 0 };
	struct hk_share_arg shares[HK_MAX_SHARE_ARGS];
	struct hk_ca *ca = NULL;
	int nshares = 0, i, r;

	for (i = 1; i < argc; i++) {
		if (hk_common_opt(&c, argc, argv, &i, &r) ||
		    hk_share_opt(shares, &nshares, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(activate_usage, stdout);
			return 0;
		} else {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
	}
	if ((r = hk_ca_open(&c, "activate", &ca)) != 0)
		return r;
	if ((r = hk_ca_activate(ca, shares, nshares)) != 0)
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
