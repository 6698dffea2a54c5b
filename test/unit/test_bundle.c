/* test_bundle.c - signed bundles (media-format/SPEC.md): write, verify,
 * every bit flip and truncation refused, file set, names, links, device,
 * replay, all-or-nothing import, root generations through links (also
 * after the anchor and the links ended), the
 * stock `openssl cms -verify` command, and the committed vectors; each
 * limit exactly and one past it (names, sizes, sequences, links, seen
 * signers), the digests and DER of manifest.sig, signers certified by a
 * root generation, a reader's rule, a read error, revocation requests,
 * and the sanitised names in messages. */
/* read(2) is replaced below; glibc's fortified inline read would clash. */
#undef _FORTIFY_SOURCE
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "bundle.h"
#include "cert.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "testutil.h"

static EVP_PKEY *
load_key(const char *name)
{
	char path[4096];
	FILE *f;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/cert/%s", HK_TEST_DATA, name);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(k);
	return k;
}

static void
add_ext(X509 *c, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	cr_assert_not_null(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val));
	cr_assert(X509_add_ext(c, e, -1));
	X509_EXTENSION_free(e);
}

/* An unsigned CA certificate "C=JP, CN=<cn>" for pub, issued under
 * issuer_dn (NULL: its own subject), valid from `from` to `to` days after
 * the real now; no extensions yet. */
static X509 *
ca_skeleton(EVP_PKEY *pub, const X509_NAME *issuer_dn, long serial,
    const char *cn, long from, long to)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, n);
	X509_set_issuer_name(c, issuer_dn != NULL ? issuer_dn : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(c), 86400L * from);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400L * to);
	X509_set_pubkey(c, pub);
	return c;
}

/* A root-like CA certificate for subject key pub, signed by signer
 * (issuer = the same DN: self-signed or a NewWithOld link), valid from
 * `from` to `to` days after the real now. */
static X509 *
make_cert_at(EVP_PKEY *pub, EVP_PKEY *signer, X509 *issuer, long serial,
    const char *cn, long from, long to)
{
	X509 *c = ca_skeleton(pub, NULL, serial, cn, from, to);

	add_ext(c, issuer ? issuer : c, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(c, issuer ? issuer : c, NID_key_usage,
	    "critical,keyCertSign,cRLSign");
	add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(c, issuer, NID_authority_key_identifier, "keyid:always");
	cr_assert(X509_sign(c, signer, EVP_sha256()) > 0);
	return c;
}

/* The same, valid from yesterday for 10 years. */
static X509 *
make_cert(EVP_PKEY *pub, EVP_PKEY *signer, X509 *issuer, long serial,
    const char *cn)
{
	return make_cert_at(pub, signer, issuer, serial, cn, -1, 3650);
}

static EVP_PKEY *k1, *k2, *kx;
static X509 *root1, *root2, *link21, *foreign;

static void
setup(void)
{
	hk_clock_unset();
	k1 = load_key("rsa2048.pem");
	k2 = load_key("rsa3072.pem");
	kx = load_key("p384.pem");
	root1 = make_cert(k1, k1, NULL, 1, "Test Root");
	root2 = make_cert(k2, k2, NULL, 2, "Test Root");
	link21 = make_cert(k2, k1, root1, 3, "Test Root");	/* NewWithOld */
	foreign = make_cert(kx, kx, NULL, 4, "Test Root");
}

static void
teardown(void)
{
	X509_free(root1);
	X509_free(root2);
	X509_free(link21);
	X509_free(foreign);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(kx);
}

TestSuite(bundle, .init = setup, .fini = teardown);

static const unsigned char pay1[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
static const unsigned char pay2[] = { 0, 1, 2, 3, 0xff, 0xfe, 'x', '\n' };

static void
write_sample(const char *out, uint64_t seq, EVP_PKEY *k, X509 *c)
{
	struct hk_bundle_file f[2] = {
		{ "issuing-ca.csr", pay1, sizeof(pay1) - 1 },
		{ "notes_1.bin", pay2, sizeof(pay2) },
	};
	int r = hk_bundle_write(out, "csr", seq, 1775001600, f, 2, k, c,
	    NULL);
	cr_assert_eq(r, 0, "%s", hk_err_msg());
}

/* The same for a signer that is not a root: checked against check. */
static void
write_sample_trust(const char *out, uint64_t seq, EVP_PKEY *k, X509 *c,
    const struct hk_bundle_trust *check)
{
	struct hk_bundle_file f[2] = {
		{ "issuing-ca.csr", pay1, sizeof(pay1) - 1 },
		{ "notes_1.bin", pay2, sizeof(pay2) },
	};
	int r = hk_bundle_write_trust(out, "csr", seq, 1775001600, f, 2, k, c,
	    check, NULL);
	cr_assert_eq(r, 0, "%s", hk_err_msg());
}

static int
verify1(const char *dir)
{
	struct hk_bundle_trust t = { root1, NULL };
	return hk_bundle_verify(dir, &t, NULL);
}

Test(bundle, writes_and_verifies)
{
	const char *d = hk_test_dir("bundle-rt");
	struct hk_bundle_trust t = { root1, NULL };
	struct hk_bundle_manifest *m = NULL;
	char out[1024], path[4096];
	unsigned char *buf;
	size_t len;

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 7, k1, root1);
	cr_assert_eq(hk_bundle_verify(out, &t, &m), 0, "%s", hk_err_msg());
	cr_assert_str_eq(m->type, "csr");
	cr_assert_eq(m->sequence, 7);
	cr_assert_eq(m->nfiles, 2);
	cr_assert_str_eq(m->files[0].name, "issuing-ca.csr");
	hk_bundle_manifest_free(m);
	snprintf(path, sizeof(path), "%s/manifest", out);
	buf = hk_test_read(path, &len);
	cr_assert(len > 20 && memcmp(buf, "hanko-bundle 1\ntype csr\n"
	    "sequence 7\ncreated 2026-04-01T00:00:00Z\nsigner ", 62) == 0,
	    "%.*s", (int)len, buf);
	free(buf);
	/* Never overwritten. */
	struct hk_bundle_file f = { "a", pay2, 1 };
	cr_assert_eq(hk_bundle_write(out, "csr", 8, 0, &f, 1, k1, root1, NULL),
	    HK_ERR_EXISTS);
	/* Names that leave the bundle cannot be written either. */
	snprintf(out, sizeof(out), "%s/c", d);
	f.name = "../x";
	cr_assert_eq(hk_bundle_write(out, "csr", 8, 0, &f, 1, k1, root1, NULL),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_path_exists(out), 0);
}

/* Flip every bit of every file once; each must be refused. */
Test(bundle, every_bit_flip_and_truncation_refused, .timeout = 600)
{
	const char *d = hk_test_dir("bundle-flip");
	const char *names[] = { "manifest", "manifest.sig", "issuing-ca.csr",
	    "notes_1.bin" };
	char out[1024], path[4096];
	size_t i, j, len, flips[4] = { 0 }, cuts[4] = { 0 }, total = 0;
	unsigned char *orig, *buf;
	char acc[1024] = "";
	size_t nacc = 0, ml = 0;
	int b;

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 1, k1, root1);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", out, names[i]);
		orig = hk_test_read(path, &len);
		buf = malloc(len);
		for (j = 0; j < len; j++) {
			for (b = 0; b < 8; b++) {
				memcpy(buf, orig, len);
				buf[j] ^= (unsigned char)(1u << b);
				unlink(path);
				hk_test_write(path, buf, len);
				if (verify1(out) == 0 && nacc++ < 20)
					ml += (size_t)snprintf(acc + ml,
					    sizeof(acc) - ml, " %s:%zu:%d",
					    names[i], j, b);
				flips[i]++;
			}
		}
		for (j = 0; j < len; j++) {	/* every truncation */
			unlink(path);
			hk_test_write(path, orig, j);
			cr_assert_neq(verify1(out), 0, "%s cut to %zu accepted",
			    names[i], j);
			cuts[i]++;
		}
		unlink(path);
		hk_test_write(path, orig, len);
		cr_assert_eq(verify1(out), 0, "%s", hk_err_msg());
		total += flips[i] + cuts[i];
		free(orig);
		free(buf);
	}
	cr_log_info("bit flips refused: manifest %zu, signature %zu, payloads "
	    "%zu + %zu; truncations %zu; total %zu", flips[0], flips[1],
	    flips[2], flips[3], cuts[0] + cuts[1] + cuts[2] + cuts[3], total);
	printf("bundle: %zu bit flips and %zu truncations refused "
	    "(manifest %zu, manifest.sig %zu, payloads %zu)\n",
	    flips[0] + flips[1] + flips[2] + flips[3],
	    cuts[0] + cuts[1] + cuts[2] + cuts[3], flips[0], flips[1],
	    flips[2] + flips[3]);
	cr_assert_eq(nacc, 0, "%zu flips accepted (file:byte:bit):%s", nacc,
	    acc);
	cr_assert(flips[1] > 8000);
}

