#!/bin/sh
# install.sh - what "make install" produces, from a fresh distribution
# tree: the layout, personalities, no .la files, the public header, the
# sample config, plugins found with no environment, the embedded default,
# an out-of-tree plugin built against the installed header alone, and a
# static build (--enable-static-plugins) working with no plugin directory.
. "$top_srcdir/tests/integration/lib.sh"

plan 18
unset PLUME_CONFIG
SRC="$WORK/src"
make -s -C "$top_builddir" distdir distdir="$SRC" > "$WORK/dist.log" 2>&1
ok $? "make distdir" || sed 's/^/# /' "$WORK/dist.log"

build() {	# build DIR PREFIX [configure args]
	dir=$1 prefix=$2
	shift 2
	mkdir -p "$dir" && cd "$dir" &&
	    "$SRC/configure" --prefix="$prefix" "$@" > "$dir/log" 2>&1 &&
	    make -j2 > "$dir/log" 2>&1 && make install > "$dir/log" 2>&1
	rc=$?
	cd "$WORK" || exit 1
	[ $rc -eq 0 ] || tail -n 30 "$dir/log" | sed 's/^/# /'
	return $rc
}

P="$WORK/inst"
build "$WORK/b1" "$P"
ok $? "configure, make, make install into a prefix"
check "binary and personalities installed" \
    sh -c "[ -x '$P/sbin/plume' ] && [ '$P/sbin/sendmail' -ef '$P/sbin/plume' ] && [ '$P/bin/mailq' -ef '$P/sbin/plume' ] && [ '$P/bin/newaliases' -ef '$P/sbin/plume' ]"
check "plugins installed without .la files" \
    sh -c "[ -f '$P/lib/plume/outbox.so' ] && [ -f '$P/lib/plume/logfile.so' ] && [ -z \"\$(find '$P/lib/plume' -name '*.la')\" ]"
check "public header and sample configs installed, no live config" \
    sh -c "[ -f '$P/include/plume/plugin.h' ] && [ -f '$P/etc/plume/plume.conf.sample' ] && [ -f '$P/etc/plume/conf.d/logfile.conf.sample' ] && [ ! -e '$P/etc/plume/plume.conf' ] && [ -z \"\$(ls '$P/etc/plume/conf.d' | grep -v sample)\" ]"
check "spool directory created" test -d "$P/var/spool/plume"
check "man pages, sendmail(8), mailq(1) and newaliases(1) included" \
    sh -c "cd '$P/share/man' && [ -f man8/plume.8 ] && [ -f man5/plume-http.5 ] && grep -qx '.so man8/plume.8' man8/sendmail.8 && grep -qx '.so man8/plume.8' man1/mailq.1 && grep -qx '.so man8/plume.8' man1/newaliases.1"

"$P/sbin/plume" plugins > "$WORK/out" 2>&1
check "installed plume finds its plugins with no environment" \
    grep -Eq "^outbox .* $P/lib/plume/outbox.so$" "$WORK/out"

# the embedded default: no config file, mail captured in the outbox
printf 'From: me@example.org\nTo: you@example.org\nSubject: hello\n\nIt works.\n' > "$WORK/msg"
"$P/sbin/sendmail" -t -v < "$WORK/msg" > "$WORK/out" 2> "$WORK/err"
rc=$?
f=$(ls "$P/var/spool/plume/outbox/new" 2>/dev/null | head -n 1)
check "embedded default: delivered into queue_dir/outbox" \
    sh -c "[ $rc -eq 0 ] && [ -n '$f' ] && grep -q 'It works' '$P/var/spool/plume/outbox/new/$f'"
check "embedded default: says the message was captured, not sent" \
    grep -q "warning: .*message captured in the local outbox $P/var/spool/plume/outbox, not sent" "$WORK/err"
"$P/bin/mailq" > "$WORK/out"
check "mailq counts the captured message" grep -q '^1 message captured in the local outbox' "$WORK/out"

# a third-party plugin, built out of tree against the installed header
mkdir -p "$WORK/third"
cc -Wall -Werror -shared -fPIC -I"$P/include" -o "$WORK/third/example.so" \
    "$SRC/plugins/example/example.c" 2> "$WORK/err"
check "example plugin builds out of tree against the installed header" \
    test -f "$WORK/third/example.so"
chmod 755 "$WORK/third"
printf 'plugin_dir = %s/lib/plume, %s/third\npipeline = outbox, example\nsyslog = no\n[example]\ngreeting = hi\n' "$P" "$WORK" > "$WORK/third.conf"
"$P/sbin/sendmail" -C "$WORK/third.conf" -v to@example.org < "$WORK/msg" > /dev/null 2> "$WORK/err"
check "out-of-tree plugin runs in the pipeline" \
    sh -c "[ $? -eq 0 ] && grep -q 'example: hi: event' '$WORK/err'"
"$P/sbin/plume" -C "$WORK/third.conf" example hello > "$WORK/out" 2>&1
check "out-of-tree plugin's subcommand" grep -q '^hi, world' "$WORK/out"

# a static build: the listed plugins embedded, working with no plugin dir
S="$WORK/static"
build "$WORK/b2" "$S" --enable-static-plugins=outbox,logfile
ok $? "build with --enable-static-plugins=outbox,logfile"
rm -rf "$S/lib/plume"
printf 'pipeline = outbox, logfile\nsyslog = no\n[logfile]\npath = %s/static.jsonl\n' "$WORK" > "$S/etc/plume/plume.conf"
"$S/sbin/sendmail" -t < "$WORK/msg" > /dev/null 2> "$WORK/err"
check "static build delivers with an empty plugin directory" \
    sh -c "[ $? -eq 0 ] && ls '$S/var/spool/plume/outbox/new' | grep -q . && grep -q delivered '$WORK/static.jsonl'"
"$S/sbin/plume" plugins > "$WORK/out" 2>&1
check "plume plugins says built in" \
    sh -c "grep -Eq '^outbox .* built in$' '$WORK/out' && grep -Eq '^logfile .* built in$' '$WORK/out'"
(cd "$WORK/b2" && "$SRC/configure" --enable-static-plugins=outbox --disable-static > "$WORK/b3.log" 2>&1)
check "--enable-static-plugins refused with --disable-static" \
    sh -c "[ $? -ne 0 ] && grep -q 'cannot work with --disable-static' '$WORK/b3.log'"
