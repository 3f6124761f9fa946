/*
 * NAME
 *	routecmd.h - "plume route" and "sendmail -bv": the way out a
 *	message would take
 */
#ifndef PLUME_ROUTECMD_H
#define PLUME_ROUTECMD_H

#include <stdbool.h>

struct buf;
struct runtime;

/* Appends to out, one indented line each, the route rcpt takes for a
   message from sender (envelope) with From address from (either may be
   NULL), its failover chain and what each filter and policy on that
   route would do.  false when rcpt has no route. */
bool	 route_explain(struct runtime *, const char *sender, const char *from,
	    const char *rcpt, struct buf *out);
/* Whether a (qualified) address may be asked about: a mailbox, not an
   option, no CR or LF. */
bool	 route_addr_ok(const char *);
/* "plume route" with its own arguments; returns the exit code. */
int	 route_main(const char *cfg, bool explicit_cfg, int argc, char **argv);

#endif
