/*
 * NAME
 *	dnsq.c - DNS queries through c-ares, one at a time
 * SYNOPSIS
 *	struct dnsq *dnsq_open(server, err, errlen)
 *	int dnsq_lookup(q, name, type, vals_r, err, errlen)
 *	void dnsq_close(q)
 *	void dnsq_strv_free(v)
 * DESCRIPTION
 *	The resolver of the plugins that read DNS (dkim's key records, the
 *	domain plugin's MX, SPF and DMARC checks): c-ares (Debian's
 *	libc-ares), asked synchronously, one question at a time, which is
 *	all a check needs.  c-ares rather than ldns: libldns brings libssl
 *	along, and the dkim module is loaded by every process that signs.
 *
 *	dnsq_open() sets up a channel to server, "HOST:PORT" or
 *	"[V6]:PORT" with HOST an IP address (the global key dns_server),
 *	or to the servers of /etc/resolv.conf when server is NULL or
 *	empty.  Queries ask for recursion with EDNS (1232 octets), wait 3
 *	seconds, twice, and go again over TCP when the answer is truncated.
 *	Once a query got no answer at all, every later one on the channel
 *	fails at once, so a silent server costs one timeout per check, not
 *	one per name an SPF record names.
 *
 *	dnsq_lookup() returns the records of one type as text in *vals_r,
 *	a NULL-terminated vector (free it with dnsq_strv_free()): TXT
 *	records with their strings joined (RFC 6376 3.6.2.2, RFC 7208
 *	3.3); MX exchanges in preference order ("" for a null MX, RFC
 *	7505); A and AAAA addresses as inet_ntop() writes them; PTR names.
 *	The vector is empty for DNSQ_NODATA and DNSQ_NXDOMAIN.
 * DIAGNOSTICS
 *	dnsq_open() returns NULL and dnsq_lookup() DNSQ_ERROR with one line
 *	in err (a bad dns_server, a timeout, SERVFAIL, out of memory).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "dnsq.h"

struct dnsq {
	ares_channel ch;
	char	*server;	/* for messages */
	bool	 dead;		/* a query went unanswered */
	char	 dead_why[200];
};

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

struct dnsq *
dnsq_open(const char *server, char *err, size_t errlen)
{
	struct ares_options opts;
	struct dnsq *q;
	char csv[96];
	int rc;

	if (server != NULL && server[0] == '\0')
		server = NULL;
	if (server != NULL && parse_server(server, csv, sizeof(csv), err,
	    errlen) == -1)
		return NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL || (q->server =
	    strdup(server != NULL ? server : "the system resolver")) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(q->server);
		free(q);
		return NULL;
	}
	memset(&opts, 0, sizeof(opts));
	opts.timeout = 3000;
	opts.tries = 2;
	opts.flags = ARES_FLAG_EDNS;
	opts.ednspsz = 1232;
	if ((rc = ares_init_options(&q->ch, &opts, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "cannot set up the resolver: %s",
		    ares_strerror(rc));
		q->ch = NULL;
		dnsq_close(q);
		return NULL;
	}
	if (server != NULL && (rc = ares_set_servers_ports_csv(q->ch, csv)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "dns_server %s: %s", server,
		    ares_strerror(rc));
		dnsq_close(q);
		return NULL;
	}
	return q;
}

void
dnsq_close(struct dnsq *q)
{
	if (q == NULL)
		return;
	if (q->ch != NULL)
		ares_destroy(q->ch);
	ares_library_cleanup();
	free(q->server);
	free(q);
}

void
dnsq_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

struct answer {
	bool	 done;
	int	 status;
	int	 type;
	char	**v;
	size_t	 n;
};

static int
push(struct answer *a, const char *s, size_t len)
{
	char **nv, *c;

	if ((c = malloc(len + 1)) == NULL)
		return -1;
	memcpy(c, s, len);
	c[len] = '\0';
	if ((nv = realloc(a->v, (a->n + 2) * sizeof(*a->v))) == NULL) {
		free(c);
		return -1;
	}
	a->v = nv;
	a->v[a->n++] = c;
	a->v[a->n] = NULL;
	return 0;
}

/* TXT: each record's strings joined */
static int
parse_txt(struct answer *a, const unsigned char *abuf, int alen)
{
	struct ares_txt_ext *txt = NULL, *t;
	char *cur = NULL, *nc;
	size_t len = 0;
	int rc;

	if ((rc = ares_parse_txt_reply_ext(abuf, alen, &txt)) != ARES_SUCCESS)
		return rc;
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start && cur != NULL) {
			if (push(a, cur, len) == -1)
				goto oom;
			free(cur);
			cur = NULL;
			len = 0;
		}
		if ((nc = realloc(cur, len + t->length + 1)) == NULL)
			goto oom;
		cur = nc;
		memcpy(cur + len, t->txt, t->length);
		len += t->length;
	}
	if (cur != NULL && push(a, cur, len) == -1)
		goto oom;
	free(cur);
	ares_free_data(txt);
	return ARES_SUCCESS;
oom:
	free(cur);
	ares_free_data(txt);
	return ARES_ENOMEM;
}

static int
parse_mx(struct answer *a, const unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx = NULL, *m, *best;
	int rc, last = -1;

	if ((rc = ares_parse_mx_reply(abuf, alen, &mx)) != ARES_SUCCESS)
		return rc;
	/* in preference order; the list is short */
	for (;;) {
		best = NULL;
		for (m = mx; m != NULL; m = m->next)
			if ((int)m->priority > last && (best == NULL ||
			    m->priority < best->priority))
				best = m;
		if (best == NULL)
			break;
		last = best->priority;
		for (m = mx; m != NULL; m = m->next)
			if (m->priority == best->priority && push(a, m->host,
			    strlen(m->host)) == -1) {
				ares_free_data(mx);
				return ARES_ENOMEM;
			}
	}
	ares_free_data(mx);
	return ARES_SUCCESS;
}

