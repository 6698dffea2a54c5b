/*
 * audit_backup.c - "hanko-offline audit backup": the daily and monthly
 * backup of the audit log to external media (CPS 4-11-5, 4-11-6;
 * docs/audit-log.md "Backup").
 *
 * A backup is a folder holding audit.log and audit.log.head, built in
 * "<out>.backup-XXXXXX" beside where it goes, on the medium:
 *
 *   1. the log and its head file copied under the log's lock
 *      (hk_audit_copy: appends wait, so the copy holds no half record and
 *      the head file of the log copied), each fsynced with its folder;
 *   2. both read back (their SHA-256 must be what was copied), and the copy
 *      verified: chain, head file and every checkpoint's signature by the
 *      audit key the state knows (audit/audit-key.pem);
 *   3. compared with the previous backup (--previous, else the backup of
 *      this log with the highest head seq on the medium), itself verified
 *      first: the same log id, and the previous bytes a prefix of the
 *      copy's. A copy that does not extend it is refused, naming the first
 *      record that differs or is missing (records changed or removed from
 *      the log: an incident for the internal auditor). A previous backup of
 *      another log id is a new log (after the yearly close): said, not
 *      compared;
 *   4. a log begun by the yearly close: the closed log its audit.link
 *      names (and the one that closed log links to, and so on back, while
 *      audit/closed/ keeps them) copied with its head file into the
 *      backup's closed/ (hk_audit_copy), read back and verified as the
 *      closed log it is (audit key, audit.close and its checkpoint last,
 *      the link matching): every backup of the new log carries them, so
 *      the close's own records reach the medium and a backup folder
 *      stands alone (docs/audit-log.md "Backup");
 *   5. renamed into place, never over anything, its folder fsynced;
 *   6. only then log.backup ok recorded in the live log with the copy's
 *      SHA-256 and head seq (and each closed log's), so a crash never
 *      leaves a record of a backup that is not there. A record that cannot
 *      be appended removes the backup again (exit 6).
 *
 * Any failure leaves nothing on the medium and is recorded as log.backup
 * fail. No token, no quorum: the audit key's public half is enough.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "state.h"

#define ABK_LOG		"audit.log"
#define ABK_HEAD	"audit.log.head"
#define ABK_TAG		"backup"	/* "<out>.backup-XXXXXX" while built */
#define ABK_CLOSED	"closed"	/* the closed logs carried */
#define ABK_HEAD_MAGIC	"hanko-audit-head-1 log-id="

static const char abk_usage[] =
"usage: hanko-offline audit backup --state DIR --out MEDIUM|NEWDIR\n"
"           [--previous BACKUP] [--clock TIME]\n"
"  --out MEDIUM   an existing folder: the backup is made in it as\n"
"                 audit-YYYYMMDDTHHMMSSZ/ (audit.log, audit.log.head;\n"
"                 after a close, closed/ with the closed log linked to)\n"
"  --out NEWDIR   a folder to make (its parent is the medium)\n"
"  --previous     the backup to extend (a backup folder, or a copied\n"
"                 audit.log with its .head); default: the newest backup\n"
"                 of this log on the medium\n";

struct abk_opts {
	struct hk_common_opts c;	/* --state, --clock */
	const char *out;		/* --out: the medium, or the folder
					 * to make */
	const char *previous;		/* --previous, or NULL: found on
					 * the medium */
};

/* The previous backup the copy must extend. */
struct abk_prev {
	char log[PATH_MAX + 16];	/* its audit.log; "" when none */
	char log_id[33];		/* its log id (verified) */
	uint64_t last_seq;		/* its last record */
	char other[PATH_MAX + 16];	/* no backup of this log on the
					 * medium, but one of another log:
					 * its audit.log */
	char other_id[33];		/* that one's log id */
	char closed[PATH_MAX];		/* other is the log the live log's
					 * link names: its closed log, which
					 * extends other (compared) */
};

/* A closed log carried in the backup's closed/. */
struct abk_closed {
	char path[PATH_MAX + NAME_MAX + 16];	/* its copy, once placed: the
					 * backup's closed/<name> */
	struct hk_audit_copy ac;	/* what was copied */
	int64_t close_seq;		/* its audit.close record */
};

