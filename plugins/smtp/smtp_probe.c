/*
 * NAME
 *	smtp_probe.c - "plume doctor" for the SMTP transport
 * SYNOPSIS
 *	.probe = smtp_probe		(struct plume_transport_ops)
 * DESCRIPTION
 *	Walks the way a delivery goes, one reported check per step, and
 *	stops at the first step a delivery would fail at, saying why and
 *	what to change:
 *	- dns: the relay's addresses;
 *	- tcp: a connection to each address, timed; when none answers on
 *	  the configured port, the usual ports (465, 587, 2525, 25, in that
 *	  order of preference, or the "probe_ports" parameter's list) are
 *	  tried with short timeouts and each is classed: closed, filtered
 *	  (silent), plain SMTP (with or without STARTTLS), implicit TLS, or
 *	  something else; the remedy names the first that would work ("set
 *	  port = 465, tls = implicit");
 *	- greeting: with tls = starttls or none, a server that stays silent
 *	  but completes a TLS handshake is the implicit-TLS port; with tls =
 *	  implicit, a failed handshake on a port that greets in plain text
 *	  is a STARTTLS port;
 *	- ehlo, starttls, tls and certificate: protocol, cipher, subject,
 *	  issuer, expiry (a warning under 14 days), and the verification
 *	  verdict exactly as a delivery would judge it (chain and name, or
 *	  tls_fingerprint), with the certificate's fingerprint in the
 *	  remedy; the handshake itself never refuses the certificate
 *	  (smtp_tls_opts.probe), so what it is can be shown;
 *	- auth and login: mechanisms offered versus configured, then a
 *	  real login with the configured credentials (the server's words
 *	  when it refuses);
 *	- mail: MAIL FROM with the "from" parameter; rcpt: with "to", RCPT
 *	  TO, then RSET.  Most servers (Postfix's smtpd_delay_reject, the
 *	  default) refuse a sender only at RCPT: a refusal there that names
 *	  the sender ("Sender address rejected", X.7.1 with the sender in
 *	  the text, X.1.7 or X.1.8) gets the sender's remedy, not the
 *	  recipient's; send: with "send", a short test message whose
 *	  Message-ID is reported.
 *	Credentials are never sent over a connection whose certificate a
 *	delivery would refuse, nor in clear unless allow_plaintext_auth.
 *
 *	Timeouts are short (PROBE_CONNECT_MS, PROBE_GREETING_MS per step,
 *	never more than the configured ones), and the other ports are
 *	connected to all at once (scan_ports()), so a silent network costs
 *	two connect timeouts (the configured port, then the others), not
 *	one per port.
 * DIAGNOSTICS
 *	Only through host->probe_report().  Returns PLUME_OK when a
 *	delivery would get through, PLUME_TEMPFAIL otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "smtp.h"

#define PROBE_CONNECT_MS	5000
#define PROBE_GREETING_MS	5000
#define PROBE_COMMAND_MS	15000
/* in order of preference: the remedy names the first that works, and
   port 25 (for servers, blocked by many networks) comes last */
#define PROBE_PORTS		"465,587,2525,25"
#define CERT_WARN_DAYS		14

struct probe {
	struct smtp *sm;
	const struct plume_host *h;
	struct plume_probe *p;
	struct smtp_tls_opts tlso;	/* sm's, with probe set */
	int	 failed;
};

#define OK(...)		report(pr, PLUME_CHECK_OK, NULL, __VA_ARGS__)
#define INFO(...)	report(pr, PLUME_CHECK_INFO, NULL, __VA_ARGS__)

