/*
 * NAME
 *	http_result.c - what an email provider's HTTP answer means for the
 *	message
 * SYNOPSIS
 *	http_result(HTTP_SES, &resp, time(NULL), &out);
 * DESCRIPTION
 *	Every answer becomes plume's common result: an SMTP-style code, an
 *	RFC 3463 enhanced status code, the provider's own words (with its
 *	request id) and, when the provider says when to come back, the
 *	time of the next attempt.  The rule is the issue's, and it keeps
 *	mail safe when in doubt:
 *
 *	  2xx			delivered (250 2.0.0), with the provider's id
 *	  401, 403		permanent: the API key or signature was
 *				refused (535 5.7.8); auth_failure = defer
 *				makes it temporary (http.c)
 *	  413			permanent: too large (552 5.3.4)
 *	  400, 422		permanent: the request or the message was
 *				refused (554 5.6.0; SES MessageRejected and
 *				unverified identities 5.7.1; Postmark's
 *				inactive recipient 550 5.1.1), except the
 *				account-level conditions the admin fixes
 *				(SES sending paused or account suspended,
 *				limits exceeded): temporary
 *	  420 (SparkPost), 429	temporary, rate limited (451 4.7.0)
 *	  404			temporary: the domain, region or base_url is
 *				wrong, which the admin fixes (451 4.3.5)
 *	  5xx, other		temporary (451 4.3.0)
 *	  no answer		temporary (451 4.4.1; 4.4.2 on a timeout),
 *				saying when the request had gone out whole,
 *				so a duplicate is possible
 *
 *	The next attempt comes from Retry-After (seconds or an HTTP date)
 *	or, without it, SendGrid's X-RateLimit-Reset (a Unix time).
 *
 *	The provider's words come from its JSON error shape: errors[]
 *	.message (+ .description) for SendGrid and SparkPost, "message"
 *	for Mailgun and SES, "Message" and "ErrorCode" for Postmark; else
 *	the start of the answer.  Control characters never pass into the
 *	text (it goes to logs and bounces).
 */
#define _GNU_SOURCE		/* strptime, timegm */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "catf.h"
#include "http.h"

/* plume/plugin.h's statuses, without pulling in the whole ABI here */
enum { R_OK = 0, R_TEMP = 1, R_PERM = 2 };

#define CURLE_TIMEOUT	28	/* CURLE_OPERATION_TIMEDOUT */

static const char *const names[] = {
	[HTTP_MAILGUN] = "mailgun",
	[HTTP_SES] = "ses",
	[HTTP_SPARKPOST] = "sparkpost",
	[HTTP_SENDGRID] = "sendgrid",
	[HTTP_POSTMARK] = "postmark",
	[HTTP_WEBHOOK] = "webhook",
};

const char *
http_provider_name(enum http_provider p)
{
	return names[p];
}

void
http_resp_reset(struct http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Appends text with control characters and runs of blanks made one
   space, at most max bytes of it. */
static void
cat_clean(char *buf, size_t size, const char *text, size_t len, size_t max)
{
	size_t have = strlen(buf), n = 0;
	bool blank = have > 0 && buf[have - 1] == ' ';

	for (size_t i = 0; i < len && n < max && have + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (blank)
				continue;
			c = ' ';
			blank = true;
		} else
			blank = false;
		buf[have++] = (char)c;
		n++;
	}
	buf[have] = '\0';
}

static const char *
jstr(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The provider's words about a failure, into buf. */
static void
words(const struct http_resp *r, json_t *j, char *buf, size_t size)
{
	json_t *errs = json_is_object(j) ? json_object_get(j, "errors") :
	    NULL;
	const char *m;

	buf[0] = '\0';
	if (json_is_array(errs)) {
		size_t i;
		json_t *e;

		json_array_foreach(errs, i, e) {
			const char *d = jstr(e, "description");

			if (i == 3) {
				catf(buf, size, "; ...");
				break;
			}
			if ((m = jstr(e, "message")) == NULL)
				continue;
			if (buf[0] != '\0')
				catf(buf, size, "; ");
			cat_clean(buf, size, m, strlen(m), 300);
			if (d != NULL) {
				catf(buf, size, ": ");
				cat_clean(buf, size, d, strlen(d), 300);
			}
		}
		if (buf[0] != '\0')
			return;
	}
	if ((m = jstr(j, "message")) != NULL ||
	    (m = jstr(j, "Message")) != NULL) {
		json_t *code = json_object_get(j, "ErrorCode");

		cat_clean(buf, size, m, strlen(m), 600);
		if (json_is_integer(code))
			catf(buf, size, " (ErrorCode %lld)",
			    (long long)json_integer_value(code));
		return;
	}
	if (r->body != NULL && r->len > 0)
		cat_clean(buf, size, r->body, r->len, 300);
}

/* The provider's id of an accepted message. */
static const char *
accepted_id(enum http_provider p, const struct http_resp *r, json_t *j)
{
	const char *id = NULL;

	switch (p) {
	case HTTP_MAILGUN:
		id = jstr(j, "id");
		break;
	case HTTP_SES:
		id = jstr(j, "MessageId");
		break;
	case HTTP_SPARKPOST:
		id = jstr(json_object_get(j, "results"), "id");
		break;
	case HTTP_SENDGRID:
		id = r->message_id[0] ? r->message_id : NULL;
		break;
	case HTTP_POSTMARK:
		id = jstr(j, "MessageID");
		break;
	case HTTP_WEBHOOK:
		id = jstr(j, "id");
		break;
	}
	if (id == NULL && r->request_id[0] != '\0')
		id = r->request_id;
	return id;
}

/* Retry-After: delta seconds or an HTTP date; else a Unix time (or a
   delta) in X-RateLimit-Reset.  0 when neither says. */
static time_t
next_time(const struct http_resp *r, time_t now)
{
	const char *v = r->retry_after;
	char *end;
	long long n;

	if (v[0] != '\0') {
		struct tm tm;

		n = strtoll(v, &end, 10);
		if (end != v && *end == '\0' && n >= 0)
			return now + (time_t)n;
		memset(&tm, 0, sizeof(tm));
		end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end != NULL && *end == '\0')
			return timegm(&tm);
	}
	v = r->ratelimit_reset;
	if (v[0] != '\0') {
		n = strtoll(v, &end, 10);
		if (end != v && *end == '\0' && n >= 0)
			/* a small number is a delta, a large one a time */
			return n < 1000000000 ? now + (time_t)n : (time_t)n;
	}
	return 0;
}

