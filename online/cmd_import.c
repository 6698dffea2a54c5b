/*
 * cmd_import.c - "hanko-online import": a signed bundle from the offline
 * root (DESIGN.md 6, media-format/SPEC.md), verified with the bundle reader
 * against the pinned root and the link certificates already stored, and
 * stored by type in one store transaction: all or nothing. Its signer must
 * be a root generation (SPEC 6.2 (a), 13.1, root_signer): a certificate the
 * root issued, such as the online issuing CA whose key is in this host's
 * token, signs nothing that is imported here; nor does a root generation
 * declared compromised (trust --compromised: the token's mark or
 * state.conf's, load_distrust, distrusted_signer), refused before the
 * contents are read.
 *
 * Order (docs/store.md, "Import"): the store is the authority on what was
 * imported; bundles.seen is rewritten from it before each import, so a
 * crash between the reader's sequence record and the store's commit is
 * undone on the next run. hk_bundle_import copies, verifies the copy,
 * checks the sequence and records it; then every payload is checked and
 * stored together with the bundle's row (whose trigger refuses any
 * sequence not above the signer's last); any failure rolls the store back,
 * removes the copy and rewrites bundles.seen from the store.
 *
 * The whole run holds state.lock (hk_online_state_lock), as the other
 * commands that change the state's files do: a backup copies bundles/ and
 * bundles.seen under it, so it never copies a bundle folder whose row an
 * import has yet to commit (or never will). Held by another: refused at
 * once (exit 3), nothing done.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "crl.h"
#include "crosspair.h"
#include "csr.h"
#include "err.h"
#include "hex.h"
#include "issued.h"
#include "name.h"
#include "online.h"
#include "store.h"

#define MAX_KEYS	64	/* trusted root keys held at once */

struct import_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *type;		/* --type: the one type accepted; NULL any */
	const char *bundle;		/* BUNDLE folder */
};

/* What an import works with, freed in one place. */
struct import_work {
	struct hk_online *on;		/* the state */
	struct hk_store *store;		/* open store */
	struct hk_bundle_trust t;	/* anchor + stored links */
	STACK_OF(X509) *roots;		/* root certificates: anchor, stored,
					 * accepted from this bundle */
	EVP_PKEY *keys[MAX_KEYS];	/* trusted root keys (referenced) */
	int nkeys;
	STACK_OF(X509) *lost;		/* stored links whose subject key the
					 * newest ARL revokes keyCompromise:
					 * that root key signs nothing here */
	uint64_t lost_arl;		/* that ARL's number */
	struct hk_online_distrust distrust;	/* root generations declared
					 * compromised (trust --compromised):
					 * their keys sign nothing here */
	struct hk_bundle_manifest *m;	/* the imported manifest */
	char dest[4096];		/* <state>/bundles/<seq>-<type>-<signer
					 * key id> */
	char seen[4096];		/* <state>/bundles.seen */
	int dest_made;			/* 1 once hk_bundle_import made dest */
	int64_t bundle_id;		/* the bundle's store row */
	int added;			/* rows stored from payloads */
	char mhex[65];			/* the manifest's SHA-256, printed for
					 * the operator to compare with the
					 * ceremony record (docs/air-gap.md) */
};

/*
 * After an issuing CA certificate: what the operators do next when its
 * generation has no OCSP responder yet (docs/air-gap.md, "Online, once
 * the new issuing CA certificate is imported").
 */
static void
next_steps(struct hk_online *on, const char *state)
{
	const char *g = hk_state_get(on->st, "issuing.generation");
	const char *cur = hk_state_get(on->st, "responder.current");
	const char *rg;
	char k[64];
	long n, top = cur != NULL ? strtol(cur, NULL, 10) : 0;

	if (g == NULL)
		return;
	for (n = 1; n <= top && n <= 999; n++) {
		snprintf(k, sizeof(k), "responder.%ld.issuing-generation", n);
		if ((rg = hk_state_get(on->st, k)) != NULL &&
		    strcmp(rg, g) == 0)
			return;		/* it has one */
	}
	printf("Next for issuing CA %s: its OCSP responder (hanko-online "
	    "responder --state %s) and its CRLs (hanko-online publish "
	    "--state %s --repo DIR --now)%s.\n", g, state, state,
	    strcmp(g, "1") != 0 ? "; keep the older issuing keys in the "
	    "token until their certificates end" : "");
}

static const char import_usage[] =
"usage: hanko-online import --state DIR [--type TYPE] BUNDLE\n";

static int
parse(struct import_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--type", .value = &o->type },
		{ .name = NULL },
	};
	const struct hk_online_operand bundle = { "BUNDLE", "BUNDLE",
	    &o->bundle };
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, import_usage, args,
	    &bundle)) != 0)
		return r;
	if (o->type != NULL && !hk_bundle_type_ok(o->type)) {
		hk_err_set("--type %s: SPEC 4.2: unknown bundle type", o->type);
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
add_key(struct import_work *w, EVP_PKEY *k)
{
	int i;

	for (i = 0; i < w->nkeys; i++)
		if (EVP_PKEY_eq(w->keys[i], k) == 1)
			return 0;
	if (w->nkeys == MAX_KEYS) {
		hk_err_set("more than %d root keys", MAX_KEYS);
		return HK_ERR_INVALID;
	}
	w->keys[w->nkeys++] = k;
	return 0;
}

static int
key_trusted(const struct import_work *w, EVP_PKEY *k)
{
	int i;

	for (i = 0; i < w->nkeys; i++)
		if (EVP_PKEY_eq(w->keys[i], k) == 1)
			return 1;
	return 0;
}

/* 1 if x's signature verifies under a trusted root key. */
static int
signed_by_root(const struct import_work *w, X509 *x)
{
	int i;

	for (i = 0; i < w->nkeys; i++)
		if (X509_verify(x, w->keys[i]) == 1)	/* 1 only */
			return 1;
	return 0;
}

static int
push_cert(STACK_OF(X509) *sk, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x == NULL || p != der + len || !sk_X509_push(sk, x)) {
		X509_free(x);
		hk_err_set("store: ca_certs: a stored certificate does not "
		    "parse");
		return HK_ERR_STATE;
	}
	return 0;
}

