#!/bin/sh
# banned.sh - no banned function in the sources (build-aux/check-banned),
# and the checker itself catches one.
set -u
: "${top_srcdir:?run through make check}"
echo "1..2"
cd "$top_srcdir" || exit 1
if out=$(sh build-aux/check-banned core cmd plugins tests 2>&1); then
	echo "ok 1 - no banned functions in core, cmd, plugins, tests"
else
	echo "not ok 1 - banned functions used"
	printf '%s\n' "$out" | sed 's/^/# /'
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'void f(char *d, const char *s) { strcpy(d, s); }\n' > "$tmp/x.c"
if sh build-aux/check-banned "$tmp" >/dev/null 2>&1; then
	echo "not ok 2 - the checker misses strcpy"
else
	echo "ok 2 - the checker catches strcpy"
fi
