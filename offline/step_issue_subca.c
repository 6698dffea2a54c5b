/*
 * step_issue_subca.c - the issuance building blocks shared by the
 * issue-subca, responder-certs and cross-certify ceremonies, and the
 * actions "csr-check" (a request checked and its SHA-256 confirmed before
 * the token is touched), "issue-subca" (the online issuing CA's
 * certificate, CPS 6-1-1-3, 7-1) and "issue-commit" (issued.txt and
 * state.conf, CPS 4-10).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "csr.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "name.h"
#include "profile.h"
#include "step_rollover.h"

static const char *const iss_kinds[] = { "issuing", "ocsp", "validation",
    "cross", NULL };

const char *
hk_iss_kind_name(enum hk_iss_kind k)
{
	return k >= HK_ISS_ISSUING && k <= HK_ISS_CROSS ? iss_kinds[k] : "?";
}

/* Put "prefix: " in front of the current error detail (one line). */
void
hk_iss_err_prefix(const char *fmt, ...)
{
	char pre[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	hk_err_set("%s: %s", pre, hk_err_msg());
}

int
hk_iss_root(struct hk_cer *c, int *gen, X509 **root, char *uri,
    size_t urilen)
{
	const char *g = hk_state_get(c->ca->st, "root.current");
	const char *v;
	char key[64], path[4096];
	long n;
	int r;

	*root = NULL;
	if (g == NULL)
		g = hk_state_get(c->ca->st, "root.generations");
	n = g != NULL ? strtol(g, NULL, 10) : 0;
	if (n < 1 || n > 999) {
		hk_err_set("%s: state.conf: root.generations: no root yet; "
		    "run the init-root ceremony first", c->ca->st->dir);
		return HK_ERR_STATE;
	}
	*gen = (int)n;
	if ((r = hk_life_root_may_sign(c, *gen, HK_ROOT_ISSUE)) != 0)
		return r;
	snprintf(key, sizeof(key), "root.%ld.cert", n);
	if ((v = hk_state_get(c->ca->st, key)) == NULL) {
		hk_err_set("%s: state.conf: %s: missing", c->ca->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(c->ca->st, v, path, sizeof(path))) != 0 ||
	    (r = hk_cert_read(path, root)) != 0)
		return r;
	if (uri != NULL) {
		snprintf(key, sizeof(key), "root.%ld.key-uri", n);
		if ((v = hk_state_get(c->ca->st, key)) == NULL ||
		    strlen(v) >= urilen) {
			hk_err_set("%s: state.conf: %s: missing",
			    c->ca->st->dir, key);
			X509_free(*root);
			*root = NULL;
			return HK_ERR_STATE;
		}
		snprintf(uri, urilen, "%s", v);
	}
	return 0;
}

int
hk_iss_next(struct hk_cer *c, enum hk_iss_kind k, int *n)
{
	char key[64];
	const char *v;
	long cur = 0;

	snprintf(key, sizeof(key), "%s.current", hk_iss_kind_name(k));
	if ((v = hk_state_get(c->ca->st, key)) != NULL) {
		char *end;
		cur = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || cur < 0 || cur >= 999) {
			hk_err_set("%s: state.conf: %s: \"%s\" is not 0..998",
			    c->ca->st->dir, key, v);
			return HK_ERR_STATE;
		}
	}
	*n = (int)cur + 1;
	return 0;
}

/* The csr-check step a "request" parameter names, its input and kind. */
int
hk_iss_request(struct hk_cer *c, const struct hk_script_step *st,
    const struct hk_script_step **check, int *input, enum hk_iss_kind *kind)
{
	const struct hk_script_param *p = hk_script_param(st, "request");
	const struct hk_script_param *in, *kp;

	if (p == NULL || p->ref < 0) {
		hk_err_set("step %s: request: no csr-check step", st->id);
		return HK_ERR_INVALID;
	}
	*check = &c->script->steps[p->ref];
	in = hk_script_param(*check, "csr");
	kp = hk_script_param(*check, "kind");
	if (in == NULL || kp == NULL || !c->res[p->ref].ran) {
		hk_err_set("step %s: request: step %s did not check a request",
		    st->id, (*check)->id);
		return HK_ERR_INVALID;
	}
	*input = in->ref;
	*kind = (enum hk_iss_kind)kp->ival;
	return 0;
}