static int
each_root(const unsigned char *der, size_t len, int gen, void *arg)
{
	(void)gen;
	return push_cert(((struct import_work *)arg)->roots, der, len);
}

/*
 * A root key the root declared compromised (CPS 4-14-2, the compromise
 * ceremony): the newest stored ARL (each lists every revocation not yet
 * expired), verified with a root key other than the one in question,
 * revokes keyCompromise a link certificate (OldWithNew) whose subject key
 * it is. Bundles that key signs are refused from then on, as the offline
 * reader refuses them (root.<g>.compromised). The links are the trust's
 * (w->t.links, every stored one).
 */
static int
load_lost(struct import_work *w)
{
	struct hk_store_arl a = { 0 };
	STACK_OF(X509) *links = w->t.links;
	STACK_OF(X509_REVOKED) *revs;
	const unsigned char *p;
	X509_CRL *c = NULL;
	X509 *signer = NULL;
	int i, j, r;

	if ((w->lost = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_store_arl_last(w->store, &w->lost_arl)) != 0 ||
	    w->lost_arl == 0)
		return r;
	if ((r = hk_store_arl_get(w->store, w->lost_arl, &a)) != 0)
		return r;
	p = a.der;
	if ((c = d2i_X509_CRL(NULL, &p, (long)a.len)) == NULL) {
		hk_err_set("store: ARL %" PRIu64 ": does not parse",
		    w->lost_arl);
		r = HK_ERR_STATE;
		goto out;
	}
	for (i = -1; i < sk_X509_num(w->roots) && signer == NULL; i++) {
		X509 *x = i < 0 ? w->t.anchor : sk_X509_value(w->roots, i);
		if (hk_crl_verify(c, x) == 0)
			signer = x;
	}
	ERR_clear_error();
	hk_err_clear();
	if (signer == NULL)
		goto out;	/* publish says so; nothing learnt from it */
	revs = X509_CRL_get_REVOKED(c);
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, i);
		ASN1_ENUMERATED *why = X509_REVOKED_get_ext_d2i(rv,
		    NID_crl_reason, NULL, NULL);
		long reason = why != NULL ? ASN1_ENUMERATED_get(why) : -1;

		ASN1_ENUMERATED_free(why);
		if (reason != 1)	/* keyCompromise */
			continue;
		for (j = 0; j < sk_X509_num(links); j++) {
			X509 *l = sk_X509_value(links, j);
			if (ASN1_INTEGER_cmp(X509_get0_serialNumber(l),
			    X509_REVOKED_get0_serialNumber(rv)) != 0 ||
			    EVP_PKEY_eq(X509_get0_pubkey(l),
			    X509_get0_pubkey(signer)) == 1)
				continue;
			if (!X509_up_ref(l) || !sk_X509_push(w->lost, l)) {
				r = HK_ERR_ALLOC;
				goto out;
			}
		}
	}
 out:
	X509_CRL_free(c);
	free(a.der);
	return r;
}

/* The trust: the pinned anchor, every stored link; the trusted root keys:
 * the anchor's, stored roots', and the keys the stored links certify. */
static int
load_trust(struct import_work *w)
{
	int i, r;

	if ((r = hk_online_trust_load(w->on, w->store, &w->t)) != 0)
		return r;
	if ((w->roots = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_store_ca_each(w->store, HK_CA_ROOT, each_root, w)) != 0)
		return r;
	if ((r = add_key(w, X509_get0_pubkey(w->t.anchor))) != 0)
		return r;
	for (i = 0; i < sk_X509_num(w->roots); i++)
		if ((r = add_key(w, X509_get0_pubkey(sk_X509_value(w->roots,
		    i)))) != 0)
			return r;
	for (i = 0; i < sk_X509_num(w->t.links); i++)
		if ((r = add_key(w, X509_get0_pubkey(sk_X509_value(w->t.links,
		    i)))) != 0)
			return r;
	return load_lost(w);
}

/*
 * The root generations declared compromised out of band (hanko-online
 * trust --compromised, CPS 4-14-2): state.conf's marks and the token's,
 * which a state.conf restored from an older backup lacks. The token needs
 * the login: an import that cannot read its marks imports nothing.
 */
static int
load_distrust(struct import_work *w)
{
	int r;

	if ((r = hk_online_login(w->on)) != 0)
		return r;
	return hk_online_distrust_load(w->on, w->store, 1, &w->distrust);
}

static int
seen_line(const char *signer, uint64_t seq, void *arg)
{
	char **buf = arg, *nb;
	size_t len = strlen(*buf);

	if ((nb = realloc(*buf, len + 64)) == NULL)
		return HK_ERR_ALLOC;
	snprintf(nb + len, 64, "%s %" PRIu64 "\n", signer, seq);
	*buf = nb;
	return 0;
}

/* bundles.seen := what the store says was imported (SPEC 8 format). */
static int
seen_rebuild(struct import_work *w)
{
	char *buf = strdup("hanko-bundle-seen 1\n");
	int r;

	if (buf == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_store_bundle_each(w->store, seen_line, &buf)) == 0)
		r = hk_file_write(w->seen, buf, strlen(buf), 0644, 0);
	free(buf);
	return r;
}

