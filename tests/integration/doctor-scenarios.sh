#!/bin/sh
# doctor-scenarios.sh - "plume doctor" against the real causes of "the app
# says sent, nobody received it": each scenario recreates one with real
# servers on 127.0.0.1 and asserts the diagnosis and the remedy doctor
# prints (docs/troubleshooting.md quotes these outputs).
#
# Part 1, on free ports: an expired certificate and one for another name
# (faultsmtp.py with smtp-lib.sh's test certificates), an AUTH mechanism
# the server does not offer, a relay refusing the sender at MAIL FROM
# (Postfix check_sender_access, smtpd_delay_reject = no), a queue full of
# old deferred mail over queue_max_per_user, rate-limit state, the
# webhook probe, a probe through an HTTP CONNECT proxy, and SES
# credentials refused (403 from httpapi.py's SigV4 check).
#
# Part 2, on the usual ports 25, 465, 587 and 2525: the test re-executes
# itself in a private network namespace (unshare -n, then ip link set lo
# up), so a local MTA is never in the way and never touched.  There a
# Postfix listens on 25/465/2525, then on 587/465/25, and doctor must find
# the right port and TLS mode: 587 closed or filtered but 465 answering
# implicit TLS, implicit TLS configured on the STARTTLS port and the other
# way round, a sender refused only at RCPT (Postfix's default
# smtpd_delay_reject), every port filtered, and a whole run against
# silent servers (SMTP, its failover, an HTTPS API) bounded well under a
# minute.
#
# "Filtered" is a listener whose accept queue is full (listen(0), filled
# by connections nobody accepts): Linux then drops further SYNs, exactly
# as a firewall's DROP rule does, so a connect times out.  It needs no
# iptables or nft (not installed here) and works the same in or out of a
# namespace; the test checks that a connect to it does time out.
#
# Part 2 is skipped, with the reason, when not root or when unshare -n or
# ip cannot make the namespace (sh build-aux/deps.sh test installs
# util-linux and iproute2).
if [ -z "${PLUME_NETNS:-}" ]; then
	PLUME_NETNS="needs root for a private network namespace"
	if [ "$(id -u)" -ne 0 ]; then :
	elif ! command -v unshare > /dev/null 2>&1 ||
	    ! command -v ip > /dev/null 2>&1; then
		PLUME_NETNS="unshare (util-linux) or ip (iproute2) is missing"
	elif ! unshare -n sh -c 'ip link set lo up' > /dev/null 2>&1; then
		PLUME_NETNS="unshare -n cannot make a network namespace here"
	else
		PLUME_NETNS=yes
		export PLUME_NETNS
		exec unshare -n sh -c 'ip link set lo up && exec sh "$0"' "$0"
	fi
	export PLUME_NETNS
fi
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
. "$top_srcdir/tests/integration/http-lib.sh"
. "$top_srcdir/tests/integration/doctor-lib.sh"
# the http probes run libcurl: LeakSanitizer's tracer crashes on what it
# leaves (see http.sh); leaks here are checked by PLUME_VALGRIND=1
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
smtp_need postfix
smtp_need fault
http_need

plan 32
LC_ALL=C.UTF-8
export LC_ALL
printf '%s\n' "$PF_PASS" > "$WORK/pw"
chmod 600 "$WORK/pw"
# Postfix refuses this sender at MAIL FROM (no delayed rejection)
printf 'intruder@other.example REJECT 5.7.1 not a sender of this account\n' \
    > "$WORK/sender_access"
postfix_start "smtpd_delay_reject = no" \
    "smtpd_sender_restrictions = check_sender_access texthash:$WORK/sender_access"
ok $? "private Postfix started on 127.0.0.1:$PF_PORT, $PF_TLS_PORT"

# ---- certificates ------------------------------------------------------------
fault_start ok --tls-cert "$TLS_DIR/expired.pem" --tls-key "$TLS_DIR/expired.key"
smtp_conf "$FAULT_PORT"
doctor
expect "expired certificate: the verdict, the expiry date, nothing sent over it" 1 \
    '^✗  smtp certificate: verification failed: certificate has expired \(subject CN = localhost, issuer CN = plume test CA\)' \
    "^   fix: the relay's admin must renew its certificate \\(it expired on 2020-02-01\\)"
