/*
 * step_rollover.c - the root key rollover (CPS 4-13, 6-3-1-2, 7-1-4; RFC
 * 4210 4.4): actions "rollover-link" (OldWithNew / NewWithOld),
 * "rollover-issuing" (the current issuing CA re-certified under the new
 * key) and "rollover-commit" (issued.txt and state.conf), with the helpers
 * the other root life-cycle actions share (step_rollover.h).
 *
 * The new key and its self-signed certificate (NewWithNew) are made by
 * the generalised root-keygen and root-self-sign actions: root-keygen
 * makes root-<n+1> when generation n exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "p11.h"
#include "profile.h"
#include "step_rollover.h"
#include "transcript.h"

/* Shared helpers (step_rollover.h). */

int
hk_life_generation(struct hk_cer *c)
{
	const char *g = hk_state_get(c->ca->st, "root.generations");
	long n = g != NULL ? strtol(g, NULL, 10) : 0;

	return n < 0 || n > 999 ? 0 : (int)n;
}

int
hk_life_root_may_sign(struct hk_cer *c, int gen, enum hk_root_use use)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "root.%d.compromised", gen);
	/* declared in this very ceremony (compromise-revoke): only its
	 * emergency ARL is still to be signed */
	if (hk_life_compromised_gen == gen && use != HK_ROOT_ARL)
		v = "declared in this ceremony";
	else
		v = hk_state_get(c->ca->st, key);
	if (v != NULL) {
		hk_err_set("%s: state.conf: %s = %s: CPS 4-14-2: %s",
		    c->ca->st->dir, key, v, use == HK_ROOT_ISSUE ?
		    "issuance under a compromised root key has stopped" :
		    use == HK_ROOT_ARL ? "a compromised root key signs no "
		    "more ARLs (its last was the compromise ceremony's "
		    "emergency ARL)" : "no rollover from a compromised root "
		    "key: its links would certify the lost key or be signed "
		    "by it; start a new CA (init-root on a new state)");
		return HK_ERR_STATE;
	}
	if (use == HK_ROOT_ISSUE) {
		time_t end;
		char t[32];
		int r;

		if ((r = hk_life_key_use_end(c, gen, &end)) != 0)
			return r;
		if (hk_clock_now() >= end) {
			hk_time_format(end, t, sizeof(t));
			snprintf(key, sizeof(key), "root.%d.created", gen);
			hk_err_set("%s: state.conf: %s = %s: CPS 6-3-1-2: "
			    "root-%d's key was used %d years from its "
			    "generation, until %s; it issues no more "
			    "certificates: run the rollover", c->ca->st->dir,
			    key, hk_state_get(c->ca->st, key), gen,
			    c->profile->root_key_use_years, t);
			return HK_ERR_STATE;
		}
	}
	return 0;
}

int
hk_life_key_use_end(struct hk_cer *c, int gen, time_t *end)
{
	char key[64];
	const char *v;
	time_t t;

	snprintf(key, sizeof(key), "root.%d.created", gen);
	if ((v = hk_state_get(c->ca->st, key)) == NULL ||
	    hk_time_parse(v, &t) != 0 ||
	    (*end = hk_time_add_years(t, c->profile->root_key_use_years)) ==
	    (time_t)-1) {
		hk_err_set("%s: state.conf: %s: missing or not a time (the "
		    "key-use period of CPS 6-3-1-2 counts from it)",
		    c->ca->st->dir, key);
		return HK_ERR_STATE;
	}
	return 0;
}

int
hk_life_root_real(struct hk_cer *c, int gen, X509 **cert)
{
	char key[64], path[4096];
	const char *rel;
	int r;

	*cert = NULL;
	snprintf(key, sizeof(key), "root.%d.real-cert", gen);
	if ((rel = hk_state_get(c->ca->st, key)) == NULL)
		return hk_life_root(c, gen, cert, NULL, NULL);
	if ((r = hk_state_path(c->ca->st, rel, path, sizeof(path))) != 0)
		return r;
	return hk_cert_read(path, cert);
}

