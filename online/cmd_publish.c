/*
 * cmd_publish.c - "hanko-online publish": one CRL per municipality
 * partition and issuing generation, each signed by the key that issued the
 * certificates it lists, the ARL of the day, and the root's certificates,
 * as one repository set swapped in atomically (CPS 2-6-1, 2-6-2, 4-4-3,
 * 4-4-9, 4-4-10, 7-2; docs/publish.md, docs/repository.md).
 *
 * Under a lock (<state>/publish.lock): log in; every issuing generation
 * whose key is in the token and that has a certificate valid now (a
 * generation's certificate outlives its issuing window by the residents'
 * validity, so its key keeps signing their CRLs after a re-key);
 * the current set (its CRL numbers and when it was published), refused
 * when it is another CA's (check_owner: a root/gen-N.cer not this state's
 * root generation N, or none of them one it holds; exit 3, nothing
 * published: a CA started again publishes into a repository of its own); the
 * partitions checked against what was issued (check_parts: a code with
 * certificates to answer for missing from municipalities.csv, or a
 * partition whose DN or URI is not its certificates' CRL DP, is held
 * back, its CRL of the current set kept, exit 3); without
 * --now, a run on the day (JST) of the last publication publishes nothing
 * (CPS 2-6-2: once a day; a second cron run the same day is harmless),
 * unless the ARL of the day changed, a compromise the state records has no
 * notice in the current set (notice_missing) or a file of the current set
 * is not as its MANIFEST says (set_intact); else every partition's CRL from its
 * entry cache (crlpub.c), number = the last one (store or current set,
 * whichever is higher) + 1, never dropping an entry of the current set's
 * CRL whose certificate has not expired (unrevoke_check: else exit 3,
 * nothing published; CPS 4-4), signed and verified; the ARL of the day
 * verified with a root generation; a public notice per compromise
 * (write_notices, CPS 4-4-1-3); the set written and swapped; only then
 * the numbers committed to the store. Audited
 * (publish.start, crl.publish, crl.hold, arl.release, publish.warning,
 * publish.note, publish.done)
 * with a checkpoint. Exit 9 (HK_ERR_WARNING) when everything was
 * published but an operator must act soon (ARLs running out, no current
 * ARL, a stored ARL of the day numbered below the one already out, CRLs
 * that would expire before the next daily run, a damaged current set
 * published again or replaced: every run checks the whole current set,
 * set_intact before a skip, scan_start beside a run that replaces it).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "cert.h"
#include "atomic.h"
#include "clock.h"
#include "crl.h"
#include "crlpub.h"
#include "crosspair.h"
#include "err.h"
#include "hex.h"
#include "municipalities.h"
#include "name.h"
#include "ocsp.h"
#include "online.h"
#include "profile.h"
#include "repo.h"
#include "store.h"

#define HK_PUBLISH_DAY_OFFSET	(9 * 3600) /* days are counted in Japan
					 * Standard Time (UTC+9) */
#define MAX_HELD		8	/* partition errors kept for the
					 * message (all are audited) */

struct publish_opts {
	struct hk_online_opts c;	/* --state, --clock */
	const char *repo;		/* --repo DIR: the repository link */
	int now;			/* --now: emergency, publish at once */
	const char *above;		/* --numbers-above DIR: CRLs relying
					 * parties may hold (crl/<id>.crl) */
	int new_repo;			/* --new-repository: no current set,
					 * the store's numbers are the last */
	int take;			/* --take-revocations: the revocations
					 * --numbers-above's CRLs list that the
					 * store holds valid, taken with their
					 * dates and reasons */
	struct hk_online_ldap ldap;	/* --ldap URI ...: then ldap-push */
};

/* An issuing generation that signs CRLs this run. */
struct signer {
	int gen;			/* its generation */
	X509 *x;			/* its latest certificate valid now */
	EVP_PKEY *key;			/* its key in the token */
	const unsigned char *kid;	/* x's subjectKeyIdentifier (the
					 * certificates' issuer in the store) */
	size_t kid_len;
};

/* One partition's result, audited once the set is published. */
struct part_result {
	const struct hk_muni *m;	/* the municipality */
	const struct signer *sg;	/* the generation */
	char id[HK_CERT_PARTITION_ID_MAX]; /* "<code>" or "<code>-<gen>" */
	struct hk_crlpub_dpname names;	/* its DN and URI from today's
					 * municipalities.csv and profile: the
					 * IDP of the CRL made this run */
	int held;			/* 1: those names are not what its
					 * certificates name (check_parts):
					 * not signed, the current set's CRL
					 * kept */
	uint64_t number;		/* its cRLNumber (held: unchanged) */
	uint64_t above;			/* --numbers-above: the number of its
					 * CRL there (0: none) */
	size_t count;			/* entries */
	int rebuilt;			/* 1: cache rebuilt from the store */
};

/* A row of ca_certs as read for the repository. */
struct ca_row {
	unsigned char *der;		/* malloc'd copy */
	size_t len;
	int gen;			/* generation (0: not applicable) */
	X509 *x;			/* parsed (NULL for pairs) */
};

struct ca_rows {
	struct ca_row *r;		/* oldest first */
	size_t n, cap;
	int parse;			/* 1: parse each as a certificate */
};

/* What a publication works with, freed in one place. */
struct publish_work {
	struct hk_online *on;		/* state, logged in */
	struct hk_store *store;		/* open store */
	struct hk_profile *p;		/* the state's profile */
	struct hk_munis *munis;		/* partitions */
	struct signer *sig;		/* the signing generations, newest
					 * first */
	int nsig;
	char gens[64];			/* "2, 1": for messages */
	int rehearsal;			/* 1: rehearsal state */
	int lockfd;			/* <state>/publish.lock, held */
	time_t now;			/* thisUpdate of everything */
	time_t keep_since;		/* entries of certificates that expired
					 * before this are dropped: the last
					 * publication (RFC 5280 3.3), or now */
	struct hk_repo_set *cur;	/* the current set; NULL when none */
	struct hk_repo_writer *w;	/* the new set */
	struct ca_rows roots;		/* root generations */
	struct part_result *parts;	/* one per partition and signer, the
					 * newest generation's first */
	size_t nparts;
	size_t entries;			/* entries over all partitions */
	size_t rebuilt;			/* caches rebuilt */
	struct hk_store_arl arl;	/* the ARL of the day (der NULL:
					 * none) */
	int arl_released;		/* 1: arl.crl in the new set */
	int arl_kept;			/* 1: arl is ARL arl_floor (the
					 * store's copy, or the current set's
					 * arl.crl), kept because the stored
					 * one of the day is numbered below
					 * it (check_arls) */
	uint64_t arl_floor;		/* the highest ARL number already out:
					 * the current set's arl.crl, the
					 * store's record (HK_ARL_FLOOR) or a
					 * stored ARL whose thisUpdate has
					 * come; 0 when none */
	char **warn;			/* warnings of this run, whole */
	int nwarn;
	char **note;			/* retired rows that may now be
					 * removed (retired_check): said on
					 * stdout, not a warning */
	int nnote;
	char *held[MAX_HELD];		/* partitions held back: why */
	int nheld;			/* all of them (may exceed MAX_HELD) */
	int lost;			/* 1: a warning or hold could not be
					 * kept (no memory): say so */
	size_t nheld_parts;		/* parts with held set */
	int nunrec;			/* records of the published set that
					 * could not be appended */
	char unrec_what[160];		/* "crl.publish, publish.done" */
	int unrec_crl;			/* crl.publish records among them */
	struct hk_err_kept unrec;	/* the first one's failure */
	char (*orphan)[7];		/* codes with certificates to answer
					 * for that are no partition of the
					 * file: their CRLs of the current set
					 * kept */
	size_t norphan;
	unsigned long set;		/* the new set's number */
	int scanned;			/* 1: every file of the current set
					 * checked (set_intact, scan_start) */
	unsigned char *reported;	/* per file of the current set: 1 when
					 * the run named it damaged itself
					 * (crl_keep, arl_keep) */
	int take;			/* --take-revocations */
	size_t taken;			/* revocations it took */
};

static const char publish_usage[] =
"usage: hanko-online publish --state DIR --repo DIR [--now] [--clock T]\n"
"           [--numbers-above DIR [--take-revocations] | --new-repository]\n"
"           [--ldap URI --ldap-bind-dn DN [--ldap-passin SRC] "
"[--ldap-starttls]]\n";

