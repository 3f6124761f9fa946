/*
 * NAME
 *	conf.c - parse and validate plume.conf
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	int conf_parse_file(path, conf_r, diags)
 *	int conf_parse_string(text, name, conf_r, diags)
 *	void conf_free(conf)
 *	const struct conf_entry *conf_entry_find(list, key)
 *	struct conf_section *conf_section_find(conf, id)
 *
 *	size_t conf_validate(entries, keys, ignore, level, where,
 *	    sect_file, sect_line, diags)
 *	const struct plume_conf_key *conf_key_find(keys, name)
 *
 *	int conf_parse_bool(s, bool_r)
 *	int conf_parse_int(s, ll_r)
 *	int conf_parse_size(s, ll_r)
 *	int conf_parse_duration(s, ll_r)
 *	char **conf_split_list(s)
 *	int conf_split_command(s, argv_r, error_r)
 *	void strv_free(v)
 *	char *conf_quote_value(s)
 *	char *conf_quote_word(s)
 *	char *conf_resolve_path(value, set_in_file)
 *
 *	void diags_add(diags, level, file, line, fmt, ...)
 *	void diags_free(diags)
 *	char *diag_format(diag)
 * DESCRIPTION
 *	The file is a sequence of lines:
 *	- blank lines, and comments: '#' at the start of a line (after
 *	  optional white space);
 *	- "key = value": keys are [a-z0-9_]+.  An unquoted value runs to
 *	  the end of the line or to a '#' that follows white space, and
 *	  loses its surrounding white space; quotes inside it are kept
 *	  verbatim, because a command value splits its words later
 *	  (conf_split_command) and needs them.  A value that is
 *	  double-quoted as a whole loses its quotes, may hold '#' and
 *	  leading or trailing blanks, and understands \" and \\ (any other
 *	  backslash is kept as written); only white space or a comment may
 *	  follow the closing quote;
 *	- "[plugin]" or "[plugin \"name\"]" opens the section of one
 *	  plugin instance, id "plugin" or "plugin:name"; plugin names are
 *	  [a-z0-9_]+, instance names [A-Za-z0-9_.-]+;
 *	- "include = GLOB", anywhere: GLOB is taken relative to the
 *	  including file's directory and expanded by glob(3); matches are
 *	  read in strcmp() order (never the locale's, so the order of
 *	  drop-ins cannot change with LC_COLLATE).  A pattern with no
 *	  wildcard names one file that must exist: a mistyped file name
 *	  must not drop settings silently, while an empty conf.d/ is
 *	  normal.  An included file starts with global settings; after it
 *	  the includer carries on in its own current section.
 *
 *	Global keys, and the keys of one section, must be unique; so must
 *	section ids.  A UTF-8 byte order mark at the start of a file and
 *	CR before LF are ignored.
 *
 *	conf_validate() checks a list of entries against a plugin's typed
 *	key table; the typed parsers below are the same ones the core uses
 *	to read the values afterwards, so what validates is what is used.
 * DIAGNOSTICS
 *	Every syntax error, duplicate, unreadable file and invalid value is
 *	added to the caller's struct diags with the file and line it is
 *	about.  Parsing goes on after an error (the rest of the line is
 *	dropped, and so is the body of a bad or duplicate section) so one
 *	run reports every problem.  Includes nested more than
 *	CONF_INCLUDE_DEPTH_MAX deep, include loops, and files over 1 MiB
 *	are errors.  Values of keys flagged PLUME_KEY_SECRET are never
 *	repeated in a finding.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"

/* A config file is a few kilobytes; a megabyte means a wrong include. */
#define CONF_FILE_MAX	(1024 * 1024)

#define BLANKS		" \t"

/* A file being read, to refuse include loops before the depth limit. */
struct conf_fileid {
	dev_t	dev;
	ino_t	ino;
};

struct conf_parser {
	struct conf		*conf;
	struct diags		*diags;
	struct conf_section	*last;	/* tail of conf->sections */
	struct conf_fileid	 stack[CONF_INCLUDE_DEPTH_MAX + 1];
	size_t			 nstack;
};

/* Where one file's lines go; each file has its own. */
struct conf_ctx {
	const char		*file;	/* interned in conf->files */
	int			 depth;	/* 0 for the top-level file */
	bool			 from_cwd;	/* includes relative to "." */
	struct conf_section	*sect;	/* NULL: global settings */
	bool			 discard;	/* bad section: drop keys */
};

