/*
 * store_records.c - the records of the store (CPS 2-8-6, 4-5): provision of
 * revocation information to relying parties, a resident's own history and
 * the sets of certificates revoked together.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_int.h"

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
