/*
 * NAME
 *	userconf.h - per-user mode: a user's own config, queue and state
 *	under the XDG base directories
 * DESCRIPTION
 *	See userconf.c for when it applies and what it refuses.
 */
#ifndef PLUME_USERCONF_H
#define PLUME_USERCONF_H

#include "conf.h"

/*
 * The user's config file when per-user mode applies, NULL when the
 * system config is used; either way *why_r (caller frees) says why, in
 * words "plume config check" prints.
 */
char	*userconf_find(char **why_r, bool setid_allowed);
/* $XDG_STATE_HOME/plume, else ~/.local/state/plume; NULL without a home.
   Caller frees. */
char	*userconf_state_dir(void);
/* Whether a user config file may be read at all (owner, write bits);
   false with a reason in err. */
bool	 userconf_file_ok(const char *path, char *err, size_t errlen);
/* Every file of a user config: refused (DIAG_ERROR) when others may write
   it, or when it holds an inline secret and others may read it. */
void	 userconf_check(const struct conf *, struct diags *);

#endif
