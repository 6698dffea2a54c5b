/* atomic.c - temp file, fsync, rename; O_EXCL where nothing may be replaced. */
#include <errno.h>
#include <fcntl.h>
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
	int fd, r = 0;

	if (strlen(path) >= sizeof(tmp))
		return HK_ERR_INVALID;
	strcpy(tmp, path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return HK_ERR_IO;
	if (fsync(fd) != 0)
		r = HK_ERR_IO;
	close(fd);
	return r;
}

int
hk_file_write(const char *path, const void *buf, size_t len, mode_t mode,
    int flags)
{
	char tmp[PATH_MAX];
	unsigned char rnd[8];
	int fd = -1, r = HK_ERR_IO, n;

	randombytes_buf(rnd, sizeof(rnd));
	n = snprintf(tmp, sizeof(tmp), "%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
	    path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	if ((flags & HK_WRITE_NOREPLACE) && hk_path_exists(path)) {
		hk_err_set("%s: already exists; refusing to overwrite", path);
		return HK_ERR_EXISTS;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		hk_err_set("%s: cannot create: %s", tmp, strerror(errno));
		return HK_ERR_IO;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, buf, len) != 0 ||
	    fsync(fd) != 0) {
		hk_err_set("%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		hk_err_set("%s: cannot close: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (flags & HK_WRITE_NOREPLACE) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
		    RENAME_NOREPLACE) != 0) {
			if (errno == EEXIST) {
				hk_err_set("%s: already exists; refusing to "
				    "overwrite", path);
				r = HK_ERR_EXISTS;
			} else
				hk_err_set("%s: cannot rename into place: %s",
				    path, strerror(errno));
			goto out;
		}
	} else if (rename(tmp, path) != 0) {
		hk_err_set("%s: cannot rename into place: %s", path,
		    strerror(errno));
		goto out;
	}
	r = hk_dir_sync(path);
	if (r != 0)
		hk_err_set("%s: cannot fsync its folder", path);
	return r;
 out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
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
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
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
	return hk_dir_sync(path);
}

int
hk_file_append(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0) {
		hk_err_set("%s: cannot open for append: %s", path,
		    strerror(errno));
		return HK_ERR_IO;
	}
	if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		hk_err_set("%s: cannot append: %s", path, strerror(errno));
		r = HK_ERR_IO;
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
