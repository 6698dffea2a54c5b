/*
 * store_ocsp.c - the pre-signed OCSP responses of the store (table
 * ocsp_responses, docs/ocsp.md): one response per serial, replaced when the
 * certificate's status changes or the response nears its nextUpdate; and
 * the read-only connection the network workers of serve use.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

static int
serial_ok(struct hk_store *s, const unsigned char *serial, size_t len)
{
	if (serial == NULL || len < 1 || len > HK_STORE_SERIAL_MAX) {
		hk_err_set("%s: ocsp_responses: serial: RFC 5280 4.1.2.2: 1-20 "
		    "octets", s->path);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_store_open_readonly(const char *path, struct hk_store **out)
{
	struct hk_store *s = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r;

	*out = NULL;
	if ((r = hk_store_new(path, 0, &s)) != 0)
		return r;
	/* a worker waits little: a busy store is answered tryLater */
	if ((r = hk_store_open_ro(s, 2000)) != 0)
		goto out;
	if ((r = hk_store_prepare(s, "SELECT value FROM meta WHERE key = "
	    "'schema'", &st)) != 0)
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW ||
	    sqlite3_column_type(st, 0) != SQLITE_TEXT ||
	    atoi((const char *)sqlite3_column_text(st, 0)) !=
	    HK_STORE_SCHEMA) {
		if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
			hk_err_set("%s: meta: schema: not a hanko store of "
			    "schema %d", path, HK_STORE_SCHEMA);
			r = HK_ERR_STATE;
		} else
			r = hk_store_fail(s, rc, "meta: select");
		goto out;
	}
	r = 0;
 out:
	sqlite3_finalize(st);
	if (r != 0) {
		hk_store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int
hk_store_ocsp_put(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int revoked, time_t this_update, time_t next_update,
    const unsigned char *responder, const unsigned char *der,
    size_t der_len)
{
	sqlite3_stmt *st;
	int r;

	if ((r = serial_ok(s, serial, serial_len)) != 0)
		return r;
	if (der == NULL || der_len == 0 || der_len > 64 * 1024) {
		hk_err_set("%s: ocsp_responses: der: 1 byte to 64 KiB",
		    s->path);
		return HK_ERR_INVALID;
	}
	if (responder == NULL) {
		hk_err_set("%s: ocsp_responses: responder: the SHA-256 of the "
		    "responder certificate that signed it", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO ocsp_responses (serial, "
	    "status, this_update, next_update, der, responder) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6) ON CONFLICT (serial) DO UPDATE SET status = "
	    "excluded.status, this_update = excluded.this_update, "
	    "next_update = excluded.next_update, der = excluded.der, "
	    "responder = excluded.responder", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, revoked ? "revoked" : "good", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)this_update);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)next_update);
	sqlite3_bind_blob(st, 5, der, (int)der_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, responder, HK_STORE_RESPONDER_LEN,
	    SQLITE_STATIC);
	return hk_store_run(s, st, "ocsp_responses: insert (the serial must "
	    "be reserved, nextUpdate after thisUpdate)");
}

/* The stored response of a serial (columns 0-4: status, this_update,
 * next_update, der, responder) and, with c, the certificate's status and
 * issuer (columns 5-6) from the same row. */
