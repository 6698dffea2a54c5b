/*
 * step_compromise.c - the compromise of a root key (CPS 4-14-2): actions
 * "compromise-revoke" (stage the revocation of every valid certificate of
 * issued.txt that the compromised key signed, and of the link certificates
 * that certify that key) and "compromise-notice" (the notice for the
 * bridge CA: which key, when, what was revoked, fingerprints, the
 * emergency ARL). The emergency ARL itself is arl-batch with count 1 and
 * arl-commit keeps it all (and root.<g>.compromised in state.conf).
 *
 * Reasons (RFC 5280 5.3.1, CPS 4-4-4-2): a certificate signed by the
 * compromised key gets cACompromise(2) (its issuer's key is compromised);
 * a link certificate whose subject key is the compromised key, signed by
 * another generation, gets keyCompromise(1). The self-signed root itself
 * is not put on its own ARL: the notice withdraws it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "step_rollover.h"

static const struct hk_param_spec rev_params[] = {
	{ "generation", HK_PARAM_INT, 1, 1, 999, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
rev_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *gp = hk_script_param(st, "generation");
	int g = (int)gp->ival, r = 0, n1 = 0, n2 = 0;
	struct hk_issued *reg = NULL;
	X509 *root = NULL;
	EVP_PKEY *rk;
	time_t now = hk_clock_now();
	char key[64];
	size_t i;

	if (g > hk_life_generation(c)) {
		hk_err_set("%s:%lu:%lu: step %s: generation %d: the CA has %d",
		    c->script->file, gp->line, gp->col, st->id, g,
		    hk_life_generation(c));
		return HK_ERR_INVALID;
	}
	snprintf(key, sizeof(key), "root.%d.compromised", g);
	if (hk_state_get(c->ca->st, key) != NULL) {
		hk_err_set("step %s: root-%d was declared compromised at %s "
		    "already", st->id, g, hk_state_get(c->ca->st, key));
		return HK_ERR_EXISTS;
	}
	/* What the real key signed: in a rehearsal the copy's root-<g> is a
	 * stand-in, so the real certificate decides (rehearsal.c). */
	if ((r = hk_life_root_real(c, g, &root)) != 0)
		return r;
	rk = X509_get0_pubkey(root);
	if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		goto out;
	for (i = 0; i < reg->n; i++) {
		struct hk_issued_entry *e = &reg->e[i];
		char path[4096];
		X509 *x = NULL;
		int reason = 0;

		if (e->revoked || e->not_after < now ||
		    strcmp(e->kind, "root") == 0)
			continue;
		if ((r = hk_state_path(c->ca->st, e->file, path,
		    sizeof(path))) != 0 || (r = hk_cert_read(path, &x)) != 0) {
			hk_err_set("step %s: %s (serial %s) cannot be read: "
			    "cannot tell which key signed it", st->id, e->file,
			    e->serial);
			r = HK_ERR_STATE;
			goto out;
		}
		if (X509_verify(x, rk) == 1)
			reason = 2;		/* cACompromise */
		else if (EVP_PKEY_eq(X509_get0_pubkey(x), rk) == 1)
			reason = 1;		/* keyCompromise */
		ERR_clear_error();
		X509_free(x);
		if (reason == 0)
			continue;
		if ((r = hk_life_stage(e->serial, e->kind, reason, now)) != 0)
			goto out;
		if (reason == 2)
			n2++;
		else
			n1++;
	}
	if ((r = hk_ca_audit(c->ca, "root.compromise", "ok", res->actors,
	    "root-%d declared compromised (CPS 4-14-2): %d certificate%s it "
	    "signed staged as cACompromise, %d certifying its key as "
	    "keyCompromise", g, n2, n2 == 1 ? "" : "s", n1)) != 0)
		goto out;
	hk_life_compromised_gen = g;
	snprintf(res->detail, sizeof(res->detail), "root-%d compromised: %d "
	    "revocation%s staged (cACompromise %d, keyCompromise %d)", g,
	    n1 + n2, n1 + n2 == 1 ? "" : "s", n2, n1);
out:
	if (r != 0) {
		hk_life_unstage_all();
		hk_ca_audit_warn(c->ca, "root.compromise", "fail", res->actors,
		    "%s", hk_err_msg());
	}
	hk_issued_free(reg);
	X509_free(root);
	return r;
}

static void
rev_undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	if (hk_life_committed)
		return;
	hk_life_unstage_all();
	res->undone = 1;
	hk_ca_audit_warn(c->ca, "root.compromise", "ok", res->actors, "staged "
	    "revocations dropped: the ceremony failed before arl-commit");
}

const struct hk_step_action hk_step_compromise_revoke = {
	{ "compromise-revoke", "stage the revocation of everything a "
	    "compromised root key signed or that certifies it", rev_params, 0,
	    0, 0 },
	rev_run, rev_undo
};

/* Action "compromise-notice". */

