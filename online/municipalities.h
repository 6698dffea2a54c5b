/*
 * municipalities.h - the municipalities of the prefecture and their CRL
 * partitions (docs/municipalities.md), from a CSV file the operator edits:
 *
 *   code,kind,parent,romaji,kanji,partition,district
 *   431001,city,,Kumamoto-shi,熊本市,no,
 *   431010,ward,431001,Kumamoto-shi Chuo-ku,熊本市中央区,yes,
 *   434434,town,,Mashiki-machi,益城町,yes,上益城郡
 *
 * Loaded strictly: that header first; '#' comment lines and blank lines
 * allowed; exactly seven fields, no quoting, no blanks around fields; code
 * six digits whose last is the check digit; one prefecture for all; codes
 * unique, and romaji names unique ignoring case (partition DNs are matched
 * so: RFC 5280 7.1, RFC 4518); kind city, town, village or ward; a ward's parent
 * a city of the file that is not itself a partition; romaji [A-Za-z -]
 * of at most HK_MUNI_ROMAJI_MAX (it becomes "CN=<romaji> CRLDP", or
 * "CN=<romaji> CRLDP <g>" for issuing generation g); kanji non-empty UTF-8;
 * district (郡, part of a town's or village's address in the resident
 * register) non-empty UTF-8 ending in 郡 for a town or village, empty for
 * a city or ward.
 *
 * The header may instead end in ",retired" (every row then has eight
 * fields): retired empty while the code issues, or YYYY-MM-DD, the first
 * day (JST) on which it issues no certificate (a merger: the residents
 * apply at another municipality since; CPS 4-1-1, 4-2-1). Only a
 * partition row may be retired; it stays a partition (its CRL is
 * published until its last certificate expires: CPS 4-4-9).
 */
#ifndef HK_MUNICIPALITIES_H
#define HK_MUNICIPALITIES_H

#include <stddef.h>
#include <time.h>

#define HK_MUNI_MAX		512	/* rows in a file */
#define HK_MUNI_NAME_MAX	64	/* bytes of a name, incl. NUL */
#define HK_MUNI_ROMAJI_MAX	54	/* "<romaji> CRLDP 999" <= 64 */

enum hk_muni_kind { HK_MUNI_CITY, HK_MUNI_TOWN, HK_MUNI_VILLAGE,
    HK_MUNI_WARD };

struct hk_muni {
	char code[7];			/* 6 digits incl. check digit */
	enum hk_muni_kind kind;
	char parent[7];			/* the city of a ward; "" otherwise */
	char romaji[HK_MUNI_NAME_MAX];	/* for the partition DN */
	char kanji[HK_MUNI_NAME_MAX];	/* Japanese name */
	char district[HK_MUNI_NAME_MAX]; /* a town's or village's 郡; "" */
	int partition;			/* 1: a CRL partition of its own */
	time_t retired;			/* 0: issuing; else 00:00 JST of the
					 * first day it issues nothing */
	char retired_day[11];		/* that day, YYYY-MM-DD; "" */
	size_t line;			/* its line in the file, for messages */
};

struct hk_munis {
	size_t n;			/* rows */
	struct hk_muni *m;		/* in file order */
	size_t municipalities;		/* rows that are not wards */
	size_t partitions;		/* rows with partition yes */
};

/* The check digit of the 5-digit code (weights 6,5,4,3,2; 11 - sum mod
 * 11; 10 -> 0, 11 -> 1), or -1 when five is not 5 digits. */
int hk_muni_check_digit(const char *five);
/* 1 if code is 6 digits with a correct check digit, else 0. */
int hk_muni_code_ok(const char *code);
int hk_munis_load(const char *path, struct hk_munis **out);
const struct hk_muni *hk_munis_find(const struct hk_munis *m,
    const char *code);
/* 1 if m issues certificates at now (not retired, or retired later). */
int hk_muni_issuing(const struct hk_muni *m, time_t now);
void hk_munis_free(struct hk_munis *m);

#endif