static void
report(struct probe *pr, enum plume_check st, const char *remedy,
    const char *check, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
report(struct probe *pr, enum plume_check st, const char *remedy,
    const char *check, const char *fmt, ...)
{
	char text[3000];
	va_list ap;

	/* the host makes it one line (control characters as spaces) */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (st == PLUME_CHECK_FAIL)
		pr->failed++;
	pr->h->probe_report(pr->p, st, check, remedy, "%s", text);
}

static int64_t
shorter(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static struct session *
session_new(struct probe *pr)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->sm = pr->sm;
	conn_init(&s->c, pr->h->monotonic_ms);
	return s;
}

/* ---- what answers on a port ----------------------------------------- */

enum port_kind {
	PORT_CLOSED,		/* refused */
	PORT_FILTERED,		/* no answer to the connection */
	PORT_SMTP,		/* greets in plain text, no STARTTLS */
	PORT_STARTTLS,		/* greets in plain text, offers STARTTLS */
	PORT_TLS,		/* silent, completes a TLS handshake */
	PORT_OTHER,		/* answers, speaks neither */
};

static const char *
kind_text(enum port_kind k)
{
	switch (k) {
	case PORT_CLOSED:	return "is closed (connection refused)";
	case PORT_FILTERED:	return "is filtered (no answer)";
	case PORT_SMTP:		return "answers SMTP without STARTTLS";
	case PORT_STARTTLS:	return "answers SMTP with STARTTLS";
	case PORT_TLS:		return "answers with implicit TLS";
	default:		return "answers, but speaks neither SMTP nor "
				    "TLS";
	}
}

/* Classes what listens on ai:port; greeting_r gets a plain greeting. */
static enum port_kind
classify(struct probe *pr, const struct addrinfo *ai, int port,
    char *greeting, size_t glen)
{
	struct session *s = session_new(pr);
	const struct plume_host *h = pr->h;
	enum port_kind k = PORT_OTHER;
	size_t len;

	if (greeting != NULL)
		greeting[0] = '\0';
	if (s == NULL)
		return PORT_OTHER;
	snprintf(s->relay, sizeof(s->relay), "%s:%d", pr->sm->host, port);
	if (conn_connect_addr(&s->c, pr->sm->host, ai, port,
	    h->monotonic_ms() + shorter(pr->sm->connect_ms, PROBE_CONNECT_MS),
	    s->err, sizeof(s->err)) == -1) {
		k = errno == ECONNREFUSED ? PORT_CLOSED : PORT_FILTERED;
		goto out;
	}
	if (conn_read_line(&s->c, &len, h->monotonic_ms() +
	    PROBE_GREETING_MS, s->err, sizeof(s->err)) == 0) {
		if (strncmp(s->c.line, "220", 3) != 0)
			goto out;
		if (greeting != NULL)
			snprintf(greeting, glen, "%.200s", s->c.line);
		/* the rest of a multi-line greeting, then EHLO */
		while (s->c.line[3] == '-' && conn_read_line(&s->c, &len,
		    h->monotonic_ms() + PROBE_GREETING_MS, s->err,
		    sizeof(s->err)) == 0)
			;
		k = PORT_SMTP;
		smtp_cmd(s, false, "EHLO %s", pr->sm->helo);
		if (smtp_read(s, PROBE_GREETING_MS) == 0 && s->r.code == 250) {
			for (size_t i = 1; i < s->r.nlines &&
			    i < SMTP_REPLY_LINES_MAX; i++)
				if (strncasecmp(s->r.lines[i], "STARTTLS", 8)
				    == 0)
					k = PORT_STARTTLS;
			smtp_cmd(s, false, "QUIT");
			smtp_read(s, 2000);
		}
	} else if (!s->c.eof && errno == ETIMEDOUT &&
	    conn_tls(&s->c, &pr->tlso, h->monotonic_ms() + PROBE_GREETING_MS,
	    s->err, sizeof(s->err)) == 0)
		k = PORT_TLS;
out:
	smtp_session_free(s);
	return k;
}

static void
parse_ports(const char *list, int *ports, size_t *n, size_t max)
{
	const char *p = list;

	*n = 0;
	while (*p != '\0' && *n < max) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		if (v > 0 && v < 65536)
			ports[(*n)++] = (int)v;
		p = end;
	}
}

/*
 * Connects to every port at once, without blocking, so that a network
 * where all of them are filtered costs one connect timeout, not one per
 * port.  Each port comes back closed, filtered, or PORT_OTHER: open,
 * for classify() to tell what speaks there.
 */
