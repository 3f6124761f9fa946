/*
 * NAME
 *	runtime.c - config to running pipeline; the host services plugins
 *	call; delivery of one message through the pipeline
 * DESCRIPTION
 *	Global keys (DESIGN.md, Config): hostname, domain, queue_dir,
 *	pipeline, plugin_dir, message_size_limit, syslog.  Their defaults:
 *	hostname from gethostname(2) (no DNS at start-up: a submitter must
 *	not stall on a resolver), domain from /etc/mailname and then the
 *	hostname, queue_dir and plugin_dir compiled in; in per-user mode
 *	(the user's own config, see userconf.c) queue_dir is
 *	$XDG_STATE_HOME/plume.
 *
 *	Every instance named in pipeline must exist as a section (or be a
 *	bare plugin name with every key at its default), its plugin must
 *	load, its keys must validate: otherwise the config is in error and
 *	the caller exits 78.  Instances are started in pipeline order.
 *
 *	Delivery of one message: each recipient's route is a transport in
 *	pipeline (match_rcpt, then match_from, then the default: DESIGN.md,
 *	Routing), and each route gets a copy: filters run on it, then
 *	policies give verdicts, then the transport and its failover chain
 *	deliver to the recipients the policies let through.
 *	A recipient the transport leaves without a result is a temporary
 *	failure: plume never assumes success.  Observers see accepted,
 *	attempt and one delivered/deferred/bounced/failed/throttled event
 *	per recipient; log lines carry the transport's own words.  A
 *	permanent refusal is "bounced" when the sender is told by a DSN
 *	(always in a queue run; at submission when other recipients got
 *	through or with -oem) and "failed" when only the caller's exit
 *	code tells it: that is known once every recipient has a result, so
 *	those events wait, with the notes of their attempt, until then.
 * DIAGNOSTICS
 *	Config findings go to rt->diags with file:line.
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "loader.h"
#include "log.h"
#include "message.h"
#include "rfc5322.h"
#include "route.h"
#include "runtime.h"
#include "secure.h"
#include "userconf.h"
#include "util.h"

const struct plume_conf_key global_keys[] = {
	{ "hostname", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "this host's name, for EHLO, Message-ID and Received" },
	{ "domain", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "qualifies bare addresses and the generated From" },
	{ "queue_dir", PLUME_CONF_PATH, 0, QUEUE_DIR, NULL, 0, 0,
	    "spool directory" },
	{ "pipeline", PLUME_CONF_LIST, PLUME_KEY_REQUIRED, NULL, NULL, 0, 0,
	    "every instance a message goes through, in order" },
	{ "plugin_dir", PLUME_CONF_LIST, 0, PLUGIN_DIR, NULL, 0, 0,
	    "directories searched for plugin modules, in order" },
	{ "message_size_limit", PLUME_CONF_SIZE, 0, "0", NULL, 0, 0,
	    "largest message accepted, 0 for no limit" },
	{ "syslog", PLUME_CONF_BOOL, 0, "yes", NULL, 0, 0,
	    "log to syslog (facility mail)" },
	{ "submit_timeout", PLUME_CONF_DURATION, 0, "30s", NULL, 0, 0,
	    "bound on a whole foreground delivery, failovers included" },
	{ "delivery", PLUME_CONF_ENUM, 0, "now", "now|queue|background", 0,
	    0, "deliver at once, only queue, or queue and deliver in the "
	    "background (-odi, -odq, -odb)" },
	{ "bounce_sender", PLUME_CONF_STRING, 0, "<>", NULL, 0, 0,
	    "envelope sender of delivery reports: <> or an owned address "
	    "(relays and HTTP APIs often refuse <>)" },
	{ "bounce_size_limit", PLUME_CONF_SIZE, 0, "50k", NULL, 0, 0,
	    "largest original returned whole in a report; larger ones: "
	    "headers only" },
	{ "bounce_copy_to", PLUME_CONF_ADDRESS, 0, NULL, NULL, 0, 0,
	    "also send every delivery report to this address (postmaster)" },
	{ "delay_warning_time", PLUME_CONF_DURATION, 0, "0", NULL, 0, 0,
	    "warn the sender once when a message has waited this long "
	    "(0: never)" },
	{ "queue_max_per_user", PLUME_CONF_INT, 0, "0", NULL, 0, 1000000000,
	    "most messages one user may have waiting in the queue (0: no "
	    "limit)" },
	{ "queue_minfree", PLUME_CONF_SIZE, 0, "0", NULL, 0, 0,
	    "refuse new mail (exit 75) when the spool's file system has "
	    "less free space than this" },
	{ "queue_concurrency", PLUME_CONF_INT, 0, "2", NULL, 1, 64,
	    "delivery workers of one queue run, each with its own "
	    "connections (1: one message after another)" },
	{ "queue_min_backoff", PLUME_CONF_DURATION, 0, "5m", NULL, 0, 0,
	    "wait before the first retry of a deferred message" },
	{ "queue_max_backoff", PLUME_CONF_DURATION, 0, "1h", NULL, 0, 0,
	    "longest wait between retries" },
	{ "queue_lifetime", PLUME_CONF_DURATION, 0, "5d", NULL, 0, 0,
	    "how long a message is retried before it fails" },
	{ "aliases", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "sendmail-format aliases for local recipients (/etc/aliases)" },
	{ "local_domains", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0,
	    "domains whose recipients are local (aliases apply to them)" },
	{ "default_recipient", PLUME_CONF_ADDRESS, 0, NULL, NULL, 0, 0,
	    "where mail for local names without an alias goes" },
	{ "user_config", PLUME_CONF_BOOL, 0, "no", NULL, 0, 0,
	    "set-id installs: a user's own config is used, as that user "
	    "(plume gives its group up first)" },
	{ "sender_address", PLUME_CONF_ADDRESS, 0, NULL, NULL, 0, 0,
	    "the envelope sender when the caller gives none, or its -f is "
	    "not used (envelope_from)" },
	{ "envelope_from", PLUME_CONF_ENUM, 0, "always",
	    "always|allowed|never", 0, 0,
	    "whether the caller's -f is used: always, when it matches "
	    "allowed_senders, or never" },
	{ "allowed_senders", PLUME_CONF_LIST, 0, NULL, NULL, 0, 0,
	    "senders -f may give with envelope_from = allowed: a@b, *@b, "
	    "*@*.b" },
	{ "from_rewrite", PLUME_CONF_ENUM, 0, "keep",
	    "keep|always|unqualified", 0, 0,
	    "rewrite the From field to the envelope sender: never, always, "
	    "or when it is unqualified" },
	{ "dns_server", PLUME_CONF_STRING, 0, NULL, NULL, 0, 0,
	    "HOST:PORT of the DNS server plugins query (default: the "
	    "system resolver)" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

/*
 * With no config file plume still does its job: it captures mail in the
 * local outbox and says so, rather than failing or sending it somewhere
 * nobody configured.
 */
static const char embedded_config[] =
    "# plume's built-in default: used when no config file exists\n"
    "pipeline = outbox\n";

const char *
runtime_default_config(void)
{
	return embedded_config;
}

const char *
runtime_global(const struct runtime *rt, const char *key)
{
	const struct conf_entry *e = conf_entry_find(rt->conf->globals, key);
	const struct plume_conf_key *k = conf_key_find(global_keys, key);

	if (e != NULL)
		return e->value;
	return k != NULL ? k->def : NULL;
}

