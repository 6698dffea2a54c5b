/* transcript.c - the ceremony transcript: text, signature, printable HTML. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "atomic.h"
#include "audit.h"
#include "err.h"
#include "hex.h"
#include "qr.h"
#include "transcript.h"

/*
 * Lines and witnesses are kept in arrays that grow as the ceremony goes
 * (bounded by memory only): how many lines a ceremony writes is known only
 * at its end (confirmations, an ARL batch's two lines per ARL, undo lines),
 * and a limit met in the middle would fail a ceremony whose steps are done,
 * or drop the lines that say how it ended.
 */
struct tr_line {
	char key[32];			/* "step", "input", ... */
	char *value;			/* one line of text, escaped */
	int has_dgst;			/* 1: dgst is shown as QR */
	unsigned char dgst[32];
};

struct tr_witness {
	char *id, *name, *role;		/* escaped */
};

struct hk_transcript {
	char *title;			/* the ceremony's name and title, escaped */
	struct tr_line *lines;
	size_t n, cap;
	struct tr_witness *w;
	size_t nw, capw;
	size_t lost;			/* lines or witnesses that found no
					 * memory; said in the transcript */
};

/* s escaped as the audit log escapes details (hk_audit_escape): no
 * control character or bidirectional control reaches the printed page or
 * a terminal raw, so the transcript reads as what happened. */
static char *
tr_escape(const char *s)
{
	size_t len = strlen(s);
	char *out;

	if ((out = malloc(4 * len + 1)) == NULL)
		return NULL;
	hk_audit_escape(s, len, out);
	return out;
}

/* a, an array of n elements of size sz with room for *cap, with room for
 * one more: a itself or its new place; NULL when there is no memory (a is
 * then as it was). */
static void *
tr_grow(void *a, size_t n, size_t *cap, size_t sz)
{
	size_t c;

	if (n < *cap)
		return a;
	c = *cap ? *cap * 2 : 64;
	if (c < *cap || c > SIZE_MAX / sz || (a = realloc(a, c * sz)) == NULL)
		return NULL;
	*cap = c;
	return a;
}

int
hk_transcript_new(const char *title, struct hk_transcript **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return HK_ERR_ALLOC;
	if (((*out)->title = tr_escape(title)) == NULL) {
		free(*out);
		*out = NULL;
		return HK_ERR_ALLOC;
	}
	return 0;
}

void
hk_transcript_free(struct hk_transcript *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->lines[i].value);
	for (i = 0; i < t->nw; i++) {
		free(t->w[i].id);
		free(t->w[i].name);
		free(t->w[i].role);
	}
	free(t->lines);
	free(t->w);
	free(t->title);
	free(t);
}

int
hk_transcript_add(struct hk_transcript *t, const char *key,
    const unsigned char *dgst, const char *fmt, ...)
{
	struct tr_line *l;
	va_list ap;
	char *raw = NULL;
	int r;

	if (t == NULL)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&raw, fmt, ap);
	va_end(ap);
	if (r < 0 || (l = tr_grow(t->lines, t->n, &t->cap,
	    sizeof(*t->lines))) == NULL)
		goto lost;
	t->lines = l;
	l = &t->lines[t->n];
	memset(l, 0, sizeof(*l));
	if ((l->value = tr_escape(raw)) == NULL)
		goto lost;
	free(raw);
	snprintf(l->key, sizeof(l->key), "%s", key);
	if (dgst != NULL) {
		memcpy(l->dgst, dgst, 32);
		l->has_dgst = 1;
	}
	t->n++;
	return 0;
lost:
	if (r >= 0)
		free(raw);
	/* no hk_err_set: the detail of a failure being recorded stays */
	t->lost++;
	return HK_ERR_ALLOC;
}

