/*
 * NAME
 *	logcmd.c - plume log and plume stats: what the delivery log says
 * SYNOPSIS
 *	plume log ID|Message-ID|address [--json]
 *	plume stats [--since DURATION] [--by day|domain|relay|status] [--json]
 * DESCRIPTION
 *	Both read the JSON lines of every logfile instance in the pipeline
 *	(PATH.1, the rotated predecessor, first), streamed line by line
 *	through core/evlog.c, which skips lines on their raw text before
 *	parsing them.
 *
 *	plume log answers "did it really go out?": every event of one
 *	message, the server's words, and where the message is now, read
 *	from the queue (deferred/, hold/, failed/; in none of them:
 *	finished).  A queue id (or a prefix of one) or a Message-ID
 *	selects messages whose whole history is shown; an address
 *	(sender or recipient) lists each message briefly, newest last.
 *	A caller other than root sees only the events and envelopes of
 *	its own uid (the rule of plume queue show).
 *
 *	plume stats counts events (sent, deferred, bounced, failed,
 *	throttled), the most frequent failure reasons (enhanced code and
 *	the reply's first words), and latency percentiles: the duration
 *	of each delivery per transport instance, and the time from
 *	acceptance to delivery where both events are in the window.
 * DIAGNOSTICS
 *	EX_NOINPUT (66) when nothing matched (plume log) or there is no
 *	log to read (plume stats); EX_USAGE for bad arguments.  Lines that
 *	are not events are counted and reported on stderr, never fatal.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "evlog.h"
#include "jsonl.h"
#include "logcmd.h"
#include "message.h"
#include "queue.h"
#include "runtime.h"
#include "util.h"

static const char *const queue_subs[] = { QUEUE_DEFERRED, QUEUE_HOLD,
    "failed" };
static const char *const queue_state_names[] = { "deferred", "held",
    "failed" };

/* Every log file in turn; one that cannot be read is said on stderr
   and skipped (the others, and the queue, still answer). */
static void
scan_logs(char **paths, const struct evlog_filter *f, evlog_cb cb,
    void *arg, struct evlog_counts *cnt)
{
	char err[1024];

	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++)
		if (evlog_scan(paths[i], f, cb, arg, cnt, err,
		    sizeof(err)) == -1)
			fprintf(stderr, "plume: %s\n", err);
	if (cnt->bad > 0)
		fprintf(stderr, "plume: %zu line%s of the log not read (not "
		    "an event)\n", cnt->bad, cnt->bad == 1 ? "" : "s");
}

/* ---- plume log ------------------------------------------------------- */

/* One event kept for printing: copies, the line is reused. */
struct lev {
	char		*raw;
	long long	 time_ms;
	char		*event, *rcpt, *instance, *relay, *enhanced, *text;
	long long	 code, attempt, duration_ms, nrcpt, size;
	size_t		 msg;		/* index into lctx.msgs */
};

struct lmsg {
	char		*qid, *mid, *sender, *user;
	long long	 uid;
	long long	 first_ms;
	bool		 history;	/* matched by queue id or Message-ID */
	bool		 in_log;
	int		 where;		/* index into queue_subs, or -1 */
	char		*queue_dir;
	unsigned	 attempts;
	time_t		 next_attempt, arrival;
	char		*last_error;
	char		**rcpt_addr;	/* from the envelope, when queued */
	char		**rcpt_state;
	size_t		 nrcpt;
};

