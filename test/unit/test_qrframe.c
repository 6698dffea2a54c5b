/* test_qrframe.c - multi-part QR frames (media-format/SPEC.md 11):
 * random payloads of 1 byte to 10 KB through PNG files and zbar, in
 * shuffled order with duplicates; missing parts named; mixed, conflicting
 * and corrupt sets refused; the frame parser's rules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "qrframe.h"
#include "testutil.h"

static void
roundtrip(size_t len, size_t chunk, int scale, const char *tag)
{
	const char *d = hk_test_dir(tag);
	unsigned char *p = malloc(len), *back = NULL;
	struct hk_qrf_set *s = NULL;
	char out[1024], path[2048];
	size_t n = 0, i, blen = 0, order[64];
	int r;

	cr_assert_not_null(p);
	randombytes_buf(p, len);
	snprintf(out, sizeof(out), "%s/codes", d);
	r = hk_qrf_encode_dir(p, len, out, chunk, scale, NULL, &n);
	cr_assert_eq(r, 0, "%zu bytes: %s", len, hk_err_msg());
	cr_assert_eq(n, (len + chunk - 1) / chunk);
	cr_assert(n <= 32);
	/* every part once, shuffled, then every part again: duplicates */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--) {
		size_t j = randombytes_uniform((uint32_t)i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		order[n + i] = order[n - 1 - i];
	cr_assert_eq(hk_qrf_set_new(&s), 0);
	for (i = 0; i < 2 * n; i++) {
		snprintf(path, sizeof(path), "%s/part-%03zu-of-%03zu.png", out,
		    order[i] + 1, n);
		r = hk_qrf_png_read(path, s);
		cr_assert_eq(r, 0, "%zu bytes, %s: %s", len, path,
		    hk_err_msg());
	}
	cr_assert_eq(hk_qrf_set_finish(s, &back, &blen), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(blen, len);
	cr_assert_eq(memcmp(back, p, len), 0, "%zu bytes differ", len);
	free(back);
	hk_qrf_set_free(s);
	free(p);
}

Test(qrframe, random_payloads_through_png, .timeout = 600)
{
	static const size_t sizes[] = { 1, 2, 3, 17, 255, 256, 999, 1000,
	    1001, 2048, 4095, 7777, 10240 };
	char tag[64];
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(tag, sizeof(tag), "qrf-%zu", sizes[i]);
		roundtrip(sizes[i], HK_QRF_CHUNK, i % 2 ? HK_QRF_MIN_SCALE : 4,
		    tag);
	}
	/* the largest frame one symbol holds, at 2 pixels per module */
	roundtrip(3 * HK_QRF_MAX_CHUNK, HK_QRF_MAX_CHUNK, HK_QRF_MIN_SCALE,
	    "qrf-max");
	/* many small parts */
	roundtrip(3000, 100, 3, "qrf-small");
}

static struct hk_qrf_set *
set_of(unsigned char **fr, size_t *ln, size_t n, const size_t *which,
    size_t k)
{
	struct hk_qrf_set *s;
	size_t i;

	cr_assert_eq(hk_qrf_set_new(&s), 0);
	for (i = 0; i < k; i++)
		cr_assert_eq(hk_qrf_set_add(s, fr[which[i]], ln[which[i]],
		    "img"), 0, "%s", hk_err_msg());
	(void)n;
	return s;
}

Test(qrframe, missing_mixed_conflicting_corrupt)
{
	unsigned char a[3000], b[3000], **fa, **fb, *out = NULL;
	size_t *la, *lb, na, nb, olen;
	const size_t some[] = { 0, 2, 4, 0 }, all[] = { 5, 4, 3, 2, 1, 0 };
	struct hk_qrf_set *s;

	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	cr_assert_eq(hk_qrf_split(a, sizeof(a), 500, &fa, &la, &na), 0);
	cr_assert_eq(hk_qrf_split(b, sizeof(b), 500, &fb, &lb, &nb), 0);
	cr_assert_eq(na, 6);
	/* missing parts are named */
	s = set_of(fa, la, na, some, 4);
	cr_assert_eq(hk_qrf_set_finish(s, &out, &olen), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "SPEC 11.2: 3 of 6 parts missing: 2, "
	    "4, 6");
	/* a frame of another payload: mixed set */
	cr_assert_eq(hk_qrf_set_add(s, fb[1], lb[1], "other.png"),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "other.png: SPEC 11.2: mixed set") !=
	    NULL, "%s", hk_err_msg());
	hk_qrf_set_free(s);
	/* a duplicate that differs */
	s = set_of(fa, la, na, all, 6);
	fa[3][60] ^= 1;
	cr_assert_eq(hk_qrf_set_add(s, fa[3], la[3], "dup.png"),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "part 4 of 6 differs") != NULL);
	hk_qrf_set_free(s);
	/* a corrupt part: the whole digest fails */
	s = set_of(fa, la, na, all, 6);
	cr_assert_eq(hk_qrf_set_finish(s, &out, &olen), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "corrupt set") != NULL, "%s",
	    hk_err_msg());
	cr_assert_null(out);
	hk_qrf_set_free(s);
	fa[3][60] ^= 1;
	s = set_of(fa, la, na, all, 6);
	cr_assert_eq(hk_qrf_set_finish(s, &out, &olen), 0);
	cr_assert_eq(olen, sizeof(a));
	cr_assert_eq(memcmp(out, a, olen), 0);
	free(out);
	hk_qrf_set_free(s);
	hk_qrf_frames_free(fa, la, na);
	hk_qrf_frames_free(fb, lb, nb);
}

