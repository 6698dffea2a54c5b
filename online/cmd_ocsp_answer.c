/*
 * cmd_ocsp_answer.c - "hanko-online ocsp-answer" (not in --help; for
 * operators' offline checks and the tests): answer one DER OCSPRequest
 * from a file the way serve does, without a network: hk_ocsp_answer as
 * the network worker would, and when that asks for a signature,
 * hk_ocsp_sign_job as the key holder would (docs/ocsp.md). The response
 * (DER) is written to --out, which must not exist; one line on stdout says
 * which path answered: "ready", "signed" or "error <status>: <detail>".
 * An error response is an answer, not a failure: the exit status is 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "ocsp.h"
#include "online.h"

#define READ_MAX	(1 << 20)	/* bytes read: larger is refused */

struct ocsp_answer_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *request;		/* --request FILE (DER) */
	const char *out;		/* --out FILE: the response */
};

static const char ocsp_answer_usage[] =
"usage: hanko-online ocsp-answer --state DIR --request FILE --out FILE "
"[--clock T]\n";

static int
parse(struct ocsp_answer_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--request", .value = &o->request, .required = 1 },
		{ .name = "--out", .value = &o->out, .required = 1 },
		{ .name = NULL },
	};

	memset(o, 0, sizeof(*o));
	return hk_online_parse(&o->c, argc, argv, ocsp_answer_usage, args,
	    NULL);
}

/* The key holder's part, as serve's would do it. */
static int
sign(struct hk_online *on, const unsigned char *job, size_t job_len,
    time_t now, unsigned char **resp, size_t *resp_len, char *detail,
    size_t detail_len)
{
	struct hk_ocsp_signer *sg = NULL;
	int r;

	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_ocsp_signer_open(on, &sg)) != 0 ||
	    (r = hk_ocsp_sign_job(sg, job, job_len, now, resp,
	    resp_len)) != 0) {
		hk_online_audit(on, "ocsp.sign", "fail", "ocsp-answer: %s",
		    hk_err_msg());
		if (on->tok != NULL)
			hk_online_checkpoint_keep_err(on);
		goto out;
	}
	if (hk_ocsp_response_status(*resp, *resp_len) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		/* the key holder's unsigned refusal: not a signature */
		snprintf(detail, detail_len, "%s", hk_err_msg());
		r = 0;
		goto out;
	}
	hk_online_audit(on, "ocsp.sign", "ok", "ocsp-answer: a response "
	    "signed for the request in a file (job of %zu bytes)", job_len);
	r = hk_online_checkpoint(on);
 out:
	hk_ocsp_signer_free(sg);
	return r;
}

static const char *
status_name(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *o = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	const char *s = "?";

	if (o != NULL)
		s = OCSP_response_status_str(OCSP_response_status(o));
	OCSP_RESPONSE_free(o);
	return s;
}

int
cmd_ocsp_answer(int argc, char **argv)
{
	struct ocsp_answer_opts o;
	struct hk_online *on = NULL;
	struct hk_ocsp_ctx *ctx = NULL;
	enum hk_ocsp_outcome out;
	unsigned char *req = NULL, *resp = NULL, *job = NULL;
	size_t req_len = 0, resp_len = 0, job_len = 0;
	char detail[1024];
	time_t now;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (hk_path_exists(o.out)) {
		hk_err_set("%s: already exists; the response is never written "
		    "over a file", o.out);
		return HK_ERR_EXISTS;
	}
	/* it signs at the clock and stores a one-serial answer as
	 * ocsp-refresh does, which is refused (docs/clock.md) */
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;
	if ((r = hk_online_open(&o.c, &on)) != 0 ||
	    (r = hk_file_read(o.request, READ_MAX, &req, &req_len)) != 0 ||
	    (r = hk_ocsp_ctx_open(o.c.state, &ctx)) != 0)
		goto out;
	now = hk_clock_now();
	if ((r = hk_ocsp_answer(ctx, req, req_len, now, &out, &resp,
	    &resp_len, &job, &job_len)) != 0)
		goto out;
	snprintf(detail, sizeof(detail), "%s", hk_err_msg());
	if (out == HK_OCSP_NEEDS_SIGNING && (r = sign(on, job, job_len, now,
	    &resp, &resp_len, detail, sizeof(detail))) != 0)
		goto out;
	if ((r = hk_file_write(o.out, resp, resp_len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	if (out == HK_OCSP_READY)
		printf("ready: the pre-signed response, %zu bytes\n", resp_len);
	else if (out == HK_OCSP_NEEDS_SIGNING && hk_ocsp_response_status(resp,
	    resp_len) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		printf("error %s: %s\n", status_name(resp, resp_len), detail);
	else if (out == HK_OCSP_NEEDS_SIGNING)
		printf("signed: %zu bytes\n", resp_len);
	else
		printf("error %s: %s\n", status_name(resp, resp_len), detail);
 out:
	free(req);
	free(resp);
	free(job);
	hk_ocsp_ctx_free(ctx);
	hk_online_close(on);
	return r;
}