static char *
read_mailname(void)
{
	FILE *fp = fopen("/etc/mailname", "re");
	char line[256];
	char *nl;

	if (fp == NULL)
		return NULL;
	if (fgets(line, sizeof(line), fp) == NULL) {
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	if ((nl = strpbrk(line, " \t\r\n")) != NULL)
		*nl = '\0';
	return line[0] != '\0' ? xstrdup(line) : NULL;
}

static void
resolve_globals(struct runtime *rt)
{
	const struct conf_entry *e;
	const char *v;
	char host[256];

	if ((v = runtime_global(rt, "hostname")) != NULL)
		rt->hostname = xstrdup(v);
	else if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
		host[sizeof(host) - 1] = '\0';
		rt->hostname = xstrdup(host);
	} else
		rt->hostname = xstrdup("localhost");

	if ((v = runtime_global(rt, "domain")) != NULL)
		rt->domain = xstrdup(v);
	else if ((rt->domain = read_mailname()) == NULL)
		rt->domain = xstrdup(rt->hostname);

	e = conf_entry_find(rt->conf->globals, "queue_dir");
	if (e != NULL)
		rt->queue_dir = conf_resolve_path(e->value, e->file);
	else if (!rt->user_mode)
		rt->queue_dir = xstrdup(QUEUE_DIR);
	else if ((rt->queue_dir = userconf_state_dir()) == NULL) {
		/* never the system spool for a user's config */
		diags_add(&rt->diags, DIAG_ERROR, rt->conf_path, 0, "there is "
		    "no home directory for the user's queue: set queue_dir");
		rt->queue_dir = xstrdup("/nonexistent");
	}
	rt->plugin_dirs = conf_split_list(runtime_global(rt, "plugin_dir"));
	for (size_t i = 0; rt->plugin_dirs[i] != NULL; i++)
		if (e = conf_entry_find(rt->conf->globals, "plugin_dir"), e) {
			char *abs = conf_resolve_path(rt->plugin_dirs[i],
			    e->file);
			free(rt->plugin_dirs[i]);
			rt->plugin_dirs[i] = abs;
		}
	if (conf_parse_size(runtime_global(rt, "message_size_limit"),
	    &rt->size_limit) == -1)
		rt->size_limit = 0;
	if (conf_parse_duration(runtime_global(rt, "submit_timeout"),
	    &rt->submit_timeout) == -1)
		rt->submit_timeout = 30;
	rt->delivery = runtime_global(rt, "delivery")[0];	/* n, q or b */
	v = runtime_global(rt, "bounce_sender");
	rt->bounce_sender = xstrdup(strcmp(v, "<>") == 0 ? "" : v);
	v = runtime_global(rt, "bounce_copy_to");
	rt->bounce_copy_to = v != NULL ? xstrdup(v) : NULL;
	if (conf_parse_duration(runtime_global(rt, "delay_warning_time"),
	    &rt->delay_warning) == -1)
		rt->delay_warning = 0;
	if (conf_parse_int(runtime_global(rt, "queue_max_per_user"),
	    &rt->max_per_user) == -1)
		rt->max_per_user = 0;
	if (conf_parse_int(runtime_global(rt, "queue_concurrency"),
	    &rt->concurrency) == -1 || rt->concurrency < 1)
		rt->concurrency = 1;
	if (conf_parse_size(runtime_global(rt, "queue_minfree"),
	    &rt->minfree) == -1)
		rt->minfree = 0;
	if (conf_parse_size(runtime_global(rt, "bounce_size_limit"),
	    &rt->bounce_size_limit) == -1)
		rt->bounce_size_limit = 50 * 1024;
	if (conf_parse_duration(runtime_global(rt, "queue_min_backoff"),
	    &rt->min_backoff) == -1)
		rt->min_backoff = 300;
	if (conf_parse_duration(runtime_global(rt, "queue_max_backoff"),
	    &rt->max_backoff) == -1)
		rt->max_backoff = 3600;
	if (conf_parse_duration(runtime_global(rt, "queue_lifetime"),
	    &rt->lifetime) == -1)
		rt->lifetime = 5 * 86400;
	{
		bool b = true;

		conf_parse_bool(runtime_global(rt, "syslog"), &b);
		rt->syslog = b;
	}
}

static struct plume_inst *
inst_new(struct runtime *rt, struct plugin *p, struct conf_section *sect,
    const char *id)
{
	struct plume_inst *in = xcalloc(1, sizeof(*in));
	const char *colon = strchr(id, ':');

	in->rt = rt;
	in->plugin = p;
	in->sect = sect;
	in->id = xstrdup(id);
	in->name = xstrdup(colon != NULL ? colon + 1 : "");
	return in;
}

static void
inst_free(struct plume_inst *in)
{
	if (in->session != NULL && in->plugin->desc.transport != NULL &&
	    in->plugin->desc.transport->session_close != NULL)
		in->plugin->desc.transport->session_close(in->state,
		    in->session);
	result_clear(&in->session_fail);
	result_clear(&in->pause_reply);
	if (in->started && in->plugin->desc.shutdown != NULL)
		in->plugin->desc.shutdown(in->state);
	for (size_t i = 0; i < in->ncache; i++) {
		free(in->cache[i].key);
		free(in->cache[i].value);
	}
	free(in->cache);
	for (size_t i = 0; i < in->nlists; i++) {
		free(in->lists[i].key);
		strv_free(in->lists[i].v);
	}
	free(in->lists);
	strv_free(in->match_from);
	strv_free(in->match_rcpt);
	strv_free(in->routes);
	free(in->state_dir);
	free(in->id);
	free(in->name);
	free(in);
}

/* Keys the core reads in a transport's section, and in a filter's or a
   policy's, whatever the plugin. */
static const char *const core_transport_keys[] = { "failover",
    "match_from", "match_rcpt", NULL };
static const char *const core_filter_keys[] = { "routes", NULL };

/* "[smtp \"backup\"]" for messages */
static char *
section_label(const char *id)
{
	const char *colon = strchr(id, ':');

	if (colon == NULL)
		return xasprintf("[%s]", id);
	return xasprintf("[%.*s \"%s\"]", (int)(colon - id), id, colon + 1);
}

/* Loads the plugin of instance id and validates its section. */
static struct plume_inst *
inst_setup(struct runtime *rt, const char *id, const char *file,
    unsigned line, enum diag_level level)
{
	struct conf_section *sect = conf_section_find(rt->conf, id);
	struct plugin *p;
	char err[1024], *label, *plugname;
	const char *colon = strchr(id, ':');

	plugname = colon ? xstrndup(id, (size_t)(colon - id)) : xstrdup(id);
	label = section_label(id);
	if (sect == NULL && colon != NULL) {
		diags_add(&rt->diags, level, file, line,
		    "pipeline names '%s' but there is no %s section", id,
		    label);
		goto fail;
	}
	if ((p = loader_get(plugname, err, sizeof(err))) == NULL) {
		diags_add(&rt->diags, level,
		    sect ? sect->file : file, sect ? sect->line : line,
		    "%s: %s", label, err);
		goto fail;
	}
	conf_validate(sect ? sect->entries : NULL, p->desc.conf_keys,
	    (p->desc.kinds & PLUME_KIND_TRANSPORT) ? core_transport_keys :
	    (p->desc.kinds & (PLUME_KIND_FILTER | PLUME_KIND_POLICY)) ?
	    core_filter_keys : NULL,
	    level, label, sect ? sect->file : file, sect ? sect->line : line,
	    &rt->diags);
	free(label);
	free(plugname);
	return inst_new(rt, p, sect, id);
fail:
	free(label);
	free(plugname);
	return NULL;
}

static struct plume_inst *
inst_find(struct runtime *rt, const char *id)
{
	for (size_t i = 0; i < rt->ninsts; i++)
		if (strcmp(rt->insts[i]->id, id) == 0)
			return rt->insts[i];
	return NULL;
}

