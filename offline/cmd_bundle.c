/*
 * cmd_bundle.c - "hanko-offline bundle create|verify|import": signed
 * bundles across the air gap (DESIGN.md 6, media-format/SPEC.md).
 *
 * create signs with the current root generation's key in the token, after
 * quorum activation; the sequence number comes from state.conf
 * (bundle.sequence, the last one used) and is saved before the bundle is
 * written, so a number is never used twice even when writing fails.
 * verify and import trust the CA's first root generation, and later ones
 * through the state's own NewWithOld links and --link certificates; import
 * records the sequence in <state>/bundles.seen (SPEC 8). A root generation
 * marked compromised (root.<g>.compromised) signs nothing they accept.
 * Every outcome is audited.
 *
 * A bundle signed by the online issuing CA (SPEC 13: csr and
 * revocation-request only) is accepted only when its signer certificate is
 * the CA's current issuing CA certificate as state.conf records it
 * (issuing.current, issuing.<g>.cert), issued by a root generation not
 * marked compromised, and not revoked in issued.txt; its contents are
 * checked as SPEC 13.2 / 13.3 say, on the copy that is kept.
 */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "csr.h"
#include "issued.h"
#include "offline.h"

static const char bundle_usage[] =
"usage: hanko-offline bundle create --state DIR --type TYPE --out DIR\n"
"           [--generation N] --share FILE [--passin SPEC]... FILE...\n"
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
	long generation;			/* --generation: the root that
						 * signs (create); 0 = current */
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
			if ((r = hk_opt_once(&o->type, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(argv[i], "--out") == 0) {
			if ((r = hk_opt_once(&o->out, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(argv[i], "--generation") == 0) {
			const char *v = hk_opt_value(argc, argv, &i);
			char *end;
			if (v == NULL)
				return HK_ERR_USAGE;
			if (o->generation != 0) {
				char g[24];

				snprintf(g, sizeof(g), "%ld", o->generation);
				return hk_err_twice("--generation", g, v);
			}
			o->generation = strtol(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' ||
			    o->generation < 1 ||
			    o->generation > 999) {
				hk_err_set("--generation %s: a root generation "
				    "number (1..999)", v);
				return HK_ERR_USAGE;
			}
		} else if (strcmp(argv[i], "--into") == 0) {
			if ((r = hk_opt_once(&o->into, argc, argv, &i)) != 0)
				return r;
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
/* Two bundle names (SPEC 3: ASCII) equal but for the case of letters:
 * compared byte by byte, whatever the locale. */
static int
name_casefold_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;

		if (x != y)
			return 0;
		if (x == '\0')
			return 1;
	}
}

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

/*
 * A root generation's certificate (and key URI): want 0 = the current one,
 * -1 = the first (the anchor readers pin), N = generation N. An older
 * generation signs, for instance, the bundle that announces its successor
 * to readers that do not know the link yet; a destroyed or compromised one
 * never signs.
 */
static int
current_root(struct hk_ca *ca, long want, X509 **cert, const char **uri,
    int compromised_ok)
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
	if (want > gen) {
		hk_err_set("--generation %ld: the CA has %ld root generations",
		    want, gen);
		return HK_ERR_USAGE;
	}
	if (want == -1)
		gen = 1;
	else if (want > 0)
		gen = want;
	if (uri != NULL) {
		snprintf(key, sizeof(key), "root.%ld.destroyed", gen);
		if (hk_state_get(ca->st, key) != NULL) {
			hk_err_set("root generation %ld was destroyed; it signs "
			    "nothing", gen);
			return HK_ERR_STATE;
		}
		snprintf(key, sizeof(key), "root.%ld.compromised", gen);
		if (hk_state_get(ca->st, key) != NULL && !compromised_ok) {
			hk_err_set("root generation %ld is compromised; it signs "
			    "nothing (but a bundle of its own ARLs, type "
			    "arl-batch: docs/ceremony-lifecycle.md "
			    "\"compromise\")", gen);
			return HK_ERR_STATE;
		}
	}
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

/*
 * A root generation marked compromised signs nothing more, but for one
 * thing: a bundle of ARLs it signed itself (CPS 4-14-2: the revocations
 * recorded in the ARL and published). When that generation is the current
 * one, its emergency ARL is signed by it and no other key can carry it to
 * the online side; the compromise ceremony commits the mark after that
 * ARL, and a compromised key signs no ARL afterwards (arl-batch refuses
 * it), so every ARL it verifies was made before the mark. The bundle's
 * own signature adds nothing a holder of the lost key could not make.
 * *gen = the generation when the bundle is such a bundle, 0 when the
 * signer is not marked compromised; an error when it is and the bundle
 * is anything else.
 */
static int
own_arls(struct hk_ca *ca, const struct bundle_opts *o,
    const struct hk_bundle_file *files, long *gen)
{
	const char *g = hk_state_get(ca->st, "root.generations");
	char key[64];
	X509 *root = NULL;
	long want = o->generation > 0 ? o->generation :
	    (g ? strtol(g, NULL, 10) : 0);
	int i, r = 0;

	*gen = 0;
	snprintf(key, sizeof(key), "root.%ld.compromised", want);
	if (want < 1 || hk_state_get(ca->st, key) == NULL ||
	    strcmp(o->type, "arl-batch") != 0)
		return 0;	/* current_root says what is wrong, if anything */
	if ((r = current_root(ca, want, &root, NULL, 0)) != 0)
		return r;
	for (i = 0; i < o->nargs && r == 0; i++) {
		const unsigned char *p = files[i].data;
		X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)files[i].len);

		if (c == NULL || p != files[i].data + files[i].len ||
		    X509_CRL_verify(c, X509_get0_pubkey(root)) != 1) {
			hk_err_set("%s: root generation %ld is compromised "
			    "(%s = %s): it signs a bundle of its own ARLs only, "
			    "and this is not an ARL (DER) its key signed",
			    o->args[i], want, key, hk_state_get(ca->st, key));
			r = HK_ERR_STATE;
		}
		X509_CRL_free(c);
	}
	ERR_clear_error();
	X509_free(root);
	if (r == 0)
		*gen = want;
	return r;
}

/*
 * An arl-batch bundle carries committed ARLs only: an ARL (DER CRL) whose
 * cRLNumber is above state.conf's arl.last-number was made by a ceremony
 * run that was killed before its arl-commit, and the next run's recovery
 * removes it and signs that number again (docs/ceremonies.md "Killed
 * runs"); carried online, it would make the real one refused there (the
 * numbers only increase). Files that are not a DER CRL are left to the
 * online reader.
 */
static int
arls_committed(struct hk_ca *ca, const struct bundle_opts *o,
    const struct hk_bundle_file *files)
{
	const char *last = hk_state_get(ca->st, "arl.last-number");
	long committed = last != NULL ? strtol(last, NULL, 10) : 0;
	int i, r = 0;

	if (strcmp(o->type, "arl-batch") != 0)
		return 0;
	for (i = 0; i < o->nargs && r == 0; i++) {
		const unsigned char *p = files[i].data;
		X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)files[i].len);
		ASN1_INTEGER *num = c != NULL ? X509_CRL_get_ext_d2i(c,
		    NID_crl_number, NULL, NULL) : NULL;
		long n = num != NULL ? ASN1_INTEGER_get(num) : -1;

		if (c != NULL && p == files[i].data + files[i].len &&
		    num != NULL && (n < 0 || n > committed)) {
			hk_err_set("%s: cRLNumber %ld is above arl.last-number "
			    "%ld: an ARL no arl-commit took over (a killed "
			    "run's, which the next ceremony run removes and "
			    "signs again: docs/ceremonies.md \"Killed runs\"); "
			    "nothing bundled", o->args[i], n, committed);
			r = HK_ERR_STATE;
		}
		ASN1_INTEGER_free(num);
		X509_CRL_free(c);
	}
	ERR_clear_error();
	return r;
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
	uint64_t seq = 0, total = 0;
	long emergency = 0;
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
	/* Read and check every input before the quorum is asked for (and
	 * before a sequence number is spent): names, one file each, sizes. */
	for (i = 0; i < o->nargs; i++) {
		char tmp[4096];
		size_t len;
		int j;

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
		for (j = 0; j < i; j++) {
			if (strcmp(name[j], name[i]) == 0) {
				hk_err_set("%s: SPEC 4.1: its name %s is also "
				    "the name of %s; a bundle holds each name "
				    "once", o->args[i], name[i], o->args[j]);
				r = HK_ERR_INVALID;
				goto fail;
			}
			/* FAT and exFAT, the media a bundle travels on, fold
			 * case: the second file could not be written there */
			if (name_casefold_eq(name[j], name[i])) {
				hk_err_set("%s: SPEC 3: its name %s differs from "
				    "%s's, %s, only in case; a FAT or exFAT "
				    "medium holds one file of the two (rename "
				    "one)", o->args[i], name[i], o->args[j],
				    name[j]);
				r = HK_ERR_INVALID;
				goto fail;
			}
		}
		if ((r = hk_file_read(o->args[i], HK_BUNDLE_MAX_FILE, &data[i],
		    &len)) != 0)
			goto fail;
		files[i].name = name[i];
		files[i].data = data[i];
		files[i].len = len;
		if ((total += len) > HK_BUNDLE_MAX_TOTAL) {
			hk_err_set("%s: SPEC 5: the files up to this one hold "
			    "%" PRIu64 " bytes, more than the %u of a bundle",
			    o->args[i], total, HK_BUNDLE_MAX_TOTAL);
			r = HK_ERR_INVALID;
			goto fail;
		}
	}
	if ((r = arls_committed(ca, o, files)) != 0 ||
	    (r = own_arls(ca, o, files, &emergency)) != 0 ||
	    (r = current_root(ca, o->generation, &cert, &uri,
	    emergency > 0)) != 0)
		goto fail;
	if (hk_path_exists(o->out)) {
		hk_err_set("%s: already exists; refusing to overwrite", o->out);
		r = HK_ERR_EXISTS;
		goto fail;
	}
	/* Nothing is activated or signed unless logged. */
	if ((r = hk_ca_audit(ca, "bundle.create.start", "ok", "-", "%s: type "
	    "%s, %d files", o->out, o->type, o->nargs)) != 0 ||
	    (r = hk_ca_activate(ca, o->shares, o->nshares)) != 0)
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
	/* A bundle the log does not hold is removed again (its sequence
	 * number stays spent). */
	if ((r = hk_ca_audit(ca, "bundle.create", "ok", ca->actors, "%s: type "
	    "%s, sequence %" PRIu64 ", %d files, manifest sha256 %s%s", o->out,
	    o->type, seq, o->nargs, hx, emergency > 0 ? "; signed by a root "
	    "generation marked compromised: its own ARLs, made before the "
	    "mark (CPS 4-14-2)" : "")) != 0) {
		struct hk_err_kept why;
		hk_err_keep(&why);
		if (hk_tree_remove(o->out) != 0)
			hk_err_set("%s; and the bundle %s could not be removed: "
			    "do not carry it", why.msg, o->out);
		else
			hk_err_set("%s; the bundle %s was removed", why.msg,
			    o->out);
		goto fail;
	}
	if ((r = hk_ca_checkpoint(ca)) != 0)
		goto out;
	printf("Bundle %s: type %s, sequence %" PRIu64 ", %d file(s)\n"
	    "manifest SHA-256: %s\n", o->out, o->type, seq, o->nargs, hx);
	if (emergency > 0)
		printf("Signed by root generation %ld, marked compromised: its "
		    "own ARLs, made before the mark. Import it online and "
		    "publish --now before hanko-online trust --compromised "
		    "%ld, which refuses every bundle this key signs "
		    "(docs/ceremony-lifecycle.md \"compromise\").\n",
		    emergency, emergency);
	goto out;
 fail:
	if (ca != NULL) {
		hk_ca_audit_warn(ca, "bundle.create", "fail", ca->actors, "%s "
		    "(sequence %" PRIu64 "): %s", o->out, seq, hk_err_msg());
		hk_life_checkpoint_keep_err(ca);
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
	const char *g;
	long gen;
	int i, r;

	t->anchor = NULL;
	t->links = NULL;
	if ((r = current_root(ca, -1, &t->anchor, NULL, 0)) != 0)
		return r;
	if ((t->links = sk_X509_new_null()) == NULL)
		return HK_ERR_ALLOC;
	/* The CA's own NewWithOld links (its rollover ceremonies made them). */
	g = hk_state_get(ca->st, "root.generations");
	for (gen = 2; g != NULL && gen <= strtol(g, NULL, 10) &&
	    sk_X509_num(t->links) < HK_BUNDLE_MAX_LINKS; gen++) {
		char key[64], path[4096];
		const char *rel;
		X509 *l = NULL;
		snprintf(key, sizeof(key), "link.%ld.new-with-old", gen);
		if ((rel = hk_state_get(ca->st, key)) == NULL)
			continue;
		if ((r = hk_state_path(ca->st, rel, path, sizeof(path))) != 0 ||
		    (r = hk_cert_read(path, &l)) != 0)
			return r;
		if (!sk_X509_push(t->links, l)) {
			X509_free(l);
			return HK_ERR_ALLOC;
		}
	}
	if (sk_X509_num(t->links) + o->nlinks > HK_BUNDLE_MAX_LINKS) {
		hk_err_set("--link: SPEC 5: at most %d link certificates with "
		    "the state's own", HK_BUNDLE_MAX_LINKS);
		return HK_ERR_USAGE;
	}
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
	/* The operators compare it with the ceremony record or the transfer
	 * form, where bundle create's (or request's) is written. */
	hk_hex_encode(m->digest, 32, hx);
	printf("manifest SHA-256: %s\n", hx);
	for (i = 0; i < m->nfiles; i++) {
		hk_hex_encode(m->files[i].sha256, 32, hx);
		printf("  %s  %" PRIu64 "  %s\n", hx, m->files[i].size,
		    m->files[i].name);
	}
}

/* What the online-signer rule found, for the operators (SPEC 13). */
struct online_check {
	struct hk_ca *ca;
	int online;			/* 1: signed by the issuing CA */
	long issuing;			/* its generation (issuing.current) */
	char signer_serial[43];
	int csr_gen;			/* csr: the request's generation */
	char csr_hex[65];
	struct hk_revreq q;		/* revocation-request */
	char q_kind[24], q_status[300];
	unsigned char *note;		/* revocation-note.txt, or NULL */
	size_t note_len;
};

static int
self_signed(X509 *x)
{
	int r = X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)) == 0 &&
	    X509_verify(x, X509_get0_pubkey(x)) == 1;

	ERR_clear_error();
	return r;
}