Test(qrframe, parser_rules)
{
	unsigned char x[1], **fr, f[HK_QRF_HEADER + 10];
	size_t *ln, n;
	struct hk_qrf_frame fp;

	x[0] = 7;
	cr_assert_eq(hk_qrf_split(x, 1, 100, &fr, &ln, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ln[0], HK_QRF_HEADER + 1);
	cr_assert_eq(hk_qrf_parse(fr[0], ln[0], "f", &fp), 0);
	cr_assert(fp.part == 1 && fp.count == 1 && fp.total == 1 &&
	    fp.len == 1 && fp.data[0] == 7);
	memcpy(f, fr[0], ln[0]);
	hk_qrf_frames_free(fr, ln, n);
#define BAD(off, val, len, pat) do {					\
	unsigned char g[sizeof(f)];					\
	memcpy(g, f, sizeof(f));					\
	g[off] = (val);							\
	cr_assert_eq(hk_qrf_parse(g, (len), "f", &fp), HK_ERR_PARSE);	\
	cr_assert(strstr(hk_err_msg(), pat) != NULL, "%s", hk_err_msg()); \
} while (0)
	BAD(0, 'X', HK_QRF_HEADER + 1, "not a hanko QR frame");
	BAD(4, 2, HK_QRF_HEADER + 1, "frame version 2");
	BAD(6, 0, HK_QRF_HEADER + 1, "part 0 of 1");		/* part 0 */
	BAD(6, 2, HK_QRF_HEADER + 1, "part 2 of 1");		/* part > count */
	BAD(12, 0, HK_QRF_HEADER + 1, "total 0");
	BAD(9, 0x10, HK_QRF_HEADER + 1, "total 268435457");	/* > 1 MiB */
	BAD(16, 1, HK_QRF_HEADER + 1, "exceeds the total");	/* offset 1 */
	BAD(13, 0xff, HK_QRF_HEADER + 1, "exceeds the total");	/* no overflow */
	BAD(0, 'H', HK_QRF_HEADER + 2, "exceeds the total");	/* 2 data bytes */
	BAD(0, 'H', HK_QRF_HEADER, "at least 50 bytes");	/* no data */
	/* sizes and chunks out of range */
	cr_assert_eq(hk_qrf_split(x, 0, 100, &fr, &ln, &n), HK_ERR_INVALID);
	cr_assert_eq(hk_qrf_split(x, 1, HK_QRF_MAX_CHUNK + 1, &fr, &ln, &n),
	    HK_ERR_USAGE);
}

Test(qrframe, png_without_code_and_not_png)
{
	const char *d = hk_test_dir("qrf-bad");
	unsigned char p[10] = "0123456789";
	struct hk_qrf_set *s;
	char out[1024], path[2048];
	size_t n;

	cr_assert_eq(hk_qrf_set_new(&s), 0);
	snprintf(path, sizeof(path), "%s/not.png", d);
	hk_test_write(path, "hello", 5);
	cr_assert_eq(hk_qrf_png_read(path, s), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "not a PNG file") != NULL);
	/* a truncated PNG */
	snprintf(out, sizeof(out), "%s/codes", d);
	cr_assert_eq(hk_qrf_encode_dir(p, sizeof(p), out, 100, 2, NULL, &n), 0);
	snprintf(path, sizeof(path), "%s/part-001-of-001.png", out);
	cr_assert_eq(truncate(path, 100), 0);
	cr_assert_neq(hk_qrf_png_read(path, s), 0);
	/* never replaces an existing folder */
	cr_assert_eq(hk_qrf_encode_dir(p, sizeof(p), out, 100, 2, NULL, &n),
	    HK_ERR_EXISTS);
	/* fewer than 2 pixels per module refused */
	snprintf(out, sizeof(out), "%s/codes1", d);
	cr_assert_eq(hk_qrf_encode_dir(p, sizeof(p), out, 100, 1, NULL, &n),
	    HK_ERR_USAGE);
	hk_qrf_set_free(s);
}
