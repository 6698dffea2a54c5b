/* qr.c - QR codes in the terminal and in SVG, over libqrencode. */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "err.h"
#include "qr.h"

void
hk_qr_free(struct hk_qr *q)
{
	if (q == NULL)
		return;
	free(q->dark);
	free(q);
}

int
hk_qr_encode(const char *payload, struct hk_qr **out)
{
	struct hk_qr *q = NULL;
	QRcode *c = NULL;
	size_t len = strlen(payload), i, n;

	*out = NULL;
	if (len == 0 || len > HK_QR_MAX_PAYLOAD) {
		hk_err_set("QR payload: must be 1 to %d bytes",
		    HK_QR_MAX_PAYLOAD);
		return HK_ERR_INVALID;
	}
	if ((c = QRcode_encodeData((int)len, (const unsigned char *)payload,
	    0, QR_ECLEVEL_M)) == NULL) {
		hk_err_set("QR payload: libqrencode cannot encode %zu bytes",
		    len);
		return HK_ERR_INTERNAL;
	}
	n = (size_t)c->width * (size_t)c->width;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->dark = malloc(n)) == NULL) {
		hk_qr_free(q);
		QRcode_free(c);
		return HK_ERR_ALLOC;
	}
	q->width = c->width;
	for (i = 0; i < n; i++)
		q->dark[i] = c->data[i] & 1;	/* bit 0: dark module */
	QRcode_free(c);
	*out = q;
	return 0;
}

int
hk_qr_module(const struct hk_qr *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->dark[(size_t)y * (size_t)q->width + (size_t)x];
}

int
hk_qr_print(const struct hk_qr *q, FILE *f)
{
	/* Index: top light + 2 * bottom light. */
	static const char *const cell[4] = { " ", "\u2580", "\u2584",
	    "\u2588" };
	int x, y, lo = -HK_QR_QUIET, hi = q->width + HK_QR_QUIET;

	for (y = lo; y < hi; y += 2) {
		for (x = lo; x < hi; x++) {
			int top = !hk_qr_module(q, x, y);
			int bot = y + 1 < hi ? !hk_qr_module(q, x, y + 1) : 0;
			fputs(cell[top + 2 * bot], f);
		}
		fputc('\n', f);
	}
	return ferror(f) ? HK_ERR_IO : 0;
}

int
hk_qr_svg(const struct hk_qr *q, int px, FILE *f)
{
	int x, y, side = q->width + 2 * HK_QR_QUIET;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" "
	    "d=\"", px, px, side, side, side, side);
	for (y = 0; y < q->width; y++)
		for (x = 0; x < q->width; x++)
			if (hk_qr_module(q, x, y))
				fprintf(f, "M%d %dh1v1h-1z", x + HK_QR_QUIET,
				    y + HK_QR_QUIET);
	fputs("\"/></svg>", f);
	return ferror(f) ? HK_ERR_IO : 0;
}
