/*
 * store_batch.c - the batch journal of hanko-online issue (docs/requests.md
 * "Resume", docs/store.md "Crash safety: issuance protocol"): batches by
 * content hash, one result per request line, a line's reservation (with
 * the revocation of the certificate it replaces) all or nothing, and the
 * queries of recovery (pending certificates, what a re-issue revoked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

/* Hot-path statements (hk_store_cached: looked up by address). */
static const char sql_refuse[] = "INSERT INTO batch_results (batch, line, "
    "reason) VALUES (?1, ?2, ?3)";
static const char sql_result[] = "INSERT INTO batch_results (batch, line, "
    "serial) VALUES (?1, ?2, ?3)";
static const char sql_live[] = "SELECT serial, status, der, not_after FROM "
    "certificates WHERE resident_key = ?1 AND live = 1";
static const char sql_expire[] = "UPDATE certificates SET ended = 1 WHERE "
    "serial = ?1 AND status = 'valid' AND ended IS NULL AND not_after < ?2";
static const char sql_savepoint[] = "SAVEPOINT hk_line";
static const char sql_release[] = "RELEASE hk_line";
static const char sql_undo[] = "ROLLBACK TO hk_line";

static int
hex64_ok(struct hk_store *s, const char *hex)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f')))
			break;
	if (i == 64 && hex[64] == '\0')
		return 1;
	hk_err_set("%s: batches: sha256: 64 lowercase hex digits", s->path);
	return 0;
}

