/*
 * cmd_roster.c - "hanko-offline roster": people's passphrase verifiers and
 * the CA manager's approval of the state's roster (CPS 5-2-1, 5-2-2,
 * 5-2-3).
 *
 *   set-passphrase  store a person's Argon2id verifier in <state>/roster.yaml
 *                   (their old passphrase, or their old token with
 *                   --old-token, is needed to replace a credential); the
 *                   roster then needs a new approval
 *   set-token       the same for a PKCS#11 token of their own: the SHA-256
 *                   of their key's SubjectPublicKeyInfo, read from the
 *                   token after they log in and sign a challenge
 *   approve         the CA manager's passphrase checked, and the SHA-256 of
 *                   roster.yaml recorded in state.conf and the audit log
 *   show            people, roles, verifiers and whether the roster is
 *                   approved as it is
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
#include "passin.h"
#include "quorum.h"
#include "roster.h"
#include "secmem.h"

static const char roster_usage[] =
"usage: hanko-offline roster set-passphrase --state DIR --person ID\n"
"           [--passin SPEC] [--old-passin SPEC] [--old-token URI] [--kdf LEVEL]\n"
"       hanko-offline roster set-token --state DIR --person ID [--module PATH]\n"
"           --token-label LABEL --key-label LABEL [--passin PIN-SPEC]\n"
"           [--old-passin SPEC] [--old-token URI]\n"
"       hanko-offline roster approve --state DIR --manager ID [--passin SPEC]\n"
"       hanko-offline roster show --state DIR\n";

struct roster_opts {
	struct hk_common_opts c;	/* --state, --clock */
	const char *person;		/* --person / --manager ID */
	const char *passin;		/* --passin SPEC; NULL = prompt */
	const char *old_passin;		/* --old-passin SPEC; NULL = prompt */
	const char *kdf;		/* --kdf LEVEL; NULL = moderate */
	const char *module;		/* --module PATH; NULL = SoftHSM2 */
	const char *token_label;	/* --token-label LABEL */
	const char *key_label;		/* --key-label LABEL */
	const char *old_token;		/* --old-token URI */
};

static int
parse(struct roster_opts *o, int argc, char **argv)
{
	int i, r;

	memset(o, 0, sizeof(*o));
	for (i = 2; i < argc; i++) {
		const char **slot = NULL;
		if (hk_common_opt(&o->c, argc, argv, &i, &r)) {
			if (r != 0)
				return r;
			continue;
		}
		if (strcmp(argv[i], "--person") == 0 ||
		    strcmp(argv[i], "--manager") == 0)
			slot = &o->person;
		else if (strcmp(argv[i], "--passin") == 0)
			slot = &o->passin;
		else if (strcmp(argv[i], "--old-passin") == 0)
			slot = &o->old_passin;
		else if (strcmp(argv[i], "--kdf") == 0)
			slot = &o->kdf;
		else if (strcmp(argv[i], "--module") == 0)
			slot = &o->module;
		else if (strcmp(argv[i], "--token-label") == 0)
			slot = &o->token_label;
		else if (strcmp(argv[i], "--key-label") == 0)
			slot = &o->key_label;
		else if (strcmp(argv[i], "--old-token") == 0)
			slot = &o->old_token;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(roster_usage, stdout);
			exit(0);
		} else {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((r = hk_opt_once(slot, argc, argv, &i)) != 0)
			return r;
	}
	return 0;
}

static int
roster_digest(const char *path, char hex[65])
{
	unsigned char *buf = NULL, d[32];
	size_t len;
	int r;

	if ((r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
		return r;
	SHA256(buf, len, d);
	free(buf);
	hk_hex_encode(d, 32, hex);
	return 0;
}

/* The context a set-token or old-token challenge is bound to. */
static void
roster_context(const char *path, const char *id, unsigned char ctx[32])
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "hanko roster credential %s %s", path, id);
	SHA256((const unsigned char *)buf, strlen(buf), ctx);
}

/*
 * A credential is replaced only by its holder: their current passphrase
 * (--old-passin or the prompt), or a challenge signed by their current
 * token (--old-token URI, PIN by --old-passin or the prompt). Audited.
 * "Current" is the credential of the roster last approved, never of the
 * working roster.yaml: whoever can edit that file could otherwise remove
 * the person's credential (no proof asked) or put their own in its place
 * and prove that (roster_check.c would then approve the new one).
 */
