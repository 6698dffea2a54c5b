/*
 * failrenamefrom.c - an LD_PRELOAD shim for tests: rename(2) fails with
 * ENOSPC when the base name of the file being renamed is exactly
 * $HK_FAIL_RENAME_FROM, e.g. "quorum.set.new": the commit of a share
 * rotation fails after everything before it was written. Built by the
 * test that uses it:
 *   cc -shared -fPIC -o failrenamefrom.so failrenamefrom.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rename(const char *oldpath, const char *newpath)
{
	static int (*real)(const char *, const char *);
	const char *what = getenv("HK_FAIL_RENAME_FROM");
	const char *base = strrchr(oldpath, '/');

	base = base != NULL ? base + 1 : oldpath;
	if (what != NULL && *what != '\0' && strcmp(base, what) == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "rename");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(oldpath, newpath);
}
