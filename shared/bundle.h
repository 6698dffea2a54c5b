/*
 * bundle.h - signed bundles that cross the air gap (DESIGN.md section 6,
 * media-format/SPEC.md).
 *
 * A bundle is a folder holding payload files, "manifest" (canonical text:
 * version, type, sequence, creation time, signer key id, each file's
 * SHA-256, size and name) and "manifest.sig" (a detached CMS SignedData
 * over the manifest bytes, signer certificate included), so that
 * `openssl cms -verify` checks it without hanko.
 *
 * The writer takes any EVP_PKEY (a PKCS#11 key through libp11 or a software
 * key) and its certificate. The reader trusts one pinned root certificate
 * and any later root generation reached from it through NewWithOld link
 * certificates (SPEC.md section 6). Every failure leaves a one-line detail
 * "<path>: SPEC <section>: <rule>" with hk_err_set().
 */
#ifndef HK_BUNDLE_H
#define HK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define HK_BUNDLE_VERSION	1
#define HK_BUNDLE_MANIFEST	"manifest"
#define HK_BUNDLE_SIGNATURE	"manifest.sig"
#define HK_BUNDLE_MAX_FILES	256		/* payload files in one bundle */
#define HK_BUNDLE_MAX_NAME	100		/* bytes of a payload name */
#define HK_BUNDLE_MAX_FILE	(16u << 20)	/* bytes of one payload file */
#define HK_BUNDLE_MAX_TOTAL	(64u << 20)	/* bytes of all payload files */
#define HK_BUNDLE_MAX_MANIFEST	65536		/* bytes of the manifest */
#define HK_BUNDLE_MAX_SIG	65536		/* bytes of manifest.sig */
#define HK_BUNDLE_MAX_LINKS	16		/* link certificates followed */
#define HK_BUNDLE_MAX_SEQ	UINT64_C(999999999999999999)	/* 18 digits */

/* One payload file as listed in a manifest. */
struct hk_bundle_entry {
	char name[HK_BUNDLE_MAX_NAME + 1];	/* allowed name (SPEC 3) */
	uint64_t size;				/* bytes */
	unsigned char sha256[32];		/* SHA-256 of the bytes */
};

/* A parsed (or to-be-encoded) manifest. */
struct hk_bundle_manifest {
	int version;				/* HK_BUNDLE_VERSION */
	char type[33];				/* one of SPEC 4.2's types */
	uint64_t sequence;			/* 1..HK_BUNDLE_MAX_SEQ */
	time_t created;				/* UTC, whole seconds */
	unsigned char signer[20];		/* key id of the signing key */
	size_t nfiles;				/* 1..HK_BUNDLE_MAX_FILES */
	struct hk_bundle_entry *files;		/* sorted by name (bytes) */
	unsigned char digest[32];		/* SHA-256 of the manifest bytes
						 * parsed (the ones signed), as
						 * bundle create prints it */
};

/* One payload file to write: its name in the bundle and its bytes. */
struct hk_bundle_file {
	const char *name;			/* allowed name (SPEC 3) */
	const unsigned char *data;		/* may be NULL when len is 0 */
	size_t len;
};

/* What a reader trusts (SPEC 6). */
struct hk_bundle_trust {
	X509 *anchor;			/* the pinned root certificate */
	STACK_OF(X509) *links;		/* NewWithOld link certificates from
					 * the anchor's key onwards; NULL = none */
};

/* 1 if name is an allowed payload name (SPEC 3), else 0. */
int hk_bundle_name_ok(const char *name);
/* 1 if type is a known bundle type of this version (SPEC 4.2), else 0. */
int hk_bundle_type_ok(const char *type);

/* Parse a manifest strictly (canonical form only). what names the input
 * in messages. HK_ERR_PARSE / HK_ERR_INVALID with a detail. */
int hk_bundle_manifest_parse(const unsigned char *buf, size_t len,
    const char *what, struct hk_bundle_manifest **out);
/* The canonical bytes of m (malloc'd, NUL after them). */
int hk_bundle_manifest_encode(const struct hk_bundle_manifest *m,
    char **out, size_t *len);
void hk_bundle_manifest_free(struct hk_bundle_manifest *m);

/*
 * Write a bundle folder out (which must not exist): the files, the
 * manifest and its detached CMS signature by key with cert (signer
 * certificate included, signature checked with cert before anything is
 * written). Built in "<out>.tmp-XXXX" beside it, fsynced, then renamed into
 * place: out either does not exist or is complete. created is the time put
 * in the manifest. manifest_sha256 (may be NULL) gets the manifest's hash.
 */
int hk_bundle_write(const char *out, const char *type, uint64_t sequence,
    time_t created, const struct hk_bundle_file *files, size_t nfiles,
    EVP_PKEY *key, X509 *cert, unsigned char manifest_sha256[32]);

/*
 * The same for a signer that is not a root (SPEC 13: the online issuing
 * CA): its signature is checked before anything is written against check
 * (the pinned root and links), so a certificate that does not chain is
 * refused at the writer already. check NULL = hk_bundle_write.
 */
