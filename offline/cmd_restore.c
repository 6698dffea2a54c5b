/*
 * cmd_restore.c - "hanko-offline restore": the CA's keys restored from
 * their backups into a FRESH token after the old one was lost or damaged
 * (CPS 4-14-1, 6-2-1-4; docs/key-lifecycle.md).
 *
 * The quorum is combined without opening the old token. Every backup is
 * checked (format, MAC under the quorum key and the key's KEK seed, the
 * CA it belongs to, its public key against the CA's records; a backup made
 * before a re-key opens with a key of the history sealed under the key in
 * force, open_any_key) and a backup
 * of every live key is required before anything is made. A new token is
 * initialised with the CA's sealed PINs (so secrets/ stays valid), each key
 * is unwrapped, its public key compared with the certificate or the audit
 * key, and it signs a test message that the recorded public key verifies.
 * Only then does state.conf name the new token (the commit point). On a
 * failure before it, the keys restored so far are destroyed again; the
 * fresh token stays, empty, under a label that state.conf does not name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "backup.h"
#include "clock.h"
#include "err.h"
#include "offline.h"
#include "p11.h"
#include "quorum.h"
#include "secmem.h"

#define MAX_KEYS	16

static const char restore_usage[] =
"usage: hanko-offline restore --state DIR --backup FILE [--backup FILE]...\n"
"           --share FILE [--passin SPEC] [--share FILE [--passin SPEC]]...\n"
"           [--token-label LABEL] [--module PATH]\n"
"           [--clock YYYY-MM-DDTHH:MM:SSZ]\n";

/* One backup being restored. */
struct item {
	const char *path;		/* the backup file */
	const unsigned char *given;	/* its bytes, read by the caller, or
					 * NULL: read path */
	size_t given_len;
	struct hk_backup_info info;	/* its header */
	uint8_t *wrapped;		/* secret memory */
	size_t wrapped_len;
	uint8_t *kek;			/* secret memory */
	EVP_PKEY *ref;			/* the public key of the CA's records */
	char ukey[64];			/* state.conf key of its URI */
	int restored;			/* 1 once unwrapped into the new token */
};

/* Labels of the keys state.conf says are alive. */
static int
live_keys(struct hk_ca *ca, char labels[MAX_KEYS][32], int *n)
{
	const char *gen = hk_state_get(ca->st, "root.generations");
	char k[64];
	long g = gen ? strtol(gen, NULL, 10) : 0, i;

	*n = 0;
	snprintf(labels[(*n)++], 32, "audit-1");
	for (i = 1; i <= g && *n < MAX_KEYS; i++) {
		snprintf(k, sizeof(k), "root.%ld.destroyed", i);
		if (hk_state_get(ca->st, k) == NULL)
			snprintf(labels[(*n)++], 32, "root-%ld", i);
	}
	return 0;
}

/*
 * Open the backup with the quorum key in force, or, for a backup made
 * before a re-key, with a key in force before it (the history sealed under
 * the key in force: sealed.c); its KEK from the same key.
 */
static int
open_any_key(struct hk_ca *ca, struct item *it, const unsigned char *buf,
    size_t len, const uint8_t *seed)
{
	struct hk_err_kept first;
	const uint8_t *key = ca->qkey;
	uint8_t *hist = NULL;
	size_t nh = 0, i;
	int r;

	r = hk_backup_open(it->path, buf, len, key, seed, &it->info,
	    &it->wrapped, &it->wrapped_len);
	if (r == HK_ERR_VERIFY) {
		hk_err_keep(&first);
		if ((r = hk_sealed_history(ca, ca->qkey, &hist, &nh)) != 0)
			return r;
		for (r = HK_ERR_VERIFY, i = 0; i < nh && r == HK_ERR_VERIFY;
		    i++) {
			key = hist + i * HK_QUORUM_KEY_LEN;
			r = hk_backup_open(it->path, buf, len, key, seed,
			    &it->info, &it->wrapped, &it->wrapped_len);
		}
		if (r == HK_ERR_VERIFY)
			hk_err_restore(&first);
	}
	if (r == 0)
		r = hk_backup_kek(key, it->info.key_label, seed, &it->kek);
	hk_secret_free(hist);
	return r;
}

