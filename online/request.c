/*
 * request.c - residents' certificate requests, one CSV line each
 * (docs/requests.md): split, then every field against its rule, the first
 * broken rule named as "<file>:<line>: <field>: <rule>".
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "err.h"
#include "hex.h"
#include "request.h"

#define NFIELDS		9
#define KEY_FILE_MAX	(64 * 1024)	/* bytes of a key file */
#define KEY_PATH_MAX	255		/* bytes of the key field */
#define IDEO_SPACE	"\xe3\x80\x80"	/* U+3000, the name separator */

/* SubjectPublicKeyInfo (RFC 5280 4.1.2.7) as plain ASN.1: read without
 * OpenSSL 3.0's decoders (spki_rsa) */
typedef struct {
	X509_ALGOR *alg;		/* algorithm */
	ASN1_BIT_STRING *key;		/* subjectPublicKey */
} HK_SPKI;

ASN1_SEQUENCE(HK_SPKI) = {
	ASN1_SIMPLE(HK_SPKI, alg, X509_ALGOR),
	ASN1_SIMPLE(HK_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(HK_SPKI)

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
	size_t hl = strlen(HK_REQ_HEADER);
	int bom = strncmp(line, "\xef\xbb\xbf", 3) == 0, cr;
	const char *h = line + (bom ? 3 : 0);

	if (strcmp(line, HK_REQ_HEADER) == 0)
		return 0;
	/* hk_batch_file_read takes one BOM and each line's CR LF away (what
	 * Excel's "CSV UTF-8" writes); what is left of them here is one too
	 * many, named as such: the header itself looks right on the screen */
	cr = strncmp(h, HK_REQ_HEADER, hl) == 0 && strcmp(h + hl, "\r") == 0;
	if (bom && (cr || strcmp(h, HK_REQ_HEADER) == 0)) {
		hk_err_set("%s:1: header: docs/requests.md: a byte-order mark "
		    "(U+FEFF) before the header%s: one at the start of the "
		    "file is all there may be", c->input, cr ? ", and a CR "
		    "(0x0d) after it" : "");
		return HK_ERR_PARSE;
	}
	if (cr) {
		hk_err_set("%s:1: header: docs/requests.md: a CR (0x0d) at the "
		    "end of the header: a line ends in LF or CR LF, not in a "
		    "CR more", c->input);
		return HK_ERR_PARSE;
	}
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

/* The line as a whole: no control character, no quote, valid UTF-8. */
static int
check_line(const struct hk_request_ctx *c, size_t ln, const char *line)
{
	size_t i, n = strlen(line), cl;
	unsigned cp;

	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return refuse(c, ln, "line", "docs/requests.md: "
			    "control character 0x%02x at byte %zu",
			    (unsigned char)line[i], i + 1);
		else if (line[i] == '"')
			return refuse(c, ln, "line", "docs/requests.md: no "
			    "quoting: '\"' is not allowed");
	for (i = 0; i < n; i += cl) {
		if ((cl = hk_utf8_char(line + i, n - i, &cp)) == 0)
			return refuse(c, ln, "line", "docs/requests.md: not "
			    "valid UTF-8 at byte %zu (0x%02x)", i + 1,
			    (unsigned char)line[i]);
		if (cp >= 0x80 && cp <= 0x9f)
			return refuse(c, ln, "line", "docs/requests.md: "
			    "control character U+%04X at byte %zu", cp, i + 1);
	}
	return 0;
}

/* A full-width digit (U+FF10-U+FF19) in a field of ASCII digits. */
static int
fullwidth_digit(const struct hk_request_ctx *c, size_t ln, const char *field,
    const char *s)
{
	size_t i = 0, n = strlen(s), cl;
	unsigned cp;
	int idx = 0;

	for (; i < n; i += cl) {
		idx++;
		if ((cl = hk_utf8_char(s + i, n - i, &cp)) == 0)
			return 0;	/* check_line refused it already */
		if (cp >= 0xff10 && cp <= 0xff19)
			return refuse(c, ln, field, "docs/requests.md: "
			    "character %d (U+%04X) is a full-width digit: "
			    "write the digits half-width (ASCII 0-9)", idx,
			    cp);
	}
	return 0;
}

/* Split line at ',' into exactly NFIELDS fields (in place). */
static int
split(const struct hk_request_ctx *c, size_t ln, char *line,
    char *f[NFIELDS])
{
	int n = 0;
	char *p = line, *q;
	size_t len;

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
	for (n = 0; n < NFIELDS; n++) {
		if ((len = strlen(f[n])) == 0)
			return refuse(c, ln, fields[n], "docs/requests.md: "
			    "must not be empty");
		if (f[n][0] == ' ' || f[n][len - 1] == ' ')
			return refuse(c, ln, fields[n], "docs/requests.md: no "
			    "blanks around the field");
	}
	/* the fields of digits: what a Japanese keyboard or spreadsheet
	 * types as 全角 looks right on the screen, so it is named */
	for (n = 0; n < NFIELDS; n++)
		if (n != 2 && n != 6 && n != 8 &&
		    fullwidth_digit(c, ln, fields[n], f[n]) != 0)
			return HK_ERR_INVALID;
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
		return refuse(c, ln, field, "docs/requests.md: not valid "
		    "UTF-8");
	if (n > maxchars)
		return refuse(c, ln, field, "PROFILE.md: %d characters, at most "
		    "%d", n, maxchars);
	if ((r = hk_basic4_jis_ok(s, why, sizeof(why))) != 0) {
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
	/* a merged municipality's row stays for its CRL, but its office
	 * no longer takes applications: the resident applies at the
	 * municipality of their address today (住所地市町村) */
	if (!hk_muni_issuing(m, c->now))
		return refuse(c, ln, "municipality", "CPS 4-1-1, 4-2-1: %s "
		    "(%s) is retired since %s (municipalities.csv: retired): "
		    "no certificate is issued under it; the request comes from "
		    "the municipality of the resident's address today, under "
		    "its code", code, m->kanji, m->retired_day);
	out->muni = m;
	return 0;
}

static int
check_resident_id(const struct hk_request_ctx *c, size_t ln, const char *s)
{
	size_t i;

	if (strlen(s) != HK_REQ_ID_LEN)
		return refuse(c, ln, "resident_id", "CPS 3-1: the resident "
		    "record code (住民票コード) must be %d digits",
		    HK_REQ_ID_LEN);
	for (i = 0; i < HK_REQ_ID_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return refuse(c, ln, "resident_id", "CPS 3-1: the "
			    "resident record code must be %d digits",
			    HK_REQ_ID_LEN);
	return 0;
}

static int
check_name(const struct hk_request_ctx *c, size_t ln, const char *s)
{
	size_t n = strlen(s);
	int r;

	if ((r = check_text(c, ln, "name", s, HK_B4_NAME_CHARS)) != 0)
		return r;
	if (strncmp(s, IDEO_SPACE, 3) == 0 ||
	    (n >= 3 && strcmp(s + n - 3, IDEO_SPACE) == 0))
		return refuse(c, ln, "name", "PROFILE.md: must not begin or end "
		    "with the separator U+3000");
	if (strstr(s, IDEO_SPACE IDEO_SPACE) != NULL)
		return refuse(c, ln, "name", "PROFILE.md: one U+3000 between "
		    "family and given name, not two");
	return 0;
}

static int
check_gender(const struct hk_request_ctx *c, size_t ln, const char *s)
{
	if (strcmp(s, "1") != 0 && strcmp(s, "2") != 0 && strcmp(s, "3") != 0)
		return refuse(c, ln, "gender", "PROFILE.md: must be 1 (male), "
		    "2 (female) or 3 (unknown)");
	return 0;
}

static int
check_address(const struct hk_request_ctx *c, size_t ln, const char *s,
    const struct hk_muni *m)
{
	size_t pl = strlen(HK_REQ_PREFECTURE), kl = strlen(m->kanji);
	size_t dl = strlen(m->district), n = strlen(s);
	int r;

	if ((r = check_text(c, ln, "address", s, HK_B4_ADDR_CHARS)) != 0)
		return r;
	if (strncmp(s, HK_REQ_PREFECTURE, pl) != 0)
		return refuse(c, ln, "address", "PROFILE.md: must begin with "
		    "the prefecture %s", HK_REQ_PREFECTURE);
	/* a town or village: its district (郡) may come first, as the
	 * resident register writes it; no other */
	if (dl > 0 && strncmp(s + pl, m->district, dl) == 0)
		pl += dl;
	if (strncmp(s + pl, m->kanji, kl) != 0) {
		if (dl > 0)
			return refuse(c, ln, "address", "must continue with "
			    "the municipality's name %s or its district and "
			    "name %s%s (code %s)", m->kanji, m->district,
			    m->kanji, m->code);
		return refuse(c, ln, "address", "must continue with the "
		    "municipality's name %s (code %s)", m->kanji, m->code);
	}
	if (s[pl + kl] == '\0')
		return refuse(c, ln, "address", "PROFILE.md: the full address, "
		    "not only the municipality");
	if (strcmp(s + n - 3, IDEO_SPACE) == 0)
		return refuse(c, ln, "address", "docs/requests.md: no blanks "
		    "around the field (U+3000 at the end)");
	return 0;
}

/*
 * The key field: a path relative to the batch file's folder, inside it
 * (no "..", not absolute), of plain characters, naming a regular file (no
 * link, folder, FIFO or device: reading one could block or never end).
 */
static int
key_path(const struct hk_request_ctx *c, size_t ln, const char *rel,
    char *path, size_t size)
{
	struct stat st;
	size_t i, n = strlen(rel);
	int w;

	if (rel[0] == '/')
		return refuse(c, ln, "key", "docs/requests.md: an absolute "
		    "path: the key file must be named relative to the batch "
		    "file's folder");
	if (strstr(rel, "..") != NULL)
		return refuse(c, ln, "key", "docs/requests.md: the path must "
		    "not contain \"..\"");
	if (n > KEY_PATH_MAX)
		return refuse(c, ln, "key", "docs/requests.md: the path has "
		    "%zu bytes, at most %d", n, KEY_PATH_MAX);
	for (i = 0; i < n; i++)
		if (!((rel[i] >= 'A' && rel[i] <= 'Z') ||
		    (rel[i] >= 'a' && rel[i] <= 'z') ||
		    (rel[i] >= '0' && rel[i] <= '9') ||
		    strchr("._-/", rel[i]) != NULL))
			return refuse(c, ln, "key", "docs/requests.md: the "
			    "path may hold only ASCII letters, digits, '.', "
			    "'_', '-' and '/' (byte %zu)", i + 1);
	w = snprintf(path, size, "%s/%s", c->basedir, rel);
	if (w < 0 || (size_t)w >= size)
		return refuse(c, ln, "key", "%s: the path is too long", rel);
	if (lstat(path, &st) != 0)
		return refuse(c, ln, "key", "%s: cannot be read (%s)", rel,
		    errno == ENOENT ? "no such file" : strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(c, ln, "key", "%s: cannot be read (not a regular "
		    "file: no links, folders or devices)", rel);
	return 0;
}

/* Name of a PEM block for a message: itself when plain, else "?". */
static const char *
pem_label(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 40)
		return "?";
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == ' '))
			return "?";
	return name;
}

/* The public key's type, size and RSA numbers (profile; FIPS 186-4). */
static int
check_pubkey(const struct hk_request_ctx *c, size_t ln, EVP_PKEY *pk)
{
	BIGNUM *e = NULL, *n = NULL;
	int bits, r;

	if (!EVP_PKEY_is_a(pk, "RSA"))
		return refuse(c, ln, "key", "CPS 6-1-2-3 / PROFILE.md: must be "
		    "an RSA key (rsaEncryption, %s), not %s",
		    hk_key_alg_name(c->p->user_key),
		    EVP_PKEY_get0_type_name(pk) != NULL ?
		    EVP_PKEY_get0_type_name(pk) : "?");
	bits = EVP_PKEY_get_bits(pk);
	if (!hk_key_alg_matches(pk, c->p->user_key) &&
	    !(c->p->user_allow_rsa1024 && bits == 1024))
		return refuse(c, ln, "key", "CPS 6-1-2-3 / PROFILE.md: RSA-%d; "
		    "must be %s%s", bits, hk_key_alg_name(c->p->user_key),
		    c->p->user_allow_rsa1024 ? " or legacy RSA-1024" :
		    " (the profile does not allow legacy RSA-1024)");
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1)
		r = refuse(c, ln, "key", "the RSA key's numbers cannot be "
		    "read");
	else if (!BN_is_odd(e) || BN_num_bits(e) < 17 || BN_num_bits(e) > 256)
		r = refuse(c, ln, "key", "FIPS 186-4 B.3.1: the RSA public "
		    "exponent must be odd, above 2^16 and below 2^256 "
		    "(65537)");
	else if (!BN_is_odd(n))
		r = refuse(c, ln, "key", "FIPS 186-4 B.3.1: the RSA modulus "
		    "must be odd");
	else
		r = 0;
	BN_free(e);
	BN_free(n);
	return r;
}

/* The PKCS#10 request in der: v1, allowed algorithm, signature good. */
static int
decode_req(const struct hk_request_ctx *c, size_t ln, const char *rel,
    const unsigned char *der, long dlen, EVP_PKEY **out)
{
	const unsigned char *p = der;
	const X509_ALGOR *alg = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	unsigned char *re = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pk = NULL;
	int r = HK_ERR_INVALID, nid, rl;

	if ((req = d2i_X509_REQ(NULL, &p, dlen)) == NULL) {
		r = refuse(c, ln, "key", "%s: RFC 2986: the PKCS#10 request "
		    "does not parse", rel);
		goto out;
	}
	if (p != der + dlen) {
		r = refuse(c, ln, "key", "%s: RFC 2986: trailing bytes after "
		    "the request's DER", rel);
		goto out;
	}
	if ((rl = i2d_X509_REQ(req, &re)) != dlen ||
	    memcmp(re, der, (size_t)dlen) != 0) {
		r = refuse(c, ln, "key", "%s: RFC 2986: the request is not "
		    "DER-encoded (X.690)", rel);
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		r = refuse(c, ln, "key", "%s: RFC 2986 4.1: the request's "
		    "version must be 0 (v1)", rel);
		goto out;
	}
	if ((pk = X509_REQ_get_pubkey(req)) == NULL) {
		r = refuse(c, ln, "key", "%s: RFC 2986: the request's public "
		    "key does not parse", rel);
		goto out;
	}
	if ((r = check_pubkey(c, ln, pk)) != 0)
		goto out;
	X509_REQ_get0_signature(req, &sig, &alg);
	nid = OBJ_obj2nid(alg->algorithm);
	if (nid != NID_sha256WithRSAEncryption &&
	    nid != NID_sha384WithRSAEncryption &&
	    nid != NID_sha512WithRSAEncryption) {
		r = refuse(c, ln, "key", "%s: the request's signature "
		    "algorithm %s is not allowed (sha256, sha384 or "
		    "sha512WithRSAEncryption)", rel, nid == NID_undef ?
		    "(unknown)" : OBJ_nid2sn(nid));
		goto out;
	}
	/* X509_REQ_verify: 1 good, 0 bad, -1 error: compare with 1 */
	if (X509_REQ_verify(req, pk) != 1) {
		r = refuse(c, ln, "key", "%s: RFC 2986 3: the request's "
		    "signature does not verify (no proof of possession)", rel);
		goto out;
	}
	*out = pk;
	pk = NULL;
	r = 0;
out:
	OPENSSL_free(re);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return r;
}

/*
 * The common case of decode_spki: an rsaEncryption key whose DER is
 * exactly what OpenSSL encodes for it, as a key of OpenSSL's built-in RSA
 * type; NULL for anything else (decode_spki then decides, with its
 * refusals). d2i_PUBKEY goes through an OSSL_DECODER and i2d_PUBKEY of its
 * provider key through an OSSL_ENCODER, each a fetch under OpenSSL's global
 * locks (about 0.2 ms a key); the built-in type encodes directly, and
 * byte-for-byte equality with the input is the same DER rule.
 */
static EVP_PKEY *
spki_rsa(const unsigned char *der, long dlen)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	HK_SPKI *s = NULL;
	EVP_PKEY *pk = NULL;
	int rl;

	if ((s = (HK_SPKI *)ASN1_item_d2i(NULL, &p, dlen,
	    ASN1_ITEM_rptr(HK_SPKI))) == NULL || p != der + dlen ||
	    OBJ_obj2nid(s->alg->algorithm) != NID_rsaEncryption)
		goto out;
	p = ASN1_STRING_get0_data(s->key);
	if ((pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p,
	    ASN1_STRING_length(s->key))) == NULL)
		goto out;
	if ((rl = i2d_PUBKEY(pk, &re)) != dlen ||
	    memcmp(re, der, (size_t)dlen) != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
out:
	OPENSSL_free(re);
	ASN1_item_free((ASN1_VALUE *)s, ASN1_ITEM_rptr(HK_SPKI));
	ERR_clear_error();
	return pk;
}