static void
expect_refused(const char *dir, const char *pattern)
{
	int r = verify1(dir);
	cr_assert_neq(r, 0, "accepted: %s", dir);
	cr_assert(strstr(hk_err_msg(), pattern) != NULL, "\"%s\" lacks \"%s\"",
	    hk_err_msg(), pattern);
}

Test(bundle, file_set_names_links_devices)
{
	const char *d = hk_test_dir("bundle-set");
	char out[1024], path[4096], p2[4096];

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 1, k1, root1);
	/* extra file */
	snprintf(path, sizeof(path), "%s/extra.txt", out);
	hk_test_write(path, "x", 1);
	expect_refused(out, "extra.txt: SPEC 7: not listed");
	unlink(path);
	/* dotfile, odd byte, '..' */
	snprintf(path, sizeof(path), "%s/.hidden", out);
	hk_test_write(path, "x", 1);
	expect_refused(out, "starts with '.'");
	unlink(path);
	snprintf(path, sizeof(path), "%s/a..b", out);
	hk_test_write(path, "x", 1);
	expect_refused(out, "contains '..'");
	unlink(path);
	snprintf(path, sizeof(path), "%s/sp ace", out);
	hk_test_write(path, "x", 1);
	expect_refused(out, "outside [A-Za-z0-9._-]");
	unlink(path);
	/* missing file */
	snprintf(path, sizeof(path), "%s/notes_1.bin", out);
	snprintf(p2, sizeof(p2), "%s/moved", d);
	cr_assert_eq(rename(path, p2), 0);
	expect_refused(out, "notes_1.bin: SPEC 7: listed in the manifest but "
	    "missing");
	/* symlink in place of a payload */
	cr_assert_eq(symlink(p2, path), 0);
	expect_refused(out, "a symbolic link");
	unlink(path);
	/* a subfolder */
	cr_assert_eq(mkdir(path, 0700), 0);
	expect_refused(out, "a folder");
	rmdir(path);
	/* a fifo (device nodes need root: tried below when possible) */
	cr_assert_eq(mkfifo(path, 0600), 0);
	expect_refused(out, "a fifo or socket");
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0) {
		expect_refused(out, "a device");
		unlink(path);
	}
	/* a hard link */
	cr_assert_eq(link(p2, path), 0);
	expect_refused(out, "a hard link");
	unlink(path);
	cr_assert_eq(rename(p2, path), 0);
	cr_assert_eq(verify1(out), 0, "%s", hk_err_msg());
	/* the bundle folder itself a symlink */
	snprintf(p2, sizeof(p2), "%s/link", d);
	cr_assert_eq(symlink(out, p2), 0);
	expect_refused(p2, "not a folder (or a symbolic link)");
}

