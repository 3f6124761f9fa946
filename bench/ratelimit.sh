#!/bin/sh
# bench/ratelimit.sh - what the ratelimit policy adds to one submission:
# a submission into the outbox through "ratelimit, outbox" next to the
# bare "outbox" pipeline, the two measured in the same run (hyperfine,
# interleaved warm-ups), reported as a ratio.  The limit is high enough
# never to defer, so every run pays the whole path: state file open,
# lock, map, lookup among max_keys keys, update, unlock.  A second
# ratelimit case fills the table (1024 live keys, scope = sender) first,
# the worst case of the linear lookup.  A last case adds the observers
# the issue names: "ratelimit, outbox, logfile, hook" (a JSON log line
# per event, and a hook command, /bin/true, run on each delivery: its
# fork and exec are most of that case's cost).  A hook case alone,
# "outbox, hook" with an event that never fires (bounced), measures what
# merely having the hook in the pipeline costs: loading it, and whether
# a submission starts a queue run for it.  Spool on tmpfs, so the
# outbox's fsyncs do not hide the policy's cost.
#   sh bench/ratelimit.sh [PATH-TO-BUILD-DIR]   (default: .)
# Needs: hyperfine, python3 (sh build-aux/deps.sh bench).
set -eu
B=$(cd "${1:-.}" && pwd)
R=${R:-1000}
W=$(mktemp -d /dev/shm/plume-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/plugins"
cp "$B/plugins/outbox/.libs/outbox.so" "$B/plugins/ratelimit/.libs/ratelimit.so" \
    "$B/plugins/logfile/.libs/logfile.so" "$B/plugins/hook/.libs/hook.so" \
    "$W/plugins/"
conf() {	# conf NAME PIPELINE [LINES...]
	_n=$1 _p=$2
	shift 2
	{ printf 'queue_dir = %s/q-%s\nplugin_dir = %s/plugins\n' "$W" "$_n" "$W"
	  printf 'syslog = no\npipeline = %s\n' "$_p"
	  printf '%s\n' "$@"; } > "$W/$_n.conf"
}
conf bare outbox
conf rl "ratelimit, outbox" "[ratelimit]" "messages = 1000000/second"
# every key stays live for an hour (one message each, T = 1 h), yet the
# measured sender never runs out (burst 1000000)
conf obs "ratelimit, outbox, logfile, hook" "[ratelimit]" \
    "messages = 1000000/second" "[logfile]" "path = $W/events.jsonl" \
    "[hook]" "events = delivered" "command = /bin/true"
conf hook "outbox, hook" "[hook]" "events = bounced" "command = /bin/true"
conf full "ratelimit, outbox" "[ratelimit]" "messages = 24/day" \
    "burst = 1000000" "scope = sender"
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 1500 /dev/urandom | base64; } > "$W/2k"
# fill "full": 1023 other senders hold a live key each
i=0
while [ $i -lt 1023 ]; do
	"$B/plume" sendmail -C "$W/full.conf" -f "s$i@example.org" -i \
	    b@example.org < "$W/2k"
	i=$((i + 1))
done
rm -rf "$W/q-full/outbox"

# -N (no shell: a submission takes about a millisecond, below what
# hyperfine can correct a shell's start-up for); stdin is then empty, so
# each run submits the smallest message plume accepts (Date, From and
# Message-ID added): the policy's cost does not depend on the size
hyperfine -N --warmup 50 -r "$R" --export-json "$W/r.json" \
    --prepare "rm -rf $W/q-bare/outbox $W/q-rl/outbox $W/q-full/outbox $W/q-obs/outbox $W/q-hook/outbox $W/events.jsonl" \
    -n bare "$B/plume sendmail -C $W/bare.conf -i b@example.org" \
    -n ratelimit "$B/plume sendmail -C $W/rl.conf -i b@example.org" \
    -n ratelimit-1024-keys \
    "$B/plume sendmail -C $W/full.conf -f x@example.org -i b@example.org" \
    -n hook-idle "$B/plume sendmail -C $W/hook.conf -i b@example.org" \
    -n ratelimit+logfile+hook \
    "$B/plume sendmail -C $W/obs.conf -i b@example.org" \
    > "$W/hf.out" 2>&1 || { cat "$W/hf.out"; exit 1; }
[ "$(ls "$W/q-full/deferred" 2>/dev/null | wc -l)" -eq 0 ] ||
    { echo "the ratelimit-1024-keys case deferred mail: not comparable"; exit 1; }
"$B/plume" -C "$W/full.conf" ratelimit show | tail -n 1
/usr/bin/python3 - "$W/r.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["bare"]["median"]
for name in ("bare", "ratelimit", "ratelimit-1024-keys", "hook-idle",
             "ratelimit+logfile+hook"):
    x = r[name]
    print("%-20s median %7.3f ms  mean %7.3f ms +- %.3f  user %.3f ms  sys %.3f ms  ratio %.3f"
          % (name, x["median"] * 1e3, x["mean"] * 1e3, x["stddev"] * 1e3,
             x["user"] * 1e3, x["system"] * 1e3, x["median"] / base))
PY
