/*
 * NAME
 *	plume/plugin.h - the plume plugin ABI: the whole contract between
 *	plume and a plugin
 * SYNOPSIS
 *	#include <plume/plugin.h>
 *
 *	const struct plume_plugin PLUME_PLUGIN(myname) = { ... };
 * DESCRIPTION
 *	A plume plugin is a libtool module (built with -module
 *	-avoid-version) that exports exactly one symbol, its descriptor,
 *	spelled NAME_LTX_plugin (use the PLUME_PLUGIN(NAME) macro), where
 *	NAME is the module's file name without extension.  The same spelling
 *	lets the module be preloaded into a static plume with libtool's
 *	-dlpreopen, where two plugins must never share a symbol name.
 *
 *	A plugin includes nothing else of plume's and links against nothing
 *	of plume's.  Everything it may ask of plume is in struct plume_host,
 *	which plume hands to init() together with an opaque handle for the
 *	configured instance ([smtp], [smtp "backup"], ...).  One module may be
 *	instantiated several times; init() is called once per instance and
 *	returns that instance's private state, which plume passes back to
 *	every callback.
 *
 *	Kinds: a plugin implements one or more of
 *	- transport: delivers a message to its recipients and reports one
 *	  result per recipient; sessions let a queue run send many messages
 *	  over one connection; probe() runs diagnostics for "plume doctor";
 *	- filter: reads the header and body and adds or changes header
 *	  fields (DKIM); runs once for each route's copy of a message;
 *	- policy: gives each recipient a verdict: accept, defer until a time,
 *	  or reject (rate limits);
 *	- observer: sees every event (accepted, attempt, delivered, deferred,
 *	  bounced, failed, throttled) and must never affect delivery.
 *	A plugin may also offer subcommands ("plume dkim keygen").
 *
 *	Every failure is either temporary or permanent and carries the
 *	remote side's words: struct plume_reply holds an SMTP reply code, an
 *	RFC 3463 enhanced status code, the text and an optional retry-after
 *	time, whether the transport speaks SMTP or an HTTP API.
 *
 *	Callbacks return PLUME_OK or a failure status and never exit, print
 *	or call syslog themselves: logging goes through host->log(), which
 *	adds the instance name and queue id.
 * VERSIONING
 *	PLUME_ABI_VERSION packs major << 16 | minor.  plume refuses a module
 *	whose major differs from its own.  Within one major, structures only
 *	ever grow at the end, and every structure that may grow starts with
 *	(or carries) its struct_size, so either side can tell which members
 *	the other one knows: plume reads no member of a plugin structure
 *	beyond the plugin's struct_size, and a plugin must check
 *	host->struct_size (or PLUME_HOST_HAS()) before it calls a host
 *	function added in a later minor version.
 * HISTORY
 *	2026-11-26  1.0  First version: descriptor, typed config keys, host
 *	                 services (log, config, envelope, header fields, body
 *	                 stream, results, verdicts, notes, state directory,
 *	                 clock, secure wipe, probe reports), transport with
 *	                 sessions and probe, filter, policy, observer,
 *	                 plugin subcommands.
 *	2026-11-26  1.1  host->msg_deadline_ms(): the monotonic time by which
 *	                 a foreground delivery must end (submit_timeout).
 *	2026-11-26  1.2  host->msg_read() and host->msg_free(): a message read
 *	                 from a file descriptor, for plugin commands such as
 *	                 "plume dkim sign".
 *	2026-11-26  1.3  host->inst_next(): a plugin command walks every
 *	                 configured instance of its plugin ("plume dkim check").
 *	2026-11-26  1.4  observer->flush(): called by the queue runner once
 *	                 per run, never in a submitting process, for work an
 *	                 observer keeps for later (the hook plugin's spooled
 *	                 webhook posts).
 *	2026-11-26  1.5  host->msg_refuse(): a policy refuses a whole message
 *	                 for now (exit 75, 4xx in -bs, nothing queued);
 *	                 policies see only the recipients still to deliver.
 *	2026-11-26  1.6  host->flush_wanted(): an observer says it kept work
 *	                 for flush() in this process; a submission starts a
 *	                 queue run for an observer's flush only then (before
 *	                 1.6, after every submission).
 *	2026-11-26  1.7  filter->explain() and policy->explain(): what an
 *	                 instance would do to a route's copy of a message,
 *	                 for "plume route" and "sendmail -bv"; the route is
 *	                 host->msg_param(msg, PLUME_PARAM_ROUTE), and
 *	                 host->conf_list(inst, "routes") the core's key that
 *	                 limits a filter or policy to some routes.
 *	2026-11-26  1.8  plume_plugin.probe(): "plume doctor" checks of an
 *	                 instance that is not a transport (dkim's published
 *	                 keys) and of plugins doctor runs on its own (the
 *	                 domain plugin's sender-domain DNS checks);
 *	                 host->probe_fact(): a probe tells the checks that
 *	                 follow a fact (the relay it uses, a DKIM d=).
 *	2026-11-26  1.9  policy->probe(): a policy's state for "plume doctor"
 *	                 (the ratelimit plugin: keys at their limit).
 */