static void
scan_ports(struct probe *pr, const struct addrinfo *ai, const int *ports,
    size_t n, enum port_kind *kind)
{
	struct pollfd pfd[16];
	int64_t deadline = pr->h->monotonic_ms() + shorter(pr->sm->connect_ms,
	    PROBE_CONNECT_MS), left;
	size_t pending = 0;

	for (size_t i = 0; i < n && i < 16; i++) {
		struct sockaddr_storage ss;
		int fd;

		kind[i] = PORT_FILTERED;
		pfd[i].fd = -1;
		pfd[i].events = POLLOUT;
		if (ai->ai_addrlen > sizeof(ss))
			continue;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port =
			    htons((uint16_t)ports[i]);
		else
			((struct sockaddr_in *)&ss)->sin_port =
			    htons((uint16_t)ports[i]);
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, (struct sockaddr *)&ss, ai->ai_addrlen) == 0)
			kind[i] = PORT_OTHER;
		else if (errno == EINPROGRESS) {
			pfd[i].fd = fd;
			pending++;
			continue;
		} else if (errno == ECONNREFUSED)
			kind[i] = PORT_CLOSED;
		close(fd);
	}
	while (pending > 0 && (left = deadline - pr->h->monotonic_ms()) > 0) {
		if (poll(pfd, n, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			int e = 0;
			socklen_t elen = sizeof(e);

			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &e,
			    &elen) == -1)
				e = errno;
			kind[i] = e == 0 ? PORT_OTHER : e == ECONNREFUSED ?
			    PORT_CLOSED : PORT_FILTERED;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			pending--;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
}

/* Nothing answered on the configured port: what does, nearby? */
static void
try_other_ports(struct probe *pr, const struct addrinfo *ai,
    const char *why)
{
	const char *list = pr->h->probe_param(pr->p, PLUME_PROBE_PORTS);
	char text[1500], remedy[300] = "";
	int all[16], ports[16];
	enum port_kind kinds[16];
	size_t nall, n = 0, k = 0;

	parse_ports(list != NULL ? list : PROBE_PORTS, all, &nall, 16);
	for (size_t i = 0; i < nall; i++)
		if (all[i] != pr->sm->port)
			ports[n++] = all[i];
	scan_ports(pr, ai, ports, n, kinds);
	k = (size_t)snprintf(text, sizeof(text), "%s", why);
	for (size_t i = 0; i < n && k < sizeof(text); i++) {
		enum port_kind kind = kinds[i];

		if (kind == PORT_OTHER)
			kind = classify(pr, ai, ports[i], NULL, 0);
		k += (size_t)snprintf(text + k, sizeof(text) - k, "; port %d "
		    "%s", ports[i], kind_text(kind));
		if (remedy[0] != '\0')
			continue;
		if (kind == PORT_TLS)
			snprintf(remedy, sizeof(remedy), "set port = %d, tls = "
			    "implicit", ports[i]);
		else if (kind == PORT_STARTTLS)
			snprintf(remedy, sizeof(remedy), "set port = %d, tls = "
			    "starttls", ports[i]);
	}
	if (remedy[0] == '\0')
		snprintf(remedy, sizeof(remedy), "no usual SMTP port answers "
		    "from here: a firewall blocks outgoing mail (ask the "
		    "network's or hosting provider's admin), or use the http "
		    "transport");
	report(pr, PLUME_CHECK_FAIL, remedy, "tcp", "%s", text);
}

/* ---- the steps -------------------------------------------------------- */

/* "2020-02-01" */
static const char *
day(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "an unknown date");
	else
		strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

