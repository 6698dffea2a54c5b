/*
 * quorum.c - quorum sets, sealed share files, recovery and sealed secrets.
 *
 * Order of checks when a share is presented (docs/quorum.md):
 *   file checksum and format       -> HK_ERR_SHARE_CORRUPT
 *   set id, retired set, m, n, ... -> HK_ERR_SHARE_FOREIGN
 *   index already presented        -> HK_ERR_SHARE_DUPLICATE
 *   AEAD under the passphrase key  -> HK_ERR_PASSPHRASE
 *   share value hash vs the set    -> HK_ERR_SHARE_FOREIGN
 * then fewer than m shares -> HK_ERR_QUORUM, combine, commitment ->
 * HK_ERR_COMMITMENT.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "quorum.h"
#include "secmem.h"
#include "shamir.h"

#define SHARE_BEGIN	"-----BEGIN HANKO QUORUM SHARE-----\n"
#define SHARE_END	"-----END HANKO QUORUM SHARE-----\n"
#define SHARE_VERSION	1
#define SET_VERSION	1
#define SHARE_FILE_MAX	8192		/* bytes of a share file */
#define SET_FILE_MAX	65536		/* bytes of a set record */
#define MAX_LINES	300		/* lines of either file */
#define VALUE_MAX	512		/* bytes of one value */
#define CKSUM_LINE_LEN	(10 + 64 + 1)	/* "checksum: " hex "\n" */
#define CT_LEN	(HK_QUORUM_KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)

#define LABEL_COMMIT	"hanko quorum commitment v1"
#define LABEL_SHARE	"hanko quorum share v1"
#define LABEL_SEAL	"hanko quorum sealed secret v1"
#define SEAL_MAGIC	"HKSEAL1\n"	/* 8 bytes */
#define SEAL_MAGIC_LEN	8
#define SEAL_NONCE	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_ABYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define LABEL_MAX	64

/* One parsed share file (public fields only; ct is the sealed value). */
struct share_file {
	uint8_t set_id[HK_QUORUM_ID_LEN];
	int index, m, n;
	char holder[HK_QUORUM_HOLDER_MAX + 1];
	uint8_t commitment[32];
	unsigned long long opslimit;
	size_t memlimit;
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ct[CT_LEN];
};

struct hk_quorum_dealer {
	struct hk_quorum_set *set;	/* the new public record */
	uint8_t *key;			/* secure: the quorum key */
	uint8_t (*values)[32];		/* secure: n share values */
	uint8_t *phkey;			/* secure: key of pass_hash */
	uint8_t (*pass_hash)[32];	/* secure: keyed hash per used pass */
	int pass_used[HK_QUORUM_MAX_SHARES];	/* 1 if pass_hash[i] set */
};

struct hk_quorum_collect {
	const struct hk_quorum_set *set;	/* not owned */
	int k;					/* shares added */
	uint8_t xs[HK_QUORUM_MAX_SHARES];	/* their indices */
	uint8_t (*values)[32];			/* secure: their values */
	char *path[HK_QUORUM_MAX_SHARES + 1];	/* [index]: file, or NULL */
};

struct kv {
	const char *key;	/* points into the file buffer */
	const char *val;
	int line;		/* 1-based line number in the file */
};

/* ---- small helpers ---------------------------------------------------- */

static void
id_hex(const uint8_t id[HK_QUORUM_ID_LEN], char out[2 * HK_QUORUM_ID_LEN + 1])
{
	hk_hex_encode(id, HK_QUORUM_ID_LEN, out);
}

static void
commitment_compute(const uint8_t id[HK_QUORUM_ID_LEN],
    const uint8_t key[HK_QUORUM_KEY_LEN], uint8_t out[32])
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)LABEL_COMMIT,
	    sizeof(LABEL_COMMIT));	/* with its NUL as separator */
	crypto_hash_sha256_update(&st, id, HK_QUORUM_ID_LEN);
	crypto_hash_sha256_update(&st, key, HK_QUORUM_KEY_LEN);
	crypto_hash_sha256_final(&st, out);
	hk_wipe(&st, sizeof(st));
}

static void
share_hash_compute(const uint8_t id[HK_QUORUM_ID_LEN], int index,
    const uint8_t value[32], uint8_t out[32])
{
	crypto_hash_sha256_state st;
	uint8_t x = (uint8_t)index;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)LABEL_SHARE,
	    sizeof(LABEL_SHARE));
	crypto_hash_sha256_update(&st, id, HK_QUORUM_ID_LEN);
	crypto_hash_sha256_update(&st, &x, 1);
	crypto_hash_sha256_update(&st, value, 32);
	crypto_hash_sha256_final(&st, out);
	hk_wipe(&st, sizeof(st));
}

