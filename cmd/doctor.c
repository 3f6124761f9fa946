/*
 * NAME
 *	doctor.c - "plume doctor": why does mail not go out?
 * SYNOPSIS
 *	plume doctor [-C conf] [--from ADDR] [--to ADDR] [--send] [--json]
 *	    [--strict] [--probe-ports LIST]
 * DESCRIPTION
 *	Runs every check an admin would run by hand and prints one line per
 *	check, a mark, the check's name and what was found; every warning
 *	and failure gets a second line, "fix:", saying what to change.
 *
 *	Local checks come first: the config parses (file:line for each
 *	error), the plugins load, files holding secrets (passwords, API
 *	keys, DKIM keys) and the spool are not open to others, the queue is
 *	healthy (deferred messages, the oldest, the last errors, failed/ and
 *	hold/, users at queue_max_per_user), the pipeline reaches a
 *	transport, and each policy with a probe (ABI 1.9: the ratelimit
 *	plugin's keys at their limit) reports its state.  Then every transport
 *	instance runs its plugin's probe() (struct plume_transport_ops), so
 *	an out-of-tree transport is diagnosed the same way; the options
 *	reach it through host->probe_param() ("from", "to", "send",
 *	"probe_ports") and each of its checks comes back through
 *	host->probe_report().
 *
 *	Then the sender domain (ABI 1.8): every started instance whose
 *	plugin has a plume_plugin.probe (dkim: the published keys), and
 *	the domain plugin, loaded on demand (plugins/domain: MX, SPF,
 *	DMARC, PTR, EHLO name, through c-ares, which plume itself must not
 *	link).  Facts flow from earlier probes to later ones through
 *	host->probe_fact(): the relays, the EHLO name, the DKIM domains
 *	whose key is published.  Their warnings are failures with --strict.
 *
 *	Marks: a check mark, "!", a cross, and a middle dot for facts, when
 *	the locale's character set is UTF-8; "OK", "WARN", "FAIL" and "INFO"
 *	otherwise (cron, C locale), whether or not standard output is a
 *	terminal, so what a script greps for does not depend on a pipe.
 *	--json prints one array of {"check", "instance", "status", "text",
 *	"remedy"} instead, status one of ok, warn, fail, info.
 * DIAGNOSTICS
 *	Exit 0 when no check failed (with --strict: and no sender-domain
 *	check warned), 1 when one did, 64 for a usage error
 *	(77 for -C refused, as everywhere).
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <pwd.h>
#include <stdarg.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "doctor.h"
#include "jsonl.h"
#include "loader.h"
#include "message.h"
#include "queue.h"
#include "runtime.h"
#include "util.h"

struct finding {
	char	*instance;		/* NULL: a local check */
	char	*check;
	enum plume_check st;
	char	*text;
	char	*remedy;
};

struct doctor {
	bool	 json;
	bool	 utf8;
	struct finding *v;
	size_t	 n;
	size_t	 nfail;
	size_t	 nfail_inst;		/* failures reported by one probe */
	bool	 domain_phase;		/* sender-domain checks running */
	size_t	 nstrict;		/* their warnings: failures with
					   --strict */
	char	**facts;		/* ABI 1.8 probe facts: name, value
					   (a comma-separated list) pairs */
	size_t	 nfacts;
};

static const char *
mark(const struct doctor *d, enum plume_check st)
{
	static const char *const utf8[] = { "\u2713", "!", "\u2717",
	    "\u00b7" };
	static const char *const ascii[] = { "OK  ", "WARN", "FAIL", "INFO" };

	if ((unsigned)st > PLUME_CHECK_INFO)
		st = PLUME_CHECK_INFO;
	return d->utf8 ? utf8[st] : ascii[st];
}