static int
step_tls_report(struct probe *pr, struct session *s)
{
	struct conn_tls_info t;
	char remedy[1200], date[32];
	time_t now = pr->h->now();
	long days;

	INFO("tls", "%s, %s", conn_tls_version(&s->c),
	    conn_tls_cipher(&s->c));
	if (conn_tls_info(&s->c, &pr->sm->tlso, &t) == -1) {
		if (t.pinned)
			snprintf(remedy, sizeof(remedy), "if the server's "
			    "certificate was replaced on purpose, set "
			    "tls_fingerprint = sha256:%s", t.fingerprint);
		else if ((t.verify_error == X509_V_ERR_HOSTNAME_MISMATCH ||
		    t.verify_error == X509_V_ERR_IP_ADDRESS_MISMATCH) &&
		    t.names[0] != '\0')
			snprintf(remedy, sizeof(remedy), "set host = a name "
			    "the certificate is for (%s), not %s; if none is "
			    "the relay, its admin must fix its certificate",
			    t.names, pr->sm->host);
		else if (t.verify_error == X509_V_ERR_HOSTNAME_MISMATCH ||
		    t.verify_error == X509_V_ERR_IP_ADDRESS_MISMATCH)
			snprintf(remedy, sizeof(remedy), "set host = a name "
			    "the certificate holds (its subject: %s)",
			    t.subject);
		else if (t.verify_error == X509_V_ERR_CERT_HAS_EXPIRED)
			snprintf(remedy, sizeof(remedy), "the relay's admin "
			    "must renew its certificate (it expired on %s); "
			    "plume sends nothing over it until then",
			    day(t.not_after, date, sizeof(date)));
		else if (t.verify_error == X509_V_ERR_CERT_NOT_YET_VALID)
			snprintf(remedy, sizeof(remedy), "check this host's "
			    "clock (date -u says %s)", day(now, date,
			    sizeof(date)));
		else
			snprintf(remedy, sizeof(remedy), "set tls_ca_file = "
			    "the CA that issued it (%s), or pin this "
			    "certificate: tls_fingerprint = sha256:%s",
			    t.issuer, t.fingerprint);
		report(pr, PLUME_CHECK_FAIL, remedy, "certificate",
		    "verification failed: %s (subject %s, issuer %s)",
		    t.verdict, t.subject, t.issuer);
		return -1;
	}
	days = t.not_after != 0 ? (long)((t.not_after - now) / 86400) : -1;
	if (t.not_after != 0 && days < CERT_WARN_DAYS)
		report(pr, PLUME_CHECK_WARN, "the relay's admin should renew "
		    "its certificate now", "certificate", "expires in %ld "
		    "day%s (subject %s, issuer %s)", days, days == 1 ? "" : "s",
		    t.subject, t.issuer);
	else
		OK("certificate", "%s; subject %s, issuer %s, valid for %ld "
		    "more days", t.verdict, t.subject, t.issuer, days);
	return 0;
}

