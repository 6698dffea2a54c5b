/*
 * test_records.c - the records of the store (online/store_records.c):
 * the monthly aggregation of provisions on JST month boundaries whatever
 * TZ says (CPS 4-5: the prefecture's 年月), serve's JST day key, a resident's history in order (CPS 2-8-6), the
 * revocation set of an issuing key (CPS 4-4-1-3: exactly its valid
 * certificates, earlier reasons kept, pending voided, all or nothing,
 * several batches), the double-issuance query (CPS 4-2-3) and the schema
 * comparison that check relies on. CRL entries are decoded with OpenSSL's
 * own d2i_X509_REVOKED, not ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "testutil.h"

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcde";

static struct hk_store *
fresh(const char *name, char *path, size_t len)
{
	struct hk_store *s = NULL;

	snprintf(path, len, "%s/store.db", hk_test_dir(name));
	cr_assert_eq(hk_store_open(path, 1, &s), 0, "%s", hk_err_msg());
	return s;
}

/* Raw SQL on the same file, around the C layer. */
static int
raw(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* One integer from raw SQL. */
static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Certificate n (serial 0x40 n_hi n_lo ...) of a resident and issuer. */
static void
cert(struct hk_store_cert *c, unsigned n, const char *resident,
    unsigned char issuer, time_t nb)
{
	memset(c, 0, sizeof(*c));
	c->serial[0] = 0x40;
	c->serial[1] = (unsigned char)(n >> 16);
	c->serial[2] = (unsigned char)(n >> 8);
	c->serial[3] = (unsigned char)n;
	memset(c->serial + 4, 0x5a, 12);
	c->serial_len = 16;
	snprintf(c->municipality, sizeof(c->municipality), "431010");
	cr_assert_eq(hk_store_resident_key(KEY, resident, c->resident_key), 0);
	memset(c->issuer, issuer, 20);
	c->issuer_len = 20;
	c->not_before = nb;
	c->not_after = nb + 3 * 365 * 86400;
	c->tbs = (const unsigned char *)"tbs";
	c->tbs_len = 3;
}

/* Reserved and completed (valid), in the caller's transaction if any. */
static void
valid(struct hk_store *s, struct hk_store_cert *c)
{
	cr_assert_eq(hk_store_cert_reserve(s, c), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_complete(s, c->serial, c->serial_len,
	    (const unsigned char *)"der", 3), 0, "%s", hk_err_msg());
}

static void
revoke(struct hk_store *s, const struct hk_store_cert *c, int reason,
    time_t t)
{
	unsigned char *der;
	size_t len;

	cr_assert_eq(hk_store_revoke_entry(c->serial, c->serial_len, reason, t,
	    &der, &len), 0);
	cr_assert_eq(hk_store_cert_revoke(s, c->serial, c->serial_len, reason,
	    t, der, len), 0, "%s", hk_err_msg());
	OPENSSL_free(der);
}

/* ---- provisions: the CPS 4-5 month in JST ---- */

struct rows {
	char text[2048];
	int n;
};

static int
collect(const char *a, const char *b, uint64_t count, void *arg)
{
	struct rows *r = arg;
	size_t l = strlen(r->text);

	snprintf(r->text + l, sizeof(r->text) - l, "%s/%s=%llu;", a,
	    b ? b : "-", (unsigned long long)count);
	r->n++;
	return 0;
}

Test(records, month_bounds_are_jst)
{
	time_t from, to;

	/* the process's zone must change nothing: not Japan's here */
	setenv("TZ", "America/New_York", 1);
	tzset();
	cr_assert_eq(hk_store_month_bounds(2026, 4, &from, &to), 0);
	cr_assert_eq(from, 1774969200, "2026-04-01T00:00:00+09:00 is "
	    "2026-03-31T15:00:00Z");
	cr_assert_eq(to, 1777561200, "2026-05-01T00:00:00+09:00 is "
	    "2026-04-30T15:00:00Z");
	cr_assert_eq(hk_store_month_bounds(2026, 12, &from, &to), 0);
	cr_assert_eq(to, 1798729200, "2027-01-01T00:00:00+09:00");
	cr_assert_eq(hk_store_month_bounds(2028, 2, &from, &to), 0);
	cr_assert_eq(to - from, 29 * 86400, "2028 is a leap year");
	cr_assert_eq(hk_store_month_bounds(2100, 2, &from, &to), 0);
	cr_assert_eq(to - from, 28 * 86400, "2100 is not");
	cr_assert_eq(hk_store_month_bounds(1970, 1, &from, &to), 0);
	cr_assert_eq(from, -9 * 3600, "1970-01-01T00:00:00+09:00");
	cr_assert_eq(hk_store_month_bounds(2026, 0, &from, &to),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_store_month_bounds(2026, 13, &from, &to),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_store_month_bounds(1969, 12, &from, &to),
	    HK_ERR_INVALID);
	unsetenv("TZ");
	tzset();
}

/* serve keys its provision counters by JST day (serve_keyholder.c): a
 * day changes at 15:00Z, never at 00:00Z, so a counter held across a
 * failing flush never mixes two JST months. */
Test(records, jst_day_turns_at_1500z)
{
	char b[32];

	cr_assert_eq(hk_store_jst_day(1777561199) + 1,
	    hk_store_jst_day(1777561200), "2026-04-30T14:59:59Z (April 30 "
	    "JST) and 15:00:00Z (May 1 JST): two days");
	cr_assert_eq(hk_store_jst_day(1777561200), hk_store_jst_day(
	    1777561200 + 86399), "May 1 JST: 15:00:00Z to 14:59:59Z next");
	cr_assert_eq(hk_store_jst_day(1777507200), hk_store_jst_day(
	    1777507200 - 1), "00:00Z (09:00 JST) is no day boundary");
	cr_assert_eq(hk_store_jst_day(0), 0);
	cr_assert_eq(hk_store_jst_day(-9 * 3600), 0);
	cr_assert_eq(hk_store_jst_day(-9 * 3600 - 1), -1);
	hk_store_jst_format(1777579200, b, sizeof(b));
	cr_assert_str_eq(b, "2026-05-01T05:00:00+09:00");
	hk_store_jst_format(1774969200, b, sizeof(b));
	cr_assert_str_eq(b, "2026-04-01T00:00:00+09:00");
}

Test(records, provisions_month_aggregation_across_the_boundary)
{
	char p[4096];
	struct hk_store *s = fresh("records_prov", p, sizeof(p));
	struct rows r;

	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-03-31T14:59:59Z (23:59:59 JST): March */
	cr_assert_eq(hk_store_provision_add(s, "bank-a", "ocsp", "ocsp",
	    1774969199), 0, "%s", hk_err_msg());
	/* 2026-03-31T15:00:00Z (April 1, 00:00 JST) and
	 * 2026-04-30T14:59:59Z (April 30, 23:59:59 JST): April */
	cr_assert_eq(hk_store_provision_add(s, "bank-a", "ocsp", "ocsp",
	    1774969200), 0);
	cr_assert_eq(hk_store_provision_add(s, "bank-a", "ocsp", "ocsp",
	    1777561199), 0);
	cr_assert_eq(hk_store_provision_add(s, "bank-a", "http", "431010",
	    1776000000), 0);
	cr_assert_eq(hk_store_provision_add(s, "city-b", "ldap", "431010",
	    1776000000), 0);
	cr_assert_eq(hk_store_provision_add(s, "city-b", "ldap", "arl",
	    1776000001), 0);
	/* 2026-04-30T20:00:00Z (May 1, 05:00 JST): May, not April */
	cr_assert_eq(hk_store_provision_add(s, "city-b", "ldap", "arl",
	    1777579200), 0);
	/* a method outside the schema's list is refused */
	cr_assert_eq(hk_store_provision_add(s, "x", "ftp", "arl", 1776000000),
	    HK_ERR_INVALID);

	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 4,
	    HK_PROVISION_BY_RECIPIENT, collect, &r), 0, "%s", hk_err_msg());
	cr_assert_str_eq(r.text, "bank-a/http=1;bank-a/ocsp=2;city-b/ldap=2;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 4,
	    HK_PROVISION_BY_OBJECT, collect, &r), 0);
	cr_assert_str_eq(r.text, "431010/-=2;arl/-=1;ocsp/-=2;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 3,
	    HK_PROVISION_BY_RECIPIENT, collect, &r), 0);
	cr_assert_str_eq(r.text, "bank-a/ocsp=1;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 5,
	    HK_PROVISION_BY_OBJECT, collect, &r), 0);
	cr_assert_str_eq(r.text, "arl/-=1;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 6,
	    HK_PROVISION_BY_RECIPIENT, collect, &r), 0);
	cr_assert_eq(r.n, 0, "an empty month: no rows");
	/* the count column is summed, not the rows counted */
	cr_assert_eq(raw(p, "INSERT INTO provisions (at, recipient, method, "
	    "object, count) VALUES (1776000000, 'city-b', 'media', 'arl', 40)"),
	    SQLITE_OK);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_provision_month(s, 2026, 4,
	    HK_PROVISION_BY_OBJECT, collect, &r), 0);
	cr_assert_str_eq(r.text, "431010/-=2;arl/-=41;ocsp/-=2;");
	cr_assert_eq(hk_store_provision_month(s, 2026, 13,
	    HK_PROVISION_BY_OBJECT, collect, &r), HK_ERR_INVALID);
	unsetenv("TZ");
	tzset();
	hk_store_close(s);
}

