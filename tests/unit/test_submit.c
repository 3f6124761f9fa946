/*
 * test_submit.c - -t recipients, Bcc removal, generated header fields
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

#include "message.h"
#include "submit.h"
#include "util.h"

static void
add(struct plume_msg *m, const char *raw)
{
	assert_int_equal(msg_header_append_raw(m, raw, strlen(raw)), 0);
}

static void
opts_init(struct submit_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hostname = "app1.example.org";
	o->domain = "example.org";
	o->uid = 33;
	o->user = "www-data";
	o->now = 1764154628;	/* 2025-11-26 */
}

static const char *
field(struct plume_msg *m, const char *name)
{
	long i = msg_header_find(m, name, 0);

	return i < 0 ? NULL : m->hdrs[i].raw;
}

static void
test_extract_union(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "argv@example.net", "TO@EXAMPLE.COM" };

	msg_init(&m);
	add(&m, "From: \"Doe, John\" <john@example.com>");
	add(&m, "To: to@example.com, \"Team\" <team@example.com>");
	add(&m, "Cc: list: a@example.com, b@example.com;");
	add(&m, "Bcc: hidden@example.com");
	add(&m, "Subject: hi");
	opts_init(&o);
	o.extract = true;
	o.rcpts = argv_rcpts;
	o.nrcpts = 2;
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	/* command line first, then To, Cc, Bcc; duplicates dropped */
	assert_int_equal(m.nrcpt, 6);
	assert_string_equal(m.rcpts[0].addr, "argv@example.net");
	assert_string_equal(m.rcpts[1].addr, "TO@EXAMPLE.COM");
	assert_string_equal(m.rcpts[2].addr, "team@example.com");
	assert_string_equal(m.rcpts[3].addr, "a@example.com");
	assert_string_equal(m.rcpts[4].addr, "b@example.com");
	assert_string_equal(m.rcpts[5].addr, "hidden@example.com");
	assert_null(field(&m, "Bcc"));
	assert_string_equal(m.sender, "www-data@example.org");
	msg_free(&m);
}

static void
test_resent_only(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];

	msg_init(&m);
	add(&m, "To: original@example.com");
	add(&m, "Resent-To: new@example.com");
	add(&m, "Resent-Bcc: secret@example.com");
	opts_init(&o);
	o.extract = true;
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	assert_int_equal(m.nrcpt, 2);
	assert_string_equal(m.rcpts[0].addr, "new@example.com");
	assert_string_equal(m.rcpts[1].addr, "secret@example.com");
	assert_null(field(&m, "Resent-Bcc"));
	assert_non_null(field(&m, "To"));
	msg_free(&m);
}

static void
test_bcc_removed_without_t(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "x@example.com" };

	msg_init(&m);
	add(&m, "To: to@example.com");
	add(&m, "Bcc: one@example.com");
	add(&m, "BCC: two@example.com");
	opts_init(&o);
	o.rcpts = argv_rcpts;
	o.nrcpts = 1;
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	assert_int_equal(m.nrcpt, 1);	/* no -t: header not read */
	assert_null(field(&m, "Bcc"));
	msg_free(&m);
}

static void
test_unqualified_and_undisclosed(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "root" };

	msg_init(&m);
	add(&m, "To: undisclosed-recipients:;");
	add(&m, "Cc: cron (Cron Daemon)");
	opts_init(&o);
	o.extract = true;
	o.rcpts = argv_rcpts;
	o.nrcpts = 1;
	o.sender = "cron";
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	assert_int_equal(m.nrcpt, 2);
	assert_string_equal(m.rcpts[0].addr, "root@example.org");
	assert_string_equal(m.rcpts[1].addr, "cron@example.org");
	assert_string_equal(m.sender, "cron@example.org");
	msg_free(&m);
}

static void
test_no_recipients(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];

	msg_init(&m);
	add(&m, "To: undisclosed-recipients:;");
	opts_init(&o);
	o.extract = true;
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)),
	    SUBMIT_NO_RCPT);
	assert_non_null(strstr(err, "no recipients"));
	msg_free(&m);
}

static void
test_generated_fields(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "to@example.com" };
	const char *from, *recv, *mid, *date;

	msg_init(&m);
	snprintf(m.qid, sizeof(m.qid), "%s", "ABCDEF0123");
	add(&m, "Subject: test");
	opts_init(&o);
	o.rcpts = argv_rcpts;
	o.nrcpts = 1;
	o.fullname = "Cron Daemon";
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	from = field(&m, "From");
	assert_string_equal(from, "From: Cron Daemon <www-data@example.org>");
	mid = field(&m, "Message-ID");
	assert_non_null(mid);
	assert_non_null(strstr(mid, ".ABCDEF0123@app1.example.org>"));
	assert_string_equal(m.message_id, mid + strlen("Message-ID: "));
	date = field(&m, "Date");
	assert_non_null(date);
	assert_non_null(strstr(date, " 2025 "));
	/* Received is the first field and names the user */
	recv = m.hdrs[0].raw;
	assert_true(strncmp(recv, "Received: by app1.example.org (plume ", 37)
	    == 0);
	assert_non_null(strstr(recv, "from userid 33 (www-data))\r\n\tid "
	    "ABCDEF0123; "));
	msg_free(&m);
}

static void
test_existing_fields_kept(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "to@example.com" };

	msg_init(&m);
	add(&m, "From: Someone <someone@example.com>");
	add(&m, "Date: Mon, 1 Jan 2024 00:00:00 +0000");
	add(&m, "Message-ID:  <keep@example.com> ");
	opts_init(&o);
	o.rcpts = argv_rcpts;
	o.nrcpts = 1;
	o.sender = "<bounce@example.com>";
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	assert_int_equal(m.nhdr, 4);	/* + Received */
	assert_string_equal(m.message_id, "<keep@example.com>");
	assert_string_equal(m.sender, "bounce@example.com");
	assert_string_equal(field(&m, "From"),
	    "From: Someone <someone@example.com>");
	msg_free(&m);
}

