/* test_quorum.c - quorum sets, sealed share files, recovery, sealing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "atomic.h"
#include "err.h"
#include "quorum.h"
#include "secmem.h"
#include "testutil.h"

static void
setup(void)
{
	cr_assert_eq(hk_secmem_init(), 0);
}

TestSuite(quorum, .init = setup, .timeout = 300);

static const char *const holders5[] = {
	"sato", "suzuki", "takahashi", "tanaka", "watanabe",
};
static const char *const passes5[] = {
	"Aso-caldera 1 rises!", "Kuma river 2 flows?", "Amakusa #3 islands",
	"Hitoyoshi:4 onsen", "Yatsushiro 5 sea~",
};

struct fixture {
	char dir[512];
	char setpath[600];
	char share[5][600];
	struct hk_quorum_dealer *d;
	struct hk_quorum_set *set;	/* as read back from disk */
};

static void
fixture_make(struct fixture *f, const char *name)
{
	int i;

	snprintf(f->dir, sizeof(f->dir), "%s", hk_test_dir(name));
	snprintf(f->setpath, sizeof(f->setpath), "%s/%s", f->dir,
	    HK_QUORUM_SET_FILE);
	cr_assert_eq(hk_quorum_deal(NULL, 3, 5, holders5, &f->d), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_quorum_set_write(f->setpath, hk_quorum_dealer_set(f->d),
	    HK_WRITE_NOREPLACE), 0, "%s", hk_err_msg());
	for (i = 0; i < 5; i++) {
		snprintf(f->share[i], sizeof(f->share[i]),
		    "%s/share-%d-%s.hks", f->dir, i + 1, holders5[i]);
		cr_assert_eq(hk_quorum_share_write(f->d, i + 1, passes5[i],
		    HK_KDF_INTERACTIVE, f->share[i]), 0, "%s", hk_err_msg());
	}
	cr_assert_eq(hk_quorum_set_read(f->setpath, &f->set), 0, "%s",
	    hk_err_msg());
}

static void
fixture_free(struct fixture *f)
{
	hk_quorum_dealer_free(f->d);
	hk_quorum_set_free(f->set);
}

/* Replace the first occurrence of from by to and fix the checksum. */
static void
rewrite_share(const char *in, const char *out, const char *from,
    const char *to)
{
	unsigned char *buf, d[32];
	char *text, *p, *ck, hex[65];
	size_t len, i;

	buf = hk_test_read(in, &len);
	text = calloc(1, len + strlen(to) + 200);
	cr_assert_not_null(p = strstr((char *)buf, from), "%s", from);
	memcpy(text, buf, (size_t)(p - (char *)buf));
	strcat(text, to);
	strcat(text, p + strlen(from));
	cr_assert_not_null(ck = strstr(text, "checksum: "));
	crypto_hash_sha256(d, (unsigned char *)text, (size_t)(ck - text));
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
	memcpy(ck + 10, hex, 64);
	hk_test_write(out, text, strlen(text));
	free(text);
	free(buf);
}

Test(quorum, every_subset_of_3_of_5)
{
	struct fixture f;
	const char *paths[5], *passes[5];
	uint8_t *key;
	unsigned mask;
	int i, k, ok = 0, r;

	fixture_make(&f, "quorum_subsets");
	cr_assert_eq(f.set->m, 3);
	cr_assert_eq(f.set->n, 5);
	cr_assert_eq(memcmp(f.set->id, hk_quorum_dealer_set(f.d)->id, 16), 0);
	for (mask = 1; mask < 32; mask++) {
		for (i = 0, k = 0; i < 5; i++)
			if (mask & (1u << i)) {
				paths[k] = f.share[i];
				passes[k] = passes5[i];
				k++;
			}
		r = hk_quorum_recover(f.set, paths, passes, k, &key);
		if (k >= 3) {
			cr_assert_eq(r, 0, "mask %x: %s", mask, hk_err_msg());
			cr_assert_eq(memcmp(key, hk_quorum_dealer_key(f.d), 32),
			    0);
			hk_secret_free(key);
			ok++;
		} else {
			cr_assert_eq(r, HK_ERR_QUORUM, "mask %x: %d", mask, r);
			cr_assert_null(key);
			cr_assert_not_null(strstr(hk_err_msg(),
			    "of the 3 shares needed"), "%s", hk_err_msg());
		}
	}
	cr_assert_eq(ok, 16);
	fixture_free(&f);
}

