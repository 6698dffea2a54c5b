/*
 * step_root_keygen.c - action "root-keygen": the root key of the governor
 * (知事) generated inside the token (CPS 6-1-1-1, 6-1-1-2, 6-2-1-6), and
 * the key building blocks "create-root" shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "ceremony.h"
#include "err.h"
#include "p11.h"
#include "profile.h"
#include "step_rollover.h"

int
hk_root_precheck(struct hk_ca *ca, const char *state, const char *der,
    const char *pem)
{
	const char *gen = hk_state_get(ca->st, "root.generations");

	if (gen == NULL || strcmp(gen, "0") != 0) {
		hk_err_set("%s: the root exists already (generation %s); a new "
		    "root key is made by the rollover ceremony", state,
		    gen ? gen : "?");
		return HK_ERR_EXISTS;
	}
	if (hk_path_exists(der) || hk_path_exists(pem)) {
		hk_err_set("%s: already exists; refusing to overwrite", der);
		return HK_ERR_EXISTS;
	}
	return 0;
}

int
hk_root_keygen(struct hk_ca *ca, const struct hk_profile *p,
    struct hk_root_key *k)
{
	const char *g = hk_state_get(ca->st, "root.generations");
	enum hk_p11_keytype type;
	char label[16];
	long gen;
	int r;

	/* generation 1 at init-root, n + 1 at a rollover (CPS 4-13) */
	gen = g != NULL ? strtol(g, NULL, 10) : 0;
	if (gen < 0 || gen >= 999) {
		hk_err_set("state.conf: root.generations: \"%s\" is not 0..998",
		    g);
		return HK_ERR_STATE;
	}
	type = p->root_key == HK_KEY_EC_P384 ? HK_P11_EC : HK_P11_RSA;
	snprintf(label, sizeof(label), "root-%ld", gen + 1);
	memcpy(k->id, label, strlen(label));
	k->idlen = strlen(label);
	/* a ceremony's journal names the key before it exists */
	if (k->before != NULL && (r = k->before(k->before_arg, k->id,
	    k->idlen)) != 0) {
		hk_ca_audit_warn(ca, "key.generate", "fail", ca->actors,
		    "%s: %s", label, hk_err_msg());
		return r;
	}
	if ((r = hk_token_keygen(ca->tok, type, hk_key_alg_bits(p->root_key),
	    label, k->id, k->idlen)) != 0) {
		hk_ca_audit_warn(ca, "key.generate", "fail", ca->actors,
		    "%s: %s", label, hk_err_msg());
		return r;
	}
	k->made = 1;
	if ((r = hk_p11_uri(hk_state_get(ca->st, "token.label"), k->id,
	    k->idlen, k->uri, sizeof(k->uri))) != 0 ||
	    (r = hk_token_key(ca->tok, k->uri, &k->priv, &k->pub)) != 0)
		return r;
	/* A key the log does not hold is not kept: the caller's undo
	 * (k->made) destroys it. */
	return hk_ca_audit(ca, "key.generate", "ok", ca->actors, "%s %s in "
	    "the token, non-extractable: %s", label,
	    hk_key_alg_name(p->root_key), k->uri);
}

void
hk_root_key_undo(struct hk_ca *ca, struct hk_root_key *k)
{
	if (k->made && ca->tok != NULL &&
	    hk_token_key_destroy(ca->tok, k->id, k->idlen) == 0) {
		hk_ca_audit_warn(ca, "key.destroy", "ok", ca->actors,
		    "%.*s removed: the ceremony failed before the "
		    "certificate was kept", (int)k->idlen, (const char *)k->id);
		k->made = 0;
	}
}

/* The ceremony action. */

static int
journal_key(void *arg, const unsigned char *id, size_t idlen)
{
	return hk_cer_journal_key(arg, id, idlen);
}

static const char *const key_algs[] = { "rsa-2048", "rsa-3072", "rsa-4096",
    "ec-p384", NULL };

static const struct hk_param_spec params[] = {
	{ "algorithm", HK_PARAM_ENUM, 1, 0, 0, key_algs, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *alg = hk_script_param(st, "algorithm");
	struct hk_root_key k;
	int r;

	memset(&k, 0, sizeof(k));
	if ((long)c->profile->root_key != alg->ival) {
		hk_err_set("%s:%lu:%lu: step %s: algorithm %s, but the CA's "
		    "profile says %s", c->script->file, alg->line, alg->col,
		    st->id, alg->value, hk_key_alg_name(c->profile->root_key));
		return HK_ERR_INVALID;
	}
	/* A rollover's script (it links the new root to the current one)
	 * on a CA with no root yet: refused before a key is made, not after
	 * root-1 was made and then undone by the link step. */
	if (hk_life_generation(c) == 0) {
		size_t i;

		for (i = 0; i < c->script->nsteps; i++)
			if (strncmp(c->script->steps[i].spec->name,
			    "rollover-", 9) == 0) {
				hk_err_set("%s: no root yet: step %s (%s) makes "
				    "the next root generation of a CA that "
				    "has one; run the init-root ceremony "
				    "first", c->ca->st->dir,
				    c->script->steps[i].id,
				    c->script->steps[i].spec->name);
				return HK_ERR_STATE;
			}
	}
	/* A new generation needs the links from the current one: refused
	 * here, before a key is made, when they may not be signed. */
	if (hk_life_generation(c) > 0 && (r = hk_life_root_may_sign(c,
	    hk_life_generation(c), HK_ROOT_LINK)) != 0)
		return r;
	k.before = journal_key;
	k.before_arg = c;
	if ((r = hk_root_keygen(c->ca, c->profile, &k)) != 0) {
		hk_root_key_undo(c->ca, &k);
		EVP_PKEY_free(k.priv);
		EVP_PKEY_free(k.pub);
		return r;
	}
	res->priv = k.priv;
	res->pub = k.pub;
	memcpy(res->key_uri, k.uri, sizeof(k.uri));
	memcpy(res->key_id, k.id, k.idlen);
	res->key_id_len = k.idlen;
	res->key_made = 1;
	snprintf(res->detail, sizeof(res->detail), "%.*s %s generated in "
	    "the token: %s", (int)k.idlen, (const char *)k.id, alg->value,
	    k.uri);
	return 0;
}

static void
undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	struct hk_root_key k;

	(void)st;
	memset(&k, 0, sizeof(k));
	memcpy(k.id, res->key_id, res->key_id_len);
	k.idlen = res->key_id_len;
	k.made = res->key_made;
	hk_root_key_undo(c->ca, &k);
	if (res->key_made && !k.made)
		res->undone = 1;
	res->key_made = k.made;
}

const struct hk_step_action hk_step_root_keygen = {
	{ "root-keygen", "generate the next root key (root-1, or root-<n+1> at a rollover) inside the token",
	    params, 0, 0, 1 },
	run, undo
};
