/*
 * step_revoke.c - action "revoke" (CPS 4-10, 4-4-4-2): a certificate the
 * root issued (cross, link, issuing CA, OCSP responder, validation server)
 * named by serial is staged for revocation with a CPS reason. Nothing is
 * written here: arl-commit marks issued.txt once the emergency ARL naming
 * it has been signed and written (step_arl.c). Run it before
 * quorum-activate so that a wrong serial is refused before the token.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "issued.h"
#include "step_rollover.h"

/* CRLReason = index + 1 (CPS 4-4-4-2); never unspecified(0), never
 * certificateHold(6): the script loader refuses any other word. */
const char *const hk_life_reasons[] = { "key-compromise", "ca-compromise",
    "affiliation-changed", "superseded", "cessation-of-operation", NULL };

static struct hk_life_staged staged[HK_LIFE_MAX_STAGED];
static size_t nstaged;
int hk_life_compromised_gen;
int hk_life_committed;

int
hk_life_stage(const char *serial, const char *kind, int reason, time_t when)
{
	size_t i;

	/* What arl-commit records must be on the ARLs signed: nothing is
	 * staged after them (hk_ceremony_script_check refuses such a
	 * script before it runs). */
	if (hk_life_arl_signed()) {
		hk_err_set("serial %s: the ARLs of this ceremony are signed "
		    "already and do not list it", serial);
		return HK_ERR_STATE;
	}
	for (i = 0; i < nstaged; i++)
		if (strcmp(staged[i].serial, serial) == 0) {
			hk_err_set("serial %s: named twice in this ceremony",
			    serial);
			return HK_ERR_EXISTS;
		}
	if (nstaged == HK_LIFE_MAX_STAGED || strlen(serial) >= 43 ||
	    strlen(kind) >= 24 || reason < 1 || reason > 5) {
		hk_err_set("serial %s: cannot stage the revocation", serial);
		return HK_ERR_INVALID;
	}
	snprintf(staged[nstaged].serial, sizeof(staged[nstaged].serial), "%s",
	    serial);
	snprintf(staged[nstaged].kind, sizeof(staged[nstaged].kind), "%s",
	    kind);
	staged[nstaged].reason = reason;
	staged[nstaged].when = when;
	nstaged++;
	return 0;
}

const struct hk_life_staged *
hk_life_staged(size_t *n)
{
	*n = nstaged;
	return staged;
}

void
hk_life_unstage_all(void)
{
	nstaged = 0;
	hk_life_compromised_gen = 0;
}

static const struct hk_param_spec params[] = {
	{ "serial", HK_PARAM_STR, 1, 0, 0, NULL, NULL, -1 },
	{ "reason", HK_PARAM_ENUM, 1, 0, 0, hk_life_reasons, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *sp = hk_script_param(st, "serial");
	const struct hk_script_param *rp = hk_script_param(st, "reason");
	struct hk_issued *reg = NULL;
	struct hk_issued_entry *e;
	char serial[64];
	size_t i, j;
	time_t now = hk_clock_now();
	int r;

	/* hex digits, optionally with colons; lowercase, no leading zeros */
	for (i = 0, j = 0; sp->value[i] != '\0'; i++) {
		if (sp->value[i] == ':')
			continue;
		if (!isxdigit((unsigned char)sp->value[i]) ||
		    j >= sizeof(serial) - 1) {
			hk_err_set("%s:%lu:%lu: step %s: serial: \"%s\" is not a "
			    "hexadecimal serial number", c->script->file,
			    sp->line, sp->col, st->id, sp->value);
			return HK_ERR_INVALID;
		}
		serial[j++] = (char)tolower((unsigned char)sp->value[i]);
	}
	serial[j] = '\0';
	if (j == 0) {
		hk_err_set("%s:%lu:%lu: step %s: serial: empty", c->script->file,
		    sp->line, sp->col, st->id);
		return HK_ERR_INVALID;
	}
	if ((r = hk_issued_load(c->ca->st->dir, &reg)) != 0)
		return r;
	r = HK_ERR_INVALID;
	if ((e = hk_issued_find(reg, serial)) == NULL) {
		hk_err_set("step %s: serial %s: not a certificate this root "
		    "issued (%s); nothing revoked", st->id, serial,
		    HK_ISSUED_FILE);
		r = HK_ERR_NOT_FOUND;
	} else if (strcmp(e->kind, "root") == 0) {
		hk_err_set("step %s: serial %s is a self-signed root: it is "
		    "withdrawn by the compromise ceremony, not put on its own "
		    "ARL", st->id, serial);
	} else if (e->revoked) {
		hk_err_set("step %s: serial %s: already revoked (reason %d); "
		    "never revoked twice or re-dated", st->id, serial,
		    e->reason);
		r = HK_ERR_EXISTS;
	} else if (e->not_after < now) {
		hk_err_set("step %s: serial %s: expired; an ARL lists only "
		    "certificates still valid", st->id, serial);
	} else
		r = hk_life_stage(e->serial, e->kind, (int)rp->ival + 1, now);
	if (r != 0) {
		hk_ca_audit_warn(c->ca, "cert.revoke", "fail", res->actors,
		    "%s", hk_err_msg());
		hk_issued_free(reg);
		return r;
	}
	/* A revocation staged that the log does not hold is dropped. */
	if ((r = hk_ca_audit(c->ca, "cert.revoke", "ok", res->actors, "%s %s "
	    "(%s) staged with reason %s(%ld); marked in %s by arl-commit",
	    e->kind, e->serial, e->subject, rp->value, rp->ival + 1,
	    HK_ISSUED_FILE)) != 0) {
		hk_life_unstage_all();
		hk_issued_free(reg);
		return r;
	}
	snprintf(res->detail, sizeof(res->detail), "%s %s staged for "
	    "revocation, reason %s(%ld); SHA-256 %s", e->kind, e->serial,
	    rp->value, rp->ival + 1, e->sha256);
	hk_issued_free(reg);
	return 0;
}

static void
undo(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	(void)st;
	if (hk_life_committed)
		return;
	hk_life_unstage_all();
	res->undone = 1;
	hk_ca_audit_warn(c->ca, "cert.revoke", "ok", res->actors, "staged "
	    "revocations dropped: the ceremony failed before arl-commit");
}

const struct hk_step_action hk_step_revoke = {
	{ "revoke", "stage the revocation of a certificate the root issued, "
	    "by serial, with a CPS reason (kept by arl-commit)", params, 0, 0,
	    0 },
	run, undo
};
