/*
 * NAME
 *	http_probe.h - "plume doctor" for the HTTP API transport
 */
#ifndef PLUGIN_HTTP_PROBE_H
#define PLUGIN_HTTP_PROBE_H

#include <plume/plugin.h>

/* state is the instance's struct http. */
int	 http_probe(void *state, struct plume_probe *);

#endif
