/*
 * NAME
 *	http_req.c - one HTTPS request with libcurl
 * DESCRIPTION
 *	HTTPS only, TLS 1.2 or later, certificate and host name always
 *	verified, no redirects followed (plugins/common/curlsafe.c): a
 *	provider that answers 3xx is misconfigured, and an API key must
 *	never follow a redirect elsewhere.  Proxies come from the instance's proxy key
 *	or, without it, libcurl's standard variables (https_proxy,
 *	no_proxy).
 *
 *	The handle is reset before every request but kept for the session,
 *	so libcurl keeps the connection (keep-alive) and the TLS session.
 *	A body is sent from memory, from a stream (read as it is sent), or
 *	as multipart/form-data; "Expect: 100-continue" is switched off (it
 *	costs a round trip and the providers answer at once).
 *
 *	The answer's status, its first HTTP_BODY_MAX bytes and the headers
 *	that matter (Retry-After, rate-limit reset, request and message
 *	ids, SES's error type) are kept; the headers of an interim 1xx
 *	answer are dropped.
 *
 *	With -v each header line is logged, Authorization and token header
 *	values replaced by "<redacted>".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "curlsafe.h"
#include "http_req.h"

struct xfer {
	struct http_resp *resp;
	const struct http_opts *o;
};

static size_t
on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct http_resp *r = ((struct xfer *)ctx)->resp;
	size_t len = size * n, room = HTTP_BODY_MAX - r->len;
	char *b;

	if (len > room) {
		r->truncated = true;
		len = room;
	}
	if (len == 0)
		return size * n;
	if ((b = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;		/* libcurl ends the transfer */
	memcpy(b + r->len, p, len);
	r->body = b;
	r->len += len;
	r->body[r->len] = '\0';
	return size * n;
}

/* Copies the value of a header line "Name: value\r\n" into out when
   the name is name. */
static void
header_value(const char *line, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name), i;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	for (i = n + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	while (len > i && isspace((unsigned char)line[len - 1]))
		len--;
	snprintf(out, outlen, "%.*s", (int)(len - i), line + i);
}

static size_t
on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct http_resp *r = ((struct xfer *)ctx)->resp;
	size_t len = size * n;

	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new status line: forget an interim answer's headers */
		r->retry_after[0] = r->ratelimit_reset[0] = '\0';
		r->request_id[0] = r->message_id[0] = '\0';
		r->error_type[0] = '\0';
		return len;
	}
	header_value(p, len, "Retry-After", r->retry_after,
	    sizeof(r->retry_after));
	header_value(p, len, "X-RateLimit-Reset", r->ratelimit_reset,
	    sizeof(r->ratelimit_reset));
	header_value(p, len, "x-amzn-RequestId", r->request_id,
	    sizeof(r->request_id));
	header_value(p, len, "X-Request-Id", r->request_id,
	    sizeof(r->request_id));
	header_value(p, len, "X-Message-Id", r->message_id,
	    sizeof(r->message_id));
	header_value(p, len, "x-amzn-ErrorType", r->error_type,
	    sizeof(r->error_type));
	return len;
}

static const char *const secret_headers[] = {
	"Authorization:", "X-Postmark-Server-Token:",
	"X-Amz-Security-Token:", "Proxy-Authorization:", NULL,
};

/* -v: header lines in and out, secrets redacted; bodies are not
   logged (they are the message). */