Test(bundle, manifest_names_refused)
{
	const char *bad[] = { "../etc/passwd", "/etc/passwd", "a/b", "..",
	    ".x", "manifest", "manifest.sig", "", "a b", "caf\xc3\xa9" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(hk_bundle_name_ok(bad[i]), 0, "%s", bad[i]);
	cr_assert(hk_bundle_name_ok("root-2.der"));
	cr_assert(hk_bundle_name_ok("ARL_2026-04-01.crl"));
}

Test(bundle, trust_pinned_links_foreign)
{
	const char *d = hk_test_dir("bundle-trust");
	STACK_OF(X509) *links = sk_X509_new_null();
	struct hk_bundle_trust t1 = { root1, NULL }, tl = { root1, links };
	char out[4096];

	/* signed by root generation 2 */
	snprintf(out, sizeof(out), "%s/g2", d);
	write_sample(out, 1, k2, root2);
	cr_assert_neq(hk_bundle_verify(out, &t1, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2") != NULL, "%s",
	    hk_err_msg());
	sk_X509_push(links, link21);
	cr_assert_eq(hk_bundle_verify(out, &tl, NULL), 0, "%s", hk_err_msg());
	/* a link the wrong way round (self-signed gen 2 as "link") is no
	 * link: gen 2's own certificate does not extend trust */
	sk_X509_pop(links);
	sk_X509_push(links, root2);
	cr_assert_neq(hk_bundle_verify(out, &tl, NULL), 0);
	/* a foreign key with the same name */
	snprintf(out, sizeof(out), "%s/fx", d);
	write_sample(out, 1, kx, foreign);
	cr_assert_neq(hk_bundle_verify(out, &t1, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2") != NULL, "%s",
	    hk_err_msg());
	/* expired anchor that is also the signer: the clock moved past it */
	snprintf(out, sizeof(out), "%s/g1", d);
	write_sample(out, 1, k1, root1);
	hk_clock_set(time(NULL) + 86400L * 4000);
	cr_assert_neq(hk_bundle_verify(out, &t1, NULL), 0);
	hk_clock_unset();
	cr_assert_eq(hk_bundle_verify(out, &t1, NULL), 0, "%s", hk_err_msg());
	sk_X509_free(links);
}

/*
 * SPEC 6.2: the anchor and the links are the path by which a later
 * generation's key became trusted; once they end (a NewWithOld ends with
 * the old root, PROFILE.md) the later generation's bundles still verify
 * while its own certificate is valid. The signer's validity is what is
 * checked; an anchor or a link whose validity has not begun is not used.
 */
Test(bundle, trust_outlives_anchor_and_link)
{
	const char *d = hk_test_dir("bundle-trust-expiry");
	STACK_OF(X509) *links = sk_X509_new_null(), *later = sk_X509_new_null();
	X509 *r1 = make_cert_at(k1, k1, NULL, 11, "Test Root", -1, 3650);
	X509 *r2 = make_cert_at(k2, k2, NULL, 12, "Test Root", -1, 7300);
	X509 *l21 = make_cert_at(k2, k1, r1, 13, "Test Root", -1, 3650);
	X509 *l21f = make_cert_at(k2, k1, r1, 14, "Test Root", 30, 3650);
	X509 *r1f = make_cert_at(k1, k1, NULL, 15, "Test Root", 30, 3650);
	/* valid 14 to 24 years on */
	X509 *r1n = make_cert_at(k1, k1, NULL, 16, "Test Root", 365 * 14,
	    365 * 24);
	struct hk_bundle_trust t = { r1, links }, t0 = { r1, NULL },
	    tf = { r1, later }, ta = { r1f, NULL };
	char g1[4096], g2[4096], g1n[4096];

	sk_X509_push(links, l21);
	sk_X509_push(later, l21f);
	snprintf(g1, sizeof(g1), "%s/g1", d);
	snprintf(g2, sizeof(g2), "%s/g2", d);
	write_sample(g1, 1, k1, r1);
	write_sample(g2, 1, k2, r2);
	cr_assert_eq(hk_bundle_verify(g1, &t, NULL), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_bundle_verify(g2, &t, NULL), 0, "%s", hk_err_msg());
	/* 15 years on: generation 1 and its link have ended, 2 has not */
	hk_clock_set(time(NULL) + 86400L * 365 * 15);
	cr_assert_eq(hk_bundle_verify(g2, &t, NULL), 0, "%s", hk_err_msg());
	cr_assert_neq(hk_bundle_verify(g2, &t0, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	cr_assert_neq(hk_bundle_verify(g1, &t, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "signer certificate is not valid now")
	    != NULL, "%s", hk_err_msg());
	/* generation 1's retired key dates a new self-signed certificate of
	 * its own: not the pinned root, refused (its holder picks the dates) */
	snprintf(g1n, sizeof(g1n), "%s/g1n", d);
	write_sample(g1n, 1, k1, r1n);
	cr_assert_neq(hk_bundle_verify(g1n, &t, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "has the pinned root's key but is not "
	    "the pinned root certificate") != NULL, "%s", hk_err_msg());
	/* 25 years on: generation 2 has ended too */
	hk_clock_set(time(NULL) + 86400L * 365 * 25);
	cr_assert_neq(hk_bundle_verify(g2, &t, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "signer certificate is not valid now")
	    != NULL, "%s", hk_err_msg());
	hk_clock_unset();
	/* a link whose validity has not begun is not used */
	cr_assert_neq(hk_bundle_verify(g2, &tf, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2") != NULL, "%s",
	    hk_err_msg());
	/* nor an anchor (the signer, generation 1 with the same key, is
	 * valid) */
	cr_assert_neq(hk_bundle_verify(g1, &ta, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "pinned root certificate is not valid "
	    "yet") != NULL, "%s", hk_err_msg());
	sk_X509_free(links);
	sk_X509_free(later);
	X509_free(r1);
	X509_free(r2);
	X509_free(l21);
	X509_free(l21f);
	X509_free(r1f);
	X509_free(r1n);
}

Test(bundle, import_all_or_nothing_and_replay)
{
	const char *d = hk_test_dir("bundle-import");
	struct hk_bundle_trust t = { root1, NULL };
	struct hk_bundle_manifest *m = NULL;
	char b5[1024], b6[1024], dest[1024], seen[1024], path[4096];
	unsigned char *buf;
	size_t len;

	snprintf(b5, sizeof(b5), "%s/b5", d);
	snprintf(b6, sizeof(b6), "%s/b6", d);
	snprintf(seen, sizeof(seen), "%s/bundles.seen", d);
	write_sample(b5, 5, k1, root1);
	write_sample(b6, 6, k1, root1);
	snprintf(dest, sizeof(dest), "%s/in-5", d);
	cr_assert_eq(hk_bundle_import(b5, dest, seen, &t, "csr", &m), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(m->sequence, 5);
	hk_bundle_manifest_free(m);
	snprintf(path, sizeof(path), "%s/issuing-ca.csr", dest);
	buf = hk_test_read(path, &len);
	cr_assert_eq(len, sizeof(pay1) - 1);
	free(buf);
	/* the same bundle again: a replay */
	snprintf(dest, sizeof(dest), "%s/in-5b", d);
	cr_assert_eq(hk_bundle_import(b5, dest, seen, &t, NULL, NULL),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "replay or older") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_path_exists(dest), 0);
	/* the wrong type expected */
	snprintf(dest, sizeof(dest), "%s/in-6", d);
	cr_assert_eq(hk_bundle_import(b6, dest, seen, &t, "arl-batch", NULL),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_path_exists(dest), 0);
	/* a damaged bundle leaves nothing, and the seen file unchanged */
	snprintf(path, sizeof(path), "%s/notes_1.bin", b6);
	unlink(path);
	hk_test_write(path, "tampered", 8);
	cr_assert_neq(hk_bundle_import(b6, dest, seen, &t, NULL, NULL), 0);
	cr_assert(strncmp(hk_err_msg(), b6, strlen(b6)) == 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_path_exists(dest), 0);
	unlink(path);
	hk_test_write(path, pay2, sizeof(pay2));
	cr_assert_eq(hk_bundle_import(b6, dest, seen, &t, NULL, NULL), 0, "%s",
	    hk_err_msg());
	/* older after newer */
	snprintf(b5, sizeof(b5), "%s/b4", d);
	write_sample(b5, 4, k1, root1);
	snprintf(dest, sizeof(dest), "%s/in-4", d);
	cr_assert_eq(hk_bundle_import(b5, dest, seen, &t, NULL, NULL),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "sequence: SPEC 8") != NULL);
	buf = hk_test_read(seen, &len);
	cr_assert(strstr((char *)buf, " 6\n") != NULL, "%s", buf);
	free(buf);
	/* no temporary folders left behind */
	snprintf(path, sizeof(path), "test -z \"$(ls -d '%s'/*.tmp-* "
	    "2>/dev/null)\"", d);
	cr_assert_eq(system(path), 0);
}

Test(bundle, manifest_parser_strict)
{
	const char *good = "hanko-bundle 1\ntype csr\nsequence 3\n"
	    "created 2026-04-01T00:00:00Z\n"
	    "signer 0123456789abcdef0123456789abcdef01234567\nfiles 1\n"
	    "file 0000000000000000000000000000000000000000000000000000000000000000 0 a\n"
	    "end\n";
	struct hk_bundle_manifest *m = NULL;
	const char *bad[] = {
		"hanko-bundle 2\n", "type  csr\n", "sequence 03\n",
		"sequence 0\n", "created 2026-02-30T00:00:00Z\n",
		"files 2\n", "\nend\n", "end\n\n", "type CSR\n",
	};
	char buf[1024];
	size_t i;

	cr_assert_eq(hk_bundle_manifest_parse((const unsigned char *)good,
	    strlen(good), "m", &m), 0, "%s", hk_err_msg());
	hk_bundle_manifest_free(m);
	/* Each variant replaces one line of the good manifest. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *key = bad[i][0] == '\n' ? "end\n" :
		    bad[i][0] == 'e' ? "end\n" : NULL;
		char *p;
		size_t kl;

		snprintf(buf, sizeof(buf), "%s", good);
		if (key == NULL) {
			char k[32];
			snprintf(k, sizeof(k), "%.*s", (int)strcspn(bad[i], " "),
			    bad[i]);
			p = strstr(buf, k);
			kl = strcspn(p, "\n") + 1;
		} else {
			p = strstr(buf, key);
			kl = strlen(key);
		}
		memmove(p + strlen(bad[i]), p + kl, strlen(p + kl) + 1);
		memcpy(p, bad[i], strlen(bad[i]));
		cr_assert_neq(hk_bundle_manifest_parse((unsigned char *)buf,
		    strlen(buf), "m", &m), 0, "accepted variant %zu:\n%s", i,
		    buf);
		cr_assert_null(m);
	}
}

/* The documented stock command checks our bundle (SPEC 10). */
Test(bundle, stock_openssl_cms_verify)
{
	const char *d = hk_test_dir("bundle-openssl");
	char out[1024], ca[1024], cmd[8192];
	FILE *f;

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 1, k1, root1);
	snprintf(ca, sizeof(ca), "%s/root.pem", d);
	cr_assert_not_null(f = fopen(ca, "w"));
	PEM_write_X509(f, root1);
	fclose(f);
	/* the auditor's check, verbatim from SPEC 10 */
	snprintf(cmd, sizeof(cmd), "%s/check.sh", d);
	cr_assert_not_null(f = fopen(cmd, "w"));
	fprintf(f, "set -e\ncd '%s'\n"
	    "openssl cms -verify -binary -inform DER -in manifest.sig "
	    "-content manifest -CAfile '%s' -purpose any -out /dev/null\n"
	    "awk '$1 == \"file\" { print $2 \"  \" $4 }' manifest | "
	    "sha256sum --strict -c -\n", out, ca);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "bash %s/check.sh >/dev/null 2>&1", d);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	/* and refuses a changed manifest */
	snprintf(cmd, sizeof(cmd), "cd %s && sed -i \"s/sequence 1/sequence 2/\" "
	    "manifest && ! openssl cms -verify -binary -inform DER -in "
	    "manifest.sig -content manifest -CAfile %s -purpose any "
	    "-out /dev/null 2>/dev/null", out, ca);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* media-format/vectors: every vector gives its documented result. */
Test(bundle, committed_vectors)
{
	char path[4096], line[1024], dir[4096], anchor[4096];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/media-format/vectors/EXPECTED",
	    HANKO_SOURCE_DIR);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[256], want[256], anc[256], lnk[256];
		struct hk_bundle_trust t = { NULL, NULL };
		X509 *a = NULL, *l = NULL;
		int r, k, off = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		k = sscanf(line, "%255s %255s %255s %n", name, anc, lnk, &off);
		cr_assert(k == 3 && off > 0 && line[off] != '\0', "%s", line);
		snprintf(want, sizeof(want), "%s", line + off);
		snprintf(dir, sizeof(dir), "%s/media-format/vectors/%s",
		    HANKO_SOURCE_DIR, name);
		snprintf(anchor, sizeof(anchor), "%s/media-format/vectors/%s",
		    HANKO_SOURCE_DIR, anc);
		cr_assert_eq(hk_cert_read(anchor, &a), 0, "%s", hk_err_msg());
		t.anchor = a;
		if (strcmp(lnk, "-") != 0) {
			snprintf(anchor, sizeof(anchor),
			    "%s/media-format/vectors/%s", HANKO_SOURCE_DIR, lnk);
			cr_assert_eq(hk_cert_read(anchor, &l), 0);
			t.links = sk_X509_new_null();
			sk_X509_push(t.links, l);
		}
		r = hk_bundle_verify(dir, &t, NULL);
		if (strcmp(want, "ok") == 0)
			cr_assert_eq(r, 0, "%s: %s", name, hk_err_msg());
		else
			cr_assert(r != 0 && strstr(hk_err_msg(), want) != NULL,
			    "%s: wanted \"%s\", got %d \"%s\"", name, want, r,
			    hk_err_msg());
		sk_X509_free(t.links);
		X509_free(l);
		X509_free(a);
		n++;
	}
	fclose(f);
	cr_assert(n >= 10, "only %d vectors", n);
}

/* SPEC 3, 4.2: every type of this version, and the name alphabet at its
 * edges: the first and last byte of each range, and the bytes beside them. */
Test(bundle, types_and_name_bytes)
{
	const char *types[] = { "root-generation", "link-certs",
	    "issuing-ca-cert", "arl-batch", "cross-pair", "responder-certs",
	    "csr", "revocation-request" };
	const char *nottypes[] = { "", "CSR", "csr ", "root-generations",
	    "revocation" };
	const char outside[] = "@[`{/:\x7f ";
	char nm[8];
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		cr_assert(hk_bundle_type_ok(types[i]), "%s", types[i]);
	for (i = 0; i < sizeof(nottypes) / sizeof(nottypes[0]); i++)
		cr_assert_not(hk_bundle_type_ok(nottypes[i]), "%s",
		    nottypes[i]);
	cr_assert(hk_bundle_name_ok("AZaz09._-"));
	for (i = 0; i < sizeof("AZaz09") - 1; i++) {
		snprintf(nm, sizeof(nm), "x%cx", "AZaz09"[i]);
		cr_assert(hk_bundle_name_ok(nm), "%s", nm);
	}
	for (i = 0; i < sizeof(outside) - 1; i++) {
		snprintf(nm, sizeof(nm), "x%cx", outside[i]);
		cr_assert_not(hk_bundle_name_ok(nm), "%s", nm);
	}
}

/* A manifest with sequence seq and one line "file <zero hash> <f>" for
 * each f ("<size> <name>"), parsed: 0 or the parser's error. */
static int
parse_manifest(const char *seq, const char *const *files, size_t n)
{
	struct hk_bundle_manifest *m = NULL;
	size_t cap = 512 + n * 600, off, i;
	char *buf = malloc(cap);
	int r;

	cr_assert_not_null(buf);
	off = (size_t)snprintf(buf, cap, "hanko-bundle 1\ntype csr\n"
	    "sequence %s\ncreated 2026-04-01T00:00:00Z\n"
	    "signer 0123456789abcdef0123456789abcdef01234567\nfiles %zu\n",
	    seq, n);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "file %064d %s\n",
		    0, files[i]);
	off += (size_t)snprintf(buf + off, cap - off, "end\n");
	r = hk_bundle_manifest_parse((unsigned char *)buf, off, "m", &m);
	if (r == 0)
		cr_assert_not_null(m);
	else
		cr_assert_null(m);
	hk_bundle_manifest_free(m);
	free(buf);
	return r;
}

/* SPEC 3, 4.3, 5: each limit exactly, and one past it. */
Test(bundle, manifest_limits_exactly)
{
	const char *d = hk_test_dir("bundle-limits");
	struct hk_bundle_trust t = { root1, NULL };
	struct hk_bundle_manifest *m = NULL;
	const char *one[] = { "0 a" };
	const char *full[] = { "16777216 a", "16777216 b", "16777216 c",
	    "16777216 d", "0 e" };
	const char *over[] = { "16777216 a", "16777216 b", "16777216 c",
	    "16777216 d", "1 e" };
	char name[128], line[1024], digits[401], out[1024];
	struct hk_bundle_file f = { name, pay2, sizeof(pay2) };
	const char *fl[] = { line };

	/* sequence: 18 digits, no more */
	cr_assert_eq(parse_manifest("999999999999999999", one, 1), 0, "%s",
	    hk_err_msg());
	cr_assert_neq(parse_manifest("1000000000000000000", one, 1), 0);
	cr_assert(strstr(hk_err_msg(), "sequence: SPEC 4.3") != NULL, "%s",
	    hk_err_msg());
	/* 2^64 + 1: a reader that let the number wrap would read 1 */
	cr_assert_neq(parse_manifest("18446744073709551617", one, 1), 0);
	cr_assert(strstr(hk_err_msg(), "sequence: SPEC 4.3") != NULL, "%s",
	    hk_err_msg());
	/* one file: 16 MiB, no more; all files: 64 MiB, no more */
	one[0] = "16777216 a";
	cr_assert_eq(parse_manifest("1", one, 1), 0, "%s", hk_err_msg());
	one[0] = "16777217 a";
	cr_assert_neq(parse_manifest("1", one, 1), 0);
	cr_assert(strstr(hk_err_msg(), "size: SPEC 5") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(parse_manifest("1", full, 5), 0, "%s", hk_err_msg());
	cr_assert_neq(parse_manifest("1", over, 5), 0);
	cr_assert(strstr(hk_err_msg(), "files total more than 67108864") !=
	    NULL, "%s", hk_err_msg());
	/* a size field of 23 and 24 digits, and a very long one: refused as
	 * sizes, nothing written past the parser's buffer */
	memset(digits, '1', 400);
	digits[400] = '\0';
	snprintf(line, sizeof(line), "%.23s a", digits);
	cr_assert_neq(parse_manifest("1", fl, 1), 0);
	cr_assert(strstr(hk_err_msg(), "size: SPEC 5") != NULL, "%s",
	    hk_err_msg());
	snprintf(line, sizeof(line), "%.24s a", digits);
	cr_assert_neq(parse_manifest("1", fl, 1), 0);
	cr_assert(strstr(hk_err_msg(), "size: SPEC 5") != NULL, "%s",
	    hk_err_msg());
	snprintf(line, sizeof(line), "%s a", digits);
	cr_assert_neq(parse_manifest("1", fl, 1), 0);
	cr_assert(strstr(hk_err_msg(), "size: SPEC 5") != NULL, "%s",
	    hk_err_msg());
	/* a size and no name */
	snprintf(line, sizeof(line), "12");
	cr_assert_neq(parse_manifest("1", fl, 1), 0);
	cr_assert(strstr(hk_err_msg(), "name: SPEC 3") != NULL, "%s",
	    hk_err_msg());
	/* a name of 100 bytes (with both ends of the alphabet), no more */
	memset(name, 'z', 100);
	memcpy(name, "AZaz09._-", 9);
	name[100] = '\0';
	cr_assert(hk_bundle_name_ok(name));
	snprintf(line, sizeof(line), "0 %s", name);
	cr_assert_eq(parse_manifest("1", fl, 1), 0, "%s", hk_err_msg());
	snprintf(out, sizeof(out), "%s/b100", d);
	cr_assert_eq(hk_bundle_write(out, "csr", 1, 1775001600, &f, 1, k1,
	    root1, NULL), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_bundle_verify(out, &t, &m), 0, "%s", hk_err_msg());
	cr_assert_str_eq(m->files[0].name, name);
	hk_bundle_manifest_free(m);
	strcat(name, "z");
	cr_assert_not(hk_bundle_name_ok(name));
	snprintf(line, sizeof(line), "0 %s", name);
	cr_assert_neq(parse_manifest("1", fl, 1), 0);
	cr_assert(strstr(hk_err_msg(), "name: SPEC 3") != NULL, "%s",
	    hk_err_msg());
	snprintf(out, sizeof(out), "%s/b101", d);
	cr_assert_eq(hk_bundle_write(out, "csr", 1, 1775001600, &f, 1, k1,
	    root1, NULL), HK_ERR_INVALID);
	cr_assert_eq(hk_path_exists(out), 0);
}

/* A detached CMS signature over buf by k with certificate c and digest md,
 * made as the writer makes it (SPEC 6.1); DER, malloc'd. */
static unsigned char *
sign_md(const char *buf, EVP_PKEY *k, X509 *c, const EVP_MD *md, size_t *len)
{
	BIO *in = BIO_new_mem_buf(buf, (int)strlen(buf));
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_DETACHED |
	    CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP);
	unsigned char *der, *p;
	int n;

	cr_assert_not_null(cms);
	cr_assert_not_null(CMS_add1_signer(cms, c, k, md, CMS_BINARY |
	    CMS_NOSMIMECAP), "%s", EVP_MD_get0_name(md));
	cr_assert_eq(CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY), 1);
	cr_assert((n = i2d_CMS_ContentInfo(cms, NULL)) > 0);
	cr_assert_not_null(der = p = malloc((size_t)n));
	cr_assert_eq(i2d_CMS_ContentInfo(cms, &p), n);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	*len = (size_t)n;
	return der;
}

/* DER length octets of n into p; their count. */
static size_t
der_len(size_t n, unsigned char *p)
{
	size_t k = 0, i;

	if (n < 0x80) {
		p[0] = (unsigned char)n;
		return 1;
	}
	for (i = n; i > 0; i >>= 8)
		k++;
	p[0] = (unsigned char)(0x80 | k);
	for (i = 0; i < k; i++)
		p[1 + i] = (unsigned char)(n >> (8 * (k - 1 - i)));
	return 1 + k;
}

/*
 * Re-encode the DER in[0..len) into out (its length returned), every
 * AlgorithmIdentifier of a SHA-2 digest given NULL parameters instead of
 * absent ones. The certificates and the signed attributes ([0] below the
 * ContentInfo) are copied as they are, so the signature still verifies.
 */
static size_t
null_digest_params(const unsigned char *in, size_t len, unsigned char *out,
    int depth)
{
	static const unsigned char sha2[] = { 0x06, 0x09, 0x60, 0x86, 0x48,
	    0x01, 0x65, 0x03, 0x04, 0x02 };
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char tag = in[i++], *body;
		size_t n = in[i++], bn, k;

		if (n & 0x80)
			for (k = n & 0x7f, n = 0; k > 0; k--)
				n = n << 8 | in[i++];
		cr_assert(i + n <= len);
		/* room for this node's and its descendants' NULLs and longer
		 * length octets */
		cr_assert_not_null(body = malloc(n + 64));
		if (tag == 0x30 && n == 11 && memcmp(in + i, sha2,
		    sizeof(sha2)) == 0) {
			memcpy(body, in + i, n);
			body[n] = 0x05;		/* NULL */
			body[n + 1] = 0x00;
			bn = n + 2;
		} else if ((tag & 0x20) != 0 && (tag != 0xa0 || depth == 1)) {
			bn = null_digest_params(in + i, n, body, depth + 1);
		} else {
			memcpy(body, in + i, n);
			bn = n;
		}
		out[o++] = tag;
		o += der_len(bn, out + o);
		memcpy(out + o, body, bn);
		o += bn;
		free(body);
		i += n;
	}
	return o;
}

