/*
 * failfsync.c - an LD_PRELOAD shim for tests: fsync(2) of a folder fails
 * with EIO (a medium that fails) when the folder is $HK_FAIL_FSYNC_DIR
 * (an absolute path without symbolic links), so that the step after a
 * rename into that folder fails. Files, and other folders, are synced as
 * usual. Built by the test that uses it:
 *   cc -shared -fPIC -o failfsync.so failfsync.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd);

int
fsync(int fd)
{
	static int (*real)(int);
	const char *what = getenv("HK_FAIL_FSYNC_DIR");
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	if (what != NULL && *what != '\0' && fstat(fd, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			if (strcmp(path, what) == 0) {
				errno = EIO;
				return -1;
			}
		}
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd);
}
