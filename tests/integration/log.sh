#!/bin/sh
# log.sh - plume log and plume stats read the logfile plugin's JSON
# lines: a delivery, a deferral later delivered by the queue runner and
# a bounce through faultsmtp.py; plume log by queue id, Message-ID (with
# and without <>) and address, the state while queued and once done,
# --json, not found (66), a non-root caller who sees only its own
# messages; plume stats counts, --by, --json and --since.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 29
fault_start tempfail-all-rcpt
TEMP_PORT=$FAULT_PORT
fault_start ok
OK_PORT=$FAULT_PORT
LOG=$WORK/log.jsonl
# conf PORT [QUEUE]: the relay at PORT, the log above; queue_min_backoff:
# the run a deferral starts in the background finds nothing due
conf() {
	write_conf "pipeline = smtp, logfile" "queue_min_backoff = 1h" \
	    "[smtp]" "host = 127.0.0.1" "port = $1" "tls = none" \
	    "[logfile]" "path = $LOG" "mode = 0666"
	if [ -n "${2:-}" ]; then
		sed "s|^queue_dir = .*|queue_dir = $2|" "$CONF" > "$CONF.u"
		chmod 644 "$CONF.u"
	fi
}
msg() {	# msg N: a message with Message-ID <lN@example.org>
	printf 'From: s@example.org\nMessage-ID: <l%s@example.org>\nSubject: log\n\nhi\n' \
	    "$1" > "$WORK/msg$1"
	chmod 644 "$WORK/msg$1"
}
qid_of() {	# qid_of MESSAGE-ID: its queue id, from the log
	"$SMTP_PYTHON" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("message_id") == sys.argv[2]:
        print(e["queue_id"]); break' "$LOG" "$1"
}
# plog ARGS...: plume log/stats, exit status in $PRC, output in log.out
plog() {
	"$PLUME" -C "$CONF" "$@" > "$WORK/log.out" 2> "$WORK/log.err"
	PRC=$?
}
# jtest DESC EXPR: the last output parsed as JSON, EXPR true of j
jtest() {
	if "$SMTP_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$WORK/log.out" "$2" \
	    > "$WORK/j.err" 2>&1; then ok 0 "$1"; else
		ok 1 "$1"
		sed 's/^/# /' "$WORK/j.err" "$WORK/log.out" | head -n 30
	fi
}
has() {	# has DESC PATTERN: the last output holds the (grep -E) pattern
	if grep -Eq -- "$2" "$WORK/log.out"; then ok 0 "$1"; else
		ok 1 "$1"
		sed 's/^/# /' "$WORK/log.out" "$WORK/log.err" | head -n 30
	fi
}

# ---- delivered; bounced (one refused, one delivered) -------------------
conf "$OK_PORT"
msg 1; msg 2; msg 3
run_sm "$WORK/msg1" -C "$CONF" -f s@example.org good@example.org
ok $RC "delivered: exit 0"
run_sm "$WORK/msg3" -C "$CONF" -f s@example.org bad@example.org \
    good@example.org
ok $RC "partly refused: exit 0, the sender gets a report"
Q1=$(qid_of '<l1@example.org>')
Q3=$(qid_of '<l3@example.org>')

# ---- deferred: the relay says 451 ----------------------------------------
conf "$TEMP_PORT"
run_sm "$WORK/msg2" -C "$CONF" -f s@example.org later@example.org
ok $RC "deferred: exit 0 (queued)"
Q2=$(qid_of '<l2@example.org>')

plog log "$Q2"
[ $PRC -eq 0 ]
ok $? "plume log QUEUE-ID: exit 0"
has "... the server's words and the state: deferred, next attempt" \
    '451 4\.3\.0'
has "... Now: deferred, with the next attempt" \
    '^Now: deferred, in .*/deferred; 1 attempt so far, next attempt'
plog log "$Q2" --json
jtest "--json: the events as an array and the state 'deferred'" '
[e["event"] for e in j["events"]] == ["accepted", "attempt", "deferred"] and
j["events"][2]["code"] == 451 and
[(m["queue_id"], m["state"], m["attempts"], m["recipients"]) for m in
 j["messages"]] == [(j["query"], "deferred", 1,
 [{"address": "later@example.org", "state": "pending"}])]'

# ---- the runner delivers it ---------------------------------------------
conf "$OK_PORT"
"$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
plog log '<l2@example.org>'
[ $PRC -eq 0 ]
ok $? "plume log <Message-ID>: exit 0"
has "... both attempts, deferred then delivered" \
    'deferred  #1 <later@example\.org> via smtp'
has "... delivered by attempt 2" 'delivered #2 <later@example\.org> via smtp'
has "... Now: finished" '^Now: finished, no longer queued: delivered later@example\.org$'
plog log l2@example.org --json
jtest "Message-ID without <>, --json: state finished, 2 attempts" '
[m["state"] for m in j["messages"]] == ["finished"] and
[e["attempt"] for e in j["events"] if e["event"] == "attempt"] == [1, 2]'

# ---- the bounce; by address --------------------------------------------
plog log "$Q3"
has "bounced: 550 5.1.1 and the relay" '550 5\.1\.1'
plog log good@example.org
[ $PRC -eq 0 ] && [ "$(grep -c '^[0-9A-F]\{18\}  ' "$WORK/log.out")" -eq 2 ] &&
    head -n 1 "$WORK/log.out" | grep -q "^$Q1 " &&
    sed -n 2p "$WORK/log.out" | grep -q "^$Q3 "
