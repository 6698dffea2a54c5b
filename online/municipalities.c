/*
 * municipalities.c - strict loader of the municipalities file
 * (municipalities.h, docs/municipalities.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "atomic.h"
#include "clock.h"
#include "err.h"
#include "municipalities.h"

#define HEADER	"code,kind,parent,romaji,kanji,partition,district"
#define HEADER_RETIRED	HEADER ",retired"	/* the optional 8th column */
#define GUN	"\xe9\x83\xa1"	/* 郡 U+90E1 */
#define JST	(9 * 3600)	/* UTC+9, as HK_JST_OFFSET */

int
hk_muni_check_digit(const char *five)
{
	static const int w[5] = { 6, 5, 4, 3, 2 };
	int i, sum = 0, d;

	for (i = 0; i < 5; i++) {
		if (five[i] < '0' || five[i] > '9')
			return -1;
		sum += (five[i] - '0') * w[i];
	}
	d = 11 - sum % 11;
	return d == 10 ? 0 : d == 11 ? 1 : d;
}

int
hk_muni_code_ok(const char *code)
{
	int d;

	if (strlen(code) != 6 || code[5] < '0' || code[5] > '9')
		return 0;
	d = hk_muni_check_digit(code);
	return d >= 0 && d == code[5] - '0';
}

/* UTF-8 well formed (no overlongs, no surrogates), no controls. */
static int
utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, cp, i;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) { s++; continue; }
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
		else return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

static int
romaji_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == ' ' || s[0] == '-' || s[n - 1] == ' ' ||
	    s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || s[i] == ' ' ||
		    s[i] == '-') || (s[i] == ' ' && s[i + 1] == ' '))
			return 0;
	return 1;
}

#define BAD(...) do { hk_err_set(__VA_ARGS__); r = HK_ERR_INVALID; \
	goto out; } while (0)

/* A calendar day YYYY-MM-DD (1970 on) as 00:00 of that day in Japan. */
static int
day_parse(const char *s, time_t *out)
{
	char iso[32];
	size_t i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return HK_ERR_PARSE;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return HK_ERR_PARSE;
	snprintf(iso, sizeof(iso), "%sT00:00:00Z", s);
	if (hk_time_parse(iso, out) != 0)	/* also Feb 30, month 13 */
		return HK_ERR_PARSE;
	*out -= JST;
	return 0;
}

/* One row of cols fields (7, or 8 with the retired column). */
static int
parse_row(const char *path, size_t line, char *text, size_t cols,
    struct hk_muni *m)
{
	char *f[8], *p = text;
	size_t nf = 0, len;
	int r = 0;