/* Check one backup fully, before any token is touched. */
static int
check_item(struct hk_ca *ca, struct item *it)
{
	unsigned char *buf = NULL, *seed = NULL;
	const unsigned char *q;
	EVP_PKEY *pub = NULL;
	const char *created = hk_state_get(ca->st, "created");
	size_t len;
	int r;

	if (it->given != NULL) {
		if (it->given_len > HK_BACKUP_MAX) {
			hk_err_set("%s: larger than a backup may be", it->path);
			return HK_ERR_INVALID;
		}
		if ((buf = malloc(it->given_len + 1)) == NULL)
			return HK_ERR_ALLOC;
		memcpy(buf, it->given, it->given_len);
		len = it->given_len;
	} else if ((r = hk_file_read(it->path, HK_BACKUP_MAX, &buf,
	    &len)) != 0)
		goto out;
	if ((r = hk_backup_parse(it->path, buf, len, &it->info)) != 0)
		goto out;
	if (created == NULL || strcmp(created, it->info.ca_created) != 0) {
		hk_err_set("%s: ca-created: %s is another CA's (this one was "
		    "created %s)", it->path, it->info.ca_created,
		    created ? created : "?");
		r = HK_ERR_VERIFY;
		goto out;
	}
	if ((r = hk_life_seed(ca, it->info.key_label, 0, &seed)) != 0) {
		hk_err_set("%s: unusable: %s", it->path, hk_err_msg());
		goto out;
	}
	if ((r = open_any_key(ca, it, buf, len, seed)) != 0)
		goto out;
	if ((r = hk_life_key(ca, it->info.key_label, it->ukey,
	    sizeof(it->ukey))) != 0) {
		hk_err_set("%s: %s", it->path, hk_err_msg());
		goto out;
	}
	if ((r = hk_life_refpub(ca, it->info.key_label, &it->ref)) != 0)
		goto out;
	q = it->info.spki;
	if ((pub = d2i_PUBKEY(NULL, &q, (long)it->info.spki_len)) == NULL ||
	    EVP_PKEY_eq(pub, it->ref) != 1) {
		hk_err_set("%s: public-key: not the public key of the CA's "
		    "records for %s", it->path, it->info.key_label);
		r = HK_ERR_VERIFY;
		goto out;
	}
	r = 0;
 out:
	EVP_PKEY_free(pub);
	hk_secret_free(seed);
	free(buf);
	return r;
}

/* The restored key signs; the recorded public key verifies. */
static int
sign_check(EVP_PKEY *priv, EVP_PKEY *ref, const char *label)
{
	static const unsigned char msg[] = "hanko restore check";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	ok = c != NULL &&
	    EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, priv) == 1 &&
	    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg) - 1) == 1 &&
	    EVP_MD_CTX_reset(c) == 1 &&
	    EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, ref) == 1 &&
	    /* 1 is a valid signature; 0 and <0 are not. */
	    EVP_DigestVerify(c, sig, siglen, msg, sizeof(msg) - 1) == 1;
	EVP_MD_CTX_free(c);
	if (!ok) {
		hk_err_set("%s: the restored key's test signature does not "
		    "verify under the recorded public key", label);
		hk_err_add_openssl();
		return HK_ERR_VERIFY;
	}
	return 0;
}

/* The default label of the fresh token: <base>-r<generation>. */
static int
new_label(struct hk_ca *ca, char *buf, size_t len, long *gen)
{
	const char *cur = hk_state_get(ca->st, "token.label");
	const char *g = hk_state_get(ca->st, "token.generation");
	size_t n = strlen(cur);
	const char *p = cur + n;

	*gen = (g ? strtol(g, NULL, 10) : 1) + 1;
	while (p > cur && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p > cur + 2 && p < cur + n && p[-1] == 'r' && p[-2] == '-')
		n = (size_t)(p - 2 - cur);
	if ((size_t)snprintf(buf, len, "%.*s-r%ld", (int)n, cur, *gen) >=
	    len)
		return HK_ERR_INVALID;
	return 0;
}

