/*
 * NAME
 *	intake.c - spool a message from standard input, canonically
 * SYNOPSIS
 *	status = intake_read(0, &opts, msg, err, sizeof(err));
 * DESCRIPTION
 *	Line ends: LF, CRLF and bare CR each end a line, and every line is
 *	written with CRLF.  A bare CR is a line end, never data: after
 *	intake no byte sequence can reach a transport as anything but a
 *	CRLF-terminated line, so input cannot smuggle an SMTP end-of-data
 *	(RFC 5321 2.3.8; the 2023 "SMTP smuggling" attacks).  A last line
 *	without a line end gets one.
 *
 *	Dots: without -i, a line holding only "." ends the message (the rest
 *	of the input is not read) and a leading ".." becomes "."; this is
 *	Sendmail 8's rule, which Symfony Mailer's -t mode relies on when it
 *	dot-stuffs.  With -i dots are data.  Dot-stuffing for SMTP happens
 *	only on the wire, in the SMTP transport.
 *
 *	Header section: lines up to the first empty line, or up to the
 *	first line that is neither a field ("Name:") nor a continuation of
 *	one (Postfix does the same); such a line starts the body.  Fields
 *	are kept with their folding.  A first line "From ..." (an mbox
 *	envelope line, which old scripts still pipe in) is dropped, as
 *	Sendmail does, rather than turning the whole header into body.  The body goes to the spool file
 *	queue_dir/tmp/QID, mode 0600, read later by offset.
 * DIAGNOSTICS
 *	The returned status says what went wrong; err holds one line.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "intake.h"
#include "rfc5322.h"
#include "util.h"

enum { C_BOL, C_MID, C_CR, C_DOT };

void
canon_init(struct canon *c, bool ignore_dots, canon_sink *sink, void *arg)
{
	c->ignore_dots = ignore_dots;
	c->done = false;
	c->state = C_BOL;
	c->sink = sink;
	c->arg = arg;
}

/* Returns how many bytes were used; fewer than n once a lone dot ended
   the message. */
size_t
canon_feed(struct canon *c, const char *p, size_t n)
{
	size_t i = 0, j;

	while (i < n && !c->done) {
		switch (c->state) {
		case C_CR:
			c->state = C_BOL;
			if (p[i] == '\n') {
				i++;
				continue;
			}
			/* FALLTHROUGH */
		case C_BOL:
			if (p[i] == '.' && !c->ignore_dots) {
				c->state = C_DOT;
				i++;
				continue;
			}
			c->state = C_MID;
			/* FALLTHROUGH */
		case C_MID:
			for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++)
				;
			if (j > i)
				c->sink(c->arg, p + i, j - i);
			i = j;
			if (i < n) {
				c->sink(c->arg, "\r\n", 2);
				c->state = p[i] == '\r' ? C_CR : C_BOL;
				i++;
			}
			break;
		case C_DOT:
			if (p[i] == '\r' || p[i] == '\n') {
				c->done = true;		/* the lone dot */
				return i + 1;
			}
			/* "..x" becomes ".x"; ".x" stays ".x" */
			c->sink(c->arg, ".", 1);
			c->state = C_MID;
			if (p[i] == '.')
				i++;
			break;
		}
	}
	return i;
}

void
canon_finish(struct canon *c)
{
	if (c->done)
		return;
	if (c->state == C_DOT)
		c->done = true;		/* "." at the very end, no line end */
	else if (c->state == C_MID)
		c->sink(c->arg, "\r\n", 2);
	c->state = C_BOL;
}

/* A queue id: the arrival time in microseconds and some randomness, in
   upper-case hex, so ids sort by arrival and never repeat. */
