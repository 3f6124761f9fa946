/*
 * NAME
 *	http_json.h - a MIME message as a SendGrid or Postmark JSON request
 * SYNOPSIS
 *	#include "http_json.h"
 *
 *	http_json_init();
 *	json = http_json_convert(HTTP_JSON_POSTMARK, &env, msg, len,
 *	    err, sizeof(err));
 *	...POST json...; free(json);
 *	http_json_shutdown();
 * DESCRIPTION
 *	See http_json.c for what goes where and why.  In short:
 *
 *	Recipients.  The envelope is the truth: exactly env->rcpts get the
 *	message, nobody else.  Each envelope recipient (compared without
 *	regard to case, duplicates dropped) is classed by the headers:
 *	named in To -> to, else named in Cc -> cc, else -> bcc (sendmail
 *	has already taken the Bcc header out).  Its display name comes
 *	from that header.  An address in To or Cc that is not an envelope
 *	recipient is left out: giving it to the provider would mail it.
 *	Both providers want a "to": when no recipient is in To, the cc
 *	ones take its place; when there are only bcc ones, SendGrid gets
 *	one personalization per recipient addressed to it alone, and
 *	Postmark (one message, one To) takes a lone recipient as To and
 *	refuses several (convert once per recipient instead: nrcpt 1
 *	always converts).
 *
 *	Limits refused here rather than by the provider: SendGrid 1000
 *	recipients per request, Postmark 50 per message (To, Cc and Bcc
 *	together); a message with neither a text nor an HTML body (both
 *	refuse attachments alone); no usable From.
 *
 *	GMime must be initialised before the first conversion:
 *	http_json_init() does it (a conversion without it calls it once),
 *	and may be called more than once: calls are counted, and the last
 *	matching http_json_shutdown() shuts GMime down.  Not thread-safe:
 *	call both from the plugin's init and fini.
 * DIAGNOSTICS
 *	http_json_convert() returns NULL and a one-line reason in err.
 */
#ifndef HTTP_JSON_H
#define HTTP_JSON_H

#include <stddef.h>

enum http_json_provider {
	HTTP_JSON_SENDGRID,		/* POST /v3/mail/send */
	HTTP_JSON_POSTMARK,		/* POST /email */
};

#define HTTP_JSON_SENDGRID_MAX_RCPT	1000	/* to+cc+bcc, per request */
#define HTTP_JSON_POSTMARK_MAX_RCPT	50	/* To+Cc+Bcc, per message */

struct http_json_envelope {
	/*
	 * The envelope sender.  Not sent: both providers choose the
	 * Return-Path themselves (it is how they see bounces).  Kept for
	 * the caller's logs and for a provider that may take one later.
	 */
	const char		*sender;
	const char *const	*rcpts;		/* bare addr-specs */
	size_t			 nrcpt;
	const char		*message_stream; /* Postmark MessageStream, or
						    NULL for the server's
						    default ("outbound") */
};

void	http_json_init(void);
void	http_json_shutdown(void);

/*
 * msg/len: the whole message as plume keeps it (CRLF line ends).
 * Returns compact JSON, keys in a fixed order, in memory the caller
 * frees with free(); or NULL with a reason in err.
 */
char	*http_json_convert(enum http_json_provider,
	    const struct http_json_envelope *, const void *msg, size_t len,
	    char *err, size_t errlen);

#endif
