/*
 * NAME
 *	dkim_util.c - growable strings, base64 and name syntax for the
 *	DKIM plugin
 * SYNOPSIS
 *	void dstr_add(s, p, n), dstr_str(s, str), dstr_fmt(s, fmt, ...)
 *	void dstr_free(s), dstr_wipe(s)
 *
 *	(encoding: b64_encode() in plugins/common/b64.c)
 *	unsigned char *dkim_b64_decode(text, len, out_len_r)
 *
 *	bool dkim_domain_ok(name), dkim_selector_ok(name)
 *	bool dkim_hdrname_ok(name)
 *
 *	int dkim_addr_domains(value, len, doms, max)
 * DESCRIPTION
 *	A plugin links nothing of plume's, so the few helpers the DKIM
 *	code shares live here.
 *
 *	dkim_b64_decode() ignores white space (DNS records and key files
 *	fold base64 freely) and wipes its scratch copy, since what it
 *	decodes may be a private key seed.
 *
 *	dkim_domain_ok() accepts what may stand in d= and in a DNS query
 *	name: dot-separated labels of letters, digits, '-' and '_' (1 to 63
 *	octets each, 253 in all), no empty label, a final dot tolerated.
 *	dkim_selector_ok() is the same.  Anything else (a space, ';', '=',
 *	non-ASCII) could change the meaning of the signature field or the
 *	query, so it is refused rather than escaped.
 *
 *	dkim_addr_domains() reads an address list as From holds it
 *	(RFC 5322 3.4: display names, angle addresses, comments, quoted
 *	strings, groups, folding) and returns the domain of each mailbox,
 *	lower-cased, without a final dot.  It decides nothing on syntax it
 *	does not need: what matters for choosing a key is the domain.
 * DIAGNOSTICS
 *	dkim_b64_*() return NULL on bad input or without memory.
 *	dkim_addr_domains() returns -1 when a mailbox has no domain, a
 *	domain is too long, there are more than max, or there is none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dkim_util.h"

void
dstr_add(struct dstr *s, const void *p, size_t n)
{
	size_t cap;
	char *np;

	if (s->oom)
		return;
	if (s->len + n + 1 > s->cap) {
		cap = s->cap ? s->cap : 256;
		while (cap < s->len + n + 1) {
			if (cap > ((size_t)-1) / 2) {
				s->oom = true;
				return;
			}
			cap *= 2;
		}
		if ((np = realloc(s->p, cap)) == NULL) {
			s->oom = true;
			return;
		}
		s->p = np;
		s->cap = cap;
	}
	if (n > 0)
		memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void
dstr_str(struct dstr *s, const char *str)
{
	dstr_add(s, str, strlen(str));
}

void
dstr_fmt(struct dstr *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		s->oom = true;	/* only short items are formatted here */
		return;
	}
	dstr_add(s, buf, (size_t)n);
}

void
dstr_free(struct dstr *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

void
dstr_wipe(struct dstr *s)
{
	if (s->p != NULL)
		OPENSSL_cleanse(s->p, s->cap);
	dstr_free(s);
}

unsigned char *
dkim_b64_decode(const char *text, size_t len, size_t *out_len_r)
{
	unsigned char *clean, *out = NULL;
	size_t n = 0, pad = 0;
	int k;

	if (len > ((size_t)1 << 30) || (clean = malloc(len + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    c == '='))
			goto out;
		/* '=' only as the last one or two characters */
		if (pad > 0 && c != '=')
			goto out;
		if (c == '=')
			pad++;
		clean[n++] = c;
	}
	if (n % 4 != 0 || pad > 2)
		goto out;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		goto out;
	if (n == 0) {
		*out_len_r = 0;
		goto out;
	}
	if ((k = EVP_DecodeBlock(out, clean, (int)n)) < 0 ||
	    (size_t)k < pad) {
		free(out);
		out = NULL;
		goto out;
	}
	*out_len_r = (size_t)k - pad;
out:
	OPENSSL_cleanse(clean, len + 1);
	free(clean);
	return out;
}

static bool
dns_name_ok(const char *s)
{
	size_t label = 0, total = strlen(s);

	if (total == 0 || total > 254 || (total == 254 && s[253] != '.'))
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

bool
dkim_domain_ok(const char *s)
{
	/* at least one dot: d= is a registered domain or below it */
	return dns_name_ok(s) && strchr(s, '.') != NULL &&
	    s[strlen(s) - 1] != '.';
}

bool
dkim_selector_ok(const char *s)
{
	return dns_name_ok(s) && s[strlen(s) - 1] != '.';
}

/* An RFC 5322 field name (printable ASCII but ':') that can stand in
   h=, whose tag value ends at ';' */
bool
dkim_hdrname_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p > 126 ||
		    *p == ':' || *p == ';')
			return false;
	return true;
}

char *
dkim_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
dkim_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The value without comments and CR/LF, each quoted string made "q"
   (its '@', ',', '<' mean nothing). */
static char *
addr_clean(const char *v, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;
	int depth = 0;
	bool quoted = false;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n')
			continue;
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				quoted = false;
				out[o++] = 'q';
			}
			continue;
		}
		if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				out[o++] = ' ';
			continue;
		}
		if (c == '"')
			quoted = true;
		else if (c == '(')
			depth = 1;
		else
			out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

static int
addr_one(char *piece, char (*doms)[DKIM_DOMAIN_MAX + 1], int n, int max)
{
	char *lt, *gt, *addr = piece, *at, *end;
	size_t dl;

	if ((lt = strchr(piece, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL)
			return -1;
		*gt = '\0';
		addr = lt + 1;
		/* an obsolete route "<@a,@b:user@domain>" */
		if (strrchr(addr, ':') != NULL)
			addr = strrchr(addr, ':') + 1;
	}
	while (*addr == ' ' || *addr == '\t')
		addr++;
	end = addr + strlen(addr);
	while (end > addr && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*addr == '\0')
		return n;		/* an empty group's nothing */
	if ((at = strrchr(addr, '@')) == NULL || n >= max)
		return -1;
	at++;
	while (*at == ' ' || *at == '\t')
		at++;
	dl = strlen(at);
	while (dl > 0 && at[dl - 1] == '.')
		dl--;
	if (dl == 0 || dl > DKIM_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < dl; i++) {
		char c = at[i];

		if (c == ' ' || c == '\t')
			return -1;
		doms[n][i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	doms[n][dl] = '\0';
	return n + 1;
}

int
dkim_addr_domains(const char *v, size_t len, char (*doms)[DKIM_DOMAIN_MAX + 1],
    int max)
{
	char *s = addr_clean(v, len), *p, *start;
	int n = 0, angle = 0;

	if (s == NULL)
		return -1;
	start = s;
	for (p = s; n >= 0; p++) {
		if (*p == '<')
			angle++;
		else if (*p == '>' && angle > 0)
			angle--;
		else if (*p == ':' && angle == 0) {
			start = p + 1;	/* a group's display name */
			continue;
		}
		if (*p != '\0' && (angle > 0 || (*p != ',' && *p != ';')))
			continue;
		{
			char end = *p;

			*p = '\0';
			n = addr_one(start, doms, n, max);
			if (end == '\0')
				break;
			start = p + 1;
		}
	}
	free(s);
	return n > 0 ? n : -1;
}
