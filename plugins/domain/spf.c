/*
 * NAME
 *	spf.c - SPF (RFC 7208): record parser and check_host() evaluator
 * SYNOPSIS
 *	bool spf_is_record(txt)
 *	int spf_parse(txt, rec, err, errlen)
 *	void spf_record_free(rec)
 *	int spf_expand(ms, sender, domain, ip, helo, is_exp, out, outlen,
 *	    err, errlen)
 *	enum spf_result spf_check_host(ev, ip, domain, sender)
 *	const char *spf_result_name(result)
 * DESCRIPTION
 *	A small SPF evaluator over the domain plugin's resolver, for "plume
 *	doctor": libspf2 cannot be pointed at a DNS server and port of our
 *	choosing, and is unmaintained.
 *
 *	spf_parse() checks a record against the ABNF of RFC 7208 12:
 *	"v=spf1", then directives (an optional qualifier + - ~ ?, then
 *	all, include, a, mx, ptr, ip4, ip6 or exists with their arguments
 *	and CIDR lengths) and modifiers (redirect= and exp= at most once
 *	each; unknown ones are skipped, as 6 says).  An unknown mechanism,
 *	a bad CIDR length or a bad macro is an error.
 *
 *	spf_check_host() is check_host() of 4: the TXT records of domain,
 *	exactly one of them "v=spf1"; its terms in order; include, a, mx,
 *	ptr, exists and redirect count against the limit of 10 lookups,
 *	lookups that find nothing against the limit of 2 (4.6.4), an MX
 *	set of more than 10 names is an error.  Macros (7) are expanded
 *	with every letter: s l o d i p h v, and c r t in exp= only (which
 *	is parsed, never fetched); %{p} expands to "unknown", which 7.3
 *	allows.  ptr is evaluated (5.5) though the RFC discourages it.
 *	The result is one of none, neutral, pass, fail, softfail,
 *	temperror and permerror, with ev->why saying which term decided it
 *	(or what was wrong) and ev->domain whose record that was.
 * DIAGNOSTICS
 *	spf_parse() and spf_expand() return -1 with one line in err.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsq.h"
#include "spf.h"

enum mech { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS };

static const char *const mech_names[] = { "all", "include", "a", "mx",
    "ptr", "ip4", "ip6", "exists" };

struct spf_term {
	char	 qual;		/* + - ~ ? */
	enum mech mech;
	char	*arg;		/* domain-spec, or NULL */
	unsigned char addr[16];	/* ip4 / ip6 */
	int	 cidr4, cidr6;	/* prefix lengths */
	char	*text;		/* the term as written, for messages */
};

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_FN(f, a)	__attribute__((format(printf, f, a)))
#else
#define PRINTF_FN(f, a)
#endif

#define MAX_TERMS	64
#define MAX_DEPTH	12	/* includes and redirects, nested */

const char *
spf_result_name(enum spf_result r)
{
	static const char *const n[] = { "none", "neutral", "pass", "fail",
	    "softfail", "temperror", "permerror" };

	return (unsigned)r <= SPF_PERMERROR ? n[r] : "?";
}

bool
spf_is_record(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' ||
	    txt[6] == '\0');
}

/* dnsq_strv_free(), without linking the resolver (tests, fuzzing) */
static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char *
xstrndup(const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c != NULL) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

void
spf_record_free(struct spf_record *r)
{
	for (size_t i = 0; i < r->nterms; i++) {
		free(r->terms[i].arg);
		free(r->terms[i].text);
	}
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	memset(r, 0, sizeof(*r));
}

/* ---- macros (7) ------------------------------------------------------ */

