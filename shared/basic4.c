/*
 * basic4.c - the six otherNames of the basic 4 items (PROFILE.md), and the
 * rules their values follow (the era against the date, JIS X 0208/0212),
 * one implementation for the request checker (online/request.c) and the
 * lint of a resident's certificate (shared/lint.c).
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "basic4.h"
#include "err.h"

#define JST_OFFSET	(9 * 3600)	/* dates of birth are dates in Japan */

static const char *const oids[HK_B4_ITEMS] = {
	"1.2.392.200149.8.5.5.1",	/* commonName */
	"1.2.392.200149.8.5.5.4",	/* dateOfBirth */
	"1.2.392.200149.8.5.5.3",	/* gender */
	"1.2.392.200149.8.5.5.5",	/* address */
	"1.2.392.200149.8.5.5.2",	/* substituteCharacterOfCommonName */
	"1.2.392.200149.8.5.5.6",	/* substituteCharacterOfAddress */
};

static const char *const items[HK_B4_ITEMS] = {
	"commonName", "dateOfBirth", "gender", "address",
	"substituteCharacterOfCommonName", "substituteCharacterOfAddress",
};

const char *
hk_basic4_oid(int i)
{
	return i >= 0 && i < HK_B4_ITEMS ? oids[i] : NULL;
}

const char *
hk_basic4_item(int i)
{
	return i >= 0 && i < HK_B4_ITEMS ? items[i] : NULL;
}

int
hk_utf8_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int n = 0;

	while (i < len) {
		unsigned c = p[i], cp, need, k;

		if (c == 0)
			return -1;
		if (c < 0x80) {
			i++;
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return -1;
		if (len - i - 1 < need)
			return -1;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += need + 1;
		n++;
	}
	return n;
}

size_t
hk_utf8_char(const char *s, size_t n, unsigned *cp)
{
	unsigned char c;
	size_t cl, k;

	*cp = 0;
	if (n == 0)
		return 0;
	c = (unsigned char)s[0];
	cl = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (cl > n || hk_utf8_chars(s, cl) != 1)
		return 0;
	*cp = cl == 1 ? c : cl == 2 ? (c & 0x1fu) : cl == 3 ? (c & 0x0fu) :
	    (c & 0x07u);
	for (k = 1; k < cl; k++)
		*cp = (*cp << 6) | ((unsigned char)s[k] & 0x3fu);
	return cl;
}

