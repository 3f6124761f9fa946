#!/usr/bin/python3
"""httpapi.py - six email-provider HTTP APIs on 127.0.0.1, as strict judges.

    httpapi.py --cert FILE --key FILE --port P --portfile FILE --dir D
        --provider-config JSON_FILE [--exit-with-parent]

A local HTTPS server (HTTP/1.1, keep-alive) for the integration tests of
plume's `http` transport.  It impersonates Mailgun, Amazon SES (API v2),
SparkPost, SendGrid, Postmark and plume's own generic "webhook" target,
checks every request against what the providers' public documentation
says (cited below), answers the way the provider documents, and records
everything for the test to assert on.  It is written apart from the
plugin, from the documentation alone: where the two disagree, read the
documentation again before changing this file.

Listens on 127.0.0.1:P (P = 0: a free port), writes the port to the
portfile (atomically) once it listens, serves any number of connections
concurrently until killed (or, with --exit-with-parent, until the process
that started it is gone).  Standard library only (Debian 12: python3.11).

The provider configuration (JSON): one object, a key per provider served;
each provider owns its documented paths, so one server can play several.

    {"mailgun":   {"domain": "mg.example.org", "key": "MGKEY"},
     "ses":       {"access_key": "AKIDEXAMPLE", "secret_key": "SECRET",
                   "region": "us-east-1", "session_token": "TOKEN",
                   "max_skew": 900},
     "sparkpost": {"key": "SPKEY"},
     "sendgrid":  {"key": "SG.KEY"},
     "postmark":  {"token": "PMTOKEN", "inactive": ["gone@example.org"]},
     "webhook":   {"path": "/plume/submit", "token": "T", "basic": "u:p",
                   "secret": "HMACSECRET", "max_age": 300, "status": 202}}

session_token, max_skew (seconds, default 900), inactive, token, basic,
secret, max_age (default 300) and status (200 or 202, default 200) are
optional.  A request to a path no provider owns is answered 404 (in the
provider's shape when the server plays one provider only).

Files in D, one set per request, numbered from 0001 in arrival order:
  NNNN.body   the raw request body, as received (chunked coding undone)
  NNNN.eml    raw-message providers only, when the message could be
              extracted: the exact message bytes (Mailgun's `message` part,
              SES's decoded Content.Raw.Data, SparkPost's
              content.email_rfc822 as UTF-8, the webhook body): `cmp` it
              with what was submitted
  NNNN.json   written last (atomically: wait for it, then read the rest):
              {"n", "time", "method", "path", "query", "version",
               "headers": [[name, value], ...] (in order, repeats kept),
               "provider" (or null), "connection" (serial, from 1),
               "peer": [address, port], "request_on_connection" (from 1),
               "chunked", "body_length",
               "verdict": "accepted" | "rejected" | "scripted" | "dropped",
               "violations": ["...", ...]  (empty for a correct request),
               "envelope": {"from": ADDR or null, "to": [ADDR, ...]},
               "script": the script line used or null,
               "status", "response_headers", "response_body"}
  script      scripted answers, written by the test (see below)
  log         one line per request and the server's own complaints

Account endpoints that send nothing (plume doctor checks credentials
with them), GET only, authenticated exactly as sending is:
  Mailgun   GET /v3/domains/{domain}  200 {"domain": {...}}; another
            domain 404 {"message": "Domain not found"}; 401 "Forbidden"
  SES v2    GET /v2/email/account     200 {"SendingEnabled": true, ...};
            SigV4 as for sending (403 on a bad signature or key)
  SparkPost GET /api/v1/account       200 {"results": {...}}; 401
  SendGrid  GET /v3/scopes            200 {"scopes": [...]}; 401
  Postmark  GET /server               200 {"ID": .., "Name": ..}; Accept:
            application/json required; 401 ErrorCode 10
Any other method on them is answered 405.

Every request is judged in full.  A request breaking any rule is answered
with the provider's documented error for that rule, and every broken rule
is a line in "violations".  Rules marked "plume:" below are plume's
contract rather than the provider's (what keeps DKIM signatures and the
envelope intact); they are answered with the provider's validation error
too, so that a test cannot miss them.

Scripted answers: D/script is read at each request; its first line is
consumed (the file rewritten without it) and decides the answer; no file,
or an empty one: the verdict decides.  A line holds words:
  ok                  answer success even if the request broke rules
                      (the violations are still recorded)
  NNN                 answer status NNN with this provider's documented
                      error body for it (e.g. 401 413 422 429 500 503)
  retry-after=N       add Retry-After: N (with NNN; SendGrid also gets its
                      X-RateLimit-Limit/-Remaining/-Reset headers on 429)
  code=NAME           the provider's error code for NNN instead of the
                      default (SES error type, e.g. AccountSuspendedException
                      or MessageRejected; Postmark ErrorCode, e.g. 406;
                      SparkPost code, e.g. 1902)
  drop                read the request, record it, close the connection
                      without a byte of answer
  slow=N              sleep N seconds (a float) before answering
e.g. "429 retry-after=30", "slow=5", "503", "drop", "400 code=MessageRejected".

THE REQUESTS, per provider (all POST over HTTPS; anything else is 405 or
404 in the provider's shape):

mailgun   POST /v3/{domain}/messages.mime   (domain: the configured one,
          else 404 {"message": "Domain not found: ..."})
          Authorization: Basic base64("api:" KEY), else 401 "Forbidden".
          Content-Type: multipart/form-data; boundary=... with one or more
          `to` fields (each may list addresses separated by commas) and
          exactly one `message` part sent as a file upload (a filename in
          its Content-Disposition) holding the raw MIME message; o:, h:,
          v:, t: options at most 16 KB in all.  Errors 400 {"message":..}.
          200 {"id": "<...>", "message": "Queued. Thank you."}
ses       POST /v2/email/outbound-emails, Content-Type: application/json.
          Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/ses/
          aws4_request, SignedHeaders=...;host;...;x-amz-date, Signature=..
          verified here (SigV4, signing name "ses", the configured key,
          secret and region; host and x-amz-date signed; X-Amz-Date within
          max_skew seconds; x-amz-security-token equal to session_token
          when one is configured).  Body {"Content": {"Raw": {"Data":
          BASE64}}, "Destination": {"ToAddresses": [..], "CcAddresses":
          [..], "BccAddresses": [..]}, "FromEmailAddress": ".."} where
          FromEmailAddress is optional; the decoded message must have a
          header, a blank line and a body, and a From: field; at most 50
          recipients.  plume: Content.Raw (not Simple, not Template) and a
          Destination naming the envelope recipients (optional for SES,
          which would then take the header recipients and lose Bcc).
          Errors: JSON {"message": ..} with x-amzn-ErrorType: CODE and
          x-amzn-RequestId; 400 BadRequestException, MessageRejected,
          AccountSuspendedException, SendingPausedException,
          MailFromDomainNotVerifiedException, RequestExpired,
          IncompleteSignature; 403 SignatureDoesNotMatch,
          UnrecognizedClientException, MissingAuthenticationToken;
          404 NotFoundException; 429 TooManyRequestsException;
          500 InternalFailure; 503 ServiceUnavailable.
          200 {"MessageId": ".."}
sparkpost POST /api/v1/transmissions, Content-Type: application/json.
          Authorization: KEY (no scheme) or Basic base64(KEY ":"), else
          401.  Body {"recipients": [{"address": {"email": .., "header_to":
          ..}}, ..], "content": {"email_rfc822": ".."}, "options":
          {"click_tracking": false, "open_tracking": false}, "return_path":
          ".."}; email_rfc822 excludes html, text, amp_html, attachments,
          template_id (1301).  plume: content.email_rfc822 (tracking would
          rewrite the body and break DKIM, so options.click_tracking and
          options.open_tracking must be JSON false).  Errors {"errors":
          [{"message", "code", "description"}]}, 422 for bad data.
          200 {"results": {"total_rejected_recipients": 0,
               "total_accepted_recipients": N, "id": ".."}}
sendgrid  POST /v3/mail/send, Content-Type: application/json,
          Authorization: Bearer KEY, else 401.  Body: personalizations
          (1 to 1000, each with a non-empty `to` of {"email", "name"?},
          optional cc, bcc, subject, headers; at most 1000 recipients in
          all, no address twice), from {"email"}, subject (unless every
          personalization has one, or template_id), content [{"type",
          "value" non-empty}] with text/plain first and text/html next,
          attachments [{"content" base64, "filename", "type"?,
          "disposition" inline|attachment, "content_id" when inline}],
          headers {name: string} without the reserved x-sg-id, x-sg-eid,
          received, dkim-signature, Content-Type, Content-Transfer-Encoding,
          To, From, Subject, Reply-To, CC, BCC; reply_to {"email"} and
          reply_to_list not both.  Errors 400 {"errors": [{"message",
          "field", "help"}]}.  202, empty body, X-Message-Id header.
postmark  POST /email with Accept: application/json, Content-Type:
          application/json (else 422 ErrorCode 409) and
          X-Postmark-Server-Token (else 401 ErrorCode 10).  Body From, To
          (strings; addresses separated by commas), Cc, Bcc, Subject,
          HtmlBody and/or TextBody (one at least), ReplyTo, Headers
          [{"Name", "Value"}], Attachments [{"Name", "Content" base64,
          "ContentType"}], MessageStream; To + Cc + Bcc at most 50.  Errors
          {"ErrorCode": N, "Message": ..}: 422 with 300 invalid email
          request, 402 invalid JSON, 406 inactive recipient; 401 with 10.
          200 {"To", "SubmittedAt", "MessageID", "ErrorCode": 0,
               "Message": "OK"}
webhook   plume's own generic target, defined here for the plugin author:
          POST to the configured path (default /plume), body = the raw
          message bytes exactly, Content-Type: message/rfc822; the envelope
          in headers: X-Plume-Sender exactly once (the reverse-path, empty
          for the null sender <>) and X-Plume-Recipient once per recipient
          (at least one).  With "token": Authorization: Bearer TOKEN; with
          "basic" ("user:pass"): Authorization: Basic; with "secret":
          X-Plume-Timestamp: <unix seconds> and X-Plume-Signature:
          sha256=<lowercase hex HMAC-SHA256(secret, timestamp "." body)>,
          the timestamp at most max_age (300) seconds from now either way.
          Errors {"error": ..}: 400 envelope, 401 auth/signature/stale,
          404 path, 405 method, 415 content type.
          Success: "status" (200 or 202) {"id": ".."}.

Documentation the rules come from (read 2026):
  Mailgun  https://documentation.mailgun.com/docs/mailgun/api-reference/
           send/mailgun/messages/post-v3--domain-name--messages-mime
           https://documentation.mailgun.com/docs/mailgun/api-reference/
           openapi-final/tag/Messages/
  SES      https://docs.aws.amazon.com/ses/latest/APIReference-V2/
           API_SendEmail.html (Request Syntax, Errors),
           https://docs.aws.amazon.com/ses/latest/dg/send-email-raw.html,
           https://docs.aws.amazon.com/ses/latest/DeveloperGuide/
           api-error-codes.html, the AWS "Common Errors" pages
           (RequestExpired: 15 minutes), AWS SDK service metadata for
           the signing name ("ses", endpoint prefix "email"),
           https://docs.aws.amazon.com/IAM/latest/UserGuide/
           reference_sigv-create-signed-request.html (SigV4)
  SparkPost https://developers.sparkpost.com/api/transmissions/ ,
           https://developers.sparkpost.com/api/ (Authorization: the key,
           or Basic with the key as user),
           https://support.sparkpost.com/docs/tech-resources/
           extended-error-codes
  SendGrid https://www.twilio.com/docs/sendgrid/api-reference/mail-send/
           mail-send , .../mail-send/errors ,
           .../how-to-use-the-sendgrid-v3-api/rate-limits ,
           https://sendgrid.com/docs/glossary/x-message-id/
  Postmark https://postmarkapp.com/developer/api/overview (auth, error
           codes), https://postmarkapp.com/developer/user-guide/
           sending-email/sending-with-api ,
           https://postmarkapp.com/support/article/
           1180-what-does-errorcode-300-mean (50 recipients, a body)
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

SES_SIGNING_NAME = "ses"        # SES API v2 signs as "ses" (prefix "email")
SES_MAX_RECIPIENTS = 50
SENDGRID_MAX_RECIPIENTS = 1000
SENDGRID_MAX_PERSONALIZATIONS = 1000
SENDGRID_RESERVED = {"x-sg-id", "x-sg-eid", "received", "dkim-signature",
                     "content-type", "content-transfer-encoding", "to",
                     "from", "subject", "reply-to", "cc", "bcc"}
POSTMARK_MAX_RECIPIENTS = 50
MAILGUN_OPTIONS_MAX = 16 * 1024
PROVIDERS = ("mailgun", "ses", "sparkpost", "sendgrid", "postmark",
             "webhook")


class Reject(Exception):
    """A rule broken: the answer (status, error code or name, message)."""

    def __init__(self, status, message, code=None, field=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field


class Judge:
    """The request being judged: violations collected, the first one
    decides the answer (a provider stops at its first error too)."""

    def __init__(self):
        self.violations = []
        self.first = None
        self.envelope = {"from": None, "to": []}
        self.eml = None
        self.account = None     # the answer of an account endpoint

    def fail(self, status, message, code=None, field=None):
        self.violations.append(message)
        if self.first is None:
            self.first = Reject(status, message, code, field)

    def stop(self, status, message, code=None, field=None):
        """A rule broken past which nothing more can be checked."""
        self.fail(status, message, code, field)
        raise self.first


def b64strict(text):
    """Standard base64 (padding, no spaces or newlines) or None."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def split_addrs(text):
    """'A <a@x>, b@y' -> ['A <a@x>', 'b@y'] (commas inside quotes kept)."""
    out, cur, quoted, angle = [], "", False, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        if ch == "," and not quoted and not angle:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [a for a in out if a]