/* Read one payload file of the imported copy. */
static int
payload(struct import_work *w, size_t i, char *path, size_t plen,
    unsigned char **buf, size_t *len)
{
	int n = snprintf(path, plen, "%s/%s", w->dest, w->m->files[i].name);

	if (n < 0 || (size_t)n >= plen)
		return HK_ERR_INVALID;
	return hk_file_read(path, HK_BUNDLE_MAX_FILE, buf, len);
}

static int
store_cert(struct import_work *w, enum hk_ca_kind kind, int gen, X509 *x,
    const char *path)
{
	unsigned char *der = NULL;
	char *dn = hk_name_print(X509_get_subject_name(x));
	int len, r;

	if ((len = i2d_X509(x, &der)) <= 0) {
		free(dn);
		return HK_ERR_CRYPTO;
	}
	r = hk_store_ca_add(w->store, kind, gen, dn ? dn : "?", der,
	    (size_t)len, w->bundle_id);
	if (r != 0) {
		char msg[4400];
		snprintf(msg, sizeof(msg), "%s: %s", path, hk_err_msg());
		hk_err_set("%s", msg);
	} else
		w->added++;
	OPENSSL_free(der);
	free(dn);
	return r;
}

static int
root_dn(const struct import_work *w, const X509_NAME *n)
{
	return X509_NAME_cmp(n, X509_get_subject_name(w->t.anchor)) == 0;
}

/*
 * root-generation and link-certs: self-issued CA certificates under the
 * root DN, each valid now. A link is accepted when it verifies under a
 * trusted key (its subject key becomes trusted); a new root generation
 * when it is self-signed and its key is trusted (certified by an accepted
 * link).
 */
static int
import_roots(struct import_work *w, int allow_roots)
{
	X509 *x[HK_BUNDLE_MAX_FILES] = { 0 };
	char path[HK_BUNDLE_MAX_FILES][4200];
	int done[HK_BUNDLE_MAX_FILES] = { 0 }, progress, nroots = 0, gen;
	size_t i, n = w->m->nfiles, left;
	int r = 0;

	for (i = 0; i < n; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", w->dest,
		    w->m->files[i].name);
		if ((r = hk_cert_read(path[i], &x[i])) != 0)
			goto out;
		if (!root_dn(w, X509_get_subject_name(x[i])) ||
		    !root_dn(w, X509_get_issuer_name(x[i])) ||
		    X509_check_ca(x[i]) != 1) {
			hk_err_set("%s: SPEC 4.2: a %s bundle carries only "
			    "self-issued CA certificates under the root DN",
			    path[i], w->m->type);
			r = HK_ERR_INVALID;
			goto out;
		}
		/* accepted only while valid: once stored, a link is the
		 * path by which a later generation's key is trusted, and
		 * the reader no longer asks for its validity (SPEC 6.2) */
		if (!hk_cert_valid_at(x[i], hk_clock_now())) {
			hk_err_set("%s: validity: SPEC 6.2: a root generation "
			    "or link certificate is accepted only while "
			    "valid", path[i]);
			r = HK_ERR_INVALID;
			goto out;
		}
	}
	if ((r = hk_store_ca_count(w->store, HK_CA_ROOT, &gen)) != 0)
		goto out;
	do {
		progress = 0;
		for (i = 0; i < n; i++) {
			EVP_PKEY *k = X509_get0_pubkey(x[i]);
			int self = X509_verify(x[i], k) == 1;
			if (done[i])
				continue;
			if (self && key_trusted(w, k) && allow_roots &&
			    X509_cmp(x[i], w->t.anchor) != 0) {
				if ((r = store_cert(w, HK_CA_ROOT, ++gen, x[i],
				    path[i])) != 0)
					goto out;
				X509_up_ref(x[i]);
				if (!sk_X509_push(w->roots, x[i])) {
					X509_free(x[i]);
					r = HK_ERR_ALLOC;
					goto out;
				}
				nroots++;
				done[i] = progress = 1;
			} else if (!self && signed_by_root(w, x[i])) {
				if ((r = store_cert(w, HK_CA_LINK, 0, x[i],
				    path[i])) != 0 || (r = add_key(w, k)) != 0)
					goto out;
				done[i] = progress = 1;
			}
		}
	} while (progress);
	for (i = 0, left = 0; i < n; i++)
		if (!done[i]) {
			hk_err_set("%s: SPEC 6.2: %s", path[i],
			    X509_verify(x[i], X509_get0_pubkey(x[i])) == 1 ?
			    (allow_roots ? "a root generation whose key no "
			    "trusted link certifies (NewWithOld missing)" :
			    "a self-signed root in a link-certs bundle") :
			    "a link certificate that no trusted root key "
			    "signed");
			r = HK_ERR_VERIFY;
			left++;
			goto out;
		}
	if (allow_roots && nroots == 0) {
		hk_err_set("%s: SPEC 4.2: a root-generation bundle carries a "
		    "new root generation", w->dest);
		r = HK_ERR_INVALID;
	}
 out:
	for (i = 0; i < n; i++)
		X509_free(x[i]);
	return r;
}

/* issuing-ca-cert: exactly one certificate, issued by a root key, for the
 * online token's issuing key and the request's subject. */
