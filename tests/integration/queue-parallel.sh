#!/bin/sh
# queue-parallel.sh - queue_concurrency: one queue run delivers through
# several workers at once, each message exactly once, never more
# connections than the limit, and a killed worker leaves nothing stuck.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 9
printf 'From: a@example.org\nSubject: parallel\n\nbody\n' > "$WORK/msg"
conf() {	# conf PORT CONCURRENCY
	write_conf "queue_concurrency = $2" "pipeline = smtp" "[smtp]" \
	    "host = 127.0.0.1" "port = $1" "tls = none" "command_timeout = 10s"
}
enqueue() {	# enqueue FIRST LAST: messages to rFIRST..rLAST, queued only
	_i=$1
	while [ "$_i" -le "$2" ]; do
		run_sm "$WORK/msg" -C "$CONF" -odq "r$_i@example.org"
		_i=$((_i + 1))
	done
}
queued() { ls "$QUEUE/deferred" | grep -c '\.env$'; }
# the most connections the server had open at once
most_at_once() {
	awk '$2 == "*" && $3 == "connect" { if (++c > m) m = c }
	     $2 == "*" && $3 == "close" { c-- } END { print m + 0 }' \
	    "$FAULT_DIR/transcript"
}
# "count address" for every recipient the server stored a message for
rcpt_counts() {
	cat "$FAULT_DIR"/env.* 2>/dev/null | sed -n 's/^RCPT TO:<\([^>]*\)>.*/\1/p' |
	    sort | uniq -c
}
now() { "$SMTP_PYTHON" -c 'import time; print(time.monotonic())'; }
rate() { "$SMTP_PYTHON" -c "print('%.1f' % ($1 / ($3 - $2)))"; }

# 40 messages to a slow relay (every reply byte 2 ms apart), 4 workers
conf "$(free_port)" 4
enqueue 1 40
check "40 messages queued" test "$(queued)" -eq 40
fault_start slow
conf "$FAULT_PORT" 4
t0=$(now)
"$PLUME" -v -C "$CONF" queue flush > "$WORK/run.out" 2>&1
rc=$?
t1=$(now)
check "the run ends 0 and says it used 4 workers" \
    sh -c "[ $rc -eq 0 ] && grep -q 'queue run: 40 seen, 40 attempted, 40 done.*4 workers' '$WORK/run.out'"
rcpt_counts > "$WORK/counts"
check "each of the 40 delivered exactly once (counted at the server)" \
    sh -c "[ \$(wc -l < '$WORK/counts') -eq 40 ] && [ \$(awk '\$1 != 1' '$WORK/counts' | wc -l) -eq 0 ] && [ $(fault_count) -eq 40 ]"
check "the queue is empty" test "$(queued)" -eq 0
m=$(most_at_once)
check "in parallel: $m connections at once, never more than 4" \
    test "$m" -ge 2 -a "$m" -le 4
diag "40 messages, 4 workers: $(rate 40 "$t0" "$t1") msg/s over $(grep -c '\* connect' "$FAULT_DIR/transcript") connections"

# the same relay, one worker: the figure to compare (not asserted)
fault_start slow
conf "$FAULT_PORT" 1
enqueue 41 52
t0=$(now)
"$PLUME" -C "$CONF" queue flush
t1=$(now)
check "queue_concurrency = 1: one connection, one message after another" \
    sh -c "[ \$(grep -c '\* connect' '$FAULT_DIR/transcript') -eq 1 ] && [ $(fault_count) -eq 12 ] && [ $(queued) -eq 0 ]"
diag "12 messages, 1 worker: $(rate 12 "$t0" "$t1") msg/s over one connection"

# kill -9 of one worker in the middle of a run: the others finish, the
# runner says so, and its message is delivered by the next run (at most
# one duplicate: the server may have had it before the kill)
fault_start slow
conf "$FAULT_PORT" 3
enqueue 61 80
"$PLUME" -v -C "$CONF" queue flush > "$WORK/kill.out" 2>&1 &
rpid=$!
fault_wait 4 20
victim=$(pgrep -P "$rpid" | head -n 1)
[ -n "$victim" ] && kill -9 "$victim"
wait "$rpid"
rc=$?
check "a worker killed: the run ends 0 and reports it" \
    sh -c "[ $rc -eq 0 ] && [ -n '$victim' ] && grep -q 'killed by signal 9' '$WORK/kill.out'"
first=$FAULT_DIR
fault_start ok
conf "$FAULT_PORT" 3
"$PLUME" -C "$CONF" queue flush
cat "$first"/env.* "$FAULT_DIR"/env.* | sed -n 's/^RCPT TO:<\([^>]*\)>.*/\1/p' |
    sort | uniq -c > "$WORK/counts"
check "the next run delivers the rest: the queue is empty, no lock left behind" \
    test "$(queued)" -eq 0
check "each of the 20 arrived, at most one of them twice" \
    sh -c "[ \$(wc -l < '$WORK/counts') -eq 20 ] && [ \$(awk '\$1 > 1' '$WORK/counts' | wc -l) -le 1 ] && [ \$(awk '\$1 > 2' '$WORK/counts' | wc -l) -eq 0 ]"
diag "killed worker: $(grep -c . "$WORK/counts") recipients, $(awk '$1 > 1' "$WORK/counts" | wc -l) duplicate"