static void
add(struct doctor *d, const char *inst, enum plume_check st,
    const char *check, const char *remedy, const char *text)
{
	struct finding *f;

	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	f = &d->v[d->n++];
	f->instance = inst != NULL ? xstrdup(inst) : NULL;
	f->check = xstrdup(check);
	f->st = st;
	f->text = xstrdup(text);
	f->remedy = remedy != NULL && (st == PLUME_CHECK_WARN ||
	    st == PLUME_CHECK_FAIL) ? xstrdup(remedy) : NULL;
	if (st == PLUME_CHECK_FAIL) {
		d->nfail++;
		d->nfail_inst++;
	}
	if (st == PLUME_CHECK_WARN && d->domain_phase)
		d->nstrict++;
	if (d->json)
		return;
	/* one line per check, the remedy below it; stdout flushed so a
	   slow probe shows what is done so far */
	printf("%s  %s%s%s: %s\n", mark(d, st), inst ? inst : "",
	    inst ? " " : "", check, text);
	if (f->remedy != NULL)
		printf("%*sfix: %s\n", d->utf8 ? 3 : 6, "", f->remedy);
	fflush(stdout);
}

static void PRINTF_LIKE(5, 6)
addf(struct doctor *d, enum plume_check st, const char *check,
    const char *remedy, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	add(d, NULL, st, check, remedy, text);
}

/* host->probe_report() lands here (core/host.c). */
static void
probe_report(void *ctx, struct plume_inst *in, enum plume_check st,
    const char *check, const char *remedy, const char *text)
{
	add(ctx, in->id, st, check, remedy, text);
}

static void
print_json(const struct doctor *d)
{
	static const char *const names[] = { "ok", "warn", "fail", "info" };

	printf("[");
	for (size_t i = 0; i < d->n; i++) {
		const struct finding *f = &d->v[i];

		printf("%s\n {\"check\": ", i ? "," : "");
		jsonl_put_string(stdout, f->check);
		printf(", \"instance\": ");
		if (f->instance != NULL)
			jsonl_put_string(stdout, f->instance);
		else
			printf("null");
		printf(", \"status\": \"%s\", \"text\": ",
		    names[f->st <= PLUME_CHECK_INFO ? f->st : 3]);
		jsonl_put_string(stdout, f->text);
		printf(", \"remedy\": ");
		if (f->remedy != NULL)
			jsonl_put_string(stdout, f->remedy);
		else
			printf("null");
		printf("}");
	}
	printf("\n]\n");
}