static int
parse(struct publish_opts *o, int argc, char **argv)
{
	const struct hk_online_arg args[] = {
		{ .name = "--repo", .value = &o->repo, .required = 1 },
		{ .name = "--now", .flag = &o->now },
		{ .name = "--numbers-above", .value = &o->above },
		{ .name = "--new-repository", .flag = &o->new_repo },
		{ .name = "--take-revocations", .flag = &o->take },
		{ .name = "--ldap", .value = &o->ldap.uri },
		{ .name = "--ldap-bind-dn", .value = &o->ldap.bind_dn },
		{ .name = "--ldap-passin", .value = &o->ldap.passin },
		{ .name = "--ldap-starttls", .flag = &o->ldap.starttls },
		{ .name = NULL },
	};
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = hk_online_parse(&o->c, argc, argv, publish_usage, args,
	    NULL)) != 0)
		return r;
	if ((o->ldap.bind_dn != NULL || o->ldap.passin != NULL ||
	    o->ldap.starttls) && o->ldap.uri == NULL) {
		hk_err_set("--ldap-bind-dn, --ldap-passin and --ldap-starttls "
		    "need --ldap URI (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->ldap.uri != NULL && o->ldap.bind_dn == NULL) {
		hk_err_set("--ldap needs --ldap-bind-dn DN (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->above != NULL && o->new_repo) {
		hk_err_set("--numbers-above and --new-repository: one or the "
		    "other (see --help)");
		return HK_ERR_USAGE;
	}
	if (o->take && o->above == NULL) {
		hk_err_set("--take-revocations: only with --numbers-above DIR "
		    "(it takes the revocations the CRLs there list; see "
		    "--help)");
		return HK_ERR_USAGE;
	}
	return 0;
}

static void
warn_add(struct publish_work *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A warning: audited with the records of the run, printed at the end,
 * whole (no length but memory's). */
static void
warn_add(struct publish_work *w, const char *fmt, ...)
{
	va_list ap;
	char **nw, *m;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (n < 0 || (nw = realloc(w->warn, (size_t)(w->nwarn + 1) *
	    sizeof(*nw))) == NULL) {
		if (n >= 0)
			free(m);
		w->lost = 1;
		return;
	}
	w->warn = nw;
	w->warn[w->nwarn++] = m;
}

static void
msgs_free(struct publish_work *w)
{
	int i;

	for (i = 0; i < w->nwarn; i++)
		free(w->warn[i]);
	free(w->warn);
	w->warn = NULL;
	w->nwarn = 0;
	for (i = 0; i < w->nnote; i++)
		free(w->note[i]);
	free(w->note);
	w->note = NULL;
	w->nnote = 0;
	for (i = 0; i < w->nheld && i < MAX_HELD; i++)
		free(w->held[i]);
	w->nheld = 0;
}

static void
warn_audit(struct publish_work *w)
{
	int i;

	for (i = 0; i < w->nwarn; i++)
		hk_online_audit(w->on, "publish.warning", "fail", "%s",
		    w->warn[i]);
}

/* A file of the current set the run found damaged and named itself, so
 * that the check of the whole set (scan_warn) does not name it again
 * (without memory for the mark it would, which is harmless). */
static void
reported(struct publish_work *w, const struct hk_repo_file *f)
{
	if (f == NULL || (w->reported == NULL &&
	    (w->reported = calloc(w->cur->nfiles + 1, 1)) == NULL))
		return;
	w->reported[f - w->cur->files] = 1;
}

/* flock(2) on <state>/publish.lock: a second publish fails at once. */
static int
lock_take(struct publish_work *w)
{
	char path[4096], pid[32], held[32];
	ssize_t n;
	int fd, r;

	w->lockfd = -1;
	if ((r = hk_online_lock_file(w->on, "publish.lock", path,
	    sizeof(path), &fd, held, sizeof(held))) != 0) {
		if (r == HK_ERR_STATE)
			hk_err_set("%s: another publish is running (pid %s); "
			    "nothing done", path, held[0] ? held : "?");
		return r;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		fprintf(stderr, "hanko-online: %s: cannot record the pid\n",
		    path);
	w->lockfd = fd;
	return 0;
}

/* ---- the CA's certificates ---- */

static int
row_add(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct ca_rows *rows = arg;
	struct ca_row *nr, *row;
	const unsigned char *p = der;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		if (cap > 4096 || (nr = realloc(rows->r, cap *
		    sizeof(*nr))) == NULL)
			return HK_ERR_ALLOC;
		rows->r = nr;
		rows->cap = cap;
	}
	row = &rows->r[rows->n];
	memset(row, 0, sizeof(*row));
	if ((row->der = malloc(len)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(row->der, der, len);
	row->len = len;
	row->gen = gen;
	rows->n++;
	if (rows->parse && ((row->x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)) {
		hk_err_set("store: ca_certs: a stored certificate does not "
		    "parse");
		return HK_ERR_STATE;
	}
	return 0;
}

static void
rows_free(struct ca_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->r[i].der);
		X509_free(rows->r[i].x);
	}
	free(rows->r);
	memset(rows, 0, sizeof(*rows));
}

static int
rows_load(struct publish_work *w, enum hk_ca_kind kind, int parse_x,
    struct ca_rows *rows)
{
	memset(rows, 0, sizeof(*rows));
	rows->parse = parse_x;
	return hk_store_ca_each(w->store, kind, row_add, rows);
}

/* First 16 hex digits of the SHA-256 of der. */
static void
sha16(const unsigned char *der, size_t len, char out[17])
{
	unsigned char d[32];

	SHA256(der, len, d);
	hk_hex_encode(d, 8, out);
}

/* Which root generations a link joins: N = the newer one; oldwithnew when
 * its subject key is the older generation's. 0 when not resolved. */
static int
link_name(const struct publish_work *w, const struct ca_row *l, char *path,
    size_t len)
{
	EVP_PKEY *k = X509_get0_pubkey(l->x);
	int subj = 0, signer = 0;
	size_t i;

	for (i = 0; i < w->roots.n; i++) {
		EVP_PKEY *rk = X509_get0_pubkey(w->roots.r[i].x);
		if (EVP_PKEY_eq(k, rk) == 1)
			subj = w->roots.r[i].gen;
		else if (X509_verify(l->x, rk) == 1)
			signer = w->roots.r[i].gen;
	}
	ERR_clear_error();
	if (subj < 1 || signer < 1)
		return 0;
	snprintf(path, len, "root/link-%d-%s.cer", subj > signer ? subj :
	    signer, subj < signer ? "oldwithnew" : "newwithold");
	return 1;
}

/* root/roots.p7c: certs-only SignedData (RFC 2315 degenerate form, as
 * openssl crl2pkcs7 -nocrl makes) of every root generation and link. */
static int
write_p7c(struct publish_work *w, const struct ca_rows *links)
{
	PKCS7 *p7 = NULL;
	unsigned char *der = NULL;
	size_t i;
	int n, r = HK_ERR_CRYPTO;

	if ((p7 = PKCS7_new()) == NULL ||
	    PKCS7_set_type(p7, NID_pkcs7_signed) != 1)
		goto out;
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (i = 0; i < w->roots.n; i++)
		if (PKCS7_add_certificate(p7, w->roots.r[i].x) != 1)
			goto out;
	for (i = 0; i < links->n; i++)
		if (PKCS7_add_certificate(p7, links->r[i].x) != 1)
			goto out;
	if ((n = i2d_PKCS7(p7, &der)) <= 0)
		goto out;
	r = hk_repo_add(w->w, "root/roots.p7c", der, (size_t)n, NULL);
out:
	if (r == HK_ERR_CRYPTO) {
		hk_err_set("root/roots.p7c: cannot encode");
		hk_err_add_openssl();
	}
	OPENSSL_free(der);
	PKCS7_free(p7);
	return r;
}

/* A stored CertificatePair: the other CA it joins us with (the subject of
 * its reverse member, else the issuer of its forward member) and the
 * latest notBefore of its members. */
struct pair_info {
	X509 *fw, *rv;
	const X509_NAME *other;
	const ASN1_TIME *nb;
};

/* CPS 4-9: the pair in the repository is replaced by the newest one
 * ("リポジトリ上の相互認証証明書ペアは速やかに最新のものに置換する"): keep[i]
 * is 1 for the newest pair with each other CA (latest notBefore; the one
 * stored later on a tie), 0 for the ones it supersedes. */
static int
pairs_newest(const struct ca_rows *pairs, struct pair_info *pi, int *keep)
{
	size_t i, j;

	for (i = 0; i < pairs->n; i++) {
		if (hk_crosspair_decode(pairs->r[i].der, pairs->r[i].len,
		    &pi[i].fw, &pi[i].rv) != 0) {
			hk_err_set("store: ca_certs: a stored CertificatePair "
			    "does not decode");
			return HK_ERR_STATE;
		}
		pi[i].other = pi[i].rv != NULL ?
		    X509_get_subject_name(pi[i].rv) :
		    X509_get_issuer_name(pi[i].fw);
		pi[i].nb = pi[i].rv != NULL ? X509_get0_notBefore(pi[i].rv) :
		    NULL;
		if (pi[i].fw != NULL && (pi[i].nb == NULL || ASN1_TIME_compare(
		    X509_get0_notBefore(pi[i].fw), pi[i].nb) > 0))
			pi[i].nb = X509_get0_notBefore(pi[i].fw);
	}
	for (i = 0; i < pairs->n; i++) {
		keep[i] = 1;
		for (j = 0; j < pairs->n && keep[i]; j++) {
			int c;

			if (j == i || X509_NAME_cmp(pi[j].other,
			    pi[i].other) != 0)
				continue;
			c = ASN1_TIME_compare(pi[j].nb, pi[i].nb);
			if (c > 0 || (c == 0 && j > i))
				keep[i] = 0;
		}
	}
	return 0;
}

/* ---- the public notices of a compromise (CPS 4-4-1-3, 4-14-2, 2-6) ---- */

/*
 * notice/root-gen-<G>.txt for each root generation declared compromised
 * (trust --compromised: state.conf's root.G.compromised or the token's
 * mark) and notice/issuing-<N>.txt for each issuing generation state.conf
 * or the token marks (revoke --issuing-key-compromise: issuing.N.compromised;
 * hk_online_issuing_marked): UTF-8
 * text, Japanese and English, naming the key, each certificate of it
 * (subject, SHA-256, file of the set), when it was declared, what relying
 * parties must do and where the ARL and CRLs are. Only what the state
 * records: the same state gives the same bytes; no secret is in it. The
 * index page reads the "SHA-256: " lines to mark those certificates
 * (index_page.c).
 */
#define NOTICE_MAX	(16 * 1024)

struct notice_buf {
	char b[NOTICE_MAX];
	size_t n;
	int over;			/* 1: it did not fit */
};

static void
nb_put(struct notice_buf *nb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
nb_put(struct notice_buf *nb, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (nb->over)
		return;
	va_start(ap, fmt);
	k = vsnprintf(nb->b + nb->n, sizeof(nb->b) - nb->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(nb->b) - nb->n)
		nb->over = 1;
	else
		nb->n += (size_t)k;
}

/* One certificate of the notice: subject, SHA-256, file. */
static void
nb_cert(struct notice_buf *nb, const unsigned char *der, size_t len, X509 *x,
    const char *path)
{
	unsigned char d[32];
	char fp[96], *s = x != NULL ?
	    hk_name_print(X509_get_subject_name(x)) : NULL;

	SHA256(der, len, d);
	hk_fingerprint_colons(d, fp);
	nb_put(nb, "主体者 / Subject: %s\nSHA-256: %s\nファイル / File: %s\n\n",
	    s != NULL ? s : "?", fp, path);
	free(s);
}

/* "the ARL and CRLs are at ..." (the profile's repository URL, else the
 * set's paths). */
static void
nb_where(struct notice_buf *nb, const struct publish_work *w)
{
	const char *u = w->p->repository_url;
	const char *here = *u == '\0' ? " (このリポジトリ / in this "
	    "repository)" : "";

	nb_put(nb, "失効情報 / Revocation lists:\n"
	    "  ARL: %s%sarl.crl%s\n"
	    "  CRL: %s%scrl/<市区町村コード / municipality code>.crl, "
	    "crl/<code>-<世代 / generation>.crl%s (登録された署名検証者のみ / "
	    "registered relying parties only, CPS 2-6-3)\n\n",
	    u, *u != '\0' ? "/" : "", here, u, *u != '\0' ? "/" : "", here);
}

static void
nb_head(struct notice_buf *nb, const char *key_ja, const char *key_en,
    int gen, const char *when)
{
	nb_put(nb, "危殆化の公表 / Notice of key compromise\n"
	    "熊本県知事 公的個人認証サービス 都道府県知事認証局 / JPKI "
	    "prefectural certification authority (CPS 4-4-1-3, 4-14-2)\n\n"
	    "鍵 / Key: %s 第 %d 世代 / %s generation %d\n"
	    "宣言日時 / Declared: %s\n\n", key_ja, gen, key_en, gen, when);
}

static int
notice_add(struct publish_work *w, const char *path, struct notice_buf *nb)
{
	if (nb->over) {
		hk_err_set("%s: the notice exceeds %d bytes", path, NOTICE_MAX);
		return HK_ERR_INTERNAL;
	}
	return hk_repo_add(w->w, path, nb->b, nb->n, NULL);
}

static int
notice_root(struct publish_work *w, const struct hk_online_distrust_mark *m)
{
	struct notice_buf nb;
	const char *when = m->conf_val, *c;
	char path[HK_REPO_PATH_MAX], tv[32];
	size_t i;

	memset(&nb, 0, sizeof(nb));
	/* the token's mark ("SHA-256 <hex>, <time>") when there is one: the
	 * first declaration's time, which a state.conf restored and marked
	 * again later does not keep */
	if (m->token) {
		c = strrchr(m->token_val, ' ');
		/* a time is 20 bytes; a longer word is cut, not overrun */
		snprintf(tv, sizeof(tv), "%.31s", c != NULL ? c + 1 :
		    m->token_val);
		when = tv;
	}
	nb_head(&nb, "ルート認証局（自己署名証明書）", "root CA (self-signed)",
	    m->gen, when);
	for (i = 0; i < w->roots.n; i++)
		if (w->roots.r[i].gen == m->gen) {
			snprintf(path, sizeof(path), "root/gen-%d.cer", m->gen);
			nb_cert(&nb, w->roots.r[i].der, w->roots.r[i].len,
			    w->roots.r[i].x, path);
		}
	nb_put(&nb, "この鍵は危殆化したと宣言されました。この自己署名証明書を信頼"
	    "点から削除し、この鍵で署名されたすべての電子証明書（発行局証明書、"
	    "リンク証明書、その下で発行された利用者の電子証明書を含む）を失効した"
	    "ものとして扱ってください。この鍵で署名された ARL はもはや信頼できま"
	    "せん。認証局は新しいルート鍵で再開し、その自己署名証明書はこのリポジ"
	    "トリで公表されます。\n\n"
	    "This key has been declared compromised. Remove this root "
	    "certificate from your trust anchors and treat every certificate "
	    "signed under it (issuing CA certificates, link certificates and "
	    "the residents' certificates issued below them) as revoked. No ARL "
	    "signed by this key can be trusted any more. The CA starts again "
	    "under a new root key, whose self-signed certificate will be "
	    "published in this repository.\n\n");
	nb_where(&nb, w);
	snprintf(path, sizeof(path), "notice/root-gen-%d.txt", m->gen);
	return notice_add(w, path, &nb);
}

static int
notice_issuing(struct publish_work *w, int gen, const char *when,
    const struct ca_rows *iss, char (*ipath)[HK_REPO_PATH_MAX])
{
	struct notice_buf nb;
	char path[HK_REPO_PATH_MAX];
	size_t i;

	memset(&nb, 0, sizeof(nb));
	nb_head(&nb, "発行局（利用者証明書の発行者）", "issuing CA", gen, when);
	for (i = 0; i < iss->n; i++)
		if (iss->r[i].gen == gen)
			nb_cert(&nb, iss->r[i].der, iss->r[i].len, iss->r[i].x,
			    ipath[i]);
	nb_put(&nb, "この鍵は危殆化したと宣言されました。この発行局証明書を信頼し"
	    "ないでください。この鍵で署名されたすべての電子証明書は職権で失効され"
	    "（理由 cACompromise）、CRL に記録されます。発行局証明書はルート認証"
	    "局の ARL で失効されます。ARL に記載される前であっても、この鍵の下の"
	    "電子証明書はすべて失効したものとして扱ってください。\n\n"
	    "This key has been declared compromised. Do not trust this "
	    "issuing CA certificate. Every certificate signed with this key is "
	    "revoked (reason cACompromise) and listed in the CRLs; the issuing "
	    "CA certificate is revoked in the root's ARL once the root issues "
	    "it. Treat every certificate under this key as revoked, even "
	    "before the ARL lists it.\n\n");
	nb_where(&nb, w);
	snprintf(path, sizeof(path), "notice/issuing-%d.txt", gen);
	return notice_add(w, path, &nb);
}

static int
write_notices(struct publish_work *w, const struct ca_rows *iss,
    char (*ipath)[HK_REPO_PATH_MAX])
{
	struct hk_online_distrust d;
	char when[32];
	size_t j, k;
	int i, r;

	if ((r = hk_online_distrust_load(w->on, w->store, w->on->tok != NULL,
	    &d)) != 0)
		return r;
	for (i = 0; i < d.n && r == 0; i++)
		r = notice_root(w, &d.mark[i]);
	hk_online_distrust_free(&d);
	/* each generation once, at its first row */
	for (j = 0; j < iss->n && r == 0; j++) {
		for (k = 0; k < j && iss->r[k].gen != iss->r[j].gen; k++)
			;
		if (k < j)
			continue;
		if ((r = hk_online_issuing_marked(w->on, iss->r[j].gen, when,
		    sizeof(when))) == 1)
			r = notice_issuing(w, iss->r[j].gen, when, iss, ipath);
	}
	return r;
}

/* 1 when a compromise the state records has no notice in the current set
 * (CPS 4-4-1-3: it is made public at once, not on the next day's run). */
static int
notice_missing(struct publish_work *w)
{
	struct hk_online_distrust d;
	struct ca_rows iss;
	char path[HK_REPO_PATH_MAX], when[32];
	size_t j;
	int i, m, missing = 0;

	if (hk_online_distrust_load(w->on, w->store, w->on->tok != NULL,
	    &d) != 0) {
		hk_err_clear();
		return 1;
	}
	for (i = 0; i < d.n; i++) {
		snprintf(path, sizeof(path), "notice/root-gen-%d.txt",
		    d.mark[i].gen);
		if (hk_repo_find(w->cur, path) == NULL)
			missing = 1;
	}
	hk_online_distrust_free(&d);
	if (rows_load(w, HK_CA_ISSUING, 0, &iss) != 0) {
		hk_err_clear();
		rows_free(&iss);
		return 1;
	}
	for (j = 0; j < iss.n; j++) {
		snprintf(path, sizeof(path), "notice/issuing-%d.txt",
		    iss.r[j].gen);
		if ((m = hk_online_issuing_marked(w->on, iss.r[j].gen, when,
		    sizeof(when))) < 0) {
			hk_err_clear();
			missing = 1;
		} else if (m == 1 && hk_repo_find(w->cur, path) == NULL)
			missing = 1;
	}
	rows_free(&iss);
	return missing;
}

/* Everything from the root: generations, links, cross certificates and
 * the newest pair, issuing CA and responder certificates
 * (docs/repository.md). */
static int
write_ca(struct publish_work *w)
{
	struct ca_rows links, cross, pairs, iss, resp;
	struct pair_info *pi = NULL;
	int *keep = NULL;
	char path[HK_REPO_PATH_MAX], h[17];
	char (*ipath)[HK_REPO_PATH_MAX] = NULL;	/* each iss row's path */
	size_t i, j;
	int r, newest;

	memset(&links, 0, sizeof(links));
	memset(&cross, 0, sizeof(cross));
	memset(&pairs, 0, sizeof(pairs));
	memset(&iss, 0, sizeof(iss));
	memset(&resp, 0, sizeof(resp));
	if ((r = rows_load(w, HK_CA_LINK, 1, &links)) != 0 ||
	    (r = rows_load(w, HK_CA_CROSS, 0, &cross)) != 0 ||
	    (r = rows_load(w, HK_CA_PAIR, 0, &pairs)) != 0 ||
	    (r = rows_load(w, HK_CA_ISSUING, 1, &iss)) != 0 ||
	    (r = rows_load(w, HK_CA_RESPONDER, 0, &resp)) != 0)
		goto out;
	for (i = 0; i < w->roots.n; i++) {
		snprintf(path, sizeof(path), "root/gen-%d.cer",
		    w->roots.r[i].gen);
		if ((r = hk_repo_add(w->w, path, w->roots.r[i].der,
		    w->roots.r[i].len, NULL)) != 0)
			goto out;
	}
	for (i = 0; i < links.n; i++) {
		if (!link_name(w, &links.r[i], path, sizeof(path))) {
			sha16(links.r[i].der, links.r[i].len, h);
			snprintf(path, sizeof(path), "root/link-%s.cer", h);
		}
		if ((r = hk_repo_add(w->w, path, links.r[i].der,
		    links.r[i].len, NULL)) != 0)
			goto out;
	}
	if (w->roots.n > 0 && (r = write_p7c(w, &links)) != 0)
		goto out;
	for (i = 0; i < cross.n; i++) {
		sha16(cross.r[i].der, cross.r[i].len, h);
		snprintf(path, sizeof(path), "cross/cross-%s.cer", h);
		if ((r = hk_repo_add(w->w, path, cross.r[i].der,
		    cross.r[i].len, NULL)) != 0)
			goto out;
	}
	if (pairs.n > 0 && ((pi = calloc(pairs.n, sizeof(*pi))) == NULL ||
	    (keep = calloc(pairs.n, sizeof(*keep))) == NULL)) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (pairs.n > 0 && (r = pairs_newest(&pairs, pi, keep)) != 0)
		goto out;
	for (i = 0; i < pairs.n; i++) {
		if (!keep[i])
			continue;
		sha16(pairs.r[i].der, pairs.r[i].len, h);
		snprintf(path, sizeof(path), "cross/pair-%s.der", h);
		if ((r = hk_repo_add(w->w, path, pairs.r[i].der,
		    pairs.r[i].len, NULL)) != 0)
			goto out;
	}
	/* issuing-<N>.cer: the newest certificate of generation N valid now
	 * (after a root rollover, the re-certified one), else the newest
	 * (none valid now); the others also at issuing-<N>-<sha16>.cer. A
	 * certificate not valid yet (imported under a clock that was ahead,
	 * docs/clock.md) is never the one relying parties are pointed at
	 * while another is valid. */
	if (iss.n > 0 && (ipath = calloc(iss.n, sizeof(*ipath))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < iss.n; i++) {
		int valid = iss.r[i].x != NULL &&
		    hk_cert_valid_at(iss.r[i].x, w->now);

		newest = 1;
		for (j = 0; j < iss.n && newest; j++) {
			int vj;

			if (j == i || iss.r[j].gen != iss.r[i].gen)
				continue;
			vj = iss.r[j].x != NULL &&
			    hk_cert_valid_at(iss.r[j].x, w->now);
			/* j is preferred: valid where i is not, or as valid
			 * and imported later */
			if ((vj && !valid) || (vj == valid && j > i))
				newest = 0;
		}
		if (newest)
			snprintf(path, sizeof(path), "issuing/issuing-%d.cer",
			    iss.r[i].gen);
		else {
			sha16(iss.r[i].der, iss.r[i].len, h);
			snprintf(path, sizeof(path),
			    "issuing/issuing-%d-%s.cer", iss.r[i].gen, h);
		}
		if ((r = hk_repo_add(w->w, path, iss.r[i].der, iss.r[i].len,
		    NULL)) != 0)
			goto out;
		memcpy(ipath[i], path, sizeof(path));
	}
	if ((r = write_notices(w, &iss, ipath)) != 0)
		goto out;
	for (i = 0; i < resp.n; i++) {
		sha16(resp.r[i].der, resp.r[i].len, h);
		snprintf(path, sizeof(path), "responder/%s.cer", h);
		if ((r = hk_repo_add(w->w, path, resp.r[i].der,
		    resp.r[i].len, NULL)) != 0)
			goto out;
	}
out:
	rows_free(&links);
	rows_free(&cross);
	for (i = 0; pi != NULL && i < pairs.n; i++) {
		X509_free(pi[i].fw);
		X509_free(pi[i].rv);
	}
	free(pi);
	free(keep);
	rows_free(&pairs);
	rows_free(&iss);
	free(ipath);
	rows_free(&resp);
	return r;
}

/* ---- the issuing generations ---- */

/* 1 when generation gen has a certificate in l valid at now. */
static int
gen_valid(const struct hk_online_issuing *l, int gen, time_t now)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->gen[i] == gen && hk_cert_valid_at(l->x[i], now))
			return 1;
	return 0;
}

/*
 * The signers: every issuing generation whose key is in the token and
 * that has a certificate valid now (hk_online_gen_issuer; for the newest
 * key the rule of hk_online_current_issuer, so the newest generation here
 * is the one issue and responder use). An older generation whose
 * certificate is valid but whose key is gone is a warning: the
 * certificates it issued get no CRL.
 */
static int
find_signers(struct publish_work *w)
{
	struct hk_online_issuing l;
	const ASN1_OCTET_STRING *ski;
	size_t off = 0;
	int top, g, r;

	if ((r = hk_online_top_gen(w->on, &top)) != 0 ||
	    (r = hk_online_issuing_load(w->store, &l)) != 0)
		return r;
	if ((w->sig = calloc((size_t)top, sizeof(*w->sig))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (g = top; g >= 1; g--) {
		struct signer *sg = &w->sig[w->nsig];

		r = hk_online_gen_issuer(w->on, &l, g, w->now, &sg->x,
		    &sg->key);
		if (r == HK_ERR_NOT_FOUND && g < top) {
			hk_err_clear();
			if (gen_valid(&l, g, w->now))
				warn_add(w, "CPS 4-4-9: issuing generation %d "
				    "has a certificate valid now but its key "
				    "is not in the token: the certificates it "
				    "issued get no CRL", g);
			continue;
		}
		if (r != 0)
			goto out;
		if (sg->x == NULL)
			continue;
		if ((ski = X509_get0_subject_key_id(sg->x)) == NULL ||
		    ASN1_STRING_length(ski) < 1 ||
		    ASN1_STRING_length(ski) > HK_STORE_KEYID_MAX) {
			hk_err_set("issuing generation %d: its certificate "
			    "has no subjectKeyIdentifier of 1-%d octets", g,
			    HK_STORE_KEYID_MAX);
			X509_free(sg->x);
			EVP_PKEY_free(sg->key);
			memset(sg, 0, sizeof(*sg));
			r = HK_ERR_STATE;
			goto out;
		}
		sg->gen = g;
		sg->kid = ASN1_STRING_get0_data(ski);
		sg->kid_len = (size_t)ASN1_STRING_length(ski);
		off += (size_t)snprintf(w->gens + off, sizeof(w->gens) - off,
		    "%s%d", w->nsig ? ", " : "", g);
		if (off >= sizeof(w->gens))
			off = sizeof(w->gens) - 1;
		w->nsig++;
	}
	r = w->nsig == 0 ? hk_online_no_issuer() : 0;
out:
	hk_online_issuing_free(&l);
	ERR_clear_error();
	return r;
}

static int check_owner(struct publish_work *w, const char *repo);

static int
work_open(struct publish_work *w, const struct publish_opts *o)
{
	const char *reh;
	char path[4096];
	size_t i;
	time_t last;
	int r, g;

	w->lockfd = -1;
	if ((r = hk_online_open(&o->c, &w->on)) != 0 ||
	    (r = lock_take(w)) != 0)
		return r;
	/* under the lock: what a run killed while writing a cache left */
	if (hk_online_path(w->on, "crlcache", path, sizeof(path)) == 0 &&
	    (i = hk_tmp_sweep(path, NULL)) > 0)
		printf("Removed %zu temporary file%s an interrupted run left "
		    "in %s\n", i, i == 1 ? "" : "s", path);
	w->now = hk_clock_now();
	reh = hk_state_get(w->on->st, "rehearsal");
	w->rehearsal = reh != NULL && strcmp(reh, "yes") == 0;
	if ((r = hk_online_profile(w->on, &w->p)) != 0 ||
	    (r = hk_online_path(w->on, "municipalities.csv", path,
	    sizeof(path))) != 0 || (r = hk_munis_load(path, &w->munis)) != 0 ||
	    (r = hk_online_path(w->on, HK_ONLINE_STORE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_store_open(path, 0, &w->store)) != 0)
		return r;
	/* the token before anything is read or written: a wrong PIN file
	 * changes nothing */
	if ((r = hk_online_login(w->on)) != 0 ||
	    (r = find_signers(w)) != 0 ||
	    (r = rows_load(w, HK_CA_ROOT, 1, &w->roots)) != 0)
		return r;
	if ((w->parts = calloc(w->munis->n * (size_t)w->nsig + 1,
	    sizeof(*w->parts))) == NULL)
		return HK_ERR_ALLOC;
	for (g = 0; g < w->nsig; g++)
		for (i = 0; i < w->munis->n; i++) {
			struct part_result *pr = &w->parts[w->nparts];

			if (!w->munis->m[i].partition)
				continue;
			pr->m = &w->munis->m[i];
			pr->sg = &w->sig[g];
			/* the IDP names exactly what the certificates of
			 * this generation name in their CRL DP */
			if ((r = hk_cert_partition_id(pr->m->code,
			    pr->sg->gen, pr->id, sizeof(pr->id))) != 0 ||
			    (r = hk_crlpub_partition_names(w->p, pr->m->romaji,
			    pr->m->code, pr->sg->gen, w->rehearsal,
			    &pr->names)) != 0)
				return r;
			w->nparts++;
		}
	r = hk_repo_open(o->repo, &w->cur);
	if (r == HK_ERR_NOT_FOUND) {
		w->cur = NULL;
		hk_err_clear();
		r = 0;
	}
	if (r != 0 || (r = check_owner(w, o->repo)) != 0)
		return r;
	/*
	 * RFC 5280 3.3: an entry is not removed until it appears on one
	 * regularly scheduled CRL issued beyond its certificate's validity.
	 * Keeping every entry whose certificate expired at or after the last
	 * publication does that: the first CRL after the expiry still lists
	 * it, the one after does not.
	 */
	last = w->cur != NULL ? hk_repo_published_at(w->cur) : 0;
	w->keep_since = last > 0 && last < w->now ? last : w->now;
	return 0;
}

/*
 * The current set is this state's own: every root certificate it publishes
 * (root/gen-N.cer) that the store holds as generation N is that very
 * certificate, and at least one is. A CA started again after its root key's
 * compromise (CPS 4-14-2: a new state, a new root under the same DN) given
 * the old CA's repository would otherwise number on from it and replace the
 * old root, the emergency ARL listing what the lost key signed and the
 * residents' CRLs (their revocations) with its own, at the URLs the old
 * certificates name.
 */
static int
check_owner(struct publish_work *w, const char *repo)
{
	return hk_online_repo_owner(w->store, w->cur, repo, "a CA started "
	    "again publishes into a repository of its own, and the old one "
	    "stays the old state's (docs/ceremony-lifecycle.md "
	    "\"compromise\"); nothing published");
}

static void
work_close(struct publish_work *w)
{
	size_t i;
	int g;

	hk_repo_abort(w->w);
	hk_repo_close(w->cur);
	free(w->reported);
	hk_store_arl_clear(&w->arl);
	rows_free(&w->roots);
	for (i = 0; w->parts != NULL && i < w->nparts; i++)
		hk_crlpub_dpname_clear(&w->parts[i].names);
	free(w->parts);
	free(w->orphan);
	for (g = 0; w->sig != NULL && g < w->nsig; g++) {
		EVP_PKEY_free(w->sig[g].key);
		X509_free(w->sig[g].x);
	}
	free(w->sig);
	hk_munis_free(w->munis);
	hk_profile_free(w->p);
	hk_store_close(w->store);
	if (w->lockfd >= 0)
		close(w->lockfd);		/* releases the flock */
	hk_online_close(w->on);
}

/* ---- warnings, skip ---- */

/*
 * ARL w->arl_floor (the highest already out) as the ARL of this run, when
 * the stored ARL of the day is numbered below it (check_arls). Its bytes
 * are the store's copy of that number (imported with its bundle, never
 * changed or deleted); only when the store holds none (a store restored
 * from a backup taken before its import) the current set's arl.crl of that
 * number, checked against its MANIFEST line. write_arl verifies either with
 * a root generation before it is released. A current arl.crl that cannot
 * be read then is no failure of the run: the CRLs, which expire in 72 h,
 * are published without arl.crl (never an ARL numbered below the floor,
 * which the store records from this run on: numbers_commit), and kept says
 * so, naming the file (exit 9). kept: what became of arl.crl, for the
 * warning.
 */
static int
arl_keep(struct publish_work *w, char *kept, size_t klen)
{
	const struct hk_repo_file *f = NULL;
	char t[32];
	int r;

	hk_store_arl_clear(&w->arl);
	if (w->cur != NULL && (f = hk_repo_find(w->cur, "arl.crl")) != NULL &&
	    (!f->is_crl || f->number != w->arl_floor))
		f = NULL;	/* not the floor: its number is lower */
	if ((r = hk_store_arl_get(w->store, w->arl_floor, &w->arl)) == 0) {
		w->arl_kept = 1;
		hk_time_format(w->arl.next_update, t, sizeof(t));
		if (f != NULL)
			snprintf(kept, klen, "arl.crl %" PRIu64 " of set %lu "
			    "kept", w->arl_floor, w->cur->n);
		else
			snprintf(kept, klen, "ARL %" PRIu64 " (expired at %s) "
			    "published as arl.crl", w->arl_floor, t);
		return 0;
	}
	if (r != HK_ERR_NOT_FOUND)
		return r;
	hk_err_clear();
	if (f == NULL) {
		snprintf(kept, klen, "arl.crl not published");
		return 0;
	}
	if ((r = hk_repo_read(w->cur, "arl.crl", &w->arl.der,
	    &w->arl.len)) == HK_ERR_ALLOC)
		return r;
	if (r != 0) {
		snprintf(kept, klen, "arl.crl not published (%s; the store "
		    "holds no ARL %" PRIu64 ")", hk_err_msg(), w->arl_floor);
		hk_err_clear();
		reported(w, f);
		return 0;
	}
	w->arl.number = f->number;
	w->arl.this_update = f->this_update;
	w->arl.next_update = f->next_update;
	w->arl_kept = 1;
	snprintf(kept, klen, "arl.crl %" PRIu64 " of set %lu kept",
	    w->arl_floor, w->cur->n);
	return 0;
}

/*
 * The ARL of the day and the warnings that do not need the new set.
 *
 * RFC 5280 5.2.3, PROFILE.md: ARL numbers only increase. "newest" (kept
 * as w->arl_floor) is the highest number already out: the current set's
 * arl.crl (its MANIFEST line: the file itself is not read), the store's
 * record of the last run's (HK_ARL_FLOOR, so that a repository lost or
 * damaged does not lower it), or any stored ARL whose thisUpdate has come
 * (an emergency ARL, CPS 4-4-9, expired or not). A stored ARL numbered
 * below it was signed before it and lacks what it revoked: never
 * released; ARL newest is kept (arl_keep) and the run warns (exit 9). The
 * horizon counts only ARLs numbered at or above it, so that the warning
 * comes while the emergency ARL is current.
 */
/*
 * PROFILE.md: an issuing CA covers its issuing window + 3 y (CPS 1-3-2: a
 * resident's certificate runs 3 years from issue), so issue refuses once
 * the newest generation's certificate ends before a certificate issued
 * now would (hk_cert_user_not_after). The daily run warns (exit 9) from
 * HK_PUBLISH_WINDOW_DAYS before that day while no newer generation is
 * imported, naming the day and the next step.
 */
static int
check_window(struct publish_work *w)
{
	const struct signer *sg;
	time_t na, lo;
	char t[512];
	int r, top = 0;

	if (w->nsig == 0)
		return 0;
	sg = &w->sig[0];		/* the newest: the one issue uses */
	r = hk_cert_user_not_after(w->p, sg->x, sg->gen, w->now +
	    (time_t)HK_PUBLISH_WINDOW_DAYS * 86400, &na);
	if (r == 0 || r != HK_ERR_STATE) {
		hk_err_clear();
		return r;
	}
	/* the last second a certificate issued then still fits: after
	 * notAfter - 3 y, so after now - 3 y (the signer is valid now) */
	lo = hk_online_issue_last(w->p, sg->x, sg->gen, w->now -
	    (time_t)(3 * 366 + 1) * 86400, w->now +
	    (time_t)HK_PUBLISH_WINDOW_DAYS * 86400);
	hk_err_clear();
	(void)hk_online_top_gen(w->on, &top);
	hk_online_window_note(sg->gen, top, lo, w->now, t, sizeof(t));
	warn_add(w, "%s", t);
	return 0;
}

static int
check_arls(struct publish_work *w)
{
	const struct hk_repo_file *f;
	char t[32], kept[640], todo[320], next[400];
	uint64_t newest = 0;
	time_t horizon, all;
	int r, lost;

	if ((r = hk_online_distrust_top(w->on, w->store, &lost)) != 0)
		return r;
	hk_store_arl_clear(&w->arl);
	w->arl_kept = 0;
	if (w->cur != NULL && (f = hk_repo_find(w->cur, "arl.crl")) != NULL &&
	    f->is_crl)
		newest = f->number;
	if ((r = hk_online_arl_runway(w->store, newest, w->now, &newest,
	    &horizon, &all)) != 0)
		return r;
	w->arl_floor = newest;
	r = hk_store_arl_current(w->store, w->now, &w->arl);
	if (r == HK_ERR_NOT_FOUND) {
		hk_time_format(w->now, t, sizeof(t));
		warn_add(w, "CPS 4-4-10: no imported ARL is current at %s "
		    "(arl.crl not published): %s", t, hk_online_arl_todo(lost,
		    "import the next arl-batch bundle", todo, sizeof(todo)));
		hk_err_clear();
		return 0;
	}
	if (r != 0)
		return r;
	if (w->arl.number < newest) {
		uint64_t stale = w->arl.number;

		if ((r = arl_keep(w, kept, sizeof(kept))) != 0)
			return r;
		hk_time_format(w->now, t, sizeof(t));
		snprintf(next, sizeof(next), "hold the arl-batch ceremony and "
		    "import a batch made after ARL %" PRIu64, newest);
		warn_add(w, "CPS 4-4-10: RFC 5280 5.2.3: the stored ARL current "
		    "at %s is ARL %" PRIu64 ", numbered below ARL %" PRIu64
		    " already out (published, recorded by the store or in "
		    "effect: an emergency ARL, CPS 4-4-9): not released, %s: "
		    "%s", t, stale, newest, kept, hk_online_arl_todo(lost,
		    next, todo, sizeof(todo)));
		return 0;
	}
	if (horizon < w->now + HK_PUBLISH_ARL_DAYS * 86400) {
		hk_online_arl_note(newest, horizon, all, lost, kept,
		    sizeof(kept));
		warn_add(w, "%s", kept);
	}
	return 0;
}

/* The day of t in Japan Standard Time. */
static long
jst_day(time_t t)
{
	long long s = (long long)t + HK_PUBLISH_DAY_OFFSET;

	return (long)(s >= 0 ? s / 86400 : (s - 86399) / 86400);
}

/*
 * Every file of a set against its MANIFEST line (size and SHA-256,
 * hk_repo_check), each one that fails marked in bad[]. Reads only the set
 * and writes only bad[] (no error state), so that it can run in a thread
 * of its own beside the run that replaces the set (scan_start).
 */
struct set_scan {
	const struct hk_repo_set *set;	/* the set read */
	unsigned char *bad;		/* per file: 1 when not as its
					 * MANIFEST line says */
	pthread_t tid;			/* scan_start's thread */
	int running;			/* 1: tid to join; -1: no thread,
					 * scan at scan_join */
};

static void *
scan_run(void *arg)
{
	struct set_scan *c = arg;
	char why[256];
	size_t i;

	for (i = 0; i < c->set->nfiles; i++)
		c->bad[i] = hk_repo_check(c->set, &c->set->files[i], why,
		    sizeof(why)) != 0;
	return NULL;
}

/* The warning for a scan that found damaged files not named by the run
 * already (reported: a kept CRL or arl.crl found damaged says so itself),
 * the first of them named with what failed (read again for its why);
 * exit 9: someone must look at the disk and at who can write there.
 * what: what became of the set. 1 when none is left to name. */
static int
scan_warn(struct publish_work *w, const struct set_scan *c, const char *what)
{
	const struct hk_repo_set *s = c->set;
	char why[256], more[96] = "";
	size_t i, first = 0, bad = 0;

	for (i = 0; i < s->nfiles; i++)
		if (c->bad[i] && (w->reported == NULL || !w->reported[i]) &&
		    bad++ == 0)
			first = i;
	if (bad == 0)
		return 1;
	if (hk_repo_check(s, &s->files[first], why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "not as its MANIFEST line says "
		    "when first read");
	if (bad > 1)
		snprintf(more, sizeof(more), " (and %zu more file%s of set %lu "
		    "not as its MANIFEST says)", bad - 1, bad > 2 ? "s" : "",
		    s->n);
	warn_add(w, "CPS 2-6-2: %.400s/%s: %s%s: set %lu %s; check the "
	    "repository's disk and who can write to it", s->dir,
	    s->files[first].path, why, more, s->n, what);
	return 0;
}

/*
 * Before a daily run is skipped, every file of the current set is checked:
 * a file damaged on disk (a fault, someone's edit) would otherwise stay in
 * the repository until the next day's set (serve answers 500 for it, a
 * plain web server serves the damaged bytes). When one fails the run
 * publishes a complete new set, with the warning. 1 when every file
 * matches (0 out of memory: a new set, whose run reports it).
 */
static int
set_intact(struct publish_work *w)
{
	struct set_scan c = { .set = w->cur };
	int r;

	if ((c.bad = calloc(w->cur->nfiles + 1, 1)) == NULL)
		return 0;
	w->scanned = 1;
	scan_run(&c);
	r = scan_warn(w, &c, "of today is damaged (a disk fault or an edit): "
	    "published again in full");
	free(c.bad);
	return r;
}

/*
 * A run that publishes anyway (a new day, --now, a changed ARL) checks the
 * set it replaces all the same, in a thread of its own while it signs
 * (what it costs is the other core's time): a file damaged since that set
 * was published has been served damaged, and a person must know
 * (scan_join's warning, exit 9). Not when set_intact already read it.
 * Without a thread the check is done at scan_join.
 */
static int
scan_start(struct publish_work *w, struct set_scan *c)
{
	memset(c, 0, sizeof(*c));
	c->set = w->cur;
	if (c->set == NULL || w->scanned)
		return 0;
	if ((c->bad = calloc(c->set->nfiles + 1, 1)) == NULL)
		return HK_ERR_ALLOC;
	w->scanned = 1;
	c->running = pthread_create(&c->tid, NULL, scan_run, c) == 0 ? 1 : -1;
	return 0;
}

static void
scan_join(struct publish_work *w, struct set_scan *c)
{
	if (c->running == 0)
		return;
	if (c->running == 1)
		pthread_join(c->tid, NULL);
	else
		scan_run(c);
	c->running = 0;
	(void)scan_warn(w, c, "was damaged (a disk fault or an edit) while "
	    "it was out: replaced by this run's set");
	free(c->bad);
	c->bad = NULL;
}

/* 1 when a daily run has nothing to do: published the same day (JST),
 * the same ARL of the day, every partition there but those held back
 * (check_parts): a held partition is never signed, so a new set would
 * carry what the current one does (its CRL, or none when it never had
 * one) and only take new numbers for the others; the run still exits 3
 * naming it; and every file of the set as its MANIFEST says
 * (set_intact: else a new set, with a warning). */
static int
skip(struct publish_work *w, const struct publish_opts *o)
{
	const struct hk_repo_file *arl;
	char path[32];
	size_t i;
	time_t at;

	if (o->now || w->cur == NULL)
		return 0;
	at = hk_repo_published_at(w->cur);
	if (at == 0 || jst_day(at) != jst_day(w->now))
		return 0;
	arl = hk_repo_find(w->cur, "arl.crl");
	if ((arl == NULL) != (w->arl.der == NULL) ||
	    (arl != NULL && arl->number != w->arl.number))
		return 0;
	for (i = 0; i < w->nparts; i++) {
		if (w->parts[i].held)
			continue;
		snprintf(path, sizeof(path), "crl/%s.crl", w->parts[i].id);
		if (hk_repo_find(w->cur, path) == NULL)
			return 0;
	}
	if (notice_missing(w))
		return 0;
	return set_intact(w);
}

/* ---- partitions against what was issued ---- */

static void
held_add(struct publish_work *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A partition held back: why, for the message and the audit. */
static void
held_add(struct publish_work *w, const char *fmt, ...)
{
	va_list ap;

	if (w->nheld < MAX_HELD) {
		va_start(ap, fmt);
		if (vasprintf(&w->held[w->nheld], fmt, ap) < 0) {
			w->held[w->nheld] = NULL;
			w->lost = 1;
		}
		va_end(ap);
	}
	w->nheld++;
}

static void
held_audit(struct publish_work *w)
{
	int i;

	for (i = 0; i < w->nheld && i < MAX_HELD; i++)
		hk_online_audit(w->on, "crl.hold", "fail", "%s",
		    w->held[i] != NULL ? w->held[i] : "(no memory for why)");
	if (w->nheld > MAX_HELD)
		hk_online_audit(w->on, "crl.hold", "fail", "%d more partitions "
		    "held back (the first %d are named above)",
		    w->nheld - MAX_HELD, MAX_HELD);
}

/* Whether the current set's path is kept, for messages. */
static const char *
kept_from(const struct publish_work *w, const char *path)
{
	static char buf[64];

	if (w->cur == NULL || hk_repo_find(w->cur, path) == NULL)
		return "none published before";
	snprintf(buf, sizeof(buf), "the one of set %lu kept", w->cur->n);
	return buf;
}

/* "CN=..." of a name, for messages. */
static void
name_cn(const X509_NAME *dn, char *buf, size_t len)
{
	int i = dn != NULL ? X509_NAME_get_index_by_NID(dn, NID_commonName,
	    -1) : -1;
	const ASN1_STRING *v;

	snprintf(buf, len, "%s", "(none)");
	if (i >= 0 && (v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(dn,
	    i))) != NULL)
		snprintf(buf, len, "CN=%.*s", ASN1_STRING_length(v),
		    (const char *)ASN1_STRING_get0_data(v));
}

/*
 * Partition pr's names (from today's municipalities.csv and profile) are
 * not got, the names that where (its CRL in the current set, or one of its
 * certificates) gives: a CRL made now would not cover its certificates
 * (RFC 5280 5.2.5, 6.3.3 (b)(2): a CRL whose issuingDistributionPoint is
 * not the certificate's CRL distribution point is out of scope), so the
 * partition is held back and its CRL of the current set kept. The message
 * names the field that changed: the romaji (the CN), the profile's
 * subject prefix (the rest of the DN) or its repository-url (the URI).
 */
static void
part_hold(struct publish_work *w, struct part_result *pr, const char *where,
    const struct hk_crlpub_dpname *got)
{
	char a[96], b[96], field[160], path[32];
	struct hk_crlpub_dpname dn_only;

	pr->held = 1;
	w->nheld_parts++;
	snprintf(path, sizeof(path), "crl/%s.crl", pr->id);
	memset(&dn_only, 0, sizeof(dn_only));
	dn_only.dn = got->dn;
	snprintf(dn_only.uri, sizeof(dn_only.uri), "%s", pr->names.uri);
	name_cn(pr->names.dn, a, sizeof(a));
	name_cn(got->dn, b, sizeof(b));
	if (hk_crlpub_dpname_eq(&pr->names, &dn_only)) {
		snprintf(field, sizeof(field), "profile.yaml: repository-url");
		snprintf(a, sizeof(a), "%.90s", pr->names.uri[0] ?
		    pr->names.uri : "no URI");
		snprintf(b, sizeof(b), "%.90s", got->uri[0] ? got->uri :
		    "no URI");
	} else if (strcmp(a, b) != 0)
		snprintf(field, sizeof(field), "municipalities.csv: %s: romaji "
		    "\"%s\"", pr->m->code, pr->m->romaji);
	else
		snprintf(field, sizeof(field), "profile.yaml: issuing-ca: "
		    "subject-prefix");
	held_add(w, "%s: partition %s (issuing generation %d) would be named "
	    "%s, but %s names %s: RFC 5280 5.2.5, 6.3.3: a CRL whose "
	    "issuingDistributionPoint is not its certificates' CRL "
	    "distribution point does not cover them; put the old value back "
	    "(docs/municipalities.md); %s not updated (%s)", field, pr->id,
	    pr->sg->gen, a, where, b, path, kept_from(w, path));
}

/* The part of municipality code and issuing key issuer, or NULL. */
static struct part_result *
part_of(struct publish_work *w, const char *code, const unsigned char *issuer,
    size_t issuer_len)
{
	size_t i;

	for (i = 0; i < w->nparts; i++)
		if (strcmp(w->parts[i].m->code, code) == 0 &&
		    w->parts[i].sg->kid_len == issuer_len &&
		    memcmp(w->parts[i].sg->kid, issuer, issuer_len) == 0)
			return &w->parts[i];
	return NULL;
}

struct newest_ctx {
	struct publish_work *w;
	const char *code;		/* the municipality */
};

/* The newest valid certificate of a municipality: its CRL DP against the
 * names of its generation's partition. */
static int
newest_check(const unsigned char *der, size_t len,
    const unsigned char *issuer, size_t issuer_len, time_t not_after,
    void *arg)
{
	struct newest_ctx *nc = arg;
	struct part_result *pr;
	struct hk_crlpub_dpname got;

	if (not_after < nc->w->keep_since ||
	    (pr = part_of(nc->w, nc->code, issuer, issuer_len)) == NULL ||
	    pr->held)
		return 0;	/* expired, or not signed for this run */
	if (hk_crlpub_cert_dp(der, len, &got) != 0) {
		hk_err_clear();
		return 0;	/* not ours to judge (lint passed it once) */
	}
	if (!hk_crlpub_dpname_eq(&pr->names, &got))
		part_hold(nc->w, pr, "the CRL DP of its newest valid "
		    "certificate", &got);
	hk_crlpub_dpname_clear(&got);
	return 0;
}

/* A code of the store that has certificates: is it a partition of the
 * file, and if not, has it anything to answer for? */
static int
orphan_check(const char *code, void *arg)
{
	struct publish_work *w = arg;
	const struct hk_muni *m = hk_munis_find(w->munis, code);
	char (*no)[7], t[32], path[32];
	uint64_t n;
	time_t last;
	int r;

	if (m != NULL && m->partition)
		return 0;
	if ((r = hk_store_cert_live_count(w->store, code, w->keep_since, &n,
	    &last)) != 0)
		return r;
	if (n == 0)
		return 0;	/* every certificate has expired: no CRL */
	if ((no = realloc(w->orphan, (w->norphan + 1) *
	    sizeof(*w->orphan))) == NULL)
		return HK_ERR_ALLOC;
	w->orphan = no;
	snprintf(w->orphan[w->norphan++], sizeof(*w->orphan), "%s", code);
	hk_time_format(last, t, sizeof(t));
	snprintf(path, sizeof(path), "crl/%s.crl", code);
	held_add(w, "municipalities.csv: %s: %s, but the store holds %" PRIu64
	    " certificate%s of it valid or revoked until %s: CPS 4-4-4-4, "
	    "4-4-9, PROFILE.md: its CRL is published until the last of them "
	    "expires; put the row back (docs/municipalities.md, \"A merger or "
	    "a rename\"); crl/%s.crl not updated (%s)", code,
	    m == NULL ? "no row" : "partition no", n, n == 1 ? "" : "s", t,
	    code, kept_from(w, path));
	return 0;
}

/*
 * The file against what was issued (docs/municipalities.md, "A merger or
 * a rename"), before anything is signed:
 * - a code of the store whose certificates have not all expired (valid,
 *   or revoked and still to be listed) must be a partition of the file;
 * - each partition's names (DN from today's romaji, URI from the profile)
 *   must be the IDP of its CRL in the current set (read without parsing
 *   the entries: what every relying party checked its certificates with
 *   so far) and the CRL DP of its newest valid certificate (one index
 *   seek: for a partition with no CRL in the current set).
 * A partition that fails is held back (its CRL of the current set kept,
 * the run ends with exit 3 naming it); the others are published.
 */
static int
check_parts(struct publish_work *w)
{
	struct hk_crlpub_dpname got;
	struct newest_ctx nc;
	char path[32], where[64];
	size_t i;
	int r;

	if ((r = hk_store_cert_codes_each(w->store, orphan_check, w)) != 0)
		return r;
	for (i = 0; w->cur != NULL && i < w->nparts; i++) {
		struct part_result *pr = &w->parts[i];

		snprintf(path, sizeof(path), "crl/%s.crl", pr->id);
		if (hk_repo_find(w->cur, path) == NULL)
			continue;
		if (hk_crlpub_idp_read(w->cur->dfd, path, &got) != 0) {
			/* unreadable: replaced by this run's */
			hk_err_clear();
			continue;
		}
		if (!hk_crlpub_dpname_eq(&pr->names, &got)) {
			snprintf(where, sizeof(where), "the IDP of %s in set "
			    "%lu", path, w->cur->n);
			part_hold(w, pr, where, &got);
		}
		hk_crlpub_dpname_clear(&got);
	}
	nc.w = w;
	/* each municipality once: the parts of the newest signer come first
	 * and cover every partition of the file */
	for (i = 0; i < w->nparts && w->parts[i].sg == &w->sig[0]; i++) {
		nc.code = w->parts[i].m->code;
		if ((r = hk_store_cert_newest_valid(w->store, nc.code,
		    newest_check, &nc)) != 0)
			return r;
	}
	return 0;
}

/*
 * docs/municipalities.md, "A merger or a rename": a row retired (its code
 * issues nothing since its day) stays a partition and is published like
 * any other while a certificate of it is valid or revoked and still to be
 * listed (CPS 4-4-9). Once none is (every one expired before the last
 * publication, which listed the revoked ones after their expiry: RFC 5280
 * 3.3; what orphan_check asks of a removed row), the operator is told the
 * row may go: a line on stdout and a publish.note record, not a warning
 * (nothing is wrong; the run's exit status does not change).
 */
static int
retired_check(struct publish_work *w)
{
	const struct hk_muni *m;
	char **nn, *t;
	uint64_t n;
	time_t last;
	size_t i;
	int r;

	for (i = 0; i < w->munis->n; i++) {
		m = &w->munis->m[i];
		if (hk_muni_issuing(m, w->now))
			continue;
		if ((r = hk_store_cert_live_count(w->store, m->code,
		    w->keep_since, &n, &last)) != 0)
			return r;
		if (n > 0)
			continue;
		if (asprintf(&t, "municipalities.csv:%zu: %s (%s): retired "
		    "since %s, and no certificate of it is valid or revoked "
		    "and still to be listed (CPS 4-4-9, RFC 5280 3.3): its row "
		    "may now be removed (docs/municipalities.md, \"A merger or "
		    "a rename\"); until then its CRL is published without "
		    "entries", m->line, m->code, m->romaji, m->retired_day) < 0)
			return HK_ERR_ALLOC;
		if ((nn = realloc(w->note, (size_t)(w->nnote + 1) *
		    sizeof(*nn))) == NULL) {
			free(t);
			return HK_ERR_ALLOC;
		}
		w->note = nn;
		w->note[w->nnote++] = t;
	}
	return 0;
}

/* The notes of retired_check: audited, then one line each on stdout. */
static void
notes_say(struct publish_work *w)
{
	int i;

	for (i = 0; i < w->nnote; i++)
		hk_online_audit(w->on, "publish.note", "ok", "%s", w->note[i]);
}

static void
notes_print(const struct publish_work *w)
{
	int i;

	for (i = 0; i < w->nnote; i++)
		printf("Note: %s\n", w->note[i]);
}

/* path of the current set into the new one, as it is (with its MANIFEST
 * line); nothing when the current set has no such file. A kept file that
 * is no longer as its MANIFEST says (damaged on disk) cannot be signed
 * again here: it is left out with a warning, and the other partitions are
 * still published (their CRLs must not run out over it). */
static int
crl_keep(struct publish_work *w, const char *path)
{
	const struct hk_repo_file *f;
	unsigned char *buf = NULL;
	size_t len;
	int r;

	if (w->cur == NULL || (f = hk_repo_find(w->cur, path)) == NULL)
		return 0;
	if ((r = hk_repo_read(w->cur, path, &buf, &len)) == 0)
		r = hk_repo_add(w->w, path, buf, len, f->is_crl ? f : NULL);
	else if (r == HK_ERR_VERIFY || r == HK_ERR_IO) {
		warn_add(w, "CPS 4-4-9: %s: damaged, not kept: no CRL of "
		    "that partition until it is signed again", hk_err_msg());
		reported(w, f);
		r = 0;
	}
	free(buf);
	return r;
}

/* The CRLs of the codes that are no partition of the file any more
 * (crl/<code>.crl, crl/<code>-<g>.crl), kept. */
static int
orphans_keep(struct publish_work *w)
{
	const char *path, *rest;
	size_t i, j;
	int r;

	for (i = 0; w->cur != NULL && i < w->norphan; i++)
		for (j = 0; j < w->cur->nfiles; j++) {
			path = w->cur->files[j].path;
			if (strncmp(path, "crl/", 4) != 0 ||
			    strncmp(path + 4, w->orphan[i], 6) != 0)
				continue;
			rest = path + 10;
			if ((strcmp(rest, ".crl") == 0 || rest[0] == '-') &&
			    (r = crl_keep(w, path)) != 0)
				return r;
		}
	return 0;
}

/* ---- the ARL and the CRLs ---- */

/* arl.crl: the ARL of the day, verified with a root generation first. */
static int
write_arl(struct publish_work *w)
{
	const unsigned char *p = w->arl.der;
	struct hk_repo_file info;
	X509_CRL *crl = NULL;
	uint64_t num = 0;
	size_t i;
	int r, ok = 0;

	if (w->arl.der == NULL)
		return 0;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)w->arl.len)) != NULL &&
	    p == w->arl.der + w->arl.len && hk_crl_number(crl, &num) == 0 &&
	    num == w->arl.number)
		for (i = 0; i < w->roots.n && !ok; i++)
			ok = hk_crl_verify(crl, w->roots.r[i].x) == 0;
	X509_CRL_free(crl);
	ERR_clear_error();
	hk_err_clear();
	if (!ok) {
		warn_add(w, "CPS 4-4-10: ARL %" PRIu64 " does not verify with "
		    "any root generation: not released", w->arl.number);
		return 0;
	}
	memset(&info, 0, sizeof(info));
	info.this_update = w->arl.this_update;
	info.next_update = w->arl.next_update;
	info.number = w->arl.number;
	if ((r = hk_repo_add(w->w, "arl.crl", w->arl.der, w->arl.len,
	    &info)) != 0)
		return r;
	w->arl_released = 1;
	return 0;
}

/* The last number of a partition (its id): the store's or the current
 * set's, whichever is higher (a crash after the swap and before the store
 * commit never reuses a number). */
static int
last_number(struct publish_work *w, const char *id, uint64_t *last)
{
	const struct hk_repo_file *f;
	char path[32];
	size_t i;
	int r;

	if ((r = hk_store_crl_number_get(w->store, id, last)) != 0)
		return r;
	snprintf(path, sizeof(path), "crl/%s.crl", id);
	if (w->cur != NULL && (f = hk_repo_find(w->cur, path)) != NULL &&
	    f->is_crl && f->number > *last)
		*last = f->number;
	for (i = 0; i < w->nparts; i++)
		if (strcmp(w->parts[i].id, id) == 0 &&
		    w->parts[i].above > *last)
			*last = w->parts[i].above;
	return 0;
}

/* Revocations a CRL of --numbers-above lists that the store lacks. */
struct above_lost {
	size_t n;			/* how many */
	char first[4096];		/* the first, for the message */
};

/*
 * --take-revocations: a revocation a CRL relying parties hold lists (path,
 * number, checked as its partition's and signed by this state's issuing
 * key: its own word) that the store holds valid, lost with the store's
 * backup (docs/backup.md "Restore"): revoked in the store at the entry's
 * revocationDate with its reasonCode, as recover --revocations redoes one
 * the audit log keeps (RFC 5280 5.3.2: the date relying parties saw, not
 * today's), audited, one transaction each. A reason outside the CPS's
 * (1-5) or a date after now or before the certificate is refused.
 */
static int
take_one(struct publish_work *w, const char *path, uint64_t number,
    long reason, time_t t, const unsigned char *sn, size_t len,
    const struct hk_store_cert *c, const char *hex)
{
	unsigned char *entry = NULL;
	size_t el = 0;
	char when[32];
	int r;

	if (t == (time_t)-1) {
		hk_err_set("%s (number %" PRIu64 "): serial %s: revocationDate "
		    "does not read; nothing taken, nothing published", path,
		    number, hex);
		return HK_ERR_INVALID;
	}
	hk_time_format(t, when, sizeof(when));
	if (reason < 1 || reason > 5) {
		hk_err_set("%s (number %" PRIu64 "): serial %s: reasonCode %ld: "
		    "not one of the CPS's (1-5, CPS 4-4); not taken: redo it "
		    "with hanko-online revoke; nothing published", path, number,
		    hex, reason);
		return HK_ERR_INVALID;
	}
	if (t > w->now || t < c->not_before) {
		hk_err_set("%s (number %" PRIu64 "): serial %s: revoked at %s, "
		    "%s; not taken: redo it with hanko-online revoke; nothing "
		    "published", path, number, hex, when, t > w->now ?
		    "after the clock" : "before the certificate's notBefore");
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	if ((r = hk_store_revoke_entry(sn, len, (int)reason, t, &entry,
	    &el)) != 0 || (r = hk_store_cert_revoke(w->store, sn, len,
	    (int)reason, t, entry, el)) != 0 ||
	    (r = hk_online_audit(w->on, "cert.revoke", "ok", "serial %s: "
	    "municipality %s, reason %ld (%s); revoked at %s, taken from "
	    "%s (CRL number %" PRIu64 " of partition %s, signed by this "
	    "state's issuing key) that relying parties hold: a revocation "
	    "lost with the store's backup (publish --take-revocations, "
	    "docs/backup.md \"Restore\")", hex, c->municipality, reason,
	    hk_revreq_reason_name((int)reason), when, path, number,
	    c->municipality)) != 0) {
		OPENSSL_free(entry);
		hk_store_rollback(w->store);
		return r;
	}
	OPENSSL_free(entry);
	if ((r = hk_store_commit(w->store)) != 0)
		return r;
	w->taken++;
	printf("serial %s (municipality %s): revoked reason %ld (%s) at %s, "
	    "taken from %s (number %" PRIu64 ")\n", hex, c->municipality,
	    reason, hk_revreq_reason_name((int)reason), when, path, number);
	return 0;
}

/* An entry of a CRL as revoke names it: its serial sn (len octets) in
 * upper-case hex, its reasonCode (0 when it has none: unspecified, RFC
 * 5280 5.3.1) and revocationDate ((time_t)-1 when it does not read). */
static void
entry_said(X509_REVOKED *rv, const unsigned char *sn, size_t len,
    char hex[2 * HK_STORE_SERIAL_MAX + 1], long *reason, time_t *t)
{
	ASN1_ENUMERATED *re;
	struct tm tm;
	size_t k;

	hk_hex_encode(sn, len, hex);
	for (k = 0; hex[k] != '\0'; k++)
		hex[k] = (char)toupper((unsigned char)hex[k]);
	*reason = 0;
	if ((re = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, NULL,
	    NULL)) != NULL) {
		*reason = ASN1_ENUMERATED_get(re);
		ASN1_ENUMERATED_free(re);
	}
	*t = (time_t)-1;
	if (ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(rv), &tm) == 1)
		*t = timegm(&tm);
}

/* Each entry of crl (read from path) against the store: a serial not
 * revoked there is a revocation relying parties hold that the next CRL
 * would drop (made after the store's backup, lost with the audit log). */
static int
above_entries(struct publish_work *w, const char *path, X509_CRL *crl,
    uint64_t number, struct above_lost *lost)
{
	STACK_OF(X509_REVOKED) *rs = X509_CRL_get_REVOKED(crl);
	struct hk_store_cert c;
	unsigned char sn[HK_STORE_SERIAL_MAX];
	char hex[2 * HK_STORE_SERIAL_MAX + 1], when[32];
	int i, len, r;

	for (i = 0; i < sk_X509_REVOKED_num(rs); i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(rs, i);
		const ASN1_INTEGER *ai = X509_REVOKED_get0_serialNumber(rv);
		BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
		long reason;
		time_t t;

		len = bn == NULL ? -1 : BN_num_bytes(bn);
		if (len < 1 || len > HK_STORE_SERIAL_MAX ||
		    BN_is_negative(bn)) {
			BN_free(bn);
			hk_err_set("%s: entry %d: a serial of 1 to 20 octets "
			    "(RFC 5280 4.1.2.2; --numbers-above)", path,
			    i + 1);
			return HK_ERR_INVALID;
		}
		BN_bn2bin(bn, sn);
		BN_free(bn);
		r = hk_store_cert_get(w->store, sn, (size_t)len, &c);
		if (r == 0 && c.status == HK_CERT_REVOKED)
			continue;
		if (r != 0 && r != HK_ERR_NOT_FOUND)
			return r;
		hk_err_clear();
		/* the entry as revoke names a serial, its reason and date */
		entry_said(rv, sn, (size_t)len, hex, &reason, &t);
		if (r == 0 && c.status == HK_CERT_VALID && w->take) {
			if ((r = take_one(w, path, number, reason, t, sn,
			    (size_t)len, &c, hex)) != 0)
				return r;
			continue;
		}
		if (lost->n++ > 0)
			continue;
		if (t == (time_t)-1)
			snprintf(when, sizeof(when), "?");
		else
			hk_time_format(t, when, sizeof(when));
		snprintf(lost->first, sizeof(lost->first), "%.3000s (number %"
		    PRIu64 ") lists serial %s revoked at %s, reasonCode %ld, "
		    "which the store %s", path, number, hex, when, reason,
		    r != 0 ? "does not hold (issued after its backup: recover "
		    "its batch first, docs/backup.md Restore step 9)" :
		    "holds not revoked");
	}
	return 0;
}

/* --numbers-above DIR: the partition's CRL there (DIR/crl/<id>.crl, as the
 * repository lays it out), checked as its generation's (issuer, AKI,
 * signature), its number kept in pr->above. HK_ERR_NOT_FOUND without one. */
static int
above_read(struct publish_work *w, const char *dir, struct part_result *pr,
    struct above_lost *lost)
{
	char path[4096];
	unsigned char *buf = NULL;
	const unsigned char *p;
	X509_CRL *crl = NULL;
	struct hk_crlpub_dpname idp = { NULL, "" };
	size_t len;
	int dfd = -1, r, n;

	n = snprintf(path, sizeof(path), "%s/crl/%s.crl", dir, pr->id);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		hk_err_set("--numbers-above %s: path too long", dir);
		return HK_ERR_USAGE;
	}
	if ((r = hk_file_read(path, 256u << 20, &buf, &len)) != 0)
		return r;
	p = buf;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL ||
	    p != buf + len) {
		hk_err_set("%s: not one DER CRL (--numbers-above)", path);
		r = HK_ERR_INVALID;
	} else if (hk_crl_verify(crl, pr->sg->x) != 0) {
		hk_err_set("%s: not a CRL of issuing CA %d (issuer, AKI or "
		    "signature; --numbers-above)", path, pr->sg->gen);
		r = HK_ERR_INVALID;
	} else if (hk_crl_number(crl, &pr->above) != 0) {
		hk_err_set("%s: no cRLNumber (--numbers-above)", path);
		r = HK_ERR_INVALID;
	} else if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) <
	    0 || hk_crlpub_idp_read(dfd, path + strlen(dir) + 1, &idp) != 0 ||
	    !hk_crlpub_dpname_eq(&idp, &pr->names)) {
		hk_err_set("%s: not the CRL of partition %s (its "
		    "issuingDistributionPoint is not %s's; --numbers-above)",
		    path, pr->id, pr->m->romaji);
		r = HK_ERR_INVALID;
	} else
		r = above_entries(w, path, crl, pr->above, lost);
	if (dfd >= 0)
		close(dfd);
	hk_crlpub_dpname_clear(&idp);
	X509_CRL_free(crl);
	free(buf);
	return r;
}

