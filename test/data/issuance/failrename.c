/*
 * failrename.c - an LD_PRELOAD shim for tests: renameat2(2) fails with
 * ENOSPC (a full medium) when the target's name contains the text of
 * $HK_FAIL_RENAME, so that the last step of an atomic write fails after
 * the temporary file was written. Built by the test that uses it:
 *   cc -shared -fPIC -o failrename.so failrename.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath, unsigned int flags);

int
renameat2(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath, unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *,
	    unsigned int);
	const char *what = getenv("HK_FAIL_RENAME");
	const char *base = strrchr(newpath, '/');

	base = base != NULL ? base + 1 : newpath;
	if (what != NULL && *what != '\0' && strstr(base, what) != NULL &&
	    strstr(base, ".tmp-") == NULL) {
		errno = ENOSPC;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "renameat2");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(olddirfd, oldpath, newdirfd, newpath, flags);
}
