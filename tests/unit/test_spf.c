/*
 * test_spf.c - the domain plugin's SPF evaluator (RFC 7208), its macros
 * and parser, and the DMARC helpers, over a table of DNS answers
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "dmarc.h"
#include "dnsq.h"
#include "spf.h"

/* The zone: "NAME TYPE VALUE"; a name with "SERVFAIL" fails. */
static const char *const *zone;
static unsigned queries;

static int
table_dns(void *ctx, const char *name, int type, char ***v, char *err,
    size_t errlen)
{
	static const char *const tn[] = { [DNSQ_A] = "A", [DNSQ_PTR] = "PTR",
	    [DNSQ_MX] = "MX", [DNSQ_TXT] = "TXT", [DNSQ_AAAA] = "AAAA" };
	size_t n = 0;
	bool exists = false;

	(void)ctx;
	queries++;
	*v = calloc(16, sizeof(**v));
	assert_non_null(*v);
	for (size_t i = 0; zone[i] != NULL; i += 3) {
		if (strcasecmp(zone[i], name) != 0)
			continue;
		exists = true;
		if (strcmp(zone[i + 1], "SERVFAIL") == 0) {
			free(*v);
			*v = NULL;
			snprintf(err, errlen, "SERVFAIL for %s", name);
			return DNSQ_ERROR;
		}
		if (strcmp(zone[i + 1], tn[type]) == 0 && n < 15)
			(*v)[n++] = strdup(zone[i + 2]);
	}
	return n > 0 ? DNSQ_FOUND : exists ? DNSQ_NODATA : DNSQ_NXDOMAIN;
}

static enum spf_result
eval(const char *const *z, const char *ip, const char *domain,
    struct spf_eval *ev)
{
	zone = z;
	queries = 0;
	memset(ev, 0, sizeof(*ev));
	ev->lookup = table_dns;
	return spf_check_host(ev, ip, domain, "user@example.org");
}

static void
test_mechanisms(void **state)
{
	static const char *const z[] = {
		"example.org", "TXT", "v=spf1 ip4:192.0.2.0/24 "
		    "ip6:2001:db8::/32 a:web.example.org/28 mx "
		    "include:_spf.provider.test exists:%{i}.ok.example.org "
		    "~all",
		"example.org", "TXT", "google-site-verification=xyz",
		"example.org", "MX", "mx.example.org",
		"mx.example.org", "A", "198.51.100.7",
		"web.example.org", "A", "203.0.113.16",
		"_spf.provider.test", "TXT", "v=spf1 ip4:100.64.0.1 -all",
		"100.64.9.9.ok.example.org", "A", "127.0.0.2",
		NULL };
	struct spf_eval ev;

	(void)state;
	assert_int_equal(eval(z, "192.0.2.200", "example.org", &ev), SPF_PASS);
	assert_string_equal(ev.why, "ip4:192.0.2.0/24 matched in the SPF "
	    "record of example.org");
	assert_int_equal(ev.lookups, 0);
	assert_int_equal(eval(z, "2001:db8:1::5", "example.org", &ev),
	    SPF_PASS);
	assert_int_equal(eval(z, "203.0.113.30", "example.org", &ev),
	    SPF_PASS);
	assert_string_equal(ev.why, "a:web.example.org/28 matched in the SPF "
	    "record of example.org");
	assert_int_equal(eval(z, "203.0.113.32", "example.org", &ev),
	    SPF_SOFTFAIL);
	assert_int_equal(eval(z, "198.51.100.7", "example.org", &ev),
	    SPF_PASS);
	assert_string_equal(ev.why, "mx matched in the SPF record of "
	    "example.org");
	assert_int_equal(eval(z, "100.64.0.1", "example.org", &ev), SPF_PASS);
	assert_string_equal(ev.why, "include:_spf.provider.test matched in "
	    "the SPF record of example.org");
	assert_int_equal(ev.lookups, 3);
	/* the included record's -all is no match: evaluation goes on */
	assert_int_equal(eval(z, "100.64.9.9", "example.org", &ev), SPF_PASS);
	assert_string_equal(ev.why, "exists:%{i}.ok.example.org matched in "
	    "the SPF record of example.org");
	assert_int_equal(eval(z, "192.0.2.1", "nowhere.example", &ev),
	    SPF_NONE);
	assert_int_equal(eval(z, "192.0.2.1", "localhost", &ev), SPF_NONE);
}