/*
 * "failover = smtp:backup" in a transport's section names the transport
 * tried next on a temporary failure.  Chains are followed (and their
 * instances loaded and checked like pipeline ones); a chain that comes
 * back to itself is an error, as is a failover that is not a transport.
 */
static void
resolve_failovers(struct runtime *rt)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i], *to;
		const struct conf_entry *e = in->sect != NULL ?
		    conf_entry_find(in->sect->entries, "failover") : NULL;

		if (e == NULL || !(in->plugin->desc.kinds &
		    PLUME_KIND_TRANSPORT))
			continue;
		if ((to = inst_find(rt, e->value)) == NULL) {
			to = inst_setup(rt, e->value, e->file, e->line,
			    DIAG_ERROR);
			if (to == NULL)
				continue;
			rt->insts = xreallocarray(rt->insts, rt->ninsts + 1,
			    sizeof(*rt->insts));
			rt->insts[rt->ninsts++] = to;
		}
		if (!(to->plugin->desc.kinds & PLUME_KIND_TRANSPORT)) {
			diags_add(&rt->diags, DIAG_ERROR, e->file, e->line,
			    "failover '%s' is not a transport", e->value);
			continue;
		}
		in->failover = to;
	}
	/* a chain must end */
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *slow = rt->insts[i], *fast = rt->insts[i];

		while (fast != NULL && fast->failover != NULL) {
			slow = slow->failover;
			fast = fast->failover->failover;
			if (fast != NULL && slow == fast) {
				const struct conf_entry *e = conf_entry_find(
				    rt->insts[i]->sect->entries, "failover");

				diags_add(&rt->diags, DIAG_ERROR, e->file,
				    e->line, "failover chain from '%s' loops "
				    "back on itself", rt->insts[i]->id);
				for (size_t k = 0; k < rt->ninsts; k++)
					rt->insts[k]->failover = NULL;
				return;
			}
		}
	}
}

/* A list key of the core's in in's section, its patterns checked. */
static char **
route_list(struct runtime *rt, struct plume_inst *in, const char *key)
{
	const struct conf_entry *e = in->sect != NULL ?
	    conf_entry_find(in->sect->entries, key) : NULL;
	char **v;

	if (e == NULL)
		return NULL;
	v = conf_split_list(e->value);
	for (size_t i = 0; v[i] != NULL; i++) {
		const char *why = strcmp(key, "routes") == 0 ? NULL :
		    route_pattern_check(v[i]);

		if (why != NULL)
			diags_add(&rt->diags, DIAG_ERROR, e->file, e->line,
			    "%s: '%s' is not a pattern: %s", key, v[i], why);
	}
	if (v[0] == NULL)
		diags_add(&rt->diags, DIAG_ERROR, e->file, e->line,
		    "%s is empty: leave it out instead", key);
	return v;
}

/*
 * Routing (DESIGN.md, Routing and failover): the transports in pipeline
 * are the routes, in its order; their match_from and match_rcpt
 * patterns are read and checked here, and every name in a filter's or a
 * policy's routes must be one of them.  The default route is the first
 * with neither key.  A failover reached only as such is no route: its
 * match keys would never be read, so they are refused.
 */
static void
resolve_routes(struct runtime *rt)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		unsigned kinds = in->plugin->desc.kinds;

		if (kinds & PLUME_KIND_TRANSPORT) {
			in->match_from = route_list(rt, in, "match_from");
			in->match_rcpt = route_list(rt, in, "match_rcpt");
			if (!in->in_pipeline && (in->match_from != NULL ||
			    in->match_rcpt != NULL)) {
				const struct conf_entry *e = conf_entry_find(
				    in->sect->entries, in->match_from ?
				    "match_from" : "match_rcpt");

				diags_add(&rt->diags, DIAG_ERROR, e->file,
				    e->line, "%s is only a failover: a route "
				    "must be named in pipeline to take %s",
				    in->id, e->key);
			}
			if (!in->in_pipeline)
				continue;
			rt->routes = xreallocarray(rt->routes,
			    rt->nroutes + 1, sizeof(*rt->routes));
			rt->routes[rt->nroutes++] = in;
			if (rt->transport == NULL && in->match_from == NULL &&
			    in->match_rcpt == NULL)
				rt->transport = in;
		} else if (kinds & (PLUME_KIND_FILTER | PLUME_KIND_POLICY))
			in->routes = route_list(rt, in, "routes");
	}
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];

		for (size_t k = 0; in->routes != NULL &&
		    in->routes[k] != NULL; k++) {
			struct plume_inst *to = inst_find(rt, in->routes[k]);

			if (to == NULL || !to->in_pipeline ||
			    !(to->plugin->desc.kinds & PLUME_KIND_TRANSPORT)) {
				const struct conf_entry *e = conf_entry_find(
				    in->sect->entries, "routes");

				diags_add(&rt->diags, DIAG_ERROR, e->file,
				    e->line, "routes names '%s', which is not "
				    "a transport in pipeline", in->routes[k]);
			}
		}
	}
}

int
runtime_load(struct runtime *rt, const char *path, bool explicit_path)
{
	const struct conf_entry *pe;
	char **ids;
	size_t before;

	char *user = NULL, err[640];

	memset(rt, 0, sizeof(*rt));
	rt->conf_explicit = explicit_path;
	rt->self = SBINDIR "/plume";
	if (path == NULL && !explicit_path &&
	    (user = userconf_find(&rt->conf_why, false)) != NULL) {
		rt->user_mode = true;
		path = user;
	}
	if (path == NULL)
		path = SYSCONFDIR "/plume/plume.conf";
	if (rt->user_mode && !userconf_file_ok(path, err, sizeof(err))) {
		/* not read at all; the built-in default only gives the
		   message a place in the user's queue (hold/) */
		rt->conf_path = xstrdup(path);
		diags_add(&rt->diags, DIAG_ERROR, path, 0, "%s", err);
		conf_parse_string(embedded_config, "(built-in default)",
		    &rt->conf, &rt->diags);
	} else if (!explicit_path && access(path, F_OK) == -1 &&
	    errno == ENOENT) {
		rt->embedded = true;
		conf_parse_string(embedded_config, "(built-in default)",
		    &rt->conf, &rt->diags);
	} else {
		rt->conf_path = xstrdup(path);
		conf_parse_file(path, &rt->conf, &rt->diags);
	}
	free(user);
	conf_validate(rt->conf->globals, global_keys, NULL, DIAG_ERROR,
	    "global settings", rt->conf->path, 0, &rt->diags);
	resolve_globals(rt);
	if (!explicit_path && !rt->user_mode && !rt->embedded &&
	    rt->diags.nerrors == 0 && running_setid() && getuid() != 0) {
		/* set-id: the system config decides whether a user's own
		   config may stand in for it; then plume gives its group up
		   for good before reading a word of it, so the user's
		   routes never reach the system's secrets or spool */
		bool allow = false;
		char *why = NULL;

		conf_parse_bool(runtime_global(rt, "user_config"), &allow);
		if (allow) {
			/* looked for as the user, in the user's own
			   environment: the group set aside meanwhile */
			gid_t eg = getegid();

			if (setegid(getgid()) == 0) {
				setid_user_env(true);
				if ((user = userconf_find(&why, true)) == NULL)
					setid_user_env(false);
				if (setegid(eg) == -1) {
					diags_add(&rt->diags, DIAG_ERROR,
					    rt->conf_path, 0, "cannot take the "
					    "set-id group up again: %s",
					    strerror(errno));
					free(user);
					free(why);
					return -1;
				}
			}
		}
		if (user != NULL) {
			free(user);
			free(why);
			if (setid_give_up() == -1) {
				diags_add(&rt->diags, DIAG_ERROR, rt->conf_path,
				    0, "user_config = yes: cannot give up the "
				    "set-id privileges: %s", strerror(errno));
				return -1;
			}
			runtime_free(rt);
			return runtime_load(rt, NULL, false);
		}
		if (why != NULL) {
			free(rt->conf_why);
			rt->conf_why = why;
		}
	}
	loader_set_dirs((const char *const *)rt->plugin_dirs);
	if (rt->user_mode && rt->diags.nerrors == 0)
		userconf_check(rt->conf, &rt->diags);
	if (rt->diags.nerrors > 0)
		return -1;

	pe = conf_entry_find(rt->conf->globals, "pipeline");
	ids = conf_split_list(pe->value);
	before = rt->diags.nerrors;
	for (size_t i = 0; ids[i] != NULL; i++) {
		struct plume_inst *in;
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= strcmp(ids[i], ids[j]) == 0;
		if (dup) {
			diags_add(&rt->diags, DIAG_ERROR, pe->file, pe->line,
			    "pipeline names '%s' twice", ids[i]);
			continue;
		}
		in = inst_setup(rt, ids[i], pe->file, pe->line, DIAG_ERROR);
		if (in == NULL)
			continue;
		in->in_pipeline = true;
		rt->insts = xreallocarray(rt->insts, rt->ninsts + 1,
		    sizeof(*rt->insts));
		rt->insts[rt->ninsts++] = in;
	}
	resolve_failovers(rt);
	resolve_routes(rt);
	if (rt->diags.nerrors == before && rt->nroutes == 0)
		diags_add(&rt->diags, DIAG_ERROR, pe->file, pe->line,
		    "pipeline names no transport: nothing would deliver "
		    "the mail (e.g. add outbox or smtp)");
	else if (rt->diags.nerrors == before && rt->transport == NULL)
		diags_add(&rt->diags, DIAG_WARNING, pe->file, pe->line,
		    "every transport has match_from or match_rcpt: mail "
		    "that matches none of them waits in the queue (give one "
		    "transport neither key to make it the default)");
	strv_free(ids);
	return rt->diags.nerrors > 0 ? -1 : 0;
}

