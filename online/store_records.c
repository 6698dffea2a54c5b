/*
 * store_records.c - the records of the store (CPS 2-8-6, 4-5): provision of
 * revocation information to relying parties, a resident's own history and
 * the sets of certificates revoked together (an issuing key's compromise,
 * CPS 4-4-1-3), and the consistency check of the store (double issuance,
 * CPS 4-2-3; the schema against the one hk_store_open makes).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "clock.h"
#include "crl.h"
#include "err.h"
#include "store.h"
#include "store_int.h"

#define REVOKE_BATCH	4096	/* serials selected per round */
#define SCHEMA_MAX	256	/* schema objects compared */

int
hk_store_provision_add(struct hk_store *s, const char *recipient,
    const char *method, const char *object, time_t at)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_prepare(s, "INSERT INTO provisions (at, recipient, "
	    "method, object) VALUES (?1, ?2, ?3, ?4)", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
	sqlite3_bind_text(st, 2, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, object, -1, SQLITE_STATIC);
	return hk_store_run(s, st, "provisions: insert");
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone, no
 * timegm: the bounds are the same whatever TZ says). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
hk_store_month_bounds(int year, int month, time_t *from, time_t *to)
{
	*from = *to = 0;
	if (year < 1970 || year > 9999 || month < 1 || month > 12) {
		hk_err_set("month %04d-%02d: from 1970-01 to 9999-12", year,
		    month);
		return HK_ERR_INVALID;
	}
	/* CPS 4-5: 年月 of a Japanese prefecture, so the month starts at
	 * 00:00 JST, 15:00Z on the last day of the month before */
	*from = (time_t)(days_from_civil(year, month, 1) * 86400 -
	    HK_JST_OFFSET);
	*to = (time_t)(days_from_civil(month == 12 ? year + 1 : year,
	    month == 12 ? 1 : month + 1, 1) * 86400 - HK_JST_OFFSET);
	return 0;
}

long long
hk_store_jst_day(time_t t)
{
	long long j = (long long)t + HK_JST_OFFSET;

	return j >= 0 ? j / 86400 : -((-j + 86399) / 86400);
}

void
hk_store_jst_format(time_t t, char *buf, size_t len)
{
	char z[32];
	size_t n;

	hk_time_format(t + HK_JST_OFFSET, z, sizeof(z));
	n = strlen(z);
	if (n > 0 && z[n - 1] == 'Z')
		z[n - 1] = '\0';
	snprintf(buf, len, "%s+09:00", z);
}

