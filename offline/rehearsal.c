/*
 * rehearsal.c - the throwaway CA a rehearsal runs on (DESIGN.md 5).
 *
 * A rehearsal of a ceremony on a real CA must touch nothing real and must
 * not be able to make anything real: no signature by a real key, no share
 * or backup that opens real material. So the rehearsal copy is not a copy
 * of the token. It is the state folder's public part (profile, roster,
 * share-set record, certificates, issued register) with:
 *
 *  - a fresh embedded SoftHSM2 token with random PINs (also when the real
 *    CA uses a hardware module), holding a throwaway key for every live key
 *    of the real token (root-N of the profile's type, audit-1), under the
 *    same labels and ids so the script's key names resolve;
 *  - a throwaway self-signed root for every generation, marked TEST, in
 *    place of the real root certificates (the real ones stay readable as
 *    certs/root-N.real.der, state root.N.real-cert, for steps that check
 *    an input against our real key, such as the bridge CA's certificate);
 *  - a throwaway "stand-in" quorum key that seals the new PINs. The key
 *    managers still bring their real shares and passphrases: those are
 *    checked against the real set record (that is what is rehearsed), and
 *    once they reach the quorum the stand-in takes the real key's place;
 *    the real quorum key is wiped at once. Re-sharing or backups made in a
 *    rehearsal therefore carry only throwaway secrets;
 *  - a fresh audit log of its own, signed by the throwaway audit key.
 *
 * The real CA's log records that a rehearsal ran (ceremony.rehearsal).
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <sodium.h>

#include "atomic.h"
#include "audit.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "newstate.h"
#include "offline.h"
#include "p11.h"
#include "profile.h"
#include "quorum.h"
#include "secmem.h"
#include "state.h"

#define PIN_BYTES	16

/*
 * Run argv (found in PATH) and wait. Its environment is not ours: ours may
 * hold passphrases (--passin env:VAR), and the child, a new program, is
 * dumpable again, its environment readable in /proc by the same user.
 */
static int
run(char *const argv[])
{
	static char *const envp[] = { "LC_ALL=C", NULL };
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, envp) != 0)
		return HK_ERR_IO;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return HK_ERR_IO;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : HK_ERR_IO;
}

/* Remove copy/rel, a folder of the real CA copied in (what, for the
 * message), without a shell and without following a symbolic link. */
static int
strip(const char *copy, const char *rel, const char *what)
{
	char path[4096], why[HK_ERR_DETAIL_MAX];
	int r;

	if ((r = hk_newstate_path(copy, rel, path, sizeof(path))) != 0)
		return r;
	if ((r = hk_tree_remove(path)) != 0) {
		snprintf(why, sizeof(why), "%s", hk_err_msg());
		hk_err_set("%s: cannot remove the real CA's %s from the "
		    "rehearsal copy: %s", path, what, why);
	}
	return r;
}

static int
seal_pin(const char *copy, const uint8_t *tq, const char *name,
    const char *pin)
{
	char rel[128], path[4096];
	uint8_t *blob = NULL;
	size_t len;
	int r;

	snprintf(rel, sizeof(rel), "secrets/%s.sealed", name);
	if ((r = hk_newstate_path(copy, rel, path, sizeof(path))) != 0 ||
	    (r = hk_quorum_seal_secret(tq, name, pin, strlen(pin), &blob,
	    &len)) != 0)
		return r;
	r = hk_file_write(path, blob, len, 0600, HK_WRITE_NOREPLACE);
	free(blob);
	return r;
}

