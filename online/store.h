/*
 * store.h - the narrow store of hanko-online (DESIGN.md 7, docs/store.md).
 *
 * One interface, one schema, the rules in the database itself (constraints
 * and triggers), so that a second backend (PostgreSQL) implements this same
 * header and the same rules. store_sqlite.c is the embedded default
 * (WAL, synchronous=FULL, foreign keys on).
 *
 * Rules the schema enforces (a test per rule in test/unit/test_store.c):
 *   - serials are unique and never deleted; a serial is reserved (and the
 *     reservation committed) before anything is signed with it;
 *   - at most one live (pending or valid) certificate per resident, the
 *     resident known only by HMAC-SHA-256(store key, label, id), the same
 *     in every municipality (a move keeps the resident);
 *   - status moves only pending->valid, pending->void, valid->revoked;
 *     a revocation is never undone, a certificate never deleted;
 *   - revocation reasons are the CPS 4-4 ones (1..5), never hold;
 *   - a revocation and its CRL entry (crl_entries) are one transaction;
 *   - CRL numbers per partition only increase;
 *   - bundle sequences per signer only increase; ARL numbers only increase.
 *
 * Every function returns 0 or an HK_ERR_* code with a one-line detail
 * naming the store, the table or field and the rule (hk_err_set).
 * A constraint violation gives HK_ERR_INVALID (HK_ERR_EXISTS for a
 * duplicate serial), never a half-applied change: a failing statement
 * inside a transaction leaves the transaction to the caller to roll back.
 */
#ifndef HK_STORE_H
#define HK_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HK_STORE_SCHEMA		9	/* schema version in meta (docs/store.md) */
#define HK_STORE_SCHEMA_OLDEST	6	/* the oldest hk_store_upgrade upgrades:
					 * a backup's store.db may be of it */
#define HK_STORE_RESPONDER_LEN	32	/* SHA-256 of a responder certificate */
#define HK_STORE_ID_LEN		32	/* hex digits of a store id (meta
					 * store.id, state.conf store.id) */
#define HK_STORE_SERIAL_MAX	20	/* bytes of a serial (RFC 5280 4.1.2.2) */
#define HK_STORE_RKEY_LEN	32	/* bytes of a resident key (HMAC-SHA-256) */
#define HK_STORE_HMAC_KEY_LEN	32	/* bytes of the store key */
#define HK_STORE_CODE_LEN	6	/* municipality code digits */
#define HK_STORE_KEYID_MAX	64	/* bytes of an issuer key identifier */

struct hk_store;

/* Certificate status (the text the schema stores). */
enum hk_cert_status {
	HK_CERT_PENDING,	/* serial reserved, TBS recorded, not yet signed */
	HK_CERT_VALID,		/* signed, verified, handed out */
	HK_CERT_REVOKED,	/* revoked (final) */
	HK_CERT_VOID,		/* reserved but never signed (crash recovery) */
};

/* One resident's certificate row. */
struct hk_store_cert {
	unsigned char serial[HK_STORE_SERIAL_MAX]; /* big-endian, positive */
	size_t serial_len;			/* 1..20 */
	char municipality[HK_STORE_CODE_LEN + 1]; /* partition code, 6 digits */
	unsigned char resident_key[HK_STORE_RKEY_LEN]; /* hk_store_resident_key */
	enum hk_cert_status status;
	time_t not_before, not_after;		/* validity */
	unsigned char issuer[HK_STORE_KEYID_MAX]; /* issuing key identifier
						 * (the certificate's AKI) */
	size_t issuer_len;			/* 1..64 */
	time_t revoked_at;			/* out: when revoked (0 if not) */
	int reason;				/* out: CPS 4-4 reason (0 if not) */
	const unsigned char *tbs;		/* TBSCertificate DER recorded before
						 * signing, what recovery signs
						 * again (in: may be NULL) */
	size_t tbs_len;
};

/* Where the bytes of a row the store holds for the root go. */
enum hk_ca_kind {
	HK_CA_ROOT,		/* a root generation's self-signed certificate */
	HK_CA_LINK,		/* a link certificate (self-issued) */
	HK_CA_ISSUING,		/* the online issuing CA's certificate */
	HK_CA_CROSS,		/* a cross certificate */
	HK_CA_PAIR,		/* a CertificatePair (DER) */
	HK_CA_RESPONDER,	/* an OCSP responder or validation server cert */
};

