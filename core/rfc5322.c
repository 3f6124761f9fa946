/*
 * NAME
 *	rfc5322.c - header-field and address-list parsing, envelope address
 *	checks
 * SYNOPSIS
 *	#include "rfc5322.h"
 *
 *	int
 *	rfc5322_parse_addrlist(const char *value, size_t len,
 *	    struct addrlist *out, const char **error_r)
 *
 *	void
 *	addrlist_free(struct addrlist *list)
 *
 *	size_t
 *	rfc5322_field_name_len(const char *line, size_t len)
 *
 *	char *
 *	rfc5322_unfold(const char *value, size_t len)
 *
 *	bool
 *	rfc5321_valid_mailbox(const char *s, bool allow_unqualified)
 *
 *	bool
 *	rfc5321_needs_utf8(const char *s)
 * DESCRIPTION
 *	rfc5322_parse_addrlist() reads an address-list (RFC 5322 section
 *	3.4, with the obsolete forms of section 4.4 and the UTF-8 of
 *	RFC 6532) and appends one struct addr per mailbox to out; the
 *	members of a group are appended like any other mailbox, the group
 *	name is dropped.  It is a small lexer (atoms, quoted strings, domain
 *	literals, specials; CFWS skipped and remembered as "there was a
 *	blank here") under a recursive descent that never nests deeper than
 *	group > angle-addr > route, so hostile input cannot exhaust the
 *	stack: nested comments are counted, not recursed into.
 *
 *	After an error the parser skips to the next comma that is not inside
 *	a quoted string or a comment (or to the ';' that closes the current
 *	group) and carries on, so one bad address does not lose the others.
 *
 *	The other functions are small and documented in rfc5322.h.
 * DIAGNOSTICS
 *	rfc5322_parse_addrlist() returns -1 and sets *error_r (when not NULL)
 *	to a static string describing the first problem found.
 * SEE ALSO
 *	RFC 5321, RFC 5322, RFC 6531, RFC 6532
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rfc5322.h"
#include "utf8.h"
#include "util.h"

/* RFC 5321 4.5.3.1: the sizes a server must accept. */
#define LOCAL_MAX	64
#define DOMAIN_MAX	255
#define LABEL_MAX	63

enum tok_type {
	T_END,
	T_ATOM,
	T_QSTRING,	/* "...", quotes included */
	T_DLIT,		/* [...], brackets included */
	T_SPECIAL,	/* one of ) < > ] : ; @ \ , . */
	T_ERROR		/* lexical error, reason in parser.lexerr */
};

struct tok {
	enum tok_type	 type;
	size_t		 start;	/* offset of the first byte */
	size_t		 len;
	bool		 ws_before; /* CFWS before it */
	unsigned char	 c;	/* T_SPECIAL: which one */
};

struct parser {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	const char		*error;	/* the first error seen */
	const char		*lexerr; /* why the last T_ERROR */
};

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 atext, widened by RFC 6532 to every byte of a UTF-8 sequence. */
static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	/* strchr() would match the terminating NUL. */
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Skip white space, line breaks and comments.  Line breaks are taken as
 * blanks outside quoted strings: the caller may or may not have
 * unfolded the field, and may have left its final CRLF on.
 */
static const char *
skip_cfws(struct parser *p, bool *skipped_r)
{
	size_t depth;
	unsigned char c;

	*skipped_r = false;
	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (is_wsp(c) || c == '\r' || c == '\n') {
			p->pos++;
			*skipped_r = true;
			continue;
		}
		if (c != '(')
			break;
		*skipped_r = true;
		depth = 0;
		do {
			c = p->s[p->pos++];
			if (c == '\\') {
				if (p->pos == p->len)
					break;
				p->pos++;
			} else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} while (depth > 0 && p->pos < p->len);
		if (depth > 0)
			return "unterminated comment";
	}
	return NULL;
}

/*
 * Find the end of a quoted string or domain literal opened at s[i].
 * Folding inside is allowed (a CRLF or LF followed by a blank), any
 * other line break or control character is not: what is inside may end
 * up in an SMTP command.
 */
