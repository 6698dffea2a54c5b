/*
 * test_repo.c - the repository folder of hanko-online (online/repo.c,
 * docs/repository.md): MANIFEST parsed strictly (each field's form and
 * limits, paths, sorted and unique), sets written whole (crash leftovers
 * removed, numbering past an orphan set, the link swapped, two sets kept
 * before the current one), files read and checked against their MANIFEST
 * line (size and SHA-256, the failure named).
 *
 * Sets for the parser are written by hand: "<repo>.sets/1" with MANIFEST
 * and its files, and the link "<repo>" -> "repo.sets/1".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "clock.h"
#include "err.h"
#include "hex.h"
#include "repo.h"
#include "testutil.h"

static char repo[4200];

static void
sha_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char d[32];

	cr_assert_eq(EVP_Digest(buf, len, d, NULL, EVP_sha256(), NULL), 1);
	hk_hex_encode(d, 32, hex);
}

/* Make the folder <repo>.sets/<rel>. */
static void
sets_mkdir(const char *rel)
{
	char path[4400];

	snprintf(path, sizeof(path), "%s.sets/%s", repo, rel);
	cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

/* A hand-written set 1 with the MANIFEST text given (files made apart). */
static void
hand_set(const char *name, const char *manifest, size_t len)
{
	char path[4400];

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir(name));
	snprintf(path, sizeof(path), "%s.sets", repo);
	cr_assert_eq(mkdir(path, 0755), 0);
	sets_mkdir("1");
	snprintf(path, sizeof(path), "%s.sets/1/MANIFEST", repo);
	hk_test_write(path, manifest, len);
	cr_assert_eq(symlink("repo.sets/1", repo), 0);
}

/* hk_repo_open of a set whose MANIFEST is text: its result. */
static int
open_manifest(const char *text)
{
	struct hk_repo_set *s = NULL;
	int r;

	hand_set("repo_manifest", text, strlen(text));
	r = hk_repo_open(repo, &s);
	if (r == 0)
		cr_assert_not_null(s);
	else
		cr_assert_null(s);
	hk_repo_close(s);
	return r;
}

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One line "H64 <rest>": accepted (0) or refused (HK_ERR_PARSE). */
static void
line_is(const char *rest, int want)
{
	char text[512];

	snprintf(text, sizeof(text), H64 " %s\n", rest);
	cr_assert_eq(open_manifest(text), want, "line \"%s\": %s", rest,
	    hk_err_msg());
}

Test(repo_manifest, both_forms_parsed)
{
	struct hk_repo_set *s;
	const struct hk_repo_file *f;
	const char *text =
	    H64 " 0 arl.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 2\n"
	    H64 " 1182 root/gen-1.cer\n";

	hand_set("repo_forms", text, strlen(text));
	cr_assert_eq(hk_repo_open(repo, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->nfiles, 2);
	cr_assert_not_null(f = hk_repo_find(s, "arl.crl"));
	cr_assert(f->is_crl);
	cr_assert_eq(f->size, 0);
	cr_assert_eq(f->this_update, hk_test_at("2026-04-03T11:00:00Z"));
	cr_assert_eq(f->next_update, hk_test_at("2026-04-06T11:00:00Z"));
	cr_assert_eq(f->number, 2);
	cr_assert_eq(f->sha256[0], 0xe3);
	cr_assert_eq(f->sha256[31], 0x55);
	cr_assert_not_null(f = hk_repo_find(s, "root/gen-1.cer"));
	cr_assert_not(f->is_crl);
	cr_assert_eq(f->size, 1182);
	cr_assert_null(hk_repo_find(s, "root/gen-2.cer"));
	cr_assert_null(hk_repo_find(s, "MANIFEST"));
	hk_repo_close(s);
}

Test(repo_manifest, empty_is_a_set_of_nothing)
{
	cr_assert_eq(open_manifest(""), 0);
}

Test(repo_manifest, lines_of_text_only)
{
	struct hk_repo_set *s = NULL;

	cr_assert_eq(open_manifest(H64 " 1 a.cer"), HK_ERR_PARSE,
	    "no final newline");
	cr_assert_eq(open_manifest("x"), HK_ERR_PARSE, "one byte");
	cr_assert_eq(open_manifest("\n"), HK_ERR_PARSE, "an empty line");
	cr_assert_eq(open_manifest(H64 " 1 a.cer\n\n"), HK_ERR_PARSE);
	hand_set("repo_nul", H64 " 1 a.cer\n\0\n", 68);
	cr_assert_eq(hk_repo_open(repo, &s), HK_ERR_PARSE, "a NUL byte");
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "not lines of text") != NULL, "%s",
	    hk_err_msg());
}

