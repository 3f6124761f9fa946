/*
 * NAME
 *	runtime.h - the configured plume: global settings, plugin
 *	instances, and the pipeline a message goes through
 * DESCRIPTION
 *	runtime_load() reads the config (or the embedded default), checks
 *	the global keys, and for every instance named by pipeline loads its
 *	plugin, validates its section against the plugin's key table and,
 *	in runtime_start(), calls its init().  Sections no pipeline entry
 *	reaches are not loaded on the submission path (start-up stays
 *	lean); runtime_check_all() validates them too, as warnings, for
 *	"plume config check".
 *
 *	runtime_deliver() runs one message: filters, policies, the
 *	transport, with observers seeing every event, and fills a summary
 *	that cmd/ turns into an exit code.
 */
#ifndef PLUME_RUNTIME_H
#define PLUME_RUNTIME_H

#include <stdbool.h>

#include "conf.h"
#include "message.h"
#include "plume/plugin.h"

struct plugin;

struct plume_inst {
	struct runtime *rt;
	struct plugin *plugin;
	struct conf_section *sect;	/* NULL: no section, all defaults */
	char	*id;			/* "smtp:backup" */
	char	*name;			/* "backup", or "" */
	void	*state;
	bool	 started;
	struct note *cache;		/* resolved values handed out */
	size_t	 ncache;
	struct { char *key; char **v; } *lists;
	size_t	 nlists;
	char	*state_dir;
	bool	 in_pipeline;		/* not only reached as a failover */
	/* queue runs: one open session per transport, reused message after
	   message; a session that could not be opened is not tried again
	   in the same run (a dead relay costs one connection per run) */
	void	*session;
	bool	 session_failed;
	struct result session_fail;
	/* queue runs: the far end asked to slow down (runtime_paused()):
	   no message goes through this transport before paused_until in
	   this run; pause_reply is what the deferred ones get */
	time_t	 paused_until;
	struct result pause_reply;
	/* ABI 1.6: the observer kept work for its flush() in this process
	   (host->flush_wanted) */
	bool	 flush_wanted;
	struct plume_inst *failover;	/* tried next on a temporary failure */
	/* routing (route.h patterns): a transport in pipeline serves the
	   recipients whose domain matches match_rcpt, else the messages
	   whose sender or From matches match_from, else (neither key) the
	   rest; a filter or policy with routes acts only on the copies of
	   a message that take one of those transports */
	char	**match_from;
	char	**match_rcpt;
	char	**routes;
};

struct runtime {
	struct conf *conf;
	char	*conf_path;		/* the file read, or NULL */
	bool	 embedded;		/* no config file: built-in default */
	bool	 conf_explicit;		/* from -C or PLUME_CONFIG */
	bool	 user_mode;		/* the user's own config (userconf.c) */
	char	*conf_why;		/* why this file (not with -C) */
	const char *self;		/* this binary, for runs it starts */
	struct diags diags;

	/* resolved global settings */
	char	*hostname;
	char	*domain;
	char	*queue_dir;
	char	**plugin_dirs;
	long long size_limit;
	long long submit_timeout;	/* seconds; 0: none */
	long long min_backoff, max_backoff, lifetime;	/* seconds */
	char	 delivery;		/* 'n'ow, 'q'ueue, 'b'ackground */
	char	*bounce_sender;		/* "" for <> */
	long long bounce_size_limit;
	long long minfree;		/* bytes; 0: no check */
	char	*bounce_copy_to;	/* postmaster copy of reports, or NULL */
	long long delay_warning;	/* seconds; 0: no warnings */
	long long max_per_user;		/* queued messages per uid; 0: any */
	long long concurrency;		/* delivery workers in a queue run */
	bool	 syslog;

	struct plume_inst **insts;	/* pipeline order */
	size_t	 ninsts;
	/* the transports in pipeline, in its order: the routes a
	   recipient may take; transport is the default, the first with
	   neither match_from nor match_rcpt (NULL when every one has) */
	struct plume_inst **routes;
	size_t	 nroutes;
	struct plume_inst *transport;
};

/* Why a recipient takes its route (runtime_route()). */
enum route_why {
	ROUTE_NONE = 0,		/* no transport matches, and no default */
	ROUTE_RCPT,		/* match_rcpt */
	ROUTE_FROM,		/* match_from, by the envelope sender */
	ROUTE_FROM_HEADER,	/* match_from, by the From field */
	ROUTE_DEFAULT,		/* the transport with neither key */
};

