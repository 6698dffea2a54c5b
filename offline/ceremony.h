/*
 * ceremony.h - the ceremony engine of hanko-offline and its step registry
 * (DESIGN.md section 5, docs/ceremonies.md).
 *
 * A ceremony runs a script (shared/script.h) step by step. Each action is
 * one file offline/step_<name>.c defining one struct hk_step_action; the
 * registry in ceremony.c lists them. Adding an action: write the file
 * (spec, run, optional undo), add its extern below and one line to the
 * registry, and document it in docs/ceremonies.md.
 *
 * The engine checks everything it can before the token is touched: the
 * whole script, the inputs and their digests, that no output exists, the
 * roster's approval, every person's passphrase and that each step's roles
 * and dual control can be met. A step that fails makes the engine undo the
 * steps done so far in reverse order (a key generated is destroyed, files
 * written are removed), audit it and write the transcript.
 */
#ifndef HK_CEREMONY_H
#define HK_CEREMONY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "offline.h"
#include "roster.h"
#include "script.h"

#define HK_CER_MAX_PEOPLE	32	/* --operator entries */
#define HK_CER_MAX_FILES	4	/* files one step may create */

struct hk_cer;
struct hk_profile;
struct hk_transcript;

/* What a step made, kept until the ceremony ends (freed by the engine). */
struct hk_step_result {
	EVP_PKEY *priv;			/* key made or loaded; NULL if none */
	EVP_PKEY *pub;			/* its public key; NULL if none */
	char key_uri[256];		/* RFC 7512 URI of priv; "" if none */
	unsigned char key_id[32];	/* CKA_ID of the key */
	size_t key_id_len;		/* 0 if no key */
	int key_made;			/* 1: undo destroys the key */
	X509 *cert;			/* certificate signed; NULL if none */
	char written[HK_CER_MAX_FILES][4096]; /* files created; undo removes */
	int nwritten;			/* 0 once the CA owns them (commit) */
	char actors[1024];		/* ids who acted ("-" when none) */
	char detail[2048];		/* one line for the log and transcript */
	int ran;			/* 1 once run returned 0 */
	int undone;			/* 1 once its undo removed or dropped
					 * something (else, after a failure,
					 * the transcript says it is kept) */
};

/* One action of the registry: what the loader checks and what runs. */
struct hk_step_action {
	struct hk_action_spec spec;	/* name, params, flags (script.h) */
	/* Do the step; fill res; audit what it does. 0 or an HK_ERR code
	 * with hk_err_set. It cleans up its own partial work on failure. */
	int (*run)(struct hk_cer *c, const struct hk_script_step *st,
	    struct hk_step_result *res);
	/* Undo a step that ran, when a later step fails; NULL = nothing. */
	void (*undo)(struct hk_cer *c, const struct hk_script_step *st,
	    struct hk_step_result *res);
};

/* The actions (one file each). */
extern const struct hk_step_action hk_step_approve;
extern const struct hk_step_action hk_step_quorum_activate;
extern const struct hk_step_action hk_step_input_check;
extern const struct hk_step_action hk_step_root_keygen;
extern const struct hk_step_action hk_step_root_self_sign;
extern const struct hk_step_action hk_step_root_commit;
extern const struct hk_step_action hk_step_audit_checkpoint;
/* issuance: issue-subca, responder-certs, cross-certify */
extern const struct hk_step_action hk_step_csr_check;
extern const struct hk_step_action hk_step_issue_subca;
extern const struct hk_step_action hk_step_issue_commit;
extern const struct hk_step_action hk_step_responder_cert;
extern const struct hk_step_action hk_step_cross_issue;
extern const struct hk_step_action hk_step_cross_accept;
extern const struct hk_step_action hk_step_cross_commit;
/* issuance building blocks (offline/step_issue_subca.c) */
enum hk_iss_kind { HK_ISS_ISSUING, HK_ISS_OCSP, HK_ISS_VALIDATION,
    HK_ISS_CROSS };
