/* testutil.c - helpers shared by the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "testutil.h"

const char *
hk_test_dir(const char *name)
{
	static char path[4096];
	char cmd[4200];
	const struct criterion_test *t = criterion_current_test;

	mkdir(HK_TEST_TMP, 0700);
	/* the test's own: Criterion runs each test in a process of its own,
	 * several at once without --jobs 1, and two tests (or a suite's
	 * fixture) naming the same folder removed each other's files */
	if (t != NULL)
		snprintf(path, sizeof(path), "%s/%s.%s.%s", HK_TEST_TMP,
		    t->category, t->name, name);
	else
		snprintf(path, sizeof(path), "%s/%s", HK_TEST_TMP, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		abort();
	if (mkdir(path, 0700) != 0)
		abort();
	return path;
}

void
hk_test_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		abort();
}

unsigned char *
hk_test_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		abort();
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n)
		abort();
	p[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return p;
}

time_t
hk_test_at(const char *s)
{
	time_t t;

	cr_assert_eq(hk_time_parse(s, &t), 0, "%s: not a time", s);
	return t;
}
