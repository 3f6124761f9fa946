/*
 * NAME
 *	ratelimit - policy plugin: rate limits with exact bursts (GCRA),
 *	shared by every plume process on the host
 * SYNOPSIS
 *	pipeline = ratelimit:www, ratelimit:provider, smtp
 *	[ratelimit "provider"]
 *	messages = 100/hour		# N/second|minute|hour|day
 *	recipients = 500/day
 *	burst = 10			# default: the count itself
 *	scope = global		# |sender|from_domain|recipient_domain|user|route
 *	action = defer			# |wait|reject
 *	wait_max = 30s			# action = wait: the longest wait
 *
 *	plume ratelimit show
 * DESCRIPTION
 *	Each instance keeps one table of keys (the scope's value: nothing
 *	for global, the envelope sender, the From domain, each
 *	recipient's domain, the submitting user, the route: the transport
 *	the message's copy takes) with one GCRA
 *	theoretical arrival time per key and per limit; gcra.c explains
 *	the arithmetic.  "messages" costs 1 per message and key;
 *	"recipients" costs 1 per recipient and lets through as many of a
 *	message's recipients as fit, deferring the others.  A message is
 *	counted when its policy check passes, at submission or at the
 *	queue run's attempt: the runner applies the same limits, so
 *	flushing a large queue never exceeds them.
 *
 *	Over the limit, action = defer (the default) gives the recipients
 *	a temporary verdict (451 4.7.0) whose retry_after is the moment
 *	the limit allows the next one: the message is queued (exit 0) and
 *	its next attempt is then.  action = wait sleeps until then when
 *	that is within wait_max (and within submit_timeout at submission),
 *	then defers what still does not fit.  action = reject refuses the
 *	whole message for now (host->msg_refuse: exit 75, 451 in -bs) and
 *	counts nothing.
 *
 *	State file: STATE_DIR/INSTANCE.tat (state_dir is queue_dir/state/
 *	ratelimit/), a 64-byte header ("PLUMERL1", version, slot count,
 *	slot size) and max_keys slots of 128 bytes { FNV-1a hash of the
 *	key, TAT in microseconds since the epoch, the key's first 111
 *	bytes }, in host byte order.  Every check maps it and works on it
 *	under flock(LOCK_EX); the lock is polled (1 to 16 ms apart, with
 *	jitter) and never waited for longer than lock_timeout.  When the
 *	lock cannot be had, or the file cannot be used, the recipients
 *	are deferred (never sent over a limit, never lost) and the reason
 *	is logged.  A slot whose TAT is in the past is free: such a key
 *	behaves exactly as a new one, so reusing the slot loses nothing.
 *	When every slot holds a live key, the one closest to expiry is
 *	reused and a warning suggests a larger max_keys.  The file is not
 *	fsynced: it survives restarts and crashes of plume, and a power
 *	loss forgets at most the last updates.
 *
 *	backend = redis runs the same arithmetic in Redis (one Lua script
 *	per pass, atomic across hosts), falling back to the local file with
 *	a warning when Redis cannot answer or refuses redis_password_file's
 *	password (AUTH, with redis_user for an ACL user).
 *
 *	plume doctor (policy->probe(), ABI 1.9) reports each instance's
 *	limits and a warning for each key at its limit with the time the
 *	next may go; "plume ratelimit show" lists every live key.  Both read
 *	the table the same way (rl_walk(), a shared lock, nothing changed).
 *
 *	Time is host->now() (seconds), refined to microseconds with
 *	CLOCK_REALTIME when both agree on the second, so a faked clock
 *	(libfaketime) drives the limits.
 * DIAGNOSTICS
 *	init() refuses a section with neither messages nor recipients, or
 *	with a malformed rate.  Lock timeouts and file errors are logged
 *	as warnings and errors; each throttled recipient gets a THROTTLED
 *	event (from plume) and a 451 4.7.0 reply naming the limit.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <plume/plugin.h>

#ifdef RL_REDIS
#include <hiredis/hiredis.h>
#endif

#include "gcra.h"
#include "secret.h"

#define RL_MAGIC	"PLUMERL1"
#define RL_VERSION	1u
#define RL_HEAD_SIZE	64u
#define RL_KEY_MAX	112u	/* bytes kept of a key, NUL included */

struct rl_head {
	char	 magic[8];
	uint32_t version;
	uint32_t nslots;
	uint32_t slot_size;
	char	 reserved[RL_HEAD_SIZE - 20];
};

struct rl_slot {
	uint64_t hash;		/* FNV-1a 64 of the whole key; 0: free */
	int64_t	 tat_us;
	char	 key[RL_KEY_MAX];
};

enum rl_scope { SC_GLOBAL, SC_SENDER, SC_FROM_DOMAIN, SC_RCPT_DOMAIN,
    SC_USER, SC_ROUTE };
enum rl_action { ACT_DEFER, ACT_WAIT, ACT_REJECT };

struct rl_limit {
	bool	 on;
	char	 tag;		/* 'm' messages, 'r' recipients */
	const char *text;	/* "100/hour" as written */
	struct gcra_limit g;
};

struct rl {
	const struct plume_host *host;
	struct plume_inst *inst;
	struct rl_limit msgs, rcpts;
	enum rl_scope scope;
	enum rl_action action;
	int64_t	 wait_max_ms;
	int64_t	 lock_timeout_ms;
	uint32_t max_keys;
	char	*path;		/* the state file, once known */
	const char *redis_addr;	/* backend = redis: "host:port" or a socket */
	const char *redis_pw_file;	/* AUTH's password, or NULL */
	const char *redis_user;		/* AUTH's user, or NULL */
#ifdef RL_REDIS
	redisContext *redis;	/* kept open for a queue run */
	bool	 redis_warned;	/* the fall-back was logged */
#endif
	/* the mapped table while the lock is held */
	int	 fd;
	struct rl_slot *slots;
	void	*map;
	size_t	 maplen;
	uint32_t nslots;
};

static const char *const scope_names[] = { "global", "sender",
    "from_domain", "recipient_domain", "user", "route" };