int
hk_iss_input(struct hk_cer *c, int input, size_t max,
    const unsigned char **buf, size_t *len)
{
	const char *path = c->input_path[input];
	const char *name = c->script->inputs[input].name;

	*buf = NULL;
	*len = 0;
	if (c->input_buf[input] == NULL) {
		hk_err_set("%s: input %s: not read at the start of the "
		    "ceremony", path, name);
		return HK_ERR_INTERNAL;
	}
	if (c->input_len[input] > max) {
		hk_err_set("%s: input %s: larger than %zu bytes", path, name,
		    max);
		return HK_ERR_INVALID;
	}
	*buf = c->input_buf[input];
	*len = c->input_len[input];
	return 0;
}

int
hk_iss_csr(struct hk_cer *c, int input, X509_REQ **out)
{
	const char *path = c->input_path[input];
	const char *name = c->script->inputs[input].name;
	const unsigned char *buf;
	size_t len;
	int r;

	*out = NULL;
	if ((r = hk_iss_input(c, input, HK_CSR_MAX, &buf, &len)) != 0)
		return r;
	if ((r = hk_csr_parse(buf, len, name, out)) != 0)
		hk_iss_err_prefix("%s", path);
	return r;
}

int
hk_iss_build(struct hk_cer *c, enum hk_iss_kind k, X509 *root, X509_REQ *csr,
    int n, const char *bca_dn, int path_len, const char *mapped, X509 **out)
{
	time_t now = hk_clock_now();

	switch (k) {
	case HK_ISS_ISSUING:
		return hk_cert_build_issuing(c->profile, root, csr, n, now,
		    c->rehearsal, out);
	case HK_ISS_OCSP:
		return hk_cert_build_ocsp(c->profile, root, csr, n, now,
		    c->rehearsal, out);
	case HK_ISS_VALIDATION:
		return hk_cert_build_validation(c->profile, root, csr, n, now,
		    c->rehearsal, out);
	case HK_ISS_CROSS:
		return hk_cert_build_cross(c->profile, root, csr, bca_dn,
		    path_len, mapped, now, c->rehearsal, out);
	}
	hk_err_set("issuance: unknown kind %d", (int)k);
	return HK_ERR_INTERNAL;
}

static enum hk_cert_kind
cert_kind(enum hk_iss_kind k)
{
	switch (k) {
	case HK_ISS_ISSUING:	return HK_CERT_ISSUING;
	case HK_ISS_OCSP:	return HK_CERT_OCSP;
	case HK_ISS_VALIDATION:	return HK_CERT_VALIDATION;
	default:		return HK_CERT_CROSS;
	}
}