#ifndef PLUME_PLUGIN_H
#define PLUME_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLUME_ABI_MAJOR		1
#define PLUME_ABI_MINOR		9
#define PLUME_ABI_VERSION	((PLUME_ABI_MAJOR << 16) | PLUME_ABI_MINOR)
#define PLUME_ABI_GET_MAJOR(v)	((uint32_t)(v) >> 16)
#define PLUME_ABI_GET_MINOR(v)	((uint32_t)(v) & 0xffff)

/* The exported descriptor's name: NAME_LTX_plugin. */
#define PLUME_PLUGIN(name)	name##_LTX_plugin

#if defined(__GNUC__) || defined(__clang__)
#define PLUME_PRINTF(fmt, args)	__attribute__((format(printf, fmt, args)))
#else
#define PLUME_PRINTF(fmt, args)
#endif

/* Opaque handles owned by plume. */
struct plume_inst;	/* one configured instance of a plugin */
struct plume_msg;	/* one message (one route's copy) with its envelope */
struct plume_stream;	/* a re-readable view of a message's bytes */
struct plume_probe;	/* one "plume doctor" run over one transport */

/* Status of an operation, a recipient, or a verdict. */
enum plume_status {
	PLUME_OK = 0,		/* delivered / accepted / success */
	PLUME_TEMPFAIL = 1,	/* try again later (defer) */
	PLUME_PERMFAIL = 2,	/* will never succeed (bounce, reject) */
};

/* Kinds a plugin implements (bit set in plume_plugin.kinds). */
#define PLUME_KIND_TRANSPORT	0x01u
#define PLUME_KIND_FILTER	0x02u
#define PLUME_KIND_POLICY	0x04u
#define PLUME_KIND_OBSERVER	0x08u

/* Log levels, in syslog order. */
enum plume_log_level {
	PLUME_LOG_ERR = 3,
	PLUME_LOG_WARNING = 4,
	PLUME_LOG_NOTICE = 5,
	PLUME_LOG_INFO = 6,
	PLUME_LOG_DEBUG = 7,
};

/*
 * Typed configuration keys.  plume validates every key of an instance's
 * section against its plugin's table before init() runs: an unknown key,
 * a value of the wrong type or a missing required key is reported with
 * file:line, so a plugin never sees a malformed value.
 */
