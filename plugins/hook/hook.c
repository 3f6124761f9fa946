/*
 * NAME
 *	hook - observer plugin: run a command and/or POST a webhook on
 *	chosen delivery events
 * SYNOPSIS
 *	pipeline = smtp, hook
 *	[hook]
 *	events = delivered bounced failed
 *	command = /usr/local/bin/on-mail-event --quiet
 *	timeout = 10s
 *	url = https://hooks.example.org/plume
 *	signing_secret_file = /etc/plume/hook.secret
 * DESCRIPTION
 *	For each event whose type is listed in events, in the process
 *	where the event happens:
 *
 *	command: argv run directly (execvp(3) with PATH fixed to the
 *	system directories, never a shell) in its own process group, with
 *	a clean environment holding only PATH, LANG=C and the event's
 *	fields (PLUME_EVENT, PLUME_TIME, PLUME_QUEUE_ID, PLUME_MESSAGE_ID,
 *	PLUME_SENDER, PLUME_RCPT, PLUME_INSTANCE, PLUME_CODE,
 *	PLUME_ENHANCED, PLUME_TEXT, PLUME_ATTEMPT, PLUME_DURATION_MS,
 *	PLUME_UID, PLUME_USER, and each note as PLUME_<KEY>: PLUME_RELAY,
 *	PLUME_TLS, PLUME_AUTH, PLUME_REMOTE_ID), the event as one JSON
 *	object and a line end on standard input (plugins/common/evjson.h),
 *	standard output and error on /dev/null (in -bs mode plume's own
 *	standard output is the SMTP dialogue).  It is waited for at most
 *	timeout, then its process group is killed.  A command that fails,
 *	hangs or cannot start is logged; delivery and plume's exit code
 *	never depend on it.
 *
 *	url: the event's JSON object is POSTed (Content-Type
 *	application/json) by libcurl, HTTPS only with the certificate
 *	verified (tls_ca_file for a private CA); http:// only to
 *	127.0.0.1, [::1] or localhost and only with allow_http_loopback.
 *	With signing_secret_file each post carries X-Plume-Timestamp (Unix
 *	seconds) and X-Plume-Signature: sha256=HEX(HMAC-SHA256(secret,
 *	timestamp "." body)), as the http transport's webhook does.  A
 *	submitting process never touches the network: it writes the event
 *	to the spool (state_dir/webhook/, webhook-NAME/ for [hook "NAME"],
 *	one file per event, written to a
 *	temporary name, synced and renamed) and plume starts a detached
 *	queue run, whose flush() posts it.  A post that fails stays
 *	spooled and is retried by later runs with backoff (retry_min_backoff
 *	doubling to retry_max_backoff); after retry_lifetime it moves to
 *	state_dir/webhook/failed/ (kept, logged, never silently dropped).
 *	The first failure in a run ends that run's posting, so an endpoint
 *	that is down costs one timeout per run, not one per event.
 *	Each spool file is locked while posted and re-checked after the
 *	lock, so two runners never post one event twice.
 *
 *	libcurl (libcurl.so.4) and libcrypto (libcrypto.so.3, for the
 *	HMAC) are not linked: they are loaded with dlopen(3) at the first
 *	post, in the queue runner, and stay loaded.  Linked, they were some
 *	thirty libraries mapped by every submission that loads the hook,
 *	for posts a submitter never makes.  Missing ones are
 *	logged at each run, and the events stay spooled.  When it spools
 *	an event the plugin calls host->flush_wanted() (ABI 1.6), so a
 *	submission starts a queue run only when there is something to post.
 *
 *	Spool file: "plume-hook 1", "attempts N", "next UNIXTIME",
 *	"created UNIXTIME", an empty line, the JSON body.
 * DIAGNOSTICS
 *	Through host->log(): a command's exit status, signal or timeout; a
 *	post's HTTP status or libcurl's error; spool errors.  Never fatal.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <plume/plugin.h>

#include "curlsafe.h"
#include "evjson.h"
#include "secret.h"

#define HOOK_SPOOL_MAX	(1024 * 1024)	/* one spooled event, at most */
#define HOOK_LIBCURL	"libcurl.so.4"	/* Debian's libcurl4 (any TLS) */
#define HOOK_LIBCRYPTO	"libcrypto.so.3"	/* OpenSSL 3, as configure asks */
#define HOOK_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
			"/sbin:/bin"

