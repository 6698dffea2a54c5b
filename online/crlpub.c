/*
 * crlpub.c - partition CRLs from pre-encoded entries (crlpub.h): the
 * TBSCertList template, the checked signature, the entry cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "atomic.h"
#include "cert.h"
#include "crl.h"
#include "crlpub.h"
#include "err.h"
#include "hex.h"

/*
 * TBSCertList (RFC 5280 5.1) with revokedCertificates carried as the
 * complete DER of the SEQUENCE OF (an ASN1_ANY of type V_ASN1_SEQUENCE is
 * written as its bytes, tag included). Absent when there are no entries
 * (RFC 5280 5.1.2.6: the list MUST be absent when empty).
 */
typedef struct {
	ASN1_INTEGER *version;			/* v2: INTEGER 1 */
	X509_ALGOR *sig_alg;			/* signature (= the outer) */
	X509_NAME *issuer;			/* the issuing CA's subject */
	ASN1_TIME *this_update;			/* thisUpdate */
	ASN1_TIME *next_update;			/* nextUpdate */
	ASN1_TYPE *revoked;			/* pre-encoded, or NULL */
	STACK_OF(X509_EXTENSION) *exts;		/* [0] EXPLICIT crlExtensions */
} HK_TBSCRL;

ASN1_SEQUENCE(HK_TBSCRL) = {
	ASN1_SIMPLE(HK_TBSCRL, version, ASN1_INTEGER),
	ASN1_SIMPLE(HK_TBSCRL, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(HK_TBSCRL, issuer, X509_NAME),
	ASN1_SIMPLE(HK_TBSCRL, this_update, ASN1_TIME),
	ASN1_SIMPLE(HK_TBSCRL, next_update, ASN1_TIME),
	ASN1_OPT(HK_TBSCRL, revoked, ASN1_ANY),
	ASN1_EXP_SEQUENCE_OF(HK_TBSCRL, exts, X509_EXTENSION, 0),
} static_ASN1_SEQUENCE_END(HK_TBSCRL)

/* CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
 * signatureValue } */
typedef struct {
	HK_TBSCRL *tbs;				/* tbsCertList */
	X509_ALGOR *sig_alg;			/* signatureAlgorithm */
	ASN1_BIT_STRING *sig;			/* signatureValue */
} HK_CERTLIST;

ASN1_SEQUENCE(HK_CERTLIST) = {
	ASN1_SIMPLE(HK_CERTLIST, tbs, HK_TBSCRL),
	ASN1_SIMPLE(HK_CERTLIST, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(HK_CERTLIST, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(HK_CERTLIST)

/* ---- entries ---- */

int
hk_crlpub_entries_reserve(struct hk_crlpub_entries *e, size_t len,
    unsigned char **at)
{
	unsigned char *nb;
	size_t cap;

	*at = NULL;
	if (len > HK_CRLPUB_BYTES_MAX - e->len) {
		hk_err_set("crl: more than %zu bytes of entries in one CRL",
		    HK_CRLPUB_BYTES_MAX);
		return HK_ERR_INVALID;
	}
	if (e->buf == NULL || e->len + len > e->cap) {
		cap = e->cap < 4096 ? 4096 : e->cap;
		while (cap < e->len + len)
			cap = cap > HK_CRLPUB_BYTES_MAX / 2 ?
			    HK_CRLPUB_BYTES_MAX : cap * 2;
		if ((nb = OPENSSL_realloc(e->buf, HK_CRLPUB_ROOM + cap)) ==
		    NULL)
			return HK_ERR_ALLOC;
		e->buf = nb;
		e->cap = cap;
	}
	*at = e->buf + HK_CRLPUB_ROOM + e->len;
	return 0;
}

/* 1 if der is exactly one DER SEQUENCE TLV of len bytes. */
static int
one_sequence(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	long l = 0;
	int tag = 0, cls = 0, ret;

	if (len < 2 || len > LONG_MAX)
		return 0;
	ret = ASN1_get_object(&p, &l, &tag, &cls, (long)len);
	ERR_clear_error();
	return ret == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE &&
	    cls == V_ASN1_UNIVERSAL && l >= 0 && (size_t)(p - der) +
	    (size_t)l == len;
}

int
hk_crlpub_entries_add(struct hk_crlpub_entries *e, const unsigned char *der,
    size_t len)
{
	unsigned char *at;
	int r;

	if (!one_sequence(der, len)) {
		hk_err_set("crl: entry %zu: RFC 5280 5.1.2.6: not one DER "
		    "SEQUENCE", e->count + 1);
		return HK_ERR_STATE;
	}
	if (e->count >= HK_CRL_ENTRIES_MAX) {
		hk_err_set("crl: more than %d entries in one CRL",
		    HK_CRL_ENTRIES_MAX);
		return HK_ERR_INVALID;
	}
	if ((r = hk_crlpub_entries_reserve(e, len, &at)) != 0)
		return r;
	memcpy(at, der, len);
	e->len += len;
	e->count++;
	return 0;
}

void
hk_crlpub_entries_free(struct hk_crlpub_entries *e)
{
	OPENSSL_free(e->buf);
	memset(e, 0, sizeof(*e));
}

/* Count the TLVs of the entry bytes: each one SEQUENCE, nothing between. */
static int
entries_count(const unsigned char *p, size_t len, size_t *count)
{
	const unsigned char *q = p, *end = p + len;
	long l;
	int tag, cls, ret;

	*count = 0;
	while (q < end) {
		const unsigned char *start = q;

		ret = ASN1_get_object(&q, &l, &tag, &cls, (long)(end - q));
		if (ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
		    cls != V_ASN1_UNIVERSAL || l < 0 || l > end - q) {
			ERR_clear_error();
			hk_err_set("entry %zu at byte %zu: not one DER "
			    "SEQUENCE", *count + 1, (size_t)(start - p));
			return HK_ERR_PARSE;
		}
		q += l;
		(*count)++;
	}
	return 0;
}

/* ---- signing ---- */

/* The algorithm the issuing key must have used (PROFILE.md pairs). */
static int
sig_nid(EVP_PKEY *pub)
{
	return EVP_PKEY_is_a(pub, "EC") ? NID_ecdsa_with_SHA384 :
	    NID_sha256WithRSAEncryption;
}

/* The signature over the TBS bytes inside der, with the issuer's key,
 * without parsing the entries (EVP_DigestVerify over the bytes). */
static int
verify_tbs(const unsigned char *der, size_t len, const HK_CERTLIST *cl,
    EVP_PKEY *pub, const EVP_MD *md)
{
	const unsigned char *p = der, *tbs;
	EVP_MD_CTX *ctx = NULL;
	const ASN1_OBJECT *obj = NULL;
	long l = 0;
	int tag = 0, cls = 0, ok = 0;
	size_t tlen;

	if (len > LONG_MAX ||
	    ASN1_get_object(&p, &l, &tag, &cls, (long)len) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    (size_t)(p - der) + (size_t)l != len)
		goto out;
	tbs = p;
	if (ASN1_get_object(&p, &l, &tag, &cls, (long)(der + len - p)) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    l > der + len - p)
		goto out;
	tlen = (size_t)(p - tbs) + (size_t)l;
	X509_ALGOR_get0(&obj, NULL, NULL, cl->sig_alg);
	if (X509_ALGOR_cmp(cl->sig_alg, cl->tbs->sig_alg) != 0 ||
	    OBJ_obj2nid(obj) != sig_nid(pub))
		goto out;
	/* EVP_DigestVerify: 1 good, 0 bad, negative error */
	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, ASN1_STRING_get0_data(cl->sig),
	    (size_t)ASN1_STRING_length(cl->sig), tbs, tlen) == 1;
out:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int
hk_crlpub_sign(const struct hk_crlpub_in *in, struct hk_crlpub_entries *e,
    unsigned char **der, size_t *len)
{
	struct hk_crl_spec spec = *in->spec;
	X509_CRL *hdr = NULL;
	HK_TBSCRL tbs;
	HK_CERTLIST cl;
	ASN1_STRING seq;
	ASN1_TYPE any;
	EVP_PKEY *pub = X509_get0_pubkey(in->spec->issuer);
	const EVP_MD *md;
	unsigned char *out = NULL, *q;
	int n, h, r;

	*der = NULL;
	*len = 0;
	memset(&tbs, 0, sizeof(tbs));
	memset(&cl, 0, sizeof(cl));
	if (in->number <= in->last) {
		hk_err_set("crl: RFC 5280 5.2.3: cRLNumber %" PRIu64 " does "
		    "not increase (last published %" PRIu64 ")", in->number,
		    in->last);
		r = HK_ERR_INVALID;
		goto out;
	}
	if (pub == NULL) {
		hk_err_set("crl: the issuer has no public key");
		r = HK_ERR_INVALID;
		goto out;
	}
	md = hk_cert_md(in->p, pub);
	/* every field but the entries from the one CRL builder, linted */
	spec.entries = NULL;
	spec.n_entries = 0;
	if ((r = hk_crl_build(&spec, in->this_update, in->number, &hdr)) != 0)
		goto out;
	if ((r = hk_crl_lint(hdr, &spec, in->p, 0)) != 0) {
		hk_err_set("before signing: %s", hk_err_msg());
		goto out;
	}
	r = HK_ERR_CRYPTO;
	if ((tbs.version = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set(tbs.version, X509_CRL_get_version(hdr)) != 1 ||
	    (tbs.sig_alg = X509_ALGOR_new()) == NULL ||
	    (cl.sig_alg = X509_ALGOR_new()) == NULL ||
	    (cl.sig = ASN1_BIT_STRING_new()) == NULL)
		goto out;
	/* borrowed from hdr, never freed through tbs */
	tbs.issuer = X509_CRL_get_issuer(hdr);
	tbs.this_update = (ASN1_TIME *)X509_CRL_get0_lastUpdate(hdr);
	tbs.next_update = (ASN1_TIME *)X509_CRL_get0_nextUpdate(hdr);
	tbs.exts = (STACK_OF(X509_EXTENSION) *)X509_CRL_get0_extensions(hdr);
	if (e->count > 0) {
		if (e->len > INT_MAX - HK_CRLPUB_ROOM) {
			r = HK_ERR_INVALID;
			goto out;
		}
		/* the SEQUENCE OF header (ASN1_put_object) right before the
		 * entries, in the room kept for it; a string and a type on
		 * the stack point at the bytes, which e keeps owning */
		h = ASN1_object_size(1, (int)e->len, V_ASN1_SEQUENCE) -
		    (int)e->len;
		if (h < 2 || h > HK_CRLPUB_ROOM)
			goto out;
		q = e->buf + HK_CRLPUB_ROOM - h;
		ASN1_put_object(&q, 1, (int)e->len, V_ASN1_SEQUENCE,
		    V_ASN1_UNIVERSAL);
		if (q != e->buf + HK_CRLPUB_ROOM)
			goto out;
		memset(&seq, 0, sizeof(seq));
		seq.type = V_ASN1_SEQUENCE;
		seq.data = e->buf + HK_CRLPUB_ROOM - h;
		seq.length = h + (int)e->len;
		memset(&any, 0, sizeof(any));
		any.type = V_ASN1_SEQUENCE;
		any.value.sequence = &seq;
		tbs.revoked = &any;
	}
	cl.tbs = &tbs;
	/* ASN1_item_sign fills both AlgorithmIdentifiers, then encodes the
	 * TBS and signs it: through libp11 for a token key. Returns the
	 * signature length, 0 on error. */
	if (ASN1_item_sign(ASN1_ITEM_rptr(HK_TBSCRL), tbs.sig_alg, cl.sig_alg,
	    cl.sig, &tbs, in->key, md) <= 0) {
		hk_err_set("crl: signing through the token failed");
		goto out;
	}
	if ((n = ASN1_item_i2d((ASN1_VALUE *)&cl, &out,
	    ASN1_ITEM_rptr(HK_CERTLIST))) <= 0) {
		hk_err_set("crl: cannot encode the signed CRL");
		goto out;
	}
	if (!verify_tbs(out, (size_t)n, &cl, pub, md)) {
		hk_err_set("crl: the signature does not verify with the "
		    "issuing CA's public key; nothing published");
		r = HK_ERR_VERIFY;
		goto out;
	}
	*der = out;
	*len = (size_t)n;
	out = NULL;
	r = 0;
out:
	if (r == HK_ERR_CRYPTO)
		hk_err_add_openssl();
	ERR_clear_error();
	OPENSSL_free(out);
	ASN1_INTEGER_free(tbs.version);
	X509_ALGOR_free(tbs.sig_alg);
	X509_ALGOR_free(cl.sig_alg);
	ASN1_BIT_STRING_free(cl.sig);
	X509_CRL_free(hdr);
	hk_crlpub_entries_free(e);
	return r;
}

/* ---- the entry cache ---- */

#define CACHE_MAGIC	"hanko-crlcache 3"

static int
cache_path(const struct hk_crlcache_ctx *ctx, const char *id,
    const char *ext, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", ctx->dir, id, ext);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s: path too long", ctx->dir);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* Parse <id>.head; 0 when it is this partition's of this issuer for this
 * store. */
static int
head_read(const struct hk_crlcache_ctx *ctx, const char *id,
    struct hk_crlcache_head *h)
{
	unsigned char *buf = NULL;
	char path[4096], part[16], store[128], hex[80], iss[160], at[80];
	char want[2 * HK_STORE_KEYID_MAX + 1];
	unsigned long long seq, count, bytes;
	long long mna;
	size_t len;
	int r, n = 0;

	memset(h, 0, sizeof(*h));
	if ((r = cache_path(ctx, id, "head", path, sizeof(path))) != 0 ||
	    (r = hk_file_read(path, 4096, &buf, &len)) != 0)
		return r;
	hk_hex_encode(ctx->issuer, ctx->issuer_len, want);
	if (sscanf((char *)buf, CACHE_MAGIC "\npartition %15s\nissuer "
	    "%159s\nstore %127s\nseq %llu\nseq-entry %79s\ncount %llu\n"
	    "bytes %llu\nmin-not-after %lld\nsha256 %79s\n%n", part, iss,
	    store, &seq, at, &count, &bytes, &mna, hex, &n) != 9 || n <= 0 ||
	    (size_t)n != len || strcmp(part, id) != 0 ||
	    strcmp(iss, want) != 0 || strcmp(store, ctx->store_id) != 0 ||
	    strlen(hex) != 64 || hk_hex_decode(hex, h->sha256, 32) != 0 ||
	    strlen(at) != 64 || hk_hex_decode(at, h->seq_entry, 32) != 0 ||
	    bytes > HK_CRLPUB_BYTES_MAX || count > HK_CRL_ENTRIES_MAX ||
	    mna < 0) {
		free(buf);
		hk_err_set("%s: not this partition's cache header for this "
		    "issuer and store", path);
		return HK_ERR_PARSE;
	}
	free(buf);
	h->seq = seq;
	h->count = (size_t)count;
	h->bytes = (size_t)bytes;
	h->min_not_after = (time_t)mna;
	return 0;
}

static int
head_write(const struct hk_crlcache_ctx *ctx, const char *id,
    const struct hk_crlcache_head *h)
{
	char path[4096], text[720], hex[65], at[65];
	char iss[2 * HK_STORE_KEYID_MAX + 1];
	int r, n;

	if ((r = cache_path(ctx, id, "head", path, sizeof(path))) != 0)
		return r;
	hk_hex_encode(h->sha256, 32, hex);
	hk_hex_encode(h->seq_entry, 32, at);
	hk_hex_encode(ctx->issuer, ctx->issuer_len, iss);
	n = snprintf(text, sizeof(text), CACHE_MAGIC "\npartition %s\nissuer "
	    "%s\nstore %s\nseq %" PRIu64 "\nseq-entry %s\ncount %zu\n"
	    "bytes %zu\nmin-not-after %lld\nsha256 %s\n", id, iss,
	    ctx->store_id, h->seq, at, h->count, h->bytes,
	    (long long)h->min_not_after, hex);
	if (n < 0 || (size_t)n >= sizeof(text))
		return HK_ERR_INVALID;
	return hk_file_write(path, text, (size_t)n, 0600, 0);
}

/* One partition of a run: its header and, when rebuilt in the bulk
 * pass, its entries until handed over. */
struct cache_part {
	char code[HK_STORE_CODE_LEN + 1];	/* municipality code */
	char id[HK_CERT_PARTITION_ID_MAX];	/* partition id: the files */
	struct hk_crlcache_head h;	/* header (valid when !rebuild) */
	int rebuild;			/* 1: rebuilt in the bulk pass */
	struct hk_crlpub_entries e;	/* the rebuilt entries */
	uint64_t seq;			/* highest seq collected */
	time_t min_not_after;		/* earliest expiry collected (0 none) */
};

struct hk_crlcache {
	struct hk_crlcache_ctx ctx;	/* the run */
	struct cache_part *p;		/* one per code, the caller's order */
	size_t n;
	size_t *by_code;		/* indices of p sorted by code */
	unsigned char upto_entry[32];	/* SHA-256 of the entry at ctx.upto
					 * (zero when upto is 0): the
					 * seq-entry of the headers written */
	uint64_t seen_seq;		/* the last seq looked up for a
					 * header (0: none yet) */
	unsigned char seen_entry[32];	/* SHA-256 of its entry */
	int seen_ok;			/* 1: that row exists */
};

/* Collect one row into a part. */
static int
collect(struct cache_part *cp, uint64_t seq, time_t not_after,
    const unsigned char *entry, size_t len)
{
	int r;

	if ((r = hk_crlpub_entries_add(&cp->e, entry, len)) != 0) {
		hk_err_set("crl_entries: seq %" PRIu64 " (partition %s): %s",
		    seq, cp->id, hk_err_msg());
		return r;
	}
	if (seq > cp->seq)
		cp->seq = seq;
	if (cp->min_not_after == 0 || not_after < cp->min_not_after)
		cp->min_not_after = not_after;
	return 0;
}

static int
collect_one(uint64_t seq, const char *partition, time_t not_after,
    const unsigned char *entry, size_t len, void *arg)
{
	(void)partition;
	return collect(arg, seq, not_after, entry, len);
}

/* Read <id>.entries (head->bytes of it) into e and check it against
 * the header: size, SHA-256, entry count. The digest state over the bytes
 * is left in d for the append. */
static int
cache_load(const struct hk_crlcache_ctx *ctx, const char *id,
    const struct hk_crlcache_head *h, struct hk_crlpub_entries *e,
    EVP_MD_CTX *d)
{
	EVP_MD_CTX *fin = NULL;
	unsigned char *at, dg[32];
	char path[4096];
	struct stat st;
	size_t off = 0, count;
	unsigned int dl = 0;
	int fd = -1, r;

	if ((r = cache_path(ctx, id, "entries", path, sizeof(path))) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < h->bytes) {
		/* shorter than the header says: damaged (a longer file is an
		 * append whose header never followed: cut at h->bytes) */
		hk_err_set("%s: missing or shorter than its header", path);
		r = HK_ERR_PARSE;
		goto out;
	}
	if ((r = hk_crlpub_entries_reserve(e, h->bytes, &at)) != 0)
		goto out;
	while (off < h->bytes) {
		ssize_t n = read(fd, at + off, h->bytes - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hk_err_set("%s: cannot read", path);
			r = HK_ERR_IO;
			goto out;
		}
		off += (size_t)n;
	}
	e->len = h->bytes;
	r = HK_ERR_CRYPTO;
	if (EVP_DigestInit_ex(d, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(d, at, h->bytes) != 1 ||
	    (fin = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(fin, d) != 1 ||
	    EVP_DigestFinal_ex(fin, dg, &dl) != 1)
		goto out;
	if (CRYPTO_memcmp(dg, h->sha256, 32) != 0) {
		hk_err_set("%s: SHA-256 is not the one its header records",
		    path);
		r = HK_ERR_PARSE;
		goto out;
	}
	if ((r = entries_count(at, h->bytes, &count)) != 0 ||
	    count != h->count) {
		hk_err_set("%s: the entries are not the %zu its header counts",
		    path, h->count);
		r = HK_ERR_PARSE;
		goto out;
	}
	e->count = count;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(fin);
	return r;
}

/* Write the len bytes at p (the entries from byte from on) to
 * <id>.entries at offset from, cutting anything after from first (an
 * append whose header never followed), fsync. */
static int
cache_append(const struct hk_crlcache_ctx *ctx, const char *id,
    const unsigned char *p, size_t from, size_t len)
{
	char path[4096];
	size_t off = 0;
	int fd, r = HK_ERR_IO;

	if ((r = cache_path(ctx, id, "entries", path, sizeof(path))) != 0)
		return r;
	r = HK_ERR_IO;
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		goto fail;
	if (ftruncate(fd, (off_t)from) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = pwrite(fd, p + off, len - off,
		    (off_t)(from + off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	hk_err_set("%s: cannot append: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* Write a rebuilt part: the entries file whole (temp, fsync, rename),
 * then its header. */
static int
part_write(const struct hk_crlcache *c, struct cache_part *cp)
{
	const struct hk_crlcache_ctx *ctx = &c->ctx;
	static const unsigned char none[1];
	const unsigned char *p = cp->e.buf != NULL ? cp->e.buf +
	    HK_CRLPUB_ROOM : none;
	char path[4096];
	int r;

	memset(&cp->h, 0, sizeof(cp->h));
	cp->h.seq = ctx->upto;
	memcpy(cp->h.seq_entry, c->upto_entry, 32);
	cp->h.count = cp->e.count;
	cp->h.bytes = cp->e.len;
	cp->h.min_not_after = cp->min_not_after;
	if (EVP_Digest(p, cp->e.len, cp->h.sha256, NULL, EVP_sha256(),
	    NULL) != 1)
		return HK_ERR_CRYPTO;
	if ((r = cache_path(ctx, cp->id, "entries", path,
	    sizeof(path))) != 0 ||
	    (r = hk_file_write(path, p, cp->e.len, 0600, 0)) != 0)
		return r;
	return head_write(ctx, cp->id, &cp->h);
}

/* SHA-256 of the entry of crl_entries row seq into d; HK_ERR_NOT_FOUND
 * when the store has no such row. */
static int
entry_digest(struct hk_store *st, uint64_t seq, unsigned char d[32])
{
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	memset(d, 0, 32);
	if (seq == 0)
		return 0;
	if ((r = hk_store_crl_entry_get(st, seq, &der, &len)) != 0)
		return r;
	r = EVP_Digest(der, len, d, NULL, EVP_sha256(), NULL) == 1 ? 0 :
	    HK_ERR_CRYPTO;
	free(der);
	return r;
}

/*
 * 1 when the header says the cache can be used this run: this partition's,
 * issuer's and store's (head_read); not ahead of the store; no entry whose
 * certificate expired before ctx->now; and the store's row at the header's
 * seq is still the entry it was when the cache was written. crl_entries
 * rows are never changed or deleted, so in a store that only moved forward
 * that row is the same; a store restored from a backup older than it has no
 * such row, or gives its seq (AUTOINCREMENT) to a later revocation, whose
 * entry differs (its serial or its revocation date). One look-up by
 * primary key per header, the same seq looked up once.
 */
static int
head_usable(struct hk_crlcache *c, struct cache_part *cp)
{
	const struct hk_crlcache_ctx *ctx = &c->ctx;

	if (head_read(ctx, cp->id, &cp->h) != 0 || cp->h.seq > ctx->upto ||
	    (cp->h.min_not_after != 0 && cp->h.min_not_after < ctx->now))
		return 0;
	if (cp->h.seq == 0)
		return 1;
	if (cp->h.seq != c->seen_seq) {
		c->seen_seq = cp->h.seq;
		c->seen_ok = entry_digest(ctx->store, cp->h.seq,
		    c->seen_entry) == 0;
	}
	return c->seen_ok && CRYPTO_memcmp(c->seen_entry, cp->h.seq_entry,
	    32) == 0;
}

static int
code_cmp(const void *a, const void *b, void *arg)
{
	const struct cache_part *p = arg;

	return strcmp(p[*(const size_t *)a].code, p[*(const size_t *)b].code);
}

/* The bulk pass: route each row to its part when that part is rebuilt. */
static int
collect_bulk(uint64_t seq, const char *partition, time_t not_after,
    const unsigned char *entry, size_t len, void *arg)
{
	struct hk_crlcache *c = arg;
	size_t lo = 0, hi = c->n, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(partition, c->p[c->by_code[mid]].code);
		if (cmp == 0) {
			struct cache_part *cp = &c->p[c->by_code[mid]];
			return cp->rebuild ? collect(cp, seq, not_after, entry,
			    len) : 0;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;	/* not a partition of this run */
}

int
hk_crlcache_open(const struct hk_crlcache_ctx *ctx, const char *const *codes,
    size_t n, struct hk_crlcache **out)
{
	struct hk_crlcache *c;
	size_t i, need = 0;
	int r;

	*out = NULL;
	if (ctx->issuer == NULL || ctx->issuer_len < 1 ||
	    ctx->issuer_len > HK_STORE_KEYID_MAX) {
		hk_err_set("crlcache: the issuer's key identifier is required");
		return HK_ERR_INVALID;
	}
	if (mkdir(ctx->dir, 0700) != 0 && errno != EEXIST) {
		hk_err_set("%s: cannot create: %s", ctx->dir, strerror(errno));
		return HK_ERR_IO;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->p = calloc(n + 1, sizeof(*c->p))) == NULL ||
	    (c->by_code = calloc(n + 1, sizeof(*c->by_code))) == NULL) {
		hk_crlcache_free(c);
		return HK_ERR_ALLOC;
	}
	c->ctx = *ctx;
	c->n = n;
	if ((r = entry_digest(ctx->store, ctx->upto, c->upto_entry)) != 0) {
		hk_crlcache_free(c);
		return r;
	}
	for (i = 0; i < n; i++) {
		struct cache_part *cp = &c->p[i];

		if ((r = hk_cert_partition_id(codes[i], ctx->gen, cp->id,
		    sizeof(cp->id))) != 0) {
			hk_crlcache_free(c);
			return r;
		}
		snprintf(cp->code, sizeof(cp->code), "%s", codes[i]);
		c->by_code[i] = i;
		if (!head_usable(c, cp)) {
			cp->rebuild = 1;
			need++;
		}
	}
	hk_err_clear();
	qsort_r(c->by_code, n, sizeof(*c->by_code), code_cmp, c->p);
	if (need > 0) {
		if ((r = hk_store_crl_entries_each(ctx->store, NULL,
		    ctx->issuer, ctx->issuer_len, 0, ctx->upto, ctx->now,
		    collect_bulk, c)) != 0) {
			hk_crlcache_free(c);
			return r;
		}
		for (i = 0; i < n; i++)
			if (c->p[i].rebuild && (r = part_write(c,
			    &c->p[i])) != 0) {
				hk_crlcache_free(c);
				return r;
			}
	}
	*out = c;
	return 0;
}

void
hk_crlcache_free(struct hk_crlcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->p != NULL && i < c->n; i++)
		hk_crlpub_entries_free(&c->p[i].e);
	free(c->p);
	free(c->by_code);
	free(c);
}

int
hk_crlcache_get(struct hk_crlcache *c, size_t i,
    struct hk_crlpub_entries *out, int *rebuilt)
{
	const struct hk_crlcache_ctx *ctx = &c->ctx;
	struct cache_part *cp;
	EVP_MD_CTX *d = NULL;
	size_t from;
	unsigned int dl = 0;
	int r;

	memset(out, 0, sizeof(*out));
	*rebuilt = 0;
	if (i >= c->n)
		return HK_ERR_INVALID;
	cp = &c->p[i];
	if (cp->rebuild) {
		*out = cp->e;			/* handed over */
		memset(&cp->e, 0, sizeof(cp->e));
		*rebuilt = 1;
		return 0;
	}
	if ((d = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	if (cache_load(ctx, cp->id, &cp->h, out, d) != 0) {
		/* damaged behind a good header: this partition alone */
		hk_err_clear();
		hk_crlpub_entries_free(out);
		cp->seq = 0;
		cp->min_not_after = 0;
		if ((r = hk_store_crl_entries_each(ctx->store, cp->code,
		    ctx->issuer, ctx->issuer_len, 0, ctx->upto, ctx->now,
		    collect_one, cp)) != 0 ||
		    (r = part_write(c, cp)) != 0)
			goto out;
		*out = cp->e;
		memset(&cp->e, 0, sizeof(cp->e));
		*rebuilt = 1;
		goto out;
	}
	from = out->len;
	/* the rows revoked since, appended behind the cached ones */
	cp->e = *out;
	cp->seq = cp->h.seq;
	cp->min_not_after = cp->h.min_not_after;
	r = hk_store_crl_entries_each(ctx->store, cp->code, ctx->issuer,
	    ctx->issuer_len, cp->h.seq, ctx->upto, ctx->now, collect_one, cp);
	*out = cp->e;
	memset(&cp->e, 0, sizeof(cp->e));
	if (r != 0 || out->len == from) {
		/* nothing new here: the header stays (its seq is only where
		 * the next look-up starts) */
		goto out;
	}
	if ((r = cache_append(ctx, cp->id, out->buf + HK_CRLPUB_ROOM + from,
	    from, out->len - from)) != 0)
		goto out;
	if (EVP_DigestUpdate(d, out->buf + HK_CRLPUB_ROOM + from,
	    out->len - from) != 1 || EVP_DigestFinal_ex(d, cp->h.sha256,
	    &dl) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	cp->h.seq = ctx->upto;
	memcpy(cp->h.seq_entry, c->upto_entry, 32);
	cp->h.count = out->count;
	cp->h.bytes = out->len;
	cp->h.min_not_after = cp->min_not_after;
	r = head_write(ctx, cp->id, &cp->h);
out:
	if (r != 0)
		hk_crlpub_entries_free(out);
	EVP_MD_CTX_free(d);
	return r;
}

/* ---- the names of a distribution point ---- */

#define IDP_EXTS_MAX	16384	/* bytes of crlExtensions */
#define IDP_FIELDS_MAX	8	/* TBSCertList fields before them */

void
hk_crlpub_dpname_clear(struct hk_crlpub_dpname *n)
{
	X509_NAME_free(n->dn);
	memset(n, 0, sizeof(*n));
}

int
hk_crlpub_partition_names(const struct hk_profile *p, const char *romaji,
    const char *code, int gen, int rehearsal, struct hk_crlpub_dpname *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = hk_cert_partition_dn(p, romaji, gen, rehearsal,
	    &out->dn)) != 0)
		return r;
	hk_cert_partition_uri(p, code, gen, out->uri, sizeof(out->uri));
	return 0;
}

int
hk_crlpub_dpname_eq(const struct hk_crlpub_dpname *a,
    const struct hk_crlpub_dpname *b)
{
	if ((a->dn == NULL) != (b->dn == NULL) || strcmp(a->uri, b->uri) != 0)
		return 0;
	return a->dn == NULL || hk_cert_name_eq(a->dn, b->dn);
}

/* The directoryName and URI of a fullName. */
static int
dpname_from(const GENERAL_NAMES *full, struct hk_crlpub_dpname *out)
{
	const GENERAL_NAME *gn;
	int i, l;

	for (i = 0; i < sk_GENERAL_NAME_num(full); i++) {
		gn = sk_GENERAL_NAME_value(full, i);
		if (gn->type == GEN_DIRNAME && out->dn == NULL) {
			if ((out->dn = X509_NAME_dup(gn->d.directoryName)) ==
			    NULL)
				return HK_ERR_ALLOC;
		} else if (gn->type == GEN_URI && out->uri[0] == '\0') {
			l = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			if (l < 1 || (size_t)l >= sizeof(out->uri) ||
			    memchr(ASN1_STRING_get0_data(
			    gn->d.uniformResourceIdentifier), '\0',
			    (size_t)l) != NULL)
				return HK_ERR_PARSE;
			memcpy(out->uri, ASN1_STRING_get0_data(
			    gn->d.uniformResourceIdentifier), (size_t)l);
			out->uri[l] = '\0';
		}
	}
	return out->dn != NULL ? 0 : HK_ERR_PARSE;
}

int
hk_crlpub_cert_dp(const unsigned char *der, size_t len,
    struct hk_crlpub_dpname *out)
{
	const unsigned char *p = der;
	CRL_DIST_POINTS *dps = NULL;
	const DIST_POINT *dp;
	X509 *x = NULL;
	int r = HK_ERR_PARSE;

	memset(out, 0, sizeof(*out));
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if ((dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
	    NULL)) == NULL || sk_DIST_POINT_num(dps) < 1 ||
	    (dp = sk_DIST_POINT_value(dps, 0))->distpoint == NULL ||
	    dp->distpoint->type != 0)
		goto out;
	r = dpname_from(dp->distpoint->name.fullname, out);
out:
	if (r != 0) {
		hk_crlpub_dpname_clear(out);
		hk_err_set("certificate: RFC 5280 4.2.1.13: no "
		    "cRLDistributionPoints fullName with a directoryName");
	}
	CRL_DIST_POINTS_free(dps);
	X509_free(x);
	ERR_clear_error();
	return r;
}

static int
pread_all(int fd, unsigned char *buf, size_t len, off_t at)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, at + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? HK_ERR_PARSE : HK_ERR_IO;
		got += (size_t)n;
	}
	return 0;
}

/* The DER header at *off of fd, within end: single-octet tag, definite
 * length of at most 4 octets; *off moves to the content, which must end by
 * end. */
static int
der_head_at(int fd, size_t *off, size_t end, int *tag, size_t *clen)
{
	unsigned char h[6];
	size_t n, o = 2, i, k;
	int r;

	if (*off >= end || end - *off < 2)
		return HK_ERR_PARSE;
	n = end - *off < sizeof(h) ? end - *off : sizeof(h);
	if ((r = pread_all(fd, h, n, (off_t)*off)) != 0)
		return r;
	*tag = h[0];
	if ((*tag & 0x1f) == 0x1f)
		return HK_ERR_PARSE;
	if (h[1] < 0x80)
		*clen = h[1];
	else {
		k = h[1] & 0x7f;
		if (k < 1 || k > 4 || 2 + k > n)
			return HK_ERR_PARSE;
		for (*clen = 0, i = 0; i < k; i++)
			*clen = (*clen << 8) | h[o++];
	}
	if (*clen > end - *off - o)
		return HK_ERR_PARSE;
	*off += o;
	return 0;
}

/*
 * Open the CRL file path (under dfd) and read its first two headers: the
 * CertificateList SEQUENCE (the whole file) and the tbsCertList SEQUENCE.
 * *fd -1 and HK_ERR_IO (said) when it cannot be opened; else *fd open (the
 * caller closes it) and 0 with *off at the tbsCertList's first field and
 * *tbs_end at its end, or an error of the headers (HK_ERR_PARSE, or
 * HK_ERR_IO from reading) for the caller to say.
 */
static int
crl_tbs_open(int dfd, const char *path, int *fd, size_t *off,
    size_t *tbs_end)
{
	struct stat st;
	size_t clen, size;
	int tag = 0, r;

	*off = 0;
	if ((*fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
		hk_err_set("%s: cannot open: %s", path, strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return HK_ERR_IO;
	}
	size = (size_t)st.st_size;
	if ((r = der_head_at(*fd, off, size, &tag, &clen)) != 0)
		return r;
	if (tag != 0x30 || *off + clen != size ||
	    (r = der_head_at(*fd, off, size, &tag, &clen)) != 0)
		return r != 0 ? r : HK_ERR_PARSE;
	if (tag != 0x30)
		return HK_ERR_PARSE;
	*tbs_end = *off + clen;
	return 0;
}

int
hk_crlpub_idp_read(int dfd, const char *path, struct hk_crlpub_dpname *out)
{
	unsigned char *ext = NULL;
	const unsigned char *p;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	ISSUING_DIST_POINT *idp = NULL;
	X509_EXTENSION *e;
	size_t off, clen = 0, tbs_end = 0;
	int fd, tag = 0, i, n, r;

	memset(out, 0, sizeof(*out));
	if ((r = crl_tbs_open(dfd, path, &fd, &off, &tbs_end)) != 0 && fd < 0)
		return r;
	if (r != 0)
		goto out;
	/* version, signature, issuer, thisUpdate, nextUpdate and
	 * revokedCertificates skipped by their lengths, to [0] crlExtensions,
	 * the last field */
	for (n = 0; n < IDP_FIELDS_MAX; n++) {
		if ((r = der_head_at(fd, &off, tbs_end, &tag, &clen)) != 0)
			goto out;
		if (tag == 0xa0)
			break;
		off += clen;
	}
	r = HK_ERR_PARSE;
	if (tag != 0xa0 || off + clen != tbs_end || clen > IDP_EXTS_MAX ||
	    clen < 2)
		goto out;
	if ((ext = malloc(clen)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((r = pread_all(fd, ext, clen, (off_t)off)) != 0)
		goto out;
	r = HK_ERR_PARSE;
	p = ext;
	if ((exts = d2i_X509_EXTENSIONS(NULL, &p, (long)clen)) == NULL ||
	    p != ext + clen ||
	    (i = X509v3_get_ext_by_NID(exts, NID_issuing_distribution_point,
	    -1)) < 0 || (e = X509v3_get_ext(exts, i)) == NULL ||
	    (idp = X509V3_EXT_d2i(e)) == NULL || idp->distpoint == NULL ||
	    idp->distpoint->type != 0)
		goto out;
	r = dpname_from(idp->distpoint->name.fullname, out);
out:
	if (r == HK_ERR_PARSE)
		hk_err_set("%s: RFC 5280 5.2.5: not a CRL with an "
		    "issuingDistributionPoint fullName", path);
	else if (r == HK_ERR_IO)
		hk_err_set("%s: cannot read: %s", path, strerror(errno));
	if (r != 0)
		hk_crlpub_dpname_clear(out);
	ISSUING_DIST_POINT_free(idp);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	free(ext);
	close(fd);
	ERR_clear_error();
	return r;
}

int
hk_crlpub_entries_read(int dfd, const char *path, unsigned char **buf,
    size_t *len)
{
	size_t off, clen = 0, tbs_end = 0;
	int fd, tag = 0, n, r;

	*buf = NULL;
	*len = 0;
	if ((r = crl_tbs_open(dfd, path, &fd, &off, &tbs_end)) != 0 && fd < 0)
		return r;
	if (r != 0)
		goto out;
	/* version (INTEGER), signature and issuer (SEQUENCE), thisUpdate and
	 * the optional nextUpdate (a time) skipped; then revokedCertificates
	 * (SEQUENCE) when present, else [0] crlExtensions or the end */
	for (n = 0; n < 6 && off < tbs_end; n++) {
		if ((r = der_head_at(fd, &off, tbs_end, &tag, &clen)) != 0)
			goto out;
		r = HK_ERR_PARSE;
		if ((n == 0 && tag != 0x02) || ((n == 1 || n == 2) &&
		    tag != 0x30) || (n == 3 && tag != 0x17 && tag != 0x18))
			goto out;
		if (n >= 4 && tag == 0x30) {
			if (clen == 0) {
				r = 0;
				goto out;
			}
			if ((*buf = malloc(clen)) == NULL) {
				r = HK_ERR_ALLOC;
				goto out;
			}
			if ((r = pread_all(fd, *buf, clen, (off_t)off)) != 0)
				goto out;
			*len = clen;
			r = 0;
			goto out;
		}
		if (n >= 4 && (n == 5 || (tag != 0x17 && tag != 0x18))) {
			/* [0] crlExtensions: no entries */
			r = tag == 0xa0 ? 0 : HK_ERR_PARSE;
			goto out;
		}
		off += clen;
	}
	r = n >= 4 ? 0 : HK_ERR_PARSE;	/* the end: no entries */
out:
	if (r == HK_ERR_PARSE)
		hk_err_set("%s: RFC 5280 5.1: not a CRL (its fields do not read)",
		    path);
	else if (r == HK_ERR_IO)
		hk_err_set("%s: cannot read: %s", path, strerror(errno));
	if (r != 0) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	close(fd);
	return r;
}
