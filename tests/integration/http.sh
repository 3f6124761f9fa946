#!/bin/sh
# http.sh - the http transport against tests/integration/httpapi.py, a
# strict impersonation of each provider's documented API over HTTPS with
# a test CA: Mailgun, SES (the server checks SigV4 itself), SparkPost,
# SendGrid, Postmark and the webhook (HMAC checked by the server).  The
# raw-message providers must deliver the message byte for byte: plume
# signs it with DKIM and both independent verifiers of dkim.sh check
# the copy the server received.  Then every kind of answer: refused
# keys, too large, inactive recipients, 429 with Retry-After through the
# queue (deferred, not retried early, delivered once after; in a queue
# run it pauses the transport: one request, not one per message), 5xx, a
# dropped connection, nothing listening, an untrusted certificate; and
# keep-alive in a queue run, recipients split over requests, secrets
# never in -v output, proxies (tests/integration/connectproxy.py).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/http-lib.sh"

PY=/usr/bin/python3
# In an ASan build, LeakSanitizer's exit-time scan of an SES delivery
# crashes on a stale dynamic-TLS entry ("Tracer caught signal 11", DTLS
# at 0x128) that a library loaded under libcurl/OpenSSL leaves behind: a
# fault of the scanner, not a leak.  Leaks here are checked by valgrind
# (make check PLUME_VALGRIND=1), as ratelimit.sh does under faketime.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
if [ ! -e "$PLUGINS/http.so" ]; then
	echo "1..0 # SKIP the http plugin is not built"
	exit 0
fi
http_need
"$PY" -c 'import dkim' 2>/dev/null ||
    { echo "1..0 # SKIP python3-dkim missing (sh build-aux/deps.sh test)"; exit 0; }
command -v opendkim > /dev/null ||
    { echo "1..0 # SKIP opendkim missing (sh build-aux/deps.sh test)"; exit 0; }

plan 57

# ---- the server, keys, a DKIM key ----------------------------------------
cat > "$WORK/providers.json" <<'EOF'
{"mailgun":   {"domain": "mg.example.org", "key": "MGKEY"},
 "ses":       {"access_key": "AKIDPLUMETEST", "secret_key": "SESSECRET",
               "region": "eu-west-1"},
 "sparkpost": {"key": "SPKEY"},
 "sendgrid":  {"key": "SG.KEY"},
 "postmark":  {"token": "PMTOKEN", "inactive": ["gone@example.org"]},
 "webhook":   {"path": "/plume/submit", "token": "HOOKTOKEN",
               "secret": "HMACSECRET"}}
EOF
httpapi_start "$WORK/api" "$WORK/providers.json" || exit 1
API=$HTTPAPI_DIR
URL=$HTTPAPI_URL
secret() {	# secret NAME VALUE: a 0600 key file
	printf '%s\n' "$2" > "$WORK/$1"
	chmod 600 "$WORK/$1"
}
secret mg.key MGKEY
secret ses.key SESSECRET
secret sp.key SPKEY
secret sg.key SG.KEY
secret pm.key PMTOKEN
secret hook.key HOOKTOKEN
secret hook.hmac HMACSECRET
secret bad.key WRONG

openssl genpkey -algorithm ed25519 -out "$WORK/dkim.pem" 2>/dev/null
chmod 600 "$WORK/dkim.pem"
printf 'sel._domainkey.example.org v=DKIM1; k=ed25519; p=%s\n' \
    "$(openssl pkey -in "$WORK/dkim.pem" -pubout -outform DER | tail -c 32 |
    base64 -w0)" > "$WORK/keys.txt"