def bare_addr(text):
    m = re.search(r"<([^<>]*)>\s*$", text)
    return (m.group(1) if m else text).strip()


ADDR_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def valid_addr(text):
    return isinstance(text, str) and ADDR_RE.match(bare_addr(text)) is not None


def message_shape(raw, judge, status, code):
    """Header, blank line, body, and a From: field (SES's raw message)."""
    head, sep, _ = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not sep:
        judge.fail(status, "the message has no blank line between header "
                   "and body", code)
    elif not re.search(rb"(?im)^from:", head):
        judge.fail(status, "the message has no From: header field", code)


def json_body(judge, body, status, code, field=None):
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        judge.stop(status, "the body is not JSON: %s" % e, code, field)
    if not isinstance(doc, dict):
        judge.stop(status, "the JSON body is not an object", code, field)
    return doc


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


# ---- the providers -----------------------------------------------------
class Provider:
    """One API: which paths it owns, how it judges, how it answers."""
    name = None

    def __init__(self, conf):
        self.conf = conf

    def owns(self, path):
        raise NotImplementedError

    def judge(self, req, judge):
        raise NotImplementedError

    def success(self, req, judge):
        raise NotImplementedError

    def error(self, status, message, code=None, field=None):
        """(headers, body bytes) for an error answer."""
        raise NotImplementedError

    def not_found(self, path):
        return Reject(404, "no such path %s" % path)

    def post_only(self, req, judge):
        if req.method != "POST":
            judge.stop(405, "method %s, not POST" % req.method)

    def get_only(self, req, judge, code=None):
        if req.method != "GET":
            judge.stop(405, "method %s, not GET" % req.method, code)
        if req.body:
            judge.fail(400, "a GET with a body", code)

    def post_to_path(self, req, judge, code=None):
        """POST to the provider's one documented path (self.PATH)."""
        if req.path != self.PATH:
            judge.stop(404, "no such path %s (POST %s)" % (req.path, self.PATH),
                       code)
        self.post_only(req, judge)


