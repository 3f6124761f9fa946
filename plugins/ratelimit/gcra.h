/*
 * NAME
 *	gcra.h - the ratelimit plugin's arithmetic: the Generic Cell Rate
 *	Algorithm on integer microseconds, and the "N/unit" rate syntax
 * SYNOPSIS
 *	struct gcra_limit l;
 *	gcra_parse_rate("3/minute", &count, &period_us, &why);
 *	gcra_limit_set(&l, count, period_us, burst);
 *	n = gcra_take(&l, &tat, now, want);
 *	when = gcra_next(&l, tat, now);
 * DESCRIPTION
 *	Pure functions, no I/O: unit-tested on their own
 *	(tests/unit/test_gcra.c).  The math is explained in gcra.c.
 */
#ifndef PLUME_GCRA_H
#define PLUME_GCRA_H

#include <stdint.h>

#define GCRA_MAX_COUNT	1000000000ULL	/* per period */
#define GCRA_MAX_BURST	1000000ULL

struct gcra_limit {
	uint64_t count;		/* as configured: count per period */
	int64_t	 period_us;
	uint64_t burst;		/* most units that may pass at once */
	int64_t	 interval_us;	/* T: one unit every T, rounded up */
	int64_t	 tolerance_us;	/* tau = (burst - 1) * T */
};

int	 gcra_parse_rate(const char *, uint64_t *, int64_t *, const char **);
int	 gcra_limit_set(struct gcra_limit *, uint64_t, int64_t, uint64_t);
uint64_t gcra_take(const struct gcra_limit *, int64_t *, int64_t, uint64_t);
int64_t	 gcra_next(const struct gcra_limit *, int64_t, int64_t);
uint64_t gcra_available(const struct gcra_limit *, int64_t, int64_t);

#endif
