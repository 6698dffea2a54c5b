/*
 * cmd_backup.c - "hanko-online backup": the daily backup of the state
 * folder's records, and "backup verify" of one (docs/backup.md; CPS 4-11-6,
 * 4-12-2-4, 4-14-1; the MANIFEST format in sbackup.h).
 *
 * A backup is built in "<out>.backup-XXXXXX" beside --out and renamed into
 * place at the end, never over anything: a failure before leaves nothing
 * behind. Into it, in this order:
 *
 *   1. the state's files (state.conf, the profiles, municipalities.csv,
 *      certs/, bundles/, bundles.seen, audit/audit-key.pem, ...), under
 *      state.lock (the lock of state.conf's writers, held until step 2 is
 *      done) so that state.conf, what it names and the store's bundles
 *      are of one moment; not token/ and secrets/ (the
 *      keys and the PIN: CPS 6-2-1-4, the key managers' job), not
 *      crlcache/ (rebuilt from the store), locks and temporary files;
 *   2. store.db, by SQLite's online backup API (hk_store_snapshot) while
 *      issue, revoke, publish and serve go on: one read transaction, so the
 *      copy is the store as one commit left it;
 *   3. the audit log and its head file under the log's lock
 *      (hk_audit_copy), after the store: every record of what the copied
 *      store holds is in the copied log (records are written before the
 *      commits they record);
 *   4. MANIFEST (each file's size and SHA-256, the store id, where the log
 *      ends) and MANIFEST.sig, by the token's audit key, checked first.
 *
 * Then the folder is checked as "backup verify" checks it (every byte read
 * back, SQLite's integrity_check, the audit chain and signatures), every
 * file and folder fsynced, renamed into place, the folder holding it
 * fsynced; only then is backup.create recorded in the live audit log, so a
 * crash never leaves a record of a backup that is not there. A record that
 * cannot be appended removes the backup again (exit 6); a crash between
 * the rename and the record leaves a backup without its record
 * (docs/backup.md says how to tell).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "online.h"
#include "sbackup.h"
#include "state.h"
#include "store.h"

struct backup_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *out;		/* --out: the backup folder to make */
	const char *key;		/* verify --key PEM, or NULL */
	const char *dir;		/* verify: the backup folder */
	int verify;			/* 1: backup verify */
};

struct backup_work {
	const struct backup_opts *o;
	struct hk_online *on;
	char tmp[PATH_MAX];		/* "<out>.backup-XXXXXX" */
	int tmp_made;			/* 1 while tmp is ours to remove */
	char out[PATH_MAX];		/* the backup, absolute */
	char state[PATH_MAX];		/* the state folder, absolute */
	struct hk_sbackup_manifest *m;	/* what is copied */
	EVP_PKEY *priv, *pub;		/* the token's audit key */
	char mhex[65];			/* SHA-256 of MANIFEST */
	uint64_t bytes;			/* bytes of the files copied */
	char first[HK_ERR_DETAIL_MAX];	/* the first problem of the check */
	int lockfd;			/* state.lock, held over steps 1-2 */
};

static const char backup_usage[] =
"usage: hanko-online backup --state DIR --out DIR2 [--clock T]\n"
"       hanko-online backup verify DIR2 [--state DIR] [--key PEM]\n"
"  backup: the state's records into DIR2, a new folder (not the token and\n"
"  secrets/); verify: a backup's MANIFEST, signature, files, store and\n"
"  audit log; --state: also that it is that state's (its audit key)\n";

/* ---- options -------------------------------------------------------- */

