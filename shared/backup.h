/*
 * backup.h - the key backup file (CPS 6-2-1-4, 4-14-1; docs/key-lifecycle.md).
 *
 * A CA private key leaves its token only wrapped (CKM_AES_KEY_WRAP_PAD)
 * under a key-encryption key derived from the quorum key and a per-key
 * random seed kept in the CA state, sealed under the quorum key
 * (secrets/backup-<label>.seed.sealed). Destroying the key destroys the
 * seed: afterwards no quorum can derive the KEK again, so every copy of the
 * backup file, wherever it is kept, is unusable.
 *
 * The file is text: fixed header lines in a fixed order, the wrapped key in
 * base64, and a BLAKE2b-256 MAC (keyed from the quorum key and the seed)
 * over every byte before the "mac:" line. A file is checked in two steps:
 * hk_backup_parse (format only, no secret: names path:line and field) and
 * hk_backup_open (the MAC, in constant time; HK_ERR_VERIFY when it fails,
 * which is what a wrong quorum key, a retired seed or any changed byte give).
 */
#ifndef HK_BACKUP_H
#define HK_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#define HK_BACKUP_FORMAT	"hanko-key-backup v1"
#define HK_BACKUP_SEED_LEN	32	/* bytes of a per-key KEK seed */
#define HK_BACKUP_KEK_LEN	32	/* AES-256 */
#define HK_BACKUP_MAX		(64 * 1024)	/* bytes of a backup file */
#define HK_BACKUP_WRAPPED_MAX	16384	/* bytes of a wrapped key */
#define HK_BACKUP_SPKI_MAX	2048	/* bytes of a public key (DER) */

/* What the header says (all public). */
struct hk_backup_info {
	char ca_created[32];		/* the CA state's "created" time */
	char ca_token[33];		/* token label when the backup was made */
	char key_label[33];		/* e.g. "root-1" */
	unsigned char key_id[32];	/* CKA_ID */
	size_t key_id_len;
	char key_type[16];		/* "rsa-2048", "ec-256", ... */
	unsigned char pub_sha256[32];	/* SHA-256 of spki */
	unsigned char spki[HK_BACKUP_SPKI_MAX];	/* SubjectPublicKeyInfo DER */
	size_t spki_len;
	char quorum_set[33];		/* set id (hex) when it was made */
	char kek_id[33];		/* hk_backup_kek_id of the seed */
	char created[32];		/* when it was made (UTC) */
};

/* The KEK of key label under the quorum key and seed: *kek is 32 bytes of
 * hk_secret_alloc memory. */
int hk_backup_kek(const uint8_t *qkey, const char *label, const uint8_t *seed,
    uint8_t **kek);
/* Public name of a seed (hex of 16 bytes of a hash of it). */
void hk_backup_kek_id(const uint8_t *seed, char out[33]);

/* The file: *text is malloc'd (free()), len bytes, no NUL inside. */
int hk_backup_encode(const struct hk_backup_info *info,
    const uint8_t *wrapped, size_t wrapped_len, const uint8_t *qkey,
    const uint8_t *seed, char **text, size_t *len);
/* Format check only; name is used in messages (the file's path). */
int hk_backup_parse(const char *name, const unsigned char *buf, size_t len,
    struct hk_backup_info *info);
/* Parse, then check the MAC; *wrapped is hk_secret_alloc memory. */
int hk_backup_open(const char *name, const unsigned char *buf, size_t len,
    const uint8_t *qkey, const uint8_t *seed, struct hk_backup_info *info,
    uint8_t **wrapped, size_t *wrapped_len);

#endif