struct lctx {
	const char	*arg;		/* as given */
	char		*norm;		/* without <> */
	bool		 has_at;
	long long	 uid;		/* -1: root sees all */
	struct lev	*ev;
	size_t		 nev;
	struct lmsg	*msgs;
	size_t		 nmsgs;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static bool
mid_matches(const char *mid, const char *norm)
{
	size_t n;

	if (mid == NULL)
		return false;
	if (*mid == '<')
		mid++;
	n = strlen(mid);
	if (n > 0 && mid[n - 1] == '>')
		n--;
	return n == strlen(norm) && strncmp(mid, norm, n) == 0;
}

static size_t
lmsg_get(struct lctx *c, const char *qid)
{
	struct lmsg *m;

	for (size_t i = c->nmsgs; i > 0; i--)
		if (strcmp(c->msgs[i - 1].qid, qid) == 0)
			return i - 1;
	c->msgs = xreallocarray(c->msgs, c->nmsgs + 1, sizeof(*c->msgs));
	m = &c->msgs[c->nmsgs];
	memset(m, 0, sizeof(*m));
	m->qid = xstrdup(qid);
	m->where = -1;
	m->uid = -1;
	m->first_ms = -1;
	return c->nmsgs++;
}

/* Which message an event or envelope belongs to, and how it matched:
   1 its history (queue id, Message-ID), 2 an address, 0 not at all. */
static int
match_kind(const struct lctx *c, const char *qid, const char *mid,
    const char *sender, const char *rcpt)
{
	if (!c->has_at && strncasecmp(qid, c->arg, strlen(c->arg)) == 0)
		return 1;
	if (c->has_at && mid_matches(mid, c->norm))
		return 1;
	if (c->has_at && ((sender != NULL && str_ieq(sender, c->norm)) ||
	    (rcpt != NULL && str_ieq(rcpt, c->norm))))
		return 2;
	return 0;
}

static int
log_event(void *arg, const struct evlog_event *e)
{
	struct lctx *c = arg;
	struct lmsg *m;
	struct lev *v;
	int k = match_kind(c, e->queue_id, e->message_id, e->sender, e->rcpt);
	size_t mi;

	if (k == 0)
		return 0;
	mi = lmsg_get(c, e->queue_id);	/* may move c->msgs */
	m = &c->msgs[mi];
	m->history |= k == 1;
	m->in_log = true;
	if (m->first_ms < 0)
		m->first_ms = e->time_ms;
	if (m->mid == NULL)
		m->mid = dup_or_null(e->message_id);
	if (m->sender == NULL)
		m->sender = dup_or_null(e->sender);
	if (m->user == NULL)
		m->user = dup_or_null(e->user);
	m->uid = e->uid;
	c->ev = xreallocarray(c->ev, c->nev + 1, sizeof(*c->ev));
	v = &c->ev[c->nev++];
	v->raw = xstrdup(e->raw);
	v->time_ms = e->time_ms;
	v->event = xstrdup(e->event);
	v->rcpt = dup_or_null(e->rcpt);
	v->instance = dup_or_null(e->instance);
	v->relay = dup_or_null(e->relay);
	v->enhanced = dup_or_null(e->enhanced);
	v->text = dup_or_null(e->text);
	v->code = e->code;
	v->attempt = e->attempt;
	v->duration_ms = e->duration_ms;
	v->nrcpt = jsonl_num(&e->obj, "nrcpt", -1);
	v->size = jsonl_num(&e->obj, "size", -1);
	v->msg = (size_t)(m - c->msgs);
	return 0;
}

static const char *
rcpt_state_name(enum rcpt_state s)
{
	return s == RCPT_SENT ? "sent" : s == RCPT_FAILED ? "failed" :
	    "pending";
}

/* The queue: where each matching message is now. */
static void
log_queue(struct lctx *c, const char *queue_dir)
{
	for (size_t s = 0; s < nitems(queue_subs); s++) {
		char **ids;

		if (queue_list(queue_dir, queue_subs[s], &ids) < 0)
			continue;
		for (size_t i = 0; ids[i] != NULL; i++) {
			struct queue_item it;
			struct plume_msg pm;
			struct lmsg *m;
			char err[512];
			size_t mi;
			int k = 0;

			if (!c->has_at && strncasecmp(ids[i], c->arg,
			    strlen(c->arg)) != 0)
				goto next;
			msg_init(&pm);
			if (queue_peek(queue_dir, queue_subs[s], ids[i], &it,
			    err, sizeof(err)) != QUEUE_OK ||
			    queue_load(&it, &pm, err, sizeof(err)) != QUEUE_OK)
				goto skip;
			if (c->uid >= 0 && (long long)pm.uid != c->uid)
				goto skip;
			k = match_kind(c, pm.qid, pm.message_id, pm.sender,
			    NULL);
			for (size_t r = 0; k == 0 && r < pm.nrcpt; r++)
				k = match_kind(c, pm.qid, NULL, NULL,
				    pm.rcpts[r].addr);
			if (k == 0)
				goto skip;
			mi = lmsg_get(c, pm.qid);	/* may move msgs */
			m = &c->msgs[mi];
			m->history |= k == 1;
			m->where = (int)s;
			m->queue_dir = xasprintf("%s/%s", queue_dir,
			    queue_subs[s]);
			m->attempts = pm.attempts;
			m->next_attempt = pm.next_attempt;
			m->arrival = pm.arrival;
			m->last_error = dup_or_null(pm.last_error);
			if (m->mid == NULL)
				m->mid = dup_or_null(pm.message_id);
			if (m->sender == NULL)
				m->sender = xstrdup(pm.sender);
			if (m->user == NULL)
				m->user = dup_or_null(pm.user);
			m->uid = pm.uid;
			if (m->first_ms < 0)
				m->first_ms = (long long)pm.arrival * 1000;
			m->nrcpt = pm.nrcpt;
			m->rcpt_addr = xcalloc(pm.nrcpt + 1, sizeof(char *));
			m->rcpt_state = xcalloc(pm.nrcpt + 1, sizeof(char *));
			for (size_t r = 0; r < pm.nrcpt; r++) {
				m->rcpt_addr[r] = xstrdup(pm.rcpts[r].addr);
				m->rcpt_state[r] = xstrdup(rcpt_state_name(
				    pm.rcpts[r].state));
			}
skip:
			msg_free(&pm);
			queue_close(&it);
next:
			free(ids[i]);
		}
		free(ids);
	}
}

/* Messages are shown oldest first. */
static int
cmp_msg(const void *a, const void *b)
{
	const struct lmsg *x = a, *y = b;

	return x->first_ms < y->first_ms ? -1 : x->first_ms > y->first_ms;
}

static void
local_time(long long ms, char *buf, size_t len, bool millis)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	localtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (millis)
		snprintf(buf + n, len - n, ".%03d", (int)(ms % 1000));
}

/* Where a message finished, from its events: each recipient's last
   outcome. */
