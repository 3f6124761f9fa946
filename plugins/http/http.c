/*
 * NAME
 *	http - transport plugin: send mail through an email provider's
 *	HTTPS API
 * SYNOPSIS
 *	pipeline = http:mailgun
 *	[http "mailgun"]
 *	provider = mailgun	# mailgun ses sparkpost sendgrid postmark
 *				# webhook
 *	domain = mg.example.org
 *	api_key_file = /etc/plume/mailgun.key
 * DESCRIPTION
 *	For hosts that cannot reach any SMTP port, and for providers that
 *	recommend their API.  One instance per account; the provider is
 *	chosen by its provider key.  Mailgun, Amazon SES (v2, SigV4) and
 *	SparkPost receive the message as it is, byte for byte, so its DKIM
 *	signature survives; SendGrid and Postmark accept only JSON, built
 *	from the MIME message (http_json.c), and sign and rewrite it
 *	themselves.  The generic webhook POSTs the message as
 *	message/rfc822 with the envelope in headers, optionally signed
 *	with HMAC-SHA256.
 *
 *	Every answer becomes one result for the recipients of the request
 *	(http_result.c): 2xx delivered, 429 and 5xx and network failures
 *	temporary (Retry-After sets the next attempt), 400/401/403/413/
 *	422 permanent with words saying which.  A message with more
 *	recipients than the provider takes in one request is sent in
 *	several requests, each recipient in exactly one.
 *
 *	A session is one libcurl handle: a queue run sends every message
 *	over one kept-alive HTTPS connection.  Secrets (API keys, AWS
 *	credentials, the webhook's signing secret) are read when a
 *	session starts, never logged, wiped when it ends.
 * DIAGNOSTICS
 *	Through host->log() and the results; -v logs the request and
 *	answer headers with credentials redacted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <plume/plugin.h>

#include "http.h"
#include "http_json.h"
#include "http_probe.h"
#include "http_provider.h"
#include "http_req.h"

#define MB	(1024LL * 1024)

static const struct plume_conf_key http_keys[] = {
	{ "provider", PLUME_CONF_ENUM, PLUME_KEY_REQUIRED, NULL,
	    "mailgun|ses|sparkpost|sendgrid|postmark|webhook", 0, 0,
	    "which API: mailgun, ses, sparkpost, sendgrid, postmark, "
	    "webhook" },
	{ "domain", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "Mailgun: the sending domain" },
	{ "region", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "Mailgun, SparkPost: us or eu; SES: the AWS region" },
	{ "base_url", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "the API's https:// address instead of the provider's own "
	    "(webhook: the URL to POST to)" },
	{ "api_key_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "file whose first line is the API key (SES: the secret "
	    "access key; webhook: the token or password)" },
	{ "api_key_command", PLUME_CONF_COMMAND, PLUME_KEY_SECRET, NULL, NULL,
	    0, 0, "command printing the API key (no shell)" },
	{ "aws_access_key_id", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "SES: the access key id (else AWS_* variables or the shared "
	    "credentials file)" },
	{ "aws_profile", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "SES: profile in the shared credentials file (AWS_PROFILE, "
	    "else default)" },
	{ "aws_credentials_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "SES: shared credentials file (default ~/.aws/credentials)" },
	{ "message_stream", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "Postmark: the message stream (default outbound)" },
	{ "auth", PLUME_CONF_ENUM, 0, NULL, "none|bearer|basic", 0, 0,
	    "webhook: how the API key is sent (default bearer with a key, "
	    "else none)" },
	{ "user", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "webhook: the user name with auth = basic" },
	{ "signing_secret_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "webhook: sign each request with HMAC-SHA256 and this secret" },
	{ "signing_secret_command", PLUME_CONF_COMMAND, PLUME_KEY_SECRET,
	    NULL, NULL, 0, 0, "webhook: command printing the signing "
	    "secret" },
	{ "tls_ca_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "CA certificates to verify the API's certificate (default: "
	    "the system store)" },
	{ "proxy", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "proxy URL (default: https_proxy and no_proxy)" },
	{ "connect_timeout", PLUME_CONF_DURATION, 0, "30s", NULL, 0, 0,
	    "time to connect, TLS included" },
	{ "timeout", PLUME_CONF_DURATION, 0, "5m", NULL, 0, 0,
	    "time for one whole request" },
	{ "max_size", PLUME_CONF_SIZE, 0, NULL, NULL, 0, 0,
	    "largest message sent (default: the provider's limit)" },
	{ "auth_failure", PLUME_CONF_ENUM, 0, "bounce", "bounce|defer", 0, 0,
	    "a refused API key: bounce the message, or keep it queued" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

/* The provider's address (US, EU) and its limits. */
static const struct {
	const char *url, *url_eu;
	long long max_size;
	size_t max_rcpt;
} providers[] = {
	[HTTP_MAILGUN] = { "https://api.mailgun.net",
	    "https://api.eu.mailgun.net", 25 * MB, 1000 },
	[HTTP_SES] = { NULL, NULL, 40 * MB, 50 },	/* by region */
	[HTTP_SPARKPOST] = { "https://api.sparkpost.com",
	    "https://api.eu.sparkpost.com", 20 * MB, 10000 },
	[HTTP_SENDGRID] = { "https://api.sendgrid.com", NULL, 30 * MB, 1000 },
	[HTTP_POSTMARK] = { "https://api.postmarkapp.com", NULL, 10 * MB, 50 },
	[HTTP_WEBHOOK] = { NULL, NULL, 0, 0 },
};

