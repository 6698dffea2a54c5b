/*
 * backup.c - the key backup file: KEK derivation, encoding, strict parsing,
 * MAC (docs/key-lifecycle.md, "The backup file").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "backup.h"
#include "err.h"
#include "hex.h"
#include "secmem.h"

#define KDF_KEK	"hanko key backup KEK v1"
#define KDF_MAC	"hanko key backup MAC v1"
#define KDF_ID	"hanko key backup seed id v1"

/* BLAKE2b-256 keyed with the quorum key over what \0 label \0 seed. */
static int
derive(const uint8_t *qkey, const char *what, const char *label,
    const uint8_t *seed, uint8_t *out)
{
	crypto_generichash_state st;

	if (crypto_generichash_init(&st, qkey, 32, 32) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)what,
	    strlen(what) + 1) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)label,
	    strlen(label) + 1) != 0 ||
	    crypto_generichash_update(&st, seed, HK_BACKUP_SEED_LEN) != 0 ||
	    crypto_generichash_final(&st, out, 32) != 0) {
		sodium_memzero(&st, sizeof(st));
		hk_err_set("backup: key derivation failed");
		return HK_ERR_CRYPTO;
	}
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int
hk_backup_kek(const uint8_t *qkey, const char *label, const uint8_t *seed,
    uint8_t **kek)
{
	int r;

	if ((*kek = hk_secret_alloc(HK_BACKUP_KEK_LEN)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = derive(qkey, KDF_KEK, label, seed, *kek)) != 0) {
		hk_secret_free(*kek);
		*kek = NULL;
	}
	return r;
}

void
hk_backup_kek_id(const uint8_t *seed, char out[33])
{
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), seed, HK_BACKUP_SEED_LEN,
	    (const uint8_t *)KDF_ID, sizeof(KDF_ID) - 1);
	hk_hex_encode(h, sizeof(h), out);
}

/* A growing text buffer. */
struct buf {
	char *p;	/* malloc'd */
	size_t len, cap;
	int err;	/* 1 after a failed append */
};

static void
put(struct buf *b, const char *key, const char *val)
{
	size_t need = strlen(key) + strlen(val) + 4;

	if (b->err)
		return;
	if (b->len + need > b->cap) {
		size_t cap = (b->len + need) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, "%s%s%s\n",
	    key, *key ? ": " : "", val);
}

