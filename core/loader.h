/*
 * NAME
 *	loader.h - find, check and load plugin modules with libltdl
 */
#ifndef PLUME_LOADER_H
#define PLUME_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "plume/plugin.h"

struct plugin {
	char	*name;
	char	*path;			/* NULL when built in */
	void	*handle;		/* lt_dlhandle, NULL when built in */
	struct plume_plugin desc;	/* zero-extended copy */
	struct plugin *next;
};

/* preloaded: the lt_dlsymlist table made by libtool's -dlpreopen, or
   NULL.  dirs: where modules are searched, in order. */
int	 loader_init(const void *preloaded, char *err, size_t errlen);
void	 loader_set_dirs(const char *const *dirs);
const char *const *loader_dirs(void);
struct plugin *loader_get(const char *name, char *err, size_t errlen);
/* Every plugin available, built in and in the directories; a module
   that cannot be loaded is reported through cb with plugin NULL. */
void	 loader_each(void (*cb)(void *, const struct plugin *,
	    const char *name, const char *path, const char *error), void *);
void	 loader_shutdown(void);

#endif
