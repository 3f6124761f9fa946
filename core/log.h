/*
 * NAME
 *	log.h - leveled, printf-checked logging to syslog and stderr
 * DESCRIPTION
 *	Every line goes to syslog (facility mail) under the ident given by
 *	log_open() ("plume", or -L's tag), except debug lines (such as an
 *	SMTP dialogue), which reach syslog only with -vv.  Lines also go to
 *	stderr when asked: with -v every line, debug included, otherwise
 *	warnings and errors only when stderr is a terminal, so a
 *	caller that captures stderr (PHP, cron) sees nothing but the one
 *	error line cmd/ prints.  The queue id of the message being handled
 *	and the plugin instance are added by the core, never by callers.
 */
#ifndef PLUME_LOG_H
#define PLUME_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "util.h"

enum {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

void	log_open(const char *ident, int verbose);
void	log_set_syslog(bool);
void	log_set_qid(const char *);	/* NULL: no message at hand */
bool	log_stderr_wants(int level);
void	vlogx(int level, const char *who, const char *fmt, va_list)
	    PRINTF_LIKE(3, 0);
void	logx(int level, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* syslog only: for a line the caller prints on stderr itself */
void	logx_syslog(int level, const char *fmt, ...) PRINTF_LIKE(2, 3);
#define log_err(...)	logx(LOG_LVL_ERR, __VA_ARGS__)
#define log_warnx(...)	logx(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...)	logx(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	logx(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	logx(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
