/*
 * NAME
 *	logfile - observer plugin: every event as one JSON object per line
 * SYNOPSIS
 *	pipeline = outbox, logfile
 *	[logfile]
 *	path = /var/log/plume.jsonl
 * DESCRIPTION
 *	Each event (accepted, attempt, delivered, deferred, bounced,
 *	failed, throttled) becomes one line:
 *
 *	{"time":"2026-11-26T10:57:08.123Z","event":"delivered",
 *	 "queue_id":"...","message_id":"<...>","sender":"a@b",
 *	 "rcpt":"c@d","nrcpt":1,"size":1234,"instance":"outbox",
 *	 "code":250,"enhanced":"2.0.0","text":"...","attempt":1,
 *	 "duration_ms":3,"uid":0,"user":"root","notes":{"relay":"..."}}
 *
 *	Members that do not apply are left out.  The file is opened with
 *	O_APPEND for each event and each line is written with one write(2),
 *	so concurrent plume processes never interleave within a line and
 *	logrotate needs no signal: the next event opens the new file.
 *	Strings are escaped as JSON requires; bytes that are not valid
 *	UTF-8 are written as \u00XX escapes of their byte value so the
 *	line always parses.
 * DIAGNOSTICS
 *	A failure to write is logged through plume's log once per process
 *	and never affects delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <plume/plugin.h>

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

/* A growable string, minimal: this plugin links nothing of plume's. */
struct out {
	char	*p;
	size_t	 len, cap;
	bool	 oom;
};

static void
out_add(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 512;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void
out_json_string(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	out_add(o, "\"", 1);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (*p == '"' || *p == '\\') {
			out_add(o, "\\", 1);
			out_add(o, (const char *)p, 1);
			p++;
		} else if (*p < 0x20 || n == 0) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			out_str(o, esc);
			p++;
		} else {
			out_add(o, (const char *)p, n);
			p += n;
		}
	}
	out_add(o, "\"", 1);
}

static void
out_member_str(struct out *o, const char *key, const char *value)
{
	if (value == NULL)
		return;
	out_add(o, ",", 1);
	out_json_string(o, key);
	out_add(o, ":", 1);
	out_json_string(o, value);
}

static void
out_member_num(struct out *o, const char *key, long long value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", value);
	out_add(o, ",", 1);
	out_json_string(o, key);
	out_add(o, ":", 1);
	out_str(o, num);
}

static const char *
event_name(enum plume_event_type t)
{
	switch (t) {
	case PLUME_EV_ACCEPTED: return "accepted";
	case PLUME_EV_ATTEMPT: return "attempt";
	case PLUME_EV_DELIVERED: return "delivered";
	case PLUME_EV_DEFERRED: return "deferred";
	case PLUME_EV_BOUNCED: return "bounced";
	case PLUME_EV_FAILED: return "failed";
	case PLUME_EV_THROTTLED: return "throttled";
	}
	return "unknown";
}

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

static void
logfile_event(void *state, const struct plume_event *ev)
{
	struct logfile *lf = state;
	struct out o = { NULL, 0, 0, false };
	char stamp[64];
	struct tm tm;
	int fd;

	gmtime_r(&ev->time.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp),
	    ".%03ldZ", ev->time.tv_nsec / 1000000);
	out_str(&o, "{\"time\":");
	out_json_string(&o, stamp);
	out_member_str(&o, "event", event_name(ev->type));
	out_member_str(&o, "queue_id", ev->queue_id);
	out_member_str(&o, "message_id", ev->message_id);
	out_member_str(&o, "sender", ev->sender);
	out_member_str(&o, "rcpt", ev->rcpt);
	out_member_num(&o, "nrcpt", (long long)ev->nrcpt);
	out_member_num(&o, "size", (long long)ev->size);
	out_member_str(&o, "instance", ev->instance);
	if (ev->reply != NULL) {
		if (ev->reply->code != 0)
			out_member_num(&o, "code", ev->reply->code);
		out_member_str(&o, "enhanced", ev->reply->enhanced);
		out_member_str(&o, "text", ev->reply->text);
		if (ev->reply->retry_after != 0)
			out_member_num(&o, "retry_after",
			    (long long)ev->reply->retry_after);
	}
	out_member_num(&o, "attempt", ev->attempt);
	if (ev->duration_ms >= 0)
		out_member_num(&o, "duration_ms", ev->duration_ms);
	out_member_num(&o, "uid", (long long)ev->uid);
	out_member_str(&o, "user", ev->user);
	if (ev->notes != NULL && ev->notes[0] != NULL) {
		out_str(&o, ",\"notes\":{");
		for (size_t i = 0; ev->notes[i] && ev->notes[i + 1]; i += 2) {
			if (i > 0)
				out_add(&o, ",", 1);
			out_json_string(&o, ev->notes[i]);
			out_add(&o, ":", 1);
			out_json_string(&o, ev->notes[i + 1]);
		}
		out_add(&o, "}", 1);
	}
	out_str(&o, "}\n");
	if (o.oom) {
		free(o.p);
		return;
	}
	fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, lf->mode);
	if (fd == -1 || write(fd, o.p, o.len) != (ssize_t)o.len) {
		if (!lf->complained)
			lf->host->log(lf->inst, PLUME_LOG_ERR,
			    "cannot write %s: %s", lf->path, strerror(errno));
		lf->complained = true;
	}
	if (fd != -1)
		close(fd);
	free(o.p);
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
