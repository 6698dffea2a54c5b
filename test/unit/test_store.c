/*
 * test_store.c - the store's rules (online/store.h, docs/store.md), each
 * shown to hold by a change that breaks it and is refused by the schema
 * itself (several tests go around the C interface with raw SQL, so they
 * would fail if the rule lived only in C), and the municipalities file
 * (online/municipalities.h): every shipped code's check digit, the ward
 * decision, and the strict loader.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "clock.h"
#include "err.h"
#include "municipalities.h"
#include "store.h"
#include "testutil.h"

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcde";
static const unsigned char E[3] = { 0x30, 0x01, 0x00 };	/* CRL entry bytes */

static struct hk_store *
fresh(const char *name, char *path, size_t len)
{
	struct hk_store *s = NULL;

	snprintf(path, len, "%s/store.db", hk_test_dir(name));
	cr_assert_eq(hk_store_open(path, 1, &s), 0, "%s", hk_err_msg());
	return s;
}

static void
cert(struct hk_store_cert *c, unsigned char serial, const char *muni,
    const char *resident)
{
	memset(c, 0, sizeof(*c));
	c->serial[0] = 0x40;
	c->serial[1] = serial;
	c->serial_len = 16;
	memset(c->serial + 2, 0x5a, 14);
	snprintf(c->municipality, sizeof(c->municipality), "%s", muni);
	cr_assert_eq(hk_store_resident_key(KEY, resident, c->resident_key), 0);
	memset(c->issuer, 0x11, 20);
	c->issuer_len = 20;
	c->not_before = 1775000000;
	c->not_after = 1775000000 + 3 * 365 * 86400;
	c->tbs = (const unsigned char *)"tbs";
	c->tbs_len = 3;
}

/* Raw SQL on the same file: the rule must hold without the C layer. */
static int
raw(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* The one integer a raw query answers. */
static int
count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

Test(store, create_twice_refused_and_reopen)
{
	char p[4096];
	struct hk_store *s = fresh("store_create", p, sizeof(p)), *s2 = NULL;

	hk_store_close(s);
	cr_assert_eq(hk_store_open(p, 1, &s2), HK_ERR_EXISTS);
	cr_assert_eq(hk_store_open(p, 0, &s2), 0);
	hk_store_close(s2);
	cr_assert_eq(raw(p, "PRAGMA journal_mode"), SQLITE_OK);
}

/* Opening a store that is not there (read-write or read-only) names it
 * and creates nothing. */
Test(store, missing_store_refused)
{
	char p[4096];
	struct hk_store *s = (struct hk_store *)1;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_missing"));
	cr_assert_eq(hk_store_open(p, 0, &s), HK_ERR_NOT_FOUND);
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "no store here (run hanko-online "
	    "init)") != NULL, "%s", hk_err_msg());
	s = (struct hk_store *)1;
	cr_assert_eq(hk_store_open_readonly(p, &s), HK_ERR_NOT_FOUND);
	cr_assert_null(s);
	cr_assert(strstr(hk_err_msg(), "no store here (run hanko-online "
	    "init)") != NULL, "%s", hk_err_msg());
	cr_assert_eq(access(p, F_OK), -1, "nothing created");
}

struct ca_seen {
	int n;			/* rows seen */
	int stop;		/* return this from the first row */
	char der[4][8];
	int gen[4];
};

static int
ca_row(const unsigned char *der, size_t len, int gen, void *arg)
{
	struct ca_seen *c = arg;

	cr_assert_lt(c->n, 4);
	cr_assert_lt(len, sizeof(c->der[0]));
	memcpy(c->der[c->n], der, len);
	c->der[c->n][len] = '\0';
	c->gen[c->n++] = gen;
	return c->stop;
}

/* ca_each: only the kind asked for, in the order stored, each with its
 * generation; a non-zero return of the callback stops it and is its
 * result. */
Test(store, ca_each_kind_order_and_stop)
{
	char p[4096];
	struct hk_store *s = fresh("store_ca_each", p, sizeof(p));
	struct ca_seen c;

	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 2, "C=JP",
	    (const unsigned char *)"root2", 5, 0), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_ca_add(s, HK_CA_LINK, 1, "C=JP",
	    (const unsigned char *)"link1", 5, 0), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 1, "C=JP",
	    (const unsigned char *)"root1", 5, 0), 0, "%s", hk_err_msg());
	memset(&c, 0, sizeof(c));
	cr_assert_eq(hk_store_ca_each(s, HK_CA_ROOT, ca_row, &c), 0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.der[0], "root2");
	cr_assert_eq(c.gen[0], 2);
	cr_assert_str_eq(c.der[1], "root1");
	cr_assert_eq(c.gen[1], 1);
	memset(&c, 0, sizeof(c));
	c.stop = 7;
	cr_assert_eq(hk_store_ca_each(s, HK_CA_ROOT, ca_row, &c), 7);
	cr_assert_eq(c.n, 1, "stopped at the first row");
	memset(&c, 0, sizeof(c));
	cr_assert_eq(hk_store_ca_each(s, HK_CA_ISSUING, ca_row, &c), 0);
	cr_assert_eq(c.n, 0);
	hk_store_close(s);
}

/* A store of another schema version is named and refused, untouched
 * (docs/store.md, schema versions). */
Test(store, other_schema_version_refused)
{
	char p[4096], sql[128], want[128];
	struct hk_store *s = fresh("store_schema", p, sizeof(p)), *s2 = NULL;

	hk_store_close(s);
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = "
	    "'schema'", HK_STORE_SCHEMA - 1);
	cr_assert_eq(raw(p, sql), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s2), HK_ERR_STATE);
	cr_assert_null(s2);
	snprintf(want, sizeof(want), "the store is of schema %d; this "
	    "hanko-online reads schema %d only", HK_STORE_SCHEMA - 1,
	    HK_STORE_SCHEMA);
	cr_assert(strstr(hk_err_msg(), want) != NULL, "%s", hk_err_msg());
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = "
	    "'schema' AND value = '%d'", HK_STORE_SCHEMA, HK_STORE_SCHEMA - 1);
	cr_assert_eq(raw(p, sql), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s2), 0, "%s", hk_err_msg());
	hk_store_close(s2);
}

/* The store id (docs/store.md, "The store id"): recorded with the schema
 * by hk_store_create, read back, and never changed, replaced or deleted,
 * also by raw SQL; a malformed id is refused and nothing is created. */
Test(store, store_id_recorded_once_never_changed)
{
	static const char id[] = "0123456789abcdef0123456789abcdef";
	char p[4096], got[64];
	struct hk_store *s = NULL;
	int schema;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_id"));
	cr_assert_eq(hk_store_create(p, "0123456789ABCDEF0123456789ABCDEF",
	    &s), HK_ERR_INVALID);
	cr_assert_null(s);
	cr_assert_eq(access(p, F_OK), -1, "nothing created");
	cr_assert_eq(hk_store_create(p, id, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_id(s, got, sizeof(got)), 0, "%s", hk_err_msg());
	cr_assert_str_eq(got, id);
	hk_store_close(s);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, HK_STORE_SCHEMA);
	cr_assert_str_eq(got, id);
	cr_assert_neq(raw(p, "UPDATE meta SET value = "
	    "'fedcba9876543210fedcba9876543210' WHERE key = 'store.id'"),
	    SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE meta SET key = 'old' WHERE key = "
	    "'store.id'"), SQLITE_OK);
	cr_assert_neq(raw(p, "DELETE FROM meta WHERE key = 'store.id'"),
	    SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT OR REPLACE INTO meta VALUES ('store.id', "
	    "'fedcba9876543210fedcba9876543210')"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE meta SET key = 'store.id' WHERE key = "
	    "'schema'"), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_id(s, got, sizeof(got)), 0);
	cr_assert_str_eq(got, id);
	hk_store_close(s);
	/* a store made without one (tests, the check's reference) has none */
	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_noid"));
	cr_assert_eq(hk_store_open(p, 1, &s), 0);
	cr_assert_eq(hk_store_id(s, got, sizeof(got)), HK_ERR_NOT_FOUND);
	hk_store_close(s);
	/* and a first id is held to the form */
	cr_assert_neq(raw(p, "INSERT INTO meta VALUES ('store.id', 'x')"),
	    SQLITE_OK);
}

/* The upgrade's record: n[0] counts the calls, n[1] is the result, n[2]
 * the version it was called with, n[3] and n[4] the keys of the
 * keyCompromise revocations it recorded and could not read. */
static int
upgrade_count(void *arg, int from, uint64_t keys, uint64_t unread)
{
	int *n = arg;

	n[0]++;
	n[2] = from;
	n[3] = (int)keys;
	n[4] = (int)unread;
	return n[1];
}

/* Schemas 6 to 8 have no compromised_keys (schema 9). */
static const char KEYS_8[] = "DROP TABLE compromised_keys;";

/* ocsp_responses as schemas 6 and 7 made it (no column responder), in
 * place of the fresh store's. */
static const char OCSP_7[] =
    "DROP TABLE ocsp_responses; CREATE TABLE ocsp_responses (\n"
    "  serial BLOB PRIMARY KEY REFERENCES serials(serial),\n"
    "  status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),\n"
    "  this_update INTEGER NOT NULL,\n"
    "  next_update INTEGER NOT NULL CHECK (next_update > this_update),\n"
    "  der BLOB NOT NULL\n"
    ") STRICT;\n";

/* hk_store_schema_check's findings: counted. */
static int
schema_problem(const char *type, const char *name, const char *problem,
    int restored, void *arg)
{
	(void)restored;
	cr_log_info("%s %s: %s", type, name, problem);
	(*(int *)arg)++;
	return 0;
}