/* ---- the values' rules (PROFILE.md), for requests and for lint ---- */

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
hk_basic4_birth_ok(const char *s, time_t now, char *why, size_t len)
{
	/* era starts (CPS; PROFILE.md): 明治 大正 昭和 平成 令和 */
	static const long start[] = { 0, 18680125, 19120730, 19261225,
	    19890108, 20190501 };
	static const char *const era[] = { "unknown", "1 (明治)", "2 (大正)",
	    "3 (昭和)", "4 (平成)", "5 (令和)" };
	struct tm tm;
	time_t jst;
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
	y = (s[1] - '0') * 1000 + (s[2] - '0') * 100 + (s[3] - '0') * 10 +
	    (s[4] - '0');
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
	/* era 0 (unknown) may leave the month and day, or the day, as 00 */
	if (e == 0 && m == 0 && d == 0)
		;
	else if (e == 0 && m >= 1 && m <= 12 && d == 0)
		;
	else if (m < 1 || m > 12 || d < 1 || d > mdays(y, m)) {
		snprintf(why, len, "PROFILE.md: %04d-%02d-%02d is not a "
		    "calendar date%s", y, m, d, d == 0 && e != 0 ?
		    " (day 00 only with era 0)" : "");
		return HK_ERR_INVALID;
	}
	ymd = (long)y * 10000 + m * 100 + d;
	/* today in Japan (UTC+9, no summer time), where the births happen */
	jst = now + JST_OFFSET;
	if (gmtime_r(&jst, &tm) == NULL) {
		snprintf(why, len, "the clock is out of range");
		return HK_ERR_INVALID;
	}
	today = (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday;
	if (ymd > today) {
		snprintf(why, len, "%04d-%02d-%02d is in the future (today is "
		    "%04ld-%02ld-%02ld in Japan)", y, m, d, today / 10000,
		    today / 100 % 100, today % 100);
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

/*
 * Code points that Windows (CP932) or macOS send for a JIS X 0208
 * character which glibc's EUC-JP, the test here, knows under another
 * code point: a clerk typing "－" in an address means JIS X 0208 1-61,
 * U+2212. Refused all the same (the certificate carries what the
 * registry holds, not a guess), with the code point to send instead of
 * the advice to send a substitute.
 */
static const struct {
	unsigned sent, jis;		/* as sent, and as JIS X 0208 */
	const char *name;		/* of the JIS character */
} cp932[] = {
	{ 0xFF0D, 0x2212, "MINUS SIGN" },
	{ 0x2225, 0x2016, "DOUBLE VERTICAL LINE" },
	{ 0xFFE0, 0x00A2, "CENT SIGN" },
	{ 0xFFE1, 0x00A3, "POUND SIGN" },
	{ 0xFFE2, 0x00AC, "NOT SIGN" },
	{ 0x2014, 0x2015, "HORIZONTAL BAR" },
};

/* A combining mark (Unicode's combining blocks and the kana voiced
 * marks U+3099, U+309A): what a decomposed (NFD) text holds after its base
 * character, which the composed (NFC) form carries in one code point. */
static int
combining(unsigned cp)
{
	return (cp >= 0x0300 && cp <= 0x036f) ||
	    (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
	    (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe20 && cp <= 0xfe2f) ||
	    cp == 0x3099 || cp == 0x309a;
}

int
hk_basic4_jis_ok(const char *s, char *why, size_t len)
{
	iconv_t cd;
	size_t n = strlen(s), i = 0;
	int idx = 0, r = 0;

	if ((cd = iconv_open("EUC-JP", "UTF-8")) == (iconv_t)-1) {
		snprintf(why, len, "iconv has no EUC-JP: %s", strerror(errno));
		return HK_ERR_INTERNAL;
	}
	while (i < n && r == 0) {
		char in[4], out[8], *ip = in, *op = out;
		size_t cl, il, ol = sizeof(out), got;
		unsigned cp;

		idx++;
		if ((cl = hk_utf8_char(s + i, n - i, &cp)) == 0) {
			snprintf(why, len, "character %d: not valid UTF-8", idx);
			r = HK_ERR_INVALID;
			break;
		}
		memcpy(in, s + i, cl);
		il = cl;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			size_t k;

			for (k = 0; k < sizeof(cp932) / sizeof(cp932[0]); k++)
				if (cp932[k].sent == cp)
					break;
			if (combining(cp))
				snprintf(why, len, "CPS 3-1-8: character %d "
				    "(U+%04X) is a combining mark: the text is "
				    "decomposed (NFD, as macOS may write it); "
				    "send it composed (NFC: each character with "
				    "its mark as one code point), not a "
				    "substitute", idx, cp);
			else if (k < sizeof(cp932) / sizeof(cp932[0]))
				snprintf(why, len, "CPS 3-1-8: character %d "
				    "(U+%04X) is the Windows/Mac code of JIS X "
				    "0208's %s: send U+%04X (no substitute, "
				    "flag 0)", idx, cp, cp932[k].name,
				    cp932[k].jis);
			else
				snprintf(why, len, "CPS 3-1-8: character %d "
				    "(U+%04X) is in neither JIS X 0208 nor JIS X "
				    "0212: send its substitute with the flag 1",
				    idx, cp);
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
			/* glibc drops the tag characters U+E0000.. (got 0) */
			snprintf(why, len, "CPS 3-1-8: character %d (U+%04X) "
			    "is in neither JIS X 0208 nor JIS X 0212", idx, cp);
			r = HK_ERR_INVALID;
		}
		i += cl;
	}
	iconv_close(cd);
	return r;
}

/* One otherName: type-id oid, value [0] EXPLICIT UTF8String. */
static int
push_other(GENERAL_NAMES *gns, const char *oid, const char *val)
{
	GENERAL_NAME *gn = NULL;
	ASN1_OBJECT *obj = NULL;
	ASN1_TYPE *t = NULL;
	ASN1_UTF8STRING *u = NULL;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (u = ASN1_UTF8STRING_new()) == NULL ||
	    ASN1_STRING_set(u, val, (int)strlen(val)) != 1 ||
	    (t = ASN1_TYPE_new()) == NULL)
		goto fail;
	ASN1_TYPE_set(t, V_ASN1_UTF8STRING, u);
	u = NULL;
	if ((gn = GENERAL_NAME_new()) == NULL ||
	    GENERAL_NAME_set0_othername(gn, obj, t) != 1)
		goto fail;
	obj = NULL;
	t = NULL;
	if (!sk_GENERAL_NAME_push(gns, gn))
		goto fail;
	return 0;
fail:
	ASN1_OBJECT_free(obj);
	ASN1_UTF8STRING_free(u);
	ASN1_TYPE_free(t);
	GENERAL_NAME_free(gn);
	return HK_ERR_ALLOC;
}

int
hk_basic4_encode(const struct hk_basic4 *b, GENERAL_NAMES **out)
{
	const char *v[HK_B4_ITEMS] = { b->name, b->birth, b->gender,
	    b->address, b->name_flags, b->addr_flags };
	GENERAL_NAMES *gns;
	int i, r;

	*out = NULL;
	if ((gns = GENERAL_NAMES_new()) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < HK_B4_ITEMS; i++)
		if ((r = push_other(gns, oids[i], v[i])) != 0) {
			GENERAL_NAMES_free(gns);
			hk_err_set("basic 4: cannot encode %s", items[i]);
			return r;
		}
	*out = gns;
	return 0;
}

int
hk_basic4_add(X509 *x, const struct hk_basic4 *b)
{
	GENERAL_NAMES *gns = NULL;
	int r;

	if ((r = hk_basic4_encode(b, &gns)) != 0)
		return r;
	/* RFC 5280 4.2.1.6: non-critical, the subject is not empty */
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		hk_err_set("basic 4: cannot add the subjectAltName");
		r = HK_ERR_CRYPTO;
	}
	GENERAL_NAMES_free(gns);
	return r;
}

int
hk_basic4_decode(const GENERAL_NAMES *gns, struct hk_basic4 *out)
{
	char *dst[HK_B4_ITEMS];
	size_t cap[HK_B4_ITEMS];
	char oid[64];
	int i, n;

	memset(out, 0, sizeof(*out));
	dst[0] = out->name, cap[0] = sizeof(out->name);
	dst[1] = out->birth, cap[1] = sizeof(out->birth);
	dst[2] = out->gender, cap[2] = sizeof(out->gender);
	dst[3] = out->address, cap[3] = sizeof(out->address);
	dst[4] = out->name_flags, cap[4] = sizeof(out->name_flags);
	dst[5] = out->addr_flags, cap[5] = sizeof(out->addr_flags);
	if ((n = sk_GENERAL_NAME_num(gns)) != HK_B4_ITEMS) {
		hk_err_set("subjectAltName: PROFILE.md: exactly %d otherNames "
		    "(the basic 4 items), found %d names", HK_B4_ITEMS, n);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < HK_B4_ITEMS; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);
		const OTHERNAME *on;
		const ASN1_STRING *s;
		int len;

		if (gn->type != GEN_OTHERNAME) {
			hk_err_set("subjectAltName: name %d: PROFILE.md: must "
			    "be an otherName (%s)", i + 1, items[i]);
			return HK_ERR_INVALID;
		}
		on = gn->d.otherName;
		if (OBJ_obj2txt(oid, sizeof(oid), on->type_id, 1) <= 0 ||
		    strcmp(oid, oids[i]) != 0) {
			hk_err_set("subjectAltName: name %d: PROFILE.md: OID "
			    "must be %s (%s) in this position", i + 1, oids[i],
			    items[i]);
			return HK_ERR_INVALID;
		}
		if (on->value == NULL ||
		    on->value->type != V_ASN1_UTF8STRING) {
			hk_err_set("subjectAltName: %s (%s): PROFILE.md: value "
			    "must be an explicit [0] UTF8String", oids[i],
			    items[i]);
			return HK_ERR_INVALID;
		}
		s = on->value->value.utf8string;
		len = ASN1_STRING_length(s);
		if (len <= 0 || (size_t)len >= cap[i] ||
		    hk_utf8_chars((const char *)ASN1_STRING_get0_data(s),
		    (size_t)len) < 0) {
			hk_err_set("subjectAltName: %s (%s): value must be "
			    "non-empty valid UTF-8 of at most %zu bytes",
			    oids[i], items[i], cap[i] - 1);
			return HK_ERR_INVALID;
		}
		memcpy(dst[i], ASN1_STRING_get0_data(s), (size_t)len);
		dst[i][len] = '\0';
	}
	return 0;
}

