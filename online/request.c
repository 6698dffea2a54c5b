/*
 * request.c - residents' certificate requests, one CSV line each
 * (docs/requests.md): split, then every field against its rule, the first
 * broken rule named as "<file>:<line>: <field>: <rule>".
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "err.h"
#include "request.h"

#define NFIELDS		9
#define KEY_FILE_MAX	(64 * 1024)

static const char *const fields[NFIELDS] = {
	"municipality", "resident_id", "name", "name_flags", "birth",
	"gender", "address", "address_flags", "key",
};

static int refuse(const struct hk_request_ctx *, size_t, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static int
refuse(const struct hk_request_ctx *c, size_t line, const char *field,
    const char *fmt, ...)
{
	char rule[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	hk_err_set("%s:%zu: %s: %s", c->input, line, field, rule);
	ERR_clear_error();
	return HK_ERR_INVALID;
}

int
hk_request_header(const struct hk_request_ctx *c, const char *line)
{
	if (strcmp(line, HK_REQ_HEADER) == 0)
		return 0;
	hk_err_set("%s:1: header: docs/requests.md: the first line must be "
	    "\"%s\"", c->input, HK_REQ_HEADER);
	return HK_ERR_PARSE;
}

void
hk_request_clear(struct hk_request *r)
{
	EVP_PKEY_free(r->key);
	OPENSSL_cleanse(r->resident_id, sizeof(r->resident_id));
	memset(r, 0, sizeof(*r));
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int
hk_request_birth_ok(const char *s, time_t now, char *why, size_t len)
{
	/* era starts (CPS; PROFILE.md): 明治 大正 昭和 平成 令和 */
	static const long start[] = { 0, 18680125, 19120730, 19261225,
	    19890108, 20190501 };
	static const char *const era[] = { "unknown", "1 (明治)", "2 (大正)",
	    "3 (昭和)", "4 (平成)", "5 (令和)" };
	struct tm tm;
	long ymd, today;
	int i, e, y, m, d;

	if (strlen(s) != 9) {
		snprintf(why, len, "PROFILE.md: must be 9 characters EYYYYMMDD");
		return HK_ERR_INVALID;
	}
	for (i = 0; i < 9; i++)
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, len, "PROFILE.md: must be 9 digits "
			    "EYYYYMMDD");
			return HK_ERR_INVALID;
		}
	e = s[0] - '0';
	y = atoi((char[5]){ s[1], s[2], s[3], s[4], 0 });
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[7] - '0') * 10 + (s[8] - '0');
	if (e > 5) {
		snprintf(why, len, "PROFILE.md: era digit %d is not 0-5", e);
		return HK_ERR_INVALID;
	}
	if (y < 1868) {
		snprintf(why, len, "PROFILE.md: year %04d is before 1868", y);
		return HK_ERR_INVALID;
	}
	/* era 0 (unknown) may leave month and day unknown as 00 */
	if (e == 0 && m == 0 && d == 0)
		;
	else if (e == 0 && m >= 1 && m <= 12 && d == 0)
		;
	else if (m < 1 || m > 12 || d < 1 || d > mdays(y, m)) {
		snprintf(why, len, "PROFILE.md: %04d-%02d-%02d is not a "
		    "calendar date", y, m, d);
		return HK_ERR_INVALID;
	}
	ymd = (long)y * 10000 + m * 100 + d;
	gmtime_r(&now, &tm);
	today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	if (ymd > today) {
		snprintf(why, len, "%04d-%02d-%02d is in the future", y, m, d);
		return HK_ERR_INVALID;
	}
	if (e == 0)
		return 0;
	if (ymd < start[e] || (e < 5 && ymd >= start[e + 1])) {
		snprintf(why, len, "era %s does not cover %04d-%02d-%02d",
		    era[e], y, m, d);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_request_jis_ok(const char *s, char *why, size_t len)
{
	iconv_t cd;
	size_t n = strlen(s), i = 0;
	int idx = 0, r = 0;

	if ((cd = iconv_open("EUC-JP", "UTF-8")) == (iconv_t)-1) {
		snprintf(why, len, "iconv has no EUC-JP: %s", strerror(errno));
		return HK_ERR_INTERNAL;
	}
	while (i < n && r == 0) {
		unsigned char c = (unsigned char)s[i];
		size_t cl = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		char in[4], out[8], *ip = in, *op = out;
		size_t il = cl, ol = sizeof(out), got;
		unsigned cp;

		idx++;
		if (cl > n - i || hk_utf8_chars(s + i, cl) != 1) {
			snprintf(why, len, "character %d: not valid UTF-8", idx);
			r = HK_ERR_INVALID;
			break;
		}
		memcpy(in, s + i, cl);
		cp = cl == 1 ? c : cl == 2 ? (c & 0x1fu) : cl == 3 ?
		    (c & 0x0fu) : (c & 0x07u);
		for (size_t k = 1; k < cl; k++)
			cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3fu);
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			snprintf(why, len, "CPS 3-1-8: character %d (U+%04X) "
			    "is in neither JIS X 0208 nor JIS X 0212: send "
			    "its substitute with the flag 1", idx, cp);
			r = HK_ERR_INVALID;
			break;
		}
		got = sizeof(out) - ol;
		if (got == 2 && (unsigned char)out[0] == 0x8e) {
			snprintf(why, len, "CPS 3-1-8: character %d (U+%04X) "
			    "is a half-width kana (JIS X 0201): use the "
			    "JIS X 0208 character", idx, cp);
			r = HK_ERR_INVALID;
		} else if (got == 1) {
			snprintf(why, len, "CPS 3-1-8: character %d (U+%04X) "
			    "is ASCII / JIS X 0201: use the full-width JIS "
			    "X 0208 character", idx, cp);
			r = HK_ERR_INVALID;
		} else if (!(got == 2 && (unsigned char)out[0] >= 0xa1) &&
		    !(got == 3 && (unsigned char)out[0] == 0x8f)) {
			snprintf(why, len, "CPS 3-1-8: character %d (U+%04X) "
			    "is in neither JIS X 0208 nor JIS X 0212", idx, cp);
			r = HK_ERR_INVALID;
		}
		i += cl;
	}
	iconv_close(cd);
	return r;
}

