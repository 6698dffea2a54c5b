/*
 * store_crl.c - what "hanko-online publish" reads from the store: the CRL
 * entries of a partition in revocation order (crl_entries, appended by
 * hk_store_cert_revoke in the revoking transaction) and the pre-signed ARLs
 * (docs/store.md, docs/publish.md). The CRL numbers are store_sqlite.c's
 * hk_store_crl_number_*.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

int
hk_store_crl_seq_max(struct hk_store *s, uint64_t *out)
{
	sqlite3_stmt *st;
	int r, rc;

	*out = 0;
	if ((r = hk_store_prepare(s, "SELECT coalesce(max(seq), 0) FROM "
	    "crl_entries", &st)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);
		*out = v > 0 ? (uint64_t)v : 0;
	} else
		r = hk_store_fail(s, rc, "crl_entries: max(seq)");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_crl_entry_get(struct hk_store *s, uint64_t seq, unsigned char **der,
    size_t *len)
{
	sqlite3_stmt *st;
	int r, rc, n;

	*der = NULL;
	*len = 0;
	if (seq < 1 || seq > (uint64_t)INT64_MAX) {
		hk_err_set("%s: crl_entries: seq out of range", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "SELECT entry FROM crl_entries WHERE "
	    "seq = ?1", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		if (n <= 0 || (*der = malloc((size_t)n)) == NULL)
			r = n <= 0 ? HK_ERR_STATE : HK_ERR_ALLOC;
		else {
			memcpy(*der, sqlite3_column_blob(st, 0), (size_t)n);
			*len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: crl_entries: no row with seq %llu", s->path,
		    (unsigned long long)seq);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "crl_entries: select by seq");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_crl_entries_each(struct hk_store *s, const char *municipality,
    const unsigned char *issuer, size_t issuer_len,
    uint64_t after, uint64_t upto, time_t alive_at,
    int (*fn)(uint64_t seq, const char *partition, time_t not_after,
    const unsigned char *entry, size_t len, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r, rc;

	if (after > (uint64_t)INT64_MAX || upto > (uint64_t)INT64_MAX) {
		hk_err_set("%s: crl_entries: seq out of range", s->path);
		return HK_ERR_INVALID;
	}
	if (issuer_len < 1 || issuer_len > HK_STORE_KEYID_MAX) {
		hk_err_set("%s: issuer: a key identifier of 1-%d octets",
		    s->path, HK_STORE_KEYID_MAX);
		return HK_ERR_INVALID;
	}
	/* one municipality: the index crl_entries_partition (municipality,
	 * seq); all: one pass over the table in rowid (seq) order */
	if ((r = hk_store_prepare(s, municipality != NULL ?
	    "SELECT seq, municipality, not_after, entry FROM crl_entries "
	    "WHERE municipality = ?1 AND seq > ?2 AND seq <= ?3 AND "
	    "not_after >= ?4 AND issuer = ?5 ORDER BY seq" :
	    "SELECT seq, municipality, not_after, entry FROM crl_entries "
	    "WHERE seq > ?2 AND seq <= ?3 AND not_after >= ?4 AND "
	    "issuer = ?5 ORDER BY seq", &st)) != 0)
		return r;
	if (municipality != NULL)
		sqlite3_bind_text(st, 1, municipality, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, issuer, (int)issuer_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)alive_at);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 1);
		const void *e = sqlite3_column_blob(st, 3);
		int n = sqlite3_column_bytes(st, 3);

		if (m == NULL || e == NULL || n <= 0) {
			hk_err_set("%s: crl_entries: seq %lld: an empty entry",
			    s->path, (long long)sqlite3_column_int64(st, 0));
			r = HK_ERR_STATE;
			break;
		}
		if ((r = fn((uint64_t)sqlite3_column_int64(st, 0),
		    (const char *)m, (time_t)sqlite3_column_int64(st, 2), e,
		    (size_t)n, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = hk_store_fail(s, rc, "crl_entries: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_cert_codes_each(struct hk_store *s,
    int (*fn)(const char *code, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r, rc;

	/* one seek per code in the index certificates_partition, not a scan
	 * of the table */
	if ((r = hk_store_prepare(s, "WITH RECURSIVE m(code) AS (SELECT "
	    "min(municipality) FROM certificates UNION ALL SELECT (SELECT "
	    "min(municipality) FROM certificates WHERE municipality > m.code) "
	    "FROM m WHERE m.code IS NOT NULL) SELECT code FROM m WHERE code "
	    "IS NOT NULL", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *c = sqlite3_column_text(st, 0);

		if (c == NULL) {
			r = HK_ERR_STATE;
			break;
		}
		if ((r = fn((const char *)c, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = hk_store_fail(s, rc, "certificates: municipalities");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_cert_live_count(struct hk_store *s, const char *municipality,
    time_t t, uint64_t *n, time_t *last)
{
	sqlite3_stmt *st;
	int r, rc;

	*n = 0;
	*last = 0;
	if ((r = hk_store_prepare(s, "SELECT count(*), coalesce(max(not_after), "
	    "0) FROM certificates WHERE municipality = ?1 AND status IN "
	    "('pending', 'valid', 'revoked') AND not_after >= ?2", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, municipality, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		*last = (time_t)sqlite3_column_int64(st, 1);
	} else
		r = hk_store_fail(s, rc, "certificates: count");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_cert_newest_valid(struct hk_store *s, const char *municipality,
    int (*fn)(const unsigned char *der, size_t len,
    const unsigned char *issuer, size_t issuer_len, time_t not_after,
    void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r, rc;

	/* the index certificates_partition (municipality, status) ends in
	 * the rowid: one seek, no sort */
	if ((r = hk_store_prepare(s, "SELECT der, issuer, not_after FROM "
	    "certificates WHERE municipality = ?1 AND status = 'valid' ORDER "
	    "BY rowid DESC LIMIT 1", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, municipality, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *d = sqlite3_column_blob(st, 0);
		const void *i = sqlite3_column_blob(st, 1);
		int dl = sqlite3_column_bytes(st, 0);
		int il = sqlite3_column_bytes(st, 1);

		if (d == NULL || dl <= 0 || i == NULL || il <= 0) {
			hk_err_set("%s: certificates: %s: a valid certificate "
			    "without its DER or issuer", s->path,
			    municipality);
			r = HK_ERR_STATE;
		} else
			r = fn(d, (size_t)dl, i, (size_t)il,
			    (time_t)sqlite3_column_int64(st, 2), arg);
	} else if (rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "certificates: newest");
	sqlite3_finalize(st);
	return r;
}

/* One row of "SELECT number, this_update, next_update, der" into out. */
static int
arl_row(sqlite3_stmt *st, struct hk_store_arl *out)
{
	int n = sqlite3_column_bytes(st, 3);

	if (n <= 0)
		return HK_ERR_STATE;
	if ((out->der = malloc((size_t)n)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(out->der, sqlite3_column_blob(st, 3), (size_t)n);
	out->len = (size_t)n;
	out->number = (uint64_t)sqlite3_column_int64(st, 0);
	out->this_update = (time_t)sqlite3_column_int64(st, 1);
	out->next_update = (time_t)sqlite3_column_int64(st, 2);
	return 0;
}

int
hk_store_arl_current(struct hk_store *s, time_t t, struct hk_store_arl *out)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((r = hk_store_prepare(s, "SELECT number, this_update, next_update, "
	    "der FROM arls WHERE this_update <= ?1 AND ?1 < next_update "
	    "ORDER BY number DESC LIMIT 1", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)t);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = arl_row(st, out);
	else if (rc == SQLITE_DONE) {
		hk_err_set("%s: arls: CPS 4-4-10: no imported ARL is current",
		    s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "arls: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_arl_get(struct hk_store *s, uint64_t number, struct hk_store_arl *out)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (number < 1 || number > (uint64_t)INT64_MAX) {
		hk_err_set("%s: arls: number out of range", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "SELECT number, this_update, next_update, "
	    "der FROM arls WHERE number = ?1", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)number);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = arl_row(st, out);
	else if (rc == SQLITE_DONE) {
		hk_err_set("%s: arls: no ARL %" PRIu64 " stored", s->path,
		    number);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "arls: select by number");
	sqlite3_finalize(st);
	if (r == HK_ERR_STATE)
		hk_err_set("%s: arls: ARL %" PRIu64 " without its DER", s->path,
		    number);
	if (r != 0 && r != HK_ERR_NOT_FOUND)
		hk_store_arl_clear(out);
	return r;
}

int
hk_store_arl_horizon(struct hk_store *s, uint64_t from, time_t *out)
{
	sqlite3_stmt *st;
	int r, rc;

	*out = 0;
	if (from > (uint64_t)INT64_MAX) {
		hk_err_set("%s: arls: number out of range", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "SELECT coalesce(max(next_update), 0) "
	    "FROM arls WHERE number >= ?1", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = (time_t)sqlite3_column_int64(st, 0);
	else
		r = hk_store_fail(s, rc, "arls: max(next_update)");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_arl_in_effect(struct hk_store *s, time_t t, uint64_t *out)
{
	sqlite3_stmt *st;
	int r, rc;

	*out = 0;
	if ((r = hk_store_prepare(s, "SELECT coalesce(max(number), 0) FROM "
	    "arls WHERE this_update <= ?1", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)t);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);
		*out = v > 0 ? (uint64_t)v : 0;
	} else
		r = hk_store_fail(s, rc, "arls: max(number)");
	sqlite3_finalize(st);
	return r;
}

void
hk_store_arl_clear(struct hk_store_arl *a)
{
	free(a->der);
	memset(a, 0, sizeof(*a));
}
