/*
 * step_input_check.c - action "input-check": an input's SHA-256 shown as
 * hex and QR for the witnesses to compare with the paper record of what
 * was brought in (a CSR on its medium, CPS 4-12-1), then confirmed.
 */
#include <stdio.h>

#include "ceremony.h"
#include "err.h"
#include "hex.h"

static const struct hk_param_spec params[] = {
	{ "input", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *in = hk_script_param(st, "input");
	char what[4700], hex[65];
	int r;

	snprintf(what, sizeof(what), "input %s (%s)", in->value,
	    c->input_path[in->ref]);
	if ((r = hk_cer_confirm(c, st, what, c->input_sha[in->ref])) != 0)
		return r;
	hk_hex_encode(c->input_sha[in->ref], 32, hex);
	snprintf(res->detail, sizeof(res->detail), "input %s SHA-256 %s "
	    "confirmed", in->value, hex);
	return 0;
}

const struct hk_step_action hk_step_input_check = {
	{ "input-check", "show an input's SHA-256 (hex and QR) and have it "
	    "confirmed", params, 0, 0, 0 },
	run, NULL
};
