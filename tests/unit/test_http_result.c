/*
 * test_http_result.c - what each provider's HTTP answer means
 *
 * The answers are the providers' documented shapes (the same the test
 * server tests/integration/httpapi.py sends); each must give the
 * status, code, enhanced code, words and next attempt the table in
 * plugins/http/http_result.c promises.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define NOW	((time_t)1700000000)

static struct http_resp r;
static struct http_outcome o;

static void
answer(enum http_provider p, long status, const char *body)
{
	http_resp_reset(&r);
	r.status = status;
	if (body != NULL) {
		r.body = strdup(body);
		r.len = strlen(body);
	}
	http_result(p, &r, NOW, &o);
}

/* The same answer again after a header was set. */
static void
again(enum http_provider p)
{
	http_result(p, &r, NOW, &o);
}

static void
check(int status, int code, const char *enh)
{
	assert_int_equal(o.status, status);
	assert_int_equal(o.code, code);
	assert_string_equal(o.enhanced, enh);
}

static void
test_accepted(void **state)
{
	answer(HTTP_MAILGUN, 200, "{\"id\":\"<20261126.1@mg.example.org>\","
	    "\"message\":\"Queued. Thank you.\"}");
	check(0, 250, "2.0.0");
	assert_string_equal(o.remote_id, "<20261126.1@mg.example.org>");
	assert_non_null(strstr(o.text, "mailgun accepted it (HTTP 200): id "
	    "<20261126.1@mg.example.org>"));

	answer(HTTP_SES, 200, "{\"MessageId\":\"0100018c-abc\"}");
	check(0, 250, "2.0.0");
	assert_string_equal(o.remote_id, "0100018c-abc");

	answer(HTTP_SPARKPOST, 200, "{\"results\":{\"total_rejected_"
	    "recipients\":0,\"total_accepted_recipients\":1,\"id\":"
	    "\"11668787484950529\"}}");
	assert_string_equal(o.remote_id, "11668787484950529");

	/* SendGrid: 202, no body, the id in a header */
	answer(HTTP_SENDGRID, 202, NULL);
	snprintf(r.message_id, sizeof(r.message_id), "%s", "W0Xr-sg-id");
	again(HTTP_SENDGRID);
	check(0, 250, "2.0.0");
	assert_string_equal(o.remote_id, "W0Xr-sg-id");

	answer(HTTP_POSTMARK, 200, "{\"To\":\"a@example.org\",\"SubmittedAt\":"
	    "\"2026-11-26T13:00:00Z\",\"MessageID\":\"b7bc2f4a-e38e\","
	    "\"ErrorCode\":0,\"Message\":\"OK\"}");
	assert_string_equal(o.remote_id, "b7bc2f4a-e38e");

	/* no id at all: still delivered, the request id stands in */
	answer(HTTP_WEBHOOK, 204, NULL);
	check(0, 250, "2.0.0");
	assert_string_equal(o.remote_id, "");
	snprintf(r.request_id, sizeof(r.request_id), "%s", "req-7");
	again(HTTP_WEBHOOK);
	assert_string_equal(o.remote_id, "req-7");
}

static void
test_credentials(void **state)
{
	answer(HTTP_MAILGUN, 401, "Forbidden");
	check(2, 535, "5.7.8");
	assert_true(o.auth);
	assert_non_null(strstr(o.text, "mailgun: HTTP 401: the API key or "
	    "credentials were refused: Forbidden"));

	answer(HTTP_SES, 403, "{\"message\":\"The request signature we "
	    "calculated does not match the signature you provided.\"}");
	snprintf(r.error_type, sizeof(r.error_type), "%s",
	    "SignatureDoesNotMatch");
	snprintf(r.request_id, sizeof(r.request_id), "%s", "f3e1-aa");
	again(HTTP_SES);
	check(2, 535, "5.7.8");
	assert_non_null(strstr(o.text, "SignatureDoesNotMatch: The request "
	    "signature we calculated does not match"));
	assert_non_null(strstr(o.text, "[request f3e1-aa]"));

	/* Postmark says so with 422 and ErrorCode 10 */
	answer(HTTP_POSTMARK, 422, "{\"ErrorCode\":10,\"Message\":\"The "
	    "Server Token you provided in the X-Postmark-Server-Token request "
	    "header was invalid.\"}");
	check(2, 535, "5.7.8");
	assert_true(o.auth);
	assert_non_null(strstr(o.text, "(ErrorCode 10)"));
}

