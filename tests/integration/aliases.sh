#!/bin/sh
# aliases.sh - sendmail-format aliases for local recipients: lists,
# continuation lines, :include:, recursion and loops, catch-alls, program
# and file targets never run, local_domains, and newaliases as a checker.
. "$top_srcdir/tests/integration/lib.sh"

plan 14
printf '%s\n' "root" "# a comment" "carol@example.org" > "$WORK/list"
chmod 644 "$WORK/list"
cat > "$WORK/aliases" <<ALIASES
# the system's aliases
postmaster: root
root: admin@example.net, localcopy
localcopy: alice
team: alice,
	bob@example.org
abuse: root
web: "|/usr/bin/procmail -d web", /var/mail/web
loop1: loop2
loop2: loop1
self: self, other
inc: :include:$WORK/list
ALIASES
printf 'From: cron@example.org\nSubject: alias\n\nhi\n' > "$WORK/msg"
conf() { write_conf "pipeline = outbox" "aliases = $WORK/aliases" "$@"; }
# envelope: the Envelope-To addresses of the newest outbox file
envelope() {
	f=$(outbox_last)
	[ -n "$f" ] && grep '^Envelope-To:' "$f" | tr -d '\r' |
	    sed 's/^Envelope-To: //' | tr '\n' ' '
}
send() { rm -rf "$QUEUE/outbox"; run_sm "$WORK/msg" -C "$CONF" "$@"; }
is() {	# is DESC WANT: the envelope of the last message is WANT
	got=$(envelope)
	if [ "$got" = "$2" ]; then ok 0 "$1"; else
		ok 1 "$1"
		echo "# got: $got"
		sed 's/^/# /' "$WORK/err"
	fi
}

conf
send postmaster
is "a chain: postmaster -> root -> admin@example.net + localcopy -> alice" \
    "<admin@example.net> <alice@example.org> "
send team
is "a list on a continuation line" "<alice@example.org> <bob@example.org> "
send nobody
is "a local name without an alias: qualified, delivered as it is" \
    "<nobody@example.org> "
send root@elsewhere.example
is "a remote address is never aliased" "<root@elsewhere.example> "
send self
is "an alias that names itself delivers to itself once" \
    "<self@example.org> <other@example.org> "
send inc
is ":include: a root-owned file" \
    "<admin@example.net> <alice@example.org> <carol@example.org> "

send web
check "program and file targets are never run: refused without default_recipient" \
    sh -c "[ $RC -eq 67 ] && grep -q 'program or a file, which plume never runs' '$WORK/err'"
send loop1
check "an alias loop is refused, not followed forever" \
    sh -c "[ $RC -eq 67 ] && grep -q 'alias loop' '$WORK/err'"
chmod 666 "$WORK/list"
send inc
check ":include: of a file others may write is refused" \
    sh -c "[ $RC -eq 67 ] && grep -q 'owned by root and writable only by root' '$WORK/err'"
chmod 644 "$WORK/list"

conf "default_recipient = catchall@example.net"
send nobody web
is "default_recipient takes unknown local names and program/file targets" \
    "<catchall@example.net> "
conf "local_domains = example.org"
send abuse@example.org
is "local_domains: their recipients go through the aliases" \
    "<admin@example.net> <alice@example.org> "

conf
"$WORK/bin/newaliases" -C "$CONF" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "newaliases checks the file: exit 0, the count, a warning for the program target" \
    sh -c "[ $rc -eq 0 ] && grep -q ': 10 aliases' '$WORK/out' && grep -q 'warning: $WORK/aliases:8: alias \"web\": plume never runs programs' '$WORK/err'"
printf 'good: a@example.org\nno colon here\n\tstray@example.org\n' > "$WORK/bad"
write_conf "pipeline = outbox" "aliases = $WORK/bad"
"$WORK/bin/newaliases" -C "$CONF" > "$WORK/out" 2> "$WORK/err"
rc=$?
check "newaliases: syntax errors with file:line, exit 65" \
    sh -c "[ $rc -eq 65 ] && grep -q 'error: $WORK/bad:2: expected \"name: target, ...\"' '$WORK/err'"
write_conf "pipeline = outbox"
"$WORK/bin/newaliases" -C "$CONF" > "$WORK/out" 2>&1
rc=$?
check "newaliases without an aliases file: exit 0 (Debian's scripts call it)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'no aliases file is configured' '$WORK/out'"