/* The SubjectPublicKeyInfo in der: DER, nothing after it. */
static int
decode_spki(const struct hk_request_ctx *c, size_t ln, const char *rel,
    const unsigned char *der, long dlen, EVP_PKEY **out)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	EVP_PKEY *pk = NULL;
	int r = HK_ERR_INVALID, rl;

	if ((pk = spki_rsa(der, dlen)) != NULL)
		goto check;
	if ((pk = d2i_PUBKEY(NULL, &p, dlen)) == NULL) {
		r = refuse(c, ln, "key", "%s: RFC 5280 4.1.2.7: the "
		    "SubjectPublicKeyInfo does not parse", rel);
		goto out;
	}
	if (p != der + dlen) {
		r = refuse(c, ln, "key", "%s: RFC 5280 4.1.2.7: trailing "
		    "bytes after the SubjectPublicKeyInfo's DER", rel);
		goto out;
	}
	if ((rl = i2d_PUBKEY(pk, &re)) != dlen ||
	    memcmp(re, der, (size_t)dlen) != 0) {
		r = refuse(c, ln, "key", "%s: RFC 5280 4.1.2.7: the "
		    "SubjectPublicKeyInfo is not DER-encoded (X.690)", rel);
		goto out;
	}
check:
	if ((r = check_pubkey(c, ln, pk)) != 0)
		goto out;
	*out = pk;
	pk = NULL;
	r = 0;
