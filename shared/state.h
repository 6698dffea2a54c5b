/*
 * state.h - the CA state folder of hanko-offline.
 *
 *   <state>/state.conf        what this CA is: format, token, key URIs (text)
 *   <state>/profile.yaml      the profile accepted (copied at init; state.conf
 *                             profile.sha256; shared/profile_accept.h)
 *   <state>/profile.accepted.yaml  a copy of it
 *   <state>/roster.yaml       the roster it was made with (copied at init)
 *   <state>/quorum.set        the public record of the share set
 *   <state>/secrets/          token PINs sealed under the quorum key
 *   <state>/token/            the embedded SoftHSM2 token and its config
 *   <state>/audit/audit.log   the audit log (+ .head) and its checkpoint key
 *   <state>/certs/            certificates made here (never overwritten)
 *
 * state.conf holds "key = value" lines; it is rewritten atomically.
 */
#ifndef HK_STATE_H
#define HK_STATE_H

#include <stddef.h>

#define HK_STATE_MAX_KEYS	512

struct hk_state {
	char *dir;			/* the state folder */
	size_t n;			/* number of keys in use */
	char *key[HK_STATE_MAX_KEYS];	/* state.conf keys, in file order */
	char *val[HK_STATE_MAX_KEYS];	/* their values */
};

/* Load <dir>/state.conf; HK_ERR_STATE if dir is not a hanko state folder. */
int hk_state_load(const char *dir, struct hk_state **out);
/* A new in-memory state for dir (nothing written). */
int hk_state_new(const char *dir, struct hk_state **out);
/* Value of key or NULL. */
const char *hk_state_get(const struct hk_state *s, const char *key);
/* Set (add or replace) a value; values are one line of printable text. */
int hk_state_set(struct hk_state *s, const char *key, const char *val);
/* Write state.conf atomically. */
int hk_state_save(const struct hk_state *s);
/* The same; *placed is 1 once the new state.conf is in place, also when
 * the call then failed (its folder's fsync): it names what it holds, and a
 * caller must not undo that as if it had not been saved. */
int hk_state_save_placed(const struct hk_state *s, int *placed);
void hk_state_free(struct hk_state *s);
/* snprintf "<dir>/<rel>" into buf; HK_ERR_INVALID if it does not fit. */
int hk_state_path(const struct hk_state *s, const char *rel, char *buf,
    size_t len);

#endif
