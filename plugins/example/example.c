/*
 * NAME
 *	example - the template for writing a plume plugin
 * SYNOPSIS
 *	pipeline = outbox, example
 *	[example]
 *	greeting = hello		# optional
 *	token = xyz			# optional, a secret
 *
 *	plume example hello [NAME]
 *	plume example headers < MESSAGE
 * DESCRIPTION
 *	A complete, minimal observer: it logs one line through plume for
 *	every event, and offers one subcommand.  Copy this file to start a
 *	plugin of your own; it builds out of tree against the installed
 *	header alone:
 *
 *	  cc -shared -fPIC -I/usr/local/include -o example.so example.c
 *
 *	Rules the loader enforces: the module file is NAME.so in a plugin
 *	directory, exports NAME_LTX_plugin (use PLUME_PLUGIN(NAME)), says
 *	.name = "NAME", and is not writable by anyone but root or plume's
 *	owner.  Everything else is static.  Never exit(), print, or call
 *	syslog: use host->log(), which adds the instance and queue id.
 *	Config keys are declared with types: plume validates them before
 *	init() runs, so init() can trust every value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include <plume/plugin.h>

struct example {
	const struct plume_host *host;
	struct plume_inst *inst;
	const char *greeting;
};

static const struct plume_conf_key example_keys[] = {
	{ "greeting", PLUME_CONF_STRING, 0, "hello", NULL, 0, 0,
	    "the word logged before each event" },
	/* a secret: "plume config check" masks it, plume never logs it */
	{ "token", PLUME_CONF_STRING, PLUME_KEY_SECRET, NULL, NULL, 0, 0,
	    "an API token (unused; shows how secrets are declared)" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static int
example_init(const struct plume_host *host, struct plume_inst *inst,
    void **state_r, const char **error_r)
{
	struct example *ex = calloc(1, sizeof(*ex));

	if (ex == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ex->host = host;
	ex->inst = inst;
	ex->greeting = host->conf_string(inst, "greeting");
	*state_r = ex;
	return 0;
}

static void
example_shutdown(void *state)
{
	free(state);
}

static void
example_event(void *state, const struct plume_event *ev)
{
	struct example *ex = state;

	ex->host->log(ex->inst, PLUME_LOG_INFO, "%s: event %d for %s",
	    ex->greeting, (int)ev->type, ev->rcpt ? ev->rcpt : "the message");
}

/* "plume example hello [NAME]": a plugin-provided subcommand. */
static int
example_hello(const struct plume_host *host, struct plume_inst *inst,
    int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: plume example hello [NAME]\n");
		return EX_USAGE;
	}
	printf("%s, %s (from the example plugin, plume %s)\n",
	    host->conf_string(inst, "greeting"), argc == 2 ? argv[1] : "world",
	    host->version);
	return EX_OK;
}

/* "plume example headers < message": a command that reads a message
   through the host (ABI 1.2) and prints its header field names. */
static int
example_headers(const struct plume_host *host, struct plume_inst *inst,
    int argc, char **argv)
{
	struct plume_msg *m;
	const char *err = NULL;

	if (!PLUME_HOST_HAS(host, msg_read)) {
		fprintf(stderr, "plume %s is too old for this command\n",
		    host->version);
		return EX_SOFTWARE;
	}
	if ((m = host->msg_read(inst, 0, 0, &err)) == NULL) {
		fprintf(stderr, "plume example headers: %s\n", err);
		return EX_DATAERR;
	}
	for (size_t i = 0; i < host->header_count(m); i++) {
		size_t n;
		const char *f = host->header_get(m, i, &n);

		printf("%.*s\n", (int)n, f);
	}
	printf("%lld bytes\n", (long long)host->msg_size(m));
	host->msg_free(m);
	return EX_OK;
}

static const struct plume_observer_ops example_observer = {
	.struct_size = sizeof(struct plume_observer_ops),
	.event = example_event,
};

static const struct plume_command example_commands[] = {
	{ "hello", "hello [NAME]", "print a greeting", example_hello },
	{ "headers", "headers < MESSAGE", "list a message's header fields",
	    example_headers },
	{ NULL, NULL, NULL, NULL },
};

const struct plume_plugin PLUME_PLUGIN(example) = {
	PLUME_PLUGIN_INIT,
	.name = "example",
	.version = "1.0",
	.description = "template observer: logs every event",
	.kinds = PLUME_KIND_OBSERVER,
	.conf_keys = example_keys,
	.init = example_init,
	.shutdown = example_shutdown,
	.observer = &example_observer,
	.commands = example_commands,
};
