/*
 * quorum.h - m-of-n control of the CA's activation data (DESIGN.md 4,
 * CPS 6-2-1-2, 6-2-1-7, 6-4-1). The safe layer over shamir.h.
 *
 * A random 256-bit quorum key is split into n shares, threshold m. The
 * public set record (quorum.set in the CA state folder) holds the set id, m,
 * n, a commitment to the key and a hash of every share value, so that a
 * damaged, foreign, stale or duplicated share is named before anything is
 * reconstructed, and a wrong key is never returned. Each share is sealed for
 * its holder under a passphrase (Argon2id + XChaCha20-Poly1305) in a text
 * armor with a checksum. docs/quorum.md describes both file formats.
 *
 * Secrets (the quorum key, share values, passphrases, derived keys) only
 * live in hk_secret_alloc memory or on the stack, and are wiped on every path.
 * libsodium must be initialised first (hk_secmem_init()).
 */
#ifndef HK_QUORUM_H
#define HK_QUORUM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HK_QUORUM_KEY_LEN	32	/* bytes of the quorum key */
#define HK_QUORUM_ID_LEN	16	/* bytes of a set id */
#define HK_QUORUM_MAX_SHARES	255	/* n at most */
#define HK_QUORUM_HOLDER_MAX	64	/* chars of a holder id: [A-Za-z0-9._-] */
#define HK_QUORUM_SET_FILE	"quorum.set"	/* in the CA state folder */
#define HK_QUORUM_SHARE_SUFFIX	".hks"	/* e.g. share-2-suzuki.hks */
#define HK_PASSPHRASE_MAX	1024	/* bytes */
#define HK_SEALED_MAX		4096	/* bytes of a sealed plaintext */

/* Argon2id cost of a share's passphrase key (libsodium's levels). */
enum hk_kdf_level {
	HK_KDF_INTERACTIVE = 0,	/* 64 MiB, 2 passes: tests and rehearsals */
	HK_KDF_MODERATE = 1,	/* 256 MiB, 3 passes: the default */
	HK_KDF_SENSITIVE = 2,	/* 1 GiB, 4 passes */
};
/* "interactive", "moderate" or "sensitive": 0 or HK_ERR_USAGE. */
int hk_kdf_level_parse(const char *s, int *level);

/* The public set record. */
struct hk_quorum_set {
	uint8_t id[HK_QUORUM_ID_LEN];	/* random set id */
	int m;				/* threshold */
	int n;				/* number of shares */
	int retired;			/* 1 once a rotation replaced the set */
	time_t created;			/* hk_clock_now() when dealt */
	uint8_t commitment[32];		/* SHA-256(label, id, key) */
	uint8_t share_hash[HK_QUORUM_MAX_SHARES][32];	/* [i-1]: share i */
	char holder[HK_QUORUM_MAX_SHARES][HK_QUORUM_HOLDER_MAX + 1];
};

/* Read and strictly check a set record (HK_ERR_PARSE, naming path:line). */
int hk_quorum_set_read(const char *path, struct hk_quorum_set **set);
/* Write it (mode 0644) through hk_file_write; flags as in atomic.h. */
int hk_quorum_set_write(const char *path, const struct hk_quorum_set *set,
    int flags);
void hk_quorum_set_free(struct hk_quorum_set *set);

/*
 * Dealing a new set. key: NULL for a fresh random quorum key, or the current
 * key (32 bytes, from hk_quorum_recover) to re-share it to new holders with
 * a new set id; the caller then retires the old set (set->retired = 1 and
 * hk_quorum_set_write). holders[0..n-1]: holder ids, all distinct.
 */
struct hk_quorum_dealer;
int hk_quorum_deal(const uint8_t *key, int m, int n,
    const char *const *holders, struct hk_quorum_dealer **d);
const struct hk_quorum_set *hk_quorum_dealer_set(
    const struct hk_quorum_dealer *d);