/*
 * Open (create with create=1: the file must not exist) the store at path.
 * Opening checks the schema version and sets WAL, synchronous=FULL,
 * foreign_keys=ON and a busy timeout.
 */
int hk_store_open(const char *path, int create, struct hk_store **out);
void hk_store_close(struct hk_store *s);
/* How long a statement waits for another writer's lock before it fails
 * busy (hk_store_open: HK_STORE_BUSY_MS); ms <= 0: the default again. */
#define HK_STORE_BUSY_MS	10000
void hk_store_busy_timeout(struct hk_store *s, int ms);
/* Create the store at path (the file must not exist) with its store id
 * (state.conf store.id, 32 lowercase hex digits) in meta, in the
 * transaction that makes the schema (hanko-online init). */
int hk_store_create(const char *path, const char *id, struct hk_store **out);
/* The store id recorded at init (meta store.id) into buf (at least
 * HK_STORE_ID_LEN + 1 bytes); HK_ERR_NOT_FOUND when the store has none. */
int hk_store_id(struct hk_store *s, char *buf, size_t len);
/* The schema version of an open store: HK_STORE_SCHEMA, or for a copy
 * (hk_store_open_copy) perhaps an older one, HK_STORE_SCHEMA_OLDEST on. */
int hk_store_schema(const struct hk_store *s);
/*
 * Read, without writing anything, a store's schema version (0 when meta
 * has none) and store id ("" when it has none, "(malformed)" when it is
 * not text shorter than len, so that it matches no id): for the check of
 * the store against state.conf before a command opens it (docs/store.md,
 * "The store id"). Errors as hk_store_open's (no file: HK_ERR_NOT_FOUND).
 */
int hk_store_peek(const char *path, int *schema, char *id, size_t len);
/*
 * Upgrade a store of schema 6, 7 or 8 to HK_STORE_SCHEMA (9): under the
 * store's write lock, the schema read again; if 6, the store id's
 * triggers and the id (schema 7); if 7 or 8, its id must be id (else
 * HK_ERR_STATE, nothing changed); if 6 or 7, the column
 * ocsp_responses.responder (schema 8: NULL in the rows already there, so
 * the next refresh signs them again); then the table compromised_keys
 * (schema 9) filled with the key of every certificate revoked
 * keyCompromise already (each parsed once, here: keys recorded, unread
 * whose DER does not decode); the version, then record(arg, from, keys,
 * unread) (the audit record, from the version read: its failure undoes the
 * upgrade), then the commit; *done = 1. All in one transaction. A store of
 * another version is left as it is (0, *done = 0).
 */
int hk_store_upgrade(const char *path, const char *id,
    int (*record)(void *arg, int from, uint64_t keys, uint64_t unread),
    void *arg, int *done);

/* Transactions: begin takes the write lock at once (BEGIN IMMEDIATE). */
int hk_store_begin(struct hk_store *s);
int hk_store_commit(struct hk_store *s);
/* Always safe to call (no-op outside a transaction). */
void hk_store_rollback(struct hk_store *s);

/* HMAC-SHA-256(key, "hanko resident v2" || 0x00 || resident_id): the only
 * form in which a resident identifier reaches the store. */
int hk_store_resident_key(const unsigned char key[HK_STORE_HMAC_KEY_LEN],
    const char *resident_id, unsigned char out[HK_STORE_RKEY_LEN]);

/*
 * Reserve c->serial and record the pending certificate (status pending,
 * c->tbs) in one transaction of its own, committed before returning: the
 * serial is spent even if signing never happens. HK_ERR_EXISTS for a
 * serial already used (draw another); HK_ERR_INVALID when the resident
 * already has a live certificate (CPS 4-2-3).
 */
int hk_store_cert_reserve(struct hk_store *s, const struct hk_store_cert *c);
/* pending -> valid with the signed certificate (inside the caller's
 * transaction or alone). */
int hk_store_cert_complete(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, const unsigned char *der, size_t der_len);
/* pending -> void: the reservation is never signed (recovery). */
int hk_store_cert_void(struct hk_store *s, const unsigned char *serial,
    size_t serial_len);
/* valid -> revoked with a CPS 4-4 reason (1..5) at time t, and its CRL
 * entry (DER X509_REVOKED, hk_crl_entry_der) appended to crl_entries, in
 * one transaction (the caller's, or its own). */
