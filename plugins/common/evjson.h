/*
 * NAME
 *	evjson.h - an observer event as one JSON object, for plugins
 * SYNOPSIS
 *	char *evjson_render(const struct plume_event *ev, size_t *len_r);
 *	const char *evjson_event_name(enum plume_event_type);
 * DESCRIPTION
 *	The one shape every observer writes (the logfile plugin's lines,
 *	the hook plugin's standard input and webhook body):
 *
 *	{"time":"2026-11-26T10:57:08.123Z","event":"delivered",
 *	 "queue_id":"...","message_id":"<...>","sender":"a@b",
 *	 "rcpt":"c@d","nrcpt":1,"size":1234,"instance":"smtp",
 *	 "code":250,"enhanced":"2.0.0","text":"...","attempt":1,
 *	 "duration_ms":3,"uid":0,"user":"root",
 *	 "notes":{"relay":"...","tls":"...","auth":"...","remote_id":"..."}}
 *
 *	Members that do not apply are left out.  Strings are escaped as
 *	JSON requires; bytes that are not valid UTF-8 become \u00XX
 *	escapes of their byte value, so the object always parses.
 *	evjson_render returns a malloc'd NUL-terminated object without a
 *	line end, or NULL when out of memory.
 */
#ifndef PLUGIN_EVJSON_H
#define PLUGIN_EVJSON_H

#include <stddef.h>

#include <plume/plugin.h>

char	*evjson_render(const struct plume_event *, size_t *len_r);
const char *evjson_event_name(enum plume_event_type);
/* "2026-11-26T10:57:08.123Z" into buf (at least 32 bytes) */
void	 evjson_time(const struct timespec *, char *buf, size_t len);

#endif
