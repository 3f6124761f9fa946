#!/bin/sh
# results.sh - per-recipient results through the real pipeline and the
# exit codes of DESIGN.md's table, driven by the testplug fixture (a
# filter, a policy and a transport that answer by recipient name).
. "$top_srcdir/tests/integration/lib.sh"

plan 20
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
write_conf "pipeline = testplug, logfile" "[testplug]" "path = $WORK/sent" \
    "[logfile]" "path = $WORK/log.jsonl"
printf 'From: a@example.org\nSubject: x\n\nhi\n' > "$WORK/msg"

# expect CODE DESC PATTERN RCPT...: exit CODE, one stderr line matching
expect() {
	code=$1 desc=$2 pat=$3
	shift 3
	run_sm "$WORK/msg" -C "$CONF" "$@"
	if [ -z "$pat" ]; then
		said=$([ -s "$WORK/err" ]; echo $?)	# 1: stderr empty
		said=$((1 - said))
	else
		said=$(grep -q -- "$pat" "$WORK/err"; echo $?)
	fi
	if [ "$RC" -eq "$code" ] && [ "$(wc -l < "$WORK/err")" -le 1 ] &&
	    [ "$said" -eq 0 ]; then
		ok 0 "$desc (exit $code)"
	else
		ok 1 "$desc: exit $RC, want $code"
		sed 's/^/# /' "$WORK/err"
	fi
}

expect 0 "every recipient accepted, stderr silent" '' ok1@example.org ok2@example.org
check "filter edited the header the transport sent" \
    sh -c "grep -q '^X-Testplug: filtered' '$WORK/sent' && grep -c '^RCPT ' '$WORK/sent' | grep -qx 2"
check "state directory made on demand, mode 0700" \
    sh -c "[ \"\$(stat -c %a '$QUEUE/state/testplug')\" = 700 ]"
check "transport facts reach the log" \
    sh -c "tail -n 1 '$WORK/log.jsonl' | grep -q '\"notes\":{\"relay\":\"testplug.invalid\[192.0.2.1\]:25\"}'"
expect 67 "every recipient unknown (5.1.1)" \
    'refused: <unknown@example.org>: 550 5.1.1 no such user here' \
    unknown@example.org unknown2@example.org
expect 69 "every recipient refused, not all 5.1.x" \
    'refused: <unknown@example.org>: 550 5.1.1' \
    unknown@example.org refuse@example.org
expect 0 "some refused, some delivered: exit 0, one line naming them" \
    '^plume: 1 of 2 recipients refused: <refuse@example.org>: 554 5.7.1 relay access denied$' \
    ok@example.org refuse@example.org
check "the refused recipient was not handed on; the sender got a report" \
    python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
att = [e for e in ev if e["event"] == "delivered" and e.get("rcpt") == "ok@example.org"]
assert att, "ok@ not delivered"
qid = att[-1]["queue_id"]
assert not [e for e in ev if e["queue_id"] == qid and e["event"] == "delivered" and e.get("rcpt") == "refuse@example.org"]
dsn = [e for e in ev if e["event"] == "delivered" and e["sender"] == "" and e.get("rcpt", "").startswith("root@")]
assert dsn, "no report to the sender"
' "$WORK/log.jsonl"
expect 0 "temporary failure: queued, exit 0" '' \
    ok@example.org later@example.org
check "the queue holds it with the transport's words, for that recipient only" \
    sh -c "'$WORK/bin/mailq' -C '$CONF' > '$WORK/q' && grep -q '(<later@example.org>: 451 4.3.0 try again later)' '$WORK/q' && ! grep -q ' ok@example.org' '$WORK/q'"
expect 0 "a recipient the transport left without a result is temporary" '' \
    silent@example.org
check "... and queued with that reason" \
    sh -c "'$WORK/bin/mailq' -C '$CONF' | grep -q '<silent@example.org>: 451 4.3.0 the transport reported no result'"
rm -f "$WORK/sent"
expect 69 "policy rejection is permanent" 'policy says no' pol-reject@example.org
check "the transport is not called when the policy rejected everyone" \
    test ! -e "$WORK/sent"
expect 0 "policy deferral is temporary: queued" '' \
    pol-defer@example.org ok@example.org
check "policy deferral logged as throttled with retry_after" \
    sh -c "grep '\"event\":\"throttled\"' '$WORK/log.jsonl' | tail -n 1 | grep -q '\"rcpt\":\"pol-defer@example.org\".*\"retry_after\":'"
check "the deferred recipient never reached the transport" \
    sh -c "grep -q '^RCPT ok@example.org' '$WORK/sent' && ! grep -q pol-defer '$WORK/sent'"

write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent" "filter = reject"
rm -f "$WORK/sent"
expect 69 "a filter refusing the message refuses every recipient" \
    'testplug filter refuses this message' ok@example.org
check "nothing was handed to the transport" test ! -e "$WORK/sent"

write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent" "filter = maybe"
expect 78 "enum key with a value not in its choices" "'maybe'" ok@example.org
