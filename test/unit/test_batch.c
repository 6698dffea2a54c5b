/*
 * test_batch.c - the batch journal (online/store_batch.c) and the issuance
 * pipeline (online/issue_pipeline.c): one result per line, a line's
 * reservation with its re-issue revocation all or nothing, the recovery
 * queries; the TBSCertificate fixed before signing (hk_cert_set_sigalg) is byte for
 * byte the one the RSA-2048 issuer signs, the pool signs concurrently and
 * every check of hk_issue_sign can fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "cert.h"
#include "clock.h"
#include "err.h"
#include "issue_pipeline.h"
#include "lint.h"
#include "municipalities.h"
#include "profile.h"
#include "request.h"
#include "store.h"
#include "testutil.h"

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcde";
static const char SHA[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static struct hk_store *
fresh(const char *name, char *path, size_t len)
{
	struct hk_store *s = NULL;

	snprintf(path, len, "%s/store.db", hk_test_dir(name));
	cr_assert_eq(hk_store_open(path, 1, &s), 0, "%s", hk_err_msg());
	return s;
}

static void
cert(struct hk_store_cert *c, unsigned char serial, unsigned char issuer,
    const char *resident)
{
	memset(c, 0, sizeof(*c));
	c->serial[0] = 0x40;
	c->serial[1] = serial;
	c->serial_len = 20;
	memset(c->serial + 2, 0x5a, 18);
	snprintf(c->municipality, sizeof(c->municipality), "431010");
	cr_assert_eq(hk_store_resident_key(KEY, resident, c->resident_key), 0);
	memset(c->issuer, issuer, 20);
	c->issuer_len = 20;
	c->not_before = 1775000000;
	c->not_after = 1775000000 + 3 * 365 * 86400;
	c->tbs = (const unsigned char *)"tbs";
	c->tbs_len = 3;
}

static int
count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

Test(batch, journal_by_content)
{
	struct hk_store_batch b;
	char p[4096];
	struct hk_store *s = fresh("batch_journal", p, sizeof(p));
	int64_t id = 0, id2 = 0;

	cr_assert_eq(hk_store_batch_find(s, SHA, &b), HK_ERR_NOT_FOUND);
	cr_assert_eq(hk_store_batch_add(s, SHA, "issue b.csv", 100, &id), 0);
	cr_assert_eq(hk_store_batch_add(s, SHA, "issue c.csv", 200, &id2),
	    HK_ERR_EXISTS);
	cr_assert_eq(hk_store_batch_add(s, "00", "x", 1, &id2), HK_ERR_INVALID);
	cr_assert_eq(hk_store_batch_find(s, SHA, &b), 0);
	cr_assert_eq(b.id, id);
	cr_assert_str_eq(b.name, "issue b.csv");
	cr_assert_eq(b.started_at, 100);
	cr_assert_eq(b.finished_at, 0);
	cr_assert_eq(hk_store_batch_finish(s, id, 300), 0);
	cr_assert_eq(hk_store_batch_finish(s, id, 400), 0);
	cr_assert_eq(hk_store_batch_find(s, SHA, &b), 0);
	cr_assert_eq(b.finished_at, 300, "the first finish is kept");
	hk_store_close(s);
}

struct seen {
	int n;				/* results seen */
	uint64_t line[8];
	int serial[8];			/* 1 with a serial */
	enum hk_cert_status st[8];
	int der[8];			/* 1 with a DER */
};

static int
each(const struct hk_store_batch_result *r, void *arg)
{
	struct seen *v = arg;

	v->line[v->n] = r->line;
	v->serial[v->n] = r->serial != NULL;
	v->st[v->n] = r->status;
	v->der[v->n] = r->der != NULL;
	v->n++;
	return 0;
}