int
hk_store_batch_find(struct hk_store *s, const char *sha256_hex,
    struct hk_store_batch *out)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (!hex64_ok(s, sha256_hex))
		return HK_ERR_INVALID;
	if ((r = hk_store_prepare(s, "SELECT id, name, started_at, "
	    "coalesce(finished_at, 0) FROM batches WHERE sha256 = ?1",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, sha256_hex, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = (int64_t)sqlite3_column_int64(st, 0);
		snprintf(out->sha256, sizeof(out->sha256), "%s", sha256_hex);
		snprintf(out->name, sizeof(out->name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		out->started_at = (time_t)sqlite3_column_int64(st, 2);
		out->finished_at = (time_t)sqlite3_column_int64(st, 3);
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: batches: no batch with this content", s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "batches: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_batch_add(struct hk_store *s, const char *sha256_hex,
    const char *name, time_t started_at, int64_t *id)
{
	sqlite3_stmt *st;
	int r;

	*id = 0;
	if (!hex64_ok(s, sha256_hex))
		return HK_ERR_INVALID;
	if ((r = hk_store_prepare(s, "INSERT INTO batches (sha256, name, "
	    "started_at) VALUES (?1, ?2, ?3)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, sha256_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)started_at);
	if ((r = hk_store_run(s, st, "batches: insert")) != 0) {
		if (sqlite3_extended_errcode(s->db) ==
		    SQLITE_CONSTRAINT_UNIQUE) {
			hk_err_set("%s: batches: a batch with this content is "
			    "recorded already", s->path);
			r = HK_ERR_EXISTS;
		}
		return r;
	}
	*id = (int64_t)sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
hk_store_batch_finish(struct hk_store *s, int64_t id, time_t t)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_prepare(s, "UPDATE batches SET finished_at = ?2 "
	    "WHERE id = ?1 AND finished_at IS NULL", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
	return hk_store_run(s, st, "batches: finish");
}

int
hk_store_batch_refuse(struct hk_store *s, int64_t batch, uint64_t line,
    const char *reason)
{
	sqlite3_stmt *st;
	int r;

	if (reason == NULL || *reason == '\0') {
		hk_err_set("%s: batch_results: a refusal needs its reason",
		    s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_cached(s, sql_refuse, &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	return hk_store_cached_run(s, st, "batch_results: insert (one result "
	    "per line)");
}

/* A cached statement without rows or parameters. */
static int
cached_exec(struct hk_store *s, const char *sql, const char *what)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_cached(s, sql, &st)) != 0)
		return r;
	return hk_store_cached_run(s, st, what);
}

/* The savepoint's end: release, or undo and release (keeping the error). */
static int
savepoint_end(struct hk_store *s, int r)
{
	struct hk_err_kept keep;

	if (r == 0)
		return cached_exec(s, sql_release, "release");
	hk_err_keep(&keep);
	(void)cached_exec(s, sql_undo, "rollback to");
	(void)cached_exec(s, sql_release, "release");
	hk_err_restore(&keep);
	return r;
}

/* A valid certificate past its notAfter stops being its resident's live
 * one (ended; its status stays valid: never revoked). */
static int
cert_expire(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, time_t now)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_cached(s, sql_expire, &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	if ((r = hk_store_cached_run(s, st, "certificates: end an expired "
	    "certificate")) != 0)
		return r;
	if (sqlite3_changes(s->db) != 1) {
		hk_err_set("%s: certificates: CPS 4-2-3: only a live, valid "
		    "certificate past its notAfter stops being live", s->path);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_store_batch_reserve(struct hk_store *s, int64_t batch, uint64_t line,
    const struct hk_store_cert *c, const struct hk_store_replace *old)
{
	sqlite3_stmt *st;
	int r, own = !s->in_tx;

	if (own && (r = hk_store_begin(s)) != 0)
		return r;
	if ((r = cached_exec(s, sql_savepoint, "savepoint")) != 0)
		goto out;
	if (old != NULL && old->reason == 0 && (r = cert_expire(s,
	    old->serial, old->serial_len, old->at)) != 0)
		goto end;
	if (old != NULL && old->reason != 0 && (r = hk_store_cert_revoke(s,
	    old->serial, old->serial_len, old->reason, old->at, old->entry,
	    old->entry_len)) != 0)
		goto end;
	if ((r = hk_store_cert_reserve(s, c)) != 0)
		goto end;
	if ((r = hk_store_cached(s, sql_result, &st)) != 0)
		goto end;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
	sqlite3_bind_blob(st, 3, c->serial, (int)c->serial_len, SQLITE_STATIC);
	r = hk_store_cached_run(s, st, "batch_results: insert (one result per "
	    "line)");
 end:
	r = savepoint_end(s, r);
 out:
	return hk_store_own_end(s, own, r);
}

static int
status_of(const char *t, enum hk_cert_status *out)
{
	static const enum hk_cert_status all[] = { HK_CERT_PENDING,
	    HK_CERT_VALID, HK_CERT_REVOKED, HK_CERT_VOID };
	size_t i;

	for (i = 0; t != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(t, hk_cert_status_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return HK_ERR_STATE;
}

int
hk_store_batch_each(struct hk_store *s, int64_t batch,
    int (*fn)(const struct hk_store_batch_result *r, void *arg), void *arg)
{
	struct hk_store_batch_result res;
	sqlite3_stmt *st;
	int r, rc;

	if ((r = hk_store_prepare(s, "SELECT r.line, r.serial, r.reason, "
	    "c.status, c.der, coalesce(c.not_after, 0), "
	    "coalesce(c.revoked_at, 0), coalesce(c.reason, 0), c.issuer FROM "
	    "batch_results r LEFT JOIN certificates c "
	    "ON c.serial = r.serial WHERE r.batch = ?1 ORDER BY r.line",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&res, 0, sizeof(res));
		res.line = (uint64_t)sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) == SQLITE_BLOB) {
			res.serial = sqlite3_column_blob(st, 1);
			res.serial_len = (size_t)sqlite3_column_bytes(st, 1);
			/* a serial whose certificate row is missing: void */
			res.status = HK_CERT_VOID;
			if (sqlite3_column_type(st, 3) == SQLITE_TEXT &&
			    status_of((const char *)sqlite3_column_text(st,
			    3), &res.status) != 0) {
				hk_err_set("%s: certificates: unknown status",
				    s->path);
				r = HK_ERR_STATE;
				break;
			}
			if (sqlite3_column_type(st, 4) == SQLITE_BLOB) {
				res.der = sqlite3_column_blob(st, 4);
				res.der_len = (size_t)sqlite3_column_bytes(st,
				    4);
			}
			res.not_after = (time_t)sqlite3_column_int64(st, 5);
			res.revoked_at = (time_t)sqlite3_column_int64(st, 6);
			res.revoke_reason = sqlite3_column_int(st, 7);
			if (sqlite3_column_type(st, 8) == SQLITE_BLOB) {
				res.issuer = sqlite3_column_blob(st, 8);
				res.issuer_len = (size_t)sqlite3_column_bytes(
				    st, 8);
			}
		} else
			res.reason = (const char *)sqlite3_column_text(st, 2);
		if ((r = fn(&res, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "batch_results: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_batch_live(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN], unsigned char *serial,
    size_t *serial_len, enum hk_cert_status *status, time_t *not_after,
    unsigned char **der, size_t *der_len)
{
	sqlite3_stmt *st;
	int r, rc, n;

	*serial_len = 0;
	*not_after = 0;
	*der = NULL;
	*der_len = 0;
	if ((r = hk_store_cached(s, sql_live, &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, rkey, HK_STORE_RKEY_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		if (n < 1 || n > HK_STORE_SERIAL_MAX || status_of((const char *)
		    sqlite3_column_text(st, 1), status) != 0) {
			hk_err_set("%s: certificates: a live row is malformed",
			    s->path);
			r = HK_ERR_STATE;
			goto out;
		}
		memcpy(serial, sqlite3_column_blob(st, 0), (size_t)n);
		*serial_len = (size_t)n;
		*not_after = (time_t)sqlite3_column_int64(st, 3);
		if (*status == HK_CERT_VALID &&
		    (n = sqlite3_column_bytes(st, 2)) > 0) {
			if ((*der = malloc((size_t)n)) == NULL) {
				r = HK_ERR_ALLOC;
				goto out;
			}
			memcpy(*der, sqlite3_column_blob(st, 2), (size_t)n);
			*der_len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: certificates: the resident has no live "
		    "certificate", s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "certificates: select");
 out:
	hk_store_cached_done(st);
	return r;
}

int
hk_store_pending_each(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, int (*fn)(const struct hk_store_cert *c, void *arg),
    void *arg)
{
	struct hk_store_cert c;
	sqlite3_stmt *st;
	int r, rc, n;

	if ((r = hk_store_prepare(s, "SELECT serial, municipality, "
	    "resident_key, not_before, not_after, issuer, tbs FROM "
	    "certificates WHERE issuer = ?1 AND status = 'pending' ORDER BY "
	    "rowid", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.status = HK_CERT_PENDING;
		n = sqlite3_column_bytes(st, 0);
		if (n < 1 || n > HK_STORE_SERIAL_MAX ||
		    sqlite3_column_bytes(st, 2) != HK_STORE_RKEY_LEN ||
		    sqlite3_column_bytes(st, 5) < 1 ||
		    sqlite3_column_bytes(st, 5) > HK_STORE_KEYID_MAX) {
			hk_err_set("%s: certificates: a pending row is "
			    "malformed", s->path);
			r = HK_ERR_STATE;
			break;
		}
		memcpy(c.serial, sqlite3_column_blob(st, 0), (size_t)n);
		c.serial_len = (size_t)n;
		snprintf(c.municipality, sizeof(c.municipality), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		memcpy(c.resident_key, sqlite3_column_blob(st, 2),
		    HK_STORE_RKEY_LEN);
		c.not_before = (time_t)sqlite3_column_int64(st, 3);
		c.not_after = (time_t)sqlite3_column_int64(st, 4);
		c.issuer_len = (size_t)sqlite3_column_bytes(st, 5);
		memcpy(c.issuer, sqlite3_column_blob(st, 5), c.issuer_len);
		c.tbs = sqlite3_column_blob(st, 6);
		c.tbs_len = (size_t)sqlite3_column_bytes(st, 6);
		if ((r = fn(&c, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "certificates: select pending");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_replaced_each(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int (*fn)(const unsigned char *serial, size_t len,
    int reason, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_prepare(s, "SELECT o.serial, o.reason FROM "
	    "certificates n JOIN certificates o ON o.resident_key = "
	    "n.resident_key WHERE n.serial = ?1 AND o.status = 'revoked' AND "
	    "o.reason IN (3, 4) AND o.revoked_at >= n.not_before ORDER BY "
	    "o.rowid", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	return hk_store_each_blob_int(s, st, fn, arg,
	    "certificates: select replaced");
}

int
hk_store_cert_der(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, unsigned char **der, size_t *der_len,
    unsigned char **tbs, size_t *tbs_len)
{
	sqlite3_stmt *st;
	int r, rc, n;

	*der = *tbs = NULL;
	*der_len = *tbs_len = 0;
	if ((r = hk_store_prepare(s, "SELECT der, tbs FROM certificates "
	    "WHERE serial = ?1", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((n = sqlite3_column_bytes(st, 0)) > 0) {
			if ((*der = malloc((size_t)n)) == NULL) {
				r = HK_ERR_ALLOC;
				goto out;
			}
			memcpy(*der, sqlite3_column_blob(st, 0), (size_t)n);
			*der_len = (size_t)n;
		}
		if ((n = sqlite3_column_bytes(st, 1)) > 0) {
			if ((*tbs = malloc((size_t)n)) == NULL) {
				r = HK_ERR_ALLOC;
				goto out;
			}
			memcpy(*tbs, sqlite3_column_blob(st, 1), (size_t)n);
			*tbs_len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: certificates: no such serial", s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "certificates: select");
 out:
	sqlite3_finalize(st);
	if (r != 0) {
		free(*der);
		free(*tbs);
		*der = *tbs = NULL;
		*der_len = *tbs_len = 0;
	}
	return r;
}
