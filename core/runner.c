/*
 * NAME
 *	runner.c - the queue runner: retry deferred messages
 * SYNOPSIS
 *	queue_run(rt, &opts, &stats);
 * DESCRIPTION
 *	Every message in queue_dir/deferred/ whose next attempt is due (or
 *	every one, when flushing, as "sendmail -q" does) is locked, loaded
 *	and delivered to its pending recipients through the pipeline (the
 *	filters excepted: the message was signed before it was queued and
 *	is sent as stored).  A recipient the far end accepted is marked
 *	sent in the envelope before the runner goes on, so no retry ever
 *	sends it again; one refused for good is marked failed.  A message
 *	with nothing pending is removed.
 *
 *	Backoff grows with the attempts, from queue_min_backoff doubling
 *	up to queue_max_backoff, with up to 10% of jitter so that messages
 *	deferred together do not all come back at once.  When the far end
 *	says when to come back (an HTTP API's Retry-After), that time is
 *	used instead, capped at queue_max_backoff.  A next attempt
 *	further away than queue_max_backoff can only come from a clock
 *	that went backwards: such a message is due at once.  A message
 *	older than queue_lifetime is not retried: it moves to failed/ with
 *	its recipients marked failed.
 *
 *	When a transport says to slow down (a 429 with Retry-After, an SMTP
 *	421 4.7.x: see rate_limited() in runtime.c), the rest of the run
 *	sends nothing through it before that time: each message it would
 *	carry (its failovers paused too) keeps its place, with its next
 *	attempt set to that time, without an attempt, an event or a bounce
 *	(counted as held).  Workers inherit a pause the first attempt
 *	found; one a worker finds later is that worker's (a provider sees
 *	at most queue_concurrency requests after its 429).
 *
 *	After the queue, every observer with a flush operation (ABI 1.4)
 *	does the work it kept for the runner (the hook plugin posts its
 *	spooled webhooks): a submitting process never does it.
 *
 *	Damaged envelopes move to corrupt/ (never deleted, never delivered
 *	in part); envelopes of a newer plume are left alone with a warning;
 *	messages another runner holds are skipped.
 *
 *	queue_concurrency workers deliver in parallel: the runner lists the
 *	queue once and makes the first attempt alone (so a relay that is
 *	down costs one connection: the workers inherit that it is down),
 *	closes its sessions, forks the extra workers (it is one itself),
 *	and every worker takes the next message of the list from a counter
 *	in shared memory, so each message is handed out once per run; the
 *	per-message flock still keeps out other runners.  Each worker keeps
 *	its own transport sessions, so a relay sees at most that many
 *	connections from one run, each carrying many messages (and a dead
 *	relay costs one connection per worker).  The counts live in the
 *	shared memory too, one slot per worker, and are summed at the end.
 *	A worker that is killed takes nothing with it: its flock vanishes,
 *	the message it held stays queued for the next run, and the runner
 *	reports it.  With 1 (or one message due) nothing is forked.
 * DIAGNOSTICS
 *	Log lines per message; counts in struct run_stats.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounce.h"
#include "log.h"
#include "queue.h"
#include "runner.h"
#include "util.h"

time_t
queue_next_attempt(const struct runtime *rt, unsigned attempts, time_t now)
{
	long long wait = rt->min_backoff > 0 ? rt->min_backoff : 1;

	for (unsigned i = 1; i < attempts && wait < rt->max_backoff; i++)
		wait *= 2;
	if (wait > rt->max_backoff)
		wait = rt->max_backoff;
	/* up to 10% jitter, never below the minimum */
	wait += (long long)(random() % (wait / 10 + 1));
	return now + (time_t)wait;
}

size_t
queue_settle(const struct runtime *rt, struct plume_msg *m, time_t now)
{
	size_t pending = 0;
	time_t asked = 0;

	free(m->last_error);
	m->last_error = NULL;
	for (size_t i = 0; i < m->nrcpt; i++) {
		struct rcpt *r = &m->rcpts[i];

		if (r->state != RCPT_PENDING || !r->result.set)
			continue;
		if (r->result.status == PLUME_OK)
			r->state = RCPT_SENT;
		else if (r->result.status == PLUME_PERMFAIL)
			r->state = RCPT_FAILED;
		else {
			pending++;
			if (r->result.retry_after > asked)
				asked = r->result.retry_after;
			if (m->last_error == NULL)
				m->last_error = xasprintf("<%s>: %d%s%s %s",
				    r->addr, r->result.code,
				    r->result.enhanced ? " " : "",
				    r->result.enhanced ? r->result.enhanced :
				    "", r->result.text ? r->result.text : "");
		}
	}
	m->next_attempt = queue_next_attempt(rt, m->attempts, now);
	/* the far end said when (Retry-After): then, but never later than
	   the longest backoff */
	if (asked != 0)
		m->next_attempt = asked <= now ? now + 1 :
		    asked - now > rt->max_backoff ? now + rt->max_backoff :
		    asked;
	return pending;
}