static char	*xvasprintf(const char *, va_list) PRINTF_LIKE(1, 0);
static void	parse_text(struct conf_parser *, char *, size_t, const char *,
		    int, bool);
static void	parse_path(struct conf_parser *, const char *, const char *,
		    unsigned, int);
static void	do_include(struct conf_parser *, struct conf_ctx *,
		    const char *, unsigned);

/*
 * Diagnostics
 */

static char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	char *s;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return xstrdup("(unprintable message)");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void
diags_add(struct diags *d, enum diag_level level, const char *file,
    unsigned line, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;

	/*
	 * struct diags has no capacity member (callers zero-initialise
	 * it), so the array is kept at the next power of two of n and
	 * grows whenever n reaches one: amortised O(1), no extra field.
	 */
	if (d->n == 0 || (d->n & (d->n - 1)) == 0)
		d->v = xreallocarray(d->v, d->n == 0 ? 1 : d->n * 2,
		    sizeof(*d->v));
	g = &d->v[d->n++];
	g->level = level;
	g->file = file != NULL ? xstrdup(file) : NULL;
	g->line = file != NULL ? line : 0;
	va_start(ap, fmt);
	g->text = xvasprintf(fmt, ap);
	va_end(ap);
	if (level == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].text);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->nerrors = d->nwarnings = 0;
}

char *
diag_format(const struct diag *g)
{
	if (g->file != NULL && g->line != 0)
		return xasprintf("%s:%u: %s", g->file, g->line, g->text);
	if (g->file != NULL)
		return xasprintf("%s: %s", g->file, g->text);
	return xstrdup(g->text);
}

/*
 * Lexical classes
 */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool
is_inst_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Keys and plugin names share one alphabet: [a-z0-9_]+. */
static bool
key_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_key_char(*s))
			return false;
	return true;
}

static bool
inst_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_inst_char(*s))
			return false;
	return true;
}

/* "[smtp]" or "[smtp \"backup\"]", as the administrator wrote it. */
static char *
section_display(const struct conf_section *s)
{
	if (s->name != NULL)
		return xasprintf("[%s \"%s\"]", s->plugin, s->name);
	return xasprintf("[%s]", s->plugin);
}

/*
 * The tree
 */

/* Entries and sections point at one shared copy of each file name. */
static const char *
intern_file(struct conf *conf, const char *name)
{
	size_t i;

	for (i = 0; i < conf->nfiles; i++)
		if (strcmp(conf->files[i], name) == 0)
			return conf->files[i];
	conf->files = xreallocarray(conf->files, conf->nfiles + 1,
	    sizeof(*conf->files));
	conf->files[conf->nfiles] = xstrdup(name);
	return conf->files[conf->nfiles++];
}

/* Appends key = value to *head unless key is already there; takes both. */
static void
add_entry(struct conf_parser *p, struct conf_entry **head, char *key,
    char *value, const char *file, unsigned line)
{
	struct conf_entry **tail, *e;

	for (tail = head; *tail != NULL; tail = &(*tail)->next) {
		if (strcmp((*tail)->key, key) == 0) {
			diags_add(p->diags, DIAG_ERROR, file, line,
			    "duplicate key '%s' (first set at %s:%u)", key,
			    (*tail)->file, (*tail)->line);
			free(key);
			free(value);
			return;
		}
	}
	e = xcalloc(1, sizeof(*e));
	e->key = key;
	e->value = value;
	e->file = file;
	e->line = line;
	*tail = e;
}

static void
free_entries(struct conf_entry *e)
{
	struct conf_entry *next;

	for (; e != NULL; e = next) {
		next = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
}

void
conf_free(struct conf *conf)
{
	struct conf_section *s, *next;
	size_t i;

	if (conf == NULL)
		return;
	free_entries(conf->globals);
	for (s = conf->sections; s != NULL; s = next) {
		next = s->next;
		free(s->plugin);
		free(s->name);
		free(s->id);
		free_entries(s->entries);
		free(s);
	}
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf->path);
	free(conf);
}

