/*
 * NAME
 *	fuzz_spf.c - fuzz the SPF record parser, the macro expander and
 *	the evaluator (plugins/domain)
 * DESCRIPTION
 *	The input is an SPF record; when it parses, it is evaluated for
 *	an IPv4 and an IPv6 client against a DNS that answers every TXT
 *	question at any name with the input itself (so include and
 *	redirect recurse into it), every A and AAAA question with an
 *	address and every MX question with two names: the limits on
 *	lookups and nesting must end every evaluation, whatever the
 *	record.  Each domain-spec of the record is expanded as a macro
 *	string too, and the input is read as a DMARC record.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"
#include "dnsq.h"
#include "spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *record;

static int
dup1(char ***v, const char *a, const char *b)
{
	if ((*v = calloc(3, sizeof(**v))) == NULL)
		abort();
	(*v)[0] = strdup(a);
	(*v)[1] = b != NULL ? strdup(b) : NULL;
	return DNSQ_FOUND;
}

static int
fake_dns(void *ctx, const char *name, int type, char ***v, char *err,
    size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (strlen(name) > 253)
		abort();
	switch (type) {
	case DNSQ_TXT:
		return dup1(v, record, "v=spf1 -all");
	case DNSQ_A:
		return dup1(v, "192.0.2.1", NULL);
	case DNSQ_AAAA:
		return dup1(v, "2001:db8::1", NULL);
	case DNSQ_MX:
		return dup1(v, "mx1.example.org", "mx2.example.org");
	}
	if ((*v = calloc(1, sizeof(**v))) == NULL)
		abort();
	return DNSQ_NXDOMAIN;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_record r;
	struct spf_eval ev;
	struct dmarc_rec dr;
	char err[300], out[300];

	if ((record = malloc(size + 1)) == NULL)
		return 0;
	memcpy(record, data, size);
	record[size] = '\0';
	if (spf_parse(record, &r, err, sizeof(err)) == 0) {
		if (r.redirect != NULL)
			(void)spf_expand(r.redirect, "a.b@example.org",
			    "example.org", "2001:db8::2", "helo.example.org",
			    false, out, sizeof(out), err, sizeof(err));
		if (r.exp != NULL)
			(void)spf_expand(r.exp, "user@example.org",
			    "example.org", "192.0.2.7", NULL, true, out,
			    sizeof(out), err, sizeof(err));
		spf_record_free(&r);
		memset(&ev, 0, sizeof(ev));
		ev.lookup = fake_dns;
		(void)spf_check_host(&ev, "192.0.2.1", "example.org",
		    "user@example.org");
		if (ev.lookups > SPF_MAX_LOOKUPS + 1)
			abort();
		(void)spf_check_host(&ev, "2001:db8::1", "example.org",
		    "user@example.org");
	}
	(void)spf_expand(record, "x@example.org", "example.org", "192.0.2.3",
	    NULL, false, out, sizeof(out), err, sizeof(err));
	(void)dmarc_parse(record, &dr, err, sizeof(err));
	(void)dmarc_org_domain(record);
	free(record);
	return 0;
}
