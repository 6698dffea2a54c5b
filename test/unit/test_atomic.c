/*
 * test_atomic.c - files are never half-written and nothing stored is lost:
 * temp + fsync + rename, and a no-replace mode that refuses existing files.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "err.h"
#include "testutil.h"

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

Test(atomic, write_replace_and_noreplace)
{
	const char *dir = hk_test_dir("atomic-write");
	char path[4096];
	unsigned char *buf;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/f", dir);
	cr_assert_eq(hk_file_write(path, "one", 3, 0600, HK_WRITE_NOREPLACE), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* No-replace refuses and keeps what is there. */
	cr_assert_eq(hk_file_write(path, "two", 3, 0600, HK_WRITE_NOREPLACE),
	    HK_ERR_EXISTS);
	cr_assert(strstr(hk_err_msg(), "already exists") != NULL);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(buf, "one", 3), 0);
	free(buf);
	/* Replace mode replaces whole. */
	cr_assert_eq(hk_file_write(path, "three", 5, 0644, 0), 0);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(buf, "three", 5), 0);
	free(buf);
	cr_assert_eq(count_entries(dir), 1, "no temporary file is left");
}

/* Piece by piece: nothing at the path until commit, the whole content
 * after it (pieces smaller and larger than the buffer); abort leaves the
 * old file and no temporary; a full disk's error is kept to commit. */
Test(atomic, wfile_streams_then_renames)
{
	const char *dir = hk_test_dir("atomic-wfile");
	static struct hk_wfile wf;
	static unsigned char big[200000], piece[1000];
	char path[4096];
	unsigned char *buf;
	size_t len, i, off = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/r.csv", dir);
	cr_assert_eq(hk_file_write(path, "old", 3, 0644, 0), 0);
	cr_assert_eq(hk_wfile_open(&wf, path, 0644, 0), 0);
	for (i = 0; i < 100; i++) {
		memcpy(piece, big + off, sizeof(piece));
		cr_assert_eq(hk_wfile_write(&wf, piece, sizeof(piece)), 0);
		off += sizeof(piece);
	}
	cr_assert_eq(hk_wfile_write(&wf, big + off, sizeof(big) - off), 0);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), 0);
	cr_assert_eq(len, 3, "the old file stays until commit");
	free(buf);
	cr_assert_eq(count_entries(dir), 2);
	cr_assert_eq(hk_wfile_commit(&wf), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_file_read(path, sizeof(big), &buf, &len), 0);
	cr_assert_eq(len, sizeof(big));
	cr_assert_eq(memcmp(buf, big, len), 0);
	free(buf);
	cr_assert_eq(count_entries(dir), 1, "no temporary file is left");

	cr_assert_eq(hk_wfile_open(&wf, path, 0644, 0), 0);
	cr_assert_eq(hk_wfile_write(&wf, "new", 3), 0);
	hk_wfile_abort(&wf);
	cr_assert_eq(count_entries(dir), 1);
	cr_assert_eq(hk_file_read(path, sizeof(big), &buf, &len), 0);
	cr_assert_eq(len, sizeof(big), "abort keeps what was there");
	free(buf);

	cr_assert_eq(hk_wfile_open(&wf, path, 0644, HK_WRITE_NOREPLACE),
	    HK_ERR_EXISTS);

	/* /dev/full: every write fails with ENOSPC; commit reports it */
	if (access("/dev/full", W_OK) == 0) {
		cr_assert_eq(hk_wfile_open(&wf, path, 0644, 0), 0);
		close(wf.fd);
		cr_assert_geq(wf.fd = open("/dev/full", O_WRONLY), 0);
		cr_assert_eq(hk_wfile_write(&wf, big, sizeof(big)), HK_ERR_IO);
		cr_assert_eq(hk_wfile_commit(&wf), HK_ERR_IO);
		cr_assert(strstr(hk_err_msg(), "No space left") != NULL, "%s",
		    hk_err_msg());
		cr_assert_eq(count_entries(dir), 1);
		cr_assert_eq(hk_file_read(path, sizeof(big), &buf, &len), 0);
		cr_assert_eq(len, sizeof(big), "a failed commit keeps the old");
		free(buf);
	}
}

/*
 * A file's bytes may be a secret (the online token's PIN file, a relying
 * party's token): once committed, aborted or failed, no copy of them is
 * left in the write buffer, which is ordinary (swappable) memory that
 * hk_file_write frees without wiping.
 */
