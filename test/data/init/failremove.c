/*
 * failremove.c - an LD_PRELOAD shim for tests: removing an entry whose
 * name (the last component) contains the text of $HK_FAIL_REMOVE fails
 * with EBUSY, as for a file held by another mount, so that removing a
 * folder holding it fails part-way. Both ways a folder is removed are
 * covered: remove(3) and rmdir(2), as nftw callers use, and unlink(2) and
 * unlinkat(2), as rm(1) does. Built by the test that uses it:
 *   cc -shared -fPIC -o failremove.so failremove.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int remove(const char *path);
int rmdir(const char *path);
int unlink(const char *path);
int unlinkat(int dirfd, const char *path, int flags);

/* 1 if path's last component holds $HK_FAIL_REMOVE (errno set) */
static int
refused(const char *path)
{
	const char *what = getenv("HK_FAIL_REMOVE");
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	if (what != NULL && *what != '\0' && strstr(base, what) != NULL) {
		errno = EBUSY;
		return 1;
	}
	return 0;
}

/* the next definition of name, or NULL (errno ENOSYS) */
static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		errno = ENOSYS;
	return f;
}

int
remove(const char *path)
{
	int (*real)(const char *);

	if (refused(path))
		return -1;
	*(void **)&real = next("remove");
	return real != NULL ? real(path) : -1;
}

int
rmdir(const char *path)
{
	int (*real)(const char *);

	if (refused(path))
		return -1;
	*(void **)&real = next("rmdir");
	return real != NULL ? real(path) : -1;
}

int
unlink(const char *path)
{
	int (*real)(const char *);

	if (refused(path))
		return -1;
	*(void **)&real = next("unlink");
	return real != NULL ? real(path) : -1;
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	int (*real)(int, const char *, int);

	if (refused(path))
		return -1;
	*(void **)&real = next("unlinkat");
	return real != NULL ? real(dirfd, path, flags) : -1;
}
