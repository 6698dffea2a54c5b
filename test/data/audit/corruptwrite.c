/*
 * corruptwrite.c - an LD_PRELOAD shim for tests: write(2) to a file whose
 * base name begins with $HK_CORRUPT_WRITE_PREFIX (e.g. "audit.log.tmp-",
 * the temporary file of a copy of the audit log) writes the buffer with
 * the bits of its first byte inverted, as a faulty medium would: the call
 * succeeds and the file holds other bytes than the caller gave. Other
 * writes go through as usual. Built by the test that uses it:
 *   cc -shared -fPIC -o corruptwrite.so corruptwrite.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t len);

ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	const char *what = getenv("HK_CORRUPT_WRITE_PREFIX");
	char link[64], path[4096];
	const char *base;
	unsigned char *bad;
	ssize_t n;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (what == NULL || *what == '\0' || len == 0)
		return real(fd, buf, len);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return real(fd, buf, len);
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (strncmp(base, what, strlen(what)) != 0 ||
	    (bad = malloc(len)) == NULL)
		return real(fd, buf, len);
	memcpy(bad, buf, len);
	bad[0] ^= 0xff;
	n = real(fd, bad, len);
	free(bad);
	return n;
}
