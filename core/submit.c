/*
 * NAME
 *	submit.c - complete a submitted message before any plugin sees it
 * DESCRIPTION
 *	Envelope sender: -f/-r (qualified with domain when it has no '@';
 *	"<>" or "" is the null sender), else the invoking user at domain.
 *
 *	Recipients: the command-line ones, plus with -t those of To, Cc
 *	and Bcc, or only of Resent-To, Resent-Cc and Resent-Bcc when any of
 *	those exist (RFC 5322 3.6.6; Postfix does the same).  The union, as
 *	Postfix, msmtp and dma take it: Ruby's mail gem passes both.
 *	Duplicates are dropped; unqualified addresses get @domain.  Header
 *	addresses that cannot be parsed are skipped with a warning, never
 *	guessed at.
 *
 *	Bcc and Resent-Bcc fields are removed whether or not -t was given:
 *	nodemailer passes Bcc in the header and the recipients in argv.
 *
 *	Added when missing: From (-F or the passwd full name, and the
 *	sender), Date, Message-ID <YYYYMMDDhhmmss.QID@hostname>.  Always
 *	prepended: a Received field naming plume and the submitting user,
 *	so a message from a hacked web application can be traced to uid.
 * DIAGNOSTICS
 *	SUBMIT_NO_RCPT and SUBMIT_BAD_ADDR with one line in err.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "message.h"
#include "rfc5322.h"
#include "submit.h"
#include "util.h"

bool
submit_arg_ok(const char *s)
{
	return s[0] != '-' && strpbrk(s, "\r\n") == NULL;
}

char *
submit_qualify(const char *addr, const char *domain)
{
	/* an '@' inside a quoted local part does not qualify it */
	const char *at = strrchr(addr, '@');

	if (at != NULL && strchr(at, '"') == NULL)
		return xstrdup(addr);
	return xasprintf("%s@%s", addr, domain);
}

/* "<a@b>" from the command line means a@b; "<>" the null sender. */
static char *
strip_angles(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
		return xstrndup(s + 1, n - 2);
	return xstrdup(s);
}

static bool
is_local(const struct submit_opts *o, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || strchr(at, '"') != NULL)
		return true;		/* unqualified */
	for (size_t i = 0; o->local_domains && o->local_domains[i]; i++)
		if (strcasecmp(at + 1, o->local_domains[i]) == 0)
			return true;
	return false;
}

/* A recipient that the aliases send nowhere plume will deliver: it is
   refused, with the reason, before any transport sees it. */
static void
add_refused(struct plume_msg *m, const struct submit_opts *o,
    const char *addr, const char *why)
{
	struct plume_reply r = { PLUME_PERMFAIL, 550, "5.1.1", why, 0 };
	char *q = submit_qualify(addr, o->domain);

	msg_add_rcpt(m, q);
	for (size_t i = 0; i < m->nrcpt; i++)
		if (strcasecmp(m->rcpts[i].addr, q) == 0 &&
		    !m->rcpts[i].result.set)
			result_set(&m->rcpts[i].result, &r);
	log_warnx("<%s>: %s", q, why);
	free(q);
}

/* Adds addr, through the aliases when it is local (RFC-less, as
   sendmail does: lists, :include:, recursion to depth 10). */
static void
rcpt_add(struct plume_msg *m, const struct submit_opts *o, const char *addr,
    const char *self, int depth)
{
	char *q;

	if (o->aliases != NULL && is_local(o, addr) &&
	    (self == NULL || strcasecmp(addr, self) != 0)) {
		const char *at = strrchr(addr, '@');
		char *name = at != NULL ? xstrndup(addr, (size_t)(at - addr)) :
		    xstrdup(addr);
		const struct alias *al = aliases_find(o->aliases, name);

		if (al == NULL && o->default_recipient == NULL)
			al = aliases_find(o->aliases, "*");
		if (depth >= 10) {
			add_refused(m, o, addr, "alias loop: more than 10 "
			    "levels deep");
			free(name);
			return;
		}
		if (al == NULL && o->default_recipient != NULL) {
			free(name);
			rcpt_add(m, o, o->default_recipient, NULL, 10);
			return;
		}
		if (al != NULL) {
			for (char **t = al->targets; *t != NULL; t++) {
				char err[512], **inc;

				if (**t == '|' || **t == '/') {
					if (o->default_recipient != NULL) {
						log_warnx("alias %s: %s is never "
						    "run or written; sent to %s",
						    name, *t,
						    o->default_recipient);
						rcpt_add(m, o,
						    o->default_recipient, NULL,
						    10);
					} else
						add_refused(m, o, addr, "the alias "
						    "names a program or a file, "
						    "which plume never runs or "
						    "writes (set default_recipient)");
				} else if (strncasecmp(*t, ":include:", 9) == 0) {
					if ((inc = aliases_include(*t + 9, err,
					    sizeof(err))) == NULL) {
						add_refused(m, o, addr, err);
						continue;
					}
					for (char **i = inc; *i != NULL; i++) {
						rcpt_add(m, o, *i, name,
						    depth + 1);
						free(*i);
					}
					free(inc);
				} else
					rcpt_add(m, o, *t, name, depth + 1);
			}
			free(name);
			return;
		}
		free(name);
	}
	q = submit_qualify(addr, o->domain);
	if (rfc5321_valid_mailbox(q, false))
		msg_add_rcpt(m, q);
	else
		log_warnx("skipping unusable address <%s>", q);
	free(q);
}