/*
 * One "plume doctor" run over one transport instance (the opaque
 * struct plume_probe of the ABI): the options given, as NULL-terminated
 * name, value pairs, and where each check goes.
 */
struct plume_probe {
	struct plume_inst *inst;
	const char *const *params;
	void	(*report)(void *ctx, struct plume_inst *, enum plume_check,
		    const char *check, const char *remedy, const char *text);
	void	*ctx;
	/* ABI 1.8 host->probe_fact(); NULL: facts are dropped */
	void	(*fact)(void *ctx, const char *name, const char *value);
};

struct delivery_summary {
	size_t	 delivered;
	size_t	 tempfail;
	size_t	 permfail;
	bool	 all_perm_are_5_1;	/* every refusal was 5.1.x */
	char	*first_error;		/* "<rcpt>: 550 5.1.1 text" */
};

extern const struct plume_host host_services;
extern const struct plume_conf_key global_keys[];

/* Loads the config file (path NULL: the user's config in per-user mode,
   else the system file, or the embedded default when there is none).
   -1 on errors, listed in rt->diags. */
int	 runtime_load(struct runtime *, const char *path, bool explicit_path);
int	 runtime_start(struct runtime *);
void	 runtime_check_all(struct runtime *);
void	 runtime_free(struct runtime *);
const char *runtime_default_config(void);
/* A global key's value, or its default from global_keys (NULL for
   none). */
const char *runtime_global(const struct runtime *, const char *key);

/* The sender a submission by the caller would get when it names none:
   sender_address, else user@domain. */
char	*runtime_default_sender(const struct runtime *);

int	 runtime_ensure_dir(const char *dir, mode_t mode, char *, size_t);
/* queue_dir and its tmp/, made on demand (0700 in per-user mode). */
int	 runtime_ensure_queue(const struct runtime *, char *, size_t);
void	 runtime_accept(struct runtime *, struct plume_msg *);
/* Ends the open transport sessions (a queue run's); keep_failures: the
   transports that could not open one are still not tried again. */
void	 runtime_close_sessions(struct runtime *, bool keep_failures);
/* The route of recipient rcpt of a message from sender with From
   mailboxes from (NULL-terminated, or NULL): the transport in pipeline
   it takes (NULL: none), and why. */
struct plume_inst *runtime_route(const struct runtime *, const char *rcpt,
	    const char *sender, char *const *from, enum route_why *);
/* The From field's mailboxes of m (for runtime_route()); strv_free(). */
char	**runtime_from_addrs(const struct plume_msg *);
/* "smtp:work for mail from *@work.example, then smtp:backup": one
   route, or all of them separated by "; ", appended to b. */
struct buf;
void	 runtime_describe_route(const struct runtime *,
	    const struct plume_inst *, struct buf *);
void	 runtime_describe_routes(const struct runtime *, struct buf *);
/* One line per filter and policy acting on m's route (m->route), each
   in its plugin's words (ABI 1.7 explain()), appended to out. */
void	 runtime_explain(struct runtime *, struct plume_msg *, struct buf *);
/* Whether filter or policy in acts on the copy of a message taking the
   route (transport) id: it names no routes, or names this one. */
bool	 runtime_acts_on(const struct plume_inst *, const char *route);
/* Queue runs: 0 when some route of m (its transport or a failover)
   takes a message now, else the time the first of them takes one
   again. */
time_t	 runtime_route_paused(struct runtime *, struct plume_msg *,
	    time_t now);
void	 runtime_deliver(struct runtime *, struct plume_msg *,
	    struct delivery_summary *);
void	 summary_free(struct delivery_summary *);
void	 runtime_event(struct runtime *, struct plume_msg *,
	    enum plume_event_type, const char *rcpt, const char *instance,
	    const struct plume_reply *, long duration_ms);
struct plume_inst *runtime_inst_for(struct runtime *, struct plugin *);
/* ABI 1.4: whether an observer kept work for the queue runner in this
   process (ABI 1.6 flush_wanted; an observer of an older minor with a
   flush always has); only a queue run calls runtime_flush_observers() */
bool	 runtime_wants_flush(const struct runtime *);
void	 runtime_flush_observers(struct runtime *);
struct plume_inst *runtime_inst_next(struct plume_inst *);
/* "plume doctor": runs the transport's probe(); -1 when it has none. */
int	 runtime_probe(struct runtime *, struct plume_inst *,
	    struct plume_probe *);

#endif