/* Is the manifest's file set exactly these names (the second optional)? */
static int
files_are(const struct hk_bundle_manifest *m, const char *a, const char *b,
    int b_optional)
{
	int has_a = 0, has_b = 0;
	size_t i;

	for (i = 0; i < m->nfiles; i++) {
		if (strcmp(m->files[i].name, a) == 0)
			has_a = 1;
		else if (b != NULL && strcmp(m->files[i].name, b) == 0)
			has_b = 1;
		else
			return 0;
	}
	return has_a && (b == NULL || has_b || b_optional);
}

/* csr: issuing-<n>.csr.der (n = issuing.current + 1) and its SHA-256. */
static int
check_csr(struct online_check *k, const struct hk_bundle_manifest *m,
    const char *dir)
{
	char der[64], sha[64], path[4200], line[66];
	unsigned char *buf = NULL, d[32];
	size_t len;
	X509_REQ *req = NULL;
	int r;

	k->csr_gen = (int)k->issuing + 1;
	snprintf(der, sizeof(der), "issuing-%d.csr.der", k->csr_gen);
	snprintf(sha, sizeof(sha), "issuing-%d.csr.sha256", k->csr_gen);
	if (!files_are(m, der, sha, 0)) {
		hk_err_set("%s/manifest: files: SPEC 13.2: a csr bundle of the "
		    "issuing CA carries exactly %s and %s (the next issuing "
		    "generation is %d)", dir, der, sha, k->csr_gen);
		return HK_ERR_INVALID;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, der);
	if ((r = hk_file_read(path, HK_BUNDLE_MAX_FILE, &buf, &len)) != 0)
		return r;
	if ((r = hk_csr_parse(buf, len, path, &req)) != 0 ||
	    (r = hk_csr_check(req, path, NULL, NULL, 0)) != 0)
		goto out;
	if (len < 2 || buf[0] != 0x30) {
		hk_err_set("%s: SPEC 13.2: the request must be DER", path);
		r = HK_ERR_PARSE;
		goto out;
	}
	SHA256(buf, len, d);
	hk_hex_encode(d, 32, k->csr_hex);
	free(buf);
	buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, sha);
	if ((r = hk_file_read(path, 128, &buf, &len)) != 0)
		goto out;
	snprintf(line, sizeof(line), "%s\n", k->csr_hex);
	if (len != 65 || memcmp(buf, line, 65) != 0) {
		hk_err_set("%s: SPEC 13.2: not the SHA-256 of %s (64 lowercase "
		    "hex digits and a newline)", path, der);
		r = HK_ERR_INVALID;
	}
 out:
	free(buf);
	X509_REQ_free(req);
	return r;
}

