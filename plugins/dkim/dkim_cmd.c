/*
 * NAME
 *	dkim_cmd.c - the DKIM plugin's subcommands: keygen, sign, check
 * SYNOPSIS
 *	plume dkim keygen --domain D --selector S [--type rsa|ed25519]
 *	    [--bits N] [--out FILE]
 *	plume dkim sign --key FILE --domain D --selector S
 *	    [--headers H1:H2:...] [--canonicalization C] [--identity I]
 *	    [--time UNIXTIME] [--expire DURATION] [--body-length] < MESSAGE
 *	plume [-C FILE] dkim check
 * DESCRIPTION
 *	keygen makes an RSA (default 2048 bits, 1024 to 4096) or Ed25519
 *	key, writes it as PKCS#8 PEM to a new file of mode 0600 (default
 *	SELECTOR.DOMAIN.pem in the current directory; an existing file is
 *	never overwritten) and prints the TXT record to publish, in zone
 *	file form, its text split into strings of at most 255 octets
 *	(RFC 1035's limit; verifiers join them, RFC 6376 3.6.2.2).
 *
 *	sign reads a message from standard input as sendmail -i does
 *	(line ends made CRLF, dots left alone), signs it with the code the
 *	filter uses and writes it, CRLF, to standard output.  --key and
 *	--selector may be repeated (one selector for all keys, or one
 *	each) to dual-sign.  --headers is the exact h= list, colon-
 *	separated; a name given more often than the message has such
 *	fields oversigns.  Without it, the filter's defaults apply (the
 *	fields of RFC 6376 5.4.1 that are present, oversigned as
 *	plume-dkim(5) says).  --time fixes t=, so that output is
 *	reproducible (RFC 8463's examples are checked so).
 *
 *	check takes every configured [dkim] instance in turn (ABI 1.3's
 *	host->inst_next; an older plume hands only the first) and looks up
 *	SELECTOR._domainkey.DOMAIN for each of its keys through the global
 *	dns_server (HOST:PORT), or the system resolver.  It prints one line
 *	per key: ok, TEST (t=y), MISMATCH, REVOKED, INVALID, MISSING (with
 *	the record to publish) or ERROR.
 *
 *	dkim_probe() is the same check for "plume doctor" (ABI 1.8's
 *	plume_plugin.probe), for each started instance, reported through
 *	host->probe_report(); an instance with a key published as it should
 *	be gives its d= to the DMARC alignment check as a fact.
 * DIAGNOSTICS
 *	Messages on standard error; sysexits.h codes: 0, EX_USAGE (64) for
 *	bad arguments, EX_DATAERR (65) for a message that cannot be signed
 *	or a key that DNS does not publish as it should, EX_CONFIG (78)
 *	for a key or configuration plume cannot use, EX_TEMPFAIL (75) when
 *	DNS did not answer, EX_CANTCREAT (73), EX_IOERR (74), EX_SOFTWARE
 *	(70).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "dkim.h"
#include "dkim_dns.h"
#include "dkim_sign.h"
#include "dkim_util.h"

#define MAX_KEYS	8

/*
 * Matches "--name VALUE" or "--name=VALUE" at argv[*i]; *val_r is NULL
 * when the value is missing.
 */
static bool
opt(int argc, char **argv, int *i, const char *name, const char **val_r)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strcmp(a, name) == 0) {
		*val_r = *i + 1 < argc ? argv[++*i] : NULL;
		return true;
	}
	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*val_r = a + n + 1;
		return true;
	}
	return false;
}

static int
usage(const char *cmd, const char *synopsis, const char *problem)
{
	if (problem != NULL)
		fprintf(stderr, "plume dkim %s: %s\n", cmd, problem);
	fprintf(stderr, "usage: plume dkim %s\n", synopsis);
	return EX_USAGE;
}

/* Seconds, with an optional s, m, h or d. */
static int
parse_duration(const char *s, long long *out)
{
	char *end;
	long long v, mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || v < 0 || errno != 0)
		return -1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > (1LL << 40) / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static void
print_zone(FILE *fp, const char *sel, const char *dom, const char *rec)
{
	size_t len = strlen(rec);

	fprintf(fp, "%s._domainkey.%s. IN TXT ( ", sel, dom);
	for (size_t off = 0; off < len; off += 255) {
		size_t n = len - off < 255 ? len - off : 255;

		fprintf(fp, "%s\"%.*s\"", off > 0 ? "\n\t" : "", (int)n,
		    rec + off);
	}
	fprintf(fp, " )\n");
}

