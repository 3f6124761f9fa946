#!/bin/sh
# queue-time.sh - the queue's clock with real dates: libfaketime moves
# the runner's wall clock hours and days ahead (or back) so that the
# default queue_lifetime (5 days) and a 4-hour delay warning are reached
# as they would be in production, with no shortened settings.
. "$top_srcdir/tests/integration/lib.sh"

plan 6
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
printf 'From: a@example.org\nSubject: timed\n\nhi\n' > "$WORK/msg"
# ASan wants its runtime first among preloaded libraries; libfaketime
# comes first here, which is safe for what it wraps (the clocks)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS
if ! have_faketime ||
    ! faked '+1d' "$PLUME" --version > /dev/null 2>&1; then
	for i in 1 2 3 4 5 6; do
		echo "ok $i # SKIP faketime is missing or cannot preload plume"
	done
	exit 0
fi
# "later*" recipients get 451 from testplug: they wait in the queue
write_conf "pipeline = testplug" "delay_warning_time = 4h" \
    "[testplug]" "path = $WORK/sent"
run_at() {	# run_at OFFSET: a queue run (sendmail -q) at now + OFFSET
	# (libfaketime's form: one unit, "+5h", "-2d")
	rm -f "$WORK/sent"
	faked "$1" "$SENDMAIL" -C "$CONF" -q -v > /dev/null 2> "$WORK/err"
}
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org later@example.org
id=$(ls "$QUEUE/deferred" | sed -n 's/\.env$//p')

run_at +3h
check "3 hours on: still queued, no warning yet" \
    sh -c "[ -n '$id' ] && [ -f '$QUEUE/deferred/$id.env' ] &&
    ! grep -q 'RCPT sender@example.org' '$WORK/sent' 2>/dev/null"
run_at +5h
check "5 hours on (past 4h): the sender is told once (Action: delayed)" \
    sh -c "grep -qx 'RCPT sender@example.org' '$WORK/sent' &&
    grep -q '^Action: delayed' '$WORK/sent'"
run_at +6h
check "... and not again an hour later" \
    sh -c "! grep -q 'Action: delayed' '$WORK/sent' 2>/dev/null"
run_at -2d
check "the clock set back two days: nothing expires, nothing is lost" \
    sh -c "[ -f '$QUEUE/deferred/$id.env' ] && [ ! -e '$QUEUE/failed/$id.env' ]"
run_at +119h
check "4 days 23 hours on: still retried (queue_lifetime is 5 days)" \
    test -f "$QUEUE/deferred/$id.env"
run_at +121h
check "5 days 1 hour on: failed for good, the sender gets the report" \
    sh -c "[ ! -e '$QUEUE/deferred/$id.env' ] && [ -f '$QUEUE/failed/$id.env' ] &&
    grep -q 'expired after 5 days in the queue' '$WORK/err' &&
    grep -qx 'RCPT sender@example.org' '$WORK/sent' &&
    grep -q '^Action: failed' '$WORK/sent'"