static int
holder_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > HK_QUORUM_HOLDER_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Strict decimal: digits only, no sign, no leading zero, at most max. */
static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i, len = strlen(s);

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (unsigned long long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static void
kdf_params(int level, unsigned long long *ops, size_t *mem)
{
	switch (level) {
	case HK_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	case HK_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		break;
	default:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	}
}

int
hk_kdf_level_parse(const char *s, int *level)
{
	if (s != NULL && strcmp(s, "interactive") == 0)
		*level = HK_KDF_INTERACTIVE;
	else if (s != NULL && strcmp(s, "moderate") == 0)
		*level = HK_KDF_MODERATE;
	else if (s != NULL && strcmp(s, "sensitive") == 0)
		*level = HK_KDF_SENSITIVE;
	else {
		hk_err_set("kdf level '%.32s': must be interactive, moderate "
		    "or sensitive", s == NULL ? "" : s);
		return HK_ERR_USAGE;
	}
	return 0;
}

/*
 * Split buf[0..len) (NUL-terminated, modified in place) into "key: value"
 * lines. Every line ends with '\n', is printable ASCII, has a key of
 * [a-z0-9-] and a non-empty value. first_line: number of buf's first line.
 */
static int
split_lines(const char *path, char *buf, size_t len, int first_line,
    struct kv *kv, int *nkv, int err)
{
	size_t pos = 0, i;
	int n = 0, line = first_line;
	char *nl, *sep, *p;

	*nkv = 0;
	while (pos < len) {
		p = buf + pos;
		if ((nl = memchr(p, '\n', len - pos)) == NULL) {
			hk_err_set("%s:%d: line does not end with a newline",
			    path, line);
			return err;
		}
		*nl = '\0';
		if (n >= MAX_LINES) {
			hk_err_set("%s:%d: more than %d lines", path, line,
			    MAX_LINES);
			return err;
		}
		for (i = 0; p[i] != '\0'; i++)
			if (p[i] < 0x20 || p[i] > 0x7e) {
				hk_err_set("%s:%d: byte 0x%02x is not "
				    "printable ASCII", path, line,
				    (unsigned char)p[i]);
				return err;
			}
		if (p + i != nl) {
			hk_err_set("%s:%d: NUL byte in line", path, line);
			return err;
		}
		if ((sep = strstr(p, ": ")) == NULL || sep == p) {
			hk_err_set("%s:%d: not a 'field: value' line", path,
			    line);
			return err;
		}
		*sep = '\0';
		for (i = 0; p[i] != '\0'; i++)
			if (!islower((unsigned char)p[i]) &&
			    !isdigit((unsigned char)p[i]) && p[i] != '-') {
				hk_err_set("%s:%d: field name '%.32s' is not "
				    "[a-z0-9-]", path, line, p);
				return err;
			}
		if (sep[2] == '\0' || strlen(sep + 2) > VALUE_MAX ||
		    sep[2] == ' ' || nl[-1] == ' ') {
			hk_err_set("%s:%d: %s: value empty, longer than %d "
			    "bytes or padded with spaces", path, line, p,
			    VALUE_MAX);
			return err;
		}
		kv[n].key = p;
		kv[n].val = sep + 2;
		kv[n].line = line;
		n++;
		line++;
		pos = (size_t)(nl - buf) + 1;
	}
	*nkv = n;
	return 0;
}

/* Take the next line, which must be field name. */
static int
expect(const char *path, const struct kv *kv, int nkv, int *pos,
    const char *name, const char **val, int err)
{
	int i;

	if (*pos >= nkv) {
		hk_err_set("%s: field '%s' missing", path, name);
		return err;
	}
	if (strcmp(kv[*pos].key, name) != 0) {
		for (i = 0; i < *pos; i++)
			if (strcmp(kv[i].key, kv[*pos].key) == 0) {
				hk_err_set("%s:%d: field '%s' given twice "
				    "(first on line %d)", path, kv[*pos].line,
				    kv[*pos].key, kv[i].line);
				return err;
			}
		hk_err_set("%s:%d: unknown or misplaced field '%s' "
		    "(expected '%s')", path, kv[*pos].line, kv[*pos].key,
		    name);
		return err;
	}
	*val = kv[*pos].val;
	(*pos)++;
	return 0;
}

static int
expect_hex(const char *path, const struct kv *kv, int nkv, int *pos,
    const char *name, uint8_t *out, size_t outlen, int err)
{
	const char *v;
	int r, line;

	if ((r = expect(path, kv, nkv, pos, name, &v, err)) != 0)
		return r;
	line = kv[*pos - 1].line;
	if (hk_hex_decode(v, out, outlen) != 0) {
		hk_err_set("%s:%d: %s: must be %zu lowercase hex digits", path,
		    line, name, 2 * outlen);
		return err;
	}
	return 0;
}

static int
expect_uint(const char *path, const struct kv *kv, int nkv, int *pos,
    const char *name, unsigned long long lo, unsigned long long hi,
    unsigned long long *out, int err)
{
	const char *v;
	int r, line;

	if ((r = expect(path, kv, nkv, pos, name, &v, err)) != 0)
		return r;
	line = kv[*pos - 1].line;
	if (parse_uint(v, hi, out) != 0 || *out < lo) {
		hk_err_set("%s:%d: %s: '%.32s' is not a decimal number in "
		    "%llu..%llu", path, line, name, v, lo, hi);
		return err;
	}
	return 0;
}

/*
 * Check the trailing "checksum: <sha256>\n" line that covers every byte
 * before it, after the given suffix (SHARE_END or ""). Sets *body_len to
 * the length covered.
 */
static int
checksum_verify(const char *path, const char *buf, size_t len,
    const char *suffix, size_t *body_len, int err)
{
	size_t slen = strlen(suffix), off;
	uint8_t want[32], got[32];

	if (len < slen + CKSUM_LINE_LEN + 1 ||
	    memcmp(buf + len - slen, suffix, slen) != 0) {
		hk_err_set("%s: damaged: the file does not end with its "
		    "%s line", path, slen ? "END" : "checksum");
		return err;
	}
	off = len - slen - CKSUM_LINE_LEN;
	if (buf[off - 1] != '\n' || memcmp(buf + off, "checksum: ", 10) != 0 ||
	    buf[len - slen - 1] != '\n') {
		hk_err_set("%s: damaged: checksum line missing or malformed",
		    path);
		return err;
	}
	{
		char hex[65];

		memcpy(hex, buf + off + 10, 64);
		hex[64] = '\0';
		if (hk_hex_decode(hex, want, sizeof(want)) != 0) {
			hk_err_set("%s: damaged: checksum is not 64 lowercase "
			    "hex digits", path);
			return err;
		}
	}
	crypto_hash_sha256(got, (const uint8_t *)buf, off);
	if (memcmp(got, want, 32) != 0) {
		hk_err_set("%s: damaged: SHA-256 checksum does not match the "
		    "contents (file altered or media error)", path);
		return err;
	}
	*body_len = off;
	return 0;
}

static int
append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

static void
append_checksum(char *buf, size_t cap, size_t *len)
{
	uint8_t d[32];
	char hex[65];

	crypto_hash_sha256(d, (const uint8_t *)buf, *len);
	hk_hex_encode(d, 32, hex);
	(void)append(buf, cap, len, "checksum: %s\n", hex);
}

/* ---- set record --------------------------------------------------------- */

void
hk_quorum_set_free(struct hk_quorum_set *set)
{
	free(set);
}

int
hk_quorum_set_write(const char *path, const struct hk_quorum_set *set,
    int flags)
{
	char *buf = NULL, hex[65], idh[33], when[32];
	size_t cap = SET_FILE_MAX, len = 0;
	int i, r = HK_ERR_INTERNAL;

	if ((buf = malloc(cap)) == NULL)
		return HK_ERR_ALLOC;
	id_hex(set->id, idh);
	hk_time_format(set->created, when, sizeof(when));
	hk_hex_encode(set->commitment, 32, hex);
	if (append(buf, cap, &len, "hanko-quorum-set: %d\nset-id: %s\n"
	    "status: %s\ncreated: %s\nthreshold: %d\ncount: %d\n"
	    "commitment: %s\n", SET_VERSION, idh,
	    set->retired ? "retired" : "active", when, set->m, set->n,
	    hex) != 0)
		goto out;
	for (i = 0; i < set->n; i++) {
		hk_hex_encode(set->share_hash[i], 32, hex);
		if (append(buf, cap, &len, "share-%d: %s %s\n", i + 1, hex,
		    set->holder[i]) != 0)
			goto out;
	}
	if (len + CKSUM_LINE_LEN >= cap)
		goto out;
	append_checksum(buf, cap, &len);
	r = hk_file_write(path, buf, len, 0644, flags);
 out:
	free(buf);
	return r;
}

int
hk_quorum_set_read(const char *path, struct hk_quorum_set **out)
{
	struct hk_quorum_set *set = NULL;
	struct kv *kv = NULL;
	unsigned char *buf = NULL;
	unsigned long long v;
	size_t len, body;
	const char *s;
	char name[32], *sp;
	int nkv = 0, pos = 0, i, j, r;
	const int E = HK_ERR_PARSE;

	*out = NULL;
	if ((r = hk_file_read(path, SET_FILE_MAX, &buf, &len)) != 0)
		return r;
	if (memchr(buf, '\0', len) != NULL) {
		hk_err_set("%s: contains a NUL byte", path);
		r = E;
		goto out;
	}
	if ((r = checksum_verify(path, (char *)buf, len, "", &body, E)) != 0)
		goto out;
	buf[body] = '\0';
	r = HK_ERR_ALLOC;
	if ((kv = calloc(MAX_LINES, sizeof(*kv))) == NULL ||
	    (set = calloc(1, sizeof(*set))) == NULL)
		goto out;
	if ((r = split_lines(path, (char *)buf, body, 1, kv, &nkv, E)) != 0)
		goto out;
	if ((r = expect_uint(path, kv, nkv, &pos, "hanko-quorum-set",
	    SET_VERSION, SET_VERSION, &v, E)) != 0 ||
	    (r = expect_hex(path, kv, nkv, &pos, "set-id", set->id,
	    HK_QUORUM_ID_LEN, E)) != 0 ||
	    (r = expect(path, kv, nkv, &pos, "status", &s, E)) != 0)
		goto out;
	if (strcmp(s, "active") == 0)
		set->retired = 0;
	else if (strcmp(s, "retired") == 0)
		set->retired = 1;
	else {
		hk_err_set("%s:%d: status: '%.32s' is not active or retired",
		    path, kv[pos - 1].line, s);
		r = E;
		goto out;
	}
	if ((r = expect(path, kv, nkv, &pos, "created", &s, E)) != 0)
		goto out;
	if (hk_time_parse(s, &set->created) != 0) {
		hk_err_set("%s:%d: created: '%.32s' is not "
		    "YYYY-MM-DDTHH:MM:SSZ", path, kv[pos - 1].line, s);
		r = E;
		goto out;
	}
	if ((r = expect_uint(path, kv, nkv, &pos, "threshold", 2,
	    HK_QUORUM_MAX_SHARES, &v, E)) != 0)
		goto out;
	set->m = (int)v;
	if ((r = expect_uint(path, kv, nkv, &pos, "count", (unsigned)set->m,
	    HK_QUORUM_MAX_SHARES, &v, E)) != 0)
		goto out;
	set->n = (int)v;
	if ((r = expect_hex(path, kv, nkv, &pos, "commitment",
	    set->commitment, 32, E)) != 0)
		goto out;
	for (i = 0; i < set->n; i++) {
		char hex[65];

		snprintf(name, sizeof(name), "share-%d", i + 1);
		if ((r = expect(path, kv, nkv, &pos, name, &s, E)) != 0)
			goto out;
		if (strlen(s) < 66 || s[64] != ' ' ||
		    (memcpy(hex, s, 64), hex[64] = '\0',
		    hk_hex_decode(hex, set->share_hash[i], 32) != 0) ||
		    !holder_valid(s + 65)) {
			hk_err_set("%s:%d: %s: must be '<64 hex digits> "
			    "<holder id of [A-Za-z0-9._-], at most %d>'",
			    path, kv[pos - 1].line, name,
			    HK_QUORUM_HOLDER_MAX);
			r = E;
			goto out;
		}
		sp = set->holder[i];
		memcpy(sp, s + 65, strlen(s + 65) + 1);
		for (j = 0; j < i; j++)
			if (strcmp(set->holder[j], sp) == 0) {
				hk_err_set("%s:%d: %s: holder '%s' already "
				    "holds share %d", path, kv[pos - 1].line,
				    name, sp, j + 1);
				r = E;
				goto out;
			}
	}
	if (pos < nkv) {
		hk_err_set("%s:%d: unexpected field '%s' after share-%d", path,
		    kv[pos].line, kv[pos].key, set->n);
		r = E;
		goto out;
	}
	*out = set;
	set = NULL;
	r = 0;
 out:
	free(set);
	free(kv);
	free(buf);
	return r;
}

/* ---- dealing and writing shares ---------------------------------------- */

void
hk_quorum_dealer_free(struct hk_quorum_dealer *d)
{
	if (d == NULL)
		return;
	hk_quorum_set_free(d->set);
	hk_secret_free(d->key);
	hk_secret_free(d->values);
	hk_secret_free(d->phkey);
	hk_secret_free(d->pass_hash);
	free(d);
}

int
hk_quorum_deal(const uint8_t *key, int m, int n, const char *const *holders,
    struct hk_quorum_dealer **out)
{
	struct hk_quorum_dealer *d = NULL;
	int i, j, r = HK_ERR_ALLOC;

	*out = NULL;
	if (m < 2 || n < m || n > HK_QUORUM_MAX_SHARES) {
		hk_err_set("quorum: %d of %d: need 2 <= m <= n <= %d", m, n,
		    HK_QUORUM_MAX_SHARES);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < n; i++) {
		if (holders[i] == NULL || !holder_valid(holders[i])) {
			hk_err_set("quorum: holder %d: id '%.64s' must be 1-%d "
			    "characters of [A-Za-z0-9._-]", i + 1,
			    holders[i] ? holders[i] : "", HK_QUORUM_HOLDER_MAX);
			return HK_ERR_INVALID;
		}
		for (j = 0; j < i; j++)
			if (strcmp(holders[i], holders[j]) == 0) {
				hk_err_set("quorum: holder '%s' named twice "
				    "(shares %d and %d): each share needs its "
				    "own holder", holders[i], j + 1, i + 1);
				return HK_ERR_INVALID;
			}
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->set = calloc(1, sizeof(*d->set))) == NULL ||
	    (d->key = hk_secret_alloc(HK_QUORUM_KEY_LEN)) == NULL ||
	    (d->values = hk_secret_alloc((size_t)n * 32)) == NULL ||
	    (d->phkey = hk_secret_alloc(crypto_generichash_KEYBYTES)) == NULL ||
	    (d->pass_hash = hk_secret_alloc((size_t)n * 32)) == NULL) {
		hk_err_set("quorum: cannot allocate (secure) memory");
		goto out;
	}
	if (key != NULL)
		memcpy(d->key, key, HK_QUORUM_KEY_LEN);
	else
		randombytes_buf(d->key, HK_QUORUM_KEY_LEN);
	randombytes_buf(d->phkey, crypto_generichash_KEYBYTES);
	randombytes_buf(d->set->id, HK_QUORUM_ID_LEN);
	d->set->m = m;
	d->set->n = n;
	d->set->created = hk_clock_now();
	if ((r = hk_shamir_split(d->key, m, n, d->values)) != 0)
		goto out;
	commitment_compute(d->set->id, d->key, d->set->commitment);
	for (i = 0; i < n; i++) {
		share_hash_compute(d->set->id, i + 1, d->values[i],
		    d->set->share_hash[i]);
		memcpy(d->set->holder[i], holders[i], strlen(holders[i]) + 1);
	}
	*out = d;
	d = NULL;
	r = 0;
 out:
	hk_quorum_dealer_free(d);
	return r;
}

