/*
 * clock.h - the one clock of hanko (DESIGN.md section 8).
 *
 * Real runs read the system clock. Tests and rehearsals set it explicitly
 * (hk_clock_set), so that a 10-year validity or a 5-year rollover is checked
 * in milliseconds. Once set, the clock stays fixed until set again.
 */
#ifndef HK_CLOCK_H
#define HK_CLOCK_H

#include <time.h>

time_t hk_clock_now(void);
void hk_clock_set(time_t t);
void hk_clock_unset(void);
int hk_clock_is_set(void);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (UTC only). 0 or HK_ERR_PARSE. */
int hk_time_parse(const char *s, time_t *out);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void hk_time_format(time_t t, char *buf, size_t len);
/* t plus whole calendar years of Japan (JST, UTC+9, no summer time: the
 * CPS counts validity from the day of issue in Japan); Feb 29 (JST)
 * becomes Mar 1 in a common year. */
time_t hk_time_add_years(time_t t, int years);

#endif
