/*
 * cmd_destroy.c - "hanko-offline destroy": a root key destroyed at the end
 * of its life (CPS 6-2-1-9), with its backups made unusable.
 *
 * Order, so that a crash at any point leaves a state that a second run
 * finishes: (1) the per-key KEK seed is overwritten and removed, after which
 * no quorum can derive the KEK of any backup of the key, wherever a copy of
 * the file is kept; (2) the key objects are destroyed in the token and the
 * URI is checked to name nothing; (3) state.conf records root.N.destroyed.
 * Needs the quorum and the key label typed again (--yes-destroy LABEL).
 * The root key in force is refused before the quorum is asked for: only a
 * generation a rollover superseded, or one marked compromised, is at the
 * end of its life (hk_life_root_destroyable).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "offline.h"
#include "p11.h"

static const char destroy_usage[] =
"usage: hanko-offline destroy --state DIR --key root-N --yes-destroy root-N\n"
"           --share FILE [--passin SPEC] [--share FILE [--passin SPEC]]...\n"
"           [--clock YYYY-MM-DDTHH:MM:SSZ]\n";

/* Overwrite the sealed seed in place (the same inode, so the blocks that
 * held it, as far as the filesystem rewrites in place), fsync it, then
 * unlink it (a missing one is fine); so every other file of the seed: one
 * sealed under another quorum key (a re-key stopped before its commit
 * leaves the new key's, whose shares exist) or an interrupted write's
 * leftover (hk_sealed_retire). */
static int
seed_retire(struct hk_ca *ca, const char *label, int *retired)
{
	char rel[160], path[4096], name[96];
	int r;

	*retired = 0;
	snprintf(name, sizeof(name), "backup-seed-%s", label);
	/* the seed's file under the key in force (sealed.c) */
	if ((r = hk_sealed_path(ca, ca->qkey, name, rel, sizeof(rel), path,
	    sizeof(path))) != 0)
		return r;
	/* a seed whose look-up fails is not "no seed": said */
	if ((r = hk_path_lookup(path)) < 0)
		return r;
	return hk_sealed_retire(ca, name, retired);
}

int
hk_life_root_destroyable(struct hk_ca *ca, const char *label, const char *who)
{
	const char *cur = hk_state_get(ca->st, "root.current");
	const char *ckey = "root.current", *comp;
	char key[64], *end;
	long n, c;

	n = strtol(label + 5, NULL, 10);
	if (cur == NULL) {
		cur = hk_state_get(ca->st, "root.generations");
		ckey = "root.generations";
	}
	c = cur != NULL ? strtol(cur, &end, 10) : 0;
	if (cur == NULL || *cur == '\0' || *end != '\0' || c < 1) {
		hk_err_set("%s: %s/state.conf: %s = %s: not a root generation; "
		    "nothing destroyed", who, ca->st->dir, ckey,
		    cur ? cur : "(missing)");
		return HK_ERR_STATE;
	}
	snprintf(key, sizeof(key), "root.%ld.compromised", n);
	if ((comp = hk_state_get(ca->st, key)) != NULL || n < c)
		return 0;
	hk_err_set("%s: %s is the root key in force (state.conf: %s = %ld, "
	    "no %s): CPS 6-2-1-9 destroys a key at the end of its life, and "
	    "the CA signs its ARLs, rollover links and the issuing CA's next "
	    "certificate with this one; it may be destroyed once a rollover "
	    "has made a newer generation current (CPS 4-13, 6-3-1-2) or a "
	    "compromise ceremony has marked it %s (CPS 4-14-2); nothing "
	    "destroyed", who, label, ckey, c, key, key);
	return HK_ERR_STATE;
}

/* What hk_destroy refuses before anything is touched: a key that is not
 * a root key (usage), one the CA does not know or has destroyed
 * (hk_life_key), and the root key in force. ukey: hk_life_key's. */
static int
destroy_refused(struct hk_ca *ca, const char *key, char *ukey, size_t len)
{
	char who[96];
	int r;

	if (key == NULL || strncmp(key, "root-", 5) != 0) {
		hk_err_set("--key %s: key: only a root key (root-N) is "
		    "destroyed by this command", key ? key : "(none)");
		return HK_ERR_USAGE;
	}
	if ((r = hk_life_key(ca, key, ukey, len)) != 0)
		return r;
	snprintf(who, sizeof(who), "--key %s", key);
	return hk_life_root_destroyable(ca, key, who);
}

