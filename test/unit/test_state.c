/* test_state.c - state.conf: key = value lines, written atomically,
 * strictly read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A message names the line as an editor numbers it: blank lines count
 * (fuzz_state found "<path>:3:" for the key on line 4 after a blank line 3;
 * corpus/state/blank-line-number). A blank line itself is still read. */
Test(state, line_numbers_count_blank_lines)
{
	const char *dir = hk_test_dir("state-blank");
	static const char bad[] = "# hanko CA state, format 1\n"
	    "kind = online\n\nnovalue\n";
	static const char twice[] = "# hanko CA state, format 1\n"
	    "a = 1\n\n\na = 2\n";
	static const char blank[] = "# hanko CA state, format 1\n"
	    "kind = online\n\nformat = 1\n";
	char path[4096];
	struct hk_state *s = NULL;

	snprintf(path, sizeof(path), "%s/state.conf", dir);
	hk_test_write(path, bad, sizeof(bad) - 1);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "state.conf:4: expected 'key = value'")
	    != NULL, "%s", hk_err_msg());
	hk_test_write(path, twice, sizeof(twice) - 1);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "state.conf:5: a: given twice") !=
	    NULL, "%s", hk_err_msg());
	hk_test_write(path, blank, sizeof(blank) - 1);
	cr_assert_eq(hk_state_load(dir, &s), 0, "%s", hk_err_msg());
	cr_assert_str_eq(hk_state_get(s, "format"), "1");
	hk_state_free(s);
}

/* A file of more keys than a state holds is refused for that rule, not
 * as "not a valid key or value" of a key that is valid. */
Test(state, too_many_keys_named_so)
{
	const char *dir = hk_test_dir("state-many");
	char path[4096], *buf, *p;
	struct hk_state *s = NULL;
	size_t i;

	snprintf(path, sizeof(path), "%s/state.conf", dir);
	cr_assert_not_null(buf = malloc(32 + 16 * (HK_STATE_MAX_KEYS + 1)));
	p = buf + sprintf(buf, "# hanko CA state, format 1\n");
	for (i = 0; i <= HK_STATE_MAX_KEYS; i++)
		p += sprintf(p, "k%zu = %zu\n", i, i);
	hk_test_write(path, buf, (size_t)(p - buf));
	free(buf);
	cr_assert_eq(hk_state_load(dir, &s), HK_ERR_INVALID);
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "state.conf:514: k512: more than 512 "
	    "keys") != NULL, "%s", hk_err_msg());
}
