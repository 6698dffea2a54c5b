/* test_script.c - ceremony scripts: the good ones load, and every file of
 * the malformed corpus (test/data/script/INDEX) is refused with its line
 * and message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <criterion/criterion.h>

#include "ceremony.h"
#include "err.h"
#include "script.h"

#define INIT_ROOT HANKO_SOURCE_DIR "/ceremony-scripts/init-root.yaml"

static int
load(const char *path, struct hk_script **s)
{
	const struct hk_action_spec *const *reg;
	size_t n;

	reg = hk_ceremony_registry(&n);
	return hk_script_load(path, reg, n, s);
}

/* A script given as text (named "mem" in messages), loaded with the
 * ceremony registry. */
static int
load_yaml(const char *yaml, struct hk_script **s)
{
	const struct hk_action_spec *const *reg;
	size_t n;

	reg = hk_ceremony_registry(&n);
	return hk_script_load_buf("mem", (const unsigned char *)yaml,
	    strlen(yaml), reg, n, s);
}

Test(script, init_root)
{
	struct hk_script *s = NULL;
	const struct hk_script_step *st;
	unsigned char d[32];
	FILE *f;
	unsigned char buf[65536];
	size_t len;

	cr_assert_eq(load(INIT_ROOT, &s), 0, "%s", hk_err_msg());
	cr_assert_str_eq(s->name, "init-root");
	cr_assert_eq(s->nsteps, 6);
	cr_assert_eq(s->role_count[HK_ROLE_KEY_MANAGER], HK_SCRIPT_QUORUM);
	cr_assert_eq(s->role_count[HK_ROLE_SENIOR_OPERATOR], 2);
	st = &s->steps[hk_script_step_find(s, "self-sign")];
	cr_assert(st->dual_control && st->signs);
	cr_assert_eq(hk_script_param(st, "key")->ref,
	    hk_script_step_find(s, "keygen"));
	cr_assert_eq(s->outputs[0].writer, hk_script_step_find(s, "self-sign"));
	cr_assert_str_eq(s->outputs[0].file, "root-1.der");
	cr_assert_eq(s->outputs[0].base, HK_BASE_CERTS);
	/* The digest is over the exact bytes of the file. */
	f = fopen(INIT_ROOT, "rb");
	cr_assert_not_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	SHA256(buf, len, d);
	cr_assert_eq(memcmp(d, s->sha256, 32), 0);
	cr_assert_eq(s->has_clock, 0);
	hk_script_free(s);
}

Test(script, good_corpus_base)
{
	struct hk_script *s = NULL;

	cr_assert_eq(load(HK_TEST_DATA "/script/good.yaml", &s), 0, "%s",
	    hk_err_msg());
	cr_assert_eq(s->ninputs, 1);
	cr_assert_eq(s->inputs[0].kind, HK_INPUT_CSR);
	cr_assert_eq(s->inputs[0].reader, hk_script_step_find(s, "look"));
	hk_script_free(s);
}

Test(script, clock_and_sha)
{
	static const char y[] =
	    "hanko-ceremony: 1\nname: c\ncps: [\"4-12-1\"]\n"
	    "roles: {key-manager: quorum}\nclock: 2030-01-02T03:04:05Z\n"
	    "inputs:\n  - name: f\n    kind: file\n    sha256: "
	    "0000000000000000000000000000000000000000000000000000000000000001\n"
	    "steps:\n  - id: a\n    action: quorum-activate\n"
	    "    roles: [key-manager]\n  - id: b\n    action: input-check\n"
	    "    params: {input: f}\n";
	struct hk_script *s = NULL;

	cr_assert_eq(load_yaml(y, &s), 0, "%s", hk_err_msg());
	cr_assert(s->has_clock);
	cr_assert_eq(s->clock, 1893553445);
	cr_assert(s->inputs[0].has_sha256);
	cr_assert_eq(s->inputs[0].sha256[31], 1);
	hk_script_free(s);
}

/* The engine's rule over loaded scripts: nothing is staged for revocation
 * after the ARLs are built (hk_ceremony_script_check). The shipped scripts
 * keep it. */
