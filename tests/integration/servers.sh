#!/bin/sh
# servers.sh - the SMTP test servers themselves (smtp-lib.sh): a private
# Postfix and faultsmtp.py, driven by Python's smtplib/ssl and openssl
# s_client, so that a failing SMTP transport test is plume's fault.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"

smtp_need postfix
smtp_need fault
plan 33

PY=/usr/bin/python3
export WORK TLS_DIR
# A message with what mboxes and SMTP like to mangle.
printf '%s\n' 'From: Test <a@example.org>' 'To: b@example.test' \
    'Subject: harness check' 'MIME-Version: 1.0' \
    'Content-Type: text/plain; charset=utf-8' \
    'Content-Transfer-Encoding: 8bit' '' \
    'From the start of a line (mbox quotes this)' \
    '>From already quoted (mboxo would lose this)' \
    '>>From twice' '.a line starting with a dot' '..two dots' '.' \
    'trailing blanks   ' "$(printf 'tab\there')" '8-bit: grüße' \
    'From ' 'last line' > "$WORK/msg.txt"

cat > "$WORK/client.py" <<'PY'
import base64, os, smtplib, socket, ssl, sys, time
W = os.environ["WORK"]
CA = os.path.join(os.environ["TLS_DIR"], "ca.pem")
# CRLF, as SMTP wants: smtplib sends bytes as they are.
MSG = open(os.path.join(W, "msg.txt"), "rb").read().replace(b"\n", b"\r\n")
USER, PASS = "user@example.test", "secret"


def ctx():
    c = ssl.create_default_context(cafile=CA)   # verifies 127.0.0.1
    assert c.check_hostname and c.verify_mode == ssl.CERT_REQUIRED
    return c


def fail(why):
    sys.exit(why)


def send(s, rcpts, **kw):
    refused = s.sendmail("a@example.org", rcpts, MSG, **kw)
    s.quit()
    return refused


