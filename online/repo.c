/*
 * repo.c - repository sets: written whole, swapped by one rename(2) of a
 * symbolic link, read back through their MANIFEST (repo.h,
 * docs/repository.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "repo.h"

#define SUBDIRS_MAX	16	/* subfolders in a set */

struct hk_repo_writer {
	char repo[4000];		/* the link */
	char sets[4096];		/* "<repo>.sets" */
	char tmp[4200];			/* the set being written; "" once
					 * renamed into place */
	char sub[SUBDIRS_MAX][HK_REPO_PATH_MAX]; /* subfolders made */
	int nsub;
	struct hk_repo_file *files;	/* what MANIFEST will list */
	size_t nfiles, cap;
};

/*
 * A path inside a set: one or two components of [a-z0-9._-], none
 * starting with '.', not absolute (openat(2) would ignore the set's folder),
 * no "MANIFEST" except MANIFEST itself at the top.
 */
static int
path_ok(const char *p)
{
	const char *c, *slash = strchr(p, '/');
	size_t len = strlen(p);

	if (len == 0 || len >= HK_REPO_PATH_MAX || p[0] == '.' ||
	    p[0] == '/' || p[len - 1] == '/' || (slash != NULL &&
	    (strchr(slash + 1, '/') != NULL || slash[1] == '.')))
		return 0;
	if (strcmp(p, HK_REPO_MANIFEST) == 0)
		return 1;
	for (c = p; *c; c++)
		if (!(islower((unsigned char)*c) ||
		    isdigit((unsigned char)*c) || *c == '.' || *c == '-' ||
		    *c == '_' || *c == '/'))
			return 0;
	return 1;
}

int
hk_repo_public(const char *path)
{
	/* CPS 2-6-3: user CRLs only to registered relying parties; the
	 * MANIFEST lists them (and their sizes), so it goes with them */
	return strncmp(path, "crl/", 4) != 0 &&
	    strcmp(path, HK_REPO_MANIFEST) != 0;
}

static int
ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