Test(quorum, collector_names_holder_and_counts)
{
	struct fixture f;
	struct hk_quorum_collect *c;
	struct hk_quorum_share_info info;
	uint8_t *key;

	fixture_make(&f, "quorum_collect");
	cr_assert_eq(hk_quorum_collect_new(f.set, &c), 0);
	cr_assert_eq(hk_quorum_collect_check(c, f.share[3], &info), 0);
	cr_assert_str_eq(info.holder, "tanaka");
	cr_assert_eq(info.index, 4);
	cr_assert_eq(hk_quorum_collect_add(c, f.share[3], passes5[3]), 0);
	cr_assert_eq(hk_quorum_collect_add(c, f.share[0], passes5[0]), 0);
	cr_assert_eq(hk_quorum_collect_count(c), 2);
	cr_assert_eq(hk_quorum_collect_finish(c, &key), HK_ERR_QUORUM);
	cr_assert_str_eq(strstr(hk_err_msg(), "2 of"),
	    "2 of the 3 shares needed");
	/* The same share again: duplicate, naming both files. */
	cr_assert_eq(hk_quorum_collect_check(c, f.share[3], NULL),
	    HK_ERR_SHARE_DUPLICATE);
	cr_assert_eq(hk_quorum_collect_add(c, f.share[2], passes5[2]), 0);
	cr_assert_eq(hk_quorum_collect_finish(c, &key), 0, "%s", hk_err_msg());
	cr_assert_eq(memcmp(key, hk_quorum_dealer_key(f.d), 32), 0);
	hk_secret_free(key);
	hk_quorum_collect_free(c);
	fixture_free(&f);
}

Test(quorum, every_flipped_byte_is_corrupt)
{
	struct fixture f;
	unsigned char *orig, *bad;
	char path[700];
	const char *paths[3], *passes[3];
	uint8_t *key;
	size_t len, pos;
	int r;

	fixture_make(&f, "quorum_flip");
	orig = hk_test_read(f.share[1], &len);
	bad = malloc(len);
	snprintf(path, sizeof(path), "%s/damaged.hks", f.dir);
	paths[0] = path;
	paths[1] = f.share[0];
	paths[2] = f.share[2];
	passes[0] = passes5[1];
	passes[1] = passes5[0];
	passes[2] = passes5[2];
	for (pos = 0; pos < len; pos++) {
		memcpy(bad, orig, len);
		bad[pos] ^= (pos & 1) ? 0x01 : 0x20;
		hk_test_write(path, bad, len);
		r = hk_quorum_recover(f.set, paths, passes, 3, &key);
		cr_assert_eq(r, HK_ERR_SHARE_CORRUPT, "byte %zu: %d %s", pos,
		    r, hk_err_msg());
		cr_assert_not_null(strstr(hk_err_msg(), "damaged.hks"),
		    "%s", hk_err_msg());
	}
	/* Truncated, empty and extended files too. */
	hk_test_write(path, orig, len - 1);
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_CORRUPT);
	hk_test_write(path, "", 0);
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_CORRUPT);
	memcpy(bad, orig, len);
	hk_test_write(path, bad, len);
	{
		FILE *fp = fopen(path, "a");

		fputs("x\n", fp);
		fclose(fp);
	}
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_CORRUPT);
	/* The intact file still works. */
	hk_test_write(path, orig, len);
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key), 0,
	    "%s", hk_err_msg());
	hk_secret_free(key);
	free(bad);
	free(orig);
	fixture_free(&f);
}

