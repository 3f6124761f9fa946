/*
 * NAME
 *	smtp - transport plugin: relay mail to an SMTP server
 * SYNOPSIS
 *	pipeline = smtp
 *	[smtp]
 *	host = smtp.example.org
 *	port = 587			# 465 means tls = implicit
 *	tls  = starttls			# starttls | implicit | none
 *	user = apps@example.org
 *	password_file = /etc/plume/smtp.secret
 * DESCRIPTION
 *	An ESMTP client (RFC 5321) with PIPELINING (RFC 2920), SIZE (RFC
 *	1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN (RFC 3461) and
 *	ENHANCEDSTATUSCODES (RFC 2034), STARTTLS or implicit TLS through
 *	OpenSSL 3 (smtp_conn.c), and authentication through Cyrus SASL
 *	(PLAIN, LOGIN, CRAM-MD5, SCRAM-*) or, for Gmail and Microsoft 365,
 *	XOAUTH2 and OAUTHBEARER, which no Cyrus module in Debian provides
 *	and which are built here.
 *
 *	Failures are classed as DESIGN.md says: a failure to connect, a
 *	greeting, EHLO, STARTTLS or AUTH failure (a wrong password
 *	included) is a session failure and always temporary (the failover
 *	is tried, then the message waits), unless auth_failure = bounce
 *	and the server refused the login with a 5xx.  Only the replies to
 *	MAIL, RCPT, DATA and the end of data are permanent, per recipient,
 *	and only when they are 5xx.  Every result keeps the server's code,
 *	enhanced code and words.
 *
 *	Nothing is sent in clear that should not be: with tls = starttls a
 *	server that does not offer STARTTLS, a failed handshake or a
 *	certificate that does not verify ends the session (temporarily),
 *	never a fall-back to plaintext; credentials are never sent without
 *	TLS unless allow_plaintext_auth = yes.
 *
 *	The message is sent as the core keeps it (CRLF line ends); lines
 *	are dot-stuffed on the wire, and any bare CR or LF that a filter
 *	might have let through is sent as CRLF, so the body can never end
 *	the DATA phase early (the 2023 SMTP smuggling attacks).
 *
 *	Timeouts are those of RFC 5321 4.5.3.2 (configurable), on the
 *	monotonic clock, and never beyond host->msg_deadline_ms()
 *	(submit_timeout) in a foreground delivery.
 *
 *	With -v the dialogue is logged (debug level), AUTH payloads
 *	replaced by "<redacted>".
 * DIAGNOSTICS
 *	Through host->log() and the per-recipient results.
 */
#define _GNU_SOURCE		/* strcasestr */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sasl/sasl.h>

#include <plume/plugin.h>

#include "b64.h"
#include "catf.h"
#include "smtp_conn.h"
#include "smtp_reply.h"
#include "secret.h"
#include "smtp.h"

