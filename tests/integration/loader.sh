#!/bin/sh
# loader.sh - plugins through the real binary: plume plugins, refusals
# with one clear line, plugin subcommands, observers in the pipeline.
. "$top_srcdir/tests/integration/lib.sh"

plan 11
printf 'From: a@example.org\nSubject: x\n\nhi\n' > "$WORK/msg"
cp "$top_builddir"/plugins/example/.libs/example.so "$PLUGINS/"
write_conf "pipeline = outbox"

"$PLUME" -C "$CONF" plugins > "$WORK/out" 2> "$WORK/err"
ok $? "plume plugins exits 0"
check "lists outbox, logfile, example with version, kinds, ABI, path" \
    sh -c "grep -Eq '^outbox +1\.0 +transport +1\.[0-9]+ +$PLUGINS/outbox.so$' '$WORK/out' && grep -Eq '^logfile +1\.0 +observer +1\.[0-9]+ ' '$WORK/out' && grep -Eq '^example +1\.0 +observer ' '$WORK/out'"

"$PLUME" plugins -l -C "$CONF" > "$WORK/out" 2>&1
check "plugins -l shows keys and commands" \
    sh -c "grep -q 'path  *path  *the Maildir' '$WORK/out' && grep -q 'command: plume example hello' '$WORK/out'"

# broken modules are listed with the reason, never crash the listing
cp "$top_builddir"/tests/unit/fixtures/.libs/badabi.so "$PLUGINS/"
cp "$top_builddir"/tests/unit/fixtures/.libs/nodesc.so "$PLUGINS/"
"$PLUME" -C "$CONF" plugins > "$WORK/out" 2>&1
check "refused modules listed with their reason" \
    sh -c "grep -q 'badabi.so: refused: plugin .*built for plume plugin ABI 2.0' '$WORK/out' && grep -q 'nodesc.so: refused: .*has no symbol nodesc_LTX_plugin' '$WORK/out' && grep -q '^outbox ' '$WORK/out'"

# a module in the pipeline that is writable by others stops with 78
chmod 666 "$PLUGINS/example.so"
write_conf "pipeline = outbox, example"
run_sm "$WORK/msg" -C "$CONF" to@example.org
check "world-writable plugin refused: exit 78, one line naming the file" \
    sh -c "[ $RC -eq 78 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q 'plugin $PLUGINS/example.so refused: writable by others' '$WORK/err'"
chmod 644 "$PLUGINS/example.so"

write_conf "pipeline = outbox, badabi"
run_sm "$WORK/msg" -C "$CONF" to@example.org
check "wrong ABI in the pipeline: exit 78 with the reason" \
    sh -c "[ $RC -eq 78 ] && grep -q 'built for plume plugin ABI 2.0, but this plume speaks 1\.[0-9]*' '$WORK/err'"

# an observer in the pipeline sees the events (its log lines, with -v)
write_conf "pipeline = outbox, example" "[example]" "greeting = howdy"
run_sm "$WORK/msg" -C "$CONF" -v to@example.org
check "observer plugin called with the instance name in its log" \
    sh -c "[ $RC -eq 0 ] && grep -q ': example: howdy: event 3 for to@example.org' '$WORK/err'"

# plugin-provided subcommands
"$PLUME" -C "$CONF" example hello Ada > "$WORK/out" 2>&1
check "plugin subcommand runs with its instance's config" grep -qx 'howdy, Ada (from the example plugin, plume [0-9.]*)' "$WORK/out"
"$PLUME" -C "$CONF" example nosuch > "$WORK/out" 2>&1
ok $([ $? -eq 64 ]; echo $?) "unknown plugin subcommand: exit 64"
"$PLUME" -C "$CONF" nosuchcommand > "$WORK/out" 2>&1
ok $([ $? -eq 64 ]; echo $?) "unknown command: exit 64"
printf 'Subject: s\r\nX-A: 1\nTo: t@example.org\n\nbody\n' | "$PLUME" -C "$CONF" example headers > "$WORK/out" 2>&1
check "a plugin command reads a message through the host (msg_read)" \
    sh -c "printf 'Subject\nX-A\nTo\n47 bytes\n' | cmp -s - '$WORK/out'"
