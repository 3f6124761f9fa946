/*
 * NAME
 *	host.c - the services plume hands every plugin (struct plume_host)
 * DESCRIPTION
 *	Thin adapters from the public ABI to the core: a plugin never sees
 *	plume's own structures.  Strings returned to a plugin stay valid
 *	until its instance is shut down (config values) or until the
 *	message is done (envelope, header fields).  Config values are
 *	already validated, so conversions here cannot fail; a key the
 *	plugin did not declare reads as absent and is logged, since that
 *	is a bug in the plugin.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "intake.h"
#include "secure.h"
#include "loader.h"
#include "log.h"
#include "message.h"
#include "runtime.h"
#include "util.h"

static void
h_vlog(struct plume_inst *in, enum plume_log_level level, const char *fmt,
    va_list ap)
{
	vlogx((int)level, in != NULL ? in->id : NULL, fmt, ap);
}

static void PLUME_PRINTF(3, 4)
h_log(struct plume_inst *in, enum plume_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	h_vlog(in, level, fmt, ap);
	va_end(ap);
}

static const char *
h_instance_id(struct plume_inst *in)
{
	return in->id;
}

static const char *
h_instance_name(struct plume_inst *in)
{
	return in->name;
}

static const struct plume_conf_key *
key_of(struct plume_inst *in, const char *key)
{
	const struct plume_conf_key *k =
	    conf_key_find(in->plugin->desc.conf_keys, key);

	if (k == NULL)
		h_log(in, PLUME_LOG_ERR, "plugin bug: asks for key '%s' it "
		    "does not declare", key);
	return k;
}

/* The raw value (NULL if absent and no default) and where it was set. */
static const char *
raw_value(struct plume_inst *in, const struct plume_conf_key *k,
    const char **file_r)
{
	const struct conf_entry *e = in->sect != NULL ?
	    conf_entry_find(in->sect->entries, k->name) : NULL;

	*file_r = e != NULL ? e->file : NULL;
	return e != NULL ? e->value : k->def;
}

static const char *
cache_put(struct plume_inst *in, const char *key, char *value)
{
	for (size_t i = 0; i < in->ncache; i++)
		if (strcmp(in->cache[i].key, key) == 0) {
			free(value);
			return in->cache[i].value;
		}
	in->cache = xreallocarray(in->cache, in->ncache + 1,
	    sizeof(*in->cache));
	in->cache[in->ncache].key = xstrdup(key);
	in->cache[in->ncache].value = value;
	return in->cache[in->ncache++].value;
}

static const char *
h_conf_string(struct plume_inst *in, const char *key)
{
	const struct plume_conf_key *k = key_of(in, key);
	const char *v, *file;

	if (k == NULL || (v = raw_value(in, k, &file)) == NULL)
		return NULL;
	if (k->type == PLUME_CONF_PATH && file != NULL)
		return cache_put(in, key, conf_resolve_path(v, file));
	return v;
}

static long long
h_conf_number(struct plume_inst *in, const char *key, long long fallback)
{
	const struct plume_conf_key *k = key_of(in, key);
	const char *v, *file;
	long long n;
	bool b;
	int rc = -1;

	if (k == NULL || (v = raw_value(in, k, &file)) == NULL)
		return fallback;
	switch (k->type) {
	case PLUME_CONF_BOOL:
		if ((rc = conf_parse_bool(v, &b)) == 0)
			n = b;
		break;
	case PLUME_CONF_SIZE:
		rc = conf_parse_size(v, &n);
		break;
	case PLUME_CONF_DURATION:
		rc = conf_parse_duration(v, &n);
		break;
	default:
		rc = conf_parse_int(v, &n);
		break;
	}
	return rc == 0 ? n : fallback;
}

static const char *const *
h_conf_list(struct plume_inst *in, const char *key)
{
	const struct plume_conf_key *k = key_of(in, key);
	const char *v, *file, *err;
	char **vec = NULL;

	/* the core's own key of filters and policies (ABI 1.7) */
	if (k == NULL && strcmp(key, "routes") == 0)
		return (const char *const *)in->routes;
	if (k == NULL || (v = raw_value(in, k, &file)) == NULL)
		return NULL;
	for (size_t i = 0; i < in->nlists; i++)
		if (strcmp(in->lists[i].key, key) == 0)
			return (const char *const *)in->lists[i].v;
	if (k->type == PLUME_CONF_COMMAND) {
		if (conf_split_command(v, &vec, &err) == -1)
			return NULL;
	} else
		vec = conf_split_list(v);
	in->lists = xreallocarray(in->lists, in->nlists + 1,
	    sizeof(*in->lists));
	in->lists[in->nlists].key = xstrdup(key);
	in->lists[in->nlists].v = vec;
	in->nlists++;
	return (const char *const *)vec;
}