static void
set(struct http_outcome *o, int status, int code, const char *enh)
{
	o->status = status;
	o->code = code;
	snprintf(o->enhanced, sizeof(o->enhanced), "%s", enh);
}

/* 400/422: the message or the request was refused, or an account
   condition that the admin will fix. */
static void
refused(enum http_provider p, const struct http_resp *r, json_t *j,
    struct http_outcome *o)
{
	const char *t = r->error_type;
	json_t *pm = json_is_object(j) ? json_object_get(j, "ErrorCode") :
	    NULL;
	long long pmcode = json_is_integer(pm) ? json_integer_value(pm) : -1;

	set(o, R_PERM, 554, "5.6.0");
	if (p == HTTP_SES) {
		if (strcasestr(t, "MessageRejected") != NULL)
			set(o, R_PERM, 554, "5.7.1");
		else if (strcasestr(t, "NotVerified") != NULL)
			set(o, R_PERM, 550, "5.7.1");
		else if (strcasestr(t, "SendingPaused") != NULL ||
		    strcasestr(t, "AccountSuspended") != NULL ||
		    strcasestr(t, "LimitExceeded") != NULL ||
		    strcasestr(t, "TooManyRequests") != NULL)
			set(o, R_TEMP, 451, "4.7.0");
	} else if (p == HTTP_POSTMARK) {
		if (pmcode == 10) {
			set(o, R_PERM, 535, "5.7.8");
			o->auth = true;
		} else if (pmcode == 406)
			set(o, R_PERM, 550, "5.1.1");
		else if (pmcode == 405 || pmcode == 412 || pmcode == 429)
			/* not allowed to send yet, account pending,
			   rate limited: the account, not the message */
			set(o, R_TEMP, 451, "4.7.0");
	}
}

void
http_result(enum http_provider p, const struct http_resp *r, time_t now,
    struct http_outcome *o)
{
	const char *name = names[p], *id, *what = "";
	char said[800];
	json_t *j = NULL;
	long st = r->status;

	memset(o, 0, sizeof(*o));
	if (r->curl_code != 0 || st == 0) {
		set(o, R_TEMP, 451, r->curl_code == CURLE_TIMEOUT ? "4.4.2" :
		    "4.4.1");
		snprintf(o->text, sizeof(o->text), "%s: %s", name,
		    r->curl_error[0] ? r->curl_error : "no answer");
		if (r->sent_all)
			catf(o->text, sizeof(o->text), " (the request had been "
			    "sent whole: the provider may have accepted it, a "
			    "duplicate is possible)");
		return;
	}
	if (r->body != NULL && r->len > 0)
		j = json_loadb(r->body, r->len, JSON_DISABLE_EOF_CHECK, NULL);
	if (st >= 200 && st <= 299) {
		set(o, R_OK, 250, "2.0.0");
		id = accepted_id(p, r, j);
		if (id != NULL)
			snprintf(o->remote_id, sizeof(o->remote_id), "%s", id);
		snprintf(o->text, sizeof(o->text), "%s accepted it (HTTP %ld)",
		    name, st);
		if (id != NULL) {
			catf(o->text, sizeof(o->text), ": id ");
			cat_clean(o->text, sizeof(o->text), id, strlen(id), 200);
		}
		json_decref(j);
		return;
	}
	if (st == 401 || st == 403) {
		set(o, R_PERM, 535, "5.7.8");
		o->auth = true;
		what = ": the API key or credentials were refused";
	} else if (st == 413) {
		set(o, R_PERM, 552, "5.3.4");
		what = ": the message is too large for it";
	} else if (st == 400 || st == 422) {
		refused(p, r, j, o);
		what = o->status == R_PERM ? ": the request was refused" : "";
	} else if (st == 429 || (st == 420 && p == HTTP_SPARKPOST)) {
		set(o, R_TEMP, 451, "4.7.0");
		what = ": rate limited";
	} else if (st == 404) {
		set(o, R_TEMP, 451, "4.3.5");
		what = ": not found (check domain, region and base_url)";
	} else
		set(o, R_TEMP, 451, "4.3.0");
	words(r, j, said, sizeof(said));
	snprintf(o->text, sizeof(o->text), "%s: HTTP %ld%s", name, st, what);
	if (r->error_type[0] != '\0') {
		catf(o->text, sizeof(o->text), ": ");
		cat_clean(o->text, sizeof(o->text), r->error_type,
		    strlen(r->error_type), 100);
	}
	if (said[0] != '\0')
		catf(o->text, sizeof(o->text), ": %s", said);
	if (r->request_id[0] != '\0') {
		catf(o->text, sizeof(o->text), " [request ");
		cat_clean(o->text, sizeof(o->text), r->request_id,
		    strlen(r->request_id), 100);
		catf(o->text, sizeof(o->text), "]");
	}
	if (o->status == R_TEMP)
		o->retry_after = next_time(r, now);
	json_decref(j);
}
