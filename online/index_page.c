/*
 * index_page.c - the repository's public index page (index_page.h): the
 * set's files sorted by kind from its MANIFEST (repo.h), each certificate
 * read through hk_repo_read and parsed, the page written to a memory
 * stream.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "clock.h"
#include "crosspair.h"
#include "err.h"
#include "hex.h"
#include "index_page.h"
#include "name.h"
#include "qr.h"
#include "repo.h"
#include "yamlx.h"

#define IX_QR_SCALE	4		/* pixels per QR module */

enum ix_kind { IX_ROOT, IX_LINK, IX_ISSUING, IX_RESPONDER, IX_CROSS,
    IX_PAIR, IX_ARL, IX_CRL, IX_NOTICE, IX_OTHER, IX_KINDS };

#define IX_FLAGGED_MAX	64		/* certificates the notices name */
#define KEY_LINE	"鍵 / Key: "	/* a notice's key line */

/* A certificate a compromise notice names (its "SHA-256: " line). */
struct flagged {
	char fp[96];			/* "AA:BB:..." */
	const char *notice;		/* its notice's path (the set's) */
};

struct page {
	const struct hk_repo_set *set;	/* the set, its MANIFEST */
	time_t now;			/* freshness and validity at this time */
	FILE *f;			/* the page being written */
	size_t *by[IX_KINDS];		/* MANIFEST lines per kind, path order */
	size_t nby[IX_KINDS];		/* how many of each kind */
	X509_CRL *arl;			/* the set's arl.crl, or NULL */
	uint64_t arl_number;		/* its MANIFEST number */
	struct flagged flag[IX_FLAGGED_MAX]; /* named by notice/ files */
	size_t nflag;
	char *notice_key[IX_FLAGGED_MAX]; /* each notice's "Key" line (or
					 * NULL), by its IX_NOTICE index */
};

/* ---- escaping ---- */

/* Text from the set: HTML-escaped, controls and non-UTF-8 as \xNN. */
static void
esc_n(FILE *f, const char *s, size_t len)
{
	int utf8 = hk_utf8_valid(s, len);
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&#39;", f);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			fprintf(f, "\\x%02X", c);
		else
			fputc(c, f);
	}
}

static void
esc(FILE *f, const char *s)
{
	esc_n(f, s, strlen(s));
}

/* A path of ours as an id: [a-z0-9] kept, the rest '-'. */
static void
put_id(FILE *f, const char *prefix, const char *path)
{
	fputs(prefix, f);
	for (; *path != '\0'; path++)
		fputc((*path >= 'a' && *path <= 'z') ||
		    (*path >= '0' && *path <= '9') ? *path : '-', f);
}

static void
put_time(FILE *f, time_t t)
{
	char buf[32];

	hk_time_format(t, buf, sizeof(buf));
	fputs(buf, f);
}

static void
put_restricted(FILE *f)
{
	fputs(" <a class=\"restricted\" href=\"#access\">制限 <span "
	    "lang=\"en\">restricted</span></a>", f);
}

/* A file of the set: a link when anyone may fetch it (CPS 2-6-3), else its
 * name marked restricted. */
static void
put_file(FILE *f, const char *path)
{
	if (hk_repo_public(path)) {
		fputs("<a href=\"", f);
		esc(f, path);
		fputs("\">", f);
		esc(f, path);
		fputs("</a>", f);
	} else {
		esc(f, path);
		put_restricted(f);
	}
}

/* "2日 3時間 / 2 d 3 h" for d seconds (d >= 0). */
static void
put_span(FILE *f, time_t d, int en)
{
	long days = (long)(d / 86400), h = (long)(d % 86400 / 3600),
	    min = (long)(d % 3600 / 60);

	if (en) {
		if (days > 0)
			fprintf(f, "%ld d %ld h", days, h);
		else
			fprintf(f, "%ld h %ld min", h, min);
	} else {
		if (days > 0)
			fprintf(f, "%ld日 %ld時間", days, h);
		else
			fprintf(f, "%ld時間 %ld分", h, min);
	}
}

/* ---- the set's files ---- */

