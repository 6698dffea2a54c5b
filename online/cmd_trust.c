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
	char path[4096];
	int r;

	if ((r = hk_online_path(on, "profile.yaml", path, sizeof(path))) != 0 ||
	    (r = hk_profile_load(path, &p)) != 0 ||
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

int
cmd_trust(int argc, char **argv)
{
	struct trust_opts o;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	unsigned char want[32], got[32], *der = NULL;
	char der_path[4096], pem_path[4096], spath[4096], hex[65], *dn = NULL;
	int r, len, wrote = 0;
	X509 *root = NULL;

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
	    sizeof(spath))) != 0)
		goto fail;
	if (hk_path_exists(der_path)) {
		hk_err_set("%s: a root is pinned already; later generations "
		    "arrive in root-generation bundles and stay trusted after "
		    "it ends (SPEC 6.2)", der_path);
		r = HK_ERR_EXISTS;
		goto fail;
	}
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
	if ((len = i2d_X509(root, &der)) <= 0) {
		r = HK_ERR_CRYPTO;
		goto fail;
	}
	dn = hk_name_print(X509_get_subject_name(root));
	if ((r = hk_store_open(spath, 0, &store)) != 0 ||
	    (r = hk_store_begin(store)) != 0 ||
	    (r = hk_store_ca_add(store, HK_CA_ROOT, 1, dn ? dn : "?", der,
	    (size_t)len, 0)) != 0)
		goto fail;
	if ((r = hk_cert_write(root, der_path, pem_path)) != 0)
		goto fail;
	wrote = 1;
	/* The anchor file is the authority; the store row follows it. */
	if ((r = hk_store_commit(store)) != 0)
		goto fail;
	hk_online_audit(on, "root.trust", "ok", "%s pinned as the anchor "
	    "(generation 1): SHA-256 %s confirmed by the operators", o.root,
	    hex);
	if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	printf("Root pinned: %s\nSHA-256 %s\n", dn ? dn : "?", hex);
	goto out;
 fail:
	if (store != NULL)
		hk_store_rollback(store);
	if (wrote) {
		unlink(der_path);
		unlink(pem_path);
	}
	if (on != NULL) {
		hk_online_audit(on, "root.trust", "fail", "%s", hk_err_msg());
		hk_online_checkpoint_keep_err(on);
	}
 out:
	free(dn);
	OPENSSL_free(der);
	X509_free(root);
	hk_store_close(store);
	hk_online_close(on);
	return r;
}
