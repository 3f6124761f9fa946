/*
 * NAME
 *	test_conf.c - unit tests for the config parser and validator
 * SYNOPSIS
 *	test_conf
 * DESCRIPTION
 *	Drives core/conf.c through its public API: the example config of
 *	DESIGN.md, comments and quoting, every syntax error with its
 *	file:line, includes (globs, order, nesting, loops) in scratch
 *	directories made with mkdtemp(3), duplicates, validation of every
 *	key type, the typed value parsers, list and command splitting and
 *	path resolution.  Tests assert on the findings they expect and
 *	fail on any other one.
 * DIAGNOSTICS
 *	cmocka's; a failed expectation about a finding prints every
 *	finding that was collected.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

/*
 * Helpers
 */

static void
dump_diags(const struct diags *d)
{
	char *s;
	size_t i;

	for (i = 0; i < d->n; i++) {
		s = diag_format(&d->v[i]);
		print_error("  finding %zu: %s\n", i, s);
		free(s);
	}
}

/* Finding i is at file:line (file NULL: not about a place) and says
   needle. */
static void
expect_diag(const struct diags *d, size_t i, const char *file,
    unsigned line, const char *needle)
{
	const struct diag *g;
	bool ok;

	if (i >= d->n) {
		dump_diags(d);
		fail_msg("expected finding %zu (%s), have %zu", i, needle,
		    d->n);
	}
	g = &d->v[i];
	ok = strstr(g->text, needle) != NULL && g->line == line &&
	    (file == NULL ? g->file == NULL :
	    g->file != NULL && strcmp(g->file, file) == 0);
	if (!ok) {
		dump_diags(d);
		fail_msg("finding %zu: wanted %s:%u: ...%s...", i,
		    file != NULL ? file : "(none)", line, needle);
	}
}

static void
expect_ndiags(const struct diags *d, size_t n)
{
	if (d->n != n) {
		dump_diags(d);
		fail_msg("expected %zu findings, have %zu", n, d->n);
	}
}

/* Parses text as "t.conf" expecting no finding at all. */
static struct conf *
parse_ok(const char *text)
{
	struct diags d = { 0 };
	struct conf *conf;

	if (conf_parse_string(text, "t.conf", &conf, &d) != 0 || d.n != 0) {
		dump_diags(&d);
		fail_msg("unexpected findings");
	}
	diags_free(&d);
	return conf;
}

/* Parses text as "t.conf" expecting exactly one error at line saying
   needle. */
static void
parse_bad(const char *text, unsigned line, const char *needle)
{
	struct diags d = { 0 };
	struct conf *conf;

	assert_int_equal(conf_parse_string(text, "t.conf", &conf, &d), -1);
	assert_non_null(conf);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, "t.conf", line, needle);
	assert_int_equal(d.v[0].level, DIAG_ERROR);
	assert_int_equal(d.nerrors, 1);
	conf_free(conf);
	diags_free(&d);
}

static void
want_value(const struct conf_entry *list, const char *key,
    const char *value)
{
	const struct conf_entry *e = conf_entry_find(list, key);

	if (e == NULL)
		fail_msg("key %s not found", key);
	assert_string_equal(e->value, value);
}

static size_t
count_entries(const struct conf_entry *e)
{
	size_t n;

	for (n = 0; e != NULL; e = e->next)
		n++;
	return n;
}

static void
expect_strv(char **v, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	assert_non_null(v);
	va_start(ap, v);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (v[i] == NULL)
			fail_msg("item %zu missing, wanted '%s'", i, want);
		assert_string_equal(v[i], want);
		i++;
	}
	va_end(ap);
	if (v[i] != NULL)
		fail_msg("unexpected item %zu '%s'", i, v[i]);
}

/* A scratch directory per test, removed afterwards. */
struct scratch {
	char	dir[PATH_MAX];
	char	cwd[PATH_MAX];
};

static int
setup_scratch(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_conf.XXXXXX");
	if (mkdtemp(s->dir) == NULL || getcwd(s->cwd, sizeof(s->cwd)) == NULL) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* rm -r, without following symbolic links. */
static int
rm_tree(const char *path)
{
	struct dirent *de;
	struct stat st;
	char *sub;
	DIR *dir;
	int rc = 0;

	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", path, de->d_name);
		if (rm_tree(sub) == -1)
			rc = -1;
		free(sub);
	}
	closedir(dir);
	if (rmdir(path) == -1)
		rc = -1;
	return rc;
}

static int
teardown_scratch(void **state)
{
	struct scratch *s = *state;
	int rc;

	rc = chdir(s->cwd);
	if (rm_tree(s->dir) == -1)
		rc = -1;
	free(s);
	return rc;
}

/* dir/rel, made with xasprintf; caller frees. */
static char *
spath(const struct scratch *s, const char *rel)
{
	return xasprintf("%s/%s", s->dir, rel);
}

