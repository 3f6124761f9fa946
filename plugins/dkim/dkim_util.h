/*
 * NAME
 *	dkim_util.h - growable strings, base64 and name syntax for the
 *	DKIM plugin
 * SYNOPSIS
 *	#include "dkim_util.h"
 * DESCRIPTION
 *	See dkim_util.c.
 */
#ifndef DKIM_UTIL_H
#define DKIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* A growable string; after a failed allocation it stays empty-handed
   (oom set) and every further call is a no-op, so callers check once. */
struct dstr {
	char	*p;
	size_t	 len, cap;
	bool	 oom;
};

void	 dstr_add(struct dstr *, const void *, size_t);
void	 dstr_str(struct dstr *, const char *);
void	 dstr_fmt(struct dstr *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 dstr_free(struct dstr *);
void	 dstr_wipe(struct dstr *);

unsigned char *dkim_b64_decode(const char *, size_t, size_t *);

bool	 dkim_domain_ok(const char *);
bool	 dkim_selector_ok(const char *);
bool	 dkim_hdrname_ok(const char *);
#define DKIM_DOMAIN_MAX	255

int	 dkim_addr_domains(const char *, size_t, char (*)[DKIM_DOMAIN_MAX + 1],
	    int);
char	*dkim_strdup(const char *);
void	 dkim_strv_free(char **);

#endif /* DKIM_UTIL_H */
