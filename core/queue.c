/*
 * NAME
 *	queue.c - the spool: store, load, update and remove queued messages
 * SYNOPSIS
 *	queue_store(queue_dir, QUEUE_DEFERRED, msg, "why", err, len);
 *	queue_open(queue_dir, QUEUE_DEFERRED, qid, &item, err, len);
 *	queue_load(&item, msg, err, len);
 *	queue_update(&item, msg, err, len);
 *	queue_close(&item);
 * DESCRIPTION
 *	An item is two files in queue_dir/SUB/: QID (the body, canonical
 *	CRLF, moved there from queue_dir/tmp/ by rename(2), never copied)
 *	and QID.env, the envelope.  Writing an envelope is always: write a
 *	new file in tmp/, fsync it, rename it over the old one, fsync the
 *	directory; so an envelope is wholly old or wholly new, never half,
 *	and a body is in place before any envelope names it.
 *
 *	The envelope is text, one "key value" per line, values percent-
 *	encoded (bytes below 0x21, '%' and 0x7f as %XX, so any address or
 *	reply text fits on one line):
 *
 *		plume-envelope 1
 *		id QID
 *		arrival UNIXTIME
 *		uid UID
 *		user NAME
 *		sender ADDRESS			("" for <>)
 *		body 7BIT|8BITMIME
 *		smtputf8 yes|no
 *		envid ENVID			(optional)
 *		ret FULL|HDRS			(optional)
 *		message_id <ID>			(optional)
 *		attempts N
 *		next_attempt UNIXTIME
 *		filtered yes|no			(the filters, DKIM, have run)
 *		warned yes|no			(a delay warning was sent)
 *		last_error TEXT			(optional)
 *		reason TEXT			(why it is here)
 *		rcpt STATE ADDRESS NOTIFY ORCPT	(STATE pending|sent|failed;
 *						 "-" for no NOTIFY, ORCPT)
 *		headers LENGTH			(then LENGTH bytes: the header
 *						 section exactly as it will be
 *						 sent, signatures included)
 *		end
 *
 *	The first line names the version: a reader refuses a newer one
 *	without touching the file (QUEUE_NEWER), and reads every older one.
 *	"end" at the very end marks a complete file; anything else is torn
 *	or damaged (QUEUE_CORRUPT_ITEM): the caller moves it aside to corrupt/,
 *	never deletes or delivers it.
 *
 *	Items are locked with flock(2) on the open envelope, so two runners
 *	never handle one message at once and a killed process leaves no
 *	stale lock.
 * DIAGNOSTICS
 *	-1 (or a queue_status) with one line in err; nothing half-written.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message.h"
#include "queue.h"
#include "rfc5322.h"
#include "runtime.h"
#include "secure.h"
#include "util.h"

static void
enc_add(struct buf *b, const char *value)
{
	for (const unsigned char *p = (const unsigned char *)(value ? value :
	    ""); *p != '\0'; p++) {
		if (*p < 0x21 || *p == '%' || *p == 0x7f)
			buf_printf(b, "%%%02X", *p);
		else
			buf_addc(b, (char)*p);
	}
}

static void
add_line(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "%s ", key);
	enc_add(b, value);
	buf_addc(b, '\n');
}

/* Decodes %XX in place. */
static char *
dec(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0'; p++) {
		unsigned int v;

		if (*p == '%' && p[1] != '\0' && p[2] != '\0' &&
		    sscanf(p + 1, "%2X", &v) == 1) {
			*o++ = (char)v;
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return s;
}

static enum queue_status queue_open_how(const char *, const char *,
	    const char *, struct queue_item *, bool, char *, size_t);

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

static const char *
state_word(enum rcpt_state st)
{
	return st == RCPT_SENT ? "sent" : st == RCPT_FAILED ? "failed" :
	    "pending";
}

/* The envelope text of m; states[i] for rcpts[i] (NULL: all pending). */
static void
render(struct buf *b, const struct plume_msg *m,
    const enum rcpt_state *states, const char *reason)
{
	char *head;
	size_t head_len;

	buf_printf(b, "plume-envelope %d\n", QUEUE_ENV_VERSION);
	add_line(b, "id", m->qid);
	buf_printf(b, "arrival %lld\nuid %lu\n", (long long)m->arrival,
	    (unsigned long)m->uid);
	add_line(b, "user", m->user);
	add_line(b, "sender", m->sender);
	add_line(b, "body", m->eightbit ? "8BITMIME" : "7BIT");
	add_line(b, "smtputf8", m->smtputf8 ? "yes" : "no");
	if (m->envid != NULL)
		add_line(b, "envid", m->envid);
	if (m->ret != NULL)
		add_line(b, "ret", m->ret);
	if (m->message_id != NULL)
		add_line(b, "message_id", m->message_id);
	buf_printf(b, "attempts %u\nnext_attempt %lld\nfiltered %s\n"
	    "warned %s\n", m->attempts, (long long)m->next_attempt,
	    m->filtered ? "yes" : "no", m->warned ? "yes" : "no");
	if (m->last_error != NULL)
		add_line(b, "last_error", m->last_error);
	add_line(b, "reason", reason);
	for (size_t i = 0; i < m->nrcpt; i++) {
		buf_printf(b, "rcpt %s ", state_word(states ? states[i] :
		    m->rcpts[i].state));
		enc_add(b, m->rcpts[i].addr);
		buf_addc(b, ' ');
		enc_add(b, m->rcpts[i].notify ? m->rcpts[i].notify : "-");
		buf_addc(b, ' ');
		enc_add(b, m->rcpts[i].orcpt ? m->rcpts[i].orcpt : "-");
		buf_addc(b, '\n');
	}
	head = msg_render_headers(m, &head_len);
	buf_printf(b, "headers %zu\n", head_len);
	buf_add(b, head, head_len);
	free(head);
	buf_adds(b, "end\n");
}

/* Writes text as dir/name through tmp/, crash-safely. */
static int
replace_file(const char *queue_dir, const char *dir, const char *name,
    const struct buf *text, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s/tmp/%s.env.%ld", queue_dir, name,
	    (long)getpid());
	char *dst = xasprintf("%s/%s.env", dir, name);
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || write_full(fd, text->data, text->len) == -1 ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		if (fd != -1)
			unlink(tmp);
		goto out;
	}
	if (rename(tmp, dst) == -1) {
		snprintf(err, errlen, "cannot move %s to %s: %s", tmp, dst,
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
	free(tmp);
	free(dst);
	return rc;
}

int
queue_store(const char *queue_dir, const char *sub, struct plume_msg *m,
    const char *reason, char *err, size_t errlen)
{
	struct buf b;
	char *dir, *body;
	int rc = -1;

	dir = xasprintf("%s/%s", queue_dir, sub);
	body = xasprintf("%s/%s", dir, m->qid);
	buf_init(&b);
	if (runtime_ensure_dir(dir, spool_dir_mode(), err, errlen) == -1)
		goto out;
	/* the body first: an envelope never names a missing body */
	if (m->body_fd != -1 && fsync(m->body_fd) == -1) {
		snprintf(err, errlen, "cannot sync %s: %s", m->body_path,
		    strerror(errno));
		goto out;
	}
	if (m->body_path != NULL && strcmp(m->body_path, body) != 0) {
		if (rename(m->body_path, body) == -1) {
			snprintf(err, errlen, "cannot move %s to %s: %s",
			    m->body_path, body, strerror(errno));
			goto out;
		}
		free(m->body_path);
		m->body_path = xstrdup(body);
	}
	render(&b, m, NULL, reason);
	if (replace_file(queue_dir, dir, m->qid, &b, err, errlen) == -1) {
		/* A new message is wholly absent after a failure: its
		   envelope too, which is in place when only the directory
		   sync failed, and then the body, never the other way. */
		char *env = xasprintf("%s.env", body);

		unlink(env);
		free(env);
		unlink(body);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	free(dir);
	free(body);
	return rc;
}

enum queue_status
queue_open(const char *queue_dir, const char *sub, const char *qid,
    struct queue_item *it, char *err, size_t errlen)
{
	return queue_open_how(queue_dir, sub, qid, it, true, err, errlen);
}

/* Without the lock, read only: for listing (mailq never delays a
   runner, and a runner never waits for mailq). */
enum queue_status
queue_peek(const char *queue_dir, const char *sub, const char *qid,
    struct queue_item *it, char *err, size_t errlen)
{
	return queue_open_how(queue_dir, sub, qid, it, false, err, errlen);
}

static enum queue_status
queue_open_how(const char *queue_dir, const char *sub, const char *qid,
    struct queue_item *it, bool lock, char *err, size_t errlen)
{
	struct stat st;

	memset(it, 0, sizeof(*it));
	it->queue_dir = xstrdup(queue_dir);
	it->dir = xasprintf("%s/%s", queue_dir, sub);
	it->qid = xstrdup(qid);
	it->env_path = xasprintf("%s/%s.env", it->dir, qid);
	it->body_path = xasprintf("%s/%s", it->dir, qid);
	it->fd = open(it->env_path, (lock ? O_RDWR : O_RDONLY) | O_CLOEXEC |
	    O_NOFOLLOW);
	if (it->fd == -1) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", it->env_path, strerror(e));
		return e == ENOENT ? QUEUE_GONE : e == EACCES ? QUEUE_DENIED :
		    QUEUE_ERROR;
	}
	if (lock && flock(it->fd, LOCK_EX | LOCK_NB) == -1)
		return QUEUE_LOCKED;
	/* removed by another runner between our open and our lock */
	if (fstat(it->fd, &st) == -1 || st.st_nlink == 0)
		return QUEUE_GONE;
	return QUEUE_OK;
}

void
queue_close(struct queue_item *it)
{
	if (it->fd > 0)
		close(it->fd);
	it->fd = -1;
	free(it->queue_dir);
	free(it->dir);
	free(it->qid);
	free(it->env_path);
	free(it->body_path);
	memset(it, 0, sizeof(*it));
}

/* Splits a rendered header section (fields, then an empty line) into
   fields: a CRLF not followed by white space ends one. */
static int
load_headers(struct plume_msg *m, const char *p, size_t n)
{
	size_t start = 0;

	if (n < 2 || memcmp(p + n - 2, "\r\n", 2) != 0)
		return -1;
	n -= 2;
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\r' || p[i + 1] != '\n')
			continue;
		if (i + 2 < n && (p[i + 2] == ' ' || p[i + 2] == '\t'))
			continue;	/* folding */
		if (msg_header_append_raw(m, p + start, i - start) == -1)
			return -1;
		start = i + 2;
		i++;
	}
	return start == n ? 0 : -1;
}

