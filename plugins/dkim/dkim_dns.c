/*
 * NAME
 *	dkim_dns.c - DKIM key records: DNS lookup and comparison
 * SYNOPSIS
 *	int dkim_dns_txt(server, name, txts_r, err, errlen)
 *	enum dkim_rec dkim_record_check(key, txt, why, whylen)
 *	enum dkim_rec dkim_key_check(key, server, name, why, whylen)
 * DESCRIPTION
 *	dkim_dns_txt() asks for the TXT records at name through
 *	plugins/common/dnsq.c (c-ares): from server, "HOST:PORT" or
 *	"[V6]:PORT" with HOST an IP address (the global key dns_server), or
 *	from the servers of /etc/resolv.conf when server is NULL.  Queries
 *	go again over TCP when the answer is truncated (a 4096-bit key's
 *	record passes 512 octets).  Each record's strings are joined, as
 *	RFC 6376 3.6.2.2 says; *txts_r is a NULL-terminated vector, empty
 *	when the name does not exist or has no TXT record.
 *
 *	dkim_record_check() reads one record (RFC 6376 3.6.1: tag=value
 *	pairs; v=, when present, first and DKIM1; k= defaults to rsa; h=
 *	and s= when present must allow sha256 and email) and says whether
 *	its p= is key's public half, with t=y noted as test mode.
 *	dkim_key_check() looks name up and gives the best verdict over
 *	every record there ("plume dkim check" and doctor's probe).
 * DIAGNOSTICS
 *	dkim_dns_txt() returns -1 with one line in err when no answer came
 *	(timeout, SERVFAIL, a bad dns_server).  dkim_record_check() puts a
 *	human reason in why for anything but DKIM_REC_OK.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_dns.h"
#include "dkim_util.h"
#include "dnsq.h"

int
dkim_dns_txt(const char *server, const char *name, char ***txts_r, char *err,
    size_t errlen)
{
	struct dnsq *q;
	int rc;

	if ((q = dnsq_open(server, err, errlen)) == NULL)
		return -1;
	rc = dnsq_lookup(q, name, DNSQ_TXT, txts_r, err, errlen);
	dnsq_close(q);
	return rc == DNSQ_ERROR ? -1 : 0;
}

/* ---- the record ------------------------------------------------------ */

#define MAX_TAGS	32

struct tag {
	char	 name[16];
	char	*value;		/* white space around it removed */
};

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits "a=1; b = 2;" into tags; -1 on a malformed list. */
static int
parse_tags(char *s, struct tag *tags, size_t *ntags)
{
	size_t n = 0;

	for (char *p = s; *p != '\0';) {
		char *semi = strchr(p, ';'), *eq, *ne, *v, *ve;
		size_t nl;

		if (semi != NULL)
			*semi = '\0';
		while (is_wsp(*p))
			p++;
		if (*p == '\0') {	/* an empty item: a final ';' */
			if (semi == NULL)
				break;
			p = semi + 1;
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL || n == MAX_TAGS)
			return -1;
		for (ne = eq; ne > p && is_wsp(ne[-1]); ne--)
			;
		nl = (size_t)(ne - p);
		if (nl == 0 || nl >= sizeof(tags[0].name))
			return -1;
		memcpy(tags[n].name, p, nl);
		tags[n].name[nl] = '\0';
		for (size_t i = 0; i < n; i++)
			if (strcmp(tags[i].name, tags[n].name) == 0)
				return -1;	/* duplicate tag (3.2) */
		for (v = eq + 1; is_wsp(*v); v++)
			;
		for (ve = v + strlen(v); ve > v && is_wsp(ve[-1]); ve--)
			;
		*ve = '\0';
		tags[n++].value = v;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	*ntags = n;
	return 0;
}

static const char *
tag_get(const struct tag *tags, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tags[i].name, name) == 0)
			return tags[i].value;
	return NULL;
}

/* Whether a colon-separated list (t=, h=, s=) holds item. */
static bool
list_holds(const char *list, const char *item)
{
	size_t il = strlen(item);

	for (const char *p = list; *p != '\0';) {
		const char *e = strchr(p, ':'), *a = p, *b;

		if (e == NULL)
			e = p + strlen(p);
		for (b = e; b > a && is_wsp(b[-1]); b--)
			;
		while (a < b && is_wsp(*a))
			a++;
		if ((size_t)(b - a) == il && strncasecmp(a, item, il) == 0)
			return true;
		p = *e != '\0' ? e + 1 : e;
	}
	return false;
}

