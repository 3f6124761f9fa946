# lib.sh - shared helpers for plume's TAP integration tests.
# Source it; it sets up a private work dir, a plugin dir holding the
# freshly built modules, and a config pointing at both, and removes it all
# on exit, even when a test fails.

set -u
: "${top_builddir:?run through make check}"
: "${top_srcdir:?run through make check}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/plume-test.XXXXXX")
chmod 755 "$WORK"
trap 'runner_release; rm -rf "$WORK"' EXIT INT TERM
PLUGINS="$WORK/plugins"
QUEUE="$WORK/queue"
CONF="$WORK/plume.conf"
mkdir -p "$PLUGINS" "$WORK/bin"
# The binary under test is a copy in $WORK, as the plugins are: tests
# run it as other users (nobody), and the build tree may be closed to
# them (a checkout in a mktemp -d directory is mode 0700).
cp "$top_builddir/plume" "$WORK/plume"
PLUME="$WORK/plume"
for so in "$top_builddir"/plugins/*/.libs/*.so; do
	[ -e "$so" ] && cp "$so" "$PLUGINS/"
done
chmod 755 "$PLUGINS"
# The personalities under test.  PLUME_VALGRIND=1 runs every plume the
# tests start under valgrind (memcheck), failing on any error or leak.
if [ -n "${PLUME_VALGRIND:-}" ]; then
	mkdir -p "$WORK/real"
	for p in plume sendmail mailq newaliases; do
		ln -s "$PLUME" "$WORK/real/$p"
		printf '#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect "%s" "$@"\n' \
		    "$WORK/real/$p" > "$WORK/bin/$p"
		chmod 755 "$WORK/bin/$p"
	done
	PLUME="$WORK/bin/plume"
else
	for p in sendmail mailq newaliases; do
		ln -s "$PLUME" "$WORK/bin/$p"
	done
fi
SENDMAIL="$WORK/bin/sendmail"

write_conf() {	# write_conf [extra lines]: a config for the test sandbox
	{
		echo "hostname = test.example.org"
		echo "domain = example.org"
		echo "queue_dir = $QUEUE"
		echo "plugin_dir = $PLUGINS"
		echo "syslog = no"
		printf '%s\n' "$@"
	} > "$CONF"
}

T=0
FAILED=0
plan() { echo "1..$1"; }
ok() {	# ok CONDITION-STATUS DESCRIPTION
	T=$((T + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T - $2"
	else
		echo "not ok $T - $2"
		FAILED=$((FAILED + 1))
	fi
}
check() {	# check DESCRIPTION COMMAND...: ok when the command succeeds
	d=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then ok 0 "$d"; else
		ok 1 "$d"
		sed 's/^/# /' "$WORK/check.out"
	fi
}
diag() { printf '# %s\n' "$*"; }
skip() {	# skip REASON [N]: N (1) checks skipped, each with REASON
	_k=${2:-1}
	while [ "$_k" -gt 0 ]; do
		T=$((T + 1)) _k=$((_k - 1))
		echo "ok $T # SKIP $1"
	done
}
have() { command -v "$1" > /dev/null 2>&1; }

# faked TIME CMD...: CMD (and what it starts) on libfaketime's clock, TIME
# in libfaketime's forms ("2026-01-01 00:00:00" frozen, "+1d", "-1h").
# The library is preloaded directly, not through the faketime wrapper:
# the wrapper creates a POSIX semaphore and shared memory named after its
# PID, and one killed by a signal leaves them in /dev/shm, where a later
# wrapper given the same PID fails to create its own and exits 1.
FAKETIME_LIB='/usr/$LIB/faketime/libfaketime.so.1'	# ld.so expands $LIB
have_faketime() { ls /usr/lib/*/faketime/libfaketime.so.1 > /dev/null 2>&1; }
faked() {
	_ft=$1
	shift
	FAKETIME=$_ft LD_PRELOAD="$FAKETIME_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}

# run_sm STDIN-FILE ARGS...: run sendmail, keep rc, stdout, stderr
run_sm() {
	in=$1
	shift
	set +e
	"$SENDMAIL" "$@" < "$in" > "$WORK/out" 2> "$WORK/err"
	RC=$?
	set -e 2>/dev/null || true
	set +e
}

# The one message file in the outbox (there must be exactly one new one).
outbox_files() { ls "$QUEUE/outbox/new" 2>/dev/null | sort; }
outbox_last() {
	f=$(ls -t "$QUEUE/outbox/new" 2>/dev/null | head -n 1)
	[ -n "$f" ] && echo "$QUEUE/outbox/new/$f"
}
# The message below plume's trace and envelope fields.
strip_trace() {
	awk 'BEGIN { h = 1 }
	     h && /^(Return-Path|Envelope-To): / { next }
	     h && /^Received: by / { skip = 1; next }
	     h && skip && /^[ \t]/ { next }
	     { skip = 0; h = 0; print }' "$1"
}

# runner_hold / runner_release: a shared hold on queue_dir/runner.lock,
# as a running queue runner has.  Submissions then start no detached run
# of their own, so only the runs the test makes, when it makes them,
# touch the queue (a detached run holding a message's lock would make the
# test's own run skip it).  Runs the test starts share the hold.
RUNNER_HOLD=
runner_hold() {
	mkdir -p "$QUEUE"
	( exec 9> "$QUEUE/runner.lock"; flock -s 9; exec sleep 3600 ) \
	    > /dev/null 2>&1 &
	RUNNER_HOLD=$!
	while flock -n -x "$QUEUE/runner.lock" true 2>/dev/null; do :; done
}
runner_release() {
	[ -n "$RUNNER_HOLD" ] || return 0
	kill "$RUNNER_HOLD" 2>/dev/null
	wait "$RUNNER_HOLD" 2>/dev/null
	RUNNER_HOLD=
}

# queue_whole SUBJECT: every envelope in deferred/ loads, with that
# Subject and a body (base64 text); no body lies there without its envelope
queue_whole() {
	for env in "$QUEUE"/deferred/*.env; do
		[ -e "$env" ] || continue
		id=$(basename "$env" .env)
		"$PLUME" -C "$CONF" queue show "$id" > "$WORK/show" 2>&1 ||
		    { echo "$id does not load: $(head -n 1 "$WORK/show")"; return 1; }
		grep -q "^Subject: $1" "$WORK/show" ||
		    { echo "$id has no header"; return 1; }
		tail -c 200 "$WORK/show" | grep -q '[A-Za-z0-9+/=]' ||
		    { echo "$id has no body"; return 1; }
	done
	for f in "$QUEUE"/deferred/*; do
		case $f in *.env) ;; *) [ -e "$f.env" ] ||
		    { echo "$f: a body without its envelope"; return 1; } ;; esac
	done
}
