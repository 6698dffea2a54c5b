/*
 * store_serve.c - what "hanko-online serve" and "rp" keep in the store:
 * the registered relying parties (CPS 2-6-3, 4-4-4-3, 4-4-4-5;
 * docs/relying-parties.md) and the provision counts the key holder writes
 * in batches (CPS 4-5). The worker's read-only connection is
 * hk_store_open_readonly (store_ocsp.c).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

int
hk_store_rp_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 1 || n > HK_STORE_RP_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    (i > 0 && (name[i] == '.' || name[i] == '_' ||
		    name[i] == '-'))))
			return 0;
	return 1;
}

int
hk_store_rp_add(struct hk_store *s, const char *name, const char *kind,
    const unsigned char credential[HK_STORE_RP_CRED_LEN], time_t at)
{
	sqlite3_stmt *st;
	int r;

	if (!hk_store_rp_name_ok(name)) {
		hk_err_set("%s: relying_parties: name %.80s: 1 to %d of "
		    "[A-Za-z0-9._-], starting with a letter or digit", s->path,
		    name, HK_STORE_RP_NAME_MAX);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO relying_parties (name, kind, "
	    "credential, registered_at) VALUES (?1, ?2, ?3, ?4)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, credential, HK_STORE_RP_CRED_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
	if ((r = hk_store_run(s, st, "relying_parties: insert")) ==
	    HK_ERR_INVALID && (sqlite3_extended_errcode(s->db) ==
	    SQLITE_CONSTRAINT_PRIMARYKEY || sqlite3_extended_errcode(s->db) ==
	    SQLITE_CONSTRAINT_UNIQUE)) {
		hk_err_set("%s: relying_parties: %s: CPS 4-4-4-3: a name (or "
		    "credential) is registered once; retired names are not "
		    "reused", s->path, name);
		r = HK_ERR_EXISTS;
	}
	return r;
}

int
hk_store_rp_retire(struct hk_store *s, const char *name, time_t at)
{
	struct hk_store_rp rp;
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_rp_get(s, name, &rp)) != 0)
		return r;
	if (rp.retired_at != 0) {
		hk_err_set("%s: relying_parties: %s: retired already (a "
		    "retirement is final)", s->path, name);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "UPDATE relying_parties SET retired_at = "
	    "?2 WHERE name = ?1 AND retired_at IS NULL", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
	if ((r = hk_store_run(s, st, "relying_parties: retire")) != 0)
		return r;
	if (sqlite3_changes(s->db) != 1) {
		hk_err_set("%s: relying_parties: %s: retired meanwhile",
		    s->path, name);
		return HK_ERR_INVALID;
	}
	return 0;
}

/* Fill rp from a row of (name, kind, credential, registered_at,
 * retired_at). */
static int
rp_row(struct hk_store *s, sqlite3_stmt *st, struct hk_store_rp *rp)
{
	const unsigned char *name = sqlite3_column_text(st, 0);
	const unsigned char *kind = sqlite3_column_text(st, 1);

	memset(rp, 0, sizeof(*rp));
	if (name == NULL || kind == NULL ||
	    sqlite3_column_bytes(st, 0) > HK_STORE_RP_NAME_MAX ||
	    sqlite3_column_bytes(st, 2) != HK_STORE_RP_CRED_LEN) {
		hk_err_set("%s: relying_parties: a row breaks the schema",
		    s->path);
		return HK_ERR_STATE;
	}
	snprintf(rp->name, sizeof(rp->name), "%s", (const char *)name);
	snprintf(rp->kind, sizeof(rp->kind), "%s", (const char *)kind);
	memcpy(rp->credential, sqlite3_column_blob(st, 2),
	    HK_STORE_RP_CRED_LEN);
	rp->registered_at = (time_t)sqlite3_column_int64(st, 3);
	rp->retired_at = (time_t)sqlite3_column_int64(st, 4);
	return 0;
}

int
hk_store_rp_get(struct hk_store *s, const char *name, struct hk_store_rp *rp)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(rp, 0, sizeof(*rp));
	if ((r = hk_store_prepare(s, "SELECT name, kind, credential, "
	    "registered_at, coalesce(retired_at, 0) FROM relying_parties "
	    "WHERE name = ?1", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = rp_row(s, st, rp);
	else if (rc == SQLITE_DONE) {
		hk_err_set("%s: relying_parties: %.80s: no such relying party",
		    s->path, name);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "relying_parties: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_rp_each(struct hk_store *s,
    int (*fn)(const struct hk_store_rp *rp, void *arg), void *arg)
{
	struct hk_store_rp rp;
	sqlite3_stmt *st;
	int r, rc;

	if ((r = hk_store_prepare(s, "SELECT name, kind, credential, "
	    "registered_at, coalesce(retired_at, 0) FROM relying_parties "
	    "ORDER BY registered_at, name", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = rp_row(s, st, &rp)) != 0 || (r = fn(&rp, arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "relying_parties: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_provision_add_count(struct hk_store *s, const char *recipient,
    const char *method, const char *object, time_t at, uint64_t count)
{
	sqlite3_stmt *st;
	int r;

	if (count < 1 || count > (uint64_t)INT64_MAX) {
		hk_err_set("%s: provisions: count %llu: at least 1", s->path,
		    (unsigned long long)count);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO provisions (at, recipient, "
	    "method, object, count) VALUES (?1, ?2, ?3, ?4, ?5)", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)at);
	sqlite3_bind_text(st, 2, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, method, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, object, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)count);
	return hk_store_run(s, st, "provisions: insert");
}
