/*
 * NAME
 *	evlog.h - read the delivery log the logfile plugin writes
 * DESCRIPTION
 *	See evlog.c.  Used by plume log and plume stats.
 */
#ifndef PLUME_EVLOG_H
#define PLUME_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "jsonl.h"

struct runtime;

/* One event of the log; the strings point into the parsed line and
   live until the callback returns.  Absent fields are NULL or -1. */
struct evlog_event {
	struct jsonl_obj obj;
	const char	*stamp;		/* "2026-11-26T14:20:50.123Z" */
	long long	 time_ms;	/* stamp as milliseconds since 1970 */
	const char	*event, *queue_id, *message_id, *sender, *rcpt;
	const char	*instance, *enhanced, *text, *user, *relay;
	long long	 code, attempt, duration_ms, uid, retry_after;
	const char	*raw;		/* the line as written, if asked for */
};

/* What to skip before parsing (cheaply, on the raw text). */
struct evlog_filter {
	const char	*needle;	/* a line must hold this, or NULL */
	bool		 icase;		/* needle compared without case */
	const char	*since;		/* stamp: older lines skipped, or NULL */
	long long	 uid;		/* only this uid's events, or -1 */
	bool		 keep_raw;	/* fill evlog_event.raw */
};

struct evlog_counts {
	size_t	 lines, parsed, bad;
};

/* Called per event that passed the filter; non-zero stops the scan. */
typedef int (*evlog_cb)(void *arg, const struct evlog_event *);

/* The log files of every logfile instance in rt's pipeline, each
   rotated predecessor (PATH.1) first, NULL-terminated (free with
   strv_free); NULL when no logfile instance is configured. */
char	**evlog_paths(struct runtime *);
/* Streams the file line by line.  A missing file is no error (0,
   nothing read); -1 with err for others. */
int	 evlog_scan(const char *path, const struct evlog_filter *,
	    evlog_cb, void *arg, struct evlog_counts *, char *err,
	    size_t errlen);
/* "2026-11-26T14:20:50.123Z" to milliseconds; -1 if malformed. */
long long evlog_parse_stamp(const char *);
/* Milliseconds to a stamp in that form (buf of 32 bytes at least). */
void	 evlog_format_stamp(long long ms, char *buf, size_t len);

#endif
