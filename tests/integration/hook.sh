#!/bin/sh
# hook.sh - the hook observer: a command gets exactly one event per
# transition (environment and JSON on stdin); a failing or hanging
# command changes nothing; a webhook reaches a local HTTPS server with a
# valid HMAC signature, posted by the queue runner; a webhook that is
# down is spooled, not tried by the submitter, and posted exactly once by
# the next queue run.  Idle costs nothing: hook.so links neither libcurl
# nor libcrypto, and a submission starts a queue run only when an event
# was spooled for the webhook.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault
[ -e "$PLUGINS/hook.so" ] || { echo "1..0 # SKIP hook plugin not built"; exit 0; }

plan 19
tls_material "$TLS_DIR"
fault_start ok
printf 'From: s@example.org\nMessage-ID: <h1@example.org>\nSubject: hook\n\nhi\n' \
    > "$WORK/msg"
mkdir -p "$WORK/calls"
# the hook command: records its environment and stdin, one pair a call
cat > "$WORK/rec" <<EOF
#!/bin/sh
n=\$(mktemp "$WORK/calls/call.XXXXXX")
env > "\$n.env"
cat > "\$n.json"
EOF
chmod 755 "$WORK/rec"
# conf HOOK-LINES...: smtp to faultsmtp, then [hook] with those lines.
# queue_min_backoff: what the background runner finds is never due.
conf() {
	write_conf "pipeline = smtp, hook" "queue_min_backoff = 1h" \
	    "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" "tls = none" \
	    "[hook]" "$@"
}
# wait_for 'SHELL TEST': up to 15 s for it to hold (eval'd each time)
wait_for() {
	_w=0
	while ! eval "$1" && [ $_w -lt 150 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	eval "$1"
}
ncalls() { ls "$WORK/calls" | grep -c '\.json$'; }

# ---- the command: one event per transition ------------------------------
conf "events = accepted delivered deferred bounced failed" \
    "command = $WORK/rec --flag"
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org \
    temp@example.org bad@example.org
ok $RC "three recipients (sent, deferred, refused): exit 0"
"$SMTP_PYTHON" - "$WORK/calls" > "$WORK/py.out" 2>&1 <<'EOF'
import glob, json, sys
calls = []
for j in sorted(glob.glob(sys.argv[1] + "/*.json")):
    raw = open(j).read()
    assert raw.endswith("\n") and raw.count("\n") == 1, "one line: %r" % raw
    ev = json.loads(raw)
    env = dict(l.split("=", 1) for l in
               open(j[:-5] + ".env").read().splitlines() if "=" in l)
    if ev["message_id"] == "<h1@example.org>":	# not the DSN's
        calls.append((ev, env))
got = sorted((ev["event"], ev.get("rcpt")) for ev, env in calls)
want = sorted([("accepted", None), ("delivered", "good@example.org"),
               ("deferred", "temp@example.org"),
               ("bounced", "bad@example.org")])
assert got == want, got
for ev, env in calls:
    assert env["PLUME_EVENT"] == ev["event"], env
    assert env["PLUME_QUEUE_ID"] == ev["queue_id"], env
    assert env["PLUME_MESSAGE_ID"] == "<h1@example.org>", env
    assert env["PLUME_SENDER"] == "s@example.org", env
    assert env.get("PLUME_RCPT") == ev.get("rcpt"), env
    assert env["PLUME_ATTEMPT"] == "1" and env["PLUME_UID"] == str(ev["uid"])
    assert env["PLUME_USER"] == ev["user"] and "PLUME_TIME" in env
    assert "HOME" not in env and env["PATH"].startswith("/usr/local/sbin")
    if ev["event"] != "accepted":
        assert env["PLUME_INSTANCE"] == "smtp", env
        assert env["PLUME_CODE"] == str(ev["code"]), env
        assert env["PLUME_TEXT"] == ev["text"], env
        assert env["PLUME_RELAY"].startswith("127.0.0.1"), env
        assert env["PLUME_TLS"] == "none" and env["PLUME_AUTH"] == "none"
        assert int(env["PLUME_DURATION_MS"]) >= 0
codes = {ev["event"]: ev.get("code") for ev, env in calls}
assert codes["deferred"] == 450 and codes["bounced"] == 550, codes
EOF
ok $? "command: exactly one call per transition, env and JSON agree"
sed 's/^/# /' "$WORK/py.out" | head -n 10
n=$(ncalls)
"$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
[ "$(ncalls)" -eq $((n + 1)) ] &&
    grep -l '"attempt":2' "$WORK/calls"/*.json | xargs grep -q '"deferred"'
ok $? "the queue run's retry: one more call, deferred, attempt 2"

# ---- a failing command changes nothing -----------------------------------
rm -rf "$QUEUE/deferred"/*
printf '#!/bin/sh\ncat > /dev/null\nexit 1\n' > "$WORK/fail"
chmod 755 "$WORK/fail"
conf "command = $WORK/fail"
before=$(fault_count)
run_sm "$WORK/msg" -C "$CONF" -v -f s@example.org good@example.org
ok $RC "failing command: exit 0"
[ "$(fault_count)" -eq $((before + 1)) ]
ok $? "failing command: delivered"
grep -q "hook: .*fail failed: exit 1" "$WORK/err"
ok $? "failing command: logged"
run_sm "$WORK/msg" -C "$CONF" -f s@example.org bad@example.org
[ $RC -eq 67 ]
ok $? "failing command: a refusal still exits 67"

# ---- a hanging command is killed at its timeout ---------------------------
conf "command = /bin/sleep 59.25" "timeout = 1s"
before=$(fault_count)
t0=$(date +%s)
run_sm "$WORK/msg" -C "$CONF" -v -f s@example.org good@example.org
t1=$(date +%s)
[ $RC -eq 0 ] && [ $((t1 - t0)) -le 4 ]
ok $? "hanging command: exit 0 within its timeout ($((t1 - t0))s)"
[ "$(fault_count)" -eq $((before + 1)) ] && grep -q "killed" "$WORK/err"
ok $? "hanging command: delivered, killed, logged"
! pgrep -f "sleep 59.25" > /dev/null
ok $? "hanging command: nothing left running"

# ---- idle: no libcurl at load time, no queue run for nothing --------------
! readelf -d "$PLUGINS/hook.so" | grep -E 'NEEDED.*(libcurl|libcrypto)'
ok $? "hook.so does not link libcurl or libcrypto (loaded at the first post)"
# a due message waits in the queue (-odq starts no run): a queue run
# started by a submission would deliver it
conf "events = bounced" "url = https://127.0.0.1:1/ev"
run_sm "$WORK/msg" -C "$CONF" -odq -f s@example.org good@example.org
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org
sleep 1.5
[ $RC -eq 0 ] && [ "$(ls "$QUEUE/deferred" | grep -c '\.env$')" -eq 1 ] &&
    [ -z "$(ls "$QUEUE/state/hook/webhook" 2>/dev/null | grep '^ev\.')" ]
ok $? "no event spooled: the submission starts no queue run"
conf "events = delivered" "url = https://127.0.0.1:1/ev"
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org
wait_for '[ "$(ls "$QUEUE/deferred" | grep -c "\.env$")" -eq 0 ] &&
    grep -qs "^attempts [1-9]" "$QUEUE"/state/hook/webhook/ev.*'
ok $? "an event spooled: the submission starts a queue run (it flushes)"
# nothing of this for the webhook tests below
wait_for 'flock -n "$QUEUE/runner.lock" true'
rm -f "$QUEUE"/state/hook/webhook/ev.*

# ---- webhook: HTTPS, HMAC, posted by the runner ----------------------------
cat > "$WORK/srv.py" <<'EOF'
import http.server, json, os, ssl, sys
d, cert, key = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len([f for f in os.listdir(d) if f.endswith(".req")]) + 1
        rec = {"path": self.path, "headers": dict(self.headers.items()),
               "body": body.decode()}
        with open("%s/%04d.tmp" % (d, n), "w") as f:
            json.dump(rec, f)
        os.rename("%s/%04d.tmp" % (d, n), "%s/%04d.req" % (d, n))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(d + "/port.tmp", "w").write(str(s.server_address[1]))
os.rename(d + "/port.tmp", d + "/port")
s.serve_forever()
EOF
srv_start() {	# srv_start DIR: the HTTPS receiver; SRV_PORT
	mkdir -p "$1"
	"$SMTP_PYTHON" "$WORK/srv.py" "$1" "$TLS_DIR/server.pem" \
	    "$TLS_DIR/server.key" 2> "$1/stderr" &
	SRV_PID=$!
	smtp_at_exit "kill $SRV_PID 2>/dev/null"
	wait_portfile "$SRV_PID" "$1/port"
	SRV_PORT=$(cat "$1/port")
}
nreq() { ls "$1" | grep -c '\.req$'; }
printf 'hooksecret\n' > "$WORK/hsecret"
chmod 600 "$WORK/hsecret"
srv_start "$WORK/srv1"
conf "events = delivered" "url = https://127.0.0.1:$SRV_PORT/ev" \
    "tls_ca_file = $TLS_DIR/ca.pem" "signing_secret_file = $WORK/hsecret"
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org
wait_for '[ "$(nreq "$WORK/srv1")" -ge 1 ]'
ok $? "webhook: posted (by the queue run the submission started)"
"$SMTP_PYTHON" - "$WORK/srv1/0001.req" > "$WORK/py.out" 2>&1 <<'EOF'
import hashlib, hmac, json, sys, time
r = json.load(open(sys.argv[1]))
h = {k.lower(): v for k, v in r["headers"].items()}
ts = h["x-plume-timestamp"]
assert abs(int(ts) - time.time()) < 60, ts
want = "sha256=" + hmac.new(b"hooksecret", (ts + "." + r["body"]).encode(),
                            hashlib.sha256).hexdigest()
assert h["x-plume-signature"] == want, (h, want)
assert h["content-type"] == "application/json"
ev = json.loads(r["body"])
assert ev["event"] == "delivered" and ev["rcpt"] == "good@example.org", ev
assert ev["notes"]["relay"].startswith("127.0.0.1"), ev
EOF
ok $? "webhook: JSON event, valid X-Plume-Signature"
sed 's/^/# /' "$WORK/py.out" | head -n 5
wait_for '[ -z "$(ls "$QUEUE/state/hook/webhook" | grep "^ev\.")" ]'
ok $? "webhook: the spool is empty"

# ---- webhook down: spooled, posted once by the next queue run --------------
# a black hole: accepts connections, never answers
"$SMTP_PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(50)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(120)' \
    "$WORK/hole.port" &
HOLE_PID=$!
smtp_at_exit "kill $HOLE_PID 2>/dev/null"
wait_for '[ -s "$WORK/hole.port" ]'
conf "events = delivered" "url = https://127.0.0.1:$(cat "$WORK/hole.port")/ev" \
    "tls_ca_file = $TLS_DIR/ca.pem" "signing_secret_file = $WORK/hsecret" \
    "post_timeout = 3s" "retry_min_backoff = 1s"
t0=$(date +%s)
run_sm "$WORK/msg" -C "$CONF" -f s@example.org good@example.org
t1=$(date +%s)
[ $RC -eq 0 ] && [ $((t1 - t0)) -le 1 ]
ok $? "webhook down: the submission does not wait for it ($((t1 - t0))s)"
spooled() { grep -l '^attempts 1$' "$QUEUE"/state/hook/webhook/ev.* \
    2>/dev/null | wc -l; }
wait_for '[ "$(spooled)" -eq 1 ]'
ok $? "webhook down: spooled, one failed post (by the queue run)"
kill $HOLE_PID 2>/dev/null
srv_start "$WORK/srv2"
conf "events = delivered" "url = https://127.0.0.1:$SRV_PORT/ev" \
    "tls_ca_file = $TLS_DIR/ca.pem" "signing_secret_file = $WORK/hsecret" \
    "retry_min_backoff = 1s"
sleep 1.2
"$PLUME" -C "$CONF" -v queue run > "$WORK/run.out" 2>&1
"$PLUME" -C "$CONF" -v queue run >> "$WORK/run.out" 2>&1
[ "$(nreq "$WORK/srv2")" -eq 1 ] &&
    [ -z "$(ls "$QUEUE/state/hook/webhook" | grep '^ev\.')" ] &&
    grep -q 'rcpt.*good@example.org' "$WORK/srv2/0001.req"
r=$?
ok $r "webhook back: posted exactly once by the next queue run"
[ $r -eq 0 ] || { sed 's/^/# /' "$WORK/run.out"
	ls -l "$WORK/srv2" "$QUEUE/state/hook/webhook" | sed 's/^/# /'; }