static enum ix_kind
kind_of(const char *p)
{
	size_t n = strlen(p);
	int ends_cer = n > 4 && strcmp(p + n - 4, ".cer") == 0;

	if (strncmp(p, "root/gen-", 9) == 0 && ends_cer)
		return IX_ROOT;
	if (strncmp(p, "root/link-", 10) == 0 && ends_cer)
		return IX_LINK;
	if (strncmp(p, "issuing/issuing-", 16) == 0 && ends_cer)
		return IX_ISSUING;
	if (strncmp(p, "responder/", 10) == 0 && ends_cer &&
	    strchr(p + 10, '/') == NULL)
		return IX_RESPONDER;
	if (strncmp(p, "cross/cross-", 12) == 0 && ends_cer)
		return IX_CROSS;
	if (strncmp(p, "cross/pair-", 11) == 0 && n > 4 &&
	    strcmp(p + n - 4, ".der") == 0)
		return IX_PAIR;
	if (strcmp(p, "arl.crl") == 0)
		return IX_ARL;
	if (strncmp(p, "notice/", 7) == 0 && n > 4 &&
	    strcmp(p + n - 4, ".txt") == 0 && strchr(p + 7, '/') == NULL)
		return IX_NOTICE;
	if (strncmp(p, "crl/", 4) == 0 && n > 8 &&
	    strcmp(p + n - 4, ".crl") == 0 && strchr(p + 4, '/') == NULL)
		return IX_CRL;
	return IX_OTHER;
}

/* strverscmp: "gen-2" before "gen-10". qsort_r: no global (serve
 * renders the page from several threads). */
static int
by_path(const void *a, const void *b, void *arg)
{
	const struct hk_repo_set *set = arg;

	return strverscmp(set->files[*(const size_t *)a].path,
	    set->files[*(const size_t *)b].path);
}

/* The i-th file of kind k, in path order. */
static const struct hk_repo_file *
file_at(const struct page *pg, size_t k, size_t i)
{
	return &pg->set->files[pg->by[k][i]];
}

static int
classify(struct page *pg)
{
	const struct hk_repo_set *set = pg->set;
	size_t i, k;

	for (k = 0; k < IX_KINDS; k++) {
		if ((pg->by[k] = calloc(set->nfiles + 1, sizeof(size_t))) ==
		    NULL)
			return HK_ERR_ALLOC;
		for (i = 0; i < set->nfiles; i++)
			if (kind_of(set->files[i].path) == k)
				pg->by[k][pg->nby[k]++] = i;
		qsort_r(pg->by[k], pg->nby[k], sizeof(size_t), by_path,
		    (void *)set);
	}
	for (k = IX_ARL; k <= IX_CRL; k++)
		for (i = 0; i < pg->nby[k]; i++)
			if (!file_at(pg, k, i)->is_crl) {
				hk_err_set("%s/MANIFEST: %s: a CRL line carries "
				    "thisUpdate, nextUpdate and number",
				    set->dir, file_at(pg, k, i)->path);
				return HK_ERR_PARSE;
			}
	return 0;
}

/* A CRL file: present, of the MANIFEST's size (not read: it may be big;
 * serve and LDAP check its digest when they send it). */
static int
file_size_checked(const struct page *pg, const struct hk_repo_file *m)
{
	struct stat sb;

	if (fstatat(pg->set->dfd, m->path, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(sb.st_mode)) {
		hk_err_set("%s/%s: listed in MANIFEST but not a file of the "
		    "set", pg->set->dir, m->path);
		return HK_ERR_NOT_FOUND;
	}
	if ((uint64_t)sb.st_size != m->size) {
		hk_err_set("%s/%s: size %lld is not its MANIFEST line's (%llu)",
		    pg->set->dir, m->path, (long long)sb.st_size,
		    (unsigned long long)m->size);
		return HK_ERR_VERIFY;
	}
	return 0;
}

/* ---- certificates ---- */

static void
put_name(FILE *f, const X509_NAME *n)
{
	char *s = hk_name_print(n);

	esc(f, s != NULL ? s : "?");
	free(s);
}

/* The directoryName of the subjectAltName (the Japanese name), if any. */
static void
put_jname(FILE *f, X509 *x)
{
	GENERAL_NAMES *gs = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	int i;

	for (i = 0; gs != NULL && i < sk_GENERAL_NAME_num(gs); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gs, i);

		if (g->type != GEN_DIRNAME)
			continue;
		fputs("<dt>日本語名 <span lang=\"en\">Japanese name</span></dt>"
		    "<dd>", f);
		put_name(f, g->d.dirn);
		fputs("</dd>\n", f);
		break;
	}
	GENERAL_NAMES_free(gs);
}

