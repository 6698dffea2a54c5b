/* clock.c - a settable UTC clock and RFC 3339 time helpers. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"

static time_t hk_fixed;		/* the set time, valid when hk_is_fixed */
static int hk_is_fixed;

time_t
hk_clock_now(void)
{
	if (hk_is_fixed)
		return hk_fixed;
	return time(NULL);
}

void
hk_clock_set(time_t t)
{
	hk_fixed = t;
	hk_is_fixed = 1;
}

void
hk_clock_unset(void)
{
	hk_is_fixed = 0;
}

int
hk_clock_is_set(void)
{
	return hk_is_fixed;
}

int
hk_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	int n = 0;
	time_t t;

	*out = 0;
	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strlen(s) != 20)
		return HK_ERR_PARSE;
	/* digits where digits go: sscanf's %d would also take " 9" or "+9"
	 * for "09" (a --clock or a script's clock: that time, in silence) */
	for (n = 0; n < 20; n++)
		if (("dddd-dd-ddTdd:dd:ddZ"[n] == 'd') !=
		    (s[n] >= '0' && s[n] <= '9'))
			return HK_ERR_PARSE;
	n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 20)
		return HK_ERR_PARSE;
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59 ||
	    tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
		return HK_ERR_PARSE;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	{
		int mday = tm.tm_mday;
		t = timegm(&tm);
		if (t == (time_t)-1 || tm.tm_mday != mday)	/* e.g. Feb 30 */
			return HK_ERR_PARSE;
	}
	*out = t;
	return 0;
}

void
hk_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "invalid-time");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Japan's offset from UTC: the calendar the CPS counts years in. */
#define HK_CLOCK_JST	(9 * 3600)

time_t
hk_time_add_years(time_t t, int years)
{
	struct tm tm;
	time_t j = t + HK_CLOCK_JST, r;

	/* On Japan's calendar, not UTC's (CPS 1-3-2: 発行日の 3 年後, the
	 * day of issue in Japan): the two differ only on Feb 29, whose
	 * 15:00Z-23:59Z is Mar 1 in Japan, 3 years on Mar 1 (JST), not
	 * the Mar 2 (JST) that UTC's Feb 29 becomes. Fixed offset: the
	 * same whatever TZ says. */
	if (gmtime_r(&j, &tm) == NULL)
		return (time_t)-1;
	tm.tm_year += years;
	/* timegm normalises Feb 29 of a common year to Mar 1. */
	if ((r = timegm(&tm)) == (time_t)-1)
		return (time_t)-1;
	return r - HK_CLOCK_JST;
}
