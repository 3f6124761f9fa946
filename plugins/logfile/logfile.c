/*
 * NAME
 *	logfile - observer plugin: every event as one JSON object per line
 * SYNOPSIS
 *	pipeline = outbox, logfile
 *	[logfile]
 *	path = /var/log/plume.jsonl
 * DESCRIPTION
 *	Each event (accepted, attempt, delivered, deferred, bounced,
 *	failed, throttled) becomes one line, the JSON object described in
 *	plugins/common/evjson.h (relay, TLS, AUTH and the remote id are
 *	in "notes").  The file is opened with
 *	O_APPEND for each event and each line is written with one write(2),
 *	so concurrent plume processes never interleave within a line and
 *	logrotate needs no signal: the next event opens the new file.
 * DIAGNOSTICS
 *	A failure to write is logged through plume's log once per process
 *	and never affects delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plume/plugin.h>

#include "evjson.h"

struct logfile {
	const struct plume_host *host;
	struct plume_inst *inst;
	const char *path;
	int	 mode;
	bool	 complained;
};

static const struct plume_conf_key logfile_keys[] = {
	{ "path", PLUME_CONF_PATH, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "file that receives one JSON object per event" },
	{ "mode", PLUME_CONF_STRING, 0, "0640", NULL, 0, 0,
	    "permissions of the file when plume creates it (octal)" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static int
logfile_init(const struct plume_host *host, struct plume_inst *inst,
    void **state_r, const char **error_r)
{
	struct logfile *lf;
	const char *mode = host->conf_string(inst, "mode");
	char *end;
	long m = strtol(mode, &end, 8);

	if (*end != '\0' || m < 0 || m > 0666) {
		*error_r = "mode must be octal permissions such as 0640";
		return -1;
	}
	if ((lf = calloc(1, sizeof(*lf))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	lf->host = host;
	lf->inst = inst;
	lf->path = host->conf_string(inst, "path");
	lf->mode = (int)m;
	*state_r = lf;
	return 0;
}

static void
logfile_shutdown(void *state)
{
	free(state);
}

/* Opens the log for appending; a file it creates gets exactly mode,
   whatever plume's umask (077), so "mode = 0640" lets the group read
   it ("plume log" for the users of a set-group-id install). */
static int
open_log(struct logfile *lf)
{
	int fl = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, fd;

	if ((fd = open(lf->path, fl)) != -1 || errno != ENOENT)
		return fd;
	if ((fd = open(lf->path, fl | O_CREAT | O_EXCL, lf->mode)) != -1) {
		(void)fchmod(fd, (mode_t)lf->mode);
		return fd;
	}
	/* created by another process in between */
	return errno == EEXIST ? open(lf->path, fl) : -1;
}

static void
logfile_event(void *state, const struct plume_event *ev)
{
	struct logfile *lf = state;
	size_t len;
	char *line = evjson_render(ev, &len);
	int fd;

	if (line == NULL)
		return;
	line[len] = '\n';	/* in place of the NUL: written by length */
	fd = open_log(lf);
	if (fd == -1 || write(fd, line, len + 1) != (ssize_t)(len + 1)) {
		if (!lf->complained)
			lf->host->log(lf->inst, PLUME_LOG_ERR,
			    "cannot write %s: %s", lf->path, strerror(errno));
		lf->complained = true;
	}
	if (fd != -1)
		close(fd);
	free(line);
}

static const struct plume_observer_ops logfile_observer = {
	.struct_size = sizeof(struct plume_observer_ops),
	.event = logfile_event,
};

const struct plume_plugin PLUME_PLUGIN(logfile) = {
	PLUME_PLUGIN_INIT,
	.name = "logfile",
	.version = "1.0",
	.description = "writes every delivery event as a JSON line to a file",
	.kinds = PLUME_KIND_OBSERVER,
	.conf_keys = logfile_keys,
	.init = logfile_init,
	.shutdown = logfile_shutdown,
	.observer = &logfile_observer,
};
