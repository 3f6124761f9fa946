/*
 * NAME
 *	evlog.c - read the delivery log the logfile plugin writes
 * SYNOPSIS
 *	char **paths = evlog_paths(&rt);
 *	evlog_scan(paths[i], &filter, callback, arg, &counts, err, len);
 * DESCRIPTION
 *	The logfile plugin writes one JSON object per event and line
 *	(plugins/common/evjson.c); logrotate renames the file to PATH.1
 *	and the next event creates PATH.  plume log and plume stats read
 *	both, older first.
 *
 *	A log grows to millions of lines, so a line is tested cheaply on
 *	its raw text before it is parsed: the needle (a queue id, an
 *	address) must occur in it, its time stamp (always the first
 *	member, ISO 8601 in UTC, so it sorts as text) must not be older
 *	than `since', and `"uid":N' must be the caller's when only the
 *	caller's events are wanted.  The parse (jsonl.c) then decides.
 *	Lines are read with getline(3) into one buffer, reused.
 *
 *	A line that is not a JSON object of the expected shape (a torn
 *	write of a full disk, an editor's stray line) is counted and
 *	skipped, never fatal: the rest of the history is still worth
 *	showing.
 * DIAGNOSTICS
 *	evlog_scan() returns -1 with one line in err when the file exists
 *	but cannot be read.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "evlog.h"
#include "loader.h"
#include "runtime.h"
#include "util.h"

char **
evlog_paths(struct runtime *rt)
{
	char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const char *path;

		if (strcmp(in->plugin->desc.name, "logfile") != 0 ||
		    (path = host_services.conf_string(in, "path")) == NULL)
			continue;
		v = xreallocarray(v, n + 3, sizeof(*v));
		v[n++] = xasprintf("%s.1", path);
		v[n++] = xstrdup(path);
		v[n] = NULL;
	}
	return v;
}

static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard
   Hinnant's days_from_civil): cheaper than timegm(3) per line. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

long long
evlog_parse_stamp(const char *s)
{
	int y, mo, d, h, mi, se, ms = 0;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (s[19] == '.' && (ms = digits(s + 20, 3)) < 0)
		return -1;
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) *
	    60 + mi) * 60000LL + se * 1000LL + ms;
}

void
evlog_format_stamp(long long ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

/* The raw tests: cheap, before any parsing. */
static bool
prefilter(const char *line, const struct evlog_filter *f, const char *uidpat,
    size_t uidlen)
{
	if (f->since != NULL) {
		/* {"time":"STAMP": the stamp sorts as text */
		const char *t = strncmp(line, "{\"time\":\"", 9) == 0 ?
		    line + 9 : NULL;

		if (t != NULL && strncmp(t, f->since, strlen(f->since)) < 0)
			return false;
	}
	if (f->needle != NULL && (f->icase ? strcasestr(line, f->needle) :
	    strstr(line, f->needle)) == NULL)
		return false;
	if (uidpat != NULL) {
		const char *p = line;

		while ((p = strstr(p, uidpat)) != NULL) {
			if (p[uidlen] < '0' || p[uidlen] > '9')
				return true;
			p += uidlen;
		}
		return false;
	}
	return true;
}

static const char *
note(const struct jsonl_obj *o, const char *key)
{
	int notes = jsonl_find(o, -1, "notes"), i;

	if (notes < 0 || (i = jsonl_find(o, notes, key)) < 0 ||
	    o->m[i].type != JSONL_STRING)
		return NULL;
	return o->m[i].str;
}

int
evlog_scan(const char *path, const struct evlog_filter *f, evlog_cb cb,
    void *arg, struct evlog_counts *c, char *err, size_t errlen)
{
	struct evlog_event *ev = xcalloc(1, sizeof(*ev));
	char *line = NULL, *raw = NULL, uidpat[40];
	size_t cap = 0, rawcap = 0, uidlen = 0;
	ssize_t len;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		free(ev);
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (f->uid >= 0)
		uidlen = (size_t)snprintf(uidpat, sizeof(uidpat), "\"uid\":%lld",
		    f->uid);
	while ((len = getline(&line, &cap, fp)) > 0) {
		const char *error;

		c->lines++;
		if (!prefilter(line, f, uidlen ? uidpat : NULL, uidlen))
			continue;
		if (f->keep_raw) {
			if ((size_t)len + 1 > rawcap) {
				rawcap = (size_t)len + 1;
				free(raw);
				raw = xmalloc(rawcap);
			}
			memcpy(raw, line, (size_t)len + 1);
			while (len > 0 && (raw[len - 1] == '\n' ||
			    raw[len - 1] == '\r'))
				raw[--len] = '\0';
		}
		if (jsonl_parse(line, &ev->obj, &error) == -1 ||
		    (ev->stamp = jsonl_str(&ev->obj, "time")) == NULL ||
		    (ev->time_ms = evlog_parse_stamp(ev->stamp)) < 0 ||
		    (ev->event = jsonl_str(&ev->obj, "event")) == NULL ||
		    (ev->queue_id = jsonl_str(&ev->obj, "queue_id")) == NULL) {
			c->bad++;
			continue;
		}
		c->parsed++;
		ev->message_id = jsonl_str(&ev->obj, "message_id");
		ev->sender = jsonl_str(&ev->obj, "sender");
		ev->rcpt = jsonl_str(&ev->obj, "rcpt");
		ev->instance = jsonl_str(&ev->obj, "instance");
		ev->enhanced = jsonl_str(&ev->obj, "enhanced");
		ev->text = jsonl_str(&ev->obj, "text");
		ev->user = jsonl_str(&ev->obj, "user");
		ev->relay = note(&ev->obj, "relay");
		ev->code = jsonl_num(&ev->obj, "code", -1);
		ev->attempt = jsonl_num(&ev->obj, "attempt", -1);
		ev->duration_ms = jsonl_num(&ev->obj, "duration_ms", -1);
		ev->uid = jsonl_num(&ev->obj, "uid", -1);
		ev->retry_after = jsonl_num(&ev->obj, "retry_after", -1);
		ev->raw = f->keep_raw ? raw : NULL;
		/* the raw test is a pre-test: the parse decides */
		if (f->uid >= 0 && ev->uid != f->uid)
			continue;
		if (f->since != NULL && strcmp(ev->stamp, f->since) < 0)
			continue;
		if (cb(arg, ev) != 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "error reading %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	fclose(fp);
	free(line);
	free(raw);
	free(ev);
	return rc;
}
