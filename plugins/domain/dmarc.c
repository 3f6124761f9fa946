/*
 * NAME
 *	dmarc.c - DMARC (RFC 7489) records, organizational domains and
 *	identifier alignment
 * SYNOPSIS
 *	bool dmarc_is_record(txt)
 *	int dmarc_parse(txt, rec, err, errlen)
 *	const char *dmarc_org_domain(domain)
 *	bool dmarc_aligned(a, b, mode)
 * DESCRIPTION
 *	dmarc_parse() reads a record of 6.3: v=DMARC1 first, then tags
 *	separated by ';'; p= is required and one of none, quarantine and
 *	reject; sp=, adkim=, aspf= (r or s, default r) and pct= are
 *	checked; unknown tags are skipped (6.3 says to).
 *
 *	dmarc_org_domain() gives the organizational domain (3.2) without
 *	the Public Suffix List: the last two labels, or the last three when
 *	the top label is a two-letter country code and the one below it a
 *	common second-level registry label (co, com, net, org, gov, edu,
 *	ac, ...): "mail.example.co.uk" gives "example.co.uk".  A doctor's
 *	approximation, documented in plume(8); a domain under a private
 *	suffix (a hosting provider's) may come out one label short.
 *
 *	dmarc_aligned() is 3.1's alignment of two domains: equal (case
 *	ignored) for mode 's', the same organizational domain for 'r'.
 * DIAGNOSTICS
 *	dmarc_parse() returns -1 with one line in err.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"

bool
dmarc_is_record(const char *txt)
{
	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (strncmp(txt, "v", 1) != 0)
		return false;
	txt++;
	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (*txt++ != '=')
		return false;
	while (*txt == ' ' || *txt == '\t')
		txt++;
	if (strncmp(txt, "DMARC1", 6) != 0)
		return false;
	txt += 6;
	while (*txt == ' ' || *txt == '\t')
		txt++;
	return *txt == ';' || *txt == '\0';
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int
policy(const char *v, size_t n, char *out, size_t outlen)
{
	static const char *const ok[] = { "none", "quarantine", "reject" };

	for (size_t i = 0; i < 3; i++)
		if (strlen(ok[i]) == n && strncasecmp(v, ok[i], n) == 0) {
			snprintf(out, outlen, "%s", ok[i]);
			return 0;
		}
	return -1;
}

int
dmarc_parse(const char *txt, struct dmarc_rec *r, char *err, size_t errlen)
{
	const char *p = txt;
	bool first = true;

	memset(r, 0, sizeof(*r));
	r->adkim = r->aspf = 'r';
	r->pct = 100;
	if (!dmarc_is_record(txt)) {
		snprintf(err, errlen, "does not start with v=DMARC1");
		return -1;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ";"), kl, vl;
		const char *eq = memchr(p, '=', n), *k = p, *v;

		if (eq == NULL) {
			size_t tn = n;
			const char *t = p;

			trim(&t, &tn);
			if (tn != 0) {
				snprintf(err, errlen, "\"%.*s\" is not "
				    "tag=value", (int)(tn > 60 ? 60 : tn), t);
				return -1;
			}
			goto next;
		}
		kl = (size_t)(eq - p);
		v = eq + 1;
		vl = n - kl - 1;
		trim(&k, &kl);
		trim(&v, &vl);
		if (first) {
			first = false;
			goto next;	/* v=DMARC1, checked above */
		}
		if (kl == 1 && *k == 'p') {
			if (policy(v, vl, r->p, sizeof(r->p)) == -1) {
				snprintf(err, errlen, "p=%.*s is not none, "
				    "quarantine or reject", (int)(vl > 40 ? 40 :
				    vl), v);
				return -1;
			}
		} else if (kl == 2 && strncmp(k, "sp", 2) == 0) {
			if (policy(v, vl, r->sp, sizeof(r->sp)) == -1) {
				snprintf(err, errlen, "sp=%.*s is not none, "
				    "quarantine or reject", (int)(vl > 40 ? 40 :
				    vl), v);
				return -1;
			}
		} else if ((kl == 5 && strncmp(k, "adkim", 5) == 0) ||
		    (kl == 4 && strncmp(k, "aspf", 4) == 0)) {
			int c = vl == 1 ? tolower((unsigned char)*v) : 0;

			if (c != 'r' && c != 's') {
				snprintf(err, errlen, "%.*s= is r or s",
				    (int)kl, k);
				return -1;
			}
			if (kl == 5)
				r->adkim = (char)c;
			else
				r->aspf = (char)c;
		} else if (kl == 3 && strncmp(k, "pct", 3) == 0) {
			char buf[8], *end;
			long x;

			if (vl == 0 || vl >= sizeof(buf)) {
				snprintf(err, errlen, "pct= is 0 to 100");
				return -1;
			}
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			x = strtol(buf, &end, 10);
			if (*end != '\0' || x < 0 || x > 100) {
				snprintf(err, errlen, "pct= is 0 to 100");
				return -1;
			}
			r->pct = (int)x;
		} else if (kl == 3 && strncmp(k, "rua", 3) == 0)
			r->has_rua = vl > 0;
next:
		p += n;
		if (*p == ';')
			p++;
	}
	if (r->p[0] == '\0') {
		snprintf(err, errlen, "no p= tag (it must follow v=DMARC1)");
		return -1;
	}
	return 0;
}

const char *
dmarc_org_domain(const char *d)
{
	static const char *const sld[] = { "ac", "co", "com", "edu", "gen",
	    "go", "gob", "gov", "ltd", "mil", "ne", "net", "nic", "nom", "or",
	    "org", "plc", "sch", NULL };
	const char *dots[3] = { NULL, NULL, NULL };
	size_t n = strlen(d), end;

	/* the last three dots, right to left (a final dot ignored) */
	end = n > 0 && d[n - 1] == '.' ? n - 1 : n;
	for (size_t i = end, k = 0; i-- > 0 && k < 3;)
		if (d[i] == '.')
			dots[k++] = d + i;
	if (dots[1] == NULL)
		return d;		/* one or two labels */
	if (d + end - dots[0] - 1 == 2) {	/* a country code */
		size_t l = (size_t)(dots[0] - dots[1] - 1);

		for (size_t i = 0; sld[i] != NULL; i++)
			if (strlen(sld[i]) == l && strncasecmp(dots[1] + 1,
			    sld[i], l) == 0)
				return dots[2] != NULL ? dots[2] + 1 : d;
	}
	return dots[1] + 1;
}

static bool
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

bool
dmarc_aligned(const char *a, const char *b, char mode)
{
	if (mode == 's')
		return same_name(a, b);
	return same_name(dmarc_org_domain(a), dmarc_org_domain(b));
}
