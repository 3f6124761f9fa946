/*
 * NAME
 *	dkim - filter plugin: DKIM-sign every message (RFC 6376, RFC 8463)
 * SYNOPSIS
 *	pipeline = dkim, smtp
 *	[dkim]
 *	domain = example.org
 *	selector = s2026
 *	key = /etc/plume/dkim/rsa.pem /etc/plume/dkim/ed25519.pem
 *
 *	plume dkim keygen --domain D --selector S [--type rsa|ed25519] ...
 *	plume dkim sign --key FILE --domain D --selector S ... < MESSAGE
 *	plume dkim check [-C FILE]
 * DESCRIPTION
 *	Each [dkim] or [dkim "name"] instance in pipeline is a filter that
 *	adds one DKIM-Signature per key of its own, all over one pass of
 *	the body (dkim_sign.c): key = rsa.pem ed25519.pem dual-signs, and
 *	so do two instances.  The algorithm follows the key.  selector is
 *	one name for every key, or one per key in the order of key.
 *
 *	The signing table is the instances themselves: each signs the
 *	messages whose From domain (sign_by = from, the default) or
 *	envelope sender domain (sign_by = sender; the null sender falls
 *	back to From) matches its match_from_domain list: "example.org"
 *	exactly, "*.example.org" any domain below it, "*" anything.  The
 *	default is domain and the domains below it, which is what DMARC's
 *	relaxed alignment accepts.  A From field with several mailboxes
 *	matches only when every one of them does; a message with no From
 *	field, or more than one, matches nothing.
 *
 *	A message that no instance has a key for is handled once, by the
 *	last instance started (instances start in pipeline order and all
 *	of them live in this module, so each sees the others): it is
 *	logged and passed on unsigned, or refused (permanently) when any
 *	instance says unsigned = refuse.  An instance never refuses mail
 *	that another instance signs.
 *
 *	Keys are loaded at init, so a missing, unreadable, world-readable
 *	or unusable key stops plume at start with the reason; an RSA key
 *	under 2048 bits is logged as a warning.
 *
 *	Signing failures (a read error on the spool, OpenSSL) defer the
 *	message (451 4.3.0): it is never sent unsigned by accident.
 * DIAGNOSTICS
 *	Through host->log(): one info line per signed message, a notice
 *	per message passed on unsigned, an error per failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "dkim.h"
#include "dkim_sign.h"
#include "dkim_util.h"

#define MAX_FROM	16	/* mailboxes in one From field */

static const struct plume_conf_key dkim_keys[] = {
	{ "domain", PLUME_CONF_STRING, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "the signing domain (d=)" },
	{ "selector", PLUME_CONF_LIST, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "selector (s=): one for every key, or one per key in order" },
	{ "key", PLUME_CONF_LIST, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "private key files (absolute names): one signature each" },
	{ "canonicalization", PLUME_CONF_ENUM, 0, "relaxed/relaxed",
	    "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple|"
	    "relaxed|simple", 0, 0, "header/body canonicalization (c=)" },
	{ "headers", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0,
	    "fields signed when present (default: RFC 6376 5.4.1's and "
	    "MIME's)" },
	{ "oversign", PLUME_CONF_LIST, 0, "From To Cc Subject Date Reply-To "
	    "Message-ID MIME-Version Content-Type List-Unsubscribe", NULL,
	    0, 0, "fields signed once more, so none can be added; none: "
	    "no oversigning" },
	{ "body_length", PLUME_CONF_BOOL, 0, "no", NULL, 0, 0,
	    "add l= (lets anyone append to the body: see plume-dkim(5))" },
	{ "expire", PLUME_CONF_DURATION, 0, "0", NULL, 0, 0,
	    "signatures expire after this long (x=); 0: never" },
	{ "match_from_domain", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0,
	    "domains signed: example.org, *.example.org or * (default: "
	    "domain and below)" },
	{ "sign_by", PLUME_CONF_ENUM, 0, "from", "from|sender", 0, 0,
	    "choose by the From domain or the envelope sender's" },
	{ "unsigned", PLUME_CONF_ENUM, 0, "pass", "pass|refuse", 0, 0,
	    "mail no instance has a key for: pass it on, or refuse it" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

/* The started instances, in start (pipeline) order. */
static struct dkim *started;

static bool
list_has(const char *const *list, const char *name)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcasecmp(list[i], name) == 0)
			return true;
	return false;
}

