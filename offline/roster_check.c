/*
 * roster_check.c - what an approval of the roster may accept (CPS 5-2-1,
 * 5-2-2, 5-2-3, 5-3-3): "roster approve", and the rotate-shares command
 * and ceremony, which put a roster in force (docs/ceremonies.md, "Before
 * any ceremony: the roster").
 *
 * The reference is the roster last approved, kept as roster.approved.yaml;
 * it must be the one state.conf's roster.approved-sha256 names. Compared
 * with it:
 *
 *   - key managers and threshold: for an approval, those of the quorum set
 *     in force (only a quorum changes them: rotate-shares); for a rotation,
 *     the new roster's own;
 *   - everyone else: the same ids, names and roles in the same order (a
 *     change of people is the roster-change ceremony's);
 *   - credentials: a credential changed, or a person new with one, is
 *     accepted only when its holder set it: the holder's last
 *     roster.credential ok record since the last roster.approve ok names
 *     exactly that credential (credential-sha256, written by roster
 *     set-passphrase or set-token after the holder proved their old
 *     credential). A credential removed is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "audit.h"
#include "err.h"
#include "hex.h"
#include "offline.h"
#include "quorum.h"
#include "roster.h"

#define CRED_TAG	"credential-sha256 "

/* What the audit log says about the people whose credential changed. */
struct proof {
	const struct hk_person *p;	/* the person, in the new roster */
	unsigned char want[32];		/* their new credential's digest */
	int64_t seq;			/* their last roster.credential ok, -1 */
	unsigned char got[32];		/* the digest it names */
	int named;			/* 1 when it names one */
};

struct proofs {
	struct proof *v;		/* one per changed credential */
	size_t n;
	int64_t approved;		/* seq of the last roster.approve ok, -1 */
};

/* The record names its credential as "credential-sha256 <64 hex>: ...". */
static int
record_digest(const struct hk_audit_record *rec, unsigned char out[32])
{
	size_t tl = sizeof(CRED_TAG) - 1;
	char hex[65];

	if (rec->dlen < tl + 64 || memcmp(rec->details, CRED_TAG, tl) != 0)
		return 0;
	memcpy(hex, rec->details + tl, 64);
	hex[64] = '\0';
	return hk_hex_decode(hex, out, 32) == 0;
}

static int
collect(const struct hk_audit_record *rec, void *arg)
{
	struct proofs *ps = arg;
	size_t i;

	if (strcmp(rec->result, "ok") != 0)
		return 0;
	if (strcmp(rec->event, "roster.approve") == 0) {
		ps->approved = (int64_t)rec->seq;
		return 0;
	}
	if (strcmp(rec->event, "roster.credential") != 0)
		return 0;
	for (i = 0; i < ps->n; i++)
		if (strcmp(rec->actors, ps->v[i].p->id) == 0) {
			ps->v[i].seq = (int64_t)rec->seq;
			ps->v[i].named = record_digest(rec, ps->v[i].got);
		}
	return 0;
}

/* The roster last approved: *ref NULL when none was ever approved. */
int
hk_roster_reference(struct hk_ca *ca, struct hk_roster **ref, char *path,
    size_t len)
{
	const char *want = hk_state_get(ca->st, "roster.approved-sha256");
	const char *by = hk_state_get(ca->st, "roster.approved-by");
	const char *at = hk_state_get(ca->st, "roster.approved-at");
	unsigned char *buf = NULL, d[32];
	char hex[65];
	size_t blen;
	int r, kept;

	*ref = NULL;
	if (want == NULL)
		return 0;		/* the first approval */
	if ((r = hk_state_path(ca->st, "roster.approved.yaml", path,
	    len)) != 0)
		return r;
	/* without the copy, roster.yaml itself when it is still the roster
	 * approved */
	if (!(kept = hk_path_exists(path)) && (r = hk_state_path(ca->st,
	    "roster.yaml", path, len)) != 0)
		return r;
	if ((r = hk_file_read(path, 1 << 20, &buf, &blen)) != 0)
		return r;
	SHA256(buf, blen, d);
	free(buf);
	hk_hex_encode(d, 32, hex);
	if (strcmp(hex, want) == 0)
		return hk_roster_load(path, ref);
	if (kept)
		hk_err_set("%s: SHA-256 %.16s... is not the roster approved "
		    "(state.conf roster.approved-sha256 %.16s...): changed or "
		    "replaced; put back the roster approved", path, hex, want);
	else {
		/* name the missing copy, as before */
		(void)hk_state_path(ca->st, "roster.approved.yaml", path, len);
		hk_err_set("%s: missing, but state.conf records an approval "
		    "(roster.approved-sha256 %.16s..., by %s at %s): the "
		    "roster approved is what a change is checked against; put "
		    "it back from a backup of the state (its SHA-256 must be "
		    "%s)", path, want, by ? by : "?", at ? at : "?", want);
	}
	return HK_ERR_STATE;
}

