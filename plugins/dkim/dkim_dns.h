/*
 * NAME
 *	dkim_dns.h - DKIM key records: DNS lookup and comparison
 * SYNOPSIS
 *	#include "dkim_dns.h"
 * DESCRIPTION
 *	See dkim_dns.c.
 */
#ifndef DKIM_DNS_H
#define DKIM_DNS_H

#include <stddef.h>

#include "dkim_key.h"

enum dkim_rec {
	DKIM_REC_OK = 0,	/* the record publishes this key */
	DKIM_REC_TEST,		/* it does, with t=y (testing) */
	DKIM_REC_MISMATCH,	/* another key, or another key type */
	DKIM_REC_REVOKED,	/* p= is empty */
	DKIM_REC_INVALID,	/* not a DKIM key record */
	DKIM_REC_MISSING,	/* no TXT record at the name */
	DKIM_REC_ERROR,		/* the lookup failed */
};

int	 dkim_dns_txt(const char *, const char *, char ***, char *, size_t);
enum dkim_rec dkim_record_check(const struct dkim_key *, const char *,
	    char *, size_t);
enum dkim_rec dkim_key_check(const struct dkim_key *, const char *,
	    const char *, char *, size_t);

#endif /* DKIM_DNS_H */