def jdump(obj):
    return json.dumps(obj).encode()


JSON_HDR = [("Content-Type", "application/json")]


class Mailgun(Provider):
    name = "mailgun"

    def owns(self, path):
        return re.match(r"^/v3/[^/]+/messages", path) is not None or \
            re.match(r"^/v3/domains/[^/]+$", path) is not None

    def auth(self, req, judge):
        auth = req.header("Authorization") or ""
        if not auth.startswith("Basic "):
            judge.stop(401, "no Basic authorization (user api, the key as "
                       "password)")
        cred = b64strict(auth[6:].strip())
        if cred is None or cred.decode("utf-8", "replace") != \
                "api:" + self.conf.get("key", ""):
            judge.stop(401, "wrong credentials: want user api and the key")

    def judge(self, req, judge):
        domain = self.conf.get("domain", "")
        d = re.match(r"^/v3/domains/([^/]+)$", req.path)
        if d:
            # https://documentation.mailgun.com/docs/mailgun/api-reference/
            #   openapi-final/tag/Domains/ : GET /v3/domains/{name}
            self.get_only(req, judge)
            self.auth(req, judge)
            if d.group(1) != domain:
                judge.stop(404, "Domain not found")
            judge.account = {"domain": {"name": domain, "state": "active",
                                        "type": "custom"},
                             "receiving_dns_records": [],
                             "sending_dns_records": []}
            return
        m = re.match(r"^/v3/([^/]+)/messages\.mime$", req.path)
        if not m:
            judge.stop(404, "no such path %s (POST /v3/{domain}/"
                       "messages.mime)" % req.path)
        if m.group(1) != domain:
            judge.stop(404, "Domain not found: %s" % m.group(1))
        self.post_only(req, judge)
        self.auth(req, judge)
        ctype = req.header("Content-Type") or ""
        if media_type(ctype) != "multipart/form-data":
            judge.stop(400, "Content-Type %r, not multipart/form-data" % ctype)
        bm = re.search(r'boundary="?([^";]+)"?', ctype)
        if not bm:
            judge.stop(400, "multipart/form-data without a boundary")
        try:
            parts = parse_form(req.body, bm.group(1).encode())
        except ValueError as e:
            judge.stop(400, "malformed multipart/form-data: %s" % e)
        tos, messages, options = [], [], 0
        for name, filename, headers, data in parts:
            if name == "to":
                tos.append(data.decode("utf-8", "replace"))
            elif name == "message":
                messages.append((filename, data))
            elif name and name[:2] in ("o:", "h:", "v:", "t:"):
                options += len(data)
        if not tos or not any(t.strip() for t in tos):
            judge.fail(400, "'to' parameter is missing")
        for t in tos:
            for a in split_addrs(t):
                if not valid_addr(a):
                    judge.fail(400, "to parameter is not a valid address: "
                               "%r" % a)
                judge.envelope["to"].append(bare_addr(a))
        if len(messages) != 1:
            judge.fail(400, "want one 'message' part, got %d" % len(messages))
        else:
            filename, data = messages[0]
            judge.eml = data
            if filename is None:
                judge.fail(400, "the message part is not a file upload (no "
                           "filename in its Content-Disposition)")
            if not data:
                judge.fail(400, "the message part is empty")
        if options > MAILGUN_OPTIONS_MAX:
            judge.fail(400, "send options (o:, h:, v:, t:) exceed 16KB: %d "
                       "bytes" % options)

    def success(self, req, judge):
        mid = "<%s.%s@%s>" % (time.strftime("%Y%m%d%H%M%S"),
                              uuid.uuid4().hex[:16], self.conf.get("domain"))
        return 200, JSON_HDR, jdump({"id": mid,
                                     "message": "Queued. Thank you."})

    def error(self, status, message, code=None, field=None):
        if status == 401:
            return [("Content-Type", "text/plain")], b"Forbidden"
        return JSON_HDR, jdump({"message": message})


def parse_form(body, boundary):
    """multipart/form-data -> [(name, filename or None, headers, data)],
    each part's bytes exactly as sent."""
    delim = b"--" + boundary
    if not body.startswith(delim):
        raise ValueError("the body does not start with the boundary")
    parts = []
    pos = len(delim)
    while True:
        if body[pos:pos + 2] == b"--":
            return parts
        if body[pos:pos + 2] != b"\r\n":
            raise ValueError("no CRLF after a boundary")
        pos += 2
        end = body.find(b"\r\n" + delim, pos)
        if end < 0:
            raise ValueError("no closing boundary")
        part = body[pos:end]
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without a header")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        cd = headers.get("content-disposition", "")
        nm = re.search(r'(?:^|;)\s*name="([^"]*)"', cd)
        fn = re.search(r'(?:^|;)\s*filename="([^"]*)"', cd)
        parts.append((nm.group(1) if nm else None,
                      fn.group(1) if fn else None, headers, data))
        pos = end + 2 + len(delim)


