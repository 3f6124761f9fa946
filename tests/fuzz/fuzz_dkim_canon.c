/*
 * NAME
 *	fuzz_dkim_canon.c - fuzz DKIM canonicalization (plugins/dkim)
 * DESCRIPTION
 *	The first octet seeds how the rest is cut into pieces; the rest is
 *	both a message body and a header field.
 *
 *	Body, simple and relaxed: the streaming canonicalizer fed the
 *	input whole and fed it in pieces of pseudo-random sizes must both
 *	give what a plain reference implementation written from RFC 6376
 *	3.4.3 and 3.4.4 gives (split at CRLF, per line, trailing empty
 *	lines dropped); its octet count (l=) must be the output's length;
 *	canonicalizing the output again must change nothing; and relaxed
 *	output must hold no HTAB, no two SPs in a row, no SP before CRLF,
 *	no empty line at the end, and end with CRLF unless empty.
 *
 *	Header, relaxed: "name:value" CRLF with the name lower-case and
 *	trimmed, no CR or LF but the final CRLF, no HTAB, no two SPs in a
 *	row, no white space after the colon nor at the end, and again
 *	idempotent.  Simple: the field itself, CRLF added.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_canon.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct out {
	unsigned char *p;
	size_t	 len, cap;
};

static void
out_add(void *arg, const void *p, size_t n)
{
	struct out *o = arg;

	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 256;

		while (cap < o->len + n)
			cap *= 2;
		if ((o->p = realloc(o->p, cap)) == NULL)
			abort();
		o->cap = cap;
	}
	if (n > 0)
		memcpy(o->p + o->len, p, n);
	o->len += n;
}

static bool
same(const struct out *a, const struct out *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->p, b->p, a->len) == 0);
}

/* The streaming canonicalizer, fed pieces cut by the seed (0: whole). */
static void
body(enum dkim_canon c, const uint8_t *d, size_t len, unsigned seed,
    struct out *o)
{
	struct dkim_body *b = malloc(sizeof(*b));
	uint32_t x = seed * 2654435761u + 1;

	if (b == NULL)
		abort();
	dkim_body_init(b, c, out_add, o);
	while (len > 0) {
		size_t n = len;

		if (seed != 0) {
			x = x * 1103515245u + 12345u;
			n = 1 + (x >> 16) % 7;	/* CR and LF cut apart too */
			if (n > len)
				n = len;
		}
		dkim_body_update(b, d, n);
		d += n;
		len -= n;
	}
	dkim_body_final(b);
	if (b->length != o->len)
		abort();
	free(b);
}

/* RFC 6376 3.4.3 and 3.4.4, as plainly as possible. */
static void
reference(enum dkim_canon c, const uint8_t *d, size_t len, struct out *o)
{
	size_t nlines = 0, cap = 16, start = 0;
	struct out *lines = calloc(cap, sizeof(*lines));

	if (lines == NULL)
		abort();
	for (size_t i = 0; i <= len; i++) {
		bool crlf = i + 1 < len && d[i] == '\r' && d[i + 1] == '\n';

		if (!crlf && i < len)
			continue;
		if (!crlf && i == start) /* nothing after the last CRLF */
			break;
		if (nlines == cap) {
			cap *= 2;
			if ((lines = realloc(lines, cap * sizeof(*lines))) ==
			    NULL)
				abort();
		}
		memset(&lines[nlines], 0, sizeof(lines[nlines]));
		for (size_t k = start; k < i; k++) {
			bool wsp = d[k] == ' ' || d[k] == '\t';

			if (c == DKIM_CANON_RELAXED && wsp) {
				while (k + 1 < i && (d[k + 1] == ' ' ||
				    d[k + 1] == '\t'))
					k++;
				if (k + 1 == i)
					break;	/* white space at the end */
				out_add(&lines[nlines], " ", 1);
			} else
				out_add(&lines[nlines], &d[k], 1);
		}
		nlines++;
		if (!crlf)
			break;
		start = i + 2;
		i++;
	}
	while (nlines > 0 && lines[nlines - 1].len == 0)
		free(lines[--nlines].p);
	for (size_t i = 0; i < nlines; i++) {
		out_add(o, lines[i].p, lines[i].len);
		out_add(o, "\r\n", 2);
		free(lines[i].p);
	}
	if (nlines == 0 && c == DKIM_CANON_SIMPLE)
		out_add(o, "\r\n", 2);
	free(lines);
}

static void
check_body(enum dkim_canon c, const uint8_t *d, size_t len, unsigned seed)
{
	struct out whole = { 0 }, cut = { 0 }, ref = { 0 }, again = { 0 };

	body(c, d, len, 0, &whole);
	body(c, d, len, seed | 1, &cut);
	reference(c, d, len, &ref);
	if (!same(&whole, &cut) || !same(&whole, &ref))
		abort();
	body(c, whole.p, whole.len, 0, &again);
	if (!same(&whole, &again))
		abort();
	if (c == DKIM_CANON_RELAXED) {
		const unsigned char *p = whole.p;
		size_t n = whole.len;

		if (n > 0 && (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n'))
			abort();
		if (n >= 4 && memcmp(p + n - 4, "\r\n\r\n", 4) == 0)
			abort();
		if (n == 2)		/* an empty line alone */
			abort();
		for (size_t i = 0; i < n; i++) {
			if (p[i] == '\t')
				abort();
			if (p[i] == ' ' && i + 1 < n && (p[i + 1] == ' ' ||
			    (p[i + 1] == '\r' && i + 2 < n &&
			    p[i + 2] == '\n')))
				abort();
		}
	}
	free(whole.p);
	free(cut.p);
	free(ref.p);
	free(again.p);
}

static void
check_header(const uint8_t *d, size_t len)
{
	struct out r = { 0 }, s = { 0 }, again = { 0 };
	const unsigned char *p;
	size_t n, colon;

	dkim_header_canon(DKIM_CANON_SIMPLE, (const char *)d, len, true,
	    out_add, &s);
	if (s.len != len + 2 || (len > 0 && memcmp(s.p, d, len) != 0) ||
	    memcmp(s.p + len, "\r\n", 2) != 0)
		abort();
	dkim_header_canon(DKIM_CANON_RELAXED, (const char *)d, len, true,
	    out_add, &r);
	p = r.p;
	n = r.len;
	if (n < 3 || memcmp(p + n - 2, "\r\n", 2) != 0)
		abort();
	colon = (size_t)((unsigned char *)memchr(p, ':', n) - p);
	if (colon >= n - 2)
		abort();
	for (size_t i = 0; i < n - 2; i++) {
		if (p[i] == '\r' || p[i] == '\n' || (i > colon && p[i] == '\t'))
			abort();
		if (i < colon && p[i] >= 'A' && p[i] <= 'Z')
			abort();
		if (i > colon && p[i] == ' ' && (i + 1 == n - 2 ||
		    i == colon + 1 || p[i + 1] == ' '))
			abort();
	}
	if (colon > 0 && (p[colon - 1] == ' ' || p[colon - 1] == '\t'))
		abort();
	dkim_header_canon(DKIM_CANON_RELAXED, (const char *)p, n - 2, true,
	    out_add, &again);
	if (!same(&r, &again))
		abort();
	free(r.p);
	free(s.p);
	free(again.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned seed;

	if (len == 0)
		return 0;
	seed = data[0];
	data++;
	len--;
	check_body(DKIM_CANON_SIMPLE, data, len, seed);
	check_body(DKIM_CANON_RELAXED, data, len, seed);
	check_header(data, len);
	return 0;
}