ok $? "by address: both of its messages, newest last"

plog log "nosuch@example.org"
[ $PRC -eq 66 ] && grep -q 'no message matches' "$WORK/log.err"
ok $? "nothing matches: exit 66, one line"
plog log 0000
[ $PRC -eq 66 ]
ok $? "an unknown queue id: exit 66"

# ---- a non-root caller sees only its own -----------------------------------
if [ "$(id -u)" -eq 0 ] && have setpriv; then
	mkdir -p "$WORK/uq" && chown 65534:65534 "$WORK/uq"
	# the log was created with the configured mode despite plume's
	# umask (077), so the other user may write it too
	[ "$(stat -c %a "$LOG")" = 666 ]
	ok $? "the logfile got its configured mode (0666), not the umask's"
	conf "$OK_PORT" "$WORK/uq"
	msg 4
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SENDMAIL" \
	    -C "$CONF.u" -f s@example.org good@example.org \
	    < "$WORK/msg4" > /dev/null 2>&1
	asnobody() {
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$PLUME" -C "$CONF.u" "$@" > "$WORK/log.out" \
		    2> "$WORK/log.err"
		PRC=$?
	}
	asnobody log "$Q1"
	[ $PRC -eq 66 ]
	ok $? "non-root: root's message is not found (66)"
	asnobody log good@example.org
	[ $PRC -eq 0 ] && [ "$(grep -c '^[0-9A-F]\{18\}  ' "$WORK/log.out")" -eq 1 ]
	ok $? "non-root: by address, only its own message"
	asnobody stats --json
	jtest "non-root: stats count only its own events" '
j["counts"]["sent"] == 1 and j["counts"]["accepted"] == 1'
else
	skip "needs root and setpriv" 4
fi

# ---- stats ----------------------------------------------------------------
conf "$OK_PORT"
# delivered: l1, l3 (good), l2 after its deferral, the report to
# s@example.org, l4 (nobody's, when run as root); one deferral; one bounce
SENT=$("$SMTP_PYTHON" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["event"] == "delivered"))' "$LOG")
plog stats --json
jtest "stats --json: sent, deferred, bounced, failed as done" "
j['counts']['sent'] == $SENT and j['counts']['sent'] >= 4 and
j['counts']['deferred'] == 1 and j['counts']['bounced'] == 1 and
j['counts']['failed'] == 0 and j['counts']['throttled'] == 0"
jtest "stats --json: reasons, latency per relay" '
([r["reason"].split()[0] for r in j["reasons"]] == ["4.3.0", "5.1.1"] or
[r["reason"].split()[0] for r in j["reasons"]] == ["5.1.1", "4.3.0"]) and
j["relays"][0]["instance"] == "smtp" and j["relays"][0]["count"] >= 4 and
j["relays"][0]["p50"] <= j["relays"][0]["p99"] and
j["accepted_to_delivered"]["count"] >= 4'
plog stats --by status
has "stats --by status: a row per status code" '^5\.1\.1 +0 +0 +1 +0 +0$'
has "... plain text when not a terminal (no bars)" '^2\.0\.0 +[0-9]+ +0 +0 +0 +0$'
plog stats --by relay --json
jtest "stats --by relay --json: every delivery through smtp" "
[(r['key'], r['sent'], r['deferred']) for r in j['rows']] ==
[('smtp', $SENT, 1)] and j['relays'][0]['count'] == $SENT"

# an event of ten days ago: counted, but not --since 7d
"$SMTP_PYTHON" -c 'import json, sys, time
t = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 864000))
print(json.dumps({"time": t, "event": "delivered", "queue_id": "OLD",
    "message_id": "<old@x>", "sender": "s@example.org", "rcpt": "o@x",
    "instance": "smtp", "attempt": 1, "duration_ms": 5, "uid": 0,
    "user": "root"}, separators=(",", ":")))' >> "$LOG"
plog stats --json
jtest "the old event counts without --since" "j['counts']['sent'] == $SENT + 1"
plog stats --since 7d --json
jtest "--since 7d leaves it out" "j['counts']['sent'] == $SENT"

# a refusal in plume's words quoting the server's, and a relay whose
# name is longer than the column
"$SMTP_PYTHON" -c 'import json, time
t = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
base = {"time": t, "queue_id": "AUTH1", "message_id": "<a@x>",
    "sender": "s@example.org", "rcpt": "r@x", "attempt": 1, "uid": 0,
    "user": "root"}
print(json.dumps(dict(base, event="deferred", instance="smtp",
    code=535, enhanced="5.7.8", text="127.0.0.1[127.0.0.1]:587 refused "
    "AUTH PLAIN as user@example.org: 535 5.7.8 Authentication failed",
    duration_ms=3), separators=(",", ":")))
print(json.dumps(dict(base, event="delivered", queue_id="LONG1",
    instance="smtp:a-relay-with-a-rather-long-instance-name",
    duration_ms=4, notes={"relay": "mail.relay-with-a-long-name.example:587"}),
    separators=(",", ":")))' >> "$LOG"
plog stats
has "stats: a reason quoting the server is the server's words" \
    '^ +1  5\.7\.8 Authentication failed$'
has "stats: a long relay name is not cut" \
    '^smtp:a-relay-with-a-rather-long-instance-name \(mail\.relay-with-a-long-name\.example:587\) +1 +4 +4 +4$' 
