/*
 * store_sqlite.c - the embedded store of hanko-online: SQLite in WAL mode
 * with synchronous=FULL (a committed transaction survives power loss), the
 * rules of store.h in the schema (docs/store.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "err.h"
#include "hex.h"
#include "store.h"
#include "store_int.h"

/*
 * Schema 7: the store id (meta store.id, docs/store.md "The store id"),
 * state.conf's store.id, recorded once (by init, or by the upgrade of a
 * schema 6 store) and never changed, replaced or deleted. The same text
 * in the schema and in the upgrade, so an upgraded store is the schema
 * hk_store_open makes (hanko-online check).
 */
#define STORE_ID_SQL \
"CREATE TRIGGER meta_store_id_once BEFORE INSERT ON meta\n" \
"WHEN NEW.key = 'store.id' AND (EXISTS (SELECT 1 FROM meta\n" \
"  WHERE key = 'store.id') OR length(NEW.value) <> 32\n" \
"  OR NEW.value GLOB '*[^0-9a-f]*') BEGIN\n" \
"  SELECT RAISE(ABORT, 'meta: store.id: recorded once, 32 lowercase hex " \
"digits (state.conf store.id)');\n" \
"END;\n" \
"CREATE TRIGGER meta_store_id_fixed BEFORE UPDATE ON meta\n" \
"WHEN OLD.key = 'store.id' OR NEW.key = 'store.id' BEGIN\n" \
"  SELECT RAISE(ABORT, 'meta: store.id: the store id never changes');\n" \
"END;\n" \
"CREATE TRIGGER meta_store_id_no_delete BEFORE DELETE ON meta\n" \
"WHEN OLD.key = 'store.id' BEGIN\n" \
"  SELECT RAISE(ABORT, 'meta: store.id: the store id is never deleted');\n" \
"END;\n"

/*
 * Schema 8: the responder that signed each pre-signed OCSP response (the
 * SHA-256 of its certificate; docs/ocsp.md "Pre-signed responses"): a
 * response of another than the current responder is due. Added by ALTER TABLE in the
 * schema as in the upgrade of a schema 6 or 7 store, so both have the same
 * text (hanko-online check); the rows already there get NULL (none
 * recorded: due, signed again by the next refresh). SQLite checks the
 * CHECK against them: one read of the table, once.
 */
#define OCSP_RESPONDER_SQL \
"ALTER TABLE ocsp_responses ADD COLUMN responder BLOB\n" \
"  CHECK (length(responder) = 32);\n"

/*
 * Schema 9: the public keys of the certificates revoked keyCompromise
 * (CPS 4-4-2-1, 4-4-2-5: a compromised key is never certified again; a
 * lost or stolen card), the SHA-256 of the subjectPublicKey bits, recorded
 * in the transaction that revokes (hk_store_cert_revoke, and the upgrade
 * for the revocations already there), so issue looks a key up instead of
 * parsing every revoked certificate at each run. A table of its own, not a
 * column of certificates: a few rows beside a million, read whole by issue
 * in key order (WITHOUT ROWID: one B-tree), with no change to the
 * certificates table or its hot UPDATEs, and a key revoked twice (two
 * certificates of one key) one row, the first certificate's. A row only for
 * a certificate revoked keyCompromise; never changed or deleted.
 */
#define COMPROMISED_KEYS_SQL \
"CREATE TABLE compromised_keys (\n" \
"  key_sha256 BLOB PRIMARY KEY CHECK (typeof(key_sha256) = 'blob'\n" \
"    AND length(key_sha256) = 32),\n" \
"  serial BLOB NOT NULL UNIQUE REFERENCES certificates(serial)\n" \
") STRICT, WITHOUT ROWID;\n" \
"CREATE TRIGGER compromised_keys_revoked BEFORE INSERT ON compromised_keys\n" \
"WHEN (SELECT status = 'revoked' AND reason = 1 FROM certificates\n" \
"  WHERE serial = NEW.serial) IS NOT 1 BEGIN\n" \
"  SELECT RAISE(ABORT, 'compromised_keys: only the key of a certificate " \
"revoked keyCompromise (1)');\n" \
"END;\n" \
"CREATE TRIGGER compromised_keys_fixed BEFORE UPDATE ON compromised_keys\n" \
"BEGIN\n" \
"  SELECT RAISE(ABORT, 'compromised_keys: a compromised key never " \
"changes');\n" \
"END;\n" \
"CREATE TRIGGER compromised_keys_no_delete BEFORE DELETE ON " \
"compromised_keys\n" \
"BEGIN\n" \
"  SELECT RAISE(ABORT, 'compromised_keys: a compromised key is never " \
"forgotten');\n" \
"END;\n"

/*
 * The schema. Every rule of store.h is here, not in C: a second backend
 * translates these statements and keeps the same tests. The schema of
 * version N is made of these pieces (schema_make): schema_meta_sql, then
 * STORE_ID_SQL (7 on), schema_sql, OCSP_RESPONDER_SQL (8 on),
 * COMPROMISED_KEYS_SQL (9 on) -- the same
 * text the upgrades run, so a backup's store.db of schema 6 to 8 is
 * checked against its own version's schema (hk_store_open_copy), with no
 * second copy of it.
 */
static const char schema_meta_sql[] =
"CREATE TABLE meta (\n"
"  key TEXT PRIMARY KEY,\n"
"  value TEXT NOT NULL\n"
") STRICT;\n";

static const char schema_sql[] =
/* Serials: reserved before signing, never reused, never deleted. One
 * B-tree (WITHOUT ROWID); the issuer's serials ascend with time
 * (hk_cert_serial_make), so it grows at one end. */
"CREATE TABLE serials (\n"
"  serial BLOB PRIMARY KEY CHECK (typeof(serial) = 'blob'\n"
"    AND length(serial) BETWEEN 1 AND 20),\n"
"  reserved_at INTEGER NOT NULL\n"
") STRICT, WITHOUT ROWID;\n"
"CREATE TRIGGER serials_no_delete BEFORE DELETE ON serials BEGIN\n"
"  SELECT RAISE(ABORT, 'serials: a serial is never deleted (never reused)');\n"
"END;\n"
"CREATE TRIGGER serials_no_update BEFORE UPDATE ON serials BEGIN\n"
"  SELECT RAISE(ABORT, 'serials: a serial is never changed');\n"
"END;\n"
/* Residents' certificates. */
"CREATE TABLE certificates (\n"
"  serial BLOB PRIMARY KEY REFERENCES serials(serial),\n"
"  municipality TEXT NOT NULL CHECK (length(municipality) = 6\n"
"    AND municipality GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'),\n"
"  resident_key BLOB NOT NULL CHECK (typeof(resident_key) = 'blob'\n"
"    AND length(resident_key) = 32),\n"
"  status TEXT NOT NULL CHECK (status IN\n"
"    ('pending', 'valid', 'revoked', 'void')),\n"
"  not_before INTEGER NOT NULL,\n"
"  not_after INTEGER NOT NULL CHECK (not_after > not_before),\n"
"  issuer BLOB NOT NULL CHECK (typeof(issuer) = 'blob'\n"
"    AND length(issuer) BETWEEN 1 AND 64),\n"
"  tbs BLOB,\n"
"  der BLOB,\n"
"  revoked_at INTEGER,\n"
"  reason INTEGER CHECK (reason IN (1, 2, 3, 4, 5)),\n"
"  ended INTEGER CHECK (ended = 1),\n"
"  live INTEGER GENERATED ALWAYS AS (CASE WHEN ended IS NULL THEN 1 END)\n"
"    VIRTUAL,\n"
"  CHECK (status <> 'pending' OR ended IS NULL),\n"
"  CHECK (status NOT IN ('revoked', 'void') OR ended = 1),\n"
"  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL\n"
"    AND reason IS NOT NULL)),\n"
"  CHECK (status NOT IN ('valid', 'revoked') OR der IS NOT NULL)\n"
") STRICT;\n"
/* CPS 4-2-3: one live certificate per resident. `live` is 1 for a
 * pending or valid row and NULL otherwise (a valid row also ends once it
 * has expired and the resident's next certificate is reserved: CPS 4-2-3
 * refuses only a second *valid* certificate; hk_store_batch_expire), and
 * NULLs never collide in a
 * UNIQUE index: so one index both refuses a second live row and finds a
 * resident's history (one random-keyed B-tree per insert, not two). It is
 * computed from `ended` (NULL while pending or valid, 1 once revoked or
 * void: the CHECK above), not from status, so that completing a
 * certificate (pending->valid) leaves this index alone: SQLite rewrites
 * the index entries of every column an UPDATE's columns feed. */