Test(quorum, hostile_fields_with_valid_checksum)
{
	struct fixture f;
	struct hk_quorum_share_info info;
	char path[700];

	fixture_make(&f, "quorum_hostile");
	snprintf(path, sizeof(path), "%s/hostile.hks", f.dir);
	/* 4 TiB of Argon2 memory: refused before the KDF runs. */
	rewrite_share(f.share[0], path, "kdf-memlimit: 67108864",
	    "kdf-memlimit: 4398046511104");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	cr_assert_not_null(strstr(hk_err_msg(), "kdf-memlimit"), "%s",
	    hk_err_msg());
	cr_assert_not_null(strstr(hk_err_msg(), "hostile.hks"));
	unlink(path);
	rewrite_share(f.share[0], path, "kdf: argon2id13\n",
	    "kdf: argon2id13\nkdf: argon2id13\n");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	cr_assert_not_null(strstr(hk_err_msg(), "twice"), "%s", hk_err_msg());
	unlink(path);
	rewrite_share(f.share[0], path, "kdf: argon2id13\n",
	    "kdf: argon2id13\ncomment: hello\n");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	cr_assert_not_null(strstr(hk_err_msg(), "comment"), "%s",
	    hk_err_msg());
	unlink(path);
	rewrite_share(f.share[0], path, "kdf: argon2id13\n", "");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	unlink(path);
	rewrite_share(f.share[0], path, "index: 1\n", "index: 01\n");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	unlink(path);
	rewrite_share(f.share[0], path, "index: 1\n", "index: 6\n");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	unlink(path);
	/* Digits only: a byte past '9' is not read as a digit of 10. */
	rewrite_share(f.share[0], path, "kdf-memlimit: 67108864",
	    "kdf-memlimit: 6710886:");
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	cr_assert_not_null(strstr(hk_err_msg(), "kdf-memlimit"), "%s",
	    hk_err_msg());
	unlink(path);
	/* A changed holder with a fixed checksum is not this set's share. */
	rewrite_share(f.share[0], path, "holder: sato", "holder: mallory");
	cr_assert_eq(hk_quorum_share_info(path, &info), 0);
	{
		const char *paths[3] = { path, f.share[1], f.share[2] };
		const char *passes[3] = { passes5[0], passes5[1], passes5[2] };
		uint8_t *key;

		cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
		    HK_ERR_SHARE_FOREIGN, "%s", hk_err_msg());
	}
	fixture_free(&f);
}

Test(quorum, tampered_header_fails_aead)
{
	struct fixture f;
	struct hk_quorum_set *set2;
	char path[700];
	const char *paths[3], *passes[3];
	uint8_t *key;

	/* The set record and the file both name 'mallory': only the AAD
	 * (header under the passphrase key) catches the change. */
	fixture_make(&f, "quorum_aad");
	snprintf(path, sizeof(path), "%s/aad.hks", f.dir);
	rewrite_share(f.share[0], path, "holder: sato", "holder: mallory");
	set2 = malloc(sizeof(*set2));
	memcpy(set2, f.set, sizeof(*set2));
	strcpy(set2->holder[0], "mallory");
	paths[0] = path; paths[1] = f.share[1]; paths[2] = f.share[2];
	passes[0] = passes5[0]; passes[1] = passes5[1]; passes[2] = passes5[2];
	cr_assert_eq(hk_quorum_recover(set2, paths, passes, 3, &key),
	    HK_ERR_PASSPHRASE, "%s", hk_err_msg());
	free(set2);
	fixture_free(&f);
}