const struct conf_entry *
conf_entry_find(const struct conf_entry *e, const char *key)
{
	for (; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

struct conf_section *
conf_section_find(const struct conf *conf, const char *id)
{
	struct conf_section *s;

	for (s = conf->sections; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/*
 * Lines
 */

/*
 * s points at '[': "[" plugin [ "\"" name "\"" ] "]", blanks allowed
 * around the parts.  Whatever happens, the old section is left: keys
 * below a header that is wrong or duplicate are dropped, so one typo
 * does not turn into a screenful of unknown or duplicate keys.
 */
static void
parse_section(struct conf_parser *p, struct conf_ctx *ctx, const char *s,
    unsigned line)
{
	struct conf_section *sect, *old;
	const char *q, *start;
	char *plugin, *name = NULL, *id, *disp;

	ctx->sect = NULL;
	ctx->discard = true;
	q = s + 1 + strspn(s + 1, BLANKS);
	start = q;
	q += strcspn(q, " \t\"]#");
	if (q == start) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "bad section header: missing plugin name "
		    "(expected [plugin] or [plugin \"name\"])");
		return;
	}
	plugin = xstrndup(start, (size_t)(q - start));
	if (!key_name_ok(plugin)) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "bad plugin name '%s' in section header (expected "
		    "lower-case letters, digits and '_')", plugin);
		free(plugin);
		return;
	}
	q += strspn(q, BLANKS);
	if (*q == '"') {
		start = ++q;
		q = strchr(q, '"');
		if (q == NULL) {
			diags_add(p->diags, DIAG_ERROR, ctx->file, line,
			    "bad section header: unterminated instance name "
			    "(expected [plugin \"name\"])");
			free(plugin);
			return;
		}
		name = xstrndup(start, (size_t)(q - start));
		if (!inst_name_ok(name)) {
			diags_add(p->diags, DIAG_ERROR, ctx->file, line,
			    "bad instance name \"%s\" in section header "
			    "(expected letters, digits, '_', '.' and '-')",
			    name);
			free(plugin);
			free(name);
			return;
		}
		q++;
		q += strspn(q, BLANKS);
	}
	if (*q != ']') {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "bad section header: expected ']' "
		    "(write [plugin] or [plugin \"name\"])");
		free(plugin);
		free(name);
		return;
	}
	q++;
	q += strspn(q, BLANKS);
	if (*q != '\0' && *q != '#') {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "unexpected text after section header "
		    "(expected the end of the line or a comment)");
		free(plugin);
		free(name);
		return;
	}

	id = name != NULL ? xasprintf("%s:%s", plugin, name) :
	    xstrdup(plugin);
	if ((old = conf_section_find(p->conf, id)) != NULL) {
		disp = section_display(old);
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "duplicate section %s (first at %s:%u)", disp, old->file,
		    old->line);
		free(disp);
		free(plugin);
		free(name);
		free(id);
		return;
	}
	sect = xcalloc(1, sizeof(*sect));
	sect->plugin = plugin;
	sect->name = name;
	sect->id = id;
	sect->file = ctx->file;
	sect->line = line;
	if (p->last == NULL)
		p->conf->sections = sect;
	else
		p->last->next = sect;
	p->last = sect;
	ctx->sect = sect;
	ctx->discard = false;
}

/* v points at the opening quote; returns the value, or NULL after a
   diagnostic. */
static char *
parse_quoted(struct conf_parser *p, struct conf_ctx *ctx, const char *v,
    unsigned line)
{
	struct buf b;
	const char *q;

	buf_init(&b);
	for (q = v + 1; *q != '"'; q++) {
		if (*q == '\0') {
			diags_add(p->diags, DIAG_ERROR, ctx->file, line,
			    "unterminated quoted value "
			    "(expected a closing '\"')");
			buf_free(&b);
			return NULL;
		}
		/* Only \" and \\ are escapes: C:\dir stays as written. */
		if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
			q++;
		buf_addc(&b, *q);
	}
	q++;
	q += strspn(q, BLANKS);
	/* Nothing can follow a closing quote, so a '#' right after it
	   can only be a comment. */
	if (*q != '\0' && *q != '#') {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "unexpected text after the closing quote (expected "
		    "the end of the line or a comment; quote the whole "
		    "value or none of it)");
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* s is a line without its leading blanks, not a comment or header. */
static void
parse_entry(struct conf_parser *p, struct conf_ctx *ctx, const char *s,
    unsigned line)
{
	const char *eq, *end, *v;
	char *key, *value;

	if ((eq = strchr(s, '=')) == NULL) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "expected 'key = value', a [section] header or a "
		    "comment");
		return;
	}
	for (end = eq; end > s && is_blank(end[-1]); end--)
		continue;
	if (end == s) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "missing key name before '=' (expected 'key = value')");
		return;
	}
	key = xstrndup(s, (size_t)(end - s));
	if (!key_name_ok(key)) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "bad key name '%s' (expected lower-case letters, digits "
		    "and '_')", key);
		free(key);
		return;
	}

	v = eq + 1 + strspn(eq + 1, BLANKS);
	if (*v == '"') {
		if ((value = parse_quoted(p, ctx, v, line)) == NULL) {
			free(key);
			return;
		}
	} else {
		/*
		 * '#' begins a comment only after a blank, so that
		 * "color=#fff" or an URL fragment survive unquoted.  v is
		 * past the '=', so end[-1] is always inside the line.
		 */
		for (end = v; *end != '\0'; end++)
			if (*end == '#' && is_blank(end[-1]))
				break;
		while (end > v && is_blank(end[-1]))
			end--;
		value = xstrndup(v, (size_t)(end - v));
	}

	if (strcmp(key, "include") == 0) {
		do_include(p, ctx, value, line);
		free(key);
		free(value);
	} else if (ctx->discard) {
		free(key);
		free(value);
	} else
		add_entry(p, ctx->sect != NULL ? &ctx->sect->entries :
		    &p->conf->globals, key, value, ctx->file, line);
}

