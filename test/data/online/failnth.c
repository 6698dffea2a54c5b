/*
 * failnth.c - an LD_PRELOAD shim for tests: the Nth writing call (or, with
 * HK_FAILNTH_MODE=read, the Nth reading call) on a path under one of the
 * folders of $HK_FAILNTH_PREFIX (':'-separated absolute paths) fails with
 * $HK_FAILNTH_ERRNO (ENOSPC, the default, or EIO), as a full or failing
 * medium would; every other call goes through. Counted as writing:
 * open/open64/openat/openat64/creat with O_WRONLY, O_RDWR, O_CREAT or
 * O_TRUNC; rename/renameat/renameat2 (either path under a prefix);
 * unlink/unlinkat/rmdir/mkdir/mkdirat; fsync/fdatasync/ftruncate and
 * write/pwrite/pwrite64/writev on a descriptor whose file (read through
 * /proc/self/fd) is under a prefix. Counted as reading (HK_FAILNTH_MODE=
 * read; use HK_FAILNTH_ERRNO=EIO, a full medium fails no read): open/
 * open64/openat/openat64 with none of those flags (folders too);
 * read/readv/pread/pread64 on a descriptor under a prefix (SQLite's reads
 * of its database, journal and WAL among them: it reads through pread);
 * stat/stat64/lstat/lstat64/fstatat/fstatat64/access/faccessat of a path
 * and fstat/fstat64 of a descriptor under a prefix; getline/getdelim on a
 * stream whose descriptor is (glibc reads a stream's buffer inside itself:
 * the line is counted instead, and failed as glibc fails it, -1 with the
 * stream's error flag set). Not counted: mmap (SQLite's WAL index, the
 * -shm file, is mapped: its reads are not seen), readlink, opendir/readdir,
 * fopen's open and fread.
 * Counting runs over the whole process (threads included; not across exec).
 *
 *   HK_FAILNTH_MODE   write (the default) or read: the calls counted
 *   HK_FAILNTH_SKIP   ':'-separated folders under a prefix whose calls are
 *                     neither counted nor failed (a PKCS#11 module's own
 *                     files, say)
 *   HK_FAILNTH_N      the call to fail (1, 2, ...); unset or 0: count only
 *   HK_FAILNTH_TRACE  a file (outside the prefixes) to which each counted
 *                     call is appended as "N CALL PATH"
 *   HK_FAILNTH_SAY    a file (outside the prefixes) that takes the line
 *                     below instead of stderr (for a test of stderr)
 *
 * The failed call is said on stderr as one line
 *   failnth: call N CALL PATH failed: REASON
 * so a test knows a run whose N is past its last call (no such line).
 * Built by the test that uses it:
 *   cc -shared -fPIC -o failnth.so failnth.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../shim_real.h"

static long counted;
static __thread int inside;


/* The absolute path of (dirfd, path) in out; 0, or -1 when unknown. */
static int
at_path(int dirfd, const char *path, char *out, size_t len)
{
	char link[64], base[4096];
	ssize_t n;

	if (path == NULL)
		return -1;
	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return 0;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof(base)) == NULL)
			return -1;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		if ((n = readlink(link, base, sizeof(base) - 1)) <= 0)
			return -1;
		base[n] = '\0';
	}
	snprintf(out, len, "%s/%s", base, path);
	return 0;
}

