/*
 * sbackup.c - the backup of an online state folder: its MANIFEST, the
 * signature over it, and the check of a backup folder (sbackup.h,
 * docs/backup.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "atomic.h"
#include "audit.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "sbackup.h"
#include "state.h"
#include "store.h"

/* ---- names ---------------------------------------------------------- */

int
hk_sbackup_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > 255 || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

int
hk_sbackup_path_ok(const char *path)
{
	const char *p = path, *slash;
	size_t n = strlen(path), depth = 0;

	if (n < 1 || n > HK_SBACKUP_PATH_MAX ||
	    strcmp(path, HK_SBACKUP_MANIFEST) == 0 ||
	    strcmp(path, HK_SBACKUP_SIG) == 0)
		return 0;
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (!hk_sbackup_name_ok(p, n) || ++depth > HK_SBACKUP_DEPTH_MAX)
			return 0;
		if (slash == NULL)
			return 1;
		p = slash + 1;
	}
}

/* ---- the manifest --------------------------------------------------- */

int
hk_sbackup_new(struct hk_sbackup_manifest **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return HK_ERR_ALLOC;
	return 0;
}

void
hk_sbackup_free(struct hk_sbackup_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->state);
	free(m);
}

int
hk_sbackup_add(struct hk_sbackup_manifest *m, const char *path,
    uint64_t size, const unsigned char sha256[32])
{
	struct hk_sbackup_file *f;

	if (!hk_sbackup_path_ok(path)) {
		hk_err_set("%s: not a path a backup may hold", path);
		return HK_ERR_INVALID;
	}
	if (m->n == HK_SBACKUP_FILES_MAX) {
		hk_err_set("%s: more than %d files in one backup", path,
		    HK_SBACKUP_FILES_MAX);
		return HK_ERR_INVALID;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		if ((f = realloc(m->files, cap * sizeof(*f))) == NULL)
			return HK_ERR_ALLOC;
		m->files = f;
		m->cap = cap;
	}
	f = &m->files[m->n];
	if ((f->path = strdup(path)) == NULL)
		return HK_ERR_ALLOC;
	f->size = size;
	memcpy(f->sha256, sha256, 32);
	m->n++;
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hk_sbackup_file *)a)->path,
	    ((const struct hk_sbackup_file *)b)->path);
}

const struct hk_sbackup_file *
hk_sbackup_find(const struct hk_sbackup_manifest *m, const char *path)
{
	struct hk_sbackup_file key;

	if (m->n == 0)
		return NULL;
	key.path = (char *)(uintptr_t)path;
	return bsearch(&key, m->files, m->n, sizeof(*m->files), file_cmp);
}

/* A growing text. */
struct text {
	char *p;
	size_t len, cap;
	int err;
};

static void
text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *np;
	int n;

	if (t->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p != NULL ? t->p + t->len : NULL,
		    t->p != NULL ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->err = HK_ERR_INTERNAL;
			return;
		}
		if (t->p != NULL && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		if ((np = realloc(t->p, t->cap + (size_t)n + 4096)) == NULL) {
			t->err = HK_ERR_ALLOC;
			return;
		}
		t->p = np;
		t->cap += (size_t)n + 4096;
	}
}

int
hk_sbackup_encode(struct hk_sbackup_manifest *m, char **text, size_t *len)
{
	struct text t = { NULL, 0, 0, 0 };
	char hx[65];
	size_t i;

	*text = NULL;
	*len = 0;
	if (m->state == NULL)
		return HK_ERR_INVALID;
	if (m->n > 1)
		qsort(m->files, m->n, sizeof(*m->files), file_cmp);
	for (i = 1; i < m->n; i++)
		if (strcmp(m->files[i - 1].path, m->files[i].path) == 0) {
			hk_err_set("%s: listed twice", m->files[i].path);
			return HK_ERR_INVALID;
		}
	text_add(&t, "%s\ncreated %s\nstate %s\nstore-id %s\naudit-log %s "
	    "seq %" PRIu64 " hash %s\nkey-sha256 %s\nfiles %zu\n",
	    HK_SBACKUP_FORMAT, m->created, m->state, m->store_id, m->log_id,
	    m->log_seq, m->log_hash, m->key_sha256, m->n);
	for (i = 0; i < m->n; i++) {
		hk_hex_encode(m->files[i].sha256, 32, hx);
		text_add(&t, "file %s %" PRIu64 " %s\n", hx, m->files[i].size,
		    m->files[i].path);
	}
	text_add(&t, "end\n");
	if (t.err) {
		free(t.p);
		return t.err;
	}
	*text = t.p;
	*len = t.len;
	return 0;
}

/* Lowercase hex of exactly n digits. */
static int
hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

/* A decimal without a sign or a leading zero, at most 19 digits. */
static int
dec_parse(const char *s, size_t n, uint64_t *out)
{
	return hk_dec_parse(s, n, 19, out);
}

