/*
 * NAME
 *	dkim_canon.h - DKIM canonicalization (RFC 6376 3.4)
 * SYNOPSIS
 *	#include "dkim_canon.h"
 * DESCRIPTION
 *	See dkim_canon.c.  This module needs nothing but the C library, so
 *	the fuzz target (tests/fuzz/fuzz_dkim_canon.c) links it alone.
 */
#ifndef DKIM_CANON_H
#define DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_canon {
	DKIM_CANON_SIMPLE = 0,
	DKIM_CANON_RELAXED = 1,
};

/* Receives canonical octets, in order, in pieces of any size. */
typedef void (*dkim_out_fn)(void *arg, const void *p, size_t n);

#define DKIM_BODY_BUF	16384

struct dkim_body {
	enum dkim_canon canon;
	dkim_out_fn out;
	void	*arg;
	unsigned long long held;	/* empty lines not yet passed on */
	unsigned long long length;	/* canonical octets passed on */
	bool	 cr;			/* a CR that may start a CRLF */
	bool	 wsp;			/* relaxed: white space held back */
	bool	 line;			/* the current line has content */
	size_t	 n;			/* octets in buf */
	unsigned char buf[DKIM_BODY_BUF];
};

void	 dkim_body_init(struct dkim_body *, enum dkim_canon, dkim_out_fn,
	    void *);
void	 dkim_body_update(struct dkim_body *, const void *, size_t);
void	 dkim_body_final(struct dkim_body *);

void	 dkim_header_canon(enum dkim_canon, const char *, size_t, bool,
	    dkim_out_fn, void *);

int	 dkim_canon_parse(const char *, enum dkim_canon *, enum dkim_canon *);
const char *dkim_canon_name(enum dkim_canon);

#endif /* DKIM_CANON_H */