int hk_store_cert_revoke(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int reason, time_t t, const unsigned char *entry,
    size_t entry_len);
/* Look a certificate up by serial (c->tbs left NULL). HK_ERR_NOT_FOUND. */
int hk_store_cert_get(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_cert *c);
/* The serial of the resident's live certificate. HK_ERR_NOT_FOUND. */
int hk_store_cert_live(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN], unsigned char *serial,
    size_t *serial_len);

/* The next CRL number of a partition (last + 1; 1 for the first), saved. */
int hk_store_crl_number_next(struct hk_store *s, const char *partition,
    uint64_t *out);
/* Record number as the partition's last; refused unless it increases. */
int hk_store_crl_number_set(struct hk_store *s, const char *partition,
    uint64_t number);
/* The partition's last number (0 when none). */
int hk_store_crl_number_get(struct hk_store *s, const char *partition,
    uint64_t *out);

/* An accepted bundle: refused unless sequence is above the signer's last. */
int hk_store_bundle_add(struct hk_store *s, const char *signer_hex,
    uint64_t sequence, const char *type, const char *manifest_sha256_hex,
    time_t at, int64_t *id);
/* The signer's last sequence (0 when none). */
int hk_store_bundle_last(struct hk_store *s, const char *signer_hex,
    uint64_t *out);
/* Call fn for each signer and its last sequence (to rebuild bundles.seen). */
int hk_store_bundle_each(struct hk_store *s,
    int (*fn)(const char *signer_hex, uint64_t seq, void *arg), void *arg);
/* 1 if a bundle with this signer and sequence is recorded, 0 if not; an
 * error (< 0, detail set) if the store cannot tell. */
int hk_store_bundle_has(struct hk_store *s, const char *signer_hex,
    uint64_t sequence);

/* A certificate or pair from the root (sha256 = its identity; the same
 * bytes twice is HK_ERR_EXISTS). generation 0 = not applicable. */
int hk_store_ca_add(struct hk_store *s, enum hk_ca_kind kind, int generation,
    const char *subject, const unsigned char *der, size_t len,
    int64_t bundle_id);
/* Call fn with the DER of every row of kind, oldest first. */
int hk_store_ca_each(struct hk_store *s, enum hk_ca_kind kind,
    int (*fn)(const unsigned char *der, size_t len, int generation,
    void *arg), void *arg);
/* Rows of kind. */
int hk_store_ca_count(struct hk_store *s, enum hk_ca_kind kind, int *out);

/* A pre-signed ARL: refused unless number is above every stored one. */
int hk_store_arl_add(struct hk_store *s, uint64_t number, time_t this_update,
    time_t next_update, const unsigned char *der, size_t len,
    int64_t bundle_id);
/* The highest ARL number stored (0 when none). */
int hk_store_arl_last(struct hk_store *s, uint64_t *out);

/*
 * Later subjects, one file each (online/store_<subject>.c), declared below
 * in their own sections. Keep each section to its file's functions.
 */

/* ---- issuance batches (store_batch.c) ---- */
/*
 * The batch journal (docs/requests.md "Resume", docs/store.md "Crash
 * safety"): a batch is its content's SHA-256; each request line gets one
 * result, a serial (written in the transaction that reserves it) or a
 * refusal, and never another.
 */
struct hk_store_batch {
	int64_t id;			/* row id */
	char sha256[65];		/* SHA-256 of the content, lowercase hex */
	char name[1024];		/* how it was started ("issue [--replace]
					 * <file>") */
	time_t started_at;		/* first run */
	time_t finished_at;		/* every line had a result; 0 before */
};
/* The batch with this content hash; HK_ERR_NOT_FOUND. */
int hk_store_batch_find(struct hk_store *s, const char *sha256_hex,
    struct hk_store_batch *out);
/* Record a new batch (HK_ERR_EXISTS for a known hash); *id set. */
int hk_store_batch_add(struct hk_store *s, const char *sha256_hex,
    const char *name, time_t started_at, int64_t *id);
/* Mark it finished at t (the first time only). */
int hk_store_batch_finish(struct hk_store *s, int64_t id, time_t t);
/* A refused line's result (inside the caller's transaction or alone). */
int hk_store_batch_refuse(struct hk_store *s, int64_t batch, uint64_t line,
    const char *reason);

