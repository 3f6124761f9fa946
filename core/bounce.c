/*
 * NAME
 *	bounce.c - tell the sender: RFC 3464 delivery status notifications
 * DESCRIPTION
 *	A report is a multipart/report (RFC 6522) with a human-readable
 *	part naming each failed recipient with the server's own words, a
 *	message/delivery-status part (Reporting-MTA, Arrival-Date, one
 *	block per recipient: Final-Recipient, Original-Recipient, Action,
 *	Status, Diagnostic-Code) and the original: the whole message when
 *	it is at most bounce_size_limit bytes and RET is not HDRS,
 *	otherwise its header section as text/rfc822-headers.
 *
 *	It goes to the envelope sender, from bounce_sender (default <>,
 *	with "From: MAILER-DAEMON@domain"), through the same pipeline as
 *	any message (a DKIM filter signs it; a temporary failure queues
 *	it).  Never to the null sender: a failed report is not reported
 *	again (no bounce of a bounce).  Recipients with NOTIFY=NEVER, or
 *	a NOTIFY list without FAILURE, get no report.  A copy goes to
 *	bounce_copy_to when it is set.
 *
 *	Delay warnings (delay_warning_time) are the same report with
 *	Action: delayed and the header section only, sent once.
 * DIAGNOSTICS
 *	-1 with one line in err when the report could not be sent or
 *	queued; the caller keeps the original in failed/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "runner.h"
#include "util.h"

bool
bounce_wanted(const struct plume_msg *m, const struct rcpt *r, bool delayed)
{
	if (m->sender == NULL || m->sender[0] == '\0')
		return false;		/* never a report to <> */
	if (r->notify == NULL)		/* RFC 3461: failures by default; */
		return true;		/* delays when the admin asked */
	return strcasestr(r->notify, delayed ? "delay" : "failure") != NULL;
}