enum plume_conf_type {
	PLUME_CONF_STRING = 1,	/* any text */
	PLUME_CONF_INT,		/* decimal integer, optional min/max */
	PLUME_CONF_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	PLUME_CONF_SIZE,	/* bytes with optional k, M, G suffix (1024) */
	PLUME_CONF_DURATION,	/* seconds, with optional s, m, h, d suffix */
	PLUME_CONF_ENUM,	/* one of the '|'-separated choices */
	PLUME_CONF_LIST,	/* items separated by commas or white space */
	PLUME_CONF_PATH,	/* a file name; relative ones are taken
				   relative to the config file's directory */
	PLUME_CONF_COMMAND,	/* argv split into words without any shell
				   or expansion (double quotes group words) */
	PLUME_CONF_ADDRESS,	/* an RFC 5321 mailbox local@domain */
};

#define PLUME_KEY_REQUIRED	0x01u	/* must be present */
#define PLUME_KEY_SECRET	0x02u	/* masked by "plume config check" */

struct plume_conf_key {
	const char *name;
	enum plume_conf_type type;
	unsigned flags;		/* PLUME_KEY_* */
	const char *def;	/* default value as text, or NULL */
	const char *choices;	/* PLUME_CONF_ENUM: "a|b|c" */
	long long min, max;	/* PLUME_CONF_INT/SIZE/DURATION when min<max */
	const char *help;	/* one line for "plume plugins -v" */
};

/*
 * A result, as reported by a transport for a recipient, by a policy as
 * a verdict, or by a session that failed.  plume copies every string, so
 * a plugin may pass stack buffers.
 */
struct plume_reply {
	enum plume_status status;
	int code;		/* SMTP reply code (250, 451, 550), or 0 */
	const char *enhanced;	/* RFC 3463 "5.1.1", or NULL */
	const char *text;	/* the remote side's words, or plume's own */
	time_t retry_after;	/* earliest next attempt (wall clock), or 0 */
};

/* Message parameters for host->msg_param() and host->rcpt_param(). */
#define PLUME_PARAM_QUEUE_ID	"queue_id"	/* "6A26E8C40C3F2A1B" */
#define PLUME_PARAM_MESSAGE_ID	"message_id"	/* "<...@...>" */
#define PLUME_PARAM_BODY	"body"		/* "7BIT" | "8BITMIME" */
#define PLUME_PARAM_SMTPUTF8	"smtputf8"	/* "yes" | "no" */
#define PLUME_PARAM_ENVID	"envid"		/* DSN ENVID (-V), or NULL */
#define PLUME_PARAM_RET		"ret"		/* "FULL" | "HDRS" | NULL */
#define PLUME_PARAM_ROUTE	"route"		/* transport instance id */
#define PLUME_PARAM_UID		"uid"		/* submitting uid, decimal */
#define PLUME_PARAM_USER	"user"		/* submitting user name */
#define PLUME_PARAM_NOTIFY	"notify"	/* rcpt: DSN NOTIFY, or NULL */
#define PLUME_PARAM_ORCPT	"orcpt"		/* rcpt: DSN ORCPT, or NULL */

/* "plume doctor" parameters for host->probe_param(); NULL when not
   given.  A probe must send nothing unless PLUME_PROBE_SEND is "yes". */
#define PLUME_PROBE_FROM	"from"		/* sender: --from, else the
						   one a submission gets */
#define PLUME_PROBE_TO		"to"		/* --to: a recipient to try */
#define PLUME_PROBE_SEND	"send"		/* "yes": send a test message
						   to PLUME_PROBE_TO */
#define PLUME_PROBE_PORTS	"probe_ports"	/* --probe-ports "465,587" */
/* ABI 1.8: facts one probe gives the probes that run after it
   (host->probe_fact()), read with probe_param() as comma-separated
   lists; transports run first, then other instances, then doctor's own
   sender-domain checks. */
#define PLUME_PROBE_RELAY	"relay"		/* host a transport connects
						   to, as configured */
#define PLUME_PROBE_DKIM_DOMAIN	"dkim_domain"	/* a d= whose published key
						   matches the signing key */
#define PLUME_PROBE_HELO	"helo"		/* the name a transport gives
						   in EHLO */