out:
	OPENSSL_free(re);
	EVP_PKEY_free(pk);
	return r;
}

/*
 * The key file: exactly one PEM block (RFC 7468), first in the file,
 * without headers, "PUBLIC KEY" (SPKI) or "CERTIFICATE REQUEST" (PKCS#10,
 * signature checked), then only white space.
 */
static int
read_key(const struct hk_request_ctx *c, size_t ln, const char *rel,
    EVP_PKEY **out)
{
	char path[4096], rest[64], *name = NULL, *header = NULL;
	unsigned char *buf = NULL, *der = NULL;
	size_t len = 0;
	long dlen = 0;
	BIO *b = NULL;
	int r, n, i, isreq;

	*out = NULL;
	if ((r = key_path(c, ln, rel, path, sizeof(path))) != 0)
		return r;
	if (hk_file_read(path, KEY_FILE_MAX, &buf, &len) != 0)
		return refuse(c, ln, "key", "%s: cannot be read (at most %d "
		    "bytes)", rel, KEY_FILE_MAX);
	r = HK_ERR_INVALID;
	if (len < 11 || memcmp(buf, "-----BEGIN ", 11) != 0) {
		r = refuse(c, ln, "key", "%s: RFC 7468: the file must begin "
		    "with a PEM \"-----BEGIN PUBLIC KEY-----\" or "
		    "\"-----BEGIN CERTIFICATE REQUEST-----\" line", rel);
		goto out;
	}
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	/* reads no pass phrase, unlike PEM_read_bio_PUBKEY on "Proc-Type" */
	if (PEM_read_bio_ex(b, &name, &header, &der, &dlen,
	    PEM_FLAG_EAY_COMPATIBLE) != 1) {
		r = refuse(c, ln, "key", "%s: RFC 7468: not a well-formed PEM "
		    "block (base64, END line)", rel);
		goto out;
	}
	if (strstr(name, "PRIVATE KEY") != NULL) {
		r = refuse(c, ln, "key", "%s: a private key (%s): send the "
		    "PUBLIC KEY or a CERTIFICATE REQUEST, never the private "
		    "key", rel, pem_label(name));
		goto out;
	}
	isreq = strcmp(name, "CERTIFICATE REQUEST") == 0;
	if (!isreq && strcmp(name, "PUBLIC KEY") != 0) {
		r = refuse(c, ln, "key", "%s: a PEM \"%s\" block: must be "
		    "PUBLIC KEY (SPKI) or CERTIFICATE REQUEST (PKCS#10)", rel,
		    pem_label(name));
		goto out;
	}
	if (header[0] != '\0') {
		r = refuse(c, ln, "key", "%s: RFC 7468: PEM headers "
		    "(Proc-Type, DEK-Info) are not allowed", rel);
		goto out;
	}
	while ((n = BIO_read(b, rest, sizeof(rest))) > 0)
		for (i = 0; i < n; i++)
			if (rest[i] != '\n' && rest[i] != '\r' &&
			    rest[i] != ' ' && rest[i] != '\t') {
				r = refuse(c, ln, "key", "%s: trailing data "
				    "after the PEM block (one block only)",
				    rel);
				goto out;
			}
	if (isreq)
		r = decode_req(c, ln, rel, der, dlen, out);
	else
		r = decode_spki(c, ln, rel, der, dlen, out);
out:
	ERR_clear_error();
	BIO_free(b);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	free(buf);
	return r;
}

