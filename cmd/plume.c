/*
 * NAME
 *	plume - sendmail-compatible mail submitter: the command
 * SYNOPSIS
 *	sendmail [options] [recipient ...]
 *	mailq [options]
 *	newaliases [options]
 *	plume [-C file] [-v] command [args]
 * DESCRIPTION
 *	One binary, several personalities chosen by argv[0].  This is the
 *	only place that prints a final error or exits: the core returns
 *	statuses, and here they become sysexits.h codes (see plume(8) and
 *	DESIGN.md, "Results and exit codes").
 *
 *	Before anything else, any of descriptors 0-2 that is closed is
 *	opened on /dev/null, so that no file plume opens (a spool file)
 *	can become stdout or stderr and receive a log line.
 * DIAGNOSTICS
 *	Every non-zero exit prints exactly one line on stderr, starting
 *	"plume: ", and leaves a log record.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <ltdl.h>

#include "aliases.h"
#include "bounce.h"
#include "conf.h"
#include "doctor.h"
#include "import.h"
#include "intake.h"
#include "loader.h"
#include "log.h"
#include "logcmd.h"
#include "routecmd.h"
#include "options.h"
#include "queue.h"
#include "rfc5322.h"
#include "runner.h"
#include "runtime.h"
#include "secure.h"
#include "submit.h"
#include "util.h"

static int	 finish(int);

/*
 * -bs: the message comes from the SMTP dialogue, not from standard
 * input, and submit()'s final line goes into the SMTP reply, not to
 * standard error (standard output is the dialogue).
 */
struct bs {
	char	 buf[65536];
	size_t	 pos, len;
	bool	 eof;
	bool	 skip_lf;		/* the dot line ended with CR: its LF
					   may still come */
	char	 line[2048];		/* submit()'s last word */
	char	 qid[24];
};
static struct bs *bs_current;

/* This binary, for the queue runs it starts (never from PATH). */
static char	 self_path[4096] = SBINDIR "/plume";

static void PRINTF_LIKE(1, 2)
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (bs_current != NULL)
		vsnprintf(bs_current->line, sizeof(bs_current->line), fmt, ap);
	else {
		fputs("plume: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* A final error: one line on stderr, the same line in syslog. */
static int PRINTF_LIKE(2, 3)
fail(int code, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (bs_current != NULL)
		snprintf(bs_current->line, sizeof(bs_current->line), "%s",
		    line);
	else
		fprintf(stderr, "plume: %s\n", line);
	logx_syslog(LOG_LVL_ERR, "%s", line);
	return finish(code);
}

static int
finish(int code)
{
	fflush(stdout);
	if (ferror(stdout) && code == EX_OK) {
		fprintf(stderr, "plume: error writing to standard output\n");
		return EX_IOERR;
	}
	return code;
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds only: LeakSanitizer cannot inspect a set-id process
 * (it needs ptrace) and dies at exit; check leaks everywhere else.
 */
const char	*__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return running_setid() ? "detect_leaks=0" : "";
}
#endif

static void
sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			/* open() takes the lowest free descriptor: this one */
			if (open("/dev/null", O_RDWR) != fd)
				abort();
		}
}

/* When set-id, everything but submission and the mailq summary runs
   with the caller's own group, before it parses a word of input. */
static void
drop_setid(void)
{
	if (!running_setid())
		return;
	if (setid_drop() == -1) {
		fprintf(stderr, "plume: cannot drop privileges: %s\n",
		    strerror(errno));
		exit(EX_OSERR);
	}
}

/*
 * -C and PLUME_CONFIG: honoured for root and when plume is not set-id;
 * refused, never silently ignored, otherwise (a set-id plume reading a
 * config of the caller's choice would run the caller's commands).
 */
/* PLUME_CONFIG as found at start, before a set-id plume cleared the
   environment (so that it can still be refused, not silently ignored) */
static char	*env_config;

/* The effective group of a set-id plume, set aside while it parses and
   taken up again only for what needs it (its own queue entries). */
static gid_t	 setid_egid;

static void
suspend_setid(void)
{
	if (running_setid() && setegid(getgid()) == -1) {
		fprintf(stderr, "plume: cannot set privileges aside: %s\n",
		    strerror(errno));
		exit(EX_OSERR);
	}
}

static void
resume_setid(void)
{
	if (running_setid() && setegid(setid_egid) == -1) {
		fprintf(stderr, "plume: cannot take privileges up: %s\n",
		    strerror(errno));
		exit(EX_OSERR);
	}
}

/* A set-id plume trusts nothing of the caller's environment. */
static void
sanitize_env(void)
{
	const char *c = getenv("PLUME_CONFIG");
	char *tz = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;

	if (c != NULL && *c != '\0')
		env_config = xstrdup(c);
	if (!running_setid()) {
		free(tz);
		return;
	}
	setid_keep_user_env();
	clearenv();
	setenv("PATH", "/usr/bin:/bin", 1);
	if (tz != NULL && strchr(tz, '/') == NULL)	/* no file names */
		setenv("TZ", tz, 1);
	free(tz);
}

static int
config_path(const char *opt, const char **path_r, bool *explicit_r)
{
	const char *env = env_config;
	const char *p = opt != NULL ? opt :
	    (env != NULL && *env != '\0' ? env : NULL);

	*path_r = p;
	*explicit_r = p != NULL;
	if (p != NULL && running_setid() && getuid() != 0)
		return fail(EX_NOPERM, "%s is refused: plume is installed "
		    "set-id and you are not root", opt != NULL ? "-C" :
		    "PLUME_CONFIG");
	return EX_OK;
}

/* The first config error as one line, and how many more there are. */
static char *
config_error_line(const struct runtime *rt)
{
	const struct diag *first = NULL;
	char *line, *out;

	for (size_t i = 0; i < rt->diags.n && first == NULL; i++)
		if (rt->diags.v[i].level == DIAG_ERROR)
			first = &rt->diags.v[i];
	if (first == NULL)
		return xstrdup("config error");
	line = diag_format(first);
	if (rt->diags.nerrors > 1)
		out = xasprintf("config error: %s (and %zu more: run plume "
		    "config check)", line, rt->diags.nerrors - 1);
	else
		out = xasprintf("config error: %s", line);
	free(line);
	return out;
}

static void
user_info(uid_t uid, char **user_r, char **gecos_r)
{
	struct passwd *pw = getpwuid(uid);

	*gecos_r = NULL;
	if (pw == NULL) {
		*user_r = xasprintf("uid%lu", (unsigned long)uid);
		return;
	}
	*user_r = xstrdup(pw->pw_name);
	if (pw->pw_gecos != NULL && pw->pw_gecos[0] != '\0') {
		size_t n = strcspn(pw->pw_gecos, ",");

		if (n > 0)
			*gecos_r = xstrndup(pw->pw_gecos, n);
	}
}

static bool
name_ok(const char *s)
{
	return s[0] != '-' && strpbrk(s, "\r\n") == NULL;
}

static int
count_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
intake_exit(enum intake_status st)
{
	switch (st) {
	case INTAKE_OK:
		return EX_OK;
	case INTAKE_TOO_BIG:
	case INTAKE_BAD_INPUT:
		return EX_DATAERR;
	case INTAKE_CANT_CREATE:
		return EX_CANTCREAT;
	default:
		return EX_IOERR;
	}
}

/* Some recipients refused for good, the others delivered or queued:
   exit 0, and one line naming the refused ones (their DSN comes with
   bounces). */
static void
refused_line(const struct plume_msg *m, const struct delivery_summary *sum)
{
	struct buf b;
	size_t n = 0;

	if (sum->permfail == 0)
		return;
	buf_init(&b);
	for (size_t i = 0; i < m->nrcpt; i++) {
		const struct result *r = &m->rcpts[i].result;

		if (r->status != PLUME_PERMFAIL)
			continue;
		if (n++ == 0)
			buf_printf(&b, "<%s>: %d%s%s %s", m->rcpts[i].addr,
			    r->code, r->enhanced ? " " : "",
			    r->enhanced ? r->enhanced : "",
			    r->text ? r->text : "");
	}
	say("%zu of %zu recipients refused: %s%s", sum->permfail, m->nrcpt,
	    b.data, n > 1 ? " (and others)" : "");
	buf_free(&b);
}

