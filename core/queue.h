/*
 * NAME
 *	queue.h - store a message in the spool: envelope file plus body
 * DESCRIPTION
 *	The envelope format is versioned and self-describing; see queue.c.
 *	queue_store() is used for queue_dir/hold/ (a message kept because
 *	the config is broken); the retry queue builds on the same format.
 */
#ifndef PLUME_QUEUE_H
#define PLUME_QUEUE_H

#include <stddef.h>

#include "message.h"

#define QUEUE_ENV_VERSION	1

int	queue_store(const char *queue_dir, const char *sub,
	    struct plume_msg *, const char *reason, char *err, size_t errlen);

#endif
