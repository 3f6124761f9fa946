#!/bin/sh
# smtp-faults.sh - the SMTP transport against a misbehaving server
# (faultsmtp.py, on aiosmtpd): every failure is classed temporary or
# permanent with the server's words, nothing hangs past its timeout,
# nothing is sent in clear that should not be, nothing crashes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 52
tls_material "$TLS_DIR"
CERT="--tls-cert $TLS_DIR/server.pem --tls-key $TLS_DIR/server.key"
printf 'From: a@example.org\nSubject: faults\n\nbody\n' > "$WORK/msg"

# conf [KEY = VALUE...]: [smtp] at the current faultsmtp; command_timeout
# is 5s unless CT says otherwise, submit_timeout 30s unless ST does
conf() {
	write_conf "pipeline = smtp" "submit_timeout = ${ST:-30s}" \
	    "[smtp]" "host = 127.0.0.1" \
	    "port = $FAULT_PORT" "tls_ca_file = $TLS_DIR/ca.pem" \
	    "command_timeout = ${CT:-5s}" "$@"
}
# expect CODE PATTERN DESC RCPT...: exit CODE and stderr matching PATTERN
expect() {
	code=$1 pat=$2 desc=$3
	shift 3
	run_sm "$WORK/msg" -C "$CONF" -f s@example.org "$@"
	if [ -z "$pat" ]; then
		said=0
	else
		said=$(grep -q -- "$pat" "$WORK/err"; echo $?)
	fi
	if [ $RC -eq "$code" ] && [ "$said" -eq 0 ]; then
		ok 0 "$desc"
	else
		ok 1 "$desc: exit $RC (want $code)"
		grep -v 'smtp: [<>]' "$WORK/err" | head -n 5 | sed 's/^/# /'
	fi
}
# expect_deferred PATTERN DESC RCPT...: a temporary failure: the message
# is queued and the caller gets 0; the log (-v) has PATTERN, the result
expect_deferred() {
	pat=$1 desc=$2
	shift 2
	run_sm "$WORK/msg" -C "$CONF" -f s@example.org -v "$@"
	if [ $RC -eq 0 ] && grep -q -- "$pat" "$WORK/err" &&
	    grep -q 'status=deferred' "$WORK/err" &&
	    grep -q 'queued: ' "$WORK/err"; then
		ok 0 "$desc"
	else
		ok 1 "$desc: exit $RC"
		grep -v 'smtp: [<>]' "$WORK/err" | head -n 5 | sed 's/^/# /'
	fi
}
start() { fault_stop; fault_start "$@" || echo "# fault_start $* failed"; }

# ---- the dialogue ---------------------------------------------------
start ok $CERT --dsn
conf
expect 0 '' "STARTTLS, pipelining, delivered" -v -N success,failure -R hdrs -V env.1 good@example.org
check "PIPELINING: MAIL, RCPT and DATA sent before any reply is read" \
    sh -c "grep -A3 'smtp: > MAIL FROM' '$WORK/err' | sed 's/.*smtp: //' | cut -c1-6 | tr '\n' ' ' | grep -q '^> MAIL > RCPT > DATA < 250 '"
check "all of it after STARTTLS" grep -q 'TLS: yes' "$FAULT_DIR/env.1"
check "DSN: RET, ENVID on MAIL, NOTIFY on RCPT" \
    sh -c "grep -q 'MAIL FROM:<s@example.org> SIZE=[0-9]* RET=HDRS ENVID=env.1' '$FAULT_DIR/env.1' && grep -q 'RCPT TO:<good@example.org> NOTIFY=success,failure' '$FAULT_DIR/env.1'"
check "the server got the canonical message: CRLF lines, no bare LF" \
    "$SMTP_PYTHON" -c '
import sys
d = open(sys.argv[1], "rb").read()
assert b"\r\nSubject: faults\r\n" in d and d.endswith(b"\r\nbody\r\n"), d
assert d.count(b"\n") == d.count(b"\r\n") and d.count(b"\r") == d.count(b"\r\n")
t = open(sys.argv[2]).read()
assert "! bare LF" not in t and "before TLS" not in t
' "$FAULT_DIR/msg.1" "$FAULT_DIR/transcript"
expect 0 "status=sent" "a second message, new connection: -v logs the result" -v good@example.org
expect 0 '1 of 2 recipients refused: <bad@example.org>: 550 5.1.1' \
    "a refused recipient: exit 0, one line naming it" good@example.org bad@example.org