static void
discard(void *arg, const char *p, size_t n)
{
	(void)arg; (void)p; (void)n;
}

static void
bs_skip_to_dot(struct bs *b)
{
	struct canon c;

	canon_init(&c, false, discard, NULL);
	while (!c.done && !b->eof) {
		ssize_t r;

		if (b->pos < b->len) {
			b->pos += canon_feed(&c, b->buf + b->pos,
			    b->len - b->pos);
			continue;
		}
		r = read(STDIN_FILENO, b->buf, sizeof(b->buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			b->eof = true;
		else {
			b->pos = 0;
			b->len = (size_t)r;
		}
	}
	if (c.done)
		b->skip_lf = b->pos > 0 && b->buf[b->pos - 1] == '\r';
}

/* Reads -bs DATA up to the lone dot, from what is buffered, then from
   standard input; what follows the dot stays buffered for the next
   command.  A message the client did not finish is not accepted. */
static enum intake_status
bs_read_message(struct bs *b, const struct intake_opts *io,
    struct plume_msg *m, char *err, size_t errlen)
{
	enum intake_status st;
	struct intake *in = intake_begin(io, m, err, errlen, &st);

	if (in == NULL)
		return st;
	while (!intake_done(in)) {
		ssize_t r;

		if (b->pos < b->len) {
			b->pos += intake_feed(in, b->buf + b->pos,
			    b->len - b->pos);
			continue;
		}
		r = read(STDIN_FILENO, b->buf, sizeof(b->buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			b->eof = true;
			break;
		}
		b->pos = 0;
		b->len = (size_t)r;
	}
	if (intake_ended_by_dot(in)) {
		/* ".\r": the "\n" that follows is the same line end */
		b->skip_lf = b->pos > 0 && b->buf[b->pos - 1] == '\r';
		return intake_end(in);
	}
	if ((st = intake_end(in)) == INTAKE_OK) {
		snprintf(err, errlen, "the client closed the connection "
		    "before the end of the message");
		return INTAKE_BAD_INPUT;
	}
	/* refused midway (too big, disk full): the rest of the data must
	   not be taken for commands */
	bs_skip_to_dot(b);
	return st;
}

/* The aliases file and local_domains of the config, when set; problems
   in the file are logged, and what parsed is used. */
static bool
load_aliases(struct runtime *rt, struct aliases *a, char ***local_r)
{
	const struct conf_entry *e = conf_entry_find(rt->conf->globals,
	    "aliases");
	const struct conf_entry *l = conf_entry_find(rt->conf->globals,
	    "local_domains");
	struct diags d;
	char *path;

	*local_r = l != NULL ? conf_split_list(l->value) : NULL;
	if (e == NULL)
		return false;
	memset(&d, 0, sizeof(d));
	path = conf_resolve_path(e->value, e->file);
	aliases_load(path, a, &d);
	for (size_t i = 0; i < d.n; i++) {
		char *line = diag_format(&d.v[i]);

		log_warnx("%s", line);
		free(line);
	}
	diags_free(&d);
	free(path);
	return true;
}

/* A DSN for the recipients refused at submission when others got
   through, or for all of them with -oem.  -1 when it could not be sent:
   err says why. */
static int
report_refused(struct runtime *rt, const struct plume_msg *m, char *err,
    size_t errlen)
{
	bool *which = xcalloc(m->nrcpt, sizeof(*which));
	int rc;

	for (size_t i = 0; i < m->nrcpt; i++)
		which[i] = m->rcpts[i].result.set &&
		    m->rcpts[i].result.status == PLUME_PERMFAIL;
	rc = bounce_send(rt, m, which, false, err, errlen);
	free(which);
	return rc;
}

/* queue_max_per_user: one user's flood (a hacked web site) must not
   fill the queue for everyone. */
static bool
over_user_cap(const struct runtime *rt)
{
	size_t n;

	if (rt->max_per_user <= 0 || getuid() == 0)
		return false;
	n = queue_count_uid(rt->queue_dir, getuid());
	return n >= (size_t)rt->max_per_user;
}

static int
submit(const struct sm_opts *o, const char *cfg, bool explicit_cfg)
{
	struct runtime rt;
	struct plume_msg m;
	struct submit_opts so;
	struct intake_opts io;
	struct delivery_summary sum;
	enum intake_status ist;
	char err[1024], *tmpdir, *user, *gecos, *cfgerr = NULL;
	int rc, code = EX_OK;
	bool kept = false;	/* the spool file now belongs to the queue */
	bool trigger = false;	/* start a detached queue run at the end */
	char mode;
	struct aliases aliases;
	char **local_domains = NULL, **allowed = NULL;

	if (o->sender != NULL && !name_ok(o->sender))
		return fail(EX_USAGE, "invalid sender address: it begins with "
		    "'-' or holds CR or LF");
	if (o->fullname != NULL && !name_ok(o->fullname))
		return fail(EX_USAGE, "invalid full name (-F): it begins with "
		    "'-' or holds CR or LF");
	for (size_t i = 0; i < o->nrcpts; i++)
		if (!submit_arg_ok(o->rcpts[i]))
			return fail(EX_USAGE, "invalid recipient address: "
			    "it begins with '-' or holds CR or LF");
	if (o->nrcpts == 0 && !o->extract)
		return fail(EX_USAGE, "no recipients: name them on the "
		    "command line or use -t");

	rc = runtime_load(&rt, cfg, explicit_cfg);
	rt.self = self_path;
	log_set_syslog(rt.syslog);
	if (rc == -1)
		cfgerr = config_error_line(&rt);

	if (runtime_ensure_queue(&rt, err, sizeof(err)) == -1) {
		/* a broken config is the news, even when it broke the spool;
		   a spool the caller cannot write is 73, never a queue made
		   somewhere else (userconf.c) */
		if (cfgerr != NULL)
			code = fail(EX_CONFIG, "%s; the message could not be "
			    "kept (%s)", cfgerr, err);
		else
			code = fail(EX_CANTCREAT, "%s", err);
		free(cfgerr);
		runtime_free(&rt);
		return code;
	}

	if (rt.minfree > 0) {
		/* a flood must not fill the file system the queue lives on */
		struct statvfs vfs;

		if (statvfs(rt.queue_dir, &vfs) == 0 &&
		    (long long)vfs.f_bavail * (long long)vfs.f_frsize <
		    rt.minfree) {
			code = fail(EX_TEMPFAIL, "%s has less than "
			    "queue_minfree (%lld bytes) free: not accepting "
			    "mail now", rt.queue_dir, rt.minfree);
			free(cfgerr);
			runtime_free(&rt);
			return code;
		}
	}
	msg_init(&m);
	memset(&io, 0, sizeof(io));
	io.ignore_dots = o->ignore_dots;
	io.size_limit = rt.size_limit;
	tmpdir = xasprintf("%s/tmp", rt.queue_dir);
	io.tmp_dir = tmpdir;
	ist = bs_current != NULL ? bs_read_message(bs_current, &io, &m, err,
	    sizeof(err)) : intake_read(STDIN_FILENO, &io, &m, err, sizeof(err));
	free(tmpdir);
	log_set_qid(m.qid);
	if (bs_current != NULL)
		snprintf(bs_current->qid, sizeof(bs_current->qid), "%s", m.qid);
	if (ist != INTAKE_OK) {
		code = fail(intake_exit(ist), "%s", err);
		goto out;
	}

	user_info(getuid(), &user, &gecos);
	memset(&so, 0, sizeof(so));
	so.extract = o->extract;
	so.sender = o->sender;
	so.fullname = o->fullname;
	so.rcpts = o->rcpts;
	so.nrcpts = o->nrcpts;
	so.hostname = rt.hostname;
	so.domain = rt.domain;
	so.uid = getuid();
	so.user = user;
	so.gecos = gecos;
	so.now = time(NULL);
	if (load_aliases(&rt, &aliases, &local_domains))
		so.aliases = &aliases;
	so.local_domains = local_domains;
	{
		const char *v;

		so.default_recipient = runtime_global(&rt, "default_recipient");
		so.sender_address = runtime_global(&rt, "sender_address");
		v = runtime_global(&rt, "envelope_from");
		so.envelope_from = strcmp(v, "never") == 0 ? 'n' :
		    strcmp(v, "allowed") == 0 ? 'm' : 'a';
		v = runtime_global(&rt, "allowed_senders");
		allowed = v != NULL ? conf_split_list(v) : NULL;
		so.allowed_senders = allowed;
		/* keep, always or unqualified */
		so.from_rewrite = runtime_global(&rt, "from_rewrite")[0];
	}
	rc = submit_prepare(&m, &so, err, sizeof(err));
	if (so.aliases != NULL)
		aliases_free(&aliases);
	strv_free(local_domains);
	strv_free(allowed);
	free(user);
	free(gecos);
	if (rc != SUBMIT_OK) {
		code = fail(EX_USAGE, "%s", err);
		goto out;
	}
	if (o->body_type != NULL && strcmp(o->body_type, "8BITMIME") == 0)
		m.eightbit = true;
	if (o->envid != NULL)
		m.envid = xstrdup(o->envid);
	if (o->ret != NULL)
		m.ret = xstrdup(o->ret);
	for (size_t i = 0; o->notify != NULL && i < m.nrcpt; i++)
		m.rcpts[i].notify = xstrdup(o->notify);
	logx(LOG_LVL_INFO, "from=<%s>, size=%lld, nrcpt=%zu, uid=%lu (%s), "
	    "message-id=%s", m.sender, (long long)msg_size(&m), m.nrcpt,
	    (unsigned long)m.uid, m.user, m.message_id ? m.message_id : "");

	if (cfgerr == NULL && runtime_start(&rt) == -1)
		cfgerr = config_error_line(&rt);
	if (cfgerr != NULL) {
		if (queue_store(rt.queue_dir, QUEUE_HOLD, &m, cfgerr, err,
		    sizeof(err)) == 0) {
			kept = true;
			code = fail(EX_CONFIG, "%s; message kept in %s/hold/%s",
			    cfgerr, rt.queue_dir, m.qid);
		} else
			code = fail(EX_CONFIG, "%s; the message could not be "
			    "kept (%s)", cfgerr, err);
		goto out;
	}

	mode = o->delivery == 'q' ? 'q' : o->delivery == 'b' ? 'b' :
	    o->delivery == 'i' ? 'n' : rt.delivery;
	if (mode != 'n') {
		/* -odq/-odb: filters now (DKIM signs what is queued), then
		   the queue; -odb also starts delivering it in the background */
		runtime_accept(&rt, &m);
		memset(&sum, 0, sizeof(sum));
		for (size_t i = 0; i < m.nrcpt; i++)
			if (m.rcpts[i].result.set &&
			    m.rcpts[i].result.status == PLUME_PERMFAIL)
				sum.permfail++;
		if (sum.permfail == m.nrcpt) {
			code = fail(EX_UNAVAILABLE, "refused: <%s>: %s",
			    m.rcpts[0].addr, m.rcpts[0].result.text ?
			    m.rcpts[0].result.text : "refused by a filter");
			goto out;
		}
		for (size_t i = 0; i < m.nrcpt; i++)
			result_clear(&m.rcpts[i].result);
		m.next_attempt = time(NULL);
		if (over_user_cap(&rt)) {
			code = fail(EX_TEMPFAIL, "uid %lu has %lld messages "
			    "waiting in the queue (queue_max_per_user): not "
			    "accepting more now", (unsigned long)getuid(),
			    rt.max_per_user);
			goto out;
		}
		if (queue_store(rt.queue_dir, QUEUE_DEFERRED, &m, "queued",
		    err, sizeof(err)) == -1) {
			code = fail(EX_TEMPFAIL, "the message could not be "
			    "queued: %s", err);
			goto out;
		}
		kept = true;
		log_info("queued (delivery = %s)", mode == 'q' ? "queue" :
		    "background");
		if (mode == 'b')
			queue_trigger(&rt, m.qid);
		goto out;
	}
	m.dsn_refused = o->errmode == 'm';
	runtime_deliver(&rt, &m, &sum);
	if (m.refused.set && sum.tempfail > 0 && sum.delivered == 0) {
		/* a policy (action = reject) refused it for now: the caller
		   keeps the message and tries again; nothing is queued (but
		   when another route delivered some of it, a retry by the
		   caller would duplicate those: the rest is queued) */
		code = fail(EX_TEMPFAIL, "refused for now: %s",
		    m.refused.text ? m.refused.text : "by a policy");
	} else if (sum.tempfail > 0) {
		/* what failed temporarily waits in the queue: exit 0 */
		m.attempts = 1;
		queue_settle(&rt, &m, time(NULL));
		if (over_user_cap(&rt))
			code = fail(EX_TEMPFAIL, "%zu of %zu recipients could "
			    "not be delivered now, and uid %lu already has %lld "
			    "messages waiting (queue_max_per_user): %s",
			    sum.tempfail, m.nrcpt, (unsigned long)getuid(),
			    rt.max_per_user, sum.first_error);
		else if (queue_store(rt.queue_dir, QUEUE_DEFERRED, &m, "deferred",
		    err, sizeof(err)) == 0) {
			kept = true;
			log_info("queued: %zu of %zu recipients deferred (%s)",
			    sum.tempfail, m.nrcpt, m.last_error);
			refused_line(&m, &sum);
			/* queued mail must not wait for a timer nobody set
			   up: if no runner is at work, start one */
			trigger = true;
		} else
			code = fail(EX_TEMPFAIL, "%zu of %zu recipients could "
			    "not be delivered now, and the message could not be "
			    "queued (%s): %s", sum.tempfail, m.nrcpt, err,
			    sum.first_error);
	} else if (sum.permfail == m.nrcpt && o->errmode != 'm')
		code = fail(sum.all_perm_are_5_1 ? EX_NOUSER : EX_UNAVAILABLE,
		    "refused: %s", sum.first_error);
	else
		refused_line(&m, &sum);
	if (sum.permfail > 0 && (sum.permfail < m.nrcpt || o->errmode == 'm') &&
	    report_refused(&rt, &m, err, sizeof(err)) == -1) {
		/* the sender could not be told: the message is kept */
		log_err("%s", err);
		if (sum.permfail == m.nrcpt)
			code = fail(sum.all_perm_are_5_1 ? EX_NOUSER :
			    EX_UNAVAILABLE, "refused: %s", sum.first_error);
		if (!kept) {
			for (size_t i = 0; i < m.nrcpt; i++)
				m.rcpts[i].state = m.rcpts[i].result.status ==
				    PLUME_OK ? RCPT_SENT : RCPT_FAILED;
			char *why = xstrdup(err);

			if (queue_store(rt.queue_dir, "failed", &m, why, err,
			    sizeof(err)) == 0)
				kept = true;
			free(why);
		}
	}
	/* an observer's work for the runner (a webhook post) must not
	   wait for a timer either, nor slow this process down; when no
	   observer kept any, no run (a double fork per submission) */
	if (runtime_wants_flush(&rt))
		trigger = true;
	if (trigger && (!running_setid() || getuid() == 0) &&
	    !queue_runner_active(rt.queue_dir))
		queue_trigger(&rt, NULL);
	if (rt.embedded && sum.delivered > 0) {
		/* the outbox is the built-in transport: mail did not leave */
		char *line = xasprintf("no config file (%s): message captured "
		    "in the local outbox %s/outbox, not sent",
		    SYSCONFDIR "/plume/plume.conf", rt.queue_dir);

		/* syslog always; stderr with -v or when it is a terminal */
		log_warnx("%s", line);
		free(line);
	}
	summary_free(&sum);
out:
	if (!kept && m.body_path != NULL)
		unlink(m.body_path);
	msg_free(&m);
	free(cfgerr);
	runtime_free(&rt);
	log_set_qid(NULL);
	return finish(code);
}

/* The earliest next attempt seen by list_one(), for mailq's warning. */
static time_t oldest_due;

/* One queued message in mailq's format (Postfix's). */
static void
list_one(const char *queue_dir, const char *sub, const char *qid,
    char mark, size_t *n, off_t *bytes)
{
	struct queue_item it;
	struct plume_msg m;
	char err[512], when[32];
	struct tm tm;

	if (queue_peek(queue_dir, sub, qid, &it, err, sizeof(err)) != QUEUE_OK ||
	    queue_load(&it, &m, err, sizeof(err)) != QUEUE_OK) {
		printf("%-18s%c (unreadable: %s)\n", qid, mark, err);
		queue_close(&it);
		return;
	}
	localtime_r(&m.arrival, &tm);
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	printf("%-18s%c %8lld %s  %s\n", m.qid, mark,
	    (long long)msg_size(&m), when, m.sender[0] ? m.sender :
	    "MAILER-DAEMON");
	if (m.last_error != NULL)
		printf("%*s(%s)\n", 8, "", m.last_error);
	for (size_t i = 0; i < m.nrcpt; i++)
		if (m.rcpts[i].state == RCPT_PENDING)
			printf("%*s%s\n", 48, "", m.rcpts[i].addr);
	printf("\n");
	(*n)++;
	*bytes += msg_size(&m);
	if (oldest_due == 0 || m.next_attempt < oldest_due)
		oldest_due = m.next_attempt;
	msg_free(&m);
	queue_close(&it);
}

static int
mailq(const char *cfg, bool explicit_cfg)
{
	struct runtime rt;
	char **ids, *dir;
	size_t n = 0;
	off_t bytes = 0;
	int k;

	runtime_load(&rt, cfg, explicit_cfg);
	if (queue_list(rt.queue_dir, QUEUE_DEFERRED, &ids) > 0)
		printf("-Queue ID-        --Size-- ----Arrival Time---- "
		    "-Sender/Recipient-------\n");
	for (size_t i = 0; ids[i] != NULL; i++) {
		list_one(rt.queue_dir, QUEUE_DEFERRED, ids[i], ' ', &n,
		    &bytes);
		free(ids[i]);
	}
	free(ids);
	if (n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lld Kbytes in %zu Request%s.\n",
		    (long long)(bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	if (oldest_due != 0 && time(NULL) - oldest_due > rt.max_backoff)
		printf("warning: a deferred message has been due for more than "
		    "queue_max_backoff: is a queue runner scheduled? (plume "
		    "queue run from cron or the systemd timer)\n");
	dir = xasprintf("%s/outbox/new", rt.queue_dir);
	if ((k = count_files(dir)) > 0)
		printf("%d message%s captured in the local outbox %s/outbox "
		    "(not sent)\n", k, k == 1 ? "" : "s", rt.queue_dir);
	free(dir);
	dir = xasprintf("%s/%s", rt.queue_dir, QUEUE_HOLD);
	if ((k = count_files(dir) / 2) > 0)
		printf("%d message%s held in %s\n", k, k == 1 ? "" : "s", dir);
	free(dir);
	dir = xasprintf("%s/failed", rt.queue_dir);
	if ((k = count_files(dir) / 2) > 0)
		printf("%d message%s failed for good in %s\n", k,
		    k == 1 ? "" : "s", dir);
	free(dir);
	runtime_free(&rt);
	return finish(EX_OK);
}

/* -bs: one line of the dialogue; false at the end of input.  A line
   longer than the buffer is read to its end and marked too long. */
static bool
bs_line(struct bs *b, char *out, size_t outlen, bool *toolong)
{
	size_t n = 0;

	*toolong = false;
	for (;;) {
		char c;

		if (b->pos == b->len) {
			ssize_t r = read(STDIN_FILENO, b->buf, sizeof(b->buf));

			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				b->eof = true;
				return false;
			}
			b->pos = 0;
			b->len = (size_t)r;
		}
		c = b->buf[b->pos++];
		if (b->skip_lf) {
			b->skip_lf = false;
			if (c == '\n')
				continue;
		}
		if (c == '\n')
			break;
		if (n + 1 < outlen)
			out[n++] = c;
		else
			*toolong = true;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return true;
}

static void PRINTF_LIKE(1, 2)
bs_reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs("\r\n", stdout);
	fflush(stdout);
}

/* "FROM:<a@b> PARAMS" or "TO:<a@b>": the address, params after it */
static char *
bs_path(char *arg, const char *kw, char **params_r)
{
	size_t k = strlen(kw);
	char *lt, *gt;

	if (strncasecmp(arg, kw, k) != 0)
		return NULL;
	arg += k;
	while (*arg == ' ')
		arg++;
	if (*arg != '<' || (gt = strchr(arg, '>')) == NULL)
		return NULL;
	lt = arg + 1;
	*gt = '\0';
	*params_r = gt + 1;
	return lt;
}

/*
 * -bs: SMTP on standard input and output (RFC 5321), as Symfony Mailer
 * and Laravel use by default: each message accepted with DATA goes
 * through submit(), exactly as one piped to sendmail, and gets 250 once
 * it is delivered or safely queued.
 */
static int
bs_main(const struct sm_opts *o, const char *cfg, bool explicit_cfg)
{
	struct bs b;
	struct runtime rt;
	char line[1024], *host, *sender = NULL;
	char **rcpts = NULL;
	size_t nrcpts = 0;
	long long limit;
	bool toolong;

	memset(&b, 0, sizeof(b));
	runtime_load(&rt, cfg, explicit_cfg);
	host = xstrdup(rt.hostname);
	limit = rt.size_limit;
	runtime_free(&rt);
	bs_reply("220 %s ESMTP plume", host);
	while (bs_line(&b, line, sizeof(line), &toolong)) {
		char *arg = strchr(line, ' '), *params, *addr;

		if (arg != NULL)
			*arg++ = '\0';
		if (toolong) {
			bs_reply("500 5.5.6 Line too long");
			continue;
		}
		if (strcasecmp(line, "EHLO") == 0 || strcasecmp(line, "HELO") == 0) {
			free(sender);
			sender = NULL;
			for (size_t i = 0; i < nrcpts; i++)
				free(rcpts[i]);
			nrcpts = 0;
			if (strcasecmp(line, "HELO") == 0)
				bs_reply("250 %s", host);
			else {
				printf("250-%s\r\n250-PIPELINING\r\n"
				    "250-8BITMIME\r\n250-SMTPUTF8\r\n", host);
				if (limit > 0)
					printf("250-SIZE %lld\r\n", limit);
				bs_reply("250 ENHANCEDSTATUSCODES");
			}
		} else if (strcasecmp(line, "MAIL") == 0) {
			if (sender != NULL) {
				bs_reply("503 5.5.1 Nested MAIL command");
				continue;
			}
			if (arg == NULL ||
			    (addr = bs_path(arg, "FROM:", &params)) == NULL) {
				bs_reply("501 5.5.4 Syntax: MAIL FROM:<address>");
				continue;
			}
			if (*addr != '\0' && (!submit_arg_ok(addr) ||
			    !rfc5321_valid_mailbox(addr, true))) {
				bs_reply("553 5.1.7 Bad sender address syntax");
				continue;
			}
			if (strcasestr(params, "SIZE=") != NULL && limit > 0 &&
			    strtoll(strcasestr(params, "SIZE=") + 5, NULL, 10) >
			    limit) {
				bs_reply("552 5.3.4 Message size exceeds the limit");
				continue;
			}
			sender = *addr ? xstrdup(addr) : xstrdup("<>");
			bs_reply("250 2.1.0 Ok");
		} else if (strcasecmp(line, "RCPT") == 0) {
			if (sender == NULL) {
				bs_reply("503 5.5.1 Need MAIL command");
				continue;
			}
			if (arg == NULL ||
			    (addr = bs_path(arg, "TO:", &params)) == NULL) {
				bs_reply("501 5.5.4 Syntax: RCPT TO:<address>");
				continue;
			}
			if (!submit_arg_ok(addr) ||
			    !rfc5321_valid_mailbox(addr, true)) {
				bs_reply("553 5.1.3 Bad recipient address syntax");
				continue;
			}
			if (nrcpts >= 1000) {
				bs_reply("452 4.5.3 Too many recipients");
				continue;
			}
			rcpts = xreallocarray(rcpts, nrcpts + 1, sizeof(*rcpts));
			rcpts[nrcpts++] = xstrdup(addr);
			bs_reply("250 2.1.5 Ok");
		} else if (strcasecmp(line, "DATA") == 0) {
			struct sm_opts mo = *o;
			int code;

			if (nrcpts == 0) {
				bs_reply("503 5.5.1 Need RCPT command");
				continue;
			}
			bs_reply("354 End data with <CR><LF>.<CR><LF>");
			mo.extract = false;
			mo.ignore_dots = false;	/* SMTP: the dot ends it */
			mo.sender = sender;
			mo.rcpts = rcpts;
			mo.nrcpts = nrcpts;
			b.line[0] = '\0';
			b.qid[0] = '\0';
			bs_current = &b;
			code = submit(&mo, cfg, explicit_cfg);
			bs_current = NULL;
			switch (code) {
			case EX_OK:
				bs_reply("250 2.0.0 Ok: queued as %s%s%s", b.qid,
				    b.line[0] ? "; " : "", b.line);
				break;
			case EX_NOUSER:
				bs_reply("550 5.1.1 %s", b.line);
				break;
			case EX_UNAVAILABLE:
				bs_reply("554 5.7.0 %s", b.line);
				break;
			case EX_DATAERR:
				bs_reply("%s %s", strstr(b.line, "size_limit") ?
				    "552 5.3.4" : "554 5.6.0", b.line);
				break;
			case EX_USAGE:
				bs_reply("550 5.1.3 %s", b.line);
				break;
			default:
				bs_reply("451 4.3.0 %s", b.line);
				break;
			}
			free(sender);
			sender = NULL;
			for (size_t i = 0; i < nrcpts; i++)
				free(rcpts[i]);
			nrcpts = 0;
			if (b.eof)
				break;
		} else if (strcasecmp(line, "RSET") == 0) {
			free(sender);
			sender = NULL;
			for (size_t i = 0; i < nrcpts; i++)
				free(rcpts[i]);
			nrcpts = 0;
			bs_reply("250 2.0.0 Ok");
		} else if (strcasecmp(line, "NOOP") == 0)
			bs_reply("250 2.0.0 Ok");
		else if (strcasecmp(line, "VRFY") == 0)
			bs_reply("252 2.5.0 Cannot VRFY, but will accept the "
			    "message");
		else if (strcasecmp(line, "QUIT") == 0) {
			bs_reply("221 2.0.0 Bye");
			break;
		} else if (line[0] == '\0')
			bs_reply("500 5.5.2 Error: bad syntax");
		else
			bs_reply("502 5.5.2 Error: command not recognized");
	}
	free(sender);
	for (size_t i = 0; i < nrcpts; i++)
		free(rcpts[i]);
	free(rcpts);
	free(host);
	return finish(EX_OK);
}

/*
 * newaliases: plume reads the aliases file itself when mail arrives, so
 * there is no database to build; it checks the file, says what is wrong
 * with file:line, and exits non-zero only for syntax errors (Debian's
 * maintainer scripts call it).
 */
static int
newaliases(const char *cfg, bool explicit_cfg)
{
	struct runtime rt;
	const struct conf_entry *e;
	int code = EX_OK;

	runtime_load(&rt, cfg, explicit_cfg);
	e = conf_entry_find(rt.conf->globals, "aliases");
	if (e == NULL)
		printf("plume: no aliases file is configured (aliases = "
		    "/etc/aliases); nothing to do\n");
	else {
		struct aliases a;
		struct diags d;
		char *path = conf_resolve_path(e->value, e->file);

		memset(&d, 0, sizeof(d));
		if (aliases_load(path, &a, &d) == -1)
			code = EX_DATAERR;
		for (size_t i = 0; i < d.n; i++) {
			char *line = diag_format(&d.v[i]);

			fprintf(stderr, "plume: %s: %s\n",
			    d.v[i].level == DIAG_ERROR ? "error" : "warning",
			    line);
			free(line);
		}
		printf("plume: %s: %zu aliases\n", path, a.n);
		diags_free(&d);
		aliases_free(&a);
		free(path);
	}
	runtime_free(&rt);
	return finish(code);
}

/*
 * -bv: what each recipient resolves to, without sending anything: the
 * address as it would go into the envelope, and the transport with its
 * failover chain.  Exit 0 when every address is usable, 64 otherwise.
 */
static int
verify(const struct sm_opts *o, const char *cfg, bool explicit_cfg)
{
	struct runtime rt;
	char *snd;
	int code = EX_OK;

	if (o->nrcpts == 0)
		return fail(EX_USAGE, "-bv: name the addresses to verify");
	if (runtime_load(&rt, cfg, explicit_cfg) == -1) {
		char *line = config_error_line(&rt);

		code = fail(EX_CONFIG, "%s", line);
		free(line);
		runtime_free(&rt);
		return code;
	}
	if (runtime_start(&rt) == -1) {
		/* the routes still show; what filters and policies would
		   do needs them started (a key this user cannot read) */
		char *line = config_error_line(&rt);

		printf("(filters and policies not shown: %s)\n", line);
		free(line);
	}
	snd = o->sender != NULL ? submit_qualify(o->sender, rt.domain) : NULL;
	for (size_t i = 0; i < o->nrcpts; i++) {
		char *q = submit_qualify(o->rcpts[i], rt.domain);

		if (!route_addr_ok(q)) {
			printf("%s: invalid address\n", o->rcpts[i]);
			code = EX_USAGE;
		} else {
			struct plume_inst *r = runtime_route(&rt, q, snd,
			    NULL, NULL);
			struct buf b, x;

			buf_init(&b);
			buf_init(&x);
			if (r != NULL)
				runtime_describe_route(&rt, r, &b);
			route_explain(&rt, snd, snd, q, &x);
			printf("%s: deliverable: <%s> via %s\n%s", o->rcpts[i],
			    q, r != NULL ? b.data : "(no route)", x.data);
			buf_free(&b);
			buf_free(&x);
		}
		free(q);
	}
	free(snd);
	runtime_free(&rt);
	return finish(code);
}

/* -q, plume queue flush|run: one pass over the queue. */
static int
run_queue(const char *cfg, bool explicit_cfg, const struct run_opts *o)
{
	struct runtime rt;
	struct run_stats st;
	char err[512];
	int code = EX_OK, lrc;

	lrc = runtime_load(&rt, cfg, explicit_cfg);

	rt.self = self_path;
	if (lrc == -1 || runtime_start(&rt) == -1) {
		char *line = config_error_line(&rt);

		code = fail(EX_CONFIG, "%s", line);
		free(line);
		runtime_free(&rt);
		return code;
	}
	log_set_syslog(rt.syslog);
	if (runtime_ensure_queue(&rt, err, sizeof(err)) == -1)
		code = fail(EX_CANTCREAT, "%s", err);
	else {
		char par[48] = "";

		queue_run(&rt, o, &st);
		if (st.workers > 1)
			snprintf(par, sizeof(par), ", %zu workers", st.workers);
		log_info("queue run: %zu seen, %zu attempted, %zu done, "
		    "%zu deferred, %zu expired, %zu skipped, %zu corrupt, "
		    "%zu held%s", st.seen, st.attempted, st.done, st.deferred,
		    st.expired, st.skipped, st.corrupt, st.held, par);
		if (st.lost > 0)
			log_warnx("queue run: %zu worker%s ended abnormally; "
			    "their messages stay queued", st.lost,
			    st.lost == 1 ? "" : "s");
	}
	runtime_free(&rt);
	return finish(code);
}

/* -q[I|R|S]ARG: a selection, and always a flush (as Postfix does). */
static int
queue_option(const char *arg, struct run_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->flush = true;
	if (arg == NULL || *arg == '\0')
		return 0;
	switch (arg[0]) {
	case 'I': o->only_id = arg + 1; return 0;
	case 'R': o->rcpt_sub = arg + 1; return 0;
	case 'S': o->sender_sub = arg + 1; return 0;
	}
	snprintf(err, errlen, "-q%s: periodic queue runs are the job of a "
	    "timer (plume queue run from cron or systemd), not available as "
	    "-q INTERVAL", arg);
	return -1;
}

/*
 * plume queue show|delete|hold|release ID: one entry, the caller's own
 * unless the caller is root.  A set-id plume takes its group up again
 * only here, for the spool, after the arguments are parsed.
 */
static int
queue_entry(const char *cfg, bool explicit_cfg, const char *op,
    const char *qid)
{
	struct runtime rt;
	struct queue_item it;
	struct plume_msg m;
	char err[512];
	enum queue_status qs;
	bool show = strcmp(op, "show") == 0;
	bool release = strcmp(op, "release") == 0;
	int code = EX_OK;

	resume_setid();
	runtime_load(&rt, cfg, explicit_cfg);
	msg_init(&m);
	memset(&it, 0, sizeof(it));
	it.fd = -1;
	if (strchr(qid, '/') != NULL || qid[0] == '.')
		qs = QUEUE_GONE;
	else if (show)
		qs = queue_peek(rt.queue_dir, QUEUE_DEFERRED, qid, &it, err,
		    sizeof(err));
	else
		qs = queue_open(rt.queue_dir, release ? QUEUE_HOLD :
		    QUEUE_DEFERRED, qid, &it, err, sizeof(err));
	if (qs == QUEUE_OK)
		qs = queue_load(&it, &m, err, sizeof(err));
	if (qs == QUEUE_GONE)
		code = fail(EX_NOINPUT, "no message %s %s", qid,
		    release ? "held" : "in the queue");
	else if (qs == QUEUE_LOCKED)
		code = fail(EX_TEMPFAIL, "message %s is being delivered now",
		    qid);
	else if (qs == QUEUE_DENIED)
		code = fail(EX_NOPERM, "message %s is not yours", qid);
	else if (qs != QUEUE_OK)
		code = fail(EX_IOERR, "%s", err);
	else if (getuid() != 0 && m.uid != getuid())
		code = fail(EX_NOPERM, "message %s is not yours (it was "
		    "submitted by uid %lu)", qid, (unsigned long)m.uid);
	else if (show) {
		struct plume_stream *str;
		char buf[65536];
		ssize_t r;

		printf("Queue-ID: %s\nSender: <%s>\nAttempts: %u\n", m.qid,
		    m.sender, m.attempts);
		for (size_t i = 0; i < m.nrcpt; i++)
			printf("Recipient: <%s> %s\n", m.rcpts[i].addr,
			    m.rcpts[i].state == RCPT_SENT ? "sent" :
			    m.rcpts[i].state == RCPT_FAILED ? "failed" :
			    "pending");
		if (m.last_error != NULL)
			printf("Last-Error: %s\n", m.last_error);
		printf("\n");
		str = msg_stream_open(&m, PLUME_STREAM_MESSAGE);
		while ((r = msg_stream_read(str, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, (size_t)r, stdout);
		msg_stream_close(str);
	} else if (strcmp(op, "delete") == 0)
		queue_remove(&it);
	else if (release) {
		m.next_attempt = time(NULL);	/* due at once */
		if (queue_update(&it, &m, "released", err, sizeof(err)) == -1 ||
		    queue_move(&it, QUEUE_DEFERRED, err, sizeof(err)) == -1)
			code = fail(EX_IOERR, "%s", err);
	} else if (queue_move(&it, QUEUE_HOLD, err, sizeof(err)) == -1)
		code = fail(EX_IOERR, "%s", err);
	if (code == EX_OK && !show)
		log_notice("%s: %s by uid %lu", qid, strcmp(op, "delete") == 0 ?
		    "deleted" : release ? "released" : "held",
		    (unsigned long)getuid());
	msg_free(&m);
	queue_close(&it);
	runtime_free(&rt);
	return finish(code);
}

static int
cmd_queue(const char *cfg, bool explicit_cfg, int argc, char **argv)
{
	struct run_opts o;

	memset(&o, 0, sizeof(o));
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return mailq(cfg, explicit_cfg);
	if ((argc == 1 || argc == 2) && strcmp(argv[0], "flush") == 0) {
		o.flush = true;
		o.only_id = argc == 2 ? argv[1] : NULL;
		return run_queue(cfg, explicit_cfg, &o);
	}
	if (argc == 1 && strcmp(argv[0], "run") == 0)
		return run_queue(cfg, explicit_cfg, &o);
	if (argc >= 2 && strcmp(argv[0], "run") == 0 &&
	    strcmp(argv[1], "--daemon") == 0) {
		long long every = 300;

		if (argc == 4 && strcmp(argv[2], "--interval") == 0) {
			if (conf_parse_duration(argv[3], &every) == -1 ||
			    every < 1)
				return fail(EX_USAGE, "--interval %s: expected "
				    "a duration such as 5m", argv[3]);
		} else if (argc != 2)
			return fail(EX_USAGE, "usage: plume queue run --daemon "
			    "[--interval DURATION]");
		/* a periodic runner for systems without cron or timers:
		   the config is read anew for every run */
		for (;;) {
			run_queue(cfg, explicit_cfg, &o);
			sleep((unsigned)every);
		}
	}
	if (argc == 2 && (strcmp(argv[0], "show") == 0 ||
	    strcmp(argv[0], "delete") == 0 || strcmp(argv[0], "hold") == 0 ||
	    strcmp(argv[0], "release") == 0))
		return queue_entry(cfg, explicit_cfg, argv[0], argv[1]);
	return fail(EX_USAGE, "usage: plume queue list|flush [ID]|run|"
	    "show ID|delete ID|hold ID|release ID");
}

/*
 * plume log|stats: the delivery log and the queue, the caller's own
 * entries unless root.  As for plume queue show, a set-id plume takes
 * its group up again only here, after the arguments are parsed: the
 * log and the spool are the group's; what is read comes from the
 * system config (-C is refused for set-id callers).
 */
static int
cmd_log(const char *cfg, bool explicit_cfg, bool stats, int argc,
    char **argv)
{
	struct runtime rt;
	char err[1024] = "";
	int code;

	resume_setid();
	runtime_load(&rt, cfg, explicit_cfg);
	code = stats ? logcmd_stats(&rt, argc, argv, err, sizeof(err)) :
	    logcmd_log(&rt, argc, argv, err, sizeof(err));
	runtime_free(&rt);
	if (code != EX_OK && err[0] != '\0')
		return fail(code, "%s", err);
	return finish(code);
}

static int
sendmail_main(int argc, char **argv, enum sm_mode forced,
    const char *cfg_override, int verbose_add)
{
	struct sm_opts o;
	char err[512];
	const char *cfg;
	bool explicit_cfg;
	int rc;

	if (sm_parse(argc, argv, getuid() == 0, &o, err, sizeof(err)) == -1) {
		log_open("plume", 0);
		return fail(EX_USAGE, "%s", err);
	}
	if (forced != SM_MODE_DELIVER)
		o.mode = forced;
	if (cfg_override != NULL)
		o.config = cfg_override;
	o.verbose += verbose_add;
	log_open(o.log_tag != NULL ? o.log_tag : "plume", o.verbose);
	for (size_t i = 0; i < o.nignored; i++)
		log_debug("option %s accepted and ignored", o.ignored[i]);
	if (o.mode != SM_MODE_DELIVER && o.mode != SM_MODE_PRINTQ)
		drop_setid();
	if ((rc = config_path(o.config, &cfg, &explicit_cfg)) != EX_OK)
		return rc;

	switch (o.mode) {
	case SM_MODE_DELIVER:
		return submit(&o, cfg, explicit_cfg);
	case SM_MODE_PRINTQ:
		return mailq(cfg, explicit_cfg);
	case SM_MODE_ALIASES:
		return newaliases(cfg, explicit_cfg);
	case SM_MODE_SMTP:
		return bs_main(&o, cfg, explicit_cfg);
	case SM_MODE_VERIFY:
		return verify(&o, cfg, explicit_cfg);
	case SM_MODE_QUEUE_RUN: {
		struct run_opts ro;

		if (queue_option(o.queue_arg, &ro, err, sizeof(err)) == -1)
			return fail(EX_UNAVAILABLE, "%s", err);
		return run_queue(cfg, explicit_cfg, &ro);
	}
	}
	return fail(EX_SOFTWARE, "internal error: unknown mode");
}

/* ---- plume COMMAND ----------------------------------------------- */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: plume [-C file] [-v] command [args]\n"
	    "commands:\n"
	    "  sendmail [options] [rcpt ...]  submit a message "
	    "(as sendmail)\n"
	    "  mailq                          show the queue summary\n"
	    "  queue list|flush|run           list, flush (now), run (due)\n"
	    "  queue run --daemon [--interval 5m]  run periodically\n"
	    "  queue show|delete|hold|release ID  one queued message\n"
	    "  log ID|Message-ID|address [--json]  a message's history\n"
	    "  stats [--since 24h] [--by day|domain|relay|status] [--json]\n"
	    "                                 counts and latencies\n"
	    "  plugins [-l]                   list available plugins\n"
	    "  config check                   validate and print the "
	    "config\n"
	    "  doctor [--from A] [--to A] [--send] [--json] [--strict]\n"
	    "         [--probe-ports LIST]\n"
	    "                                 diagnose why mail does not go "
	    "out\n"
	    "  route [--from A] --to A [--to A ...]\n"
	    "                                 the route, DKIM keys and rate "
	    "limits a message would get\n"
	    "  import msmtprc|ssmtp|dma [--write-secrets DIR] [FILE|DIR]\n"
	    "                                 print another mailer's config "
	    "as plume.conf\n"
	    "  version                        print the version\n"
	    "  PLUGIN COMMAND [args]          a plugin's own command\n");
}

static const char *
kinds_text(unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s",
	    k & PLUME_KIND_TRANSPORT ? "transport," : "",
	    k & PLUME_KIND_FILTER ? "filter," : "",
	    k & PLUME_KIND_POLICY ? "policy," : "",
	    k & PLUME_KIND_OBSERVER ? "observer," : "");
	if (buf[0] != '\0')
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *const conf_type_names[] = {
	[PLUME_CONF_STRING] = "string", [PLUME_CONF_INT] = "integer",
	[PLUME_CONF_BOOL] = "yes|no", [PLUME_CONF_SIZE] = "size",
	[PLUME_CONF_DURATION] = "duration", [PLUME_CONF_ENUM] = "choice",
	[PLUME_CONF_LIST] = "list", [PLUME_CONF_PATH] = "path",
	[PLUME_CONF_COMMAND] = "command", [PLUME_CONF_ADDRESS] = "address",
};

static const char *
type_name(enum plume_conf_type t)
{
	if ((size_t)t < nitems(conf_type_names) && conf_type_names[t])
		return conf_type_names[t];
	return "?";
}

struct list_ctx {
	int	 verbose;
	int	 refused;
};

static void
print_plugin(void *arg, const struct plugin *p, const char *name,
    const char *path, const char *error)
{
	struct list_ctx *ctx = arg;
	char kinds[64];

	if (p == NULL) {
		printf("%-10s %-8s %-22s %-4s %s: refused: %s\n", name, "-",
		    "-", "-", path ? path : "(built in)", error);
		ctx->refused++;
		return;
	}
	printf("%-10s %-8s %-22s %u.%-2u %s\n", name,
	    p->desc.version ? p->desc.version : "?",
	    kinds_text(p->desc.kinds, kinds, sizeof(kinds)),
	    PLUME_ABI_GET_MAJOR(p->desc.abi_version),
	    PLUME_ABI_GET_MINOR(p->desc.abi_version),
	    p->path ? p->path : "built in");
	if (!ctx->verbose)
		return;
	printf("    %s\n", p->desc.description ? p->desc.description : "");
	for (const struct plume_conf_key *k = p->desc.conf_keys;
	    k != NULL && k->name != NULL; k++)
		printf("    %-22s %-9s %s%s%s%s\n", k->name, type_name(k->type),
		    k->help ? k->help : "",
		    k->flags & PLUME_KEY_REQUIRED ? " (required)" : "",
		    k->def ? " [default: " : "", k->def ? k->def : "");
	for (const struct plume_command *c = p->desc.commands;
	    c != NULL && c->name != NULL; c++)
		printf("    command: plume %s %s\n", name,
		    c->synopsis ? c->synopsis : c->name);
}

static int
cmd_plugins(const char *cfg, bool explicit_cfg, int argc, char **argv)
{
	struct runtime rt;
	struct list_ctx ctx = { 0, 0 };

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0)
			ctx.verbose = 1;
		else
			return fail(EX_USAGE, "plugins: unknown argument '%s'",
			    argv[i]);
	}
	runtime_load(&rt, cfg, explicit_cfg);
	printf("%-10s %-8s %-22s %-4s %s\n", "NAME", "VERSION", "KINDS", "ABI",
	    "PATH");
	loader_each(print_plugin, &ctx);
	runtime_free(&rt);
	return finish(EX_OK);
}

static void
print_value(const char *key, const char *value, bool secret, bool dflt)
{
	if (value == NULL) {
		printf("# %s is not set\n", key);
		return;
	}
	printf("%s = %s%s\n", key, secret ? "********" : value,
	    dflt ? "\t# default" : "");
}

static void
print_section(struct plume_inst *in)
{
	const struct conf_section *s = in->sect;
	const char *colon = strchr(in->id, ':');

	if (colon != NULL)
		printf("\n[%.*s \"%s\"]\n", (int)(colon - in->id), in->id,
		    colon + 1);
	else
		printf("\n[%s]\n", in->id);
	for (const struct plume_conf_key *k = in->plugin->desc.conf_keys;
	    k != NULL && k->name != NULL; k++) {
		const struct conf_entry *e = s != NULL ?
		    conf_entry_find(s->entries, k->name) : NULL;

		print_value(k->name, e ? e->value : k->def,
		    (k->flags & PLUME_KEY_SECRET) != 0, e == NULL);
	}
	/* the core's own keys (routing, failover), when set */
	for (const struct conf_entry *e = s != NULL ? s->entries : NULL;
	    e != NULL; e = e->next)
		if (strcmp(e->key, "failover") == 0 ||
		    strcmp(e->key, "match_from") == 0 ||
		    strcmp(e->key, "match_rcpt") == 0 ||
		    strcmp(e->key, "routes") == 0)
			print_value(e->key, e->value, false, false);
}

/* Warnings about permissions: a config others may write runs their
   commands; secrets others may read are not secret; a spool others
   may write is anyone's. */
void
config_modes(struct runtime *rt)
{
	struct stat st;
	bool secrets = false;

	for (size_t i = 0; i < rt->ninsts; i++) {
		const struct plume_inst *in = rt->insts[i];

		for (const struct plume_conf_key *k =
		    in->plugin->desc.conf_keys; k && k->name; k++)
			if ((k->flags & PLUME_KEY_SECRET) && in->sect != NULL &&
			    conf_entry_find(in->sect->entries, k->name))
				secrets = true;
	}
	for (size_t i = 0; rt->conf != NULL && i < rt->conf->nfiles; i++) {
		const char *f = rt->conf->files[i];

		if (stat(f, &st) == -1)
			continue;
		if (st.st_mode & (S_IWGRP | S_IWOTH))
			diags_add(&rt->diags, DIAG_WARNING, f, 0, "writable by "
			    "%s (mode %04o): whoever can write it runs "
			    "commands as plume; chmod go-w",
			    st.st_mode & S_IWOTH ? "others" : "its group",
			    (unsigned)(st.st_mode & 07777));
		if (secrets && (st.st_mode & S_IROTH))
			diags_add(&rt->diags, DIAG_WARNING, f, 0, "holds "
			    "secrets and is readable by others (mode %04o): "
			    "chmod o-r", (unsigned)(st.st_mode & 07777));
	}
	if (stat(rt->queue_dir, &st) == 0 && (st.st_mode & S_IWOTH) &&
	    !(st.st_mode & S_ISVTX))
		diags_add(&rt->diags, DIAG_WARNING, rt->queue_dir, 0,
		    "the spool is writable by others (mode %04o)",
		    (unsigned)(st.st_mode & 07777));
}

static int
cmd_config(const char *cfg, bool explicit_cfg, int argc, char **argv)
{
	struct runtime rt;

	if (argc < 1 || strcmp(argv[0], "check") != 0 || argc > 1)
		return fail(EX_USAGE, "usage: plume config check [-C file]");
	runtime_load(&rt, cfg, explicit_cfg);
	runtime_check_all(&rt);
	config_modes(&rt);
	for (size_t i = 0; i < rt.diags.n; i++) {
		char *line = diag_format(&rt.diags.v[i]);

		fprintf(stderr, "plume: %s: %s\n",
		    rt.diags.v[i].level == DIAG_ERROR ? "error" : "warning",
		    line);
		free(line);
	}
	/* which file, and why that one (DESIGN.md, Config; userconf.c) */
	if (explicit_cfg)
		printf("# effective configuration, from %s: %s\n",
		    cfg == env_config ? "PLUME_CONFIG" : "-C", rt.conf_path);
	else if (rt.embedded)
		printf("# effective configuration, from the built-in default "
		    "(no config file %s)\n", SYSCONFDIR "/plume/plume.conf");
	else
		printf("# effective configuration, from %s: %s\n",
		    rt.user_mode ? "user config" : "system config",
		    rt.conf_path);
	if (!explicit_cfg && rt.conf_why != NULL)
		printf("# (%s)\n", rt.conf_why);
	for (const struct plume_conf_key *k = global_keys; k->name; k++) {
		const struct conf_entry *e =
		    conf_entry_find(rt.conf->globals, k->name);
		const char *v = e ? e->value : k->def;

		if (strcmp(k->name, "hostname") == 0)
			v = rt.hostname;
		else if (strcmp(k->name, "domain") == 0)
			v = rt.domain;
		else if (strcmp(k->name, "queue_dir") == 0)
			v = rt.queue_dir;
		print_value(k->name, v, false, e == NULL);
	}
	for (size_t i = 0; i < rt.ninsts; i++)
		print_section(rt.insts[i]);
	fprintf(stderr, "plume: config check: %zu error%s, %zu warning%s\n",
	    rt.diags.nerrors, rt.diags.nerrors == 1 ? "" : "s",
	    rt.diags.nwarnings, rt.diags.nwarnings == 1 ? "" : "s");
	{
		int code = rt.diags.nerrors > 0 ? EX_CONFIG : EX_OK;

		runtime_free(&rt);
		return finish(code);
	}
}

static int
cmd_plugin(const char *cfg, bool explicit_cfg, const char *name, int argc,
    char **argv)
{
	struct runtime rt;
	struct plugin *p;
	const struct plume_command *c = NULL;
	char err[1024];
	int code;

	runtime_load(&rt, cfg, explicit_cfg);
	if ((p = loader_get(name, err, sizeof(err))) == NULL) {
		runtime_free(&rt);
		usage(stderr);
		return fail(EX_USAGE, "unknown command '%s'", name);
	}
	for (const struct plume_command *k = p->desc.commands;
	    argc > 0 && k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, argv[0]) == 0)
			c = k;
	if (c == NULL) {
		fprintf(stderr, "plume: plugin %s offers:%s\n", name,
		    p->desc.commands && p->desc.commands[0].name ? "" :
		    " no commands");
		for (const struct plume_command *k = p->desc.commands;
		    k != NULL && k->name != NULL; k++)
			fprintf(stderr, "  plume %s %s\n", name,
			    k->synopsis ? k->synopsis : k->name);
		runtime_free(&rt);
		return fail(EX_USAGE, "%s: unknown command '%s'", name,
		    argc > 0 ? argv[0] : "");
	}
	code = c->run(&host_services, runtime_inst_for(&rt, p), argc, argv);
	runtime_free(&rt);
	return finish(code);
}

static int
plume_main(int argc, char **argv)
{
	const char *cfgopt = NULL, *cfg;
	char **args = xcalloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0, verbose = 0, rc;
	bool explicit_cfg, dashdash = false;

	/* -C and -v are global wherever they stand (before "--") */
	for (int i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0) {
			dashdash = true;
			args[nargs++] = argv[i];
		} else if (!dashdash && strcmp(argv[i], "-v") == 0)
			verbose++;
		else if (!dashdash && strcmp(argv[i], "-C") == 0) {
			if (++i == argc) {
				free(args);
				return fail(EX_USAGE, "-C needs a file name");
			}
			cfgopt = argv[i];
		} else if (!dashdash && strncmp(argv[i], "-C", 2) == 0)
			cfgopt = argv[i] + 2;
		else
			args[nargs++] = argv[i];
	}
	if (nargs > 0 && strcmp(args[0], "sendmail") == 0) {
		/* submission keeps the group; argv[0] for sm_parse */
		rc = sendmail_main(nargs, args, SM_MODE_DELIVER, cfgopt,
		    verbose);
		free(args);
		return rc;
	}
	/* queue entries are the caller's own to see and change: the group
	   is set aside now, taken up again just for that (see cmd_queue) */
	if (nargs >= 2 && strcmp(args[0], "queue") == 0 &&
	    (strcmp(args[1], "show") == 0 || strcmp(args[1], "delete") == 0 ||
	    strcmp(args[1], "hold") == 0 || strcmp(args[1], "release") == 0))
		suspend_setid();
	else if (nargs >= 1 && (strcmp(args[0], "log") == 0 ||
	    strcmp(args[0], "stats") == 0))
		suspend_setid();
	else
		drop_setid();
	log_open("plume", verbose);
	if (nargs == 0 || strcmp(args[0], "help") == 0 ||
	    strcmp(args[0], "--help") == 0) {
		usage(nargs == 0 ? stderr : stdout);
		free(args);
		return finish(nargs == 0 ? EX_USAGE : EX_OK);
	}
	if (strcmp(args[0], "version") == 0 ||
	    strcmp(args[0], "--version") == 0) {
		printf("plume %s (plugin ABI %d.%d)\nconfig file: %s\n"
		    "plugin dir: %s\nqueue dir: %s\nset-id: %s\n",
		    PACKAGE_VERSION, PLUME_ABI_MAJOR, PLUME_ABI_MINOR,
		    SYSCONFDIR "/plume/plume.conf", PLUGIN_DIR, QUEUE_DIR,
		    running_setid() ? "yes" : "no");
		free(args);
		return finish(EX_OK);
	}
	/* import reads the other mailer's files, never plume's config */
	if (strcmp(args[0], "import") == 0) {
		rc = import_main(nargs - 1, args + 1);
		free(args);
		return finish(rc);
	}
	if ((rc = config_path(cfgopt, &cfg, &explicit_cfg)) != EX_OK) {
		free(args);
		return rc;
	}
	if (strcmp(args[0], "plugins") == 0)
		rc = cmd_plugins(cfg, explicit_cfg, nargs - 1, args + 1);
	else if (strcmp(args[0], "config") == 0)
		rc = cmd_config(cfg, explicit_cfg, nargs - 1, args + 1);
	else if (strcmp(args[0], "mailq") == 0)
		rc = mailq(cfg, explicit_cfg);
	else if (strcmp(args[0], "route") == 0)
		rc = finish(route_main(cfg, explicit_cfg, nargs - 1, args + 1));
	else if (strcmp(args[0], "doctor") == 0)
		rc = finish(doctor_main(cfg, explicit_cfg, nargs - 1,
		    args + 1));
	else if (strcmp(args[0], "queue") == 0)
		rc = cmd_queue(cfg, explicit_cfg, nargs - 1, args + 1);
	else if (strcmp(args[0], "log") == 0 || strcmp(args[0], "stats") == 0)
		rc = cmd_log(cfg, explicit_cfg, args[0][0] == 's', nargs - 1,
		    args + 1);
	else
		rc = cmd_plugin(cfg, explicit_cfg, args[0], nargs - 1,
		    args + 1);
	free(args);
	return rc;
}

