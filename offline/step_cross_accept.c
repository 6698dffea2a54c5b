/*
 * step_cross_accept.c - actions "cross-accept" (the bridge CA's
 * certificate for our root received, checked and paired with ours, CPS
 * 4-8, 6-1-1-5) and "cross-commit" (our cross certificate registered, the
 * generation recorded in state.conf, CPS 4-10).
 *
 * cross-accept wants the certificate to certify our CURRENT root key and
 * name (hk_crosspair_check), to be issued by the bridge CA we certified
 * (issuer = the subject of our cross certificate, signature verifying with
 * the key we certified), to be a CA certificate valid now that a party
 * trusting the bridge's anchor can build a path through (keyUsage
 * keyCertSign and cRLSign, basicConstraints cA with no pathLenConstraint
 * 0, subjectKeyIdentifier equal to our root's); its SHA-256
 * is compared with the one the bridge CA sent by another channel (when
 * given) and confirmed. It writes certs/cross-forward-<n>.der and the
 * CertificatePair certs/crosspair-<n>.der (forward = theirs, reverse =
 * ours, RFC 4523 2.6), never replacing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "crosspair.h"
#include "err.h"
#include "hex.h"
#include "issued.h"

static const struct hk_param_spec accept_params[] = {
	{ "certificate", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "fingerprint", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "issued", HK_PARAM_STEP, 1, 0, 0, NULL, "cross-issue", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* The pair's two checks: forward against the root the bridge CA certified
 * (fwdroot: the real root, also in a rehearsal), reverse against the root
 * that signed it here. */
static int
pair_check(X509 *fwd, X509 *rev, X509 *fwdroot, X509 *root, X509 *issued)
{
	int r;

	if ((r = hk_crosspair_check(fwd, NULL, fwdroot, NULL)) != 0)
		return r;
	return hk_crosspair_check(NULL, rev, root, issued);
}

static int
forward_check(struct hk_cer *c, const char *path, const char *name,
    X509 *fwd, X509 *rev, X509 *root, X509 *fwdroot)
{
	time_t now = hk_clock_now();
	const ASN1_OCTET_STRING *fski, *rski;
	uint32_t flags;

	if (pair_check(fwd, rev, fwdroot, root, rev) != 0) {
		hk_iss_err_prefix("%s: input %s", path, name);
		return HK_ERR_INVALID;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(fwd),
	    X509_get_subject_name(rev)) != 0) {
		hk_err_set("%s: input %s: issuer: must be the bridge CA we "
		    "certified (the subject of our cross certificate)", path,
		    name);
		return HK_ERR_INVALID;
	}
	if (X509_verify(fwd, X509_get0_pubkey(rev)) != 1) {
		hk_err_set("%s: input %s: signature: does not verify with the "
		    "bridge CA key we certified", path, name);
		return HK_ERR_VERIFY;
	}
	/* What a relying party trusting the bridge's anchor needs to build
	 * anchor -> this -> issuing CA -> resident and to check our ARL:
	 * OpenSSL, NSS and GnuTLS refuse the path otherwise. */
	flags = X509_get_extension_flags(fwd);
	if (!(flags & EXFLAG_KUSAGE) || (X509_get_key_usage(fwd) &
	    (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != (KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN)) {
		hk_err_set("%s: input %s: keyUsage: must be present with "
		    "keyCertSign and cRLSign (PROFILE.md, cross; RFC 5280 "
		    "4.2.1.3)", path, name);
		return HK_ERR_INVALID;
	}
	if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) {
		hk_err_set("%s: input %s: basicConstraints: must be present "
		    "with cA TRUE, certifying our root as a CA (RFC 5280 "
		    "4.2.1.9)", path, name);
		return HK_ERR_INVALID;
	}
	if (X509_get_pathlen(fwd) == 0) {
		hk_err_set("%s: input %s: basicConstraints: pathLenConstraint "
		    "0 leaves no room for our issuing CA below the root (RFC "
		    "5280 4.2.1.9: absent or at least 1)", path, name);
		return HK_ERR_INVALID;
	}
	rski = X509_get0_subject_key_id(fwdroot);
	fski = X509_get0_subject_key_id(fwd);
	if (fski == NULL || rski == NULL || ASN1_OCTET_STRING_cmp(fski,
	    rski) != 0) {
		hk_err_set("%s: input %s: subjectKeyIdentifier: must be present "
		    "and equal our root's, which our issuing CA's "
		    "authorityKeyIdentifier names (RFC 5280 4.2.1.2)", path,
		    name);
		return HK_ERR_INVALID;
	}
	if (X509_cmp_time(X509_get0_notBefore(fwd), &now) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(fwd), &now) < 0) {
		hk_err_set("%s: input %s: validity: not valid now", path,
		    name);
		return HK_ERR_INVALID;
	}
	(void)c;
	return 0;
}