Test(batch, one_result_per_line)
{
	struct hk_store_cert c;
	struct seen v;
	char p[4096];
	struct hk_store *s = fresh("batch_results", p, sizeof(p));
	int64_t id;

	cr_assert_eq(hk_store_batch_add(s, SHA, "issue b.csv", 1, &id), 0);
	cr_assert_eq(hk_store_batch_refuse(s, id, 3, "b.csv:3: birth: x"), 0);
	cr_assert_eq(hk_store_batch_refuse(s, id, 3, "again"), HK_ERR_INVALID);
	cr_assert_eq(hk_store_batch_refuse(s, id, 4, ""), HK_ERR_INVALID);
	cert(&c, 1, 0x11, "10000000001");
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &c, NULL),
	    HK_ERR_INVALID, "line 3 has its result");
	cr_assert_eq(count(p, "SELECT count(*) FROM serials"), 0,
	    "the refused reservation left no serial");
	cr_assert_eq(hk_store_batch_reserve(s, id, 2, &c, NULL), 0, "%s",
	    hk_err_msg());
	memset(&v, 0, sizeof(v));
	cr_assert_eq(hk_store_batch_each(s, id, each, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert(v.line[0] == 2 && v.serial[0] && v.st[0] == HK_CERT_PENDING &&
	    !v.der[0]);
	cr_assert(v.line[1] == 3 && !v.serial[1]);
	cr_assert_eq(hk_store_cert_complete(s, c.serial, c.serial_len,
	    (const unsigned char *)"der", 3), 0);
	memset(&v, 0, sizeof(v));
	cr_assert_eq(hk_store_batch_each(s, id, each, &v), 0);
	cr_assert(v.st[0] == HK_CERT_VALID && v.der[0]);
	/* raw SQL: the schema refuses a changed result */
	cr_assert_neq(count(p, "UPDATE batch_results SET reason = 'x' WHERE "
	    "line = 3 RETURNING 1"), 1);
	hk_store_close(s);
}

/*
 * A chunk's reservation (one transaction, a savepoint per line) and its
 * completion keep every page in memory: none of the store's pages (keyed
 * resident hashes, TBSCertificates) is spilled to a temporary file in
 * SQLITE_TMPDIR (/var/tmp by default), and none costs the writes.
 */
Test(batch, chunk_spills_nothing_to_a_temp_file)
{
	struct hk_store_cert c;
	unsigned char tbs[1200];
	char p[4096], rid[16], tmp[4096], ev[4096];
	struct hk_store *s;
	int64_t id;
	int in, i;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s", hk_test_dir("batch_tmpdir"));
	cr_assert_eq(setenv("SQLITE_TMPDIR", tmp, 1), 0);
	cr_assert_geq(in = inotify_init1(IN_NONBLOCK), 0);
	cr_assert_geq(inotify_add_watch(in, tmp, IN_CREATE), 0);
	s = fresh("batch_spill", p, sizeof(p));
	memset(tbs, 0x30, sizeof(tbs));
	cr_assert_eq(hk_store_batch_add(s, SHA, "issue b.csv", 1, &id), 0);
	/* eight chunks: the later ones change pages the earlier ones
	 * committed (SQLite journals only pages already in the file) */
	for (i = 0; i < 2048; i++) {
		if (i % 256 == 0)
			cr_assert_eq(hk_store_begin(s), 0, "%s", hk_err_msg());
		cert(&c, 0, 0x11, "10000000001");
		c.serial[1] = (unsigned char)(i >> 8);
		c.serial[2] = (unsigned char)i;
		snprintf(rid, sizeof(rid), "%011d", 20000000 + i);
		cr_assert_eq(hk_store_resident_key(KEY, rid, c.resident_key),
		    0);
		c.tbs = tbs;
		c.tbs_len = sizeof(tbs);
		cr_assert_eq(hk_store_batch_reserve(s, id, (uint64_t)i + 2, &c,
		    NULL), 0, "line %d: %s", i + 2, hk_err_msg());
		if (i % 256 == 255)
			cr_assert_eq(hk_store_commit(s), 0, "%s",
			    hk_err_msg());
	}
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE "
	    "status = 'pending'"), 2048, "the chunks were reserved");
	n = read(in, ev, sizeof(ev));
	cr_assert(n < 0 && errno == EAGAIN, "the store created a file in "
	    "SQLITE_TMPDIR %s (%zd bytes of inotify events)", tmp, n);
	hk_store_close(s);
	close(in);
	unsetenv("SQLITE_TMPDIR");
}

Test(batch, replace_all_or_nothing)
{
	struct hk_store_cert a, b, dup;
	struct hk_store_replace old;
	char p[4096];
	struct hk_store *s = fresh("batch_replace", p, sizeof(p));
	unsigned char sl[HK_STORE_SERIAL_MAX], *der = NULL;
	enum hk_cert_status st;
	time_t na;
	size_t sll, dl;
	int64_t id;

	cr_assert_eq(hk_store_batch_add(s, SHA, "issue --replace b.csv", 1,
	    &id), 0);
	cert(&a, 1, 0x11, "10000000001");
	cr_assert_eq(hk_store_batch_reserve(s, id, 2, &a, NULL), 0);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"old-der", 7), 0);
	cr_assert_eq(hk_store_batch_live(s, a.resident_key, sl, &sll, &st,
	    &na, &der, &dl), 0);
	cr_assert(st == HK_CERT_VALID && dl == 7 && memcmp(der, "old-der",
	    7) == 0 && sll == 20 && memcmp(sl, a.serial, 20) == 0);
	free(der);
	memset(&old, 0, sizeof(old));
	old.serial = a.serial;
	old.serial_len = a.serial_len;
	old.reason = 4;
	old.at = 1775000100;
	old.entry = (const unsigned char *)"entry";
	old.entry_len = 5;
	/* the new serial is taken: nothing of the line may remain */
	cert(&dup, 1, 0x11, "10000000001");
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &dup, &old),
	    HK_ERR_EXISTS);
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE status "
	    "= 'valid'"), 1, "the old certificate is still valid");
	cr_assert_eq(count(p, "SELECT count(*) FROM crl_entries"), 0);
	cr_assert_eq(count(p, "SELECT count(*) FROM batch_results"), 1);
	/* then done right: revoked, its CRL entry, the new one pending */
	cert(&b, 2, 0x11, "10000000001");
	b.not_before = 1775000050;
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &b, &old), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE status "
	    "= 'revoked' AND reason = 4 AND revoked_at = 1775000100"), 1);
	cr_assert_eq(count(p, "SELECT count(*) FROM crl_entries WHERE entry = "
	    "CAST('entry' AS BLOB)"), 1);
	cr_assert_eq(hk_store_batch_live(s, b.resident_key, sl, &sll, &st,
	    &na, &der, &dl), 0);
	cr_assert(st == HK_CERT_PENDING && der == NULL && sl[1] == 2);
	hk_store_close(s);
}

