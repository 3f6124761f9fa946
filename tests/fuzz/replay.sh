#!/bin/sh
# replay.sh - replay every fuzz target over its corpus (seeds and every
# crash ever found), with whatever sanitizers this build has.
set -u
: "${top_builddir:?run through make check}" "${top_srcdir:?}"
targets="address conf intake smtp_reply dkim_canon import spf"
n=0
echo "1..$(echo $targets | wc -w)"
for t in $targets; do
	n=$((n + 1))
	bin="$top_builddir/tests/fuzz/fuzz_$t"
	# -runs=0: a libFuzzer build (--enable-fuzzer) only replays, too
	if out=$("$bin" -runs=0 "$top_srcdir/tests/fuzz/corpus/$t" 2>&1); then
		echo "ok $n - fuzz_$t: $(printf '%s\n' "$out" | tail -n 1)"
	else
		echo "not ok $n - fuzz_$t"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
