/*
 * cmd_responder.c - "hanko-online responder": the delegated OCSP responder
 * (RFC 6960 4.2.2.2; PROFILE.md "OCSP responder" column; CPS 1-3-2,
 * 4-4-4-1; docs/ocsp.md). Its key, ocsp-<n>, is generated in the online
 * token; its certificate "<prefix>, CN=OCSP Responder <n>" (+ OU=<marker>
 * in a rehearsal) is issued by the current issuing CA, the CA whose
 * residents' certificates it answers for: id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, keyUsage digitalSignature, the profile's validity
 * (1 year, CPS 1-3-2), or in the issuing CA's last year exactly up to its
 * notAfter (a responder never outlives its issuer; every certificate it
 * answers for ends by then), which it prints and audits as cut.
 *
 * Running it again makes responder n+1 (renewal); every response signed by
 * an older responder is signed again by the next ocsp-refresh. After an
 * issuing re-key the older generation's newest responder keeps answering
 * for the certificates that generation issued; --generation N makes (or
 * renews) the responder of an older generation, signed by its key, while
 * its certificate is valid (docs/ocsp.md "Issuing generations"). A failure
 * before state.conf names the new responder destroys its key and removes
 * its files; the old responder stays current. CPS 4-14-2: nothing is made
 * under an issuing generation marked compromised or revoked by the root's
 * newest imported ARL, nor while the newest root generation, or the one
 * that certified the issuing CA, is declared compromised (trust
 * --compromised; root_distrust).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "lint.h"
#include "name.h"
#include "ocsp.h"
#include "online.h"
#include "p11.h"
#include "profile.h"
#include "store.h"

#define MAX_NUMBER	999	/* responders (hk_cert_build_ocsp) */

struct responder_opts {
	struct hk_online_opts c;	/* --state, --clock */
	int gen;			/* --generation N (0: the current) */
};

/* What one run works with, freed in one place. */
struct responder_work {
	struct hk_online *on;		/* the state, logged in */
	struct hk_store *store;		/* open store */
	struct hk_profile *p;		/* the state's profile */
	int rehearsal;			/* 1: rehearsal state */
	X509 *issuer;			/* the current issuing CA */
	EVP_PKEY *ikey;			/* its key in the token */
	int igen;			/* its generation */
	int n;				/* the new responder's number */
	unsigned char id[16];		/* new key's CKA_ID "ocsp-<n>" */
	size_t id_len;
	char uri[256];			/* its RFC 7512 URI */
	int key_made;			/* 1: destroy the key on failure */
	char der[4096], pem[4096];	/* its certificate files */
	int files_made;			/* 1: remove them on failure */
	int orphan_lo, orphan_hi;	/* keys skipped (0: none) */
	char orphans[320];		/* "; ..." said of them, or "" */
};

static const char responder_usage[] =
"usage: hanko-online responder --state DIR [--generation N] [--clock T]\n";

static int
parse(struct responder_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--generation", .num = &o->gen, .lo = 1,
		    .hi = HK_CERT_GEN_MAX, .rule = "an issuing generation "
		    "1-999" },
		{ .name = NULL },
	};

	memset(o, 0, sizeof(*o));
	return hk_online_parse(&o->c, argc, argv, responder_usage, args,
	    NULL);
}

/* The issuing CA: the current one (hk_online_current_issuer, the rule
 * issue and publish use too), or with --generation that generation's,
 * valid now and its key in the token (hk_online_gen_issuer). Either way
 * refused when the root's ARL revokes it (hk_online_issuing_stopped, CPS
 * 4-14-2): a responder certificate under it is one relying parties
 * refuse. */
