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

#include "p11.h"
#include "state.h"

#define HK_MAX_SHARE_ARGS	255

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
};

/* Load the state folder and apply --clock (refused outside rehearsals). */
int hk_ca_open(const struct hk_common_opts *o, const char *command,
    struct hk_ca **out);
/* Append an audit record (printf details); a failure to log is reported
 * on stderr and returned, never ignored. */
int hk_ca_audit(struct hk_ca *ca, const char *event, const char *result,
    const char *actors, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/*
 * Collect shares, one audit record per share; with a quorum, unseal the
 * user PIN, open the token and log in (audited). Fewer than the threshold:
 * HK_ERR_QUORUM and no login attempt.
 */
int hk_ca_activate(struct hk_ca *ca, const struct hk_share_arg *shares,
    int nshares);
/* Sign a checkpoint with the token's audit key (needs activation). */
int hk_ca_checkpoint(struct hk_ca *ca);
/* Log out, close the token, free. NULL is fine. */
void hk_ca_close(struct hk_ca *ca);

/* Parse the shared options; returns 1 if argv[*i] was one of them. */
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
int cmd_share(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