const struct hk_quorum_set *
hk_quorum_dealer_set(const struct hk_quorum_dealer *d)
{
	return d->set;
}

const uint8_t *
hk_quorum_dealer_key(const struct hk_quorum_dealer *d)
{
	return d->key;
}

/* The share header up to the nonce: the text of the file and the AAD. */
static int
share_header(const struct share_file *sf, char *buf, size_t cap, size_t *len)
{
	char idh[33], ch[65], salt[2 * sizeof(sf->salt) + 1];
	char nonce[2 * sizeof(sf->nonce) + 1];

	*len = 0;
	id_hex(sf->set_id, idh);
	hk_hex_encode(sf->commitment, 32, ch);
	hk_hex_encode(sf->salt, sizeof(sf->salt), salt);
	hk_hex_encode(sf->nonce, sizeof(sf->nonce), nonce);
	return append(buf, cap, len, SHARE_BEGIN "version: %d\nset-id: %s\n"
	    "index: %d\nthreshold: %d\ncount: %d\nholder: %s\n"
	    "commitment: %s\nkdf: argon2id13\nkdf-opslimit: %llu\n"
	    "kdf-memlimit: %zu\nsalt: %s\nnonce: %s\n", SHARE_VERSION, idh,
	    sf->index, sf->m, sf->n, sf->holder, ch, sf->opslimit,
	    sf->memlimit, salt, nonce) == 0 ? 0 : HK_ERR_INTERNAL;
}