/* CPS 4-2-3 refuses a second *valid* certificate: one past its notAfter
 * stops being live (status stays valid, never revoked) in the reservation
 * of the resident's next, and only then. */
Test(batch, expired_stops_being_live)
{
	struct hk_store_cert a, b;
	struct hk_store_replace old;
	char p[4096];
	struct hk_store *s = fresh("batch_expired", p, sizeof(p));
	unsigned char sl[HK_STORE_SERIAL_MAX], *der = NULL;
	enum hk_cert_status st;
	time_t na;
	size_t sll, dl;
	int64_t id;

	cr_assert_eq(hk_store_batch_add(s, SHA, "issue b.csv", 1, &id), 0);
	cert(&a, 1, 0x11, "10000000001");
	cr_assert_eq(hk_store_batch_reserve(s, id, 2, &a, NULL), 0);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"old-der", 7), 0);
	cr_assert_eq(hk_store_batch_live(s, a.resident_key, sl, &sll, &st,
	    &na, &der, &dl), 0);
	cr_assert_eq(na, a.not_after);
	free(der);
	memset(&old, 0, sizeof(old));
	old.serial = a.serial;
	old.serial_len = a.serial_len;
	old.reason = 0;
	cert(&b, 2, 0x11, "10000000001");
	b.not_before = a.not_after;
	b.not_after = a.not_after + 86400;
	/* at its notAfter it is still valid: refused, nothing remains */
	old.at = a.not_after;
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &b, &old),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "CPS 4-2-3") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates"), 1);
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE live = "
	    "1"), 1);
	/* a second later: the old one ends, valid and never revoked */
	old.at = a.not_after + 1;
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &b, &old), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE status "
	    "= 'valid' AND ended = 1 AND revoked_at IS NULL"), 1);
	cr_assert_eq(count(p, "SELECT count(*) FROM crl_entries"), 0);
	cr_assert_eq(hk_store_batch_live(s, a.resident_key, sl, &sll, &st,
	    &na, &der, &dl), 0);
	cr_assert(st == HK_CERT_PENDING && sl[1] == 2);
	/* a pending certificate never ends this way */
	old.serial = b.serial;
	old.at = b.not_after + 1;
	cert(&a, 3, 0x11, "10000000001");
	cr_assert_eq(hk_store_batch_reserve(s, id, 4, &a, &old),
	    HK_ERR_INVALID);
	hk_store_close(s);
	/* raw SQL: an ended row never becomes live again; batch records
	 * are never deleted */
	cr_assert_neq(count(p, "UPDATE certificates SET ended = NULL WHERE "
	    "status = 'valid' RETURNING 1"), 1);
	cr_assert_neq(count(p, "DELETE FROM batch_results RETURNING 1"), 1);
	cr_assert_neq(count(p, "DELETE FROM batches RETURNING 1"), 1);
	cr_assert_neq(count(p, "UPDATE batches SET name = 'x' RETURNING 1"),
	    1);
	cr_assert_eq(count(p, "SELECT count(*) FROM batch_results"), 2);
}

struct found {
	int n;				/* rows seen */
	unsigned char serial[4];	/* serial[1] of each */
	int reason[4];			/* replaced_each: its reason */
	int tbs_ok;			/* pending_each: the tbs given */
};

static int
each_pending(const struct hk_store_cert *c, void *arg)
{
	struct found *f = arg;

	f->serial[f->n++] = c->serial[1];
	f->tbs_ok += c->tbs_len == 3 && memcmp(c->tbs, "tbs", 3) == 0;
	return 0;
}

static int
each_replaced(const unsigned char *serial, size_t len, int reason, void *arg)
{
	struct found *f = arg;

	cr_assert_eq(len, 20);
	f->serial[f->n] = serial[1];
	f->reason[f->n++] = reason;
	return 0;
}