/* A valid certificate that a re-issue revokes (CPS 4-4-1-1, 4-4-4-2). */
struct hk_store_replace {
	const unsigned char *serial;	/* the old certificate's serial */
	size_t serial_len;
	int reason;			/* 3 affiliationChanged, 4 superseded;
					 * 0: it has expired (CPS 4-2-3 counts
					 * a valid certificate only): it stops
					 * being live, not revoked, when its
					 * notAfter is before at */
	time_t at;			/* revocation time (now) */
	const unsigned char *entry;	/* its CRL entry (hk_crl_entry_der);
					 * NULL with reason 0 */
	size_t entry_len;
};
/*
 * One line's reservation, all or nothing (a savepoint in the caller's
 * transaction, or a transaction of its own): old (may be NULL) revoked with
 * its CRL entry or, expired, no longer live, c reserved as pending with its
 * TBS, and the
 * line's result set to c's serial. A failure leaves none of the three.
 */
int hk_store_batch_reserve(struct hk_store *s, int64_t batch, uint64_t line,
    const struct hk_store_cert *c, const struct hk_store_replace *old);

/* One line's result with the state of its certificate now. */
struct hk_store_batch_result {
	uint64_t line;			/* line of the batch file */
	const unsigned char *serial;	/* NULL for a refusal */
	size_t serial_len;
	const char *reason;		/* the refusal; NULL with a serial */
	enum hk_cert_status status;	/* the serial's certificate */
	const unsigned char *der;	/* its DER when valid or revoked, else
					 * NULL */
	size_t der_len;
	time_t not_after;		/* its notAfter (0 without a row) */
	time_t revoked_at;		/* when revoked (0 if not) */
	int revoke_reason;		/* the CPS 4-4 reason (0 if not) */
	const unsigned char *issuer;	/* its issuing key identifier (AKI),
					 * NULL without a row */
	size_t issuer_len;
};
/* fn for each result of a batch in line order (pointers valid during the
 * call); a non-zero return of fn stops and is returned. */
int hk_store_batch_each(struct hk_store *s, int64_t batch,
    int (*fn)(const struct hk_store_batch_result *r, void *arg), void *arg);

/* The resident's live certificate: serial, status (pending or valid),
 * notAfter and its DER when valid (malloc'd, else NULL). HK_ERR_NOT_FOUND
 * when none. */
int hk_store_batch_live(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN], unsigned char *serial,
    size_t *serial_len, enum hk_cert_status *status, time_t *not_after,
    unsigned char **der, size_t *der_len);
/* fn for every pending certificate of an issuing key (issuer = its key
 * identifier), in reservation order, with c->tbs pointing at
 * the recorded bytes during the call (recovery; the certificates_issuer
 * index, so only pending rows are read). */
int hk_store_pending_each(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, int (*fn)(const struct hk_store_cert *c, void *arg),
    void *arg);
/* fn for each certificate of the same resident as the pending serial that
 * was revoked at or after its notBefore with reason 3 or 4: what its
 * re-issue revoked in the same transaction (recovery names them). */
int hk_store_replaced_each(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int (*fn)(const unsigned char *serial, size_t len,
    int reason, void *arg), void *arg);
/* The DER (valid or revoked) and recorded TBS of a serial's certificate,
 * each malloc'd or NULL when the row has none. HK_ERR_NOT_FOUND. */
int hk_store_cert_der(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, unsigned char **der, size_t *der_len,
    unsigned char **tbs, size_t *tbs_len);
/* ---- end issuance batches ---- */

/* ---- CRL entries and publication (store_crl.c) ---- */
/* The highest crl_entries seq (0 when none): the bound of one publication,
 * so that every partition reflects the same revocations. */
int hk_store_crl_seq_max(struct hk_store *s, uint64_t *out);
/* The entry DER of the crl_entries row seq (*der malloc'd): a cache of
 * entries up to seq checks with it that the store still holds the rows it
 * was made from (a store restored from a backup hands the same seq to
 * another revocation). HK_ERR_NOT_FOUND when there is no such row. */
int hk_store_crl_entry_get(struct hk_store *s, uint64_t seq,
    unsigned char **der, size_t *len);
/* fn for each CRL entry of a certificate of municipality (NULL: of every
 * one, in one scan of the table) issued by the key issuer (its key
 * identifier, as certificates.issuer) with after < seq <= upto and whose
 * certificate has not expired at alive_at (not_after >= alive_at), in seq
 * (revocation) order; a non-zero return of fn stops and is returned. */