"CREATE UNIQUE INDEX certificates_one_live ON certificates\n"
"  (resident_key, live);\n"
"CREATE INDEX certificates_issuer ON certificates (issuer, status);\n"
"CREATE INDEX certificates_partition ON certificates (municipality, status);\n"
"CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates BEGIN\n"
"  SELECT RAISE(ABORT, 'certificates: a certificate is never deleted');\n"
"END;\n"
"CREATE TRIGGER certificates_transition BEFORE UPDATE ON certificates\n"
"WHEN NOT ((OLD.status = 'pending' AND NEW.status IN ('valid', 'void'))\n"
"  OR (OLD.status = 'valid' AND NEW.status IN ('valid', 'revoked'))) BEGIN\n"
"  SELECT RAISE(ABORT, 'certificates: status may only move pending->valid, "
"pending->void or valid->revoked; a revocation is never undone');\n"
"END;\n"
"CREATE TRIGGER certificates_ended BEFORE UPDATE ON certificates\n"
"WHEN OLD.ended IS NOT NULL AND NEW.ended IS NULL BEGIN\n"
"  SELECT RAISE(ABORT, 'certificates: an ended certificate never becomes "
"live again');\n"
"END;\n"
"CREATE TRIGGER certificates_fixed BEFORE UPDATE ON certificates\n"
"WHEN NEW.serial IS NOT OLD.serial OR NEW.municipality IS NOT OLD.municipality\n"
"  OR NEW.resident_key IS NOT OLD.resident_key OR NEW.tbs IS NOT OLD.tbs\n"
"  OR NEW.issuer IS NOT OLD.issuer\n"
"  OR NEW.not_before IS NOT OLD.not_before OR NEW.not_after IS NOT OLD.not_after\n"
"  OR (OLD.der IS NOT NULL AND NEW.der IS NOT OLD.der) BEGIN\n"
"  SELECT RAISE(ABORT, 'certificates: serial, resident, TBS, validity and "
"the signed certificate never change');\n"
"END;\n"
"CREATE TRIGGER certificates_insert_pending BEFORE INSERT ON certificates\n"
"WHEN NEW.status <> 'pending' BEGIN\n"
"  SELECT RAISE(ABORT, 'certificates: a certificate starts pending (its "
"serial reserved and TBS recorded before signing)');\n"
"END;\n"
/* CRL numbers per partition: only up. */
"CREATE TABLE crl_numbers (\n"
"  partition TEXT PRIMARY KEY,\n"
"  number INTEGER NOT NULL CHECK (number >= 1)\n"
") STRICT;\n"
"CREATE TRIGGER crl_numbers_increase BEFORE UPDATE ON crl_numbers\n"
"WHEN NEW.number <= OLD.number OR NEW.partition IS NOT OLD.partition BEGIN\n"
"  SELECT RAISE(ABORT, 'crl_numbers: a CRL number only increases');\n"
"END;\n"
"CREATE TRIGGER crl_numbers_no_delete BEFORE DELETE ON crl_numbers BEGIN\n"
"  SELECT RAISE(ABORT, 'crl_numbers: a CRL number is never forgotten');\n"
"END;\n"
/* Bundles imported from the offline root (SPEC 8). */
"CREATE TABLE bundles (\n"
"  id INTEGER PRIMARY KEY,\n"
"  signer TEXT NOT NULL CHECK (length(signer) = 40),\n"
"  sequence INTEGER NOT NULL CHECK (sequence >= 1),\n"
"  type TEXT NOT NULL,\n"
"  manifest_sha256 TEXT NOT NULL CHECK (length(manifest_sha256) = 64),\n"
"  imported_at INTEGER NOT NULL,\n"
"  UNIQUE (signer, sequence)\n"
") STRICT;\n"
"CREATE TRIGGER bundles_increase BEFORE INSERT ON bundles\n"
"WHEN NEW.sequence <= (SELECT coalesce(max(sequence), 0) FROM bundles\n"
"  WHERE signer = NEW.signer) BEGIN\n"
"  SELECT RAISE(ABORT, 'bundles: SPEC 8: a bundle sequence only increases "
"per signer (replay or older bundle)');\n"
"END;\n"
"CREATE TRIGGER bundles_fixed BEFORE UPDATE ON bundles BEGIN\n"
"  SELECT RAISE(ABORT, 'bundles: an import record never changes');\n"
"END;\n"
"CREATE TRIGGER bundles_no_delete BEFORE DELETE ON bundles BEGIN\n"
"  SELECT RAISE(ABORT, 'bundles: an import record is never deleted');\n"
"END;\n"
/* What the root sent: certificates and pairs. */
"CREATE TABLE ca_certs (\n"
"  sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),\n"
"  kind TEXT NOT NULL CHECK (kind IN\n"
"    ('root', 'link', 'issuing', 'cross', 'pair', 'responder')),\n"
"  generation INTEGER NOT NULL CHECK (generation >= 0),\n"
"  subject TEXT NOT NULL,\n"
"  der BLOB NOT NULL,\n"
"  bundle INTEGER REFERENCES bundles(id)\n"
") STRICT;\n"
"CREATE TRIGGER ca_certs_fixed BEFORE UPDATE ON ca_certs BEGIN\n"
"  SELECT RAISE(ABORT, 'ca_certs: a stored certificate never changes');\n"
"END;\n"
"CREATE TRIGGER ca_certs_no_delete BEFORE DELETE ON ca_certs BEGIN\n"
"  SELECT RAISE(ABORT, 'ca_certs: a stored certificate is never deleted');\n"
"END;\n"
/* Pre-signed ARLs, released by publish when their thisUpdate arrives. */
"CREATE TABLE arls (\n"
"  number INTEGER PRIMARY KEY CHECK (number >= 1),\n"
"  this_update INTEGER NOT NULL,\n"
"  next_update INTEGER NOT NULL CHECK (next_update > this_update),\n"
"  der BLOB NOT NULL,\n"
"  bundle INTEGER REFERENCES bundles(id)\n"
") STRICT;\n"
"CREATE TRIGGER arls_increase BEFORE INSERT ON arls\n"
"WHEN NEW.number <= (SELECT coalesce(max(number), 0) FROM arls) BEGIN\n"
"  SELECT RAISE(ABORT, 'arls: an ARL number only increases');\n"
"END;\n"
"CREATE TRIGGER arls_fixed BEFORE UPDATE ON arls BEGIN\n"
"  SELECT RAISE(ABORT, 'arls: a stored ARL never changes');\n"
"END;\n"
"CREATE TRIGGER arls_no_delete BEFORE DELETE ON arls BEGIN\n"
"  SELECT RAISE(ABORT, 'arls: a stored ARL is never deleted');\n"
"END;\n"
/* CRL entries (CPS 4-4-9): one DER X509_REVOKED per revocation, appended in
 * revocation order (seq) in the transaction that revokes, never changed or
 * deleted; publish builds each partition's CRL from these bytes, one CRL
 * per municipality and issuing key (the certificate's issuer key id: a
 * CRL is signed by the issuer of what it lists, RFC 5280 5.2.1). */
"CREATE TABLE crl_entries (\n"
"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
"  serial BLOB NOT NULL UNIQUE REFERENCES certificates(serial),\n"
"  municipality TEXT NOT NULL,\n"
"  issuer BLOB NOT NULL,\n"
"  not_after INTEGER NOT NULL,\n"
"  entry BLOB NOT NULL CHECK (typeof(entry) = 'blob' AND length(entry) > 0)\n"
") STRICT;\n"
"CREATE INDEX crl_entries_partition ON crl_entries (municipality, seq);\n"
"CREATE TRIGGER crl_entries_fixed BEFORE UPDATE ON crl_entries BEGIN\n"
"  SELECT RAISE(ABORT, 'crl_entries: a CRL entry never changes');\n"
"END;\n"
"CREATE TRIGGER crl_entries_no_delete BEFORE DELETE ON crl_entries BEGIN\n"
"  SELECT RAISE(ABORT, 'crl_entries: a revocation is never undone');\n"
"END;\n"
"CREATE TRIGGER crl_entries_revoked BEFORE INSERT ON crl_entries\n"
"WHEN (SELECT status FROM certificates WHERE serial = NEW.serial)\n"
"  IS NOT 'revoked' OR (SELECT municipality = NEW.municipality AND\n"
"  issuer = NEW.issuer AND not_after = NEW.not_after FROM certificates\n"
"  WHERE serial = NEW.serial) IS NOT 1 BEGIN\n"
"  SELECT RAISE(ABORT, 'crl_entries: only a revoked certificate has a CRL "
"entry, with its own municipality, issuer and notAfter');\n"
"END;\n"
/* Issuance batches (docs/requests.md, resume): one row per batch file
 * content, one result per request line, kept forever. */