/* Split line at ',' into exactly NFIELDS fields (in place). */
static int
split(const struct hk_request_ctx *c, size_t ln, char *line,
    char *f[NFIELDS])
{
	int n = 0;
	char *p = line, *q;

	for (q = line; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return refuse(c, ln, "line", "docs/requests.md: control "
			    "character 0x%02x", (unsigned char)*q);
		else if (*q == '"')
			return refuse(c, ln, "line", "docs/requests.md: no "
			    "quoting: '\"' is not allowed");
	for (;;) {
		if (n == NFIELDS)
			return refuse(c, ln, "line", "docs/requests.md: more "
			    "than %d fields", NFIELDS);
		f[n++] = p;
		if ((q = strchr(p, ',')) == NULL)
			break;
		*q = '\0';
		p = q + 1;
	}
	if (n != NFIELDS)
		return refuse(c, ln, "line", "docs/requests.md: %d fields, "
		    "expected %d (%s)", n, NFIELDS, HK_REQ_HEADER);
	for (n = 0; n < NFIELDS; n++)
		if (*f[n] == '\0')
			return refuse(c, ln, fields[n], "docs/requests.md: "
			    "must not be empty");
	return 0;
}

static int
check_flags(const struct hk_request_ctx *c, size_t ln, const char *field,
    const char *flags, const char *text, const char *tfield)
{
	int n = hk_utf8_chars(text, strlen(text));
	size_t i, fl = strlen(flags);

	for (i = 0; i < fl; i++)
		if (flags[i] != '0' && flags[i] != '1')
			return refuse(c, ln, field, "PROFILE.md: only \"0\" and "
			    "\"1\", one per character of the %s", tfield);
	if (n < 0 || fl != (size_t)n)
		return refuse(c, ln, field, "PROFILE.md: %zu flags for %d "
		    "characters of the %s (one per character)", fl, n, tfield);
	return 0;
}

/* The text field: UTF-8, length in characters, JIS X 0208/0212. */
static int
check_text(const struct hk_request_ctx *c, size_t ln, const char *field,
    const char *s, int maxchars)
{
	char why[512];
	int n = hk_utf8_chars(s, strlen(s)), r;

	if (n < 0)
		return refuse(c, ln, field, "not valid UTF-8");
	if (n > maxchars)
		return refuse(c, ln, field, "PROFILE.md: %d characters, at most "
		    "%d", n, maxchars);
	if ((r = hk_request_jis_ok(s, why, sizeof(why))) != 0) {
		refuse(c, ln, field, "%s", why);
		return r;
	}
	return 0;
}

static int
check_muni(const struct hk_request_ctx *c, size_t ln, const char *code,
    struct hk_request *out)
{
	const struct hk_muni *m;

	if (!hk_muni_code_ok(code))
		return refuse(c, ln, "municipality", "local government code "
		    "must be 6 digits with its check digit");
	if ((m = hk_munis_find(c->munis, code)) == NULL)
		return refuse(c, ln, "municipality", "%s is not in the state's "
		    "municipalities.csv", code);
	if (!m->partition)
		return refuse(c, ln, "municipality", "%s (%s) is divided into "
		    "ward partitions: use the ward's code", code, m->kanji);
	out->muni = m;
	return 0;
}

static int
check_name(const struct hk_request_ctx *c, size_t ln, const char *s)
{
	static const char ideo_space[] = "\xe3\x80\x80";	/* U+3000 */
	size_t n = strlen(s);
	int r;

	if ((r = check_text(c, ln, "name", s, HK_B4_NAME_CHARS)) != 0)
		return r;
	if (strncmp(s, ideo_space, 3) == 0 ||
	    (n >= 3 && strcmp(s + n - 3, ideo_space) == 0))
		return refuse(c, ln, "name", "PROFILE.md: must not begin or end "
		    "with the separator U+3000");
	if (strstr(s, "\xe3\x80\x80\xe3\x80\x80") != NULL)
		return refuse(c, ln, "name", "PROFILE.md: one U+3000 between "
		    "family and given name, not two");
	return 0;
}

static int
check_address(const struct hk_request_ctx *c, size_t ln, const char *s,
    const struct hk_muni *m)
{
	size_t pl = strlen(HK_REQ_PREFECTURE), kl = strlen(m->kanji);
	int r;

	if ((r = check_text(c, ln, "address", s, HK_B4_ADDR_CHARS)) != 0)
		return r;
	if (strncmp(s, HK_REQ_PREFECTURE, pl) != 0)
		return refuse(c, ln, "address", "PROFILE.md: must begin with "
		    "the prefecture %s", HK_REQ_PREFECTURE);
	if (strncmp(s + pl, m->kanji, kl) != 0)
		return refuse(c, ln, "address", "must continue with the "
		    "municipality's name %s (code %s)", m->kanji, m->code);
	if (s[pl + kl] == '\0')
		return refuse(c, ln, "address", "PROFILE.md: the full address, "
		    "not only the municipality");
	return 0;
}

/* PEM "PUBLIC KEY" or "CERTIFICATE REQUEST" (signature checked). */
static int
read_key(const struct hk_request_ctx *c, size_t ln, const char *rel,
    EVP_PKEY **out)
{
	char path[4096], rest[64];
	unsigned char *buf = NULL;
	size_t len = 0;
	X509_REQ *req = NULL;
	EVP_PKEY *pk = NULL;
	BIO *b = NULL;
	int r = HK_ERR_INVALID, n, i, isreq;

	*out = NULL;
	if (strstr(rel, "..") != NULL)
		return refuse(c, ln, "key", "docs/requests.md: the path must "
		    "not contain \"..\"");
	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%s/%s", c->basedir, rel);
	if (hk_file_read(path, KEY_FILE_MAX, &buf, &len) != 0)
		return refuse(c, ln, "key", "%s: cannot be read (at most %d "
		    "bytes)", rel, KEY_FILE_MAX);
	isreq = len > 0 && memmem(buf, len, "-----BEGIN CERTIFICATE "
	    "REQUEST-----", 35) != NULL;
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (isreq) {
		if ((req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) ==
		    NULL || (pk = X509_REQ_get_pubkey(req)) == NULL) {
			r = refuse(c, ln, "key", "%s: RFC 2986: the PKCS#10 "
			    "request does not parse", rel);
			goto out;
		}
		/* X509_REQ_verify: 1 good, 0 bad, -1 error: compare with 1 */
		if (X509_REQ_verify(req, pk) != 1) {
			r = refuse(c, ln, "key", "%s: RFC 2986 3: the "
			    "request's signature does not verify (no proof "
			    "of possession)", rel);
			goto out;
		}
	} else if ((pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL) {
		r = refuse(c, ln, "key", "%s: not a PEM PUBLIC KEY (SPKI) or "
		    "CERTIFICATE REQUEST", rel);
		goto out;
	}
	while ((n = BIO_read(b, rest, sizeof(rest))) > 0)
		for (i = 0; i < n; i++)
			if (rest[i] != '\n' && rest[i] != '\r' &&
			    rest[i] != ' ' && rest[i] != '\t') {
				r = refuse(c, ln, "key", "%s: trailing data "
				    "after the PEM block", rel);
				goto out;
			}
	if (!EVP_PKEY_is_a(pk, "RSA")) {
		r = refuse(c, ln, "key", "CPS 6-1-2-3 / PROFILE.md: must be an "
		    "RSA key (%s)", hk_key_alg_name(c->p->user_key));
		goto out;
	}
	if (!hk_key_alg_matches(pk, c->p->user_key) &&
	    !(c->p->user_allow_rsa1024 && EVP_PKEY_get_bits(pk) == 1024)) {
		r = refuse(c, ln, "key", "CPS 6-1-2-3 / PROFILE.md: RSA-%d; "
		    "must be %s%s", EVP_PKEY_get_bits(pk),
		    hk_key_alg_name(c->p->user_key), c->p->user_allow_rsa1024 ?
		    " or legacy RSA-1024" : " (the profile does not allow "
		    "legacy RSA-1024)");
		goto out;
	}
	*out = pk;
	pk = NULL;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	free(buf);
	return r;
}

int
hk_request_parse(const struct hk_request_ctx *c, size_t ln, const char *line,
    struct hk_request *out)
{
	char buf[HK_REQ_LINE_MAX], why[512], *f[NFIELDS];
	struct hk_basic4 *b = &out->b4;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	out->line = ln;
	if (strlen(line) >= sizeof(buf))
		return refuse(c, ln, "line", "docs/requests.md: longer than "
		    "%d bytes", HK_REQ_LINE_MAX - 1);
	memcpy(buf, line, strlen(line) + 1);
	if ((r = split(c, ln, buf, f)) != 0)
		goto out;
	if ((r = check_muni(c, ln, f[0], out)) != 0)
		goto out;
	r = HK_ERR_INVALID;
	if (strlen(f[1]) != HK_REQ_ID_LEN) {
		refuse(c, ln, "resident_id", "CPS 3-1: the resident record "
		    "code (住民票コード) must be %d digits", HK_REQ_ID_LEN);
		goto out;
	}
	for (i = 0; i < HK_REQ_ID_LEN; i++)
		if (f[1][i] < '0' || f[1][i] > '9') {
			refuse(c, ln, "resident_id", "CPS 3-1: the resident "
			    "record code must be %d digits", HK_REQ_ID_LEN);
			goto out;
		}
	memcpy(out->resident_id, f[1], HK_REQ_ID_LEN + 1);
	if ((r = check_name(c, ln, f[2])) != 0 ||
	    (r = check_flags(c, ln, "name_flags", f[3], f[2], "name")) != 0)
		goto out;
	if ((r = hk_request_birth_ok(f[4], c->now, why, sizeof(why))) != 0) {
		refuse(c, ln, "birth", "%s", why);
		goto out;
	}
	r = HK_ERR_INVALID;
	if (strcmp(f[5], "1") != 0 && strcmp(f[5], "2") != 0 &&
	    strcmp(f[5], "3") != 0) {
		refuse(c, ln, "gender", "PROFILE.md: must be 1 (male), 2 "
		    "(female) or 3 (unknown)");
		goto out;
	}
	if ((r = check_address(c, ln, f[6], out->muni)) != 0 ||
	    (r = check_flags(c, ln, "address_flags", f[7], f[6],
	    "address")) != 0)
		goto out;
	if ((r = read_key(c, ln, f[8], &out->key)) != 0)
		goto out;
	snprintf(b->name, sizeof(b->name), "%s", f[2]);
	snprintf(b->name_flags, sizeof(b->name_flags), "%s", f[3]);
	snprintf(b->birth, sizeof(b->birth), "%s", f[4]);
	snprintf(b->gender, sizeof(b->gender), "%s", f[5]);
	snprintf(b->address, sizeof(b->address), "%s", f[6]);
	snprintf(b->addr_flags, sizeof(b->addr_flags), "%s", f[7]);
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r != 0)
		hk_request_clear(out);
	else
		out->line = ln;
	return r;
}