static void
final_outcomes(const struct lctx *c, size_t mi, struct buf *b)
{
	bool any = false;

	for (size_t i = 0; i < c->nev; i++) {
		const struct lev *v = &c->ev[i];
		bool later = false;

		if (v->msg != mi || v->rcpt == NULL ||
		    strcmp(v->event, "attempt") == 0)
			continue;
		for (size_t j = i + 1; j < c->nev; j++)
			if (c->ev[j].msg == mi && c->ev[j].rcpt != NULL &&
			    strcmp(c->ev[j].rcpt, v->rcpt) == 0)
				later = true;
		if (later)
			continue;
		buf_printf(b, "%s%s %s", any ? ", " : "", v->event, v->rcpt);
		any = true;
	}
	if (!any)
		buf_adds(b, "no recipient's outcome is in the log");
}

static const char *
state_name(const struct lmsg *m)
{
	return m->where >= 0 ? queue_state_names[m->where] :
	    m->in_log ? "finished" : "unknown";
}

static void
print_history(const struct lctx *c, size_t mi)
{
	const struct lmsg *m = &c->msgs[mi];
	char when[64];
	struct buf b;

	printf("Queue ID:   %s\n", m->qid);
	if (m->mid != NULL)
		printf("Message-ID: %s\n", m->mid);
	if (m->sender != NULL)
		printf("Sender:     <%s>\n", m->sender);
	if (m->uid >= 0)
		printf("Submitter:  %s (uid %lld)\n", m->user ? m->user : "?",
		    m->uid);
	printf("\n");
	for (size_t i = 0; i < c->nev; i++) {
		const struct lev *v = &c->ev[i];

		if (v->msg != mi)
			continue;
		local_time(v->time_ms, when, sizeof(when), true);
		printf("%s  %-9s", when, v->event);
		if (strcmp(v->event, "accepted") == 0)
			printf(" %lld recipient%s, %lld bytes", v->nrcpt,
			    v->nrcpt == 1 ? "" : "s", v->size);
		if (v->attempt > 0 && strcmp(v->event, "accepted") != 0)
			printf(" #%lld", v->attempt);
		if (v->rcpt != NULL)
			printf(" <%s>", v->rcpt);
		if (v->instance != NULL)
			printf(" via %s", v->instance);
		if (v->relay != NULL)
			printf(" [%s]", v->relay);
		if (v->duration_ms >= 0)
			printf(" %lld ms", v->duration_ms);
		printf("\n");
		if (v->code > 0 || v->enhanced != NULL || v->text != NULL) {
			printf("%26s", "");
			if (v->code > 0)
				printf("%lld ", v->code);
			if (v->enhanced != NULL)
				printf("%s ", v->enhanced);
			printf("%s\n", v->text ? v->text : "");
		}
	}
	buf_init(&b);
	if (m->where >= 0) {
		printf("\nNow: %s, in %s; %u attempt%s so far", state_name(m),
		    m->queue_dir, m->attempts, m->attempts == 1 ? "" : "s");
		if (m->where == 0) {
			local_time((long long)m->next_attempt * 1000, when,
			    sizeof(when), false);
			printf(", next attempt %s", when);
		}
		printf("\n");
		for (size_t r = 0; r < m->nrcpt; r++)
			printf("     <%s> %s\n", m->rcpt_addr[r],
			    m->rcpt_state[r]);
		if (m->last_error != NULL)
			printf("     last error: %s\n", m->last_error);
	} else {
		final_outcomes(c, mi, &b);
		printf("\nNow: finished, no longer queued: %s\n",
		    b.len ? b.data : "");
	}
	buf_free(&b);
}

static void
print_brief(const struct lctx *c, size_t mi)
{
	const struct lmsg *m = &c->msgs[mi];
	const struct lev *last = NULL;
	char when[64];

	for (size_t i = 0; i < c->nev; i++)
		if (c->ev[i].msg == mi && strcmp(c->ev[i].event,
		    "attempt") != 0)
			last = &c->ev[i];
	local_time(m->first_ms, when, sizeof(when), false);
	printf("%-18s  %s  <%s>", m->qid, when, m->sender ? m->sender : "");
	if (m->where >= 0)
		printf("  %s", state_name(m));
	else if (last != NULL)
		printf("  %s%s%s", last->event, last->rcpt ? " " : "",
		    last->rcpt ? last->rcpt : "");
	if (last != NULL && (last->code > 0 || last->enhanced != NULL))
		printf(" (%lld %s)", last->code,
		    last->enhanced ? last->enhanced : "");
	printf("\n");
}

static void
json_str_member(FILE *fp, const char *key, const char *v, bool comma)
{
	if (comma)
		putc(',', fp);
	jsonl_put_string(fp, key);
	putc(':', fp);
	if (v != NULL)
		jsonl_put_string(fp, v);
	else
		fputs("null", fp);
}