static int
on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ctx)
{
	const struct http_opts *o = ((struct xfer *)ctx)->o;
	const char *dir = type == CURLINFO_HEADER_OUT ? ">" :
	    type == CURLINFO_HEADER_IN ? "<" : type == CURLINFO_TEXT ? "*" :
	    NULL;

	if (dir == NULL)
		return 0;
	while (size > 0) {
		char *nl = memchr(data, '\n', size);
		size_t len = nl != NULL ? (size_t)(nl - data) + 1 : size;
		size_t show = len;
		bool secret = false;

		while (show > 0 && (data[show - 1] == '\n' ||
		    data[show - 1] == '\r'))
			show--;
		for (size_t i = 0; secret_headers[i] != NULL; i++) {
			size_t k = strlen(secret_headers[i]);

			if (show > k && strncasecmp(data, secret_headers[i],
			    k) == 0) {
				char line[64];

				snprintf(line, sizeof(line), "%.*s <redacted>",
				    (int)k, data);
				o->debug(o->debug_ctx, dir, line,
				    strlen(line));
				secret = true;
				break;
			}
		}
		/* libcurl's notes on each TLS record are noise */
		if (!secret && show > 0 && !(type == CURLINFO_TEXT &&
		    (strncmp(data, "TLSv", 4) == 0 ||
		    strncmp(data, "old SSL session", 15) == 0)))
			o->debug(o->debug_ctx, dir, data, show);
		data += len;
		size -= len;
	}
	return 0;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct http_src *s = ctx;
	ssize_t r = s->read(s->ctx, buf, size * n);

	if (r < 0)
		return CURL_READFUNC_ABORT;
	s->done += r;
	return (size_t)r;
}

static int
on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct http_src *s = ctx;

	/* libcurl only ever rewinds a body to resend it */
	if (origin != SEEK_SET || offset != 0 || s->rewind(s->ctx) == -1)
		return CURL_SEEKFUNC_CANTSEEK;
	s->done = 0;
	return CURL_SEEKFUNC_OK;
}

int
http_mime_src(curl_mimepart *part, struct http_src *src)
{
	return curl_mime_data_cb(part, (curl_off_t)src->len, on_read, on_seek,
	    NULL, src) == CURLE_OK ? 0 : -1;
}

int
http_perform(CURL *c, const struct http_opts *o, const struct http_req *q,
    long timeout_ms, struct http_resp *r)
{
	struct xfer x = { r, o };
	struct curl_slist *h = q->headers, *expect;
	curl_off_t up = 0;
	CURLcode cc;

	http_resp_reset(r);
	/* without "Expect:", libcurl waits for 100-continue on big bodies */
	if ((expect = curl_slist_append(NULL, "Expect:")) == NULL) {
		snprintf(r->curl_error, sizeof(r->curl_error), "out of memory");
		r->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	expect->next = h;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_safe_defaults(c, "https", o->ca_file);
	if (o->proxy != NULL)
		curl_easy_setopt(c, CURLOPT_PROXY, o->proxy);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms :
	    1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, expect);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (o->debug != NULL) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, &x);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}
	if (q->userpwd != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERPWD, q->userpwd);
	}
	if (q->src != NULL)
		q->src->done = 0;
	if (q->method != NULL && strcmp(q->method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (q->method != NULL && strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (q->mime != NULL)
		curl_easy_setopt(c, CURLOPT_MIMEPOST, q->mime);
	else if (q->src != NULL) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, q->src);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, q->src);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)q->src->len);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)q->len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	{
		char *ip = NULL;
		curl_off_t ct = -1, tt = -1;

		if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) ==
		    CURLE_OK && ip != NULL)
			snprintf(r->primary_ip, sizeof(r->primary_ip), "%s",
			    ip);
		curl_easy_getinfo(c, CURLINFO_PRIMARY_PORT, &r->primary_port);
		curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &ct);
		curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &tt);
		r->connect_ms = ct >= 0 ? (long)(ct / 1000) : -1;
		r->tls_ms = tt > 0 ? (long)(tt / 1000) : -1;
	}
	/* the options must not point at this call's stack afterwards */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	expect->next = NULL;
	curl_slist_free_all(expect);
	if (q->src != NULL)
		r->sent_all = q->src->done == q->src->len;
	else
		r->sent_all = up >= (curl_off_t)q->len;
	if (cc != CURLE_OK) {
		r->curl_code = (int)cc;
		if (r->curl_error[0] == '\0')
			snprintf(r->curl_error, sizeof(r->curl_error), "%s",
			    curl_easy_strerror(cc));
		r->status = 0;
		return -1;
	}
	return 0;
}