static const char *
scan_delimited(const unsigned char *s, size_t len, size_t i,
    unsigned char close, size_t *end_r)
{
	const char *unterminated = close == '"' ?
	    "unterminated quoted string" : "unterminated domain literal";
	size_t j;
	unsigned char c;

	for (i++; i < len; i++) {
		c = s[i];
		if (c == close) {
			*end_r = i + 1;
			return NULL;
		}
		if (c == '\\') {
			if (++i == len)
				break;
			if (is_ctl(s[i]))
				return "control character after backslash";
		} else if (c == '\r' || c == '\n') {
			j = i + 1;
			if (c == '\r' && j < len && s[j] == '\n')
				j++;
			if (j == len || !is_wsp(s[j]))
				return "line break inside quotes or brackets";
			i = j;
		} else if (c == '[' && close == ']')
			return "'[' inside a domain literal";
		else if (is_ctl(c))
			return "control character inside quotes or brackets";
	}
	return unterminated;
}

/* Read the next token, skipping CFWS before it. */
static void
lex(struct parser *p, struct tok *t)
{
	const char *err;
	size_t i;
	unsigned char c;

	t->len = 0;
	t->c = 0;
	if ((err = skip_cfws(p, &t->ws_before)) != NULL) {
		t->type = T_ERROR;
		t->start = p->len;
		p->lexerr = err;
		return;
	}
	t->start = p->pos;
	if (p->pos >= p->len) {
		t->type = T_END;
		return;
	}
	c = p->s[p->pos];
	if (is_atext(c)) {
		for (i = p->pos; i < p->len && is_atext(p->s[i]); i++)
			continue;
		t->type = T_ATOM;
	} else if (c == '"' || c == '[') {
		err = scan_delimited(p->s, p->len, p->pos,
		    c == '"' ? '"' : ']', &i);
		if (err != NULL) {
			t->type = T_ERROR;
			p->lexerr = err;
			return;
		}
		t->type = c == '"' ? T_QSTRING : T_DLIT;
	} else if (c != '\0' && strchr(")<>]:;@\\,.", c) != NULL) {
		i = p->pos + 1;
		t->type = T_SPECIAL;
		t->c = c;
	} else {
		t->type = T_ERROR;
		p->lexerr = "invalid character";
		return;
	}
	t->len = i - p->pos;
	p->pos = i;
}

static void
peek(struct parser *p, struct tok *t)
{
	size_t pos = p->pos;

	lex(p, t);
	p->pos = pos;
}

static bool
is_special(const struct tok *t, unsigned char c)
{
	return t->type == T_SPECIAL && t->c == c;
}

/*
 * Record an error at token t and put the parser back in front of it,
 * so that resync() sees a separator that caused the error.
 */
static int
fail(struct parser *p, const struct tok *t, const char *why)
{
	if (t->type == T_ERROR)
		why = p->lexerr;
	else if (t->type == T_DLIT)
		why = "unexpected domain literal";
	if (p->error == NULL)
		p->error = why;
	p->pos = t->start;
	return -1;
}

/* Skip to the next top-level ',' (or the ';' closing the group). */
static void
resync(struct parser *p, bool in_group)
{
	size_t depth;
	unsigned char c;

	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c == ',' || (in_group && c == ';'))
			return;
		if (c == '"') {
			for (p->pos++; p->pos < p->len; p->pos++) {
				c = p->s[p->pos];
				if (c == '\\' && p->pos + 1 < p->len)
					p->pos++;
				else if (c == '"')
					break;
			}
		} else if (c == '(') {
			depth = 1;
			for (p->pos++; p->pos < p->len && depth > 0;
			    p->pos++) {
				c = p->s[p->pos];
				if (c == '\\' && p->pos + 1 < p->len)
					p->pos++;
				else if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
			}
			continue;
		}
		if (p->pos < p->len)
			p->pos++;
	}
}

/* A quoted string for a display name: quotes off, escapes resolved. */
static void
add_qstring_text(struct buf *b, const struct parser *p, const struct tok *t)
{
	size_t i, end = t->start + t->len - 1;

	for (i = t->start + 1; i < end; i++) {
		if (p->s[i] == '\\')
			i++;
		else if (p->s[i] == '\r' || p->s[i] == '\n')
			continue;
		buf_addc(b, (char)p->s[i]);
	}
}

/*
 * A quoted string or domain literal for an envelope address: as
 * written, less the line breaks of folding (and, in a domain literal,
 * the folding white space itself, which is not part of the address).
 */
static void
add_raw(struct buf *b, const struct parser *p, const struct tok *t,
    bool drop_wsp)
{
	size_t i, end = t->start + t->len;
	unsigned char c;

	for (i = t->start; i < end; i++) {
		c = p->s[i];
		if (c == '\\' && i + 1 < end) {
			buf_add(b, p->s + i, 2);
			i++;
			continue;
		}
		if (c == '\r' || c == '\n' || (drop_wsp && is_wsp(c)))
			continue;
		buf_addc(b, (char)c);
	}
}

