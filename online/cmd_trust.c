/*
 * cmd_trust.c - "hanko-online trust": pin the root certificate the online
 * side trusts bundles with (media-format/SPEC.md 6.2). The certificate
 * arrives once, by hand; the operators read its SHA-256 from the offline
 * summary and give it with --fingerprint, and nothing is pinned unless the
 * two agree. Later root generations arrive in bundles, through links.
 *
 * With --compromised G (CPS 4-14-2; trust_compromised): root generation G,
 * stored, with the notice's SHA-256 and --yes-distrust, is declared
 * compromised out of band, never undone: the token's private data object
 * root.G.compromised first, then state.conf's, under the issuance lock and
 * state.lock (an issue run ends its batch first). From then on import
 * refuses what G's key signs, and issue and responder refuse (distrust.c).
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
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "name.h"
#include "online.h"
#include "profile.h"
#include "store.h"

struct trust_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *fingerprint;	/* --fingerprint: SHA-256, hex */
	const char *root;		/* ROOT.pem (or DER) */
};

static const char trust_usage[] =
"usage: hanko-online trust --state DIR --fingerprint SHA256 ROOT.pem\n"
"       hanko-online trust --state DIR --compromised G --fingerprint SHA256\n"
"                          --yes-distrust\n";

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
static int trust_compromised(int argc, char **argv);

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

	for (r = 1; r < argc; r++)
		if (strcmp(argv[r], "--compromised") == 0)
			return trust_compromised(argc, argv);
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

/* ---- trust --compromised: the root key in force declared compromised ----
 *
 * CPS 4-14-2, docs/ceremony-lifecycle.md "compromise": when the compromised
 * root generation is the current one, no ARL can carry the news (nothing
 * its key signs can be trusted to say so): the CA manager's decision and
 * the compromise notice (certs/compromise-notice-root-G.txt) come to the
 * online room by hand. The operators name the generation and the
 * certificate's SHA-256 as the notice gives it; nothing is marked unless
 * the two name a stored root generation. The mark goes into the token
 * first (a restore of state.conf does not take it back), then state.conf,
 * under state.lock (waited for: an emergency). Never undone; a second run
 * finds both marks and says so (and marks state.conf again when a restore
 * took its mark).
 */
struct compromised_opts {
	struct hk_online_opts c;	/* --state, --clock */
	int gen;			/* --compromised G */
	const char *fingerprint;	/* --fingerprint: SHA-256, hex */
	int yes;			/* --yes-distrust */
};

/* A root generation stored after the one declared: trusted still (an
 * older generation's compromise leaves the rollover that followed it in
 * force), but one that came in signed by the lost key, before the
 * declaration, is the thief's: the operators compare it with the offline
 * CA's records. */
static int
later_note(X509 *x, int gen, int declared)
{
	unsigned char fp[32];
	char hex[65];
	int r;

	if ((r = hk_cert_fingerprint(x, fp)) != 0)
		return r;
	hk_hex_encode(fp, 32, hex);
	printf("note: root generation %d (SHA-256 %s) was stored after "
	    "generation %d and is still trusted: if the offline CA's records "
	    "show no rollover to it, it came in signed by the lost key; "
	    "declare it too: hanko-online trust --compromised %d "
	    "--fingerprint %s --yes-distrust\n", gen, hex, declared, gen,
	    hex);
	return 0;
}

