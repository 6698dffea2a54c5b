/* test_secmem.c - secret memory is zeroed, wiped and compared in constant
 * time; the process is made non-dumpable. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "err.h"
#include "secmem.h"

Test(secmem, init_makes_process_non_dumpable)
{
	struct rlimit rl;

	cr_assert_eq(hk_secmem_init(), 0);
	cr_assert_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	cr_assert_eq(getrlimit(RLIMIT_CORE, &rl), 0);
	cr_assert_eq(rl.rlim_cur, 0);
}

Test(secmem, alloc_zeroed_and_strdup)
{
	unsigned char *p;
	char *s;
	size_t i;

	cr_assert_eq(hk_secmem_init(), 0);
	p = hk_secret_alloc(64);
	cr_assert_not_null(p);
	for (i = 0; i < 64; i++)
		cr_assert_eq(p[i], 0);
	hk_secret_free(p);
	s = hk_secret_strdup("passphrase");
	cr_assert_str_eq(s, "passphrase");
	hk_wipe(s, strlen(s));
	cr_assert_eq(s[0], 0);
	cr_assert_eq(s[9], 0);
	hk_secret_free(s);
	hk_secret_free(NULL);
}

Test(secmem, constant_time_compare)
{
	cr_assert_eq(hk_secmem_init(), 0);
	cr_assert_eq(hk_ct_memcmp("abcd", "abcd", 4), 0);
	cr_assert_neq(hk_ct_memcmp("abcd", "abce", 4), 0);
	cr_assert_neq(hk_ct_memcmp("Xbcd", "abcd", 4), 0);
}

/*
 * Memory that cannot be locked is refused, not handed out unlocked (which
 * libsodium's sodium_malloc does when mlock fails): the secret would be in
 * memory the kernel may write to swap. Criterion runs each test in its own
 * process, so it may give up root here: CAP_IPC_LOCK ignores the limit.
 */
Test(secmem, unlockable_memory_is_refused)
{
	struct rlimit rl = { 0, 0 };
	void *p;

	cr_assert_eq(hk_secmem_init(), 0);
	if (geteuid() == 0) {
		cr_assert_eq(setgid(65534), 0);
		cr_assert_eq(setuid(65534), 0);
	}
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	hk_err_clear();
	p = hk_secret_alloc(64);
	cr_assert_null(p, "a secret in memory that could not be locked");
	cr_assert_not_null(strstr(hk_err_msg(), "cannot lock 64 bytes"),
	    "message: %s", hk_err_msg());
	cr_assert_null(hk_secret_strdup("PIN 1234"));
}