int hk_bundle_write_trust(const char *out, const char *type,
    uint64_t sequence, time_t created, const struct hk_bundle_file *files,
    size_t nfiles, EVP_PKEY *key, X509 *cert,
    const struct hk_bundle_trust *check, unsigned char manifest_sha256[32]);

/*
 * Check the signature of manifest bytes (sig: DER CMS) against trust at
 * time hk_clock_now(). *signer_id gets the signing key's id. Used by
 * hk_bundle_verify; separate for the fuzz target.
 */
int hk_bundle_check_signature(const unsigned char *manifest, size_t mlen,
    const unsigned char *sig, size_t slen, const struct hk_bundle_trust *t,
    const char *what, unsigned char signer_id[20]);

/*
 * Verify the bundle folder dir completely (SPEC 7, every rule): folder
 * entries, signature and trust, manifest, exact file set, sizes, hashes.
 * No sequence check (that needs the reader's state: hk_bundle_seen_check).
 * On success *out (may be NULL) gets the manifest.
 */
int hk_bundle_verify(const char *dir, const struct hk_bundle_trust *t,
    struct hk_bundle_manifest **out);

/*
 * The reader's last-seen sequence per signer key id (SPEC 8), in the small
 * text file seen_file (absent = nothing seen yet).
 * check: HK_ERR_INVALID when m's sequence is not above the last seen.
 * update: record m's sequence, replacing the file atomically.
 */
int hk_bundle_seen_check(const char *seen_file,
    const struct hk_bundle_manifest *m);
int hk_bundle_seen_update(const char *seen_file,
    const struct hk_bundle_manifest *m);

/*
 * Import all or nothing: copy the bundle folder src into "<dest>.tmp-XXXX"
 * (dest must not exist), verify the copy (hk_bundle_verify), check the
 * sequence against seen_file, rename the copy to dest, then record the
 * sequence in seen_file. On any failure nothing is left behind and
 * seen_file is unchanged. expect_type may be NULL (any type).
 */
int hk_bundle_import(const char *src, const char *dest, const char *seen_file,
    const struct hk_bundle_trust *t, const char *expect_type,
    struct hk_bundle_manifest **out);

/*
 * A reader's own rule (SPEC 13.4), run by the *_rule variants after every
 * SPEC 7 check of steps 1-13 passed: signer is the trusted signer
 * certificate from manifest.sig, m the parsed manifest, dir the folder
 * verified (on import: the copy that will be kept, so the rule may read
 * the payload files and what it checked is what stays). Non-zero refuses
 * the bundle; the rule sets a one-line detail starting with dir.
 */
typedef int (*hk_bundle_rule_fn)(X509 *signer,
    const struct hk_bundle_manifest *m, const char *dir, void *arg);

/* hk_bundle_verify and hk_bundle_import with a rule (NULL = none). */
int hk_bundle_verify_rule(const char *dir, const struct hk_bundle_trust *t,
    hk_bundle_rule_fn rule, void *arg, struct hk_bundle_manifest **out);
int hk_bundle_import_rule(const char *src, const char *dest,
    const char *seen_file, const struct hk_bundle_trust *t,
    const char *expect_type, hk_bundle_rule_fn rule, void *arg,
    struct hk_bundle_manifest **out);

/*
 * The revocation-request document (SPEC 13.3), the file
 * HK_REVREQ_FILE of a revocation-request bundle: canonical text
 *   hanko-revocation-request 1 / serial / certificate / reason /
 *   requested / end
 * The free-text note travels apart, in HK_REVREQ_NOTE, and is never parsed.
 */
#define HK_REVREQ_FILE		"revocation-request"
#define HK_REVREQ_NOTE		"revocation-note.txt"
#define HK_REVREQ_NOTE_MAX	4096		/* bytes of the note */
#define HK_REVREQ_HEADER	"hanko-revocation-request 1"
#define HK_REVREQ_MAX		512		/* bytes of the document */

struct hk_revreq {
	char serial[41];		/* lowercase hex as in issued.txt */
	unsigned char cert_sha256[32];	/* SHA-256 of that certificate's DER */
	int reason;			/* CRLReason 1..5 (CPS 4-4-4-2) */
	time_t requested;		/* when the online side asked, UTC */
};

/* Parse strictly (canonical form only); what names the input. */
int hk_revreq_parse(const unsigned char *buf, size_t len, const char *what,
    struct hk_revreq *out);
/* The canonical text into out (NUL-terminated; cap >= HK_REVREQ_MAX). */
int hk_revreq_encode(const struct hk_revreq *q, char *out, size_t cap);
/* "key-compromise" ... "cessation-of-operation" for 1..5, else NULL. */
const char *hk_revreq_reason_name(int reason);
/* "1".."5" or a reason name: 0 and *reason, else -1. */
int hk_revreq_reason_parse(const char *s, int *reason);

#endif