/* ---- history: CPS 2-8-6 ---- */

static int
hist(const struct hk_store_cert *c, void *arg)
{
	struct rows *r = arg;
	size_t l = strlen(r->text);

	snprintf(r->text + l, sizeof(r->text) - l, "%02x%02x:%s:%d;",
	    c->serial[2], c->serial[3], hk_cert_status_name(c->status),
	    c->reason);
	r->n++;
	return 0;
}

Test(records, history_lists_every_certificate_oldest_first)
{
	char p[4096];
	struct hk_store *s = fresh("records_hist", p, sizeof(p));
	struct hk_store_cert a1, a2, a3, a4, b1;
	unsigned char rk[32];
	struct rows r;

	/* reserved out of time order: the order is notBefore, then
	 * reservation */
	cert(&a2, 2, "RES-A", 0x11, 2000000);
	cert(&a1, 1, "RES-A", 0x11, 1000000);
	cert(&b1, 9, "RES-B", 0x11, 1500000);
	valid(s, &a2);
	revoke(s, &a2, 4, 2500000);
	valid(s, &b1);
	valid(s, &a1);		/* a2 revoked: a1 may be live */
	cr_assert_eq(hk_store_cert_reserve(s, &a2), HK_ERR_EXISTS);
	revoke(s, &a1, 3, 1800000);
	cert(&a3, 3, "RES-A", 0x11, 3000000);
	cert(&a4, 4, "RES-A", 0x11, 3000000);	/* same notBefore as a3 */
	valid(s, &a3);
	revoke(s, &a3, 1, 3100000);
	cr_assert_eq(hk_store_cert_reserve(s, &a4), 0);	/* pending */

	cr_assert_eq(hk_store_resident_key(KEY, "RES-A", rk), 0);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_history(s, rk, hist, &r), 0, "%s", hk_err_msg());
	cr_assert_str_eq(r.text, "0001:revoked:3;0002:revoked:4;"
	    "0003:revoked:1;0004:pending:0;");
	cr_assert_eq(hk_store_resident_key(KEY, "RES-NOBODY", rk), 0);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_history(s, rk, hist, &r), 0);
	cr_assert_eq(r.n, 0);
	hk_store_close(s);
}

