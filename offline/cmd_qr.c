/*
 * cmd_qr.c - "hanko-offline qr encode|decode": small files (a CSR, a
 * certificate, a fingerprint) as a numbered set of QR codes
 * (media-format/SPEC.md section 11). No CA state is needed or touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "qrframe.h"

#include <sodium.h>

static const char qr_usage[] =
"usage: hanko-offline qr encode FILE --out DIR [--chunk BYTES] [--scale PX]\n"
"           [--terminal]\n"
"       hanko-offline qr decode --out FILE IMAGE...\n"
"       hanko-offline qr decode --out FILE --camera DEVICE [--timeout SEC]\n";

struct qr_opts {
	const char *out;	/* --out: folder (encode) or file (decode) */
	const char *camera;	/* --camera DEVICE (decode); NULL = images */
	long chunk;		/* --chunk: data bytes per frame */
	long scale;		/* --scale: pixels per module */
	long timeout;		/* --timeout: seconds of camera scanning */
	int terminal;		/* --terminal: also print each code */
	const char **args;	/* FILE (encode) or IMAGEs (decode) */
	int nargs;
};

/* seen: the once-only numbers given so far (bit: this one's). */
static int
num_opt(int argc, char **argv, int *i, long lo, long hi, long *out,
    unsigned *seen, unsigned bit)
{
	const char *v = hk_opt_value(argc, argv, i), *name = argv[*i - 1];
	char *end;

	if (v == NULL)
		return HK_ERR_USAGE;
	if (*seen & bit) {
		char was[24];

		snprintf(was, sizeof(was), "%ld", *out);
		return hk_err_twice(name, was, v);
	}
	*seen |= bit;
	*out = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || *out < lo || *out > hi) {
		hk_err_set("%s %s: must be a number %ld..%ld", name, v, lo, hi);
		return HK_ERR_USAGE;
	}
	return 0;
}

static int
parse(struct qr_opts *o, int argc, char **argv)
{
	unsigned seen = 0;
	int i, r;

	o->chunk = HK_QRF_CHUNK;
	o->scale = HK_QRF_SCALE;
	o->timeout = 120;
	if ((o->args = calloc((size_t)argc, sizeof(*o->args))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0) {
			if ((r = hk_opt_once(&o->out, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(argv[i], "--camera") == 0) {
			if ((r = hk_opt_once(&o->camera, argc, argv, &i)) != 0)
				return r;
		} else if (strcmp(argv[i], "--chunk") == 0) {
			if ((r = num_opt(argc, argv, &i, 1, HK_QRF_MAX_CHUNK,
			    &o->chunk, &seen, 1)) != 0)
				return r;
		} else if (strcmp(argv[i], "--scale") == 0) {
			if ((r = num_opt(argc, argv, &i, HK_QRF_MIN_SCALE, 32,
			    &o->scale, &seen, 2)) != 0)
				return r;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			if ((r = num_opt(argc, argv, &i, 1, 3600,
			    &o->timeout, &seen, 4)) != 0)
				return r;
		} else if (strcmp(argv[i], "--terminal") == 0) {
			if (o->terminal)
				return hk_err_twice(argv[i], NULL, NULL);
			o->terminal = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(qr_usage, stdout);
			return 1;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		} else
			o->args[o->nargs++] = argv[i];
	}
	return 0;
}

static void
print_digest(const unsigned char *buf, size_t len)
{
	unsigned char h[32];
	char fp[96];

	crypto_hash_sha256(h, buf, len);
	hk_fingerprint_colons(h, fp);
	printf("SHA-256 %s\n", fp);
}

static int
qr_encode(const struct qr_opts *o)
{
	unsigned char *buf = NULL;
	size_t len, n;
	int r;

	if (o->nargs != 1 || o->out == NULL) {
		hk_err_set("qr encode: one FILE and --out DIR are required");
		return HK_ERR_USAGE;
	}
	if ((r = hk_file_read(o->args[0], HK_QRF_MAX_PAYLOAD, &buf,
	    &len)) != 0)
		return r;
	r = hk_qrf_encode_dir(buf, len, o->out, (size_t)o->chunk,
	    (int)o->scale, o->terminal ? stdout : NULL, &n);
	if (r == 0) {
		printf("%s: %zu bytes in %zu QR code(s) under %s\n",
		    o->args[0], len, n, o->out);
		print_digest(buf, len);
	}
	free(buf);
	return r;
}

static int
qr_decode(const struct qr_opts *o)
{
	struct hk_qrf_set *s = NULL;
	unsigned char *buf = NULL;
	size_t len;
	int i, r;

	if (o->out == NULL || (o->camera == NULL) == (o->nargs == 0)) {
		hk_err_set("qr decode: --out FILE and either IMAGEs or "
		    "--camera DEVICE are required");
		return HK_ERR_USAGE;
	}
	if (hk_path_exists(o->out)) {
		hk_err_set("%s: already exists; refusing to overwrite", o->out);
		return HK_ERR_EXISTS;
	}
	if ((r = hk_qrf_set_new(&s)) != 0)
		return r;
	if (o->camera != NULL)
		r = hk_qrf_camera(o->camera, s, (int)o->timeout);
	for (i = 0; r == 0 && i < o->nargs; i++)
		r = hk_qrf_png_read(o->args[i], s);
	if (r == 0 && (r = hk_qrf_set_finish(s, &buf, &len)) == 0 &&
	    (r = hk_file_write(o->out, buf, len, 0644,
	    HK_WRITE_NOREPLACE)) == 0) {
		printf("%s: %zu bytes rebuilt\n", o->out, len);
		print_digest(buf, len);
	}
	free(buf);
	hk_qrf_set_free(s);
	return r;
}

int
cmd_qr(int argc, char **argv)
{
	struct qr_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: encode or decode (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(qr_usage, stdout);
		return 0;
	}
	if ((r = parse(&o, argc - 1, argv + 1)) != 0) {
		free(o.args);
		return r == 1 ? 0 : r;
	}
	if (strcmp(argv[1], "encode") == 0)
		r = qr_encode(&o);
	else if (strcmp(argv[1], "decode") == 0)
		r = qr_decode(&o);
	else {
		hk_err_set("qr %s: unknown (encode, decode)", argv[1]);
		r = HK_ERR_USAGE;
	}
	free(o.args);
	return r;
}