static void
add_header_rcpts(struct plume_msg *m, const char *name,
    const struct submit_opts *o)
{
	for (size_t n = 0;; n++) {
		long i = msg_header_find(m, name, n);
		const struct header *h;
		struct addrlist list = { NULL, 0 };
		const char *err = NULL;

		if (i < 0)
			break;
		h = &m->hdrs[i];
		if (rfc5322_parse_addrlist(h->raw + h->name_len + 1,
		    h->len - h->name_len - 1, &list, &err) == -1)
			log_warnx("%s: header has an address that cannot be "
			    "parsed (%s); taking the %zu that can", name,
			    err ? err : "syntax error", list.n);
		for (size_t k = 0; k < list.n; k++)
			rcpt_add(m, o, list.v[k].spec, NULL, 0);
		addrlist_free(&list);
	}
}

static bool
has_resent_rcpts(const struct plume_msg *m)
{
	return msg_header_find(m, "Resent-To", 0) >= 0 ||
	    msg_header_find(m, "Resent-Cc", 0) >= 0 ||
	    msg_header_find(m, "Resent-Bcc", 0) >= 0;
}

static bool
is_atext_phrase(const char *s)
{
	if (*s == '\0')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == ' ' ||
		    strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL))
			return false;
	return true;
}

static void
base64_add(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_addc(b, tab[(v >> 18) & 63]);
		buf_addc(b, tab[(v >> 12) & 63]);
		buf_addc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_addc(b, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* A display name as an RFC 5322 phrase: atoms as they are, other ASCII
   quoted, anything with 8-bit bytes as an RFC 2047 encoded word. */
static void
phrase_add(struct buf *b, const char *name)
{
	bool ascii = true;

	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
			ascii = false;
	if (ascii && is_atext_phrase(name)) {
		buf_adds(b, name);
	} else if (ascii) {
		buf_addc(b, '"');
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else {
		buf_adds(b, "=?UTF-8?B?");
		base64_add(b, (const unsigned char *)name, strlen(name));
		buf_adds(b, "?=");
	}
}

static void
rfc5322_date(char *out, size_t len, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	/* the C locale is in force: day and month names are English */
	strftime(out, len, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/*
 * Qualifies the bare local parts of an address field with @domain, in
 * place, keeping display names and comments as written: cron's
 * "From: root (Cron Daemon)" becomes "From: root@example.org (Cron
 * Daemon)".  Only tokens that stand as addresses are touched: a bare
 * word before a comma, a comment, a semicolon or the end, or inside
 * angle brackets; quoted strings and comments are skipped.
 */
static char *
qualify_field(const char *v, const char *domain, bool *changed)
{
	struct buf b;
	const char *p = v;
	int depth = 0;
	bool quoted = false, angle = false;

	buf_init(&b);
	*changed = false;
	while (*p != '\0') {
		const char *start, *end, *after;

		if (quoted || depth > 0) {
			if (*p == '\\' && p[1] != '\0')
				buf_addc(&b, *p++);
			else if (quoted && *p == '"')
				quoted = false;
			else if (depth > 0 && *p == '(')
				depth++;
			else if (depth > 0 && *p == ')')
				depth--;
			buf_addc(&b, *p++);
			continue;
		}
		if (*p == '"' || *p == '(') {
			quoted = *p == '"';
			depth = *p == '(';
			buf_addc(&b, *p++);
			continue;
		}
		if (*p == '<')
			angle = true;
		else if (*p == '>')
			angle = false;
		if (strchr(" \t\r\n<>,;:", *p) != NULL) {
			buf_addc(&b, *p++);
			continue;
		}
		/* a word: an address when nothing but white space separates
		   it from a delimiter that ends an address */
		start = p;
		while (*p != '\0' && strchr(" \t\r\n<>,;:\"()@", *p) == NULL)
			p++;
		end = p;
		after = p;
		while (*after == ' ' || *after == '\t' || *after == '\r' ||
		    *after == '\n')
			after++;
		buf_add(&b, start, (size_t)(end - start));
		if (*p != '@' && (angle ? *after == '>' :
		    (*after == '\0' || *after == ',' || *after == '(' ||
		    *after == ';')) && (start == v || !angle || start[-1] == '<')) {
			/* a word followed by a phrase ("John Doe <j>") is a
			   display name: only the last word can be an address */
			const char *q = start;

			while (q > v && strchr(" \t\r\n", q[-1]) != NULL)
				q--;
			if (angle || q == v || strchr(",:;)", q[-1]) != NULL) {
				buf_printf(&b, "@%s", domain);
				*changed = true;
			}
		}
		if (*p == '@') {	/* qualified: copy the domain as is */
			while (*p != '\0' &&
			    strchr(" \t\r\n<>,;:\"()", *p) == NULL)
				buf_addc(&b, *p++);
		}
	}
	return buf_detach(&b);
}

static void
qualify_headers(struct plume_msg *m, const struct submit_opts *o)
{
	static const char *const fields[] = { "From", "To", "Cc", "Sender",
	    "Reply-To" };

	for (size_t f = 0; f < nitems(fields); f++)
		for (size_t n = 0;; n++) {
			long i = msg_header_find(m, fields[f], n);
			struct header *h;
			const char *val;
			char *nv;
			bool changed;

			if (i < 0)
				break;
			h = &m->hdrs[i];
			val = h->raw + h->name_len + 1;
			nv = qualify_field(val, o->domain, &changed);
			if (changed) {
				char *raw = xasprintf("%.*s:%s",
				    (int)h->name_len, h->raw, nv);

				free(h->raw);
				h->raw = raw;
				h->len = strlen(raw);
			}
			free(nv);
		}
}

static void
add_missing_headers(struct plume_msg *m, const struct submit_opts *o)
{
	char date[64], stamp[32];
	const char *err;
	struct tm tm;
	long i;

	if (msg_header_find(m, "From", 0) < 0) {
		struct buf b;
		const char *name = o->fullname;

		if (name == NULL && o->sender == NULL)
			name = o->gecos;
		buf_init(&b);
		if (name != NULL && *name != '\0') {
			phrase_add(&b, name);
			buf_adds(&b, " <");
		}
		if (m->sender[0] != '\0')
			buf_adds(&b, m->sender);
		else
			buf_printf(&b, "MAILER-DAEMON@%s", o->domain);
		if (name != NULL && *name != '\0')
			buf_addc(&b, '>');
		msg_header_add(m, PLUME_HEADER_APPEND, "From", b.data, &err);
		buf_free(&b);
	}
	rfc5322_date(date, sizeof(date), o->now);
	if (msg_header_find(m, "Date", 0) < 0)
		msg_header_add(m, PLUME_HEADER_APPEND, "Date", date, &err);
	if ((i = msg_header_find(m, "Message-ID", 0)) < 0) {
		char *id;

		gmtime_r(&o->now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		id = xasprintf("<%s.%s@%s>", stamp, m->qid, o->hostname);
		msg_header_add(m, PLUME_HEADER_APPEND, "Message-ID", id, &err);
		m->message_id = id;
	} else {
		char *v = msg_header_value(m, (size_t)i);
		char *s = v, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		m->message_id = xstrndup(s, (size_t)(e - s));
		free(v);
	}
	{
		char *recv = xasprintf("by %s (plume %s, from userid %lu "
		    "(%s))\r\n\tid %s; %s", o->hostname, PACKAGE_VERSION,
		    (unsigned long)o->uid, o->user, m->qid, date);

		msg_header_add(m, PLUME_HEADER_PREPEND, "Received", recv,
		    &err);
		free(recv);
	}
}

/* "user@example.org", "*@example.org" or "*@*.example.org" */
static bool
sender_allowed(const struct submit_opts *o, const char *addr)
{
	const char *at = strrchr(addr, '@');

	for (size_t i = 0; o->allowed_senders && o->allowed_senders[i]; i++) {
		const char *p = o->allowed_senders[i];

		if (strcasecmp(p, addr) == 0)
			return true;
		if (at != NULL && strncmp(p, "*@*.", 4) == 0) {
			size_t dl = strlen(at + 1), pl = strlen(p + 4);

			if (dl > pl && strcasecmp(at + 1 + dl - pl, p + 4) == 0 &&
			    at[dl - pl] == '.')
				return true;
		} else if (at != NULL && strncmp(p, "*@", 2) == 0 &&
		    strcasecmp(p + 2, at + 1) == 0)
			return true;
	}
	return false;
}

/* from_rewrite: the From field's address becomes the envelope sender,
   its display name kept. */
static void
rewrite_from(struct plume_msg *m, const struct submit_opts *o)
{
	long i = msg_header_find(m, "From", 0);
	struct header *h;
	struct addrlist list = { NULL, 0 };
	const char *e;
	bool unqualified;
	struct buf b;

	if (i < 0 || o->from_rewrite == 'k' || o->from_rewrite == 0 ||
	    m->sender[0] == '\0')
		return;
	h = &m->hdrs[i];
	rfc5322_parse_addrlist(h->raw + h->name_len + 1,
	    h->len - h->name_len - 1, &list, &e);
	unqualified = list.n == 1 && !list.v[0].qualified;
	if (o->from_rewrite == 'u' && !unqualified) {
		addrlist_free(&list);
		return;
	}
	buf_init(&b);
	if (list.n >= 1 && list.v[0].display != NULL) {
		phrase_add(&b, list.v[0].display);
		buf_printf(&b, " <%s>", m->sender);
	} else
		buf_adds(&b, m->sender);
	addrlist_free(&list);
	log_info("From rewritten to %s (from_rewrite)", b.data);
	msg_header_remove(m, (size_t)i);
	msg_header_add(m, PLUME_HEADER_APPEND, "From", b.data, &e);
	buf_free(&b);
}

enum submit_status
submit_prepare(struct plume_msg *m, const struct submit_opts *o, char *err,
    size_t errlen)
{
	m->uid = o->uid;
	m->user = xstrdup(o->user);
	m->arrival = o->now;

	if (o->sender != NULL) {
		char *s = strip_angles(o->sender);

		if (*s == '\0')
			m->sender = s;
		else {
			m->sender = submit_qualify(s, o->domain);
			free(s);
			if (!rfc5321_valid_mailbox(m->sender, false)) {
				snprintf(err, errlen, "invalid sender address "
				    "<%s>", m->sender);
				return SUBMIT_BAD_ADDR;
			}
		}
		/* envelope_from: a relay that accepts one sender */
		if (o->envelope_from == 'n' || (o->envelope_from == 'm' &&
		    !sender_allowed(o, m->sender))) {
			log_info("-f <%s> not used (envelope_from)", m->sender);
			free(m->sender);
			m->sender = NULL;
		}
	}
	if (m->sender == NULL)
		m->sender = o->sender_address != NULL ?
		    xstrdup(o->sender_address) :
		    xasprintf("%s@%s", o->user, o->domain);

	for (size_t i = 0; i < o->nrcpts; i++) {
		char *s = strip_angles(o->rcpts[i]);
		char *q = submit_qualify(s, o->domain);

		if (!rfc5321_valid_mailbox(q, false)) {
			snprintf(err, errlen, "invalid recipient address <%s>",
			    q);
			free(q);
			free(s);
			return SUBMIT_BAD_ADDR;
		}
		free(q);
		rcpt_add(m, o, s, NULL, 0);
		free(s);
	}
	if (o->extract) {
		const char *const plain[] = { "To", "Cc", "Bcc" };
		const char *const resent[] = { "Resent-To", "Resent-Cc",
		    "Resent-Bcc" };
		const char *const *names = has_resent_rcpts(m) ? resent :
		    plain;

		for (size_t i = 0; i < 3; i++)
			add_header_rcpts(m, names[i], o);
	}
	msg_header_remove_all(m, "Bcc");
	msg_header_remove_all(m, "Resent-Bcc");

	if (m->nrcpt == 0) {
		snprintf(err, errlen, "no recipients: name them on the "
		    "command line or use -t with To, Cc or Bcc fields");
		return SUBMIT_NO_RCPT;
	}
	m->smtputf8 = rfc5321_needs_utf8(m->sender);
	for (size_t i = 0; i < m->nrcpt; i++)
		m->smtputf8 |= rfc5321_needs_utf8(m->rcpts[i].addr);
	rewrite_from(m, o);
	qualify_headers(m, o);
	add_missing_headers(m, o);
	return SUBMIT_OK;
}
