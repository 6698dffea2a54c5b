/*
 * audit.c - the tamper-evident audit log (CPS 4-11-2, 4-11-5).
 *
 * Format, hash and signature inputs: docs/audit-log.md. In short, each line
 * is eight tab-separated fields
 *
 *	seq  time  event  result  actors  details  prev  hash
 *
 * where hash = SHA-256 over a length-prefixed encoding of the first six
 * fields (details unescaped) and prev; prev is the hash of the line before
 * (all zero for the genesis record). Checkpoint records carry a signature
 * over (log id, seq and hash of the record before, checkpoint time). The
 * head file "<log>.head" names the last record, so truncation shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fnmatch.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "be.h"
#include "clock.h"
#include "err.h"
#include "hex.h"

#define FORMAT_NAME	"hanko-audit-1"
#define TAG_RECORD	"hanko-audit-record-1"
#define TAG_CHECKPOINT	"hanko-audit-checkpoint-1"
#define HEAD_MAGIC	"hanko-audit-head-1"
#define GENESIS_PREFIX	"format=" FORMAT_NAME " log-id="
#define CLOSE_PREFIX	"log-id="
#define NEXT_SUFFIX	".next"		/* the new log a close builds */
#define CLOSED_DIR	"closed"	/* beside the log: the closed logs */
#define CLOSED_MODE	0400
#define LOG_ID_LEN	16
#define SEQ_DIGITS_MAX	18
#define EVENT_MAX	64
#define RESULT_MAX	32
#define LABEL_MAX	64
#define SIG_MAX		1024	/* bytes of a signature (RSA-8192) */
#define LOG_MODE	0600

struct rec {
	uint64_t seq;				/* sequence number */
	char seqs[SEQ_DIGITS_MAX + 1];		/* the same, as written */
	char time[21];				/* RFC 3339 UTC, 20 chars */
	time_t t;				/* the same, parsed */
	char event[EVENT_MAX + 1];		/* e.g. "share.open" */
	char result[RESULT_MAX + 1];		/* e.g. "ok" */
	char actors[HK_AUDIT_ACTORS_MAX + 1];	/* "-" or ids joined by ',' */
	unsigned char details[HK_AUDIT_DETAILS_MAX];	/* unescaped bytes */
	size_t dlen;				/* bytes in details */
	unsigned char prev[32];			/* hash of the record before */
	unsigned char hash[32];			/* hash of this record */
};

struct head {
	char log_id[2 * LOG_ID_LEN + 1];	/* hex log id */
	uint64_t seq;				/* seq of the last record */
	unsigned char hash[32];			/* its hash */
};

static const unsigned char zero_hash[32];

/* ---- field syntax --------------------------------------------------- */

static int
is_lower_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int
is_alnum(int c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9][a-z0-9._-]{0,63} */
static int
ok_event(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > EVENT_MAX || !is_lower_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* [a-z][a-z0-9_-]{0,31} */
static int
ok_result(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > RESULT_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-')
			return 0;
	return 1;
}

/* "-" or id(,id)* with id = [A-Za-z0-9][A-Za-z0-9._@-]{0,63} */
static int
ok_actors(const char *s, size_t n)
{
	size_t i, idlen = 0;

	if (n == 1 && s[0] == '-')
		return 1;
	if (n == 0 || n > HK_AUDIT_ACTORS_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == ',') {
			if (idlen == 0)
				return 0;
			idlen = 0;
			continue;
		}
		if (idlen == 0 ? !is_alnum(c) : !(is_alnum(c) || c == '.' ||
		    c == '_' || c == '@' || c == '-'))
			return 0;
		if (++idlen > 64)
			return 0;
	}
	return idlen > 0;
}

int
hk_audit_actors_ok(const char *actors)
{
	return actors != NULL && ok_actors(actors, strlen(actors));
}

/* [A-Za-z0-9._:@-]{1,64} */
static int
ok_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != ':' && s[i] != '@' && s[i] != '-')
			return 0;
	return 1;
}

/* "0" or [1-9][0-9]{0,17} */
static int
parse_seq(const char *s, size_t n, uint64_t *out)
{
	return hk_dec_parse(s, n, SEQ_DIGITS_MAX, out);
}

/* ---- details escaping ----------------------------------------------- */

/* Length of the valid, shortest-form UTF-8 sequence at p (0 if none). */
static size_t
utf8_len(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0];
	size_t len, i;
	uint32_t v, min;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; v = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; v = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; v = c & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* Code points that could break or disguise a line on a terminal. */
static int
cp_needs_escape(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	    cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xfeff;
}

/* The events of a note (docs/audit-log.md "Notes"). */
static const char *const note_events[] = {
	HK_AUDIT_NOTE_EVENTS, NULL
};

int
hk_audit_note_check(const char *event, const char *actors, const char *text)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t i, n, len;
	uint32_t cp;

	for (i = 0; note_events[i] != NULL; i++)
		if (strcmp(event, note_events[i]) == 0)
			break;
	if (note_events[i] == NULL) {
		hk_err_set("--event %s: not a note's event; one of "
		    HK_AUDIT_NOTE_EVENTS_TEXT " (docs/audit-log.md \"Notes\")",
		    event);
		return HK_ERR_USAGE;
	}
	if (strcmp(actors, "-") == 0 || !hk_audit_actors_ok(actors)) {
		hk_err_set("--actors %s: must be at least one id "
		    "[A-Za-z0-9][A-Za-z0-9._@-]{0,63}, joined by ',' (at most "
		    "%d bytes): the people the note is of", actors,
		    HK_AUDIT_ACTORS_MAX);
		return HK_ERR_USAGE;
	}
	len = strlen(text);
	if (len == 0 || len > HK_AUDIT_NOTE_MAX) {
		hk_err_set("--text: %zu bytes: a note is 1 to %d bytes of "
		    "UTF-8", len, HK_AUDIT_NOTE_MAX);
		return HK_ERR_USAGE;
	}
	for (i = 0; i < len; i += n) {
		n = 1;
		if (t[i] < 0x20 || t[i] == 0x7f) {
			hk_err_set("--text: byte %zu (0x%02x): a control "
			    "character; a note is one line of UTF-8 text", i + 1,
			    t[i]);
			return HK_ERR_USAGE;
		}
		if (t[i] >= 0x80 && ((n = utf8_len(t + i, len - i, &cp)) == 0 ||
		    cp_needs_escape(cp))) {
			hk_err_set("--text: byte %zu (0x%02x): %s; a note is one "
			    "line of UTF-8 text", i + 1, t[i], n == 0 ?
			    "not valid UTF-8" : "a control or direction "
			    "character");
			return HK_ERR_USAGE;
		}
	}
	return 0;
}

/*
 * Escape details: '\\' '\t' '\n' '\r' as \\ \t \n \r; other C0 controls,
 * DEL, bytes that are not valid UTF-8 and the code points above as \xHH per
 * byte; everything else raw. out holds 4 * len + 1 bytes. Returns the length.
 */
static size_t
details_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i = 0, o = 0, k, n;
	uint32_t cp;

	while (i < len) {
		unsigned char c = in[i];
		if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\\' ? '\\' : c == '\t' ? 't' :
			    c == '\n' ? 'n' : 'r';
			i++;
			continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		n = c >= 0x80 ? utf8_len(in + i, len - i, &cp) : 0;
		if (n > 0 && !cp_needs_escape(cp)) {
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
			continue;
		}
		if (n == 0)
			n = 1;
		for (k = 0; k < n; k++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[in[i + k] >> 4];
			out[o++] = hx[in[i + k] & 0xf];
		}
		i += n;
	}
	out[o] = '\0';
	return o;
}

size_t
hk_audit_escape(const void *in, size_t len, char *out)
{
	return details_encode(in, len, out);
}

static int
hexdig(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Unescape a details field into out (at most HK_AUDIT_DETAILS_MAX bytes)
 * and insist that it was escaped canonically (re-encoding gives it back).
 */
static int
details_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	char *re = NULL;
	size_t i = 0, o = 0;
	int r = -1;

	*outlen = 0;
	while (i < n) {
		if (o >= HK_AUDIT_DETAILS_MAX)
			return -1;
		if (in[i] != '\\') {
			out[o++] = (unsigned char)in[i++];
			continue;
		}
		if (i + 1 >= n)
			return -1;
		switch (in[i + 1]) {
		case '\\': out[o++] = '\\'; i += 2; break;
		case 't': out[o++] = '\t'; i += 2; break;
		case 'n': out[o++] = '\n'; i += 2; break;
		case 'r': out[o++] = '\r'; i += 2; break;
		case 'x':
			if (i + 3 >= n || hexdig(in[i + 2]) < 0 ||
			    hexdig(in[i + 3]) < 0)
				return -1;
			out[o++] = (unsigned char)(hexdig(in[i + 2]) << 4 |
			    hexdig(in[i + 3]));
			i += 4;
			break;
		default:
			return -1;
		}
	}
	if ((re = malloc(4 * o + 1)) == NULL)
		return -1;
	if (details_encode(out, o, re) == n && memcmp(re, in, n) == 0) {
		*outlen = o;
		r = 0;
	}
	free(re);
	return r;
}

/* ---- hashes, lines -------------------------------------------------- */

static int
hash_field(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	unsigned char be[4];

	hk_be_put32(be, (uint32_t)n);
	return EVP_DigestUpdate(ctx, be, 4) == 1 &&
	    EVP_DigestUpdate(ctx, p, n) == 1;
}

static int
record_hash(const struct rec *r, unsigned char out[32])
{
	EVP_MD_CTX *ctx;
	unsigned int len = 0;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, TAG_RECORD, sizeof(TAG_RECORD)) == 1 &&
	    hash_field(ctx, r->seqs, strlen(r->seqs)) &&
	    hash_field(ctx, r->time, strlen(r->time)) &&
	    hash_field(ctx, r->event, strlen(r->event)) &&
	    hash_field(ctx, r->result, strlen(r->result)) &&
	    hash_field(ctx, r->actors, strlen(r->actors)) &&
	    hash_field(ctx, r->details, r->dlen) &&
	    EVP_DigestUpdate(ctx, r->prev, 32) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		hk_err_set("audit: SHA-256 failed");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	return 0;
}

/* Format r as one line into a malloc'd buffer. */
static int
record_format(const struct rec *r, char **line, size_t *len)
{
	char *enc = NULL, *buf = NULL, ph[65], hh[65];
	size_t cap;
	int n, ret = HK_ERR_ALLOC;

	*line = NULL;
	*len = 0;
	if ((enc = malloc(4 * r->dlen + 1)) == NULL)
		goto out;
	details_encode(r->details, r->dlen, enc);
	hk_hex_encode(r->prev, 32, ph);
	hk_hex_encode(r->hash, 32, hh);
	cap = HK_AUDIT_LINE_MAX + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	n = snprintf(buf, cap, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r->seqs,
	    r->time, r->event, r->result, r->actors, enc, ph, hh);
	if (n < 0 || (size_t)n > HK_AUDIT_LINE_MAX) {
		hk_err_set("audit: record %s longer than %d bytes", r->seqs,
		    HK_AUDIT_LINE_MAX);
		ret = HK_ERR_INVALID;
		goto out;
	}
	*line = buf;
	*len = (size_t)n;
	buf = NULL;
	ret = 0;
 out:
	free(enc);
	free(buf);
	return ret;
}

/*
 * Parse one line (with its '\n') strictly and check its own hash. On
 * failure, why names the rule. Sequence and chain are the caller's.
 */
