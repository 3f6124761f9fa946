/*
 * NAME
 *	evjson.c - an observer event as one JSON object (see evjson.h)
 * DESCRIPTION
 *	A minimal growable string and a JSON string escaper: plugins link
 *	nothing of plume's, and observers must not pull in a JSON library
 *	for one flat object.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evjson.h"
#include "utf8.h"

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

static void
out_json_string(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	out_add(o, "\"", 1);
	while (*p != '\0') {
		size_t n = utf8_seq(p);

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

const char *
evjson_event_name(enum plume_event_type t)
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

void
evjson_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts->tv_nsec / 1000000);
}

char *
evjson_render(const struct plume_event *ev, size_t *len_r)
{
	struct out o = { NULL, 0, 0, false };
	char stamp[64];

	evjson_time(&ev->time, stamp, sizeof(stamp));
	out_str(&o, "{\"time\":");
	out_json_string(&o, stamp);
	out_member_str(&o, "event", evjson_event_name(ev->type));
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
	out_str(&o, "}");
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	*len_r = o.len;
	return o.p;
}