/* Where host->header_add() puts a field. */
enum plume_header_where {
	PLUME_HEADER_PREPEND = 0,	/* above every other field (trace,
					   signatures) */
	PLUME_HEADER_APPEND = 1,	/* below every other field */
};

/* Which bytes host->stream_open() returns. */
enum plume_stream_what {
	PLUME_STREAM_MESSAGE = 0,	/* header fields, empty line, body */
	PLUME_STREAM_BODY = 1,		/* the body only */
};

/* Status of one "plume doctor" check. */
enum plume_check {
	PLUME_CHECK_OK = 0,	/* shown as a check mark */
	PLUME_CHECK_WARN = 1,	/* "!" : works, but should be fixed */
	PLUME_CHECK_FAIL = 2,	/* a cross: mail will not go out */
	PLUME_CHECK_INFO = 3,	/* a fact, no verdict */
};

/* Event types seen by observers. */
enum plume_event_type {
	PLUME_EV_ACCEPTED = 1,	/* taken in by plume (submission) */
	PLUME_EV_ATTEMPT,	/* a delivery attempt starts */
	PLUME_EV_DELIVERED,	/* a recipient was accepted by the far end */
	PLUME_EV_DEFERRED,	/* temporary failure, will be retried */
	PLUME_EV_BOUNCED,	/* permanent failure, sender notified */
	PLUME_EV_FAILED,	/* permanent failure reported to the caller */
	PLUME_EV_THROTTLED,	/* a policy deferred the recipient */
};

struct plume_event {
	size_t struct_size;
	enum plume_event_type type;
	struct timespec time;	/* wall clock */
	const char *queue_id;
	const char *message_id;	/* may be NULL */
	const char *sender;	/* "" for the null sender */
	const char *rcpt;	/* NULL: the event is about the message */
	size_t nrcpt;		/* recipients of the message */
	off_t size;		/* message size in bytes */
	const char *instance;	/* transport or policy instance, or NULL */
	const struct plume_reply *reply;	/* NULL for ACCEPTED/ATTEMPT */
	unsigned attempt;	/* 1 for the first attempt */
	long duration_ms;	/* of the attempt, or -1 */
	uid_t uid;		/* submitting user */
	const char *user;
	/* Further facts as NULL-terminated key, value pairs: "relay",
	   "relay_ip", "tls", "auth", "remote_id", ... (see host->note) */
	const char *const *notes;
};

/*
 * Services plume offers a plugin.  Every function takes the instance
 * handle the plugin was given at init(), so plume knows whose request it
 * is (log lines carry the instance name, config lookups use its section).
 */
struct plume_host {
	size_t struct_size;
	uint32_t abi_version;	/* PLUME_ABI_VERSION of this plume */
	const char *version;	/* plume's version string */

	/* Logging: to syslog (mail facility), to stderr with -v. */
	void (*log)(struct plume_inst *, enum plume_log_level,
	    const char *fmt, ...) PLUME_PRINTF(3, 4);
	void (*vlog)(struct plume_inst *, enum plume_log_level,
	    const char *fmt, va_list) PLUME_PRINTF(3, 0);

	/* Identity of the instance: "smtp:backup", and "backup" (or ""). */
	const char *(*instance_id)(struct plume_inst *);
	const char *(*instance_name)(struct plume_inst *);

	/*
	 * Configuration, already validated against the key table.  The
	 * value is the default when the key is absent; NULL when there is
	 * neither.  Lists and commands come back as NULL-terminated
	 * vectors owned by plume.  conf_global() reads global keys
	 * ("hostname", "domain", "queue_dir", ...).
	 */
	const char *(*conf_string)(struct plume_inst *, const char *key);
	long long (*conf_number)(struct plume_inst *, const char *key,
	    long long fallback);	/* INT, BOOL, SIZE, DURATION */
	const char *const *(*conf_list)(struct plume_inst *,
	    const char *key);		/* LIST, COMMAND */
	const char *(*conf_global)(struct plume_inst *, const char *key);

