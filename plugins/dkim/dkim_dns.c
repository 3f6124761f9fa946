/*
 * NAME
 *	dkim_dns.c - DKIM key records: DNS lookup and comparison
 * SYNOPSIS
 *	int dkim_dns_txt(server, name, txts_r, err, errlen)
 *	enum dkim_rec dkim_record_check(key, txt, why, whylen)
 * DESCRIPTION
 *	dkim_dns_txt() asks for the TXT records at name through c-ares
 *	(Debian's libc-ares): from server, "HOST:PORT" or "[V6]:PORT" with
 *	HOST an IP address (the global key dns_server), or from the servers
 *	of /etc/resolv.conf when server is NULL.  Queries ask for recursion
 *	with EDNS (1232 octets), wait 3 seconds, twice, and go again over
 *	TCP when the answer is truncated (a 4096-bit key's record passes
 *	512 octets).  Each record's strings are joined, as RFC 6376
 *	3.6.2.2 says; *txts_r is a NULL-terminated vector, empty when the
 *	name does not exist or has no TXT record.
 *
 *	c-ares rather than ldns: the plugin is loaded by every sendmail
 *	process that signs, and libldns brings libssl along, a tenth of a
 *	millisecond of relocations for a library only "plume dkim check"
 *	uses.
 *
 *	dkim_record_check() reads one record (RFC 6376 3.6.1: tag=value
 *	pairs; v=, when present, first and DKIM1; k= defaults to rsa; h=
 *	and s= when present must allow sha256 and email) and says whether
 *	its p= is key's public half, with t=y noted as test mode.
 * DIAGNOSTICS
 *	dkim_dns_txt() returns -1 with one line in err when no answer came
 *	(timeout, SERVFAIL, a bad dns_server).  dkim_record_check() puts a
 *	human reason in why for anything but DKIM_REC_OK.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>

#include "dkim_dns.h"
#include "dkim_util.h"

/* Parses "HOST:PORT", "[V6]:PORT", "HOST" or "V6" into c-ares's
   "HOST:PORT" / "[V6]:PORT" form. */
static int
parse_server(const char *s, char *csv, size_t csvlen, char *err,
    size_t errlen)
{
	const char *colon, *end, *orig = s;
	char host[64], *p;
	unsigned long v = 53;
	unsigned char addr[16];
	bool v6;
	size_t n;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		n = (size_t)(end - s - 1);
		s++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL)
		n = (size_t)(colon - s);
	else {
		n = strlen(s);		/* an IPv6 address without port */
		colon = NULL;
	}
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	if (colon != NULL) {
		v = strtoul(colon + 1, &p, 10);
		if (colon[1] == '\0' || *p != '\0' || v == 0 || v > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, host, addr) == 1)
		v6 = false;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		v6 = true;
	else {
		snprintf(err, errlen, "dns_server %s: %s is not an IP address",
		    orig, host);
		return -1;
	}
	snprintf(csv, csvlen, v6 ? "[%s]:%lu" : "%s:%lu", host, v);
	return 0;
bad:
	snprintf(err, errlen, "dns_server %s is not HOST:PORT (an IP address "
	    "and a port, [V6]:PORT for IPv6)", orig);
	return -1;
}

struct answer {
	bool	 done;
	int	 status;
	char	**txts;
};

static int
vec_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if ((nv = realloc(*v, (*n + 2) * sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct answer *a = arg;
	struct ares_txt_ext *txt = NULL;
	struct dstr cur = { NULL, 0, 0, false };
	size_t n = 0;
	bool open = false;

	a->done = true;
	a->status = status;
	if (status == ARES_ENODATA || status == ARES_ENOTFOUND) {
		a->status = ARES_SUCCESS;	/* no record: none */
		return;
	}
	if (status != ARES_SUCCESS)
		return;
	if ((a->status = ares_parse_txt_reply_ext(abuf, alen, &txt)) !=
	    ARES_SUCCESS) {
		if (a->status == ARES_ENODATA)
			a->status = ARES_SUCCESS;
		return;
	}
	/* strings, each flagged when it starts a new record */
	for (struct ares_txt_ext *t = txt; t != NULL; t = t->next) {
		if (t->record_start && open) {
			if (cur.oom || vec_push(&a->txts, &n, cur.p) == -1)
				goto oom;
			memset(&cur, 0, sizeof(cur));
		}
		dstr_add(&cur, t->txt, t->length);
		open = true;
	}
	if (open && (cur.oom || vec_push(&a->txts, &n, cur.p) == -1))
		goto oom;
	ares_free_data(txt);
	return;
oom:
	dstr_free(&cur);
	ares_free_data(txt);
	a->status = ARES_ENOMEM;
}

int
dkim_dns_txt(const char *server, const char *name, char ***txts_r, char *err,
    size_t errlen)
{
	struct ares_options opts;
	ares_channel ch = NULL;
	struct answer a;
	char csv[96];
	int rc;

	memset(&a, 0, sizeof(a));
	if (server != NULL && server[0] != '\0' &&
	    parse_server(server, csv, sizeof(csv), err, errlen) == -1)
		return -1;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.timeout = 3000;
	opts.tries = 2;
	opts.flags = ARES_FLAG_EDNS;
	opts.ednspsz = 1232;
	if ((rc = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "cannot set up the resolver: %s",
		    ares_strerror(rc));
		ares_library_cleanup();
		return -1;
	}
	if (server != NULL && server[0] != '\0' &&
	    (rc = ares_set_servers_ports_csv(ch, csv)) != ARES_SUCCESS) {
		snprintf(err, errlen, "dns_server %s: %s", server,
		    ares_strerror(rc));
		goto out;
	}
	if ((a.txts = calloc(1, sizeof(*a.txts))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ares_query(ch, name, ns_c_in, ns_t_txt, on_answer, &a);
	while (!a.done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		/* c-ares's own READABLE/WRITABLE macros shift a signed 1
		   into the sign bit: read the bits unsigned */
		unsigned bits = (unsigned)ares_getsock(ch, socks,
		    ARES_GETSOCK_MAXNUM);
		int n = 0;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			bool rd = (bits >> i) & 1u;
			bool wr = (bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u;

			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (short)((rd ? POLLIN : 0) |
			    (wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(ch, NULL, &tv);
		if (poll(pfd, (nfds_t)n, tvp != NULL ? (int)(tvp->tv_sec *
		    1000 + tvp->tv_usec / 1000) : 1000) == -1 && errno != EINTR)
			break;
		if (n == 0)
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (int i = 0; i < n; i++)
			ares_process_fd(ch, (pfd[i].revents & (POLLIN |
			    POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
			    (pfd[i].revents & POLLOUT) ? pfd[i].fd :
			    ARES_SOCKET_BAD);
	}
	if (!a.done || a.status != ARES_SUCCESS) {
		snprintf(err, errlen, "no answer for %s TXT from %s: %s", name,
		    server != NULL ? server : "the system resolver",
		    a.done ? ares_strerror(a.status) : "poll failed");
		goto out;
	}
	*txts_r = a.txts;
	a.txts = NULL;
	rc = 0;
	ares_destroy(ch);
	ares_library_cleanup();
	return 0;
out:
	dkim_strv_free(a.txts);
	ares_destroy(ch);
	ares_library_cleanup();
	return -1;
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