Test(batch, recovery_queries)
{
	struct hk_store_cert a, b, c, d;
	struct hk_store_replace old;
	struct found f;
	unsigned char iss1[20], iss2[20];
	char p[4096];
	struct hk_store *s = fresh("batch_recovery", p, sizeof(p));
	int64_t id;

	memset(iss1, 0x11, 20);
	memset(iss2, 0x22, 20);
	cr_assert_eq(hk_store_batch_add(s, SHA, "issue --replace b.csv", 1,
	    &id), 0);
	cert(&a, 1, 0x11, "10000000001");
	cert(&b, 2, 0x11, "10000000002");
	cert(&c, 3, 0x22, "10000000003");
	cr_assert_eq(hk_store_batch_reserve(s, id, 2, &a, NULL), 0);
	cr_assert_eq(hk_store_batch_reserve(s, id, 3, &b, NULL), 0);
	cr_assert_eq(hk_store_batch_reserve(s, id, 4, &c, NULL), 0);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"der", 3), 0);
	memset(&f, 0, sizeof(f));
	cr_assert_eq(hk_store_pending_each(s, iss1, 20, each_pending, &f), 0);
	cr_assert(f.n == 1 && f.serial[0] == 2 && f.tbs_ok == 1,
	    "only issuer 1's pending row");
	memset(&f, 0, sizeof(f));
	cr_assert_eq(hk_store_pending_each(s, iss2, 20, each_pending, &f), 0);
	cr_assert(f.n == 1 && f.serial[0] == 3);
	/* a's resident re-issued: replaced_each names a for the new one */
	cert(&d, 4, 0x11, "10000000001");
	d.not_before = 1775000050;
	memset(&old, 0, sizeof(old));
	old.serial = a.serial;
	old.serial_len = 20;
	old.reason = 3;
	old.at = 1775000060;
	old.entry = (const unsigned char *)"e";
	old.entry_len = 1;
	cr_assert_eq(hk_store_batch_reserve(s, id, 5, &d, &old), 0);
	memset(&f, 0, sizeof(f));
	cr_assert_eq(hk_store_replaced_each(s, d.serial, 20, each_replaced,
	    &f), 0);
	cr_assert(f.n == 1 && f.serial[0] == 1 && f.reason[0] == 3);
	memset(&f, 0, sizeof(f));
	cr_assert_eq(hk_store_replaced_each(s, b.serial, 20, each_replaced,
	    &f), 0);
	cr_assert_eq(f.n, 0, "b replaced nothing");
	hk_store_close(s);
}

/* ---- the pipeline --------------------------------------------------- */

struct env {
	struct hk_profile *p;
	struct hk_munis *m;
	struct hk_request_ctx ctx;
	struct hk_issue_env e;
	EVP_PKEY *ca;			/* the issuer's key (software, RSA-2048) */
	X509 *issuer;			/* self-signed, stands for the issuing CA */
	unsigned char skey[32];
	struct hk_cert_user_tmpl *tmpl;	/* e.tmpl, every partition */
	struct hk_lint_user_ctx *lint;	/* e.lint, every partition */
};

/* The run's template and lint context, as hanko-online issue makes them
 * (cmd_issue.c user_tmpl): the issuer, generation 1, a rehearsal, every
 * municipality's partition, encoded once. */
static void
env_tmpl(struct env *v)
{
	size_t i;

	cr_assert_eq(hk_cert_user_tmpl_new(v->p, v->issuer, 1, 1, &v->tmpl),
	    0, "%s", hk_err_msg());
	cr_assert_eq(hk_lint_user_ctx_new(v->p, 1, 1, &v->lint), 0, "%s",
	    hk_err_msg());
	for (i = 0; i < v->m->n; i++) {
		cr_assert_eq(hk_cert_user_tmpl_partition(v->tmpl,
		    v->m->m[i].romaji, v->m->m[i].code), 0, "%s",
		    hk_err_msg());
		cr_assert_eq(hk_lint_user_ctx_partition(v->lint,
		    v->m->m[i].romaji, v->m->m[i].code), 0, "%s",
		    hk_err_msg());
	}
	v->e.tmpl = v->tmpl;
	v->e.lint = v->lint;
}