	/* Envelope of a message (one route's copy). */
	const char *(*msg_sender)(struct plume_msg *);	/* "" = <> */
	size_t (*msg_rcpt_count)(struct plume_msg *);
	const char *(*msg_rcpt)(struct plume_msg *, size_t i);
	const char *(*msg_param)(struct plume_msg *, const char *name);
	const char *(*rcpt_param)(struct plume_msg *, size_t i,
	    const char *name);
	off_t (*msg_size)(struct plume_msg *);	/* header + body bytes */

	/*
	 * Header fields, in order.  header_get() returns the raw field
	 * "Name: value" with its folding (CRLF + WSP) kept and without
	 * the final CRLF; name_len_r receives the length of the name.
	 * header_find() returns the n-th (0-based) field of that name
	 * (case-insensitive) as its index, or -1.  Index changes after
	 * header_add() or header_remove().
	 */
	size_t (*header_count)(struct plume_msg *);
	const char *(*header_get)(struct plume_msg *, size_t i,
	    size_t *name_len_r);
	long (*header_find)(struct plume_msg *, const char *name,
	    size_t n);
	int (*header_add)(struct plume_msg *, enum plume_header_where,
	    const char *name, const char *value, const char **error_r);
	int (*header_remove)(struct plume_msg *, size_t i);

	/*
	 * The message as bytes, canonical: CRLF line ends, no
	 * dot-stuffing.  A stream may be read any number of times
	 * (stream_rewind) and never holds the body in memory.
	 * stream_read returns bytes read, 0 at the end, -1 on error.
	 */
	struct plume_stream *(*stream_open)(struct plume_msg *,
	    enum plume_stream_what);
	ssize_t (*stream_read)(struct plume_stream *, void *buf, size_t n);
	int (*stream_rewind)(struct plume_stream *);
	void (*stream_close)(struct plume_stream *);

	/*
	 * Results.  A transport gives each recipient a result
	 * (rcpt = PLUME_RCPT_ALL for all that have none yet); a policy
	 * gives verdicts.  Any recipient left without a result after
	 * deliver() is treated as a temporary failure.
	 */
	void (*set_result)(struct plume_msg *, size_t rcpt,
	    const struct plume_reply *);
	void (*set_verdict)(struct plume_msg *, size_t rcpt,
	    const struct plume_reply *);
	/* A fact about the current attempt for logs and observers:
	   note(msg, "relay", "smtp.example.org[192.0.2.1]:587"). */
	void (*note)(struct plume_msg *, const char *key, const char *value);

	/* A private directory for the instance's plugin, created 0700 on
	   demand under the queue directory; NULL on failure. */
	const char *(*state_dir)(struct plume_inst *);
	/* Clocks: wall time, and monotonic milliseconds for timeouts. */
	time_t (*now)(void);
	int64_t (*monotonic_ms)(void);
	/* Wipe a secret; never optimised away. */
	void (*wipe)(void *, size_t);

	/* "plume doctor": the options given and one report per check. */
	const char *(*probe_param)(struct plume_probe *, const char *name);
	void (*probe_report)(struct plume_probe *, enum plume_check,
	    const char *check, const char *remedy, const char *fmt, ...)
	    PLUME_PRINTF(5, 6);

	/* ABI 1.1 */
	/* The monotonic_ms() time by which delivering msg must be over
	   (submit_timeout bounds a submission, failovers included), or 0
	   when there is no such bound (a queue run). */
	int64_t (*msg_deadline_ms)(struct plume_msg *);

	/* ABI 1.2 */
	/*
	 * Reads a message from fd as sendmail does (line ends made CRLF;
	 * with dot_ends, a lone "." ends it and ".." becomes "."), with
	 * no envelope and no header added: for commands that work on a
	 * message ("plume dkim sign").  The body is spooled to an unnamed
	 * temporary file.  NULL with a reason in error_r on failure.
	 * Free it with msg_free().
	 */
	struct plume_msg *(*msg_read)(struct plume_inst *, int fd,
	    int dot_ends, const char **error_r);
	void (*msg_free)(struct plume_msg *);