int
hk_restore(struct hk_ca *ca, const struct restore_opts *o)
{
	struct item it[MAX_KEYS];
	char live[MAX_KEYS][32], label[64], conf[4096], uri[256], gs[24];
	struct hk_p11_cfg cfg;
	struct hk_token *tok = NULL;
	unsigned char *so = NULL, *pin = NULL;
	const char *embedded = hk_state_get(ca->st, "token.embedded");
	int nlive, i, j, r, found;
	long gen;

	memset(it, 0, sizeof(it));
	if (ca->qkey == NULL) {
		hk_err_set("restore: the quorum has not been combined");
		return HK_ERR_STATE;
	}
	if (o->nbackups < 1 || o->nbackups > MAX_KEYS) {
		hk_err_set("restore: --backup: give 1 to %d backup files",
		    MAX_KEYS);
		r = HK_ERR_USAGE;
		goto fail;
	}
	/* 1: every backup checked, one for every live key. */
	for (i = 0; i < o->nbackups; i++) {
		it[i].path = o->backups[i];
		if (o->backup_buf != NULL) {
			it[i].given = o->backup_buf[i];
			it[i].given_len = o->backup_len[i];
		}
		if ((r = check_item(ca, &it[i])) != 0)
			goto fail;
		for (j = 0; j < i; j++)
			if (strcmp(it[j].info.key_label,
			    it[i].info.key_label) == 0) {
				hk_err_set("%s: a second backup of %s (first: "
				    "%s)", it[i].path, it[i].info.key_label,
				    it[j].path);
				r = HK_ERR_USAGE;
				goto fail;
			}
		if ((r = hk_ca_audit(ca, "backup.check", "ok", ca->actors,
		    "%s: %s, KEK %s, made %s", it[i].path,
		    it[i].info.key_label, it[i].info.kek_id,
		    it[i].info.created)) != 0)
			goto fail;
	}
	live_keys(ca, live, &nlive);
	for (j = 0; j < nlive; j++) {
		for (i = 0, found = 0; i < o->nbackups; i++)
			found |= strcmp(it[i].info.key_label, live[j]) == 0;
		if (!found && o->backup_buf != NULL) {
			/* a ceremony: its restore step's backup-N inputs */
			hk_err_set("restore: no backup of %s among the restore "
			    "step's backups (params backup-1 .. backup-%d, "
			    "each a file input of the script); a fresh token "
			    "needs every live key of the CA: copy the script "
			    "and add an input and a backup-N for it "
			    "(docs/ceremony-custody.md)", live[j],
			    HK_RESTORE_BACKUPS_MAX);
			r = HK_ERR_INVALID;
			goto fail;
		}
		if (!found) {
			hk_err_set("restore: --backup: no backup of %s given; a "
			    "fresh token needs every live key of the CA",
			    live[j]);
			r = HK_ERR_USAGE;
			goto fail;
		}
	}

	/* 2: the fresh token, with the CA's sealed PINs. */
	if (o->label != NULL) {
		snprintf(label, sizeof(label), "%s", o->label);
		gen = 0;
		{
			const char *g = hk_state_get(ca->st,
			    "token.generation");
			gen = (g ? strtol(g, NULL, 10) : 1) + 1;
		}
	} else if ((r = new_label(ca, label, sizeof(label), &gen)) != 0)
		goto fail;
	cfg.module = o->module ? o->module :
	    hk_state_get(ca->st, "token.module");
	cfg.softhsm_conf = NULL;
	if (o->module == NULL && embedded != NULL &&
	    strcmp(embedded, "yes") == 0) {
		if ((r = hk_state_path(ca->st, "token/softhsm2.conf", conf,
		    sizeof(conf))) != 0 || (r = hk_softhsm_conf_check(conf)) != 0)
			goto fail;
		cfg.softhsm_conf = conf;
	}
	/* One module instance at a time in this process. */
	hk_token_close(ca->tok);
	ca->tok = NULL;
	if ((r = hk_ca_unseal(ca, "token-so-pin", &so)) != 0 ||
	    (r = hk_ca_unseal(ca, "token-user-pin", &pin)) != 0)
		goto fail;
	if ((r = hk_token_init(&cfg, label, (const char *)so,
	    (const char *)pin)) != 0) {
		hk_ca_audit_warn(ca, "token.init", "fail", ca->actors,
		    "%s: %s", label, hk_err_msg());
		goto fail;
	}
	/* From here on a lost record stops the restore before any key is
	 * unwrapped; the fresh token stays empty and unused. */
	if ((r = hk_ca_audit(ca, "token.init", "ok", ca->actors, "fresh token "
	    "%s in %s for the restore", label, cfg.module)) != 0)
		goto fail;
	if ((r = hk_token_open(&cfg, label, &tok)) != 0 ||
	    (r = hk_token_login(tok, (const char *)pin)) != 0)
		goto fail;

	/* 3: each key unwrapped, compared, and made to sign. */
	for (i = 0; i < o->nbackups; i++) {
		struct item *x = &it[i];
		EVP_PKEY *priv = NULL, *pub = NULL;
		const unsigned char *q = x->info.spki;
		EVP_PKEY *hdr = d2i_PUBKEY(NULL, &q, (long)x->info.spki_len);

		r = hdr == NULL ? HK_ERR_PARSE : hk_token_key_unwrap(tok,
		    x->kek, HK_BACKUP_KEK_LEN, x->wrapped, x->wrapped_len, hdr,
		    x->info.key_label, x->info.key_id, x->info.key_id_len);
		EVP_PKEY_free(hdr);
		if (r == 0)
			x->restored = 1;
		if (r == 0 && (r = hk_p11_uri(label, x->info.key_id,
		    x->info.key_id_len, uri, sizeof(uri))) == 0 &&
		    (r = hk_token_key(tok, uri, &priv, &pub)) == 0) {
			if (EVP_PKEY_eq(pub, x->ref) != 1) {
				hk_err_set("%s: the restored key is not the "
				    "recorded public key", uri);
				r = HK_ERR_VERIFY;
			} else
				r = sign_check(priv, x->ref, x->info.key_label);
		}
		EVP_PKEY_free(priv);
		EVP_PKEY_free(pub);
		if (r != 0) {
			hk_ca_audit_warn(ca, "key.restore", "fail", ca->actors,
			    "%s from %s: %s", x->info.key_label, x->path,
			    hk_err_msg());
			goto fail;
		}
		/* A key restored that the log does not hold is destroyed
		 * again (fail:). */
		if ((r = hk_ca_audit(ca, "key.restore", "ok", ca->actors, "%s "
		    "from %s into %s: public key matches the CA's records, "
		    "test signature verifies", x->info.key_label, x->path,
		    uri)) != 0)
			goto fail;
	}

	/* 4: the commit: state.conf names the new token. */
	snprintf(gs, sizeof(gs), "%ld", gen);
	if ((r = hk_state_set(ca->st, "token.label", label)) != 0 ||
	    (r = hk_state_set(ca->st, "token.module", cfg.module)) != 0 ||
	    (r = hk_state_set(ca->st, "token.embedded",
	    cfg.softhsm_conf ? "yes" : "no")) != 0 ||
	    (r = hk_state_set(ca->st, "token.generation", gs)) != 0)
		goto fail;
	for (i = 0; i < o->nbackups; i++) {
		if ((r = hk_p11_uri(label, it[i].info.key_id,
		    it[i].info.key_id_len, uri, sizeof(uri))) != 0 ||
		    (r = hk_state_set(ca->st, it[i].ukey, uri)) != 0)
			goto fail;
	}
	if ((r = hk_state_save(ca->st)) != 0)
		goto fail;
	ca->tok = tok;
	tok = NULL;
	/* Committed: a record lost now is exit 6, nothing is undone. */
	if ((r = hk_ca_audit(ca, "restore.done", "ok", ca->actors, "%d keys "
	    "restored into token %s (CPS 4-14-1); the old token is no longer "
	    "used", o->nbackups, label)) != 0) {
		hk_err_set("restored into token %s and state.conf names it, "
		    "but %s", label, hk_err_msg());
		goto out;
	}
	printf("%d keys restored into the fresh token %s; state.conf names "
	    "it now.\n", o->nbackups, label);
	r = hk_ca_checkpoint(ca);
	goto out;
 fail:
	if (tok != NULL)
		for (i = 0; i < o->nbackups; i++)
			if (it[i].restored)
				(void)hk_token_key_destroy(tok,
				    it[i].info.key_id, it[i].info.key_id_len);
	hk_ca_audit_warn(ca, "restore.done", "fail", ca->actors, "%s",
	    hk_err_msg());
	hk_life_checkpoint_keep_err(ca);
 out:
	hk_token_close(tok);
	for (i = 0; i < MAX_KEYS; i++) {
		hk_secret_free(it[i].wrapped);
		hk_secret_free(it[i].kek);
		EVP_PKEY_free(it[i].ref);
	}
	hk_secret_free(so);
	hk_secret_free(pin);
	return r;
}