static int
share_derive(const struct share_file *sf, const char *pass, uint8_t *dk)
{
	size_t plen = strlen(pass);

	if (plen > HK_PASSPHRASE_MAX) {
		hk_err_set("passphrase longer than %d bytes",
		    HK_PASSPHRASE_MAX);
		return HK_ERR_INVALID;
	}
	if (crypto_pwhash(dk, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	    pass, plen, sf->salt, sf->opslimit, sf->memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		hk_err_set("Argon2id: cannot derive the key (%zu MiB of "
		    "memory needed)", sf->memlimit >> 20);
		return HK_ERR_ALLOC;
	}
	return 0;
}

int
hk_quorum_share_write(struct hk_quorum_dealer *d, int index, const char *pass,
    int kdf_level, const char *path)
{
	struct share_file sf;
	uint8_t *dk = NULL, ph[32];
	char *buf = NULL, why[128], hex[2 * CT_LEN + 1];
	size_t cap = SHARE_FILE_MAX, len = 0;
	int i, r = HK_ERR_INTERNAL;

	memset(&sf, 0, sizeof(sf));
	if (index < 1 || index > d->set->n) {
		hk_err_set("%s: share index %d: must be 1..%d", path, index,
		    d->set->n);
		return HK_ERR_INVALID;
	}
	if (kdf_level < HK_KDF_INTERACTIVE || kdf_level > HK_KDF_SENSITIVE) {
		hk_err_set("%s: kdf level %d unknown", path, kdf_level);
		return HK_ERR_INVALID;
	}
	if (hk_passphrase_check(pass, d->set->holder[index - 1], NULL, why,
	    sizeof(why)) != 0) {
		hk_err_set("%s: passphrase of holder %s (share %d): %s", path,
		    d->set->holder[index - 1], index, why);
		return HK_ERR_WEAK_PASSPHRASE;
	}
	crypto_generichash(ph, sizeof(ph), (const uint8_t *)pass, strlen(pass),
	    d->phkey, crypto_generichash_KEYBYTES);
	for (i = 0; i < d->set->n; i++)
		if (i != index - 1 && d->pass_used[i] &&
		    hk_ct_memcmp(ph, d->pass_hash[i], 32) == 0) {
			hk_err_set("%s: passphrase of holder %s (share %d) is "
			    "the one already chosen for share %d (holder %s): "
			    "every holder needs their own", path,
			    d->set->holder[index - 1], index, i + 1,
			    d->set->holder[i]);
			r = HK_ERR_WEAK_PASSPHRASE;
			goto out;
		}

	memcpy(sf.set_id, d->set->id, HK_QUORUM_ID_LEN);
	sf.index = index;
	sf.m = d->set->m;
	sf.n = d->set->n;
	memcpy(sf.holder, d->set->holder[index - 1], sizeof(sf.holder));
	memcpy(sf.commitment, d->set->commitment, 32);
	kdf_params(kdf_level, &sf.opslimit, &sf.memlimit);
	randombytes_buf(sf.salt, sizeof(sf.salt));
	randombytes_buf(sf.nonce, sizeof(sf.nonce));

	r = HK_ERR_ALLOC;
	if ((dk = hk_secret_alloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES))
	    == NULL || (buf = malloc(cap)) == NULL)
		goto out;
	if ((r = share_derive(&sf, pass, dk)) != 0)
		goto out;
	if ((r = share_header(&sf, buf, cap, &len)) != 0)
		goto out;
	/* AAD: the header text, exactly as written and as re-built on read. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(sf.ct, NULL,
	    d->values[index - 1], 32, (const uint8_t *)buf, len, NULL,
	    sf.nonce, dk);
	hk_hex_encode(sf.ct, CT_LEN, hex);
	r = HK_ERR_INTERNAL;
	if (append(buf, cap, &len, "ciphertext: %s\n", hex) != 0 ||
	    len + CKSUM_LINE_LEN + sizeof(SHARE_END) >= cap)
		goto out;
	append_checksum(buf, cap, &len);
	if (append(buf, cap, &len, SHARE_END) != 0)
		goto out;
	if ((r = hk_file_write(path, buf, len, 0600, HK_WRITE_NOREPLACE)) != 0)
		goto out;
	memcpy(d->pass_hash[index - 1], ph, 32);
	d->pass_used[index - 1] = 1;
	r = 0;
 out:
	hk_wipe(ph, sizeof(ph));
	hk_secret_free(dk);
	free(buf);
	return r;
}

/* ---- reading shares ------------------------------------------------------ */

static int
share_load(const char *path, struct share_file *sf)
{
	unsigned char *buf = NULL;
	struct kv kv[24];
	unsigned long long v;
	size_t len, body, blen = sizeof(SHARE_BEGIN) - 1;
	const char *s;
	int nkv = 0, pos = 0, r;
	const int E = HK_ERR_SHARE_CORRUPT;

	memset(sf, 0, sizeof(*sf));
	if ((r = hk_file_read(path, SHARE_FILE_MAX, &buf, &len)) != 0) {
		if (r == HK_ERR_INVALID)	/* too large, not a file */
			r = E;
		return r;
	}
	if (memchr(buf, '\0', len) != NULL) {
		hk_err_set("%s: damaged: contains a NUL byte", path);
		r = E;
		goto out;
	}
	if ((r = checksum_verify(path, (char *)buf, len, SHARE_END, &body,
	    E)) != 0)
		goto out;
	if (body < blen || memcmp(buf, SHARE_BEGIN, blen) != 0) {
		hk_err_set("%s: damaged: does not start with %.*s", path,
		    (int)blen - 1, SHARE_BEGIN);
		r = E;
		goto out;
	}
	buf[body] = '\0';
	/* At most 14 fields; one more is enough to report the extra one. */
	{
		struct kv big[MAX_LINES];

		if ((r = split_lines(path, (char *)buf + blen, body - blen, 2,
		    big, &nkv, E)) != 0)
			goto out;
		if (nkv > (int)(sizeof(kv) / sizeof(kv[0])))
			nkv = (int)(sizeof(kv) / sizeof(kv[0]));
		memcpy(kv, big, (size_t)nkv * sizeof(kv[0]));
	}
	if ((r = expect_uint(path, kv, nkv, &pos, "version", SHARE_VERSION,
	    SHARE_VERSION, &v, E)) != 0 ||
	    (r = expect_hex(path, kv, nkv, &pos, "set-id", sf->set_id,
	    HK_QUORUM_ID_LEN, E)) != 0)
		goto out;
	if ((r = expect_uint(path, kv, nkv, &pos, "index", 1,
	    HK_QUORUM_MAX_SHARES, &v, E)) != 0)
		goto out;
	sf->index = (int)v;
	if ((r = expect_uint(path, kv, nkv, &pos, "threshold", 2,
	    HK_QUORUM_MAX_SHARES, &v, E)) != 0)
		goto out;
	sf->m = (int)v;
	if ((r = expect_uint(path, kv, nkv, &pos, "count", (unsigned)sf->m,
	    HK_QUORUM_MAX_SHARES, &v, E)) != 0)
		goto out;
	sf->n = (int)v;
	if (sf->index > sf->n) {
		hk_err_set("%s:4: index: %d is larger than count %d", path,
		    sf->index, sf->n);
		r = E;
		goto out;
	}
	if ((r = expect(path, kv, nkv, &pos, "holder", &s, E)) != 0)
		goto out;
	if (!holder_valid(s)) {
		hk_err_set("%s:%d: holder: must be 1-%d characters of "
		    "[A-Za-z0-9._-]", path, kv[pos - 1].line,
		    HK_QUORUM_HOLDER_MAX);
		r = E;
		goto out;
	}
	memcpy(sf->holder, s, strlen(s) + 1);
	if ((r = expect_hex(path, kv, nkv, &pos, "commitment", sf->commitment,
	    32, E)) != 0 ||
	    (r = expect(path, kv, nkv, &pos, "kdf", &s, E)) != 0)
		goto out;
	if (strcmp(s, "argon2id13") != 0) {
		hk_err_set("%s:%d: kdf: '%.32s' is not argon2id13", path,
		    kv[pos - 1].line, s);
		r = E;
		goto out;
	}
	/* Bounded: a hostile file must not make us allocate 4 TiB. */
	if ((r = expect_uint(path, kv, nkv, &pos, "kdf-opslimit",
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_OPSLIMIT_SENSITIVE, &v, E)) != 0)
		goto out;
	sf->opslimit = v;
	if ((r = expect_uint(path, kv, nkv, &pos, "kdf-memlimit",
	    crypto_pwhash_MEMLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_SENSITIVE, &v, E)) != 0)
		goto out;
	sf->memlimit = (size_t)v;
	if ((r = expect_hex(path, kv, nkv, &pos, "salt", sf->salt,
	    sizeof(sf->salt), E)) != 0 ||
	    (r = expect_hex(path, kv, nkv, &pos, "nonce", sf->nonce,
	    sizeof(sf->nonce), E)) != 0 ||
	    (r = expect_hex(path, kv, nkv, &pos, "ciphertext", sf->ct,
	    sizeof(sf->ct), E)) != 0)
		goto out;
	if (pos < nkv) {
		hk_err_set("%s:%d: unexpected field '%s' after ciphertext",
		    path, kv[pos].line, kv[pos].key);
		r = E;
		goto out;
	}
	r = 0;
 out:
	free(buf);
	return r;
}

/* What a share file says of itself, for the caller. */
static void
info_set(struct hk_quorum_share_info *info, const struct share_file *sf)
{
	memcpy(info->set_id, sf->set_id, HK_QUORUM_ID_LEN);
	info->index = sf->index;
	info->m = sf->m;
	info->n = sf->n;
	memcpy(info->holder, sf->holder, sizeof(info->holder));
}

int
hk_quorum_share_info(const char *path, struct hk_quorum_share_info *info)
{
	struct share_file sf;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = share_load(path, &sf)) != 0)
		return r;
	info_set(info, &sf);
	return 0;
}