/* The OCSP answers of what --take-revocations revoked turn revoked now,
 * as after revoke (docs/ocsp.md); a failure is said, not fatal: serve
 * signs them on demand meanwhile, as the stored status differs. */
static void
take_refresh(struct publish_work *w)
{
	size_t n = 0;

	if (hk_ocsp_refresh_state(w->on, hk_clock_now(), &n) != 0) {
		fprintf(stderr, "hanko-online publish: %zu revocations taken, "
		    "but the OCSP responses were not refreshed: %s (run "
		    "hanko-online ocsp-refresh)\n", w->taken, hk_err_msg());
		hk_online_audit(w->on, "ocsp.refresh", "fail", "%s",
		    hk_err_msg());
		hk_err_clear();
	} else if (n > 0)
		hk_online_audit(w->on, "ocsp.refresh", "ok", "%zu responses "
		    "signed after %zu revocations taken from the CRLs relying "
		    "parties hold", n, w->taken);
}

/*
 * docs/publish.md "Numbers": a partition's next number is above the store's
 * and the current set's. A repository with no current set while the store
 * numbered CRLs before is either another repository (the store's numbers are
 * the last) or one lost with its machine, the store restored from a backup
 * older than the last publication (CPS 4-14-1): relying parties may then
 * hold CRLs numbered above the store's, and the same numbers would be used
 * again for other CRLs (RFC 5280 5.2.3). Only the operators know which:
 * --new-repository says the first, --numbers-above DIR gives the CRLs they
 * hold.
 */