/*
 * SPEC 6.1: the digest is SHA-256, -384 or -512 with absent parameters;
 * SHA-1 and MD5 are refused although the signature itself verifies, so is
 * SHA-256 with NULL parameters, and a signature that is BER but not DER.
 */
Test(bundle, signature_digests_and_der)
{
	static const char man[] = "the bytes signed (not parsed here)\n";
	struct hk_bundle_trust t = { root1, NULL };
	struct {
		const EVP_MD *md;
		int ok;
	} mds[] = {
		{ EVP_sha256(), 1 }, { EVP_sha384(), 1 }, { EVP_sha512(), 1 },
		{ EVP_sha1(), 0 }, { EVP_md5(), 0 }, { EVP_sha224(), 0 },
	};
	unsigned char sid[20], kid[20], *sig, *alt;
	size_t i, len, alen;

	cr_assert_eq(hk_cert_key_id(X509_get0_pubkey(root1), kid), 0);
	for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
		const char *nm = EVP_MD_get0_name(mds[i].md);
		int r;

		sig = sign_md(man, k1, root1, mds[i].md, &len);
		r = hk_bundle_check_signature((const unsigned char *)man,
		    strlen(man), sig, len, &t, "sig", sid);
		if (mds[i].ok) {
			cr_assert_eq(r, 0, "%s: %s", nm, hk_err_msg());
			cr_assert_eq(memcmp(sid, kid, 20), 0);
			/* and over other bytes it does not verify */
			cr_assert_neq(hk_bundle_check_signature(
			    (const unsigned char *)"x", 1, sig, len, &t, "sig",
			    sid), 0, "%s", nm);
		} else {
			cr_assert_neq(r, 0, "%s accepted", nm);
			cr_assert(strstr(hk_err_msg(), "sig: SPEC 6.1: digest "
			    "must be SHA-256, -384 or -512") != NULL, "%s: %s",
			    nm, hk_err_msg());
		}
		free(sig);
	}
	/* SHA-256 with NULL parameters, in the SignerInfo and in the outer
	 * digestAlgorithms alike: the signature verifies, the shape does not */
	sig = sign_md(man, k1, root1, EVP_sha256(), &len);
	cr_assert_not_null(alt = malloc(len + 64));
	alen = null_digest_params(sig, len, alt, 0);
	cr_assert_eq(alen, len + 4, "%zu -> %zu", len, alen);
	cr_assert_neq(hk_bundle_check_signature((const unsigned char *)man,
	    strlen(man), alt, alen, &t, "sig", sid), 0);
	cr_assert(strstr(hk_err_msg(), "sig: SPEC 6.1: digest must be SHA-256, "
	    "-384 or -512 with absent parameters") != NULL, "%s",
	    hk_err_msg());
	/* the outer length in four octets where three do (BER, not DER):
	 * it parses, and its DER re-encoding is one byte shorter */
	cr_assert(sig[0] == 0x30 && sig[1] == 0x82, "%02x %02x", sig[0],
	    sig[1]);
	alt[0] = 0x30;
	alt[1] = 0x83;
	alt[2] = 0x00;
	memcpy(alt + 3, sig + 2, len - 2);
	cr_assert_neq(hk_bundle_check_signature((const unsigned char *)man,
	    strlen(man), alt, len + 1, &t, "sig", sid), 0);
	cr_assert(strstr(hk_err_msg(), "sig: SPEC 6.1: not in DER") != NULL,
	    "%s", hk_err_msg());
	free(alt);
	free(sig);
}