static void
test_qualifiers(void **state)
{
	static const char *const z[] = {
		"f.test", "TXT", "v=spf1 -ip4:192.0.2.1 ?ip4:192.0.2.2 "
		    "+ip4:192.0.2.3 ~ip4:192.0.2.4 -all",
		"n.test", "TXT", "v=spf1 ip4:192.0.2.9",
		"r.test", "TXT", "v=spf1 ip4:10.0.0.1 redirect=f.test",
		"rn.test", "TXT", "v=spf1 redirect=nospf.test",
		"nospf.test", "TXT", "hello",
		NULL };
	struct spf_eval ev;

	(void)state;
	assert_int_equal(eval(z, "192.0.2.1", "f.test", &ev), SPF_FAIL);
	assert_int_equal(eval(z, "192.0.2.2", "f.test", &ev), SPF_NEUTRAL);
	assert_int_equal(eval(z, "192.0.2.3", "f.test", &ev), SPF_PASS);
	assert_int_equal(eval(z, "192.0.2.4", "f.test", &ev), SPF_SOFTFAIL);
	assert_int_equal(eval(z, "192.0.2.5", "f.test", &ev), SPF_FAIL);
	assert_string_equal(ev.why, "-all matched in the SPF record of "
	    "f.test");
	assert_int_equal(eval(z, "192.0.2.5", "n.test", &ev), SPF_NEUTRAL);
	assert_int_equal(eval(z, "10.0.0.1", "r.test", &ev), SPF_PASS);
	assert_int_equal(eval(z, "192.0.2.1", "r.test", &ev), SPF_FAIL);
	assert_string_equal(ev.domain, "f.test");
	assert_int_equal(eval(z, "192.0.2.1", "rn.test", &ev),
	    SPF_PERMERROR);
	assert_int_equal(ev.problem, SPF_PROB_TARGET);
	assert_int_equal(eval(z, "192.0.2.1", "nospf.test", &ev), SPF_NONE);
	/* v4-mapped IPv6 is taken as IPv4 */
	assert_int_equal(eval(z, "::ffff:192.0.2.3", "f.test", &ev), SPF_PASS);
}

static void
test_errors(void **state)
{
	static const char *const z[] = {
		"two.test", "TXT", "v=spf1 -all",
		"two.test", "TXT", "v=spf1 +all",
		"bad.test", "TXT", "v=spf1 ip4:192.0.2.300 -all",
		"many.test", "TXT", "v=spf1 include:i1.test include:i2.test "
		    "include:i3.test include:i4.test include:i5.test "
		    "include:i6.test a:i7.test a:i8.test a:i9.test a:i10.test "
		    "a:i11.test -all",
		"i1.test", "TXT", "v=spf1 -all", "i2.test", "TXT", "v=spf1 -all",
		"i3.test", "TXT", "v=spf1 -all", "i4.test", "TXT", "v=spf1 -all",
		"i5.test", "TXT", "v=spf1 -all", "i6.test", "TXT", "v=spf1 -all",
		"i7.test", "A", "10.1.1.1", "i8.test", "A", "10.1.1.1",
		"i9.test", "A", "10.1.1.1", "i10.test", "A", "10.1.1.1",
		"i11.test", "A", "10.1.1.1",
		"void.test", "TXT", "v=spf1 a:v1.test a:v2.test a:v3.test -all",
		"tmp.test", "TXT", "v=spf1 a:broken.test -all",
		"broken.test", "SERVFAIL", "",
		"loop.test", "TXT", "v=spf1 include:loop.test -all",
		"dns.test", "SERVFAIL", "",
		NULL };
	struct spf_eval ev;

	(void)state;
	assert_int_equal(eval(z, "192.0.2.1", "two.test", &ev),
	    SPF_PERMERROR);
	assert_int_equal(ev.problem, SPF_PROB_MULTIPLE);
	assert_string_equal(ev.why, "two.test publishes 2 v=spf1 records: "
	    "there must be exactly one");
	assert_int_equal(eval(z, "192.0.2.1", "bad.test", &ev),
	    SPF_PERMERROR);
	assert_int_equal(ev.problem, SPF_PROB_SYNTAX);
	assert_int_equal(eval(z, "192.0.2.1", "many.test", &ev),
	    SPF_PERMERROR);
	assert_int_equal(ev.problem, SPF_PROB_LOOKUPS);
	assert_string_equal(ev.why, "more than 10 DNS lookups (include, a, "
	    "mx, ptr, exists, redirect): a:i11.test is the 11th");
	assert_int_equal(eval(z, "192.0.2.1", "void.test", &ev),
	    SPF_PERMERROR);
	assert_int_equal(ev.problem, SPF_PROB_VOID);
	assert_int_equal(ev.voids, 3);
	assert_int_equal(eval(z, "192.0.2.1", "tmp.test", &ev),
	    SPF_TEMPERROR);
	assert_int_equal(eval(z, "192.0.2.1", "dns.test", &ev),
	    SPF_TEMPERROR);
	assert_int_equal(eval(z, "192.0.2.1", "loop.test", &ev),
	    SPF_PERMERROR);
	assert_true(queries < 30);
}

