#!/bin/sh
# ratelimit.sh - the ratelimit policy through the real binary: a burst
# then deferral with the right next attempt, independent scopes (two
# senders, two Unix users), reject -> 75 and 451 in -bs, the queue runner
# held to the limit while a fake clock steps on, and 200 concurrent
# submitters against one limit; backend = redis shared by two "hosts"
# (a private redis-server on loopback).  Time is libfaketime's frozen clock: no
# test sleeps.
. "$top_srcdir/tests/integration/lib.sh"

plan 28
# ASan wants its runtime first among preloaded libraries; libfaketime
# comes first here, which is safe for what it wraps (the clocks).  Under
# make check LeakSanitizer's exit-time stop-the-world aborts in
# libfaketime's futex wrapper, so leaks are left to PLUME_VALGRIND=1.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0
export ASAN_OPTIONS
TZ=UTC
export TZ
if [ ! -e "$PLUGINS/ratelimit.so" ]; then
	skip "the ratelimit plugin is not built" 28
	exit 0
fi
if ! have_faketime ||
    ! faked '2026-01-01 00:00:00' "$PLUME" --version > /dev/null 2>&1
then
	skip "faketime is missing or cannot preload plume" 28
	exit 0
fi

T0=1767225600	# 2026-01-01 00:00:00 UTC
at() {	# at SECONDS CMD...: CMD with the clock frozen at T0 + SECONDS
	_t=$(date -u -d "@$((T0 + $1))" '+%Y-%m-%d %H:%M:%S')
	shift
	faked "$_t" "$@"
}
sm_at() {	# sm_at SECONDS ARGS...: sendmail at T0 + SECONDS; RC, out, err
	_s=$1
	shift
	set +e
	at "$_s" "$SENDMAIL" -C "$CONF" "$@" < "$WORK/msg" > "$WORK/out" \
	    2> "$WORK/err"
	RC=$?
}
delivered() { ls "$QUEUE/outbox/new" 2>/dev/null | wc -l; }
deferred() { ls "$QUEUE/deferred" 2>/dev/null | grep -c '\.env$'; }
reset() { rm -rf "$QUEUE"; mkdir -p "$QUEUE"; hold_runner; }
# A shared hold on runner.lock, as a running queue runner has: submissions
# then start no detached runner of their own, so only the runs this test
# makes, at the times it chooses, deliver anything.
HOLD=
hold_runner() {
	[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null && wait "$HOLD" 2>/dev/null
	( exec 9> "$QUEUE/runner.lock"; flock -s 9; exec sleep 3600 ) \
	    > /dev/null 2>&1 &
	HOLD=$!
	while flock -n -x "$QUEUE/runner.lock" true 2>/dev/null; do :; done
}
HOLDS=
trap '[ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
    for p in $HOLDS; do kill "$p" 2>/dev/null; done
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null; rm -rf "$WORK"' EXIT INT TERM
printf 'From: a@example.org\nSubject: rate\n\nhi\n' > "$WORK/msg"
chmod 644 "$WORK/msg"

# ---- a burst of 3, then deferral ---------------------------------------
reset
write_conf "pipeline = ratelimit, outbox, logfile" \
    "[ratelimit]" "messages = 3/minute" "scope = sender" \
    "[logfile]" "path = $WORK/log.jsonl"
rcs=
for i in 1 2 3 4 5; do
	sm_at 0 -f a@example.org "r$i@example.net"
	rcs="$rcs$RC"
done
diag "rcs=$rcs delivered=$(delivered) deferred=$(deferred)"
check "3/minute: 3 of 5 delivered at once, 2 queued, every exit 0" \
    sh -c "[ '$rcs' = 00000 ] && [ $(delivered) -eq 3 ] && [ $(deferred) -eq 2 ]"
check "... each queued with its next attempt when the limit allows (T0+20 s)" \
    sh -c "[ \"\$(grep -h '^next_attempt ' '$QUEUE'/deferred/*.env |
    sort -u)\" = 'next_attempt $((T0 + 20))' ]"
