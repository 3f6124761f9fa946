/*
 * NAME
 *	dkim_canon.c - DKIM canonicalization (RFC 6376 3.4), streaming
 * SYNOPSIS
 *	void dkim_body_init(b, canon, out, arg)
 *	void dkim_body_update(b, data, len)
 *	void dkim_body_final(b)
 *
 *	void dkim_header_canon(canon, field, len, crlf, out, arg)
 *
 *	int dkim_canon_parse(text, header_r, body_r)
 *	const char *dkim_canon_name(canon)
 * DESCRIPTION
 *	The body canonicalizer is a state machine fed the body in pieces
 *	of any size (a 100 MB body never sits in memory); it passes the
 *	canonical octets to out() in blocks of up to DKIM_BODY_BUF, and
 *	counts them in b->length (for l=).  Splitting the input
 *	differently never changes the output: the fuzz target checks it.
 *
 *	A line ends at CRLF only; a CR or LF on its own is an ordinary
 *	octet, as RFC 6376 has it.  (plume's own bodies hold none: every
 *	line end is CRLF before a filter sees it.)  Empty lines are held
 *	back as a count and passed on only when a line with content
 *	follows, so trailing empty lines vanish without buffering them.
 *
 *	simple (3.4.3): the lines as they are, trailing empty lines
 *	removed; a last line without CRLF gets one; an empty body is CRLF.
 *
 *	relaxed (3.4.4): in addition, white space (SP, HTAB) at the end of
 *	a line is removed and every other run of it becomes one SP; an
 *	empty body stays empty (a CRLF is added only to a body that is not
 *	empty).
 *
 *	dkim_header_canon() takes one field as plume keeps it, "Name:
 *	value" with its folding and without the final CRLF, and appends
 *	the canonical form, with CRLF unless crlf is false (the signature's
 *	own field is hashed without it, 3.7).  relaxed (3.4.2): the name
 *	lower-cased, white space around the colon removed, the value
 *	unfolded, runs of white space made one SP, white space at the end
 *	removed.  Unfolding drops every CR and LF of the field, as OpenDKIM
 *	does; for well-formed fields (CRLF only before white space, all
 *	plume ever hands a filter) that is exactly removing the CRLFs.
 *
 *	dkim_canon_parse() reads "relaxed/simple", "simple", ... (a lone
 *	name is the header's, the body's is then simple, 3.5 c=).
 * DIAGNOSTICS
 *	dkim_canon_parse() returns -1 on an unknown name.
 */
#include <string.h>

#include "dkim_canon.h"

static void
body_put(struct dkim_body *b, const void *p, size_t n)
{
	const unsigned char *s = p;

	b->length += n;
	while (n > 0) {
		size_t k = sizeof(b->buf) - b->n;

		if (k > n)
			k = n;
		memcpy(b->buf + b->n, s, k);
		b->n += k;
		s += k;
		n -= k;
		if (b->n == sizeof(b->buf)) {
			b->out(b->arg, b->buf, b->n);
			b->n = 0;
		}
	}
}

void
dkim_body_init(struct dkim_body *b, enum dkim_canon canon, dkim_out_fn out,
    void *arg)
{
	memset(b, 0, offsetof(struct dkim_body, buf));
	b->canon = canon;
	b->out = out;
	b->arg = arg;
}

/* Octets with content (never CR, never white space in relaxed mode). */
static void
body_data(struct dkim_body *b, const unsigned char *p, size_t n)
{
	if (!b->line) {
		for (; b->held > 0; b->held--)
			body_put(b, "\r\n", 2);
		b->line = true;
	}
	if (b->wsp) {
		body_put(b, " ", 1);
		b->wsp = false;
	}
	body_put(b, p, n);
}

static void
body_line_end(struct dkim_body *b)
{
	b->wsp = false;		/* white space at the end of a line goes */
	if (b->line) {
		body_put(b, "\r\n", 2);
		b->line = false;
	} else
		b->held++;
}

