#!/bin/sh
# bounce.sh - delivery status notifications (RFC 3464) to the sender:
# their structure, NOTIFY, RET, -oem, expiry, and what happens when the
# report itself cannot be delivered (kept in failed/, never lost).
. "$top_srcdir/tests/integration/lib.sh"

plan 18
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
printf 'From: a@example.org\nSubject: will bounce\nMessage-ID: <orig@example.org>\n\nthe body\n' > "$WORK/msg"
conf() {	# conf [extra global lines]
	write_conf "pipeline = testplug, logfile" "$@" "[testplug]" \
	    "path = $WORK/sent" "[logfile]" "path = $WORK/log.jsonl"
}
# dsn_check FILE PY-EXPRESSIONS...: parse the report the sink got
dsn() {
	python3 - "$WORK/sent" "$@" <<'PY'
import email, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
rcpts = [l[5:].decode() for l in raw.split(b"\n") if l.startswith(b"RCPT ")]
msg = email.message_from_bytes(raw[raw.index(b"\n", raw.rindex(b"RCPT ")) + 1:], policy=policy.default)
parts = list(msg.iter_parts())
status = parts[1].get_payload()
for expr in sys.argv[2:]:
    assert eval(expr), expr
PY
}

conf
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org ok@example.org unknown@example.org
check "partly refused at submission: exit 0, a report to the sender" \
    sh -c "[ $RC -eq 0 ] && grep -qx 'RCPT sender@example.org' '$WORK/sent'"
check "the report is multipart/report with a delivery-status part" \
    dsn 'msg.get_content_type() == "multipart/report"' \
        'msg.get_param("report-type") == "delivery-status"' \
        'len(parts) == 3 and parts[1].get_content_type() == "message/delivery-status"' \
        'msg["Auto-Submitted"] == "auto-replied"' \
        '"MAILER-DAEMON@example.org" in msg["From"]'
check "per recipient: Final-Recipient, Action failed, Status, the server's words" \
    dsn 'any(b.get("Final-Recipient") == "rfc822; unknown@example.org" for b in status)' \
        'any(b.get("Action") == "failed" and b.get("Status") == "5.1.1" for b in status)' \
        'any("550 5.1.1 no such user here" in str(b.get("Diagnostic-Code")) for b in status)' \
        'not any("ok@example.org" in str(b.get("Final-Recipient")) for b in status)'
check "the original returned whole (message/rfc822)" \
    dsn 'parts[2].get_content_type() == "message/rfc822"' \
        '"the body" in parts[2].as_string()'
check "the report comes from the null sender" \
    sh -c "grep '\"event\":\"delivered\"' '$WORK/log.jsonl' | tail -n 1 | grep -q '\"sender\":\"\",.*\"rcpt\":\"sender@example.org\"'"

rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org -R hdrs ok@example.org unknown@example.org
check "RET=HDRS: only the header section comes back" \
    dsn 'parts[2].get_content_type() == "text/rfc822-headers"' \
        '"the body" not in parts[2].as_string()'

rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org -N never ok@example.org unknown@example.org
check "NOTIFY=never: no report" sh -c "! grep -q 'RCPT sender@example.org' '$WORK/sent'"
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -f '<>' ok@example.org unknown@example.org
check "a message from <> is never reported on" \
    sh -c "grep -q '^Subject: will bounce' '$WORK/sent' && ! grep -q 'multipart/report' '$WORK/sent'"

rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org -oem unknown@example.org refuse@example.org
check "-oem: every recipient refused, exit 0 and a report instead" \
    sh -c "[ $RC -eq 0 ] && grep -qx 'RCPT sender@example.org' '$WORK/sent'"
check "... naming both" \
    dsn 'len([b for b in status if b.get("Final-Recipient")]) == 2'

# expiry: reported, and the original kept in failed/
write_conf "pipeline = testplug" "queue_lifetime = 1s" "[testplug]" \
    "path = $WORK/sent" "down = yes"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org later@example.org
sleep 2
write_conf "pipeline = testplug" "queue_lifetime = 1s" "[testplug]" "path = $WORK/sent"
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -q
check "expired: the sender is told (Status 4.4.7), the original kept in failed/" \
    sh -c "dsn() { :; }; grep -qx 'RCPT sender@example.org' '$WORK/sent' && grep -q '^Status: 4.4.7' '$WORK/sent' && ls '$QUEUE/failed' | grep -q env"