static char *
b64(const unsigned char *in, size_t len)
{
	size_t n = sodium_base64_encoded_len(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(n);

	if (out != NULL)
		sodium_bin2base64(out, n, in, len,
		    sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int
hk_backup_encode(const struct hk_backup_info *info, const uint8_t *wrapped,
    size_t wrapped_len, const uint8_t *qkey, const uint8_t *seed,
    char **text, size_t *len)
{
	struct buf b = { NULL, 0, 0, 0 };
	char hex[2 * 32 + 1], *spki = NULL, *wr = NULL;
	uint8_t mk[32], mac[32];
	int r = HK_ERR_ALLOC;

	*text = NULL;
	*len = 0;
	if (info->key_id_len == 0 || info->key_id_len > sizeof(info->key_id) ||
	    info->spki_len == 0 || info->spki_len > HK_BACKUP_SPKI_MAX ||
	    wrapped_len == 0 || wrapped_len > HK_BACKUP_WRAPPED_MAX) {
		hk_err_set("backup: key id, public key or wrapped key size out "
		    "of range");
		return HK_ERR_INVALID;
	}
	if ((spki = b64(info->spki, info->spki_len)) == NULL ||
	    (wr = b64(wrapped, wrapped_len)) == NULL)
		goto out;
	put(&b, "", HK_BACKUP_FORMAT);
	put(&b, "ca-created", info->ca_created);
	put(&b, "ca-token", info->ca_token);
	put(&b, "key-label", info->key_label);
	hk_hex_encode(info->key_id, info->key_id_len, hex);
	put(&b, "key-id", hex);
	put(&b, "key-type", info->key_type);
	hk_hex_encode(info->pub_sha256, 32, hex);
	put(&b, "public-key-sha256", hex);
	put(&b, "public-key", spki);
	put(&b, "quorum-set", info->quorum_set);
	put(&b, "kek-id", info->kek_id);
	put(&b, "created", info->created);
	put(&b, "wrap", "CKM_AES_KEY_WRAP_PAD");
	put(&b, "wrapped", wr);
	if (b.err)
		goto out;
	if ((r = derive(qkey, KDF_MAC, info->key_label, seed, mk)) != 0)
		goto out;
	crypto_generichash(mac, sizeof(mac), (const uint8_t *)b.p, b.len, mk,
	    sizeof(mk));
	hk_hex_encode(mac, sizeof(mac), hex);
	put(&b, "mac", hex);
	if (b.err) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	*text = b.p;
	*len = b.len;
	b.p = NULL;
	r = 0;
 out:
	hk_wipe(mk, sizeof(mk));
	free(b.p);
	free(spki);
	if (wr != NULL) {
		hk_wipe(wr, strlen(wr));
		free(wr);
	}
	return r;
}

/* A strict line reader over the file. */
struct rd {
	const char *name;		/* file name for messages */
	const unsigned char *p, *end;	/* what is left */
	int line;			/* number of the line just read */
};

/* The value of the next line "key: value" (or the whole line if key is
 * NULL), copied into val (NUL-ended). Values are printable ASCII with no
 * blank. */
static int
next(struct rd *rd, const char *key, char *val, size_t vlen)
{
	const unsigned char *nl, *v;
	size_t klen = key ? strlen(key) : 0, n, i;

	rd->line++;
	nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
	if (nl == NULL) {
		hk_err_set("%s:%d: %s: missing or not ended by a newline",
		    rd->name, rd->line, key ? key : "format line");
		return HK_ERR_PARSE;
	}
	v = rd->p;
	if (key != NULL) {
		if ((size_t)(nl - v) < klen + 2 || memcmp(v, key, klen) != 0 ||
		    v[klen] != ':' || v[klen + 1] != ' ') {
			hk_err_set("%s:%d: expected the field '%s: ' here",
			    rd->name, rd->line, key);
			return HK_ERR_PARSE;
		}
		v += klen + 2;
	}
	n = (size_t)(nl - v);
	if (n == 0 || n >= vlen) {
		hk_err_set("%s:%d: %s: empty or longer than %zu bytes",
		    rd->name, rd->line, key ? key : "format line", vlen - 1);
		return HK_ERR_PARSE;
	}
	for (i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e) {
			if (key == NULL && v[i] == ' ')
				continue;
			hk_err_set("%s:%d: %s: only printable ASCII without "
			    "blanks", rd->name, rd->line, key ? key : "format");
			return HK_ERR_PARSE;
		}
	memcpy(val, v, n);
	val[n] = '\0';
	rd->p = nl + 1;
	return 0;
}

static int
hexfield(struct rd *rd, const char *key, const char *val, unsigned char *out,
    size_t outlen)
{
	if (strlen(val) != 2 * outlen || hk_hex_decode(val, out, outlen) != 0) {
		hk_err_set("%s:%d: %s: expected %zu bytes in lowercase hex",
		    rd->name, rd->line, key, outlen);
		return HK_ERR_PARSE;
	}
	return 0;
}

static int
b64field(struct rd *rd, const char *key, const char *val, unsigned char *out,
    size_t max, size_t *outlen)
{
	const char *end = NULL;

	if (sodium_base642bin(out, max, val, strlen(val), NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != val + strlen(val) ||
	    *outlen == 0) {
		hk_err_set("%s:%d: %s: not base64 of at most %zu bytes",
		    rd->name, rd->line, key, max);
		return HK_ERR_PARSE;
	}
	return 0;
}

static int
label_ok(struct rd *rd, const char *key, const char *val)
{
	size_t i;

	for (i = 0; val[i]; i++)
		if (!((val[i] >= 'a' && val[i] <= 'z') ||
		    (val[i] >= '0' && val[i] <= '9') || val[i] == '-')) {
			hk_err_set("%s:%d: %s: only a-z, 0-9 and '-'",
			    rd->name, rd->line, key);
			return HK_ERR_PARSE;
		}
	return 0;
}

/* Parse; *mac_at is the offset of the "mac:" line, mac the MAC. The
 * wrapped key goes to wrapped (may be NULL to skip it). */
static int
parse(const char *name, const unsigned char *buf, size_t len,
    struct hk_backup_info *info, uint8_t *wrapped, size_t *wrapped_len,
    size_t *mac_at, uint8_t mac[32])
{
	struct rd rd = { name, buf, buf + len, 0 };
	char *v = NULL;
	const size_t vmax = 4 * HK_BACKUP_WRAPPED_MAX / 3 + 8;
	uint8_t *tmp = NULL, h[32];
	size_t n;
	int r;

	memset(info, 0, sizeof(*info));
	if (len > HK_BACKUP_MAX) {
		hk_err_set("%s: larger than %d bytes: not a key backup", name,
		    HK_BACKUP_MAX);
		return HK_ERR_PARSE;
	}
	if ((v = malloc(vmax)) == NULL)
		return HK_ERR_ALLOC;
#define F(key) if ((r = next(&rd, key, v, vmax)) != 0) goto out
#define COPY(dst, key) do { \
	if (strlen(v) >= sizeof(dst)) { \
		hk_err_set("%s:%d: %s: longer than %zu bytes", name, rd.line, \
		    key, sizeof(dst) - 1); \
		r = HK_ERR_PARSE; \
		goto out; \
	} \
	strcpy(dst, v); } while (0)
	F(NULL);
	if (strcmp(v, HK_BACKUP_FORMAT) != 0) {
		hk_err_set("%s:1: not a hanko key backup (expected '%s')", name,
		    HK_BACKUP_FORMAT);
		r = HK_ERR_PARSE;
		goto out;
	}
	F("ca-created");
	COPY(info->ca_created, "ca-created");
	F("ca-token");
	COPY(info->ca_token, "ca-token");
	F("key-label");
	COPY(info->key_label, "key-label");
	if ((r = label_ok(&rd, "key-label", v)) != 0)
		goto out;
	F("key-id");
	n = strlen(v) / 2;
	if (strlen(v) % 2 != 0 || n > sizeof(info->key_id) ||
	    (r = hexfield(&rd, "key-id", v, info->key_id, n)) != 0) {
		if (strlen(v) % 2 != 0 || n > sizeof(info->key_id))
			hk_err_set("%s:%d: key-id: 1 to 32 bytes in lowercase "
			    "hex", name, rd.line);
		r = HK_ERR_PARSE;
		goto out;
	}
	info->key_id_len = n;
	F("key-type");
	COPY(info->key_type, "key-type");
	if ((r = label_ok(&rd, "key-type", v)) != 0)
		goto out;
	F("public-key-sha256");
	if ((r = hexfield(&rd, "public-key-sha256", v, info->pub_sha256,
	    32)) != 0)
		goto out;
	F("public-key");
	if ((r = b64field(&rd, "public-key", v, info->spki, sizeof(info->spki),
	    &info->spki_len)) != 0)
		goto out;
	SHA256(info->spki, info->spki_len, h);
	if (memcmp(h, info->pub_sha256, 32) != 0) {
		hk_err_set("%s:%d: public-key: its SHA-256 is not "
		    "public-key-sha256", name, rd.line);
		r = HK_ERR_PARSE;
		goto out;
	}
	F("quorum-set");
	if ((r = hexfield(&rd, "quorum-set", v, h, 16)) != 0)
		goto out;
	strcpy(info->quorum_set, v);
	F("kek-id");
	if ((r = hexfield(&rd, "kek-id", v, h, 16)) != 0)
		goto out;
	strcpy(info->kek_id, v);
	F("created");
	COPY(info->created, "created");
	F("wrap");
	if (strcmp(v, "CKM_AES_KEY_WRAP_PAD") != 0) {
		hk_err_set("%s:%d: wrap: only CKM_AES_KEY_WRAP_PAD", name,
		    rd.line);
		r = HK_ERR_PARSE;
		goto out;
	}
	F("wrapped");
	if ((tmp = hk_secret_alloc(HK_BACKUP_WRAPPED_MAX)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((r = b64field(&rd, "wrapped", v, tmp, HK_BACKUP_WRAPPED_MAX,
	    &n)) != 0)
		goto out;
	if (wrapped != NULL) {
		memcpy(wrapped, tmp, n);
		*wrapped_len = n;
	}
	*mac_at = (size_t)(rd.p - buf);
	F("mac");
	if ((r = hexfield(&rd, "mac", v, mac, 32)) != 0)
		goto out;
	if (rd.p != rd.end) {
		hk_err_set("%s:%d: data after the mac line", name, rd.line + 1);
		r = HK_ERR_PARSE;
		goto out;
	}
#undef F
#undef COPY
	r = 0;
 out:
	hk_secret_free(tmp);
	if (v != NULL) {
		hk_wipe(v, vmax);
		free(v);
	}
	return r;
}

int
hk_backup_parse(const char *name, const unsigned char *buf, size_t len,
    struct hk_backup_info *info)
{
	uint8_t mac[32];
	size_t at;

	return parse(name, buf, len, info, NULL, NULL, &at, mac);
}

int
hk_backup_open(const char *name, const unsigned char *buf, size_t len,
    const uint8_t *qkey, const uint8_t *seed, struct hk_backup_info *info,
    uint8_t **wrapped, size_t *wrapped_len)
{
	uint8_t mac[32], want[32], mk[32], *w = NULL;
	size_t at = 0;
	int r;

	*wrapped = NULL;
	*wrapped_len = 0;
	if ((w = hk_secret_alloc(HK_BACKUP_WRAPPED_MAX)) == NULL)
		return HK_ERR_ALLOC;
	if ((r = parse(name, buf, len, info, w, wrapped_len, &at, mac)) != 0)
		goto out;
	if ((r = derive(qkey, KDF_MAC, info->key_label, seed, mk)) != 0)
		goto out;
	crypto_generichash(want, sizeof(want), buf, at, mk, sizeof(mk));
	if (hk_ct_memcmp(want, mac, sizeof(mac)) != 0) {
		hk_err_set("%s: the MAC does not verify: a changed file, another "
		    "CA's quorum, or a KEK seed retired by key destruction",
		    name);
		r = HK_ERR_VERIFY;
		goto out;
	}
	*wrapped = w;
	w = NULL;
	r = 0;
 out:
	if (r != 0)
		*wrapped_len = 0;
	hk_wipe(mk, sizeof(mk));
	hk_secret_free(w);
	return r;
}