/* A store of schema 6 (no store id) is opened by nothing but the upgrade,
 * which records the id with the schema 7 triggers in one transaction with
 * its record; a record that fails undoes it; a store upgraded already is
 * left alone. */
Test(store, upgrade_6_to_7_records_the_id)
{
	static const char id[] = "00112233445566778899aabbccddeeff";
	char p[4096], got[64];
	struct hk_store *s = fresh("store_upgrade", p, sizeof(p)), *s2 = NULL;
	int n[5] = { 0, 0, 0, 0, 0 }, done = -1, schema, problems = 0;

	hk_store_close(s);
	cr_assert_eq(raw(p, KEYS_8), SQLITE_OK);
	cr_assert_eq(raw(p, OCSP_7), SQLITE_OK);
	cr_assert_eq(raw(p, "DROP TRIGGER meta_store_id_once; DROP TRIGGER "
	    "meta_store_id_fixed; DROP TRIGGER meta_store_id_no_delete; "
	    "UPDATE meta SET value = '6' WHERE key = 'schema'"), SQLITE_OK);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, 6);
	cr_assert_str_eq(got, "");
	cr_assert_eq(hk_store_open(p, 0, &s2), HK_ERR_STATE);
	/* the record fails: nothing changed */
	n[1] = HK_ERR_IO;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done),
	    HK_ERR_IO);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, 6);
	cr_assert_str_eq(got, "");
	cr_assert_eq(count(p, "SELECT count(*) FROM sqlite_schema WHERE name "
	    "LIKE 'meta_store_id%'"), 0);
	/* upgraded */
	n[0] = n[1] = 0;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(done, 1);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(n[2], 6, "the record is told the version upgraded");
	cr_assert_eq(hk_store_open(p, 0, &s2), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_id(s2, got, sizeof(got)), 0);
	cr_assert_str_eq(got, id);
	/* schemas 8 and 9 too: the schema init makes */
	cr_assert_eq(hk_store_schema_check(s2, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_assert_eq(problems, 0);
	hk_store_close(s2);
	cr_assert_eq(count(p, "SELECT count(*) FROM sqlite_schema WHERE name "
	    "LIKE 'meta_store_id%'"), 3);
	cr_assert_neq(raw(p, "DELETE FROM meta WHERE key = 'store.id'"),
	    SQLITE_OK);
	/* again: left alone, no record */
	cr_assert_eq(hk_store_upgrade(p, "ffeeddccbbaa99887766554433221100",
	    upgrade_count, n, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, HK_STORE_SCHEMA);
	cr_assert_str_eq(got, id);
}

/* A store of schema 7 gets ocsp_responses.responder (schema 8) in one
 * transaction with its record, its stored responses kept with none
 * recorded (so each is due: docs/ocsp.md); a record that fails undoes it;
 * the upgraded schema is the one a new store has, and the column holds a
 * SHA-256 (32 bytes) only. */
Test(store, upgrade_7_to_8_ocsp_responder)
{
	static const char id[] = "00112233445566778899aabbccddeeff";
	char p[4096], got[64];
	struct hk_store *s, *s2 = NULL;
	int n[5] = { 0, 0, 0, 0, 0 }, done = -1, schema, problems = 0;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_up78"));
	cr_assert_eq(hk_store_create(p, id, &s), 0, "%s", hk_err_msg());
	hk_store_close(s);
	cr_assert_eq(raw(p, KEYS_8), SQLITE_OK);
	cr_assert_eq(raw(p, OCSP_7), SQLITE_OK);
	cr_assert_eq(raw(p, "INSERT INTO serials VALUES (x'01', 0); "
	    "INSERT INTO ocsp_responses VALUES (x'01', 'good', 100, 200, "
	    "x'3003'); UPDATE meta SET value = '7' WHERE key = 'schema'"),
	    SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s2), HK_ERR_STATE);
	/* another state's store: not upgraded, no record */
	cr_assert_eq(hk_store_upgrade(p, "ffeeddccbbaa99887766554433221100",
	    upgrade_count, n, &done), HK_ERR_STATE);
	cr_assert(strstr(hk_err_msg(), "store id 00112233445566778899aabb"
	    "ccddeeff is not this state's") != NULL, "%s", hk_err_msg());
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 0);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, 7);
	/* the record fails: nothing changed */
	n[1] = HK_ERR_IO;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done),
	    HK_ERR_IO);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[2], 7);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, 7);
	cr_assert_eq(count(p, "SELECT count(*) FROM pragma_table_info("
	    "'ocsp_responses') WHERE name = 'responder'"), 0);
	/* upgraded */
	n[0] = n[1] = n[2] = 0;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(done, 1);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(n[2], 7);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, HK_STORE_SCHEMA);
	cr_assert_str_eq(got, id, "the id is kept");
	cr_assert_eq(count(p, "SELECT count(*) FROM ocsp_responses WHERE "
	    "serial = x'01' AND der = x'3003' AND responder IS NULL"), 1,
	    "the stored response kept, no responder recorded");
	cr_assert_eq(hk_store_open(p, 0, &s2), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_schema_check(s2, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_assert_eq(problems, 0, "the schema a new store has");
	hk_store_close(s2);
	cr_assert_neq(raw(p, "UPDATE ocsp_responses SET responder = x'00'"),
	    SQLITE_OK);
	cr_assert_eq(raw(p, "UPDATE ocsp_responses SET responder = "
	    "zeroblob(32)"), SQLITE_OK);
	/* again: left alone, no record */
	n[0] = 0;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 0);
}

/* A certificate's DER with a fresh P-256 key of its own (self-signed),
 * and the SHA-256 of its subjectPublicKey bits. */
static unsigned char *
real_der(long serial, size_t *len, unsigned char sha[32])
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	const unsigned char *pk;
	unsigned char *der = NULL;
	int n, pklen;

	cr_assert_not_null(k);
	cr_assert_not_null(x);
	cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	cr_assert_eq(X509_set_pubkey(x, k), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	cr_assert_gt(X509_sign(x, k, EVP_sha256()), 0);
	cr_assert_eq(X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL,
	    X509_get_X509_PUBKEY(x)), 1);
	SHA256(pk, (size_t)pklen, sha);
	cr_assert_gt((n = i2d_X509(x, &der)), 0);
	*len = (size_t)n;
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

/* A certificate reserved and completed with der. */
static void
valid_cert(struct hk_store *s, struct hk_store_cert *c, unsigned char serial,
    const char *resident, const unsigned char *der, size_t len)
{
	cert(c, serial, "431010", resident);
	cr_assert_eq(hk_store_cert_reserve(s, c), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_complete(s, c->serial, c->serial_len, der,
	    len), 0, "%s", hk_err_msg());
}

struct kc_seen {
	int n, missing, undecodable, stray;
	unsigned char sha[4][32], serial[4][HK_STORE_SERIAL_MAX];
};

static int
kc_each(const unsigned char sha[32], const unsigned char *serial,
    size_t serial_len, void *arg)
{
	struct kc_seen *k = arg;

	cr_assert_lt(k->n, 4);
	cr_assert_eq(serial_len, 16);
	memcpy(k->sha[k->n], sha, 32);
	memcpy(k->serial[k->n++], serial, 16);
	return 0;
}

static int
kc_problem(enum hk_store_kc_problem p, const unsigned char *serial,
    size_t serial_len, void *arg)
{
	struct kc_seen *k = arg;

	(void)serial;
	(void)serial_len;
	if (p == HK_KC_MISSING)
		k->missing++;
	else if (p == HK_KC_UNDECODABLE)
		k->undecodable++;
	else
		k->stray++;
	return 0;
}

/* Schema 9 (CPS 4-4-2-1, 4-4-2-5): a revocation keyCompromise records its
 * certificate's key in compromised_keys in its own transaction (by serial
 * and as a set of an issuing key), once per key; no other reason does; a
 * certificate whose DER does not decode is still revoked, its key not
 * recorded and named by the check; and the table is held by the schema:
 * a row only for a certificate revoked keyCompromise, never changed or
 * deleted (raw SQL refused), what raw SQL does around the triggers found
 * by the check. */
