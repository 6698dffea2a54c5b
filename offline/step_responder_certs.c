/*
 * step_responder_certs.c - action "responder-cert": the certificate of an
 * OCSP responder or of the official certificate validation server where
 * the root issues it (CPS 5-2-1-1 (6)), from its PKCS#10 request checked
 * by an earlier csr-check step: certs/ocsp-<n>.der or
 * certs/validation-<n>.der (+ .pem), n = <kind>.current + 1.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "err.h"

static const struct hk_param_spec params[] = {
	{ "request", HK_PARAM_STEP, 1, 0, 0, NULL, "csr-check", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_step *check;
	enum hk_iss_kind k;
	int r, input;

	if ((r = hk_iss_request(c, st, &check, &input, &k)) != 0)
		return r;
	if (k != HK_ISS_OCSP && k != HK_ISS_VALIDATION) {
		hk_err_set("%s: step %s: request: step %s checked a %s request; "
		    "responder-cert issues ocsp or validation",
		    c->script->file, st->id, check->id, hk_iss_kind_name(k));
		return HK_ERR_INVALID;
	}
	return hk_iss_issue(c, st, res, k, 0, NULL);
}

const struct hk_step_action hk_step_responder_cert = {
	{ "responder-cert", "sign an OCSP responder or validation server "
	    "certificate (next number) under the current root key",
	    params, 0, 1, 1 },
	run, hk_iss_undo_files
};
