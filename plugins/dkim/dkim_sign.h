/*
 * NAME
 *	dkim_sign.h - DKIM signatures over a plume message
 * SYNOPSIS
 *	#include "dkim_sign.h"
 * DESCRIPTION
 *	See dkim_sign.c.
 */
#ifndef DKIM_SIGN_H
#define DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <plume/plugin.h>

#include "dkim_canon.h"
#include "dkim_key.h"

struct dkim_sig_opts {
	const char *domain;		/* d= */
	const char *identity;		/* i=, or NULL */
	enum dkim_canon hcanon, bcanon;	/* c= */
	time_t	 now;			/* t= */
	long long expire;		/* x= is t= plus this, when > 0 */
	bool	 body_length;		/* l= */
	const char *const *hnames;	/* h=, NULL-terminated */
};

int	 dkim_sign_msg(const struct plume_host *, struct plume_msg *,
	    const struct dkim_sig_opts *, struct dkim_key *const *, size_t,
	    char *, size_t);
char	**dkim_hlist(const struct plume_host *, struct plume_msg *,
	    const char *const *, const char *const *);
bool	 dkim_identity_ok(const char *, const char *);

extern const char *const dkim_default_headers[];
extern const char *const dkim_default_oversign[];

#endif /* DKIM_SIGN_H */
