/*
 * NAME
 *	message.c - envelope, header fields and body stream of a message
 * DESCRIPTION
 *	Header fields are kept as raw "Name: value" strings with their
 *	folding, exactly as received (non-ASCII bytes included), so what a
 *	transport sends and what DKIM hashes is what the caller wrote.
 *	Fields added by plume or by filters are validated: a name of
 *	printable ASCII without ':', a value without bare CR or LF (folding
 *	must be CRLF followed by white space), so no filter can smuggle a
 *	second header block or a line that ends the message early.
 *
 *	The stream renders the header block once per open and then reads
 *	the body with pread(2) from the spool file, so any number of
 *	readers (DKIM, a transport, a retry) see identical bytes.
 * DIAGNOSTICS
 *	msg_header_add() returns -1 with a static reason in *error_r.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "message.h"
#include "rfc5322.h"
#include "util.h"

void
msg_init(struct plume_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->body_fd = -1;
}

size_t
msg_active_count(const struct plume_msg *m)
{
	return m->active != NULL ? m->nactive : m->nrcpt;
}

struct rcpt *
msg_active_rcpt(struct plume_msg *m, size_t i)
{
	if (i >= msg_active_count(m))
		return NULL;
	return &m->rcpts[m->active != NULL ? m->active[i] : i];
}

void
result_clear(struct result *r)
{
	free(r->enhanced);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void
result_set(struct result *r, const struct plume_reply *reply)
{
	result_clear(r);
	r->status = reply->status;
	r->code = reply->code;
	r->enhanced = reply->enhanced ? xstrdup(reply->enhanced) : NULL;
	r->text = reply->text ? xstrdup(reply->text) : NULL;
	r->retry_after = reply->retry_after;
	r->set = true;
}

void
result_to_reply(const struct result *r, struct plume_reply *reply)
{
	reply->status = r->status;
	reply->code = r->code;
	reply->enhanced = r->enhanced;
	reply->text = r->text;
	reply->retry_after = r->retry_after;
}

void
msg_clear_notes(struct plume_msg *m)
{
	for (size_t i = 0; i < m->nnotes; i++) {
		free(m->notes[i].key);
		free(m->notes[i].value);
	}
	free(m->notes);
	m->notes = NULL;
	m->nnotes = 0;
}

void
msg_free(struct plume_msg *m)
{
	for (size_t i = 0; i < m->nrcpt; i++) {
		free(m->rcpts[i].addr);
		free(m->rcpts[i].notify);
		free(m->rcpts[i].orcpt);
		result_clear(&m->rcpts[i].result);
		result_clear(&m->rcpts[i].verdict);
	}
	free(m->rcpts);
	result_clear(&m->refused);
	free(m->active);
	for (size_t i = 0; i < m->nhdr; i++)
		free(m->hdrs[i].raw);
	free(m->hdrs);
	if (m->body_fd != -1)
		close(m->body_fd);
	free(m->body_path);
	free(m->sender);
	free(m->message_id);
	free(m->envid);
	free(m->ret);
	free(m->user);
	free(m->last_error);
	msg_clear_notes(m);
	msg_init(m);
}

bool
msg_has_rcpt(const struct plume_msg *m, const char *addr)
{
	/* The local part is case-sensitive in principle; the domain never
	   is.  Treating the whole address case-insensitively (as Postfix's
	   duplicate filter does) errs towards one copy, not two. */
	for (size_t i = 0; i < m->nrcpt; i++)
		if (strcasecmp(m->rcpts[i].addr, addr) == 0)
			return true;
	return false;
}

void
msg_add_rcpt(struct plume_msg *m, const char *addr)
{
	struct rcpt *r;

	if (msg_has_rcpt(m, addr))
		return;
	m->rcpts = xreallocarray(m->rcpts, m->nrcpt + 1, sizeof(*m->rcpts));
	r = &m->rcpts[m->nrcpt++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
}

static void
header_insert(struct plume_msg *m, size_t at, char *raw, size_t len,
    size_t name_len)
{
	m->hdrs = xreallocarray(m->hdrs, m->nhdr + 1, sizeof(*m->hdrs));
	memmove(&m->hdrs[at + 1], &m->hdrs[at],
	    (m->nhdr - at) * sizeof(*m->hdrs));
	m->hdrs[at].raw = raw;
	m->hdrs[at].len = len;
	m->hdrs[at].name_len = name_len;
	m->nhdr++;
}

/* Appends a field as received (intake); raw has no final CRLF. */
int
msg_header_append_raw(struct plume_msg *m, const char *raw, size_t len)
{
	size_t name_len = rfc5322_field_name_len(raw, len);

	if (name_len == 0)
		return -1;
	header_insert(m, m->nhdr, xstrndup(raw, len), len, name_len);
	return 0;
}

long
msg_header_find(const struct plume_msg *m, const char *name, size_t n)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < m->nhdr; i++) {
		const struct header *h = &m->hdrs[i];

		/* name_len may include obsolete WSP before the colon */
		size_t hl = h->name_len;
		while (hl > 0 && (h->raw[hl - 1] == ' ' ||
		    h->raw[hl - 1] == '\t'))
			hl--;
		if (hl == nlen && strncasecmp(h->raw, name, nlen) == 0 &&
		    n-- == 0)
			return (long)i;
	}
	return -1;
}