"CREATE TABLE batches (\n"
"  id INTEGER PRIMARY KEY,\n"
"  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),\n"
"  name TEXT NOT NULL,\n"
"  started_at INTEGER NOT NULL,\n"
"  finished_at INTEGER\n"
") STRICT;\n"
"CREATE TABLE batch_results (\n"
"  batch INTEGER NOT NULL REFERENCES batches(id),\n"
"  line INTEGER NOT NULL CHECK (line >= 1),\n"
"  serial BLOB REFERENCES serials(serial),\n"
"  reason TEXT,\n"
"  PRIMARY KEY (batch, line),\n"
"  CHECK ((serial IS NULL) <> (reason IS NULL))\n"
") STRICT;\n"
"CREATE TRIGGER batch_results_fixed BEFORE UPDATE ON batch_results BEGIN\n"
"  SELECT RAISE(ABORT, 'batch_results: the result of a line never changes');\n"
"END;\n""CREATE TRIGGER batch_results_no_delete BEFORE DELETE ON batch_results\n"
"BEGIN\n"
"  SELECT RAISE(ABORT, 'batch_results: the result of a line is never "
"deleted (a rerun would redo the line)');\n"
"END;\n"
"CREATE TRIGGER batches_no_delete BEFORE DELETE ON batches BEGIN\n"
"  SELECT RAISE(ABORT, 'batches: a batch record is never deleted');\n"
"END;\n"
"CREATE TRIGGER batches_fixed BEFORE UPDATE ON batches\n"
"WHEN NEW.id IS NOT OLD.id OR NEW.sha256 IS NOT OLD.sha256\n"
"  OR NEW.name IS NOT OLD.name OR NEW.started_at IS NOT OLD.started_at\n"
"  OR OLD.finished_at IS NOT NULL BEGIN\n"
"  SELECT RAISE(ABORT, 'batches: a batch record never changes once "
"finished');\n"
"END;\n"
/* Provision of revocation information (CPS 4-5 monthly report). */
"CREATE TABLE provisions (\n"
"  id INTEGER PRIMARY KEY,\n"
"  at INTEGER NOT NULL,\n"
"  recipient TEXT NOT NULL,\n"
"  method TEXT NOT NULL CHECK (method IN ('http', 'ocsp', 'ldap', 'media')),\n"
"  object TEXT NOT NULL,\n"
"  count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1)\n"
") STRICT;\n"
"CREATE INDEX provisions_at ON provisions (at);\n"
"CREATE TRIGGER provisions_fixed BEFORE UPDATE ON provisions BEGIN\n"
"  SELECT RAISE(ABORT, 'provisions: a provision record never changes');\n"
"END;\n"
"CREATE TRIGGER provisions_no_delete BEFORE DELETE ON provisions BEGIN\n"
"  SELECT RAISE(ABORT, 'provisions: a provision record is never deleted');\n"
"END;\n"
/* Registered relying parties (CPS 2-6-3, 4-4-4-3): a name and the SHA-256
 * of their credential (docs/relying-parties.md); retired, never deleted. */
"CREATE TABLE relying_parties (\n"
"  name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),\n"
"  kind TEXT NOT NULL CHECK (kind IN ('token', 'cert')),\n"
"  credential BLOB NOT NULL UNIQUE CHECK (length(credential) = 32),\n"
"  registered_at INTEGER NOT NULL,\n"
"  retired_at INTEGER\n"
") STRICT;\n"
"CREATE TRIGGER relying_parties_no_delete BEFORE DELETE ON relying_parties\n"
"BEGIN\n"
"  SELECT RAISE(ABORT, 'relying_parties: a registration is retired, never "
"deleted');\n"
"END;\n"
/* Pre-signed OCSP responses, one per serial, replaced when the status
 * changes or the response nears its nextUpdate. */
"CREATE TABLE ocsp_responses (\n"
"  serial BLOB PRIMARY KEY REFERENCES serials(serial),\n"
"  status TEXT NOT NULL CHECK (status IN ('good', 'revoked')),\n"
"  this_update INTEGER NOT NULL,\n"
"  next_update INTEGER NOT NULL CHECK (next_update > this_update),\n"
"  der BLOB NOT NULL\n"
") STRICT;\n";

static const char *status_names[] = { "pending", "valid", "revoked", "void" };
static const char *kind_names[] = { "root", "link", "issuing", "cross",
    "pair", "responder" };

const char *
hk_cert_status_name(enum hk_cert_status st)
{
	return (unsigned)st < 4 ? status_names[st] : "?";
}

const char *
hk_ca_kind_name(enum hk_ca_kind k)
{
	return (unsigned)k < 6 ? kind_names[k] : "?";
}

/* Map a SQLite failure into the one error domain with a detail. */
int
hk_store_fail(struct hk_store *s, int rc, const char *what)
{
	int e = errno, ext = sqlite3_extended_errcode(s->db), le = 0;

	/* SQLite says "database disk image is malformed" of a read that
	 * failed with EIO (SQLITE_IOERR_CORRUPTFS, made SQLITE_CORRUPT): the
	 * file's last errno (or, of the WAL's, whose last errno SQLite does
	 * not give, errno as the failed read left it) tells the medium's
	 * failure from damage, which "restore it from the backup" would
	 * have answered with the work since that backup lost */
	if (((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) &&
	    ((sqlite3_file_control(s->db, "main", SQLITE_FCNTL_LAST_ERRNO,
	    &le) == SQLITE_OK && le != 0) || (le = e) == EIO)) {
		hk_err_set("%s: %s: %s (%s): a read of the store failed: the "
		    "medium, not the store's bytes", s->path, what,
		    sqlite3_errmsg(s->db), strerror(le));
		return HK_ERR_IO;
	}
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
		/* damage, not a bug: exit 3 and what to do */
		hk_err_set("%s: %s: %s: the store is damaged; restore it from "
		    "the backup", s->path, what, sqlite3_errmsg(s->db));
		return HK_ERR_STATE;
	}
	if ((rc & 0xff) == SQLITE_CANTOPEN && sqlite3_system_errno(s->db) != 0 &&
	    sqlite3_system_errno(s->db) != ENOENT)
		/* "unable to open database file": and why (the medium; not
		 * ENOENT, which SQLite's read-only retry of a -wal it could
		 * not make leaves, of a store there: access() said so) */
		hk_err_set("%s: %s: %s (%s)", s->path, what,
		    sqlite3_errmsg(s->db),
		    strerror(sqlite3_system_errno(s->db)));
	else
		hk_err_set("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	if (ext == SQLITE_CONSTRAINT_PRIMARYKEY && strstr(what, "serial"))
		return HK_ERR_EXISTS;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return HK_ERR_INVALID;
	if ((rc & 0xff) == SQLITE_NOMEM)
		return HK_ERR_ALLOC;
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL ||
	    (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_CANTOPEN)
		return HK_ERR_IO;
	/* a store opened for writing whose store.db, -wal or -shm could not
	 * be opened for writing (SQLite then opens it read-only: a file
	 * system remounted read-only after errors, a full one, its
	 * permissions): the medium's failure, not a bug */
	if ((rc & 0xff) == SQLITE_READONLY && s->rw) {
		hk_err_set("%s: %s: %s (a file of the store could not be "
		    "opened for writing)", s->path, what,
		    sqlite3_errmsg(s->db));
		return HK_ERR_IO;
	}
	return HK_ERR_INTERNAL;
}

int
hk_store_exec(struct hk_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : hk_store_fail(s, rc, what);
}

int
hk_store_prepare(struct hk_store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : hk_store_fail(s, rc, "prepare");
}

/* Run a prepared statement that returns no rows, then finalize it. */
int
hk_store_run(struct hk_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, what);
	sqlite3_finalize(st);
	return r;
}

