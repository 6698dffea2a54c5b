/*
 * cmd_roster.c - "hanko-offline roster": people's passphrase verifiers and
 * the CA manager's approval of the state's roster (CPS 5-2-1, 5-2-2,
 * 5-2-3).
 *
 *   set-passphrase  store a person's Argon2id verifier in <state>/roster.yaml
 *                   (their old passphrase is needed to replace one); the
 *                   roster then needs a new approval
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
"           [--passin SPEC] [--old-passin SPEC] [--kdf LEVEL]\n"
"       hanko-offline roster approve --state DIR --manager ID [--passin SPEC]\n"
"       hanko-offline roster show --state DIR\n";

struct roster_opts {
	struct hk_common_opts c;	/* --state, --clock */
	const char *person;		/* --person / --manager ID */
	const char *passin;		/* --passin SPEC; NULL = prompt */
	const char *old_passin;		/* --old-passin SPEC; NULL = prompt */
	const char *kdf;		/* --kdf LEVEL; NULL = moderate */
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
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(roster_usage, stdout);
			exit(0);
		} else {
			hk_err_set("%s: unknown option (see --help)", argv[i]);
			return HK_ERR_USAGE;
		}
		if ((*slot = hk_opt_value(argc, argv, &i)) == NULL)
			return HK_ERR_USAGE;
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

static int
set_passphrase(struct hk_ca *ca, const struct roster_opts *o,
    const char *path)
{
	struct hk_roster *ro = NULL;
	struct hk_person *p;
	char *pass = NULL, prompt[512];
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
	if (hk_person_has_verifier(p)) {
		snprintf(prompt, sizeof(prompt), "Current passphrase of %s "
		    "(%s): ", p->id, p->name);
		if ((r = hk_passin_read(o->old_passin, prompt, &pass)) != 0)
			goto out;
		r = hk_person_verify(p, pass);
		hk_secret_free(pass);
		pass = NULL;
		if (r != 0) {
			hk_ca_audit(ca, "roster.credential", "fail", p->id,
			    "%s", hk_err_msg());
			goto out;
		}
	}
	snprintf(prompt, sizeof(prompt), "New passphrase of %s (%s, %s): ",
	    p->id, p->name, hk_role_name(p->role));
	if ((r = hk_passin_read_new(o->passin, prompt, &pass)) != 0)
		goto out;
	if ((r = hk_passphrase_check(pass, p->id, p->name, NULL, 0)) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", hk_err_msg());
		hk_err_set("passphrase of %s: %s", p->id, why);
		goto out;
	}
	if ((r = hk_person_set_verifier(p, pass, level)) != 0 ||
	    (r = hk_roster_write(ro, path)) != 0)
		goto out;
	hk_ca_audit(ca, "roster.credential", "ok", p->id, "passphrase "
	    "verifier (Argon2id) set for %s (%s); the roster needs the CA "
	    "manager's approval again", p->id, hk_role_name(p->role));
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
	snprintf(prompt, sizeof(prompt), "Passphrase of %s (%s, CA manager) "
	    "to approve roster %.16s: ", p->id, p->name, hex);
	if ((r = hk_passin_read(o->passin, prompt, &pass)) != 0)
		goto out;
	r = hk_person_verify(p, pass);
	if (r != 0) {
		hk_ca_audit(ca, "roster.approve", "fail", p->id, "%s SHA-256 "
		    "%s: %s", path, hex, hk_err_msg());
		goto out;
	}
	hk_time_format(hk_clock_now(), t, sizeof(t));
	if ((r = hk_state_set(ca->st, "roster.approved-sha256", hex)) != 0 ||
	    (r = hk_state_set(ca->st, "roster.approved-by", p->id)) != 0 ||
	    (r = hk_state_set(ca->st, "roster.approved-at", t)) != 0 ||
	    (r = hk_state_save(ca->st)) != 0)
		goto out;
	hk_ca_audit(ca, "roster.approve", "ok", p->id, "%s SHA-256 %s: %zu "
	    "people, %zu key managers, threshold %u", path, hex, ro->npeople,
	    ro->nkm, ro->threshold);
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
		fputs(roster_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? HK_ERR_USAGE : 0;
	}
	if ((r = parse(&o, argc, argv)) != 0)
		return r;
	if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "approve") != 0 &&
	    strcmp(argv[1], "set-passphrase") != 0) {
		hk_err_set("roster %s: unknown; expected set-passphrase, "
		    "approve or show", argv[1]);
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
	else
		r = set_passphrase(ca, &o, path);
out:
	hk_ca_close(ca);
	return r;
}