int
cmd_restore(int argc, char **argv)
{
	struct hk_ca_args a = { 0 };
	const char *backups[MAX_KEYS];
	struct restore_opts o = { .backups = backups };
	const struct hk_ca_opt opts[] = {
		{ "--backup", backups, &o.nbackups, MAX_KEYS },
		{ "--token-label", &o.label, NULL, 0 },
		{ "--module", &o.module, NULL, 0 },
		{ NULL, NULL, NULL, 0 }
	};
	struct hk_ca *ca = NULL;
	int r;

	if ((r = hk_ca_parse(&a, opts, restore_usage, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (o.nbackups == 0) {
		hk_err_set("restore: --backup FILE is required (see --help)");
		return HK_ERR_USAGE;
	}
	if ((r = hk_ca_open(&a.c, "restore", &ca)) != 0)
		return r;
	if ((r = hk_ca_audit(ca, "restore.start", "ok", "-", "%d backup files",
	    o.nbackups)) != 0)
		goto out;
	/* The old token may be gone: combine the quorum only. */
	ca->quorum_only = 1;
	if ((r = hk_ca_activate(ca, a.shares, a.nshares)) != 0) {
		hk_ca_audit_warn(ca, "restore.done", "fail", ca->actors, "%s",
		    hk_err_msg());
		goto out;
	}
	r = hk_restore(ca, &o);
 out:
	hk_ca_close(ca);
	return r;
}