extern char **environ;

struct hook {
	const struct plume_host *h;
	struct plume_inst *in;
	unsigned events;		/* 1u << PLUME_EV_* */
	const char *const *command;
	long long timeout_ms;
	const char *url;
	const char *ca_file;
	const char *secret_file;
	long long post_timeout_ms;
	long long min_backoff, max_backoff, lifetime;
	unsigned seq;			/* spool names in this process */
};

static const struct plume_conf_key hook_keys[] = {
	{ "events", PLUME_CONF_LIST, 0, "delivered deferred bounced failed",
	    NULL, 0, 0, "events that fire the hook: accepted attempt "
	    "delivered deferred bounced failed throttled" },
	{ "command", PLUME_CONF_COMMAND, 0, NULL, NULL, 0, 0,
	    "command run for each event (no shell): event in PLUME_* "
	    "variables and as JSON on standard input" },
	{ "timeout", PLUME_CONF_DURATION, 0, "10s", NULL, 1, 3600,
	    "the command is killed after this long" },
	{ "url", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "https:// address each event is POSTed to as JSON" },
	{ "tls_ca_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "CA certificates for url (default: the system's)" },
	{ "signing_secret_file", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "file holding the HMAC-SHA256 key for X-Plume-Signature" },
	{ "allow_http_loopback", PLUME_CONF_BOOL, 0, "no", NULL, 0, 0,
	    "allow an http:// url to 127.0.0.1, [::1] or localhost" },
	{ "post_timeout", PLUME_CONF_DURATION, 0, "10s", NULL, 1, 600,
	    "bound on one webhook post" },
	{ "retry_min_backoff", PLUME_CONF_DURATION, 0, "30s", NULL, 1,
	    86400, "wait after a failed post, doubling with each failure" },
	{ "retry_max_backoff", PLUME_CONF_DURATION, 0, "1h", NULL, 1,
	    604800, "longest wait between two posts of one event" },
	{ "retry_lifetime", PLUME_CONF_DURATION, 0, "2d", NULL, 60,
	    31536000, "a spooled event is given up (kept in failed/) after" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

/* ---- configuration -------------------------------------------------- */

static int
parse_events(const char *const *list, unsigned *bits_r)
{
	static const enum plume_event_type all[] = { PLUME_EV_ACCEPTED,
	    PLUME_EV_ATTEMPT, PLUME_EV_DELIVERED, PLUME_EV_DEFERRED,
	    PLUME_EV_BOUNCED, PLUME_EV_FAILED, PLUME_EV_THROTTLED };

	*bits_r = 0;
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		size_t k;

		for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			if (strcmp(list[i], evjson_event_name(all[k])) == 0)
				break;
		if (k == sizeof(all) / sizeof(all[0]))
			return -1;
		*bits_r |= 1u << all[k];
	}
	return 0;
}

/* https://..., or http:// to a loopback host when allowed */
static const char *
check_url(const char *url, bool loopback_ok)
{
	const char *host, *end;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		return NULL;
	if (strncasecmp(url, "http://", 7) != 0)
		return "url must start with https://";
	if (!loopback_ok)
		return "url must start with https:// (http:// to a loopback "
		    "address needs allow_http_loopback = yes)";
	host = url + 7;
	end = host[0] == '[' ? strchr(host, ']') : host + strcspn(host,
	    ":/?#");
	if (end == NULL)
		return "url: bad host";
	n = (size_t)(end - host) + (host[0] == '[');
	if ((n == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	    (n == 5 && strncmp(host, "[::1]", 5) == 0) ||
	    (n == 9 && strncasecmp(host, "localhost", 9) == 0))
		return NULL;
	return "allow_http_loopback allows http:// only to 127.0.0.1, "
	    "[::1] or localhost";
}

static int
hook_init(const struct plume_host *h, struct plume_inst *in, void **state_r,
    const char **error_r)
{
	struct hook *hk;
	const char *why;

	if ((hk = calloc(1, sizeof(*hk))) == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	hk->h = h;
	hk->in = in;
	if (parse_events(h->conf_list(in, "events"), &hk->events) == -1) {
		*error_r = "events: expected some of accepted attempt "
		    "delivered deferred bounced failed throttled";
		goto fail;
	}
	hk->command = h->conf_list(in, "command");
	if (hk->command != NULL && hk->command[0] == NULL)
		hk->command = NULL;
	hk->timeout_ms = h->conf_number(in, "timeout", 10) * 1000;
	hk->url = h->conf_string(in, "url");
	if (hk->url != NULL && hk->url[0] == '\0')
		hk->url = NULL;
	if (hk->command == NULL && hk->url == NULL) {
		*error_r = "nothing to do: set command, url or both";
		goto fail;
	}
	if (hk->url != NULL && (why = check_url(hk->url,
	    h->conf_number(in, "allow_http_loopback", 0) != 0)) != NULL) {
		*error_r = why;
		goto fail;
	}
	hk->ca_file = h->conf_string(in, "tls_ca_file");
	hk->secret_file = h->conf_string(in, "signing_secret_file");
	hk->post_timeout_ms = h->conf_number(in, "post_timeout", 10) * 1000;
	hk->min_backoff = h->conf_number(in, "retry_min_backoff", 30);
	hk->max_backoff = h->conf_number(in, "retry_max_backoff", 3600);
	hk->lifetime = h->conf_number(in, "retry_lifetime", 172800);
	if (hk->max_backoff < hk->min_backoff)
		hk->max_backoff = hk->min_backoff;
	*state_r = hk;
	return 0;
fail:
	free(hk);
	return -1;
}

static void
hook_shutdown(void *state)
{
	free(state);
}

/* ---- the command ---------------------------------------------------- */

/* Environment: PATH, LANG and the event; NULL-terminated, malloc'd. */
struct env {
	char	**v;
	size_t	  n;
	bool	  oom;
};

static void
env_add(struct env *e, const char *name, const char *value)
{
	char **v, *s;
	size_t len;

	if (e->oom || value == NULL)
		return;
	len = strlen(name) + strlen(value) + 2;
	if ((v = realloc(e->v, (e->n + 2) * sizeof(*v))) == NULL ||
	    (s = malloc(len)) == NULL) {
		if (v != NULL)
			e->v = v;
		e->oom = true;
		return;
	}
	snprintf(s, len, "%s=%s", name, value);
	e->v = v;
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
}

static void
env_num(struct env *e, const char *name, long long value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", value);
	env_add(e, name, num);
}

static void
env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

static void
event_env(struct env *e, const struct plume_event *ev)
{
	char stamp[64], name[64];

	env_add(e, "PATH", HOOK_PATH);
	env_add(e, "LANG", "C");
	env_add(e, "PLUME_EVENT", evjson_event_name(ev->type));
	evjson_time(&ev->time, stamp, sizeof(stamp));
	env_add(e, "PLUME_TIME", stamp);
	env_add(e, "PLUME_QUEUE_ID", ev->queue_id);
	env_add(e, "PLUME_MESSAGE_ID", ev->message_id);
	env_add(e, "PLUME_SENDER", ev->sender);
	env_add(e, "PLUME_RCPT", ev->rcpt);
	env_num(e, "PLUME_NRCPT", (long long)ev->nrcpt);
	env_num(e, "PLUME_SIZE", (long long)ev->size);
	env_add(e, "PLUME_INSTANCE", ev->instance);
	if (ev->reply != NULL) {
		if (ev->reply->code != 0)
			env_num(e, "PLUME_CODE", ev->reply->code);
		env_add(e, "PLUME_ENHANCED", ev->reply->enhanced);
		env_add(e, "PLUME_TEXT", ev->reply->text);
	}
	env_num(e, "PLUME_ATTEMPT", ev->attempt);
	if (ev->duration_ms >= 0)
		env_num(e, "PLUME_DURATION_MS", ev->duration_ms);
	env_num(e, "PLUME_UID", (long long)ev->uid);
	env_add(e, "PLUME_USER", ev->user);
	/* notes as PLUME_RELAY, PLUME_TLS, PLUME_AUTH, PLUME_REMOTE_ID */
	for (size_t i = 0; ev->notes != NULL && ev->notes[i] != NULL &&
	    ev->notes[i + 1] != NULL; i += 2) {
		size_t k = 0;

		k = (size_t)snprintf(name, sizeof(name), "PLUME_");
		for (const char *p = ev->notes[i]; *p != '\0' &&
		    k < sizeof(name) - 1; p++)
			name[k++] = isalnum((unsigned char)*p) ?
			    (char)toupper((unsigned char)*p) : '_';
		name[k] = '\0';
		env_add(e, name, ev->notes[i + 1]);
	}
}

/* The child: stdin from the pipe, the rest on /dev/null, own group. */
static void
child_exec(const struct hook *hk, int in_fd, char **envp)
{
	int null = open("/dev/null", O_RDWR);
	sigset_t none;
	struct sigaction dfl;

	if (null == -1 || dup2(in_fd, 0) == -1 || dup2(null, 1) == -1 ||
	    dup2(null, 2) == -1)
		_exit(126);
	closefrom(3);
	setpgid(0, 0);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	environ = envp;
	execvp(hk->command[0], (char *const *)hk->command);
	_exit(127);
}

/* Writes buf to a non-blocking fd until done, the reader leaves or the
   deadline passes. */
static void
feed(const struct hook *hk, int fd, const char *buf, size_t len,
    int64_t deadline)
{
	while (len > 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int64_t left = deadline - hk->h->monotonic_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return;		/* EPIPE: it does not read stdin */
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void
run_command(struct hook *hk, const struct plume_event *ev, const char *json,
    size_t len)
{
	struct env e = { NULL, 0, false };
	struct sigaction ign, old;
	int p[2], status = 0;
	int64_t deadline;
	pid_t pid, r;
	int nap = 1;

	event_env(&e, ev);
	if (e.oom || pipe2(p, O_CLOEXEC) == -1) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "command %s: cannot start: "
		    "%s", hk->command[0], e.oom ? "out of memory" :
		    strerror(errno));
		env_free(&e);
		return;
	}
	deadline = hk->h->monotonic_ms() + hk->timeout_ms;
	/* a command that exits without reading must not kill plume */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	if ((pid = fork()) == 0)
		child_exec(hk, p[0], e.v);
	close(p[0]);
	if (pid == -1) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "command %s: fork: %s",
		    hk->command[0], strerror(errno));
		close(p[1]);
		sigaction(SIGPIPE, &old, NULL);
		env_free(&e);
		return;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	feed(hk, p[1], json, len, deadline);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	env_free(&e);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    hk->h->monotonic_ms() < deadline) {
		poll(NULL, 0, nap);
		if (nap < 25)
			nap *= 2;
	}
	if (r == 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		hk->h->log(hk->in, PLUME_LOG_WARNING, "command %s: still "
		    "running after %llds: killed", hk->command[0],
		    hk->timeout_ms / 1000);
	} else if (r == -1)
		hk->h->log(hk->in, PLUME_LOG_WARNING, "command %s: waitpid: "
		    "%s", hk->command[0], strerror(errno));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		hk->h->log(hk->in, PLUME_LOG_ERR, "command %s: cannot run it "
		    "(exit 127: not found?)", hk->command[0]);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		hk->h->log(hk->in, PLUME_LOG_WARNING, "command %s failed: "
		    "exit %d", hk->command[0], WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		hk->h->log(hk->in, PLUME_LOG_WARNING, "command %s killed by "
		    "signal %d", hk->command[0], WTERMSIG(status));
}

/* ---- the webhook spool ---------------------------------------------- */

/* state_dir/webhook[/sub], created 0700; NULL with a log line */
static char *
spool_dir(struct hook *hk, const char *sub)
{
	const char *base = hk->h->state_dir(hk->in);
	const char *name = hk->h->instance_name(hk->in);
	char *dir, top[128];
	size_t len;

	if (base == NULL) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "no state directory for "
		    "the webhook spool");
		return NULL;
	}
	/* the state directory is the plugin's: each instance (each url)
	   has its own spool, [hook "x"] in webhook-x */
	snprintf(top, sizeof(top), "webhook%s%s", name[0] ? "-" : "", name);
	len = strlen(base) + strlen(top) + 32;
	if ((dir = malloc(len)) == NULL)
		return NULL;
	snprintf(dir, len, "%s/%s", base, top);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	if (sub != NULL) {
		snprintf(dir, len, "%s/%s/%s", base, top, sub);
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			goto fail;
	}
	return dir;
fail:
	hk->h->log(hk->in, PLUME_LOG_ERR, "cannot create %s: %s", dir,
	    strerror(errno));
	free(dir);
	return NULL;
}

/* Writes the spool file dir/name atomically: a temporary name, fsync,
   rename, fsync of the directory. */
static int
spool_write(const char *dir, const char *name, unsigned attempts,
    long long next, long long created, const char *body, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX], head[128];
	int fd, dfd, n, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s/tmp.%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = snprintf(head, sizeof(head), "plume-hook 1\nattempts %u\n"
	    "next %lld\ncreated %lld\n\n", attempts, next, created);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	if (write(fd, head, (size_t)n) == n &&
	    write(fd, body, len) == (ssize_t)len && fsync(fd) == 0 &&
	    rename(tmp, path) == 0)
		rc = 0;
	close(fd);
	if (rc == -1) {
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* 0 when the event is spooled, -1 (logged) when it is lost */
static int
spool_event(struct hook *hk, const char *json, size_t len)
{
	char *dir = spool_dir(hk, NULL), name[96];
	struct timespec ts;
	int rc;

	if (dir == NULL) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "webhook event lost: %s",
		    json);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	/* sorts in time order; pid and a counter keep names apart */
	snprintf(name, sizeof(name), "ev.%lld.%09ld.%ld.%u",
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid(), hk->seq++);
	if ((rc = spool_write(dir, name, 0, 0, (long long)ts.tv_sec, json,
	    len)) == -1)
		hk->h->log(hk->in, PLUME_LOG_ERR, "cannot spool a webhook "
		    "event in %s: %s; lost: %s", dir, strerror(errno), json);
	free(dir);
	return rc;
}

static void
hook_event(void *state, const struct plume_event *ev)
{
	struct hook *hk = state;
	size_t len;
	char *json;

	if (!(hk->events & (1u << ev->type)))
		return;
	if ((json = evjson_render(ev, &len)) == NULL)
		return;
	if (hk->command != NULL) {
		json[len] = '\n';	/* one line on stdin */
		run_command(hk, ev, json, len + 1);
		json[len] = '\0';
	}
	if (hk->url != NULL && spool_event(hk, json, len) == 0 &&
	    PLUME_HOST_HAS(hk->h, flush_wanted))
		hk->h->flush_wanted(hk->in);	/* a run will post it */
	free(json);
}

/* ---- libcurl and libcrypto, loaded at the first post ----------------- */

/* __typeof__ keeps each pointer's type the header's own */
struct weblib {
	bool	 tried;
	const char *error;		/* why they could not be loaded */
	char	 errbuf[256];
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(EVP_sha256) *evp_sha256;
	__typeof__(HMAC) *hmac;
};

static struct weblib web;

static bool
web_sym(void *lib, const char *soname, const char *name, void *fn_r)
{
	void *fn = dlsym(lib, name);

	if (fn == NULL)
		snprintf(web.errbuf, sizeof(web.errbuf), "%s has no %s",
		    soname, name);
	else	/* a data pointer to a function pointer, as POSIX allows */
		memcpy(fn_r, &fn, sizeof(fn));
	return fn != NULL;
}

/* Loads libcurl and libcrypto once per process; NULL when they are
   there, else why not.  Never unloaded: neither library supports it. */
static const char *
web_load(void)
{
	void *curl, *crypto;

	if (web.tried)
		return web.error;
	web.tried = true;
	web.error = web.errbuf;
	if ((curl = dlopen(HOOK_LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (crypto = dlopen(HOOK_LIBCRYPTO, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(web.errbuf, sizeof(web.errbuf), "cannot load %s "
		    "(install %s): %s", curl == NULL ? HOOK_LIBCURL :
		    HOOK_LIBCRYPTO, curl == NULL ? "libcurl4" : "libssl3",
		    dlerror());
		return web.error;
	}
	if (!web_sym(curl, HOOK_LIBCURL, "curl_easy_init", &web.easy_init) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_easy_setopt",
	    &web.easy_setopt) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_easy_perform",
	    &web.easy_perform) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_easy_getinfo",
	    &web.easy_getinfo) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_easy_cleanup",
	    &web.easy_cleanup) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_easy_strerror",
	    &web.easy_strerror) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_slist_append",
	    &web.slist_append) ||
	    !web_sym(curl, HOOK_LIBCURL, "curl_slist_free_all",
	    &web.slist_free_all) ||
	    !web_sym(crypto, HOOK_LIBCRYPTO, "EVP_sha256", &web.evp_sha256) ||
	    !web_sym(crypto, HOOK_LIBCRYPTO, "HMAC", &web.hmac))
		return web.error;
	web.error = NULL;
	return NULL;
}

