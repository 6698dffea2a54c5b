/*
 * cmd_trust.c - "hanko-online trust": pin the root certificate the online
 * side trusts bundles with (media-format/SPEC.md 6.2). The certificate
 * arrives once, by hand; the operators read its SHA-256 from the offline
 * summary and give it with --fingerprint, and nothing is pinned unless the
 * two agree. Later root generations arrive in bundles, through links.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "cert.h"
#include "err.h"
#include "hex.h"
#include "name.h"
#include "online.h"
#include "profile.h"

struct trust_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *fingerprint;	/* --fingerprint: SHA-256, hex */
	const char *root;		/* ROOT.pem (or DER) */
};

static const char trust_usage[] =
"usage: hanko-online trust --state DIR --fingerprint SHA256 ROOT.pem\n";

static int
parse(struct trust_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--fingerprint", .value = &o->fingerprint,
		    .required = 1 },
		{ .name = NULL },
	};
	const struct hk_online_operand root = { "ROOT", "root certificate",
	    &o->root };

	memset(o, 0, sizeof(*o));
	return hk_online_parse(&o->c, argc, argv, trust_usage, args, &root);
}

/* "AA:BB:.." or "aabb..": 32 bytes. */
static int
parse_fingerprint(const char *s, unsigned char out[32])
{
	char hex[65];
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == ' ')
			continue;
		if (!isxdigit((unsigned char)*s) || n == 64)
			return HK_ERR_USAGE;
		hex[n++] = (char)tolower((unsigned char)*s);
	}
	hex[n] = '\0';
	if (n != 64 || hk_hex_decode(hex, out, 32) != 0)
		return HK_ERR_USAGE;
	return 0;
}

/* The root the profile names, self-signed, a CA. */
static int
check_root(struct hk_online *on, X509 *root, const char *input)
{
	struct hk_profile *p = NULL;
	X509_NAME *want = NULL;
	EVP_PKEY *pub;
	const char *reh = hk_state_get(on->st, "rehearsal");
	int r;

	if ((r = hk_online_profile(on, &p)) != 0 ||
	    (r = hk_name_build(p->root_subject, reh && strcmp(reh, "yes") ==
	    0 ? p->rehearsal_marker : NULL, &want)) != 0)
		goto out;
	r = HK_ERR_INVALID;
	if (X509_NAME_cmp(X509_get_subject_name(root), want) != 0) {
		hk_err_set("%s: subject: not the root DN of the profile", input);
		goto out;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(root), want) != 0 ||
	    (pub = X509_get0_pubkey(root)) == NULL ||
	    X509_verify(root, pub) != 1) {	/* 1 only: <= 0 is failure */
		hk_err_set("%s: signature: RFC 5280 6.1: a root certificate "
		    "is self-signed", input);
		r = HK_ERR_VERIFY;
		goto out;
	}
	if (X509_check_ca(root) != 1) {
		hk_err_set("%s: basicConstraints: RFC 5280 4.2.1.9: a root is "
		    "a CA", input);
		goto out;
	}
	r = 0;
 out:
	X509_NAME_free(want);
	hk_profile_free(p);
	return r;
}

/* The anchor DER as written, compared byte for byte with der. */
static int
anchor_is(const char *path, const unsigned char *der, size_t len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int same;

	if (hk_file_read(path, 1 << 16, &buf, &n) != 0)
		return 0;
	same = n == len && memcmp(buf, der, len) == 0;
	free(buf);
	return same;
}

/*
 * Order: the store row in an open transaction, then the anchor (DER, then
 * PEM), then the commit. A run stopped before the commit (a kill, a power
 * loss, a failed fsync) leaves an anchor file and no root row: running
 * trust again with the same root and fingerprint completes it (the DER
 * written is kept, the PEM rewritten from it), and until then import and
 * request refuse (hk_online_trust_load), so that no root generation is
 * numbered or published without generation 1.
 */