int
runtime_start(struct runtime *rt)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const char *err = NULL;

		if (in->plugin->desc.init == NULL) {
			in->started = true;
			continue;
		}
		if (in->plugin->desc.init(&host_services, in, &in->state,
		    &err) != 0) {
			char *label = section_label(in->id);

			diags_add(&rt->diags, DIAG_ERROR,
			    in->sect ? in->sect->file : NULL,
			    in->sect ? in->sect->line : 0, "%s: %s", label,
			    err ? err : "the plugin failed to start");
			free(label);
			return -1;
		}
		in->started = true;
	}
	return 0;
}

/* Every section no pipeline entry reaches: the same checks, as warnings,
   so a leftover snippet of a removed plugin never stops mail. */
void
runtime_check_all(struct runtime *rt)
{
	for (struct conf_section *s = rt->conf->sections; s; s = s->next) {
		struct plume_inst *in;
		bool reached = false;

		for (size_t i = 0; i < rt->ninsts; i++)
			reached |= strcmp(rt->insts[i]->id, s->id) == 0;
		if (reached)
			continue;
		diags_add(&rt->diags, DIAG_WARNING, s->file, s->line,
		    "section [%s%s%s%s] is not reached from pipeline and is "
		    "ignored", s->plugin, s->name ? " \"" : "",
		    s->name ? s->name : "", s->name ? "\"" : "");
		in = inst_setup(rt, s->id, s->file, s->line, DIAG_WARNING);
		if (in != NULL)
			inst_free(in);
	}
}

/* The instance of section s (of plugin p), made unstarted if needed. */
static struct plume_inst *
inst_of_section(struct runtime *rt, struct plugin *p, struct conf_section *s)
{
	struct plume_inst *in;

	for (size_t i = 0; i < rt->ninsts; i++)
		if (rt->insts[i]->plugin == p && rt->insts[i]->sect == s)
			return rt->insts[i];
	in = inst_new(rt, p, s, s ? s->id : p->name);
	rt->insts = xreallocarray(rt->insts, rt->ninsts + 1,
	    sizeof(*rt->insts));
	rt->insts[rt->ninsts++] = in;
	return in;
}

/* For a plugin command: the plugin's first section in config order (or
   an unconfigured instance); runtime_inst_next() walks the others. */
struct plume_inst *
runtime_inst_for(struct runtime *rt, struct plugin *p)
{
	struct conf_section *s;

	for (s = rt->conf ? rt->conf->sections : NULL; s; s = s->next)
		if (strcmp(s->plugin, p->name) == 0)
			break;
	return inst_of_section(rt, p, s);
}

struct plume_inst *
runtime_inst_next(struct plume_inst *in)
{
	struct conf_section *s = in->sect != NULL ? in->sect->next : NULL;

	for (; s != NULL; s = s->next)
		if (strcmp(s->plugin, in->plugin->name) == 0)
			return inst_of_section(in->rt, in->plugin, s);
	return NULL;
}

int
runtime_probe(struct runtime *rt, struct plume_inst *in,
    struct plume_probe *p)
{
	const struct plume_transport_ops *t = in->plugin->desc.transport;

	(void)rt;
	if (!in->started || t == NULL ||
	    !PLUME_OPS_HAS(t, struct plume_transport_ops, probe) ||
	    t->probe == NULL)
		return -1;
	p->inst = in;
	return t->probe(in->state, p);
}

void
runtime_free(struct runtime *rt)
{
	/* shut down in reverse order of start */
	for (size_t i = rt->ninsts; i-- > 0;)
		inst_free(rt->insts[i]);
	free(rt->insts);
	free(rt->routes);
	if (rt->conf != NULL)
		conf_free(rt->conf);
	diags_free(&rt->diags);
	free(rt->conf_path);
	free(rt->conf_why);
	free(rt->hostname);
	free(rt->domain);
	free(rt->queue_dir);
	free(rt->bounce_sender);
	free(rt->bounce_copy_to);
	strv_free(rt->plugin_dirs);
	memset(rt, 0, sizeof(*rt));
}

char *
runtime_default_sender(const struct runtime *rt)
{
	const char *s = runtime_global(rt, "sender_address");
	struct passwd *pw;

	if (s != NULL && *s != '\0')
		return xstrdup(s);
	pw = getpwuid(getuid());
	return xasprintf("%s@%s", pw != NULL ? pw->pw_name : "root",
	    rt->domain);
}

int
runtime_ensure_dir(const char *dir, mode_t mode, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, mode) == 0) {
		/* the umask (077) must not take the group's bits of a
		   set-id install's shared spool */
		if ((mode & 07070) != 0)
			chmod(dir, mode);
		return 0;
	}
	if (errno == EEXIST) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "%s exists but is not a directory", dir);
		return -1;
	}
	if (errno == ENOENT) {
		char *parent = xstrdup(dir), *slash = strrchr(parent, '/');

		if (slash != NULL && slash != parent) {
			*slash = '\0';
			if (runtime_ensure_dir(parent, 0755, err, errlen) == 0) {
				free(parent);
				if (mkdir(dir, mode) == 0 || errno == EEXIST)
					return 0;
				goto fail;
			}
			free(parent);
			return -1;
		}
		free(parent);
	}
fail:
	snprintf(err, errlen, "cannot create directory %s: %s", dir,
	    strerror(errno));
	return -1;
}

int
runtime_ensure_queue(const struct runtime *rt, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/tmp", rt->queue_dir);
	int rc;

	/* a user's queue is theirs alone (XDG: base directories 0700) */
	rc = runtime_ensure_dir(rt->queue_dir, rt->user_mode ? 0700 : 0755,
	    err, errlen) == -1 || runtime_ensure_dir(tmp, spool_dir_mode(),
	    err, errlen) == -1 ? -1 : 0;
	free(tmp);
	return rc;
}