/* ---- the revocation set of an issuing key: CPS 4-4-1-3 ---- */

/* The stored CRL entry of serial n decoded by OpenSSL: its reason. */
static int
entry_reason(const char *path, unsigned n, time_t *when)
{
	char sql[256];
	sqlite3 *db;
	sqlite3_stmt *st;
	const unsigned char *p;
	X509_REVOKED *rev;
	ASN1_ENUMERATED *e;
	BIGNUM *bn;
	int reason = -1;

	snprintf(sql, sizeof(sql), "SELECT entry FROM crl_entries WHERE "
	    "serial = x'40%02x%02x%02x5a5a5a5a5a5a5a5a5a5a5a5a'",
	    (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		p = sqlite3_column_blob(st, 0);
		rev = d2i_X509_REVOKED(NULL, &p, sqlite3_column_bytes(st, 0));
		cr_assert_not_null(rev, "the entry decodes with OpenSSL");
		bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(rev),
		    NULL);
		cr_assert_eq(BN_num_bytes(bn), 16);
		BN_free(bn);
		e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
		cr_assert_not_null(e, "a reasonCode extension");
		reason = (int)ASN1_ENUMERATED_get(e);
		ASN1_ENUMERATED_free(e);
		if (when != NULL) {
			struct tm tm;
			cr_assert_eq(ASN1_TIME_to_tm(
			    X509_REVOKED_get0_revocationDate(rev), &tm), 1);
			*when = timegm(&tm);
		}
		X509_REVOKED_free(rev);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return reason;
}

Test(records, issuer_revoke_exactly_its_valid_certificates)
{
	char p[4096], res[32];
	struct hk_store *s = fresh("records_issuer", p, sizeof(p));
	struct hk_store_cert c;
	unsigned char k1[20], k2[20];
	uint64_t v, pe, rv, vo;
	time_t when;
	unsigned i;

	memset(k1, 0x11, 20);
	memset(k2, 0x22, 20);
	cr_assert_eq(hk_store_begin(s), 0);
	for (i = 1; i <= 10; i++) {	/* 10 valid under key 1 */
		snprintf(res, sizeof(res), "R%u", i);
		cert(&c, i, res, 0x11, 1000000 + i);
		valid(s, &c);
	}
	for (i = 11; i <= 13; i++) {	/* 3 valid under key 2 */
		snprintf(res, sizeof(res), "R%u", i);
		cert(&c, i, res, 0x22, 1000000 + i);
		valid(s, &c);
	}
	cert(&c, 14, "R14", 0x11, 1000014);	/* pending under key 1 */
	cr_assert_eq(hk_store_cert_reserve(s, &c), 0);
	cr_assert_eq(hk_store_commit(s), 0);
	cert(&c, 3, "R3", 0x11, 1000003);	/* revoked by hand first */
	revoke(s, &c, 1, 1500000);

	cr_assert_eq(hk_store_issuer_count(s, k1, 20, &v, &pe), 0);
	cr_assert_eq(v, 9);
	cr_assert_eq(pe, 1);
	cr_assert_eq(hk_store_issuer_revoke(s, k1, 20, 2, 2000000, &rv, &vo),
	    0, "%s", hk_err_msg());
	cr_assert_eq(rv, 9);
	cr_assert_eq(vo, 1);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "status = 'valid' AND hex(issuer) LIKE '11%'"), 0,
	    "nothing of key 1 left valid");
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "reason = 2 AND revoked_at = 2000000"), 9);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "hex(issuer) LIKE '22%' AND status = 'valid'"), 3,
	    "key 2's certificates untouched");
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "status = 'void'"), 1, "the pending one voided");
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM crl_entries"), 10);
	/* the one revoked by hand keeps its reason and date */
	cr_assert_eq(entry_reason(p, 3, &when), 1);
	cr_assert_eq(when, 1500000);
	cr_assert_eq(raw_int(p, "SELECT reason FROM certificates WHERE "
	    "substr(serial, 4, 1) = x'03'"), 1);
	for (i = 1; i <= 10; i++)
		if (i != 3) {
			cr_assert_eq(entry_reason(p, i, &when), 2,
			    "serial %u: cACompromise", i);
			cr_assert_eq(when, 2000000);
		}
	/* a second run finds nothing */
	cr_assert_eq(hk_store_issuer_revoke(s, k1, 20, 2, 2100000, &rv, &vo),
	    0);
	cr_assert_eq(rv, 0);
	cr_assert_eq(vo, 0);
	cr_assert_eq(hk_store_issuer_revoke(s, k2, 0, 2, 1, &rv, &vo),
	    HK_ERR_INVALID);
	hk_store_close(s);
}

