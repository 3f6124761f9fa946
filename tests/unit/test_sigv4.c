/*
 * test_sigv4.c - the http transport's AWS Signature Version 4 signer
 *
 * Every case of AWS's SigV4 test suite (tests/data/aws-sigv4/v4, see its
 * SOURCE.md) is one test: context.json and request.txt are read, the
 * request signed, and the canonical request, string to sign, signature
 * and Authorization value compared with the case's header-*.txt files,
 * byte for byte.  The query-*.txt files (presigned URLs) are not used:
 * the signer does Authorization-header signing only, which is what SES
 * over HTTPS takes.  The test after them fails unless all SUITE_CASES ran, so a
 * missing or partial data directory cannot pass unnoticed.
 *
 * Then SES-shaped requests checked against values computed outside
 * plume, and the edges of the canonical forms and of the checks.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_sigv4.h"

#define SUITE_DIR	"tests/data/aws-sigv4/v4"
#define SUITE_CASES	38		/* directories in SUITE_DIR */
#define CASE_HEADERS	16		/* the most any case signs, and more */

static size_t cases_found, cases_run;

/* ---- reading a case ---------------------------------------------------- */

/* The whole file dir/name, NUL-terminated, or NULL if it is absent. */
static char *
slurp(const char *dir, const char *name, size_t *len_r)
{
	char path[4096];
	size_t cap = 4096, len = 0, n;
	char *buf;
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    name) < sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	assert_non_null(buf = malloc(cap));
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0)
			assert_non_null(buf = realloc(buf, cap *= 2));
	}
	assert_false(ferror(f));
	fclose(f);
	buf[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return buf;
}

/*
 * Where "key": stands in js, just after the colon and any white space,
 * or NULL.  context.json is flat enough for this: no key of it appears
 * twice, nor inside a string value.
 */
