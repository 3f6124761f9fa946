/*
 * NAME
 *	replay.c - run a fuzz target over files, without libFuzzer
 * SYNOPSIS
 *	fuzz_xxx_replay file|directory ...
 * DESCRIPTION
 *	Links with any fuzz target in place of libFuzzer's main(), so that
 *	"make check" can replay a seed corpus and every crash ever found
 *	as an ordinary test, with whatever sanitizers the build has.  Each
 *	file named, and each regular file directly inside a directory
 *	named, is read whole and passed to LLVMFuzzerTestOneInput() once.
 *	Entries of a directory are replayed in name order, so that runs
 *	are repeatable.
 * DIAGNOSTICS
 *	"replayed N inputs" on standard output and exit status 0; a file
 *	that cannot be read is reported on standard error and makes the
 *	exit status 1 (the other inputs are still replayed).  A crash in
 *	the target is left to the sanitizers.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t replayed;

static int
replay_file(const char *path)
{
	FILE *fp;
	uint8_t *data = NULL, *p;
	size_t len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((p = realloc(data, cap)) == NULL) {
				fprintf(stderr, "replay: %s: out of memory\n",
				    path);
				free(data);
				fclose(fp);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(data);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* An exact-size copy, so that reading past the end is caught. */
	if ((p = malloc(len ? len : 1)) == NULL) {
		free(data);
		return -1;
	}
	memcpy(p, data, len);
	free(data);
	LLVMFuzzerTestOneInput(p, len);
	free(p);
	replayed++;
	return 0;
}

static int
replay_dir(const char *dir)
{
	struct dirent **names;
	struct stat st;
	char *path;
	size_t len;
	int i, n, rc = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		len = strlen(dir) + strlen(names[i]->d_name) + 2;
		if ((path = malloc(len)) == NULL) {
			rc = -1;
			break;
		}
		snprintf(path, len, "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(path) == -1)
			rc = -1;
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct stat st;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		/* libFuzzer's flags (-runs=0): the same command line works
		   for both builds */
		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1)
			rc = 1;
	}
	printf("replayed %zu inputs\n", replayed);
	return rc;
}
