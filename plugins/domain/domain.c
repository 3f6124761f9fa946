/*
 * NAME
 *	domain - "plume doctor"'s sender-domain checks: MX, SPF, DMARC,
 *	PTR and EHLO name
 * SYNOPSIS
 *	plume doctor [--from ADDR] [--strict]
 *	dns_server = HOST:PORT		# global key; default: resolv.conf
 * DESCRIPTION
 *	A plugin with no part in the pipeline: "plume doctor" loads it on
 *	demand and calls its probe() (ABI 1.8) once, after every transport
 *	and every other instance has run its own probe, so that their facts
 *	are known: the relays the SMTP transports use (PLUME_PROBE_RELAY),
 *	their EHLO name (PLUME_PROBE_HELO) and the DKIM domains whose
 *	published key matches the signing key (PLUME_PROBE_DKIM_DOMAIN).
 *	It lives in a module of its own so that c-ares is never loaded by
 *	a submitting process that does not sign: plume itself links no DNS
 *	library.
 *
 *	For the domain of the sender (--from, else the one a submission
 *	gets) it checks, through dns_server or the system resolver:
 *	- mx: an MX record, else the address fallback of RFC 5321 5.1 (a
 *	  fact), else a warning; a null MX (RFC 7505) is a warning;
 *	- spf: the SPF record evaluated (spf.c) for each address of each
 *	  relay, on the assumption that the relay sends the mail on from
 *	  its own address, as a submission server does; pass is fine, any
 *	  other result a warning whose remedy names the term to add or what
 *	  to correct;
 *	- dmarc: the record at _dmarc.DOMAIN, else at the organizational
 *	  domain's (dmarc.c), and its policy; alignment: the From domain
 *	  (taken to be the sender's) against the DKIM d= facts (adkim=) and
 *	  against SPF (aspf=; aligned when SPF passes for every relay
 *	  address); p=reject or p=quarantine without either is a warning;
 *	- ptr and helo: facts about the relays' reverse names and whether
 *	  the EHLO name resolves.
 *	Every finding is at most a warning: "plume doctor --strict" counts
 *	them as failures.
 * DIAGNOSTICS
 *	Only through host->probe_report().
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <plume/plugin.h>

#include "dmarc.h"
#include "dnsq.h"
#include "spf.h"

#define MAX_ADDRS	16
#define MAX_ITEMS	16

struct run {
	const struct plume_host *h;
	struct plume_inst *in;
	struct plume_probe *p;
	struct dnsq *q;
	const char *sender;
	const char *domain;
	/* the relays' addresses, each with the relay it belongs to */
	char	 addr[MAX_ADDRS][64];
	char	 addr_host[MAX_ADDRS][256];
	size_t	 naddrs;
	bool	 spf_pass;	/* SPF passes for every relay address */
	int	 rc;
};

#define REPORT(r, st, check, remedy, ...) do {				\
	if ((st) == PLUME_CHECK_WARN || (st) == PLUME_CHECK_FAIL)	\
		(r)->rc = PLUME_TEMPFAIL;				\
	(r)->h->probe_report((r)->p, (st), (check), (remedy),		\
	    __VA_ARGS__);						\
} while (0)