Test(quorum, foreign_duplicate_wrong_passphrase_stale)
{
	struct fixture f, g;
	const char *paths[3], *passes[3];
	uint8_t *key;
	char copy[700];
	struct hk_quorum_set *set2;
	unsigned char *b;
	size_t len;

	fixture_make(&f, "quorum_foreign_a");
	fixture_make(&g, "quorum_foreign_b");
	/* A share of another set. */
	paths[0] = f.share[0]; paths[1] = g.share[1]; paths[2] = f.share[2];
	passes[0] = passes5[0]; passes[1] = passes5[1]; passes[2] = passes5[2];
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_FOREIGN);
	cr_assert_not_null(strstr(hk_err_msg(), "belongs to set"), "%s",
	    hk_err_msg());
	cr_assert_not_null(strstr(hk_err_msg(), g.share[1]), "%s",
	    hk_err_msg());

	/* The same share twice (a copy of the file). */
	snprintf(copy, sizeof(copy), "%s/copy-of-1.hks", f.dir);
	b = hk_test_read(f.share[0], &len);
	hk_test_write(copy, b, len);
	free(b);
	paths[1] = copy; passes[1] = passes5[0];
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_DUPLICATE);
	cr_assert_not_null(strstr(hk_err_msg(), f.share[0]), "%s",
	    hk_err_msg());
	cr_assert_not_null(strstr(hk_err_msg(), copy), "%s", hk_err_msg());

	/* A wrong passphrase. */
	paths[1] = f.share[1]; passes[1] = passes5[3];
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_PASSPHRASE);
	cr_assert_not_null(strstr(hk_err_msg(), f.share[1]), "%s",
	    hk_err_msg());
	cr_assert_null(key);

	/* A share whose value is not the one the set records (stale). */
	passes[1] = passes5[1];
	set2 = malloc(sizeof(*set2));
	memcpy(set2, f.set, sizeof(*set2));
	set2->share_hash[2][0] ^= 1;
	cr_assert_eq(hk_quorum_recover(set2, paths, passes, 3, &key),
	    HK_ERR_SHARE_FOREIGN);
	cr_assert_not_null(strstr(hk_err_msg(), "share-3 hash"), "%s",
	    hk_err_msg());
	free(set2);
	fixture_free(&f);
	fixture_free(&g);
}

Test(quorum, retired_set_and_rotation)
{
	struct fixture f;
	struct hk_quorum_set *reread;
	struct hk_quorum_dealer *d2;
	const char *paths[3], *passes[3];
	const char *newholders[3] = { "ito", "yamamoto", "nakamura" };
	uint8_t *key, *key2;
	char p2[700];

	fixture_make(&f, "quorum_retire");
	paths[0] = f.share[0]; paths[1] = f.share[1]; paths[2] = f.share[4];
	passes[0] = passes5[0]; passes[1] = passes5[1]; passes[2] = passes5[4];
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key), 0);
	/* Re-share the same key to new holders, retire the old set. */
	cr_assert_eq(hk_quorum_deal(key, 2, 3, newholders, &d2), 0);
	cr_assert_neq(memcmp(hk_quorum_dealer_set(d2)->id, f.set->id, 16), 0);
	cr_assert_eq(memcmp(hk_quorum_dealer_key(d2), key, 32), 0);
	f.set->retired = 1;
	cr_assert_eq(hk_quorum_set_write(f.setpath, f.set, 0), 0);
	cr_assert_eq(hk_quorum_set_read(f.setpath, &reread), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(reread->retired, 1);
	cr_assert_eq(hk_quorum_recover(reread, paths, passes, 3, &key2),
	    HK_ERR_SHARE_FOREIGN);
	cr_assert_not_null(strstr(hk_err_msg(), "retired"), "%s",
	    hk_err_msg());
	cr_assert_not_null(strstr(hk_err_msg(), f.share[0]), "%s",
	    hk_err_msg());
	/* The new set's shares recover the same key. */
	snprintf(p2, sizeof(p2), "%s/new-1.hks", f.dir);
	cr_assert_eq(hk_quorum_share_write(d2, 1, "Long walk home, 9 miles",
	    HK_KDF_INTERACTIVE, p2), 0, "%s", hk_err_msg());
	/* Never replaces a file. */
	cr_assert_eq(hk_quorum_share_write(d2, 1, "Long walk home, 9 miles",
	    HK_KDF_INTERACTIVE, p2), HK_ERR_EXISTS);
	hk_quorum_set_free(reread);
	hk_quorum_dealer_free(d2);
	hk_secret_free(key);
	fixture_free(&f);
}