int
main(int argc, char **argv)
{
	char err[512], *copy, *prog;
	int rc;

	sanitize_fds();
	umask(077);
	(void)running_setid();		/* decided now, once */
	setid_egid = getegid();
	sanitize_env();
	/* a peer that hangs up (an SMTP server, a TLS session) is an error
	   to report, never a reason to die with mail in hand */
	signal(SIGPIPE, SIG_IGN);
	{
		ssize_t n = readlink("/proc/self/exe", self_path,
		    sizeof(self_path) - 1);

		if (n > 0)
			self_path[n] = '\0';
	}
	if (loader_init(lt_preloaded_symbols, err, sizeof(err)) == -1) {
		fprintf(stderr, "plume: %s\n", err);
		return EX_SOFTWARE;
	}
	copy = xstrdup(argc > 0 && argv[0] != NULL ? argv[0] : "sendmail");
	prog = basename(copy);
	if (argc < 1)
		argc = 1;
	if (strcmp(prog, "mailq") == 0)
		rc = sendmail_main(argc, argv, SM_MODE_PRINTQ, NULL, 0);
	else if (strcmp(prog, "newaliases") == 0)
		rc = sendmail_main(argc, argv, SM_MODE_ALIASES, NULL, 0);
	else if (strncmp(prog, "plume", 5) == 0)
		rc = plume_main(argc, argv);
	else
		rc = sendmail_main(argc, argv, SM_MODE_DELIVER, NULL, 0);
	free(copy);
	loader_shutdown();
	return rc;
}
