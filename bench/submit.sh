#!/bin/sh
# bench/submit.sh - what one submission costs: a 2 KB and a 100 MB message
# into the outbox, with the spool on the disk under test and on tmpfs,
# next to the cost of starting any process (/bin/true) measured in the
# same run.  Needs hyperfine and GNU time (Debian: hyperfine, time).
#   sh bench/submit.sh [PATH-TO-PLUME]   (default: ./plume)
set -eu
PLUME=$(cd "$(dirname "${1:-./plume}")" && pwd)/$(basename "${1:-./plume}")
PLUGINS=$(cd "$(dirname "$PLUME")" && pwd)/plugins/outbox/.libs
W=$(mktemp -d "${TMPDIR:-/var/tmp}/plume-bench.XXXXXX")
SHM=$(mktemp -d /dev/shm/plume-bench.XXXXXX)
trap 'rm -rf "$W" "$SHM"' EXIT
mkdir "$W/plugins" && cp "$PLUGINS/outbox.so" "$W/plugins/"
for d in "$W/q" "$SHM/q"; do
	printf 'queue_dir = %s\nplugin_dir = %s\npipeline = outbox\nsyslog = no\n' \
	    "$d" "$W/plugins" > "$d.conf"
done
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 1500 /dev/urandom | base64; } > "$W/2k"
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 76000000 /dev/urandom | base64; } > "$W/100m"

echo "== 2 KB message, wall and CPU per submission (hyperfine)"
hyperfine -N --warmup 20 -r 300 /bin/true 2>/dev/null | grep -E 'Time|User'
for d in "$W/q" "$SHM/q"; do
	echo "-- spool on $(df --output=fstype "$(dirname "$d")" | tail -n 1) ($d)"
	hyperfine --warmup 20 -r 300 --prepare "rm -rf $d/outbox" \
	    "$PLUME sendmail -C $d.conf -i b@example.org < $W/2k" 2>/dev/null |
	    grep -E 'Time|User'
done

echo "== peak RSS (GNU time, KiB)"
for f in 2k 100m; do
	rm -rf "$W/q/outbox"
	/usr/bin/time -f "$f: %M KiB max RSS, %e s wall, %U s user, %S s sys" \
	    "$PLUME" sendmail -C "$W/q.conf" -i b@example.org < "$W/$f"
done