/* revocation-request: the document names an issuing CA certificate of
 * issued.txt (serial and SHA-256) that is not revoked yet. */
static int
check_revreq(struct online_check *k, const struct hk_bundle_manifest *m,
    const char *dir, struct hk_issued *reg)
{
	struct hk_issued_entry *e;
	unsigned char *buf = NULL;
	char path[4200], hx[65];
	size_t len;
	int r;

	if (!files_are(m, HK_REVREQ_FILE, HK_REVREQ_NOTE, 1)) {
		hk_err_set("%s/manifest: files: SPEC 13.3: a revocation-request "
		    "bundle carries %s and optionally %s, nothing else", dir,
		    HK_REVREQ_FILE, HK_REVREQ_NOTE);
		return HK_ERR_INVALID;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, HK_REVREQ_FILE);
	if ((r = hk_file_read(path, HK_REVREQ_MAX, &buf, &len)) != 0)
		return r;
	r = hk_revreq_parse(buf, len, path, &k->q);
	free(buf);
	if (r != 0)
		return r;
	if ((e = hk_issued_find(reg, k->q.serial)) == NULL ||
	    strcmp(e->kind, "issuing") != 0) {
		hk_err_set("%s:2: serial: SPEC 13.3: %s is not an issuing CA "
		    "certificate in %s", path, k->q.serial, HK_ISSUED_FILE);
		return HK_ERR_INVALID;
	}
	hk_hex_encode(k->q.cert_sha256, 32, hx);
	if (strcmp(hx, e->sha256) != 0) {
		hk_err_set("%s:3: certificate: SPEC 13.3: not the SHA-256 of "
		    "serial %s in %s (%s)", path, k->q.serial, HK_ISSUED_FILE,
		    e->sha256);
		return HK_ERR_INVALID;
	}
	if (e->revoked) {
		hk_err_set("%s:2: serial: SPEC 13.3: %s is already revoked in "
		    "%s (reason %d)", path, k->q.serial, HK_ISSUED_FILE,
		    e->reason);
		return HK_ERR_INVALID;
	}
	snprintf(k->q_kind, sizeof(k->q_kind), "%s", e->kind);
	snprintf(k->q_status, sizeof(k->q_status), "valid, %s", e->file);
	if (m->nfiles == 2) {
		snprintf(path, sizeof(path), "%s/%s", dir, HK_REVREQ_NOTE);
		if ((r = hk_file_read(path, HK_REVREQ_NOTE_MAX, &k->note,
		    &k->note_len)) != 0)
			return r;
	}
	return 0;
}

