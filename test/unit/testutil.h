/* testutil.h - small helpers shared by the Criterion unit tests. */
#ifndef HK_TESTUTIL_H
#define HK_TESTUTIL_H

#include <stddef.h>
#include <time.h>

/* A fresh empty folder under HK_TEST_TMP named after the running test
 * (suite and name) and name, so tests run at once (Criterion's --jobs)
 * never share one; returns a static buffer valid until the next call. */
const char *hk_test_dir(const char *name);
/* Write bytes to a file (test setup only; aborts the test on failure). */
void hk_test_write(const char *path, const void *buf, size_t len);
/* Read a whole file; caller frees. */
unsigned char *hk_test_read(const char *path, size_t *len);
/* The time of an RFC 3339 UTC string ("2026-04-03T12:00:00Z"; the test
 * fails when it does not parse). */
time_t hk_test_at(const char *s);

#endif
