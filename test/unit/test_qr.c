/* test_qr.c - QR codes of digests: libqrencode's matrix, the terminal
 * rendering with half blocks, and the SVG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "err.h"
#include "qr.h"

#define HEX "99a796f66035bdde95d4e0081380db2c2535fd87bf05c2b1bf6ae84fa8d4d7b7"

Test(qr, encode_digest)
{
	struct hk_qr *q = NULL;
	int i;

	cr_assert_eq(hk_qr_encode(HEX, &q), 0, "%s", hk_err_msg());
	/* 64 bytes, 8-bit mode, level M: version 5, 37 modules. */
	cr_assert_eq(q->width, 37);
	/* Finder pattern: the top row of the top-left square is dark, the
	 * separator after it light. */
	for (i = 0; i < 7; i++)
		cr_assert(hk_qr_module(q, i, 0));
	cr_assert(!hk_qr_module(q, 7, 0));
	cr_assert(!hk_qr_module(q, -1, 0));
	cr_assert(!hk_qr_module(q, 37, 37));
	hk_qr_free(q);
}

Test(qr, terminal)
{
	struct hk_qr *q = NULL;
	char *buf = NULL;
	size_t len = 0, lines = 0, i;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(hk_qr_encode(HEX, &q), 0);
	cr_assert_eq(hk_qr_print(q, f), 0);
	fclose(f);
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	/* 37 + 2 * 4 quiet rows, two per line. */
	cr_assert_eq(lines, (size_t)(q->width + 2 * HK_QR_QUIET + 1) / 2);
	/* The quiet zone is drawn light (full blocks). */
	cr_assert(strncmp(buf, "\u2588\u2588\u2588\u2588", 12) == 0);
	free(buf);
	hk_qr_free(q);
}

Test(qr, svg)
{
	struct hk_qr *q = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(hk_qr_encode("abc", &q), 0);
	cr_assert_eq(hk_qr_svg(q, 120, f), 0);
	fclose(f);
	cr_assert(strncmp(buf, "<svg ", 5) == 0);
	cr_assert_not_null(strstr(buf, "viewBox=\"0 0 29 29\""));
	cr_assert_not_null(strstr(buf, "M4 4h1v1h-1z"));
	cr_assert(strcmp(buf + len - 6, "</svg>") == 0);
	free(buf);
	hk_qr_free(q);
}

Test(qr, refuses)
{
	struct hk_qr *q = NULL;
	char big[HK_QR_MAX_PAYLOAD + 2];

	cr_assert_eq(hk_qr_encode("", &q), HK_ERR_INVALID);
	cr_assert_null(q);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(hk_qr_encode(big, &q), HK_ERR_INVALID);
	cr_assert_null(q);
}
