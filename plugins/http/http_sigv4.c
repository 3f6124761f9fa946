/*
 * NAME
 *	http_sigv4.c - AWS Signature Version 4 (header signing) for the
 *	http transport
 * SYNOPSIS
 *	int sigv4_amz_date(when, amz_date)
 *	int sigv4_sha256_hex(data, len, hex)
 *	int sigv4_sign(creds, region, service, when, req, normalize_path,
 *	    amz_date, authorization_r, canonical_r, string_to_sign_r,
 *	    err, errlen)
 * DESCRIPTION
 *	sigv4_sign() computes the value of the Authorization header for
 *	req, as AWS documents it ("Create a signed AWS API request") and as
 *	its test suite (tests/data/aws-sigv4) checks it:
 *
 *	  canonical request = METHOD \n URI \n QUERY \n
 *	      name:value \n ... \n signed;names \n payload-hash
 *	  string to sign = AWS4-HMAC-SHA256 \n AMZDATE \n
 *	      DATE/region/service/aws4_request \n hex(SHA-256(canonical))
 *	  key = HMAC("AWS4" secret, DATE) -> region -> service ->
 *	      "aws4_request"
 *	  Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/region/
 *	      service/aws4_request, SignedHeaders=..., Signature=hex
 *
 *	URI is req->path, dot segments and empty segments removed when
 *	normalize_path, then URI-encoded: every byte but A-Z a-z 0-9 - . _
 *	~ and '/' as %XX.  Since the path is given as it is sent, already
 *	percent-encoded, this is SigV4's double encoding ("/a%20b" signs
 *	as "/a%2520b"), right for every service except S3, which this
 *	module does not serve.
 *
 *	QUERY is req->query split at '&' (empty pieces dropped), each
 *	piece "key=value" or "key" (value empty); key and value are
 *	percent-decoded then encoded again as above ('/' too), so "%7e",
 *	"~" and "%7E" sign alike, a '+' signs as %2B and a '%' that starts
 *	no escape as %25; the pairs are sorted by encoded key, then value.
 *
 *	Header names are lower-cased and sorted (a repeated name keeps the
 *	order of its values, joined with ','); a value loses its leading
 *	and trailing white space and every run of SP, HTAB, CR, LF inside
 *	it becomes one space, so a folded value signs as its unfolded form.
 *	A line break that is no fold, or another control character, is
 *	refused: on the wire it would start a header the signature does
 *	not cover.
 *
 *	What the caller must sign, in req->headers (each exactly once):
 *	Host (the host it connects to, with ":port" if not the default);
 *	X-Amz-Date, whose value must be amz_date as sigv4_amz_date(when)
 *	makes it; X-Amz-Security-Token with the token, when
 *	creds->session_token is not NULL; and whatever else the service
 *	wants signed (SES: Content-Type).  Never Authorization.  Those
 *	rules are checked, since a mistake there costs a round trip and
 *	an opaque 403.  The same names and values must then be sent.
 *
 *	The derived keys are wiped.  canonical_r and string_to_sign_r,
 *	when not NULL, receive the intermediate texts (for tests and for
 *	debugging a 403: AWS's error message shows what it computed).
 *
 *	sigv4_amz_date() writes "YYYYMMDDTHHMMSSZ" (UTC) for when.
 *	sigv4_sha256_hex() writes the lower-case hex SHA-256 of data; a
 *	caller hashing a body as it streams uses EVP_Digest*() itself.
 * DIAGNOSTICS
 *	sigv4_sign() returns 0, or -1 with one line in err and every
 *	output NULL: a missing or malformed argument or header (named in
 *	err), an OpenSSL failure, or no memory.  Secrets never appear in
 *	err.  The other two return -1 only for a date out of range or an
 *	OpenSSL failure.
 */
#define _POSIX_C_SOURCE 200809L	/* open_memstream, gmtime_r */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "http_sigv4.h"

#define SHA256_LEN	32
#define ALGORITHM	"AWS4-HMAC-SHA256"
#define SCOPE_END	"aws4_request"