Test(quorum, set_record_strict)
{
	struct fixture f;
	struct hk_quorum_set *s;
	unsigned char *b;
	char path[700];
	size_t len;

	fixture_make(&f, "quorum_setfile");
	b = hk_test_read(f.setpath, &len);
	snprintf(path, sizeof(path), "%s/bad.set", f.dir);
	b[20] ^= 1;
	hk_test_write(path, b, len);
	cr_assert_eq(hk_quorum_set_read(path, &s), HK_ERR_PARSE);
	cr_assert_not_null(strstr(hk_err_msg(), "bad.set"));
	cr_assert_null(s);
	unlink(path);
	rewrite_share(f.setpath, path, "status: active", "status: dormant");
	cr_assert_eq(hk_quorum_set_read(path, &s), HK_ERR_PARSE);
	cr_assert_not_null(strstr(hk_err_msg(), "status"), "%s", hk_err_msg());
	unlink(path);
	rewrite_share(f.setpath, path, "share-5: ", "share-6: ");
	cr_assert_eq(hk_quorum_set_read(path, &s), HK_ERR_PARSE);
	unlink(path);
	rewrite_share(f.setpath, path, " tanaka\n", " sato\n");
	cr_assert_eq(hk_quorum_set_read(path, &s), HK_ERR_PARSE);
	cr_assert_not_null(strstr(hk_err_msg(), "already holds"), "%s",
	    hk_err_msg());
	free(b);
	fixture_free(&f);
}

Test(quorum, dealer_refuses_weak_and_reused_passphrases)
{
	struct hk_quorum_dealer *d;
	const char *dir = hk_test_dir("quorum_weak");
	char p1[600], p2[600];
	const char *h[2] = { "sato", "suzuki" };

	cr_assert_eq(hk_quorum_deal(NULL, 2, 2, h, &d), 0);
	snprintf(p1, sizeof(p1), "%s/1.hks", dir);
	snprintf(p2, sizeof(p2), "%s/2.hks", dir);
	cr_assert_eq(hk_quorum_share_write(d, 1, "password", HK_KDF_INTERACTIVE,
	    p1), HK_ERR_WEAK_PASSPHRASE);
	cr_assert_eq(hk_quorum_share_write(d, 1, "Sato-is-my-Name-1",
	    HK_KDF_INTERACTIVE, p1), HK_ERR_WEAK_PASSPHRASE);
	cr_assert_eq(hk_quorum_share_write(d, 1, "Castle gate 47 north",
	    HK_KDF_INTERACTIVE, p1), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_quorum_share_write(d, 2, "Castle gate 47 north",
	    HK_KDF_INTERACTIVE, p2), HK_ERR_WEAK_PASSPHRASE);
	cr_assert_not_null(strstr(hk_err_msg(), "share 1"), "%s",
	    hk_err_msg());
	cr_assert_eq(hk_quorum_share_write(d, 2, "x", 7, p2), HK_ERR_INVALID);
	cr_assert_eq(hk_quorum_share_write(d, 3, "Castle gate 48 south",
	    HK_KDF_INTERACTIVE, p2), HK_ERR_INVALID);
	hk_quorum_dealer_free(d);
	{
		const char *dup[2] = { "sato", "sato" };
		const char *badid[2] = { "sato", "su zuki" };

		cr_assert_eq(hk_quorum_deal(NULL, 2, 2, dup, &d),
		    HK_ERR_INVALID);
		cr_assert_eq(hk_quorum_deal(NULL, 2, 2, badid, &d),
		    HK_ERR_INVALID);
		cr_assert_eq(hk_quorum_deal(NULL, 1, 2, h, &d),
		    HK_ERR_INVALID);
	}
}