int hk_store_crl_entries_each(struct hk_store *s, const char *municipality,
    const unsigned char *issuer, size_t issuer_len,
    uint64_t after, uint64_t upto, time_t alive_at,
    int (*fn)(uint64_t seq, const char *partition, time_t not_after,
    const unsigned char *entry, size_t len, void *arg), void *arg);

/* fn for each municipality code that has a certificate in the store (any
 * status), in code order: one index seek per code. */
int hk_store_cert_codes_each(struct hk_store *s,
    int (*fn)(const char *code, void *arg), void *arg);
/* How many certificates of municipality (pending, valid or revoked) end at
 * or after t, and the latest notAfter among them (0 when none): what a CRL
 * of it must still answer for. */
int hk_store_cert_live_count(struct hk_store *s, const char *municipality,
    time_t t, uint64_t *n, time_t *last);
/* fn once for the newest valid certificate (last inserted) of
 * municipality, if any: its DER, issuer key identifier and notAfter. One
 * index seek. */
int hk_store_cert_newest_valid(struct hk_store *s, const char *municipality,
    int (*fn)(const unsigned char *der, size_t len,
    const unsigned char *issuer, size_t issuer_len, time_t not_after,
    void *arg), void *arg);

/* A stored pre-signed ARL. */
struct hk_store_arl {
	uint64_t number;		/* cRLNumber */
	time_t this_update;		/* thisUpdate */
	time_t next_update;		/* nextUpdate */
	unsigned char *der;		/* the ARL (malloc'd; NULL when none) */
	size_t len;
};
/* The ARL of the day (CPS 4-4-10): the highest-numbered ARL with
 * this_update <= t < next_update. HK_ERR_NOT_FOUND when none is current. */
int hk_store_arl_current(struct hk_store *s, time_t t,
    struct hk_store_arl *out);
/* The stored ARL numbered number (expired or not). HK_ERR_NOT_FOUND when
 * the store holds none of that number (never imported, or a store restored
 * from a backup taken before its import). */
int hk_store_arl_get(struct hk_store *s, uint64_t number,
    struct hk_store_arl *out);
/* The last nextUpdate of the stored ARLs numbered from or above (0 when
 * none): how long the ARLs that may still be released last. */
int hk_store_arl_horizon(struct hk_store *s, uint64_t from, time_t *out);
/* The highest number of the stored ARLs whose thisUpdate is at or before t
 * (0 when none): the newest ARL in effect, expired or not. An ARL numbered
 * below it was signed before it (an emergency ARL, CPS 4-4-9) and is never
 * released after it (RFC 5280 5.2.3). */
int hk_store_arl_in_effect(struct hk_store *s, time_t t, uint64_t *out);
void hk_store_arl_clear(struct hk_store_arl *a);
/* ---- end CRL entries ---- */

/* ---- records: history, provisions, revocation sets (store_records.c) -- */
/* One provision of revocation information (CPS 4-5 monthly report):
 * recipient = the relying party's registered name, method one of "http",
 * "ocsp", "ldap", "media", object = what was provided (a partition code,
 * "arl", "ocsp"). */
int hk_store_provision_add(struct hk_store *s, const char *recipient,
    const char *method, const char *object, time_t at);

/* What hk_store_provision_month adds up. */
enum hk_provision_group {
	HK_PROVISION_BY_RECIPIENT,	/* recipient and method (CPS 4-5) */
	HK_PROVISION_BY_OBJECT,		/* what was provided */
};
/* Japan Standard Time, UTC+9 all year (no daylight saving since 1951).
 * The CPS 4-5 report is by the prefecture's calendar month: JST. */
#define HK_JST_OFFSET	(9 * 3600)
/* The bounds of a JST calendar month: [1st 00:00:00+09:00, next 1st),
 * i.e. from 15:00:00Z on the day before the 1st; computed without the
 * process's time zone. year 1970..9999, month 1..12, else
 * HK_ERR_INVALID. */
int hk_store_month_bounds(int year, int month, time_t *from, time_t *to);
/* The JST calendar day of t (days since 1970-01-01 JST, floored): what
 * serve's provision counters are keyed by, so that the counts stamped
 * with one time never straddle a JST midnight, so never two JST months. */
long long hk_store_jst_day(time_t t);
/* t as "YYYY-MM-DDTHH:MM:SS+09:00" (len at least 26). */
void hk_store_jst_format(time_t t, char *buf, size_t len);
/* The provisions of one JST month added up, in name order:
 * fn(a, b, count) with a = recipient and b = method, or a = object and
 * b = NULL. No call for an empty month. */