int
hk_basic4_from_cert(X509 *x, struct hk_basic4 *out)
{
	X509_EXTENSION *e;
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	unsigned char *re = NULL;
	GENERAL_NAMES *gns = NULL;
	int i, len, rl, r = HK_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	if ((i = X509_get_ext_by_NID(x, NID_subject_alt_name, -1)) < 0 ||
	    X509_get_ext_by_NID(x, NID_subject_alt_name, i) >= 0) {
		hk_err_set("subjectAltName: PROFILE.md: must be present "
		    "exactly once");
		return HK_ERR_INVALID;
	}
	e = X509_get_ext(x, i);
	v = X509_EXTENSION_get_data(e);
	p = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	if ((gns = d2i_GENERAL_NAMES(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(v) + len) {
		hk_err_set("subjectAltName: does not decode or has trailing "
		    "bytes");
		goto out;
	}
	/* DER: the re-encoding must be the bytes received */
	if ((rl = i2d_GENERAL_NAMES(gns, &re)) != len ||
	    memcmp(re, ASN1_STRING_get0_data(v), (size_t)len) != 0) {
		hk_err_set("subjectAltName: X.690 10: not DER");
		goto out;
	}
	r = hk_basic4_decode(gns, out);
out:
	ERR_clear_error();
	OPENSSL_free(re);
	GENERAL_NAMES_free(gns);
	return r;
}