Test(quorum, passphrase_rule)
{
	static const char *const weak[] = {
		"", "short1A!", "abcdefghijk", "aaaaaaaaaaaaaaaaaaaaaaaa",
		"abcabcabcabcabcabcabcabc",	/* 3 distinct */
		"alllowercaseletters",		/* 19 chars, 1 class */
		"Password123!", "!!P@ssw0rd2024", "Qwerty123456!",
		"my name is Yamada Taro 7", "holder yamada-t rules",
		"tab\tinside passphrase 1A", "くまもと", "くまもとけんちょう",
	};
	static const char *const good[] = {
		"Kumamoto castle 1607!", "Tr0ub4dor&3xyz",
		"correct horse battery staple", "熊本城の石垣は美しい",
		"Aso-caldera 1 rises!",
	};
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		cr_assert_eq(hk_passphrase_check(weak[i], "yamada-t",
		    "Yamada Taro", why, sizeof(why)), HK_ERR_WEAK_PASSPHRASE,
		    "accepted: %s", weak[i]);
		cr_assert_neq(why[0], '\0');
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(hk_passphrase_check(good[i], "yamada-t",
		    "Yamada Taro", why, sizeof(why)), 0, "refused %s: %s",
		    good[i], why);
	cr_assert_eq(hk_passphrase_check("Kumamoto castle 1607!", NULL, NULL,
	    NULL, 0), 0);
	cr_assert(hk_passphrase_equal("Kumamoto castle", "Kumamoto castle"));
	cr_assert(!hk_passphrase_equal("Kumamoto castle", "Kumamoto castl"));
	cr_assert(!hk_passphrase_equal("Kumamoto castle", "kumamoto castle"));
}

/* Rule 4 holds however the name is written: a Japanese name is usually
 * written without the space the roster has between family and given
 * name, or with the ideographic space U+3000; spaces are ignored on both
 * sides. */
Test(quorum, passphrase_rule_name_without_space)
{
	static const struct { const char *pass, *name; } weak[] = {
		{ "山田太郎の鍵は熊本城2027!", "山田 太郎" },
		{ "山田\u3000太郎の鍵は熊本城2027!", "山田 太郎" },
		{ "山田 太郎の鍵は熊本城2027!", "山田\u3000太郎" },
		{ "yamadataro Kumamoto 1607!", "Yamada Taro" },
		{ "Kumamoto Yamada Taro 1607!", "YamadaTaro" },
	};
	static const struct { const char *pass, *name; } good[] = {
		{ "熊本城の石垣は美しい", "山田 太郎" },
		{ "山田の鍵は熊本城2027!", "山田 太郎" },	/* part of it only */
	};
	char why[128];
	size_t i;

	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		cr_assert_eq(hk_passphrase_check(weak[i].pass, "yamada-t",
		    weak[i].name, why, sizeof(why)), HK_ERR_WEAK_PASSPHRASE,
		    "accepted: %s (name %s)", weak[i].pass, weak[i].name);
		cr_assert_str_eq(why, "contains the holder's name");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(hk_passphrase_check(good[i].pass, "yamada-t",
		    good[i].name, why, sizeof(why)), 0, "refused %s: %s",
		    good[i].pass, why);
}