/* A CA certificate "C=JP, CN=<cn>" for pub, issued under issuer's subject
 * name and signed by ikey (an issuing CA's, not self-issued), valid from
 * `from` to `to` days after the real now. */
static X509 *
make_issued(EVP_PKEY *pub, EVP_PKEY *ikey, X509 *issuer, long serial,
    const char *cn, long from, long to)
{
	X509 *c = ca_skeleton(pub, X509_get_subject_name(issuer), serial, cn,
	    from, to);

	add_ext(c, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	add_ext(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(c, issuer, NID_subject_key_identifier, "hash");
	add_ext(c, issuer, NID_authority_key_identifier, "keyid:always");
	cr_assert(X509_sign(c, ikey, EVP_sha256()) > 0);
	return c;
}

/*
 * SPEC 6.2 (b): a signer certified by a trusted key under the anchor's
 * name: the pinned root's key (while the pinned root is valid) or a later
 * generation's through its link. Not under another name, not by a key
 * that is not trusted. And (a) asks nothing of a generation's name.
 */
Test(bundle, trust_signer_certified_by_a_generation)
{
	const char *d = hk_test_dir("bundle-trust-issued");
	STACK_OF(X509) *links = sk_X509_new_null();
	STACK_OF(X509) *olinks = sk_X509_new_null();
	struct hk_bundle_trust t1 = { root1, NULL }, tl = { root1, links },
	    to = { root1, olinks };
	X509 *other = make_cert(k1, k1, NULL, 20, "Other Root");
	X509 *iss1 = make_issued(kx, k1, root1, 21, "Issuing CA 1", -1, 7300);
	X509 *iss2 = make_issued(kx, k2, root2, 22, "Issuing CA 2", -1, 7300);
	X509 *isso = make_issued(kx, k1, other, 23, "Issuing CA 1", -1, 7300);
	/* a link to generation 2 under another name, and its certificate */
	X509 *lo = make_cert(k2, k1, root1, 24, "Test Root G2");
	X509 *r2o = make_cert(k2, k2, NULL, 25, "Test Root G2");
	/* OldWithNew: generation 1's key certified by generation 2's */
	X509 *own21 = make_cert_at(k1, k2, root2, 26, "Test Root", -1, 7300);
	char b1[4096], b2[4096], bo[4096], bg[4096];

	sk_X509_push(links, link21);
	sk_X509_push(olinks, lo);
	snprintf(b1, sizeof(b1), "%s/iss1", d);
	snprintf(b2, sizeof(b2), "%s/iss2", d);
	snprintf(bo, sizeof(bo), "%s/isso", d);
	snprintf(bg, sizeof(bg), "%s/g2o", d);
	write_sample_trust(b1, 1, kx, iss1, &t1);
	write_sample_trust(b2, 1, kx, iss2, &tl);
	/* (written with a pinned root of that name to check it against) */
	write_sample_trust(bo, 1, kx, isso, &(struct hk_bundle_trust){ other,
	    NULL });
	write_sample(bg, 1, k2, r2o);
	/* issued by the pinned root itself */
	cr_assert_eq(hk_bundle_verify(b1, &t1, NULL), 0, "%s", hk_err_msg());
	/* issued by generation 2: through the link, and not without it */
	cr_assert_eq(hk_bundle_verify(b2, &tl, NULL), 0, "%s", hk_err_msg());
	cr_assert_neq(hk_bundle_verify(b2, &t1, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	/* signed by the pinned root's key under another issuer name */
	cr_assert_neq(hk_bundle_verify(bo, &t1, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	/* a generation of another name, linked: its own certificate signs */
	cr_assert_eq(hk_bundle_verify(bg, &to, NULL), 0, "%s", hk_err_msg());
	cr_assert_neq(hk_bundle_verify(bg, &t1, NULL), 0);
	/* 15 years on the pinned root (10 years) has ended: what it issued
	 * no longer counts, what generation 2 issued still does */
	hk_clock_set(time(NULL) + 86400L * 365 * 15);
	cr_assert_neq(hk_bundle_verify(b1, &tl, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	cr_assert_eq(hk_bundle_verify(b2, &tl, NULL), 0, "%s", hk_err_msg());
	/* nor through the OldWithNew link a root-generation bundle carries
	 * (generation 1's key signed by generation 2's): it certifies the
	 * pinned root's key again, which still issues nothing once the
	 * pinned root has ended */
	sk_X509_push(links, own21);
	cr_assert_neq(hk_bundle_verify(b1, &tl, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	cr_assert_eq(hk_bundle_verify(b2, &tl, NULL), 0, "%s", hk_err_msg());
	hk_clock_unset();
	/* while the pinned root is valid, that link changes nothing */
	cr_assert_eq(hk_bundle_verify(b1, &tl, NULL), 0, "%s", hk_err_msg());
	sk_X509_free(links);
	sk_X509_free(olinks);
	X509_free(own21);
	X509_free(other);
	X509_free(iss1);
	X509_free(iss2);
	X509_free(isso);
	X509_free(lo);
	X509_free(r2o);
}

/* SPEC 5, 6.2: a reader follows 16 link certificates, not 17; a link
 * whose notBefore cannot be read has not begun, and is not used. */
Test(bundle, links_limit_and_unreadable_time)
{
	const char *d = hk_test_dir("bundle-links");
	STACK_OF(X509) *links = sk_X509_new_null();
	struct hk_bundle_trust t = { root1, links };
	X509 *bad = make_cert(k2, k1, root1, 30, "Test Root");
	char out[4096];
	int i;

	snprintf(out, sizeof(out), "%s/g2", d);
	write_sample(out, 1, k2, root2);
	/* 15 certificates that are no links (self-signed generation 2),
	 * then the link, the 16th */
	for (i = 0; i < 15; i++)
		sk_X509_push(links, root2);
	sk_X509_push(links, link21);
	cr_assert_eq(hk_bundle_verify(out, &t, NULL), 0, "%s", hk_err_msg());
	sk_X509_push(links, root2);
	cr_assert_eq(hk_bundle_verify(out, &t, NULL), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: more than 16 link "
	    "certificates") != NULL, "%s", hk_err_msg());
	/* the link again, its notBefore not a time (and signed so) */
	ASN1_STRING_set(X509_getm_notBefore(bad), "not a time", -1);
	cr_assert(X509_sign(bad, k1, EVP_sha256()) > 0);
	cr_assert_eq(X509_verify(bad, X509_get0_pubkey(root1)), 1);
	while (sk_X509_num(links) > 0)
		sk_X509_pop(links);
	sk_X509_push(links, bad);
	cr_assert_neq(hk_bundle_verify(out, &t, NULL), 0);
	cr_assert(strstr(hk_err_msg(), "SPEC 6.2: the signer is neither") !=
	    NULL, "%s", hk_err_msg());
	sk_X509_free(links);
	X509_free(bad);
}

/* A reader's rule (SPEC 13.4) that records what it was given. */
struct rule_rec {
	int ret;		/* what it answers */
	int calls;
	int signer_root1;	/* the signer handed over was root1 */
	uint64_t sequence;
	char dir[4096];
};

static int
rec_rule(X509 *signer, const struct hk_bundle_manifest *m, const char *dir,
    void *arg)
{
	struct rule_rec *rr = arg;

	rr->calls++;
	rr->signer_root1 = X509_cmp(signer, root1) == 0;
	rr->sequence = m->sequence;
	snprintf(rr->dir, sizeof(rr->dir), "%s", dir);
	if (rr->ret != 0)
		hk_err_set("%s: SPEC 13.4: refused by the rule", dir);
	return rr->ret;
}

/* A rule that refuses makes verify and import fail, after every SPEC 7
 * check passed; one that accepts sees the signer, the manifest and, on
 * import, the copy that is kept. */
Test(bundle, reader_rule_decides)
{
	const char *d = hk_test_dir("bundle-rule");
	struct hk_bundle_trust t = { root1, NULL };
	struct hk_bundle_manifest *m = NULL;
	struct rule_rec rr = { 0 };
	char b[1024], dest[1024], seen[1024], path[4096];

	snprintf(b, sizeof(b), "%s/b", d);
	snprintf(dest, sizeof(dest), "%s/in", d);
	snprintf(seen, sizeof(seen), "%s/bundles.seen", d);
	write_sample(b, 3, k1, root1);
	rr.ret = HK_ERR_INVALID;
	cr_assert_eq(hk_bundle_verify_rule(b, &t, rec_rule, &rr, &m),
	    HK_ERR_INVALID);
	cr_assert_null(m);
	cr_assert_eq(rr.calls, 1);
	cr_assert(strstr(hk_err_msg(), "refused by the rule") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_bundle_import_rule(b, dest, seen, &t, NULL, rec_rule,
	    &rr, &m), HK_ERR_INVALID);
	cr_assert_null(m);
	cr_assert_eq(rr.calls, 2);
	cr_assert(strncmp(hk_err_msg(), b, strlen(b)) == 0 &&
	    strstr(hk_err_msg(), "refused by the rule") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_path_exists(dest), 0);
	cr_assert_eq(hk_path_exists(seen), 0);
	/* a damaged bundle never reaches the rule */
	snprintf(path, sizeof(path), "%s/notes_1.bin", b);
	unlink(path);
	hk_test_write(path, "tampered", 8);
	cr_assert_neq(hk_bundle_verify_rule(b, &t, rec_rule, &rr, NULL), 0);
	cr_assert_eq(rr.calls, 2);
	unlink(path);
	hk_test_write(path, pay2, sizeof(pay2));
	/* accepted */
	rr.ret = 0;
	cr_assert_eq(hk_bundle_verify_rule(b, &t, rec_rule, &rr, &m), 0, "%s",
	    hk_err_msg());
	cr_assert_not_null(m);
	cr_assert_eq(m->sequence, 3);
	hk_bundle_manifest_free(m);
	cr_assert(rr.calls == 3 && rr.signer_root1 && rr.sequence == 3);
	cr_assert_str_eq(rr.dir, b);
	cr_assert_eq(hk_bundle_import_rule(b, dest, seen, &t, "csr", rec_rule,
	    &rr, &m), 0, "%s", hk_err_msg());
	cr_assert_not_null(m);
	hk_bundle_manifest_free(m);
	cr_assert_eq(rr.calls, 4);
	cr_assert(strncmp(rr.dir, dest, strlen(dest)) == 0 &&
	    strncmp(rr.dir + strlen(dest), ".tmp-", 5) == 0, "%s", rr.dir);
	cr_assert(hk_path_exists(dest));
}

/* Key id i of a test seen file: 20 bytes, none of them all-zero. */
static void
seen_id(size_t i, unsigned char id[20])
{
	memset(id, 0x11, 20);
	id[0] = 0xaa;
	id[1] = (unsigned char)(i >> 8);
	id[2] = (unsigned char)i;
}

/* A seen file (SPEC 8) of n signers, signer i at sequence i + 1, then the
 * line extra when not NULL. */
static void
write_seen(const char *path, size_t n, const char *extra)
{
	size_t cap = 64 + (n + 1) * 128, off, i;
	char *buf = malloc(cap), hx[41];
	unsigned char id[20];

	cr_assert_not_null(buf);
	off = (size_t)snprintf(buf, cap, "hanko-bundle-seen 1\n");
	for (i = 0; i < n; i++) {
		seen_id(i, id);
		hk_hex_encode(id, 20, hx);
		off += (size_t)snprintf(buf + off, cap - off, "%s %zu\n", hx,
		    i + 1);
	}
	if (extra != NULL)
		off += (size_t)snprintf(buf + off, cap - off, "%s\n", extra);
	unlink(path);
	hk_test_write(path, buf, off);
	free(buf);
}

/* SPEC 8: the seen file holds 256 signers, not 257; its numbers are
 * strict decimals of at most 18 digits. */
Test(bundle, seen_file_limits)
{
	const char *d = hk_test_dir("bundle-seen");
	struct hk_bundle_manifest m = { .version = 1 };
	const uint64_t after[3] = { 1, 2, 3 };
	char seen[1024], line[256], hx[41];
	unsigned char *buf;
	size_t len;
	const char *bad[] = { "01", "", " 5", "5 ", "+5", "-5",
	    "1000000000000000000", "18446744073709551621",
	    "10000000000000000000000" /* 23 */ };
	size_t i;

	snprintf(seen, sizeof(seen), "%s/bundles.seen", d);
	/* 256 signers: each one's own sequence */
	write_seen(seen, 256, NULL);
	seen_id(255, m.signer);
	m.sequence = 256;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "replay or older than the last imported "
	    "(256)") != NULL, "%s", hk_err_msg());
	m.sequence = 257;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), 0, "%s", hk_err_msg());
	/* a signer not among them is new: also one whose key id happens to
	 * be the bytes that follow the 256 key ids in memory (the first
	 * sequences), which a reader looking one entry too far would find */
	memcpy(m.signer, after, 20);
	m.sequence = 1;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), 0, "%s", hk_err_msg());
	/* ... but a 257th cannot be recorded; the 256 can */
	cr_assert_eq(hk_bundle_seen_update(seen, &m), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "more than 256 signers") != NULL, "%s",
	    hk_err_msg());
	seen_id(0, m.signer);
	m.sequence = 999999999999999999u;
	cr_assert_eq(hk_bundle_seen_update(seen, &m), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_INVALID);
	buf = hk_test_read(seen, &len);
	hk_hex_encode(m.signer, 20, hx);
	snprintf(line, sizeof(line), "hanko-bundle-seen 1\n%s "
	    "999999999999999999\n", hx);
	cr_assert(len > strlen(line) && memcmp(buf, line, strlen(line)) == 0);
	free(buf);
	/* a 257th line is refused as it is read */
	seen_id(256, m.signer);
	hk_hex_encode(m.signer, 20, hx);
	snprintf(line, sizeof(line), "%s 257", hx);
	write_seen(seen, 256, line);
	m.sequence = 1000;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), ":258: SPEC 8: expected") != NULL, "%s",
	    hk_err_msg());
	/* sequences: 18 digits at most, strict decimal */
	seen_id(1, m.signer);
	hk_hex_encode(m.signer, 20, hx);
	snprintf(line, sizeof(line), "%s 999999999999999999", hx);
	write_seen(seen, 1, line);
	m.sequence = 999999999999999999u;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_INVALID, "%s",
	    hk_err_msg());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s %s", hx, bad[i]);
		write_seen(seen, 1, line);
		cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_PARSE,
		    "\"%s\" read", bad[i]);
		cr_assert(strstr(hk_err_msg(), ":3: SPEC 8: expected") != NULL,
		    "%s", hk_err_msg());
	}
	snprintf(line, sizeof(line), "%s 100000000000000000000000", hx);
	write_seen(seen, 1, line);	/* 24 digits */
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), ":3: SPEC 8: sequence too long") !=
	    NULL, "%s", hk_err_msg());
	snprintf(line, sizeof(line), "%s", hx);
	write_seen(seen, 1, line);	/* no sequence */
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_PARSE);
}