Test(store, compromised_keys_recorded_with_the_revocation)
{
	char p[4096];
	struct hk_store *s = fresh("store_kc", p, sizeof(p));
	struct hk_store_cert a, b, c, d, e;
	unsigned char sha1[32], sha3[32], sha5[32], *d1, *d3, *d5, iss[20];
	size_t l1, l3, l5;
	struct kc_seen k;
	uint64_t rv, vo;

	d1 = real_der(1, &l1, sha1);
	d3 = real_der(3, &l3, sha3);
	d5 = real_der(5, &l5, sha5);
	valid_cert(s, &a, 1, "RES-1", d1, l1);
	valid_cert(s, &b, 2, "RES-2", d1, l1);	/* the same key again */
	valid_cert(s, &c, 3, "RES-3", d3, l3);
	valid_cert(s, &d, 4, "RES-4", (const unsigned char *)"der", 3);
	cr_assert_eq(hk_store_cert_revoke(s, c.serial, c.serial_len, 4, 5, E,
	    3), 0, "%s", hk_err_msg());
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_each(s, kc_each, &k), 0);
	cr_assert_eq(k.n, 0, "superseded: no key recorded");
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 1, 6, E,
	    3), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_revoke(s, b.serial, b.serial_len, 1, 7, E,
	    3), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_revoke(s, d.serial, d.serial_len, 1, 8, E,
	    3), 0, "the revocation stands: %s", hk_err_msg());
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_each(s, kc_each, &k), 0);
	cr_assert_eq(k.n, 1, "one key, revoked twice: one row");
	cr_assert_eq(memcmp(k.sha[0], sha1, 32), 0);
	cr_assert_eq(memcmp(k.serial[0], a.serial, 16), 0, "the first's");
	/* the revocation set of an issuing key, keyCompromise too */
	valid_cert(s, &e, 5, "RES-5", d5, l5);
	memset(iss, 0x11, sizeof(iss));
	cr_assert_eq(hk_store_issuer_revoke(s, iss, 20, 1, 9, &rv, &vo), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(rv, 1);
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_each(s, kc_each, &k), 0);
	cr_assert_eq(k.n, 2);
	cr_assert(memcmp(k.sha[0], k.sha[1], 32) < 0, "in key order");
	cr_assert(memcmp(k.sha[0], sha5, 32) == 0 ||
	    memcmp(k.sha[1], sha5, 32) == 0);
	/* the check: only d, whose DER does not decode */
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_check(s, kc_problem, &k), 0);
	cr_assert_eq(k.undecodable, 1);
	cr_assert_eq(k.missing + k.stray, 0);
	hk_store_close(s);
	/* the rules, by raw SQL */
	cr_assert_neq(raw(p, "INSERT INTO compromised_keys SELECT "
	    "randomblob(32), serial FROM certificates WHERE reason = 4"),
	    SQLITE_OK, "a superseded certificate's key refused");
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (x'47', 0); "
	    "INSERT INTO compromised_keys VALUES (randomblob(32), x'47')"),
	    SQLITE_OK, "a serial with no certificate refused");
	cr_assert_neq(raw(p, "INSERT INTO compromised_keys SELECT "
	    "randomblob(31), serial FROM certificates WHERE serial = "
	    "(SELECT serial FROM certificates WHERE reason = 1 AND length(der)"
	    " = 3)"), SQLITE_OK, "not a SHA-256");
	cr_assert_neq(raw(p, "UPDATE compromised_keys SET key_sha256 = "
	    "randomblob(32)"), SQLITE_OK, "never changed");
	cr_assert_neq(raw(p, "DELETE FROM compromised_keys"), SQLITE_OK,
	    "never forgotten");
	cr_assert_eq(count(p, "SELECT count(*) FROM compromised_keys"), 2);
	/* around the triggers: each found by the check */
	cr_assert_eq(raw(p, "DROP TRIGGER compromised_keys_no_delete; "
	    "DROP TRIGGER compromised_keys_revoked; "
	    "DELETE FROM compromised_keys WHERE serial = (SELECT serial FROM "
	    "certificates WHERE reason = 1 ORDER BY revoked_at LIMIT 1); "
	    "INSERT INTO compromised_keys SELECT randomblob(32), serial FROM "
	    "certificates WHERE reason = 4"), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s), 0, "%s", hk_err_msg());
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_check(s, kc_problem, &k), 0);
	cr_assert_eq(k.missing, 2, "a and b: their key gone");
	cr_assert_eq(k.undecodable, 1);
	cr_assert_eq(k.stray, 1, "c's row: superseded, not keyCompromise");
	hk_store_close(s);
	OPENSSL_free(d1);
	OPENSSL_free(d3);
	OPENSSL_free(d5);
}

/* A store of schema 8 gets compromised_keys (schema 9) in one transaction
 * with its record, filled from the revocations already there (each such
 * certificate parsed once, here): one row per key of a certificate
 * revoked keyCompromise, none for another reason, a DER that does not
 * decode counted; a record that fails undoes it; another state's store is
 * left untouched; the upgraded schema is the one a new store has, with
 * its rule. */
Test(store, upgrade_8_to_9_records_the_compromised_keys)
{
	static const char id[] = "00112233445566778899aabbccddeeff";
	char p[4096], got[64];
	struct hk_store *s, *s2 = NULL;
	struct hk_store_cert a, b, d;
	unsigned char sha1[32], sha2[32], *d1, *d2;
	size_t l1, l2;
	int n[5] = { 0, 0, 0, 0, 0 }, done = -1, schema, problems = 0;
	struct kc_seen k;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_up89"));
	cr_assert_eq(hk_store_create(p, id, &s), 0, "%s", hk_err_msg());
	d1 = real_der(1, &l1, sha1);
	d2 = real_der(2, &l2, sha2);
	valid_cert(s, &a, 1, "RES-1", d1, l1);
	valid_cert(s, &b, 2, "RES-2", d2, l2);
	valid_cert(s, &d, 4, "RES-4", (const unsigned char *)"der", 3);
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 1, 6, E,
	    3), 0);
	cr_assert_eq(hk_store_cert_revoke(s, b.serial, b.serial_len, 3, 6, E,
	    3), 0);
	cr_assert_eq(hk_store_cert_revoke(s, d.serial, d.serial_len, 1, 6, E,
	    3), 0);
	hk_store_close(s);
	/* the store as schema 8 left it */
	cr_assert_eq(raw(p, KEYS_8), SQLITE_OK);
	cr_assert_eq(raw(p, "UPDATE meta SET value = '8' WHERE key = "
	    "'schema'"), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s2), HK_ERR_STATE);
	/* another state's store: not upgraded, no record */
	cr_assert_eq(hk_store_upgrade(p, "ffeeddccbbaa99887766554433221100",
	    upgrade_count, n, &done), HK_ERR_STATE);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 0);
	/* the record fails: nothing changed */
	n[1] = HK_ERR_IO;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done),
	    HK_ERR_IO);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[2], 8);
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, 8);
	cr_assert_eq(count(p, "SELECT count(*) FROM sqlite_schema WHERE name "
	    "LIKE 'compromised_keys%'"), 0, "no table, no trigger");
	/* upgraded */
	n[0] = n[1] = n[2] = 0;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done), 0,
	    "%s", hk_err_msg());
	cr_assert_eq(done, 1);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(n[2], 8);
	cr_assert_eq(n[3], 1, "a's key recorded");
	cr_assert_eq(n[4], 1, "d's DER does not decode");
	cr_assert_eq(hk_store_peek(p, &schema, got, sizeof(got)), 0);
	cr_assert_eq(schema, HK_STORE_SCHEMA);
	cr_assert_str_eq(got, id);
	cr_assert_eq(hk_store_open(p, 0, &s2), 0, "%s", hk_err_msg());
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_each(s2, kc_each, &k), 0);
	cr_assert_eq(k.n, 1);
	cr_assert_eq(memcmp(k.sha[0], sha1, 32), 0);
	cr_assert_eq(memcmp(k.serial[0], a.serial, 16), 0);
	cr_assert_eq(hk_store_schema_check(s2, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_assert_eq(problems, 0, "the schema a new store has");
	memset(&k, 0, sizeof(k));
	cr_assert_eq(hk_store_key_compromised_check(s2, kc_problem, &k), 0);
	cr_assert_eq(k.missing + k.stray, 0);
	cr_assert_eq(k.undecodable, 1);
	hk_store_close(s2);
	cr_assert_neq(raw(p, "INSERT INTO compromised_keys SELECT "
	    "randomblob(32), serial FROM certificates WHERE reason = 3"),
	    SQLITE_OK, "the rule holds in the upgraded store");
	/* again: left alone, no record */
	n[0] = 0;
	cr_assert_eq(hk_store_upgrade(p, id, upgrade_count, n, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(n[0], 0);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
}

/* A store.db that is not a hanko store (emptied, another file, another
 * SQLite database, cut short) is a state to restore, exit 3 with what to
 * do, never an internal error, and is not written to: SQLite would take an
 * empty file for an empty database and make it one (journal_mode=WAL). */
Test(store, not_a_store_refused_untouched)
{
	char p[4096], want[4200];
	const char *dir = hk_test_dir("store_notastore");
	struct hk_store *s = NULL;
	unsigned char *buf;
	size_t len, half;

	snprintf(p, sizeof(p), "%s/store.db", dir);
	hk_test_write(p, "", 0);
	cr_assert_eq(hk_store_open(p, 0, &s), HK_ERR_STATE, "%s", hk_err_msg());
	cr_assert_null(s);
	snprintf(want, sizeof(want), "%s: empty: not a hanko store (no SQLite "
	    "header); restore it from the backup", p);
	cr_assert_str_eq(hk_err_msg(), want);
	buf = hk_test_read(p, &len);
	cr_assert_eq(len, 0, "the empty file was written to (%zu bytes)", len);
	free(buf);
	cr_assert_eq(hk_store_open_readonly(p, &s), HK_ERR_STATE);

	hk_test_write(p, "not a database at all, just text\n", 33);
	cr_assert_eq(hk_store_open(p, 0, &s), HK_ERR_STATE, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "not an SQLite database") != NULL, "%s",
	    hk_err_msg());

	/* another SQLite database, in rollback-journal mode: refused and
	 * left in that mode */
	unlink(p);
	cr_assert_eq(raw(p, "CREATE TABLE other (a); INSERT INTO other "
	    "VALUES (1)"), SQLITE_OK);
	cr_assert_eq(hk_store_open(p, 0, &s), HK_ERR_STATE, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "not a hanko store of schema") != NULL,
	    "%s", hk_err_msg());
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
		cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
		    &st, NULL), SQLITE_OK);
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		cr_assert_str_eq((const char *)sqlite3_column_text(st, 0),
		    "delete", "the foreign database was switched to WAL");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}

	/* a hanko store cut in half (a copy that stopped) */
	unlink(p);
	hk_store_close(fresh("store_notastore", p, sizeof(p)));
	cr_assert_eq(raw(p, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
	buf = hk_test_read(p, &len);
	half = len / 2;
	hk_test_write(p, buf, half);
	free(buf);
	cr_assert_eq(hk_store_open(p, 0, &s), HK_ERR_STATE, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "the store is damaged; restore it from "
	    "the backup") != NULL, "%s", hk_err_msg());
	cr_assert_null(s);
}

