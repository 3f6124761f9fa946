/*
 * NAME
 *	util.h - small helpers shared by the core: allocation, growable
 *	buffers, string tests
 * DESCRIPTION
 *	Allocation failure is not recoverable in a short-lived submitter
 *	whose message is still safe with its caller: the x*() allocators
 *	print one line and abort.  Everything else returns a status.
 */
#ifndef PLUME_UTIL_H
#define PLUME_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) PRINTF_LIKE(1, 2);

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...) PRINTF_LIKE(2, 3);
char	*buf_detach(struct buf *);	/* caller frees; buffer emptied */

bool	 str_ieq(const char *, const char *);
bool	 str_has_ctl_crlf(const char *);	/* CR, LF present */
void	 secure_wipe(void *, size_t);
int64_t	 monotonic_ms(void);	/* CLOCK_MONOTONIC, milliseconds */
int	 write_full(int, const void *, size_t);	/* EINTR, short writes */

#endif