int
hk_destroy(struct hk_ca *ca, const struct destroy_opts *o)
{
	EVP_PKEY *priv = NULL;
	char ukey[64], dkey[64], uri[256], t[32];
	struct hk_err_kept why = { "" };
	int r, lost, retired = 0;

	if (ca->tok == NULL || ca->qkey == NULL) {
		hk_err_set("destroy: the token is not activated by a quorum");
		return HK_ERR_STATE;
	}
	if ((r = destroy_refused(ca, o->key, ukey, sizeof(ukey))) != 0)
		goto fail;
	if (o->confirm == NULL || strcmp(o->confirm, o->key) != 0) {
		hk_err_set("--yes-destroy %s: confirmation: must repeat the key "
		    "label '%s' exactly", o->confirm ? o->confirm : "(none)",
		    o->key);
		r = HK_ERR_USAGE;
		goto fail;
	}
	snprintf(uri, sizeof(uri), "%s", hk_state_get(ca->st, ukey));
	if ((r = hk_ca_audit(ca, "key.destroy.start", "ok", ca->actors,
	    "%s %s", o->key, uri)) != 0)
		goto fail;

	/* 1: the backups become unusable. */
	if ((r = seed_retire(ca, o->key, &retired)) != 0) {
		hk_ca_audit_warn(ca, "backup.seed.retire", "fail", ca->actors,
		    "%s: %s", o->key, hk_err_msg());
		goto fail;
	}
	/* The seed is gone: from here on a lost record does not stop the
	 * destruction (it cannot be undone), but the command ends in exit 6. */
	if ((r = hk_ca_audit(ca, "backup.seed.retire", "ok", ca->actors,
	    "%s: %s", o->key, retired ? "KEK seed overwritten and removed: no "
	    "quorum can open a backup of this key" : "no KEK seed (never "
	    "backed up or already retired)")) != 0)
		goto fail;

	/* 2: the key objects in the token. */
	if ((r = hk_token_key_destroy(ca->tok, (const unsigned char *)o->key,
	    strlen(o->key))) != 0) {
		hk_ca_audit_warn(ca, "key.destroy", "fail", ca->actors,
		    "%s: %s", o->key, hk_err_msg());
		goto fail;
	}
	if ((r = hk_token_key(ca->tok, uri, &priv, NULL)) != HK_ERR_NOT_FOUND) {
		EVP_PKEY_free(priv);
		hk_err_set("%s: still found in the token after C_DestroyObject",
		    uri);
		r = HK_ERR_P11;
		hk_ca_audit_warn(ca, "key.destroy", "fail", ca->actors,
		    "%s: %s", o->key, hk_err_msg());
		goto fail;
	}
	/* The key is gone: state.conf must say so even when the log cannot
	 * take the record, and then the command ends in exit 6. */
	lost = hk_ca_audit(ca, "key.destroy", "ok", ca->actors, "%s: private "
	    "and public key objects destroyed; %s names nothing", o->key, uri);
	if (lost != 0)
		hk_err_keep(&why);

	/* 3: the record. */
	hk_time_format(hk_clock_now(), t, sizeof(t));
	snprintf(dkey, sizeof(dkey), "root.%s.destroyed", o->key + 5);
	if ((r = hk_state_set(ca->st, dkey, t)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0)
		goto fail;
	if (lost == 0)
		lost = hk_ca_audit(ca, "key.destroy.done", "ok", ca->actors,
		    "%s destroyed at %s (CPS 6-2-1-9)", o->key, t);
	if (lost != 0) {
		if (why.msg[0] == '\0')
			hk_err_keep(&why);
		hk_err_set("%s destroyed and recorded in state.conf, but %s",
		    o->key, why.msg);
		return lost;
	}
	printf("Key %s destroyed in token %s; its backups can no longer be "
	    "opened by any quorum.\n", o->key,
	    hk_state_get(ca->st, "token.label"));
	return hk_ca_checkpoint(ca);
 fail:
	hk_ca_audit_warn(ca, "key.destroy.done", "fail", ca->actors, "%s: %s",
	    o->key ? o->key : "-", hk_err_msg());
	hk_life_checkpoint_keep_err(ca);
	return r;
}

int
cmd_destroy(int argc, char **argv)
{
	struct hk_ca_args a = { 0 };
	struct destroy_opts o = { 0 };
	const struct hk_ca_opt opts[] = {
		{ "--key", &o.key, NULL, 0 },
		{ "--yes-destroy", &o.confirm, NULL, 0 },
		{ NULL, NULL, NULL, 0 }
	};
	struct hk_ca *ca = NULL;
	char ukey[64];
	int r;

	if ((r = hk_ca_parse(&a, opts, destroy_usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (o.key == NULL || o.confirm == NULL || strcmp(o.key, o.confirm)) {
		hk_err_set("--yes-destroy %s: confirmation: must repeat --key "
		    "%s exactly", o.confirm ? o.confirm : "(none)",
		    o.key ? o.key : "(none)");
		return HK_ERR_USAGE;
	}
	if ((r = hk_ca_open(&a.c, "destroy", &ca)) != 0)
		return r;
	if ((r = hk_ca_audit(ca, "key.destroy.request", "ok", "-", "%s",
	    o.key)) != 0)
		goto out;
	/* Refused before the key managers are asked for their shares. */
	if ((r = destroy_refused(ca, o.key, ukey, sizeof(ukey))) != 0) {
		hk_ca_audit_warn(ca, "key.destroy.done", "fail", "-", "%s: %s",
		    o.key, hk_err_msg());
		goto out;
	}
	if ((r = hk_ca_activate(ca, a.shares, a.nshares)) != 0) {
		hk_ca_audit_warn(ca, "key.destroy.done", "fail", ca->actors,
		    "%s: %s", o.key, hk_err_msg());
		goto out;
	}
	r = hk_destroy(ca, &o);
 out:
	hk_ca_close(ca);
	return r;
}
