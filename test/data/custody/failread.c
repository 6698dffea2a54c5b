/*
 * failread.c - an LD_PRELOAD shim for tests: read(2) fails with EIO (a
 * medium that takes a file but cannot give it back) when the base name of
 * the file being read is exactly $HK_FAIL_READ_NAME, e.g. "rb.hkb": the
 * read-back of a backup just written fails. Writes, and reads of other
 * files, go through as usual. Built by the test that uses it:
 *   cc -shared -fPIC -o failread.so failread.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t read(int fd, void *buf, size_t len);

ssize_t
read(int fd, void *buf, size_t len)
{
	static ssize_t (*real)(int, void *, size_t);
	const char *what = getenv("HK_FAIL_READ_NAME");
	char link[64], path[4096];
	const char *base;
	ssize_t n;

	if (what != NULL && *what != '\0') {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			base = strrchr(path, '/');
			base = base != NULL ? base + 1 : path;
			if (strcmp(base, what) == 0) {
				errno = EIO;
				return -1;
			}
		}
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len);
}