int hk_store_provision_month(struct hk_store *s, int year, int month,
    enum hk_provision_group g, int (*fn)(const char *a, const char *b,
    uint64_t count, void *arg), void *arg);

/* The provisions of recipient, method, object and count with at in
 * [from, to) (provision's exact repeat, CPS 4-5): 0 with the first one's
 * id and at and how many (*n), or HK_ERR_NOT_FOUND. */
int hk_store_provision_find(struct hk_store *s, const char *recipient,
    const char *method, const char *object, uint64_t count, time_t from,
    time_t to, int64_t *id, time_t *at, uint64_t *n);

/* Every certificate of a resident, any status, oldest first (notBefore,
 * then reservation order): CPS 2-8-6 disclosure. c->tbs is NULL. */
int hk_store_history(struct hk_store *s,
    const unsigned char rkey[HK_STORE_RKEY_LEN],
    int (*fn)(const struct hk_store_cert *c, void *arg), void *arg);

/* The CRL entry of a revocation (hk_crl_entry_der: serial, revocationDate
 * t, reasonCode 1..5) for hk_store_cert_revoke; *der OPENSSL_malloc'd. */
int hk_store_revoke_entry(const unsigned char *serial, size_t serial_len,
    int reason, time_t t, unsigned char **der, size_t *der_len);
/* Certificates of status st, every issuing key (status). */
int hk_store_status_count(struct hk_store *s, enum hk_cert_status st,
    uint64_t *n);
/* Valid and pending certificates of an issuing key (issuer = its key
 * identifier, the certificates' AKI). */
int hk_store_issuer_count(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, uint64_t *valid, uint64_t *pending);
/* The revocation set of an issuing key (CPS 4-4-1-3): every valid
 * certificate of it revoked with reason at t, each with its CRL entry,
 * and its pending ones voided, in batches inside one transaction (the
 * caller's, or its own): all or nothing, whatever the count. */
int hk_store_issuer_revoke(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, int reason, time_t t, uint64_t *revoked,
    uint64_t *voided);

/* Call fn for every certificate of status st in reservation order, with
 * its DER (NULL unless valid or revoked) and when its serial was reserved
 * (the system clock); c->tbs points at the recorded TBS during the call. */
int hk_store_cert_each(struct hk_store *s, enum hk_cert_status st,
    int (*fn)(const struct hk_store_cert *c, const unsigned char *der,
    size_t der_len, time_t reserved_at, void *arg), void *arg);
/* Call fn for every key of compromised_keys (schema 9: the key of each
 * certificate revoked keyCompromise, reason 1, recorded when it was
 * revoked) in key order (memcmp), with the SHA-256 of its subjectPublicKey
 * bits and the serial of the (first) certificate revoked for it: a key
 * never certified again (CPS 4-4-2-1, 4-4-2-5; hanko-online issue). No
 * certificate is parsed. */
int hk_store_key_compromised_each(struct hk_store *s,
    int (*fn)(const unsigned char sha[32], const unsigned char *serial,
    size_t serial_len, void *arg), void *arg);
/* The serial compromised_keys records for the key sha (the SHA-256 of its
 * subjectPublicKey bits): 0, or HK_ERR_NOT_FOUND when the key is not
 * there. In the transaction that reserves a certificate, it sees a
 * revocation committed after the run read the table (issue). */
int hk_store_key_compromised_find(struct hk_store *s,
    const unsigned char sha[32], unsigned char serial[HK_STORE_SERIAL_MAX],
    size_t *serial_len);
/* The SHA-256 of the subjectPublicKey bits of the certificate der (the key
 * compromised_keys records); HK_ERR_STATE when der does not decode (no
 * error message set). */
int hk_store_key_sha(const unsigned char *der, size_t der_len,
    unsigned char sha[32]);
/* What hanko-online check finds between the keyCompromise revocations and
 * compromised_keys (docs/store.md, schema 9). */
enum hk_store_kc_problem {
	HK_KC_MISSING,		/* revoked keyCompromise, its key not recorded */
	HK_KC_UNDECODABLE,	/* revoked keyCompromise, its DER does not
				 * decode: its key cannot be recorded */
	HK_KC_STRAY,		/* a row whose serial is not a certificate
				 * revoked keyCompromise, or whose key is not
				 * that certificate's */
};
/* Call fn for each such problem with the certificate's serial (the row's,
 * for HK_KC_STRAY): every certificate revoked keyCompromise is parsed once
 * (a check, not issuance). */