static void
print_json(const struct lctx *c, char **paths, bool *shown)
{
	char stamp[40];
	bool first = true;

	fputs("{", stdout);
	json_str_member(stdout, "query", c->arg, false);
	fputs(",\"logs\":", stdout);
	if (paths == NULL)
		fputs("null", stdout);
	else {
		putchar('[');
		for (size_t i = 0; paths[i] != NULL; i++) {
			if (i > 0)
				putchar(',');
			jsonl_put_string(stdout, paths[i]);
		}
		putchar(']');
	}
	fputs(",\"events\":[", stdout);
	for (size_t i = 0; i < c->nev; i++) {
		if (!shown[c->ev[i].msg])
			continue;
		printf("%s\n%s", first ? "" : ",", c->ev[i].raw);
		first = false;
	}
	fputs("],\"messages\":[", stdout);
	first = true;
	for (size_t i = 0; i < c->nmsgs; i++) {
		const struct lmsg *m = &c->msgs[i];

		if (!shown[i])
			continue;
		printf("%s\n{", first ? "" : ",");
		first = false;
		json_str_member(stdout, "queue_id", m->qid, false);
		json_str_member(stdout, "message_id", m->mid, true);
		json_str_member(stdout, "sender", m->sender, true);
		json_str_member(stdout, "state", state_name(m), true);
		if (m->where >= 0) {
			json_str_member(stdout, "queue_dir", m->queue_dir,
			    true);
			printf(",\"attempts\":%u", m->attempts);
			evlog_format_stamp((long long)m->next_attempt * 1000,
			    stamp, sizeof(stamp));
			json_str_member(stdout, "next_attempt", stamp, true);
			json_str_member(stdout, "last_error", m->last_error,
			    true);
			fputs(",\"recipients\":[", stdout);
			for (size_t r = 0; r < m->nrcpt; r++) {
				printf("%s{", r ? "," : "");
				json_str_member(stdout, "address",
				    m->rcpt_addr[r], false);
				json_str_member(stdout, "state",
				    m->rcpt_state[r], true);
				putchar('}');
			}
			putchar(']');
		}
		putchar('}');
	}
	fputs("]}\n", stdout);
}

static void
lctx_free(struct lctx *c)
{
	for (size_t i = 0; i < c->nev; i++) {
		struct lev *v = &c->ev[i];

		free(v->raw);
		free(v->event);
		free(v->rcpt);
		free(v->instance);
		free(v->relay);
		free(v->enhanced);
		free(v->text);
	}
	free(c->ev);
	for (size_t i = 0; i < c->nmsgs; i++) {
		struct lmsg *m = &c->msgs[i];

		free(m->qid);
		free(m->mid);
		free(m->sender);
		free(m->user);
		free(m->queue_dir);
		free(m->last_error);
		strv_free(m->rcpt_addr);
		strv_free(m->rcpt_state);
	}
	free(c->msgs);
	free(c->norm);
}

int
logcmd_log(struct runtime *rt, int argc, char **argv, char *err,
    size_t errlen)
{
	struct lctx c;
	struct evlog_filter f;
	struct evlog_counts cnt = { 0, 0, 0 };
	char **paths;
	bool json = false, any_history = false, *shown;
	size_t nshown = 0, len;
	int code = EX_OK;

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (c.arg == NULL && argv[i][0] != '-' && argv[i][0])
			c.arg = argv[i];
		else {
			snprintf(err, errlen, "usage: plume log "
			    "ID|Message-ID|address [--json]");
			return EX_USAGE;
		}
	}
	if (c.arg == NULL) {
		snprintf(err, errlen, "usage: plume log ID|Message-ID|address "
		    "[--json]");
		return EX_USAGE;
	}
	c.has_at = strchr(c.arg, '@') != NULL;
	c.norm = xstrdup(c.arg + (c.arg[0] == '<'));
	len = strlen(c.norm);
	if (len > 0 && c.norm[len - 1] == '>' && c.arg[0] == '<')
		c.norm[len - 1] = '\0';
	c.uid = getuid() == 0 ? -1 : (long long)getuid();

	memset(&f, 0, sizeof(f));
	f.keep_raw = true;
	f.uid = c.uid;
	f.icase = true;
	/* the raw line holds the needle as JSON escapes it: only plain
	   text is a safe pre-test */
	f.needle = strpbrk(c.norm, "\"\\") == NULL ? c.norm : NULL;
	if ((paths = evlog_paths(rt)) == NULL)
		fprintf(stderr, "plume: no logfile instance in the pipeline: "
		    "no delivery history, only the queue\n");
	scan_logs(paths, &f, log_event, &c, &cnt);
	log_queue(&c, rt->queue_dir);

	/* the events are in log order; the messages oldest first */
	shown = xcalloc(c.nmsgs + 1, sizeof(*shown));
	for (size_t i = 0; i < c.nmsgs; i++)
		any_history |= c.msgs[i].history;
	for (size_t i = 0; i < c.nmsgs; i++)
		if ((shown[i] = !any_history || c.msgs[i].history))
			nshown++;
	if (nshown == 0) {
		snprintf(err, errlen, "no message matches %s%s", c.arg,
		    paths == NULL ? " in the queue (no delivery log is "
		    "configured)" : "");
		code = EX_NOINPUT;
	} else if (json)
		print_json(&c, paths, shown);
	else {
		size_t *order = xcalloc(c.nmsgs, sizeof(*order));
		size_t k = 0;

		for (size_t i = 0; i < c.nmsgs; i++)
			if (shown[i])
				order[k++] = i;
		for (size_t i = 1; i < k; i++)	/* insertion sort, by time */
			for (size_t j = i; j > 0 && cmp_msg(&c.msgs[order[j - 1]],
			    &c.msgs[order[j]]) > 0; j--) {
				size_t t = order[j];

				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		for (size_t i = 0; i < k; i++) {
			if (any_history) {
				if (i > 0)
					printf("\n");
				print_history(&c, order[i]);
			} else
				print_brief(&c, order[i]);
		}
		if (!any_history)
			printf("%zu message%s; plume log QUEUE-ID shows one "
			    "whole\n", k, k == 1 ? "" : "s");
		free(order);
	}
	free(shown);
	strv_free(paths);
	lctx_free(&c);
	return code;
}

