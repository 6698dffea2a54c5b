/*
 * pausewrite.c - an LD_PRELOAD shim for tests: the first write(2),
 * pwrite(2) or pwrite64 to a file whose path matches the fnmatch(3)
 * pattern $HK_PAUSE_WRITE_PATH ('*' matches '/' too), after the first
 * $HK_PAUSE_WRITE_SKIP such writes (default 0), waits until the test lets
 * it go: it creates "$HK_PAUSE_WRITE.reached", then waits (up to 120 s)
 * for "$HK_PAUSE_WRITE.go" to exist, then writes. So a test can let other
 * commands run while a process is inside that write: hanko-online backup
 * inside SQLite's copy of the store (its read transaction open), or issue
 * inside a write of its store's -wal (a transaction under way, nothing of
 * it committed). Built by the test that uses it:
 *   cc -shared -fPIC -o pausewrite.so pausewrite.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t len);
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off);

static void
maybe_pause(int fd)
{
	static int paused;
	static long seen;
	const char *base = getenv("HK_PAUSE_WRITE");
	const char *pat = getenv("HK_PAUSE_WRITE_PATH");
	const char *skip = getenv("HK_PAUSE_WRITE_SKIP");
	char link[64], path[4096];
	ssize_t n;
	int i, f;

	if (paused || base == NULL || *base == '\0' || pat == NULL ||
	    *pat == '\0')
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return;
	path[n] = '\0';
	if (fnmatch(pat, path, 0) != 0 ||
	    seen++ < (skip != NULL ? atol(skip) : 0))
		return;
	paused = 1;
	snprintf(path, sizeof(path), "%s.reached", base);
	if ((f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(f);
	snprintf(path, sizeof(path), "%s.go", base);
	for (i = 0; i < 12000 && access(path, F_OK) != 0; i++)
		usleep(10000);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);

	maybe_pause(fd);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);

	maybe_pause(fd);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pwrite");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off64_t);

	maybe_pause(fd);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pwrite64");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len, off);
}
