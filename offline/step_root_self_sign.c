/*
 * step_root_self_sign.c - action "root-self-sign": the self-signed root
 * certificate (NewWithNew, CPS 6-3-1-2, 7-1-3), built from the profile,
 * linted, shown and confirmed, signed in the token over the byte-identical
 * TBS, verified, linted again and written as DER and PEM, never replacing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "cert.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "profile.h"

int
hk_root_sign(struct hk_ca *ca, const struct hk_profile *p,
    struct hk_root_key *k, int rehearsal, hk_confirm_fn confirm, void *arg,
    X509 **out)
{
	unsigned char want[32], got[32];
	char label[20], what[96];
	X509 *cert = NULL;
	int r;

	snprintf(label, sizeof(label), "%.*s", k->idlen > 0 ?
	    (int)k->idlen : 6, k->idlen > 0 ? (const char *)k->id : "root-1");
	snprintf(what, sizeof(what), "%s self-signed certificate "
	    "(tbsCertificate)", label);

	*out = NULL;
	if ((r = hk_cert_build_root(p, k->pub, hk_clock_now(), rehearsal,
	    &cert)) != 0)
		goto fail;
	if (confirm != NULL) {
		if ((r = hk_cert_tbs_digest(cert, k->pub, hk_cert_md(p, k->pub),
		    want)) != 0 ||
		    (r = confirm(arg, what, want)) != 0)
			goto fail;
	}
	if ((r = hk_cert_sign_checked(cert, k->priv, k->pub, p, HK_CERT_ROOT,
	    rehearsal)) != 0)
		goto fail;
	if (confirm != NULL) {
		unsigned char *der = NULL;
		int len = i2d_re_X509_tbs(cert, &der);
		if (len <= 0) {
			r = HK_ERR_CRYPTO;
			hk_err_set("%s: cannot encode the signed TBS", label);
			goto fail;
		}
		SHA256(der, (size_t)len, got);
		OPENSSL_free(der);
		if (memcmp(want, got, 32) != 0) {
			r = HK_ERR_VERIFY;
			hk_err_set("%s: the signed TBS is not the one "
			    "confirmed", label);
			goto fail;
		}
	}
	*out = cert;
	return 0;
fail:
	hk_ca_audit_warn(ca, "cert.sign", "fail", ca->actors, "%s: %s", label,
	    hk_err_msg());
	X509_free(cert);
	return r;
}

int
hk_root_write(struct hk_ca *ca, X509 *cert, const char *der, const char *pem,
    char fp[96])
{
	int r;

	if ((r = hk_cert_write(cert, der, pem)) != 0) {
		hk_ca_audit_warn(ca, "cert.write", "fail", ca->actors, "%s",
		    hk_err_msg());
		return r;
	}
	hk_cert_fingerprint_text(cert, fp);
	/* A certificate the log does not hold is not kept. */
	if ((r = hk_ca_audit(ca, "cert.sign", "ok", ca->actors, "self-signed "
	    "root certificate %s SHA-256 %s", der, fp)) != 0) {
		(void)unlink(der);
		(void)unlink(pem);
	}
	return r;
}

/* The ceremony action. */

static const struct hk_param_spec params[] = {
	{ "key", HK_PARAM_STEP, 1, 0, 0, NULL, "root-keygen", -1 },
	{ "der", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_CERT_DER },
	{ "pem", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_CERT_PEM },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

struct confirm_arg {
	struct hk_cer *c;
	const struct hk_script_step *st;
};

static int
confirm_cb(void *arg, const char *what, const unsigned char dgst[32])
{
	struct confirm_arg *a = arg;

	return hk_cer_confirm(a->c, a->st, what, dgst);
}

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	struct hk_step_result *kr = hk_cer_ref_result(c, st, "key");
	struct confirm_arg a = { c, st };
	struct hk_root_key k;
	const char *der, *pem;
	char fp[96];
	X509 *cert = NULL;
	int r, di, pi;

	der = hk_cer_ref_output(c, st, "der", &di);
	pem = hk_cer_ref_output(c, st, "pem", &pi);
	if (c->script->outputs[di].base != HK_BASE_CERTS ||
	    c->script->outputs[pi].base != HK_BASE_CERTS) {
		hk_err_set("%s: step %s: the root certificate is kept in the "
		    "state's certs/", c->script->file, st->id);
		return HK_ERR_INVALID;
	}
	memset(&k, 0, sizeof(k));
	k.priv = kr->priv;
	k.pub = kr->pub;
	if (kr->key_id_len < 6 || kr->key_id_len >= sizeof(k.id)) {
		hk_err_set("step %s: key: no root key label", st->id);
		return HK_ERR_STATE;
	}
	memcpy(k.id, kr->key_id, kr->key_id_len);
	k.idlen = kr->key_id_len;
	/* certs/root-<g>.der and .pem: the generation the key step made */
	{
		const char *bd = strrchr(der, '/'), *bp = strrchr(pem, '/');
		char want[32];
		snprintf(want, sizeof(want), "%.*s.der", (int)k.idlen,
		    (const char *)k.id);
		if (bd == NULL || strcmp(bd + 1, want) != 0) {
			hk_err_set("%s: step %s: der: the key made is %.*s, so "
			    "the certificate is certs/%s", c->script->file,
			    st->id, (int)k.idlen, (const char *)k.id, want);
			return HK_ERR_INVALID;
		}
		want[strlen(want) - 3] = '\0';
		strcat(want, "pem");
		if (bp == NULL || strcmp(bp + 1, want) != 0) {
			hk_err_set("%s: step %s: pem: the key made is %.*s, so "
			    "the certificate is certs/%s", c->script->file,
			    st->id, (int)k.idlen, (const char *)k.id, want);
			return HK_ERR_INVALID;
		}
	}
	if ((r = hk_root_sign(c->ca, c->profile, &k, c->rehearsal,
	    confirm_cb, &a, &cert)) != 0)
		return r;
	/* the journal names them before they exist */
	if ((r = hk_cer_journal_file(c, der)) != 0 ||
	    (r = hk_cer_journal_file(c, pem)) != 0 ||
	    (r = hk_root_write(c->ca, cert, der, pem, fp)) != 0) {
		X509_free(cert);
		return r;
	}
	res->cert = cert;
	snprintf(res->written[0], sizeof(res->written[0]), "%s", der);
	snprintf(res->written[1], sizeof(res->written[1]), "%s", pem);
	res->nwritten = 2;
	snprintf(res->detail, sizeof(res->detail), "%.*s self-signed "
	    "certificate SHA-256 %s", (int)k.idlen, (const char *)k.id, fp);
	return 0;
}

const struct hk_step_action hk_step_root_self_sign = {
	{ "root-self-sign", "build, confirm, sign, verify, lint and write the "
	    "self-signed root certificate", params, 0, 1, 1 },
	run, hk_iss_undo_files
};
