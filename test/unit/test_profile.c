/* test_profile.c - defaults, the shipped file, hostile profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "err.h"
#include "profile.h"

#define SHIPPED HANKO_SOURCE_DIR "/ceremony-scripts/profile-kumamoto.yaml"

Test(profile, default_equals_shipped_file)
{
	struct hk_profile *def = NULL, *file = NULL;
	const char *diff;

	cr_assert_eq(hk_profile_default(&def), 0);
	cr_assert_eq(hk_profile_load(SHIPPED, &file), 0, "%s", hk_err_msg());
	diff = hk_profile_diff(def, file);
	cr_assert_null(diff, "default and shipped file differ in %s", diff);
	hk_profile_free(def);
	hk_profile_free(file);
}

Test(profile, kumamoto_values)
{
	struct hk_profile *p = NULL;

	cr_assert_eq(hk_profile_default(&p), 0);
	cr_assert_str_eq(p->root_subject, "C=JP, O=JPKI, OU=Kumamoto-ken, "
	    "OU=Governor of Kumamoto Prefecture");
	cr_assert_str_eq(p->root_jname, "C=JP, O=公的個人認証サービス, "
	    "OU=熊本県知事");
	cr_assert_eq(p->root_validity_years, 10);
	cr_assert_eq(p->root_key_use_years, 5);
	cr_assert_eq(p->root_key, HK_KEY_RSA2048);
	cr_assert_eq(p->root_signature, HK_SIG_SHA256_RSA);
	cr_assert_eq(p->user_validity_years, 3);
	cr_assert_eq(p->user_key, HK_KEY_RSA2048);
	cr_assert_eq(p->user_allow_rsa1024, 0);
	cr_assert_eq(p->ocsp_validity_years, 1);
	cr_assert_eq(p->validation_validity_years, 1);
	cr_assert_str_eq(p->policy_ca, "1.2.392.200149.8.5.1.1.10");
	cr_assert_str_eq(p->policy_user, "1.2.392.200149.8.5.1.1.10");
	cr_assert_str_eq(p->policy_user_test, "1.2.392.200149.8.5.1.0.10");
	cr_assert_eq(p->policy_user_critical, 1);
	cr_assert_str_eq(p->policy_ocsp, "1.2.392.200149.8.5.1.300");
	cr_assert_str_eq(p->policy_ocsp_test, "1.2.392.200149.8.5.1.0.300");
	cr_assert_str_eq(p->policy_validation, "1.2.392.200149.8.5.1.200");
	cr_assert_str_eq(p->policy_validation_test,
	    "1.2.392.200149.8.5.1.0.200");
	cr_assert_eq(p->policy_mappings_critical, 0);
	cr_assert_eq(p->crl_validity_hours, 72);
	cr_assert_eq(p->crl_interval_hours, 24);
	cr_assert_str_eq(p->repository_url, "");
	cr_assert_str_eq(p->rehearsal_marker, "TEST");
	hk_profile_free(p);
}

Test(profile, good_variants)
{
	struct hk_profile *p = NULL;

	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-repo.yaml",
	    &p), 0, "%s", hk_err_msg());
	cr_assert_str_eq(p->repository_url, "http://repo.example.jp/kumamoto");
	hk_profile_free(p);
	cr_assert_eq(hk_profile_load(HK_TEST_DATA "/profile/good-p384.yaml",
	    &p), 0, "%s", hk_err_msg());
	cr_assert_eq(p->root_key, HK_KEY_EC_P384);
	cr_assert_eq(p->root_signature, HK_SIG_ECDSA_SHA384);
	hk_profile_free(p);
}

struct bad {
	char file[64];		/* under test/data/profile */
	char msg[200];		/* expected fragment after the file name */
};