/* ---- events and delivery ------------------------------------------- */

void
runtime_event(struct runtime *rt, struct plume_msg *m,
    enum plume_event_type type, const char *rcpt, const char *instance,
    const struct plume_reply *reply, long duration_ms)
{
	struct plume_event ev;
	const char **notes;

	memset(&ev, 0, sizeof(ev));
	ev.struct_size = sizeof(ev);
	ev.type = type;
	clock_gettime(CLOCK_REALTIME, &ev.time);
	ev.queue_id = m->qid;
	ev.message_id = m->message_id;
	ev.sender = m->sender ? m->sender : "";
	ev.rcpt = rcpt;
	ev.nrcpt = m->nrcpt;
	ev.size = msg_size(m);
	ev.instance = instance;
	ev.reply = reply;
	/* the runner counts the attempt before it starts; a submission
	   is the first */
	ev.attempt = m->attempts > 0 ? m->attempts : 1;
	ev.duration_ms = duration_ms;
	ev.uid = m->uid;
	ev.user = m->user;
	notes = xcalloc(2 * m->nnotes + 1, sizeof(*notes));
	for (size_t i = 0; i < m->nnotes; i++) {
		notes[2 * i] = m->notes[i].key;
		notes[2 * i + 1] = m->notes[i].value;
	}
	ev.notes = notes;
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_observer_ops *ops = in->plugin->desc.observer;

		if (!(in->plugin->desc.kinds & PLUME_KIND_OBSERVER) ||
		    ops == NULL || ops->event == NULL || !in->started ||
		    !in->in_pipeline)
			continue;
		ops->event(in->state, &ev);
	}
	free(notes);
}

/* The observers in the pipeline that keep work for the queue runner
   (ABI 1.4 flush). */
static const struct plume_observer_ops *
flush_ops(const struct plume_inst *in)
{
	const struct plume_observer_ops *ops = in->plugin->desc.observer;

	if (!(in->plugin->desc.kinds & PLUME_KIND_OBSERVER) || ops == NULL ||
	    !in->started || !in->in_pipeline ||
	    !PLUME_OPS_HAS(ops, struct plume_observer_ops, flush) ||
	    ops->flush == NULL)
		return NULL;
	return ops;
}

bool
runtime_wants_flush(const struct runtime *rt)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		const struct plume_inst *in = rt->insts[i];

		if (flush_ops(in) == NULL)
			continue;
		/* before ABI 1.6 an observer could not say whether it
		   kept anything: a run every time, as then */
		if (in->flush_wanted || PLUME_ABI_GET_MINOR(
		    in->plugin->desc.abi_version) < 6)
			return true;
	}
	return false;
}

void
runtime_flush_observers(struct runtime *rt)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		const struct plume_observer_ops *ops = flush_ops(rt->insts[i]);

		if (ops != NULL)
			ops->flush(rt->insts[i]->state);
	}
}

static const char *
status_word(enum plume_status st)
{
	return st == PLUME_OK ? "sent" : st == PLUME_TEMPFAIL ? "deferred" :
	    "bounced";
}

static void
log_rcpt_result(const struct plume_msg *m, const struct rcpt *r,
    const char *via, long ms)
{
	const struct result *res = &r->result;
	int level = res->status == PLUME_OK ? LOG_LVL_INFO :
	    res->status == PLUME_TEMPFAIL ? LOG_LVL_WARNING : LOG_LVL_ERR;
	struct buf facts, words;

	buf_init(&facts);
	buf_init(&words);
	for (size_t i = 0; i < m->nnotes; i++)
		buf_printf(&facts, ", %s=%s", m->notes[i].key,
		    m->notes[i].value);
	if (res->code != 0)
		buf_printf(&words, "%d ", res->code);
	if (res->enhanced != NULL)
		buf_printf(&words, "%s ", res->enhanced);
	buf_adds(&words, res->text != NULL ? res->text : "no text");
	logx(level, "to=<%s>, via=%s%s, delay=%ld.%03lds, status=%s (%s)",
	    r->addr, via, facts.len ? facts.data : "", ms / 1000, ms % 1000,
	    status_word(res->status), words.data);
	buf_free(&words);
	buf_free(&facts);
}

static void
fail_active(struct plume_msg *m, const struct plume_reply *reply)
{
	for (size_t i = 0; i < msg_active_count(m); i++) {
		struct rcpt *r = msg_active_rcpt(m, i);

		if (!r->result.set)
			result_set(&r->result, reply);
	}
}

static enum plume_event_type
event_of(enum plume_status st)
{
	return st == PLUME_OK ? PLUME_EV_DELIVERED : st == PLUME_TEMPFAIL ?
	    PLUME_EV_DEFERRED : PLUME_EV_FAILED;
}

/* A permanent refusal whose event waits for the verdict bounced/failed,
   with the facts (notes) of the attempt that earned it. */
struct held_event {
	size_t	 rcpt;
	const char *instance;
	long	 ms;
	struct note *notes;
	size_t	 nnotes;
};

static void
hold_event(struct held_event **held, size_t *nheld, struct plume_msg *m,
    size_t rcpt, const char *instance, long ms)
{
	struct held_event *h;

	*held = xreallocarray(*held, *nheld + 1, sizeof(**held));
	h = &(*held)[(*nheld)++];
	h->rcpt = rcpt;
	h->instance = instance;
	h->ms = ms;
	h->nnotes = m->nnotes;
	h->notes = xcalloc(m->nnotes ? m->nnotes : 1, sizeof(*h->notes));
	for (size_t i = 0; i < m->nnotes; i++) {
		h->notes[i].key = xstrdup(m->notes[i].key);
		h->notes[i].value = xstrdup(m->notes[i].value);
	}
}

static void
release_events(struct runtime *rt, struct plume_msg *m,
    struct held_event *held, size_t nheld, enum plume_event_type type)
{
	for (size_t k = 0; k < nheld; k++) {
		struct held_event *h = &held[k];
		struct rcpt *r = &m->rcpts[h->rcpt];
		struct plume_reply out;

		msg_clear_notes(m);
		m->notes = h->notes;
		m->nnotes = h->nnotes;
		result_to_reply(&r->result, &out);
		runtime_event(rt, m, type, r->addr, h->instance, &out, h->ms);
		msg_clear_notes(m);
	}
	free(held);
}

void
summary_free(struct delivery_summary *s)
{
	free(s->first_error);
	memset(s, 0, sizeof(*s));
}

/*
 * A rate limit by the far end, in a queue run: a temporary failure that
 * says when to come back (retry_after: an HTTP API's 429 or SparkPost's
 * 420 with Retry-After), or an SMTP 421 (the server closes the channel)
 * with a 4.7.x enhanced code (policy: "too many messages", "unusual
 * rate", "unexpected volume").  A 421 4.3.2 at the greeting is a relay
 * that is down: session_failed covers it.  The transport is paused until
 * retry_after (a 421: queue_min_backoff from now), at most
 * queue_max_backoff: the messages the runner would send through it next
 * wait, without an attempt, until then.  One log line per pause.
 */
static bool
rate_limited(const struct result *res)
{
	return res->status == PLUME_TEMPFAIL && (res->retry_after != 0 ||
	    (res->code == 421 && res->enhanced != NULL &&
	    strncmp(res->enhanced, "4.7.", 4) == 0));
}