/* ---- posting, in the queue runner ------------------------------------ */

static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

/* POSTs body; 0 on a 2xx answer, else -1 with why. */
static int
post(struct hook *hk, CURL *c, const char *secret, const char *body,
    size_t len, char *why, size_t whylen)
{
	struct curl_slist *hdrs = NULL, *t;
	char line[160], errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;
	int rc = -1;

	hdrs = web.slist_append(hdrs, "Content-Type: application/json");
	if (secret != NULL && hdrs != NULL) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		char ts[32], hex[2 * EVP_MAX_MD_SIZE + 1];
		size_t tslen = (size_t)snprintf(ts, sizeof(ts), "%lld",
		    (long long)hk->h->now());
		unsigned char *msg = malloc(tslen + 1 + len);

		if (msg == NULL) {
			snprintf(why, whylen, "out of memory");
			web.slist_free_all(hdrs);
			return -1;
		}
		/* sha256=HEX(HMAC(secret, timestamp "." body)) */
		memcpy(msg, ts, tslen);
		msg[tslen] = '.';
		memcpy(msg + tslen + 1, body, len);
		web.hmac(web.evp_sha256(), secret, (int)strlen(secret), msg,
		    tslen + 1 + len, md, &mdlen);
		free(msg);
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		snprintf(line, sizeof(line), "X-Plume-Timestamp: %s", ts);
		if ((t = web.slist_append(hdrs, line)) != NULL)
			hdrs = t;
		snprintf(line, sizeof(line), "X-Plume-Signature: sha256=%s",
		    hex);
		if ((t = web.slist_append(hdrs, line)) != NULL)
			hdrs = t;
	}
	if (hdrs == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	web.easy_setopt(c, CURLOPT_URL, hk->url);
	curl_safe_apply(web.easy_setopt, c, strncasecmp(hk->url, "http://",
	    7) == 0 ? "http" : "https", hk->ca_file);
	web.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)hk->post_timeout_ms);
	web.easy_setopt(c, CURLOPT_USERAGENT, "plume-hook/1.0");
	web.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	web.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	web.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	web.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	web.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = web.easy_perform(c);
	web.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	web.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	web.slist_free_all(hdrs);
	if (cc != CURLE_OK)
		snprintf(why, whylen, "%s", errbuf[0] ? errbuf :
		    web.easy_strerror(cc));
	else {
		web.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			rc = 0;
		else
			snprintf(why, whylen, "HTTP status %ld", status);
	}
	return rc;
}

