/*
 * test_gcra.c - the ratelimit plugin's GCRA arithmetic and rate syntax
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gcra.h"

#define S	1000000LL	/* one second in microseconds */

static void
test_parse(void **state)
{
	uint64_t n;
	int64_t p;
	const char *why;

	(void)state;
	assert_int_equal(gcra_parse_rate("100/hour", &n, &p, &why), 0);
	assert_true(n == 100 && p == 3600 * S);
	assert_int_equal(gcra_parse_rate(" 3 / Minute ", &n, &p, &why), 0);
	assert_true(n == 3 && p == 60 * S);
	assert_int_equal(gcra_parse_rate("50/s", &n, &p, &why), 0);
	assert_true(n == 50 && p == S);
	assert_int_equal(gcra_parse_rate("500/days", &n, &p, &why), 0);
	assert_true(n == 500 && p == 86400 * S);
	assert_int_equal(gcra_parse_rate("0/hour", &n, &p, &why), -1);
	assert_int_equal(gcra_parse_rate("-1/hour", &n, &p, &why), -1);
	assert_int_equal(gcra_parse_rate("10/week", &n, &p, &why), -1);
	assert_int_equal(gcra_parse_rate("10", &n, &p, &why), -1);
	assert_int_equal(gcra_parse_rate("10/hour x", &n, &p, &why), -1);
	assert_int_equal(gcra_parse_rate("99999999999999999999/s", &n, &p,
	    &why), -1);
	assert_int_equal(gcra_parse_rate("1000000001/s", &n, &p, &why), -1);
}

/* 3/minute: three at once, then one every 20 s, never a fourth early */
static void
test_burst_default(void **state)
{
	struct gcra_limit l;
	int64_t tat = 0, t0 = 1700000000 * S;

	(void)state;
	assert_int_equal(gcra_limit_set(&l, 3, 60 * S, 0), 0);
	assert_true(l.burst == 3 && l.interval_us == 20 * S &&
	    l.tolerance_us == 40 * S);
	assert_true(gcra_available(&l, tat, t0) == 3);
	for (int i = 0; i < 3; i++)
		assert_true(gcra_take(&l, &tat, t0, 1) == 1);
	assert_true(tat == t0 + 60 * S);
	assert_true(gcra_take(&l, &tat, t0, 1) == 0);
	assert_true(tat == t0 + 60 * S);	/* a refusal costs nothing */
	assert_true(gcra_next(&l, tat, t0) == t0 + 20 * S);
	assert_true(gcra_take(&l, &tat, t0 + 20 * S - 1, 1) == 0);
	assert_true(gcra_take(&l, &tat, t0 + 20 * S, 1) == 1);
	assert_true(gcra_take(&l, &tat, t0 + 20 * S, 1) == 0);
	/* idle for long: back to a full burst, not more */
	assert_true(gcra_available(&l, tat, t0 + 3600 * S) == 3);
}

/* several units at once (recipients): as many as fit */
static void
test_take_many(void **state)
{
	struct gcra_limit l;
	int64_t tat = 0, t0 = 1000 * S;

	(void)state;
	assert_int_equal(gcra_limit_set(&l, 10, 60 * S, 0), 0);
	assert_true(gcra_take(&l, &tat, t0, 4) == 4);
	assert_true(gcra_take(&l, &tat, t0, 20) == 6);
	assert_true(gcra_take(&l, &tat, t0, 1) == 0);
	assert_true(gcra_next(&l, tat, t0) == t0 + 6 * S);
	assert_true(gcra_take(&l, &tat, t0 + 12 * S, 5) == 2);
}

/* burst = 1: strictly paced, so at most N in any window of one period */
static void
test_burst_one(void **state)
{
	struct gcra_limit l;
	int64_t tat = 0, t = 0;
	int sent = 0;

	(void)state;
	assert_int_equal(gcra_limit_set(&l, 100, 3600 * S, 1), 0);
	assert_true(l.interval_us == 36 * S && l.tolerance_us == 0);
	/* one attempt per second for an hour minus a microsecond */
	for (t = 0; t < 3600 * S; t += S)
		sent += (int)gcra_take(&l, &tat, t, 1);
	assert_int_equal(sent, 100);
}

/* the window bound: in any interval L, at most B + floor(L / T) */
static void
test_window_bound(void **state)
{
	struct gcra_limit l;
	int64_t tat = 0, t;
	int64_t times[400];
	int n = 0;

	(void)state;
	assert_int_equal(gcra_limit_set(&l, 50, 3600 * S, 0), 0);
	/* greedy: an attempt every 7 s for three hours */
	for (t = 0; t < 3 * 3600 * S && n < 400; t += 7 * S)
		if (gcra_take(&l, &tat, t, 1) == 1)
			times[n++] = t;
	for (int i = 0; i < n; i++)
		for (int j = i; j < n; j++) {
			int64_t len = times[j] - times[i];

			assert_true((int64_t)(j - i + 1) <=
			    (int64_t)l.burst + len / l.interval_us);
		}
	/* the long-run rate: 50 at once, then 50 per hour */
	assert_true(n >= 50 + 2 * 50 && n <= 50 + 3 * 50 + 1);
}

/* a rate that is not whole microseconds is rounded to be slower */
static void
test_rounding(void **state)
{
	struct gcra_limit l;

	(void)state;
	assert_int_equal(gcra_limit_set(&l, 7, 60 * S, 0), 0);
	assert_true(l.interval_us * 7 >= 60 * S);
	assert_true(l.interval_us == 8571429);
	assert_int_equal(gcra_limit_set(&l, 1000000000ULL, 86400 * S,
	    1000000), 0);
	assert_true(l.interval_us == 87);
	assert_int_equal(gcra_limit_set(&l, 1, 86400 * S, 1000001), -1);
	assert_int_equal(gcra_limit_set(&l, 0, S, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_burst_default),
		cmocka_unit_test(test_take_many),
		cmocka_unit_test(test_burst_one),
		cmocka_unit_test(test_window_bound),
		cmocka_unit_test(test_rounding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