Test(repo_manifest, sorted_and_unique)
{
	cr_assert_eq(open_manifest(H64 " 1 a.cer\n" H64 " 1 b.cer\n"), 0);
	cr_assert_eq(open_manifest(H64 " 1 b.cer\n" H64 " 1 a.cer\n"),
	    HK_ERR_PARSE, "unsorted");
	cr_assert(strstr(hk_err_msg(), "MANIFEST:2:") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(open_manifest(H64 " 1 a.cer\n" H64 " 2 a.cer\n"),
	    HK_ERR_PARSE, "twice");
	/* byte order: '-' (0x2d) before '/' (0x2f) */
	cr_assert_eq(open_manifest(H64 " 1 crl-x.crl\n" H64 " 1 crl/1.crl\n"),
	    0);
	cr_assert_eq(open_manifest(H64 " 1 crl/1.crl\n" H64 " 1 crl-x.crl\n"),
	    HK_ERR_PARSE);
}

Test(repo_manifest, field_count)
{
	line_is("1 a.cer", 0);
	line_is("1", HK_ERR_PARSE);
	line_is("1 a.cer x", HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z x", HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 2 x",
	    HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 2 x y",
	    HK_ERR_PARSE);
	cr_assert_eq(open_manifest(H64 "\n"), HK_ERR_PARSE);
	/* fields separated by one space */
	line_is(" 1 a.cer", HK_ERR_PARSE);
	line_is("1  a.cer", HK_ERR_PARSE);
	line_is("1 a.cer ", HK_ERR_PARSE);
	cr_assert_eq(open_manifest(" " H64 " 1 a.cer\n"), HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z  2026-04-06T11:00:00Z 2",
	    HK_ERR_PARSE);
}

Test(repo_manifest, sha256_is_64_lowercase_hex)
{
	char text[256];

	cr_assert_eq(open_manifest(H64 " 1 a.cer\n"), 0);
	/* 63 and 65 digits */
	snprintf(text, sizeof(text), "%.63s 1 a.cer\n", H64);
	cr_assert_eq(open_manifest(text), HK_ERR_PARSE);
	snprintf(text, sizeof(text), "%s0 1 a.cer\n", H64);
	cr_assert_eq(open_manifest(text), HK_ERR_PARSE);
	/* upper case, and a letter past f */
	snprintf(text, sizeof(text), "E%s 1 a.cer\n", H64 + 1);
	cr_assert_eq(open_manifest(text), HK_ERR_PARSE);
	snprintf(text, sizeof(text), "g%s 1 a.cer\n", H64 + 1);
	cr_assert_eq(open_manifest(text), HK_ERR_PARSE);
}

Test(repo_manifest, size_field)
{
	line_is("0 a.cer", 0);
	line_is("999999999999 a.cer", 0);	/* 12 digits */
	line_is("1000000000000 a.cer", HK_ERR_PARSE); /* 13 */
	line_is("01 a.cer", HK_ERR_PARSE);	/* a leading zero */
	line_is("00 a.cer", HK_ERR_PARSE);
	line_is("-1 a.cer", HK_ERR_PARSE);
	line_is("+1 a.cer", HK_ERR_PARSE);
	line_is("1x a.cer", HK_ERR_PARSE);
}

Test(repo_manifest, path_rules)
{
	char p95[128], p96[128];

	line_is("1 a.cer", 0);
	line_is("1 root/gen-1.cer", 0);
	line_is("1 a_b-c.9", 0);
	line_is("1 ../x", HK_ERR_PARSE);
	line_is("1 ..", HK_ERR_PARSE);
	line_is("1 crl/../x", HK_ERR_PARSE);
	line_is("1 crl/..", HK_ERR_PARSE);
	line_is("1 .hidden", HK_ERR_PARSE);
	line_is("1 crl/.hidden", HK_ERR_PARSE);
	line_is("1 a/b/c", HK_ERR_PARSE);	/* three components */
	line_is("1 a//b", HK_ERR_PARSE);
	line_is("1 crl/", HK_ERR_PARSE);
	line_is("1 /", HK_ERR_PARSE);
	line_is("1 /etc", HK_ERR_PARSE);	/* absolute: openat ignores the set */
	line_is("1 /etc/passwd", HK_ERR_PARSE);
	line_is("1 A.cer", HK_ERR_PARSE);	/* upper case */
	line_is("1 a\tb", HK_ERR_PARSE);
	line_is("1 a%2fb", HK_ERR_PARSE);
	line_is("1 MANIFEST", HK_ERR_PARSE);	/* not itself */
	/* at most HK_REPO_PATH_MAX - 1 bytes */
	memcpy(p95, "1 ", 2);
	memset(p95 + 2, 'a', 95);
	p95[2 + 95] = '\0';
	memcpy(p96, "1 ", 2);
	memset(p96 + 2, 'a', 96);
	p96[2 + 96] = '\0';
	line_is(p95, 0);
	line_is(p96, HK_ERR_PARSE);
}

Test(repo_manifest, crl_fields)
{
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 0", 0);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z "
	    "9999999999999999999", 0);			/* 19 digits */
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z "
	    "1234567890", 0);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z "
	    "10000000000000000000", HK_ERR_PARSE);	/* 20 */
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z -1",
	    HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 0x1",
	    HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03 2026-04-06T11:00:00Z 1", HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00 1",
	    HK_ERR_PARSE);
	line_is("1 a.crl 2026-04-03T11:00:00Z 2026-13-06T11:00:00Z 1",
	    HK_ERR_PARSE);
}