Test(atomic, wfile_buffer_wiped_after_commit_and_abort)
{
	const char *dir = hk_test_dir("atomic-wipe");
	static const char pin[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n";
	static struct hk_wfile wf;
	char path[4096];

	snprintf(path, sizeof(path), "%s/token-user-pin", dir);
	cr_assert_eq(hk_wfile_open(&wf, path, 0600, HK_WRITE_NOREPLACE), 0);
	cr_assert_eq(hk_wfile_write(&wf, pin, sizeof(pin) - 1), 0);
	cr_assert_eq(hk_wfile_commit(&wf), 0, "%s", hk_err_msg());
	cr_assert_null(memmem(wf.buf, sizeof(wf.buf), pin, 16),
	    "the PIN is still in the buffer after commit");

	cr_assert_eq(hk_wfile_open(&wf, path, 0600, 0), 0);
	cr_assert_eq(hk_wfile_write(&wf, pin, sizeof(pin) - 1), 0);
	hk_wfile_abort(&wf);
	cr_assert_null(memmem(wf.buf, sizeof(wf.buf), pin, 16),
	    "the PIN is still in the buffer after abort");

	/* a failed commit (refused: the file exists) aborts: wiped too */
	cr_assert_eq(hk_wfile_open(&wf, path, 0600, 0), 0);
	wf.flags = HK_WRITE_NOREPLACE;
	cr_assert_eq(hk_wfile_write(&wf, pin, sizeof(pin) - 1), 0);
	cr_assert_eq(hk_wfile_commit(&wf), HK_ERR_EXISTS);
	cr_assert_null(memmem(wf.buf, sizeof(wf.buf), pin, 16),
	    "the PIN is still in the buffer after a failed commit");
}

Test(atomic, read_limits_and_links, .timeout = 20)
{
	const char *dir = hk_test_dir("atomic-read");
	char path[4096], link[4096];
	unsigned char *buf = (unsigned char *)"x";
	size_t len = 7;

	snprintf(path, sizeof(path), "%s/big", dir);
	hk_test_write(path, "0123456789", 10);
	cr_assert_eq(hk_file_read(path, 9, &buf, &len), HK_ERR_INVALID);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(hk_file_read(path, 10, &buf, &len), 0);
	free(buf);
	snprintf(link, sizeof(link), "%s/link", dir);
	cr_assert_eq(symlink(path, link), 0);
	cr_assert_neq(hk_file_read(link, 100, &buf, &len), 0,
	    "symbolic links are not followed");
	cr_assert_eq(hk_file_read(dir, 100, &buf, &len), HK_ERR_INVALID,
	    "a folder is not a regular file");
	snprintf(path, sizeof(path), "%s/none", dir);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), HK_ERR_NOT_FOUND);
	/* A FIFO with no writer would block a plain open(2) for ever: refused
	 * at once (the test times out if the open blocks). */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), HK_ERR_INVALID,
	    "a FIFO is not a regular file");
	/* A write through a symbolic link target name is refused too. */
	cr_assert_eq(hk_file_write(link, "y", 1, 0600, HK_WRITE_NOREPLACE),
	    HK_ERR_EXISTS);
}

Test(atomic, dir_create_and_append)
{
	const char *dir = hk_test_dir("atomic-dir");
	char sub[4096], path[8192];
	unsigned char *buf;
	size_t len;

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	cr_assert_eq(hk_dir_create(sub, 0700), 0);
	cr_assert_eq(hk_dir_create(sub, 0700), HK_ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/missing/sub", dir);
	cr_assert_eq(hk_dir_create(path, 0700), HK_ERR_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/log", sub);
	cr_assert_eq(hk_file_append(path, "a\n", 2, 0600), 0);
	cr_assert_eq(hk_file_append(path, "b\n", 2, 0600), 0);
	cr_assert_eq(hk_file_read(path, 100, &buf, &len), 0);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(buf, "a\nb\n", 4), 0);
	free(buf);
}

/* hk_tree_remove: a folder and what it holds, a quote in the name, and a
 * symbolic link inside it that is removed without touching its target. */
Test(atomic, tree_remove_no_shell_no_follow)
{
	const char *dir = hk_test_dir("atomic-tree");
	char top[4096], path[8192], keep[4096];

	snprintf(keep, sizeof(keep), "%s/keep", dir);
	cr_assert_eq(hk_file_write(keep, "k", 1, 0600, 0), 0);
	snprintf(top, sizeof(top), "%s/it's; touch pwned '", dir);
	cr_assert_eq(hk_dir_create(top, 0700), 0);
	snprintf(path, sizeof(path), "%s/a", top);
	cr_assert_eq(hk_dir_create(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/f", top);
	cr_assert_eq(hk_file_write(path, "x", 1, 0600, 0), 0);
	snprintf(path, sizeof(path), "%s/link", top);
	cr_assert_eq(symlink(keep, path), 0);
	cr_assert_eq(hk_tree_remove(top), 0);
	cr_assert_eq(hk_path_exists(top), 0);
	cr_assert_eq(hk_path_exists(keep), 1, "the link's target is kept");
	cr_assert_eq(count_entries(dir), 1, "nothing else made or left");
	cr_assert_eq(hk_tree_remove(top), 0, "a missing path is not an error");
}

/* What an interrupted writer left ("<name>.tmp-" and 16 hex digits) goes;
 * nothing else does, a symbolic link neither. */
Test(atomic, tmp_sweep_only_what_a_writer_left)
{
	const char *dir = hk_test_dir("atomic-sweep");
	static const char *gone[] = {
		"431010.entries.tmp-0123456789abcdef",
		"results.csv.tmp-fedcba9876543210",
	};
	static const char *kept[] = {
		"431010.entries",
		"x.tmp-0123456789abcde",	/* 15 digits */
		"x.tmp-0123456789abcdeF",	/* not lowercase hex */
		"x.tmp-0123456789abcdef0",	/* 17 */
		".tmp-0123456789abcdef",	/* no name before it */
	};
	char path[4096], link[4096];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, gone[i]);
		cr_assert_eq(hk_file_write(path, "t", 1, 0600, 0), 0);
	}
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, kept[i]);
		cr_assert_eq(hk_file_write(path, "k", 1, 0600, 0), 0);
	}
	snprintf(path, sizeof(path), "%s/431010.entries", dir);
	snprintf(link, sizeof(link), "%s/l.tmp-0000000000000000", dir);
	cr_assert_eq(symlink(path, link), 0);
	/* a stem: only its own */
	cr_assert_eq(hk_tmp_sweep(dir, "results.csv"), 1);
	snprintf(path, sizeof(path), "%s/%s", dir, gone[0]);
	cr_assert_eq(hk_path_exists(path), 1);
	/* any stem */
	cr_assert_eq(hk_tmp_sweep(dir, NULL), 1);
	cr_assert_eq(hk_path_exists(path), 0);
	cr_assert_eq(count_entries(dir), 6, "the five and the link stay");
	cr_assert_eq(hk_tmp_sweep("/nonexistent-hanko", NULL), 0);
}