int
hk_life_root(struct hk_cer *c, int gen, X509 **cert, EVP_PKEY **priv,
    EVP_PKEY **pub)
{
	char key[64], path[4096];
	const char *v;
	int r;

	*cert = NULL;
	if (gen < 1) {
		hk_err_set("%s: no root yet: run the init-root ceremony first",
		    c->ca->st->dir);
		return HK_ERR_STATE;
	}
	snprintf(key, sizeof(key), "root.%d.cert", gen);
	if ((v = hk_state_get(c->ca->st, key)) == NULL) {
		hk_err_set("%s: state.conf: %s: missing", c->ca->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(c->ca->st, v, path, sizeof(path))) != 0 ||
	    (r = hk_cert_read(path, cert)) != 0)
		return r;
	if (priv == NULL)
		return 0;
	snprintf(key, sizeof(key), "root.%d.key-uri", gen);
	if ((v = hk_state_get(c->ca->st, key)) == NULL) {
		hk_err_set("%s: state.conf: %s: missing", c->ca->st->dir, key);
		r = HK_ERR_STATE;
	} else if (c->ca->tok == NULL) {
		hk_err_set("root-%d: the token is not active", gen);
		r = HK_ERR_STATE;
	} else if ((r = hk_token_key(c->ca->tok, v, priv, pub)) == 0 &&
	    EVP_PKEY_eq(*pub, X509_get0_pubkey(*cert)) != 1) {
		hk_err_set("root-%d: the token's key is not the key of %s", gen,
		    path);
		EVP_PKEY_free(*priv);
		EVP_PKEY_free(*pub);
		*priv = *pub = NULL;
		r = HK_ERR_VERIFY;
	}
	if (r != 0) {
		X509_free(*cert);
		*cert = NULL;
	}
	return r;
}

int
hk_life_sign_tbs(struct hk_cer *c, const struct hk_script_step *st,
    X509 *cert, X509 *issuer, EVP_PKEY *key, int kind, const char *what,
    const char *name)
{
	EVP_PKEY *ipub = X509_get0_pubkey(issuer);
	unsigned char want[32], got[32], *der = NULL;
	int r, len;

	if ((r = hk_cert_tbs_digest(cert, ipub, hk_cert_md(c->profile, ipub),
	    want)) != 0 ||
	    (r = hk_cer_confirm(c, st, what, want)) != 0)
		return r;
	if ((r = hk_cert_sign_issued(cert, issuer, key, c->profile,
	    (enum hk_cert_kind)kind, c->rehearsal)) != 0)
		return r;
	if ((len = i2d_re_X509_tbs(cert, &der)) <= 0) {
		hk_err_set("%s: cannot encode the signed TBS", name);
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)len, got);
	OPENSSL_free(der);
	if (memcmp(want, got, 32) != 0) {
		hk_err_set("%s: the signed TBS is not the one confirmed", name);
		return HK_ERR_VERIFY;
	}
	return 0;
}

int
hk_life_sign_confirmed(struct hk_cer *c, const struct hk_script_step *st,
    X509 *cert, X509 *issuer, EVP_PKEY *key, int kind, const char *what)
{
	int r;

	if ((r = hk_life_sign_tbs(c, st, cert, issuer, key, kind, what,
	    what)) != 0)
		hk_ca_audit_warn(c->ca, "cert.sign", "fail", c->res[st -
		    c->script->steps].actors, "%s: %s", what, hk_err_msg());
	return r;
}

void
hk_life_undo_files(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	hk_cer_undo_written(c, res, "cert.remove", "it was kept");
}

/* The generation n+1 a root-self-sign step made ("root-<g>" key label). */
static int
step_generation(struct hk_cer *c, const struct hk_script_step *rootst,
    struct hk_step_result **kr)
{
	struct hk_step_result *k = hk_cer_ref_result(c, rootst, "key");
	char lab[16];
	long g;

	*kr = k;
	if (k == NULL || k->key_id_len < 6 || k->key_id_len >= sizeof(lab) ||
	    k->priv == NULL)
		return -1;
	memcpy(lab, k->key_id, k->key_id_len);
	lab[k->key_id_len] = '\0';
	if (strncmp(lab, "root-", 5) != 0)
		return -1;
	g = strtol(lab + 5, NULL, 10);
	return g < 2 || g > 999 ? -1 : (int)g;
}

static time_t
cert_not_before(X509 *x)
{
	time_t t;

	if (hk_cert_time(X509_get0_notBefore(x), &t) != 0)
		return (time_t)-1;
	return t;
}

