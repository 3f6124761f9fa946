/*
 * NAME
 *	gcra.c - the Generic Cell Rate Algorithm with exact burst semantics
 * DESCRIPTION
 *	A limit of N units (messages or recipients) per period P with a
 *	burst B (default B = N) is kept, per key, as one number: the
 *	theoretical arrival time TAT, the time at which the key would be
 *	back to "nothing owed" if units kept arriving at exactly the
 *	allowed rate.  With the emission interval T = P / N (rounded up to
 *	the microsecond, so rounding can only slow the rate, never raise
 *	it) and the tolerance tau = (B - 1) * T:
 *
 *	    base = max(TAT, now)
 *	    n units conform  iff  base + n*T - now <= tau + T
 *	    after taking them:    TAT = base + n*T
 *
 *	so the most that conform at once is
 *
 *	    floor((tau + T - (base - now)) / T)
 *
 *	which is exactly B for a key that is idle (TAT <= now: base = now),
 *	B - 1 right after one unit, and so on: "3/minute" lets 3 through at
 *	once, then one every 20 s.  The next unit conforms at
 *
 *	    next = max(now, TAT - tau).
 *
 *	Guarantee: in any interval of length L, at most B + floor(L / T)
 *	units pass, and over a long run the rate tends to N / P.  A key
 *	whose TAT is in the past carries no information (it behaves as a
 *	fresh one), which is why the state file may forget it.
 *
 *	Arithmetic is on int64 microseconds: a day is 8.64e10 us, so with
 *	B <= 1e6 every product stays below 2^63.
 *
 *	Rates are written "N/UNIT" with UNIT second, minute, hour or day
 *	(also s, sec, m, min, h, d and plurals), N from 1 to 1e9.
 * DIAGNOSTICS
 *	gcra_parse_rate() and gcra_limit_set() return -1 on a bad value,
 *	with a reason for gcra_parse_rate().
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gcra.h"

static const struct {
	const char *name;
	int64_t	 us;
} units[] = {
	{ "s", 1000000LL }, { "sec", 1000000LL }, { "second", 1000000LL },
	{ "seconds", 1000000LL },
	{ "m", 60000000LL }, { "min", 60000000LL }, { "minute", 60000000LL },
	{ "minutes", 60000000LL },
	{ "h", 3600000000LL }, { "hour", 3600000000LL },
	{ "hours", 3600000000LL },
	{ "d", 86400000000LL }, { "day", 86400000000LL },
	{ "days", 86400000000LL },
};

int
gcra_parse_rate(const char *s, uint64_t *count_r, int64_t *period_r,
    const char **why_r)
{
	unsigned long long n;
	char *end;
	const char *u;
	size_t ulen;

	*why_r = "expected COUNT/UNIT, e.g. 100/hour (UNIT: second, "
	    "minute, hour or day)";
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n == 0 || n > GCRA_MAX_COUNT) {
		*why_r = "the count must be between 1 and 1000000000";
		return -1;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end++ != '/')
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	u = end;
	while (isalpha((unsigned char)*end))
		end++;
	ulen = (size_t)(end - u);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || ulen == 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == ulen &&
		    strncasecmp(units[i].name, u, ulen) == 0) {
			*count_r = n;
			*period_r = units[i].us;
			return 0;
		}
	return -1;
}

int
gcra_limit_set(struct gcra_limit *l, uint64_t count, int64_t period_us,
    uint64_t burst)
{
	if (count == 0 || count > GCRA_MAX_COUNT || period_us <= 0)
		return -1;
	if (burst == 0)
		burst = count;
	if (burst > GCRA_MAX_BURST)
		return -1;
	l->count = count;
	l->period_us = period_us;
	l->burst = burst;
	/* rounded up: a rate that cannot be written in whole
	   microseconds is made slightly slower, never faster */
	l->interval_us = (int64_t)(((uint64_t)period_us + count - 1) / count);
	l->tolerance_us = (int64_t)(burst - 1) * l->interval_us;
	return 0;
}

/* How many more units conform now: floor((tau + T - (base - now)) / T). */
uint64_t
gcra_available(const struct gcra_limit *l, int64_t tat, int64_t now)
{
	int64_t base = tat > now ? tat : now;
	int64_t room = l->tolerance_us + l->interval_us - (base - now);

	if (room < l->interval_us)
		return 0;
	return (uint64_t)(room / l->interval_us);
}

uint64_t
gcra_take(const struct gcra_limit *l, int64_t *tat, int64_t now,
    uint64_t want)
{
	uint64_t n = gcra_available(l, *tat, now);
	int64_t base = *tat > now ? *tat : now;

	if (n > want)
		n = want;
	if (n > 0)
		*tat = base + (int64_t)n * l->interval_us;
	return n;
}

int64_t
gcra_next(const struct gcra_limit *l, int64_t tat, int64_t now)
{
	int64_t t = tat - l->tolerance_us;

	return t > now ? t : now;
}
