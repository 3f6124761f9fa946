/*
 * NAME
 *	utf8.c - one UTF-8 sequence check, for the core and for plugins
 * DESCRIPTION
 *	See utf8.h.  No dependency but the C library's headers: plugins
 *	compile this file in.
 */
#include "config.h"

#include "utf8.h"

/* Length of the valid UTF-8 sequence at p (1 for ASCII, NUL included),
   or 0: overlongs, surrogates, values past U+10FFFF and a sequence cut
   short (a NUL ends it) are invalid. */
size_t
utf8_seq(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}
