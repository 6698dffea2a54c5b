/* test_request.c - residents' requests (online/request.c): every line of
 * test/data/requests/invalid.csv refused with its line and the expected
 * rule; every line of valid.csv accepted; the rules alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "clock.h"
#include "err.h"
#include "municipalities.h"
#include "profile.h"
#include "request.h"

#define REQ_DIR		HK_TEST_DATA "/requests"
#define MUNIS		HK_TEST_DATA "/../../online/data/municipalities-kumamoto.csv"

static struct hk_munis *munis;
static struct hk_profile *p;
static struct hk_request_ctx ctx;

static void
setup(void)
{
	cr_assert_eq(hk_munis_load(MUNIS, &munis), 0, "%s", hk_err_msg());
	cr_assert_eq(hk_profile_default(&p), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.basedir = REQ_DIR;
	ctx.munis = munis;
	ctx.p = p;
	cr_assert_eq(hk_time_parse("2026-04-02T10:00:00Z", &ctx.now), 0);
}

static void
teardown(void)
{
	hk_munis_free(munis);
	hk_profile_free(p);
}

TestSuite(request, .init = setup, .fini = teardown);

Test(request, every_invalid_line_refused_with_its_rule)
{
	FILE *f = fopen(REQ_DIR "/invalid.csv", "r");
	char *line = NULL, *tab, *rule, want[128];
	size_t cap = 0, ln = 0, cases = 0;
	ssize_t n;
	struct hk_request req;

	cr_assert_not_null(f);
	ctx.input = "invalid.csv";
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#')
			continue;
		cr_assert_not_null(tab = strchr(line, '\t'), "line %zu", ln);
		*tab = '\0';
		/* "<field>: <rule fragment>" */
		cr_assert_not_null(rule = strstr(line, ": "), "line %zu", ln);
		*rule = '\0';
		rule += 2;
		cr_assert_neq(hk_request_parse(&ctx, ln, tab + 1, &req), 0,
		    "invalid.csv:%zu accepted (expected: %s)", ln, rule);
		snprintf(want, sizeof(want), "invalid.csv:%zu: %s: ", ln, line);
		cr_assert_eq(strncmp(hk_err_msg(), want, strlen(want)), 0,
		    "message does not start with \"%s\": %s", want,
		    hk_err_msg());
		cr_assert_not_null(strstr(hk_err_msg() + strlen(want), rule),
		    "invalid.csv:%zu: expected \"%s\", got: %s", ln, rule,
		    hk_err_msg());
		cr_assert_null(req.key);
		cases++;
	}
	free(line);
	fclose(f);
	cr_assert_geq(cases, 100, "only %zu invalid cases", cases);
}

Test(request, every_valid_line_accepted)
{
	FILE *f = fopen(REQ_DIR "/valid.csv", "r");
	char *line = NULL;
	size_t cap = 0, ln = 0;
	ssize_t n;
	struct hk_request req;

	cr_assert_not_null(f);
	ctx.input = "valid.csv";
	while ((n = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (ln == 1) {
			cr_assert_eq(hk_request_header(&ctx, line), 0);
			continue;
		}
		cr_assert_eq(hk_request_parse(&ctx, ln, line, &req), 0,
		    "%s", hk_err_msg());
		cr_assert_not_null(req.key);
		cr_assert_eq(req.line, ln);
		cr_assert_eq(strlen(req.resident_id), 11);
		cr_assert_eq(strlen(req.b4.birth), 9);
		hk_request_clear(&req);
	}
	free(line);
	fclose(f);
	cr_assert_eq(ln, 7);
}

Test(request, header_exact)
{
	ctx.input = "b.csv";
	cr_assert_eq(hk_request_header(&ctx, "municipality,resident_id"),
	    HK_ERR_PARSE);
	cr_assert_str_eq(hk_err_msg(), "b.csv:1: header: docs/requests.md: "
	    "the first line must be \"" HK_REQ_HEADER "\"");
}

Test(request, legacy_rsa1024_only_when_the_profile_allows)
{
	char line[1024];
	struct hk_request req;

	ctx.input = "r.csv";
	snprintf(line, sizeof(line), "431010,12345678901,熊本　太郎,00000,"
	    "319750301,1,熊本県熊本市中央区水前寺６丁目,000000000000000,"
	    "keys/rsa-1024.pub.pem");
	cr_assert_eq(hk_request_parse(&ctx, 2, line, &req), HK_ERR_INVALID);
	p->user_allow_rsa1024 = 1;
	cr_assert_eq(hk_request_parse(&ctx, 2, line, &req), 0, "%s",
	    hk_err_msg());
	hk_request_clear(&req);
}

Test(request, era_boundaries)
{
	static const char *ok[] = { "118680125", "119120729", "219120730",
	    "219261224", "319261225", "319890107", "419890108", "419920229",
	    "420190430", "520190501", "520260401", "019500000", "019500300",
	    "018680101" };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert_eq(hk_request_birth_ok(ok[i], ctx.now, why,
		    sizeof(why)), 0, "%s: %s", ok[i], why);
	cr_assert_neq(hk_request_birth_ok("520260403", ctx.now, why,
	    sizeof(why)), 0);
	cr_assert_str_eq(why, "2026-04-03 is in the future");
}

Test(request, jis_sets)
{
	/* PROFILE.md: 鷗 and 丂 in JIS X 0212; 髙 﨑 𠮷 Ⅰ ① in neither */
	static const char *yes[] = { "熊本", "鷗", "丂", "ア", "ー", "　", "６",
	    "Ａ", "α", "Д" };
	static const char *no[] = { "髙", "﨑", "𠮷", "Ⅰ", "①", "ｱ", "A", " ",
	    "\xff", "\xe3\x80" };
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert_eq(hk_request_jis_ok(yes[i], why, sizeof(why)), 0,
		    "%s: %s", yes[i], why);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_eq(hk_request_jis_ok(no[i], why, sizeof(why)),
		    HK_ERR_INVALID, "%s accepted", no[i]);
}
