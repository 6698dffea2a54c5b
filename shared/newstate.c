/*
 * newstate.c - a new state folder, built beside its final name and moved
 * into place whole (newstate.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "err.h"
#include "newstate.h"
#include "p11.h"
#include "state.h"

/*
 * Folders "<state>.init-XXXXXX" beside the new one: an init of this name
 * that stopped (killed, power lost) before its rename left its work there,
 * a token and the token's PIN among it. Named on stderr, never removed
 * (another init may be running): the operators remove them.
 */
static void
leftovers(const char *state, const char *parent)
{
	char tmp[4096], pre[4096];
	struct dirent *e;
	size_t pl;
	DIR *d;

	snprintf(tmp, sizeof(tmp), "%s", state);
	snprintf(pre, sizeof(pre), "%s.init-", basename(tmp));
	pl = strlen(pre);
	if ((d = opendir(parent)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, pre, pl) == 0 &&
		    strlen(e->d_name) == pl + 6)
			fprintf(stderr, "warning: %s/%s: left by an init of "
			    "%s that stopped before it finished; it may hold a "
			    "token and its PIN: remove it (rm -r) once no init "
			    "is running\n", parent, e->d_name, state);
	closedir(d);
}

int
hk_newstate_check(const char *state)
{
	char parent[4096];
	const unsigned char *c;

	/* The token's softhsm2.conf names <state>/token on one line, read
	 * line by line: a control character in the path breaks it (the
	 * token then fails to load, exit 5, naming the module). */
	for (c = (const unsigned char *)state; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f) {
			hk_err_set("%s: byte %zu (0x%02x): a control character "
			    "in the state folder's path (softhsm2.conf names "
			    "its token folder on one line)", state,
			    (size_t)(c - (const unsigned char *)state) + 1, *c);
			return HK_ERR_INVALID;
		}
	if (hk_path_exists(state)) {
		hk_err_set("%s: already exists; init makes a new state folder "
		    "and never reuses one", state);
		return HK_ERR_EXISTS;
	}
	snprintf(parent, sizeof(parent), "%s", state);
	if (!hk_path_exists(dirname(parent))) {
		hk_err_set("%s: the folder %s that should hold it does not "
		    "exist", state, parent);
		return HK_ERR_NOT_FOUND;
	}
	leftovers(state, parent);
	return 0;
}

int
hk_newstate_path(const char *dir, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, rel);

	if (n < 0 || (size_t)n >= len) {
		hk_err_set("%s/%s: path too long", dir, rel);
		return HK_ERR_INVALID;
	}
	return 0;
}

int
hk_newstate_softhsm(const char *dir, char *conf, size_t len)
{
	char path[4096];
	int r;

	if ((r = hk_newstate_path(dir, "token", path, sizeof(path))) != 0 ||
	    (r = hk_softhsm_prepare(path)) != 0)
		return r;
	return hk_newstate_path(dir, "token/softhsm2.conf", conf, len);
}

int
hk_newstate_save(const char *dir, struct hk_state *st)
{
	char *final = st->dir;
	int r;

	st->dir = (char *)dir;
	r = hk_state_save(st);
	st->dir = final;
	return r;
}

int
hk_newstate_commit(const char *tmp, const char *state, int softhsm,
    int *made)
{
	char conf[4096], final[4096];
	int e, n, r;

	if (softhsm) {
		/* SoftHSM2 reads tokendir as given, from the working folder of
		 * each later command: a state named by a relative path must be
		 * named absolutely here, or every command run from another
		 * folder finds no token ("cannot load PKCS#11 module"). */
		char cwd[4096];
		if (state[0] == '/')
			n = snprintf(final, sizeof(final), "%s/token", state);
		else if (getcwd(cwd, sizeof(cwd)) == NULL) {
			hk_err_set("%s: cannot name the token's folder: the "
			    "working folder: %s", state, strerror(errno));
			return HK_ERR_IO;
		} else
			n = snprintf(final, sizeof(final), "%s/%s/token", cwd,
			    state);
		if (n < 0 || (size_t)n >= sizeof(final)) {
			hk_err_set("%s: path too long", state);
			return HK_ERR_INVALID;
		}
		if ((r = hk_newstate_path(tmp, "token", conf,
		    sizeof(conf))) != 0 ||
		    (r = hk_softhsm_conf_write(conf, final)) != 0)
			return r;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, state, RENAME_NOREPLACE) != 0) {
		e = errno;
		hk_err_set("%s: cannot move the new state into place: %s",
		    state, strerror(e));
		return e == EEXIST ? HK_ERR_EXISTS : HK_ERR_IO;
	}
	/* From here on tmp is the state: nothing may be removed, not even
	 * when the fsync below fails (the caller's clean-up keys on *made;
	 * offline init's shares belong to this state now, CPS 6-2-1-7). */
	*made = 0;
	if ((r = hk_dir_sync(state)) != 0) {
		e = errno;	/* hk_dir_sync's failed open or fsync */
		hk_err_set("%s: the new state IS in place, but the folder "
		    "holding it could not be fsynced (%s), so its directory "
		    "entry may not be durable: remove nothing, run sync, and "
		    "check that %s is still there before using it; do not run "
		    "init again", state, strerror(e), state);
	}
	return r;
}