/* Reads a spool file: its header and body (malloc'd, NUL-terminated). */
static int
spool_read(int fd, unsigned *attempts_r, long long *next_r,
    long long *created_r, char **body_r, size_t *len_r)
{
	struct stat st;
	char *buf, *body;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    st.st_size > HOOK_SPOOL_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	if (sscanf(buf, "plume-hook 1\nattempts %u\nnext %lld\ncreated %lld\n",
	    attempts_r, next_r, created_r) != 3 ||
	    (body = strstr(buf, "\n\n")) == NULL) {
		free(buf);
		return -1;
	}
	body += 2;
	*len_r = got - (size_t)(body - buf);
	memmove(buf, body, *len_r + 1);
	*body_r = buf;
	return 0;
}

/* One spooled event: 1 posted (or given up), 0 not due or busy, -1 the
   post failed (the endpoint is down: this run posts no more). */
static int
flush_one(struct hook *hk, const char *dir, const char *name, CURL *c,
    const char *secret)
{
	char path[PATH_MAX], why[CURL_ERROR_SIZE + 64];
	unsigned attempts;
	long long next, created, now = (long long)hk->h->now(), wait;
	struct stat st;
	char *body = NULL;
	size_t len;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	/* another runner has it, or posted it and removed it since */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &st) == -1 ||
	    st.st_nlink == 0)
		goto out;
	if (spool_read(fd, &attempts, &next, &created, &body, &len) == -1) {
		char *bad = spool_dir(hk, "failed");

		hk->h->log(hk->in, PLUME_LOG_ERR, "%s: damaged spool file, "
		    "moved to failed/", path);
		if (bad != NULL) {
			char to[PATH_MAX];

			snprintf(to, sizeof(to), "%s/%s", bad, name);
			rename(path, to);
			free(bad);
		}
		goto out;
	}
	if (next > now)
		goto out;
	if (post(hk, c, secret, body, len, why, sizeof(why)) == 0) {
		unlink(path);
		rc = 1;
		goto out;
	}
	attempts++;
	if (now - created > hk->lifetime) {
		char *failed = spool_dir(hk, "failed");

		hk->h->log(hk->in, PLUME_LOG_ERR, "webhook %s: %s; given up "
		    "after %u attempts, kept in failed/: %s", hk->url, why,
		    attempts, body);
		if (failed == NULL || spool_write(failed, name, attempts, 0,
		    created, body, len) == 0)
			unlink(path);
		free(failed);
		rc = -1;
		goto out;
	}
	wait = hk->min_backoff;
	for (unsigned i = 1; i < attempts && wait < hk->max_backoff; i++)
		wait *= 2;
	if (wait > hk->max_backoff)
		wait = hk->max_backoff;
	hk->h->log(hk->in, PLUME_LOG_WARNING, "webhook %s: %s; retry in "
	    "%llds (attempt %u)", hk->url, why, wait, attempts);
	if (spool_write(dir, name, attempts, now + wait, created, body,
	    len) == -1)
		hk->h->log(hk->in, PLUME_LOG_ERR, "cannot update %s: %s",
		    path, strerror(errno));
	rc = -1;