static int
import_issuing(struct import_work *w)
{
	const char *g = hk_state_get(w->on->st, "issuing.generation");
	char key[64], path[4200], cpath[4096];
	const char *csr_rel, *uri;
	X509_REQ *req = NULL;
	EVP_PKEY *tokpub = NULL;
	X509 *x = NULL;
	time_t now = hk_clock_now();
	int gen = g ? atoi(g) : 0, r;

	if (w->m->nfiles != 1) {
		hk_err_set("%s: SPEC 4.2: an issuing-ca-cert bundle carries "
		    "exactly one certificate (%zu files)", w->dest,
		    w->m->nfiles);
		return HK_ERR_INVALID;
	}
	snprintf(key, sizeof(key), "issuing.%d.csr", gen);
	csr_rel = hk_state_get(w->on->st, key);
	snprintf(key, sizeof(key), "issuing.%d.key-uri", gen);
	uri = hk_state_get(w->on->st, key);
	if (gen < 1 || csr_rel == NULL || uri == NULL) {
		hk_err_set("%s/state.conf: issuing.generation: no issuing key "
		    "request on record", w->on->st->dir);
		return HK_ERR_STATE;
	}
	snprintf(path, sizeof(path), "%s/%s", w->dest, w->m->files[0].name);
	if ((r = hk_online_path(w->on, csr_rel, cpath, sizeof(cpath))) != 0 ||
	    (r = hk_csr_read(cpath, &req)) != 0 ||
	    (r = hk_cert_read(path, &x)) != 0)
		goto out;
	r = HK_ERR_INVALID;
	if (!root_dn(w, X509_get_issuer_name(x))) {
		hk_err_set("%s: issuer: not the root DN", path);
		goto out;
	}
	if (!signed_by_root(w, x)) {
		hk_err_set("%s: signature: no trusted root key signed it",
		    path);
		r = HK_ERR_VERIFY;
		goto out;
	}
	if (X509_check_ca(x) != 1) {
		hk_err_set("%s: basicConstraints: RFC 5280 4.2.1.9: the "
		    "issuing CA certificate must be a CA", path);
		goto out;
	}
	/* an expired one can never issue, sign a CRL or delegate OCSP: its
	 * import would only look like progress (a re-key that came late) */
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
		hk_err_set("%s: validity: the issuing CA certificate (generation "
		    "%d) has expired; nothing imported", path, gen);
		goto out;
	}
	if (X509_NAME_cmp(X509_get_subject_name(x),
	    X509_REQ_get_subject_name(req)) != 0) {
		hk_err_set("%s: subject: not the subject of %s (issuing "
		    "generation %d)", path, csr_rel, gen);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), X509_REQ_get0_pubkey(req)) != 1) {
		hk_err_set("%s: subjectPublicKeyInfo: not the key of %s", path,
		    csr_rel);
		goto out;
	}
	if ((r = hk_online_login(w->on)) != 0 ||
	    (r = hk_token_key(w->on->tok, uri, NULL, &tokpub)) != 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), tokpub) != 1) {
		hk_err_set("%s: subjectPublicKeyInfo: not the online token's "
		    "issuing key %s", path, uri);
		r = HK_ERR_INVALID;
		goto out;
	}
	r = store_cert(w, HK_CA_ISSUING, gen, x, path);
 out:
	EVP_PKEY_free(tokpub);
	X509_REQ_free(req);
	X509_free(x);
	return r;
}

/*
 * cross-pair (PROFILE.md, Repository; CPS 4-8): a reverse certificate is
 * one the root issued to the other CA (issuer the root DN, signed by a
 * trusted root key, its subject another CA); a forward certificate is one
 * the other CA issued to us (subject the root DN and a trusted root key),
 * and its signature must verify with the key the root certified for that
 * CA: the pair's own reverse member, else a reverse certificate of this
 * bundle or stored before (alone, or as the reverse member of a stored
 * CertificatePair) whose subject is the forward's issuer.
 */
static int
reverse_ok(const struct import_work *w, X509 *x)
{
	return root_dn(w, X509_get_issuer_name(x)) &&
	    !root_dn(w, X509_get_subject_name(x)) &&
	    X509_check_ca(x) == 1 && signed_by_root(w, x);
}

/* The reverse certificates known while a cross-pair bundle is checked. */
struct cross_work {
	const struct import_work *w;	/* the import */
	STACK_OF(X509) *rev;		/* reverse certificates: stored ones
					 * and this bundle's */
};

static int
each_reverse(const unsigned char *der, size_t len, int gen, void *arg)
{
	const unsigned char *p = der;
	struct cross_work *c = arg;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	(void)gen;
	if (x != NULL && p == der + len && reverse_ok(c->w, x)) {
		if (!sk_X509_push(c->rev, x)) {
			X509_free(x);
			return HK_ERR_ALLOC;
		}
		return 0;
	}
	X509_free(x);
	ERR_clear_error();
	return 0;	/* a forward certificate stored before: not a key */
}

/* The reverse member of a stored CertificatePair, checked as a stored
 * reverse certificate is (a pair's forward member is not a key). */
static int
each_pair_reverse(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct cross_work *c = arg;
	X509 *fwd = NULL, *rev = NULL;
	int r = 0;

	(void)gen;
	if (hk_crosspair_decode(der, len, &fwd, &rev) == 0 && rev != NULL &&
	    reverse_ok(c->w, rev)) {
		if (!sk_X509_push(c->rev, rev))
			r = HK_ERR_ALLOC;
		else
			rev = NULL;
	}
	X509_free(fwd);
	X509_free(rev);
	ERR_clear_error();
	hk_err_clear();
	return r;
}

/* 0 if x is a good reverse (want_forward 0) or forward (1) certificate;
 * else a one-line detail naming path and member. */
