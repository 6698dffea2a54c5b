/*
 * sbackup.h - the backup of an online state folder (docs/backup.md; CPS
 * 4-11-6, 4-12-2-4, 4-14-1).
 *
 * "hanko-online backup" copies what makes the state, except the token and
 * secrets/ (the keys and the PIN: CPS 6-2-1-4, the key managers' job), into
 * a new folder:
 *
 *   <backup>/MANIFEST          what is in it (text, below)
 *   <backup>/MANIFEST.sig      a signature over MANIFEST's bytes by the
 *                              token's audit key (SHA-256; ECDSA DER or
 *                              RSA PKCS#1 v1.5): openssl dgst -sha256
 *                              -verify audit/audit-key.pem -signature
 *                              MANIFEST.sig MANIFEST
 *   <backup>/store.db          a consistent copy of the store
 *   <backup>/audit/audit.log   the audit log and its head file, copied
 *   <backup>/...               the state's other files, as they are
 *
 * MANIFEST is ASCII lines ending in LF, exactly these in this order, one
 * canonical text for one content (a reader re-encodes what it parsed and
 * compares the bytes):
 *
 *   hanko-online-backup 1
 *   created <YYYY-MM-DDTHH:MM:SSZ>
 *   state <the state folder's path, escaped as the audit log's details>
 *   store-id <32 hex>
 *   audit-log <32 hex log id> seq <last record> hash <64 hex>
 *   key-sha256 <64 hex: SHA-256 of the audit key's SubjectPublicKeyInfo>
 *   files <n>
 *   file <64 hex SHA-256> <size> <path>      (n lines, sorted by path)
 *   end
 *
 * A path is components of [A-Za-z0-9._-] (not starting with '.', no "..")
 * joined by '/', at most HK_SBACKUP_PATH_MAX bytes; MANIFEST and
 * MANIFEST.sig are not listed.
 */
#ifndef HK_SBACKUP_H
#define HK_SBACKUP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define HK_SBACKUP_FORMAT	"hanko-online-backup 1"
#define HK_SBACKUP_MANIFEST	"MANIFEST"
#define HK_SBACKUP_SIG		"MANIFEST.sig"
#define HK_SBACKUP_FILES_MAX	100000		/* files in a backup */
#define HK_SBACKUP_PATH_MAX	1024		/* bytes of a path */
#define HK_SBACKUP_DEPTH_MAX	16		/* folders in a path */
#define HK_SBACKUP_TEXT_MAX	(32u << 20)	/* bytes of MANIFEST */
#define HK_SBACKUP_SIG_MAX	1024		/* bytes of MANIFEST.sig */
#define HK_SBACKUP_STATE_MAX	4096		/* bytes of the state line's value */

/* The files every backup holds (hanko-online backup makes them). */
#define HK_SBACKUP_STORE	"store.db"
#define HK_SBACKUP_CONF		"state.conf"
#define HK_SBACKUP_LOG		"audit/audit.log"
#define HK_SBACKUP_HEAD		"audit/audit.log.head"
#define HK_SBACKUP_KEY		"audit/audit-key.pem"

struct hk_sbackup_file {
	char *path;			/* relative, hk_sbackup_path_ok */
	uint64_t size;			/* bytes */
	unsigned char sha256[32];	/* SHA-256 of them */
};

struct hk_sbackup_manifest {
	char created[21];		/* when the backup was made (UTC) */
	char *state;			/* the state folder's path, escaped
					 * (informative; NULL until set) */
	char store_id[33];		/* store.db's store id (= state.conf's) */
	char log_id[33];		/* audit/audit.log's log id */
	uint64_t log_seq;		/* seq of its last record */
	char log_hash[65];		/* that record's hash */
	char key_sha256[65];		/* SHA-256 (hex) of the audit key's SPKI */
	size_t n;			/* files listed */
	size_t cap;			/* room in files */
	struct hk_sbackup_file *files;	/* sorted by path once encoded or
					 * parsed */
};

/* 1 if name is one path component of a backup ([A-Za-z0-9._-], 1 to 255
 * bytes, not starting with '.'), else 0. */
int hk_sbackup_name_ok(const char *name, size_t len);
/* 1 if path is components joined by '/' (HK_SBACKUP_PATH_MAX, at most
 * HK_SBACKUP_DEPTH_MAX of them) and not MANIFEST or MANIFEST.sig. */