/* Greeting, EHLO and STARTTLS on a connected session. */
static int
step_greet(struct probe *pr, struct session *s, const struct addrinfo *ai)
{
	struct smtp *sm = pr->sm;
	const struct plume_host *h = pr->h;
	char greeting[SMTP_REPLY_LINE_MAX], remedy[200];
	int64_t t0 = h->monotonic_ms();

	if (sm->tls == TLS_IMPLICIT) {
		if (conn_tls(&s->c, &pr->tlso, h->monotonic_ms() +
		    shorter(sm->command_ms, PROBE_GREETING_MS), s->err,
		    sizeof(s->err)) == -1) {
			enum port_kind k = classify(pr, ai, sm->port, greeting,
			    sizeof(greeting));

			if (k == PORT_STARTTLS || k == PORT_SMTP) {
				snprintf(remedy, sizeof(remedy), "set tls = "
				    "starttls (or use the server's implicit-TLS "
				    "port, usually 465)");
				report(pr, PLUME_CHECK_FAIL, remedy, "tls",
				    "tls = implicit, but port %d speaks plain "
				    "SMTP (\"%.80s\"): it is a STARTTLS port",
				    sm->port, greeting);
			} else
				report(pr, PLUME_CHECK_FAIL, "check host and "
				    "port", "tls", "TLS handshake failed: %s",
				    s->err);
			return -1;
		}
		if (step_tls_report(pr, s) == -1)
			return -1;
	}
	if (smtp_read(s, shorter(sm->command_ms, PROBE_GREETING_MS)) == -1) {
		char why[sizeof(s->err)];
		bool silent = !s->c.eof && strstr(s->err, "timed out") != NULL;

		snprintf(why, sizeof(why), "%s", s->err);
		if (sm->tls != TLS_IMPLICIT && !s->c.eof &&
		    strstr(s->err, "timed out") != NULL &&
		    conn_tls(&s->c, &pr->tlso, h->monotonic_ms() +
		    PROBE_GREETING_MS, s->err, sizeof(s->err)) == 0) {
			snprintf(remedy, sizeof(remedy), "set tls = implicit "
			    "(port %d speaks TLS from the first byte), or use "
			    "the server's STARTTLS port (587)", sm->port);
			report(pr, PLUME_CHECK_FAIL, remedy, "greeting",
			    "tls = %s, but port %d sends no greeting in %d s "
			    "and answers a TLS handshake: it is an implicit-"
			    "TLS port", sm->tls == TLS_NONE ? "none" :
			    "starttls", sm->port, PROBE_GREETING_MS / 1000);
			return -1;
		}
		if (silent)
			report(pr, PLUME_CHECK_FAIL, "the server takes the "
			    "connection but says nothing: ask its admin (is it "
			    "overloaded?); on this host, look for a firewall or "
			    "antivirus that intercepts SMTP", "greeting",
			    "no greeting in %d s, and no TLS handshake either",
			    (int)(shorter(sm->command_ms, PROBE_GREETING_MS) /
			    1000));
		else
			report(pr, PLUME_CHECK_FAIL, "check host and port: is "
			    "it an SMTP server?", "greeting", "no greeting: %s",
			    why);
		return -1;
	}
	if (s->r.code != 220) {
		report(pr, PLUME_CHECK_FAIL, "the server refuses this client: "
		    "ask its admin (is this host's address allowed?)",
		    "greeting", "%d %s", s->r.code, s->r.text);
		return -1;
	}
	OK("greeting", "%d %s (%lld ms)", s->r.code, s->r.lines[0],
	    (long long)(h->monotonic_ms() - t0));
	if (smtp_ehlo(s) == -1) {
		report(pr, PLUME_CHECK_FAIL, "set hostname = this host's "
		    "fully-qualified name", "ehlo", "%s", s->fail_text);
		return -1;
	}
	if (sm->tls == TLS_STARTTLS) {
		if (!s->starttls) {
			report(pr, PLUME_CHECK_FAIL, sm->port == 465 ?
			    "set tls = implicit" : "use the server's "
			    "submission port (587 with STARTTLS, or 465 with "
			    "tls = implicit); tls = none only on a trusted "
			    "network", "starttls", "port %d does not offer "
			    "STARTTLS", sm->port);
			return -1;
		}
		smtp_cmd(s, false, "STARTTLS");
		if (smtp_read(s, shorter(sm->command_ms,
		    PROBE_COMMAND_MS)) == -1 || s->r.code != 220) {
			report(pr, PLUME_CHECK_FAIL, "ask the relay's admin",
			    "starttls", "refused: %s", s->r.code ? s->r.text :
			    s->err);
			return -1;
		}
		if (conn_tls(&s->c, &pr->tlso, h->monotonic_ms() +
		    shorter(sm->command_ms, PROBE_COMMAND_MS), s->err,
		    sizeof(s->err)) == -1) {
			report(pr, PLUME_CHECK_FAIL, "ask the relay's admin",
			    "starttls", "TLS handshake failed: %s", s->err);
			return -1;
		}
		if (step_tls_report(pr, s) == -1)
			return -1;
		if (smtp_ehlo(s) == -1) {
			report(pr, PLUME_CHECK_FAIL, NULL, "ehlo", "%s",
			    s->fail_text);
			return -1;
		}
	} else if (sm->tls == TLS_NONE)
		report(pr, PLUME_CHECK_WARN, s->starttls ? "set tls = "
		    "starttls (the server offers it)" : "use a port with TLS",
		    "tls", "tls = none: mail%s goes in clear",
		    sm->user != NULL ? " and the password" : "");
	{
		char caps[1500] = "";
		size_t k = 0;

		for (size_t i = 1; i < s->r.nlines && i < SMTP_REPLY_LINES_MAX &&
		    k < sizeof(caps); i++)
			k += (size_t)snprintf(caps + k, sizeof(caps) - k,
			    "%s%s", k ? ", " : "", s->r.lines[i]);
		INFO("ehlo", "%s", caps[0] ? caps : "no extensions");
	}
	return 0;
}