/* Does the share file belong to the (active) set? */
static int
share_against_set(const struct hk_quorum_set *set, const char *path,
    const struct share_file *sf)
{
	char a[33], b[33];
	const int E = HK_ERR_SHARE_FOREIGN;

	id_hex(sf->set_id, a);
	id_hex(set->id, b);
	if (memcmp(sf->set_id, set->id, HK_QUORUM_ID_LEN) != 0) {
		hk_err_set("%s: belongs to set %s but the CA's set is %s", path,
		    a, b);
		return E;
	}
	if (set->retired) {
		hk_err_set("%s: set %s was retired by a share rotation; its "
		    "shares are refused", path, a);
		return E;
	}
	if (sf->m != set->m || sf->n != set->n ||
	    memcmp(sf->commitment, set->commitment, 32) != 0) {
		hk_err_set("%s: threshold, count or commitment (%d of %d) "
		    "differ from set %s (%d of %d)", path, sf->m, sf->n, b,
		    set->m, set->n);
		return E;
	}
	if (strcmp(sf->holder, set->holder[sf->index - 1]) != 0) {
		hk_err_set("%s: share %d is held by '%s' in set %s, but the "
		    "file names '%s'", path, sf->index,
		    set->holder[sf->index - 1], b, sf->holder);
		return E;
	}
	return 0;
}