Test(store, wal_and_full_sync)
{
	char p[4096];
	struct hk_store *s = fresh("store_wal", p, sizeof(p));
	sqlite3 *db;
	sqlite3_stmt *st;

	cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	hk_store_close(s);
}

Test(store, resident_key_is_keyed_and_never_clear)
{
	unsigned char a[32], b[32], k2[32];
	char p[4096];
	struct hk_store *s = fresh("store_rkey", p, sizeof(p));
	struct hk_store_cert c;
	unsigned char *db;
	size_t len, i;

	cr_assert_eq(hk_store_resident_key(KEY, "RES-0001", a), 0);
	cr_assert_eq(hk_store_resident_key(KEY, "RES-0001", b), 0);
	cr_assert_eq(memcmp(a, b, 32), 0, "deterministic");
	cr_assert_eq(hk_store_resident_key(KEY, "RES-0002", b), 0);
	cr_assert_neq(memcmp(a, b, 32), 0, "the identifier is in the hash");
	memcpy(k2, KEY, 32);
	k2[0] ^= 1;
	cr_assert_eq(hk_store_resident_key(k2, "RES-0001", b), 0);
	cr_assert_neq(memcmp(a, b, 32), 0, "the key is in the hash");
	cr_assert_eq(hk_store_resident_key(KEY, "", b), HK_ERR_INVALID);
	cert(&c, 1, "431010", "RESIDENT-CLEARTEXT-9876");
	cr_assert_eq(hk_store_cert_reserve(s, &c), 0, "%s", hk_err_msg());
	hk_store_close(s);
	db = hk_test_read(p, &len);
	for (i = 0; i + 23 <= len; i++)
		cr_assert_neq(memcmp(db + i, "RESIDENT-CLEARTEXT-9876", 23), 0,
		    "the identifier is in the file in clear");
	free(db);
	/* a resident_key that is not a 32-byte blob is refused by the schema */
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (x'41', 0);"
	    "INSERT INTO certificates (serial, municipality, resident_key, "
	    "status, not_before, not_after, issuer) VALUES (x'41', '431010', "
	    "'RES-0001', 'pending', 1, 2, x'11')"), SQLITE_OK);
}

Test(store, serial_unique_and_never_reused)
{
	char p[4096];
	struct hk_store *s = fresh("store_serial", p, sizeof(p));
	struct hk_store_cert c, d;

	cert(&c, 1, "431010", "A");
	cert(&d, 1, "431028", "B");	/* same serial, other resident */
	cr_assert_eq(hk_store_cert_reserve(s, &c), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_reserve(s, &d), HK_ERR_EXISTS);
	/* voided, the serial still is never reused */
	cr_assert_eq(hk_store_cert_void(s, c.serial, c.serial_len), 0);
	cr_assert_eq(hk_store_cert_reserve(s, &d), HK_ERR_EXISTS);
	hk_store_close(s);
	cr_assert_neq(raw(p, "DELETE FROM serials"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE serials SET serial = x'01'"), SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES "
	    "(x'40015a5a5a5a5a5a5a5a5a5a5a5a5a5a', 0)"), SQLITE_OK);
	/* a certificate needs a reserved serial (foreign key) */
	cr_assert_neq(raw(p, "INSERT INTO certificates (serial, municipality, "
	    "resident_key, status, not_before, not_after) VALUES (x'42', "
	    "'431010', zeroblob(32), 'pending', 1, 2)"), SQLITE_OK);
}

Test(store, serial_encoding)
{
	char p[4096];
	struct hk_store *s = fresh("store_serialenc", p, sizeof(p));
	struct hk_store_cert c;

	cert(&c, 2, "431010", "A");
	c.serial[0] = 0x80;		/* negative */
	cr_assert_eq(hk_store_cert_reserve(s, &c), HK_ERR_INVALID);
	c.serial[0] = 0x40;
	c.serial_len = 21;		/* over 20 octets */
	cr_assert_eq(hk_store_cert_reserve(s, &c), HK_ERR_INVALID);
	hk_store_close(s);
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (zeroblob(21), 0)"),
	    SQLITE_OK);
}

/* RFC 5280 4.1.2.2 through the store's interface: 1 and 20 octets taken
 * (20 with the leading zero of a positive INTEGER whose first bit is
 * set), 0 and 21 refused by the store's own check, naming the rule. */
Test(store, serial_length_bounds)
{
	static const size_t lens[] = { 1, 20, 20 };
	char p[4096], want[4200], who[8];
	struct hk_store *s = fresh("store_seriallen", p, sizeof(p));
	struct hk_store_cert c, got;
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(who, sizeof(who), "R%zu", i);
		cert(&c, (unsigned char)i, "431010", who);
		memset(c.serial, 0x5a, sizeof(c.serial));
		c.serial[0] = 0x01;
		if (i == 2) {		/* 0x00 0x80 ...: still positive */
			c.serial[0] = 0x00;
			c.serial[1] = 0x80;
		}
		c.serial_len = lens[i];
		cr_assert_eq(hk_store_cert_reserve(s, &c), 0, "%zu octets: %s",
		    lens[i], hk_err_msg());
		cr_assert_eq(hk_store_cert_get(s, c.serial, c.serial_len,
		    &got), 0, "%s", hk_err_msg());
		cr_assert_eq(got.serial_len, lens[i]);
		cr_assert_eq(memcmp(got.serial, c.serial, lens[i]), 0);
		cr_assert_eq(got.status, HK_CERT_PENDING);
	}
	snprintf(want, sizeof(want), "%s: serial: RFC 5280 4.1.2.2: a positive "
	    "INTEGER of 1-20 octets, minimally encoded", p);
	cert(&c, 9, "431010", "R9");
	c.serial_len = 0;
	cr_assert_eq(hk_store_cert_reserve(s, &c), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), want);
	c.serial_len = HK_STORE_SERIAL_MAX + 1;
	cr_assert_eq(hk_store_cert_reserve(s, &c), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), want);
	cr_assert_eq(count(p, "SELECT count(*) FROM serials"), 3);
	hk_store_close(s);
}

Test(store, one_live_certificate_per_resident)
{
	char p[4096];
	struct hk_store *s = fresh("store_onelive", p, sizeof(p));
	struct hk_store_cert a, b, other;
	unsigned char ser[20];
	size_t sl;

	cert(&a, 1, "431010", "RES-1");
	cert(&b, 2, "431010", "RES-1");
	cert(&other, 3, "432024", "RES-1");	/* same id, other municipality */
	cr_assert_eq(hk_store_cert_reserve(s, &a), 0, "%s", hk_err_msg());
	/* pending counts: a second request while the first signs is refused */
	cr_assert_eq(hk_store_cert_reserve(s, &b), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "certificates") != NULL, "%s",
	    hk_err_msg());
	/* the resident moved: still the same resident (CPS 4-2-3) */
	cr_assert_eq(hk_store_cert_reserve(s, &other), HK_ERR_INVALID);
	cert(&other, 3, "432024", "RES-2");
	cr_assert_eq(hk_store_cert_reserve(s, &other), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"der", 3), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_reserve(s, &b), HK_ERR_INVALID);
	cr_assert_eq(hk_store_cert_live(s, a.resident_key, ser, &sl), 0);
	cr_assert_eq(sl, a.serial_len);
	cr_assert_eq(memcmp(ser, a.serial, sl), 0);
	/* revoked (superseded), the resident may have a new one */
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 4,
	    1776000000, E, 3), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_reserve(s, &b), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_live(s, a.resident_key, ser, &sl), 0);
	cr_assert_eq(memcmp(ser, b.serial, sl), 0, "the live one, not the "
	    "revoked one");
	hk_store_close(s);
	/* the index, not C, refuses a second valid row */
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (x'43', 0);"
	    "INSERT INTO certificates (serial, municipality, resident_key, "
	    "status, not_before, not_after, issuer) SELECT x'43', "
	    "municipality, resident_key, 'pending', 1, 2, issuer FROM "
	    "certificates WHERE status = 'pending' AND municipality = "
	    "'431010'"), SQLITE_OK);
	/* `ended` (what `live` is computed from) moves with the status and
	 * only with it: not ended while pending or valid, ended once revoked
	 * (each statement below matches rows: a refusal, not a no-op) */
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE status "
	    "= 'pending'"), 2);
	cr_assert_neq(raw(p, "UPDATE certificates SET ended = 1 WHERE status "
	    "= 'pending'"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE certificates SET ended = NULL WHERE "
	    "status = 'revoked'"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE certificates SET ended = 2 WHERE "
	    "status = 'revoked'"), SQLITE_OK);
	cr_assert_eq(count(p, "SELECT count(*) FROM certificates WHERE "
	    "(live IS 1) = (status IN ('pending', 'valid'))"), 3);
}

/* Completing a certificate (pending->valid) does not rewrite its entry in
 * certificates_one_live (the random-keyed index: a leaf page of its own
 * per certificate, twice the pages written at a million rows): live
 * follows `ended`, which completing leaves alone. Read from the statement
 * SQLite compiles: the B-trees it opens for writing. */
static int
opened_for_writing(sqlite3 *db, const char *sql, const char *index)
{
	sqlite3_stmt *st, *q;
	int root, found = 0;

	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema "
	    "WHERE name = ?1", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, index, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW, "%s: no such index", index);
	root = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s", sqlite3_errmsg(db));
	/* EXPLAIN rows: addr, opcode, p1, p2 (the root page), ... */
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strcmp((const char *)sqlite3_column_text(st, 1),
		    "OpenWrite") == 0 && sqlite3_column_int(st, 3) == root;
	sqlite3_finalize(st);
	return found;
}