int
hk_store_provision_month(struct hk_store *s, int year, int month,
    enum hk_provision_group g, int (*fn)(const char *a, const char *b,
    uint64_t count, void *arg), void *arg)
{
	static const char by_recipient[] = "SELECT recipient, method, "
	    "sum(count) FROM provisions WHERE at >= ?1 AND at < ?2 GROUP BY "
	    "recipient, method ORDER BY recipient, method";
	static const char by_object[] = "SELECT object, NULL, sum(count) "
	    "FROM provisions WHERE at >= ?1 AND at < ?2 GROUP BY object "
	    "ORDER BY object";
	sqlite3_stmt *st;
	time_t from, to;
	int r, rc;

	if ((r = hk_store_month_bounds(year, month, &from, &to)) != 0)
		return r;
	if ((r = hk_store_prepare(s, g == HK_PROVISION_BY_OBJECT ? by_object :
	    by_recipient, &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 n = sqlite3_column_int64(st, 2);
		if ((r = fn((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    n > 0 ? (uint64_t)n : 0, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "provisions: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_provision_find(struct hk_store *s, const char *recipient,
    const char *method, const char *object, uint64_t count, time_t from,
    time_t to, int64_t *id, time_t *at, uint64_t *n)
{
	sqlite3_stmt *st;
	int r, rc;

	*id = 0;
	*at = 0;
	*n = 0;
	if (count > (uint64_t)INT64_MAX)
		return HK_ERR_NOT_FOUND;
	if ((r = hk_store_prepare(s, "SELECT min(id), count(*) FROM "
	    "provisions WHERE recipient = ?1 AND method = ?2 AND object = ?3 "
	    "AND count = ?4 AND at >= ?5 AND at < ?6", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, object, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)count);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)to);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = hk_store_fail(s, rc, "provisions: select");
		sqlite3_finalize(st);
		return r;
	}
	*n = (uint64_t)sqlite3_column_int64(st, 1);
	*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (*n == 0)
		return HK_ERR_NOT_FOUND;
	if ((r = hk_store_prepare(s, "SELECT at FROM provisions WHERE id = ?1",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)*id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = hk_store_fail(s, rc, "provisions: select");
		sqlite3_finalize(st);
		return r;
	}
	*at = (time_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/*
 * One certificate row as the queries below select it: serial,
 * municipality, resident_key, status, not_before, not_after, issuer,
 * revoked_at, reason (columns 0-8).
 */
#define CERT_COLUMNS "c.serial, c.municipality, c.resident_key, c.status, " \
	"c.not_before, c.not_after, c.issuer, coalesce(c.revoked_at, 0), " \
	"coalesce(c.reason, 0)"

static int
row_cert(struct hk_store *s, sqlite3_stmt *st, struct hk_store_cert *c)
{
	const char *status = (const char *)sqlite3_column_text(st, 3);
	int n, i;

	memset(c, 0, sizeof(*c));
	n = sqlite3_column_bytes(st, 0);
	if (n < 1 || n > HK_STORE_SERIAL_MAX ||
	    sqlite3_column_bytes(st, 2) != HK_STORE_RKEY_LEN ||
	    sqlite3_column_bytes(st, 6) < 1 ||
	    sqlite3_column_bytes(st, 6) > HK_STORE_KEYID_MAX ||
	    status == NULL) {
		hk_err_set("%s: certificates: a row breaks the schema's column "
		    "rules (serial, resident_key, issuer)", s->path);
		return HK_ERR_STATE;
	}
	memcpy(c->serial, sqlite3_column_blob(st, 0), (size_t)n);
	c->serial_len = (size_t)n;
	snprintf(c->municipality, sizeof(c->municipality), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	memcpy(c->resident_key, sqlite3_column_blob(st, 2), HK_STORE_RKEY_LEN);
	for (i = 0; i <= HK_CERT_VOID; i++)
		if (strcmp(status, hk_cert_status_name(
		    (enum hk_cert_status)i)) == 0)
			break;
	if (i > HK_CERT_VOID) {
		hk_err_set("%s: certificates: status %s: not a status of the "
		    "schema", s->path, status);
		return HK_ERR_STATE;
	}
	c->status = (enum hk_cert_status)i;
	c->not_before = (time_t)sqlite3_column_int64(st, 4);
	c->not_after = (time_t)sqlite3_column_int64(st, 5);
	c->issuer_len = (size_t)sqlite3_column_bytes(st, 6);
	memcpy(c->issuer, sqlite3_column_blob(st, 6), c->issuer_len);
	c->revoked_at = (time_t)sqlite3_column_int64(st, 7);
	c->reason = sqlite3_column_int(st, 8);
	return 0;
}

/* Step st to the end, fn for each certificate row. */
static int
each_row(struct hk_store *s, sqlite3_stmt *st, const char *what,
    int (*fn)(const struct hk_store_cert *c, void *arg), void *arg)
{
	struct hk_store_cert c;
	int r = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = row_cert(s, st, &c)) != 0 || (r = fn(&c, arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, what);
	sqlite3_finalize(st);
	return r;
}

int
hk_store_history(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN],
    int (*fn)(const struct hk_store_cert *c, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_prepare(s, "SELECT " CERT_COLUMNS " FROM "
	    "certificates c WHERE c.resident_key = ?1 ORDER BY c.not_before, "
	    "c.rowid", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, rkey, HK_STORE_RKEY_LEN, SQLITE_STATIC);
	return each_row(s, st, "certificates: history", fn, arg);
}

int
hk_store_double_each(struct hk_store *s, time_t now,
    int (*fn)(const struct hk_store_cert *c, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r;

	/* CPS 4-2-3: valid certificates only, so not past their notAfter
	 * (an expired one beside a current one is no double issuance) */
	if ((r = hk_store_prepare(s, "SELECT " CERT_COLUMNS " FROM "
	    "certificates c WHERE c.status = 'valid' AND c.ended IS NULL AND "
	    "c.not_after >= ?1 AND c.resident_key IN (SELECT resident_key "
	    "FROM certificates WHERE status = 'valid' AND ended IS NULL AND "
	    "not_after >= ?1 GROUP BY resident_key HAVING count(*) > 1) "
	    "ORDER BY c.resident_key, c.not_before, c.rowid", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
	return each_row(s, st, "certificates: double issuance", fn, arg);
}

int
hk_store_cert_each(struct hk_store *s, enum hk_cert_status status,
    int (*fn)(const struct hk_store_cert *c, const unsigned char *der,
    size_t der_len, time_t reserved_at, void *arg), void *arg)
{
	struct hk_store_cert c;
	sqlite3_stmt *st;
	int r = 0, rc;

	if ((r = hk_store_prepare(s, "SELECT " CERT_COLUMNS ", c.tbs, c.der, "
	    "s.reserved_at FROM certificates c JOIN serials s ON s.serial = "
	    "c.serial WHERE c.status = ?1 ORDER BY c.rowid", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, hk_cert_status_name(status), -1,
	    SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_cert(s, st, &c)) != 0)
			break;
		c.tbs = sqlite3_column_blob(st, 9);
		c.tbs_len = (size_t)sqlite3_column_bytes(st, 9);
		if ((r = fn(&c, sqlite3_column_blob(st, 10),
		    (size_t)sqlite3_column_bytes(st, 10),
		    (time_t)sqlite3_column_int64(st, 11), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "certificates: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_key_compromised_each(struct hk_store *s,
    int (*fn)(const unsigned char sha[32], const unsigned char *serial,
    size_t serial_len, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r = 0, rc;

	/* the primary key's order: one B-tree, no sort, no certificate */
	if ((r = hk_store_prepare(s, "SELECT key_sha256, serial FROM "
	    "compromised_keys ORDER BY key_sha256", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32) {
			hk_err_set("%s: compromised_keys: a key that is not a "
			    "SHA-256", s->path);
			r = HK_ERR_STATE;
			break;
		}
		if ((r = fn(sqlite3_column_blob(st, 0),
		    sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "compromised_keys: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_key_compromised_find(struct hk_store *s, const unsigned char sha[32],
    unsigned char serial[HK_STORE_SERIAL_MAX], size_t *serial_len)
{
	sqlite3_stmt *st;
	int r, rc, n;

	*serial_len = 0;
	if ((r = hk_store_cached(s, "SELECT serial FROM compromised_keys WHERE "
	    "key_sha256 = ?1", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		r = HK_ERR_NOT_FOUND;
	else if (rc != SQLITE_ROW)
		r = hk_store_fail(s, rc, "compromised_keys: select");
	else if ((n = sqlite3_column_bytes(st, 0)) < 1 ||
	    n > HK_STORE_SERIAL_MAX) {
		hk_err_set("%s: compromised_keys: a serial of 1-%d octets",
		    s->path, HK_STORE_SERIAL_MAX);
		r = HK_ERR_STATE;
	} else {
		memcpy(serial, sqlite3_column_blob(st, 0), (size_t)n);
		*serial_len = (size_t)n;
	}
	hk_store_cached_done(st);
	return r;
}

int
hk_store_key_sha(const unsigned char *der, size_t der_len,
    unsigned char sha[32])
{
	const unsigned char *p = der, *pk;
	X509 *x;
	int pklen, r = HK_ERR_STATE;

	if (der == NULL || der_len == 0 || der_len > LONG_MAX ||
	    (x = d2i_X509(NULL, &p, (long)der_len)) == NULL) {
		ERR_clear_error();
		return HK_ERR_STATE;
	}
	/* as hk_issue_key_sha hashes the key of a certificate to issue */
	if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)) == 1 && pklen > 0) {
		SHA256(pk, (size_t)pklen, sha);
		r = 0;
	}
	X509_free(x);
	ERR_clear_error();
	return r;
}

int
hk_store_key_compromised_add(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int *recorded)
{
	sqlite3_stmt *st;
	unsigned char sha[32];
	int r, rc;

	*recorded = 0;
	if ((r = hk_store_cached(s, "SELECT der FROM certificates WHERE "
	    "serial = ?1 AND status = 'revoked' AND reason = 1", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		hk_store_cached_done(st);
		if (rc == SQLITE_DONE) {
			hk_err_set("%s: compromised_keys: the certificate is "
			    "not revoked keyCompromise", s->path);
			return HK_ERR_INTERNAL;
		}
		return hk_store_fail(s, rc, "certificates: select der");
	}
	r = hk_store_key_sha(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), sha);
	hk_store_cached_done(st);
	if (r != 0)
		/* a damaged row: the revocation stands (the CRL lists it);
		 * check names a keyCompromise revocation whose key is not
		 * recorded */
		return 0;
	/* a key revoked twice (two certificates of one key): one row, the
	 * first revocation's */
	if ((r = hk_store_cached(s, "INSERT INTO compromised_keys (key_sha256, "
	    "serial) VALUES (?1, ?2) ON CONFLICT (key_sha256) DO NOTHING",
	    &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, serial, (int)serial_len, SQLITE_STATIC);
	if ((r = hk_store_cached_run(s, st, "compromised_keys: insert")) != 0)
		return r;
	*recorded = 1;
	return 0;
}

int
hk_store_key_compromised_fill(struct hk_store *s, uint64_t *keys,
    uint64_t *unread)
{
	sqlite3_stmt *st;
	int r = 0, rc, rec;

	*keys = *unread = 0;
	/* once, at the upgrade: the revocations already there, in the order
	 * they were made (the first of a key twice revoked names it) */
	if ((r = hk_store_prepare(s, "SELECT serial FROM certificates WHERE "
	    "status = 'revoked' AND reason = 1 ORDER BY revoked_at, rowid",
	    &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = hk_store_key_compromised_add(s,
		    sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0), &rec)) != 0)
			break;
		if (rec)
			(*keys)++;
		else
			(*unread)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "certificates: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_key_compromised_check(struct hk_store *s,
    int (*fn)(enum hk_store_kc_problem p, const unsigned char *serial,
    size_t serial_len, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL, *q = NULL;
	unsigned char sha[32];
	int r = 0, rc, qc;

	/* each keyCompromise revocation: its key recorded (the revoked rows
	 * through the (issuer, status) index) */
	if ((r = hk_store_prepare(s, "SELECT serial, der FROM certificates "
	    "WHERE issuer IN (SELECT DISTINCT issuer FROM certificates) AND "
	    "status = 'revoked' AND reason = 1", &st)) != 0 ||
	    (r = hk_store_prepare(s, "SELECT 1 FROM compromised_keys WHERE "
	    "key_sha256 = ?1", &q)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *sn = sqlite3_column_blob(st, 0);
		size_t sl = (size_t)sqlite3_column_bytes(st, 0);

		if (hk_store_key_sha(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1), sha) != 0) {
			if ((r = fn(HK_KC_UNDECODABLE, sn, sl, arg)) != 0)
				goto out;
			continue;
		}
		sqlite3_reset(q);
		sqlite3_bind_blob(q, 1, sha, 32, SQLITE_STATIC);
		if ((qc = sqlite3_step(q)) == SQLITE_DONE) {
			if ((r = fn(HK_KC_MISSING, sn, sl, arg)) != 0)
				goto out;
		} else if (qc != SQLITE_ROW) {
			r = hk_store_fail(s, qc, "compromised_keys: select");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = hk_store_fail(s, rc, "certificates: select");
		goto out;
	}
	sqlite3_finalize(st);
	/* each row: a certificate revoked keyCompromise, of that key */
	if ((r = hk_store_prepare(s, "SELECT k.key_sha256, k.serial, "
	    "c.status = 'revoked' AND c.reason = 1, c.der FROM "
	    "compromised_keys k LEFT JOIN certificates c ON c.serial = "
	    "k.serial", &st)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 2) != 1 ||
		    sqlite3_column_bytes(st, 0) != 32 ||
		    hk_store_key_sha(sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3), sha) != 0 ||
		    memcmp(sha, sqlite3_column_blob(st, 0), 32) != 0)
			if ((r = fn(HK_KC_STRAY, sqlite3_column_blob(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1), arg)) != 0)
				goto out;
	}
	if (rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "compromised_keys: select");
 out:
	sqlite3_finalize(st);
	sqlite3_finalize(q);
	return r;
}

int
hk_store_revoke_entry(const unsigned char *serial, size_t serial_len,
    int reason, time_t t, unsigned char **der, size_t *der_len)
{
	struct hk_crl_entry e;
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int r;

	*der = NULL;
	*der_len = 0;
	if (reason < HK_REASON_KEY_COMPROMISE || reason > HK_REASON_CESSATION) {
		hk_err_set("CRL entry: reason %d: CPS 4-4-4-2 reasons 1-5 only",
		    reason);
		return HK_ERR_INVALID;
	}
	if ((bn = BN_bin2bn(serial, (int)serial_len, NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	e.serial = ai;
	e.revoked = t;
	e.reason = (enum hk_crl_reason)reason;
	r = hk_crl_entry_der(&e, der, der_len);
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* One integer from st (bound by the caller), then finalize. */
static int
count_of(struct hk_store *s, sqlite3_stmt *st, uint64_t *out)
{
	int rc = sqlite3_step(st), r = 0;

	*out = 0;
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_ROW)
		r = hk_store_fail(s, rc, "certificates: count");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_status_count(struct hk_store *s, enum hk_cert_status st,
    uint64_t *n)
{
	sqlite3_stmt *q;
	int r;

	*n = 0;
	if ((r = hk_store_prepare(s, "SELECT count(*) FROM certificates WHERE "
	    "status = ?1", &q)) != 0)
		return r;
	sqlite3_bind_text(q, 1, hk_cert_status_name(st), -1, SQLITE_STATIC);
	return count_of(s, q, n);
}

int
hk_store_issuer_count(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, uint64_t *valid, uint64_t *pending)
{
	sqlite3_stmt *st;
	int r;

	*valid = *pending = 0;
	if ((r = hk_store_prepare(s, "SELECT count(*) FROM certificates WHERE "
	    "issuer = ?1 AND status = 'valid'", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	if ((r = count_of(s, st, valid)) != 0 ||
	    (r = hk_store_prepare(s, "SELECT count(*) FROM certificates "
	    "WHERE issuer = ?1 AND status = 'pending'", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	return count_of(s, st, pending);
}

/* Statements of one revocation round. */
struct revoke_round {
	sqlite3_stmt *sel;		/* the key's next valid serials */
	sqlite3_stmt *upd;		/* valid -> revoked */
	sqlite3_stmt *ins;		/* its CRL entry */
	unsigned char (*serial)[HK_STORE_SERIAL_MAX]; /* this round's */
	size_t *len;
};

/* Revoke one serial and append its entry with the round's statements. */
static int
revoke_one(struct hk_store *s, struct revoke_round *w,
    const unsigned char *serial, size_t len, int reason, time_t t)
{
	unsigned char *der = NULL;
	size_t dl = 0;
	int r, rc;

	if ((r = hk_store_revoke_entry(serial, len, reason, t, &der,
	    &dl)) != 0)
		return r;
	sqlite3_reset(w->upd);
	sqlite3_bind_blob(w->upd, 1, serial, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(w->upd, 2, (sqlite3_int64)t);
	sqlite3_bind_int(w->upd, 3, reason);
	if ((rc = sqlite3_step(w->upd)) != SQLITE_DONE) {
		r = hk_store_fail(s, rc, "certificates: revoke");
		goto out;
	}
	if (sqlite3_changes(s->db) != 1) {
		hk_err_set("%s: certificates: revoke: a certificate of the set "
		    "is no longer valid", s->path);
		r = HK_ERR_STATE;
		goto out;
	}
	sqlite3_reset(w->ins);
	sqlite3_bind_blob(w->ins, 1, serial, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(w->ins, 2, der, (int)dl, SQLITE_STATIC);
	if ((rc = sqlite3_step(w->ins)) != SQLITE_DONE)
		r = hk_store_fail(s, rc, "crl_entries: insert");
	else if (reason == HK_REASON_KEY_COMPROMISE) {
		int rec;

		/* schema 9: its key in the same transaction */
		r = hk_store_key_compromised_add(s, serial, len, &rec);
	}
 out:
	OPENSSL_free(der);
	return r;
}

int
hk_store_issuer_revoke(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, int reason, time_t t, uint64_t *revoked,
    uint64_t *voided)
{
	struct revoke_round w;
	sqlite3_stmt *vd = NULL;
	size_t n, i;
	int r, rc = SQLITE_DONE, own = !s->in_tx;

	*revoked = *voided = 0;
	memset(&w, 0, sizeof(w));
	if (issuer_len < 1 || issuer_len > HK_STORE_KEYID_MAX) {
		hk_err_set("%s: issuer: a key identifier of 1-%d octets",
		    s->path, HK_STORE_KEYID_MAX);
		return HK_ERR_INVALID;
	}
	if ((w.serial = calloc(REVOKE_BATCH, sizeof(*w.serial))) == NULL ||
	    (w.len = calloc(REVOKE_BATCH, sizeof(*w.len))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	if (own && (r = hk_store_begin(s)) != 0)
		goto out;
	if ((r = hk_store_prepare(s, "SELECT serial FROM certificates WHERE "
	    "issuer = ?1 AND status = 'valid' LIMIT ?2", &w.sel)) != 0 ||
	    (r = hk_store_prepare(s, "UPDATE certificates SET status = "
	    "'revoked', ended = 1, revoked_at = ?2, reason = ?3 WHERE "
	    "serial = ?1 AND status = 'valid'", &w.upd)) != 0 ||
	    (r = hk_store_prepare(s, "INSERT INTO crl_entries (serial, "
	    "municipality, issuer, not_after, entry) SELECT serial, "
	    "municipality, issuer, not_after, ?2 FROM certificates WHERE "
	    "serial = ?1", &w.ins)) != 0)
		goto out;
	sqlite3_bind_blob(w.sel, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	sqlite3_bind_int(w.sel, 2, REVOKE_BATCH);
	/* rounds of REVOKE_BATCH: the select is finished before its rows
	 * change, memory stays bounded, and the one transaction makes the
	 * whole set all or nothing */
	for (;;) {
		n = 0;
		while (n < REVOKE_BATCH && (rc = sqlite3_step(w.sel)) ==
		    SQLITE_ROW) {
			int l = sqlite3_column_bytes(w.sel, 0);
			if (l < 1 || l > HK_STORE_SERIAL_MAX) {
				r = HK_ERR_STATE;
				goto out;
			}
			memcpy(w.serial[n], sqlite3_column_blob(w.sel, 0),
			    (size_t)l);
			w.len[n++] = (size_t)l;
		}
		if (n < REVOKE_BATCH && rc != SQLITE_DONE) {
			r = hk_store_fail(s, rc, "certificates: select");
			goto out;
		}
		sqlite3_reset(w.sel);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			if ((r = revoke_one(s, &w, w.serial[i], w.len[i],
			    reason, t)) != 0)
				goto out;
		*revoked += n;
	}
	if ((r = hk_store_prepare(s, "UPDATE certificates SET status = 'void', "
	    "ended = 1 WHERE issuer = ?1 AND status = 'pending'", &vd)) != 0)
		goto out;
	sqlite3_bind_blob(vd, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	if ((rc = sqlite3_step(vd)) != SQLITE_DONE) {
		r = hk_store_fail(s, rc, "certificates: void");
		goto out;
	}
	*voided = (uint64_t)sqlite3_changes(s->db);
	if (own)
		r = hk_store_commit(s);
 out:
	sqlite3_finalize(vd);
	sqlite3_finalize(w.sel);
	sqlite3_finalize(w.upd);
	sqlite3_finalize(w.ins);
	free(w.serial);
	free(w.len);
	if (r != 0) {
		if (own)
			hk_store_rollback(s);
		*revoked = *voided = 0;
	}
	return r;
}

/* One object of a schema. */
struct schema_obj {
	char *type, *name, *sql;	/* sql NULL for automatic indexes */
};

struct schema {
	struct schema_obj o[SCHEMA_MAX];
	size_t n;
};

static void
schema_free(struct schema *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		free(sc->o[i].type);
		free(sc->o[i].name);
		free(sc->o[i].sql);
	}
	sc->n = 0;
}

static int
schema_load(struct hk_store *s, struct schema *sc)
{
	sqlite3_stmt *st;
	int r, rc;

	sc->n = 0;
	if ((r = hk_store_prepare(s, "SELECT type, name, sql FROM "
	    "sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	    "ORDER BY name",
	    &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct schema_obj *o = &sc->o[sc->n];
		const char *sql = (const char *)sqlite3_column_text(st, 2);
		if (sc->n == SCHEMA_MAX) {
			hk_err_set("%s: sqlite_master: more than %d objects",
			    s->path, SCHEMA_MAX);
			r = HK_ERR_STATE;
			break;
		}
		o->type = strdup((const char *)sqlite3_column_text(st, 0));
		o->name = strdup((const char *)sqlite3_column_text(st, 1));
		o->sql = sql != NULL ? strdup(sql) : NULL;
		sc->n++;
		if (o->type == NULL || o->name == NULL ||
		    (sql != NULL && o->sql == NULL)) {
			r = HK_ERR_ALLOC;
			break;
		}
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "sqlite_master: select");
	sqlite3_finalize(st);
	return r;
}

static const struct schema_obj *
schema_find(const struct schema *sc, const struct schema_obj *o)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		if (strcmp(sc->o[i].type, o->type) == 0 &&
		    strcmp(sc->o[i].name, o->name) == 0)
			return &sc->o[i];
	return NULL;
}

int
hk_store_pages_check(struct hk_store *s,
    int (*fn)(const char *problem, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	const char *t;
	int r, rc;

	if ((r = hk_store_prepare(s, "PRAGMA integrity_check(100)", &st)) !=
	    0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *e;

		t = (const char *)sqlite3_column_text(st, 0);
		if (t != NULL && strcmp(t, "ok") == 0)
			continue;
		/* a page that could not be read ("unable to get the page.
		 * error code=N", N an I/O error): the medium failed, not the
		 * store's bytes; not a finding of damage ("restore the store
		 * from its backup") */
		if (t != NULL && (e = strstr(t, "error code=")) != NULL &&
		    (atoi(e + 11) & 0xff) == SQLITE_IOERR) {
			const char *l = e;

			while (l > t && l[-1] != '\n')	/* its line only */
				l--;
			hk_err_set("%s: integrity_check: %.*s: a read of the "
			    "store failed (disk I/O error): the medium, not "
			    "the store's bytes", s->path,
			    (int)strcspn(l, "\n"), l);
			r = HK_ERR_IO;
			goto out;
		}
		if ((r = fn(t != NULL ? t : "(no text)", arg)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : hk_store_fail(s, rc, "integrity_check");
 out:
	sqlite3_finalize(st);
	return r;
}

int
hk_store_schema_check(struct hk_store *s, int restore,
    int (*fn)(const char *type, const char *name, const char *problem,
    int restored, void *arg), void *arg)
{
	struct schema *want = NULL, *have = NULL;
	struct hk_store *ref = NULL;
	const struct schema_obj *o, *h;
	size_t i;
	int r, fixed;

	if ((want = calloc(1, sizeof(*want))) == NULL ||
	    (have = calloc(1, sizeof(*have))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	/* the reference: the schema hk_store_open makes, in memory; for a
	 * backup's copy of an older version, that version's */
	if ((r = hk_store_reference(s->schema != 0 ? s->schema :
	    HK_STORE_SCHEMA, &ref)) != 0 ||
	    (r = schema_load(ref, want)) != 0 ||
	    (r = schema_load(s, have)) != 0)
		goto out;
	for (i = 0; i < want->n; i++) {
		o = &want->o[i];
		if ((h = schema_find(have, o)) != NULL) {
			if ((o->sql == NULL) != (h->sql == NULL) ||
			    (o->sql != NULL && strcmp(o->sql, h->sql) != 0))
				if ((r = fn(o->type, o->name, "altered", 0,
				    arg)) != 0)
					goto out;
			continue;
		}
		fixed = 0;
		/* a failure (the one-live index over rows that break it) is
		 * only "not restored": SQLite undoes that statement alone */
		if (restore && o->sql != NULL && (strcmp(o->type, "index") ==
		    0 || strcmp(o->type, "trigger") == 0))
			fixed = hk_store_exec(s, o->sql, o->name) == 0;
		if ((r = fn(o->type, o->name, "missing", fixed, arg)) != 0)
			goto out;
	}
	for (i = 0; i < have->n; i++)
		if (schema_find(want, &have->o[i]) == NULL &&
		    (r = fn(have->o[i].type, have->o[i].name, "unexpected", 0,
		    arg)) != 0)
			goto out;
	r = 0;
 out:
	hk_store_close(ref);
	if (want != NULL)
		schema_free(want);
	if (have != NULL)
		schema_free(have);
	free(want);
	free(have);
	return r;
}
