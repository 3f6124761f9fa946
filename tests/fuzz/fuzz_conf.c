/*
 * NAME
 *	fuzz_conf.c - libFuzzer target for core/conf.c
 * SYNOPSIS
 *	clang -fsanitize=fuzzer,address,undefined ... fuzz_conf.c
 *	cc -fsanitize=address,undefined ... fuzz_conf.c replay.c
 * DESCRIPTION
 *	Parses one input as a config file with conf_parse_string(), checks
 *	the tree it builds against the syntax's promises (names in their
 *	alphabets, unique ids and keys, findings with a place), validates
 *	the globals and every section against a fixed key table holding
 *	every key type, runs every value through every typed parser and
 *	splitter, and frees it all, so that leaks show up too.  Built
 *	without libFuzzer, replay.c turns it into a regression test over
 *	tests/fuzz/corpus/conf/.
 *
 *	An input that holds the word "include" is skipped: includes would
 *	read files (and expand globs) relative to the current directory,
 *	which would make runs depend on the machine and could read
 *	anything.  The unit tests cover includes in scratch directories.
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

#include "conf.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_NAME	"fuzz.conf"

static const struct plume_conf_key fuzz_keys[] = {
	{ "host", PLUME_CONF_STRING, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    NULL },
	{ "port", PLUME_CONF_INT, 0, "587", NULL, 1, 65535, NULL },
	{ "count", PLUME_CONF_INT, 0, NULL, NULL, 0, 0, NULL },
	{ "tls_verify", PLUME_CONF_BOOL, 0, "yes", NULL, 0, 0, NULL },
	{ "max_size", PLUME_CONF_SIZE, 0, NULL, NULL, 1024, 1LL << 40, NULL },
	{ "timeout", PLUME_CONF_DURATION, 0, "30s", NULL, 1, 86400, NULL },
	{ "tls", PLUME_CONF_ENUM, 0, "starttls", "starttls|implicit|none",
	    0, 0, NULL },
	{ "auth", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0, NULL },
	{ "key", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0, NULL },
	{ "password_command", PLUME_CONF_COMMAND, PLUME_KEY_SECRET, NULL,
	    NULL, 0, 0, NULL },
	{ "from", PLUME_CONF_ADDRESS, 0, NULL, NULL, 0, 0, NULL },
	{ "password", PLUME_CONF_STRING, PLUME_KEY_SECRET, NULL, NULL, 0, 0,
	    NULL },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static const char *const fuzz_ignore[] = { "match_from", "match_rcpt",
	"failover", NULL };

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
all_in(const char *s, const char *alphabet)
{
	return *s != '\0' && s[strspn(s, alphabet)] == '\0';
}

#define KEY_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789_"
#define INST_CHARS	KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-"

/* Every typed parser on one value: none may crash or break its word. */
static void
exercise_value(const char *value, const char *file)
{
	const char *err;
	char **v, *path;
	long long n;
	bool b;
	size_t i;

	(void)conf_parse_bool(value, &b);
	(void)conf_parse_int(value, &n);
	if (conf_parse_size(value, &n) == 0)
		check(n >= 0);
	if (conf_parse_duration(value, &n) == 0)
		check(n >= 0);

	v = conf_split_list(value);
	for (i = 0; v[i] != NULL; i++)
		check(v[i][0] != '\0' && strpbrk(v[i], ", \t\r\n") == NULL);
	strv_free(v);

	err = NULL;
	if (conf_split_command(value, &v, &err) == 0) {
		check(v != NULL && v[0] != NULL && v[0][0] != '\0');
		strv_free(v);
	} else
		check(v == NULL && err != NULL);

	path = conf_resolve_path(value, file);
	check(value[0] != '/' || strcmp(path, value) == 0);
	free(path);
}

static void
check_entries(const struct conf_entry *list)
{
	const struct conf_entry *e;

	for (e = list; e != NULL; e = e->next) {
		check(all_in(e->key, KEY_CHARS));
		check(strcmp(e->key, "include") != 0);
		check(strcmp(e->file, FUZZ_NAME) == 0 && e->line > 0);
		check(strchr(e->value, '\n') == NULL);
		/* Keys are unique: the first with this name is e itself. */
		check(conf_entry_find(list, e->key) == e);
		exercise_value(e->value, e->file);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct conf_section *s;
	struct conf *conf;
	size_t i, before;
	char *text, *where, *line;
	int rc;

	text = xmalloc(size + 1);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	/* The parser stops at the first NUL, and so may this check. */
	if (strstr(text, "include") != NULL) {
		free(text);
		return 0;
	}

	rc = conf_parse_string(text, FUZZ_NAME, &conf, &d);
	check(conf != NULL);
	check((rc == 0) == (d.nerrors == 0));
	check(d.nwarnings == 0 && d.n == d.nerrors);
	check(strcmp(conf->path, FUZZ_NAME) == 0);
	for (i = 0; i < d.n; i++) {
		/* Without includes every finding is about a line of ours. */
		check(d.v[i].file != NULL &&
		    strcmp(d.v[i].file, FUZZ_NAME) == 0);
		check(d.v[i].line > 0 && d.v[i].text[0] != '\0');
		line = diag_format(&d.v[i]);
		free(line);
	}

	check_entries(conf->globals);
	before = d.n;
	i = conf_validate(conf->globals, fuzz_keys, fuzz_ignore,
	    DIAG_WARNING, "global settings", NULL, 0, &d);
	check(d.n == before + i && d.nwarnings == i);

	for (s = conf->sections; s != NULL; s = s->next) {
		check(all_in(s->plugin, KEY_CHARS));
		check(s->name == NULL || all_in(s->name, INST_CHARS));
		where = s->name != NULL ?
		    xasprintf("%s:%s", s->plugin, s->name) :
		    xstrdup(s->plugin);
		check(strcmp(where, s->id) == 0);
		free(where);
		/* Ids are unique: the first with this id is s itself. */
		check(conf_section_find(conf, s->id) == s);
		check(strcmp(s->file, FUZZ_NAME) == 0 && s->line > 0);
		check_entries(s->entries);

		where = s->name != NULL ?
		    xasprintf("[%s \"%s\"]", s->plugin, s->name) :
		    xasprintf("[%s]", s->plugin);
		before = d.n;
		i = conf_validate(s->entries, fuzz_keys, fuzz_ignore,
		    DIAG_ERROR, where, s->file, s->line, &d);
		check(d.n == before + i);
		free(where);
	}

	conf_free(conf);
	diags_free(&d);
	free(text);
	return 0;
}