static void
human_age(long long s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", s / 60);
	else if (s < 2 * 86400 && s % 3600 / 60 != 0)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", s / 3600);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* ---- local checks -------------------------------------------------- */

static void
check_config(struct doctor *d, struct runtime *rt, int rc, bool explicit_cfg)
{
	if (rt->embedded)
		addf(d, PLUME_CHECK_WARN, "config", "create "
		    SYSCONFDIR "/plume/plume.conf (start from "
		    "plume.conf.sample) naming a transport",
		    "no config file (%s): mail is captured in the local "
		    "outbox, not sent", SYSCONFDIR "/plume/plume.conf");
	else
		addf(d, PLUME_CHECK_INFO, "config", NULL, "%s %s",
		    explicit_cfg ? "reading" : rt->user_mode ?
		    "reading the user config" : "reading", rt->conf_path);
	for (size_t i = 0; i < rt->diags.n; i++) {
		const struct diag *g = &rt->diags.v[i];
		char *line = diag_format(g), *remedy;
		const char *ch = strstr(g->text, "chmod ");

		if (ch != NULL)
			remedy = xasprintf("%s %s", ch, g->file ? g->file : "");
		else if (g->file != NULL && g->line > 0)
			remedy = xasprintf("edit %s line %u as it says (plume "
			    "config check lists every problem)", g->file,
			    g->line);
		else
			remedy = xstrdup("correct it (plume config check lists "
			    "every problem)");
		add(d, NULL, g->level == DIAG_ERROR ? PLUME_CHECK_FAIL :
		    PLUME_CHECK_WARN, "config", remedy, line);
		free(line);
		free(remedy);
	}
	if (rc == 0 && rt->diags.nerrors == 0 && !rt->embedded)
		addf(d, PLUME_CHECK_OK, "config", NULL, "parses without "
		    "errors%s", rt->diags.nwarnings ? " (warnings above)" : "");
}

/* Whether key names a file holding a secret (a password, an API key, a
   DKIM or TLS private key, AWS credentials). */
static bool
secret_key(const struct plume_conf_key *k, const char *plugin)
{
	if (k->type == PLUME_CONF_LIST)
		return strcmp(plugin, "dkim") == 0 && strcmp(k->name, "key") == 0;
	if (k->type != PLUME_CONF_PATH)
		return false;
	return strstr(k->name, "password") || strstr(k->name, "secret") ||
	    strstr(k->name, "key_file") || strstr(k->name, "token") ||
	    strstr(k->name, "credentials");
}

static void
check_secret_file(struct doctor *d, const struct plume_inst *in,
    const char *key, const char *path, size_t *nok)
{
	struct stat st;
	char *what = xasprintf("%s (%s of [%s])", path, key, in->id);

	if (stat(path, &st) == -1) {
		addf(d, PLUME_CHECK_FAIL, "secrets", "create it, or correct "
		    "the key", "%s: %s", what, strerror(errno));
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		char *r = xasprintf("chmod go-w %s", path);

		addf(d, PLUME_CHECK_WARN, "secrets", r, "%s is writable by "
		    "%s (mode %04o)", what, st.st_mode & S_IWOTH ? "others" :
		    "its group", (unsigned)(st.st_mode & 07777));
		free(r);
	} else if (st.st_mode & S_IROTH) {
		char *r = xasprintf("chmod o-r %s (0600, or 0640 with plume's "
		    "group)", path);

		addf(d, PLUME_CHECK_WARN, "secrets", r, "%s is readable by "
		    "others (mode %04o)", what, (unsigned)(st.st_mode & 07777));
		free(r);
	} else if (access(path, R_OK) == -1) {
		addf(d, PLUME_CHECK_WARN, "secrets", "run plume doctor as the "
		    "user plume delivers as (root for the system queue)",
		    "%s: not readable by uid %lu: %s", what,
		    (unsigned long)getuid(), strerror(errno));
	} else
		(*nok)++;
	free(what);
}

static void
check_secrets(struct doctor *d, struct runtime *rt)
{
	size_t nok = 0, nfiles = 0;

	for (size_t i = 0; i < rt->ninsts; i++) {
		const struct plume_inst *in = rt->insts[i];

		for (const struct plume_conf_key *k =
		    in->plugin->desc.conf_keys; k && k->name; k++) {
			const struct conf_entry *e;

			if (!secret_key(k, in->plugin->name) ||
			    in->sect == NULL || (e = conf_entry_find(
			    in->sect->entries, k->name)) == NULL)
				continue;
			if (k->type == PLUME_CONF_LIST) {
				char **v = conf_split_list(e->value);

				for (size_t j = 0; v && v[j]; j++) {
					char *p = conf_resolve_path(v[j],
					    e->file);

					nfiles++;
					check_secret_file(d, in, k->name, p,
					    &nok);
					free(p);
				}
				strv_free(v);
			} else {
				char *p = conf_resolve_path(e->value, e->file);

				nfiles++;
				check_secret_file(d, in, k->name, p, &nok);
				free(p);
			}
		}
	}
	if (nfiles == 0)
		addf(d, PLUME_CHECK_INFO, "secrets", NULL, "no file holding a "
		    "secret is configured");
	else if (nok == nfiles)
		addf(d, PLUME_CHECK_OK, "secrets", NULL, "%zu file%s holding "
		    "secrets: present, readable, closed to others", nfiles,
		    nfiles == 1 ? "" : "s");
}

static size_t
count_items(const char *queue_dir, const char *sub)
{
	char **ids;
	size_t n = 0;

	if (queue_list(queue_dir, sub, &ids) < 0)
		return 0;
	for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
		n++;
		free(ids[i]);
	}
	free(ids);
	return n;
}

