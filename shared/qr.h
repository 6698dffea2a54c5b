/*
 * qr.h - QR codes of digests for the people at a ceremony (DESIGN.md 5).
 *
 * A payload (a hex SHA-256, a fingerprint) is encoded with libqrencode
 * (8-bit mode, error correction M) and shown in a terminal with Unicode
 * half blocks, two module rows per text line, or written as an inline SVG
 * for the printable transcript. The payload is not secret.
 */
#ifndef HK_QR_H
#define HK_QR_H

#include <stddef.h>
#include <stdio.h>

#define HK_QR_MAX_PAYLOAD	512	/* bytes encoded at most */
#define HK_QR_QUIET		4	/* quiet-zone modules on each side */

struct hk_qr {
	int width;		/* modules per side, quiet zone excluded */
	unsigned char *dark;	/* width*width: 1 = dark module, row-major */
};

/* Encode payload (1..HK_QR_MAX_PAYLOAD bytes, no NUL). */
int hk_qr_encode(const char *payload, struct hk_qr **out);
void hk_qr_free(struct hk_qr *q);
/* 1 if the module at (x, y) is dark; outside the symbol (quiet zone) 0. */
int hk_qr_module(const struct hk_qr *q, int x, int y);
/*
 * Print for a terminal with light text on a dark background (as
 * "qrencode -t UTF8"): light modules are drawn, dark ones left blank, so
 * the code reads dark-on-light; '\n' after each line.
 */
int hk_qr_print(const struct hk_qr *q, FILE *f);
/* An <svg> element (one path of unit squares), size px pixels square. */
int hk_qr_svg(const struct hk_qr *q, int px, FILE *f);

#endif