	memset(m, 0, sizeof(*m));
	for (;;) {
		if (nf == cols)
			BAD("%s:%zu: more than %zu fields (no commas inside "
			    "fields)", path, line, cols);
		f[nf++] = p;
		if ((p = strchr(p, ',')) == NULL)
			break;
		*p++ = '\0';
	}
	if (nf != cols)
		BAD("%s:%zu: %zu fields, expected %zu (%s)", path, line, nf,
		    cols, cols == 8 ? HEADER_RETIRED : HEADER);
	for (size_t i = 0; i < nf; i++) {
		len = strlen(f[i]);
		if (len >= HK_MUNI_NAME_MAX)
			BAD("%s:%zu: field %zu: longer than %d bytes", path,
			    line, i + 1, HK_MUNI_NAME_MAX - 1);
		if (len > 0 && (f[i][0] == ' ' || f[i][len - 1] == ' ' ||
		    f[i][0] == '"'))
			BAD("%s:%zu: field %zu: no blanks around a field and "
			    "no quoting", path, line, i + 1);
	}
	if (!hk_muni_code_ok(f[0]))
		BAD("%s:%zu: code: \"%s\" is not 6 digits ending in the "
		    "check digit of the first 5 (JIS X 0402 style, weights "
		    "6,5,4,3,2)", path, line, f[0]);
	snprintf(m->code, sizeof(m->code), "%s", f[0]);
	if (strcmp(f[1], "city") == 0)
		m->kind = HK_MUNI_CITY;
	else if (strcmp(f[1], "town") == 0)
		m->kind = HK_MUNI_TOWN;
	else if (strcmp(f[1], "village") == 0)
		m->kind = HK_MUNI_VILLAGE;
	else if (strcmp(f[1], "ward") == 0)
		m->kind = HK_MUNI_WARD;
	else
		BAD("%s:%zu: kind: \"%s\" is not city, town, village or ward",
		    path, line, f[1]);
	if (m->kind == HK_MUNI_WARD) {
		if (!hk_muni_code_ok(f[2]))
			BAD("%s:%zu: parent: a ward names its city's code",
			    path, line);
		snprintf(m->parent, sizeof(m->parent), "%s", f[2]);
	} else if (f[2][0] != '\0')
		BAD("%s:%zu: parent: only a ward has a parent", path, line);
	if (!romaji_ok(f[3]))
		BAD("%s:%zu: romaji: \"%s\" must be letters, single blanks "
		    "and hyphens", path, line, f[3]);
	/* the partition CN of the highest issuing generation, "<romaji>
	 * CRLDP 999", within ub-common-name (64, RFC 5280 appendix A) */
	if (strlen(f[3]) > HK_MUNI_ROMAJI_MAX)
		BAD("%s:%zu: romaji: \"%s\" has %zu characters; at most %d, "
		    "so that the partition CN \"<romaji> CRLDP <generation>\" "
		    "fits in 64", path, line, f[3], strlen(f[3]),
		    HK_MUNI_ROMAJI_MAX);
	snprintf(m->romaji, sizeof(m->romaji), "%s", f[3]);
	if (f[4][0] == '\0' || !utf8_ok((unsigned char *)f[4]))
		BAD("%s:%zu: kanji: must be non-empty UTF-8", path, line);
	snprintf(m->kanji, sizeof(m->kanji), "%s", f[4]);
	if (strcmp(f[5], "yes") == 0)
		m->partition = 1;
	else if (strcmp(f[5], "no") != 0)
		BAD("%s:%zu: partition: \"%s\" is not yes or no", path, line,
		    f[5]);
	if (m->kind == HK_MUNI_WARD && !m->partition)
		BAD("%s:%zu: partition: a ward is listed only to be a "
		    "partition", path, line);
	/* a town or village lies in a district (郡), which the address of
	 * the resident register names before it; a city or ward never */
	len = strlen(f[6]);
	if ((m->kind == HK_MUNI_TOWN || m->kind == HK_MUNI_VILLAGE) &&
	    (len <= strlen(GUN) || strcmp(f[6] + len - strlen(GUN), GUN) !=
	    0 || !utf8_ok((unsigned char *)f[6])))
		BAD("%s:%zu: district: a town or village names its district, "
		    "UTF-8 ending in %s (such as 上益城%s)", path, line, GUN,
		    GUN);
	if ((m->kind == HK_MUNI_CITY || m->kind == HK_MUNI_WARD) && len > 0)
		BAD("%s:%zu: district: only a town or village lies in a "
		    "district", path, line);
	snprintf(m->district, sizeof(m->district), "%s", f[6]);
	/* docs/municipalities.md, "A merger or a rename": the first day
	 * the code issues nothing; the row stays a partition (CPS 4-4-9) */
	if (cols == 8 && f[7][0] != '\0') {
		if (day_parse(f[7], &m->retired) != 0)
			BAD("%s:%zu: retired: \"%s\" is not a day YYYY-MM-DD "
			    "(1970 or later; empty while the code issues)", path,
			    line, f[7]);
		if (!m->partition)
			BAD("%s:%zu: retired: only a partition row issues, so "
			    "only one is retired (a city with wards: retire "
			    "its wards); a retired row stays partition yes "
			    "until its last certificate expires (CPS 4-4-9)",
			    path, line);
		snprintf(m->retired_day, sizeof(m->retired_day), "%s", f[7]);
	}
 out:
	return r;
}