/* The new root (step running root-self-sign) a step names, with g = n+1
 * checked against root.generations. */
static int
new_root(struct hk_cer *c, const struct hk_script_step *st, int *g,
    struct hk_step_result **sr, struct hk_step_result **kr)
{
	const struct hk_script_param *rp = hk_script_param(st, "root");
	const struct hk_script_step *rs = &c->script->steps[rp->ref];

	*sr = &c->res[rp->ref];
	if (!(*sr)->ran || (*sr)->cert == NULL) {
		hk_err_set("step %s: root: step %s made no certificate", st->id,
		    rs->id);
		return HK_ERR_STATE;
	}
	if ((*g = step_generation(c, rs, kr)) < 0 ||
	    *g != hk_life_generation(c) + 1) {
		hk_err_set("step %s: root: step %s did not make generation %d "
		    "(a rollover follows the current generation)", st->id,
		    rs->id, hk_life_generation(c) + 1);
		return HK_ERR_STATE;
	}
	return 0;
}

/* Action "rollover-link". */

static const char *const link_dirs[] = { "old-with-new", "new-with-old",
    NULL };

static const struct hk_param_spec link_params[] = {
	{ "root", HK_PARAM_STEP, 1, 0, 0, NULL, "root-self-sign", -1 },
	{ "direction", HK_PARAM_ENUM, 1, 0, 0, link_dirs, NULL, -1 },
	{ "der", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_CERT_DER },
	{ "pem", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_CERT_PEM },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
link_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *dp = hk_script_param(st, "direction");
	enum hk_link_dir dir = dp->ival == 0 ? HK_LINK_OLD_WITH_NEW :
	    HK_LINK_NEW_WITH_OLD;
	struct hk_step_result *sr, *kr;
	X509 *old = NULL, *cert = NULL;
	EVP_PKEY *opriv = NULL, *opub = NULL;
	const char *der, *pem, *b;
	char what[128], fp[96], want[320], late[192] = "", t[32];
	time_t gen_time, use_end;
	int g, r, di, pi;

	der = hk_cer_ref_output(c, st, "der", &di);
	pem = hk_cer_ref_output(c, st, "pem", &pi);
	if ((r = new_root(c, st, &g, &sr, &kr)) != 0)
		return r;
	snprintf(want, sizeof(want), "link-%d-%s.", g, dp->value);
	if (c->script->outputs[di].base != HK_BASE_CERTS ||
	    c->script->outputs[pi].base != HK_BASE_CERTS ||
	    (b = strrchr(der, '/')) == NULL ||
	    strncmp(b + 1, want, strlen(want)) != 0 ||
	    (b = strrchr(pem, '/')) == NULL ||
	    strncmp(b + 1, want, strlen(want)) != 0) {
		hk_err_set("%s: step %s: the link certificates of generation "
		    "%d are kept as certs/%s{der,pem}", c->script->file, st->id,
		    g, want);
		return HK_ERR_INVALID;
	}
	/* the old generation: not compromised (neither link may exist) */
	if ((r = hk_life_root_may_sign(c, g - 1, HK_ROOT_LINK)) != 0 ||
	    (r = hk_life_key_use_end(c, g - 1, &use_end)) != 0)
		return r;
	/* A late rollover still needs NewWithOld from the old key, the one
	 * thing it signs after its key-use period (CPS 4-13, 6-3-1-2): it
	 * is signed, and said so. */
	if (dir == HK_LINK_NEW_WITH_OLD && hk_clock_now() >= use_end) {
		hk_time_format(use_end, t, sizeof(t));
		snprintf(late, sizeof(late), "; LATE: root-%d's key-use "
		    "period (CPS 6-3-1-2) ended at %s", g - 1, t);
	}
	/* the old generation: certificate, key (NewWithOld) */
	if ((r = hk_life_root(c, g - 1, &old, dir == HK_LINK_NEW_WITH_OLD ?
	    &opriv : NULL, &opub)) != 0)
		return r;
	/* OldWithNew has the validity of OldWithOld (RFC 4210 4.4), from the
	 * old self-signed certificate's notBefore (CPS 7-1-4: the day the old
	 * key was made; root.1.created is init-root's commit, later in a real
	 * run); NewWithOld starts with the new one's. */
	if ((gen_time = cert_not_before(dir == HK_LINK_OLD_WITH_NEW ? old :
	    sr->cert)) == (time_t)-1) {
		hk_err_set("root-%d: notBefore does not decode",
		    dir == HK_LINK_OLD_WITH_NEW ? g - 1 : g);
		r = HK_ERR_INVALID;
		goto out;
	}
	snprintf(what, sizeof(what), "link certificate %s of generation %d "
	    "(%s, tbsCertificate)", dir == HK_LINK_OLD_WITH_NEW ?
	    "OldWithNew" : "NewWithOld", g, dir == HK_LINK_OLD_WITH_NEW ?
	    "old public key signed by the new key" :
	    "new public key signed by the old key");
	if ((r = hk_cert_build_link(c->profile, dir, old, sr->cert, gen_time,
	    c->rehearsal, &cert)) != 0) {
		hk_ca_audit_warn(c->ca, "cert.sign", "fail", res->actors,
		    "%s: %s", what, hk_err_msg());
		goto out;
	}
	if ((r = hk_life_sign_confirmed(c, st, cert,
	    dir == HK_LINK_OLD_WITH_NEW ? sr->cert : old,
	    dir == HK_LINK_OLD_WITH_NEW ? kr->priv : opriv, HK_CERT_LINK,
	    what)) != 0)
		goto out;
	/* the journal names them before they exist */
	if ((r = hk_cer_journal_file(c, der)) != 0 ||
	    (r = hk_cer_journal_file(c, pem)) != 0 ||
	    (r = hk_cert_write(cert, der, pem)) != 0) {
		hk_ca_audit_warn(c->ca, "cert.write", "fail", res->actors,
		    "%s", hk_err_msg());
		goto out;
	}
	hk_cert_fingerprint_text(cert, fp);
	/* A certificate the log does not hold is not kept. */
	if ((r = hk_ca_audit(c->ca, "cert.sign", "ok", res->actors, "%s %s "
	    "SHA-256 %s%s", what, der, fp, late)) != 0) {
		(void)unlink(der);
		(void)unlink(pem);
		goto out;
	}
	res->cert = cert;
	cert = NULL;
	snprintf(res->written[0], sizeof(res->written[0]), "%s", der);
	snprintf(res->written[1], sizeof(res->written[1]), "%s", pem);
	res->nwritten = 2;
	snprintf(res->detail, sizeof(res->detail), "%s link %d SHA-256 %s%s",
	    dp->value, g, fp, late);
out:
	X509_free(cert);
	X509_free(old);
	EVP_PKEY_free(opriv);
	EVP_PKEY_free(opub);
	return r;
}