int
hk_store_cached(struct hk_store *s, const char *sql, sqlite3_stmt **st)
{
	int i, r;

	for (i = 0; i < s->ncache; i++)
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].st);
			sqlite3_clear_bindings(s->cache[i].st);
			*st = s->cache[i].st;
			return 0;
		}
	if (s->ncache == HK_STORE_CACHE) {
		hk_err_set("%s: statement cache full", s->path);
		return HK_ERR_INTERNAL;
	}
	if ((r = hk_store_prepare(s, sql, st)) != 0)
		return r;
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].st = *st;
	s->ncache++;
	return 0;
}

void
hk_store_cached_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int
hk_store_cached_run(struct hk_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, what);
	hk_store_cached_done(st);
	return r;
}

/*
 * An existing store must begin with the SQLite header. SQLite itself takes
 * an empty file for an empty database, and the first write (PRAGMA
 * journal_mode=WAL) would make it one: a store.db emptied or replaced by
 * something else is refused as it is, without being touched.
 */
static int
sqlite_header(const char *path)
{
	static const char magic[16] = "SQLite format 3";	/* and a NUL */
	char buf[sizeof(magic)];
	sqlite3 *db = NULL;
	sqlite3_file *f = NULL;
	sqlite3_int64 size = 0;
	int rc, r = 0;

	/*
	 * Through SQLite's own handle of the file, not open(2)/close(2): a
	 * close(2) of any descriptor of store.db drops every POSIX lock this
	 * process holds on it, those of its open connections too (the key
	 * holder's in serve), and another process's close could then
	 * checkpoint and remove the WAL under them ("database disk image is
	 * malformed"; sqlite.org/howtocorrupt.html 2.2). SQLite's close keeps
	 * such a descriptor open while the process holds locks on the file.
	 * No statement runs here, so nothing reads or makes -wal and -shm.
	 */
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER,
		    &f);
	if (rc != SQLITE_OK || f == NULL || f->pMethods == NULL) {
		/* SQLite's "unable to open database file" says not why: the
		 * system's error does (a medium failing, not a missing file) */
		int se = db != NULL ? sqlite3_system_errno(db) : 0;

		hk_err_set("%s: cannot open: %s%s%s%s", path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory", se != 0 ? " (" : "",
		    se != 0 ? strerror(se) : "", se != 0 ? ")" : "");
		r = HK_ERR_IO;
		goto out;
	}
	if ((rc = f->pMethods->xFileSize(f, &size)) != SQLITE_OK) {
		int le = 0;

		(void)sqlite3_file_control(db, "main",
		    SQLITE_FCNTL_LAST_ERRNO, &le);
		hk_err_set("%s: cannot read: %s (SQLite error %d)", path,
		    le != 0 ? strerror(le) : "I/O error", rc);
		r = HK_ERR_IO;
		goto out;
	}
	memset(buf, 0, sizeof(buf));
	if (size >= (sqlite3_int64)sizeof(magic) && (rc = f->pMethods->xRead(f,
	    buf, sizeof(buf), 0)) != SQLITE_OK) {
		int le = 0;

		(void)sqlite3_file_control(db, "main",
		    SQLITE_FCNTL_LAST_ERRNO, &le);
		hk_err_set("%s: cannot read: %s (SQLite error %d)", path,
		    le != 0 ? strerror(le) : "I/O error", rc);
		r = HK_ERR_IO;
		goto out;
	}
	if (size < (sqlite3_int64)sizeof(magic) || memcmp(buf, magic,
	    sizeof(magic)) != 0) {
		hk_err_set("%s: %s: not a hanko store (no SQLite header); "
		    "restore it from the backup", path, size == 0 ? "empty" :
		    "not an SQLite database");
		r = HK_ERR_STATE;
	}
 out:
	sqlite3_close(db);
	return r;
}

void
hk_store_busy_timeout(struct hk_store *s, int ms)
{
	if (s != NULL && s->db != NULL)
		sqlite3_busy_timeout(s->db, ms > 0 ? ms : HK_STORE_BUSY_MS);
}

int
hk_store_open_ro(struct hk_store *s, int busy_ms)
{
	int rc, r;

	if ((rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL)) != SQLITE_OK)
		return s->db ? hk_store_fail(s, rc, "open read-only") :
		    HK_ERR_ALLOC;
	sqlite3_busy_timeout(s->db, busy_ms);
	sqlite3_extended_result_codes(s->db, 1);
	if ((r = hk_store_exec(s, "PRAGMA query_only=ON", "query_only")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA trusted_schema=OFF",
	    "trusted_schema")) != 0)
		return r;
	return 0;
}

int
hk_store_new(const char *path, int create, struct hk_store **out)
{
	struct hk_store *s;
	int r;

	*out = NULL;
	if (create && access(path, F_OK) == 0) {
		hk_err_set("%s: already exists; a store is created once", path);
		return HK_ERR_EXISTS;
	}
	if (!create && access(path, F_OK) != 0) {
		/* only a store that is not there is missing: not one whose
		 * look-up fails (EIO), said as "run init" */
		if (errno != ENOENT && errno != ENOTDIR) {
			hk_err_set("%s: cannot look up the store: %s", path,
			    strerror(errno));
			return HK_ERR_IO;
		}
		hk_err_set("%s: no store here (run hanko-online init)", path);
		return HK_ERR_NOT_FOUND;
	}
	if (!create && (r = sqlite_header(path)) != 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return HK_ERR_ALLOC;
	}
	*out = s;
	return 0;
}

/* meta.schema is this binary's HK_STORE_SCHEMA (docs/store.md, schema
 * versions), or with old (a copy: a backup's store.db) one it upgrades
 * (HK_STORE_SCHEMA_OLDEST on): else HK_ERR_STATE naming both. The
 * version in s->schema. */
static int
schema_check(struct hk_store *s, int old)
{
	sqlite3_stmt *st = NULL;
	int rc, r, n;

	rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = "
	    "'schema'", -1, &st, NULL);
	if (rc != SQLITE_OK && (rc & 0xff) == SQLITE_ERROR) {
		/* no table meta: another SQLite database */
		hk_err_set("%s: meta: schema: not a hanko store of schema %d "
		    "(%s)", s->path, HK_STORE_SCHEMA, sqlite3_errmsg(s->db));
		return HK_ERR_STATE;
	}
	if (rc != SQLITE_OK)
		return hk_store_fail(s, rc, "meta: schema");
	if ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE) {
		r = hk_store_fail(s, rc, "meta: schema");
		goto out;
	}
	r = HK_ERR_STATE;
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) != SQLITE_TEXT) {
		hk_err_set("%s: meta: schema: not a hanko store of schema %d",
		    s->path, HK_STORE_SCHEMA);
		goto out;
	}
	n = atoi((const char *)sqlite3_column_text(st, 0));
	if (old && (n < HK_STORE_SCHEMA_OLDEST || n > HK_STORE_SCHEMA)) {
		hk_err_set("%s: meta: schema: the store is of schema %d; this "
		    "hanko-online reads schema %d, and %d to %d in a backup "
		    "(upgraded by the first command after a restore; "
		    "docs/store.md, schema versions)", s->path, n,
		    HK_STORE_SCHEMA, HK_STORE_SCHEMA_OLDEST,
		    HK_STORE_SCHEMA - 1);
		goto out;
	}
	if (!old && n != HK_STORE_SCHEMA) {
		hk_err_set("%s: meta: schema: the store is of schema %d; this "
		    "hanko-online reads schema %d only (docs/store.md, schema "
		    "versions)", s->path, n, HK_STORE_SCHEMA);
		goto out;
	}
	s->schema = n;
	r = 0;
 out:
	sqlite3_finalize(st);
	return r;
}

/* The value of meta's row key into buf: 0, HK_ERR_NOT_FOUND when there is
 * none, HK_ERR_STATE when it is not text that fits. */