static int
step_auth(struct probe *pr, struct session *s)
{
	struct smtp *sm = pr->sm;
	char conf[256] = "", remedy[1200];
	size_t k = 0;
	bool usable = false;

	if (sm->user == NULL) {
		if (s->mechs[0] != '\0')
			INFO("auth", "no user configured (the server offers "
			    "AUTH %s)", s->mechs);
		return 0;
	}
	if (s->mechs[0] == '\0') {
		report(pr, PLUME_CHECK_FAIL, s->c.ssl == NULL ? "the server "
		    "may offer AUTH only after TLS: set tls = starttls" :
		    "remove user (the relay needs no login) or use the "
		    "provider's submission port", "auth", "user is set, but "
		    "the server offers no AUTH");
		return -1;
	}
	for (size_t i = 0; sm->auth != NULL && sm->auth[i] != NULL; i++) {
		k += (size_t)snprintf(conf + k, sizeof(conf) - k, "%s%s",
		    i ? " " : "", sm->auth[i]);
		if (smtp_has_word(s->mechs, sm->auth[i]))
			usable = true;
	}
	if (sm->auth != NULL && !usable) {
		snprintf(remedy, sizeof(remedy), "set auth = one of %s (or "
		    "remove auth: the best offered is used)", s->mechs);
		report(pr, PLUME_CHECK_FAIL, remedy, "auth", "configured %s; "
		    "the server offers %s", conf, s->mechs);
		return -1;
	}
	OK("auth", "offered: %s; configured: %s", s->mechs,
	    conf[0] ? conf : "automatic");
	if (smtp_authenticate(s) == -1) {
		const char *t = s->fail_text;

		if (s->secret == NULL)
			snprintf(remedy, sizeof(remedy), "fix %s as the message "
			    "says", sm->password_file ? "password_file" :
			    "password_command");
		else if (strcasestr(t, "password") != NULL && strcasestr(t,
		    "application") != NULL)
			snprintf(remedy, sizeof(remedy), "create an app "
			    "password for %s in the provider's account "
			    "settings and put it in the password file",
			    sm->user);
		else if (s->fail.code == 535 || strstr(s->fail_enh, "5.7.8"))
			snprintf(remedy, sizeof(remedy), "check user (%s) and "
			    "the password in %s; many providers want an app "
			    "password when two-factor login is on", sm->user,
			    sm->password_file ? sm->password_file :
			    "password_command's output");
		else
			snprintf(remedy, sizeof(remedy), "check user, password "
			    "and auth; the server's words say more");
		if (s->fail.code != 0 && s->fail.code != 451)
			report(pr, PLUME_CHECK_FAIL, remedy, "login", "%d%s%s "
			    "%s", s->fail.code, s->fail_enh[0] ? " " : "",
			    s->fail_enh, t);
		else
			report(pr, PLUME_CHECK_FAIL, remedy, "login", "%s", t);
		return -1;
	}
	OK("login", "accepted: %s", s->auth_used);
	return 0;
}

#define SENDER_REMEDY	"the relay takes only the addresses of its "	\
	"account: set sender_address (and envelope_from) to one of them, "	\
	"or try --from"

/* Whether a refused RCPT is about the sender (a delayed MAIL refusal). */
static bool
refuses_sender(const struct session *s, const char *from)
{
	const char *t = s->r.text, *enh = s->r.enhanced;

	if (strcasestr(t, "sender address rejected") != NULL ||
	    strcasestr(t, "sender rejected") != NULL)
		return true;
	if (enh[0] != '\0' && (strcmp(enh + 1, ".1.7") == 0 ||
	    strcmp(enh + 1, ".1.8") == 0))
		return true;
	return *from != '\0' && strcasestr(t, from) != NULL &&
	    enh[0] != '\0' && strcmp(enh + 1, ".7.1") == 0;
}