int
hk_request_parse_bytes(const struct hk_request_ctx *c, size_t ln,
    const char *line, size_t len, struct hk_request *out)
{
	char buf[HK_REQ_LINE_MAX], why[512], *f[NFIELDS];
	const char *nul;
	struct hk_basic4 *b = &out->b4;
	int r;

	memset(out, 0, sizeof(*out));
	out->line = ln;
	if ((nul = memchr(line, '\0', len)) != NULL)
		return refuse(c, ln, "line", "docs/requests.md: control "
		    "character 0x00 at byte %zu", (size_t)(nul - line) + 1);
	if (len >= sizeof(buf))
		return refuse(c, ln, "line", "docs/requests.md: longer than "
		    "%d bytes", HK_REQ_LINE_MAX - 1);
	memcpy(buf, line, len);
	buf[len] = '\0';
	if ((r = check_line(c, ln, buf)) != 0 ||
	    (r = split(c, ln, buf, f)) != 0 ||
	    (r = check_muni(c, ln, f[0], out)) != 0 ||
	    (r = check_resident_id(c, ln, f[1])) != 0)
		goto out;
	memcpy(out->resident_id, f[1], HK_REQ_ID_LEN + 1);
	if ((r = check_name(c, ln, f[2])) != 0 ||
	    (r = check_flags(c, ln, "name_flags", f[3], f[2], "name")) != 0)
		goto out;
	if ((r = hk_basic4_birth_ok(f[4], c->now, why, sizeof(why))) != 0) {
		refuse(c, ln, "birth", "%s", why);
		goto out;
	}
	if ((r = check_gender(c, ln, f[5])) != 0 ||
	    (r = check_address(c, ln, f[6], out->muni)) != 0 ||
	    (r = check_flags(c, ln, "address_flags", f[7], f[6],
	    "address")) != 0 ||
	    (r = read_key(c, ln, f[8], &out->key)) != 0)
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

int
hk_request_parse(const struct hk_request_ctx *c, size_t ln, const char *line,
    struct hk_request *out)
{
	return hk_request_parse_bytes(c, ln, line, strlen(line), out);
}

static void utf8_scan(struct hk_batch_file *);

int
hk_batch_file_read(const char *path, size_t max, struct hk_batch_file *b,
    struct hk_request_ctx *c)
{
	unsigned char h[32];
	const unsigned char *nul;
	char *slash;
	size_t i, n;
	int r, open_end;

	memset(b, 0, sizeof(*b));
	if ((r = hk_file_read(path, max, &b->content, &b->len)) != 0) {
		if (r == HK_ERR_NOT_FOUND)
			hk_err_set("%s: cannot open the batch", path);
		return r;
	}
	SHA256(b->content, b->len, h);
	hk_hex_encode(h, 32, b->sha);
	utf8_scan(b);
	for (i = 0, n = 0; i < b->len; i++)
		n += b->content[i] == '\n';
	open_end = b->len > 0 && b->content[b->len - 1] != '\n';
	n += (size_t)open_end;
	if (n == 0) {
		hk_err_set("%s: empty batch (no header)", path);
		return HK_ERR_PARSE;
	}
	if ((b->lines = calloc(n, sizeof(*b->lines))) == NULL ||
	    (b->lens = calloc(n, sizeof(*b->lens))) == NULL)
		return HK_ERR_ALLOC;
	/* What Excel's "CSV UTF-8" writes, taken as it is: a byte-order mark
	 * at the start of the file and CR LF line ends. The BOM is no part of
	 * the header, and a line's one CR before its LF (or before the end of
	 * the file) no part of its last field; any other CR is the line's
	 * refusal (docs/requests.md). The file's SHA-256 is of its bytes as
	 * read. */
	b->lines[b->nlines++] = b->len >= 3 && memcmp(b->content,
	    "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	for (i = 0; i < b->len; i++)
		if (b->content[i] == '\n') {
			b->content[i] = '\0';
			b->lens[b->nlines - 1] = i - b->lines[b->nlines - 1];
			if (i + 1 < b->len)
				b->lines[b->nlines++] = i + 1;
		}
	if (open_end)	/* the last line has no newline */
		b->lens[b->nlines - 1] = b->len - b->lines[b->nlines - 1];
	for (i = 0; i < b->nlines; i++)
		if (b->lens[i] > 0 &&
		    b->content[b->lines[i] + b->lens[i] - 1] == '\r')
			b->content[b->lines[i] + --b->lens[i]] = '\0';
	snprintf(b->basedir, sizeof(b->basedir), "%s", path);
	if ((slash = strrchr(b->basedir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(b->basedir, sizeof(b->basedir), ".");
	c->input = path;
	c->basedir = b->basedir;
	if ((nul = memchr(b->content + b->lines[0], '\0', b->lens[0])) !=
	    NULL) {
		hk_err_set("%s:1: header: docs/requests.md: control character "
		    "0x00 at byte %zu", path, (size_t)(nul - b->content -
		    b->lines[0]) + 1);
		return HK_ERR_PARSE;
	}
	if ((r = hk_request_header(c, (const char *)b->content +
	    b->lines[0])) != 0 &&
	    b->bad_line != 0) {
		/* a CP932 file with another header: both at once, not one
		 * per run */
		char first[1024];

		snprintf(first, sizeof(first), "%s", hk_err_msg());
		hk_batch_file_utf8(b, path);
		hk_err_set("%s; and %s", first, hk_err_msg());
	}
	return r;
}

/*
 * Whether the file as a whole is in another encoding (Shift_JIS, as
 * Japanese Excel saves CSV): the first byte that is not UTF-8 (the rule of
 * check_line, over the whole file, before its LFs are cut; a NUL byte is
 * left to its line's refusal, docs/requests.md), kept only when no line
 * holds a character beyond ASCII that is UTF-8. A UTF-8 file with one
 * damaged line is not such a file: that line is refused, the rest issued
 * (a bad line never stops or spoils the rest).
 */
static void
utf8_scan(struct hk_batch_file *b)
{
	size_t i, cl, ln = 1, start = 0;
	int line_bad = 0, line_mb = 0, utf8_lines = 0;
	unsigned cp;

	b->bad_line = 0;
	for (i = 0; i <= b->len; i += cl) {
		if (i == b->len || b->content[i] == '\n') {
			/* the end of a line */
			if (line_mb && !line_bad)
				utf8_lines++;
			line_bad = line_mb = 0;
			ln++;
			start = i + 1;
			cl = 1;
			continue;
		}
		if (b->content[i] == '\0') {
			cl = 1;		/* a NUL is the line's refusal */
			continue;
		}
		if ((cl = hk_utf8_char((const char *)b->content + i,
		    b->len - i, &cp)) == 0) {
			if (b->bad_line == 0) {
				b->bad_line = ln;
				b->bad_byte = i - start + 1;
				b->bad_val = b->content[i];
			}
			line_bad = 1;
			cl = 1;
			continue;
		}
		if (cl > 1)
			line_mb = 1;
	}
	if (utf8_lines > 0)
		b->bad_line = 0;	/* UTF-8, with bad lines of its own */
}

int
hk_batch_file_utf8(const struct hk_batch_file *b, const char *path)
{
	if (b->bad_line == 0)
		return 0;
	hk_err_set("%s:%zu: line: docs/requests.md: not valid UTF-8 at byte "
	    "%zu (0x%02x): the batch file is not UTF-8 (Shift_JIS, as "
	    "Excel's \"CSV (カンマ区切り)\" saves it, or another encoding), "
	    "nothing is issued: save it as UTF-8 (Excel: \"CSV UTF-8\") and "
	    "run it again", path,
	    b->bad_line, b->bad_byte, b->bad_val);
	return HK_ERR_PARSE;
}

void
hk_batch_file_free(struct hk_batch_file *b)
{
	if (b->content != NULL)
		OPENSSL_cleanse(b->content, b->len);
	free(b->content);
	free(b->lines);
	free(b->lens);
	memset(b, 0, sizeof(*b));
}
