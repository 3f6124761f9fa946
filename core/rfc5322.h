/*
 * NAME
 *	rfc5322.h - header-field and address-list parsing (RFC 5322),
 *	envelope address checks (RFC 5321, RFC 6531)
 * SYNOPSIS
 *	#include "rfc5322.h"
 *
 *	struct addrlist l = { 0 };
 *	const char *why;
 *
 *	if (rfc5322_parse_addrlist(body, len, &l, &why) == -1)
 *		log_warnx("To: %s", why);
 *	...
 *	addrlist_free(&l);
 * DESCRIPTION
 *	"sendmail -t" takes its recipients from the To, Cc and Bcc fields
 *	of a message that may have been written by anything from a PHP
 *	script to cron, so the parser accepts the obsolete syntax of
 *	RFC 5322 section 4 and RFC 6532 UTF-8, and keeps every address it
 *	could parse even when some other part of the field is garbage.
 *	What it hands back is meant for an SMTP envelope: comments and
 *	folding are gone, the local part is kept as written.
 *
 *	Envelope addresses from the command line or from a parsed header
 *	go through rfc5321_valid_mailbox() before they reach a transport,
 *	which is what keeps CR, LF and option-like arguments out of an
 *	SMTP dialogue or a command line.
 * DIAGNOSTICS
 *	rfc5322_parse_addrlist() returns -1 and sets *error_r to a static
 *	one-line reason when some part of the field could not be parsed.
 */
#ifndef PLUME_RFC5322_H
#define PLUME_RFC5322_H

#include <stdbool.h>
#include <stddef.h>

struct addr {
	/*
	 * Display name as written: quotes removed, \-escapes resolved,
	 * whitespace runs collapsed; NULL when there is none.
	 */
	char	*display;
	/*
	 * "local@domain", or "local" when unqualified.  The local part is
	 * kept exactly as written (a quoted local part keeps its quotes);
	 * comments, CFWS and an obsolete route are dropped.  Never holds
	 * CR, LF or NUL.
	 */
	char	*spec;
	size_t	 local_len;	/* length of the local part in spec */
	bool	 qualified;	/* spec contains a domain */
};

/*
 * A list of addresses.  The caller zero-initialises it; only
 * rfc5322_parse_addrlist() appends to it (the array grows in powers of
 * two, so n alone says how much is allocated).
 */
struct addrlist {
	struct addr	*v;
	size_t		 n;
};

/*
 * Parse an address-list field body (what follows "To:"), folded or not.
 * Groups are flattened into the list.  Returns 0, or -1 with *error_r
 * set when some part could not be parsed; out then still holds every
 * address that did parse.  Never reads past len.
 */
int	 rfc5322_parse_addrlist(const char *value, size_t len,
	    struct addrlist *out, const char **error_r);
void	 addrlist_free(struct addrlist *);

/*
 * If line[0..len) starts a header field, the offset of its colon: the
 * length of the field name, or, for the obsolete "Name  :" form, of the
 * name and the blanks after it.  0 when it is not a header field.
 */
size_t	 rfc5322_field_name_len(const char *line, size_t len);

/*
 * A fresh NUL-terminated copy of a field body with every CRLF or bare LF
 * that is directly followed by SP or HTAB deleted (the blank is kept).
 */
char	*rfc5322_unfold(const char *value, size_t len);

/*
 * Whether s may be used as an SMTP envelope address: an RFC 5321
 * Mailbox, UTF-8 allowed (RFC 6531), a lone local part only when
 * allow_unqualified.
 */
bool	 rfc5321_valid_mailbox(const char *s, bool allow_unqualified);

/* Whether s needs SMTPUTF8: it holds a byte >= 0x80. */
bool	 rfc5321_needs_utf8(const char *s);

#endif