int
hk_iss_sign_write(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res, enum hk_iss_kind k, int n, X509 *cert,
    X509 *root, const char *key_uri)
{
	const char *kn = hk_iss_kind_name(k);
	EVP_PKEY *priv = NULL, *pub = NULL;
	char what[256], rel[64], dpath[4096], ppath[4096], fp[96];
	int r;

	snprintf(rel, sizeof(rel), "certs/%s-%d.der", kn, n);
	if ((r = hk_state_path(c->ca->st, rel, dpath, sizeof(dpath))) != 0)
		return r;
	snprintf(rel, sizeof(rel), "certs/%s-%d.pem", kn, n);
	if ((r = hk_state_path(c->ca->st, rel, ppath, sizeof(ppath))) != 0)
		return r;
	if (hk_path_exists(dpath) || hk_path_exists(ppath)) {
		hk_err_set("%s: already exists; refusing to overwrite (%s "
		    "generation %d)", hk_path_exists(dpath) ? dpath : ppath,
		    kn, n);
		return HK_ERR_EXISTS;
	}
	if ((r = hk_token_key(c->ca->tok, key_uri, &priv, &pub)) != 0)
		goto fail;
	snprintf(what, sizeof(what), "%s certificate %d (tbsCertificate) "
	    "under the root key %s", kn, n, key_uri);
	if ((r = hk_life_sign_tbs(c, st, cert, root, priv, cert_kind(k), what,
	    kn)) != 0)
		goto fail;
	/* the journal names them before they exist */
	if ((r = hk_cer_journal_file(c, dpath)) != 0 ||
	    (r = hk_cer_journal_file(c, ppath)) != 0)
		goto fail;
	if ((r = hk_cert_write(cert, dpath, NULL)) != 0)
		goto wfail;
	snprintf(res->written[res->nwritten++], sizeof(res->written[0]), "%s",
	    dpath);
	if ((r = hk_cert_write(cert, NULL, ppath)) != 0)
		goto wfail;
	snprintf(res->written[res->nwritten++], sizeof(res->written[0]), "%s",
	    ppath);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	hk_cert_fingerprint_text(cert, fp);
	/* A certificate the log does not hold is not kept. */
	if ((r = hk_ca_audit(c->ca, "cert.sign", "ok", res->actors, "%s %d %s "
	    "SHA-256 %s", kn, n, dpath, fp)) != 0)
		hk_iss_undo_files(c, st, res);
	return r;
wfail:
	hk_ca_audit_warn(c->ca, "cert.write", "fail", res->actors, "%s",
	    hk_err_msg());
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	/* A failed step is not undone by the engine: remove what it wrote. */
	hk_iss_undo_files(c, st, res);
	return r;
fail:
	hk_ca_audit_warn(c->ca, "cert.sign", "fail", res->actors, "%s %d: %s",
	    kn, n, hk_err_msg());
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return r;
}

void
hk_iss_undo_files(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	hk_cer_undo_written(c, res, "cert.remove", "the certificate was kept");
}

/* "certs/x.der" of an absolute path under the state folder. */
int
hk_iss_rel(struct hk_cer *c, const char *abs, char *rel, size_t len)
{
	const char *dir = c->ca->st->dir;
	size_t dl = strlen(dir);

	if (strncmp(abs, dir, dl) != 0 || abs[dl] != '/' ||
	    strlen(abs + dl + 1) >= len) {
		hk_err_set("%s: not under the state folder %s", abs, dir);
		return HK_ERR_INTERNAL;
	}
	snprintf(rel, len, "%s", abs + dl + 1);
	return 0;
}

int
hk_iss_register(struct hk_cer *c, X509 *cert, const char *kind,
    const char *rel, struct hk_issued **saved)
{
	struct hk_issued *reg = NULL;
	int r, placed = 0;

	*saved = NULL;
	if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		return r;
	if ((r = hk_issued_add(reg, cert, kind, rel)) != 0 ||
	    (r = hk_issued_save_placed(reg, &placed)) != 0) {
		hk_iss_err_prefix("%s/%s", c->ca->st->dir, HK_ISSUED_FILE);
		/* in place but its folder not synced: the entry is taken
		 * back, as the certificate it names is removed by the undo */
		if (placed)
			hk_iss_unregister(c, reg);
		hk_issued_free(reg);
		return r;
	}
	*saved = reg;
	return 0;
}

/* Take back the entry just added when state.conf cannot be written. */
void
hk_iss_unregister(struct hk_cer *c, struct hk_issued *reg)
{
	struct hk_err_kept msg;

	if (reg == NULL || reg->n == 0)
		return;
	hk_err_keep(&msg);
	reg->n--;
	if (hk_issued_save(reg) != 0)
		fprintf(stderr, "hanko-offline: %s: %s\n", reg->path,
		    hk_err_msg());
	(void)c;
	hk_err_restore(&msg);
}

/* action "csr-check" */