const char *
hk_repo_content_type(const char *path)
{
	if (ends(path, ".cer"))
		return "application/pkix-cert";
	if (ends(path, ".crl"))
		return "application/pkix-crl";
	if (ends(path, ".p7c"))
		return "application/pkcs7-mime";
	if (strcmp(path, HK_REPO_MANIFEST) == 0)
		return "text/plain; charset=us-ascii";
	/* notice/: the public notices of a compromise (CPS 4-4-1-3) */
	if (ends(path, ".txt"))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

/* "<base>.sets/<n>" of the link at repo: n, or 0 when not of that form. */
static unsigned long
link_number(const char *repo, const char *target)
{
	char tmp[4096], want[4200];
	const char *base, *num;
	unsigned long n = 0;

	snprintf(tmp, sizeof(tmp), "%s", repo);
	base = basename(tmp);
	snprintf(want, sizeof(want), "%s.sets/", base);
	if (strncmp(target, want, strlen(want)) != 0)
		return 0;
	num = target + strlen(want);
	if (*num == '\0' || *num == '0' || strlen(num) > 9 ||
	    strspn(num, "0123456789") != strlen(num))
		return 0;
	n = strtoul(num, NULL, 10);
	return n;
}

/* The link's current set number: 0 and no error when repo does not
 * exist; HK_ERR_STATE when it is anything but our link. */
static int
current_number(const char *repo, unsigned long *n, char *target,
    size_t tlen)
{
	struct stat st;
	ssize_t k;

	*n = 0;
	target[0] = '\0';
	if (lstat(repo, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		hk_err_set("%s: %s", repo, strerror(errno));
		return HK_ERR_IO;
	}
	if (!S_ISLNK(st.st_mode) ||
	    (k = readlink(repo, target, tlen - 1)) <= 0) {
		hk_err_set("%s: exists and is not the repository link made by "
		    "publish (docs/repository.md)", repo);
		return HK_ERR_STATE;
	}
	target[k] = '\0';
	if ((*n = link_number(repo, target)) == 0) {
		hk_err_set("%s: links to %s, not to %s.sets/<n> "
		    "(docs/repository.md)", repo, target, repo);
		return HK_ERR_STATE;
	}
	return 0;
}

/* A set folder's number, or 0 when name is not one. */
static unsigned long
set_number(const char *name)
{
	if (name[0] == '0' || name[0] == '\0' || strlen(name) > 9 ||
	    strspn(name, "0123456789") != strlen(name))
		return 0;
	return strtoul(name, NULL, 10);
}

/* A set holds files and one level of folders (crl/, certs/): anything
 * deeper is not a set's, and nothing of it is removed. */
static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	if (f->level > 2 || (type != FTW_F && type != FTW_DP &&
	    type != FTW_SL)) {
		errno = ENOTEMPTY;
		return -1;
	}
	return remove(path) != 0 ? -1 : 0;
}

/*
 * Remove a set folder: only "<sets>/<n>" or "<sets>/.new-*" of this
 * writer, whatever the caller passes (a bug in a path must never reach
 * outside the repository), on the sets' own filesystem, at most two
 * levels of files.
 */
static int
remove_tree(const struct hk_repo_writer *w, const char *dir)
{
	size_t sl = strlen(w->sets);
	const char *leaf = dir + sl + 1;

	if (sl < 6 || strcmp(w->sets + sl - 5, ".sets") != 0 ||
	    strncmp(dir, w->sets, sl) != 0 || dir[sl] != '/' ||
	    strchr(leaf, '/') != NULL || strstr(leaf, "..") != NULL ||
	    (set_number(leaf) == 0 && (strncmp(leaf, ".new-", 5) != 0 ||
	    leaf[5] == '\0'))) {
		hk_err_set("%s: not a set folder of %s: not removed", dir,
		    w->sets);
		return HK_ERR_INTERNAL;
	}
	if (nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
		hk_err_set("%s: cannot remove: %s", dir, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

static int
fsync_path(const char *path)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return HK_ERR_IO;
	if (fsync(fd) != 0)
		r = HK_ERR_IO;
	close(fd);
	return r;
}

int
hk_repo_begin(const char *repo, struct hk_repo_writer **out)
{
	struct hk_repo_writer *w;
	struct dirent *de;
	char target[4096], path[8400];
	unsigned long cur;
	DIR *d;
	int r, n;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return HK_ERR_ALLOC;
	n = snprintf(w->repo, sizeof(w->repo), "%s", repo);
	if (n <= 0 || (size_t)n >= sizeof(w->repo) - 64) {
		hk_err_set("--repo: path too long");
		r = HK_ERR_USAGE;
		goto fail;
	}
	while (n > 1 && w->repo[n - 1] == '/')
		w->repo[--n] = '\0';
	snprintf(w->sets, sizeof(w->sets), "%s.sets", w->repo);
	if ((r = current_number(w->repo, &cur, target, sizeof(target))) != 0)
		goto fail;
	/* 0755 whatever the umask of whoever runs publish (an operator's
	 * sudo under umask 077): serve's worker and the LDAP publisher read
	 * the sets as other users. An existing folder keeps its mode. */
	if (mkdir(w->sets, 0755) == 0) {
		if (chmod(w->sets, 0755) != 0) {
			hk_err_set("%s: cannot chmod: %s", w->sets,
			    strerror(errno));
			r = HK_ERR_IO;
			goto fail;
		}
	} else if (errno != EEXIST) {
		hk_err_set("%s: cannot create: %s", w->sets, strerror(errno));
		r = HK_ERR_IO;
		goto fail;
	}
	/* temporary sets of a run that never finished */
	if ((d = opendir(w->sets)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, ".new-", 5) == 0) {
				snprintf(path, sizeof(path), "%s/%s", w->sets,
				    de->d_name);
				(void)remove_tree(w, path);
			}
		closedir(d);
	}
	snprintf(w->tmp, sizeof(w->tmp), "%s/.new-XXXXXX", w->sets);
	if (mkdtemp(w->tmp) == NULL) {
		hk_err_set("%s: cannot create: %s", w->tmp, strerror(errno));
		w->tmp[0] = '\0';
		r = HK_ERR_IO;
		goto fail;
	}
	if (chmod(w->tmp, 0755) != 0) {
		r = HK_ERR_IO;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	hk_repo_abort(w);
	return r;
}

/* Make the subfolder of path in the set once. */
static int
subdir(struct hk_repo_writer *w, const char *path)
{
	char name[HK_REPO_PATH_MAX], dir[4400];
	const char *slash = strchr(path, '/');
	int i;

	if (slash == NULL)
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)(slash - path), path);
	for (i = 0; i < w->nsub; i++)
		if (strcmp(w->sub[i], name) == 0)
			return 0;
	if (w->nsub == SUBDIRS_MAX) {
		hk_err_set("repository: more than %d folders", SUBDIRS_MAX);
		return HK_ERR_INVALID;
	}
	snprintf(dir, sizeof(dir), "%s/%s", w->tmp, name);
	/* 0755 whatever the umask, like the set's folder and files */
	if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0) {
		hk_err_set("%s: cannot create: %s", dir, strerror(errno));
		return HK_ERR_IO;
	}
	snprintf(w->sub[w->nsub++], HK_REPO_PATH_MAX, "%s", name);
	return 0;
}