static int
cross_check(const struct import_work *w, X509 *x, int want_forward,
    X509 *pair_rev, STACK_OF(X509) *reverses, const char *path,
    const char *member)
{
	X509 *by;
	char *dn;
	int i, named = 0;

	if (!want_forward) {
		if (reverse_ok(w, x))
			return 0;
		hk_err_set("%s: %ssignature: CPS 4-8: not a cross certificate "
		    "the root issued (issuer the root DN, signed by a trusted "
		    "root key, to another CA)", path, member);
		return HK_ERR_VERIFY;
	}
	if (!root_dn(w, X509_get_subject_name(x)) ||
	    root_dn(w, X509_get_issuer_name(x)) ||
	    !key_trusted(w, X509_get0_pubkey(x))) {
		hk_err_set("%s: %ssubject: CPS 4-8: a cross certificate issued "
		    "to the root names the root DN and a trusted root key, "
		    "issued by another CA", path, member);
		return HK_ERR_VERIFY;
	}
	/* the pair's own reverse member, else every reverse certificate
	 * naming the issuer (a renewed bridge key keeps its name) */
	for (i = 0; i < (pair_rev != NULL ? 1 : sk_X509_num(reverses)); i++) {
		by = pair_rev != NULL ? pair_rev : sk_X509_value(reverses, i);
		if (X509_NAME_cmp(X509_get_subject_name(by),
		    X509_get_issuer_name(x)) != 0)
			continue;
		named = 1;
		/* X509_verify: 1 is good; 0 and -1 are failures */
		if (X509_verify(x, X509_get0_pubkey(by)) == 1)
			return 0;
	}
	ERR_clear_error();
	dn = hk_name_print(X509_get_issuer_name(x));
	hk_err_set("%s: %ssignature: RFC 5280 6.1.3: does not verify with "
	    "the key the root certified for its issuer \"%s\"%s", path, member,
	    dn ? dn : "?", !named ? " (no cross certificate the root issued "
	    "to it, in this bundle or stored)" : "");
	free(dn);
	return HK_ERR_VERIFY;
}

static int
import_cross(struct import_work *w)
{
	size_t n = w->m->nfiles, i;
	unsigned char *buf[HK_BUNDLE_MAX_FILES] = { 0 };
	size_t len[HK_BUNDLE_MAX_FILES] = { 0 };
	X509 *x[HK_BUNDLE_MAX_FILES] = { 0 }, *fwd[HK_BUNDLE_MAX_FILES] = { 0 },
	    *rev[HK_BUNDLE_MAX_FILES] = { 0 };
	struct cross_work c = { w, NULL };
	char path[4200];
	int r = 0;

	if ((c.rev = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_store_ca_each(w->store, HK_CA_CROSS, each_reverse,
	    &c)) != 0 || (r = hk_store_ca_each(w->store, HK_CA_PAIR,
	    each_pair_reverse, &c)) != 0)
		goto out;
	/* Every payload parsed first: a forward may come before its reverse. */
	for (i = 0; i < n; i++) {
		const unsigned char *p;
		X509 *cand;

		if ((r = payload(w, i, path, sizeof(path), &buf[i],
		    &len[i])) != 0)
			goto out;
		p = buf[i];
		if ((x[i] = d2i_X509(NULL, &p, (long)len[i])) != NULL &&
		    p != buf[i] + len[i]) {
			X509_free(x[i]);
			x[i] = NULL;
		}
		if (x[i] == NULL && hk_crosspair_decode(buf[i], len[i],
		    &fwd[i], &rev[i]) != 0) {
			hk_err_set("%s: SPEC 4.2: a cross-pair bundle carries "
			    "DER certificates and CertificatePairs only",
			    path);
			r = HK_ERR_PARSE;
			goto out;
		}
		ERR_clear_error();
		cand = x[i] != NULL ? x[i] : rev[i];
		if (cand != NULL && reverse_ok(w, cand)) {
			X509_up_ref(cand);
			if (!sk_X509_push(c.rev, cand)) {
				X509_free(cand);
				r = HK_ERR_ALLOC;
				goto out;
			}
		}
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", w->dest,
		    w->m->files[i].name);
		if (x[i] != NULL) {
			if (root_dn(w, X509_get_subject_name(x[i])) &&
			    !root_dn(w, X509_get_issuer_name(x[i])))
				r = cross_check(w, x[i], 1, NULL, c.rev, path,
				    "");
			else
				r = cross_check(w, x[i], 0, NULL, c.rev, path,
				    "");
			if (r == 0)
				r = store_cert(w, HK_CA_CROSS, 0, x[i], path);
		} else {
			if (rev[i] != NULL)
				r = cross_check(w, rev[i], 0, NULL, c.rev, path,
				    "CertificatePair reverse [1]: ");
			if (r == 0 && fwd[i] != NULL)
				r = cross_check(w, fwd[i], 1, rev[i], c.rev,
				    path, "CertificatePair forward [0]: ");
			if (r == 0 && (r = hk_store_ca_add(w->store,
			    HK_CA_PAIR, 0, "CertificatePair", buf[i], len[i],
			    w->bundle_id)) == 0)
				w->added++;
		}
		if (r != 0)
			goto out;
	}
 out:
	for (i = 0; i < n; i++) {
		free(buf[i]);
		X509_free(x[i]);
		X509_free(fwd[i]);
		X509_free(rev[i]);
	}
	sk_X509_pop_free(c.rev, X509_free);
	return r;
}

static int
import_responders(struct import_work *w)
{
	char path[4200];
	size_t i;
	int r = 0;

	for (i = 0; i < w->m->nfiles && r == 0; i++) {
		X509 *x = NULL;
		snprintf(path, sizeof(path), "%s/%s", w->dest,
		    w->m->files[i].name);
		if ((r = hk_cert_read(path, &x)) != 0)
			break;
		if (!root_dn(w, X509_get_issuer_name(x)) ||
		    !signed_by_root(w, x)) {
			hk_err_set("%s: signature: a responder certificate "
			    "must be issued by a trusted root key", path);
			r = HK_ERR_VERIFY;
		} else if (X509_check_ca(x) != 0) {
			hk_err_set("%s: basicConstraints: a responder "
			    "certificate is not a CA", path);
			r = HK_ERR_INVALID;
		} else
			r = store_cert(w, HK_CA_RESPONDER, 0, x, path);
		X509_free(x);
	}
	return r;
}

