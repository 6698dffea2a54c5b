/*
 * test_transcript.c - the ceremony transcript (offline/transcript.c).
 *
 * A ceremony writes as many lines as it needs: a transcript of 3000 lines
 * keeps every one of them, in order, in the text, its signature and the
 * printed page, with the last lines (finished, result) too. Values are
 * escaped as the audit log's details are (docs/audit-log.md): no control
 * character or bidirectional control (U+202E ...) reaches the text or the
 * page raw, and Japanese text stays as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "err.h"
#include "transcript.h"
#include "testutil.h"

#define NLINES	3000

/* The file dir/base.ext, read whole (NUL-terminated). */
static char *
read_out(const char *dir, const char *ext, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/t%s", dir, ext);
	return (char *)hk_test_read(path, len);
}

static int
verify(EVP_PKEY *pub, const char *txt, size_t tlen, const unsigned char *sig,
    size_t slen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	cr_assert_not_null(ctx);
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, slen, (const unsigned char *)txt,
	    tlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

Test(transcript, many_lines_all_kept_in_order_and_signed)
{
	const char *dir = hk_test_dir("transcript_many");
	struct hk_transcript *t = NULL;
	unsigned char d[32];
	char txtpath[4096], want[128], *txt, *html, *p, *sig;
	size_t tlen, hlen, slen, i;
	EVP_PKEY *key;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cr_assert_not_null(key);
	cr_assert_eq(hk_transcript_new("arl-batch", &t), 0);
	memset(d, 0xab, sizeof(d));
	for (i = 0; i < NLINES; i++)
		cr_assert_eq(hk_transcript_add(t, "arl", i % 100 == 0 ? d :
		    NULL, "number %zu", i), 0, "line %zu refused: %s", i,
		    hk_err_msg());
	cr_assert_eq(hk_transcript_add(t, "finished", NULL, "%s",
	    "2026-05-01T09:00:00Z"), 0);
	cr_assert_eq(hk_transcript_add(t, "result", NULL, "ok"), 0);
	for (i = 0; i < 100; i++) {
		char id[16];
		snprintf(id, sizeof(id), "km%zu", i);
		cr_assert_eq(hk_transcript_witness(t, id, "鍵 管理者",
		    "key-manager"), 0, "witness %zu refused", i);
	}
	cr_assert_eq(hk_transcript_write(t, dir, "t", key, key, txtpath,
	    sizeof(txtpath)), 0, "%s", hk_err_msg());
	hk_transcript_free(t);

	txt = read_out(dir, ".txt", &tlen);
	p = txt;
	for (i = 0; i < NLINES; i++) {
		snprintf(want, sizeof(want), "\narl: number %zu\n", i);
		p = strstr(p, want);
		cr_assert_not_null(p, "line %zu missing or out of order", i);
		p++;
	}
	cr_assert_not_null(strstr(p, "\nfinished: 2026-05-01T09:00:00Z\n"
	    "result: ok\n"), "finished and result must follow the lines");
	cr_assert_not_null(strstr(txt, "\nwitness: km99 key-manager (鍵 管理者)\n"));
	cr_assert_null(strstr(txt, "lost:"));
	sig = read_out(dir, ".txt.sig", &slen);
	cr_assert(verify(key, txt, tlen, (unsigned char *)sig, slen),
	    "the signature covers the whole text");
	html = read_out(dir, ".html", &hlen);
	cr_assert_not_null(strstr(html, "<code>number 2999</code>"));
	cr_assert_not_null(strstr(html, "<code>ok</code>"));
	cr_assert_not_null(strstr(html, "(km99, key-manager)"));
	free(txt);
	free(sig);
	free(html);
	EVP_PKEY_free(key);
}

/* Bytes that must never reach the text or the page raw. */
static const char *const raw_bad[] = {
	"\xe2\x80\xae", "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",
	"\xe2\x80\xad", "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",
	"\xe2\x81\xa9", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",
	"\x1b", "\x01", "\x7f", "\xc2\x85", "\t",
};

Test(transcript, controls_and_bidi_escaped_as_the_audit_log)
{
	const char *dir = hk_test_dir("transcript_bidi");
	struct hk_transcript *t = NULL;
	char txtpath[4096], *txt, *html;
	size_t tlen, hlen, i;

	cr_assert_eq(hk_transcript_new("destroy \xe2\x80\xae" "1-toor", &t),
	    0);
	/* an operator name, a file name, an error text */
	cr_assert_eq(hk_transcript_add(t, "person", NULL, "%s",
	    "sato 山田\xe2\x81\xa6 太郎\xe2\x81\xa9 (key-manager)"), 0);
	cr_assert_eq(hk_transcript_add(t, "input", NULL, "%s",
	    "csr /media/x/req\xe2\x80\xae" "fdp.exe SHA-256 00"), 0);
	cr_assert_eq(hk_transcript_add(t, "step", NULL, "%s",
	    "s1 fail: \x1b[31mred\x7f tab\there \x01 \xd8\x9c \xe2\x80\x8e"
	    "\xe2\x80\x8f \xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad "
	    "\xe2\x81\xa7\xe2\x81\xa8 \xc2\x85 back\\slash \xff"), 0);
	cr_assert_eq(hk_transcript_witness(t, "sato",
	    "\xe2\x80\xae" "oto\xe2\x80\xac", "key-manager"), 0);
	cr_assert_eq(hk_transcript_write(t, dir, "t", NULL, NULL, txtpath,
	    sizeof(txtpath)), 0, "%s", hk_err_msg());
	hk_transcript_free(t);

	txt = read_out(dir, ".txt", &tlen);
	html = read_out(dir, ".html", &hlen);
	for (i = 0; i < sizeof(raw_bad) / sizeof(raw_bad[0]); i++) {
		cr_assert_null(strstr(txt, raw_bad[i]), "raw control %zu in "
		    "the text", i);
		cr_assert_null(strstr(html, raw_bad[i]), "raw control %zu in "
		    "the page", i);
	}
	/* the audit log's rule, byte for byte */
	cr_assert_not_null(strstr(txt, "\nperson: sato 山田\\xe2\\x81\\xa6 "
	    "太郎\\xe2\\x81\\xa9 (key-manager)\n"), "%s", txt);
	cr_assert_not_null(strstr(txt, "\ninput: csr /media/x/req\\xe2\\x80"
	    "\\xaefdp.exe SHA-256 00\n"), "%s", txt);
	cr_assert_not_null(strstr(txt, "\nstep: s1 fail: \\x1b[31mred\\x7f "
	    "tab\\there \\x01 \\xd8\\x9c \\xe2\\x80\\x8e\\xe2\\x80\\x8f "
	    "\\xe2\\x80\\xaa\\xe2\\x80\\xab\\xe2\\x80\\xac\\xe2\\x80\\xad "
	    "\\xe2\\x81\\xa7\\xe2\\x81\\xa8 \\xc2\\x85 back\\\\slash \\xff\n"),
	    "%s", txt);
	cr_assert_not_null(strstr(txt, "\nwitness: sato key-manager "
	    "(\\xe2\\x80\\xaeoto\\xe2\\x80\\xac)\n"), "%s", txt);
	cr_assert_not_null(strstr(html, "<title>destroy \\xe2\\x80\\xae"
	    "1-toor</title>"));
	cr_assert_not_null(strstr(html, "山田"));
	free(txt);
	free(html);
}

/* One witness line a person: the same person twice is listed once, but an
 * id that a rotation gave to someone new (another name) is another person
 * who signs too (rotate-shares: the departing 佐藤 花子 and the new 佐藤 健二
 * both "sato"). */
Test(transcript, witness_once_per_person_same_id_other_name_kept)
{
	const char *dir = hk_test_dir("transcript_witness");
	struct hk_transcript *t = NULL;
	char txtpath[4096], *txt, *p;
	size_t tlen, n = 0;

	cr_assert_eq(hk_transcript_new("rotate-shares", &t), 0);
	cr_assert_eq(hk_transcript_witness(t, "sato", "佐藤 花子",
	    "key-manager (share used; leaves)"), 0);
	cr_assert_eq(hk_transcript_witness(t, "sato", "佐藤 花子",
	    "key-manager"), 0);
	cr_assert_eq(hk_transcript_witness(t, "sato", "佐藤 健二",
	    "key-manager (new share 1)"), 0);
	cr_assert_eq(hk_transcript_write(t, dir, "t", NULL, NULL, txtpath,
	    sizeof(txtpath)), 0, "%s", hk_err_msg());
	hk_transcript_free(t);
	txt = read_out(dir, ".txt", &tlen);
	cr_assert_not_null(strstr(txt, "\nwitness: sato key-manager (share "
	    "used; leaves) (佐藤 花子)\nwitness: sato key-manager (new share 1) "
	    "(佐藤 健二)\n"), "%s", txt);
	for (p = txt; (p = strstr(p, "\nwitness: ")) != NULL; p++)
		n++;
	cr_assert_eq(n, 2, "%s", txt);
	free(txt);
}
