/*
 * step_cross_issue.c - action "cross-issue": our cross certificate to the
 * bridge CA (CPS 4-6, 4-7, 7-1-2) for the request an earlier csr-check
 * step checked (kind cross, with the agreed DN as its subject parameter),
 * signed under the current root key: certs/cross-<n>.der (+ .pem),
 * n = cross.current + 1. pathLenConstraint and the mapped policy are the
 * agreement with the bridge CA, given as parameters.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "err.h"

static const struct hk_param_spec params[] = {
	{ "request", HK_PARAM_STEP, 1, 0, 0, NULL, "csr-check", -1 },
	{ "path-len", HK_PARAM_INT, 1, -1, 16, NULL, NULL, -1 },
	{ "mapped-policy", HK_PARAM_STR, 0, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *pl = hk_script_param(st, "path-len");
	const struct hk_script_param *mp = hk_script_param(st,
	    "mapped-policy");

	return hk_iss_issue(c, st, res, HK_ISS_CROSS, (int)pl->ival,
	    mp != NULL ? mp->value : NULL);
}

const struct hk_step_action hk_step_cross_issue = {
	{ "cross-issue", "sign our cross certificate to the bridge CA (next "
	    "generation) under the current root key", params, 0, 1, 1 },
	run, hk_iss_undo_files
};