/* SPEC 4.3: a bundle's sequence is 1 or more, so the seen file (SPEC 8,
 * the last sequence imported per signer) never holds 0: such a line is
 * malformed, named by file, line, field and rule, and nothing is checked
 * or recorded against it; the manifest reader refuses sequence 0 too. */
Test(bundle, seen_file_sequence_zero)
{
	const char *d = hk_test_dir("bundle-seen-zero");
	const char *man = "hanko-bundle 1\ntype csr\nsequence 0\n"
	    "created 2026-04-01T00:00:00Z\n"
	    "signer 0123456789abcdef0123456789abcdef01234567\nfiles 1\n"
	    "file 0000000000000000000000000000000000000000000000000000000000000000 0 a\n"
	    "end\n";
	struct hk_bundle_manifest m = { .version = 1 }, *pm = NULL;
	char seen[1024], line[256], hx[41];
	unsigned char *before, *after;
	size_t blen, alen;

	snprintf(seen, sizeof(seen), "%s/bundles.seen", d);
	seen_id(7, m.signer);
	hk_hex_encode(m.signer, 20, hx);
	/* the only signer, at 0: line 2 */
	snprintf(line, sizeof(line), "%s 0", hx);
	write_seen(seen, 0, line);
	m.sequence = 1;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_PARSE,
	    "sequence 0 read: %s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "bundles.seen:2: sequence: SPEC 4.3, 8: "
	    "must be 1..999999999999999999") != NULL, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "not 0") != NULL, "%s", hk_err_msg());
	/* after another signer's line: line 3; nothing recorded over it */
	write_seen(seen, 1, line);
	before = hk_test_read(seen, &blen);
	cr_assert_eq(hk_bundle_seen_update(seen, &m), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "bundles.seen:3: sequence: SPEC 4.3, 8:")
	    != NULL, "%s", hk_err_msg());
	after = hk_test_read(seen, &alen);
	cr_assert(alen == blen && memcmp(before, after, blen) == 0);
	free(before);
	free(after);
	/* 1 is the lowest sequence the file holds */
	snprintf(line, sizeof(line), "%s 1", hx);
	write_seen(seen, 1, line);
	cr_assert_eq(hk_bundle_seen_check(seen, &m), HK_ERR_INVALID);
	m.sequence = 2;
	cr_assert_eq(hk_bundle_seen_check(seen, &m), 0, "%s", hk_err_msg());
	/* a manifest of sequence 0 is refused by its reader */
	cr_assert_eq(hk_bundle_manifest_parse((const unsigned char *)man,
	    strlen(man), "m", &pm), HK_ERR_PARSE);
	cr_assert_null(pm);
	cr_assert(strstr(hk_err_msg(), "m:3: sequence: SPEC 4.3: must be a "
	    "decimal 1..999999999999999999") != NULL, "%s", hk_err_msg());
}