static int
put_qr(FILE *f, const char *payload)
{
	struct hk_qr *q = NULL;
	int r;

	if ((r = hk_qr_encode(payload, &q)) != 0)
		return r;
	fputs("<figure class=\"qr\">", f);
	r = hk_qr_svg(q, (q->width + 2 * HK_QR_QUIET) * IX_QR_SCALE, f);
	fputs("<figcaption>SHA-256 (QR)</figcaption></figure>\n", f);
	hk_qr_free(q);
	return r;
}

/* " ⚠ 失効 / revoked: ARL n, <reason>, <time>" when the set's ARL lists x
 * (its issuer the ARL's, its serial an entry): after a root key's
 * compromise (CPS 4-14-2) the issuing CA is revoked there while its
 * validity period still runs. */
static int
put_arl_revoked(struct page *pg, X509 *x)
{
	static const char *const why[] = { "unspecified", "keyCompromise",
	    "cACompromise", "affiliationChanged", "superseded",
	    "cessationOfOperation", "certificateHold", "(7)", "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise" };
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *e;
	time_t t;
	long c = -1;
	int crit;

	if (pg->arl == NULL || X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_CRL_get_issuer(pg->arl)) != 0 ||
	    X509_CRL_get0_by_serial(pg->arl, &rev,
	    (ASN1_INTEGER *)X509_get0_serialNumber(x)) != 1 || rev == NULL)
		return 0;
	if ((e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit,
	    NULL)) != NULL) {
		c = ASN1_ENUMERATED_get(e);
		ASN1_ENUMERATED_free(e);
	}
	fprintf(pg->f, " <strong class=\"expired\">⚠ 失効 / revoked: ARL %llu"
	    ", %s, ", (unsigned long long)pg->arl_number, c >= 0 &&
	    c < (long)(sizeof(why) / sizeof(why[0])) ? why[c] :
	    "no reason code");
	if (hk_cert_time(X509_REVOKED_get0_revocationDate(rev), &t) != 0)
		t = 0;
	put_time(pg->f, t);
	fputs("</strong>", pg->f);
	return 1;
}

/* " ⚠ 危殆化宣言 / declared compromised (notice)" when a notice of the set
 * names the certificate of fingerprint fp (CPS 4-4-1-3: the compromise
 * made public): 1 then. */
static int
put_flagged(struct page *pg, const char *fp)
{
	size_t i;

	for (i = 0; i < pg->nflag; i++) {
		if (strcmp(pg->flag[i].fp, fp) != 0)
			continue;
		fputs(" <strong class=\"expired compromised\">⚠ 危殆化宣言 / "
		    "declared compromised</strong> (<a href=\"", pg->f);
		esc(pg->f, pg->flag[i].notice);
		fputs("\">公表 <span lang=\"en\">notice</span></a>)", pg->f);
		return 1;
	}
	return 0;
}

/* The notices of the set (notice/<name>.txt, written by publish from the
 * state's compromise marks): each "SHA-256: " line names a certificate,
 * the "鍵 / Key: " line the key. A notice that does not read is an error
 * (hk_repo_read names it): the page must not hide a compromise. */
static int
notices_read(struct page *pg)
{
	size_t i, n = pg->nby[IX_NOTICE];
	int r;

	if (n > IX_FLAGGED_MAX) {
		hk_err_set("%s/MANIFEST: more than %d notices", pg->set->dir,
		    IX_FLAGGED_MAX);
		return HK_ERR_PARSE;
	}
	for (i = 0; i < n; i++) {
		const struct hk_repo_file *m = file_at(pg, IX_NOTICE, i);
		unsigned char *buf = NULL;
		char *t, *line, *save = NULL;
		size_t len;

		if ((r = hk_repo_read(pg->set, m->path, &buf, &len)) != 0)
			return r;
		if ((t = malloc(len + 1)) == NULL) {
			free(buf);
			return HK_ERR_ALLOC;
		}
		memcpy(t, buf, len);
		t[len] = '\0';
		free(buf);
		for (line = strtok_r(t, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, "SHA-256: ", 9) == 0 &&
			    strlen(line + 9) == 95 &&
			    pg->nflag < IX_FLAGGED_MAX) {
				memcpy(pg->flag[pg->nflag].fp, line + 9, 96);
				pg->flag[pg->nflag++].notice = m->path;
			} else if (strncmp(line, KEY_LINE, strlen(KEY_LINE)) ==
			    0 && pg->notice_key[i] == NULL &&
			    (pg->notice_key[i] = strdup(line +
			    strlen(KEY_LINE))) == NULL) {
				free(t);
				return HK_ERR_ALLOC;
			}
		}
		free(t);
	}
	return 0;
}

