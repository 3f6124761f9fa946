/*
 * NAME
 *	fuzz_import.c - libFuzzer target for cmd/import.c ("plume import")
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined ... fuzz_import.c
 *	cc -fsanitize=address,undefined ... fuzz_import.c replay.c
 * DESCRIPTION
 *	The first byte of an input picks the importer (msmtprc, ssmtp,
 *	dma); the rest is the file it reads: ~/.msmtprc; for ssmtp,
 *	ssmtp.conf and the revaliases next to it separated by the first NUL
 *	byte (no NUL: no revaliases); for dma, dma.conf and auth.conf
 *	separated likewise (dma.conf names its AUTHPATH; the importer looks
 *	for that file name in the same directory first).  The files are
 *	written to a private scratch directory and import_main() runs on
 *	them as "plume import" would, with the converted config thrown
 *	away; without --write-secrets it writes nothing else.  Any exit
 *	code is fine (65 for most garbage); a crash, a sanitizer report or
 *	a leak is not.  Built without libFuzzer, replay.c turns it into a
 *	regression test over tests/fuzz/corpus/import/.
 */
#include "config.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 scratch[] = "/tmp/plume-fuzz-import.XXXXXX";
static char	 path_in[sizeof(scratch) + 16], path_dma[sizeof(scratch) + 16],
		 path_auth[sizeof(scratch) + 16],
		 path_rev[sizeof(scratch) + 16];

static void
put(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || (n > 0 && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

static void
cleanup(void)
{
	unlink(path_in);
	unlink(path_dma);
	unlink(path_auth);
	unlink(path_rev);
	rmdir(scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "msmtprc", "ssmtp", "dma" };
	static int ready, devnull, out;
	const uint8_t *nul;
	char *argv[2];

	if (!ready) {
		if (mkdtemp(scratch) == NULL ||
		    (devnull = open("/dev/null", O_WRONLY)) == -1 ||
		    (out = dup(1)) == -1)
			abort();
		snprintf(path_in, sizeof(path_in), "%s/in", scratch);
		snprintf(path_dma, sizeof(path_dma), "%s/dma.conf", scratch);
		snprintf(path_auth, sizeof(path_auth), "%s/auth.conf",
		    scratch);
		snprintf(path_rev, sizeof(path_rev), "%s/revaliases",
		    scratch);
		atexit(cleanup);
		ready = 1;
	}
	if (size < 1)
		return 0;
	argv[0] = (char *)kinds[data[0] % 3];
	data++;
	size--;
	if (data[-1] % 3 == 2) {
		nul = memchr(data, '\0', size);
		put(path_dma, data, nul != NULL ? (size_t)(nul - data) : size);
		put(path_auth, nul != NULL ? nul + 1 : data, nul != NULL ?
		    size - (size_t)(nul - data) - 1 : 0);
		argv[1] = scratch;
	} else if (data[-1] % 3 == 1) {
		nul = memchr(data, '\0', size);
		put(path_in, data, nul != NULL ? (size_t)(nul - data) : size);
		if (nul != NULL)
			put(path_rev, nul + 1, size - (size_t)(nul - data) - 1);
		else
			unlink(path_rev);
		argv[1] = path_in;
	} else {
		put(path_in, data, size);
		argv[1] = path_in;
	}
	/* the converted config goes nowhere; replay.c's count still
	   reaches the real standard output */
	fflush(stdout);
	dup2(devnull, 1);
	(void)import_main(2, argv);
	fflush(stdout);
	dup2(out, 1);
	return 0;
}
