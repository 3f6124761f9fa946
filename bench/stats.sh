#!/bin/sh
# bench/stats.sh - plume stats and plume log on a delivery log of a
# million events (N), written as the logfile plugin writes them:
# 200,000 messages of five events each (accepted, attempt, delivered,
# or deferred and a second attempt, or bounced) over 30 days, 5 relays'
# worth of domains.  Prints the wall-clock time of plume stats (all,
# --by domain, --since 7d, --json) and of plume log by queue id and by
# address (the prefilter case), best of three.
#   sh bench/stats.sh [PATH-TO-BUILD-DIR]      (default: .)
# Needs: python3.
set -eu
B=$(cd "${1:-.}" && pwd)
N=${N:-1000000}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/plume-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir "$W/plugins" && cp "$B/plugins/logfile/.libs/logfile.so" "$W/plugins/"
printf 'queue_dir = %s/q\nplugin_dir = %s/plugins\nsyslog = no\npipeline = logfile\n[logfile]\npath = %s/log.jsonl\n' \
    "$W" "$W" "$W" > "$W/plume.conf"
python3 - "$W/log.jsonl" "$N" <<'PY'
import json, random, sys, time
path, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
now = time.time()
t0 = now - 30 * 86400
step = 30 * 86400 / (n / 5)
def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
with open(path, "w") as f:
    i = written = 0
    while written < n:
        t = t0 + i * step
        qid = "%018X" % (0x06B000000000000000 + i)
        rcpt = "user%d@domain%d.example" % (i % 5000, i % 50)
        base = {"queue_id": qid, "message_id": "<%d.%s@app.example>" % (i, qid),
                "sender": "app%d@example.org" % (i % 7), "nrcpt": 1, "size": 2000 + i % 5000}
        relay = "smtp:r%d" % (i % 5)
        r = random.random()
        evs = [("accepted", 0, {}), ("attempt", 0.001, {"instance": relay})]
        if r < 0.90:
            evs += [("delivered", 0.2, {"rcpt": rcpt, "instance": relay, "code": 250, "enhanced": "2.0.0", "text": "Ok: queued as %d" % i})]
        elif r < 0.97:
            evs += [("deferred", 0.3, {"rcpt": rcpt, "instance": relay, "code": 451, "enhanced": "4.3.0", "text": "<%s>: Temporary failure, try again later" % rcpt})]
        else:
            evs += [("bounced", 0.2, {"rcpt": rcpt, "instance": relay, "code": 550, "enhanced": "5.1.1", "text": "<%s>: Recipient address rejected: User unknown" % rcpt})]
        evs += [("attempt", 60, {"instance": relay, "attempt": 2}),
                ("delivered", 60.2, {"rcpt": rcpt, "instance": relay, "code": 250, "enhanced": "2.0.0", "text": "Ok", "attempt": 2})]
        for ev, dt, extra in evs:
            e = {"time": stamp(t + dt), "event": ev}
            e.update(base)
            e.update(extra)
            e.setdefault("attempt", 1)
            if ev in ("delivered", "deferred", "bounced"):
                e["duration_ms"] = int(random.expovariate(1 / 150.0))
                e["notes"] = {"relay": "mx.r%d.example[192.0.2.%d]:587" % (i % 5, i % 5), "tls": "TLSv1.3", "auth": "PLAIN"}
            e["uid"] = 33
            e["user"] = "www-data"
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
            written += 1
            if written == n:
                break
        i += 1
PY
QID=$(sed -n '500000p' "$W/log.jsonl" | sed 's/.*"queue_id":"\([0-9A-F]*\)".*/\1/')
echo "log: $(wc -l < "$W/log.jsonl") lines, $(du -m "$W/log.jsonl" | cut -f1) MB"
best() {	# best LABEL ARGS...: best of three wall-clock runs, seconds
	label=$1
	shift
	b=
	for k in 1 2 3; do
		s=$(date +%s.%N)
		"$B/plume" -C "$W/plume.conf" "$@" > "$W/out" 2>&1 || true
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" -eq 1 ]; then b=$t; fi
	done
	printf '%-34s %6.2f s\n' "$label" "$b"
}
best "plume stats" stats
best "plume stats --by domain" stats --by domain
best "plume stats --since 7d" stats --since 7d
best "plume stats --by relay --json" stats --by relay --json
best "plume log QUEUE-ID" log "$QID"
best "plume log ADDRESS" log user42@domain42.example
