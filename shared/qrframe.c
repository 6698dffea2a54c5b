/*
 * qrframe.c - framing, QR encoding (libqrencode), PNG (libpng) and QR
 * decoding (zbar, dlopen'ed) of multi-part payloads; SPEC.md section 11.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>
#include <sodium.h>
#include <zbar.h>

#include "atomic.h"
#include "be.h"
#include "err.h"
#include "hex.h"
#include "qrframe.h"

/* ---------------------------------------------------------------- */
/* Frames (SPEC 11.1). */

int
hk_qrf_parse(const unsigned char *buf, size_t len, const char *what,
    struct hk_qrf_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (len < HK_QRF_HEADER + 1 || memcmp(buf, HK_QRF_MAGIC, 4) != 0) {
		hk_err_set("%s: SPEC 11.1: not a hanko QR frame (magic "
		    "\"HKQR\" and at least %d bytes)", what, HK_QRF_HEADER + 1);
		return HK_ERR_PARSE;
	}
	if (buf[4] != HK_QRF_VERSION) {
		hk_err_set("%s: SPEC 11.1: frame version %u is not 1", what,
		    buf[4]);
		return HK_ERR_PARSE;
	}
	f->part = hk_be_get16(buf + 5);
	f->count = hk_be_get16(buf + 7);
	f->total = hk_be_get32(buf + 9);
	f->offset = hk_be_get32(buf + 13);
	memcpy(f->sha256, buf + 17, 32);
	f->data = buf + HK_QRF_HEADER;
	f->len = len - HK_QRF_HEADER;
	if (f->count == 0 || f->count > HK_QRF_MAX_PARTS || f->part == 0 ||
	    f->part > f->count) {
		hk_err_set("%s: SPEC 11.1: part %u of %u: must be 1 <= part "
		    "<= count <= %d", what, f->part, f->count, HK_QRF_MAX_PARTS);
		return HK_ERR_PARSE;
	}
	if (f->total == 0 || f->total > HK_QRF_MAX_PAYLOAD) {
		hk_err_set("%s: SPEC 11.1: total %u: must be 1..%u", what,
		    f->total, HK_QRF_MAX_PAYLOAD);
		return HK_ERR_PARSE;
	}
	/* offset + len <= total, written so that it cannot overflow. */
	if (f->offset > f->total || f->len > f->total - f->offset) {
		hk_err_set("%s: SPEC 11.1: part %u: offset %u + %zu bytes "
		    "exceeds the total %u", what, f->part, f->offset, f->len,
		    f->total);
		return HK_ERR_PARSE;
	}
	return 0;
}

void
hk_qrf_frames_free(unsigned char **frames, size_t *lens, size_t n)
{
	size_t i;

	if (frames != NULL)
		for (i = 0; i < n; i++)
			free(frames[i]);
	free(frames);
	free(lens);
}

int
hk_qrf_split(const unsigned char *payload, size_t len, size_t chunk,
    unsigned char ***frames, size_t **lens, size_t *n)
{
	unsigned char h[32], **fr = NULL;
	size_t *ln = NULL, count, i;

	*frames = NULL;
	*lens = NULL;
	*n = 0;
	if (len == 0 || len > HK_QRF_MAX_PAYLOAD) {
		hk_err_set("SPEC 11.1: a QR payload is 1..%u bytes (this one "
		    "%zu)", HK_QRF_MAX_PAYLOAD, len);
		return HK_ERR_INVALID;
	}
	if (chunk == 0 || chunk > HK_QRF_MAX_CHUNK) {
		hk_err_set("--chunk %zu: must be 1..%d", chunk,
		    HK_QRF_MAX_CHUNK);
		return HK_ERR_USAGE;
	}
	count = (len + chunk - 1) / chunk;
	if (count > HK_QRF_MAX_PARTS) {
		hk_err_set("SPEC 11.1: %zu parts; at most %d (use a larger "
		    "--chunk or a bundle)", count, HK_QRF_MAX_PARTS);
		return HK_ERR_INVALID;
	}
	crypto_hash_sha256(h, payload, len);
	if ((fr = calloc(count, sizeof(*fr))) == NULL ||
	    (ln = calloc(count, sizeof(*ln))) == NULL)
		goto nomem;
	for (i = 0; i < count; i++) {
		size_t off = i * chunk;
		size_t dl = len - off < chunk ? len - off : chunk;

		if ((fr[i] = malloc(HK_QRF_HEADER + dl)) == NULL)
			goto nomem;
		memcpy(fr[i], HK_QRF_MAGIC, 4);
		fr[i][4] = HK_QRF_VERSION;
		hk_be_put16(fr[i] + 5, (unsigned)(i + 1));
		hk_be_put16(fr[i] + 7, (unsigned)count);
		hk_be_put32(fr[i] + 9, (uint32_t)len);
		hk_be_put32(fr[i] + 13, (uint32_t)off);
		memcpy(fr[i] + 17, h, 32);
		memcpy(fr[i] + HK_QRF_HEADER, payload + off, dl);
		ln[i] = HK_QRF_HEADER + dl;
	}
	*frames = fr;
	*lens = ln;
	*n = count;
	return 0;
 nomem:
	hk_qrf_frames_free(fr, ln, count);
	return HK_ERR_ALLOC;
}

