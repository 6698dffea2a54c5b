/*
 * offline.h - what the subcommands of hanko-offline share.
 *
 * main.c only dispatches; each subcommand lives in cmd_<name>.c with one
 * options struct. The helpers here open the CA state folder, write audit
 * records, and run the quorum activation that unlocks the token
 * (CPS 6-2-1-7: the root key is activated by several key managers).
 */
#ifndef HK_OFFLINE_H
#define HK_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "p11.h"
#include "state.h"

#define HK_MAX_SHARE_ARGS	255

struct hk_roster;

/* One "--share FILE [--passin SPEC]" pair from the command line. */
struct hk_share_arg {
	const char *path;	/* share file on the holder's medium */
	const char *passin;	/* passphrase source; NULL = prompt */
};

/* Options every command that touches the state folder accepts. */
struct hk_common_opts {
	const char *state;	/* --state: the CA state folder */
	const char *clock;	/* --clock: fixed UTC time; rehearsals only */
};

/* An open CA: its state, and after activation its token (logged in). */
struct hk_ca {
	struct hk_state *st;		/* loaded state.conf */
	char audit_log[4096];		/* <state>/audit/audit.log */
	struct hk_token *tok;		/* NULL until hk_ca_activate */
	char actors[1024];		/* holders whose shares activated it */
	unsigned char *qkey;		/* the quorum key (32 bytes, hk_secret_alloc)
					 * after hk_ca_activate, for backups and
					 * re-sharing; NULL before; wiped by
					 * hk_ca_close */
	unsigned char *stand_in_qkey;	/* rehearsal only (rehearsal.c): once the
					 * real shares reach the quorum, this
					 * throwaway key replaces the real one,
					 * which is wiped; NULL in real runs */
	int quorum_only;		/* set before hk_ca_activate: combine the
					 * shares but open no token (restore into
					 * a fresh token when the old one is lost) */
	int audit_lost;			/* records that could not be appended;
					 * after the first, hk_ca_audit_warn no
					 * longer repeats the warning */
};

/*
 * Make the throwaway CA a rehearsal of a real one runs on: <state>.rehearsal-
 * XXXXXX with the state's public files, a fresh token with throwaway keys of
 * the same names, TEST roots, a fresh audit log, and PINs sealed under a
 * stand-in quorum key returned in *stand_in (secure memory). See rehearsal.c.
 */
int hk_rehearsal_make(const char *state, char *copy, size_t len,
    uint8_t **stand_in);

/* Keep a copy of the roster just approved as roster.approved.yaml, the
 * reference "roster approve" compares later approvals with (cmd_roster.c). */
int hk_roster_keep_approved(struct hk_ca *ca, const char *path);
/*
 * May roster nw (read from path, named in messages) be approved, compared
 * with the roster last approved (roster_check.c)? 0 when nothing was ever
 * approved. Key managers and threshold must be the quorum set's in force
 * (rotation: the new roster's own); everyone else as approved; every
 * credential changed set by its holder (their roster.credential record in
 * the audit log since the last approval). HK_ERR_INVALID naming the person
 * and the rule; HK_ERR_STATE when roster.approved.yaml is missing or not
 * the roster state.conf says was approved; HK_ERR_AUDIT when the log does
 * not verify.
 */
int hk_roster_approvable(struct hk_ca *ca, const struct hk_roster *nw,
    const char *path, int rotation);
/* The roster last approved (roster.approved.yaml, checked against
 * state.conf's roster.approved-sha256; path set to the file read): *ref
 * NULL when nothing was ever approved. */
int hk_roster_reference(struct hk_ca *ca, struct hk_roster **ref, char *path,
    size_t len);

/*
 * The state's profile.yaml, refused (HK_ERR_STATE, nothing written) unless
 * it is the profile accepted (shared/profile_accept.h; docs/profile.md): the
 * one place hanko-offline reads it. In a state made before the record, the
 * profile init was given is recorded as accepted (audited profile.adopt).
 * *out is the caller's.
 */
struct hk_profile;
int hk_ca_profile(struct hk_ca *ca, struct hk_profile **out);
/* Load the state folder and apply --clock (refused outside rehearsals). */
int hk_ca_open(const struct hk_common_opts *o, const char *command,
    struct hk_ca **out);
