/* fuzz_munis.c - libFuzzer target for the municipalities file
 * (online/municipalities.c: hk_munis_load, docs/municipalities.md), the
 * CSV the operator edits. The input is the whole file. Beyond "no crash,
 * no leak": a refusal names the file; a file loaded keeps every rule of
 * municipalities.h (codes with their check digit, unique; one prefecture;
 * a ward's parent a city of the file that is no partition; romaji and
 * kanji as documented; the counts), so a bad row never reaches the
 * partitions. Seeds: corpus/munis/ (online/data/municipalities-kumamoto.csv
 * and small variants). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "municipalities.h"
#include "fuzz_tmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;
static char path[128];

static void
setup(void)
{
	dir = fuzz_tmp_dir("fuzz_munis");
	snprintf(path, sizeof(path), "%s/municipalities.csv", dir);
}

static int
romaji_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HK_MUNI_ROMAJI_MAX || s[0] == ' ' || s[0] == '-' ||
	    s[n - 1] == ' ' || s[n - 1] == '-' || strstr(s, "  ") != NULL)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    " -") == n;
}

static void
check(const struct hk_munis *ms)
{
	size_t i, j, munis = 0, parts = 0, wards;

	if (ms->n == 0 || ms->n > HK_MUNI_MAX)
		abort();
	for (i = 0; i < ms->n; i++) {
		const struct hk_muni *a = &ms->m[i];
		if (!hk_muni_code_ok(a->code) || hk_munis_find(ms, a->code) !=
		    a || strncmp(a->code, ms->m[0].code, 2) != 0 ||
		    !romaji_ok(a->romaji) || a->kanji[0] == '\0' ||
		    a->line == 0 || (i > 0 && a->line <= ms->m[i - 1].line))
			abort();
		for (j = 0; j < i; j++)
			if (strcasecmp(a->romaji, ms->m[j].romaji) == 0)
				abort();
		if ((a->retired != 0) != (a->retired_day[0] != '\0') ||
		    (a->retired != 0 && !a->partition))
			abort();
		switch (a->kind) {
		case HK_MUNI_WARD: {
			const struct hk_muni *p = hk_munis_find(ms, a->parent);
			if (p == NULL || p->kind != HK_MUNI_CITY ||
			    p->partition || !a->partition ||
			    a->district[0] != '\0')
				abort();
			break;
		}
		case HK_MUNI_CITY:
			if (a->parent[0] != '\0' || a->district[0] != '\0')
				abort();
			break;
		case HK_MUNI_TOWN:
		case HK_MUNI_VILLAGE:
			if (a->parent[0] != '\0' || a->district[0] == '\0')
				abort();
			break;
		default:
			abort();
		}
		if (a->kind != HK_MUNI_WARD) {
			munis++;
			for (wards = 0, j = 0; j < ms->n; j++)
				wards += ms->m[j].kind == HK_MUNI_WARD &&
				    strcmp(ms->m[j].parent, a->code) == 0;
			if (!a->partition && wards == 0)
				abort();
		}
		parts += a->partition != 0;
	}
	if (munis != ms->municipalities || parts != ms->partitions)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hk_munis *ms = NULL;
	FILE *f;

	if (dir == NULL)
		setup();
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (hk_munis_load(path, &ms) == 0) {
		check(ms);
		hk_munis_free(ms);
	} else if (ms != NULL || strncmp(hk_err_msg(), path,
	    strlen(path)) != 0)
		abort();
	hk_err_clear();
	return 0;
}
