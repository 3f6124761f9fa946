#!/bin/sh
# httpapi-selftest.sh - the provider-API judge (httpapi.py) judged itself,
# with curl as an independent client: each provider accepts a request
# made the documented way and keeps the message byte for byte; each strict
# check refuses a request that breaks it, in the provider's own error
# shape, and records the violation; SigV4 signatures from curl's own
# implementation verify and tampered ones do not; scripted answers (429
# with Retry-After, drop, slow) happen; keep-alive connections are seen.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http-lib.sh"
http_need curl

plan 62
http_ca_make "$TLS_DIR"
R=$WORK/rec
cat > "$WORK/providers.json" <<'EOF'
{"mailgun":   {"domain": "mg.example.org", "key": "MGKEY"},
 "ses":       {"access_key": "AKIDEXAMPLE", "secret_key": "SESSECRET",
               "region": "us-east-1"},
 "sparkpost": {"key": "SPKEY"},
 "sendgrid":  {"key": "SG.KEY"},
 "postmark":  {"token": "PMTOKEN", "inactive": ["gone@example.org"]},
 "webhook":   {"path": "/plume/submit", "token": "HOOKTOKEN",
               "secret": "HOOKSECRET", "status": 202}}
EOF
httpapi_start "$R" "$WORK/providers.json"
ok $? "httpapi.py listens on $HTTPAPI_URL for six providers"
U=$HTTPAPI_URL

# A message with CRLF lines, a Bcc-only recipient in the envelope, 8-bit.
printf 'From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nSubject: caf\303\251\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\303\251 au lait\r\n.\r\n' \
    > "$WORK/msg.eml"
B64=$(base64 -w0 "$WORK/msg.eml")

# post ARGS...: curl against the server; $CODE the status, $N the number
# of the request it recorded, $WORK/resp the body, $WORK/hdrs the headers
post() {
	_before=$(httpapi_count "$R")
	CODE=$(curl -sS --cacert "$TLS_DIR/ca.pem" -o "$WORK/resp" \
	    -D "$WORK/hdrs" -w '%{http_code}' "$@" 2> "$WORK/curl.err")
	CURL_RC=$?
	N=$((_before + 1))
}
# accepted DESC STATUS: the last request got STATUS, no violation
accepted() {
	v=$(httpapi_get "$R" "$N" verdict 2>&1)
	if [ "$CODE" = "$2" ] && [ "$v" = accepted ]; then ok 0 "$1"; else
		ok 1 "$1: status $CODE (want $2), verdict $v"
		httpapi_get "$R" "$N" violations | sed 's/^/# /'
		awk '{ print "# " $0 }' "$WORK/resp" "$WORK/curl.err"
	fi
}
# rejected DESC STATUS PATTERN: the last request got STATUS, was judged
# rejected, and a recorded violation matches PATTERN (grep -E)
rejected() {
	v=$(httpapi_get "$R" "$N" verdict 2>&1)
	viol=$(httpapi_get "$R" "$N" violations 2>&1)
	if [ "$CODE" = "$2" ] && [ "$v" = rejected ] &&
	    printf '%s\n' "$viol" | grep -Eq -- "$3"; then ok 0 "$1"; else
		ok 1 "$1: status $CODE (want $2), verdict $v"
		printf '# %s\n' "$viol"
		awk '{ print "# " $0 }' "$WORK/resp" "$WORK/curl.err"
	fi
}
# body_has PYTHON-EXPR: the JSON answer r satisfies it
body_has() {
	"$SMTP_PYTHON" -c "import json, sys
r = json.load(open(sys.argv[1]))
assert $1, r" "$WORK/resp"
}
hdr() { tr -d '\r' < "$WORK/hdrs" | sed -n "s/^$1: //Ip" | head -n 1; }
# rec_hdr N NAME: a request header as recorded
rec_hdr() {
	"$SMTP_PYTHON" -c 'import json, sys
r = json.load(open("%s/%04d.json" % (sys.argv[1], int(sys.argv[2]))))
print([v for k, v in r["headers"] if k.lower() == sys.argv[3].lower()][0])' \
	    "$R" "$1" "$2"
}
# json_file FILE PYTHON-EXPR: write the JSON of the expression (B64 and
# the message text at hand as b64 and msg)
json_file() {
	"$SMTP_PYTHON" -c "import json, sys
b64 = sys.argv[2]
msg = open(sys.argv[3], 'rb').read().decode('utf-8')
json.dump($2, open(sys.argv[1], 'w'))" "$1" "$B64" "$WORK/msg.eml"
}