/* Rules across rows. */
static int
check_all(const char *path, struct hk_munis *ms)
{
	size_t i, j;
	int r = 0, wards;

	for (i = 0; i < ms->n; i++) {
		const struct hk_muni *a = &ms->m[i];
		if (strncmp(a->code, ms->m[0].code, 2) != 0)
			BAD("%s:%zu: code: %s: prefecture %.2s differs from "
			    "the first row's %.2s", path, a->line, a->code,
			    a->code, ms->m[0].code);
		for (j = 0; j < i; j++) {
			if (strcmp(a->code, ms->m[j].code) == 0)
				BAD("%s:%zu: code: %s listed twice (line %zu)",
				    path, a->line, a->code, ms->m[j].line);
			/* partition DNs match ignoring case (RFC 5280 7.1,
			 * RFC 4518; OpenSSL, LDAP): "A-shi" and "a-SHI"
			 * would name one partition */
			if (strcasecmp(a->romaji, ms->m[j].romaji) == 0)
				BAD("%s:%zu: romaji: \"%s\" also names %s "
				    "(line %zu): partition names must be unique, "
				    "ignoring case (RFC 5280 7.1)", path,
				    a->line, a->romaji, ms->m[j].code,
				    ms->m[j].line);
		}
		if (a->kind == HK_MUNI_WARD) {
			const struct hk_muni *p = hk_munis_find(ms, a->parent);
			if (p == NULL || p->kind != HK_MUNI_CITY)
				BAD("%s:%zu: parent: %s is not a city of the "
				    "file", path, a->line, a->parent);
			if (p->partition)
				BAD("%s:%zu: parent: city %s (line %zu) is a "
				    "partition itself; a city is partitioned "
				    "whole or by ward, not both", path, a->line,
				    p->code, p->line);
		} else {
			ms->municipalities++;
			wards = 0;
			for (j = 0; j < ms->n; j++)
				wards += ms->m[j].kind == HK_MUNI_WARD &&
				    strcmp(ms->m[j].parent, a->code) == 0;
			if (!a->partition && wards == 0)
				BAD("%s:%zu: partition: a municipality "
				    "without wards must be a partition", path,
				    a->line);
		}
		ms->partitions += a->partition != 0;
	}
 out:
	return r;
}

int
hk_munis_load(const char *path, struct hk_munis **out)
{
	struct hk_munis *ms = NULL;
	unsigned char *buf = NULL;
	size_t len, line = 0, cols = 0;
	char *p, *nl;
	int r;

	*out = NULL;
	if ((r = hk_file_read(path, 1 << 20, &buf, &len)) != 0)
		return r;
	if (strlen((char *)buf) != len) {
		hk_err_set("%s: a NUL byte in the file", path);
		r = HK_ERR_PARSE;
		goto out;
	}
	if (len == 0 || buf[len - 1] != '\n') {
		hk_err_set("%s: the last line must end in a newline", path);
		r = HK_ERR_PARSE;
		goto out;
	}
	if ((ms = calloc(1, sizeof(*ms))) == NULL ||
	    (ms->m = calloc(HK_MUNI_MAX, sizeof(*ms->m))) == NULL) {
		r = HK_ERR_ALLOC;
		goto out;
	}
	for (p = (char *)buf; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		line++;
		if (nl > p && nl[-1] == '\r') {
			hk_err_set("%s:%zu: CR before LF; lines end in LF only",
			    path, line);
			r = HK_ERR_PARSE;
			goto out;
		}
		if (*p == '#' || *p == '\0')
			continue;
		if (line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0) {
			/* what spreadsheets write: the header then looks
			 * right on the screen, so name it */
			hk_err_set("%s:1: a byte order mark (BOM) before the "
			    "header; save the file as UTF-8 without a BOM",
			    path);
			r = HK_ERR_PARSE;
			goto out;
		}
		if (cols == 0) {
			if (strcmp(p, HEADER) == 0)
				cols = 7;
			else if (strcmp(p, HEADER_RETIRED) == 0)
				cols = 8;
			else {
				hk_err_set("%s:%zu: the first line must be "
				    "\"%s\" or, with the retired column, "
				    "\"%s\"", path, line, HEADER,
				    HEADER_RETIRED);
				r = HK_ERR_PARSE;
				goto out;
			}
			continue;
		}
		if (ms->n == HK_MUNI_MAX) {
			hk_err_set("%s:%zu: more than %d rows", path, line,
			    HK_MUNI_MAX);
			r = HK_ERR_INVALID;
			goto out;
		}
		if ((r = parse_row(path, line, p, cols, &ms->m[ms->n])) != 0)
			goto out;
		ms->m[ms->n++].line = line;
	}
	if (ms->n == 0) {
		hk_err_set("%s: no municipality listed", path);
		r = HK_ERR_INVALID;
		goto out;
	}
	if ((r = check_all(path, ms)) != 0)
		goto out;
	*out = ms;
	ms = NULL;
 out:
	hk_munis_free(ms);
	free(buf);
	return r;
}

const struct hk_muni *
hk_munis_find(const struct hk_munis *ms, const char *code)
{
	size_t i;

	for (i = 0; ms != NULL && i < ms->n; i++)
		if (strcmp(ms->m[i].code, code) == 0)
			return &ms->m[i];
	return NULL;
}

int
hk_muni_issuing(const struct hk_muni *m, time_t now)
{
	return m->retired == 0 || now < m->retired;
}

void
hk_munis_free(struct hk_munis *ms)
{
	if (ms == NULL)
		return;
	free(ms->m);
	free(ms);
}
