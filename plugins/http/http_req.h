/*
 * NAME
 *	http_req.h - one HTTPS request with libcurl
 */
#ifndef PLUGIN_HTTP_REQ_H
#define PLUGIN_HTTP_REQ_H

#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>

#include "http.h"

/* A body read as it is sent, never held whole in memory. */
struct http_src {
	ssize_t	(*read)(void *ctx, void *buf, size_t n);
	int	(*rewind)(void *ctx);	/* 0, or -1 */
	void	*ctx;
	off_t	 len;
	off_t	 done;			/* bytes read so far */
};

struct http_req {
	const char *url;
	struct curl_slist *headers;	/* besides the defaults */
	/* the body: in memory, streamed from src, or multipart (mime,
	   with src set to the part that holds the message) */
	const char *body;
	size_t	 len;
	struct http_src *src;
	curl_mime *mime;
	const char *userpwd;		/* Basic auth "user:password" */
	const char *method;		/* NULL: POST; "GET", "HEAD" */
};

/* Settings that hold for every request of an instance. */
struct http_opts {
	const char *ca_file;		/* or NULL: the system store */
	const char *proxy;		/* or NULL: libcurl's variables */
	const char *user_agent;
	long	 connect_ms;
	/* -v: one line of the exchange; NULL when not wanted */
	void	(*debug)(void *ctx, const char *dir, const char *text,
		    size_t len);
	void	*debug_ctx;
};

/* Runs req on curl (a handle kept for the session, so the connection
   is reused) within timeout_ms.  Fills resp; returns 0 when an answer
   came, -1 when none did (resp says why). */
int	 http_perform(CURL *, const struct http_opts *,
	    const struct http_req *, long timeout_ms, struct http_resp *);

/* curl_mime part whose data is read from src as it is sent. */
int	 http_mime_src(curl_mimepart *, struct http_src *);

#endif
