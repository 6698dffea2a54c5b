/*
 * cmd_bundle.c - "hanko-offline bundle create|verify|import": signed
 * bundles across the air gap (DESIGN.md 6, media-format/SPEC.md).
 *
 * create signs with the current root generation's key in the token, after
 * quorum activation; the sequence number comes from state.conf
 * (bundle.sequence, the last one used) and is saved before the bundle is
 * written, so a number is never used twice even when writing fails.
 * verify and import trust the CA's first root generation, and later ones
 * through --link NewWithOld certificates; import records the sequence in
 * <state>/bundles.seen (SPEC 8). Every outcome is audited.
 */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "atomic.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "offline.h"

static const char bundle_usage[] =
"usage: hanko-offline bundle create --state DIR --type TYPE --out DIR\n"
"           --share FILE [--passin SPEC]... FILE...\n"
"       hanko-offline bundle verify --state DIR [--link CERT]... BUNDLE\n"
"       hanko-offline bundle import --state DIR --into DIR [--type TYPE]\n"
"           [--link CERT]... BUNDLE\n"
"types: root-generation link-certs issuing-ca-cert arl-batch cross-pair\n"
"       responder-certs csr revocation-request\n";

#define MAX_ARGS 256

struct bundle_opts {
	struct hk_common_opts c;		/* --state, --clock */
	struct hk_share_arg shares[HK_MAX_SHARE_ARGS];
	int nshares;
	const char *type;			/* --type; NULL = any (import) */
	const char *out;			/* --out (create) */
	const char *into;			/* --into (import) */
	const char *links[HK_BUNDLE_MAX_LINKS];	/* --link certificates */
	int nlinks;
	const char *args[MAX_ARGS];		/* payload files or the bundle */
	int nargs;
};

static int
parse(struct bundle_opts *o, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		if (hk_common_opt(&o->c, argc, argv, &i, &r) ||
		    hk_share_opt(o->shares, &o->nshares, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
		} else if (strcmp(argv[i], "--type") == 0) {
			if ((o->type = hk_opt_value(argc, argv, &i)) == NULL)
				return HK_ERR_USAGE;
		} else if (strcmp(argv[i], "--out") == 0) {
			if ((o->out = hk_opt_value(argc, argv, &i)) == NULL)
				return HK_ERR_USAGE;
		} else if (strcmp(argv[i], "--into") == 0) {
			if ((o->into = hk_opt_value(argc, argv, &i)) == NULL)
				return HK_ERR_USAGE;
		} else if (strcmp(argv[i], "--link") == 0) {
			if (o->nlinks == HK_BUNDLE_MAX_LINKS) {
				hk_err_set("--link: at most %d",
				    HK_BUNDLE_MAX_LINKS);
				return HK_ERR_USAGE;
			}
			if ((o->links[o->nlinks++] = hk_opt_value(argc, argv,
			    &i)) == NULL)
				return HK_ERR_USAGE;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(bundle_usage, stdout);
			return 1;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		} else {
			if (o->nargs == MAX_ARGS) {
				hk_err_set("%s: at most %d files", argv[i],
				    MAX_ARGS);
				return HK_ERR_USAGE;
			}
			o->args[o->nargs++] = argv[i];
		}
	}
	return 0;
}