static int
meta_get(struct hk_store *s, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int rc, r;

	buf[0] = '\0';
	if ((r = hk_store_prepare(s, "SELECT value FROM meta WHERE key = ?1",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		r = HK_ERR_NOT_FOUND;
	else if (rc != SQLITE_ROW)
		r = hk_store_fail(s, rc, key);
	else if (sqlite3_column_type(st, 0) != SQLITE_TEXT ||
	    (v = sqlite3_column_text(st, 0)) == NULL ||
	    strlen((const char *)v) >= len) {
		hk_err_set("%s: meta: %s: not a value of a hanko store",
		    s->path, key);
		r = HK_ERR_STATE;
	} else {
		snprintf(buf, len, "%s", (const char *)v);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

/* 32 lowercase hex digits, as init makes a store id. */
static int
id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return i == HK_STORE_ID_LEN;
}

/* Record the store id (a transaction is open): the schema's triggers
 * refuse a second one. */
static int
id_insert(struct hk_store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (!id_ok(id)) {
		hk_err_set("%s: meta: store.id %s: 32 lowercase hex digits "
		    "(state.conf store.id)", s->path, id);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO meta VALUES ('store.id', "
	    "?1)", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return hk_store_run(s, st, "meta: store.id");
}

/* Make the schema of version schema (HK_STORE_SCHEMA_OLDEST to
 * HK_STORE_SCHEMA) in s: the pieces above, as init and the upgrades made
 * them. */
static int
schema_make(struct hk_store *s, int schema)
{
	int r;

	if ((r = hk_store_exec(s, schema_meta_sql, "schema")) != 0 ||
	    (schema >= 7 && (r = hk_store_exec(s, STORE_ID_SQL,
	    "schema")) != 0) ||
	    (r = hk_store_exec(s, schema_sql, "schema")) != 0 ||
	    (schema >= 8 && (r = hk_store_exec(s, OCSP_RESPONDER_SQL,
	    "schema")) != 0) ||
	    (schema >= 9 && (r = hk_store_exec(s, COMPROMISED_KEYS_SQL,
	    "schema")) != 0))
		return r;
	return 0;
}

static int
store_open(const char *path, int create, const char *id,
    struct hk_store **out)
{
	struct hk_store *s = NULL;
	int rc, r = HK_ERR_INTERNAL, flags;

	*out = NULL;
	if ((r = hk_store_new(path, create, &s)) != 0)
		return r;
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    (create ? SQLITE_OPEN_CREATE : 0);
	if ((rc = sqlite3_open_v2(path, &s->db, flags, NULL)) != SQLITE_OK) {
		r = s->db ? hk_store_fail(s, rc, "open") : HK_ERR_ALLOC;
		goto out;
	}
	s->rw = 1;
	sqlite3_busy_timeout(s->db, HK_STORE_BUSY_MS);
	sqlite3_extended_result_codes(s->db, 1);
	/* an existing store: its schema version before anything is written
	 * (journal_mode is kept in the file) */
	if (!create && (r = schema_check(s, 0)) != 0)
		goto out;
	if ((r = hk_store_exec(s, "PRAGMA journal_mode=WAL", "journal_mode")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA synchronous=FULL", "synchronous")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA foreign_keys=ON", "foreign_keys")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA trusted_schema=OFF", "trusted_schema")) != 0 ||
	    /* 256 MiB of page cache: a million-row store keeps its indexes
	     * in memory (bench/README.md) */
	    (r = hk_store_exec(s, "PRAGMA cache_size=-262144", "cache_size")) != 0 ||
	    /* a chunk's savepoints keep the pages they journal in memory:
	     * none of the store's pages goes to a file in SQLITE_TMPDIR
	     * (/var/tmp), and no write is spent on it */
	    (r = hk_store_exec(s, "PRAGMA temp_store=MEMORY", "temp_store")) != 0)
		goto out;
	if (create) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES "
		    "('schema', '%d');", HK_STORE_SCHEMA);
		if ((r = hk_store_exec(s, "BEGIN IMMEDIATE", "begin")) != 0 ||
		    (r = schema_make(s, HK_STORE_SCHEMA)) != 0 ||
		    (r = hk_store_exec(s, sql, "meta")) != 0 ||
		    (id != NULL && (r = id_insert(s, id)) != 0) ||
		    (r = hk_store_exec(s, "COMMIT", "commit")) != 0)
			goto out;
	}
	if (create && (r = schema_check(s, 0)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0) {
		hk_store_close(s);
		if (create)
			unlink(path);
		return r;
	}
	*out = s;
	return 0;
}

int
hk_store_open(const char *path, int create, struct hk_store **out)
{
	return store_open(path, create, NULL, out);
}

int
hk_store_create(const char *path, const char *id, struct hk_store **out)
{
	*out = NULL;
	if (!id_ok(id)) {
		hk_err_set("%s: meta: store.id %s: 32 lowercase hex digits "
		    "(state.conf store.id)", path, id);
		return HK_ERR_INVALID;
	}
	return store_open(path, 1, id, out);
}

int
hk_store_reference(int schema, struct hk_store **out)
{
	struct hk_store *s;
	int rc, r;

	*out = NULL;
	if (schema < HK_STORE_SCHEMA_OLDEST || schema > HK_STORE_SCHEMA) {
		hk_err_set("schema %d: not one this hanko-online knows",
		    schema);
		return HK_ERR_INTERNAL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(":memory:")) == NULL) {
		free(s);
		return HK_ERR_ALLOC;
	}
	if ((rc = sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL)) != SQLITE_OK) {
		r = s->db ? hk_store_fail(s, rc, "open") : HK_ERR_ALLOC;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if ((r = schema_make(s, schema)) != 0)
		goto out;
	s->schema = schema;
	*out = s;
	return 0;
 out:
	hk_store_close(s);
	return r;
}

int
hk_store_schema(const struct hk_store *s)
{
	return s->schema;
}

int
hk_store_id(struct hk_store *s, char *buf, size_t len)
{
	return meta_get(s, "store.id", buf, len);
}

int
hk_store_peek(const char *path, int *schema, char *id, size_t len)
{
	struct hk_store *s = NULL;
	char v[16];
	int r;

	*schema = 0;
	id[0] = '\0';
	if ((r = hk_store_new(path, 0, &s)) != 0)
		return r;
	if ((r = hk_store_open_ro(s, 10000)) != 0 ||
	    (r = meta_get(s, "schema", v, sizeof(v))) != 0)
		goto out;
	*schema = atoi(v);
	if ((r = meta_get(s, "store.id", id, len)) == HK_ERR_NOT_FOUND) {
		hk_err_clear();
		r = 0;
	} else if (r == HK_ERR_STATE) {
		/* not an id init makes (raw SQL): one that matches none */
		hk_err_clear();
		snprintf(id, len, "%s", "(malformed)");
		r = 0;
	}
 out:
	hk_store_close(s);
	return r;
}

int
hk_store_upgrade(const char *path, const char *id,
    int (*record)(void *arg, int from, uint64_t keys, uint64_t unread),
    void *arg, int *done)
{
	struct hk_store *s = NULL;
	char v[16], sql[64];
	uint64_t keys = 0, unread = 0;
	int rc, r, from;

	*done = 0;
	if ((r = hk_store_new(path, 0, &s)) != 0)
		return r;
	if (!id_ok(id)) {
		hk_err_set("%s: meta: store.id %s: 32 lowercase hex digits "
		    "(state.conf store.id)", path, id);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL)) != SQLITE_OK) {
		r = s->db ? hk_store_fail(s, rc, "open") : HK_ERR_ALLOC;
		goto out;
	}
	s->rw = 1;
	sqlite3_busy_timeout(s->db, HK_STORE_BUSY_MS);
	sqlite3_extended_result_codes(s->db, 1);
	/* the version again under the write lock: another command may have
	 * upgraded it since it was read */
	if ((r = hk_store_exec(s, "PRAGMA synchronous=FULL",
	    "synchronous")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA trusted_schema=OFF",
	    "trusted_schema")) != 0 ||
	    (r = hk_store_begin(s)) != 0 ||
	    (r = meta_get(s, "schema", v, sizeof(v))) != 0)
		goto out;
	if ((from = atoi(v)) < HK_STORE_SCHEMA_OLDEST ||
	    from >= HK_STORE_SCHEMA) {
		r = 0;
		goto out;
	}
	/* a store of schema 7 on has its id: only this state's is upgraded */
	if (from >= 7) {
		char have[HK_STORE_ID_LEN + 8];

		if ((r = meta_get(s, "store.id", have, sizeof(have))) != 0 &&
		    r != HK_ERR_NOT_FOUND)
			goto out;
		if (r != 0 || strcmp(have, id) != 0) {
			hk_err_set("%s: store id %s is not this state's (%s): "
			    "not upgraded, nothing changed", path, r != 0 ?
			    "(none)" : have, id);
			r = HK_ERR_STATE;
			goto out;
		}
	}
	snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = "
	    "'schema'", HK_STORE_SCHEMA);
	if ((from == 6 &&
	    ((r = hk_store_exec(s, STORE_ID_SQL, "schema 6 -> 7")) != 0 ||
	    (r = id_insert(s, id)) != 0)) ||
	    (from <= 7 &&
	    (r = hk_store_exec(s, OCSP_RESPONDER_SQL, "schema 7 -> 8")) != 0) ||
	    /* the table, then the keys of the revocations already there
	     * (each such certificate parsed here, once) */
	    (r = hk_store_exec(s, COMPROMISED_KEYS_SQL, "schema 8 -> 9")) != 0 ||
	    (r = hk_store_key_compromised_fill(s, &keys, &unread)) != 0 ||
	    (r = hk_store_exec(s, sql, "meta: schema")) != 0)
		goto out;
	/* the record before the commit: it may be there for an upgrade
	 * that failed, never missing for one that was made */
	if ((r = record(arg, from, keys, unread)) != 0 ||
	    (r = hk_store_commit(s)) != 0)
		goto out;
	*done = 1;
 out:
	hk_store_close(s);	/* rolls back what is not committed */
	return r;
}

