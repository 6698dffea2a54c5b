/* test_passin.c - passphrase sources: pass:, env:, file:, fd:, terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "err.h"
#include "passin.h"
#include "secmem.h"
#include "testutil.h"

static void
setup(void)
{
	cr_assert_eq(hk_secmem_init(), 0);
}

TestSuite(passin, .init = setup);

static void
expect_ok(const char *spec, const char *want)
{
	char *p = (char *)0x1;
	int r = hk_passin_read(spec, "x: ", &p);

	cr_assert_eq(r, 0, "%s: %d %s", spec, r, hk_err_msg());
	cr_assert_str_eq(p, want);
	hk_secret_free(p);
}

static void
expect_err(const char *spec, int want)
{
	char *p = (char *)0x1;
	int r = hk_passin_read(spec, "x: ", &p);

	cr_assert_eq(r, want, "%s: got %d (%s)", spec, r, hk_err_msg());
	cr_assert_null(p);
	cr_assert_neq(hk_err_msg()[0], '\0', "%s: no detail", spec);
}

Test(passin, pass_text)
{
	expect_ok("pass:Kumamoto castle 1607", "Kumamoto castle 1607");
	expect_ok("pass:a:b:c", "a:b:c");
	expect_err("pass:", HK_ERR_INVALID);
}

Test(passin, env)
{
	setenv("HK_TEST_PASSIN", "from the environment", 1);
	expect_ok("env:HK_TEST_PASSIN", "from the environment");
	unsetenv("HK_TEST_PASSIN_MISSING");
	expect_err("env:HK_TEST_PASSIN_MISSING", HK_ERR_NOT_FOUND);
	cr_assert_not_null(strstr(hk_err_msg(), "HK_TEST_PASSIN_MISSING"));
	expect_err("env:", HK_ERR_USAGE);
	setenv("HK_TEST_PASSIN_EMPTY", "", 1);
	expect_err("env:HK_TEST_PASSIN_EMPTY", HK_ERR_INVALID);
}

Test(passin, file)
{
	const char *dir = hk_test_dir("passin_file");
	char path[600], spec[620], big[1100];

	snprintf(path, sizeof(path), "%s/pw", dir);
	snprintf(spec, sizeof(spec), "file:%s", path);
	hk_test_write(path, "first line\nsecond line\n", 23);
	expect_ok(spec, "first line");
	hk_test_write(path, "crlf line\r\nsecond\r\n", 19);
	expect_ok(spec, "crlf line");
	hk_test_write(path, "no newline", 10);
	expect_ok(spec, "no newline");
	hk_test_write(path, "", 0);
	expect_err(spec, HK_ERR_INVALID);
	cr_assert_not_null(strstr(hk_err_msg(), path), "%s", hk_err_msg());
	hk_test_write(path, "\nsecond\n", 8);
	expect_err(spec, HK_ERR_INVALID);
	memset(big, 'a', sizeof(big));
	hk_test_write(path, big, sizeof(big));
	expect_err(spec, HK_ERR_INVALID);
	hk_test_write(path, "nul\0inside\n", 11);
	expect_err(spec, HK_ERR_INVALID);
	snprintf(spec, sizeof(spec), "file:%s/missing", dir);
	expect_err(spec, HK_ERR_NOT_FOUND);
	expect_err("file:", HK_ERR_USAGE);
}

Test(passin, fd_pipe)
{
	int p[2];
	char spec[32];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "one\ntwo\n", 8), 8);
	close(p[1]);
	snprintf(spec, sizeof(spec), "fd:%d", p[0]);
	/* Byte by byte: the second read gets the second line. */
	expect_ok(spec, "one");
	expect_ok(spec, "two");
	expect_err(spec, HK_ERR_INVALID);	/* end of pipe */
	close(p[0]);
	expect_err(spec, HK_ERR_USAGE);		/* closed descriptor */
	expect_err("fd:", HK_ERR_USAGE);
	expect_err("fd:abc", HK_ERR_USAGE);
	expect_err("fd:-1", HK_ERR_USAGE);
	expect_err("fd:03", HK_ERR_USAGE);
}

Test(passin, bad_spec_never_echoed)
{
	expect_err("hunter2-secret", HK_ERR_USAGE);
	cr_assert_null(strstr(hk_err_msg(), "hunter2"), "%s", hk_err_msg());
	expect_err("Pass:hunter2-secret", HK_ERR_USAGE);
	cr_assert_null(strstr(hk_err_msg(), "hunter2"), "%s", hk_err_msg());
	expect_err("", HK_ERR_USAGE);
	{
		char big[1200] = "pass:";

		memset(big + 5, 'z', 1100);
		big[1105] = '\0';
		expect_err(big, HK_ERR_INVALID);
		cr_assert_null(strstr(hk_err_msg(), "zzz"), "%s",
		    hk_err_msg());
	}
}

Test(passin, new_passphrase_from_spec_read_once)
{
	char *p;
	int fds[2];
	char spec[32];

	cr_assert_eq(hk_passin_read_new("pass:New one 2026!", "n: ", &p), 0);
	cr_assert_str_eq(p, "New one 2026!");
	hk_secret_free(p);
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "alpha\nbeta\n", 11), 11);
	close(fds[1]);
	snprintf(spec, sizeof(spec), "fd:%d", fds[0]);
	cr_assert_eq(hk_passin_read_new(spec, "n: ", &p), 0);
	cr_assert_str_eq(p, "alpha");
	hk_secret_free(p);
	close(fds[0]);
}

Test(passin, no_terminal)
{
	pid_t pid;
	int st;

	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *p = NULL;
		int r1, r2;

		/* A new session has no controlling terminal. */
		if (setsid() < 0)
			_exit(100);
		r1 = hk_passin_read(NULL, "Passphrase: ", &p);
		if (p != NULL || strstr(hk_err_msg(), "--passin") == NULL)
			_exit(101);
		r2 = hk_passin_read_new(NULL, "New passphrase: ", &p);
		_exit(r1 == HK_ERR_TTY && r2 == HK_ERR_TTY && p == NULL ? 0 :
		    102);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0);
}