class SES(Provider):
    name = "ses"
    PATH = "/v2/email/outbound-emails"
    ERRORS = {400: "BadRequestException", 401: "UnrecognizedClientException",
              403: "UnrecognizedClientException", 404: "NotFoundException",
              405: "BadRequestException", 413: "BadRequestException",
              422: "BadRequestException", 429: "TooManyRequestsException",
              500: "InternalFailure", 503: "ServiceUnavailable"}

    def owns(self, path):
        return path.startswith("/v2/")

    def judge(self, req, judge):
        if req.path == "/v2/email/account":
            # https://docs.aws.amazon.com/ses/latest/APIReference-V2/
            #   API_GetAccount.html
            self.get_only(req, judge, "BadRequestException")
            self.sigv4(req, judge)
            judge.account = {"DedicatedIpAutoWarmupEnabled": False,
                             "EnforcementStatus": "HEALTHY",
                             "ProductionAccessEnabled": True,
                             "SendQuota": {"Max24HourSend": 50000.0,
                                           "MaxSendRate": 14.0,
                                           "SentLast24Hours": 0.0},
                             "SendingEnabled": True}
            return
        self.post_to_path(req, judge, "NotFoundException")
        self.sigv4(req, judge)
        if media_type(req.header("Content-Type")) != "application/json":
            judge.fail(400, "Content-Type %r, not application/json"
                       % req.header("Content-Type"), "BadRequestException")
        doc = json_body(judge, req.body, 400, "BadRequestException")
        content = doc.get("Content")
        if not isinstance(content, dict):
            judge.stop(400, "Content is required", "BadRequestException")
        kinds = [k for k in ("Simple", "Raw", "Template") if k in content]
        if len(kinds) != 1:
            judge.fail(400, "Content must hold exactly one of Simple, Raw, "
                       "Template; it holds %s" % (kinds or "none"),
                       "BadRequestException")
        raw = content.get("Raw")
        if "Raw" not in kinds:
            judge.fail(400, "plume: Content.Raw, not %s: the message must go "
                       "as it is" % (kinds or "nothing"),
                       "BadRequestException")
        elif not isinstance(raw, dict) or "Data" not in raw:
            judge.fail(400, "Content.Raw.Data is required",
                       "BadRequestException")
        else:
            data = b64strict(raw["Data"])
            if data is None:
                judge.fail(400, "Content.Raw.Data is not base64",
                           "BadRequestException")
            else:
                judge.eml = data
                message_shape(data, judge, 400, "MessageRejected")
        frm = doc.get("FromEmailAddress")
        if frm is not None:
            if not valid_addr(frm):
                judge.fail(400, "FromEmailAddress %r is not an address" % frm,
                           "BadRequestException")
            judge.envelope["from"] = bare_addr(str(frm))
        dest = doc.get("Destination")
        if dest is None:
            judge.fail(400, "plume: no Destination: SES would take the "
                       "header recipients, not the envelope",
                       "BadRequestException")
        elif not isinstance(dest, dict):
            judge.fail(400, "Destination is not an object",
                       "BadRequestException")
        else:
            for key in dest:
                if key not in ("ToAddresses", "CcAddresses", "BccAddresses"):
                    judge.fail(400, "Destination.%s is not a member" % key,
                               "BadRequestException")
            for key in ("ToAddresses", "CcAddresses", "BccAddresses"):
                lst = dest.get(key, [])
                if not isinstance(lst, list):
                    judge.fail(400, "Destination.%s is not a list" % key,
                               "BadRequestException")
                    continue
                for a in lst:
                    if not valid_addr(a):
                        judge.fail(400, "Destination.%s: %r is not an "
                                   "address" % (key, a), "BadRequestException")
                    else:
                        judge.envelope["to"].append(bare_addr(a))
            n = len(judge.envelope["to"])
            if n == 0:
                judge.fail(400, "Destination names no recipient",
                           "BadRequestException")
            if n > SES_MAX_RECIPIENTS:
                judge.fail(400, "%d recipients, more than %d"
                           % (n, SES_MAX_RECIPIENTS), "MessageRejected")

    def sigv4(self, req, judge):
        """AWS Signature Version 4, computed here from the documentation."""
        auth = req.header("Authorization")
        if not auth:
            judge.stop(403, "no Authorization header",
                       "MissingAuthenticationToken")
        algo, _, rest = auth.partition(" ")
        if algo != "AWS4-HMAC-SHA256":
            judge.stop(400, "Authorization algorithm %r, not AWS4-HMAC-SHA256"
                       % algo, "IncompleteSignature")
        fields = {}
        for item in rest.split(","):
            k, eq, v = item.strip().partition("=")
            if eq:
                fields[k] = v
        for k in ("Credential", "SignedHeaders", "Signature"):
            if k not in fields:
                judge.stop(400, "Authorization has no %s=" % k,
                           "IncompleteSignature")
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            judge.stop(400, "Credential %r is not KEY/DATE/REGION/SERVICE/"
                       "aws4_request" % fields["Credential"],
                       "IncompleteSignature")
        akid, sdate, region, service, term = scope
        if akid != self.conf.get("access_key"):
            judge.stop(403, "access key %r is unknown" % akid,
                       "UnrecognizedClientException")
        amzdate = req.header("X-Amz-Date")
        if amzdate is None:
            judge.stop(400, "no X-Amz-Date header", "IncompleteSignature")
        try:
            when = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")
        except ValueError:
            judge.stop(400, "X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % amzdate,
                       "IncompleteSignature")
        skew = abs(time.time() - when.replace(
            tzinfo=datetime.timezone.utc).timestamp())
        if skew > float(self.conf.get("max_skew", 900)):
            judge.fail(400, "Signature expired: X-Amz-Date %s is %d s from "
                       "now" % (amzdate, skew), "RequestExpired")
        if sdate != amzdate[:8]:
            judge.fail(403, "credential scope date %s is not X-Amz-Date's %s"
                       % (sdate, amzdate[:8]), "SignatureDoesNotMatch")
        if region != self.conf.get("region", "us-east-1"):
            judge.fail(403, "credential scope region %r, want %r"
                       % (region, self.conf.get("region", "us-east-1")),
                       "SignatureDoesNotMatch")
        if service != SES_SIGNING_NAME:
            judge.fail(403, "credential scope service %r, want %r"
                       % (service, SES_SIGNING_NAME), "SignatureDoesNotMatch")
        if term != "aws4_request":
            judge.fail(403, "credential scope ends %r, not aws4_request"
                       % term, "SignatureDoesNotMatch")
        signed = fields["SignedHeaders"].split(";")
        if signed != sorted(signed) or any(h != h.lower() for h in signed):
            judge.fail(403, "SignedHeaders %r not lower case and sorted"
                       % fields["SignedHeaders"], "SignatureDoesNotMatch")
        for must in ("host", "x-amz-date"):
            if must not in signed:
                judge.fail(403, "SignedHeaders lacks %s" % must,
                           "SignatureDoesNotMatch")
        token = self.conf.get("session_token")
        got_token = req.header("X-Amz-Security-Token")
        if token and got_token != token:
            judge.fail(403, "x-amz-security-token %s" %
                       ("missing" if got_token is None else "wrong"),
                       "UnrecognizedClientException")
        want = self.signature(req, signed, amzdate, sdate, region, service)
        if want is None:
            judge.fail(403, "a signed header is missing from the request",
                       "SignatureDoesNotMatch")
        elif not hmac.compare_digest(want, fields["Signature"]):
            judge.fail(403, "The request signature we calculated does not "
                       "match the signature you provided",
                       "SignatureDoesNotMatch")

    def signature(self, req, signed, amzdate, sdate, region, service):
        canon_headers = ""
        for name in signed:
            values = req.headers_all(name)
            if not values:
                return None
            canon_headers += "%s:%s\n" % (name, ",".join(
                " ".join(v.split()) for v in values))
        query = urllib.parse.parse_qsl(req.query, keep_blank_values=True)
        cq = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                 urllib.parse.quote(v, safe="-_.~"))
                      for k, v in sorted(query))
        # Every service but S3 encodes each path segment twice; our
        # path needs no escaping, so once or twice is the same.
        cpath = "/".join(urllib.parse.quote(
            urllib.parse.quote(seg, safe="-_.~"), safe="-_.~")
            for seg in req.path.split("/")) or "/"
        canonical = "\n".join([req.method, cpath, cq, canon_headers,
                               ";".join(signed),
                               hashlib.sha256(req.body).hexdigest()])
        scope = "%s/%s/%s/aws4_request" % (sdate, region, service)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.conf.get("secret_key", "")).encode()
        for part in (sdate, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def headers_common(self):
        return [("x-amzn-RequestId", str(uuid.uuid4()))]

    def success(self, req, judge):
        mid = "0100%s-%s-000000" % (uuid.uuid4().hex[:12],
                                     uuid.uuid4())
        return 200, JSON_HDR + self.headers_common(), \
            jdump({"MessageId": mid})

    def error(self, status, message, code=None, field=None):
        code = code or self.ERRORS.get(status, "InternalFailure")
        return JSON_HDR + self.headers_common() + \
            [("x-amzn-ErrorType", code)], jdump({"message": message})


class SparkPost(Provider):
    name = "sparkpost"
    PATH = "/api/v1/transmissions"
    CODES = {400: "1200", 401: None, 403: "1100", 404: "1101", 405: "1102",
             413: None, 415: None, 422: "1300", 429: None, 500: None,
             503: None}

    def owns(self, path):
        return path.startswith("/api/v1/")

    def auth(self, req, judge):
        key = self.conf.get("key", "")
        auth = req.header("Authorization")
        ok = auth == key or (auth is not None and auth.startswith("Basic ") and
                             b64strict(auth[6:].strip()) ==
                             (key + ":").encode())
        if not ok:
            judge.stop(401, "Authorization must be the API key itself (no "
                       "scheme) or Basic with the key as user; got %r"
                       % ((auth or "nothing").split(" ")[0]))

    def judge(self, req, judge):
        if req.path == "/api/v1/account":
            # https://developers.sparkpost.com/api/account/
            self.get_only(req, judge, "1102")
            self.auth(req, judge)
            judge.account = {"results": {"customer_id": 123456,
                                         "company_name": "plume test",
                                         "status": "active"}}
            return
        self.post_to_path(req, judge, "1101")
        self.auth(req, judge)
        if media_type(req.header("Content-Type")) != "application/json":
            judge.stop(415, "Content-Type %r, not application/json"
                       % req.header("Content-Type"))
        doc = json_body(judge, req.body, 400, "1200")
        recips = doc.get("recipients")
        if not isinstance(recips, list) or not recips:
            judge.fail(422, "recipients is required: a non-empty list", "1400")
            recips = []
        for i, r in enumerate(recips):
            addr = r.get("address") if isinstance(r, dict) else None
            email = addr.get("email") if isinstance(addr, dict) else addr
            if not valid_addr(email):
                judge.fail(422, "recipients[%d].address.email is not an "
                           "address: %r" % (i, email), "1300")
            else:
                judge.envelope["to"].append(bare_addr(email))
        rp = doc.get("return_path")
        if rp is not None:
            if not valid_addr(rp):
                judge.fail(422, "return_path %r is not an address" % rp, "1300")
            judge.envelope["from"] = rp
        content = doc.get("content")
        if not isinstance(content, dict):
            judge.stop(422, "content is required", "1400")
        rfc = content.get("email_rfc822")
        if rfc is None:
            judge.fail(422, "plume: content.email_rfc822, not content built "
                       "by SparkPost (%s)" % sorted(content), "1300")
        elif not isinstance(rfc, str) or not rfc:
            judge.fail(422, "content.email_rfc822 is not a non-empty string",
                       "1300")
        else:
            judge.eml = rfc.encode("utf-8")
            both = [k for k in ("html", "text", "amp_html", "attachments",
                                "inline_images", "template_id") if k in content]
            if both:
                judge.fail(422, "content.email_rfc822 with %s: Invalid "
                           "combination of fields" % both, "1301")
        opts = doc.get("options")
        opts = opts if isinstance(opts, dict) else {}
        for k in ("click_tracking", "open_tracking"):
            if opts.get(k) is not False:
                judge.fail(422, "plume: options.%s must be false (tracking "
                           "rewrites the message, breaking DKIM); it is %s"
                           % (k, json.dumps(opts.get(k))), "1300")

    def success(self, req, judge):
        return 200, JSON_HDR, jdump({"results": {
            "total_rejected_recipients": 0,
            "total_accepted_recipients": len(judge.envelope["to"]),
            "id": str(int(time.time() * 1000) * 1000 + os.getpid() % 1000)}})

    def error(self, status, message, code=None, field=None):
        if status == 401:
            return JSON_HDR, jdump({"errors": [{"message": "Unauthorized."}]})
        err = {"message": {413: "Request Entity Too Large",
                           415: "Unsupported Media Type",
                           429: "Too many requests",
                           500: "Internal Server Error",
                           503: "Service Unavailable"}.get(status,
                                                            "invalid data"),
               "description": message}
        code = code or self.CODES.get(status)
        if code:
            err["code"] = code
        return JSON_HDR, jdump({"errors": [err]})


class SendGrid(Provider):
    name = "sendgrid"
    PATH = "/v3/mail/send"

    def owns(self, path):
        return path.startswith("/v3/mail/") or path == "/v3/scopes"

    def judge(self, req, judge):
        if req.path == "/v3/scopes":
            # https://www.twilio.com/docs/sendgrid/api-reference/
            #   api-key-permissions/retrieve-a-list-of-scopes-for-which-
            #   this-user-has-access
            self.get_only(req, judge)
        else:
            self.post_to_path(req, judge)
        if req.header("Authorization") != "Bearer " + self.conf.get("key", ""):
            judge.stop(401, "The provided authorization grant is invalid, "
                       "expired, or revoked")
        if req.path == "/v3/scopes":
            judge.account = {"scopes": ["mail.send"]}
            return
        if media_type(req.header("Content-Type")) != "application/json":
            judge.stop(415, "Content-Type %r, not application/json"
                       % req.header("Content-Type"))
        doc = json_body(judge, req.body, 400, None, "")
        has_template = "template_id" in doc
        pers = doc.get("personalizations")
        if not isinstance(pers, list) or not pers:
            judge.fail(400, "You must have at least one personalization.",
                       field="personalizations")
            pers = []
        if len(pers) > SENDGRID_MAX_PERSONALIZATIONS:
            judge.fail(400, "The personalization block is limited to 1000 "
                       "personalizations per API request. You have provided "
                       "%d personalizations." % len(pers),
                       field="personalizations")
        total = 0
        all_subject = bool(pers)
        for i, p in enumerate(pers):
            if not isinstance(p, dict):
                judge.fail(400, "personalizations.%d is not an object" % i,
                           field="personalizations.%d" % i)
                continue
            if not isinstance(p.get("to"), list) or not p.get("to"):
                judge.fail(400, "The to array is required for all "
                           "personalization objects, and must have at least "
                           "one email object with a valid email address.",
                           field="personalizations.%d.to" % i)
            seen = set()
            for kind in ("to", "cc", "bcc"):
                lst = p.get(kind, [])
                if not isinstance(lst, list):
                    judge.fail(400, "personalizations.%d.%s is not an array"
                               % (i, kind), field="personalizations.%d.%s"
                               % (i, kind))
                    continue
                for j, e in enumerate(lst):
                    total += 1
                    email = e.get("email") if isinstance(e, dict) else None
                    where = "personalizations.%d.%s.%d.email" % (i, kind, j)
                    if not valid_addr(email):
                        judge.fail(400, "Each %s object must at least have an "
                                   "email address and may also contain a "
                                   "name." % kind, field=where)
                        continue
                    if email.lower() in seen:
                        judge.fail(400, "Each email address in the "
                                   "personalization block should be unique "
                                   "between to, cc, and bcc. We found the "
                                   "first duplicate instance of [%s] in the "
                                   "personalizations.%d.%s field."
                                   % (email, i, kind),
                                   field="personalizations.%d" % i)
                    seen.add(email.lower())
                    judge.envelope["to"].append(email)
            if "subject" not in p:
                all_subject = False
            self.check_headers(judge, p.get("headers"),
                               "personalizations.%d.headers" % i)
        if total > SENDGRID_MAX_RECIPIENTS:
            judge.fail(400, "There is a limit of 1000 total recipients (to + "
                       "cc + bcc) per request. You have %d." % total,
                       field="personalizations")
        frm = doc.get("from")
        if not isinstance(frm, dict) or not valid_addr(frm.get("email")):
            judge.fail(400, "The from object must be provided for every "
                       "email send. It is an object that requires the email "
                       "parameter, but may also contain a name parameter.",
                       field="from")
        else:
            judge.envelope["from"] = frm["email"]
        if not has_template and not all_subject and \
                not (isinstance(doc.get("subject"), str) and doc["subject"]):
            judge.fail(400, "The subject is required. You can get around this "
                       "requirement if you use a template with a subject "
                       "defined or if every personalization has a subject "
                       "defined.", field="subject")
        self.check_content(judge, doc.get("content"), has_template)
        self.check_attachments(judge, doc.get("attachments"))
        self.check_headers(judge, doc.get("headers"), "headers")
        if "reply_to" in doc and "reply_to_list" in doc:
            judge.fail(400, "reply_to and reply_to_list are mutually "
                       "exclusive", field="reply_to")
        rt = doc.get("reply_to")
        if rt is not None and (not isinstance(rt, dict) or
                               not valid_addr(rt.get("email"))):
            judge.fail(400, "The reply_to email must be a valid email "
                       "address.", field="reply_to.email")

    def check_content(self, judge, content, has_template):
        if content is None:
            if not has_template:
                judge.fail(400, "Unless a valid template_id is provided, the "
                           "content parameter is required. There must be at "
                           "least one defined content block.", field="content")
            return
        if not isinstance(content, list) or not content:
            judge.fail(400, "The content parameter must be an array with at "
                       "least one content block.", field="content")
            return
        types = []
        for i, c in enumerate(content):
            if not isinstance(c, dict) or not isinstance(c.get("type"), str) \
                    or not c.get("type"):
                judge.fail(400, "The content type must be a string at least "
                           "one character in length.",
                           field="content.%d.type" % i)
                types.append(None)
                continue
            if not isinstance(c.get("value"), str) or not c.get("value"):
                judge.fail(400, "The content value must be a string at least "
                           "one character in length.",
                           field="content.%d.value" % i)
            types.append(c["type"].lower())
        rank = [{"text/plain": 0, "text/html": 1}.get(t, 2) for t in types]
        if rank != sorted(rank):
            judge.fail(400, "If present, text/plain and text/html may only be "
                       "provided once. The text/plain content type must be "
                       "first, followed by text/html, followed by any other "
                       "content.", field="content")
        if types.count("text/plain") > 1 or types.count("text/html") > 1:
            judge.fail(400, "If present, text/plain and text/html may only be "
                       "provided once.", field="content")

    def check_attachments(self, judge, atts):
        if atts is None:
            return
        if not isinstance(atts, list):
            judge.fail(400, "attachments is not an array", field="attachments")
            return
        for i, a in enumerate(atts):
            a = a if isinstance(a, dict) else {}
            if b64strict(a.get("content")) is None or not a.get("content"):
                judge.fail(400, "The attachment content must be base64 "
                           "encoded.", field="attachments.%d.content" % i)
            if not isinstance(a.get("filename"), str) or not a.get("filename"):
                judge.fail(400, "The attachment filename parameter is "
                           "required.", field="attachments.%d.filename" % i)
            disp = a.get("disposition", "attachment")
            if disp not in ("inline", "attachment"):
                judge.fail(400, "The disposition of your attachment can be "
                           "either \"inline\" or \"attachment\".",
                           field="attachments.%d.disposition" % i)
            if disp == "inline" and not a.get("content_id"):
                judge.fail(400, "The content_id parameter is required when "
                           "the disposition is inline.",
                           field="attachments.%d.content_id" % i)

    def check_headers(self, judge, headers, where):
        if headers is None:
            return
        if not isinstance(headers, dict):
            judge.fail(400, "Invalid type. Expected: object, given: %s."
                       % type(headers).__name__, field=where)
            return
        for k, v in headers.items():
            if k.lower() in SENDGRID_RESERVED:
                judge.fail(400, "The following header is reserved and cannot "
                           "be used: %s" % k, field="%s.%s" % (where, k))
            if not isinstance(v, str):
                judge.fail(400, "Invalid type. Expected: string, given: %s."
                           % type(v).__name__, field="%s.%s" % (where, k))

    def success(self, req, judge):
        return 202, [("X-Message-Id", base64.urlsafe_b64encode(
            uuid.uuid4().bytes).decode().rstrip("="))], b""

    def error(self, status, message, code=None, field=None):
        if status == 429:
            message = "too many requests"
        elif status == 413:
            message = "Payload Too Large"
        err = {"message": message, "field": field or None, "help": None}
        return JSON_HDR, jdump({"errors": [err]})


class Postmark(Provider):
    name = "postmark"
    PATH = "/email"
    CODES = {401: 10, 404: 0, 405: 0, 413: 0, 415: 0, 422: 300, 429: 429,
             500: 0, 503: 100}

    def owns(self, path):
        return path == "/email" or path.startswith("/email/") or \
            path == "/server"

    def judge(self, req, judge):
        if req.path == "/server":
            # https://postmarkapp.com/developer/api/server-api : GET /server
            self.get_only(req, judge)
        else:
            self.post_to_path(req, judge)
        if req.header("X-Postmark-Server-Token") != self.conf.get("token"):
            judge.stop(401, "Request does not contain a valid Server token "
                       "(X-Postmark-Server-Token)", 10)
        if req.path == "/server":
            if media_type(req.header("Accept")) != "application/json":
                judge.fail(422, "JSON required: Accept is %r, not "
                           "application/json" % req.header("Accept"), 409)
            judge.account = {"ID": 1, "Name": "plume test",
                             "ApiTokens": [self.conf.get("token")],
                             "Color": "blue", "SmtpApiActivated": True,
                             "DeliveryType": "Live"}
            return
        for h in ("Accept", "Content-Type"):
            if media_type(req.header(h)) != "application/json":
                judge.fail(422, "JSON required: %s is %r, not application/json"
                           % (h, req.header(h)), 409)
        doc = json_body(judge, req.body, 422, 402)
        for k in ("From", "To"):
            if not isinstance(doc.get(k), str) or not doc.get(k).strip():
                judge.fail(422, "Invalid email request: %s is required" % k,
                           300)
        if isinstance(doc.get("From"), str):
            judge.envelope["from"] = bare_addr(doc["From"])
        n = 0
        inactive = [a.lower() for a in self.conf.get("inactive", [])]
        for k in ("To", "Cc", "Bcc"):
            v = doc.get(k)
            if v is None:
                continue
            if not isinstance(v, str):
                judge.fail(422, "Invalid email request: %s is not a string"
                           % k, 300)
                continue
            for a in split_addrs(v):
                n += 1
                if not valid_addr(a):
                    judge.fail(422, "Invalid '%s' address: '%s'." % (k, a),
                               300)
                    continue
                judge.envelope["to"].append(bare_addr(a))
                if bare_addr(a).lower() in inactive:
                    judge.fail(422, "You tried to send to recipient(s) that "
                               "have been marked as inactive. Found inactive "
                               "addresses: %s." % bare_addr(a), 406)
        if n > POSTMARK_MAX_RECIPIENTS:
            judge.fail(422, "Invalid email request: %d recipients, a maximum "
                       "of %d recipients allowed per message (To, Cc, Bcc)"
                       % (n, POSTMARK_MAX_RECIPIENTS), 300)
        if not doc.get("HtmlBody") and not doc.get("TextBody"):
            judge.fail(422, "Provide either email TextBody or HtmlBody or "
                       "both.", 300)
        for k in ("Subject", "HtmlBody", "TextBody", "ReplyTo",
                  "MessageStream", "Tag"):
            if k in doc and doc[k] is not None and not isinstance(doc[k], str):
                judge.fail(422, "Invalid email request: %s is not a string"
                           % k, 300)
        hdrs = doc.get("Headers", [])
        if not isinstance(hdrs, list) or not all(
                isinstance(h, dict) and isinstance(h.get("Name"), str) and
                isinstance(h.get("Value"), str) for h in hdrs):
            judge.fail(422, "Invalid email request: Headers must be a list of "
                       "{\"Name\", \"Value\"}", 300)
        atts = doc.get("Attachments", [])
        if not isinstance(atts, list):
            atts = [None]
        for i, a in enumerate(atts):
            if not isinstance(a, dict) or not a.get("Name") or \
                    not a.get("ContentType") or b64strict(a.get("Content")) \
                    is None:
                judge.fail(422, "Invalid email request: Attachments[%d] needs "
                           "Name, base64 Content and ContentType" % i, 300)

    def success(self, req, judge):
        try:
            to = json.loads(req.body)["To"]
        except (ValueError, KeyError, TypeError):
            to = ""
        now = datetime.datetime.now(datetime.timezone.utc).astimezone()
        return 200, JSON_HDR, jdump({
            "To": to, "SubmittedAt": now.isoformat(timespec="milliseconds"),
            "MessageID": str(uuid.uuid4()), "ErrorCode": 0, "Message": "OK"})

    def error(self, status, message, code=None, field=None):
        if code is None:
            code = self.CODES.get(status, 0)
        if status == 429:
            message = "Rate limit exceeded"
        elif status == 503 and code == 100:
            message = "Maintenance"
        return JSON_HDR, jdump({"ErrorCode": int(code), "Message": message})


class Webhook(Provider):
    name = "webhook"

    def owns(self, path):
        return path == self.conf.get("path", "/plume")

    def judge(self, req, judge):
        self.post_only(req, judge)
        if "token" in self.conf:
            if req.header("Authorization") != "Bearer " + self.conf["token"]:
                judge.fail(401, "want Authorization: Bearer TOKEN")
        if "basic" in self.conf:
            auth = req.header("Authorization") or ""
            if not auth.startswith("Basic ") or \
                    b64strict(auth[6:].strip()) != self.conf["basic"].encode():
                judge.fail(401, "want Authorization: Basic user:pass")
        if "secret" in self.conf:
            self.check_hmac(req, judge)
        if media_type(req.header("Content-Type")) != "message/rfc822":
            judge.fail(415, "Content-Type %r, not message/rfc822"
                       % req.header("Content-Type"))
        senders = req.headers_all("X-Plume-Sender")
        if len(senders) != 1:
            judge.fail(400, "want one X-Plume-Sender header, got %d"
                       % len(senders))
        else:
            s = senders[0].strip()
            if s and not valid_addr(s):
                judge.fail(400, "X-Plume-Sender %r is not an address "
                           "(empty for <>)" % s)
            judge.envelope["from"] = s
        rcpts = req.headers_all("X-Plume-Recipient")
        if not rcpts:
            judge.fail(400, "no X-Plume-Recipient header")
        for r in rcpts:
            r = r.strip()
            if not valid_addr(r) or "," in r:
                judge.fail(400, "X-Plume-Recipient %r is not one address" % r)
            judge.envelope["to"].append(r)
        if not req.body:
            judge.fail(400, "the body (the message) is empty")
        judge.eml = req.body

    def check_hmac(self, req, judge):
        ts = req.header("X-Plume-Timestamp")
        sig = req.header("X-Plume-Signature")
        if ts is None or sig is None:
            judge.fail(401, "X-Plume-Timestamp and X-Plume-Signature are "
                       "required")
            return
        if not re.match(r"^[0-9]+$", ts):
            judge.fail(401, "X-Plume-Timestamp %r is not unix seconds" % ts)
            return
        age = abs(time.time() - int(ts))
        if age > float(self.conf.get("max_age", 300)):
            judge.fail(401, "X-Plume-Timestamp %s is stale: %d s from now"
                       % (ts, age))
        want = "sha256=" + hmac.new(self.conf["secret"].encode(),
                                    ts.encode() + b"." + req.body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig):
            judge.fail(401, "X-Plume-Signature does not match "
                       "sha256=hex(HMAC-SHA256(secret, timestamp.body))")

    def success(self, req, judge):
        return int(self.conf.get("status", 200)), JSON_HDR, \
            jdump({"id": str(uuid.uuid4())})

    def error(self, status, message, code=None, field=None):
        return JSON_HDR, jdump({"error": message})


CLASSES = {"mailgun": Mailgun, "ses": SES, "sparkpost": SparkPost,
           "sendgrid": SendGrid, "postmark": Postmark, "webhook": Webhook}


class Generic(Provider):
    """No provider owns the path (and several are played)."""
    name = None

    def error(self, status, message, code=None, field=None):
        return JSON_HDR, jdump({"error": message})


# ---- recording and the script -----------------------------------------
class Store:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.lock = threading.Lock()
        self.n = 0
        self.conns = 0
        self.logf = open(os.path.join(directory, "log"), "a", buffering=1)

    def log(self, text):
        with self.lock:
            self.logf.write(text + "\n")

    def next_conn(self):
        with self.lock:
            self.conns += 1
            return self.conns

    def next_request(self):
        with self.lock:
            self.n += 1
            return self.n

    def put(self, name, data):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.dir, name))

    def script_line(self):
        """Pop the first line of D/script (None: no script)."""
        path = os.path.join(self.dir, "script")
        with self.lock:
            try:
                with open(path) as f:
                    lines = f.read().splitlines()
            except FileNotFoundError:
                return None
            while lines and not lines[0].strip():
                lines.pop(0)
            if not lines:
                return None
            first = lines.pop(0).strip()
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write("".join(l + "\n" for l in lines))
            os.rename(tmp, path)
            return first


