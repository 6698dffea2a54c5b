/*
 * step_backup.c - action "backup": a CA key (root-N or audit-1) wrapped
 * under a key only the quorum can derive and written to a key manager's
 * backup medium (CPS 5-2-1-1 (2), 6-2-1-4; docs/key-lifecycle.md), by
 * hk_backup with the quorum a quorum-activate step combined.
 */
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "atomic.h"
#include "err.h"

static const struct hk_param_spec params[] = {
	{ "key", HK_PARAM_STR, 1, 0, 0, NULL, NULL, -1 },
	{ "out", HK_PARAM_OUTPUT, 1, 0, 0, NULL, NULL, HK_OUTPUT_FILE },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *key = hk_script_param(st, "key");
	struct backup_opts o;
	char skey[96];
	const char *kid;
	int r, oi;

	memset(&o, 0, sizeof(o));
	o.key = key->value;
	o.out = hk_cer_ref_output(c, st, "out", &oi);
	if (c->script->outputs[oi].base != HK_BASE_OUT) {
		hk_err_set("%s:%lu:%lu: step %s: a backup goes to the key "
		    "manager's backup medium (out/NAME with --out DIR), never "
		    "into the state folder", c->script->file, st->line,
		    st->col, st->id);
		return HK_ERR_INVALID;
	}
	if ((r = hk_backup(c->ca, &o)) != 0) {
		/* A backup written and recorded whose checkpoint then fails
		 * (a full medium under the log) is kept by hk_backup, as the
		 * backup command ends there; here the step fails and the
		 * ceremony is undone, so it leaves the medium too. An --out
		 * there before the run is refused before it is written
		 * (HK_ERR_EXISTS), and never removed. */
		if (r != HK_ERR_EXISTS && hk_path_exists(o.out)) {
			struct hk_err_kept why;

			hk_err_keep(&why);
			snprintf(res->written[0], sizeof(res->written[0]), "%s",
			    o.out);
			res->nwritten = 1;
			hk_cer_undo_written(c, res, "key.backup.remove",
			    "it ended");
			hk_err_restore(&why);
		}
		return r;
	}
	snprintf(res->written[0], sizeof(res->written[0]), "%s", o.out);
	res->nwritten = 1;
	snprintf(skey, sizeof(skey), "backup.%s.kek-id", o.key);
	kid = hk_state_get(c->ca->st, skey);
	snprintf(res->detail, sizeof(res->detail), "%s wrapped under KEK %s "
	    "to %s (mode 0600)", o.key, kid ? kid : "?", o.out);
	return 0;
}

/* A later step failed: the backup file leaves the medium again. The KEK
 * seed, if this step made it, stays: it is sealed under the quorum key and
 * recorded in state.conf, and the next backup uses it. */
static void
undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	hk_cer_undo_written(c, res, "key.backup.remove", "it ended");
}

const struct hk_step_action hk_step_backup = {
	{ "backup", "wrap a CA key (root-N, audit-1) under the quorum's KEK "
	    "to a backup medium", params, 1, 0, 1 },
	run, undo
};