Test(store, completing_leaves_the_one_live_index_alone)
{
	static const char complete[] = "EXPLAIN UPDATE certificates SET "
	    "status = 'valid', der = x'00' WHERE serial = x'01'";
	static const char revoke[] = "EXPLAIN UPDATE certificates SET "
	    "status = 'revoked', ended = 1, revoked_at = 1, reason = 1 WHERE "
	    "serial = x'01'";
	char p[4096];
	struct hk_store *s = fresh("store_onelive_update", p, sizeof(p));
	sqlite3 *db;

	hk_store_close(s);
	cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
	cr_assert_eq(opened_for_writing(db, complete, "certificates_one_live"),
	    0, "completing rewrites the resident's index entry");
	/* the same reading sees the indexes that do change */
	cr_assert_eq(opened_for_writing(db, complete, "certificates_issuer"),
	    1);
	cr_assert_eq(opened_for_writing(db, revoke, "certificates_one_live"),
	    1);
	sqlite3_close(db);
}

Test(store, status_transitions_and_revocation_final)
{
	char p[4096];
	struct hk_store *s = fresh("store_revoke", p, sizeof(p));
	struct hk_store_cert a, got;

	cert(&a, 1, "431010", "RES-1");
	cr_assert_eq(hk_store_cert_reserve(s, &a), 0);
	/* a pending certificate cannot be revoked, only completed or voided */
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 1, 5, E, 3),
	    HK_ERR_INVALID);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"der", 3), 0);
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 6, 5, E, 3),
	    HK_ERR_INVALID, "certificateHold (6) is not a CPS reason");
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 0, 5, E, 3),
	    HK_ERR_INVALID, "unspecified (0) is never used");
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 1, 5, E, 3), 0);
	cr_assert_eq(hk_store_cert_get(s, a.serial, a.serial_len, &got), 0);
	cr_assert_eq(got.status, HK_CERT_REVOKED);
	/* revoked twice: refused (the reason or date never change) */
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 4, 9, E, 3),
	    HK_ERR_INVALID);
	hk_store_close(s);
	cr_assert_neq(raw(p, "UPDATE certificates SET status = 'valid', "
	    "revoked_at = NULL, reason = NULL"), SQLITE_OK, "un-revoke");
	cr_assert_neq(raw(p, "DELETE FROM crl_entries"), SQLITE_OK,
	    "a CRL entry is never removed");
	cr_assert_neq(raw(p, "UPDATE crl_entries SET entry = x'00'"),
	    SQLITE_OK, "a CRL entry never changes");
	cr_assert_neq(raw(p, "DELETE FROM certificates"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE certificates SET der = x'00'"),
	    SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (x'44', 0);"
	    "INSERT INTO certificates (serial, municipality, resident_key, "
	    "status, not_before, not_after, der, issuer) VALUES (x'44', "
	    "'431010', zeroblob(32), 'valid', 1, 2, x'00', x'11')"), SQLITE_OK,
	    "a certificate must start pending");
}

Test(store, revocation_and_crl_entry_together)
{
	char p[4096];
	struct hk_store *s = fresh("store_entry", p, sizeof(p));
	struct hk_store_cert a, got;

	cert(&a, 1, "431010", "RES-1");
	cr_assert_eq(hk_store_cert_reserve(s, &a), 0);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"der", 3), 0);
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 3, 7,
	    NULL, 0), HK_ERR_INVALID, "no entry, no revocation");
	cr_assert_eq(hk_store_cert_get(s, a.serial, a.serial_len, &got), 0);
	cr_assert_eq(got.status, HK_CERT_VALID, "nothing half-applied");
	cr_assert_eq(hk_store_cert_revoke(s, a.serial, a.serial_len, 3, 7, E,
	    3), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_cert_get(s, a.serial, a.serial_len, &got), 0);
	cr_assert_eq(got.reason, 3);
	cr_assert_eq(got.revoked_at, 7);
	cr_assert_eq(got.issuer_len, 20);
	hk_store_close(s);
	/* an entry for a certificate that is not revoked is refused */
	cr_assert_neq(raw(p, "INSERT INTO serials VALUES (x'45', 0);"
	    "INSERT INTO certificates (serial, municipality, resident_key, "
	    "status, not_before, not_after, issuer) VALUES (x'45', '431010', "
	    "zeroblob(32), 'pending', 1, 2, x'11');"
	    "INSERT INTO crl_entries (serial, municipality, issuer, not_after, "
	    "entry) VALUES (x'45', '431010', x'11', 2, x'3000')"), SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO crl_entries (serial, municipality, "
	    "issuer, not_after, entry) SELECT serial, municipality, issuer, "
	    "not_after, x'30' FROM certificates WHERE status = 'revoked'"),
	    SQLITE_OK, "one entry per serial");
	/* the entry carries the certificate's partition and issuing key:
	 * publish lists it on that key's CRL of that municipality only */
	cr_assert_eq(count(p, "SELECT count(*) FROM crl_entries WHERE "
	    "municipality = '431010' AND issuer = x'1111111111111111111111111111"
	    "111111111111' AND not_after = 1775000000 + 3 * 365 * 86400"), 1);
	/* and nothing else: a revoked certificate (raw) of key 22 */
	cr_assert_eq(raw(p, "INSERT INTO serials VALUES (x'46', 0);"
	    "INSERT INTO certificates (serial, municipality, resident_key, "
	    "status, not_before, not_after, issuer) VALUES (x'46', '431010', "
	    "randomblob(32), 'pending', 1, 2, x'22');"
	    "UPDATE certificates SET status = 'valid', der = x'30' WHERE "
	    "serial = x'46';"
	    "UPDATE certificates SET status = 'revoked', ended = 1, "
	    "revoked_at = 1, reason = 4 WHERE serial = x'46'"), SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO crl_entries (serial, municipality, "
	    "issuer, not_after, entry) VALUES (x'46', '431010', x'11', 2, "
	    "x'3000')"), SQLITE_OK, "another issuer's entry refused");
	cr_assert_neq(raw(p, "INSERT INTO crl_entries (serial, municipality, "
	    "issuer, not_after, entry) VALUES (x'46', '432024', x'22', 2, "
	    "x'3000')"), SQLITE_OK, "another municipality's entry refused");
	cr_assert_neq(raw(p, "INSERT INTO crl_entries (serial, municipality, "
	    "issuer, not_after, entry) VALUES (x'46', '431010', x'22', 3, "
	    "x'3000')"), SQLITE_OK, "another notAfter refused");
	cr_assert_eq(raw(p, "INSERT INTO crl_entries (serial, municipality, "
	    "issuer, not_after, entry) VALUES (x'46', '431010', x'22', 2, "
	    "x'3000')"), SQLITE_OK, "its own is taken");
}

Test(store, crash_keeps_reservation)
{
	char p[4096];
	struct hk_store *s = fresh("store_crash", p, sizeof(p));
	struct hk_store_cert a, got;

	cert(&a, 1, "431010", "RES-1");
	cr_assert_eq(hk_store_cert_reserve(s, &a), 0);
	/* "crash": the process goes away before signing; nothing closed */
	hk_store_close(s);
	cr_assert_eq(hk_store_open(p, 0, &s), 0);
	cr_assert_eq(hk_store_cert_get(s, a.serial, a.serial_len, &got), 0);
	cr_assert_eq(got.status, HK_CERT_PENDING);
	/* an open transaction that never commits leaves nothing */
	cr_assert_eq(hk_store_begin(s), 0);
	cr_assert_eq(hk_store_cert_complete(s, a.serial, a.serial_len,
	    (const unsigned char *)"der", 3), 0);
	hk_store_close(s);		/* rolls back */
	cr_assert_eq(hk_store_open(p, 0, &s), 0);
	cr_assert_eq(hk_store_cert_get(s, a.serial, a.serial_len, &got), 0);
	cr_assert_eq(got.status, HK_CERT_PENDING);
	hk_store_close(s);
}