Test(quorum, seal_open_secret)
{
	uint8_t key[32], other[32], *blob, *plain;
	size_t bloblen, len;
	const char pin[] = "12345678";

	randombytes_buf(key, 32);
	memcpy(other, key, 32);
	other[31] ^= 1;
	cr_assert_eq(hk_quorum_seal_secret(key, "token-pin", pin, strlen(pin),
	    &blob, &bloblen), 0);
	cr_assert_eq(hk_quorum_open_secret(key, "token-pin", blob, bloblen,
	    &plain, &len), 0);
	cr_assert_eq(len, strlen(pin));
	cr_assert_str_eq((char *)plain, pin);
	hk_secret_free(plain);
	cr_assert_eq(hk_quorum_open_secret(other, "token-pin", blob, bloblen,
	    &plain, &len), HK_ERR_VERIFY);
	cr_assert_null(plain);
	cr_assert_eq(hk_quorum_open_secret(key, "so-pin", blob, bloblen,
	    &plain, &len), HK_ERR_VERIFY);
	cr_assert_eq(hk_quorum_open_secret(key, "token-pin", blob, 20,
	    &plain, &len), HK_ERR_PARSE);
	blob[bloblen - 1] ^= 1;
	cr_assert_eq(hk_quorum_open_secret(key, "token-pin", blob, bloblen,
	    &plain, &len), HK_ERR_VERIFY);
	blob[bloblen - 1] ^= 1;
	blob[0] ^= 1;
	cr_assert_eq(hk_quorum_open_secret(key, "token-pin", blob, bloblen,
	    &plain, &len), HK_ERR_PARSE);
	free(blob);
	cr_assert_eq(hk_quorum_seal_secret(key, "bad label", pin, 3, &blob,
	    &bloblen), HK_ERR_INVALID);
	/* Empty plaintext round trip. */
	cr_assert_eq(hk_quorum_seal_secret(key, "x", "", 0, &blob, &bloblen),
	    0);
	cr_assert_eq(hk_quorum_open_secret(key, "x", blob, bloblen, &plain,
	    &len), 0);
	cr_assert_eq(len, 0);
	hk_secret_free(plain);
	free(blob);
}

