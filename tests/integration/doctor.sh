#!/bin/sh
# doctor.sh - "plume doctor" against a real Postfix (STARTTLS, implicit
# TLS, Cyrus SASL) and the strict HTTP API server: each scenario
# recreates a real cause and asserts the diagnosis and the remedy.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need postfix

plan 31
# one recipient is refused, as a relay refuses an unknown user
printf 'refused@example.test REJECT no such user here\n' > "$WORK/rcpt_access"
postfix_start "smtpd_recipient_restrictions = check_recipient_access \
texthash:$WORK/rcpt_access, permit"
ok $? "private Postfix started on 127.0.0.1:$PF_PORT, $PF_TLS_PORT"

# UTF-8 marks whatever the caller's locale
LC_ALL=C.UTF-8
export LC_ALL
printf '%s\n' "$PF_PASS" > "$WORK/pw"
chmod 600 "$WORK/pw"
printf 'wrong\n' > "$WORK/badpw"
chmod 600 "$WORK/badpw"

. "$top_srcdir/tests/integration/doctor-lib.sh"
# the http probes run libcurl: LeakSanitizer's tracer crashes on what it
# leaves (see http.sh); leaks here are checked by PLUME_VALGRIND=1
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

# ---- all good: STARTTLS, login, sender, recipient -----------------------
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/pw"
doctor --from sender@example.org --to rcpt@example.test
expect "STARTTLS + login: every check passes, exit 0" 0 \
    '^✓  smtp dns: 127\.0\.0\.1' '^✓  smtp tcp: connected to .* in [0-9]+ ms' \
    '^✓  smtp greeting: 220 ' '^·  smtp tls: TLSv1\.[23]' \
    '^✓  smtp certificate: chain and name verified' \
    '^✓  smtp auth: offered: .*PLAIN' '^✓  smtp login: accepted: .* as user@example\.test' \
    '^✓  smtp mail: MAIL FROM:<sender@example\.org> accepted: 250' \
    '^✓  smtp rcpt: RCPT TO:<rcpt@example\.test> accepted' \
    '^✓  config: parses' '^✓  pipeline: smtp; mail leaves through smtp' \
    '^✓  secrets: 1 file' ', 0 failed$'
# the sender domain's DNS (example.org through the system resolver) is
# not under test here: its findings and their remedies are left out
# (tests/integration/doctor-dns.sh asserts them)
awk '/^[^ ]+  domain / { dom = 1; next }
     dom && /^   fix:/ { next }
     { dom = 0; print }' "$WORK/doc" | grep -q -e '^✗' -e 'fix:'
[ $? -ne 0 ]
ok $? "no cross and no remedy when all is well"

n=$(postfix_count)
doctor --from sender@example.org --to rcpt@example.test --send
expect "--send: the test message is accepted and its Message-ID shown" 0 \
    '^✓  smtp send: test message <doctor\.[0-9]+\.[0-9a-f]+@test\.example\.org> accepted: 250'
postfix_wait $((n + 1)) 10
ok $? "--send: the message arrived at the server (one more in the mbox)"
mid=$(sed -n 's/.*test message \(<[^>]*>\).*/\1/p' "$WORK/doc")
grep -q "Message-ID: $mid" "$(postfix_mbox)"
ok $? "--send: the message that arrived carries the Message-ID shown"

doctor --from sender@example.org --to refused@example.test
expect "--to a refused recipient: a cross with the server's words" 1 \
    '^✗  smtp rcpt: RCPT TO:<refused@example\.test> refused: 554 .*no such user here' \
    '^   fix: check the address'

# ---- wrong password -----------------------------------------------------
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/badpw"
doctor
expect "wrong password: the server's words and a remedy, exit 1" 1 \
    '^✗  smtp login: .*535 .*authentication failed' \
    '^   fix: check user \(user@example\.test\) and the password in .*badpw' \
    ', 1 failed$'

# ---- nothing listens on the port; others answer -------------------------
dead=$(free_port)
smtp_conf "$dead" "user = $PF_USER" "password_file = $WORK/pw" \
    "connect_timeout = 3s"
doctor --probe-ports "$PF_PORT,$PF_TLS_PORT"
expect "closed port: the usual ports are probed and classed" 1 \
    "^✗  smtp tcp: connect to 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:$dead: Connection refused; port $PF_PORT answers SMTP with STARTTLS; port $PF_TLS_PORT answers with implicit TLS" \
    "^   fix: set port = $PF_PORT, tls = starttls"