/*
 * Collapse runs of blanks into one space and trim; NULL if empty.  Line
 * breaks and control characters count as blanks: the only way for them
 * to get here is a comment in the text kept before a lenient '<'.
 */
static char *
finish_display(struct buf *b)
{
	size_t i, o = 0;
	bool blank = false;
	unsigned char c;

	for (i = 0; i < b->len; i++) {
		c = (unsigned char)b->data[i];
		if (is_wsp(c) || is_ctl(c)) {
			blank = o > 0;
			continue;
		}
		if (blank)
			b->data[o++] = ' ';
		blank = false;
		b->data[o++] = (char)c;
	}
	if (o == 0) {
		buf_free(b);
		return NULL;
	}
	b->len = o;
	b->data[o] = '\0';
	return buf_detach(b);
}

static void
add_addr(struct addrlist *out, char *display, char *spec, size_t local_len,
    bool qualified)
{
	struct addr *a;

	/* Capacity is the next power of two >= n: grow when n is one. */
	if ((out->n & (out->n - 1)) == 0)
		out->v = xreallocarray(out->v, out->n ? out->n * 2 : 1,
		    sizeof(*out->v));
	a = &out->v[out->n++];
	a->display = display;
	a->spec = spec;
	a->local_len = local_len;
	a->qualified = qualified;
}

/* domain = dot-atom / domain-literal / obs-domain */
static int
parse_domain(struct parser *p, struct buf *b)
{
	struct tok t;

	lex(p, &t);
	if (t.type == T_DLIT) {
		add_raw(b, p, &t, true);
		return 0;
	}
	if (t.type != T_ATOM)
		return fail(p, &t, "missing domain after '@'");
	buf_add(b, p->s + t.start, t.len);
	for (;;) {
		peek(p, &t);
		if (!is_special(&t, '.'))
			return 0;
		lex(p, &t);
		lex(p, &t);
		if (t.type != T_ATOM)
			return fail(p, &t, "empty label in domain");
		buf_addc(b, '.');
		buf_add(b, p->s + t.start, t.len);
	}
}

/* local-part = word *("." word), which covers dot-atom and obs-local-part */
static int
parse_local(struct parser *p, struct buf *b)
{
	struct tok t;

	for (;;) {
		lex(p, &t);
		if (t.type == T_ATOM)
			buf_add(b, p->s + t.start, t.len);
		else if (t.type == T_QSTRING)
			add_raw(b, p, &t, false);
		else
			return fail(p, &t, "invalid local part");
		peek(p, &t);
		if (!is_special(&t, '.'))
			return 0;
		lex(p, &t);
		buf_addc(b, '.');
	}
}

/*
 * The rest of an angle-addr, "<" already read.  Takes display.  An
 * obsolete source route ("<@a,@b:x@y>") is parsed and dropped, as
 * RFC 5321 section 3.3 tells servers to do.
 */
static int
parse_angle(struct parser *p, struct addrlist *out, char *display)
{
	struct buf b, route;
	struct tok t;
	size_t local_len;
	bool qualified = false, saw_at = false;

	buf_init(&b);
	buf_init(&route);
	peek(p, &t);
	if (is_special(&t, '@') || is_special(&t, ',')) {
		for (;;) {
			lex(p, &t);
			if (is_special(&t, ','))
				continue;
			if (is_special(&t, '@')) {
				buf_reset(&route);
				if (parse_domain(p, &route) == -1)
					goto bad;
				saw_at = true;
				continue;
			}
			if (is_special(&t, ':') && saw_at)
				break;
			fail(p, &t, "invalid route in angle address");
			goto bad;
		}
	}
	peek(p, &t);
	if (is_special(&t, '>')) {
		fail(p, &t, "empty angle address");
		goto bad;
	}
	if (parse_local(p, &b) == -1)
		goto bad;
	local_len = b.len;
	lex(p, &t);
	if (is_special(&t, '@')) {
		buf_addc(&b, '@');
		if (parse_domain(p, &b) == -1)
			goto bad;
		qualified = true;
		lex(p, &t);
	}
	if (!is_special(&t, '>')) {
		fail(p, &t, "missing '>' after address");
		goto bad;
	}
	add_addr(out, display, buf_detach(&b), local_len, qualified);
	buf_free(&route);
	return 0;
bad:
	free(display);
	buf_free(&b);
	buf_free(&route);
	return -1;
}

/*
 * One element of the list: a mailbox, or the start of a group (its
 * name and ':'), which is reported in *group_r.  An element starts
 * with a phrase, which is also what an addr-spec's local part looks
 * like, so the words are collected both as a display name and as a
 * local part, and the token after them decides which it was.
 */
