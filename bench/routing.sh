#!/bin/sh
# bench/routing.sh - what routing adds to one submission: the bare
# "outbox" pipeline next to one with six routes (five outbox instances
# with match_from and match_rcpt patterns, the message matching only the
# last, so every pattern is compared and the From field parsed), and a
# split one (two recipients on two routes: two copies, each delivered;
# its ratio is against "bare" with the same two recipients).  Measured
# in the same run (hyperfine, interleaved warm-ups), spool on tmpfs.
#   sh bench/routing.sh [PATH-TO-BUILD-DIR]   (default: .)
# Needs: hyperfine, python3 (sh build-aux/deps.sh bench).
set -eu
B=$(cd "${1:-.}" && pwd)
R=${R:-1000}
W=$(mktemp -d /dev/shm/plume-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/plugins"
cp "$B/plugins/outbox/.libs/outbox.so" "$W/plugins/"
conf() {	# conf NAME PIPELINE [LINES...]
	_n=$1 _p=$2
	shift 2
	{ printf 'queue_dir = %s/q-%s\nplugin_dir = %s/plugins\n' "$W" "$_n" "$W"
	  printf 'syslog = no\npipeline = %s\n' "$_p"
	  printf '%s\n' "$@"; } > "$W/$_n.conf"
}
conf bare outbox
routes=
for i in 1 2 3 4 5; do
	routes="$routes[outbox \"r$i\"]
path = $W/q-routes/box$i
match_from = alice@d$i.example, *@*.d$i.example
match_rcpt = p$i.example
"
done
conf routes "outbox:r1, outbox:r2, outbox:r3, outbox:r4, outbox:r5, outbox" \
    "$routes" "[outbox]"
sed "s|q-routes|q-split|g" "$W/routes.conf" > "$W/split.conf"
printf 'From: Someone <someone@elsewhere.example>\nTo: b@example.org\n' > "$W/m"   # for the check below
printf 'Subject: bench\n\n' >> "$W/m"
head -c 1500 /dev/urandom | base64 >> "$W/m"

# -N (no shell; see bench/ratelimit.sh): stdin is empty, so each run
# submits the smallest message, its From (root@domain) added by plume
hyperfine -N --warmup 50 -r "$R" --export-json "$W/r.json" \
    --prepare "rm -rf $W/q-bare $W/q-routes $W/q-split" \
    -n bare "$B/plume sendmail -C $W/bare.conf -i b@example.org" \
    -n six-routes "$B/plume sendmail -C $W/routes.conf -i b@example.org" \
    -n bare-2rcpt "$B/plume sendmail -C $W/bare.conf -i b@example.org c@p3.example" \
    -n split-2-routes "$B/plume sendmail -C $W/split.conf -i b@example.org c@p3.example" \
    > "$W/hf.out" 2>&1 || { cat "$W/hf.out"; exit 1; }
# the split case really took two routes
"$B/plume" sendmail -C "$W/split.conf" -i b@example.org c@p3.example < "$W/m"
[ "$(ls "$W/q-split/box3/new" | wc -l)" -ge 1 ] &&
    [ "$(ls "$W/q-split/outbox/new" | wc -l)" -ge 1 ] ||
    { echo "split: not delivered over two routes"; exit 1; }
/usr/bin/python3 - "$W/r.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name, base in (("bare", "bare"), ("six-routes", "bare"),
                   ("bare-2rcpt", "bare-2rcpt"),
                   ("split-2-routes", "bare-2rcpt")):
    x = r[name]
    print("%-15s median %7.3f ms  mean %7.3f ms +- %.3f  ratio %.3f vs %s"
          % (name, x["median"] * 1e3, x["mean"] * 1e3, x["stddev"] * 1e3,
             x["median"] / r[base]["median"], base))
PY