/* The next line of buf (without its LF) in *line; its length in *n. */
static int
next_line(const unsigned char *buf, size_t len, size_t *pos, char *line,
    size_t cap, size_t *n)
{
	const unsigned char *nl;
	size_t l;

	if (*pos >= len)
		return -1;
	if ((nl = memchr(buf + *pos, '\n', len - *pos)) == NULL)
		return -2;
	l = (size_t)(nl - (buf + *pos));
	if (l >= cap)
		return -3;
	memcpy(line, buf + *pos, l);
	line[l] = '\0';
	if (memchr(line, '\0', l) != NULL)
		return -4;
	*pos += l + 1;
	*n = l;
	return 0;
}

int
hk_sbackup_parse(const char *name, const unsigned char *buf, size_t len,
    struct hk_sbackup_manifest **out)
{
	struct hk_sbackup_manifest *m = NULL;
	char *line = NULL, *text = NULL, *sp, hx[65], tf[32];
	size_t pos = 0, n, i, no = 0, tlen, count = 0;
	unsigned char sha[32];
	uint64_t size, v;
	time_t t;
	int r = HK_ERR_ALLOC, e;

	*out = NULL;
	if ((line = malloc(HK_SBACKUP_STATE_MAX + 64)) == NULL ||
	    (r = hk_sbackup_new(&m)) != 0)
		goto out;
	r = HK_ERR_PARSE;
#define NEXT() do { \
	no++; \
	if ((e = next_line(buf, len, &pos, line, HK_SBACKUP_STATE_MAX + 64, \
	    &n)) != 0) { \
		hk_err_set("%s:%zu: %s", name, no, e == -1 ? "ends before " \
		    "\"end\"" : e == -2 ? "no newline at the end" : e == -3 ? \
		    "line too long" : "a NUL byte"); \
		goto out; \
	} \
} while (0)
	NEXT();
	if (strcmp(line, HK_SBACKUP_FORMAT) != 0) {
		hk_err_set("%s:1: not \"" HK_SBACKUP_FORMAT "\" (not a "
		    "backup of an online state, or another version)", name);
		goto out;
	}
	NEXT();
	if (strncmp(line, "created ", 8) != 0 || n != 8 + 20 ||
	    hk_time_parse(line + 8, &t) != 0) {
		hk_err_set("%s:%zu: created: YYYY-MM-DDTHH:MM:SSZ expected",
		    name, no);
		goto out;
	}
	hk_time_format(t, tf, sizeof(tf));
	if (strcmp(tf, line + 8) != 0) {
		hk_err_set("%s:%zu: created: not a real UTC time", name, no);
		goto out;
	}
	memcpy(m->created, line + 8, 21);
	NEXT();
	if (strncmp(line, "state ", 6) != 0 || n == 6 ||
	    n - 6 > HK_SBACKUP_STATE_MAX) {
		hk_err_set("%s:%zu: state: the state folder's path expected",
		    name, no);
		goto out;
	}
	for (i = 6; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			hk_err_set("%s:%zu: state: a control character", name,
			    no);
			goto out;
		}
	if ((m->state = strdup(line + 6)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	NEXT();
	if (strncmp(line, "store-id ", 9) != 0 || !hex_ok(line + 9, 32)) {
		hk_err_set("%s:%zu: store-id: 32 lowercase hex digits expected",
		    name, no);
		goto out;
	}
	memcpy(m->store_id, line + 9, 33);
	NEXT();
	/* audit-log <32 hex> seq <n> hash <64 hex> */
	if (strncmp(line, "audit-log ", 10) != 0 || n < 10 + 32 + 5 ||
	    memcmp(line + 42, " seq ", 5) != 0 ||
	    (sp = strchr(line + 47, ' ')) == NULL ||
	    dec_parse(line + 47, (size_t)(sp - (line + 47)), &v) != 0 ||
	    strncmp(sp, " hash ", 6) != 0 || !hex_ok(sp + 6, 64)) {
		hk_err_set("%s:%zu: audit-log: \"<32 hex> seq <n> hash "
		    "<64 hex>\" expected", name, no);
		goto out;
	}
	line[42] = '\0';
	if (!hex_ok(line + 10, 32)) {
		hk_err_set("%s:%zu: audit-log: the log id is not 32 lowercase "
		    "hex digits", name, no);
		goto out;
	}
	memcpy(m->log_id, line + 10, 33);
	m->log_seq = v;
	memcpy(m->log_hash, sp + 6, 65);
	NEXT();
	if (strncmp(line, "key-sha256 ", 11) != 0 || !hex_ok(line + 11, 64)) {
		hk_err_set("%s:%zu: key-sha256: 64 lowercase hex digits "
		    "expected", name, no);
		goto out;
	}
	memcpy(m->key_sha256, line + 11, 65);
	NEXT();
	if (strncmp(line, "files ", 6) != 0 ||
	    dec_parse(line + 6, n - 6, &v) != 0 || v > HK_SBACKUP_FILES_MAX) {
		hk_err_set("%s:%zu: files: a number from 0 to %d expected",
		    name, no, HK_SBACKUP_FILES_MAX);
		goto out;
	}
	count = (size_t)v;
	for (i = 0; i < count; i++) {
		NEXT();
		/* file <64 hex> <size> <path> */
		if (strncmp(line, "file ", 5) != 0 || n < 5 + 64 + 4 ||
		    line[69] != ' ' || (sp = strchr(line + 70, ' ')) == NULL ||
		    dec_parse(line + 70, (size_t)(sp - (line + 70)),
		    &size) != 0) {
			hk_err_set("%s:%zu: \"file <SHA-256> <size> <path>\" "
			    "expected", name, no);
			goto out;
		}
		memcpy(hx, line + 5, 64);
		hx[64] = '\0';
		if (!hex_ok(hx, 64) || hk_hex_decode(hx, sha, 32) != 0) {
			hk_err_set("%s:%zu: file: the SHA-256 is not 64 "
			    "lowercase hex digits", name, no);
			goto out;
		}
		if (!hk_sbackup_path_ok(sp + 1)) {
			hk_err_set("%s:%zu: file: the path is not components "
			    "of [A-Za-z0-9._-] joined by '/' (none starting "
			    "with '.')", name, no);
			goto out;
		}
		if (m->n > 0 && strcmp(m->files[m->n - 1].path, sp + 1) >= 0) {
			hk_err_set("%s:%zu: file %s: not after %s (the files "
			    "are sorted by path, each once)", name, no, sp + 1,
			    m->files[m->n - 1].path);
			goto out;
		}
		if ((r = hk_sbackup_add(m, sp + 1, size, sha)) != 0)
			goto out;
		r = HK_ERR_PARSE;
	}
	NEXT();
	if (strcmp(line, "end") != 0) {
		hk_err_set("%s:%zu: \"end\" expected after %zu files", name,
		    no, count);
		goto out;
	}
	if (pos != len) {
		hk_err_set("%s:%zu: bytes after \"end\"", name, no + 1);
		goto out;
	}
	/* canonical: what was parsed encodes to these bytes */
	if ((r = hk_sbackup_encode(m, &text, &tlen)) != 0)
		goto out;
	if (tlen != len || memcmp(text, buf, len) != 0) {
		hk_err_set("%s: not in canonical form", name);
		r = HK_ERR_PARSE;
		goto out;
	}
	*out = m;
	m = NULL;
	r = 0;
#undef NEXT
 out:
	free(text);
	free(line);
	hk_sbackup_free(m);
	return r;
}

/* ---- the signature -------------------------------------------------- */

int
hk_sbackup_key_sha256(EVP_PKEY *pub, char hex[65])
{
	unsigned char *der = NULL, d[32];
	int n;

	hex[0] = '\0';
	if ((n = i2d_PUBKEY(pub, &der)) <= 0) {
		hk_err_set("audit key: cannot encode its public key");
		hk_err_add_openssl();
		return HK_ERR_CRYPTO;
	}
	SHA256(der, (size_t)n, d);
	OPENSSL_free(der);
	hk_hex_encode(d, 32, hex);
	return 0;
}

static int
sig_verify(EVP_PKEY *pub, const void *text, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	/* 1 is a good signature; 0 and < 0 are not (OpenSSL) */
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, text, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : HK_ERR_VERIFY;
}

int
hk_sbackup_sign(EVP_PKEY *key, EVP_PKEY *pub, const char *text, size_t len,
    unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *s = NULL;
	size_t n = 0;
	int r = HK_ERR_CRYPTO;

	*sig = NULL;
	*siglen = 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return HK_ERR_ALLOC;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)text,
	    len) != 1 || n > HK_SBACKUP_SIG_MAX || (s = malloc(n)) == NULL ||
	    EVP_DigestSign(ctx, s, &n, (const unsigned char *)text,
	    len) != 1) {
		hk_err_set("MANIFEST: the token's audit key cannot sign it");
		hk_err_add_openssl();
		goto out;
	}
	/* what is written verifies with the public key it names */
	if (sig_verify(pub, text, len, s, n) != 0) {
		hk_err_set("MANIFEST: the token's signature does not verify "
		    "with the audit key's public key");
		r = HK_ERR_VERIFY;
		goto out;
	}
	*sig = s;
	*siglen = n;
	s = NULL;
	r = 0;
 out:
	free(s);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ---- the check of a backup folder ----------------------------------- */

