/*
 * test_intake.c - line-end normalisation, the lone-dot rule, header
 * section parsing and spooling of standard input
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake.h"
#include "message.h"
#include "util.h"

static void
sink(void *arg, const char *p, size_t n)
{
	buf_add(arg, p, n);
}

/* Canonicalises in, fed in chunks of every size from 1 to whole. */
static void
check_canon(const char *in, bool ignore_dots, const char *want)
{
	size_t len = strlen(in);

	for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
		struct canon c;
		struct buf out;

		buf_init(&out);
		canon_init(&c, ignore_dots, sink, &out);
		for (size_t i = 0; i < len && !c.done; i += chunk)
			canon_feed(&c, in + i, len - i < chunk ? len - i : chunk);
		canon_finish(&c);
		if (strcmp(out.data ? out.data : "", want) != 0)
			fail_msg("chunk %zu: in=\"%s\" got \"%s\" want \"%s\"",
			    chunk, in, out.data ? out.data : "", want);
		buf_free(&out);
	}
}

static void
test_line_ends(void **state)
{
	check_canon("a\nb\n", false, "a\r\nb\r\n");
	check_canon("a\r\nb\r\n", false, "a\r\nb\r\n");
	check_canon("a\rb\r", false, "a\r\nb\r\n");
	check_canon("a\r\n\nb\r\rc", false, "a\r\n\r\nb\r\n\r\nc\r\n");
	check_canon("no newline", false, "no newline\r\n");
	check_canon("", false, "");
	check_canon("\n", false, "\r\n");
	check_canon("\r\n\r\n", false, "\r\n\r\n");
	/* a bare CR inside a line is a line end, never data */
	check_canon("x\r.\r\nMAIL FROM:<a@b>\r\n", true,
	    "x\r\n.\r\nMAIL FROM:<a@b>\r\n");
}

static void
test_lone_dot(void **state)
{
	check_canon("a\n.\nb\n", false, "a\r\n");
	check_canon("a\r\n.\r\nb\r\n", false, "a\r\n");
	check_canon("a\n.", false, "a\r\n");
	check_canon(".\n", false, "");
	check_canon("a\n.\rb\n", false, "a\r\n");
	/* with -i a dot is data */
	check_canon("a\n.\nb\n", true, "a\r\n.\r\nb\r\n");
	check_canon("..x\n", true, "..x\r\n");
}

static void
test_dot_unstuffing(void **state)
{
	check_canon("..\n", false, ".\r\n");
	check_canon("..x\n", false, ".x\r\n");
	check_canon("...\n", false, "..\r\n");
	check_canon(".x\n", false, ".x\r\n");
	check_canon("a..\n", false, "a..\r\n");
	check_canon("x\n..\n.\n", false, "x\r\n.\r\n");
}

static void
test_long_line(void **state)
{
	size_t n = 100000;
	char *in = xmalloc(n + 2), *want = xmalloc(n + 3);

	memset(in, 'x', n);
	in[n] = '\n';
	in[n + 1] = '\0';
	memset(want, 'x', n);
	memcpy(want + n, "\r\n", 3);
	check_canon(in, false, want);
	free(in);
	free(want);
}

