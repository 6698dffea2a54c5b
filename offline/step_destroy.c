/*
 * step_destroy.c - action "destroy": a root key destroyed at the end of its
 * life by the key managers' quorum (CPS 6-2-1-9), its backups made unusable
 * (the KEK seed retired first), by hk_destroy. The root key in force (no
 * newer generation made current by a rollover, not marked compromised) is
 * refused before anyone is asked for the label (hk_life_root_destroyable).
 * The key's label must be typed at the terminal before anything is
 * destroyed; --confirm-digests answers it in a rehearsal only. No undo:
 * what is destroyed stays so.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "err.h"

static const struct hk_param_spec params[] = {
	{ "key", HK_PARAM_STR, 1, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* The label typed at the terminal (or the rehearsal's automatic answer)
 * into ans; audited either way. */
static int
confirm_label(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res, const char *key, char *ans, size_t len)
{
	const char *token = hk_state_get(c->ca->st, "token.label");
	char prompt[HK_SCRIPT_VALUE_MAX + 96], sig[64];
	size_t n;
	int r;

	printf("\nStep %s: DESTROY %s in token %s and retire its backup KEK "
	    "seed (CPS 6-2-1-9).\n  This cannot be undone: no backup of %s "
	    "will open again.\n", st->id, key, token ? token : "?", key);
	fflush(stdout);
	if (c->confirm_auto) {
		snprintf(ans, len, "%s", key);
		printf("  confirmed by --confirm-digests (rehearsal)\n");
		return hk_ca_audit(c->ca, "ceremony.confirm", "ok", res->actors,
		    "step %s: destroy %s confirmed by --confirm-digests", st->id,
		    key);
	}
	snprintf(prompt, sizeof(prompt), "Type the label of the key to "
	    "destroy (%s) to confirm; anything else refuses: ", key);
	r = hk_cer_ask(prompt, ans, len);
	if (r == HK_ERR_TTY) {
		hk_err_set("step %s: destroying %s needs its label typed at "
		    "the terminal (--confirm-digests only in a rehearsal); "
		    "nothing destroyed", st->id, key);
		goto fail;
	}
	if (r == 1) {
		(void)hk_cer_interrupted(sig, sizeof(sig));
		hk_err_set("step %s: the confirmation was interrupted by %s: "
		    "refused; nothing destroyed", st->id, sig);
		r = HK_ERR_TTY;
		goto fail;
	}
	n = strcspn(ans, "\r\n");
	ans[n] = '\0';
	if (strcmp(ans, key) != 0) {
		hk_err_set("step %s: the confirmation typed is not the key "
		    "label '%s'; nothing destroyed", st->id, key);
		r = HK_ERR_INVALID;
		goto fail;
	}
	return hk_ca_audit(c->ca, "ceremony.confirm", "ok", res->actors,
	    "step %s: destroy %s confirmed at the terminal", st->id, key);
fail:
	hk_ca_audit_warn(c->ca, "ceremony.confirm", "fail", res->actors,
	    "step %s: %s", st->id, hk_err_msg());
	return r;
}

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *key = hk_script_param(st, "key");
	struct destroy_opts o;
	char ukey[64], ans[HK_SCRIPT_VALUE_MAX + 2], who[4200];
	int r;

	/* Refuse what hk_destroy would refuse before asking anyone to type. */
	if (strncmp(key->value, "root-", 5) != 0) {
		hk_err_set("%s:%lu:%lu: step %s: key %s: only a root key "
		    "(root-N) is destroyed by this action", c->script->file,
		    key->line, key->col, st->id, key->value);
		return HK_ERR_INVALID;
	}
	if ((r = hk_life_key(c->ca, key->value, ukey, sizeof(ukey))) != 0)
		return r;
	snprintf(who, sizeof(who), "%s:%lu:%lu: step %s", c->script->file,
	    key->line, key->col, st->id);
	if ((r = hk_life_root_destroyable(c->ca, key->value, who)) != 0)
		return r;
	if ((r = confirm_label(c, st, res, key->value, ans,
	    sizeof(ans))) != 0)
		return r;
	memset(&o, 0, sizeof(o));
	o.key = key->value;
	o.confirm = ans;
	if ((r = hk_destroy(c->ca, &o)) != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "%s destroyed in token %s "
	    "(confirmed by its label%s); its KEK seed retired: no backup of it "
	    "opens", key->value, hk_state_get(c->ca->st, "token.label"),
	    c->confirm_auto ? ", rehearsal" : " typed at the terminal");
	return 0;
}

const struct hk_step_action hk_step_destroy = {
	{ "destroy", "destroy a root key (root-N) in the token and retire its "
	    "backups, after its label is typed", params, 1, 0, 1 },
	run, NULL
};