static const char hexdig[] = "0123456789ABCDEF";
static const char hexlow[] = "0123456789abcdef";

struct hent {				/* a header, for sorting */
	const struct sigv4_header *h;
	size_t	 idx;			/* keeps a repeated name's order */
};

struct qparam {				/* a query pair, encoded */
	char	*key;
	char	*val;
};

static void
hex_lower(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexlow[p[i] >> 4];
		out[2 * i + 1] = hexlow[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Compares names as their lower-case forms, byte by byte. */
static int
name_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)lower(*a);
		unsigned char cb = (unsigned char)lower(*b);

		if (ca != cb || ca == '\0')
			return (ca > cb) - (ca < cb);
	}
}

static bool
is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* An RFC 9110 token: a method or a header name. */
static bool
is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!is_unreserved((unsigned char)*s) &&
		    strchr("!#$%&'*+^`|", *s) == NULL)
			return false;
	return true;
}

/*
 * What may stand in the credential scope and the Credential= of the
 * Authorization header: no '/', ',', white space or control bytes,
 * which would change how AWS splits them.
 */
static bool
is_scope_word(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '/' ||
		    *s == ',')
			return false;
	return true;
}

static bool
is_sha256_hex(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (strchr(hexlow, s[i]) == NULL)
			return false;
	return i == 2 * SHA256_LEN;
}

/*
 * Header values may hold HTAB and fold (CRLF or LF, then SP or HTAB),
 * nothing else of the controls: a line break that is no fold would
 * start another header on the wire, one the signature does not cover.
 */
static bool
value_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r' && s[1] != '\n')
			return false;
		if (*s == '\n' && s[1] != ' ' && s[1] != '\t')
			return false;
		if (((unsigned char)*s < ' ' && !is_lws(*s)) || *s == 0x7f)
			return false;
	}
	return true;
}

/* Is value, trimmed and with its white space folded, exactly want? */
static bool
value_is(const char *value, const char *want)
{
	size_t n = strlen(want);

	while (is_lws(*value))
		value++;
	if (strncmp(value, want, n) != 0)
		return false;
	for (value += n; is_lws(*value); value++)
		;
	return *value == '\0';
}

/* Writes a value trimmed, each inner run of white space one SP. */
static void
put_value(FILE *f, const char *v)
{
	bool gap = false, any = false;

	for (; *v != '\0'; v++) {
		if (is_lws(*v)) {
			gap = any;
			continue;
		}
		if (gap)
			putc(' ', f);
		putc(*v, f);
		any = true;
		gap = false;
	}
}

/* SigV4's URI encoding of n bytes, '/' kept when keep_slash. */
static char *
uri_encode(const unsigned char *p, size_t n, bool keep_slash)
{
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 3 || (out = malloc(3 * n + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i++) {
		if (is_unreserved(p[i]) || (keep_slash && p[i] == '/')) {
			*o++ = (char)p[i];
		} else {
			*o++ = '%';
			*o++ = hexdig[p[i] >> 4];
			*o++ = hexdig[p[i] & 0x0f];
		}
	}
	*o = '\0';
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes then re-encodes p[0..n): one query key or value. */
static char *
query_part(const char *p, size_t n)
{
	unsigned char *raw;
	size_t len = 0;
	char *out;
	int hi, lo;

	if ((raw = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			raw[len++] = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else {
			raw[len++] = (unsigned char)p[i];
		}
	}
	out = uri_encode(raw, len, false);
	free(raw);
	return out;
}

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->val, y->val);
}

/* Writes the canonical query string of q (NULL or "" for none). */
static int
put_query(FILE *f, const char *q)
{
	struct qparam *v = NULL;
	size_t n = 0, cap = 0, i;
	const char *p, *amp, *eq;
	int rc = -1;

	for (p = q; p != NULL && *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		if (amp == p)
			continue;
		if (n == cap) {
			struct qparam *nv;

			cap = cap ? 2 * cap : 8;
			if (cap > SIZE_MAX / sizeof(*v) ||
			    (nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto out;
			v = nv;
		}
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		v[n].key = query_part(p, (size_t)(eq - p));
		v[n].val = query_part(eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0);
		n++;
		if (v[n - 1].key == NULL || v[n - 1].val == NULL)
			goto out;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), qparam_cmp);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s=%s", i > 0 ? "&" : "", v[i].key, v[i].val);
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].val);
	}
	free(v);
	return rc;
}