static void
warn_short(const struct dkim_key *k)
{
	if (k->alg == DKIM_ALG_RSA_SHA256 && k->bits < DKIM_RSA_WARN_BITS)
		fprintf(stderr, "plume dkim: warning: %s is RSA of %d bits: "
		    "RFC 8301 asks for 2048 or more, and some receivers ignore "
		    "shorter keys\n", k->path != NULL ? k->path : "the key",
		    k->bits);
}

/* ---- keygen ---------------------------------------------------------- */

int
dkim_cmd_keygen(const struct plume_host *h, struct plume_inst *in, int argc,
    char **argv)
{
	static const char syn[] = "keygen --domain D --selector S "
	    "[--type rsa|ed25519] [--bits N] [--out FILE]";
	const char *domain = NULL, *selector = NULL, *type = "rsa";
	const char *bits_s = NULL, *out = NULL, *val;
	char err[600], defout[600], *rec;
	struct dkim_key *k;
	enum dkim_alg alg;
	long bits = 2048;

	for (int i = 1; i < argc; i++) {
		if (opt(argc, argv, &i, "--domain", &val))
			domain = val;
		else if (opt(argc, argv, &i, "--selector", &val))
			selector = val;
		else if (opt(argc, argv, &i, "--type", &val))
			type = val;
		else if (opt(argc, argv, &i, "--bits", &val))
			bits_s = val;
		else if (opt(argc, argv, &i, "--out", &val))
			out = val;
		else
			return usage("keygen", syn, "unknown argument");
		if (val == NULL)
			return usage("keygen", syn, "an option lacks its "
			    "value");
	}
	if (domain == NULL || selector == NULL)
		return usage("keygen", syn, "--domain and --selector are "
		    "needed");
	if (!dkim_domain_ok(domain) || !dkim_selector_ok(selector))
		return usage("keygen", syn, "--domain and --selector must be "
		    "DNS names");
	if (strcmp(type, "rsa") == 0)
		alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(type, "ed25519") == 0)
		alg = DKIM_ALG_ED25519_SHA256;
	else
		return usage("keygen", syn, "--type is rsa or ed25519");
	if (bits_s != NULL) {
		char *end;

		errno = 0;
		bits = strtol(bits_s, &end, 10);
		if (alg != DKIM_ALG_RSA_SHA256)
			return usage("keygen", syn, "--bits is for RSA keys");
		if (*end != '\0' || errno != 0 || bits < DKIM_RSA_MIN_BITS ||
		    bits > DKIM_RSA_MAX_BITS)
			return usage("keygen", syn, "--bits is 1024 to 4096 "
			    "(RFC 8301; 2048 is usual)");
	}
	if (out == NULL) {
		snprintf(defout, sizeof(defout), "%s.%s.pem", selector, domain);
		out = defout;
	}
	if ((k = dkim_key_generate(alg, (int)bits, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "plume dkim keygen: %s\n", err);
		return EX_SOFTWARE;
	}
	if (dkim_key_write(k, out, err, sizeof(err)) == -1) {
		fprintf(stderr, "plume dkim keygen: %s\n", err);
		dkim_key_free(k);
		return EX_CANTCREAT;
	}
	warn_short(k);
	if ((rec = dkim_key_record(k)) == NULL) {
		fprintf(stderr, "plume dkim keygen: cannot encode the public "
		    "key\n");
		dkim_key_free(k);
		return EX_SOFTWARE;
	}
	if (alg == DKIM_ALG_RSA_SHA256)
		fprintf(stderr, "plume dkim keygen: wrote an RSA key (%d bits) "
		    "to %s", k->bits, out);
	else
		fprintf(stderr, "plume dkim keygen: wrote an Ed25519 key to %s",
		    out);
	fprintf(stderr, " (mode 0600; if plume runs as another user, chgrp "
	    "it to plume's group and chmod 640).  Publish this record and "
	    "wait until DNS serves it before signing with the key:\n");
	print_zone(stdout, selector, domain, rec);
	free(rec);
	dkim_key_free(k);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

/* ---- sign ------------------------------------------------------------ */

/* "from:to : subject" to a vector of names; NULL if a name is bad. */
static char **
split_hlist(const char *s)
{
	char **v = calloc(strlen(s) / 2 + 2, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (const char *p = s;;) {
		const char *e = strchr(p, ':'), *a = p, *b;
		size_t len;

		if (e == NULL)
			e = p + strlen(p);
		for (b = e; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		len = (size_t)(b - a);
		if ((v[n] = malloc(len + 1)) == NULL)
			goto bad;
		memcpy(v[n], a, len);
		v[n][len] = '\0';
		if (!dkim_hdrname_ok(v[n++]))
			goto bad;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	return v;
bad:
	dkim_strv_free(v);
	return NULL;
}

static int
write_message(const struct plume_host *h, struct plume_msg *m)
{
	struct plume_stream *st = h->stream_open(m, PLUME_STREAM_MESSAGE);
	char buf[65536];
	ssize_t n = 0;

	if (st == NULL)
		return -1;
	while ((n = h->stream_read(st, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	h->stream_close(st);
	return n == 0 && fflush(stdout) == 0 ? 0 : -1;
}

int
dkim_cmd_sign(const struct plume_host *h, struct plume_inst *in, int argc,
    char **argv)
{
	static const char syn[] = "sign --key FILE --domain D --selector S "
	    "[--headers H1:H2:...] [--canonicalization relaxed/relaxed] "
	    "[--identity I] [--time UNIXTIME] [--expire DURATION] "
	    "[--body-length] < MESSAGE";
	const char *paths[MAX_KEYS], *sels[MAX_KEYS], *val;
	const char *headers = NULL, *canon = "relaxed/relaxed";
	const char *expire_s = NULL, *time_s = NULL, *merr = NULL;
	struct dkim_key *keys[MAX_KEYS];
	struct dkim_sig_opts o;
	struct plume_msg *m = NULL;
	char err[600], **hl = NULL;
	size_t nk = 0, ns = 0, loaded = 0;
	int rc = EX_OK;

	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++) {
		if (opt(argc, argv, &i, "--key", &val)) {
			if (nk == MAX_KEYS)
				return usage("sign", syn, "too many keys");
			paths[nk++] = val;
		} else if (opt(argc, argv, &i, "--selector", &val)) {
			if (ns == MAX_KEYS)
				return usage("sign", syn, "too many selectors");
			sels[ns++] = val;
		} else if (opt(argc, argv, &i, "--domain", &val))
			o.domain = val;
		else if (opt(argc, argv, &i, "--headers", &val))
			headers = val;
		else if (opt(argc, argv, &i, "--canonicalization", &val))
			canon = val;
		else if (opt(argc, argv, &i, "--identity", &val))
			o.identity = val;
		else if (opt(argc, argv, &i, "--time", &val))
			time_s = val;
		else if (opt(argc, argv, &i, "--expire", &val))
			expire_s = val;
		else if (strcmp(argv[i], "--body-length") == 0) {
			o.body_length = true;
			val = "";
		} else
			return usage("sign", syn, "unknown argument");
		if (val == NULL)
			return usage("sign", syn, "an option lacks its value");
	}
	if (nk == 0 || ns == 0 || o.domain == NULL)
		return usage("sign", syn, "--key, --domain and --selector are "
		    "needed");
	if (ns != 1 && ns != nk)
		return usage("sign", syn, "give one --selector for all keys, "
		    "or one per --key");
	if (!dkim_domain_ok(o.domain))
		return usage("sign", syn, "--domain is not a domain name");
	for (size_t i = 0; i < ns; i++)
		if (!dkim_selector_ok(sels[i]))
			return usage("sign", syn, "--selector is not a DNS "
			    "name");
	if (o.identity != NULL && !dkim_identity_ok(o.identity, o.domain))
		return usage("sign", syn, "--identity must be [local]@domain "
		    "with the domain of --domain or one below it");
	if (dkim_canon_parse(canon, &o.hcanon, &o.bcanon) == -1)
		return usage("sign", syn, "--canonicalization is H/B, each "
		    "relaxed or simple");
	if (time_s != NULL) {
		char *end;
		long long t;

		errno = 0;
		t = strtoll(time_s, &end, 10);
		if (*end != '\0' || end == time_s || t < 0 || errno != 0)
			return usage("sign", syn, "--time is seconds since "
			    "1970");
		o.now = (time_t)t;
	} else
		o.now = h->now();
	if (expire_s != NULL && (parse_duration(expire_s, &o.expire) == -1 ||
	    o.expire == 0))
		return usage("sign", syn, "--expire is a duration (600, 10m, "
		    "7d)");
	if (headers != NULL && (hl = split_hlist(headers)) == NULL)
		return usage("sign", syn, "--headers is field names separated "
		    "by ':'");
	if (!PLUME_HOST_HAS(h, msg_read)) {
		fprintf(stderr, "plume dkim sign: plume %s is too old for "
		    "this command\n", h->version);
		dkim_strv_free(hl);
		return EX_SOFTWARE;
	}
	for (loaded = 0; loaded < nk; loaded++) {
		if ((keys[loaded] = dkim_key_load(paths[loaded], err,
		    sizeof(err))) == NULL ||
		    (keys[loaded]->selector = dkim_strdup(sels[ns == 1 ? 0 :
		    loaded])) == NULL) {
			if (keys[loaded] == NULL)
				fprintf(stderr, "plume dkim sign: %s\n", err);
			else {
				fprintf(stderr, "plume dkim sign: out of "
				    "memory\n");
				loaded++;
			}
			rc = EX_CONFIG;
			goto out;
		}
		warn_short(keys[loaded]);
	}
	if ((m = h->msg_read(in, 0, 0, &merr)) == NULL) {
		fprintf(stderr, "plume dkim sign: %s\n", merr != NULL ? merr :
		    "cannot read the message");
		rc = EX_DATAERR;
		goto out;
	}
	if (hl == NULL && (hl = dkim_hlist(h, m, dkim_default_headers,
	    dkim_default_oversign)) == NULL) {
		fprintf(stderr, "plume dkim sign: out of memory\n");
		rc = EX_SOFTWARE;
		goto out;
	}
	o.hnames = (const char *const *)hl;
	if (dkim_sign_msg(h, m, &o, keys, nk, err, sizeof(err)) == -1) {
		fprintf(stderr, "plume dkim sign: %s\n", err);
		rc = EX_DATAERR;
		goto out;
	}
	if (write_message(h, m) == -1) {
		fprintf(stderr, "plume dkim sign: cannot write the message: "
		    "%s\n", strerror(errno));
		rc = EX_IOERR;
	}
out:
	if (m != NULL)
		h->msg_free(m);
	dkim_strv_free(hl);
	for (size_t i = 0; i < loaded; i++)
		dkim_key_free(keys[i]);
	return rc;
}

/* ---- check ----------------------------------------------------------- */

static const char *
rec_word(enum dkim_rec r)
{
	switch (r) {
	case DKIM_REC_OK: return "ok";
	case DKIM_REC_TEST: return "TEST";
	case DKIM_REC_MISMATCH: return "MISMATCH";
	case DKIM_REC_REVOKED: return "REVOKED";
	case DKIM_REC_INVALID: return "INVALID";
	case DKIM_REC_MISSING: return "MISSING";
	case DKIM_REC_ERROR: return "ERROR";
	}
	return "?";
}

static void
check_instance(const struct plume_host *h, struct plume_inst *in,
    bool *bad_key_r, bool *bad_dns_r, bool *bad_rec_r)
{
	struct dkim d;
	const char *server;
	char err[700], name[600], why[700], *rec;
	bool bad_key = false, bad_dns = false, bad_rec = false;

	if (dkim_configure(h, in, &d, err, sizeof(err)) == -1) {
		fprintf(stderr, "plume dkim check: %s: %s\n",
		    h->instance_id(in), err);
		*bad_key_r = true;
		return;
	}
	server = h->conf_global(in, "dns_server");
	printf("%s: d=%s, DNS: %s\n", h->instance_id(in), d.domain,
	    server != NULL ? server : "the system resolver");
	for (size_t i = 0; i < d.nkeys; i++) {
		struct dkim_key *k = dkim_key_load(d.key_paths[i], err,
		    sizeof(err));
		enum dkim_rec r;

		snprintf(name, sizeof(name), "%s._domainkey.%s",
		    d.selectors[i], d.domain);
		if (k == NULL) {
			printf("%s: KEY: %s\n", name, err);
			bad_key = true;
			continue;
		}
		r = dkim_key_check(k, server, name, why, sizeof(why));
		if (k->alg == DKIM_ALG_RSA_SHA256)
			printf("%s (rsa-sha256, %d bits, %s): %s: %s\n", name,
			    k->bits, k->path, rec_word(r), why);
		else
			printf("%s (%s, %s): %s: %s\n", name,
			    dkim_alg_name(k->alg), k->path, rec_word(r), why);
		if (r == DKIM_REC_ERROR)
			bad_dns = true;
		else if (r != DKIM_REC_OK)
			bad_rec = true;
		if ((r == DKIM_REC_MISSING || r == DKIM_REC_MISMATCH ||
		    r == DKIM_REC_INVALID || r == DKIM_REC_REVOKED) &&
		    (rec = dkim_key_record(k)) != NULL) {
			printf("  publish:\n  ");
			print_zone(stdout, d.selectors[i], d.domain, rec);
			free(rec);
		}
		dkim_key_free(k);
	}
	dkim_unconfigure(&d);
	*bad_key_r |= bad_key;
	*bad_dns_r |= bad_dns;
	*bad_rec_r |= bad_rec;
}

int
dkim_cmd_check(const struct plume_host *h, struct plume_inst *in, int argc,
    char **argv)
{
	bool bad_key = false, bad_dns = false, bad_rec = false;

	if (argc > 1)
		return usage("check", "[-C FILE] dkim check", "no arguments "
		    "are taken");
	for (; in != NULL; in = PLUME_HOST_HAS(h, inst_next) ?
	    h->inst_next(in) : NULL)
		check_instance(h, in, &bad_key, &bad_dns, &bad_rec);
	if (fflush(stdout) != 0)
		return EX_IOERR;
	if (bad_key)
		return EX_CONFIG;
	if (bad_rec)
		return EX_DATAERR;
	return bad_dns ? EX_TEMPFAIL : EX_OK;
}

/* ---- doctor's probe (ABI 1.8) ------------------------------------------ */

/*
 * "plume doctor": the same comparison as check, for one started
 * instance, each key's verdict through host->probe_report(); the
 * instance's d= becomes a fact (PLUME_PROBE_DKIM_DOMAIN) for the DMARC
 * alignment check when one of its keys is published as it should be.
 */
int
dkim_probe(const struct plume_host *h, struct plume_inst *in, void *state,
    struct plume_probe *p)
{
	struct dkim *d = state;
	const char *server;
	char name[600], why[700], remedy[2400], kind[64], *rec;
	bool published = false;
	int rc = PLUME_OK;

	if (d == NULL)		/* not started: it signs nothing */
		return PLUME_OK;
	server = h->conf_global(in, "dns_server");
	for (size_t i = 0; i < d->nkeys; i++) {
		const struct dkim_key *k = d->keys[i];
		enum dkim_rec r;

		snprintf(name, sizeof(name), "%s._domainkey.%s",
		    d->selectors[i], d->domain);
		if (k->alg == DKIM_ALG_RSA_SHA256)
			snprintf(kind, sizeof(kind), "rsa-sha256, %d bits",
			    k->bits);
		else
			snprintf(kind, sizeof(kind), "%s",
			    dkim_alg_name(k->alg));
		r = dkim_key_check(k, server, name, why, sizeof(why));
		rec = dkim_key_record(k);
		snprintf(remedy, sizeof(remedy), "publish %s TXT \"%s\"%s", name,
		    rec != NULL ? rec : "(plume dkim check prints it)",
		    r == DKIM_REC_MISSING ? "" : " in place of the record "
		    "there");
		free(rec);
		switch (r) {
		case DKIM_REC_OK:
			published = true;
			h->probe_report(p, PLUME_CHECK_OK, "key", NULL, "%s: %s "
			    "(%s, %s)", name, why, kind, d->key_paths[i]);
			break;
		case DKIM_REC_TEST:
			published = true;
			snprintf(remedy, sizeof(remedy), "remove t=y from the "
			    "record at %s once signatures verify", name);
			h->probe_report(p, PLUME_CHECK_WARN, "key", remedy,
			    "%s: %s", name, why);
			rc = PLUME_TEMPFAIL;
			break;
		case DKIM_REC_MISSING:
			h->probe_report(p, PLUME_CHECK_WARN, "key", remedy,
			    "%s: no TXT record: receivers cannot verify the "
			    "signatures of %s (%s)", name, d->key_paths[i],
			    kind);
			rc = PLUME_TEMPFAIL;
			break;
		case DKIM_REC_ERROR:
			h->probe_report(p, PLUME_CHECK_WARN, "key", "check that "
			    "dns_server (or the system resolver) answers",
			    "%s", why);
			rc = PLUME_TEMPFAIL;
			break;
		default:	/* mismatch, revoked, invalid */
			h->probe_report(p, PLUME_CHECK_WARN, "key", remedy,
			    "%s: %s: receivers cannot verify the signatures "
			    "of %s", name, why, d->key_paths[i]);
			rc = PLUME_TEMPFAIL;
			break;
		}
	}
	if (published && PLUME_HOST_HAS(h, probe_fact))
		h->probe_fact(p, PLUME_PROBE_DKIM_DOMAIN, d->domain);
	return rc;
}