/* ---- collecting and combining ------------------------------------------- */

void
hk_quorum_collect_free(struct hk_quorum_collect *c)
{
	int i;

	if (c == NULL)
		return;
	hk_secret_free(c->values);
	for (i = 0; i <= HK_QUORUM_MAX_SHARES; i++)
		free(c->path[i]);
	free(c);
}

int
hk_quorum_collect_new(const struct hk_quorum_set *set,
    struct hk_quorum_collect **out)
{
	struct hk_quorum_collect *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->values = hk_secret_alloc(HK_QUORUM_MAX_SHARES * 32)) == NULL) {
		free(c);
		hk_err_set("quorum: cannot allocate (secure) memory");
		return HK_ERR_ALLOC;
	}
	c->set = set;
	*out = c;
	return 0;
}

int
hk_quorum_collect_count(const struct hk_quorum_collect *c)
{
	return c->k;
}

static int
collect_check_sf(struct hk_quorum_collect *c, const char *path,
    struct share_file *sf)
{
	int r;

	if ((r = share_load(path, sf)) != 0)
		return r;
	if ((r = share_against_set(c->set, path, sf)) != 0)
		return r;
	if (c->path[sf->index] != NULL) {
		hk_err_set("%s and %s: both are share %d (holder %s); each "
		    "share counts once", c->path[sf->index], path, sf->index,
		    sf->holder);
		return HK_ERR_SHARE_DUPLICATE;
	}
	return 0;
}

int
hk_quorum_collect_check(struct hk_quorum_collect *c, const char *path,
    struct hk_quorum_share_info *info)
{
	struct share_file sf;
	int r;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((r = collect_check_sf(c, path, &sf)) != 0)
		return r;
	if (info != NULL)
		info_set(info, &sf);
	return 0;
}

