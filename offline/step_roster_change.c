/*
 * step_roster_change.c - actions "roster-check" and "roster-commit": a
 * change of the roster (people added or removed, roles other than key
 * manager, names, contacts) as a ceremony (CPS 5-2-1, 5-2-2;
 * ceremony-scripts/roster-change.yaml).
 *
 * roster-check: the new roster (an input) re-read unchanged, its SHA-256
 * compared with the one on the change request (an input holding 64 hex
 * digits), loaded strictly, compared with the approved roster in force, and
 * its SHA-256 confirmed (hex + QR, typed) under the step's dual control.
 * Refused: key managers or the threshold changed (the share set must follow
 * the key managers: rotate-shares), no CA manager or no auditor left (the
 * auditor is this ceremony's second person), a credential of a
 * person kept changed (people change their own: roster set-passphrase,
 * set-token), a person added with a credential (set afterwards), no change.
 *
 * roster-commit: the commit. The roster in force is kept as
 * roster.yaml.<sha8>.retired, the new one replaces roster.yaml atomically,
 * and state.conf records it as approved by the CA manager present
 * (roster.approved-sha256, -by, -at). Nothing before it changes the state;
 * nothing undoes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "roster.h"

static const struct hk_param_spec check_params[] = {
	{ "roster", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "fingerprint", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static const struct hk_param_spec commit_params[] = {
	{ "check", HK_PARAM_STEP, 1, 0, 0, NULL, "roster-check", -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* A copy of the input's bytes as read at the start (those hashed), never
 * the file read again. */