/* One line, NUL-terminated, without its line end. */
static void
parse_line(struct conf_parser *p, struct conf_ctx *ctx, const char *s,
    unsigned line)
{
	s += strspn(s, BLANKS);
	if (*s == '\0' || *s == '#')
		return;
	if (*s == '[')
		parse_section(p, ctx, s, line);
	else
		parse_entry(p, ctx, s, line);
}

/* data holds len bytes and one more for a NUL; it is modified. */
static void
parse_text(struct conf_parser *p, char *data, size_t len, const char *file,
    int depth, bool from_cwd)
{
	struct conf_ctx ctx;
	char *s, *nl, *end = data + len;
	unsigned line = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.file = file;
	ctx.depth = depth;
	ctx.from_cwd = from_cwd;

	s = data;
	/* Some editors start UTF-8 files with a byte order mark. */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (; s < end; s = nl + 1) {
		line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		/* A NUL would silently cut the line short: refuse it. */
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL) {
			diags_add(p->diags, DIAG_ERROR, file, line,
			    "line contains a NUL byte");
			continue;
		}
		*nl = '\0';
		if (nl > s && nl[-1] == '\r')
			nl[-1] = '\0';
		parse_line(p, &ctx, s, line);
	}
}

/*
 * Files and includes
 */

/* Reads fd whole into b; -1 with errno set, EFBIG when too large. */
static int
read_all(int fd, struct buf *b)
{
	char chunk[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > CONF_FILE_MAX) {
			errno = EFBIG;
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
}

/*
 * Reads and parses path; problems opening or reading it are reported at
 * the include line that named it (from_file:from_line), or without a
 * place for the top-level file.
 */
static void
parse_path(struct conf_parser *p, const char *path, const char *from_file,
    unsigned from_line, int depth)
{
	struct stat st;
	struct buf b;
	size_t i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		diags_add(p->diags, DIAG_ERROR, from_file, from_line,
		    "cannot open %s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1) {
		diags_add(p->diags, DIAG_ERROR, from_file, from_line,
		    "cannot stat %s: %s", path, strerror(errno));
		close(fd);
		return;
	}
	/* Caught here rather than by read(): a clearer message. */
	if (S_ISDIR(st.st_mode)) {
		diags_add(p->diags, DIAG_ERROR, from_file, from_line,
		    "cannot read %s: %s", path, strerror(EISDIR));
		close(fd);
		return;
	}
	for (i = 0; i < p->nstack; i++) {
		if (p->stack[i].dev == st.st_dev &&
		    p->stack[i].ino == st.st_ino) {
			diags_add(p->diags, DIAG_ERROR, from_file, from_line,
			    "include loop: %s is already being read", path);
			close(fd);
			return;
		}
	}

	buf_init(&b);
	if (read_all(fd, &b) == -1) {
		if (errno == EFBIG)
			diags_add(p->diags, DIAG_ERROR, from_file, from_line,
			    "cannot read %s: larger than %d bytes", path,
			    CONF_FILE_MAX);
		else
			diags_add(p->diags, DIAG_ERROR, from_file, from_line,
			    "cannot read %s: %s", path, strerror(errno));
		buf_free(&b);
		close(fd);
		return;
	}
	close(fd);
	if (b.data == NULL)
		buf_adds(&b, "");	/* an empty file still needs its NUL */

	/* depth <= CONF_INCLUDE_DEPTH_MAX, so the stack has room. */
	p->stack[p->nstack].dev = st.st_dev;
	p->stack[p->nstack].ino = st.st_ino;
	p->nstack++;
	parse_text(p, b.data, b.len, intern_file(p->conf, path), depth,
	    false);
	p->nstack--;
	buf_free(&b);
}

static bool
has_glob_meta(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * dir (dirlen bytes) joined with rel.  With escape set, glob
 * metacharacters in dir are escaped: a config living in "/srv/[x]" must
 * not turn its directory into a pattern.
 */
static char *
join_dir(const char *dir, size_t dirlen, const char *rel, bool escape)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < dirlen; i++) {
		if (escape && strchr("*?[]\\", dir[i]) != NULL)
			buf_addc(&b, '\\');
		buf_addc(&b, dir[i]);
	}
	buf_addc(&b, '/');
	buf_adds(&b, rel);
	return buf_detach(&b);
}

