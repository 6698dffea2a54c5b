/*
 * newstate.h - a new state folder, built where nobody reads it and moved
 * into place whole.
 *
 * "init" of hanko-offline and of hanko-online checks its inputs first,
 * builds everything in "<state>.init-XXXXXX" (hk_dir_temp_beside) and
 * renames that folder to <state> at the end, never replacing one: a
 * failure before the rename leaves nothing behind, a state folder is
 * either complete or absent, and once renamed it is never removed. The rehearsal copy of hanko-offline (offline/rehearsal.c) is
 * made beside the state the same way.
 */
#ifndef HK_NEWSTATE_H
#define HK_NEWSTATE_H

#include <stddef.h>

struct hk_state;

/*
 * 0 when state does not exist yet and the folder that is to hold it does;
 * else HK_ERR_EXISTS ("already exists; init makes a new state folder and
 * never reuses one"), HK_ERR_NOT_FOUND, or HK_ERR_INVALID for a path with
 * a control character (softhsm2.conf names the token on one line), naming
 * state.
 */
int hk_newstate_check(const char *state);
/* "<dir>/<rel>" in buf; HK_ERR_INVALID ("path too long") when it does not
 * fit. */
int hk_newstate_path(const char *dir, const char *rel, char *buf,
    size_t len);
/* <dir>/token made for the embedded SoftHSM2 (hk_softhsm_prepare), and
 * the path of its configuration, <dir>/token/softhsm2.conf, in conf. */
int hk_newstate_softhsm(const char *dir, char *conf, size_t len);
/* st's state.conf written in dir, the folder being built; st->dir stays
 * the final folder. */
int hk_newstate_save(const char *dir, struct hk_state *st);
/*
 * Move the folder built, tmp, to state, which must not exist (renameat2
 * RENAME_NOREPLACE: HK_ERR_EXISTS when it does), then fsync the folder
 * holding it. With softhsm set, tmp/token/softhsm2.conf first names the
 * token's final place (<state>/token). *made is set to 0 once tmp has
 * moved: from then on tmp is the state and the caller removes nothing
 * (no folder, no share written for it), even when the fsync fails. That
 * failure is HK_ERR_IO with a message saying the state IS in place but
 * its directory entry may not be durable, and what to do.
 */
int hk_newstate_commit(const char *tmp, const char *state, int softhsm,
    int *made);

#endif