out:
	free(body);
	close(fd);
	return rc;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
hook_flush(void *state)
{
	struct hook *hk = state;
	char *dir, **names = NULL, *secret = NULL, err[256];
	const char *why;
	size_t n = 0, cap = 0, posted = 0;
	struct dirent *de;
	CURL *c = NULL;
	DIR *d;

	if (hk->url == NULL || (dir = spool_dir(hk, NULL)) == NULL)
		return;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "ev.", 3) != 0)
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? 2 * cap : 64) *
			    sizeof(*v));

			if (v == NULL)
				break;
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n == 0)
		goto out;
	qsort(names, n, sizeof(*names), by_name);
	if (hk->secret_file != NULL && (secret = secret_from_file(
	    "signing_secret_file", hk->secret_file, err, sizeof(err))) ==
	    NULL) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "%s; %zu webhook event%s "
		    "stay spooled", err, n, n == 1 ? "" : "s");
		goto out;
	}
	if ((why = web_load()) != NULL) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "webhook: %s; %zu event%s "
		    "stay spooled", why, n, n == 1 ? "" : "s");
		goto out;
	}
	if ((c = web.easy_init()) == NULL) {
		hk->h->log(hk->in, PLUME_LOG_ERR, "cannot start libcurl");
		goto out;
	}
	/* oldest first; the first failure ends this run's posting */
	for (size_t i = 0; i < n; i++) {
		int r = flush_one(hk, dir, names[i], c, secret);

		if (r < 0)
			break;
		posted += (size_t)r;
	}
	if (posted > 0)
		hk->h->log(hk->in, PLUME_LOG_INFO, "webhook: %zu event%s "
		    "posted", posted, posted == 1 ? "" : "s");
out:
	if (c != NULL)
		web.easy_cleanup(c);
	if (secret != NULL)
		secret_free(secret);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
}

static const struct plume_observer_ops hook_observer = {
	.struct_size = sizeof(struct plume_observer_ops),
	.event = hook_event,
	.flush = hook_flush,
};

const struct plume_plugin PLUME_PLUGIN(hook) = {
	PLUME_PLUGIN_INIT,
	.name = "hook",
	.version = "1.0",
	.description = "runs a command or posts a signed webhook on delivery "
	    "events",
	.kinds = PLUME_KIND_OBSERVER,
	.conf_keys = hook_keys,
	.init = hook_init,
	.shutdown = hook_shutdown,
	.observer = &hook_observer,
};