static bool
selected(const struct run_opts *o, const struct plume_msg *m)
{
	if (o->only_id != NULL && strncmp(m->qid, o->only_id,
	    strlen(o->only_id)) != 0)
		return false;
	if (o->sender_sub != NULL && strstr(m->sender, o->sender_sub) == NULL)
		return false;
	if (o->rcpt_sub != NULL) {
		for (size_t i = 0; i < m->nrcpt; i++)
			if (strstr(m->rcpts[i].addr, o->rcpt_sub) != NULL)
				return true;
		return false;
	}
	return true;
}

/* Moves the recipients that are not pending out of m, so the pipeline
   sees only those it must deliver to; put_back() undoes it. */
static struct rcpt *
set_aside(struct plume_msg *m, size_t *n_r)
{
	struct rcpt *done = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof(*done));
	size_t nd = 0, np = 0;

	for (size_t i = 0; i < m->nrcpt; i++) {
		if (m->rcpts[i].state == RCPT_PENDING)
			m->rcpts[np++] = m->rcpts[i];
		else
			done[nd++] = m->rcpts[i];
	}
	m->nrcpt = np;
	*n_r = nd;
	return done;
}

static void
put_back(struct plume_msg *m, struct rcpt *done, size_t nd)
{
	m->rcpts = xreallocarray(m->rcpts, m->nrcpt + nd, sizeof(*m->rcpts));
	memcpy(m->rcpts + m->nrcpt, done, nd * sizeof(*done));
	m->nrcpt += nd;
	free(done);
}

static void
run_one(struct runtime *rt, const struct run_opts *o, const char *qid,
    struct run_stats *st)
{
	struct queue_item it;
	struct plume_msg m;
	struct delivery_summary sum;
	struct rcpt *done;
	size_t nd, pending;
	bool bounced_ok;
	char err[1024];
	time_t now = time(NULL), paused;
	enum queue_status qs;

	st->seen++;
	qs = queue_open(rt->queue_dir, QUEUE_DEFERRED, qid, &it, err,
	    sizeof(err));
	if (qs != QUEUE_OK) {
		if (qs == QUEUE_LOCKED)
			st->skipped++;
		else if (qs == QUEUE_ERROR)
			log_warnx("%s", err);
		queue_close(&it);
		return;
	}
	qs = queue_load(&it, &m, err, sizeof(err));
	if (qs == QUEUE_NEWER) {
		log_warnx("%s", err);
		st->skipped++;
		queue_close(&it);
		return;
	}
	if (qs != QUEUE_OK) {
		char merr[512];

		log_err("%s; moved to %s/", err, QUEUE_CORRUPT);
		if (queue_move(&it, QUEUE_CORRUPT, merr, sizeof(merr)) == -1)
			log_err("%s", merr);
		st->corrupt++;
		queue_close(&it);
		return;
	}
	log_set_qid(m.qid);
	/* queue_next_attempt() adds up to 10% of jitter to the longest
	   backoff: only beyond that is the clock suspect */
	if (!selected(o, &m) || (!o->flush && m.next_attempt > now &&
	    m.next_attempt <= now + rt->max_backoff + rt->max_backoff / 10 +
	    1)) {
		st->skipped++;
		goto out;
	}
	if (now - m.arrival > rt->lifetime) {
		bool *which = xcalloc(m.nrcpt ? m.nrcpt : 1, sizeof(*which));
		char *why = xasprintf("expired after %lld days in the queue; "
		    "last error: %s", (long long)(now - m.arrival) / 86400,
		    m.last_error ? m.last_error : "none");
		struct plume_reply rep = { PLUME_PERMFAIL, 0, "4.4.7", why, 0 };

		for (size_t i = 0; i < m.nrcpt; i++)
			if (m.rcpts[i].state == RCPT_PENDING) {
				m.rcpts[i].state = RCPT_FAILED;
				result_set(&m.rcpts[i].result, &rep);
				which[i] = true;
			}
		log_err("%s", why);
		/* the sender is told; the message is kept in failed/ */
		if (bounce_send(rt, &m, which, false, err, sizeof(err)) == -1)
			log_err("%s", err);
		for (size_t i = 0; i < m.nrcpt; i++)
			if (which[i])
				runtime_event(rt, &m, m.sender[0] != '\0' ?
				    PLUME_EV_BOUNCED : PLUME_EV_FAILED,
				    m.rcpts[i].addr, NULL, &rep, -1);
		free(why);
		free(which);
		if (queue_update(&it, &m, "expired", err, sizeof(err)) == -1 ||
		    queue_move(&it, "failed", err, sizeof(err)) == -1)
			log_err("%s", err);
		st->expired++;
		goto out;
	}