/*
 * At the edge: HK_REPO_FILES_MAX lines open (every one of them listed),
 * one more is refused with its one line and no set is returned.
 */
Test(repo_manifest, at_most_4096_lines)
{
	struct hk_repo_set *s = NULL;
	size_t cap = (HK_REPO_FILES_MAX + 1) * 90, off = 0;
	char *text = malloc(cap), want[4400];
	int i;

	cr_assert_not_null(text);
	for (i = 0; i < HK_REPO_FILES_MAX; i++)
		off += (size_t)snprintf(text + off, cap - off, H64
		    " 1 f%05d\n", i);
	hand_set("repo_manifest", text, off);
	cr_assert_eq(hk_repo_open(repo, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(s->nfiles, HK_REPO_FILES_MAX);
	cr_assert_not_null(hk_repo_find(s, "f04095"));
	hk_repo_close(s);
	s = NULL;
	snprintf(text + off, cap - off, H64 " 1 f%05d\n", i);
	cr_assert_eq(open_manifest(text), HK_ERR_PARSE);
	snprintf(want, sizeof(want), "%s.sets/1/MANIFEST: more than 4096 "
	    "files", repo);
	cr_assert_str_eq(hk_err_msg(), want);
	free(text);
}

/* ---- the link ---- */

static void
link_refused(const char *target)
{
	struct hk_repo_writer *w = NULL;
	struct hk_repo_set *s = NULL;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_link"));
	cr_assert_eq(symlink(target, repo), 0);
	cr_assert_eq(hk_repo_open(repo, &s), HK_ERR_STATE, "%s", target);
	cr_assert_eq(hk_repo_begin(repo, &w), HK_ERR_STATE, "%s", target);
	cr_assert_null(w);
}

Test(repo_link, only_a_link_to_its_own_numbered_set)
{
	struct hk_repo_writer *w = NULL;
	struct hk_repo_set *s = NULL;
	char path[4400];

	link_refused("repo.sets/0");
	link_refused("repo.sets/01");
	link_refused("repo.sets/1x");
	link_refused("repo.sets/");
	link_refused("repo.sets/1234567890");	/* 10 digits */
	link_refused("other.sets/1");
	link_refused("/tmp/repo.sets/1");
	link_refused("repo.set/1");
	/* a regular file, a folder */
	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_link"));
	hk_test_write(repo, "x", 1);
	cr_assert_eq(hk_repo_open(repo, &s), HK_ERR_STATE);
	cr_assert_eq(hk_repo_begin(repo, &w), HK_ERR_STATE);
	/* 9 digits is a number (the set is missing: cannot be opened) */
	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_link"));
	cr_assert_eq(symlink("repo.sets/123456789", repo), 0);
	cr_assert_eq(hk_repo_open(repo, &s), HK_ERR_IO);
	/* nothing there: not found, and an empty or too long name */
	snprintf(path, sizeof(path), "%s/none", hk_test_dir("repo_link"));
	cr_assert_eq(hk_repo_open(path, &s), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_repo_open("", &s), HK_ERR_USAGE);
}

Test(repo_link, trailing_slash_means_the_link)
{
	struct hk_repo_writer *w;
	struct hk_repo_set *s;
	char arg[4400], target[64];
	unsigned long n;
	ssize_t k;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_slash"));
	snprintf(arg, sizeof(arg), "%s//", repo);
	cr_assert_eq(hk_repo_begin(arg, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "a.cer", "a", 1, NULL), 0);
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	cr_assert_eq(n, 1);
	k = readlink(repo, target, sizeof(target) - 1);
	cr_assert_gt(k, 0);
	target[k] = '\0';
	cr_assert_str_eq(target, "repo.sets/1");	/* relative */
	cr_assert_eq(hk_repo_open(arg, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->nfiles, 1);
	hk_repo_close(s);
}

/* ---- writing ---- */

static unsigned long
commit_one(const char *text)
{
	struct hk_repo_writer *w;
	unsigned long n;

	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "a.cer", text, strlen(text), NULL), 0);
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	return n;
}

static int
set_exists(const char *name)
{
	char path[4400];

	snprintf(path, sizeof(path), "%s.sets/%s", repo, name);
	return access(path, F_OK) == 0;
}

Test(repo_write, manifest_text_sorted_with_crl_fields)
{
	struct hk_repo_writer *w;
	struct hk_repo_file crl;
	char path[4400], want[1024], ha[65], hb[65];
	unsigned char *got;
	unsigned long n;
	size_t len;
	struct stat st;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_text"));
	memset(&crl, 0, sizeof(crl));
	crl.this_update = hk_test_at("2026-04-03T11:00:00Z");
	crl.next_update = hk_test_at("2026-04-06T11:00:00Z");
	crl.number = 17;
	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "root/gen-1.cer", "bb", 2, NULL), 0);
	cr_assert_eq(hk_repo_add(w, "crl/431010.crl", "a", 1, &crl), 0);
	cr_assert_eq(hk_repo_add(w, "empty", "", 0, NULL), 0);
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	sha_hex("a", 1, ha);
	sha_hex("bb", 2, hb);
	snprintf(want, sizeof(want),
	    "%s 1 crl/431010.crl 2026-04-03T11:00:00Z 2026-04-06T11:00:00Z 17\n"
	    H64 " 0 empty\n"
	    "%s 2 root/gen-1.cer\n", ha, hb);
	snprintf(path, sizeof(path), "%s/MANIFEST", repo);
	got = hk_test_read(path, &len);
	cr_assert_str_eq((char *)got, want);
	free(got);
	/* files 0644, folders 0755 */
	snprintf(path, sizeof(path), "%s.sets/1/crl/431010.crl", repo);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s.sets/1/MANIFEST", repo);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s.sets/1/crl", repo);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s.sets/1", repo);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
}

