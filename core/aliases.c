/*
 * NAME
 *	aliases.c - read sendmail-format aliases files
 * DESCRIPTION
 *	"name: target, target" lines; a line starting with white space
 *	continues the one before; '#' starts a comment line.  Targets are
 *	addresses, ":include:/file" (addresses read from a file that must
 *	be owned by root and writable by nobody else), "|command" or
 *	"/file".  plume never runs a command or writes a file named here:
 *	submit.c sends such mail to default_recipient, or refuses it.  No
 *	database is built: the file is read when mail for a local
 *	recipient arrives, which for a short-lived submitter costs less
 *	than keeping a database current.
 * DIAGNOSTICS
 *	Findings in a struct diags with file:line; "newaliases" prints
 *	them and exits non-zero only for syntax errors.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aliases.h"
#include "util.h"

static char **
split_targets(const char *s)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	const char *p = s;

	while (*p != '\0') {
		const char *start;
		bool quoted = false;
		char *t;
		size_t len;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		/* a quoted "|command, with commas" stays one target */
		for (; *p != '\0' && (quoted || *p != ','); p++)
			if (*p == '"')
				quoted = !quoted;
		len = (size_t)(p - start);
		while (len > 0 && isspace((unsigned char)start[len - 1]))
			len--;
		t = xstrndup(start, len);
		if (len >= 2 && t[0] == '"' && t[len - 1] == '"') {
			memmove(t, t + 1, len - 2);
			t[len - 2] = '\0';
		}
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = t;
		v[n] = NULL;
	}
	return v;
}

static void
add_alias(struct aliases *a, const char *path, unsigned line, char *text,
    struct diags *d, int *rc)
{
	char *colon = strchr(text, ':');
	struct alias *al;
	size_t nl;

	if (colon == NULL || colon == text) {
		diags_add(d, DIAG_ERROR, path, line, "expected \"name: "
		    "target, ...\"");
		*rc = -1;
		return;
	}
	nl = (size_t)(colon - text);
	while (nl > 0 && isspace((unsigned char)text[nl - 1]))
		nl--;
	for (size_t i = 0; i < nl; i++)
		if (isspace((unsigned char)text[i]) || text[i] == '@') {
			diags_add(d, DIAG_ERROR, path, line, "alias name "
			    "\"%.*s\" has a space or an @", (int)nl, text);
			*rc = -1;
			return;
		}
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	al = &a->v[a->n++];
	al->name = xstrndup(text, nl);
	for (char *p = al->name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	al->targets = split_targets(colon + 1);
	al->file = xstrdup(path);
	al->line = line;
	if (al->targets[0] == NULL) {
		diags_add(d, DIAG_ERROR, path, line, "alias \"%s\" has no "
		    "target", al->name);
		*rc = -1;
	}
	for (char **t = al->targets; *t != NULL; t++)
		if (**t == '|' || **t == '/')
			diags_add(d, DIAG_WARNING, path, line, "alias \"%s\": "
			    "plume never runs programs or writes files (%s); "
			    "such mail goes to default_recipient", al->name, *t);
}

int
aliases_load(const char *path, struct aliases *a, struct diags *d)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct buf cur;
	unsigned lineno = 0, start = 0;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->path = xstrdup(path);
	if ((fp = fopen(path, "re")) == NULL) {
		diags_add(d, DIAG_ERROR, path, 0, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	buf_init(&cur);
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#')
			continue;
		if (line[0] == ' ' || line[0] == '\t') {
			if (cur.len == 0) {
				bool blank = true;

				for (char *p = line; *p; p++)
					blank &= isspace((unsigned char)*p) != 0;
				if (!blank) {
					diags_add(d, DIAG_ERROR, path, lineno,
					    "continuation line without an "
					    "alias before it");
					rc = -1;
				}
				continue;
			}
			buf_addc(&cur, ' ');
			buf_adds(&cur, line);
			continue;
		}
		if (cur.len > 0)
			add_alias(a, path, start, cur.data, d, &rc);
		buf_reset(&cur);
		if (line[0] != '\0') {
			buf_adds(&cur, line);
			start = lineno;
		}
	}
	if (cur.len > 0)
		add_alias(a, path, start, cur.data, d, &rc);
	buf_free(&cur);
	free(line);
	fclose(fp);
	return rc;
}

void
aliases_free(struct aliases *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		for (char **t = a->v[i].targets; *t != NULL; t++)
			free(*t);
		free(a->v[i].targets);
		free(a->v[i].file);
	}
	free(a->v);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

const struct alias *
aliases_find(const struct aliases *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcasecmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

char **
aliases_include(const char *path, char *err, size_t errlen)
{
	struct stat st;
	FILE *fp;
	struct buf all;
	char chunk[4096];
	size_t n;
	char **v;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, ":include:%s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, ":include:%s is not a regular file owned "
		    "by root and writable only by root: refused", path);
		return NULL;
	}
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, ":include:%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&all);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&all, chunk, n);
	fclose(fp);
	/* one address per line or comma-separated; '#' lines are comments */
	for (char *p = all.data; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = ',';
	v = split_targets(all.data != NULL ? all.data : "");
	buf_free(&all);
	{
		size_t k = 0;

		for (size_t i = 0; v[i] != NULL; i++) {
			if (v[i][0] == '#')
				free(v[i]);
			else
				v[k++] = v[i];
		}
		v[k] = NULL;
	}
	return v;
}