# a report that cannot be delivered: nothing lost, all in failed/
rm -rf "$QUEUE/failed"
write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent" "down = yes"
run_sm "$WORK/msg" -C "$CONF" -f unknown-sender@example.org unknown@example.org
id=$(ls "$QUEUE/deferred" | grep '\.env$' | sed 's/\.env$//')
write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent"
"$SENDMAIL" -C "$CONF" -q -v 2> "$WORK/err"
check "a report refused for good: the original kept in failed/, nothing deleted" \
    sh -c "[ -n '$id' ] && [ -f '$QUEUE/failed/$id.env' ] && [ -f '$QUEUE/failed/$id' ] && grep -q 'the report to <unknown-sender@example.org> was refused' '$WORK/err'"

# a relay that refuses the null sender (many providers): the default <>
# report fails and the original stays in failed/; an owned bounce_sender
# gets through
rm -rf "$QUEUE/failed" "$QUEUE/deferred"
write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent" \
    "refuse_null_sender = yes"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org ok@example.org unknown@example.org
check "relay refusing <>: the report fails, the original is kept in failed/" \
    sh -c "[ $RC -eq 0 ] && ls '$QUEUE/failed' | grep -q '\.env\$' && grep -q 'rcpt failed unknown@example.org' '$QUEUE'/failed/*.env"
write_conf "pipeline = testplug" "bounce_sender = MAILER-DAEMON@example.org" \
    "bounce_copy_to = postmaster@example.org" "[testplug]" \
    "path = $WORK/sent" "refuse_null_sender = yes"
rm -f "$WORK/sent"
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org ok@example.org unknown@example.org
check "bounce_sender = an owned address: the report gets through" \
    sh -c "grep -qx 'RCPT sender@example.org' '$WORK/sent' && grep -q '^Final-Recipient: rfc822; unknown@example.org' '$WORK/sent'"
check "bounce_copy_to: the postmaster gets a copy" grep -qx 'RCPT postmaster@example.org' "$WORK/sent"

# a delay warning, once
rm -rf "$QUEUE/deferred"
write_conf "pipeline = testplug" "delay_warning_time = 1s" \
    "queue_min_backoff = 1s" "[testplug]" "path = $WORK/sent"
runner_hold	# only the run below may touch the message
run_sm "$WORK/msg" -C "$CONF" -f sender@example.org later@example.org
sleep 1.2
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -q
runner_release
check "delay_warning_time: the sender learns the message is late (Action: delayed)" \
    sh -c "grep -qx 'RCPT sender@example.org' '$WORK/sent' && grep -q '^Action: delayed' '$WORK/sent' && grep -q 'text/rfc822-headers' '$WORK/sent'"
rm -f "$WORK/sent"
"$SENDMAIL" -C "$CONF" -q
check "... only once" sh -c "grep -qx 'RCPT later@example.org' '$WORK/sent' && ! grep -q 'Action: delayed' '$WORK/sent'"

# one user's flood cannot fill the queue: queue_max_per_user
if command -v setpriv > /dev/null; then
	mkdir -p "$WORK/uq" && chown 65534:65534 "$WORK/uq"
	printf 'queue_dir = %s/uq\nplugin_dir = %s\nsyslog = no\nqueue_max_per_user = 2\npipeline = testplug\n[testplug]\npath = %s/uq/sent\ndown = yes\n' \
	    "$WORK" "$PLUGINS" "$WORK" > "$WORK/uq.conf"
	chmod 644 "$WORK/uq.conf" "$WORK/msg"
	for i in 1 2 3; do
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$SENDMAIL" -C "$WORK/uq.conf" -odq "u$i@example.org" \
		    < "$WORK/msg" > /dev/null 2> "$WORK/uerr$i"
		echo $? > "$WORK/urc$i"
	done
	check "queue_max_per_user = 2: the third message is refused with 75" \
	    sh -c "[ \$(cat '$WORK/urc1') -eq 0 ] && [ \$(cat '$WORK/urc2') -eq 0 ] && [ \$(cat '$WORK/urc3') -eq 75 ] && grep -q 'queue_max_per_user' '$WORK/uerr3'"
else
	T=$((T + 1)); echo "ok $T # SKIP needs setpriv"
fi
