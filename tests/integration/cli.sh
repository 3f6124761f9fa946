#!/bin/sh
# cli.sh - the front end: personalities, options, exit codes, one-line
# errors, -v, the logfile observer, mailq and newaliases.
. "$top_srcdir/tests/integration/lib.sh"

plan 33
write_conf "pipeline = outbox, logfile" "[logfile]" "path = $WORK/log.jsonl"
printf 'From: a@example.org\nSubject: x\n\nhi\n' > "$WORK/msg"

# expect CODE DESC ARGS...: exit code CODE and exactly one stderr line
expect() {
	code=$1 desc=$2
	shift 2
	run_sm "$WORK/msg" "$@"
	lines=$(wc -l < "$WORK/err")
	if [ "$RC" -eq "$code" ] && { [ "$code" -eq 0 ] || [ "$lines" -eq 1 ]; }; then
		ok 0 "$desc (exit $code)"
	else
		ok 1 "$desc: exit $RC (want $code), $lines stderr lines"
		sed 's/^/# /' "$WORK/err"
	fi
}

expect 0  "plain submission" -C "$CONF" to@example.org
expect 64 "unknown option" -C "$CONF" -Z to@example.org
check "unknown option names the option" grep -q '^plume: unknown option -Z$' "$WORK/err"
expect 64 "no recipients and no -t" -C "$CONF"
expect 64 "-t but no recipient fields" -C "$CONF" -t
expect 64 "recipient beginning with -" -C "$CONF" -- -oQ/tmp/x
expect 64 "sender holding CR LF" -C "$CONF" -f "$(printf 'a@example.org\r\nRCPT TO:<x@y.org>')" to@example.org
expect 64 "full name holding LF" -C "$CONF" -F "$(printf 'x\nBcc: y@z.org')" to@example.org
expect 64 "full name beginning with -" -C "$CONF" -F -oQ to@example.org
expect 64 "invalid recipient syntax" -C "$CONF" "a b@example.org"
expect 64 "-bd refused" -C "$CONF" -bd
expect 64 "option argument missing" -C "$CONF" -f
write_conf "pipeline = outbox, logfile" "[outbox]" "failover = outbox:spare" '[outbox "spare"]' "[logfile]" "path = $WORK/log.jsonl"
"$SENDMAIL" -C "$CONF" -bv root "b@example.net" > "$WORK/out" 2> "$WORK/err"
check "-bv: each address qualified, with its transport and failover, nothing sent" \
    sh -c "[ $? -eq 0 ] && grep -qx 'root: deliverable: <root@example.org> via outbox, then outbox:spare' '$WORK/out' && grep -qx 'b@example.net: deliverable: <b@example.net> via outbox, then outbox:spare' '$WORK/out'"
"$SENDMAIL" -C "$CONF" -bv "a b@example.org" > "$WORK/out" 2>&1
check "-bv: an unusable address: 64" sh -c "[ $? -eq 64 ] && grep -q 'invalid address' '$WORK/out'"
write_conf "pipeline = outbox, logfile" "[logfile]" "path = $WORK/log.jsonl"
expect 0  "ignored options consume their arguments" -C "$CONF" -h 5 -O a=b -Am -G -U -oem -B 8BITMIME to@example.org
check "ignored options: exactly one recipient" \
    sh -c "tail -n 1 '$WORK/log.jsonl' | grep -q '\"nrcpt\":1,'"
expect 0  "DSN options accepted" -C "$CONF" -N success,failure -R hdrs -V env123 to@example.org

# -X: refused for non-root, accepted (and its file never written) for root
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	set +e
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SENDMAIL" -X "$WORK/xlog" to@example.org < "$WORK/msg" > /dev/null 2> "$WORK/err"
	ok $([ $? -eq 64 ] && grep -q 'refused for non-root' "$WORK/err"; echo $?) "-X refused for non-root"
	expect 0 "-X accepted for root" -C "$CONF" -X "$WORK/xlog" to@example.org
	check "-X file never written" test ! -e "$WORK/xlog"
else
	for i in 1 2 3; do T=$((T + 1)); echo "ok $T # SKIP needs root and setpriv"; done
fi