static int
crl_parse(const unsigned char *buf, size_t len, X509_CRL **out)
{
	const unsigned char *p = buf;
	X509_CRL *c;

	*out = NULL;
	if (len > 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
		BIO *b = BIO_new_mem_buf(buf, (int)len);
		char rest[8];
		c = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
		/* only blanks may follow the PEM block */
		if (c != NULL && BIO_read(b, rest, 1) > 0 &&
		    strchr(" \t\r\n", rest[0]) == NULL) {
			X509_CRL_free(c);
			c = NULL;
		}
		BIO_free(b);
	} else if ((c = d2i_X509_CRL(NULL, &p, (long)len)) != NULL &&
	    p != buf + len) {
		X509_CRL_free(c);
		c = NULL;
	}
	*out = c;
	return c ? 0 : HK_ERR_PARSE;
}

struct arl { uint64_t number; size_t idx; time_t tu, nu; };

static int
arl_cmp(const void *a, const void *b)
{
	const struct arl *x = a, *y = b;
	return x->number < y->number ? -1 : x->number > y->number;
}

static int
import_arls(struct import_work *w)
{
	struct arl *a = NULL;
	unsigned char *buf[HK_BUNDLE_MAX_FILES] = { 0 };
	size_t len[HK_BUNDLE_MAX_FILES], i, n = w->m->nfiles;
	char path[4200];
	int r = 0, j;

	if ((a = calloc(n, sizeof(*a))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		X509_CRL *c = NULL;
		int ok = 0, times;
		if ((r = payload(w, i, path, sizeof(path), &buf[i],
		    &len[i])) != 0)
			goto out;
		if (crl_parse(buf[i], len[i], &c) != 0) {
			hk_err_set("%s: SPEC 4.2: an arl-batch bundle carries "
			    "CRLs (DER or PEM) only", path);
			r = HK_ERR_PARSE;
			goto out;
		}
		for (j = 0; j < sk_X509_num(w->roots) && !ok; j++)
			ok = hk_crl_verify(c, sk_X509_value(w->roots, j)) == 0;
		if (!ok)
			ok = hk_crl_verify(c, w->t.anchor) == 0;
		a[i].idx = i;
		times = hk_cert_time(X509_CRL_get0_lastUpdate(c),
		    &a[i].tu) == 0 && hk_cert_time(X509_CRL_get0_nextUpdate(c),
		    &a[i].nu) == 0;
		if (!ok) {
			hk_err_set("%s: signature: RFC 5280 6.3.3: the ARL "
			    "does not verify under a root generation", path);
			r = HK_ERR_VERIFY;
		} else if (hk_crl_number(c, &a[i].number) != 0) {
			hk_err_set("%s: cRLNumber: RFC 5280 5.2.3: missing or "
			    "out of range", path);
			r = HK_ERR_INVALID;
		} else if (!times || a[i].nu <= a[i].tu) {
			hk_err_set("%s: nextUpdate: must follow thisUpdate",
			    path);
			r = HK_ERR_INVALID;
		}
		X509_CRL_free(c);
		hk_err_add_openssl();
		if (r != 0)
			goto out;
	}
	qsort(a, n, sizeof(*a), arl_cmp);
	for (i = 0; i < n; i++) {
		if ((r = hk_store_arl_add(w->store, a[i].number, a[i].tu,
		    a[i].nu, buf[a[i].idx], len[a[i].idx],
		    w->bundle_id)) != 0) {
			char msg[4400];
			snprintf(msg, sizeof(msg), "%s/%s: cRLNumber %" PRIu64
			    ": %s", w->dest, w->m->files[a[i].idx].name,
			    a[i].number, hk_err_msg());
			hk_err_set("%s", msg);
			goto out;
		}
		w->added++;
	}
 out:
	for (i = 0; i < n; i++)
		free(buf[i]);
	free(a);
	return r;
}

static int
store_payloads(struct import_work *w)
{
	const char *t = w->m->type;

	if (strcmp(t, "root-generation") == 0)
		return import_roots(w, 1);
	if (strcmp(t, "link-certs") == 0)
		return import_roots(w, 0);
	if (strcmp(t, "issuing-ca-cert") == 0)
		return import_issuing(w);
	if (strcmp(t, "cross-pair") == 0)
		return import_cross(w);
	if (strcmp(t, "arl-batch") == 0)
		return import_arls(w);
	if (strcmp(t, "responder-certs") == 0)
		return import_responders(w);
	hk_err_set("%s/manifest: type: SPEC 4.2: \"%s\" travels online to "
	    "offline; the publisher does not import it", w->dest, t);
	return HK_ERR_INVALID;
}

/* x is the pinned root or a root generation the store holds. */
static int
stored_root(const struct import_work *w, X509 *x)
{
	int i;

	if (X509_cmp(x, w->t.anchor) == 0)
		return 1;
	for (i = 0; i < sk_X509_num(w->roots); i++)
		if (X509_cmp(x, sk_X509_value(w->roots, i)) == 0)
			return 1;
	return 0;
}

/* A signer whose key is a root generation declared compromised (trust
 * --compromised, CPS 4-14-2): the bundle is refused before any of its
 * contents is read; what was imported before stays. */
static int
distrusted_signer(const struct import_work *w, EVP_PKEY *k, const char *dir)
{
	const struct hk_online_distrust_mark *d;
	char where[512];

	if ((d = hk_online_distrust_key(&w->distrust, k)) == NULL)
		return 0;
	hk_err_set("%s/manifest.sig: signer: CPS 4-14-2: root generation %d "
	    "is declared compromised (%s); nothing it signs is imported", dir,
	    d->gen, hk_online_distrust_where(d, where, sizeof(where)));
	return HK_ERR_VERIFY;
}

/*
 * The bundle reader's rule for this reader (SPEC 6.2 (a), 13.1): the
 * signer is a root generation's own certificate, self-signed, its key one
 * of the trusted root keys. The reader alone also accepts a certificate the
 * root issued (6.2 (b): the online issuing CA, a responder): those sign
 * csr and revocation-request bundles for the offline side, never the
 * root-side objects imported here.
 */
static int
root_signer(X509 *signer, const struct hk_bundle_manifest *m,
    const char *dir, void *arg)
{
	const struct import_work *w = arg;
	EVP_PKEY *k = X509_get0_pubkey(signer);
	char *dn;
	int i;

	(void)m;
	if (distrusted_signer(w, k, dir) != 0)
		return HK_ERR_VERIFY;
	for (i = 0; k != NULL && i < sk_X509_num(w->lost); i++) {
		X509 *l = sk_X509_value(w->lost, i);
		char sh[2 * 20 + 1];

		if (EVP_PKEY_eq(k, X509_get0_pubkey(l)) != 1)
			continue;
		if (hk_issued_serial_hex(l, sh, sizeof(sh)) != 0)
			snprintf(sh, sizeof(sh), "?");
		hk_err_set("%s/manifest.sig: signer: SPEC 6.2, CPS 4-14-2: "
		    "this root key is compromised: ARL %" PRIu64 " revokes "
		    "the link certificate %s that certifies it "
		    "(keyCompromise); nothing it signs is imported", dir,
		    w->lost_arl, sh);
		return HK_ERR_VERIFY;
	}
	/* X509_verify: 1 is good; 0 and -1 are failures. The signer is the
	 * pinned root or a stored root generation byte for byte: a
	 * self-signed certificate is dated by whoever holds the key, so a
	 * new one of a retired key would outlive its generation. */
	if (k != NULL && root_dn(w, X509_get_subject_name(signer)) &&
	    root_dn(w, X509_get_issuer_name(signer)) &&
	    key_trusted(w, k) && X509_verify(signer, k) == 1 &&
	    stored_root(w, signer))
		return 0;
	ERR_clear_error();
	dn = hk_name_print(X509_get_subject_name(signer));
	hk_err_set("%s/manifest.sig: signer: SPEC 6.2 (a), 13.1: \"%s\" is "
	    "not a root generation; only the root signs what the publisher "
	    "imports", dir, dn ? dn : "?");
	free(dn);
	return HK_ERR_VERIFY;
}

/*
 * dest exists and the store lacks its bundle: it may be removed only if it
 * is the copy an earlier import of the same bundle left (its own manifest
 * names the same signer, sequence and type); anything else is left alone.
 */
static int
leftover_check(const char *dest, const struct hk_bundle_manifest *pre)
{
	struct hk_bundle_manifest *m = NULL;
	unsigned char *buf = NULL;
	char path[4200];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dest, HK_BUNDLE_MANIFEST);
	if ((r = hk_file_read(path, HK_BUNDLE_MAX_MANIFEST, &buf,
	    &len)) != 0 || (r = hk_bundle_manifest_parse(buf, len, path,
	    &m)) != 0 || memcmp(m->signer, pre->signer, 20) != 0 ||
	    m->sequence != pre->sequence || strcmp(m->type, pre->type) != 0) {
		hk_err_set("%s: exists, is not in the store and is not a copy "
		    "of this bundle (signer, sequence and type); left as it "
		    "is", dest);
		r = HK_ERR_EXISTS;
	}
	free(buf);
	hk_bundle_manifest_free(m);
	return r;
}

