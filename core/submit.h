/*
 * NAME
 *	submit.h - turn what the caller gave into a complete envelope and
 *	header: -t recipients, Bcc removal, missing From/Date/Message-ID,
 *	the Received trace field
 */
#ifndef PLUME_SUBMIT_H
#define PLUME_SUBMIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "aliases.h"
#include "message.h"

struct submit_opts {
	bool	 extract;	/* -t */
	const char *sender;	/* -f/-r as given, or NULL */
	const char *fullname;	/* -F, or NULL */
	char	*const *rcpts;	/* command-line recipients */
	size_t	 nrcpts;
	const char *hostname;
	const char *domain;
	uid_t	 uid;
	const char *user;	/* login name of uid */
	const char *gecos;	/* full name from passwd, or NULL */
	time_t	 now;
	/* local recipients (unqualified, or in local_domains) go through
	   the aliases; default_recipient takes what no alias names */
	const struct aliases *aliases;
	char	*const *local_domains;
	const char *default_recipient;
	/* for relays that accept one sender: the caller's -f honoured
	   'a'lways, only when 'm'atching allowed_senders, or 'n'ever (then
	   sender_address, or the user at domain); the From field kept
	   ('k'), rewritten to the sender 'a'lways, or only when it is
	   'u'nqualified */
	char	 envelope_from;
	char	*const *allowed_senders;
	const char *sender_address;
	char	 from_rewrite;
};

enum submit_status {
	SUBMIT_OK = 0,
	SUBMIT_NO_RCPT,		/* no recipients at all */
	SUBMIT_BAD_ADDR,	/* a command-line address is unusable */
};

/* Checks an address from the command line: no CR, LF, leading '-'. */
bool	 submit_arg_ok(const char *);
char	*submit_qualify(const char *addr, const char *domain);
enum submit_status submit_prepare(struct plume_msg *,
	    const struct submit_opts *, char *err, size_t errlen);

#endif