static bool
is_delim(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/*
 * Checks a macro-string's syntax; letters c, r and t only with is_exp.
 */
static int
macro_check(const char *s, size_t n, bool is_exp, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t j;

		if (c < 0x21 || c > 0x7e) {
			snprintf(err, errlen, "a character that is not "
			    "printable ASCII");
			return -1;
		}
		if (c != '%')
			continue;
		if (i + 1 >= n) {
			snprintf(err, errlen, "a lone %% at the end");
			return -1;
		}
		c = (unsigned char)s[++i];
		if (c == '%' || c == '_' || c == '-')
			continue;
		if (c != '{') {
			snprintf(err, errlen, "%%%c is not a macro (%%%% for "
			    "a %%)", c);
			return -1;
		}
		if (i + 1 >= n) {
			snprintf(err, errlen, "an unterminated macro");
			return -1;
		}
		c = (unsigned char)tolower((unsigned char)s[++i]);
		if (strchr("slodiphcrtv", c) == NULL || c == '\0') {
			snprintf(err, errlen, "%%{%c...}: no such macro letter",
			    s[i]);
			return -1;
		}
		if (!is_exp && strchr("crt", c) != NULL) {
			snprintf(err, errlen, "the macro %%{%c} is allowed in "
			    "exp= only", s[i]);
			return -1;
		}
		for (j = i + 1; j < n && isdigit((unsigned char)s[j]); j++)
			;
		if (j > i + 1 && (s[i + 1] == '0' || j - i - 1 > 3)) {
			snprintf(err, errlen, "a bad macro transformer");
			return -1;
		}
		if (j < n && (s[j] == 'r' || s[j] == 'R'))
			j++;
		while (j < n && is_delim(s[j]))
			j++;
		if (j >= n || s[j] != '}') {
			snprintf(err, errlen, "an unterminated macro");
			return -1;
		}
		i = j;
	}
	return 0;
}

struct out {
	char	*p;
	size_t	 len, cap;
	bool	 over;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* The IP for %{i}: dotted quad, or 32 dot-separated nibbles (7.3). */
static void
ip_macro(const char *ip, char *buf, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET6, ip, a) == 1) {
		size_t k = 0;

		for (int i = 0; i < 16 && k + 4 < len; i++) {
			k += (size_t)snprintf(buf + k, len - k, "%s%x.%x",
			    i ? "." : "", a[i] >> 4, a[i] & 15);
		}
		return;
	}
	snprintf(buf, len, "%s", ip);
}

/* One macro's value, transformed: split at delims, reversed, the
   rightmost n parts, joined with '.', URL-escaped when upper-case. */
static void
expand_one(struct out *o, const char *value, unsigned n, bool rev,
    const char *delims, bool upper)
{
	const char *parts[256];
	size_t plen[256], np = 0, first;
	const char *p = value;
	char dl[16];

	snprintf(dl, sizeof(dl), "%s", *delims ? delims : ".");
	for (;;) {
		size_t l = strcspn(p, dl);

		if (np < 256) {
			parts[np] = p;
			plen[np++] = l;
		}
		if (p[l] == '\0')
			break;
		p += l + 1;
	}
	if (rev)
		for (size_t i = 0; i < np / 2; i++) {
			const char *t = parts[i];
			size_t tl = plen[i];

			parts[i] = parts[np - 1 - i];
			plen[i] = plen[np - 1 - i];
			parts[np - 1 - i] = t;
			plen[np - 1 - i] = tl;
		}
	first = n > 0 && n < np ? np - n : 0;
	for (size_t i = first; i < np; i++) {
		if (i > first)
			out_add(o, ".", 1);
		if (!upper) {
			out_add(o, parts[i], plen[i]);
			continue;
		}
		for (size_t k = 0; k < plen[i]; k++) {
			unsigned char c = (unsigned char)parts[i][k];
			char hex[4];

			if (isalnum(c) || strchr("-._~", c) != NULL)
				out_add(o, (const char *)&parts[i][k], 1);
			else {
				snprintf(hex, sizeof(hex), "%%%02X", c);
				out_add(o, hex, 3);
			}
		}
	}
}