check "the refused one was not in the transaction" \
    sh -c "grep -l 'RCPT TO:<good@example.org>' '$FAULT_DIR'/env.* > /dev/null && ! grep -q 'RCPT TO:<bad@example.org>' '$FAULT_DIR'/env.*"
check "... and the sender got a delivery report from <>" \
    sh -c "grep -l 'MAIL FROM:<> ' '$FAULT_DIR'/env.* | xargs grep -q 'RCPT TO:<s@example.org>'"
expect 67 'refused: <bad@example.org>: 550 5.1.1' "every recipient unknown: 67" bad@example.org bad2@example.org
check "no DATA when no recipient was accepted" \
    sh -c "tail -n 12 '$FAULT_DIR/transcript' | grep -q 'C: RSET\\|C: QUIT' && ! tail -n 6 '$FAULT_DIR/transcript' | grep -q 'S: 354'"
expect 69 '554 5.7.1' "every recipient refused by policy: 69" denied@example.org
expect_deferred '450 4.2.1' "a 4xx to RCPT is temporary" temp@example.org

utf=$(printf 'm\303\274ller@example.org')
start ok $CERT --no-smtputf8
conf
expect 69 '553 5.6.7 an address needs SMTPUTF8' "UTF-8 address, server without SMTPUTF8: permanent" "$utf"

start size-limit $CERT
conf
{ cat "$WORK/msg"; head -c 2000 /dev/zero | tr '\0' 'z'; echo; } > "$WORK/msg.small"
mv "$WORK/msg" "$WORK/msg.keep" && cp "$WORK/msg.small" "$WORK/msg"
expect 69 '552 5.3.4 message of [0-9]* bytes is larger than .* (SIZE 1000)' "larger than the server's SIZE: refused before sending" good@example.org
check "nothing was sent" test "$(fault_count)" -eq 0
mv "$WORK/msg.keep" "$WORK/msg"

start no-ehlo $CERT
conf "tls = none"
expect 0 '' "EHLO refused: HELO fallback (tls = none)" good@example.org

# ---- greeting, MAIL, DATA, end of data --------------------------------
start greet421 $CERT
conf
expect_deferred '421 4.3.2' "421 greeting: temporary, with the server's words" good@example.org
start greet554 $CERT
conf
expect_deferred '554 5.3.2' "554 greeting: a session failure, still temporary" good@example.org
start mail451 $CERT
conf
expect_deferred '451 4.3.0' "451 to MAIL: temporary" good@example.org
start mail550 $CERT
conf
expect 69 '550 5.7.1' "550 to MAIL: permanent" good@example.org
start data554 $CERT
conf
expect 69 '554 5.7.1' "554 to DATA: permanent" good@example.org
start eod451 $CERT
conf
expect_deferred '451 4.7.1 Please try again later' "451 after the dot: temporary" good@example.org
start eod554 $CERT
conf
expect 69 '554 5.7.1 Message rejected' "554 after the dot: permanent" good@example.org
start drop-before-dot $CERT
conf
expect_deferred 'connection closed by server' "connection dropped during DATA: temporary" good@example.org
start drop-after-dot $CERT
conf
expect_deferred 'the server may have it' "dropped after the dot: temporary, says a duplicate is possible" good@example.org
start tempfail-all-rcpt $CERT
conf
expect_deferred '451 4.3.0' "451 to every RCPT: temporary" good@example.org a2@example.org

# ---- timeouts ---------------------------------------------------------
start stall-greeting $CERT
CT=2s conf
t0=$(date +%s)
expect_deferred 'timed out waiting for a reply' "silent server: command_timeout ends it" good@example.org
check "... within its timeout" test $(( $(date +%s) - t0 )) -le 6
start stall-data $CERT
CT=1m ST=2s conf "final_timeout = 1m"
t0=$(date +%s)
expect_deferred 'timed out' "server silent after the dot: submit_timeout bounds it" good@example.org
check "... within submit_timeout" test $(( $(date +%s) - t0 )) -le 6
start ok $CERT --implicit-tls
CT=2s conf "tls = starttls"
expect_deferred 'port 465 usually wants tls = implicit\|no greeting' "STARTTLS configured, implicit-TLS port: no greeting, no hang" good@example.org