! grep -q 'MAIL FROM' "$FAULT_DIR/transcript"
ok $? "expired certificate: no MAIL FROM went over the connection"
fault_stop

fault_start ok --tls-cert "$TLS_DIR/wrong.pem" --tls-key "$TLS_DIR/wrong.key"
smtp_conf "$FAULT_PORT"
doctor
expect "certificate for another name: the names it is for in the remedy" 1 \
    '^✗  smtp certificate: verification failed: IP address mismatch \(subject CN = wrong\.example' \
    '^   fix: set host = a name the certificate is for \(wrong\.example\), not 127\.0\.0\.1'
fault_stop

# ---- AUTH -------------------------------------------------------------------
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/pw" \
    "auth = xoauth2"
doctor --from "$PF_USER"
expect "auth = xoauth2, not offered: what is offered, and the remedy" 1 \
    '^✗  smtp auth: configured xoauth2; the server offers PLAIN LOGIN' \
    '^   fix: set auth = one of PLAIN LOGIN .*\(or remove auth: the best offered is used\)'
! has 'smtp login'
ok $? "auth not offered: no login is tried"

# ---- the relay refuses the sender --------------------------------------------
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/pw"
doctor --from intruder@other.example
expect "sender refused at MAIL FROM: the server's words, set sender_address" 1 \
    '^✓  smtp login: accepted' \
    '^✗  smtp mail: MAIL FROM:<intruder@other\.example> refused: 554 5\.7\.1 .*not a sender of this account' \
    '^   fix: the relay takes only the addresses of its account: set sender_address'
write_conf "sender_address = $PF_USER" "pipeline = smtp" "[smtp]" \
    "host = 127.0.0.1" "port = $PF_PORT" "tls_ca_file = $TLS_DIR/ca.pem" \
    "user = $PF_USER" "password_file = $WORK/pw"
doctor
expect "... and with sender_address set as told, the sender is accepted" 0 \
    "^✓  smtp mail: MAIL FROM:<$PF_USER> accepted: 250"

# ---- a queue full of deferred mail ---------------------------------------------
dead=$(free_port)
write_conf "queue_max_backoff = 1h" "queue_max_per_user = 5" \
    "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $dead" \
    "connect_timeout = 2s"
runner_hold
printf 'Subject: invitation\n\nx\n' > "$WORK/msg"
i=0
while [ $i -lt 6 ]; do
	"$SENDMAIL" -C "$CONF" -odq "guest$i@example.test" < "$WORK/msg"
	i=$((i + 1))
done
runner_release
# as if www-data (uid 33) had queued them two days ago, and runs had
# failed since: four at one relay's timeout, two refused by a greylist
i=0
for env in "$QUEUE"/deferred/*.env; do
	old=$(( $(date +%s) - 2 * 86400 + i * 60 ))
	if [ $i -lt 4 ]; then
		err="<guest$i@example.test>: 451 4.4.1 connect to smtp.example.net[192.0.2.10]:587: timed out"
	else
		err="<guest$i@example.test>: 450 4.7.1 greylisted, try again later"
	fi
	printf 'last_error %s\n' "$err" > "$WORK/le"
	sed -i "s/^arrival .*/arrival $old/; s/^next_attempt .*/next_attempt $((old + 600))/; s/^uid .*/uid 33/" "$env"
	sed -i "/^reason /r $WORK/le" "$env"
	i=$((i + 1))
done
doctor
expect "queue full of old deferred mail: count, age, the user's cap, no runner, the last errors" 1 \
    '^!  queue: 6 deferred messages, the oldest waiting for 2d00h \(longer than queue_max_backoff, 1h\)' \
    '^✗  queue: uid 33 \(www-data\) has 6 messages waiting, queue_max_per_user \(5\) is reached: its new mail is refused \(exit 75\)' \
    '^   fix: fix what the last errors say, then plume queue flush' \
    '^!  queue: 6 messages are due for more than queue_max_backoff \(1h\): no queue runner seems to run' \
    '^   fix: schedule the queue runner: systemctl enable --now plume-queue\.timer' \
    '^·  queue: last error \(2 messages\): 450 4\.7\.1 greylisted, try again later$' \
    '^·  queue: last error \(4 messages\): 451 4\.4\.1 connect to smtp\.example\.net\[192\.0\.2\.10\]:587: timed out$'