	/* ABI 1.3 */
	/* The next configured instance of the same plugin, in config
	   order, or NULL.  For commands: the instance a command is handed
	   is the plugin's first; instances so found are configured, not
	   started (their init() has not run). */
	struct plume_inst *(*inst_next)(struct plume_inst *);

	/* ABI 1.5 */
	/*
	 * For a policy: refuses the whole message for now with reply (a
	 * 4xx; its retry_after is kept).  At submission nothing is queued
	 * and the caller gets a temporary failure (sendmail exits 75; -bs
	 * answers 451 after DATA), so the caller decides whether to try
	 * again.  In a queue run it is a deferral of every recipient
	 * until retry_after, as a TEMPFAIL verdict would be.
	 */
	void (*msg_refuse)(struct plume_msg *, const struct plume_reply *);

	/* ABI 1.6 */
	/*
	 * For an observer with a flush(): it kept work for the queue
	 * runner in this process (spooled a webhook post).  A submission
	 * starts a detached queue run for observers only when one of them
	 * said so; one built before 1.6 is assumed to want one every time.
	 */
	void (*flush_wanted)(struct plume_inst *);

	/* ABI 1.8 */
	/*
	 * "plume doctor": a fact for the probes that run after this one
	 * in the same run (PLUME_PROBE_RELAY, PLUME_PROBE_DKIM_DOMAIN,
	 * ...); they read every value given for name, comma-separated,
	 * with probe_param().
	 */
	void (*probe_fact)(struct plume_probe *, const char *name,
	    const char *value);
};

#define PLUME_RCPT_ALL	((size_t)-1)

/* Whether this plume's host table has the member m. */
#define PLUME_HOST_HAS(host, m)						\
	((host)->struct_size >= offsetof(struct plume_host, m) +	\
	    sizeof((host)->m))

struct plume_transport_ops {
	size_t struct_size;
	/*
	 * Optional.  Opens a session (a connection, login included) for
	 * several deliveries; a failure is a session failure (never
	 * permanent unless the admin asked for it) described in reply_r,
	 * whose strings stay valid until the next call on this instance.
	 */
	int (*session_open)(void *state, void **session_r,
	    struct plume_reply *reply_r);
	/*
	 * Delivers msg over session (NULL: open and close one of its own)
	 * and reports one result per recipient with host->set_result().
	 * Returns PLUME_OK when the session is still usable afterwards.
	 */
	int (*deliver)(void *state, void *session, struct plume_msg *msg);
	void (*session_close)(void *state, void *session);
	/* Optional.  Runs diagnostics, each through host->probe_report().
	   Returns PLUME_OK when the transport would deliver. */
	int (*probe)(void *state, struct plume_probe *probe);
};

struct plume_filter_ops {
	size_t struct_size;
	/* Reads and edits msg (one route's copy); PLUME_PERMFAIL refuses
	   it, PLUME_TEMPFAIL defers it, with the reason in reply_r. */
	int (*filter)(void *state, struct plume_msg *msg,
	    struct plume_reply *reply_r);

	/* ABI 1.7 */
	/* Optional.  For "plume route" and "sendmail -bv": one line in
	   buf saying what filter() would do to msg (a route's copy made
	   for the question: no body), without changing msg or any state.
	   Returns 1 when it would act on msg, 0 when not (buf: why). */
	int (*explain)(void *state, struct plume_msg *msg, char *buf,
	    size_t len);
};

struct plume_policy_ops {
	size_t struct_size;
	/* Gives verdicts with host->set_verdict(); a recipient without
	   one is accepted.  It sees (msg_rcpt_count, msg_rcpt) only the
	   recipients still to deliver: at a queue run, those pending;
	   never one a filter already failed (ABI 1.5). */
	int (*check)(void *state, struct plume_msg *msg);