# conf PROVIDER-SECTION-LINES...: the pipeline signs, then the http
# instance "api" delivers (to $URL$BASE_PATH)
conf() {
	write_conf "pipeline = dkim, http:api" "[dkim]" "domain = example.org" \
	    "selector = sel" "key = $WORK/dkim.pem" "[http \"api\"]" \
	    "base_url = $URL${BASE_PATH:-}" "tls_ca_file = $TLS_DIR/ca.pem" \
	    "$@"
}
# the last request's record: field PATH
last() { httpapi_get "$API" "$(httpapi_count "$API")" "$1"; }
# the JSON body of the last request, read by python: jbody EXPR
jbody() {
	"$PY" - "$API/$(printf %04d "$(httpapi_count "$API")").body" "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2], {"j": j}))
PY
}
# the message the server extracted verifies (DKIM): the bytes arrived
# unchanged
dkim_ok() {	# dkim_ok PROVIDER
	[ "$(last provider)" = "$1" ] &&
	    "$PY" "$top_srcdir/tests/integration/dkim/verify.py" \
	    "$WORK/keys.txt" \
	    "$API/$(printf %04d "$(httpapi_count "$API")").eml"
}
accepted() {	# accepted: exit 0, the last request correct and accepted
	[ "$RC" -eq 0 ] && [ "$(last verdict)" = accepted ] &&
	    [ "$(last violations)" = "[]" ] && return 0
	echo "exit $RC, $(last verdict): $(last violations)"
	head -n 5 "$WORK/err"
	return 1
}
# the last request's envelope recipients, sorted, on one line
last_to() { last envelope.to | tr -d '[]" ' | tr ',' '\n' | sort | xargs; }
n_before() { N0=$(httpapi_count "$API"); }
n_new() { echo $(($(httpapi_count "$API") - N0)); }
# plain queued state: every recipient pending, the last error given
queued_with() {	# queued_with TEXT
	[ "$RC" -eq 0 ] && "$WORK/bin/mailq" -C "$CONF" | grep -q "$1"
}
flush_queue() { rm -rf "$QUEUE/deferred"; }

# 8-bit UTF-8 body, a Cc, and a Bcc-only recipient (d@) on the command line
printf 'From: Ann <a@example.org>\nTo: Bob <b@example.org>\nCc: c@example.org\nSubject: =?UTF-8?Q?h=C3=A9llo?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\303\274\303\237e, this is the body.\n.leading dot\n\n' > "$WORK/msg"
RCPTS="b@example.org c@example.org d@example.org"

write_conf "pipeline = http:mailgun" \
    "include = $top_srcdir/etc/conf.d/http.conf.sample"
check "the sample config passes config check" "$PLUME" -C "$CONF" config check

# ---- raw-message providers: byte for byte --------------------------------
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key"
run_sm "$WORK/msg" -C "$CONF" -v -t d@example.org
check "mailgun: accepted, the request as documented" accepted
check "mailgun: Basic auth api:KEY, multipart with one 'to' per recipient, Bcc included" \
    test "$(last_to)" = "$RCPTS"
check "mailgun: the message arrived byte for byte (DKIM verifies)" \
    dkim_ok mailgun