static int
check_numbers(struct publish_work *w, const struct publish_opts *o)
{
	struct above_lost lost = { 0, "" };
	size_t i, found = 0;
	uint64_t n;
	int r;

	if (o->above != NULL) {
		w->take = o->take;
		for (i = 0; i < w->nparts; i++) {
			r = above_read(w, o->above, &w->parts[i], &lost);
			if (r == HK_ERR_NOT_FOUND) {
				hk_err_clear();
				continue;
			}
			if (r != 0)
				return r;
			found++;
		}
		if (found == 0) {
			hk_err_set("--numbers-above %s: no CRL of a partition "
			    "there (crl/<code>.crl, crl/<code>-<generation>.crl "
			    "as the repository lays them out): nothing "
			    "published", o->above);
			return HK_ERR_NOT_FOUND;
		}
		if (lost.n > 0) {
			/* the next CRL would drop what relying parties saw
			 * revoked: never published (CPS 4-4, 4-14-1) */
			hk_err_set("%s; %zu such serial%s: a revocation made "
			    "after the store's backup and lost with its audit "
			    "log, which the next CRLs would drop; %s; nothing "
			    "published", lost.first, lost.n, lost.n == 1 ? "" :
			    "s", w->take ? "recover the batches first "
			    "(docs/backup.md Restore step 9), then run this "
			    "again" : "take those the store holds valid with "
			    "--take-revocations (their dates and reasons as "
			    "the CRL says), or redo each with hanko-online "
			    "revoke --serial S --reason R (dated now)");
			return HK_ERR_STATE;
		}
		if (w->taken > 0)
			take_refresh(w);
		return 0;
	}
	if (w->cur != NULL || o->new_repo)
		return 0;
	for (i = 0; i < w->nparts; i++) {
		if ((r = hk_store_crl_number_get(w->store, w->parts[i].id,
		    &n)) != 0)
			return r;
		if (n == 0)
			continue;
		hk_err_set("%s: no published set, but the store numbered CRLs "
		    "before (partition %s: number %" PRIu64 "): a repository "
		    "lost with its machine and a store restored from a backup "
		    "would number again CRLs relying parties hold (RFC 5280 "
		    "5.2.3): give those with --numbers-above DIR, or "
		    "--new-repository when this store published last; nothing "
		    "published (docs/publish.md, Numbers)", o->repo,
		    w->parts[i].id, n);
		return HK_ERR_STATE;
	}
	return 0;
}

