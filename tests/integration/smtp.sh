#!/bin/sh
# smtp.sh - the SMTP transport against a real Postfix smtpd on loopback:
# plain, STARTTLS and implicit TLS with a CA made here, Cyrus SASL
# logins, certificate checks, and a message corpus that must arrive byte
# for byte (below Postfix's own trace fields; Postfix stores LF).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need postfix

plan 28
# ask for client certificates (optional) and name them in Received
postfix_start "smtpd_tls_ask_ccert = yes" "smtpd_tls_CAfile = $TLS_DIR/ca.pem" \
    "smtpd_tls_received_header = yes"
ok $? "private Postfix started on 127.0.0.1:$PF_PORT, $PF_TLS_PORT, $PF_AUTH_PORT"

# smtp_conf PORT [KEY = VALUE...]: a config with one [smtp] instance
smtp_conf() {
	port=$1
	shift
	write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $port" "tls_ca_file = $TLS_DIR/ca.pem" \
	    "command_timeout = 10s" "$@"
}

HDR='From: Alice <alice@example.org>
To: rcpt@example.test
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <fixed@example.org>
Subject: test
'

# The message as it must arrive: LF line ends (Postfix stores lines),
# every CR that ends a line gone, nothing else changed.
want_of() { sed 's/\r$//' "$1" | tr '\r' '\n'; }
# What arrived, below Postfix's fields and plume's own Received field.
got_of() {
	postfix_original "$1" | awk 'BEGIN { h = 1 }
	    h == 1 && /^Received: by .*\(plume / { h = 2; next }
	    h == 2 && /^[ \t]/ { next }
	    { h = 0; print }'
}

# corpus NAME FILE DESC [sendmail args]: send FILE, compare what arrived
# with $WANT (a file) or, by default, with FILE's lines as LF lines
corpus() {
	name=$1 file=$2 desc=$3
	shift 3
	n=$(( $(postfix_count) + 1 ))
	run_sm "$file" -C "$CONF" -f sender@example.org "$@" rcpt@example.test
	if [ $RC -ne 0 ] || ! postfix_wait $n; then
		ok 1 "$desc (exit $RC)"
		grep -v 'smtp: [<>]' "$WORK/err" | sed 's/^/# /'
		WANT=
		return
	fi
	rm -rf "$WORK/msgs"
	postfix_messages_dir "$WORK/msgs"
	got_of "$WORK/msgs/$n" > "$WORK/$name.got"
	if [ -n "${WANT:-}" ]; then
		cp "$WANT" "$WORK/$name.want"
	else
		want_of "$file" > "$WORK/$name.want"
	fi
	WANT=
	if cmp -s "$WORK/$name.want" "$WORK/$name.got"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		diff "$WORK/$name.want" "$WORK/$name.got" | head -n 10 |
		    sed 's/^/# /'
	fi
}

smtp_conf "$PF_PORT" "tls = none"
printf '%s\nLF body\n.\n..two dots\nFrom the start of a line\n' "$HDR" > "$WORK/c1"
corpus c1 "$WORK/c1" "plain: LF input, lone dot, leading dots, From line, byte for byte" -i
{ printf '%s' "$HDR" | sed 's/$/\r/'; printf '\r\nCRLF body\r\nbare\rCR\r\n'; } > "$WORK/c2"
corpus c2 "$WORK/c2" "plain: CRLF input and a bare CR (a line end)" -i
printf 'Subject: Gr\303\274\303\237e \342\234\223 \346\227\245\346\234\254\nFrom: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <u@example.org>\n\n\303\244\303\266\303\274 \342\202\254 8-bit\n' > "$WORK/c3"
corpus c3 "$WORK/c3" "8-bit body and raw UTF-8 header" -i -v
check "8-bit body sent with BODY=8BITMIME" \
    grep -q 'MAIL FROM:<sender@example.org> SIZE=[0-9]* BODY=8BITMIME' "$WORK/err"
{ printf '%s\n' "$HDR"; head -c 1500 /dev/zero | tr '\0' 'y'; printf '\n'; } > "$WORK/c4"
corpus c4 "$WORK/c4" "a 1500-character line" -i -v

smtp_conf "$PF_PORT"
{ printf '%sMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nsee attached\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n' "$HDR"
  head -c 7300000 /dev/urandom | base64; printf -- '--XX--\n'; } > "$WORK/c5"
corpus c5 "$WORK/c5" "STARTTLS: a 10 MB attachment, byte for byte" -i -v
check "STARTTLS: TLS 1.2+ and the certificate verified against tls_ca_file" \
    grep -q 'via=smtp, relay=127.0.0.1\[127.0.0.1\]:'"$PF_PORT"', tls=TLSv1\.[23] ' "$WORK/err"
check "STARTTLS: EHLO again after the handshake" \
    sh -c "grep -n '> EHLO\|> STARTTLS' '$WORK/err' | tail -n 2 | head -n 1 | grep -q STARTTLS"
check "Postfix saw ESMTPS" grep -q 'with ESMTPS' "$WORK/msgs/$n"

smtp_conf "$PF_TLS_PORT" "tls = implicit"
corpus c6 "$WORK/c1" "implicit TLS" -i
printf '%s\nLF body\n' "$HDR" > "$WORK/c7.want"
WANT=$WORK/c7.want
corpus c7 "$WORK/c1" "implicit TLS, without -i: the lone dot ends the message" -v
check "log names TLS version and cipher" grep -q 'tls=TLSv1\.[23] [A-Z0-9_-]*' "$WORK/err"

# logins, on the port where relaying needs one
printf '%s\n' "$PF_PASS" > "$WORK/pw" && chmod 600 "$WORK/pw"
smtp_conf "$PF_AUTH_PORT" "user = $PF_USER" "password_file = $WORK/pw"
corpus c8 "$WORK/c1" "AUTH after STARTTLS with password_file (Cyrus SASL)" -i -v
check "Postfix saw ESMTPSA; the log names the mechanism and user" \
    sh -c "grep -q 'with ESMTPSA' '$WORK/msgs/$n' && grep -q 'auth=[A-Z0-9-]* as $PF_USER' '$WORK/err'"
check "-v: AUTH payloads redacted, the password never shown" \
    sh -c "grep -q '> AUTH [A-Z0-9-]*' '$WORK/err' && ! grep -q '$PF_PASS' '$WORK/err' && ! grep -q \"\$(printf '\\\\0%s\\\\0%s' '$PF_USER' '$PF_PASS' | base64)\" '$WORK/err'"
smtp_conf "$PF_AUTH_PORT" "user = $PF_USER" "password_command = /bin/echo $PF_PASS" "auth = login"
corpus c9 "$WORK/c1" "auth = login with password_command (no shell)" -i -v
check "LOGIN was used" grep -q 'auth=LOGIN as' "$WORK/err"
smtp_conf "$PF_AUTH_PORT" "user = $PF_USER" "password_file = $WORK/pw" "auth = cram-md5"
corpus c11 "$WORK/c1" "auth = cram-md5" -i -v
check "CRAM-MD5 was used" grep -q 'auth=CRAM-MD5 as' "$WORK/err"

printf 'wrong\n' > "$WORK/badpw" && chmod 600 "$WORK/badpw"
smtp_conf "$PF_AUTH_PORT" "user = $PF_USER" "password_file = $WORK/badpw" "auth = plain"
run_sm "$WORK/c1" -C "$CONF" -i -v rcpt@example.test
check "wrong password: temporary (queued, exit 0) with the server's words" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: ' '$WORK/err' && grep -q 'refused AUTH PLAIN as $PF_USER' '$WORK/err' && grep -q '535' '$WORK/err'"

smtp_conf "$PF_AUTH_PORT"
run_sm "$WORK/c1" -C "$CONF" -i -v rcpt@example.test
check "no login where relaying needs one: the RCPT refusal is permanent (69)" \
    sh -c "[ $RC -eq 69 ] && grep -q '554 5.7.1' '$WORK/err'"

chmod 644 "$WORK/pw"
smtp_conf "$PF_AUTH_PORT" "user = $PF_USER" "password_file = $WORK/pw"
run_sm "$WORK/c1" -C "$CONF" -i -v rcpt@example.test
check "a password file readable by others is refused" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: ' '$WORK/err' && grep -q 'readable by others' '$WORK/err'"
chmod 600 "$WORK/pw"

smtp_conf "$PF_PORT" "tls = none" "user = $PF_USER" "password_file = $WORK/pw"
run_sm "$WORK/c1" -C "$CONF" -i -v rcpt@example.test
check "no credentials without TLS" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: ' '$WORK/err' && grep -q 'refusing to send credentials' '$WORK/err'"

write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $PF_PORT"
run_sm "$WORK/c1" -C "$CONF" -i -v rcpt@example.test
check "a certificate the system store does not trust: queued, never plaintext" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: ' '$WORK/err' && grep -q 'not trusted' '$WORK/err'"

fp=$(openssl x509 -in "$TLS_DIR/server.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $PF_PORT" "tls_fingerprint = $fp"
corpus c10 "$WORK/c1" "tls_fingerprint pins a certificate without a CA" -i

# a client certificate, made here and signed by the test CA
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/client.key" -subj /CN=plume-client -out "$WORK/client.csr" 2>/dev/null &&
openssl x509 -req -in "$WORK/client.csr" -CA "$TLS_DIR/ca.pem" \
    -CAkey "$TLS_DIR/ca.key" -CAcreateserial -days 2 -out "$WORK/client.pem" 2>/dev/null
smtp_conf "$PF_PORT" "tls_cert_file = $WORK/client.pem" "tls_key_file = $WORK/client.key"
corpus c12 "$WORK/c1" "STARTTLS with a client certificate" -i
check "Postfix verified the client certificate" \
    grep -q 'Client CN "plume-client"' "$WORK/msgs/$n"