grep '^·  queue: last error' "$WORK/doc" | head -n 1 | grep -q greylisted
ok $? "queue: the newest last error comes first"
rm -f "$QUEUE"/deferred/*

# ---- rate-limit state ------------------------------------------------------------
write_conf "pipeline = ratelimit:out, ratelimit:spare, smtp" \
    "[ratelimit \"out\"]" "messages = 2/hour" "scope = sender" \
    "[ratelimit \"spare\"]" "messages = 1000/hour" \
    "[smtp]" "host = 127.0.0.1" "port = $PF_PORT" \
    "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
n=$(postfix_count)
for i in 1 2; do
	"$SENDMAIL" -C "$CONF" -f "$PF_USER" rcpt@example.test < "$WORK/msg"
done
postfix_wait $((n + 2)) 10
doctor --from "$PF_USER"
expect "rate limit used up: a warning with the key and the time the next may go, exit 0" 0 \
    '^·  ratelimit:out limits: messages 2/hour, scope sender, action defer' \
    '^!  ratelimit:out limit: messages 2/hour reached for user@example\.test: the next may go in (29|30)m' \
    '^   fix: until then mail over it waits in the queue, and goes out by itself; if this is normal traffic, raise messages \(or burst\) in \[ratelimit:out\]' \
    '^·  ratelimit:out state: 1 live key of 1024, 1 at the limit' \
    '^✓  ratelimit:spare state: 1 live key of 1024, none at its limit'
"$PLUME" -C "$CONF" ratelimit show > "$WORK/show" 2>&1
r=0
grep -q '^  messages *user@example.test *tat +3[0-9][0-9][0-9]\.[0-9]* s, 0 now' "$WORK/show" &&
    grep -q '^  1 live key of 1024' "$WORK/show" || r=1
ok $r "plume ratelimit show reads the same table (one key, TAT about an hour on)"
[ $r -eq 0 ] || sed 's/^/# /' "$WORK/show"

# ---- HTTP APIs: webhook, proxy, SES credentials ------------------------------------
cat > "$WORK/providers.json" <<JSON
{"sendgrid": {"key": "SG.KEY"},
 "ses":      {"access_key": "AKIDPLUMETEST", "secret_key": "SESSECRET",
              "region": "eu-west-1"},
 "webhook":  {"path": "/plume/submit", "token": "HOOKTOKEN"}}
JSON
httpapi_start "$WORK/api" "$WORK/providers.json"
ok $? "httpapi.py started on $HTTPAPI_URL"
for k in sg:SG.KEY hook:HOOKTOKEN ses:SESSECRET badses:NOTTHESECRET; do
	printf '%s\n' "${k#*:}" > "$WORK/${k%%:*}.key"
	chmod 600 "$WORK/${k%%:*}.key"
done
api() {	# api KEYFILE LINES...: one http instance "api" at the test server
	_kf=$1
	shift
	write_conf "pipeline = http:api" "[http \"api\"]" \
	    "tls_ca_file = $TLS_DIR/ca.pem" "api_key_file = $WORK/$_kf" "$@"
}

api hook.key "provider = webhook" "base_url = $HTTPAPI_URL/plume/submit"
n0=$(httpapi_count "$WORK/api")
doctor
expect "webhook: reachable over verified TLS, HEAD answered, nothing posted" 0 \
    "^✓  http:api https: $HTTPAPI_URL/plume/submit reached at 127\\.0\\.0\\.1 port $HTTPAPI_PORT: connected in" \
    "^·  http:api credentials: HEAD $HTTPAPI_URL/plume/submit answered [0-9]+; a webhook's credentials can be checked only by posting"
[ "$(httpapi_get "$WORK/api" $((n0 + 1)) method)" = HEAD ] &&
    [ "$(httpapi_count "$WORK/api")" -eq $((n0 + 1)) ]
ok $? "webhook: one HEAD request, no POST"

"$SMTP_PYTHON" "$top_srcdir/tests/integration/connectproxy.py" \
    "$WORK/proxy.port" "$WORK/proxy.log" < /dev/null 2> /dev/null &
PROXY_PID=$!
smtp_at_exit "_smtp_kill $PROXY_PID"
wait_portfile "$PROXY_PID" "$WORK/proxy.port"
PROXY=http://127.0.0.1:$(cat "$WORK/proxy.port")
api sg.key "provider = sendgrid" "base_url = $HTTPAPI_URL" "proxy = $PROXY"
doctor
expect "through the CONNECT proxy: the proxy resolves, the request goes through it, credentials accepted" 0 \
    "^·  http:api dns: through the proxy $PROXY: it resolves the API's name" \
    "^✓  http:api https: $HTTPAPI_URL/v3/scopes reached at .* through the proxy $PROXY" \
    '^✓  http:api credentials: accepted: GET .*/v3/scopes answered 200'