static int
parse_element(struct parser *p, bool in_group, struct addrlist *out,
    bool *group_r)
{
	struct buf disp, local;
	struct tok t;
	char *display;
	size_t start, local_len;
	bool expect_word = true, local_ok = true, any = false;

	*group_r = false;
	buf_init(&disp);
	buf_init(&local);
	peek(p, &t);
	start = t.start;
	for (;;) {
		peek(p, &t);
		if (t.type == T_ATOM || t.type == T_QSTRING) {
			/* Two words in a row: a phrase, not a local part. */
			if (!expect_word)
				local_ok = false;
			expect_word = false;
		} else if (is_special(&t, '.')) {
			if (expect_word)
				local_ok = false;
			expect_word = true;
		} else
			break;
		lex(p, &t);
		any = true;
		if (disp.len > 0 && t.ws_before)
			buf_addc(&disp, ' ');
		if (t.type == T_QSTRING) {
			add_qstring_text(&disp, p, &t);
			add_raw(&local, p, &t, false);
		} else {
			buf_add(&disp, p->s + t.start, t.len);
			buf_add(&local, p->s + t.start, t.len);
		}
	}
	if (expect_word)
		local_ok = false;

	lex(p, &t);
	if (is_special(&t, '<')) {
		buf_free(&local);
		display = any ? finish_display(&disp) : NULL;
		buf_free(&disp);
		return parse_angle(p, out, display);
	}
	if (is_special(&t, ':')) {
		buf_free(&local);
		buf_free(&disp);
		if (in_group)
			return fail(p, &t, "group inside a group");
		*group_r = true;
		return 0;
	}
	buf_free(&disp);
	if (is_special(&t, '@')) {
		if (!local_ok) {
			buf_free(&local);
			return fail(p, &t, "invalid local part");
		}
		local_len = local.len;
		buf_addc(&local, '@');
		if (parse_domain(p, &local) == -1) {
			buf_free(&local);
			return -1;
		}
		peek(p, &t);
		if (is_special(&t, '<')) {
			/*
			 * "john@example.org <john@example.org>": not
			 * RFC 5322, but common enough to be worth
			 * understanding; the text before '<' becomes the
			 * display name, as written.
			 */
			lex(p, &t);
			buf_free(&local);
			buf_add(&disp, p->s + start, t.start - start);
			return parse_angle(p, out, finish_display(&disp));
		}
		add_addr(out, NULL, buf_detach(&local), local_len, true);
		return 0;
	}
	if (t.type == T_END || is_special(&t, ',') ||
	    (in_group && is_special(&t, ';'))) {
		/* A bare local part ("To: root"), as cron writes it. */
		p->pos = t.start;
		if (!local_ok) {
			buf_free(&local);
			return fail(p, &t, any ?
			    "display name without an address" :
			    "missing address");
		}
		local_len = local.len;
		add_addr(out, NULL, buf_detach(&local), local_len, false);
		return 0;
	}
	buf_free(&local);
	return fail(p, &t, "unexpected character in address");
}

/* After an element: the end, a ',' or, in a group, the closing ';'. */
static int
expect_separator(struct parser *p, bool in_group)
{
	struct tok t;

	peek(p, &t);
	if (t.type == T_END || is_special(&t, ',') ||
	    (in_group && is_special(&t, ';')))
		return 0;
	return fail(p, &t, "expected ',' between addresses");
}

int
rfc5322_parse_addrlist(const char *value, size_t len, struct addrlist *out,
    const char **error_r)
{
	struct parser p;
	struct tok t;
	bool in_group = false, group;

	p.s = (const unsigned char *)value;
	p.len = value != NULL ? len : 0;
	p.pos = 0;
	p.error = NULL;
	p.lexerr = NULL;
	for (;;) {
		peek(&p, &t);
		if (t.type == T_END) {
			if (in_group && p.error == NULL)
				p.error = "group not closed with ';'";
			break;
		}
		if (is_special(&t, ',')) {
			lex(&p, &t);
			continue;
		}
		if (is_special(&t, ';')) {
			lex(&p, &t);
			if (!in_group) {
				fail(&p, &t, "';' outside a group");
				p.pos = t.start + 1;
				resync(&p, false);
				continue;
			}
			in_group = false;
			if (expect_separator(&p, false) == -1)
				resync(&p, false);
			continue;
		}
		if (parse_element(&p, in_group, out, &group) == -1) {
			resync(&p, in_group);
			continue;
		}
		if (group) {
			in_group = true;
			continue;
		}
		if (expect_separator(&p, in_group) == -1)
			resync(&p, in_group);
	}
	if (p.error != NULL) {
		if (error_r != NULL)
			*error_r = p.error;
		return -1;
	}
	return 0;
}