void
qid_new(char *out, size_t len)
{
	struct timeval tv;
	unsigned int rnd = 0;

	gettimeofday(&tv, NULL);
#ifdef HAVE_GETRANDOM
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
#endif
		rnd = (unsigned int)getpid() ^ (unsigned int)tv.tv_usec;
	snprintf(out, len, "%09llX%05lX%04X",
	    (unsigned long long)tv.tv_sec & 0xfffffffffULL,
	    (unsigned long)tv.tv_usec, rnd & 0xffff);
}

struct intake {
	struct canon c;
	struct plume_msg *m;
	const struct intake_opts *opts;
	bool	 in_headers;
	bool	 first_line;
	struct buf line;	/* header phase: the line being read */
	struct buf field;	/* header phase: the field being read */
	char	*wbuf;		/* body phase: write buffer */
	size_t	 wlen;
	off_t	 total;
	enum intake_status status;
	char	*err;
	size_t	 errlen;
};

#define WBUF_SIZE	(256 * 1024)

static void
intake_fail(struct intake *in, enum intake_status st, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static void
intake_fail(struct intake *in, enum intake_status st, const char *fmt, ...)
{
	va_list ap;

	if (in->status != INTAKE_OK)
		return;
	in->status = st;
	va_start(ap, fmt);
	vsnprintf(in->err, in->errlen, fmt, ap);
	va_end(ap);
}

static void
body_flush(struct intake *in)
{
	size_t off = 0;

	while (off < in->wlen && in->status == INTAKE_OK) {
		ssize_t w = write(in->m->body_fd, in->wbuf + off,
		    in->wlen - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			intake_fail(in, errno == ENOSPC || errno == EDQUOT ?
			    INTAKE_CANT_CREATE : INTAKE_IO_ERROR,
			    "cannot write spool file %s: %s",
			    in->m->body_path, strerror(errno));
		else
			off += (size_t)w;
	}
	in->wlen = 0;
}

static void
body_add(struct intake *in, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !in->m->eightbit; i++)
		if ((unsigned char)p[i] >= 0x80)
			in->m->eightbit = true;
	while (n > 0 && in->status == INTAKE_OK) {
		size_t k = WBUF_SIZE - in->wlen;

		if (k > n)
			k = n;
		memcpy(in->wbuf + in->wlen, p, k);
		in->wlen += k;
		in->m->body_size += (off_t)k;
		p += k;
		n -= k;
		if (in->wlen == WBUF_SIZE)
			body_flush(in);
	}
}

static void
field_flush(struct intake *in)
{
	if (in->field.len == 0)
		return;
	for (size_t i = 0; i < in->field.len; i++)
		if ((unsigned char)in->field.data[i] >= 0x80)
			in->m->eightbit = true;
	msg_header_append_raw(in->m, in->field.data, in->field.len);
	buf_reset(&in->field);
}

/* One complete header-phase line, without its CRLF. */
static void
header_line(struct intake *in, const char *l, size_t n)
{
	bool first = in->first_line;

	in->first_line = false;
	if (first && n >= 5 && memcmp(l, "From ", 5) == 0)
		return;		/* an mbox envelope line, as Sendmail drops */
	if (n == 0) {
		field_flush(in);
		in->in_headers = false;
		return;
	}
	if ((l[0] == ' ' || l[0] == '\t') && in->field.len > 0) {
		buf_add(&in->field, "\r\n", 2);
		buf_add(&in->field, l, n);
		return;
	}
	if (rfc5322_field_name_len(l, n) > 0) {
		field_flush(in);
		buf_add(&in->field, l, n);
		return;
	}
	/* neither a field nor a continuation: the body starts here */
	field_flush(in);
	in->in_headers = false;
	body_add(in, l, n);
	body_add(in, "\r\n", 2);
}

static void
intake_sink(void *arg, const char *p, size_t n)
{
	struct intake *in = arg;

	in->total += (off_t)n;
	if (in->opts->size_limit > 0 && in->total > in->opts->size_limit) {
		intake_fail(in, INTAKE_TOO_BIG,
		    "message is larger than message_size_limit (%lld bytes)",
		    (long long)in->opts->size_limit);
		return;
	}
	if (!in->in_headers) {
		body_add(in, p, n);
		return;
	}
	buf_add(&in->line, p, n);
	if (in->line.len >= 2 && in->line.data[in->line.len - 1] == '\n') {
		header_line(in, in->line.data, in->line.len - 2);
		buf_reset(&in->line);
	} else if (in->line.len + in->field.len > INTAKE_HEADER_MAX)
		intake_fail(in, INTAKE_BAD_INPUT,
		    "header section is larger than %d bytes",
		    INTAKE_HEADER_MAX);
}

struct intake *
intake_begin(const struct intake_opts *opts, struct plume_msg *m, char *err,
    size_t errlen, enum intake_status *st_r)
{
	struct intake *in;
	int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;

	err[0] = '\0';
	if (m->qid[0] == '\0')
		qid_new(m->qid, sizeof(m->qid));
	if (opts->anonymous) {
		m->body_path = NULL;
		m->body_fd = open(opts->tmp_dir, O_TMPFILE | O_RDWR |
		    O_CLOEXEC, 0600);
		if (m->body_fd == -1) {
			snprintf(err, errlen, "cannot create a temporary file "
			    "in %s: %s", opts->tmp_dir, strerror(errno));
			*st_r = INTAKE_CANT_CREATE;
			return NULL;
		}
	} else {
		m->body_path = xasprintf("%s/%s", opts->tmp_dir, m->qid);
		m->body_fd = open(m->body_path, flags, 0600);
	}
	if (m->body_fd == -1) {
		snprintf(err, errlen, "cannot create spool file %s: %s",
		    m->body_path, strerror(errno));
		free(m->body_path);
		m->body_path = NULL;
		*st_r = INTAKE_CANT_CREATE;
		return NULL;
	}
	in = xcalloc(1, sizeof(*in));
	in->m = m;
	in->opts = opts;
	in->in_headers = true;
	in->first_line = true;
	in->err = err;
	in->errlen = errlen;
	buf_init(&in->line);
	buf_init(&in->field);
	in->wbuf = xmalloc(WBUF_SIZE);
	canon_init(&in->c, opts->ignore_dots, intake_sink, in);
	*st_r = INTAKE_OK;
	return in;
}

size_t
intake_feed(struct intake *in, const char *p, size_t n)
{
	if (in->c.done || in->status != INTAKE_OK)
		return 0;
	return canon_feed(&in->c, p, n);
}

bool
intake_done(const struct intake *in)
{
	return in->c.done || in->status != INTAKE_OK;
}

bool
intake_ended_by_dot(const struct intake *in)
{
	return in->c.done;
}

enum intake_status
intake_end(struct intake *in)
{
	enum intake_status st;

	if (in->status == INTAKE_OK) {
		canon_finish(&in->c);
		if (in->in_headers) {
			/* input ended inside the header section */
			if (in->line.len > 0)
				header_line(in, in->line.data, in->line.len);
			field_flush(in);
		}
		body_flush(in);
	}
	st = in->status;
	free(in->wbuf);
	buf_free(&in->line);
	buf_free(&in->field);
	free(in);
	return st;
}

enum intake_status
intake_read(int fd, const struct intake_opts *opts, struct plume_msg *m,
    char *err, size_t errlen)
{
	enum intake_status st;
	struct intake *in = intake_begin(opts, m, err, errlen, &st);
	char *rbuf;

	if (in == NULL)
		return st;
	rbuf = xmalloc(WBUF_SIZE);
	while (!intake_done(in)) {
		ssize_t r = read(fd, rbuf, WBUF_SIZE);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			intake_fail(in, INTAKE_BAD_INPUT,
			    "cannot read the message: %s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		intake_feed(in, rbuf, (size_t)r);
	}
	free(rbuf);
	return intake_end(in);
}
