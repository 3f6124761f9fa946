/*
 * NAME
 *	secret.h - read a password or an API key from a file or a command
 */
#ifndef PLUGIN_SECRET_H
#define PLUGIN_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* key: the config key, for messages ("password_file").
   The first line of file, or of what argv prints (run without a shell,
   bounded by deadline).  Returns a malloc'd string, or NULL with err. */
char	*secret_from_file(const char *key, const char *path, char *err,
	    size_t errlen);
char	*secret_from_command(const char *key, const char *const *argv,
	    int timeout_ms, char *err, size_t errlen);
void	 secret_free(char *);

#endif
