/* fuzz_request.c - libFuzzer target for the residents' request parser
 * (online/request.c, docs/requests.md): the input is one request line, and
 * also a header line, parsed with a fixed context: the repository's
 * municipalities, the default profile, a fixed clock, and
 * test/data/requests as the batch folder so that key paths resolve to the
 * real key files. Beyond "no crash, no leak" it checks what a refusal must
 * say: "fuzz.csv:<line>: <field>: <rule>", with one of the nine fields,
 * "line" or "header", and that nothing is handed out on a refusal. Build
 * with -DHANKO_FUZZ=ON and clang (test/fuzz/run.sh); seeds:
 * corpus/request/ (lines of valid.csv and invalid.csv). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "municipalities.h"
#include "profile.h"
#include "request.h"

#define REQ_DIR	HANKO_SOURCE_DIR "/test/data/requests"
#define MUNIS	HANKO_SOURCE_DIR "/online/data/municipalities-kumamoto.csv"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hk_munis *munis;		/* kept for the whole run */
static struct hk_profile *prof;		/* the default profile */
static struct hk_request_ctx ctx;

static void
setup(void)
{
	if (hk_munis_load(MUNIS, &munis) != 0 || hk_profile_default(&prof) != 0)
		abort();
	ctx.input = "fuzz.csv";
	ctx.basedir = REQ_DIR;
	ctx.munis = munis;
	ctx.p = prof;
	if (hk_time_parse("2026-04-02T10:00:00Z", &ctx.now) != 0)
		abort();
}

/* The refusal names the file, the line, a field, then a rule. */
static void
check_refusal(const char *prefix)
{
	static const char *const fields[] = { "line", "municipality",
	    "resident_id", "name", "name_flags", "birth", "gender", "address",
	    "address_flags", "key", "header" };
	const char *m = hk_err_msg();
	size_t i, pl = strlen(prefix), fl;

	if (strncmp(m, prefix, pl) != 0)
		abort();
	m += pl;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		fl = strlen(fields[i]);
		if (strncmp(m, fields[i], fl) == 0 && m[fl] == ':' &&
		    m[fl + 1] == ' ' && m[fl + 2] != '\0')
			return;
	}
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_request req;
	char *s;

	if (munis == NULL)
		setup();
	if (hk_request_parse_bytes(&ctx, 2, (const char *)data, size,
	    &req) == 0) {
		if (req.key == NULL || req.muni == NULL ||
		    strlen(req.resident_id) != HK_REQ_ID_LEN ||
		    strlen(req.b4.birth) != 9 || req.line != 2)
			abort();
		hk_request_clear(&req);
	} else {
		if (req.key != NULL || req.muni != NULL)
			abort();
		check_refusal("fuzz.csv:2: ");
	}
	/* the same bytes as the header (a C string: up to a NUL) */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (hk_request_header(&ctx, s) != 0)
		check_refusal("fuzz.csv:1: ");
	free(s);
	hk_err_clear();
	return 0;
}
