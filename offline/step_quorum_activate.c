/*
 * step_quorum_activate.c - action "quorum-activate": m of n key managers
 * open their shares, the token's user PIN is unsealed and the token logged
 * in (CPS 6-2-1-7, 6-4-1-1). Logging out at the end deactivates it.
 */
#include <stdio.h>

#include "ceremony.h"
#include "err.h"

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	int r;

	(void)st;
	if (c->ca->tok != NULL) {
		hk_err_set("step %s: the token is already active", st->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_ca_activate(c->ca, c->shares, c->nshares)) != 0)
		return r;
	snprintf(res->actors, sizeof(res->actors), "%s", c->ca->actors);
	snprintf(res->detail, sizeof(res->detail), "token %s activated by "
	    "key managers %s", hk_state_get(c->ca->st, "token.label"),
	    c->ca->actors);
	return 0;
}

const struct hk_step_action hk_step_quorum_activate = {
	{ "quorum-activate", "key managers' quorum opens the shares and "
	    "activates the token", NULL, 1, 0, 0 },
	run, NULL
};