static const char *
h_conf_global(struct plume_inst *in, const char *key)
{
	struct runtime *rt = in->rt;
	const struct conf_entry *e;

	if (strcmp(key, "hostname") == 0)
		return rt->hostname;
	if (strcmp(key, "domain") == 0)
		return rt->domain;
	if (strcmp(key, "queue_dir") == 0)
		return rt->queue_dir;
	if (strcmp(key, "config_file") == 0)
		return rt->conf_path;
	e = rt->conf != NULL ? conf_entry_find(rt->conf->globals, key) : NULL;
	return e != NULL ? e->value : NULL;
}

static const char *
h_msg_sender(struct plume_msg *m)
{
	return m->sender != NULL ? m->sender : "";
}

static size_t
h_msg_rcpt_count(struct plume_msg *m)
{
	return msg_active_count(m);
}

static const char *
h_msg_rcpt(struct plume_msg *m, size_t i)
{
	struct rcpt *r = msg_active_rcpt(m, i);

	return r != NULL ? r->addr : NULL;
}

static const char *
h_msg_param(struct plume_msg *m, const char *name)
{
	static char uidbuf[32];

	if (strcmp(name, PLUME_PARAM_QUEUE_ID) == 0)
		return m->qid;
	if (strcmp(name, PLUME_PARAM_MESSAGE_ID) == 0)
		return m->message_id;
	if (strcmp(name, PLUME_PARAM_BODY) == 0)
		return m->eightbit ? "8BITMIME" : "7BIT";
	if (strcmp(name, PLUME_PARAM_SMTPUTF8) == 0)
		return m->smtputf8 ? "yes" : "no";
	if (strcmp(name, PLUME_PARAM_ENVID) == 0)
		return m->envid;
	if (strcmp(name, PLUME_PARAM_RET) == 0)
		return m->ret;
	if (strcmp(name, PLUME_PARAM_ROUTE) == 0)
		return m->route;
	if (strcmp(name, PLUME_PARAM_USER) == 0)
		return m->user;
	if (strcmp(name, PLUME_PARAM_UID) == 0) {
		snprintf(uidbuf, sizeof(uidbuf), "%lu", (unsigned long)m->uid);
		return uidbuf;
	}
	return NULL;
}

static const char *
h_rcpt_param(struct plume_msg *m, size_t i, const char *name)
{
	struct rcpt *r = msg_active_rcpt(m, i);

	if (r == NULL)
		return NULL;
	if (strcmp(name, PLUME_PARAM_NOTIFY) == 0)
		return r->notify;
	if (strcmp(name, PLUME_PARAM_ORCPT) == 0)
		return r->orcpt;
	return NULL;
}

static off_t
h_msg_size(struct plume_msg *m)
{
	return msg_size(m);
}

static size_t
h_header_count(struct plume_msg *m)
{
	return m->nhdr;
}

static const char *
h_header_get(struct plume_msg *m, size_t i, size_t *name_len_r)
{
	if (i >= m->nhdr)
		return NULL;
	if (name_len_r != NULL)
		*name_len_r = m->hdrs[i].name_len;
	return m->hdrs[i].raw;
}

static long
h_header_find(struct plume_msg *m, const char *name, size_t n)
{
	return msg_header_find(m, name, n);
}

static int
h_header_add(struct plume_msg *m, enum plume_header_where where,
    const char *name, const char *value, const char **error_r)
{
	const char *dummy;

	return msg_header_add(m, where, name, value,
	    error_r != NULL ? error_r : &dummy);
}

static int
h_header_remove(struct plume_msg *m, size_t i)
{
	return msg_header_remove(m, i);
}

static void
set_reply(struct plume_msg *m, size_t i, const struct plume_reply *reply,
    bool verdict)
{
	if (i == PLUME_RCPT_ALL) {
		for (size_t k = 0; k < msg_active_count(m); k++) {
			struct rcpt *r = msg_active_rcpt(m, k);
			struct result *res = verdict ? &r->verdict : &r->result;

			if (!res->set)
				result_set(res, reply);
		}
		return;
	}
	if (msg_active_rcpt(m, i) != NULL)
		result_set(verdict ? &msg_active_rcpt(m, i)->verdict :
		    &msg_active_rcpt(m, i)->result, reply);
}

static void
h_set_result(struct plume_msg *m, size_t i, const struct plume_reply *r)
{
	set_reply(m, i, r, false);
}

static void
h_set_verdict(struct plume_msg *m, size_t i, const struct plume_reply *r)
{
	set_reply(m, i, r, true);
}

/* ABI 1.6: this process kept work for the observer's flush() */
static void
h_flush_wanted(struct plume_inst *in)
{
	in->flush_wanted = true;
}

static void
h_msg_refuse(struct plume_msg *m, const struct plume_reply *r)
{
	struct plume_reply t = *r;

	/* a refusal is temporary by definition: the caller may try again */
	t.status = PLUME_TEMPFAIL;
	if (t.code < 400 || t.code > 499)
		t.code = 451;
	if (!m->refused.set)
		result_set(&m->refused, &t);
}