/* Splits a comma-separated fact list into at most max items. */
static size_t
split(const char *list, char items[][256], size_t max)
{
	size_t n = 0;

	for (const char *p = list; p != NULL && *p != '\0' && n < max;) {
		size_t l = strcspn(p, ", ");

		if (l > 0 && l < 256) {
			bool dup = false;

			memcpy(items[n], p, l);
			items[n][l] = '\0';
			for (size_t i = 0; i < n; i++)
				dup |= strcasecmp(items[i], items[n]) == 0;
			if (!dup)
				n++;
		}
		p += l;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return n;
}

static int
lookup(void *ctx, const char *name, int type, char ***vals_r, char *err,
    size_t errlen)
{
	return dnsq_lookup(ctx, name, type, vals_r, err, errlen);
}

static bool
is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void
add_addr(struct run *r, const char *ip, const char *host)
{
	for (size_t i = 0; i < r->naddrs; i++)
		if (strcmp(r->addr[i], ip) == 0)
			return;
	if (r->naddrs == MAX_ADDRS)
		return;
	snprintf(r->addr[r->naddrs], sizeof(r->addr[0]), "%s", ip);
	snprintf(r->addr_host[r->naddrs], sizeof(r->addr_host[0]), "%s", host);
	r->naddrs++;
}

/* The relays' addresses, resolved through the same DNS as the rest. */
static void
relay_addrs(struct run *r)
{
	char relays[MAX_ITEMS][256], err[400];
	size_t n = split(r->h->probe_param(r->p, PLUME_PROBE_RELAY), relays,
	    MAX_ITEMS);

	for (size_t i = 0; i < n; i++) {
		static const int types[] = { DNSQ_A, DNSQ_AAAA };
		size_t before = r->naddrs;

		if (is_ip(relays[i])) {
			add_addr(r, relays[i], relays[i]);
			continue;
		}
		for (size_t t = 0; t < 2; t++) {
			char **v = NULL;

			if (dnsq_lookup(r->q, relays[i], types[t], &v, err,
			    sizeof(err)) == DNSQ_ERROR) {
				REPORT(r, PLUME_CHECK_WARN, "spf", "check that "
				    "dns_server (or the system resolver) "
				    "answers", "cannot resolve the relay %s: "
				    "%s", relays[i], err);
				continue;
			}
			for (size_t k = 0; v[k] != NULL; k++)
				add_addr(r, v[k], relays[i]);
			dnsq_strv_free(v);
		}
		if (r->naddrs == before)
			REPORT(r, PLUME_CHECK_WARN, "spf", "correct host = of "
			    "the transport, or publish its address", "the "
			    "relay %s has no address in DNS: SPF cannot be "
			    "evaluated for it", relays[i]);
	}
}

/* ---- mx -------------------------------------------------------------- */

static void
check_mx(struct run *r)
{
	char **v = NULL, err[400], remedy[600];
	int rc = dnsq_lookup(r->q, r->domain, DNSQ_MX, &v, err, sizeof(err));

	snprintf(remedy, sizeof(remedy), "publish an MX record for %s: "
	    "replies and bounces to %s need one", r->domain, r->sender);
	if (rc == DNSQ_ERROR) {
		REPORT(r, PLUME_CHECK_WARN, "mx", "check that dns_server (or "
		    "the system resolver) answers", "%s", err);
		return;
	}
	if (rc == DNSQ_NXDOMAIN) {
		REPORT(r, PLUME_CHECK_WARN, "mx", "send from an address in a "
		    "domain of yours (--from, sender_address)", "%s does not "
		    "exist in DNS: receivers refuse mail from it", r->domain);
		dnsq_strv_free(v);
		return;
	}
	if (rc == DNSQ_FOUND && v[0][0] == '\0' && v[1] == NULL) {
		REPORT(r, PLUME_CHECK_WARN, "mx", remedy, "%s has a null MX "
		    "(RFC 7505): it takes no mail, and receivers may refuse "
		    "mail from it", r->domain);
	} else if (rc == DNSQ_FOUND) {
		char list[600] = "";
		size_t k = 0;

		for (size_t i = 0; v[i] != NULL && k < sizeof(list); i++)
			k += (size_t)snprintf(list + k, sizeof(list) - k,
			    "%s%s", i ? ", " : "", v[i]);
		REPORT(r, PLUME_CHECK_OK, "mx", NULL, "%s receives mail at %s",
		    r->domain, list);
	} else {
		/* no MX: RFC 5321 5.1 falls back to the address records */
		char **a = NULL, **aaaa = NULL;
		bool found;

		if (dnsq_lookup(r->q, r->domain, DNSQ_A, &a, err,
		    sizeof(err)) == DNSQ_ERROR)
			a = NULL;
		if (dnsq_lookup(r->q, r->domain, DNSQ_AAAA, &aaaa, err,
		    sizeof(err)) == DNSQ_ERROR)
			aaaa = NULL;
		found = (a != NULL && a[0] != NULL) || (aaaa != NULL &&
		    aaaa[0] != NULL);
		if (found)
			REPORT(r, PLUME_CHECK_INFO, "mx", NULL, "%s has no MX "
			    "record: mail for it goes to its address %s (the "
			    "A fallback of RFC 5321 5.1)", r->domain,
			    a != NULL && a[0] != NULL ? a[0] : aaaa[0]);
		else
			REPORT(r, PLUME_CHECK_WARN, "mx", remedy, "%s has no MX "
			    "record and no address: it takes no mail, and "
			    "receivers may refuse mail from it", r->domain);
		dnsq_strv_free(a);
		dnsq_strv_free(aaaa);
	}
	dnsq_strv_free(v);
}

/* ---- spf ------------------------------------------------------------- */

static void
spf_remedy(const struct spf_eval *ev, const char *domain, char *buf,
    size_t len)
{
	const char *d = ev->domain[0] ? ev->domain : domain;

	switch (ev->problem) {
	case SPF_PROB_MULTIPLE:
		snprintf(buf, len, "merge the v=spf1 records of %s into one "
		    "TXT record", d);
		break;
	case SPF_PROB_LOOKUPS:
		snprintf(buf, len, "bring the SPF record of %s down to 10 DNS "
		    "lookups at most: replace include:, a and mx terms with "
		    "ip4:/ip6: ranges", domain);
		break;
	case SPF_PROB_VOID:
		snprintf(buf, len, "remove the terms of the SPF record of %s "
		    "that name domains without such records", domain);
		break;
	case SPF_PROB_MX:
		snprintf(buf, len, "replace the mx term of the SPF record of "
		    "%s with ip4:/ip6: ranges (at most 10 MX names)", d);
		break;
	case SPF_PROB_TARGET:
		snprintf(buf, len, "correct the include:/redirect= of the SPF "
		    "record of %s: the domain it names has no SPF record",
		    domain);
		break;
	default:
		snprintf(buf, len, "correct the SPF record of %s (RFC 7208 "
		    "section 12 gives its syntax)", d);
		break;
	}
}

static void
check_spf(struct run *r)
{
	struct spf_eval ev;
	char remedy[700], err[400], **v = NULL;
	const char *helo = r->h->probe_param(r->p, PLUME_PROBE_HELO);
	size_t nspf = 0;
	const char *rec = NULL;

	memset(&ev, 0, sizeof(ev));
	ev.lookup = lookup;
	ev.ctx = r->q;
	ev.helo = helo != NULL && strchr(helo, ',') == NULL ? helo : NULL;
	if (r->naddrs == 0) {
		/* nothing to evaluate for: the record is present and valid */
		struct spf_record sr;
		int rc = dnsq_lookup(r->q, r->domain, DNSQ_TXT, &v, err,
		    sizeof(err));

		if (rc == DNSQ_ERROR) {
			REPORT(r, PLUME_CHECK_WARN, "spf", "check that "
			    "dns_server (or the system resolver) answers",
			    "%s", err);
			return;
		}
		for (size_t i = 0; v[i] != NULL; i++)
			if (spf_is_record(v[i])) {
				nspf++;
				rec = v[i];
			}
		if (nspf == 0)
			REPORT(r, PLUME_CHECK_WARN, "spf", "publish an SPF "
			    "record naming the services that send as the "
			    "domain (v=spf1 include:... ~all)", "%s publishes "
			    "no SPF record", r->domain);
		else if (nspf > 1)
			REPORT(r, PLUME_CHECK_WARN, "spf", "merge them into "
			    "one TXT record", "%s publishes %zu v=spf1 "
			    "records: there must be exactly one (permerror)",
			    r->domain, nspf);
		else if (spf_parse(rec, &sr, err, sizeof(err)) == -1)
			REPORT(r, PLUME_CHECK_WARN, "spf", "correct it (RFC "
			    "7208 section 12 gives its syntax)", "the SPF "
			    "record of %s is invalid: %s", r->domain, err);
		else {
			spf_record_free(&sr);
			REPORT(r, PLUME_CHECK_INFO, "spf", NULL, "%s publishes "
			    "\"%s\"; no SMTP relay to evaluate it for (an HTTP "
			    "API's provider sends from its own addresses: its "
			    "documentation names the include: to add)",
			    r->domain, rec);
		}
		dnsq_strv_free(v);
		return;
	}
	r->spf_pass = true;
	for (size_t i = 0; i < r->naddrs; i++) {
		enum spf_result res = spf_check_host(&ev, r->addr[i],
		    r->domain, r->sender);
		const char *ip = r->addr[i], *host = r->addr_host[i];
		char relay[400];
		bool v6 = strchr(ip, ':') != NULL;

		if (strcmp(ip, host) == 0)
			snprintf(relay, sizeof(relay), "the relay %s", ip);
		else
			snprintf(relay, sizeof(relay), "the relay %s (%s)",
			    host, ip);
		if (res != SPF_PASS)
			r->spf_pass = false;
		switch (res) {
		case SPF_PASS:
			REPORT(r, PLUME_CHECK_OK, "spf", NULL, "pass for %s: "
			    "%s (%u DNS lookup%s of 10)", relay, ev.why,
			    ev.lookups, ev.lookups == 1 ? "" : "s");
			break;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			snprintf(remedy, sizeof(remedy), "add %s:%s (or the "
			    "include: your relay's provider documents) to the "
			    "SPF record of %s", v6 ? "ip6" : "ip4", ip,
			    ev.domain[0] ? ev.domain : r->domain);
			REPORT(r, PLUME_CHECK_WARN, "spf", remedy, "%s for %s: "
			    "%s: %s", spf_result_name(res), relay, ev.why,
			    res == SPF_FAIL ? "receivers may refuse the mail" :
			    res == SPF_SOFTFAIL ? "receivers count it against "
			    "the mail" : "the record does not say the relay "
			    "may send for the domain");
			break;
		case SPF_NONE:
			snprintf(remedy, sizeof(remedy), "publish %s TXT "
			    "\"v=spf1 %s:%s ~all\" (with an include: for each "
			    "other service that sends as %s)", r->domain,
			    v6 ? "ip6" : "ip4", ip, r->domain);
			REPORT(r, PLUME_CHECK_WARN, "spf", remedy, "%s publishes "
			    "no SPF record: receivers cannot tell that %s may "
			    "send for it", r->domain, relay);
			return;
		case SPF_PERMERROR:
			spf_remedy(&ev, r->domain, remedy, sizeof(remedy));
			REPORT(r, PLUME_CHECK_WARN, "spf", remedy, "permerror "
			    "for %s: %s", relay, ev.why);
			return;
		case SPF_TEMPERROR:
			REPORT(r, PLUME_CHECK_WARN, "spf", "check that "
			    "dns_server (or the system resolver) answers, and "
			    "that every name the SPF record lists resolves",
			    "temperror for %s: %s", relay, ev.why);
			break;
		}
	}
}

/* ---- dmarc ----------------------------------------------------------- */

/* The DMARC records at _dmarc.name: -1 on a DNS error, else how many
   (the last in *rec_r, to be freed with *v_r). */
static int
dmarc_fetch(struct run *r, const char *name, char ***v_r, const char **rec_r)
{
	char qname[300], err[400];
	int n = 0;

	*rec_r = NULL;
	snprintf(qname, sizeof(qname), "_dmarc.%s", name);
	if (dnsq_lookup(r->q, qname, DNSQ_TXT, v_r, err, sizeof(err)) ==
	    DNSQ_ERROR) {
		REPORT(r, PLUME_CHECK_WARN, "dmarc", "check that dns_server "
		    "(or the system resolver) answers", "%s", err);
		return -1;
	}
	for (size_t i = 0; (*v_r)[i] != NULL; i++)
		if (dmarc_is_record((*v_r)[i])) {
			n++;
			*rec_r = (*v_r)[i];
		}
	return n;
}

static void
check_dmarc(struct run *r)
{
	const char *org = dmarc_org_domain(r->domain), *rec = NULL, *at;
	const char *policy;
	char **v = NULL, err[300], remedy[700], dkims[MAX_ITEMS][256];
	char dkim_ok[256] = "", why[600];
	struct dmarc_rec dr;
	bool spf_ok;
	int n;
	size_t nd;

	if ((n = dmarc_fetch(r, r->domain, &v, &rec)) == -1)
		return;
	at = r->domain;
	if (n == 0 && strcasecmp(org, r->domain) != 0) {
		dnsq_strv_free(v);
		if ((n = dmarc_fetch(r, org, &v, &rec)) == -1)
			return;
		at = org;
	}
	if (n == 0) {
		snprintf(remedy, sizeof(remedy), "publish _dmarc.%s TXT "
		    "\"v=DMARC1; p=none; rua=mailto:postmaster@%s\" (p=none "
		    "only asks for reports: tighten it once they show your "
		    "mail aligned)", org, org);
		if (at != r->domain)
			REPORT(r, PLUME_CHECK_WARN, "dmarc", remedy, "no DMARC "
			    "record at _dmarc.%s nor at _dmarc.%s", r->domain,
			    org);
		else
			REPORT(r, PLUME_CHECK_WARN, "dmarc", remedy, "no DMARC "
			    "record at _dmarc.%s", r->domain);
		dnsq_strv_free(v);
		return;
	}
	if (n > 1) {
		snprintf(remedy, sizeof(remedy), "keep one DMARC record at "
		    "_dmarc.%s", at);
		REPORT(r, PLUME_CHECK_WARN, "dmarc", remedy, "_dmarc.%s has %d "
		    "DMARC records: receivers ignore them all", at, n);
		dnsq_strv_free(v);
		return;
	}
	if (dmarc_parse(rec, &dr, err, sizeof(err)) == -1) {
		snprintf(remedy, sizeof(remedy), "correct the DMARC record at "
		    "_dmarc.%s (RFC 7489 section 6.3)", at);
		REPORT(r, PLUME_CHECK_WARN, "dmarc", remedy, "the DMARC record "
		    "at _dmarc.%s is invalid: %s", at, err);
		dnsq_strv_free(v);
		return;
	}
	dnsq_strv_free(v);
	/* a subdomain found through its organizational domain: sp= */
	policy = at != r->domain && dr.sp[0] != '\0' ? dr.sp : dr.p;
	if (at != r->domain)
		REPORT(r, PLUME_CHECK_OK, "dmarc", NULL, "_dmarc.%s: p=%s, "
		    "adkim=%c, aspf=%c (the organizational domain's record, "
		    "for %s)", at, policy, dr.adkim, dr.aspf, r->domain);
	else
		REPORT(r, PLUME_CHECK_OK, "dmarc", NULL, "_dmarc.%s: p=%s, "
		    "adkim=%c, aspf=%c", at, policy, dr.adkim, dr.aspf);

	/* alignment: DKIM d= facts, SPF for the relay (the envelope
	   sender's domain is the From domain here) */
	nd = split(r->h->probe_param(r->p, PLUME_PROBE_DKIM_DOMAIN), dkims,
	    MAX_ITEMS);
	for (size_t i = 0; i < nd && dkim_ok[0] == '\0'; i++)
		if (dmarc_aligned(dkims[i], r->domain, dr.adkim))
			snprintf(dkim_ok, sizeof(dkim_ok), "%s", dkims[i]);
	spf_ok = r->naddrs > 0 && r->spf_pass &&
	    dmarc_aligned(r->domain, r->domain, dr.aspf);
	if (dkim_ok[0] != '\0' || spf_ok) {
		char how[600];

		if (dkim_ok[0] != '\0')
			snprintf(how, sizeof(how), "DKIM d=%s (adkim=%c)%s",
			    dkim_ok, dr.adkim, spf_ok ? " and SPF" : "");
		else
			snprintf(how, sizeof(how), "SPF (pass for the relay, "
			    "aspf=%c)", dr.aspf);
		REPORT(r, PLUME_CHECK_OK, "alignment", NULL, "From domain %s "
		    "aligns through %s", r->domain, how);
		return;
	}
	snprintf(remedy, sizeof(remedy), "sign as %s: a [dkim] instance with "
	    "domain = %s in pipeline and its key published (plume dkim "
	    "keygen prints the record), or make SPF pass for the relay",
	    r->domain, r->domain);
	snprintf(why, sizeof(why), "no DKIM key for a d= aligned with %s is "
	    "published, and SPF does not pass for the relay", r->domain);
	if (strcmp(policy, "reject") == 0)
		REPORT(r, PLUME_CHECK_WARN, "alignment", remedy, "p=reject "
		    "without alignment: your mail will be rejected (%s)", why);
	else if (strcmp(policy, "quarantine") == 0)
		REPORT(r, PLUME_CHECK_WARN, "alignment", remedy, "p=quarantine "
		    "without alignment: your mail will go to spam (%s)", why);
	else
		REPORT(r, PLUME_CHECK_INFO, "alignment", NULL, "not aligned "
		    "(%s): with p=none receivers only report it", why);
}

/* ---- ptr and helo ---------------------------------------------------- */

static void
check_ptr(struct run *r)
{
	for (size_t i = 0; i < r->naddrs; i++) {
		unsigned char a[16];
		char name[128], err[400], **v = NULL;
		size_t k = 0;
		int rc;

		if (inet_pton(AF_INET, r->addr[i], a) == 1)
			snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa",
			    a[3], a[2], a[1], a[0]);
		else if (inet_pton(AF_INET6, r->addr[i], a) == 1) {
			for (int j = 15; j >= 0; j--)
				k += (size_t)snprintf(name + k, sizeof(name) -
				    k, "%x.%x.", a[j] & 15, a[j] >> 4);
			snprintf(name + k, sizeof(name) - k, "ip6.arpa");
		} else
			continue;
		rc = dnsq_lookup(r->q, name, DNSQ_PTR, &v, err, sizeof(err));
		if (rc == DNSQ_ERROR)
			REPORT(r, PLUME_CHECK_INFO, "ptr", NULL, "%s", err);
		else if (rc == DNSQ_FOUND)
			REPORT(r, PLUME_CHECK_INFO, "ptr", NULL, "the relay "
			    "address %s has the name %s", r->addr[i], v[0]);
		else
			REPORT(r, PLUME_CHECK_INFO, "ptr", NULL, "the relay "
			    "address %s has no PTR record (receivers distrust "
			    "mail from an address without one: ask whoever "
			    "runs the relay)", r->addr[i]);
		dnsq_strv_free(v);
	}
}