static int
trust_compromised(int argc, char **argv)
{
	struct compromised_opts o;
	const struct hk_online_arg args[] = {
		{ .name = "--compromised", .num = &o.gen, .lo = 1,
		    .hi = HK_CERT_GEN_MAX },
		{ .name = "--fingerprint", .value = &o.fingerprint,
		    .required = 1 },
		{ .name = "--yes-distrust", .flag = &o.yes },
		{ .name = NULL },
	};
	struct hk_online_distrust d = { .nroots = 0 };
	X509 *root = NULL;
	struct hk_online *on = NULL;
	struct hk_store *store = NULL;
	struct hk_err_kept lost;
	unsigned char want[32], got[32];
	char spath[4096], hex[65], key[48], when[32], val[160], *dn = NULL;
	int r, tok_made = 0, conf_made = 0, n, issue_fd = -1, i, top = 0;

	memset(&o, 0, sizeof(o));
	if ((r = hk_online_parse(&o.c, argc, argv, trust_usage, args,
	    NULL)) != 0)
		return r == 1 ? 0 : r;
	if (parse_fingerprint(o.fingerprint, want) != 0) {
		hk_err_set("--fingerprint %s: expected the SHA-256 as 64 hex "
		    "digits (colons allowed)", o.fingerprint);
		return HK_ERR_USAGE;
	}
	if (!o.yes) {
		hk_err_set("--compromised %d: --yes-distrust is required: "
		    "CPS 4-14-2: from then on nothing root generation %d "
		    "signed is imported, and nothing is issued under an "
		    "issuing CA it certified, for good", o.gen, o.gen);
		return HK_ERR_USAGE;
	}
	/* an emergency: the locks are waited for, not refused; the issuance
	 * lock first (an issue run ends its batch, then nothing more is
	 * issued: the next run reads the mark), then state.lock */
	if ((r = hk_online_open(&o.c, &on)) != 0 ||
	    (r = hk_online_issue_lock_wait(on, &issue_fd)) != 0 ||
	    (r = hk_online_state_lock_wait(on)) != 0 ||
	    (r = hk_online_path(on, HK_ONLINE_STORE_FILE, spath,
	    sizeof(spath))) != 0 || (r = hk_store_open(spath, 0,
	    &store)) != 0 ||
	    (r = hk_online_distrust_load(on, store, 0, &d)) != 0)
		goto fail;
	for (i = 0; i < d.nroots; i++) {
		if (d.rgen[i] > top)
			top = d.rgen[i];
		if (d.rgen[i] == o.gen)
			root = d.root[i];
	}
	if (root == NULL && top == 0) {
		hk_err_set("--compromised %d: no root is pinned yet (hanko-online "
		    "trust ROOT.pem); nothing marked", o.gen);
		r = HK_ERR_INVALID;
		goto fail;
	}
	if (root == NULL) {
		hk_err_set("--compromised %d: not a stored root generation "
		    "(the store holds 1 to %d); nothing marked", o.gen, top);
		r = HK_ERR_INVALID;
		goto fail;
	}
	if ((r = hk_cert_fingerprint(root, got)) != 0)
		goto fail;
	hk_hex_encode(got, 32, hex);
	if (memcmp(got, want, 32) != 0) {
		hk_err_set("--fingerprint %s: root generation %d's SHA-256 is "
		    "%s, not the one the operators read from the notice; "
		    "nothing marked", o.fingerprint, o.gen, hex);
		r = HK_ERR_VERIFY;
		goto fail;
	}
	dn = hk_name_print(X509_get_subject_name(root));
	hk_time_format(hk_clock_now(), when, sizeof(when));
	snprintf(key, sizeof(key), "root.%d.compromised", o.gen);
	n = snprintf(val, sizeof(val), "SHA-256 %s, %s", hex, when);
	if (n < 0 || (size_t)n >= sizeof(val)) {
		r = HK_ERR_INTERNAL;
		goto fail;
	}
	/* the token's first: a restore of state.conf does not take it back */
	if ((r = hk_online_login(on)) != 0 ||
	    (r = hk_token_data_put(on->tok, HK_ONLINE_MARK_APP, key, val,
	    (size_t)n, &tok_made)) != 0) {
		hk_err_set("token: %s not saved; nothing marked: %s", key,
		    hk_err_msg());
		goto fail;
	}
	if (hk_state_get(on->st, key) == NULL) {
		if (hk_state_set(on->st, key, when) != 0) {
			r = HK_ERR_INTERNAL;
			goto conf_fail;
		}
		if ((r = hk_state_save(on->st)) != 0)
			goto conf_fail;
		conf_made = 1;
	}
	lost.msg[0] = '\0';
	if (hk_online_audit(on, "root.distrust", "ok", "root generation %d "
	    "(%s) declared compromised: SHA-256 %s confirmed by the "
	    "operators; the token's mark %s, state.conf's %s", o.gen,
	    dn ? dn : "?", hex, tok_made ? "made" : "kept (an earlier run)",
	    conf_made ? "made" : "kept (an earlier run)") != 0)
		hk_err_keep(&lost);
	if (lost.msg[0] != '\0')
		hk_online_checkpoint_keep_err(on);
	else if ((r = hk_online_checkpoint(on)) != 0)
		goto out;
	if (!tok_made && !conf_made)
		printf("Root generation %d is already declared compromised "
		    "(root.%d.compromised in the token and state.conf); "
		    "nothing to do.\n", o.gen, o.gen);
	else
		printf("Root generation %d declared compromised (CPS 4-14-2): "
		    "%s\nSHA-256 %s\nroot.%d.compromised saved in the token "
		    "(%s) and state.conf (%s). From now on import refuses "
		    "every bundle it signs, and issue and responder refuse "
		    "under an issuing CA it certified; publish and serve go "
		    "on. The CA starts again with init-root on a new state "
		    "(docs/ceremony-lifecycle.md \"compromise\").\n", o.gen,
		    dn ? dn : "?", hex, o.gen, tok_made ? "new" : "kept",
		    conf_made ? "new" : "kept");
	for (i = 0; i < d.nroots; i++)
		if (d.rgen[i] > o.gen)
			(void)later_note(d.root[i], d.rgen[i], o.gen);
	if (lost.msg[0] != '\0') {
		char done[HK_ERR_DETAIL_MAX], rec[HK_ERR_DETAIL_MAX];

		snprintf(done, sizeof(done), "trust --compromised %d: root "
		    "generation %d marked compromised (kept)", o.gen, o.gen);
		snprintf(rec, sizeof(rec), "the declaration (root generation "
		    "%d, SHA-256 %s, %s)", o.gen, hex, when);
		r = hk_online_unrecorded(done, "its root.distrust record is",
		    lost.msg, rec);
	}
	goto out;
 conf_fail:
	hk_err_set("%s/state.conf: %s not saved (the token's mark is): %s",
	    on->st->dir, key, hk_err_msg());
 fail:
	if (on != NULL) {
		hk_online_audit(on, "root.distrust", "fail", "%s",
		    hk_err_msg());
		hk_online_checkpoint_keep_err(on);
	}
 out:
	free(dn);
	hk_online_distrust_free(&d);
	hk_store_close(store);
	hk_online_close(on);
	if (issue_fd >= 0)
		close(issue_fd);
	return r;
}