/* ---- a published revocation is never dropped (CPS 4-4) ---- */

/* The length of the DER TLV at p (one entry: a SEQUENCE), within end. */
static int
entry_tlv(const unsigned char *p, const unsigned char *end, size_t *len)
{
	const unsigned char *q = p;
	long l = 0;
	int tag = 0, cls = 0;

	if (p >= end || end - p > LONG_MAX ||
	    ASN1_get_object(&q, &l, &tag, &cls, (long)(end - p)) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || l < 0 ||
	    l > end - q) {
		ERR_clear_error();
		return HK_ERR_PARSE;
	}
	*len = (size_t)(q - p) + (size_t)l;
	return 0;
}

/* An entry's userCertificate (the INTEGER's content octets: DER, so equal
 * serials are equal bytes). */
struct entry_sn {
	const unsigned char *p;
	size_t len;
};

static int
entry_sn_of(const unsigned char *p, size_t len, struct entry_sn *out)
{
	const unsigned char *q = p, *end = p + len;
	long l = 0;
	int tag = 0, cls = 0;

	if (ASN1_get_object(&q, &l, &tag, &cls, (long)len) !=
	    V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    ASN1_get_object(&q, &l, &tag, &cls, (long)(end - q)) != 0 ||
	    tag != V_ASN1_INTEGER || cls != V_ASN1_UNIVERSAL || l < 1 ||
	    l > end - q) {
		ERR_clear_error();
		return HK_ERR_PARSE;
	}
	out->p = q;
	out->len = (size_t)l;
	return 0;
}