/* ---------------------------------------------------------------- */
/* Sets. */

struct hk_qrf_set {
	unsigned count;			/* 0 until the first frame */
	uint32_t total;			/* of the first frame */
	unsigned char sha256[32];	/* of the first frame */
	char first[256];		/* where the first frame came from */
	unsigned char **part;		/* [count]: frame bytes or NULL */
	size_t *plen;			/* [count] */
	unsigned have;			/* distinct parts held */
};

int
hk_qrf_set_new(struct hk_qrf_set **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

void
hk_qrf_set_free(struct hk_qrf_set *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; s->part != NULL && i < s->count; i++)
		free(s->part[i]);
	free(s->part);
	free(s->plen);
	free(s);
}

void
hk_qrf_set_progress(const struct hk_qrf_set *s, unsigned *have,
    unsigned *count)
{
	*have = s->have;
	*count = s->count;
}

int
hk_qrf_set_add(struct hk_qrf_set *s, const unsigned char *buf, size_t len,
    const char *what)
{
	struct hk_qrf_frame f;
	char a[17], b[17];
	int r;

	if ((r = hk_qrf_parse(buf, len, what, &f)) != 0)
		return r;
	if (s->count == 0) {
		if ((s->part = calloc(f.count, sizeof(*s->part))) == NULL ||
		    (s->plen = calloc(f.count, sizeof(*s->plen))) == NULL)
			return HK_ERR_ALLOC;
		s->count = f.count;
		s->total = f.total;
		memcpy(s->sha256, f.sha256, 32);
		snprintf(s->first, sizeof(s->first), "%s", what);
	} else if (f.count != s->count || f.total != s->total ||
	    memcmp(f.sha256, s->sha256, 32) != 0) {
		hk_hex_encode(f.sha256, 8, a);
		hk_hex_encode(s->sha256, 8, b);
		hk_err_set("%s: SPEC 11.2: mixed set: this frame belongs to "
		    "payload %s... (%u parts), %s to payload %s... (%u parts)",
		    what, a, f.count, s->first, b, s->count);
		return HK_ERR_INVALID;
	}
	if (s->part[f.part - 1] != NULL) {
		if (s->plen[f.part - 1] != len ||
		    memcmp(s->part[f.part - 1], buf, len) != 0) {
			hk_err_set("%s: SPEC 11.2: part %u of %u differs from "
			    "an earlier copy of the same part", what, f.part,
			    f.count);
			return HK_ERR_INVALID;
		}
		return 0;	/* an identical duplicate */
	}
	if ((s->part[f.part - 1] = malloc(len)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(s->part[f.part - 1], buf, len);
	s->plen[f.part - 1] = len;
	s->have++;
	return 0;
}

int
hk_qrf_set_finish(struct hk_qrf_set *s, unsigned char **payload, size_t *len)
{
	struct hk_qrf_frame f;
	unsigned char *p = NULL, h[32];
	char missing[512];
	size_t off = 0, ml = 0;
	unsigned i, nmiss = 0;
	int r;

	*payload = NULL;
	*len = 0;
	if (s->count == 0) {
		hk_err_set("SPEC 11.2: no hanko QR frame was found");
		return HK_ERR_NOT_FOUND;
	}
	missing[0] = '\0';
	for (i = 0; i < s->count; i++) {
		if (s->part[i] != NULL)
			continue;
		if (nmiss++ < 40 && ml < sizeof(missing) - 16)
			ml += (size_t)snprintf(missing + ml, sizeof(missing) -
			    ml, "%s%u", nmiss > 1 ? ", " : "", i + 1);
	}
	if (nmiss > 0) {
		hk_err_set("SPEC 11.2: %u of %u parts missing: %s%s", nmiss,
		    s->count, missing, nmiss > 40 ? ", ..." : "");
		return HK_ERR_INVALID;
	}
	if ((p = malloc(s->total)) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < s->count; i++) {
		if ((r = hk_qrf_parse(s->part[i], s->plen[i], "frame",
		    &f)) != 0)
			goto out;
		if (f.offset != off || (i + 1 == s->count &&
		    off + f.len != s->total)) {
			hk_err_set("SPEC 11.2: part %u of %u: offset %u does "
			    "not follow the parts before it (%zu)", i + 1,
			    s->count, f.offset, off);
			r = HK_ERR_INVALID;
			goto out;
		}
		memcpy(p + off, f.data, f.len);
		off += f.len;
	}
	crypto_hash_sha256(h, p, s->total);
	if (memcmp(h, s->sha256, 32) != 0) {
		hk_err_set("SPEC 11.2: the %u parts do not hash to the SHA-256 "
		    "their frames name (corrupt set)", s->count);
		r = HK_ERR_INVALID;
		goto out;
	}
	*payload = p;
	*len = s->total;
	p = NULL;
	r = 0;
 out:
	free(p);
	return r;
}

/* ---------------------------------------------------------------- */
/* QR symbols: encoding and output. */

static int
encode_symbol(const unsigned char *frame, size_t len, QRcode **out)
{
	*out = NULL;
	if (len > (size_t)HK_QRF_HEADER + HK_QRF_MAX_CHUNK) {
		hk_err_set("frame of %zu bytes exceeds one QR symbol", len);
		return HK_ERR_INVALID;
	}
	/* 8-bit mode, level M, the smallest version that holds it. */
	if ((*out = QRcode_encodeData((int)len, frame, 0, QR_ECLEVEL_M)) ==
	    NULL) {
		hk_err_set("libqrencode: cannot encode %zu bytes: %s", len,
		    strerror(errno));
		return HK_ERR_INTERNAL;
	}
	return 0;
}

static void png_error_fn(png_structp png, png_const_charp msg);
static void png_warn_fn(png_structp png, png_const_charp msg);

int
hk_qrf_png_write(const char *path, const unsigned char *frame, size_t len,
    int scale)
{
	QRcode *q = NULL;
	png_structp png = NULL;
	png_infop info = NULL;
	unsigned char *row = NULL;
	FILE *volatile f = NULL;
	int fd = -1, side, x, y;
	volatile int r;
	volatile int ok = 0;

	if (scale < HK_QRF_MIN_SCALE || scale > 32) {
		hk_err_set("--scale %d: must be %d..32 pixels per module",
		    scale, HK_QRF_MIN_SCALE);
		return HK_ERR_USAGE;
	}
	if ((r = encode_symbol(frame, len, &q)) != 0)
		return r;
	side = (q->width + 8) * scale;
	if ((row = malloc((size_t)side)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
		hk_err_set("%s: cannot create: %s", path, strerror(errno));
		r = errno == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	r = HK_ERR_IO;
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    png_error_fn, png_warn_fn)) == NULL ||
	    (info = png_create_info_struct(png)) == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < side; y++) {
		int my = y / scale - 4;
		for (x = 0; x < side; x++) {
			int mx = x / scale - 4, dark = 0;
			if (mx >= 0 && my >= 0 && mx < q->width &&
			    my < q->width)
				dark = q->data[my * q->width + mx] & 1;
			row[x] = dark ? 0 : 255;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ok = 1;
 out:
	if (png != NULL)
		png_destroy_write_struct(&png, &info);
	if (f != NULL) {
		if (fflush(f) != 0 || fsync(fileno(f)) != 0)
			ok = 0;
		if (fclose(f) != 0)
			ok = 0;
		if (!ok) {
			hk_err_set("%s: cannot write the PNG", path);
			unlink(path);
		}
	}
	if (f != NULL && ok)
		r = 0;
	free(row);
	QRcode_free(q);
	return r;
}

int
hk_qrf_print(const unsigned char *frame, size_t len, FILE *f)
{
	QRcode *q;
	int x, y, w, r;

	if ((r = encode_symbol(frame, len, &q)) != 0)
		return r;
	w = q->width;
	/* Two module rows per line; light modules drawn (dark terminal). */
	for (y = -4; y < w + 4; y += 2) {
		for (x = -4; x < w + 4; x++) {
			int top = 0, bot = 0;
			if (x >= 0 && x < w && y >= 0 && y < w)
				top = q->data[y * w + x] & 1;
			if (x >= 0 && x < w && y + 1 >= 0 && y + 1 < w)
				bot = q->data[(y + 1) * w + x] & 1;
			fputs(!top && !bot ? "\u2588" : !top ? "\u2580" :
			    !bot ? "\u2584" : " ", f);
		}
		fputc('\n', f);
	}
	QRcode_free(q);
	return ferror(f) ? HK_ERR_IO : 0;
}

int
hk_qrf_encode_dir(const unsigned char *payload, size_t len,
    const char *outdir, size_t chunk, int scale, FILE *term, size_t *nparts)
{
	unsigned char **fr = NULL, rnd[8];
	size_t *ln = NULL, n = 0, i;
	char tmp[PATH_MAX], path[PATH_MAX + 64], hx[17];
	int made = 0, r;

	*nparts = 0;
	if (hk_path_exists(outdir)) {
		hk_err_set("%s: already exists; refusing to overwrite", outdir);
		return HK_ERR_EXISTS;
	}
	if ((r = hk_qrf_split(payload, len, chunk, &fr, &ln, &n)) != 0)
		return r;
	randombytes_buf(rnd, sizeof(rnd));
	hk_hex_encode(rnd, sizeof(rnd), hx);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%s", outdir, hx) >=
	    (int)sizeof(tmp) || mkdir(tmp, 0700) != 0) {
		hk_err_set("%s: cannot create: %s", tmp, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	made = 1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/part-%03u-of-%03u.png", tmp,
		    (unsigned)(i + 1) % 10000, (unsigned)n % 10000);
		if ((r = hk_qrf_png_write(path, fr[i], ln[i], scale)) != 0)
			goto out;
		if (term != NULL) {
			fprintf(term, "part %zu of %zu\n", i + 1, n);
			if ((r = hk_qrf_print(fr[i], ln[i], term)) != 0)
				goto out;
		}
	}
	if ((chmod(tmp, 0755) != 0 && !hk_mode_unkept(errno)) ||
	    hk_dir_rename_noreplace(tmp, outdir) != 0) {
		hk_err_set("%s: cannot rename into place: %s", outdir,
		    strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	made = 0;
	hk_dir_sync(outdir);
	*nparts = n;
	r = 0;
 out:
	if (made) {
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/part-%03u-of-%03u.png",
			    tmp, (unsigned)(i + 1) % 10000, (unsigned)n % 10000);
			unlink(path);
		}
		rmdir(tmp);
	}
	hk_qrf_frames_free(fr, ln, n);
	return r;
}

/* ---------------------------------------------------------------- */
/* Reading PNG into grey pixels (libpng). */

/* libpng reports through these instead of printing on stderr. */
static _Thread_local char png_msg[128];

static void
png_error_fn(png_structp png, png_const_charp msg)
{
	snprintf(png_msg, sizeof(png_msg), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_warn_fn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static int
png_grey(const char *path, unsigned char **pix, unsigned *w, unsigned *h)
{
	png_structp png = NULL;
	png_infop info = NULL;
	unsigned char *volatile buf = NULL;
	png_bytep *volatile rows = NULL;
	FILE *f = NULL;
	png_uint_32 pw, ph;
	unsigned char sig[8];
	int fd, ct, bd;
	volatile int r = HK_ERR_PARSE;
	unsigned y;

	*pix = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (f = fdopen(fd, "rb")) == NULL) {
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
	}
	if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
		hk_err_set("%s: not a PNG file", path);
		goto out;
	}
	png_msg[0] = '\0';
	if ((png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
	    png_error_fn, png_warn_fn)) == NULL ||
	    (info = png_create_info_struct(png)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		hk_err_set("%s: damaged PNG file (libpng: %s)", path, png_msg);
		r = HK_ERR_PARSE;
		goto out;
	}
	png_set_user_limits(png, HK_QRF_MAX_IMAGE, HK_QRF_MAX_IMAGE);
	png_init_io(png, f);
	png_set_sig_bytes(png, 8);
	png_read_info(png, info);
	pw = png_get_image_width(png, info);
	ph = png_get_image_height(png, info);
	ct = png_get_color_type(png, info);
	bd = png_get_bit_depth(png, info);
	/* Any PNG to 8-bit grey, no alpha. */
	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (ct == PNG_COLOR_TYPE_GRAY && bd < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (bd == 16)
		png_set_strip_16(png);
	if (ct & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info,
	    PNG_INFO_tRNS))
		png_set_strip_alpha(png);
	if (ct == PNG_COLOR_TYPE_RGB || ct == PNG_COLOR_TYPE_RGB_ALPHA ||
	    ct == PNG_COLOR_TYPE_PALETTE)
		png_set_rgb_to_gray_fixed(png, 1, -1, -1);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != pw) {
		hk_err_set("%s: cannot convert to 8-bit grey", path);
		goto out;
	}
	if ((buf = malloc((size_t)pw * ph)) == NULL ||
	    (rows = malloc(ph * sizeof(*rows))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (y = 0; y < ph; y++)
		rows[y] = buf + (size_t)y * pw;
	png_read_image(png, rows);
	*pix = buf;
	buf = NULL;
	*w = pw;
	*h = ph;
	r = 0;
 out:
	if (png != NULL)
		png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	free(buf);
	fclose(f);
	return r;
}

/* ---------------------------------------------------------------- */
/* zbar, loaded at run time (see qrframe.h for why). */

static struct {
	void *dl;
	__typeof__(zbar_image_scanner_create) *scanner_create;
	__typeof__(zbar_image_scanner_destroy) *scanner_destroy;
	__typeof__(zbar_image_scanner_set_config) *scanner_set_config;
	__typeof__(zbar_image_create) *image_create;
	__typeof__(zbar_image_destroy) *image_destroy;
	__typeof__(zbar_image_set_format) *image_set_format;
	__typeof__(zbar_image_set_size) *image_set_size;
	__typeof__(zbar_image_set_data) *image_set_data;
	__typeof__(zbar_scan_image) *scan_image;
	__typeof__(zbar_image_first_symbol) *first_symbol;
	__typeof__(zbar_symbol_next) *symbol_next;
	__typeof__(zbar_symbol_get_type) *symbol_type;
	__typeof__(zbar_symbol_get_data) *symbol_data;
	__typeof__(zbar_symbol_get_data_length) *symbol_len;
} zb;

static int
zbar_load(void)
{
	void *dl;

	if (zb.dl != NULL)
		return 0;
	if ((dl = dlopen("libzbar.so.0", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		hk_err_set("libzbar.so.0: cannot load (install libzbar0): %s",
		    dlerror());
		return HK_ERR_NOT_FOUND;
	}
#define SYM(f, n) if ((*(void **)&zb.f = dlsym(dl, n)) == NULL) goto bad
	SYM(scanner_create, "zbar_image_scanner_create");
	SYM(scanner_destroy, "zbar_image_scanner_destroy");
	SYM(scanner_set_config, "zbar_image_scanner_set_config");
	SYM(image_create, "zbar_image_create");
	SYM(image_destroy, "zbar_image_destroy");
	SYM(image_set_format, "zbar_image_set_format");
	SYM(image_set_size, "zbar_image_set_size");
	SYM(image_set_data, "zbar_image_set_data");
	SYM(scan_image, "zbar_scan_image");
	SYM(first_symbol, "zbar_image_first_symbol");
	SYM(symbol_next, "zbar_symbol_next");
	SYM(symbol_type, "zbar_symbol_get_type");
	SYM(symbol_data, "zbar_symbol_get_data");
	SYM(symbol_len, "zbar_symbol_get_data_length");
#undef SYM
	zb.dl = dl;
	return 0;
 bad:
	hk_err_set("libzbar.so.0: a needed function is missing: %s",
	    dlerror());
	dlclose(dl);
	memset(&zb, 0, sizeof(zb));
	return HK_ERR_INTERNAL;
}

int
hk_qrf_png_read(const char *path, struct hk_qrf_set *s)
{
	zbar_image_scanner_t *sc = NULL;
	zbar_image_t *img = NULL;
	const zbar_symbol_t *sym;
	unsigned char *pix = NULL;
	unsigned w = 0, h = 0, found = 0;
	int r;

	if ((r = zbar_load()) != 0)
		return r;
	if ((r = png_grey(path, &pix, &w, &h)) != 0)
		return r;
	r = HK_ERR_ALLOC;
	if ((sc = zb.scanner_create()) == NULL ||
	    (img = zb.image_create()) == NULL)
		goto out;
	/* QR only, and raw bytes: without ZBAR_CFG_BINARY zbar re-encodes
	 * the payload as UTF-8 (PROFILE.md, interoperability). */
	zb.scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zb.scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zb.scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zb.image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zb.image_set_size(img, w, h);
	zb.image_set_data(img, pix, (unsigned long)w * h, NULL);
	if (zb.scan_image(sc, img) < 0) {
		hk_err_set("%s: zbar could not scan the image", path);
		r = HK_ERR_INTERNAL;
		goto out;
	}
	for (sym = zb.first_symbol(img); sym != NULL;
	    sym = zb.symbol_next(sym)) {
		if (zb.symbol_type(sym) != ZBAR_QRCODE)
			continue;
		if ((r = hk_qrf_set_add(s, (const unsigned char *)
		    zb.symbol_data(sym), zb.symbol_len(sym), path)) != 0)
			goto out;
		found++;
	}
	if (found == 0) {
		hk_err_set("%s: no QR code found in the image", path);
		r = HK_ERR_NOT_FOUND;
		goto out;
	}
	r = 0;
 out:
	if (img != NULL)
		zb.image_destroy(img);
	if (sc != NULL)
		zb.scanner_destroy(sc);
	free(pix);
	return r;
}

int
hk_qrf_camera(const char *device, struct hk_qrf_set *s, int timeout_s)
{
	__typeof__(zbar_processor_create) *p_create;
	__typeof__(zbar_processor_destroy) *p_destroy;
	__typeof__(zbar_processor_init) *p_init;
	__typeof__(zbar_processor_set_config) *p_config;
	__typeof__(zbar_process_one) *p_one;
	__typeof__(zbar_processor_get_results) *p_results;
	__typeof__(zbar_symbol_set_first_symbol) *set_first;
	__typeof__(zbar_symbol_set_ref) *set_ref;
	zbar_processor_t *proc = NULL;
	time_t end = time(NULL) + timeout_s;
	unsigned have, count;
	int r;

	if ((r = zbar_load()) != 0)
		return r;
	*(void **)&p_create = dlsym(zb.dl, "zbar_processor_create");
	*(void **)&p_destroy = dlsym(zb.dl, "zbar_processor_destroy");
	*(void **)&p_init = dlsym(zb.dl, "zbar_processor_init");
	*(void **)&p_config = dlsym(zb.dl, "zbar_processor_set_config");
	*(void **)&p_one = dlsym(zb.dl, "zbar_process_one");
	*(void **)&p_results = dlsym(zb.dl, "zbar_processor_get_results");
	*(void **)&set_first = dlsym(zb.dl, "zbar_symbol_set_first_symbol");
	*(void **)&set_ref = dlsym(zb.dl, "zbar_symbol_set_ref");
	if (!p_create || !p_destroy || !p_init || !p_config || !p_one ||
	    !p_results || !set_first || !set_ref) {
		hk_err_set("libzbar.so.0: no video processor functions");
		return HK_ERR_INTERNAL;
	}
	if ((proc = p_create(0)) == NULL)
		return HK_ERR_ALLOC;
	p_config(proc, 0, ZBAR_CFG_ENABLE, 0);
	p_config(proc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	p_config(proc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	if (p_init(proc, device, 0) != 0) {
		hk_err_set("%s: zbar cannot open the video device", device);
		r = HK_ERR_IO;
		goto out;
	}
	for (;;) {
		const zbar_symbol_set_t *set;
		const zbar_symbol_t *sym;

		hk_qrf_set_progress(s, &have, &count);
		if (count != 0 && have == count)
			break;
		if (time(NULL) >= end) {
			hk_err_set("%s: %u of %u parts after %d s; stopped",
			    device, have, count, timeout_s);
			r = HK_ERR_INVALID;
			goto out;
		}
		if (p_one(proc, 1000) <= 0)
			continue;
		if ((set = p_results(proc)) == NULL)
			continue;
		for (sym = set_first(set); sym != NULL;
		    sym = zb.symbol_next(sym)) {
			if (zb.symbol_type(sym) != ZBAR_QRCODE)
				continue;
			r = hk_qrf_set_add(s, (const unsigned char *)
			    zb.symbol_data(sym), zb.symbol_len(sym), device);
			if (r != 0) {
				set_ref((zbar_symbol_set_t *)set, -1);
				goto out;
			}
		}
		set_ref((zbar_symbol_set_t *)set, -1);
		hk_qrf_set_progress(s, &have, &count);
		fprintf(stderr, "%u of %u parts\n", have, count);
	}
	r = 0;
 out:
	p_destroy(proc);
	return r;
}