def parse_script(line):
    """'429 retry-after=30' -> dict; ValueError on a word not known."""
    out = {"status": None, "ok": False, "drop": False, "slow": 0.0,
           "retry_after": None, "code": None}
    for word in line.split():
        key, eq, val = word.partition("=")
        if word.isdigit() and len(word) == 3:
            out["status"] = int(word)
        elif word == "ok":
            out["ok"] = True
        elif word == "drop":
            out["drop"] = True
        elif key == "slow" and eq:
            out["slow"] = float(val)
        elif key == "retry-after" and eq:
            out["retry_after"] = val
        elif key == "code" and eq:
            out["code"] = val
        else:
            raise ValueError("script: unknown word %r" % word)
    return out


# ---- HTTP ----------------------------------------------------------------
class Request:
    def __init__(self, handler, body, chunked):
        self.method = handler.command
        url = urllib.parse.urlsplit(handler.path)
        self.path = url.path
        self.query = url.query
        self.version = handler.request_version
        self.headers = handler.headers
        self.body = body
        self.chunked = chunked

    def header(self, name):
        """The value of a header given once (None: absent)."""
        return self.headers.get(name)

    def headers_all(self, name):
        return self.headers.get_all(name) or []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "httpapi/1"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_serial = self.server.store.next_conn()
        self.conn_requests = 0
        self.server.store.log("connection %d from %s:%d" % (
            (self.conn_serial,) + tuple(self.client_address[:2])))

    def log_message(self, fmt, *args):
        self.server.store.log("%d %s" % (self.conn_serial, fmt % args))

    def do_any(self):
        self.conn_requests += 1
        try:
            body, chunked = self.read_body()
        except ValueError as e:
            self.log_message("bad request body: %s", e)
            self.send_error(400, str(e))
            self.close_connection = True
            return
        req = Request(self, body, chunked)
        store = self.server.store
        n = store.next_request()
        provider = self.server.route(req.path)
        judge = Judge()
        try:
            if isinstance(provider, Generic):
                judge.stop(404, "no provider here owns %s" % req.path)
            provider.judge(req, judge)
        except Reject:
            pass
        line = store.script_line()
        try:
            script = parse_script(line) if line is not None else None
        except ValueError as e:
            store.log(str(e))
            script = None
        verdict = "rejected" if judge.violations else "accepted"
        extra = []
        if script and (script["status"] or script["ok"]):
            verdict = "scripted"
        if script and script["status"]:
            status = script["status"]
            hdrs, rbody = provider.error(status, "scripted %s" % status,
                                         script["code"])
        elif judge.first is not None and not (script and script["ok"]):
            r = judge.first
            status = r.status
            hdrs, rbody = provider.error(r.status, r.message, r.code, r.field)
        elif judge.account is not None:
            status, hdrs, rbody = 200, JSON_HDR, jdump(judge.account)
        else:
            status, hdrs, rbody = provider.success(req, judge)
        if script and script["retry_after"] is not None:
            extra.append(("Retry-After", script["retry_after"]))
        if status == 429 and provider.name == "sendgrid":
            reset = int(time.time()) + int(script["retry_after"] or 60
                                           if script else 60)
            extra += [("X-RateLimit-Limit", "600"),
                      ("X-RateLimit-Remaining", "0"),
                      ("X-RateLimit-Reset", str(reset))]
        hdrs = list(hdrs) + extra
        if script and script["drop"]:
            verdict = "dropped"
        rec = {"n": n, "time": time.time(), "method": req.method,
               "path": req.path, "query": req.query, "version": req.version,
               "headers": [list(h) for h in self.headers.items()],
               "provider": provider.name, "connection": self.conn_serial,
               "peer": list(self.client_address[:2]),
               "request_on_connection": self.conn_requests,
               "chunked": chunked, "body_length": len(body),
               "verdict": verdict, "violations": judge.violations,
               "envelope": judge.envelope, "script": line,
               "status": None if verdict == "dropped" else status,
               "response_headers": [] if verdict == "dropped" else hdrs,
               "response_body": "" if verdict == "dropped" else
               rbody.decode("utf-8", "replace")}
        store.put("%04d.body" % n, body)
        if judge.eml is not None:
            store.put("%04d.eml" % n, judge.eml)
        store.put("%04d.json" % n, (json.dumps(rec, indent=1) + "\n").encode())
        store.log("%04d conn %d %s %s -> %s %s%s" % (
            n, self.conn_serial, req.method, req.path, verdict,
            rec["status"], "".join("\n  ! " + v for v in judge.violations)))
        if script and script["slow"]:
            time.sleep(script["slow"])
        if verdict == "dropped":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rbody)))
        self.end_headers()
        self.wfile.write(rbody)
        self.wfile.flush()

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_any

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te:
            if te != "chunked":
                raise ValueError("Transfer-Encoding %r" % te)
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    return bytes(out), True
                out += self.rfile.read(size)
                if self.rfile.read(2) != b"\r\n":
                    raise ValueError("a chunk not ended by CRLF")
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        if not length.isdigit():
            raise ValueError("Content-Length %r" % length)
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise ValueError("the body ended after %d of %s bytes"
                             % (len(body), length))
        return body, False


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, store, providers, ctx):
        self.store = store
        self.providers = providers
        self.ctx = ctx
        super().__init__(addr, Handler)

    def route(self, path):
        for p in self.providers:
            if p.owns(path):
                return p
        if len(self.providers) == 1:
            return self.providers[0]
        return Generic({})

    def get_request(self):
        sock, addr = self.socket.accept()
        # The handshake happens in the connection's own thread (first read).
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        self.store.log("connection from %s:%d: %s: %s" % (
            client_address[0], client_address[1], type(exc).__name__, exc))


