/*
 * test_http_json.c - the http transport's MIME -> JSON converter
 *
 * Each case converts tests/data/http-json/NAME.eml for both providers
 * and compares the result, as parsed JSON, with NAME.sendgrid.json and
 * NAME.postmark.json, written by hand from the providers' docs.  On a
 * mismatch both are printed indented with sorted keys, ready for diff.
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

#include <jansson.h>

#include "http_json.h"

struct jcase {
	const char	*name;
	const char	*rcpts[4];	/* NULL-terminated */
	const char	*pm_rcpts[4];	/* Postmark's, if not rcpts */
	const char	*stream;	/* Postmark MessageStream */
};

static const struct jcase cases[] = {
	{ "plain", { "bob@example.net" }, { NULL }, "outbound" },
	/* envelope case kept; header names found regardless of case */
	{ "alternative", { "Dave@Example.NET", "erin@example.net" },
	    { NULL }, NULL },
	{ "attach", { "grace@example.net" }, { NULL }, NULL },
	{ "related", { "ivan@example.net" }, { NULL }, NULL },
	{ "encoded", { "elodie@example.net", "zoe@example.net",
	    "seb@example.net" }, { NULL }, NULL },
	/* boss@ is in no header: Bcc */
	{ "bcc", { "lee@example.net", "boss@example.org" }, { NULL }, NULL },
	/* list@ and oscar@ are in the headers but not the envelope */
	{ "notenv", { "ned@example.net" }, { NULL }, NULL },
	/* To names nobody of the envelope: Cc shown as To */
	{ "cconly", { "quinn@example.net", "rob@example.net" }, { NULL },
	    NULL },
	/* Postmark takes a lone Bcc recipient only (see test_bcc_only) */
	{ "bcconly", { "tina@example.net", "uma@example.net" },
	    { "tina@example.net" }, NULL },
	{ "latin1", { "walt@example.net" }, { NULL }, NULL },
	/* signature dropped, message/rfc822 attached, raw 8-bit header */
	{ "signed", { "b@example.net" }, { NULL }, NULL },
};

/* A whole file, LF turned into CRLF when crlf. */
static char *
slurp(const char *name, size_t *len_r, int crlf)
{
	const char *srcdir = getenv("srcdir");
	char path[1024];
	FILE *f;
	char *buf;
	size_t cap = 4096, n = 0;
	int ch, prev = 0;

	snprintf(path, sizeof(path), "%s/tests/data/http-json/%s",
	    srcdir != NULL ? srcdir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf = malloc(cap);
	assert_non_null(buf);
	while ((ch = getc(f)) != EOF) {
		if (n + 3 > cap) {
			buf = realloc(buf, cap *= 2);
			assert_non_null(buf);
		}
		if (crlf && ch == '\n' && prev != '\r')
			buf[n++] = '\r';
		buf[n++] = (char)ch;
		prev = ch;
	}
	buf[n] = '\0';
	fclose(f);
	*len_r = n;
	return buf;
}

static size_t
count(const char *const *v)
{
	size_t n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

static void
check(const struct jcase *c, enum http_json_provider p)
{
	const char *suffix = p == HTTP_JSON_SENDGRID ? "sendgrid" : "postmark";
	const char *const *rcpts = p == HTTP_JSON_POSTMARK &&
	    c->pm_rcpts[0] != NULL ? c->pm_rcpts : c->rcpts;
	struct http_json_envelope env = { "sender@example.org", rcpts,
		count(rcpts), p == HTTP_JSON_POSTMARK ? c->stream : NULL };
	char file[256], err[256] = "", *msg, *want_text, *got_text;
	json_t *want, *got;
	json_error_t jerr;
	size_t len, wlen;

	snprintf(file, sizeof(file), "%s.eml", c->name);
	msg = slurp(file, &len, 1);
	got_text = http_json_convert(p, &env, msg, len, err, sizeof(err));
	if (got_text == NULL)
		fail_msg("%s (%s): %s", c->name, suffix, err);
	/* compact: one line, no spaces between tokens */
	assert_null(strchr(got_text, '\n'));
	assert_null(strstr(got_text, "\": "));
	snprintf(file, sizeof(file), "%s.%s.json", c->name, suffix);
	want_text = slurp(file, &wlen, 0);
	want = json_loads(want_text, 0, &jerr);
	if (want == NULL)
		fail_msg("%s: line %d: %s", file, jerr.line, jerr.text);
	got = json_loads(got_text, 0, &jerr);
	if (got == NULL)
		fail_msg("%s: output is not JSON: %s", c->name, jerr.text);
	if (!json_equal(want, got)) {
		char *w = json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS);
		char *g = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);

		fprintf(stderr, "--- %s (expected)\n%s\n+++ %s (got)\n%s\n",
		    file, w, c->name, g);
		free(w);
		free(g);
		fail_msg("%s: JSON differs", file);
	}
	json_decref(want);
	json_decref(got);
	free(want_text);
	free(got_text);
	free(msg);
}