/* The modes do not follow the umask of whoever runs publish (an operator's
 * "sudo -u hanko publish --now" under umask 077 or 027): serve's worker
 * and the LDAP publisher read the set as another user (docs/publish.md,
 * "Running it daily"; docs/process-model.md, --user). */
Test(repo_write, modes_whatever_the_umask)
{
	static const char *const dirs[] = { ".sets", ".sets/1",
	    ".sets/1/crl", ".sets/1/root" };
	struct hk_repo_writer *w;
	struct hk_repo_file crl;
	char path[4400];
	unsigned long n;
	struct stat st;
	mode_t old;
	size_t i;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_umask"));
	memset(&crl, 0, sizeof(crl));
	crl.this_update = hk_test_at("2026-04-03T11:00:00Z");
	crl.next_update = hk_test_at("2026-04-06T11:00:00Z");
	crl.number = 1;
	old = umask(077);
	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "root/gen-1.cer", "bb", 2, NULL), 0);
	cr_assert_eq(hk_repo_add(w, "crl/431010.crl", "a", 1, &crl), 0);
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	umask(old);
	cr_assert_eq(n, 1);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", repo, dirs[i]);
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert_eq(st.st_mode & 07777, 0755, "%s: mode %o", path,
		    (unsigned)(st.st_mode & 07777));
	}
	snprintf(path, sizeof(path), "%s.sets/1/crl/431010.crl", repo);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644);
}