struct vwork {
	struct hk_sbackup_check *c;
	unsigned char *seen;		/* per file of c->m: met in the walk */
	char msg[HK_ERR_DETAIL_MAX];	/* a problem's line */
};

static void
problem(struct vwork *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct vwork *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(w->msg, sizeof(w->msg), "%s/", w->c->dir);
	if (n < 0 || (size_t)n >= sizeof(w->msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(w->msg + n, sizeof(w->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	w->c->problems++;
	if (w->c->problem != NULL)
		w->c->problem(w->msg, w->c->arg);
}

/* "<dir>/<rel>" into buf. */
static int
vpath(const struct vwork *w, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", w->c->dir, rel);

	return n < 0 || (size_t)n >= len ? HK_ERR_INVALID : 0;
}

/* A name met in the folder, for a message: escaped as the audit log's
 * details (no byte reaches the terminal raw). */
static void
name_show(const char *rel, char *out, size_t len)
{
	char buf[4 * 512 + 1];
	size_t n = strlen(rel);

	hk_audit_escape(rel, n > 512 ? 512 : n, buf);
	snprintf(out, len, "%s", buf);
}

int
hk_sbackup_file_hash(const char *path, uint64_t *size, unsigned char sha[32],
    int *not_regular)
{
	unsigned char *buf = NULL;
	EVP_MD_CTX *h = NULL;
	struct stat sb;
	ssize_t got;
	int fd, r = HK_ERR_ALLOC;

	*size = 0;
	*not_regular = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		if (errno == ELOOP) {
			*not_regular = 1;
			return 0;
		}
		hk_err_set("cannot open: %s", strerror(errno));
		return HK_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {	/* the medium, not the file's kind */
		hk_err_set("cannot stat: %s", strerror(errno));
		close(fd);
		return HK_ERR_IO;
	}
	if (!S_ISREG(sb.st_mode)) {
		*not_regular = 1;
		close(fd);
		return 0;
	}
	if ((buf = malloc(1 << 16)) == NULL || (h = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	while ((got = read(fd, buf, 1 << 16)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			hk_err_set("cannot read: %s", strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(h, buf, (size_t)got) != 1) {
			r = HK_ERR_CRYPTO;
			goto out;
		}
		*size += (uint64_t)got;
	}
	r = EVP_DigestFinal_ex(h, sha, NULL) == 1 ? 0 : HK_ERR_CRYPTO;
 out:
	EVP_MD_CTX_free(h);
	free(buf);
	close(fd);
	return r;
}

/* 1 if a file listed lies under folder rel. */
static int
folder_listed(const struct hk_sbackup_manifest *m, const char *rel)
{
	char pre[HK_SBACKUP_PATH_MAX + 2];
	size_t lo = 0, hi = m->n, mid, n;

	n = (size_t)snprintf(pre, sizeof(pre), "%s/", rel);
	if (n >= sizeof(pre))
		return 0;
	/* the first path at or after "<rel>/" in strcmp order */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(m->files[mid].path, pre) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && strncmp(m->files[lo].path, pre, n) == 0;
}

/* Walk folder rel ("" for the backup folder) of the backup. */
static int
walk(struct vwork *w, const char *rel, int depth)
{
	const struct hk_sbackup_manifest *m = w->c->m;
	const struct hk_sbackup_file *f;
	char path[4096], sub[HK_SBACKUP_PATH_MAX + 512], show[4 * 512 + 16];
	unsigned char sha[32];
	char hx1[65];
	struct dirent *de;
	struct stat sb;
	uint64_t size;
	DIR *d;
	int r = 0, nr;

	if (vpath(w, rel, path, sizeof(path)) != 0)
		return HK_ERR_INVALID;
	if ((d = opendir(path)) == NULL) {
		problem(w, "%s: cannot read the folder: %s", rel[0] ? rel : ".",
		    strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rel[0] == '\0' && (strcmp(de->d_name,
		    HK_SBACKUP_MANIFEST) == 0 || strcmp(de->d_name,
		    HK_SBACKUP_SIG) == 0))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
		    de->d_name);
		name_show(sub, show, sizeof(show));
		if (!hk_sbackup_name_ok(de->d_name, strlen(de->d_name))) {
			problem(w, "%s: not in MANIFEST (a name outside "
			    "[A-Za-z0-9._-]): an extra file or folder", show);
			continue;
		}
		if (vpath(w, sub, path, sizeof(path)) != 0 ||
		    lstat(path, &sb) != 0) {
			problem(w, "%s: cannot stat: %s", show, strerror(errno));
			/* there (readdir named it): its problem said once, not
			 * "missing (listed in MANIFEST)" besides */
			if ((f = hk_sbackup_find(m, sub)) != NULL)
				w->seen[f - m->files] = 1;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (!folder_listed(m, sub)) {
				problem(w, "%s/: not in MANIFEST: an extra "
				    "folder", show);
				continue;
			}
			if (depth + 1 >= HK_SBACKUP_DEPTH_MAX) {
				problem(w, "%s/: folders nested too deep",
				    show);
				continue;
			}
			if ((r = walk(w, sub, depth + 1)) != 0)
				break;
			continue;
		}
		if ((f = hk_sbackup_find(m, sub)) == NULL) {
			problem(w, "%s: not in MANIFEST: an extra file", show);
			continue;
		}
		w->seen[f - m->files] = 1;
		if (!S_ISREG(sb.st_mode)) {
			problem(w, "%s: not a regular file (a symbolic link, a "
			    "device, ...)", show);
			continue;
		}
		if ((r = hk_sbackup_file_hash(path, &size, sha, &nr)) != 0) {
			if (r == HK_ERR_ALLOC || r == HK_ERR_CRYPTO)
				break;
			problem(w, "%s: %s", show, hk_err_msg());
			r = 0;
			continue;
		}
		if (nr) {
			problem(w, "%s: not a regular file (a symbolic link, a "
			    "device, ...)", show);
			continue;
		}
		if (size != f->size) {
			problem(w, "%s: %" PRIu64 " bytes, MANIFEST says %"
			    PRIu64, show, size, f->size);
			continue;
		}
		if (memcmp(sha, f->sha256, 32) != 0) {
			hk_hex_encode(sha, 32, hx1);
			problem(w, "%s: SHA-256 %s is not MANIFEST's", show,
			    hx1);
		}
	}
	closedir(d);
	return r;
}

/* The whole file rel of the backup (at most max bytes): 0, or a problem
 * said and HK_ERR_NOT_FOUND / HK_ERR_IO. */
static int
vread(struct vwork *w, const char *rel, size_t max, unsigned char **buf,
    size_t *len)
{
	char path[4096];
	int r;

	*buf = NULL;
	if (vpath(w, rel, path, sizeof(path)) != 0)
		return HK_ERR_INVALID;
	if ((r = hk_file_read(path, max, buf, len)) != 0) {
		problem(w, "%s: %s", rel, r == HK_ERR_NOT_FOUND ? "missing" :
		    hk_err_msg());
		return r == HK_ERR_ALLOC ? r : HK_ERR_IO;
	}
	return 0;
}

/* The key to check with: c->pub, or the backup's own. */
static int
key_get(struct vwork *w, EVP_PKEY **own)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*own = NULL;
	if (w->c->pub != NULL)
		return 0;
	if ((r = vread(w, HK_SBACKUP_KEY, 16384, &buf, &len)) != 0)
		return r == HK_ERR_ALLOC ? r : 0;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (*own = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
		problem(w, "%s: not a PEM public key", HK_SBACKUP_KEY);
	BIO_free(bio);
	free(buf);
	ERR_clear_error();
	return 0;
}

static int
each_page(const char *p, void *arg)
{
	problem(arg, "%s: pages: %s", HK_SBACKUP_STORE, p);
	return 0;
}

static int
each_schema(const char *type, const char *name, const char *what,
    int restored, void *arg)
{
	struct vwork *w = arg;

	(void)restored;
	if (w->c->store_schema != HK_STORE_SCHEMA)
		problem(w, "%s: schema: %s %s %s (not the schema %d that init "
		    "and the upgrades made)", HK_SBACKUP_STORE, type, name,
		    what, w->c->store_schema);
	else
		problem(w, "%s: schema: %s %s %s (not the schema init makes)",
		    HK_SBACKUP_STORE, type, name, what);
	return 0;
}

/* 1 if path is a regular file: only those are opened for their content.
 * A FIFO or a device in its place (a hostile or damaged medium) is named
 * by the walk and never opened here: SQLite's and the audit log's opens
 * would wait for a FIFO's writer, or read a device without end. */
static int
regular(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* store.db, read without a write. */
static int
store_verify(struct vwork *w)
{
	const struct hk_sbackup_manifest *m = w->c->m;
	struct hk_store *s = NULL;
	char path[4096], id[HK_STORE_ID_LEN + 8];
	uint64_t before;
	int r;

	if (vpath(w, HK_SBACKUP_STORE, path, sizeof(path)) != 0)
		return HK_ERR_INVALID;
	if (!regular(path))
		return 0;	/* said by the walk: missing, or not a file */
	if ((r = hk_store_open_copy(path, &s)) != 0) {
		if (r == HK_ERR_ALLOC)
			return r;
		problem(w, "%s: %s", HK_SBACKUP_STORE, hk_err_msg());
		return 0;
	}
	w->c->store_schema = hk_store_schema(s);
	before = w->c->problems;
	if ((r = hk_store_pages_check(s, each_page, w)) != 0) {
		problem(w, "%s: pages: %s", HK_SBACKUP_STORE, hk_err_msg());
		goto out;
	}
	if (w->c->problems != before)
		goto out;	/* damaged: nothing more read from it */
	if ((r = hk_store_schema_check(s, 0, each_schema, w)) != 0) {
		problem(w, "%s: schema: %s", HK_SBACKUP_STORE, hk_err_msg());
		goto out;
	}
	r = hk_store_id(s, id, sizeof(id));
	if (w->c->store_schema == 6) {
		/* schema 6 has no store id: its upgrade after a restore
		 * records state.conf's, MANIFEST's (conf_verify), in it */
		if (r == 0 || r == HK_ERR_STATE)
			problem(w, "%s: meta: store.id: a store of schema 6 has "
			    "none (its upgrade records state.conf's), this one "
			    "has %s", HK_SBACKUP_STORE, r == 0 ? id :
			    "one that is not text");
		else if (r != HK_ERR_NOT_FOUND)
			problem(w, "%s: meta: store.id: %s", HK_SBACKUP_STORE,
			    hk_err_msg());
		else if (w->c->store_id != NULL &&
		    strcmp(m->store_id, w->c->store_id) != 0)
			problem(w, "%s: store id %s is not this state's "
			    "(state.conf store.id %s): a backup of another "
			    "state", HK_SBACKUP_MANIFEST, m->store_id,
			    w->c->store_id);
		r = 0;
	} else if (r != 0)
		problem(w, "%s: meta: store.id: %s", HK_SBACKUP_STORE,
		    r == HK_ERR_NOT_FOUND ? "none" : hk_err_msg());
	else if (strcmp(id, m->store_id) != 0)
		problem(w, "%s: store id %s is not MANIFEST's (%s)",
		    HK_SBACKUP_STORE, id, m->store_id);
	else if (w->c->store_id != NULL && strcmp(id, w->c->store_id) != 0)
		problem(w, "%s: store id %s is not this state's (state.conf "
		    "store.id %s): a backup of another state",
		    HK_SBACKUP_STORE, id, w->c->store_id);
 out:
	hk_store_close(s);
	return r == HK_ERR_ALLOC ? r : 0;
}

/* state.conf of the backup names the same store. */
static void
conf_verify(struct vwork *w)
{
	struct hk_state *st = NULL;
	const char *id, *kind;
	char path[4096];

	if (vpath(w, HK_SBACKUP_CONF, path, sizeof(path)) != 0 ||
	    hk_path_lookup(path) == 0)
		return;		/* said by the walk: missing */
	if (hk_state_load(w->c->dir, &st) != 0) {
		problem(w, "%s: %s", HK_SBACKUP_CONF, hk_err_msg());
		return;
	}
	kind = hk_state_get(st, "kind");
	id = hk_state_get(st, "store.id");
	if (kind == NULL || strcmp(kind, "online") != 0)
		problem(w, "%s: kind: not an online state's", HK_SBACKUP_CONF);
	else if (id == NULL || strcmp(id, w->c->m->store_id) != 0)
		problem(w, "%s: store.id %s is not MANIFEST's (%s)",
		    HK_SBACKUP_CONF, id != NULL ? id : "(none)",
		    w->c->m->store_id);
	hk_state_free(st);
}

/* The audit log's copy: chain, head, checkpoints; where it ends. */
static void
log_verify(struct vwork *w, EVP_PKEY *pub)
{
	const struct hk_sbackup_manifest *m = w->c->m;
	struct hk_audit_report rep;
	char path[4096];
	int r;

	if (vpath(w, HK_SBACKUP_LOG, path, sizeof(path)) != 0 ||
	    !regular(path))
		return;		/* said by the walk: missing, or not a file */
	if ((r = hk_audit_verify(path, pub, &rep)) != 0) {
		problem(w, "%s: %s", HK_SBACKUP_LOG, rep.reason[0] ?
		    rep.reason : hk_err_msg());
		return;
	}
	if (strcmp(rep.log_id, m->log_id) != 0)
		problem(w, "%s: log id %s is not MANIFEST's (%s)",
		    HK_SBACKUP_LOG, rep.log_id, m->log_id);
	else if (rep.records - 1 != m->log_seq ||
	    strcmp(rep.last_hash, m->log_hash) != 0)
		problem(w, "%s: ends at record %" PRIu64 " (hash %.16s...), "
		    "MANIFEST says record %" PRIu64 " (hash %.16s...)",
		    HK_SBACKUP_LOG, rep.records - 1, rep.last_hash,
		    m->log_seq, m->log_hash);
}

/* hk_audit_walk_closed's each(): the closed log of the backup's log id
 * ends the walk (1). */
struct closed_find {
	const char *id;			/* the backup's log id */
	char path[4096];		/* its closed log, once found */
	uint64_t last;			/* that log's last record */
};

static int
closed_match(const struct hk_audit_report *rn, const char *closed,
    const struct hk_audit_report *rp, void *arg)
{
	struct closed_find *f = arg;

	(void)rn;
	if (strcmp(rp->log_id, f->id) != 0)
		return 0;
	snprintf(f->path, sizeof(f->path), "%s", closed);
	f->last = rp->records - 1;
	return 1;
}

/*
 * The backup's copy at copy is the first bytes of the closed log at
 * closed (both verified: every line ends in '\n', line n is record
 * n - 1); else a problem naming the closed log and the first record that
 * differs or is missing. 0, or an error of the checking itself.
 */
static int
closed_prefix(struct vwork *w, const char *copy, const char *closed,
    uint64_t closed_last)
{
	uint64_t rec;
	int differs, missing, r;

	if ((r = hk_audit_prefix(copy, closed, &differs, &rec, &missing)) ==
	    HK_ERR_IO) {
		problem(w, "%s: %s", HK_SBACKUP_LOG, hk_err_msg());
		hk_err_clear();
		return 0;
	}
	if (r != 0)
		return r;
	if (differs && !missing)
		problem(w, "%s: the closed log %s (log %s, which the live log "
		    "links back to) does not begin with the backup's copy: "
		    "record %" PRIu64 " (line %" PRIu64 ") differs from the "
		    "backup's: records were changed before the close",
		    HK_SBACKUP_LOG, closed, w->c->m->log_id, rec, rec + 1);
	else if (differs)
		problem(w, "%s: the closed log %s (log %s, which the live log "
		    "links back to) does not begin with the backup's copy: "
		    "record %" PRIu64 " (line %" PRIu64 ") is missing: the "
		    "closed log ends at record %" PRIu64 ", the backup's copy "
		    "at record %" PRIu64 ": records were removed before the "
		    "close", HK_SBACKUP_LOG, closed, w->c->m->log_id, rec,
		    rec + 1, closed_last, w->c->m->log_seq);
	else
		snprintf(w->c->live_closed, sizeof(w->c->live_closed), "%s",
		    closed);
	return 0;
}

/*
 * The live log is another log than the backup's: when it was begun by the
 * yearly close, the closed log of the backup's log id, found by following
 * the links back through audit/closed/ (each closed log verified with the
 * audit key, its link checked), must begin with the backup's copy, as the
 * live log would have: else records cut from the old log's end before the
 * close, sealed by the close's checkpoint, are found by nothing. A live
 * log not linked, or a chain that ends (a closed log no longer kept after
 * its year) before that log id, is another log: noted, not compared.
 */
static int
closed_verify(struct vwork *w, const char *live)
{
	struct hk_sbackup_check *c = w->c;
	struct hk_audit_report *lr = NULL;
	struct hk_audit_gone gone;
	struct closed_find *f = NULL;
	char copy[4096];
	int r = HK_ERR_ALLOC;

	if ((lr = malloc(sizeof(*lr))) == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	if ((r = hk_audit_verify(live, c->pub, lr)) != 0) {
		if (r == HK_ERR_ALLOC)
			goto out;
		problem(w, "%s: the live log %s does not verify (%s): the "
		    "backup's copy (log %s) cannot be compared with the closed "
		    "log it links back to", HK_SBACKUP_LOG, live,
		    lr->reason[0] ? lr->reason : hk_err_msg(), c->m->log_id);
		r = 0;
		goto out;
	}
	f->id = c->m->log_id;
	r = hk_audit_walk_closed(live, lr, c->pub, closed_match, f, &gone);
	if (r == 1) {
		r = 0;
		if (vpath(w, HK_SBACKUP_LOG, copy, sizeof(copy)) != 0 ||
		    !regular(copy))
			goto out;	/* said by the walk */
		r = closed_prefix(w, copy, f->path, f->last);
		goto out;
	}
	if (r == HK_ERR_ALLOC)
		goto out;
	if (r != 0) {
		problem(w, "%s: the backup's copy is of log %s; following the "
		    "live log %s's links back to its closed log: %s",
		    HK_SBACKUP_LOG, c->m->log_id, live, hk_err_msg());
		r = 0;
		goto out;
	}
	c->live_other = 1;
	memcpy(c->live_gone, gone.log_id, sizeof(c->live_gone));
	memcpy(c->live_gone_until, gone.until, sizeof(c->live_gone_until));
 out:
	free(lr);
	free(f);
	return r;
}

/* The live log begins with the backup's copy (docs/audit-log.md: a later
 * copy extends an earlier one byte for byte). */
static int
live_verify(struct vwork *w)
{
	const struct hk_sbackup_file *f;
	const char *live = w->c->live_log;
	unsigned char *buf = NULL, sha[32], *first = NULL;
	char *nl, id[33];
	EVP_MD_CTX *h = NULL;
	struct stat sb;
	uint64_t left;
	ssize_t got;
	size_t flen;
	int fd = -1, r = HK_ERR_ALLOC;

	if ((f = hk_sbackup_find(w->c->m, HK_SBACKUP_LOG)) == NULL)
		return 0;
	/* the live log that cannot be read (the medium: EIO) stops here,
	 * exit 8: not a problem of the backup ("not a sound backup"), nor a
	 * log without its genesis */
	if ((fd = open(live, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		if (errno != ENOENT && errno != ELOOP) {
			hk_err_set("%s: the live log cannot be read: %s", live,
			    strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		problem(w, "%s: the live log %s cannot be read: %s",
		    HK_SBACKUP_LOG, live, strerror(errno));
		r = 0;
		goto out;
	}
	/* its genesis names its id: another log (the log was closed and a
	 * new one begun since) is compared through the closed logs */
	flen = sb.st_size < 512 ? (size_t)sb.st_size : 512;
	if ((first = calloc(1, 513)) == NULL || (buf = malloc(1 << 16)) ==
	    NULL || (h = EVP_MD_CTX_new()) == NULL)
		goto out;
	if ((got = pread(fd, first, flen, 0)) < 0) {
		hk_err_set("%s: the live log cannot be read: %s", live,
		    strerror(errno));
		r = HK_ERR_IO;
		goto out;
	}
	if (got != (ssize_t)flen ||
	    (nl = strstr((char *)first, "log-id=")) == NULL ||
	    strlen(nl + 7) < 32) {
		problem(w, "%s: the live log %s has no genesis record to "
		    "compare with", HK_SBACKUP_LOG, live);
		r = 0;
		goto out;
	}
	memcpy(id, nl + 7, 32);
	id[32] = '\0';
	if (strcmp(id, w->c->m->log_id) != 0) {
		r = closed_verify(w, live);
		goto out;
	}
	if ((uint64_t)sb.st_size < f->size) {
		problem(w, "%s: the live log %s (%jd bytes) is shorter than "
		    "the backup's copy (%" PRIu64 " bytes): records were "
		    "removed from it since", HK_SBACKUP_LOG, live,
		    (intmax_t)sb.st_size, f->size);
		r = 0;
		goto out;
	}
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	/* records are only ever appended: the bytes before the copy's end
	 * do not change, so no lock is needed to read them */
	for (left = f->size; left > 0; left -= (uint64_t)got) {
		got = read(fd, buf, left < (1 << 16) ? (size_t)left :
		    (1 << 16));
		if (got < 0 && errno == EINTR) {
			got = 0;
			continue;
		}
		if (got < 0) {
			hk_err_set("%s: the live log cannot be read: %s",
			    live, strerror(errno));
			r = HK_ERR_IO;
			goto out;
		}
		if (got == 0) {
			problem(w, "%s: the live log %s cannot be read: "
			    "shorter than it was", HK_SBACKUP_LOG, live);
			r = 0;
			goto out;
		}
		if (EVP_DigestUpdate(h, buf, (size_t)got) != 1) {
			r = HK_ERR_CRYPTO;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(h, sha, NULL) != 1) {
		r = HK_ERR_CRYPTO;
		goto out;
	}
	if (memcmp(sha, f->sha256, 32) != 0)
		problem(w, "%s: the live log %s does not begin with the "
		    "backup's copy (its first %" PRIu64 " bytes differ): "
		    "records were changed or removed since", HK_SBACKUP_LOG,
		    live, f->size);
	r = 0;
 out:
	EVP_MD_CTX_free(h);
	free(buf);
	free(first);
	if (fd >= 0)
		close(fd);
	return r;
}

int
hk_sbackup_verify(struct hk_sbackup_check *c)
{
	static const char *need[] = { HK_SBACKUP_CONF, HK_SBACKUP_STORE,
	    HK_SBACKUP_LOG, HK_SBACKUP_HEAD, HK_SBACKUP_KEY };
	struct vwork w;
	struct hk_sbackup_manifest *m = NULL;
	unsigned char *text = NULL, *sig = NULL;
	char name[4200];
	size_t tlen = 0, siglen = 0, i;
	EVP_PKEY *own = NULL, *pub;
	int r;

	memset(&w, 0, sizeof(w));
	w.c = c;
	c->problems = 0;
	c->bytes = 0;
	c->m = NULL;
	c->key_hex[0] = '\0';
	c->live_other = 0;
	c->live_closed[0] = '\0';
	c->live_gone[0] = '\0';
	c->live_gone_until[0] = '\0';
	c->store_schema = 0;
	if ((r = vread(&w, HK_SBACKUP_MANIFEST, HK_SBACKUP_TEXT_MAX, &text,
	    &tlen)) != 0)
		return r == HK_ERR_ALLOC ? r : 0;
	snprintf(name, sizeof(name), "%s/%s", c->dir, HK_SBACKUP_MANIFEST);
	if ((r = hk_sbackup_parse(name, text, tlen, &m)) != 0) {
		if (r == HK_ERR_ALLOC)
			goto out;
		c->problems++;
		if (c->problem != NULL)
			c->problem(hk_err_msg(), c->arg);
		r = 0;
		goto out;
	}
	c->m = m;
	for (i = 0; i < m->n; i++)
		c->bytes += m->files[i].size;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (hk_sbackup_find(m, need[i]) == NULL)
			problem(&w, "%s: lists no %s (every backup holds it)",
			    HK_SBACKUP_MANIFEST, need[i]);
	/* every file, and nothing else */
	if ((w.seen = calloc(m->n + 1, 1)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if ((r = walk(&w, "", 0)) != 0)
		goto out;
	for (i = 0; i < m->n; i++)
		if (!w.seen[i])
			problem(&w, "%s: missing (listed in MANIFEST)",
			    m->files[i].path);
	/* the signature, with the key given or the backup's own */
	if ((r = key_get(&w, &own)) != 0)
		goto out;
	pub = c->pub != NULL ? c->pub : own;
	if (pub != NULL) {
		if ((r = hk_sbackup_key_sha256(pub, c->key_hex)) != 0)
			goto out;
		if (strcmp(c->key_hex, m->key_sha256) != 0)
			problem(&w, "%s: key-sha256 %s is not the audit key "
			    "checked with (SPKI SHA-256 %s)",
			    HK_SBACKUP_MANIFEST, m->key_sha256, c->key_hex);
		if ((r = vread(&w, HK_SBACKUP_SIG, HK_SBACKUP_SIG_MAX, &sig,
		    &siglen)) != 0) {
			if (r == HK_ERR_ALLOC)
				goto out;
		} else if (sig_verify(pub, text, tlen, sig, siglen) != 0)
			problem(&w, "%s: does not verify with the audit key "
			    "(SPKI SHA-256 %s) over %s", HK_SBACKUP_SIG,
			    c->key_hex, HK_SBACKUP_MANIFEST);
	}
	/* what is in the files */
	conf_verify(&w);
	if ((r = store_verify(&w)) != 0)
		goto out;
	log_verify(&w, pub);
	if (c->live_log != NULL && (r = live_verify(&w)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0) {
		hk_sbackup_free(m);
		c->m = NULL;
	}
	EVP_PKEY_free(own);
	free(w.seen);
	free(sig);
	free(text);
	return r;
}