void
dkim_body_update(struct dkim_body *b, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len, *q;
	bool relaxed = b->canon == DKIM_CANON_RELAXED;

	while (p < end) {
		if (b->cr) {
			b->cr = false;
			if (*p == '\n') {
				body_line_end(b);
				p++;
				continue;
			}
			body_data(b, (const unsigned char *)"\r", 1);
			continue;	/* *p is looked at afresh */
		}
		if (*p == '\r') {
			b->cr = true;
			p++;
			continue;
		}
		if (relaxed && (*p == ' ' || *p == '\t')) {
			b->wsp = true;
			p++;
			continue;
		}
		/* a run of ordinary octets, passed on in one piece */
		if (relaxed)
			for (q = p + 1; q < end && *q != '\r' && *q != ' ' &&
			    *q != '\t'; q++)
				;
		else if ((q = memchr(p + 1, '\r', (size_t)(end - p - 1))) ==
		    NULL)
			q = end;
		body_data(b, p, (size_t)(q - p));
		p = q;
	}
}

void
dkim_body_final(struct dkim_body *b)
{
	if (b->cr) {
		b->cr = false;
		body_data(b, (const unsigned char *)"\r", 1);
	}
	if (b->line)		/* a last line without its CRLF */
		body_line_end(b);
	b->held = 0;		/* trailing empty lines */
	b->wsp = false;
	if (b->canon == DKIM_CANON_SIMPLE && b->length == 0)
		body_put(b, "\r\n", 2);
	if (b->n > 0) {
		b->out(b->arg, b->buf, b->n);
		b->n = 0;
	}
}

/* A small output buffer for one header field. */
struct hout {
	dkim_out_fn out;
	void	*arg;
	size_t	 n;
	char	 buf[512];
};

static void
hout_put(struct hout *h, char c)
{
	if (h->n == sizeof(h->buf)) {
		h->out(h->arg, h->buf, h->n);
		h->n = 0;
	}
	h->buf[h->n++] = c;
}

void
dkim_header_canon(enum dkim_canon canon, const char *f, size_t len,
    bool crlf, dkim_out_fn out, void *arg)
{
	struct hout h = { out, arg, 0, { 0 } };
	const char *colon, *end = f + len;
	size_t name_len;
	bool started = false, wsp = false;

	if (canon == DKIM_CANON_SIMPLE) {
		out(arg, f, len);
		if (crlf)
			out(arg, "\r\n", 2);
		return;
	}
	colon = memchr(f, ':', len);
	name_len = colon != NULL ? (size_t)(colon - f) : len;
	while (name_len > 0 && (f[name_len - 1] == ' ' ||
	    f[name_len - 1] == '\t' || f[name_len - 1] == '\r' ||
	    f[name_len - 1] == '\n'))
		name_len--;
	for (size_t i = 0; i < name_len; i++) {
		char c = f[i];

		if (c != '\r' && c != '\n')
			hout_put(&h, c >= 'A' && c <= 'Z' ?
			    (char)(c - 'A' + 'a') : c);
	}
	hout_put(&h, ':');
	for (const char *p = colon != NULL ? colon + 1 : end; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (*p == ' ' || *p == '\t') {
			wsp = started;
			continue;
		}
		if (wsp)
			hout_put(&h, ' ');
		wsp = false;
		started = true;
		hout_put(&h, *p);
	}
	if (crlf) {
		hout_put(&h, '\r');
		hout_put(&h, '\n');
	}
	if (h.n > 0)
		out(arg, h.buf, h.n);
}

int
dkim_canon_parse(const char *s, enum dkim_canon *hc, enum dkim_canon *bc)
{
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);

	if (n == 6 && strncmp(s, "simple", 6) == 0)
		*hc = DKIM_CANON_SIMPLE;
	else if (n == 7 && strncmp(s, "relaxed", 7) == 0)
		*hc = DKIM_CANON_RELAXED;
	else
		return -1;
	if (slash == NULL)
		*bc = DKIM_CANON_SIMPLE;
	else if (strcmp(slash + 1, "simple") == 0)
		*bc = DKIM_CANON_SIMPLE;
	else if (strcmp(slash + 1, "relaxed") == 0)
		*bc = DKIM_CANON_RELAXED;
	else
		return -1;
	return 0;
}

const char *
dkim_canon_name(enum dkim_canon c)
{
	return c == DKIM_CANON_RELAXED ? "relaxed" : "simple";
}