struct lasterr {
	char	*text;			/* the words, as error_words() */
	char	*full;			/* the first, with its recipient */
	size_t	 n;
	time_t	 newest;
};

/* A last error without its leading "<recipient>: ", so that one
   relay's words for many recipients count as one cause. */
static const char *
error_words(const char *e)
{
	const char *gt;

	if (e[0] == '<' && (gt = strchr(e, '>')) != NULL && gt[1] == ':' &&
	    gt[2] == ' ' && gt[3] != '\0')
		return gt + 3;
	return e;
}

struct uidcount {
	uid_t	 uid;
	size_t	 n;
};

/* queue_max_per_user: a user at the cap has new mail refused (exit 75,
   cmd/plume.c over_user_cap()); root is never capped. */
static void
check_user_cap(struct doctor *d, const struct runtime *rt,
    const struct uidcount *u, size_t nu)
{
	for (size_t i = 0; rt->max_per_user > 0 && i < nu; i++) {
		struct passwd *pw;
		char who[96];
		size_t cap = (size_t)rt->max_per_user;

		if (u[i].uid == 0 || u[i].n * 5 < cap * 4)
			continue;
		pw = getpwuid(u[i].uid);
		snprintf(who, sizeof(who), "uid %lu%s%s%s",
		    (unsigned long)u[i].uid, pw ? " (" : "",
		    pw ? pw->pw_name : "", pw ? ")" : "");
		if (u[i].n >= cap)
			addf(d, PLUME_CHECK_FAIL, "queue", "fix what the last "
			    "errors say, then plume queue flush; raise "
			    "queue_max_per_user only if this user really sends "
			    "that much", "%s has %zu messages waiting, "
			    "queue_max_per_user (%lld) is reached: its new mail "
			    "is refused (exit 75)", who, u[i].n,
			    rt->max_per_user);
		else
			addf(d, PLUME_CHECK_WARN, "queue", "fix what the last "
			    "errors say, then plume queue flush", "%s has %zu "
			    "messages waiting, near queue_max_per_user (%lld): "
			    "then its new mail is refused", who, u[i].n,
			    rt->max_per_user);
	}
}

