/*
 * NAME
 *	aliases.h - sendmail-format aliases for local recipients
 */
#ifndef PLUME_ALIASES_H
#define PLUME_ALIASES_H

#include <stddef.h>

#include "conf.h"

struct alias {
	char	*name;		/* lower case */
	char	**targets;	/* NULL-terminated */
	char	*file;
	unsigned line;
};

struct aliases {
	struct alias *v;
	size_t	 n;
	char	*path;
};

/* Parses an aliases file; every finding goes to d with file:line.
   -1 on syntax errors (the table holds what parsed). */
int	 aliases_load(const char *path, struct aliases *, struct diags *d);
void	 aliases_free(struct aliases *);
const struct alias *aliases_find(const struct aliases *, const char *name);
/* The addresses an :include: file lists; NULL (err set) if the file is
   unsafe (not root's, or writable by others) or unreadable. */
char	**aliases_include(const char *path, char *err, size_t errlen);

#endif