ParameterizedTestParameters(profile, hostile)
{
	static struct bad cases[] = {
		{ "bad-unknown-key.yaml", ":9:3: root.validity-year: unknown key" },
		{ "bad-duplicate-key.yaml", ":11:3: root: duplicate key 'key-use-years'" },
		{ "bad-validity-range.yaml", ":9:19: root.validity-years: must be an integer from 1 to 30" },
		{ "bad-validity-type.yaml", ":9:19: root.validity-years: must be an integer from 1 to 30" },
		{ "bad-validity-quoted.yaml", "root.validity-years: must be an integer from 1 to 30" },
		{ "bad-missing-subject.yaml", ":7:3: root.subject: required key is missing" },
		{ "bad-oid.yaml", "policies.ca: must be a dotted OID" },
		{ "bad-dn-country.yaml", "root.subject: DN \"C=JPN, O=JPKI, OU=Kumamoto-ken, OU=Governor of Kumamoto Prefecture\": C must be two capital letters" },
		{ "bad-dn-attr.yaml", "root.japanese-name: DN \"C=JP, XX=1, O=公的個人認証サービス, OU=熊本県知事\": unknown attribute 'XX'" },
		{ "bad-dn-empty.yaml", "root.subject: DN \"C=JP, O=, OU=Kumamoto-ken, OU=Governor of Kumamoto Prefecture\": O has an empty value" },
		{ "bad-alias.yaml", ":24:7: anchors are not allowed (&v)" },
		{ "bad-tag.yaml", ":9:19: tags are not allowed (tag:yaml.org,2002:int)" },
		{ "bad-two-docs.yaml", "only one YAML document is allowed" },
		{ "bad-version.yaml", ":4:16: hanko-profile: must be an integer from 1 to 1" },
		{ "bad-key-sig.yaml", "root.signature: must be ecdsa-with-SHA384 for an ec-p384 key" },
		{ "bad-key-use.yaml", "root.key-use-years: must be an integer from 1 to 10" },
		{ "bad-key-name.yaml", "root.key: must be one of: rsa-2048, rsa-3072, rsa-4096, ec-p384" },
		{ "bad-user-key.yaml", "user.key: must be one of: rsa-2048, rsa-3072, rsa-4096" },
		{ "bad-repo-slash.yaml", "repository-url: must be empty or an http:// or https:// URL" },
		{ "bad-repo-scheme.yaml", "repository-url: must be empty or an http:// or https:// URL" },
		{ "bad-repo-query.yaml", ":46:17: repository-url: must be empty or an http:// or https:// URL of a host and path" },
		{ "bad-repo-nohost.yaml", ":46:17: repository-url: must be empty or an http:// or https:// URL of a host and path" },
		{ "bad-repo-userinfo.yaml", ":46:17: repository-url: must be empty or an http:// or https:// URL of a host and path" },
		{ "bad-crl-interval.yaml", ":44:19: crl.interval-hours: must be at most crl.validity-hours - 28 (44): CPS 2-6-2, 4-4-3" },
		{ "bad-crl-gap.yaml", ":43:19: crl.validity-hours: must be an integer from 29 to 744" },
		{ "bad-crl-arl-gap.yaml", ":44:19: crl.interval-hours: must be at most crl.validity-hours - 28 (44)" },
		{ "bad-issuing-ec.yaml", ":16:8: issuing-ca.key: must be one of: rsa-2048, rsa-3072, rsa-4096" },
		{ "bad-marker-blank.yaml", "rehearsal-marker: must be 1 to 31 letters, digits, '-' or blanks, not beginning or ending with a blank" },
		{ "bad-marker-trailing.yaml", "rehearsal-marker: must be 1 to 31 letters, digits, '-' or blanks, not beginning or ending with a blank" },
		{ "bad-test-oid.yaml", "policies: a test policy OID must differ from its production OID" },
		{ "bad-bool.yaml", "policies.user-critical: must be true or false" },
		{ "bad-marker.yaml", "rehearsal-marker: must be 1 to 31 letters, digits" },
		{ "bad-section-type.yaml", "ocsp: must be a mapping, not a scalar" },
		{ "bad-deep.yaml", "nesting deeper than 32" },
		{ "bad-utf8.yaml", ":1:58: not valid UTF-8 text (byte 0xff)" },
	};

	return cr_make_param_array(struct bad, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad *c, profile, hostile)
{
	char path[512];
	struct hk_profile *p = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/profile/%s", HK_TEST_DATA, c->file);
	hk_err_clear();
	r = hk_profile_load(path, &p);
	cr_assert_neq(r, 0, "%s was accepted", c->file);
	cr_assert_null(p);
	cr_assert(strstr(hk_err_msg(), c->msg) != NULL,
	    "%s: got \"%s\", want \"%s\"", c->file, hk_err_msg(), c->msg);
	cr_assert(strncmp(hk_err_msg(), path, strlen(path)) == 0,
	    "message does not start with the file name: %s", hk_err_msg());
	cr_assert_null(strchr(hk_err_msg(), '\n'));
}

Test(profile, oid_check)
{
	cr_assert_eq(hk_oid_check("1.2.392.200149.8.5.1.1.10"), 0);
	cr_assert_neq(hk_oid_check("1.2.392.200149.8.5.1.1."), 0);
	cr_assert_neq(hk_oid_check("3.2.1"), 0);
	cr_assert_neq(hk_oid_check("1.02.3"), 0);
	cr_assert_neq(hk_oid_check("1.2"), 0);
	cr_assert_neq(hk_oid_check("1.2.x"), 0);
}