Test(records, issuer_revoke_all_or_nothing_over_many_batches)
{
	char p[4096], res[32];
	struct hk_store *s = fresh("records_batches", p, sizeof(p));
	struct hk_store_cert c;
	unsigned char k1[20];
	uint64_t rv = 99, vo = 99, v, pe;
	unsigned i, n = 10000;	/* more than two rounds of 4096 */

	memset(k1, 0x11, 20);
	cr_assert_eq(hk_store_begin(s), 0);
	for (i = 1; i <= n; i++) {
		snprintf(res, sizeof(res), "R%u", i);
		cert(&c, i, res, 0x11, 1000000 + i);
		valid(s, &c);
	}
	cr_assert_eq(hk_store_commit(s), 0);
	/* the last certificate's CRL entry fails: nothing may be revoked */
	cr_assert_eq(raw(p, "CREATE TRIGGER test_fail BEFORE INSERT ON "
	    "crl_entries WHEN NEW.serial = "
	    "x'400027105a5a5a5a5a5a5a5a5a5a5a5a'"
	    " BEGIN SELECT RAISE(ABORT, 'test: injected failure'); END"),
	    SQLITE_OK);
	cr_assert_neq(hk_store_issuer_revoke(s, k1, 20, 2, 5, &rv, &vo), 0);
	cr_assert_eq(rv, 0);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "status = 'valid'"), n, "all still valid");
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM crl_entries"), 0);
	cr_assert_eq(raw(p, "DROP TRIGGER test_fail"), SQLITE_OK);
	cr_assert_eq(hk_store_issuer_count(s, k1, 20, &v, &pe), 0);
	cr_assert_eq(v, n);
	cr_assert_eq(hk_store_issuer_revoke(s, k1, 20, 2, 5, &rv, &vo), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(rv, n);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM crl_entries"), n);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM certificates WHERE "
	    "status = 'revoked' AND reason = 2"), n);
	hk_store_close(s);
}