/*
 * SPEC 6.2 (a) at this reader: a root generation's signature counts only
 * while the state does not mark that generation compromised (CPS 4-14-2:
 * its key may be in other hands; this CA never signs with it again).
 */
static int
root_signer_ok(struct hk_ca *ca, X509 *signer, const char *dir)
{
	const char *gens = hk_state_get(ca->st, "root.generations");
	const char *when;
	char key[64];
	long g, ng = gens ? strtol(gens, NULL, 10) : 0;
	int r, same;

	for (g = 1; g <= ng; g++) {
		X509 *root = NULL;

		snprintf(key, sizeof(key), "root.%ld.compromised", g);
		if ((when = hk_state_get(ca->st, key)) == NULL)
			continue;
		if ((r = current_root(ca, g, &root, NULL, 0)) != 0)
			return r;
		same = EVP_PKEY_eq(X509_get0_pubkey(root),
		    X509_get0_pubkey(signer)) == 1;
		X509_free(root);
		ERR_clear_error();
		if (same) {
			hk_err_set("%s/manifest.sig: signer: SPEC 6.2: root "
			    "generation %ld, marked compromised (root.%ld."
			    "compromised = %s); its key signs nothing", dir, g,
			    g, when);
			return HK_ERR_VERIFY;
		}
	}
	return 0;
}

