/*
 * NAME
 *	http_probe.c - "plume doctor" for the HTTP API transport
 * SYNOPSIS
 *	.probe = http_probe		(struct plume_transport_ops)
 * DESCRIPTION
 *	Checks what a delivery needs, one reported check per step:
 *	- dns: the API's host name resolves (skipped when a proxy is set:
 *	  the proxy resolves it);
 *	- keys: the credentials can be read (api_key_file or _command, AWS
 *	  credentials, the webhook's secret);
 *	- https: one request that sends nothing (http_call_build_probe():
 *	  Mailgun GET /v3/domains/{domain}, SES GET /v2/email/account,
 *	  SparkPost GET /api/v1/account, SendGrid GET /v3/scopes, Postmark
 *	  GET /server; the webhook HEAD on its URL), through the proxy when
 *	  one is set, with the certificate verified as for mail; reports
 *	  the address connected to and the connect and TLS times;
 *	  A proxy that cannot be reached is reported as such (check
 *	  "proxy"), not as the API;
 *	- credentials: the answer: 2xx accepted, 401/403 refused (with the
 *	  provider's words; for SES the remedy names the key id and where
 *	  the secret came from), 404 for Mailgun an unknown domain.  The
 *	  webhook's answer to HEAD proves reachability only.
 * DIAGNOSTICS
 *	Only through host->probe_report().
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <plume/plugin.h>

#include "http.h"
#include "http_probe.h"
#include "http_provider.h"
#include "http_req.h"

#define PROBE_TIMEOUT_MS	15000

/* host->probe_report(), with the instance's host table; the host
   makes the text one line. */
#define report(hp, p, st, check, remedy, ...)				\
	(hp)->h->probe_report((p), (st), (check), (remedy), __VA_ARGS__)

/* The host of base_url, for the DNS check. */
static int
url_host(const char *url, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		snprintf(out, len, "%s", host);
		rc = 0;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static bool
step_dns(struct http *hp, struct plume_probe *p)
{
	struct addrinfo hints, *res = NULL;
	char host[256], ip[64];
	int64_t t0 = hp->h->monotonic_ms();
	int rc;

	if (hp->opts.proxy != NULL) {
		report(hp, p, PLUME_CHECK_INFO, "dns", NULL, "through the "
		    "proxy %s: it resolves the API's name", hp->opts.proxy);
		return true;
	}
	if (url_host(hp->base_url, host, sizeof(host)) == -1) {
		report(hp, p, PLUME_CHECK_FAIL, "dns", "correct base_url",
		    "base_url %s has no host", hp->base_url);
		return false;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, "443", &hints, &res)) != 0) {
		report(hp, p, PLUME_CHECK_FAIL, "dns", "check base_url and "
		    "this host's resolver; behind a firewall, set proxy",
		    "cannot resolve %s: %s", host, gai_strerror(rc));
		return false;
	}
	if (getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof(ip), NULL, 0,
	    NI_NUMERICHOST) != 0)
		snprintf(ip, sizeof(ip), "?");
	freeaddrinfo(res);
	report(hp, p, PLUME_CHECK_OK, "dns", NULL, "%s: %s (%lld ms)", host, ip,
	    (long long)(hp->h->monotonic_ms() - t0));
	return true;
}

/* The first words of an answer's body, for the report. */
static const char *
snippet(const struct http_resp *r, char *buf, size_t len)
{
	snprintf(buf, len, "%.200s", r->body != NULL ? r->body : "");
	return buf;
}

