/*
 * smtp_session - drive a transport's session operations through the
 * real loader and host services, as a queue run will: open one session,
 * deliver several messages over it, close it.
 *
 *	smtp_session CONFIG RCPT...
 *
 * One message per RCPT argument, in order, each "Subject: message N".
 * Prints one line per recipient: "N RCPT STATUS CODE ENHANCED TEXT" and
 * exits 0 when the session opened (whatever the results), 1 otherwise.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "intake.h"
#include "loader.h"
#include "message.h"
#include "runtime.h"
#include "submit.h"
#include "util.h"

static int
make_message(struct runtime *rt, struct plume_msg *m, int n, char *rcpt)
{
	char path[] = "/tmp/plume-session.XXXXXX", err[512], *text, *tmp;
	struct intake_opts io = { .ignore_dots = true };
	struct submit_opts so;
	int fd = mkstemp(path);

	if (fd == -1)
		return -1;
	text = xasprintf("From: a@example.org\nSubject: message %d\n\n"
	    "body %d\n", n, n);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	free(text);
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	tmp = xasprintf("%s/tmp", rt->queue_dir);
	io.tmp_dir = tmp;
	msg_init(m);
	if (runtime_ensure_dir(rt->queue_dir, 0755, err, sizeof(err)) == -1 ||
	    runtime_ensure_dir(tmp, 0700, err, sizeof(err)) == -1 ||
	    intake_read(fd, &io, m, err, sizeof(err)) != INTAKE_OK) {
		fprintf(stderr, "intake: %s\n", err);
		return -1;
	}
	close(fd);
	free(tmp);
	memset(&so, 0, sizeof(so));
	so.sender = "s@example.org";
	so.rcpts = &rcpt;
	so.nrcpts = 1;
	so.hostname = rt->hostname;
	so.domain = rt->domain;
	so.user = "test";
	so.now = time(NULL);
	return submit_prepare(m, &so, err, sizeof(err)) == SUBMIT_OK ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct runtime rt;
	struct plume_inst *tr;
	const struct plume_transport_ops *ops;
	struct plume_reply rep;
	void *session = NULL;
	char err[512];

	if (argc < 3) {
		fprintf(stderr, "usage: smtp_session CONFIG RCPT...\n");
		return 2;
	}
	if (loader_init(NULL, err, sizeof(err)) == -1 ||
	    runtime_load(&rt, argv[1], true) == -1 ||
	    runtime_start(&rt) == -1) {
		for (size_t i = 0; i < rt.diags.n; i++)
			fprintf(stderr, "%s\n", diag_format(&rt.diags.v[i]));
		return 2;
	}
	tr = rt.transport;
	ops = tr->plugin->desc.transport;
	memset(&rep, 0, sizeof(rep));
	if (ops->session_open == NULL ||
	    ops->session_open(tr->state, &session, &rep) != PLUME_OK) {
		printf("session failed: %d %s %s\n", rep.code,
		    rep.enhanced ? rep.enhanced : "-", rep.text ? rep.text : "");
		runtime_free(&rt);
		loader_shutdown();
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		struct plume_msg m;

		if (make_message(&rt, &m, i - 1, argv[i]) == -1)
			return 2;
		ops->deliver(tr->state, session, &m);
		for (size_t k = 0; k < m.nrcpt; k++) {
			struct result *r = &m.rcpts[k].result;

			printf("%d %s %s %d %s %s\n", i - 1, m.rcpts[k].addr,
			    !r->set ? "none" : r->status == PLUME_OK ? "sent" :
			    r->status == PLUME_TEMPFAIL ? "deferred" : "bounced",
			    r->code, r->enhanced ? r->enhanced : "-",
			    r->text ? r->text : "");
		}
		unlink(m.body_path);
		msg_free(&m);
	}
	ops->session_close(tr->state, session);
	runtime_free(&rt);
	loader_shutdown();
	return 0;
}