static int
entry_sn_cmp(const void *a, const void *b)
{
	const struct entry_sn *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/* What unrevoke_check found: the serials the CRL made now would drop. */
struct unrevoke {
	struct entry_sn *idx;		/* the new entries' serials, sorted
					 * (made at the first need) */
	size_t nidx;
	size_t n;			/* serials it would drop */
	char first[1024];		/* the first, for the message */
};

/*
 * The entry o (olen bytes) of the current set's CRL (path, f) that the CRL
 * made now (its entries nw, nlen bytes) does not carry at its place: left
 * out rightly when its certificate expired before the last publication
 * (the store's notAfter below w->keep_since: RFC 5280 3.3, as the caches
 * drop it), or listed elsewhere (a revocation redone by recover
 * --revocations comes later in the store's order); else counted in u, the
 * first one described.
 */
static int
unrevoke_entry(struct publish_work *w, const char *path,
    const struct hk_repo_file *f, const unsigned char *o, size_t olen,
    const unsigned char *nw, size_t nlen, struct unrevoke *u)
{
	const unsigned char *p = o;
	X509_REVOKED *rv = NULL;
	BIGNUM *bn = NULL;
	struct hk_store_cert c;
	struct entry_sn key;
	unsigned char sn[HK_STORE_SERIAL_MAX];
	char hex[2 * HK_STORE_SERIAL_MAX + 1], when[32], until[32], why[400];
	long reason;
	time_t t;
	size_t tl;
	int len, r, found;

	if (olen > LONG_MAX ||
	    (rv = d2i_X509_REVOKED(NULL, &p, (long)olen)) == NULL ||
	    p != o + olen || entry_sn_of(o, olen, &key) != 0 ||
	    (bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(rv),
	    NULL)) == NULL || BN_is_negative(bn) ||
	    (len = BN_num_bytes(bn)) < 1 || len > HK_STORE_SERIAL_MAX) {
		/* not an entry: the file is damaged, which the scan of the
		 * current set says (scan_join) */
		X509_REVOKED_free(rv);
		BN_free(bn);
		ERR_clear_error();
		return 0;
	}
	BN_bn2bin(bn, sn);
	BN_free(bn);
	r = hk_store_cert_get(w->store, sn, (size_t)len, &c);
	if (r != 0 && r != HK_ERR_NOT_FOUND) {
		X509_REVOKED_free(rv);
		return r;
	}
	hk_err_clear();
	found = r == 0;
	if (found && c.not_after < w->keep_since) {
		X509_REVOKED_free(rv);
		return 0;		/* expired: its last CRL is out */
	}
	if (u->idx == NULL) {
		const unsigned char *q = nw, *end = nw + nlen;

		if ((u->idx = calloc(nlen / 8 + 1, sizeof(*u->idx))) == NULL) {
			X509_REVOKED_free(rv);
			return HK_ERR_ALLOC;
		}
		while (q < end && entry_tlv(q, end, &tl) == 0 &&
		    entry_sn_of(q, tl, &u->idx[u->nidx]) == 0) {
			u->nidx++;
			q += tl;
		}
		qsort(u->idx, u->nidx, sizeof(*u->idx), entry_sn_cmp);
	}
	if (bsearch(&key, u->idx, u->nidx, sizeof(*u->idx),
	    entry_sn_cmp) != NULL) {
		X509_REVOKED_free(rv);
		return 0;		/* listed, later in the store's order */
	}
	if (u->n++ > 0) {
		X509_REVOKED_free(rv);
		return 0;
	}
	entry_said(rv, sn, (size_t)len, hex, &reason, &t);
	if (t != (time_t)-1)
		hk_time_format(t, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "?");
	X509_REVOKED_free(rv);
	ERR_clear_error();
	if (!found)
		snprintf(why, sizeof(why), "the store does not hold its "
		    "certificate (issued after the store's backup: recover its "
		    "batch first, then the log's revocations with hanko-online "
		    "recover --revocations, docs/backup.md \"Restore\" step 9)");
	else {
		hk_time_format(c.not_after, until, sizeof(until));
		snprintf(why, sizeof(why), "its certificate is valid until %s "
		    "and the store holds it %s", until, c.status ==
		    HK_CERT_REVOKED ? "revoked, but without this entry (run "
		    "hanko-online check)" : "not revoked (restored from a "
		    "backup taken before the revocation: redo the log's "
		    "revocations with hanko-online recover --revocations, "
		    "docs/backup.md \"Restore\" step 9)");
	}
	snprintf(u->first, sizeof(u->first), "%s (number %" PRIu64 ", set "
	    "%lu, out) lists serial %s revoked at %s, reasonCode %ld (%s), "
	    "which the CRL made now would drop: %s", path, f->number,
	    w->cur->n, hex, when, reason, reason >= 1 && reason <= 5 ?
	    hk_revreq_reason_name((int)reason) : "not a CPS reason", why);
	return 0;
}