/* Write a new file of the set: O_EXCL, 0644, fsync. */
static int
write_new(const char *path, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) < 0) {
		hk_err_set("%s: cannot create: %s", path, strerror(errno));
		return errno == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
	}
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		hk_err_set("%s: cannot close: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
fail:
	hk_err_set("%s: cannot write: %s", path, strerror(errno));
	close(fd);
	return HK_ERR_IO;
}

int
hk_repo_add(struct hk_repo_writer *w, const char *path, const void *buf,
    size_t len, const struct hk_repo_file *crl)
{
	struct hk_repo_file *f, *nf;
	char full[4400];
	size_t i;
	int r;

	if (!path_ok(path) || strcmp(path, HK_REPO_MANIFEST) == 0) {
		hk_err_set("repository: %s: not a path of a set", path);
		return HK_ERR_INVALID;
	}
	if (len > HK_REPO_FILE_MAX) {
		hk_err_set("repository: %s: too large", path);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < w->nfiles; i++)
		if (strcmp(w->files[i].path, path) == 0) {
			hk_err_set("repository: %s: written twice", path);
			return HK_ERR_EXISTS;
		}
	if (w->nfiles == HK_REPO_FILES_MAX) {
		hk_err_set("repository: more than %d files in a set",
		    HK_REPO_FILES_MAX);
		return HK_ERR_INVALID;
	}
	if (w->nfiles == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		if ((nf = realloc(w->files, cap * sizeof(*nf))) == NULL)
			return HK_ERR_ALLOC;
		w->files = nf;
		w->cap = cap;
	}
	if ((r = subdir(w, path)) != 0)
		return r;
	snprintf(full, sizeof(full), "%s/%s", w->tmp, path);
	if ((r = write_new(full, buf, len)) != 0)
		return r;
	f = &w->files[w->nfiles];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->size = len;
	if (EVP_Digest(buf, len, f->sha256, NULL, EVP_sha256(), NULL) != 1)
		return HK_ERR_CRYPTO;
	if (crl != NULL) {
		f->is_crl = 1;
		f->this_update = crl->this_update;
		f->next_update = crl->next_update;
		f->number = crl->number;
	}
	w->nfiles++;
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hk_repo_file *)a)->path,
	    ((const struct hk_repo_file *)b)->path);
}

/* MANIFEST text of w's files (sorted first); malloc'd. */
static int
manifest_text(struct hk_repo_writer *w, char **out, size_t *len)
{
	char *buf, hex[65], t1[32], t2[32];
	size_t cap = w->nfiles * (HK_REPO_PATH_MAX + 160) + 1, off = 0, i;
	int n;

	*out = NULL;
	qsort(w->files, w->nfiles, sizeof(*w->files), file_cmp);
	if ((buf = malloc(cap)) == NULL)
		return HK_ERR_ALLOC;
	buf[0] = '\0';
	for (i = 0; i < w->nfiles; i++) {
		const struct hk_repo_file *f = &w->files[i];

		hk_hex_encode(f->sha256, 32, hex);
		if (f->is_crl) {
			hk_time_format(f->this_update, t1, sizeof(t1));
			hk_time_format(f->next_update, t2, sizeof(t2));
			n = snprintf(buf + off, cap - off, "%s %" PRIu64 " %s "
			    "%s %s %" PRIu64 "\n", hex, f->size, f->path, t1,
			    t2, f->number);
		} else
			n = snprintf(buf + off, cap - off, "%s %" PRIu64
			    " %s\n", hex, f->size, f->path);
		if (n < 0 || (size_t)n >= cap - off) {
			free(buf);
			return HK_ERR_INTERNAL;
		}
		off += (size_t)n;
	}
	*out = buf;
	*len = off;
	return 0;
}