static int
prove_old(struct hk_ca *ca, const struct roster_opts *o,
    const struct hk_person *working, const char *path, const char **how_set)
{
	struct hk_roster *ref = NULL;
	const struct hk_person *p = working;
	unsigned char ctx[32];
	char *pass = NULL, prompt[512], how[256], rpath[4096];
	int r;

	if ((r = hk_roster_reference(ca, &ref, rpath, sizeof(rpath))) != 0)
		return r;
	if (ref != NULL)
		p = hk_roster_find(ref, working->id);	/* NULL: added since */
	if (p != NULL && hk_person_has_token(p)) {
		if (o->old_token == NULL) {
			hk_err_set("--person %s: holds a PKCS#11 token "
			    "credential; replacing it needs that token: "
			    "--old-token pkcs11:token=...;object=...", p->id);
			r = HK_ERR_USAGE;
		} else {
			roster_context(path, p->id, ctx);
			r = hk_person_token_auth(p, o->old_token, NULL,
			    o->old_passin, ctx, how, sizeof(how));
		}
	} else if (p != NULL && hk_person_has_verifier(p)) {
		snprintf(prompt, sizeof(prompt), "Current passphrase of %s "
		    "(%s)%s: ", p->id, p->name, ref != NULL ? ", as last "
		    "approved" : "");
		if ((r = hk_passin_read(o->old_passin, prompt, &pass)) == 0) {
			r = hk_person_verify(p, pass);
			hk_secret_free(pass);
		}
	} else {
		*how_set = "their first (no credential of theirs to prove)";
		hk_roster_free(ref);
		return 0;
	}
	*how_set = "replacing theirs, proved by the old one";
	if (r != 0)
		hk_ca_audit_warn(ca, "roster.credential", "fail", working->id,
		    "%s", hk_err_msg());
	hk_roster_free(ref);
	return r;
}

static int
pct_encode(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~';
		if (o + 4 >= len)
			return HK_ERR_INVALID;
		o += (size_t)snprintf(out + o, len - o, plain ? "%c" : "%%%02X",
		    c);
	}
	out[o] = '\0';
	return 0;
}

static int
set_token(struct hk_ca *ca, const struct roster_opts *o, const char *path)
{
	struct hk_roster *ro = NULL;
	struct hk_person *p;
	const char *how_set = "";
	unsigned char ctx[32], spki[32], cred[32];
	char uri[1200], tl[520], kl[520], prompt[512], hex[65], chex[65];
	size_t i;
	int r;

	if (o->token_label == NULL || o->key_label == NULL) {
		hk_err_set("roster set-token: --token-label and --key-label "
		    "are required");
		return HK_ERR_USAGE;
	}
	if (pct_encode(o->token_label, tl, sizeof(tl)) != 0 ||
	    pct_encode(o->key_label, kl, sizeof(kl)) != 0) {
		hk_err_set("roster set-token: label too long");
		return HK_ERR_USAGE;
	}
	snprintf(uri, sizeof(uri), "pkcs11:token=%s;object=%s", tl, kl);
	if ((r = hk_roster_load(path, &ro)) != 0)
		return r;
	if ((p = (struct hk_person *)hk_roster_find(ro, o->person)) == NULL) {
		hk_err_set("--person %s: not in %s", o->person, path);
		r = HK_ERR_USAGE;
		goto out;
	}
	if ((r = prove_old(ca, o, p, path, &how_set)) != 0)
		goto out;
	roster_context(path, p->id, ctx);
	snprintf(prompt, sizeof(prompt), "PIN of the token '%s' of %s (%s): ",
	    o->token_label, p->id, p->name);
	if ((r = hk_token_person_key(p->id, uri, o->module, o->passin, prompt,
	    ctx, NULL, spki)) != 0) {
		hk_ca_audit_warn(ca, "roster.credential", "fail", p->id, "%s",
		    hk_err_msg());
		goto out;
	}
	hk_hex_encode(spki, 32, hex);
	/* One token is one person (CPS 5-2-2, 5-2-3): a key already someone
	 * else's would let one token holder be both of a dual control. */
	for (i = 0; i < ro->npeople; i++)
		if (&ro->people[i] != p && ro->people[i].has_spki &&
		    memcmp(ro->people[i].spki_sha256, spki, 32) == 0) {
			hk_err_set("--person %s: token key %s (SPKI SHA-256 "
			    "%.16s...) is already the credential of %s in %s; "
			    "one token key is one person's (CPS 5-2-2, 5-2-3)",
			    p->id, uri, hex, ro->people[i].id, path);
			hk_ca_audit_warn(ca, "roster.credential", "fail", p->id,
			    "%s", hk_err_msg());
			r = HK_ERR_INVALID;
			goto out;
		}
	if ((r = hk_person_set_token(p, spki)) != 0)
		goto out;
	(void)hk_person_credential_sha256(p, cred);
	hk_hex_encode(cred, 32, chex);
	/* Logged before it is written: no credential changes unrecorded.
	 * The record names the credential: it is the holder's proof when the
	 * CA manager approves the roster (roster_check.c). */
	if ((r = hk_ca_audit(ca, "roster.credential", "ok", p->id,
	    "credential-sha256 %s: PKCS#11 token key set for %s (%s), %s: "
	    "%s, SPKI SHA-256 %s; the roster needs the CA manager's approval "
	    "again", chex, p->id, hk_role_name(p->role), how_set, uri,
	    hex)) != 0)
		goto out;
	if ((r = hk_roster_write(ro, path)) != 0) {
		hk_ca_audit_warn(ca, "roster.credential", "fail", p->id,
		    "%s: not written: %s", path, hk_err_msg());
		goto out;
	}
	printf("Token key of %s set in %s: %s\n  SPKI SHA-256 %s\nThe roster "
	    "must be approved again (hanko-offline roster approve).\n", p->id,
	    path, uri, hex);
out:
	hk_roster_free(ro);
	return r;
}