/*
 * SPEC 13.4: a bundle whose signer is not a root generation must come from
 * the CA's current issuing CA: that exact certificate, issued by a root
 * generation not marked compromised, not revoked; type csr or
 * revocation-request; contents as 13.2 / 13.3.
 */
static int
online_rule(X509 *signer, const struct hk_bundle_manifest *m, const char *dir,
    void *arg)
{
	struct online_check *k = arg;
	struct hk_ca *ca = k->ca;
	struct hk_issued *reg = NULL;
	struct hk_issued_entry *e;
	const char *cur, *rel, *gens;
	char key[64], path[4096], tm[32];
	X509 *mine = NULL;
	long g, ng;
	int r, by = 0;

	if (self_signed(signer))	/* a root generation: SPEC 6.2 (a) */
		return root_signer_ok(ca, signer, dir);
	k->online = 1;
	if (strcmp(m->type, "csr") != 0 &&
	    strcmp(m->type, "revocation-request") != 0) {
		hk_err_set("%s/manifest: type: SPEC 13.1: a bundle signed by "
		    "the issuing CA carries csr or revocation-request only, not "
		    "\"%s\"", dir, m->type);
		return HK_ERR_INVALID;
	}
	if ((cur = hk_state_get(ca->st, "issuing.current")) == NULL ||
	    (k->issuing = strtol(cur, NULL, 10)) < 1) {
		hk_err_set("%s/manifest.sig: signer: SPEC 13.4: this CA has "
		    "issued no issuing CA certificate (issuing.current unset)",
		    dir);
		return HK_ERR_VERIFY;
	}
	snprintf(key, sizeof(key), "issuing.%ld.cert", k->issuing);
	if ((rel = hk_state_get(ca->st, key)) == NULL) {
		hk_err_set("%s/state.conf: %s missing", ca->st->dir, key);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(ca->st, rel, path, sizeof(path))) != 0 ||
	    (r = hk_cert_read(path, &mine)) != 0)
		return r;
	r = X509_cmp(signer, mine);
	X509_free(mine);
	if (r != 0) {
		hk_err_set("%s/manifest.sig: signer: SPEC 13.4: not the CA's "
		    "current issuing CA certificate (issuing.current = %ld, "
		    "%s)", dir, k->issuing, rel);
		return HK_ERR_VERIFY;
	}
	gens = hk_state_get(ca->st, "root.generations");
	ng = gens ? strtol(gens, NULL, 10) : 0;
	for (g = ng; g >= 1 && !by; g--) {
		X509 *root = NULL;
		snprintf(key, sizeof(key), "root.%ld.cert", g);
		if ((rel = hk_state_get(ca->st, key)) == NULL ||
		    hk_state_path(ca->st, rel, path, sizeof(path)) != 0 ||
		    hk_cert_read(path, &root) != 0)
			continue;
		if (X509_verify(signer, X509_get0_pubkey(root)) == 1) {
			snprintf(key, sizeof(key), "root.%ld.compromised", g);
			by = hk_state_get(ca->st, key) ? -1 : 1;
			if (by < 0) {
				hk_err_set("%s/manifest.sig: signer: SPEC 13.4: "
				    "issued by root generation %ld, marked "
				    "compromised", dir, g);
			}
		}
		X509_free(root);
	}
	ERR_clear_error();
	hk_err_clear();
	if (by != 1) {
		if (by == 0)
			hk_err_set("%s/manifest.sig: signer: SPEC 13.4: not "
			    "issued by a root generation of this CA", dir);
		else
			hk_err_set("%s/manifest.sig: signer: SPEC 13.4: "
			    "issued by a root generation marked compromised",
			    dir);
		return HK_ERR_VERIFY;
	}
	if ((r = hk_issued_serial_hex(signer, k->signer_serial,
	    sizeof(k->signer_serial))) != 0 ||
	    (r = hk_issued_load(ca->st->dir, &reg)) != 0)
		return r;
	if ((e = hk_issued_find(reg, k->signer_serial)) == NULL) {
		hk_err_set("%s/manifest.sig: signer: SPEC 13.4: serial %s is "
		    "not in %s", dir, k->signer_serial, HK_ISSUED_FILE);
		r = HK_ERR_VERIFY;
	} else if (e->revoked) {
		hk_time_format(e->revoked_at, tm, sizeof(tm));
		hk_err_set("%s/manifest.sig: signer: SPEC 13.4: issuing CA "
		    "certificate serial %s is revoked in %s (%s, reason %d)",
		    dir, k->signer_serial, HK_ISSUED_FILE, tm, e->reason);
		r = HK_ERR_VERIFY;
	} else if (strcmp(m->type, "csr") == 0)
		r = check_csr(k, m, dir);
	else
		r = check_revreq(k, m, dir, reg);
	hk_issued_free(reg);
	return r;
}