/* Everything after the state is open: verify, copy, store. */
static int
import(const struct import_opts *o, struct import_work *w)
{
	struct hk_bundle_manifest *pre = NULL;
	unsigned char *mbuf = NULL, mh[32];
	char signer[41], mhex[65], spath[4096], mpath[4200], bdir[4096];
	size_t mlen;
	int r;

	/* bundles/, bundles.seen and the store change together: under the
	 * lock backup copies the state's files with (docs/backup.md), so
	 * that no backup holds a copy whose row this run never commits */
	if ((r = hk_online_state_lock(w->on)) != 0)
		return r;
	if ((r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, spath,
	    sizeof(spath))) != 0 ||
	    (r = hk_online_path(w->on, "bundles.seen", w->seen,
	    sizeof(w->seen))) != 0 ||
	    (r = hk_store_open(spath, 0, &w->store)) != 0 ||
	    (r = load_trust(w)) != 0 || (r = load_distrust(w)) != 0 ||
	    (r = seen_rebuild(w)) != 0)
		return r;
	/* A first look, for the destination's name only. */
	if ((r = hk_bundle_verify_rule(o->bundle, &w->t, root_signer, w,
	    &pre)) != 0)
		return r;
	hk_hex_encode(pre->signer, 20, signer);
	/* bundles/, made by init: a state restored from a backup taken
	 * before its first import has none (a backup holds files, not
	 * empty folders: docs/backup.md) */
	if ((r = hk_online_path(w->on, "bundles", bdir, sizeof(bdir))) != 0 ||
	    (r = hk_dir_ensure(bdir, 0700)) != 0)
		goto out;
	/* sequences are per signer (SPEC 8): the name carries the signer, so
	 * two root generations' bundles of one number never meet here */
	if ((size_t)snprintf(w->dest, sizeof(w->dest), "%s/bundles/%018"
	    PRIu64 "-%s-%s", w->on->st->dir, pre->sequence, pre->type,
	    signer) >= sizeof(w->dest)) {
		r = HK_ERR_INVALID;
		goto out;
	}
	/* (a store that cannot tell whether it holds the bundle stops here:
	 * never taken for one that does not) */
	if (hk_path_exists(w->dest) && (r = hk_store_bundle_has(w->store,
	    signer, pre->sequence)) == 0) {
		/* left by an import that crashed before its commit: only
		 * then, and only a copy of this very bundle, is removed */
		if ((r = leftover_check(w->dest, pre)) != 0)
			goto out;
		if ((r = hk_tree_remove(w->dest)) != 0) {
			hk_err_set("%s: the copy of an import that never "
			    "committed cannot be removed: %s", w->dest,
			    hk_err_msg());
			hk_online_audit(w->on, "bundle.recover", "fail", "%s",
			    hk_err_msg());
			goto out;
		}
		hk_online_audit(w->on, "bundle.recover", "ok", "%s: removed "
		    "the copy of an import that never committed", w->dest);
	} else if (r < 0)
		goto out;
	if ((r = hk_bundle_import_rule(o->bundle, w->dest, w->seen, &w->t,
	    o->type, root_signer, w, &w->m)) != 0) {
		if (hk_path_exists(w->dest) && r == HK_ERR_EXISTS) {
			hk_err_set("%s: sequence: SPEC 8: bundle %" PRIu64
			    " of signer %s is a replay or older than the last "
			    "imported; refused", o->bundle, pre->sequence,
			    signer);
			r = HK_ERR_INVALID;
		}
		goto out;
	}
	w->dest_made = 1;
	hk_hex_encode(w->m->signer, 20, signer);
	snprintf(mpath, sizeof(mpath), "%s/%s", w->dest, HK_BUNDLE_MANIFEST);
	if ((r = hk_file_read(mpath, HK_BUNDLE_MAX_MANIFEST, &mbuf,
	    &mlen)) != 0)
		goto out;
	SHA256(mbuf, mlen, mh);
	hk_hex_encode(mh, 32, mhex);
	memcpy(w->mhex, mhex, sizeof(w->mhex));
	if ((r = hk_store_begin(w->store)) != 0 ||
	    (r = hk_store_bundle_add(w->store, signer, w->m->sequence,
	    w->m->type, mhex, hk_clock_now(), &w->bundle_id)) != 0 ||
	    (r = store_payloads(w)) != 0 ||
	    (r = hk_store_commit(w->store)) != 0)
		goto out;
 out:
	free(mbuf);
	hk_bundle_manifest_free(pre);
	return r;
}