static void
h_note(struct plume_msg *m, const char *key, const char *value)
{
	msg_note(m, key, value);
}

static const char *
h_state_dir(struct plume_inst *in)
{
	char err[512], *top;

	if (in->state_dir != NULL)
		return in->state_dir;
	top = xasprintf("%s/state", in->rt->queue_dir);
	in->state_dir = xasprintf("%s/%s", top, in->plugin->name);
	if (runtime_ensure_dir(top, spool_dir_mode(), err, sizeof(err)) == -1 ||
	    runtime_ensure_dir(in->state_dir, spool_dir_mode(), err,
	    sizeof(err)) == -1) {
		h_log(in, PLUME_LOG_ERR, "%s", err);
		free(in->state_dir);
		in->state_dir = NULL;
	}
	free(top);
	return in->state_dir;
}

static time_t
h_now(void)
{
	return time(NULL);
}

static const char *
h_probe_param(struct plume_probe *p, const char *name)
{
	for (size_t i = 0; p != NULL && p->params != NULL &&
	    p->params[i] != NULL; i += 2)
		if (strcmp(p->params[i], name) == 0)
			return p->params[i + 1];
	return NULL;
}

static void PLUME_PRINTF(5, 6)
h_probe_report(struct plume_probe *p, enum plume_check st, const char *check,
    const char *remedy, const char *fmt, ...)
{
	char *text;
	va_list ap;

	if (p == NULL || p->report == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	/* one line per check, whatever a plugin or a server put in it */
	for (char *c = text; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	p->report(p->ctx, p->inst, st, check != NULL ? check : "?", remedy,
	    text != NULL ? text : "(out of memory)");
	free(text);
}

static void
h_probe_fact(struct plume_probe *p, const char *name, const char *value)
{
	if (p != NULL && p->fact != NULL && name != NULL && value != NULL)
		p->fact(p->ctx, name, value);
}

static int64_t
h_msg_deadline_ms(struct plume_msg *m)
{
	return m->deadline_ms;
}

static struct plume_msg *
h_msg_read(struct plume_inst *in, int fd, int dot_ends, const char **error_r)
{
	static char err[512];
	struct plume_msg *m = xcalloc(1, sizeof(*m));
	const char *tmp = getenv("TMPDIR");
	struct intake_opts io;

	/* a command run by any user: its own temporary directory, never
	   the spool, and never a name anyone could see */
	if (running_setid() || tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	memset(&io, 0, sizeof(io));
	io.ignore_dots = !dot_ends;
	io.tmp_dir = tmp;
	io.anonymous = true;
	msg_init(m);
	if (intake_read(fd, &io, m, err, sizeof(err)) != INTAKE_OK) {
		*error_r = err;
		msg_free(m);
		free(m);
		return NULL;
	}
	m->sender = xstrdup("");
	return m;
}

static void
h_msg_free(struct plume_msg *m)
{
	if (m == NULL)
		return;
	msg_free(m);
	free(m);
}

const struct plume_host host_services = {
	.struct_size = sizeof(struct plume_host),
	.abi_version = PLUME_ABI_VERSION,
	.version = PACKAGE_VERSION,
	.log = h_log,
	.vlog = h_vlog,
	.instance_id = h_instance_id,
	.instance_name = h_instance_name,
	.conf_string = h_conf_string,
	.conf_number = h_conf_number,
	.conf_list = h_conf_list,
	.conf_global = h_conf_global,
	.msg_sender = h_msg_sender,
	.msg_rcpt_count = h_msg_rcpt_count,
	.msg_rcpt = h_msg_rcpt,
	.msg_param = h_msg_param,
	.rcpt_param = h_rcpt_param,
	.msg_size = h_msg_size,
	.header_count = h_header_count,
	.header_get = h_header_get,
	.header_find = h_header_find,
	.header_add = h_header_add,
	.header_remove = h_header_remove,
	.stream_open = msg_stream_open,
	.stream_read = msg_stream_read,
	.stream_rewind = msg_stream_rewind,
	.stream_close = msg_stream_close,
	.set_result = h_set_result,
	.set_verdict = h_set_verdict,
	.note = h_note,
	.state_dir = h_state_dir,
	.now = h_now,
	.monotonic_ms = monotonic_ms,
	.wipe = secure_wipe,
	.probe_param = h_probe_param,
	.probe_report = h_probe_report,
	.msg_deadline_ms = h_msg_deadline_ms,
	.msg_read = h_msg_read,
	.msg_free = h_msg_free,
	.inst_next = runtime_inst_next,
	.msg_refuse = h_msg_refuse,
	.flush_wanted = h_flush_wanted,
	.probe_fact = h_probe_fact,
};