static int
parse(struct backup_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--out", .value = &o->out, .required = 1 },
		{ .name = NULL },
	};
	int i, r;

	memset(o, 0, sizeof(*o));
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return hk_online_parse(&o->c, argc, argv, backup_usage, args,
		    NULL);
	o->verify = 1;
	for (i = 2; i < argc; i++) {
		if (hk_online_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			if (o->c.clock != NULL) {
				hk_err_set("--clock: not an option of backup "
				    "verify (see --help)");
				return HK_ERR_USAGE;
			}
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			fputs(backup_usage, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--key") == 0) {
			if ((r = hk_opt_once(&o->key, argc, argv, &i)) != 0)
				return r;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] == '-') {
			hk_err_set("%s: unknown option of backup verify (see "
			    "--help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if (o->dir != NULL) {
			hk_err_set("%s: one backup folder only", argv[i]);
			return HK_ERR_USAGE;
		}
		o->dir = argv[i];
	}
	if (o->dir == NULL) {
		hk_err_set("backup verify: the backup folder DIR2 is required "
		    "(see --help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

/* "<tmp>/<rel>" into buf. */
static int
tpath(const struct backup_work *w, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", w->tmp, rel);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s/%s: path too long", w->tmp, rel);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* ---- where the backup goes ------------------------------------------ */

/* Folders "<name>.backup-XXXXXX" in the folder that holds --out: a backup
 * that stopped before its rename (killed, power lost) left its work there,
 * incomplete and not recorded, a copy of the store among it. Named on
 * stderr, never removed (another backup may be running): the operators
 * remove them. */
static void
leftovers(const char *parent)
{
	static const char tag[] = ".backup-";
	char show[4 * 256 + 1];
	struct dirent *e;
	size_t n, i;
	DIR *d;

	if ((d = opendir(parent)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n <= sizeof(tag) - 1 + 6 || memcmp(e->d_name + n - 6 -
		    (sizeof(tag) - 1), tag, sizeof(tag) - 1) != 0)
			continue;
		for (i = n - 6; i < n; i++)
			if (!((e->d_name[i] >= 'A' && e->d_name[i] <= 'Z') ||
			    (e->d_name[i] >= 'a' && e->d_name[i] <= 'z') ||
			    (e->d_name[i] >= '0' && e->d_name[i] <= '9')))
				break;
		if (i < n)
			continue;
		hk_audit_escape(e->d_name, n, show);
		fprintf(stderr, "hanko-online backup: warning: %s%s%s: left by "
		    "a backup that stopped before it finished (killed, power "
		    "lost): incomplete and not recorded; remove it (rm -r) "
		    "once no backup is running\n", parent, strcmp(parent,
		    "/") == 0 ? "" : "/", show);
	}
	closedir(d);
}

/* --out: absent, its folder there, and not inside the state folder. */
static int
out_check(struct backup_work *w)
{
	char parent[PATH_MAX], rp[PATH_MAX], base[NAME_MAX + 1], *slash;
	const char *out = w->o->out;
	struct stat sb;
	size_t n;

	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(parent)) {
		hk_err_set("--out %s: a folder to make expected", out);
		return HK_ERR_USAGE;
	}
	memcpy(parent, out, n);
	parent[n] = '\0';
	if (lstat(parent, &sb) == 0) {
		hk_err_set("%s: already exists; a backup is made in a new "
		    "folder and never written over another", out);
		return HK_ERR_EXISTS;
	}
	/* ENOTDIR: a component of its path is not a folder; said below,
	 * as a missing one is, once the folder meant to hold it is known */
	if (errno != ENOENT && errno != ENOTDIR) {
		hk_err_set("%s: cannot stat: %s", out, strerror(errno));
		return HK_ERR_IO;
	}
	slash = strrchr(parent, '/');
	if ((size_t)snprintf(base, sizeof(base), "%s", slash != NULL ?
	    slash + 1 : parent) >= sizeof(base)) {
		hk_err_set("--out %s: name too long", out);
		return HK_ERR_INVALID;
	}
	if (slash == NULL)
		snprintf(rp, sizeof(rp), ".");
	else {
		*slash = '\0';
		snprintf(rp, sizeof(rp), "%s", slash == parent ? "/" : parent);
	}
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		hk_err_set("--out %s: a folder to make expected", out);
		return HK_ERR_USAGE;
	}
	if (realpath(rp, parent) == NULL) {
		int e = errno;
		hk_err_set("--out %s: the folder that should hold the backup, "
		    "%s: %s (a backup is made in an existing folder)", out, rp,
		    strerror(e));
		return e == ENOENT || e == ENOTDIR ? HK_ERR_NOT_FOUND :
		    HK_ERR_IO;
	}
	if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		hk_err_set("--out %s: the folder that should hold the backup, "
		    "%s: not a folder (a backup is made in an existing "
		    "folder)", out, rp);
		return HK_ERR_NOT_FOUND;
	}
	if (realpath(w->on->st->dir, w->state) == NULL) {
		hk_err_set("%s: %s", w->on->st->dir, strerror(errno));
		return HK_ERR_IO;
	}
	n = strlen(w->state);
	if (strncmp(parent, w->state, n) == 0 && (parent[n] == '\0' ||
	    parent[n] == '/' || n == 1)) {
		hk_err_set("--out %s: inside the state folder %s: a backup is "
		    "kept apart from what it backs up", out, w->state);
		return HK_ERR_INVALID;
	}
	if ((size_t)snprintf(w->out, sizeof(w->out), "%s%s%s", parent,
	    strcmp(parent, "/") == 0 ? "" : "/", base) >= sizeof(w->out)) {
		hk_err_set("--out %s: path too long", out);
		return HK_ERR_INVALID;
	}
	leftovers(parent);
	return 0;
}