int
hk_quorum_collect_add(struct hk_quorum_collect *c, const char *path,
    const char *pass)
{
	struct share_file sf;
	uint8_t *dk = NULL, *val = NULL, h[32];
	char *aad = NULL;
	size_t aadlen;
	int r;

	if ((r = collect_check_sf(c, path, &sf)) != 0)
		return r;
	if (pass == NULL) {
		hk_err_set("%s: no passphrase given", path);
		return HK_ERR_INVALID;
	}
	r = HK_ERR_ALLOC;
	if ((dk = hk_secret_alloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES))
	    == NULL || (val = hk_secret_alloc(32)) == NULL ||
	    (aad = malloc(SHARE_FILE_MAX)) == NULL)
		goto out;
	if ((r = share_header(&sf, aad, SHARE_FILE_MAX, &aadlen)) != 0)
		goto out;
	if ((r = share_derive(&sf, pass, dk)) != 0) {
		hk_err_set("%s: %s", path, hk_err_msg());
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(val, NULL, NULL, sf.ct,
	    sizeof(sf.ct), (const uint8_t *)aad, aadlen, sf.nonce, dk) != 0) {
		hk_err_set("%s: share %d (holder %s): wrong passphrase (the "
		    "file's checksum is intact)", path, sf.index, sf.holder);
		r = HK_ERR_PASSPHRASE;
		goto out;
	}
	share_hash_compute(sf.set_id, sf.index, val, h);
	if (hk_ct_memcmp(h, c->set->share_hash[sf.index - 1], 32) != 0) {
		hk_err_set("%s: share %d (holder %s): value does not match the "
		    "set's share-%d hash (stale or forged share)", path,
		    sf.index, sf.holder, sf.index);
		r = HK_ERR_SHARE_FOREIGN;
		goto out;
	}
	if ((c->path[sf.index] = strdup(path)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	memcpy(c->values[c->k], val, 32);
	c->xs[c->k] = (uint8_t)sf.index;
	c->k++;
	r = 0;
 out:
	hk_wipe(h, sizeof(h));
	hk_secret_free(dk);
	hk_secret_free(val);
	free(aad);
	return r;
}

int
hk_quorum_collect_finish(struct hk_quorum_collect *c, uint8_t **key)
{
	uint8_t *k = NULL, cm[32];
	char idh[33];
	int r;

	*key = NULL;
	id_hex(c->set->id, idh);
	if (c->set->retired) {
		hk_err_set("quorum set %s is retired", idh);
		return HK_ERR_SHARE_FOREIGN;
	}
	/* Quorum is cryptographic; this only spares a pointless combine. */
	if (c->k < c->set->m) {
		hk_err_set("quorum set %s: %d of the %d shares needed", idh,
		    c->k, c->set->m);
		return HK_ERR_QUORUM;
	}
	if ((k = hk_secret_alloc(HK_QUORUM_KEY_LEN)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = hk_shamir_combine(c->xs, (const uint8_t (*)[32])c->values,
	    c->k, k)) != 0)
		goto out;
	commitment_compute(c->set->id, k, cm);
	if (hk_ct_memcmp(cm, c->set->commitment, 32) != 0) {
		hk_err_set("quorum set %s: the key rebuilt from %d shares does "
		    "not match the set's commitment; not used", idh, c->k);
		r = HK_ERR_COMMITMENT;
		goto out;
	}
	*key = k;
	k = NULL;
	r = 0;
 out:
	hk_secret_free(k);
	return r;
}

int
hk_quorum_recover(const struct hk_quorum_set *set, const char *const *paths,
    const char *const *passes, int k, uint8_t **key)
{
	struct hk_quorum_collect *c = NULL;
	struct share_file sf;
	int idx[HK_QUORUM_MAX_SHARES];
	int i, j, r;
	char idh[33];

	*key = NULL;
	if (k < 0 || k > HK_QUORUM_MAX_SHARES) {
		hk_err_set("quorum: %d share files given", k);
		return HK_ERR_INVALID;
	}
	if ((r = hk_quorum_collect_new(set, &c)) != 0)
		return r;
	/* Every file, before any passphrase: damaged, foreign, twice. */
	for (i = 0; i < k; i++) {
		if ((r = collect_check_sf(c, paths[i], &sf)) != 0)
			goto out;
		idx[i] = sf.index;
		for (j = 0; j < i; j++)
			if (idx[j] == idx[i]) {
				hk_err_set("%s and %s: both are share %d "
				    "(holder %s); each share counts once",
				    paths[j], paths[i], idx[i], sf.holder);
				r = HK_ERR_SHARE_DUPLICATE;
				goto out;
			}
	}
	if (k < set->m) {
		id_hex(set->id, idh);
		hk_err_set("quorum set %s: %d of the %d shares needed", idh, k,
		    set->m);
		r = HK_ERR_QUORUM;
		goto out;
	}
	for (i = 0; i < k; i++)
		if ((r = hk_quorum_collect_add(c, paths[i], passes[i])) != 0)
			goto out;
	r = hk_quorum_collect_finish(c, key);
 out:
	hk_quorum_collect_free(c);
	return r;
}

/* ---- sealed secrets -------------------------------------------------------- */

static int
label_check(const char *label)
{
	size_t i, len = label ? strlen(label) : 0;

	if (len == 0 || len > LABEL_MAX)
		goto bad;
	for (i = 0; i < len; i++)
		if (label[i] < 0x21 || label[i] > 0x7e)
			goto bad;
	return 0;
 bad:
	hk_err_set("sealed secret label: must be 1-%d printable ASCII "
	    "characters without spaces", LABEL_MAX);
	return HK_ERR_INVALID;
}

/* Subkey for sealing, and the AAD: magic, domain label, label. */
static void
seal_key_aad(const uint8_t key[HK_QUORUM_KEY_LEN], const char *label,
    uint8_t sk[32], uint8_t *aad, size_t *aadlen)
{
	size_t ll = strlen(label);

	crypto_generichash(sk, 32, (const uint8_t *)LABEL_SEAL,
	    sizeof(LABEL_SEAL), key, HK_QUORUM_KEY_LEN);
	memcpy(aad, SEAL_MAGIC, SEAL_MAGIC_LEN);
	memcpy(aad + SEAL_MAGIC_LEN, label, ll);
	*aadlen = SEAL_MAGIC_LEN + ll;
}

int
hk_quorum_seal_secret(const uint8_t key[HK_QUORUM_KEY_LEN], const char *label,
    const void *plain, size_t len, uint8_t **blob, size_t *bloblen)
{
	uint8_t *sk = NULL, *b = NULL, aad[SEAL_MAGIC_LEN + LABEL_MAX];
	size_t aadlen, total;
	int r;

	*blob = NULL;
	*bloblen = 0;
	if ((r = label_check(label)) != 0)
		return r;
	if (len > HK_SEALED_MAX) {
		hk_err_set("sealed secret '%s': %zu bytes, more than %d", label,
		    len, HK_SEALED_MAX);
		return HK_ERR_INVALID;
	}
	total = SEAL_MAGIC_LEN + SEAL_NONCE + len + SEAL_ABYTES;
	r = HK_ERR_ALLOC;
	if ((sk = hk_secret_alloc(32)) == NULL || (b = malloc(total)) == NULL)
		goto out;
	seal_key_aad(key, label, sk, aad, &aadlen);
	memcpy(b, SEAL_MAGIC, SEAL_MAGIC_LEN);
	randombytes_buf(b + SEAL_MAGIC_LEN, SEAL_NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    b + SEAL_MAGIC_LEN + SEAL_NONCE, NULL, plain, len, aad, aadlen,
	    NULL, b + SEAL_MAGIC_LEN, sk);
	*blob = b;
	*bloblen = total;
	b = NULL;
	r = 0;
 out:
	hk_secret_free(sk);
	free(b);
	return r;
}

int
hk_quorum_open_secret(const uint8_t key[HK_QUORUM_KEY_LEN], const char *label,
    const uint8_t *blob, size_t bloblen, uint8_t **plain, size_t *len)
{
	uint8_t *sk = NULL, *p = NULL, aad[SEAL_MAGIC_LEN + LABEL_MAX];
	size_t aadlen, plen;
	int r;

	*plain = NULL;
	*len = 0;
	if ((r = label_check(label)) != 0)
		return r;
	if (bloblen < SEAL_MAGIC_LEN + SEAL_NONCE + SEAL_ABYTES ||
	    bloblen > SEAL_MAGIC_LEN + SEAL_NONCE + SEAL_ABYTES +
	    HK_SEALED_MAX || memcmp(blob, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
		hk_err_set("sealed secret '%s': not a hanko sealed secret "
		    "(magic or length)", label);
		return HK_ERR_PARSE;
	}
	plen = bloblen - SEAL_MAGIC_LEN - SEAL_NONCE - SEAL_ABYTES;
	r = HK_ERR_ALLOC;
	if ((sk = hk_secret_alloc(32)) == NULL ||
	    (p = hk_secret_alloc(plen + 1)) == NULL)
		goto out;
	seal_key_aad(key, label, sk, aad, &aadlen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, NULL, NULL,
	    blob + SEAL_MAGIC_LEN + SEAL_NONCE, plen + SEAL_ABYTES, aad,
	    aadlen, blob + SEAL_MAGIC_LEN, sk) != 0) {
		hk_err_set("sealed secret '%s': authentication failed (wrong "
		    "quorum key, wrong label or damaged)", label);
		r = HK_ERR_VERIFY;
		goto out;
	}
	p[plen] = '\0';
	*plain = p;
	*len = plen;
	p = NULL;
	r = 0;
 out:
	hk_secret_free(sk);
	hk_secret_free(p);
	return r;
}

/* ---- the passphrase rule ------------------------------------------------- */

/* Refused (case-insensitively) once leading and trailing non-letters
 * (digits, symbols, spaces) are cut: "Password123!" is "password". */
static const char *const common_pass[] = {
	"password", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty",
	"qwertyuiop", "asdfghjkl", "letmein", "welcome", "iloveyou", "admin",
	"administrator", "abc", "abcdef", "abcdefghijkl", "monkey", "dragon",
	"baseball", "football", "sunshine", "princess", "trustno", "changeme",
	"secret", "hanko", "kumamoto", "tokyo", "nippon", "japan",
	"correcthorsebatterystaple",
};

static void
why_set(char *why, size_t whylen, const char *s)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", s);
}