int hk_sbackup_path_ok(const char *path);

/* A new, empty manifest (hk_sbackup_free). */
int hk_sbackup_new(struct hk_sbackup_manifest **out);
void hk_sbackup_free(struct hk_sbackup_manifest *m);
/* List one file (a copy of path is kept). */
int hk_sbackup_add(struct hk_sbackup_manifest *m, const char *path,
    uint64_t size, const unsigned char sha256[32]);
/* The file listed as path, or NULL (m sorted: after encode or parse). */
const struct hk_sbackup_file *hk_sbackup_find(
    const struct hk_sbackup_manifest *m, const char *path);
/* The canonical text (sorts the files first; HK_ERR_INVALID for a path
 * listed twice). *text is malloc'd, len bytes, NUL after them. */
int hk_sbackup_encode(struct hk_sbackup_manifest *m, char **text,
    size_t *len);
/* Parse MANIFEST's bytes strictly (name in messages: "name:line: rule");
 * HK_ERR_PARSE unless it is the canonical text of what it says. */
int hk_sbackup_parse(const char *name, const unsigned char *buf, size_t len,
    struct hk_sbackup_manifest **out);

/* SHA-256 (hex) of a public key's SubjectPublicKeyInfo DER. */
int hk_sbackup_key_sha256(EVP_PKEY *pub, char hex[65]);
/* The signature of text by key (SHA-256), checked with pub before it is
 * returned (*sig malloc'd). */
int hk_sbackup_sign(EVP_PKEY *key, EVP_PKEY *pub, const char *text,
    size_t len, unsigned char **sig, size_t *siglen);

/*
 * Check a backup folder: MANIFEST (canonical), its signature with the audit
 * key, every file listed (size and SHA-256) and no other file or folder,
 * the files every backup holds; store.db read without a write
 * (hk_store_open_copy): SQLite's integrity_check, the schema init makes
 * (of the store's own version when older: one hk_store_upgrade upgrades),
 * the store id of MANIFEST and of the backup's state.conf (schema 6 has
 * none in store.db: MANIFEST's is compared instead); the audit log's
 * chain, head file and checkpoints with the audit key, ending where
 * MANIFEST says. With store_id, also that it is that state's; with
 * live_log, that this log (the same log id) begins with the backup's bytes,
 * or, when live_log was begun by the yearly close since, that the closed
 * log of the backup's log id it links back to (audit/closed/, the links
 * followed and checked with the audit key) does.
 * Each problem is handed to problem() as one line "<dir>/<path>: <rule>";
 * 0 once everything that could be read was checked (problems counts them),
 * an error only when the checking itself failed (memory, a library).
 */
struct hk_sbackup_check {
	const char *dir;		/* the backup folder */
	EVP_PKEY *pub;			/* the audit key to check with; NULL:
					 * the backup's audit/audit-key.pem */
	const char *store_id;		/* NULL, or the id it must have */
	const char *live_log;		/* NULL, or the live audit log */
	void (*problem)(const char *line, void *arg);	/* each problem */
	void *arg;			/* problem()'s argument */
	/* out */
	uint64_t problems;		/* problems found */
	uint64_t bytes;			/* bytes of the files listed */
	struct hk_sbackup_manifest *m;	/* MANIFEST parsed, or NULL (the
					 * caller frees it) */
	char key_hex[65];		/* SHA-256 of the key checked with */
	int live_other;			/* 1: live_log is another log (its id),
					 * no closed log it links back to is
					 * the backup's: not compared */
	char live_closed[4096];		/* the closed log compared with, ""
					 * when none */
	char live_gone[33];		/* the chain ended at this closed log,
					 * no longer kept; "" when not */
	char live_gone_until[21];	/* kept until then */
	int store_schema;		/* store.db's schema version (0: not
					 * read); one older than
					 * HK_STORE_SCHEMA (a backup taken
					 * before an upgrade) is checked
					 * against that version's schema */
};
int hk_sbackup_verify(struct hk_sbackup_check *c);

/* Size and SHA-256 of a regular file opened without following a link;
 * *not_regular = 1 (and 0 returned, nothing hashed) for anything else.
 * Errors name the cause only (the caller names the file). */
int hk_sbackup_file_hash(const char *path, uint64_t *size,
    unsigned char sha[32], int *not_regular);

#endif