/* The sequence number after state.conf's bundle.sequence, saved at once. */
static int
reserve_sequence(struct hk_ca *ca, uint64_t *seq)
{
	const char *v = hk_state_get(ca->st, "bundle.sequence");
	char buf[24], *end;
	unsigned long long last = 0;
	int r;

	if (v != NULL) {
		last = strtoull(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0' ||
		    last >= HK_BUNDLE_MAX_SEQ) {
			hk_err_set("%s/state.conf: bundle.sequence: must be a "
			    "decimal below %" PRIu64, ca->st->dir,
			    HK_BUNDLE_MAX_SEQ);
			return HK_ERR_STATE;
		}
	}
	*seq = (uint64_t)last + 1;
	snprintf(buf, sizeof(buf), "%" PRIu64, *seq);
	if ((r = hk_state_set(ca->st, "bundle.sequence", buf)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0)
		return r;
	return 0;
}

/* The current root generation's certificate (and key URI). */
static int
current_root(struct hk_ca *ca, int first, X509 **cert, const char **uri)
{
	const char *g = hk_state_get(ca->st, "root.generations"), *rel;
	char key[64], path[4096];
	long gen = g ? strtol(g, NULL, 10) : 0;
	int r;

	*cert = NULL;
	if (gen < 1) {
		hk_err_set("%s: no root yet (run create-root first)",
		    ca->st->dir);
		return HK_ERR_STATE;
	}
	if (first)
		gen = 1;
	snprintf(key, sizeof(key), "root.%ld.cert", gen);
	if ((rel = hk_state_get(ca->st, key)) == NULL) {
		hk_err_set("%s/state.conf: %s missing", ca->st->dir, key);
		return HK_ERR_STATE;
	}
	if (uri != NULL) {
		snprintf(key, sizeof(key), "root.%ld.key-uri", gen);
		if ((*uri = hk_state_get(ca->st, key)) == NULL) {
			hk_err_set("%s/state.conf: %s missing", ca->st->dir,
			    key);
			return HK_ERR_STATE;
		}
	}
	if ((r = hk_state_path(ca->st, rel, path, sizeof(path))) != 0)
		return r;
	return hk_cert_read(path, cert);
}

static int
bundle_create(struct bundle_opts *o)
{
	struct hk_bundle_file files[MAX_ARGS];
	unsigned char *data[MAX_ARGS] = { 0 }, mh[32];
	char hx[65], name[MAX_ARGS][HK_BUNDLE_MAX_NAME + 1];
	struct hk_ca *ca = NULL;
	EVP_PKEY *priv = NULL;
	X509 *cert = NULL;
	const char *uri;
	uint64_t seq = 0;
	int i, r;

	if (o->type == NULL || o->out == NULL || o->nargs == 0) {
		hk_err_set("bundle create: --type, --out and at least one FILE "
		    "are required");
		return HK_ERR_USAGE;
	}
	if (!hk_bundle_type_ok(o->type)) {
		hk_err_set("--type %s: SPEC 4.2: unknown bundle type", o->type);
		return HK_ERR_USAGE;
	}
	if ((r = hk_ca_open(&o->c, "bundle create", &ca)) != 0)
		return r;
	/* Read and check every input before the quorum is asked for. */
	for (i = 0; i < o->nargs; i++) {
		char tmp[4096];
		size_t len;

		snprintf(tmp, sizeof(tmp), "%s", o->args[i]);
		snprintf(name[i], sizeof(name[i]), "%s", basename(tmp));
		if (strlen(basename(tmp)) > HK_BUNDLE_MAX_NAME ||
		    !hk_bundle_name_ok(name[i])) {
			hk_err_set("%s: SPEC 3: the file name is not an "
			    "allowed bundle name ([A-Za-z0-9._-], no leading "
			    "'.', no '..', at most %d bytes)", o->args[i],
			    HK_BUNDLE_MAX_NAME);
			r = HK_ERR_INVALID;
			goto fail;
		}
		if ((r = hk_file_read(o->args[i], HK_BUNDLE_MAX_FILE, &data[i],
		    &len)) != 0)
			goto fail;
		files[i].name = name[i];
		files[i].data = data[i];
		files[i].len = len;
	}
	if ((r = current_root(ca, 0, &cert, &uri)) != 0)
		goto fail;
	if (hk_path_exists(o->out)) {
		hk_err_set("%s: already exists; refusing to overwrite", o->out);
		r = HK_ERR_EXISTS;
		goto fail;
	}
	if ((r = hk_ca_activate(ca, o->shares, o->nshares)) != 0)
		goto fail;
	if ((r = hk_token_key(ca->tok, uri, &priv, NULL)) != 0)
		goto fail;
	/* Never reused: the number is spent before the bundle exists. */
	if ((r = reserve_sequence(ca, &seq)) != 0)
		goto fail;
	if ((r = hk_bundle_write(o->out, o->type, seq, hk_clock_now(), files,
	    (size_t)o->nargs, priv, cert, mh)) != 0)
		goto fail;
	hk_hex_encode(mh, 32, hx);
	hk_ca_audit(ca, "bundle.create", "ok", ca->actors, "%s: type %s, "
	    "sequence %" PRIu64 ", %d files, manifest sha256 %s", o->out,
	    o->type, seq, o->nargs, hx);
	if ((r = hk_ca_checkpoint(ca)) != 0)
		goto out;
	printf("Bundle %s: type %s, sequence %" PRIu64 ", %d file(s)\n"
	    "manifest SHA-256: %s\n", o->out, o->type, seq, o->nargs, hx);
	goto out;
 fail:
	if (ca != NULL) {
		hk_ca_audit(ca, "bundle.create", "fail", ca->actors, "%s "
		    "(sequence %" PRIu64 "): %s", o->out, seq, hk_err_msg());
		if (ca->tok != NULL)
			(void)hk_ca_checkpoint(ca);
	}
 out:
	for (i = 0; i < o->nargs; i++)
		free(data[i]);
	EVP_PKEY_free(priv);
	X509_free(cert);
	hk_ca_close(ca);
	return r;
}

/* The trust of verify and import: root generation 1 plus --link. */
static int
load_trust(struct hk_ca *ca, const struct bundle_opts *o,
    struct hk_bundle_trust *t)
{
	int i, r;

	t->anchor = NULL;
	t->links = NULL;
	if ((r = current_root(ca, 1, &t->anchor, NULL)) != 0)
		return r;
	if ((t->links = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < o->nlinks; i++) {
		X509 *l = NULL;
		if ((r = hk_cert_read(o->links[i], &l)) != 0)
			return r;
		if (!sk_X509_push(t->links, l)) {
			X509_free(l);
			return HK_ERR_ALLOC;
		}
	}
	return 0;
}

static void
free_trust(struct hk_bundle_trust *t)
{
	X509_free(t->anchor);
	sk_X509_pop_free(t->links, X509_free);
}

static void
print_manifest(const struct hk_bundle_manifest *m, const char *what)
{
	char tm[32], hx[65];
	size_t i;

	hk_time_format(m->created, tm, sizeof(tm));
	hk_hex_encode(m->signer, 20, hx);
	printf("%s: type %s, sequence %" PRIu64 ", created %s, signer %s\n",
	    what, m->type, m->sequence, tm, hx);
	for (i = 0; i < m->nfiles; i++) {
		hk_hex_encode(m->files[i].sha256, 32, hx);
		printf("  %s  %" PRIu64 "  %s\n", hx, m->files[i].size,
		    m->files[i].name);
	}
}

static int
bundle_verify_or_import(struct bundle_opts *o, int import)
{
	struct hk_bundle_trust t = { NULL, NULL };
	struct hk_bundle_manifest *m = NULL;
	struct hk_ca *ca = NULL;
	char seen[4096];
	const char *src;
	int r;

	if (o->nargs != 1 || (import && o->into == NULL)) {
		hk_err_set("bundle %s: one BUNDLE%s required", import ?
		    "import" : "verify", import ? " and --into DIR" : "");
		return HK_ERR_USAGE;
	}
	src = o->args[0];
	if ((r = hk_ca_open(&o->c, import ? "bundle import" : "bundle verify",
	    &ca)) != 0)
		return r;
	if ((r = load_trust(ca, o, &t)) != 0 ||
	    (r = hk_state_path(ca->st, "bundles.seen", seen, sizeof(seen))) != 0)
		goto fail;
	if (import) {
		if ((r = hk_bundle_import(src, o->into, seen, &t, o->type,
		    &m)) != 0)
			goto fail;
		hk_ca_audit(ca, "bundle.import", "ok", "-", "%s into %s: type "
		    "%s, sequence %" PRIu64, src, o->into, m->type,
		    m->sequence);
		print_manifest(m, o->into);
		printf("Imported.\n");
	} else {
		if ((r = hk_bundle_verify(src, &t, &m)) != 0)
			goto fail;
		if (o->type != NULL && strcmp(o->type, m->type) != 0) {
			hk_err_set("%s/manifest: type: SPEC 4.2: \"%s\", "
			    "expected \"%s\"", src, m->type, o->type);
			r = HK_ERR_INVALID;
			goto fail;
		}
		if ((r = hk_bundle_seen_check(seen, m)) != 0) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s/manifest: %s", src,
			    hk_err_msg());
			hk_err_set("%s", msg);
			goto fail;
		}
		hk_ca_audit(ca, "bundle.verify", "ok", "-", "%s: type %s, "
		    "sequence %" PRIu64, src, m->type, m->sequence);
		print_manifest(m, src);
		printf("Verified (not imported).\n");
	}
	goto out;
 fail:
	if (ca != NULL)
		hk_ca_audit(ca, import ? "bundle.import" : "bundle.verify",
		    "fail", "-", "%s", hk_err_msg());
 out:
	hk_bundle_manifest_free(m);
	free_trust(&t);
	hk_ca_close(ca);
	return r;
}

int
cmd_bundle(int argc, char **argv)
{
	struct bundle_opts *o;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(bundle_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? HK_ERR_USAGE : 0;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = parse(o, argc - 1, argv + 1)) != 0) {
		free(o);
		return r == 1 ? 0 : r;
	}
	if (strcmp(argv[1], "create") == 0)
		r = bundle_create(o);
	else if (strcmp(argv[1], "verify") == 0)
		r = bundle_verify_or_import(o, 0);
	else if (strcmp(argv[1], "import") == 0)
		r = bundle_verify_or_import(o, 1);
	else {
		hk_err_set("bundle %s: unknown (create, verify, import)",
		    argv[1]);
		r = HK_ERR_USAGE;
	}
	free(o);
	return r;
}