static int
read_input(struct hk_cer *c, int input, unsigned char **buf, size_t *len)
{
	const unsigned char *b;
	int r;

	*buf = NULL;
	if ((r = hk_iss_input(c, input, 1 << 20, &b, len)) != 0)
		return r;
	if ((*buf = malloc(*len + 1)) == NULL)
		return HK_ERR_ALLOC;
	memcpy(*buf, b, *len);
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
same_credential(const struct hk_person *a, const struct hk_person *b)
{
	return same_str(a->credential, b->credential) &&
	    a->has_spki == b->has_spki &&
	    (!a->has_spki || memcmp(a->spki_sha256, b->spki_sha256, 32) == 0);
}

/* The new roster against the one in force; counts for the detail line. */
static int
compare(struct hk_cer *c, const char *path, const struct hk_roster *nw,
    char *sum, size_t sumlen)
{
	const struct hk_roster *old = c->roster;
	size_t i, added = 0, removed = 0, changed = 0, off = 0;
	char need[1024] = "";

	if (old->nkm != nw->nkm || old->threshold != nw->threshold) {
		hk_err_set("%s: key managers: %zu, threshold %u (in force: "
		    "%zu, threshold %u): the share set must follow the key "
		    "managers; change them with the rotate-shares ceremony "
		    "(ceremony-scripts/rotate-shares.yaml)", path, nw->nkm,
		    nw->threshold, old->nkm, old->threshold);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < nw->nkm; i++) {
		const struct hk_person *a = hk_roster_key_manager(old, i);
		const struct hk_person *b = hk_roster_key_manager(nw, i);
		if (strcmp(a->id, b->id) != 0 || strcmp(a->name, b->name) != 0) {
			hk_err_set("%s: key manager %zu: %s (%s) in place of "
			    "%s (%s): the share set must follow the key "
			    "managers; change them with the rotate-shares "
			    "ceremony (ceremony-scripts/rotate-shares.yaml)",
			    path, i + 1, b->id, b->name, a->id, a->name);
			return HK_ERR_INVALID;
		}
	}
	if (hk_roster_count(nw, HK_ROLE_CA_MANAGER) == 0) {
		hk_err_set("%s: people: no ca-manager left to approve the "
		    "CA's work (CPS 5-2-1-1 (1))", path);
		return HK_ERR_INVALID;
	}
	/* The auditor is the second person of this very ceremony (and of
	 * backup, restore, destroy, rotate-shares, profile-accept): a roster
	 * without one could never be changed again, nor an auditor added. */
	if (hk_roster_count(nw, HK_ROLE_AUDITOR) == 0) {
		hk_err_set("%s: people: no auditor left; the roster-change, "
		    "backup, restore, destroy, rotate-shares and "
		    "profile-accept ceremonies need one, and no roster "
		    "change could add one afterwards (CPS 5-2-1-1 (9), "
		    "5-2-2): keep one or add the new one in this change",
		    path);
		return HK_ERR_INVALID;
	}
	for (i = 0; i < nw->npeople; i++) {
		const struct hk_person *b = &nw->people[i];
		const struct hk_person *a = hk_roster_find(old, b->id);
		if (a == NULL) {
			if (b->credential != NULL) {
				hk_err_set("%s: people[%zu] %s: added with a "
				    "credential; a person added sets their own "
				    "afterwards (roster set-passphrase or "
				    "set-token)", path, i, b->id);
				return HK_ERR_INVALID;
			}
			added++;
			if (off < sizeof(need))
				off += (size_t)snprintf(need + off,
				    sizeof(need) - off, "%s%s", off ? "," : "",
				    b->id);
			continue;
		}
		if (b->role != HK_ROLE_KEY_MANAGER &&
		    !same_credential(a, b)) {
			hk_err_set("%s: people[%zu] %s: credential changed; a "
			    "person changes their own (roster set-passphrase "
			    "or set-token), never through a roster change",
			    path, i, b->id);
			return HK_ERR_INVALID;
		}
		if (a->role != b->role || strcmp(a->name, b->name) != 0 ||
		    !same_str(a->contact, b->contact) ||
		    !same_credential(a, b))
			changed++;
	}
	for (i = 0; i < old->npeople; i++)
		if (hk_roster_find(nw, old->people[i].id) == NULL)
			removed++;
	snprintf(sum, sumlen, "%zu people: %zu added%s%s%s, %zu removed, %zu "
	    "changed; key managers and threshold %u unchanged", nw->npeople,
	    added, added ? " (" : "", need, added ? ": credentials to set" :
	    "", removed, changed, nw->threshold);
	if (added)
		snprintf(sum + strlen(sum), sumlen - strlen(sum), ")");
	/* Not refused (a later change can add one: an April gap of days),
	 * but said before the CA manager confirms, and in the record: the
	 * signing ceremonies, the emergency ones among them, need two. */
	if ((i = hk_roster_count(nw, HK_ROLE_SENIOR_OPERATOR)) < 2)
		snprintf(sum + strlen(sum), sumlen - strlen(sum), "; WARNING: "
		    "%zu senior operator%s left: the ceremonies under the "
		    "dual control of two (arl-batch, compromise, "
		    "cross-certify, init-root, issue-subca, responder-certs, "
		    "revoke, rollover) cannot run until a roster change adds "
		    "one (CPS 5-2-2)", i, i == 1 ? "" : "s");
	return 0;
}

static int
check_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *in = hk_script_param(st, "roster");
	const struct hk_script_param *fp = hk_script_param(st, "fingerprint");
	const char *path = c->input_path[in->ref];
	struct hk_roster *nw = NULL;
	unsigned char *buf = NULL, want[32];
	char hex[65], whex[65], sum[1400], what[6000];
	const char *cur = hk_state_get(c->ca->st, "roster.approved-sha256");
	size_t len;
	int r;

	if ((r = read_input(c, in->ref, &buf, &len)) != 0)
		return r;
	hk_hex_encode(c->input_sha[in->ref], 32, hex);
	if ((r = hk_iss_fingerprint(c, fp->ref, want)) != 0)
		goto out;
	if (memcmp(want, c->input_sha[in->ref], 32) != 0) {
		hk_hex_encode(want, 32, whex);
		hk_err_set("%s: input %s: SHA-256 %s is not %s, the one on the "
		    "change request (input %s)", path, in->value, hex, whex,
		    fp->value);
		r = HK_ERR_INVALID;
		goto out;
	}
	if (cur != NULL && strcmp(cur, hex) == 0) {
		hk_err_set("%s: input %s: the roster in force (SHA-256 %.16s...)"
		    "; nothing to change", path, in->value, hex);
		r = HK_ERR_INVALID;
		goto out;
	}
	r = hk_roster_load_buf(path, buf, len, &nw);
out:
	free(buf);
	if (r != 0)
		return r;
	r = compare(c, path, nw, sum, sizeof(sum));
	hk_roster_free(nw);
	if (r != 0)
		return r;
	printf("New roster %s: %s\n", path, sum);
	snprintf(what, sizeof(what), "new roster %s (%s)", path, sum);
	if ((r = hk_cer_confirm(c, st, what, c->input_sha[in->ref])) != 0)
		return r;
	snprintf(res->detail, sizeof(res->detail), "new roster %.900s SHA-256 "
	    "%s confirmed: %.1000s", path, hex, sum);
	return 0;
}