Test(store, crl_numbers_only_increase)
{
	char p[4096];
	struct hk_store *s = fresh("store_crl", p, sizeof(p));
	uint64_t n;

	cr_assert_eq(hk_store_crl_number_next(s, "431010", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(hk_store_crl_number_next(s, "431010", &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(hk_store_crl_number_next(s, "432024", &n), 0);
	cr_assert_eq(n, 1, "per partition");
	cr_assert_eq(hk_store_crl_number_set(s, "431010", 2), HK_ERR_INVALID);
	cr_assert_eq(hk_store_crl_number_set(s, "431010", 1), HK_ERR_INVALID);
	cr_assert_eq(hk_store_crl_number_set(s, "431010", 10), 0);
	cr_assert_eq(hk_store_crl_number_get(s, "431010", &n), 0);
	cr_assert_eq(n, 10);
	hk_store_close(s);
	cr_assert_neq(raw(p, "UPDATE crl_numbers SET number = 3 WHERE "
	    "partition = '431010'"), SQLITE_OK);
	cr_assert_neq(raw(p, "DELETE FROM crl_numbers"), SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO crl_numbers VALUES ('x', 0)"),
	    SQLITE_OK);
}

Test(store, bundle_sequences_only_increase)
{
	char p[4096], signer[41];
	struct hk_store *s = fresh("store_bundle", p, sizeof(p));
	int64_t id;
	uint64_t last;
	char mh[65];

	memset(signer, 'a', 40);
	signer[40] = '\0';
	memset(mh, 'b', 64);
	mh[64] = '\0';
	cr_assert_eq(hk_store_bundle_add(s, signer, 2, "arl-batch", mh, 0,
	    &id), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_bundle_add(s, signer, 2, "arl-batch", mh, 0,
	    &id), HK_ERR_INVALID, "replay");
	cr_assert_eq(hk_store_bundle_add(s, signer, 1, "arl-batch", mh, 0,
	    &id), HK_ERR_INVALID, "older");
	cr_assert(strstr(hk_err_msg(), "SPEC 8") != NULL, "%s", hk_err_msg());
	cr_assert_eq(hk_store_bundle_last(s, signer, &last), 0);
	cr_assert_eq(last, 2);
	cr_assert(hk_store_bundle_has(s, signer, 2));
	hk_store_close(s);
	cr_assert_neq(raw(p, "DELETE FROM bundles"), SQLITE_OK);
}

Test(store, arls_and_ca_certs)
{
	char p[4096];
	struct hk_store *s = fresh("store_arl", p, sizeof(p));
	uint64_t last;
	int n;

	cr_assert_eq(hk_store_arl_add(s, 5, 10, 20, (const unsigned char *)"a",
	    1, 0), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_arl_add(s, 5, 10, 20, (const unsigned char *)"b",
	    1, 0), HK_ERR_INVALID);
	cr_assert_eq(hk_store_arl_add(s, 4, 10, 20, (const unsigned char *)"c",
	    1, 0), HK_ERR_INVALID);
	cr_assert_eq(hk_store_arl_add(s, 6, 20, 10, (const unsigned char *)"d",
	    1, 0), HK_ERR_INVALID, "nextUpdate before thisUpdate");
	cr_assert_eq(hk_store_arl_last(s, &last), 0);
	cr_assert_eq(last, 5);
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 1, "C=JP",
	    (const unsigned char *)"root", 4, 0), 0);
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 1, "C=JP",
	    (const unsigned char *)"root", 4, 0), HK_ERR_EXISTS);
	cr_assert_eq(hk_store_ca_count(s, HK_CA_ROOT, &n), 0);
	cr_assert_eq(n, 1);
	hk_store_close(s);
	cr_assert_neq(raw(p, "DELETE FROM ca_certs"), SQLITE_OK);
	cr_assert_neq(raw(p, "UPDATE arls SET der = x'00'"), SQLITE_OK);
	cr_assert_neq(raw(p, "INSERT INTO ca_certs VALUES (zeroblob(32), "
	    "'user', 0, 'x', x'00', NULL)"), SQLITE_OK);
}

Test(store, transactions_all_or_nothing)
{
	char p[4096];
	struct hk_store *s = fresh("store_tx", p, sizeof(p));
	uint64_t last;

	cr_assert_eq(hk_store_begin(s), 0);
	cr_assert_eq(hk_store_arl_add(s, 1, 10, 20, (const unsigned char *)"a",
	    1, 0), 0);
	cr_assert_eq(hk_store_arl_add(s, 1, 10, 20, (const unsigned char *)"b",
	    1, 0), HK_ERR_INVALID);
	hk_store_rollback(s);
	cr_assert_eq(hk_store_arl_last(s, &last), 0);
	cr_assert_eq(last, 0, "the first insert went with the rollback");
	hk_store_close(s);
}

/*
 * A full disk and a failing disk without a tmpfs: a VFS over SQLite's
 * default one whose xWrite answers fail_rc while it is set (SQLITE_FULL is
 * what the unix VFS makes of ENOSPC, SQLITE_IOERR_WRITE of EIO). It is
 * made the default VFS in this test's process only (Criterion runs each
 * test in its own), so the store opens its file through it unchanged.
 */
static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;
/* the unix VFS gives the database and its WAL or journal different
 * methods (locking or not): one copy of each */
static const sqlite3_io_methods *real_methods[4];
static sqlite3_io_methods shim_methods[4];
static int fail_rc;

static int
shim_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	size_t i = (size_t)(f->pMethods - shim_methods);

	return fail_rc != 0 ? fail_rc :
	    real_methods[i]->xWrite(f, buf, n, off);
}

/* The real xOpen fills f; its methods are swapped for a copy whose xWrite
 * is shim_write (every other method is the real one, on the real file). */