static void
do_include(struct conf_parser *p, struct conf_ctx *ctx, const char *pattern,
    unsigned line)
{
	const char *slash;
	char *full;
	glob_t g;
	bool meta;
	size_t i;
	int rc;

	if (*pattern == '\0') {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "include needs a file name or pattern");
		return;
	}
	if (ctx->depth >= CONF_INCLUDE_DEPTH_MAX) {
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "includes nested more than %d levels deep (is there an "
		    "include loop?)", CONF_INCLUDE_DEPTH_MAX);
		return;
	}
	meta = has_glob_meta(pattern);
	slash = strrchr(ctx->file, '/');
	if (pattern[0] == '/' || ctx->from_cwd || slash == NULL)
		full = xstrdup(pattern);
	else
		full = join_dir(ctx->file, (size_t)(slash - ctx->file),
		    pattern, meta);

	if (!meta) {
		parse_path(p, full, ctx->file, line, ctx->depth + 1);
		free(full);
		return;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(full, GLOB_NOSORT, NULL, &g);
	if (rc == 0) {
		qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), cmp_str);
		for (i = 0; i < g.gl_pathc; i++)
			parse_path(p, g.gl_pathv[i], ctx->file, line,
			    ctx->depth + 1);
	} else if (rc != GLOB_NOMATCH)
		diags_add(p->diags, DIAG_ERROR, ctx->file, line,
		    "cannot expand include pattern %s", full);
	globfree(&g);
	free(full);
}

static void
parser_init(struct conf_parser *p, struct conf **conf_r, const char *name,
    struct diags *diags)
{
	memset(p, 0, sizeof(*p));
	p->conf = xcalloc(1, sizeof(*p->conf));
	p->conf->path = xstrdup(name);
	p->diags = diags;
	*conf_r = p->conf;
}

int
conf_parse_file(const char *path, struct conf **conf_r, struct diags *diags)
{
	struct conf_parser p;
	size_t before = diags->nerrors;

	parser_init(&p, conf_r, path, diags);
	parse_path(&p, path, NULL, 0, 0);
	return diags->nerrors > before ? -1 : 0;
}

int
conf_parse_string(const char *text, const char *name, struct conf **conf_r,
    struct diags *diags)
{
	struct conf_parser p;
	size_t before = diags->nerrors;
	char *copy;

	if (name == NULL)
		name = "<string>";
	parser_init(&p, conf_r, name, diags);
	copy = xstrdup(text);
	parse_text(&p, copy, strlen(copy), intern_file(p.conf, name), 0,
	    true);
	free(copy);
	return diags->nerrors > before ? -1 : 0;
}

/*
 * Typed values
 */

/* One or more decimal digits at *sp, no sign; -1 on none or overflow. */
static int
parse_digits(const char **sp, long long *v_r)
{
	const char *s = *sp;
	long long v = 0;
	int d;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*sp = s;
	*v_r = v;
	return 0;
}

int
conf_parse_bool(const char *s, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < nitems(yes); i++) {
		if (str_ieq(s, yes[i])) {
			*b_r = true;
			return 0;
		}
		if (str_ieq(s, no[i])) {
			*b_r = false;
			return 0;
		}
	}
	return -1;
}

int
conf_parse_int(const char *s, long long *v_r)
{
	const char *d = s;
	char *end;
	long long v;

	/* strtoll() alone would take blanks, "0x" prefixes aside. */
	if (*d == '+' || *d == '-')
		d++;
	if (!isdigit((unsigned char)*d))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	*v_r = v;
	return 0;
}