/* ---- the audit key -------------------------------------------------- */

/* The token's audit key, and the state's audit/audit-key.pem is its
 * public half (a backup is checked with that file). */
static int
key_load(struct backup_work *w)
{
	const char *uri = hk_state_get(w->on->st, "audit.key-uri");
	unsigned char *buf = NULL;
	char path[4096];
	size_t len = 0;
	EVP_PKEY *pem = NULL;
	BIO *bio = NULL;
	int r;

	if (uri == NULL) {
		hk_err_set("%s/state.conf: audit.key-uri missing",
		    w->on->st->dir);
		return HK_ERR_STATE;
	}
	if ((r = hk_online_login(w->on)) != 0 ||
	    (r = hk_token_key(w->on->tok, uri, &w->priv, &w->pub)) != 0 ||
	    (r = hk_online_path(w->on, HK_SBACKUP_KEY, path,
	    sizeof(path))) != 0 ||
	    (r = hk_file_read(path, 16384, &buf, &len)) != 0)
		return r;
	r = HK_ERR_STATE;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (pem = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
		hk_err_set("%s: not a PEM public key", path);
	else if (EVP_PKEY_eq(pem, w->pub) != 1)
		hk_err_set("%s: not the public key of the token's audit key "
		    "(%s): a backup could not be checked with it", path, uri);
	else
		r = 0;
	ERR_clear_error();
	EVP_PKEY_free(pem);
	BIO_free(bio);
	free(buf);
	return r;
}

/* ---- 1. the state's files ------------------------------------------- */

/* "<name>.tmp-" and 16 hex digits: what an atomic write or an import
 * left (hk_file_write, hk_wfile, hk_bundle_import). */
static int
is_temp(const char *name)
{
	const char *t = strstr(name, ".tmp-");
	size_t i;

	while (t != NULL) {
		for (i = 0; i < 16; i++)
			if (!((t[5 + i] >= '0' && t[5 + i] <= '9') ||
			    (t[5 + i] >= 'a' && t[5 + i] <= 'f')))
				break;
		if (i == 16 && t[21] == '\0')
			return 1;
		t = strstr(t + 1, ".tmp-");
	}
	return 0;
}

/* Not copied by the walk: the keys and the PIN, what is rebuilt, locks,
 * and what steps 2 and 3 copy. */
static int
skipped(const char *rel, const char *name)
{
	static const char *top[] = { "token", "secrets", "crlcache",
	    HK_SBACKUP_STORE, "store.db-wal", "store.db-shm",
	    "store.db-journal" };
	size_t i, n = strlen(name);

	if (is_temp(name))
		return 1;
	if (rel[0] == '\0') {
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if (strcmp(name, top[i]) == 0)
				return 1;
		return n > 5 && strcmp(name + n - 5, ".lock") == 0;
	}
	return strcmp(rel, "audit") == 0 && (strcmp(name, "audit.log") == 0 ||
	    strcmp(name, "audit.log.head") == 0);
}

/* A copy of the token or of its PIN under another name: at the top,
 * "token..." or "secrets..." other than those two (token.bak/,
 * secrets.old/, an archive of them), and anywhere the PIN file's name or
 * SoftHSM2's token file. Never copied: the backup stops, naming it. */
static int
secret_copy(const char *rel, const char *name)
{
	const char *pin = strrchr(HK_ONLINE_PIN_FILE, '/') + 1;

	if (strcmp(name, pin) == 0 || strcmp(name, "token.object") == 0)
		return 1;
	return rel[0] == '\0' && (strncmp(name, "token", 5) == 0 ||
	    strncmp(name, "secrets", 7) == 0);
}

/* Copy the regular file src into the new file dst (src's mode), hashing
 * what was written; list it as rel. */
static int
file_copy(struct backup_work *w, const char *src, const char *dst,
    const char *rel)
{
	struct hk_wfile *wf = NULL;
	unsigned char *buf = NULL, sha[32];
	EVP_MD_CTX *h = NULL;
	struct stat sb;
	uint64_t size = 0;
	ssize_t got;
	int fd, r = HK_ERR_ALLOC;

	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open: %s", src, strerror(errno));
		return HK_ERR_IO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		hk_err_set("%s: not a regular file: a state folder holds none; "
		    "move it out of the state folder, nothing backed up", src);
		close(fd);
		return HK_ERR_STATE;
	}
	if ((wf = malloc(sizeof(*wf))) == NULL ||
	    (buf = malloc(1 << 16)) == NULL || (h = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if ((r = hk_wfile_open(wf, dst, sb.st_mode & 0777,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	while ((got = read(fd, buf, 1 << 16)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			hk_err_set("%s: cannot read: %s", src, strerror(errno));
			hk_wfile_abort(wf);
			r = HK_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(h, buf, (size_t)got) != 1 ||
		    (r = hk_wfile_write(wf, buf, (size_t)got)) != 0) {
			hk_wfile_abort(wf);
			r = r != 0 ? r : HK_ERR_CRYPTO;
			goto out;
		}
		size += (uint64_t)got;
	}
	if ((r = hk_wfile_commit(wf)) != 0)
		goto out;
	if (EVP_DigestFinal_ex(h, sha, NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	w->bytes += size;
	r = hk_sbackup_add(w->m, rel, size, sha);
 out:
	EVP_MD_CTX_free(h);
	free(buf);
	free(wf);
	close(fd);
	return r;
}

/* A folder of the backup, made and its entry made durable. */
static int
dir_make(const char *path, mode_t mode)
{
	int r;

	if ((r = hk_dir_create(path, (mode & 0777) | 0700)) != 0)
		return r;
	if (hk_dir_sync(path) != 0) {
		hk_err_set("%s: fsync of the folder holding it: %s", path,
		    strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

/* Copy folder rel ("" for the state folder itself) into the backup. */
static int
copy_tree(struct backup_work *w, const char *rel, int depth, size_t *copied)
{
	char src[PATH_MAX], dst[PATH_MAX], sub[HK_SBACKUP_PATH_MAX + 512];
	char dirp[PATH_MAX], show[4 * 256 + 1];
	struct dirent *de;
	struct stat sb;
	size_t below;
	DIR *d;
	int r = 0;

	if ((size_t)snprintf(dirp, sizeof(dirp), "%s%s%s", w->state, rel[0] ?
	    "/" : "", rel) >= sizeof(dirp)) {
		hk_err_set("%s/%s: path too long", w->state, rel);
		return HK_ERR_STATE;
	}
	if ((d = opendir(dirp)) == NULL) {
		hk_err_set("%s: cannot read the folder: %s", dirp,
		    strerror(errno));
		return HK_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || skipped(rel, de->d_name))
			continue;
		if (!hk_sbackup_name_ok(de->d_name, strlen(de->d_name))) {
			hk_audit_escape(de->d_name, strlen(de->d_name) > 256 ?
			    256 : strlen(de->d_name), show);
			hk_err_set("%s/%s: a name outside [A-Za-z0-9._-] (or "
			    "starting with '.'): the state folder holds none "
			    "of hanko's; move it out of the state folder, "
			    "nothing backed up", dirp, show);
			r = HK_ERR_STATE;
			break;
		}
		if (secret_copy(rel, de->d_name)) {
			hk_err_set("%s/%s: a copy of the token or of its PIN "
			    "(token/, secrets/) under another name: a backup "
			    "never holds them; move it out of the state folder "
			    "(the key managers back up the token: "
			    "docs/backup.md), nothing backed up", dirp,
			    de->d_name);
			r = HK_ERR_STATE;
			break;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		    de->d_name);
		if ((size_t)snprintf(src, sizeof(src), "%s/%s", w->state,
		    sub) >= sizeof(src) || (size_t)snprintf(dst, sizeof(dst),
		    "%s/%s", w->tmp, sub) >= sizeof(dst) ||
		    !hk_sbackup_path_ok(sub)) {
			hk_err_set("%s/%s: path too long or nested too deep",
			    w->state, sub);
			r = HK_ERR_STATE;
			break;
		}
		if (lstat(src, &sb) != 0) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			hk_err_set("%s: cannot stat: %s", src,
			    strerror(errno));
			r = HK_ERR_IO;
			break;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (depth + 1 >= HK_SBACKUP_DEPTH_MAX) {
				hk_err_set("%s: folders nested too deep", src);
				r = HK_ERR_STATE;
				break;
			}
			if ((r = dir_make(dst, sb.st_mode)) != 0)
				break;
			below = 0;
			if ((r = copy_tree(w, sub, depth + 1, &below)) != 0)
				break;
			if (below == 0 && rmdir(dst) != 0) {
				hk_err_set("%s: cannot remove: %s", dst,
				    strerror(errno));
				r = HK_ERR_IO;
				break;
			}
			*copied += below;
			continue;
		}
		if (!S_ISREG(sb.st_mode)) {
			hk_err_set("%s: not a regular file or folder (a "
			    "symbolic link, a FIFO, ...): a state folder holds "
			    "none; move it out of the state folder, nothing "
			    "backed up", src);
			r = HK_ERR_STATE;
			break;
		}
		if ((r = file_copy(w, src, dst, sub)) != 0)
			break;
		(*copied)++;
	}
	closedir(d);
	return r;
}

/* Step 1, under state.lock, waited for: request, responder, profile
 * accept, import and revoke --issuing-key-compromise finish first, and none
 * of them starts meanwhile (they are refused at once, and say so). The
 * lock is kept (w->lockfd) until the store is copied too: an import
 * committed between the two would leave a backup whose store has a bundle
 * that its bundles/ lacks. */
static int
copy_files(struct backup_work *w)
{
	size_t copied = 0;
	int r;

	if ((r = hk_online_lock_wait(w->on, "state.lock", &w->lockfd)) != 0)
		return r;
	return copy_tree(w, "", 0, &copied);
}

/* ---- 2. and 3. the store and the audit log --------------------------- */

/* Size and SHA-256 of a file of the backup (a regular file, as made). */
static int
hash_file(const char *path, uint64_t *size, unsigned char sha[32])
{
	int r, nr = 0;

	if ((r = hk_sbackup_file_hash(path, size, sha, &nr)) != 0) {
		hk_err_set("%s: %s", path, hk_err_msg());
		return r;
	}
	if (nr) {
		hk_err_set("%s: not a regular file", path);
		return HK_ERR_IO;
	}
	return 0;
}

static int
copy_store(struct backup_work *w)
{
	char src[4096], dst[PATH_MAX];
	unsigned char sha[32];
	uint64_t size;
	int r;

	if ((r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, src,
	    sizeof(src))) != 0)
		return r;
	if ((r = tpath(w, HK_SBACKUP_STORE, dst, sizeof(dst))) != 0 ||
	    (r = hk_store_snapshot(src, dst)) != 0)
		return r;
	if (hk_dir_sync(dst) != 0) {
		hk_err_set("%s: fsync of its folder: %s", dst,
		    strerror(errno));
		return HK_ERR_IO;
	}
	/* its bytes as they are on the disk now */
	if ((r = hash_file(dst, &size, sha)) != 0)
		return r;
	w->bytes += size;
	return hk_sbackup_add(w->m, HK_SBACKUP_STORE, size, sha);
}

static int
copy_log(struct backup_work *w)
{
	struct hk_audit_copy ac;
	char dst[PATH_MAX];
	int r;

	if ((r = tpath(w, "audit", dst, sizeof(dst))) != 0 ||
	    (!hk_path_exists(dst) && (r = dir_make(dst, 0700)) != 0) ||
	    (r = tpath(w, HK_SBACKUP_LOG, dst, sizeof(dst))) != 0 ||
	    (r = hk_audit_copy(w->on->audit_log, dst, &ac)) != 0)
		return r;
	memcpy(w->m->log_id, ac.log_id, sizeof(ac.log_id));
	memcpy(w->m->log_hash, ac.last_hash, sizeof(ac.last_hash));
	w->m->log_seq = ac.last_seq;
	w->bytes += ac.log_size + ac.head_size;
	if ((r = hk_sbackup_add(w->m, HK_SBACKUP_LOG, ac.log_size,
	    ac.log_sha256)) != 0)
		return r;
	return hk_sbackup_add(w->m, HK_SBACKUP_HEAD, ac.head_size,
	    ac.head_sha256);
}

/* ---- 4. MANIFEST and its signature ---------------------------------- */

static int
manifest_write(struct backup_work *w)
{
	const char *id = hk_state_get(w->on->st, "store.id");
	char *text = NULL, *esc = NULL, path[PATH_MAX];
	unsigned char *sig = NULL, d[32];
	size_t len = 0, siglen = 0, n;
	int r;

	if (id == NULL) {
		hk_err_set("%s/state.conf: store.id missing", w->on->st->dir);
		return HK_ERR_STATE;
	}
	n = strlen(w->state);
	if (n > 1000) {
		hk_err_set("%s: path longer than a MANIFEST's state line takes "
		    "(1000 bytes)", w->state);
		return HK_ERR_INVALID;
	}
	if ((esc = malloc(4 * n + 1)) == NULL)
		return HK_ERR_ALLOC;
	hk_audit_escape(w->state, n, esc);
	w->m->state = esc;
	snprintf(w->m->store_id, sizeof(w->m->store_id), "%s", id);
	hk_time_format(hk_clock_now(), w->m->created, sizeof(w->m->created));
	if ((r = hk_sbackup_key_sha256(w->pub, w->m->key_sha256)) != 0 ||
	    (r = hk_sbackup_encode(w->m, &text, &len)) != 0 ||
	    (r = hk_sbackup_sign(w->priv, w->pub, text, len, &sig,
	    &siglen)) != 0)
		goto out;
	if ((r = tpath(w, HK_SBACKUP_MANIFEST, path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, text, len, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	if ((r = tpath(w, HK_SBACKUP_SIG, path, sizeof(path))) != 0 ||
	    (r = hk_file_write(path, sig, siglen, 0644,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	SHA256((const unsigned char *)text, len, d);
	hk_hex_encode(d, 32, w->mhex);
 out:
	free(sig);
	free(text);
	return r;
}

/* ---- the check, and into place -------------------------------------- */

static void
first_problem(const char *line, void *arg)
{
	struct backup_work *w = arg;

	if (w->first[0] == '\0')
		snprintf(w->first, sizeof(w->first), "%s", line);
}

/* The folder built, checked as backup verify checks a backup. */
static int
self_check(struct backup_work *w)
{
	struct hk_sbackup_check c;
	int r;

	memset(&c, 0, sizeof(c));
	c.dir = w->tmp;
	c.pub = w->pub;
	c.store_id = w->m->store_id;
	c.problem = first_problem;
	c.arg = w;
	if ((r = hk_sbackup_verify(&c)) != 0)
		return r;
	hk_sbackup_free(c.m);
	if (c.problems == 0)
		return 0;
	hk_err_set("the backup made does not verify, so none is kept (%" PRIu64
	    " problem%s): %s", c.problems, c.problems == 1 ? "" : "s",
	    w->first);
	return HK_ERR_VERIFY;
}

/* Every folder of the backup fsynced, deepest first (the files were,
 * each as it was written). */
static int
sync_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, r = 0;

	if ((d = opendir(path)) == NULL) {
		hk_err_set("%s: cannot read the folder: %s", path,
		    strerror(errno));
		return HK_ERR_IO;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) < sizeof(sub) && lstat(sub, &sb) == 0 &&
		    S_ISDIR(sb.st_mode))
			r = sync_tree(sub);
	}
	closedir(d);
	if (r != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		hk_err_set("%s: fsync: %s", path, strerror(errno));
		r = HK_ERR_IO;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* Rename the folder built into place, never over anything, and make its
 * entry durable; a backup whose entry could not be made durable is
 * removed again (the next run is not stopped by "already exists"). */
static int
place(struct backup_work *w)
{
	int r, placed;

	r = hk_dir_place(w->tmp, w->out, &placed);
	if (placed)
		w->tmp_made = 0;
	return r;
}

static int
backup_run(struct backup_work *w)
{
	int r;

	if ((r = hk_sbackup_new(&w->m)) != 0 ||
	    (r = key_load(w)) != 0)
		return r;
	/* the live chain is sound and sealed up to here */
	if ((r = hk_online_checkpoint(w->on)) != 0)
		return r;
	if ((r = hk_dir_temp_beside(w->out, "backup", w->tmp,
	    sizeof(w->tmp))) != 0)
		return r;
	w->tmp_made = 1;
	r = copy_files(w);
	if (r == 0)
		r = copy_store(w);
	if (w->lockfd >= 0) {
		close(w->lockfd);
		w->lockfd = -1;
	}
	if (r != 0 || (r = copy_log(w)) != 0 || (r = manifest_write(w)) != 0 ||
	    (r = self_check(w)) != 0 || (r = sync_tree(w->tmp)) != 0)
		return r;
	return place(w);
}

static int
backup_create(const struct backup_opts *o)
{
	struct backup_work w;
	struct hk_err_kept lost;
	int r;

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.lockfd = -1;
	if ((r = hk_online_open(&o->c, &w.on)) != 0)
		goto out;
	if ((r = out_check(&w)) != 0 || (r = backup_run(&w)) != 0)
		goto fail;
	/* recorded once it is there: a record names no backup that is not */
	if ((r = hk_online_audit(w.on, "backup.create", "ok", "%s: MANIFEST "
	    "SHA-256 %s; %zu files, %" PRIu64 " bytes; store id %s; audit log "
	    "%s up to record %" PRIu64 "; not in it: token/ and secrets/ "
	    "(docs/backup.md)", w.out, w.mhex, w.m->n, w.bytes,
	    w.m->store_id, w.m->log_id, w.m->log_seq)) != 0) {
		/* hk_online_audit said why on stderr */
		if (hk_tree_remove(w.out) == 0)
			hk_err_set("audit record backup.create ok not written: "
			    "the backup %s was removed again, none kept",
			    w.out);
		else
			hk_err_set("audit record backup.create ok not written, "
			    "and the backup %s could not be removed again "
			    "(%s): remove it by hand", w.out, hk_err_msg());
		r = HK_ERR_AUDIT;
		goto out;
	}
	/* the backup is recorded: it stays; a closing checkpoint that
	 * cannot be appended leaves backup.create unsigned, so the run ends
	 * with exit 6 naming it (below; docs/audit-log.md) */
	if ((r = hk_online_checkpoint(w.on)) != 0) {
		hk_err_keep(&lost);
		fprintf(stderr, "hanko-online: %s: no checkpoint: %s\n",
		    w.on->audit_log, lost.msg);
	} else
		lost.msg[0] = '\0';
	printf("Backup %s: %zu files, %" PRIu64 " bytes; store id %s; audit "
	    "log %s up to record %" PRIu64 "\n", w.out, w.m->n, w.bytes,
	    w.m->store_id, w.m->log_id, w.m->log_seq);
	printf("MANIFEST SHA-256 %s, signed by the audit key (SPKI SHA-256 "
	    "%s); recorded as backup.create\n", w.mhex, w.m->key_sha256);
	printf("Not in it: token/ and secrets/ (the keys and the PIN, backed "
	    "up by the key managers: docs/backup.md)\n");
	r = 0;
	if (lost.msg[0] != '\0') {
		char done[HK_ERR_DETAIL_MAX], rec[HK_ERR_DETAIL_MAX];

		snprintf(done, sizeof(done), "backup %s: made, verified and "
		    "recorded (backup.create; kept)", w.out);
		snprintf(rec, sizeof(rec), "the backup (%s, MANIFEST SHA-256 "
		    "%s; the next command's checkpoint signs backup.create)",
		    w.out, w.mhex);
		r = hk_online_unrecorded(done, "its closing checkpoint "
		    "(audit.checkpoint) is", lost.msg, rec);
	}
	goto out;
 fail:
	if (w.tmp_made)
		(void)hk_tree_remove_after(w.tmp, "hanko-online backup");
	w.tmp_made = 0;
	if (w.on != NULL && r != HK_ERR_USAGE) {
		hk_online_audit(w.on, "backup.create", "fail", "%s: %s; "
		    "nothing kept", w.out[0] ? w.out : o->out, hk_err_msg());
		/* a log that failed its own check is not signed again */
		if (w.on->tok != NULL && r != HK_ERR_AUDIT)
			hk_online_checkpoint_keep_err(w.on);
	}
 out:
	hk_sbackup_free(w.m);
	EVP_PKEY_free(w.priv);
	EVP_PKEY_free(w.pub);
	hk_online_close(w.on);
	return r;
}

/* ---- backup verify -------------------------------------------------- */

static void
print_problem(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}


static int
backup_verify(const struct backup_opts *o)
{
	struct hk_sbackup_check c;
	struct hk_state *st = NULL;
	const char *kind, *from = "the backup's own " HK_SBACKUP_KEY;
	char key[4096], live[4096];
	EVP_PKEY *pub = NULL;
	struct stat sb;
	int r;

	memset(&c, 0, sizeof(c));
	if (lstat(o->dir, &sb) != 0) {
		hk_err_set("%s: %s", o->dir, strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	if (!S_ISDIR(sb.st_mode)) {
		hk_err_set("%s: not a folder (a backup is one)", o->dir);
		return HK_ERR_NOT_FOUND;
	}
	if (o->c.state != NULL) {
		if ((r = hk_state_load(o->c.state, &st)) != 0)
			goto out;
		kind = hk_state_get(st, "kind");
		if (kind == NULL || strcmp(kind, "online") != 0) {
			hk_err_set("%s/state.conf: kind: not an online state "
			    "folder (made by hanko-online init)", o->c.state);
			r = HK_ERR_STATE;
			goto out;
		}
		if ((c.store_id = hk_state_get(st, "store.id")) == NULL) {
			hk_err_set("%s/state.conf: store.id missing",
			    o->c.state);
			r = HK_ERR_STATE;
			goto out;
		}
		if ((r = hk_state_path(st, HK_SBACKUP_LOG, live,
		    sizeof(live))) != 0)
			goto out;
		c.live_log = live;
		if (o->key == NULL) {
			if ((r = hk_state_path(st, HK_SBACKUP_KEY, key,
			    sizeof(key))) != 0 || (r = hk_audit_pub_load(key,
			    &pub)) != 0)
				goto out;
			from = "the state's " HK_SBACKUP_KEY;
		}
	}
	if (o->key != NULL) {
		if ((r = hk_audit_pub_load(o->key, &pub)) != 0)
			goto out;
		from = "--key";
	}
	c.dir = o->dir;
	c.pub = pub;
	c.problem = print_problem;
	if ((r = hk_sbackup_verify(&c)) != 0)
		goto out;
	if (c.problems != 0) {
		hk_err_set("%s: %" PRIu64 " problem%s: not a sound backup%s",
		    o->dir, c.problems, c.problems == 1 ? "" : "s",
		    o->c.state != NULL ? " of this state" : "");
		r = HK_ERR_VERIFY;
		goto out;
	}
	printf("%s: OK: a backup of %s made %s: %zu files, %" PRIu64 " bytes; "
	    "store id %s%s; audit log %s up to record %" PRIu64 "\n", o->dir,
	    c.m->state, c.m->created, c.m->n, c.bytes, c.m->store_id,
	    o->c.state != NULL ? " (this state's)" : "", c.m->log_id,
	    c.m->log_seq);
	printf("MANIFEST.sig verifies with the audit key SPKI SHA-256 %s "
	    "(from %s)%s\n", c.key_hex, from, pub == NULL ? ": it proves the "
	    "backup whole, not whose it is; compare that SHA-256 with the "
	    "state's or the paper record's" : "");
	if (c.store_schema != HK_STORE_SCHEMA)
		printf("store.db is of schema %d (taken before an upgrade of "
		    "hanko; this hanko-online's is %d), checked against schema "
		    "%d as init and the upgrades made it: the first command "
		    "after a restore upgrades it to %d%s%s (audited "
		    "store.upgrade; docs/store.md, schema versions)\n",
		    c.store_schema, HK_STORE_SCHEMA, c.store_schema,
		    HK_STORE_SCHEMA, c.store_schema == 6 ? ", recording store "
		    "id " : "", c.store_schema == 6 ? c.m->store_id : "");
	if (c.live_closed[0] != '\0')
		printf("%s's audit log is a new log begun by the yearly close "
		    "since the backup; the closed log %s it links back to "
		    "begins with the backup's copy (no record changed or "
		    "removed before the close)\n", o->c.state, c.live_closed);
	else if (c.live_other)
		printf("Note: %s's audit log is another log (begun since the "
		    "backup) and no closed log it links back to is the "
		    "backup's%s%s%s%s%s: not compared with the backup's\n",
		    o->c.state, c.live_gone[0] ? " (the links end at the "
		    "closed log " : "", c.live_gone, c.live_gone[0] ? ", no "
		    "longer kept: CPS 4-11-4 kept it until " : "",
		    c.live_gone_until, c.live_gone[0] ? ")" : "");
	else if (c.live_log != NULL)
		printf("%s's audit log begins with the backup's copy (no "
		    "record changed or removed since)\n", o->c.state);
	r = 0;
 out:
	hk_sbackup_free(c.m);
	EVP_PKEY_free(pub);
	hk_state_free(st);
	return r;
}

int
cmd_backup(int argc, char **argv)
{
	struct backup_opts o;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	return o.verify ? backup_verify(&o) : backup_create(&o);
}