static void
transport_pause(const struct runtime *rt, struct plume_inst *tr,
    const struct result *res)
{
	time_t now = time(NULL), until = res->retry_after;
	struct plume_reply reply;
	char stamp[32];
	struct tm tm;

	if (until == 0)
		until = now + (time_t)rt->min_backoff;
	if (until <= now)
		return;		/* come back now: nothing to wait for */
	if (until - now > rt->max_backoff)
		until = now + (time_t)rt->max_backoff;
	tr->paused_until = until;
	result_to_reply(res, &reply);
	reply.retry_after = until;
	result_clear(&tr->pause_reply);
	result_set(&tr->pause_reply, &reply);
	localtime_r(&until, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	log_warnx("%s asked to slow down (%d%s%s %s): no more messages "
	    "through it in this run; they wait until %s", tr->id, res->code,
	    res->enhanced ? " " : "", res->enhanced ? res->enhanced : "",
	    res->text ? res->text : "", stamp);
}

static bool
transport_paused(struct plume_inst *tr, time_t now)
{
	if (tr->paused_until != 0 && tr->paused_until <= now) {
		/* the time has come within the run: go on */
		tr->paused_until = 0;
		result_clear(&tr->pause_reply);
	}
	return tr->paused_until != 0;
}

/* ---- routing ------------------------------------------------------- */

struct plume_inst *
runtime_route(const struct runtime *rt, const char *rcpt, const char *sender,
    char *const *from, enum route_why *why)
{
	enum route_why w = ROUTE_NONE;
	struct plume_inst *to = NULL;

	for (size_t i = 0; i < rt->nroutes && to == NULL; i++)
		if (route_match(rt->routes[i]->match_rcpt, rcpt))
			to = rt->routes[i], w = ROUTE_RCPT;
	for (size_t i = 0; i < rt->nroutes && to == NULL; i++) {
		char *const *pats = rt->routes[i]->match_from;

		if (pats == NULL)
			continue;
		if (sender != NULL && route_match(pats, sender))
			to = rt->routes[i], w = ROUTE_FROM;
		for (size_t k = 0; to == NULL && from != NULL &&
		    from[k] != NULL; k++)
			if (route_match(pats, from[k]))
				to = rt->routes[i], w = ROUTE_FROM_HEADER;
	}
	if (to == NULL && rt->transport != NULL)
		to = rt->transport, w = ROUTE_DEFAULT;
	if (why != NULL)
		*why = w;
	return to;
}

char **
runtime_from_addrs(const struct plume_msg *m)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	long idx;

	for (size_t k = 0; (idx = msg_header_find(m, "From", k)) >= 0; k++) {
		char *value = msg_header_value(m, (size_t)idx);
		struct addrlist l = { 0 };
		const char *why;

		(void)rfc5322_parse_addrlist(value, strlen(value), &l, &why);
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].qualified) {
				v = xreallocarray(v, n + 2, sizeof(*v));
				v[n++] = xstrdup(l.v[i].spec);
				v[n] = NULL;
			}
		addrlist_free(&l);
		free(value);
	}
	return v;
}

bool
runtime_acts_on(const struct plume_inst *in, const char *route)
{
	if (in->routes == NULL)
		return true;
	for (size_t i = 0; route != NULL && in->routes[i] != NULL; i++)
		if (strcmp(in->routes[i], route) == 0)
			return true;
	return false;
}

/* The route of each recipient of m (NULL: none); heads[] has nrcpt
   entries. */
static void
route_all(struct runtime *rt, struct plume_msg *m, struct plume_inst **heads)
{
	char **from = NULL;

	/* the common case, one transport and no keys: no parsing */
	if (rt->nroutes == 1 && rt->transport != NULL) {
		for (size_t i = 0; i < m->nrcpt; i++)
			heads[i] = rt->transport;
		return;
	}
	from = runtime_from_addrs(m);
	for (size_t i = 0; i < m->nrcpt; i++)
		heads[i] = runtime_route(rt, m->rcpts[i].addr, m->sender, from,
		    NULL);
	strv_free(from);
}

static void
describe_patterns(struct buf *b, const char *what, char *const *pats)
{
	buf_adds(b, what);
	for (size_t i = 0; pats[i] != NULL; i++)
		buf_printf(b, "%s%s", i > 0 ? ", " : " ", pats[i]);
}

void
runtime_describe_route(const struct runtime *rt, const struct plume_inst *r,
    struct buf *b)
{
	buf_adds(b, r->id);
	if (r->match_rcpt != NULL)
		describe_patterns(b, " for recipients", r->match_rcpt);
	if (r->match_from != NULL)
		describe_patterns(b, r->match_rcpt != NULL ? ", and mail from" :
		    " for mail from", r->match_from);
	if (r == rt->transport)
		buf_adds(b, rt->nroutes > 1 ? " (the default)" : "");
	for (const struct plume_inst *f = r->failover; f != NULL;
	    f = f->failover)
		buf_printf(b, ", then %s", f->id);
}

void
runtime_describe_routes(const struct runtime *rt, struct buf *b)
{
	for (size_t i = 0; i < rt->nroutes; i++) {
		if (i > 0)
			buf_adds(b, "; ");
		runtime_describe_route(rt, rt->routes[i], b);
	}
}

void
runtime_explain(struct runtime *rt, struct plume_msg *m, struct buf *out)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_plugin *p = &in->plugin->desc;
		int (*explain)(void *, struct plume_msg *, char *, size_t) =
		    NULL;
		char text[512];

		if (!in->in_pipeline || !in->started ||
		    !(p->kinds & (PLUME_KIND_FILTER | PLUME_KIND_POLICY)) ||
		    !runtime_acts_on(in, m->route))
			continue;
		if ((p->kinds & PLUME_KIND_FILTER) && p->filter != NULL &&
		    PLUME_OPS_HAS(p->filter, struct plume_filter_ops, explain))
			explain = p->filter->explain;
		else if ((p->kinds & PLUME_KIND_POLICY) && p->policy != NULL &&
		    PLUME_OPS_HAS(p->policy, struct plume_policy_ops, explain))
			explain = p->policy->explain;
		snprintf(text, sizeof(text), "acts on this route (its plugin "
		    "does not say how)");
		if (explain != NULL)
			explain(in->state, m, text, sizeof(text));
		buf_printf(out, "    %s: %s\n", in->id, text);
	}
}

/* Whether a route's chain is paused wholly: the time the first of its
   transports takes mail again, or 0. */
static time_t
chain_paused(struct plume_inst *head, time_t now)
{
	time_t first = 0;

	for (struct plume_inst *tr = head; tr != NULL; tr = tr->failover) {
		if (!transport_paused(tr, now))
			return 0;
		if (first == 0 || tr->paused_until < first)
			first = tr->paused_until;
	}
	return first;
}

time_t
runtime_route_paused(struct runtime *rt, struct plume_msg *m, time_t now)
{
	struct plume_inst **heads;
	time_t first = 0;
	bool any = false;

	/* the usual case, nothing paused: no routing (runtime_deliver()
	   routes the message anyway) */
	for (size_t i = 0; i < rt->ninsts && !any; i++)
		any = rt->insts[i]->paused_until != 0;
	if (!any)
		return 0;
	heads = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof(*heads));
	route_all(rt, m, heads);
	for (size_t i = 0; i < m->nrcpt; i++) {
		time_t t = heads[i] != NULL ? chain_paused(heads[i], now) : 0;

		if (t == 0) {
			first = 0;
			break;
		}
		if (first == 0 || t < first)
			first = t;
	}
	free(heads);
	return first;
}

/*
 * Delivery through one transport.  At submission each delivery opens and
 * closes its own session; in a queue run (m->from_queue) the transport's
 * session stays open for the next message.
 */
