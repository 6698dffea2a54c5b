/*
 * store_int.h - what the SQLite files of the store share (not part of the
 * narrow interface: only online/store_*.c include it). The store is split
 * by subject: store_sqlite.c (open, schema, certificates, CRL numbers,
 * bundles, CA certificates, ARLs) and one store_<subject>.c for each of the
 * later subjects, each declaring its functions in store.h.
 */
#ifndef HK_STORE_INT_H
#define HK_STORE_INT_H

#include <sqlite3.h>

#define HK_STORE_CACHE	32	/* prepared statements kept for hot paths */

struct hk_store {
	sqlite3 *db;		/* the open database */
	char *path;		/* its file, for messages */
	int in_tx;		/* 1 inside hk_store_begin..commit/rollback */
	int schema;		/* meta.schema as opened (HK_STORE_SCHEMA, or
				 * an older one of a copy); 0 when not read */
	int rw;			/* opened SQLITE_OPEN_READWRITE */
	struct {
		const char *sql;	/* a static string: compared by address */
		sqlite3_stmt *st;
	} cache[HK_STORE_CACHE];
	int ncache;
};

/* Map a SQLite failure into the one error domain with a detail naming the
 * store and what was being done (constraint -> HK_ERR_INVALID, or
 * HK_ERR_EXISTS for a duplicate serial when what names "serial"). */
int hk_store_fail(struct hk_store *s, int rc, const char *what);
/* sqlite3_exec of sql (no rows). */
int hk_store_exec(struct hk_store *s, const char *sql, const char *what);
/* sqlite3_prepare_v2 of sql into *st. */
int hk_store_prepare(struct hk_store *s, const char *sql, sqlite3_stmt **st);
/* Step a statement that returns no rows, then finalize it. */
int hk_store_run(struct hk_store *s, sqlite3_stmt *st, const char *what);
/* A store for path, its database not open yet (*out, hk_store_close):
 * with create, refused when path exists (HK_ERR_EXISTS); without, when it
 * does not ("no store here", HK_ERR_NOT_FOUND). */
int hk_store_new(const char *path, int create, struct hk_store **out);
/* An in-memory store holding the schema of version schema
 * (HK_STORE_SCHEMA_OLDEST to HK_STORE_SCHEMA) as init and the upgrades
 * made it, from the same statements: hk_store_schema_check's reference. */
int hk_store_reference(int schema, struct hk_store **out);
/* Open s's database read-only (SQLITE_OPEN_READONLY: never a checkpoint,
 * never the WAL removed at its close), writes refused (query_only), no
 * trusted schema, waiting busy_ms for a lock. */
int hk_store_open_ro(struct hk_store *s, int busy_ms);
/* Step st, a query of (blob, integer) rows, calling fn with each row's
 * column 0 and its length and column 1 until fn returns non-zero; then
 * finalize st. fn's result, or 0, or the step's failure named what. */
int hk_store_each_blob_int(struct hk_store *s, sqlite3_stmt *st,
    int (*fn)(const unsigned char *blob, size_t len, int n, void *arg),
    void *arg, const char *what);

/*
 * Hot paths (issuance, revocation: bench/README.md): the statement for sql
 * (a string literal, looked up by address) prepared once per open store and
 * reset for reuse. Never sqlite3_finalize a cached statement: end its use
 * with hk_store_cached_done (or hk_store_cached_run for no-row statements);
 * hk_store_close finalizes them.
 */
/* The end of a call that began its own transaction when none was open
 * (own): commit when r is 0, roll back otherwise; the result. */
int hk_store_own_end(struct hk_store *s, int own, int r);
int hk_store_cached(struct hk_store *s, const char *sql, sqlite3_stmt **st);
/* serial was just revoked keyCompromise (a transaction is open): its key
 * (hk_store_key_sha of its DER) into compromised_keys, unless there
 * already; *recorded 0 when the DER does not decode (check names it). */
int hk_store_key_compromised_add(struct hk_store *s,
    const unsigned char *serial, size_t serial_len, int *recorded);
/* The upgrade to schema 9: the key of every certificate revoked
 * keyCompromise already, parsed once: *keys revocations recorded, *unread
 * whose DER does not decode. */
int hk_store_key_compromised_fill(struct hk_store *s, uint64_t *keys,
    uint64_t *unread);
void hk_store_cached_done(sqlite3_stmt *st);
int hk_store_cached_run(struct hk_store *s, sqlite3_stmt *st,
    const char *what);

#endif
