/*
 * pauseflock.c - an LD_PRELOAD shim for tests: the first flock(2) on a
 * directory (the issuance lock of an online state folder), or with
 * HK_PAUSE_FLOCK_FILE=1 on a regular file (the state lock, state.lock),
 * waits until the test lets it go: it creates "$HK_PAUSE_FLOCK.reached",
 * then waits (up to 60 s) for "$HK_PAUSE_FLOCK.go" to exist, then calls the
 * real flock. So a test can run another command between a process's
 * reading of its state and its taking of the lock. Built by the test that
 * uses it:
 *   cc -shared -fPIC -o pauseflock.so pauseflock.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int
flock(int fd, int op)
{
	static int (*real)(int, int);
	static int paused;
	const char *base = getenv("HK_PAUSE_FLOCK");
	const char *file = getenv("HK_PAUSE_FLOCK_FILE");
	int want_file = file != NULL && file[0] == '1';
	struct stat sb;
	char path[4096];
	int i, f;

	if (!paused && base != NULL && *base != '\0' && fstat(fd, &sb) == 0 &&
	    (want_file ? S_ISREG(sb.st_mode) : S_ISDIR(sb.st_mode))) {
		paused = 1;
		snprintf(path, sizeof(path), "%s.reached", base);
		if ((f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
			close(f);
		snprintf(path, sizeof(path), "%s.go", base);
		for (i = 0; i < 6000 && access(path, F_OK) != 0; i++)
			usleep(10000);
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "flock");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, op);
}