def pf_plain(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.ehlo()
    if not s.has_extn("starttls") or s.has_extn("auth"):
        fail("want STARTTLS and no AUTH in clear: %r" % s.esmtp_features)
    if send(s, ["plain@example.test"]):
        fail("refused")


def pf_starttls(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    s.ehlo()
    if "PLAIN" not in s.esmtp_features.get("auth", ""):
        fail("no AUTH PLAIN after STARTTLS: %r" % s.esmtp_features)
    if send(s, ["starttls@example.test"]):
        fail("refused")


def pf_noauth(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    try:
        send(s, ["noauth@example.test"])
    except smtplib.SMTPRecipientsRefused as e:
        code = e.recipients["noauth@example.test"][0]
        if code != 554:
            fail("want 554, got %r" % e.recipients)
        return
    fail("relayed without AUTH")


def pf_auth(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    s.ehlo()
    s.user, s.password = USER, PASS
    code, text = s.auth("PLAIN", s.auth_plain)
    if code != 235:
        fail("AUTH PLAIN: %d %r" % (code, text))
    if send(s, ["auth@elsewhere.invalid"]):
        fail("refused")


def pf_implicit(port):
    s = smtplib.SMTP_SSL("127.0.0.1", int(port), context=ctx(), timeout=10)
    s.ehlo()
    if not s.has_extn("auth") or s.has_extn("starttls"):
        fail("want AUTH, no STARTTLS: %r" % s.esmtp_features)
    if send(s, ["implicit@example.test"]):
        fail("refused")


def fault_ok(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    s.login(USER, PASS)
    if send(s, ["ok@example.org"], mail_options=["BODY=8BITMIME"]):
        fail("refused")


def fault_rcpt(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    got = send(s, ["ok2@example.org", "bad1@example.org", "temp1@example.org",
                   "denied1@example.org"])
    want = {"bad1@example.org": (550, b"5.1.1"),
            "temp1@example.org": (450, b"4.2.1"),
            "denied1@example.org": (554, b"5.7.1")}
    have = {r: (c, t.split()[0]) for r, (c, t) in got.items()}
    if have != want:
        fail("refused %r" % got)


def fault_xoauth2(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    s.ehlo()
    bad = base64.b64encode(b"user=%s\1auth=Bearer nope\1\1" % USER.encode())
    code, text = s.docmd("AUTH", "XOAUTH2 " + bad.decode())
    err = base64.b64decode(text)
    if code != 334 or b'"status":"400"' not in err:
        fail("bad token: %d %r" % (code, text))
    code, text = s.docmd("")
    if code != 535:
        fail("after the error challenge: %d %r" % (code, text))
    good = base64.b64encode(b"user=%s\1auth=Bearer %s\1\1" %
                            (USER.encode(), PASS.encode()))
    code, text = s.docmd("AUTH", "XOAUTH2 " + good.decode())
    if code != 235:
        fail("good token: %d %r" % (code, text))
    s.quit()


def fault_unverified(port, why):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    try:
        s.starttls(context=ctx())
    except ssl.SSLCertVerificationError as e:
        if why in str(e):
            return
        fail("wrong reason: %s" % e)
    fail("verified")


def fault_implicit(port):
    s = smtplib.SMTP_SSL("127.0.0.1", int(port), context=ctx(), timeout=10)
    s.login(USER, PASS)
    if send(s, ["implicit@example.org"]):
        fail("refused")


def raw(port, lines, want_end):
    """Send lines, collect until want_end is in what came back."""
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    s.sendall(b"".join(l + b"\r\n" for l in lines))
    got = b""
    end = time.monotonic() + 5
    while want_end not in got and time.monotonic() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


def fault_greet421(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    if not got.startswith(b"421 4.3.2 ") or got.count(b"\r\n") != 1:
        fail("greeting %r" % got)


def fault_injected(port):
    got = raw(port, [b"EHLO client.test", b"STARTTLS"], b"250 injected\r\n")
    if not got.endswith(b"250 STARTTLS\r\n220 go ahead\r\n250 injected\r\n"):
        fail("got %r" % got)
    # smtplib drops what followed the 220: TLS and EHLO work.
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    code, text = s.ehlo()
    if code != 250 or not s.has_extn("pipelining"):
        fail("EHLO inside TLS: %d %r" % (code, text))
    s.quit()


def fault_auth534(port):
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ctx())
    try:
        s.login(USER, PASS)
    except smtplib.SMTPAuthenticationError as e:
        lines = e.smtp_error.split(b"\n")
        if e.smtp_code == 534 and len(lines) == 2 and \
                lines[0].startswith(b"5.7.9 Application-specific password") \
                and b"?p=InvalidSecondFactor" in lines[1]:
            return
        fail("got %d %r" % (e.smtp_code, e.smtp_error))
    fail("login succeeded")


def fault_auth_clear(port):
    got = raw(port, [b"EHLO client.test",
                     b"AUTH PLAIN " + base64.b64encode(b"\0u\0p"), b"QUIT"],
              b"221")
    if b"\r\n538 5.7.11 " not in got or b"AUTH PLAIN" in got:
        fail("got %r" % got)


globals()[sys.argv[1]](*sys.argv[2:])
PY
py() { "$PY" "$WORK/client.py" "$@"; }

# ---- certificates ------------------------------------------------------
check "tls_material makes CA, server, wrong and expired" tls_material "$TLS_DIR"
check "certs: server verifies for 127.0.0.1 and localhost; wrong, expired do not" sh -c "
    cd '$TLS_DIR' &&
    openssl verify -CAfile ca.pem -verify_ip 127.0.0.1 server.pem &&
    openssl verify -CAfile ca.pem -verify_hostname localhost server.pem &&
    ! openssl verify -CAfile ca.pem -verify_ip 127.0.0.1 wrong.pem > w.out 2>&1 &&
    grep -q 'IP address mismatch' w.out &&
    ! openssl verify -CAfile ca.pem -verify_ip 127.0.0.1 expired.pem > e.out 2>&1 &&
    grep -q 'certificate has expired' e.out &&
    [ \"\$(openssl x509 -in expired.pem -noout -startdate -enddate | tr '\\n' ' ')\" = \
      'notBefore=Jan  1 00:00:00 2020 GMT notAfter=Feb  1 00:00:00 2020 GMT ' ]"

# ---- Postfix -----------------------------------------------------------
postfix_start > "$WORK/check.out" 2>&1
ok $? "postfix_start: ports $PF_PORT $PF_TLS_PORT $PF_AUTH_PORT"
sed 's/^/# /' "$WORK/check.out"
check "Postfix: plain SMTP, STARTTLS offered, no AUTH in clear" py pf_plain "$PF_PORT"
check "Postfix: STARTTLS verified against the test CA (IP 127.0.0.1)" \
    py pf_starttls "$PF_PORT"
check "openssl s_client verifies Postfix's STARTTLS certificate" sh -c "
    openssl s_client -brief -starttls smtp -connect 127.0.0.1:$PF_PORT \
    -CAfile '$TLS_DIR/ca.pem' -verify_ip 127.0.0.1 -verify_return_error \
    < /dev/null 2>&1 | grep -x 'Verification: OK'"
check "Postfix: the AUTH port refuses to relay without AUTH" \
    py pf_noauth "$PF_AUTH_PORT"
check "Postfix: AUTH PLAIN as $PF_USER after STARTTLS, relays" \
    py pf_auth "$PF_AUTH_PORT"
check "Postfix: implicit TLS port" py pf_implicit "$PF_TLS_PORT"
check "postfix_wait: 4 messages in the mbox" postfix_wait 4 10
check "postfix_count says 4" test "$(postfix_count)" = 4
postfix_messages_dir "$WORK/pf-msgs"
check "postfix_messages_dir: 4 files" test -f "$WORK/pf-msgs/4" -a ! -e "$WORK/pf-msgs/5"
# by_rcpt RCPT: the message Postfix delivered for RCPT
by_rcpt() { grep -l -x "X-Original-To: $1" "$WORK"/pf-msgs/*; }
same_bytes() {	# same_bytes RCPT: below Postfix's headers, what was sent
	f=$(by_rcpt "$1") && postfix_original "$f" | diff -u "$WORK/msg.txt" -
}
check "mbox round trip is exact (From, >From, dots, 8-bit): plain" \
    same_bytes plain@example.test
check "... STARTTLS" same_bytes starttls@example.test
check "... AUTH, relayed to any domain" same_bytes auth@elsewhere.invalid
check "... implicit TLS" same_bytes implicit@example.test
check "Received: says ESMTP, ESMTPS, ESMTPSA, ESMTPS" sh -c "
    grep -q ' with ESMTP id' '$(by_rcpt plain@example.test)' &&
    grep -q ' with ESMTPS id' '$(by_rcpt starttls@example.test)' &&
    grep -q ' with ESMTPSA id' '$(by_rcpt auth@elsewhere.invalid)' &&
    grep -q ' with ESMTPS id' '$(by_rcpt implicit@example.test)'"
gone() {	# gone PID...: none still running (zombies waiting for init are dead)
	[ $# -gt 0 ] || return 1
	for p in "$@"; do
		_smtp_alive "$p" && { echo "still running: $p"; return 1; }
	done
	return 0
}
# shellcheck disable=SC2046
set -- $(_smtp_pf_procs)
postfix_stop
check "postfix_stop: none of its $# processes left" gone "$@"

# ---- faultsmtp ---------------------------------------------------------
cert="--tls-cert $TLS_DIR/server.pem --tls-key $TLS_DIR/server.key"
# shellcheck disable=SC2086
fault_start ok $cert --auth
ok_dir=$FAULT_DIR
check "faultsmtp ok: STARTTLS, AUTH, a message" py fault_ok "$FAULT_PORT"
check "... stored with its envelope, bytes as sent (CRLF, unstuffed)" sh -c "
    sed 's/\$/\r/' '$WORK/msg.txt' | cmp - '$ok_dir/msg.1' &&
    grep -qx 'MAIL FROM:<a@example.org> size=[0-9]* BODY=8BITMIME' '$ok_dir/env.1' &&
    grep -qx 'RCPT TO:<ok@example.org>' '$ok_dir/env.1' &&
    grep -qx 'AUTH: user@example.test' '$ok_dir/env.1' &&
    grep -q '^TLS: yes TLSv1' '$ok_dir/env.1' &&
    ! grep -q '^1 !' '$ok_dir/transcript'"
check "faultsmtp: bad* 550 5.1.1, temp* 450 4.2.1, denied* 554 5.7.1" \
    py fault_rcpt "$FAULT_PORT"
check "... only the accepted recipient in the envelope" sh -c "
    [ \"\$(grep '^RCPT' '$ok_dir/env.2')\" = 'RCPT TO:<ok2@example.org>' ]"
check "faultsmtp: XOAUTH2 bad token gets Gmail's JSON challenge, then 535" \
    py fault_xoauth2 "$FAULT_PORT"
check "faultsmtp: AUTH before TLS refused and recorded" sh -c "
    '$PY' '$WORK/client.py' fault_auth_clear $FAULT_PORT &&
    grep -q '^[0-9]* ! AUTH before TLS\$' '$ok_dir/transcript'"
pid=$FAULT_PID
fault_stop
check "fault_stop: the server is gone" gone "$pid"

# s_client_fails PORT MESSAGE: STARTTLS to PORT fails verification so
s_client_fails() {
	! openssl s_client -brief -starttls smtp -connect "127.0.0.1:$1" \
	    -CAfile "$TLS_DIR/ca.pem" -verify_ip 127.0.0.1 -verify_return_error \
	    < /dev/null > "$WORK/s_client.out" 2>&1 &&
	    grep "$2" "$WORK/s_client.out"
}
fault_start tls-wrong-cert --tls-cert "$TLS_DIR/wrong.pem" \
    --tls-key "$TLS_DIR/wrong.key"
check "wrong-name cert: s_client fails, IP address mismatch" \
    s_client_fails "$FAULT_PORT" 'verify error:num=64:IP address mismatch'
check "... and so does Python's ssl" py fault_unverified "$FAULT_PORT" \
    "IP address mismatch"
fault_start ok --tls-cert "$TLS_DIR/expired.pem" --tls-key "$TLS_DIR/expired.key"
check "expired cert: s_client fails, certificate has expired" \
    s_client_fails "$FAULT_PORT" 'verify error:num=10:certificate has expired'
check "... and so does Python's ssl" py fault_unverified "$FAULT_PORT" \
    "certificate has expired"

fault_start greet421
check "faultsmtp greet421: one 421 4.3.2 line, then close" \
    py fault_greet421 "$FAULT_PORT"
# shellcheck disable=SC2086
fault_start injected-before-tls $cert
check "faultsmtp injected-before-tls: 220 and 250 in one go; TLS still works" \
    py fault_injected "$FAULT_PORT"
# shellcheck disable=SC2086
fault_start auth534 $cert --auth
check "faultsmtp auth534: Gmail's two-line 534 5.7.9" \
    py fault_auth534 "$FAULT_PORT"
# shellcheck disable=SC2086
fault_start ok $cert --implicit-tls --auth
check "faultsmtp --implicit-tls with AUTH" py fault_implicit "$FAULT_PORT"
