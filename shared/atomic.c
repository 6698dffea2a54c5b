/* atomic.c - temp file, fsync, rename; O_EXCL where nothing may be replaced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic.h"
#include "err.h"

static int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
hk_dir_sync(const char *path)
{
	char tmp[PATH_MAX];
	int fd, e;

	if (strlen(path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return HK_ERR_INVALID;
	}
	strcpy(tmp, path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return HK_ERR_IO;
	if (fsync(fd) == 0) {
		close(fd);
		return 0;
	}
	e = errno;
	close(fd);
	errno = e;		/* the fsync's, whatever close did */
	return HK_ERR_IO;
}

int
hk_wfile_open(struct hk_wfile *wf, const char *path, mode_t mode, int flags)
{
	unsigned char rnd[8];
	int n;

	memset(wf, 0, sizeof(*wf));
	wf->fd = -1;
	wf->flags = flags;
	n = snprintf(wf->path, sizeof(wf->path), "%s", path);
	if (n >= 0 && (size_t)n < sizeof(wf->path)) {
		randombytes_buf(rnd, sizeof(rnd));
		n = snprintf(wf->tmp, sizeof(wf->tmp), "%s.tmp-%02x%02x%02x"
		    "%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2],
		    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	}
	if (n < 0 || (size_t)n >= sizeof(wf->tmp)) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	if ((flags & HK_WRITE_NOREPLACE) && hk_path_exists(path)) {
		hk_err_set("%s: already exists; refusing to overwrite", path);
		return HK_ERR_EXISTS;
	}
	wf->fd = open(wf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (wf->fd < 0) {
		hk_err_set("%s: cannot create: %s", wf->tmp, strerror(errno));
		return HK_ERR_IO;
	}
	if (fchmod(wf->fd, mode) != 0) {
		hk_err_set("%s: cannot write: %s", wf->tmp, strerror(errno));
		hk_wfile_abort(wf);
		return HK_ERR_IO;
	}
	return 0;
}

/* Write out what is buffered. */
static int
wfile_flush(struct hk_wfile *wf)
{
	if (wf->err == 0 && wf->len > 0 && write_all(wf->fd, wf->buf,
	    wf->len) != 0)
		wf->err = errno ? errno : EIO;
	/* what was buffered may be a secret (the online token's PIN file,
	 * a relying party's token): no copy left in ordinary memory */
	sodium_memzero(wf->buf, wf->len);
	wf->len = 0;
	return wf->err;
}

int
hk_wfile_write(struct hk_wfile *wf, const void *buf, size_t len)
{
	if (wf->fd < 0)
		return HK_ERR_INTERNAL;
	if (wf->len + len > sizeof(wf->buf)) {
		wfile_flush(wf);
		if (len > sizeof(wf->buf)) {
			if (wf->err == 0 && write_all(wf->fd, buf, len) != 0)
				wf->err = errno ? errno : EIO;
			len = 0;
		}
	}
	if (len > 0) {
		memcpy(wf->buf + wf->len, buf, len);
		wf->len += len;
	}
	return wf->err ? HK_ERR_IO : 0;
}

/* renameat2 RENAME_NOREPLACE of the file tmp to path; on a file system
 * that takes no rename flags (EINVAL: exFAT or NTFS through FUSE, as the
 * key managers' and the crossing media may be mounted) path is claimed
 * with O_CREAT|O_EXCL (EEXIST when it is there) and tmp renamed over that
 * empty file of ours, which rename(2) replaces in one step; a rename that
 * fails removes the claim again. 0, or -1 with errno set. */
static int
file_rename_noreplace(const char *tmp, const char *path)
{
	int fd, e;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -1;
	(void)close(fd);
	if (rename(tmp, path) == 0)
		return 0;
	e = errno;
	(void)unlink(path);
	errno = e;
	return -1;
}

int
hk_wfile_commit(struct hk_wfile *wf)
{
	int r = HK_ERR_IO;

	if (wf->fd < 0)
		return HK_ERR_INTERNAL;
	if (wfile_flush(wf) != 0 || fsync(wf->fd) != 0) {
		hk_err_set("%s: cannot write: %s", wf->tmp,
		    strerror(wf->err ? wf->err : errno));
		goto out;
	}
	if (close(wf->fd) != 0) {
		wf->fd = -1;
		hk_err_set("%s: cannot close: %s", wf->tmp, strerror(errno));
		goto out;
	}
	wf->fd = -1;
	if (wf->flags & HK_WRITE_NOREPLACE) {
		if (file_rename_noreplace(wf->tmp, wf->path) != 0) {
			if (errno == EEXIST) {
				hk_err_set("%s: already exists; refusing to "
				    "overwrite", wf->path);
				r = HK_ERR_EXISTS;
			} else
				hk_err_set("%s: cannot rename into place: %s",
				    wf->path, strerror(errno));
			goto out;
		}
	} else if (rename(wf->tmp, wf->path) != 0) {
		hk_err_set("%s: cannot rename into place: %s", wf->path,
		    strerror(errno));
		goto out;
	}
	wf->renamed = 1;
	if ((r = hk_dir_sync(wf->path)) != 0)
		hk_err_set("%s: cannot fsync its folder", wf->path);
	wf->tmp[0] = '\0';
	return r;
 out:
	hk_wfile_abort(wf);
	return r;
}

void
hk_wfile_abort(struct hk_wfile *wf)
{
	if (wf->fd >= 0) {
		close(wf->fd);
		wf->fd = -1;
	}
	if (wf->tmp[0] != '\0')
		(void)unlink(wf->tmp);
	wf->tmp[0] = '\0';
	sodium_memzero(wf->buf, wf->len);
	wf->len = 0;
}

/* hk_file_write; *renamed: 1 when the file got into place, even if the
 * call then failed (its folder's fsync). */
static int
file_write(const char *path, const void *buf, size_t len, mode_t mode,
    int flags, int *renamed)
{
	struct hk_wfile *wf;
	int r;

	*renamed = 0;
	if ((wf = malloc(sizeof(*wf))) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_wfile_open(wf, path, mode, flags)) == 0) {
		/* a write error is kept and reported by commit */
		(void)hk_wfile_write(wf, buf, len);
		r = hk_wfile_commit(wf);
		*renamed = wf->renamed;
	}
	free(wf);
	return r;
}

int
hk_file_write(const char *path, const void *buf, size_t len, mode_t mode,
    int flags)
{
	int renamed;

	return file_write(path, buf, len, mode, flags, &renamed);
}

int
hk_file_write_placed(const char *path, const void *buf, size_t len,
    mode_t mode, int flags, int *renamed)
{
	return file_write(path, buf, len, mode, flags, renamed);
}

int
hk_fd_read(int fd, const char *name, size_t max, unsigned char **buf,
    size_t *len)
{
	struct stat st;
	unsigned char *p = NULL;
	size_t off = 0;
	int r = HK_ERR_IO;

	*buf = NULL;
	*len = 0;
	/* an fstat that fails is the medium's failure, not "not a regular
	 * file" (exit 3; the audit log's head file read so was said to be
	 * damaged, exit 6) */
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		hk_err_set("%s: not a regular file", name);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		hk_err_set("%s: larger than %zu bytes", name, max);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, p + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hk_err_set("%s: cannot read: %s", name,
			    n == 0 ? "short file" : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	p[off] = '\0';
	*buf = p;
	*len = off;
	p = NULL;
	r = 0;
 out:
	free(p);
	close(fd);
	return r;
}

int
hk_file_read(const char *path, size_t max, unsigned char **buf, size_t *len)
{
	int fd;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO put in place of a file must not block the open;
	 * hk_fd_read refuses anything but a regular file */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			hk_err_set("%s: no such file", path);
			return HK_ERR_NOT_FOUND;
		}
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	return hk_fd_read(fd, path, max, buf, len);
}

int
hk_dir_create(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0) {
		if (errno == EEXIST) {
			hk_err_set("%s: already exists; refusing to reuse it",
			    path);
			return HK_ERR_EXISTS;
		}
		hk_err_set("%s: cannot create folder: %s", path,
		    strerror(errno));
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	/* hk_dir_sync sets no detail: named here (a bare "input/output
	 * error" before) */
	if (hk_dir_sync(path) != 0) {
		hk_err_set("%s: created, but its parent folder cannot be "
		    "synced: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_file_append(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		hk_err_set("%s: cannot open for append: %s", path,
		    strerror(errno));
		return HK_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot append: %s", path, strerror(errno));
		close(fd);
		return HK_ERR_IO;
	}
	if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		hk_err_set("%s: cannot append: %s", path, strerror(errno));
		r = HK_ERR_IO;
		/* A write cut short (a full disk) must not leave part of a
		 * line behind: cut the file back to what it was. */
		if (ftruncate(fd, st.st_size) != 0 || fsync(fd) != 0)
			hk_err_set("%s: cannot append: %s; and cannot cut it "
			    "back to %lld bytes: %s", path, hk_err_msg(),
			    (long long)st.st_size, strerror(errno));
	}
	if (close(fd) != 0 && r == 0)
		r = HK_ERR_IO;
	return r;
}