# ---- mailgun ----------------------------------------------------------
MG=$U/v3/mg.example.org/messages.mime
post -u api:MGKEY -F to=bob@example.org -F 'to=Carol <carol@example.org>, dan@example.org' \
    -F "message=@$WORK/msg.eml" "$MG"
accepted "mailgun: multipart to + message file: 200" 200
check "mailgun: the answer is {id, message: Queued. Thank you.}" \
    body_has 'r["message"] == "Queued. Thank you." and r["id"].startswith("<")'
check "mailgun: the message part is kept byte for byte" \
    cmp "$R/$(printf %04d $N).eml" "$WORK/msg.eml"
check "mailgun: every to field is an envelope recipient" sh -c \
    "[ '$(httpapi_get "$R" $N envelope.to)' = '[\"bob@example.org\", \"carol@example.org\", \"dan@example.org\"]' ]"
post -u api:WRONG -F to=bob@example.org -F "message=@$WORK/msg.eml" "$MG"
rejected "mailgun: a wrong key is 401" 401 "wrong credentials"
post -u api:MGKEY -F to=bob@example.org -F "message=<$WORK/msg.eml" "$MG"
rejected "mailgun: the message as a plain field, not a file upload: 400" 400 \
    "not a file upload"
post -u api:MGKEY -F "message=@$WORK/msg.eml" "$MG"
rejected "mailgun: no to field: 400" 400 "'to' parameter is missing"
post -u api:MGKEY -F to=bob@example.org -F "message=@$WORK/msg.eml" \
    "$U/v3/other.example/messages.mime"
rejected "mailgun: another domain: 404 Domain not found" 404 "Domain not found"

# ---- ses ----------------------------------------------------------------
SES=$U/v2/email/outbound-emails
json_file "$WORK/ses.json" '{"Content": {"Raw": {"Data": b64}},
    "Destination": {"ToAddresses": ["bob@example.org"],
                    "BccAddresses": ["hidden@example.org"]},
    "FromEmailAddress": "alice@example.org"}'
SIGV4="--aws-sigv4 aws:amz:us-east-1:ses"
post $SIGV4 -u AKIDEXAMPLE:SESSECRET -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses.json" "$SES"
accepted "ses: Raw.Data signed by curl's own SigV4: 200" 200
SES_OK=$N
check "ses: the answer has a MessageId and an x-amzn-RequestId" \
    sh -c "grep -q MessageId '$WORK/resp' && grep -qi '^x-amzn-RequestId: ' '$WORK/hdrs'"
check "ses: Raw.Data decodes to the message byte for byte" \
    cmp "$R/$(printf %04d $N).eml" "$WORK/msg.eml"
check "ses: envelope from FromEmailAddress and Destination (Bcc too)" sh -c \
    "[ '$(httpapi_get "$R" $N envelope)' = '{\"from\": \"alice@example.org\", \"to\": [\"bob@example.org\", \"hidden@example.org\"]}' ]"
post $SIGV4 -u AKIDEXAMPLE:NOTTHESECRET -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses.json" "$SES"
rejected "ses: signed with another secret: 403 SignatureDoesNotMatch" 403 \
    "signature we calculated does not match"
check "ses: ... typed in x-amzn-ErrorType" sh -c \
    "[ '$(hdr x-amzn-ErrorType)' = SignatureDoesNotMatch ]"
