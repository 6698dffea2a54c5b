/*
 * fuzz_tmp.h - the scratch folder of a fuzz target that reads its input
 * from a file: made once (mkdtemp) on a tmpfs when there is one (/dev/shm:
 * the parsers fsync, every input is written), else $TMPDIR or /tmp, and
 * removed with what is in it when the target exits (a fuzz.all run leaves
 * nothing behind).
 */
#ifndef HK_FUZZ_TMP_H
#define HK_FUZZ_TMP_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[4096];

static int
fuzz_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static void
fuzz_tmp_remove(void)
{
	if (fuzz_dir[0] != '\0')
		nftw(fuzz_dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* The folder "<tmpfs>/<name>.XXXXXX", made once; aborts when it cannot be. */
static const char *
fuzz_tmp_dir(const char *name)
{
	const char *t = getenv("TMPDIR");

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/%s.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : t ? t : "/tmp", name);
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_tmp_remove);
	return fuzz_dir;
}

#endif
