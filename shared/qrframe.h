/*
 * qrframe.h - any small file as a numbered set of QR codes (DESIGN.md 6,
 * media-format/SPEC.md section 11).
 *
 * Each QR symbol (8-bit mode, level M, libqrencode) carries one frame:
 *
 *   "HKQR" | version 0x01 | part (u16) | count (u16) | total (u32) |
 *   offset (u32) | SHA-256 of the whole payload (32) | data (1.. bytes)
 *
 * (big-endian, 49 header bytes). Frames are read back from PNG files
 * (libpng to grey pixels, then zbar on the Y800 buffer with
 * ZBAR_CFG_BINARY) in any order and with duplicates; a set collects them
 * and refuses mixed sets, conflicting duplicates and a wrong digest, and
 * names the missing parts.
 *
 * zbar is not linked: libzbar.so.0 pulls in libX11, libxcb, libdbus and
 * libsystemd (socket users), and hanko-offline links no network code
 * (t_nonet). It is dlopen'ed only when an image is decoded.
 */
#ifndef HK_QRFRAME_H
#define HK_QRFRAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HK_QRF_MAGIC		"HKQR"
#define HK_QRF_VERSION		1
#define HK_QRF_HEADER		49		/* bytes before the data */
#define HK_QRF_MAX_PAYLOAD	(1u << 20)	/* bytes of a whole payload */
#define HK_QRF_MAX_PARTS	4096		/* frames of one payload */
#define HK_QRF_CHUNK		1000		/* default data bytes per frame */
#define HK_QRF_MAX_CHUNK	(2331 - HK_QRF_HEADER)	/* v40-M capacity */
#define HK_QRF_SCALE		4		/* default pixels per module */
#define HK_QRF_MIN_SCALE	2		/* zbar needs at least 2 */
#define HK_QRF_MAX_IMAGE	8192		/* pixels per side of a PNG read */

/* One parsed frame; data points into the buffer parsed. */
struct hk_qrf_frame {
	unsigned part;			/* 1..count */
	unsigned count;			/* 1..HK_QRF_MAX_PARTS */
	uint32_t total;			/* bytes of the whole payload */
	uint32_t offset;		/* where data goes in the payload */
	unsigned char sha256[32];	/* of the whole payload */
	const unsigned char *data;	/* this part's bytes */
	size_t len;			/* 1.. bytes */
};

/* Parse one frame strictly (SPEC 11.1). HK_ERR_PARSE with a detail. */
int hk_qrf_parse(const unsigned char *buf, size_t len, const char *what,
    struct hk_qrf_frame *f);

/* Split payload (1..HK_QRF_MAX_PAYLOAD bytes) into frames of at most chunk
 * data bytes: frames[i] (malloc'd, lens[i] bytes) for i < *n. Free with
 * hk_qrf_frames_free. */
int hk_qrf_split(const unsigned char *payload, size_t len, size_t chunk,
    unsigned char ***frames, size_t **lens, size_t *n);
void hk_qrf_frames_free(unsigned char **frames, size_t *lens, size_t n);

/* Collecting frames of one payload. */
struct hk_qrf_set;
int hk_qrf_set_new(struct hk_qrf_set **out);
/* Add one frame read from what (an image name). Duplicates of a part must
 * be identical; all frames must belong to one payload. */
int hk_qrf_set_add(struct hk_qrf_set *s, const unsigned char *buf,
    size_t len, const char *what);
/* Parts seen so far (distinct) and the count announced (0 before any). */
void hk_qrf_set_progress(const struct hk_qrf_set *s, unsigned *have,
    unsigned *count);
/* The payload when every part is there and its SHA-256 matches; otherwise
 * HK_ERR_INVALID naming the missing parts. *payload is malloc'd. */
int hk_qrf_set_finish(struct hk_qrf_set *s, unsigned char **payload,
    size_t *len);
void hk_qrf_set_free(struct hk_qrf_set *s);

/* One frame as a QR symbol in a PNG file (8-bit grey, scale pixels per
 * module >= HK_QRF_MIN_SCALE, 4-module quiet zone), never replacing. */
int hk_qrf_png_write(const char *path, const unsigned char *frame,
    size_t len, int scale);
/* The same symbol for a terminal (Unicode half blocks, 2 rows a line). */
int hk_qrf_print(const unsigned char *frame, size_t len, FILE *f);

/* Decode every QR symbol in the PNG file path into s (zbar, binary).
 * HK_ERR_NOT_FOUND when the image holds no QR symbol. */
int hk_qrf_png_read(const char *path, struct hk_qrf_set *s);

/* Scan frames from a video device with zbar until the set is complete or
 * timeout_s seconds pass (optional; untested without a camera). */
int hk_qrf_camera(const char *device, struct hk_qrf_set *s, int timeout_s);

/*
 * Whole files: write payload as "<outdir>/part-NNN-of-MMM.png" (outdir is
 * made, must not exist; built beside it and renamed into place), and
 * print each symbol to term when it is not NULL. *nparts gets the count.
 */
int hk_qrf_encode_dir(const unsigned char *payload, size_t len,
    const char *outdir, size_t chunk, int scale, FILE *term,
    size_t *nparts);

#endif