static void
env_open(struct env *v)
{
	char path[4096];
	FILE *f;
	time_t t;

	memset(v, 0, sizeof(*v));
	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/../../ceremony-scripts/"
	    "profile-kumamoto.yaml", &v->p), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_munis_load(HK_TEST_DATA "/../../online/data/"
	    "municipalities-kumamoto.csv", &v->m), 0, "%s", hk_err_msg());
	snprintf(path, sizeof(path), "%s/cert/rsa2048.pem", HK_TEST_DATA);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(v->ca = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	cr_assert_eq(hk_time_parse("2026-04-01T00:00:00Z", &t), 0);
	cr_assert_eq(hk_cert_build_root(v->p, v->ca, t, 1, &v->issuer), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(hk_cert_sign_checked(v->issuer, v->ca, v->ca, v->p,
	    HK_CERT_ROOT, 1), 0, "%s", hk_err_msg());
	cr_assert_eq(RAND_bytes(v->skey, sizeof(v->skey)), 1);
	v->ctx.input = "b.csv";
	v->ctx.basedir = HK_TEST_DATA "/requests";
	v->ctx.munis = v->m;
	v->ctx.p = v->p;
	v->ctx.now = t + 86400;
	v->e.req = &v->ctx;
	v->e.skey = v->skey;
	v->e.p = v->p;
	v->e.issuer = v->issuer;
	v->e.ikey = v->ca;
	v->e.ipub = X509_get0_pubkey(v->issuer);
	v->e.md = hk_cert_md(v->p, v->ca);
	env_tmpl(v);
}

static void
env_close(struct env *v)
{
	hk_lint_user_ctx_free(v->lint);
	hk_cert_user_tmpl_free(v->tmpl);
	X509_free(v->issuer);
	EVP_PKEY_free(v->ca);
	hk_munis_free(v->m);
	hk_profile_free(v->p);
}

static const char LINE[] = "431010,12345678901,熊本　太郎,00000,319750301,1,"
    "熊本県熊本市中央区水前寺６丁目１８番１号,00000000000000000000,"
    "keys/resident-1.pub.pem";

/* The TBSCertificate of a DER certificate. */
static int
tbs_of(const unsigned char *der, int len, unsigned char **tbs)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	int n;

	cr_assert_not_null(x);
	n = i2d_re_X509_tbs(x, tbs);
	X509_free(x);
	return n;
}

/*
 * The TBSCertificate reserved is byte for byte the one the issuer signs,
 * and recovery's unsigned certificate around it (hk_cert_unsigned_from_tbs)
 * signs to the same certificate (PKCS#1 v1.5 is deterministic).
 */
Test(batch, tbs_reserved_is_the_one_signed_and_recovered)
{
	struct env v;
	struct hk_issue_item it, again;
	unsigned char *t2 = NULL;
	EVP_PKEY *p384;
	X509 *x = NULL;
	int n2;

	env_open(&v);
	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), v.ctx.now, &it), 0);
	cr_assert_eq(it.refused, 0, "%s", it.reason);
	cr_assert_eq(EVP_PKEY_get_bits(it.key), 2048);
	cr_assert_eq(OBJ_obj2nid(X509_get0_tbs_sigalg(it.x)->algorithm),
	    NID_sha256WithRSAEncryption);
	hk_issue_sign(&it);
	cr_assert_eq(it.sign_r, 0, "%s", it.sign_err);
	n2 = tbs_of(it.der, it.der_len, &t2);
	cr_assert(n2 == it.tbs_len && memcmp(t2, it.tbs, (size_t)n2) == 0,
	    "reserved and signed TBSCertificate are the same bytes");
	{
		const unsigned char *q = it.der;
		X509 *sx = d2i_X509(NULL, &q, it.der_len);

		cr_assert(sx != NULL && q == it.der + it.der_len);
		cr_assert_eq(X509_verify(sx, X509_get0_pubkey(v.issuer)), 1);
		X509_free(sx);
	}
	cr_assert_str_eq(it.c.municipality, "431010");
	cr_assert_eq(it.c.serial_len, 20);
	cr_assert_eq(it.c.tbs, it.tbs);

	/* recovery: the recorded TBS alone, signed again */
	memset(&again, 0, sizeof(again));
	cr_assert_eq(hk_cert_unsigned_from_tbs(it.tbs, (size_t)it.tbs_len,
	    v.e.ipub, v.e.md, &again.x), 0, "%s", hk_err_msg());
	cr_assert_not_null(again.tbs = OPENSSL_memdup(it.tbs,
	    (size_t)it.tbs_len));
	again.tbs_len = it.tbs_len;
	again.key = it.key;
	again.pub = it.pub;
	again.md = it.md;
	memcpy(again.hex, it.hex, sizeof(again.hex));
	hk_issue_sign(&again);
	cr_assert_eq(again.sign_r, 0, "%s", again.sign_err);
	cr_assert(again.der_len == it.der_len && memcmp(again.der, it.der,
	    (size_t)it.der_len) == 0, "signed again: the same certificate");
	hk_issue_item_clear(&again);

	/* refused: not one DER SEQUENCE, trailing bytes, another key type */
	cr_assert_eq(hk_cert_unsigned_from_tbs(it.tbs, (size_t)it.tbs_len - 1,
	    v.e.ipub, v.e.md, &x), HK_ERR_PARSE);
	cr_assert_null(x);
	cr_assert_str_eq(hk_err_msg(), "the recorded TBSCertificate is not one "
	    "DER SEQUENCE");
	cr_assert_eq(hk_cert_unsigned_from_tbs((const unsigned char *)"\x30"
	    "\x00\x00", 3, v.e.ipub, v.e.md, &x), HK_ERR_PARSE);
	cr_assert_eq(hk_cert_unsigned_from_tbs((const unsigned char *)"\x30"
	    "\x00", 2, v.e.ipub, v.e.md, &x), HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "the recorded TBSCertificate does not "
	    "parse as a certificate's");
	cr_assert_not_null(p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-384"));
	cr_assert_eq(hk_cert_unsigned_from_tbs(it.tbs, (size_t)it.tbs_len,
	    p384, EVP_sha384(), &x), HK_ERR_INVALID);
	cr_assert_null(x);
	cr_assert_str_eq(hk_err_msg(), "the recorded TBSCertificate's "
	    "signature algorithm is not the issuing key's");
	EVP_PKEY_free(p384);
	OPENSSL_free(t2);
	hk_issue_item_clear(&it);
	env_close(&v);
}