static const struct plume_conf_key rl_keys[] = {
	{ "messages", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "messages allowed per period per key: N/second|minute|hour|day" },
	{ "recipients", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "recipients allowed per period per key: N/second|minute|hour|day" },
	{ "burst", PLUME_CONF_INT, 0, "0", NULL, 0, 1000000,
	    "most let through at once by each limit (0: the count itself)" },
	{ "scope", PLUME_CONF_ENUM, 0, "global",
	    "global|sender|from_domain|recipient_domain|user|route", 0, 0,
	    "what a limit counts separately" },
	{ "action", PLUME_CONF_ENUM, 0, "defer", "defer|wait|reject", 0, 0,
	    "over the limit: queue until allowed, wait, or refuse (exit 75)" },
	{ "wait_max", PLUME_CONF_DURATION, 0, "30s", NULL, 0, 3600,
	    "action = wait: longest wait before deferring" },
	{ "max_keys", PLUME_CONF_INT, 0, "1024", NULL, 16, 1000000,
	    "keys the state file holds (128 bytes each)" },
	{ "lock_timeout", PLUME_CONF_DURATION, 0, "2s", NULL, 1, 60,
	    "longest wait for the state file's lock (or Redis); then defer" },
	{ "backend", PLUME_CONF_ENUM, 0, "local", "local|redis", 0, 0,
	    "where the counts live: this host's state file, or Redis "
	    "shared by several hosts" },
	{ "redis", PLUME_CONF_STRING, 0, "127.0.0.1:6379", NULL, 0, 0,
	    "backend = redis: HOST:PORT, [IPV6]:PORT or a socket's path" },
	{ "redis_password_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "backend = redis: a file (0600) whose first line is the password "
	    "for AUTH" },
	{ "redis_user", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "backend = redis: the ACL user to AUTH as (Redis 6; default: "
	    "the default user)" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;	/* 0 marks a free slot */
}

/* Wall time in microseconds: host->now(), refined by CLOCK_REALTIME. */
static int64_t
rl_now_us(const struct rl *rl)
{
	time_t s = rl->host->now();
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec == s)
		return (int64_t)s * 1000000 + ts.tv_nsec / 1000;
	return (int64_t)s * 1000000;
}

static int
limit_conf(struct rl *rl, struct rl_limit *l, const char *key, char tag,
    uint64_t burst, const char **error_r)
{
	static char err[256];
	uint64_t count;
	int64_t period;
	const char *why;

	l->tag = tag;
	l->text = rl->host->conf_string(rl->inst, key);
	if (l->text == NULL)
		return 0;
	if (gcra_parse_rate(l->text, &count, &period, &why) == -1)
		goto bad;
	if (gcra_limit_set(&l->g, count, period, burst) == -1) {
		why = "the burst (by default the count) must be at most "
		    "1000000: set burst";
		goto bad;
	}
	l->on = true;
	return 0;
bad:
	snprintf(err, sizeof(err), "%s = %s: %s", key, l->text, why);
	*error_r = err;
	return -1;
}