/* One test a case, named after it. */
static void
test_case(void **state)
{
	const struct jcase *c = *state;

	check(c, HTTP_JSON_SENDGRID);
	check(c, HTTP_JSON_POSTMARK);
}

/* The same input twice gives the same text: keys in a fixed order. */
static void
test_stable(void **state)
{
	const char *rcpt[] = { "lee@example.net", "boss@example.org" };
	struct http_json_envelope env = { NULL, rcpt, 2, NULL };
	char err[128], *msg, *a, *b;
	size_t len;

	msg = slurp("bcc.eml", &len, 1);
	a = http_json_convert(HTTP_JSON_SENDGRID, &env, msg, len, err,
	    sizeof(err));
	b = http_json_convert(HTTP_JSON_SENDGRID, &env, msg, len, err,
	    sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_true(strncmp(a, "{\"personalizations\":[", 21) == 0);
	free(a);
	free(b);
	free(msg);
}

/* Converts text (LF line ends) and expects NULL with want in err. */
static void
refused(enum http_json_provider p, const char *text, const char *const *rcpts,
    size_t nrcpt, const char *want)
{
	struct http_json_envelope env = { NULL, rcpts, nrcpt, NULL };
	char err[256] = "", *msg, *out;
	size_t n = 0;

	msg = malloc(2 * strlen(text) + 1);
	assert_non_null(msg);
	for (const char *s = text; *s != '\0'; s++) {
		if (*s == '\n')
			msg[n++] = '\r';
		msg[n++] = *s;
	}
	out = http_json_convert(p, &env, msg, n, err, sizeof(err));
	if (out != NULL)
		fail_msg("converted, wanted \"%s\": %s", want, out);
	if (strstr(err, want) == NULL)
		fail_msg("err \"%s\", wanted \"%s\"", err, want);
	free(msg);
}

static const char *const one[] = { "to@example.net" };

static void
test_errors(void **state)
{
	struct http_json_envelope env = { NULL, one, 1, NULL };
	char err[128] = "";

	assert_null(http_json_convert(HTTP_JSON_SENDGRID, &env, "", 0, err,
	    sizeof(err)));
	assert_string_equal(err, "not a MIME message");
	refused(HTTP_JSON_POSTMARK, "To: to@example.net\nSubject: x\n\nhi\n",
	    one, 1, "no From header");
	refused(HTTP_JSON_SENDGRID, "From: undisclosed:;\n\nhi\n", one, 1,
	    "no From header");
	/* GMime finds no header: nothing to convert */
	refused(HTTP_JSON_SENDGRID, "no header at all, only words\n", one, 1,
	    "not a MIME message");
	refused(HTTP_JSON_SENDGRID, "From: a@example.org\n\nhi\n", one, 0,
	    "no recipients");
	refused(HTTP_JSON_POSTMARK, "From: a@example.org\n"
	    "Content-Type: application/pdf\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0K\n", one, 1,
	    "no text or HTML body (Postmark refuses attachments alone)");
	/* an empty text part is no body either */
	refused(HTTP_JSON_SENDGRID, "From: a@example.org\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: text/plain\n\n\n--b\n"
	    "Content-Type: image/png\nContent-Disposition: attachment; "
	    "filename=a.png\nContent-Transfer-Encoding: base64\n\n"
	    "iVBORw0KGgo=\n--b--\n", one, 1, "no text or HTML body");
}

/* n distinct addresses, or n copies of one when same */
static const char **
addresses(size_t n, int same)
{
	const char **v = calloc(n + 1, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "r%zu@example.net", same ? 0 : i);
		v[i] = strdup(buf);
		assert_non_null(v[i]);
	}
	return v;
}

