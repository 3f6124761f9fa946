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
 * group aside for a while is still a set-id plume.
 */
bool
running_setid(void)
{
	static int setid = -1;

	if (setid == -1)
		setid = getuid() != geteuid() || getgid() != getegid();
	return setid == 1;
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