static void
test_parse(void **state)
{
	static const char *const good[] = {
		"v=spf1", "V=SPF1 -ALL", "v=spf1  a  mx  ",
		"v=spf1 a/24 mx//64 a:x.example.org/24//64 ptr ptr:x.test",
		"v=spf1 ip6:::1 ip6:2001:db8::/0 ip4:0.0.0.0/0",
		"v=spf1 foo=bar exp=explain.%{d} redirect=%{d}.x.test",
		"v=spf1 exists:%{ir}.%{v}._spf.%{d2} include:%{o}.test",
		"v=spf1 a:%%.%_.%-.test", NULL };
	static const char *const bad[] = {
		"v=spf10", "spf1", "v=spf1 foo", "v=spf1 ip4:1.2.3.4/33",
		"v=spf1 ip4:1.2.3", "v=spf1 ip6:1.2.3.4", "v=spf1 a/024",
		"v=spf1 include", "v=spf1 include:", "v=spf1 include:com",
		"v=spf1 all:x", "v=spf1 redirect=a.test redirect=b.test",
		"v=spf1 exists:%{c}.test", "v=spf1 a:%{x}.test",
		"v=spf1 a:%{d0}.test", "v=spf1 a:%{d.test", "v=spf1 a:%d.test",
		"v=spf1 include:x.123", "v=spf1 mx:", "v=spf1 a//129",
		"v=spf1 *all", NULL };
	struct spf_record r;
	char err[300];

	(void)state;
	for (size_t i = 0; good[i] != NULL; i++) {
		if (spf_parse(good[i], &r, err, sizeof(err)) != 0)
			fail_msg("%s: %s", good[i], err);
		spf_record_free(&r);
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		if (spf_parse(bad[i], &r, err, sizeof(err)) != -1)
			fail_msg("%s parsed", bad[i]);
	assert_int_equal(spf_parse("v=spf1 -all foo", &r, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "unknown mechanism foo");
}

static void
test_macros(void **state)
{
	char out[300], err[300];
	const char *s = "strong-bad@email.example.com";

	(void)state;
	/* the examples of RFC 7208 7.4 */
#define X(ms, ip, want) do {						\
	assert_int_equal(spf_expand(ms, s, "email.example.com", ip,	\
	    "mx.example.org", false, out, sizeof(out), err,		\
	    sizeof(err)), 0);						\
	assert_string_equal(out, want);					\
} while (0)
	X("%{s}", "192.0.2.3", "strong-bad@email.example.com");
	X("%{o}", "192.0.2.3", "email.example.com");
	X("%{d}", "192.0.2.3", "email.example.com");
	X("%{d4}", "192.0.2.3", "email.example.com");
	X("%{d3}", "192.0.2.3", "email.example.com");
	X("%{d2}", "192.0.2.3", "example.com");
	X("%{d1}", "192.0.2.3", "com");
	X("%{dr}", "192.0.2.3", "com.example.email");
	X("%{d2r}", "192.0.2.3", "example.email");
	X("%{l}", "192.0.2.3", "strong-bad");
	X("%{l-}", "192.0.2.3", "strong.bad");
	X("%{lr}", "192.0.2.3", "strong-bad");
	X("%{lr-}", "192.0.2.3", "bad.strong");
	X("%{l1r-}", "192.0.2.3", "strong");
	X("%{ir}.%{v}._spf.%{d2}", "192.0.2.3",
	    "3.2.0.192.in-addr._spf.example.com");
	X("%{lr-}.lp._spf.%{d2}", "192.0.2.3", "bad.strong.lp._spf.example.com");
	X("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "192.0.2.3",
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	X("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "192.0.2.3",
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	X("%{d2}.trusted-domains.example.net", "192.0.2.3",
	    "example.com.trusted-domains.example.net");
	X("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01",
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".ip6._spf.example.com");
	X("%{h}.%{p}", "192.0.2.3", "mx.example.org.unknown");
	X("%%%_%-", "192.0.2.3", "% %20");
	X("%{L}", "192.0.2.3", "strong-bad");
#undef X
	assert_int_equal(spf_expand("%{S}", "a b@x.test", "x.test", "1.2.3.4",
	    NULL, false, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "a%20b%40x.test");
	assert_int_equal(spf_expand("%{c}", s, "x.test", "1.2.3.4", NULL,
	    false, out, sizeof(out), err, sizeof(err)), -1);
	assert_string_equal(err, "the macro %{c} is allowed in exp= only");
	assert_int_equal(spf_expand("%{c}", s, "x.test", "1.2.3.4", NULL,
	    true, out, sizeof(out), err, sizeof(err)), 0);
	/* a sender without a local-part is postmaster (4.3) */
	assert_int_equal(spf_expand("%{l}", "example.org", "x.test",
	    "1.2.3.4", NULL, false, out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "postmaster");
}

static void
test_dmarc(void **state)
{
	struct dmarc_rec r;
	char err[300];

	(void)state;
	assert_int_equal(dmarc_parse("v=DMARC1; p=reject; adkim=s; "
	    "rua=mailto:a@b.test", &r, err, sizeof(err)), 0);
	assert_string_equal(r.p, "reject");
	assert_true(r.adkim == 's' && r.aspf == 'r' && r.has_rua &&
	    r.pct == 100);
	assert_int_equal(dmarc_parse("v=DMARC1;p=quarantine;sp=none;pct=20;"
	    "aspf=s", &r, err, sizeof(err)), 0);
	assert_true(strcmp(r.sp, "none") == 0 && r.aspf == 's' &&
	    r.pct == 20);
	assert_int_equal(dmarc_parse("v=DMARC1; p=bounce", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(dmarc_parse("v=DMARC1; rua=mailto:x@y.test", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(dmarc_parse("p=reject; v=DMARC1", &r, err,
	    sizeof(err)), -1);
	assert_false(dmarc_is_record("v=spf1 -all"));
	assert_string_equal(dmarc_org_domain("mail.example.org"),
	    "example.org");
	assert_string_equal(dmarc_org_domain("example.org"), "example.org");
	assert_string_equal(dmarc_org_domain("a.b.example.co.uk"),
	    "example.co.uk");
	assert_string_equal(dmarc_org_domain("example.co.uk"),
	    "example.co.uk");
	assert_string_equal(dmarc_org_domain("x.example.de"), "example.de");
	assert_true(dmarc_aligned("mail.example.org", "example.org", 'r'));
	assert_false(dmarc_aligned("mail.example.org", "example.org", 's'));
	assert_true(dmarc_aligned("Example.ORG.", "example.org", 's'));
	assert_false(dmarc_aligned("example.net", "example.org", 'r'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanisms),
		cmocka_unit_test(test_qualifiers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_dmarc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