# -C and PLUME_CONFIG for a set-id plume: root only, else 77 (never ignored)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
    getent group mail >/dev/null; then
	mkdir -p "$WORK/sgid" && cp "$top_builddir/plume" "$WORK/sgid/sendmail"
	chgrp mail "$WORK/sgid/sendmail" && chmod 2755 "$WORK/sgid/sendmail"
	chmod 755 "$WORK/sgid"
	set +e
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$WORK/sgid/sendmail" -C "$CONF" to@example.org < "$WORK/msg" > /dev/null 2> "$WORK/err"
	rc=$?
	check "set-id: -C refused for a non-root caller with 77" \
	    sh -c "[ $rc -eq 77 ] && grep -q '^plume: -C is refused: plume is installed set-id and you are not root$' '$WORK/err'"
	PLUME_CONFIG="$CONF" setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$WORK/sgid/sendmail" to@example.org < "$WORK/msg" > /dev/null 2> "$WORK/err"
	rc=$?
	check "set-id: PLUME_CONFIG refused for a non-root caller with 77" \
	    sh -c "[ $rc -eq 77 ] && grep -q 'PLUME_CONFIG is refused' '$WORK/err'"
	"$WORK/sgid/sendmail" -C "$CONF" to@example.org < "$WORK/msg" > /dev/null 2> "$WORK/err"
	ok $? "set-id: -C honoured for root"
else
	for i in 1 2 3; do T=$((T + 1)); echo "ok $T # SKIP needs root, setpriv, group mail"; done
fi

# -v: the log on stderr, with the transport's words
run_sm "$WORK/msg" -C "$CONF" -v to@example.org
check "-v logs the delivery on stderr" grep -q 'to=<to@example.org>, via=outbox, .*status=sent (250 2.0.0 delivered to maildir' "$WORK/err"
check "stdout silent" test ! -s "$WORK/out"

# the logfile observer: valid JSON lines with the expected events
check "logfile: every line is JSON with accepted/attempt/delivered" \
    python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
last = [e for e in evs if e["queue_id"] == evs[-1]["queue_id"]]
assert [e["event"] for e in last] == ["accepted", "attempt", "delivered"], last
d = last[-1]
assert d["rcpt"] == "to@example.org" and d["code"] == 250 and d["enhanced"] == "2.0.0"
assert d["user"] and isinstance(d["uid"], int) and d["instance"] == "outbox"
' "$WORK/log.jsonl"

# message_size_limit: exit 65 while reading
write_conf "pipeline = outbox" "message_size_limit = 1k"
head -c 5000 /dev/zero | tr '\0' 'x' | fold -w 70 > "$WORK/big"
run_sm "$WORK/big" -C "$CONF" to@example.org
check "message over message_size_limit: exit 65" sh -c "[ $RC -eq 65 ] && grep -q 'larger than message_size_limit' '$WORK/err'"
check "over-size message leaves no spool file" sh -c "[ -z \"\$(ls '$QUEUE/tmp')\" ]"

# unusable spool: exit 73 with one line
touch "$WORK/notadir"
printf 'queue_dir = %s\nplugin_dir = %s\npipeline = outbox\nsyslog = no\n' "$WORK/notadir" "$PLUGINS" > "$WORK/bad-spool.conf"
expect 73 "spool not creatable" -C "$WORK/bad-spool.conf" to@example.org

# PLUME_CONFIG is read like -C
write_conf "pipeline = outbox"
rm -rf "$QUEUE/outbox"
PLUME_CONFIG="$CONF" "$SENDMAIL" to@example.org < "$WORK/msg"
check "PLUME_CONFIG honoured" sh -c "ls '$QUEUE/outbox/new' | grep -q ."

# personalities
"$WORK/bin/mailq" -C "$CONF" > "$WORK/out"
check "mailq: empty queue and the outbox count" \
    sh -c "grep -q '^Mail queue is empty$' '$WORK/out' && grep -q '^1 message captured in the local outbox' '$WORK/out'"
"$WORK/bin/newaliases" > "$WORK/out" 2>&1
ok $? "newaliases exits 0"
"$PLUME" --version > "$WORK/out"
check "plume --version" grep -q '^plume [0-9.]* (plugin ABI 1\.[0-9][0-9]*)$' "$WORK/out"
