/*
 * step_restore.c - action "restore": the CA's keys restored from their
 * backups into a fresh token after the old one was lost or damaged
 * (CPS 4-14-1, 5-2-1-1 (2), 6-2-1-4), by hk_restore.
 *
 * The old token may be gone, so the step combines the key managers' quorum
 * itself without opening it (no quorum-activate step before it is needed;
 * if one ran, its quorum is used and the old token closed). Every backup is
 * an input of the script (its SHA-256 in the transcript). state.conf naming
 * the fresh token is the commit: no undo; a later failure leaves the CA on
 * the restored token, which is whole.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "err.h"

#define NBACKUPS	HK_RESTORE_BACKUPS_MAX

static const struct hk_param_spec params[] = {
	{ "backup-1", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "backup-2", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-3", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-4", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-5", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-6", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-7", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "backup-8", HK_PARAM_INPUT, 0, 0, 0, NULL, NULL, -1 },
	{ "token-label", HK_PARAM_STR, 0, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const char *backups[NBACKUPS];
	const unsigned char *bufs[NBACKUPS];
	size_t lens[NBACKUPS];
	const struct hk_script_param *p;
	struct restore_opts o;
	char name[16];
	int i, j, r;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < NBACKUPS; i++) {
		snprintf(name, sizeof(name), "backup-%d", i + 1);
		if ((p = hk_script_param(st, name)) == NULL)
			continue;
		for (j = 0; j < o.nbackups; j++)
			if (strcmp(backups[j], c->input_path[p->ref]) == 0) {
				hk_err_set("%s:%lu:%lu: step %s: %s: input %s "
				    "given twice", c->script->file, p->line,
				    p->col, st->id, name, p->value);
				return HK_ERR_INVALID;
			}
		/* the bytes read at the start, whose SHA-256 is in the
		 * transcript */
		if ((r = hk_iss_input(c, p->ref, (size_t)1 << 20,
		    &bufs[o.nbackups], &lens[o.nbackups])) != 0)
			return r;
		backups[o.nbackups++] = c->input_path[p->ref];
	}
	o.backups = backups;
	o.backup_buf = bufs;
	o.backup_len = lens;
	if ((p = hk_script_param(st, "token-label")) != NULL)
		o.label = p->value;
	if (c->ca->qkey == NULL) {
		/* The quorum only: the old token is not opened. */
		c->ca->quorum_only = 1;
		r = hk_ca_activate(c->ca, c->shares, c->nshares);
		c->ca->quorum_only = 0;
		if (r != 0) {
			hk_ca_audit_warn(c->ca, "restore.done", "fail",
			    c->ca->actors, "%s", hk_err_msg());
			return r;
		}
	}
	{
		/* the key managers first, then the people of the step */
		char who[sizeof(res->actors)];
		size_t off;
		snprintf(who, sizeof(who), "%s", res->actors);
		snprintf(res->actors, sizeof(res->actors), "%s",
		    c->ca->actors);
		off = strlen(res->actors);
		if (strcmp(who, "-") != 0 && off + 1 + strlen(who) <
		    sizeof(res->actors)) {
			res->actors[off] = ',';
			memcpy(res->actors + off + 1, who, strlen(who) + 1);
		}
	}
	if ((r = hk_restore(c->ca, &o)) != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "%d keys restored into the "
	    "fresh token %s by key managers %s; state.conf names it",
	    o.nbackups, hk_state_get(c->ca->st, "token.label"), c->ca->actors);
	return 0;
}

const struct hk_step_action hk_step_restore = {
	{ "restore", "restore every live key from its backup into a fresh "
	    "token (quorum combined without the old token)", params, 1, 0, 0 },
	run, NULL
};