/* ---- plume stats ----------------------------------------------------- */

enum { ST_SENT, ST_DEFERRED, ST_BOUNCED, ST_FAILED, ST_THROTTLED,
    ST_ACCEPTED, ST_ATTEMPT, ST_N };
static const char *const st_names[ST_N] = { "sent", "deferred", "bounced",
    "failed", "throttled", "accepted", "attempts" };
static const char *const st_events[ST_N] = { "delivered", "deferred",
    "bounced", "failed", "throttled", "accepted", "attempt" };

/* A string-keyed table (open addressing, FNV-1a): group rows, failure
   reasons, relays, and queue id -> acceptance time.  The values are
   the caller's, by index into parallel arrays. */
struct smap {
	char	**keys;
	size_t	*idx;
	size_t	 cap, n;
};

static size_t
smap_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The index of key, added (as n, the next one) if new: *added says. */
static size_t
smap_get(struct smap *m, const char *key, bool *added)
{
	size_t h, i;

	if (m->n * 2 >= m->cap) {
		struct smap g = { NULL, NULL, m->cap ? m->cap * 2 : 64, 0 };

		g.keys = xcalloc(g.cap, sizeof(*g.keys));
		g.idx = xcalloc(g.cap, sizeof(*g.idx));
		for (size_t k = 0; k < m->cap; k++) {
			if (m->keys[k] == NULL)
				continue;
			for (i = smap_hash(m->keys[k]) & (g.cap - 1);
			    g.keys[i] != NULL; i = (i + 1) & (g.cap - 1))
				;
			g.keys[i] = m->keys[k];
			g.idx[i] = m->idx[k];
		}
		g.n = m->n;
		free(m->keys);
		free(m->idx);
		*m = g;
	}
	h = smap_hash(key);
	for (i = h & (m->cap - 1); m->keys[i] != NULL; i = (i + 1) &
	    (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0) {
			*added = false;
			return m->idx[i];
		}
	m->keys[i] = xstrdup(key);
	m->idx[i] = m->n;
	*added = true;
	return m->n++;
}

/* -1 when absent, without adding it. */
static long long
smap_find(const struct smap *m, const char *key)
{
	if (m->cap == 0)
		return -1;
	for (size_t i = smap_hash(key) & (m->cap - 1); m->keys[i] != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0)
			return (long long)m->idx[i];
	return -1;
}

/* The key of index i (linear: for printing only). */
static const char *
smap_key(const struct smap *m, size_t idx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != NULL && m->idx[i] == idx)
			return m->keys[i];
	return "";
}

static void
smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->idx);
}

struct vec {
	long long *v;
	size_t	 n, cap;
};

