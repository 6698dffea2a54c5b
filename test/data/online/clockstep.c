/*
 * clockstep.c - an LD_PRELOAD shim for tests: time(2) returns the real
 * time plus one second more at each call, so that two reads of the clock
 * by one command never give the same second (as a slow run does: a
 * revocation's time is read before its work, its audit record's after).
 * The steps so far are kept in the file $HK_CLOCKSTEP, so that the clock
 * never goes back from one command to the next. Built by the test that
 * uses it:
 *   cc -shared -fPIC -o clockstep.so clockstep.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

time_t
time(time_t *out)
{
	static time_t (*real)(time_t *);
	const char *path = getenv("HK_CLOCKSTEP");
	long step = 0;
	time_t t;
	FILE *f;

	if (real == NULL)
		real = (time_t (*)(time_t *))dlsym(RTLD_NEXT, "time");
	if (path != NULL && (f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &step) != 1)
			step = 0;
		fclose(f);
	}
	step++;
	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld\n", step);
		fclose(f);
	}
	t = real(NULL) + step;
	if (out != NULL)
		*out = t;
	return t;
}