static bool
pattern_ok(const char *p)
{
	if (strcmp(p, "*") == 0)
		return true;
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	return dkim_selector_ok(p);
}

/*
 * Reads and checks an instance's keys (without loading the key files).
 * Used by init and by the subcommands, which get an instance that is
 * configured but not started.
 */
int
dkim_configure(const struct plume_host *h, struct plume_inst *in,
    struct dkim *d, char *err, size_t errlen)
{
	const char *const *sel;
	const char *canon, *v;
	size_t nsel = 0;

	memset(d, 0, sizeof(*d));
	d->h = h;
	d->in = in;
	d->domain = h->conf_string(in, "domain");
	d->key_paths = h->conf_list(in, "key");
	sel = h->conf_list(in, "selector");
	if (d->domain == NULL || d->key_paths == NULL || sel == NULL) {
		snprintf(err, errlen, "no [dkim] section with domain, "
		    "selector and key");
		return -1;
	}
	if (!dkim_domain_ok(d->domain)) {
		snprintf(err, errlen, "domain %s is not a domain name "
		    "(letters, digits, '-', in the xn-- form if need be)",
		    d->domain);
		return -1;
	}
	while (d->key_paths[d->nkeys] != NULL)
		d->nkeys++;
	while (sel[nsel] != NULL)
		nsel++;
	if (nsel != 1 && nsel != d->nkeys) {
		snprintf(err, errlen, "selector names %zu selectors for %zu "
		    "keys: give one for all, or one per key", nsel, d->nkeys);
		return -1;
	}
	if ((d->selectors = calloc(d->nkeys + 1, sizeof(char *))) == NULL)
		goto oom;
	for (size_t i = 0; i < d->nkeys; i++) {
		const char *s = sel[nsel == 1 ? 0 : i];

		if (!dkim_selector_ok(s)) {
			snprintf(err, errlen, "selector %s is not a DNS label "
			    "(letters, digits, '-', '_', dots)", s);
			goto fail;
		}
		if (d->key_paths[i][0] != '/') {
			snprintf(err, errlen, "key %s: give the key file's "
			    "absolute name", d->key_paths[i]);
			goto fail;
		}
		if ((d->selectors[i] = dkim_strdup(s)) == NULL)
			goto oom;
	}
	canon = h->conf_string(in, "canonicalization");
	if (dkim_canon_parse(canon, &d->hc, &d->bc) == -1) {
		snprintf(err, errlen, "canonicalization %s is unknown", canon);
		goto fail;
	}
	d->sign = h->conf_list(in, "headers");
	if (d->sign == NULL)
		d->sign = dkim_default_headers;
	d->oversign = h->conf_list(in, "oversign");
	if (d->oversign != NULL && d->oversign[0] != NULL &&
	    d->oversign[1] == NULL && strcasecmp(d->oversign[0], "none") == 0)
		d->oversign = NULL;
	if (!list_has(d->sign, "From")) {
		snprintf(err, errlen, "headers must name From: a signature "
		    "that does not cover it is ignored (RFC 6376 5.4)");
		goto fail;
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *const *l = pass == 0 ? d->sign : d->oversign;

		for (size_t i = 0; l != NULL && l[i] != NULL; i++)
			if (!dkim_hdrname_ok(l[i]) ||
			    strcasecmp(l[i], "DKIM-Signature") == 0) {
				snprintf(err, errlen, "%s: %s cannot be signed",
				    pass == 0 ? "headers" : "oversign", l[i]);
				goto fail;
			}
	}
	d->match = h->conf_list(in, "match_from_domain");
	if (d->match == NULL) {
		size_t n = strlen(d->domain) + 3;

		if ((d->match_own[0] = dkim_strdup(d->domain)) == NULL ||
		    (d->match_own[1] = malloc(n)) == NULL)
			goto oom;
		snprintf(d->match_own[1], n, "*.%s", d->domain);
		d->match = (const char *const *)d->match_own;
	}
	for (size_t i = 0; d->match[i] != NULL; i++)
		if (!pattern_ok(d->match[i])) {
			snprintf(err, errlen, "match_from_domain: %s is "
			    "neither a domain, *.domain nor *", d->match[i]);
			goto fail;
		}
	v = h->conf_string(in, "sign_by");
	d->by_sender = v != NULL && strcmp(v, "sender") == 0;
	v = h->conf_string(in, "unsigned");
	d->refuse = v != NULL && strcmp(v, "refuse") == 0;
	d->body_length = h->conf_number(in, "body_length", 0) != 0;
	d->expire = h->conf_number(in, "expire", 0);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	dkim_unconfigure(d);
	return -1;
}