/* The prominent warning: every notice of the set, linked. */
static void
notice_banner(struct page *pg)
{
	FILE *f = pg->f;
	size_t i;

	if (pg->nby[IX_NOTICE] == 0)
		return;
	fputs("<section class=\"banner expired\" id=\"banner-compromise\">\n"
	    "<h2>⚠ 鍵の危殆化の公表 <span lang=\"en\">Key compromise "
	    "declared</span></h2>\n<p>次の鍵は危殆化したと宣言されました（CPS "
	    "4-4-1-3、4-14-2）。その証明書を信頼せず、その鍵で署名されたすべての"
	    "電子証明書を失効したものとして扱ってください。 <span lang=\"en\">"
	    "The keys below are declared compromised (CPS 4-4-1-3, 4-14-2): "
	    "do not trust their certificates, and treat every certificate "
	    "signed with them as revoked.</span></p>\n<ul>\n", f);
	for (i = 0; i < pg->nby[IX_NOTICE]; i++) {
		const struct hk_repo_file *m = file_at(pg, IX_NOTICE, i);

		fputs("<li>", f);
		if (pg->notice_key[i] != NULL) {
			esc(f, pg->notice_key[i]);
			fputs(": ", f);
		}
		put_file(f, m->path);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n</section>\n", f);
}

/* One certificate as a card: with_qr for the CA's own certificates. */
static int
cert_card(struct page *pg, const struct hk_repo_file *m, int with_qr)
{
	FILE *f = pg->f;
	unsigned char *der = NULL;
	const unsigned char *p;
	char fp[96];
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	char *serial = NULL;
	size_t len;
	time_t nb, na;
	int r, flagged;

	if ((r = hk_repo_read(pg->set, m->path, &der, &len)) != 0)
		return r;
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		hk_err_set("%s: not one DER certificate (RFC 5280 4.1)",
		    m->path);
		r = HK_ERR_PARSE;
		goto out;
	}
	/* hk_repo_read checked the bytes against this digest */
	hk_fingerprint_colons(m->sha256, fp);
	/* a time that does not decode is 0 (the epoch) */
	if (hk_cert_time(X509_get0_notBefore(x), &nb) != 0)
		nb = 0;
	if (hk_cert_time(X509_get0_notAfter(x), &na) != 0)
		na = 0;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (serial = BN_bn2hex(bn)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	fputs("<section class=\"cert\" id=\"", f);
	put_id(f, "", m->path);
	fputs("\">\n<h3>", f);
	put_file(f, m->path);
	fputs("</h3>\n<div class=\"row\"><dl>\n"
	    "<dt>主体者 <span lang=\"en\">Subject</span></dt><dd>", f);
	put_name(f, X509_get_subject_name(x));
	fputs("</dd>\n<dt>発行者 <span lang=\"en\">Issuer</span></dt><dd>", f);
	put_name(f, X509_get_issuer_name(x));
	fputs("</dd>\n", f);
	put_jname(f, x);
	fputs("<dt>シリアル番号 <span lang=\"en\">Serial number</span></dt>"
	    "<dd><code>", f);
	esc(f, serial);
	fputs("</code></dd>\n<dt>有効期間 <span lang=\"en\">Validity</span>"
	    "</dt><dd>", f);
	put_time(f, nb);
	fputs(" — ", f);
	put_time(f, na);
	if (pg->now < nb)
		fputs(" <strong class=\"warn\">未発効 / not yet valid</strong>",
		    f);
	else if (pg->now > na)
		fputs(" <strong class=\"expired\">⚠ 期限切れ / expired"
		    "</strong>", f);
	/* both said when both hold: a notice, and the ARL's revocation */
	flagged = put_flagged(pg, fp);
	if (!put_arl_revoked(pg, x) && !flagged && pg->now >= nb &&
	    pg->now <= na)
		fputs(" <span class=\"ok\">有効 / valid</span>", f);
	fputs("</dd>\n<dt>SHA-256 フィンガープリント <span lang=\"en\">"
	    "SHA-256 fingerprint</span></dt><dd><code class=\"fp\" id=\"", f);
	put_id(f, "fp-", m->path);
	fprintf(f, "\">%s</code></dd>\n<dt>ファイル <span lang=\"en\">File"
	    "</span></dt><dd>", fp);
	put_file(f, m->path);
	fprintf(f, " (DER, %llu bytes)</dd>\n</dl>\n",
	    (unsigned long long)m->size);
	if (with_qr && (r = put_qr(f, fp)) != 0)
		goto out;
	fputs("</div>\n</section>\n", f);
	r = 0;
 out:
	OPENSSL_free(serial);
	BN_free(bn);
	X509_free(x);
	free(der);
	return r;
}

static int
cert_section(struct page *pg, enum ix_kind k, const char *id,
    const char *ja, const char *en, const char *note, int with_qr)
{
	size_t i;
	int r;

	fprintf(pg->f, "<section id=\"%s\">\n<h2>%s <span lang=\"en\">%s"
	    "</span></h2>\n", id, ja, en);
	if (note != NULL)
		fprintf(pg->f, "<p class=\"note\">%s</p>\n", note);
	if (pg->nby[k] == 0)
		fputs("<p>なし <span lang=\"en\">None</span></p>\n", pg->f);
	for (i = 0; i < pg->nby[k]; i++)
		if ((r = cert_card(pg, file_at(pg, k, i), with_qr)) != 0)
			return r;
	fputs("</section>\n", pg->f);
	return 0;
}

/* The CertificatePairs: each file, with whom each member was made. */
static int
pair_section(struct page *pg)
{
	FILE *f = pg->f;
	size_t i;
	int r;

	fputs("<section id=\"pairs\">\n<h2>相互認証証明書ペア <span "
	    "lang=\"en\">Certificate pairs (RFC 4523 2.6)</span></h2>\n", f);
	if (pg->nby[IX_PAIR] == 0) {
		fputs("<p>なし <span lang=\"en\">None</span></p>\n</section>\n",
		    f);
		return 0;
	}
	fputs("<ul class=\"pairs\">\n", f);
	for (i = 0; i < pg->nby[IX_PAIR]; i++) {
		const struct hk_repo_file *m = file_at(pg, IX_PAIR, i);
		unsigned char *der = NULL;
		size_t len;
		X509 *fw = NULL, *rv = NULL;
		char fp[96];

		if ((r = hk_repo_read(pg->set, m->path, &der, &len)) != 0)
			return r;
		if (hk_crosspair_decode(der, len, &fw, &rv) != 0) {
			free(der);
			hk_err_set("%s: not one DER CertificatePair (RFC 4523 "
			    "2.6)", m->path);
			return HK_ERR_PARSE;
		}
		free(der);
		hk_fingerprint_colons(m->sha256, fp);
		fputs("<li>", f);
		put_file(f, m->path);
		fprintf(f, " SHA-256 <code class=\"fp\">%s</code>", fp);
		if (fw != NULL) {
			fputs("<br>forward: 発行者 <span lang=\"en\">issued "
			    "by</span> ", f);
			put_name(f, X509_get_issuer_name(fw));
		}
		if (rv != NULL) {
			fputs("<br>reverse: 主体者 <span lang=\"en\">issued "
			    "to</span> ", f);
			put_name(f, X509_get_subject_name(rv));
		}
		fputs("</li>\n", f);
		X509_free(fw);
		X509_free(rv);
	}
	fputs("</ul>\n</section>\n", f);
	return 0;
}

/* ---- revocation lists ---- */

enum fresh { FRESH_OK, FRESH_WARN, FRESH_EXPIRED, FRESH_EARLY };

static enum fresh
freshness(const struct hk_repo_file *m, time_t now)
{
	if (now >= m->next_update)
		return FRESH_EXPIRED;
	if (now < m->this_update)
		return FRESH_EARLY;
	if (m->next_update - now < HK_INDEX_WARN_SECONDS)
		return FRESH_WARN;
	return FRESH_OK;
}

static void
rl_row(struct page *pg, const struct hk_repo_file *m)
{
	static const char *cls[] = { "ok", "warn", "expired", "warn" };
	FILE *f = pg->f;
	enum fresh s = freshness(m, pg->now);

	fprintf(f, "<tr class=\"%s\" id=\"", cls[s]);
	put_id(f, "rl-", m->path);
	fputs("\"><td>", f);
	if (kind_of(m->path) == IX_ARL)
		fputs("ARL", f);
	else {
		fputs("CRL ", f);
		esc_n(f, m->path + 4, strlen(m->path) - 8);
	}
	fputs("</td><td>", f);
	put_file(f, m->path);
	fprintf(f, "</td><td>%llu</td><td>", (unsigned long long)m->number);
	put_time(f, m->this_update);
	fputs("</td><td class=\"next\">", f);
	put_time(f, m->next_update);
	fputs("</td><td>", f);
	switch (s) {
	case FRESH_EXPIRED:
		fputs("<strong>⚠ 期限切れ ", f);
		put_span(f, pg->now - m->next_update, 0);
		fputs("前 <span lang=\"en\">EXPIRED ", f);
		put_span(f, pg->now - m->next_update, 1);
		fputs(" ago</span></strong>", f);
		break;
	case FRESH_WARN:
		fputs("<strong>⚠ 残り ", f);
		put_span(f, m->next_update - pg->now, 0);
		fputs(" <span lang=\"en\">only ", f);
		put_span(f, m->next_update - pg->now, 1);
		fputs(" left</span></strong>", f);
		break;
	case FRESH_EARLY:
		fputs("<strong>⚠ 未発効 <span lang=\"en\">thisUpdate in the "
		    "future</span></strong>", f);
		break;
	default:
		fputs("残り ", f);
		put_span(f, m->next_update - pg->now, 0);
		fputs(" <span lang=\"en\">", f);
		put_span(f, m->next_update - pg->now, 1);
		fputs(" left</span>", f);
	}
	fputs("</td></tr>\n", f);
}

static int
rl_section(struct page *pg)
{
	FILE *f = pg->f;
	size_t i;
	int r;

	fputs("<section id=\"revocation\">\n<h2>失効情報の鮮度 "
	    "<span lang=\"en\">Freshness of the revocation lists</span></h2>\n"
	    "<p class=\"note\">ARL は毎日、CRL は 24 時間ごとに更新され、72 時間有効です（CPS "
	    "2-6-2、4-4-9）。市区町村ごとの CRL は登録された署名検証者のみが"
	    "取得できます。 <span lang=\"en\">The ARL is released daily and "
	    "each CRL re-issued every 24 hours, each valid 72 hours (CPS "
	    "2-6-2, 4-4-9). The municipalities' CRLs are for registered "
	    "relying parties only.</span></p>\n<table class=\"rl\">\n<thead><tr>"
	    "<th>種別 <span lang=\"en\">Kind</span></th>"
	    "<th>ファイル <span lang=\"en\">File</span></th>"
	    "<th>番号 <span lang=\"en\">Number</span></th>"
	    "<th>thisUpdate</th><th>nextUpdate</th>"
	    "<th>残り時間 <span lang=\"en\">Time left</span></th>"
	    "</tr></thead>\n<tbody>\n", f);
	for (i = 0; i < pg->nby[IX_ARL]; i++) {
		const struct hk_repo_file *m = file_at(pg, IX_ARL, i);

		if ((r = file_size_checked(pg, m)) != 0)
			return r;
		rl_row(pg, m);
	}
	for (i = 0; i < pg->nby[IX_CRL]; i++) {
		const struct hk_repo_file *m = file_at(pg, IX_CRL, i);

		if ((r = file_size_checked(pg, m)) != 0)
			return r;
		rl_row(pg, m);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
	return 0;
}

static void
banner(struct page *pg)
{
	size_t i, k, expired = 0, warn = 0;
	enum ix_kind kinds[] = { IX_ARL, IX_CRL };

	for (k = 0; k < 2; k++)
		for (i = 0; i < pg->nby[kinds[k]]; i++) {
			enum fresh s = freshness(file_at(pg, kinds[k], i),
			    pg->now);

			if (s == FRESH_EXPIRED)
				expired++;
			else if (s != FRESH_OK)
				warn++;
		}
	if (pg->nby[IX_ARL] == 0)
		fputs("<p class=\"banner expired\" id=\"banner-arl\">⚠ ARL が"
		    "公開されていません <span lang=\"en\">No ARL is published"
		    "</span></p>\n", pg->f);
	if (expired + warn == 0)
		return;
	fprintf(pg->f, "<p class=\"banner %s\" id=\"banner\">⚠ 警告: 失効"
	    "リストのうち %zu 件が期限切れ、%zu 件が 24 時間以内に期限切れ"
	    "です。 <span lang=\"en\">Warning: revocation lists expired: %zu; "
	    "expiring within 24 hours: %zu.</span> <a href=\"#revocation\">"
	    "→</a></p>\n", expired ? "expired" : "warn", expired, warn,
	    expired, warn);
}

/* ---- the page ---- */

static const char css[] =
"body{font-family:system-ui,'Noto Sans CJK JP',sans-serif;max-width:70em;"
"margin:auto;padding:1em;color:#111;background:#fff;line-height:1.5}"
"h1,h2{border-bottom:2px solid #345}h2 span[lang=en],h1 span[lang=en],"
"h3 span[lang=en]{color:#456;font-weight:normal}"
"dt{font-weight:bold;margin-top:.3em}dd{margin-left:1.5em}"
".row{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}"
".row dl{flex:1 1 30em;margin:0}.cert{border:1px solid #bbb;"
"border-radius:4px;padding:.5em 1em;margin:1em 0}"
"code.fp{word-break:break-all;font-size:.95em}"
"figure.qr{margin:0;text-align:center}figure.qr svg{display:block}"
"table.rl{border-collapse:collapse;width:100%}"
"table.rl td,table.rl th{border:1px solid #999;padding:.2em .5em;"
"text-align:left}"
"tr.ok td{background:#eef8ee}tr.warn td{background:#fff3cd}"
"tr.expired td{background:#f8d7da;font-weight:bold}"
".banner{padding:.6em 1em;border:2px solid;font-weight:bold}"
".banner.warn{background:#fff3cd;border-color:#b58100}"
".banner.expired{background:#f8d7da;border-color:#b00020}"
"strong.expired{color:#b00020}strong.warn{color:#8a6100}"
".ok{color:#1a6b1a}.note{color:#333}a.restricted{font-size:.9em}";

static void
head(struct page *pg)
{
	FILE *f = pg->f;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>認証局リポジトリ | CA repository"
	    "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	fputs("<header>\n<h1>公的個人認証サービス 都道府県知事認証局 "
	    "リポジトリ<br><span lang=\"en\">JPKI prefectural certification "
	    "authority: repository</span></h1>\n", f);
	fputs("<p>時点 <span lang=\"en\">As of</span> ", f);
	put_time(f, pg->now);
	fputs(" (UTC)</p>\n</header>\n", f);
}

static void
access_section(struct page *pg)
{
	fputs("<section id=\"access\">\n<h2>利用条件 <span lang=\"en\">Access"
	    "</span></h2>\n<p>自己署名証明書、リンク証明書、相互認証証明書及び "
	    "ARL はアクセス制限なく公開しています（CPS 2-6-1、2-6-3）。利用者の"
	    "電子証明書の失効記録（CRL）及び OCSP は、登録された署名検証者等に"
	    "限り提供します（CPS 2-6-3、4-4-4-1）。CRL は LDAP（各市区町村の "
	    "CRL 配布点エントリの certificateRevocationList;binary、RFC 4523）"
	    "又は HTTP で、登録の際に通知される認証情報を用いて取得してください"
	    "。</p>\n<p lang=\"en\">Self-signed, link and cross certificates "
	    "and the ARL are public (CPS 2-6-1, 2-6-3). Residents' CRLs and "
	    "OCSP are for registered relying parties only (CPS 2-6-3, "
	    "4-4-4-1): fetch the CRLs over LDAP (certificateRevocationList;"
	    "binary of each municipality's CRL distribution point entry, RFC "
	    "4523) or HTTP with the credentials given at registration. The "
	    "publisher's documentation: docs/ldap.md, docs/repository.md."
	    "</p>\n<p>フィンガープリントの確認 <span lang=\"en\">To check a "
	    "fingerprint</span>: <code>openssl x509 -inform DER -noout "
	    "-fingerprint -sha256 -in gen-1.cer</code></p>\n</section>\n",
	    pg->f);
}

static int
files_section(struct page *pg)
{
	FILE *f = pg->f;
	size_t i;

	fputs("<section id=\"files\">\n<h2>その他のファイル <span lang=\"en\">"
	    "Other files</span></h2>\n<ul>\n", f);
	for (i = 0; i < pg->nby[IX_OTHER]; i++) {
		const struct hk_repo_file *m =
		    file_at(pg, IX_OTHER, i);

		fputs("<li>", f);
		put_file(f, m->path);
		fprintf(f, " (%llu bytes)</li>\n",
		    (unsigned long long)m->size);
	}
	fputs("<li>MANIFEST", f);
	put_restricted(f);
	fputs("</li>\n", f);
	fputs("</ul>\n</section>\n", f);
	return 0;
}

static int
body(struct page *pg)
{
	int r;

	head(pg);
	notice_banner(pg);
	banner(pg);
	if ((r = cert_section(pg, IX_ROOT, "roots", "自己署名証明書",
	    "Root certificates (self-signed)", "世代ごとに一つ。同じ DN "
	    "で、鍵識別子で区別されます。 <span lang=\"en\">One per "
	    "generation, all with one DN; key identifiers tell them apart."
	    "</span>", 1)) != 0 ||
	    (r = cert_section(pg, IX_ISSUING, "issuing", "発行局証明書",
	    "Issuing CA certificates", NULL, 1)) != 0 ||
	    (r = cert_section(pg, IX_RESPONDER, "responders",
	    "OCSP レスポンダ証明書", "OCSP responder certificates", NULL,
	    1)) != 0 ||
	    (r = cert_section(pg, IX_LINK, "links", "リンク証明書",
	    "Link certificates (RFC 4210 4.4)", "OldWithNew と NewWithOld "
	    "はそれぞれ単独でも公開しています。 <span lang=\"en\">Each link "
	    "is also published on its own.</span>", 0)) != 0 ||
	    (r = cert_section(pg, IX_CROSS, "cross", "相互認証証明書",
	    "Cross certificates", NULL, 0)) != 0 ||
	    (r = pair_section(pg)) != 0 ||
	    (r = rl_section(pg)) != 0)
		return r;
	access_section(pg);
	files_section(pg);
	fputs("</body>\n</html>\n", pg->f);
	return ferror(pg->f) ? HK_ERR_IO : 0;
}

int
hk_index_html_set(const struct hk_repo_set *set, time_t now, char **html,
    size_t *len)
{
	struct page pg;
	const struct hk_repo_file *m;
	unsigned char *ad = NULL;
	char *buf = NULL;
	size_t blen = 0, alen, k;
	int r;

	*html = NULL;
	*len = 0;
	memset(&pg, 0, sizeof(pg));
	pg.set = set;
	pg.now = now;
	if ((r = classify(&pg)) != 0 || (r = notices_read(&pg)) != 0)
		goto out;
	/* the ARL released with the set: which certificates it revokes (one
	 * that does not read or parse marks none; its freshness row says
	 * what it is) */
	if ((m = hk_repo_find(set, "arl.crl")) != NULL && m->is_crl &&
	    hk_repo_read(set, "arl.crl", &ad, &alen) == 0) {
		const unsigned char *p = ad;

		pg.arl = d2i_X509_CRL(NULL, &p, (long)alen);
		pg.arl_number = m->number;
		free(ad);
	}
	hk_err_clear();
	if ((pg.f = open_memstream(&buf, &blen)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	r = body(&pg);
	if (fclose(pg.f) != 0 && r == 0)
		r = HK_ERR_ALLOC;
	if (r == 0) {
		*html = buf;
		*len = blen;
		buf = NULL;
	}
 out:
	free(buf);
	for (k = 0; k < IX_KINDS; k++)
		free(pg.by[k]);
	for (k = 0; k < IX_FLAGGED_MAX; k++)
		free(pg.notice_key[k]);
	X509_CRL_free(pg.arl);
	return r;
}

int
hk_index_html(const char *repo, time_t now, char **html, size_t *len)
{
	struct hk_repo_set *set = NULL;
	int r;

	*html = NULL;
	*len = 0;
	if ((r = hk_repo_open(repo, &set)) != 0)
		return r;
	r = hk_index_html_set(set, now, html, len);
	hk_repo_close(set);
	return r;
}
