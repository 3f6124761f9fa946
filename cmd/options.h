/*
 * NAME
 *	options.h - sendmail command-line options
 */
#ifndef PLUME_OPTIONS_H
#define PLUME_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

enum sm_mode {
	SM_MODE_DELIVER = 0,	/* -bm, the default */
	SM_MODE_PRINTQ,		/* -bp, mailq */
	SM_MODE_SMTP,		/* -bs */
	SM_MODE_VERIFY,		/* -bv */
	SM_MODE_ALIASES,	/* -bi, -I, newaliases */
	SM_MODE_QUEUE_RUN,	/* -q */
};

struct sm_opts {
	enum sm_mode mode;
	bool	 extract;	/* -t */
	bool	 ignore_dots;	/* -i, -oi */
	int	 verbose;	/* -v (repeatable) */
	const char *sender;	/* -f, -r */
	const char *fullname;	/* -F */
	const char *config;	/* -C */
	const char *log_tag;	/* -L */
	const char *body_type;	/* -B: "7BIT" or "8BITMIME" */
	const char *notify;	/* -N */
	const char *ret;	/* -R: "FULL" or "HDRS" */
	const char *envid;	/* -V */
	char	 delivery;	/* -od?: 'i', 'b', 'q', or 0 */
	char	 errmode;	/* -oe?: 'm', 'p', 'q', 'w', 'e', or 0 */
	const char *queue_arg;	/* what followed -q */
	bool	 xfile;		/* -X was given (root only) */
	char	*const *rcpts;	/* what is left of argv */
	size_t	 nrcpts;
	const char *ignored[32];	/* options accepted and ignored */
	size_t	 nignored;
};

/* Parses argv[1..argc) in sendmail's syntax.  Returns 0, or -1 with a
   one-line reason in err (the caller exits 64). */
int	sm_parse(int argc, char **argv, bool is_root, struct sm_opts *,
	    char *err, size_t errlen);

#endif
