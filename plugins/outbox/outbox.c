/*
 * NAME
 *	outbox - transport plugin: deliver into a local Maildir
 * SYNOPSIS
 *	pipeline = outbox
 *	[outbox]
 *	path = /var/spool/plume/outbox	# default: queue_dir/outbox
 * DESCRIPTION
 *	Writes each message as one file into a Maildir (tmp/ -> fsync ->
 *	rename into new/ -> fsync new/), so a message is in new/ wholly or
 *	not at all.  This is plume's built-in default transport: with no
 *	config, mail is captured here rather than sent anywhere.
 *
 *	The file holds exactly the bytes a network transport would send
 *	(CRLF line ends, no dot-stuffing), below two kinds of envelope
 *	fields that plume prepends: "Return-Path: <sender>" (RFC 5321
 *	4.4; "<>" for the null sender) and one "Envelope-To: <rcpt>" per
 *	recipient, in envelope order.  Bcc recipients therefore appear
 *	there and only there.
 *
 *	File names follow the Maildir convention
 *	SECONDS.MMICROSECONDSPPID_QQUEUEID.HOST.
 * DIAGNOSTICS
 *	A write failure is a temporary failure (452 4.3.1 when the disk
 *	is full, 451 4.3.0 otherwise) with the system's words.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <plume/plugin.h>

struct outbox {
	const struct plume_host *host;
	struct plume_inst *inst;
	char	*path;
};

static const struct plume_conf_key outbox_keys[] = {
	{ "path", PLUME_CONF_PATH, 0, NULL, NULL, 0, 0,
	    "the Maildir (default: queue_dir/outbox)" },
	{ NULL, 0, 0, NULL, NULL, 0, 0, NULL },
};

static int
outbox_init(const struct plume_host *host, struct plume_inst *inst,
    void **state_r, const char **error_r)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	const char *path = host->conf_string(inst, "path");
	const char *qdir = host->conf_global(inst, "queue_dir");
	size_t n;

	if (ob == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ob->host = host;
	ob->inst = inst;
	if (path != NULL)
		ob->path = strdup(path);
	else {
		n = strlen(qdir) + sizeof("/outbox");
		if ((ob->path = malloc(n)) != NULL)
			snprintf(ob->path, n, "%s/outbox", qdir);
	}
	if (ob->path == NULL) {
		free(ob);
		*error_r = "out of memory";
		return -1;
	}
	*state_r = ob;
	return 0;
}

static void
outbox_shutdown(void *state)
{
	struct outbox *ob = state;

	free(ob->path);
	free(ob);
}

static void
tempfail(struct outbox *ob, struct plume_msg *msg, int err, const char *what,
    const char *file)
{
	char text[1024];
	struct plume_reply r = {
		.status = PLUME_TEMPFAIL,
		.code = err == ENOSPC || err == EDQUOT ? 452 : 451,
		.enhanced = err == ENOSPC || err == EDQUOT ? "4.3.1" : "4.3.0",
		.text = text,
	};

	snprintf(text, sizeof(text), "cannot %s %s: %s", what, file,
	    strerror(err));
	ob->host->set_result(msg, PLUME_RCPT_ALL, &r);
}

static int
ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The envelope fields, then the message from the host's stream. */
static int
write_message(struct outbox *ob, struct plume_msg *msg, int fd)
{
	const struct plume_host *h = ob->host;
	struct plume_stream *s;
	char buf[65536];
	ssize_t r;
	int len;

	len = snprintf(buf, sizeof(buf), "Return-Path: <%s>\r\n",
	    h->msg_sender(msg));
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    write_all(fd, buf, (size_t)len) == -1)
		return -1;
	for (size_t i = 0; i < h->msg_rcpt_count(msg); i++) {
		len = snprintf(buf, sizeof(buf), "Envelope-To: <%s>\r\n",
		    h->msg_rcpt(msg, i));
		if (len < 0 || (size_t)len >= sizeof(buf) ||
		    write_all(fd, buf, (size_t)len) == -1)
			return -1;
	}
	if ((s = h->stream_open(msg, PLUME_STREAM_MESSAGE)) == NULL)
		return -1;
	while ((r = h->stream_read(s, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, (size_t)r) == -1) {
			r = -1;
			break;
		}
	h->stream_close(s);
	return r == 0 ? 0 : -1;
}

static int
outbox_deliver(void *state, void *session, struct plume_msg *msg)
{
	struct outbox *ob = state;
	const struct plume_host *h = ob->host;
	char host[256], name[512], tmp[4096], dst[4096], dir[4096];
	char text[4200];
	struct timeval tv;
	int fd, saved;

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/* '/' and ':' would break the Maildir name */
	for (char *p = host; *p != '\0'; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
	gettimeofday(&tv, NULL);
	snprintf(name, sizeof(name), "%lld.M%06ldP%ld_Q%s.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    h->msg_param(msg, PLUME_PARAM_QUEUE_ID), host);

	snprintf(dir, sizeof(dir), "%s/tmp", ob->path);
	if (ensure_dir(ob->path) == -1 || ensure_dir(dir) == -1) {
		tempfail(ob, msg, errno, "create Maildir", ob->path);
		return PLUME_OK;
	}
	snprintf(dir, sizeof(dir), "%s/cur", ob->path);
	ensure_dir(dir);
	snprintf(dir, sizeof(dir), "%s/new", ob->path);
	if (ensure_dir(dir) == -1) {
		tempfail(ob, msg, errno, "create", dir);
		return PLUME_OK;
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", ob->path, name);
	snprintf(dst, sizeof(dst), "%s/new/%s", ob->path, name);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		tempfail(ob, msg, errno, "create", tmp);
		return PLUME_OK;
	}
	if (write_message(ob, msg, fd) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		tempfail(ob, msg, saved, "write", tmp);
		return PLUME_OK;
	}
	if (close(fd) == -1 || rename(tmp, dst) == -1) {
		saved = errno;
		unlink(tmp);
		tempfail(ob, msg, saved, "move into new/", tmp);
		return PLUME_OK;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == -1) {
			saved = errno;
			close(fd);
			tempfail(ob, msg, saved, "sync", dir);
			return PLUME_OK;
		}
		close(fd);
	}
	snprintf(text, sizeof(text), "delivered to maildir %s", dst);
	h->note(msg, "outbox", ob->path);
	h->set_result(msg, PLUME_RCPT_ALL, &(struct plume_reply){
	    .status = PLUME_OK, .code = 250, .enhanced = "2.0.0",
	    .text = text });
	return PLUME_OK;
}

static const struct plume_transport_ops outbox_transport = {
	.struct_size = sizeof(struct plume_transport_ops),
	.deliver = outbox_deliver,
};

const struct plume_plugin PLUME_PLUGIN(outbox) = {
	PLUME_PLUGIN_INIT,
	.name = "outbox",
	.version = "1.0",
	.description = "delivers into a local Maildir instead of sending",
	.kinds = PLUME_KIND_TRANSPORT,
	.conf_keys = outbox_keys,
	.init = outbox_init,
	.shutdown = outbox_shutdown,
	.transport = &outbox_transport,
};