const struct hk_step_action hk_step_rollover_link = {
	{ "rollover-link", "sign a link certificate between the current root "
	    "and the new generation (OldWithNew or NewWithOld)", link_params,
	    0, 1, 1 },
	link_run, hk_life_undo_files
};

/* Action "rollover-issuing". */

static const struct hk_param_spec iss_params[] = {
	{ "root", HK_PARAM_STEP, 1, 0, 0, NULL, "root-self-sign", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/*
 * 1 when the issuing CA certificate x was signed by a root generation that
 * is marked compromised (root.<g>.compromised): a cACompromise(2)
 * revocation of x is then the compromise ceremony's, for the root's lost
 * key (step_compromise.c), not for the issuing CA's own. 0 otherwise (its
 * signer not found either); < 0 on error.
 */
static int
iss_root_lost(struct hk_cer *c, X509 *x)
{
	char key[64];
	X509 *root = NULL;
	int g, n = hk_life_generation(c), r, by;

	for (g = 1; g <= n; g++) {
		/* the real certificate: in a rehearsal the copy's root-<g> is
		 * a stand-in, and x was signed by the real key */
		if ((r = hk_life_root_real(c, g, &root)) != 0)
			return r;
		by = X509_verify(x, X509_get0_pubkey(root)) == 1;
		X509_free(root);
		root = NULL;
		ERR_clear_error();
		if (by) {
			snprintf(key, sizeof(key), "root.%d.compromised", g);
			return hk_state_get(c->ca->st, key) != NULL;
		}
	}
	return 0;
}

/*
 * Whether the issuing CA of certificate old (issuing.current's, number k)
 * may be re-certified: 1 yes; 0 no, why says so; or an error.
 *
 * No when old itself is revoked in issued.txt (whatever the reason: a
 * revoked certificate is not brought back under a new key) or expired, or
 * when another issuing certificate of the same key (its copy under another
 * root generation) is revoked for a reason that ends the issuing CA:
 * keyCompromise(1) or cACompromise(2) (its key lost: CPS 4-14-2; X.509
 * 8.5.2.2: cACompromise revokes a CA certificate whose subject's key is
 * compromised, as "hanko-online request --reason ca-compromise" asks for),
 * affiliationChanged(3) (what every copy certifies no longer holds) or
 * cessationOfOperation(5) (the CA ceased: by analogy with CPS 4-10-1's
 * compromise and end of cross-certification). Two revocations do not end
 * the key: superseded(4), the copy replaced (CPS 4-4-4-2 "更新": the copy
 * under the previous root, retired after a rollover; CPS 4-10-1's renewal),
 * and cACompromise(2) of a copy signed by a root generation marked
 * compromised (the compromise ceremony revokes everything that root
 * signed: the root's key was lost, not the issuing CA's).
 *
 * A revoked copy whose file cannot be read fails the step (fail closed):
 * whether it withdraws the key cannot be told, re-certifying a withdrawn
 * CA cannot be taken back, and skipping it would commit a generation
 * without the issuing CA on a damaged state folder. The rehearsal meets
 * it first; the failed run leaves nothing of the new generation.
 */
static int
iss_live(struct hk_cer *c, const struct hk_script_step *st, long k, X509 *old,
    char *why, size_t len)
{
	struct hk_issued *reg = NULL;
	struct hk_issued_entry *e;
	char serial[64], t[32], path[4096];
	const char *rn;
	time_t now = hk_clock_now();
	X509 *x = NULL;
	size_t i;
	int r, same;

	if ((r = hk_issued_serial_hex(old, serial, sizeof(serial))) != 0 ||
	    (r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		return r;
	if ((e = hk_issued_find(reg, serial)) == NULL) {
		hk_err_set("%s/%s: serial %s (the current issuing CA's "
		    "certificate) is not registered", c->ca->st->dir,
		    HK_ISSUED_FILE, serial);
		r = HK_ERR_STATE;
		goto out;
	}
	r = 1;
	if (e->revoked) {
		hk_time_format(e->revoked_at, t, sizeof(t));
		snprintf(why, len, "serial %s is revoked in %s (%s, %s(%d))",
		    serial, HK_ISSUED_FILE, t, e->reason >= 1 &&
		    e->reason <= 5 ? hk_life_reasons[e->reason - 1] :
		    "no reason", e->reason);
		r = 0;
		goto out;
	}
	if (e->not_after < now) {
		hk_time_format(e->not_after, t, sizeof(t));
		snprintf(why, len, "serial %s expired at %s", serial, t);
		r = 0;
		goto out;
	}
	for (i = 0; i < reg->n; i++) {
		e = &reg->e[i];
		if (!e->revoked || e->reason == 4 ||	/* superseded */
		    strcmp(e->kind, "issuing") != 0)
			continue;
		rn = e->reason >= 1 && e->reason <= 5 ?
		    hk_life_reasons[e->reason - 1] : "no reason";
		if ((r = hk_state_path(c->ca->st, e->file, path,
		    sizeof(path))) != 0 || (r = hk_cert_read(path, &x)) != 0) {
			hk_err_set("step %s: %s (issuing, serial %s, revoked "
			    "%s(%d)): cannot be read (%s): whether it withdraws "
			    "issuing CA %ld's key cannot be told; CPS 4-13: a "
			    "withdrawn issuing CA is not re-certified: restore "
			    "the file from the state's backup and run the "
			    "ceremony again", st->id, e->file, e->serial, rn,
			    e->reason, hk_err_msg(), k);
			r = HK_ERR_STATE;
			goto out;
		}
		same = EVP_PKEY_eq(X509_get0_pubkey(x),
		    X509_get0_pubkey(old)) == 1;
		if (same && e->reason == 2 && (r = iss_root_lost(c, x)) != 0) {
			if (r < 0)
				goto out;
			same = 0;	/* the root's key was lost */
		}
		X509_free(x);
		x = NULL;
		if (same) {
			hk_time_format(e->revoked_at, t, sizeof(t));
			snprintf(why, len, "its key is revoked in %s with "
			    "serial %s (%s, %s(%d))", HK_ISSUED_FILE, e->serial,
			    t, rn, e->reason);
			r = 0;
			goto out;
		}
		r = 1;
	}
out:
	X509_free(x);
	hk_issued_free(reg);
	return r;
}

static int
iss_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	struct hk_step_result *sr, *kr;
	const char *cur, *v;
	char key[64], path[4096], der[4096], pem[4096], rel[128], what[160];
	char fp[96], hex[65], why[512];
	unsigned char d[32];
	X509 *old = NULL, *cert = NULL;
	long k;
	int g, r;

	if ((r = new_root(c, st, &g, &sr, &kr)) != 0)
		return r;
	if ((cur = hk_state_get(c->ca->st, "issuing.current")) == NULL ||
	    (k = strtol(cur, NULL, 10)) < 1 || k > 999) {
		snprintf(res->detail, sizeof(res->detail), "no issuing CA "
		    "(issuing.current unset): nothing to re-certify");
		return 0;
	}
	snprintf(key, sizeof(key), "issuing.%ld.cert", k);
	if ((v = hk_state_get(c->ca->st, key)) == NULL) {
		hk_err_set("%s: state.conf: %s: missing", c->ca->st->dir, key);
		return HK_ERR_STATE;
	}
	snprintf(rel, sizeof(rel), "certs/issuing-%ld-root-%d", k, g);
	if ((r = hk_state_path(c->ca->st, v, path, sizeof(path))) != 0 ||
	    (r = hk_cert_read(path, &old)) != 0)
		return r;
	/* A revoked or expired issuing CA is not brought back under the new
	 * key; the rollover goes on without it (the new key and the links
	 * are what CPS 4-13 and 6-3-1-2 require on time). */
	if ((r = iss_live(c, st, k, old, why, sizeof(why))) < 0)
		goto out;
	if (r == 0) {
		snprintf(res->detail, sizeof(res->detail), "issuing CA %ld "
		    "(%s) NOT re-certified under root-%d: %s; the rollover "
		    "goes on without it (issue-subca makes a new issuing CA)",
		    k, v, g, why);
		r = hk_ca_audit(c->ca, "cert.renew", "skipped", res->actors,
		    "%s", res->detail);
		goto out;
	}
	if ((size_t)snprintf(der, sizeof(der), "%s/%s.der", c->ca->st->dir,
	    rel) >= sizeof(der) || (size_t)snprintf(pem, sizeof(pem),
	    "%s/%s.pem", c->ca->st->dir, rel) >= sizeof(pem)) {
		r = HK_ERR_INVALID;
		hk_err_set("%s: path too long", rel);
		goto out;
	}
	if (hk_path_exists(der) || hk_path_exists(pem)) {
		hk_err_set("%s: already exists; refusing to overwrite", der);
		r = HK_ERR_EXISTS;
		goto out;
	}
	snprintf(what, sizeof(what), "issuing CA %ld re-certified under "
	    "root-%d (same subject and key, new serial; tbsCertificate)", k,
	    g);
	if ((r = hk_cert_build_issuing_renew(c->profile, sr->cert, old,
	    hk_clock_now(), c->rehearsal, &cert)) != 0) {
		hk_ca_audit_warn(c->ca, "cert.sign", "fail", res->actors,
		    "%s: %s", what, hk_err_msg());
		goto out;
	}
	if ((r = hk_life_sign_confirmed(c, st, cert, sr->cert, kr->priv,
	    HK_CERT_ISSUING, what)) != 0)
		goto out;
	/* the journal names them before they exist */
	if ((r = hk_cer_journal_file(c, der)) != 0 ||
	    (r = hk_cer_journal_file(c, pem)) != 0 ||
	    (r = hk_cert_write(cert, der, pem)) != 0) {
		hk_ca_audit_warn(c->ca, "cert.write", "fail", res->actors,
		    "%s", hk_err_msg());
		goto out;
	}
	hk_cert_fingerprint_text(cert, fp);
	hk_cert_fingerprint(cert, d);
	hk_hex_encode(d, 32, hex);
	/* A certificate the log does not hold is not kept. */
	if ((r = hk_ca_audit(c->ca, "cert.sign", "ok", res->actors, "%s %s "
	    "SHA-256 %s", what, der, fp)) != 0) {
		(void)unlink(der);
		(void)unlink(pem);
		goto out;
	}
	hk_transcript_add(c->tr, "output", d, "issuing-%ld-root-%d %s SHA-256 "
	    "%s", k, g, der, hex);
	res->cert = cert;
	cert = NULL;
	snprintf(res->written[0], sizeof(res->written[0]), "%s", der);
	snprintf(res->written[1], sizeof(res->written[1]), "%s", pem);
	res->nwritten = 2;
	snprintf(res->detail, sizeof(res->detail), "issuing CA %ld "
	    "re-certified under root-%d: %s.der SHA-256 %s", k, g, rel, fp);
out:
	X509_free(old);
	X509_free(cert);
	return r;
}

const struct hk_step_action hk_step_rollover_issuing = {
	{ "rollover-issuing", "re-certify the current issuing CA (same subject "
	    "and key) under the new root key", iss_params, 0, 1, 1 },
	iss_run, hk_life_undo_files
};

/* Action "rollover-commit". */

static const struct hk_param_spec commit_params[] = {
	{ "root", HK_PARAM_STEP, 1, 0, 0, NULL, "root-self-sign", -1 },
	{ "old-with-new", HK_PARAM_STEP, 1, 0, 0, NULL, "rollover-link", -1 },
	{ "new-with-old", HK_PARAM_STEP, 1, 0, 0, NULL, "rollover-link", -1 },
	{ "issuing", HK_PARAM_STEP, 0, 0, 0, NULL, "rollover-issuing", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* The path of f relative to the state folder. */
static int
state_rel(struct hk_cer *c, const char *f, char *rel, size_t len)
{
	size_t n = strlen(c->ca->st->dir);

	if (strncmp(f, c->ca->st->dir, n) != 0 || f[n] != '/' ||
	    strlen(f + n + 1) >= len) {
		hk_err_set("%s: not inside the state folder", f);
		return HK_ERR_INTERNAL;
	}
	snprintf(rel, len, "%s", f + n + 1);
	return 0;
}

static int
commit_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *pown = hk_script_param(st,
	    "old-with-new");
	const struct hk_script_param *pnwo = hk_script_param(st,
	    "new-with-old");
	const struct hk_script_param *piss = hk_script_param(st, "issuing");
	struct hk_step_result *sr, *kr, *own, *nwo, *iss = NULL;
	struct hk_issued *reg = NULL;
	unsigned char *saved = NULL;
	size_t savedlen = 0;
	char relroot[256], relown[256], relnwo[256], reliss[256], key[64];
	char val[32], t[32], fp[96], path[4096], why[HK_ERR_DETAIL_MAX];
	long k = 0;
	int g, r, had, keep = 0, placed = 0;

	if ((r = new_root(c, st, &g, &sr, &kr)) != 0)
		return r;
	own = &c->res[pown->ref];
	nwo = &c->res[pnwo->ref];
	if (hk_script_param(&c->script->steps[pown->ref],
	    "direction")->ival != 0 ||
	    hk_script_param(&c->script->steps[pnwo->ref],
	    "direction")->ival != 1 || own->cert == NULL || nwo->cert == NULL) {
		hk_err_set("step %s: old-with-new and new-with-old must name "
		    "the steps that signed OldWithNew and NewWithOld", st->id);
		return HK_ERR_INVALID;
	}
	if (piss != NULL && c->res[piss->ref].cert != NULL)
		iss = &c->res[piss->ref];
	if ((r = state_rel(c, sr->written[0], relroot, sizeof(relroot))) != 0 ||
	    (r = state_rel(c, own->written[0], relown, sizeof(relown))) != 0 ||
	    (r = state_rel(c, nwo->written[0], relnwo, sizeof(relnwo))) != 0 ||
	    (iss != NULL && (r = state_rel(c, iss->written[0], reliss,
	    sizeof(reliss))) != 0))
		return r;
	if (iss != NULL)
		k = strtol(hk_state_get(c->ca->st, "issuing.current"), NULL, 10);
	/* issued.txt first (kept as it was if state.conf cannot be saved) */
	if ((r = hk_state_path(c->ca->st, HK_ISSUED_FILE, path,
	    sizeof(path))) != 0)
		return r;
	/* an issued.txt whose look-up fails is not "none": the undo
	 * removed it then */
	if ((had = hk_path_lookup(path)) < 0)
		return had;
	if (had && (r = hk_file_read(path, 64 << 20, &saved, &savedlen)) != 0)
		return r;
	if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0 ||
	    (r = hk_issued_add(reg, sr->cert, "root", relroot)) != 0 ||
	    (r = hk_issued_add(reg, own->cert, "link", relown)) != 0 ||
	    (r = hk_issued_add(reg, nwo->cert, "link", relnwo)) != 0 ||
	    (iss != NULL && (r = hk_issued_add(reg, iss->cert, "issuing",
	    reliss)) != 0) ||
	    (r = hk_issued_save(reg)) != 0)
		goto out;
	hk_time_format(cert_not_before(sr->cert), t, sizeof(t));
	snprintf(val, sizeof(val), "%d", g);
	r = hk_state_set(c->ca->st, "root.generations", val);
#define SETK(fmt, v) do { if (r == 0) { snprintf(key, sizeof(key), fmt, g); \
	r = hk_state_set(c->ca->st, key, v); } } while (0)
	SETK("root.%d.key-uri", kr->key_uri);
	SETK("root.%d.cert", relroot);
	SETK("root.%d.created", t);
	SETK("link.%d.old-with-new", relown);
	SETK("link.%d.new-with-old", relnwo);
#undef SETK
	if (r == 0 && hk_state_get(c->ca->st, "root.current") != NULL)
		r = hk_state_set(c->ca->st, "root.current", val);
	if (r == 0 && iss != NULL) {
		snprintf(key, sizeof(key), "issuing.%ld.cert", k);
		r = hk_state_set(c->ca->st, key, reliss);
	}
	/* A state.conf in place whose folder's fsync then failed names
	 * generation g all the same: kept and recorded, not undone (as
	 * root-commit); the failure is said after the record. */
	if (r == 0 && (keep = hk_state_save_placed(c->ca->st, &placed)) != 0 &&
	    !placed)
		r = keep;
	if (r != 0) {
		/* put issued.txt back: nothing of generation g is kept */
		if (had)
			(void)hk_file_write(path, saved, savedlen, 0644, 0);
		else
			(void)unlink(path);
		goto out;
	}
	snprintf(why, sizeof(why), "%s", keep != 0 ? hk_err_msg() : "");
	kr->key_made = 0;	/* the CA's now: no undo removes them */
	sr->nwritten = own->nwritten = nwo->nwritten = 0;
	if (iss != NULL)
		iss->nwritten = 0;
	hk_cert_fingerprint_text(sr->cert, fp);
	/* Committed: a record lost now fails the step, undoes nothing. */
	if ((r = hk_ca_audit(c->ca, "root.rollover", "ok", res->actors,
	    "generation %d SHA-256 %s; links %s %s%s%s; registered in %s", g,
	    fp, relown, relnwo, iss ? "; issuing CA re-certified " : "",
	    iss ? reliss : "", HK_ISSUED_FILE)) != 0)
		goto out;
	if (keep != 0) {
		hk_err_set("root generation %d is made and named by state.conf "
		    "(root.generations = %d; %s, %s, %s%s%s): kept; but %s", g,
		    g, relroot, relown, relnwo, iss ? ", " : "",
		    iss ? reliss : "", why);
		r = keep;
		goto out;
	}
	snprintf(res->detail, sizeof(res->detail), "generation %d recorded "
	    "(root.generations = %d): %s, %s, %s%s%s", g, g, relroot, relown,
	    relnwo, iss ? ", " : "", iss ? reliss : "");
out:
	free(saved);
	hk_issued_free(reg);
	return r;
}

const struct hk_step_action hk_step_rollover_commit = {
	{ "rollover-commit", "record the new root generation, its links and "
	    "the re-certified issuing CA in issued.txt and state.conf; kept "
	    "from here on", commit_params, 0, 0, 1 },
	commit_run, NULL
};
