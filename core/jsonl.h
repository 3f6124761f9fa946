/*
 * NAME
 *	jsonl.h - a small, strict reader of one JSON object per line
 * DESCRIPTION
 *	See jsonl.c: the subset plugins/common/evjson.c writes (an object
 *	of strings, numbers and objects), parsed in place, no allocation.
 */
#ifndef PLUME_JSONL_H
#define PLUME_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSONL_MAX_MEMBERS	64	/* members of all objects of a line */
#define JSONL_MAX_DEPTH		4	/* the top object is depth 1 */

enum jsonl_type {
	JSONL_STRING,
	JSONL_NUMBER,		/* num holds the integer part */
	JSONL_OBJECT,		/* its members name this one as parent */
	JSONL_TRUE,
	JSONL_FALSE,
	JSONL_NULL,
};

struct jsonl_member {
	const char	*key;
	enum jsonl_type	 type;
	const char	*str;		/* JSONL_STRING: unescaped, UTF-8;
					   JSONL_NUMBER: its text */
	long long	 num;
	int		 parent;	/* index of the object member, or -1 */
};

struct jsonl_obj {
	struct jsonl_member m[JSONL_MAX_MEMBERS];
	size_t		 n;
};

/* Parses line (NUL-terminated, one object, optional trailing white
   space and newline) in place: strings are unescaped into the line,
   which must outlive the result.  -1 with a static message in
   *error_r on anything outside the subset or not JSON. */
int	 jsonl_parse(char *line, struct jsonl_obj *, const char **error_r);
/* The index of member key of object parent (-1: the top object), or
   -1 when absent. */
int	 jsonl_find(const struct jsonl_obj *, int parent, const char *key);
/* A top-level member's string, or NULL when absent or not a string. */
const char *jsonl_str(const struct jsonl_obj *, const char *key);
/* A top-level member's number, or fallback. */
long long jsonl_num(const struct jsonl_obj *, const char *key,
	    long long fallback);
/* Writes s as a JSON string (quotes, escapes; invalid UTF-8 bytes as
   \u00XX, as evjson.c does). */
void	 jsonl_put_string(FILE *, const char *s);

#endif