static int
set_passphrase(struct hk_ca *ca, const struct roster_opts *o,
    const char *path)
{
	struct hk_roster *ro = NULL;
	struct hk_person *p;
	const char *how_set = "";
	unsigned char cred[32];
	char *pass = NULL, prompt[512], chex[65];
	int r, level;

	if ((r = hk_kdf_level_parse(o->kdf ? o->kdf : "moderate",
	    &level)) != 0) {
		hk_err_set("--kdf %s: expected interactive, moderate or "
		    "sensitive", o->kdf);
		return HK_ERR_USAGE;
	}
	if ((r = hk_roster_load(path, &ro)) != 0)
		return r;
	if ((p = (struct hk_person *)hk_roster_find(ro, o->person)) == NULL) {
		hk_err_set("--person %s: not in %s", o->person, path);
		r = HK_ERR_USAGE;
		goto out;
	}
	if ((r = prove_old(ca, o, p, path, &how_set)) != 0)
		goto out;
	snprintf(prompt, sizeof(prompt), "New passphrase of %s (%s, %s): ",
	    p->id, p->name, hk_role_name(p->role));
	if ((r = hk_passin_read_new(o->passin, prompt, &pass)) != 0)
		goto out;
	if ((r = hk_passphrase_check(pass, p->id, p->name, NULL, 0)) != 0) {
		hk_err_set("passphrase of %s: %s", p->id, hk_err_msg());
		goto out;
	}
	if ((r = hk_person_set_verifier(p, pass, level)) != 0)
		goto out;
	(void)hk_person_credential_sha256(p, cred);
	hk_hex_encode(cred, 32, chex);
	/* Logged before it is written: no credential changes unrecorded.
	 * The record names the credential: it is the holder's proof when the
	 * CA manager approves the roster (roster_check.c). */
	if ((r = hk_ca_audit(ca, "roster.credential", "ok", p->id,
	    "credential-sha256 %s: passphrase verifier (Argon2id) set for %s "
	    "(%s), %s; the roster needs the CA manager's approval again", chex,
	    p->id, hk_role_name(p->role), how_set)) != 0)
		goto out;
	if ((r = hk_roster_write(ro, path)) != 0) {
		hk_ca_audit_warn(ca, "roster.credential", "fail", p->id,
		    "%s: not written: %s", path, hk_err_msg());
		goto out;
	}
	printf("Passphrase verifier of %s set in %s; the roster must be "
	    "approved again (hanko-offline roster approve).\n", p->id, path);
out:
	hk_secret_free(pass);
	hk_roster_free(ro);
	return r;
}