# the accepted request's signature over another body
sed 's/hidden@/other@/' "$WORK/ses.json" > "$WORK/ses-tampered.json"
post -H "Authorization: $(rec_hdr $SES_OK Authorization)" \
    -H "X-Amz-Date: $(rec_hdr $SES_OK X-Amz-Date)" \
    -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses-tampered.json" "$SES"
rejected "ses: a valid signature replayed over a tampered body: 403" 403 \
    "signature we calculated does not match"
post --aws-sigv4 aws:amz:us-east-1:email -u AKIDEXAMPLE:SESSECRET \
    -H 'Content-Type: application/json' --data-binary "@$WORK/ses.json" "$SES"
rejected "ses: signed for service email, not ses: 403" 403 "service 'email'"
if have_faketime; then
	# an hour back the test certificate is not valid yet: -k
	post_faked() { faked -1h curl -sS -k \
	    -o "$WORK/resp" -D "$WORK/hdrs" -w '%{http_code}' "$@"; }
	_before=$(httpapi_count "$R")
	CODE=$(post_faked $SIGV4 -u AKIDEXAMPLE:SESSECRET \
	    -H 'Content-Type: application/json' \
	    --data-binary "@$WORK/ses.json" "$SES" 2> "$WORK/curl.err")
	N=$((_before + 1))
	rejected "ses: X-Amz-Date an hour old: 400 RequestExpired" 400 \
	    "Signature expired"
else
	echo "ok $((T = T + 1)) # SKIP faketime missing"
fi
json_file "$WORK/ses-simple.json" '{"Content": {"Simple": {"Subject":
    {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
    "Destination": {"ToAddresses": ["bob@example.org"]}}'
post $SIGV4 -u AKIDEXAMPLE:SESSECRET -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses-simple.json" "$SES"
rejected "ses: Content.Simple instead of Raw: 400 (plume)" 400 \
    "plume: Content.Raw"
json_file "$WORK/ses-nodest.json" '{"Content": {"Raw": {"Data": b64}}}'
post $SIGV4 -u AKIDEXAMPLE:SESSECRET -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses-nodest.json" "$SES"
rejected "ses: no Destination: 400 (plume: the envelope would be lost)" 400 \
    "no Destination"

# ---- sparkpost ------------------------------------------------------------
SP=$U/api/v1/transmissions
json_file "$WORK/sp.json" '{"recipients": [{"address": {"email":
    "bob@example.org"}}, {"address": {"email": "hidden@example.org",
    "header_to": "bob@example.org"}}], "content": {"email_rfc822": msg},
    "options": {"click_tracking": False, "open_tracking": False}}'
post -H 'Authorization: SPKEY' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/sp.json" "$SP"
accepted "sparkpost: email_rfc822, tracking off: 200" 200
check "sparkpost: results count two accepted recipients" body_has \
    'r["results"]["total_accepted_recipients"] == 2 and r["results"]["total_rejected_recipients"] == 0 and r["results"]["id"]'
check "sparkpost: email_rfc822 is the message byte for byte" \
    cmp "$R/$(printf %04d $N).eml" "$WORK/msg.eml"
json_file "$WORK/sp-track.json" '{"recipients": [{"address": {"email":
    "bob@example.org"}}], "content": {"email_rfc822": msg},
    "options": {"open_tracking": False}}'
post -H 'Authorization: SPKEY' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/sp-track.json" "$SP"
rejected "sparkpost: click_tracking left out: 422 (plume: DKIM)" 422 \
    "options.click_tracking must be false"
check "sparkpost: ... answered {errors: [{message, code}]}" body_has \
    'r["errors"][0]["code"] == "1300" and r["errors"][0]["message"]'
post -H 'Authorization: Bearer SPKEY' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/sp.json" "$SP"
rejected "sparkpost: Bearer scheme (the key goes bare): 401" 401 \
    "Authorization must be the API key itself"

# ---- sendgrid ---------------------------------------------------------------
SG=$U/v3/mail/send
json_file "$WORK/sg.json" '{"personalizations": [{"to": [{"email":
    "bob@example.org"}], "bcc": [{"email": "hidden@example.org"}]}],
    "from": {"email": "alice@example.org"}, "subject": "s",
    "content": [{"type": "text/plain", "value": "t"},
                {"type": "text/html", "value": "<p>t</p>"}],
    "attachments": [{"content": "aGVsbG8=", "filename": "a.txt"}],
    "reply_to": {"email": "alice@example.org"}}'