doctor --probe-ports "$PF_TLS_PORT,$PF_PORT"
expect "closed port: the remedy names the first port that works, with its TLS mode" 1 \
    "^   fix: set port = $PF_TLS_PORT, tls = implicit"
doctor --probe-ports "$dead"
expect "closed port and nothing else answers: says so" 1 \
    "^   fix: no usual SMTP port answers from here"

# ---- TLS mode mismatch, both ways -----------------------------------------
smtp_conf "$PF_TLS_PORT" "tls = starttls" "user = $PF_USER" \
    "password_file = $WORK/pw"
start=$(date +%s)
doctor
expect "tls = starttls on the implicit-TLS port: mismatch detected" 1 \
    "^✗  smtp greeting: tls = starttls, but port $PF_TLS_PORT sends no greeting .* implicit-TLS port" \
    '^   fix: set tls = implicit'
[ $(( $(date +%s) - start )) -lt 20 ]
ok $? "the mismatch costs seconds, not the command timeout"
smtp_conf "$PF_PORT" "tls = implicit"
doctor
expect "tls = implicit on a STARTTLS port: mismatch detected" 1 \
    "^✗  smtp tls: tls = implicit, but port $PF_PORT speaks plain SMTP .*STARTTLS port" \
    '^   fix: set tls = starttls'

# ---- untrusted certificate -------------------------------------------------
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $PF_PORT"
doctor
expect "untrusted certificate: a cross naming verification, the pin in the remedy" 1 \
    '^✗  smtp certificate: verification failed: (self-signed|unable to get local issuer)' \
    '^   fix: set tls_ca_file = .*tls_fingerprint = sha256:[0-9a-f]{64}'
! has 'smtp login' && ! has 'smtp mail'
ok $? "untrusted certificate: nothing is sent after it (no login, no MAIL)"

# ---- --json -----------------------------------------------------------------
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/badpw"
doctor --json
python3 - "$WORK/doc" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and doc
for c in doc:
    assert set(c) == {"check", "instance", "status", "text", "remedy"}, c
    assert c["status"] in ("ok", "warn", "fail", "info"), c
    assert (c["remedy"] is not None) == (c["status"] in ("warn", "fail")), c
login = [c for c in doc if c["check"] == "login"]
assert login and login[0]["status"] == "fail" and login[0]["instance"] == "smtp"
assert "535" in login[0]["text"]
PY
ok $? "--json: an array of {check, instance, status, text, remedy}, the login failure in it"
[ "$RC" -eq 1 ]
ok $? "--json: exit 1 when a check failed"

# ---- queue health: an old deferred message ---------------------------------
write_conf "queue_max_backoff = 1h" "pipeline = smtp" "[smtp]" \
    "host = 127.0.0.1" "port = $dead" "connect_timeout = 2s"
