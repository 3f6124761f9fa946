#!/bin/sh
# config.sh - config errors name file:line and exit 78 keeping the message
# in hold/; sections not reached are warnings; includes; config check.
. "$top_srcdir/tests/integration/lib.sh"

plan 21
printf 'From: a@example.org\nSubject: x\n\nhi\n' > "$WORK/msg"

# submit78 DESC PATTERN: exit 78, one stderr line matching PATTERN that
# says where the message was kept, and the message really is there
submit78() {
	desc=$1 pat=$2
	rm -rf "$QUEUE/hold"
	run_sm "$WORK/msg" -C "$CONF" to@example.org
	lines=$(wc -l < "$WORK/err")
	if [ "$RC" -eq 78 ] && [ "$lines" -eq 1 ] && grep -q "$pat" "$WORK/err" &&
	    grep -q "message kept in $QUEUE/hold/" "$WORK/err" &&
	    [ "$(ls "$QUEUE/hold" | wc -l)" -eq 2 ]; then
		ok 0 "$desc"
	else
		ok 1 "$desc (exit $RC)"
		sed 's/^/# /' "$WORK/err"
		ls -l "$QUEUE/hold" 2>&1 | sed 's/^/# /'
	fi
}

write_conf "pipeline = outbox" "[outbox]" "paht = /tmp/x"
submit78 "unknown key" "config error: $CONF:8: unknown key 'paht' in \[outbox\] (did you mean 'path'?)"
id=$(ls "$QUEUE/hold" | grep -v '\.env$')
check "held envelope is versioned, complete, names the recipient" \
    sh -c "head -n 1 '$QUEUE/hold/$id.env' | grep -qx 'plume-envelope 1' && grep -qx 'rcpt pending to@example.org - -' '$QUEUE/hold/$id.env' && tail -n 1 '$QUEUE/hold/$id.env' | grep -qx end"
check "held body is the message body" sh -c "tr -d '\r' < '$QUEUE/hold/$id' | grep -qx hi"

write_conf "pipeline = outbox, nosuch"
submit78 "unknown plugin" "config error: $CONF:6: \[nosuch\]: unknown plugin 'nosuch'"

write_conf "pipeline = outbox, logfile"
submit78 "missing required key" "missing required key 'path' in \[logfile\]"

write_conf "pipeline = outbox" "message_size_limit = huge"
submit78 "bad global value" "$CONF:7: .*message_size_limit"

write_conf "pipeline = logfile" "[logfile]" "path = $WORK/l"
submit78 "no transport in pipeline" "pipeline names no transport"

write_conf "pipeline = outbox, outbox"
submit78 "instance named twice" "pipeline names 'outbox' twice"

write_conf "pipeline = outbox:other"
submit78 "instance without its section" "no \[outbox \"other\"\] section"

write_conf "pipeline = outbox" "oops no equals"
submit78 "syntax error" "$CONF:7: "

run_sm "$WORK/msg" -C "$WORK/missing.conf" to@example.org
check "-C naming a missing file: 78 and a reason" \
    sh -c "[ $RC -eq 78 ] && grep -q 'missing.conf' '$WORK/err'"
# that message went to the compiled-in spool: take it out again
held=$(sed -n 's/.*message kept in \(.*\)$/\1/p' "$WORK/err")
if [ -n "$held" ] && [ -f "$held" ]; then
	rm -f "$held" "$held.env"
	rmdir "$(dirname "$held")" "$(dirname "$(dirname "$held")")/tmp" 2>/dev/null
fi

# a section nobody reaches does not stop mail
write_conf "pipeline = outbox" "[nosuchplugin]" "whatever = 1" "[logfile]" "bogus = 2"
run_sm "$WORK/msg" -C "$CONF" to@example.org
ok $RC "unreached sections never stop mail"
set +e
"$PLUME" -C "$CONF" config check > "$WORK/out" 2> "$WORK/err"
rc=$?
check "config check: unreached sections are warnings, exit 0" \
    sh -c "[ $rc -eq 0 ] && grep -q \"warning: $CONF:7: section \[nosuchplugin\] is not reached\" '$WORK/err' && grep -q \"warning: $CONF:10: unknown key 'bogus' in \[logfile\]\" '$WORK/err' && grep -q \"warning: $CONF:9: missing required key 'path'\" '$WORK/err'"

# include = conf.d/*.conf, relative to the including file, sorted
mkdir -p "$WORK/conf.d"
write_conf "pipeline = outbox, logfile" "include = conf.d/*.conf"
printf '[logfile]\npath = %s/inc.jsonl\n' "$WORK" > "$WORK/conf.d/50-logfile.conf"
printf '# nothing\n' > "$WORK/conf.d/10-empty.conf"
run_sm "$WORK/msg" -C "$CONF" to@example.org
check "include pulls in conf.d drop-ins" sh -c "[ $RC -eq 0 ] && grep -q delivered '$WORK/inc.jsonl'"

# config check prints the effective config with secrets masked
write_conf "pipeline = outbox, example" "[example]" "token = s3cr3t-value" "greeting = hi"
cp "$top_builddir"/plugins/example/.libs/example.so "$PLUGINS/"
"$PLUME" config check -C "$CONF" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "config check: exit 0, -C after the subcommand" test $rc -eq 0
check "config check: secret masked" sh -c "grep -qx 'token = \*\*\*\*\*\*\*\*' '$WORK/out' && ! grep -q s3cr3t '$WORK/out' '$WORK/err'"
check "config check: effective values and defaults" \
    sh -c "grep -qx 'greeting = hi' '$WORK/out' && grep -q '^syslog = no' '$WORK/out' && grep -q '^path = .*# default\\|^# path is not set' '$WORK/out' && grep -qx '\[example\]' '$WORK/out'"

write_conf "pipeline = outbox" "[outbox]" "paht = x"
"$PLUME" -C "$CONF" config check > "$WORK/out" 2> "$WORK/err"
check "config check: errors exit 78 with file:line" \
    sh -c "[ $? -eq 78 ] || true; grep -q \"error: $CONF:8: unknown key 'paht'\" '$WORK/err'"
"$PLUME" -C "$CONF" config check > /dev/null 2>&1
ok $([ $? -eq 78 ]; echo $?) "config check exit status 78 on errors"

# unsafe modes are warnings of config check
write_conf "pipeline = outbox, example" "[example]" "token = s3cr3t"
chmod 666 "$CONF"
"$PLUME" -C "$CONF" config check > /dev/null 2> "$WORK/err"
check "config check: a config others may write is a warning" \
    grep -q "warning: $CONF: writable by others (mode 0666)" "$WORK/err"
check "config check: secrets readable by others are a warning" \
    grep -q "warning: $CONF: holds secrets and is readable by others" "$WORK/err"
chmod 600 "$CONF"