int
hk_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
hk_path_lookup(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	hk_err_set("%s: cannot look up: %s", path, strerror(errno));
	return HK_ERR_IO;
}

int
hk_dir_ensure(const char *path, mode_t mode)
{
	int r;

	/* a folder whose look-up fails is said so, not made again (it was,
	 * and mkdir's EEXIST said "already exists; refusing to reuse it") */
	if ((r = hk_path_lookup(path)) != 0)
		return r < 0 ? r : 0;
	return hk_dir_create(path, mode);
}

int
hk_dir_temp_beside(const char *path, const char *tag, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.%s-XXXXXX", path, tag);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s: path too long", path);
		buf[0] = '\0';
		return HK_ERR_INVALID;
	}
	if (mkdtemp(buf) == NULL) {
		hk_err_set("%s: cannot create: %s", buf, strerror(errno));
		buf[0] = '\0';
		return HK_ERR_IO;
	}
	return 0;
}

static int tree_failed;	/* remove_one named the path it could not remove */

static int
remove_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	if (remove(path) != 0 && errno != ENOENT) {
		hk_err_set("%s: cannot remove: %s", path, strerror(errno));
		tree_failed = 1;
		return -1;
	}
	return 0;
}

int
hk_tree_remove(const char *path)
{
	if (!hk_path_exists(path))
		return 0;
	tree_failed = 0;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		if (!tree_failed)
			hk_err_set("%s: cannot remove: %s", path,
			    strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

int
hk_tree_remove_after(const char *path, const char *who)
{
	struct hk_err_kept keep;
	int r;

	hk_err_keep(&keep);
	if ((r = hk_tree_remove(path)) != 0)
		fprintf(stderr, "%s: could not remove %s: %s\n", who, path,
		    hk_err_msg());
	hk_err_restore(&keep);
	return r;
}

/* Remove a file of a pair that failed; the failure's detail is kept, and
 * a file that cannot be removed is added to it. */
static void
pair_undo(const char *path, const char *how)
{
	struct hk_err_kept why;

	hk_err_keep(&why);
	if (unlink(path) != 0)
		hk_err_set("%s; and %s, %s, could not be removed: %s", why.msg,
		    path, how, strerror(errno));
	else {
		(void)hk_dir_sync(path);
		hk_err_restore(&why);
	}
}

int
hk_file_write_pair(const char *der_path, const void *der, size_t der_len,
    const char *pem_path, const void *pem, size_t pem_len)
{
	int r, renamed;

	if ((der_path != NULL && hk_path_exists(der_path)) ||
	    (pem_path != NULL && hk_path_exists(pem_path))) {
		hk_err_set("%s: refusing to overwrite", der_path != NULL &&
		    hk_path_exists(der_path) ? der_path : pem_path);
		return HK_ERR_EXISTS;
	}
	if (der_path != NULL && (r = file_write(der_path, der, der_len,
	    0644, HK_WRITE_NOREPLACE, &renamed)) != 0) {
		/* in place, its folder not fsynced: not written */
		if (renamed)
			pair_undo(der_path, "written");
		return r;
	}
	if (pem_path == NULL || (r = file_write(pem_path, pem, pem_len,
	    0644, HK_WRITE_NOREPLACE, &renamed)) == 0)
		return 0;
	if (renamed)
		pair_undo(pem_path, "written");
	if (der_path != NULL)
		pair_undo(der_path, "written first");
	return r;
}

size_t
hk_tmp_sweep(const char *dir, const char *stem)
{
	static const char mark[] = ".tmp-";
	struct dirent *e;
	struct stat st;
	const char *t;
	size_t n = 0, sl = stem != NULL ? strlen(stem) : 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		/* the last ".tmp-": the name before it is the stem */
		if ((t = strstr(e->d_name, mark)) == NULL)
			continue;
		while (strstr(t + 1, mark) != NULL)
			t = strstr(t + 1, mark);
		if (t == e->d_name || (stem != NULL && ((size_t)(t -
		    e->d_name) != sl || strncmp(e->d_name, stem, sl) != 0)) ||
		    strlen(t + sizeof(mark) - 1) != 16 ||
		    strspn(t + sizeof(mark) - 1, "0123456789abcdef") != 16 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
hk_dir_rename_noreplace(const char *tmp, const char *dest)
{
	struct stat st;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* no flags on this file system (FUSE exFAT/NTFS, fusefat): rename
	 * of a folder replaces no file and no folder that holds anything */
	if (lstat(dest, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return rename(tmp, dest);
}

int
hk_mode_unkept(int e)
{
	return e == EPERM || e == ENOSYS || e == EOPNOTSUPP;
}

int
hk_dir_place(const char *tmp, const char *out, int *placed)
{
	int e;

	*placed = 0;
	if (hk_dir_rename_noreplace(tmp, out) != 0) {
		e = errno;
		hk_err_set("%s: cannot move the backup into place: %s", out,
		    strerror(e));
		return e == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
	}
	*placed = 1;
	if (hk_dir_sync(out) == 0)
		return 0;
	e = errno;
	if (hk_tree_remove(out) == 0)
		hk_err_set("%s: the folder holding the backup could not be "
		    "fsynced (%s): the backup was removed again, none kept",
		    out, strerror(e));
	else
		hk_err_set("%s: the folder holding the backup could not be "
		    "fsynced (%s), and the backup could not be removed again: "
		    "remove it by hand, it is not recorded", out, strerror(e));
	return HK_ERR_IO;
}