/*
 * Append an audit record (printf details). A record that cannot be appended
 * is HK_ERR_AUDIT (exit 6) with the reason as the detail, and the caller
 * stops: nothing the record would announce (an activation, a key, a
 * signature, a commit) is done, or what was done is undone (CPS 4-11-2;
 * docs/audit-log.md "When an append fails"). The result must be checked.
 */
int hk_ca_audit(struct hk_ca *ca, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
    __attribute__((format(printf, 5, 6), warn_unused_result));
/*
 * The same for a record written on a path that already fails (a refusal,
 * a failure, an undo): a record that cannot be appended is reported on
 * stderr ("AUDIT LOG NOT WRITTEN"; once: not again after an earlier record
 * was lost, which the command reports as its error) and the detail of the
 * failure being logged is kept, so the caller still returns its own error.
 */
void hk_ca_audit_warn(struct hk_ca *ca, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/*
 * Collect shares, one audit record per share; with a quorum, unseal the
 * user PIN, open the token and log in (audited). Fewer than the threshold:
 * HK_ERR_QUORUM and no login attempt. The quorum key stays in ca->qkey
 * (secure memory) until hk_ca_close; with ca->quorum_only set, no token is
 * opened (restore).
 */
int hk_ca_activate(struct hk_ca *ca, const struct hk_share_arg *shares,
    int nshares);
/* Open <state>/secrets/<name>.sealed (<name>.key-KID.sealed under a key a
 * re-key made: hk_sealed_path) with ca->qkey (needs activation):
 * *plain is hk_secret_alloc memory, NUL-terminated; hk_secret_free it. */
int hk_ca_unseal(struct hk_ca *ca, const char *name, unsigned char **plain);
/*
 * The sealed files of secrets/ by the quorum key they are sealed under
 * (sealed.c; docs/key-lifecycle.md "Changing the quorum key"):
 * secrets/NAME.sealed under the key made at init, secrets/NAME.key-KID.sealed
 * under the key whose id is KID (hk_sealed_key_id: 16 hex digits of a keyed
 * BLAKE2b of the key). The set in force combines one key; its id chooses
 * the files.
 */
#define HK_SEALED_KID_LEN	16
#define HK_SEALED_HISTORY	"quorum-key-history"
void hk_sealed_key_id(const uint8_t *key, char out[HK_SEALED_KID_LEN + 1]);
/* The file of secret name under key: the key's own if there, else the
 * init form (which may not exist). rel is "secrets/...". */
int hk_sealed_path(struct hk_ca *ca, const uint8_t *key, const char *name,
    char *rel, size_t rellen, char *path, size_t len);
/* Where a new secret sealed under ca->qkey goes (the user PIN's form). */
int hk_sealed_new_path(struct hk_ca *ca, const char *name, char *rel,
    size_t rellen, char *path, size_t len);
/* The keys in force before key (newest first; *n of them, 32 bytes each,
 * hk_secret_alloc memory), from secrets/quorum-key-history.key-KID.sealed;
 * none (0, *keys NULL) for a key no re-key made. */
int hk_sealed_history(struct hk_ca *ca, const uint8_t *key, uint8_t **keys,
    size_t *n);
/* Remove (audited, each overwritten in place first: hk_sealed_shred) the
 * files of secrets/ superseded by key's own: the init form of a secret key
 * has a file of, and the files of the keys in key's history; with all, the
 * files of every other key too and the leftovers of interrupted writes
 * (a re-key that stopped before its commit). */
int hk_sealed_tidy(struct hk_ca *ca, const uint8_t *key, int all);
/* Overwrite the file in place with random bytes (the same inode: its
 * blocks, as far as the file system rewrites in place), fsync it, unlink
 * it: 1; 0 if there is no such file; < 0 on an error (said). */
int hk_sealed_shred(const char *path);
/* hk_sealed_shred every file of secrets/ that holds the secret name:
 * under any quorum key, and an interrupted write's leftover; *retired is
 * how many. secrets/ is fsynced after. */
int hk_sealed_retire(struct hk_ca *ca, const char *name, int *retired);
/* Every secret sealed under ca->qkey sealed again under newkey, and the
 * history (ca->qkey, then its own), as new files named by newkey's id;
 * each audited (quorum.rekey.seal, with its SHA-256). rk lists the files
 * made: hk_rekey_free(rk, 1) removes them (before the commit). */
struct hk_rekey {
	char **made;
	size_t n;
};
int hk_sealed_rekey(struct hk_ca *ca, const uint8_t *newkey,
    struct hk_rekey *rk);
void hk_rekey_free(struct hk_rekey *rk, int failed);
/* Sign a checkpoint with the token's audit key (needs activation). */
int hk_ca_checkpoint(struct hk_ca *ca);
/* hk_ca_checkpoint, then into out the anchor the ceremony record keeps:
 * "log <id> record <seq> hash <64 hex>, audit key SHA-256 <64 hex>" (the
 * checkpoint record and the SHA-256 of the token audit key's SPKI). */
int hk_ca_checkpoint_anchor(struct hk_ca *ca, char *out, size_t len);
/* Log out, close the token, free. NULL is fine. */
void hk_ca_close(struct hk_ca *ca);

/* What every command that opens the CA with a quorum takes. */
struct hk_ca_args {
	struct hk_common_opts c;	/* --state, --clock */
	struct hk_share_arg shares[HK_MAX_SHARE_ARGS]; /* --share/--passin */
	int nshares;			/* how many --share */
};
/* One "--name VALUE" option of such a command (hk_ca_parse). */
struct hk_ca_opt {
	const char *name;	/* "--key"; NULL ends the list */
	const char **value;	/* where VALUE goes (with n: an array) */
	int *n;			/* NULL: once (*value NULL until then; a
				 * second one is a usage error, "--key:
				 * given twice (once only)"); else
				 * repeatable, values[*n] so far */
	int max;		/* with n: at most this many */
};
/*
 * Parse argv[1..] of such a command: the shared options into a, those of
 * opts (NULL: none) into theirs. --help prints usage on stdout and returns
 * 1; anything else, a value missing, a once-only option (--state, --clock
 * and those without n) given twice or a repeatable option beyond its max
 * is HK_ERR_USAGE with a one-line message naming the option.
 */
int hk_ca_parse(struct hk_ca_args *a, const struct hk_ca_opt *opts,
    const char *usage, int argc, char **argv);
/* Parse the shared options; returns 1 if argv[*i] was one of them (*r:
 * 0, or HK_ERR_USAGE when its value is missing or it was given before:
 * o's fields start NULL). */
int hk_common_opt(struct hk_common_opts *o, int argc, char **argv, int *i,
    int *r);
/* "--share FILE" and the "--passin SPEC" after it; returns 1 if taken. */
int hk_share_opt(struct hk_share_arg *shares, int *n, int argc, char **argv,
    int *i, int *r);
/* "--opt VALUE": the value, or NULL with a usage error set. */
const char *hk_opt_value(int argc, char **argv, int *i);

/* Subcommands. */
int cmd_init(int argc, char **argv);
int cmd_create_root(int argc, char **argv);
int cmd_activate(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* "audit backup" (audit_backup.c); argv[0] is "backup". */
int cmd_audit_backup(int argc, char **argv);
int cmd_audit_close(int argc, char **argv);
int cmd_share(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_rotate_shares(int argc, char **argv);

/* Key life-cycle ceremonies (docs/key-lifecycle.md), callable after
 * hk_ca_activate; each audits its steps and failures and ends with
 * hk_ca_checkpoint while the token is active. */
struct backup_opts {
	const char *key;	/* key label: "root-N" or "audit-1" */
	const char *out;	/* backup file to make (0600, never replaced) */
};
int hk_backup(struct hk_ca *ca, const struct backup_opts *o);

/* Helpers of the key life-cycle commands (cmd_backup.c). */
/* On a failure path: sign a checkpoint if the token is active, keeping
 * the failure's message. */
void hk_life_checkpoint_keep_err(struct hk_ca *ca);
/* The state.conf key holding the URI of key label (root-N, audit-1);
 * refuses unknown and destroyed keys. */
int hk_life_key(struct hk_ca *ca, const char *label, char *uri_key,
    size_t len);
/* The per-key KEK seed (secrets/backup-seed-<label>.sealed, needs the
 * quorum key), made when create and missing: *seed is secret memory. */
int hk_life_seed(struct hk_ca *ca, const char *label, int create,
    unsigned char **seed);
/* The public key the CA's records give key label: its certificate
 * (certs/<label>.der) or audit/audit-key.pem. */
int hk_life_refpub(struct hk_ca *ca, const char *label, EVP_PKEY **pub);
/* SubjectPublicKeyInfo DER (OPENSSL_free) and its SHA-256. */
int hk_life_spki(EVP_PKEY *pub, unsigned char **der, size_t *len,
    unsigned char sha[32]);

#define HK_RESTORE_BACKUPS_MAX	8	/* a ceremony's backup-1 .. backup-8 */
struct restore_opts {
	const char *const *backups;	/* backup files, one per live key */
	const unsigned char *const *backup_buf; /* their bytes, already read
				 * (ceremony inputs); NULL: each file read */
	const size_t *backup_len;
	int nbackups;
	const char *module;	/* PKCS#11 module; NULL = the embedded SoftHSM2 */
	const char *label;	/* label of the fresh token; NULL = <old>-rN */
};
/* Needs ca->quorum_only activation or a normal one. */
int hk_restore(struct hk_ca *ca, const struct restore_opts *o);

struct destroy_opts {
	const char *key;	/* key label: "root-N" */
	const char *confirm;	/* must equal key (--yes-destroy KEY) */
};
int hk_destroy(struct hk_ca *ca, const struct destroy_opts *o);
/*
 * 0 when root key label (root-N, known to hk_life_key) is at the end of
 * its life and may be destroyed (CPS 6-2-1-9): a rollover has made a newer
 * generation current (root.current, else root.generations, is above N;
 * CPS 4-13), or a compromise ceremony has marked it (root.N.compromised;
 * CPS 4-14-2). The generation in force is refused, HK_ERR_STATE, with one
 * line "<who>: root-N is the root key in force (...)" naming state.conf's
 * keys, the rule and what would allow it. Checked before the quorum or a
 * label is asked for (cmd_destroy, step_destroy) and again by hk_destroy.
 */
int hk_life_root_destroyable(struct hk_ca *ca, const char *label,
    const char *who);

struct rotate_shares_opts {
	const char *roster;	/* the new roster (approved by the CA manager) */
	const unsigned char *roster_buf; /* its bytes, already read (a
				 * ceremony input: the ones its SHA-256 is
				 * over); NULL: read roster once */
	size_t roster_len;
	const char *media;	/* <media>/<id>/ gets each new holder's share */
	const char *const *passin_id;	/* "ID=SPEC" of each new holder */
	const char *const *passin_spec;	/* the SPEC part of each */
	int npassin;
	int kdf_level;		/* enum hk_kdf_level */
	int new_key;		/* --new-quorum-key: a fresh quorum key, every
				 * secret of secrets/ sealed again under it */
};
int hk_rotate_shares(struct hk_ca *ca, const struct rotate_shares_opts *o);

/* The key managers of a new quorum set (init, rotate-shares; newset.c). */
/*
 * A new passphrase for each key manager of ro, in roster order, into
 * pass[i] (secure memory; the caller frees them, on failure too): from the
 * --passin "ID=SPEC" (passin_id[k], passin_spec[k] its SPEC) naming the
 * holder, else a prompt "New passphrase for ID (NAME), key manager I of
 * N<of>: ". Each must pass hk_passphrase_check and differ from the others
 * (HK_ERR_WEAK_PASSPHRASE naming both holders).
 */
int hk_newset_passphrases(const struct hk_roster *ro,
    const char *const *passin_id, const char *const *passin_spec,
    int npassin, const char *of, char **pass);
/* <media>/<id>/ for a holder's share, made (0700) with <media> if missing. */
int hk_newset_media_dir(const char *media, const char *id);

int cmd_status(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_qr(int argc, char **argv);
int cmd_ceremony(int argc, char **argv);
int cmd_roster(int argc, char **argv);

#endif