	if ((paused = runtime_route_paused(rt, &m, now)) != 0) {
		/* the far end asked to slow down (runtime.c): not an
		   attempt, no event; it waits until then */
		if (m.next_attempt < paused)
			m.next_attempt = paused;
		if (queue_update(&it, &m, "deferred", err, sizeof(err)) == -1)
			log_err("%s", err);
		log_debug("held back until the transport takes mail again");
		st->held++;
		goto out;
	}
	st->attempted++;
	m.from_queue = true;
	m.attempts++;
	done = set_aside(&m, &nd);
	runtime_deliver(rt, &m, &sum);
	summary_free(&sum);
	pending = queue_settle(rt, &m, time(NULL));
	bounced_ok = true;
	{
		/* recipients refused for good in this run: tell the sender */
		bool *which = xcalloc(m.nrcpt ? m.nrcpt : 1, sizeof(*which));
		size_t nf = 0;

		for (size_t i = 0; i < m.nrcpt; i++)
			if (m.rcpts[i].state == RCPT_FAILED)
				which[i] = true, nf++;
		if (nf > 0 && bounce_send(rt, &m, which, false, err,
		    sizeof(err)) == -1) {
			log_err("%s", err);
			bounced_ok = false;
		}
		free(which);
	}
	if (pending > 0 && rt->delay_warning > 0 && !m.warned &&
	    time(NULL) - m.arrival >= rt->delay_warning) {
		/* once: the sender learns the message is late, not lost */
		bool *which = xcalloc(m.nrcpt ? m.nrcpt : 1, sizeof(*which));

		for (size_t i = 0; i < m.nrcpt; i++)
			which[i] = m.rcpts[i].state == RCPT_PENDING;
		if (bounce_send(rt, &m, which, true, err, sizeof(err)) == -1)
			log_warnx("delay warning: %s", err);
		m.warned = true;
		free(which);
	}
	put_back(&m, done, nd);
	if (pending == 0 && !bounced_ok) {
		/* the sender could not be told: keep the message in failed/ */
		if (queue_update(&it, &m, "report failed", err,
		    sizeof(err)) == -1 ||
		    queue_move(&it, "failed", err, sizeof(err)) == -1)
			log_err("%s", err);
		st->done++;
	} else if (pending == 0) {
		queue_remove(&it);
		st->done++;
	} else {
		if (queue_update(&it, &m, "deferred", err, sizeof(err)) == -1)
			log_err("%s", err);
		st->deferred++;
	}
out:
	log_set_qid(NULL);
	msg_free(&m);
	queue_close(&it);
}

/*
 * queue_dir/runner.lock: every runner holds it shared while it works, so
 * a submitter that can take it exclusively knows no runner is at work
 * and starts one.  flock(2) locks vanish with their process: a killed
 * runner leaves nothing stale behind.
 */