static void
free_addresses(const char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i]);
	free(v);
}

static int
converts(enum http_json_provider p, const char *const *rcpts, size_t n)
{
	static const char text[] = "From: a@example.org\r\nTo: r0@example.net"
	    "\r\nSubject: many\r\n\r\nhi\r\n";
	struct http_json_envelope env = { NULL, rcpts, n, NULL };
	char err[128], *out;

	out = http_json_convert(p, &env, text, sizeof(text) - 1, err,
	    sizeof(err));
	free(out);
	return out != NULL;
}

static void
test_limits(void **state)
{
	const char **v = addresses(1001, 0), **dup = addresses(60, 1);

	assert_true(converts(HTTP_JSON_POSTMARK, v, 50));
	refused(HTTP_JSON_POSTMARK, "From: a@example.org\nTo: r0@example.net"
	    "\n\nhi\n", v, 51, "more than 50 recipients (Postmark's limit)");
	assert_true(converts(HTTP_JSON_SENDGRID, v, 1000));
	refused(HTTP_JSON_SENDGRID, "From: a@example.org\nTo: r0@example.net"
	    "\n\nhi\n", v, 1001,
	    "more than 1000 recipients (SendGrid's limit)");
	/* duplicates count once */
	assert_true(converts(HTTP_JSON_POSTMARK, dup, 60));
	free_addresses(v, 1001);
	free_addresses(dup, 60);
}

static void
test_bcc_only(void **state)
{
	static const char *const two[] = { "tina@example.net",
		"uma@example.net" };
	char *msg;
	size_t len;

	msg = slurp("bcconly.eml", &len, 0);
	refused(HTTP_JSON_POSTMARK, msg, two, 2,
	    "2 recipients, none in To or Cc");
	free(msg);
}

/* A SendGrid to/cc/bcc name with ',' or ';' is left out. */
static void
test_sendgrid_names(void **state)
{
	static const char text[] = "From: \"Doe, Jane\" <jane@example.org>\r\n"
	    "To: \"Roe; Rick\" <rick@example.net>\r\n\r\nhi\r\n";
	static const char *const rcpt[] = { "rick@example.net" };
	struct http_json_envelope env = { NULL, rcpt, 1, NULL };
	char err[128], *out;

	out = http_json_convert(HTTP_JSON_SENDGRID, &env, text,
	    sizeof(text) - 1, err, sizeof(err));
	assert_non_null(out);
	assert_non_null(strstr(out,
	    "\"to\":[{\"email\":\"rick@example.net\"}]"));
	/* only recipients' names are limited */
	assert_non_null(strstr(out, "\"name\":\"Doe, Jane\""));
	free(out);
}

static void
test_init_twice(void **state)
{
	http_json_init();
	http_json_init();
	http_json_shutdown();
	/* still initialised: one init is outstanding */
	assert_true(converts(HTTP_JSON_SENDGRID, one, 1));
	http_json_shutdown();
}

static int
setup(void **state)
{
	http_json_init();
	return 0;
}

static int
teardown(void **state)
{
	http_json_shutdown();
	return 0;
}

int
main(void)
{
#define NCASES (sizeof(cases) / sizeof(cases[0]))
	struct CMUnitTest tests[NCASES + 6] = {
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bcc_only),
		cmocka_unit_test(test_sendgrid_names),
		cmocka_unit_test(test_init_twice),
	};

	for (size_t i = 0; i < NCASES; i++) {
		tests[6 + i].name = cases[i].name;
		tests[6 + i].test_func = test_case;
		tests[6 + i].initial_state = (void *)&cases[i];
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
