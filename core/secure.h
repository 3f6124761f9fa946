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
/* Drops set-id privileges for good (real, effective and saved ids). */
int	setid_drop(void);
/* The same, for a user's own config (user_config = yes): from then on
   this process is the user's own, not a set-id plume. */
int	setid_give_up(void);
bool	setid_given_up(void);
/* A set-id plume clears its environment; the caller's HOME and XDG base
   directories are kept aside first, and put back (on) or taken away
   again (off) only while plume acts as the user: looking for, and then
   reading, a user's own config (user_config = yes). */
void	setid_keep_user_env(void);
void	setid_user_env(bool on);
/* Mode for directories in the spool: 0700, or 2770 when set-id. */
mode_t	spool_dir_mode(void);

#endif