static void
check_queue(struct doctor *d, struct runtime *rt)
{
	struct stat st;
	char **ids = NULL, age[32], limit[32];
	size_t n = 0, nerr = 0, unread = 0, overdue = 0;
	struct lasterr *errs = NULL;
	struct uidcount *uids = NULL;
	size_t nuid = 0;
	time_t now = time(NULL), oldest = 0;

	if (stat(rt->queue_dir, &st) == -1) {
		addf(d, PLUME_CHECK_INFO, "queue", NULL, "%s does not exist "
		    "yet (made when a message is first queued)", rt->queue_dir);
		return;
	}
	if (queue_list(rt->queue_dir, QUEUE_DEFERRED, &ids) < 0) {
		addf(d, PLUME_CHECK_WARN, "queue", "run plume doctor as root "
		    "(or the user that owns the queue)", "cannot read %s/%s",
		    rt->queue_dir, QUEUE_DEFERRED);
		ids = NULL;
	}
	for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
		struct queue_item it;
		struct plume_msg m;
		char err[512];
		size_t j;

		if (queue_peek(rt->queue_dir, QUEUE_DEFERRED, ids[i], &it, err,
		    sizeof(err)) != QUEUE_OK || queue_load(&it, &m, err,
		    sizeof(err)) != QUEUE_OK) {
			queue_close(&it);
			unread++;
			free(ids[i]);
			continue;
		}
		n++;
		if (oldest == 0 || m.arrival < oldest)
			oldest = m.arrival;
		for (j = 0; j < nuid && uids[j].uid != m.uid; j++)
			;
		if (j == nuid) {
			uids = xreallocarray(uids, nuid + 1, sizeof(*uids));
			uids[nuid].uid = m.uid;
			uids[nuid++].n = 0;
		}
		uids[j].n++;
		if (m.next_attempt != 0 && now - m.next_attempt >
		    rt->max_backoff)
			overdue++;
		if (m.last_error != NULL) {
			const char *e = error_words(m.last_error);

			for (j = 0; j < nerr; j++)
				if (strcmp(errs[j].text, e) == 0)
					break;
			if (j == nerr) {
				errs = xreallocarray(errs, nerr + 1,
				    sizeof(*errs));
				errs[nerr].text = xstrdup(e);
				errs[nerr].full = xstrdup(m.last_error);
				errs[nerr].n = 0;
				errs[nerr].newest = 0;
				nerr++;
			}
			errs[j].n++;
			if (m.arrival > errs[j].newest)
				errs[j].newest = m.arrival;
		}
		msg_free(&m);
		queue_close(&it);
		free(ids[i]);
	}
	free(ids);
	human_age(rt->max_backoff, limit, sizeof(limit));
	if (n == 0)
		addf(d, PLUME_CHECK_OK, "queue", NULL, "no deferred messages");
	else {
		human_age(now - oldest, age, sizeof(age));
		if (now - oldest > rt->max_backoff)
			addf(d, PLUME_CHECK_WARN, "queue", "fix what the last "
			    "errors and the transport checks below say, then "
			    "plume queue flush", "%zu deferred message%s, the "
			    "oldest waiting for %s (longer than "
			    "queue_max_backoff, %s)", n, n == 1 ? "" : "s",
			    age, limit);
		else
			addf(d, PLUME_CHECK_INFO, "queue", NULL, "%zu deferred "
			    "message%s, the oldest waiting for %s", n,
			    n == 1 ? "" : "s", age);
	}
	check_user_cap(d, rt, uids, nuid);
	free(uids);
	if (overdue > 0)
		addf(d, PLUME_CHECK_WARN, "queue", "schedule the queue runner: "
		    "systemctl enable --now plume-queue.timer, or the cron.d "
		    "job (plume queue run)", "%zu message%s due for more than "
		    "queue_max_backoff (%s): no queue runner seems to run",
		    overdue, overdue == 1 ? " is" : "s are", limit);
	/* the envelopes keep the last error, whose words name the relay;
	   newest first, the same words (whatever the recipient) counted
	   once */
	for (size_t k = 0; k < nerr && k < 3; k++) {
		size_t best = k;

		for (size_t j = k + 1; j < nerr; j++)
			if (errs[j].newest > errs[best].newest)
				best = j;
		if (best != k) {
			struct lasterr t = errs[k];

			errs[k] = errs[best];
			errs[best] = t;
		}
		addf(d, PLUME_CHECK_INFO, "queue", NULL, "last error (%zu "
		    "message%s): %s", errs[k].n, errs[k].n == 1 ? "" : "s",
		    errs[k].n == 1 ? errs[k].full : errs[k].text);
	}
	for (size_t j = 0; j < nerr; j++) {
		free(errs[j].text);
		free(errs[j].full);
	}
	free(errs);
	if (unread > 0)
		addf(d, PLUME_CHECK_WARN, "queue", "run plume doctor as root; "
		    "plume queue run moves damaged entries to corrupt/",
		    "%zu deferred entr%s could not be read", unread,
		    unread == 1 ? "y" : "ies");
	if ((n = count_items(rt->queue_dir, "failed")) > 0)
		addf(d, PLUME_CHECK_WARN, "queue", "read their last_error "
		    "(plume queue show does not reach failed/: see the .env "
		    "files), then remove them", "%zu message%s in %s/failed: "
		    "refused for good and the sender could not be told", n,
		    n == 1 ? "" : "s", rt->queue_dir);
	if ((n = count_items(rt->queue_dir, QUEUE_HOLD)) > 0)
		addf(d, PLUME_CHECK_WARN, "queue", "fix the config, then plume "
		    "queue release ID for each", "%zu message%s held in %s/%s "
		    "(a config error at submission, or plume queue hold)", n,
		    n == 1 ? "" : "s", rt->queue_dir, QUEUE_HOLD);
	if ((n = count_items(rt->queue_dir, QUEUE_CORRUPT)) > 0)
		addf(d, PLUME_CHECK_WARN, "queue", "inspect and remove them",
		    "%zu damaged entr%s in %s/%s", n, n == 1 ? "y" : "ies",
		    rt->queue_dir, QUEUE_CORRUPT);
}

