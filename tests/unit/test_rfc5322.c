/*
 * NAME
 *	test_rfc5322.c - unit tests for core/rfc5322.c
 * DESCRIPTION
 *	Address lists as real mail software writes them (PHP, cron,
 *	Outlook, mailing lists), the obsolete syntax, and input that must
 *	fail without losing the good addresses next to it.  Each parse is
 *	given a heap copy of exactly len bytes with no terminating NUL, so
 *	AddressSanitizer catches any read past the end.
 * DIAGNOSTICS
 *	cmocka's: one line per test, exit status the number of failures.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"
#include "util.h"

/* Parse exactly len bytes of s from an unterminated heap copy. */
static int
parse_n(const char *s, size_t len, struct addrlist *l, const char **err)
{
	char *copy = xmalloc(len);
	int rc;

	memcpy(copy, s, len);
	*err = NULL;
	rc = rfc5322_parse_addrlist(copy, len, l, err);
	free(copy);
	if (rc == 0)
		assert_null(*err);
	else {
		assert_int_equal(rc, -1);
		assert_non_null(*err);
		/* one line, for a log message */
		assert_null(strchr(*err, '\n'));
	}
	return rc;
}

static int
parse(const char *s, struct addrlist *l, const char **err)
{
	return parse_n(s, strlen(s), l, err);
}

/* Check address i: display (NULL for none), spec and qualification. */
static void
check_addr(const struct addrlist *l, size_t i, const char *display,
    const char *spec)
{
	const struct addr *a;
	const char *at;

	assert_true(i < l->n);
	a = &l->v[i];
	if (display == NULL)
		assert_null(a->display);
	else {
		assert_non_null(a->display);
		assert_string_equal(a->display, display);
	}
	assert_non_null(a->spec);
	assert_string_equal(a->spec, spec);
	assert_null(strpbrk(a->spec, "\r\n"));
	/* the last '@' is the one before the domain */
	at = strrchr(spec, '@');
	if (at != NULL && a->qualified)
		assert_int_equal(a->local_len, (size_t)(at - spec));
	else {
		assert_false(a->qualified);
		assert_int_equal(a->local_len, strlen(spec));
	}
}

/* Parse s, expect rc and exactly n addresses. */
static void
expect(const char *s, int rc, size_t n, struct addrlist *l)
{
	const char *err;

	memset(l, 0, sizeof(*l));
	assert_int_equal(parse(s, l, &err), rc);
	assert_int_equal(l->n, n);
}

static void
test_simple(void **state)
{
	struct addrlist l;

	(void)state;
	expect("john@example.org", 0, 1, &l);
	check_addr(&l, 0, NULL, "john@example.org");
	assert_true(l.v[0].qualified);
	assert_int_equal(l.v[0].local_len, 4);
	addrlist_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);

	expect("  john.doe+tag@mail.example.org  ", 0, 1, &l);
	check_addr(&l, 0, NULL, "john.doe+tag@mail.example.org");
	addrlist_free(&l);

	expect("John Doe <john@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John Doe", "john@example.org");
	addrlist_free(&l);

	expect("<john@example.org>", 0, 1, &l);
	check_addr(&l, 0, NULL, "john@example.org");
	addrlist_free(&l);

	expect("Doe <john.q.doe@example.org>", 0, 1, &l);
	check_addr(&l, 0, "Doe", "john.q.doe@example.org");
	assert_int_equal(l.v[0].local_len, 10);
	addrlist_free(&l);

	expect("a@b.c, d@e.f,g@h.i", 0, 3, &l);
	check_addr(&l, 0, NULL, "a@b.c");
	check_addr(&l, 1, NULL, "d@e.f");
	check_addr(&l, 2, NULL, "g@h.i");
	addrlist_free(&l);
}

