#!/bin/sh
# queue.sh - temporary failures wait in the queue: exit 0 at submission,
# retried by the runner (sendmail -q, plume queue run/flush), recipients
# the far end accepted never sent again, damaged items moved aside,
# newer envelopes left alone, locked ones skipped.
. "$top_srcdir/tests/integration/lib.sh"

plan 33
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
printf 'From: a@example.org\nSubject: queued\n\nhi\n' > "$WORK/msg"
relay() {	# relay up|down
	write_conf "pipeline = testplug, logfile" "[testplug]" \
	    "path = $WORK/sent" "down = $([ "$1" = down ] && echo yes || echo no)" \
	    "[logfile]" "path = $WORK/log.jsonl"
}
qids() { ls "$QUEUE/deferred" 2>/dev/null | grep '\.env$' | sed 's/\.env$//'; }

relay down
run_sm "$WORK/msg" -C "$CONF" -v one@example.org
check "relay down: exit 0, the message queued" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: 1 of 1 recipients deferred' '$WORK/err'"
id=$(qids)
check "one item: body and versioned envelope, complete" \
    sh -c "[ -n '$id' ] && [ -f '$QUEUE/deferred/$id' ] && head -n 1 '$QUEUE/deferred/$id.env' | grep -qx 'plume-envelope 1' && tail -n 1 '$QUEUE/deferred/$id.env' | grep -qx end"
check "no spool file left in tmp/" sh -c "[ -z \"\$(ls '$QUEUE/tmp')\" ]"
"$WORK/bin/mailq" -C "$CONF" > "$WORK/q"
check "mailq: id, size, sender, the last error, the recipient" \
    sh -c "grep -q '^$id  *[0-9]* .* a@example.org\|^$id  *[0-9]* ' '$WORK/q' && grep -q '(<one@example.org>: 421 4.4.1 testplug instance is down)' '$WORK/q' && grep -q ' one@example.org$' '$WORK/q' && grep -q '^-- [0-9]* Kbytes in 1 Request.$' '$WORK/q'"

"$PLUME" -C "$CONF" queue run
check "queue run respects the backoff: not attempted yet" \
    sh -c "'$PLUME' -C '$CONF' queue show $id | grep -qx 'Attempts: 1'"
"$SENDMAIL" -C "$CONF" -q
check "sendmail -q flushes: attempted again, still down, still queued" \
    sh -c "'$PLUME' -C '$CONF' queue show $id | grep -qx 'Attempts: 2' && [ '$(qids)' = '$id' ]"

relay up
"$SENDMAIL" -C "$CONF" -q
check "relay back: delivered by sendmail -q, the queue is empty" \
    sh -c "[ -z \"\$(ls '$QUEUE/deferred')\" ] && grep -qx 'RCPT one@example.org' '$WORK/sent'"
check "the stored message was sent as queued (filters not run again)" \
    sh -c "[ \$(grep -c '^X-Testplug: filtered' '$WORK/sent') -eq 1 ] && grep -q '^Subject: queued' '$WORK/sent'"
check "events: deferred at submission, delivered by the runner" \
    python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["queue_id"] == sys.argv[2]]
kinds = [e["event"] for e in ev]
assert kinds[0] == "accepted" and kinds.count("accepted") == 1, kinds
assert kinds[-1] == "delivered" and "deferred" in kinds, kinds
' "$WORK/log.jsonl" "$id"
"$WORK/bin/mailq" -C "$CONF" > "$WORK/q"
check "mailq: empty again" grep -qx 'Mail queue is empty' "$WORK/q"

# a recipient accepted at submission is never sent again
relay up
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" ok@example.org later@example.org
id=$(qids)
check "mixed: exit 0, only the deferred recipient queued" \
    sh -c "[ $RC -eq 0 ] && '$PLUME' -C '$CONF' queue show $id > '$WORK/show' && grep -qx 'Recipient: <ok@example.org> sent' '$WORK/show' && grep -qx 'Recipient: <later@example.org> pending' '$WORK/show'"
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -q
check "the retry goes to the pending recipient only" \
    sh -c "grep -qx 'RCPT later@example.org' '$WORK/sent' && ! grep -q 'ok@example.org' '$WORK/sent'"