static unsigned curl_users;

struct session {
	struct http *hp;
	CURL	*curl;
	struct http_keys keys;
};

static void
debug_line(void *ctx, const char *dir, const char *text, size_t len)
{
	struct http *hp = ctx;

	hp->h->log(hp->in, PLUME_LOG_DEBUG, "%s %.*s", dir, (int)len, text);
}

static const char *
settle_base_url(struct http *hp, const char *conf, const char *region)
{
	const char *u;

	if (hp->provider == HTTP_SES) {
		if (region == NULL && (region = getenv("AWS_REGION")) == NULL)
			region = getenv("AWS_DEFAULT_REGION");
		if (region == NULL || region[0] == '\0' ||
		    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(region))
			return "provider = ses needs region (e.g. eu-west-1)";
		hp->region = region;
	}
	if (conf != NULL) {
		if (strncasecmp(conf, "https://", 8) != 0)
			return "base_url must start with https:// (TLS is "
			    "never switched off)";
		snprintf(hp->base_url, sizeof(hp->base_url), "%s", conf);
	} else if (hp->provider == HTTP_WEBHOOK)
		return "provider = webhook needs base_url (the URL to POST "
		    "to)";
	else if (hp->provider == HTTP_SES)
		snprintf(hp->base_url, sizeof(hp->base_url),
		    "https://email.%s.amazonaws.com", region);
	else {
		u = providers[hp->provider].url;
		if (region != NULL && strcasecmp(region, "eu") == 0 &&
		    providers[hp->provider].url_eu != NULL)
			u = providers[hp->provider].url_eu;
		else if (region != NULL && strcasecmp(region, "us") != 0)
			return providers[hp->provider].url_eu != NULL ?
			    "region must be us or eu" :
			    "this provider takes no region";
		snprintf(hp->base_url, sizeof(hp->base_url), "%s", u);
	}
	/* no trailing slash: paths are appended */
	for (size_t n = strlen(hp->base_url); n > 8 &&
	    hp->base_url[n - 1] == '/'; n--)
		hp->base_url[n - 1] = '\0';
	return NULL;
}