# keep the runner a submission would start from delivering it meanwhile
printf 'Subject: old\n\nx\n' > "$WORK/msg"
"$SENDMAIL" -C "$CONF" -odq rcpt@example.test < "$WORK/msg"
env=$(ls "$QUEUE"/deferred/*.env | head -1)
old=$(( $(date +%s) - 3 * 3600 ))
sed -i "s/^arrival .*/arrival $old/; s/^next_attempt .*/next_attempt $(( old + 60 ))/" "$env"
printf 'last_error <rcpt@example.test>: 451 4.4.1 connect to relay[192.0.2.1]:587: timed out\n' > "$WORK/le"
sed -i "/^reason /r $WORK/le" "$env"
doctor
expect "an old deferred message: a warning with the age and the last error" 1 \
    '^!  queue: 1 deferred message, the oldest waiting for 3h \(longer than queue_max_backoff, 1h\)' \
    '^!  queue: 1 message is due for more than queue_max_backoff' \
    '^·  queue: last error \(1 message\): <rcpt@example\.test>: 451 4\.4\.1 connect to relay'
rm -f "$QUEUE"/deferred/*

# ---- local checks ------------------------------------------------------------
chmod 644 "$WORK/pw"
smtp_conf "$PF_PORT" "user = $PF_USER" "password_file = $WORK/pw"
doctor
expect "a password file readable by others: a warning, chmod in the remedy" 1 \
    "^!  secrets: $WORK/pw \\(password_file of \\[smtp\\]\\) is readable by others" \
    "^   fix: chmod o-r $WORK/pw" \
    "^✗  smtp login: password_file $WORK/pw is readable by others" \
    "^   fix: fix password_file as the message says"
chmod 600 "$WORK/pw"
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "prot = 25"
doctor
expect "a config error: file:line, exit 1" 1 \
    "^✗  config: $CONF:9: .*prot.*did you mean .port" "^   fix: edit $CONF line 9"
LC_ALL=C
doctor
expect "C locale: ASCII marks" 1 '^FAIL  config: ' '^      fix: edit '
LC_ALL=C.UTF-8

# ---- http probe --------------------------------------------------------------
. "$top_srcdir/tests/integration/http-lib.sh"
cat > "$WORK/providers.json" <<JSON
{"mailgun":   {"domain": "mg.example.org", "key": "MGKEY"},
 "ses":       {"access_key": "AKIDPLUMETEST", "secret_key": "SESSECRET",
               "region": "eu-west-1"},
 "sparkpost": {"key": "SPKEY"},
 "sendgrid":  {"key": "SG.KEY"},
 "postmark":  {"token": "PMTOKEN"},
 "webhook":   {"path": "/plume/submit", "token": "HOOKTOKEN"}}
JSON
if ! httpapi_start "$WORK/api" "$WORK/providers.json"; then
	skip "httpapi.py did not start" 9
	exit 0
fi
for k in mg:MGKEY ses:SESSECRET sp:SPKEY sg:SG.KEY pm:PMTOKEN bad:WRONG; do
	printf '%s\n' "${k#*:}" > "$WORK/${k%%:*}.key"
	chmod 600 "$WORK/${k%%:*}.key"
done
# api KEYFILE SECTION-LINES...: one http instance "api" at the test server
api() {
	kf=$1
	shift
	write_conf "pipeline = http:api" "[http \"api\"]" \
	    "base_url = $HTTPAPI_URL" "tls_ca_file = $TLS_DIR/ca.pem" \
	    "api_key_file = $WORK/$kf" "$@"
}
last_path() { httpapi_get "$WORK/api" "$(httpapi_count "$WORK/api")" "$1"; }

for p in "mailgun mg.key /v3/domains/mg.example.org domain = mg.example.org" \
    "ses ses.key /v2/email/account region = eu-west-1" \
    "sparkpost sp.key /api/v1/account" "sendgrid sg.key /v3/scopes" \
    "postmark pm.key /server"; do
	set -- $p
	prov=$1 key=$2 path=$3
	shift 3
	extra=
	[ $# -gt 0 ] && extra="$*"
	if [ "$prov" = ses ]; then
		api "$key" "provider = ses" "aws_access_key_id = AKIDPLUMETEST" \
		    "$extra"
	elif [ -n "$extra" ]; then
		api "$key" "provider = $prov" "$extra"
	else
		api "$key" "provider = $prov"
	fi
	n0=$(httpapi_count "$WORK/api")
	doctor
	r=0
	[ "$RC" -eq 0 ] && has "^✓  http:api credentials: accepted: GET .*$path answered 200" &&
	    has '^✓  http:api https: .* reached at 127\.0\.0\.1 port' &&
	    [ "$(last_path path)" = "$path" ] && [ "$(last_path method)" = GET ] &&
	    [ "$(last_path verdict)" = accepted ] &&
	    [ "$(httpapi_count "$WORK/api")" -eq $((n0 + 1)) ] || r=1
	ok $r "http $prov: good key: GET $path (nothing sent), credentials accepted"
	[ $r -eq 0 ] || { show; last_path violations | sed 's/^/# /'; }
done

api bad.key "provider = mailgun" "domain = mg.example.org"
doctor
expect "http mailgun: bad key: a cross with the 401 and a remedy" 1 \
    '^✗  http:api credentials: refused: GET .*/v3/domains/mg\.example\.org answered 401: Forbidden' \
    "^   fix: check the key in $WORK/bad.key"
api bad.key "provider = sendgrid"
doctor
expect "http sendgrid: bad key: a cross with the provider's words" 1 \
    '^✗  http:api credentials: refused: GET .*/v3/scopes answered 401: .*authorization grant is invalid'
api mg.key "provider = mailgun" "domain = other.example.org"
doctor
expect "http mailgun: a domain not in the account: 404 named" 1 \
    '^✗  http:api credentials: the key works, but domain other\.example\.org is not in the account' \
    '^   fix: set domain = '
write_conf "pipeline = http:api" "[http \"api\"]" "provider = sendgrid" \
    "base_url = $HTTPAPI_URL" "api_key_file = $WORK/sg.key"
doctor
expect "http: the test CA not trusted: a TLS cross" 1 \
    '^✗  http:api tls: GET .*/v3/scopes: .*certificate' '^   fix: the API.s certificate is not trusted here'