sg() { post -H 'Authorization: Bearer SG.KEY' -H 'Content-Type: application/json' \
    --data-binary "@$1" "$SG"; }
sg "$WORK/sg.json"
accepted "sendgrid: a documented mail/send: 202" 202
check "sendgrid: empty body and an X-Message-Id" sh -c \
    "[ ! -s '$WORK/resp' ] && [ -n '$(hdr X-Message-Id)' ]"
json_file "$WORK/sg-order.json" '{"personalizations": [{"to": [{"email":
    "bob@example.org"}]}], "from": {"email": "alice@example.org"},
    "subject": "s", "content": [{"type": "text/html", "value": "<p>t</p>"},
    {"type": "text/plain", "value": "t"}]}'
sg "$WORK/sg-order.json"
rejected "sendgrid: text/html before text/plain: 400" 400 \
    "text/plain content type must be first"
check "sendgrid: ... answered {errors: [{message, field, help}]}" body_has \
    'r["errors"][0]["field"] == "content" and "help" in r["errors"][0]'
json_file "$WORK/sg-many.json" '{"personalizations": [{"to": [{"email":
    "r%d@example.org" % i} for i in range(1001)]}],
    "from": {"email": "alice@example.org"}, "subject": "s",
    "content": [{"type": "text/plain", "value": "t"}]}'
sg "$WORK/sg-many.json"
rejected "sendgrid: 1001 recipients: 400" 400 "limit of 1000 total recipients"
json_file "$WORK/sg-hdr.json" '{"personalizations": [{"to": [{"email":
    "bob@example.org"}]}], "from": {"email": "alice@example.org"},
    "subject": "s", "content": [{"type": "text/plain", "value": "t"}],
    "headers": {"DKIM-Signature": "v=1"}}'
sg "$WORK/sg-hdr.json"
rejected "sendgrid: a reserved header (DKIM-Signature): 400" 400 \
    "reserved and cannot be used: DKIM-Signature"
json_file "$WORK/sg-att.json" '{"personalizations": [{"to": [{"email":
    "bob@example.org"}]}], "from": {"email": "alice@example.org"},
    "subject": "s", "content": [{"type": "text/plain", "value": "t"}],
    "attachments": [{"content": "not base64!", "filename": "a"}]}'
sg "$WORK/sg-att.json"
rejected "sendgrid: an attachment not in base64: 400" 400 "base64"
post -H 'Authorization: Bearer WRONG' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/sg.json" "$SG"
rejected "sendgrid: a wrong key: 401" 401 "authorization grant is invalid"

# ---- postmark ----------------------------------------------------------------
PM=$U/email
pm() { post -H 'Accept: application/json' -H 'Content-Type: application/json' \
    -H "X-Postmark-Server-Token: ${TOKEN:-PMTOKEN}" --data-binary "@$1" "$PM"; }
json_file "$WORK/pm.json" '{"From": "Alice <alice@example.org>",
    "To": "bob@example.org", "Bcc": "hidden@example.org", "Subject": "s",
    "TextBody": "t", "HtmlBody": "<p>t</p>", "MessageStream": "outbound",
    "Headers": [{"Name": "X-Test", "Value": "1"}]}'
pm "$WORK/pm.json"
accepted "postmark: a documented /email: 200" 200
check "postmark: {To, SubmittedAt, MessageID, ErrorCode 0, Message OK}" \
    body_has 'r["ErrorCode"] == 0 and r["Message"] == "OK" and r["MessageID"] and r["SubmittedAt"] and r["To"] == "bob@example.org"'
json_file "$WORK/pm-many.json" '{"From": "alice@example.org",
    "To": ", ".join("r%d@example.org" % i for i in range(51)),
    "TextBody": "t"}'
