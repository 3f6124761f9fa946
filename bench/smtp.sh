#!/bin/sh
# bench/smtp.sh - plume's SMTP transport next to msmtp, measured in the
# same run against the same local sink (Postfix's smtp-sink): a 2 KB and
# a 10 MB message, one and 100 recipients.  Reports per-invocation wall
# time, CPU time and peak RSS, and plume/msmtp ratios.
#   sh bench/smtp.sh [PATH-TO-BUILD-DIR]      (default: .)
# Needs: hyperfine, msmtp, postfix (smtp-sink, and a private Postfix for
# the STARTTLS case, as root), GNU time
#   (sh build-aux/deps.sh bench installs them).
set -eu
B=$(cd "${1:-.}" && pwd)
W=$(mktemp -d "${TMPDIR:-/var/tmp}/plume-bench.XXXXXX")
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/sbin/smtp-sink -u nobody -c "127.0.0.1:$PORT" 256 > "$W/sink.log" 2>&1 &
SINK=$!
trap 'kill $SINK 2>/dev/null; rm -rf "$W"' EXIT
sleep 0.3

mkdir "$W/plugins" && cp "$B/plugins/smtp/.libs/smtp.so" "$W/plugins/"
printf 'queue_dir = %s/q\nplugin_dir = %s/plugins\nsyslog = no\npipeline = smtp\n[smtp]\nhost = 127.0.0.1\nport = %s\ntls = none\n' \
    "$W" "$W" "$PORT" > "$W/plume.conf"
printf 'account default\nhost 127.0.0.1\nport %s\nfrom a@example.org\ntls off\nauth off\n' \
    "$PORT" > "$W/msmtprc"
chmod 600 "$W/msmtprc"
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 1500 /dev/urandom | base64; } > "$W/2k"
{ printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n'
  head -c 7500000 /dev/urandom | base64; } > "$W/10m"
RCPT100=$(i=0; while [ $i -lt 100 ]; do printf 'r%d@example.org ' $i; i=$((i + 1)); done)

PLUME="$B/plume sendmail -C $W/plume.conf -i"
MSMTP="msmtp -C $W/msmtprc"

# run NAME RUNS FILE RCPTS: hyperfine both, then GNU time for peak RSS
run() {
	name=$1 runs=$2 file=$3 rcpts=$4
	echo "== $name"
	hyperfine -N 2>/dev/null >/dev/null || true
	hyperfine -w 3 -r "$runs" --export-json "$W/$name.json" \
	    "$MSMTP $rcpts < $W/$file" "$PLUME $rcpts < $W/$file" \
	    > /dev/null 2>&1
	for tool in msmtp plume; do
		if [ $tool = msmtp ]; then cmd=$MSMTP; else cmd=$PLUME; fi
		# shellcheck disable=SC2086
		/usr/bin/time -f %M -o "$W/$name.$tool.rss" $cmd $rcpts < "$W/$file"
	done
	/usr/bin/python3 - "$W/$name.json" "$W/$name.msmtp.rss" "$W/$name.plume.rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
m, p = r[0], r[1]
rss_m, rss_p = int(open(sys.argv[2]).read()), int(open(sys.argv[3]).read())
def cpu(x): return x["user"] + x["system"]
print("  msmtp: wall %7.2f ms  cpu %6.2f ms  rss %6d KiB" % (m["mean"]*1e3, cpu(m)*1e3, rss_m))
print("  plume: wall %7.2f ms  cpu %6.2f ms  rss %6d KiB" % (p["mean"]*1e3, cpu(p)*1e3, rss_p))
print("  plume/msmtp: wall %.3fx  cpu %.3fx  rss %.3fx" % (p["mean"]/m["mean"], cpu(p)/cpu(m), rss_p/rss_m))
PY
}

run 2k-1rcpt 100 2k b@example.org
run 10m-1rcpt 10 10m b@example.org
# shellcheck disable=SC2086
run 2k-100rcpt 50 2k "$RCPT100"

# ---- STARTTLS against a real Postfix (as root: a private instance) ----
if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/postfix ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
	top_builddir=$B
	export top_srcdir top_builddir
	trap - EXIT
	kill $SINK 2>/dev/null
	rm -rf "$W"
	. "$top_srcdir/tests/integration/lib.sh"
	. "$top_srcdir/tests/integration/smtp-lib.sh"
	postfix_start > /dev/null
	{ printf 'From: a@example.org\nTo: b@example.test\nSubject: bench\n\n'
	  head -c 1500 /dev/urandom | base64; } > "$WORK/2k"
	write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $PF_PORT" "tls_ca_file = $TLS_DIR/ca.pem"
	printf 'account default\nhost 127.0.0.1\nport %s\nfrom a@example.org\ntls on\ntls_starttls on\ntls_trust_file %s\nauth off\n' \
	    "$PF_PORT" "$TLS_DIR/ca.pem" > "$WORK/msmtprc"
	chmod 600 "$WORK/msmtprc"
	echo "== 2k-starttls (Postfix smtpd, TLS 1.3, verified certificate)"
	hyperfine -w 3 -r 40 --export-json "$WORK/tls.json" \
	    "msmtp -C $WORK/msmtprc b@example.test < $WORK/2k" \
	    "$B/plume sendmail -C $CONF -i b@example.test < $WORK/2k" \
	    > /dev/null 2>&1
	/usr/bin/python3 - "$WORK/tls.json" <<'PY'
import json, sys
m, p = json.load(open(sys.argv[1]))["results"]
def cpu(x): return x["user"] + x["system"]
print("  msmtp: wall %7.2f ms  cpu %6.2f ms" % (m["mean"]*1e3, cpu(m)*1e3))
print("  plume: wall %7.2f ms  cpu %6.2f ms" % (p["mean"]*1e3, cpu(p)*1e3))
print("  plume/msmtp: wall %.3fx  cpu %.3fx" % (p["mean"]/m["mean"], cpu(p)/cpu(m)))
PY
fi