static void
vec_add(struct vec *v, long long x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = x;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted vector. */
static long long
pct(const struct vec *v, int p)
{
	size_t r = (v->n * (size_t)p + 99) / 100;

	return v->n == 0 ? 0 : v->v[r > 0 ? r - 1 : 0];
}

struct row {
	size_t	 c[ST_N];
};

struct relay {
	struct vec dur;
	char	*label;		/* the last relay the notes named */
};

struct sctx {
	char	 by;		/* d(ay), o (domain), r(elay), s(tatus), 0 */
	size_t	 total[ST_N];
	struct smap rows_m;
	struct row *rows;
	struct smap reasons_m;
	size_t	*reasons;
	struct smap relays_m;
	struct relay *relays;
	struct smap accepted_m;
	struct vec accepted_ms;
	struct vec latency;	/* accepted -> delivered */
	long long first_ms, last_ms;
};

static int
st_index(const char *event)
{
	for (int i = 0; i < ST_N; i++)
		if (strcmp(event, st_events[i]) == 0)
			return i;
	return -1;
}

/* "5.1.1 user unknown in virtual" : the enhanced code, then the
   reply's first five words with <addresses> and digits left out, so
   one reason for many recipients counts once.  A text that quotes the
   server's reply after plume's own words ("127.0.0.1:587 refused AUTH
   PLAIN as a@b: 535 5.7.8 Authentication failed") is taken from the
   server's words on. */
static void
reason_of(const struct evlog_event *e, char *buf, size_t len)
{
	const char *t = e->text ? e->text : "", *q;
	size_t n = 0;
	int words = 0;

	if (e->enhanced != NULL && (q = strstr(t, e->enhanced)) != NULL &&
	    q > t && q[-1] == ' ') {
		const char *last = q;

		while ((q = strstr(last + 1, e->enhanced)) != NULL)
			last = q;
		t = last + strlen(e->enhanced);
	}
	if (e->enhanced != NULL)
		n = (size_t)snprintf(buf, len, "%s", e->enhanced);
	else if (e->code > 0)
		n = (size_t)snprintf(buf, len, "%lld", e->code);
	else
		n = (size_t)snprintf(buf, len, "-");
	/* a reply often repeats its codes: "550 5.1.1 <x>: ..." */
	while (*t != '\0' && words < 5 && n + 2 < len) {
		const char *w;
		size_t wl;
		bool keep = true;

		while (*t == ' ' || *t == ':' || *t == ',' || *t == ';')
			t++;
		w = t;
		while (*t != '\0' && *t != ' ')
			t++;
		wl = (size_t)(t - w);
		if (wl == 0)
			break;
		if (w[0] == '<' || strchr("0123456789", w[0]) != NULL ||
		    memchr(w, '@', wl) != NULL)
			keep = false;
		if (!keep)
			continue;
		if (wl > len - n - 2)
			wl = len - n - 2;
		buf[n++] = ' ';
		memcpy(buf + n, w, wl);
		n += wl;
		buf[n] = '\0';
		words++;
	}
	while (n > 0 && (buf[n - 1] == ':' || buf[n - 1] == ',' ||
	    buf[n - 1] == '.'))
		buf[--n] = '\0';
}

static int
stats_event(void *arg, const struct evlog_event *e)
{
	struct sctx *s = arg;
	int k = st_index(e->event);
	char key[256];
	bool added;
	size_t i;

	if (k < 0)
		return 0;
	s->total[k]++;
	if (s->first_ms < 0 || e->time_ms < s->first_ms)
		s->first_ms = e->time_ms;
	if (e->time_ms > s->last_ms)
		s->last_ms = e->time_ms;
	if (k == ST_ACCEPTED) {
		i = smap_get(&s->accepted_m, e->queue_id, &added);
		if (added)
			vec_add(&s->accepted_ms, e->time_ms);
	}
	if (k == ST_SENT) {
		long long a = smap_find(&s->accepted_m, e->queue_id);

		if (a >= 0)
			vec_add(&s->latency, e->time_ms -
			    s->accepted_ms.v[a]);
	}
	if ((k == ST_SENT || k == ST_DEFERRED) && e->instance != NULL) {
		i = smap_get(&s->relays_m, e->instance, &added);
		if (added) {
			s->relays = xreallocarray(s->relays, s->relays_m.n,
			    sizeof(*s->relays));
			memset(&s->relays[i], 0, sizeof(s->relays[i]));
		}
		if (k == ST_SENT && e->duration_ms >= 0)
			vec_add(&s->relays[i].dur, e->duration_ms);
		if (e->relay != NULL && (s->relays[i].label == NULL ||
		    strcmp(s->relays[i].label, e->relay) != 0)) {
			free(s->relays[i].label);
			s->relays[i].label = xstrdup(e->relay);
		}
	}
	if (k == ST_DEFERRED || k == ST_BOUNCED || k == ST_FAILED ||
	    k == ST_THROTTLED) {
		reason_of(e, key, sizeof(key));
		i = smap_get(&s->reasons_m, key, &added);
		if (added) {
			s->reasons = xreallocarray(s->reasons,
			    s->reasons_m.n, sizeof(*s->reasons));
			s->reasons[i] = 0;
		}
		s->reasons[i]++;
	}
	key[0] = '\0';
	switch (s->by) {
	case 'd':
		snprintf(key, sizeof(key), "%.10s", e->stamp);
		break;
	case 'o':
		if (e->rcpt != NULL && strrchr(e->rcpt, '@') != NULL) {
			snprintf(key, sizeof(key), "%s",
			    strrchr(e->rcpt, '@') + 1);
			for (char *p = key; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		}
		break;
	case 'r':
		if (e->instance != NULL)
			snprintf(key, sizeof(key), "%s", e->instance);
		break;
	case 's':
		if (k < ST_ACCEPTED) {
			if (e->enhanced != NULL)
				snprintf(key, sizeof(key), "%s", e->enhanced);
			else if (e->code > 0)
				snprintf(key, sizeof(key), "%lld", e->code);
			else
				snprintf(key, sizeof(key), "-");
		}
		break;
	}
	if (key[0] != '\0') {
		i = smap_get(&s->rows_m, key, &added);
		if (added) {
			s->rows = xreallocarray(s->rows, s->rows_m.n,
			    sizeof(*s->rows));
			memset(&s->rows[i], 0, sizeof(s->rows[i]));
		}
		s->rows[i].c[k]++;
	}
	return 0;
}

static const struct sctx *sort_ctx;

static int
cmp_reason(const void *a, const void *b)
{
	size_t x = sort_ctx->reasons[*(const size_t *)a];
	size_t y = sort_ctx->reasons[*(const size_t *)b];

	return x > y ? -1 : x < y;
}

struct keyed {
	const char *key;
	size_t	 i;
};

static int
cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key,
	    ((const struct keyed *)b)->key);
}

