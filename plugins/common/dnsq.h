/*
 * NAME
 *	dnsq.h - DNS queries through c-ares, one at a time
 * SYNOPSIS
 *	#include "dnsq.h"
 * DESCRIPTION
 *	See dnsq.c.
 */
#ifndef PLUME_DNSQ_H
#define PLUME_DNSQ_H

#include <stddef.h>

/* Record types asked for (the RFC 1035 numbers). */
#define DNSQ_A		1
#define DNSQ_PTR	12
#define DNSQ_MX		15
#define DNSQ_TXT	16
#define DNSQ_AAAA	28

/* What a lookup found. */
#define DNSQ_ERROR	(-1)	/* no answer: timeout, SERVFAIL, ... */
#define DNSQ_FOUND	0	/* one record or more */
#define DNSQ_NODATA	1	/* the name exists, no record of the type */
#define DNSQ_NXDOMAIN	2	/* the name does not exist */

struct dnsq;

struct dnsq *dnsq_open(const char *server, char *err, size_t errlen);
int	 dnsq_lookup(struct dnsq *, const char *name, int type,
	    char ***vals_r, char *err, size_t errlen);
void	 dnsq_close(struct dnsq *);
void	 dnsq_strv_free(char **);

#endif /* PLUME_DNSQ_H */