# ---- TLS --------------------------------------------------------------
start no-starttls $CERT
conf
expect_deferred 'does not offer STARTTLS' "no STARTTLS offered: never plaintext" good@example.org
check "no MAIL was sent in clear" sh -c "! grep -q 'C: MAIL' '$FAULT_DIR/transcript'"
start tls-wrong-cert --tls-cert "$TLS_DIR/wrong.pem" --tls-key "$TLS_DIR/wrong.key"
conf
expect_deferred 'not trusted.*mismatch\|not trusted' "certificate for another name: refused" good@example.org
start ok --tls-cert "$TLS_DIR/expired.pem" --tls-key "$TLS_DIR/expired.key"
conf
expect_deferred 'certificate has expired' "expired certificate: refused" good@example.org
start injected-before-tls $CERT
conf
expect 0 '' "commands injected before TLS are thrown away (CVE-2011-0411)" -v good@example.org
check "EHLO sent again after the handshake" \
    sh -c "grep -c 'C: EHLO' '$FAULT_DIR/transcript' | grep -qx 2 && [ -e '$FAULT_DIR/msg.1' ]"

# ---- AUTH -------------------------------------------------------------
printf 'secret\n' > "$WORK/pw" && chmod 600 "$WORK/pw"
start auth535 $CERT --auth
conf "user = user@example.test" "password_file = $WORK/pw"
expect_deferred '535 5.7.8' "535: authentication failure is temporary (the password will be fixed)" good@example.org
conf "user = user@example.test" "password_file = $WORK/pw" "auth_failure = bounce"
expect 69 '535 5.7.8' "535 with auth_failure = bounce: permanent" good@example.org
start auth534 $CERT --auth
conf "user = user@example.test" "password_file = $WORK/pw"
expect_deferred '534 5.7.9 .*Application-specific password required' "Gmail's 534 5.7.9, in the server's words" good@example.org
start ok $CERT --auth
conf "user = user@example.test" "password_file = $WORK/pw" "auth = xoauth2"
expect 0 '' "XOAUTH2 with a token" -v good@example.org
check "XOAUTH2 used, token redacted" \
    sh -c "grep -q 'auth=XOAUTH2 as user@example.test' '$WORK/err' && grep -q '> AUTH XOAUTH2 <redacted>' '$WORK/err' && ! grep -q secret '$WORK/err'"
conf "user = user@example.test" "password_file = $WORK/pw" "auth = oauthbearer"
expect 0 '' "OAUTHBEARER with a token" -v good@example.org
check "OAUTHBEARER used" grep -q 'auth=OAUTHBEARER as user@example.test' "$WORK/err"
printf 'expired-token\n' > "$WORK/tok" && chmod 600 "$WORK/tok"
conf "user = user@example.test" "password_file = $WORK/tok" "auth = oauthbearer"
expect_deferred '535' "OAUTHBEARER with a bad token: the error challenge, then 535" good@example.org

# ---- hostile replies -----------------------------------------------------
for sc in huge-reply malformed bad-continuation; do
	start $sc $CERT
	conf "tls = none"
	run_sm "$WORK/msg" -C "$CONF" good@example.org
	check "$sc: no crash, a clear result" \
	    test $RC -eq 0
done
start slow $CERT --auth
conf "user = user@example.test" "password_file = $WORK/pw"
expect 0 '' "replies trickling in a byte at a time" good@example.org

# failover between two SMTP relays
fault_start greet421 $CERT
down=$FAULT_PORT
fault_start ok $CERT
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $down" \
    "tls_ca_file = $TLS_DIR/ca.pem" "failover = smtp:backup" \
    '[smtp "backup"]' "host = 127.0.0.1" "port = $FAULT_PORT" \
    "tls_ca_file = $TLS_DIR/ca.pem"
expect 0 '' "a relay answering 421: the failover relay delivers" -v good@example.org
check "logged: deferred by smtp, sent by smtp:backup" \
    sh -c "grep -q 'via=smtp, .*status=deferred (421 4.3.2' '$WORK/err' && grep -q 'via=smtp:backup, .*status=sent' '$WORK/err'"
