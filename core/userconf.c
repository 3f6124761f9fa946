/*
 * NAME
 *	userconf.c - per-user mode: a user's own config, queue and state
 *	under the XDG base directories
 * SYNOPSIS
 *	char *why, *path = userconf_find(&why, false);
 *	char *queue_dir = userconf_state_dir();
 *	userconf_check(conf, &diags);
 * DESCRIPTION
 *	A desktop user keeps their own accounts and secrets, as msmtp's
 *	users keep ~/.msmtprc.  Per-user mode applies when, and only when,
 *	all of these hold:
 *
 *	- no -C and no PLUME_CONFIG (the caller checks: they always win);
 *	- plume is not running set-id: a set-group-id plume reads only the
 *	  system config, whatever the caller's environment says (it never
 *	  takes a path from the environment, and a user's config must not
 *	  steer the group's spool or the system's secrets).  Unless the
 *	  system config says user_config = yes: then a user who has a
 *	  config of their own gets it, but only after plume has given its
 *	  group up for good (runtime.c): from there on it is that user's
 *	  plume, with the user's queue, routes and secrets, exactly as when
 *	  not set-id (the XDG variables are not read: a set-id plume cleared
 *	  its environment; ~/.config and ~/.local/state are used);
 *	- the caller is not root: root's mail (cron, the system's daemons)
 *	  is the system's, and the system's queue runner runs as root: a
 *	  user config for root would move root's mail into a queue that the
 *	  runner of the system spool never visits.  Root uses -C;
 *	- the file $XDG_CONFIG_HOME/plume/plume.conf exists ($XDG_CONFIG_HOME
 *	  only when it is an absolute path, as the XDG spec says; else
 *	  ~/.config/plume/plume.conf) and is owned by the caller: one the
 *	  caller cannot see, or someone else's (a $HOME inherited through
 *	  su or sudo), is not theirs and is not read.  The home is $HOME
 *	  when absolute, else the passwd entry's.
 *
 *	The user config then replaces the system config wholesale (nothing
 *	of the system config is read), and the default queue_dir becomes
 *	$XDG_STATE_HOME/plume (~/.local/state/plume), made 0700: the
 *	queue, the outbox and the plugins' state directories live there.
 *	Otherwise the system config and spool are used, and a spool the
 *	caller cannot write is exit 73, never a queue quietly made in the
 *	caller's home (a web server's user would fill a queue that no
 *	runner visits).
 *
 *	A user config is refused (the caller exits 78, naming the file and
 *	the reason) when it is not a regular file owned by the user (or
 *	root), when its group or others may write it (or its directory is
 *	writable by others and not sticky), and when it holds an inline
 *	secret (a key marked PLUME_KEY_SECRET that is not a file name)
 *	while its group or others may read it: msmtp's rule for ~/.msmtprc.
 *	Files it includes get the same checks.
 * DIAGNOSTICS
 *	Refusals go to diags as errors with the file (and line).
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "secure.h"
#include "userconf.h"
#include "util.h"

/* An XDG variable counts only when it holds an absolute path. */
static const char *
xdg_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] == '/' ? v : NULL;
}

/* The caller's home: $HOME when absolute, else the passwd entry's. */
static char *
home_dir(void)
{
	const char *h = xdg_env("HOME");
	struct passwd *pw;

	if (h != NULL)
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    pw->pw_dir[0] == '/')
		return xstrdup(pw->pw_dir);
	return NULL;
}

/* $NAME/plume/LEAF, or HOME/FALLBACK/plume/LEAF; NULL without a home. */
static char *
xdg_path(const char *name, const char *fallback, const char *leaf)
{
	const char *base = xdg_env(name);
	char *home, *p;

	if (base != NULL)
		return xasprintf("%s/plume%s", base, leaf);
	if ((home = home_dir()) == NULL)
		return NULL;
	p = xasprintf("%s/%s/plume%s", strcmp(home, "/") == 0 ? "" : home,
	    fallback, leaf);
	free(home);
	return p;
}