	/* ABI 1.7 */
	/* Optional.  As filter->explain(): the limits or rules check()
	   would apply to msg, without counting anything. */
	int (*explain)(void *state, struct plume_msg *msg, char *buf,
	    size_t len);

	/* ABI 1.9 */
	/* Optional.  For "plume doctor": reports the policy's state (for a
	   rate limit, each key at its limit and when the next may go),
	   each through host->probe_report().  Returns PLUME_OK unless the
	   policy would stop all mail. */
	int (*probe)(void *state, struct plume_probe *probe);
};

struct plume_observer_ops {
	size_t struct_size;
	/* Called for every event, in the process where it happens (a
	   submitter too): it must be quick and never block on the
	   network. */
	void (*event)(void *state, const struct plume_event *ev);

	/* ABI 1.4 */
	/* Optional.  Called by the queue runner once per run, after the
	   queue, and never in a submitting process: the place for slow
	   work an observer kept for later (posting spooled webhooks).
	   A submission in which an observer called host->flush_wanted()
	   (ABI 1.6; before that: any submission with such an observer in
	   the pipeline) starts a detached queue run, as a deferral does. */
	void (*flush)(void *state);
};

/* Whether an ops structure a plugin gave has the member m. */
#define PLUME_OPS_HAS(ops, type, m)					\
	((ops)->struct_size >= offsetof(type, m) + sizeof((ops)->m))

/*
 * A subcommand: "plume PLUGIN NAME ARGS".  inst is the plugin's first
 * configured instance, or an unconfigured one (every key at its
 * default).  Returns a sysexits.h code; plume exits with it.
 */
struct plume_command {
	const char *name;
	const char *synopsis;	/* "keygen --domain D --selector S" */
	const char *description;
	int (*run)(const struct plume_host *host, struct plume_inst *inst,
	    int argc, char **argv);
};

struct plume_plugin {
	uint32_t abi_version;	/* PLUME_ABI_VERSION when built */
	uint32_t struct_size;	/* sizeof(struct plume_plugin) when built */
	const char *name;	/* the module name: "smtp" */
	const char *version;	/* the plugin's own version */
	const char *description;	/* one line */
	unsigned kinds;		/* PLUME_KIND_* */
	const struct plume_conf_key *conf_keys;	/* ends with a NULL name */

	/*
	 * Called once per configured instance.  Stores host and inst as it
	 * likes and returns its state in state_r.  On failure returns
	 * non-zero with a one-line reason in error_r (static or owned by
	 * the plugin until shutdown).
	 */
	int (*init)(const struct plume_host *host, struct plume_inst *inst,
	    void **state_r, const char **error_r);
	void (*shutdown)(void *state);

	const struct plume_transport_ops *transport;
	const struct plume_filter_ops *filter;
	const struct plume_policy_ops *policy;
	const struct plume_observer_ops *observer;
	const struct plume_command *commands;	/* ends with a NULL name */

	/* ABI 1.8 */
	/*
	 * Optional.  "plume doctor" checks that are not a transport's
	 * delivery (transport_ops.probe does those): called after every
	 * transport's probe, once for each started instance, with state as
	 * init() returned it; and for a plugin doctor runs on its own (the
	 * domain plugin's sender-domain checks), once with the plugin's
	 * first configured instance, not started (state NULL, as for a
	 * command).  Checks go through host->probe_report(), facts for
	 * later probes through host->probe_fact().  Returns PLUME_OK, or
	 * PLUME_TEMPFAIL when a check failed.
	 */
	int (*probe)(const struct plume_host *host, struct plume_inst *inst,
	    void *state, struct plume_probe *probe);
};

#define PLUME_PLUGIN_INIT						\
	.abi_version = PLUME_ABI_VERSION,				\
	.struct_size = sizeof(struct plume_plugin)

#ifdef __cplusplus
}
#endif

#endif /* PLUME_PLUGIN_H */
