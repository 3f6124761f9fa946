/*
 * test_options.c - sendmail command-line parsing
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "options.h"

#define PARSE(o, ...) parse(o, (char *[]){ "sendmail", __VA_ARGS__, NULL })

static char err[256];

static int
parse(struct sm_opts *o, char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return sm_parse(argc, argv, false, o, err, sizeof(err));
}

static void
test_common_callers(void **state)
{
	struct sm_opts o;

	/* PHP mail(): -t -i -fsender */
	assert_int_equal(PARSE(&o, "-t", "-i", "-fsender@example.com"), 0);
	assert_true(o.extract);
	assert_true(o.ignore_dots);
	assert_string_equal(o.sender, "sender@example.com");
	assert_int_equal(o.nrcpts, 0);

	/* nodemailer: -i -f sender to cc */
	assert_int_equal(PARSE(&o, "-i", "-f", "s@x.org", "a@x.org",
	    "b@x.org"), 0);
	assert_string_equal(o.sender, "s@x.org");
	assert_int_equal(o.nrcpts, 2);
	assert_string_equal(o.rcpts[1], "b@x.org");

	/* cron: -FCronDaemon -i -B8BITMIME -oem root */
	assert_int_equal(PARSE(&o, "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
	    "root"), 0);
	assert_string_equal(o.fullname, "CronDaemon");
	assert_string_equal(o.body_type, "8BITMIME");
	assert_int_equal(o.errmode, 'm');
	assert_int_equal(o.nrcpts, 1);

	/* s-nail: -i -F Name -f s -- to */
	assert_int_equal(PARSE(&o, "-i", "-F", "Name", "-f", "s@x.org", "--",
	    "to@x.org"), 0);
	assert_string_equal(o.fullname, "Name");
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "to@x.org");

	/* bundled flags, -oi, -r */
	assert_int_equal(PARSE(&o, "-ti", "-oi", "-r", "r@x.org"), 0);
	assert_true(o.extract && o.ignore_dots);
	assert_string_equal(o.sender, "r@x.org");
}

static void
test_arguments_never_recipients(void **state)
{
	struct sm_opts o;

	assert_int_equal(PARSE(&o, "-h", "5", "-L", "tag", "-B", "7bit",
	    "-O", "a=b", "-N", "success,failure", "-R", "hdrs", "-V", "env-1",
	    "rcpt@x.org"), 0);
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "rcpt@x.org");
	assert_string_equal(o.log_tag, "tag");
	assert_string_equal(o.body_type, "7BIT");
	assert_string_equal(o.notify, "success,failure");
	assert_string_equal(o.ret, "HDRS");
	assert_string_equal(o.envid, "env-1");
	assert_true(o.nignored >= 2);

	assert_int_equal(PARSE(&o, "-Am", "-G", "-m", "-n", "-s", "-U",
	    "-oQ/var/x", "-em", "x@y.org"), 0);
	assert_int_equal(o.nrcpts, 1);
}

static void
test_modes(void **state)
{
	struct sm_opts o;

	assert_int_equal(PARSE(&o, "-bp"), 0);
	assert_int_equal(o.mode, SM_MODE_PRINTQ);
	assert_int_equal(PARSE(&o, "-bs"), 0);
	assert_int_equal(o.mode, SM_MODE_SMTP);
	assert_int_equal(PARSE(&o, "-b", "v", "a@b.org"), 0);
	assert_int_equal(o.mode, SM_MODE_VERIFY);
	assert_int_equal(PARSE(&o, "-I"), 0);
	assert_int_equal(o.mode, SM_MODE_ALIASES);
	assert_int_equal(PARSE(&o, "-q30m"), 0);
	assert_int_equal(o.mode, SM_MODE_QUEUE_RUN);
	assert_string_equal(o.queue_arg, "30m");
	assert_int_equal(PARSE(&o, "-odq", "a@b.org"), 0);
	assert_int_equal(o.delivery, 'q');
	assert_int_equal(PARSE(&o, "-C", "/etc/x.conf", "-v", "-v", "a@b.org"),
	    0);
	assert_string_equal(o.config, "/etc/x.conf");
	assert_int_equal(o.verbose, 2);
}

static void
test_refusals(void **state)
{
	struct sm_opts o;

	assert_int_equal(PARSE(&o, "-Z"), -1);
	assert_string_equal(err, "unknown option -Z");
	assert_int_equal(PARSE(&o, "-bd"), -1);
	assert_non_null(strstr(err, "not a listening daemon"));
	assert_int_equal(PARSE(&o, "-bD"), -1);
	assert_int_equal(PARSE(&o, "-bx"), -1);
	assert_int_equal(PARSE(&o, "-X", "/tmp/log"), -1);
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(PARSE(&o, "-f"), -1);
	assert_string_equal(err, "option -f needs an argument");
	assert_int_equal(PARSE(&o, "-B", "9BIT"), -1);
	assert_int_equal(PARSE(&o, "-N", "sometimes"), -1);
	assert_int_equal(PARSE(&o, "-R", "most"), -1);
	assert_int_equal(PARSE(&o, "-V", "has space"), -1);
	assert_int_equal(PARSE(&o, "-odx"), -1);
	/* root may pass -X; its file is never written */
	{
		char *argv[] = { "sendmail", "-X", "/tmp/log", "a@b.org",
		    NULL };

		assert_int_equal(sm_parse(4, argv, true, &o, err,
		    sizeof(err)), 0);
		assert_true(o.xfile);
		assert_int_equal(o.nrcpts, 1);
	}
}

static void
test_recipients_stop_options(void **state)
{
	struct sm_opts o;

	/* the first recipient ends the options; a later "-x" is a
	   recipient, which submission then refuses */
	assert_int_equal(PARSE(&o, "a@b.org", "-t"), 0);
	assert_false(o.extract);
	assert_int_equal(o.nrcpts, 2);
	assert_int_equal(PARSE(&o, "--", "-t"), 0);
	assert_int_equal(o.nrcpts, 1);
	assert_string_equal(o.rcpts[0], "-t");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_callers),
		cmocka_unit_test(test_arguments_never_recipients),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_recipients_stop_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