/* Index order of a table's keys: sorted by name (days in order). */
static struct keyed *
sorted_keys(const struct smap *m)
{
	struct keyed *v = xcalloc(m->n + 1, sizeof(*v));

	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] != NULL) {
			v[m->idx[i]].key = m->keys[i];
			v[m->idx[i]].i = m->idx[i];
		}
	qsort(v, m->n, sizeof(*v), cmp_keyed);
	return v;
}

#define TOP_REASONS	10
#define BAR_WIDTH	40

static const char *const by_names[] = { "day", "domain", "relay",
    "status" };

static const char *
by_name(char by)
{
	return by == 'd' ? by_names[0] : by == 'o' ? by_names[1] :
	    by == 'r' ? by_names[2] : by_names[3];
}

static void
stats_text(const struct sctx *s, const char *since, bool tty)
{
	static const char marks[] = "#~!x=";
	char a[40], b[40];
	size_t *order, nr = s->reasons_m.n;

	if (s->first_ms >= 0) {
		local_time(s->first_ms, a, sizeof(a), false);
		local_time(s->last_ms, b, sizeof(b), false);
		printf("Events from %s to %s%s%s\n\n", a, b,
		    since ? ", since " : "", since ? since : "");
	} else
		printf("No events%s%s\n\n", since ? " since " : "",
		    since ? since : "");
	for (int k = 0; k < ST_N; k++)
		printf("%-10s %10zu\n", st_names[k], s->total[k]);
	if (s->by != 0) {
		struct keyed *v = sorted_keys(&s->rows_m);
		size_t max = 1;

		for (size_t i = 0; i < s->rows_m.n; i++) {
			size_t t = 0;

			for (int k = 0; k < ST_ACCEPTED; k++)
				t += s->rows[i].c[k];
			if (t > max)
				max = t;
		}
		printf("\nBy %s:\n%-32s", by_name(s->by), "");
		for (int k = 0; k < ST_ACCEPTED; k++)
			printf(" %9s", st_names[k]);
		printf("\n");
		for (size_t i = 0; i < s->rows_m.n; i++) {
			const struct row *r = &s->rows[v[i].i];

			printf("%-32.32s", v[i].key);
			for (int k = 0; k < ST_ACCEPTED; k++)
				printf(" %9zu", r->c[k]);
			if (tty) {
				printf("  ");
				for (int k = 0; k < ST_ACCEPTED; k++)
					for (size_t n = r->c[k] * BAR_WIDTH /
					    max; n > 0; n--)
						putchar(marks[k]);
			}
			printf("\n");
		}
		if (tty)
			printf("%32s (# sent, ~ deferred, ! bounced, x "
			    "failed, = throttled)\n", "");
		free(v);
	}
	if (nr > 0) {
		order = xcalloc(nr, sizeof(*order));
		for (size_t i = 0; i < nr; i++)
			order[i] = i;
		sort_ctx = s;
		qsort(order, nr, sizeof(*order), cmp_reason);
		printf("\nTop failure reasons:\n");
		for (size_t i = 0; i < nr && i < TOP_REASONS; i++)
			printf("%10zu  %s\n", s->reasons[order[i]],
			    smap_key(&s->reasons_m, order[i]));
		free(order);
	}
	if (s->relays_m.n > 0) {
		struct keyed *v = sorted_keys(&s->relays_m);
		char **labels = xcalloc(s->relays_m.n, sizeof(*labels));
		int w = 32;

		/* the column as wide as its longest label: a relay's name
		   is never cut */
		for (size_t i = 0; i < s->relays_m.n; i++) {
			const struct relay *r = &s->relays[v[i].i];

			labels[i] = xasprintf("%s%s%s%s", v[i].key,
			    r->label ? " (" : "", r->label ? r->label : "",
			    r->label ? ")" : "");
			if (strlen(labels[i]) > (size_t)w)
				w = (int)strlen(labels[i]);
		}
		printf("\nDelivery time per relay (ms):\n%-*s %9s %9s %9s "
		    "%9s\n", w, "", "delivered", "p50", "p90", "p99");
		for (size_t i = 0; i < s->relays_m.n; i++) {
			const struct relay *r = &s->relays[v[i].i];

			printf("%-*s %9zu %9lld %9lld %9lld\n", w, labels[i],
			    r->dur.n, pct(&r->dur, 50), pct(&r->dur, 90),
			    pct(&r->dur, 99));
			free(labels[i]);
		}
		free(labels);
		free(v);
	}
	if (s->latency.n > 0)
		printf("\nAccepted to delivered (ms): %zu messages, p50 %lld, "
		    "p90 %lld, p99 %lld\n", s->latency.n, pct(&s->latency, 50),
		    pct(&s->latency, 90), pct(&s->latency, 99));
}

static void
json_pcts(const struct vec *v)
{
	printf("\"count\":%zu,\"p50\":%lld,\"p90\":%lld,\"p99\":%lld", v->n,
	    pct(v, 50), pct(v, 90), pct(v, 99));
}