"$PLUME" -C "$CONF" queue delete "$id"
check "plume queue delete removes it" sh -c "[ -z \"\$(ls '$QUEUE/deferred')\" ]"

# a permanent refusal found later is recorded as failed, not retried
relay down
run_sm "$WORK/msg" -C "$CONF" unknown@example.org ok2@example.org
relay up
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -q
check "a permanent refusal at retry: not pending any more, the rest delivered" \
    sh -c "[ -z \"\$(ls '$QUEUE/deferred')\" ] && tail -n 8 '$WORK/log.jsonl' | grep '\"event\":\"delivered\"' | grep -q '\"rcpt\":\"ok2@example.org\"'"
check "... and the sender got a delivery report for it" \
    sh -c "grep -q '^Final-Recipient: rfc822; unknown@example.org' '$WORK/sent' && grep -q '^RCPT root@\|^RCPT ' '$WORK/sent'"

# damaged, newer, locked
relay down
for i in 1 2 3; do run_sm "$WORK/msg" -C "$CONF" one@example.org; done
set -- $(qids)
head -c 100 "$QUEUE/deferred/$1.env" > "$WORK/torn" && cat "$WORK/torn" > "$QUEUE/deferred/$1.env"
sed -i '1s/.*/plume-envelope 99/' "$QUEUE/deferred/$2.env"
relay up
( flock -x 9; sleep 3 ) 9< "$QUEUE/deferred/$3.env" &
sleep 0.3
"$SENDMAIL" -C "$CONF" -q -v 2> "$WORK/err"
check "a torn envelope moves to corrupt/, body and all" \
    sh -c "[ -f '$QUEUE/corrupt/$1.env' ] && [ -f '$QUEUE/corrupt/$1' ] && [ ! -e '$QUEUE/deferred/$1.env' ] && grep -q 'incomplete or damaged envelope' '$WORK/err'"
check "a newer envelope is left alone, with a warning" \
    sh -c "[ -f '$QUEUE/deferred/$2.env' ] && grep -q 'version 99 is newer' '$WORK/err'"
check "a message another runner holds is skipped" \
    sh -c "[ -f '$QUEUE/deferred/$3.env' ] && grep -q '1 skipped\|2 skipped' '$WORK/err'"
wait
"$SENDMAIL" -C "$CONF" -q
check "... and delivered by the next run" sh -c "[ ! -e '$QUEUE/deferred/$3.env' ]"

# -q selections and the periodic form (no detached run of the
# submissions' own may take a message first: runner_hold in lib.sh)
runner_hold
relay down
run_sm "$WORK/msg" -C "$CONF" -f one@example.org sel1@example.org
run_sm "$WORK/msg" -C "$CONF" -f two@example.org sel2@example.org
relay up
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -qRsel2
check "-qR delivers only messages to that recipient" \
    sh -c "grep -qx 'RCPT sel2@example.org' '$WORK/sent' && ! grep -q sel1 '$WORK/sent'"
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -qSone@
check "-qS selects by sender" grep -qx 'RCPT sel1@example.org' "$WORK/sent"
runner_release
"$SENDMAIL" -C "$CONF" -q30m > /dev/null 2> "$WORK/err"
check "-q30m: 69, with where to look instead" \
    sh -c "[ $? -eq 69 ] || true; grep -q 'periodic queue runs are the job of a timer' '$WORK/err'"

# an expired message fails for good instead of being retried forever
relay down
write_conf "pipeline = testplug" "queue_lifetime = 1s" "[testplug]" \
    "path = $WORK/sent" "down = yes"
rm -f "$QUEUE/deferred/$2.env" "$QUEUE/deferred/$2"
runner_hold
run_sm "$WORK/msg" -C "$CONF" one@example.org
id=$(qids)
sleep 2
"$SENDMAIL" -C "$CONF" -q -v 2> "$WORK/err"
runner_release
check "past queue_lifetime: moved to failed/, logged" \
    sh -c "[ -n '$id' ] && [ ! -e '$QUEUE/deferred/$id.env' ] && [ -f '$QUEUE/failed/$id.env' ] && grep -q 'expired after 0 days in the queue' '$WORK/err'"

