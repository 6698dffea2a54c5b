/*
 * step_profile_accept.c - action "profile-accept": a change of the
 * certificate profile put in force as a ceremony (CPS 7-1, 7-2: the
 * contents of certificates and CRL/ARLs are the profile's; 8-1, 8-3: a
 * change of practice takes effect by decision; 6-6-1: approved by the CA
 * manager before use; ceremony-scripts/profile-accept.yaml; docs/profile.md).
 *
 * The new profile (an input, the bytes read at the start) must have the
 * SHA-256 on the change request (an input of 64 hex digits), load with
 * every rule init applies, and differ from the profile accepted. What
 * changed is shown (against profile.accepted.yaml), its SHA-256 confirmed
 * under the step's dual control, and then, the CA manager present: the
 * profile.accept record (both digests, the keys changed), the profile
 * accepted kept as profile.yaml.<sha8>.retired, the new one written as
 * profile.yaml and profile.accepted.yaml, and state.conf's profile.sha256,
 * -accepted-at, -accepted-by (a state.conf that cannot be saved puts
 * profile.yaml back as it was). hk_ceremony_script_check keeps it the last
 * step of a ceremony of its own; nothing undoes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "atomic.h"
#include "ceremony.h"
#include "clock.h"
#include "err.h"
#include "hex.h"
#include "profile.h"
#include "profile_accept.h"

static const struct hk_param_spec params[] = {
	{ "profile", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ "fingerprint", HK_PARAM_INPUT, 1, 0, 0, NULL, NULL, -1 },
	{ NULL, 0, 0, 0, 0, NULL, NULL, -1 }
};

/* The profile accepted: its digest (state.conf, else the one init
 * recorded in a state made before the record) and, when at hand, its
 * bytes (the copy, else profile.yaml while it is still that one). */
struct accepted {
	char hex[65];			/* "" when none is known */
	char at[32], by[64];
	unsigned char *buf;		/* NULL when not at hand */
	size_t len;
};

static void
accepted_get(struct hk_cer *c, struct accepted *a)
{
	const char *v = hk_state_get(c->ca->st, HK_PROFILE_KEY_SHA);

	memset(a, 0, sizeof(*a));
	if (v != NULL) {
		snprintf(a->hex, sizeof(a->hex), "%s", v);
		v = hk_state_get(c->ca->st, HK_PROFILE_KEY_AT);
		snprintf(a->at, sizeof(a->at), "%s", v ? v : "?");
		v = hk_state_get(c->ca->st, HK_PROFILE_KEY_BY);
		snprintf(a->by, sizeof(a->by), "%s", v ? v : "?");
	} else if (hk_profile_init_digest(c->ca->st, a->hex, a->at) == 0)
		snprintf(a->by, sizeof(a->by), "init");
	else {
		a->hex[0] = '\0';
		hk_err_clear();
		return;
	}
	hk_profile_accepted_bytes(c->ca->st, a->hex, &a->buf, &a->len);
}

