/*
 * NAME
 *	runner.h - deliver what waits in the queue
 */
#ifndef PLUME_RUNNER_H
#define PLUME_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "message.h"
#include "runtime.h"

struct run_opts {
	bool	 flush;		/* every message now, backoff ignored */
	const char *only_id;	/* -qI: queue ids starting with this */
	const char *rcpt_sub;	/* -qR: a recipient containing this */
	const char *sender_sub;	/* -qS: a sender containing this */
};

struct run_stats {
	size_t	 seen, attempted, done, deferred, expired, skipped, corrupt;
	size_t	 held;		/* not tried: the far end asked to slow down */
	size_t	 workers;	/* processes that delivered (queue_concurrency) */
	size_t	 lost;		/* workers that were killed or crashed */
};

time_t	queue_next_attempt(const struct runtime *, unsigned attempts,
	    time_t now);
/* Records the results of a delivery in the recipients' states and the
   message's retry fields; returns how many recipients are pending. */
size_t	queue_settle(const struct runtime *, struct plume_msg *, time_t now);
void	queue_run(struct runtime *, const struct run_opts *,
	    struct run_stats *);
/* Whether some queue runner is at work on queue_dir now. */
bool	queue_runner_active(const char *queue_dir);
/* Starts "plume queue run" (or a flush of one message, when qid is not
   NULL) with rt's binary and config, detached: its own session, no
   terminal, stdio on /dev/null. */
void	queue_trigger(const struct runtime *, const char *qid);

#endif
