/*
 * step_root_commit.c - action "root-commit": generation 1 recorded in
 * state.conf; from here on the root key and certificate are the CA's and a
 * later failure no longer removes them.
 */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"

int
hk_root_commit(struct hk_ca *ca, struct hk_root_key *k, const char *certrel,
    const char *fp)
{
	char t[32], why[HK_ERR_DETAIL_MAX];
	int r, placed = 0, saved;

	hk_time_format(hk_clock_now(), t, sizeof(t));
	if ((r = hk_state_set(ca->st, "root.generations", "1")) != 0 ||
	    (r = hk_state_set(ca->st, "root.1.key-uri", k->uri)) != 0 ||
	    (r = hk_state_set(ca->st, "root.1.cert", certrel)) != 0 ||
	    (r = hk_state_set(ca->st, "root.1.created", t)) != 0)
		return r;
	/* A state.conf in place whose folder's fsync then failed names
	 * root-1 all the same: kept and recorded, not undone (state.conf
	 * naming a key destroyed and a certificate removed); the failure is
	 * said after the record. */
	if ((saved = hk_state_save_placed(ca->st, &placed)) != 0 && !placed)
		return saved;
	snprintf(why, sizeof(why), "%s", saved != 0 ? hk_err_msg() : "");
	k->made = 0;	/* the key is the CA's now */
	/* Kept whatever happens now; a record lost here is exit 6. */
	if ((r = hk_ca_audit(ca, "root.create", "ok", ca->actors, "generation "
	    "1 SHA-256 %s", fp)) != 0 || saved == 0)
		return r;
	hk_err_set("root-1 is made and named by state.conf (%s, its key on "
	    "the token): kept; but %s", certrel, why);
	return saved;
}

static const struct hk_param_spec params[] = {
	{ "certificate", HK_PARAM_STEP, 1, 0, 0, NULL, "root-self-sign", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *cp = hk_script_param(st, "certificate");
	const struct hk_script_step *sign = &c->script->steps[cp->ref];
	struct hk_step_result *sr = &c->res[cp->ref];
	struct hk_step_result *kr = hk_cer_ref_result(c, sign, "key");
	struct hk_root_key k;
	char rel[256], fp[96];
	int r, di;

	if (kr->key_id_len != 6 || memcmp(kr->key_id, "root-1", 6) != 0) {
		hk_err_set("step %s: root-commit records generation 1 only; a "
		    "new generation is kept by rollover-commit", st->id);
		return HK_ERR_INVALID;
	}
	(void)hk_cer_ref_output(c, sign, "der", &di);
	snprintf(rel, sizeof(rel), "%s", c->script->outputs[di].path);
	memset(&k, 0, sizeof(k));
	memcpy(k.uri, kr->key_uri, sizeof(k.uri));
	k.made = kr->key_made;
	hk_cert_fingerprint_text(sr->cert, fp);
	r = hk_root_commit(c->ca, &k, rel, fp);
	if (k.made == 0) {
		kr->key_made = 0;	/* no undo removes them any more */
		sr->nwritten = 0;
	}
	if (r != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "generation 1 recorded: "
	    "%s, %s", kr->key_uri, rel);
	return 0;
}

const struct hk_step_action hk_step_root_commit = {
	{ "root-commit", "record the root (generation 1) in state.conf; it "
	    "is kept from here on", params, 0, 0, 1 },
	run, NULL
};