def load_providers(path):
    with open(path) as f:
        conf = json.load(f)
    if not isinstance(conf, dict) or not conf:
        raise ValueError("%s: want an object with a key per provider" % path)
    out = []
    for name, pc in conf.items():
        if name not in CLASSES:
            raise ValueError("%s: unknown provider %r (one of %s)"
                             % (path, name, ", ".join(PROVIDERS)))
        out.append(CLASSES[name](pc or {}))
    # the webhook's configured path first: it may be anything
    out.sort(key=lambda p: p.name != "webhook")
    return out


def main(argv):
    p = argparse.ArgumentParser(description="email-provider HTTP APIs, "
                                "strict, on 127.0.0.1")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--portfile", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--provider-config", required=True)
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the process that started it is gone")
    o = p.parse_args(argv)
    try:
        providers = load_providers(o.provider_config)
    except (OSError, ValueError) as e:
        p.error(str(e))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.cert, o.key)
    ctx.set_alpn_protocols(["http/1.1"])
    store = Store(o.dir)
    server = Server(("127.0.0.1", o.port), store, providers, ctx)
    port = server.server_address[1]
    tmp = o.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, o.portfile)
    store.log("listening on 127.0.0.1:%d for %s"
              % (port, ", ".join(x.name for x in providers)))
    if o.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
