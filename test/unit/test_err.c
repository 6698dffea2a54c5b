/* test_err.c - every error code has a text and a documented exit status. */
#include <criterion/criterion.h>
#include <string.h>

#include "err.h"

Test(err, every_code_has_text_and_exit_status)
{
	int r;

	for (r = HK_ERR_STATE; r <= HK_OK; r++) {
		cr_assert_str_neq(hk_strerror(r), "unknown error", "code %d", r);
		if (r != HK_ERR_INTERNAL && r != HK_ERR_ALLOC)
			cr_assert_neq(hk_exit_code(r), 70, "code %d maps to "
			    "internal", r);
	}
	cr_assert_eq(hk_exit_code(HK_ERR_INTERNAL), 70);
	cr_assert_str_eq(hk_strerror(-999), "unknown error");
	/* The documented statuses of hanko-offline(1). */
	cr_assert_eq(hk_exit_code(HK_OK), 0);
	cr_assert_eq(hk_exit_code(HK_ERR_VERIFY), 1);
	cr_assert_eq(hk_exit_code(HK_ERR_USAGE), 2);
	cr_assert_eq(hk_exit_code(HK_ERR_PARSE), 3);
	cr_assert_eq(hk_exit_code(HK_ERR_PASSPHRASE), 4);
	cr_assert_eq(hk_exit_code(HK_ERR_QUORUM), 4);
	cr_assert_eq(hk_exit_code(HK_ERR_P11), 5);
	cr_assert_eq(hk_exit_code(HK_ERR_AUDIT), 6);
	cr_assert_eq(hk_exit_code(HK_ERR_EXISTS), 7);
	cr_assert_eq(hk_exit_code(HK_ERR_IO), 8);
}

Test(err, detail_line)
{
	hk_err_clear();
	cr_assert_str_eq(hk_err_msg(), "");
	hk_err_set("%s:%d: %s", "roster.yaml", 12, "threshold: must be 2..n");
	cr_assert_str_eq(hk_err_msg(), "roster.yaml:12: threshold: must be 2..n");
}

/* A detail over HK_ERR_DETAIL_MAX is cut and says so; one that fits is
 * whole, its last byte kept (publish's final line, docs/publish.md). */
Test(err, detail_cut_says_so)
{
	static char big[HK_ERR_DETAIL_MAX + 100];
	size_t n = sizeof(big) - 1;

	memset(big, 'a', n);
	big[n] = '\0';
	big[HK_ERR_DETAIL_MAX - 2] = 'z';	/* the last byte that fits */
	big[HK_ERR_DETAIL_MAX - 1] = '\0';
	hk_err_set("%s", big);
	cr_assert_eq(strlen(hk_err_msg()), HK_ERR_DETAIL_MAX - 1);
	cr_assert_eq(hk_err_msg()[HK_ERR_DETAIL_MAX - 2], 'z');
	big[HK_ERR_DETAIL_MAX - 1] = 'a';
	hk_err_set("%s", big);
	cr_assert_eq(strlen(hk_err_msg()), HK_ERR_DETAIL_MAX - 1);
	cr_assert_str_eq(hk_err_msg() + HK_ERR_DETAIL_MAX - sizeof(HK_ERR_CUT),
	    HK_ERR_CUT);
	cr_assert_eq(strncmp(hk_err_msg(), big, HK_ERR_DETAIL_MAX -
	    sizeof(HK_ERR_CUT)), 0);
}

/* The detail may be given its own text as an argument (audit.c does:
 * "%s; refusing to sign a checkpoint" with hk_err_msg()). */
Test(err, detail_from_itself)
{
	hk_err_set("audit.log:3: hash chain broken");
	hk_err_set("%s; refusing to sign a checkpoint", hk_err_msg());
	cr_assert_str_eq(hk_err_msg(), "audit.log:3: hash chain broken; "
	    "refusing to sign a checkpoint");
	hk_err_set("x%s", hk_err_msg());
	cr_assert_str_eq(hk_err_msg(), "xaudit.log:3: hash chain broken; "
	    "refusing to sign a checkpoint");
}

/* A detail kept across work that sets its own comes back whole, the
 * longest one too (the 1,024-byte copies it replaces cut it silently). */
Test(err, kept_whole_across_other_work)
{
	static char big[HK_ERR_DETAIL_MAX];
	static struct hk_err_kept k;

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 2] = 'y';
	big[sizeof(big) - 1] = '\0';
	hk_err_set("%s", big);
	hk_err_keep(&k);
	hk_err_set("rollback: the store is busy");
	cr_assert_str_eq(hk_err_msg(), "rollback: the store is busy");
	hk_err_restore(&k);
	cr_assert_str_eq(hk_err_msg(), big);
	cr_assert_str_eq(k.msg, big);
	hk_err_clear();
	hk_err_restore(&k);
	cr_assert_eq(strlen(hk_err_msg()), HK_ERR_DETAIL_MAX - 1);
	hk_err_set("short");
	hk_err_keep(&k);
	hk_err_clear();
	hk_err_restore(&k);
	cr_assert_str_eq(hk_err_msg(), "short");
}