static void
transport_deliver(struct plume_inst *tr, struct plume_msg *m)
{
	const struct plume_transport_ops *ops = tr->plugin->desc.transport;
	struct plume_reply reply;

	if (!m->from_queue || ops->session_open == NULL) {
		ops->deliver(tr->state, NULL, m);
		return;
	}
	if (tr->session_failed) {
		result_to_reply(&tr->session_fail, &reply);
		fail_active(m, &reply);
		return;
	}
	/* paused, with a failover that is not (else the runner holds the
	   message back): a failure like a dead relay's, for the failover */
	if (transport_paused(tr, time(NULL))) {
		result_to_reply(&tr->pause_reply, &reply);
		fail_active(m, &reply);
		return;
	}
	if (tr->session == NULL) {
		memset(&reply, 0, sizeof(reply));
		if (ops->session_open(tr->state, &tr->session, &reply) !=
		    PLUME_OK) {
			tr->session = NULL;
			tr->session_failed = true;
			if (reply.text == NULL)
				reply.text = "the transport could not open a "
				    "session";
			if (reply.status == PLUME_OK)
				reply.status = PLUME_TEMPFAIL;
			result_set(&tr->session_fail, &reply);
			fail_active(m, &reply);
			return;
		}
	}
	if (ops->deliver(tr->state, tr->session, m) != PLUME_OK) {
		/* the session is broken: the next message opens another */
		if (ops->session_close != NULL)
			ops->session_close(tr->state, tr->session);
		tr->session = NULL;
	}
}

void
runtime_close_sessions(struct runtime *rt, bool keep_failures)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_transport_ops *ops =
		    in->plugin->desc.transport;

		if (in->session != NULL && ops != NULL &&
		    ops->session_close != NULL)
			ops->session_close(in->state, in->session);
		in->session = NULL;
		if (keep_failures)
			continue;
		in->session_failed = false;
		result_clear(&in->session_fail);
		in->paused_until = 0;
		result_clear(&in->pause_reply);
	}
}

static void
accepted_event(struct runtime *rt, struct plume_msg *m)
{
	if (!m->from_queue && !m->accepted) {
		runtime_event(rt, m, PLUME_EV_ACCEPTED, NULL, NULL, NULL, -1);
		m->accepted = true;
	}
}

/*
 * The filters, once for the copy of m that takes route m->route, over
 * its recipients (m->active).  A copy whose filters all passed is
 * marked filtered and is never filtered again: a queued message was
 * signed before it was queued and is sent as it is.  One whose filters
 * failed temporarily is queued unfiltered, and filtered again on its
 * next attempt.
 */
static void
filter_copy(struct runtime *rt, struct plume_msg *m)
{
	struct plume_reply reply;
	struct header_set *saved;

	if (m->filtered)
		return;
	/* the header as it was: if a filter fails, what the others did
	   (a signature) is undone, so the next attempt starts afresh */
	saved = msg_headers_save(m);
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_filter_ops *ops = in->plugin->desc.filter;
		int st;

		if (!(in->plugin->desc.kinds & PLUME_KIND_FILTER) ||
		    ops == NULL || ops->filter == NULL || !in->in_pipeline ||
		    !runtime_acts_on(in, m->route))
			continue;
		memset(&reply, 0, sizeof(reply));
		st = ops->filter(in->state, m, &reply);
		if (st != PLUME_OK) {
			reply.status = st == PLUME_PERMFAIL ? PLUME_PERMFAIL :
			    PLUME_TEMPFAIL;
			if (reply.code == 0)
				reply.code = st == PLUME_PERMFAIL ? 554 : 451;
			if (reply.text == NULL)
				reply.text = "refused by filter";
			fail_active(m, &reply);
			msg_headers_restore(m, saved);
			return;
		}
	}
	msg_headers_drop(saved);
	m->filtered = true;
}

/*
 * Accepting a message to queue it (-odq, -odb): the ACCEPTED event and
 * the filters, when every recipient takes one route (DKIM signs what is
 * queued).  A message whose recipients take several routes is queued
 * unfiltered and filtered per route when it is delivered.
 */
void
runtime_accept(struct runtime *rt, struct plume_msg *m)
{
	struct plume_inst **heads;
	bool one = m->nrcpt > 0;

	accepted_event(rt, m);
	if (m->filtered)
		return;
	heads = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof(*heads));
	route_all(rt, m, heads);
	for (size_t i = 0; i < m->nrcpt; i++)
		one &= heads[i] != NULL && heads[i] == heads[0];
	if (one) {
		m->route = heads[0]->id;
		filter_copy(rt, m);
	}
	free(heads);
}

/* A recipient with no route: it waits, the admin is told why. */
static void
no_route(struct runtime *rt, struct plume_msg *m, size_t i)
{
	struct rcpt *r = &m->rcpts[i];
	struct plume_reply reply;
	char *text = xasprintf("no route: no transport's match_rcpt or "
	    "match_from matches <%s> from <%s>, and none is the default",
	    r->addr, m->sender ? m->sender : "");

	memset(&reply, 0, sizeof(reply));
	reply.status = PLUME_TEMPFAIL;
	reply.code = 451;
	reply.enhanced = "4.3.5";
	reply.text = text;
	result_set(&r->result, &reply);
	log_rcpt_result(m, r, "(no route)", 0);
	runtime_event(rt, m, PLUME_EV_DEFERRED, r->addr, NULL, &reply, -1);
	free(text);
}

/*
 * One route's copy of m: the recipients idx[0..n) all take route head.
 * Its filters, then policies give verdicts, then the transport and its
 * failover chain deliver to the recipients the policies let through.
 */
