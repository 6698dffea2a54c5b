/*
 * step_approve.c - action "approve": the CA manager (認証局管理責任者),
 * authenticated at the start, instructs the ceremony to proceed
 * (CPS 5-2-1-1 (1), 5-2-2: work is done on the CA manager's instruction).
 */
#include <stdio.h>

#include "ceremony.h"
#include "err.h"

static const struct hk_param_spec params[] = {
	{ "instruction", HK_PARAM_STR, 0, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *in = hk_script_param(st, "instruction");

	(void)c;
	snprintf(res->detail, sizeof(res->detail), "ceremony approved%s%s",
	    in ? ": " : "", in ? in->value : "");
	printf("Approved by %s: %s\n", res->actors,
	    in ? in->value : "(no instruction text)");
	return 0;
}

const struct hk_step_action hk_step_approve = {
	{ "approve", "the CA manager approves and instructs the ceremony",
	    params, 0, 0, 0 },
	run, NULL
};