Test(batch, sign_checks_fail)
{
	struct env v;
	struct hk_issue_item it;
	EVP_PKEY *other;

	env_open(&v);
	/* bytes that are not a DER SEQUENCE are never signed */
	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), v.ctx.now, &it), 0);
	it.tbs[0] = 0x31;
	hk_issue_sign(&it);
	cr_assert_eq(it.sign_r, HK_ERR_INTERNAL);
	cr_assert_null(it.der);
	cr_assert(strstr(it.sign_err, "not one DER SEQUENCE") != NULL, "%s",
	    it.sign_err);
	hk_issue_item_clear(&it);
	/* a signature that does not verify with the issuer's key */
	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), v.ctx.now, &it), 0);
	cr_assert_not_null(other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
	it.key = other;
	hk_issue_sign(&it);
	cr_assert_eq(it.sign_r, HK_ERR_VERIFY);
	cr_assert(strstr(it.sign_err, "does not verify") != NULL);
	cr_assert_null(it.der);
	hk_issue_item_clear(&it);
	EVP_PKEY_free(other);
	/* a refused line: one reason naming the file, line and field */
	cr_assert_eq(hk_issue_prepare(&v.e, 7, "431010,123,x", 12, v.ctx.now,
	    &it), 0);
	cr_assert_eq(it.refused, 1);
	cr_assert(strncmp(it.reason, "b.csv:7: ", 9) == 0, "%s", it.reason);
	cr_assert_null(it.x);
	hk_issue_item_clear(&it);
	env_close(&v);
}

/*
 * A municipality retired (docs/municipalities.md, "A merger or a rename")
 * is judged at the time each certificate is made, its notBefore, not at
 * the batch's start: a batch that started the second before 00:00 JST of
 * 431010's retired day issues the line prepared before that day and
 * refuses the one prepared from it (before, both were issued, the second
 * with a notBefore on the retired day).
 */
Test(batch, retired_day_judged_when_the_certificate_is_made)
{
	struct env v;
	struct hk_issue_item it;
	struct hk_muni *m = NULL;
	time_t day, nb;
	size_t i;

	env_open(&v);
	for (i = 0; i < v.m->n; i++)
		if (strcmp(v.m->m[i].code, "431010") == 0)
			m = &v.m->m[i];
	cr_assert_not_null(m);
	/* 2026-04-03 00:00 JST */
	cr_assert_eq(hk_time_parse("2026-04-02T15:00:00Z", &day), 0);
	m->retired = day;
	snprintf(m->retired_day, sizeof(m->retired_day), "2026-04-03");
	v.ctx.now = day - 1;		/* the batch's start */

	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), day - 1,
	    &it), 0);
	cr_assert_eq(it.refused, 0, "%s", it.reason);
	cr_assert_eq(hk_cert_time(X509_get0_notBefore(it.x), &nb), 0);
	cr_assert_eq(nb, day - 1);
	hk_issue_item_clear(&it);

	cr_assert_eq(hk_issue_prepare(&v.e, 3, LINE, strlen(LINE), day, &it),
	    0);
	cr_assert_eq(it.refused, 1, "a certificate under 431010 made on its "
	    "retired day");
	cr_assert_str_eq(it.reason, "b.csv:3: municipality: CPS 4-1-1, "
	    "4-2-1: 431010 (熊本市中央区) is retired since 2026-04-03 "
	    "(municipalities.csv: retired): no certificate is issued under "
	    "it; the request comes from the municipality of the resident's "
	    "address today, under its code");
	cr_assert_null(it.x);
	hk_issue_item_clear(&it);
	env_close(&v);
}