void
addrlist_free(struct addrlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].display);
		free(l->v[i].spec);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

size_t
rfc5322_field_name_len(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i;

	if (line == NULL)
		return 0;
	for (i = 0; i < len && s[i] >= 33 && s[i] <= 126 && s[i] != ':'; i++)
		continue;
	if (i == 0)
		return 0;
	/* obs-optional: WSP between the name and the colon. */
	while (i < len && is_wsp(s[i]))
		i++;
	if (i < len && s[i] == ':')
		return i;
	return 0;
}

char *
rfc5322_unfold(const char *value, size_t len)
{
	char *r = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (value[i] == '\r' && i + 2 < len && value[i + 1] == '\n' &&
		    is_wsp((unsigned char)value[i + 2])) {
			i++;
			continue;
		}
		if (value[i] == '\n' && i + 1 < len &&
		    is_wsp((unsigned char)value[i + 1]))
			continue;
		r[o++] = value[i];
	}
	r[o] = '\0';
	return r;
}

/*
 * RFC 6531 addresses must be UTF-8; refuse overlong forms, surrogates
 * and code points past U+10FFFF so that no two byte strings name the
 * same mailbox.
 */
static bool
utf8_valid(const unsigned char *s)
{
	size_t n;

	for (; *s != '\0'; s += n)
		if ((n = utf8_seq(s)) == 0)
			return false;
	return true;
}

static bool
is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5321 address-literal, brackets excluded, n octets at s. */
static bool
valid_address_literal(const unsigned char *s, size_t n)
{
	char tmp[DOMAIN_MAX + 1];
	unsigned char a6[16];
	size_t i;

	if (n == 0 || n > DOMAIN_MAX)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (n > 5 && strncasecmp(tmp, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, tmp + 5, a6) == 1;
	if (s[0] >= '0' && s[0] <= '9')
		return inet_pton(AF_INET, tmp, a6) == 1;
	/* General-address-literal = Standardized-tag ":" 1*dcontent */
	for (i = 0; i < n && (is_let_dig(s[i]) || s[i] == '-'); i++)
		continue;
	if (i == 0 || i == n || s[i] != ':' || s[0] == '-' ||
	    s[i - 1] == '-' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == '[' || s[i] == '\\' ||
		    s[i] == ']')
			return false;
	return true;
}

static bool
valid_domain(const unsigned char *s)
{
	const unsigned char *end;
	size_t n = strlen((const char *)s), label;

	if (n == 0 || n > DOMAIN_MAX)
		return false;
	if (s[0] == '[') {
		end = (const unsigned char *)strchr((const char *)s, ']');
		return end != NULL && end[1] == '\0' &&
		    valid_address_literal(s + 1, (size_t)(end - s - 1));
	}
	for (;;) {
		if (*s == '-')
			return false;
		for (label = 0; is_let_dig(*s) || *s == '-' || *s >= 0x80;
		    s++)
			label++;
		if (label == 0 || label > LABEL_MAX || s[-1] == '-')
			return false;
		if (*s == '\0')
			return true;
		if (*s++ != '.')
			return false;
	}
}

bool
rfc5321_valid_mailbox(const char *str, bool allow_unqualified)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;

	/* A leading '-' would read as an option on a command line. */
	if (s == NULL || s[0] == '\0' || s[0] == '-' || !utf8_valid(s))
		return false;
	if (s[0] == '"') {
		/* Quoted-string; "" is legal but names nobody. */
		for (i = 1; s[i] != '"'; i++) {
			if (s[i] == '\\') {
				i++;
				if (s[i] < 32 || s[i] > 126)
					return false;
			} else if (s[i] < 32 || s[i] == 127)
				return false;	/* NUL, CR, LF too */
		}
		if (i == 1)
			return false;
		i++;
	} else {
		/* Dot-string: no empty atom, so no leading, trailing or
		 * doubled dot. */
		for (i = 0;;) {
			if (!is_atext(s[i]))
				return false;
			while (is_atext(s[i]))
				i++;
			if (s[i] != '.')
				break;
			i++;
		}
	}
	if (i > LOCAL_MAX)
		return false;
	if (s[i] == '\0')
		return allow_unqualified;
	if (s[i] != '@')
		return false;
	return valid_domain(s + i + 1);
}

bool
rfc5321_needs_utf8(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}