/* Case-insensitive ASCII substring. */
static int
contains_ci(const char *hay, const char *needle)
{
	size_t i, j, hl = strlen(hay), nl = strlen(needle);

	if (nl == 0 || nl > hl)
		return 0;
	for (i = 0; i + nl <= hl; i++) {
		for (j = 0; j < nl; j++)
			if (tolower((unsigned char)hay[i + j]) !=
			    tolower((unsigned char)needle[j]))
				break;
		if (j == nl)
			return 1;
	}
	return 0;
}

/* s without its spaces (ASCII and the ideographic U+3000) in out, which
 * holds strlen(s) + 1 bytes: a name is the same name written with or
 * without the space between family and given name ("山田太郎"). */
static void
strip_spaces(const char *s, char *out)
{
	size_t i, o = 0, len = strlen(s);

	for (i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (i + 2 < len && (unsigned char)s[i] == 0xe3 &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    (unsigned char)s[i + 2] == 0x80) {
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
}

/* Bytes of the UTF-8 character starting at s[i] (lead + continuations). */
static size_t
char_len(const char *s, size_t i, size_t len)
{
	size_t n = 1;

	while (i + n < len && (((unsigned char)s[i + n]) & 0xc0) == 0x80)
		n++;
	return n;
}

static int
common_check(const char *pass, size_t len, char *low)
{
	size_t a = 0, b = len, i;

	while (a < b && !isalpha((unsigned char)pass[a]))
		a++;
	while (b > a && !isalpha((unsigned char)pass[b - 1]))
		b--;
	for (i = a; i < b; i++)
		low[i - a] = (char)tolower((unsigned char)pass[i]);
	low[b - a] = '\0';
	for (i = 0; i < sizeof(common_pass) / sizeof(common_pass[0]); i++)
		if (strcmp(low, common_pass[i]) == 0)
			return 1;
	return 0;
}

int
hk_passphrase_check(const char *pass, const char *holder_id,
    const char *holder_name, char *why, size_t whylen)
{
	size_t len, i, j, cl, chars = 0, units = 0, distinct = 0;
	int lower = 0, upper = 0, digit = 0, other = 0, classes, common;
	unsigned char c;
	const char *msg = NULL;
	char *low = NULL;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (pass == NULL)
		pass = "";
	len = strlen(pass);
	if (len > HK_PASSPHRASE_MAX) {
		msg = "longer than 1024 bytes";
		goto weak;
	}
	for (i = 0; i < len; i += cl) {
		c = (unsigned char)pass[i];
		cl = char_len(pass, i, len);
		if (c < 0x20 || c == 0x7f) {
			msg = "contains a control character";
			goto weak;
		}
		chars++;
		units += c >= 0x80 ? 2 : 1;	/* kana, kanji count twice */
		if (c >= 'a' && c <= 'z')
			lower = 1;
		else if (c >= 'A' && c <= 'Z')
			upper = 1;
		else if (c >= '0' && c <= '9')
			digit = 1;
		else
			other = 1;	/* symbols, space, non-ASCII */
		for (j = 0; j < i; j += char_len(pass, j, len))
			if (char_len(pass, j, len) == cl &&
			    memcmp(pass + j, pass + i, cl) == 0)
				break;
		if (j >= i)
			distinct++;
	}
	classes = lower + upper + digit + other;
	if (units < 12) {
		msg = "shorter than 12 characters";
		goto weak;
	}
	if (units < 20 && classes < 3) {
		msg = "shorter than 20 characters and fewer than 3 of: lower "
		    "case, upper case, digits, other characters";
		goto weak;
	}
	if (distinct == 1) {
		msg = "all one character";
		goto weak;
	}
	if (distinct < 6) {
		msg = "fewer than 6 different characters";
		goto weak;
	}
	if (holder_id != NULL && strlen(holder_id) >= 3 &&
	    contains_ci(pass, holder_id)) {
		msg = "contains the holder's id";
		goto weak;
	}
	if ((low = hk_secret_alloc(len + 1)) == NULL) {
		why_set(why, whylen, "out of memory");
		hk_err_set("passphrase check: out of secure memory");
		return HK_ERR_ALLOC;
	}
	if (holder_name != NULL) {
		char name[1025];
		int has;

		/* spaces ignored on both sides: "yamadataro", "山田　太郎" */
		snprintf(name, sizeof(name), "%s", holder_name);
		strip_spaces(name, name);
		strip_spaces(pass, low);
		has = strlen(name) >= 3 && contains_ci(low, name);
		hk_wipe(low, len + 1);
		if (has) {
			hk_secret_free(low);
			msg = "contains the holder's name";
			goto weak;
		}
	}
	common = common_check(pass, len, low);
	hk_secret_free(low);
	if (common) {
		msg = "a well-known password with digits or symbols around it";
		goto weak;
	}
	return 0;
 weak:
	why_set(why, whylen, msg);
	hk_err_set("passphrase%s%s: %s (rule: docs/quorum.md)",
	    holder_id ? " of holder " : "", holder_id ? holder_id : "", msg);
	return HK_ERR_WEAK_PASSPHRASE;
}

int
hk_passphrase_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	uint8_t ha[32], hb[32];
	int eq;

	/* Hash first so the comparison does not leak the common prefix. */
	crypto_hash_sha256(ha, (const uint8_t *)a, la);
	crypto_hash_sha256(hb, (const uint8_t *)b, lb);
	eq = hk_ct_memcmp(ha, hb, 32) == 0;
	hk_wipe(ha, sizeof(ha));
	hk_wipe(hb, sizeof(hb));
	return eq;
}