int
conf_parse_size(const char *s, long long *v_r)
{
	/* Binary multiples whatever the spelling: "10MB" means 10 MiB. */
	static const struct {
		const char	*unit;
		int		 shift;
	} units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	const char *unit;
	long long v;
	size_t i;

	if (parse_digits(&s, &v) == -1)
		return -1;
	unit = s + strspn(s, BLANKS);
	if (*unit == '\0' && unit != s)
		return -1;	/* trailing blanks, no unit */
	for (i = 0; i < nitems(units); i++) {
		if (!str_ieq(unit, units[i].unit))
			continue;
		if (v > (LLONG_MAX >> units[i].shift))
			return -1;
		*v_r = v << units[i].shift;
		return 0;
	}
	return -1;
}

int
conf_parse_duration(const char *s, long long *v_r)
{
	long long total = 0, v, mult;
	bool first = true;

	for (;;) {
		if (parse_digits(&s, &v) == -1)
			return -1;
		/* A bare number is seconds, but only on its own: "1h30"
		   could mean 30 minutes or 30 seconds. */
		if (*s == '\0' && first) {
			*v_r = v;
			return 0;
		}
		switch (*s) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 60 * 60;
			break;
		case 'd':
			mult = 24 * 60 * 60;
			break;
		case 'w':
			mult = 7 * 24 * 60 * 60;
			break;
		default:
			return -1;
		}
		if (v > LLONG_MAX / mult)
			return -1;
		v *= mult;
		if (total > LLONG_MAX - v)
			return -1;
		total += v;
		if (*++s == '\0')
			break;
		/* "1h 30m" reads as well, but not a trailing blank. */
		s += strspn(s, BLANKS);
		if (*s == '\0')
			return -1;
		first = false;
	}
	*v_r = total;
	return 0;
}

static void
strv_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char **
conf_split_list(const char *s)
{
	static const char seps[] = ", \t\r\n";
	char **v = NULL;
	size_t n = 0, len;

	for (;;) {
		s += strspn(s, seps);
		if (*s == '\0')
			break;
		len = strcspn(s, seps);
		strv_push(&v, &n, xstrndup(s, len));
		s += len;
	}
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	return v;
}

int
conf_split_command(const char *s, char ***argv_r, const char **error_r)
{
	const char *err, *q;
	struct buf w;
	char **v = NULL;
	size_t n = 0;
	bool inword = false;

	*argv_r = NULL;
	buf_init(&w);
	while (*s != '\0') {
		if (strchr(" \t\r\n\v\f", *s) != NULL) {
			if (inword)
				strv_push(&v, &n, buf_detach(&w));
			inword = false;
			s++;
			continue;
		}
		/* Quoted parts join their neighbours: a"b c"d is one word. */
		inword = true;
		if (*s == '\'') {
			if ((q = strchr(s + 1, '\'')) == NULL) {
				err = "unterminated single quote";
				goto fail;
			}
			buf_add(&w, s + 1, (size_t)(q - s - 1));
			s = q + 1;
		} else if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (*s == '\0') {
					err = "unterminated double quote";
					goto fail;
				}
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				buf_addc(&w, *s);
			}
			s++;
		} else if (*s == '\\') {
			if (s[1] == '\0') {
				err = "backslash at the end of the command";
				goto fail;
			}
			buf_addc(&w, s[1]);
			s += 2;
		} else
			buf_addc(&w, *s++);
	}
	if (inword)
		strv_push(&v, &n, buf_detach(&w));
	if (n == 0) {
		err = "empty command";
		goto fail;
	}
	if (v[0][0] == '\0') {
		err = "empty command name";
		goto fail;
	}
	*argv_r = v;
	return 0;

fail:
	buf_free(&w);
	strv_free(v);
	if (error_r != NULL)
		*error_r = err;
	return -1;
}

/*
 * Unquoted, a value loses its surrounding blanks and ends at a '#'
 * after a blank, and one starting with '"' is taken as quoted; only
 * those need quotes, and inside them only '"' and '\\' need escapes.
 */
/* s in double quotes, '"' and '\\' escaped: both parsers' reading. */
static char *
quote_double(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	buf_addc(&b, '"');
	return buf_detach(&b);
}

char *
conf_quote_value(const char *s)
{
	size_t n = strlen(s);
	bool quote = n > 0 && (is_blank(s[0]) || is_blank(s[n - 1]) ||
	    s[0] == '"');

	for (size_t i = 1; !quote && i < n; i++)
		if (s[i] == '#' && is_blank(s[i - 1]))
			quote = true;
	if (!quote)
		return xstrdup(s);
	return quote_double(s);
}