int
cmd_trust(int argc, char **argv)
{
	struct trust_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	unsigned char want[32], got[32], *der = NULL;
	char der_path[4096], pem_path[4096], spath[4096], hex[65], *dn = NULL;
	int r, nroots = 0, resume = 0, der_made = 0, pem_made = 0;
	X509 *root = NULL;
	char *pem = NULL;
	size_t len, pemlen;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if (parse_fingerprint(o.fingerprint, want) != 0) {
		hk_err_set("--fingerprint %s: expected the SHA-256 as 64 hex "
		    "digits (colons allowed)", o.fingerprint);
		return HK_ERR_USAGE;
	}
	if ((r = hk_online_open(&o.c, &on)) != 0)
		return r;
	if ((r = hk_online_path(on, HK_ONLINE_ANCHOR, der_path,
	    sizeof(der_path))) != 0 ||
	    (r = hk_online_path(on, HK_ONLINE_ANCHOR_PEM, pem_path,
	    sizeof(pem_path))) != 0 ||
	    (r = hk_online_path(on, HK_ONLINE_STORE_FILE, spath,
	    sizeof(spath))) != 0 ||
	    (r = hk_store_open(spath, 0, &store)) != 0 ||
	    (r = hk_store_ca_count(store, HK_CA_ROOT, &nroots)) != 0)
		goto fail;
	if (nroots > 0) {
		hk_err_set("%s: a root is pinned already; later generations "
		    "arrive in root-generation bundles and stay trusted after "
		    "it ends (SPEC 6.2)", der_path);
		r = HK_ERR_EXISTS;
		goto fail;
	}
	/* an anchor without its row: a trust stopped before its commit */
	resume = hk_path_exists(der_path);
	if ((r = hk_cert_read(o.root, &root)) != 0 ||
	    (r = hk_cert_fingerprint(root, got)) != 0)
		goto fail;
	hk_hex_encode(got, 32, hex);
	if (memcmp(got, want, 32) != 0) {
		hk_err_set("%s: SHA-256 %s is not the one the operators read "
		    "(--fingerprint); nothing pinned", o.root, hex);
		r = HK_ERR_VERIFY;
		goto fail;
	}
	if ((r = check_root(on, root, o.root)) != 0)
		goto fail;
	if ((r = hk_cert_encode(root, &der, &len, &pem, &pemlen)) != 0) {
		hk_err_set("%s: %s", o.root, hk_err_msg());
		goto fail;
	}
	if (resume && !anchor_is(der_path, der, len)) {
		hk_err_set("%s: holds another root, pinned by a trust that "
		    "stopped before the store recorded it: run trust again "
		    "with that root and its fingerprint to complete it; "
		    "nothing changed", der_path);
		r = HK_ERR_EXISTS;
		goto fail;
	}
	dn = hk_name_print(X509_get_subject_name(root));
	if ((r = hk_store_begin(store)) != 0 ||
	    (r = hk_store_ca_add(store, HK_CA_ROOT, 1, dn ? dn : "?", der,
	    len, 0)) != 0)
		goto fail;
	/* The anchor file is the authority; the store row follows it. */
	if (!resume) {
		if ((r = hk_file_write(der_path, der, len, 0644,
		    HK_WRITE_NOREPLACE)) != 0)
			goto fail;
		der_made = 1;
	}
	/* the PEM is the DER's copy for people: rewritten whole */
	pem_made = !hk_path_exists(pem_path);
	if ((r = hk_file_write(pem_path, pem, pemlen, 0644, 0)) != 0 ||
	    (r = hk_store_commit(store)) != 0)
		goto fail;
	hk_online_audit(on, "root.trust", "ok", "%s pinned as the anchor "
	    "(generation 1): SHA-256 %s confirmed by the operators%s", o.root,
	    hex, resume ? "; completes a trust that stopped before the store "
	    "recorded it" : "");
	if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	printf("Root pinned: %s\nSHA-256 %s\n", dn ? dn : "?", hex);
	goto out;
 fail:
	if (store != NULL)
		hk_store_rollback(store);
	/* only what this run made: a DER kept from a stopped run stays */
	if (der_made)
		unlink(der_path);
	if (pem_made)
		unlink(pem_path);
	if (on != NULL) {
		hk_online_audit(on, "root.trust", "fail", "%s", hk_err_msg());
		hk_online_checkpoint_keep_err(on);
	}
 out:
	free(dn);
	OPENSSL_free(der);
	OPENSSL_free(pem);
	X509_free(root);
	hk_store_close(store);
	hk_online_close(on);
	return r;
}
