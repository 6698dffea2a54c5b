/* test_state.c - state.conf: key = value lines, written atomically,
 * strictly read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "state.h"
#include "testutil.h"

Test(state, save_and_load)
{
	const char *dir = hk_test_dir("state-rt");
	struct hk_state *s, *t;

	cr_assert_eq(hk_state_new(dir, &s), 0);
	cr_assert_eq(hk_state_set(s, "token.label", "hanko-root"), 0);
	cr_assert_eq(hk_state_set(s, "root.generations", "0"), 0);
	cr_assert_eq(hk_state_set(s, "root.generations", "1"), 0);
	cr_assert_eq(hk_state_set(s, "Bad Key", "x"), HK_ERR_INVALID);
	cr_assert_eq(hk_state_set(s, "k", "two\nlines"), HK_ERR_INVALID);
	cr_assert_eq(hk_state_save(s), 0);
	cr_assert_eq(hk_state_load(dir, &t), 0, "%s", hk_err_msg());
	cr_assert_str_eq(hk_state_get(t, "token.label"), "hanko-root");
	cr_assert_str_eq(hk_state_get(t, "root.generations"), "1");
	cr_assert_null(hk_state_get(t, "missing"));
	hk_state_free(s);
	hk_state_free(t);
}

Test(state, refuses_damaged_files)
{
	const char *dir = hk_test_dir("state-bad");
	char path[4096];
	struct hk_state *s = NULL;

	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_STATE);
	snprintf(path, sizeof(path), "%s/state.conf", dir);
	hk_test_write(path, "format = 1\n", 11);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE, "no header line");
	hk_test_write(path, "# hanko CA state, format 1\na = 1\na = 2\n", 39);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), ":3: a: given twice") != NULL, "%s",
	    hk_err_msg());
	hk_test_write(path, "# hanko CA state, format 1\nnovalue\n", 35);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert_null(s);
}

/* A file cut short (a copy that stopped) is refused, not read with its
 * last value cut: hk_state_save ends every line in a newline. */
Test(state, refuses_a_file_cut_short)
{
	const char *dir = hk_test_dir("state-cut");
	static const char whole[] = "# hanko CA state, format 1\n"
	    "kind = online\nissuing.generation = 12\n";
	char path[4096];
	struct hk_state *s = NULL;

	snprintf(path, sizeof(path), "%s/state.conf", dir);
	hk_test_write(path, whole, sizeof(whole) - 1);
	cr_assert_eq(hk_state_load(dir, &s), 0, "%s", hk_err_msg());
	cr_assert_str_eq(hk_state_get(s, "issuing.generation"), "12");
	hk_state_free(s);
	s = NULL;
	hk_test_write(path, whole, sizeof(whole) - 3);	/* "... = 1" */
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "state.conf:3: no newline at the end: "
	    "the file is cut short") != NULL, "%s", hk_err_msg());
	hk_test_write(path, whole, sizeof(whole) - 2);	/* no newline only */
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert_null(s);
}
