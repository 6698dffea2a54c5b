/*
 * failrenameto.c - an LD_PRELOAD shim for tests: rename(2) fails with
 * ENOSPC (a full medium) when the base name of the target is exactly
 * $HK_FAIL_RENAME_TO, e.g. "state.conf": an atomic replacement of that
 * file fails after its temporary file was written, and every other
 * rename goes through. Built by the test that uses it:
 *   cc -shared -fPIC -o failrenameto.so failrenameto.c -ldl
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
	const char *what = getenv("HK_FAIL_RENAME_TO");
	const char *base = strrchr(newpath, '/');

	base = base != NULL ? base + 1 : newpath;
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
