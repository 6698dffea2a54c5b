/*
 * online.h - what the subcommands of hanko-online share.
 *
 * main.c only dispatches; each subcommand lives in cmd_<name>.c with one
 * options struct. The online state folder (docs/hanko-online.1, FILES):
 *
 *   <state>/state.conf             what this publisher is (text, atomic)
 *   <state>/profile.yaml           the profile accepted (state.conf profile.sha256)
 *   <state>/profile.accepted.yaml  a copy of it (docs/profile.md)
 *   <state>/municipalities.csv     the partitions (docs/municipalities.md)
 *   <state>/secrets/token-user-pin the online token's user PIN (0600)
 *   <state>/token/                 the embedded SoftHSM2 token
 *   <state>/audit/audit.log        the audit log, checkpoints by audit-1
 *   <state>/certs/                 the issuing CSRs, the pinned root
 *   <state>/store.db               the store (docs/store.md)
 *   <state>/bundles/, bundles.seen imported bundles (SPEC 8)
 */
#ifndef HK_ONLINE_H
#define HK_ONLINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p11.h"
#include "state.h"
#include "store.h"

#define HK_ONLINE_PIN_FILE	"secrets/token-user-pin"
#define HK_ONLINE_STORE_FILE	"store.db"
#define HK_ONLINE_ANCHOR	"certs/root-anchor.der"
#define HK_ONLINE_ANCHOR_PEM	"certs/root-anchor.pem"

/* Options every command that touches the state folder accepts. */
struct hk_online_opts {
	const char *state;	/* --state: the online state folder */
	const char *clock;	/* --clock: fixed UTC time; rehearsals only */
	int read_only;		/* status: hk_online_open writes nothing
				 * (a store of schema 6 to 8 is not upgraded) */
	int clock_guard;	/* HK_ONLINE_GUARD_*: hk_online_open checks
				 * the clock against the audit log first */
};

/*
 * The clock guard (CPS 4-12-2-5; docs/clock.md). A command that signs a
 * certificate, a revocation or an OCSP response compares the clock
 * (hk_clock_now(), --clock in a rehearsal) with the newest record of the
 * live audit log's end (hk_audit_newest, from the last clock.accept on)
 * before it signs or records anything: more than HK_ONLINE_CLOCK_TOLERANCE
 * seconds behind it is refused (REFUSE: HK_ERR_STATE, exit 3, one line,
 * no audit record, so that a second run is refused as well) or only warned
 * on stderr (WARN: revoke --issuing-key-compromise, CPS 4-14-2; the note
 * is kept in on->clock_note for its audit record: clock-behind, or
 * clock-unchecked when the log's end cannot be read).
 */
#define HK_ONLINE_GUARD_NONE	0
#define HK_ONLINE_GUARD_REFUSE	1
#define HK_ONLINE_GUARD_WARN	2
#define HK_ONLINE_CLOCK_TOLERANCE	300	/* seconds */
#define HK_ONLINE_CLOCK_ACCEPT	"clock.accept"

/* An open publisher: state, audit log, and after login its token. */
/*
 * The actor of the records a run appends (CPS 4-11-2: 操作員 ID、システム名):
 * OPERATOR@SYSTEM, an audit-log id. OPERATOR is $HANKO_OPERATOR when set
 * ([A-Za-z0-9][A-Za-z0-9._-]{0,31}; with "@SYSTEM" it is taken whole), else
 * the login name of the session (getlogin: the person who logged in, also
 * under sudo or su), else the name of the real user (cron, systemd); SYSTEM
 * is the host name up to its first dot. 0, or HK_ERR_USAGE naming
 * HANKO_OPERATOR and its rule.
 */
#define HK_ONLINE_OPERATOR_MAX	64
int hk_online_operator(char *buf, size_t len);