/* ---- copies of the store (a backup's store.db; docs/backup.md) ---- */

/* Remove dest and what SQLite may have made beside it, on a failure. */
static void
snapshot_remove(const char *dest)
{
	static const char *sfx[] = { "", "-journal", "-wal", "-shm" };
	char p[4096];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if ((size_t)snprintf(p, sizeof(p), "%s%s", dest, sfx[i]) <
		    sizeof(p))
			(void)unlink(p);
}

int
hk_store_snapshot(const char *path, const char *dest)
{
	struct hk_store *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc, r, fd, waited = 0, made = 0;

	if ((r = hk_store_new(path, 0, &src)) != 0)
		return r;
	if ((r = hk_store_new(dest, 1, &dst)) != 0)
		goto out;
	/* the file made here, empty (an empty file is an empty database to
	 * SQLite): never one that was there before */
	if ((fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		hk_err_set("%s: cannot create: %s", dest, strerror(errno));
		r = errno == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
		goto out;
	}
	close(fd);
	made = 1;
	/* the source as hk_store_peek reads it: a read-only connection,
	 * which never checkpoints or removes the WAL when it closes (an
	 * empty -wal and -shm it made are SQLite's own, removed by the next
	 * read-write close) */
	if ((r = hk_store_open_ro(src, 10000)) != 0 ||
	    (r = schema_check(src, 0)) != 0)
		goto out;
	if ((rc = sqlite3_open_v2(dest, &dst->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL)) != SQLITE_OK) {
		r = dst->db ? hk_store_fail(dst, rc, "open") : HK_ERR_ALLOC;
		goto out;
	}
	dst->rw = 1;
	sqlite3_busy_timeout(dst->db, HK_STORE_BUSY_MS);
	sqlite3_extended_result_codes(dst->db, 1);
	if ((r = hk_store_exec(dst, "PRAGMA synchronous=FULL",
	    "synchronous")) != 0)
		goto out;
	if ((b = sqlite3_backup_init(dst->db, "main", src->db, "main")) ==
	    NULL) {
		r = hk_store_fail(dst, sqlite3_errcode(dst->db), "backup");
		goto out;
	}
	/* every page in one step: one read transaction of the source, so
	 * the copy is the store as one commit left it; in WAL mode the
	 * writers go on meanwhile. A lock not given (a writer's recovery,
	 * a checkpoint) is waited for, a while. */
	while ((rc = sqlite3_backup_step(b, -1)) != SQLITE_DONE) {
		if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) ==
		    SQLITE_LOCKED) && waited < HK_STORE_SNAPSHOT_WAIT * 10) {
			sqlite3_sleep(100);
			waited++;
			continue;
		}
		break;
	}
	if (rc != SQLITE_DONE) {
		sqlite3_backup_finish(b);
		b = NULL;
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
			hk_err_set("%s: the store stayed locked for %d s: "
			    "nothing copied", path, HK_STORE_SNAPSHOT_WAIT);
		else
			hk_err_set("%s: copy to %s: %s", path, dest,
			    sqlite3_errstr(rc));
		r = (rc & 0xff) == SQLITE_CORRUPT ||
		    (rc & 0xff) == SQLITE_NOTADB ? HK_ERR_STATE : HK_ERR_IO;
		goto out;
	}
	if ((rc = sqlite3_backup_finish(b)) != SQLITE_OK) {
		b = NULL;
		r = hk_store_fail(dst, rc, "backup");
		goto out;
	}
	b = NULL;
	hk_store_close(dst);	/* the commit fsynced the file */
	dst = NULL;
	/* and once more, whatever SQLite's settings did */
	if ((fd = open(dest, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fsync(fd) != 0) {
		hk_err_set("%s: fsync: %s", dest, strerror(errno));
		if (fd >= 0)
			close(fd);
		r = HK_ERR_IO;
		goto out;
	}
	close(fd);
	r = 0;
 out:
	if (b != NULL)
		sqlite3_backup_finish(b);
	hk_store_close(dst);
	hk_store_close(src);
	if (r != 0 && made)
		snapshot_remove(dest);
	return r;
}

/* "file://<absolute path>?immutable=1", every byte outside the URI's
 * unreserved characters and '/' percent-encoded (RFC 3986). */
static int
copy_uri(const char *path, char *buf, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	char cwd[4096];
	const char *parts[2];
	size_t o = 0, i, k;

	parts[0] = "";
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return HK_ERR_IO;
		parts[0] = cwd;
	}
	parts[1] = path;
	o = (size_t)snprintf(buf, len, "file://");
	for (k = 0; k < 2; k++) {
		for (i = 0; parts[k][i] != '\0'; i++) {
			unsigned char c = (unsigned char)parts[k][i];
			if (o + 4 >= len)
				return HK_ERR_INVALID;
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			    c == '_' || c == '~' || c == '/')
				buf[o++] = (char)c;
			else {
				buf[o++] = '%';
				buf[o++] = hx[c >> 4];
				buf[o++] = hx[c & 15];
			}
		}
		if (k == 0 && parts[0][0] != '\0') {
			if (o + 2 >= len)
				return HK_ERR_INVALID;
			buf[o++] = '/';
		}
	}
	if (o + sizeof("?immutable=1") > len)
		return HK_ERR_INVALID;
	memcpy(buf + o, "?immutable=1", sizeof("?immutable=1"));
	return 0;
}

/* meta is one plain table. A hostile file's meta may be a view, whose
 * query SQLite runs when meta is read and which need never end (a
 * recursive CTE), or a virtual table: neither is read. */
static int
meta_table(struct hk_store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *sql;
	int rc, r;

	if ((rc = sqlite3_prepare_v2(s->db, "SELECT type, sql FROM "
	    "sqlite_master WHERE name = 'meta' COLLATE NOCASE", -1, &st,
	    NULL)) != SQLITE_OK)
		return hk_store_fail(s, rc, "meta");
	r = HK_ERR_STATE;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_TEXT &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "table") == 0 &&
	    (sql = sqlite3_column_text(st, 1)) != NULL &&
	    strncmp((const char *)sql, "CREATE TABLE ", 13) == 0 &&
	    (rc = sqlite3_step(st)) == SQLITE_DONE)
		r = 0;
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "meta");
	else
		hk_err_set("%s: meta: not one plain table (none, a view, a "
		    "virtual table): not a hanko store of schema %d", s->path,
		    HK_STORE_SCHEMA);
	sqlite3_finalize(st);
	return r;
}

int
hk_store_open_copy(const char *path, struct hk_store **out)
{
	struct hk_store *s = NULL;
	char uri[3 * 8192 + 64];
	int rc, r;

	*out = NULL;
	if ((r = hk_store_new(path, 0, &s)) != 0)
		return r;
	if (copy_uri(path, uri, sizeof(uri)) != 0) {
		hk_err_set("%s: path too long", path);
		r = HK_ERR_INVALID;
		goto out;
	}
	/* immutable: no lock, no -wal, -shm or -journal looked for or made,
	 * nothing written (a read-only medium will do) */
	if ((rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW, NULL)) != SQLITE_OK) {
		r = s->db ? hk_store_fail(s, rc, "open") : HK_ERR_ALLOC;
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if ((r = hk_store_exec(s, "PRAGMA query_only=ON", "query_only")) != 0 ||
	    (r = hk_store_exec(s, "PRAGMA trusted_schema=OFF",
	    "trusted_schema")) != 0 || (r = meta_table(s)) != 0 ||
	    (r = schema_check(s, 1)) != 0)
		goto out;
	*out = s;
	return 0;
 out:
	hk_store_close(s);
	return r;
}