struct fixture {
	char	 dir[64];
	char	 tmp[128];
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/plume-intake.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->tmp, sizeof(f->tmp), "%s/tmp", f->dir);
	if (mkdir(f->tmp, 0700) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Feeds text through intake_read from a file, returns the status. */
static enum intake_status
intake_text(struct fixture *f, const char *text, size_t len, bool ignore,
    off_t limit, struct plume_msg *m, char *err, size_t errlen)
{
	char path[160];
	struct intake_opts o = { .ignore_dots = ignore, .size_limit = limit,
	    .tmp_dir = f->tmp };
	enum intake_status st;
	int fd;

	snprintf(path, sizeof(path), "%s/input", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	msg_init(m);
	st = intake_read(fd, &o, m, err, errlen);
	close(fd);
	return st;
}

static char *
read_all(struct plume_msg *m)
{
	struct plume_stream *s = msg_stream_open(m, PLUME_STREAM_MESSAGE);
	struct buf b;
	char chunk[7];
	ssize_t r;

	buf_init(&b);
	while ((r = msg_stream_read(s, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)r);
	assert_int_equal(r, 0);
	/* a stream is re-readable and gives the same bytes */
	msg_stream_rewind(s);
	{
		struct buf again;

		buf_init(&again);
		while ((r = msg_stream_read(s, chunk, sizeof(chunk))) > 0)
			buf_add(&again, chunk, (size_t)r);
		assert_int_equal(again.len, b.len);
		assert_memory_equal(again.data, b.data, b.len);
		buf_free(&again);
	}
	msg_stream_close(s);
	return buf_detach(&b);
}

static void
test_headers_and_body(void **state)
{
	struct fixture *f = *state;
	struct plume_msg m;
	char err[256], *all, *v;
	const char *in = "From: a@example.org\n"
	    "To: b@example.org,\n\tc@example.org\n"
	    "Subject: =?UTF-8?B?w6TDtg==?= \xc3\xa4\n"
	    "\n"
	    "Body line\n"
	    "..stuffed\n";

	assert_int_equal(intake_text(f, in, strlen(in), false, 0, &m, err,
	    sizeof(err)), INTAKE_OK);
	assert_int_equal(m.nhdr, 3);
	assert_string_equal(m.hdrs[1].raw,
	    "To: b@example.org,\r\n\tc@example.org");
	assert_int_equal(m.hdrs[1].name_len, 2);
	v = msg_header_value(&m, 1);
	assert_string_equal(v, " b@example.org,\tc@example.org");
	free(v);
	assert_true(m.eightbit);
	assert_int_equal(m.body_size, strlen("Body line\r\n.stuffed\r\n"));
	all = read_all(&m);
	assert_string_equal(all, "From: a@example.org\r\n"
	    "To: b@example.org,\r\n\tc@example.org\r\n"
	    "Subject: =?UTF-8?B?w6TDtg==?= \xc3\xa4\r\n\r\n"
	    "Body line\r\n.stuffed\r\n");
	assert_int_equal(msg_size(&m), (off_t)strlen(all));
	free(all);
	/* the spool file is private */
	{
		struct stat st;

		assert_int_equal(stat(m.body_path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	unlink(m.body_path);
	msg_free(&m);
}

static void
test_no_header_section(void **state)
{
	struct fixture *f = *state;
	struct plume_msg m;
	char err[256], *all;
	const char *in = "Just a line of text\nSubject: not a header\n";

	assert_int_equal(intake_text(f, in, strlen(in), false, 0, &m, err,
	    sizeof(err)), INTAKE_OK);
	assert_int_equal(m.nhdr, 0);
	assert_false(m.eightbit);
	all = read_all(&m);
	assert_string_equal(all, "\r\nJust a line of text\r\n"
	    "Subject: not a header\r\n");
	free(all);
	unlink(m.body_path);
	msg_free(&m);
}

static void
test_mbox_from_line(void **state)
{
	struct fixture *f = *state;
	struct plume_msg m;
	char err[256];
	const char *in = "From alice@example.org Thu Nov 26 10:00:00 2026\n"
	    "Subject: s\n\nFrom here on, body\n";

	assert_int_equal(intake_text(f, in, strlen(in), false, 0, &m, err,
	    sizeof(err)), INTAKE_OK);
	assert_int_equal(m.nhdr, 1);
	assert_string_equal(m.hdrs[0].raw, "Subject: s");
	assert_int_equal(m.body_size, strlen("From here on, body\r\n"));
	unlink(m.body_path);
	msg_free(&m);
}

static void
test_header_only_and_empty(void **state)
{
	struct fixture *f = *state;
	struct plume_msg m;
	char err[256];

	assert_int_equal(intake_text(f, "Subject: x", 10, false, 0, &m, err,
	    sizeof(err)), INTAKE_OK);
	assert_int_equal(m.nhdr, 1);
	assert_string_equal(m.hdrs[0].raw, "Subject: x");
	assert_int_equal(m.body_size, 0);
	unlink(m.body_path);
	msg_free(&m);

	assert_int_equal(intake_text(f, "", 0, false, 0, &m, err,
	    sizeof(err)), INTAKE_OK);
	assert_int_equal(m.nhdr, 0);
	assert_int_equal(m.body_size, 0);
	unlink(m.body_path);
	msg_free(&m);
}

static void
test_size_limit(void **state)
{
	struct fixture *f = *state;
	struct plume_msg m;
	char err[256];
	const char *in = "Subject: x\n\n0123456789\n";

	assert_int_equal(intake_text(f, in, strlen(in), false, 20, &m, err,
	    sizeof(err)), INTAKE_TOO_BIG);
	assert_non_null(strstr(err, "message_size_limit"));
	unlink(m.body_path);
	msg_free(&m);
	assert_int_equal(intake_text(f, in, strlen(in), false, 27, &m, err,
	    sizeof(err)), INTAKE_OK);
	unlink(m.body_path);
	msg_free(&m);
}

static void
test_spool_unwritable(void **state)
{
	struct plume_msg m;
	struct intake_opts o = { .tmp_dir = "/nonexistent/plume/tmp" };
	char err[256];

	msg_init(&m);
	assert_int_equal(intake_read(0, &o, &m, err, sizeof(err)),
	    INTAKE_CANT_CREATE);
	assert_non_null(strstr(err, "cannot create spool file"));
	msg_free(&m);
}

static void
test_qid(void **state)
{
	char a[24], b[24];

	qid_new(a, sizeof(a));
	qid_new(b, sizeof(b));
	assert_int_equal(strlen(a), 18);
	assert_string_not_equal(a, b);
	for (const char *p = a; *p; p++)
		assert_non_null(strchr("0123456789ABCDEF", *p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_lone_dot),
		cmocka_unit_test(test_dot_unstuffing),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test_setup_teardown(test_headers_and_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_header_section, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mbox_from_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_header_only_and_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
		    teardown),
		cmocka_unit_test(test_spool_unwritable),
		cmocka_unit_test(test_qid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