static const char *
json_find(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	assert_true((size_t)snprintf(pat, sizeof(pat), "\"%s\"", key) <
	    sizeof(pat));
	if ((p = strstr(js, pat)) == NULL)
		return NULL;
	for (p += strlen(pat); *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	assert_int_equal(*p, ':');
	for (p++; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	return p;
}

/* A string member, unescaped (only \" \\ \/ occur), or NULL. */
static char *
json_str(const char *js, const char *key)
{
	const char *p = json_find(js, key);
	char *out, *o;

	if (p == NULL)
		return NULL;
	assert_int_equal(*p, '"');
	assert_non_null(out = malloc(strlen(p)));
	for (o = out, p++; *p != '"'; p++) {
		assert_int_not_equal(*p, '\0');
		if (*p == '\\') {
			p++;
			assert_non_null(strchr("\"\\/", *p));
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

static bool
json_bool(const char *js, const char *key, bool dflt)
{
	const char *p = json_find(js, key);

	if (p == NULL)
		return dflt;
	if (strncmp(p, "true", 4) == 0)
		return true;
	assert_int_equal(strncmp(p, "false", 5), 0);
	return false;
}

static time_t
iso_time(const char *s)
{
	struct tm tm = { 0 };
	char z = 0;

	assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &z), 7);
	assert_int_equal(z, 'Z');
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

struct sv_case {
	char	*ctx, *raw;		/* the files, raw is cut up in place */
	char	*ak, *sk, *token, *region, *service, *timestamp;
	bool	 normalize, sign_body, omit_token;
	char	*method, *path, *query, *body;
	size_t	 rawlen, bodylen;
	struct sigv4_header hdr[CASE_HEADERS];
	size_t	 nhdr;
};

static void
add_header(struct sv_case *c, const char *name, const char *value)
{
	assert_true(c->nhdr < CASE_HEADERS);
	c->hdr[c->nhdr].name = name;
	c->hdr[c->nhdr].value = value;
	c->nhdr++;
}

/*
 * request.txt: "METHOD TARGET HTTP/1.1" (the target may hold spaces),
 * "Name:value" lines, a line starting with SP or HTAB continuing the
 * value before it (the fold is kept, the signer unfolds it), an empty
 * line, the body.
 */
static void
parse_request(struct sv_case *c)
{
	char *p = c->raw, *nl, *end, *sp, *fold_at = NULL;

	assert_non_null(nl = strchr(p, '\n'));
	*nl = '\0';
	assert_non_null(sp = strchr(p, ' '));
	*sp = '\0';
	c->method = p;
	c->path = sp + 1;
	assert_non_null(sp = strrchr(c->path, ' '));
	assert_string_equal(sp + 1, "HTTP/1.1");
	*sp = '\0';
	if ((sp = strchr(c->path, '?')) != NULL) {
		*sp = '\0';
		c->query = sp + 1;
	}
	for (p = nl + 1; *p != '\0' && *p != '\n';
	    p = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(p, '\n')) == NULL)
			end = p + strlen(p);	/* a last line without LF */
		if (*p == ' ' || *p == '\t') {
			assert_non_null(fold_at);
			fold_at = end;		/* the value runs on */
			continue;
		}
		if (fold_at != NULL)
			*fold_at = '\0';
		assert_non_null(sp = strchr(p, ':'));
		assert_true(sp < end);
		*sp = '\0';
		add_header(c, p, sp + 1);
		fold_at = end;
	}
	if (fold_at != NULL)
		*fold_at = '\0';
	c->body = *p == '\n' ? p + 1 : p;
	c->bodylen = c->rawlen - (size_t)(c->body - c->raw);
}

static void
case_free(struct sv_case *c)
{
	free(c->ctx);
	free(c->raw);
	free(c->ak);
	free(c->sk);
	free(c->token);
	free(c->region);
	free(c->service);
	free(c->timestamp);
}

/* ---- the suite --------------------------------------------------------- */

/* The value of the Authorization line of header-signed-request.txt. */
static char *
signed_authz(char *signed_req)
{
	char *p = strstr(signed_req, "\nAuthorization:"), *nl;

	assert_non_null(p);
	p += strlen("\nAuthorization:");
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	return p;
}

static void
run_case(void **state)
{
	const char *dir = *state;
	struct sv_case c = { 0 };
	char date[SIGV4_AMZ_DATE_SIZE], date2[SIGV4_AMZ_DATE_SIZE];
	char hash[SIGV4_SHA256_HEX_SIZE], err[256] = "";
	char *want_creq, *want_sts, *want_sig, *want_signed;
	char *authz = NULL, *creq = NULL, *sts = NULL;
	struct sigv4_creds creds;
	struct sigv4_request req;
	time_t when;

	/* A case for presigned URLs alone would have no header-*.txt. */
	if ((want_creq = slurp(dir, "header-canonical-request.txt",
	    NULL)) == NULL) {
		print_message("skip %s: no header-signing files\n", dir);
		skip();
	}
	assert_non_null(want_sts = slurp(dir, "header-string-to-sign.txt",
	    NULL));
	assert_non_null(want_sig = slurp(dir, "header-signature.txt", NULL));
	assert_non_null(want_signed = slurp(dir,
	    "header-signed-request.txt", NULL));
	assert_non_null(c.ctx = slurp(dir, "context.json", NULL));
	assert_non_null(c.raw = slurp(dir, "request.txt", &c.rawlen));

	assert_non_null(c.ak = json_str(c.ctx, "access_key_id"));
	assert_non_null(c.sk = json_str(c.ctx, "secret_access_key"));
	c.token = json_str(c.ctx, "token");
	assert_non_null(c.region = json_str(c.ctx, "region"));
	assert_non_null(c.service = json_str(c.ctx, "service"));
	assert_non_null(c.timestamp = json_str(c.ctx, "timestamp"));
	c.normalize = json_bool(c.ctx, "normalize", true);
	c.sign_body = json_bool(c.ctx, "sign_body", false);
	c.omit_token = json_bool(c.ctx, "omit_session_token", false);
	parse_request(&c);

	when = iso_time(c.timestamp);
	assert_int_equal(sigv4_amz_date(when, date), 0);
	assert_int_equal(sigv4_sha256_hex(c.body, c.bodylen, hash), 0);
	/* What a caller adds to the request and signs (http_sigv4.h). */
	add_header(&c, "X-Amz-Date", date);
	if (c.sign_body)
		add_header(&c, "X-Amz-Content-Sha256", hash);
	/*
	 * omit_session_token (post-sts-header-after): the token is added
	 * to the request after signing and takes no part in the
	 * signature, so the signer is not told of it at all.
	 */
	if (c.token != NULL && !c.omit_token)
		add_header(&c, "X-Amz-Security-Token", c.token);
	creds.access_key_id = c.ak;
	creds.secret_access_key = c.sk;
	creds.session_token = c.omit_token ? NULL : c.token;
	req.method = c.method;
	req.path = c.path;
	req.query = c.query;
	req.headers = c.hdr;
	req.nheaders = c.nhdr;
	req.payload_sha256_hex = hash;

	if (sigv4_sign(&creds, c.region, c.service, when, &req, c.normalize,
	    date2, &authz, &creq, &sts, err, sizeof(err)) != 0)
		fail_msg("%s: %s", dir, err);
	assert_string_equal(date2, date);
	assert_string_equal(creq, want_creq);
	assert_string_equal(sts, want_sts);
	assert_non_null(strstr(authz, ", Signature="));
	assert_string_equal(strstr(authz, ", Signature=") + 12, want_sig);
	assert_string_equal(authz, signed_authz(want_signed));
	cases_run++;

	free(authz);
	free(creq);
	free(sts);
	free(want_creq);
	free(want_sts);
	free(want_sig);
	free(want_signed);
	case_free(&c);
}

static void
test_suite_count(void **state)
{
	(void)state;
	assert_int_equal(cases_found, SUITE_CASES);
	assert_int_equal(cases_run, SUITE_CASES);
}

/* ---- SES, and values computed elsewhere ------------------------------- */

static const struct sigv4_creds example_creds = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
};

#define SES_WHEN	1714558830	/* 2024-05-01T10:20:30Z */
#define SES_HOST	"email.eu-west-1.amazonaws.com"
#define SES_TOKEN	"IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes=="
#define SES_BODY	"{\"FromEmailAddress\":\"sender@example.org\"," \
	"\"Destination\":{\"ToAddresses\":[\"rcpt@example.com\"]}," \
	"\"Content\":{\"Raw\":{\"Data\":\"U3ViamVjdDogaGkNCg0KaGkNCg==\"}}}"

/*
 * SES v2 SendEmail.  The expected values were computed once, outside
 * plume, by a short python3 script (hashlib and hmac, following AWS's
 * "Create a signed AWS API request" step by step: canonical request,
 * string to sign, HMAC chain AWS4+secret -> date -> region -> service
 * -> aws4_request), and agree with botocore 1.43's SigV4Auth signing
 * the same request (POST https://SES_HOST/v2/email/outbound-emails,
 * data=SES_BODY, Content-Type: application/json, Credentials(AKID,
 * secret[, SES_TOKEN]), "ses", "eu-west-1", clock fixed at SES_WHEN).
 */
static void
test_ses_send_email(void **state)
{
	char date[SIGV4_AMZ_DATE_SIZE], hash[SIGV4_SHA256_HEX_SIZE];
	char err[256] = "", *authz, *creq, *sts;
	struct sigv4_header h[] = {
		{ "Host", SES_HOST },
		{ "Content-Type", "application/json" },
		{ "X-Amz-Date", "20240501T102030Z" },
		{ "X-Amz-Security-Token", SES_TOKEN },
	};
	struct sigv4_request req = { "POST", "/v2/email/outbound-emails",
		NULL, h, 3, hash };
	struct sigv4_creds creds = example_creds;

	(void)state;
	assert_int_equal(sigv4_sha256_hex(SES_BODY, strlen(SES_BODY), hash),
	    0);
	assert_string_equal(hash, "92dd7ed8c57dd19b4054087f643c030a"
	    "d3fa08ef0e4996d8f7b69e175b8e7f9f");
	assert_int_equal(sigv4_sign(&creds, "eu-west-1", "ses", SES_WHEN,
	    &req, true, date, &authz, &creq, &sts, err, sizeof(err)), 0);
	assert_string_equal(date, "20240501T102030Z");
	assert_string_equal(creq, "POST\n/v2/email/outbound-emails\n\n"
	    "content-type:application/json\n"
	    "host:" SES_HOST "\n"
	    "x-amz-date:20240501T102030Z\n\n"
	    "content-type;host;x-amz-date\n"
	    "92dd7ed8c57dd19b4054087f643c030ad3fa08ef0e4996d8f7b69e175b8e7f9f");
	assert_string_equal(sts, "AWS4-HMAC-SHA256\n20240501T102030Z\n"
	    "20240501/eu-west-1/ses/aws4_request\n"
	    "c51c880fca37f04ba9a12ed522967827b59d2a1a53e98aa5640bf464997595e6");
	assert_string_equal(authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20240501/eu-west-1/ses/aws4_request, "
	    "SignedHeaders=content-type;host;x-amz-date, Signature="
	    "ab0622c439f76b77d6c53f0e6c0219441036c35f9f0cd9088a49a585c6c9dd28");
	free(authz);
	free(creq);
	free(sts);

	/* temporary credentials: the token is a signed header */
	creds.session_token = SES_TOKEN;
	req.nheaders = 4;
	assert_int_equal(sigv4_sign(&creds, "eu-west-1", "ses", SES_WHEN,
	    &req, true, date, &authz, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20240501/eu-west-1/ses/aws4_request, SignedHeaders=content-type;"
	    "host;x-amz-date;x-amz-security-token, Signature="
	    "29736da7681e1efdfe59e92512ba215b4c4c1b9a487bc0a7e06d636ffa2fa3c6");
	free(authz);
}

/*
 * A percent-encoded path is encoded again ('%' as %25) and a query is
 * sorted.  Expected: botocore 1.43's SigV4Auth on GET https://SES_HOST
 * /v2/email/identities/a%40b.example?PageSize=10&NextToken=abc%2Fdef,
 * "ses", "eu-west-1", clock fixed at SES_WHEN (its canonical request
 * has /v2/email/identities/a%2540b.example and
 * NextToken=abc%2Fdef&PageSize=10).
 */
static void
test_double_encoding_botocore(void **state)
{
	char date[SIGV4_AMZ_DATE_SIZE], hash[SIGV4_SHA256_HEX_SIZE];
	char err[256] = "", *authz;
	const struct sigv4_header h[] = {
		{ "host", SES_HOST },
		{ "x-amz-date", "20240501T102030Z" },
	};
	const struct sigv4_request req = { "GET",
		"/v2/email/identities/a%40b.example",
		"PageSize=10&NextToken=abc%2Fdef", h, 2, hash };

	(void)state;
	assert_int_equal(sigv4_sha256_hex("", 0, hash), 0);
	assert_int_equal(sigv4_sign(&example_creds, "eu-west-1", "ses",
	    SES_WHEN, &req, true, date, &authz, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_string_equal(authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
	    "20240501/eu-west-1/ses/aws4_request, "
	    "SignedHeaders=host;x-amz-date, Signature="
	    "7d4ba53a810183123e31f3649d3c2349527d0117dc3344db0f62910b8626411a");
	free(authz);
}

/* ---- canonical forms ----------------------------------------------------- */

#define EMPTY_HASH	"e3b0c44298fc1c149afbf4c8996fb924" \
	"27ae41e4649b934ca495991b7852b855"	/* SHA-256 of nothing */

/* Signs path?query with Host, X-Amz-Date and extra; the canonical text. */
static char *
canon_of(const char *path, const char *query, bool normalize,
    const struct sigv4_header *extra, size_t nextra)
{
	struct sigv4_header h[CASE_HEADERS] = {
		{ "Host", "example.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct sigv4_request req = { "GET", path, query, h, 2, EMPTY_HASH };
	char date[SIGV4_AMZ_DATE_SIZE], err[256] = "", *authz, *creq;

	assert_true(nextra <= CASE_HEADERS - 2);
	for (size_t i = 0; i < nextra; i++)
		h[req.nheaders++] = extra[i];
	if (sigv4_sign(&example_creds, "us-east-1", "service", 1440938160,
	    &req, normalize, date, &authz, &creq, NULL, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	free(authz);
	return creq;
}

/* Line n (from 0) of text is want. */
static void
assert_line(const char *text, int n, const char *want)
{
	const char *end;

	for (; n > 0; n--) {
		assert_non_null(text = strchr(text, '\n'));
		text++;
	}
	end = strchr(text, '\n');
	if (end == NULL)
		end = text + strlen(text);
	if ((size_t)(end - text) != strlen(want) ||
	    strncmp(text, want, strlen(want)) != 0)
		fail_msg("line is \"%.*s\", not \"%s\"", (int)(end - text),
		    text, want);
}

static void
check_query(const char *query, const char *want)
{
	char *creq = canon_of("/", query, true, NULL, 0);

	assert_line(creq, 2, want);
	free(creq);
}

static void
check_path(const char *path, bool normalize, const char *want)
{
	char *creq = canon_of(path, NULL, normalize, NULL, 0);

	assert_line(creq, 1, want);
	free(creq);
}

static void
test_canonical_query(void **state)
{
	(void)state;
	check_query(NULL, "");
	check_query("", "");
	check_query("&&", "");
	/* keys without '=', empty values, sorting by key then value */
	check_query("b=2&a=%7e&c&a=1+x&&=v", "=v&a=1%2Bx&a=~&b=2&c=");
	check_query("k=a%20b&k=a b", "k=a%20b&k=a%20b");
	check_query("x=%zz%4&y=%", "x=%25zz%254&y=%25");
	check_query("p=a/b%2fc", "p=a%2Fb%2Fc");
	check_query("\xc3\xa9=%C3%A9", "%C3%A9=%C3%A9");
	/* sorted as encoded: '%' (0x25) before 'A' */
	check_query("Z=1&%41=2&a=3", "A=2&Z=1&a=3");
}

static void
test_canonical_path(void **state)
{
	(void)state;
	check_path("/", true, "/");
	check_path("/a/b/../c/./d/", true, "/a/c/d/");
	check_path("/a/b/..", true, "/a/");
	check_path("/../x", true, "/x");
	check_path("/a/.", true, "/a/");
	check_path("/a//b///c", true, "/a/b/c");
	check_path("/a/./b//", false, "/a/./b//");
	check_path("/a%2Fb", true, "/a%252Fb");
	check_path("/\xc3\xa9 x", false, "/%C3%A9%20x");
	check_path("/v2/email/outbound-emails", true,
	    "/v2/email/outbound-emails");
}

static void
test_canonical_headers(void **state)
{
	const struct sigv4_header h[] = {
		{ "My-H", "  a\t\tb \r\n  c  " },
		{ "x-empty", "" },
		{ "my-h", "second" },
		{ "X-Blank", " \t " },
		{ "MY-H", "third\n\t" },
	};
	char *creq = canon_of("/", NULL, true, h, 5);

	(void)state;
	assert_line(creq, 3, "host:example.com");
	assert_line(creq, 4, "my-h:a b c,second,third");
	assert_line(creq, 5, "x-amz-date:20150830T123600Z");
	assert_line(creq, 6, "x-blank:");
	assert_line(creq, 7, "x-empty:");
	assert_line(creq, 8, "");
	assert_line(creq, 9, "host;my-h;x-amz-date;x-blank;x-empty");
	assert_line(creq, 10, EMPTY_HASH);
	free(creq);
}

static void
test_helpers(void **state)
{
	char date[SIGV4_AMZ_DATE_SIZE], hex[SIGV4_SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(sigv4_amz_date(0, date), 0);
	assert_string_equal(date, "19700101T000000Z");
	assert_int_equal(sigv4_amz_date(1440938160, date), 0);
	assert_string_equal(date, "20150830T123600Z");
	assert_int_equal(sigv4_sha256_hex("", 0, hex), 0);
	assert_string_equal(hex, EMPTY_HASH);
	assert_int_equal(sigv4_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

/* ---- refusals ------------------------------------------------------------ */

/* sigv4_sign() refuses; err says so and names the cause. */
static void
check_refused(const struct sigv4_creds *creds, const char *region,
    const struct sigv4_request *req, const char *want)
{
	char date[SIGV4_AMZ_DATE_SIZE], err[256] = "";
	char *authz = (char *)"x", *creq = (char *)"x", *sts = (char *)"x";

	assert_int_equal(sigv4_sign(creds, region, "ses", SES_WHEN, req,
	    true, date, &authz, &creq, &sts, err, sizeof(err)), -1);
	assert_null(authz);
	assert_null(creq);
	assert_null(sts);
	if (strstr(err, want) == NULL)
		fail_msg("err \"%s\" does not say \"%s\"", err, want);
	assert_null(strstr(err, "EXAMPLEKEY"));
}

static void
test_refusals(void **state)
{
	struct sigv4_header h[4] = {
		{ "Host", SES_HOST },
		{ "X-Amz-Date", "20240501T102030Z" },
	};
	struct sigv4_request req = { "POST", "/", NULL, h, 2, EMPTY_HASH };
	struct sigv4_creds creds = example_creds;

	(void)state;
	req.nheaders = 1;
	check_refused(&creds, "eu-west-1", &req, "X-Amz-Date must be signed");
	req.headers = h + 1;
	check_refused(&creds, "eu-west-1", &req, "Host must be signed");
	req.headers = h;
	req.nheaders = 3;
	h[2] = h[1];
	check_refused(&creds, "eu-west-1", &req, "X-Amz-Date must be signed");
	h[2] = (struct sigv4_header){ "Authorization", "AWS4-HMAC-SHA256 x" };
	check_refused(&creds, "eu-west-1", &req, "Authorization");
	h[2] = (struct sigv4_header){ "Bad Name", "x" };
	check_refused(&creds, "eu-west-1", &req, "not a token");
	h[2] = (struct sigv4_header){ "X-Ctl", "a\001b" };
	check_refused(&creds, "eu-west-1", &req, "control");
	h[2] = (struct sigv4_header){ "X-Evil", "a\r\nX-Amz-Date: 1" };
	check_refused(&creds, "eu-west-1", &req, "no fold");
	h[2] = (struct sigv4_header){ "X-Evil", "a\n" };
	check_refused(&creds, "eu-west-1", &req, "no fold");
	h[2] = (struct sigv4_header){ "X-Evil", "a\rb" };
	check_refused(&creds, "eu-west-1", &req, "no fold");
	h[2] = (struct sigv4_header){ "X-Amz-Security-Token", "t" };
	check_refused(&creds, "eu-west-1", &req, "session token");
	req.nheaders = 2;
	h[1].value = "20240501T102031Z";
	check_refused(&creds, "eu-west-1", &req, "signing time");
	h[1].value = "20240501T102030Z";

	creds.session_token = SES_TOKEN;
	check_refused(&creds, "eu-west-1", &req, "X-Amz-Security-Token");
	req.nheaders = 3;
	h[2].value = "another";
	check_refused(&creds, "eu-west-1", &req, "session token");
	creds.session_token = NULL;
	req.nheaders = 2;

	check_refused(&creds, "eu/west", &req, "region");
	check_refused(&creds, "", &req, "region");
	creds.access_key_id = "AKID, x";
	check_refused(&creds, "eu-west-1", &req, "access key");
	creds = example_creds;
	creds.secret_access_key = "";
	check_refused(&creds, "eu-west-1", &req, "secret");
	creds = example_creds;
	req.method = "PO ST";
	check_refused(&creds, "eu-west-1", &req, "method");
	req.method = "POST";
	req.path = "v2/email";
	check_refused(&creds, "eu-west-1", &req, "path");
	req.path = "/";
	req.payload_sha256_hex = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4"
	    "649B934CA495991B7852B855";
	check_refused(&creds, "eu-west-1", &req, "payload hash");
	req.payload_sha256_hex = "e3b0";
	check_refused(&creds, "eu-west-1", &req, "payload hash");
	req.payload_sha256_hex = EMPTY_HASH;
	req.nheaders = 0;
	check_refused(&creds, "eu-west-1", &req, "no headers");
}

/* ---- main ---------------------------------------------------------------- */

static int
is_case(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_suite_count),
		cmocka_unit_test(test_ses_send_email),
		cmocka_unit_test(test_double_encoding_botocore),
		cmocka_unit_test(test_canonical_query),
		cmocka_unit_test(test_canonical_path),
		cmocka_unit_test(test_canonical_headers),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_refusals),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const char *srcdir = getenv("srcdir");
	struct dirent **ents = NULL;
	struct CMUnitTest *tests;
	char suite[4096], **dirs;
	int n, rc;

	if (srcdir == NULL)
		srcdir = ".";
	if ((size_t)snprintf(suite, sizeof(suite), "%s/%s", srcdir,
	    SUITE_DIR) >= sizeof(suite))
		return 1;
	/* a missing directory is no case at all: test_suite_count fails */
	if ((n = scandir(suite, &ents, is_case, alphasort)) < 0) {
		fprintf(stderr, "%s: cannot read it (srcdir wrong?)\n", suite);
		n = 0;
	}
	cases_found = (size_t)n;
	tests = calloc((size_t)n + nfixed, sizeof(*tests));
	dirs = calloc((size_t)n + 1, sizeof(*dirs));
	if (tests == NULL || dirs == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(suite) + strlen(ents[i]->d_name) + 2;

		if ((dirs[i] = malloc(len)) == NULL)
			return 1;
		snprintf(dirs[i], len, "%s/%s", suite, ents[i]->d_name);
		tests[i].name = ents[i]->d_name;
		tests[i].test_func = run_case;
		tests[i].initial_state = dirs[i];
	}
	/* the suite first, so test_suite_count can count it */
	memcpy(tests + n, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("sigv4", tests, (size_t)n + nfixed,
	    NULL, NULL);
	for (int i = 0; i < n; i++) {
		free(dirs[i]);
		free(ents[i]);
	}
	free(ents);
	free(dirs);
	free(tests);
	return rc;
}
