#!/bin/sh
# bench/queue.sh - the queue: flushing 1000 queued 2 KB messages to a
# local sink (Postfix's smtp-sink) over one connection, next to Postfix's
# smtp-source sending the same number of messages of the same size over
# one connection to the same sink in the same run (the machine's
# practical limit); the same flush with 2 and 4 delivery workers
# (queue_concurrency); and what queueing costs at submission: a 2 KB
# message with the relay down (queued, fsyncs included) next to a direct
# delivery.
#   sh bench/queue.sh [PATH-TO-BUILD-DIR]      (default: .)
# Needs: postfix (smtp-sink, smtp-source), hyperfine, python3
#   (sh build-aux/deps.sh bench installs them).
set -eu
B=$(cd "${1:-.}" && pwd)
N=${N:-1000}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/plume-bench.XXXXXX")
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
DEAD=$(free_port)
/usr/sbin/smtp-sink -u nobody -c "127.0.0.1:$PORT" 256 > "$W/sink.log" 2>&1 &
SINK=$!
trap 'kill $SINK 2>/dev/null; rm -rf "$W"' EXIT
sleep 0.3
mkdir "$W/plugins" && cp "$B/plugins/smtp/.libs/smtp.so" "$W/plugins/"
conf() {	# conf PORT [WORKERS]: a config for the sink (or a dead port)
	printf 'queue_dir = %s/q\nplugin_dir = %s/plugins\nsyslog = no\nqueue_concurrency = %s\npipeline = smtp\n[smtp]\nhost = 127.0.0.1\nport = %s\ntls = none\n' \
	    "$W" "$W" "${2:-1}" "$1" > "$W/plume.conf"
}
enqueue() {
	i=0
	while [ $i -lt $N ]; do
		"$B/plume" sendmail -C "$W/plume.conf" -odq -i b@example.org < "$W/2k"
		i=$((i + 1))
	done
}
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 1500 /dev/urandom | base64; } > "$W/2k"
now() { /usr/bin/python3 -c 'import time; print(time.monotonic())'; }

echo "== queueing $N messages (-odq)"
conf "$PORT"
t0=$(now)
enqueue
t1=$(now)
echo "  $(ls "$W/q/deferred" | grep -c '\.env$') queued in $(/usr/bin/python3 -c "print('%.2f' % ($t1 - $t0))") s"

echo "== flushing them over one connection (queue_concurrency = 1)"
t0=$(now)
"$B/plume" -C "$W/plume.conf" queue flush
t1=$(now)
left=$(ls "$W/q/deferred" | grep -c '\.env$' || true)
plume_rate=$(/usr/bin/python3 -c "print('%.0f' % ($N / ($t1 - $t0)))")
echo "  plume: $N messages in $(/usr/bin/python3 -c "print('%.3f' % ($t1 - $t0))") s = $plume_rate msg/s ($left left in the queue)"
t0=$(now)
/usr/sbin/smtp-source -d -s 1 -m "$N" -l 2048 -f a@example.org -t b@example.org "127.0.0.1:$PORT"
t1=$(now)
src_rate=$(/usr/bin/python3 -c "print('%.0f' % ($N / ($t1 - $t0)))")
echo "  smtp-source: $src_rate msg/s"
echo "  plume / smtp-source: $(/usr/bin/python3 -c "print('%.2f' % ($plume_rate / $src_rate))")"

for w in 2 4; do
	echo "== the same $N, queue_concurrency = $w (one connection per worker)"
	conf "$PORT" $w
	enqueue
	t0=$(now)
	"$B/plume" -C "$W/plume.conf" queue flush
	t1=$(now)
	left=$(ls "$W/q/deferred" | grep -c '\.env$' || true)
	echo "  plume, $w workers: $(/usr/bin/python3 -c "print('%.0f' % ($N / ($t1 - $t0)))") msg/s ($left left in the queue)"
done
conf "$PORT"

echo "== submission cost, 2 KB: relay down (queued) vs delivered"
conf "$DEAD"
cp "$W/plume.conf" "$W/dead.conf"
conf "$PORT"
hyperfine -w 5 -r 100 --export-json "$W/sub.json" \
    "$B/plume sendmail -C $W/plume.conf -i b@example.org < $W/2k" \
    "$B/plume sendmail -C $W/dead.conf -i b@example.org < $W/2k" \
    > /dev/null 2>&1
/usr/bin/python3 - "$W/sub.json" <<'PY'
import json, sys
d, q = json.load(open(sys.argv[1]))["results"]
def cpu(x): return x["user"] + x["system"]
print("  delivered: wall %6.2f ms  cpu %5.2f ms" % (d["mean"]*1e3, cpu(d)*1e3))
print("  queued:    wall %6.2f ms  cpu %5.2f ms  (%.2fx the delivery)" % (q["mean"]*1e3, cpu(q)*1e3, q["mean"]/d["mean"]))
PY