static int
accept_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *cp = hk_script_param(st, "certificate");
	const struct hk_script_param *fp = hk_script_param(st, "fingerprint");
	struct hk_step_result *ir = hk_cer_ref_result(c, st, "issued");
	const char *path = c->input_path[cp->ref];
	unsigned char want[32], d[32], *der = NULL, *pder = NULL;
	const unsigned char *in;
	size_t inlen;
	char hex[65], whex[65], what[4700], rel[64], fpath[4096], ppath[4096];
	X509 *fwd = NULL, *root = NULL, *fwdroot = NULL, *f2 = NULL, *r2 = NULL;
	size_t plen;
	int r, gen, n, len;

	if (c->script->inputs[cp->ref].kind != HK_INPUT_CERT) {
		hk_err_set("%s:%lu:%lu: step %s: certificate: input %s is not "
		    "of kind cert", c->script->file, cp->line, cp->col, st->id,
		    cp->value);
		return HK_ERR_INVALID;
	}
	if (ir == NULL || !ir->ran || ir->cert == NULL) {
		hk_err_set("step %s: issued: no cross certificate was issued",
		    st->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_root(c, &gen, &root, NULL, 0)) != 0 ||
	    (r = hk_iss_next(c, HK_ISS_CROSS, &n)) != 0)
		goto out;
	{
		/* In a rehearsal of a real CA the root in the copy is a
		 * stand-in (offline/rehearsal.c); the bridge CA certified the
		 * real one, so that is what its certificate is checked against. */
		char key[64], rp[4096];
		const char *real;
		snprintf(key, sizeof(key), "root.%d.real-cert", gen);
		if ((real = hk_state_get(c->ca->st, key)) != NULL) {
			X509 *rx = NULL;
			if ((r = hk_state_path(c->ca->st, real, rp,
			    sizeof(rp))) != 0 || (r = hk_cert_read(rp, &rx)) != 0)
				goto out;
			fwdroot = rx;
		}
	}
	/* the bytes read at the start, whose SHA-256 the transcript has */
	if ((r = hk_iss_input(c, cp->ref, HK_CERT_MAX, &in, &inlen)) != 0)
		goto out;
	if ((r = hk_cert_parse(path, in, inlen, &fwd)) != 0) {
		hk_iss_err_prefix("input %s", cp->value);
		goto out;
	}
	if ((len = i2d_X509(fwd, &der)) <= 0) {
		hk_err_set("%s: input %s: cannot encode", path, cp->value);
		r = HK_ERR_CRYPTO;
		goto out;
	}
	SHA256(der, (size_t)len, d);
	hk_hex_encode(d, 32, hex);
	if ((r = forward_check(c, path, cp->value, fwd, ir->cert, root,
	    fwdroot != NULL ? fwdroot : root)) != 0)
		goto out;
	if (fp != NULL) {
		if ((r = hk_iss_fingerprint(c, fp->ref, want)) != 0)
			goto out;
		if (memcmp(want, d, 32) != 0) {
			hk_hex_encode(want, 32, whex);
			hk_err_set("%s: input %s: SHA-256 %s is not %s, the one "
			    "the bridge CA sent (input %s)", path, cp->value,
			    hex, whex, fp->value);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	snprintf(what, sizeof(what), "the bridge CA's certificate for our "
	    "root generation %d (%s), DER", gen, path);
	if ((r = hk_cer_confirm(c, st, what, d)) != 0)
		goto out;
	if ((r = hk_crosspair_encode(fwd, ir->cert, &pder, &plen)) != 0 ||
	    (r = hk_crosspair_decode(pder, plen, &f2, &r2)) != 0 ||
	    (r = pair_check(f2, r2, fwdroot != NULL ? fwdroot : root, root,
	    ir->cert)) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "certs/cross-forward-%d.der", n);
	if ((r = hk_state_path(c->ca->st, rel, fpath, sizeof(fpath))) != 0)
		goto out;
	snprintf(rel, sizeof(rel), "certs/crosspair-%d.der", n);
	if ((r = hk_state_path(c->ca->st, rel, ppath, sizeof(ppath))) != 0)
		goto out;
	if (hk_path_exists(fpath) || hk_path_exists(ppath)) {
		hk_err_set("%s: already exists; refusing to overwrite",
		    hk_path_exists(fpath) ? fpath : ppath);
		r = HK_ERR_EXISTS;
		goto out;
	}
	/* the journal names them before they exist */
	if ((r = hk_cer_journal_file(c, fpath)) != 0 ||
	    (r = hk_cer_journal_file(c, ppath)) != 0 ||
	    (r = hk_cert_write(fwd, fpath, NULL)) != 0)
		goto out;
	snprintf(res->written[res->nwritten++], sizeof(res->written[0]), "%s",
	    fpath);
	if ((r = hk_file_write(ppath, pder, plen, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	snprintf(res->written[res->nwritten++], sizeof(res->written[0]), "%s",
	    ppath);
	SHA256(pder, plen, d);
	hk_hex_encode(d, 32, whex);
	/* Files the log does not hold are not left behind (out:). */
	if ((r = hk_ca_audit(c->ca, "cross.accept", "ok", res->actors,
	    "generation %d: bridge CA's certificate for root %d SHA-256 %s; "
	    "%s SHA-256 %s", n, gen, hex, ppath, whex)) != 0)
		goto out;
	snprintf(res->detail, sizeof(res->detail), "the bridge CA's "
	    "certificate for root generation %d (SHA-256 %s) accepted; "
	    "CertificatePair %.1500s SHA-256 %s", gen, hex, ppath, whex);
	r = 0;
out:
	if (r != 0 && r != HK_ERR_TTY)
		hk_ca_audit_warn(c->ca, "cross.accept", "fail", res->actors,
		    "%s", hk_err_msg());
	/* A failed step is not undone by the engine: what it wrote goes
	 * (cross-forward-<n>.der when the pair could not be written), so
	 * that the ceremony can be run again. */
	if (r != 0 && res->nwritten > 0) {
		struct hk_err_kept msg;
		hk_err_keep(&msg);
		hk_iss_undo_files(c, st, res);
		hk_err_restore(&msg);
	}
	OPENSSL_free(der);
	OPENSSL_free(pder);
	X509_free(f2);
	X509_free(r2);
	X509_free(fwd);
	X509_free(root);
	X509_free(fwdroot);
	return r;
}

const struct hk_step_action hk_step_cross_accept = {
	{ "cross-accept", "check the bridge CA's certificate for our current "
	    "root and write the CertificatePair", accept_params, 0, 0, 0 },
	accept_run, hk_iss_undo_files
};

/* action "cross-commit" */

static const struct hk_param_spec commit_params[] = {
	{ "issued", HK_PARAM_STEP, 1, 0, 0, NULL, "cross-issue", -1 },
	{ "accepted", HK_PARAM_STEP, 0, 0, 0, NULL, "cross-accept", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
commit_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	struct hk_step_result *ir = hk_cer_ref_result(c, st, "issued");
	struct hk_step_result *ar = hk_cer_ref_result(c, st, "accepted");
	struct hk_issued *reg = NULL;
	char rev[256], fwd[256] = "", pair[256] = "", want[64], key[64];
	char val[16], fp[96];
	int r, n;

	if (ir == NULL || !ir->ran || ir->cert == NULL || ir->nwritten < 1 ||
	    (ar != NULL && (!ar->ran || ar->nwritten < 2))) {
		hk_err_set("step %s: nothing issued or accepted to keep",
		    st->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_next(c, HK_ISS_CROSS, &n)) != 0 ||
	    (r = hk_iss_rel(c, ir->written[0], rev, sizeof(rev))) != 0 ||
	    (ar != NULL && ((r = hk_iss_rel(c, ar->written[0], fwd,
	    sizeof(fwd))) != 0 || (r = hk_iss_rel(c, ar->written[1], pair,
	    sizeof(pair))) != 0)))
		return r;
	snprintf(want, sizeof(want), "certs/cross-%d.der", n);
	if (strcmp(rev, want) != 0) {
		hk_err_set("step %s: %s is not %s: the state changed during "
		    "the ceremony", st->id, rev, want);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_register(c, ir->cert, "cross", rev, &reg)) != 0)
		return r;
	snprintf(val, sizeof(val), "%d", n);
	snprintf(key, sizeof(key), "cross.%d.reverse", n);
	if ((r = hk_state_set(c->ca->st, "cross.current", val)) != 0 ||
	    (r = hk_state_set(c->ca->st, key, rev)) != 0)
		goto fail;
	if (ar != NULL) {
		snprintf(key, sizeof(key), "cross.%d.forward", n);
		if ((r = hk_state_set(c->ca->st, key, fwd)) != 0)
			goto fail;
		snprintf(key, sizeof(key), "cross.%d.pair", n);
		if ((r = hk_state_set(c->ca->st, key, pair)) != 0)
			goto fail;
	}
	if ((r = hk_state_save(c->ca->st)) != 0)
		goto fail;
	hk_issued_free(reg);
	ir->nwritten = 0;	/* the CA's now */
	if (ar != NULL)
		ar->nwritten = 0;
	hk_cert_fingerprint_text(ir->cert, fp);
	/* Committed: a record lost now fails the step, undoes nothing. */
	if ((r = hk_ca_audit(c->ca, "cert.issue", "ok", res->actors, "cross %d "
	    "recorded in %s and state.conf: %s SHA-256 %s%s%s", n,
	    HK_ISSUED_FILE, rev, fp, ar ? "; pair " : "", pair)) != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "cross.current = %d: "
	    "reverse %s%s%s%s%s; registered in %s", n, rev, ar ?
	    ", forward " : "", fwd, ar ? ", pair " : "", pair, HK_ISSUED_FILE);
	return 0;
fail:
	hk_iss_unregister(c, reg);
	hk_issued_free(reg);
	return r;
}

const struct hk_step_action hk_step_cross_commit = {
	{ "cross-commit", "register our cross certificate and record the "
	    "cross-certification generation in state.conf", commit_params, 0,
	    0, 0 },
	commit_run, NULL
};