/* Key managers and threshold: the quorum set's in force. */
static int
check_key_managers(struct hk_ca *ca, const struct hk_roster *old,
    const struct hk_roster *nw, const char *path)
{
	struct hk_quorum_set *set = NULL;
	const struct hk_person *a, *b;
	char qs[4096];
	size_t i;
	int r;

	if ((r = hk_state_path(ca->st, HK_QUORUM_SET_FILE, qs,
	    sizeof(qs))) != 0 || (r = hk_quorum_set_read(qs, &set)) != 0)
		return r;
	r = HK_ERR_INVALID;
	if (nw->nkm != (size_t)set->n || nw->threshold != (unsigned)set->m) {
		hk_err_set("%s: %zu key managers, threshold %u: the quorum set "
		    "in force has %d holders, threshold %d; key managers "
		    "change only with rotate-shares", path, nw->nkm,
		    nw->threshold, set->n, set->m);
		goto out;
	}
	for (i = 0; i < nw->nkm; i++) {
		b = hk_roster_key_manager(nw, i);
		a = hk_roster_find(old, b->id);
		if (strcmp(b->id, set->holder[i]) != 0 || (a != NULL &&
		    (a->role != b->role || strcmp(a->name, b->name) != 0))) {
			hk_err_set("%s: key manager %zu %s (%s): not holder %zu "
			    "(%s) of the quorum set in force, or renamed; key "
			    "managers change only with rotate-shares", path,
			    i + 1, b->id, b->name, i + 1, set->holder[i]);
			goto out;
		}
	}
	r = 0;
 out:
	hk_quorum_set_free(set);
	return r;
}

/* Everyone but the key managers as approved, in order. */
static int
check_others(const struct hk_roster *old, const struct hk_roster *nw,
    const char *path)
{
	const struct hk_person *a, *b;
	size_t i, j;

	for (i = 0, j = 0;; i++, j++) {
		while (i < old->npeople &&
		    old->people[i].role == HK_ROLE_KEY_MANAGER)
			i++;
		while (j < nw->npeople &&
		    nw->people[j].role == HK_ROLE_KEY_MANAGER)
			j++;
		if (i == old->npeople && j == nw->npeople)
			return 0;
		if (i == old->npeople || j == nw->npeople) {
			b = i == old->npeople ? &nw->people[j] :
			    &old->people[i];
			hk_err_set("%s: people[%zu] %s (%s, %s): %s the approved "
			    "roster; a change of people is the roster-change "
			    "ceremony (ceremony-scripts/roster-change.yaml), "
			    "not an approval", path, i == old->npeople ? j : i,
			    b->id, b->name, hk_role_name(b->role),
			    i == old->npeople ? "not in" :
			    "missing from this roster, but in");
			return HK_ERR_INVALID;
		}
		a = &old->people[i];
		b = &nw->people[j];
		if (strcmp(a->id, b->id) != 0 || strcmp(a->name, b->name) != 0 ||
		    a->role != b->role) {
			hk_err_set("%s: people[%zu] %s (%s, %s): differs from the "
			    "approved roster's %s (%s, %s); a change of people "
			    "or roles is the roster-change ceremony "
			    "(ceremony-scripts/roster-change.yaml)", path, j,
			    b->id, b->name, hk_role_name(b->role), a->id,
			    a->name, hk_role_name(a->role));
			return HK_ERR_INVALID;
		}
	}
}

/* Each credential changed since the approval, set by its holder. */
static int
check_credentials(struct hk_ca *ca, const struct hk_roster *old,
    const struct hk_roster *nw, const char *path)
{
	struct proofs ps;
	unsigned char was[32];
	char hex[65];
	size_t i;
	int r, had;

	memset(&ps, 0, sizeof(ps));
	ps.approved = -1;
	if ((ps.v = calloc(nw->npeople + 1, sizeof(*ps.v))) == NULL)
		return HK_ERR_ALLOC;
	for (i = 0; i < nw->npeople; i++) {
		const struct hk_person *b = &nw->people[i];
		const struct hk_person *a = hk_roster_find(old, b->id);
		struct proof *pf = &ps.v[ps.n];

		had = a != NULL && hk_person_credential_sha256(a, was) == 0;
		if (hk_person_credential_sha256(b, pf->want) != 0) {
			if (!had)
				continue;
			hk_err_set("%s: people[%zu] %s: credential removed; a "
			    "credential is replaced only by its holder (roster "
			    "set-passphrase or set-token), never removed by an "
			    "approval (CPS 5-2-3)", path, i, b->id);
			r = HK_ERR_INVALID;
			goto out;
		}
		if (had && memcmp(was, pf->want, 32) == 0)
			continue;
		pf->p = b;
		pf->seq = -1;
		ps.n++;
	}
	if (ps.n == 0) {
		r = 0;
		goto out;
	}
	if ((r = hk_audit_scan(ca->audit_log, collect, &ps)) != 0) {
		hk_err_set("%s: the credentials changed cannot be checked "
		    "against their holders' records: %s", path, hk_err_msg());
		goto out;
	}
	for (i = 0; i < ps.n; i++) {
		const struct proof *pf = &ps.v[i];
		hk_hex_encode(pf->want, 32, hex);
		if (pf->seq > ps.approved && pf->named &&
		    memcmp(pf->got, pf->want, 32) == 0)
			continue;
		hk_err_set("%s: %s: credential (SHA-256 %.16s...) not set by "
		    "its holder: %s; a credential is replaced only by its "
		    "holder, with roster set-passphrase or set-token (CPS "
		    "5-2-3)", path, pf->p->id, hex, pf->seq <= ps.approved ?
		    "no roster.credential record of theirs since the last "
		    "approval" : "their last roster.credential record names "
		    "another credential");
		r = HK_ERR_INVALID;
		goto out;
	}
	r = 0;
 out:
	free(ps.v);
	return r;
}

int
hk_roster_approvable(struct hk_ca *ca, const struct hk_roster *nw,
    const char *path, int rotation)
{
	struct hk_roster *old = NULL;
	char ref[4096];
	int r;

	if ((r = hk_roster_reference(ca, &old, ref, sizeof(ref))) != 0 ||
	    old == NULL)
		return r;
	if ((!rotation && (r = check_key_managers(ca, old, nw, path)) != 0) ||
	    (r = check_others(old, nw, path)) != 0 ||
	    (r = check_credentials(ca, old, nw, path)) != 0)
		goto out;
	r = 0;
 out:
	hk_roster_free(old);
	return r;
}
