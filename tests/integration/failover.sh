#!/bin/sh
# failover.sh - a transport's failover instance takes what failed
# temporarily; chains; loops refused; submit_timeout bounds it all.
. "$top_srcdir/tests/integration/lib.sh"

plan 10
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
printf 'From: a@example.org\nSubject: x\n\nhi\n' > "$WORK/msg"

write_conf "pipeline = testplug:a, logfile" \
    '[testplug "a"]' "path = $WORK/a" "down = yes" "failover = testplug:b" \
    '[testplug "b"]' "path = $WORK/b" "failover = testplug:c" \
    '[testplug "c"]' "path = $WORK/c" \
    "[logfile]" "path = $WORK/log.jsonl"
run_sm "$WORK/msg" -C "$CONF" -v ok@example.org later@example.org
check "down primary: delivered through the failover, the rest queued, exit 0" \
    sh -c "[ $RC -eq 0 ] && grep -q 'queued: 1 of 2' '$WORK/err' && grep -q '^RCPT ok@example.org' '$WORK/b' && grep -q 'trying failover testplug:b for 2 recipients' '$WORK/err'"
check "chain: the temporary failure at b went on to c" \
    sh -c "grep -qx 'RCPT later@example.org' '$WORK/c' && ! grep -q 'ok@example.org' '$WORK/c'"
check "every attempt logged with its instance" \
    sh -c "grep -q 'to=<ok@example.org>, via=testplug:a, .*status=deferred (421 4.4.1 testplug instance is down)' '$WORK/err' && grep -q 'to=<ok@example.org>, via=testplug:b, .*status=sent' '$WORK/err'"
check "events: deferred at a, delivered at b" \
    python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ok = [(e["event"], e.get("instance")) for e in ev if e.get("rcpt") == "ok@example.org"]
assert ok == [("deferred", "testplug:a"), ("delivered", "testplug:b")], ok
' "$WORK/log.jsonl"
check "filters run once, on the route, not again for the failover" \
    sh -c "[ \$(grep -c '^X-Testplug: filtered' '$WORK/b') -eq 1 ]"

write_conf "pipeline = testplug:a" \
    '[testplug "a"]' "path = $WORK/a" "failover = testplug:b" \
    '[testplug "b"]' "path = $WORK/b" "failover = testplug:a"
run_sm "$WORK/msg" -C "$CONF" ok@example.org
check "a failover loop is a config error" \
    sh -c "[ $RC -eq 78 ] && grep -q 'failover chain from .testplug:a. loops back on itself' '$WORK/err'"

write_conf "pipeline = testplug:a" '[testplug "a"]' "path = $WORK/a" \
    "failover = logfile" "[logfile]" "path = $WORK/l"
run_sm "$WORK/msg" -C "$CONF" ok@example.org
check "a failover that is not a transport is a config error" \
    sh -c "[ $RC -eq 78 ] && grep -q \"failover 'logfile' is not a transport\" '$WORK/err'"

write_conf "pipeline = testplug:a" '[testplug "a"]' "path = $WORK/a" \
    "failover = testplug:nosuch"
run_sm "$WORK/msg" -C "$CONF" ok@example.org
check "a failover naming no section is a config error" \
    sh -c "[ $RC -eq 78 ] && grep -q 'no \[testplug \"nosuch\"\] section' '$WORK/err'"

rm -f "$WORK/b"
write_conf "pipeline = testplug:a" "submit_timeout = 1s" \
    '[testplug "a"]' "path = $WORK/a" "down = yes" "delay = 2s" \
    "failover = testplug:b" '[testplug "b"]' "path = $WORK/b"
run_sm "$WORK/msg" -C "$CONF" ok@example.org
check "submit_timeout spent: the failover is not tried, queued, exit 0" \
    sh -c "[ $RC -eq 0 ] && [ ! -e '$WORK/b' ] && '$WORK/bin/mailq' -C '$CONF' | grep -q '421 4.4.1'"

write_conf "pipeline = outbox" '[outbox]' "failover = outbox"
run_sm "$WORK/msg" -C "$CONF" ok@example.org
check "an instance cannot fail over to itself" \
    sh -c "[ $RC -eq 78 ] && grep -q 'loops back on itself' '$WORK/err'"