id=$(ls "$QUEUE/deferred" | sed -n 's/\.env$//p' | head -n 1)
"$PLUME" -C "$CONF" queue show "$id" > "$WORK/show" 2>&1
check "... the reply names the limit: 451 4.7.0" \
    grep -q '^Last-Error: .*451 4.7.0 rate limit ratelimit: messages 3/minute per sender "a@example.org"; next attempt in 20 s' \
    "$WORK/show"
check "observers see a throttled event per deferred recipient" \
    sh -c "[ \$(grep -c '\"event\":\"throttled\"' '$WORK/log.jsonl') -eq 2 ]"
sm_at 0 -f other@example.org r6@example.net
check "scope = sender: another sender is not held back" \
    sh -c "[ $RC -eq 0 ] && [ $(delivered) -eq 4 ] && [ $(deferred) -eq 2 ]"
at 10 "$SENDMAIL" -C "$CONF" -q 2> "$WORK/err"
check "a queue run at T0+10 s sends nothing (not due yet)" \
    sh -c "[ $(delivered) -eq 4 ] && [ $(deferred) -eq 2 ]"
at 20 "$SENDMAIL" -C "$CONF" -q 2> "$WORK/err"
check "at T0+20 s the runner sends one, the other waits 20 s more" \
    sh -c "[ $(delivered) -eq 5 ] && [ $(deferred) -eq 1 ] &&
    grep -qx 'next_attempt $((T0 + 40))' '$QUEUE'/deferred/*.env"
at 40 "$SENDMAIL" -C "$CONF" -q 2> "$WORK/err"
check "at T0+40 s the last one goes: nothing lost" \
    sh -c "[ $(delivered) -eq 6 ] && [ $(deferred) -eq 0 ]"
at 40 "$PLUME" -C "$CONF" ratelimit show > "$WORK/show" 2>&1
check "plume ratelimit show: the sender's key, its TAT and next slot" \
    grep -q 'messages *a@example.org *tat +60.000 s, 0 now, next in 20.000 s' \
    "$WORK/show"

# ---- scope = user: a hacked www-data, and cron ------------------------
if [ "$(id -u)" -eq 0 ] && have setpriv; then
	reset
	write_conf "pipeline = ratelimit:www, outbox" \
	    '[ratelimit "www"]' "messages = 2/hour" "scope = user"
	chmod 644 "$CONF"
	# one spool two users share, as a set-group-id install's group does
	for d in "$QUEUE" "$QUEUE/tmp" "$QUEUE/deferred" "$QUEUE/outbox" \
	    "$QUEUE/outbox/tmp" "$QUEUE/outbox/new" "$QUEUE/outbox/cur" \
	    "$QUEUE/state" "$QUEUE/state/ratelimit"; do
		mkdir -p "$d" && chmod 1777 "$d"
	done
	: > "$QUEUE/state/ratelimit/www.tat"
	chmod 666 "$QUEUE/state/ratelimit/www.tat"
	# the fake clock starts in sendmail itself: libfaketime's shared
	# memory is made by the first process it runs in, which must be
	# the user's own to be open to the user
	as() { _u=$1; shift; setpriv --reuid="$_u" --regid="$_u" \
	    --clear-groups env FAKETIME="2026-01-01 00:00:00" \
	    LD_PRELOAD="$FAKETIME_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
	    "$SENDMAIL" -C "$CONF" "$@" < "$WORK/msg" \
	    > /dev/null 2>> "$WORK/err"; }
	rcs=
	for i in 1 2 3 4; do as 65534 "w$i@example.net"; rcs="$rcs$?"; done
	as 1 cron@example.net
	rcs="$rcs$?"
	check "scope = user: nobody gets 2 of 4 through, daemon is not held" \
	    sh -c "[ '$rcs' = 00000 ] && [ $(delivered) -eq 3 ] &&
	    [ \$(grep -l '^user nobody' '$QUEUE'/deferred/*.env | wc -l) -eq 2 ]"
	at 0 "$PLUME" -C "$CONF" ratelimit show > "$WORK/show" 2>&1
	check "... two keys in the table: nobody's and daemon's" \
	    sh -c "[ \$(grep -c 'messages *\\(nobody\\|daemon\\) ' '$WORK/show') -eq 2 ]"
else
	skip "needs root and setpriv" 2
fi

# ---- scope = recipient_domain, recipients = ... ------------------------
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" \
    "recipients = 2/hour" "scope = recipient_domain"
sm_at 0 -f a@example.org x1@one.example x2@one.example x3@one.example \
    y1@two.example
check "recipients = 2/hour per domain: 2 of one.example's 3 wait for none" \
    sh -c "[ $RC -eq 0 ] && [ $(delivered) -eq 1 ] &&
    [ \$(grep -c '^Envelope-To:' '$QUEUE'/outbox/new/*) -eq 3 ] &&
    grep -q '^rcpt pending x3@one.example' '$QUEUE'/deferred/*.env &&
    grep -qx 'next_attempt $((T0 + 1800))' '$QUEUE'/deferred/*.env"

# ---- action = reject ---------------------------------------------------
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" \
    "messages = 1/hour" "action = reject"
sm_at 0 -f a@example.org r1@example.net
rc1=$RC
sm_at 0 -f a@example.org r2@example.net
check "action = reject: the second submission exits 75, nothing queued" \
    sh -c "[ $rc1 -eq 0 ] && [ $RC -eq 75 ] && [ $(delivered) -eq 1 ] &&
    [ $(deferred) -eq 0 ] && grep -q 'refused for now: rate limit ratelimit: messages 1/hour' '$WORK/err'"
printf 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<r3@example.net>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n' |
    at 0 "$SENDMAIL" -C "$CONF" -bs > "$WORK/bs" 2>&1
check "... and -bs answers 451 after DATA" \
    sh -c "grep -q '^451 .*rate limit' '$WORK/bs' && [ $(deferred) -eq 0 ]"
at 3600 "$SENDMAIL" -C "$CONF" -f a@example.org r4@example.net \
    < "$WORK/msg" > /dev/null 2>&1
check "... a refusal costs nothing: an hour later the next one goes" \
    sh -c "[ $? -eq 0 ] && [ $(delivered) -eq 2 ]"

# ---- action = wait (the real clock: plume sleeps half a second) -------
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" \
    "messages = 2/second" "burst = 1" "action = wait" "wait_max = 5s"
rcs=
for i in 1 2 3; do
	"$SENDMAIL" -C "$CONF" "w$i@example.net" < "$WORK/msg" 2>> "$WORK/err"
	rcs="$rcs$?"
done
check "action = wait: 3 at 2/second, burst 1: all sent, none queued" \
    sh -c "[ '$rcs' = 000 ] && [ $(delivered) -eq 3 ] && [ $(deferred) -eq 0 ]"
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" \
    "messages = 1/hour" "action = wait" "wait_max = 2s"
sm_at 0 w1@example.net
sm_at 0 w2@example.net
check "... beyond wait_max: deferred with the limit's next attempt" \
    sh -c "[ $RC -eq 0 ] && [ $(delivered) -eq 1 ] && [ $(deferred) -eq 1 ] &&
    grep -qx 'next_attempt $((T0 + 3600))' '$QUEUE'/deferred/*.env"

# ---- the runner flushing a queue: 10 queued, 3/minute ------------------
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" "messages = 3/minute"
for i in 1 2 3 4 5 6 7 8 9 10; do
	at 0 "$SENDMAIL" -C "$CONF" -odq "q$i@example.net" < "$WORK/msg"
done
steps=
for s in 0 10 20 30 40 60 3600 3610 3620; do
	before=$(delivered)
	at "$s" "$SENDMAIL" -C "$CONF" -q 2> "$WORK/err"
	steps="$steps $(( $(delivered) - before ))"
done
diag "deliveries per step (T0+0 10 20 30 40 60 3600 3610 3620 s):$steps"
check "the runner keeps to 3/minute: 3, then one per 20 s, burst again later" \
    test "$steps" = " 3 0 1 0 1 1 3 0 1"
check "... nothing lost: 10 delivered, queue empty" \
    sh -c "[ $(delivered) -eq 10 ] && [ $(deferred) -eq 0 ]"
# -qf style flush of everything: the limit still holds
reset
for i in 1 2 3 4 5 6; do
	at 0 "$SENDMAIL" -C "$CONF" -odq "f$i@example.net" < "$WORK/msg"
done
at 0 "$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
check "plume queue flush (every message, due or not) still sends only 3" \
    sh -c "[ $(delivered) -eq 3 ] && [ $(deferred) -eq 3 ]"

# ---- backend = redis: two hosts, one limit ----------------------------
# A private redis-server on loopback (never the system one); two "hosts"
# are two configs with their own queue and state directories.
REDIS_PID=
if ! have redis-server || ! have redis-cli; then
	skip "redis-server is not installed" 4
else
	RPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$WORK/redis"
	# with a password, as a shared Redis has; the hosts AUTH from a file
	printf 'redis-secret\n' > "$WORK/redis.pw"
	chmod 600 "$WORK/redis.pw"
	printf 'not-it\n' > "$WORK/redis.badpw"
	chmod 600 "$WORK/redis.badpw"
	rcli() { REDISCLI_AUTH=redis-secret redis-cli -p "$RPORT" "$@"; }
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$WORK/redis" --requirepass redis-secret \
	    > "$WORK/redis/log" 2>&1 &
	REDIS_PID=$!
	i=0
	until rcli ping 2>/dev/null | grep -qx PONG || [ $i -ge 100 ]; do
		sleep 0.05	# the server starting, not a clock under test
		i=$((i + 1))
	done
	for h in a b; do
		rm -rf "$WORK/q$h"
		mkdir -p "$WORK/q$h"
		# as for $QUEUE: no detached runner of the submissions' own
		( exec 9> "$WORK/q$h/runner.lock"; flock -s 9; exec sleep 3600 ) \
		    > /dev/null 2>&1 &
		HOLDS="$HOLDS $!"
		while flock -n -x "$WORK/q$h/runner.lock" true; do :; done
		printf 'queue_dir = %s/q%s\nplugin_dir = %s\nsyslog = no\npipeline = ratelimit:prov, outbox\n[ratelimit "prov"]\nmessages = 3/minute\nbackend = redis\nredis = 127.0.0.1:%s\nredis_password_file = %s/redis.pw\n' \
		    "$WORK" "$h" "$PLUGINS" "$RPORT" "$WORK" > "$WORK/$h.conf"
	done
	if at 0 "$PLUME" -C "$WORK/a.conf" ratelimit show 2>&1 |
	    grep -q 'built without hiredis'; then
		skip "ratelimit was built without hiredis" 4
	else
		rcs=
		for h in a b a b b; do
			at 0 "$SENDMAIL" -C "$WORK/$h.conf" "$h@example.net" \
			    < "$WORK/msg" > /dev/null 2>> "$WORK/rerr"
			rcs="$rcs$?"
		done
		n=$(cat "$WORK"/q?/outbox/new/* 2>/dev/null | grep -c '^Envelope-To')
		q=$(ls "$WORK"/q?/deferred 2>/dev/null | grep -c '\.env$')
		check "redis: two hosts share 3/minute: 3 of 5 sent, 2 queued for T0+20 s" \
		    sh -c "[ '$rcs' = 00000 ] && [ $n -eq 3 ] && [ $q -eq 2 ] &&
		    [ \"\$(grep -h '^next_attempt' '$WORK'/q?/deferred/*.env |
		    sort -u)\" = 'next_attempt $((T0 + 20))' ] &&
		    { [ ! -s '$WORK/rerr' ] || { cat '$WORK/rerr'; false; }; }"
		check "... the key in Redis: TAT T0+60 s, expiring with it" \
		    sh -c "[ \"\$(REDISCLI_AUTH=redis-secret redis-cli -p $RPORT get 'plume:ratelimit:prov:m ')\" = \
		    $(((T0 + 60) * 1000000)) ] &&
		    [ \$(REDISCLI_AUTH=redis-secret redis-cli -p $RPORT pttl 'plume:ratelimit:prov:m ') -gt 0 ]"
		sed "s|redis.pw|redis.badpw|; s|/qa|/qc|" "$WORK/a.conf" > "$WORK/c.conf"
		mkdir -p "$WORK/qc"
		( exec 9> "$WORK/qc/runner.lock"; flock -s 9; exec sleep 3600 ) \
		    > /dev/null 2>&1 &
		HOLDS="$HOLDS $!"
		while flock -n -x "$WORK/qc/runner.lock" true; do :; done
		at 0 "$SENDMAIL" -v -C "$WORK/c.conf" c@example.net \
		    < "$WORK/msg" > /dev/null 2> "$WORK/cerr"
		rc=$?
		check "... a wrong redis_password_file: AUTH refused, the local state, with a warning" \
		    sh -c "[ $rc -eq 0 ] && grep -q 'redis 127.0.0.1:$RPORT: AUTH refused: WRONGPASS.*using this host.s local state' '$WORK/cerr' &&
		    [ -s '$WORK/qc/state/ratelimit/prov.tat' ] &&
		    [ \"\$(REDISCLI_AUTH=redis-secret redis-cli -p $RPORT get 'plume:ratelimit:prov:m ')\" = $(((T0 + 60) * 1000000)) ]"
		kill "$REDIS_PID" && wait "$REDIS_PID" 2>/dev/null
		REDIS_PID=
		at 0 "$SENDMAIL" -v -C "$WORK/a.conf" a2@example.net \
		    < "$WORK/msg" > /dev/null 2> "$WORK/rerr"
		rc=$?
		check "... Redis down: host a falls back to its local state, with a warning" \
		    sh -c "[ $rc -eq 0 ] && grep -q 'redis 127.0.0.1:$RPORT: .*using this host.s local state' '$WORK/rerr' &&
		    [ -s '$WORK/qa/state/ratelimit/prov.tat' ]"
	fi
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" && wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
fi

# ---- 200 concurrent submitters, 50/hour --------------------------------
# On the real clock: a frozen one would give every process the same
# microsecond, and queue ids would then rest on 16 random bits alone.
# 50/hour lets one more through every 72 s; the run takes a few seconds.
N=200 LIMIT=50
if [ -n "${PLUME_VALGRIND:-}" ]; then N=20 LIMIT=5; fi
reset
write_conf "pipeline = ratelimit, outbox" "[ratelimit]" \
    "messages = $LIMIT/hour" "lock_timeout = 30s"
i=0
pids=
while [ $i -lt $N ]; do
	( "$SENDMAIL" -C "$CONF" "c$i@example.net" < "$WORK/msg" \
	    > /dev/null 2> "$WORK/cerr$i"; echo $? > "$WORK/crc$i" ) &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
bad=$(cat "$WORK"/crc* | grep -vc '^0$')
check "$N concurrent submissions: every one exits 0" test "$bad" -eq 0
check "... exactly $LIMIT delivered now, $((N - LIMIT)) deferred, none lost" \
    sh -c "[ $(delivered) -eq $LIMIT ] && [ $(deferred) -eq $((N - LIMIT)) ]"
"$PLUME" -C "$CONF" ratelimit show > "$WORK/show" 2>&1
# one key; its TAT LIMIT intervals (3600 s) after the first submission
tat=$(sed -n 's/.* tat +\([0-9]*\)\.[0-9]* s, 0 now.*/\1/p' "$WORK/show")
check "... the state file agrees: one key, TAT $LIMIT intervals on (${tat}s)" \
    sh -c "grep -q '^  1 live key of 1024' '$WORK/show' &&
    [ '${tat:-0}' -gt $((3600 - 3600 / LIMIT)) ] && [ '${tat:-0}' -le 3600 ]"
check "... no lock timeout, no error logged" \
    sh -c "! grep -qi 'lock\\|error' '$WORK'/cerr*"