/* The note, for a terminal: printable ASCII, tab and newline as they are,
 * every other byte as \xNN (never passed through raw). */
static void
print_note(const unsigned char *p, size_t n)
{
	size_t i;

	fputs("  note (free text, not a signed field; shown escaped):\n    ",
	    stdout);
	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs(i + 1 < n ? "\n    " : "", stdout);
		else if (p[i] == '\t' || (p[i] >= 0x20 && p[i] < 0x7f))
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	putchar('\n');
}

static void
print_online(const struct online_check *k, const char *where)
{
	char hx[65], tm[32];

	if (!k->online)
		return;
	printf("Signed by issuing CA generation %ld (serial %s): current, not "
	    "revoked.\n", k->issuing, k->signer_serial);
	if (k->csr_gen > 0) {
		printf("Request for issuing generation %d, SHA-256 %s\n"
		    "For the issue-subca ceremony:\n"
		    "  --input issuing-csr=%s/issuing-%d.csr.der "
		    "--input issuing-csr-sha256=%s/issuing-%d.csr.sha256\n",
		    k->csr_gen, k->csr_hex, where, k->csr_gen, where,
		    k->csr_gen);
		return;
	}
	hk_hex_encode(k->q.cert_sha256, 32, hx);
	hk_time_format(k->q.requested, tm, sizeof(tm));
	printf("Revocation request: serial %s (%s, %s)\n  certificate SHA-256 "
	    "%s\n  reason %d (%s)\n  requested %s\n", k->q.serial, k->q_kind,
	    k->q_status, hx, k->q.reason, hk_revreq_reason_name(k->q.reason),
	    tm);
	if (k->note != NULL)
		print_note(k->note, k->note_len);
	printf("For the revoke ceremony (revoke.yaml): serial: \"%s\", "
	    "reason: %s\n", k->q.serial, hk_revreq_reason_name(k->q.reason));
}