struct abk_work {
	const struct abk_opts *o;
	struct hk_ca *ca;		/* the state; its live log */
	EVP_PKEY *pub;			/* audit/audit-key.pem */
	char medium[PATH_MAX];		/* the folder that holds the backup */
	char out[PATH_MAX];		/* the backup folder, absolute */
	char tmp[PATH_MAX];		/* "<out>.backup-XXXXXX" while built */
	int tmp_made;			/* 1 while tmp is ours to remove */
	char tlog[PATH_MAX + 16];	/* <tmp>/audit.log */
	struct hk_audit_copy ac;	/* what was copied */
	struct hk_audit_report rep;	/* the copy's verification */
	struct abk_prev prev;		/* what it extends */
	uint64_t new_records;		/* records after the previous
					 * backup's */
	struct abk_closed *cl;		/* the closed logs carried */
	size_t ncl;
	struct hk_audit_gone gone;	/* one no longer kept, not carried */
};

static int
abk_parse(struct abk_opts *o, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0) {
			fputs(abk_usage, stdout);
			return 1;
		}
		if (hk_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--out") == 0)
			slot = &o->out;
		else if (strcmp(argv[i], "--previous") == 0)
			slot = &o->previous;
		else {
			hk_err_set("%s: unknown option (see 'hanko-offline "
			    "audit backup --help')", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	if (o->c.state == NULL || o->out == NULL) {
		hk_err_set("audit backup: --state DIR and --out MEDIUM are "
		    "required (see --help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

/* "<dir>/<name>" into buf. */
static int
join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s%s%s", dir, strcmp(dir, "/") == 0 ?
	    "" : "/", name);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s/%s: path too long", dir, name);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* ---- where the backup goes ------------------------------------------ */

/*
 * --out: an existing folder is the medium and the backup gets a name made
 * of the time; anything else there, or a folder holding audit.log, is
 * refused; a path that does not exist is the backup folder, in a folder
 * that does. Never inside the state.
 */
static int
out_resolve(struct abk_work *w)
{
	char path[PATH_MAX], rp[PATH_MAX], state[PATH_MAX], name[NAME_MAX + 1];
	char stamp[32], *slash;
	const char *out = w->o->out;
	struct stat sb;
	size_t n, i, k;

	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(path)) {
		hk_err_set("--out %s: a folder expected", out);
		return HK_ERR_USAGE;
	}
	memcpy(path, out, n);
	path[n] = '\0';
	if (stat(path, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			hk_err_set("--out %s: already exists and is not a "
			    "folder; a backup is made new, never over "
			    "anything", out);
			return HK_ERR_EXISTS;
		}
		if (realpath(path, w->medium) == NULL) {
			hk_err_set("--out %s: %s", out, strerror(errno));
			return HK_ERR_IO;
		}
		/* a backup folder given again is not a medium */
		if (join(rp, sizeof(rp), w->medium, ABK_LOG) != 0)
			return HK_ERR_INVALID;
		if (hk_path_exists(rp)) {
			hk_err_set("--out %s: already exists and holds "
			    ABK_LOG "; a backup is made new, never over "
			    "anything", out);
			return HK_ERR_EXISTS;
		}
		/* audit-YYYYMMDDTHHMMSSZ */
		hk_time_format(hk_clock_now(), stamp, sizeof(stamp));
		memcpy(name, "audit-", 6);
		for (i = 0, k = 6; stamp[i] != '\0'; i++)
			if (stamp[i] != '-' && stamp[i] != ':')
				name[k++] = stamp[i];
		name[k] = '\0';
	} else if (errno != ENOENT && errno != ENOTDIR) {
		/* ENOTDIR: a component of the path is not a folder, said
		 * below as a missing one is (exit 3) */
		hk_err_set("--out %s: cannot stat: %s", out, strerror(errno));
		return HK_ERR_IO;
	} else {
		slash = strrchr(path, '/');
		if ((size_t)snprintf(name, sizeof(name), "%s", slash != NULL ?
		    slash + 1 : path) >= sizeof(name)) {
			hk_err_set("--out %s: name too long", out);
			return HK_ERR_INVALID;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			hk_err_set("--out %s: a folder expected", out);
			return HK_ERR_USAGE;
		}
		/* the names of folders being built, which prev_scan skips */
		if (strstr(name, "." ABK_TAG "-") != NULL) {
			hk_err_set("--out %s: a name with \"." ABK_TAG "-\" in "
			    "it is a backup being made; choose another", out);
			return HK_ERR_USAGE;
		}
		if (slash == NULL)
			snprintf(rp, sizeof(rp), ".");
		else {
			*slash = '\0';
			snprintf(rp, sizeof(rp), "%s", slash == path ? "/" :
			    path);
		}
		if (realpath(rp, w->medium) == NULL) {
			int e = errno;

			hk_err_set("--out %s: the folder that should hold the "
			    "backup, %s: %s", out, rp, strerror(e));
			return e == ENOENT || e == ENOTDIR ?
			    HK_ERR_NOT_FOUND : HK_ERR_IO;
		}
		if (stat(w->medium, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			hk_err_set("--out %s: the folder that should hold the "
			    "backup, %s: not a folder", out, rp);
			return HK_ERR_NOT_FOUND;
		}
	}
	if (realpath(w->ca->st->dir, state) == NULL) {
		hk_err_set("%s: %s", w->ca->st->dir, strerror(errno));
		return HK_ERR_IO;
	}
	n = strlen(state);
	if (strncmp(w->medium, state, n) == 0 && (w->medium[n] == '\0' ||
	    w->medium[n] == '/' || n == 1)) {
		hk_err_set("--out %s: inside the state folder %s: a backup "
		    "goes to external media, apart from what it backs up",
		    out, state);
		return HK_ERR_INVALID;
	}
	if (join(w->out, sizeof(w->out), w->medium, name) != 0)
		return HK_ERR_INVALID;
	if (hk_path_exists(w->out)) {
		hk_err_set("%s: already exists; a backup is made new, never "
		    "over anything", w->out);
		return HK_ERR_EXISTS;
	}
	return 0;
}

/* ---- reading back ---------------------------------------------------- */

/* SHA-256 and size of the file at path, as read from it now. */
static int
file_sha256(const char *path, unsigned char sha[32], uint64_t *size)
{
	unsigned char *buf = NULL;
	EVP_MD_CTX *h = NULL;
	ssize_t got;
	int fd = -1, r = HK_ERR_ALLOC;

	*size = 0;
	if ((buf = malloc(1 << 16)) == NULL || (h = EVP_MD_CTX_new()) == NULL)
		goto out;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	for (;;) {
		if ((got = read(fd, buf, 1 << 16)) < 0) {
			if (errno == EINTR)
				continue;
			hk_err_set("%s: cannot read: %s", path,
			    strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		if (EVP_DigestUpdate(h, buf, (size_t)got) != 1) {
			r = HK_ERR_CRYPTO;
			goto out;
		}
		*size += (uint64_t)got;
	}
	r = EVP_DigestFinal_ex(h, sha, NULL) == 1 ? 0 : HK_ERR_CRYPTO;
 out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(h);
	free(buf);
	return r;
}

/*
 * The copy read back from the medium is what was copied, and it verifies.
 * When it does not, the live log is verified too, to say which is at
 * fault: a live log that does not verify is an audit incident (exit 6), a
 * copy that differs from a sound log is a faulty medium (exit 8).
 */
static int
copy_check(struct abk_work *w)
{
	struct hk_audit_report live;
	char head[PATH_MAX + 32];
	unsigned char sha[32];
	uint64_t size;
	int r;

	if ((r = file_sha256(w->tlog, sha, &size)) != 0)
		return r;
	if (size != w->ac.log_size || memcmp(sha, w->ac.log_sha256, 32) != 0) {
		hk_err_set("%s: " ABK_LOG " read back from the medium is not "
		    "what was written (%" PRIu64 " bytes written, %" PRIu64
		    " read, %s): the medium is faulty; no backup kept", w->out,
		    w->ac.log_size, size, size == w->ac.log_size ?
		    "other bytes" : "another length");
		return HK_ERR_IO;
	}
	snprintf(head, sizeof(head), "%s.head", w->tlog);
	if ((r = file_sha256(head, sha, &size)) != 0)
		return r;
	if (size != w->ac.head_size ||
	    memcmp(sha, w->ac.head_sha256, 32) != 0) {
		hk_err_set("%s: " ABK_HEAD " read back from the medium is not "
		    "what was written: the medium is faulty; no backup kept",
		    w->out);
		return HK_ERR_IO;
	}
	r = hk_audit_verify(w->tlog, w->pub, &w->rep);
	if (r == 0 && (strcmp(w->rep.log_id, w->ac.log_id) != 0 ||
	    w->rep.records != w->ac.last_seq + 1 ||
	    strcmp(w->rep.last_hash, w->ac.last_hash) != 0)) {
		hk_err_set("%s: the copy ends at record %" PRIu64 ", not at "
		    "record %" PRIu64 " as the log copied did",
		    w->out, w->rep.records - 1, w->ac.last_seq);
		r = HK_ERR_AUDIT;
	}
	if (r == 0)
		return 0;
	if (r != HK_ERR_AUDIT)
		return r;
	if (hk_audit_verify(w->ca->audit_log, w->pub, &live) != 0) {
		hk_err_set("%s: the live log does not verify: %s; no backup "
		    "made (run audit verify --state: an incident for the "
		    "internal auditor, docs/audit-log.md)", w->ca->audit_log,
		    live.reason[0] ? live.reason : hk_err_msg());
		return HK_ERR_AUDIT;
	}
	hk_err_set("%s: the copy does not verify though the live log does "
	    "(%s): the medium is faulty; no backup kept", w->out,
	    w->rep.reason[0] ? w->rep.reason : hk_err_msg());
	return HK_ERR_IO;
}

/* ---- the closed logs ------------------------------------------------- */

/*
 * hk_audit_walk_closed's each(): the closed log at closed, verified and its
 * link (rn's) checked, copied into <tmp>/closed/ with its head file, read
 * back (SHA-256 of both as copied) and verified again as the closed log rn
 * links to. A copy that fails while the closed log passes is a faulty
 * medium (exit 8).
 */
static int
carry_closed(const struct hk_audit_report *rn, const char *closed,
    const struct hk_audit_report *rp, void *arg)
{
	struct abk_work *w = arg;
	struct abk_closed *c;
	struct hk_audit_report cr;
	char dir[PATH_MAX], to[PATH_MAX + NAME_MAX + 16], head[PATH_MAX +
	    NAME_MAX + 32];
	const char *base = strrchr(closed, '/');
	unsigned char sha[32];
	uint64_t size;
	int r;

	base = base != NULL ? base + 1 : closed;
	if ((c = realloc(w->cl, (w->ncl + 1) * sizeof(*c))) == NULL)
		return HK_ERR_ALLOC;
	w->cl = c;
	c = &w->cl[w->ncl];
	memset(c, 0, sizeof(*c));
	if (join(dir, sizeof(dir), w->tmp, ABK_CLOSED) != 0 ||
	    join(to, sizeof(to), dir, base) != 0)
		return HK_ERR_INVALID;
	if (w->ncl == 0 && (r = hk_dir_create(dir, 0700)) != 0)
		return r;
	if ((r = hk_audit_copy(closed, to, &c->ac)) != 0)
		return r;
	snprintf(head, sizeof(head), "%s.head", to);
	if ((r = file_sha256(to, sha, &size)) != 0)
		return r;
	if (size != c->ac.log_size || memcmp(sha, c->ac.log_sha256, 32) != 0) {
		hk_err_set("%s: the closed log %s read back from the medium is "
		    "not what was written: the medium is faulty; no backup "
		    "kept", w->out, base);
		return HK_ERR_IO;
	}
	if ((r = file_sha256(head, sha, &size)) != 0)
		return r;
	if (size != c->ac.head_size ||
	    memcmp(sha, c->ac.head_sha256, 32) != 0) {
		hk_err_set("%s: the closed log's head file %s.head read back "
		    "from the medium is not what was written: the medium is "
		    "faulty; no backup kept", w->out, base);
		return HK_ERR_IO;
	}
	if ((r = hk_audit_verify_link(rn, to, w->pub, &cr)) != 0) {
		if (r != HK_ERR_AUDIT)
			return r;
		hk_err_set("%s: the copy of the closed log %s does not verify "
		    "though %s does (%s): the medium is faulty; no backup "
		    "kept", w->out, base, closed, hk_err_msg());
		return HK_ERR_IO;
	}
	c->close_seq = rp->close_seq;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/" ABK_CLOSED "/%s",
	    w->out, base) >= sizeof(c->path)) {
		hk_err_set("%s/" ABK_CLOSED "/%s: path too long", w->out, base);
		return HK_ERR_INVALID;
	}
	w->ncl++;
	return 0;
}

/* ---- the previous backup --------------------------------------------- */

/*
 * The log id and seq a backup's head file names, read without judging the
 * rest (the one chosen is verified whole). HK_ERR_AUDIT when it is not a
 * head file.
 */
static int
head_peek(const char *head, char id[33], uint64_t *seq)
{
	unsigned char *buf = NULL, raw[16];
	const char *s;
	size_t len = 0, n;
	uint64_t v = 0;
	int r;

	if ((r = hk_file_read(head, 512, &buf, &len)) != 0)
		return r == HK_ERR_NOT_FOUND ? r : HK_ERR_AUDIT;
	s = (const char *)buf;
	r = HK_ERR_AUDIT;
	n = sizeof(ABK_HEAD_MAGIC) - 1;
	if (len < n + 32 + 6 || memcmp(s, ABK_HEAD_MAGIC, n) != 0)
		goto bad;
	memcpy(id, s + n, 32);
	id[32] = '\0';
	if (hk_hex_decode(id, raw, sizeof(raw)) != 0 ||
	    strncmp(s + n + 32, " seq=", 5) != 0)
		goto bad;
	s += n + 32 + 5;
	for (n = 0; s[n] >= '0' && s[n] <= '9' && n < 19; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	if (n == 0 || s[n] != ' ')
		goto bad;
	*seq = v;
	free(buf);
	return 0;
 bad:
	hk_err_set("%s: not an audit log head file", head);
	free(buf);
	return r;
}

/*
 * The backups on the medium (its folders holding audit.log): the one of
 * this log with the highest head seq (ties: the greatest name), else the
 * one so chosen of the closed log the live log's link names (compared with
 * that closed log by prev_check), else the latest written of another log. A folder with audit.log whose head file
 * cannot be read is refused (a damaged backup; HK_ERR_AUDIT). Folders
 * being built ("*.backup-*") are not backups.
 */
static int
prev_scan(struct abk_work *w)
{
	struct abk_prev *p = &w->prev;
	char dir[PATH_MAX], log[PATH_MAX + 16], head[PATH_MAX + 32], id[33];
	char best[NAME_MAX + 1] = "", lbest[NAME_MAX + 1] = "";
	struct dirent *e;
	struct stat sb;
	uint64_t seq = 0, best_seq = 0, lbest_seq = 0;
	struct timespec other_t = { 0, 0 };
	DIR *d;
	int r = 0;

	if ((d = opendir(w->medium)) == NULL) {
		hk_err_set("%s: cannot read the medium: %s", w->medium,
		    strerror(errno));
		return HK_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strstr(e->d_name, "." ABK_TAG "-"))
			continue;
		if (join(dir, sizeof(dir), w->medium, e->d_name) != 0 ||
		    lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		snprintf(log, sizeof(log), "%s/" ABK_LOG, dir);
		if (lstat(log, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		snprintf(head, sizeof(head), "%s.head", log);
		if ((r = head_peek(head, id, &seq)) != 0) {
			hk_err_set("%s: a backup on the medium whose head file "
			    "cannot be read (%s): damaged or altered; keep it "
			    "for the internal auditor and give --previous",
			    dir, hk_err_msg());
			r = HK_ERR_AUDIT;
			break;
		}
		if (strcmp(id, w->ac.log_id) != 0 && w->rep.linked &&
		    strcmp(id, w->rep.prev_log_id) == 0 &&
		    (lbest[0] == '\0' || seq > lbest_seq ||
		    (seq == lbest_seq && strcmp(e->d_name, lbest) > 0))) {
			/* of the log closed before this one */
			snprintf(lbest, sizeof(lbest), "%s", e->d_name);
			lbest_seq = seq;
		}
		if (strcmp(id, w->ac.log_id) != 0) {
			/* of another log: the latest written is named */
			if (p->other[0] == '\0' ||
			    sb.st_mtim.tv_sec > other_t.tv_sec ||
			    (sb.st_mtim.tv_sec == other_t.tv_sec &&
			    sb.st_mtim.tv_nsec > other_t.tv_nsec)) {
				snprintf(p->other, sizeof(p->other), "%s",
				    log);
				memcpy(p->other_id, id, sizeof(p->other_id));
				other_t = sb.st_mtim;
			}
			continue;
		}
		if (best[0] == '\0' || seq > best_seq || (seq == best_seq &&
		    strcmp(e->d_name, best) > 0)) {
			snprintf(best, sizeof(best), "%s", e->d_name);
			best_seq = seq;
		}
	}
	closedir(d);
	if (r == 0 && best[0] == '\0' && lbest[0] != '\0')
		memcpy(best, lbest, sizeof(best));
	if (r != 0 || best[0] == '\0')
		return r;
	if (join(dir, sizeof(dir), w->medium, best) != 0 ||
	    (size_t)snprintf(p->log, sizeof(p->log), "%s/" ABK_LOG, dir) >=
	    sizeof(p->log)) {
		hk_err_set("%s/%s: path too long", w->medium, best);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* --previous: a backup folder (its audit.log) or a copied log file. */
static int
prev_given(struct abk_work *w)
{
	const char *g = w->o->previous;
	struct stat sb;
	int n;

	if (stat(g, &sb) != 0) {
		hk_err_set("--previous %s: %s", g, strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	n = snprintf(w->prev.log, sizeof(w->prev.log), S_ISDIR(sb.st_mode) ?
	    "%s/" ABK_LOG : "%s", g);
	if (n < 0 || (size_t)n >= sizeof(w->prev.log)) {
		hk_err_set("--previous %s: path too long", g);
		return HK_ERR_INVALID;
	}
	return 0;
}

/*
 * The previous backup verified (chain, head file, signatures), then its
 * bytes a prefix of the copy's. Not one of this log: a new log, noted in
 * prev.other and not compared.
 */
static int
prev_check(struct abk_work *w)
{
	struct abk_prev *p = &w->prev;
	struct hk_audit_report pr, cr;
	const char *cmp = w->tlog, *name = w->ca->audit_log;
	uint64_t rec, cmp_last = w->ac.last_seq;
	int differs, missing, r;

	if (p->log[0] == '\0')
		return 0;
	if ((r = hk_audit_verify(p->log, w->pub, &pr)) != 0) {
		hk_err_set("%s: the previous backup does not verify: %s "
		    "(damaged or altered: keep it for the internal auditor; "
		    "--previous names the backup to compare with)", p->log,
		    pr.reason[0] ? pr.reason : hk_err_msg());
		return r;
	}
	if (strcmp(pr.log_id, w->ac.log_id) != 0) {
		/* a new log since (docs/audit-log.md "Retention") */
		snprintf(p->other, sizeof(p->other), "%s", p->log);
		memcpy(p->other_id, pr.log_id, sizeof(p->other_id));
		/* begun by the close of the log backed up: the closed log
		 * must extend the backup, as the live log would have (else
		 * records removed before the close, sealed by it, are found
		 * by nothing) */
		if (!w->rep.linked || strcmp(w->rep.prev_log_id,
		    pr.log_id) != 0 || hk_audit_find_closed(w->ca->audit_log,
		    pr.log_id, p->closed, sizeof(p->closed)) != 0) {
			hk_err_clear();
			p->closed[0] = '\0';
			p->log[0] = '\0';
			return 0;
		}
		if ((r = hk_audit_verify_link(&w->rep, p->closed, w->pub,
		    &cr)) != 0) {
			hk_err_set("%s; no backup made", hk_err_msg());
			return r;
		}
		cmp = p->closed;
		name = p->closed;
		cmp_last = cr.records - 1;
	}
	memcpy(p->log_id, pr.log_id, sizeof(p->log_id));
	p->last_seq = pr.records - 1;
	if ((r = hk_audit_prefix(p->log, cmp, &differs, &rec, &missing)) != 0)
		return r;
	if (differs && !missing) {
		hk_err_set("%s: does not extend the previous backup %s: record %"
		    PRIu64 " (line %" PRIu64 ") differs from the backup's: records "
		    "were changed since (an incident for the internal auditor; no "
		    "backup made)", name, p->log, rec, rec + 1);
		return HK_ERR_AUDIT;
	}
	if (differs) {
		hk_err_set("%s: does not extend the previous backup %s: record %"
		    PRIu64 " (line %" PRIu64 ") is missing: the log ends at record %"
		    PRIu64 ", the backup at record %" PRIu64 ": records were "
		    "removed since (an incident for the internal auditor; no backup "
		    "made)", name, p->log, rec, rec + 1, cmp_last, p->last_seq);
		return HK_ERR_AUDIT;
	}
	if (p->closed[0] != '\0')
		p->log[0] = '\0';	/* compared: a new log all the same */
	else
		w->new_records = w->ac.last_seq - p->last_seq;
	return 0;
}

/* ---- into place ------------------------------------------------------ */

/* Renamed into place, never over anything, its entry made durable; a
 * backup whose entry could not be made durable is removed again. */
static int
place(struct abk_work *w)
{
	int r, placed;

	if (hk_dir_sync(w->tlog) != 0) {
		hk_err_set("%s: fsync: %s", w->tmp, strerror(errno));
		return HK_ERR_IO;
	}
	r = hk_dir_place(w->tmp, w->out, &placed);
	if (placed)
		w->tmp_made = 0;
	return r;
}

static int
abk_run(struct abk_work *w)
{
	int r;

	if ((r = out_resolve(w)) != 0 ||
	    (r = hk_life_refpub(w->ca, "audit-1", &w->pub)) != 0)
		return r;
	if ((r = hk_dir_temp_beside(w->out, ABK_TAG, w->tmp,
	    sizeof(w->tmp))) != 0)
		return r;
	w->tmp_made = 1;
	snprintf(w->tlog, sizeof(w->tlog), "%s/" ABK_LOG, w->tmp);
	if ((r = hk_audit_copy(w->ca->audit_log, w->tlog, &w->ac)) != 0 ||
	    (r = copy_check(w)) != 0)
		return r;
	/* after a close: the closed log the copy links to, and back */
	if ((r = hk_audit_walk_closed(w->ca->audit_log, &w->rep, w->pub,
	    carry_closed, w, &w->gone)) != 0) {
		hk_err_set("%s; no backup made", hk_err_msg());
		return r;
	}
	if ((r = w->o->previous != NULL ? prev_given(w) : prev_scan(w)) != 0 ||
	    (r = prev_check(w)) != 0)
		return r;
	return place(w);
}

/* The closed logs carried (and one no longer kept), for the record:
 * "; closed log ..." each, "" when the log is not linked. */
static void
carried(const struct abk_work *w, char *buf, size_t len)
{
	const struct abk_closed *c;
	size_t i, n = 0;
	char sha[65];

	buf[0] = '\0';
	for (i = 0; i < w->ncl && n < len; i++) {
		c = &w->cl[i];
		hk_hex_encode(c->ac.log_sha256, 32, sha);
		n += (size_t)snprintf(buf + n, len - n, "; closed log %s "
		    "carried as %s: SHA-256 %s, %" PRIu64 " bytes, up to "
		    "record %" PRIu64 " hash %s (" HK_AUDIT_EV_CLOSE " at "
		    "record %" PRId64 ", its checkpoint last)", c->ac.log_id,
		    c->path, sha, c->ac.log_size, c->ac.last_seq,
		    c->ac.last_hash, c->close_seq);
	}
	if (w->gone.log_id[0] != '\0' && n < len)
		snprintf(buf + n, len - n, "; closed log %s no longer kept "
		    "(CPS 4-11-4 kept it until %s): not carried",
		    w->gone.log_id, w->gone.until);
}

/* What the copy is to the previous backup, for the record and the user:
 * "it <relation>". */
static void
relation(const struct abk_work *w, char *buf, size_t len)
{
	const struct abk_prev *p = &w->prev;

	if (p->log[0] != '\0')
		snprintf(buf, len, "extends the previous backup %s (up to "
		    "record %" PRIu64 ") byte for byte, %" PRIu64 " record%s "
		    "since", p->log, p->last_seq, w->new_records,
		    w->new_records == 1 ? "" : "s");
	else if (p->other[0] != '\0')
		snprintf(buf, len, "begins a new log: the previous backup %s "
		    "is of log %s, this one of log %s (%s%s%s; "
		    "docs/audit-log.md \"Retention\")", p->other, p->other_id,
		    w->ac.log_id, p->closed[0] ? "the closed log " :
		    "not compared", p->closed, p->closed[0] ? " extends the "
		    "previous backup byte for byte" : "");
	else
		snprintf(buf, len, "is the first backup of log %s on %s",
		    w->ac.log_id, w->medium);
}

int
cmd_audit_backup(int argc, char **argv)
{
	struct abk_opts o;
	struct abk_work *w;
	char rel[3 * PATH_MAX + 256], sha[65], car[4096];
	size_t i;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = abk_parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HK_ERR_ALLOC;
	w->o = &o;
	if ((r = hk_ca_open(&o.c, "audit backup", &w->ca)) != 0)
		goto out;
	if ((r = abk_run(w)) != 0)
		goto fail;
	relation(w, rel, sizeof(rel));
	carried(w, car, sizeof(car));
	hk_hex_encode(w->ac.log_sha256, 32, sha);
	/* recorded once it is there: a record names no backup that is not */
	if ((r = hk_ca_audit(w->ca, "log.backup", "ok", "-", "%s/" ABK_LOG
	    ": SHA-256 %s, %" PRIu64 " bytes; log id %s, head seq %" PRIu64
	    " hash %s; it %s%s", w->out, sha, w->ac.log_size, w->ac.log_id,
	    w->ac.last_seq, w->ac.last_hash, rel, car)) != 0) {
		if (hk_tree_remove(w->out) == 0)
			hk_err_set("%s; the backup %s was removed again, none "
			    "kept", hk_err_msg(), w->out);
		else
			hk_err_set("%s; and the backup %s could not be removed "
			    "again: remove it by hand", hk_err_msg(), w->out);
		goto out;
	}
	printf("Backup %s: audit log %s up to record %" PRIu64 ", %" PRIu64
	    " bytes, SHA-256 %s\n", w->out, w->ac.log_id, w->ac.last_seq,
	    w->ac.log_size, sha);
	printf("Verified: %" PRIu64 " records, %" PRIu64 " signed checkpoints"
	    " (signatures verified with audit/audit-key.pem); %" PRIu64
	    " records after the last checkpoint\n", w->rep.records,
	    w->rep.checkpoints, w->rep.unsigned_records);
	printf("It %s\n", rel);
	for (i = 0; i < w->ncl; i++) {
		hk_hex_encode(w->cl[i].ac.log_sha256, 32, sha);
		printf("Closed log %s: %s up to record %" PRIu64 " (audit.close "
		    "at record %" PRId64 ", its checkpoint last), %" PRIu64
		    " bytes, SHA-256 %s: read back, verified, the link "
		    "matches\n", w->cl[i].ac.log_id, w->cl[i].path,
		    w->cl[i].ac.last_seq, w->cl[i].close_seq,
		    w->cl[i].ac.log_size, sha);
	}
	if (w->gone.log_id[0] != '\0')
		printf("Closed log %s: no longer kept (CPS 4-11-4 kept it until "
		    "%s): not carried\n", w->gone.log_id, w->gone.until);
	printf("Recorded as log.backup in %s\n", w->ca->audit_log);
	r = 0;
	goto out;
 fail:
	if (w->tmp_made)
		(void)hk_tree_remove_after(w->tmp,
		    "hanko-offline audit backup");
	w->tmp_made = 0;
	if (r != HK_ERR_USAGE)
		hk_ca_audit_warn(w->ca, "log.backup", "fail", "-", "backup to "
		    "%s: %s; nothing kept", w->out[0] ? w->out : o.out,
		    hk_err_msg());
 out:
	EVP_PKEY_free(w->pub);
	hk_ca_close(w->ca);
	free(w->cl);
	free(w);
	return r;
}