Test(repo_write, add_refuses_bad_paths_twice_and_too_large)
{
	struct hk_repo_writer *w;
	char name[32];
	int i;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_add"));
	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "/x", "x", 1, NULL), HK_ERR_INVALID);
	cr_assert_eq(hk_repo_add(w, "a/../b", "x", 1, NULL), HK_ERR_INVALID);
	cr_assert_eq(hk_repo_add(w, "MANIFEST", "x", 1, NULL),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_repo_add(w, "", "x", 1, NULL), HK_ERR_INVALID);
	/* the size is refused before the bytes are looked at */
	cr_assert_eq(hk_repo_add(w, "big", "x", HK_REPO_FILE_MAX + 1, NULL),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_repo_add(w, "a.cer", "x", 1, NULL), 0);
	cr_assert_eq(hk_repo_add(w, "a.cer", "y", 1, NULL), HK_ERR_EXISTS);
	/* at most 16 folders */
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "d%d/f", i);
		cr_assert_eq(hk_repo_add(w, name, "x", 1, NULL), 0, "%s",
		    hk_err_msg());
	}
	cr_assert_eq(hk_repo_add(w, "d0/g", "x", 1, NULL), 0);
	cr_assert_eq(hk_repo_add(w, "d16/f", "x", 1, NULL), HK_ERR_INVALID);
	hk_repo_abort(w);
}

/* Entries of folder (without "." and ".."); -1 when it does not open. */
static int
entries(const char *folder)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(folder)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* The one temporary set being written ("<repo>.sets/.new-*"). */
static void
new_set(char *path, size_t len)
{
	struct dirent *de;
	char sets[4400];
	DIR *d;
	int n = 0;

	snprintf(sets, sizeof(sets), "%s.sets", repo);
	cr_assert_not_null(d = opendir(sets));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".new-", 5) == 0) {
			cr_assert_lt((size_t)snprintf(path, len, "%s/%s", sets,
			    de->d_name), len);
			n++;
		}
	closedir(d);
	cr_assert_eq(n, 1, "%d temporary sets", n);
}

/*
 * At the edge: a set takes HK_REPO_FILES_MAX files; one more is refused
 * with its one line before anything of it is made (not its file, not its
 * folder), and the set then commits with exactly the files accepted,
 * which the reader opens (writer and reader agree on the limit).
 */
