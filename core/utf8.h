/*
 * NAME
 *	utf8.h - one UTF-8 sequence check, for the core and for plugins
 * DESCRIPTION
 *	utf8.c depends on nothing but itself, so a plugin compiles it in
 *	(plugins do not link the core): the address parser, the JSON-lines
 *	reader and the event JSON writer agree on what valid UTF-8 is.
 */
#ifndef PLUME_UTF8_H
#define PLUME_UTF8_H

#include <stddef.h>

/* The length of the valid UTF-8 sequence at p (1 for ASCII), or 0 when
   it is not one: overlong forms, surrogates and code points beyond
   U+10FFFF are refused.  Reads no further than a NUL at p[i]. */
size_t	 utf8_seq(const unsigned char *p);

#endif