Test(script, no_revocation_after_arl_batch)
{
	static const char *const shipped[] = { "arl-batch", "compromise",
	    "revoke", "rollover", "issue-subca", "cross-certify", "backup",
	    "destroy", "init-root", "responder-certs", "restore",
	    "roster-change", "rotate-shares", NULL };
	static const char y[] =
	    "hanko-ceremony: 1\nname: c\ncps: [\"4-10\"]\n"
	    "roles: {key-manager: quorum, senior-operator: 2}\n"
	    "steps:\n  - id: a\n    action: quorum-activate\n"
	    "    roles: [key-manager]\n  - id: arl\n    action: arl-batch\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    signs: true\n  - id: r\n    action: revoke\n"
	    "    roles: [senior-operator]\n"
	    "    params: {serial: \"01\", reason: superseded}\n"
	    "  - id: c\n    action: arl-commit\n    roles: [senior-operator]\n"
	    "    params: {arl: arl}\n";
	struct hk_script *s = NULL;
	char path[512];
	size_t i;

	for (i = 0; shipped[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/ceremony-scripts/%s.yaml",
		    HANKO_SOURCE_DIR, shipped[i]);
		cr_assert_eq(load(path, &s), 0, "%s", hk_err_msg());
		cr_assert_eq(hk_ceremony_script_check(s), 0, "%s: %s", path,
		    hk_err_msg());
		hk_script_free(s);
		s = NULL;
	}
	cr_assert_eq(load_yaml(y, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_ceremony_script_check(s), HK_ERR_INVALID);
	cr_assert_str_eq(hk_err_msg(), "mem:14:5: steps[2]: revoke after step "
	    "arl (arl-batch): a revocation staged once the ARLs are built is "
	    "on none of them, yet arl-commit would record it (CPS 4-10, "
	    "4-4-9); put it before the arl-batch step");
	hk_script_free(s);
}

Test(script, registry_is_consistent)
{
	const struct hk_action_spec *const *reg;
	size_t n, i, j;

	reg = hk_ceremony_registry(&n);
	cr_assert_geq(n, 7);
	for (i = 0; i < n; i++) {
		cr_assert_not_null(hk_ceremony_action((int)i)->run);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(reg[i]->name, reg[j]->name);
	}
	cr_assert_null(hk_ceremony_action((int)n));
}

Test(script, malformed_corpus)
{
	char line[1024], path[1024], want[64];
	FILE *idx = fopen(HK_TEST_DATA "/script/INDEX", "r");
	int count = 0;

	cr_assert_not_null(idx);
	while (fgets(line, sizeof(line), idx) != NULL) {
		char *file, *ln, *frag;
		struct hk_script *s = NULL;
		const char *m;
		int r;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		file = strtok(line, "\t");
		ln = strtok(NULL, "\t");
		frag = strtok(NULL, "");
		cr_assert(file && ln, "bad INDEX line");
		snprintf(path, sizeof(path), "%s/script/%s", HK_TEST_DATA,
		    file);
		hk_err_clear();
		r = load(path, &s);
		m = hk_err_msg();
		cr_assert_neq(r, 0, "%s accepted", file);
		cr_assert_null(s);
		cr_assert(strncmp(m, path, strlen(path)) == 0,
		    "%s: no file name: %s", file, m);
		cr_assert_null(strchr(m, '\n'), "%s: not one line", file);
		if (atoi(ln) > 0) {
			snprintf(want, sizeof(want), ":%s:", ln);
			cr_assert(strncmp(m + strlen(path), want,
			    strlen(want)) == 0, "%s: wanted line %s: %s", file,
			    ln, m);
		}
		if (frag != NULL && *frag != '\0')
			cr_assert_not_null(strstr(m, frag), "%s: wanted "
			    "\"%s\": %s", file, frag, m);
		count++;
	}
	fclose(idx);
	cr_assert_geq(count, 50, "only %d malformed scripts", count);
}

Test(script, missing_file)
{
	struct hk_script *s = NULL;

	cr_assert_neq(load(HK_TEST_DATA "/script/no-such.yaml", &s), 0);
	cr_assert_null(s);
}

/* The approve step is the CA manager's instruction (CPS 5-2-2): a script
 * whose approve step a senior operator, or nobody, performs would record
 * an approval the CA manager never gave. The shipped scripts keep the rule
 * (no_revocation_after_arl_batch checks them). */
Test(script, approve_is_the_ca_managers)
{
	static const char head[] =
	    "hanko-ceremony: 1\nname: c\ncps: [\"5-2-2\"]\n"
	    "roles: {ca-manager: 1, senior-operator: 1}\n"
	    "steps:\n  - id: x\n    action: input-check\n"
	    "    roles: [senior-operator, ca-manager]\n"
	    "    params: {input: i}\n  - id: ok\n    action: approve\n";
	static const char *const roles[] = {
	    "    roles: [senior-operator]\n", "",
	    "    roles: [senior-operator, ca-manager]\n",
	};
	struct hk_script *s = NULL;
	char y[1024];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(y, sizeof(y), "%s%sinputs:\n  - name: i\n"
		    "    kind: file\n", head, roles[i]);
		cr_assert_eq(load_yaml(y, &s), 0, "%s", hk_err_msg());
		if (i < 2) {
			cr_assert_eq(hk_ceremony_script_check(s),
			    HK_ERR_INVALID, "case %zu accepted", i);
			cr_assert(strstr(hk_err_msg(), "mem:10:5: steps[1]: "
			    "approve without ca-manager in its roles") != NULL,
			    "%s", hk_err_msg());
		} else
			cr_assert_eq(hk_ceremony_script_check(s), 0, "%s",
			    hk_err_msg());
		hk_script_free(s);
		s = NULL;
	}
}