Test(repo_write, at_most_4096_files)
{
	struct hk_repo_writer *w;
	struct hk_repo_set *s;
	char name[32], tmp[4400], path[4500];
	unsigned long n;
	struct stat st;
	int i;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_files"));
	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	for (i = 0; i < HK_REPO_FILES_MAX; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		cr_assert_eq(hk_repo_add(w, name, "x", 1, NULL), 0, "%s: %s",
		    name, hk_err_msg());
	}
	cr_assert_eq(hk_repo_add(w, "more/f", "x", 1, NULL), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(),
	    "repository: more than 4096 files in a set");
	cr_assert_eq(hk_repo_add(w, "g", "x", 1, NULL), HK_ERR_INVALID);
	new_set(tmp, sizeof(tmp));
	cr_assert_eq(entries(tmp), HK_REPO_FILES_MAX);
	snprintf(path, sizeof(path), "%s/more", tmp);
	cr_assert_neq(lstat(path, &st), 0, "the refused file's folder made");
	snprintf(path, sizeof(path), "%s/g", tmp);
	cr_assert_neq(lstat(path, &st), 0, "the refused file written");
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	cr_assert_eq(n, 1);
	snprintf(path, sizeof(path), "%s.sets/1", repo);
	cr_assert_eq(entries(path), HK_REPO_FILES_MAX + 1, "and MANIFEST");
	cr_assert_eq(hk_repo_open(repo, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(s->nfiles, HK_REPO_FILES_MAX);
	cr_assert_not_null(hk_repo_find(s, "f04095"));
	cr_assert_null(hk_repo_find(s, "more/f"));
	cr_assert_null(hk_repo_find(s, "g"));
	hk_repo_close(s);
}

Test(repo_write, crash_leftovers_removed_others_kept)
{
	char path[4400];
	DIR *d;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_crash"));
	cr_assert_eq(commit_one("1"), 1);
	/* a run that died while writing: a temporary set with a folder */
	sets_mkdir(".new-dead01");
	sets_mkdir(".new-dead01/crl");
	snprintf(path, sizeof(path), "%s.sets/.new-dead01/crl/1.crl", repo);
	hk_test_write(path, "x", 1);
	sets_mkdir(".new-dead02");
	/* not ours to remove */
	sets_mkdir(".keep");
	cr_assert_eq(commit_one("2"), 2);
	cr_assert_not(set_exists(".new-dead01"));
	cr_assert_not(set_exists(".new-dead02"));
	cr_assert(set_exists(".keep"));
	/* and an aborted set leaves no temporary folder */
	{
		struct hk_repo_writer *w;
		struct dirent *de;

		cr_assert_eq(hk_repo_begin(repo, &w), 0);
		cr_assert_eq(hk_repo_add(w, "crl/x.crl", "x", 1, NULL), 0);
		hk_repo_abort(w);
		snprintf(path, sizeof(path), "%s.sets", repo);
		cr_assert_not_null(d = opendir(path));
		while ((de = readdir(d)) != NULL)
			cr_assert_neq(strncmp(de->d_name, ".new-", 5), 0,
			    "%s left", de->d_name);
		closedir(d);
	}
}

/*
 * What the writer removes is a set's shape and no more: a leftover whose
 * tree goes deeper than a set's two levels is not removed past them, and
 * a leftover that is a link to a folder elsewhere loses the link only
 * (nothing is followed), so no bug or planted entry can make it delete
 * outside the repository.
 */
Test(repo_write, removes_only_what_a_set_can_hold)
{
	char path[4400], out[4000];
	const char *dir = hk_test_dir("repo_shape");
	struct stat st;

	snprintf(repo, sizeof(repo), "%s/repo", dir);
	snprintf(out, sizeof(out), "%s/outside", dir);
	cr_assert_eq(commit_one("1"), 1);
	/* too deep for a set: .new-deep/a/b/c */
	sets_mkdir(".new-deep");
	sets_mkdir(".new-deep/a");
	sets_mkdir(".new-deep/a/b");
	snprintf(path, sizeof(path), "%s.sets/.new-deep/a/b/c", repo);
	hk_test_write(path, "x", 1);
	/* a link to a folder outside, holding a file */
	cr_assert_eq(mkdir(out, 0755), 0);
	snprintf(path, sizeof(path), "%s/precious", out);
	hk_test_write(path, "p", 1);
	snprintf(path, sizeof(path), "%s.sets/.new-link", repo);
	cr_assert_eq(symlink(out, path), 0);
	cr_assert_eq(commit_one("2"), 2);
	snprintf(path, sizeof(path), "%s.sets/.new-deep/a/b/c", repo);
	cr_assert_eq(stat(path, &st), 0, "a file three levels down removed");
	snprintf(path, sizeof(path), "%s.sets/.new-link", repo);
	cr_assert_neq(lstat(path, &st), 0, "the link is gone");
	snprintf(path, sizeof(path), "%s/precious", out);
	cr_assert_eq(stat(path, &st), 0, "a file outside the repository "
	    "removed through a link");
}

Test(repo_write, numbered_past_an_orphan_set)
{
	struct hk_repo_set *s;

	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_orphan"));
	cr_assert_eq(commit_one("1"), 1);
	cr_assert_eq(commit_one("2"), 2);
	/* a set renamed into place by a run that died before the swap */
	sets_mkdir("7");
	/* names that are not set numbers count for nothing */
	sets_mkdir("0");
	sets_mkdir("099");
	sets_mkdir("9x");
	sets_mkdir("1234567890");
	cr_assert_eq(commit_one("3"), 8);
	cr_assert_eq(hk_repo_open(repo, &s), 0);
	cr_assert_eq(s->n, 8);
	hk_repo_close(s);
	/* set 7 was never published: removed; 1 and 2 (the two published
	 * before 8, a reader may hold them) kept; the odd names left alone */
	cr_assert_not(set_exists("7"));
	cr_assert(set_exists("2"));
	cr_assert(set_exists("1"));
	cr_assert(set_exists("0"));
	cr_assert(set_exists("099"));
	cr_assert(set_exists("9x"));
	cr_assert(set_exists("1234567890"));
	/* a reader of set 1 had two more publications: 8 and 9 */
	cr_assert_eq(commit_one("4"), 9);
	cr_assert_not(set_exists("1"));
	cr_assert(set_exists("2"));
	cr_assert(set_exists("8"));
}

Test(repo_write, link_ahead_of_the_folders)
{
	char path[4400];

	/* the link names a set number above every folder (folders removed
	 * by hand): the next is above the link's */
	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_ahead"));
	snprintf(path, sizeof(path), "%s.sets", repo);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_eq(symlink("repo.sets/5", repo), 0);
	cr_assert_eq(commit_one("x"), 6);
}

Test(repo_write, prune_keeps_two_before_the_current)
{
	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir("repo_prune"));
	cr_assert_eq(commit_one("1"), 1);
	cr_assert_eq(commit_one("2"), 2);
	cr_assert_eq(commit_one("3"), 3);
	cr_assert(set_exists("1"));
	cr_assert(set_exists("2"));
	cr_assert(set_exists("3"));
	cr_assert_eq(commit_one("4"), 4);
	cr_assert_not(set_exists("1"));
	cr_assert(set_exists("2"));
	cr_assert(set_exists("3"));
	cr_assert(set_exists("4"));
	cr_assert_eq(commit_one("5"), 5);
	cr_assert_not(set_exists("2"));
	cr_assert(set_exists("3"));
}

/* ---- reading ---- */

/* A set of a.cer ("hello") and crl/b.crl (70000 bytes, read in pieces). */
static struct hk_repo_set *
two_files(const char *name)
{
	struct hk_repo_writer *w;
	struct hk_repo_set *s;
	static unsigned char big[70000];
	unsigned long n;

	memset(big, 'b', sizeof(big));
	snprintf(repo, sizeof(repo), "%s/repo", hk_test_dir(name));
	cr_assert_eq(hk_repo_begin(repo, &w), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_repo_add(w, "a.cer", "hello", 5, NULL), 0);
	cr_assert_eq(hk_repo_add(w, "crl/b.crl", big, sizeof(big), NULL), 0);
	cr_assert_eq(hk_repo_commit(w, &n), 0, "%s", hk_err_msg());
	hk_repo_abort(w);
	cr_assert_eq(hk_repo_open(repo, &s), 0, "%s", hk_err_msg());
	return s;
}

static void
replace(const char *path, const char *text)
{
	char full[4400];

	snprintf(full, sizeof(full), "%s.sets/1/%s", repo, path);
	cr_assert_eq(unlink(full), 0);
	hk_test_write(full, text, strlen(text));
}

Test(repo_read, read_checked_against_manifest)
{
	struct hk_repo_set *s = two_files("repo_read");
	unsigned char *buf;
	char want[4400];
	size_t len;

	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	free(buf);
	cr_assert_eq(hk_repo_read(s, "crl/b.crl", &buf, &len), 0);
	cr_assert_eq(len, 70000);
	free(buf);
	cr_assert_eq(hk_repo_read(s, "nope.cer", &buf, &len),
	    HK_ERR_NOT_FOUND);
	cr_assert_null(buf);
	/* same size, other bytes */
	replace("a.cer", "hellp");
	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), HK_ERR_VERIFY);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	snprintf(want, sizeof(want), "%s.sets/1/a.cer: size or SHA-256 is not "
	    "its MANIFEST line's", repo);
	cr_assert_str_eq(hk_err_msg(), want);
	/* a prefix: the right bytes, the wrong size; the same message */
	replace("a.cer", "hell");
	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), HK_ERR_VERIFY);
	cr_assert_str_eq(hk_err_msg(), want);
	replace("a.cer", "hello!");
	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), HK_ERR_VERIFY);
	cr_assert_str_eq(hk_err_msg(), want);
	/* gone */
	replace("a.cer", "hello");
	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), 0);
	free(buf);
	{
		char full[4400];

		snprintf(full, sizeof(full), "%s.sets/1/a.cer", repo);
		cr_assert_eq(unlink(full), 0);
		/* a link in its place is not followed */
		cr_assert_eq(symlink("crl/b.crl", full), 0);
		cr_assert_neq(hk_repo_read(s, "a.cer", &buf, &len), 0);
		cr_assert_eq(unlink(full), 0);
	}
	cr_assert_eq(hk_repo_read(s, "a.cer", &buf, &len), HK_ERR_NOT_FOUND);
	hk_repo_close(s);
}

