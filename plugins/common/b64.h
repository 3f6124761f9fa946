/*
 * NAME
 *	b64.h - base64 encoding for plugins (RFC 4648, no line breaks)
 */
#ifndef PLUGIN_B64_H
#define PLUGIN_B64_H

#include <stddef.h>

/* A malloc'd NUL-terminated encoding of n bytes, or NULL (no memory, or
   more than 1 GiB: OpenSSL's encoder counts in int). */
char	*b64_encode(const void *p, size_t n);

#endif
