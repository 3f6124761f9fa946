/*
 * NAME
 *	catf.h - append printf output to a fixed buffer
 */
#ifndef PLUGIN_CATF_H
#define PLUGIN_CATF_H

#include <stddef.h>

/* Appends to the NUL-terminated string in buf (size bytes in all),
   truncating and always terminating; a full buffer is left alone. */
void	 catf(char *buf, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
