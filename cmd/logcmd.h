/*
 * NAME
 *	logcmd.h - plume log and plume stats
 * DESCRIPTION
 *	See logcmd.c.  Each returns a sysexits.h code; when it is not
 *	EX_OK and err is not empty, err is the one line to print.
 */
#ifndef PLUME_LOGCMD_H
#define PLUME_LOGCMD_H

#include <stddef.h>

struct runtime;

int	 logcmd_log(struct runtime *, int argc, char **argv, char *err,
	    size_t errlen);
int	 logcmd_stats(struct runtime *, int argc, char **argv, char *err,
	    size_t errlen);

#endif
