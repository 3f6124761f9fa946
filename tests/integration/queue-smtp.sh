#!/bin/sh
# queue-smtp.sh - a queue run over SMTP: many messages over one
# connection, and a dead relay costs one connection per run, not one per
# message.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 5
tls_material "$TLS_DIR"
CERT="--tls-cert $TLS_DIR/server.pem --tls-key $TLS_DIR/server.key"
printf 'From: a@example.org\nSubject: queued\n\nbody\n' > "$WORK/msg"
conf() {
	write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $1" "tls_ca_file = $TLS_DIR/ca.pem" "command_timeout = 5s"
}

conf "$(free_port)"
for i in 1 2 3 4 5; do
	run_sm "$WORK/msg" -C "$CONF" -odq "r$i@example.org"
done
check "five messages queued" \
    test "$(ls "$QUEUE/deferred" | grep -c '\.env$')" -eq 5

fault_start greet421 $CERT
conf "$FAULT_PORT"
"$SENDMAIL" -C "$CONF" -q
check "relay answering 421: one connection for five messages" \
    test "$(grep -c '\* connect' "$FAULT_DIR/transcript")" -eq 1
check "... all five still queued, with the server's words" \
    sh -c "[ \$(ls '$QUEUE/deferred' | grep -c '\.env\$') -eq 5 ] && '$WORK/bin/mailq' -C '$CONF' | grep -c '421 4.3.2' | grep -qx 5"

fault_start ok $CERT
conf "$FAULT_PORT"
"$SENDMAIL" -C "$CONF" -q
check "relay up: all five delivered over one connection, one STARTTLS" \
    sh -c "[ \$(grep -c '\* connect' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(grep -c 'C: STARTTLS' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(ls '$FAULT_DIR' | grep -c '^msg\.') -eq 5 ]"
check "the queue is empty" test -z "$(ls "$QUEUE/deferred" | grep '\.env$')"
