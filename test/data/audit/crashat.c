/*
 * crashat.c - an LD_PRELOAD shim for tests: a process killed between two
 * steps of a sequence of renames and hard links (the yearly close of the
 * audit log, hk_audit_close). The first rename(2), renameat(2),
 * renameat2(2), link(2) or linkat(2) whose "FROM>TO" matches the
 * fnmatch(3) pattern $HK_CRASH_AT ('*' matches '/' too), after the first
 * $HK_CRASH_SKIP such calls (default 0), ends the process with _exit(99):
 * before the call when $HK_CRASH_WHEN is "before", else right after it.
 * Built by the test that uses it:
 *   cc -shared -fPIC -o crashat.so crashat.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long seen;

/* 1: this call is the one (before it: ends the process here). */
static int
hit(const char *from, const char *to)
{
	const char *pat = getenv("HK_CRASH_AT");
	const char *skip = getenv("HK_CRASH_SKIP");
	const char *when = getenv("HK_CRASH_WHEN");
	char buf[8300];

	if (pat == NULL || *pat == '\0')
		return 0;
	snprintf(buf, sizeof(buf), "%s>%s", from, to);
	if (fnmatch(pat, buf, 0) != 0 ||
	    seen++ < (skip != NULL ? atol(skip) : 0))
		return 0;
	if (when != NULL && strcmp(when, "before") == 0)
		_exit(99);
	return 1;
}

typedef int (*ren_fn)(const char *, const char *);
typedef int (*renat_fn)(int, const char *, int, const char *);
typedef int (*renat2_fn)(int, const char *, int, const char *, unsigned int);
typedef int (*linkat_fn)(int, const char *, int, const char *, int);
#define REAL(name, type) \
	type real = (type)dlsym(RTLD_NEXT, name)

int
rename(const char *a, const char *b)
{
	REAL("rename", ren_fn);
	int h = hit(a, b), r = real(a, b);

	if (h)
		_exit(99);
	return r;
}

int
renameat(int fa, const char *a, int fb, const char *b)
{
	REAL("renameat", renat_fn);
	int h = hit(a, b), r = real(fa, a, fb, b);

	if (h)
		_exit(99);
	return r;
}

int
renameat2(int fa, const char *a, int fb, const char *b, unsigned int fl)
{
	REAL("renameat2", renat2_fn);
	int h = hit(a, b), r = real(fa, a, fb, b, fl);

	if (h)
		_exit(99);
	return r;
}

int
link(const char *a, const char *b)
{
	REAL("link", ren_fn);
	int h = hit(a, b), r = real(a, b);

	if (h)
		_exit(99);
	return r;
}

int
linkat(int fa, const char *a, int fb, const char *b, int fl)
{
	REAL("linkat", linkat_fn);
	int h = hit(a, b), r = real(fa, a, fb, b, fl);

	if (h)
		_exit(99);
	return r;
}
