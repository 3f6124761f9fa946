/*
 * NAME
 *	spf.h - SPF (RFC 7208): record parser and check_host() evaluator
 * SYNOPSIS
 *	#include "spf.h"
 * DESCRIPTION
 *	See spf.c.
 */
#ifndef PLUME_SPF_H
#define PLUME_SPF_H

#include <stdbool.h>
#include <stddef.h>

enum spf_result {
	SPF_NONE = 0,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* What made a permerror, for the remedy. */
enum spf_problem {
	SPF_PROB_NONE = 0,
	SPF_PROB_SYNTAX,	/* a record does not parse */
	SPF_PROB_MULTIPLE,	/* more than one v=spf1 record */
	SPF_PROB_LOOKUPS,	/* more than 10 DNS-querying terms */
	SPF_PROB_VOID,		/* more than 2 void lookups */
	SPF_PROB_MX,		/* an MX set of more than 10 names */
	SPF_PROB_TARGET,	/* include/redirect target without SPF */
};

#define SPF_MAX_LOOKUPS		10	/* RFC 7208 4.6.4 */
#define SPF_MAX_VOID		2
#define SPF_MAX_MX		10

/*
 * DNS for the evaluator: the dnsq.h codes and value forms (TXT joined,
 * MX names in preference order, A/AAAA as text), so tests can give a
 * table instead of a server.
 */
typedef int (*spf_lookup_fn)(void *ctx, const char *name, int type,
    char ***vals_r, char *err, size_t errlen);

struct spf_eval {
	spf_lookup_fn lookup;
	void	*ctx;
	const char *helo;	/* %{h}; NULL: the sender's domain */
	/* results */
	unsigned lookups;	/* DNS-querying terms evaluated */
	unsigned voids;		/* lookups that found nothing */
	enum spf_problem problem;
	char	 why[600];	/* what decided the result */
	char	 domain[256];	/* whose record decided it */
};

struct spf_term;
struct spf_record {
	struct spf_term *terms;
	size_t	 nterms;
	char	*redirect;	/* redirect= domain-spec, or NULL */
	char	*exp;		/* exp= domain-spec, or NULL */
};

/* Whether txt is an SPF record at all ("v=spf1" then SP or end). */
bool	 spf_is_record(const char *txt);
int	 spf_parse(const char *txt, struct spf_record *, char *err,
	    size_t errlen);
void	 spf_record_free(struct spf_record *);
/* Expands a macro-string (RFC 7208 7) for sender, domain and ip; a
   domain-spec is cut to 253 octets from the left.  -1 with err on a
   syntax error. */
int	 spf_expand(const char *ms, const char *sender, const char *domain,
	    const char *ip, const char *helo, bool is_exp, char *out,
	    size_t outlen, char *err, size_t errlen);
enum spf_result spf_check_host(struct spf_eval *, const char *ip,
	    const char *domain, const char *sender);
const char *spf_result_name(enum spf_result);

#endif /* PLUME_SPF_H */