static int
fd_path(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, len - 1)) <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/* 1 if path is one of the ':'-separated folders of list or below one. */
static int
under_list(const char *path, const char *p)
{
	const char *e;
	size_t n;

	if (p == NULL)
		return 0;
	while (*p != '\0') {
		e = strchr(p, ':');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n > 0 && strncmp(path, p, n) == 0 &&
		    (path[n] == '/' || path[n] == '\0'))
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static int
under(const char *path)
{
	return under_list(path, getenv("HK_FAILNTH_PREFIX")) &&
	    !under_list(path, getenv("HK_FAILNTH_SKIP"));
}

/* 1 if this call (CALL on PATH, NULL: unknown) is the one to fail; errno
 * is set then. */
static int
fail_here(const char *call, const char *path)
{
	const char *ns = getenv("HK_FAILNTH_N"), *es, *tr, *sa;
	long n, want = ns != NULL ? atol(ns) : 0;
	int err = ENOSPC, fd, k;
	char line[4200];

	if (inside || path == NULL || !under(path))
		return 0;
	inside = 1;
	n = __atomic_add_fetch(&counted, 1, __ATOMIC_SEQ_CST);
	if ((tr = getenv("HK_FAILNTH_TRACE")) != NULL && *tr != '\0' &&
	    (fd = (int)syscall(SYS_openat, AT_FDCWD, tr,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		k = snprintf(line, sizeof(line), "%ld %s %s\n", n, call,
		    path);
		if (k > 0)
			(void)!syscall(SYS_write, fd, line, (size_t)k);
		(void)syscall(SYS_close, fd);
	}
	inside = 0;
	if (n != want)
		return 0;
	if ((es = getenv("HK_FAILNTH_ERRNO")) != NULL && strcmp(es, "EIO") == 0)
		err = EIO;
	k = snprintf(line, sizeof(line), "failnth: call %ld %s %s failed: "
	    "%s\n", n, call, path, strerror(err));
	if ((sa = getenv("HK_FAILNTH_SAY")) == NULL || *sa == '\0' ||
	    (fd = (int)syscall(SYS_openat, AT_FDCWD, sa, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0600)) < 0)
		fd = 2;
	if (k > 0)
		(void)!syscall(SYS_write, fd, line, (size_t)k);
	if (fd != 2)
		(void)syscall(SYS_close, fd);
	errno = err;
	return 1;
}

static int
writing(int flags)
{
	return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
}

/* 1 if the reading calls are counted (HK_FAILNTH_MODE=read), not the
 * writing ones. */
static int
read_mode(void)
{
	const char *m = getenv("HK_FAILNTH_MODE");

	return m != NULL && strcmp(m, "read") == 0;
}

/* A writing call: counted in write mode only. */
#define W (!read_mode())
/* A reading call: counted in read mode only. */
#define R (read_mode())
/* An open: writing with a writing flag, else reading. */
#define OPEN_COUNTED(flags) (writing(flags) ? W : R)

static int
check_at(const char *call, int dirfd, const char *path)
{
	char abs[4200];

	if (inside || at_path(dirfd, path, abs, sizeof(abs)) != 0)
		return 0;
	return fail_here(call, abs);
}

static int
check_fd(const char *call, int fd)
{
	char abs[4200];

	if (inside || fd_path(fd, abs, sizeof(abs)) != 0)
		return 0;
	return fail_here(call, abs);
}

#define MODE_ARG(flags, mode) \
	mode_t mode = 0; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	}

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);

int
open(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	REAL(open);
	if (OPEN_COUNTED(flags) && check_at("open", AT_FDCWD, path))
		return -1;
	return real_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	REAL(open64);
	if (OPEN_COUNTED(flags) && check_at("open", AT_FDCWD, path))
		return -1;
	return real_open64(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	REAL(openat);
	if (OPEN_COUNTED(flags) && check_at("openat", dirfd, path))
		return -1;
	return real_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	MODE_ARG(flags, mode);
	REAL(openat64);
	if (OPEN_COUNTED(flags) && check_at("openat", dirfd, path))
		return -1;
	return real_openat64(dirfd, path, flags, mode);
}

int
creat(const char *path, mode_t mode)
{
	REAL(creat);
	if (W && check_at("creat", AT_FDCWD, path))
		return -1;
	return real_creat(path, mode);
}

int
rename(const char *from, const char *to)
{
	REAL(rename);
	if (W && (check_at("rename", AT_FDCWD, to) ||
	    check_at("rename-from", AT_FDCWD, from)))
		return -1;
	return real_rename(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(renameat);
	if (W && (check_at("renameat", fd2, to) ||
	    check_at("renameat-from", fd1, from)))
		return -1;
	return real_renameat(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to,
    unsigned int flags);

int
renameat2(int fd1, const char *from, int fd2, const char *to,
    unsigned int flags)
{
	REAL(renameat2);
	if (W && (check_at("renameat2", fd2, to) ||
	    check_at("renameat2-from", fd1, from)))
		return -1;
	return real_renameat2(fd1, from, fd2, to, flags);
}

int
unlink(const char *path)
{
	REAL(unlink);
	if (W && check_at("unlink", AT_FDCWD, path))
		return -1;
	return real_unlink(path);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	REAL(unlinkat);
	if (W && check_at("unlinkat", dirfd, path))
		return -1;
	return real_unlinkat(dirfd, path, flags);
}

int
rmdir(const char *path)
{
	REAL(rmdir);
	if (W && check_at("rmdir", AT_FDCWD, path))
		return -1;
	return real_rmdir(path);
}

int
mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	if (W && check_at("mkdir", AT_FDCWD, path))
		return -1;
	return real_mkdir(path, mode);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(mkdirat);
	if (W && check_at("mkdirat", dirfd, path))
		return -1;
	return real_mkdirat(dirfd, path, mode);
}

int
fsync(int fd)
{
	REAL(fsync);
	if (W && check_fd("fsync", fd))
		return -1;
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	REAL(fdatasync);
	if (W && check_fd("fdatasync", fd))
		return -1;
	return real_fdatasync(fd);
}

int
ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	if (W && check_fd("ftruncate", fd))
		return -1;
	return real_ftruncate(fd, len);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(write);
	if (W && check_fd("write", fd))
		return -1;
	return real_write(fd, buf, len);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	REAL(writev);
	if (W && check_fd("writev", fd))
		return -1;
	return real_writev(fd, iov, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	REAL(pwrite);
	if (W && check_fd("pwrite", fd))
		return -1;
	return real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off);

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	REAL(pwrite64);
	if (W && check_fd("pwrite", fd))
		return -1;
	return real_pwrite64(fd, buf, len, off);
}

/* The reading calls (HK_FAILNTH_MODE=read). */

ssize_t
read(int fd, void *buf, size_t len)
{
	REAL(read);
	if (R && check_fd("read", fd))
		return -1;
	return real_read(fd, buf, len);
}

ssize_t
readv(int fd, const struct iovec *iov, int n)
{
	REAL(readv);
	if (R && check_fd("readv", fd))
		return -1;
	return real_readv(fd, iov, n);
}

ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	REAL(pread);
	if (R && check_fd("pread", fd))
		return -1;
	return real_pread(fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off64_t off);

ssize_t
pread64(int fd, void *buf, size_t len, off64_t off)
{
	REAL(pread64);
	if (R && check_fd("pread", fd))
		return -1;
	return real_pread64(fd, buf, len, off);
}

int
stat(const char *path, struct stat *st)
{
	REAL(stat);
	if (R && check_at("stat", AT_FDCWD, path))
		return -1;
	return real_stat(path, st);
}

int stat64(const char *path, struct stat64 *st);

int
stat64(const char *path, struct stat64 *st)
{
	REAL(stat64);
	if (R && check_at("stat", AT_FDCWD, path))
		return -1;
	return real_stat64(path, st);
}

int
lstat(const char *path, struct stat *st)
{
	REAL(lstat);
	if (R && check_at("lstat", AT_FDCWD, path))
		return -1;
	return real_lstat(path, st);
}

int lstat64(const char *path, struct stat64 *st);

int
lstat64(const char *path, struct stat64 *st)
{
	REAL(lstat64);
	if (R && check_at("lstat", AT_FDCWD, path))
		return -1;
	return real_lstat64(path, st);
}

int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	REAL(fstatat);
	/* "" with AT_EMPTY_PATH: the descriptor itself */
	if (R && (path[0] == '\0' ? check_fd("fstatat", dirfd) :
	    check_at("fstatat", dirfd, path)))
		return -1;
	return real_fstatat(dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags);

int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	REAL(fstatat64);
	if (R && (path[0] == '\0' ? check_fd("fstatat", dirfd) :
	    check_at("fstatat", dirfd, path)))
		return -1;
	return real_fstatat64(dirfd, path, st, flags);
}

int
fstat(int fd, struct stat *st)
{
	REAL(fstat);
	if (R && check_fd("fstat", fd))
		return -1;
	return real_fstat(fd, st);
}

int fstat64(int fd, struct stat64 *st);

int
fstat64(int fd, struct stat64 *st)
{
	REAL(fstat64);
	if (R && check_fd("fstat", fd))
		return -1;
	return real_fstat64(fd, st);
}

int
access(const char *path, int mode)
{
	REAL(access);
	if (R && check_at("access", AT_FDCWD, path))
		return -1;
	return real_access(path, mode);
}

int
faccessat(int dirfd, const char *path, int mode, int flags)
{
	REAL(faccessat);
	if (R && check_at("faccessat", dirfd, path))
		return -1;
	return real_faccessat(dirfd, path, mode, flags);
}

/* glibc's error flag of a stream (_IO_ERR_SEEN): what a read that fails
 * inside getline sets, so that ferror() says so. */
#define STREAM_ERR 0x0020

ssize_t
getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	REAL(getdelim);
	if (R && f != NULL && check_fd("getdelim", fileno(f))) {
		f->_flags |= STREAM_ERR;
		return -1;
	}
	return real_getdelim(line, cap, delim, f);
}

ssize_t
getline(char **line, size_t *cap, FILE *f)
{
	REAL(getline);
	if (R && f != NULL && check_fd("getline", fileno(f))) {
		f->_flags |= STREAM_ERR;
		return -1;
	}
	return real_getline(line, cap, f);
}
