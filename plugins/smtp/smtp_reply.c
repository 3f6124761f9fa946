/*
 * NAME
 *	smtp_reply.c - SMTP reply parser
 * SYNOPSIS
 *	smtp_reply_init(&r);
 *	while ((st = smtp_reply_line(&r, line, len)) == SMTP_REPLY_MORE)
 *		...read the next line...
 * DESCRIPTION
 *	A reply is one or more lines "DDD-text" ending with "DDD text" (or
 *	a bare "DDD"), every line with the same code (RFC 5321 4.2.1).  The
 *	RFC 3463 enhanced status code, when the first line's text starts
 *	with one of the same class, is taken out of the text, and out of
 *	every later line that repeats it (as Gmail's replies do).  The text
 *	of all lines is joined with single spaces, so a result or log line
 *	is one line; what does not fit in SMTP_REPLY_TEXT_MAX is cut and
 *	marked.  A hostile server cannot make the parser use more memory
 *	than struct smtp_reply: a 100,000-line reply is read and counted,
 *	its first lines kept.
 *
 *	Anything else (no three digits, a digit class outside 2-5, a code
 *	that changes within a reply, a separator other than '-' or ' ') is
 *	SMTP_REPLY_BAD: the caller ends the session with a temporary
 *	failure, it never guesses.
 * DIAGNOSTICS
 *	None: the return value says it all.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->text[0] = '\0';
	r->nlines = 0;
	r->truncated = false;
}

/* Length of an RFC 3463 code "c.sss.ddd" of class cls at p, or 0. */
static size_t
enhanced_len(const char *p, size_t n, char cls)
{
	size_t i = 0, digits;

	if (n < 5 || p[0] != cls || p[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; i < n && p[i] >= '0' && p[i] <= '9' &&
		    digits < 3; i++)
			digits++;
		if (digits == 0)
			return 0;
		if (part == 0) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && p[i] != ' ')
		return 0;
	return i;
}

static void
text_add(struct smtp_reply *r, const char *p, size_t n)
{
	size_t have = strlen(r->text), room;

	if (n == 0)
		return;
	if (have > 0 && have + 1 < sizeof(r->text))
		r->text[have++] = ' ';
	room = sizeof(r->text) - 1 - have;
	if (n > room) {
		n = room;
		r->truncated = true;
	}
	for (size_t i = 0; i < n; i++)	/* control bytes never reach logs */
		r->text[have + i] = (unsigned char)p[i] < 0x20 ||
		    p[i] == 0x7f ? '?' : p[i];
	r->text[have + n] = '\0';
}

int
smtp_reply_line(struct smtp_reply *r, const char *line, size_t len)
{
	int code;
	const char *text;
	size_t tlen, el;
	bool last;

	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return SMTP_REPLY_BAD;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return SMTP_REPLY_BAD;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return SMTP_REPLY_BAD;
	r->code = code;
	last = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;

	if (r->nlines < SMTP_REPLY_LINES_MAX) {
		size_t k = tlen < SMTP_REPLY_LINE_MAX - 1 ? tlen :
		    SMTP_REPLY_LINE_MAX - 1;

		memcpy(r->lines[r->nlines], text, k);
		r->lines[r->nlines][k] = '\0';
	} else
		r->truncated = true;

	el = enhanced_len(text, tlen, line[0]);
	if (r->nlines == 0 && el > 0 && el < sizeof(r->enhanced)) {
		memcpy(r->enhanced, text, el);
		r->enhanced[el] = '\0';
	}
	if (el > 0 && r->enhanced[0] != '\0' &&
	    strncmp(text, r->enhanced, el) == 0 &&
	    strlen(r->enhanced) == el) {
		text += el;
		tlen -= el;
		while (tlen > 0 && *text == ' ') {
			text++;
			tlen--;
		}
	}
	text_add(r, text, tlen);
	r->nlines++;
	return last ? SMTP_REPLY_DONE : SMTP_REPLY_MORE;
}

const char *
smtp_reply_format(const struct smtp_reply *r, char *buf, size_t len)
{
	snprintf(buf, len, "%d%s%s%s%s%s", r->code,
	    r->enhanced[0] ? " " : "", r->enhanced,
	    r->text[0] ? " " : "", r->text, r->truncated ? " [...]" : "");
	return buf;
}