/* ---- double issuance: CPS 4-2-3 ---- */

Test(records, double_issuance_grouped_oldest_first)
{
	char p[4096];
	struct hk_store *s = fresh("records_double", p, sizeof(p));
	struct hk_store_cert a1, a2, a3, b1, c1;
	struct rows r;

	cert(&a1, 1, "RES-A", 0x11, 2000000);
	cert(&b1, 5, "RES-B", 0x11, 1000000);
	valid(s, &a1);
	valid(s, &b1);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_double_each(s, 0, hist, &r), 0);
	cr_assert_eq(r.n, 0, "none while the index holds");
	/* the store altered outside hanko: the one-live index dropped */
	cr_assert_eq(raw(p, "DROP INDEX certificates_one_live"), SQLITE_OK);
	cert(&a2, 2, "RES-A", 0x11, 1000000);	/* older notBefore */
	cert(&a3, 3, "RES-A", 0x11, 2000000);	/* a tie with a1: rowid */
	cert(&c1, 7, "RES-C", 0x11, 1000000);
	valid(s, &a2);
	valid(s, &a3);
	valid(s, &c1);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_double_each(s, 0, hist, &r), 0, "%s", hk_err_msg());
	cr_assert_str_eq(r.text, "0002:valid:0;0001:valid:0;0003:valid:0;");
	/* CPS 4-2-3 counts valid certificates only: at a2's notAfter + 1 it
	 * has expired, and a1 and a3 remain the double (the test's
	 * certificates: notAfter = notBefore + 3 years) */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_double_each(s, a2.not_after + 1, hist, &r), 0);
	cr_assert_str_eq(r.text, "0001:valid:0;0003:valid:0;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_double_each(s, a1.not_after + 1, hist, &r), 0);
	cr_assert_eq(r.n, 0, "all of RES-A's have expired: %s", r.text);
	/* a revoked one is no double issuance */
	revoke(s, &a3, 5, 3000000);
	revoke(s, &a1, 5, 3000000);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_double_each(s, 0, hist, &r), 0);
	cr_assert_eq(r.n, 0);
	hk_store_close(s);
}

/* ---- the schema comparison ---- */

static int
sdiff(const char *type, const char *name, const char *problem,
    int restored, void *arg)
{
	struct rows *r = arg;
	size_t l = strlen(r->text);

	snprintf(r->text + l, sizeof(r->text) - l, "%s %s %s%s;", type, name,
	    problem, restored ? " restored" : "");
	r->n++;
	return 0;
}

Test(records, schema_check_missing_altered_unexpected)
{
	char p[4096];
	struct hk_store *s = fresh("records_schema", p, sizeof(p));
	struct rows r;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_schema_check(s, 0, sdiff, &r), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(r.n, 0, "a fresh store is its schema: %s", r.text);
	cr_assert_eq(raw(p, "DROP INDEX certificates_one_live; DROP TRIGGER "
	    "certificates_fixed; CREATE TABLE extra (x INTEGER); DROP TRIGGER "
	    "arls_fixed; CREATE TRIGGER arls_fixed BEFORE UPDATE ON arls BEGIN "
	    "SELECT 1; END"), SQLITE_OK);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_schema_check(s, 0, sdiff, &r), 0);
	cr_assert_str_eq(r.text, "trigger arls_fixed altered;"
	    "trigger certificates_fixed missing;"
	    "index certificates_one_live missing;table extra unexpected;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_schema_check(s, 1, sdiff, &r), 0);
	cr_assert_str_eq(r.text, "trigger arls_fixed altered;"
	    "trigger certificates_fixed missing restored;"
	    "index certificates_one_live missing restored;"
	    "table extra unexpected;");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_schema_check(s, 0, sdiff, &r), 0);
	cr_assert_str_eq(r.text, "trigger arls_fixed altered;"
	    "table extra unexpected;");
	/* the restored index and trigger work again */
	{
		struct hk_store_cert a, b;
		cert(&a, 1, "RES-A", 0x11, 1000);
		cert(&b, 2, "RES-A", 0x11, 2000);
		valid(s, &a);
		cr_assert_eq(hk_store_cert_reserve(s, &b), HK_ERR_INVALID,
		    "the one-live index is back");
		cr_assert_neq(raw(p, "UPDATE certificates SET municipality = "
		    "'431028'"), SQLITE_OK, "the fixed trigger is back");
	}
	hk_store_close(s);
}

