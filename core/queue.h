/*
 * NAME
 *	queue.h - the spool: store, load, update and remove queued messages
 * DESCRIPTION
 *	See queue.c for the envelope format and the crash-safety rules.
 */
#ifndef PLUME_QUEUE_H
#define PLUME_QUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "message.h"

#define QUEUE_ENV_VERSION	1

/* Subdirectories of queue_dir. */
#define QUEUE_DEFERRED	"deferred"	/* waiting for a retry */
#define QUEUE_HOLD	"hold"		/* kept: config error, or held */
#define QUEUE_CORRUPT	"corrupt"	/* damaged items, moved aside */

enum queue_status {
	QUEUE_OK = 0,
	QUEUE_GONE,		/* delivered or removed meanwhile */
	QUEUE_LOCKED,		/* another runner has it */
	QUEUE_NEWER,		/* written by a newer plume: left alone */
	QUEUE_CORRUPT_ITEM,	/* torn or damaged */
	QUEUE_DENIED,		/* not ours to read (permissions) */
	QUEUE_ERROR,		/* cannot read it now */
};
#define QUEUE_CORRUPT_ST	QUEUE_CORRUPT_ITEM

struct queue_item {
	char	*queue_dir;
	char	*dir;
	char	*qid;
	char	*env_path;
	char	*body_path;
	int	 fd;		/* the locked envelope */
};

int	 queue_store(const char *queue_dir, const char *sub,
	    struct plume_msg *, const char *reason, char *err, size_t errlen);
enum queue_status queue_open(const char *queue_dir, const char *sub,
	    const char *qid, struct queue_item *, char *err, size_t errlen);
enum queue_status queue_peek(const char *queue_dir, const char *sub,
	    const char *qid, struct queue_item *, char *err, size_t errlen);
enum queue_status queue_load(struct queue_item *, struct plume_msg *,
	    char *err, size_t errlen);
int	 queue_update(struct queue_item *, struct plume_msg *,
	    const char *reason, char *err, size_t errlen);
void	 queue_remove(struct queue_item *);
int	 queue_move(struct queue_item *, const char *sub, char *err,
	    size_t errlen);
void	 queue_close(struct queue_item *);
size_t	 queue_count_uid(const char *queue_dir, uid_t uid);
/* The queue ids in queue_dir/sub, oldest first, NULL-terminated. */
int	 queue_list(const char *queue_dir, const char *sub, char ***ids_r);

#endif
