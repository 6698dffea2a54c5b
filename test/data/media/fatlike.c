/*
 * fatlike.c - an LD_PRELOAD shim for tests: the folders of
 * $HK_FATLIKE_PREFIX (':'-separated absolute paths) behave as removable
 * media often do (docs/air-gap.md "The medium"):
 *   - renameat2(2) with flags (RENAME_NOREPLACE) fails with EINVAL, as on
 *     exFAT or NTFS mounted through FUSE (exfat-fuse, ntfs-3g), whose
 *     file systems take no rename flags; a plain rename goes through;
 *   - chmod/fchmod/fchmodat fail with EPERM, as on FAT or exFAT (the
 *     kernel's) for a user other than the mount's owner: the medium keeps
 *     no mode per file; with HK_FATLIKE_CHMOD=pass they go through, as
 *     on exFAT through FUSE (exfat-fuse takes a chmod and ignores it).
 * Each call it fails is appended to $HK_FATLIKE_TRACE (a file outside the
 * prefixes), if set, as "CALL PATH", so a test knows the shim was at work.
 * Built by the test that uses it:
 *   cc -shared -fPIC -o fatlike.so fatlike.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shim_real.h"

/* 1 if the absolute path p is a prefix folder or under one */
static int
under(const char *p)
{
	const char *list = getenv("HK_FATLIKE_PREFIX"), *s, *e;
	size_t n;

	if (list == NULL || p == NULL || p[0] != '/')
		return 0;
	for (s = list; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchr(s, ':');
		if (e == NULL)
			e = s + strlen(s);
		n = (size_t)(e - s);
		if (n > 0 && strncmp(p, s, n) == 0 && (p[n] == '\0' ||
		    p[n] == '/'))
			return 1;
	}
	return 0;
}

/* the absolute path of name relative to dirfd (or of dirfd itself when
 * name is NULL), into buf; "" when it cannot be known */
static const char *
path_at(int dirfd, const char *name, char *buf, size_t cap)
{
	char link[64], dir[PATH_MAX];
	ssize_t n;

	buf[0] = '\0';
	if (name != NULL && name[0] == '/') {
		snprintf(buf, cap, "%s", name);
		return buf;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(dir, sizeof(dir)) == NULL)
			return buf;
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		if ((n = readlink(link, dir, sizeof(dir) - 1)) < 0)
			return buf;
		dir[n] = '\0';
	}
	if (name == NULL)
		snprintf(buf, cap, "%s", dir);
	else
		snprintf(buf, cap, "%s/%s", dir, name);
	return buf;
}

/* 1 unless HK_FATLIKE_CHMOD=pass */
static int
chmod_refused(void)
{
	const char *c = getenv("HK_FATLIKE_CHMOD");

	return c == NULL || strcmp(c, "pass") != 0;
}

static int
refuse(const char *call, const char *path, int e)
{
	const char *t = getenv("HK_FATLIKE_TRACE");
	FILE *f;

	if (t != NULL && *t != '\0' && (f = fopen(t, "a")) != NULL) {
		fprintf(f, "%s %s\n", call, path);
		fclose(f);
	}
	errno = e;
	return -1;
}


int
renameat2(int fd1, const char *from, int fd2, const char *to,
    unsigned int flags)
{
	char a[PATH_MAX + 256], b[PATH_MAX + 256];

	REAL(renameat2);
	if (flags != 0 && (under(path_at(fd1, from, a, sizeof(a))) ||
	    under(path_at(fd2, to, b, sizeof(b)))))
		return refuse("renameat2", b, EINVAL);
	return real_renameat2(fd1, from, fd2, to, flags);
}

int
chmod(const char *path, mode_t mode)
{
	char a[PATH_MAX + 256];

	REAL(chmod);
	if (chmod_refused() && under(path_at(AT_FDCWD, path, a, sizeof(a))))
		return refuse("chmod", a, EPERM);
	return real_chmod(path, mode);
}

int
fchmod(int fd, mode_t mode)
{
	char a[PATH_MAX + 256];

	REAL(fchmod);
	if (chmod_refused() && under(path_at(fd, NULL, a, sizeof(a))))
		return refuse("fchmod", a, EPERM);
	return real_fchmod(fd, mode);
}

int
fchmodat(int fd, const char *path, mode_t mode, int flags)
{
	char a[PATH_MAX + 256];

	REAL(fchmodat);
	if (chmod_refused() && under(path_at(fd, path, a, sizeof(a))))
		return refuse("fchmodat", a, EPERM);
	return real_fchmodat(fd, path, mode, flags);
}
