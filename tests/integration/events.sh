#!/bin/sh
# events.sh - what observers are told: every event carries time, queue
# id, Message-ID, sender, recipient, transport instance, relay, TLS and
# AUTH facts, the server's reply and id, duration, attempt number, uid
# and user; asserted on the logfile plugin's JSON lines for an SMTP
# delivery (STARTTLS + AUTH against faultsmtp.py), a deferral retried by
# the queue runner, a bounce (partial refusal) and a failure (all refused).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 9
tls_material "$TLS_DIR"
fault_start ok --tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key" \
    --auth
printf 'secret\n' > "$WORK/pw"
chmod 600 "$WORK/pw"
# queue_min_backoff: the run a deferral starts in the background finds
# nothing due; the test runs the queue itself
write_conf "pipeline = smtp, logfile" "queue_min_backoff = 1h" \
    "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" \
    "tls_ca_file = $TLS_DIR/ca.pem" "user = user@example.test" \
    "password_file = $WORK/pw" "auth = plain" \
    "[logfile]" "path = $WORK/log.jsonl"
LOG=$WORK/log.jsonl
printf 'From: s@example.org\nMessage-ID: <ev1@example.org>\nSubject: ev\n\nhi\n' \
    > "$WORK/msg"
ME=$(id -un)
MYUID=$(id -u)

# jcheck DESC PYTHON-EXPR: ok when the expression holds; ev(kind, rcpt)
# is the list of that message's events of that kind (for that rcpt)
jcheck() {
	d=$1
	shift
	if "$SMTP_PYTHON" - "$LOG" "$ME" "$MYUID" "$MID" "$1" \
	    > "$WORK/j.out" 2>&1 <<'EOF'
import json, sys
log, me, uid, mid, expr = sys.argv[1:6]
lines = [json.loads(l) for l in open(log)]
mine = [e for e in lines if e.get("message_id") == mid]
def ev(kind, rcpt=None):
    return [e for e in mine if e["event"] == kind and
            (rcpt is None or e.get("rcpt") == rcpt)]
def common(e):
    for k in ("time", "queue_id", "message_id", "sender", "attempt", "uid",
              "user"):
        assert k in e, "%s missing in %s" % (k, e)
    assert e["uid"] == int(uid) and e["user"] == me, e
    assert e["sender"] == "s@example.org", e
    return True
ok = eval("(" + expr + ")")
if not ok:
    for e in mine:
        print(json.dumps(e))
sys.exit(0 if ok else 1)
EOF
	then ok 0 "$d"; else
		ok 1 "$d"
		sed 's/^/# /' "$WORK/j.out" | head -n 20
	fi
}

# ---- delivered over STARTTLS with AUTH ----------------------------------
MID='<ev1@example.org>'
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org
ok $RC "delivered: exit 0"
jcheck "accepted, attempt, delivered: one each, all fields" '
len(ev("accepted")) == 1 and len(ev("attempt")) == 1 and
len(ev("delivered")) == 1 and all(common(e) for e in mine) and
ev("attempt")[0]["instance"] == "smtp"'
jcheck "delivered: relay, tls, auth, reply, remote id, duration" '
[(e["instance"], e["rcpt"], e["code"], e["enhanced"], e["attempt"],
  e["notes"]["relay"].startswith("127.0.0.1"),
  e["notes"]["tls"].startswith("TLS"), e["notes"]["auth"].split()[0],
  e["notes"]["remote_id"], e["duration_ms"] >= 0, e["nrcpt"], e["size"] > 0)
 for e in ev("delivered")] ==
[("smtp", "good@example.org", 250, "2.0.0", 1, True, True, "PLAIN", "1",
  True, 1, True)]'

# ---- deferred, then retried by the runner ------------------------------
sed 's/ev1@/ev2@/' "$WORK/msg" > "$WORK/msg2"
MID='<ev2@example.org>'
# no detached run may hold the message while the flush wants it
runner_hold
run_sm "$WORK/msg2" -C "$CONF" -f s@example.org temp@example.org
ok $RC "deferred: exit 0 (queued)"
"$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
runner_release
jcheck "deferred twice: attempts 1 and 2, the server's words, the relay" '
[(e["attempt"], e["code"], e["enhanced"], "temp" in e["text"] or
  e["text"] != "", e["instance"], "relay" in e["notes"],
  e["notes"]["tls"].startswith("TLS"), e["duration_ms"] >= 0)
 for e in ev("deferred", "temp@example.org")] ==
[(1, 450, "4.2.1", True, "smtp", True, True, True),
 (2, 450, "4.2.1", True, "smtp", True, True, True)] and
all(common(e) for e in mine) and
[e["attempt"] for e in ev("attempt")] == [1, 2] and len(ev("accepted")) == 1'

# ---- bounced: one refused, one delivered: the sender gets a DSN ---------
sed 's/ev1@/ev3@/' "$WORK/msg" > "$WORK/msg3"
MID='<ev3@example.org>'
run_sm "$WORK/msg3" -C "$CONF" -f s@example.org bad@example.org \
    good@example.org
ok $RC "partly refused: exit 0"
jcheck "bounced for the refused one (550 5.1.1, relay), delivered for the other" '
[(e["code"], e["enhanced"], e["instance"], "relay" in e["notes"],
  e["attempt"]) for e in ev("bounced", "bad@example.org")] ==
[(550, "5.1.1", "smtp", True, 1)] and
len(ev("delivered", "good@example.org")) == 1 and not ev("failed") and
all(common(e) for e in mine)'

# ---- failed: every recipient refused: the exit code tells the caller ----
sed 's/ev1@/ev4@/' "$WORK/msg" > "$WORK/msg4"
MID='<ev4@example.org>'
run_sm "$WORK/msg4" -C "$CONF" -f s@example.org bad@example.org
[ $RC -eq 67 ]
ok $? "all refused: exit 67"
jcheck "failed (not bounced) when only the exit code tells" '
[(e["code"], e["enhanced"]) for e in ev("failed", "bad@example.org")] ==
[(550, "5.1.1")] and not ev("bounced")'