static int
bundle_verify_or_import(struct bundle_opts *o, int import)
{
	struct hk_bundle_trust t = { NULL, NULL };
	struct online_check oc;
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
	memset(&oc, 0, sizeof(oc));
	if ((r = hk_ca_open(&o->c, import ? "bundle import" : "bundle verify",
	    &ca)) != 0)
		return r;
	if ((r = load_trust(ca, o, &t)) != 0 ||
	    (r = hk_state_path(ca->st, "bundles.seen", seen, sizeof(seen))) != 0)
		goto fail;
	oc.ca = ca;
	if (import) {
		/* Nothing is imported unless logged. */
		if ((r = hk_ca_audit(ca, "bundle.import.start", "ok", "-",
		    "%s into %s", src, o->into)) != 0 ||
		    (r = hk_bundle_import_rule(src, o->into, seen, &t, o->type,
		    online_rule, &oc, &m)) != 0)
			goto fail;
		/* Imported (renamed into place, the sequence recorded): a
		 * record lost now is exit 6, nothing is undone. */
		if ((r = hk_ca_audit(ca, "bundle.import", "ok", "-", "%s into "
		    "%s: type %s, sequence %" PRIu64 "%s%s", src, o->into,
		    m->type, m->sequence, oc.online ? "; signed by issuing CA "
		    "serial " : "", oc.online ? oc.signer_serial : "")) != 0)
			goto out;
		print_manifest(m, o->into);
		print_online(&oc, o->into);
		printf("Imported.\n");
	} else {
		if ((r = hk_bundle_verify_rule(src, &t, online_rule, &oc,
		    &m)) != 0)
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
		if ((r = hk_ca_audit(ca, "bundle.verify", "ok", "-", "%s: type "
		    "%s, sequence %" PRIu64, src, m->type, m->sequence)) != 0)
			goto out;
		print_manifest(m, src);
		print_online(&oc, src);
		printf("Verified (not imported).\n");
	}
	goto out;
 fail:
	if (ca != NULL)
		hk_ca_audit_warn(ca, import ? "bundle.import" :
		    "bundle.verify", "fail", "-", "%s", hk_err_msg());
 out:
	free(oc.note);
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
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: create, verify or import (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(bundle_usage, stdout);
		return 0;
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