static int
step_request(struct http *hp, struct plume_probe *p, CURL *curl,
    const struct http_keys *keys)
{
	struct http_call c = { .hp = hp, .keys = keys };
	struct http_resp r = { 0 };
	char words[256], remedy[400];
	const char *name = http_provider_name(hp->provider);
	int rc = PLUME_OK;

	if (http_call_build_probe(&c) == -1) {
		report(hp, p, PLUME_CHECK_FAIL, "https", "check the instance's "
		    "settings", "%s", c.err);
		http_call_free(&c);
		return PLUME_TEMPFAIL;
	}
	http_perform(curl, &hp->opts, &c.req, PROBE_TIMEOUT_MS, &r);
	if (r.curl_code != 0) {
		const char *check = "https", *fix = "check base_url and that "
		    "this host may reach it (outgoing port 443; set proxy "
		    "behind a firewall)";
		char pfix[300];

		switch (r.curl_code) {
		case CURLE_COULDNT_RESOLVE_PROXY:
			check = "proxy";
			fix = "correct proxy (its host name does not resolve)";
			break;
		case CURLE_COULDNT_CONNECT:
			/* through a proxy, a target that cannot be reached
			   is the proxy's answer to CONNECT, another error:
			   this one is the proxy itself */
			if (hp->opts.proxy == NULL)
				break;
			check = "proxy";
			snprintf(pfix, sizeof(pfix), "the proxy %s does not "
			    "answer: correct proxy (host and port), or start "
			    "it", hp->opts.proxy);
			fix = pfix;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
			check = "dns";
			fix = "check base_url and this host's resolver";
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
			check = "tls";
			fix = "the API's certificate is not trusted here: set "
			    "tls_ca_file to its CA (a TLS-inspecting proxy's "
			    "CA, for example), or update ca-certificates";
			break;
		case CURLE_SSL_CONNECT_ERROR:
			check = "tls";
			fix = "check base_url (is it an HTTPS server?) and the "
			    "proxy";
			break;
		default:
			break;
		}
		report(hp, p, PLUME_CHECK_FAIL, check, fix, "%s %s: %s%s%s%s",
		    c.req.method, c.url, r.curl_error, hp->opts.proxy ?
		    " (through the proxy " : "", hp->opts.proxy ?
		    hp->opts.proxy : "", hp->opts.proxy ? ")" : "");
		http_call_free(&c);
		http_resp_reset(&r);
		return PLUME_TEMPFAIL;
	}
	report(hp, p, PLUME_CHECK_OK, "https", NULL, "%s reached at %s port "
	    "%ld%s%s: connected in %ld ms, TLS verified in %ld ms", c.url,
	    r.primary_ip, r.primary_port, hp->opts.proxy ? " through the "
	    "proxy " : "", hp->opts.proxy ? hp->opts.proxy : "",
	    r.connect_ms, r.tls_ms);
	if (hp->provider == HTTP_WEBHOOK) {
		report(hp, p, r.status >= 500 ? PLUME_CHECK_WARN :
		    PLUME_CHECK_INFO, "credentials", "the endpoint answers "
		    "HEAD with a server error: is it up?", "HEAD %s answered "
		    "%ld; a webhook's credentials can be checked only by "
		    "posting (plume doctor does not)", c.url, r.status);
	} else if (r.status >= 200 && r.status < 300)
		report(hp, p, PLUME_CHECK_OK, "credentials", NULL, "accepted: "
		    "GET %s answered %ld", c.url, r.status);
	else if ((r.status == 401 || r.status == 403) &&
	    hp->provider == HTTP_SES) {
		/* SigV4: a wrong secret is SignatureDoesNotMatch, an
		   unknown key id UnrecognizedClientException; both 403 */
		snprintf(remedy, sizeof(remedy), "check aws_access_key_id "
		    "(%s) and the secret access key in %s: they must be one "
		    "pair of an IAM user allowed to use SES in region %s",
		    keys->aws_id != NULL ? keys->aws_id : "not set",
		    hp->api_key_file ? hp->api_key_file :
		    hp->api_key_command ? "api_key_command's output" :
		    "AWS_SECRET_ACCESS_KEY or the AWS credentials file",
		    hp->region != NULL ? hp->region : "(default)");
		report(hp, p, PLUME_CHECK_FAIL, "credentials", remedy,
		    "refused: GET %s answered %ld%s%s: %s", c.url, r.status,
		    r.error_type[0] != '\0' ? " " : "", r.error_type,
		    snippet(&r, words, sizeof(words)));
		rc = PLUME_TEMPFAIL;
	} else if (r.status == 401 || r.status == 403) {
		snprintf(remedy, sizeof(remedy), "check the key in %s: it must "
		    "be a %s key of this account%s", hp->api_key_file ?
		    hp->api_key_file : "api_key_command's output", name,
		    hp->provider == HTTP_MAILGUN || hp->provider ==
		    HTTP_SPARKPOST ? " (EU accounts need region = eu)" : "");
		report(hp, p, PLUME_CHECK_FAIL, "credentials", remedy,
		    "refused: GET %s answered %ld: %s", c.url, r.status,
		    snippet(&r, words, sizeof(words)));
		rc = PLUME_TEMPFAIL;
	} else if (r.status == 404 && hp->provider == HTTP_MAILGUN) {
		snprintf(remedy, sizeof(remedy), "set domain = a sending "
		    "domain of this Mailgun account (and region = eu for EU "
		    "domains)");
		report(hp, p, PLUME_CHECK_FAIL, "credentials", remedy,
		    "the key works, but domain %s is not in the account: %s",
		    hp->domain, snippet(&r, words, sizeof(words)));
		rc = PLUME_TEMPFAIL;
	} else {
		report(hp, p, PLUME_CHECK_WARN, "credentials", "try again "
		    "later; if it lasts, see the provider's status page",
		    "GET %s answered %ld: %s", c.url, r.status,
		    snippet(&r, words, sizeof(words)));
	}
	http_call_free(&c);
	http_resp_reset(&r);
	return rc;
}

int
http_probe(void *state, struct plume_probe *p)
{
	struct http *hp = state;
	struct http_keys keys;
	CURL *curl;
	char err[400];
	int rc;

	report(hp, p, PLUME_CHECK_INFO, "api", NULL, "%s at %s%s%s",
	    http_provider_name(hp->provider), hp->base_url,
	    hp->opts.proxy ? ", proxy " : "",
	    hp->opts.proxy ? hp->opts.proxy : "");
	if (!step_dns(hp, p))
		return PLUME_TEMPFAIL;
	memset(&keys, 0, sizeof(keys));
	if (http_keys_load(hp, &keys, err, sizeof(err)) == -1) {
		report(hp, p, PLUME_CHECK_FAIL, "keys", "fix the key's file or "
		    "command as the message says", "%s", err);
		return PLUME_TEMPFAIL;
	}
	if ((curl = curl_easy_init()) == NULL) {
		http_keys_free(hp, &keys);
		report(hp, p, PLUME_CHECK_FAIL, "https", NULL, "out of memory");
		return PLUME_TEMPFAIL;
	}
	rc = step_request(hp, p, curl, &keys);
	curl_easy_cleanup(curl);
	http_keys_free(hp, &keys);
	return rc;
}