static void
test_from_phrases(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *argv_rcpts[] = { "to@example.com" };
	const char *names[][2] = {
		{ "Doe, John", "From: \"Doe, John\" <a@example.org>" },
		{ "J\xc3\xbcrgen", "From: =?UTF-8?B?SsO8cmdlbg==?= "
		    "<a@example.org>" },
		{ "Say \"hi\"", "From: \"Say \\\"hi\\\"\" <a@example.org>" },
	};

	for (size_t i = 0; i < 3; i++) {
		msg_init(&m);
		opts_init(&o);
		o.rcpts = argv_rcpts;
		o.nrcpts = 1;
		o.sender = "a";
		o.fullname = names[i][0];
		assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)),
		    SUBMIT_OK);
		assert_string_equal(field(&m, "From"), names[i][1]);
		msg_free(&m);
	}
	/* the null sender */
	msg_init(&m);
	opts_init(&o);
	o.rcpts = argv_rcpts;
	o.nrcpts = 1;
	o.sender = "<>";
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)), SUBMIT_OK);
	assert_string_equal(m.sender, "");
	assert_string_equal(field(&m, "From"),
	    "From: MAILER-DAEMON@example.org");
	msg_free(&m);
}

static void
test_bad_addresses(void **state)
{
	struct plume_msg m;
	struct submit_opts o;
	char err[256];
	char *bad[] = { "a b@example.com" };

	assert_false(submit_arg_ok("-oQ/tmp"));
	assert_false(submit_arg_ok("a@b\r\nRCPT TO:<c@d>"));
	assert_false(submit_arg_ok("a@b\n"));
	assert_true(submit_arg_ok("a-b@example.com"));

	msg_init(&m);
	opts_init(&o);
	o.rcpts = bad;
	o.nrcpts = 1;
	assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)),
	    SUBMIT_BAD_ADDR);
	assert_non_null(strstr(err, "invalid recipient"));
	msg_free(&m);
}

static void
test_header_add_rejects_injection(void **state)
{
	struct plume_msg m;
	const char *err = NULL;

	msg_init(&m);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "X-A",
	    "ok\r\n\tfolded", &err), 0);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "X-B",
	    "a\r\nBcc: x@y", &err), -1);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "X-C",
	    "a\nb", &err), -1);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "X-D",
	    "a\rb", &err), -1);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "Bad Name",
	    "x", &err), -1);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_APPEND, "Bad:Name",
	    "x", &err), -1);
	assert_int_equal(msg_header_add(&m, PLUME_HEADER_PREPEND, "X-First",
	    "1", &err), 0);
	assert_int_equal(m.nhdr, 2);
	assert_string_equal(m.hdrs[0].raw, "X-First: 1");
	assert_int_equal(msg_header_find(&m, "x-a", 0), 1);
	assert_int_equal(msg_header_remove(&m, 0), 0);
	assert_int_equal(msg_header_find(&m, "X-First", 0), -1);
	msg_free(&m);
}

static void
test_qualify_header_fields(void **state)
{
	const char *cases[][2] = {
		{ "From: root (Cron Daemon)",
		    "From: root@example.org (Cron Daemon)" },
		{ "To: root", "To: root@example.org" },
		{ "To: root, bob@x.org", "To: root@example.org, bob@x.org" },
		{ "Cc: John Doe <john>", "Cc: John Doe <john@example.org>" },
		{ "To: \"Doe, J\" <j@x.org>", "To: \"Doe, J\" <j@x.org>" },
		{ "To: undisclosed-recipients:;",
		    "To: undisclosed-recipients:;" },
		{ "To: team: a, b;", "To: team: a@example.org, b@example.org;" },
		{ "Reply-To: (just a comment) web",
		    "Reply-To: (just a comment) web@example.org" },
		{ "To: a@b.org,\r\n\tcarol",
		    "To: a@b.org,\r\n\tcarol@example.org" },
	};
	char *argv_rcpts[] = { "x@example.com" };

	for (size_t i = 0; i < nitems(cases); i++) {
		struct plume_msg m;
		struct submit_opts o;
		char err[256];
		long k;
		const char *name = cases[i][0];
		size_t nl = strcspn(name, ":");
		char field[32];

		msg_init(&m);
		add(&m, cases[i][0]);
		opts_init(&o);
		o.rcpts = argv_rcpts;
		o.nrcpts = 1;
		assert_int_equal(submit_prepare(&m, &o, err, sizeof(err)),
		    SUBMIT_OK);
		snprintf(field, sizeof(field), "%.*s", (int)nl, name);
		k = msg_header_find(&m, field, 0);
		assert_true(k >= 0);
		if (strcmp(m.hdrs[k].raw, cases[i][1]) != 0)
			fail_msg("%s -> %s, want %s", cases[i][0],
			    m.hdrs[k].raw, cases[i][1]);
		msg_free(&m);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_union),
		cmocka_unit_test(test_resent_only),
		cmocka_unit_test(test_bcc_removed_without_t),
		cmocka_unit_test(test_unqualified_and_undisclosed),
		cmocka_unit_test(test_no_recipients),
		cmocka_unit_test(test_generated_fields),
		cmocka_unit_test(test_existing_fields_kept),
		cmocka_unit_test(test_from_phrases),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_header_add_rejects_injection),
		cmocka_unit_test(test_qualify_header_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