static void
date_now(char *out, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* The report's body: three MIME parts, the last streamed from orig. */
static int
write_body(struct runtime *rt, const struct plume_msg *orig,
    const bool *which, const char *boundary, int fd, bool full,
    bool delayed)
{
	struct buf b;
	char date[64];
	struct tm tm;
	struct plume_stream *st;
	char chunk[65536];
	ssize_t n;
	int rc = 0;

	buf_init(&b);
	buf_printf(&b, "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "This is the mail system at %s.\r\n\r\n%s", boundary,
	    rt->hostname, delayed ?
	    "Your message has not been delivered yet to the recipients\r\n"
	    "below.  It is still being retried: no need to send it again.\r\n"
	    "The reasons are the receiving servers' own words.\r\n\r\n" :
	    "Your message could not be delivered to the recipients below,\r\n"
	    "and will not be: the reasons are the receiving servers' own\r\n"
	    "words.  The message is attached.\r\n\r\n");
	for (size_t i = 0; i < orig->nrcpt; i++) {
		const struct result *r = &orig->rcpts[i].result;

		if (!which[i])
			continue;
		buf_printf(&b, "<%s>: %d%s%s %s\r\n\r\n",
		    orig->rcpts[i].addr, r->code, r->enhanced ? " " : "",
		    r->enhanced ? r->enhanced : "",
		    r->text ? r->text : orig->last_error ? orig->last_error :
		    "no reason recorded");
	}
	localtime_r(&orig->arrival, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(&b, "--%s\r\nContent-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; %s\r\nX-Plume-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, rt->hostname, orig->qid, date);
	if (orig->envid != NULL)
		buf_printf(&b, "Original-Envelope-Id: %s\r\n", orig->envid);
	for (size_t i = 0; i < orig->nrcpt; i++) {
		const struct rcpt *rp = &orig->rcpts[i];
		const struct result *r = &rp->result;
		char now[64];

		if (!which[i])
			continue;
		date_now(now, sizeof(now));
		buf_printf(&b, "\r\nFinal-Recipient: rfc822; %s\r\n", rp->addr);
		if (rp->orcpt != NULL)
			buf_printf(&b, "Original-Recipient: %s\r\n", rp->orcpt);
		buf_printf(&b, "Action: %s\r\nStatus: %s\r\n",
		    delayed ? "delayed" : "failed",
		    r->enhanced ? r->enhanced : r->code / 100 == 4 ? "4.0.0" :
		    "5.0.0");
		if (r->code != 0)
			buf_printf(&b, "Diagnostic-Code: smtp; %d%s%s %s\r\n",
			    r->code, r->enhanced ? " " : "",
			    r->enhanced ? r->enhanced : "",
			    r->text ? r->text : "");
		else if (r->text != NULL)
			buf_printf(&b, "Diagnostic-Code: x-plume; %s\r\n",
			    r->text);
		buf_printf(&b, "Last-Attempt-Date: %s\r\n", now);
	}
	buf_printf(&b, "\r\n--%s\r\nContent-Description: %s\r\n"
	    "Content-Type: %s\r\n\r\n", boundary,
	    full ? "Undelivered message" : "Undelivered message headers",
	    full ? "message/rfc822" : "text/rfc822-headers");
	if (write_full(fd, b.data, b.len) == -1)
		rc = -1;
	buf_free(&b);
	if (full) {
		st = msg_stream_open((struct plume_msg *)orig,
		    PLUME_STREAM_MESSAGE);
		while (rc == 0 && (n = msg_stream_read(st, chunk,
		    sizeof(chunk))) > 0)
			rc = write_full(fd, chunk, (size_t)n);
		msg_stream_close(st);
	} else {
		size_t hl;
		char *head = msg_render_headers(orig, &hl);

		rc = write_full(fd, head, hl);
		free(head);
	}
	if (rc == 0) {
		char *end = xasprintf("\r\n--%s--\r\n", boundary);

		rc = write_full(fd, end, strlen(end));
		free(end);
	}
	return rc;
}

int
bounce_send(struct runtime *rt, const struct plume_msg *orig,
    const bool *which, bool delayed, char *err, size_t errlen)
{
	struct plume_msg m;
	struct delivery_summary sum;
	char date[64], *v, *boundary, *tmpdir;
	const char *e;
	size_t n = 0;
	bool full, kept = false;
	int rc = -1;

	for (size_t i = 0; i < orig->nrcpt; i++)
		if (which[i] && bounce_wanted(orig, &orig->rcpts[i], delayed))
			n++;
	if (n == 0)
		return 0;

	msg_init(&m);
	qid_new(m.qid, sizeof(m.qid));
	tmpdir = xasprintf("%s/tmp", rt->queue_dir);
	m.body_path = xasprintf("%s/%s", tmpdir, m.qid);
	free(tmpdir);
	m.body_fd = open(m.body_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (m.body_fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", m.body_path,
		    strerror(errno));
		goto out;
	}
	/* a delay warning returns the header section only */
	full = !delayed && (orig->ret == NULL ||
	    strcasecmp(orig->ret, "HDRS") != 0) &&
	    msg_size(orig) <= rt->bounce_size_limit;
	boundary = xasprintf("%s/%s", m.qid, rt->hostname);
	{
		bool *pick = xcalloc(orig->nrcpt, sizeof(*pick));

		for (size_t i = 0; i < orig->nrcpt; i++)
			pick[i] = which[i] &&
			    bounce_wanted(orig, &orig->rcpts[i], delayed);
		if (write_body(rt, orig, pick, boundary, m.body_fd, full,
		    delayed) == -1) {
			snprintf(err, errlen, "cannot write %s: %s",
			    m.body_path, strerror(errno));
			free(pick);
			free(boundary);
			goto out;
		}
		free(pick);
	}
	m.body_size = lseek(m.body_fd, 0, SEEK_END);
	m.eightbit = orig->eightbit;
	m.sender = xstrdup(rt->bounce_sender);
	m.uid = getuid();
	m.user = xstrdup("MAILER-DAEMON");
	m.arrival = time(NULL);
	msg_add_rcpt(&m, orig->sender);
	if (rt->bounce_copy_to != NULL)
		msg_add_rcpt(&m, rt->bounce_copy_to);

	date_now(date, sizeof(date));
	v = xasprintf("Mail Delivery System <MAILER-DAEMON@%s>", rt->domain);
	msg_header_add(&m, PLUME_HEADER_APPEND, "From", v, &e);
	free(v);
	v = xasprintf("<%s>", orig->sender);
	msg_header_add(&m, PLUME_HEADER_APPEND, "To", v, &e);
	free(v);
	msg_header_add(&m, PLUME_HEADER_APPEND, "Subject", delayed ?
	    "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender", &e);
	msg_header_add(&m, PLUME_HEADER_APPEND, "Date", date, &e);
	m.message_id = xasprintf("<%s.bounce@%s>", m.qid, rt->hostname);
	msg_header_add(&m, PLUME_HEADER_APPEND, "Message-ID", m.message_id,
	    &e);
	msg_header_add(&m, PLUME_HEADER_APPEND, "Auto-Submitted",
	    "auto-replied", &e);
	msg_header_add(&m, PLUME_HEADER_APPEND, "MIME-Version", "1.0", &e);
	v = xasprintf("multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"", boundary);
	msg_header_add(&m, PLUME_HEADER_APPEND, "Content-Type", v, &e);
	free(v);
	free(boundary);

	log_info("%s: sender notified of %zu %s recipient%s in %s",
	    orig->qid, n, delayed ? "delayed" : "failed", n == 1 ? "" : "s",
	    m.qid);
	runtime_deliver(rt, &m, &sum);
	/* what counts is the sender's copy (the first recipient) */
	if (m.rcpts[0].result.status == PLUME_OK)
		rc = 0;
	else if (m.rcpts[0].result.status == PLUME_TEMPFAIL) {
		m.attempts = 1;
		queue_settle(rt, &m, time(NULL));
		if (queue_store(rt->queue_dir, QUEUE_DEFERRED, &m, "bounce",
		    err, errlen) == 0) {
			rc = 0;
			kept = true;
			if (!queue_runner_active(rt->queue_dir))
				queue_trigger(rt, NULL);
		}
	} else
		snprintf(err, errlen, "the report to <%s> was refused: %s",
		    orig->sender, sum.first_error ? sum.first_error : "");
	summary_free(&sum);
out:
	if (!kept && m.body_path != NULL)
		unlink(m.body_path);
	msg_free(&m);
	return rc;
}