/* A throwaway key and TEST root standing in for root generation gen. */
static int
stand_in_root(const char *copy, struct hk_state *st, struct hk_token *tok,
    const struct hk_profile *p, long gen, const char *label)
{
	char key[64], id[32], uri[256], der[4096], pem[4096], rel[128];
	const char *certrel;
	X509 *real = NULL, *x = NULL;
	EVP_PKEY *priv = NULL, *pub = NULL;
	time_t nb, t;
	int r;

	snprintf(id, sizeof(id), "root-%ld", gen);
	snprintf(key, sizeof(key), "root.%ld.cert", gen);
	certrel = hk_state_get(st, key);
	snprintf(rel, sizeof(rel), "certs/root-%ld.der", gen);
	if ((r = hk_newstate_path(copy, certrel ? certrel : rel, der,
	    sizeof(der))) != 0)
		return r;
	nb = hk_clock_now();
	if (hk_cert_read(der, &real) == 0 &&
	    hk_cert_time(X509_get0_notBefore(real), &t) == 0)
		nb = t;		/* the same validity as the real one */
	if ((r = hk_token_keygen(tok, p->root_key == HK_KEY_EC_P384 ?
	    HK_P11_EC : HK_P11_RSA, hk_key_alg_bits(p->root_key), id,
	    (const unsigned char *)id, strlen(id))) != 0 ||
	    (r = hk_p11_uri(label, (const unsigned char *)id, strlen(id), uri,
	    sizeof(uri))) != 0 ||
	    (r = hk_token_key(tok, uri, &priv, &pub)) != 0)
		goto out;
	if ((r = hk_cert_build_root(p, pub, nb, 1, &x)) != 0 ||
	    (r = hk_cert_sign_checked(x, priv, pub, p, HK_CERT_ROOT, 1)) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "certs/root-%ld.pem", gen);
	if ((r = hk_newstate_path(copy, rel, pem, sizeof(pem))) != 0)
		goto out;
	/* The real root stays readable beside the stand-in: a step that only
	 * checks an input against our key (the bridge CA's certificate for
	 * our root) checks it against the real one, as it will for real. */
	if (real != NULL) {
		char realp[4096], realrel[128];
		snprintf(realrel, sizeof(realrel), "certs/root-%ld.real.der", gen);
		snprintf(key, sizeof(key), "root.%ld.real-cert", gen);
		if ((r = hk_newstate_path(copy, realrel, realp,
		    sizeof(realp))) != 0 ||
		    (r = hk_cert_write(real, realp, NULL)) != 0 ||
		    (r = hk_state_set(st, key, realrel)) != 0)
			goto out;
	}
	unlink(der);
	unlink(pem);
	if ((r = hk_cert_write(x, der, pem)) != 0)
		goto out;
	snprintf(key, sizeof(key), "root.%ld.key-uri", gen);
	r = hk_state_set(st, key, uri);
 out:
	X509_free(real);
	X509_free(x);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return r;
}

/* Replace the audit log and key of the copy with throwaway ones. */
static int
stand_in_audit(const char *copy, struct hk_token *tok, const char *label,
    const char *state, char *uri, size_t urilen)
{
	char log[4096], path[4096];
	const unsigned char id[] = "audit-1";
	EVP_PKEY *pub = NULL;
	FILE *f = NULL;
	int r;

	if ((r = hk_token_keygen(tok, HK_P11_EC, 256, "audit-1", id,
	    sizeof(id) - 1)) != 0 ||
	    (r = hk_p11_uri(label, id, sizeof(id) - 1, uri, urilen)) != 0 ||
	    (r = hk_token_key(tok, uri, NULL, &pub)) != 0)
		return r;
	if ((r = hk_newstate_path(copy, "audit/audit-key.pem", path,
	    sizeof(path))) != 0)
		goto out;
	unlink(path);
	if ((f = fopen(path, "wx")) == NULL ||
	    PEM_write_PUBKEY(f, pub) != 1) {
		hk_err_set("%s: cannot write the rehearsal audit key", path);
		r = HK_ERR_IO;
		goto out;
	}
	if ((r = hk_newstate_path(copy, "audit/audit.log", log,
	    sizeof(log))) != 0)
		goto out;
	unlink(log);
	if ((r = hk_newstate_path(copy, "audit/audit.log.head", path,
	    sizeof(path))) != 0)
		goto out;
	unlink(path);
	if ((r = hk_audit_create(log)) != 0 ||
	    (r = hk_audit_append(log, "rehearsal.start", "ok", "-",
	    "throwaway CA for a rehearsal of the CA in the state folder "
	    "named below; throwaway token, keys, TEST roots and a stand-in "
	    "quorum key; nothing here is real")) != 0 ||
	    (r = hk_audit_append(log, "rehearsal.of", "ok", "-", state)) != 0)
		goto out;
 out:
	if (f != NULL && fclose(f) != 0 && r == 0)
		r = HK_ERR_IO;
	EVP_PKEY_free(pub);
	return r;
}