static void
test_php_style(void **state)
{
	struct addrlist l;

	(void)state;
	expect("\"Doe, John\" <john@example.org>, jane@example.org", 0, 2,
	    &l);
	check_addr(&l, 0, "Doe, John", "john@example.org");
	check_addr(&l, 1, NULL, "jane@example.org");
	addrlist_free(&l);

	expect("John \"the man\" Doe <j@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John the man Doe", "j@example.org");
	addrlist_free(&l);

	/* obs-phrase: a '.' in an unquoted display name */
	expect("John Q. Public <jqp@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John Q. Public", "jqp@example.org");
	addrlist_free(&l);

	/* RFC 2047 encoded words are the caller's business */
	expect("=?UTF-8?Q?J=C3=B6rg?= <j@example.de>", 0, 1, &l);
	check_addr(&l, 0, "=?UTF-8?Q?J=C3=B6rg?=", "j@example.de");
	addrlist_free(&l);

	/* no space before '<' */
	expect("Jane<jane@example.org>", 0, 1, &l);
	check_addr(&l, 0, "Jane", "jane@example.org");
	addrlist_free(&l);
}

static void
test_comments(void **state)
{
	struct addrlist l;

	(void)state;
	expect("john@example.org (John Doe)", 0, 1, &l);
	check_addr(&l, 0, NULL, "john@example.org");
	addrlist_free(&l);

	expect("(c) <a@b>", 0, 1, &l);
	check_addr(&l, 0, NULL, "a@b");
	addrlist_free(&l);

	/* nested, with an escaped parenthesis and comma */
	expect("a(x(y\\)z, w)v)@(c)example.org(d(e)), (f)b@c(g)", 0, 2, &l);
	check_addr(&l, 0, NULL, "a@example.org");
	check_addr(&l, 1, NULL, "b@c");
	addrlist_free(&l);

	/* a comment separates words of a display name */
	expect("John(middle)Doe <jd@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John Doe", "jd@example.org");
	addrlist_free(&l);

	/* CFWS around the dots and '@' of an addr-spec (obs-local-part) */
	expect("john . doe @ example . org", 0, 1, &l);
	check_addr(&l, 0, NULL, "john.doe@example.org");
	addrlist_free(&l);

	expect("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	    0, 1, &l);
	check_addr(&l, 0, "Pete", "pete@silly.test");
	addrlist_free(&l);

	/* a comma inside a comment is not a separator */
	expect("(a, b) x@y, (c,d)", 0, 1, &l);
	check_addr(&l, 0, NULL, "x@y");
	addrlist_free(&l);
}

static void
test_quoted(void **state)
{
	struct addrlist l;

	(void)state;
	expect("\"John \\\"JD\\\" Doe\" <jd@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John \"JD\" Doe", "jd@example.org");
	addrlist_free(&l);

	expect("\"back\\\\slash\" <b@example.org>", 0, 1, &l);
	check_addr(&l, 0, "back\\slash", "b@example.org");
	addrlist_free(&l);

	/* whitespace runs collapsed and trimmed */
	expect("\"  John \t  Doe  \" <j@example.org>", 0, 1, &l);
	check_addr(&l, 0, "John Doe", "j@example.org");
	addrlist_free(&l);

	/* an empty display name is no display name */
	expect("\"\" <j@example.org>", 0, 1, &l);
	check_addr(&l, 0, NULL, "j@example.org");
	addrlist_free(&l);

	/* quoted local parts keep their quotes and escapes */
	expect("\"john doe\"@example.org", 0, 1, &l);
	check_addr(&l, 0, NULL, "\"john doe\"@example.org");
	assert_int_equal(l.v[0].local_len, 10);
	addrlist_free(&l);

	expect("Weird <\"a\\\"b@c\"@example.org>", 0, 1, &l);
	check_addr(&l, 0, "Weird", "\"a\\\"b@c\"@example.org");
	assert_int_equal(l.v[0].local_len, 8);
	addrlist_free(&l);

	/* obs-local-part mixing words */
	expect("\"john\".doe@example.org", 0, 1, &l);
	check_addr(&l, 0, NULL, "\"john\".doe@example.org");
	addrlist_free(&l);
}

static void
test_folded(void **state)
{
	struct addrlist l;

	(void)state;
	expect("a@b.c,\r\n\tJohn\r\n Doe <j@d.e>,\r\n \"x\r\n  y\" <x@y.z>,\n"
	    " \"q\r\n r\"@s.t\r\n", 0, 4, &l);
	check_addr(&l, 0, NULL, "a@b.c");
	check_addr(&l, 1, "John Doe", "j@d.e");
	check_addr(&l, 2, "x y", "x@y.z");
	/* the fold goes, the blank stays: exactly what unfolding gives */
	check_addr(&l, 3, NULL, "\"q r\"@s.t");
	addrlist_free(&l);
}

static void
test_utf8(void **state)
{
	struct addrlist l;

	(void)state;
	expect("J\xc3\xb6rg M\xc3\xbcller <joerg@example.de>", 0, 1, &l);
	check_addr(&l, 0, "J\xc3\xb6rg M\xc3\xbcller", "joerg@example.de");
	addrlist_free(&l);

	expect("\"Zo\xc3\xab, \xc3\x9cnal\" <z@example.de>, "
	    "\xe7\x94\xb0\xe4\xb8\xad <tanaka@example.jp>", 0, 2, &l);
	check_addr(&l, 0, "Zo\xc3\xab, \xc3\x9cnal", "z@example.de");
	check_addr(&l, 1, "\xe7\x94\xb0\xe4\xb8\xad", "tanaka@example.jp");
	addrlist_free(&l);

	/* RFC 6532 addresses */
	expect("j\xc3\xb6rg@b\xc3\xbc" "cher.de", 0, 1, &l);
	check_addr(&l, 0, NULL, "j\xc3\xb6rg@b\xc3\xbc" "cher.de");
	assert_int_equal(l.v[0].local_len, 5);
	addrlist_free(&l);
}

static void
test_groups(void **state)
{
	struct addrlist l;

	(void)state;
	expect("Team: a@x.org, \"B, b\" <b@y.org>, C (c) <c@z.org>;", 0, 3,
	    &l);
	check_addr(&l, 0, NULL, "a@x.org");
	check_addr(&l, 1, "B, b", "b@y.org");
	check_addr(&l, 2, "C", "c@z.org");
	addrlist_free(&l);

	/* groups among mailboxes, CFWS after the ';' */
	expect("first@x, Team: a@x, b@y; (end), last@z, Other:c@w;", 0, 5,
	    &l);
	check_addr(&l, 0, NULL, "first@x");
	check_addr(&l, 1, NULL, "a@x");
	check_addr(&l, 2, NULL, "b@y");
	check_addr(&l, 3, NULL, "last@z");
	check_addr(&l, 4, NULL, "c@w");
	addrlist_free(&l);

	expect("undisclosed-recipients:;", 0, 0, &l);
	addrlist_free(&l);
	expect("undisclosed-recipients: (nobody) ;", 0, 0, &l);
	addrlist_free(&l);
	expect("\"A group\": , ,;, x@y", 0, 1, &l);
	check_addr(&l, 0, NULL, "x@y");
	addrlist_free(&l);

	/* unqualified member */
	expect("Admins: root, postmaster@example.org;", 0, 2, &l);
	check_addr(&l, 0, NULL, "root");
	check_addr(&l, 1, NULL, "postmaster@example.org");
	addrlist_free(&l);
	expect("Admins: postmaster, root;", 0, 2, &l);
	check_addr(&l, 1, NULL, "root");
	addrlist_free(&l);
}

static void
test_domain_literals(void **state)
{
	struct addrlist l;

	(void)state;
	expect("a@[192.0.2.1], B <b@[IPv6:2001:db8::1]>, c@[ 192.0.2.2 ]", 0,
	    3, &l);
	check_addr(&l, 0, NULL, "a@[192.0.2.1]");
	check_addr(&l, 1, "B", "b@[IPv6:2001:db8::1]");
	check_addr(&l, 2, NULL, "c@[192.0.2.2]");
	addrlist_free(&l);
}

static void
test_route(void **state)
{
	struct addrlist l;

	(void)state;
	expect("<@a.org,@b.org:x@y.org>, Joe <@c.org:joe@d.org>, "
	    "<,@e.org,,@f.org:z@g.org>", 0, 3, &l);
	check_addr(&l, 0, NULL, "x@y.org");
	check_addr(&l, 1, "Joe", "joe@d.org");
	check_addr(&l, 2, NULL, "z@g.org");
	addrlist_free(&l);

	/* a route needs an '@', and a ':' after it */
	expect("<@a.org x@y.org>, ok@x", -1, 1, &l);
	check_addr(&l, 0, NULL, "ok@x");
	addrlist_free(&l);
	expect("<,:x@y.org>", -1, 0, &l);
	addrlist_free(&l);
}

static void
test_unqualified(void **state)
{
	struct addrlist l;

	(void)state;
	expect("root", 0, 1, &l);
	check_addr(&l, 0, NULL, "root");
	assert_false(l.v[0].qualified);
	assert_int_equal(l.v[0].local_len, 4);
	addrlist_free(&l);

	expect("root, postmaster@example.org, <webmaster>, Ops <ops>,"
	    " first.last", 0, 5, &l);
	check_addr(&l, 0, NULL, "root");
	check_addr(&l, 1, NULL, "postmaster@example.org");
	assert_true(l.v[1].qualified);
	check_addr(&l, 2, NULL, "webmaster");
	check_addr(&l, 3, "Ops", "ops");
	check_addr(&l, 4, NULL, "first.last");
	addrlist_free(&l);

	/* cron's "To: root" with the line ending left on */
	expect("root\r\n", 0, 1, &l);
	check_addr(&l, 0, NULL, "root");
	addrlist_free(&l);
}

static void
test_empty(void **state)
{
	struct addrlist l;
	const char *err = "unchanged";

	(void)state;
	expect("", 0, 0, &l);
	assert_null(l.v);
	expect("   \t ", 0, 0, &l);
	expect("\r\n", 0, 0, &l);
	expect("(just a comment)", 0, 0, &l);
	expect(", ,,\t,", 0, 0, &l);
	memset(&l, 0, sizeof(l));
	assert_int_equal(rfc5322_parse_addrlist(NULL, 0, &l, &err), 0);
	assert_int_equal(l.n, 0);

	expect(", ,a@b,, ,c@d,", 0, 2, &l);
	check_addr(&l, 0, NULL, "a@b");
	check_addr(&l, 1, NULL, "c@d");
	addrlist_free(&l);
	addrlist_free(&l);	/* twice is harmless */
	addrlist_free(NULL);
}

static void
test_garbage(void **state)
{
	struct addrlist l;
	const char *err;

	(void)state;
	expect("a@b.c, <<<>>>, d@e.f", -1, 2, &l);
	check_addr(&l, 0, NULL, "a@b.c");
	check_addr(&l, 1, NULL, "d@e.f");
	addrlist_free(&l);

	expect("a@b, John Doe, c@d", -1, 2, &l);
	check_addr(&l, 1, NULL, "c@d");
	addrlist_free(&l);

	/* missing comma: the rest of that element is lost */
	expect("a@b c@d, e@f", -1, 2, &l);
	check_addr(&l, 0, NULL, "a@b");
	check_addr(&l, 1, NULL, "e@f");
	addrlist_free(&l);

	expect("x@, @y, a@b.., .a@b, a..b@c, a.@b, ok@example.org", -1, 1,
	    &l);
	check_addr(&l, 0, NULL, "ok@example.org");
	addrlist_free(&l);

	/* x@y parsed before the stray ';' was seen, so it stays */
	expect("<>, a>b, x@y; z@w, \\, ) , ]", -1, 1, &l);
	check_addr(&l, 0, NULL, "x@y");
	addrlist_free(&l);

	expect("G: H: a@b;; c@d", -1, 0, &l);
	addrlist_free(&l);

	expect("a@[1.2[3], b@c", -1, 1, &l);
	check_addr(&l, 0, NULL, "b@c");
	addrlist_free(&l);

	/* NUL and control characters are never part of an address */
	memset(&l, 0, sizeof(l));
	assert_int_equal(parse_n("a@b\0c@d, e\x01@f, g@h", 18, &l, &err), -1);
	assert_int_equal(l.n, 2);
	check_addr(&l, 0, NULL, "a@b");
	check_addr(&l, 1, NULL, "g@h");
	addrlist_free(&l);

	/* a line break in quotes that is not folding: header injection */
	expect("\"a\r\nRCPT TO:<x@y>\"@b.c, ok@d", -1, 1, &l);
	check_addr(&l, 0, NULL, "ok@d");
	addrlist_free(&l);
	expect("\"a\\\r\n b\"@c", -1, 0, &l);
	addrlist_free(&l);

	/* outside quotes a line break is only white space */
	expect("a@b\r\nRCPT TO:<x@y>", -1, 1, &l);
	check_addr(&l, 0, NULL, "a@b");
	addrlist_free(&l);

	/* control characters inside quotes are refused too */
	expect("\"a\x01b\" <a@b>, c@d", -1, 1, &l);
	check_addr(&l, 0, NULL, "c@d");
	addrlist_free(&l);

	/* a domain literal is no display name */
	expect("[External] John <j@x.org>, k@y", -1, 1, &l);
	check_addr(&l, 0, NULL, "k@y");
	addrlist_free(&l);

	/* resync skips commas inside comments and quoted strings */
	expect("a@b c(x, y) \"d, e\" f, g@h", -1, 2, &l);
	check_addr(&l, 0, NULL, "a@b");
	check_addr(&l, 1, NULL, "g@h");
	addrlist_free(&l);

	/* a stray ';' outside a group */
	expect("a@b, ;, c@d", -1, 2, &l);
	check_addr(&l, 1, NULL, "c@d");
	addrlist_free(&l);

	/* bad domain inside angle brackets */
	expect("<a@>, <a@b.>, <a.@b>, ok@x", -1, 1, &l);
	check_addr(&l, 0, NULL, "ok@x");
	addrlist_free(&l);

	/* error_r may be NULL */
	memset(&l, 0, sizeof(l));
	assert_int_equal(rfc5322_parse_addrlist("<>", 2, &l, NULL), -1);
	addrlist_free(&l);
}

static void
test_unterminated(void **state)
{
	struct addrlist l;

	(void)state;
	expect("a@b, \"John <j@x.org>, k@y", -1, 1, &l);
	check_addr(&l, 0, NULL, "a@b");
	addrlist_free(&l);

	expect("a@b (oops, c@d", -1, 1, &l);
	check_addr(&l, 0, NULL, "a@b");
	addrlist_free(&l);

	expect("John <j@x.org, k@y.org", -1, 1, &l);
	check_addr(&l, 0, NULL, "k@y.org");
	addrlist_free(&l);

	expect("<a@b", -1, 0, &l);
	expect("<", -1, 0, &l);
	expect("\"", -1, 0, &l);
	expect("(", -1, 0, &l);
	expect("((())", -1, 0, &l);
	expect("(\\", -1, 0, &l);
	expect("\"\\", -1, 0, &l);
	expect("[", -1, 0, &l);
	expect("a@[1.2.3.4", -1, 0, &l);
	expect("a@", -1, 0, &l);
	expect("a@b.", -1, 0, &l);
	expect("a.", -1, 0, &l);
	expect("John <@", -1, 0, &l);
	expect("John <@a", -1, 0, &l);

	/* a group without its ';' keeps its members */
	expect("G: a@b, c@d", -1, 2, &l);
	check_addr(&l, 1, NULL, "c@d");
	addrlist_free(&l);
	expect("G:", -1, 0, &l);
}

static void
test_lenient(void **state)
{
	struct addrlist l;

	(void)state;
	/* Outlook and others put the address in the display name */
	expect("john@example.org <john@example.org>, "
	    "'jane@example.org' <jane@example.org>", 0, 2, &l);
	check_addr(&l, 0, "john@example.org", "john@example.org");
	check_addr(&l, 1, "'jane@example.org'", "jane@example.org");
	addrlist_free(&l);
}

static void
test_bounds(void **state)
{
	struct addrlist l;
	struct buf b;
	const char *err;
	char want[32];
	size_t i;

	(void)state;
	/* only len bytes are looked at */
	memset(&l, 0, sizeof(l));
	assert_int_equal(parse_n("a@b.c, d@e.f", 5, &l, &err), 0);
	assert_int_equal(l.n, 1);
	check_addr(&l, 0, NULL, "a@b.c");
	addrlist_free(&l);
	assert_int_equal(parse_n("\"abc\" <x@y>", 4, &l, &err), -1);
	assert_int_equal(parse_n("(abc) x@y", 4, &l, &err), -1);
	assert_int_equal(parse_n("a@[1] x", 4, &l, &err), -1);

	/* many addresses, appended over two calls */
	buf_init(&b);
	for (i = 0; i < 300; i++)
		buf_printf(&b, "%su%zu@example.org", i ? ", " : "", i);
	memset(&l, 0, sizeof(l));
	assert_int_equal(parse(b.data, &l, &err), 0);
	assert_int_equal(parse("extra@example.org", &l, &err), 0);
	assert_int_equal(l.n, 301);
	for (i = 0; i < 300; i++) {
		snprintf(want, sizeof(want), "u%zu@example.org", i);
		check_addr(&l, i, NULL, want);
	}
	check_addr(&l, 300, NULL, "extra@example.org");
	addrlist_free(&l);
	buf_free(&b);

	/* deep nesting costs no stack */
	buf_init(&b);
	for (i = 0; i < 100000; i++)
		buf_addc(&b, '(');
	for (i = 0; i < 100000; i++)
		buf_addc(&b, ')');
	buf_adds(&b, "a@b");
	memset(&l, 0, sizeof(l));
	assert_int_equal(parse(b.data, &l, &err), 0);
	assert_int_equal(l.n, 1);
	addrlist_free(&l);
	buf_free(&b);
}

static void
test_field_name_len(void **state)
{
	(void)state;
	assert_int_equal(rfc5322_field_name_len("To: a@b", 7), 2);
	assert_int_equal(rfc5322_field_name_len("Subject:x", 9), 7);
	assert_int_equal(rfc5322_field_name_len("a:", 2), 1);
	assert_int_equal(rfc5322_field_name_len("X-Mailer: x", 11), 8);
	/* obsolete WSP before the colon: the offset of the colon */
	assert_int_equal(rfc5322_field_name_len("To  : a@b", 9), 4);
	assert_int_equal(rfc5322_field_name_len("To\t:", 4), 3);
	/* not header fields */
	assert_int_equal(rfc5322_field_name_len(": x", 3), 0);
	assert_int_equal(rfc5322_field_name_len(" To: x", 6), 0);
	assert_int_equal(rfc5322_field_name_len("\tcontinued", 10), 0);
	assert_int_equal(rfc5322_field_name_len("To x", 4), 0);
	assert_int_equal(rfc5322_field_name_len("From foo@bar Mon", 16), 0);
	assert_int_equal(rfc5322_field_name_len("To", 2), 0);
	assert_int_equal(rfc5322_field_name_len("To  ", 4), 0);
	assert_int_equal(rfc5322_field_name_len("", 0), 0);
	assert_int_equal(rfc5322_field_name_len(NULL, 0), 0);
	assert_int_equal(rfc5322_field_name_len("\r\n", 2), 0);
	assert_int_equal(rfc5322_field_name_len("X-\xc3\x9c: y", 7), 0);
	assert_int_equal(rfc5322_field_name_len("Na\x7fme: y", 8), 0);
	assert_int_equal(rfc5322_field_name_len("Na me: y", 8), 0);
	/* len is respected */
	assert_int_equal(rfc5322_field_name_len("To: x", 2), 0);
	assert_int_equal(rfc5322_field_name_len("To: x", 3), 2);
}

static void
check_unfold(const char *in, size_t len, const char *want)
{
	char *copy = xmalloc(len ? len : 1), *got;

	memcpy(copy, in, len);
	got = rfc5322_unfold(copy, len);
	assert_string_equal(got, want);
	free(got);
	free(copy);
}

static void
test_unfold(void **state)
{
	(void)state;
	check_unfold("a\r\n b", 5, "a b");
	check_unfold("a\n\tb", 4, "a\tb");
	check_unfold("a,\r\n  b,\r\n\tc", 12, "a,  b,\tc");
	check_unfold("a\r\n \r\n c", 8, "a  c");
	/* a break not followed by a blank is not folding */
	check_unfold("a\r\nb", 4, "a\r\nb");
	check_unfold("a\r\n", 3, "a\r\n");
	check_unfold("a\n", 2, "a\n");
	check_unfold("a\r b", 4, "a\r b");
	check_unfold("", 0, "");
	check_unfold("plain", 5, "plain");
	/* len is respected: the blank after the break is not seen */
	check_unfold("a\r\n b", 3, "a\r\n");
	check_unfold("a\n b", 2, "a\n");
}

static void
test_valid_mailbox(void **state)
{
	static const char *good[] = {
		"a@b",
		"john.doe@example.org",
		"user+tag@mail-1.example.org",
		"!#$%&'*+/=?^_`{|}~@example.org",
		"\"a b\"@c.d",
		"\"a\\\"b\"@c.d",
		"\"-dash\"@c.d",
		"a@[127.0.0.1]",
		"a@[IPv6:::1]",
		"a@[IPv6:2001:db8::1]",
		"a@[x-tag:anything]",
		"x@xn--bcher-kva.de",
		"a@1.2.3.4.example",
		"j\xc3\xb6rg@b\xc3\xbc" "cher.de",
		"\xe7\x94\xb0\xe4\xb8\xad@\xe4\xbe\x8b\xe3\x81\x88.jp",
		"\xf0\x9f\x93\xa7@example.org",
		"\"j\xc3\xb6rg doe\"@example.de",
		/* 64 octets of local part */
		"1234567890123456789012345678901234567890"
		    "123456789012345678901234"
		    "@example.org",
		"a@1234567890123456789012345678901234567890"
		    "12345678901234567890123"
		    ".example.org",
	};
	static const char *bad[] = {
		"",
		"a@b\r\nRCPT TO:<x@y>",
		"a@b\n",
		"a\r@b",
		"-oQ/tmp@example.org",
		"-f",
		"a b@c",
		"a@b c",
		" a@b",
		"a@b ",
		"a\t@b",
		"a@",
		"@b",
		"@",
		"a@b..c",
		"a@.b",
		"a@b.",
		".a@b",
		"a.@b",
		"a..b@c",
		"a@b@c",
		"a@-b.c",
		"a@b-.c",
		"a@b_c.d",
		"a@[127.0.0.1",
		"a@[127.0.0.1]x",
		"a@[300.0.0.1]",
		"a@[1.2.3]",
		"a@[]",
		"a@[IPv6:]",
		"a@[IPv6:xyz]",
		"a@[tag:]",
		"a@[-tag:x]",
		"a@[tag-:x]",
		"a@[tag:a\\b]",
		"a@[tag:a b]",
		"\"a\"b@c",
		"\"a@c",
		"\"\"@c",
		"\"a\nb\"@c",
		"\"a\\\nb\"@c",
		"\"a\x7f\"@c",
		"a\x7f@c",
		"(comment)a@b",
		"<a@b>",
		"a,b@c",
		"\xc3@x",
		"\xc0\xaf@x",
		"\xed\xa0\x80@x",
		"\xf5\x80\x80\x80@x",
		"a@\xff.de",
		/* 65 octets of local part */
		"1234567890123456789012345678901234567890"
		    "1234567890123456789012345"
		    "@example.org",
		/* a 64-octet label */
		"a@1234567890123456789012345678901234567890"
		    "123456789012345678901234"
		    ".example.org",
	};
	char big[300];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		if (!rfc5321_valid_mailbox(good[i], false))
			fail_msg("should be valid: \"%s\"", good[i]);
		assert_true(rfc5321_valid_mailbox(good[i], true));
	}
	for (i = 0; i < nitems(bad); i++) {
		if (rfc5321_valid_mailbox(bad[i], true))
			fail_msg("should be invalid: \"%s\"", bad[i]);
	}
	assert_false(rfc5321_valid_mailbox(NULL, true));

	/* unqualified only on request */
	assert_false(rfc5321_valid_mailbox("root", false));
	assert_true(rfc5321_valid_mailbox("root", true));
	assert_true(rfc5321_valid_mailbox("first.last", true));
	assert_true(rfc5321_valid_mailbox("\"a b\"", true));
	assert_false(rfc5321_valid_mailbox("-root", true));
	assert_false(rfc5321_valid_mailbox("ro ot", true));

	/* a domain of 255 octets is fine, 256 is not */
	memcpy(big, "a@", 2);
	for (i = 0; i < 255; i++)
		big[2 + i] = i % 2 ? '.' : 'x';
	big[2 + 255] = '\0';
	assert_true(rfc5321_valid_mailbox(big, false));
	big[2 + 255] = 'x';
	big[2 + 256] = '\0';
	big[2 + 254] = '.';
	assert_false(rfc5321_valid_mailbox(big, false));
}

