/*
 * NAME
 *	http_sigv4.h - AWS Signature Version 4 for the http transport
 * SYNOPSIS
 *	#include "http_sigv4.h"
 * DESCRIPTION
 *	See http_sigv4.c.  In short, to sign an SES v2 SendEmail request
 *	(POST /v2/email/outbound-emails, a JSON body):
 *
 *	  char date[SIGV4_AMZ_DATE_SIZE], hash[SIGV4_SHA256_HEX_SIZE];
 *	  sigv4_amz_date(now, date);
 *	  sigv4_sha256_hex(body, len, hash);
 *	  headers = Host: email.REGION.amazonaws.com
 *	            Content-Type: application/json
 *	            X-Amz-Date: date
 *	            X-Amz-Security-Token: token  (only with a session token)
 *	  sigv4_sign(&creds, REGION, "ses", now, &req, true, date,
 *	      &authz, NULL, NULL, err, sizeof(err));
 *	  send exactly those headers, plus "Authorization: " authz
 *
 *	req->headers must hold Host (as sent, with ":port" if not the
 *	default), X-Amz-Date once with the value sigv4_amz_date(when)
 *	gives, and, when creds->session_token is not NULL, X-Amz-Security-
 *	Token once with that token; never Authorization.  sigv4_sign()
 *	refuses a request that breaks these rules.  Header names are
 *	matched without regard to case.
 */
#ifndef HTTP_SIGV4_H
#define HTTP_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIGV4_AMZ_DATE_SIZE	17	/* "20150830T123600Z" and a NUL */
#define SIGV4_SHA256_HEX_SIZE	65	/* 64 lower-case hex digits, NUL */

/*
 * One header field to sign, as it is sent: any case of name, value with
 * or without surrounding white space; a folded value (CRLF or LF then
 * SP or HTAB) counts as one space.  A name may repeat: its values are
 * signed joined with commas, in the order given.
 */
struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;		/* "POST" */
	const char *path;		/* as sent (percent-encoded) */
	const char *query;		/* as sent, without '?'; NULL or "" */
	const struct sigv4_header *headers;	/* every header to sign */
	size_t	 nheaders;
	const char *payload_sha256_hex;	/* of the body, lower-case hex */
};

struct sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* temporary credentials, or NULL */
};

int	 sigv4_amz_date(time_t, char [SIGV4_AMZ_DATE_SIZE]);
int	 sigv4_sha256_hex(const void *, size_t, char [SIGV4_SHA256_HEX_SIZE]);
int	 sigv4_sign(const struct sigv4_creds *, const char *region,
	    const char *service, time_t when, const struct sigv4_request *,
	    bool normalize_path, char amz_date[SIGV4_AMZ_DATE_SIZE],
	    char **authorization_r, char **canonical_r,
	    char **string_to_sign_r, char *err, size_t errlen);

#endif /* HTTP_SIGV4_H */
