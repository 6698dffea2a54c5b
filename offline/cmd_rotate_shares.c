/*
 * cmd_rotate_shares.c - "hanko-offline rotate-shares": the quorum key
 * re-shared to a new roster of key managers (DESIGN.md 4, CPS 5-2-1-1,
 * 5-3-3; docs/key-lifecycle.md "Re-sharing").
 *
 * m shares of the current set recover the quorum key; it is dealt again
 * (same key, new set id, the new roster's threshold) and each new holder's
 * share is sealed under their new passphrase on their medium. The sealed
 * PINs and backup seeds stay valid: the key does not change.
 *
 * Crash safety: everything new is written beside the current set first
 * (quorum.set.new, the new shares, quorum.set.<old>.retired, roster.yaml.new);
 * the commit is one rename(2) of quorum.set.new over quorum.set. Before it
 * the old set is the CA's and the new shares are refused as foreign; after
 * it the new set is, and the old shares are refused, named as the retired
 * set's. The roster copy and state.conf's quorum.set-id follow the commit;
 * a re-run (or status) sees quorum.set as the one authority.
 *
 * With --new-quorum-key (docs/key-lifecycle.md "Changing the quorum key")
 * the new set is dealt from a fresh random key, and before the commit
 * every secret of secrets/ is sealed again under it as a new file named by
 * its key id, with the old key in a history sealed under the new one (old
 * backups): the same rename switches the shares and the files activation
 * reads (sealed.c). After it, the files sealed under the old key are
 * removed (a crash before that: by the next activation), so m old shares
 * and the retired set open nothing the state holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "quorum.h"
#include "roster.h"
#include "secmem.h"

static const char rotate_usage[] =
"usage: hanko-offline rotate-shares --state DIR --roster FILE --media DIR\n"
"           [--passin ID=SPEC]... [--kdf LEVEL] [--new-quorum-key]\n"
"           --share FILE [--passin SPEC] [--share FILE [--passin SPEC]]...\n"
"           [--clock YYYY-MM-DDTHH:MM:SSZ]\n";

/* What a rotation builds, freed and wiped in one place. */
struct rot {
	struct hk_roster *roster;	/* the new roster */
	unsigned char *roster_buf;	/* its bytes, copied verbatim */
	size_t roster_len;
	char *pass[HK_QUORUM_MAX_SHARES];	/* secure memory */
	char path[HK_QUORUM_MAX_SHARES][4096];	/* new share files */
	int written;			/* share files made so far */
	struct hk_quorum_dealer *dealer;
	struct hk_quorum_set *old;	/* the current set */
	char newset[4096];		/* <state>/quorum.set.new */
	int newset_made;
	char retired[4096];		/* <state>/quorum.set.<old>.retired */
	int retired_made;
	char roster_new[4096];		/* <state>/roster.yaml.new */
	int roster_new_made;
	struct hk_rekey rk;		/* secrets sealed under the new key */
};

/* The new roster, passphrases and share paths, all checked. */
static int
prepare(struct hk_ca *ca, const struct rotate_shares_opts *o, struct rot *w,
    const char *tag)
{
	size_t i, n;
	int k, r;

	/* the bytes read once (hk_rotate_shares), put in force verbatim */
	if ((r = hk_roster_load_buf(o->roster, w->roster_buf, w->roster_len,
	    &w->roster)) != 0)
		return r;
	n = hk_roster_key_managers(w->roster);
	for (k = 0; k < o->npassin; k++) {
		char id[80];
		const struct hk_person *p;
		size_t len = (size_t)(o->passin_spec[k] - 1 - o->passin_id[k]);
		snprintf(id, sizeof(id), "%.*s", (int)len, o->passin_id[k]);
		p = hk_roster_find(w->roster, id);
		if (p == NULL || p->role != HK_ROLE_KEY_MANAGER) {
			hk_err_set("--passin %s=...: %s is not a key manager "
			    "of the new roster %s", id, id, o->roster);
			return HK_ERR_USAGE;
		}
	}
	for (i = 0; i < n; i++) {
		const struct hk_person *km = hk_roster_key_manager(w->roster, i);
		int len = snprintf(w->path[i], sizeof(w->path[i]),
		    "%s/%s/share-%zu-%s-%s%s", o->media, km->id, i + 1, km->id,
		    tag, HK_QUORUM_SHARE_SUFFIX);
		if (len < 0 || (size_t)len >= sizeof(w->path[i])) {
			hk_err_set("--media %s: path too long", o->media);
			return HK_ERR_INVALID;
		}
		if (hk_path_exists(w->path[i])) {
			hk_err_set("%s: already exists; refusing to overwrite "
			    "a key manager's share", w->path[i]);
			return HK_ERR_EXISTS;
		}
	}
	(void)ca;
	return hk_newset_passphrases(w->roster, o->passin_id, o->passin_spec,
	    o->npassin, " of the new set", w->pass);
}