/*
 * CPS 4-4: a revocation is never undone. Every entry of the partition's CRL
 * in the current set (what relying parties hold) must be in the CRL made
 * now (its entries e), unless its certificate expired before the last
 * publication (RFC 5280 3.3, docs/publish.md step 8). A store restored from
 * a backup older than a published revocation lacks it until recover
 * --revocations redoes it (docs/backup.md "Restore" step 9): the run is
 * refused, nothing published (exit 3). Cheap on a daily run: the current
 * CRL's revokedCertificates bytes are read (hk_crlpub_entries_read, no
 * entry parsed) and, as the caches only append in the store's order, are
 * the first bytes of e; only when they are not (entries dropped at their
 * expiry, or a store in another order) is each entry walked, and only one
 * not at its place is looked up (the store, then the new entries' serials).
 * A current CRL that does not read is the damage scan_join reports.
 */
static int
unrevoke_check(struct publish_work *w, const struct part_result *pr,
    const struct hk_crlpub_entries *e)
{
	const struct hk_repo_file *f;
	struct unrevoke u;
	unsigned char *old = NULL;
	const unsigned char *nw, *o, *oend, *n, *nend;
	char path[32];
	size_t olen = 0, ol, nl;
	int r;

	snprintf(path, sizeof(path), "crl/%s.crl", pr->id);
	if (w->cur == NULL || (f = hk_repo_find(w->cur, path)) == NULL ||
	    !f->is_crl)
		return 0;
	if ((r = hk_crlpub_entries_read(w->cur->dfd, path, &old, &olen)) !=
	    0) {
		if (r == HK_ERR_ALLOC)
			return r;
		hk_err_clear();
		return 0;
	}
	nw = e->buf != NULL ? e->buf + HK_CRLPUB_ROOM : (const unsigned char *)"";
	if (olen == 0 || (olen <= e->len && memcmp(old, nw, olen) == 0)) {
		free(old);
		return 0;
	}
	memset(&u, 0, sizeof(u));
	o = old;
	oend = old + olen;
	n = nw;
	nend = nw + e->len;
	while (o < oend && entry_tlv(o, oend, &ol) == 0) {
		if (n < nend && entry_tlv(n, nend, &nl) == 0 && nl == ol &&
		    memcmp(o, n, ol) == 0)
			n += nl;
		else if ((r = unrevoke_entry(w, path, f, o, ol, nw, e->len,
		    &u)) != 0)
			break;
		o += ol;
	}
	free(old);
	free(u.idx);
	if (r != 0)
		return r;
	if (u.n > 0) {
		hk_err_set("%s; %zu such serial%s: CPS 4-4: a revocation is "
		    "never undone; nothing published", u.first, u.n, u.n == 1 ?
		    "" : "s");
		return HK_ERR_STATE;
	}
	return 0;
}

/* The CRLs of one signer: parts[from..from + n), the revocations up to
 * crl_entries seq upto, each kept until a CRL issued after its
 * certificate's expiry has listed it (w->keep_since). */