void
hk_store_close(struct hk_store *s)
{
	if (s == NULL)
		return;
	if (s->in_tx)
		hk_store_rollback(s);
	while (s->ncache > 0)
		sqlite3_finalize(s->cache[--s->ncache].st);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

int
hk_store_begin(struct hk_store *s)
{
	int r;

	if (s->in_tx) {
		hk_err_set("%s: begin: a transaction is already open", s->path);
		return HK_ERR_INTERNAL;
	}
	if ((r = hk_store_exec(s, "BEGIN IMMEDIATE", "begin")) == 0)
		s->in_tx = 1;
	return r;
}

int
hk_store_commit(struct hk_store *s)
{
	int r;

	if (!s->in_tx) {
		hk_err_set("%s: commit: no transaction is open", s->path);
		return HK_ERR_INTERNAL;
	}
	if ((r = hk_store_exec(s, "COMMIT", "commit")) != 0) {
		hk_store_rollback(s);
		return r;
	}
	s->in_tx = 0;
	return 0;
}

void
hk_store_rollback(struct hk_store *s)
{
	if (s == NULL || !s->in_tx)
		return;
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = 0;
}

int
hk_store_own_end(struct hk_store *s, int own, int r)
{
	if (own && r == 0)
		r = hk_store_commit(s);
	if (own && r != 0)
		hk_store_rollback(s);
	return r;
}

int
hk_store_resident_key(const unsigned char key[HK_STORE_HMAC_KEY_LEN],
    const char *resident_id, unsigned char out[HK_STORE_RKEY_LEN])
{
	static const char label[] = "hanko resident v2";
	unsigned char msg[sizeof(label) + 256];
	size_t llen = sizeof(label), rlen = strlen(resident_id);
	unsigned int olen = 0;

	memset(out, 0, HK_STORE_RKEY_LEN);
	if (rlen == 0 || rlen > 255) {
		hk_err_set("resident identifier: must be 1-255 bytes");
		return HK_ERR_INVALID;
	}
	/* label with its NUL, then the identifier: the same resident gives the
	 * same key in every municipality (a move is a change of address, and
	 * CPS 4-2-3 allows one valid certificate per resident, not per
	 * municipality) */
	memcpy(msg, label, llen);
	memcpy(msg + llen, resident_id, rlen);
	if (HMAC(EVP_sha256(), key, HK_STORE_HMAC_KEY_LEN, msg, llen + rlen,
	    out, &olen) == NULL || olen != HK_STORE_RKEY_LEN) {
		OPENSSL_cleanse(msg, sizeof(msg));
		return HK_ERR_CRYPTO;
	}
	OPENSSL_cleanse(msg, sizeof(msg));
	return 0;
}

static const char sql_serial_insert[] = "INSERT INTO serials VALUES (?1, "
    "CAST(strftime('%s','now') AS INTEGER))";

static int
check_serial(struct hk_store *s, const unsigned char *serial, size_t len)
{
	if (len < 1 || len > HK_STORE_SERIAL_MAX || (serial[0] & 0x80) ||
	    (len > 1 && serial[0] == 0 && !(serial[1] & 0x80))) {
		hk_err_set("%s: serial: RFC 5280 4.1.2.2: a positive INTEGER "
		    "of 1-20 octets, minimally encoded", s->path);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_store_cert_reserve(struct hk_store *s, const struct hk_store_cert *c)
{
	sqlite3_stmt *st = NULL;
	int r, own = !s->in_tx;

	if ((r = check_serial(s, c->serial, c->serial_len)) != 0)
		return r;
	if (own && (r = hk_store_begin(s)) != 0)
		return r;
	if ((r = hk_store_cached(s, sql_serial_insert, &st)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, c->serial, (int)c->serial_len, SQLITE_STATIC);
	if ((r = hk_store_cached_run(s, st, "serials: serial already used")) != 0)
		goto out;
	if ((r = hk_store_cached(s, "INSERT INTO certificates (serial, "
	    "municipality, resident_key, status, not_before, not_after, tbs, "
	    "issuer) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7)",
	    &st)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, c->serial, (int)c->serial_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->municipality, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, c->resident_key, HK_STORE_RKEY_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)c->not_before);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->not_after);
	if (c->tbs != NULL)
		sqlite3_bind_blob(st, 6, c->tbs, (int)c->tbs_len,
		    SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, c->issuer, (int)c->issuer_len, SQLITE_STATIC);
	r = hk_store_cached_run(s, st, "certificates: insert (CPS 4-2-3: "
	    "one live certificate per resident)");
 out:
	return hk_store_own_end(s, own, r);
}

/* UPDATE one certificate row; HK_ERR_NOT_FOUND when no row changed. */
static int
update_cert(struct hk_store *s, sqlite3_stmt *st, const char *what)
{
	int r;

	if ((r = hk_store_cached_run(s, st, what)) != 0)
		return r;
	if (sqlite3_changes(s->db) != 1) {
		hk_err_set("%s: certificates: %s: no such certificate in the "
		    "needed state", s->path, what);
		return HK_ERR_NOT_FOUND;
	}
	return 0;
}

int
hk_store_cert_complete(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, const unsigned char *der, size_t der_len)
{
	sqlite3_stmt *st;
	int r;

	if ((r = check_serial(s, serial, serial_len)) != 0 ||
	    (r = hk_store_cached(s, "UPDATE certificates SET status = 'valid', "
	    "der = ?2 WHERE serial = ?1", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, der, (int)der_len, SQLITE_STATIC);
	return update_cert(s, st, "complete");
}

int
hk_store_cert_void(struct hk_store *s, const unsigned char *serial,
    size_t serial_len)
{
	sqlite3_stmt *st;
	int r;

	if ((r = check_serial(s, serial, serial_len)) != 0 ||
	    (r = hk_store_cached(s, "UPDATE certificates SET status = 'void', "
	    "ended = 1 WHERE serial = ?1", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	return update_cert(s, st, "void");
}

int
hk_store_cert_revoke(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int reason, time_t t, const unsigned char *entry,
    size_t entry_len)
{
	sqlite3_stmt *st;
	int r, own = !s->in_tx;

	if ((r = check_serial(s, serial, serial_len)) != 0)
		return r;
	if (entry == NULL || entry_len == 0) {
		hk_err_set("%s: crl_entries: a revocation needs its CRL entry",
		    s->path);
		return HK_ERR_INVALID;
	}
	if (own && (r = hk_store_begin(s)) != 0)
		return r;
	if ((r = hk_store_cached(s, "UPDATE certificates SET status = "
	    "'revoked', ended = 1, revoked_at = ?2, reason = ?3 WHERE "
	    "serial = ?1",
	    &st)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)t);
	sqlite3_bind_int(st, 3, reason);
	if ((r = update_cert(s, st, "revoke")) != 0)
		goto out;
	if ((r = hk_store_cached(s, "INSERT INTO crl_entries (serial, "
	    "municipality, issuer, not_after, entry) SELECT serial, "
	    "municipality, issuer, not_after, ?2 FROM certificates WHERE "
	    "serial = ?1", &st)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, entry, (int)entry_len, SQLITE_STATIC);
	if ((r = hk_store_cached_run(s, st, "crl_entries: insert")) != 0)
		goto out;
	/* schema 9: a key revoked keyCompromise recorded with its
	 * revocation (CPS 4-4-2-5: never certified again) */
	if (reason == 1) {
		int rec;

		r = hk_store_key_compromised_add(s, serial, serial_len, &rec);
	}
 out:
	return hk_store_own_end(s, own, r);
}

static int
status_parse(const char *t, enum hk_cert_status *out)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(t, status_names[i]) == 0) {
			*out = (enum hk_cert_status)i;
			return 0;
		}
	return HK_ERR_STATE;
}

int
hk_store_cert_get(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_cert *c)
{
	sqlite3_stmt *st;
	int r, rc;

	memset(c, 0, sizeof(*c));
	if ((r = check_serial(s, serial, serial_len)) != 0 ||
	    (r = hk_store_cached(s, "SELECT municipality, resident_key, "
	    "status, not_before, not_after, issuer, coalesce(revoked_at, 0), "
	    "coalesce(reason, 0) FROM certificates WHERE serial = ?1",
	    &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memcpy(c->serial, serial, serial_len);
		c->serial_len = serial_len;
		snprintf(c->municipality, sizeof(c->municipality), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		if (sqlite3_column_bytes(st, 1) == HK_STORE_RKEY_LEN)
			memcpy(c->resident_key, sqlite3_column_blob(st, 1),
			    HK_STORE_RKEY_LEN);
		r = status_parse((const char *)sqlite3_column_text(st, 2),
		    &c->status);
		c->not_before = (time_t)sqlite3_column_int64(st, 3);
		c->not_after = (time_t)sqlite3_column_int64(st, 4);
		if (sqlite3_column_bytes(st, 5) <= HK_STORE_KEYID_MAX) {
			c->issuer_len = (size_t)sqlite3_column_bytes(st, 5);
			memcpy(c->issuer, sqlite3_column_blob(st, 5),
			    c->issuer_len);
		}
		c->revoked_at = (time_t)sqlite3_column_int64(st, 6);
		c->reason = sqlite3_column_int(st, 7);
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: certificates: no certificate with this serial",
		    s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "certificates: select");
	hk_store_cached_done(st);
	return r;
}

int
hk_store_cert_live(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN], unsigned char *serial,
    size_t *serial_len)
{
	sqlite3_stmt *st;
	int r, rc, n;

	*serial_len = 0;
	if ((r = hk_store_cached(s, "SELECT serial FROM certificates WHERE "
	    "resident_key = ?1 AND live = 1",
	    &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, rkey, HK_STORE_RKEY_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		if (n < 1 || n > HK_STORE_SERIAL_MAX)
			r = HK_ERR_STATE;
		else {
			memcpy(serial, sqlite3_column_blob(st, 0), (size_t)n);
			*serial_len = (size_t)n;
		}
	} else if (rc == SQLITE_DONE) {
		hk_err_set("%s: certificates: the resident has no live "
		    "certificate", s->path);
		r = HK_ERR_NOT_FOUND;
	} else
		r = hk_store_fail(s, rc, "certificates: select");
	hk_store_cached_done(st);
	return r;
}

/* One integer from a one-column query with one text parameter (0 when no
 * row or NULL). */
static int
query_u64(struct hk_store *s, const char *sql, const char *param,
    uint64_t *out)
{
	sqlite3_stmt *st;
	int r, rc;

	*out = 0;
	if ((r = hk_store_prepare(s, sql, &st)) != 0)
		return r;
	if (param != NULL)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(st, 0);
		*out = v > 0 ? (uint64_t)v : 0;
	} else if (rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_crl_number_get(struct hk_store *s, const char *partition,
    uint64_t *out)
{
	return query_u64(s, "SELECT number FROM crl_numbers WHERE "
	    "partition = ?1", partition, out);
}

int
hk_store_crl_number_set(struct hk_store *s, const char *partition,
    uint64_t number)
{
	sqlite3_stmt *st;
	int r;

	if (number < 1 || number > (uint64_t)INT64_MAX) {
		hk_err_set("%s: crl_numbers: %s: number %" PRIu64 " out of "
		    "range 1..2^63-1", s->path, partition, number);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO crl_numbers VALUES (?1, ?2) ON "
	    "CONFLICT (partition) DO UPDATE SET number = excluded.number",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, partition, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)number);
	return hk_store_run(s, st, "crl_numbers: set");
}

int
hk_store_crl_number_next(struct hk_store *s, const char *partition,
    uint64_t *out)
{
	uint64_t last;
	int r, own = !s->in_tx;

	*out = 0;
	if (own && (r = hk_store_begin(s)) != 0)
		return r;
	if ((r = hk_store_crl_number_get(s, partition, &last)) == 0)
		r = hk_store_crl_number_set(s, partition, last + 1);
	if ((r = hk_store_own_end(s, own, r)) == 0)
		*out = last + 1;
	return r;
}

int
hk_store_bundle_add(struct hk_store *s, const char *signer_hex,
    uint64_t sequence, const char *type, const char *manifest_sha256_hex,
    time_t at, int64_t *id)
{
	sqlite3_stmt *st;
	int r;

	*id = 0;
	if (sequence < 1 || sequence > (uint64_t)INT64_MAX) {
		hk_err_set("%s: bundles: sequence out of range", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO bundles (signer, sequence, type, "
	    "manifest_sha256, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, signer_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)sequence);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, manifest_sha256_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)at);
	if ((r = hk_store_run(s, st, "bundles: insert")) != 0)
		return r;
	*id = (int64_t)sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
hk_store_bundle_last(struct hk_store *s, const char *signer_hex,
    uint64_t *out)
{
	return query_u64(s, "SELECT max(sequence) FROM bundles WHERE "
	    "signer = ?1", signer_hex, out);
}

int
hk_store_bundle_has(struct hk_store *s, const char *signer_hex,
    uint64_t sequence)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = hk_store_prepare(s, "SELECT 1 FROM bundles WHERE signer = ?1 "
	    "AND sequence = ?2", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, signer_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)sequence);
	/* a store that cannot be read is not "no such bundle": import then
	 * took the copy of a committed import for one that never committed
	 * and removed it */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = hk_store_fail(s, rc, "bundles: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_bundle_each(struct hk_store *s,
    int (*fn)(const char *signer_hex, uint64_t seq, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = hk_store_prepare(s, "SELECT signer, max(sequence) FROM bundles "
	    "GROUP BY signer ORDER BY signer", &st)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = fn((const char *)sqlite3_column_text(st, 0),
		    (uint64_t)sqlite3_column_int64(st, 1), arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, "bundles: select");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_ca_add(struct hk_store *s, enum hk_ca_kind kind, int generation,
    const char *subject, const unsigned char *der, size_t len,
    int64_t bundle_id)
{
	unsigned char h[32];
	sqlite3_stmt *st;
	int r;

	SHA256(der, len, h);
	if ((r = hk_store_prepare(s, "INSERT INTO ca_certs VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6)", &st)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, h, 32, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hk_ca_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, generation);
	sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, der, (int)len, SQLITE_STATIC);
	if (bundle_id > 0)
		sqlite3_bind_int64(st, 6, bundle_id);
	if ((r = hk_store_run(s, st, "ca_certs: insert")) == HK_ERR_INVALID &&
	    sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		hk_err_set("%s: ca_certs: this %s certificate is stored "
		    "already", s->path, hk_ca_kind_name(kind));
		r = HK_ERR_EXISTS;
	}
	return r;
}

int
hk_store_each_blob_int(struct hk_store *s, sqlite3_stmt *st,
    int (*fn)(const unsigned char *blob, size_t len, int n, void *arg),
    void *arg, const char *what)
{
	int r = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = fn(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0),
		    sqlite3_column_int(st, 1), arg)) != 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = hk_store_fail(s, rc, what);
	sqlite3_finalize(st);
	return r;
}

int
hk_store_ca_each(struct hk_store *s, enum hk_ca_kind kind,
    int (*fn)(const unsigned char *der, size_t len, int generation,
    void *arg), void *arg)
{
	sqlite3_stmt *st;
	int r;

	if ((r = hk_store_prepare(s, "SELECT der, generation FROM ca_certs WHERE "
	    "kind = ?1 ORDER BY rowid", &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, hk_ca_kind_name(kind), -1, SQLITE_STATIC);
	return hk_store_each_blob_int(s, st, fn, arg, "ca_certs: select");
}

int
hk_store_ca_count(struct hk_store *s, enum hk_ca_kind kind, int *out)
{
	sqlite3_stmt *st;
	int r;

	*out = 0;
	if ((r = hk_store_prepare(s, "SELECT count(*) FROM ca_certs WHERE kind = ?1",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, hk_ca_kind_name(kind), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		r = hk_store_fail(s, SQLITE_ERROR, "ca_certs: count");
	sqlite3_finalize(st);
	return r;
}

int
hk_store_arl_add(struct hk_store *s, uint64_t number, time_t this_update,
    time_t next_update, const unsigned char *der, size_t len,
    int64_t bundle_id)
{
	sqlite3_stmt *st;
	int r;

	if (number < 1 || number > (uint64_t)INT64_MAX) {
		hk_err_set("%s: arls: number out of range", s->path);
		return HK_ERR_INVALID;
	}
	if ((r = hk_store_prepare(s, "INSERT INTO arls VALUES (?1, ?2, ?3, ?4, ?5)",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)number);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)this_update);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)next_update);
	sqlite3_bind_blob(st, 4, der, (int)len, SQLITE_STATIC);
	if (bundle_id > 0)
		sqlite3_bind_int64(st, 5, bundle_id);
	return hk_store_run(s, st, "arls: insert");
}

int
hk_store_arl_last(struct hk_store *s, uint64_t *out)
{
	return query_u64(s, "SELECT max(number) FROM arls", NULL, out);
}
