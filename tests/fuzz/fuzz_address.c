/*
 * NAME
 *	fuzz_address.c - libFuzzer target for core/rfc5322.c
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined ... fuzz_address.c
 *	cc -fsanitize=address,undefined ... fuzz_address.c replay.c
 * DESCRIPTION
 *	Feeds one input to every entry point of the header and address
 *	parser: the address-list parser and the field-name and unfolding
 *	helpers get the raw bytes (never NUL-terminated, so a read past len
 *	is caught), the envelope check gets a NUL-terminated copy, as do
 *	the addresses the parser returns, which must themselves be free of
 *	CR, LF and NUL.  Built without libFuzzer, replay.c turns it into a
 *	regression test over tests/fuzz/corpus/address/.
 * DIAGNOSTICS
 *	A broken invariant aborts, which both libFuzzer and the replayer
 *	report as a crash.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist l = { NULL, 0 };
	const char *err = NULL;
	char *raw, *str, *unfolded;
	size_t i, n;
	int rc;

	/* An exact-size copy: libFuzzer's buffer may have slack after it. */
	raw = xmalloc(size);
	if (size > 0)
		memcpy(raw, data, size);

	rc = rfc5322_parse_addrlist(raw, size, &l, &err);
	if ((rc == 0) != (err == NULL))
		abort();
	for (i = 0; i < l.n; i++) {
		n = strlen(l.v[i].spec);
		if (n == 0 || l.v[i].local_len > n ||
		    strpbrk(l.v[i].spec, "\r\n") != NULL)
			abort();
		if (l.v[i].qualified && l.v[i].spec[l.v[i].local_len] != '@')
			abort();
		if (!l.v[i].qualified && l.v[i].local_len != n)
			abort();
		(void)rfc5321_valid_mailbox(l.v[i].spec, true);
		(void)rfc5321_needs_utf8(l.v[i].spec);
	}
	addrlist_free(&l);

	n = rfc5322_field_name_len(raw, size);
	if (n > size || (n > 0 && raw[n] != ':'))
		abort();

	unfolded = rfc5322_unfold(raw, size);
	if (strlen(unfolded) > size)
		abort();
	free(unfolded);

	str = xstrndup(raw, size);
	(void)rfc5321_valid_mailbox(str, false);
	(void)rfc5321_valid_mailbox(str, true);
	(void)rfc5321_needs_utf8(str);
	free(str);
	free(raw);
	return 0;
}
