/*
 * NAME
 *	secure.h - trust checks for files plume loads or reads secrets from
 */
#ifndef PLUME_SECURE_H
#define PLUME_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whether path is a regular file owned by root or the effective user and
   writable by nobody else (nor its directory, unless sticky).  On refusal
   err says why in words a user can act on. */
bool	secure_file_check(const char *path, char *err, size_t errlen);
bool	running_setid(void);
/* Mode for directories in the spool: 0700, or 2770 when set-id. */
mode_t	spool_dir_mode(void);

#endif
