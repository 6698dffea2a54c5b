/*
 * step_audit_checkpoint.c - action "audit-checkpoint": the audit log is
 * verified and a checkpoint signed by the token's audit key (CPS 4-11-5).
 */
#include <stdio.h>

#include "ceremony.h"
#include "err.h"

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	char anchor[512];
	int r;

	(void)st;
	if ((r = hk_ca_checkpoint_anchor(c->ca, anchor, sizeof(anchor))) != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "audit log verified and "
	    "checkpoint signed by audit-1: %s", anchor);
	return 0;
}

const struct hk_step_action hk_step_audit_checkpoint = {
	{ "audit-checkpoint", "verify the audit log and sign a checkpoint",
	    NULL, 0, 0, 1 },
	run, NULL
};