static void
stats_json(const struct sctx *s, const char *since,
    const struct evlog_counts *cnt)
{
	char a[40];
	size_t *order, nr = s->reasons_m.n;

	printf("{");
	json_str_member(stdout, "since", since, false);
	if (s->first_ms >= 0) {
		evlog_format_stamp(s->first_ms, a, sizeof(a));
		json_str_member(stdout, "first", a, true);
		evlog_format_stamp(s->last_ms, a, sizeof(a));
		json_str_member(stdout, "last", a, true);
	}
	printf(",\"lines\":%zu,\"unreadable\":%zu,\"counts\":{", cnt->lines,
	    cnt->bad);
	for (int k = 0; k < ST_N; k++)
		printf("%s\"%s\":%zu", k ? "," : "", st_names[k], s->total[k]);
	printf("}");
	if (s->by != 0) {
		struct keyed *v = sorted_keys(&s->rows_m);

		json_str_member(stdout, "by", by_name(s->by), true);
		printf(",\"rows\":[");
		for (size_t i = 0; i < s->rows_m.n; i++) {
			printf("%s{", i ? "," : "");
			json_str_member(stdout, "key", v[i].key, false);
			for (int k = 0; k < ST_ACCEPTED; k++)
				printf(",\"%s\":%zu", st_names[k],
				    s->rows[v[i].i].c[k]);
			printf("}");
		}
		printf("]");
		free(v);
	}
	order = xcalloc(nr + 1, sizeof(*order));
	for (size_t i = 0; i < nr; i++)
		order[i] = i;
	sort_ctx = s;
	qsort(order, nr, sizeof(*order), cmp_reason);
	printf(",\"reasons\":[");
	for (size_t i = 0; i < nr && i < TOP_REASONS; i++) {
		printf("%s{", i ? "," : "");
		json_str_member(stdout, "reason", smap_key(&s->reasons_m,
		    order[i]), false);
		printf(",\"count\":%zu}", s->reasons[order[i]]);
	}
	free(order);
	printf("],\"relays\":[");
	{
		struct keyed *v = sorted_keys(&s->relays_m);

		for (size_t i = 0; i < s->relays_m.n; i++) {
			const struct relay *r = &s->relays[v[i].i];

			printf("%s{", i ? "," : "");
			json_str_member(stdout, "instance", v[i].key, false);
			json_str_member(stdout, "relay", r->label, true);
			printf(",");
			json_pcts(&r->dur);
			printf("}");
		}
		free(v);
	}
	printf("],\"accepted_to_delivered\":{");
	json_pcts(&s->latency);
	printf("}}\n");
}

int
logcmd_stats(struct runtime *rt, int argc, char **argv, char *err,
    size_t errlen)
{
	struct sctx s;
	struct evlog_filter f;
	struct evlog_counts cnt = { 0, 0, 0 };
	char **paths, since[40];
	bool json = false;
	const char *since_arg = NULL;
	int code = EX_OK;

	memset(&s, 0, sizeof(s));
	memset(&f, 0, sizeof(f));
	s.first_ms = -1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			long long d;
			struct timeval tv;

			since_arg = argv[++i];
			if (conf_parse_duration(since_arg, &d) == -1 ||
			    d <= 0) {
				snprintf(err, errlen, "--since %s: expected a "
				    "duration such as 24h or 7d", since_arg);
				return EX_USAGE;
			}
			gettimeofday(&tv, NULL);
			evlog_format_stamp(((long long)tv.tv_sec - d) * 1000 +
			    tv.tv_usec / 1000, since, sizeof(since));
			f.since = since;
		} else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
			const char *b = argv[++i];

			s.by = strcmp(b, "day") == 0 ? 'd' :
			    strcmp(b, "domain") == 0 ? 'o' :
			    strcmp(b, "relay") == 0 ? 'r' :
			    strcmp(b, "status") == 0 ? 's' : 0;
			if (s.by == 0) {
				snprintf(err, errlen, "--by %s: expected day, "
				    "domain, relay or status", b);
				return EX_USAGE;
			}
		} else {
			snprintf(err, errlen, "usage: plume stats [--since "
			    "DURATION] [--by day|domain|relay|status] "
			    "[--json]");
			return EX_USAGE;
		}
	}
	if ((paths = evlog_paths(rt)) == NULL) {
		snprintf(err, errlen, "no logfile instance in the pipeline: "
		    "there is no delivery log to count");
		return EX_NOINPUT;
	}
	f.uid = getuid() == 0 ? -1 : (long long)getuid();
	scan_logs(paths, &f, stats_event, &s, &cnt);
	if (s.latency.n > 0)
		qsort(s.latency.v, s.latency.n, sizeof(long long), cmp_ll);
	for (size_t i = 0; i < s.relays_m.n; i++)
		if (s.relays[i].dur.n > 0)
			qsort(s.relays[i].dur.v, s.relays[i].dur.n,
			    sizeof(long long), cmp_ll);
	if (json)
		stats_json(&s, f.since, &cnt);
	else
		stats_text(&s, since_arg, isatty(STDOUT_FILENO));
	for (size_t i = 0; i < s.relays_m.n; i++) {
		free(s.relays[i].dur.v);
		free(s.relays[i].label);
	}
	free(s.relays);
	free(s.rows);
	free(s.reasons);
	free(s.accepted_ms.v);
	free(s.latency.v);
	smap_free(&s.rows_m);
	smap_free(&s.reasons_m);
	smap_free(&s.relays_m);
	smap_free(&s.accepted_m);
	strv_free(paths);
	return code;
}