grep -qx "CONNECT 127.0.0.1:$HTTPAPI_PORT" "$WORK/proxy.log"
ok $? "the proxy saw the CONNECT to the API"
dead=$(free_port)
api sg.key "provider = sendgrid" "base_url = $HTTPAPI_URL" \
    "proxy = http://127.0.0.1:$dead"
doctor
expect "a proxy that does not answer: the proxy is named as the cause" 1 \
    "^✗  http:api proxy: GET $HTTPAPI_URL/v3/scopes: .*\\(through the proxy http://127\\.0\\.0\\.1:$dead\\)" \
    "^   fix: the proxy http://127\\.0\\.0\\.1:$dead does not answer"

api badses.key "provider = ses" "base_url = $HTTPAPI_URL" \
    "aws_access_key_id = AKIDPLUMETEST" "region = eu-west-1"
doctor
expect "SES with a wrong secret: refused with AWS's words, the remedy names both keys" 1 \
    '^✗  http:api credentials: refused: GET .*/v2/email/account answered 403 SignatureDoesNotMatch: .*signature we calculated does not match' \
    "^   fix: check aws_access_key_id \\(AKIDPLUMETEST\\) and the secret access key in $WORK/badses\\.key"
api ses.key "provider = ses" "base_url = $HTTPAPI_URL" \
    "aws_access_key_id = AKIDPLUMETEST" "region = eu-west-1"
doctor
expect "... and with the right secret, accepted" 0 \
    '^✓  http:api credentials: accepted: GET .*/v2/email/account answered 200'

# ---- part 2: the usual ports, in a private network namespace ------------------------
if [ "$PLUME_NETNS" != yes ]; then
	skip "$PLUME_NETNS" 12
	exit 0
fi
postfix_stop
# blackhole PORT...: "filtered" listeners on PORT...; $BH_PID
blackhole() {
	"$SMTP_PYTHON" - "$WORK/bh.ready" "$@" <<'PY' &
import os, socket, sys, time
ready, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
parent = os.getppid()   # gone with the test, even if killed
keep = []
for port in ports:
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(0)
    keep.append(ls)
    for _ in range(3):   # fill the accept queue; nobody accepts
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        keep.append(c)
time.sleep(0.2)
open(ready, "w").write("ready\n")
while os.getppid() == parent:
    time.sleep(0.5)
PY
	BH_PID=$!
	smtp_at_exit "_smtp_kill $BH_PID"
	wait_portfile "$BH_PID" "$WORK/bh.ready"
}
bh_stop() { _smtp_kill "$BH_PID"; rm -f "$WORK/bh.ready"; }

PF_FIXED_PORTS="25 465 2525" postfix_start \
    "smtpd_sender_restrictions = check_sender_access texthash:$WORK/sender_access"
ok $? "in a private network namespace: Postfix on 127.0.0.1:25 (STARTTLS), 465 (implicit TLS), 2525"

write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = 587" \
    "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
doctor
expect "587 closed, 465 answers: the usual ports classed, set port = 465, tls = implicit" 1 \
    '^✗  smtp tcp: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:587: Connection refused; port 465 answers with implicit TLS; port 2525 answers SMTP with STARTTLS; port 25 answers SMTP with STARTTLS' \
    '^   fix: set port = 465, tls = implicit$'

blackhole 587
"$SMTP_PYTHON" -c 'import socket
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("127.0.0.1", 587))
except socket.timeout:
    raise SystemExit(0)
raise SystemExit(1)'
ok $? "the full-backlog listener on 587 drops connections as a firewall does"
doctor
expect "587 filtered, 465 answers: the same remedy" 1 \
    '^✗  smtp tcp: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:587: timed out; port 465 answers with implicit TLS' \
    '^   fix: set port = 465, tls = implicit$'
# two connect timeouts of 5 s: 587, then the other ports all at once
[ "$DOC_SECS" -le 15 ]
ok $? "587 filtered: reported within the probe's timeouts (${DOC_SECS}s, at most 15 s)"
bh_stop
postfix_stop

