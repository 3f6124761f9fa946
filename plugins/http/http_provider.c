/*
 * NAME
 *	http_provider.c - each provider's request for a message, and the
 *	secrets it needs
 * DESCRIPTION
 *	Mailgun	POST {base}/v3/{domain}/messages.mime, Basic auth
 *		"api:KEY", multipart/form-data: one "to" field per
 *		envelope recipient (Bcc included: Mailgun delivers to
 *		exactly these) and the message as the file part "message",
 *		streamed from the queue file.
 *	SES	POST {base}/v2/email/outbound-emails (SendEmail, API v2),
 *		JSON {"Content":{"Raw":{"Data":BASE64}},"Destination":
 *		{"ToAddresses":[...]}}: the envelope recipients, the From
 *		header as is (no FromEmailAddress, which would override
 *		it); signed with SigV4 for service "ses" (http_sigv4.c).
 *	SparkPost POST {base}/api/v1/transmissions, Authorization: KEY,
 *		JSON with recipients[].address.email, content.email_rfc822
 *		(the message, which JSON needs as UTF-8) and open and click
 *		tracking off so the body, and its DKIM signature, stay as
 *		they are.  No return_path: SparkPost wants it on a verified
 *		domain, and uses its own otherwise.
 *	SendGrid POST {base}/v3/mail/send, Authorization: Bearer KEY,
 *		JSON made from the MIME message (http_json.c).
 *	Postmark POST {base}/email, X-Postmark-Server-Token: KEY, JSON made
 *		from the MIME message (http_json.c).
 *	webhook	POST {base_url}, Content-Type: message/rfc822, the message
 *		streamed as the body, the envelope in X-Plume-Sender (""
 *		for the null sender), one X-Plume-Recipient per recipient
 *		and X-Plume-Queue-Id; auth = bearer sends "Authorization:
 *		Bearer KEY", auth = basic user:KEY; with a signing secret,
 *		X-Plume-Timestamp (Unix seconds) and X-Plume-Signature:
 *		sha256=HEX(HMAC-SHA256(secret, timestamp "." body)), the
 *		body read once to sign it and again to send it.
 *
 *	The envelope's addresses were validated at submission (no CR, LF
 *	or NUL); secrets with control characters are refused so nothing
 *	can be smuggled into a header.
 *
 *	SES credentials, first found wins: aws_access_key_id with the
 *	secret from api_key_file/api_key_command; AWS_ACCESS_KEY_ID,
 *	AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the shared
 *	credentials file (aws_credentials_file, AWS_SHARED_CREDENTIALS_FILE
 *	or ~/.aws/credentials), profile aws_profile, AWS_PROFILE or
 *	"default", which must not be readable by others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64.h"
#include "http_json.h"
#include "http_provider.h"
#include "http_sigv4.h"
#include "secret.h"

/* ---- secrets ---------------------------------------------------------- */

static char *
read_secret(const char *file_key, const char *file,
    const char *cmd_key, const char *const *cmd, char *err, size_t errlen)
{
	char *s = NULL;

	if (file != NULL)
		s = secret_from_file(file_key, file, err, errlen);
	else if (cmd != NULL)
		s = secret_from_command(cmd_key, cmd, 30000, err, errlen);
	if (s != NULL)
		for (const char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				snprintf(err, errlen, "the secret from %s has "
				    "control characters", file != NULL ?
				    file_key : cmd_key);
				secret_free(s);
				return NULL;
			}
	return s;
}