Test(records, schema_restore_that_cannot_hold_is_not_fatal)
{
	char p[4096];
	struct hk_store *s = fresh("records_schema2", p, sizeof(p));
	struct hk_store_cert a, b;
	struct rows r;

	cr_assert_eq(raw(p, "DROP INDEX certificates_one_live; DROP TRIGGER "
	    "serials_no_update"), SQLITE_OK);
	cert(&a, 1, "RES-A", 0x11, 1000);
	cert(&b, 2, "RES-A", 0x11, 2000);
	valid(s, &a);
	cr_assert_eq(hk_store_cert_reserve(s, &b), 0, "index gone: allowed");
	/* the index cannot be built over a valid and a pending row of one
	 * resident; the trigger is restored all the same, in one
	 * transaction that still commits */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_begin(s), 0);
	cr_assert_eq(hk_store_schema_check(s, 1, sdiff, &r), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(hk_store_commit(s), 0, "%s", hk_err_msg());
	cr_assert_str_eq(r.text, "index certificates_one_live missing;"
	    "trigger serials_no_update missing restored;");
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'serials_no_update'"), 1);
	cr_assert_eq(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'certificates_one_live'"), 0);
	hk_store_close(s);
}

/* ---- pending reservations for check ---- */

static int
pend(const struct hk_store_cert *c, const unsigned char *der, size_t len,
    time_t reserved_at, void *arg)
{
	struct rows *r = arg;

	cr_assert_null(der);
	cr_assert_eq(len, 0);
	cr_assert_eq(c->tbs_len, 3);
	cr_assert_eq(memcmp(c->tbs, "tbs", 3), 0);
	cr_assert(reserved_at > time(NULL) - 600 && reserved_at <= time(NULL),
	    "reserved_at is the system clock's");
	r->n++;
	return 0;
}

Test(records, cert_each_pending_with_reservation_time)
{
	char p[4096];
	struct hk_store *s = fresh("records_each", p, sizeof(p));
	struct hk_store_cert a, b;
	struct rows r;

	cert(&a, 1, "RES-A", 0x11, 1000);
	cert(&b, 2, "RES-B", 0x11, 1000);
	cr_assert_eq(hk_store_cert_reserve(s, &a), 0);
	valid(s, &b);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hk_store_cert_each(s, HK_CERT_PENDING, pend, &r), 0);
	cr_assert_eq(r.n, 1);
	hk_store_close(s);
}

Test(records, revoke_entry_decodes_with_openssl)
{
	unsigned char serial[3] = { 0x01, 0x02, 0x03 }, *der;
	const unsigned char *q;
	size_t len;
	X509_REVOKED *rev;
	ASN1_ENUMERATED *e;

	cr_assert_eq(hk_store_revoke_entry(serial, 3, 2, 1777626000, &der,
	    &len), 0);
	q = der;
	rev = d2i_X509_REVOKED(NULL, &q, (long)len);
	cr_assert_not_null(rev);
	cr_assert_eq(q, der + len, "no trailing bytes");
	cr_assert_eq(ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(rev)),
	    0x010203);
	e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	cr_assert_eq(ASN1_ENUMERATED_get(e), 2);
	ASN1_ENUMERATED_free(e);
	X509_REVOKED_free(rev);
	OPENSSL_free(der);
	cr_assert_eq(hk_store_revoke_entry(serial, 3, 6, 1, &der, &len),
	    HK_ERR_INVALID, "certificateHold never");
	cr_assert_eq(hk_store_revoke_entry(serial, 3, 0, 1, &der, &len),
	    HK_ERR_INVALID, "no unspecified");
}