static int
rl_init(const struct plume_host *host, struct plume_inst *inst,
    void **state_r, const char **error_r)
{
	struct rl *rl = calloc(1, sizeof(*rl));
	const char *s;
	uint64_t burst;

	if (rl == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	rl->host = host;
	rl->inst = inst;
	rl->fd = -1;
	burst = (uint64_t)host->conf_number(inst, "burst", 0);
	if (limit_conf(rl, &rl->msgs, "messages", 'm', burst, error_r) ||
	    limit_conf(rl, &rl->rcpts, "recipients", 'r', burst, error_r))
		goto fail;
	if (!rl->msgs.on && !rl->rcpts.on) {
		*error_r = "set messages = N/UNIT or recipients = N/UNIT "
		    "(UNIT: second, minute, hour or day)";
		goto fail;
	}
	s = host->conf_string(inst, "scope");
	for (size_t i = 0; s != NULL &&
	    i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (strcmp(s, scope_names[i]) == 0)
			rl->scope = (enum rl_scope)i;
	s = host->conf_string(inst, "action");
	rl->action = s == NULL || strcmp(s, "defer") == 0 ? ACT_DEFER :
	    strcmp(s, "wait") == 0 ? ACT_WAIT : ACT_REJECT;
	if (rl->action == ACT_REJECT && !PLUME_HOST_HAS(host, msg_refuse)) {
		*error_r = "action = reject needs plume's ABI 1.5 (msg_refuse)";
		goto fail;
	}
	rl->wait_max_ms = host->conf_number(inst, "wait_max", 30) * 1000;
	rl->lock_timeout_ms = host->conf_number(inst, "lock_timeout", 2) *
	    1000;
	rl->max_keys = (uint32_t)host->conf_number(inst, "max_keys", 1024);
	s = host->conf_string(inst, "backend");
	if (s != NULL && strcmp(s, "redis") == 0) {
#ifdef RL_REDIS
		rl->redis_addr = host->conf_string(inst, "redis");
		rl->redis_pw_file = host->conf_string(inst,
		    "redis_password_file");
		rl->redis_user = host->conf_string(inst, "redis_user");
#else
		*error_r = "backend = redis: this ratelimit plugin was built "
		    "without hiredis (install libhiredis-dev and rebuild), "
		    "or set backend = local";
		goto fail;
#endif
	}
	*state_r = rl;
	return 0;
fail:
	free(rl);
	return -1;
}

static void
rl_shutdown(void *state)
{
	struct rl *rl = state;

#ifdef RL_REDIS
	if (rl->redis != NULL)
		redisFree(rl->redis);
#endif
	free(rl->path);
	free(rl);
}

/* STATE_DIR/NAME.tat, NAME being the instance's name ("default"). */
static const char *
rl_path(struct rl *rl)
{
	const char *dir, *name;
	size_t n;

	if (rl->path != NULL)
		return rl->path;
	if ((dir = rl->host->state_dir(rl->inst)) == NULL)
		return NULL;
	name = rl->host->instance_name(rl->inst);
	if (name == NULL || *name == '\0')
		name = "default";
	n = strlen(dir) + strlen(name) + sizeof("/.tat");
	if ((rl->path = malloc(n)) == NULL)
		return NULL;
	snprintf(rl->path, n, "%s/%s.tat", dir, name);
	/* an instance name is free text: keep the file name tame */
	for (char *p = rl->path + strlen(dir) + 1; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_')
			*p = '_';
	return rl->path;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Takes the lock, polling: a blocking flock could wait forever behind a
 * stuck process.  The time waited is the sum of the sleeps, not a clock
 * reading, so a frozen fake clock cannot make it endless.
 */
static int
lock_bounded(int fd, int how, int64_t timeout_ms)
{
	int64_t waited = 0, step = 1;

	for (;;) {
		if (flock(fd, how | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (waited >= timeout_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_ms(step);
		waited += step;
		/* 1, 2, 4 ... 16 ms, with a little jitter so that 200
		   waiting processes do not all wake at once */
		step = step < 16 ? step * 2 : 12 + (getpid() + waited) % 8;
	}
}

/* A table of this version whose slots all lie inside the file. */
static bool
head_ok(const struct rl_head *h, size_t len)
{
	return memcmp(h->magic, RL_MAGIC, 8) == 0 &&
	    h->version == RL_VERSION &&
	    h->slot_size == sizeof(struct rl_slot) &&
	    RL_HEAD_SIZE + (size_t)h->nslots * sizeof(struct rl_slot) <= len;
}

static void
rl_close(struct rl *rl)
{
	if (rl->map != NULL)
		munmap(rl->map, rl->maplen);
	rl->map = NULL;
	rl->slots = NULL;
	if (rl->fd != -1)
		close(rl->fd);	/* releases the lock */
	rl->fd = -1;
}

/*
 * Opens, locks and maps the table; makes it when it is new or not ours,
 * and resizes it (keeping the live keys) when max_keys changed.
 * writable = false (plume ratelimit show) takes a shared lock and never
 * changes the file.  -1 with errno (ETIMEDOUT: the lock) on failure.
 */
static int
rl_open(struct rl *rl, bool writable, int64_t now)
{
	const char *path = rl_path(rl);
	struct stat st;
	struct rl_head *h;
	size_t want = RL_HEAD_SIZE + (size_t)rl->max_keys *
	    sizeof(struct rl_slot);
	int saved;

	if (path == NULL) {
		errno = ENOENT;
		return -1;
	}
	rl->fd = open(path, (writable ? O_RDWR | O_CREAT : O_RDONLY) |
	    O_CLOEXEC | O_NOFOLLOW, 0660);
	if (rl->fd == -1)
		return -1;
	if (lock_bounded(rl->fd, writable ? LOCK_EX : LOCK_SH,
	    rl->lock_timeout_ms) == -1 || fstat(rl->fd, &st) == -1)
		goto fail;
	/* a set-group-id install shares the file through the group, which
	   the umask (077) took from a new file's mode */
	if (writable && st.st_uid == geteuid() && (st.st_mode & 0660) != 0660)
		(void)fchmod(rl->fd, 0660);
	if ((size_t)st.st_size >= RL_HEAD_SIZE) {
		rl->maplen = (size_t)st.st_size;
		rl->map = mmap(NULL, rl->maplen, PROT_READ | (writable ?
		    PROT_WRITE : 0), MAP_SHARED, rl->fd, 0);
		if (rl->map == MAP_FAILED) {
			rl->map = NULL;
			goto fail;
		}
		h = rl->map;
		if (head_ok(h, rl->maplen) && (h->nslots == rl->max_keys ||
		    !writable)) {
			rl->nslots = h->nslots;
			rl->slots = (struct rl_slot *)((char *)rl->map +
			    RL_HEAD_SIZE);
			return 0;
		}
	}
	if (!writable) {
		errno = EINVAL;
		goto fail;
	}
	{
		/* new, foreign or resized: rebuild, keeping live keys */
		struct rl_slot *keep = NULL;
		size_t nkeep = 0;
		struct rl_head nh;

		if (rl->map != NULL) {
			h = rl->map;
			if (head_ok(h, rl->maplen)) {
				struct rl_slot *old = (struct rl_slot *)
				    ((char *)rl->map + RL_HEAD_SIZE);

				keep = calloc(h->nslots ? h->nslots : 1,
				    sizeof(*keep));
				for (uint32_t i = 0; keep != NULL &&
				    i < h->nslots; i++)
					if (old[i].hash != 0 &&
					    old[i].tat_us > now)
						keep[nkeep++] = old[i];
			} else
				rl->host->log(rl->inst, PLUME_LOG_WARNING,
				    "%s: not a rate-limit table of this "
				    "version; starting afresh", path);
			munmap(rl->map, rl->maplen);
			rl->map = NULL;
		}
		if (ftruncate(rl->fd, 0) == -1 ||
		    ftruncate(rl->fd, (off_t)want) == -1) {
			free(keep);
			goto fail;
		}
		rl->maplen = want;
		rl->map = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED,
		    rl->fd, 0);
		if (rl->map == MAP_FAILED) {
			rl->map = NULL;
			free(keep);
			goto fail;
		}
		memset(&nh, 0, sizeof(nh));
		memcpy(nh.magic, RL_MAGIC, 8);
		nh.version = RL_VERSION;
		nh.nslots = rl->max_keys;
		nh.slot_size = sizeof(struct rl_slot);
		memcpy(rl->map, &nh, sizeof(nh));
		rl->nslots = rl->max_keys;
		rl->slots = (struct rl_slot *)((char *)rl->map + RL_HEAD_SIZE);
		/* the keys closest to expiry are the ones dropped when the
		   table shrinks */
		if (nkeep > rl->nslots) {
			rl->host->log(rl->inst, PLUME_LOG_WARNING,
			    "%s: %zu live keys do not fit max_keys = %u; "
			    "the oldest are forgotten", path, nkeep,
			    rl->nslots);
			for (size_t i = 0; i < rl->nslots; i++) {
				size_t best = i;

				for (size_t j = i + 1; j < nkeep; j++)
					if (keep[j].tat_us > keep[best].tat_us)
						best = j;
				struct rl_slot t = keep[i];
				keep[i] = keep[best];
				keep[best] = t;
			}
			nkeep = rl->nslots;
		}
		memcpy(rl->slots, keep != NULL ? keep : rl->slots,
		    nkeep * sizeof(*keep));
		free(keep);
	}
	return 0;
fail:
	saved = errno;
	rl_close(rl);
	errno = saved;
	return -1;
}

/*
 * The slot of a key: its own, else a free or expired one (exact: an
 * expired key is as good as new), else the live one closest to expiry.
 */
static struct rl_slot *
rl_slot(struct rl *rl, const char *key, int64_t now, bool create)
{
	uint64_t h = fnv1a(key);
	struct rl_slot *freeslot = NULL, *oldest = NULL;

	for (uint32_t i = 0; i < rl->nslots; i++) {
		struct rl_slot *s = &rl->slots[i];

		if (s->hash == h && strncmp(s->key, key, RL_KEY_MAX - 1) == 0)
			return s;
		if (s->hash == 0 || s->tat_us <= now) {
			if (freeslot == NULL)
				freeslot = s;
		} else if (oldest == NULL || s->tat_us < oldest->tat_us)
			oldest = s;
	}
	if (!create)
		return NULL;
	if (freeslot == NULL) {
		rl->host->log(rl->inst, PLUME_LOG_WARNING,
		    "every one of the %u keys is live: forgetting \"%s\" "
		    "(raise max_keys)", rl->nslots, oldest->key);
		freeslot = oldest;
	}
	freeslot->hash = h;
	freeslot->tat_us = now;
	snprintf(freeslot->key, sizeof(freeslot->key), "%s", key);
	return freeslot;
}

/* Lower-cases s in place and returns it. */
static char *
lower(char *s)
{
	for (char *p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/* The domain of the From field's first address, or NULL. */
static char *
from_domain(struct rl *rl, struct plume_msg *m)
{
	long i = rl->host->header_find(m, "From", 0);
	const char *raw, *v, *lt, *at, *end;
	size_t nlen;

	if (i < 0 || (raw = rl->host->header_get(m, (size_t)i, &nlen)) ==
	    NULL)
		return NULL;
	v = raw + nlen + 1;	/* past "From:" */
	/* "Name <a@b>" or "a@b (Name)": the addr-spec is in angle
	   brackets when there are any */
	if ((lt = strchr(v, '<')) != NULL) {
		v = lt + 1;
		end = strchr(v, '>');
	} else
		end = NULL;
	if (end == NULL)
		end = v + strcspn(v, " \t\r\n,(;");
	at = NULL;
	for (const char *p = v; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL || at + 1 >= end)
		return NULL;
	{
		size_t n = (size_t)(end - at - 1);
		char *d = malloc(n + 1);

		if (d == NULL)
			return NULL;
		memcpy(d, at + 1, n);
		d[n] = '\0';
		while (n > 0 && strchr(" \t\r\n", d[n - 1]) != NULL)
			d[--n] = '\0';
		return lower(d);
	}
}

/* The key (scope value) of recipient i: the same for every recipient
   except with scope = recipient_domain.  Allocated. */
static char *
scope_key(struct rl *rl, struct plume_msg *m, size_t i)
{
	const char *s;
	char *k;

	switch (rl->scope) {
	case SC_SENDER:
		return lower(strdup(rl->host->msg_sender(m)));
	case SC_FROM_DOMAIN:
		if ((k = from_domain(rl, m)) != NULL)
			return k;
		/* no usable From: the envelope sender's domain */
		return lower(strdup(domain_of(rl->host->msg_sender(m))));
	case SC_RCPT_DOMAIN:
		return lower(strdup(domain_of(rl->host->msg_rcpt(m, i))));
	case SC_USER:
		if ((s = rl->host->msg_param(m, PLUME_PARAM_USER)) != NULL &&
		    *s != '\0')
			return strdup(s);
		s = rl->host->msg_param(m, PLUME_PARAM_UID);
		k = malloc(32);
		if (k != NULL)
			snprintf(k, 32, "uid %s", s != NULL ? s : "?");
		return k;
	case SC_ROUTE:
		s = rl->host->msg_param(m, PLUME_PARAM_ROUTE);
		return strdup(s != NULL ? s : "");
	default:
		return strdup("");
	}
}

struct rl_group {
	char	*key;		/* scope value */
	size_t	*rcpt;		/* recipient indexes still undecided */
	size_t	 n;
	size_t	 admitted;	/* the first admitted of rcpt[] */
	int64_t	 next_us;	/* when the rest may go */
};

/*
 * One pass over the table: for each group, how many of its recipients
 * the limits let through now.  commit = false only evaluates (reject:
 * all or nothing).  Returns the number deferred.
 */
static size_t
rl_pass(struct rl *rl, struct rl_group *g, size_t ng, int64_t now,
    bool commit)
{
	size_t deferred = 0;
	char key[RL_KEY_MAX + 8];

	for (size_t i = 0; i < ng; i++) {
		struct rl_slot *sm = NULL, *sr = NULL;
		int64_t tm, tr;
		uint64_t k = g[i].n - g[i].admitted;

		if (k == 0)
			continue;
		/* a key seen for the first time gets a slot only when
		   something is taken (commit) */
		if (rl->msgs.on) {
			snprintf(key, sizeof(key), "m %s", g[i].key);
			sm = rl_slot(rl, key, now, commit);
		}
		if (rl->rcpts.on) {
			snprintf(key, sizeof(key), "r %s", g[i].key);
			sr = rl_slot(rl, key, now, commit);
		}
		tm = sm != NULL ? sm->tat_us : now;
		tr = sr != NULL ? sr->tat_us : now;
		if (rl->msgs.on && gcra_take(&rl->msgs.g, &tm, now, 1) == 0)
			k = 0;
		if (rl->rcpts.on && k > 0)
			k = gcra_take(&rl->rcpts.g, &tr, now, k);
		if (k == 0) {
			/* nothing taken: the TATs as they were */
			tm = sm != NULL ? sm->tat_us : now;
			tr = sr != NULL ? sr->tat_us : now;
		} else if (commit) {
			if (sm != NULL)
				sm->tat_us = tm;
			if (sr != NULL)
				sr->tat_us = tr;
		}
		g[i].admitted += (size_t)k;
		g[i].next_us = now;
		if (rl->msgs.on)
			g[i].next_us = gcra_next(&rl->msgs.g, tm, now);
		if (rl->rcpts.on && gcra_next(&rl->rcpts.g, tr, now) >
		    g[i].next_us)
			g[i].next_us = gcra_next(&rl->rcpts.g, tr, now);
		deferred += g[i].n - g[i].admitted;
	}
	return deferred;
}

#ifdef RL_REDIS
/*
 * backend = redis: the same GCRA, run by Redis in one Lua script per
 * pass, so that every host sharing the server sees one count.  KEYS
 * holds two keys per group (messages, recipients); ARGV: now (us),
 * "all" (reject: take nothing unless everything fits) or "some", T and
 * tau of each limit (T = 0: the limit is off), then each group's want.
 * Returns per group {taken, next_us}.  TATs are integers of
 * microseconds (below 2^53: exact in Lua's doubles), stored with a
 * PX expiry at the TAT, so Redis forgets a key exactly when it carries
 * no information.  The time is the client's (host->now()): hosts
 * sharing a limit keep their clocks in step (NTP).
 */
static const char rl_lua[] =
"local now = tonumber(ARGV[1])\n"
"local all = ARGV[2] == 'all'\n"
"local Tm, um, Tr, ur = tonumber(ARGV[3]), tonumber(ARGV[4]),\n"
"    tonumber(ARGV[5]), tonumber(ARGV[6])\n"
"local function avail(T, u, tat)\n"
"  local room = u + T - (math.max(tat, now) - now)\n"
"  if room < T then return 0 end\n"
"  return math.floor(room / T)\n"
"end\n"
"local out, newm, newr, short = {}, {}, {}, 0\n"
"for i = 1, #KEYS / 2 do\n"
"  local want = tonumber(ARGV[6 + i])\n"
"  local tm = tonumber(redis.call('GET', KEYS[2 * i - 1]) or now)\n"
"  local tr = tonumber(redis.call('GET', KEYS[2 * i]) or now)\n"
"  local k = want\n"
"  if Tm > 0 and avail(Tm, um, tm) < 1 then k = 0 end\n"
"  if Tr > 0 and k > 0 then k = math.min(k, avail(Tr, ur, tr)) end\n"
"  if k > 0 then\n"
"    if Tm > 0 then tm = math.max(tm, now) + Tm; newm[i] = tm end\n"
"    if Tr > 0 then tr = math.max(tr, now) + k * Tr; newr[i] = tr end\n"
"  end\n"
"  local nx = now\n"
"  if Tm > 0 then nx = math.max(nx, tm - um) end\n"
"  if Tr > 0 then nx = math.max(nx, tr - ur) end\n"
"  out[#out + 1] = k\n"
"  out[#out + 1] = nx\n"
"  short = short + want - k\n"
"end\n"
"if all and short > 0 then return out end\n"
"for i = 1, #KEYS / 2 do\n"
"  for j, t in pairs({newm[i] or false, newr[i] or false}) do\n"
"    if t and t > now then\n"
"      redis.call('SET', KEYS[2 * i - 2 + j], string.format('%.0f', t),\n"
"          'PX', math.ceil((t - now) / 1000))\n"
"    end\n"
"  end\n"
"end\n"
"return out\n";

#define RL_ARGS(ng)	(9 + 3 * (ng))

static redisContext *
redis_connect(struct rl *rl, const char **why_r)
{
	struct timeval tv = { (time_t)(rl->lock_timeout_ms / 1000),
	    (suseconds_t)(rl->lock_timeout_ms % 1000) * 1000 };
	const char *a = rl->redis_addr, *colon = strrchr(a, ':');
	char host[256];
	redisContext *c;
	long port = 6379;
	size_t hl;

	if (a[0] == '/')
		c = redisConnectUnixWithTimeout(a, tv);
	else {
		if (colon != NULL && (a[0] != '[' || colon[-1] == ']')) {
			port = strtol(colon + 1, NULL, 10);
			hl = (size_t)(colon - a);
		} else
			hl = strlen(a);
		if (a[0] == '[' && hl >= 2 && a[hl - 1] == ']')
			a++, hl -= 2;
		if (hl >= sizeof(host) || port <= 0 || port > 65535) {
			*why_r = "redis: expected HOST:PORT";
			return NULL;
		}
		memcpy(host, a, hl);
		host[hl] = '\0';
		c = redisConnectWithTimeout(host, (int)port, tv);
	}
	if (c == NULL || c->err) {
		*why_r = c != NULL ? c->errstr : "out of memory";
		if (c != NULL) {
			static char err[128];

			snprintf(err, sizeof(err), "%s", c->errstr);
			*why_r = err;
			redisFree(c);
		}
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (rl->redis_pw_file != NULL) {
		/* read at each connection (one per process or queue run),
		   wiped at once; refused: the local fall-back, warned */
		static char err[320];
		char serr[256], *pw;
		redisReply *r;

		if ((pw = secret_from_file("redis_password_file",
		    rl->redis_pw_file, serr, sizeof(serr))) == NULL) {
			snprintf(err, sizeof(err), "%s", serr);
			redisFree(c);
			*why_r = err;
			return NULL;
		}
		r = rl->redis_user != NULL ? redisCommand(c, "AUTH %s %s",
		    rl->redis_user, pw) : redisCommand(c, "AUTH %s", pw);
		secret_free(pw);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, sizeof(err), "AUTH refused: %s",
			    r != NULL && r->str != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			*why_r = err;
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

/* One pass through Redis; -1 (with why_r) when Redis cannot answer. */
static int
redis_pass(struct rl *rl, struct rl_group *g, size_t ng, int64_t now,
    size_t *deferred_r, const char **why_r)
{
	const char *name = rl->host->instance_name(rl->inst);
	size_t argc = 0, nk = 0, *len, *gi;
	const char **argv;
	char **own, num[6][24];
	redisReply *r;
	int rc = -1;

	if (name == NULL || *name == '\0')
		name = "default";
	if (rl->redis == NULL && (rl->redis = redis_connect(rl, why_r)) ==
	    NULL)
		return -1;
	/* EVAL, script, key count, 2 keys a group, 6 numbers, a want a
	   group; own[] is indexed as argv[] */
	argv = calloc(RL_ARGS(ng), sizeof(*argv));
	len = calloc(RL_ARGS(ng), sizeof(*len));
	own = calloc(RL_ARGS(ng), sizeof(*own));
	gi = calloc(ng + 1, sizeof(*gi));
	if (argv == NULL || len == NULL || own == NULL || gi == NULL) {
		*why_r = "out of memory";
		goto out;
	}
	argv[argc++] = "EVAL";
	argv[argc++] = rl_lua;
	argc++;			/* the number of keys, below */
	for (size_t i = 0; i < ng; i++) {
		if (g[i].admitted == g[i].n)
			continue;
		for (int k = 0; k < 2; k++) {
			size_t n = strlen(name) + strlen(g[i].key) + 32;

			if ((own[argc] = malloc(n)) == NULL) {
				*why_r = "out of memory";
				goto out;
			}
			snprintf(own[argc], n, "plume:ratelimit:%s:%c %s", name,
			    k == 0 ? 'm' : 'r', g[i].key);
			argv[argc] = own[argc];
			argc++;
		}
		gi[nk++] = i;
	}
	snprintf(num[0], sizeof(num[0]), "%zu", 2 * nk);
	argv[2] = num[0];
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)now);
	argv[argc++] = num[1];
	argv[argc++] = rl->action == ACT_REJECT ? "all" : "some";
	snprintf(num[2], sizeof(num[2]), "%lld", rl->msgs.on ?
	    (long long)rl->msgs.g.interval_us : 0LL);
	snprintf(num[3], sizeof(num[3]), "%lld", rl->msgs.on ?
	    (long long)rl->msgs.g.tolerance_us : 0LL);
	snprintf(num[4], sizeof(num[4]), "%lld", rl->rcpts.on ?
	    (long long)rl->rcpts.g.interval_us : 0LL);
	snprintf(num[5], sizeof(num[5]), "%lld", rl->rcpts.on ?
	    (long long)rl->rcpts.g.tolerance_us : 0LL);
	for (int k = 2; k < 6; k++)
		argv[argc++] = num[k];
	for (size_t i = 0; i < nk; i++) {
		if ((own[argc] = malloc(24)) == NULL) {
			*why_r = "out of memory";
			goto out;
		}
		snprintf(own[argc], 24, "%zu", g[gi[i]].n - g[gi[i]].admitted);
		argv[argc] = own[argc];
		argc++;
	}
	for (size_t i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	r = redisCommandArgv(rl->redis, (int)argc, argv, len);
	if (r == NULL) {
		static char err[128];

		snprintf(err, sizeof(err), "%s", rl->redis->errstr);
		*why_r = err;
		redisFree(rl->redis);
		rl->redis = NULL;
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 * nk) {
		static char err[256];

		snprintf(err, sizeof(err), "unexpected reply%s%.*s",
		    r->type == REDIS_REPLY_ERROR ? ": " : "",
		    r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
		*why_r = err;
		freeReplyObject(r);
		goto out;
	}
	*deferred_r = 0;
	for (size_t i = 0; i < nk; i++) {
		struct rl_group *x = &g[gi[i]];
		long long k = r->element[2 * i]->integer;

		if (k < 0 || (size_t)k > x->n - x->admitted)
			k = 0;
		x->admitted += (size_t)k;
		x->next_us = r->element[2 * i + 1]->integer;
		*deferred_r += x->n - x->admitted;
	}
	freeReplyObject(r);
	rc = 0;
out:
	for (size_t i = 0; own != NULL && i < RL_ARGS(ng); i++)
		free(own[i]);
	free(own);
	free(argv);
	free(len);
	free(gi);
	return rc;
}
#endif

/* "messages 100/hour, recipients 500/day": the limits as written.
   Returns the length written (as snprintf, at most len - 1). */
static size_t
limits_text(const struct rl *rl, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s%s%s%s%s",
	    rl->msgs.on ? "messages " : "", rl->msgs.on ? rl->msgs.text : "",
	    rl->msgs.on && rl->rcpts.on ? ", " : "",
	    rl->rcpts.on ? "recipients " : "",
	    rl->rcpts.on ? rl->rcpts.text : "",
	    rl->msgs.on || rl->rcpts.on ? "" : "-");

	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static void
describe(struct rl *rl, const struct rl_group *g, char *buf, size_t len)
{
	size_t n = limits_text(rl, buf, len);

	if (rl->scope != SC_GLOBAL)
		snprintf(buf + n, len - n, " per %s \"%s\"",
		    scope_names[rl->scope], g->key);
}

static const char *const action_names[] = { "defer", "wait", "reject" };

static int
rl_explain(void *state, struct plume_msg *m, char *buf, size_t len)
{
	struct rl *rl = state;
	struct rl_group g;
	size_t n;

	memset(&g, 0, sizeof(g));
	if (rl->host->msg_rcpt_count(m) == 0 ||
	    (g.key = scope_key(rl, m, 0)) == NULL) {
		snprintf(buf, len, "no recipient to count");
		return 0;
	}
	describe(rl, &g, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, ", action %s", action_names[rl->action]);
	free(g.key);
	return 1;
}

static int
rl_check(void *state, struct plume_msg *m)
{
	struct rl *rl = state;
	const struct plume_host *h = rl->host;
	size_t n = h->msg_rcpt_count(m), ng = 0, deferred = 0;
	struct rl_group *g = calloc(n ? n : 1, sizeof(*g));
	int64_t budget_ms = 0, now = 0, next = 0;
	bool oom = g == NULL, lockfail = false;
	char why[512], text[768];

	/* recipients grouped by key, in order */
	for (size_t i = 0; !oom && i < n; i++) {
		char *k = scope_key(rl, m, i);
		size_t j;

		if (k == NULL) {
			oom = true;
			break;
		}
		for (j = 0; j < ng && strcmp(g[j].key, k) != 0; j++)
			;
		if (j == ng) {
			g[ng].key = k;
			if ((g[ng++].rcpt = calloc(n, sizeof(size_t))) ==
			    NULL)
				oom = true;
		} else
			free(k);
		if (!oom)
			g[j].rcpt[g[j].n++] = i;
	}
	if (rl->action == ACT_WAIT) {
		int64_t dl = PLUME_HOST_HAS(h, msg_deadline_ms) ?
		    h->msg_deadline_ms(m) : 0;

		budget_ms = rl->wait_max_ms;
		/* leave the transport a second of submit_timeout */
		if (dl != 0 && dl - h->monotonic_ms() - 1000 < budget_ms)
			budget_ms = dl - h->monotonic_ms() - 1000;
	}
	for (;;) {
		if (oom)
			break;
		now = rl_now_us(rl);
#ifdef RL_REDIS
		if (rl->redis_addr != NULL) {
			const char *rwhy = NULL;

			if (redis_pass(rl, g, ng, now, &deferred, &rwhy) == 0)
				goto passed;
			/* a shared limit is better kept locally than not at
			   all: this host's share of it, on its own file */
			if (!rl->redis_warned)
				h->log(rl->inst, PLUME_LOG_WARNING, "redis %s: "
				    "%s; using this host's local state",
				    rl->redis_addr, rwhy);
			rl->redis_warned = true;
		}
#endif
		if (rl_open(rl, true, now) == -1) {
			lockfail = true;
			h->log(rl->inst, errno == ETIMEDOUT ? PLUME_LOG_WARNING :
			    PLUME_LOG_ERR, "%s: %s; deferring rather than risk "
			    "exceeding the limit", rl->path != NULL ?
			    rl->path : "state file", errno == ETIMEDOUT ?
			    "lock not obtained within lock_timeout" :
			    strerror(errno));
			break;
		}
		deferred = rl_pass(rl, g, ng, now, rl->action != ACT_REJECT);
		if (rl->action == ACT_REJECT && deferred == 0) {
			/* all of it fits: now take it, under the same lock */
			for (size_t i = 0; i < ng; i++)
				g[i].admitted = 0;
			rl_pass(rl, g, ng, now, true);
		}
		rl_close(rl);
#ifdef RL_REDIS
passed:
#endif
		if (deferred == 0 || rl->action != ACT_WAIT)
			break;
		/* wait for the earliest group that can go */
		next = INT64_MAX;
		for (size_t i = 0; i < ng; i++)
			if (g[i].admitted < g[i].n && g[i].next_us < next)
				next = g[i].next_us;
		next = (next - now + 999) / 1000;	/* ms */
		if (next < 1)
			next = 1;
		if (next > budget_ms)
			break;
		sleep_ms(next);
		budget_ms -= next;
	}

	/* what did not fit: deferred until the limit allows it */
	for (size_t i = 0; i < ng || (oom && i == 0); i++) {
		struct plume_reply r;
		int64_t at;

		if (!oom && !lockfail && g[i].admitted == g[i].n)
			continue;
		if (oom || lockfail) {
			/* retry soon: one interval, at least a second */
			int64_t t = rl->msgs.on ? rl->msgs.g.interval_us :
			    rl->rcpts.g.interval_us;

			at = rl_now_us(rl) + (t > 1000000 ? t : 1000000);
			snprintf(why, sizeof(why), "%s", oom ? "out of memory" :
			    "rate-limit state unavailable");
		} else {
			at = g[i].next_us;
			describe(rl, &g[i], why, sizeof(why));
		}
		memset(&r, 0, sizeof(r));
		r.status = PLUME_TEMPFAIL;
		r.code = 451;
		r.enhanced = "4.7.0";
		/* whole seconds, rounded up: never before the limit allows */
		r.retry_after = (time_t)((at + 999999) / 1000000);
		snprintf(text, sizeof(text), "rate limit %s: %s; next attempt "
		    "in %lld s", h->instance_id(rl->inst), why,
		    (long long)(r.retry_after - h->now()));
		r.text = text;
		if (rl->action == ACT_REJECT && !oom && !lockfail) {
			h->msg_refuse(m, &r);
			break;
		}
		if (oom || lockfail) {
			h->set_verdict(m, PLUME_RCPT_ALL, &r);
			break;
		}
		for (size_t k = g[i].admitted; k < g[i].n; k++)
			h->set_verdict(m, g[i].rcpt[k], &r);
	}
	for (size_t i = 0; i < ng; i++) {
		free(g[i].key);
		free(g[i].rcpt);
	}
	free(g);
	return PLUME_OK;
}

/* One live key of an instance's table, as "show" and probe() tell it. */
struct rl_live {
	bool	 rcpts;		/* the recipients limit, else messages */
	const char *key;	/* the scope's value; "" for scope = global */
	int64_t	 tat_us;	/* its TAT, less now */
	uint64_t avail;		/* what may go at once */
	int64_t	 next_us;	/* until the next may go (0: now) */
};

/* "messages 100/hour, recipients 500/day, scope sender, action defer" */
static void
rl_summary(const struct rl *rl, char *buf, size_t len)
{
	size_t n = limits_text(rl, buf, len);

	snprintf(buf + n, len - n, ", scope %s, action %s",
	    scope_names[rl->scope], action_names[rl->action]);
}

/*
 * Reads the local table under a shared lock and calls fn for each live
 * key.  Returns the number of live keys, or -1 with errno (ENOENT: no
 * state yet); the table's size in nslots_r.
 */
static int
rl_walk(struct rl *rl, int64_t now, void (*fn)(const struct rl_live *,
    void *), void *arg, uint32_t *nslots_r)
{
	int live = 0;

	if (rl_open(rl, false, now) == -1)
		return -1;
	for (uint32_t i = 0; i < rl->nslots; i++) {
		const struct rl_slot *s = &rl->slots[i];
		const struct gcra_limit *g;
		struct rl_live l;

		if (s->hash == 0 || s->tat_us <= now)
			continue;
		g = s->key[0] == 'm' && rl->msgs.on ? &rl->msgs.g :
		    rl->rcpts.on ? &rl->rcpts.g : &rl->msgs.g;
		l.rcpts = s->key[0] != 'm';
		l.key = s->key + 2;
		l.tat_us = s->tat_us - now;
		l.avail = gcra_available(g, s->tat_us, now);
		l.next_us = gcra_next(g, s->tat_us, now) - now;
		live++;
		fn(&l, arg);
	}
	*nslots_r = rl->nslots;
	rl_close(rl);
	return live;
}

static void
show_key(const struct rl_live *l, void *arg)
{
	(void)arg;
	printf("  %-10s %-32s tat %+.3f s, %llu now, next in %.3f s\n",
	    l->rcpts ? "recipients" : "messages", l->key,
	    (double)l->tat_us / 1e6, (unsigned long long)l->avail,
	    (double)l->next_us / 1e6);
}

/*
 * plume ratelimit show: every instance's live keys, what each may still
 * send at once, and when the next one may go.
 */
static int
rl_cmd_show(const struct plume_host *h, struct plume_inst *in, int argc,
    char **argv)
{
	int rc = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: plume ratelimit show\n");
		return 64;
	}
	for (; in != NULL; in = PLUME_HOST_HAS(h, inst_next) ?
	    h->inst_next(in) : NULL) {
		void *st;
		const char *err = NULL;
		char sum[300];
		struct rl *rl;
		uint32_t nslots = 0;
		int live;

		if (rl_init(h, in, &st, &err) == -1) {
			printf("%s: %s\n", h->instance_id(in), err);
			rc = 78;
			continue;
		}
		rl = st;
		rl_summary(rl, sum, sizeof(sum));
		printf("%s: %s\n", h->instance_id(in), sum);
		if (rl->redis_addr != NULL)
			printf("  backend redis %s (keys plume:ratelimit:%s:*); "
			    "the local table below is the fall-back\n",
			    rl->redis_addr, *h->instance_name(in) != '\0' ?
			    h->instance_name(in) : "default");
		if ((live = rl_walk(rl, rl_now_us(rl), show_key, NULL,
		    &nslots)) == -1) {
			if (errno != ENOENT) {
				printf("  %s: %s\n", rl->path ? rl->path :
				    "state file", strerror(errno));
				rc = 74;
			} else
				printf("  no state yet\n");
		} else
			printf("  %d live key%s of %u\n", live, live == 1 ?
			    "" : "s", nslots);
		rl_shutdown(rl);
	}
	return rc;
}

/* probe(): what each key at its limit is reported as. */
struct rl_probe {
	struct rl *rl;
	struct plume_probe *p;
	size_t	 full;
};

static void
human_wait(int64_t us, char *buf, size_t len)
{
	int64_t s = (us + 999999) / 1000000;

	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%lldm", (long long)((s + 59) / 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
}

static void
probe_key(const struct rl_live *l, void *arg)
{
	struct rl_probe *rp = arg;
	const struct plume_host *h = rp->rl->host;
	char when[32], remedy[400];

	if (l->avail > 0)
		return;
	rp->full++;
	human_wait(l->next_us, when, sizeof(when));
	snprintf(remedy, sizeof(remedy), "%s; if this is normal traffic, "
	    "raise %s (or burst) in [%s]",
	    rp->rl->action == ACT_REJECT ? "until then submissions are "
	    "refused (exit 75)" : "until then mail over it waits in the "
	    "queue, and goes out by itself", l->rcpts ? "recipients" :
	    "messages", h->instance_id(rp->rl->inst));
	h->probe_report(rp->p, PLUME_CHECK_WARN, "limit", remedy, "%s %s "
	    "reached%s%s: the next may go in %s", l->rcpts ? "recipients" :
	    "messages", l->rcpts ? rp->rl->rcpts.text : rp->rl->msgs.text,
	    *l->key != '\0' ? " for " : "", l->key, when);
}

/*
 * plume doctor: the instance's limits and the state of its table; a
 * warning for each key at its limit, saying when the next may go.
 */
static int
rl_probe(void *state, struct plume_probe *p)
{
	struct rl *rl = state;
	const struct plume_host *h = rl->host;
	struct rl_probe rp = { .rl = rl, .p = p };
	char sum[300];
	uint32_t nslots = 0;
	int live;

	rl_summary(rl, sum, sizeof(sum));
	if (rl->redis_addr != NULL)
		h->probe_report(p, PLUME_CHECK_INFO, "limits", NULL, "%s; "
		    "backend redis %s (the local table below is only the "
		    "fall-back)", sum, rl->redis_addr);
	else
		h->probe_report(p, PLUME_CHECK_INFO, "limits", NULL, "%s",
		    sum);
	if ((live = rl_walk(rl, rl_now_us(rl), probe_key, &rp,
	    &nslots)) == -1) {
		if (errno == ENOENT)
			h->probe_report(p, PLUME_CHECK_OK, "state", NULL,
			    "nothing counted yet");
		else
			h->probe_report(p, PLUME_CHECK_WARN, "state", "run "
			    "plume doctor as the user plume delivers as; "
			    "while the table cannot be read, mail is deferred, "
			    "never sent over the limit", "%s: %s", rl->path ?
			    rl->path : "state file", strerror(errno));
		return PLUME_OK;
	}
	if (rp.full == 0)
		h->probe_report(p, PLUME_CHECK_OK, "state", NULL, "%d live "
		    "key%s of %u, none at its limit", live, live == 1 ? "" :
		    "s", nslots);
	else
		h->probe_report(p, PLUME_CHECK_INFO, "state", NULL, "%d live "
		    "key%s of %u, %zu at the limit", live, live == 1 ? "" :
		    "s", nslots, rp.full);
	if ((uint32_t)live >= nslots)
		h->probe_report(p, PLUME_CHECK_WARN, "state", "raise max_keys "
		    "in the section", "the table is full (%u keys): keys "
		    "closest to expiry are being reused", nslots);
	return PLUME_OK;
}

static const struct plume_policy_ops rl_policy_ops = {
	.struct_size = sizeof(struct plume_policy_ops),
	.check = rl_check,
	.explain = rl_explain,
	.probe = rl_probe,
};

static const struct plume_command rl_commands[] = {
	{ "show", "show", "each instance's live keys: what may go now and "
	    "when the next may", rl_cmd_show },
	{ NULL, NULL, NULL, NULL },
};

const struct plume_plugin PLUME_PLUGIN(ratelimit) = {
	PLUME_PLUGIN_INIT,
	.name = "ratelimit",
	.version = "1.0",
	.description = "rate limits (GCRA) per host, sender, From domain, "
	    "recipient domain or user",
	.kinds = PLUME_KIND_POLICY,
	.conf_keys = rl_keys,
	.init = rl_init,
	.shutdown = rl_shutdown,
	.policy = &rl_policy_ops,
	.commands = rl_commands,
};