enum queue_status
queue_load(struct queue_item *it, struct plume_msg *m, char *err,
    size_t errlen)
{
	struct stat st;
	char *data, *p, *end, *line;
	size_t hlen = 0;
	bool ended = false, have_headers = false;
	int version = 0;

	if (fstat(it->fd, &st) == -1 || st.st_size > 16 * 1024 * 1024) {
		snprintf(err, errlen, "%s: unreadable or too large",
		    it->env_path);
		return QUEUE_CORRUPT_ITEM;
	}
	data = xmalloc((size_t)st.st_size + 1);
	if (pread(it->fd, data, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(err, errlen, "%s: short read", it->env_path);
		free(data);
		return QUEUE_CORRUPT_ITEM;
	}
	data[st.st_size] = '\0';
	end = data + st.st_size;
	if (sscanf(data, "plume-envelope %d\n", &version) != 1) {
		snprintf(err, errlen, "%s: not a plume envelope", it->env_path);
		free(data);
		return QUEUE_CORRUPT_ITEM;
	}
	if (version > QUEUE_ENV_VERSION) {
		snprintf(err, errlen, "%s: envelope version %d is newer than "
		    "this plume's %d; left alone", it->env_path, version,
		    QUEUE_ENV_VERSION);
		free(data);
		return QUEUE_NEWER;
	}
	msg_init(m);
	for (p = strchr(data, '\n') + 1; p < end && !ended;) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *val;

		if (nl == NULL)
			break;
		*nl = '\0';
		line = p;
		p = nl + 1;
		val = strchr(line, ' ');
		if (val != NULL)
			*val++ = '\0';
		if (strcmp(line, "end") == 0) {
			ended = p == end;
			break;
		}
		if (val == NULL)
			continue;	/* an unknown key without value */
		if (strcmp(line, "id") == 0)
			snprintf(m->qid, sizeof(m->qid), "%s", dec(val));
		else if (strcmp(line, "arrival") == 0)
			m->arrival = (time_t)strtoll(val, NULL, 10);
		else if (strcmp(line, "uid") == 0)
			m->uid = (uid_t)strtoul(val, NULL, 10);
		else if (strcmp(line, "user") == 0)
			m->user = xstrdup(dec(val));
		else if (strcmp(line, "sender") == 0)
			m->sender = xstrdup(dec(val));
		else if (strcmp(line, "body") == 0)
			m->eightbit = strcmp(val, "8BITMIME") == 0;
		else if (strcmp(line, "smtputf8") == 0)
			m->smtputf8 = strcmp(val, "yes") == 0;
		else if (strcmp(line, "envid") == 0)
			m->envid = xstrdup(dec(val));
		else if (strcmp(line, "ret") == 0)
			m->ret = xstrdup(dec(val));
		else if (strcmp(line, "message_id") == 0)
			m->message_id = xstrdup(dec(val));
		else if (strcmp(line, "attempts") == 0)
			m->attempts = (unsigned)strtoul(val, NULL, 10);
		else if (strcmp(line, "next_attempt") == 0)
			m->next_attempt = (time_t)strtoll(val, NULL, 10);
		else if (strcmp(line, "filtered") == 0)
			m->filtered = strcmp(val, "yes") == 0;
		else if (strcmp(line, "warned") == 0)
			m->warned = strcmp(val, "yes") == 0;
		else if (strcmp(line, "last_error") == 0)
			m->last_error = xstrdup(dec(val));
		else if (strcmp(line, "rcpt") == 0) {
			char *state = val, *addr, *notify, *orcpt;
			struct rcpt *r;

			if ((addr = strchr(state, ' ')) == NULL ||
			    (*addr++ = '\0', notify = strchr(addr, ' ')) == NULL ||
			    (*notify++ = '\0', orcpt = strchr(notify, ' ')) ==
			    NULL)
				break;
			*orcpt++ = '\0';
			m->rcpts = xreallocarray(m->rcpts, m->nrcpt + 1,
			    sizeof(*m->rcpts));
			r = &m->rcpts[m->nrcpt++];
			memset(r, 0, sizeof(*r));
			r->addr = xstrdup(dec(addr));
			r->notify = strcmp(notify, "-") ? xstrdup(dec(notify)) :
			    NULL;
			r->orcpt = strcmp(orcpt, "-") ? xstrdup(dec(orcpt)) :
			    NULL;
			r->state = strcmp(state, "sent") == 0 ? RCPT_SENT :
			    strcmp(state, "failed") == 0 ? RCPT_FAILED :
			    RCPT_PENDING;
		} else if (strcmp(line, "headers") == 0) {
			hlen = (size_t)strtoull(val, NULL, 10);
			if (hlen > (size_t)(end - p) ||
			    load_headers(m, p, hlen) == -1)
				break;
			p += hlen;
			have_headers = true;
		}
		/* other keys: written by a newer minor revision; ignored */
	}
	free(data);
	if (!ended || !have_headers || m->qid[0] == '\0' || m->sender == NULL) {
		snprintf(err, errlen, "%s: incomplete or damaged envelope",
		    it->env_path);
		msg_free(m);
		return QUEUE_CORRUPT_ITEM;
	}
	if (m->user == NULL)
		m->user = xstrdup("");
	m->body_path = xstrdup(it->body_path);
	m->body_fd = open(it->body_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (m->body_fd == -1 || fstat(m->body_fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", it->body_path, strerror(errno));
		msg_free(m);
		return QUEUE_CORRUPT_ITEM;
	}
	m->body_size = st.st_size;
	return QUEUE_OK;
}

int
queue_update(struct queue_item *it, struct plume_msg *m, const char *reason,
    char *err, size_t errlen)
{
	struct buf b;
	int rc;

	buf_init(&b);
	render(&b, m, NULL, reason);
	rc = replace_file(it->queue_dir, it->dir, it->qid, &b, err, errlen);
	buf_free(&b);
	/* our lock is on the old file: take the new one's before going on */
	if (rc == 0) {
		int fd = open(it->env_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

		if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(it->fd);
			it->fd = fd;
		} else if (fd != -1)
			close(fd);
	}
	return rc;
}

void
queue_remove(struct queue_item *it)
{
	/* the envelope first: a body without an envelope is never read.
	   No fsync: a power loss right after can only bring the message
	   back, to be sent once more (the documented duplicate), never
	   lose it. */
	unlink(it->env_path);
	unlink(it->body_path);
}

int
queue_move(struct queue_item *it, const char *sub, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/%s", it->queue_dir, sub);
	char *env = xasprintf("%s/%s.env", dir, it->qid);
	char *body = xasprintf("%s/%s", dir, it->qid);
	int rc = -1;

	if (runtime_ensure_dir(dir, spool_dir_mode(), err, errlen) == 0) {
		/* the body first, so the envelope never names a missing one */
		if (rename(it->body_path, body) == -1 && errno != ENOENT)
			snprintf(err, errlen, "cannot move %s: %s",
			    it->body_path, strerror(errno));
		else if (rename(it->env_path, env) == -1)
			snprintf(err, errlen, "cannot move %s: %s",
			    it->env_path, strerror(errno));
		else {
			fsync_dir(dir);
			fsync_dir(it->dir);
			rc = 0;
		}
	}
	free(dir);
	free(env);
	free(body);
	return rc;
}

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
queue_list(const char *queue_dir, const char *sub, char ***ids_r)
{
	char *dir = xasprintf("%s/%s", queue_dir, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0;

	free(dir);
	if (d == NULL) {
		*ids_r = xcalloc(1, sizeof(char *));
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len <= 4 || strcmp(de->d_name + len - 4, ".env") != 0 ||
		    de->d_name[0] == '.')
			continue;
		ids = xreallocarray(ids, n + 2, sizeof(*ids));
		ids[n++] = xstrndup(de->d_name, len - 4);
		ids[n] = NULL;
	}
	closedir(d);
	if (ids == NULL)
		ids = xcalloc(1, sizeof(char *));
	/* oldest first: ids sort by arrival */
	qsort(ids, n, sizeof(*ids), cmp_ids);
	*ids_r = ids;
	return (int)n;
}

/* How many messages uid has in deferred/ (queue_max_per_user): the
   uid line is near the top of every envelope. */
size_t
queue_count_uid(const char *queue_dir, uid_t uid)
{
	char **ids, want[48], head[512];
	size_t n = 0;

	snprintf(want, sizeof(want), "\nuid %lu\n", (unsigned long)uid);
	if (queue_list(queue_dir, QUEUE_DEFERRED, &ids) < 0)
		return 0;
	for (size_t i = 0; ids[i] != NULL; i++) {
		char *path = xasprintf("%s/%s/%s.env", queue_dir,
		    QUEUE_DEFERRED, ids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t r;

		if (fd != -1) {
			r = read(fd, head, sizeof(head) - 1);
			head[r > 0 ? r : 0] = '\0';
			if (strstr(head, want) != NULL)
				n++;
			close(fd);
		}
		free(path);
		free(ids[i]);
	}
	free(ids);
	return n;
}