/* A compromise ceremony signs and registers no certificate: compromise-
 * revoke revokes only what issued.txt holds, so an issuing CA certified in
 * the same script would be on no ARL (CPS 4-14-2). The shipped compromise
 * script keeps the rule (no_revocation_after_arl_batch checks them all). */
Test(script, compromise_signs_nothing_else)
{
	static const char y[] =
	    "hanko-ceremony: 1\nname: c\ncps: [\"4-14-2\"]\n"
	    "roles: {key-manager: quorum, senior-operator: 2}\n"
	    "inputs:\n  - name: c\n    kind: csr\n  - name: f\n"
	    "    kind: file\n"
	    "steps:\n  - id: a\n    action: quorum-activate\n"
	    "    roles: [key-manager]\n  - id: q\n    action: csr-check\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    params: {csr: c, kind: issuing, fingerprint: f}\n"
	    "  - id: i\n    action: issue-subca\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    signs: true\n    params: {request: q}\n"
	    "  - id: k\n    action: compromise-revoke\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    params: {generation: 1}\n";
	struct hk_script *s = NULL;

	cr_assert_eq(load_yaml(y, &s), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_ceremony_script_check(s), HK_ERR_INVALID);
	cr_assert(strstr(hk_err_msg(), "steps[1]: csr-check in a script with "
	    "compromise-revoke (step k): CPS 4-14-2") != NULL, "%s",
	    hk_err_msg());
	hk_script_free(s);
}

/* hk_ceremony_script_check looks at the whole script: a step compromise
 * excludes is refused after compromise-revoke as well as before it;
 * compromise-revoke after arl-batch is refused as revoke is; with two
 * arl-batch steps the first one counts. */
Test(script, step_order_whole_script)
{
	static const char head[] =
	    "hanko-ceremony: 1\nname: c\ncps: [\"4-14-2\"]\n"
	    "roles: {key-manager: quorum, senior-operator: 2}\n";
	static const char inputs[] =	/* for csr-check */
	    "inputs:\n  - name: c\n    kind: csr\n  - name: f\n"
	    "    kind: file\n";
	static const char first[] =
	    "steps:\n  - id: a\n    action: quorum-activate\n"
	    "    roles: [key-manager]\n";
	static const char comp[] =
	    "  - id: k\n    action: compromise-revoke\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    params: {generation: 1}\n";
	static const char csr[] =
	    "  - id: q\n    action: csr-check\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    params: {csr: c, kind: issuing, fingerprint: f}\n";
	static const char arl[] =
	    "  - id: arl\n    action: arl-batch\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    signs: true\n";
	static const char arl2[] =
	    "  - id: arl2\n    action: arl-batch\n"
	    "    roles: [senior-operator]\n    dual-control: true\n"
	    "    signs: true\n";
	static const char rev[] =
	    "  - id: r\n    action: revoke\n    roles: [senior-operator]\n"
	    "    params: {serial: \"01\", reason: superseded}\n";
	static const char commit[] =
	    "  - id: m\n    action: arl-commit\n    roles: [senior-operator]\n"
	    "    params: {arl: arl}\n";
	static const struct {
		const char *steps[4];
		const char *want;
	} cases[] = {
		{ { comp, csr, NULL }, "steps[2]: csr-check in a script with "
		    "compromise-revoke (step k): CPS 4-14-2" },
		{ { arl, comp, commit, NULL }, "steps[2]: compromise-revoke "
		    "after step arl (arl-batch): a revocation staged once" },
		{ { arl, rev, arl2, commit }, "steps[2]: revoke after step "
		    "arl (arl-batch): a revocation staged once" },
		{ { rev, comp, arl, commit }, NULL },
	};
	char y[4096];
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hk_script *s = NULL;

		snprintf(y, sizeof(y), "%s%s%s", head, i == 0 ? inputs : "",
		    first);
		for (j = 0; j < 4 && cases[i].steps[j] != NULL; j++)
			strncat(y, cases[i].steps[j], sizeof(y) - strlen(y) - 1);
		cr_assert_eq(load_yaml(y, &s), 0, "case %zu: %s", i,
		    hk_err_msg());
		if (cases[i].want == NULL) {
			cr_assert_eq(hk_ceremony_script_check(s), 0,
			    "case %zu: %s", i, hk_err_msg());
		} else {
			cr_assert_eq(hk_ceremony_script_check(s),
			    HK_ERR_INVALID, "case %zu", i);
			cr_assert(strstr(hk_err_msg(), cases[i].want) != NULL,
			    "case %zu: %s", i, hk_err_msg());
		}
		hk_script_free(s);
	}
}