static void
test_refused(void **state)
{
	answer(HTTP_MAILGUN, 413, "{\"message\":\"request entity too "
	    "large\"}");
	check(2, 552, "5.3.4");
	assert_non_null(strstr(o.text, "too large"));

	answer(HTTP_SENDGRID, 400, "{\"errors\":[{\"message\":\"The from "
	    "email does not contain a valid address.\",\"field\":\"from."
	    "email\",\"help\":\"http://sendgrid.com/docs\"},{\"message\":"
	    "\"second\"}]}");
	check(2, 554, "5.6.0");
	assert_non_null(strstr(o.text, "The from email does not contain a "
	    "valid address.; second"));
	assert_false(o.auth);

	answer(HTTP_SPARKPOST, 422, "{\"errors\":[{\"message\":\"Message "
	    "generation rejected\",\"description\":\"recipient address "
	    "suppressed\",\"code\":\"1902\"}]}");
	check(2, 554, "5.6.0");
	assert_non_null(strstr(o.text, "Message generation rejected: "
	    "recipient address suppressed"));

	answer(HTTP_POSTMARK, 422, "{\"ErrorCode\":406,\"Message\":\"You "
	    "tried to send to recipient(s) that have been marked as "
	    "inactive.\"}");
	check(2, 550, "5.1.1");

	answer(HTTP_SES, 400, "{\"message\":\"Email address is not "
	    "verified.\"}");
	snprintf(r.error_type, sizeof(r.error_type), "%s", "MessageRejected:"
	    "http://internal.amazon.com/coral/com.amazonaws.sesv2/");
	again(HTTP_SES);
	check(2, 554, "5.7.1");

	/* account conditions the admin fixes: kept */
	snprintf(r.error_type, sizeof(r.error_type), "%s",
	    "SendingPausedException");
	again(HTTP_SES);
	check(1, 451, "4.7.0");
	answer(HTTP_POSTMARK, 422, "{\"ErrorCode\":412,\"Message\":\"Your "
	    "account is pending approval.\"}");
	check(1, 451, "4.7.0");
}

static void
test_temporary(void **state)
{
	answer(HTTP_SENDGRID, 429, "{\"errors\":[{\"message\":\"too many "
	    "requests\"}]}");
	check(1, 451, "4.7.0");
	assert_int_equal(o.retry_after, 0);
	snprintf(r.retry_after, sizeof(r.retry_after), "%s", "30");
	again(HTTP_SENDGRID);
	assert_int_equal(o.retry_after, NOW + 30);
	/* SendGrid's reset time when there is no Retry-After */
	r.retry_after[0] = '\0';
	snprintf(r.ratelimit_reset, sizeof(r.ratelimit_reset), "%lld",
	    (long long)NOW + 90);
	again(HTTP_SENDGRID);
	assert_int_equal(o.retry_after, NOW + 90);
	/* an HTTP date */
	r.ratelimit_reset[0] = '\0';
	snprintf(r.retry_after, sizeof(r.retry_after), "%s",
	    "Tue, 14 Nov 2023 22:15:20 GMT");	/* NOW + 120 */
	again(HTTP_SENDGRID);
	assert_int_equal(o.retry_after, NOW + 120);
	snprintf(r.retry_after, sizeof(r.retry_after), "%s", "soon");
	again(HTTP_SENDGRID);
	assert_int_equal(o.retry_after, 0);

	answer(HTTP_SPARKPOST, 420, "{\"errors\":[{\"message\":\"Exceed "
	    "Sending Limit (daily)\",\"code\":\"2102\"}]}");
	check(1, 451, "4.7.0");
	answer(HTTP_MAILGUN, 404, "{\"message\":\"Domain not found: mg."
	    "example.org\"}");
	check(1, 451, "4.3.5");
	assert_non_null(strstr(o.text, "Domain not found"));
	answer(HTTP_SES, 503, "Service Unavailable");
	check(1, 451, "4.3.0");
	answer(HTTP_POSTMARK, 500, "<html>\r\n<b>oops</b>\t</html>");
	check(1, 451, "4.3.0");
	/* control characters never reach the text */
	for (const char *p = o.text; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20);
	answer(HTTP_WEBHOOK, 302, NULL);
	check(1, 451, "4.3.0");
	/* a success answer never carries a next attempt */
	answer(HTTP_MAILGUN, 200, "{}");
	assert_int_equal(o.retry_after, 0);
}

static void
test_no_answer(void **state)
{
	http_resp_reset(&r);
	r.curl_code = 7;
	snprintf(r.curl_error, sizeof(r.curl_error), "%s",
	    "Failed to connect to 127.0.0.1 port 9: Connection refused");
	http_result(HTTP_MAILGUN, &r, NOW, &o);
	check(1, 451, "4.4.1");
	assert_non_null(strstr(o.text, "Connection refused"));
	assert_null(strstr(o.text, "duplicate"));

	r.curl_code = 28;
	r.sent_all = true;
	http_result(HTTP_MAILGUN, &r, NOW, &o);
	check(1, 451, "4.4.2");
	assert_non_null(strstr(o.text, "a duplicate is possible"));
}

static void
test_long_words(void **state)
{
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	answer(HTTP_WEBHOOK, 500, big);
	check(1, 451, "4.3.0");
	assert_true(strlen(o.text) < sizeof(o.text));
	assert_true(strlen(o.text) <= 350);
	answer(HTTP_WEBHOOK, 400, "{\"errors\":[{\"message\":\"1\"},{\""
	    "message\":\"2\"},{\"message\":\"3\"},{\"message\":\"4\"}]}");
	assert_non_null(strstr(o.text, "1; 2; 3; ..."));
	assert_null(strstr(o.text, "; 4"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_temporary),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_long_words),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	http_resp_reset(&r);
	return rc;
}