static int
find_issuer(struct responder_work *w, const struct responder_opts *o)
{
	struct hk_online_issuing l;
	char stopped[512];
	int r;

	if (o->gen == 0)
		return hk_online_current_issuer(w->on, w->store,
		    hk_clock_now(), &w->issuer, &w->igen, &w->ikey);
	if ((r = hk_online_issuing_load(w->store, &l)) != 0)
		return r;
	if ((r = hk_online_issuing_arl(w->store, &l)) == 0)
		r = hk_online_gen_issuer(w->on, &l, (int)o->gen,
		    hk_clock_now(), &w->issuer, &w->ikey);
	if (r == 0 && w->issuer != NULL && hk_online_issuing_stopped(&l,
	    X509_get0_pubkey(w->issuer), hk_clock_now(), stopped,
	    sizeof(stopped))) {
		hk_online_issuing_free(&l);
		w->igen = (int)o->gen;
		return hk_online_issuing_refuse(stopped);
	}
	hk_online_issuing_free(&l);
	if (r == 0 && w->issuer == NULL) {
		hk_err_set("--generation %d: no imported issuing CA "
		    "certificate of this generation is valid now", o->gen);
		r = HK_ERR_STATE;
	} else if (r != 0) {
		hk_err_set("--generation %d: %s", o->gen, hk_err_msg());
	}
	w->igen = (int)o->gen;
	return r;
}

/*
 * CPS 4-14-2: no certificate is issued under a compromised issuing key,
 * the responder's no more than a resident's: refused when state.conf
 * marks the generation compromised (issuing.N.compromised), or when the
 * token holds a compromise mark state.conf lacks (a state.conf restored
 * from a backup taken before the compromise: hk_online_mark_lost, as
 * issue refuses). Under state.lock, which revoke --issuing-key-compromise
 * holds while it marks, from a state.conf read under it.
 */
static int
compromise_check(struct responder_work *w)
{
	char key[64], val[HK_P11_DATA_MAX];
	int gen, r;

	snprintf(key, sizeof(key), "issuing.%d.compromised", w->igen);
	if (hk_state_get(w->on->st, key) != NULL) {
		hk_err_set("%s/state.conf: %s: CPS 4-14-2: no OCSP responder "
		    "certificate under a compromised issuing key; nothing "
		    "made", w->on->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_mark_lost(w->on, 1, &gen, val, sizeof(val))) < 0)
		return r;
	return r == 0 ? 0 : hk_online_mark_refuse(w->on, gen, val);
}

/*
 * A key ocsp-<n> the token holds where state.conf names no responder n: a
 * state.conf restored from a backup taken before that responder was made
 * (docs/backup.md "Restore" step 7, when the folder was lost), or a run
 * killed between the key and state.conf. Its certificate, if it ever had
 * one, is not this state's: the key is left in the token, never used, and
 * the new responder takes the next number free in both (said and audited).
 * Without this, responder refused for ever (the token's key exists).
 */
static int
skip_orphans(struct responder_work *w)
{
	const char *label = hk_state_get(w->on->st, "token.label");
	struct hk_p11_key_attrs a;
	unsigned char id[16];
	char uri[256];
	int r, len;

	if (label == NULL) {
		hk_err_set("%s/state.conf: token.label: missing",
		    w->on->st->dir);
		return HK_ERR_STATE;
	}
	for (;;) {
		len = snprintf((char *)id, sizeof(id), "ocsp-%d", w->n);
		if ((r = hk_p11_uri(label, id, (size_t)len, uri,
		    sizeof(uri))) != 0)
			return r;
		r = hk_token_key_attrs(w->on->tok, uri, &a);
		if (r == HK_ERR_NOT_FOUND) {
			hk_err_clear();
			break;
		}
		if (r != 0)
			return r;
		if (w->orphan_lo == 0)
			w->orphan_lo = w->n;
		w->orphan_hi = w->n;
		if (++w->n >= MAX_NUMBER) {
			hk_err_set("token '%s': keys ocsp-%d to ocsp-%d exist "
			    "and state.conf names none of them: no responder "
			    "number is left (1..%d)", label, w->orphan_lo,
			    w->orphan_hi, MAX_NUMBER - 1);
			return HK_ERR_EXISTS;
		}
	}
	if (w->orphan_lo == 0)
		return 0;
	if (w->orphan_lo == w->orphan_hi)
		snprintf(w->orphans, sizeof(w->orphans), "; key ocsp-%d is in "
		    "the token and state.conf names no responder %d (made "
		    "after the backup state.conf came from, or a run cut "
		    "short): left unused, this responder is %d", w->orphan_lo,
		    w->orphan_lo, w->n);
	else
		snprintf(w->orphans, sizeof(w->orphans), "; keys ocsp-%d to "
		    "ocsp-%d are in the token and state.conf names no "
		    "responder %d to %d (made after the backup state.conf came "
		    "from, or runs cut short): left unused, this responder is "
		    "%d", w->orphan_lo, w->orphan_hi, w->orphan_lo,
		    w->orphan_hi, w->n);
	return 0;
}