static void
test_needs_utf8(void **state)
{
	(void)state;
	assert_false(rfc5321_needs_utf8("john@example.org"));
	assert_false(rfc5321_needs_utf8(""));
	assert_false(rfc5321_needs_utf8(NULL));
	assert_true(rfc5321_needs_utf8("j\xc3\xb6rg@example.de"));
	assert_true(rfc5321_needs_utf8("a@b\xc3\xbc" "cher.de"));
	assert_true(rfc5321_needs_utf8("\xff"));
}

/* What -t does: parse a header, check every recipient for the envelope. */
static void
test_round_trip(void **state)
{
	struct addrlist l;
	char *body;
	const char *field = "To: \"Doe, John\" <john@example.org>,\r\n"
	    "\troot, Team: \"j\xc3\xb6rg\"@b\xc3\xbc" "cher.de;\r\n";
	size_t n, i;
	const char *err;

	(void)state;
	n = rfc5322_field_name_len(field, strlen(field));
	assert_int_equal(n, 2);
	body = rfc5322_unfold(field + n + 1, strlen(field + n + 1));
	memset(&l, 0, sizeof(l));
	assert_int_equal(parse(body, &l, &err), 0);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++)
		assert_true(rfc5321_valid_mailbox(l.v[i].spec, true));
	assert_false(rfc5321_needs_utf8(l.v[0].spec));
	assert_true(rfc5321_needs_utf8(l.v[2].spec));
	check_addr(&l, 2, NULL, "\"j\xc3\xb6rg\"@b\xc3\xbc" "cher.de");
	addrlist_free(&l);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_php_style),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_domain_literals),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_unqualified),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_field_name_len),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_valid_mailbox),
		cmocka_unit_test(test_needs_utf8),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