static void
check_pipeline(struct doctor *d, struct runtime *rt)
{
	struct buf b;

	if (rt->nroutes == 0) {
		addf(d, PLUME_CHECK_FAIL, "pipeline", "add a transport "
		    "instance (smtp, http:NAME, outbox) to pipeline",
		    "no transport in pipeline: nothing can deliver mail");
		return;
	}
	buf_init(&b);
	for (size_t i = 0; i < rt->ninsts; i++)
		if (rt->insts[i]->in_pipeline)
			buf_printf(&b, "%s%s", b.len ? ", " : "",
			    rt->insts[i]->id);
	buf_adds(&b, "; mail leaves through ");
	runtime_describe_routes(rt, &b);
	if (rt->transport == NULL)
		addf(d, PLUME_CHECK_WARN, "pipeline", "give one transport "
		    "neither match_from nor match_rcpt, to be the default "
		    "route", "%s; mail that matches no route waits in the "
		    "queue", b.data);
	else if (rt->nroutes == 1 &&
	    strcmp(rt->transport->plugin->name, "outbox") == 0)
		addf(d, PLUME_CHECK_WARN, "pipeline", "put an smtp or http "
		    "transport in pipeline", "%s: the outbox keeps mail in "
		    "%s/outbox, it sends nothing", b.data, rt->queue_dir);
	else
		addf(d, PLUME_CHECK_OK, "pipeline", NULL, "%s", b.data);
	buf_free(&b);
}

/*
 * The policies' state (ABI 1.9 policy->probe(): the ratelimit plugin's
 * keys at their limit).  runtime_probe() knows transports only; a
 * policy's probe is for doctor alone, so it is called from here.
 */
static void
check_policies(struct doctor *d, struct runtime *rt,
    const char *const *params)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		const struct plume_policy_ops *o = in->plugin->desc.policy;
		struct plume_probe p = { .inst = in, .params = params,
		    .report = probe_report, .ctx = d };

		if (!in->started || o == NULL ||
		    !PLUME_OPS_HAS(o, struct plume_policy_ops, probe) ||
		    o->probe == NULL)
			continue;
		d->nfail_inst = 0;
		if (o->probe(in->state, &p) != PLUME_OK && d->nfail_inst == 0)
			add(d, in->id, PLUME_CHECK_FAIL, "probe", "see the "
			    "checks above", "this policy stops all mail");
	}
}

/* ---- transports ---------------------------------------------------- */

/* host->probe_fact() lands here: values of one name make a list. */
static void
probe_fact(void *ctx, const char *name, const char *value)
{
	struct doctor *d = ctx;
	size_t i, vl = strlen(value);
	char *joined;

	if (vl == 0)
		return;
	for (i = 0; i < d->nfacts; i += 2)
		if (strcmp(d->facts[i], name) == 0)
			break;
	if (i == d->nfacts) {
		d->facts = xreallocarray(d->facts, d->nfacts + 2,
		    sizeof(*d->facts));
		d->facts[d->nfacts++] = xstrdup(name);
		d->facts[d->nfacts++] = xstrdup(value);
		return;
	}
	for (const char *p = d->facts[i + 1]; (p = strstr(p, value)) != NULL;
	    p += vl)
		if ((p == d->facts[i + 1] || p[-1] == ',') &&
		    (p[vl] == ',' || p[vl] == '\0'))
			return;		/* known already */
	joined = xasprintf("%s,%s", d->facts[i + 1], value);
	free(d->facts[i + 1]);
	d->facts[i + 1] = joined;
}