static int
approve(struct hk_ca *ca, const struct roster_opts *o, const char *path)
{
	struct hk_roster *ro = NULL;
	const struct hk_person *p;
	char *pass = NULL, prompt[512], hex[65], t[32];
	int r;

	if ((r = hk_roster_load(path, &ro)) != 0 ||
	    (r = roster_digest(path, hex)) != 0)
		goto out;
	if ((p = hk_roster_find(ro, o->person)) == NULL ||
	    p->role != HK_ROLE_CA_MANAGER) {
		hk_err_set("--manager %s: not the CA manager (ca-manager) of "
		    "%s", o->person, path);
		r = HK_ERR_USAGE;
		goto out;
	}
	/* After the first approval: the key managers the quorum set's,
	 * everyone else as approved, and every credential changed set by
	 * its holder (roster_check.c; CPS 5-2-2, 5-2-3, 5-3-3). */
	if ((r = hk_roster_approvable(ca, ro, path, 0)) != 0) {
		hk_ca_audit_warn(ca, "roster.approve", "fail", p->id, "%s",
		    hk_err_msg());
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase of %s (%s, CA manager) "
	    "to approve roster %.16s: ", p->id, p->name, hex);
	if ((r = hk_passin_read(o->passin, prompt, &pass)) != 0)
		goto out;
	r = hk_person_verify(p, pass);
	if (r != 0) {
		hk_ca_audit_warn(ca, "roster.approve", "fail", p->id, "%s "
		    "SHA-256 %s: %s", path, hex, hk_err_msg());
		goto out;
	}
	/* Logged before it is recorded in state.conf: no approval is in
	 * force that the log does not hold. */
	if ((r = hk_ca_audit(ca, "roster.approve", "ok", p->id, "%s SHA-256 "
	    "%s: %zu people, %zu key managers, threshold %u", path, hex,
	    ro->npeople, ro->nkm, ro->threshold)) != 0)
		goto out;
	hk_time_format(hk_clock_now(), t, sizeof(t));
	if ((r = hk_roster_keep_approved(ca, path)) != 0 ||
	    (r = hk_state_set(ca->st, "roster.approved-sha256", hex)) != 0 ||
	    (r = hk_state_set(ca->st, "roster.approved-by", p->id)) != 0 ||
	    (r = hk_state_set(ca->st, "roster.approved-at", t)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0) {
		hk_ca_audit_warn(ca, "roster.approve", "fail", p->id, "%s "
		    "SHA-256 %s: not recorded in state.conf: %s", path, hex,
		    hk_err_msg());
		goto out;
	}
	printf("Roster %s approved by %s: SHA-256 %s\n", path, p->id, hex);
out:
	hk_secret_free(pass);
	hk_roster_free(ro);
	return r;
}

static int
show(struct hk_ca *ca, const char *path)
{
	struct hk_roster *ro = NULL;
	const char *want = hk_state_get(ca->st, "roster.approved-sha256");
	char hex[65];
	size_t i;
	int r;

	if ((r = hk_roster_load(path, &ro)) != 0 ||
	    (r = roster_digest(path, hex)) != 0) {
		hk_roster_free(ro);
		return r;
	}
	printf("%s: SHA-256 %s: %s\n", path, hex, want == NULL ?
	    "NOT approved" : strcmp(want, hex) == 0 ? "approved" :
	    "CHANGED since approved");
	for (i = 0; i < ro->npeople; i++)
		printf("  %-16s %-16s %s %s\n", ro->people[i].id,
		    hk_role_name(ro->people[i].role),
		    hk_person_has_verifier(&ro->people[i]) ? "verifier" :
		    hk_person_has_token(&ro->people[i]) ? "token   " :
		    "-       ", ro->people[i].name);
	hk_roster_free(ro);
	return 0;
}

int
cmd_roster(int argc, char **argv)
{
	struct roster_opts o;
	struct hk_ca *ca = NULL;
	char path[4096];
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		if (argc < 2) {
			/* one line, as for an unknown verb */
			hk_err_set("a verb is needed: set-passphrase, set-token, approve or show (see "
			    "--help)");
			return HK_ERR_USAGE;
		}
		fputs(roster_usage, stdout);
		return 0;
	}
	if ((r = parse(&o, argc, argv)) != 0)
		return r;
	if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "approve") != 0 &&
	    strcmp(argv[1], "set-passphrase") != 0 &&
	    strcmp(argv[1], "set-token") != 0) {
		hk_err_set("roster %s: unknown; expected set-passphrase, "
		    "set-token, approve or show", argv[1]);
		return HK_ERR_USAGE;
	}
	if (strcmp(argv[1], "show") != 0 && o.person == NULL) {
		hk_err_set("roster %s: --%s ID is required", argv[1],
		    strcmp(argv[1], "approve") == 0 ? "manager" : "person");
		return HK_ERR_USAGE;
	}
	if ((r = hk_ca_open(&o.c, "roster", &ca)) != 0)
		return r;
	if ((r = hk_state_path(ca->st, "roster.yaml", path,
	    sizeof(path))) != 0)
		goto out;
	if (strcmp(argv[1], "show") == 0)
		r = show(ca, path);
	else if (strcmp(argv[1], "approve") == 0)
		r = approve(ca, &o, path);
	else if (strcmp(argv[1], "set-token") == 0)
		r = set_token(ca, &o, path);
	else
		r = set_passphrase(ca, &o, path);
out:
	hk_ca_close(ca);
	return r;
}