static void
check_helo(struct run *r)
{
	char names[MAX_ITEMS][256], err[400];
	const char *list = r->h->probe_param(r->p, PLUME_PROBE_HELO);
	size_t n;

	if (list == NULL)
		list = r->h->conf_global(r->in, "hostname");
	n = split(list, names, MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		char **a = NULL, **aaaa = NULL;
		int ra = dnsq_lookup(r->q, names[i], DNSQ_A, &a, err,
		    sizeof(err));
		int r6 = ra == DNSQ_ERROR ? DNSQ_ERROR : dnsq_lookup(r->q,
		    names[i], DNSQ_AAAA, &aaaa, err, sizeof(err));

		if (ra == DNSQ_ERROR || r6 == DNSQ_ERROR)
			REPORT(r, PLUME_CHECK_INFO, "helo", NULL, "%s", err);
		else if (ra == DNSQ_FOUND || r6 == DNSQ_FOUND)
			REPORT(r, PLUME_CHECK_INFO, "helo", NULL, "the EHLO "
			    "name %s resolves to %s", names[i], ra ==
			    DNSQ_FOUND ? a[0] : aaaa[0]);
		else
			REPORT(r, PLUME_CHECK_INFO, "helo", NULL, "the EHLO "
			    "name %s does not resolve (some relays refuse "
			    "such a name: set hostname = this host's public "
			    "name)", names[i]);
		dnsq_strv_free(a);
		dnsq_strv_free(aaaa);
	}
}