pm "$WORK/pm-many.json"
rejected "postmark: 51 recipients: 422 ErrorCode 300" 422 "maximum of 50"
check "postmark: ... answered {ErrorCode: 300, Message}" body_has \
    'r["ErrorCode"] == 300 and r["Message"]'
json_file "$WORK/pm-nobody.json" '{"From": "alice@example.org",
    "To": "bob@example.org", "Subject": "s"}'
pm "$WORK/pm-nobody.json"
rejected "postmark: neither TextBody nor HtmlBody: 422" 422 \
    "Provide either email TextBody or HtmlBody"
json_file "$WORK/pm-gone.json" '{"From": "alice@example.org",
    "To": "gone@example.org", "TextBody": "t"}'
pm "$WORK/pm-gone.json"
check "postmark: an inactive recipient: 422 ErrorCode 406" sh -c \
    "[ $CODE = 422 ] && grep -q '\"ErrorCode\": 406' '$WORK/resp'"
TOKEN=WRONG pm "$WORK/pm.json"
rejected "postmark: a wrong server token: 401 ErrorCode 10" 401 \
    "valid Server token"
post -H 'Content-Type: application/json' -H 'X-Postmark-Server-Token: PMTOKEN' \
    --data-binary "@$WORK/pm.json" "$PM"
rejected "postmark: no Accept: application/json: 422 (JSON required)" 422 \
    "JSON required: Accept"

# ---- webhook ----------------------------------------------------------------
WH=$U/plume/submit
# hook [TS [SECRET [TOKEN]]]: post the message, signed with openssl
hook() {
	ts=${1:-$(date +%s)}
	sig=$( { printf '%s.' "$ts"; cat "$WORK/msg.eml"; } |
	    openssl dgst -sha256 -hmac "${2:-HOOKSECRET}" -r | cut -d' ' -f1)
	post -H "Authorization: Bearer ${3:-HOOKTOKEN}" \
	    -H 'Content-Type: message/rfc822' \
	    -H 'X-Plume-Sender: alice@example.org' \
	    -H 'X-Plume-Recipient: bob@example.org' \
	    -H 'X-Plume-Recipient: hidden@example.org' \
	    -H "X-Plume-Timestamp: $ts" -H "X-Plume-Signature: sha256=$sig" \
	    --data-binary "@$WORK/msg.eml" "$WH"
}
hook
accepted "webhook: raw message, envelope headers, bearer, HMAC: 202" 202
check "webhook: the body is the message byte for byte" \
    cmp "$R/$(printf %04d $N).eml" "$WORK/msg.eml"
check "webhook: one sender, two recipients" sh -c \
    "[ '$(httpapi_get "$R" $N envelope)' = '{\"from\": \"alice@example.org\", \"to\": [\"bob@example.org\", \"hidden@example.org\"]}' ]"
hook "" WRONGSECRET
rejected "webhook: a wrong HMAC: 401" 401 "X-Plume-Signature does not match"
hook $(( $(date +%s) - 301 ))
rejected "webhook: a timestamp 301 s old: 401" 401 "is stale"
hook "" "" WRONGTOKEN
rejected "webhook: a wrong bearer token: 401" 401 "Bearer TOKEN"

# ---- paths, scripts, connections ------------------------------------------
post -H 'Authorization: Bearer SG.KEY' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/sg.json" "$U/v3/mail/sendx"
rejected "sendgrid: a wrong path: 404 in SendGrid's shape" 404 "no such path"
check "sendgrid: ... {errors: [...]}" body_has 'r["errors"][0]["message"]'
post -H 'Content-Type: application/json' -d '{}' "$U/nowhere"
rejected "a path no provider owns: 404 and a violation" 404 "no provider"
httpapi_script "$R" "429 retry-after=30"
sg "$WORK/sg.json"
check "script: 429 retry-after=30 to SendGrid: Retry-After and X-RateLimit-Reset" \
    sh -c "[ $CODE = 429 ] && [ '$(hdr Retry-After)' = 30 ] && [ -n '$(hdr X-RateLimit-Reset)' ] && grep -q 'too many requests' '$WORK/resp' && [ '$(httpapi_get "$R" $N verdict)' = scripted ]"
