/*
 * NAME
 *	route.h - address patterns of match_from and match_rcpt
 * SYNOPSIS
 *	#include "route.h"
 *
 *	if ((why = route_pattern_check("*@*.example.org")) != NULL)
 *		diags_add(..., "%s", why);
 *	if (route_match(patterns, "alice@mail.example.org"))
 *		...
 * DESCRIPTION
 *	A pattern names addresses or domains:
 *
 *		alice@example.org	that address
 *		*@example.org		any address at example.org
 *		*@*.example.org		any address at a subdomain of it
 *		example.org		the same as *@example.org
 *		*.example.org		the same as *@*.example.org
 *
 *	"*.example.org" does not match example.org itself (name both when
 *	both are meant).  Comparison ignores case, in the local part too:
 *	people write Alice@Example.org and mean alice@example.org, and a
 *	route is not an access control.  An unqualified address matches
 *	only a pattern for its local part with no domain, which cannot be
 *	written, so never.
 */
#ifndef PLUME_ROUTE_H
#define PLUME_ROUTE_H

#include <stdbool.h>

/* NULL when pat is a valid pattern, else why not (static text). */
const char *route_pattern_check(const char *pat);
/* Whether addr matches pat (a valid pattern). */
bool	 route_pattern_match(const char *pat, const char *addr);
/* Whether addr matches any of the NULL-terminated patterns. */
bool	 route_match(char *const *pats, const char *addr);

#endif
