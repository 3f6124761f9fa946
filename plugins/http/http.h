/*
 * NAME
 *	http.h - the http transport plugin's shared types
 * DESCRIPTION
 *	http.c holds the plugin (config, sessions, deliver), http_req.c
 *	runs one request with libcurl and keeps what the answer said,
 *	http_provider.c builds each provider's request, http_result.c
 *	turns an answer into plume's result (pure: unit-tested alone).
 */
#ifndef PLUGIN_HTTP_H
#define PLUGIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum http_provider {
	HTTP_MAILGUN,
	HTTP_SES,
	HTTP_SPARKPOST,
	HTTP_SENDGRID,
	HTTP_POSTMARK,
	HTTP_WEBHOOK,
};

/* The provider's name as in the config ("mailgun"). */
const char *http_provider_name(enum http_provider);

/* What came back: enough to decide and to explain. */
#define HTTP_BODY_MAX	65536	/* bytes of an answer kept */

struct http_resp {
	int	 curl_code;		/* CURLcode: 0 when an answer came */
	char	 curl_error[256];	/* libcurl's words when it did not */
	bool	 sent_all;		/* the whole request went out */
	long	 status;		/* HTTP status, 0 without an answer */
	char	*body;			/* the answer, NUL-terminated */
	size_t	 len;
	bool	 truncated;		/* longer than HTTP_BODY_MAX */
	/* header values, "" when absent */
	char	 retry_after[64];	/* Retry-After */
	char	 ratelimit_reset[64];	/* X-RateLimit-Reset (SendGrid) */
	char	 request_id[128];	/* x-amzn-RequestId, X-Request-Id */
	char	 message_id[256];	/* X-Message-Id (SendGrid) */
	char	 error_type[128];	/* x-amzn-ErrorType (SES) */
	/* how the connection went (plume doctor) */
	char	 primary_ip[64];	/* the address connected to */
	long	 primary_port;
	long	 connect_ms, tls_ms;	/* from the start; -1: unknown */
};

void	 http_resp_reset(struct http_resp *);

/* The result for every recipient of the message. */
struct http_outcome {
	int	 status;		/* PLUME_OK/TEMPFAIL/PERMFAIL */
	int	 code;			/* SMTP-style: 250, 451, 535, 552... */
	char	 enhanced[16];		/* RFC 3463 */
	char	 text[1024];		/* provider's words, plume's context */
	char	 remote_id[256];	/* the provider's id for the message */
	time_t	 retry_after;		/* earliest next attempt, or 0 */
	bool	 auth;			/* the credentials were refused */
};

/* Decides the outcome of resp for provider at wall time now. */
void	 http_result(enum http_provider, const struct http_resp *,
	    time_t now, struct http_outcome *);

#endif