static int
write_gen_crls(struct publish_work *w, const struct signer *sg, size_t from,
    size_t n, uint64_t upto)
{
	struct hk_crlcache_ctx cc;
	struct hk_crlcache *cache = NULL;
	struct hk_crlpub_entries e;
	const char **codes = NULL;
	struct hk_crlpub_in in;
	struct hk_crl_spec spec;
	struct hk_repo_file info;
	unsigned char *der = NULL;
	char dir[4096], path[32];
	size_t i, len;
	uint64_t last;
	int r = 0;

	memset(&e, 0, sizeof(e));
	memset(&cc, 0, sizeof(cc));
	if ((r = hk_online_path(w->on, "crlcache", dir, sizeof(dir))) != 0)
		return r;
	cc.upto = upto;
	cc.store = w->store;
	cc.issuer = sg->kid;
	cc.issuer_len = sg->kid_len;
	cc.gen = sg->gen;
	cc.dir = dir;
	cc.store_id = hk_state_get(w->on->st, "store.id");
	cc.now = w->keep_since;
	if (cc.store_id == NULL) {
		hk_err_set("%s/state.conf: store.id missing", w->on->st->dir);
		return HK_ERR_STATE;
	}
	if ((codes = calloc(n + 1, sizeof(*codes))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < n; i++)
		codes[i] = w->parts[from + i].m->code;
	r = hk_crlcache_open(&cc, codes, n, &cache);
	free(codes);
	if (r != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		struct part_result *pr = &w->parts[from + i];

		if (pr->held) {
			/* its names changed: the CRL of the current set
			 * stays (check_parts) */
			snprintf(path, sizeof(path), "crl/%s.crl", pr->id);
			r = crl_keep(w, path);
			goto next;
		}
		memset(&spec, 0, sizeof(spec));
		spec.issuer = sg->x;
		spec.scope = HK_CRL_SCOPE_USER;
		spec.validity_hours = w->p->crl_validity_hours;
		spec.interval_hours = w->p->crl_interval_hours;
		spec.idp_dn = pr->names.dn;
		snprintf(spec.idp_uri, sizeof(spec.idp_uri), "%s",
		    pr->names.uri);
		if ((r = last_number(w, pr->id, &last)) != 0 ||
		    (r = hk_crlcache_get(cache, i, &e, &pr->rebuilt)) != 0 ||
		    (r = unrevoke_check(w, pr, &e)) != 0)
			goto next;
		if (last >= (uint64_t)INT64_MAX) {
			hk_err_set("cRLNumber exhausted");
			r = HK_ERR_INVALID;
			goto next;
		}
		pr->count = e.count;
		pr->number = last + 1;
		memset(&in, 0, sizeof(in));
		in.spec = &spec;
		in.p = w->p;
		in.this_update = w->now;
		in.number = pr->number;
		in.last = last;
		in.key = sg->key;
		if ((r = hk_crlpub_sign(&in, &e, &der, &len)) != 0)
			goto next;
		memset(&info, 0, sizeof(info));
		info.this_update = w->now;
		info.next_update = w->now + (time_t)spec.validity_hours * 3600;
		info.number = pr->number;
		snprintf(path, sizeof(path), "crl/%s.crl", pr->id);
		r = hk_repo_add(w->w, path, der, len, &info);
		w->entries += pr->count;
		w->rebuilt += (size_t)pr->rebuilt;
next:
		if (r != 0) {
			hk_err_set("partition %s (%s, issuing generation %d): %s",
			    pr->id, pr->m->romaji, sg->gen, hk_err_msg());
		}
		hk_crlpub_entries_free(&e);
		OPENSSL_free(der);
		der = NULL;
	}
	hk_crlcache_free(cache);
	return r;
}

/* Every signer's CRLs; parts are grouped by signer, in w->sig's order.
 * One bound for all: a revocation committed meanwhile (revoke takes no
 * publish lock) waits for the next run in every CRL alike. */
static int
write_crls(struct publish_work *w)
{
	size_t from = 0, n;
	uint64_t upto;
	int g, r;

	if ((r = hk_store_crl_seq_max(w->store, &upto)) != 0)
		return r;
	for (g = 0; g < w->nsig; g++) {
		for (n = 0; from + n < w->nparts &&
		    w->parts[from + n].sg == &w->sig[g]; n++)
			;
		if ((r = write_gen_crls(w, &w->sig[g], from, n, upto)) != 0)
			return r;
		from += n;
	}
	return 0;
}

/* The numbers of the published set into the store, one transaction: each
 * partition's, and the highest ARL number out (HK_ARL_FLOOR: the one
 * released, or the floor when it was kept or could not be), so that the
 * floor survives a repository whose arl.crl is lost (check_arls). */
static int
numbers_commit(struct publish_work *w)
{
	uint64_t arl = w->arl_floor, rec;
	size_t i;
	int r;

	if (w->arl_released && w->arl.number > arl)
		arl = w->arl.number;
	if ((r = hk_store_begin(w->store)) != 0)
		return r;
	for (i = 0; i < w->nparts; i++)
		if (!w->parts[i].held && (r = hk_store_crl_number_set(w->store,
		    w->parts[i].id, w->parts[i].number)) != 0)
			goto fail;
	if (arl > 0 && ((r = hk_store_crl_number_get(w->store, HK_ARL_FLOOR,
	    &rec)) != 0 || (arl > rec && (r = hk_store_crl_number_set(w->store,
	    HK_ARL_FLOOR, arl)) != 0)))
		goto fail;
	return hk_store_commit(w->store);
fail:
	hk_store_rollback(w->store);
	return r;
}

/* A record of the published set that could not be appended: counted and
 * named for the run's final line (cmd_publish; docs/audit-log.md). */
static void
unrec_add(struct publish_work *w, const char *event, int *n)
{
	size_t len = strlen(w->unrec_what);

	if (w->nunrec++ == 0)
		hk_err_keep(&w->unrec);
	if ((*n)++ == 0)
		snprintf(w->unrec_what + len, sizeof(w->unrec_what) - len,
		    "%s%s", len > 0 ? ", " : "", event);
}

static void
audit_published(struct publish_work *w, const struct publish_opts *o)
{
	char tu[32], nu[32];
	size_t i;
	int ncrl = 0, narl = 0, ndone = 0;

	hk_time_format(w->now, tu, sizeof(tu));
	hk_time_format(w->now + (time_t)w->p->crl_validity_hours * 3600, nu,
	    sizeof(nu));
	for (i = 0; i < w->nparts; i++) {
		const struct part_result *pr = &w->parts[i];

		if (pr->held)
			continue;	/* audited by held_audit */
		if (hk_online_audit(w->on, "crl.publish", "ok", "partition %s "
		    "(%s, issuing generation %d): cRLNumber %" PRIu64 ", "
		    "entries %zu%s, thisUpdate %s, nextUpdate %s, set %lu",
		    pr->id, pr->m->romaji, pr->sg->gen, pr->number, pr->count,
		    pr->rebuilt ? " (cache rebuilt)" : "", tu, nu,
		    w->set) != 0)
			unrec_add(w, "crl.publish", &ncrl);
	}
	if (w->arl_released) {
		hk_time_format(w->arl.this_update, tu, sizeof(tu));
		hk_time_format(w->arl.next_update, nu, sizeof(nu));
		if (hk_online_audit(w->on, "arl.release", "ok", "ARL %" PRIu64
		    ": thisUpdate %s, nextUpdate %s, set %lu%s", w->arl.number,
		    tu, nu, w->set, w->arl_kept ? " (kept: the highest "
		    "already out; the stored ARL of the day is numbered below "
		    "it)" : "") != 0)
			unrec_add(w, "arl.release", &narl);
	}
	if (hk_online_audit(w->on, "publish.done", "ok", "set %lu at %s: %zu "
	    "CRLs, %zu entries, ARL %s%s", w->set, o->repo, w->nparts,
	    w->entries, !w->arl_released ? "none" : w->arl_kept ? "kept" :
	    "released", w->nwarn ? ", with warnings" : "") != 0)
		unrec_add(w, "publish.done", &ndone);
	w->unrec_crl = ncrl;
}

static int
publish(struct publish_work *w, const struct publish_opts *o)
{
	struct set_scan scan;
	char tu[32];
	time_t expiry, last;
	int r;

	hk_time_format(w->now, tu, sizeof(tu));
	/* before the work: a log that takes no record publishes nothing
	 * (exit 6; docs/audit-log.md "When an append fails") */
	if (hk_online_audit(w->on, "publish.start", "ok", "repo %s, %zu "
	    "partitions, issuing CA generation%s %s, thisUpdate %s%s", o->repo,
	    w->nparts, w->nsig > 1 ? "s" : "", w->gens, tu, o->now ?
	    ", --now (CPS 4-4-9 emergency)" : "") != 0) {
		struct hk_err_kept why;

		hk_err_keep(&why);
		hk_err_set("nothing published: %s", why.msg);
		return HK_ERR_AUDIT;
	}
	expiry = w->now + (time_t)w->p->crl_validity_hours * 3600;
	if (expiry < w->now + (time_t)w->p->crl_interval_hours * 3600 +
	    HK_PUBLISH_MARGIN) {
		char t[32];

		hk_time_format(expiry, t, sizeof(t));
		warn_add(w, "CPS 4-4-10: the CRLs published now expire at %s, "
		    "before the next run (%d h) and its margin (%d h)", t,
		    w->p->crl_interval_hours, HK_PUBLISH_MARGIN / 3600);
	}
	/*
	 * A clock behind the set out (set back, or ahead when that set was
	 * published): the CRLs signed now are dated before the ones they
	 * replace and expire before them, and NSS refuses a CRL whose
	 * thisUpdate is not later than the one it holds (SEC_ERROR_OLD_CRL),
	 * so its relying parties keep the old one and miss what was revoked
	 * since. Published all the same (a clock that was ahead is put
	 * right this way), but a person must look at the clock: exit 9.
	 */
	if (w->cur != NULL && (last = hk_repo_published_at(w->cur)) > w->now) {
		char t[32], tl[32];

		hk_time_format(w->now, t, sizeof(t));
		hk_time_format(last, tl, sizeof(tl));
		warn_add(w, "CPS 4-4-9: the clock reads %s, before %s, the "
		    "thisUpdate of set %lu's CRLs: the CRLs published now are "
		    "older than those they replace, and NSS refuses a CRL not "
		    "later than the one it holds (SEC_ERROR_OLD_CRL); the clock "
		    "was set back, or was ahead when set %lu was published: put "
		    "it right (timedatectl) and publish --now", t, tl,
		    w->cur->n, w->cur->n);
	}
	if ((r = scan_start(w, &scan)) != 0)
		return r;
	if ((r = hk_repo_begin(o->repo, &w->w)) == 0 &&
	    (r = write_ca(w)) == 0 && (r = write_arl(w)) == 0 &&
	    (r = write_crls(w)) == 0)
		r = orphans_keep(w);
	/* joined before the commit: the set it reads is then still there */
	scan_join(w, &scan);
	if (r != 0 || (r = hk_repo_commit(w->w, &w->set)) != 0)
		return r;
	warn_audit(w);
	held_audit(w);
	notes_say(w);
	if ((r = numbers_commit(w)) != 0) {
		hk_err_set("set %lu is published, but the store did not take "
		    "its CRL numbers (the next run reads them from the set): "
		    "%s", w->set, hk_err_msg());
		return r;
	}
	audit_published(w, o);
	return 0;
}

/* After a run that published: a partition held back gives exit 3, naming
 * it (the others are published); else everything is published, but an
 * operator must act soon: exit 9 (docs/publish.md). One line, with every
 * warning whole; only a line over HK_ERR_DETAIL_MAX is cut (and says so),
 * and the audit log has each warning in full. */
static int
final_line(struct publish_work *w, unsigned long skipped)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	if ((f = open_memstream(&line, &len)) == NULL) {
		hk_err_set("publish: out of memory for the final line; the "
		    "audit log has the holds and warnings of this run");
		return HK_ERR_ALLOC;
	}
	if (w->nheld > 0) {
		fputs(w->held[0] != NULL ? w->held[0] : "a partition held "
		    "back (no memory for why)", f);
		if (w->nheld > 1)
			fprintf(f, "; %d more partition%s held back (crl.hold "
			    "in the audit log)", w->nheld - 1, w->nheld > 2 ?
			    "s" : "");
		if (skipped)
			fprintf(f, "; nothing published (set %lu of today "
			    "stays)", skipped);
		else
			fprintf(f, "; set %lu published with the other "
			    "partitions", w->set);
	}
	for (i = 0; i < w->nwarn; i++)
		fprintf(f, "%s%s", i > 0 ? "; " : w->nheld > 0 ? "; warning: " :
		    "warning: ", w->warn[i]);
	if (w->lost)
		fprintf(f, "%sout of memory for a message: see the audit log",
		    w->nheld > 0 || w->nwarn > 0 ? "; " : "warning: ");
	if (fclose(f) != 0) {
		free(line);
		hk_err_set("publish: out of memory for the final line; the "
		    "audit log has the holds and warnings of this run");
		return HK_ERR_ALLOC;
	}
	hk_err_set("%s", line);
	free(line);
	return w->nheld > 0 ? HK_ERR_INVALID : HK_ERR_WARNING;
}

int
cmd_publish(int argc, char **argv)
{
	struct publish_opts o;
	struct publish_work w;
	unsigned long skipped;
	char t[32];
	int r, ldap_failed = 0;

	memset(&w, 0, sizeof(w));
	w.lockfd = -1;
	if ((r = parse(&o, argc, argv)) != 0)
		return r == 1 ? 0 : r;
	if ((r = work_open(&w, &o)) != 0 || (r = check_arls(&w)) != 0 ||
	    (r = check_window(&w)) != 0 ||
	    (r = check_parts(&w)) != 0 || (r = retired_check(&w)) != 0 ||
	    (r = check_numbers(&w, &o)) != 0)
		goto fail;
	if (skip(&w, &o)) {
		hk_time_format(hk_repo_published_at(w.cur), t, sizeof(t));
		hk_online_audit(w.on, "publish.skip", "ok", "set %lu at %s was "
		    "published at %s, the same day (JST); nothing published "
		    "(--now for an emergency)", w.cur->n, o.repo, t);
		warn_audit(&w);
		held_audit(&w);
		notes_say(&w);
		if ((r = hk_online_checkpoint(w.on)) != 0)
			goto out;
		printf("Nothing to publish: set %lu at %s was published at %s, "
		    "the same day (JST); --now publishes at once (CPS "
		    "4-4-9)\n", w.cur->n, o.repo, t);
		notes_print(&w);
		goto out;
	}
	if ((r = publish(&w, &o)) != 0)
		goto fail;
	/* the set is published; the directory follows it (CPS 4-4-4-1) */
	if (o.ldap.uri != NULL &&
	    (r = hk_online_ldap_push(w.on, &o.ldap, o.repo)) != 0) {
		hk_err_set("set %lu published at %s, but LDAP: %s", w.set,
		    o.repo, hk_err_msg());
		hk_online_checkpoint_keep_err(w.on);
		ldap_failed = 1;
		/* the set is out: its notes (audited) hold as after a push */
		notes_print(&w);
		goto out;
	}
	if (w.nunrec > 0)
		/* the line at out names what is not recorded */
		hk_online_checkpoint_keep_err(w.on);
	else if ((r = hk_online_checkpoint(w.on)) != 0)
		goto out;
	printf("Published set %lu at %s: %zu CRLs of issuing generation%s %s "
	    "(%zu entries, %zu caches rebuilt%s), ARL %s\n", w.set, o.repo,
	    w.nparts - w.nheld_parts, w.nsig > 1 ? "s" : "", w.gens,
	    w.entries, w.rebuilt, w.nheld > 0 ? "; partitions held back: see "
	    "below" : "", !w.arl_released ? "none" : w.arl_kept ? "kept" :
	    "released");
	notes_print(&w);
	goto out;
fail:
	/* once logged in, a failure is an audit record (before, nothing
	 * was touched and no checkpoint could be signed) */
	if (w.on != NULL && w.on->tok != NULL) {
		warn_audit(&w);
		hk_online_audit(w.on, "publish.done", "fail", "%s",
		    hk_err_msg());
		hk_online_checkpoint_keep_err(w.on);
	}
out:
	skipped = w.cur != NULL && w.set == 0 ? w.cur->n : 0;
	work_close(&w);
	if (r == 0 && (w.nheld > 0 || w.nwarn > 0 || w.lost))
		r = final_line(&w, skipped);
	else if (ldap_failed && (w.nheld > 0 || w.nwarn > 0 || w.lost)) {
		/* the LDAP failure's exit, with the run's holds and
		 * warnings in the same line: they need a person as much */
		struct hk_err_kept k;

		hk_err_keep(&k);
		(void)final_line(&w, skipped);
		hk_err_set("%s; and %s", k.msg, hk_err_msg());
	}
	if (w.nunrec > 0 && (r == 0 || r == HK_ERR_WARNING ||
	    r == HK_ERR_INVALID || ldap_failed)) {
		/* published: the set is out (relying parties may have it,
		 * the CRL numbers are spent), so it stays, and the run ends
		 * with exit 6 naming what is not recorded (docs/audit-log.md
		 * "When an append fails"); the run's other line follows */
		struct hk_err_kept other;
		char done[HK_ERR_DETAIL_MAX], what[256], rec[HK_ERR_DETAIL_MAX];
		char tu[32];
		int had = r != 0;

		hk_err_keep(&other);
		hk_time_format(w.now, tu, sizeof(tu));
		snprintf(done, sizeof(done), "publish: set %lu published at "
		    "%s (thisUpdate %s; out, so kept)", w.set, o.repo, tu);
		/* "its record publish.done is", "its records crl.publish
		 * (3 of 47 CRLs), publish.done are" */
		snprintf(what, sizeof(what), "its record%s %s", w.nunrec > 1 ?
		    "s" : "", w.unrec_what);
		if (w.unrec_crl > 0) {
			const char *c = strstr(what, "crl.publish");

			if (c != NULL) {
				char tail[256];

				c += strlen("crl.publish");
				snprintf(tail, sizeof(tail), "%s", c);
				snprintf(what + (c - what), sizeof(what) -
				    (size_t)(c - what), " (%d of %zu CRLs)%s",
				    w.unrec_crl, w.nparts - w.nheld_parts,
				    tail);
			}
		}
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		    " %s", w.nunrec > 1 ? "are" : "is");
		snprintf(rec, sizeof(rec), "the set (set %lu at %s, thisUpdate "
		    "%s: %zu CRLs, %zu entries, ARL %s; each CRL's number in "
		    "the store and in the repository)", w.set, o.repo, tu,
		    w.nparts - w.nheld_parts, w.entries, !w.arl_released ?
		    "none" : w.arl_kept ? "kept" : "released");
		r = hk_online_unrecorded(done, what, w.unrec.msg, rec);
		if (had) {
			struct hk_err_kept k;

			hk_err_keep(&k);
			hk_err_set("%s; and %s", k.msg, other.msg);
		}
	}
	msgs_free(&w);
	return r;
}