/*
 * read(2) for this test program: a damaged medium, EIO on every read of the
 * file fail_dev/fail_ino (inode 0: none). After 100 failures it reads again,
 * so that a reader that retries a failed read for ever shows up as an
 * accepted bundle rather than as a test that never ends.
 */
static ino_t fail_ino;
static dev_t fail_dev;
static int fail_reads;

ssize_t
read(int fd, void *buf, size_t len)
{
	static ssize_t (*real)(int, void *, size_t);
	struct stat st;

	if (fail_ino != 0 && fail_reads < 100 && fstat(fd, &st) == 0 &&
	    st.st_ino == fail_ino && st.st_dev == fail_dev) {
		fail_reads++;
		errno = EIO;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	return real(fd, buf, len);
}

/* A payload that cannot be read (EIO) refuses the bundle at once. */
Test(bundle, read_error_refused, .timeout = 60)
{
	const char *d = hk_test_dir("bundle-eio");
	char out[1024], path[4096];
	struct stat st;
	int r;

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 1, k1, root1);
	snprintf(path, sizeof(path), "%s/notes_1.bin", out);
	cr_assert_eq(stat(path, &st), 0);
	fail_dev = st.st_dev;
	fail_ino = st.st_ino;
	r = verify1(out);
	fail_ino = 0;
	cr_assert_eq(r, HK_ERR_IO, "%d: %s", r, hk_err_msg());
	cr_assert_eq(fail_reads, 1, "%d failed reads", fail_reads);
	cr_assert(strstr(hk_err_msg(), "notes_1.bin: cannot read: Input/output error") != NULL,
	    "%s", hk_err_msg());
	cr_assert_eq(verify1(out), 0, "%s", hk_err_msg());
}

#define RR_CERT "00112233445566778899aabbccddeeff" \
	"00112233445566778899aabbccddeeff"

/* A revocation request (SPEC 13.3) with these serial and reason fields,
 * parsed: 0 or the parser's error. */
static int
parse_revreq(const char *serial, const char *reason, struct hk_revreq *q)
{
	char doc[1024];
	int n = snprintf(doc, sizeof(doc), "hanko-revocation-request 1\n"
	    "serial %s\ncertificate " RR_CERT "\nreason %s\n"
	    "requested 2026-04-01T00:00:00Z\nend\n", serial, reason);

	return hk_revreq_parse((unsigned char *)doc, (size_t)n, "rr", q);
}