char *
userconf_state_dir(void)
{
	return xdg_path("XDG_STATE_HOME", ".local/state", "");
}

char *
userconf_find(char **why_r, bool setid_allowed)
{
	struct stat st;
	char *path;

	if (running_setid() && !setid_allowed) {
		*why_r = xstrdup("plume is installed set-id: user configs "
		    "are read only when the system config says "
		    "user_config = yes");
		return NULL;
	}
	if (getuid() == 0) {
		*why_r = xstrdup("root's mail is the system's: user configs "
		    "are not read for root (use -C)");
		return NULL;
	}
	if ((path = xdg_path("XDG_CONFIG_HOME", ".config",
	    "/plume.conf")) == NULL) {
		*why_r = xasprintf("uid %lu has no home directory: no user "
		    "config", (unsigned long)getuid());
		return NULL;
	}
	if (stat(path, &st) == -1) {
		/* ENOENT, or a $HOME that is not the caller's (su, sudo
		   without -H) and that the caller cannot search */
		*why_r = errno == ENOENT ? xasprintf("there is no user config "
		    "%s", path) : xasprintf("no user config: %s: %s", path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	if (st.st_uid != getuid()) {
		/* the caller did not create it: another user's $HOME */
		*why_r = xasprintf("%s is owned by uid %lu, not by uid %lu: "
		    "not this user's config", path, (unsigned long)st.st_uid,
		    (unsigned long)getuid());
		free(path);
		return NULL;
	}
	*why_r = xstrdup(setid_given_up() ? "plume is installed set-id and "
	    "the system config says user_config = yes: plume gave up its "
	    "group and reads it as the user, instead of the system config" :
	    "it exists and plume is not set-id: it replaces the system "
	    "config wholesale");
	return path;
}

bool
userconf_file_ok(const char *path, char *err, size_t errlen)
{
	char why[512];

	if (secure_file_check(path, why, sizeof(why)))
		return true;
	snprintf(err, errlen, "user config refused: %s", why);
	return false;
}

/* A key whose value is itself a secret (a password, a token), not the
   name of a file or a command that yields one. */
static bool
inline_secret(const struct plume_conf_key *keys, const char *name)
{
	const struct plume_conf_key *k = conf_key_find(keys, name);

	return k != NULL && (k->flags & PLUME_KEY_SECRET) &&
	    k->type != PLUME_CONF_PATH && k->type != PLUME_CONF_COMMAND;
}

/* The first inline secret set in file, for the refusal's words. */
static const struct conf_entry *
secret_in(const struct conf *conf, const char *file)
{
	for (const struct conf_section *s = conf->sections; s; s = s->next) {
		char err[512];
		struct plugin *p = loader_get(s->plugin, err, sizeof(err));

		/* a plugin that does not load is reported by the pipeline
		   checks; its keys are unknown here */
		if (p == NULL)
			continue;
		for (const struct conf_entry *e = s->entries; e; e = e->next)
			if (e->file == file &&
			    inline_secret(p->desc.conf_keys, e->key))
				return e;
	}
	return NULL;
}

void
userconf_check(const struct conf *conf, struct diags *d)
{
	for (size_t i = 0; i < conf->nfiles; i++) {
		const char *f = conf->files[i];
		const struct conf_entry *e;
		struct stat st;
		char err[640];

		if (!userconf_file_ok(f, err, sizeof(err))) {
			diags_add(d, DIAG_ERROR, f, 0, "%s", err);
			continue;
		}
		if (stat(f, &st) == -1 || !(st.st_mode & (S_IRGRP | S_IROTH)) ||
		    (e = secret_in(conf, f)) == NULL)
			continue;
		diags_add(d, DIAG_ERROR, f, e->line, "user config refused: it "
		    "holds a secret (%s) and is readable by %s (mode %04o); "
		    "run chmod go-r on it, or keep the secret in a file or "
		    "a command", e->key, st.st_mode & S_IROTH ? "others" :
		    "its group", (unsigned)(st.st_mode & 07777));
	}
}