static int
shim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
    int flags, int *out)
{
	int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
	size_t i;

	(void)vfs;
	if (rc != SQLITE_OK || f->pMethods == NULL)
		return rc;
	for (i = 0; i < 4 && real_methods[i] != NULL &&
	    real_methods[i] != f->pMethods; i++)
		;
	if (i == 4) {			/* more kinds than expected */
		f->pMethods->xClose(f);
		f->pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	if (real_methods[i] == NULL) {
		real_methods[i] = f->pMethods;
		shim_methods[i] = *f->pMethods;
		shim_methods[i].xWrite = shim_write;
	}
	f->pMethods = &shim_methods[i];
	return rc;
}

static void
shim_install(void)
{
	cr_assert_not_null(real_vfs = sqlite3_vfs_find(NULL));
	shim_vfs = *real_vfs;
	shim_vfs.zName = "hanko-test-failing-writes";
	shim_vfs.xOpen = shim_open;
	cr_assert_eq(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

/* docs/store.md, store.h: SQLITE_FULL and SQLITE_IOERR are HK_ERR_IO
 * (exit 8, hanko-online(1) EXIT STATUS), with the store and what was
 * being done named; nothing is half-applied and the store goes on. */
Test(store, disk_full_and_io_error_are_io_errors)
{
	static const struct {
		int rc;
		const char *text;
	} cases[] = {
		{ SQLITE_FULL, "database or disk is full" },
		{ SQLITE_IOERR_WRITE, "disk I/O error" },
	};
	char p[4096], want[4200], name[32];
	struct hk_store *s;
	struct hk_store_cert c, got;
	size_t i;
	int r;

	shim_install();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "store_diskfail_%zu", i);
		s = fresh(name, p, sizeof(p));
		cert(&c, 1, "431010", "A");
		fail_rc = cases[i].rc;
		r = hk_store_cert_reserve(s, &c);
		fail_rc = 0;
		cr_assert_eq(r, HK_ERR_IO, "%s: %d %s", cases[i].text, r,
		    hk_err_msg());
		cr_assert_eq(hk_exit_code(r), 8);
		snprintf(want, sizeof(want), "%s: commit: %s", p,
		    cases[i].text);
		cr_assert_str_eq(hk_err_msg(), want);
		cr_assert_eq(hk_store_cert_get(s, c.serial, c.serial_len, &got),
		    HK_ERR_NOT_FOUND, "the failed reservation is not there");
		cr_assert_eq(hk_store_cert_reserve(s, &c), 0, "%s",
		    hk_err_msg());
		hk_store_close(s);
		cr_assert_eq(count(p, "SELECT count(*) FROM serials"), 1);
	}
}

static int
page_problem(const char *problem, void *arg)
{
	(void)problem;
	(*(int *)arg)++;
	return 0;
}

/* hk_store_snapshot (docs/backup.md): the copy is the store as its last
 * commit left it, taken while another connection holds a write
 * transaction open, with what is committed only in the -wal file; never
 * over an existing file. hk_store_open_copy reads it without writing a
 * byte of it or making a -wal, -shm or -journal file beside it. */
Test(store, snapshot_is_the_last_commit_and_its_copy_read_untouched)
{
	static const char id[] = "0123456789abcdef0123456789abcdef";
	char p[4096], dest[4200], side[4300];
	struct hk_store *s = NULL, *c = NULL;
	unsigned char *before, *after;
	size_t blen, alen;
	int n, problems = 0;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_snapshot"));
	snprintf(dest, sizeof(dest), "%s.copy", p);
	cr_assert_eq(hk_store_create(p, id, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 1, "C=JP",
	    (const unsigned char *)"root1", 5, 0), 0, "%s", hk_err_msg());
	snprintf(side, sizeof(side), "%s-wal", p);
	cr_assert_eq(access(side, F_OK), 0, "the commit is in the -wal file");
	cr_assert_eq(hk_store_begin(s), 0);
	cr_assert_eq(hk_store_ca_add(s, HK_CA_ROOT, 2, "C=JP",
	    (const unsigned char *)"root2", 5, 0), 0, "%s", hk_err_msg());
	/* the write transaction open: the copy goes on without it */
	cr_assert_eq(hk_store_snapshot(p, dest), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_commit(s), 0);
	hk_store_close(s);
	before = hk_test_read(dest, &blen);
	cr_assert_eq(hk_store_open_copy(dest, &c), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_store_ca_count(c, HK_CA_ROOT, &n), 0, "%s",
	    hk_err_msg());
	cr_expect_eq(n, 1, "the committed row only");
	{
		char got[64];
		cr_assert_eq(hk_store_id(c, got, sizeof(got)), 0);
		cr_expect_str_eq(got, id);
	}
	cr_assert_eq(hk_store_pages_check(c, page_problem, &problems), 0);
	cr_expect_eq(problems, 0);
	cr_expect_neq(hk_store_ca_add(c, HK_CA_ROOT, 3, "C=JP",
	    (const unsigned char *)"root3", 5, 0), 0, "a copy is read only");
	hk_store_close(c);
	after = hk_test_read(dest, &alen);
	cr_expect(alen == blen && memcmp(before, after, blen) == 0,
	    "not a byte of the copy written");
	free(before);
	free(after);
	snprintf(side, sizeof(side), "%s-wal", dest);
	cr_expect_eq(access(side, F_OK), -1, "no -wal made beside the copy");
	snprintf(side, sizeof(side), "%s-shm", dest);
	cr_expect_eq(access(side, F_OK), -1, "no -shm made beside the copy");
	snprintf(side, sizeof(side), "%s-journal", dest);
	cr_expect_eq(access(side, F_OK), -1, "no -journal beside the copy");
	/* the live store has both rows; a second copy over the first is
	 * refused and leaves it */
	cr_assert_eq(count(p, "SELECT count(*) FROM ca_certs"), 2);
	before = hk_test_read(dest, &blen);
	cr_expect_eq(hk_store_snapshot(p, dest), HK_ERR_EXISTS);
	after = hk_test_read(dest, &alen);
	cr_expect(alen == blen && memcmp(before, after, blen) == 0);
	free(before);
	free(after);
	/* not a store: refused, nothing made */
	snprintf(side, sizeof(side), "%s.none", p);
	cr_expect_eq(hk_store_snapshot(side, dest), HK_ERR_NOT_FOUND);
}

/* A backup's store.db taken before an upgrade (schema 6 to 8) is opened by
 * hk_store_open_copy and checked against the schema of its own version,
 * as init and the upgrades made it: consistent as it is, an altered,
 * missing or unexpected object still found; hk_store_open still refuses
 * it (only the upgrade opens it), and a version this binary does not
 * upgrade (older than 6, newer than its own) is refused as a copy too. */
Test(store, open_copy_of_an_older_schema_checked_against_that_version)
{
	static const char id[] = "0123456789abcdef0123456789abcdef";
	static const char *drop_id = "DROP TRIGGER meta_store_id_once; "
	    "DROP TRIGGER meta_store_id_fixed; DROP TRIGGER "
	    "meta_store_id_no_delete; DELETE FROM meta WHERE key = "
	    "'store.id'; UPDATE meta SET value = '6' WHERE key = 'schema'";
	char p[4096], q[4200], got[64];
	struct hk_store *s = NULL, *c = NULL;
	int problems, v;

	snprintf(p, sizeof(p), "%s/store.db", hk_test_dir("store_copy_old"));
	cr_assert_eq(hk_store_create(p, id, &s), 0, "%s", hk_err_msg());
	hk_store_close(s);
	cr_assert_eq(raw(p, KEYS_8), SQLITE_OK);
	cr_assert_eq(raw(p, "UPDATE meta SET value = '8' WHERE key = "
	    "'schema'"), SQLITE_OK);
	/* schema 8: as it is, consistent with schema 8 */
	cr_assert_eq(hk_store_open_copy(p, &c), 0, "%s", hk_err_msg());
	cr_expect_eq(hk_store_schema(c), 8);
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 0, "schema 8 as init made it");
	hk_store_close(c);
	cr_expect_eq(hk_store_open(p, 0, &s), HK_ERR_STATE,
	    "opened to write only once upgraded");
	cr_assert_eq(raw(p, OCSP_7), SQLITE_OK);
	cr_assert_eq(raw(p, "UPDATE meta SET value = '7' WHERE key = "
	    "'schema'"), SQLITE_OK);
	/* schema 7: as it is, consistent with schema 7 */
	cr_assert_eq(hk_store_open_copy(p, &c), 0, "%s", hk_err_msg());
	cr_expect_eq(hk_store_schema(c), 7);
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 0, "schema 7 as init made it");
	cr_assert_eq(hk_store_id(c, got, sizeof(got)), 0);
	cr_expect_str_eq(got, id);
	hk_store_close(c);
	cr_expect_eq(hk_store_open(p, 0, &s), HK_ERR_STATE,
	    "opened to write only once upgraded");
	/* a trigger altered, one missing, one unexpected: each found */
	cr_assert_eq(raw(p, "DROP TRIGGER serials_no_delete; CREATE TRIGGER "
	    "serials_no_delete BEFORE DELETE ON serials BEGIN SELECT 1; END; "
	    "DROP TRIGGER meta_store_id_fixed; CREATE TABLE extra (x INTEGER) "
	    "STRICT"), SQLITE_OK);
	cr_assert_eq(hk_store_open_copy(p, &c), 0, "%s", hk_err_msg());
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 3, "altered, missing, unexpected");
	hk_store_close(c);
	/* schema 6 (no store id): consistent with schema 6; with schema 7's
	 * triggers left in it, they are unexpected */
	snprintf(q, sizeof(q), "%s.6", p);
	cr_assert_eq(hk_store_create(q, id, &s), 0, "%s", hk_err_msg());
	hk_store_close(s);
	cr_assert_eq(raw(q, KEYS_8), SQLITE_OK);
	cr_assert_eq(raw(q, OCSP_7), SQLITE_OK);
	cr_assert_eq(raw(q, drop_id), SQLITE_OK);
	cr_assert_eq(hk_store_open_copy(q, &c), 0, "%s", hk_err_msg());
	cr_expect_eq(hk_store_schema(c), 6);
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 0, "schema 6 as init made it");
	cr_expect_eq(hk_store_id(c, got, sizeof(got)), HK_ERR_NOT_FOUND);
	hk_store_close(c);
	cr_assert_eq(raw(q, "UPDATE meta SET value = '7' WHERE key = "
	    "'schema'"), SQLITE_OK);
	cr_assert_eq(hk_store_open_copy(q, &c), 0, "%s", hk_err_msg());
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 3, "schema 7's three triggers missing");
	hk_store_close(c);
	/* versions not upgraded: refused as a copy, named */
	for (v = 5; v <= HK_STORE_SCHEMA + 1; v += HK_STORE_SCHEMA - 4) {
		char sql[64];
		snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE "
		    "key = 'schema'", v);
		cr_assert_eq(raw(q, sql), SQLITE_OK);
		cr_expect_eq(hk_store_open_copy(q, &c), HK_ERR_STATE,
		    "schema %d", v);
		cr_expect(strstr(hk_err_msg(), "reads schema 9, and 6 to 8 in "
		    "a backup") != NULL, "%s", hk_err_msg());
	}
	/* the current version: as before */
	cr_assert_eq(hk_store_create(q, id, &s), HK_ERR_EXISTS);
	snprintf(q, sizeof(q), "%s.9", p);
	cr_assert_eq(hk_store_create(q, id, &s), 0, "%s", hk_err_msg());
	hk_store_close(s);
	cr_assert_eq(hk_store_open_copy(q, &c), 0, "%s", hk_err_msg());
	cr_expect_eq(hk_store_schema(c), HK_STORE_SCHEMA);
	problems = 0;
	cr_assert_eq(hk_store_schema_check(c, 0, schema_problem, &problems),
	    0, "%s", hk_err_msg());
	cr_expect_eq(problems, 0);
	hk_store_close(c);
}

/* ---- municipalities ---- */

#define SHIPPED HANKO_SOURCE_DIR "/online/data/municipalities-kumamoto.csv"

Test(municipalities, check_digit_algorithm)
{
	cr_assert_eq(hk_muni_check_digit("43100"), 1);	/* Kumamoto-shi */
	cr_assert_eq(hk_muni_check_digit("13101"), 6);	/* Chiyoda-ku */
	cr_assert_eq(hk_muni_check_digit("01100"), 2);	/* Sapporo-shi */
	cr_assert(hk_muni_code_ok("431001"));
	cr_assert(!hk_muni_code_ok("431002"));
	cr_assert(!hk_muni_code_ok("43100"));
	cr_assert(!hk_muni_code_ok("43100x"));
}

Test(municipalities, shipped_file)
{
	struct hk_munis *m = NULL;
	const struct hk_muni *k;
	size_t i, wards = 0;

	cr_assert_eq(hk_munis_load(SHIPPED, &m), 0, "%s", hk_err_msg());
	cr_assert_eq(m->municipalities, 45, "45 municipalities of Kumamoto");
	for (i = 0; i < m->n; i++) {
		int sum = 0, d, j;
		for (j = 0; j < 5; j++)
			sum += (m->m[i].code[j] - '0') * (6 - j);
		d = 11 - sum % 11;
		d = d == 10 ? 0 : d == 11 ? 1 : d;
		cr_assert_eq(m->m[i].code[5] - '0', d, "%s", m->m[i].code);
		cr_assert_eq(strncmp(m->m[i].code, "43", 2), 0);
		wards += m->m[i].kind == HK_MUNI_WARD;
	}
	cr_assert_eq(wards, 5);
	cr_assert_eq(m->partitions, 49, "44 + 5 wards of Kumamoto-shi");
	cr_assert_not_null(k = hk_munis_find(m, "431001"));
	cr_assert_eq(k->partition, 0, "Kumamoto-shi is partitioned by ward");
	cr_assert_not_null(k = hk_munis_find(m, "431010"));
	cr_assert_str_eq(k->kanji, "熊本市中央区");
	cr_assert_not_null(k = hk_munis_find(m, "433489"));
	cr_assert_str_eq(k->romaji, "Misato-machi");
	for (i = 0; i < m->n; i++)
		cr_assert_eq(m->m[i].retired, 0, "%s: the shipped file retires "
		    "nothing", m->m[i].code);
	hk_munis_free(m);
}

static int
load_text(const char *name, const char *text)
{
	char path[4096];
	struct hk_munis *m = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/m.csv", hk_test_dir(name));
	hk_test_write(path, text, strlen(text));
	r = hk_munis_load(path, &m);
	hk_munis_free(m);
	return r;
}

#define HDR "code,kind,parent,romaji,kanji,partition,district\n"