static int
domain_probe(const struct plume_host *h, struct plume_inst *in, void *state,
    struct plume_probe *p)
{
	struct run run, *r = &run;
	const char *server, *at;
	char err[400];

	(void)state;
	memset(r, 0, sizeof(*r));
	r->h = h;
	r->in = in;
	r->p = p;
	r->sender = h->probe_param(p, PLUME_PROBE_FROM);
	if (r->sender == NULL || (at = strrchr(r->sender, '@')) == NULL ||
	    at[1] == '\0') {
		h->probe_report(p, PLUME_CHECK_INFO, "domain", NULL, "no "
		    "sender domain to check (give --from ADDR)");
		return PLUME_OK;
	}
	r->domain = at + 1;
	server = h->conf_global(in, "dns_server");
	if ((r->q = dnsq_open(server, err, sizeof(err))) == NULL) {
		REPORT(r, PLUME_CHECK_WARN, "domain", "set dns_server = "
		    "HOST:PORT (an IP address), or remove it to use "
		    "/etc/resolv.conf", "%s", err);
		return r->rc;
	}
	REPORT(r, PLUME_CHECK_INFO, "sender", NULL, "domain %s (of %s), "
	    "DNS: %s", r->domain, r->sender, server != NULL && *server ?
	    server : "the system resolver");
	check_mx(r);
	relay_addrs(r);
	check_spf(r);
	check_dmarc(r);
	check_ptr(r);
	check_helo(r);
	dnsq_close(r->q);
	return r->rc;
}

const struct plume_plugin PLUME_PLUGIN(domain) = {
	PLUME_PLUGIN_INIT,
	.name = "domain",
	.version = "1.0",
	.description = "plume doctor's sender-domain checks: MX, SPF, DKIM "
	    "alignment, DMARC (needs no config, joins no pipeline)",
	.kinds = 0,
	.probe = domain_probe,
};