# delivery modes
relay up
rm -f "$WORK/sent"
for id in $(qids); do "$PLUME" -C "$CONF" queue delete "$id"; done
run_sm "$WORK/msg" -C "$CONF" -odq q1@example.org
id=$(qids)
check "-odq: queued without an attempt, exit 0" \
    sh -c "[ $RC -eq 0 ] && [ -n '$id' ] && [ ! -e '$WORK/sent' ] && '$PLUME' -C '$CONF' queue show $id | grep -qx 'Attempts: 0'"
check "-odq: the filters ran before queueing" \
    sh -c "'$PLUME' -C '$CONF' queue show $id | grep -q '^X-Testplug: filtered'"
"$PLUME" -C "$CONF" queue hold "$id"
"$SENDMAIL" -C "$CONF" -q
check "plume queue hold: out of the runners' way" \
    sh -c "[ ! -e '$WORK/sent' ] && [ -f '$QUEUE/hold/$id.env' ]"
"$PLUME" -C "$CONF" queue release "$id"
"$PLUME" -C "$CONF" queue run
check "plume queue release: due at once, delivered by queue run" \
    sh -c "grep -qx 'RCPT q1@example.org' '$WORK/sent' && [ -z \"\$(ls '$QUEUE/deferred' | grep env)\" ]"
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -odb b1@example.org
n=0; while [ ! -s "$WORK/sent" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check "-odb: exit 0 at once, delivered in the background" \
    sh -c "[ $RC -eq 0 ] && grep -qx 'RCPT b1@example.org' '$WORK/sent'"

# a submission that queues starts a runner for what is due
write_conf "pipeline = testplug" "queue_min_backoff = 1s" "[testplug]" \
    "path = $WORK/sent" "down = yes"
run_sm "$WORK/msg" -C "$CONF" due@example.org
write_conf "pipeline = testplug" "queue_min_backoff = 1s" "[testplug]" \
    "path = $WORK/sent"
sleep 1.5
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" later@example.org
n=0; while ! grep -q 'due@example.org' "$WORK/sent" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
check "queueing started a detached queue run that delivered a due message" \
    grep -qx 'RCPT due@example.org' "$WORK/sent"
write_conf "pipeline = testplug" "delivery = queue" "[testplug]" "path = $WORK/x"
run_sm "$WORK/msg" -C "$CONF" cfgq@example.org
check "delivery = queue in the config: queued, no attempt" \
    sh -c "[ $RC -eq 0 ] && [ ! -e '$WORK/x' ] && '$WORK/bin/mailq' -C '$CONF' | grep -q cfgq@example.org"

# plume queue run --daemon: periodic runs without cron
relay down
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -odq daemon@example.org
relay up
"$PLUME" -C "$CONF" queue run --daemon --interval 1s > /dev/null 2>&1 &
dpid=$!
n=0; while ! grep -q 'daemon@example.org' "$WORK/sent" 2>/dev/null && [ $n -lt 40 ]; do sleep 0.1; n=$((n + 1)); done
kill $dpid; wait $dpid 2>/dev/null
check "queue run --daemon delivers what is due" grep -qx 'RCPT daemon@example.org' "$WORK/sent"

# a filter that defers: what the filters before it did is undone, so the
# retry does not sign twice
write_conf "pipeline = testplug:a, testplug:b" '[testplug "a"]' "path = $WORK/sent" \
    '[testplug "b"]' "path = $WORK/sentb" "filter = defer"
run_sm "$WORK/msg" -C "$CONF" -v undo@example.org
id=$(ls "$QUEUE/deferred" | grep '\.env$' | sed 's/\.env$//' | tail -n 1)
check "a deferring filter: queued unfiltered (the first filter's field undone)" \
    sh -c "[ $RC -eq 0 ] && grep -q 'testplug filter defers' '$WORK/err' && ! '$PLUME' -C '$CONF' queue show $id | grep -q '^X-Testplug'"
write_conf "pipeline = testplug:a, testplug:b" '[testplug "a"]' "path = $WORK/sent" \
    '[testplug "b"]' "path = $WORK/sentb"
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -qRundo@
check "the retry runs the filters once each: one field per filter" \
    sh -c "[ \$(grep -c '^X-Testplug: filtered' '$WORK/sent') -eq 2 ]"
