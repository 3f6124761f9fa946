#!/bin/sh
# queue-smtp.sh - a queue run over SMTP: many messages over one
# connection, and a dead relay costs one connection per run, not one per
# message; a relay's rate limit (421 4.7.x) pauses the rest of the run.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 11
tls_material "$TLS_DIR"
CERT="--tls-cert $TLS_DIR/server.pem --tls-key $TLS_DIR/server.key"
printf 'From: a@example.org\nSubject: queued\n\nbody\n' > "$WORK/msg"
conf() {	# conf PORT [GLOBAL-LINE...]
	_port=$1
	shift
	write_conf "$@" "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $_port" "tls_ca_file = $TLS_DIR/ca.pem" "command_timeout = 5s"
}

conf "$(free_port)"
for i in 1 2 3 4 5; do
	run_sm "$WORK/msg" -C "$CONF" -odq "r$i@example.org"
done
check "five messages queued" \
    test "$(ls "$QUEUE/deferred" | grep -c '\.env$')" -eq 5

# with the default queue_concurrency (2 workers): the first attempt
# finds the relay down, and the workers do not try it again
fault_start greet421 $CERT
conf "$FAULT_PORT"
"$SENDMAIL" -C "$CONF" -q
check "relay answering 421: one connection for five messages" \
    test "$(grep -c '\* connect' "$FAULT_DIR/transcript")" -eq 1
check "... all five still queued, with the server's words" \
    sh -c "[ \$(ls '$QUEUE/deferred' | grep -c '\.env\$') -eq 5 ] && '$WORK/bin/mailq' -C '$CONF' | grep -c '421 4.3.2' | grep -qx 5"

fault_start ok $CERT
conf "$FAULT_PORT" "queue_concurrency = 1"
"$SENDMAIL" -C "$CONF" -q
check "relay up: all five delivered over one connection, one STARTTLS" \
    sh -c "[ \$(grep -c '\* connect' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(grep -c 'C: STARTTLS' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(ls '$FAULT_DIR' | grep -c '^msg\.') -eq 5 ]"
check "the queue is empty" test -z "$(ls "$QUEUE/deferred" | grep '\.env$')"

# a rate limit (421 4.7.0 to MAIL, then the server closes): the rest of
# the run sends nothing more through smtp; the others wait, not counted
# as attempts, until queue_min_backoff from now
conf "$(free_port)"
for i in 1 2 3; do
	run_sm "$WORK/msg" -C "$CONF" -odq "rate$i@example.org"
done
fault_start mail421-rate $CERT
conf "$FAULT_PORT" "queue_min_backoff = 2s"
t0=$(date +%s)
"$PLUME" -C "$CONF" -v queue run > "$WORK/run.out" 2>&1
check "421 4.7.0 in a queue run: one connection, one MAIL for three messages" \
    sh -c "[ \$(grep -c '\* connect' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(grep -c 'C: MAIL' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(grep -c 'asked to slow down (421 4.7.0' '$WORK/run.out') -eq 1 ]"
check "... all three queued, next attempt 2s on, one attempted" \
    sh -c "[ \$(ls '$QUEUE/deferred' | grep -c '\.env\$') -eq 3 ] && [ \$(grep -h '^next_attempt ' '$QUEUE'/deferred/*.env | awk -v t=$((t0 + 2)) '\$2 >= t' | wc -l) -eq 3 ] && [ \$(grep -h '^attempts 1\$' '$QUEUE'/deferred/*.env | wc -l) -eq 1 ]"
fault_start ok $CERT
conf "$FAULT_PORT" "queue_min_backoff = 2s"
sleep 3
"$PLUME" -C "$CONF" queue run 2>/dev/null
check "... the next run after it delivers all three" \
    sh -c "[ \$(ls '$FAULT_DIR' | grep -c '^msg\.') -eq 3 ] && ! ls '$QUEUE/deferred' | grep -q '\.env\$'"

# kill -9 of the runner while it waits for the reply to the end of data
# (the server has the message): the next run delivers it again: one
# duplicate at most, and the queue is intact in between
conf "$(free_port)"
run_sm "$WORK/msg" -C "$CONF" -odq killed@example.org
fault_start stall-data $CERT
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" \
    "tls_ca_file = $TLS_DIR/ca.pem" "final_timeout = 1m"
"$SENDMAIL" -C "$CONF" -q &
rpid=$!
n=0; while [ ! -e "$FAULT_DIR/msg.1" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 $rpid; wait $rpid 2>/dev/null
id=$(ls "$QUEUE/deferred" | grep '\.env$' | sed 's/\.env$//')
check "runner killed after the message reached the server: the entry is intact, still pending" \
    sh -c "[ -n '$id' ] && '$PLUME' -C '$CONF' queue show $id | grep -qx 'Recipient: <killed@example.org> pending'"
stalled=$FAULT_DIR
fault_start ok $CERT
conf "$FAULT_PORT"
"$SENDMAIL" -C "$CONF" -q
check "the next run delivers it" \
    sh -c "[ -e '$FAULT_DIR/msg.1' ] && ! ls '$QUEUE/deferred' | grep -q '\.env\$'"
check "one duplicate at most: one copy at each server, none after" \
    sh -c "[ \$(ls '$stalled' | grep -c '^msg\.') -eq 1 ] && [ \$(ls '$FAULT_DIR' | grep -c '^msg\.') -eq 1 ]"