static int
run(struct hk_cer *c, const struct hk_script_step *st,
    struct hk_step_result *res)
{
	const struct hk_script_param *in = hk_script_param(st, "profile");
	const struct hk_script_param *fp = hk_script_param(st, "fingerprint");
	const char *ipath = c->input_path[in->ref];
	struct hk_profile *nw = NULL, *old = NULL;
	struct accepted a;
	const unsigned char *buf;
	unsigned char want[32];
	char hex[65], whex[65], by[64] = "", t[32], path[4096], retired[4200];
	char list[2048], shown[2048], what[8192];
	unsigned char *cur = NULL;	/* profile.yaml as it was */
	size_t len, clen = 0, i, n = 0;
	int r, have_old = 0;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < c->npresent; i++)
		if (c->present[i]->role == HK_ROLE_CA_MANAGER) {
			snprintf(by, sizeof(by), "%s", c->present[i]->id);
			break;
		}
	if (by[0] == '\0') {
		hk_err_set("step %s: needs the CA manager present (CPS 6-6-1)",
		    st->id);
		return HK_ERR_STATE;
	}
	if ((r = hk_iss_input(c, in->ref, HK_PROFILE_MAX, &buf, &len)) != 0 ||
	    (r = hk_iss_fingerprint(c, fp->ref, want)) != 0)
		return r;
	hk_hex_encode(c->input_sha[in->ref], 32, hex);
	if (memcmp(want, c->input_sha[in->ref], 32) != 0) {
		hk_hex_encode(want, 32, whex);
		hk_err_set("%s: input %s: SHA-256 %s is not %s, the one on the "
		    "change request (input %s)", ipath, in->value, hex, whex,
		    fp->value);
		return HK_ERR_INVALID;
	}
	/* every rule init applies */
	if ((r = hk_profile_load_buf(ipath, buf, len, &nw)) != 0)
		return r;
	accepted_get(c, &a);
	if (strcmp(a.hex, hex) == 0 && hk_state_get(c->ca->st,
	    HK_PROFILE_KEY_SHA) != NULL) {
		hk_err_set("%s: input %s: the profile accepted (SHA-256 %.16s..., "
		    "on %s by %s); nothing to change", ipath, in->value, hex,
		    a.at, a.by);
		r = HK_ERR_INVALID;
		goto out;
	}
	if (a.buf != NULL && hk_profile_load_buf(HK_PROFILE_COPY, a.buf, a.len,
	    &old) == 0) {
		have_old = 1;
		n = hk_profile_changes(old, nw, "; ", list, sizeof(list));
	} else
		hk_err_clear();
	snprintf(shown, sizeof(shown), "%s", !have_old ? "no copy of the "
	    "profile accepted to compare with" : n == 0 ? "no value, only the "
	    "text" : list);
	printf("New profile %s: SHA-256 %s\n  accepted until now: %s%s%s%s\n"
	    "  changed: %s\n", ipath, hex, a.hex[0] ? "SHA-256 " :
	    "none recorded", a.hex, a.hex[0] ? " on " : "", a.at, shown);
	snprintf(what, sizeof(what), "new certificate profile %s (changed: "
	    "%s)", ipath, shown);
	/* profile.yaml as it is (NULL: none), put back if state.conf cannot
	 * be saved */
	if ((r = hk_state_path(c->ca->st, HK_PROFILE_FILE, path,
	    sizeof(path))) != 0 || (hk_path_exists(path) &&
	    (r = hk_file_read(path, HK_PROFILE_MAX, &cur, &clen)) != 0))
		goto out;
	if ((r = hk_cer_confirm(c, st, what, c->input_sha[in->ref])) != 0)
		goto out;

	/* Logged before anything is in force (CPS 4-11): a record that
	 * cannot be appended stops it here. */
	if ((r = hk_ca_audit(c->ca, "profile.accept", "ok", by, "%s SHA-256 "
	    "%s accepted, replacing SHA-256 %s (accepted on %s by %s), by the "
	    "%s ceremony; changed: %s", ipath, hex, a.hex[0] ? a.hex :
	    "none recorded", a.at[0] ? a.at : "?", a.by[0] ? a.by : "?",
	    c->script->name, shown)) != 0)
		goto out;
	retired[0] = '\0';
	if (a.buf != NULL && (r = hk_profile_retire(c->ca->st, a.buf, a.len,
	    a.hex, retired, sizeof(retired))) != 0)
		goto fail;
	hk_time_format(hk_clock_now(), t, sizeof(t));
	if ((r = hk_state_path(c->ca->st, HK_PROFILE_FILE, path,
	    sizeof(path))) != 0 ||
	    (r = hk_file_write(path, buf, len, 0644, 0)) != 0)
		goto fail;
	if ((r = hk_profile_record(c->ca->st, hex, t, by)) != 0 ||
	    (r = hk_state_save(c->ca->st)) != 0) {
		struct hk_err_kept why;
		hk_err_keep(&why);
		/* state.conf still names the profile accepted: profile.yaml
		 * goes back to what it was, as a roster-commit does */
		if (cur != NULL ? hk_file_write(path, cur, clen, 0644, 0) != 0 :
		    unlink(path) != 0)
			hk_err_set("%s: state.conf not saved (%s) AND profile.yaml "
			    "not put back: every command refuses it; put back "
			    "the profile accepted from %s", path, why.msg,
			    HK_PROFILE_COPY);
		else
			hk_err_set("%s: state.conf not saved (%s); profile.yaml is "
			    "as it was, the profile accepted unchanged", path,
			    why.msg);
		goto fail;
	}
	if ((r = hk_profile_keep_copy(c->ca->st, buf, len)) != 0) {
		hk_err_set("%s: accepted and recorded, but the copy %s was not "
		    "kept: %s", path, HK_PROFILE_COPY, hk_err_msg());
		goto fail;
	}
	printf("Profile %s in force, accepted by %s on %s: SHA-256 %s\n", path,
	    by, t, hex);
	snprintf(res->detail, sizeof(res->detail), "profile.yaml SHA-256 %s "
	    "in force, accepted by %s, replacing SHA-256 %.16s...%s%.200s; "
	    "changed: %.1000s", hex, by, a.hex[0] ? a.hex : "(none)",
	    retired[0] ? ", retired as " : "", retired[0] ? (strrchr(retired,
	    '/') ? strrchr(retired, '/') + 1 : retired) : "", shown);
	r = 0;
	goto out;
 fail:
	/* profile.yaml and state.conf disagree now or are as they were:
	 * either way every command refuses until they agree */
	hk_ca_audit_warn(c->ca, "profile.accept", "fail", by, "%s SHA-256 %s: "
	    "%s", ipath, hex, hk_err_msg());
 out:
	hk_profile_free(nw);
	hk_profile_free(old);
	free(a.buf);
	free(cur);
	return r;
}

const struct hk_step_action hk_step_profile_accept = {
	{ "profile-accept", "put a new certificate profile in force, its "
	    "SHA-256 confirmed, accepted by the CA manager present",
	    params, 0, 0, 0 },
	run, NULL
};
