/*
 * NAME
 *	route.c - address patterns of match_from and match_rcpt
 * DESCRIPTION
 *	See route.h.  Patterns are checked once, when the config is read,
 *	so matching can assume a valid one: at most one '@', "*" only as a
 *	whole local part or as the first label of the domain.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "route.h"

static const char *
domain_check(const char *d)
{
	if (strncmp(d, "*.", 2) == 0)
		d += 2;
	if (*d == '\0')
		return "the domain is empty";
	if (strchr(d, '*') != NULL)
		return "'*' may only stand for the whole local part (*@) or "
		    "the first label of the domain (*.example.org)";
	if (*d == '.' || d[strlen(d) - 1] == '.' || strstr(d, "..") != NULL)
		return "the domain has an empty label";
	return NULL;
}

const char *
route_pattern_check(const char *pat)
{
	const char *at = strchr(pat, '@');

	if (*pat == '\0')
		return "the pattern is empty";
	for (const char *p = pat; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' ||
		    *p == '>' || *p == ',')
			return "patterns hold no blanks, control characters, "
			    "angle brackets or commas";
	if (at == NULL)
		return domain_check(pat);
	if (strchr(at + 1, '@') != NULL)
		return "more than one '@'";
	if (at == pat)
		return "the local part is empty (write *@domain for any "
		    "address at a domain)";
	if (memchr(pat, '*', (size_t)(at - pat)) != NULL &&
	    !(at - pat == 1 && pat[0] == '*'))
		return "'*' may only stand for the whole local part (*@) or "
		    "the first label of the domain (*.example.org)";
	return domain_check(at + 1);
}

static bool
domain_match(const char *pat, const char *dom)
{
	size_t pl, dl;

	if (strncmp(pat, "*.", 2) != 0)
		return strcasecmp(pat, dom) == 0;
	/* a proper subdomain: "x.example.org" for "*.example.org" */
	pat += 1;
	pl = strlen(pat);
	dl = strlen(dom);
	return dl > pl && strcasecmp(dom + dl - pl, pat) == 0;
}

bool
route_pattern_match(const char *pat, const char *addr)
{
	const char *pat_at = strchr(pat, '@'), *at = strrchr(addr, '@');

	if (at == NULL)
		return false;
	if (pat_at == NULL)
		return domain_match(pat, at + 1);
	if (!(pat_at - pat == 1 && pat[0] == '*') &&
	    (pat_at - pat != at - addr ||
	    strncasecmp(pat, addr, (size_t)(at - addr)) != 0))
		return false;
	return domain_match(pat_at + 1, at + 1);
}

bool
route_match(char *const *pats, const char *addr)
{
	for (size_t i = 0; pats != NULL && pats[i] != NULL; i++)
		if (route_pattern_match(pats[i], addr))
			return true;
	return false;
}
