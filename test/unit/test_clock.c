/* test_clock.c - the settable clock and its time arithmetic (DESIGN.md 8). */
#include <criterion/criterion.h>
#include <string.h>

#include "clock.h"
#include "err.h"

Test(clock, set_and_unset)
{
	time_t t;

	cr_assert_eq(hk_time_parse("2026-04-01T00:00:00Z", &t), 0);
	hk_clock_set(t);
	cr_assert(hk_clock_is_set());
	cr_assert_eq(hk_clock_now(), t);
	cr_assert_eq(hk_clock_now(), t, "a set clock does not move");
	hk_clock_unset();
	cr_assert_not(hk_clock_is_set());
	cr_assert_gt(hk_clock_now(), t - 1000000000, "back to the system clock");
}

Test(clock, parse_and_format_round_trip)
{
	static const char *good[] = { "1970-01-01T00:00:00Z",
	    "2026-04-01T09:00:00Z", "2049-12-31T23:59:59Z",
	    "2050-01-01T00:00:00Z", "2028-02-29T12:34:56Z" };
	char buf[32];
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(hk_time_parse(good[i], &t), 0, "%s", good[i]);
		hk_time_format(t, buf, sizeof(buf));
		cr_assert_str_eq(buf, good[i]);
	}
}

Test(clock, parse_refuses)
{
	static const char *bad[] = { "", "2026-04-01", "2026-04-01T00:00:00",
	    "2026-04-01T00:00:00+09:00", "2026-13-01T00:00:00Z",
	    "2027-02-29T00:00:00Z", "2026-02-30T00:00:00Z",
	    "2026-04-01T24:00:00Z", "2026-04-01T00:60:00Z",
	    "2026-04-01 00:00:00Z", "2026-04-01T00:00:00Zx", "1969-12-31T23:59:59Z",
	    /* sscanf's %d takes a space or a sign before a digit */
	    "2026-04-01T 9:00:00Z", "2026-04-+1T09:00:00Z", "2026-04-01T09:00:-0Z",
	    " 026-04-01T09:00:00Z" };
	time_t t = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(hk_time_parse(bad[i], &t), HK_ERR_PARSE, "%s", bad[i]);
		cr_assert_eq(t, 0, "output cleared for %s", bad[i]);
	}
}

Test(clock, add_years)
{
	time_t t, u, want;

	hk_time_parse("2026-04-01T09:00:00Z", &t);
	hk_time_parse("2036-04-01T09:00:00Z", &want);
	cr_assert_eq(hk_time_add_years(t, 10), want);
	/* Feb 29 plus a year is Mar 1 of the common year. */
	hk_time_parse("2028-02-29T00:00:00Z", &t);
	hk_time_parse("2029-03-01T00:00:00Z", &want);
	cr_assert_eq(hk_time_add_years(t, 1), want);
	hk_time_parse("2032-02-29T00:00:00Z", &want);
	u = hk_time_add_years(t, 4);
	cr_assert_eq(u, want, "leap year to leap year keeps Feb 29");
}

/* Years are counted on Japan's calendar (CPS 1-3-2: 発行日の 3 年後):
 * 2028-02-29T15:30:00Z is 2028-03-01 00:30 in Japan, 3 years on is
 * 2031-03-01 00:30 JST (2031-02-28T15:30:00Z), not UTC's Feb 29 made
 * Mar 1 15:30Z, which is Mar 2 in Japan (a day over the term). */
Test(clock, add_years_counts_in_japan)
{
	time_t t, want;

	hk_time_parse("2028-02-29T15:30:00Z", &t);
	hk_time_parse("2031-02-28T15:30:00Z", &want);
	cr_assert_eq(hk_time_add_years(t, 3), want,
	    "Mar 1 (JST) plus 3 years is Mar 1 (JST)");
	/* 2028-02-29 14:59:59Z is still Feb 29 in Japan: Mar 1 of 2031 */
	hk_time_parse("2028-02-29T14:59:59Z", &t);
	hk_time_parse("2031-03-01T14:59:59Z", &want);
	cr_assert_eq(hk_time_add_years(t, 3), want);
	/* Feb 28 15:00Z is Feb 29 in Japan: Mar 1 00:00 JST of 2031 */
	hk_time_parse("2028-02-28T15:00:00Z", &t);
	hk_time_parse("2031-02-28T15:00:00Z", &want);
	cr_assert_eq(hk_time_add_years(t, 3), want);
	/* and to a leap year Feb 29 (JST) stays */
	hk_time_parse("2028-02-28T15:00:00Z", &t);
	hk_time_parse("2032-02-28T15:00:00Z", &want);
	cr_assert_eq(hk_time_add_years(t, 4), want);
}