/* CPS 4-14-2: no responder certificate under an issuing CA certificate
 * that a root generation declared compromised (trust --compromised)
 * certified. */
static int
root_distrust(struct responder_work *w)
{
	return hk_online_distrust_ca(w->on, w->store, w->issuer, w->igen,
	    "no OCSP responder certificate made");
}

static int
work_open(struct responder_work *w, const struct responder_opts *o)
{
	const char *reh, *cur;
	char path[4096], *end;
	long n = 0;
	int r;

	if ((r = hk_online_open(&o->c, &w->on)) != 0 ||
	    (r = hk_online_state_lock(w->on)) != 0)
		return r;
	reh = hk_state_get(w->on->st, "rehearsal");
	w->rehearsal = reh != NULL && strcmp(reh, "yes") == 0;
	if ((cur = hk_state_get(w->on->st, "responder.current")) != NULL) {
		n = strtol(cur, &end, 10);
		if (*end != '\0' || n < 1 || n >= MAX_NUMBER) {
			hk_err_set("%s/state.conf: responder.current: 1..%d",
			    w->on->st->dir, MAX_NUMBER - 1);
			return HK_ERR_STATE;
		}
	}
	w->n = (int)n + 1;
	if ((r = hk_online_profile(w->on, &w->p)) != 0 ||
	    (r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 || (r = hk_store_open(path, 0,
	    &w->store)) != 0 || (r = hk_online_login(w->on)) != 0 ||
	    (r = hk_online_distrust_newest(w->on, w->store,
	    "no OCSP responder certificate made")) != 0 ||
	    (r = find_issuer(w, o)) != 0 || (r = skip_orphans(w)) != 0)
		return r;
	if ((r = compromise_check(w)) != 0)
		return r;
	return root_distrust(w);
}

/* The new key in the token and a PKCS#10 request signed by it. */
static int
make_key(struct responder_work *w, EVP_PKEY **priv, X509_REQ **csr)
{
	const char *label = hk_state_get(w->on->st, "token.label");
	enum hk_key_alg alg = w->p->issuing_key;
	X509_NAME *dn = NULL;
	EVP_PKEY *pub = NULL;
	char text[HK_PROFILE_DN_MAX + 64];
	int r;

	*priv = NULL;
	*csr = NULL;
	if (label == NULL) {
		hk_err_set("%s/state.conf: token.label: missing",
		    w->on->st->dir);
		return HK_ERR_STATE;
	}
	w->id_len = (size_t)snprintf((char *)w->id, sizeof(w->id), "ocsp-%d",
	    w->n);
	/* PROFILE.md: the responder's key is like the issuing CA's */
	if ((r = hk_token_keygen(w->on->tok, alg == HK_KEY_EC_P384 ?
	    HK_P11_EC : HK_P11_RSA, hk_key_alg_bits(alg), (char *)w->id,
	    w->id, w->id_len)) != 0)
		return r;
	w->key_made = 1;
	if ((r = hk_p11_uri(label, w->id, w->id_len, w->uri,
	    sizeof(w->uri))) != 0 ||
	    (r = hk_token_key(w->on->tok, w->uri, priv, &pub)) != 0)
		goto out;
	if (!hk_key_alg_matches(pub, alg)) {
		hk_err_set("%s: the token made a key that is not %s", w->uri,
		    hk_key_alg_name(alg));
		r = HK_ERR_P11;
		goto out;
	}
	/* a key made whose record is lost is destroyed again (key_made:
	 * work_close), nothing named: exit 6 (docs/audit-log.md) */
	if (hk_online_audit(w->on, "key.generate", "ok", "%s: %s key %s in "
	    "the token (OCSP responder %d)%s", (char *)w->id,
	    hk_key_alg_name(alg), w->uri, w->n, w->orphans) != 0) {
		r = HK_ERR_AUDIT;
		goto out;
	}
	snprintf(text, sizeof(text), "%s, CN=OCSP Responder %d",
	    w->p->issuing_subject_prefix, w->n);
	if ((r = hk_name_build(text, w->rehearsal ? w->p->rehearsal_marker :
	    NULL, &dn)) != 0)
		goto out;
	r = HK_ERR_CRYPTO;
	if ((*csr = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(*csr, 0) != 1 ||
	    X509_REQ_set_subject_name(*csr, dn) != 1 ||
	    X509_REQ_set_pubkey(*csr, pub) != 1 ||
	    X509_REQ_sign(*csr, *priv, hk_cert_md(w->p, pub)) <= 0) {
		hk_err_set("ocsp-%d: cannot make the key's request", w->n);
		hk_err_add_openssl();
		goto out;
	}
	/* X509_REQ_verify: 1 good */
	if (X509_REQ_verify(*csr, pub) != 1) {
		hk_err_set("ocsp-%d: the token's signature does not verify",
		    w->n);
		r = HK_ERR_VERIFY;
		goto out;
	}
	r = 0;
 out:
	ERR_clear_error();
	X509_NAME_free(dn);
	EVP_PKEY_free(pub);
	return r;
}

/*
 * The OCSP column of the lint (shared/lint.c) names the root as the
 * issuer, for the root's own responders (responder-certs.yaml). A
 * delegated responder is issued by the issuing CA: hk_lint_issued checks
 * its issuer DN, AKI and notAfter against that CA, and every other rule
 * of the column runs on a copy whose issuer field is the root DN, the one
 * field that differs.
 */
static int
lint_delegated(struct responder_work *w, X509 *x)
{
	X509_NAME *root = NULL;
	X509 *copy = NULL;
	int r;

	if ((r = hk_lint_issued(x, w->issuer, w->p, HK_CERT_OCSP)) != 0)
		goto out;
	if ((r = hk_name_build(w->p->root_subject, w->rehearsal ?
	    w->p->rehearsal_marker : NULL, &root)) != 0)
		goto out;
	r = HK_ERR_CRYPTO;
	if ((copy = X509_dup(x)) == NULL ||
	    X509_set_issuer_name(copy, root) != 1)
		goto out;
	r = hk_lint_cert(copy, w->p, HK_CERT_OCSP, w->rehearsal);
 out:
	if (r == HK_ERR_LINT) {
		hk_err_set("lint: %s", hk_err_msg());
	}
	ERR_clear_error();
	X509_free(copy);
	X509_NAME_free(root);
	return r;
}

/* hk_cert_sign_checked's steps with lint_delegated: lint, sign the same
 * TBS with the issuing key, verify, lint what a relying party reads. */
static int
sign_delegated(struct responder_work *w, X509 *x)
{
	EVP_PKEY *ipub = X509_get0_pubkey(w->issuer);
	const EVP_MD *md = hk_cert_md(w->p, ipub);
	unsigned char *tbs1 = NULL, *tbs2 = NULL, *der = NULL;
	const unsigned char *p;
	X509 *final = NULL;
	int n1, n2, nd, r = HK_ERR_CRYPTO;

	if (ipub == NULL || hk_cert_set_sigalg(x, ipub, md) != 0 ||
	    (n1 = i2d_re_X509_tbs(x, &tbs1)) <= 0) {
		hk_err_set("responder: cannot fix the TBSCertificate");
		goto out;
	}
	if ((r = lint_delegated(w, x)) != 0)
		goto out;
	r = HK_ERR_CRYPTO;
	if (X509_sign(x, w->ikey, md) <= 0 ||
	    (n2 = i2d_re_X509_tbs(x, &tbs2)) <= 0) {
		hk_err_set("responder: the issuing key's signature failed");
		goto out;
	}
	if (n1 != n2 || memcmp(tbs1, tbs2, (size_t)n1) != 0) {
		hk_err_set("responder: the signed TBSCertificate differs from "
		    "the linted one");
		r = HK_ERR_LINT;
		goto out;
	}
	/* X509_verify: 1 good, 0 bad, -1 error */
	if (X509_verify(x, ipub) != 1) {
		hk_err_set("responder: signature does not verify with the "
		    "issuing CA's key");
		r = HK_ERR_VERIFY;
		goto out;
	}
	if ((nd = i2d_X509(x, &der)) <= 0)
		goto out;
	p = der;
	if ((final = d2i_X509(NULL, &p, nd)) == NULL || p != der + nd) {
		hk_err_set("responder: the signed certificate does not parse "
		    "back");
		goto out;
	}
	r = lint_delegated(w, final);
 out:
	if (r == HK_ERR_CRYPTO)
		hk_err_add_openssl();
	ERR_clear_error();
	X509_free(final);
	OPENSSL_free(tbs1);
	OPENSSL_free(tbs2);
	OPENSSL_free(der);
	return r;
}

/* Files, state.conf, then the store (publish puts it in responder/). */
static int
record(struct responder_work *w, X509 *x)
{
	unsigned char *der = NULL;
	char rel[64], key[64], num[16], *subject = NULL;
	char saved[HK_ERR_DETAIL_MAX];
	int len, r, saved_r = 0, placed = 0;

	snprintf(rel, sizeof(rel), "certs/ocsp-responder-%d.der", w->n);
	if ((r = hk_online_path(w->on, rel, w->der, sizeof(w->der))) != 0)
		return r;
	snprintf(rel, sizeof(rel), "certs/ocsp-responder-%d.pem", w->n);
	if ((r = hk_online_path(w->on, rel, w->pem, sizeof(w->pem))) != 0 ||
	    (r = hk_cert_write(x, w->der, w->pem)) != 0)
		return r;
	w->files_made = 1;
	snprintf(rel, sizeof(rel), "certs/ocsp-responder-%d.der", w->n);
	snprintf(num, sizeof(num), "%d", w->n);
	if ((r = hk_state_set(w->on->st, "responder.current", num)) != 0)
		return r;
	snprintf(key, sizeof(key), "responder.%d.key-uri", w->n);
	if ((r = hk_state_set(w->on->st, key, w->uri)) != 0)
		return r;
	snprintf(key, sizeof(key), "responder.%d.cert", w->n);
	if ((r = hk_state_set(w->on->st, key, rel)) != 0)
		return r;
	snprintf(key, sizeof(key), "responder.%d.issuing-generation", w->n);
	snprintf(num, sizeof(num), "%d", w->igen);
	if ((r = hk_state_set(w->on->st, key, num)) != 0)
		return r;
	if ((r = hk_state_save_placed(w->on->st, &placed)) != 0) {
		/* a state.conf renamed into place whose folder's fsync then
		 * failed names the responder all the same: kept, not undone
		 * (state.conf naming a key destroyed and files removed) */
		if (!placed)
			return r;
		snprintf(saved, sizeof(saved), "OCSP responder %d is made and "
		    "named by state.conf (%s, its key on the token): kept; but "
		    "%s", w->n, rel, hk_err_msg());
		saved_r = r;
	}
	/* named by state.conf from here on: kept whatever follows */
	w->key_made = 0;
	w->files_made = 0;
	if ((len = i2d_X509(x, &der)) <= 0)
		return HK_ERR_CRYPTO;
	subject = hk_name_print(X509_get_subject_name(x));
	r = hk_store_ca_add(w->store, HK_CA_RESPONDER, w->n,
	    subject ? subject : "?", der, (size_t)len, 0);
	free(subject);
	OPENSSL_free(der);
	if (r == 0 && saved_r != 0) {
		hk_err_set("%s", saved);
		return saved_r;
	}
	if (r != 0) {
		/* the responder is made and in use (ocsp-refresh and serve
		 * sign with what state.conf names): said, so that it is put
		 * back, not made again */
		char why[HK_ERR_DETAIL_MAX];

		snprintf(why, sizeof(why), "%s", hk_err_msg());
		hk_err_set("OCSP responder %d is made and named by state.conf "
		    "(%s, its key on the token), but the store did not take "
		    "its certificate (%s): run hanko-online check --state %s, "
		    "which puts it back (publish leaves it out of responder/ "
		    "until then), not responder again", w->n, rel, why,
		    w->on->st->dir);
	}
	return r;
}

/*
 * After the new responder is recorded: what OCSP will answer for now, as
 * serve and ocsp-refresh will load it. A responder left out (in
 * particular an issuing generation beyond the 8 newest valid now, the most
 * answered at once) is a warning on stdout and in the audit log; the
 * responder itself is made either way.
 */
static void
warn_left_out(struct responder_work *w, char *out, size_t cap)
{
	struct hk_ocsp_ctx *c = NULL;
	const char *warn;

	out[0] = '\0';
	if (hk_ocsp_ctx_open(w->on->st->dir, &c) != 0) {
		hk_err_clear();		/* ocsp-refresh will name it */
		return;
	}
	if ((warn = hk_ocsp_ctx_warning(c)) != NULL) {
		hk_online_audit(w->on, "ocsp.responders", "fail", "%s", warn);
		snprintf(out, cap, "%s", warn);
	}
	hk_ocsp_ctx_free(c);
}

static void
work_close(struct responder_work *w, int failed)
{
	if (failed && w->files_made) {
		(void)unlink(w->der);
		(void)unlink(w->pem);
	}
	if (failed && w->key_made && w->on != NULL && w->on->tok != NULL &&
	    hk_token_key_destroy(w->on->tok, w->id, w->id_len) != 0)
		fprintf(stderr, "hanko-online responder: ocsp-%d: the new key "
		    "could not be destroyed: %s\n", w->n, hk_err_msg());
	EVP_PKEY_free(w->ikey);
	X509_free(w->issuer);
	hk_profile_free(w->p);
	hk_store_close(w->store);
	hk_online_close(w->on);
}

int
cmd_responder(int argc, char **argv)
{
	struct responder_opts o;
	struct responder_work w;
	EVP_PKEY *priv = NULL;
	X509_REQ *csr = NULL;
	X509 *x = NULL;
	unsigned char fp[32];
	char hex[96], until[32], serial[2 * 20 + 8], warn[1024], cut[160];
	char *dn = NULL;
	ASN1_INTEGER *ai;
	BIGNUM *bn = NULL;
	struct hk_err_kept lost;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	o.c.clock_guard = HK_ONLINE_GUARD_REFUSE;	/* docs/clock.md */
	if ((r = work_open(&w, &o)) != 0)
		goto fail;
	if (w.orphans[0] != '\0')
		fprintf(stderr, "hanko-online responder: warning: %s "
		    "(docs/ocsp.md)\n", w.orphans + 2);
	if ((r = make_key(&w, &priv, &csr)) != 0 ||
	    (r = hk_cert_build_ocsp(w.p, w.issuer, csr, w.n, hk_clock_now(),
	    w.rehearsal, &x)) != 0 || (r = sign_delegated(&w, x)) != 0 ||
	    (r = record(&w, x)) != 0)
		goto fail;
	ai = (ASN1_INTEGER *)X509_get0_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    (dn = BN_bn2hex(bn)) == NULL) {
		r = HK_ERR_ALLOC;
		goto fail;
	}
	snprintf(serial, sizeof(serial), "%s", dn);
	OPENSSL_free(dn);
	dn = NULL;
	(void)hk_cert_fingerprint(x, fp);
	hk_fingerprint_colons(fp, hex);
	{
		time_t nb = 0, na = 0;

		/* x was just built and linted: its times decode */
		(void)hk_cert_time(X509_get0_notBefore(x), &nb);
		(void)hk_cert_time(X509_get0_notAfter(x), &na);
		hk_time_format(na, until, sizeof(until));
		/* PROFILE.md's 1 y, or cut back to the issuer's end (lint
		 * allows nothing else): said, not silent */
		cut[0] = '\0';
		if (na != hk_time_add_years(nb, w.p->ocsp_validity_years) - 1)
			snprintf(cut, sizeof(cut), " (cut back to issuing CA "
			    "%d's notAfter, short of %d year%s: it answers "
			    "only for certificates that end by then)", w.igen,
			    w.p->ocsp_validity_years,
			    w.p->ocsp_validity_years == 1 ? "" : "s");
	}
	/* named by state.conf (record): a responder whose record is lost
	 * stays, and the run ends with exit 6 naming it (below;
	 * docs/audit-log.md "When an append fails") */
	lost.msg[0] = '\0';
	if (hk_online_audit(w.on, "cert.issue", "ok", "OCSP responder %d: "
	    "serial %s, issued by issuing CA %d, valid until %s%s, SHA-256 "
	    "%s, certs/ocsp-responder-%d.der", w.n, serial, w.igen, until,
	    cut, hex, w.n) != 0)
		hk_err_keep(&lost);
	warn_left_out(&w, warn, sizeof(warn));
	if (lost.msg[0] != '\0')
		hk_online_checkpoint_keep_err(w.on);
	else if ((r = hk_online_checkpoint(w.on)) != 0)
		goto out;
	printf("OCSP responder %d%s: %s/certs/ocsp-responder-%d.pem, issued by "
	    "issuing CA %d, valid until %s%s\nSHA-256 %s\nRun hanko-online "
	    "ocsp-refresh to sign the responses with it, and restart a "
	    "running hanko-online serve: it signs with the responders it "
	    "loaded at start.\n", w.n, w.rehearsal ? " (REHEARSAL)" : "",
	    o.c.state, w.n, w.igen, until, cut, hex);
	if (warn[0] != '\0')
		printf("warning: %s: the certificates of its issuing "
		    "generation are answered unauthorized (docs/ocsp.md "
		    "\"Issuing generations\")\n", warn);
	if (lost.msg[0] != '\0') {
		char done[256], rec[1024];

		snprintf(done, sizeof(done), "responder: OCSP responder %d is "
		    "made and named by state.conf (certs/ocsp-responder-%d.der, "
		    "its key ocsp-%d on the token; kept)", w.n, w.n, w.n);
		snprintf(rec, sizeof(rec), "its issue (OCSP responder %d: "
		    "serial %s, issued by issuing CA %d, valid until %s, "
		    "SHA-256 %s)", w.n, serial, w.igen, until, hex);
		r = hk_online_unrecorded(done, "its cert.issue record is",
		    lost.msg, rec);
	}
	goto out;
 fail:
	if (w.on != NULL) {
		hk_online_audit(w.on, "cert.issue", "fail", "OCSP responder "
		    "%d: %s", w.n, hk_err_msg());
		if (w.on->tok != NULL)
			hk_online_checkpoint_keep_err(w.on);
	}
 out:
	/* the token outlives every key taken from it (p11.h) */
	EVP_PKEY_free(priv);
	work_close(&w, r != 0);
	BN_free(bn);
	X509_free(x);
	X509_REQ_free(csr);
	return r;
}
