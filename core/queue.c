/*
 * NAME
 *	queue.c - write a message into a spool subdirectory, crash-safely
 * SYNOPSIS
 *	queue_store(queue_dir, "hold", msg, "config error", err, len);
 * DESCRIPTION
 *	An item is two files in queue_dir/SUB/: QID (the body, canonical
 *	CRLF, moved there from queue_dir/tmp/ by rename(2), never copied)
 *	and QID.env, the envelope, written to tmp/, fsynced, renamed into
 *	SUB/, then the directory is fsynced: the item exists wholly or not
 *	at all.  The envelope is text:
 *
 *		plume-envelope 1
 *		id QID
 *		arrival UNIXTIME
 *		uid UID
 *		user NAME
 *		sender ADDRESS		(empty for <>)
 *		rcpt ADDRESS		(one line per recipient)
 *		reason TEXT		(why it is here; control bytes as '?')
 *		headers LENGTH		(then LENGTH bytes: the header
 *					 section, CRLF, ending in CRLF CRLF)
 *		end
 *
 *	The first line names the version; readers must refuse a newer one
 *	without touching the file.  "end" marks a complete file.
 * DIAGNOSTICS
 *	-1 with one line in err; nothing is left half-written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"
#include "queue.h"
#include "runtime.h"
#include "util.h"

static void
add_line(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "%s ", key);
	for (const char *p = value != NULL ? value : ""; *p != '\0'; p++)
		buf_addc(b, (unsigned char)*p < 0x20 ? '?' : *p);
	buf_addc(b, '\n');
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

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
queue_store(const char *queue_dir, const char *sub, struct plume_msg *m,
    const char *reason, char *err, size_t errlen)
{
	struct buf b;
	char *dir, *tmp, *env, *body, *head;
	size_t head_len;
	int fd = -1, rc = -1;

	dir = xasprintf("%s/%s", queue_dir, sub);
	tmp = xasprintf("%s/tmp/%s.env", queue_dir, m->qid);
	env = xasprintf("%s/%s.env", dir, m->qid);
	body = xasprintf("%s/%s", dir, m->qid);
	buf_init(&b);
	if (runtime_ensure_dir(dir, 0700, err, errlen) == -1)
		goto out;

	buf_printf(&b, "plume-envelope %d\n", QUEUE_ENV_VERSION);
	add_line(&b, "id", m->qid);
	buf_printf(&b, "arrival %lld\nuid %lu\n", (long long)m->arrival,
	    (unsigned long)m->uid);
	add_line(&b, "user", m->user);
	add_line(&b, "sender", m->sender);
	for (size_t i = 0; i < m->nrcpt; i++)
		add_line(&b, "rcpt", m->rcpts[i].addr);
	add_line(&b, "reason", reason);
	head = msg_render_headers(m, &head_len);
	buf_printf(&b, "headers %zu\n", head_len);
	buf_add(&b, head, head_len);
	free(head);
	buf_adds(&b, "end\n");

	/* the body first: an envelope never points at a missing body */
	if (m->body_fd != -1 && fsync(m->body_fd) == -1) {
		snprintf(err, errlen, "cannot sync %s: %s", m->body_path,
		    strerror(errno));
		goto out;
	}
	if (m->body_path != NULL && rename(m->body_path, body) == -1) {
		snprintf(err, errlen, "cannot move %s to %s: %s",
		    m->body_path, body, strerror(errno));
		goto out;
	}
	free(m->body_path);
	m->body_path = xstrdup(body);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || write_all(fd, b.data, b.len) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			unlink(tmp);
		goto out;
	}
	if (rename(tmp, env) == -1) {
		snprintf(err, errlen, "cannot move %s to %s: %s", tmp, env,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (fsync_dir(dir) == -1) {
		snprintf(err, errlen, "cannot sync directory %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	free(dir);
	free(tmp);
	free(env);
	free(body);
	return rc;
}
