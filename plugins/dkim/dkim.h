/*
 * NAME
 *	dkim.h - the DKIM plugin's instance and its commands
 * SYNOPSIS
 *	#include "dkim.h"
 * DESCRIPTION
 *	Shared by dkim.c (the filter) and dkim_cmd.c (the subcommands).
 */
#ifndef DKIM_H
#define DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include <plume/plugin.h>

#include "dkim_canon.h"
#include "dkim_key.h"

/* One configured [dkim] instance. */
struct dkim {
	const struct plume_host *h;
	struct plume_inst *in;
	const char *domain;			/* d= */
	const char *const *key_paths;		/* key = */
	char	**selectors;			/* one per key */
	size_t	 nkeys;
	struct dkim_key **keys;			/* loaded by init */
	enum dkim_canon hc, bc;
	const char *const *sign;		/* headers to sign */
	const char *const *oversign;		/* NULL: none */
	const char *const *match;		/* match_from_domain */
	char	*match_own[3];			/* its default */
	bool	 by_sender;			/* sign_by = sender */
	bool	 refuse;			/* unsigned = refuse */
	bool	 body_length;			/* l= */
	long long expire;			/* x=, seconds; 0: none */
	struct dkim *next;			/* started instances */
	char	 reply[600];			/* a refusal's words */
};

int	 dkim_configure(const struct plume_host *, struct plume_inst *,
	    struct dkim *, char *, size_t);
void	 dkim_unconfigure(struct dkim *);

int	 dkim_cmd_keygen(const struct plume_host *, struct plume_inst *, int,
	    char **);
int	 dkim_cmd_sign(const struct plume_host *, struct plume_inst *, int,
	    char **);
int	 dkim_cmd_check(const struct plume_host *, struct plume_inst *, int,
	    char **);
int	 dkim_probe(const struct plume_host *, struct plume_inst *, void *,
	    struct plume_probe *);

#endif /* DKIM_H */
