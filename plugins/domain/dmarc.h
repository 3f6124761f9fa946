/*
 * NAME
 *	dmarc.h - DMARC (RFC 7489) records, organizational domains and
 *	identifier alignment
 * SYNOPSIS
 *	#include "dmarc.h"
 * DESCRIPTION
 *	See dmarc.c.
 */
#ifndef PLUME_DMARC_H
#define PLUME_DMARC_H

#include <stdbool.h>
#include <stddef.h>

struct dmarc_rec {
	char	 p[16];		/* none | quarantine | reject */
	char	 sp[16];	/* "" when absent */
	char	 adkim, aspf;	/* 'r' or 's' */
	int	 pct;		/* 0..100 */
	bool	 has_rua;
};

bool	 dmarc_is_record(const char *txt);
int	 dmarc_parse(const char *txt, struct dmarc_rec *, char *err,
	    size_t errlen);
const char *dmarc_org_domain(const char *domain);
bool	 dmarc_aligned(const char *a, const char *b, char mode);

#endif /* PLUME_DMARC_H */