static void
deliver_copy(struct runtime *rt, struct plume_msg *m, struct plume_inst *head,
    size_t *idx, size_t n, struct held_event **held, size_t *nheld)
{
	struct plume_inst *tr = head;
	struct plume_reply reply;
	long ms;
	size_t *pass;
	size_t npass = 0;

	m->route = head->id;
	m->active = idx;
	m->nactive = n;
	filter_copy(rt, m);

	/* policies: a verdict per recipient still to deliver (one a
	   filter failed is not counted against a rate limit) */
	pass = xcalloc(n ? n : 1, sizeof(*pass));
	for (size_t k = 0; k < n; k++)
		if (!m->rcpts[idx[k]].result.set)
			pass[npass++] = idx[k];
	result_clear(&m->refused);
	for (size_t i = 0; i < rt->ninsts && npass > 0; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_policy_ops *ops = in->plugin->desc.policy;

		if (!(in->plugin->desc.kinds & PLUME_KIND_POLICY) ||
		    ops == NULL || ops->check == NULL || !in->in_pipeline ||
		    !runtime_acts_on(in, m->route))
			continue;
		m->active = pass;
		m->nactive = npass;
		ops->check(in->state, m);
	}
	m->active = NULL;
	m->nactive = 0;
	npass = 0;
	for (size_t k = 0; k < n; k++) {
		struct rcpt *r = &m->rcpts[idx[k]];

		/* a policy refused the whole message: every recipient */
		if (m->refused.set && !r->result.set) {
			struct plume_reply v;

			result_to_reply(&m->refused, &v);
			result_clear(&r->verdict);
			result_set(&r->verdict, &v);
		}
		if (r->verdict.set && r->verdict.status != PLUME_OK &&
		    !r->result.set) {
			struct plume_reply v;

			result_to_reply(&r->verdict, &v);
			result_set(&r->result, &v);
			if (v.status == PLUME_TEMPFAIL)
				runtime_event(rt, m, PLUME_EV_THROTTLED,
				    r->addr, NULL, &v, -1);
		}
		if (!r->result.set)
			pass[npass++] = idx[k];
	}

	/* recipients a filter or a policy decided: logged once, here */
	for (size_t k = 0; k < n; k++) {
		struct rcpt *r = &m->rcpts[idx[k]];
		struct plume_reply out;

		if (!r->result.set)
			continue;
		log_rcpt_result(m, r, "(before transport)", 0);
		result_to_reply(&r->result, &out);
		if (r->result.status == PLUME_PERMFAIL)
			hold_event(held, nheld, m, idx[k], NULL, -1);
		else if (!(r->verdict.set &&
		    r->verdict.status == PLUME_TEMPFAIL))
			runtime_event(rt, m, event_of(r->result.status),
			    r->addr, NULL, &out, -1);
	}

	/* the route's transport, then its failover chain for what failed
	   temporarily, while submit_timeout allows */
	while (tr != NULL && npass > 0) {
		int64_t t0 = monotonic_ms();
		size_t nretry = 0;

		if (m->deadline_ms != 0 && t0 >= m->deadline_ms)
			break;
		msg_clear_notes(m);
		m->active = pass;
		m->nactive = npass;
		runtime_event(rt, m, PLUME_EV_ATTEMPT, NULL, tr->id, NULL, -1);
		transport_deliver(tr, m);
		memset(&reply, 0, sizeof(reply));
		reply.status = PLUME_TEMPFAIL;
		reply.code = 451;
		reply.enhanced = "4.3.0";
		reply.text = "the transport reported no result for this "
		    "recipient";
		fail_active(m, &reply);
		m->active = NULL;
		m->nactive = 0;
		ms = (long)(monotonic_ms() - t0);
		for (size_t k = 0; k < npass; k++) {
			struct rcpt *r = &m->rcpts[pass[k]];
			struct plume_reply out;

			log_rcpt_result(m, r, tr->id, ms);
			result_to_reply(&r->result, &out);
			if (r->result.status == PLUME_PERMFAIL)
				hold_event(held, nheld, m, pass[k], tr->id,
				    ms);
			else
				runtime_event(rt, m, event_of(
				    r->result.status), r->addr, tr->id, &out,
				    ms);
			if (r->result.status == PLUME_TEMPFAIL &&
			    tr->failover != NULL)
				pass[nretry++] = pass[k];
			if (m->from_queue && tr->paused_until == 0 &&
			    rate_limited(&r->result))
				transport_pause(rt, tr, &r->result);
		}
		if (nretry > 0 && (m->deadline_ms == 0 ||
		    monotonic_ms() < m->deadline_ms)) {
			for (size_t k = 0; k < nretry; k++)
				result_clear(&m->rcpts[pass[k]].result);
			log_info("trying failover %s for %zu recipient%s",
			    tr->failover->id, nretry, nretry == 1 ? "" : "s");
		} else
			nretry = 0;
		npass = nretry;
		tr = tr->failover;
	}
	free(pass);
	msg_clear_notes(m);
}

/*
 * Delivery of m: each recipient's route (runtime_route()), then one copy
 * per route, in pipeline order.  Filters run on each copy from the
 * header as it came; what is queued afterwards for the recipients still
 * pending is the copy of their route when they all take one (filtered,
 * signed), and otherwise the header as it came, unfiltered, so each
 * route's copy is made afresh at the next attempt.
 */
void
runtime_deliver(struct runtime *rt, struct plume_msg *m,
    struct delivery_summary *sum)
{
	struct plume_inst **heads;
	struct plume_reply reply;
	struct held_event *held = NULL;
	struct header_set *orig = NULL, *keep = NULL;
	struct result refused;
	size_t *idx, nheld = 0, ncopies = 0, npending = 0;
	bool was_filtered = m->filtered, keep_filtered = false, split = false;

	memset(sum, 0, sizeof(*sum));
	memset(&refused, 0, sizeof(refused));
	sum->all_perm_are_5_1 = true;
	if (rt->submit_timeout > 0 && !m->from_queue)
		m->deadline_ms = monotonic_ms() + rt->submit_timeout * 1000;
	accepted_event(rt, m);
	heads = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof(*heads));
	idx = xcalloc(m->nrcpt ? m->nrcpt : 1, sizeof(*idx));
	route_all(rt, m, heads);
	for (size_t i = 0; i < m->nrcpt; i++) {
		if (heads[i] != heads[0])
			split = true;
		if (heads[i] == NULL && !m->rcpts[i].result.set) {
			no_route(rt, m, i);
			npending = 1;	/* a copy of its own, later */
		}
	}
	if (split && !was_filtered)
		orig = msg_headers_save(m);

	for (size_t g = 0; g < rt->nroutes; g++) {
		size_t n = 0;
		bool pending = false;

		for (size_t i = 0; i < m->nrcpt; i++)
			if (heads[i] == rt->routes[g] &&
			    !m->rcpts[i].result.set)
				idx[n++] = i;
		if (n == 0)
			continue;
		if (ncopies++ > 0 && orig != NULL) {
			/* the next route's copy starts from the header as
			   it came */
			msg_headers_restore(m, orig);
			orig = msg_headers_save(m);
			m->filtered = false;
		}
		deliver_copy(rt, m, rt->routes[g], idx, n, &held, &nheld);
		if (m->refused.set && !refused.set) {
			result_to_reply(&m->refused, &reply);
			result_set(&refused, &reply);
		}
		for (size_t k = 0; k < n; k++)
			pending |= !m->rcpts[idx[k]].result.set ||
			    m->rcpts[idx[k]].result.status == PLUME_TEMPFAIL;
		if (pending && orig != NULL && npending++ == 0) {
			keep = msg_headers_save(m);
			keep_filtered = m->filtered;
		}
	}
	if (orig != NULL) {
		/* several copies: the one queued (see above); a recipient
		   with no route takes the header as it came */
		if (npending == 1 && keep != NULL) {
			msg_headers_restore(m, keep);
			m->filtered = keep_filtered;
			msg_headers_drop(orig);
		} else {
			msg_headers_drop(keep);
			msg_headers_restore(m, orig);
			m->filtered = false;
		}
	}
	result_clear(&m->refused);
	if (refused.set) {
		result_to_reply(&refused, &reply);
		result_set(&m->refused, &reply);
		result_clear(&refused);
	}
	free(idx);
	free(heads);

	for (size_t i = 0; i < m->nrcpt; i++) {
		struct rcpt *r = &m->rcpts[i];

		if (!r->result.set) {
			/* submit_timeout ran out before a failover */
			memset(&reply, 0, sizeof(reply));
			reply.status = PLUME_TEMPFAIL;
			reply.code = 451;
			reply.enhanced = "4.4.7";
			reply.text = "submit_timeout ran out";
			result_set(&r->result, &reply);
		}
		switch (r->result.status) {
		case PLUME_OK:
			sum->delivered++;
			break;
		case PLUME_TEMPFAIL:
			sum->tempfail++;
			break;
		default:
			sum->permfail++;
			if (r->result.enhanced == NULL ||
			    strncmp(r->result.enhanced, "5.1.", 4) != 0)
				sum->all_perm_are_5_1 = false;
			break;
		}
		if (r->result.status != PLUME_OK && sum->first_error == NULL)
			sum->first_error = xasprintf("<%s>: %d%s%s %s",
			    r->addr, r->result.code,
			    r->result.enhanced ? " " : "",
			    r->result.enhanced ? r->result.enhanced : "",
			    r->result.text ? r->result.text : "");
	}
	/* the sender gets a DSN for what was refused: in a queue run
	   always; at submission when not every recipient was refused (the
	   exit code cannot speak for some), or with -oem.  Never to <>. */
	release_events(rt, m, held, nheld, m->sender != NULL &&
	    m->sender[0] != '\0' && (m->from_queue || m->dsn_refused ||
	    sum->permfail < m->nrcpt) ? PLUME_EV_BOUNCED : PLUME_EV_FAILED);
}