int
spf_expand(const char *ms, const char *sender, const char *domain,
    const char *ip, const char *helo, bool is_exp, char *outbuf,
    size_t outlen, char *err, size_t errlen)
{
	struct out o = { outbuf, 0, outlen, false };
	const char *at = strrchr(sender, '@');
	char local[128], ipm[80];
	size_t n = strlen(ms);

	if (outlen == 0)
		return -1;
	outbuf[0] = '\0';
	if (macro_check(ms, n, is_exp, err, errlen) == -1)
		return -1;
	/* 4.3: a sender without a local-part is postmaster */
	if (at == NULL || at == sender)
		snprintf(local, sizeof(local), "postmaster");
	else
		snprintf(local, sizeof(local), "%.*s", (int)(at - sender),
		    sender);
	for (size_t i = 0; i < n; i++) {
		const char *v;
		char letter, delims[8];
		unsigned digits = 0;
		bool rev = false, upper;
		size_t nd = 0;

		if (ms[i] != '%') {
			out_add(&o, &ms[i], 1);
			continue;
		}
		i++;
		if (ms[i] == '%' || ms[i] == '_' || ms[i] == '-') {
			out_add(&o, ms[i] == '%' ? "%" : ms[i] == '_' ? " " :
			    "%20", ms[i] == '-' ? 3 : 1);
			continue;
		}
		letter = ms[i + 1];		/* after '{' */
		upper = isupper((unsigned char)letter);
		i += 2;
		while (isdigit((unsigned char)ms[i]))
			digits = digits * 10 + (unsigned)(ms[i++] - '0');
		if (ms[i] == 'r' || ms[i] == 'R') {
			rev = true;
			i++;
		}
		while (ms[i] != '}' && nd + 1 < sizeof(delims))
			delims[nd++] = ms[i++];
		delims[nd] = '\0';
		while (ms[i] != '}')
			i++;
		switch (tolower((unsigned char)letter)) {
		case 's': v = sender; break;
		case 'l': v = local; break;
		case 'o': v = at != NULL ? at + 1 : sender; break;
		case 'd': v = domain; break;
		case 'i': ip_macro(ip, ipm, sizeof(ipm)); v = ipm; break;
		case 'p': v = "unknown"; break;
		case 'v': v = strchr(ip, ':') ? "ip6" : "in-addr"; break;
		case 'h': v = helo != NULL ? helo : at ? at + 1 : sender;
			break;
		case 'c': v = ip; break;
		case 'r': v = "unknown"; break;
		default: v = "0"; break;	/* 't' */
		}
		expand_one(&o, v, digits, rev, delims, upper);
	}
	if (o.over) {
		snprintf(err, errlen, "the expansion of %s is too long", ms);
		return -1;
	}
	if (!is_exp) {
		/* 4.8: over 253 octets, drop labels on the left */
		char *p = outbuf;

		while (strlen(p) > 253 && strchr(p, '.') != NULL)
			p = strchr(p, '.') + 1;
		memmove(outbuf, p, strlen(p) + 1);
		if (strlen(outbuf) > 253) {
			snprintf(err, errlen, "the expansion of %.60s is a "
			    "label of over 253 octets", ms);
			return -1;
		}
	}
	return 0;
}

/* ---- parsing (12) ---------------------------------------------------- */