Test(municipalities, strict_loader)
{
	cr_assert_eq(load_text("mu_ok", HDR "432024,city,,Yatsushiro-shi,"
	    "八代市,yes,\n"), 0, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_cd", HDR "432025,city,,Yatsushiro-shi,"
	    "八代市,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: code") != NULL, "%s",
	    hk_err_msg());
	cr_assert_eq(load_text("mu_hdr", "code,kind\n"), HK_ERR_PARSE);
	cr_assert_eq(load_text("mu_fields", HDR "432024,city,,Yatsushiro-shi,"
	    "八代市\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_dup", HDR "432024,city,,A-shi,甲,yes,\n"
	    "432024,city,,B-shi,乙,yes,\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_duprom", HDR "432024,city,,A-shi,甲,yes,\n"
	    "432032,city,,A-shi,乙,yes,\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_kind", HDR "432024,county,,A-shi,甲,yes,\n"),
	    HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_pref", HDR "432024,city,,A-shi,甲,yes,\n"
	    "131016,city,,Chiyoda-ku,千代田区,yes,\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_romaji", HDR "432024,city,,Yatsushiro/shi,"
	    "八代市,yes,\n"), HK_ERR_INVALID);
	/* 54 characters: "<romaji> CRLDP 999" is 64; 55 would not fit */
	cr_assert_eq(load_text("mu_romaji54", HDR "432024,city,,"
	    "Aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-aaaaaa-shi,八代市,"
	    "yes,\n"), 0, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_romaji55", HDR "432024,city,,"
	    "Aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-aaaaaaaaaa-aaaaaaa-shi,八代市,"
	    "yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "has 55 characters; at most 54") !=
	    NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_utf8", HDR "432024,city,,A-shi,\xff,yes,\n"),
	    HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_ward_orphan", HDR "431010,ward,431001,"
	    "A-ku,甲,yes,\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_both", HDR "431001,city,,K-shi,熊本市,yes,\n"
	    "431010,ward,431001,K-shi Chuo-ku,中央区,yes,\n"), HK_ERR_INVALID,
	    "a city is partitioned whole or by ward, not both");
	cr_assert_eq(load_text("mu_nopart", HDR "432024,city,,A-shi,甲,no,\n"),
	    HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_crlf", HDR "432024,city,,A-shi,甲,yes,\r\n"),
	    HK_ERR_PARSE);
	cr_assert_eq(load_text("mu_nonl", HDR "432024,city,,A-shi,甲,yes,"),
	    HK_ERR_PARSE);
	cr_assert_eq(load_text("mu_blank", HDR "432024,city,, A-shi,甲,yes,\n"),
	    HK_ERR_INVALID);
	/* the district (郡): a town's or village's, never a city's */
	cr_assert_eq(load_text("mu_gun", HDR "434434,town,,Mashiki-machi,"
	    "益城町,yes,上益城郡\n"), 0, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_gun_none", HDR "434434,town,,"
	    "Mashiki-machi,益城町,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: district: a town or village "
	    "names its district") != NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_gun_bare", HDR "434256,village,,"
	    "Ubuyama-mura,産山村,yes,郡\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_gun_not", HDR "434434,town,,"
	    "Mashiki-machi,益城町,yes,上益城\n"), HK_ERR_INVALID);
	cr_assert_eq(load_text("mu_gun_city", HDR "432024,city,,A-shi,甲,yes,"
	    "八代郡\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "only a town or village lies in a "
	    "district") != NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_6", "code,kind,parent,romaji,kanji,"
	    "partition\n432024,city,,A-shi,甲,yes\n"), HK_ERR_PARSE,
	    "the six-column header of schema 5 and before");
}

#define HDR8 "code,kind,parent,romaji,kanji,partition,district,retired\n"

/* docs/municipalities.md, "A merger or a rename": the optional retired
 * column, the first day (JST) on which a merged town issues nothing; the
 * row stays a partition. */
Test(municipalities, retired_column)
{
	char path[4096];
	const char *text = HDR8 "432024,city,,Yatsushiro-shi,八代市,yes,,\n"
	    "434434,town,,Mashiki-machi,益城町,yes,上益城郡,2027-04-01\n";
	struct hk_munis *m = NULL;
	const struct hk_muni *k;
	time_t t;

	snprintf(path, sizeof(path), "%s/m.csv", hk_test_dir("mu_retired"));
	hk_test_write(path, text, strlen(text));
	cr_assert_eq(hk_munis_load(path, &m), 0, "%s", hk_err_msg());
	cr_assert_eq(m->partitions, 2, "a retired row is still a partition");
	cr_assert_not_null(k = hk_munis_find(m, "432024"));
	cr_assert_eq(k->retired, 0);
	cr_assert_str_eq(k->retired_day, "");
	cr_assert(hk_muni_issuing(k, (time_t)4102444800));	/* 2100 */
	cr_assert_not_null(k = hk_munis_find(m, "434434"));
	cr_assert_str_eq(k->retired_day, "2027-04-01");
	cr_assert_eq(k->partition, 1);
	/* 2027-04-01 00:00 in Japan (UTC+9) */
	cr_assert_eq(hk_time_parse("2027-03-31T15:00:00Z", &t), 0);
	cr_assert_eq(k->retired, t);
	cr_assert(hk_muni_issuing(k, t - 1), "issues until the day before");
	cr_assert(!hk_muni_issuing(k, t), "not from the day on");
	hk_munis_free(m);
	/* the seven-column header of files made before stays valid */
	cr_assert_eq(load_text("mu_ret7", HDR "432024,city,,A-shi,甲,yes,\n"),
	    0, "%s", hk_err_msg());
}

Test(municipalities, retired_bad_values_named)
{
	static const char *bad[] = { "2027-4-01", "2027-04-1", "2027/04/01",
	    "2027-02-29", "2027-13-01", "2027-04-31", "1969-12-31",
	    "２０２７-04-01", "yes", "2027-04-01T00:00:00Z", "+027-04-01" };
	char text[256], want[128];
	size_t i;

	cr_assert_eq(load_text("mu_ret_leap", HDR8 "432024,city,,A-shi,甲,yes,"
	    ",2028-02-29\n"), 0, "%s", hk_err_msg());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HDR8 "432032,city,,B-shi,乙,yes,,\n"
		    "432024,city,,A-shi,甲,yes,,%s\n", bad[i]);
		cr_assert_eq(load_text("mu_ret_bad", text), HK_ERR_INVALID,
		    "%s", bad[i]);
		snprintf(want, sizeof(want), "m.csv:3: retired: \"%s\" is not "
		    "a day YYYY-MM-DD", bad[i]);
		cr_assert(strstr(hk_err_msg(), want) != NULL, "%s: %s", bad[i],
		    hk_err_msg());
	}
	cr_assert_eq(load_text("mu_ret_blank", HDR8 "432024,city,,A-shi,甲,yes,"
	    ", 2027-04-01\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: field 8: no blanks") != NULL,
	    "%s", hk_err_msg());
	/* a city with wards issues nothing itself: its wards are retired */
	cr_assert_eq(load_text("mu_ret_city", HDR8 "431001,city,,K-shi,熊本市,"
	    "no,,2027-04-01\n431010,ward,431001,K-shi Chuo-ku,中央区,yes,,\n"),
	    HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: retired: only a partition "
	    "row issues") != NULL, "%s", hk_err_msg());
	/* every row has the header's fields */
	cr_assert_eq(load_text("mu_ret_7in8", HDR8 "432024,city,,A-shi,甲,yes,"
	    "\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: 7 fields, expected 8 (code,"
	    "kind,parent,romaji,kanji,partition,district,retired)") != NULL,
	    "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_ret_8in7", HDR "432024,city,,A-shi,甲,yes,,"
	    "2027-04-01\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: more than 7 fields") != NULL,
	    "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_ret_hdr", "code,kind,parent,romaji,kanji,"
	    "partition,district,retired_on\n432024,city,,A-shi,甲,yes,,\n"),
	    HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "m.csv:1: the first line must be") !=
	    NULL, "%s", hk_err_msg());
}

/*
 * Partition names are compared as RFC 5280 7.1 / RFC 4518 say (OpenSSL's
 * X509_NAME_cmp, LDAP): case ignored. Two romaji differing in case alone
 * would name one partition: a CRL of the one in scope for the other's
 * certificates, one LDAP entry for both.
 */
Test(municipalities, romaji_unique_ignoring_case)
{
	cr_assert_eq(load_text("mu_duprom_case", HDR "432024,city,,"
	    "Yatsushiro-shi,八代市,yes,\n# a comment\n432032,city,,"
	    "YATSUSHIRO-Shi,人吉市,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:4: romaji: \"YATSUSHIRO-Shi\" "
	    "also names 432024 (line 2)") != NULL, "%s", hk_err_msg());
}

/* docs/municipalities.md: every failure names the file and line, also
 * the rules across rows. */
Test(municipalities, rules_across_rows_name_the_line)
{
	cr_assert_eq(load_text("mu_dup_line", HDR "432024,city,,A-shi,甲,yes,\n"
	    "\n432024,city,,B-shi,乙,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:4: code: 432024 listed twice "
	    "(line 2)") != NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_pref_line", HDR "432024,city,,A-shi,甲,yes,\n"
	    "131016,city,,Chiyoda-ku,千代田区,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:3: code: 131016: prefecture 13 "
	    "differs from the first row's 43") != NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_ward_line", HDR "431010,ward,431001,A-ku,"
	    "甲,yes,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:2: parent: 431001 is not a city "
	    "of the file") != NULL, "%s", hk_err_msg());
	cr_assert_eq(load_text("mu_nopart_line", HDR "# x\n432024,city,,A-shi,"
	    "甲,no,\n"), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "m.csv:3: partition: a municipality "
	    "without wards must be a partition") != NULL, "%s", hk_err_msg());
}

/* A spreadsheet's UTF-8 byte order mark makes the header look right on
 * the screen and still differ: the message says what it is. */
Test(municipalities, bom_named)
{
	cr_assert_eq(load_text("mu_bom", "\xef\xbb\xbf" HDR "432024,city,,"
	    "A-shi,甲,yes,\n"), HK_ERR_PARSE);
	cr_assert(strstr(hk_err_msg(), "m.csv:1: a byte order mark (BOM) "
	    "before the header") != NULL, "%s", hk_err_msg());
}
