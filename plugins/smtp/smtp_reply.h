/*
 * NAME
 *	smtp_reply.h - parse SMTP replies (RFC 5321 4.2), without I/O
 */
#ifndef SMTP_REPLY_H
#define SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_REPLY_TEXT_MAX	2048	/* text kept for logs and results */
#define SMTP_REPLY_LINES_MAX	128	/* lines kept (EHLO capabilities) */
#define SMTP_REPLY_LINE_MAX	512	/* bytes kept per line */

struct smtp_reply {
	int	 code;			/* 0 until the first line */
	char	 enhanced[16];		/* "5.1.1", or "" */
	char	 text[SMTP_REPLY_TEXT_MAX];
	size_t	 nlines;		/* lines seen, also those not kept */
	char	 lines[SMTP_REPLY_LINES_MAX][SMTP_REPLY_LINE_MAX];
	bool	 truncated;		/* text or lines were cut */
};

enum {
	SMTP_REPLY_MORE = 0,		/* a continuation line: read on */
	SMTP_REPLY_DONE = 1,		/* the last line */
	SMTP_REPLY_BAD = -1,		/* not an SMTP reply line */
};

void	smtp_reply_init(struct smtp_reply *);
/* Feeds one line without its CRLF. */
int	smtp_reply_line(struct smtp_reply *, const char *line, size_t len);
/* "250 2.0.0 text" for logs, into buf. */
const char *smtp_reply_format(const struct smtp_reply *, char *, size_t);

#endif
