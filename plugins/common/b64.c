/*
 * NAME
 *	b64.c - base64 encoding for plugins
 * DESCRIPTION
 *	One line, no breaks, with padding: what SMTP AUTH, DKIM tags and
 *	JSON APIs want.  OpenSSL's EVP_EncodeBlock does the work.
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include "b64.h"

char *
b64_encode(const void *p, size_t n)
{
	char *out;

	if (n > ((size_t)1 << 30) || (out = malloc(4 * ((n + 2) / 3) + 1)) ==
	    NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}