void
dkim_unconfigure(struct dkim *d)
{
	for (size_t i = 0; d->keys != NULL && i < d->nkeys; i++)
		dkim_key_free(d->keys[i]);
	free(d->keys);
	d->keys = NULL;
	dkim_strv_free(d->selectors);
	d->selectors = NULL;
	for (size_t i = 0; i < 3; i++) {
		free(d->match_own[i]);
		d->match_own[i] = NULL;
	}
}

/* ---- the signing table ----------------------------------------------- */

static bool
domain_matches(const char *pat, const char *dom)
{
	size_t pl, dl;

	if (strcmp(pat, "*") == 0)
		return true;
	if (strncmp(pat, "*.", 2) != 0)
		return strcasecmp(pat, dom) == 0;
	pat += 1;			/* ".example.org" */
	pl = strlen(pat);
	dl = strlen(dom);
	return dl > pl && strcasecmp(dom + dl - pl, pat) == 0;
}

/*
 * The domains a message is to be signed for: the envelope sender's, or
 * those of its From field.  0 and a reason in why when there is none.
 */
static int
msg_domains(const struct dkim *d, struct plume_msg *m,
    char (*doms)[DKIM_DOMAIN_MAX + 1], char *why, size_t whylen)
{
	const struct plume_host *h = d->h;
	const char *sender = h->msg_sender(m), *at, *raw;
	size_t name_len = 0;
	long idx;
	int n;

	if (d->by_sender && sender[0] != '\0') {
		if ((at = strrchr(sender, '@')) == NULL || at[1] == '\0' ||
		    strlen(at + 1) > DKIM_DOMAIN_MAX) {
			snprintf(why, whylen, "no domain in the sender %s",
			    sender);
			return 0;
		}
		snprintf(doms[0], DKIM_DOMAIN_MAX + 1, "%s", at + 1);
		for (char *p = doms[0]; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		return 1;
	}
	if ((idx = h->header_find(m, "From", 0)) < 0) {
		snprintf(why, whylen, "no From field");
		return 0;
	}
	if (h->header_find(m, "From", 1) >= 0) {
		snprintf(why, whylen, "more than one From field");
		return 0;
	}
	raw = h->header_get(m, (size_t)idx, &name_len);
	if ((raw = strchr(raw, ':')) == NULL ||
	    (n = dkim_addr_domains(raw + 1, strlen(raw + 1), doms,
	    MAX_FROM)) <= 0) {
		snprintf(why, whylen, "no domain in the From field");
		return 0;
	}
	return n;
}

static bool
instance_matches(const struct dkim *d, struct plume_msg *m, char *why,
    size_t whylen)
{
	char doms[MAX_FROM][DKIM_DOMAIN_MAX + 1];
	int n = msg_domains(d, m, doms, why, whylen);

	if (n == 0)
		return false;
	for (int i = 0; i < n; i++) {
		bool hit = false;

		for (size_t k = 0; !hit && d->match[k] != NULL; k++)
			hit = domain_matches(d->match[k], doms[i]);
		if (!hit) {
			snprintf(why, whylen, "no key for %s domain %.255s",
			    d->by_sender && d->h->msg_sender(m)[0] != '\0' ?
			    "sender" : "From", doms[i]);
			return false;
		}
	}
	return true;
}

/* ---- the filter ------------------------------------------------------ */

static int
sign_message(struct dkim *d, struct plume_msg *m, struct plume_reply *r)
{
	const struct plume_host *h = d->h;
	struct dkim_sig_opts o;
	char err[512], **hl;
	int rc;

	if ((hl = dkim_hlist(h, m, d->sign, d->oversign)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		rc = -1;
	} else {
		memset(&o, 0, sizeof(o));
		o.domain = d->domain;
		o.hcanon = d->hc;
		o.bcanon = d->bc;
		o.now = h->now();
		o.expire = d->expire;
		o.body_length = d->body_length;
		o.hnames = (const char *const *)hl;
		rc = dkim_sign_msg(h, m, &o, d->keys, d->nkeys, err,
		    sizeof(err));
		dkim_strv_free(hl);
	}
	if (rc == -1) {
		h->log(d->in, PLUME_LOG_ERR, "not signed: %s", err);
		snprintf(d->reply, sizeof(d->reply), "DKIM signing failed: %s",
		    err);
		r->status = PLUME_TEMPFAIL;
		r->code = 451;
		r->enhanced = "4.3.0";
		r->text = d->reply;
		return PLUME_TEMPFAIL;
	}
	for (size_t i = 0; i < d->nkeys; i++)
		h->log(d->in, PLUME_LOG_INFO, "signed: d=%s s=%s a=%s",
		    d->domain, d->keys[i]->selector,
		    dkim_alg_name(d->keys[i]->alg));
	return PLUME_OK;
}

/* Whether instance x signs the copies taking m's route (the core's
   "routes" key; ABI 1.7): only those instances are asked about m. */
static bool
acts_here(const struct dkim *x, struct plume_msg *m)
{
	const struct plume_host *h = x->h;
	const char *const *routes;
	const char *route;

	if (PLUME_ABI_GET_MINOR(h->abi_version) < 7 ||
	    (routes = h->conf_list(x->in, "routes")) == NULL)
		return true;
	route = h->msg_param(m, PLUME_PARAM_ROUTE);
	for (size_t i = 0; route != NULL && routes[i] != NULL; i++)
		if (strcmp(routes[i], route) == 0)
			return true;
	return false;
}

static int
dkim_filter(void *state, struct plume_msg *m, struct plume_reply *r)
{
	struct dkim *d = state, *x;
	char why[400], other[400];
	bool refuse = false;

	if (instance_matches(d, m, why, sizeof(why)))
		return sign_message(d, m, r);
	/* mail no instance of this route signs is the last one's to deal
	   with */
	for (x = d->next; x != NULL; x = x->next)
		if (acts_here(x, m))
			return PLUME_OK;
	for (x = started; x != NULL; x = x->next) {
		if (!acts_here(x, m))
			continue;
		if (x != d && instance_matches(x, m, other, sizeof(other)))
			return PLUME_OK;
		refuse = refuse || x->refuse;
	}
	if (!refuse) {
		d->h->log(d->in, PLUME_LOG_NOTICE, "passed on unsigned: %s",
		    why);
		return PLUME_OK;
	}
	d->h->log(d->in, PLUME_LOG_NOTICE, "refused unsigned: %s", why);
	snprintf(d->reply, sizeof(d->reply), "not signed: %s (dkim: "
	    "unsigned = refuse)", why);
	r->status = PLUME_PERMFAIL;
	r->code = 550;
	r->enhanced = "5.7.1";
	r->text = d->reply;
	return PLUME_PERMFAIL;
}

static int
dkim_explain(void *state, struct plume_msg *m, char *buf, size_t len)
{
	struct dkim *d = state;
	char why[400];
	size_t n;

	if (!instance_matches(d, m, why, sizeof(why))) {
		snprintf(buf, len, "does not sign: %s", why);
		return 0;
	}
	n = (size_t)snprintf(buf, len, "signs d=%s with", d->domain);
	for (size_t i = 0; i < d->nkeys && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s s=%s %s (%s)",
		    i > 0 ? "," : "", d->keys[i]->selector,
		    dkim_alg_name(d->keys[i]->alg),
		    d->keys[i]->path != NULL ? d->keys[i]->path : "");
	return 1;
}

/* ---- instance -------------------------------------------------------- */

static int
dkim_init(const struct plume_host *h, struct plume_inst *in, void **state_r,
    const char **error_r)
{
	static char err[700];
	struct dkim *d, **tail;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (dkim_configure(h, in, d, err, sizeof(err)) == -1)
		goto fail;
	if ((d->keys = calloc(d->nkeys, sizeof(*d->keys))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < d->nkeys; i++) {
		struct dkim_key *k;

		if ((k = dkim_key_load(d->key_paths[i], err,
		    sizeof(err))) == NULL)
			goto fail;
		d->keys[i] = k;
		if ((k->selector = dkim_strdup(d->selectors[i])) == NULL) {
			snprintf(err, sizeof(err), "out of memory");
			goto fail;
		}
		if (k->alg == DKIM_ALG_RSA_SHA256 &&
		    k->bits < DKIM_RSA_WARN_BITS)
			h->log(in, PLUME_LOG_WARNING, "key %s is RSA of %d "
			    "bits: RFC 8301 asks for 2048 or more, and some "
			    "receivers ignore shorter keys", k->path, k->bits);
	}
	for (tail = &started; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = d;
	*state_r = d;
	return 0;
fail:
	dkim_unconfigure(d);
	free(d);
	*error_r = err;
	return -1;
}

static void
dkim_shutdown(void *state)
{
	struct dkim *d = state, **p;

	if (d == NULL)
		return;
	for (p = &started; *p != NULL; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	dkim_unconfigure(d);
	OPENSSL_cleanse(d->reply, sizeof(d->reply));
	free(d);
}

static const struct plume_filter_ops dkim_filter_ops = {
	.struct_size = sizeof(struct plume_filter_ops),
	.filter = dkim_filter,
	.explain = dkim_explain,
};

static const struct plume_command dkim_commands[] = {
	{ "keygen", "keygen --domain D --selector S [--type rsa|ed25519] "
	    "[--bits N] [--out FILE]",
	    "make a key and print the DNS record to publish",
	    dkim_cmd_keygen },
	{ "sign", "sign --key FILE --domain D --selector S [--headers "
	    "H1:H2:...] [--canonicalization C] [--identity I] [--time T] "
	    "< MESSAGE", "sign a message as the filter does; the signed "
	    "message goes to standard output", dkim_cmd_sign },
	{ "check", "check", "compare each configured key with its DNS "
	    "record (dns_server = HOST:PORT picks the server)",
	    dkim_cmd_check },
	{ NULL, NULL, NULL, NULL },
};

const struct plume_plugin PLUME_PLUGIN(dkim) = {
	PLUME_PLUGIN_INIT,
	.name = "dkim",
	.version = "1.0",
	.description = "DKIM-signs mail: rsa-sha256 and ed25519-sha256",
	.kinds = PLUME_KIND_FILTER,
	.conf_keys = dkim_keys,
	.init = dkim_init,
	.shutdown = dkim_shutdown,
	.filter = &dkim_filter_ops,
	.commands = dkim_commands,
	.probe = dkim_probe,
};