Test(quorum, n_255_is_the_largest_set)
{
	static char names[HK_QUORUM_MAX_SHARES + 1][16];
	const char *h[HK_QUORUM_MAX_SHARES + 1];
	const char *dir = hk_test_dir("quorum_255");
	struct hk_quorum_dealer *d;
	struct hk_quorum_set *set;
	char setpath[600], p1[600], p255[600];
	const char *paths[2], *passes[2];
	uint8_t *key;
	int i;

	for (i = 0; i <= HK_QUORUM_MAX_SHARES; i++) {
		snprintf(names[i], sizeof(names[i]), "km-%03d", i + 1);
		h[i] = names[i];
	}
	cr_assert_eq(hk_quorum_deal(NULL, 2, 256, h, &d), HK_ERR_INVALID);
	cr_assert_eq(hk_quorum_deal(NULL, 2, 255, h, &d), 0, "%s",
	    hk_err_msg());
	/* The set record of 255 shares reads back whole. */
	snprintf(setpath, sizeof(setpath), "%s/%s", dir, HK_QUORUM_SET_FILE);
	cr_assert_eq(hk_quorum_set_write(setpath, hk_quorum_dealer_set(d),
	    HK_WRITE_NOREPLACE), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_quorum_set_read(setpath, &set), 0, "%s", hk_err_msg());
	cr_assert_eq(set->m, 2);
	cr_assert_eq(set->n, 255);
	cr_assert_str_eq(set->holder[254], "km-255");
	/* Share 255 is a share like any other. */
	snprintf(p1, sizeof(p1), "%s/share-1.hks", dir);
	snprintf(p255, sizeof(p255), "%s/share-255.hks", dir);
	cr_assert_eq(hk_quorum_share_write(d, 255, "Last of many, 255 held",
	    HK_KDF_INTERACTIVE, p255), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_quorum_share_write(d, 1, "First of many, one held",
	    HK_KDF_INTERACTIVE, p1), 0, "%s", hk_err_msg());
	paths[0] = p255; passes[0] = "Last of many, 255 held";
	paths[1] = p1; passes[1] = "First of many, one held";
	cr_assert_eq(hk_quorum_recover(set, paths, passes, 2, &key), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(memcmp(key, hk_quorum_dealer_key(d), 32), 0);
	hk_secret_free(key);
	hk_quorum_set_free(set);
	hk_quorum_dealer_free(d);
}

Test(quorum, passphrase_rule_boundaries)
{
	/* 12 characters is enough with 3 classes; under 20, 2 classes are
	 * not; 'A' and 'Z' are upper case; 1024 bytes is the longest. */
	static const char *const good[] = {
		"Kuma river7!",		/* 12, four classes */
		"Zebra crossing",	/* 14: upper Z, lower, space */
		"Amakusa islands",	/* 15: upper A, lower, space */
	};
	static const char *const weak[] = {
		"Kuma rive7!",		/* 11 */
		"river7stone3bay",	/* 15: lower and digits only */
		"RIVER7STONE3BAY",	/* 15: upper and digits only */
	};
	char why[128], *longest;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(hk_passphrase_check(good[i], "yamada-t",
		    "Yamada Taro", why, sizeof(why)), 0, "refused %s: %s",
		    good[i], why);
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		cr_assert_eq(hk_passphrase_check(weak[i], "yamada-t",
		    "Yamada Taro", why, sizeof(why)), HK_ERR_WEAK_PASSPHRASE,
		    "accepted: %s", weak[i]);
	longest = malloc(HK_PASSPHRASE_MAX + 2);
	for (i = 0; i < HK_PASSPHRASE_MAX + 1; i++)
		longest[i] = "Kumamoto castle 1607! "[i % 22];
	longest[HK_PASSPHRASE_MAX] = '\0';
	cr_assert_eq(hk_passphrase_check(longest, NULL, NULL, why,
	    sizeof(why)), 0, "refused 1024 bytes: %s", why);
	longest[HK_PASSPHRASE_MAX] = 'x';
	longest[HK_PASSPHRASE_MAX + 1] = '\0';
	cr_assert_eq(hk_passphrase_check(longest, NULL, NULL, why,
	    sizeof(why)), HK_ERR_WEAK_PASSPHRASE);
	cr_assert_str_eq(why, "longer than 1024 bytes");
	free(longest);
}

Test(quorum, share_files_0600_set_record_0644)
{
	struct fixture f;
	struct stat st;
	int i;

	fixture_make(&f, "quorum_modes");
	for (i = 0; i < 5; i++) {
		cr_assert_eq(stat(f.share[i], &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600, "%s: %o", f.share[i],
		    (unsigned)(st.st_mode & 07777));
	}
	cr_assert_eq(stat(f.setpath, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "%o",
	    (unsigned)(st.st_mode & 07777));
	fixture_free(&f);
}

Test(quorum, missing_share_is_not_damaged_oversized_is)
{
	struct fixture f;
	struct hk_quorum_share_info info;
	const char *paths[3], *passes[3];
	char path[700], *big;
	uint8_t *key;

	fixture_make(&f, "quorum_missing");
	snprintf(path, sizeof(path), "%s/no-such.hks", f.dir);
	/* A wrong path is reported as missing, not as a damaged share. */
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_NOT_FOUND);
	paths[0] = f.share[0]; paths[1] = path; paths[2] = f.share[2];
	passes[0] = passes5[0]; passes[1] = passes5[1]; passes[2] = passes5[2];
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_NOT_FOUND);
	cr_assert_not_null(strstr(hk_err_msg(), "no-such.hks"), "%s",
	    hk_err_msg());
	/* A file larger than any share is a damaged (or wrong) share. */
	snprintf(path, sizeof(path), "%s/big.hks", f.dir);
	big = malloc(9000);
	memset(big, 'a', 9000);
	hk_test_write(path, big, 9000);
	free(big);
	cr_assert_eq(hk_quorum_share_info(path, &info), HK_ERR_SHARE_CORRUPT);
	paths[1] = path;
	cr_assert_eq(hk_quorum_recover(f.set, paths, passes, 3, &key),
	    HK_ERR_SHARE_CORRUPT);
	cr_assert_not_null(strstr(hk_err_msg(), "big.hks"), "%s",
	    hk_err_msg());
	fixture_free(&f);
}