/* Double quotes read best ("sh -c \"...\""); single quotes when the
   word holds a '"' or '\\' (no escapes needed inside them). */
char *
conf_quote_word(const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t\r\n\v\f'\"\\") == NULL)
		return xstrdup(s);
	if (strpbrk(s, "\"\\") != NULL && strchr(s, '\'') == NULL)
		return xasprintf("'%s'", s);
	return quote_double(s);
}

void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

char *
conf_resolve_path(const char *value, const char *set_in_file)
{
	const char *slash;
	struct buf b;

	if (value[0] == '/' || value[0] == '\0' || set_in_file == NULL ||
	    (slash = strrchr(set_in_file, '/')) == NULL)
		return xstrdup(value);
	/* "/plume.conf" has the root as its directory: "/x", not "x". */
	buf_init(&b);
	buf_add(&b, set_in_file, (size_t)(slash - set_in_file));
	buf_addc(&b, '/');
	buf_adds(&b, value);
	return buf_detach(&b);
}

/*
 * Validation
 */

const struct plume_conf_key *
conf_key_find(const struct plume_conf_key *keys, const char *name)
{
	if (keys == NULL)
		return NULL;
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static bool
in_list(const char *const *list, const char *s)
{
	if (list == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/*
 * Optimal string alignment distance (Levenshtein plus swapping two
 * neighbours: "prot" is one typo away from "port", not two).  Anything
 * above limit is reported as limit + 1, cheaply when the lengths alone
 * tell.
 */
static size_t
edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j, cost, d;
	size_t *r0, *r1, *r2, *t;

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	r0 = xcalloc(lb + 1, sizeof(*r0));	/* row i - 2 */
	r1 = xcalloc(lb + 1, sizeof(*r1));	/* row i - 1 */
	r2 = xcalloc(lb + 1, sizeof(*r2));	/* row i */
	for (j = 0; j <= lb; j++)
		r1[j] = j;
	for (i = 1; i <= la; i++) {
		r2[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d = r1[j] + 1;
			if (r2[j - 1] + 1 < d)
				d = r2[j - 1] + 1;
			if (r1[j - 1] + cost < d)
				d = r1[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && r0[j - 2] + 1 < d)
				d = r0[j - 2] + 1;
			r2[j] = d;
		}
		t = r0;
		r0 = r1;
		r1 = r2;
		r2 = t;
	}
	d = r1[lb];
	free(r0);
	free(r1);
	free(r2);
	return d > limit ? limit + 1 : d;
}

/*
 * The closest name within two edits, or NULL.  A candidate no longer
 * than the distance shares nothing with the key ("x" is two edits from
 * "id"), so it is no suggestion.
 */
static const char *
suggest_key(const char *key, const struct plume_conf_key *keys,
    const char *const *ignore)
{
	const char *best = NULL;
	size_t bestd = 3, d;

	for (; keys != NULL && keys->name != NULL; keys++) {
		d = edit_distance(key, keys->name, 2);
		if (d < bestd && d < strlen(keys->name)) {
			best = keys->name;
			bestd = d;
		}
	}
	/* Keys the core handles are typed in every section, too. */
	for (; ignore != NULL && *ignore != NULL; ignore++) {
		d = edit_distance(key, *ignore, 2);
		if (d < bestd && d < strlen(*ignore)) {
			best = *ignore;
			bestd = d;
		}
	}
	return best;
}

static bool
enum_has(const char *choices, const char *value)
{
	size_t len, vlen = strlen(value);

	for (;;) {
		len = strcspn(choices, "|");
		if (len == vlen && strncmp(choices, value, len) == 0)
			return true;
		if (choices[len] == '\0')
			return false;
		choices += len + 1;
	}
}

static char *
enum_display(const char *choices)
{
	struct buf b;

	buf_init(&b);
	for (; *choices != '\0'; choices++) {
		if (*choices == '|')
			buf_adds(&b, ", ");
		else
			buf_addc(&b, *choices);
	}
	return buf_detach(&b);
}

static bool
address_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	/* A leading '-' would read as an option to a command we run. */
	if (*u == '\0' || *u == '-')
		return false;
	for (; *u != '\0'; u++)
		if (*u == ' ' || *u < 0x20 || *u == 0x7f)
			return false;
	return true;
}

/*
 * What is wrong with value for key k, or NULL.  shown is how the value
 * may be quoted back: the value itself, or "the value" for secrets.
 */
static char *
check_value(const struct plume_conf_key *k, const char *value,
    const char *shown)
{
	const char *err, *unit = "";
	char **v, *s, *problem;
	long long n = 0;
	bool b;
	int rc;

	if (*value == '\0')
		return xstrdup("empty value");
	switch (k->type) {
	case PLUME_CONF_INT:
		if (conf_parse_int(value, &n) == -1)
			return xasprintf("%s is not a whole number", shown);
		break;
	case PLUME_CONF_BOOL:
		if (conf_parse_bool(value, &b) == -1)
			return xasprintf("%s is not a boolean (expected "
			    "yes/no, true/false, on/off or 1/0)", shown);
		return NULL;
	case PLUME_CONF_SIZE:
		if (conf_parse_size(value, &n) == -1)
			return xasprintf("%s is not a size (expected bytes "
			    "with an optional k, M or G suffix)", shown);
		unit = " bytes";
		break;
	case PLUME_CONF_DURATION:
		if (conf_parse_duration(value, &n) == -1)
			return xasprintf("%s is not a duration (expected "
			    "seconds, or numbers with s, m, h, d or w as in "
			    "1h30m)", shown);
		unit = " seconds";
		break;
	case PLUME_CONF_ENUM:
		if (k->choices == NULL)
			return xstrdup("no choices in the plugin's key table");
		if (enum_has(k->choices, value))
			return NULL;
		s = enum_display(k->choices);
		problem = xasprintf("%s is not one of: %s", shown, s);
		free(s);
		return problem;
	case PLUME_CONF_LIST:
		v = conf_split_list(value);
		rc = v[0] == NULL ? -1 : 0;
		strv_free(v);
		return rc == -1 ? xstrdup("empty list") : NULL;
	case PLUME_CONF_COMMAND:
		if (conf_split_command(value, &v, &err) == -1)
			return xasprintf("bad command: %s", err);
		strv_free(v);
		return NULL;
	case PLUME_CONF_ADDRESS:
		if (!address_ok(value))
			return xasprintf("%s is not an address (expected "
			    "local@domain without white space or control "
			    "characters, not starting with '-')", shown);
		return NULL;
	case PLUME_CONF_STRING:
	case PLUME_CONF_PATH:
		return NULL;
	default:
		return xasprintf("unknown type %d in the plugin's key table",
		    (int)k->type);
	}
	/* INT, SIZE and DURATION: the range, when the table gives one. */
	if (k->min < k->max && (n < k->min || n > k->max))
		return xasprintf("%s is out of range (%lld to %lld%s)", shown,
		    k->min, k->max, unit);
	return NULL;
}

size_t
conf_validate(const struct conf_entry *entries,
    const struct plume_conf_key *keys, const char *const *ignore,
    enum diag_level level, const char *where, const char *sect_file,
    unsigned sect_line, struct diags *diags)
{
	const struct plume_conf_key *k;
	const struct conf_entry *e;
	const char *hint;
	char *problem, *shown;
	size_t found = 0;

	for (e = entries; e != NULL; e = e->next) {
		if (in_list(ignore, e->key))
			continue;
		if ((k = conf_key_find(keys, e->key)) == NULL) {
			hint = suggest_key(e->key, keys, ignore);
			if (hint != NULL)
				diags_add(diags, level, e->file, e->line,
				    "unknown key '%s' in %s (did you mean "
				    "'%s'?)", e->key, where, hint);
			else
				diags_add(diags, level, e->file, e->line,
				    "unknown key '%s' in %s", e->key, where);
			found++;
			continue;
		}
		/* Secrets must not end up in logs through a typo. */
		shown = k->flags & PLUME_KEY_SECRET ? xstrdup("the value") :
		    xasprintf("'%s'", e->value);
		problem = check_value(k, e->value, shown);
		if (problem != NULL) {
			diags_add(diags, level, e->file, e->line,
			    "key '%s' in %s: %s", e->key, where, problem);
			found++;
		}
		free(problem);
		free(shown);
	}
	for (k = keys; k != NULL && k->name != NULL; k++) {
		if (!(k->flags & PLUME_KEY_REQUIRED) ||
		    in_list(ignore, k->name) ||
		    conf_entry_find(entries, k->name) != NULL)
			continue;
		diags_add(diags, level, sect_file, sect_line,
		    "missing required key '%s' in %s", k->name, where);
		found++;
	}
	return found;
}
