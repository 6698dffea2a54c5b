/*
 * crlpub.h - the partition CRLs of "hanko-online publish" (CPS 4-4-9, 7-2-1;
 * PROFILE.md "CRLs and ARLs"; docs/publish.md "Speed").
 *
 * A partition's CRL is never rebuilt entry by entry. The store keeps the
 * DER of every revokedCertificates entry (crl_entries, hk_crl_entry_der);
 * a cache per partition of one issuing generation keeps them concatenated
 * (<state>/crlcache/<id>.entries, its header in <id>.head, where <id> is
 * the partition id of hk_cert_partition_id: "<code>" for generation 1,
 * "<code>-<g>" after) and only the rows revoked since the last run are
 * appended. The TBSCertList is an OpenSSL ASN.1 template of
 * our own whose revokedCertificates field is carried as pre-encoded bytes
 * (the SEQUENCE OF header by ASN1_put_object, then the cached entries);
 * everything else (issuer, times, AKI, cRLNumber, the critical IDP) comes
 * from shared/crl.c's hk_crl_build of the same CRL without entries, so the
 * two code paths cannot drift apart. It is signed through the token and
 * refused unless the signature verifies over the TBS bytes with the
 * issuing CA's public key and the number increases.
 */
#ifndef HK_CRLPUB_H
#define HK_CRLPUB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crl.h"
#include "profile.h"
#include "store.h"

#define HK_CRLPUB_ROOM		6	/* bytes kept before the entries for
					 * the SEQUENCE OF header (tag, 0x84,
					 * 4 length octets) */
#define HK_CRLPUB_BYTES_MAX	((size_t)1 << 30) /* entry bytes of one CRL */

/* The revokedCertificates of one CRL as concatenated entry DER. */
struct hk_crlpub_entries {
	unsigned char *buf;		/* OPENSSL_malloc'd: HK_CRLPUB_ROOM free
					 * bytes, then the entries; NULL when
					 * nothing was added */
	size_t len;			/* entry bytes after the room */
	size_t cap;			/* bytes allocated after the room */
	size_t count;			/* entries */
};

/* Append one entry (one complete DER TLV: a SEQUENCE spanning exactly len
 * bytes, checked with ASN1_get_object). */
int hk_crlpub_entries_add(struct hk_crlpub_entries *e,
    const unsigned char *der, size_t len);
/* Make room for len more bytes and return where they go (for a read). */
int hk_crlpub_entries_reserve(struct hk_crlpub_entries *e, size_t len,
    unsigned char **at);
void hk_crlpub_entries_free(struct hk_crlpub_entries *e);

/* What one partition CRL is made of. */
struct hk_crlpub_in {
	const struct hk_crl_spec *spec;	/* issuer (the issuing CA valid now),
					 * scope user, IDP DN and URI, validity;
					 * its entries are ignored */
	const struct hk_profile *p;	/* for the lint of the CRL's fields */
	time_t this_update;		/* thisUpdate (nextUpdate = + the
					 * spec's validity) */
	uint64_t number;		/* cRLNumber */
	uint64_t last;			/* the partition's last published
					 * number (0: none); number must be
					 * above it */
	EVP_PKEY *key;			/* signing key (libp11 or software) */
};

/*
 * Build, sign and check one CRL whose revokedCertificates are e (consumed:
 * its buffer becomes the field; e is cleared). *der is OPENSSL_malloc'd.
 * HK_ERR_INVALID when the number does not increase, HK_ERR_LINT when the
 * fields break the profile, HK_ERR_VERIFY when the signature does not
 * verify with the issuer's public key.
 */
int hk_crlpub_sign(const struct hk_crlpub_in *in,
    struct hk_crlpub_entries *e, unsigned char **der, size_t *len);

/* Where and for which store and issuer the caches of one run live. */
struct hk_crlcache_ctx {
	struct hk_store *store;		/* the open store */
	const unsigned char *issuer;	/* the issuing key's identifier (the
					 * certificates' AKI keyid) */
	size_t issuer_len;
	int gen;			/* its generation: the partition ids */
	const char *dir;		/* <state>/crlcache (made if missing) */
	const char *store_id;		/* state.conf store.id: a cache of
					 * another store is rebuilt */
	uint64_t upto;			/* hk_store_crl_seq_max at the start of
					 * the run: every partition the same */
	time_t now;			/* entries of certificates expired
					 * before now are dropped (publish
					 * passes its last publication) */
};

