/* test_profile_accept.c - the profile a state folder was accepted with
 * (shared/profile_accept.c; docs/profile.md "A profile changed after
 * init"): a profile.yaml whose SHA-256 is not the one accepted is refused,
 * and a state made before the record falls back on its init.start record. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "audit.h"
#include "err.h"
#include "hex.h"
#include "profile.h"
#include "profile_accept.h"
#include "state.h"
#include "testutil.h"

#define SHIPPED HK_TEST_DATA "/../../ceremony-scripts/profile-kumamoto.yaml"
#define ACCEPT "hanko-online profile accept --state DIR"

/* A state folder dir with the shipped profile and an audit log whose
 * init.start record names profile_hex (NULL: no init.start record). */
static struct hk_state *
make_state(const char *dir, const char *profile_hex, char hex[65])
{
	unsigned char *buf, d[32];
	char path[4096], details[512];
	struct hk_state *st;
	size_t len;

	buf = hk_test_read(SHIPPED, &len);
	snprintf(path, sizeof(path), "%s/profile.yaml", dir);
	hk_test_write(path, buf, len);
	SHA256(buf, len, d);
	hk_hex_encode(d, 32, hex);
	free(buf);
	snprintf(path, sizeof(path), "%s/audit", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/audit/audit.log", dir);
	cr_assert_eq(hk_audit_create(path), 0, "%s", hk_err_msg());
	if (profile_hex != NULL) {
		snprintf(details, sizeof(details), "online state %s; profile "
		    "p.yaml sha256 %s; municipalities m.csv: 1 municipalities",
		    dir, profile_hex);
		cr_assert_eq(hk_audit_append(path, "init.start", "ok", "-",
		    details), 0, "%s", hk_err_msg());
	}
	cr_assert_eq(hk_state_new(dir, &st), 0);
	return st;
}

/* Change one value of the state's profile (user.validity-years 3 -> 2). */
static void
edit_profile(const char *dir)
{
	char path[4096], *p;
	unsigned char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/profile.yaml", dir);
	buf = hk_test_read(path, &len);
	p = strstr((char *)buf, "user:\n  validity-years: 3");
	cr_assert_not_null(p);
	p[strlen("user:\n  validity-years: ")] = '2';
	hk_test_write(path, buf, len);
	free(buf);
}

Test(profile_accept, the_profile_accepted_loads)
{
	const char *dir = hk_test_dir("pa-ok");
	struct hk_profile_seen seen;
	struct hk_profile *p = NULL;
	struct hk_state *st;
	char hex[65];

	st = make_state(dir, NULL, hex);
	cr_assert_eq(hk_profile_record(st, hex, "2026-04-01T00:00:00Z",
	    "init"), 0);
	cr_assert_eq(hk_profile_load_accepted(st, ACCEPT, &p, &seen), 0, "%s",
	    hk_err_msg());
	cr_assert_not_null(p);
	cr_assert_eq(p->user_validity_years, 3);
	cr_assert_str_eq(seen.hex, hex);
	cr_assert_eq(seen.adopt, 0);
	hk_profile_free(p);
	hk_state_free(st);
}

Test(profile_accept, a_changed_profile_is_refused)
{
	const char *dir = hk_test_dir("pa-changed");
	struct hk_profile_seen seen;
	struct hk_profile *p = NULL;
	struct hk_state *st;
	char hex[65], want[1024];

	st = make_state(dir, NULL, hex);
	cr_assert_eq(hk_profile_record(st, hex, "2026-04-01T00:00:00Z",
	    "init"), 0);
	edit_profile(dir);
	cr_assert_eq(hk_profile_load_accepted(st, ACCEPT, &p, &seen),
	    HK_ERR_STATE);
	cr_assert_null(p);
	cr_assert_str_neq(seen.hex, hex);
	snprintf(want, sizeof(want), "%s/profile.yaml: changed since it was "
	    "accepted on 2026-04-01T00:00:00Z by init (SHA-256 now %s, "
	    "accepted %s); nothing done: put back the profile accepted "
	    "(%s/profile.accepted.yaml holds it) or accept the change with "
	    ACCEPT, dir, seen.hex, hex, dir);
	cr_assert_str_eq(hk_err_msg(), want);
	hk_state_free(st);
}

Test(profile_accept, an_old_state_falls_back_on_its_init_record)
{
	const char *dir = hk_test_dir("pa-adopt");
	struct hk_profile_seen seen;
	struct hk_profile *p = NULL;
	struct hk_state *st;
	unsigned char *buf, d[32];
	char hex[65], shipped[65];
	size_t len;

	/* the digest init recorded is the shipped file's */
	buf = hk_test_read(SHIPPED, &len);
	SHA256(buf, len, d);
	hk_hex_encode(d, 32, shipped);
	free(buf);
	st = make_state(dir, shipped, hex);
	cr_assert_str_eq(hex, shipped);
	cr_assert_eq(hk_profile_load_accepted(st, ACCEPT, &p, &seen), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(seen.adopt, 1, "the caller records it");
	cr_assert_str_eq(seen.was, hex);
	cr_assert_str_neq(seen.at, "");
	hk_profile_free(p);
	p = NULL;
	/* edited since: refused, naming the digest init recorded */
	edit_profile(dir);
	cr_assert_eq(hk_profile_load_accepted(st, ACCEPT, &p, &seen),
	    HK_ERR_STATE);
	cr_assert_null(p);
	cr_assert_eq(seen.adopt, 0);
	cr_assert(strstr(hk_err_msg(), "changed since it was accepted on ") !=
	    NULL, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), hex) != NULL, "%s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "or accept the change with " ACCEPT) !=
	    NULL, "%s", hk_err_msg());
	hk_state_free(st);
}