static int
record_parse(const char *line, size_t len, struct rec *r, char *why,
    size_t whysz)
{
	const char *f[8];
	size_t fl[8], i, nf = 0, start = 0;
	char tmp[65], fmt[21];
	unsigned char h[32];

	memset(r, 0, sizeof(*r));
	if (len == 0 || line[len - 1] != '\n') {
		snprintf(why, whysz, "line does not end in a newline "
		    "(truncated?)");
		return -1;
	}
	if (len > HK_AUDIT_LINE_MAX) {
		snprintf(why, whysz, "line longer than %d bytes",
		    HK_AUDIT_LINE_MAX);
		return -1;
	}
	len--;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf == 8) {
			nf++;
			break;
		}
		f[nf] = line + start;
		fl[nf++] = i - start;
		start = i + 1;
	}
	if (nf != 8) {
		snprintf(why, whysz, "expected 8 tab-separated fields, found "
		    "%s", nf > 8 ? "more" : "fewer");
		return -1;
	}
	if (parse_seq(f[0], fl[0], &r->seq) != 0) {
		snprintf(why, whysz, "seq: not a decimal number without "
		    "leading zeros (at most %d digits)", SEQ_DIGITS_MAX);
		return -1;
	}
	memcpy(r->seqs, f[0], fl[0]);
	if (fl[1] != 20) {
		snprintf(why, whysz, "time: not YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	memcpy(r->time, f[1], 20);
	if (memchr(r->time, '\0', 20) != NULL ||
	    hk_time_parse(r->time, &r->t) != 0) {
		snprintf(why, whysz, "time: not YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	/* Canonical: sscanf would also take " 1" or "+1" for "01". */
	hk_time_format(r->t, fmt, sizeof(fmt));
	if (strcmp(fmt, r->time) != 0) {
		snprintf(why, whysz, "time: not YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	if (!ok_event(f[2], fl[2])) {
		snprintf(why, whysz, "event: not [a-z0-9][a-z0-9._-]{0,63}");
		return -1;
	}
	memcpy(r->event, f[2], fl[2]);
	if (!ok_result(f[3], fl[3])) {
		snprintf(why, whysz, "result: not [a-z][a-z0-9_-]{0,31}");
		return -1;
	}
	memcpy(r->result, f[3], fl[3]);
	if (!ok_actors(f[4], fl[4])) {
		snprintf(why, whysz, "actors: not \"-\" or comma-separated ids");
		return -1;
	}
	memcpy(r->actors, f[4], fl[4]);
	if (details_decode(f[5], fl[5], r->details, &r->dlen) != 0) {
		snprintf(why, whysz, "details: not canonically escaped "
		    "(or longer than %d bytes)", HK_AUDIT_DETAILS_MAX);
		return -1;
	}
	for (i = 6; i < 8; i++) {
		if (fl[i] != 64) {
			snprintf(why, whysz, "%s: not 64 lowercase hex digits",
			    i == 6 ? "prev" : "hash");
			return -1;
		}
		memcpy(tmp, f[i], 64);
		tmp[64] = '\0';
		if (hk_hex_decode(tmp, i == 6 ? r->prev : r->hash, 32) != 0) {
			snprintf(why, whysz, "%s: not 64 lowercase hex digits",
			    i == 6 ? "prev" : "hash");
			return -1;
		}
	}
	if (record_hash(r, h) != 0) {
		snprintf(why, whysz, "cannot compute SHA-256");
		return -1;
	}
	if (memcmp(h, r->hash, 32) != 0) {
		snprintf(why, whysz, "hash does not match its contents");
		return -1;
	}
	return 0;
}

/* ---- genesis and checkpoint details --------------------------------- */

static int
genesis_parse(const struct rec *r, unsigned char log_id[LOG_ID_LEN])
{
	const size_t pl = sizeof(GENESIS_PREFIX) - 1;
	char hx[2 * LOG_ID_LEN + 1];

	if (strcmp(r->event, HK_AUDIT_EV_CREATE) != 0 ||
	    strcmp(r->result, "ok") != 0 || strcmp(r->actors, "-") != 0 ||
	    r->dlen != pl + 2 * LOG_ID_LEN ||
	    memcmp(r->details, GENESIS_PREFIX, pl) != 0)
		return -1;
	memcpy(hx, r->details + pl, 2 * LOG_ID_LEN);
	hx[2 * LOG_ID_LEN] = '\0';
	return hk_hex_decode(hx, log_id, LOG_ID_LEN) == 0 ? 0 : -1;
}

/* "audit.close ok <actors> log-id=<this log's id>" */
static int
close_parse(const struct rec *r, const unsigned char log_id[LOG_ID_LEN])
{
	const size_t pl = sizeof(CLOSE_PREFIX) - 1;
	char hx[2 * LOG_ID_LEN + 1];

	hk_hex_encode(log_id, LOG_ID_LEN, hx);
	if (strcmp(r->result, "ok") != 0 || r->dlen != pl + 2 * LOG_ID_LEN ||
	    memcmp(r->details, CLOSE_PREFIX, pl) != 0 ||
	    memcmp(r->details + pl, hx, 2 * LOG_ID_LEN) != 0)
		return -1;
	return 0;
}

#define LINK_FMT	"previous-log-id=%s previous-seq=%llu previous-hash=%s"

/* "audit.link ok - previous-log-id=<32 hex> previous-seq=<n>
 * previous-hash=<64 hex>", strictly (formatting it again gives it back) */
static int
link_parse(const struct rec *r, struct hk_audit_report *rep)
{
	char d[HK_AUDIT_DETAILS_MAX + 1], id[33], hx[65], re[256];
	unsigned char b[32];
	uint64_t seq;
	const char *p, *q;

	if (strcmp(r->result, "ok") != 0 || strcmp(r->actors, "-") != 0 ||
	    r->dlen > 200)
		return -1;
	memcpy(d, r->details, r->dlen);
	d[r->dlen] = '\0';
	if (strncmp(d, "previous-log-id=", 16) != 0 || strlen(d) < 16 + 32)
		return -1;
	memcpy(id, d + 16, 32);
	id[32] = '\0';
	if (hk_hex_decode(id, b, LOG_ID_LEN) != 0)
		return -1;
	p = d + 16 + 32;
	if (strncmp(p, " previous-seq=", 14) != 0)
		return -1;
	p += 14;
	for (q = p; *q >= '0' && *q <= '9'; q++)
		;
	if (parse_seq(p, (size_t)(q - p), &seq) != 0 ||
	    strncmp(q, " previous-hash=", 15) != 0 || strlen(q + 15) != 64)
		return -1;
	memcpy(hx, q + 15, 65);
	if (hk_hex_decode(hx, b, 32) != 0)
		return -1;
	snprintf(re, sizeof(re), LINK_FMT, id, (unsigned long long)seq, hx);
	if (strcmp(re, d) != 0)
		return -1;
	memcpy(rep->prev_log_id, id, 33);
	rep->prev_seq = seq;
	memcpy(rep->prev_hash, hx, 65);
	return 0;
}

static size_t
b64_encode(const unsigned char *in, size_t len, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

static int
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Strict base64 (RFC 4648 4, padded, no whitespace, canonical). */
static int
b64_decode(const char *in, size_t n, unsigned char *out, size_t outmax,
    size_t *outlen)
{
	char re[(SIG_MAX + 2) / 3 * 4 + 1];
	size_t i, pad = 0;
	int dn;

	*outlen = 0;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outmax)
		return -1;
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (!b64_char(in[i]))
			return -1;
	dn = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (dn < 0 || (size_t)dn != n / 4 * 3)
		return -1;
	*outlen = (size_t)dn - pad;
	if (b64_encode(out, *outlen, re) != n || memcmp(re, in, n) != 0)
		return -1;
	return 0;
}

struct ckpt {
	char label[LABEL_MAX + 1];	/* key_label as given */
	unsigned char key_fp[32];	/* SHA-256 of the signer's SPKI DER */
	unsigned char sig[SIG_MAX];	/* the signature */
	size_t siglen;			/* bytes in sig */
};

/* "key=<label> key-sha256=<64 hex> sig=<base64>" */
static int
ckpt_parse(const struct rec *r, struct ckpt *c)
{
	const char *d = (const char *)r->details, *e = d + r->dlen, *sp;
	char hx[65];

	memset(c, 0, sizeof(*c));
	if (strcmp(r->result, "ok") != 0 || strcmp(r->actors, "-") != 0)
		return -1;
	if (r->dlen < 4 || memcmp(d, "key=", 4) != 0)
		return -1;
	d += 4;
	if ((sp = memchr(d, ' ', (size_t)(e - d))) == NULL ||
	    !ok_label(d, (size_t)(sp - d)))
		return -1;
	memcpy(c->label, d, (size_t)(sp - d));
	d = sp + 1;
	if (e - d < 11 + 64 + 1 || memcmp(d, "key-sha256=", 11) != 0 ||
	    d[11 + 64] != ' ')
		return -1;
	memcpy(hx, d + 11, 64);
	hx[64] = '\0';
	if (hk_hex_decode(hx, c->key_fp, 32) != 0)
		return -1;
	d += 11 + 64 + 1;
	if (e - d < 4 || memcmp(d, "sig=", 4) != 0)
		return -1;
	d += 4;
	return b64_decode(d, (size_t)(e - d), c->sig, sizeof(c->sig),
	    &c->siglen);
}

/* The public half of k as a software key (k may be a token's). */
static int
pub_of(EVP_PKEY *k, EVP_PKEY **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;

	*out = NULL;
	if ((n = i2d_PUBKEY(k, &der)) <= 0) {
		hk_err_set("audit: cannot encode the public key");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	p = der;
	*out = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	if (*out == NULL) {
		hk_err_set("audit: cannot decode the public key");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	return 0;
}

int
hk_audit_key_sha256(EVP_PKEY *k, unsigned char out[32])
{
	unsigned char *der = NULL;
	int n;

	if ((n = i2d_PUBKEY(k, &der)) <= 0) {
		hk_err_set("audit: cannot encode the public key");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	n = EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (n != 1) {
		hk_err_set("audit: SHA-256 failed");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	return 0;
}

int
hk_audit_key_sha256_hex(EVP_PKEY *k, char out[65])
{
	unsigned char md[32];
	int r;

	if ((r = hk_audit_key_sha256(k, md)) != 0)
		return r;
	hk_hex_encode(md, sizeof(md), out);
	return 0;
}

#define CKPT_MSG_LEN	(sizeof(TAG_CHECKPOINT) + LOG_ID_LEN + 8 + 32 + 20)

/* The signed message: tag NUL, log id, u64be head seq, head hash, time. */
static void
ckpt_message(const unsigned char log_id[LOG_ID_LEN], uint64_t head_seq,
    const unsigned char head_hash[32], const char time[20],
    unsigned char m[CKPT_MSG_LEN])
{
	size_t o = 0;
	int i;

	memcpy(m, TAG_CHECKPOINT, sizeof(TAG_CHECKPOINT));
	o += sizeof(TAG_CHECKPOINT);
	memcpy(m + o, log_id, LOG_ID_LEN);
	o += LOG_ID_LEN;
	for (i = 7; i >= 0; i--)
		m[o++] = (unsigned char)(head_seq >> (8 * i));
	memcpy(m + o, head_hash, 32);
	o += 32;
	memcpy(m + o, time, 20);
}

static int
key_kind_ok(EVP_PKEY *k)
{
	return EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "EC");
}

/* 1 verifies, 0 does not, <0 error. */
static int
sig_check(EVP_PKEY *pub, const unsigned char *m, size_t mlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub) != 1)
		goto out;
	if (EVP_PKEY_is_a(pub, "RSA") &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	/* EVP_DigestVerify: 1 good, 0 bad, <0 error; only 1 counts. */
	ok = EVP_DigestVerify(ctx, sig, siglen, m, mlen) == 1;
 out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static int
sig_make(EVP_PKEY *key, const unsigned char *m, size_t mlen,
    unsigned char sig[SIG_MAX], size_t *siglen)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	int r = HK_ERR_CRYPTO;

	*siglen = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1)
		goto out;
	if (EVP_PKEY_is_a(key, "RSA") &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (EVP_DigestSign(ctx, NULL, &n, m, mlen) != 1 || n > SIG_MAX)
		goto out;
	if (EVP_DigestSign(ctx, sig, &n, m, mlen) != 1)
		goto out;
	*siglen = n;
	r = 0;
 out:
	if (r != 0) {
		hk_err_set("audit: checkpoint signature failed");
		hk_err_add_openssl();
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ---- the head file -------------------------------------------------- */

static int
head_path(const char *path, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s.head", path);

	if (n < 0 || (size_t)n >= outsz) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	return 0;
}

static int
head_format(const struct head *h, char *buf, size_t bufsz)
{
	char hh[65];

	hk_hex_encode(h->hash, 32, hh);
	return snprintf(buf, bufsz, HEAD_MAGIC " log-id=%s seq=%llu hash=%s\n",
	    h->log_id, (unsigned long long)h->seq, hh);
}

static int
head_write(const char *path, const unsigned char log_id[LOG_ID_LEN],
    const struct rec *last)
{
	char hp[4096], buf[256];
	struct head h;
	int n, r;

	if ((r = head_path(path, hp, sizeof(hp))) != 0)
		return r;
	hk_hex_encode(log_id, LOG_ID_LEN, h.log_id);
	h.seq = last->seq;
	memcpy(h.hash, last->hash, 32);
	n = head_format(&h, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return HK_ERR_INTERNAL;
	return hk_file_write(hp, buf, (size_t)n, LOG_MODE, 0);
}

/*
 * Read "<path>.head" strictly. HK_ERR_NOT_FOUND when missing, HK_ERR_AUDIT
 * when malformed (why says how).
 */
static int
head_read(const char *path, struct head *h, char *why, size_t whysz)
{
	char hp[4096], buf[256], hx[65];
	unsigned char *p = NULL;
	size_t len = 0;
	const char *s;
	int r, n;

	memset(h, 0, sizeof(*h));
	if ((r = head_path(path, hp, sizeof(hp))) != 0)
		return r;
	if ((r = hk_file_read(hp, 512, &p, &len)) != 0) {
		snprintf(why, whysz, "%s", hk_err_msg());
		if (r == HK_ERR_INVALID) {
			snprintf(why, whysz, "not a regular file of at most "
			    "512 bytes");
			r = HK_ERR_AUDIT;
		}
		return r;
	}
	r = HK_ERR_AUDIT;
	s = (const char *)p;
	/* HEAD_MAGIC " log-id=" 32 hex " seq=" digits " hash=" 64 hex "\n" */
	if (len < sizeof(HEAD_MAGIC " log-id=") - 1 + 32 ||
	    memcmp(s, HEAD_MAGIC " log-id=", sizeof(HEAD_MAGIC " log-id=") - 1)
	    != 0)
		goto bad;
	s += sizeof(HEAD_MAGIC " log-id=") - 1;
	memcpy(h->log_id, s, 32);
	h->log_id[32] = '\0';
	{
		unsigned char id[LOG_ID_LEN];
		if (hk_hex_decode(h->log_id, id, LOG_ID_LEN) != 0)
			goto bad;
	}
	s += 32;
	if (strncmp(s, " seq=", 5) != 0)
		goto bad;
	s += 5;
	n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (parse_seq(s, (size_t)n, &h->seq) != 0)
		goto bad;
	s += n;
	if (strncmp(s, " hash=", 6) != 0 || strlen(s) < 6 + 64)
		goto bad;
	memcpy(hx, s + 6, 64);
	hx[64] = '\0';
	if (hk_hex_decode(hx, h->hash, 32) != 0)
		goto bad;
	/* Canonical: formatting what we parsed gives back every byte. */
	n = head_format(h, buf, sizeof(buf));
	if (n < 0 || (size_t)n != len || memcmp(buf, p, len) != 0)
		goto bad;
	free(p);
	return 0;
 bad:
	snprintf(why, whysz, "not \"" HEAD_MAGIC
	    " log-id=<32 hex> seq=<n> hash=<64 hex>\\n\"");
	free(p);
	return r;
}

/* ---- reporting ------------------------------------------------------ */

static void
report_init(struct hk_audit_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->last_checkpoint_seq = -1;
	rep->bad_seq = -1;
	rep->close_seq = -1;
}

/* Record the first failure only; always returns HK_ERR_AUDIT. */
static int
report_fail(struct hk_audit_report *rep, uint64_t line, int64_t seq,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
report_fail(struct hk_audit_report *rep, uint64_t line, int64_t seq,
    const char *fmt, ...)
{
	va_list ap;

	if (rep->reason[0] != '\0')
		return HK_ERR_AUDIT;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	rep->bad_line = line;
	rep->bad_seq = seq;
	hk_err_set("%s", rep->reason);
	return HK_ERR_AUDIT;
}

/* ---- reading the whole log ------------------------------------------ */

struct scan {
	const char *path;		/* the log, for messages */
	EVP_PKEY *pub;			/* checkpoint key, NULL: chain only */
	unsigned char pub_fp[32];	/* SHA-256 of pub's SPKI, when pub */
	FILE *print;			/* print each good record here, or NULL */
	/* hand each good record (checkpoints aside) to this, or NULL */
	int (*each)(const struct hk_audit_record *, void *);
	void *arg;			/* each()'s argument */
	int each_all;			/* 1: checkpoints to each() too */
	struct hk_audit_report *rep;	/* filled as we go */
	unsigned char log_id[LOG_ID_LEN];	/* from the genesis record */
	struct rec last;		/* the last good record (when records > 0) */
	unsigned char prev2[32];	/* the prev of the record before it */
	/* With pub: check only the last checkpoint's signature (every
	 * checkpoint's key fingerprint still), kept here until the scan
	 * ends (checkpoint_fd, which explains why that is enough). */
	int last_sig_only;
	int pend;			/* a checkpoint is kept below */
	uint64_t pend_line;
	unsigned char pend_m[CKPT_MSG_LEN];
	unsigned char pend_sig[SIG_MAX];
	size_t pend_siglen;
};

static void
print_record(FILE *out, const struct rec *r, const struct ckpt *c)
{
	char *enc, fp[65];

	fprintf(out, "%6s  %s  %-20s %-6s %-16s ", r->seqs, r->time,
	    r->event, r->result, r->actors);
	if (c != NULL) {
		hk_hex_encode(c->key_fp, 32, fp);
		fp[16] = '\0';
		fprintf(out, "signed by key %s (SPKI SHA-256 %s...) over records "
		    "0-%llu\n", c->label, fp,
		    (unsigned long long)(r->seq - 1));
		return;
	}
	if ((enc = malloc(4 * r->dlen + 1)) == NULL) {
		fprintf(out, "(out of memory)\n");
		return;
	}
	details_encode(r->details, r->dlen, enc);
	fprintf(out, "%s\n", enc);
	free(enc);
}

/* Checks on one parsed record beyond its own hash; line is 1-based. */
static int
scan_record(struct scan *s, uint64_t line, struct rec *r)
{
	struct hk_audit_report *rep = s->rep;
	const char *p = s->path;
	int64_t pos = (int64_t)(line - 1);
	unsigned char m[CKPT_MSG_LEN];
	struct ckpt c;
	int v;

	if (r->seq != line - 1)
		return report_fail(rep, line, pos, "%s:%llu: record %lld: "
		    "sequence number is %s, expected %lld (a record was "
		    "removed, inserted or moved)", p, (unsigned long long)line,
		    (long long)pos, r->seqs, (long long)pos);
	if (line == 1) {
		if (memcmp(r->prev, zero_hash, 32) != 0)
			return report_fail(rep, line, pos, "%s:1: record 0: "
			    "the genesis record must chain from the all-zero "
			    "hash", p);
		if (genesis_parse(r, s->log_id) != 0)
			return report_fail(rep, line, pos, "%s:1: record 0: "
			    "not a genesis record (audit.create ok - "
			    "\"" GENESIS_PREFIX "<32 hex>\")", p);
		hk_hex_encode(s->log_id, LOG_ID_LEN, rep->log_id);
		snprintf(rep->first_time, sizeof(rep->first_time), "%s",
		    r->time);
		goto good;
	}
	if (memcmp(r->prev, s->last.hash, 32) != 0)
		return report_fail(rep, line, pos, "%s:%llu: record %lld: prev "
		    "does not match the hash of record %lld (a record was "
		    "changed, removed, inserted or moved)", p,
		    (unsigned long long)line, (long long)pos,
		    (long long)pos - 1);
	if (strcmp(r->event, HK_AUDIT_EV_CREATE) == 0)
		return report_fail(rep, line, pos, "%s:%llu: record %lld: "
		    HK_AUDIT_EV_CREATE " is allowed only as record 0", p,
		    (unsigned long long)line, (long long)pos);
	if (rep->close_seq >= 0 && !(rep->sealed == 0 &&
	    r->seq == (uint64_t)rep->close_seq + 1 &&
	    strcmp(r->event, HK_AUDIT_EV_CHECKPOINT) == 0))
		return report_fail(rep, line, pos, "%s:%llu: record %lld: "
		    "written after the log was closed (record %lld is "
		    HK_AUDIT_EV_CLOSE "; only its checkpoint may follow)", p,
		    (unsigned long long)line, (long long)pos,
		    (long long)rep->close_seq);
	if (strcmp(r->event, HK_AUDIT_EV_LINK) == 0) {
		if (line != 2 || link_parse(r, rep) != 0)
			return report_fail(rep, line, pos, "%s:%llu: record "
			    "%lld: " HK_AUDIT_EV_LINK " is allowed only as "
			    "record 1, as \"" HK_AUDIT_EV_LINK " ok - "
			    "previous-log-id=<32 hex> previous-seq=<n> "
			    "previous-hash=<64 hex>\"", p,
			    (unsigned long long)line, (long long)pos);
		snprintf(rep->link_time, sizeof(rep->link_time), "%s",
		    r->time);
		rep->linked = 1;
	}
	if (strcmp(r->event, HK_AUDIT_EV_CLOSE) == 0) {
		if (close_parse(r, s->log_id) != 0)
			return report_fail(rep, line, pos, "%s:%llu: record "
			    "%lld: " HK_AUDIT_EV_CLOSE " must be \"ok\" with "
			    "details \"" CLOSE_PREFIX "<this log's id>\"", p,
			    (unsigned long long)line, (long long)pos);
		rep->close_seq = (int64_t)r->seq;
		snprintf(rep->close_time, sizeof(rep->close_time), "%s",
		    r->time);
	}
	if (r->t < s->last.t)
		rep->time_backsteps++;
	if (strcmp(r->event, HK_AUDIT_EV_MISMATCH) == 0) {
		/* Not structural: keep checking, fail at the end. */
		rep->head_mismatches++;
		report_fail(rep, line, pos, "%s:%llu: record %lld: the head "
		    "file did not match the log at this append (records were "
		    "removed or the head was rolled back)", p,
		    (unsigned long long)line, (long long)pos);
	}
	if (strcmp(r->event, HK_AUDIT_EV_CHECKPOINT) == 0) {
		if (ckpt_parse(r, &c) != 0)
			return report_fail(rep, line, pos, "%s:%llu: record "
			    "%lld: checkpoint: details are not \"key=<label> "
			    "key-sha256=<64 hex> sig=<base64>\"", p,
			    (unsigned long long)line, (long long)pos);
		if (s->pub != NULL) {
			if (memcmp(c.key_fp, s->pub_fp, 32) != 0)
				return report_fail(rep, line, pos, "%s:%llu: "
				    "record %lld: checkpoint signed by key %s, "
				    "not by the given public key", p,
				    (unsigned long long)line, (long long)pos,
				    c.label);
			ckpt_message(s->log_id, r->seq - 1, r->prev, r->time,
			    m);
			if (s->last_sig_only) {
				s->pend = 1;
				s->pend_line = line;
				memcpy(s->pend_m, m, sizeof(m));
				memcpy(s->pend_sig, c.sig, c.siglen);
				s->pend_siglen = c.siglen;
				v = 1;
			} else
				v = sig_check(s->pub, m, sizeof(m), c.sig,
				    c.siglen);
			if (v != 1)
				return report_fail(rep, line, pos, "%s:%llu: "
				    "record %lld: checkpoint signature does "
				    "not verify with the given public key", p,
				    (unsigned long long)line, (long long)pos);
		}
		rep->checkpoints++;
		rep->last_checkpoint_seq = (int64_t)r->seq;
		if (rep->close_seq >= 0)
			rep->sealed = 1;
		if (s->print)
			print_record(s->print, r, &c);
		if (s->each_all)
			goto good_each;
		goto counted;
	}
 good:
	if (s->print)
		print_record(s->print, r, NULL);
 good_each:
	if (s->each != NULL) {
		struct hk_audit_record pr = { r->seq, r->time, r->event,
		    r->result, r->actors, r->details, r->dlen };
		if ((v = s->each(&pr, s->arg)) != 0)
			return v;
	}
 counted:
	hk_hex_encode(r->hash, 32, rep->last_hash);
	rep->records++;
	rep->unsigned_records = rep->last_checkpoint_seq < 0 ? rep->records :
	    r->seq - (uint64_t)rep->last_checkpoint_seq;
	return 0;
}

/*
 * Read every line of the log from fd. Returns 0 when the chain is sound
 * (findings such as head-mismatch records are left in rep->reason),
 * HK_ERR_AUDIT at the first structural failure.
 */
static int
scan_log(struct scan *s, int fd)
{
	struct rec *cur = NULL;
	FILE *f = NULL;
	char *line = NULL, why[160];
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int dfd = -1, r = HK_ERR_INTERNAL;

	if ((cur = malloc(sizeof(*cur))) == NULL)
		return HK_ERR_ALLOC;
	/* from the first byte (a dup shares the offset of an earlier scan) */
	if (lseek(fd, 0, SEEK_SET) != 0 || (dfd = dup(fd)) < 0 ||
	    (f = fdopen(dfd, "r")) == NULL) {
		if (dfd >= 0)
			close(dfd);
		hk_err_set("%s: cannot read: %s", s->path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (record_parse(line, (size_t)n, cur, why, sizeof(why)) != 0) {
			r = report_fail(s->rep, lineno, (int64_t)lineno - 1,
			    "%s:%llu: record %lld: %s", s->path,
			    (unsigned long long)lineno,
			    (long long)lineno - 1, why);
			goto out;
		}
		if ((r = scan_record(s, lineno, cur)) != 0)
			goto out;
		memcpy(s->prev2, s->last.prev, 32);
		memcpy(&s->last, cur, sizeof(*cur));
	}
	if (ferror(f)) {
		hk_err_set("%s: cannot read: %s", s->path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (lineno == 0) {
		r = report_fail(s->rep, 1, 0, "%s:1: record 0: the log is "
		    "empty (no genesis record)", s->path);
		goto out;
	}
	r = 0;
 out:
	free(line);
	if (f != NULL)
		fclose(f);
	free(cur);
	return r;
}

/* The chain scanned again from the first record under the caller's lock,
 * into rep: 0, or refused as "<finding>; refusing to <what>". */
static int
rescan(struct scan *s, int fd, const char *path,
    struct hk_audit_report *rep, const char *what)
{
	int r;

	report_init(rep);
	s->path = path;
	s->rep = rep;
	if ((r = scan_log(s, fd)) != 0)
		hk_err_set("%s; refusing to %s", rep->reason[0] ? rep->reason :
		    hk_err_msg(), what);
	return r;
}

/* The head names the record before audit.close, and the log ends with
 * audit.close and its checkpoint: the close appends the two as one write,
 * and a crash before its head write leaves this. */
static int
close_lag(const struct scan *s, const struct head *h)
{
	const struct hk_audit_report *rep = s->rep;

	return rep->close_seq >= 0 && rep->sealed &&
	    s->last.seq == (uint64_t)rep->close_seq + 1 &&
	    h->seq + 2 == s->last.seq && memcmp(h->hash, s->prev2, 32) == 0;
}

/* Compare the head file with the last record (after a clean scan). */
static int
scan_head(struct scan *s)
{
	struct hk_audit_report *rep = s->rep;
	const struct rec *l = &s->last;
	struct head h;
	char why[600];
	int r;

	if ((r = head_read(s->path, &h, why, sizeof(why))) != 0) {
		if (r != HK_ERR_NOT_FOUND && r != HK_ERR_AUDIT)
			return r;
		return report_fail(rep, 0, (int64_t)l->seq + 1, "%s.head: %s "
		    "(cannot check that the log was not truncated)", s->path,
		    r == HK_ERR_NOT_FOUND ? "missing" : why);
	}
	if (strcmp(h.log_id, rep->log_id) != 0)
		return report_fail(rep, 0, -1, "%s.head: names log %s, but "
		    "the log is %s", s->path, h.log_id, rep->log_id);
	if (h.seq == l->seq && memcmp(h.hash, l->hash, 32) == 0)
		return 0;
	if (h.seq + 1 == l->seq && memcmp(h.hash, l->prev, 32) == 0) {
		rep->head_lag = 1;	/* crash after append, before head */
		return 0;
	}
	if (close_lag(s, &h)) {
		rep->head_lag = 1;	/* the same after a close's append */
		return 0;
	}
	if (h.seq > l->seq)
		return report_fail(rep, 0, (int64_t)l->seq + 1, "%s.head: "
		    "names record %llu, but the log ends at record %llu "
		    "(records were removed from the end)", s->path,
		    (unsigned long long)h.seq, (unsigned long long)l->seq);
	return report_fail(rep, 0, (int64_t)h.seq, "%s.head: record %llu "
	    "does not match the log (the head file or the end of the log was "
	    "replaced)", s->path, (unsigned long long)h.seq);
}

/* ---- locking and the tail ------------------------------------------- */

/*
 * Open and lock the log. A close (hk_audit_close) renames a new log over
 * the one it holds locked: who waited for the lock then holds the closed
 * log's, so the file at path is opened again until the lock held is the
 * one of the file there.
 */
static int
log_open(const char *path, int flags, int lock)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; ; tries++) {
		if ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			int e = errno;
			hk_err_set("%s: cannot open: %s", path, strerror(e));
			return e == ENOENT ? HK_ERR_NOT_FOUND : HK_ERR_IO;
		}
		while (flock(fd, lock) != 0) {
			if (errno == EINTR)
				continue;
			hk_err_set("%s: cannot lock: %s", path,
			    strerror(errno));
			close(fd);
			return HK_ERR_IO;
		}
		if (fstat(fd, &a) != 0 || lstat(path, &b) != 0 ||
		    (a.st_ino == b.st_ino && a.st_dev == b.st_dev) ||
		    tries == 100)
			return fd;
		close(fd);	/* replaced meanwhile: the new one */
	}
}

/* "<path>.next" */
static int
next_path(const char *path, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s" NEXT_SUFFIX, path);

	if (n < 0 || (size_t)n >= outsz) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* What to run to finish a close, for the one-line refusals. */
static void
close_hint(const char *path, char *buf, size_t len)
{
	const char *tail = "/audit/audit.log";
	size_t pl = strlen(path), tl = strlen(tail);

	if (pl > tl && strcmp(path + pl - tl, tail) == 0)
		snprintf(buf, len, "%s audit close --state %.*s",
		    program_invocation_short_name, (int)(pl - tl), path);
	else
		snprintf(buf, len, "audit close on %s", path);
}

/*
 * A close under way or stopped part-way: the log itself closed (its last
 * record audit.close, or a checkpoint right after one), or the new log in
 * place without its head file yet ("<path>.next.head" still there).
 * Appends and checkpoints refuse both (HK_ERR_AUDIT, naming what to run).
 */
static int
refuse_if_closing(const char *path, int fd, const struct rec *last,
    off_t last_off)
{
	char np[4096], nh[4096], hint[4200], *buf = NULL;
	struct rec *prev = NULL;
	size_t want, start;
	int closed = strcmp(last->event, HK_AUDIT_EV_CLOSE) == 0, r = 0;

	if ((r = next_path(path, np, sizeof(np))) != 0 ||
	    (r = head_path(np, nh, sizeof(nh))) != 0)
		return r;
	if (!closed && strcmp(last->event, HK_AUDIT_EV_CHECKPOINT) == 0 &&
	    last_off > 0) {
		char why[160];

		want = last_off < HK_AUDIT_LINE_MAX ? (size_t)last_off :
		    HK_AUDIT_LINE_MAX;
		if ((buf = malloc(want)) == NULL ||
		    (prev = malloc(sizeof(*prev))) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		ssize_t got = pread(fd, buf, want, last_off - (off_t)want);

		/* a record before the checkpoint that cannot be read is not
		 * "not audit.close": appends to a closed log went on */
		if (got < 0) {
			hk_err_set("%s: cannot read: %s", path,
			    strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		if (got == (ssize_t)want && buf[want - 1] == '\n') {
			start = want - 1;
			while (start > 0 && buf[start - 1] != '\n')
				start--;
			if (record_parse(buf + start, want - start, prev, why,
			    sizeof(why)) == 0 &&
			    strcmp(prev->event, HK_AUDIT_EV_CLOSE) == 0)
				closed = 1;
		}
	}
	close_hint(path, hint, sizeof(hint));
	if (closed) {
		hk_err_set("%s: the log is closed (" HK_AUDIT_EV_CLOSE ") and "
		    "no new log replaced it yet: finish the close with '%s'",
		    path, hint);
		r = HK_ERR_AUDIT;
	} else if ((r = hk_path_lookup(nh)) == 1) {
		hk_err_set("%s: a close of the log stopped part-way (%s is "
		    "there): finish it with '%s'", path, nh, hint);
		r = HK_ERR_AUDIT;
	}
 out:
	free(buf);
	free(prev);
	return r;
}

/*
 * Parse the genesis (first line) and the last line without reading the
 * whole log. Each is checked strictly, including its own hash.
 */
static int
tail_read(const char *path, int fd, unsigned char log_id[LOG_ID_LEN],
    struct rec *last, off_t *last_off)
{
	struct stat st;
	char *buf = NULL, *nl, why[160];
	size_t want, got = 0, start;
	off_t off;
	int r = HK_ERR_AUDIT;

	if (fstat(fd, &st) != 0) {	/* the medium, not the file's kind */
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		hk_err_set("%s: not a regular file", path);
		return HK_ERR_INVALID;
	}
	if ((buf = malloc(HK_AUDIT_LINE_MAX + 1)) == NULL)
		return HK_ERR_ALLOC;
	/* The first line: the genesis. */
	want = (size_t)st.st_size < HK_AUDIT_LINE_MAX ? (size_t)st.st_size :
	    HK_AUDIT_LINE_MAX;
	if (want == 0) {
		hk_err_set("%s:1: record 0: the log is empty (no genesis "
		    "record)", path);
		goto out;
	}
	if (pread(fd, buf, want, 0) != (ssize_t)want) {
		hk_err_set("%s: cannot read: %s", path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if ((nl = memchr(buf, '\n', want)) == NULL ||
	    record_parse(buf, (size_t)(nl - buf) + 1, last, why,
	    sizeof(why)) != 0 || last->seq != 0 ||
	    memcmp(last->prev, zero_hash, 32) != 0 ||
	    genesis_parse(last, log_id) != 0) {
		hk_err_set("%s:1: record 0: not a sound genesis record; run "
		    "audit verify", path);
		goto out;
	}
	/* The last line: it ends at EOF, and the byte before it is '\n'. */
	want = (size_t)st.st_size < HK_AUDIT_LINE_MAX + 1 ?
	    (size_t)st.st_size : HK_AUDIT_LINE_MAX + 1;
	off = st.st_size - (off_t)want;
	if (pread(fd, buf, want, off) != (ssize_t)want) {
		hk_err_set("%s: cannot read: %s", path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	got = want;
	if (buf[got - 1] != '\n') {
		hk_err_set("%s: the last line does not end in a newline; run "
		    "audit verify", path);
		goto out;
	}
	start = got - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && off != 0) {
		hk_err_set("%s: the last line is longer than %d bytes; run "
		    "audit verify", path, HK_AUDIT_LINE_MAX);
		goto out;
	}
	if (record_parse(buf + start, got - start, last, why,
	    sizeof(why)) != 0) {
		hk_err_set("%s: last record: %s; run audit verify", path, why);
		goto out;
	}
	if (last_off != NULL)
		*last_off = off + (off_t)start;
	r = 0;
 out:
	free(buf);
	return r;
}

/* Fill in seq, prev and hash from last, append r, make it the last. */
static int
record_append(const char *path, struct rec *last, struct rec *r)
{
	char *line = NULL;
	size_t len;
	int n, ret;

	r->seq = last->seq + 1;
	n = snprintf(r->seqs, sizeof(r->seqs), "%llu",
	    (unsigned long long)r->seq);
	if (n < 0 || (size_t)n >= sizeof(r->seqs)) {
		hk_err_set("%s: sequence number overflow", path);
		return HK_ERR_INVALID;
	}
	memcpy(r->prev, last->hash, 32);
	if ((ret = record_hash(r, r->hash)) != 0)
		return ret;
	if ((ret = record_format(r, &line, &len)) != 0)
		return ret;
	ret = hk_file_append(path, line, len, LOG_MODE);
	free(line);
	if (ret == 0)
		memcpy(last, r, sizeof(*r));
	return ret;
}

static void
record_now(struct rec *r)
{
	r->t = hk_clock_now();
	hk_time_format(r->t, r->time, sizeof(r->time));
}

/*
 * Before appending: the head file should name the last record (or the one
 * before, after a crash). If not, write an audit.head-mismatch record that
 * says what the head file held, so the evidence enters the chain.
 */
static int
head_reconcile(const char *path, const unsigned char log_id[LOG_ID_LEN],
    struct rec *last, struct rec *tmp)
{
	struct head h;
	char why[600], hid[33], hh[65], lh[65];
	int r, n;

	hk_hex_encode(log_id, LOG_ID_LEN, hid);
	r = head_read(path, &h, why, sizeof(why));
	if (r != 0 && r != HK_ERR_NOT_FOUND && r != HK_ERR_AUDIT)
		return r;
	if (r == 0 && strcmp(h.log_id, hid) == 0 &&
	    h.seq == last->seq && memcmp(h.hash, last->hash, 32) == 0)
		return 0;
	/* A crash between the last append and its head update: the head
	 * names the record before. Bring the head forward now, so that a
	 * second crash in the same window cannot leave it two behind (which
	 * would be indistinguishable from a removed record). */
	if (r == 0 && strcmp(h.log_id, hid) == 0 &&
	    h.seq + 1 == last->seq && memcmp(h.hash, last->prev, 32) == 0)
		return head_write(path, log_id, last);
	memset(tmp, 0, sizeof(*tmp));
	record_now(tmp);
	strcpy(tmp->event, HK_AUDIT_EV_MISMATCH);
	strcpy(tmp->result, "fail");
	strcpy(tmp->actors, "-");
	hk_hex_encode(last->hash, 32, lh);
	if (r == 0) {
		hk_hex_encode(h.hash, 32, hh);
		n = snprintf((char *)tmp->details, sizeof(tmp->details),
		    "head file named log %s record %llu hash %s; the log ends "
		    "at record %llu hash %s", h.log_id,
		    (unsigned long long)h.seq, hh,
		    (unsigned long long)last->seq, lh);
	} else
		n = snprintf((char *)tmp->details, sizeof(tmp->details),
		    "head file unusable (%s); the log ends at record %llu "
		    "hash %s", r == HK_ERR_NOT_FOUND ? "missing" : why,
		    (unsigned long long)last->seq, lh);
	if (n < 0)
		return HK_ERR_INTERNAL;
	tmp->dlen = (size_t)n < sizeof(tmp->details) ? (size_t)n :
	    sizeof(tmp->details) - 1;
	return record_append(path, last, tmp);
}

/*
 * After an append or checkpoint that failed once the log was locked at
 * size0 bytes: the records it added (a head-mismatch record, its own) are
 * cut off again, so that the log and the head file are as they were and
 * the caller's "not written" is true (a failed record must not stand in
 * the log for something the caller then undoes). Kept only when the head
 * file already names the new last record (the rename went through and
 * only the folder's fsync failed): cutting then would make the head name
 * a record the log no longer holds.
 */
static void
append_undo(const char *path, int fd, off_t size0, const struct rec *last)
{
	struct stat st;
	struct head h;
	char why[600];
	int wfd;

	if (fstat(fd, &st) != 0 || st.st_size <= size0)
		return;
	if (head_read(path, &h, why, sizeof(why)) == 0 &&
	    h.seq == last->seq && memcmp(h.hash, last->hash, 32) == 0)
		return;
	if ((wfd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return;
	if (ftruncate(wfd, size0) == 0)
		(void)fsync(wfd);
	close(wfd);
}

/* ---- the API -------------------------------------------------------- */

/*
 * A new log at path: its genesis record and, when link is given (a log
 * begun by a close), the audit.link record naming the closed log; then its
 * head file. id: the new log's id (hex).
 */
struct link_to {
	char log_id[33];	/* the closed log's id (hex) */
	uint64_t seq;		/* its last record */
	unsigned char hash[32];	/* and that record's hash */
};

static int
log_create(const char *path, const struct link_to *link, char id[33])
{
	unsigned char log_id[LOG_ID_LEN];
	char *line = NULL, *line2 = NULL, *both = NULL, hx[2 * LOG_ID_LEN + 1];
	char lh[65];
	struct rec *g = NULL, *l = NULL;
	size_t len, len2 = 0;
	int r = HK_ERR_INTERNAL;

	if (hk_path_exists(path)) {
		hk_err_set("%s: already exists; refusing to overwrite an audit "
		    "log", path);
		return HK_ERR_EXISTS;
	}
	if (RAND_bytes(log_id, sizeof(log_id)) != 1) {
		hk_err_set("%s: cannot draw a log id", path);
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (l = calloc(1, sizeof(*l))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	strcpy(g->seqs, "0");
	record_now(g);
	strcpy(g->event, HK_AUDIT_EV_CREATE);
	strcpy(g->result, "ok");
	strcpy(g->actors, "-");
	hk_hex_encode(log_id, LOG_ID_LEN, hx);
	g->dlen = (size_t)snprintf((char *)g->details, sizeof(g->details),
	    GENESIS_PREFIX "%s", hx);
	if ((r = record_hash(g, g->hash)) != 0 ||
	    (r = record_format(g, &line, &len)) != 0)
		goto out;
	if (link != NULL) {
		strcpy(l->seqs, "1");
		l->seq = 1;
		l->t = g->t;
		memcpy(l->time, g->time, sizeof(l->time));
		strcpy(l->event, HK_AUDIT_EV_LINK);
		strcpy(l->result, "ok");
		strcpy(l->actors, "-");
		hk_hex_encode(link->hash, 32, lh);
		l->dlen = (size_t)snprintf((char *)l->details,
		    sizeof(l->details), LINK_FMT, link->log_id,
		    (unsigned long long)link->seq, lh);
		memcpy(l->prev, g->hash, 32);
		if ((r = record_hash(l, l->hash)) != 0 ||
		    (r = record_format(l, &line2, &len2)) != 0)
			goto out;
		if ((both = malloc(len + len2)) == NULL) {
			r = HK_ERR_ALLOC;
			goto out;
		}
		memcpy(both, line, len);
		memcpy(both + len, line2, len2);
	}
	if ((r = hk_file_write(path, both ? both : line, len + len2, LOG_MODE,
	    HK_WRITE_NOREPLACE)) != 0)
		goto out;
	r = head_write(path, log_id, link != NULL ? l : g);
	if (id != NULL)
		memcpy(id, hx, sizeof(hx));
 out:
	free(line);
	free(line2);
	free(both);
	free(g);
	free(l);
	return r;
}

int
hk_audit_create(const char *path)
{
	if (path == NULL)
		return HK_ERR_INVALID;
	return log_create(path, NULL, NULL);
}

static int
append_args_ok(const char *event, const char *result, const char *actors,
    const char *details)
{
	if (event == NULL || !ok_event(event, strlen(event)) ||
	    strncmp(event, "audit.", 6) == 0) {
		hk_err_set("audit: event \"%s\": must be [a-z0-9][a-z0-9._-]"
		    "{0,63} and not audit.*", event ? event : "(null)");
		return 0;
	}
	if (result == NULL || !ok_result(result, strlen(result))) {
		hk_err_set("audit: result \"%s\": must be [a-z][a-z0-9_-]"
		    "{0,31}", result ? result : "(null)");
		return 0;
	}
	if (!ok_actors(actors, strlen(actors))) {
		hk_err_set("audit: actors \"%s\": must be \"-\" or ids "
		    "[A-Za-z0-9][A-Za-z0-9._@-]{0,63} joined by ','", actors);
		return 0;
	}
	if (strlen(details) > HK_AUDIT_DETAILS_MAX) {
		hk_err_set("audit: details longer than %d bytes",
		    HK_AUDIT_DETAILS_MAX);
		return 0;
	}
	return 1;
}

int
hk_audit_append(const char *path, const char *event, const char *result,
    const char *actors, const char *details)
{
	unsigned char log_id[LOG_ID_LEN];
	struct rec *last = NULL, *r = NULL;
	struct hk_err_kept why;
	struct stat st;
	off_t last_off = 0;
	int fd = -1, ret = HK_ERR_ALLOC;

	if (actors == NULL)
		actors = "-";
	if (details == NULL)
		details = "";
	if (path == NULL || !append_args_ok(event, result, actors, details))
		return HK_ERR_INVALID;
	if ((last = malloc(sizeof(*last))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	if ((fd = log_open(path, O_RDONLY, LOCK_EX)) < 0) {
		ret = fd;
		fd = -1;
		goto out;
	}
	if ((ret = tail_read(path, fd, log_id, last, &last_off)) != 0 ||
	    (ret = refuse_if_closing(path, fd, last, last_off)) != 0)
		goto out;
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	if ((ret = head_reconcile(path, log_id, last, r)) != 0)
		goto undo;
	memset(r, 0, sizeof(*r));
	record_now(r);
	strcpy(r->event, event);
	strcpy(r->result, result);
	strcpy(r->actors, actors);
	r->dlen = strlen(details);
	memcpy(r->details, details, r->dlen);
	if ((ret = record_append(path, last, r)) != 0)
		goto undo;
	if ((ret = head_write(path, log_id, last)) == 0)
		goto out;
 undo:
	hk_err_keep(&why);
	append_undo(path, fd, st.st_size, last);
	hk_err_restore(&why);
 out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	free(last);
	free(r);
	return ret;
}

/*
 * The checkpoint record after last (not yet chained: record_append does
 * that): signed by key over the log id, last's seq and hash and its own
 * time, the signature checked with the key before it is used.
 */
static int
ckpt_fill(const char *path, EVP_PKEY *key, const char *key_label,
    const unsigned char fp[32], const unsigned char log_id[LOG_ID_LEN],
    const struct rec *last, struct rec *r)
{
	unsigned char m[CKPT_MSG_LEN], sig[SIG_MAX];
	char b64[(SIG_MAX + 2) / 3 * 4 + 1], fph[65];
	size_t siglen = 0;
	int ret, n;

	memset(r, 0, sizeof(*r));
	record_now(r);
	strcpy(r->event, HK_AUDIT_EV_CHECKPOINT);
	strcpy(r->result, "ok");
	strcpy(r->actors, "-");
	ckpt_message(log_id, last->seq, last->hash, r->time, m);
	if ((ret = sig_make(key, m, sizeof(m), sig, &siglen)) != 0)
		return ret;
	if (sig_check(key, m, sizeof(m), sig, siglen) != 1) {
		hk_err_set("%s: checkpoint signature by key %s does not verify "
		    "with its own public key; nothing written", path,
		    key_label);
		return HK_ERR_VERIFY;
	}
	b64_encode(sig, siglen, b64);
	hk_hex_encode(fp, 32, fph);
	n = snprintf((char *)r->details, sizeof(r->details),
	    "key=%s key-sha256=%s sig=%s", key_label, fph, b64);
	if (n < 0 || (size_t)n >= sizeof(r->details))
		return HK_ERR_INTERNAL;
	r->dlen = (size_t)n;
	return 0;
}

static int
checkpoint_args_ok(EVP_PKEY *key, const char *key_label)
{
	if (key == NULL || key_label == NULL ||
	    !ok_label(key_label, strlen(key_label))) {
		hk_err_set("audit: key label \"%s\": must be "
		    "[A-Za-z0-9._:@-]{1,64}", key_label ? key_label : "(null)");
		return 0;
	}
	if (!key_kind_ok(key)) {
		hk_err_set("audit: checkpoint key %s: must be RSA or EC",
		    key_label);
		return 0;
	}
	return 1;
}

/*
 * The checkpoint on the log open and locked (LOCK_EX) as fd. closing: the
 * close's own, on a log whose last record is audit.close; any other
 * refuses a log that is closed or being closed. rep: the scan's report.
 */
static int
checkpoint_fd(const char *path, int fd, EVP_PKEY *key, const char *key_label,
    int closing, struct hk_audit_report *rep)
{
	unsigned char fp[32];
	char *b64 = NULL, np[4096], nh[4096], hint[4200];
	struct scan *s = NULL;
	struct rec *r = NULL;
	struct hk_err_kept why;
	struct stat st;
	EVP_PKEY *pub = NULL;
	int ret = HK_ERR_ALLOC;

	if ((ret = hk_audit_key_sha256(key, fp)) != 0)
		return ret;
	ret = HK_ERR_ALLOC;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL ||
	    (b64 = malloc((SIG_MAX + 2) / 3 * 4 + 1)) == NULL)
		goto out;
	/* Sign only a chain rebuilt here from the first record, whose
	 * checkpoints this key signed: a log rewritten and re-signed with
	 * another key (and audit-key.pem replaced) is not sealed by the
	 * token. Checked with the public half in software, not the token.
	 * Every record's hash and every checkpoint's key fingerprint are
	 * checked, but only the last checkpoint's signature: this function
	 * is the only one that signs checkpoints, and it signed that one
	 * only after the same check, over the hash of the record before
	 * it, so by induction every earlier checkpoint verified when it
	 * did; the chain rebuilt here ending in that same hash, they are
	 * the same bytes and verify now. A forged or altered checkpoint
	 * is either the last (its signature fails) or followed by a
	 * genuine one whose signed hash no longer matches the chain (its
	 * signature fails). Checking them all made each checkpoint cost
	 * one verification per earlier checkpoint (~9,000 a year, 0.5 s
	 * and more by year end; bench/README.md "Year-end scale").
	 * audit verify still checks every signature. */
	if ((ret = pub_of(key, &pub)) != 0)
		goto out;
	s->pub = pub;
	memcpy(s->pub_fp, fp, sizeof(fp));
	s->last_sig_only = 1;
	if ((ret = rescan(s, fd, path, rep, "sign a checkpoint")) != 0)
		goto out;
	if (s->pend && sig_check(pub, s->pend_m, sizeof(s->pend_m),
	    s->pend_sig, s->pend_siglen) != 1) {
		report_fail(rep, s->pend_line, (int64_t)s->pend_line - 1,
		    "%s:%llu: record %lld: checkpoint signature does not "
		    "verify with the given public key", path,
		    (unsigned long long)s->pend_line,
		    (long long)s->pend_line - 1);
		hk_err_set("%s; refusing to sign a checkpoint", rep->reason);
		ret = HK_ERR_AUDIT;
		goto out;
	}
	hk_err_clear();
	close_hint(path, hint, sizeof(hint));
	if ((ret = next_path(path, np, sizeof(np))) != 0 ||
	    (ret = head_path(np, nh, sizeof(nh))) != 0)
		goto out;
	if (closing ? (rep->close_seq < 0 || rep->sealed) :
	    rep->close_seq >= 0) {
		if (closing)
			hk_err_set("%s: not a log whose last record is "
			    HK_AUDIT_EV_CLOSE, path);
		else
			hk_err_set("%s: the log is closed (record %lld is "
			    HK_AUDIT_EV_CLOSE "): finish the close with '%s'",
			    path, (long long)rep->close_seq, hint);
		ret = HK_ERR_AUDIT;
		goto out;
	}
	if (!closing && (ret = hk_path_lookup(nh)) != 0) {
		/* (a look-up that fails is said as such, not as a close
		 * stopped part-way) */
		if (ret == 1) {
			hk_err_set("%s: a close of the log stopped part-way (%s "
			    "is there): finish it with '%s'", path, nh, hint);
			ret = HK_ERR_AUDIT;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	if ((ret = head_reconcile(path, s->log_id, &s->last, r)) != 0)
		goto undo;
	if ((ret = ckpt_fill(path, key, key_label, fp, s->log_id, &s->last,
	    r)) != 0)
		goto undo;
	if ((ret = record_append(path, &s->last, r)) != 0)
		goto undo;
	if ((ret = head_write(path, s->log_id, &s->last)) == 0) {
		hk_hex_encode(s->last.hash, 32, rep->last_hash);
		rep->records++;
		rep->checkpoints++;
		rep->last_checkpoint_seq = (int64_t)s->last.seq;
		if (closing)
			rep->sealed = 1;
		goto out;
	}
 undo:
	hk_err_keep(&why);
	append_undo(path, fd, st.st_size, &s->last);
	hk_err_restore(&why);
 out:
	EVP_PKEY_free(pub);
	free(s);
	free(r);
	free(b64);
	return ret;
}

int
hk_audit_checkpoint(const char *path, EVP_PKEY *key, const char *key_label)
{
	struct hk_audit_report rep;
	int fd, ret;

	if (path == NULL || !checkpoint_args_ok(key, key_label))
		return HK_ERR_INVALID;
	if ((fd = log_open(path, O_RDONLY, LOCK_EX)) < 0)
		return fd;
	ret = checkpoint_fd(path, fd, key, key_label, 0, &rep);
	close(fd);	/* releases the lock */
	return ret;
}

/* The one scan of the log behind verify, print and scan: pub checks the
 * checkpoints' signatures, print lists the records, each is called for
 * every record (each may be NULL). */
static int
verify_or_print(const char *path, EVP_PKEY *pub, FILE *print,
    struct hk_audit_report *rep,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg,
    int each_all)
{
	struct scan *s = NULL;
	int fd = -1, r = HK_ERR_ALLOC;

	report_init(rep);
	if (path == NULL)
		return HK_ERR_INVALID;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HK_ERR_ALLOC;
	s->path = path;
	s->pub = pub;
	s->print = print;
	s->rep = rep;
	s->each = each;
	s->arg = arg;
	s->each_all = each_all;
	if (pub != NULL) {
		if (!key_kind_ok(pub)) {
			hk_err_set("audit: the public key must be RSA or EC");
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = hk_audit_key_sha256(pub, s->pub_fp)) != 0)
			goto out;
		rep->signatures_checked = 1;
	}
	if ((fd = log_open(path, O_RDONLY, LOCK_SH)) < 0) {
		r = fd;
		fd = -1;
		goto out;
	}
	if ((r = scan_log(s, fd)) != 0)
		goto out;
	if (print == NULL && (r = scan_head(s)) != 0)
		goto out;
	if (rep->reason[0] != '\0') {	/* a finding from the scan */
		hk_err_set("%s", rep->reason);
		r = HK_ERR_AUDIT;
	}
 out:
	if (fd >= 0)
		close(fd);
	free(s);
	return r;
}

/* ---- a copy (a backup of the state; docs/backup.md) ----------------- */

/* Copy the n bytes from fd into a new file to (mode 0600, fsynced with
 * its folder), hashing what was written. */
static int
copy_bytes(const char *path, int fd, off_t n, const char *to,
    unsigned char sha[32], int *placed)
{
	struct hk_wfile *wf = NULL;
	unsigned char *buf = NULL;
	EVP_MD_CTX *h = NULL;
	off_t off = 0;
	ssize_t got;
	size_t want;
	int r = HK_ERR_ALLOC;

	if ((wf = malloc(sizeof(*wf))) == NULL ||
	    (buf = malloc(1 << 16)) == NULL || (h = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if ((r = hk_wfile_open(wf, to, LOG_MODE, HK_WRITE_NOREPLACE)) != 0)
		goto out;
	while (off < n) {
		want = n - off < (1 << 16) ? (size_t)(n - off) : (1 << 16);
		if ((got = pread(fd, buf, want, off)) <= 0) {
			if (got < 0 && errno == EINTR)
				continue;
			hk_err_set("%s: cannot read: %s", path, got < 0 ?
			    strerror(errno) : "shorter than it was");
			hk_wfile_abort(wf);
			r = HK_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(h, buf, (size_t)got) != 1) {
			hk_wfile_abort(wf);
			r = HK_ERR_CRYPTO;
			goto out;
		}
		if ((r = hk_wfile_write(wf, buf, (size_t)got)) != 0) {
			hk_wfile_abort(wf);
			goto out;
		}
		off += got;
	}
	r = hk_wfile_commit(wf);
	*placed = wf->renamed;	/* also when the folder's fsync failed */
	if (r != 0)
		goto out;
	r = EVP_DigestFinal_ex(h, sha, NULL) == 1 ? 0 : HK_ERR_CRYPTO;
 out:
	EVP_MD_CTX_free(h);
	free(buf);
	free(wf);
	return r;
}

int
hk_audit_copy(const char *path, const char *to, struct hk_audit_copy *out)
{
	unsigned char log_id[LOG_ID_LEN];
	unsigned char *head = NULL;
	char hp[4096], thp[4096];
	struct rec *last = NULL;
	struct stat st;
	size_t hlen = 0;
	int fd = -1, r, made = 0, hmade = 0;

	memset(out, 0, sizeof(*out));
	if ((r = head_path(path, hp, sizeof(hp))) != 0 ||
	    (r = head_path(to, thp, sizeof(thp))) != 0)
		return r;
	if ((last = malloc(sizeof(*last))) == NULL)
		return HK_ERR_ALLOC;
	/* the shared lock: no append is under way while the log and its
	 * head file are read, so neither holds half of one */
	if ((fd = log_open(path, O_RDONLY, LOCK_SH)) < 0) {
		r = fd;
		fd = -1;
		goto out;
	}
	if ((r = tail_read(path, fd, log_id, last, NULL)) != 0)
		goto out;
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if ((r = hk_file_read(hp, 512, &head, &hlen)) != 0)
		goto out;
	/* made, hmade: this call's copies in place, to be removed on a
	 * failure (also one whose folder fsync failed after its rename) */
	if ((r = copy_bytes(path, fd, st.st_size, to, out->log_sha256,
	    &made)) != 0 ||
	    (r = hk_file_write_placed(thp, head, hlen, LOG_MODE,
	    HK_WRITE_NOREPLACE, &hmade)) != 0)
		goto out;
	SHA256(head, hlen, out->head_sha256);
	hk_hex_encode(log_id, LOG_ID_LEN, out->log_id);
	hk_hex_encode(last->hash, 32, out->last_hash);
	out->last_seq = last->seq;
	out->log_size = (uint64_t)st.st_size;
	out->head_size = hlen;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	if (r != 0 && made)
		(void)unlink(to);
	if (r != 0 && hmade)
		(void)unlink(thp);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	free(head);
	free(last);
	return r;
}

/* ---- the newest record of the log's end (the clock guard) ---------- */

/*
 * The newest record of the last `window` bytes of one log (since: as
 * hk_audit_newest). *size: the log's size; *accepted: a `since` record was
 * among them; prev: the closed log's id when the window held the whole
 * log and record 1 is an audit.link, else "". want_id: the log id the log
 * must have (a closed log named by a link), or NULL.
 */
static int
newest_one(const char *path, const char *since, size_t window,
    const char *want_id, struct hk_audit_newest *out, size_t *size,
    int *accepted, char prev[33])
{
	unsigned char log_id[LOG_ID_LEN];
	struct rec *last = NULL, *r = NULL;
	struct hk_audit_report *rep = NULL;
	struct stat st;
	char *buf = NULL, why[160], idhex[2 * LOG_ID_LEN + 1];
	size_t want, pos, end;
	off_t off;
	int fd = -1, ret = HK_ERR_ALLOC, found = 0;

	memset(out, 0, sizeof(*out));
	*size = 0;
	*accepted = 0;
	prev[0] = '\0';
	if ((last = malloc(sizeof(*last))) == NULL ||
	    (r = malloc(sizeof(*r))) == NULL ||
	    (rep = calloc(1, sizeof(*rep))) == NULL ||
	    (buf = malloc(window)) == NULL)
		goto out;
	if ((fd = log_open(path, O_RDONLY, LOCK_SH)) < 0) {
		ret = fd;
		fd = -1;
		goto out;
	}
	if ((ret = tail_read(path, fd, log_id, last, NULL)) != 0)
		goto out;
	hk_hex_encode(log_id, LOG_ID_LEN, idhex);
	if (want_id != NULL && strcmp(idhex, want_id) != 0) {
		hk_err_set("%s: is log %s, not the closed log %s the live "
		    "log links back to; run audit verify", path, idhex,
		    want_id);
		ret = HK_ERR_AUDIT;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	*size = (size_t)st.st_size;
	want = (size_t)st.st_size < window ? (size_t)st.st_size : window;
	off = st.st_size - (off_t)want;
	if (pread(fd, buf, want, off) != (ssize_t)want) {
		hk_err_set("%s: cannot read: %s", path, strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	/* tail_read saw the last byte is '\n'; a window that starts inside
	 * a line begins after that line's end */
	pos = 0;
	if (off > 0) {
		while (pos < want && buf[pos] != '\n')
			pos++;
		pos++;
	}
	ret = HK_ERR_AUDIT;
	for (; pos < want; pos = end) {
		end = pos;
		while (end < want && buf[end] != '\n')
			end++;
		end++;	/* past the '\n' (the window ends in one) */
		if (record_parse(buf + pos, end - pos, r, why,
		    sizeof(why)) != 0) {
			hk_err_set("%s: a record of the log's end: %s; run "
			    "audit verify", path, why);
			goto out;
		}
		if (off == 0 && r->seq == 1 &&
		    strcmp(r->event, HK_AUDIT_EV_LINK) == 0 &&
		    link_parse(r, rep) == 0)
			memcpy(prev, rep->prev_log_id, 33);
		if (since != NULL && strcmp(r->event, since) == 0)
			*accepted = 1;
		if ((since != NULL && strcmp(r->event, since) == 0) ||
		    !found || r->t >= out->t) {
			out->seq = r->seq;
			out->t = r->t;
			memcpy(out->time, r->time, sizeof(out->time));
			snprintf(out->event, sizeof(out->event), "%s",
			    r->event);
			found = 1;
		}
	}
	if (!found || r->seq != last->seq) {
		hk_err_set("%s: the log's end does not read as records; run "
		    "audit verify", path);
		goto out;
	}
	out->last_seq = last->seq;
	memcpy(out->last_time, last->time, sizeof(out->last_time));
	ret = 0;
 out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	if (ret != 0)
		memset(out, 0, sizeof(*out));
	free(buf);
	free(last);
	free(r);
	free(rep);
	return ret;
}

int
hk_audit_newest(const char *path, const char *since,
    struct hk_audit_newest *out)
{
	struct hk_audit_newest *more = NULL;
	char prev[33], id[33], *closed = NULL;
	size_t left = HK_AUDIT_NEWEST_WINDOW, size;
	int r, accepted;

	memset(out, 0, sizeof(*out));
	if (path == NULL)
		return HK_ERR_INVALID;
	if ((r = newest_one(path, since, left, NULL, out, &size, &accepted,
	    prev)) != 0)
		return r;
	/* A log begun by a close (record 1 an audit.link) whose whole is in
	 * the window: its first records are the close's own, dated by the
	 * close's clock; the window goes on into the closed log it links
	 * back to (audit/closed/), and through its own link, as long as no
	 * `since` record was read. A closed log no longer there (after its
	 * year) ends it. */
	if ((more = malloc(sizeof(*more))) == NULL ||
	    (closed = malloc(sizeof(out->closed))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	while (!accepted && prev[0] != '\0' && size < left) {
		left -= size;
		memcpy(id, prev, sizeof(id));
		if ((r = hk_audit_find_closed(path, id, closed,
		    sizeof(out->closed))) == HK_ERR_NOT_FOUND) {
			hk_err_clear();
			break;
		}
		if (r != 0 || (r = newest_one(closed, since, left, id, more,
		    &size, &accepted, prev)) != 0)
			goto out;
		/* equal times: the live log's, the later records */
		if (more->t > out->t) {
			out->seq = more->seq;
			out->t = more->t;
			memcpy(out->time, more->time, sizeof(out->time));
			memcpy(out->event, more->event, sizeof(out->event));
			memcpy(out->closed, closed, sizeof(out->closed));
		}
	}
	r = 0;
 out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	free(more);
	free(closed);
	return r;
}

int
hk_audit_verify(const char *path, EVP_PKEY *pub, struct hk_audit_report *rep)
{
	struct hk_audit_report local;

	return verify_or_print(path, pub, NULL, rep != NULL ? rep : &local,
	    NULL, NULL, 0);
}

int
hk_audit_verify_each(const char *path, EVP_PKEY *pub,
    struct hk_audit_report *rep,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg)
{
	if (rep == NULL || each == NULL)
		return HK_ERR_INVALID;
	return verify_or_print(path, pub, NULL, rep, each, arg, 1);
}

int
hk_audit_scan(const char *path,
    int (*each)(const struct hk_audit_record *rec, void *arg), void *arg)
{
	struct hk_audit_report rep;

	if (each == NULL)
		return HK_ERR_INVALID;
	return verify_or_print(path, NULL, NULL, &rep, each, arg, 0);
}

int
hk_audit_print(const char *path, FILE *out)
{
	struct hk_audit_report rep;

	if (out == NULL)
		return HK_ERR_INVALID;
	return verify_or_print(path, NULL, out, &rep, NULL, NULL, 0);
}

/* ---- the yearly close (docs/audit-log.md "Retention") ----------------- */

/* The head file names the last record; after a crash between an append
 * and its head write, it is brought forward; anything else refuses. */
static int
head_settle(const char *path, const struct scan *s)
{
	const unsigned char *log_id = s->log_id;
	const struct rec *last = &s->last;
	struct head h;
	char why[600], hid[33];
	int r;

	hk_hex_encode(log_id, LOG_ID_LEN, hid);
	if ((r = head_read(path, &h, why, sizeof(why))) == 0 &&
	    strcmp(h.log_id, hid) == 0) {
		if (h.seq == last->seq && memcmp(h.hash, last->hash, 32) == 0)
			return 0;
		if ((h.seq + 1 == last->seq &&
		    memcmp(h.hash, last->prev, 32) == 0) || close_lag(s, &h))
			return head_write(path, log_id, last);
	}
	if (r != 0 && r != HK_ERR_NOT_FOUND && r != HK_ERR_AUDIT)
		return r;
	hk_err_set("%s.head: does not name the log's last record (%s); "
	    "refusing to close: run audit verify", path,
	    r == HK_ERR_NOT_FOUND ? "missing" : r != 0 ? why : "another record");
	return HK_ERR_AUDIT;
}

/* from -> to as a second name (a hard link): there already as the same
 * file is done; another file there refuses. */
static int
link_closed(const char *from, const char *to)
{
	struct stat a, b;

	if (link(from, to) == 0)
		return 0;
	if (errno == EEXIST && lstat(from, &a) == 0 && lstat(to, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return 0;
	hk_err_set("%s: %s", to, errno == EEXIST ? "already there, and not "
	    "the log being closed; refusing to close (for the internal "
	    "auditor)" : strerror(errno));
	return errno == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
}

static int
rename_synced(const char *from, const char *to, const char *dir)
{
	if (rename(from, to) != 0) {
		hk_err_set("%s: cannot rename to %s: %s", from, to,
		    strerror(errno));
		return HK_ERR_IO;
	}
	if (hk_dir_sync(dir) != 0) {
		hk_err_set("%s: cannot fsync the folder: %s", dir,
		    strerror(errno));
		return HK_ERR_IO;
	}
	return 0;
}

static int
dir_of(const char *path, char *buf, size_t len)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp) ||
	    snprintf(buf, len, "%s", dirname(tmp)) >= (int)len) {
		hk_err_set("%s: path too long", path);
		return HK_ERR_INVALID;
	}
	return 0;
}

/*
 * audit.close and the checkpoint over it, appended as one write (so that
 * no crash leaves a close record without its seal, nor room for a record
 * between them), then the head file; a failure cuts both off again.
 */
static int
close_and_seal(const char *path, int fd, struct scan *s, EVP_PKEY *key,
    const char *key_label, const char *actors)
{
	struct rec *c = NULL, *k = NULL;
	char *l1 = NULL, *l2 = NULL, *both = NULL, id[33];
	unsigned char fp[32];
	struct hk_err_kept why;
	struct stat st;
	size_t n1, n2;
	int ret;

	if ((ret = hk_audit_key_sha256(key, fp)) != 0)
		return ret;
	if ((ret = head_settle(path, s)) != 0)
		return ret;
	if (fstat(fd, &st) != 0) {
		hk_err_set("%s: cannot stat: %s", path, strerror(errno));
		return HK_ERR_IO;
	}
	ret = HK_ERR_ALLOC;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (k = calloc(1, sizeof(*k))) == NULL)
		goto out;
	record_now(c);
	strcpy(c->event, HK_AUDIT_EV_CLOSE);
	strcpy(c->result, "ok");
	snprintf(c->actors, sizeof(c->actors), "%s", actors);
	hk_hex_encode(s->log_id, LOG_ID_LEN, id);
	c->dlen = (size_t)snprintf((char *)c->details, sizeof(c->details),
	    CLOSE_PREFIX "%s", id);
	c->seq = s->last.seq + 1;
	snprintf(c->seqs, sizeof(c->seqs), "%llu", (unsigned long long)c->seq);
	memcpy(c->prev, s->last.hash, 32);
	if ((ret = record_hash(c, c->hash)) != 0 ||
	    (ret = ckpt_fill(path, key, key_label, fp, s->log_id, c, k)) != 0)
		goto out;
	k->seq = c->seq + 1;
	snprintf(k->seqs, sizeof(k->seqs), "%llu", (unsigned long long)k->seq);
	memcpy(k->prev, c->hash, 32);
	if ((ret = record_hash(k, k->hash)) != 0 ||
	    (ret = record_format(c, &l1, &n1)) != 0 ||
	    (ret = record_format(k, &l2, &n2)) != 0)
		goto out;
	if ((both = malloc(n1 + n2)) == NULL) {
		ret = HK_ERR_ALLOC;
		goto out;
	}
	memcpy(both, l1, n1);
	memcpy(both + n1, l2, n2);
	if ((ret = hk_file_append(path, both, n1 + n2, LOG_MODE)) != 0 ||
	    (ret = head_write(path, s->log_id, k)) != 0) {
		hk_err_keep(&why);
		append_undo(path, fd, st.st_size, k);
		hk_err_restore(&why);
		goto out;
	}
	memcpy(&s->last, k, sizeof(*k));
 out:
	free(c);
	free(k);
	free(l1);
	free(l2);
	free(both);
	return ret;
}

int
hk_audit_find_closed(const char *path, const char *prev_log_id, char *buf,
    size_t len)
{
	char dir[4096], cdir[4200], pat[128];
	struct dirent *e;
	DIR *d;
	int r, i;

	if ((r = dir_of(path, dir, sizeof(dir))) != 0)
		return r;
	snprintf(cdir, sizeof(cdir), "%s/" CLOSED_DIR, dir);
	snprintf(pat, sizeof(pat), "audit-%s-[0-9][0-9][0-9][0-9][0-9][0-9]"
	    "[0-9][0-9].log", prev_log_id);
	/* closed/ beside the log, or the log's own folder (a closed log's
	 * link: the closed log before it is beside it) */
	for (i = 0, r = HK_ERR_NOT_FOUND; i < 2 && r != 0; i++) {
		if ((d = opendir(i == 0 ? cdir : dir)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			if (fnmatch(pat, e->d_name, 0) == 0) {
				if (snprintf(buf, len, "%s/%s", i == 0 ? cdir :
				    dir, e->d_name) < (int)len)
					r = 0;
				break;
			}
		closedir(d);
	}
	if (r != 0)
		hk_err_set("%s: no closed log of log %s", cdir, prev_log_id);
	return r;
}

int
hk_audit_close(const char *path, EVP_PKEY *key, const char *key_label,
    const char *actors, struct hk_audit_closed *outp)
{
	struct hk_audit_closed local, *out = outp != NULL ? outp : &local;
	struct hk_audit_report *rep = NULL, *rep2 = NULL;
	char np[4096], nh[4200], hp[4096], dir[4096], cdir[4200];
	char cl[4096], clh[4200], day[9];
	struct link_to link;
	struct scan *s = NULL;
	struct rec *r = NULL;
	struct stat st;
	EVP_PKEY *pub = NULL;
	int fd = -1, nfd = -1, ret;

	memset(out, 0, sizeof(*out));
	if (actors == NULL)
		actors = "-";
	if (path == NULL || (key != NULL &&
	    !checkpoint_args_ok(key, key_label)))
		return HK_ERR_INVALID;
	if (!ok_actors(actors, strlen(actors))) {
		hk_err_set("audit: actors \"%s\": must be \"-\" or ids "
		    "[A-Za-z0-9][A-Za-z0-9._@-]{0,63} joined by ','", actors);
		return HK_ERR_INVALID;
	}
	if ((ret = next_path(path, np, sizeof(np))) != 0 ||
	    (ret = head_path(np, nh, sizeof(nh))) != 0 ||
	    (ret = head_path(path, hp, sizeof(hp))) != 0 ||
	    (ret = dir_of(path, dir, sizeof(dir))) != 0)
		return ret;
	snprintf(cdir, sizeof(cdir), "%s/" CLOSED_DIR, dir);
	ret = HK_ERR_ALLOC;
	if ((rep = malloc(sizeof(*rep))) == NULL ||
	    (rep2 = malloc(sizeof(*rep2))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		goto out;
	/* The close's checkpoint seals the log as any other (checkpoint_fd):
	 * every earlier checkpoint's signature checked with key's public
	 * half, so a log re-signed by another key is not sealed (this runs
	 * once a year: all of them, not the last only). */
	if (key != NULL && ((ret = pub_of(key, &pub)) != 0 ||
	    (ret = hk_audit_key_sha256(key, s->pub_fp)) != 0))
		goto out;
	s->pub = pub;
	if ((fd = log_open(path, O_RDONLY, LOCK_EX)) < 0) {
		ret = fd;
		fd = -1;
		goto out;
	}
	/* 1. Where an earlier close stopped, if one did. */
	if ((ret = rescan(s, fd, path, rep, "close")) != 0)
		goto out;
	if (rep->linked && rep->close_seq < 0 && hk_path_exists(nh)) {
		/* the new log in place, its head file not yet: finish */
		struct head h;
		char w[600];

		if (head_read(np, &h, w, sizeof(w)) != 0 ||
		    strcmp(h.log_id, rep->log_id) != 0 ||
		    h.seq != s->last.seq ||
		    memcmp(h.hash, s->last.hash, 32) != 0) {
			hk_err_set("%s: does not name the live log's last "
			    "record; refusing to finish the close (for the "
			    "internal auditor)", nh);
			ret = HK_ERR_AUDIT;
			goto out;
		}
		if ((ret = rename_synced(nh, hp, dir)) != 0)
			goto out;
		out->resumed = 1;
		memcpy(out->old_log_id, rep->prev_log_id, 33);
		out->last_seq = rep->prev_seq;
		memcpy(out->last_hash, rep->prev_hash, 65);
		memcpy(out->new_log_id, rep->log_id, 33);
		if (hk_audit_find_closed(path, rep->prev_log_id,
		    out->closed_log, sizeof(out->closed_log)) != 0)
			out->closed_log[0] = '\0';
		hk_err_clear();
		ret = 0;
		goto out;
	}
	if (rep->reason[0] != '\0') {	/* head-mismatch records */
		hk_err_set("%s; refusing to close (for the internal auditor: "
		    "docs/audit-log.md)", rep->reason);
		ret = HK_ERR_AUDIT;
		goto out;
	}
	if (rep->close_seq < 0) {
		if (hk_path_exists(np) || hk_path_exists(nh)) {
			hk_err_set("%s: there, but the log is not closed: not "
			    "a close's new log; refusing to close (for the "
			    "internal auditor)", hk_path_exists(np) ? np : nh);
			ret = HK_ERR_EXISTS;
			goto out;
		}
		if ((ret = head_settle(path, s)) != 0)
			goto out;
		if (fstat(fd, &st) != 0) {
			hk_err_set("%s: cannot stat: %s", path,
			    strerror(errno));
			ret = HK_ERR_IO;
			goto out;
		}
		if (key == NULL) {
			hk_err_set("%s: the log is not closed: closing it "
			    "needs the audit key", path);
			ret = HK_ERR_STATE;
			goto out;
		}
		/* 2. The close record and its checkpoint, one write. */
		if ((ret = close_and_seal(path, fd, s, key, key_label,
		    actors)) != 0)
			goto out;
	} else if (!rep->sealed) {
		/* only a torn write leaves this: not a close's */
		hk_err_set("%s: record %lld is " HK_AUDIT_EV_CLOSE " without "
		    "its checkpoint; refusing to close (for the internal "
		    "auditor)", path, (long long)rep->close_seq);
		ret = HK_ERR_AUDIT;
		goto out;
	} else if ((ret = head_settle(path, s)) != 0)
		goto out;
	report_init(rep);
	if ((ret = scan_log(s, fd)) != 0 || rep->close_seq < 0 ||
	    !rep->sealed) {
		if (ret == 0) {
			hk_err_set("%s: not closed and sealed after the close",
			    path);
			ret = HK_ERR_INTERNAL;
		}
		goto out;
	}
	memcpy(link.log_id, rep->log_id, 33);
	link.seq = s->last.seq;
	memcpy(link.hash, s->last.hash, 32);
	/* 4. The new log beside it. What a close that stopped left of one
	 * was never live (nothing appends to it): begun again. */
	if ((unlink(np) != 0 && errno != ENOENT) ||
	    (unlink(nh) != 0 && errno != ENOENT)) {
		hk_err_set("%s: cannot remove: %s", np, strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	if ((ret = log_create(np, &link, out->new_log_id)) != 0)
		goto out;
	if ((nfd = log_open(np, O_RDONLY, LOCK_EX)) < 0) {
		ret = nfd;
		nfd = -1;
		goto out;
	}
	if (key != NULL && (ret = checkpoint_fd(np, nfd, key, key_label, 0,
	    rep2)) != 0)
		goto out;
	/* 5. The closed log and its head file into closed/, read-only. */
	if (mkdir(cdir, 0700) != 0 && errno != EEXIST) {
		hk_err_set("%s: cannot create folder: %s", cdir,
		    strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	if (hk_dir_sync(dir) != 0) {
		hk_err_set("%s: cannot fsync the folder", dir);
		ret = HK_ERR_IO;
		goto out;
	}
	memcpy(day, rep->close_time, 4);
	memcpy(day + 4, rep->close_time + 5, 2);
	memcpy(day + 6, rep->close_time + 8, 2);
	day[8] = '\0';
	if (snprintf(cl, sizeof(cl), "%s/audit-%s-%s.log", cdir, rep->log_id,
	    day) >= (int)sizeof(cl)) {
		hk_err_set("%s: path too long", cdir);
		ret = HK_ERR_INVALID;
		goto out;
	}
	snprintf(clh, sizeof(clh), "%s.head", cl);
	if ((ret = link_closed(path, cl)) != 0 ||
	    (ret = link_closed(hp, clh)) != 0)
		goto out;
	if (chmod(cl, CLOSED_MODE) != 0 || chmod(clh, CLOSED_MODE) != 0 ||
	    hk_dir_sync(cdir) != 0) {
		hk_err_set("%s: cannot make it read-only and durable: %s", cl,
		    strerror(errno));
		ret = HK_ERR_IO;
		goto out;
	}
	/* 6. The new log over the live one, then its head file. */
	if ((ret = rename_synced(np, path, dir)) != 0 ||
	    (ret = rename_synced(nh, hp, dir)) != 0)
		goto out;
	memcpy(out->closed_log, cl, sizeof(cl));
	memcpy(out->old_log_id, rep->log_id, 33);
	out->last_seq = link.seq;
	hk_hex_encode(link.hash, 32, out->last_hash);
	ret = 0;
 out:
	if (nfd >= 0)
		close(nfd);
	if (fd >= 0)
		close(fd);	/* waiting appends go to the new log */
	EVP_PKEY_free(pub);
	free(rep);
	free(rep2);
	free(s);
	free(r);
	return ret;
}

int
hk_audit_verify_link(const struct hk_audit_report *rn, const char *prev,
    EVP_PKEY *pub, struct hk_audit_report *rp_out)
{
	struct hk_audit_report local, *rp = rp_out != NULL ? rp_out : &local;
	int r;

	if (rn == NULL || prev == NULL)
		return HK_ERR_INVALID;
	if (!rn->linked) {
		report_init(rp);
		hk_err_set("log %s does not begin with an " HK_AUDIT_EV_LINK
		    " record: no previous log to check", rn->log_id);
		return HK_ERR_AUDIT;
	}
	if ((r = hk_audit_verify(prev, pub, rp)) != 0) {
		if (r == HK_ERR_AUDIT)
			hk_err_set("the closed log before this one fails: %s",
			    rp->reason);
		return r;
	}
	if (rp->close_seq < 0 || !rp->sealed ||
	    rp->records != (uint64_t)rp->close_seq + 2) {
		hk_err_set("%s: does not end with " HK_AUDIT_EV_CLOSE " and "
		    "its checkpoint: not a closed log", prev);
		return HK_ERR_AUDIT;
	}
	if (strcmp(rp->log_id, rn->prev_log_id) != 0) {
		hk_err_set("%s: is log %s, but the link (record 1 of log %s) "
		    "names log %s: another closed log", prev, rp->log_id,
		    rn->log_id, rn->prev_log_id);
		return HK_ERR_AUDIT;
	}
	if (rp->records - 1 != rn->prev_seq ||
	    strcmp(rp->last_hash, rn->prev_hash) != 0) {
		hk_err_set("%s: ends at record %llu hash %s, but the link "
		    "names record %llu hash %s: the closed log was changed",
		    prev, (unsigned long long)(rp->records - 1), rp->last_hash,
		    (unsigned long long)rn->prev_seq, rn->prev_hash);
		return HK_ERR_AUDIT;
	}
	return 0;
}

/* Until when CPS 4-11-4 keeps the closed log rn's link names: a year
 * after the link record (the close's time, its last record's). */
static int
closed_keep(const struct hk_audit_report *rn, time_t *keep, char *until,
    size_t len)
{
	struct tm tm;
	time_t lt;

	if (hk_time_parse(rn->link_time, &lt) != 0 ||
	    gmtime_r(&lt, &tm) == NULL)
		return HK_ERR_INTERNAL;
	tm.tm_year++;
	*keep = timegm(&tm);
	hk_time_format(*keep, until, len);
	return 0;
}

int
hk_audit_check_reopened(const char *path, const struct hk_audit_report *rep)
{
	char found[4096];
	int r;

	/* A closed log of this log's own id in closed/ while this log is
	 * not closed: the log was closed, and an older copy of it (a
	 * backup, a copy taken before the close) put back in place of the
	 * log the close began; the chain of a prefix is sound, so nothing
	 * else would find it. The closed log itself (a close that stopped
	 * after linking it, or --log of it) is the same file, or sealed. */
	if (rep->log_id[0] != '\0' && !(rep->close_seq >= 0 && rep->sealed)) {
		struct stat a, b;

		r = hk_audit_find_closed(path, rep->log_id, found,
		    sizeof(found));
		if (r != 0 && r != HK_ERR_NOT_FOUND)
			return r;
		hk_err_clear();
		if (r == 0 && !(stat(path, &a) == 0 &&
		    stat(found, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)) {
			hk_err_set("%s: log %s was closed already (%s), but "
			    "this log is not: an older copy of the log was "
			    "put back in place of the log its close began "
			    "(records since record %llu missing): an incident "
			    "for the internal auditor", path, rep->log_id,
			    found, (unsigned long long)rep->records);
			return HK_ERR_AUDIT;
		}
	}
	return 0;
}

int
hk_audit_check_previous(const char *path, const struct hk_audit_report *rep,
    const char *prev, EVP_PKEY *pub, FILE *out)
{
	struct hk_audit_report rp, cur;
	const struct hk_audit_report *rn = rep;
	char found[4096], lpath[4096], until[21];
	time_t keep;
	int r, depth;

	if (rep->close_seq >= 0)
		fprintf(out, "  closed: record %lld is " HK_AUDIT_EV_CLOSE
		    " (%s)%s\n", (long long)rep->close_seq, rep->close_time,
		    rep->sealed ? ", sealed by the checkpoint after it" :
		    "; its checkpoint is missing: the close stopped part-way");
	if ((r = hk_audit_check_reopened(path, rep)) != 0)
		return r;
	if (!rep->linked)
		return 0;
	snprintf(lpath, sizeof(lpath), "%s", path);
	/* The closed log it links to, then the one that closed log links
	 * to, and so on: a second close within a closed log's year leaves
	 * that log linked from a closed log only (CPS 4-11-4). */
	for (depth = 0; ; depth++) {
		fprintf(out, "  %s after log %s (closed): the link names its "
		    "record %llu hash %s\n", depth == 0 ? "begins" :
		    "which begins", rn->prev_log_id,
		    (unsigned long long)rn->prev_seq, rn->prev_hash);
		if (depth > 0 || prev == NULL) {
			/* closed/ beside the live log, else beside the
			 * closed log that links to it */
			r = hk_audit_find_closed(path, rn->prev_log_id,
			    found, sizeof(found));
			if (r == HK_ERR_NOT_FOUND && depth > 0)
				r = hk_audit_find_closed(lpath,
				    rn->prev_log_id, found, sizeof(found));
			if (r != 0 && r != HK_ERR_NOT_FOUND)
				return r;
			if (r != 0) {
				if ((r = closed_keep(rn, &keep, until,
				    sizeof(until))) != 0)
					return r;
				if (hk_clock_now() < keep) {
					hk_err_set("%s: the closed log %s it "
					    "links to is missing (deleted or "
					    "moved?): CPS 4-11-4 keeps it until "
					    "%s; %s", lpath, rn->prev_log_id,
					    until, depth == 0 ? "give "
					    "--previous FILE if it is elsewhere" :
					    "put it back into audit/closed/");
					return HK_ERR_AUDIT;
				}
				fprintf(out, "  the closed log %s is no longer "
				    "there (kept until %s, CPS 4-11-4): link "
				    "not checked\n", rn->prev_log_id, until);
				hk_err_clear();
				return 0;
			}
			prev = found;
		}
		if ((r = hk_audit_verify_link(rn, prev, pub, &rp)) != 0)
			return r;
		fprintf(out, "  the closed log %s: OK: %llu records%s, ends "
		    "with " HK_AUDIT_EV_CLOSE " (record %lld) and its "
		    "checkpoint; the link matches its last record\n", prev,
		    (unsigned long long)rp.records, rp.signatures_checked ?
		    " (signatures verified)" : "", (long long)rp.close_seq);
		if (!rp.linked)
			return 0;
		snprintf(lpath, sizeof(lpath), "%s", prev);
		memcpy(&cur, &rp, sizeof(cur));
		rn = &cur;
	}
}

int
hk_audit_walk_closed(const char *path, const struct hk_audit_report *rep,
    EVP_PKEY *pub, int (*each)(const struct hk_audit_report *rn,
    const char *closed, const struct hk_audit_report *rp, void *arg),
    void *arg, struct hk_audit_gone *gone)
{
	struct hk_audit_report *rp = NULL, *cur = NULL;
	const struct hk_audit_report *rn = rep;
	char *found = NULL, *lpath = NULL, until[21];
	time_t keep;
	int r = HK_ERR_ALLOC;

	memset(gone, 0, sizeof(*gone));
	if (!rep->linked)
		return 0;
	if ((rp = malloc(sizeof(*rp))) == NULL ||
	    (cur = malloc(sizeof(*cur))) == NULL ||
	    (found = malloc(4096)) == NULL || (lpath = malloc(4096)) == NULL)
		goto out;
	snprintf(lpath, 4096, "%s", path);
	for (;;) {
		/* closed/ beside the live log, else beside the closed log
		 * that links to it */
		r = hk_audit_find_closed(path, rn->prev_log_id, found, 4096);
		if (r == HK_ERR_NOT_FOUND && strcmp(lpath, path) != 0)
			r = hk_audit_find_closed(lpath, rn->prev_log_id,
			    found, 4096);
		if (r == HK_ERR_NOT_FOUND) {
			if ((r = closed_keep(rn, &keep, until,
			    sizeof(until))) != 0)
				goto out;
			if (hk_clock_now() < keep) {
				hk_err_set("%s: the closed log %s it links to "
				    "is missing (deleted or moved?): CPS "
				    "4-11-4 keeps it until %s; put it back "
				    "into audit/closed/", lpath,
				    rn->prev_log_id, until);
				r = HK_ERR_AUDIT;
				goto out;
			}
			memcpy(gone->log_id, rn->prev_log_id,
			    sizeof(gone->log_id));
			memcpy(gone->until, until, sizeof(gone->until));
			hk_err_clear();
			r = 0;
			goto out;
		}
		if (r != 0 || (r = hk_audit_verify_link(rn, found, pub,
		    rp)) != 0 || (r = each(rn, found, rp, arg)) != 0 ||
		    !rp->linked)
			goto out;
		snprintf(lpath, 4096, "%s", found);
		memcpy(cur, rp, sizeof(*cur));
		rn = cur;
	}
 out:
	free(rp);
	free(cur);
	free(found);
	free(lpath);
	return r;
}

int
hk_audit_close_pending(const char *path)
{
	unsigned char log_id[LOG_ID_LEN];
	struct rec *last;
	off_t off = 0;
	int fd, r;

	if ((last = malloc(sizeof(*last))) == NULL)
		return HK_ERR_ALLOC;
	if ((fd = log_open(path, O_RDONLY, LOCK_SH)) < 0) {
		free(last);
		return fd;
	}
	if ((r = tail_read(path, fd, log_id, last, &off)) == 0)
		r = refuse_if_closing(path, fd, last, off) == HK_ERR_AUDIT;
	close(fd);
	free(last);
	hk_err_clear();
	return r;
}

int
hk_audit_pub_load(const char *path, EVP_PKEY **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, 16384, &buf, &len)) != 0)
		return r;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		hk_err_set("%s: not a PEM public key", path);
		r = HK_ERR_PARSE;
	}
	ERR_clear_error();
	BIO_free(bio);
	free(buf);
	return r;
}

int
hk_audit_prefix(const char *copy, const char *log, int *differs,
    uint64_t *record, int *missing)
{
	unsigned char *a = NULL, *b = NULL;
	uint64_t off = 0, lines = 0;
	ssize_t ga, gb;
	size_t k;
	int fa = -1, fb = -1, r = HK_ERR_ALLOC;

	*differs = 0;
	*record = 0;
	*missing = 0;
	if ((a = malloc(1 << 16)) == NULL || (b = malloc(1 << 16)) == NULL)
		goto out;
	if ((fa = open(copy, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (fb = open(log, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		hk_err_set("%s: cannot open: %s", fa < 0 ? copy : log,
		    strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	for (;;) {
		ga = pread(fa, a, 1 << 16, (off_t)off);
		gb = pread(fb, b, 1 << 16, (off_t)off);
		if (ga < 0 || gb < 0) {
			hk_err_set("%s: cannot read: %s", ga < 0 ? copy : log,
			    strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		for (k = 0; k < (size_t)ga && k < (size_t)gb; k++) {
			if (a[k] != b[k])
				break;
			if (a[k] == '\n')
				lines++;
		}
		if (k < (size_t)ga) {
			*differs = 1;
			*record = lines;
			*missing = k >= (size_t)gb;
			break;
		}
		if (ga == 0)
			break;
		off += (uint64_t)ga;
	}
	r = 0;
 out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(a);
	free(b);
	return r;
}

void
hk_audit_report_live(const char *path, const struct hk_audit_report *rep,
    int previous_ok, FILE *out)
{
	if (previous_ok)
		fprintf(out, "%s: OK: ", path);
	else
		fprintf(out, "%s: FAILS: the closed log before it does not "
		    "verify (below); the live log's own chain: ", path);
	fprintf(out, "%llu records, %llu signed checkpoints%s; last "
	    "checkpoint at record %lld; %llu records after it (covered by "
	    "the chain and the head file only)\n",
	    (unsigned long long)rep->records,
	    (unsigned long long)rep->checkpoints,
	    rep->signatures_checked ? " (signatures verified)" :
	    " (signatures NOT checked: no key)",
	    (long long)rep->last_checkpoint_seq,
	    (unsigned long long)rep->unsigned_records);
}

int
hk_audit_report_verified(const char *path, const struct hk_audit_report *rep,
    const char *prev, EVP_PKEY *pub, FILE *out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mf;
	int r;

	/* --previous is the closed log the link names: a log without one
	 * has nothing to check it against, and an OK must not read as if
	 * that file had been checked (audit verify and audit review) */
	if (prev != NULL && !rep->linked) {
		hk_err_set("--previous %s: %s begins with no audit.link (no "
		    "close before it): there is no closed log to check", prev,
		    path);
		return HK_ERR_USAGE;
	}
	/* a log put back after its close is not OK: nothing said of it */
	if ((r = hk_audit_check_reopened(path, rep)) != 0)
		return r;
	/* the closed logs before it, said after its line, which says
	 * whether they verified: collected first */
	if ((mf = open_memstream(&buf, &len)) == NULL) {
		hk_err_set("%s: cannot collect the report: %s", path,
		    strerror(errno));
		return HK_ERR_ALLOC;
	}
	r = hk_audit_check_previous(path, rep, prev, pub, mf);
	if (fclose(mf) != 0 && r == 0) {
		free(buf);
		hk_err_set("%s: cannot collect the report: %s", path,
		    strerror(errno));
		return HK_ERR_ALLOC;
	}
	hk_audit_report_live(path, rep, r == 0, out);
	hk_audit_report_notes(rep, out);
	if (buf != NULL)
		fputs(buf, out);
	free(buf);
	return r;
}

void
hk_audit_report_notes(const struct hk_audit_report *rep, FILE *out)
{
	if (rep->time_backsteps > 0)
		fprintf(out, "  %llu record%s older than the one before %s (a "
		    "clock set back or corrected: explain from the ceremony "
		    "records)\n", (unsigned long long)rep->time_backsteps,
		    rep->time_backsteps == 1 ? "" : "s",
		    rep->time_backsteps == 1 ? "it" : "them");
	if (rep->head_lag)
		fprintf(out, "  the head file names the record before the "
		    "last: a crash between the last append and its head update "
		    "(the next append brings it forward)\n");
}
