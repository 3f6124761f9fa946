/*
 * NAME
 *	conf.h - plume's configuration file: parser, validator and typed
 *	value parsers
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	struct conf *conf;
 *	struct diags diags = { 0 };
 *
 *	if (conf_parse_file("/etc/plume/plume.conf", &conf, &diags) == -1)
 *		... every diags.v[i] holds one finding with file:line ...
 *	conf_validate(sect->entries, plugin->conf_keys, NULL, DIAG_ERROR,
 *	    "[smtp]", sect->file, sect->line, &diags);
 *	conf_free(conf);
 *	diags_free(&diags);
 * DESCRIPTION
 *	The syntax is INI-like: global "key = value" lines before any
 *	section, then one section per plugin instance, "[plugin]" or
 *	[plugin "name"], whose instance id is "plugin" or "plugin:name".
 *	"include = GLOB" pulls other files in at that point.  See conf.c
 *	for the exact rules.
 *
 *	The parser knows nothing of plugins: it builds the tree of
 *	sections and entries, keeping the file and line of everything, and
 *	conf_validate() later checks one section against a plugin's typed
 *	key table (struct plume_conf_key from plume/plugin.h).  Neither
 *	stops at the first problem: an administrator fixing a config wants
 *	to see every mistake in one run of "plume config check".
 * DIAGNOSTICS
 *	Findings are collected in a struct diags, never printed: the caller
 *	decides whether they go to stderr, the log, or a test assertion.
 */
#ifndef PLUME_CONF_H
#define PLUME_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "plume/plugin.h"

/* Include nesting deeper than this is refused (and so are loops). */
#define CONF_INCLUDE_DEPTH_MAX	8

enum diag_level {
	DIAG_ERROR = 0,
	DIAG_WARNING = 1,
};

/* One finding; file is NULL and line 0 when it is not about a place. */
struct diag {
	enum diag_level	 level;
	char		*file;
	unsigned	 line;
	char		*text;
};

struct diags {
	struct diag	*v;
	size_t		 n;
	size_t		 nerrors;
	size_t		 nwarnings;
};

void	 diags_add(struct diags *, enum diag_level, const char *file,
	    unsigned line, const char *fmt, ...) PRINTF_LIKE(5, 6);
void	 diags_free(struct diags *);
/* "FILE:LINE: text", "FILE: text" or "text"; caller frees. */
char	*diag_format(const struct diag *);

struct conf_entry {
	char			*key;
	char			*value;
	const char		*file;	/* owned by the struct conf */
	unsigned		 line;
	struct conf_entry	*next;
};

struct conf_section {
	char			*plugin;	/* "smtp" */
	char			*name;		/* "backup", or NULL */
	char			*id;		/* "smtp" or "smtp:backup" */
	const char		*file;		/* where the [header] is */
	unsigned		 line;
	struct conf_entry	*entries;	/* in file order */
	struct conf_section	*next;		/* in file order */
};

struct conf {
	char			*path;	/* top-level file, or the name given
					   to conf_parse_string() */
	struct conf_entry	*globals;	/* in file order */
	struct conf_section	*sections;
	/* Every file name an entry or section points to, freed with us. */
	char			**files;
	size_t			 nfiles;
};

/*
 * Both return 0 when there were no errors, -1 otherwise.  *conf_r is
 * always set, possibly partial, so that callers can still look at it;
 * diags receives every finding.
 */
int	 conf_parse_file(const char *path, struct conf **conf_r,
	    struct diags *);
/* Includes in text are relative to the current directory. */
int	 conf_parse_string(const char *text, const char *name,
	    struct conf **conf_r, struct diags *);
void	 conf_free(struct conf *);
const struct conf_entry *conf_entry_find(const struct conf_entry *list,
	    const char *key);
struct conf_section *conf_section_find(const struct conf *, const char *id);

/*
 * Checks entries against a key table ending with a NULL name; see
 * conf.c.  where names the section in findings ("[smtp \"backup\"]",
 * "global settings"); keys in ignore (NULL-terminated, may be NULL)
 * are skipped.  Returns the number of findings added at level.
 */
size_t	 conf_validate(const struct conf_entry *entries,
	    const struct plume_conf_key *keys, const char *const *ignore,
	    enum diag_level level, const char *where, const char *sect_file,
	    unsigned sect_line, struct diags *);
const struct plume_conf_key *conf_key_find(const struct plume_conf_key *keys,
	    const char *name);

/* Typed value parsers: 0 when the value is good, -1 when it is not. */
int	 conf_parse_bool(const char *, bool *);
int	 conf_parse_int(const char *, long long *);
int	 conf_parse_size(const char *, long long *);
int	 conf_parse_duration(const char *, long long *);

/* Items separated by commas and/or white space; free with strv_free(). */
char	**conf_split_list(const char *);
/* Words without a shell; -1 with *error_r set (static text) on error. */
int	 conf_split_command(const char *, char ***argv_r,
	    const char **error_r);
void	 strv_free(char **);
/*
 * The inverses of the parsers, for programs that write a config (plume
 * import): conf_quote_value() returns the text to put after "key = "
 * that parse_entry() reads back as exactly s (quoted when it must be);
 * conf_quote_word() returns one word that conf_split_command() reads
 * back as exactly s.  Caller frees.
 */
char	*conf_quote_value(const char *s);
char	*conf_quote_word(const char *s);
/* value relative to the directory of set_in_file; caller frees. */
char	*conf_resolve_path(const char *value, const char *set_in_file);

#endif /* PLUME_CONF_H */
