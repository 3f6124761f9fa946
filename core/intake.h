/*
 * NAME
 *	intake.h - read a message from the caller into the spool
 * DESCRIPTION
 *	canon_*() turn any mix of LF, CRLF and bare CR line ends into CRLF
 *	and apply sendmail's lone-dot rule, streaming, with no limit on the
 *	line length.  intake_read() feeds standard input through them,
 *	keeps the header section in memory as fields and writes the body to
 *	a private spool file under queue_dir/tmp/, so that queueing the
 *	message later is a rename.
 */
#ifndef PLUME_INTAKE_H
#define PLUME_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "message.h"

#define INTAKE_HEADER_MAX	(1024 * 1024)	/* bytes of header section */

typedef void canon_sink(void *arg, const char *data, size_t len);

struct canon {
	bool	 ignore_dots;	/* -i / -oi: a lone "." is just a line */
	bool	 done;		/* a lone "." ended the message */
	int	 state;
	canon_sink *sink;
	void	*arg;
};

void	canon_init(struct canon *, bool ignore_dots, canon_sink *, void *);
size_t	canon_feed(struct canon *, const char *, size_t);
void	canon_finish(struct canon *);

enum intake_status {
	INTAKE_OK = 0,
	INTAKE_TOO_BIG,		/* over message_size_limit */
	INTAKE_BAD_INPUT,	/* unreadable input, header section too big */
	INTAKE_CANT_CREATE,	/* spool file cannot be created / disk full */
	INTAKE_IO_ERROR,	/* I/O error writing the spool */
};

struct intake_opts {
	bool	 ignore_dots;
	off_t	 size_limit;	/* 0: none */
	const char *tmp_dir;	/* queue_dir/tmp, must exist */
	bool	 anonymous;	/* an unnamed file (O_TMPFILE) in tmp_dir */
};

void	qid_new(char *, size_t);

/* Feeding a message in pieces (the SMTP DATA of -bs): intake_feed()
   returns how many bytes it took, fewer once a lone "." ended the
   message; the rest belongs to whatever follows. */
struct intake;
struct intake *intake_begin(const struct intake_opts *, struct plume_msg *,
	    char *err, size_t errlen, enum intake_status *);
size_t	intake_feed(struct intake *, const char *, size_t);
bool	intake_done(const struct intake *);
bool	intake_ended_by_dot(const struct intake *);
enum intake_status intake_end(struct intake *);
enum intake_status intake_read(int fd, const struct intake_opts *,
	    struct plume_msg *, char *err, size_t errlen);

#endif