sg "$WORK/sg.json"
accepted "script: the line is consumed, the next request is judged" 202
httpapi_script "$R" "400 code=AccountSuspendedException"
post $SIGV4 -u AKIDEXAMPLE:SESSECRET -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses.json" "$SES"
check "script: SES 400 code=AccountSuspendedException in x-amzn-ErrorType" \
    sh -c "[ $CODE = 400 ] && [ '$(hdr x-amzn-ErrorType)' = AccountSuspendedException ]"
httpapi_script "$R" drop
pm "$WORK/pm.json"
check "script: drop: recorded, then the connection closes without an answer" \
    sh -c "[ $CURL_RC = 52 ] || [ $CURL_RC = 56 ] && [ '$(httpapi_get "$R" $N verdict)' = dropped ]"
httpapi_script "$R" slow=1
t0=$(date +%s%N)
pm "$WORK/pm.json"
t1=$(date +%s%N)
check "script: slow=1 answers after a second" \
    sh -c "[ $CODE = 200 ] && [ $(( (t1 - t0) / 1000000 )) -ge 1000 ]"
# keep-alive: one curl, two URLs, one connection; another curl, another
post -o /dev/null -H 'Accept: application/json' -H 'Content-Type: application/json' \
    -H 'X-Postmark-Server-Token: PMTOKEN' --data-binary "@$WORK/pm.json" \
    "$PM" "$PM"
c1=$(httpapi_get "$R" $N connection) c2=$(httpapi_get "$R" $((N + 1)) connection)
k2=$(httpapi_get "$R" $((N + 1)) request_on_connection)
pm "$WORK/pm.json"
c3=$(httpapi_get "$R" $N connection)
check "keep-alive: two requests share a connection serial, a new client does not" \
    sh -c "[ $c1 = $c2 ] && [ $k2 = 2 ] && [ $c3 != $c1 ]"

# ---- a second server: SES alone, with a session token -----------------------
cat > "$WORK/ses-token.json" <<'EOF'
{"ses": {"access_key": "AKIDTEMP", "secret_key": "TEMPSECRET",
         "region": "eu-west-1", "session_token": "SESSIONTOKEN"}}
EOF
R1=$R
R=$WORK/rec2
httpapi_start "$R" "$WORK/ses-token.json"
SES2=$HTTPAPI_URL/v2/email/outbound-emails
post --aws-sigv4 aws:amz:eu-west-1:ses -u AKIDTEMP:TEMPSECRET \
    -H 'x-amz-security-token: SESSIONTOKEN' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses.json" "$SES2"
accepted "ses: temporary credentials with x-amz-security-token: 200" 200
post --aws-sigv4 aws:amz:eu-west-1:ses -u AKIDTEMP:TEMPSECRET \
    -H 'Content-Type: application/json' --data-binary "@$WORK/ses.json" "$SES2"
rejected "ses: the session token left out: 403" 403 "x-amz-security-token missing"
post --aws-sigv4 aws:amz:eu-west-1:ses -u AKIDTEMP:TEMPSECRET \
    -H 'x-amz-security-token: SESSIONTOKEN' -H 'Content-Type: application/json' \
    --data-binary "@$WORK/ses.json" "$HTTPAPI_URL/v2/email/outbound-email"
rejected "ses alone: a wrong path is SES's own 404 NotFoundException" 404 \
    "no such path" && :
check "ses alone: ... typed NotFoundException" sh -c \
    "[ '$(hdr x-amzn-ErrorType)' = NotFoundException ]"
check "every request left a .json and a .body" sh -c \
    "[ \$(ls '$R1'/*.json | wc -l) = \$(ls '$R1'/*.body | wc -l) ] && [ \$(ls '$R'/*.json | wc -l) = 3 ]"
[ "$FAILED" -eq 0 ] || { diag "server log:"; sed 's/^/# /' "$R1/log" | tail -n 40; }
exit 0