Test(batch, pool_signs_in_parallel)
{
	struct env v;
	struct hk_sign_pool *pool = NULL;
	struct hk_issue_item it[24], *ptr[24];
	struct hk_prep_job jobs[24];
	unsigned char *t = NULL;
	EVP_PKEY *other;
	int i, n;

	env_open(&v);
	cr_assert_eq(hk_sign_pool_start(0, &pool), HK_ERR_USAGE);
	cr_assert_eq(hk_sign_pool_start(4, &pool), 0);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 24; i++) {
		jobs[i].line = (size_t)i + 2;
		jobs[i].text = i == 7 ? "431010,1,x" : LINE;
		jobs[i].len = strlen(jobs[i].text);
		jobs[i].now = v.ctx.now;
		jobs[i].it = &it[i];
		ptr[i] = &it[i];
	}
	/* prepared in the pool's threads and this one */
	hk_sign_pool_prepare(pool, &v.e, jobs, 24);
	for (i = 0; i < 24; i++) {
		cr_assert_eq(jobs[i].r, 0);
		cr_assert_eq(it[i].line, (size_t)i + 2);
		cr_assert_eq(it[i].refused, i == 7, "item %d: %s", i,
		    it[i].reason);
	}
	cr_assert(strncmp(it[7].reason, "b.csv:9: ", 9) == 0, "%s",
	    it[7].reason);
	/* the refused one is not signed: 23 items in two sets */
	memmove(ptr + 7, ptr + 8, 16 * sizeof(*ptr));
	cr_assert_not_null(other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
	it[5].key = other;		/* one bad item among them */
	hk_sign_pool_submit(pool, ptr, 12);
	hk_sign_pool_wait(pool);
	hk_sign_pool_submit(pool, ptr + 12, 11);
	hk_sign_pool_wait(pool);
	hk_sign_pool_submit(pool, ptr, 0);	/* an empty set returns */
	hk_sign_pool_wait(pool);
	for (i = 0; i < 24; i++) {
		if (i == 7) {
			cr_assert_null(it[i].der);
			continue;
		}
		if (i == 5) {
			cr_assert_eq(it[i].sign_r, HK_ERR_VERIFY);
			continue;
		}
		cr_assert_eq(it[i].sign_r, 0, "item %d: %s", i,
		    it[i].sign_err);
		n = tbs_of(it[i].der, it[i].der_len, &t);
		cr_assert(n == it[i].tbs_len && memcmp(t, it[i].tbs,
		    (size_t)n) == 0);
		OPENSSL_free(t);
		t = NULL;
	}
	cr_assert(memcmp(it[0].c.serial, it[1].c.serial, 20) != 0,
	    "a serial each");
	hk_sign_pool_stop(pool);
	for (i = 0; i < 24; i++)
		hk_issue_item_clear(&it[i]);
	EVP_PKEY_free(other);
	env_close(&v);
}

/*
 * The certificate made around the reserved bytes (hk_cert_sign_tbs) is
 * byte for byte the one OpenSSL's own X509_sign makes of the same
 * certificate (PKCS#1 v1.5 is deterministic), whatever the signature's
 * last bit: a BIT STRING must not drop trailing zero bits as unused.
 */
Test(batch, signed_certificate_is_x509_sign_s)
{
	struct env v;
	struct hk_issue_item it;
	const unsigned char *sig;
	unsigned char *mine = NULL;
	const ASN1_BIT_STRING *bs;
	int i, n, zero_end = 0;

	env_open(&v);
	for (i = 0; i < 40; i++) {
		cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE),
		    v.ctx.now, &it), 0);
		cr_assert_eq(it.refused, 0, "%s", it.reason);
		hk_issue_sign(&it);
		cr_assert_eq(it.sign_r, 0, "%s", it.sign_err);
		cr_assert_gt(X509_sign(it.x, v.ca, v.e.md), 0);
		cr_assert_gt(n = i2d_X509(it.x, &mine), 0);
		cr_assert(n == it.der_len && memcmp(mine, it.der, (size_t)n) ==
		    0, "certificate %d differs from X509_sign's", i);
		X509_get0_signature(&bs, NULL, it.x);
		sig = ASN1_STRING_get0_data(bs);
		zero_end += (sig[ASN1_STRING_length(bs) - 1] & 1) == 0;
		OPENSSL_free(mine);
		mine = NULL;
		hk_issue_item_clear(&it);
	}
	/* 40 random signatures: all ending in 1 has odds of 2^-40 */
	cr_assert_gt(zero_end, 0);
	env_close(&v);
}

/* b's TBSCertificate with a's serial and subject (the two things drawn
 * afresh for each certificate) is a's, byte for byte. */
