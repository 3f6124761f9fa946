/*
 * NAME
 *	bounce.h - delivery status notifications (RFC 3464) to the sender
 */
#ifndef PLUME_BOUNCE_H
#define PLUME_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>

#include "message.h"
#include "runtime.h"

/* Whether rcpt wants to hear of its failure (NOTIFY). */
bool	bounce_wanted(const struct plume_msg *, const struct rcpt *,
	    bool delayed);
/*
 * Tells orig's sender that the recipients marked in which[] failed for
 * good: builds the report and sends it through the pipeline (queued if
 * it fails temporarily).  Returns 0 when the report is delivered or
 * queued, or nothing needed sending; -1 when it could not be sent
 * (err says why): the caller then keeps the original in failed/.
 */
int	bounce_send(struct runtime *, const struct plume_msg *orig,
	    const bool *which, bool delayed, char *err, size_t errlen);

#endif