/* SPEC 13.3: the revocation request, strictly: reasons 1-5 only, serials
 * as issued.txt writes them, the lengths, and the encoder's buffer. */
Test(bundle, revocation_request_strict)
{
	struct hk_revreq q = { .reason = 4, .requested = 1775001600 }, p;
	const char *serials_ok[] = { "0a", "7f", "80", "10ab", "a0b0", "0abc",
	    "0100", "1000000000000000000000000000000000000000" /* 40 */ };
	const char *serials_bad[] = { "", "0", "abc", "00ab", "000a", "0A",
	    "10AB", "1g", "100000000000000000000000000000000000000000" /* 42 */,
	    " 10", "10 " };
	const char *reasons_bad[] = { "0", "6", "7", "8", "10", "99" };
	const char *reasons_junk[] = { "", "01", "05", "100", "+1", "-1", "1 ",
	    "key-compromise" };
	const char *names[] = { "key-compromise", "ca-compromise",
	    "affiliation-changed", "superseded", "cessation-of-operation" };
	const char *names_bad[] = { "", "0", "6", "01", "1 ", "unspecified",
	    "certificate-hold", "Key-Compromise", "key_compromise" };
	char doc[HK_REVREQ_MAX], small[HK_REVREQ_MAX], big[HK_REVREQ_MAX + 1];
	char r1[4];
	size_t i, len;
	int reason;

	/* round trip */
	snprintf(q.serial, sizeof(q.serial), "10ab");
	cr_assert_eq(hk_hex_decode(RR_CERT, q.cert_sha256, 32), 0);
	cr_assert_eq(hk_revreq_encode(&q, doc, sizeof(doc)), 0, "%s",
	    hk_err_msg());
	cr_assert_str_eq(doc, "hanko-revocation-request 1\nserial 10ab\n"
	    "certificate " RR_CERT "\nreason 4\n"
	    "requested 2026-04-01T00:00:00Z\nend\n");
	len = strlen(doc);
	cr_assert_eq(hk_revreq_parse((unsigned char *)doc, len, "rr", &p), 0,
	    "%s", hk_err_msg());
	cr_assert_str_eq(p.serial, "10ab");
	cr_assert_eq(p.reason, 4);
	cr_assert_eq(p.requested, 1775001600);
	cr_assert_eq(memcmp(p.cert_sha256, q.cert_sha256, 32), 0);
	/* the encoder fills exactly len + 1 bytes, and never cuts short */
	cr_assert_eq(hk_revreq_encode(&q, small, len + 1), 0);
	cr_assert_str_eq(small, doc);
	cr_assert_neq(hk_revreq_encode(&q, small, len), 0);
	cr_assert_neq(hk_revreq_encode(&q, small, 40), 0);
	/* reasons: 1-5, nothing else */
	for (i = 1; i <= 5; i++) {
		snprintf(r1, sizeof(r1), "%zu", i);
		cr_assert_eq(parse_revreq("10ab", r1, &p), 0, "%s: %s", r1,
		    hk_err_msg());
		cr_assert_eq(p.reason, (int)i);
	}
	for (i = 0; i < sizeof(reasons_bad) / sizeof(reasons_bad[0]); i++) {
		cr_assert_eq(parse_revreq("10ab", reasons_bad[i], &p),
		    HK_ERR_INVALID, "reason %s", reasons_bad[i]);
		cr_assert(strstr(hk_err_msg(), "rr:4: reason: SPEC 13.3, CPS "
		    "4-4-4-2") != NULL, "%s", hk_err_msg());
	}
	for (i = 0; i < sizeof(reasons_junk) / sizeof(reasons_junk[0]); i++)
		cr_assert_neq(parse_revreq("10ab", reasons_junk[i], &p), 0,
		    "reason \"%s\"", reasons_junk[i]);
	q.reason = 0;
	cr_assert_neq(hk_revreq_encode(&q, doc, sizeof(doc)), 0);
	q.reason = 6;
	cr_assert_neq(hk_revreq_encode(&q, doc, sizeof(doc)), 0);
	q.reason = 4;
	/* serials: even length 2-40, lowercase, no leading 00 byte */
	for (i = 0; i < sizeof(serials_ok) / sizeof(serials_ok[0]); i++) {
		cr_assert_eq(parse_revreq(serials_ok[i], "1", &p), 0, "%s: %s",
		    serials_ok[i], hk_err_msg());
		cr_assert_str_eq(p.serial, serials_ok[i]);
	}
	for (i = 0; i < sizeof(serials_bad) / sizeof(serials_bad[0]); i++) {
		cr_assert_neq(parse_revreq(serials_bad[i], "1", &p), 0,
		    "serial \"%s\"", serials_bad[i]);
		if (strlen(serials_bad[i]) >= sizeof(q.serial))
			continue;
		snprintf(q.serial, sizeof(q.serial), "%s", serials_bad[i]);
		cr_assert_neq(hk_revreq_encode(&q, doc, sizeof(doc)), 0,
		    "serial \"%s\"", serials_bad[i]);
	}
	/* lengths: at most 511 bytes (a valid request is far shorter) */
	memset(big, 'x', sizeof(big));
	memcpy(big, "hanko-revocation-request 1\n", 27);
	cr_assert_eq(hk_revreq_parse((unsigned char *)big, HK_REVREQ_MAX, "rr",
	    &p), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "longer than 511 bytes") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_revreq_parse((unsigned char *)big, HK_REVREQ_MAX - 1,
	    "rr", &p), HK_ERR_PARSE);
	cr_assert_eq(hk_revreq_parse((unsigned char *)big, 0, "rr", &p),
	    HK_ERR_INVALID);
	/* another version, the certificate hash, the time */
	big[25] = '2';
	cr_assert_eq(hk_revreq_parse((unsigned char *)big, 27, "rr", &p),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "SPEC 9: format version 2") != NULL,
	    "%s", hk_err_msg());
	snprintf(doc, sizeof(doc), "hanko-revocation-request 1\nserial 10ab\n"
	    "certificate " RR_CERT "0\nreason 1\n"
	    "requested 2026-04-01T00:00:00Z\nend\n");
	cr_assert_neq(hk_revreq_parse((unsigned char *)doc, strlen(doc), "rr",
	    &p), 0);
	snprintf(doc, sizeof(doc), "hanko-revocation-request 1\nserial 10ab\n"
	    "certificate " RR_CERT "\nreason 1\n"
	    "requested 2026-02-30T00:00:00Z\nend\n");
	cr_assert_neq(hk_revreq_parse((unsigned char *)doc, strlen(doc), "rr",
	    &p), 0);
	/* reason names and numbers, as the command lines take them */
	for (i = 0; i < 5; i++) {
		cr_assert_str_eq(hk_revreq_reason_name((int)i + 1), names[i]);
		reason = 0;
		cr_assert_eq(hk_revreq_reason_parse(names[i], &reason), 0);
		cr_assert_eq(reason, (int)i + 1);
		snprintf(r1, sizeof(r1), "%zu", i + 1);
		reason = 0;
		cr_assert_eq(hk_revreq_reason_parse(r1, &reason), 0, "%s", r1);
		cr_assert_eq(reason, (int)i + 1);
	}
	cr_assert_null(hk_revreq_reason_name(0));
	cr_assert_null(hk_revreq_reason_name(6));
	for (i = 0; i < sizeof(names_bad) / sizeof(names_bad[0]); i++)
		cr_assert_eq(hk_revreq_reason_parse(names_bad[i], &reason), -1,
		    "\"%s\"", names_bad[i]);
}

/* A refused folder entry is named in the message with every byte outside
 * [A-Za-z0-9._-] shown as '?': nothing raw (an escape sequence) reaches a
 * terminal, and the allowed bytes at the edges of each range stay. */
Test(bundle, refused_name_shown_safely)
{
	const char *d = hk_test_dir("bundle-safe");
	char out[1024], path[4096];

	snprintf(out, sizeof(out), "%s/b", d);
	write_sample(out, 1, k1, root1);
	snprintf(path, sizeof(path), "%s/AZaz09._-\x1b[1m\x7f", out);
	hk_test_write(path, "x", 1);
	expect_refused(out, "/AZaz09._-??1m?: SPEC 3: name has a byte outside");
	cr_assert_null(strchr(hk_err_msg(), '\x1b'), "%s", hk_err_msg());
}