static void
cleanup(struct rot *w, int failed)
{
	int i;

	if (failed) {
		for (i = 0; i < w->written; i++)
			unlink(w->path[i]);
		if (w->newset_made)
			unlink(w->newset);
		/* The set in force is not retired, and no roster waits. */
		if (w->retired_made)
			unlink(w->retired);
		if (w->roster_new_made)
			unlink(w->roster_new);
	}
	hk_rekey_free(&w->rk, failed);
	for (i = 0; i < HK_QUORUM_MAX_SHARES; i++)
		hk_secret_free(w->pass[i]);
	hk_quorum_dealer_free(w->dealer);
	hk_quorum_set_free(w->old);
	hk_roster_free(w->roster);
	free(w->roster_buf);
}

int
hk_rotate_shares(struct hk_ca *ca, const struct rotate_shares_opts *o)
{
	struct rot *w;
	const char *holders[HK_QUORUM_MAX_SHARES];
	const struct hk_quorum_set *ns;
	char path[4096], rel[256], oldid[33], newid[33], tag[9];
	struct hk_err_kept why;
	size_t i, n;
	int r, lost = 0, committed = 0;

	if (ca->tok == NULL || ca->qkey == NULL) {
		hk_err_set("rotate-shares: the token is not activated by a "
		    "quorum");
		return HK_ERR_STATE;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HK_ERR_ALLOC;
	if (o->roster == NULL || o->media == NULL) {
		hk_err_set("rotate-shares: --roster and --media are required");
		r = HK_ERR_USAGE;
		goto fail;
	}
	if ((r = hk_state_path(ca->st, HK_QUORUM_SET_FILE, path,
	    sizeof(path))) != 0 || (r = hk_quorum_set_read(path, &w->old)) != 0)
		goto fail;
	hk_hex_encode(w->old->id, HK_QUORUM_ID_LEN, oldid);
	/* A re-key that stopped before its commit left files sealed under
	 * a key never in force: they go before this one writes its own. */
	if (o->new_key && (r = hk_sealed_tidy(ca, ca->qkey, 1)) != 0)
		goto fail;
	/* The new roster is read once: what is checked, dealt to and put
	 * in force is the same bytes. */
	if (o->roster_buf != NULL) {
		if ((w->roster_buf = malloc(o->roster_len + 1)) == NULL) {
			r = HK_ERR_ALLOC;
			goto fail;
		}
		memcpy(w->roster_buf, o->roster_buf, o->roster_len);
		w->roster_len = o->roster_len;
	} else if ((r = hk_file_read(o->roster, 1 << 20, &w->roster_buf,
	    &w->roster_len)) != 0)
		goto fail;
	/* Deal first: the new share files are named after the new set id
	 * (first 8 hex digits) so they never collide with the old ones on
	 * the same medium. Nothing is written until prepare() passes. */
	{
		struct hk_roster *ro = NULL;
		/* Everyone but the key managers as approved, and no
		 * credential changed but by its holder: the new roster is
		 * put in force (and approved, in the ceremony with the CA
		 * manager present) as it is (roster_check.c). */
		if ((r = hk_roster_load_buf(o->roster, w->roster_buf,
		    w->roster_len, &ro)) != 0)
			goto fail;
		if ((r = hk_roster_approvable(ca, ro, o->roster, 1)) != 0) {
			hk_roster_free(ro);
			goto fail;
		}
		n = hk_roster_key_managers(ro);
		for (i = 0; i < n; i++)
			holders[i] = hk_roster_key_manager(ro, i)->id;
		/* A new key: a fresh random one (NULL), else the same. */
		r = hk_quorum_deal(o->new_key ? NULL : ca->qkey,
		    (int)ro->threshold, (int)n, holders, &w->dealer);
		hk_roster_free(ro);
		if (r != 0)
			goto fail;
	}
	ns = hk_quorum_dealer_set(w->dealer);
	hk_hex_encode(ns->id, HK_QUORUM_ID_LEN, newid);
	snprintf(tag, sizeof(tag), "%.8s", newid);
	if ((r = prepare(ca, o, w, tag)) != 0)
		goto fail;
	n = hk_roster_key_managers(w->roster);
	if ((r = hk_ca_audit(ca, "quorum.rotate.start", "ok", ca->actors, "set "
	    "%s (%d of %d) to new set %s (%d of %zu) for roster %s%s", oldid,
	    w->old->m, w->old->n, newid, ns->m, n, o->roster, o->new_key ?
	    ", with a new quorum key" : "")) != 0)
		goto fail;

	/* 1: the new set beside the current one (a stale .new from a crash
	 * is never read, so it is replaced). */
	if ((r = hk_state_path(ca->st, HK_QUORUM_SET_FILE ".new", w->newset,
	    sizeof(w->newset))) != 0)
		goto fail;
	if ((r = hk_quorum_set_write(w->newset, ns, 0)) != 0)
		goto fail;
	w->newset_made = 1;

	/* 2: each new holder's share on their medium. */
	for (i = 0; i < n; i++) {
		const struct hk_person *km = hk_roster_key_manager(w->roster, i);
		if ((r = hk_newset_media_dir(o->media, km->id)) != 0)
			goto fail;
		if ((r = hk_quorum_share_write(w->dealer, (int)i + 1,
		    w->pass[i], o->kdf_level, w->path[i])) != 0) {
			hk_ca_audit_warn(ca, "share.issue", "fail", km->id,
			    "share %zu of set %s to %s: %s", i + 1, newid,
			    w->path[i], hk_err_msg());
			goto fail;
		}
		w->written = (int)i + 1;
		/* A share the log does not hold is removed (cleanup). */
		if ((r = hk_ca_audit(ca, "share.issue", "ok", km->id, "share "
		    "%zu of set %s to %s", i + 1, newid, w->path[i])) != 0)
			goto fail;
	}

	/* 2b: every secret sealed again under the new key, as new files
	 * that only the new set's key chooses (sealed.c). */
	if (o->new_key && (r = hk_sealed_rekey(ca,
	    hk_quorum_dealer_key(w->dealer), &w->rk)) != 0)
		goto fail;

	/* 3: the retired copy of the current set, and the new roster. */
	w->old->retired = 1;
	snprintf(rel, sizeof(rel), "%s.%s.retired", HK_QUORUM_SET_FILE, oldid);
	if ((r = hk_state_path(ca->st, rel, w->retired,
	    sizeof(w->retired))) != 0 ||
	    (r = hk_quorum_set_write(w->retired, w->old, 0)) != 0)
		goto fail;
	w->retired_made = 1;
	if ((r = hk_state_path(ca->st, "roster.yaml.new", w->roster_new,
	    sizeof(w->roster_new))) != 0 || (r = hk_file_write(w->roster_new,
	    w->roster_buf, w->roster_len, 0644, 0)) != 0)
		goto fail;
	w->roster_new_made = 1;

	/* 4: the commit. */
	if ((r = hk_state_path(ca->st, HK_QUORUM_SET_FILE, path,
	    sizeof(path))) != 0)
		goto fail;
	if (rename(w->newset, path) != 0) {
		hk_err_set("%s: cannot put the new set in place: %s", path,
		    strerror(errno));
		r = HK_ERR_IO;
		goto fail;
	}
	committed = 1;
	w->newset_made = 0;
	if (o->new_key) {
		/* The CA's key is the new one from here on. */
		uint8_t *k = hk_secret_alloc(HK_QUORUM_KEY_LEN);
		if (k == NULL) {
			r = HK_ERR_ALLOC;
			goto fail;
		}
		memcpy(k, hk_quorum_dealer_key(w->dealer), HK_QUORUM_KEY_LEN);
		hk_secret_free(ca->qkey);
		ca->qkey = k;
	}
	if ((r = hk_dir_sync(path)) != 0)
		goto fail;
	/* Committed: the roster and state.conf follow even when the log
	 * cannot take the record, and then the command ends in exit 6. */
	{
		char kid[HK_SEALED_KID_LEN + 1];
		hk_sealed_key_id(ca->qkey, kid);
		if ((lost = hk_ca_audit(ca, "quorum.rotate", "ok", ca->actors,
		    "set %s is the CA's%s%s%s; set %s retired (%s): its shares "
		    "are refused", newid, o->new_key ? ", with the new quorum "
		    "key " : "", o->new_key ? kid : "", o->new_key ? " (the "
		    "secrets sealed again under it)" : "", oldid, rel)) != 0)
			hk_err_keep(&why);
	}

	/* 5: the roster copy and state.conf follow. */
	{
		char from[4096], old_roster[4096], to[4096];
		unsigned char *ob = NULL;
		size_t olen;
		if ((r = hk_state_path(ca->st, "roster.yaml.new", from,
		    sizeof(from))) != 0 || (r = hk_state_path(ca->st,
		    "roster.yaml", to, sizeof(to))) != 0)
			goto fail;
		snprintf(rel, sizeof(rel), "roster.yaml.%s.retired", oldid);
		if ((r = hk_state_path(ca->st, rel, old_roster,
		    sizeof(old_roster))) != 0)
			goto fail;
		if (hk_file_read(to, 1 << 20, &ob, &olen) == 0) {
			r = hk_file_write(old_roster, ob, olen, 0644, 0);
			free(ob);
			if (r != 0)
				goto fail;
		}
		if (rename(from, to) != 0) {
			hk_err_set("%s: cannot replace: %s", to,
			    strerror(errno));
			r = HK_ERR_IO;
			goto fail;
		}
	}
	if ((r = hk_state_set(ca->st, "quorum.set-id", newid)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0)
		goto fail;
	if (lost == 0 && (lost = hk_ca_audit(ca, "roster.replace", "ok",
	    ca->actors, "roster.yaml is now %s; the previous one kept as "
	    "roster.yaml.%s.retired", o->roster, oldid)) != 0)
		hk_err_keep(&why);
	/* 6: the files sealed under the old key go (audited; with the log
	 * failing, the next activation removes them). */
	if (o->new_key && lost == 0 && (r = hk_sealed_tidy(ca, ca->qkey,
	    1)) != 0) {
		hk_err_set("quorum set %s and its new quorum key are in place, "
		    "but %s", newid, hk_err_msg());
		goto fail;
	}
	if (lost != 0) {
		hk_err_set("quorum set %s is in place and roster.yaml is %s, "
		    "but %s", newid, o->roster, why.msg);
		r = lost;
		cleanup(w, 0);
		free(w);
		return r;
	}
	printf("Quorum set %s (%d of %zu) replaces set %s, now retired.\n",
	    newid, ns->m, n, oldid);
	if (o->new_key) {
		char kid[HK_SEALED_KID_LEN + 1];
		hk_sealed_key_id(ca->qkey, kid);
		printf("New quorum key %s: %zu secrets and the key history "
		    "sealed under it; the old key's files removed.\n", kid,
		    w->rk.n - 1);
	}
	for (i = 0; i < n; i++)
		printf("  share %zu -> %s\n", i + 1, w->path[i]);
	cleanup(w, 0);
	free(w);
	return hk_ca_checkpoint(ca);
 fail:
	hk_ca_audit_warn(ca, "quorum.rotate", "fail", ca->actors, "%s%s",
	    committed ? "after the commit (the new set is in place): " :
	    "nothing changed (the old set is in place): ", hk_err_msg());
	cleanup(w, !committed);
	free(w);
	hk_life_checkpoint_keep_err(ca);
	return r;
}

int
cmd_rotate_shares(int argc, char **argv)
{
	struct hk_common_opts c = { 0 };
	struct hk_share_arg shares[HK_MAX_SHARE_ARGS];
	static const char *pid[HK_QUORUM_MAX_SHARES], *pspec[HK_QUORUM_MAX_SHARES];
	struct rotate_shares_opts o = { 0 };
	struct hk_ca *ca = NULL;
	const char *kdf = NULL;		/* --kdf; NULL: moderate */
	int nshares = 0, i, r;

	o.passin_id = pid;
	o.passin_spec = pspec;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		/* "--passin ID=SPEC" names a new holder (ids have no ':');
		 * any other --passin opens the --share before it. */
		if (strcmp(a, "--passin") == 0 && i + 1 < argc &&
		    argv[i + 1][strcspn(argv[i + 1], "=:")] == '=') {
			const char *v = argv[++i];
			if (v[0] == '=' || o.npassin == HK_QUORUM_MAX_SHARES) {
				/* never the value: SPEC may be pass:PASSPHRASE */
				hk_err_set("--passin (argument %d): %s", i,
				    v[0] == '=' ? "expected ID=SPEC, the ID "
				    "empty" : "more new holders than a share "
				    "set has");
				return HK_ERR_USAGE;
			}
			pid[o.npassin] = v;
			pspec[o.npassin++] = strchr(v, '=') + 1;
		} else if (hk_common_opt(&c, argc, argv, &i, &r) ||
		    hk_share_opt(shares, &nshares, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(a, "--help") == 0) {
			fputs(rotate_usage, stdout);
			return 0;
		} else if (strcmp(a, "--roster") == 0) {
			if ((r = hk_opt_once(&o.roster, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--media") == 0) {
			if ((r = hk_opt_once(&o.media, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--kdf") == 0) {
			if ((r = hk_opt_once(&kdf, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(a, "--new-quorum-key") == 0) {
			if (o.new_key)
				return hk_err_twice(a, NULL, NULL);
			o.new_key = 1;
		} else {
			hk_err_set("%s: unknown option (see --help)", a);
			return HK_ERR_USAGE;
		}
	}
	if (o.roster == NULL || o.media == NULL) {
		hk_err_set("rotate-shares: --roster and --media are required "
		    "(see --help)");
		return HK_ERR_USAGE;
	}
	if (kdf == NULL)
		kdf = "moderate";
	if ((r = hk_kdf_level_parse(kdf, &o.kdf_level)) != 0) {
		hk_err_set("--kdf %s: expected interactive, moderate or "
		    "sensitive", kdf);
		return r;
	}
	if ((r = hk_ca_open(&c, "rotate-shares", &ca)) != 0)
		return r;
	if ((r = hk_ca_audit(ca, "quorum.rotate.request", "ok", "-", "new "
	    "roster %s", o.roster)) != 0)
		goto out;
	{
		/* The new roster's checks, before a passphrase is asked
		 * (hk_rotate_shares makes them again). */
		struct hk_roster *ro = NULL;
		if ((r = hk_roster_load(o.roster, &ro)) == 0)
			r = hk_roster_approvable(ca, ro, o.roster, 1);
		hk_roster_free(ro);
		if (r != 0) {
			hk_ca_audit_warn(ca, "quorum.rotate", "fail", "-",
			    "%s", hk_err_msg());
			goto out;
		}
	}
	if ((r = hk_ca_activate(ca, shares, nshares)) != 0) {
		hk_ca_audit_warn(ca, "quorum.rotate", "fail", ca->actors, "%s",
		    hk_err_msg());
		goto out;
	}
	r = hk_rotate_shares(ca, &o);
 out:
	hk_ca_close(ca);
	return r;
}
