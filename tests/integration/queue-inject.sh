#!/bin/sh
# queue-inject.sh - the queue's promise when the kernel says no: strace
# makes the Nth write(2), fsync(2) or rename(2) of a submission fail with
# EIO (or ENOSPC), for N = 1..6.  Every time, the message is wholly queued
# or absent, never half; sendmail exits 0 only for a queued message, and
# otherwise with a sysexits code (73, 74 or 75) and one line saying why.
. "$top_srcdir/tests/integration/lib.sh"

plan 4
if ! command -v strace > /dev/null ||
    ! strace -f -qq -o /dev/null -e trace=getpid true 2>/dev/null; then
	for i in 1 2 3 4; do echo "ok $i # SKIP strace cannot trace here"; done
	exit 0
fi
# LeakSanitizer cannot work under ptrace (the ASan build's other checks do)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
write_conf "pipeline = outbox" "delivery = queue"
{ printf 'From: a@example.org\nSubject: inject\n\n'; head -c 200000 /dev/urandom | base64; } > "$WORK/msg"

ok0=0 failed=0 badrc=0 noline=0 missing=0
for sc in write fsync rename; do
	for err in EIO ENOSPC; do
		n=0
		while [ $n -lt 6 ]; do
			n=$((n + 1))
			r="$sc-$err-$n@example.org"
			strace -f -qq -o /dev/null -e trace="$sc" \
			    -e inject="$sc:error=$err:when=$n" \
			    "$SENDMAIL" -C "$CONF" -i "$r" < "$WORK/msg" \
			    > /dev/null 2> "$WORK/err"
			rc=$?
			if [ $rc -eq 0 ]; then
				ok0=$((ok0 + 1))
				grep -rqs "rcpt pending $r " "$QUEUE/deferred" ||
				    missing=$((missing + 1))
			else
				failed=$((failed + 1))
				case $rc in 73|74|75) ;; *)
					badrc=$((badrc + 1))
					diag "$r: exit $rc" ;;
				esac
				[ "$(wc -l < "$WORK/err")" -ge 1 ] ||
				    noline=$((noline + 1))
			fi
		done
	done
done
diag "$ok0 queued, $failed refused"
check "every submission that exited 0 is in the queue ($ok0 of 36)" \
    test $missing -eq 0 -a $ok0 -gt 0
check "the others exited 73, 74 or 75 ($failed of 36)" \
    test $badrc -eq 0 -a $failed -gt 0
check "... each with a line on stderr" test $noline -eq 0
# no half items, and nothing left in tmp/
whole_and_clean() {
	queue_whole inject || return 1
	[ -z "$(ls -A "$QUEUE/tmp" 2>/dev/null)" ] ||
	    { echo "left in tmp/: $(ls "$QUEUE/tmp")"; return 1; }
}
check "the queue holds only whole messages, tmp/ is empty" whole_and_clean