static int
commit_run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *chk = hk_script_param(st, "check");
	const struct hk_script_step *cs = &c->script->steps[chk->ref];
	const struct hk_script_param *in = hk_script_param(cs, "roster");
	const char *want = hk_state_get(c->ca->st, "roster.approved-sha256");
	unsigned char *nbuf = NULL, *obuf = NULL, d[32];
	char path[4096], retired[4200], hex[65], ohex[65], t[32], by[64] = "";
	size_t nlen, olen, i;
	int r;

	for (i = 0; i < c->npresent; i++)
		if (c->present[i]->role == HK_ROLE_CA_MANAGER) {
			snprintf(by, sizeof(by), "%s", c->present[i]->id);
			break;
		}
	if (by[0] == '\0' || !c->res[chk->ref].ran) {
		hk_err_set("step %s: needs the CA manager present and step %s "
		    "done", st->id, cs->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_state_path(c->ca->st, "roster.yaml", path,
	    sizeof(path))) != 0 ||
	    (r = read_input(c, in->ref, &nbuf, &nlen)) != 0 ||
	    (r = hk_file_read(path, 1 << 20, &obuf, &olen)) != 0)
		goto out;
	SHA256(obuf, olen, d);
	hk_hex_encode(d, 32, ohex);
	if (want == NULL || strcmp(want, ohex) != 0) {
		hk_err_set("%s: changed since the ceremony started (SHA-256 "
		    "%.16s...); nothing replaced", path, ohex);
		r = HK_ERR_STATE;
		goto out;
	}
	hk_hex_encode(c->input_sha[in->ref], 32, hex);
	snprintf(retired, sizeof(retired), "%s.%.8s.retired", path, ohex);
	if ((r = hk_file_write(retired, obuf, olen, 0444,
	    HK_WRITE_NOREPLACE)) != 0) {
		unsigned char *e = NULL;
		size_t elen;
		/* The same roster retired before (changed back): same bytes. */
		if (r != HK_ERR_EXISTS || hk_file_read(retired, 1 << 20, &e,
		    &elen) != 0 || elen != olen || memcmp(e, obuf, olen) != 0) {
			free(e);
			goto out;
		}
		free(e);
		hk_err_clear();
	}
	if ((r = hk_file_write(path, nbuf, nlen, 0644, 0)) != 0)
		goto out;
	hk_time_format(hk_clock_now(), t, sizeof(t));
	if ((r = hk_roster_keep_approved(c->ca, path)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-sha256", hex)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-by", by)) != 0 ||
	    (r = hk_state_set(c->ca->st, "roster.approved-at", t)) != 0 ||
	    (r = hk_state_save(c->ca->st)) != 0) {
		struct hk_err_kept why;
		hk_err_keep(&why);
		/* Put the roster in force back: state.conf still approves it. */
		if (hk_file_write(path, obuf, olen, 0644, 0) != 0)
			hk_err_set("%s: state.conf not saved (%s) AND the old "
			    "roster not put back: restore it from %s", path,
			    why.msg, retired);
		else
			hk_err_set("%s: state.conf not saved (%s); the roster "
			    "in force is unchanged", path, why.msg);
		goto out;
	}
	/* Committed: a record lost now fails the step (exit 6), undoes
	 * nothing. */
	if ((r = hk_ca_audit(c->ca, "roster.change", "ok", by, "%s SHA-256 %s "
	    "replaces SHA-256 %s (kept as %s) by the %s ceremony", path, hex,
	    ohex, retired, c->script->name)) != 0 ||
	    (r = hk_ca_audit(c->ca, "roster.approve", "ok", by, "%s SHA-256 "
	    "%s: approved by the CA manager in the %s ceremony", path, hex,
	    c->script->name)) != 0)
		goto out;
	printf("Roster %s replaced (old one kept as %s); approved by %s: "
	    "SHA-256 %s\n", path, retired, by, hex);
	snprintf(res->detail, sizeof(res->detail), "roster.yaml SHA-256 %s in "
	    "force, approved by %s; SHA-256 %.16s... retired as %.200s", hex,
	    by, ohex, strrchr(retired, '/') ? strrchr(retired, '/') + 1 :
	    retired);
	r = 0;
out:
	free(nbuf);
	free(obuf);
	return r;
}

const struct hk_step_action hk_step_roster_check = {
	{ "roster-check", "check a new roster against the one in force and "
	    "have its SHA-256 confirmed", check_params, 0, 0, 0 },
	check_run, NULL
};

const struct hk_step_action hk_step_roster_commit = {
	{ "roster-commit", "put the new roster in force, approved by the CA "
	    "manager present; the old one retired", commit_params, 0, 0, 0 },
	commit_run, NULL
};
