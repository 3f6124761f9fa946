/*
 * NAME
 *	test_jsonl.c - unit tests for core/jsonl.c
 * DESCRIPTION
 *	Lines as plugins/common/evjson.c writes them (every escape it
 *	makes, the nested notes), JSON it never writes but that a strict
 *	reader must still take or refuse, and the string writer's round
 *	trip.  Each line is parsed from a heap copy of exactly its bytes,
 *	so AddressSanitizer catches a read past the end.
 * DIAGNOSTICS
 *	cmocka's: one line per test, exit status the number of failures.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static struct jsonl_obj obj;
static char *copy;

static int
parse(const char *line)
{
	const char *err = NULL;
	int rc;

	free(copy);
	copy = strdup(line);
	assert_non_null(copy);
	rc = jsonl_parse(copy, &obj, &err);
	if (rc == -1)
		assert_non_null(err);
	return rc;
}

static void
test_event(void **state)
{
	int notes;

	(void)state;
	assert_int_equal(parse("{\"time\":\"2026-11-26T14:20:50.123Z\","
	    "\"event\":\"deferred\",\"queue_id\":\"18A2B3C4D5E6F7A8B9\","
	    "\"message_id\":\"<a@b>\",\"sender\":\"s@example.org\","
	    "\"rcpt\":\"temp@example.org\",\"nrcpt\":1,\"size\":312,"
	    "\"code\":450,\"enhanced\":\"4.2.1\",\"text\":\"<temp@example.org>:"
	    " Mailbox \\\"busy\\\"\",\"attempt\":2,\"duration_ms\":-1,"
	    "\"uid\":0,\"user\":\"root\",\"notes\":{\"relay\":"
	    "\"127.0.0.1:2525\",\"tls\":\"TLSv1.3\"}}\n"), 0);
	assert_string_equal(jsonl_str(&obj, "event"), "deferred");
	assert_string_equal(jsonl_str(&obj, "text"),
	    "<temp@example.org>: Mailbox \"busy\"");
	assert_int_equal(jsonl_num(&obj, "code", 0), 450);
	assert_int_equal(jsonl_num(&obj, "duration_ms", 0), -1);
	assert_int_equal(jsonl_num(&obj, "missing", 7), 7);
	assert_null(jsonl_str(&obj, "code"));	/* a number, not a string */
	assert_null(jsonl_str(&obj, "relay"));	/* nested, not top level */
	notes = jsonl_find(&obj, -1, "notes");
	assert_true(notes >= 0);
	assert_int_equal(obj.m[notes].type, JSONL_OBJECT);
	assert_string_equal(obj.m[jsonl_find(&obj, notes, "relay")].str,
	    "127.0.0.1:2525");
	assert_int_equal(jsonl_find(&obj, notes, "time"), -1);
}

static void
test_escapes(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":\"\\u00e9\\n\\t\\\\\\/\\b\\f\\r\","
	    "\"b\":\"\\ud83d\\ude00\",\"c\":\"caf\xc3\xa9\",\"\\u0041\":1}"),
	    0);
	assert_string_equal(jsonl_str(&obj, "a"), "\xc3\xa9\n\t\\/\b\f\r");
	assert_string_equal(jsonl_str(&obj, "b"), "\xf0\x9f\x98\x80");
	assert_string_equal(jsonl_str(&obj, "c"), "caf\xc3\xa9");
	assert_int_equal(jsonl_num(&obj, "A", 0), 1);
	/* evjson writes an invalid byte as \u00XX */
	assert_int_equal(parse("{\"x\":\"\\u00ff\\u001f\"}"), 0);
	assert_string_equal(jsonl_str(&obj, "x"), "\xc3\xbf\x1f");
}

static void
test_values(void **state)
{
	(void)state;
	assert_int_equal(parse(" { \"t\" : true , \"f\":false,\"n\":null,"
	    "\"e\":{},\"x\":-12.5e+3,\"z\":0} \r\n"), 0);
	assert_int_equal(obj.n, 6);
	assert_int_equal(obj.m[0].type, JSONL_TRUE);
	assert_int_equal(obj.m[1].type, JSONL_FALSE);
	assert_int_equal(obj.m[2].type, JSONL_NULL);
	assert_int_equal(obj.m[3].type, JSONL_OBJECT);
	assert_int_equal(jsonl_num(&obj, "x", 0), -12);
	assert_int_equal(parse("{}"), 0);
	assert_int_equal(obj.n, 0);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
		"{\"a\":[1]}", "{\"a\":\"x\"} x", "{\"a\":\"x\"}{}",
		"{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}",
		"{\"a\":\"\\udc00\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"\xc3\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}",
		"{\"a\":99999999999999999999}", "{\"a\":tru}", "{\"a\":\"x",
		"{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", "{\"a\" 1}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(parse("{\"a\":{\"b\":{\"c\":{}}}}"), 0);
}

static void
test_too_many(void **state)
{
	char line[2048];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "{");
	for (int i = 0; i < JSONL_MAX_MEMBERS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\"k%d\":%d",
		    i ? "," : "", i, i);
	snprintf(line + n, sizeof(line) - n, "}");
	assert_int_equal(parse(line), 0);
	line[n] = '\0';
	strncat(line, ",\"more\":1}", sizeof(line) - n - 1);
	assert_int_equal(parse(line), -1);
}

static void
test_round_trip(void **state)
{
	const char *s = "a\"b\\c\n\x01\xc3\xa9\xff<x@y>";
	char *out = NULL, *line;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	(void)state;
	assert_non_null(fp);
	fputs("{\"s\":", fp);
	jsonl_put_string(fp, s);
	fputs("}", fp);
	fclose(fp);
	assert_string_equal(out, "{\"s\":\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9"
	    "\\u00ff<x@y>\"}");
	line = out;
	assert_int_equal(parse(line), 0);
	/* the invalid byte comes back as U+00FF, as from evjson.c */
	assert_string_equal(jsonl_str(&obj, "s"),
	    "a\"b\\c\n\x01\xc3\xa9\xc3\xbf<x@y>");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_round_trip),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(copy);
	return rc;
}