static int
step_mail(struct probe *pr, struct session *s)
{
	const char *from = pr->h->probe_param(pr->p, PLUME_PROBE_FROM);
	const char *to = pr->h->probe_param(pr->p, PLUME_PROBE_TO);
	const char *send = pr->h->probe_param(pr->p, PLUME_PROBE_SEND);
	int64_t t = shorter(pr->sm->command_ms, PROBE_COMMAND_MS);

	if (from == NULL)
		from = "";
	smtp_cmd(s, false, "MAIL FROM:<%s>", from);
	if (smtp_read(s, t) == -1) {
		report(pr, PLUME_CHECK_FAIL, NULL, "mail", "%s", s->err);
		return -1;
	}
	if (s->r.code / 100 != 2) {
		report(pr, PLUME_CHECK_FAIL, SENDER_REMEDY, "mail",
		    "MAIL FROM:<%s> refused: %d%s%s %s", from, s->r.code,
		    s->r.enhanced[0] ? " " : "", s->r.enhanced, s->r.text);
		return -1;
	}
	OK("mail", "MAIL FROM:<%s> accepted: %d %s", from, s->r.code,
	    s->r.text);
	if (to == NULL)
		return 0;
	smtp_cmd(s, false, "RCPT TO:<%s>", to);
	if (smtp_read(s, t) == -1) {
		report(pr, PLUME_CHECK_FAIL, NULL, "rcpt", "%s", s->err);
		return -1;
	}
	if (s->r.code / 100 != 2 && refuses_sender(s, from)) {
		report(pr, PLUME_CHECK_FAIL, SENDER_REMEDY, "mail",
		    "RCPT TO:<%s> refused because of the sender <%s>: %d%s%s "
		    "%s", to, from, s->r.code, s->r.enhanced[0] ? " " : "",
		    s->r.enhanced, s->r.text);
		return -1;
	}
	if (s->r.code / 100 != 2) {
		report(pr, PLUME_CHECK_FAIL, s->r.code / 100 == 5 ? "check "
		    "the address; a relay that refuses every outside "
		    "recipient wants a login (user, password_file)" :
		    "try again later; if it lasts, ask the relay's admin",
		    "rcpt", "RCPT TO:<%s> refused: %d%s%s %s", to, s->r.code,
		    s->r.enhanced[0] ? " " : "", s->r.enhanced, s->r.text);
		return -1;
	}
	OK("rcpt", "RCPT TO:<%s> accepted: %d %s", to, s->r.code, s->r.text);
	if (send == NULL || strcmp(send, "yes") != 0) {
		smtp_cmd(s, false, "RSET");
		smtp_read(s, t);
		return 0;
	}
	{
		char date[64], mid[300];
		time_t now = pr->h->now();
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
		    &tm);
		snprintf(mid, sizeof(mid), "<doctor.%lld.%lx@%s>",
		    (long long)now, (long)(pr->h->monotonic_ms() & 0xffffff),
		    pr->sm->helo);
		smtp_cmd(s, false, "DATA");
		if (smtp_read(s, t) == -1 || s->r.code != 354) {
			report(pr, PLUME_CHECK_FAIL, NULL, "send", "DATA "
			    "refused: %s", s->r.code ? s->r.text : s->err);
			return -1;
		}
		smtp_cmd(s, false, "From: <%s>", from);
		smtp_cmd(s, false, "To: <%s>", to);
		smtp_cmd(s, false, "Subject: plume doctor test message");
		smtp_cmd(s, false, "Date: %s", date);
		smtp_cmd(s, false, "Message-ID: %s", mid);
		smtp_cmd(s, false, "%s", "");
		smtp_cmd(s, false, "This message was sent by plume doctor "
		    "--send from %s through %s.", pr->sm->helo, s->relay);
		smtp_cmd(s, false, ".");
		if (smtp_read(s, shorter(pr->sm->final_ms, 60000)) == -1 ||
		    s->r.code / 100 != 2) {
			report(pr, PLUME_CHECK_FAIL, NULL, "send", "the "
			    "message was refused: %s", s->r.code ? s->r.text :
			    s->err);
			return -1;
		}
		OK("send", "test message %s accepted: %d %s", mid, s->r.code,
		    s->r.text);
	}
	return 0;
}