struct hk_online {
	struct hk_state *st;		/* loaded state.conf */
	char audit_log[4096];		/* <state>/audit/audit.log */
	struct hk_token *tok;		/* NULL until hk_online_login */
	int state_lockfd;		/* hk_online_state_lock's, or -1 */
	int read_only;			/* opened with opts read_only */
	char clock_note[4800];		/* the guard's warning (WARN), for the
					 * audit record; "" when none */
	char operator[HK_ONLINE_OPERATOR_MAX + 1]; /* the actor of its
					 * records: hk_online_operator's */
};

/* "--state DIR" / "--clock T": 1 if argv[*i] was one (r: 0 or an error). */
int hk_online_common_opt(struct hk_online_opts *o, int argc, char **argv,
    int *i, int *r);
/* The whole parse of a command whose only options are the common ones
 * and --help (usage printed, 1): --state required; 0 or a usage error. */
int hk_online_common_parse(struct hk_online_opts *o, int argc, char **argv,
    const char *usage);

/* An option of a command, one of three kinds: "--name VALUE" into *value;
 * "--name" alone setting *flag to 1; "--name N" into *num, a decimal
 * number from lo to hi (else "--name N: <rule>"). A table ends with a NULL
 * name. */
struct hk_online_arg {
	const char *name;		/* "--month" */
	const char **value;		/* a value, or NULL */
	int *flag;			/* a flag, or NULL */
	int *num;			/* a number, or NULL */
	long lo, hi;			/* its range */
	const char *rule;		/* its refusal, e.g. "a number from 1
					 * to 64" (NULL: that wording) */
	int required;			/* 1: the command needs it (values only) */
};
/* The one operand a command takes, always required (e.g. BUNDLE). */
struct hk_online_operand {
	const char *name;		/* in "... and BUNDLE are required" */
	const char *what;		/* in "X: one BUNDLE only" */
	const char **value;		/* where it goes */
};
/*
 * A command line: the common options, --help (usage on stdout, returns 1),
 * the table's options (args may be NULL) and at most one operand (may be
 * NULL). The caller zeroes o and the values first. Every option is once
 * only (a table holds at most HK_ONLINE_MAX_ARGS). 0, or HK_ERR_USAGE with
 * one line: "X: unknown argument", "X: unknown option" (with an
 * operand), "X: one BUNDLE only", "--opt: needs a value", "--opt: given
 * twice (once only)..." (hk_err_twice) or "--state, --a and OPERAND are
 * required". Checks between options stay the command's.
 */
#define HK_ONLINE_MAX_ARGS	32
int hk_online_parse(struct hk_online_opts *o, int argc, char **argv,
    const char *usage, const struct hk_online_arg *args,
    const struct hk_online_operand *operand);
/* "--opt VALUE": the value, or NULL with a usage error set ("--opt: needs a
 * value": none, or an empty one, as hanko-offline's hk_opt_value). */
const char *hk_online_opt_value(int argc, char **argv, int *i);
/* Apply --clock (refused unless rehearsal). */
int hk_online_clock(const char *clock, int rehearsal);

/* The clock against the newest record of the audit log's end: 0 with
 * *behind = seconds the clock is behind it (<= 0: not behind) and *nw
 * filled, or the log's error (HK_ERR_AUDIT, HK_ERR_IO, ...). */
struct hk_audit_newest;
int hk_online_clock_read(struct hk_online *on, time_t now,
    struct hk_audit_newest *nw, long long *behind);
/* The guard's one line for a clock `behind` seconds behind nw (what
 * to do: put it right, or clock --accept-set-back), into buf. */
void hk_online_clock_line(const struct hk_online *on, time_t now,
    const struct hk_audit_newest *nw, long long behind, char *buf,
    size_t len);

/* Load an online state folder (HK_ERR_STATE if it is not one). */
int hk_online_open(const struct hk_online_opts *o, struct hk_online **out);
/* Read the PIN file (must be 0600, owned by us), open the token, log in. */
int hk_online_login(struct hk_online *on);
/* Append an audit record, its actor the run's operator (on->operator);
 * failures are reported on stderr and returned.
 * The caller's error message is kept, except when a record other than a
 * "fail" one cannot be appended: then that failure is the message. */