/* Writes n bytes to dir/rel, creating directories on the way. */
static void
put_bytes(const struct scratch *s, const char *rel, const char *data,
    size_t n)
{
	char *path = spath(s, rel), *p;
	FILE *fp;

	for (p = path + strlen(s->dir) + 1; (p = strchr(p, '/')) != NULL;
	    p++) {
		*p = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if ((fp = fopen(path, "w")) == NULL)
		fail_msg("fopen %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	free(path);
}

static void
put(const struct scratch *s, const char *rel, const char *text)
{
	put_bytes(s, rel, text, strlen(text));
}

static void
mkdir_in(const struct scratch *s, const char *rel)
{
	char *path = spath(s, rel);

	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
}

/*
 * The parser
 */

static const char design_example[] =
	    "hostname  = app1.example.org        # EHLO and Message-ID\n"
	    "domain    = example.org             # qualifies bare address"
	    "es and generated From\n"
	    "                                    #  (default: /etc/mailna"
	    "me, then hostname)\n"
	    "queue_dir = /var/spool/plume        # default $(localstatedi"
	    "r)/spool/plume, created on demand\n"
	    "pipeline  = dkim, ratelimit, smtp, http:mailgun, logfile\n"
	    "                                    # every instance that ta"
	    "kes part, observers too\n"
	    "\n"
	    "[smtp]                              # instance \"smtp\" of plu"
	    "gin smtp\n"
	    "host = smtp.example.org\n"
	    "port = 587                          # default 587 with tls ="
	    " starttls; 465 means implicit\n"
	    "tls  = starttls                     # starttls | implicit | "
	    "none (none only when written)\n"
	    "auth = plain login                  # or scram-sha-256, "
	    "xoauth2, …\n"
	    "user = apps@example.org\n"
	    "password_file = /etc/plume/smtp.secret\n"
	    "failover = smtp:backup              # tried next on a tempor"
	    "ary failure\n"
	    "\n"
	    "[smtp \"backup\"]                     # loaded because smtp na"
	    "mes it as failover\n"
	    "host = backup.example.org\n"
	    "\n"
	    "[http \"mailgun\"]                    # plugin http, provider "
	    "chosen by a key\n"
	    "provider = mailgun\n"
	    "match_rcpt = partner.example        # a route: see Routing\n"
	    "api_key_file = /etc/plume/mailgun.key\n"
	    "\n"
	    "[dkim]                              # each dkim instance add"
	    "s its signature(s)\n"
	    "domain   = example.org\n"
	    "selector = s2026\n"
	    "key      = /etc/plume/dkim/example.org.pem   # RSA or Ed2551"
	    "9; a list signs in one pass\n"
	    "\n"
	    "[logfile]\n"
	    "path = /var/log/plume.jsonl\n";

static void
test_design_example(void **state)
{
	struct conf *conf = parse_ok(design_example);
	struct conf_section *s;
	const struct conf_entry *e;
	static const struct {
		const char *id, *plugin, *name;
		unsigned line;
		size_t nentries;
	} want[] = {
		{ "smtp", "smtp", NULL, 8, 7 },
		{ "smtp:backup", "smtp", "backup", 17, 1 },
		{ "http:mailgun", "http", "mailgun", 20, 3 },
		{ "dkim", "dkim", NULL, 25, 3 },
		{ "logfile", "logfile", NULL, 30, 1 },
	};
	size_t i;

	(void)state;
	assert_string_equal(conf->path, "t.conf");
	assert_int_equal(count_entries(conf->globals), 4);
	want_value(conf->globals, "hostname", "app1.example.org");
	want_value(conf->globals, "domain", "example.org");
	want_value(conf->globals, "queue_dir", "/var/spool/plume");
	want_value(conf->globals, "pipeline",
	    "dkim, ratelimit, smtp, http:mailgun, logfile");
	e = conf_entry_find(conf->globals, "pipeline");
	assert_int_equal(e->line, 5);
	assert_string_equal(e->file, "t.conf");
	/* File order. */
	assert_string_equal(conf->globals->key, "hostname");
	assert_string_equal(conf->globals->next->next->next->key, "pipeline");

	for (i = 0, s = conf->sections; i < nitems(want); i++, s = s->next) {
		assert_non_null(s);
		assert_string_equal(s->id, want[i].id);
		assert_string_equal(s->plugin, want[i].plugin);
		if (want[i].name == NULL)
			assert_null(s->name);
		else
			assert_string_equal(s->name, want[i].name);
		assert_int_equal(s->line, want[i].line);
		assert_string_equal(s->file, "t.conf");
		assert_int_equal(count_entries(s->entries), want[i].nentries);
		assert_ptr_equal(conf_section_find(conf, want[i].id), s);
	}
	assert_null(s);

	s = conf_section_find(conf, "smtp");
	want_value(s->entries, "host", "smtp.example.org");
	want_value(s->entries, "port", "587");
	want_value(s->entries, "tls", "starttls");
	want_value(s->entries, "auth", "plain login");
	want_value(s->entries, "user", "apps@example.org");
	want_value(s->entries, "password_file", "/etc/plume/smtp.secret");
	want_value(s->entries, "failover", "smtp:backup");
	assert_int_equal(conf_entry_find(s->entries, "failover")->line, 15);
	assert_string_equal(s->entries->key, "host");
	want_value(conf_section_find(conf, "smtp:backup")->entries, "host",
	    "backup.example.org");
	s = conf_section_find(conf, "http:mailgun");
	want_value(s->entries, "match_rcpt", "partner.example");
	want_value(s->entries, "api_key_file", "/etc/plume/mailgun.key");
	s = conf_section_find(conf, "dkim");
	want_value(s->entries, "domain", "example.org");
	want_value(s->entries, "selector", "s2026");
	want_value(s->entries, "key", "/etc/plume/dkim/example.org.pem");
	want_value(conf_section_find(conf, "logfile")->entries, "path",
	    "/var/log/plume.jsonl");

	assert_null(conf_section_find(conf, "backup"));
	assert_null(conf_section_find(conf, "smtp:"));
	assert_null(conf_entry_find(s->entries, "nope"));
	assert_null(conf_entry_find(NULL, "host"));
	conf_free(conf);
}

static void
test_empty_input(void **state)
{
	struct conf *conf;

	(void)state;
	conf = parse_ok("");
	assert_null(conf->globals);
	assert_null(conf->sections);
	conf_free(conf);
	conf = parse_ok("\n\n   \n\t\n# only a comment\n");
	assert_null(conf->globals);
	conf_free(conf);
	conf_free(NULL);
}

static void
test_comments(void **state)
{
	struct conf *conf;

	(void)state;
	conf = parse_ok(
	    "# comment at the start\n"
	    "   \t# indented comment\n"
	    "a = x#y\n"
	    "b = x #y\n"
	    "c = x\t# tab before\n"
	    "d =#lit\n"
	    "e = # nothing but a comment\n"
	    "f = http://h/p#frag   # real comment\n"
	    "g = one two  three   \n"
	    "[s]   # comment after a header\n"
	    "h = 1 # c\n");
	want_value(conf->globals, "a", "x#y");
	want_value(conf->globals, "b", "x");
	want_value(conf->globals, "c", "x");
	want_value(conf->globals, "d", "#lit");
	want_value(conf->globals, "e", "");
	want_value(conf->globals, "f", "http://h/p#frag");
	want_value(conf->globals, "g", "one two  three");
	assert_int_equal(conf_entry_find(conf->globals, "g")->line, 9);
	want_value(conf_section_find(conf, "s")->entries, "h", "1");
	conf_free(conf);
}

static void
test_quoted_values(void **state)
{
	struct conf *conf;

	(void)state;
	conf = parse_ok(
	    "a = \"x # y\"\n"
	    "b = \"  blanks kept  \"   # comment\n"
	    "c = \"say \\\"hi\\\" \\\\ done\"\n"
	    "d = \"C:\\dir\\n\"\n"
	    "e = \"\"\n"
	    "f=\"tight\"#comment\n"
	    "g = \"=[x]=\"\n"
	    "password_command = sh -c \"pass show x\"\n"
	    "h = it's \"mid\" quotes\n"
	    "i = \"#\"\n");
	want_value(conf->globals, "a", "x # y");
	want_value(conf->globals, "b", "  blanks kept  ");
	want_value(conf->globals, "c", "say \"hi\" \\ done");
	want_value(conf->globals, "d", "C:\\dir\\n");
	want_value(conf->globals, "e", "");
	want_value(conf->globals, "f", "tight");
	want_value(conf->globals, "g", "=[x]=");
	want_value(conf->globals, "password_command",
	    "sh -c \"pass show x\"");
	want_value(conf->globals, "h", "it's \"mid\" quotes");
	want_value(conf->globals, "i", "#");
	conf_free(conf);
}

static void
test_blanks_and_line_ends(void **state)
{
	struct conf *conf;

	(void)state;
	conf = parse_ok(
	    "\xef\xbb\xbf" "a=1\r\n"
	    "\t b\t=\t2\t\r\n"
	    "c = x\ry\n"
	    "  [ smtp  \"b-1.x_Y\" ]  \n"
	    "d = 4");
	want_value(conf->globals, "a", "1");
	want_value(conf->globals, "b", "2");
	/* Only a CR before LF is a line end. */
	want_value(conf->globals, "c", "x\ry");
	assert_string_equal(conf->sections->id, "smtp:b-1.x_Y");
	assert_string_equal(conf->sections->name, "b-1.x_Y");
	assert_int_equal(conf->sections->line, 4);
	want_value(conf->sections->entries, "d", "4");
	assert_int_equal(conf->sections->entries->line, 5);
	conf_free(conf);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	parse_bad("a = 1\nno equals sign here\n", 2,
	    "expected 'key = value', a [section] header or a comment");
	parse_bad("a = 1\n\nb # = c\n", 3, "bad key name 'b #'");
	parse_bad("Host = x\n", 1, "bad key name 'Host' (expected "
	    "lower-case letters, digits and '_')");
	parse_bad("my key = x\n", 1, "bad key name 'my key'");
	parse_bad("k-1 = x\n", 1, "bad key name 'k-1'");
	parse_bad("  = x\n", 1, "missing key name before '='");
	parse_bad("a = \"open\n", 1,
	    "unterminated quoted value (expected a closing '\"')");
	parse_bad("a = \"esc\\\"\n", 1, "unterminated quoted value");
	parse_bad("a = \"x\" y\n", 1, "unexpected text after the closing "
	    "quote");
	parse_bad("a = \"sh\" -c \"x\"\n", 1, "quote the whole value");
	parse_bad("[\n", 1, "bad section header: missing plugin name "
	    "(expected [plugin] or [plugin \"name\"])");
	parse_bad("[]\n", 1, "missing plugin name");
	parse_bad("[ \"x\"]\n", 1, "missing plugin name");
	parse_bad("[Smtp]\n", 1, "bad plugin name 'Smtp' in section header "
	    "(expected lower-case letters, digits and '_')");
	parse_bad("[sm.tp]\n", 1, "bad plugin name 'sm.tp'");
	parse_bad("[smtp\n", 1, "bad section header: expected ']'");
	parse_bad("[smtp x]\n", 1, "bad section header: expected ']'");
	parse_bad("[smtp \"a\" b]\n", 1, "expected ']'");
	parse_bad("[smtp \"x]\n", 1, "unterminated instance name");
	parse_bad("[smtp \"\"]\n", 1, "bad instance name \"\"");
	parse_bad("[smtp \"a b\"]\n", 1, "bad instance name \"a b\" in "
	    "section header (expected letters, digits, '_', '.' and '-')");
	parse_bad("[smtp \"a:b\"]\n", 1, "bad instance name \"a:b\"");
	parse_bad("[smtp] junk\n", 1, "unexpected text after section "
	    "header");
	parse_bad("[smtp]]\n", 1, "unexpected text after section header");
	parse_bad("include =\n", 1, "include needs a file name or pattern");
}

static void
test_errors_continue(void **state)
{
	struct diags d = { 0 };
	struct conf *conf;

	(void)state;
	assert_int_equal(conf_parse_string(
	    "a = 1\n"			/* 1 */
	    "oops\n"			/* 2 */
	    "b = \"x\n"			/* 3 */
	    "[smtp]\n"			/* 4 */
	    "host = h\n"		/* 5 */
	    "[Bad]\n"			/* 6 */
	    "port = 1\n"		/* 7: dropped, not in [smtp] */
	    "Port = 2\n"		/* 8: still checked */
	    "[dkim]\n"			/* 9 */
	    "key = k\n",		/* 10 */
	    "x.conf", &conf, &d), -1);
	expect_ndiags(&d, 4);
	expect_diag(&d, 0, "x.conf", 2, "expected 'key = value'");
	expect_diag(&d, 1, "x.conf", 3, "unterminated quoted value");
	expect_diag(&d, 2, "x.conf", 6, "bad plugin name 'Bad'");
	expect_diag(&d, 3, "x.conf", 8, "bad key name 'Port'");
	assert_int_equal(d.nerrors, 4);
	assert_int_equal(d.nwarnings, 0);
	/* The partial tree is there. */
	want_value(conf->globals, "a", "1");
	assert_null(conf_entry_find(conf->globals, "b"));
	assert_int_equal(count_entries(conf_section_find(conf,
	    "smtp")->entries), 1);
	want_value(conf_section_find(conf, "dkim")->entries, "key", "k");
	assert_null(conf_section_find(conf, "Bad"));
	conf_free(conf);
	diags_free(&d);
}

static void
test_duplicates(void **state)
{
	struct diags d = { 0 };
	struct conf *conf;

	(void)state;
	assert_int_equal(conf_parse_string(
	    "a = 1\n"			/* 1 */
	    "a = 2\n"			/* 2 */
	    "[smtp]\n"			/* 3 */
	    "host = x\n"		/* 4 */
	    "host = y\n"		/* 5 */
	    "[smtp \"b\"]\n"		/* 6: another instance, fine */
	    "host = z\n"		/* 7: another section, fine */
	    "[smtp]\n"			/* 8 */
	    "host = w\n"		/* 9: dropped with the section */
	    "[smtp \"b\"]\n"		/* 10 */
	    "[dkim]\n"			/* 11 */
	    "a = 3\n",			/* 12: not a global, fine */
	    "d.conf", &conf, &d), -1);
	expect_ndiags(&d, 4);
	expect_diag(&d, 0, "d.conf", 2,
	    "duplicate key 'a' (first set at d.conf:1)");
	expect_diag(&d, 1, "d.conf", 5,
	    "duplicate key 'host' (first set at d.conf:4)");
	expect_diag(&d, 2, "d.conf", 8,
	    "duplicate section [smtp] (first at d.conf:3)");
	expect_diag(&d, 3, "d.conf", 10,
	    "duplicate section [smtp \"b\"] (first at d.conf:6)");
	/* First one wins. */
	want_value(conf->globals, "a", "1");
	want_value(conf_section_find(conf, "smtp")->entries, "host", "x");
	want_value(conf_section_find(conf, "smtp:b")->entries, "host", "z");
	want_value(conf_section_find(conf, "dkim")->entries, "a", "3");
	conf_free(conf);
	diags_free(&d);
}

static void
test_return_counts_only_new_errors(void **state)
{
	struct diags d = { 0 };
	struct conf *conf;

	(void)state;
	diags_add(&d, DIAG_ERROR, NULL, 0, "earlier");
	assert_int_equal(conf_parse_string("a = 1\n", NULL, &conf, &d), 0);
	assert_string_equal(conf->path, "<string>");
	assert_string_equal(conf->globals->file, "<string>");
	expect_ndiags(&d, 1);
	conf_free(conf);
	diags_free(&d);
	assert_null(d.v);
	assert_int_equal(d.n, 0);
}

static void
test_diags(void **state)
{
	struct diags d = { 0 };
	char *s;
	size_t i;

	(void)state;
	diags_add(&d, DIAG_ERROR, "f.conf", 3, "bad %s", "thing");
	diags_add(&d, DIAG_WARNING, "f.conf", 0, "whole file");
	diags_add(&d, DIAG_WARNING, NULL, 7, "nowhere %d", 1);
	s = diag_format(&d.v[0]);
	assert_string_equal(s, "f.conf:3: bad thing");
	free(s);
	s = diag_format(&d.v[1]);
	assert_string_equal(s, "f.conf: whole file");
	free(s);
	s = diag_format(&d.v[2]);
	assert_string_equal(s, "nowhere 1");
	free(s);
	/* No file means no place, line or not. */
	assert_int_equal(d.v[2].line, 0);
	for (i = 0; i < 1000; i++)
		diags_add(&d, DIAG_ERROR, "x", (unsigned)i + 1, "n%zu", i);
	assert_int_equal(d.n, 1003);
	assert_int_equal(d.nerrors, 1001);
	assert_int_equal(d.nwarnings, 2);
	assert_string_equal(d.v[1002].text, "n999");
	assert_int_equal(d.v[1002].line, 1000);
	diags_free(&d);
}

/*
 * Files and includes
 */

static void
test_parse_file(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path;

	put(s, "plume.conf", "hostname = h\n[smtp]\nhost = x\n");
	path = spath(s, "plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_string_equal(conf->path, path);
	assert_string_equal(conf->globals->file, path);
	assert_string_equal(conf->sections->file, path);
	assert_string_equal(conf->sections->entries->file, path);
	assert_int_equal(conf->sections->entries->line, 3);
	conf_free(conf);
	free(path);
}

static void
test_open_error(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *want;

	path = spath(s, "missing.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	assert_null(conf->globals);
	want = xasprintf("cannot open %s: %s", path, strerror(ENOENT));
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, NULL, 0, want);
	conf_free(conf);
	diags_free(&d);
	free(want);
	free(path);

	/* A directory. */
	assert_int_equal(conf_parse_file(s->dir, &conf, &d), -1);
	want = xasprintf("cannot read %s: %s", s->dir, strerror(EISDIR));
	expect_diag(&d, 0, NULL, 0, want);
	conf_free(conf);
	diags_free(&d);
	free(want);
}

static void
test_nul_byte_and_big_file(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *big;
	size_t n = 1024 * 1024 + 1;

	put_bytes(s, "nul.conf", "a = 1\nb = x\0y\nc = 3\n", 20);
	path = spath(s, "nul.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, path, 2, "line contains a NUL byte");
	want_value(conf->globals, "a", "1");
	want_value(conf->globals, "c", "3");
	assert_null(conf_entry_find(conf->globals, "b"));
	conf_free(conf);
	diags_free(&d);
	free(path);

	big = malloc(n);
	assert_non_null(big);
	memset(big, '#', n);
	put_bytes(s, "big.conf", big, n);
	free(big);
	path = spath(s, "big.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, NULL, 0, "larger than 1048576 bytes");
	conf_free(conf);
	diags_free(&d);
	free(path);
}

static void
test_include_glob_order_and_context(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	struct conf_section *sect;
	const struct conf_entry *e;
	char *main_path, *a_path, *b_path, *x_path;

	put(s, "etc/plume.conf",
	    "hostname = h\n"			/* 1 */
	    "include = conf.d/*.conf\n"		/* 2 */
	    "[smtp]\n"				/* 3 */
	    "host = x\n"			/* 4 */
	    "include = \"extra/x.conf\"\n"	/* 5 */
	    "port = 25\n");			/* 6 */
	/* strcmp() order: "10-b" < "20-a" < "B" < "a", never the locale's */
	put(s, "etc/conf.d/20-a.conf", "[a]\nk = 1\n");
	put(s, "etc/conf.d/10-b.conf", "g10 = 1\n[b]\nk = 1\n");
	put(s, "etc/conf.d/B.conf", "[cap]\n");
	put(s, "etc/conf.d/a.conf", "[low]\n");
	put(s, "etc/conf.d/ignored.txt", "[txt]\n");
	put(s, "etc/conf.d/.hidden.conf", "[hidden]\n");
	/* Starts global, whatever section its includer was in. */
	put(s, "etc/extra/x.conf",
	    "timeout = 5\n"
	    "[dkim]\n"
	    "selector = s\n");

	main_path = spath(s, "etc/plume.conf");
	a_path = spath(s, "etc/conf.d/20-a.conf");
	b_path = spath(s, "etc/conf.d/10-b.conf");
	x_path = spath(s, "etc/extra/x.conf");
	assert_int_equal(conf_parse_file(main_path, &conf, &d), 0);
	expect_ndiags(&d, 0);

	sect = conf->sections;
	assert_string_equal(sect->id, "b");
	assert_string_equal(sect->file, b_path);
	assert_int_equal(sect->line, 2);
	sect = sect->next;
	assert_string_equal(sect->id, "a");
	assert_string_equal(sect->file, a_path);
	assert_int_equal(sect->line, 1);
	sect = sect->next;
	assert_string_equal(sect->id, "cap");
	sect = sect->next;
	assert_string_equal(sect->id, "low");
	sect = sect->next;
	assert_string_equal(sect->id, "smtp");
	assert_string_equal(sect->file, main_path);
	sect = sect->next;
	assert_string_equal(sect->id, "dkim");
	assert_null(sect->next);

	/* Globals from three files, in reading order. */
	assert_int_equal(count_entries(conf->globals), 3);
	assert_string_equal(conf->globals->key, "hostname");
	e = conf_entry_find(conf->globals, "g10");
	assert_string_equal(e->file, b_path);
	assert_int_equal(e->line, 1);
	e = conf_entry_find(conf->globals, "timeout");
	assert_string_equal(e->file, x_path);
	assert_int_equal(e->line, 1);

	/* After the include, back in [smtp]. */
	sect = conf_section_find(conf, "smtp");
	assert_int_equal(count_entries(sect->entries), 2);
	e = conf_entry_find(sect->entries, "port");
	assert_string_equal(e->file, main_path);
	assert_int_equal(e->line, 6);
	want_value(conf_section_find(conf, "dkim")->entries, "selector",
	    "s");
	assert_null(conf_entry_find(conf_section_find(conf, "dkim")->entries,
	    "port"));
	assert_null(conf_section_find(conf, "txt"));
	assert_null(conf_section_find(conf, "hidden"));
	conf_free(conf);
	free(main_path);
	free(a_path);
	free(b_path);
	free(x_path);
}

static void
test_include_empty_glob(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path;

	put(s, "plume.conf",
	    "include = conf.d/*.conf\n"
	    "include = nodir/*.conf\n"
	    "a = 1\n");
	mkdir_in(s, "conf.d");
	path = spath(s, "plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	expect_ndiags(&d, 0);
	want_value(conf->globals, "a", "1");
	conf_free(conf);
	free(path);
}

static void
test_include_missing_literal(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *want;

	put(s, "plume.conf", "a = 1\ninclude = extra.conf\nb = 2\n");
	path = spath(s, "plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	want = xasprintf("cannot open %s/extra.conf: %s", s->dir,
	    strerror(ENOENT));
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, path, 2, want);
	want_value(conf->globals, "b", "2");
	conf_free(conf);
	diags_free(&d);
	free(want);
	free(path);
}

static void
test_include_relative_to_includer(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path;

	/* The same names in the scratch root must not be picked. */
	put(s, "b.conf", "[wrong]\n");
	put(s, "sub/b.conf", "[right]\ninclude = deeper/*.conf\n");
	put(s, "sub/deeper/c.conf", "[deepest]\n");
	put(s, "sub/a.conf", "include = b.conf\n");
	put(s, "abs.conf", "[absolute]\n");
	put(s, "main.conf", "include = sub/a.conf\n");
	assert_int_equal(chdir("/"), 0);
	path = spath(s, "main.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_non_null(conf_section_find(conf, "right"));
	assert_non_null(conf_section_find(conf, "deepest"));
	assert_null(conf_section_find(conf, "wrong"));
	conf_free(conf);
	free(path);

	/* conf_parse_string(): relative to the current directory. */
	assert_int_equal(chdir(s->dir), 0);
	path = xasprintf("include = sub/b.conf\ninclude = %s/abs.conf\n",
	    s->dir);
	assert_int_equal(conf_parse_string(path, "str", &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_non_null(conf_section_find(conf, "right"));
	assert_string_equal(conf_section_find(conf, "right")->file,
	    "sub/b.conf");
	assert_non_null(conf_section_find(conf, "deepest"));
	assert_string_equal(conf_section_find(conf, "deepest")->file,
	    "sub/deeper/c.conf");
	assert_non_null(conf_section_find(conf, "absolute"));
	conf_free(conf);
	free(path);

	/* A file opened by a relative name includes relative to it. */
	assert_int_equal(conf_parse_file("sub/a.conf", &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_non_null(conf_section_find(conf, "right"));
	conf_free(conf);
}

static void
test_include_glob_chars_in_dir(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path;

	/* "x[1]" as a pattern would match "x1", not itself. */
	put(s, "x[1]*/plume.conf", "include = conf.d/*.conf\n");
	put(s, "x[1]*/conf.d/a.conf", "[found]\n");
	put(s, "x1/conf.d/a.conf", "[decoy]\n");
	path = spath(s, "x[1]*/plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_non_null(conf_section_find(conf, "found"));
	assert_null(conf_section_find(conf, "decoy"));
	conf_free(conf);
	free(path);
}

static void
test_include_depth(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char name[32], text[64], *path, *f8;
	int i;

	/* f0 -> f1 -> ... -> f9: f8 is 8 deep and may not include f9. */
	for (i = 0; i <= 9; i++) {
		snprintf(name, sizeof(name), "f%d.conf", i);
		snprintf(text, sizeof(text), "[s%d]\ninclude = f%d.conf\n", i,
		    i + 1);
		put(s, name, i < 9 ? text : "[s9]\n");
	}
	path = spath(s, "f0.conf");
	f8 = spath(s, "f8.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, f8, 2, "includes nested more than 8 levels deep");
	assert_non_null(conf_section_find(conf, "s8"));
	assert_null(conf_section_find(conf, "s9"));
	conf_free(conf);
	diags_free(&d);
	free(path);
	free(f8);

	/* Exactly 8 levels are fine. */
	path = spath(s, "f1.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	expect_ndiags(&d, 0);
	assert_non_null(conf_section_find(conf, "s9"));
	conf_free(conf);
	free(path);
}

static void
test_include_loop(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *b, *want;

	put(s, "a.conf", "[a]\ninclude = b.conf\nk = 1\n");
	put(s, "b.conf", "[b]\ninclude = a.conf\n");
	path = spath(s, "a.conf");
	b = spath(s, "b.conf");
	want = xasprintf("include loop: %s is already being read", path);
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, b, 2, want);
	/* [a] resumed after the include. */
	want_value(conf_section_find(conf, "a")->entries, "k", "1");
	conf_free(conf);
	diags_free(&d);
	free(path);
	free(b);
	free(want);

	/* A glob that matches the file it is in, among others. */
	put(s, "d/x.conf", "include = *.conf\n");
	put(s, "d/y.conf", "include = *.conf\n");
	path = spath(s, "d/x.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	/* x: x loops; y: x loops, y loops.  Three findings, no blow-up. */
	expect_ndiags(&d, 3);
	expect_diag(&d, 0, path, 1, "include loop");
	b = spath(s, "d/y.conf");
	expect_diag(&d, 1, b, 1, "include loop");
	expect_diag(&d, 2, b, 1, "include loop");
	free(b);
	conf_free(conf);
	diags_free(&d);
	free(path);

	/* conf_parse_string() including itself through a file. */
	assert_int_equal(chdir(s->dir), 0);
	put(s, "self.conf", "include = self.conf\n");
	assert_int_equal(conf_parse_string("include = self.conf\n", "str",
	    &conf, &d), -1);
	expect_ndiags(&d, 1);
	expect_diag(&d, 0, "self.conf", 1,
	    "include loop: self.conf is already being read");
	conf_free(conf);
	diags_free(&d);
}

static void
test_include_dir_and_bad_file(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *want;

	put(s, "conf.d/x.conf", "bad line\n");
	put(s, "plume.conf", "include = conf.d\ninclude = conf.d/*\n");
	path = spath(s, "plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 2);
	want = xasprintf("cannot read %s/conf.d: %s", s->dir,
	    strerror(EISDIR));
	expect_diag(&d, 0, path, 1, want);
	free(want);
	/* Findings in an included file carry its own name and line. */
	want = spath(s, "conf.d/x.conf");
	expect_diag(&d, 1, want, 1, "expected 'key = value'");
	free(want);
	conf_free(conf);
	diags_free(&d);
	free(path);
}

static void
test_include_duplicates_across_files(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	char *path, *inc, *want;

	put(s, "plume.conf", "a = 1\n[smtp]\nhost = h\ninclude = i.conf\n");
	put(s, "i.conf", "a = 2\n[smtp]\n");
	path = spath(s, "plume.conf");
	inc = spath(s, "i.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), -1);
	expect_ndiags(&d, 2);
	want = xasprintf("duplicate key 'a' (first set at %s:1)", path);
	expect_diag(&d, 0, inc, 1, want);
	free(want);
	want = xasprintf("duplicate section [smtp] (first at %s:2)", path);
	expect_diag(&d, 1, inc, 2, want);
	free(want);
	conf_free(conf);
	diags_free(&d);
	free(path);
	free(inc);
}

/*
 * Validation
 */

static const struct plume_conf_key keys[] = {
	{ "host", PLUME_CONF_STRING, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "relay host" },
	{ "port", PLUME_CONF_INT, 0, "587", NULL, 1, 65535, NULL },
	{ "retries", PLUME_CONF_INT, 0, NULL, NULL, 0, 0, NULL },
	{ "starttls", PLUME_CONF_BOOL, 0, "yes", NULL, 0, 0, NULL },
	{ "max_size", PLUME_CONF_SIZE, 0, NULL, NULL, 1024, 1 << 30, NULL },
	{ "any_size", PLUME_CONF_SIZE, 0, NULL, NULL, 0, 0, NULL },
	{ "timeout", PLUME_CONF_DURATION, 0, NULL, NULL, 1, 3600, NULL },
	{ "tls", PLUME_CONF_ENUM, 0, "starttls", "starttls|implicit|none",
	    0, 0, NULL },
	{ "auth", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0, NULL },
	{ "key_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0, NULL },
	{ "password_command", PLUME_CONF_COMMAND, PLUME_KEY_SECRET, NULL,
	    NULL, 0, 0, NULL },
	{ "from", PLUME_CONF_ADDRESS, 0, NULL, NULL, 0, 0, NULL },
	{ "password", PLUME_CONF_STRING, PLUME_KEY_SECRET, NULL, NULL, 0, 0,
	    NULL },
	{ "user", PLUME_CONF_STRING, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    NULL },
	{ "pin", PLUME_CONF_INT, PLUME_KEY_SECRET, NULL, NULL, 0, 9999,
	    NULL },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static const char *const core_keys[] = { "match_from", "match_rcpt", NULL };

/* Validates the first section of text; the findings go to d. */
static size_t
validate(const char *text, const char *const *ignore,
    enum diag_level level, struct diags *d)
{
	struct diags pd = { 0 };
	struct conf *conf;
	size_t n;

	if (conf_parse_string(text, "v.conf", &conf, &pd) != 0) {
		dump_diags(&pd);
		fail_msg("parse failed");
	}
	assert_non_null(conf->sections);
	n = conf_validate(conf->sections->entries, keys, ignore, level,
	    "[smtp]", conf->sections->file, conf->sections->line, d);
	assert_int_equal(n, d->n);
	conf_free(conf);
	return n;
}

static void
test_validate_good(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(validate(
	    "[smtp]\n"
	    "host = smtp.example.org\n"
	    "port = 65535\n"
	    "retries = -3\n"
	    "starttls = Off\n"
	    "max_size = 1G\n"
	    "any_size = 0\n"
	    "timeout = 1h\n"
	    "tls = implicit\n"
	    "auth = plain, login\n"
	    "key_file = k.pem\n"
	    "password_command = sh -c \"pass show x\"\n"
	    "from = apps@example.org\n"
	    "password = \"s3cr#t\"\n"
	    "user = u\n"
	    "match_from = *@example.org\n", core_keys, DIAG_ERROR, &d), 0);
	diags_free(&d);
}

static void
test_validate_bad_values(void **state)
{
	static const struct {
		const char *line, *needle;
	} cases[] = {
		{ "port = abc", "key 'port' in [smtp]: 'abc' is not a whole "
		    "number" },
		{ "port = 0", "'0' is out of range (1 to 65535)" },
		{ "port = 65536", "'65536' is out of range (1 to 65535)" },
		{ "port = 99999999999999999999", "is not a whole number" },
		{ "port = 25x", "'25x' is not a whole number" },
		{ "port =", "key 'port' in [smtp]: empty value" },
		{ "retries = 1.5", "is not a whole number" },
		{ "starttls = maybe", "'maybe' is not a boolean" },
		{ "max_size = 1023", "'1023' is out of range (1024 to "
		    "1073741824 bytes)" },
		{ "max_size = 2G", "out of range" },
		{ "max_size = 10X", "'10X' is not a size" },
		{ "any_size = -1", "is not a size" },
		{ "timeout = 0", "'0' is out of range (1 to 3600 seconds)" },
		{ "timeout = 1h1s", "out of range" },
		{ "timeout = 5 min", "'5 min' is not a duration" },
		{ "tls = STARTTLS", "'STARTTLS' is not one of: starttls, "
		    "implicit, none" },
		{ "tls = start", "is not one of" },
		{ "auth = \" , \"", "key 'auth' in [smtp]: empty list" },
		{ "auth = \"\"", "empty value" },
		{ "key_file = \"\"", "key 'key_file' in [smtp]: empty value" },
		{ "password_command = sh -c \"x", "bad command: "
		    "unterminated double quote" },
		{ "password_command = \"   \"", "bad command: empty command" },
		{ "from = -oQ@x", "'-oQ@x' is not an address" },
		{ "from = a b@x", "is not an address" },
		{ "from = \"a\tb@x\"", "is not an address" },
		{ "from = a\rb@x", "is not an address" },
		{ "from = \"\"", "empty value" },
	};
	struct diags d = { 0 };
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		text = xasprintf("[smtp]\nhost = h\nuser = u\n%s\n",
		    cases[i].line);
		if (validate(text, NULL, DIAG_ERROR, &d) != 1)
			print_error("case %zu: %s\n", i, cases[i].line);
		expect_ndiags(&d, 1);
		expect_diag(&d, 0, "v.conf", 4, cases[i].needle);
		assert_int_equal(d.nerrors, 1);
		diags_free(&d);
		free(text);
	}
}

static void
test_validate_secrets_not_shown(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(validate("[smtp]\nhost = h\nuser = u\n"
	    "password_command = 'hunter2\n", NULL, DIAG_ERROR, &d), 1);
	assert_null(strstr(d.v[0].text, "hunter2"));
	expect_diag(&d, 0, "v.conf", 4, "unterminated single quote");
	diags_free(&d);
	assert_int_equal(validate("[smtp]\nhost = h\nuser = u\n"
	    "pin = 12ab\n", NULL, DIAG_ERROR, &d), 1);
	expect_diag(&d, 0, "v.conf", 4,
	    "key 'pin' in [smtp]: the value is not a whole number");
	assert_null(strstr(d.v[0].text, "12ab"));
	diags_free(&d);
	assert_int_equal(validate("[smtp]\nhost = h\nuser = u\n"
	    "pin = 10000\n", NULL, DIAG_ERROR, &d), 1);
	expect_diag(&d, 0, "v.conf", 4,
	    "the value is out of range (0 to 9999)");
	diags_free(&d);
}

static void
test_validate_unknown_keys(void **state)
{
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(validate(
	    "[smtp]\n"			/* 1 */
	    "host = h\n"		/* 2 */
	    "user = u\n"		/* 3 */
	    "prot = 25\n"		/* 4: swapped letters */
	    "hots = x\n"		/* 5 */
	    "timeuot = 5\n"		/* 6 */
	    "tsl = none\n"		/* 7 */
	    "max_sizes = 1M\n"		/* 8 */
	    "frobnicate = 1\n"		/* 9: nothing close */
	    "x = 1\n"			/* 10: too short to guess */
	    "match_fromm = a\n"		/* 11: close to a core key */
	    "match_from = a\n",		/* 12: ignored */
	    core_keys, DIAG_WARNING, &d), 8);
	expect_diag(&d, 0, "v.conf", 4,
	    "unknown key 'prot' in [smtp] (did you mean 'port'?)");
	expect_diag(&d, 1, "v.conf", 5, "(did you mean 'host'?)");
	expect_diag(&d, 2, "v.conf", 6, "(did you mean 'timeout'?)");
	expect_diag(&d, 3, "v.conf", 7, "(did you mean 'tls'?)");
	expect_diag(&d, 4, "v.conf", 8, "(did you mean 'max_size'?)");
	expect_diag(&d, 5, "v.conf", 9, "unknown key 'frobnicate' in [smtp]");
	assert_null(strstr(d.v[5].text, "did you mean"));
	expect_diag(&d, 6, "v.conf", 10, "unknown key 'x' in [smtp]");
	assert_null(strstr(d.v[6].text, "did you mean"));
	expect_diag(&d, 7, "v.conf", 11, "(did you mean 'match_from'?)");
	assert_int_equal(d.nwarnings, 8);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.v[0].level, DIAG_WARNING);
	diags_free(&d);
}

static void
test_validate_required(void **state)
{
	static const char *const ignore_user[] = { "user", NULL };
	struct diags d = { 0 };

	(void)state;
	assert_int_equal(validate("# header at line 2\n[smtp]\nport = 25\n",
	    NULL, DIAG_ERROR, &d), 2);
	expect_diag(&d, 0, "v.conf", 2,
	    "missing required key 'host' in [smtp]");
	expect_diag(&d, 1, "v.conf", 2,
	    "missing required key 'user' in [smtp]");
	diags_free(&d);

	/* A required key the core handles is not the plugin's to miss. */
	assert_int_equal(validate("[smtp]\nhost = h\n", ignore_user,
	    DIAG_ERROR, &d), 0);
	diags_free(&d);

	/* Globals: no section, no place. */
	assert_int_equal(conf_validate(NULL, keys, NULL, DIAG_ERROR,
	    "global settings", NULL, 0, &d), 2);
	expect_diag(&d, 0, NULL, 0,
	    "missing required key 'host' in global settings");
	diags_free(&d);
}

static void
test_validate_edge_tables(void **state)
{
	static const struct plume_conf_key odd[] = {
		{ "e", PLUME_CONF_ENUM, 0, NULL, NULL, 0, 0, NULL },
		{ "one", PLUME_CONF_ENUM, 0, NULL, "only", 0, 0, NULL },
		{ "t", (enum plume_conf_type)99, 0, NULL, NULL, 0, 0, NULL },
		{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
	};
	struct diags d = { 0 };
	struct conf *conf = parse_ok("a = 1\ne = x\none = only\nt = 1\n"
	    "one_ = onl\n");

	(void)state;
	assert_ptr_equal(conf_key_find(odd, "one"), &odd[1]);
	assert_null(conf_key_find(odd, "two"));
	assert_null(conf_key_find(NULL, "one"));
	assert_int_equal(conf_validate(conf->globals, odd, NULL, DIAG_ERROR,
	    "global settings", NULL, 0, &d), 4);
	expect_diag(&d, 0, "t.conf", 1, "unknown key 'a' in global settings");
	/* One edit from "e", but sharing nothing with it. */
	assert_null(strstr(d.v[0].text, "did you mean"));
	expect_diag(&d, 1, "t.conf", 2, "no choices");
	expect_diag(&d, 2, "t.conf", 4, "unknown type 99");
	expect_diag(&d, 3, "t.conf", 5, "(did you mean 'one'?)");
	diags_free(&d);
	/* No table at all: every key is unknown. */
	assert_int_equal(conf_validate(conf->globals, NULL, NULL, DIAG_ERROR,
	    "[x]", "t.conf", 1, &d), 5);
	diags_free(&d);
	assert_int_equal(conf_validate(NULL, NULL, NULL, DIAG_ERROR, "[x]",
	    "t.conf", 1, &d), 0);
	conf_free(conf);
}

/*
 * Typed values
 */

static void
test_parse_bool(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True",
	    "on", "ON", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off",
	    "Off", "0" };
	static const char *const bad[] = { "", "y", "n", "2", "yes ", " no",
	    "enable", "01", "t" };
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(yes); i++) {
		b = false;
		assert_int_equal(conf_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < nitems(no); i++) {
		b = true;
		assert_int_equal(conf_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < nitems(bad); i++)
		assert_int_equal(conf_parse_bool(bad[i], &b), -1);
}

static void
test_parse_int(void **state)
{
	static const struct {
		const char *s;
		long long v;
	} good[] = {
		{ "0", 0 }, { "42", 42 }, { "-7", -7 }, { "+7", 7 },
		{ "007", 7 }, { "-0", 0 },
		{ "9223372036854775807", LLONG_MAX },
		{ "-9223372036854775808", LLONG_MIN },
	};
	static const char *const bad[] = { "", "-", "+", " 1", "1 ", "0x10",
	    "1e3", "1.0", "12a", "--1", "+-1", "- 1",
	    "9223372036854775808", "-9223372036854775809",
	    "99999999999999999999999" };
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		assert_int_equal(conf_parse_int(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < nitems(bad); i++) {
		v = 12345;
		if (conf_parse_int(bad[i], &v) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(v == 12345);
	}
}

static void
test_parse_size(void **state)
{
	static const struct {
		const char *s;
		long long v;
	} good[] = {
		{ "0", 0 }, { "1024", 1024 }, { "10b", 10 }, { "10B", 10 },
		{ "10k", 10240 }, { "10K", 10240 }, { "10KB", 10240 },
		{ "10KiB", 10240 }, { "10kib", 10240 },
		{ "10M", 10LL << 20 }, { "10m", 10LL << 20 },
		{ "10MB", 10LL << 20 }, { "10MiB", 10LL << 20 },
		{ "2G", 2LL << 30 }, { "2GB", 2LL << 30 },
		{ "2GiB", 2LL << 30 },
		{ "1T", 1LL << 40 }, { "10 MB", 10LL << 20 },
		{ "10\tk", 10240 },
		{ "8388607T", 8388607LL << 40 },
		{ "9223372036854775807", LLONG_MAX },
	};
	static const char *const bad[] = { "", "k", "-1", "+1", "1.5G",
	    "10X", "10KBB", "10 ", " 10", "10Mi", "10 M B", "8388608T",
	    "9007199254740992k", "9223372036854775808", "0x10", "1e3" };
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		if (conf_parse_size(good[i].s, &v) != 0)
			fail_msg("'%s' refused", good[i].s);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < nitems(bad); i++)
		if (conf_parse_size(bad[i], &v) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		long long v;
	} good[] = {
		{ "0", 0 }, { "30", 30 }, { "30s", 30 }, { "5m", 300 },
		{ "2h", 7200 }, { "5d", 432000 }, { "1w", 604800 },
		{ "1h30m", 5400 }, { "1h 30m", 5400 }, { "1w2d3h4m5s",
		    604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
		{ "30m1h", 5400 }, { "0s", 0 }, { "90m", 5400 },
		{ "9223372036854775807", LLONG_MAX },
		{ "9223372036854775807s", LLONG_MAX },
		{ "15250284452471w", 15250284452471LL * 604800 },
	};
	static const char *const bad[] = { "", "s", "-5", "+5", "5x", "5M",
	    "5H", "1h30", "1.5h", "5 m", " 5", "5s ", "h1", "1hh",
	    "15250284452472w", "9223372036854775807s1s",
	    "9223372036854775808" };
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(good); i++) {
		if (conf_parse_duration(good[i].s, &v) != 0)
			fail_msg("'%s' refused", good[i].s);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < nitems(bad); i++)
		if (conf_parse_duration(bad[i], &v) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_split_list(void **state)
{
	char **v;

	(void)state;
	v = conf_split_list("dkim, ratelimit, smtp, http:mailgun, logfile");
	expect_strv(v, "dkim", "ratelimit", "smtp", "http:mailgun",
	    "logfile", NULL);
	strv_free(v);
	v = conf_split_list("  a,,b c\t, ,d,  ");
	expect_strv(v, "a", "b", "c", "d", NULL);
	strv_free(v);
	v = conf_split_list("plain login");
	expect_strv(v, "plain", "login", NULL);
	strv_free(v);
	v = conf_split_list("");
	expect_strv(v, NULL);
	strv_free(v);
	v = conf_split_list(" , ,\t");
	expect_strv(v, NULL);
	strv_free(v);
	v = conf_split_list("single");
	expect_strv(v, "single", NULL);
	strv_free(v);
	strv_free(NULL);
}

static void
test_split_command(void **state)
{
	static const struct {
		const char *s, *err;
	} bad[] = {
		{ "", "empty command" },
		{ " \t ", "empty command" },
		{ "sh -c \"x", "unterminated double quote" },
		{ "sh -c 'x", "unterminated single quote" },
		{ "\"a\\\"", "unterminated double quote" },
		{ "cmd \\", "backslash at the end of the command" },
		{ "\"\" x", "empty command name" },
		{ "''", "empty command name" },
	};
	const char *err;
	char **v, *dummy[1] = { NULL };
	size_t i;

	(void)state;
	assert_int_equal(conf_split_command("sh -c \"pass show x\"", &v,
	    &err), 0);
	expect_strv(v, "sh", "-c", "pass show x", NULL);
	strv_free(v);

	/* No expansion of any kind. */
	assert_int_equal(conf_split_command("echo $HOME ~ *.conf `id` $(id) "
	    "a;b |c >d", &v, &err), 0);
	expect_strv(v, "echo", "$HOME", "~", "*.conf", "`id`", "$(id)",
	    "a;b", "|c", ">d", NULL);
	strv_free(v);

	/* Quoting and escapes. */
	assert_int_equal(conf_split_command(" \t'a b'  \"c \\\"d\\\" \\\\e\" "
	    "f\\ g 'h\\i' \"j\\k\" l\\'m \"$X\" ", &v, &err), 0);
	expect_strv(v, "a b", "c \"d\" \\e", "f g", "h\\i", "j\\k", "l'm",
	    "$X", NULL);
	strv_free(v);

	/* Quoted parts join their neighbours; "" is an empty word. */
	assert_int_equal(conf_split_command("a\"b c\"d'e f'g cmd \"\" ''",
	    &v, &err), 0);
	expect_strv(v, "ab cde fg", "cmd", "", "", NULL);
	strv_free(v);

	assert_int_equal(conf_split_command("/usr/bin/pass", &v, NULL), 0);
	expect_strv(v, "/usr/bin/pass", NULL);
	strv_free(v);

	for (i = 0; i < nitems(bad); i++) {
		v = dummy;	/* must be reset */
		err = NULL;
		if (conf_split_command(bad[i].s, &v, &err) != -1)
			fail_msg("'%s' accepted", bad[i].s);
		assert_null(v);
		assert_non_null(err);
		assert_string_equal(err, bad[i].err);
	}
	/* error_r may be NULL. */
	assert_int_equal(conf_split_command("'", &v, NULL), -1);
}

/* What the quoting helpers write reads back unchanged (plume import). */
static void
test_quote_round_trip(void **state)
{
	static const char *const values[] = {
		"plain", "", " lead", "trail ", "a # b", "a#b", "\"q\" x",
		"x \"y\"", "back\\slash \\\"", "'single' \"double\"",
		"gpg -d ~/.pw.gpg # comment", "$HOME `id`",
	};
	struct conf *conf;
	struct diags diags = { 0 };
	char **v;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(values); i++) {
		char *qv = conf_quote_value(values[i]);
		char *text = xasprintf("k = %s\n", qv);
		char *qw = conf_quote_word(values[i]);
		char *cmd = xasprintf("sh -c %s", qw);

		assert_int_equal(conf_parse_string(text, "t", &conf, &diags),
		    0);
		assert_non_null(conf->globals);
		assert_string_equal(conf->globals->value, values[i]);
		conf_free(conf);
		assert_int_equal(conf_split_command(cmd, &v, NULL), 0);
		expect_strv(v, "sh", "-c", values[i], NULL);
		strv_free(v);
		/* both layers at once, as password_command is written */
		free(text);
		qv = (free(qv), conf_quote_value(cmd));
		text = xasprintf("k = %s\n", qv);
		assert_int_equal(conf_parse_string(text, "t", &conf, &diags),
		    0);
		assert_int_equal(conf_split_command(conf->globals->value, &v,
		    NULL), 0);
		expect_strv(v, "sh", "-c", values[i], NULL);
		strv_free(v);
		conf_free(conf);
		free(text);
		free(qv);
		free(qw);
		free(cmd);
	}
	assert_int_equal(diags.n, 0);
	diags_free(&diags);
}

static void
test_resolve_path(void **state)
{
	static const struct {
		const char *value, *file, *want;
	} cases[] = {
		{ "/abs/k.pem", "/etc/plume/plume.conf", "/abs/k.pem" },
		{ "k.pem", "/etc/plume/plume.conf", "/etc/plume/k.pem" },
		{ "dkim/k.pem", "/etc/plume/conf.d/dkim.conf",
		    "/etc/plume/conf.d/dkim/k.pem" },
		{ "../k.pem", "etc/plume.conf", "etc/../k.pem" },
		{ "k.pem", "plume.conf", "k.pem" },
		{ "k.pem", "/plume.conf", "/k.pem" },
		{ "k.pem", NULL, "k.pem" },
		{ "~/k.pem", "/etc/p.conf", "/etc/~/k.pem" },
		{ "", "/etc/p.conf", "" },
	};
	char *s;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		s = conf_resolve_path(cases[i].value, cases[i].file);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
}

/* The parser's values go through the validator as one piece. */
static void
test_resolve_path_from_entry(void **state)
{
	struct scratch *s = *state;
	struct diags d = { 0 };
	struct conf *conf;
	const struct conf_entry *e;
	char *path, *got, *want;

	put(s, "conf.d/dkim.conf", "[dkim]\nkey = keys/k.pem\n");
	put(s, "plume.conf", "include = conf.d/*.conf\n");
	path = spath(s, "plume.conf");
	assert_int_equal(conf_parse_file(path, &conf, &d), 0);
	e = conf_entry_find(conf_section_find(conf, "dkim")->entries, "key");
	got = conf_resolve_path(e->value, e->file);
	want = spath(s, "conf.d/keys/k.pem");
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(path);
	conf_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_blanks_and_line_ends),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_errors_continue),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_return_counts_only_new_errors),
		cmocka_unit_test(test_diags),
		cmocka_unit_test_setup_teardown(test_parse_file,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_open_error,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_nul_byte_and_big_file,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(
		    test_include_glob_order_and_context,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_include_empty_glob,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_include_missing_literal,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(
		    test_include_relative_to_includer,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(
		    test_include_glob_chars_in_dir,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_include_depth,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_include_loop,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(test_include_dir_and_bad_file,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test_setup_teardown(
		    test_include_duplicates_across_files,
		    setup_scratch, teardown_scratch),
		cmocka_unit_test(test_validate_good),
		cmocka_unit_test(test_validate_bad_values),
		cmocka_unit_test(test_validate_secrets_not_shown),
		cmocka_unit_test(test_validate_unknown_keys),
		cmocka_unit_test(test_validate_required),
		cmocka_unit_test(test_validate_edge_tables),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_split_list),
		cmocka_unit_test(test_split_command),
		cmocka_unit_test(test_quote_round_trip),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test_setup_teardown(test_resolve_path_from_entry,
		    setup_scratch, teardown_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
