#!/bin/sh
# bench/dkim.sh - what DKIM signing costs in plume, next to dkimsign
# (python3-dkim) and opendkim -t (OpenDKIM's test mode), measured in the
# same run on the same files and keys: a 2 KB and a 10 MB message,
# RSA-2048 and Ed25519, relaxed/relaxed.
#
# For each case it times plume's delivery into the outbox unsigned and
# signed (pipeline = outbox, then pipeline = dkim, outbox), "plume dkim
# sign" alone, opendkim -t and dkimsign, and reports wall and CPU time,
# the time signing adds to plume's delivery, and ratios.  Targets (issue
# 6): the wall time signing adds to plume's delivery is no more than
# opendkim -t needs to sign alone; the CPU it adds for 2 KB is under
# 1 ms.  Each is printed as PASS or FAIL.  First it shows what merely
# loading and initialising OpenSSL 3 costs a process (with a C compiler
# at hand): every sendmail process that signs pays it once.
#
# CPU is user+sys.  hyperfine reports only its mean, which a few slow
# runs pull up, so the CPU targets are judged on medians measured apart
# (bench/cpu-median.py: each run's own rusage, commands interleaved).
#
# Where the CPU goes (2 KB, into the outbox, Debian 12's OpenSSL 3.0,
# medians of 200 runs timed inside plume; see DESIGN-NOTES.md, DKIM):
#   dlopen of dkim.so with libcrypto (BIND_NOW: about 4,000 symbol
#     relocations, 17,000 relative ones) and libcares       0.58 ms
#   OpenSSL reads openssl.cnf, loads its error strings        0.29 ms
#   first fetch: name map from the legacy tables, default
#     provider, every digest method built                     0.33 ms
#   the key: Ed25519 (public half derived) / RSA (fromdata)   0.10 ms
#   hashing the 2 KB body and the header fields               0.02 ms
#   the signature: Ed25519 / RSA-2048 (first, with blinding
#     set up; a second one costs 0.21 ms)              0.04 / 0.45 ms
#   the generator for RSA blinding (HASH-DRBG)                0.04 ms
#   OPENSSL_cleanup at exit                                    0.10 ms
#   sh bench/dkim.sh [PATH-TO-BUILD-DIR]      (default: .)
# Needs: hyperfine, python3-dkim (dkimsign), opendkim, GNU time
#   (sh build-aux/deps.sh bench test).
set -eu
B=$(cd "${1:-.}" && pwd)
W=$(mktemp -d "${TMPDIR:-/var/tmp}/plume-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
for tool in hyperfine dkimsign opendkim /usr/bin/time; do
	command -v "$tool" > /dev/null || {
		echo "bench/dkim.sh: $tool missing (sh build-aux/deps.sh bench test)" >&2
		exit 1
	}
done

SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir "$W/plugins"
cp "$B/plugins/outbox/.libs/outbox.so" "$B/plugins/dkim/.libs/dkim.so" \
    "$W/plugins/"
PLUME=$B/plume
base() {
	printf 'hostname = bench.example.org\ndomain = example.org\n'
	printf 'queue_dir = %s/q\nplugin_dir = %s/plugins\nsyslog = no\n' "$W" "$W"
}
base > "$W/unsigned.conf"
echo "pipeline = outbox" >> "$W/unsigned.conf"
"$PLUME" -C "$W/unsigned.conf" dkim keygen --domain example.org \
    --selector rsa --out "$W/rsa.pem" > /dev/null 2>&1
"$PLUME" -C "$W/unsigned.conf" dkim keygen --domain example.org \
    --selector ed --type ed25519 --out "$W/ed.pem" > /dev/null 2>&1
# dkimsign wants an Ed25519 key as its raw seed
openssl pkey -in "$W/ed.pem" -outform DER | tail -c 32 | base64 > "$W/ed.seed"
for a in rsa ed; do
	{ base; printf 'pipeline = dkim, outbox\n[dkim]\ndomain = example.org\n'
	  printf 'selector = %s\nkey = %s/%s.pem\n' $a "$W" $a; } > "$W/$a.conf"
	printf 'Mode s\nSyslog no\nRequireSafeKeys no\nDomain example.org\nSelector %s\nKeyFile %s/%s.pem\nCanonicalization relaxed/relaxed\n' \
	    $a "$W" $a > "$W/od-$a.conf"
done
echo "SignatureAlgorithm ed25519-sha256" >> "$W/od-ed.conf"

HDR='From: a@example.org
To: b@example.org
Subject: bench
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <bench@example.org>
MIME-Version: 1.0'
{ printf '%s\nContent-Type: text/plain\n\n' "$HDR"
  head -c 1300 /dev/urandom | base64; } > "$W/2k"
{ printf '%s\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n' "$HDR"
  head -c 7500000 /dev/urandom | base64; } > "$W/10m"

# run SIZE ALG RUNS
run() {
	size=$1 alg=$2 runs=$3
	if [ "$alg" = rsa ]; then
		name=RSA-2048 key=$W/rsa.pem dk="--signalg rsa-sha256"
	else
		name=Ed25519 key=$W/ed.seed dk="--signalg ed25519-sha256"
	fi
	echo "== $size, $name"
	hyperfine -w 3 -r "$runs" --export-json "$W/$size.$alg.json" \
	    --prepare "rm -f $W/q/outbox/new/*" \
	    "$PLUME sendmail -C $W/unsigned.conf -i b@example.org < $W/$size" \
	    "$PLUME sendmail -C $W/$alg.conf -i b@example.org < $W/$size" \
	    "$PLUME -C $W/unsigned.conf dkim sign --domain example.org --key $W/$alg.pem --selector $alg < $W/$size > /dev/null" \
	    "opendkim -x $W/od-$alg.conf -t $W/$size" \
	    "dkimsign $alg example.org $key $dk --hcanon relaxed --bcanon relaxed < $W/$size > /dev/null" \
	    > /dev/null 2>&1
	# the CPU medians: every command again, interleaved; dkimsign,
	# 300 times slower and steady, fewer times
	/usr/bin/python3 "$SRC/bench/cpu-median.py" "$runs" "$W/$size.$alg.cpu" \
	    "rm -f $W/q/outbox/new/*" "$W/$size" \
	    "$PLUME sendmail -C $W/unsigned.conf -i b@example.org" \
	    "$PLUME sendmail -C $W/$alg.conf -i b@example.org" \
	    "$PLUME -C $W/unsigned.conf dkim sign --domain example.org --key $W/$alg.pem --selector $alg" \
	    "opendkim -x $W/od-$alg.conf -t $W/$size" \
	    "/$((runs / 10 + 1))/dkimsign $alg example.org $key $dk --hcanon relaxed --bcanon relaxed"
	/usr/bin/time -f %M -o "$W/rss" "$PLUME" -C "$W/unsigned.conf" dkim sign \
	    --domain example.org --key "$W/$alg.pem" --selector "$alg" \
	    < "$W/$size" > /dev/null
	/usr/bin/python3 - "$W/$size.$alg.json" "$size" "$(cat "$W/rss")" \
	    "$W/$size.$alg.cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = [float(x) for x in open(sys.argv[4]).read().split()]
unsigned, signed, sign, od, py = r
def cpu(x): return (x["user"] + x["system"]) * 1e3
def wall(x): return x["mean"] * 1e3
for (label, x), m in zip((("plume delivery, unsigned", unsigned),
                          ("plume delivery, signed", signed),
                          ("plume dkim sign", sign), ("opendkim -t", od),
                          ("dkimsign (python3-dkim)", py)), med):
    print("  %-26s wall %8.2f ms +- %6.2f  cpu %8.2f ms (median %8.2f)" %
          (label, wall(x), x["stddev"] * 1e3, cpu(x), m))
add_wall = wall(signed) - wall(unsigned)
add_cpu = med[1] - med[0]
print("  signing adds to delivery:  wall %+8.2f ms            cpu %+8.2f ms"
      " (medians; means %+.2f)" % (add_wall, add_cpu,
                                   cpu(signed) - cpu(unsigned)))
print("  plume dkim sign peak RSS:  %s KiB" % sys.argv[3])
print("  ratios: plume dkim sign / opendkim -t  wall %.3fx  cpu %.3fx"
      % (wall(sign) / wall(od), cpu(sign) / cpu(od)))
print("          plume dkim sign / dkimsign     wall %.3fx  cpu %.3fx"
      % (wall(sign) / wall(py), cpu(sign) / cpu(py)))
print("          added to delivery / opendkim -t wall %.3fx"
      % (add_wall / wall(od)))
print("  target: added wall <= opendkim -t alone (%.2f <= %.2f ms): %s"
      % (add_wall, wall(od), "PASS" if add_wall <= wall(od) else "FAIL"))
if sys.argv[2] == "2k":
    print("  target: added CPU for 2 KB < 1 ms (median, %.3f ms): %s"
          % (add_cpu, "PASS" if add_cpu < 1.0 else "FAIL"))
PY
}

# The floor under any OpenSSL 3 signer started per message: a process
# that does nothing, one that merely links libcrypto, and one that also
# hashes one byte through EVP (which initialises OpenSSL).
printf 'int main(void) { return 0; }\n' > "$W/empty.c"
printf '#include <openssl/evp.h>\nint main(int c, char **v) { unsigned char m[32]; unsigned n; if (c > 1) EVP_Digest("x", 1, m, &n, EVP_sha256(), NULL); return 0; }\n' > "$W/floor.c"
if cc -O2 -o "$W/empty" "$W/empty.c" 2>/dev/null &&
    cc -O2 -o "$W/floor" "$W/floor.c" -lcrypto 2>/dev/null; then
	echo "== the OpenSSL 3 floor: load libcrypto, initialise it, hash one byte"
	hyperfine -N -w 20 -r 300 --export-json "$W/floor.json" "$W/empty" \
	    "$W/floor" "$W/floor x" > /dev/null 2>&1
	/usr/bin/python3 - "$W/floor.json" <<'PY'
import json, sys
bare, linked, evp = json.load(open(sys.argv[1]))["results"]
def cpu(x): return (x["user"] + x["system"]) * 1e3
print("  an empty process            wall %6.2f ms  cpu %6.2f ms" %
      (bare["mean"] * 1e3, cpu(bare)))
print("  linking libcrypto           wall %6.2f ms  cpu %6.2f ms (+%.2f)" %
      (linked["mean"] * 1e3, cpu(linked), cpu(linked) - cpu(bare)))
print("  and one EVP SHA-256         wall %6.2f ms  cpu %6.2f ms (+%.2f)" %
      (evp["mean"] * 1e3, cpu(evp), cpu(evp) - cpu(bare)))
PY
fi

run 2k rsa 200
run 2k ed 200
run 10m rsa 15
run 10m ed 15

# Over STARTTLS, as most deliveries go, OpenSSL is loaded and initialised
# for TLS anyway: what signing adds there is the key, the hashing and the
# signature.  A local TLS sink (faultsmtp), a self-signed certificate
# pinned by fingerprint.
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$W/tls.key" -out "$W/tls.pem" -days 2 \
	    -subj /CN=127.0.0.1 > /dev/null 2>&1
	fp=$(openssl x509 -in "$W/tls.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
	mkdir "$W/sink"
	/usr/bin/python3 "$SRC/tests/integration/faultsmtp.py" --port 0 \
	    --dir "$W/sink" --scenario ok --tls-cert "$W/tls.pem" \
	    --tls-key "$W/tls.key" --exit-with-parent > /dev/null 2>&1 &
	SINKPID=$!
	trap 'kill $SINKPID 2>/dev/null; rm -rf "$W"' EXIT
	n=0; while [ ! -s "$W/sink/port" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	cp "$B/plugins/smtp/.libs/smtp.so" "$W/plugins/"
	smtp="[smtp]
host = 127.0.0.1
port = $(cat "$W/sink/port")
tls_fingerprint = $fp"
	{ base; printf 'pipeline = smtp\n%s\n' "$smtp"; } > "$W/tls-u.conf"
	for a in rsa ed; do
		{ base; printf 'pipeline = dkim, smtp\n%s\n[dkim]\ndomain = example.org\n' "$smtp"
		  printf 'selector = %s\nkey = %s/%s.pem\n' $a "$W" $a; } > "$W/tls-$a.conf"
	done
	echo "== 2 KB over STARTTLS: what signing adds when OpenSSL is in use anyway"
	hyperfine -w 5 -r 100 --export-json "$W/tls.json" \
	    "$PLUME sendmail -C $W/tls-u.conf -i b@example.org < $W/2k" \
	    "$PLUME sendmail -C $W/tls-rsa.conf -i b@example.org < $W/2k" \
	    "$PLUME sendmail -C $W/tls-ed.conf -i b@example.org < $W/2k" \
	    > /dev/null 2>&1
	/usr/bin/python3 - "$W/tls.json" <<'PY'
import json, sys
u, r, e = json.load(open(sys.argv[1]))["results"]
def cpu(x): return (x["user"] + x["system"]) * 1e3
for name, x in (("unsigned", u), ("rsa-2048", r), ("ed25519", e)):
    print("  %-9s wall %6.2f ms  cpu %6.2f ms  (signing adds %.2f ms cpu)"
          % (name, x["mean"] * 1e3, cpu(x), cpu(x) - cpu(u)))
for name, x in (("rsa-2048", r), ("ed25519", e)):
    add = cpu(x) - cpu(u)
    print("  target: added CPU for 2 KB < 1 ms, %s over STARTTLS (%.3f ms): %s"
          % (name, add, "PASS" if add < 1.0 else "FAIL"))
PY
fi
