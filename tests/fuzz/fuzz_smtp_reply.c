/*
 * NAME
 *	fuzz_smtp_reply.c - fuzz the SMTP reply parser
 * DESCRIPTION
 *	The input is split into lines at LF (a CR before it dropped, as
 *	the connection layer does) and fed to smtp_reply_line() until a
 *	reply is complete or malformed, then the next reply starts.  A
 *	complete reply must have a code from 200 to 599 and a text free of
 *	control bytes (it goes into logs and results).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct smtp_reply r;
	const char *p = (const char *)data, *end = p + len;
	char buf[SMTP_REPLY_TEXT_MAX + 64];

	smtp_reply_init(&r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		int st;

		if (n > 0 && p[n - 1] == '\r')
			n--;
		st = smtp_reply_line(&r, p, n);
		if (st == SMTP_REPLY_DONE) {
			if (r.code < 200 || r.code > 599)
				abort();
			for (const char *t = r.text; *t != '\0'; t++)
				if ((unsigned char)*t < 0x20)
					abort();
			smtp_reply_format(&r, buf, sizeof(buf));
		}
		if (st != SMTP_REPLY_MORE)
			smtp_reply_init(&r);
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}
