#!/bin/sh
# queue-limits.sh - a full disk, queue_minfree, and mailq's warning when
# deferred mail waits for a runner nobody scheduled.
. "$top_srcdir/tests/integration/lib.sh"

plan 5
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
printf 'From: a@example.org\nSubject: limits\n\nhi\n' > "$WORK/msg"

write_conf "pipeline = testplug" "queue_minfree = 1000000G" "[testplug]" \
    "path = $WORK/sent"
run_sm "$WORK/msg" -C "$CONF" one@example.org
check "below queue_minfree: 75, one line, nothing accepted" \
    sh -c "[ $RC -eq 75 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q 'queue_minfree' '$WORK/err' && [ ! -e '$WORK/sent' ]"

# a spool on a tiny file system: the message does not fit
mkdir -p "$WORK/small"
{ printf 'From: a@example.org\nSubject: big\n\n'; head -c 600000 /dev/urandom | base64; } > "$WORK/big"
if unshare -m sh -c "mount -t tmpfs -o size=256k tmpfs '$WORK/small'" 2>/dev/null; then
	printf 'queue_dir = %s/small/q\nplugin_dir = %s\npipeline = testplug\nsyslog = no\n[testplug]\npath = %s/sent\n' \
	    "$WORK" "$PLUGINS" "$WORK" > "$WORK/small.conf"
	unshare -m sh -c "mount -t tmpfs -o size=256k tmpfs '$WORK/small' &&
	    '$SENDMAIL' -C '$WORK/small.conf' one@example.org < '$WORK/big' 2> '$WORK/err';
	    echo \$? > '$WORK/rc'; ls -A '$WORK/small/q/tmp' > '$WORK/left'"
	check "disk full while spooling: 73 with one line" \
	    sh -c "[ \$(cat '$WORK/rc') -eq 73 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q 'No space left' '$WORK/err'"
	check "... and no partial spool file left" test ! -s "$WORK/left"
else
	for i in 1 2; do T=$((T + 1)); echo "ok $T # SKIP needs unshare -m and tmpfs"; done
fi

write_conf "pipeline = testplug" "queue_min_backoff = 1s" \
    "queue_max_backoff = 1s" "[testplug]" "path = $WORK/sent" "down = yes"
run_sm "$WORK/msg" -C "$CONF" -odq one@example.org
"$WORK/bin/mailq" -C "$CONF" > "$WORK/q"
check "mailq: no warning while the queue is fresh" sh -c "! grep -q '^warning:' '$WORK/q'"
sleep 2.2
"$WORK/bin/mailq" -C "$CONF" > "$WORK/q"
check "mailq warns when deferred mail waits longer than queue_max_backoff" \
    grep -q '^warning: a deferred message has been due for more than queue_max_backoff' "$WORK/q"