int hk_store_key_compromised_check(struct hk_store *s,
    int (*fn)(enum hk_store_kc_problem p, const unsigned char *serial,
    size_t serial_len, void *arg), void *arg);
/* Call fn for the valid certificates of every resident with more than one
 * (a double issuance, CPS 4-2-3, possible only in a store altered or
 * merged outside its rules), grouped by resident, oldest first in each
 * group (notBefore, then reservation order). c->tbs is NULL. */
int hk_store_double_each(struct hk_store *s, time_t now,
    int (*fn)(const struct hk_store_cert *c, void *arg), void *arg);
/* Compare the tables, indexes and triggers with the schema hk_store_open
 * makes (of a copy of an older schema version, hk_store_open_copy: with
 * that version's schema as init and the upgrades made it): fn(type,
 * name, problem "missing"/"altered"/"unexpected",
 * restored) for each difference; restore = 1 re-creates a missing index
 * or trigger from that schema (in the caller's transaction, if any;
 * restored = 0 when that fails, e.g. a unique index over rows that break
 * it). */
int hk_store_schema_check(struct hk_store *s, int restore,
    int (*fn)(const char *type, const char *name, const char *problem,
    int restored, void *arg), void *arg);
/* SQLite's own check of the file (PRAGMA integrity_check: every page, the
 * B-trees, every index against its table, NOT NULL and CHECK): fn(problem)
 * for each of the first 100 problems it names; none for a sound file. */
int hk_store_pages_check(struct hk_store *s,
    int (*fn)(const char *problem, void *arg), void *arg);
/* ---- end records ---- */

/* ---- relying parties and OCSP responses (store_serve.c) ---- */
/* Relying parties (CPS 2-6-3, 4-4-4-3, 4-4-4-5; docs/relying-parties.md):
 * a name and the SHA-256 of the credential (kind "token": of the bearer
 * token's 64 characters; "cert": of a TLS client certificate's DER,
 * reserved). Retired, never deleted; a name is registered once. */
#define HK_STORE_RP_NAME_MAX	64	/* bytes of a relying party's name */
#define HK_STORE_RP_CRED_LEN	32	/* bytes of a credential digest */
struct hk_store_rp {
	char name[HK_STORE_RP_NAME_MAX + 1];	/* [A-Za-z0-9][A-Za-z0-9._-]* */
	char kind[8];				/* "token" or "cert" */
	unsigned char credential[HK_STORE_RP_CRED_LEN]; /* SHA-256 */
	time_t registered_at;			/* registration time */
	time_t retired_at;			/* retirement time, 0 if active */
};
/* 1 if name is a valid relying party name, else 0. */
int hk_store_rp_name_ok(const char *name);
/* Register; HK_ERR_EXISTS for a name or credential already registered. */
int hk_store_rp_add(struct hk_store *s, const char *name, const char *kind,
    const unsigned char credential[HK_STORE_RP_CRED_LEN], time_t at);
/* Retire (final); HK_ERR_NOT_FOUND, HK_ERR_INVALID if retired already. */
int hk_store_rp_retire(struct hk_store *s, const char *name, time_t at);
/* One party by name; HK_ERR_NOT_FOUND. */
int hk_store_rp_get(struct hk_store *s, const char *name,
    struct hk_store_rp *rp);
/* Call fn for every party, oldest registration first. */
int hk_store_rp_each(struct hk_store *s,
    int (*fn)(const struct hk_store_rp *rp, void *arg), void *arg);
/* count provisions at once (serve's batched counts, CPS 4-5). */
int hk_store_provision_add_count(struct hk_store *s, const char *recipient,
    const char *method, const char *object, time_t at, uint64_t count);
/* OCSP responses (store_ocsp.c, docs/ocsp.md). */
/* The store read-only (SQLITE_OPEN_READONLY, query_only): for serve's
 * network workers, which never write; a short busy timeout. */