static int
http_init(const struct plume_host *h, struct plume_inst *in, void **state_r,
    const char **error_r)
{
	struct http *hp;
	const char *prov = h->conf_string(in, "provider");
	const char *auth = h->conf_string(in, "auth");
	static const char *const provs[] = { "mailgun", "ses", "sparkpost",
	    "sendgrid", "postmark", "webhook" };
	const char *err = NULL;

	if ((hp = calloc(1, sizeof(*hp))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	hp->h = h;
	hp->in = in;
	for (size_t i = 0; i < sizeof(provs) / sizeof(provs[0]); i++)
		if (strcmp(prov, provs[i]) == 0)
			hp->provider = (enum http_provider)i;
	hp->domain = h->conf_string(in, "domain");
	hp->api_key_file = h->conf_string(in, "api_key_file");
	hp->api_key_command = h->conf_list(in, "api_key_command");
	hp->aws_access_key_id = h->conf_string(in, "aws_access_key_id");
	hp->aws_profile = h->conf_string(in, "aws_profile");
	hp->aws_credentials_file = h->conf_string(in, "aws_credentials_file");
	hp->user = h->conf_string(in, "user");
	hp->signing_secret_file = h->conf_string(in, "signing_secret_file");
	hp->signing_secret_command = h->conf_list(in,
	    "signing_secret_command");
	hp->message_stream = h->conf_string(in, "message_stream");
	hp->auth_failure_defer = strcmp(h->conf_string(in, "auth_failure"),
	    "defer") == 0;
	hp->max_size = h->conf_number(in, "max_size",
	    providers[hp->provider].max_size);
	hp->max_rcpt = providers[hp->provider].max_rcpt;
	hp->timeout_ms = (long)h->conf_number(in, "timeout", 300) * 1000;
	snprintf(hp->user_agent, sizeof(hp->user_agent), "plume/%s",
	    h->version);
	hp->opts.ca_file = h->conf_string(in, "tls_ca_file");
	hp->opts.proxy = h->conf_string(in, "proxy");
	hp->opts.user_agent = hp->user_agent;
	hp->opts.connect_ms = (long)h->conf_number(in, "connect_timeout", 30) *
	    1000;
	hp->opts.debug = debug_line;
	hp->opts.debug_ctx = hp;
	hp->auth = auth == NULL ? (hp->api_key_file || hp->api_key_command ?
	    AUTH_BEARER : AUTH_NONE) : strcmp(auth, "basic") == 0 ?
	    AUTH_BASIC : strcmp(auth, "bearer") == 0 ? AUTH_BEARER :
	    AUTH_NONE;

	err = settle_base_url(hp, h->conf_string(in, "base_url"),
	    h->conf_string(in, "region"));
	if (err == NULL && hp->provider == HTTP_MAILGUN && (hp->domain ==
	    NULL || hp->domain[0] == '\0' || strchr(hp->domain, '/') != NULL))
		err = "provider = mailgun needs domain (the sending domain)";
	if (err == NULL && hp->provider != HTTP_SES &&
	    hp->provider != HTTP_WEBHOOK && hp->api_key_file == NULL &&
	    hp->api_key_command == NULL)
		err = "this provider needs api_key_file or api_key_command";
	if (err == NULL && hp->provider == HTTP_WEBHOOK &&
	    hp->auth != AUTH_NONE && hp->api_key_file == NULL &&
	    hp->api_key_command == NULL)
		err = "auth = bearer or basic needs api_key_file or "
		    "api_key_command";
	if (err == NULL && hp->auth == AUTH_BASIC && hp->user == NULL)
		err = "auth = basic needs user";
	if (err == NULL && curl_users == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		err = "libcurl could not be initialised";
	if (err != NULL) {
		free(hp);
		*error_r = err;
		return -1;
	}
	if (curl_users++ == 0)
		http_json_init();
	*state_r = hp;
	return 0;
}

static void
http_shutdown(void *state)
{
	free(state);
	if (curl_users > 0 && --curl_users == 0) {
		http_json_shutdown();
		curl_global_cleanup();
	}
}

static void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	http_keys_free(s->hp, &s->keys);
	free(s);
}

/* A new session, or NULL with the reason in reply (temporary). */
static struct session *
session_new(struct http *hp, struct plume_reply *reply, char *text,
    size_t textlen)
{
	struct session *s = calloc(1, sizeof(*s));
	char err[400];

	memset(reply, 0, sizeof(*reply));
	reply->status = PLUME_TEMPFAIL;
	reply->code = 451;
	reply->enhanced = "4.3.0";
	reply->text = text;
	if (s == NULL || (s->curl = curl_easy_init()) == NULL) {
		snprintf(text, textlen, "out of memory");
		free(s);
		return NULL;
	}
	s->hp = hp;
	if (http_keys_load(hp, &s->keys, err, sizeof(err)) == -1) {
		snprintf(text, textlen, "%s: %s", http_provider_name(
		    hp->provider), err);
		reply->enhanced = "4.7.0";
		session_free(s);
		return NULL;
	}
	return s;
}

static int
http_session_open(void *state, void **session_r, struct plume_reply *reply_r)
{
	static char text[512];	/* valid until the next call */
	struct session *s = session_new(state, reply_r, text, sizeof(text));

	if (s == NULL)
		return PLUME_TEMPFAIL;
	*session_r = s;
	return PLUME_OK;
}

static void
http_session_close(void *state, void *session)
{
	session_free(session);
}

static void
give(struct http *hp, struct plume_msg *m, size_t r0, size_t r1,
    int status, int code, const char *enh, const char *text,
    time_t retry_after)
{
	struct plume_reply rep = { (enum plume_status)status, code,
	    enh[0] != '\0' ? enh : NULL, text, retry_after };

	for (size_t i = r0; i < r1; i++)
		hp->h->set_result(m, i, &rep);
}

/* Milliseconds this request may take: the timeout, within the
   submission's deadline; 0 when the deadline has passed. */
static long
time_left(struct http *hp, struct plume_msg *m)
{
	int64_t dl = PLUME_HOST_HAS(hp->h, msg_deadline_ms) ?
	    hp->h->msg_deadline_ms(m) : 0;
	int64_t left;

	if (dl == 0)
		return hp->timeout_ms;
	left = dl - hp->h->monotonic_ms();
	if (left <= 0)
		return 0;
	return left < hp->timeout_ms ? (long)left : hp->timeout_ms;
}

/*
 * Sends recipients r0..r1 of m in one request.  Returns 0 when the
 * session may go on, -1 when the rest of the message should wait (the
 * connection failed, or the provider said to slow down).
 */
static int
send_batch(struct session *s, struct plume_msg *m, const char *msg,
    size_t msglen, size_t r0, size_t r1)
{
	struct http *hp = s->hp;
	struct http_call c = { .hp = hp, .keys = &s->keys, .m = m, .r0 = r0,
	    .r1 = r1, .msg = msg, .msglen = msglen };
	struct http_resp resp = { 0 };
	struct http_outcome o;
	long left = time_left(hp, m);
	int rc = 0;

	if (left == 0) {
		give(hp, m, r0, r1, PLUME_TEMPFAIL, 451, "4.4.2",
		    "submit_timeout ran out before the request", 0);
		return -1;
	}
	if (http_call_build(&c, s->curl) == -1) {
		http_call_free(&c);
		/* Postmark sends one message with one To: Bcc-only
		   recipients go one request each, hidden from one another */
		if (hp->provider == HTTP_POSTMARK && r1 - r0 > 1 &&
		    c.fail_status == PLUME_PERMFAIL) {
			for (size_t i = r0; i < r1; i++)
				if (send_batch(s, m, msg, msglen, i,
				    i + 1) == -1)
					return -1;
			return 0;
		}
		give(hp, m, r0, r1, c.fail_status, c.fail_status ==
		    PLUME_PERMFAIL ? 554 : 451, c.fail_status ==
		    PLUME_PERMFAIL ? "5.6.0" : "4.3.0", c.err, 0);
		return c.fail_status == PLUME_PERMFAIL ? 0 : -1;
	}
	hp->h->log(hp->in, PLUME_LOG_DEBUG, "POST %s (%zu recipient%s)",
	    c.url, r1 - r0, r1 - r0 == 1 ? "" : "s");
	http_perform(s->curl, &hp->opts, &c.req, left, &resp);
	http_call_free(&c);
	http_result(hp->provider, &resp, hp->h->now(), &o);
	if (o.auth && hp->auth_failure_defer && o.status == PLUME_PERMFAIL) {
		o.status = PLUME_TEMPFAIL;
		o.code = 451;
		snprintf(o.enhanced, sizeof(o.enhanced), "4.7.8");
	}
	if (o.remote_id[0] != '\0')
		hp->h->note(m, "remote_id", o.remote_id);
	give(hp, m, r0, r1, o.status, o.code, o.enhanced, o.text,
	    o.retry_after);
	if (o.status == PLUME_TEMPFAIL)
		rc = -1;
	http_resp_reset(&resp);
	return rc;
}

static int
http_deliver(void *state, void *session, struct plume_msg *m)
{
	struct http *hp = state;
	struct session *s = session;
	size_t n = hp->h->msg_rcpt_count(m), r0, step, msglen = 0;
	char relay[600], *msg = NULL;
	int rc = PLUME_OK;

	snprintf(relay, sizeof(relay), "%s %s", http_provider_name(
	    hp->provider), hp->base_url);
	hp->h->note(m, "relay", relay);
	/* the facts an observer logs: HTTPS is the only protocol this
	   transport speaks, and it always verifies the certificate */
	hp->h->note(m, "tls", "https, certificate verified");
	hp->h->note(m, "auth", hp->provider == HTTP_SES ? "sigv4" :
	    hp->provider == HTTP_WEBHOOK ? "webhook" : "api-key");
	if (hp->max_size > 0 && hp->h->msg_size(m) > hp->max_size) {
		char text[200];

		snprintf(text, sizeof(text), "%s: the message (%lld bytes) is "
		    "larger than max_size (%lld bytes)", http_provider_name(
		    hp->provider), (long long)hp->h->msg_size(m),
		    hp->max_size);
		give(hp, m, 0, n, PLUME_PERMFAIL, 552, "5.3.4", text, 0);
		return PLUME_OK;
	}
	/* read once, for every request the recipients need */
	if (http_msg_needed(hp) && (msg = http_msg_read(hp, m, &msglen)) ==
	    NULL) {
		char text[200];

		snprintf(text, sizeof(text), "%s: cannot read the message",
		    http_provider_name(hp->provider));
		give(hp, m, 0, n, PLUME_TEMPFAIL, 451, "4.3.0", text, 0);
		return PLUME_TEMPFAIL;
	}
	if (s == NULL) {
		struct plume_reply rep;
		char text[512];

		if ((s = session_new(hp, &rep, text, sizeof(text))) == NULL) {
			hp->h->set_result(m, PLUME_RCPT_ALL, &rep);
			free(msg);
			return PLUME_TEMPFAIL;
		}
	}
	step = hp->max_rcpt > 0 ? hp->max_rcpt : n;
	for (r0 = 0; r0 < n; r0 += step) {
		size_t r1 = r0 + step < n ? r0 + step : n;

		if (send_batch(s, m, msg, msglen, r0, r1) == -1) {
			if (r1 < n)
				give(hp, m, r1, n, PLUME_TEMPFAIL, 451, "4.3.0",
				    "not tried: an earlier request for this "
				    "message failed for now", 0);
			rc = PLUME_TEMPFAIL;
			break;
		}
	}
	if (session == NULL)
		session_free(s);
	free(msg);
	return rc;
}

static const struct plume_transport_ops http_transport = {
	.struct_size = sizeof(struct plume_transport_ops),
	.session_open = http_session_open,
	.deliver = http_deliver,
	.session_close = http_session_close,
	.probe = http_probe,
};

const struct plume_plugin PLUME_PLUGIN(http) = {
	PLUME_PLUGIN_INIT,
	.name = "http",
	.version = "1.0",
	.description = "transport: email providers' HTTPS APIs (Mailgun, "
	    "SES, SparkPost, SendGrid, Postmark, webhook)",
	.kinds = PLUME_KIND_TRANSPORT,
	.conf_keys = http_keys,
	.init = http_init,
	.shutdown = http_shutdown,
	.transport = &http_transport,
};