int
hk_rehearsal_make(const char *state, char *copy, size_t len,
    uint8_t **stand_in)
{
	struct hk_state *st = NULL;
	struct hk_profile *p = NULL;
	struct hk_token *tok = NULL;
	struct hk_p11_cfg cfg = { NULL, NULL };
	char src[4096], path[4096], conf[4096], uri[256], key[64];
	char *user = NULL, *so = NULL;
	const char *label, *gens;
	EVP_PKEY *apriv = NULL;
	uint8_t *tq = NULL;
	long g, n;
	int r;

	*stand_in = NULL;
	if ((size_t)snprintf(src, sizeof(src), "%s/.", state) >= sizeof(src))
		return HK_ERR_INVALID;
	if ((r = hk_dir_temp_beside(state, "rehearsal", copy, len)) != 0)
		return r;
	{
		char *argv[] = { "cp", "-a", "--", src, copy, NULL };
		if (run(argv) != 0) {
			hk_err_set("%s: cannot copy the state for the "
			    "rehearsal", copy);
			r = HK_ERR_IO;
			goto fail;
		}
	}
	/* Nothing secret or keyed of the real CA stays in the copy. */
	if ((r = strip(copy, "token", "token")) != 0 ||
	    (r = strip(copy, "secrets", "sealed secrets")) != 0 ||
	    (r = hk_newstate_path(copy, "secrets", path, sizeof(path))) != 0 ||
	    (r = hk_dir_create(path, 0700)) != 0)
		goto fail;
	if ((r = hk_state_load(copy, &st)) != 0 ||
	    (r = hk_newstate_path(copy, "profile.yaml", path,
	    sizeof(path))) != 0 ||
	    (r = hk_profile_load(path, &p)) != 0)
		goto fail;
	if ((label = hk_state_get(st, "token.label")) == NULL) {
		hk_err_set("%s/state.conf: token.label missing", state);
		r = HK_ERR_STATE;
		goto fail;
	}
	if ((tq = hk_secret_alloc(HK_QUORUM_KEY_LEN)) == NULL) {
		r = HK_ERR_ALLOC;
		goto fail;
	}
	randombytes_buf(tq, HK_QUORUM_KEY_LEN);
	if ((r = hk_secret_random_hex(PIN_BYTES, &user)) != 0 ||
	    (r = hk_secret_random_hex(PIN_BYTES, &so)) != 0)
		goto fail;
	if ((r = hk_newstate_softhsm(copy, conf, sizeof(conf))) != 0)
		goto fail;
	cfg.softhsm_conf = conf;
	if ((r = hk_token_init(&cfg, label, so, user)) != 0 ||
	    (r = hk_token_open(&cfg, label, &tok)) != 0 ||
	    (r = hk_token_login(tok, user)) != 0 ||
	    (r = seal_pin(copy, tq, "token-user-pin", user)) != 0 ||
	    (r = seal_pin(copy, tq, "token-so-pin", so)) != 0)
		goto fail;
	if ((r = stand_in_audit(copy, tok, label, state, uri,
	    sizeof(uri))) != 0)
		goto fail;
	gens = hk_state_get(st, "root.generations");
	n = gens ? strtol(gens, NULL, 10) : 0;
	for (g = 1; g <= n; g++) {
		snprintf(key, sizeof(key), "root.%ld.destroyed", g);
		if (hk_state_get(st, key) != NULL)
			continue;
		if ((r = stand_in_root(copy, st, tok, p, g, label)) != 0)
			goto fail;
	}
	if ((r = hk_state_set(st, "rehearsal", "yes")) != 0 ||
	    (r = hk_state_set(st, "token.embedded", "yes")) != 0 ||
	    (r = hk_state_set(st, "token.module", HK_SOFTHSM_MODULE)) != 0 ||
	    (r = hk_state_set(st, "audit.key-uri", uri)) != 0 ||
	    (r = hk_state_save(st)) != 0)
		goto fail;
	if ((r = hk_newstate_path(copy, "audit/audit.log", path,
	    sizeof(path))) != 0 ||
	    (r = hk_token_key(tok, uri, &apriv, NULL)) != 0 ||
	    (r = hk_audit_checkpoint(path, apriv, "audit-1")) != 0)
		goto fail;
	*stand_in = tq;
	tq = NULL;
	r = 0;
	goto out;
 fail:
	/* The copy may still hold the real token and sealed PINs: one that
	 * cannot be removed is named, after the error that stopped it. */
	if (copy[0] != '\0') {
		struct hk_err_kept why;
		hk_err_keep(&why);
		if (hk_tree_remove(copy) != 0)
			hk_err_set("%s; and the rehearsal copy %s could not be "
			    "removed (it may hold a copy of the real token and "
			    "sealed PINs): remove it by hand", why.msg, copy);
		else
			hk_err_restore(&why);
	}
	copy[0] = '\0';
 out:
	EVP_PKEY_free(apriv);
	hk_token_close(tok);
	hk_secret_free(user);
	hk_secret_free(so);
	hk_secret_free(tq);
	hk_profile_free(p);
	hk_state_free(st);
	return r;
}
