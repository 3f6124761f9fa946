#!/bin/sh
# queue-crash.sh - the queue's promise under kill -9 and concurrency:
# a message is wholly queued or absent, never half, and sendmail never
# exits 0 for an absent one; concurrent submitters and runners deliver
# every message exactly once.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 6
TRIALS=${PLUME_CRASH_TRIALS:-200}
DEAD=$(free_port)
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $DEAD" \
    "tls = none" "connect_timeout = 2s"
{ printf 'From: a@example.org\nSubject: crash\n\n'; head -c 60000 /dev/urandom | base64; } > "$WORK/msg"

# kill -9 at random points while the submitter reads, spools, queues
exited0=0 killed=0 bad=0
: > "$WORK/ok-ids"
i=0
while [ $i -lt "$TRIALS" ]; do
	i=$((i + 1))
	delay=$(( $(od -An -N2 -tu2 /dev/urandom) % 40 ))
	( while :; do cat "$WORK/msg"; break; done | {
	    sleep "0.00$((delay % 10))"; cat; } |
	    exec "$SENDMAIL" -C "$CONF" -i -odq "t$i@example.org" ) > /dev/null 2>&1 &
	pid=$!
	# a kill anywhere from before the first byte to after the exit
	sleep "0.0$(printf '%02d' "$delay")"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
	rc=$?
	if [ $rc -eq 0 ]; then
		exited0=$((exited0 + 1))
		echo "t$i@example.org" >> "$WORK/ok-ids"
	fi
done
check "$TRIALS submissions killed at random points ($killed killed, $exited0 exited 0): every queued item complete" \
    queue_whole crash
missing=0
while read -r rcpt; do
	grep -rqs "rcpt pending $rcpt " "$QUEUE/deferred" || missing=$((missing + 1))
done < "$WORK/ok-ids"
check "every submission that exited 0 is in the queue" test $missing -eq 0
check "no body without its envelope in deferred/" \
    sh -c "for f in '$QUEUE'/deferred/*; do case \$f in *.env) ;; *) [ -e \"\$f.env\" ] || exit 1 ;; esac; done"

# 200 concurrent submissions, then runners at once, the relay going
# down and up: every message delivered exactly once
rm -rf "$QUEUE/deferred"
n=0
while [ $n -lt 200 ]; do
	n=$((n + 1))
	"$SENDMAIL" -C "$CONF" -i -odq "c$n@example.org" < "$WORK/msg" &
done
wait
check "200 concurrent submissions: 200 queued" \
    test "$(ls "$QUEUE/deferred" | grep -c '\.env$')" -eq 200
fault_start ok
live() { write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
    "port = $FAULT_PORT" "tls = none"; }
dead() { write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
    "port = $DEAD" "tls = none" "connect_timeout = 2s"; }
# The relay goes down and up between runs that overlap: two runners on
# the live relay, and while they work two more that find it down (each
# runner reads the config when it starts).  The relay is never killed in
# the middle of a transaction: that would be the one case where a
# duplicate is unavoidable (the server has the message, plume never hears
# its 250), tested in queue-smtp.sh.
round=0
while ls "$QUEUE/deferred" | grep -q '\.env$' && [ $round -lt 20 ]; do
	round=$((round + 1))
	# runners that find the relay down and runners that find it up,
	# started together, competing for the same messages
	dead; cp "$CONF" "$WORK/dead.conf"
	live; cp "$CONF" "$WORK/live.conf"
	"$PLUME" -C "$WORK/dead.conf" queue flush &
	r3=$!
	"$PLUME" -C "$WORK/live.conf" queue flush &
	r1=$!
	"$PLUME" -C "$WORK/dead.conf" queue flush &
	r4=$!
	"$PLUME" -C "$WORK/live.conf" queue flush &
	r2=$!
	wait $r3 $r4
	wait $r1 $r2	# not a bare wait: faultsmtp is a child too
done
check "the queue drained (in $round rounds)" \
    sh -c "! ls '$QUEUE/deferred' | grep -q '\.env\$'"
cat "$WORK"/fault.*/env.* 2>/dev/null | sed -n 's/^RCPT TO:<\(c[0-9]*@example.org\)>.*/\1/p' |
    sort | uniq -c | awk '$1 != 1 { bad++ } END { print NR, bad + 0 }' > "$WORK/counts"
check "each of the 200 delivered exactly once ($(cat "$WORK/counts") = messages, duplicates)" \
    sh -c "[ \"\$(cat '$WORK/counts')\" = '200 0' ]"