struct hk_issued;
const char *hk_iss_kind_name(enum hk_iss_kind k);
void hk_iss_err_prefix(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* The current root: generation, certificate, key URI (state.conf). */
int hk_iss_root(struct hk_cer *c, int *gen, X509 **root, char *uri,
    size_t urilen);
/* <kind>.current + 1 from state.conf. */
int hk_iss_next(struct hk_cer *c, enum hk_iss_kind k, int *n);
/* The csr-check step a "request" parameter names, its input and kind. */
int hk_iss_request(struct hk_cer *c, const struct hk_script_step *st,
    const struct hk_script_step **check, int *input, enum hk_iss_kind *kind);
/* The bytes of an input as read at the start (c->input_buf: the ones
 * its SHA-256 in the transcript is over), refused beyond max bytes. */
int hk_iss_input(struct hk_cer *c, int input, size_t max,
    const unsigned char **buf, size_t *len);
/* A request input parsed from those bytes. */
int hk_iss_csr(struct hk_cer *c, int input, X509_REQ **out);
/* An expected SHA-256 input (64 hex digits), from those bytes. */
int hk_iss_fingerprint(struct hk_cer *c, int input, unsigned char out[32]);
int hk_iss_build(struct hk_cer *c, enum hk_iss_kind k, X509 *root,
    X509_REQ *csr, int n, const char *bca_dn, int path_len,
    const char *mapped, X509 **out);
/* Confirm the TBS, sign in the token, write certs/<kind>-<n>.der/.pem. */
int hk_iss_sign_write(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res, enum hk_iss_kind k, int n, X509 *cert,
    X509 *root, const char *key_uri);
int hk_iss_issue(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res, enum hk_iss_kind k, int path_len,
    const char *mapped);
void hk_iss_undo_files(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res);
int hk_iss_rel(struct hk_cer *c, const char *abs, char *rel, size_t len);
int hk_iss_register(struct hk_cer *c, X509 *cert, const char *kind,
    const char *rel, struct hk_issued **saved);
void hk_iss_unregister(struct hk_cer *c, struct hk_issued *reg);
/* root life cycle: rollover, revoke, arl-batch, compromise */
extern const struct hk_step_action hk_step_rollover_link;
extern const struct hk_step_action hk_step_rollover_issuing;
extern const struct hk_step_action hk_step_rollover_commit;
extern const struct hk_step_action hk_step_revoke;
extern const struct hk_step_action hk_step_arl_batch;
extern const struct hk_step_action hk_step_arl_commit;
extern const struct hk_step_action hk_step_compromise_revoke;
extern const struct hk_step_action hk_step_compromise_notice;
/* key custody: backup, restore, destroy, rotate-shares */
extern const struct hk_step_action hk_step_backup;
extern const struct hk_step_action hk_step_restore;
extern const struct hk_step_action hk_step_destroy;
extern const struct hk_step_action hk_step_rotate_shares;
/* roster: roster-change (offline/step_roster_change.c) */
extern const struct hk_step_action hk_step_roster_check;
extern const struct hk_step_action hk_step_roster_commit;
/* profile: profile-accept (offline/step_profile_accept.c) */
extern const struct hk_step_action hk_step_profile_accept;
/*
 * People with a PKCS#11 token of their own (offline/step_roster_auth.c).
 * hk_token_person_key: open the token of an RFC 7512 URI (its module-path,
 * else module, else SoftHSM2 with the SOFTHSM2_CONF the process started
 * with), log in (pin-source of the URI, else pin_spec, else the prompt),
 * take the key's SPKI SHA-256 into spki, refuse it unless it is want (when
 * not NULL), and have a challenge bound to context signed and verified.
 * hk_person_token_auth: the same against p's registered key; detail is
 * one line for the log.
 */
int hk_token_person_key(const char *id, const char *uri, const char *module,
    const char *pin_spec, const char *prompt,
    const unsigned char context[32], const unsigned char *want,
    unsigned char spki[32]);
int hk_person_token_auth(const struct hk_person *p, const char *uri,
    const char *module, const char *pin_spec,
    const unsigned char context[32], char *detail, size_t len);

/*
 * The engine's own rules over a script shared/script.c loaded, checked by
 * "ceremony check" and before a run: an approve step lists ca-manager in
 * its roles (the CA manager's instruction, CPS 5-2-2); no revoke or
 * compromise-revoke step after an arl-batch step (the ARLs are built from
 * what is staged when they are signed; arl-commit records what is staged);
 * no step that signs or registers a certificate beside compromise-revoke.
 * One line
 * "file:line:column: steps[i]: ..." and HK_ERR_INVALID, or 0.
 */
int hk_ceremony_script_check(const struct hk_script *s);

/* The registry as the script loader wants it, and its entries. */
const struct hk_action_spec *const *hk_ceremony_registry(size_t *n);
const struct hk_step_action *hk_ceremony_action(int index);

/* The options of "ceremony run". */
struct hk_cer_opts {
	const char *script;		/* the script file */
	const char *state;		/* --state DIR */
	const char *clock;		/* --clock; rehearsals only; NULL */
	int rehearsal;			/* --rehearsal: on a throwaway copy */
	int keep_rehearsal;		/* --keep-rehearsal: keep the copy */
	int confirm_digests;		/* --confirm-digests (rehearsals) */
	const char *out;		/* --out DIR; NULL */
	struct hk_share_arg shares[HK_MAX_SHARE_ARGS]; /* --share/--passin */
	int nshares;
	const char *op_id[HK_CER_MAX_PEOPLE];	/* --operator ID[=SPEC] */
	const char *op_spec[HK_CER_MAX_PEOPLE];	/* SPEC or NULL (prompt) */
	int nops;
	const char *in_name[HK_SCRIPT_MAX_INPUTS]; /* --input NAME=PATH */
	const char *in_path[HK_SCRIPT_MAX_INPUTS];
	int nins;
};

/*
 * The ceremony journal (offline/journal.c, docs/ceremonies.md "Killed
 * runs"): <state>/ceremony.journal names what a running ceremony made and
 * has not committed, so that a run that ends without its undo (SIGKILL, a
 * power cut) can be recovered by the next one.
 */
#define HK_JOURNAL_FILE		"ceremony.journal"
#define HK_CER_JOLD_MAX		64
struct hk_cer_jentry {
	int key;			/* 1: a key id "root-<n>"; 0: a file */
	int arl;			/* 1: ARLs certs/arl/arl-<n>.crl, n in
					 * v "<first>..<last>" (key 0) */
	char v[256];			/* the id, "certs/<name>" or the range */
};

/* A running ceremony: what steps may read and use. */
struct hk_cer {
	const struct hk_script *script;	/* the checked script */
	struct hk_ca *ca;		/* the state (a copy in a rehearsal) */
	struct hk_profile *profile;	/* the state's profile.yaml */
	struct hk_roster *roster;	/* the state's approved roster */
	int rehearsal;			/* 1: outputs TEST, clock settable */
	int confirm_auto;		/* 1: --confirm-digests answers */
	const struct hk_share_arg *shares; /* for quorum-activate */
	int nshares;
	const struct hk_person *present[HK_CER_MAX_PEOPLE]; /* authenticated */
	size_t npresent;
	char input_path[HK_SCRIPT_MAX_INPUTS][4096];	/* per script input */
	unsigned char input_sha[HK_SCRIPT_MAX_INPUTS][32];
	/* Each input's bytes, read once before anything ran, the very bytes
	 * input_sha is over: steps use these, never the file again (a
	 * medium changed during the run changes nothing). NULL: not read. */
	unsigned char *input_buf[HK_SCRIPT_MAX_INPUTS];
	size_t input_len[HK_SCRIPT_MAX_INPUTS];
	char output_path[HK_SCRIPT_MAX_OUTPUTS][4096];	/* resolved */
	struct hk_step_result res[HK_SCRIPT_MAX_STEPS];	/* per step */
	struct hk_transcript *tr;	/* the transcript being built */
	/* the journal: what the step running is about to make */
	struct hk_cer_jentry jnext[2 * HK_CER_MAX_FILES + 2];
	int njnext;
	/* what a run that ended without its undo left named (kept in the
	 * journal until a recovery removed it) */
	struct hk_cer_jentry jold[HK_CER_JOLD_MAX];
	int njold;
	char jold_run[512];		/* its "ceremony:" line(s) */
	int jpending;			/* 1: a journal was there at start */
	int jend;			/* 1: the run ended well */
	int runlock_fd;			/* the state folder, flock'd */
	int runlock_held;		/* 1: runlock_fd is open and locked */
};

/* The journal's path in state_dir. */
int hk_journal_path(const char *state_dir, char *buf, size_t len);
/* 1 when state_dir holds a journal (a run's leftovers may wait). */
int hk_cer_journal_pending(const char *state_dir);
/* Read a journal left by an earlier run into c->jold (refused, with the
 * line, when it is not one). */
int hk_cer_journal_begin(struct hk_cer *c);
/* Name, durably, a root key (its CKA_ID) or a file (absolute path; only
 * one under <state>/certs/ is named) BEFORE the step makes it. An error:
 * the step must not make it. */
int hk_cer_journal_key(struct hk_cer *c, const unsigned char *id,
    size_t idlen);
int hk_cer_journal_file(struct hk_cer *c, const char *abs);
/* Name, durably, the ARLs certs/arl/arl-<first..last>.crl before the step
 * writes them (refused when one is there already). */
int hk_cer_journal_arls(struct hk_cer *c, uint64_t first, uint64_t last);
/* After each step: the journal names what the undo would remove now
 * (failed: and what the step was about to make and is still there). */
void hk_cer_journal_step_done(struct hk_cer *c, int failed);
/* At the run's end (ok: all it made is kept; else after its undo). */
int hk_cer_journal_end(struct hk_cer *c, int ok);
/* 1 when rel ("certs/x") is named by the earlier run's journal and not
 * by state.conf or issued.txt: a leftover the recovery removes. */
int hk_cer_journal_stray(struct hk_cer *c, const char *rel);
/* Remove, with the token active, what c->jold names that nothing
 * committed names (audited as who); what was done in detail. */
int hk_cer_recover(struct hk_cer *c, const char *who, char *detail,
    size_t len);
/* The recovery recorded: the journal no longer names the earlier run. */
int hk_cer_journal_recovered(struct hk_cer *c);
int hk_cer_journal_remove(const char *state_dir);
/* 1 when a ceremony run holds state_dir's run lock (status). */
int hk_cer_run_busy(const char *state_dir);
/* For "status": what a journal names, or nothing when there is none (a
 * running ceremony's own journal said as such). */
int hk_cer_journal_show(const char *state_dir, FILE *out);

int hk_ceremony_run(const struct hk_cer_opts *o);

/*
 * The state's roster.yaml, refused unless its SHA-256 is the one the CA
 * manager approved (state.conf roster.approved-sha256; CPS 5-2-1, 5-2-2).
 */
int hk_ceremony_roster(struct hk_ca *ca, struct hk_roster **out);

/*
 * Show what is about to be signed (SHA-256 as hex and as a QR code) and
 * require the operator to type its first 8 hex digits on the terminal;
 * --confirm-digests answers in a rehearsal. Audited either way. 0, or
 * HK_ERR_TTY (no terminal), HK_ERR_INVALID (wrong or no answer).
 */
int hk_cer_confirm(struct hk_cer *c, const struct hk_script_step *st,
    const char *what, const unsigned char dgst[32]);
/*
 * One line typed at the terminal after prompt, into ans (len bytes, the
 * newline dropped). 0; HK_ERR_TTY: no terminal; 1: interrupted by
 * SIGINT, SIGHUP, SIGTERM or SIGQUIT (ans empty), which the caller
 * treats as a refusal. From ceremony.start on, such a signal ends the
 * run as a failed step, never in the middle of a step (ceremony.c).
 */
int hk_cer_ask(const char *prompt, char *ans, size_t len);
/* The signal that interrupted the ceremony (its name in buf), or 0. */
int hk_cer_interrupted(char *buf, size_t len);
/* The step result of the step a HK_PARAM_STEP parameter names. */
struct hk_step_result *hk_cer_ref_result(struct hk_cer *c,
    const struct hk_script_step *st, const char *param);
/* The resolved path of the output a HK_PARAM_OUTPUT parameter names. */
const char *hk_cer_ref_output(struct hk_cer *c,
    const struct hk_script_step *st, const char *param, int *index);
/* Undo of a step whose files are in res->written: remove each, with a
 * record event "ok" "<file> removed: the ceremony failed before <before>"
 * for each one removed (res->undone set); res->nwritten is 0 after. */
void hk_cer_undo_written(struct hk_cer *c, struct hk_step_result *res,
    const char *event, const char *before);

/* The root key's building blocks, shared with "create-root". */
struct hk_root_key {
	EVP_PKEY *priv, *pub;		/* from the token; NULL until made */
	char uri[256];			/* pkcs11: URI of the private key */
	unsigned char id[16];		/* CKA_ID "root-1" */
	size_t idlen;
	int made;			/* 1: generated and not yet the CA's */
	/* called with the id before the key is generated (a ceremony's
	 * journal); NULL: none. Non-zero: nothing is generated. */
	int (*before)(void *arg, const unsigned char *id, size_t idlen);
	void *before_arg;
};
typedef int (*hk_confirm_fn)(void *arg, const char *what,
    const unsigned char dgst[32]);
/* Generation 0 and neither file present, else HK_ERR_EXISTS. */
int hk_root_precheck(struct hk_ca *ca, const char *state, const char *der,
    const char *pem);
/* Generate root-1 in the token as the profile says (audited). */
int hk_root_keygen(struct hk_ca *ca, const struct hk_profile *p,
    struct hk_root_key *k);
/* Destroy a key made and not yet committed (audited). */
void hk_root_key_undo(struct hk_ca *ca, struct hk_root_key *k);
/* Build, lint, (confirm,) sign, verify and lint the self-signed root. */
int hk_root_sign(struct hk_ca *ca, const struct hk_profile *p,
    struct hk_root_key *k, int rehearsal, hk_confirm_fn confirm, void *arg,
    X509 **out);
/* Write DER and PEM (never replacing) and audit cert.sign ok. */
int hk_root_write(struct hk_ca *ca, X509 *cert, const char *der,
    const char *pem, char fp[96]);
/* Record generation 1 in state.conf; the key is the CA's from now on. */
int hk_root_commit(struct hk_ca *ca, struct hk_root_key *k,
    const char *certrel, const char *fp);

#endif