/* The highest number among the sets (0 when none). */
static unsigned long
highest_set(const char *sets)
{
	struct dirent *de;
	unsigned long n, max = 0;
	DIR *d;

	if ((d = opendir(sets)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if ((n = set_number(de->d_name)) > max)
			max = n;
	}
	closedir(d);
	return max;
}

static void
remove_set(const struct hk_repo_writer *w, unsigned long n)
{
	char path[8400];

	snprintf(path, sizeof(path), "%s/%lu", w->sets, n);
	if (remove_tree(w, path) != 0)
		fprintf(stderr, "hanko-online: %s\n", hk_err_msg());
}

/*
 * After cur was swapped in over prev (0: no link before): remove the sets
 * between prev and cur (renamed into place by a run that crashed before
 * its swap: never published, so no reader holds them), then keep the
 * HK_REPO_KEEP highest sets below cur and remove the older ones. So the
 * sets kept are the ones last published, and a reader of one can go on
 * for HK_REPO_KEEP more publications, also after such a crash.
 */
static void
prune(const struct hk_repo_writer *w, unsigned long cur, unsigned long prev)
{
	unsigned long keep[HK_REPO_KEEP], n;
	struct dirent *de;
	DIR *d;
	int i, k;

	memset(keep, 0, sizeof(keep));
	if ((d = opendir(w->sets)) == NULL)
		return;
	/* the HK_REPO_KEEP highest published sets below cur, descending */
	while ((de = readdir(d)) != NULL) {
		if ((n = set_number(de->d_name)) == 0 || n >= cur ||
		    (prev != 0 && n > prev))
			continue;
		for (i = 0; i < HK_REPO_KEEP; i++)
			if (n > keep[i]) {
				for (k = HK_REPO_KEEP - 1; k > i; k--)
					keep[k] = keep[k - 1];
				keep[i] = n;
				break;
			}
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if ((n = set_number(de->d_name)) == 0 || n >= cur)
			continue;
		for (i = 0; i < HK_REPO_KEEP && keep[i] != n; i++)
			;
		if (i == HK_REPO_KEEP)
			remove_set(w, n);
	}
	closedir(d);
	(void)fsync_path(w->sets);
}

int
hk_repo_commit(struct hk_repo_writer *w, unsigned long *out)
{
	char *man = NULL, path[8400], dest[4200], link[4100], target[4200];
	char tmp[4096], parent[4096], cur_target[4096];
	unsigned long n, cur;
	size_t mlen;
	int i, r;

	*out = 0;
	if (w->tmp[0] == '\0')
		return HK_ERR_INTERNAL;
	if ((r = manifest_text(w, &man, &mlen)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", w->tmp, HK_REPO_MANIFEST);
	if ((r = write_new(path, man, mlen)) != 0)
		goto out;
	/* every folder of the set on disk before it gets its name */
	for (i = 0; i < w->nsub; i++) {
		snprintf(path, sizeof(path), "%s/%s", w->tmp, w->sub[i]);
		if (fsync_path(path) != 0) {
			hk_err_set("%s: cannot fsync", path);
			r = HK_ERR_IO;
			goto out;
		}
	}
	if (fsync_path(w->tmp) != 0) {
		hk_err_set("%s: cannot fsync", w->tmp);
		r = HK_ERR_IO;
		goto out;
	}
	if ((r = current_number(w->repo, &cur, cur_target,
	    sizeof(cur_target))) != 0)
		goto out;
	n = highest_set(w->sets);
	if (cur > n)
		n = cur;
	n++;
	snprintf(dest, sizeof(dest), "%s/%lu", w->sets, n);
	if (renameat2(AT_FDCWD, w->tmp, AT_FDCWD, dest,
	    RENAME_NOREPLACE) != 0) {
		hk_err_set("%s: cannot rename the new set into place: %s",
		    dest, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	snprintf(w->tmp, sizeof(w->tmp), "%s", dest);	/* abort removes it */
	if (fsync_path(w->sets) != 0) {
		hk_err_set("%s: cannot fsync", w->sets);
		r = HK_ERR_IO;
		goto out;
	}
	/* the swap: a new link beside, renamed over the old one */
	snprintf(tmp, sizeof(tmp), "%s", w->repo);
	snprintf(target, sizeof(target), "%s.sets/%lu", basename(tmp), n);
	snprintf(link, sizeof(link), "%s.link-%ld", w->repo, (long)getpid());
	(void)unlink(link);
	if (symlink(target, link) != 0) {
		hk_err_set("%s: cannot make the link: %s", link,
		    strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (rename(link, w->repo) != 0) {
		hk_err_set("%s: cannot swap the link: %s", w->repo,
		    strerror(errno));
		(void)unlink(link);
		r = HK_ERR_IO;
		goto out;
	}
	w->tmp[0] = '\0';			/* published: keep it */
	snprintf(parent, sizeof(parent), "%s", w->repo);
	if (fsync_path(dirname(parent)) != 0) {
		hk_err_set("%s: swapped, but its folder cannot be fsynced",
		    w->repo);
		r = HK_ERR_IO;
		goto out;
	}
	*out = n;
	prune(w, n, cur);
	r = 0;
out:
	free(man);
	return r;
}

void
hk_repo_abort(struct hk_repo_writer *w)
{
	if (w == NULL)
		return;
	if (w->tmp[0] != '\0')
		(void)remove_tree(w, w->tmp);
	free(w->files);
	free(w);
}

/* ---- reading ---- */

static int
parse_line(char *line, struct hk_repo_file *f)
{
	char *tok[7], *save = NULL, *p;
	int n = 0;

	memset(f, 0, sizeof(*f));
	/* one space between fields (strtok_r would take runs of them) */
	if (line[0] == ' ' || strstr(line, "  ") != NULL ||
	    (line[0] != '\0' && line[strlen(line) - 1] == ' '))
		return HK_ERR_PARSE;
	for (p = strtok_r(line, " ", &save); p != NULL && n < 7;
	    p = strtok_r(NULL, " ", &save))
		tok[n++] = p;
	if ((n != 3 && n != 6) || p != NULL)
		return HK_ERR_PARSE;
	if (strlen(tok[0]) != 64 || hk_hex_decode(tok[0], f->sha256, 32) != 0)
		return HK_ERR_PARSE;
	if (strspn(tok[1], "0123456789") != strlen(tok[1]) ||
	    strlen(tok[1]) > 12 || (tok[1][0] == '0' && tok[1][1] != '\0'))
		return HK_ERR_PARSE;
	f->size = strtoull(tok[1], NULL, 10);
	if (!path_ok(tok[2]) || strcmp(tok[2], HK_REPO_MANIFEST) == 0)
		return HK_ERR_PARSE;
	snprintf(f->path, sizeof(f->path), "%s", tok[2]);
	if (n == 6) {
		f->is_crl = 1;
		if (hk_time_parse(tok[3], &f->this_update) != 0 ||
		    hk_time_parse(tok[4], &f->next_update) != 0 ||
		    strspn(tok[5], "0123456789") != strlen(tok[5]) ||
		    strlen(tok[5]) < 1 || strlen(tok[5]) > 19)
			return HK_ERR_PARSE;
		f->number = strtoull(tok[5], NULL, 10);
	}
	return 0;
}

static int
manifest_parse(struct hk_repo_set *s, char *text, size_t len)
{
	char *line = text, *nl;
	size_t cap = 0, ln = 0;
	struct hk_repo_file *nf;

	if (memchr(text, '\0', len) != NULL || (len > 0 && text[len - 1] !=
	    '\n')) {
		hk_err_set("%s/%s: not lines of text", s->dir,
		    HK_REPO_MANIFEST);
		return HK_ERR_PARSE;
	}
	while (line < text + len) {
		nl = strchr(line, '\n');
		*nl = '\0';
		ln++;
		if (s->nfiles == HK_REPO_FILES_MAX) {
			hk_err_set("%s/%s: more than %d files", s->dir,
			    HK_REPO_MANIFEST, HK_REPO_FILES_MAX);
			return HK_ERR_PARSE;
		}
		if (s->nfiles == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nf = realloc(s->files, cap * sizeof(*nf))) ==
			    NULL)
				return HK_ERR_ALLOC;
			s->files = nf;
		}
		if (parse_line(line, &s->files[s->nfiles]) != 0 ||
		    (s->nfiles > 0 && strcmp(s->files[s->nfiles - 1].path,
		    s->files[s->nfiles].path) >= 0)) {
			hk_err_set("%s/%s:%zu: docs/repository.md: \"sha256 "
			    "size path [thisUpdate nextUpdate number]\", "
			    "sorted by path", s->dir, HK_REPO_MANIFEST, ln);
			return HK_ERR_PARSE;
		}
		s->nfiles++;
		line = nl + 1;
	}
	return 0;
}

/*
 * Open a file of the set (path: one or two components, path_ok) through
 * its folder descriptor without following any link: O_NOFOLLOW on the
 * folder as on the file, which openat(2) alone checks for the last
 * component only (a folder of the set replaced by a link is ELOOP).
 */
static int
open_in_set(int dfd, const char *path)
{
	const char *slash = strchr(path, '/');
	char sub[HK_REPO_PATH_MAX];
	int sfd, fd, e;

	if (slash == NULL)
		return openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	if ((size_t)(slash - path) >= sizeof(sub)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sub, path, (size_t)(slash - path));
	sub[slash - path] = '\0';
	if ((sfd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		/* a link in place of the folder: ENOTDIR with O_DIRECTORY */
		if (errno == ENOTDIR) {
			struct stat sb;

			if (fstatat(dfd, sub, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(sb.st_mode))
				errno = ELOOP;
		}
		return -1;
	}
	fd = openat(sfd, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	e = errno;
	close(sfd);
	errno = e;
	return fd;
}

/* Read a whole file of the set through its folder descriptor. */
static int
read_at(int dfd, const char *dir, const char *path, size_t max,
    unsigned char **buf, size_t *len)
{
	char name[4200];
	int fd, e;

	*buf = NULL;
	*len = 0;
	snprintf(name, sizeof(name), "%s/%s", dir, path);
	if ((fd = open_in_set(dfd, path)) < 0) {
		e = errno;
		hk_err_set("%s: %s", name, strerror(e));
		return e == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	return hk_fd_read(fd, name, max, buf, len);
}

int
hk_repo_open(const char *repo_arg, struct hk_repo_set **out)
{
	struct hk_repo_set *s;
	unsigned char *text = NULL;
	char repo[4000], target[4096], parent[4096];
	size_t len;
	int r, tries;

	*out = NULL;
	len = strlen(repo_arg);
	if (len == 0 || len >= sizeof(repo)) {
		hk_err_set("--repo: empty or too long");
		return HK_ERR_USAGE;
	}
	/* "repo/" would follow the link: the link itself is meant */
	memcpy(repo, repo_arg, len + 1);
	while (len > 1 && repo[len - 1] == '/')
		repo[--len] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HK_ERR_ALLOC;
	s->dfd = -1;
	/* a set pruned between readlink and open: the link has moved on,
	 * read it again */
	for (tries = 0; tries < 3; tries++) {
		if ((r = current_number(repo, &s->n, target,
		    sizeof(target))) != 0)
			goto fail;
		if (s->n == 0) {
			hk_err_set("%s: no repository here (nothing published "
			    "yet)", repo);
			r = HK_ERR_NOT_FOUND;
			goto fail;
		}
		snprintf(parent, sizeof(parent), "%s", repo);
		if ((size_t)snprintf(s->dir, sizeof(s->dir), "%s/%s",
		    dirname(parent), target) >= sizeof(s->dir)) {
			r = HK_ERR_INVALID;
			goto fail;
		}
		if ((s->dfd = open(s->dir, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) >= 0)
			break;
	}
	if (s->dfd < 0) {
		hk_err_set("%s: cannot open the current set: %s", s->dir,
		    strerror(errno));
		r = HK_ERR_IO;
		goto fail;
	}
	if ((r = read_at(s->dfd, s->dir, HK_REPO_MANIFEST,
	    (size_t)HK_REPO_FILES_MAX * (HK_REPO_PATH_MAX + 160), &text,
	    &len)) != 0 || (r = manifest_parse(s, (char *)text, len)) != 0)
		goto fail;
	free(text);
	*out = s;
	return 0;
fail:
	free(text);
	hk_repo_close(s);
	return r;
}

void
hk_repo_close(struct hk_repo_set *s)
{
	if (s == NULL)
		return;
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->files);
	free(s);
}

const struct hk_repo_file *
hk_repo_find(const struct hk_repo_set *s, const char *path)
{
	struct hk_repo_file key;

	if (strlen(path) >= sizeof(key.path))
		return NULL;
	snprintf(key.path, sizeof(key.path), "%s", path);
	return bsearch(&key, s->files, s->nfiles, sizeof(*s->files),
	    file_cmp);
}

/*
 * The one comparison of a file's bytes with its MANIFEST line f: size
 * bytes whose SHA-256 is d (NULL: it could not be computed, which counts
 * as differing). 0 when both are the line's; else HK_ERR_VERIFY and why
 * says which differs, the size first.
 */
static int
manifest_cmp(const struct hk_repo_file *f, uint64_t size,
    const unsigned char *d, char *why, size_t wlen)
{
	if (size != f->size) {
		snprintf(why, wlen, "MANIFEST: size is %" PRIu64 ", not %"
		    PRIu64, size, f->size);
		return HK_ERR_VERIFY;
	}
	if (d == NULL || CRYPTO_memcmp(d, f->sha256, 32) != 0) {
		snprintf(why, wlen, "MANIFEST: SHA-256 differs");
		return HK_ERR_VERIFY;
	}
	return 0;
}

int
hk_repo_read(const struct hk_repo_set *s, const char *path,
    unsigned char **buf, size_t *len)
{
	const struct hk_repo_file *f = hk_repo_find(s, path);
	unsigned char d[32];
	char why[80];
	int ok, r;

	*buf = NULL;
	*len = 0;
	if (f == NULL) {
		hk_err_set("%s: %s: not in the set's MANIFEST", s->dir, path);
		return HK_ERR_NOT_FOUND;
	}
	if ((r = read_at(s->dfd, s->dir, path, HK_REPO_FILE_MAX, buf,
	    len)) != 0)
		return r;
	ok = EVP_Digest(*buf, *len, d, NULL, EVP_sha256(), NULL) == 1;
	if (manifest_cmp(f, *len, ok ? d : NULL, why, sizeof(why)) != 0) {
		/* one message whichever differs (serve's log, publish) */
		hk_err_set("%s/%s: size or SHA-256 is not its MANIFEST line's",
		    s->dir, path);
		free(*buf);
		*buf = NULL;
		*len = 0;
		return HK_ERR_VERIFY;
	}
	return 0;
}

int
hk_repo_check(const struct hk_repo_set *s, const struct hk_repo_file *f,
    char *why, size_t wlen)
{
	unsigned char buf[65536], d[32];
	EVP_MD_CTX *ctx = NULL;
	uint64_t size = 0;
	struct stat st;
	ssize_t n;
	int fd, e, ok, r = HK_ERR_IO;

	if ((fd = open_in_set(s->dfd, f->path)) < 0) {
		e = errno;
		snprintf(why, wlen, "cannot open: %s", strerror(e));
		return e == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "not a regular file");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		snprintf(why, wlen, "SHA-256 not available");
		r = HK_ERR_CRYPTO;
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, wlen, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		size += (uint64_t)n;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			snprintf(why, wlen, "SHA-256 failed");
			r = HK_ERR_CRYPTO;
			goto out;
		}
	}
	ok = EVP_DigestFinal_ex(ctx, d, NULL) == 1;
	r = manifest_cmp(f, size, ok ? d : NULL, why, wlen);
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

time_t
hk_repo_published_at(const struct hk_repo_set *set)
{
	time_t t = 0;
	size_t i;

	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].is_crl && strncmp(set->files[i].path, "crl/",
		    4) == 0 && set->files[i].this_update > t)
			t = set->files[i].this_update;
	return t;
}