static void
assert_same_but_serial(X509 *a, X509 *b, const char *what)
{
	unsigned char *ta = NULL, *tb = NULL;
	int la, lb;

	cr_assert_eq(X509_set_serialNumber(b,
	    (ASN1_INTEGER *)X509_get0_serialNumber(a)), 1);
	cr_assert_eq(X509_set_subject_name(b, X509_get_subject_name(a)), 1);
	cr_assert_gt(la = i2d_re_X509_tbs(a, &ta), 0);
	cr_assert_gt(lb = i2d_re_X509_tbs(b, &tb), 0);
	cr_assert(la == lb && memcmp(ta, tb, (size_t)la) == 0, "%s", what);
	OPENSSL_free(ta);
	OPENSSL_free(tb);
}

/*
 * A run's template (hk_cert_user_tmpl: the issuer's shared extensions and
 * each partition's CRL DP encoded once) builds the very certificate
 * hk_cert_build_user builds alone; a partition the template lacks, or
 * whose romaji differs, is built for the certificate.
 */
Test(batch, template_builds_the_same_certificate)
{
	struct env v;
	struct hk_cert_user_tmpl *t = NULL;
	const struct hk_muni *mu;
	struct hk_issue_item a, b;
	X509 *x = NULL, *y = NULL;
	const ASN1_STRING *l;
	X509_NAME *dn;
	int i;

	env_open(&v);
	cr_assert_eq(hk_cert_user_tmpl_new(v.p, v.issuer, 1, 1, &t), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_cert_user_tmpl_partition(t, "Kumamoto-shi",
	    "431010"), 0, "%s", hk_err_msg());
	/* the pipeline (the run's template) and hk_cert_build_user alone */
	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), v.ctx.now,
	    &a), 0);
	cr_assert_eq(a.refused, 0, "%s", a.reason);
	cr_assert_not_null(mu = hk_munis_find(v.m, "431010"));
	cr_assert_eq(hk_cert_build_user(v.p, v.issuer, 1, X509_get0_pubkey(
	    a.x), mu->romaji, mu->code, &a.b4, v.ctx.now, 1, &y), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_cert_set_sigalg(y, v.e.ipub, v.e.md), 0);
	assert_same_but_serial(a.x, y, "the pipeline's certificate");
	X509_free(y);
	y = NULL;
	/* and with a template whose one partition is 431010 under another
	 * romaji: built for the certificate, the same */
	v.e.tmpl = t;
	cr_assert_eq(hk_issue_prepare(&v.e, 2, LINE, strlen(LINE), v.ctx.now,
	    &b), 0);
	cr_assert_eq(b.refused, 0, "%s", b.reason);
	assert_same_but_serial(a.x, b.x, "the template's certificate");
	/* not in the template: 432024; in it under another romaji: 431010 */
	cr_assert_eq(hk_cert_build_user_tmpl(t, X509_get0_pubkey(a.x),
	    "Yatsushiro-shi", "432024", &a.b4, v.ctx.now, &x), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_cert_build_user(v.p, v.issuer, 1, X509_get0_pubkey(
	    a.x), "Yatsushiro-shi", "432024", &a.b4, v.ctx.now, 1, &y), 0);
	cr_assert_eq(hk_cert_set_sigalg(x, v.e.ipub, v.e.md), 0);
	cr_assert_eq(hk_cert_set_sigalg(y, v.e.ipub, v.e.md), 0);
	assert_same_but_serial(x, y, "a partition the template lacks");
	X509_free(x);
	X509_free(y);
	cr_assert_eq(hk_cert_build_user_tmpl(t, X509_get0_pubkey(a.x),
	    "Kumamoto-city", "431010", &a.b4, v.ctx.now, &x), 0);
	cr_assert_eq(hk_cert_build_user(v.p, v.issuer, 1, X509_get0_pubkey(
	    a.x), "Kumamoto-city", "431010", &a.b4, v.ctx.now, 1, &y), 0);
	cr_assert_eq(hk_cert_set_sigalg(x, v.e.ipub, v.e.md), 0);
	cr_assert_eq(hk_cert_set_sigalg(y, v.e.ipub, v.e.md), 0);
	assert_same_but_serial(x, y, "a romaji the template lacks");
	/* and that one names its own romaji, in the subject and the lint */
	dn = X509_get_subject_name(x);
	cr_assert_geq(i = X509_NAME_get_index_by_NID(dn, NID_localityName,
	    -1), 0);
	cr_assert_not_null(l = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(
	    dn, i)));
	cr_assert_eq(ASN1_STRING_length(l), 13);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(l), "Kumamoto-city", 13), 0);
	cr_assert_eq(hk_lint_user(x, v.p, 1, 1), 0, "%s", hk_err_msg());
	X509_free(x);
	X509_free(y);
	hk_issue_item_clear(&a);
	hk_issue_item_clear(&b);
	hk_cert_user_tmpl_free(t);
	env_close(&v);
}
