/*
 * NAME
 *	log.c - leveled logging to syslog (mail facility) and stderr
 * SYNOPSIS
 *	log_open("plume", verbose);
 *	logx(LOG_LVL_INFO, "%s: delivered", qid);
 * DESCRIPTION
 *	A line is "[QID: ][instance: ]text".  syslog is opened lazily by
 *	the C library, so a process that logs nothing pays nothing.  On
 *	stderr lines are prefixed with "plume: " and the level when it is a
 *	warning or an error.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "plume";
static int	log_verbose;
static bool	log_syslog = true;
static bool	log_tty;
static char	log_qid[32];

void
log_open(const char *ident, int verbose)
{
	log_ident = ident;
	log_verbose = verbose;
	log_tty = isatty(STDERR_FILENO) == 1;
	openlog(ident, LOG_PID, LOG_MAIL);
}

void
log_set_syslog(bool on)
{
	log_syslog = on;
}

void
log_set_qid(const char *qid)
{
	if (qid == NULL)
		log_qid[0] = '\0';
	else
		snprintf(log_qid, sizeof(log_qid), "%s", qid);
}

bool
log_stderr_wants(int level)
{
	if (log_verbose >= 1)
		return true;
	return log_tty && level <= LOG_LVL_WARNING;
}

void
vlogx(int level, const char *who, const char *fmt, va_list ap)
{
	char text[2048];
	char prefix[128];
	bool to_syslog = log_syslog &&
	    (level < LOG_LVL_DEBUG || log_verbose >= 2);

	/* most debug lines go nowhere: don't even format them */
	if (!to_syslog && !log_stderr_wants(level))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	snprintf(prefix, sizeof(prefix), "%s%s%s%s",
	    log_qid, log_qid[0] != '\0' ? ": " : "",
	    who != NULL ? who : "", who != NULL ? ": " : "");
	/* debug lines (an SMTP dialogue) reach syslog only with -vv */
	if (to_syslog)
		syslog(level, "%s%s", prefix, text);
	if (log_stderr_wants(level))
		fprintf(stderr, "%s: %s%s%s\n", log_ident,
		    level == LOG_LVL_ERR ? "error: " :
		    level == LOG_LVL_WARNING ? "warning: " : "",
		    prefix, text);
}

void
logx(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogx(level, NULL, fmt, ap);
	va_end(ap);
}

void
logx_syslog(int level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	if (!log_syslog)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	syslog(level, "%s%s%s", log_qid, log_qid[0] != '\0' ? ": " : "",
	    text);
}