PF_FIXED_PORTS="587 465 25" postfix_start \
    "smtpd_sender_restrictions = check_sender_access texthash:$WORK/sender_access"
ok $? "Postfix again, on 587 (STARTTLS), 465 (implicit TLS), 25"
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = 465" \
    "tls = starttls" "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
doctor
expect "tls = starttls on 465: an implicit-TLS port, set tls = implicit" 1 \
    '^✗  smtp greeting: tls = starttls, but port 465 sends no greeting in 5 s and answers a TLS handshake: it is an implicit-TLS port' \
    '^   fix: set tls = implicit \(port 465 speaks TLS from the first byte\), or use the server.s STARTTLS port \(587\)'
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = 587" \
    "tls = implicit" "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
doctor
expect "tls = implicit on 587: a STARTTLS port, set tls = starttls" 1 \
    '^✗  smtp tls: tls = implicit, but port 587 speaks plain SMTP \("220 postfix\.test ESMTP.*"\): it is a STARTTLS port' \
    '^   fix: set tls = starttls'
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = 465" \
    "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
doctor --from "$PF_USER" --to rcpt@example.test
expect "port = 465 alone (implicit TLS by default): every check passes" 0 \
    '^·  smtp relay: 127\.0\.0\.1 port 465, tls = implicit' \
    '^✓  smtp login: accepted' '^✓  smtp rcpt: RCPT TO:<rcpt@example\.test> accepted'
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = 587" \
    "tls_ca_file = $TLS_DIR/ca.pem" "user = $PF_USER" \
    "password_file = $WORK/pw"
doctor --from intruder@other.example --to rcpt@example.test
expect "a sender refused only at RCPT (smtpd_delay_reject): still the sender's diagnosis" 1 \
    '^✓  smtp mail: MAIL FROM:<intruder@other\.example> accepted' \
    '^✗  smtp mail: RCPT TO:<rcpt@example\.test> refused because of the sender <intruder@other\.example>: 554 5\.7\.1 <intruder@other\.example>: Sender address rejected: not a sender of this account' \
    '^   fix: the relay takes only the addresses of its account: set sender_address'
postfix_stop

# every server silent: all usual ports filtered; the failover accepts and
# says nothing; the HTTPS API accepts and says nothing
blackhole 25 465 587 2525
fault_start stall-greeting
"$SMTP_PYTHON" - "$WORK/silent.port" <<'PY' &
import os, socket, sys, time
parent = os.getppid()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
open(sys.argv[1] + ".new", "w").write("%d\n" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".new", sys.argv[1])
conns = []
ls.settimeout(0.5)
while os.getppid() == parent:
    try:
        conns.append(ls.accept()[0])
    except socket.timeout:
        pass
PY
SILENT_PID=$!
smtp_at_exit "_smtp_kill $SILENT_PID"
wait_portfile "$SILENT_PID" "$WORK/silent.port"
write_conf "pipeline = smtp, http:api" "[smtp]" "host = 127.0.0.1" \
    "port = 587" "failover = smtp:backup" "[smtp \"backup\"]" \
    "host = 127.0.0.1" "port = $FAULT_PORT" "[http \"api\"]" \
    "provider = sendgrid" \
    "base_url = https://127.0.0.1:$(cat "$WORK/silent.port")" \
    "api_key_file = $WORK/sg.key"
doctor
expect "every port filtered: each one said, the firewall remedy" 1 \
    '^✗  smtp tcp: connect to 127\.0\.0\.1\[127\.0\.0\.1\]:587: timed out; port 465 is filtered \(no answer\); port 2525 is filtered \(no answer\); port 25 is filtered \(no answer\)' \
    '^   fix: no usual SMTP port answers from here: a firewall blocks outgoing mail' \
    '^✗  smtp:backup greeting: no greeting in 5 s, and no TLS handshake either' \
    '^   fix: the server takes the connection but says nothing' \
    '^✗  http:api https: GET .*/v3/scopes: Connection timed out after 1[0-9]{4} milliseconds'
diag "every server silent: doctor took ${DOC_SECS}s"
[ "$DOC_SECS" -le 40 ]
ok $? "every server silent: the whole run is bounded (${DOC_SECS}s, at most 40 s)"