static int
runner_lock(const char *queue_dir, int how)
{
	char *path = xasprintf("%s/runner.lock", queue_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	free(path);
	if (fd != -1 && flock(fd, how | LOCK_NB) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool
queue_runner_active(const char *queue_dir)
{
	int fd = runner_lock(queue_dir, LOCK_EX);

	if (fd == -1)
		return true;
	close(fd);
	return false;
}

void
queue_trigger(const struct runtime *rt, const char *qid)
{
	const char *config = rt->conf_explicit ? rt->conf_path : NULL;
	pid_t pid = fork();

	if (pid == -1) {
		log_warnx("cannot start a queue run: fork: %s",
		    strerror(errno));
		return;
	}
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return;
	}
	/* the child: a new session, then a grandchild nobody waits for */
	if (setsid() == -1 || fork() != 0)
		_exit(0);
	{
		int fd = open("/dev/null", O_RDWR);
		const char *argv[10];
		int n = 0;

		if (fd == -1 || dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(1);
		argv[n++] = "plume";
		if (config != NULL) {
			argv[n++] = "-C";
			argv[n++] = config;
		}
		argv[n++] = "queue";
		if (qid != NULL) {
			argv[n++] = "flush";
			argv[n++] = qid;
		} else
			argv[n++] = "run";
		argv[n] = NULL;
		execv(rt->self, (char *const *)argv);
		_exit(127);
	}
}

/* What the workers of one run share: the next message of the list to
   hand out, and a slot of counts per worker. */
struct run_shared {
	size_t	 next;
	struct run_stats st[];
};

static void
work(struct runtime *rt, const struct run_opts *o, char **ids, size_t n,
    struct run_shared *sh, size_t k)
{
	size_t i;

	while ((i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED)) < n)
		run_one(rt, o, ids[i], &sh->st[k]);
}

static void
stats_add(struct run_stats *to, const struct run_stats *s)
{
	to->seen += s->seen;
	to->attempted += s->attempted;
	to->done += s->done;
	to->deferred += s->deferred;
	to->expired += s->expired;
	to->skipped += s->skipped;
	to->corrupt += s->corrupt;
	to->held += s->held;
}

/* nw workers: this process and nw - 1 children.  false when the shared
   memory cannot be had (the caller then delivers alone). */
static bool
run_parallel(struct runtime *rt, const struct run_opts *o, char **ids,
    size_t n, size_t nw, struct run_stats *st)
{
	size_t size = sizeof(struct run_shared) + nw * sizeof(struct run_stats);
	struct run_shared *sh = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids;
	size_t k;

	if (sh == MAP_FAILED) {
		log_warnx("cannot share a queue run between workers: mmap: %s",
		    strerror(errno));
		return false;
	}
	pids = xcalloc(nw, sizeof(*pids));
	for (k = 1; k < nw; k++) {
		if ((pids[k] = fork()) == -1) {
			log_warnx("cannot start delivery worker %zu: fork: %s",
			    k + 1, strerror(errno));
			break;
		}
		if (pids[k] == 0) {
			/* a jitter of its own for the retry times */
			srandom((unsigned)getpid() ^ (unsigned)time(NULL));
			work(rt, o, ids, n, sh, k);
			runtime_close_sessions(rt, false);
			/* nothing of the parent's (stdio buffers, plugin
			   shutdown) runs twice */
			_exit(0);
		}
	}
	st->workers = k;
	work(rt, o, ids, n, sh, 0);
	runtime_close_sessions(rt, false);
	for (size_t j = 1; j < st->workers; j++) {
		int status;

		while (waitpid(pids[j], &status, 0) == -1 && errno == EINTR)
			;
		if (WIFSIGNALED(status) || (WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0)) {
			st->lost++;
			if (WIFSIGNALED(status))
				log_warnx("delivery worker %zu (pid %ld) was "
				    "killed by signal %d", j + 1,
				    (long)pids[j], WTERMSIG(status));
			else
				log_warnx("delivery worker %zu (pid %ld) "
				    "exited %d", j + 1, (long)pids[j],
				    WEXITSTATUS(status));
		}
	}
	for (k = 0; k < st->workers; k++)
		stats_add(st, &sh->st[k]);
	free(pids);
	munmap(sh, size);
	return true;
}

void
queue_run(struct runtime *rt, const struct run_opts *o, struct run_stats *st)
{
	char **ids;
	size_t n, i = 0;
	int lock = runner_lock(rt->queue_dir, LOCK_SH);

	memset(st, 0, sizeof(*st));
	if (queue_list(rt->queue_dir, QUEUE_DEFERRED, &ids) < 0)
		log_err("cannot read %s/%s", rt->queue_dir, QUEUE_DEFERRED);
	for (n = 0; ids[n] != NULL; n++)
		;
	st->workers = 1;
	if (rt->concurrency > 1) {
		/* the first attempt alone: a relay that is down costs one
		   connection, and the workers learn it (session_failed) from
		   this process; its open sessions are closed, never shared */
		while (i < n && st->attempted == 0)
			run_one(rt, o, ids[i++], st);
		runtime_close_sessions(rt, true);
		if (n - i > 1 && run_parallel(rt, o, ids + i, n - i,
		    (size_t)rt->concurrency < n - i ? (size_t)rt->concurrency :
		    n - i, st))
			i = n;
	}
	for (; i < n; i++)
		run_one(rt, o, ids[i], st);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	runtime_close_sessions(rt, false);
	/* observers' deferred work (webhook posts), once per run */
	runtime_flush_observers(rt);
	if (lock != -1)
		close(lock);
}