static int
parse_addr(struct answer *a, const unsigned char *abuf, int alen, int v6)
{
	struct ares_addrttl t4[64];
	struct ares_addr6ttl t6[64];
	char buf[INET6_ADDRSTRLEN];
	int n = 64, rc;

	rc = v6 ? ares_parse_aaaa_reply(abuf, alen, NULL, t6, &n) :
	    ares_parse_a_reply(abuf, alen, NULL, t4, &n);
	if (rc != ARES_SUCCESS)
		return rc;
	for (int i = 0; i < n; i++) {
		if (inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ?
		    (const void *)&t6[i].ip6addr : (const void *)&t4[i].ipaddr,
		    buf, sizeof(buf)) == NULL)
			continue;
		if (push(a, buf, strlen(buf)) == -1)
			return ARES_ENOMEM;
	}
	return n == 0 ? ARES_ENODATA : ARES_SUCCESS;
}

static int
parse_ptr(struct answer *a, const unsigned char *abuf, int alen)
{
	struct hostent *he = NULL;
	unsigned char dummy[4] = { 0, 0, 0, 0 };
	int rc;

	/* c-ares copies addr into the hostent; the names are what counts */
	if ((rc = ares_parse_ptr_reply(abuf, alen, dummy, sizeof(dummy),
	    AF_INET, &he)) != ARES_SUCCESS)
		return rc;
	if (he->h_name != NULL && push(a, he->h_name, strlen(he->h_name)) ==
	    -1)
		rc = ARES_ENOMEM;
	for (size_t i = 0; rc == ARES_SUCCESS && he->h_aliases != NULL &&
	    he->h_aliases[i] != NULL; i++)
		if (push(a, he->h_aliases[i], strlen(he->h_aliases[i])) == -1)
			rc = ARES_ENOMEM;
	ares_free_hostent(he);
	return rc;
}

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct answer *a = arg;

	(void)timeouts;
	a->done = true;
	a->status = status;
	if (status != ARES_SUCCESS)
		return;
	switch (a->type) {
	case DNSQ_TXT:
		a->status = parse_txt(a, abuf, alen);
		break;
	case DNSQ_MX:
		a->status = parse_mx(a, abuf, alen);
		break;
	case DNSQ_A:
	case DNSQ_AAAA:
		a->status = parse_addr(a, abuf, alen, a->type == DNSQ_AAAA);
		break;
	case DNSQ_PTR:
		a->status = parse_ptr(a, abuf, alen);
		break;
	default:
		a->status = ARES_ENOTIMP;
	}
}

static const char *
type_name(int type)
{
	switch (type) {
	case DNSQ_A: return "A";
	case DNSQ_AAAA: return "AAAA";
	case DNSQ_MX: return "MX";
	case DNSQ_TXT: return "TXT";
	case DNSQ_PTR: return "PTR";
	}
	return "?";
}

/* Runs the channel until the one query is answered. */
static bool
wait_answer(struct dnsq *q, struct answer *a)
{
	while (!a->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		struct timeval tv, *tvp;
		/* c-ares's own READABLE/WRITABLE macros shift a signed 1
		   into the sign bit: read the bits unsigned */
		unsigned bits = (unsigned)ares_getsock(q->ch, socks,
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
		tvp = ares_timeout(q->ch, NULL, &tv);
		if (poll(pfd, (nfds_t)n, tvp != NULL ? (int)(tvp->tv_sec *
		    1000 + tvp->tv_usec / 1000) : 1000) == -1 && errno != EINTR)
			return false;
		if (n == 0)
			ares_process_fd(q->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (int i = 0; i < n; i++)
			ares_process_fd(q->ch, (pfd[i].revents & (POLLIN |
			    POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
			    (pfd[i].revents & POLLOUT) ? pfd[i].fd :
			    ARES_SOCKET_BAD);
	}
	return true;
}

int
dnsq_lookup(struct dnsq *q, const char *name, int type, char ***vals_r,
    char *err, size_t errlen)
{
	struct answer a;

	*vals_r = NULL;
	if (q->dead) {
		snprintf(err, errlen, "no answer for %s %s from %s (%s before)",
		    name, type_name(type), q->server, q->dead_why);
		return DNSQ_ERROR;
	}
	memset(&a, 0, sizeof(a));
	a.type = type;
	if ((a.v = calloc(1, sizeof(*a.v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return DNSQ_ERROR;
	}
	ares_query(q->ch, name, ns_c_in, type, on_answer, &a);
	if (!wait_answer(q, &a) || !a.done) {
		snprintf(err, errlen, "no answer for %s %s from %s: poll: %s",
		    name, type_name(type), q->server, strerror(errno));
		dnsq_strv_free(a.v);
		return DNSQ_ERROR;
	}
	switch (a.status) {
	case ARES_SUCCESS:
		*vals_r = a.v;
		return a.n > 0 ? DNSQ_FOUND : DNSQ_NODATA;
	case ARES_ENODATA:
		*vals_r = a.v;
		return DNSQ_NODATA;
	case ARES_ENOTFOUND:
		*vals_r = a.v;
		return DNSQ_NXDOMAIN;
	}
	snprintf(err, errlen, "no answer for %s %s from %s: %s", name,
	    type_name(type), q->server, ares_strerror(a.status));
	if (a.status == ARES_ETIMEOUT || a.status == ARES_ECONNREFUSED) {
		q->dead = true;
		snprintf(q->dead_why, sizeof(q->dead_why), "%s",
		    ares_strerror(a.status));
	}
	dnsq_strv_free(a.v);
	return DNSQ_ERROR;
}
