/* testutil.h - small helpers shared by the Criterion unit tests. */
#ifndef HK_TESTUTIL_H
#define HK_TESTUTIL_H

#include <stddef.h>

/* A fresh empty folder under HK_TEST_TMP named after the test; returns a
 * static buffer valid until the next call. */
const char *hk_test_dir(const char *name);
/* Write bytes to a file (test setup only; aborts the test on failure). */
void hk_test_write(const char *path, const void *buf, size_t len);
/* Read a whole file; caller frees. */
unsigned char *hk_test_read(const char *path, size_t *len);

#endif