/* A value may contain CRLF only as folding: CRLF followed by WSP. */
static bool
value_is_safe(const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\n')
			return false;
		if (*p == '\r') {
			if (p[1] != '\n' || (p[2] != ' ' && p[2] != '\t'))
				return false;
			p++;
		}
	}
	return true;
}

int
msg_header_add(struct plume_msg *m, enum plume_header_where where,
    const char *name, const char *value, const char **error_r)
{
	size_t nlen = strlen(name);
	char *raw;

	if (nlen == 0) {
		*error_r = "empty header field name";
		return -1;
	}
	for (const char *p = name; *p != '\0'; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p > 126 ||
		    *p == ':') {
			*error_r = "invalid header field name";
			return -1;
		}
	if (!value_is_safe(value)) {
		*error_r = "header field value holds a bare CR or LF";
		return -1;
	}
	raw = xasprintf("%s: %s", name, value);
	header_insert(m, where == PLUME_HEADER_PREPEND ? 0 : m->nhdr, raw,
	    strlen(raw), nlen);
	return 0;
}

int
msg_header_remove(struct plume_msg *m, size_t i)
{
	if (i >= m->nhdr)
		return -1;
	free(m->hdrs[i].raw);
	memmove(&m->hdrs[i], &m->hdrs[i + 1],
	    (m->nhdr - i - 1) * sizeof(*m->hdrs));
	m->nhdr--;
	return 0;
}

size_t
msg_header_remove_all(struct plume_msg *m, const char *name)
{
	size_t n = 0;
	long i;

	while ((i = msg_header_find(m, name, 0)) >= 0) {
		msg_header_remove(m, (size_t)i);
		n++;
	}
	return n;
}

char *
msg_header_value(const struct plume_msg *m, size_t i)
{
	const struct header *h = &m->hdrs[i];
	size_t off = h->name_len + 1;	/* past the colon */

	return rfc5322_unfold(h->raw + off, h->len - off);
}

char *
msg_render_headers(const struct plume_msg *m, size_t *len_r)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < m->nhdr; i++) {
		buf_add(&b, m->hdrs[i].raw, m->hdrs[i].len);
		buf_add(&b, "\r\n", 2);
	}
	buf_add(&b, "\r\n", 2);
	*len_r = b.len;
	return buf_detach(&b);
}

off_t
msg_size(const struct plume_msg *m)
{
	off_t n = 2;

	for (size_t i = 0; i < m->nhdr; i++)
		n += (off_t)m->hdrs[i].len + 2;
	return n + m->body_size;
}

void
msg_note(struct plume_msg *m, const char *key, const char *value)
{
	for (size_t i = 0; i < m->nnotes; i++)
		if (strcmp(m->notes[i].key, key) == 0) {
			free(m->notes[i].value);
			m->notes[i].value = xstrdup(value);
			return;
		}
	m->notes = xreallocarray(m->notes, m->nnotes + 1, sizeof(*m->notes));
	m->notes[m->nnotes].key = xstrdup(key);
	m->notes[m->nnotes].value = xstrdup(value);
	m->nnotes++;
}

struct plume_stream *
msg_stream_open(struct plume_msg *m, enum plume_stream_what what)
{
	struct plume_stream *s = xcalloc(1, sizeof(*s));

	s->msg = m;
	s->what = what;
	if (what == PLUME_STREAM_MESSAGE)
		s->head = msg_render_headers(m, &s->head_len);
	return s;
}

ssize_t
msg_stream_read(struct plume_stream *s, void *buf, size_t n)
{
	size_t done = 0;

	if ((off_t)s->pos < (off_t)s->head_len) {
		size_t k = s->head_len - (size_t)s->pos;

		if (k > n)
			k = n;
		memcpy(buf, s->head + s->pos, k);
		s->pos += (off_t)k;
		done = k;
	}
	while (done < n) {
		off_t boff = s->pos - (off_t)s->head_len;
		ssize_t r;

		if (boff >= s->msg->body_size || s->msg->body_fd == -1)
			break;
		r = pread(s->msg->body_fd, (char *)buf + done, n - done, boff);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
		s->pos += r;
	}
	return (ssize_t)done;
}

int
msg_stream_rewind(struct plume_stream *s)
{
	s->pos = 0;
	return 0;
}

void
msg_stream_close(struct plume_stream *s)
{
	if (s == NULL)
		return;
	free(s->head);
	free(s);
}

struct header_set {
	struct header *hdrs;
	size_t	 n;
};

struct header_set *
msg_headers_save(const struct plume_msg *m)
{
	struct header_set *hs = xcalloc(1, sizeof(*hs));

	hs->hdrs = xcalloc(m->nhdr ? m->nhdr : 1, sizeof(*hs->hdrs));
	for (size_t i = 0; i < m->nhdr; i++) {
		hs->hdrs[i] = m->hdrs[i];
		hs->hdrs[i].raw = xstrndup(m->hdrs[i].raw, m->hdrs[i].len);
	}
	hs->n = m->nhdr;
	return hs;
}

void
msg_headers_drop(struct header_set *hs)
{
	if (hs == NULL)
		return;
	for (size_t i = 0; i < hs->n; i++)
		free(hs->hdrs[i].raw);
	free(hs->hdrs);
	free(hs);
}

void
msg_headers_restore(struct plume_msg *m, struct header_set *hs)
{
	for (size_t i = 0; i < m->nhdr; i++)
		free(m->hdrs[i].raw);
	free(m->hdrs);
	m->hdrs = hs->hdrs;
	m->nhdr = hs->n;
	free(hs);
}