/* The quorum key (32 bytes, secure memory owned by d), to seal the PINs. */
const uint8_t *hk_quorum_dealer_key(const struct hk_quorum_dealer *d);
/*
 * Seal share index (1..n) under pass and write it to path (0600, never
 * replacing a file). Refuses a weak passphrase, or one already used for
 * another share of this dealer, with HK_ERR_WEAK_PASSPHRASE.
 */
int hk_quorum_share_write(struct hk_quorum_dealer *d, int index,
    const char *pass, int kdf_level, const char *path);
void hk_quorum_dealer_free(struct hk_quorum_dealer *d);	/* wipes */

/* What a share file says about itself (after its checksum is checked). */
struct hk_quorum_share_info {
	uint8_t set_id[HK_QUORUM_ID_LEN];
	int index;			/* 1..n */
	int m, n;
	char holder[HK_QUORUM_HOLDER_MAX + 1];
};
/* Checksum and format only (no passphrase): HK_ERR_SHARE_CORRUPT. */
int hk_quorum_share_info(const char *path, struct hk_quorum_share_info *info);

/*
 * Collecting shares one by one in a ceremony:
 *   collect_new(set) ; per medium: collect_check(path) to name the holder
 *   in the prompt, read the passphrase, collect_add(path, pass) ;
 *   collect_finish() -> key ; collect_free().
 * check: HK_ERR_SHARE_CORRUPT, HK_ERR_SHARE_FOREIGN (other or retired set),
 *        HK_ERR_SHARE_DUPLICATE (index already added; names both files).
 * add:   the same, then HK_ERR_PASSPHRASE, HK_ERR_SHARE_FOREIGN (value does
 *        not match the set's hash for its index).
 * finish: HK_ERR_QUORUM with fewer than m shares (nothing combined), else
 *        combine and HK_ERR_COMMITMENT if the key fails the commitment.
 *        *key is hk_secret_alloc memory of 32 bytes: hk_secret_free() it.
 * The set must outlive the collector.
 */
struct hk_quorum_collect;
int hk_quorum_collect_new(const struct hk_quorum_set *set,
    struct hk_quorum_collect **c);
int hk_quorum_collect_check(struct hk_quorum_collect *c, const char *path,
    struct hk_quorum_share_info *info);
int hk_quorum_collect_add(struct hk_quorum_collect *c, const char *path,
    const char *pass);
int hk_quorum_collect_count(const struct hk_quorum_collect *c);
int hk_quorum_collect_finish(struct hk_quorum_collect *c, uint8_t **key);
void hk_quorum_collect_free(struct hk_quorum_collect *c);	/* wipes */

/*
 * All at once: checks every file (checksum, set, duplicates) and the count
 * before any passphrase is tried, then opens, combines, checks.
 */
int hk_quorum_recover(const struct hk_quorum_set *set,
    const char *const *paths, const char *const *passes, int k,
    uint8_t **key);

/*
 * Seal a small secret (token PIN, SO PIN, a key backup; at most
 * HK_SEALED_MAX bytes) under the quorum key; label (1..64 printable ASCII,
 * e.g. "token-pin") is bound as AAD. *blob is malloc'd: free(). Open returns
 * the plaintext in hk_secret_alloc memory with a NUL after it; a wrong key,
 * wrong label or damaged blob gives HK_ERR_VERIFY, a malformed one
 * HK_ERR_PARSE.
 */
int hk_quorum_seal_secret(const uint8_t key[HK_QUORUM_KEY_LEN],
    const char *label, const void *plain, size_t len, uint8_t **blob,
    size_t *bloblen);
int hk_quorum_open_secret(const uint8_t key[HK_QUORUM_KEY_LEN],
    const char *label, const uint8_t *blob, size_t bloblen, uint8_t **plain,
    size_t *len);

/*
 * The passphrase rule (docs/quorum.md): 0, or HK_ERR_WEAK_PASSPHRASE with
 * the reason in why (and in hk_err_msg()). holder_id / holder_name may be
 * NULL. why may be NULL.
 */
int hk_passphrase_check(const char *pass, const char *holder_id,
    const char *holder_name, char *why, size_t whylen);
/* 1 if a and b are the same passphrase (constant time in the contents). */
int hk_passphrase_equal(const char *a, const char *b);

#endif