static void
work_free(struct import_work *w)
{
	hk_bundle_manifest_free(w->m);
	X509_free(w->t.anchor);
	sk_X509_pop_free(w->t.links, X509_free);
	sk_X509_pop_free(w->roots, X509_free);
	sk_X509_pop_free(w->lost, X509_free);
	hk_online_distrust_free(&w->distrust);
	hk_store_close(w->store);
}

int
cmd_import(int argc, char **argv)
{
	struct import_opts o;
	struct import_work w;
	struct hk_err_kept lost;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = hk_online_open(&o.c, &w.on)) != 0)
		return r;
	if ((r = import(&o, &w)) != 0) {
		struct hk_err_kept keep;
		hk_err_keep(&keep);
		if (w.store != NULL)
			hk_store_rollback(w.store);
		if (w.dest_made)
			/* no shell, no symbolic link followed: dest is
			 * under --state, which may hold any byte */
			(void)hk_tree_remove_after(w.dest, "hanko-online");
		if (w.store != NULL && w.seen[0] != '\0' &&
		    seen_rebuild(&w) != 0)
			fprintf(stderr, "hanko-online: %s: could not rewrite "
			    "from the store: %s\n", w.seen, hk_err_msg());
		hk_err_restore(&keep);
		hk_online_audit(w.on, "bundle.import", "fail", "%s: %s",
		    o.bundle, hk_err_msg());
		hk_online_checkpoint_keep_err(w.on);
		goto out;
	}
	/* committed: the bundle's sequence is spent and its rows stored, so
	 * an import whose record is lost stays, and the run ends with exit
	 * 6 naming it (below; docs/audit-log.md "When an append fails") */
	lost.msg[0] = '\0';
	if (hk_online_audit(w.on, "bundle.import", "ok", "%s into %s: type "
	    "%s, sequence %" PRIu64 ", %zu files, %d rows stored", o.bundle,
	    w.dest, w.m->type, w.m->sequence, w.m->nfiles, w.added) != 0)
		hk_err_keep(&lost);
	if (lost.msg[0] != '\0')
		hk_online_checkpoint_keep_err(w.on);
	else if ((r = hk_online_checkpoint(w.on)) != 0)
		goto out;
	printf("Imported %s: type %s, sequence %" PRIu64 ", %d item(s) "
	    "stored.\nmanifest SHA-256: %s\n", o.bundle, w.m->type,
	    w.m->sequence, w.added, w.mhex);
	if (strcmp(w.m->type, "issuing-ca-cert") == 0)
		next_steps(w.on, o.c.state);
	if (lost.msg[0] != '\0') {
		char done[HK_ERR_DETAIL_MAX], rec[HK_ERR_DETAIL_MAX];

		snprintf(done, sizeof(done), "import %s: imported into %s "
		    "(type %s, sequence %" PRIu64 ", spent; %d rows stored; "
		    "kept)", o.bundle, w.dest, w.m->type, w.m->sequence,
		    w.added);
		snprintf(rec, sizeof(rec), "the import (bundle %s, type %s, "
		    "sequence %" PRIu64 ", manifest SHA-256 %s, %zu files, %d "
		    "rows stored)", o.bundle, w.m->type, w.m->sequence, w.mhex,
		    w.m->nfiles, w.added);
		r = hk_online_unrecorded(done, "its bundle.import record is",
		    lost.msg, rec);
	}
 out:
	work_free(&w);
	hk_online_close(w.on);
	return r;
}
