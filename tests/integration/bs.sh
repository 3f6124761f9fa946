#!/bin/sh
# bs.sh - sendmail -bs: SMTP on standard input and output, as Symfony
# Mailer and Laravel speak it: pipelined commands, several messages,
# per-message results, dot-unstuffing, garbage, long lines, an
# oversized message, a client that hangs up in the middle.
. "$top_srcdir/tests/integration/lib.sh"

plan 12
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"
write_conf "pipeline = outbox" "message_size_limit = 2k"

# dialogue FILE: feed FILE to sendmail -bs, replies in $WORK/replies
dialogue() {
	"$SENDMAIL" -C "$CONF" -bs < "$1" > "$WORK/replies" 2> "$WORK/err"
	RC=$?
}
crlf() { sed 's/$/\r/'; }

crlf > "$WORK/d1" <<'SMTP'
EHLO client.example.org
MAIL FROM:<sender@example.org>
RCPT TO:<one@example.org>
RCPT TO:<two@example.org>
DATA
From: sender@example.org
Subject: over -bs

..a dot-stuffed line
body
.
MAIL FROM:<>
RCPT TO:<three@example.org>
DATA
Subject: second

second message
.
QUIT
SMTP
dialogue "$WORK/d1"
check "pipelined dialogue: greeting, EHLO with PIPELINING, 8BITMIME, SIZE, ENHANCEDSTATUSCODES" \
    sh -c "[ $RC -eq 0 ] && head -n 1 '$WORK/replies' | grep -q '^220 ' && grep -q '^250-PIPELINING' '$WORK/replies' && grep -q '^250-SIZE 2048' '$WORK/replies' && grep -q '^250 ENHANCEDSTATUSCODES' '$WORK/replies'"
check "two messages accepted, 250 with the queue id, then 221" \
    sh -c "[ \$(grep -c '^250 2.0.0 Ok: queued as [0-9A-F]*' '$WORK/replies') -eq 2 ] && tail -n 1 '$WORK/replies' | grep -q '^221 '"
check "every reply ends in CRLF, and nothing but replies on stdout" \
    sh -c "! grep -qv \"\$(printf '\\r')\$\" '$WORK/replies' && ! grep -qv '^[2-5][0-9][0-9][ -]' '$WORK/replies'"
f=$(ls "$QUEUE/outbox/new" | head -n 1)
check "the first message: envelope from MAIL and RCPT, dot-unstuffed" \
    sh -c "grep -q 'Envelope-To: <one@example.org>' '$QUEUE/outbox/new/'* && grep -q 'Envelope-To: <two@example.org>' '$QUEUE/outbox/new/'* && grep -q \"^\\.a dot-stuffed line\$(printf '\\r')\$\" '$QUEUE/outbox/new/'*"
check "the second message from <>" \
    sh -c "grep -l 'Subject: second' '$QUEUE/outbox/new/'* | xargs grep -q '^Return-Path: <>'"

crlf > "$WORK/d2" <<'SMTP'
HELO x
RCPT TO:<a@example.org>
MAIL FROM:<bad address@example.org>
MAIL FROM:<s@example.org>
DATA
frobnicate
RSET
NOOP
VRFY root
QUIT
SMTP
dialogue "$WORK/d2"
check "sequence errors, bad syntax and unknown commands get their codes" \
    sh -c "sed -n 2,8p '$WORK/replies' | cut -c1-3 | tr '\n' ' ' | grep -qx '250 503 553 250 503 502 250 '"
check "NOOP, VRFY (252) and QUIT after them" \
    sh -c "sed -n 9,11p '$WORK/replies' | cut -c1-3 | tr '\n' ' ' | grep -qx '250 252 221 '"

{ printf 'EHLO x\r\n'; head -c 3000 /dev/zero | tr '\0' 'A'; printf '\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.org>\r\nDATA\r\n'
  head -c 4000 /dev/zero | tr '\0' 'B' | fold -w 70 | sed 's/$/\r/'; printf '.\r\nNOOP\r\nQUIT\r\n'; } > "$WORK/d3"
n0=$(ls "$QUEUE/outbox/new" | wc -l)
dialogue "$WORK/d3"
check "an overlong command line: 500 5.5.6, and the session goes on" grep -q '^500 5.5.6' "$WORK/replies"
check "a message over message_size_limit: 552 5.3.4, nothing kept, the session goes on" \
    sh -c "grep -q '^552 5.3.4' '$WORK/replies' && [ \$(ls '$QUEUE/outbox/new' | wc -l) -eq $n0 ] && tail -n 2 '$WORK/replies' | head -n 1 | tr -d '\r' | grep -qx '250 2.0.0 Ok'"

printf 'EHLO x\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.org>\r\nDATA\r\nSubject: cut\r\n\r\nhalf a mess' > "$WORK/d4"
dialogue "$WORK/d4"
check "a client that hangs up during DATA: nothing accepted, no 250 for it" \
    sh -c "[ $RC -eq 0 ] && [ \$(ls '$QUEUE/outbox/new' | wc -l) -eq $n0 ] && ! grep -q 'queued as' '$WORK/replies'"

# results from the transport come back as SMTP replies
write_conf "pipeline = testplug" "[testplug]" "path = $WORK/sent"
crlf > "$WORK/d5" <<'SMTP'
EHLO x
MAIL FROM:<s@example.org>
RCPT TO:<unknown@example.org>
DATA
Subject: refused

x
.
MAIL FROM:<s@example.org>
RCPT TO:<ok@example.org>
RCPT TO:<later@example.org>
DATA
Subject: partly

y
.
QUIT
SMTP
dialogue "$WORK/d5"
check "every recipient refused: 550 5.1.1 with the server's words, after DATA" \
    grep -q '^550 5.1.1 refused: <unknown@example.org>: 550 5.1.1 no such user here' "$WORK/replies"
check "one delivered, one deferred: 250 (the rest is queued)" \
    sh -c "[ \$(grep -c '^250 2.0.0 Ok: queued as' '$WORK/replies') -eq 1 ] && grep -qx 'RCPT ok@example.org' '$WORK/sent'"
