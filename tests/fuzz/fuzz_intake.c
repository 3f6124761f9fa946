/*
 * NAME
 *	fuzz_intake.c - fuzz the line-end and dot canonicaliser
 * DESCRIPTION
 *	The first input byte picks -i or not; the rest is fed in chunks
 *	whose sizes come from the data itself.  Whatever the input, the
 *	output must be lines that each end in CRLF, with no CR or LF
 *	anywhere else.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
sink(void *arg, const char *p, size_t n)
{
	buf_add(arg, p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct canon c;
	struct buf out;
	size_t i = 1;

	if (len == 0)
		return 0;
	buf_init(&out);
	canon_init(&c, data[0] & 1, sink, &out);
	while (i < len && !c.done) {
		size_t chunk = 1 + data[i] % 17;

		if (chunk > len - i)
			chunk = len - i;
		canon_feed(&c, (const char *)data + i, chunk);
		i += chunk;
	}
	canon_finish(&c);
	for (size_t k = 0; k < out.len; k++) {
		if (out.data[k] == '\n' && (k == 0 || out.data[k - 1] != '\r'))
			abort();
		if (out.data[k] == '\r' &&
		    (k + 1 >= out.len || out.data[k + 1] != '\n'))
			abort();
	}
	if (out.len > 0 && out.data[out.len - 1] != '\n')
		abort();
	buf_free(&out);
	return 0;
}