Test(repo_read, check_names_size_or_sha256)
{
	struct hk_repo_set *s = two_files("repo_check");
	const struct hk_repo_file *a, *b;
	char why[128], full[4400];
	static unsigned char big[70000];

	cr_assert_not_null(a = hk_repo_find(s, "a.cer"));
	cr_assert_not_null(b = hk_repo_find(s, "crl/b.crl"));
	why[0] = '\0';
	cr_assert_eq(hk_repo_check(s, a, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(hk_repo_check(s, b, why, sizeof(why)), 0, "%s", why);
	replace("a.cer", "hell");
	cr_assert_eq(hk_repo_check(s, a, why, sizeof(why)), HK_ERR_VERIFY);
	cr_assert_str_eq(why, "MANIFEST: size is 4, not 5");
	replace("a.cer", "hellp");
	cr_assert_eq(hk_repo_check(s, a, why, sizeof(why)), HK_ERR_VERIFY);
	cr_assert_str_eq(why, "MANIFEST: SHA-256 differs");
	/* one byte changed past the first 64 KiB piece */
	memset(big, 'b', sizeof(big));
	big[69999] = 'c';
	snprintf(full, sizeof(full), "%s.sets/1/crl/b.crl", repo);
	cr_assert_eq(unlink(full), 0);
	hk_test_write(full, big, sizeof(big));
	cr_assert_eq(hk_repo_check(s, b, why, sizeof(why)), HK_ERR_VERIFY);
	cr_assert_str_eq(why, "MANIFEST: SHA-256 differs");
	/* a folder in its place, then nothing */
	cr_assert_eq(unlink(full), 0);
	cr_assert_eq(mkdir(full, 0755), 0);
	cr_assert_eq(hk_repo_check(s, b, why, sizeof(why)), HK_ERR_IO);
	cr_assert_str_eq(why, "not a regular file");
	cr_assert_eq(rmdir(full), 0);
	cr_assert_eq(hk_repo_check(s, b, why, sizeof(why)), HK_ERR_NOT_FOUND);
	cr_assert(strncmp(why, "cannot open: ", 13) == 0, "%s", why);
	hk_repo_close(s);
}

Test(repo_read, find_refuses_a_long_path)
{
	struct hk_repo_set *s = two_files("repo_find");
	char p[200];

	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	cr_assert_null(hk_repo_find(s, p));
	cr_assert_not_null(hk_repo_find(s, "crl/b.crl"));
	hk_repo_close(s);
}

Test(repo_read, public_and_content_type)
{
	cr_assert(hk_repo_public("arl.crl"));
	cr_assert(hk_repo_public("root/gen-1.cer"));
	cr_assert_not(hk_repo_public("crl/431010.crl"));
	cr_assert_not(hk_repo_public("MANIFEST"));
	cr_assert_str_eq(hk_repo_content_type("a.cer"),
	    "application/pkix-cert");
	cr_assert_str_eq(hk_repo_content_type("crl/1.crl"),
	    "application/pkix-crl");
	cr_assert_str_eq(hk_repo_content_type("root/roots.p7c"),
	    "application/pkcs7-mime");
	cr_assert_str_eq(hk_repo_content_type("MANIFEST"),
	    "text/plain; charset=us-ascii");
	cr_assert_str_eq(hk_repo_content_type("crl"),
	    "application/octet-stream");
	cr_assert_str_eq(hk_repo_content_type("x.cerx"),
	    "application/octet-stream");
	/* the public notice of a compromise (CPS 4-4-1-3): anyone, UTF-8 */
	cr_assert(hk_repo_public("notice/root-gen-1.txt"));
	cr_assert_str_eq(hk_repo_content_type("notice/issuing-2.txt"),
	    "text/plain; charset=utf-8");
}