static char *
xstrdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Trims blanks at both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* The profile's keys from an AWS shared credentials file. */
static int
aws_shared(struct http *hp, struct http_keys *k, char *err, size_t errlen)
{
	const char *path = hp->aws_credentials_file, *home;
	const char *profile = hp->aws_profile;
	char def[1024], line[1024];
	bool in = false;
	struct stat st;
	FILE *f;

	if (path == NULL)
		path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	if (path == NULL && (home = getenv("HOME")) != NULL) {
		snprintf(def, sizeof(def), "%s/.aws/credentials", home);
		path = def;
	}
	if (profile == NULL && (profile = getenv("AWS_PROFILE")) == NULL)
		profile = "default";
	if (path == NULL || (f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "no AWS credentials: set "
		    "aws_access_key_id and api_key_file, the AWS_* "
		    "variables, or a shared credentials file (%s: %s)",
		    path != NULL ? path : "~/.aws/credentials", path != NULL ?
		    strerror(errno) : "HOME is not set");
		return -1;
	}
	if (fstat(fileno(f), &st) == -1 || (st.st_mode & S_IROTH)) {
		snprintf(err, errlen, "%s is readable by others: run chmod "
		    "o-r on it", path);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *l = trim(line), *eq;

		if (*l == '[') {
			char *end = strchr(l, ']');

			if (end != NULL)
				*end = '\0';
			in = strcmp(trim(l + 1), profile) == 0;
			continue;
		}
		if (!in || (eq = strchr(l, '=')) == NULL)
			continue;
		*eq = '\0';
		l = trim(l);
		if (strcmp(l, "aws_access_key_id") == 0)
			k->aws_id = strdup(trim(eq + 1));
		else if (strcmp(l, "aws_secret_access_key") == 0)
			k->aws_secret = strdup(trim(eq + 1));
		else if (strcmp(l, "aws_session_token") == 0)
			k->aws_token = strdup(trim(eq + 1));
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (k->aws_id == NULL || k->aws_secret == NULL) {
		snprintf(err, errlen, "%s has no aws_access_key_id and "
		    "aws_secret_access_key in profile [%s]", path, profile);
		return -1;
	}
	return 0;
}

static int
aws_keys(struct http *hp, struct http_keys *k, char *err, size_t errlen)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

	if (hp->aws_access_key_id != NULL) {
		if (hp->api_key_file == NULL && hp->api_key_command == NULL) {
			snprintf(err, errlen, "aws_access_key_id needs "
			    "api_key_file or api_key_command (the secret "
			    "access key)");
			return -1;
		}
		if ((k->aws_secret = read_secret("api_key_file",
		    hp->api_key_file, "api_key_command", hp->api_key_command,
		    err, errlen)) == NULL)
			return -1;
		k->aws_id = strdup(hp->aws_access_key_id);
	} else if (id != NULL && secret != NULL) {
		k->aws_id = strdup(id);
		k->aws_secret = strdup(secret);
		k->aws_token = xstrdup_or_null(getenv("AWS_SESSION_TOKEN"));
	} else if (aws_shared(hp, k, err, errlen) == -1)
		return -1;
	if (k->aws_id == NULL || k->aws_secret == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
http_keys_load(struct http *hp, struct http_keys *k, char *err,
    size_t errlen)
{
	memset(k, 0, sizeof(*k));
	if (hp->provider == HTTP_SES)
		return aws_keys(hp, k, err, errlen);
	if ((hp->api_key_file != NULL || hp->api_key_command != NULL) &&
	    (k->api_key = read_secret("api_key_file", hp->api_key_file,
	    "api_key_command", hp->api_key_command, err, errlen)) == NULL)
		return -1;
	if ((hp->signing_secret_file != NULL ||
	    hp->signing_secret_command != NULL) &&
	    (k->signing_secret = read_secret("signing_secret_file",
	    hp->signing_secret_file, "signing_secret_command",
	    hp->signing_secret_command, err, errlen)) == NULL) {
		http_keys_free(hp, k);
		return -1;
	}
	return 0;
}

void
http_keys_free(struct http *hp, struct http_keys *k)
{
	secret_free(k->api_key);
	secret_free(k->aws_id);
	secret_free(k->aws_secret);
	secret_free(k->aws_token);
	secret_free(k->signing_secret);
	memset(k, 0, sizeof(*k));
}

/* ---- the message as a body -------------------------------------------- */

static ssize_t
src_read(void *ctx, void *buf, size_t n)
{
	struct http_call *c = ctx;

	return c->hp->h->stream_read(c->stream, buf, n);
}

static int
src_rewind(void *ctx)
{
	struct http_call *c = ctx;

	return c->hp->h->stream_rewind(c->stream) == 0 ? 0 : -1;
}

static int
open_src(struct http_call *c)
{
	const struct plume_host *h = c->hp->h;

	if ((c->stream = h->stream_open(c->m, PLUME_STREAM_MESSAGE)) == NULL)
		return -1;
	c->src.read = src_read;
	c->src.rewind = src_rewind;
	c->src.ctx = c;
	c->src.len = h->msg_size(c->m);
	return 0;
}

bool
http_msg_needed(const struct http *hp)
{
	return hp->provider != HTTP_MAILGUN && hp->provider != HTTP_WEBHOOK;
}

char *
http_msg_read(struct http *hp, struct plume_msg *m, size_t *len_r)
{
	const struct plume_host *h = hp->h;
	size_t len = (size_t)h->msg_size(m), have = 0;
	struct plume_stream *st;
	char *buf = NULL;
	ssize_t n;

	if ((st = h->stream_open(m, PLUME_STREAM_MESSAGE)) == NULL)
		return NULL;
	if ((buf = malloc(len + 1)) != NULL) {
		while (have < len && (n = h->stream_read(st, buf + have,
		    len - have)) > 0)
			have += (size_t)n;
		if (have != len) {
			free(buf);
			buf = NULL;
		} else {
			buf[len] = '\0';
			*len_r = len;
		}
	}
	h->stream_close(st);
	return buf;
}

static int
fail(struct http_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct http_call *c, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, sizeof(c->err), "%s: ",
	    http_provider_name(c->hp->provider));
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	c->fail_status = status;
	return -1;
}

static int
header(struct http_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
header(struct http_call *c, const char *fmt, ...)
{
	char line[2048];
	struct curl_slist *l;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    (l = curl_slist_append(c->headers, line)) == NULL) {
		OPENSSL_cleanse(line, sizeof(line));
		return fail(c, PLUME_TEMPFAIL, "header too long or no memory");
	}
	OPENSSL_cleanse(line, sizeof(line));
	c->headers = l;
	return 0;
}

static int
body_json(struct http_call *c, json_t *j)
{
	if (j == NULL || (c->body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return fail(c, PLUME_TEMPFAIL, "out of memory building JSON");
	}
	json_decref(j);
	c->req.body = c->body;
	c->req.len = strlen(c->body);
	return header(c, "Content-Type: application/json");
}

static json_t *
rcpt_array(struct http_call *c)
{
	json_t *a = json_array();

	for (size_t i = c->r0; a != NULL && i < c->r1; i++)
		if (json_array_append_new(a, json_string(c->hp->h->msg_rcpt(
		    c->m, i))) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* ---- providers -------------------------------------------------------- */

static int
build_mailgun(struct http_call *c, CURL *curl)
{
	struct http *hp = c->hp;
	curl_mimepart *p;
	size_t n;

	snprintf(c->url, sizeof(c->url), "%s/v3/%s/messages.mime",
	    hp->base_url, hp->domain);
	n = strlen(c->keys->api_key) + 5;
	if ((c->userpwd = malloc(n)) == NULL ||
	    (c->mime = curl_mime_init(curl)) == NULL || open_src(c) == -1)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	snprintf(c->userpwd, n, "api:%s", c->keys->api_key);
	for (size_t i = c->r0; i < c->r1; i++)
		if ((p = curl_mime_addpart(c->mime)) == NULL ||
		    curl_mime_name(p, "to") != CURLE_OK ||
		    curl_mime_data(p, hp->h->msg_rcpt(c->m, i),
		    CURL_ZERO_TERMINATED) != CURLE_OK)
			return fail(c, PLUME_TEMPFAIL, "out of memory");
	if ((p = curl_mime_addpart(c->mime)) == NULL ||
	    curl_mime_name(p, "message") != CURLE_OK ||
	    curl_mime_filename(p, "message.mime") != CURLE_OK ||
	    curl_mime_type(p, "message/rfc822") != CURLE_OK ||
	    http_mime_src(p, &c->src) == -1)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	c->req.mime = c->mime;
	c->req.src = &c->src;
	c->req.userpwd = c->userpwd;
	return 0;
}

static int
build_sparkpost(struct http_call *c)
{
	json_t *j, *rc = json_array(), *raw;

	if (rc == NULL)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	if ((raw = json_stringn(c->msg, c->msglen)) == NULL) {
		json_decref(rc);
		return fail(c, PLUME_PERMFAIL, "the message has 8-bit bytes "
		    "that are not UTF-8, which SparkPost's email_rfc822 "
		    "cannot carry");
	}
	for (size_t i = c->r0; i < c->r1; i++)
		json_array_append_new(rc, json_pack("{s:{s:s}}", "address",
		    "email", c->hp->h->msg_rcpt(c->m, i)));
	j = json_pack("{s:{s:b,s:b},s:o,s:{s:o}}",
	    "options", "open_tracking", 0, "click_tracking", 0,
	    "recipients", rc, "content", "email_rfc822", raw);
	snprintf(c->url, sizeof(c->url), "%s/api/v1/transmissions",
	    c->hp->base_url);
	if (header(c, "Authorization: %s", c->keys->api_key) == -1)
		return -1;
	return body_json(c, j);
}

/* "host" or "host:port" of the base URL, as libcurl sends it. */
static int
url_authority(const char *url, char *out, size_t outlen)
{
	const char *h = strstr(url, "://"), *e;

	if (h == NULL)
		return -1;
	h += 3;
	e = h + strcspn(h, "/?#");
	if (e == h || (size_t)(e - h) >= outlen)
		return -1;
	memcpy(out, h, (size_t)(e - h));
	out[e - h] = '\0';
	return 0;
}

/* Signs c's request (its body as it stands) for SES with SigV4 and adds
   the headers that carry the signature. */
static int
ses_sign(struct http_call *c, const char *method, const char *path,
    const char *host)
{
	const struct http_keys *k = c->keys;
	struct sigv4_header hs[4];
	struct sigv4_creds cr = { k->aws_id, k->aws_secret, k->aws_token };
	struct sigv4_request rq;
	char date[SIGV4_AMZ_DATE_SIZE], hash[SIGV4_SHA256_HEX_SIZE], err[200];
	char *auth = NULL;
	time_t now = c->hp->h->now();
	size_t nh = 0;

	if (sigv4_sha256_hex(c->req.body ? c->req.body : "", c->req.len,
	    hash) == -1 || sigv4_amz_date(now, date) == -1)
		return fail(c, PLUME_TEMPFAIL, "SigV4: no hash or date");
	if (c->req.body != NULL)
		hs[nh++] = (struct sigv4_header){ "content-type",
		    "application/json" };
	hs[nh++] = (struct sigv4_header){ "host", host };
	hs[nh++] = (struct sigv4_header){ "x-amz-date", date };
	if (k->aws_token != NULL)
		hs[nh++] = (struct sigv4_header){ "x-amz-security-token",
		    k->aws_token };
	rq = (struct sigv4_request){ method, path, NULL, hs, nh, hash };
	if (sigv4_sign(&cr, c->hp->region, "ses", now, &rq, true, date, &auth,
	    NULL, NULL, err, sizeof(err)) == -1)
		return fail(c, PLUME_TEMPFAIL, "SigV4: %s", err);
	if (header(c, "Host: %s", host) == -1 ||
	    header(c, "X-Amz-Date: %s", date) == -1 ||
	    (k->aws_token != NULL && header(c, "X-Amz-Security-Token: %s",
	    k->aws_token) == -1) ||
	    header(c, "Authorization: %s", auth) == -1) {
		free(auth);
		return -1;
	}
	free(auth);
	return 0;
}

static int
build_ses(struct http_call *c)
{
	char host[300], *b64;
	json_t *j;

	if ((b64 = b64_encode(c->msg, c->msglen)) == NULL)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	j = json_pack("{s:{s:{s:s}},s:{s:o}}", "Content", "Raw", "Data", b64,
	    "Destination", "ToAddresses", rcpt_array(c));
	free(b64);
	snprintf(c->url, sizeof(c->url), "%s/v2/email/outbound-emails",
	    c->hp->base_url);
	if (url_authority(c->hp->base_url, host, sizeof(host)) == -1)
		return fail(c, PLUME_PERMFAIL, "base_url has no host");
	if (body_json(c, j) == -1)
		return -1;
	return ses_sign(c, "POST", "/v2/email/outbound-emails", host);
}

static int
build_json_api(struct http_call *c)
{
	struct http *hp = c->hp;
	const char **rcpts = calloc(c->r1 - c->r0 + 1, sizeof(*rcpts));
	struct http_json_envelope env;
	char err[300];

	if (rcpts == NULL)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	if (c->r0 == 0 && hp->h->header_find(c->m, "DKIM-Signature", 0) >= 0)
		hp->h->log(hp->in, PLUME_LOG_WARNING, "%s takes JSON, not the "
		    "message: it re-signs it with its own DKIM key, and this "
		    "message's DKIM-Signature is lost (use mailgun, ses or "
		    "sparkpost to keep it)", http_provider_name(hp->provider));
	for (size_t i = c->r0; i < c->r1; i++)
		rcpts[i - c->r0] = hp->h->msg_rcpt(c->m, i);
	env = (struct http_json_envelope){ hp->h->msg_sender(c->m), rcpts,
	    c->r1 - c->r0, hp->message_stream };
	c->body = http_json_convert(hp->provider == HTTP_SENDGRID ?
	    HTTP_JSON_SENDGRID : HTTP_JSON_POSTMARK, &env, c->msg, c->msglen,
	    err, sizeof(err));
	free(rcpts);
	if (c->body == NULL)
		return fail(c, PLUME_PERMFAIL, "%s", err);
	c->req.body = c->body;
	c->req.len = strlen(c->body);
	if (hp->provider == HTTP_SENDGRID) {
		snprintf(c->url, sizeof(c->url), "%s/v3/mail/send",
		    hp->base_url);
		if (header(c, "Authorization: Bearer %s", c->keys->api_key) ==
		    -1)
			return -1;
	} else {
		snprintf(c->url, sizeof(c->url), "%s/email", hp->base_url);
		if (header(c, "Accept: application/json") == -1 ||
		    header(c, "X-Postmark-Server-Token: %s",
		    c->keys->api_key) == -1)
			return -1;
	}
	return header(c, "Content-Type: application/json");
}

/* HMAC-SHA256(secret, timestamp "." body) in hex, reading the body. */
static int
webhook_sign(struct http_call *c, const char *ts, char hex[65])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	const char *key = c->keys->signing_secret;
	unsigned char md[32], buf[65536];
	size_t mdlen = 0;
	ssize_t n;
	int rc = -1;

	if (ctx == NULL || !EVP_MAC_init(ctx, (const unsigned char *)key,
	    strlen(key), params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)".", 1))
		goto out;
	while ((n = src_read(c, buf, sizeof(buf))) > 0)
		if (!EVP_MAC_update(ctx, buf, (size_t)n))
			goto out;
	if (n < 0 || !EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) ||
	    src_rewind(c) == -1)
		goto out;
	for (size_t i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

static int
build_webhook(struct http_call *c)
{
	struct http *hp = c->hp;
	const char *qid = hp->h->msg_param(c->m, PLUME_PARAM_QUEUE_ID);
	size_t n;

	snprintf(c->url, sizeof(c->url), "%s", hp->base_url);
	if (open_src(c) == -1)
		return fail(c, PLUME_TEMPFAIL, "cannot read the message");
	if (header(c, "Content-Type: message/rfc822") == -1 ||
	    header(c, "X-Plume-Sender: %s", hp->h->msg_sender(c->m)) == -1 ||
	    (qid != NULL && header(c, "X-Plume-Queue-Id: %s", qid) == -1))
		return -1;
	for (size_t i = c->r0; i < c->r1; i++)
		if (header(c, "X-Plume-Recipient: %s",
		    hp->h->msg_rcpt(c->m, i)) == -1)
			return -1;
	if (hp->auth == AUTH_BEARER && header(c, "Authorization: Bearer %s",
	    c->keys->api_key) == -1)
		return -1;
	if (hp->auth == AUTH_BASIC) {
		n = strlen(hp->user) + strlen(c->keys->api_key) + 2;
		if ((c->userpwd = malloc(n)) == NULL)
			return fail(c, PLUME_TEMPFAIL, "out of memory");
		snprintf(c->userpwd, n, "%s:%s", hp->user, c->keys->api_key);
		c->req.userpwd = c->userpwd;
	}
	if (c->keys->signing_secret != NULL) {
		char ts[32], hex[65];

		snprintf(ts, sizeof(ts), "%lld", (long long)hp->h->now());
		if (webhook_sign(c, ts, hex) == -1)
			return fail(c, PLUME_TEMPFAIL, "cannot sign the "
			    "message");
		if (header(c, "X-Plume-Timestamp: %s", ts) == -1 ||
		    header(c, "X-Plume-Signature: sha256=%s", hex) == -1)
			return -1;
	}
	c->req.src = &c->src;
	return 0;
}

int
http_call_build(struct http_call *c, CURL *curl)
{
	int rc = -1;

	switch (c->hp->provider) {
	case HTTP_MAILGUN:
		rc = build_mailgun(c, curl);
		break;
	case HTTP_SES:
		rc = build_ses(c);
		break;
	case HTTP_SPARKPOST:
		rc = build_sparkpost(c);
		break;
	case HTTP_SENDGRID:
	case HTTP_POSTMARK:
		rc = build_json_api(c);
		break;
	case HTTP_WEBHOOK:
		rc = build_webhook(c);
		break;
	}
	c->req.url = c->url;
	c->req.headers = c->headers;
	return rc;
}

static int
userpwd(struct http_call *c, const char *user)
{
	size_t n = strlen(user) + strlen(c->keys->api_key) + 2;

	if ((c->userpwd = malloc(n)) == NULL)
		return fail(c, PLUME_TEMPFAIL, "out of memory");
	snprintf(c->userpwd, n, "%s:%s", user, c->keys->api_key);
	c->req.userpwd = c->userpwd;
	return 0;
}

int
http_call_build_probe(struct http_call *c)
{
	struct http *hp = c->hp;
	const char *key = c->keys->api_key;
	char host[300];
	int rc = -1;

	c->req.method = "GET";
	switch (hp->provider) {
	case HTTP_MAILGUN:
		snprintf(c->url, sizeof(c->url), "%s/v3/domains/%s",
		    hp->base_url, hp->domain);
		rc = userpwd(c, "api");
		break;
	case HTTP_SES:
		snprintf(c->url, sizeof(c->url), "%s/v2/email/account",
		    hp->base_url);
		if (url_authority(hp->base_url, host, sizeof(host)) == -1)
			rc = fail(c, PLUME_PERMFAIL, "base_url has no host");
		else
			rc = ses_sign(c, "GET", "/v2/email/account", host);
		break;
	case HTTP_SPARKPOST:
		snprintf(c->url, sizeof(c->url), "%s/api/v1/account",
		    hp->base_url);
		rc = header(c, "Authorization: %s", key);
		break;
	case HTTP_SENDGRID:
		snprintf(c->url, sizeof(c->url), "%s/v3/scopes", hp->base_url);
		rc = header(c, "Authorization: Bearer %s", key);
		break;
	case HTTP_POSTMARK:
		snprintf(c->url, sizeof(c->url), "%s/server", hp->base_url);
		rc = header(c, "Accept: application/json") == -1 ? -1 :
		    header(c, "X-Postmark-Server-Token: %s", key);
		break;
	case HTTP_WEBHOOK:
		/* nothing to ask without posting: reachability only */
		snprintf(c->url, sizeof(c->url), "%s", hp->base_url);
		c->req.method = "HEAD";
		rc = hp->auth == AUTH_BEARER ? header(c, "Authorization: "
		    "Bearer %s", key) : hp->auth == AUTH_BASIC ?
		    userpwd(c, hp->user) : 0;
		break;
	}
	c->req.url = c->url;
	c->req.headers = c->headers;
	return rc;
}

void
http_call_free(struct http_call *c)
{
	if (c->headers != NULL) {
		/* they may hold keys */
		for (struct curl_slist *l = c->headers; l != NULL; l = l->next)
			OPENSSL_cleanse(l->data, strlen(l->data));
		curl_slist_free_all(c->headers);
	}
	if (c->mime != NULL)
		curl_mime_free(c->mime);
	if (c->stream != NULL)
		c->hp->h->stream_close(c->stream);
	if (c->userpwd != NULL) {
		OPENSSL_cleanse(c->userpwd, strlen(c->userpwd));
		free(c->userpwd);
	}
	free(c->body);
	c->headers = NULL;
	c->mime = NULL;
	c->stream = NULL;
	c->userpwd = NULL;
	c->body = NULL;
}