int hk_store_open_readonly(const char *path, struct hk_store **out);
/* A stored pre-signed response. */
struct hk_store_ocsp {
	int revoked;			/* 0 status good, 1 revoked */
	time_t this_update;		/* its thisUpdate */
	time_t next_update;		/* its nextUpdate */
	unsigned char *der;		/* the OCSPResponse (malloc'd) */
	size_t der_len;
	unsigned char responder[HK_STORE_RESPONDER_LEN]; /* SHA-256 of the
					 * certificate of the responder that
					 * signed it */
	int has_responder;		/* 0: none recorded (stored before
					 * schema 8) */
};
/* A serial as the store holds it. */
struct hk_store_serial {
	unsigned char serial[HK_STORE_SERIAL_MAX]; /* big-endian, positive */
	size_t len;				/* 1..20 */
};
/* Store (insert or replace) the response of a reserved serial, with the
 * SHA-256 of the responder certificate that signed it
 * (HK_STORE_RESPONDER_LEN bytes). */
int hk_store_ocsp_put(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, int revoked, time_t this_update, time_t next_update,
    const unsigned char *responder, const unsigned char *der,
    size_t der_len);
/* The stored response of a serial; HK_ERR_NOT_FOUND. Clear it after. */
int hk_store_ocsp_get(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_ocsp *out);
void hk_store_ocsp_clear(struct hk_store_ocsp *o);
/* hk_store_ocsp_get and the certificate's status and issuer (c: status,
 * issuer, issuer_len only) in one statement: serve's hot path. */
int hk_store_ocsp_lookup(struct hk_store *s, const unsigned char *serial,
    size_t serial_len, struct hk_store_ocsp *out, struct hk_store_cert *c);
/* Up to max serials, in serial (BLOB) order and above after (NULL: from
 * the first), of the valid or revoked certificates of issuer (key
 * identifier) not expired at now whose response is missing, has the other
 * status, ends at or before refresh_by, was signed by another responder
 * than responder (the SHA-256 of its certificate, HK_STORE_RESPONDER_LEN
 * bytes) at or before responder_since (its notBefore: one signed later is
 * a newer responder's, of a renewal since this one was loaded), has none
 * recorded (stored before schema 8), or was made after now. */
int hk_store_ocsp_due(struct hk_store *s, const unsigned char *issuer,
    size_t issuer_len, time_t now, time_t refresh_by,
    const unsigned char *responder, time_t responder_since,
    const struct hk_store_serial *after, struct hk_store_serial *serials,
    size_t max, size_t *n);
/* ---- end relying parties ---- */

/* ---- copies of the store (store_sqlite.c; docs/backup.md) ---- */
#define HK_STORE_SNAPSHOT_WAIT	60	/* seconds a locked store is waited for */
/*
 * A copy of the store at path in dest, a new file (HK_ERR_EXISTS when it
 * is there), taken while other commands read and write the store: SQLite's
 * online backup API copies every page in one read transaction of a
 * read-only connection of its own (never a checkpoint), so the copy is
 * the store as one commit left it, and in WAL mode the writers go on
 * meanwhile; a lock not given is waited for, up to HK_STORE_SNAPSHOT_WAIT
 * seconds. Pages are copied as they are (rowids, AUTOINCREMENT sequences,
 * the WAL flag). dest is fsynced (not its folder); on failure it is
 * removed. The store's schema version is checked first, as hk_store_open
 * does; a damaged page met on the way is HK_ERR_STATE.
 */
int hk_store_snapshot(const char *path, const char *dest);
/*
 * Open a copy of a store (a backup's store.db) to read it only: SQLite's
 * immutable mode, so no byte of it is written and no -wal, -shm or
 * -journal file is looked for or made beside it (a read-only medium will
 * do), and its SHA-256 stays what was recorded. Refused as hk_store_open
 * refuses (no SQLite header, not a hanko store, another schema version),
 * and when its meta is not one plain table (a hostile file's view could
 * run a query without end): nothing is read from it before that. A
 * backup taken before an upgrade is opened too: a schema version from
 * HK_STORE_SCHEMA_OLDEST to HK_STORE_SCHEMA (hk_store_schema says which;
 * the first command after a restore upgrades it, hk_store_upgrade).
 * Then hk_store_pages_check, hk_store_schema_check(s, 0, ...) (against
 * that version's schema) and hk_store_id (none in schema 6) read it.
 */
int hk_store_open_copy(const char *path, struct hk_store **out);
/* ---- end copies ---- */

const char *hk_cert_status_name(enum hk_cert_status st);
const char *hk_ca_kind_name(enum hk_ca_kind k);

#endif