static const struct hk_param_spec notice_params[] = {
	{ "revocation", HK_PARAM_STEP, 1, 0, 0, NULL, "compromise-revoke",
	    -1 },
	{ "arl", HK_PARAM_STEP, 1, 0, 0, NULL, "arl-batch", -1 },
	{ "notice", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_FILE },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* Append printf text to a growing buffer. */
struct buf {
	char *p;
	size_t len, cap;
	int err;
};

static void __attribute__((format(printf, 2, 3)))
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap -
		    b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap + (size_t)n + 1) * 2;
			char *q = realloc(b->p, cap);
			if (q == NULL) {
				b->err = 1;
				return;
			}
			b->p = q;
			b->cap = cap;
		}
	}
}

static int
notice_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *rp = hk_script_param(st, "revocation");
	const struct hk_script_param *gp = hk_script_param(
	    &c->script->steps[rp->ref], "generation");
	const struct hk_life_staged *sg;
	struct hk_issued *reg = NULL;
	struct buf b = { NULL, 0, 0, 0 };
	const char *path, *f, *uri;
	char key[64], t[32], fp[96], dn[512], hex[65];
	unsigned char *fb, d[32];
	size_t ns, na, i, fl;
	uint64_t last;
	X509 *root = NULL;
	int g = (int)gp->ival, r, oi;

	path = hk_cer_ref_output(c, st, "notice", &oi);
	sg = hk_life_staged(&ns);
	if ((r = hk_life_root_real(c, g, &root)) != 0 ||
	    (r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		goto out;
	hk_time_format(hk_clock_now(), t, sizeof(t));
	hk_cert_fingerprint_text(root, fp);
	X509_NAME_oneline(X509_get_subject_name(root), dn, sizeof(dn));
	snprintf(key, sizeof(key), "root.%d.key-uri", g);
	uri = hk_state_get(c->ca->st, key);
	bprintf(&b, "hanko-bca-notice: 1\n");
	bprintf(&b, "to: 個人認証BCA (the bridge CA of the public personal "
	    "authentication service)\n");
	bprintf(&b, "subject: compromise of a private key of the Kumamoto "
	    "prefectural CA (CPS 4-14-2)\n");
	bprintf(&b, "declared: %s\n", t);
	bprintf(&b, "ceremony: %s (script SHA-256 %s)%s\n", c->script->name,
	    c->script->sha256_hex, c->rehearsal ? " REHEARSAL" : "");
	bprintf(&b, "key: root-%d %s\n", g, uri ? uri : "-");
	bprintf(&b, "key-certificate: %s\n", dn);
	bprintf(&b, "key-certificate-sha256: %s\n", fp);
	bprintf(&b, "action: issuance under root-%d stopped; every certificate "
	    "it signed revoked (cACompromise), every link certifying it "
	    "revoked (keyCompromise); please revoke the cross certificate "
	    "issued to this key and remove root-%d from trust lists\n", g, g);
	bprintf(&b, "revoked-count: %zu\n", ns);
	for (i = 0; i < ns; i++) {
		struct hk_issued_entry *e = hk_issued_find(reg, sg[i].serial);
		bprintf(&b, "revoked: serial %s kind %s reason %s(%d) "
		    "certificate-sha256 %s subject %s\n", sg[i].serial,
		    sg[i].kind, hk_life_reasons[sg[i].reason - 1],
		    sg[i].reason, e ? e->sha256 : "-", e ? e->subject : "-");
	}
	for (i = 0; (f = hk_life_arl_file(i, &na, &last)) != NULL; i++) {
		if (hk_file_read(f, 1 << 24, &fb, &fl) != 0)
			continue;
		SHA256(fb, fl, d);
		free(fb);
		hk_hex_encode(d, 32, hex);
		bprintf(&b, "emergency-arl: %s sha256 %s\n", f, hex);
	}
	bprintf(&b, "arl-last-number: %llu\n", (unsigned long long)last);
	if (b.err) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((r = hk_file_write(path, b.p, b.len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	SHA256((unsigned char *)b.p, b.len, d);
	hk_hex_encode(d, 32, hex);
	snprintf(res->written[0], sizeof(res->written[0]), "%s", path);
	res->nwritten = 1;
	/* A notice the log does not hold is not left behind. */
	if ((r = hk_ca_audit(c->ca, "root.compromise", "ok", res->actors,
	    "notice for the bridge CA %s SHA-256 %s", path, hex)) != 0) {
		(void)unlink(path);
		res->nwritten = 0;
		goto out;
	}
	snprintf(res->detail, sizeof(res->detail), "notice for the bridge CA: "
	    "root-%d, %zu revoked, SHA-256 %s", g, ns, hex);
out:
	free(b.p);
	hk_issued_free(reg);
	X509_free(root);
	return r;
}

static void
notice_undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	hk_cer_undo_written(c, res, "root.compromise", "arl-commit");
}

const struct hk_step_action hk_step_compromise_notice = {
	{ "compromise-notice", "write the notice for the bridge CA: which "
	    "key, when, what was revoked, fingerprints, the emergency ARL",
	    notice_params, 0, 0, 0 },
	notice_run, notice_undo
};