/*
 * RFC 3986 5.2.4's removal of dot segments, empty segments dropped too
 * ("//a//" is "/a/"), as AWS normalises a path for all but S3.  The
 * result always starts with '/' and ends with one when the input did
 * or when its last segment was "." or "..".
 */
static char *
path_normalize(const char *path)
{
	size_t n = strlen(path), o = 0, len;
	const char *p = path, *seg;
	bool trailing = false;
	char *out;

	if (n > SIZE_MAX - 2 || (out = malloc(n + 2)) == NULL)
		return NULL;
	out[o++] = '/';			/* out ends with '/' throughout */
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		for (seg = p; *p != '\0' && *p != '/'; p++)
			;
		len = (size_t)(p - seg);
		if (len == 1 && seg[0] == '.') {
			trailing = true;
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (o > 1)
				for (o--; out[o - 1] != '/'; o--)
					;
			trailing = true;
		} else {
			memcpy(out + o, seg, len);
			o += len;
			out[o++] = '/';
			trailing = *p == '/';
		}
	}
	if (!trailing && o > 1)
		o--;
	out[o] = '\0';
	return out;
}

static int
hent_cmp(const void *a, const void *b)
{
	const struct hent *x = a, *y = b;
	int c = name_cmp(x->h->name, y->h->name);

	return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Writes the canonical headers and the signed header list. */
static int
put_headers(FILE *f, FILE *signed_f, const struct sigv4_header *hs,
    size_t n)
{
	struct hent *v;
	size_t i;

	if (n == 0 || n > SIZE_MAX / sizeof(*v) ||
	    (v = malloc(n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v[i].h = &hs[i];
		v[i].idx = i;
	}
	qsort(v, n, sizeof(*v), hent_cmp);
	for (i = 0; i < n; i++) {
		bool first = i == 0 || name_cmp(v[i - 1].h->name,
		    v[i].h->name) != 0;

		if (first) {
			if (i > 0) {
				putc('\n', f);
				putc(';', signed_f);
			}
			for (const char *s = v[i].h->name; *s != '\0'; s++) {
				putc(lower(*s), f);
				putc(lower(*s), signed_f);
			}
			putc(':', f);
		} else {
			putc(',', f);
		}
		put_value(f, v[i].h->value);
	}
	putc('\n', f);
	free(v);
	return 0;
}

/* Closes a memory stream; its text, or NULL after any write error. */
static char *
mem_close(FILE *f, char **buf)
{
	bool bad = ferror(f) != 0;

	if (fclose(f) != 0 || bad) {
		free(*buf);
		*buf = NULL;
	}
	return *buf;
}

static int
hmac_sha256(EVP_MAC_CTX *ctx, const void *key, size_t keylen,
    const void *data, size_t n, unsigned char out[SHA256_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outlen = 0;

	if (!EVP_MAC_init(ctx, key, keylen, params) ||
	    !EVP_MAC_update(ctx, data, n) ||
	    !EVP_MAC_final(ctx, out, &outlen, SHA256_LEN) ||
	    outlen != SHA256_LEN)
		return -1;
	return 0;
}

/*
 * The signature of sts: the key derived from the secret through date,
 * region and service, then HMAC of sts.  Every intermediate key is
 * wiped, also on failure.
 */
static int
signature(const char *secret, const char *date, const char *region,
    const char *service, const char *sts, char hex[SIGV4_SHA256_HEX_SIZE])
{
	unsigned char k[2][SHA256_LEN], sig[SHA256_LEN];
	const char *steps[] = { date, region, service, SCOPE_END };
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t slen = strlen(secret);
	char *ksecret;
	int rc = -1;

	if (slen > SIZE_MAX - 5 || (ksecret = malloc(slen + 5)) == NULL)
		return -1;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen + 1);
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	if (hmac_sha256(ctx, ksecret, slen + 4, steps[0], strlen(steps[0]),
	    k[0]) < 0)
		goto out;
	for (size_t i = 1; i < 4; i++)
		if (hmac_sha256(ctx, k[(i - 1) % 2], SHA256_LEN, steps[i],
		    strlen(steps[i]), k[i % 2]) < 0)
			goto out;
	/* steps[3] went into k[1]: the signing key */
	if (hmac_sha256(ctx, k[1], SHA256_LEN, sts, strlen(sts), sig) < 0)
		goto out;
	hex_lower(sig, SHA256_LEN, hex);
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);		/* cleanses the key it holds */
	EVP_MAC_free(mac);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ksecret, slen + 4);
	free(ksecret);
	return rc;
}

int
sigv4_amz_date(time_t when, char out[SIGV4_AMZ_DATE_SIZE])
{
	struct tm tm;

	out[0] = '\0';
	if (gmtime_r(&when, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	if (strftime(out, SIGV4_AMZ_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm) !=
	    SIGV4_AMZ_DATE_SIZE - 1)
		return -1;
	return 0;
}

int
sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_SHA256_HEX_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_lower(md, SHA256_LEN, out);
	return 0;
}

/*
 * Checks what the caller must get right (see the header comment);
 * NULL, or what is wrong.
 */
static const char *
check_request(const struct sigv4_creds *creds, const char *region,
    const char *service, const struct sigv4_request *req,
    const char *amz_date)
{
	size_t nhost = 0, ndate = 0, ntoken = 0;

	if (creds == NULL || !is_scope_word(creds->access_key_id))
		return "no usable access key id";
	if (creds->secret_access_key == NULL ||
	    creds->secret_access_key[0] == '\0')
		return "no secret access key";
	if (!is_scope_word(region))
		return "bad region";
	if (!is_scope_word(service))
		return "bad service";
	if (!is_token(req->method))
		return "bad method";
	if (req->path == NULL || req->path[0] != '/')
		return "the path must start with '/'";
	if (!is_sha256_hex(req->payload_sha256_hex))
		return "the payload hash is not 64 lower-case hex digits";
	if (req->nheaders == 0 || req->headers == NULL)
		return "no headers to sign";
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct sigv4_header *h = &req->headers[i];

		if (!is_token(h->name))
			return "a header name is empty or not a token";
		if (h->value == NULL || !value_ok(h->value))
			return "a header value holds a control character "
			    "or a line break that is no fold";
		if (name_cmp(h->name, "authorization") == 0)
			return "the Authorization header cannot be signed";
		if (name_cmp(h->name, "host") == 0)
			nhost++;
		if (name_cmp(h->name, "x-amz-date") == 0) {
			if (!value_is(h->value, amz_date))
				return "X-Amz-Date differs from the "
				    "signing time";
			ndate++;
		}
		if (name_cmp(h->name, "x-amz-security-token") == 0) {
			if (creds->session_token == NULL ||
			    !value_is(h->value, creds->session_token))
				return "X-Amz-Security-Token differs from "
				    "the session token";
			ntoken++;
		}
	}
	if (nhost != 1)
		return "Host must be signed, once";
	if (ndate != 1)
		return "X-Amz-Date must be signed, once";
	if (creds->session_token != NULL && ntoken != 1)
		return "X-Amz-Security-Token must be signed, once";
	return NULL;
}

int
sigv4_sign(const struct sigv4_creds *creds, const char *region,
    const char *service, time_t when, const struct sigv4_request *req,
    bool normalize_path, char amz_date[SIGV4_AMZ_DATE_SIZE],
    char **authorization_r, char **canonical_r, char **string_to_sign_r,
    char *err, size_t errlen)
{
	char *canon = NULL, *sts = NULL, *authz = NULL, *shdrs = NULL;
	char *npath = NULL, *upath = NULL;
	char date[9], chash[SIGV4_SHA256_HEX_SIZE];
	char sig[SIGV4_SHA256_HEX_SIZE];
	size_t canon_len = 0, sts_len = 0, authz_len = 0, shdrs_len = 0;
	FILE *f = NULL, *sf = NULL;
	const char *why;

	*authorization_r = NULL;
	if (canonical_r != NULL)
		*canonical_r = NULL;
	if (string_to_sign_r != NULL)
		*string_to_sign_r = NULL;
	if (req == NULL) {
		snprintf(err, errlen, "sigv4: no request");
		return -1;
	}
	if (sigv4_amz_date(when, amz_date) < 0) {
		snprintf(err, errlen, "sigv4: the time is out of range");
		return -1;
	}
	if ((why = check_request(creds, region, service, req,
	    amz_date)) != NULL) {
		snprintf(err, errlen, "sigv4: %s", why);
		return -1;
	}
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	if ((npath = normalize_path ? path_normalize(req->path) :
	    strdup(req->path)) == NULL ||
	    (upath = uri_encode((const unsigned char *)npath, strlen(npath),
	    true)) == NULL)
		goto nomem;
	if ((f = open_memstream(&canon, &canon_len)) == NULL ||
	    (sf = open_memstream(&shdrs, &shdrs_len)) == NULL)
		goto nomem;
	fprintf(f, "%s\n%s\n", req->method, upath);
	if (put_query(f, req->query) < 0)
		goto nomem;
	putc('\n', f);
	if (put_headers(f, sf, req->headers, req->nheaders) < 0)
		goto nomem;
	if (mem_close(sf, &shdrs) == NULL) {
		sf = NULL;
		goto nomem;
	}
	sf = NULL;
	fprintf(f, "\n%s\n%s", shdrs, req->payload_sha256_hex);
	if (mem_close(f, &canon) == NULL) {
		f = NULL;
		goto nomem;
	}
	f = NULL;

	if (sigv4_sha256_hex(canon, canon_len, chash) < 0)
		goto crypto;
	if ((f = open_memstream(&sts, &sts_len)) == NULL)
		goto nomem;
	fprintf(f, ALGORITHM "\n%s\n%s/%s/%s/" SCOPE_END "\n%s", amz_date,
	    date, region, service, chash);
	if (mem_close(f, &sts) == NULL) {
		f = NULL;
		goto nomem;
	}
	f = NULL;
	if (signature(creds->secret_access_key, date, region, service, sts,
	    sig) < 0)
		goto crypto;
	if ((f = open_memstream(&authz, &authz_len)) == NULL)
		goto nomem;
	fprintf(f, ALGORITHM " Credential=%s/%s/%s/%s/" SCOPE_END
	    ", SignedHeaders=%s, Signature=%s", creds->access_key_id, date,
	    region, service, shdrs, sig);
	if (mem_close(f, &authz) == NULL) {
		f = NULL;
		goto nomem;
	}
	f = NULL;

	*authorization_r = authz;
	if (canonical_r != NULL)
		*canonical_r = canon;
	else
		free(canon);
	if (string_to_sign_r != NULL)
		*string_to_sign_r = sts;
	else
		free(sts);
	free(shdrs);
	free(upath);
	free(npath);
	return 0;

crypto:
	snprintf(err, errlen, "sigv4: OpenSSL failed to hash or sign");
	goto fail;
nomem:
	snprintf(err, errlen, "sigv4: out of memory");
fail:
	if (f != NULL)
		fclose(f);
	if (sf != NULL)
		fclose(sf);
	free(canon);
	free(sts);
	free(authz);
	free(shdrs);
	free(upath);
	free(npath);
	return -1;
}