static const struct plume_conf_key smtp_keys[] = {
	{ "host", PLUME_CONF_STRING, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "the SMTP server (name or address)" },
	{ "port", PLUME_CONF_INT, 0, NULL, NULL, 1, 65535,
	    "port (default 587; 465 with tls = implicit)" },
	{ "tls", PLUME_CONF_ENUM, 0, NULL, "starttls|implicit|none", 0, 0,
	    "TLS mode (default starttls; implicit on port 465)" },
	{ "tls_ca_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "trusted CA certificates (PEM), for a private CA" },
	{ "tls_ca_dir", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "hashed directory of trusted CA certificates" },
	{ "tls_fingerprint", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "SHA-256 fingerprint the server certificate must have" },
	{ "tls_cert_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "client certificate (PEM)" },
	{ "tls_key_file", PLUME_CONF_PATH, PLUME_KEY_SECRET, NULL, NULL, 0, 0,
	    "client certificate's key (PEM)" },
	{ "user", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "login name; AUTH is used when it is set" },
	{ "password_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "file whose first line is the password or OAuth2 token" },
	{ "password_command", PLUME_CONF_COMMAND, 0, NULL, NULL, 0, 0,
	    "command printing the password or token (no shell)" },
	{ "auth", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0,
	    "mechanisms to use, in order (default: the best offered)" },
	{ "allow_plaintext_auth", PLUME_CONF_BOOL, 0, "no", NULL, 0, 0,
	    "send credentials without TLS" },
	{ "auth_failure", PLUME_CONF_ENUM, 0, "defer", "defer|bounce", 0, 0,
	    "a refused login defers mail, or bounces it" },
	{ "connect_timeout", PLUME_CONF_DURATION, 0, "30s", NULL, 0, 0,
	    "for the TCP connection (each address)" },
	{ "command_timeout", PLUME_CONF_DURATION, 0, "5m", NULL, 0, 0,
	    "for the greeting and every command's reply" },
	{ "data_timeout", PLUME_CONF_DURATION, 0, "3m", NULL, 0, 0,
	    "for each block of the message sent" },
	{ "final_timeout", PLUME_CONF_DURATION, 0, "10m", NULL, 0, 0,
	    "for the reply after the message" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

/* ---- small helpers --------------------------------------------------- */

int64_t
smtp_deadline(struct session *s, int64_t timeout_ms)
{
	int64_t d = s->sm->h->monotonic_ms() + timeout_ms;

	return s->cap != 0 && s->cap < d ? s->cap : d;
}

static void
dialogue(struct session *s, const char *dir, const char *line)
{
	s->sm->h->log(s->sm->in, PLUME_LOG_DEBUG, "%s %s", dir, line);
}

/* Queues a command (without CRLF); logged unless it is secret. */
void
smtp_cmd(struct session *s, bool secret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void
smtp_cmd(struct session *s, bool secret, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 3;
	if (secret) {
		const char *sp = strchr(line, ' ');

		/* "AUTH PLAIN <redacted>", or "<redacted>" */
		if (strncasecmp(line, "AUTH ", 5) == 0 && sp != NULL &&
		    (sp = strchr(sp + 1, ' ')) != NULL)
			s->sm->h->log(s->sm->in, PLUME_LOG_DEBUG,
			    "> %.*s <redacted>", (int)(sp - line), line);
		else if (strncasecmp(line, "AUTH ", 5) == 0)
			dialogue(s, ">", line);
		else
			dialogue(s, ">", "<redacted>");
	} else
		dialogue(s, ">", line);
	conn_write(&s->c, line, (size_t)n);
	conn_write(&s->c, "\r\n", 2);
	OPENSSL_cleanse(line, sizeof(line));
}

/* Flushes what is queued and reads one reply into s->r. */
int
smtp_read(struct session *s, int64_t timeout_ms)
{
	int64_t dl = smtp_deadline(s, timeout_ms);
	size_t len;
	int st;

	if (conn_flush(&s->c, dl, s->err, sizeof(s->err)) == -1)
		return -1;
	smtp_reply_init(&s->r);
	do {
		if (conn_read_line(&s->c, &len, dl, s->err,
		    sizeof(s->err)) == -1)
			return -1;
		if (s->r.nlines < 20)
			dialogue(s, "<", s->c.line);
		else if (s->r.nlines == 20)
			dialogue(s, "<", "[further lines not logged]");
		st = smtp_reply_line(&s->r, s->c.line, len);
		if (st == SMTP_REPLY_BAD) {
			snprintf(s->err, sizeof(s->err), "%s sent a malformed "
			    "reply: \"%.100s\"", s->relay, s->c.line);
			for (char *p = s->err; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20)
					*p = '?';
			return -1;
		}
	} while (st == SMTP_REPLY_MORE);
	return 0;
}

/* Records why the session failed: the server's reply when there is one,
   else plume's own words (connection, TLS, timeout). */
static int
session_fail(struct session *s, bool with_reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
session_fail(struct session *s, bool with_reply, const char *fmt, ...)
{
	char what[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	memset(&s->fail, 0, sizeof(s->fail));
	s->fail.status = PLUME_TEMPFAIL;
	if (with_reply) {
		s->fail.code = s->r.code;
		snprintf(s->fail_enh, sizeof(s->fail_enh), "%s",
		    s->r.enhanced);
		snprintf(s->fail_text, sizeof(s->fail_text), "%s: %s%s",
		    what, s->r.text, s->r.truncated ? " [...]" : "");
	} else {
		s->fail.code = 451;
		snprintf(s->fail_enh, sizeof(s->fail_enh), "4.4.1");
		snprintf(s->fail_text, sizeof(s->fail_text), "%s", what);
	}
	s->fail.enhanced = s->fail_enh[0] ? s->fail_enh : NULL;
	s->fail.text = s->fail_text;
	s->sm->h->log(s->sm->in, PLUME_LOG_DEBUG, "session failed: %s",
	    s->fail_text);
	return -1;
}

bool
smtp_has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strcasestr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static void
parse_caps(struct session *s)
{
	s->pipelining = s->eightbit = s->smtputf8 = s->dsn = false;
	s->starttls = s->size_ext = false;
	s->size = 0;
	s->mechs[0] = '\0';
	for (size_t i = 1; i < s->r.nlines && i < SMTP_REPLY_LINES_MAX; i++) {
		const char *l = s->r.lines[i];
		char kw[32];
		size_t k = 0;

		while (l[k] != '\0' && l[k] != ' ' && l[k] != '=' &&
		    k < sizeof(kw) - 1) {
			kw[k] = (char)toupper((unsigned char)l[k]);
			k++;
		}
		kw[k] = '\0';
		if (strcmp(kw, "PIPELINING") == 0)
			s->pipelining = true;
		else if (strcmp(kw, "8BITMIME") == 0)
			s->eightbit = true;
		else if (strcmp(kw, "SMTPUTF8") == 0)
			s->smtputf8 = true;
		else if (strcmp(kw, "DSN") == 0)
			s->dsn = true;
		else if (strcmp(kw, "STARTTLS") == 0)
			s->starttls = true;
		else if (strcmp(kw, "SIZE") == 0) {
			s->size_ext = true;
			if (l[k] == ' ')
				s->size = strtoll(l + k + 1, NULL, 10);
		}
		else if (strcmp(kw, "AUTH") == 0 && l[k] != '\0') {
			size_t have = strlen(s->mechs);

			snprintf(s->mechs + have, sizeof(s->mechs) - have,
			    "%s%s", have ? " " : "", l + k + 1);
		}
	}
}

int
smtp_ehlo(struct session *s)
{
	smtp_cmd(s, false, "EHLO %s", s->sm->helo);
	if (smtp_read(s, s->sm->command_ms) == -1)
		return session_fail(s, false, "EHLO: %s", s->err);
	if (s->r.code == 250) {
		parse_caps(s);
		return 0;
	}
	if (s->r.code / 100 != 5)
		return session_fail(s, true, "%s refused EHLO", s->relay);
	/* an old server: HELO, and no extensions */
	smtp_cmd(s, false, "HELO %s", s->sm->helo);
	if (smtp_read(s, s->sm->command_ms) == -1)
		return session_fail(s, false, "HELO: %s", s->err);
	if (s->r.code != 250)
		return session_fail(s, true, "%s refused HELO", s->relay);
	s->r.nlines = 1;
	parse_caps(s);
	return 0;
}

/* ---- authentication -------------------------------------------------- */

/* Decodes base64 text; NULL if it is not base64. */
static unsigned char *
b64_decode(const char *text, size_t *len_r)
{
	size_t n = strlen(text), pad = 0;
	unsigned char *out;
	int k;

	if (n % 4 != 0)
		return NULL;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	if (n == 0) {
		*len_r = 0;
		return out;
	}
	if ((k = EVP_DecodeBlock(out, (const unsigned char *)text,
	    (int)n)) < 0) {
		free(out);
		return NULL;
	}
	pad = text[n - 1] == '=' ? (text[n - 2] == '=' ? 2 : 1) : 0;
	*len_r = (size_t)k - pad;
	return out;
}

static int
sasl_cb_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct session *s = ctx;

	if (id == SASL_CB_USER) {
		/* authorisation identity: the same as the login */
		*result = "";
		if (len != NULL)
			*len = 0;
		return SASL_OK;
	}
	*result = s->sm->user;
	if (len != NULL)
		*len = (unsigned)strlen(s->sm->user);
	return SASL_OK;
}

static int
sasl_cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct session *s = ctx;
	size_t n = strlen(s->secret);

	if (s->sasl_secret == NULL) {
		s->sasl_secret = malloc(sizeof(sasl_secret_t) + n + 1);
		if (s->sasl_secret == NULL)
			return SASL_NOMEM;
		s->sasl_secret->len = n;
		memcpy(s->sasl_secret->data, s->secret, n + 1);
	}
	*psecret = s->sasl_secret;
	return SASL_OK;
}

static bool
want_mech(struct session *s, const char *mech)
{
	if (!smtp_has_word(s->mechs, mech))
		return false;
	if (s->sm->auth == NULL)	/* automatic: not the OAuth2 ones */
		return strcasecmp(mech, "XOAUTH2") != 0 &&
		    strcasecmp(mech, "OAUTHBEARER") != 0;
	for (size_t i = 0; s->sm->auth[i] != NULL; i++)
		if (strcasecmp(s->sm->auth[i], mech) == 0)
			return true;
	return false;
}

/* Runs the 334 exchange until 235 or a failure. */
static int
auth_finish(struct session *s, const char *mech)
{
	if (s->r.code == 235) {
		snprintf(s->auth_used, sizeof(s->auth_used), "%s as %s", mech,
		    s->sm->user);
		return 0;
	}
	s->fail_auth5xx = s->r.code / 100 == 5;
	return session_fail(s, true, "%s refused AUTH %s as %s", s->relay,
	    mech, s->sm->user);
}

/* XOAUTH2 (Google) and OAUTHBEARER (RFC 7628), built here. */
static int
auth_oauth(struct session *s, const char *mech)
{
	char *raw, *b64;
	int n;
	size_t cap = strlen(s->sm->user) + strlen(s->secret) +
	    strlen(s->c.host) + 96;

	if ((raw = malloc(cap)) == NULL)
		return session_fail(s, false, "out of memory");
	if (strcasecmp(mech, "XOAUTH2") == 0)
		n = snprintf(raw, cap, "user=%s\001auth=Bearer %s\001\001",
		    s->sm->user, s->secret);
	else
		n = snprintf(raw, cap, "n,a=%s,\001host=%s\001port=%d\001"
		    "auth=Bearer %s\001\001", s->sm->user, s->c.host,
		    s->c.port, s->secret);
	b64 = b64_encode(raw, (size_t)n);
	OPENSSL_cleanse(raw, cap);
	free(raw);
	if (b64 == NULL)
		return session_fail(s, false, "out of memory");
	smtp_cmd(s, true, "AUTH %s %s", mech, b64);
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	if (smtp_read(s, s->sm->command_ms) == -1)
		return session_fail(s, false, "AUTH: %s", s->err);
	if (s->r.code == 334) {
		/* an error document: acknowledge, then the real reply */
		smtp_cmd(s, true, "%s", "");
		if (smtp_read(s, s->sm->command_ms) == -1)
			return session_fail(s, false, "AUTH: %s", s->err);
	}
	return auth_finish(s, mech);
}

/* Cyrus SASL is set up once per process, on first use, and torn down at
   shutdown (its module list would otherwise be left allocated). */
static bool sasl_inited;

static int
auth_sasl(struct session *s)
{
	sasl_callback_t cbs[] = {
		{ SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))
		    sasl_cb_user, s },
		{ SASL_CB_USER, (int (*)(void))(void (*)(void))sasl_cb_user, s },
		{ SASL_CB_PASS, (int (*)(void))(void (*)(void))sasl_cb_pass, s },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_security_properties_t props;
	sasl_conn_t *conn = NULL;
	const char *out = NULL, *mech = NULL;
	unsigned outlen = 0;
	char mechlist[512] = "", *b64;
	int rc, result = -1;

	if (!sasl_inited && sasl_client_init(NULL) != SASL_OK)
		return session_fail(s, false, "cannot initialise Cyrus SASL");
	sasl_inited = true;
	{
		/* the mechanisms offered that we may use, in our order */
		char offered[512], *save = NULL, *m;

		snprintf(offered, sizeof(offered), "%s", s->mechs);
		for (m = strtok_r(offered, " ", &save); m != NULL;
		    m = strtok_r(NULL, " ", &save))
			if (want_mech(s, m)) {
				size_t have = strlen(mechlist);

				snprintf(mechlist + have, sizeof(mechlist) -
				    have, "%s%s", have ? " " : "", m);
			}
	}
	if (mechlist[0] == '\0')
		return session_fail(s, false, "%s offers AUTH %s; none of "
		    "them is allowed by auth = (check the auth key)",
		    s->relay, s->mechs);
	if (sasl_client_new("smtp", s->c.host, NULL, NULL, cbs, 0,
	    &conn) != SASL_OK)
		return session_fail(s, false, "cannot start Cyrus SASL");
	memset(&props, 0, sizeof(props));
	props.max_ssf = 0;	/* no SASL security layer: TLS does that */
	props.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(conn, SASL_SEC_PROPS, &props);
	if (s->c.ssl != NULL) {
		sasl_ssf_t ssf = (sasl_ssf_t)conn_tls_bits(&s->c);

		sasl_setprop(conn, SASL_SSF_EXTERNAL, &ssf);
	}
	rc = sasl_client_start(conn, mechlist, NULL, &out, &outlen, &mech);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		session_fail(s, false, "no usable AUTH mechanism among %s "
		    "(%s; the Cyrus modules are in Debian's libsasl2-modules)",
		    mechlist, sasl_errdetail(conn));
		goto out;
	}
	if (out != NULL) {
		if ((b64 = b64_encode(out,
		    outlen)) == NULL)
			goto out;
		smtp_cmd(s, true, "AUTH %s %s", mech, outlen ? b64 : "=");
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	} else
		smtp_cmd(s, true, "AUTH %s", mech);
	for (;;) {
		unsigned char *in;
		size_t inlen = 0;

		if (smtp_read(s, s->sm->command_ms) == -1) {
			session_fail(s, false, "AUTH: %s", s->err);
			goto out;
		}
		if (s->r.code != 334)
			break;
		if ((in = b64_decode(s->r.lines[0], &inlen)) == NULL) {
			session_fail(s, true, "%s sent a challenge that is not "
			    "base64", s->relay);
			goto out;
		}
		rc = sasl_client_step(conn, (const char *)in, (unsigned)inlen,
		    NULL, &out, &outlen);
		free(in);
		if (rc != SASL_OK && rc != SASL_CONTINUE) {
			smtp_cmd(s, false, "*");	/* cancel (RFC 4954) */
			smtp_read(s, s->sm->command_ms);
			session_fail(s, false, "AUTH %s: %s", mech,
			    sasl_errdetail(conn));
			goto out;
		}
		if ((b64 = b64_encode(out ? out : "",
		    out ? outlen : 0)) == NULL)
			goto out;
		smtp_cmd(s, true, "%s", b64);
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	result = auth_finish(s, mech);
out:
	sasl_dispose(&conn);
	return result;
}

int
smtp_authenticate(struct session *s)
{
	struct smtp *sm = s->sm;
	char err[512];
	const char *oauth = NULL;

	if (s->c.ssl == NULL && !sm->allow_plaintext_auth)
		return session_fail(s, false, "refusing to send credentials "
		    "to %s without TLS (set tls = starttls or implicit; "
		    "allow_plaintext_auth = yes only on a trusted network)",
		    s->relay);
	if (s->mechs[0] == '\0')
		return session_fail(s, false, "%s offers no AUTH, but user is "
		    "set", s->relay);
	if (sm->password_file != NULL)
		s->secret = secret_from_file("password_file",
		    sm->password_file, err, sizeof(err));
	else if (sm->password_command != NULL)
		s->secret = secret_from_command("password_command",
		    sm->password_command, 30000, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "user is set but neither "
		    "password_file nor password_command");
	if (s->secret == NULL)
		return session_fail(s, false, "%s", err);
	/* mechanism names go out upper-case, whatever the config says */
	for (size_t i = 0; sm->auth != NULL && sm->auth[i] != NULL; i++)
		if ((strcasecmp(sm->auth[i], "XOAUTH2") == 0 ||
		    strcasecmp(sm->auth[i], "OAUTHBEARER") == 0) &&
		    smtp_has_word(s->mechs, sm->auth[i])) {
			oauth = strcasecmp(sm->auth[i], "XOAUTH2") == 0 ?
			    "XOAUTH2" : "OAUTHBEARER";
			break;
		}
	return oauth != NULL ? auth_oauth(s, oauth) : auth_sasl(s);
}

/* ---- session --------------------------------------------------------- */

void
smtp_session_free(struct session *s)
{
	if (s == NULL)
		return;
	conn_close(&s->c);
	secret_free(s->secret);
	if (s->sasl_secret != NULL) {
		OPENSSL_cleanse(s->sasl_secret->data, s->sasl_secret->len);
		free(s->sasl_secret);
	}
	free(s);
}

static int
session_start(struct session *s)
{
	struct smtp *sm = s->sm;
	int64_t dl = smtp_deadline(s, sm->connect_ms);

	if (conn_connect(&s->c, sm->host, sm->port, dl, s->err,
	    sizeof(s->err)) == -1)
		return session_fail(s, false, "%s", s->err);
	snprintf(s->relay, sizeof(s->relay), "%s[%s]:%d", sm->host, s->c.ip,
	    sm->port);
	if (sm->tls == TLS_IMPLICIT && conn_tls(&s->c, &sm->tlso,
	    smtp_deadline(s, sm->command_ms), s->err, sizeof(s->err)) == -1)
		return session_fail(s, false, "%s (tls = implicit: does %s "
		    "speak TLS on port %d?)", s->err, sm->host, sm->port);
	if (smtp_read(s, sm->command_ms) == -1)
		return session_fail(s, false, "no greeting: %s%s", s->err,
		    sm->tls == TLS_STARTTLS && sm->port == 465 ? " (port 465 "
		    "usually wants tls = implicit)" : "");
	if (s->r.code != 220)
		return session_fail(s, true, "%s greeted with %d", s->relay,
		    s->r.code);
	if (smtp_ehlo(s) == -1)
		return -1;
	if (sm->tls == TLS_STARTTLS) {
		if (!s->starttls)
			return session_fail(s, false, "%s does not offer "
			    "STARTTLS, and tls = starttls: not sending in "
			    "clear", s->relay);
		smtp_cmd(s, false, "STARTTLS");
		if (smtp_read(s, sm->command_ms) == -1)
			return session_fail(s, false, "STARTTLS: %s", s->err);
		if (s->r.code != 220)
			return session_fail(s, true, "%s refused STARTTLS",
			    s->relay);
		if (conn_tls(&s->c, &sm->tlso, smtp_deadline(s, sm->command_ms),
		    s->err, sizeof(s->err)) == -1)
			return session_fail(s, false, "%s", s->err);
		if (smtp_ehlo(s) == -1)	/* forget what was said in clear */
			return -1;
	}
	if (sm->user != NULL && smtp_authenticate(s) == -1)
		return -1;
	return 0;
}

static int
smtp_session_open(void *state, void **session_r, struct plume_reply *reply_r)
{
	struct smtp *sm = state;
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		reply_r->status = PLUME_TEMPFAIL;
		reply_r->code = 451;
		reply_r->text = "out of memory";
		return PLUME_TEMPFAIL;
	}
	s->sm = sm;
	conn_init(&s->c, sm->h->monotonic_ms);
	if (session_start(s) == -1) {
		static struct plume_reply last;
		static char text[sizeof(s->fail_text)], enh[16];

		/* strings valid until the next call on this instance */
		snprintf(text, sizeof(text), "%s", s->fail_text);
		snprintf(enh, sizeof(enh), "%s", s->fail_enh);
		last = s->fail;
		last.text = text;
		last.enhanced = enh[0] ? enh : NULL;
		if (s->fail_auth5xx && sm->auth_failure_bounce)
			last.status = PLUME_PERMFAIL;
		*reply_r = last;
		smtp_session_free(s);
		return last.status;
	}
	*session_r = s;
	return PLUME_OK;
}

static void
smtp_session_close(void *state, void *session)
{
	struct session *s = session;

	if (s == NULL)
		return;
	if (s->c.fd != -1) {
		smtp_cmd(s, false, "QUIT");
		smtp_read(s, 5000);
	}
	smtp_session_free(s);
}

/* ---- a transaction --------------------------------------------------- */

/* RFC 3461 xtext: '+', '=' and anything outside 33..126 as +XX. */
static void
xtext(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in;
	    *p != '\0' && o + 4 < len; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
			o += (size_t)snprintf(out + o, len - o, "+%02X", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static void
rcpt_result(struct session *s, struct plume_msg *m, size_t i)
{
	struct plume_reply rep = {
		.status = s->r.code / 100 == 2 ? PLUME_OK :
		    s->r.code / 100 == 5 ? PLUME_PERMFAIL : PLUME_TEMPFAIL,
		.code = s->r.code,
		.enhanced = s->r.enhanced[0] ? s->r.enhanced : NULL,
		.text = s->r.text,
	};

	s->sm->h->set_result(m, i, &rep);
}

/* A 421 reply: the server closes the transmission channel (RFC 5321
   3.8), whatever command it answers; the session is over. */
static bool
closing(const struct session *s)
{
	return s->r.code == 421;
}

static void
all_result(struct session *s, struct plume_msg *m, const bool *accepted,
    enum plume_status st, int code, const char *enh, const char *text)
{
	struct plume_reply rep = { st, code, enh, text, 0 };

	for (size_t i = 0; i < s->sm->h->msg_rcpt_count(m); i++)
		if (accepted == NULL || accepted[i])
			s->sm->h->set_result(m, i, &rep);
}

/* Sends the message dot-stuffed, every line end as CRLF. */
static int
send_body(struct session *s, struct plume_msg *m)
{
	const struct plume_host *h = s->sm->h;
	struct plume_stream *st = h->stream_open(m, PLUME_STREAM_MESSAGE);
	char in[65536], out[2 * 65536 + 8];
	ssize_t n;
	bool bol = true, cr = false;

	if (st == NULL)
		return -1;
	while ((n = h->stream_read(st, in, sizeof(in))) > 0) {
		size_t o = 0;

		for (ssize_t i = 0; i < n; i++) {
			char c = in[i];

			if (cr && c == '\n') {		/* CRLF: done at CR */
				cr = false;
				continue;
			}
			cr = false;
			if (c == '\r' || c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				bol = true;
				cr = c == '\r';
				continue;
			}
			if (bol && c == '.')
				out[o++] = '.';
			bol = false;
			out[o++] = c;
		}
		conn_write(&s->c, out, o);
		if (conn_flush(&s->c, smtp_deadline(s, s->sm->data_ms), s->err,
		    sizeof(s->err)) == -1) {
			h->stream_close(st);
			return -1;
		}
	}
	h->stream_close(st);
	if (n < 0) {
		snprintf(s->err, sizeof(s->err), "cannot read the message");
		return -1;
	}
	if (!bol)
		conn_write(&s->c, "\r\n", 2);
	conn_write(&s->c, ".\r\n", 3);
	return 0;
}

static void
note_remote_id(struct session *s, struct plume_msg *m)
{
	const char *q = strcasestr(s->r.text, "queued as ");
	char id[64];
	size_t k = 0;

	if (q == NULL)
		return;
	for (q += 10; *q != '\0' && *q != ' ' && *q != ';' &&
	    k < sizeof(id) - 1; q++)
		id[k++] = *q;
	id[k] = '\0';
	if (k > 0)
		s->sm->h->note(m, "remote_id", id);
}

/*
 * One transaction.  Returns 0 when the session can carry another
 * message, -1 when it is broken (every recipient then has a result).
 */
static int
transaction(struct session *s, struct plume_msg *m)
{
	const struct plume_host *h = s->sm->h;
	size_t n = h->msg_rcpt_count(m), naccepted = 0;
	off_t size = h->msg_size(m);
	const char *body = h->msg_param(m, PLUME_PARAM_BODY);
	const char *utf8 = h->msg_param(m, PLUME_PARAM_SMTPUTF8);
	const char *envid = h->msg_param(m, PLUME_PARAM_ENVID);
	const char *ret = h->msg_param(m, PLUME_PARAM_RET);
	char params[600], text[SMTP_REPLY_TEXT_MAX + 1200], x[300];
	bool *accepted, mail_ok;

	if (s->size > 0 && size > s->size) {
		snprintf(text, sizeof(text), "message of %lld bytes is larger "
		    "than %s accepts (SIZE %lld)", (long long)size, s->relay,
		    s->size);
		all_result(s, m, NULL, PLUME_PERMFAIL, 552, "5.3.4", text);
		return 0;
	}
	if (utf8 != NULL && strcmp(utf8, "yes") == 0 && !s->smtputf8) {
		snprintf(text, sizeof(text), "an address needs SMTPUTF8, "
		    "which %s does not support", s->relay);
		all_result(s, m, NULL, PLUME_PERMFAIL, 553, "5.6.7", text);
		return 0;
	}
	if ((accepted = calloc(n ? n : 1, sizeof(*accepted))) == NULL)
		return -1;
	if (s->dirty) {
		smtp_cmd(s, false, "RSET");
		if (smtp_read(s, s->sm->command_ms) == -1 || s->r.code != 250) {
			free(accepted);
			all_result(s, m, NULL, PLUME_TEMPFAIL, 451, "4.4.2",
			    "RSET failed");
			return -1;
		}
	}
	s->dirty = true;

	params[0] = '\0';
	if (s->size_ext)
		catf(params, sizeof(params), " SIZE=%lld",
		    (long long)size);
	if (body != NULL && strcmp(body, "8BITMIME") == 0 && s->eightbit)
		catf(params, sizeof(params), " BODY=8BITMIME");
	if (utf8 != NULL && strcmp(utf8, "yes") == 0)
		catf(params, sizeof(params), " SMTPUTF8");
	if (s->dsn && ret != NULL)
		catf(params, sizeof(params), " RET=%s", ret);
	if (s->dsn && envid != NULL) {
		xtext(x, sizeof(x), envid);
		catf(params, sizeof(params), " ENVID=%s", x);
	}
	smtp_cmd(s, false, "MAIL FROM:<%s>%s", h->msg_sender(m), params);
	if (!s->pipelining) {
		if (smtp_read(s, s->sm->command_ms) == -1)
			goto lost;
		if (s->r.code / 100 != 2) {
			all_result(s, m, NULL, s->r.code / 100 == 5 ?
			    PLUME_PERMFAIL : PLUME_TEMPFAIL, s->r.code,
			    s->r.enhanced[0] ? s->r.enhanced : NULL, s->r.text);
			free(accepted);
			return closing(s) ? -1 : 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *notify = h->rcpt_param(m, i, PLUME_PARAM_NOTIFY);
		const char *orcpt = h->rcpt_param(m, i, PLUME_PARAM_ORCPT);

		params[0] = '\0';
		if (s->dsn && notify != NULL)
			catf(params, sizeof(params), " NOTIFY=%s", notify);
		if (s->dsn && orcpt != NULL) {
			xtext(x, sizeof(x), orcpt);
			catf(params, sizeof(params), " ORCPT=rfc822;%s", x);
		}
		smtp_cmd(s, false, "RCPT TO:<%s>%s", h->msg_rcpt(m, i), params);
		if (!s->pipelining) {
			if (smtp_read(s, s->sm->command_ms) == -1)
				goto lost;
			if (s->r.code / 100 == 2) {
				accepted[i] = true;
				naccepted++;
			} else
				rcpt_result(s, m, i);
		}
	}
	if (s->pipelining) {
		/* RFC 2920: DATA goes with the group; its reply tells */
		smtp_cmd(s, false, "DATA");
		if (smtp_read(s, s->sm->command_ms) == -1)
			goto lost;
		mail_ok = s->r.code / 100 == 2;
		if (!mail_ok) {
			snprintf(text, sizeof(text), "%s", s->r.text);
			all_result(s, m, NULL, s->r.code / 100 == 5 ?
			    PLUME_PERMFAIL : PLUME_TEMPFAIL, s->r.code,
			    s->r.enhanced[0] ? s->r.enhanced : NULL, text);
			/* the replies still due will never come: the 421
			   is the result (a rate limit must keep its words) */
			if (closing(s)) {
				free(accepted);
				return -1;
			}
		}
		for (size_t i = 0; i < n; i++) {
			if (smtp_read(s, s->sm->command_ms) == -1)
				goto lost;
			if (closing(s)) {
				all_result(s, m, NULL, PLUME_TEMPFAIL,
				    s->r.code, s->r.enhanced[0] ?
				    s->r.enhanced : NULL, s->r.text);
				free(accepted);
				return -1;
			}
			if (!mail_ok)
				continue;
			if (s->r.code / 100 == 2) {
				accepted[i] = true;
				naccepted++;
			} else
				rcpt_result(s, m, i);
		}
		if (smtp_read(s, s->sm->data_ms) == -1)
			goto lost;
		if (s->r.code == 354 && naccepted == 0) {
			/* a server that takes DATA with no recipient */
			conn_write(&s->c, ".\r\n", 3);
			if (smtp_read(s, s->sm->final_ms) == -1)
				goto lost;
			free(accepted);
			return 0;
		}
	} else if (naccepted > 0) {
		smtp_cmd(s, false, "DATA");
		if (smtp_read(s, s->sm->data_ms) == -1)
			goto lost;
	}
	if (naccepted == 0) {
		free(accepted);
		return 0;
	}
	if (s->r.code != 354) {
		all_result(s, m, accepted, s->r.code / 100 == 5 ?
		    PLUME_PERMFAIL : PLUME_TEMPFAIL, s->r.code,
		    s->r.enhanced[0] ? s->r.enhanced : NULL, s->r.text);
		free(accepted);
		return closing(s) ? -1 : 0;
	}
	dialogue(s, ">", "(message)");
	if (send_body(s, m) == -1 || smtp_read(s, s->sm->final_ms) == -1) {
		snprintf(text, sizeof(text), "%s%s", s->err,
		    " (after the message was sent; the server may have it)");
		all_result(s, m, accepted, PLUME_TEMPFAIL, 451, "4.4.2", text);
		free(accepted);
		return -1;
	}
	s->dirty = false;
	if (s->r.code / 100 == 2)
		note_remote_id(s, m);
	all_result(s, m, accepted, s->r.code / 100 == 2 ? PLUME_OK :
	    s->r.code / 100 == 5 ? PLUME_PERMFAIL : PLUME_TEMPFAIL, s->r.code,
	    s->r.enhanced[0] ? s->r.enhanced : NULL, s->r.text);
	free(accepted);
	return closing(s) ? -1 : 0;
lost:
	snprintf(text, sizeof(text), "%s", s->err);
	all_result(s, m, NULL, PLUME_TEMPFAIL, 451, "4.4.2", text);
	free(accepted);
	return -1;
}

static void
note_session(struct session *s, struct plume_msg *m)
{
	const struct plume_host *h = s->sm->h;
	char tls[160];

	h->note(m, "relay", s->relay);
	if (s->c.ssl != NULL)
		snprintf(tls, sizeof(tls), "%s %s", conn_tls_version(&s->c),
		    conn_tls_cipher(&s->c));
	else
		snprintf(tls, sizeof(tls), "none");
	h->note(m, "tls", tls);
	h->note(m, "auth", s->auth_used[0] ? s->auth_used : "none");
}

static int
smtp_deliver(void *state, void *session, struct plume_msg *m)
{
	struct smtp *sm = state;
	struct session *s = session;
	struct plume_reply rep;
	int rc;

	if (s == NULL) {
		struct session *own = calloc(1, sizeof(*own));

		if (own == NULL)
			return PLUME_TEMPFAIL;
		own->sm = sm;
		conn_init(&own->c, sm->h->monotonic_ms);
		if (PLUME_HOST_HAS(sm->h, msg_deadline_ms))
			own->cap = sm->h->msg_deadline_ms(m);
		if (session_start(own) == -1) {
			rep = own->fail;
			if (own->fail_auth5xx && sm->auth_failure_bounce)
				rep.status = PLUME_PERMFAIL;
			if (own->relay[0] != '\0')
				sm->h->note(m, "relay", own->relay);
			sm->h->set_result(m, PLUME_RCPT_ALL, &rep);
			smtp_session_free(own);
			return PLUME_TEMPFAIL;
		}
		note_session(own, m);
		rc = transaction(own, m);
		if (rc == 0)
			smtp_session_close(sm, own);
		else
			smtp_session_free(own);
		return PLUME_OK;
	}
	s->cap = PLUME_HOST_HAS(sm->h, msg_deadline_ms) ?
	    sm->h->msg_deadline_ms(m) : 0;
	note_session(s, m);
	return transaction(s, m) == 0 ? PLUME_OK : PLUME_TEMPFAIL;
}

/* ---- instance -------------------------------------------------------- */

static int
smtp_init(const struct plume_host *h, struct plume_inst *in, void **state_r,
    const char **error_r)
{
	struct smtp *sm;
	const char *tls = h->conf_string(in, "tls");
	long long port = h->conf_number(in, "port", 0);

	if ((sm = calloc(1, sizeof(*sm))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	sm->h = h;
	sm->in = in;
	sm->host = h->conf_string(in, "host");
	if (tls == NULL)
		sm->tls = port == 465 ? TLS_IMPLICIT : TLS_STARTTLS;
	else
		sm->tls = strcmp(tls, "implicit") == 0 ? TLS_IMPLICIT :
		    strcmp(tls, "none") == 0 ? TLS_NONE : TLS_STARTTLS;
	sm->port = port != 0 ? (int)port : sm->tls == TLS_IMPLICIT ? 465 :
	    587;
	sm->tlso.ca_file = h->conf_string(in, "tls_ca_file");
	sm->tlso.ca_dir = h->conf_string(in, "tls_ca_dir");
	sm->tlso.fingerprint = h->conf_string(in, "tls_fingerprint");
	sm->tlso.cert_file = h->conf_string(in, "tls_cert_file");
	sm->tlso.key_file = h->conf_string(in, "tls_key_file");
	sm->user = h->conf_string(in, "user");
	sm->password_file = h->conf_string(in, "password_file");
	sm->password_command = h->conf_list(in, "password_command");
	sm->auth = h->conf_list(in, "auth");
	if (sm->auth != NULL && sm->auth[0] != NULL &&
	    strcasecmp(sm->auth[0], "auto") == 0)
		sm->auth = NULL;
	sm->allow_plaintext_auth = h->conf_number(in, "allow_plaintext_auth",
	    0) != 0;
	sm->auth_failure_bounce = strcmp(h->conf_string(in, "auth_failure"),
	    "bounce") == 0;
	sm->connect_ms = h->conf_number(in, "connect_timeout", 30) * 1000;
	sm->command_ms = h->conf_number(in, "command_timeout", 300) * 1000;
	sm->data_ms = h->conf_number(in, "data_timeout", 180) * 1000;
	sm->final_ms = h->conf_number(in, "final_timeout", 600) * 1000;
	sm->helo = h->conf_global(in, "hostname");
	if (sm->user != NULL && sm->password_file == NULL &&
	    sm->password_command == NULL) {
		free(sm);
		*error_r = "user is set but neither password_file nor "
		    "password_command";
		return -1;
	}
	if (sm->tlso.cert_file == NULL && sm->tlso.key_file != NULL) {
		free(sm);
		*error_r = "tls_key_file needs tls_cert_file";
		return -1;
	}
	*state_r = sm;
	return 0;
}

static void
smtp_shutdown(void *state)
{
	if (sasl_inited) {
		sasl_client_done();
		sasl_inited = false;
	}
	free(state);
}

static const struct plume_transport_ops smtp_transport = {
	.struct_size = sizeof(struct plume_transport_ops),
	.session_open = smtp_session_open,
	.deliver = smtp_deliver,
	.session_close = smtp_session_close,
	.probe = smtp_probe,
};

const struct plume_plugin PLUME_PLUGIN(smtp) = {
	PLUME_PLUGIN_INIT,
	.name = "smtp",
	.version = "1.0",
	.description = "relays mail to an SMTP server (TLS, SASL)",
	.kinds = PLUME_KIND_TRANSPORT,
	.conf_keys = smtp_keys,
	.init = smtp_init,
	.shutdown = smtp_shutdown,
	.transport = &smtp_transport,
};