static void
probe_all(struct doctor *d, struct runtime *rt, const char *const *params)
{
	for (size_t i = 0; i < rt->ninsts; i++) {
		struct plume_inst *in = rt->insts[i];
		struct plume_probe p = { .params = params,
		    .report = probe_report, .ctx = d, .fact = probe_fact };
		int rc;

		if (in->plugin->desc.transport == NULL)
			continue;
		d->nfail_inst = 0;
		rc = runtime_probe(rt, in, &p);
		if (rc == -1)
			add(d, in->id, PLUME_CHECK_INFO, "probe", NULL,
			    "the plugin offers no probe: nothing to check");
		else if (rc != PLUME_OK && d->nfail_inst == 0)
			add(d, in->id, PLUME_CHECK_FAIL, "probe", "see the "
			    "checks above", "the transport would not deliver");
	}
}

/*
 * ABI 1.8: the probes that are not a transport's, after every transport
 * has run its own (their facts known): each started instance whose
 * plugin has one (dkim's published keys), then the domain plugin,
 * loaded on demand so that plume itself links no DNS library.  Their
 * warnings are sender-domain findings: failures with --strict.
 */
static void
probe_domain(struct doctor *d, struct runtime *rt, const char *const *params)
{
	struct plugin *dp;
	char err[512];
	size_t n, ninsts = rt->ninsts;	/* the domain plugin's comes last */

	d->domain_phase = true;
	for (size_t i = 0; i <= ninsts; i++) {
		struct plume_inst *in;
		struct plume_probe p = { .report = probe_report, .ctx = d,
		    .fact = probe_fact };
		const char **pv;

		if (i < ninsts) {
			in = rt->insts[i];
			if (!in->started || in->plugin->desc.probe == NULL ||
			    strcmp(in->plugin->name, "domain") == 0)
				continue;
		} else if ((dp = loader_get("domain", err, sizeof(err))) ==
		    NULL || dp->desc.probe == NULL) {
			addf(d, PLUME_CHECK_INFO, "domain", NULL, "no "
			    "sender-domain checks: %s", dp == NULL ? err :
			    "the domain plugin is older than plume");
			break;
		} else
			in = runtime_inst_for(rt, dp);
		/* the options, then the facts known so far */
		for (n = 0; params[n] != NULL; n++)
			;
		pv = xreallocarray(NULL, n + d->nfacts + 1, sizeof(*pv));
		memcpy(pv, params, n * sizeof(*pv));
		if (d->nfacts > 0)	/* d->facts is NULL before any */
			memcpy(pv + n, d->facts, d->nfacts * sizeof(*pv));
		pv[n + d->nfacts] = NULL;
		p.params = pv;
		p.inst = in;
		in->plugin->desc.probe(&host_services, in, in->started ?
		    in->state : NULL, &p);
		free(pv);
	}
	d->domain_phase = false;
}