int hk_online_audit(struct hk_online *on, const char *event,
    const char *result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same, the record's actors: ids joined by ',' (hk_audit_append). */
int hk_online_audit_by(struct hk_online *on, const char *actors,
    const char *event, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The state's audit log verified with the token's audit key (logged in),
 * its checkpoints' signatures included: the chain alone is rebuilt by
 * anyone who can write the file. rep always filled; HK_ERR_AUDIT when the
 * log fails in any way; the token's own errors (the key) as they are. */
struct hk_audit_report;
int hk_online_audit_verify(struct hk_online *on,
    struct hk_audit_report *rep);
/* The live log that hk_online_audit_verify passed (rep) and the closed
 * logs it links back to, opened for a pass as evidence (hk_logev_logs_open
 * with the token's audit key); prog names the command in messages. */
struct hk_logev_logs;
int hk_online_logs_open(struct hk_online *on,
    const struct hk_audit_report *rep, const char *prog,
    struct hk_logev_logs *L);
/* Sign a checkpoint with the token's audit-1 key (needs login). */
int hk_online_checkpoint(struct hk_online *on);
/* The same on a failure path: the failure's message is kept, a failure
 * to checkpoint only reported on stderr. */
void hk_online_checkpoint_keep_err(struct hk_online *on);
/* Work that stands (done and kept: published, delivered, final) whose
 * record could not be appended (lost: that failure's message): sets the
 * one line for the internal auditor, "<done> but <what> not in the
 * audit log (<lost>): hand this line to the internal auditor, who records
 * <record> in the ceremony record", and returns HK_ERR_AUDIT (exit 6;
 * docs/audit-log.md "When an append fails"). */
/* what: "its cert.issue record is", "its records ... are" */
int hk_online_unrecorded(const char *done, const char *what,
    const char *lost, const char *record);
/* "<state>/<rel>" into buf. */
int hk_online_path(const struct hk_online *on, const char *rel, char *buf,
    size_t len);
void hk_online_close(struct hk_online *on);

/*
 * The store key (docs/store.md): SHA-256 over a domain label and the
 * PKCS#1 v1.5 signature, by the token's non-extractable store-1 key, of
 * "hanko-online store key v1 <store id>". Deterministic, so the same key
 * comes back each time; obtainable only by whoever can use the token.
 * *key is hk_secret_alloc memory (HK_STORE_HMAC_KEY_LEN bytes).
 */
int hk_online_store_key(struct hk_token *tok, const char *key_uri,
    const char *store_id, unsigned char **key);
/* The same for this state (state.conf's store.id and store.key-uri, the
 * token logged in), checked against state.conf's store.key-check: a token
 * whose key gives other hashes is HK_ERR_STATE, *key NULL. */
int hk_online_store_key_checked(struct hk_online *on, unsigned char **key);

/* The issuing CA certificates the root sent (store ca_certs, kind issuing),
 * parsed, oldest first, with their generations: each command then picks
 * the one it needs (the current one for a key of the token, one by serial).
 * A row that does not parse is HK_ERR_STATE; more than the maximum too. */
#define HK_ONLINE_ISSUING_MAX	64
struct hk_online_issuing {
	X509 *x[HK_ONLINE_ISSUING_MAX];
	int gen[HK_ONLINE_ISSUING_MAX];
	int n;
	/* hk_online_issuing_arl's (all 0 until it runs): */
	uint64_t arl;			/* the ARL read (0: none stored) */
	int revoked[HK_ONLINE_ISSUING_MAX]; /* 1: that ARL lists x[i] */
	int reason[HK_ONLINE_ISSUING_MAX]; /* its CRLReason (-1: none) */
	time_t at[HK_ONLINE_ISSUING_MAX]; /* its revocationDate */
	int ends[HK_ONLINE_ISSUING_MAX]; /* 1: that revocation ends the key,
					 * whatever its other copies */
};
int hk_online_issuing_load(struct hk_store *s, struct hk_online_issuing *l);
void hk_online_issuing_free(struct hk_online_issuing *l);
/*
 * The root's revocations of the issuing CA certificates in l (CPS 4-14-2,
 * 4-4-1-3, 4-10; docs/publish.md "An issuing CA the root revokes"): the
 * newest stored ARL (the highest number: ARLs are numbered as the root
 * signs them, and each lists every revocation of a certificate not yet
 * expired, so it carries every earlier one), whatever its thisUpdate: an
 * entry is the root's decision from the moment it signs the ARL, and
 * import verified the ARL under a root generation. A certificate is
 * revoked when that ARL lists its serial (any reason) and the ARL's issuer
 * is its issuer's name. The revocation ends the key (ends[i]; the offline
 * rollover's rule, docs/ceremony-lifecycle.md "rollover": a copy revoked
 * for a reason that ends the issuing CA withdraws its key) unless its
 * reason is superseded(4) (the copy replaced) or cACompromise(2) of a copy
 * a root key other than the ARL's signer certified (authorityKeyIdentifier
 * not the ARL's: the compromise ceremony's revocation of all an older,
 * compromised root generation signed). Fills l->arl, revoked, reason, at,
 * ends; 0 with nothing marked when no ARL is stored; HK_ERR_STATE when the
 * stored ARL does not parse (fail closed).
 */
int hk_online_issuing_arl(struct hk_store *s, struct hk_online_issuing *l);
/*
 * The decision every command that signs with an issuing key makes (issue,
 * responder; status reports it): 1 when the key pub has a certificate in
 * l whose revocation by the ARL (hk_online_issuing_arl) ends the key
 * (l->ends), or one the ARL revokes and no certificate of it valid at now
 * that the ARL does not list (after a root rollover the copy under the new
 * root keeps the key in use when only the old copy is revoked superseded,
 * or cACompromise by the compromise of the old root); then buf gets "ARL N
 * revokes issuing CA G's certificate serial S (keyCompromise, revoked T)"
 * of the latest copy whose revocation ends the key, else of the latest
 * revoked copy. 0 when the key is usable.
 */
int hk_online_issuing_stopped(const struct hk_online_issuing *l,
    EVP_PKEY *pub, time_t now, char *buf, size_t len);
/* The refusal for a key hk_online_issuing_stopped stops (its line in
 * stopped): "store.db: <stopped>: CPS 4-14-2: ..." naming what to do;
 * returns HK_ERR_STATE. */
int hk_online_issuing_refuse(const char *stopped);

/*
 * The current issuing CA, one rule for every command that signs with it
 * (issue, responder; publish signs with every generation valid now, this
 * one the newest; docs/publish.md): the highest issuing
 * generation whose key is in the token and that has a stored certificate
 * valid at `now`; of that generation, the latest stored one valid then
 * (after a root rollover, the one re-certified under the new root), one
 * the root's ARL does not list first. *x is
 * the caller's (X509_free); with key != NULL, *key is the token's private
 * key (EVP_PKEY_free). HK_ERR_STATE when there is none, and when the root
 * has revoked that generation's key (hk_online_issuing_stopped: no older
 * generation stands in; hk_online_issuing_refuse's line). Validity only
 * otherwise: issue then refuses a generation whose issuing window has
 * closed (hk_cert_user_not_after), while publish and responder go on
 * signing with it for what it issued (publish also under a revoked one).
 */
int hk_online_current_issuer(struct hk_online *on, struct hk_store *s,
    time_t now, X509 **x, int *gen, EVP_PKEY **key);
/*
 * One generation's signer: the latest of its certificates in l whose key
 * is generation gen's key in the token and that is valid at now, one the
 * ARL does not list first (when hk_online_issuing_arl filled l) (*x, NULL
 * when there is none; *key as above). HK_ERR_NOT_FOUND when state.conf
 * names no key of that generation or the token does not hold it.
 */
int hk_online_gen_issuer(struct hk_online *on,
    const struct hk_online_issuing *l, int gen, time_t now, X509 **x,
    EVP_PKEY **key);
/* The refusal when no generation has a certificate valid now for a key
 * of the token: sets the message, returns HK_ERR_STATE. */
int hk_online_no_issuer(void);
/*
 * The issuing CA's request of generation gen (init: 1; request: a new key):
 * its DN "<issuing_subject_prefix>, OU=Issuing CA <gen>" (PROFILE.md, with
 * the rehearsal marker on a rehearsal: hk_online_issuing_subject); the
 * request for the token's key pair (priv, pub) under subject, signed with
 * the profile's digest, verified with pub and checked (hk_csr_check,
 * "issuing-<gen>.csr" in messages) before anything is written; then
 * "certs/issuing-<gen>.csr.der", ".pem" and ".sha256" (hex and a newline)
 * through put, each a new file of the caller's (put returns 0 or an
 * error). out gets the DER (malloc'd, the caller frees out->der) and its
 * SHA-256; on failure out->der is NULL and files already put are the
 * caller's to undo.
 */
struct hk_profile;
struct hk_online_csr {
	unsigned char *der;		/* the request (DER); NULL until made */
	size_t len;
	char hex[65];			/* its SHA-256, lowercase hex */
	char colons[96];		/* the same with colons, read aloud */
};
typedef int (*hk_online_put_fn)(void *arg, const char *rel, const void *buf,
    size_t len);
int hk_online_issuing_subject(const struct hk_profile *p, int gen,
    int rehearsal, X509_NAME **out);
int hk_online_csr_make(const struct hk_profile *p, int gen,
    const X509_NAME *subject, EVP_PKEY *priv, EVP_PKEY *pub,
    hk_online_put_fn put, void *arg, struct hk_online_csr *out);
/*
 * The reader's trust (SPEC 6), for checking bundles: the pinned root
 * (HK_ONLINE_ANCHOR; HK_ERR_STATE "no root pinned yet" when there is none,
 * and when the store has no root row: a trust that stopped before its
 * commit) and every stored link certificate, oldest first. t is the caller's to
 * free (X509_free(t->anchor), sk_X509_pop_free(t->links, X509_free)), also
 * after a failure.
 */
struct hk_bundle_trust;
int hk_online_trust_load(struct hk_online *on, struct hk_store *s,
    struct hk_bundle_trust *t);
/*
 * The state's profile.yaml, refused (HK_ERR_STATE, nothing written) unless
 * it is the profile accepted (shared/profile_accept.h; docs/profile.md): the
 * one place every command reads it. In a state made before the record,
 * the profile init was given is recorded as accepted (audited
 * profile.adopt) under state.lock; *out is the caller's.
 */
struct hk_profile;
int hk_online_profile(struct hk_online *on, struct hk_profile **out);
/* state.conf issuing.generation: the newest generation (1-999). */
int hk_online_top_gen(struct hk_online *on, int *top);
/* The issuance lock of the state (an flock on its folder): held by one
 * `issue` for its whole run, and by `revoke --issuing-key-compromise` for
 * its count, mark and revocations. HK_ERR_STATE at once when held. *fd is
 * closed (the lock released) by the caller. */
int hk_online_issue_lock(struct hk_online *on, int *fd);
/* The same, waited for (a message on stderr while an issue runs): taken
 * before state.lock, in the order issue takes them. */
int hk_online_issue_lock_wait(struct hk_online *on, int *fd);
/*
 * The issuing-key compromise mark in the token (CPS 4-14-2, 4-4-1-3).
 * revoke --issuing-key-compromise saves it beside state.conf's
 * issuing.N.compromised, before the revocations: a persistent, private data
 * object of application HK_ONLINE_MARK_APP labelled "issuing.N.compromised",
 * value "key id K, T" (the key's id, the time of the mark). The token is
 * not in the state's backup (docs/backup.md), so the mark outlives a
 * restore of a state.conf saved before the compromise.
 * hk_online_mark_put makes it unless it is there (a second run keeps the
 * first; *made says which). hk_online_mark_lost finds the lowest
 * generation from `from` to state.conf's issuing.generation that the token
 * marks and state.conf does not: 1 with *gen and the mark's value
 * (printable ASCII) in val, 0 when none, else an error. Both need the
 * login; issue and recover call hk_online_mark_lost once per run, under
 * the issuance lock, and refuse with hk_online_mark_refuse (HK_ERR_STATE,
 * one line naming both marks and what to do).
 */
#define HK_ONLINE_MARK_APP	"hanko-online"
int hk_online_mark_put(struct hk_online *on, int gen, const char *kid,
    time_t t, int *made);
/* The token's compromise mark LABEL (a private data object of
 * HK_ONLINE_MARK_APP): 1 with its value in val (made printable; a value
 * too long to read is still a mark), 0 when there is none, else an
 * error. Needs the login. */
int hk_online_token_mark(struct hk_online *on, const char *label, char *val,
    size_t len);
/* Issuing generation gen marked compromised: state.conf's
 * issuing.<gen>.compromised (its time in when), else the token's mark of it
 * when logged in (its time, the value's last word), which a restore of an
 * older state.conf does not take back. Read only. 1 with when, 0 when
 * neither marks it, else an error. */
int hk_online_issuing_marked(struct hk_online *on, int gen, char *when,
    size_t len);
int hk_online_mark_lost(struct hk_online *on, int from, int *gen, char *val,
    size_t len);
int hk_online_mark_refuse(struct hk_online *on, int gen, const char *val);
/* recover --revocations: the live log's cert.revoke-all of generation gen,
 * key id kid (lowercase hex), redone at its time t (cmd_revoke.c): both
 * marks with t, then every valid certificate of the key revoked reason 2
 * at t and its pending rows voided, in a transaction the caller audits
 * and commits (rolled back on a failure). */
struct hk_store;
struct hk_online_revoked_all {
	uint64_t revoked, voided;
	int token_made, conf_made;	/* each mark set by this call */
};
int hk_online_revoke_all_at(struct hk_online *on, struct hk_store *store,
    int gen, const char *kid, time_t t, struct hk_online_revoked_all *out);
/* The lock of state.conf's writers (an flock on <state>/state.lock), held
 * from here to hk_online_close by `request`, `responder`, `profile accept`,
 * `import` and `revoke --issuing-key-compromise`, which then read
 * state.conf again (backup waits for it to copy the state's files): a number,
 * key or mark another of them saved meanwhile is never overwritten or
 * used twice. HK_ERR_STATE at once when held. Call it before taking any
 * pointer into on->st (the old one is freed). */
int hk_online_state_lock(struct hk_online *on);
/* The same, waiting for the lock when another command holds it (saying so
 * on stderr once): for revoke --issuing-key-compromise, which an emergency
 * must not see refused because the daily backup is copying the store. */
int hk_online_state_lock_wait(struct hk_online *on);
/* An flock on <state>/<name>, waited for (no holder said): *fd, or -1. */
int hk_online_lock_wait(struct hk_online *on, const char *name, int *fd);
/* An flock on <state>/name (made 0600 if missing), taken at once or not at
 * all: 0 with *fd open and locked; HK_ERR_STATE when another process holds
 * it, with no message set (the caller names what holds it) and holder =
 * the file's first line ("" if none; holder may be NULL); HK_ERR_IO with
 * the message otherwise. path receives <state>/name either way. */
int hk_online_lock_file(struct hk_online *on, const char *name, char *path,
    size_t plen, int *fd, char *holder, size_t hlen);

/*
 * What publish warns about and status reports by the same rules
 * (docs/publish.md): the pre-signed ARLs (CPS 4-4-10), the CRLs against
 * the next daily run, an issuing CA's window for 3-year certificates.
 */
#define HK_PUBLISH_ARL_DAYS	7	/* warn when the ARLs run out sooner */
#define HK_PUBLISH_MARGIN	(4 * 3600) /* beyond the next daily run */
#define HK_PUBLISH_WINDOW_DAYS	90	/* warn when the issuing window closes
					 * sooner (a re-key crosses the air
					 * gap and a ceremony) */
#define HK_ARL_FLOOR		"arl"	/* crl_numbers row: the highest ARL
					 * number publish has seen out (no
					 * partition id is letters) */
/* The ARLs' runway at now: *floor = the highest ARL number already out
 * (out: the current set's arl.crl, 0 when none; the store's HK_ARL_FLOOR
 * record; the newest stored ARL in effect, hk_store_arl_in_effect);
 * *horizon = the last nextUpdate of the stored ARLs numbered from it
 * (those that may still be released), *all = of every stored ARL (0 when
 * none). */
int hk_online_arl_runway(struct hk_store *s, uint64_t out, time_t now,
    uint64_t *floor, time_t *horizon, time_t *all);
/* The warning that the ARLs that may still be released (numbered from
 * floor) run out at horizon (all: of every stored ARL), within
 * HK_PUBLISH_ARL_DAYS: what to do. lost: hk_online_distrust_top's
 * generation (0: none), whose key signs no ARL any more. */
void hk_online_arl_note(uint64_t floor, time_t horizon, time_t all, int lost,
    char *buf, size_t len);
/* What to do for the next ARLs: hold the arl-batch ceremony, or when the
 * root in force is declared compromised (lost, hk_online_distrust_top)
 * that none can follow and the CA starts again. */
const char *hk_online_arl_todo(int lost, const char *todo, char *buf,
    size_t len);
/* The last second from lo, before hi, at which a resident's certificate
 * issued under x (generation gen) still fits in it
 * (hk_cert_user_not_after), given that one issued at lo fits and one
 * issued at hi does not (a bisection). */
struct hk_profile;
time_t hk_online_issue_last(const struct hk_profile *p, X509 *x, int gen,
    time_t lo, time_t hi);
/* The warning that issuing CA gen can issue 3-year certificates only until
 * `until` (PROFILE.md), with the next step (top: state.conf's newest
 * generation; above gen, its certificate is still to be imported). */
void hk_online_window_note(int gen, int top, time_t until, time_t now,
    char *buf, size_t len);

/* Subcommands. */
int cmd_init(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_issue(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
/* ---- later subcommands: one line each, keep your own lines ---- */
int cmd_publish(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* (cmd_revoke.c) A resident identifier's keyed hash, form checked (CPS 3-1),
 * with the token's store key (logs in); also history. */
int hk_online_resident_key(struct hk_online *on, const char *resident_id,
    unsigned char rkey[HK_STORE_RKEY_LEN]);
int cmd_responder(int argc, char **argv);
int cmd_ocsp_refresh(int argc, char **argv);
int cmd_ocsp_answer(int argc, char **argv);
int cmd_ldap(int argc, char **argv);
/* (cmd_ldap.c) Write the repository's current set into LDAP (docs/ldap.md)
 * with the password from passin; audited (ldap.publish ok/fail), no
 * checkpoint: the caller signs one. Also publish --ldap. */
struct hk_online_ldap {
	const char *uri;	/* --ldap URI */
	const char *bind_dn;	/* simple bind DN */
	const char *passin;	/* password source (NULL: prompt) */
	int starttls;		/* 1: StartTLS first */
	int timeout;		/* seconds, 0: the default */
};
int hk_online_ldap_push(struct hk_online *on, const struct hk_online_ldap *l,
    const char *repo);
int cmd_index(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_rp(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_clock(int argc, char **argv);
/* ---- end later subcommands ---- */

/* ---- root distrust (distrust.c; CPS 4-14-2) ---- */
/*
 * A root generation declared compromised online (hanko-online trust
 * --compromised G): the token's private data object "root.G.compromised"
 * (application HK_ONLINE_MARK_APP, value "SHA-256 <hex>, <time>"; a restore
 * of the state does not take it back) and state.conf's root.G.compromised
 * (its time). hk_online_distrust_load reads, for each stored root
 * generation, state.conf's mark and (token 1: the login needed) the
 * token's; d->mark[0..n) are the generations either marks, each with its
 * stored certificate. hk_online_distrust_key: the mark whose root key k is,
 * or NULL. hk_online_distrust_where: the mark in words, for a message.
 * hk_online_distrust_ca (the login needed): HK_ERR_STATE, one line naming
 * the mark and "CPS 4-14-2: <what>", when ca (issuing generation igen)
 * verifies with a marked root key; else 0.
 */
#define HK_ONLINE_DISTRUST_MAX	64
struct hk_online_distrust_mark {
	int gen;			/* root generation */
	X509 *root;			/* its stored certificate (d's) */
	int conf, token;		/* which marks it */
	char conf_val[64];		/* state.conf's value */
	char token_val[256];		/* the token's value */
};
struct hk_online_distrust {
	X509 *root[HK_ONLINE_DISTRUST_MAX];	/* every stored root */
	int rgen[HK_ONLINE_DISTRUST_MAX];
	int nroots;
	struct hk_online_distrust_mark mark[HK_ONLINE_DISTRUST_MAX];
	int n;
};
int hk_online_distrust_load(struct hk_online *on, struct hk_store *s,
    int token, struct hk_online_distrust *d);
void hk_online_distrust_free(struct hk_online_distrust *d);
const struct hk_online_distrust_mark *hk_online_distrust_key(
    const struct hk_online_distrust *d, EVP_PKEY *k);
const char *hk_online_distrust_where(const struct hk_online_distrust_mark *m,
    char *buf, size_t len);
int hk_online_distrust_ca(struct hk_online *on, struct hk_store *s, X509 *ca,
    int igen, const char *what);
/* HK_ERR_STATE naming the mark when the newest stored root generation (the
 * root in force) is declared compromised: then nothing is issued or
 * certified under any issuing CA, whatever else (an ARL) also stops it;
 * checked first, so that the line says the CA starts again. */
int hk_online_distrust_newest(struct hk_online *on, struct hk_store *s,
    const char *what);
/* *gen: the newest stored root generation (the root in force) when it is
 * declared compromised (state.conf's mark, and the token's when on is
 * logged in), else 0: then no ARL, issuing CA or rollover can follow. */
int hk_online_distrust_top(struct hk_online *on, struct hk_store *s,
    int *gen);
/* ---- end root distrust ---- */

/*
 * The repository's current set cur (of repo) is this state's own: every
 * root/gen-N.cer of the set that the store holds as generation N is that
 * very certificate, and at least one is. A CA started again after its root
 * key's compromise (CPS 4-14-2: a new state, a new root under the same DN)
 * given the old CA's repository would otherwise take it over (publish's
 * CRLs at the URLs the old certificates name, serve's OCSP and provision
 * records). Else HK_ERR_STATE with one line "<repo>: set S is another
 * CA's: ...; <tail>" (tail: what that means for the caller and what was
 * not done). A NULL cur (nothing published yet) is 0.
 */
struct hk_repo_set;
int hk_online_repo_owner(struct hk_store *s, const struct hk_repo_set *cur,
    const char *repo, const char *tail);

#endif