int
smtp_probe(void *state, struct plume_probe *p)
{
	struct probe probe = { .sm = state, .h = ((struct smtp *)state)->h,
	    .p = p }, *pr = &probe;
	struct smtp *sm = state;
	const struct plume_host *h = sm->h;
	struct addrinfo hints, *res = NULL, *ai, *used = NULL;
	struct session *s;
	char port[16], addrs[600] = "", why[1200] = "";
	int64_t t0 = h->monotonic_ms();
	size_t k = 0;
	int rc;

	pr->tlso = sm->tlso;
	pr->tlso.probe = true;
	/* for doctor's sender-domain checks (SPF is evaluated for the
	   relay's addresses, the EHLO name should resolve) */
	if (PLUME_HOST_HAS(h, probe_fact)) {
		h->probe_fact(p, PLUME_PROBE_RELAY, sm->host);
		if (sm->helo != NULL)
			h->probe_fact(p, PLUME_PROBE_HELO, sm->helo);
	}
	INFO("relay", "%s port %d, tls = %s%s%s", sm->host, sm->port,
	    sm->tls == TLS_IMPLICIT ? "implicit" : sm->tls == TLS_NONE ?
	    "none" : "starttls", sm->user ? ", user " : "",
	    sm->user ? sm->user : "");
	snprintf(port, sizeof(port), "%d", sm->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo(sm->host, port, &hints, &res)) != 0) {
		report(pr, PLUME_CHECK_FAIL, "check host = (a typo?) and "
		    "this host's resolver (/etc/resolv.conf)", "dns",
		    "cannot resolve %s: %s", sm->host, gai_strerror(rc));
		return PLUME_TEMPFAIL;
	}
	if ((s = session_new(pr)) == NULL) {
		freeaddrinfo(res);
		return PLUME_TEMPFAIL;
	}
	for (ai = res; ai != NULL && k < sizeof(addrs); ai = ai->ai_next) {
		char ip[64];

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip),
		    NULL, 0, NI_NUMERICHOST) == 0)
			k += (size_t)snprintf(addrs + k, sizeof(addrs) - k,
			    "%s%s", k ? ", " : "", ip);
	}
	OK("dns", "%s: %s (%lld ms)", sm->host, addrs,
	    (long long)(h->monotonic_ms() - t0));
	k = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		t0 = h->monotonic_ms();
		if (conn_connect_addr(&s->c, sm->host, ai, sm->port, t0 +
		    shorter(sm->connect_ms, PROBE_CONNECT_MS), s->err,
		    sizeof(s->err)) == 0) {
			OK("tcp", "connected to %s[%s]:%d in %lld ms",
			    sm->host, s->c.ip, sm->port,
			    (long long)(h->monotonic_ms() - t0));
			used = ai;
			break;
		}
		if (k < sizeof(why))
			k += (size_t)snprintf(why + k, sizeof(why) - k, "%s%s",
			    k ? "; " : "", s->err);
	}
	if (used == NULL) {
		try_other_ports(pr, res, why);
		goto out;
	}
	snprintf(s->relay, sizeof(s->relay), "%s[%s]:%d", sm->host, s->c.ip,
	    sm->port);
	if (step_greet(pr, s, used) == -1 || step_auth(pr, s) == -1 ||
	    step_mail(pr, s) == -1)
		goto out;
	smtp_cmd(s, false, "QUIT");
	smtp_read(s, 2000);
out:
	smtp_session_free(s);
	freeaddrinfo(res);
	return pr->failed > 0 ? PLUME_TEMPFAIL : PLUME_OK;
}