Test(profile_accept, an_old_state_without_an_init_record_is_refused)
{
	const char *dir = hk_test_dir("pa-norecord");
	struct hk_profile_seen seen;
	struct hk_profile *p = NULL;
	struct hk_state *st;
	char hex[65];

	st = make_state(dir, NULL, hex);
	cr_assert_eq(hk_profile_load_accepted(st, ACCEPT, &p, &seen),
	    HK_ERR_STATE);
	cr_assert_null(p);
	cr_assert(strstr(hk_err_msg(), "was never accepted") != NULL, "%s",
	    hk_err_msg());
	cr_assert(strstr(hk_err_msg(), "no init.start record") != NULL, "%s",
	    hk_err_msg());
	hk_state_free(st);
}

Test(profile_accept, the_copy_is_used_only_when_it_is_the_one_accepted)
{
	const char *dir = hk_test_dir("pa-copy");
	struct hk_profile *p = NULL, *old = NULL;
	struct hk_state *st;
	unsigned char *buf;
	char hex[65], path[4096], list[512];
	size_t len;

	st = make_state(dir, NULL, hex);
	snprintf(path, sizeof(path), "%s/profile.yaml", dir);
	buf = hk_test_read(path, &len);
	cr_assert_eq(hk_profile_keep_copy(st, buf, len), 0, "%s",
	    hk_err_msg());
	free(buf);
	cr_assert_eq(hk_profile_accepted_copy(st, hex, &old), 0);
	cr_assert_not_null(old);
	cr_assert_eq(hk_profile_accepted_copy(st, "00", &p), 0);
	cr_assert_null(p, "a copy of another digest is not the one accepted");
	edit_profile(dir);
	cr_assert_eq(hk_profile_load(path, &p), 0);
	cr_assert_eq(hk_profile_changes(old, p, "; ", list, sizeof(list)), 1);
	cr_assert_str_eq(list, "user.validity-years: 3 -> 2");
	hk_profile_free(p);
	hk_profile_free(old);
	hk_state_free(st);
}
