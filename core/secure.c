/*
 * NAME
 *	secure.c - refuse files that someone else could have changed
 * DESCRIPTION
 *	A plugin is code that runs with plume's privileges, possibly
 *	set-group-id: a module (or its directory) writable by a user other
 *	than root or plume's owner would let that user run code as the
 *	group.  The check follows sudo's secure_path(): regular file, owner
 *	root or the effective uid, no group or other write bits; the
 *	directory holding it must not be writable by others either unless
 *	it is sticky.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure.h"
#include "util.h"

/*
 * Whether plume was started set-id.  Decided once, at the first call
 * (made first thing in main()): a plume that later sets its effective
 * group aside for a while is still a set-id plume; only one that gave
 * its privileges up for good to run as the user (setid_give_up()) is
 * not.
 */
static int setid = -1;
static bool given_up;

bool
running_setid(void)
{
	if (setid == -1)
		setid = getuid() != geteuid() || getgid() != getegid();
	return setid == 1;
}

int
setid_drop(void)
{
	gid_t g = getgid();
	uid_t u = getuid();

	/* real, effective and saved: nothing left to take up again */
	if (setresgid(g, g, g) == -1 || setresuid(u, u, u) == -1)
		return -1;
	return 0;
}

int
setid_give_up(void)
{
	if (setid_drop() == -1)
		return -1;
	setid = 0;
	given_up = true;
	return 0;
}

bool
setid_given_up(void)
{
	return given_up;
}

/* The caller's own home and XDG base directories, kept aside when a
   set-id plume clears its environment. */
static const char *const user_env_names[] = { "HOME", "XDG_CONFIG_HOME",
    "XDG_STATE_HOME" };
static char *user_env[3];

void
setid_keep_user_env(void)
{
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(user_env_names[i]);

		if (v != NULL)
			user_env[i] = xstrdup(v);
	}
}

void
setid_user_env(bool on)
{
	for (size_t i = 0; i < 3; i++) {
		if (on && user_env[i] != NULL)
			setenv(user_env_names[i], user_env[i], 1);
		else
			unsetenv(user_env_names[i]);
	}
}

mode_t
spool_dir_mode(void)
{
	/* set-group-id installs share the spool through the group */
	return running_setid() ? (mode_t)(02770) : (mode_t)0700;
}

bool
secure_file_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *copy, *dir;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "owned by uid %lu, not by root or uid %lu",
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "writable by %s (mode %04o); "
		    "run chmod go-w on it",
		    st.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777));
		return false;
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) &&
	    !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "its directory %s is writable by others",
		    dir);
		free(copy);
		return false;
	}
	free(copy);
	return true;
}