int
hk_transcript_witness(struct hk_transcript *t, const char *id,
    const char *name, const char *role)
{
	struct tr_witness *w;
	char *eid = NULL, *ename = NULL;
	size_t i;

	if (t == NULL)
		return 0;
	if ((eid = tr_escape(id)) == NULL || (ename = tr_escape(name)) == NULL)
		goto lost;
	/* one line a person: the same id under another name is someone
	 * else (an id a rotation gave to a new key manager) */
	for (i = 0; i < t->nw; i++)
		if (strcmp(t->w[i].id, eid) == 0 &&
		    strcmp(t->w[i].name, ename) == 0) {
			free(eid);
			free(ename);
			return 0;
		}
	if ((w = tr_grow(t->w, t->nw, &t->capw, sizeof(*t->w))) == NULL)
		goto lost;
	t->w = w;
	w = &t->w[t->nw];
	w->id = eid;
	w->name = ename;
	w->role = tr_escape(role);
	if (w->role == NULL) {
		ename = NULL;
		free(w->name);
		goto lost;
	}
	t->nw++;
	return 0;
lost:
	free(eid);
	free(ename);
	t->lost++;
	return HK_ERR_ALLOC;
}

static void
html_esc(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

static int
render_text(const struct hk_transcript *t, char **buf, size_t *len)
{
	FILE *f;
	size_t i;

	if ((f = open_memstream(buf, len)) == NULL)
		return HK_ERR_ALLOC;
	fprintf(f, "%s\n", HK_TRANSCRIPT_FORMAT);
	for (i = 0; i < t->n; i++)
		fprintf(f, "%s: %s\n", t->lines[i].key, t->lines[i].value);
	for (i = 0; i < t->nw; i++)
		fprintf(f, "witness: %s %s (%s)\n", t->w[i].id, t->w[i].role,
		    t->w[i].name);
	if (t->lost > 0)
		fprintf(f, "lost: %zu line%s could not be recorded (out of "
		    "memory); the audit log has the ceremony's records\n",
		    t->lost, t->lost == 1 ? "" : "s");
	return fclose(f) == 0 ? 0 : HK_ERR_ALLOC;
}

static int
render_html(const struct hk_transcript *t, const char *txtname, int sig,
    char **buf, size_t *len)
{
	struct hk_qr *q = NULL;
	char hex[65];
	FILE *f;
	size_t i;
	int r = 0;

	if ((f = open_memstream(buf, len)) == NULL)
		return HK_ERR_ALLOC;
	fputs("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	    "<title>", f);
	html_esc(f, t->title);
	fputs("</title><style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse;width:100%}td{border:1px solid #888;"
	    "padding:4px;vertical-align:top}td.k{font-weight:bold;width:8em}"
	    "code{font-size:11pt;word-break:break-all}.sig{margin-top:2.5em;"
	    "border-top:1px solid #000;width:60%}@media print{tr{page-break-"
	    "inside:avoid}}</style></head><body>\n<h1>Ceremony transcript: ", f);
	html_esc(f, t->title);
	fputs("</h1>\n<p>CPS 4-12-1: kept on paper with the wet signatures "
	    "below. Text: <code>", f);
	html_esc(f, txtname);
	fprintf(f, "</code>%s</p>\n<table>\n", sig ? ", signed by the token's "
	    "audit key (<code>.sig</code>)" : " (not signed: the token was not "
	    "active)");
	for (i = 0; i < t->n && r == 0; i++) {
		fputs("<tr><td class=\"k\">", f);
		html_esc(f, t->lines[i].key);
		fputs("</td><td><code>", f);
		html_esc(f, t->lines[i].value);
		fputs("</code></td><td>", f);
		if (t->lines[i].has_dgst) {
			hk_hex_encode(t->lines[i].dgst, 32, hex);
			if ((r = hk_qr_encode(hex, &q)) == 0)
				r = hk_qr_svg(q, 120, f);
			hk_qr_free(q);
			q = NULL;
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>Witnesses</h2>\n", f);
	for (i = 0; i < t->nw; i++) {
		fputs("<div class=\"sig\">", f);
		html_esc(f, t->w[i].name);
		fputs(" (", f);
		html_esc(f, t->w[i].id);
		fputs(", ", f);
		html_esc(f, t->w[i].role);
		fputs(") &mdash; signature and date</div>\n", f);
	}
	if (t->lost > 0)
		fprintf(f, "<p>lost: %zu line%s could not be recorded (out of "
		    "memory); the audit log has the ceremony's records</p>\n",
		    t->lost, t->lost == 1 ? "" : "s");
	fputs("<div class=\"sig\">Internal auditor &mdash; signature and "
	    "date</div>\n</body></html>\n", f);
	if (fclose(f) != 0)
		return HK_ERR_ALLOC;
	return r;
}

static int
sign(EVP_PKEY *key, EVP_PKEY *pub, const char *buf, size_t len,
    unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	int r = HK_ERR_CRYPTO;

	*sig = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)buf,
	    len) != 1 || (*sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSign(ctx, *sig, siglen, (const unsigned char *)buf,
	    len) != 1) {
		hk_err_set("transcript: the audit key cannot sign");
		hk_err_add_openssl();
		goto out;
	}
	EVP_MD_CTX_free(ctx);
	/* Verify before writing (EVP_DigestVerify: 1 is good, not <= 0). */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(ctx, *sig, *siglen, (const unsigned char *)buf,
	    len) != 1) {
		hk_err_set("transcript: the signature does not verify");
		hk_err_add_openssl();
		r = HK_ERR_VERIFY;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (r != 0) {
		free(*sig);
		*sig = NULL;
	}
	return r;
}

int
hk_transcript_write(struct hk_transcript *t, const char *dir,
    const char *base, EVP_PKEY *key, EVP_PKEY *pub, char *txt, size_t txtlen)
{
	static const char *const part[] = { ".txt", ".txt.sig", ".html" };
	char *text = NULL, *html = NULL, name[4000], path[4096];
	unsigned char *sig = NULL;
	size_t tlen, hlen, slen = 0;
	const char *slash;
	int r, i, made = 0;

	if ((r = render_text(t, &text, &tlen)) != 0)
		goto out;
	if (key != NULL && (r = sign(key, pub, text, tlen, &sig, &slen)) != 0)
		goto out;
	for (i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(name, sizeof(name), "%s/%s", dir, base);
		else
			snprintf(name, sizeof(name), "%s/%s-%d", dir, base, i);
		snprintf(path, sizeof(path), "%s.txt", name);
		r = hk_file_write(path, text, tlen, 0644, HK_WRITE_NOREPLACE);
		if (r != HK_ERR_EXISTS)
			break;
	}
	/* From here a part may be in place (a failure after its rename,
	 * its folder's fsync): made says which, for the removal below. */
	if (r != HK_ERR_EXISTS)
		made |= 1;
	if (r != 0)
		goto out;
	snprintf(txt, txtlen, "%s", path);
	if (sig != NULL) {
		snprintf(path, sizeof(path), "%s.txt.sig", name);
		r = hk_file_write(path, sig, slen, 0644, HK_WRITE_NOREPLACE);
		if (r != HK_ERR_EXISTS)
			made |= 2;
		if (r != 0)
			goto out;
	}
	slash = strrchr(txt, '/');
	if ((r = render_html(t, slash ? slash + 1 : txt, sig != NULL, &html,
	    &hlen)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s.html", name);
	r = hk_file_write(path, html, hlen, 0644, HK_WRITE_NOREPLACE);
	if (r != 0 && r != HK_ERR_EXISTS)
		made |= 4;
out:
	/* A transcript is whole (and signed when a key was given) or not
	 * there: the parts of one that could not be written whole are
	 * removed (an unsigned .txt would read as a run that failed before
	 * the token was activated; docs/ceremonies.md). The failure's own
	 * line is kept. */
	if (r != 0 && made != 0) {
		for (i = 2; i >= 0; i--) {
			if (!(made & (1 << i)))
				continue;
			snprintf(path, sizeof(path), "%s%s", name, part[i]);
			(void)unlink(path);
		}
		(void)hk_dir_sync(path);
		if (txtlen > 0)
			txt[0] = '\0';
	}
	free(text);
	free(html);
	free(sig);
	return r;
}
