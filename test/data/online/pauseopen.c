/*
 * pauseopen.c - an LD_PRELOAD shim for tests: the first open(2) (open,
 * open64, openat, openat64) of a path that matches the fnmatch(3) pattern
 * $HK_PAUSE_OPEN_PATH ('*' matches '/' too), as the process names it,
 * waits until the test lets it go: it creates "$HK_PAUSE_OPEN.reached",
 * then waits (up to 120 s) for "$HK_PAUSE_OPEN.go" to exist, then opens.
 * So a test can run another command while a process is at that point of
 * its work holding no lock of the store: hanko-online issue reading a
 * request line's key file (preparing that line, after the run has read
 * what it reads once). Built by the test that uses it:
 *   cc -shared -fPIC -o pauseopen.so pauseopen.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);

static void
maybe_pause(const char *p)
{
	static int paused;
	const char *base = getenv("HK_PAUSE_OPEN");
	const char *pat = getenv("HK_PAUSE_OPEN_PATH");
	char path[4096];
	int i, f;

	if (paused || p == NULL || base == NULL || *base == '\0' ||
	    pat == NULL || *pat == '\0' || fnmatch(pat, p, 0) != 0)
		return;
	paused = 1;
	snprintf(path, sizeof(path), "%s.reached", base);
	if ((f = creat(path, 0600)) >= 0)
		close(f);
	snprintf(path, sizeof(path), "%s.go", base);
	for (i = 0; i < 12000 && access(path, F_OK) != 0; i++)
		usleep(10000);
}

#define MODE_ARG(flags, mode) do {					\
	va_list ap;							\
	mode = 0;							\
	if ((flags) & (O_CREAT | O_TMPFILE)) {				\
		va_start(ap, flags);					\
		mode = (mode_t)va_arg(ap, int);				\
		va_end(ap);						\
	}								\
} while (0)

int
open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode;

	MODE_ARG(flags, mode);
	maybe_pause(path);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "open");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode;

	MODE_ARG(flags, mode);
	maybe_pause(path);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "open64");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode;

	MODE_ARG(flags, mode);
	maybe_pause(path);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "openat");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode;

	MODE_ARG(flags, mode);
	maybe_pause(path);
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "openat64");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}
