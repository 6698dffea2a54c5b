/*
 * profile_accept.h - the profile a state folder was accepted with
 * (docs/profile.md "A profile changed after init").
 *
 * Both programs copy the profile into <state>/profile.yaml at init and
 * sign everything afterwards as it says (CPS 7-1, 7-2: the contents of
 * certificates and CRL/ARLs follow the profile). A change of it is a
 * change of practice (CPS 8-1, 8-3, 6-6-1), so state.conf records the
 * SHA-256 of the profile accepted, when and by whom:
 *
 *   profile.sha256        64 hex digits of the profile.yaml accepted
 *   profile.accepted-at   YYYY-MM-DDTHH:MM:SSZ
 *   profile.accepted-by   "init", the CA manager's id (offline), or the
 *                         command that accepted it (online)
 *
 * and <state>/profile.accepted.yaml keeps a copy of those bytes, so that an
 * acceptance can show what changed. Every command that reads the profile
 * reads it through hk_profile_load_accepted and refuses any other bytes.
 */
#ifndef HK_PROFILE_ACCEPT_H
#define HK_PROFILE_ACCEPT_H

#include <stddef.h>

#include "profile.h"
#include "state.h"

#define HK_PROFILE_FILE		"profile.yaml"
#define HK_PROFILE_COPY		"profile.accepted.yaml"
#define HK_PROFILE_MAX		(1 << 20)	/* bytes of a profile file */
#define HK_PROFILE_KEY_SHA	"profile.sha256"
#define HK_PROFILE_KEY_AT	"profile.accepted-at"
#define HK_PROFILE_KEY_BY	"profile.accepted-by"

/* What hk_profile_load_accepted saw. */
struct hk_profile_seen {
	char hex[65];		/* SHA-256 of profile.yaml as read */
	char was[65];		/* the digest accepted ("" when none known) */
	char at[32];		/* when it was accepted ("" when unknown) */
	int adopt;		/* 1: state.conf records none (a state made
				 * before the record), and the audit log's
				 * init.start record names hex: the caller
				 * records it (hk_profile_record, by "init",
				 * at `at`) with an audit record of its own */
};

/* <state>/profile.yaml: its bytes (malloc'd, the caller frees) and their
 * SHA-256 in lowercase hex. */
int hk_profile_read_state(const struct hk_state *st, unsigned char **buf,
    size_t *len, char hex[65]);
/*
 * The profile digest init recorded: the first init.start record of
 * <state>/audit/audit.log ("... profile FILE sha256 HEX; ..."), with its
 * time. HK_ERR_NOT_FOUND (message set) when the log has none naming one;
 * HK_ERR_AUDIT when the log does not verify up to it.
 */
int hk_profile_init_digest(const struct hk_state *st, char hex[65],
    char at[32]);
/*
 * Load <state>/profile.yaml strictly from the bytes whose SHA-256 is
 * compared, refused unless it is the one state.conf records as accepted
 * (or, in a state that records none, the one init recorded: seen->adopt).
 * A refusal is HK_ERR_STATE with one line naming the file, that it changed
 * since it was accepted, both digests, the date it was accepted and the
 * command `accept` that accepts the change; nothing is written here.
 */
int hk_profile_load_accepted(const struct hk_state *st, const char *accept,
    struct hk_profile **out, struct hk_profile_seen *seen);
/* Set profile.sha256, -accepted-at and -accepted-by in st (not saved). */
int hk_profile_record(struct hk_state *st, const char *hex, const char *at,
    const char *by);
/* Keep buf as <state>/profile.accepted.yaml (atomic, replacing). */
int hk_profile_keep_copy(const struct hk_state *st, const unsigned char *buf,
    size_t len);
/*
 * Keep buf, the profile accepted until now (SHA-256 hex), read-only as
 * <state>/profile.yaml.<first 8 of hex>.retired: a record of the profile
 * that governed what was signed before (CPS 4-12). A file of that name
 * with the same bytes (the profile changed back) is kept as it is; one
 * with other bytes is an error. The path kept goes into path.
 */
int hk_profile_retire(const struct hk_state *st, const unsigned char *buf,
    size_t len, const char *hex, char *path, size_t pathlen);
/* The bytes of the profile accepted (SHA-256 want): profile.accepted.yaml,
 * else profile.yaml, whichever has that digest; *buf NULL (no error) when
 * neither has (a state made before the copy, a copy lost). */
void hk_profile_accepted_bytes(const struct hk_state *st, const char *want,
    unsigned char **buf, size_t *len);
/* The copy of the profile accepted, when it is there and its SHA-256 is
 * want: *out NULL otherwise (no error). */
int hk_profile_accepted_copy(const struct hk_state *st, const char *want,
    struct hk_profile **out);

#endif
