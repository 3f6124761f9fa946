/*
 * NAME
 *	http_provider.h - build one provider's request for a message
 */
#ifndef PLUGIN_HTTP_PROVIDER_H
#define PLUGIN_HTTP_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <plume/plugin.h>

#include "http.h"
#include "http_req.h"

/* An instance's settings, from its config section. */
struct http {
	const struct plume_host *h;
	struct plume_inst *in;
	enum http_provider provider;
	char	 base_url[512];		/* scheme://host[:port][/prefix] */
	const char *domain;		/* Mailgun */
	const char *region;		/* SES */
	const char *api_key_file;
	const char *const *api_key_command;
	const char *aws_access_key_id;
	const char *aws_profile;
	const char *aws_credentials_file;
	const char *user;		/* webhook, Basic */
	enum { AUTH_NONE, AUTH_BEARER, AUTH_BASIC } auth;
	const char *signing_secret_file;
	const char *const *signing_secret_command;
	const char *message_stream;	/* Postmark */
	bool	 auth_failure_defer;
	long long max_size;		/* bytes, 0: no limit */
	size_t	 max_rcpt;		/* per request */
	long	 timeout_ms;
	struct http_opts opts;
	char	 user_agent[64];
};

/* Secrets of a session, read once when it starts. */
struct http_keys {
	char	*api_key;
	char	*aws_id, *aws_secret, *aws_token;
	char	*signing_secret;
};

/* One request being built: recipients r0 up to r1 of msg. */
struct http_call {
	struct http *hp;
	const struct http_keys *keys;
	struct plume_msg *m;
	size_t	 r0, r1;
	/* the whole message, read once per delivery for the providers
	   that need it in memory (http_msg_needed), else NULL */
	const char *msg;
	size_t	 msglen;
	struct http_req req;
	char	 url[1024];
	struct curl_slist *headers;
	char	*body;			/* owned */
	curl_mime *mime;
	char	*userpwd;		/* owned, wiped */
	struct plume_stream *stream;
	struct http_src src;
	/* why it could not be built */
	int	 fail_status;		/* PLUME_TEMPFAIL or PLUME_PERMFAIL */
	char	 err[512];
};

/* Whether the provider takes the message inside JSON (SES, SparkPost,
   SendGrid, Postmark) rather than streamed (Mailgun, webhook), and the
   message read into memory for those: bounded by max_size, checked
   before; NULL when it cannot be read. */
bool	 http_msg_needed(const struct http *);
char	*http_msg_read(struct http *, struct plume_msg *, size_t *len_r);

/* Builds c->req for c->hp's provider.  0, or -1 with c->fail_status
   and c->err set. */
int	 http_call_build(struct http_call *, CURL *);
/* Builds c->req for "plume doctor": a request that sends nothing but
   shows whether the credentials are accepted (Mailgun GET
   /v3/domains/{domain}, SES GET /v2/email/account, SparkPost GET
   /api/v1/account, SendGrid GET /v3/scopes, Postmark GET /server; the
   webhook: HEAD on its URL, reachability only). */
int	 http_call_build_probe(struct http_call *);
void	 http_call_free(struct http_call *);

/* Reads the session's secrets; -1 with a reason in err. */
int	 http_keys_load(struct http *, struct http_keys *, char *err,
	    size_t errlen);
void	 http_keys_free(struct http *, struct http_keys *);

#endif
