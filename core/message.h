/*
 * NAME
 *	message.h - a message in flight: envelope, editable header fields,
 *	and a body that stays in its spool file
 * DESCRIPTION
 *	The header fields live in memory (they are small and filters edit
 *	them); the body stays in the spool file written by intake, in
 *	canonical form (CRLF line ends, no dot-stuffing), and is read by
 *	offset, so a 100 MB message costs no more memory than a short note.
 *	struct plume_msg is the opaque handle plugins receive: one route's
 *	copy of a message.
 */
#ifndef PLUME_MESSAGE_H
#define PLUME_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plume/plugin.h"

struct result {
	enum plume_status status;
	int	 code;
	char	*enhanced;
	char	*text;
	time_t	 retry_after;
	bool	 set;
};

enum rcpt_state {
	RCPT_PENDING = 0,	/* not delivered yet */
	RCPT_SENT,		/* accepted by the far end: never again */
	RCPT_FAILED,		/* refused for good */
};

struct rcpt {
	char	*addr;		/* envelope address, qualified */
	enum rcpt_state state;	/* as the queue records it */
	char	*notify;	/* DSN NOTIFY, or NULL */
	char	*orcpt;		/* DSN ORCPT, or NULL */
	struct result result;	/* from the transport */
	struct result verdict;	/* from policies */
};

struct header {
	char	*raw;		/* "Name: value" with folding, no final CRLF */
	size_t	 len;
	size_t	 name_len;
};

struct note {
	char	*key;
	char	*value;
};

struct plume_msg {
	char	 qid[24];
	char	*sender;		/* "" for <> */
	struct rcpt *rcpts;
	size_t	 nrcpt;
	struct header *hdrs;
	size_t	 nhdr;

	int	 body_fd;		/* spool file, or -1 */
	char	*body_path;		/* its name, unlinked when done */
	off_t	 body_size;
	bool	 eightbit;		/* a byte >= 0x80 anywhere */
	bool	 smtputf8;		/* an address needs SMTPUTF8 */

	char	*message_id;
	char	*envid;
	char	*ret;
	const char *route;		/* transport instance id */
	int64_t	 deadline_ms;		/* monotonic; 0: none */
	bool	 from_queue;		/* loaded from the queue */
	bool	 accepted;		/* the ACCEPTED event was sent */
	bool	 filtered;		/* every filter passed: never again */
	unsigned attempts;		/* delivery attempts so far */
	bool	 warned;		/* a delay warning was sent */
	bool	 dsn_refused;		/* -oem: refusals at submission are
					   reported by a DSN, not the exit */
	time_t	 next_attempt;
	char	*last_error;
	uid_t	 uid;
	char	*user;
	time_t	 arrival;
	struct result refused;		/* host->msg_refuse(), this attempt */

	/* The recipients the current plugin call is about (a route, or
	   those a policy let through), as indexes into rcpts; NULL: all. */
	size_t	*active;
	size_t	 nactive;

	struct note *notes;		/* facts of the current attempt */
	size_t	 nnotes;
};

struct plume_stream {
	struct plume_msg *msg;
	enum plume_stream_what what;
	char	*head;			/* rendered header block + CRLF */
	size_t	 head_len;
	off_t	 pos;			/* in head, then in the body */
};

void	 msg_init(struct plume_msg *);
size_t	 msg_active_count(const struct plume_msg *);
struct rcpt *msg_active_rcpt(struct plume_msg *, size_t);
void	 msg_free(struct plume_msg *);
void	 msg_add_rcpt(struct plume_msg *, const char *);
bool	 msg_has_rcpt(const struct plume_msg *, const char *);
int	 msg_header_append_raw(struct plume_msg *, const char *, size_t);
long	 msg_header_find(const struct plume_msg *, const char *, size_t);
int	 msg_header_add(struct plume_msg *, enum plume_header_where,
	    const char *, const char *, const char **);
int	 msg_header_remove(struct plume_msg *, size_t);
size_t	 msg_header_remove_all(struct plume_msg *, const char *);
char	*msg_header_value(const struct plume_msg *, size_t);	/* unfolded */
char	*msg_render_headers(const struct plume_msg *, size_t *);
off_t	 msg_size(const struct plume_msg *);
void	 msg_note(struct plume_msg *, const char *, const char *);
/* A copy of the header fields, to put back if filters must be undone. */
struct header_set;
struct header_set *msg_headers_save(const struct plume_msg *);
void	 msg_headers_restore(struct plume_msg *, struct header_set *);
void	 msg_headers_drop(struct header_set *);
void	 msg_clear_notes(struct plume_msg *);
void	 result_set(struct result *, const struct plume_reply *);
void	 result_clear(struct result *);
void	 result_to_reply(const struct result *, struct plume_reply *);

struct plume_stream *msg_stream_open(struct plume_msg *,
	    enum plume_stream_what);
ssize_t	 msg_stream_read(struct plume_stream *, void *, size_t);
int	 msg_stream_rewind(struct plume_stream *);
void	 msg_stream_close(struct plume_stream *);

#endif
