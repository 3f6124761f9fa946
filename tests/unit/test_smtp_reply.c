/*
 * test_smtp_reply.c - the SMTP transport's reply parser
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"

static struct smtp_reply r;

/* Feeds "\n"-separated lines; returns the last status. */
static int
feed(const char *text)
{
	int st = SMTP_REPLY_MORE;

	smtp_reply_init(&r);
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		st = smtp_reply_line(&r, text, n);
		if (st != SMTP_REPLY_MORE)
			return st;
		text += n + (nl ? 1 : 0);
	}
	return st;
}

static void
test_single(void **state)
{
	assert_int_equal(feed("250 2.1.0 Ok"), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.enhanced, "2.1.0");
	assert_string_equal(r.text, "Ok");
	assert_int_equal(feed("354 End data with <CR><LF>.<CR><LF>"),
	    SMTP_REPLY_DONE);
	assert_string_equal(r.enhanced, "");
	assert_int_equal(feed("250"), SMTP_REPLY_DONE);
	assert_string_equal(r.text, "");
}

static void
test_multiline_gmail(void **state)
{
	char buf[3000];

	assert_int_equal(feed("534-5.7.9 Application-specific password "
	    "required. Learn more at\n534 5.7.9  https://support.google.com/"
	    "mail/?p=InvalidSecondFactor"), SMTP_REPLY_DONE);
	assert_int_equal(r.code, 534);
	assert_string_equal(r.enhanced, "5.7.9");
	assert_string_equal(r.text, "Application-specific password required. "
	    "Learn more at https://support.google.com/mail/?p="
	    "InvalidSecondFactor");
	assert_int_equal(r.nlines, 2);
	smtp_reply_format(&r, buf, sizeof(buf));
	assert_true(strncmp(buf, "534 5.7.9 Application-specific", 30) == 0);
}

static void
test_ehlo_lines(void **state)
{
	assert_int_equal(feed("250-mx.example.org\n250-PIPELINING\n"
	    "250-SIZE 1000\n250 AUTH PLAIN LOGIN"), SMTP_REPLY_DONE);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.lines[2], "SIZE 1000");
	assert_string_equal(r.lines[3], "AUTH PLAIN LOGIN");
}

static void
test_malformed(void **state)
{
	assert_int_equal(feed("hello there"), SMTP_REPLY_BAD);
	assert_int_equal(feed("25"), SMTP_REPLY_BAD);
	assert_int_equal(feed("2500 x"), SMTP_REPLY_BAD);
	assert_int_equal(feed("650 no such class"), SMTP_REPLY_BAD);
	assert_int_equal(feed("250-a\n251 b"), SMTP_REPLY_BAD);
	assert_int_equal(feed("250_x"), SMTP_REPLY_BAD);
}

static void
test_control_bytes_and_truncation(void **state)
{
	char big[5000];

	assert_int_equal(feed("550 5.1.1 <a@b>\001\033[31m"), SMTP_REPLY_DONE);
	assert_null(strchr(r.text, '\033'));
	assert_null(strchr(r.text, '\001'));
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "250 ", 4);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(feed(big), SMTP_REPLY_DONE);
	assert_true(r.truncated);
	assert_true(strlen(r.text) < SMTP_REPLY_TEXT_MAX);
}

static void
test_huge_reply_bounded(void **state)
{
	smtp_reply_init(&r);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(smtp_reply_line(&r, "250-x", 5),
		    SMTP_REPLY_MORE);
	assert_int_equal(smtp_reply_line(&r, "250 end", 7), SMTP_REPLY_DONE);
	assert_int_equal(r.nlines, 100001);
	assert_true(r.truncated);
}

static void
test_enhanced_class_must_match(void **state)
{
	assert_int_equal(feed("550 2.0.0 odd"), SMTP_REPLY_DONE);
	assert_string_equal(r.enhanced, "");
	assert_string_equal(r.text, "2.0.0 odd");
	assert_int_equal(feed("451 4.7.1x no"), SMTP_REPLY_DONE);
	assert_string_equal(r.enhanced, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_multiline_gmail),
		cmocka_unit_test(test_ehlo_lines),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_control_bytes_and_truncation),
		cmocka_unit_test(test_huge_reply_bounded),
		cmocka_unit_test(test_enhanced_class_must_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