/* What a cache header (<id>.head) records, beside the partition id, the
 * issuer and the store. */
struct hk_crlcache_head {
	uint64_t seq;			/* last crl_entries seq included */
	unsigned char seq_entry[32];	/* SHA-256 of the entry of the row at
					 * seq (any partition; zero when seq
					 * is 0): checked against the store
					 * before the cache is used */
	size_t count;			/* entries */
	size_t bytes;			/* bytes of <code>.entries */
	time_t min_not_after;		/* earliest expiry among the entries
					 * (0 when none) */
	unsigned char sha256[32];	/* SHA-256 of the entry bytes */
};

struct hk_crlcache;

/*
 * Open the caches of the partitions codes[0..n) (municipality codes) of
 * the context's issuing generation for one run. Every header
 * is checked; the partitions whose cache is missing, unreadable, made for
 * another store, ahead of the store, made from rows the store no longer
 * holds (the row at the header's seq is not the entry it records: a store
 * restored from a backup) or holding an entry whose certificate
 * expired before ctx->now (publish passes its last publication: an entry
 * stays until one CRL after its certificate's expiry has listed it, RFC
 * 5280 3.3) are rebuilt together in one pass over the store's crl_entries
 * and written back (file fsynced, then the header replaced).
 */
int hk_crlcache_open(const struct hk_crlcache_ctx *ctx,
    const char *const *codes, size_t n, struct hk_crlcache **out);
/*
 * The entries of partition i for this run: the rebuilt ones handed over;
 * or the cache read and checked against its header (size, SHA-256, entry
 * count; a failure rebuilds this partition alone) and the rows revoked
 * since appended (fsync, then the header replaced atomically). *rebuilt
 * says whether it was rebuilt this run.
 */
int hk_crlcache_get(struct hk_crlcache *c, size_t i,
    struct hk_crlpub_entries *out, int *rebuilt);
void hk_crlcache_free(struct hk_crlcache *c);

/* The names a distribution point gives (RFC 5280 4.2.1.13, 5.2.5): its
 * fullName's directoryName and http URI. */
struct hk_crlpub_dpname {
	X509_NAME *dn;			/* owned; NULL when none */
	char uri[HK_CRL_URI_MAX];	/* "" when none */
};

/*
 * The issuingDistributionPoint names of the partition CRL at path in the
 * folder dfd (a repository set's, hk_repo_set.dfd), read without parsing
 * its entries: the DER headers of CertificateList and of the fields of
 * TBSCertList are read one by one (pread), each field skipped by its
 * length (revokedCertificates too, unread), and only crlExtensions read
 * and decoded. HK_ERR_PARSE when the file is not such a CRL (a header
 * that does not fit, bytes after it) or has no IDP with a fullName.
 */
int hk_crlpub_idp_read(int dfd, const char *path,
    struct hk_crlpub_dpname *out);
/*
 * The revokedCertificates of the CRL at path in the folder dfd (a repository
 * set's): the bytes of its entries (the SEQUENCE OF's content, each entry a
 * DER TLV) into *buf (malloc'd; NULL and *len 0 when the field is absent),
 * read as hk_crlpub_idp_read reads: the headers of CertificateList and of
 * the fields of TBSCertList one by one (pread), the others skipped by their
 * lengths, no entry parsed. HK_ERR_PARSE when the file is not such a CRL.
 */
int hk_crlpub_entries_read(int dfd, const char *path, unsigned char **buf,
    size_t *len);
/* The cRLDistributionPoints names of a certificate (its first point). */
int hk_crlpub_cert_dp(const unsigned char *der, size_t len,
    struct hk_crlpub_dpname *out);
/* 1 when a and b give the same DN (DER) and URI. */
int hk_crlpub_dpname_eq(const struct hk_crlpub_dpname *a,
    const struct hk_crlpub_dpname *b);
void hk_crlpub_dpname_clear(struct hk_crlpub_dpname *n);
/* The names of a partition (hk_cert_build_user): what its certificates of
 * issuing generation gen carry in their CRL DP and its CRL in its IDP; the
 * DN from the municipality's romaji, the URI from its code. */
int hk_crlpub_partition_names(const struct hk_profile *p, const char *romaji,
    const char *code, int gen, int rehearsal, struct hk_crlpub_dpname *out);

#endif