int
doctor_main(const char *cfg, bool explicit_cfg, int argc, char **argv)
{
	struct doctor d;
	struct runtime rt;
	const char *from = NULL, *to = NULL, *ports = NULL, *params[10];
	char *sender;
	bool send = false, strict = false;
	int rc, np = 0;

	memset(&d, 0, sizeof(d));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			d.json = true;
		else if (strcmp(a, "--send") == 0)
			send = true;
		else if (strcmp(a, "--strict") == 0)
			strict = true;
		else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0 ||
		    strcmp(a, "--probe-ports") == 0) && i + 1 < argc) {
			const char *v = argv[++i];

			if (v[0] == '-' || strpbrk(v, "\r\n<> ") != NULL) {
				fprintf(stderr, "plume: doctor: %s %s: not an "
				    "address or list\n", a, v);
				return EX_USAGE;
			}
			if (a[2] == 'f')
				from = v;
			else if (a[2] == 't')
				to = v;
			else
				ports = v;
		} else {
			fprintf(stderr, "plume: usage: plume doctor [-C conf] "
			    "[--from ADDR] [--to ADDR] [--send] [--json] "
			    "[--strict] [--probe-ports LIST]\n");
			return EX_USAGE;
		}
	}
	if (send && to == NULL) {
		fprintf(stderr, "plume: doctor: --send needs --to ADDR\n");
		return EX_USAGE;
	}
	setlocale(LC_CTYPE, "");
	d.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;

	rc = runtime_load(&rt, cfg, explicit_cfg);
	if (rc == 0)
		runtime_check_all(&rt);
	config_modes(&rt);
	check_config(&d, &rt, rc, explicit_cfg);
	if (rc == 0 && rt.diags.nerrors == 0) {
		size_t before = rt.diags.n;

		if (runtime_start(&rt) == -1) {
			for (size_t i = before; i < rt.diags.n; i++) {
				char *line = diag_format(&rt.diags.v[i]);

				addf(&d, PLUME_CHECK_FAIL, "plugins", "correct "
				    "the instance's section, or install the "
				    "plugin (plume plugins lists them)", "%s",
				    line);
				free(line);
			}
		} else {
			struct buf b;

			buf_init(&b);
			for (size_t i = 0; i < rt.ninsts; i++)
				buf_printf(&b, "%s%s", i ? ", " : "",
				    rt.insts[i]->id);
			addf(&d, PLUME_CHECK_OK, "plugins", NULL, "%zu "
			    "instance%s started: %s", rt.ninsts,
			    rt.ninsts == 1 ? "" : "s", b.data ? b.data : "");
			buf_free(&b);
		}
	}
	check_secrets(&d, &rt);
	check_queue(&d, &rt);
	if (rc == 0 && rt.diags.nerrors == 0)
		check_pipeline(&d, &rt);

	sender = runtime_default_sender(&rt);
	params[np++] = PLUME_PROBE_FROM;
	params[np++] = from != NULL ? from : sender;
	if (to != NULL) {
		params[np++] = PLUME_PROBE_TO;
		params[np++] = to;
	}
	if (send) {
		params[np++] = PLUME_PROBE_SEND;
		params[np++] = "yes";
	}
	if (ports != NULL) {
		params[np++] = PLUME_PROBE_PORTS;
		params[np++] = ports;
	}
	params[np] = NULL;
	if (rc == 0 && rt.diags.nerrors == 0) {
		check_policies(&d, &rt, params);
		probe_all(&d, &rt, params);
		probe_domain(&d, &rt, params);
	}
	runtime_free(&rt);
	free(sender);

	if (d.json)
		print_json(&d);
	else if (strict && d.nstrict > 0)
		printf("%zu check%s, %zu failed, %zu sender-domain warning%s "
		    "counted as failures (--strict)\n", d.n, d.n == 1 ? "" :
		    "s", d.nfail, d.nstrict, d.nstrict == 1 ? "" : "s");
	else
		printf("%zu check%s, %zu failed\n", d.n, d.n == 1 ? "" : "s",
		    d.nfail);
	rc = d.nfail > 0 || (strict && d.nstrict > 0) ? 1 : EX_OK;
	for (size_t i = 0; i < d.nfacts; i++)
		free(d.facts[i]);
	free(d.facts);
	for (size_t i = 0; i < d.n; i++) {
		free(d.v[i].instance);
		free(d.v[i].check);
		free(d.v[i].text);
		free(d.v[i].remedy);
	}
	free(d.v);
	return rc;
}
