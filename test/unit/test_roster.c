/* test_roster.c - people, roles and the quorum rule 2 <= m <= n <= 255. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "err.h"
#include "roster.h"

#define DEMO HANKO_SOURCE_DIR "/ceremony-scripts/roster-demo.yaml"

static void
refused(const char *file, const char *msg)
{
	char path[512];
	struct hk_roster *r = NULL;

	snprintf(path, sizeof(path), "%s/roster/%s", HK_TEST_DATA, file);
	hk_err_clear();
	cr_assert_neq(hk_roster_load(path, &r), 0, "%s accepted", file);
	cr_assert_null(r);
	cr_assert(strncmp(hk_err_msg(), path, strlen(path)) == 0,
	    "no file name: %s", hk_err_msg());
	cr_assert(strstr(hk_err_msg(), msg) != NULL, "%s: got \"%s\"", file,
	    hk_err_msg());
	cr_assert_null(strchr(hk_err_msg(), '\n'));
}

Test(roster, demo)
{
	struct hk_roster *r = NULL;
	const struct hk_person *p;
	size_t i;

	cr_assert_eq(hk_roster_load(DEMO, &r), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_roster_key_managers(r), 5);
	cr_assert_eq(r->threshold, 3);
	cr_assert_eq(hk_roster_count(r, HK_ROLE_CA_MANAGER), 1);
	cr_assert_eq(hk_roster_count(r, HK_ROLE_AUDITOR), 1);
	cr_assert_eq(hk_roster_count(r, HK_ROLE_SENIOR_OPERATOR), 2);
	for (i = 0; i < 5; i++)
		cr_assert_eq(hk_roster_key_manager(r, i)->role,
		    HK_ROLE_KEY_MANAGER);
	cr_assert_null(hk_roster_key_manager(r, 5));
	p = hk_roster_find(r, "yamada");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->name, "山田 太郎");
	cr_assert_null(p->credential);
	cr_assert_null(hk_roster_find(r, "nobody"));
	hk_roster_free(r);
}

Test(roster, optional_fields)
{
	struct hk_roster *r = NULL;
	const struct hk_person *p;

	cr_assert_eq(hk_roster_load(HK_TEST_DATA "/roster/good-6km.yaml", &r),
	    0, "%s", hk_err_msg());
	cr_assert_eq(hk_roster_key_managers(r), 6);
	p = hk_roster_find(r, "watanabe");
	cr_assert_str_eq(p->contact, "内線 1234");
	cr_assert_not_null(p->credential);
	hk_roster_free(r);
}

Test(roster, threshold_above_n)
{
	refused("bad-m-gt-n.yaml", ":35:14: quorum.threshold: threshold m must "
	    "be an integer with 2 <= m <= n = 5");
}

Test(roster, threshold_below_2)
{
	refused("bad-m-lt-2.yaml", "quorum.threshold: threshold m must be an "
	    "integer with 2 <= m <= n = 5");
}

Test(roster, duplicate_id)
{
	refused("bad-dup-id.yaml", ":9:9: people[1].id: duplicate id 'yamada' "
	    "(also people[0])");
}

/* One token key is one person's: registered for two people, it would let
 * one token holder be both of a dual control (CPS 5-2-2, 5-2-3). */
Test(roster, same_token_key_twice)
{
	refused("bad-same-token.yaml", ":29:18: people[6].spki-sha256: the "
	    "token key of people[5] watanabe");
}

Test(roster, bad_ids)
{
	refused("bad-id-upper.yaml", "people[1].id: must be 1 to 32 of a-z, "
	    "0-9 and '-'");
	refused("bad-id-space.yaml", "people[1].id: must be 1 to 32 of a-z");
}

Test(roster, other_refusals)
{
	refused("bad-role.yaml", "people[8].role: must be one of: key-manager, "
	    "senior-operator, ca-manager, auditor, reviewer, approver");
	refused("bad-unknown-key.yaml", "people[8].phone: unknown key");
	refused("bad-missing-name.yaml", "people[1].name: required key is "
	    "missing");
	refused("bad-no-quorum.yaml", "quorum: required key is missing");
	refused("bad-one-km.yaml", "people: quorum needs 2 <= n <= 255 key "
	    "managers, found 1");
}

Test(roster, id_rule)
{
	cr_assert_eq(hk_roster_id_check("km1"), 0);
	cr_assert_eq(hk_roster_id_check("yamada-t"), 0);
	cr_assert_neq(hk_roster_id_check("-x"), 0);
	cr_assert_neq(hk_roster_id_check(""), 0);
	cr_assert_neq(hk_roster_id_check("a_b"), 0);
	cr_assert_neq(hk_roster_id_check("abcdefghijklmnopqrstuvwxyz0123456"),
	    0);
}

/* The credential digest of the audit log's roster.credential records:
 * none for no credential; equal exactly for equal credentials; a token
 * credential bound to its key's SPKI digest. */
Test(roster, credential_sha256)
{
	struct hk_person a, b;
	unsigned char da[32], db[32], zero[32] = { 0 }, spki[32];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(hk_person_credential_sha256(&a, da), HK_ERR_NOT_FOUND);
	cr_assert_eq(memcmp(da, zero, 32), 0);
	a.credential = "$argon2id$v=19$m=65536,t=2,p=1$AAAA$BBBB";
	b.credential = "$argon2id$v=19$m=65536,t=2,p=1$AAAA$BBBC";
	cr_assert_eq(hk_person_credential_sha256(&a, da), 0);
	cr_assert_eq(hk_person_credential_sha256(&b, db), 0);
	cr_assert_neq(memcmp(da, db, 32), 0);
	b.credential = a.credential;
	cr_assert_eq(hk_person_credential_sha256(&b, db), 0);
	cr_assert_eq(memcmp(da, db, 32), 0);
	a.credential = b.credential = "pkcs11";
	a.has_spki = b.has_spki = 1;
	memset(spki, 1, 32);
	memcpy(a.spki_sha256, spki, 32);
	spki[31] = 2;
	memcpy(b.spki_sha256, spki, 32);
	cr_assert_eq(hk_person_credential_sha256(&a, da), 0);
	cr_assert_eq(hk_person_credential_sha256(&b, db), 0);
	cr_assert_neq(memcmp(da, db, 32), 0, "another token key");
}
