/*
 * NAME
 *	test_route.c - unit tests for core/route.c
 * DESCRIPTION
 *	Each pattern form of match_from and match_rcpt against addresses
 *	that must and must not match, and the patterns a config check must
 *	refuse, with the reason.
 * DIAGNOSTICS
 *	cmocka's: one line per test, exit status the number of failures.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "route.h"

static void
test_address(void **state)
{
	(void)state;
	assert_true(route_pattern_match("alice@example.org",
	    "alice@example.org"));
	assert_true(route_pattern_match("alice@example.org",
	    "Alice@EXAMPLE.org"));
	assert_false(route_pattern_match("alice@example.org",
	    "alice2@example.org"));
	assert_false(route_pattern_match("alice@example.org",
	    "lice@example.org"));
	assert_false(route_pattern_match("alice@example.org",
	    "alice@example.org.evil"));
	assert_false(route_pattern_match("alice@example.org",
	    "alice@sub.example.org"));
	assert_false(route_pattern_match("alice@example.org", "alice"));
	/* a quoted local part holding '@': the domain is after the last */
	assert_true(route_pattern_match("*@example.org",
	    "\"a@b\"@example.org"));
}

static void
test_domain(void **state)
{
	(void)state;
	assert_true(route_pattern_match("*@example.org", "bob@example.org"));
	assert_true(route_pattern_match("example.org", "bob@Example.ORG"));
	assert_false(route_pattern_match("example.org",
	    "bob@mail.example.org"));
	assert_false(route_pattern_match("example.org", "bob@badexample.org"));
	assert_false(route_pattern_match("*@example.org", "example.org"));
}

static void
test_subdomain(void **state)
{
	(void)state;
	assert_true(route_pattern_match("*@*.example.org",
	    "bob@mail.example.org"));
	assert_true(route_pattern_match("*.example.org",
	    "bob@a.b.example.org"));
	assert_true(route_pattern_match("ops@*.example.org",
	    "OPS@eu.example.org"));
	assert_false(route_pattern_match("ops@*.example.org",
	    "dev@eu.example.org"));
	/* not the parent itself, not a look-alike */
	assert_false(route_pattern_match("*.example.org", "bob@example.org"));
	assert_false(route_pattern_match("*.example.org",
	    "bob@badexample.org"));
	assert_false(route_pattern_match("*@*.example.org",
	    "bob@.example.org.x"));
}

static void
test_list(void **state)
{
	char *pats[] = { "a@x.org", "*.y.org", NULL };

	(void)state;
	assert_true(route_match(pats, "a@x.org"));
	assert_true(route_match(pats, "q@m.y.org"));
	assert_false(route_match(pats, "b@x.org"));
	assert_false(route_match(NULL, "a@x.org"));
}

static void
test_check(void **state)
{
	static const char *const good[] = { "alice@example.org",
	    "*@example.org", "*@*.example.org", "example.org",
	    "*.example.org", "ops@*.example.org", "localhost", NULL };
	static const struct { const char *pat, *why; } bad[] = {
		{ "", "empty" },
		{ "@example.org", "local part is empty" },
		{ "a@b@example.org", "more than one '@'" },
		{ "a*@example.org", "'*' may only" },
		{ "*a@example.org", "'*' may only" },
		{ "*@exa*mple.org", "'*' may only" },
		{ "*@*", "'*' may only" },
		{ "*", "'*' may only" },
		{ "*@*.", "domain is empty" },
		{ "*@example..org", "empty label" },
		{ "*@.example.org", "empty label" },
		{ "example.org.", "empty label" },
		{ "a b@example.org", "no blanks" },
		{ "<a@example.org>", "angle brackets" },
		{ "a@example.org,b@example.org", "commas" },
		{ "a\r\n@example.org", "control characters" },
		{ "alice@", "domain is empty" },
	};

	(void)state;
	for (size_t i = 0; good[i] != NULL; i++)
		assert_null(route_pattern_check(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = route_pattern_check(bad[i].pat);

		assert_non_null(why);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", bad[i].pat, why,
			    bad[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_subdomain),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