/* "/N" with N in 0..max and no leading zero: its value, or -1 */
static int
cidr_len(const char *s, size_t n, int max)
{
	int v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* The domain-end of a domain-spec: a macro, or a top label that is not
   all digits (12). */
static bool
domain_end_ok(const char *s, size_t n)
{
	size_t b;
	bool alpha = false;

	if (n > 0 && s[n - 1] == '}')
		return true;
	if (n > 0 && s[n - 1] == '.')
		n--;
	for (b = n; b > 0 && s[b - 1] != '.'; b--)
		;
	if (b == 0 || b == n)		/* need "." toplabel */
		return false;
	for (size_t i = b; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
		alpha |= isalpha((unsigned char)s[i]) != 0;
	}
	return alpha && s[b] != '-' && s[n - 1] != '-';
}

static int
parse_domain_spec(const char *s, size_t n, char **out, char *err,
    size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "an empty domain");
		return -1;
	}
	if (macro_check(s, n, false, err, errlen) == -1)
		return -1;
	if (!domain_end_ok(s, n)) {
		snprintf(err, errlen, "%.*s is not a domain name", (int)n, s);
		return -1;
	}
	if ((*out = xstrndup(s, n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static bool
is_name(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-_.", s[i]) ==
		    NULL)
			return false;
	return true;
}

static int
parse_term(struct spf_record *r, const char *s, size_t n, char *err,
    size_t errlen)
{
	struct spf_term *t;
	const char *eq = memchr(s, '=', n), *arg;
	size_t i, nl, an;

	/* a modifier: name "=" macro-string */
	if (eq != NULL && is_name(s, (size_t)(eq - s))) {
		size_t kl = (size_t)(eq - s), vl = n - kl - 1;
		char **slot = NULL;

		if (kl == 8 && strncasecmp(s, "redirect", 8) == 0)
			slot = &r->redirect;
		else if (kl == 3 && strncasecmp(s, "exp", 3) == 0)
			slot = &r->exp;
		if (slot == NULL)	/* unknown modifiers are ignored */
			return macro_check(eq + 1, vl, false, err, errlen);
		if (*slot != NULL) {
			snprintf(err, errlen, "%.*s= appears twice", (int)kl,
			    s);
			return -1;
		}
		if (parse_domain_spec(eq + 1, vl, slot, err, errlen) == -1) {
			size_t h = strlen(err);

			snprintf(err + h, errlen - h, " in %.*s", (int)n, s);
			return -1;
		}
		return 0;
	}
	if (r->nterms == MAX_TERMS) {
		snprintf(err, errlen, "more than %d terms", MAX_TERMS);
		return -1;
	}
	t = &r->terms[r->nterms];
	memset(t, 0, sizeof(*t));
	t->qual = '+';
	i = 0;
	if (strchr("+-~?", s[0]) != NULL) {
		t->qual = s[0];
		i = 1;
	}
	for (nl = 0; i + nl < n && isalnum((unsigned char)s[i + nl]); nl++)
		;
	for (t->mech = M_ALL; t->mech <= M_EXISTS; t->mech++)
		if (strlen(mech_names[t->mech]) == nl &&
		    strncasecmp(s + i, mech_names[t->mech], nl) == 0)
			break;
	if (t->mech > M_EXISTS) {
		snprintf(err, errlen, "unknown mechanism %.*s", (int)n, s);
		return -1;
	}
	arg = s + i + nl;
	an = n - i - nl;
	t->cidr4 = 32;
	t->cidr6 = 128;
	switch (t->mech) {
	case M_ALL:
		if (an != 0)
			goto bad;
		break;
	case M_INCLUDE:
	case M_EXISTS:
		if (an < 2 || arg[0] != ':' || parse_domain_spec(arg + 1, an -
		    1, &t->arg, err, errlen) == -1)
			goto bad;
		break;
	case M_A:
	case M_MX:
	case M_PTR: {
		/* dual-cidr-length from the end: "//N6" then "/N4" */
		const char *sl;
		size_t dl;

		if (t->mech != M_PTR) {
			for (sl = arg + an; sl > arg && isdigit((unsigned char)
			    sl[-1]); sl--)
				;
			if (sl - arg >= 2 && sl[-1] == '/' && sl[-2] == '/' &&
			    sl < arg + an) {
				if ((t->cidr6 = cidr_len(sl, (size_t)(arg +
				    an - sl), 128)) < 0)
					goto bad;
				an = (size_t)(sl - 2 - arg);
			}
			for (sl = arg + an; sl > arg && isdigit((unsigned char)
			    sl[-1]); sl--)
				;
			if (sl - arg >= 1 && sl[-1] == '/' && sl < arg + an &&
			    (sl - arg < 2 || sl[-2] != '/')) {
				if ((t->cidr4 = cidr_len(sl, (size_t)(arg +
				    an - sl), 32)) < 0)
					goto bad;
				an = (size_t)(sl - 1 - arg);
			}
		}
		dl = an;
		if (dl == 0)
			break;
		if (arg[0] != ':' || parse_domain_spec(arg + 1, dl - 1,
		    &t->arg, err, errlen) == -1)
			goto bad;
		break;
	}
	case M_IP4:
	case M_IP6: {
		char ipb[64];
		const char *sl;
		size_t il;

		if (an < 2 || arg[0] != ':')
			goto bad;
		arg++;
		an--;
		sl = memchr(arg, '/', an);
		il = sl != NULL ? (size_t)(sl - arg) : an;
		if (il == 0 || il >= sizeof(ipb))
			goto bad;
		memcpy(ipb, arg, il);
		ipb[il] = '\0';
		if (inet_pton(t->mech == M_IP4 ? AF_INET : AF_INET6, ipb,
		    t->addr) != 1)
			goto bad;
		if (sl != NULL) {
			int v = cidr_len(sl + 1, (size_t)(arg + an - sl - 1),
			    t->mech == M_IP4 ? 32 : 128);

			if (v < 0)
				goto bad;
			if (t->mech == M_IP4)
				t->cidr4 = v;
			else
				t->cidr6 = v;
		}
		break;
	}
	}
	if ((t->text = xstrndup(s, n)) == NULL) {
		free(t->arg);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->nterms++;
	return 0;
bad:
	free(t->arg);
	t->arg = NULL;
	if (err[0] == '\0')
		snprintf(err, errlen, "%.*s is not valid", (int)n, s);
	else {
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%.*s: %s", (int)(n > 100 ? 100 : n), s,
		    tmp);
	}
	return -1;
}

int
spf_parse(const char *txt, struct spf_record *r, char *err, size_t errlen)
{
	const char *p;

	memset(r, 0, sizeof(*r));
	if (errlen > 0)
		err[0] = '\0';
	if (!spf_is_record(txt)) {
		snprintf(err, errlen, "does not start with v=spf1");
		return -1;
	}
	if ((r->terms = calloc(MAX_TERMS, sizeof(*r->terms))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (p = txt + 6; *p != '\0';) {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " ");
		if (parse_term(r, p, n, err, errlen) == -1) {
			spf_record_free(r);
			return -1;
		}
		p += n;
	}
	return 0;
}

/* ---- evaluation (4, 5) ----------------------------------------------- */

struct ip {
	int	 v6;
	unsigned char a[16];
};

static bool
prefix_match(const unsigned char *x, const unsigned char *y, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(x, y, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((x[whole] ^ y[whole]) & (0xff << (8 - rest))) == 0;
}

static bool
addr_match(const struct ip *ip, const char *text, int cidr4, int cidr6)
{
	unsigned char a[16];

	if (inet_pton(ip->v6 ? AF_INET6 : AF_INET, text, a) != 1)
		return false;
	return prefix_match(ip->a, a, ip->v6 ? cidr6 : cidr4);
}

struct ctx {
	struct spf_eval *ev;
	struct ip ip;
	const char *ipstr;
	const char *sender;
	int	 depth;
};

/* A lookup that counts void answers; DNSQ_* */
static int
lookup(struct ctx *c, const char *name, int type, char ***v, bool count_void)
{
	char err[300];
	int rc = c->ev->lookup(c->ev->ctx, name, type, v, err, sizeof(err));

	if (rc == DNSQ_ERROR) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s", err);
		return rc;
	}
	if (rc != DNSQ_FOUND && count_void)
		c->ev->voids++;
	return rc;
}

static enum spf_result PRINTF_FN(3, 4)
permerror(struct ctx *c, enum spf_problem p, const char *fmt, ...)
{
	va_list ap;

	c->ev->problem = p;
	va_start(ap, fmt);
	vsnprintf(c->ev->why, sizeof(c->ev->why), fmt, ap);
	va_end(ap);
	return SPF_PERMERROR;
}

static enum spf_result check_host(struct ctx *, const char *);

/* Counts a DNS-querying term; permerror past the limit. */
static bool
count_lookup(struct ctx *c)
{
	return ++c->ev->lookups <= SPF_MAX_LOOKUPS;
}

/* Whether any address of name (A or AAAA, as the client's) matches. */
static int
match_addrs(struct ctx *c, const char *name, int cidr4, int cidr6,
    bool count_void, bool *match_r)
{
	char **v = NULL;
	int rc = lookup(c, name, c->ip.v6 ? DNSQ_AAAA : DNSQ_A, &v,
	    count_void);

	*match_r = false;
	if (rc == DNSQ_ERROR)
		return -1;
	for (size_t i = 0; v != NULL && v[i] != NULL && !*match_r; i++)
		*match_r = addr_match(&c->ip, v[i], cidr4, cidr6);
	strv_free(v);
	return 0;
}

static char *
reverse_name(const struct ip *ip, char *buf, size_t len)
{
	size_t k = 0;

	if (ip->v6) {
		for (int i = 15; i >= 0 && k < len; i--)
			k += (size_t)snprintf(buf + k, len - k, "%x.%x.",
			    ip->a[i] & 15, ip->a[i] >> 4);
		snprintf(buf + (k < len ? k : len - 1), len - (k < len ? k :
		    len - 1), "ip6.arpa");
	} else
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", ip->a[3],
		    ip->a[2], ip->a[1], ip->a[0]);
	return buf;
}

static bool
name_within(const char *name, const char *target)
{
	size_t n = strlen(name), t = strlen(target);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.' &&
	    strncasecmp(name + n - t, target, t) == 0;
}

/* 1 match, 0 none, -1 temperror, -2 permerror (why set) */
static int
eval_term(struct ctx *c, const struct spf_term *t, const char *domain)
{
	char target[300], err[300], **v = NULL;
	bool m = false;
	int rc;

	if (t->arg != NULL && spf_expand(t->arg, c->sender, domain, c->ipstr,
	    c->ev->helo, false, target, sizeof(target), err, sizeof(err)) ==
	    -1) {
		permerror(c, SPF_PROB_SYNTAX, "%s: %s", t->text, err);
		return -2;
	}
	if (t->arg == NULL)
		snprintf(target, sizeof(target), "%s", domain);
	switch (t->mech) {
	case M_ALL:
		return 1;
	case M_IP4:
		return !c->ip.v6 && prefix_match(c->ip.a, t->addr, t->cidr4);
	case M_IP6:
		return c->ip.v6 && prefix_match(c->ip.a, t->addr, t->cidr6);
	default:
		break;
	}
	if (!count_lookup(c)) {
		permerror(c, SPF_PROB_LOOKUPS, "more than 10 DNS lookups "
		    "(include, a, mx, ptr, exists, redirect): %s is the "
		    "11th", t->text);
		return -2;
	}
	switch (t->mech) {
	case M_INCLUDE: {
		enum spf_result r = check_host(c, target);

		if (r == SPF_PASS)
			return 1;
		if (r == SPF_TEMPERROR)
			return -1;
		if (r == SPF_NONE) {
			permerror(c, SPF_PROB_TARGET, "include:%s names a "
			    "domain without an SPF record", target);
			return -2;
		}
		if (r == SPF_PERMERROR)
			return -2;
		return 0;
	}
	case M_A:
		if (match_addrs(c, target, t->cidr4, t->cidr6, true, &m) ==
		    -1)
			return -1;
		break;
	case M_MX:
		rc = lookup(c, target, DNSQ_MX, &v, true);
		if (rc == DNSQ_ERROR)
			return -1;
		for (size_t i = 0; v != NULL && v[i] != NULL && !m; i++) {
			if (i == SPF_MAX_MX) {
				strv_free(v);
				permerror(c, SPF_PROB_MX, "mx: %s has more than "
				    "10 MX names", target);
				return -2;
			}
			if (v[i][0] == '\0')	/* null MX */
				continue;
			if (match_addrs(c, v[i], t->cidr4, t->cidr6, false,
			    &m) == -1) {
				strv_free(v);
				return -1;
			}
		}
		strv_free(v);
		break;
	case M_PTR: {
		char rev[128];

		/* 5.5: errors while validating names are no match */
		if (lookup(c, reverse_name(&c->ip, rev, sizeof(rev)),
		    DNSQ_PTR, &v, true) == DNSQ_ERROR)
			return 0;
		for (size_t i = 0; v != NULL && v[i] != NULL && i < 10 && !m;
		    i++) {
			bool ok = false;

			if (name_within(v[i], target) && match_addrs(c, v[i],
			    32, 128, false, &ok) == 0)
				m = ok;
		}
		strv_free(v);
		break;
	}
	case M_EXISTS: {
		rc = lookup(c, target, DNSQ_A, &v, true);
		strv_free(v);
		if (rc == DNSQ_ERROR)
			return -1;
		m = rc == DNSQ_FOUND;
		break;
	}
	default:
		break;
	}
	if (c->ev->voids > SPF_MAX_VOID) {
		permerror(c, SPF_PROB_VOID, "more than 2 lookups found nothing "
		    "(the last: %s)", t->text);
		return -2;
	}
	return m;
}

static enum spf_result
qual_result(char q)
{
	switch (q) {
	case '-': return SPF_FAIL;
	case '~': return SPF_SOFTFAIL;
	case '?': return SPF_NEUTRAL;
	}
	return SPF_PASS;
}

/* 4.3: a multi-label name, no empty label, none over 63 octets */
static bool
domain_ok(const char *d)
{
	size_t n = strlen(d), lab = 0, dots = 0;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (d[i] != '.') {
			if (++lab > 63)
				return false;
			continue;
		}
		if (lab == 0)
			return false;
		lab = 0;
		dots++;
	}
	return lab > 0 && dots > 0;
}

static enum spf_result
check_host(struct ctx *c, const char *domain)
{
	struct spf_record rec;
	char **txts = NULL, err[300];
	const char *found = NULL;
	size_t nspf = 0;
	enum spf_result r = SPF_NEUTRAL;
	int rc;

	if (!domain_ok(domain)) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s is not a domain "
		    "name", domain);
		return SPF_NONE;
	}
	if (++c->depth > MAX_DEPTH)
		return permerror(c, SPF_PROB_LOOKUPS, "includes and redirects "
		    "nested too deep (at %s)", domain);
	snprintf(c->ev->domain, sizeof(c->ev->domain), "%s", domain);
	rc = c->ev->lookup(c->ev->ctx, domain, DNSQ_TXT, &txts, err,
	    sizeof(err));
	if (rc == DNSQ_ERROR) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s", err);
		c->depth--;
		return SPF_TEMPERROR;
	}
	for (size_t i = 0; txts != NULL && txts[i] != NULL; i++)
		if (spf_is_record(txts[i])) {
			nspf++;
			found = txts[i];
		}
	if (nspf == 0) {
		snprintf(c->ev->why, sizeof(c->ev->why), "%s publishes no SPF "
		    "record", domain);
		strv_free(txts);
		c->depth--;
		return SPF_NONE;
	}
	if (nspf > 1) {
		strv_free(txts);
		return permerror(c, SPF_PROB_MULTIPLE, "%s publishes %zu "
		    "v=spf1 records: there must be exactly one", domain, nspf);
	}
	if (spf_parse(found, &rec, err, sizeof(err)) == -1) {
		strv_free(txts);
		c->ev->problem = SPF_PROB_SYNTAX;
		snprintf(c->ev->why, sizeof(c->ev->why), "the SPF record of %s "
		    "is invalid: %s", domain, err);
		return SPF_PERMERROR;
	}
	strv_free(txts);
	for (size_t i = 0; i < rec.nterms; i++) {
		int m = eval_term(c, &rec.terms[i], domain);

		if (m == -1) {
			r = SPF_TEMPERROR;
			goto out;
		}
		if (m == -2) {
			r = SPF_PERMERROR;
			goto out;
		}
		if (m == 1) {
			r = qual_result(rec.terms[i].qual);
			snprintf(c->ev->domain, sizeof(c->ev->domain), "%s",
			    domain);
			snprintf(c->ev->why, sizeof(c->ev->why), "%s matched "
			    "in the SPF record of %s", rec.terms[i].text,
			    domain);
			goto out;
		}
	}
	if (rec.redirect != NULL) {
		char target[300];

		if (!count_lookup(c)) {
			r = permerror(c, SPF_PROB_LOOKUPS, "more than 10 DNS "
			    "lookups: redirect=%s is the 11th", rec.redirect);
			goto out;
		}
		if (spf_expand(rec.redirect, c->sender, domain, c->ipstr,
		    c->ev->helo, false, target, sizeof(target), err,
		    sizeof(err)) == -1) {
			r = permerror(c, SPF_PROB_SYNTAX, "redirect=%s: %s",
			    rec.redirect, err);
			goto out;
		}
		r = check_host(c, target);
		if (r == SPF_NONE)
			r = permerror(c, SPF_PROB_TARGET, "redirect=%s names a "
			    "domain without an SPF record", target);
		goto out;
	}
	snprintf(c->ev->domain, sizeof(c->ev->domain), "%s", domain);
	snprintf(c->ev->why, sizeof(c->ev->why), "no mechanism of the SPF "
	    "record of %s matched (the default is neutral)", domain);
out:
	spf_record_free(&rec);
	c->depth--;
	return r;
}

enum spf_result
spf_check_host(struct spf_eval *ev, const char *ip, const char *domain,
    const char *sender)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.ev = ev;
	c.ipstr = ip;
	c.sender = sender;
	ev->lookups = ev->voids = 0;
	ev->problem = SPF_PROB_NONE;
	ev->why[0] = ev->domain[0] = '\0';
	if (inet_pton(AF_INET, ip, c.ip.a) == 1)
		c.ip.v6 = 0;
	else if (inet_pton(AF_INET6, ip, c.ip.a) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0,
		    0, 0, 0, 0xff, 0xff };

		c.ip.v6 = 1;
		if (memcmp(c.ip.a, mapped, 12) == 0) {	/* ::ffff:a.b.c.d */
			memmove(c.ip.a, c.ip.a + 12, 4);
			c.ip.v6 = 0;
		}
	} else {
		snprintf(ev->why, sizeof(ev->why), "%s is not an IP address",
		    ip);
		return SPF_PERMERROR;
	}
	return check_host(&c, domain);
}