static const struct hk_param_spec check_params[] = {
	{ "csr", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "kind", HK_PARAM_ENUM, 1, 0, 0, iss_kinds, NULL, -1 },
	{ "fingerprint", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "subject", HK_PARAM_STR, 0, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/*
 * The expected SHA-256 as the requester showed it: 64 hex digits, with
 * or without colons or blanks, upper or lower case; nothing else.
 */
int
hk_iss_fingerprint(struct hk_cer *c, int input, unsigned char out[32])
{
	const char *path = c->input_path[input];
	const char *name = c->script->inputs[input].name;
	const unsigned char *buf;
	char hex[65];
	size_t len, i, n = 0;
	int r;

	if ((r = hk_iss_input(c, input, 4096, &buf, &len)) != 0)
		return r;
	for (i = 0; i < len; i++) {
		if (isxdigit(buf[i]) && n < 64)
			hex[n++] = (char)tolower(buf[i]);
		else if (buf[i] != ':' && buf[i] != ' ' && buf[i] != '\n' &&
		    buf[i] != '\r' && buf[i] != '\t') {
			n = 99;
			break;
		} else if (isxdigit(buf[i]))
			n = 99;
	}
	hex[n < 64 ? n : 64] = '\0';
	if (n != 64 || hk_hex_decode(hex, out, 32) != 0) {
		hk_err_set("%s: input %s: the expected SHA-256 must be 64 hex "
		    "digits (colons and blanks allowed), nothing else", path,
		    name);
		return HK_ERR_INVALID;
	}
	return 0;
}

static int
check_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *in = hk_script_param(st, "csr");
	const struct hk_script_param *kp = hk_script_param(st, "kind");
	const struct hk_script_param *fp = hk_script_param(st, "fingerprint");
	const struct hk_script_param *sp = hk_script_param(st, "subject");
	enum hk_iss_kind k = (enum hk_iss_kind)kp->ival;
	const char *path = c->input_path[in->ref];
	unsigned char want[32], dgst[32];
	char what[4700], hex[65], whex[65];
	X509_REQ *csr = NULL;
	X509 *root = NULL, *tmp = NULL;
	int r, gen, n;

	if (c->script->inputs[in->ref].kind != HK_INPUT_CSR) {
		hk_err_set("%s:%lu:%lu: step %s: csr: input %s is not of kind "
		    "csr", c->script->file, in->line, in->col, st->id,
		    in->value);
		return HK_ERR_INVALID;
	}
	if (sp != NULL && k != HK_ISS_CROSS) {
		hk_err_set("%s:%lu:%lu: step %s: subject: only for kind cross "
		    "(the other subjects come from the profile)",
		    c->script->file, sp->line, sp->col, st->id);
		return HK_ERR_INVALID;
	}
	if ((r = hk_iss_root(c, &gen, &root, NULL, 0)) != 0 ||
	    (r = hk_iss_next(c, k, &n)) != 0)
		goto out;
	if ((r = hk_iss_csr(c, in->ref, &csr)) != 0)
		goto out;
	/* The builder runs every check of the request (hk_csr_check against
	 * the expected subject and key); what it builds is thrown away. */
	if ((r = hk_iss_build(c, k, root, csr, n, sp ? sp->value : NULL,
	    HK_CERT_PATHLEN_NONE, NULL, &tmp)) != 0) {
		hk_iss_err_prefix("%s: input %s", path, in->value);
		goto out;
	}
	/* the SHA-256 of the DER request: what the requester shows, the
	 * same whether it came as PEM or DER (non-DER is refused) */
	{
		unsigned char *der = NULL;
		int len = i2d_X509_REQ(csr, &der);
		if (len <= 0) {
			hk_err_set("%s: input %s: cannot encode", path,
			    in->value);
			r = HK_ERR_CRYPTO;
			goto out;
		}
		SHA256(der, (size_t)len, dgst);
		OPENSSL_free(der);
	}
	hk_hex_encode(dgst, 32, hex);
	if ((r = hk_iss_fingerprint(c, fp->ref, want)) != 0)
		goto out;
	if (memcmp(want, dgst, 32) != 0) {
		hk_hex_encode(want, 32, whex);
		hk_err_set("%s: input %s: SHA-256 %s is not %s, the one the "
		    "requester showed (input %s); refused before the token is "
		    "used (CPS 6-1-1-5)", path, in->value, hex, whex,
		    fp->value);
		r = HK_ERR_INVALID;
		goto out;
	}
	snprintf(what, sizeof(what), "%s request %s (%s), DER, as the "
	    "requester showed it", hk_iss_kind_name(k), in->value, path);
	if ((r = hk_cer_confirm(c, st, what, dgst)) != 0)
		goto out;
	{
		char *subj = hk_name_print(X509_REQ_get_subject_name(csr));
		snprintf(res->detail, sizeof(res->detail), "%s request %d "
		    "checked (proof of possession, subject %s, key, no "
		    "attributes) under root generation %d; SHA-256 %s equals "
		    "the requester's and was confirmed", hk_iss_kind_name(k),
		    n, subj ? subj : "?", gen, hex);
		free(subj);
	}
	r = hk_ca_audit(c->ca, "csr.check", "ok", res->actors, "%s %s "
	    "SHA-256 %s", hk_iss_kind_name(k), path, hex);
out:
	if (r != 0 && r != HK_ERR_TTY)
		hk_ca_audit_warn(c->ca, "csr.check", "fail", res->actors, "%s",
		    hk_err_msg());
	X509_free(tmp);
	X509_free(root);
	X509_REQ_free(csr);
	return r;
}

const struct hk_step_action hk_step_csr_check = {
	{ "csr-check", "check a request (proof of possession, subject, key, "
	    "nothing else) and confirm its SHA-256 against the requester's",
	    check_params, 0, 0, 0 },
	check_run, NULL
};

/* action "issue-subca" */

static const struct hk_param_spec subca_params[] = {
	{ "request", HK_PARAM_STEP, 1, 0, 0, NULL, "csr-check", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* Shared by issue-subca and responder-cert: build, confirm, sign, write. */
int
hk_iss_issue(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res, enum hk_iss_kind k, int path_len,
    const char *mapped)
{
	const struct hk_script_step *check;
	const struct hk_script_param *sp;
	char uri[256], fp[96];
	X509_REQ *csr = NULL;
	X509 *root = NULL, *cert = NULL;
	enum hk_iss_kind ck;
	int r, gen, n, input;

	if ((r = hk_iss_request(c, st, &check, &input, &ck)) != 0)
		return r;
	if (ck != k) {
		hk_err_set("%s: step %s: request: step %s checked a %s request, "
		    "this step issues %s", c->script->file, st->id, check->id,
		    hk_iss_kind_name(ck), hk_iss_kind_name(k));
		return HK_ERR_INVALID;
	}
	sp = hk_script_param(check, "subject");
	if ((r = hk_iss_root(c, &gen, &root, uri, sizeof(uri))) != 0 ||
	    (r = hk_iss_next(c, k, &n)) != 0 ||
	    (r = hk_iss_csr(c, input, &csr)) != 0)
		goto out;
	if ((r = hk_iss_build(c, k, root, csr, n, sp ? sp->value : NULL,
	    path_len, mapped, &cert)) != 0) {
		hk_iss_err_prefix("%s", c->input_path[input]);
		goto out;
	}
	if ((r = hk_iss_sign_write(c, st, res, k, n, cert, root, uri)) != 0)
		goto out;
	hk_cert_fingerprint_text(cert, fp);
	snprintf(res->detail, sizeof(res->detail), "%s certificate %d "
	    "signed under root generation %d: %.1500s SHA-256 %s",
	    hk_iss_kind_name(k), n, gen, res->written[0], fp);
	res->cert = cert;
	cert = NULL;
out:
	X509_free(cert);
	X509_free(root);
	X509_REQ_free(csr);
	return r;
}

static int
subca_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	return hk_iss_issue(c, st, res, HK_ISS_ISSUING, 0, NULL);
}

const struct hk_step_action hk_step_issue_subca = {
	{ "issue-subca", "sign the online issuing CA's certificate (next "
	    "generation) under the current root key; confirm the TBS first",
	    subca_params, 0, 1, 1 },
	subca_run, hk_iss_undo_files
};

/* action "issue-commit" */

static const struct hk_param_spec commit_params[] = {
	{ "certificate", HK_PARAM_STEP, 1, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
commit_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *cp = hk_script_param(st, "certificate");
	const struct hk_script_step *sign = &c->script->steps[cp->ref];
	struct hk_step_result *sr = &c->res[cp->ref];
	const struct hk_script_step *check;
	struct hk_issued *reg = NULL;
	enum hk_iss_kind k;
	char rel[256], key[64], val[16], want[64], fp[96];
	char why[HK_ERR_DETAIL_MAX];
	const char *kn;
	int r, n, input, saved, placed = 0;

	if (strcmp(sign->spec->name, "issue-subca") != 0 &&
	    strcmp(sign->spec->name, "responder-cert") != 0) {
		hk_err_set("%s:%lu:%lu: step %s: certificate: step %s runs %s, "
		    "not issue-subca or responder-cert", c->script->file,
		    cp->line, cp->col, st->id, sign->id, sign->spec->name);
		return HK_ERR_INVALID;
	}
	if (!sr->ran || sr->cert == NULL || sr->nwritten < 1) {
		hk_err_set("step %s: certificate: step %s issued nothing to "
		    "keep", st->id, sign->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_request(c, sign, &check, &input, &k)) != 0 ||
	    (r = hk_iss_next(c, k, &n)) != 0 ||
	    (r = hk_iss_rel(c, sr->written[0], rel, sizeof(rel))) != 0)
		return r;
	kn = hk_iss_kind_name(k);
	snprintf(want, sizeof(want), "certs/%s-%d.der", kn, n);
	if (strcmp(rel, want) != 0) {
		hk_err_set("step %s: %s is not %s: the state changed during "
		    "the ceremony", st->id, rel, want);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_register(c, sr->cert, kn, rel, &reg)) != 0)
		return r;
	snprintf(val, sizeof(val), "%d", n);
	snprintf(key, sizeof(key), "%s.%d.cert", kn, n);
	/* A state.conf in place whose folder's fsync then failed names the
	 * certificate all the same: kept and recorded, not undone (state.conf
	 * naming a file removed and an entry taken out of issued.txt); the
	 * failure is said after the record. */
	saved = 0;
	if ((r = hk_state_set(c->ca->st, key, rel)) != 0 ||
	    (r = hk_state_set(c->ca->st, strcmp(kn, "issuing") == 0 ?
	    "issuing.current" : strcmp(kn, "ocsp") == 0 ? "ocsp.current" :
	    "validation.current", val)) != 0 ||
	    ((saved = hk_state_save_placed(c->ca->st, &placed)) != 0 &&
	    !placed)) {
		hk_iss_unregister(c, reg);
		hk_issued_free(reg);
		return r != 0 ? r : saved;
	}
	snprintf(why, sizeof(why), "%s", saved != 0 ? hk_err_msg() : "");
	hk_issued_free(reg);
	sr->nwritten = 0;	/* the CA's now: no undo removes it */
	hk_cert_fingerprint_text(sr->cert, fp);
	/* Committed: a record lost now fails the step, undoes nothing. */
	if ((r = hk_ca_audit(c->ca, "cert.issue", "ok", res->actors, "%s %d "
	    "recorded in %s and state.conf: %s SHA-256 %s", kn, n,
	    HK_ISSUED_FILE, rel, fp)) != 0)
		return r;
	if (saved != 0) {
		hk_err_set("%s %d is made and named by state.conf and %s (%s): "
		    "kept; but %s", kn, n, HK_ISSUED_FILE, rel, why);
		return saved;
	}
	snprintf(res->detail, sizeof(res->detail), "%s.current = %d, %s = %s; "
	    "registered in %s", kn, n, key, rel, HK_ISSUED_FILE);
	return 0;
}

const struct hk_step_action hk_step_issue_commit = {
	{ "issue-commit", "register an issued certificate in issued.txt and "
	    "state.conf; it is kept from here on", commit_params, 0, 0, 0 },
	commit_run, NULL
};