enum dkim_rec
dkim_record_check(const struct dkim_key *k, const char *txt, char *why,
    size_t whylen)
{
	struct tag tags[MAX_TAGS];
	size_t ntags = 0, plen = 0;
	char *copy = dkim_strdup(txt);
	const char *v, *kt, *p, *t, *hs, *srv;
	unsigned char *pub = NULL;
	enum dkim_rec r;

	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return DKIM_REC_ERROR;
	}
	if (parse_tags(copy, tags, &ntags) == -1) {
		snprintf(why, whylen, "not a list of tag=value pairs");
		r = DKIM_REC_INVALID;
		goto out;
	}
	v = tag_get(tags, ntags, "v");
	kt = tag_get(tags, ntags, "k");
	p = tag_get(tags, ntags, "p");
	t = tag_get(tags, ntags, "t");
	hs = tag_get(tags, ntags, "h");
	srv = tag_get(tags, ntags, "s");
	if (v != NULL && (strcmp(tags[0].name, "v") != 0 ||
	    strcmp(v, "DKIM1") != 0)) {
		snprintf(why, whylen, "v= must come first and be DKIM1");
		r = DKIM_REC_INVALID;
		goto out;
	}
	if (p == NULL) {
		snprintf(why, whylen, "no p= tag: not a DKIM key record");
		r = DKIM_REC_INVALID;
		goto out;
	}
	if (*p == '\0') {
		snprintf(why, whylen, "p= is empty: the key is revoked");
		r = DKIM_REC_REVOKED;
		goto out;
	}
	if (strcasecmp(kt != NULL ? kt : "rsa", dkim_key_kind(k)) != 0) {
		snprintf(why, whylen, "the record is for k=%s, the key is %s",
		    kt != NULL ? kt : "rsa", dkim_key_kind(k));
		r = DKIM_REC_MISMATCH;
		goto out;
	}
	if (hs != NULL && !list_holds(hs, "sha256")) {
		snprintf(why, whylen, "h=%s does not allow sha256", hs);
		r = DKIM_REC_MISMATCH;
		goto out;
	}
	if (srv != NULL && !list_holds(srv, "*") &&
	    !list_holds(srv, "email")) {
		snprintf(why, whylen, "s=%s is not for email", srv);
		r = DKIM_REC_MISMATCH;
		goto out;
	}
	if ((pub = dkim_b64_decode(p, strlen(p), &plen)) == NULL) {
		snprintf(why, whylen, "p= is not base64");
		r = DKIM_REC_INVALID;
		goto out;
	}
	if (!dkim_key_matches(k, pub, plen)) {
		snprintf(why, whylen, "the published key is another key than "
		    "this one's public half");
		r = DKIM_REC_MISMATCH;
		goto out;
	}
	if (t != NULL && list_holds(t, "y")) {
		snprintf(why, whylen, "the published key matches, but t=y: "
		    "receivers treat the signatures as a test");
		r = DKIM_REC_TEST;
		goto out;
	}
	snprintf(why, whylen, "the published key matches");
	r = DKIM_REC_OK;
out:
	free(pub);
	free(copy);
	return r;
}

/* The best verdict over every record at the name. */
enum dkim_rec
dkim_key_check(const struct dkim_key *k, const char *server, const char *name,
    char *why, size_t whylen)
{
	char **txts = NULL, reason[300];
	enum dkim_rec best = DKIM_REC_MISSING;
	size_t n = 0;

	if (dkim_dns_txt(server, name, &txts, why, whylen) == -1)
		return DKIM_REC_ERROR;
	snprintf(why, whylen, "no TXT record at %s", name);
	for (n = 0; txts[n] != NULL; n++) {
		enum dkim_rec r = dkim_record_check(k, txts[n], reason,
		    sizeof(reason));

		if (best == DKIM_REC_MISSING || r < best) {
			best = r;
			snprintf(why, whylen, "%s", reason);
		}
	}
	if (n > 1) {
		size_t have = strlen(why);

		snprintf(why + have, whylen - have, " (%zu TXT records at the "
		    "name: publish one, receivers may read any)", n);
	}
	dkim_strv_free(txts);
	return best;
}