check "mailgun: the provider's id is logged" \
    grep -q "remote_id=$(last response_body | sed -n 's/.*"id": "\([^"]*\)".*/\1/p')" "$WORK/err"

conf "provider = ses" "region = eu-west-1" \
    "aws_access_key_id = AKIDPLUMETEST" "api_key_file = $WORK/ses.key"
run_sm "$WORK/msg" -C "$CONF" -t d@example.org
check "ses: accepted: the server's own SigV4 check passed" accepted
check "ses: Destination holds every envelope recipient" \
    test "$(last_to)" = "$RCPTS"
check "ses: Content.Raw arrived byte for byte (DKIM verifies)" dkim_ok ses

conf "provider = ses" "region = eu-west-1"
AWS_ACCESS_KEY_ID=AKIDPLUMETEST AWS_SECRET_ACCESS_KEY=SESSECRET \
    run_sm "$WORK/msg" -C "$CONF" -t
check "ses: credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" accepted
AWS_ACCESS_KEY_ID=AKIDPLUMETEST AWS_SECRET_ACCESS_KEY=WRONG \
    run_sm "$WORK/msg" -C "$CONF" -t
check "ses: a wrong secret key: refused by the signature check (exit 69, SignatureDoesNotMatch)" \
    sh -c "[ $RC -eq 69 ] && grep -q 'SignatureDoesNotMatch' '$WORK/err'"

conf "provider = sparkpost" "api_key_command = /bin/cat $WORK/sp.key"
run_sm "$WORK/msg" -C "$CONF" -t d@example.org
check "sparkpost: accepted, open and click tracking off, key from api_key_command" accepted
check "sparkpost: email_rfc822 arrived byte for byte (DKIM verifies)" \
    dkim_ok sparkpost

BASE_PATH=/plume/submit
conf "provider = webhook" \
    "api_key_file = $WORK/hook.key" "signing_secret_file = $WORK/hook.hmac"
run_sm "$WORK/msg" -C "$CONF" -f env@example.org -t d@example.org
check "webhook: accepted with the bearer token and a valid HMAC signature" accepted
check "webhook: envelope in X-Plume-Sender and X-Plume-Recipient" \
    sh -c "[ '$(last_to)' = '$RCPTS' ] && [ '$(last envelope.from)' = env@example.org ]"
check "webhook: the body arrived byte for byte (DKIM verifies)" \
    dkim_ok webhook
conf "provider = webhook" \
    "api_key_file = $WORK/hook.key" "signing_secret_file = $WORK/bad.key"
run_sm "$WORK/msg" -C "$CONF" -t
BASE_PATH=
check "webhook: a wrong signing secret is refused by the endpoint (exit 69)" \
    sh -c "[ $RC -eq 69 ] && [ '$(last verdict)' = rejected ]"

# ---- JSON providers --------------------------------------------------------
conf "provider = sendgrid" "api_key_file = $WORK/sg.key"
run_sm "$WORK/msg" -C "$CONF" -v -t d@example.org
check "sendgrid: accepted (202), the JSON as documented" accepted
check "sendgrid: to, cc and bcc from the envelope and the headers" \
    test "$(jbody '[[a["email"] for a in j["personalizations"][0][k]] for k in ("to", "cc", "bcc")]')" = \
    "[['b@example.org'], ['c@example.org'], ['d@example.org']]"
check "sendgrid: the decoded subject and the UTF-8 body" \
    test "$(jbody 'j["subject"] + "|" + j["content"][0]["value"].split(",")[0]')" = "héllo|Grüße"
check "sendgrid: a warning that plume's DKIM signature does not survive" \
    grep -q "re-signs it with its own DKIM key" "$WORK/err"
check "sendgrid: X-Message-Id logged as the provider's id" \
    grep -q "remote_id=" "$WORK/err"

conf "provider = postmark" "api_key_file = $WORK/pm.key" \
    "message_stream = outbound"
run_sm "$WORK/msg" -C "$CONF" -t d@example.org
check "postmark: accepted, the JSON as documented" accepted
check "postmark: To, Cc, Bcc and the stream" \
    test "$(jbody 'j["To"] + "|" + j["Cc"] + "|" + j["Bcc"] + "|" + j["MessageStream"]')" = \
    "Bob <b@example.org>|c@example.org|d@example.org|outbound"
printf 'From: a@example.org\nSubject: bcc only\n\nx\n' > "$WORK/bcc"
n_before
run_sm "$WORK/bcc" -C "$CONF" x@example.org y@example.org
check "postmark: two Bcc-only recipients: one request each, neither sees the other" \
    sh -c "[ $RC -eq 0 ] && [ $(n_new) -eq 2 ]"
run_sm "$WORK/bcc" -C "$CONF" gone@example.org
check "postmark: an inactive recipient (ErrorCode 406) is permanent: exit 67" \
    sh -c "[ $RC -eq 67 ] && grep -q '550 5.1.1' '$WORK/err'"

# ---- refusals -------------------------------------------------------------
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/bad.key"
run_sm "$WORK/msg" -C "$CONF" -t
check "a refused API key: permanent, exit 69, the words say so" \
    sh -c "[ $RC -eq 69 ] && grep -q '535 5.7.8 mailgun: HTTP 401: the API key or credentials were refused' '$WORK/err'"
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/bad.key" "auth_failure = defer"
run_sm "$WORK/msg" -C "$CONF" -t
check "... with auth_failure = defer it waits in the queue" \
    queued_with "HTTP 401"
flush_queue

conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key"
httpapi_script "$API" "413"
run_sm "$WORK/msg" -C "$CONF" -t
check "413: too large, permanent (552 5.3.4)" \
    sh -c "[ $RC -eq 69 ] && grep -q '552 5.3.4' '$WORK/err'"
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key" "max_size = 100"
n_before
run_sm "$WORK/msg" -C "$CONF" -t
check "larger than max_size: refused before any upload" \
    sh -c "[ $RC -eq 69 ] && [ $(n_new) -eq 0 ] && grep -q 'larger than max_size' '$WORK/err'"

conf "provider = ses" "region = eu-west-1" \
    "aws_access_key_id = AKIDPLUMETEST" "api_key_file = $WORK/ses.key"
httpapi_script "$API" "400 code=MessageRejected"
run_sm "$WORK/msg" -C "$CONF" -t
check "ses MessageRejected: permanent (554 5.7.1) with the request id" \
    sh -c "[ $RC -eq 69 ] && grep -q '554 5.7.1' '$WORK/err' && grep -q 'request ' '$WORK/err'"
httpapi_script "$API" "400 code=AccountSuspendedException"
run_sm "$WORK/msg" -C "$CONF" -t
check "ses account suspended: kept in the queue for the admin to fix" \
    queued_with "4.7.0"
flush_queue

# ---- temporary failures and the queue --------------------------------------
conf "provider = sendgrid" "api_key_file = $WORK/sg.key"
httpapi_script "$API" "429 retry-after=4"
n_before
run_sm "$WORK/msg" -C "$CONF" -t
check "429 with Retry-After: queued, exit 0, rate limited (451 4.7.0)" \
    queued_with "451 4.7.0 sendgrid: HTTP 429: rate limited"
"$PLUME" -C "$CONF" queue run 2>/dev/null
check "... a queue run before Retry-After has passed sends nothing" \
    test "$(n_new)" -eq 1
sleep 4
"$PLUME" -C "$CONF" queue run 2>/dev/null
check "... after it, one more request, accepted: delivered once" \
    sh -c "[ $(n_new) -eq 2 ] && [ '$(last verdict)' = accepted ] && [ -z \"\$(ls '$QUEUE/deferred')\" ]"

# a 429 in a queue run pauses the transport for the rest of the run:
# four due messages, one request; the other three wait, not as an attempt
for i in 1 2 3 4; do
	run_sm "$WORK/msg" -C "$CONF" -odq -t
done
httpapi_script "$API" "429 retry-after=3"
n_before
t0=$(date +%s)
"$PLUME" -C "$CONF" -v queue run > "$WORK/run.out" 2>&1
check "429 in a queue run: one request for four messages, one line logged" \
    sh -c "[ $(n_new) -eq 1 ] && [ \$(grep -c 'asked to slow down (451 4.7.0' '$WORK/run.out') -eq 1 ] && grep -q ' 3 held' '$WORK/run.out'"
check "... all four still queued, next attempt at Retry-After, only one attempted" \
    sh -c "[ \$(ls '$QUEUE/deferred' | grep -c '\.env\$') -eq 4 ] && [ \$(grep -h '^next_attempt ' '$QUEUE'/deferred/*.env | awk -v t=$((t0 + 3)) '\$2 >= t' | wc -l) -eq 4 ] && [ \$(grep -h '^attempts 1\$' '$QUEUE'/deferred/*.env | wc -l) -eq 1 ]"
sleep 4
"$PLUME" -C "$CONF" queue run 2>/dev/null
check "... after it, delivered: four requests, the queue empty" \
    sh -c "[ $(n_new) -eq 5 ] && [ -z \"\$(ls '$QUEUE/deferred')\" ]"

conf "provider = postmark" "api_key_file = $WORK/pm.key"
httpapi_script "$API" "503"
run_sm "$WORK/msg" -C "$CONF" -t
check "503: temporary, queued" queued_with "451 4.3.0 postmark: HTTP 503"
flush_queue
httpapi_script "$API" "drop"
run_sm "$WORK/msg" -C "$CONF" -t
check "dropped connection after the whole request: queued, and the text warns of a duplicate" \
    queued_with "duplicate is possible"
flush_queue
conf "provider = postmark" "api_key_file = $WORK/pm.key" "timeout = 2s"
httpapi_script "$API" "slow=5"
run_sm "$WORK/msg" -C "$CONF" -t
check "a silent server: the timeout ends it (451 4.4.2), queued" \
    queued_with "451 4.4.2"
flush_queue

write_conf "pipeline = http:api" "[http \"api\"]" "provider = mailgun" \
    "domain = mg.example.org" "api_key_file = $WORK/mg.key" \
    "base_url = https://127.0.0.1:$(free_port)" \
    "tls_ca_file = $TLS_DIR/ca.pem"
run_sm "$WORK/msg" -C "$CONF" -t
check "nothing listening: queued (451 4.4.1)" queued_with "451 4.4.1"
flush_queue
write_conf "pipeline = http:api" "[http \"api\"]" "provider = mailgun" \
    "domain = mg.example.org" "api_key_file = $WORK/mg.key" \
    "base_url = $URL"
n_before
run_sm "$WORK/msg" -C "$CONF" -t
check "a certificate the system store does not trust: queued, nothing sent" \
    sh -c "[ $RC -eq 0 ] && [ $(n_new) -eq 0 ] && '$WORK/bin/mailq' -C '$CONF' | grep -q 'certificate'"
flush_queue
write_conf "pipeline = http:api" "[http \"api\"]" "provider = mailgun" \
    "domain = mg.example.org" "api_key_file = $WORK/mg.key" \
    "base_url = http://127.0.0.1:1"
run_sm "$WORK/msg" -C "$CONF" -t
check "base_url without https: a config error (78) naming it" \
    sh -c "[ $RC -eq 78 ] && grep -q 'base_url must start with https://' '$WORK/err'"
write_conf "pipeline = http:api" "[http \"api\"]" "provider = mailgun" \
    "api_key_file = $WORK/mg.key"
run_sm "$WORK/msg" -C "$CONF" -t
check "mailgun without domain: a config error (78)" \
    sh -c "[ $RC -eq 78 ] && grep -q 'needs domain' '$WORK/err'"
chmod 644 "$WORK/mg.key"
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key"
run_sm "$WORK/msg" -C "$CONF" -t
check "a key file readable by others: refused, the message waits" \
    queued_with "readable by others"
chmod 600 "$WORK/mg.key"
flush_queue

# ---- sessions, batches, secrets ---------------------------------------------
# one worker (queue_concurrency = 1): each worker keeps its own connection
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key"
sed -i '1i queue_concurrency = 1' "$CONF"
for i in 1 2 3; do run_sm "$WORK/msg" -C "$CONF" -odq -t; done
n_before
"$SENDMAIL" -C "$CONF" -q 2>/dev/null
c=$(httpapi_count "$API")
check "a queue run: three messages over one kept-alive connection" \
    sh -c "[ $(n_new) -eq 3 ] && [ '$(httpapi_get "$API" $((c - 2)) connection)' = '$(httpapi_get "$API" "$c" connection)' ] && [ '$(httpapi_get "$API" "$c" request_on_connection)' -eq 3 ]"
check "... and the queue is empty" test -z "$(ls "$QUEUE/deferred")"

conf "provider = ses" "region = eu-west-1" \
    "aws_access_key_id = AKIDPLUMETEST" "api_key_file = $WORK/ses.key"
many=$(i=1; while [ $i -le 60 ]; do printf 'r%d@example.org ' $i; i=$((i + 1)); done)
printf 'From: a@example.org\nSubject: many\n\nx\n' > "$WORK/many"
n_before
# shellcheck disable=SC2086
run_sm "$WORK/many" -C "$CONF" $many
c=$(httpapi_count "$API")
got=$( { httpapi_get "$API" $((c - 1)) envelope.to
    httpapi_get "$API" "$c" envelope.to; } | tr -d '[]" ' | tr ',' '\n' |
    sort | xargs)
check "ses: 60 recipients in two requests (50 + 10), each once" \
    sh -c "[ $RC -eq 0 ] && [ $(n_new) -eq 2 ] && [ '$got' = '$(echo $many | tr ' ' '\n' | sort | xargs)' ] && [ $(httpapi_get "$API" "$c" envelope.to | tr ',' '\n' | wc -l) -eq 10 ]"

conf "provider = postmark" "api_key_file = $WORK/pm.key"
run_sm "$WORK/msg" -C "$CONF" -v -t
check "-v: the request and answer headers are logged" \
    sh -c "grep -q '> POST /email HTTP/1.1' '$WORK/err' && grep -q '< HTTP/1.1 200' '$WORK/err'"
check "-v: the token header is redacted, the token never shown" \
    sh -c "grep -q 'X-Postmark-Server-Token: <redacted>' '$WORK/err' && ! grep -q PMTOKEN '$WORK/err'"
conf "provider = mailgun" "domain = mg.example.org" \
    "api_key_file = $WORK/mg.key"
run_sm "$WORK/msg" -C "$CONF" -v -t
check "-v: Basic credentials redacted too" \
    sh -c "grep -q 'Authorization: <redacted>' '$WORK/err' && ! grep -q 'TUdLRVk\|MGKEY' '$WORK/err'"

# ---- proxies -------------------------------------------------------------
"$PY" "$top_srcdir/tests/integration/connectproxy.py" "$WORK/proxy.port" \
    "$WORK/proxy.log" < /dev/null 2>/dev/null &
PROXY_PID=$!
smtp_at_exit "_smtp_kill $PROXY_PID"
wait_portfile "$PROXY_PID" "$WORK/proxy.port" || exit 1
PROXY=http://127.0.0.1:$(cat "$WORK/proxy.port")
conf "provider = sendgrid" "api_key_file = $WORK/sg.key" "proxy = $PROXY"
run_sm "$WORK/msg" -C "$CONF" -t
check "proxy key: the request went through the proxy's CONNECT tunnel" \
    sh -c "[ $RC -eq 0 ] && [ '$(last verdict)' = accepted ] && grep -qx 'CONNECT 127.0.0.1:$HTTPAPI_PORT' '$WORK/proxy.log'"
: > "$WORK/proxy.log"
conf "provider = sendgrid" "api_key_file = $WORK/sg.key"
https_proxy=$PROXY run_sm "$WORK/msg" -C "$CONF" -t
check "https_proxy in the environment is honoured too" \
    sh -c "[ $RC -eq 0 ] && grep -qx 'CONNECT 127.0.0.1:$HTTPAPI_PORT' '$WORK/proxy.log'"
: > "$WORK/proxy.log"
https_proxy=$PROXY no_proxy=127.0.0.1 run_sm "$WORK/msg" -C "$CONF" -t
check "... and no_proxy bypasses it" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$WORK/proxy.log' ]"

# ---- SES credentials from a shared file, with a session token -------------
cat > "$WORK/providers2.json" <<'EOF'
{"ses": {"access_key": "ASIATEMP", "secret_key": "TEMPSECRET",
         "region": "us-east-1", "session_token": "TOKEN/with+chars="}}
EOF
httpapi_start "$WORK/api2" "$WORK/providers2.json" || exit 1
printf '[default]\naws_access_key_id = OTHER\naws_secret_access_key = X\n\n[plume]\naws_access_key_id = ASIATEMP\naws_secret_access_key = TEMPSECRET\naws_session_token = TOKEN/with+chars=\n' > "$WORK/aws-credentials"
chmod 600 "$WORK/aws-credentials"
write_conf "pipeline = http:ses" "[http \"ses\"]" "provider = ses" \
    "region = us-east-1" "base_url = $HTTPAPI_URL" \
    "tls_ca_file = $TLS_DIR/ca.pem" \
    "aws_credentials_file = $WORK/aws-credentials" "aws_profile = plume"
run_sm "$WORK/msg" -C "$CONF" -t
check "ses: a profile of a shared credentials file, with a session token" \
    sh -c "[ $RC -eq 0 ] && [ '$(httpapi_get "$WORK/api2" 1 verdict)' = accepted ]"
chmod 644 "$WORK/aws-credentials"
run_sm "$WORK/msg" -C "$CONF" -t
check "ses: a credentials file readable by others is refused, the message waits" \
    queued_with "readable by others"
flush_queue

# the five requests meant to be wrong: the SES secret, the webhook's
# HMAC secret, the inactive Postmark recipient, the Mailgun key twice
violated() {
	"$PY" - "$API" <<'PY'
import glob, json, sys
bad = [(f, r["violations"]) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))
       for r in [json.load(open(f))] if r["violations"]]
for f, v in bad:
    print(f.rsplit("/", 1)[1], v)
sys.exit(len(bad) != 5)
PY
}
check "no other request broke a provider's documented rules" violated

exit $FAILED