static int
ocsp_select(struct hk_store *s, const char *sql, const unsigned char *serial,
    size_t serial_len, struct hk_store_ocsp *out, struct hk_store_cert *c)
{
	sqlite3_stmt *st;
	const char *t;
	int r, rc, n;

	memset(out, 0, sizeof(*out));
	if (c != NULL)
		memset(c, 0, sizeof(*c));
	if ((r = serial_ok(s, serial, serial_len)) != 0 ||
	    (r = hk_store_cached(s, sql, &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(st, 0);
		out->revoked = t != NULL && strcmp(t, "revoked") == 0;
		out->this_update = (time_t)sqlite3_column_int64(st, 1);
		out->next_update = (time_t)sqlite3_column_int64(st, 2);
		if (sqlite3_column_bytes(st, 4) == HK_STORE_RESPONDER_LEN) {
			memcpy(out->responder, sqlite3_column_blob(st, 4),
			    HK_STORE_RESPONDER_LEN);
			out->has_responder = 1;
		}
		if (c != NULL) {
			t = (const char *)sqlite3_column_text(st, 5);
			c->status = t != NULL && strcmp(t, "valid") == 0 ?
			    HK_CERT_VALID : t != NULL && strcmp(t, "revoked") ==
			    0 ? HK_CERT_REVOKED : HK_CERT_PENDING;
			n = sqlite3_column_bytes(st, 6);
			if (n > 0 && n <= HK_STORE_KEYID_MAX) {
				memcpy(c->issuer, sqlite3_column_blob(st, 6),
				    (size_t)n);
				c->issuer_len = (size_t)n;
			}
		}
		n = sqlite3_column_bytes(st, 3);
		if (n <= 0 || (out->der = malloc((size_t)n)) == NULL)
			r = n <= 0 ? HK_ERR_STATE : HK_ERR_ALLOC;
		else {
			memcpy(out->der, sqlite3_column_blob(st, 3), (size_t)n);
			out->der_len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: ocsp_responses: no response for this serial",
		    s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "ocsp_responses: select");
	hk_store_cached_done(st);
	return r;
}

int
hk_store_ocsp_get(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_ocsp *out)
{
	return ocsp_select(s, "SELECT status, this_update, next_update, der, "
	    "responder FROM ocsp_responses WHERE serial = ?1", serial,
	    serial_len, out, NULL);
}

void
hk_store_ocsp_clear(struct hk_store_ocsp *o)
{
	free(o->der);
	memset(o, 0, sizeof(*o));
}

int
hk_store_ocsp_due(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, time_t now, time_t refresh_by,
    const unsigned char *responder, time_t responder_since,
    const struct hk_store_serial *after, struct hk_store_serial *serials,
    size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int r, rc, len;

	*n = 0;
	if (max == 0 || max > 100000 || responder == NULL)
		return HK_ERR_INVALID;
	/* the status a response must carry: valid -> good, revoked ->
	 * revoked; expired certificates are answered on demand only. A
	 * response signed by another responder than the current one (its
	 * certificate's SHA-256, recorded with it; NULL in a row stored
	 * before schema 8) up to the current one's notBefore, that second
	 * included, is signed again: compared by identity (a renewal in the
	 * second of the last refresh left a comparison of thisUpdate with
	 * the notBefore alone finding none). One made after it is a newer
	 * responder's (a serve not restarted since a renewal signs with the
	 * older one it loaded): not taken back, or serve and ocsp-refresh
	 * would each sign every response again, each time */
	if ((r = hk_store_prepare(s, "SELECT c.serial FROM certificates c "
	    "LEFT JOIN ocsp_responses o ON o.serial = c.serial "
	    "WHERE c.issuer = ?1 AND c.status IN ('valid', 'revoked') "
	    "AND c.not_after >= ?2 AND (o.serial IS NULL "
	    "OR o.status <> CASE c.status WHEN 'revoked' THEN 'revoked' "
	    "ELSE 'good' END OR o.next_update <= ?3 OR o.responder IS NULL "
	    "OR (o.responder IS NOT ?4 AND o.this_update <= ?7) "
	    "OR o.this_update > ?2) AND (?6 IS NULL OR c.serial > ?6) "
	    "ORDER BY c.serial LIMIT ?5", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, issuer, (int)issuer_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)refresh_by);
	sqlite3_bind_blob(st, 4, responder, HK_STORE_RESPONDER_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)responder_since);
	if (after != NULL)
		sqlite3_bind_blob(st, 6, after->serial, (int)after->len,
		    SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		len = sqlite3_column_bytes(st, 0);
		if (len < 1 || len > HK_STORE_SERIAL_MAX || *n == max) {
			hk_err_set("%s: certificates: a serial is not 1-20 "
			    "octets", s->path);
			r = HK_ERR_STATE;
			break;
		}
		memcpy(serials[*n].serial, sqlite3_column_blob(st, 0),
		    (size_t)len);
		serials[(*n)++].len = (size_t)len;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "ocsp_responses: due");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_ocsp_lookup(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_ocsp *out, struct hk_store_cert *c)
{
	return ocsp_select(s, "SELECT o.status, o.this_update, o.next_update, "
	    "o.der, o.responder, c.status, c.issuer FROM ocsp_responses o "
	    "JOIN certificates c ON c.serial = o.serial WHERE o.serial = ?1",
	    serial, serial_len, out, c);
}
