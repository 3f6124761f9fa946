/*
 * NAME
 *	routecmd.c - "plume route" and "sendmail -bv": the way out a message
 *	would take, without sending it
 * SYNOPSIS
 *	plume [-C conf] route [--from ADDR] --to ADDR [--to ADDR ...]
 *	sendmail [-C conf] [-f ADDR] -bv ADDR ...
 * DESCRIPTION
 *	For each recipient: the route (the transport in pipeline) and why
 *	it was chosen (match_rcpt, match_from by the envelope sender or by
 *	the From field, the default), its failover chain, and one line per
 *	filter and policy acting on that route's copy, in the instance's
 *	own words when its plugin explains itself (ABI 1.7 explain(): the
 *	DKIM key that would sign, the rate limit and its key).  Nothing is
 *	sent, counted or queued.
 *
 *	--from is the envelope sender and the From address of the message
 *	asked about (default: the sender a submission by this user would
 *	get, sender_address or user@domain); -bv has only -f, the envelope
 *	sender.
 * DIAGNOSTICS
 *	Exit 0 when every recipient has a route, 69 (EX_UNAVAILABLE) when
 *	one has none, 64 for a usage error or an invalid address, 78 for a
 *	config error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "message.h"
#include "rfc5322.h"
#include "route.h"
#include "runtime.h"
#include "submit.h"
#include "util.h"
#include "routecmd.h"

static const char *
why_text(enum route_why w)
{
	switch (w) {
	case ROUTE_RCPT:
		return "match_rcpt";
	case ROUTE_FROM:
		return "match_from, by the envelope sender";
	case ROUTE_FROM_HEADER:
		return "match_from, by the From field";
	case ROUTE_DEFAULT:
		return "the default route";
	default:
		return "no route";
	}
}

bool
route_explain(struct runtime *rt, const char *sender, const char *from,
    const char *rcpt, struct buf *out)
{
	struct plume_msg m;
	struct plume_inst *r;
	enum route_why why;
	char *fromv[2] = { (char *)from, NULL };
	size_t only = 0;

	r = runtime_route(rt, rcpt, sender, from != NULL ? fromv : NULL,
	    &why);
	if (r == NULL) {
		buf_printf(out, "    no route: no transport's match_rcpt or "
		    "match_from matches, and none is the default; the "
		    "message would wait in the queue (451 4.3.5)\n");
		return false;
	}
	buf_printf(out, "    route: %s (%s)\n", r->id, why_text(why));
	buf_adds(out, "    failover:");
	for (struct plume_inst *f = r->failover; f != NULL; f = f->failover)
		buf_printf(out, " %s%s", f->id, f->failover ? "," : "");
	buf_adds(out, r->failover == NULL ? " none\n" : "\n");

	/* the copy of the message this route would get, as far as the
	   explanations need it: envelope and From, no body */
	msg_init(&m);
	m.sender = xstrdup(sender != NULL ? sender : "");
	if (from != NULL) {
		char *h = xasprintf("From: <%s>", from);

		msg_header_append_raw(&m, h, strlen(h));
		free(h);
	}
	msg_add_rcpt(&m, rcpt);
	m.route = r->id;
	m.active = &only;
	m.nactive = 1;
	runtime_explain(rt, &m, out);
	m.active = NULL;
	msg_free(&m);
	return true;
}

bool
route_addr_ok(const char *a)
{
	return submit_arg_ok(a) && rfc5321_valid_mailbox(a, false);
}

int
route_main(const char *cfg, bool explicit_cfg, int argc, char **argv)
{
	struct runtime rt;
	const char *from = NULL;
	char **to = xcalloc((size_t)argc + 1, sizeof(*to));
	char *sender = NULL;
	size_t nto = 0;
	int code = EX_OK;

	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--from") == 0 ||
		    strcmp(argv[i], "--to") == 0) && i + 1 < argc) {
			if (argv[i][2] == 'f')
				from = argv[++i];
			else
				to[nto++] = argv[++i];
			continue;
		}
		fprintf(stderr, "plume: usage: plume route [--from ADDR] "
		    "--to ADDR [--to ADDR ...]\n");
		free(to);
		return EX_USAGE;
	}
	if (nto == 0) {
		fprintf(stderr, "plume: route: name a recipient with --to\n");
		free(to);
		return EX_USAGE;
	}
	if (runtime_load(&rt, cfg, explicit_cfg) == -1 ||
	    runtime_start(&rt) == -1) {
		for (size_t i = 0; i < rt.diags.n; i++) {
			char *line = diag_format(&rt.diags.v[i]);

			if (rt.diags.v[i].level == DIAG_ERROR)
				fprintf(stderr, "plume: %s\n", line);
			free(line);
		}
		runtime_free(&rt);
		free(to);
		return EX_CONFIG;
	}
	sender = from != NULL ? submit_qualify(from, rt.domain) :
	    runtime_default_sender(&rt);
	if (!route_addr_ok(sender)) {
		fprintf(stderr, "plume: route: %s: not a valid address\n",
		    sender);
		code = EX_USAGE;
		goto out;
	}
	printf("from <%s>\n", sender);
	for (size_t i = 0; i < nto; i++) {
		char *q = submit_qualify(to[i], rt.domain);
		struct buf b;

		if (!route_addr_ok(q)) {
			printf("<%s>: not a valid address\n", to[i]);
			code = EX_USAGE;
			free(q);
			continue;
		}
		buf_init(&b);
		if (!route_explain(&rt, sender, sender, q, &b) &&
		    code == EX_OK)
			code = EX_UNAVAILABLE;
		printf("<%s>\n%s", q, b.data);
		buf_free(&b);
		free(q);
	}
out:
	free(sender);
	free(to);
	runtime_free(&rt);
	return code;
}
