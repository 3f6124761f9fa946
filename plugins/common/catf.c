/*
 * NAME
 *	catf.c - append printf output to a fixed buffer
 * DESCRIPTION
 *	For the one-line texts plugins build piece by piece: SMTP command
 *	parameters, result texts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catf.h"

void
catf(char *buf, size_t size, const char *fmt, ...)
{
	size_t have = strlen(buf);
	va_list ap;

	if (have + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + have, size - have, fmt, ap);
	va_end(ap);
}
