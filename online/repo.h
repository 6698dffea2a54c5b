/*
 * repo.h - the repository folder of hanko-online (docs/repository.md):
 * written by "publish" as complete sets, read by "serve" and the LDAP
 * publisher.
 *
 * <repo> is a symbolic link to "<repo>.sets/<n>" (relative, n increasing).
 * A set is written completely in a temporary folder "<repo>.sets/.new-*"
 * (every file and folder fsynced, MANIFEST last), renamed to its number,
 * then the link is replaced by rename(2) of a temporary link and the parent
 * folder fsynced: a reader sees the old set or the new one, never a mix.
 * The two sets published before the current one are kept (a reader holding
 * one keeps reading it); older ones are removed, and so is a set a crashed
 * run renamed into place but never swapped in.
 *
 * MANIFEST has one line per file, sorted by path:
 *   <sha256 hex> <size> <path>
 *   <sha256 hex> <size> <path> <thisUpdate> <nextUpdate> <cRLNumber>
 * the second form for CRLs and the ARL (times as YYYY-MM-DDTHH:MM:SSZ).
 */
#ifndef HK_REPO_H
#define HK_REPO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HK_REPO_PATH_MAX	96	/* bytes of a path inside a set */
#define HK_REPO_FILES_MAX	4096	/* files in one set */
#define HK_REPO_FILE_MAX	((size_t)1 << 31) /* bytes of one file */
#define HK_REPO_KEEP		2	/* previous sets kept */
#define HK_REPO_MANIFEST	"MANIFEST"

/* One file of a set, as its MANIFEST line says. */
struct hk_repo_file {
	char path[HK_REPO_PATH_MAX];	/* relative: "crl/431010.crl" */
	unsigned char sha256[32];	/* of the file's bytes */
	uint64_t size;			/* bytes */
	int is_crl;			/* 1: a CRL or ARL (then the three
					 * below are set) */
	time_t this_update;		/* thisUpdate */
	time_t next_update;		/* nextUpdate */
	uint64_t number;		/* cRLNumber */
};

/* An open set (the current one when opened). */
struct hk_repo_set {
	unsigned long n;		/* its number */
	char dir[4096];			/* "<repo>.sets/<n>" */
	int dfd;			/* the set folder, held open */
	size_t nfiles;			/* MANIFEST lines */
	struct hk_repo_file *files;	/* sorted by path */
};

/*
 * Open the current set of repo: resolve the link once, open the folder,
 * read and strictly parse its MANIFEST. HK_ERR_NOT_FOUND when repo does not
 * exist (nothing published yet); HK_ERR_STATE when repo is not such a link.
 */
int hk_repo_open(const char *repo, struct hk_repo_set **out);
void hk_repo_close(struct hk_repo_set *set);
/* The MANIFEST line of path, or NULL. */
const struct hk_repo_file *hk_repo_find(const struct hk_repo_set *set,
    const char *path);
/* When set was published: the latest thisUpdate of its crl/ files (0
 * when it has none). */
time_t hk_repo_published_at(const struct hk_repo_set *set);
/* Read path from the set (no link followed), checked against its MANIFEST
 * line (size, SHA-256). *buf malloc'd. */
int hk_repo_read(const struct hk_repo_set *set, const char *path,
    unsigned char **buf, size_t *len);
/* Check f (a line of set's MANIFEST) against the file's bytes, read in
 * pieces: 0 when its size and SHA-256 are the line's; else HK_ERR_VERIFY
 * (or HK_ERR_NOT_FOUND, HK_ERR_IO when it cannot be read) and why says
 * what failed: "MANIFEST: size is 7, not 1178", "MANIFEST: SHA-256
 * differs", "cannot open: <errno text>". No error is set. */
int hk_repo_check(const struct hk_repo_set *set, const struct hk_repo_file *f,
    char *why, size_t wlen);

/* 1 when anyone may fetch path (CPS 2-6-3: certificates, ARL); 0 when only
 * a registered relying party may (CPS 2-6-3, 4-4-4-5: crl/ and MANIFEST). */
int hk_repo_public(const char *path);
/* The Content-Type of path (RFC 2585, RFC 5280 4.2.1.13 practice). */
const char *hk_repo_content_type(const char *path);

/* A set being written. */
struct hk_repo_writer;

/* Start a set for repo (refuses a repo that exists and is not a link to
 * "<repo>.sets/<n>"; removes temporary folders left by a crash). */
int hk_repo_begin(const char *repo, struct hk_repo_writer **out);
/* Write path (mode 0644, fsynced) into the set; crl: the CRL fields for
 * MANIFEST, or NULL. */
int hk_repo_add(struct hk_repo_writer *w, const char *path,
    const void *buf, size_t len, const struct hk_repo_file *crl);
/* MANIFEST, fsync, rename to the next number, swap the link, prune. *n is
 * the new set's number. On failure before the swap nothing is visible. */
int hk_repo_commit(struct hk_repo_writer *w, unsigned long *n);
/* Remove the temporary set (after a failure) and free w; NULL is fine. */
void hk_repo_abort(struct hk_repo_writer *w);

#endif
