#!/bin/sh
# intake.sh - real messages through the built binary into the outbox,
# compared byte for byte: LF, CRLF, mixed and bare-CR line ends, lone
# dots, 8-bit, empty, header-only, long lines, 100 MB with flat memory.
. "$top_srcdir/tests/integration/lib.sh"

plan 27
write_conf "pipeline = outbox"

HDR='From: Alice <alice@example.org>
To: bob@example.org
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <fixed@example.org>
Subject: test
'

# deliver INPUT-FILE WANT-FILE DESC [sendmail args]: the outbox file below
# plume's trace fields must equal WANT-FILE exactly
deliver() {
	in=$1 want=$2 desc=$3
	shift 3
	rm -rf "$QUEUE/outbox"
	run_sm "$in" -C "$CONF" "$@"
	got="$WORK/got"
	f=$(outbox_last)
	if [ "$RC" -ne 0 ] || [ -z "$f" ]; then
		ok 1 "$desc (exit $RC)"
		sed 's/^/# /' "$WORK/err"
		return
	fi
	strip_trace "$f" > "$got"
	if cmp -s "$got" "$want"; then ok 0 "$desc"; else
		ok 1 "$desc"
		diff "$want" "$got" | od -c | head -n 20 | sed 's/^/# /'
	fi
}

crlf() { sed 's/$/\r/'; }

# 1-2: LF input and CRLF input give the same canonical CRLF message
printf '%s\nbody line 1\nbody line 2\n' "$HDR" > "$WORK/lf.in"
crlf < "$WORK/lf.in" > "$WORK/lf.want"
deliver "$WORK/lf.in" "$WORK/lf.want" "LF input becomes CRLF" bob@example.org
deliver "$WORK/lf.want" "$WORK/lf.want" "CRLF input is kept" bob@example.org

# 3: mixed and bare CR: every line end becomes CRLF
printf '%s\na\r\nb\nc\rd\r\n' "$HDR" > "$WORK/mixed.in"
{ printf '%s\n' "$HDR" | crlf; printf 'a\r\nb\r\nc\r\nd\r\n'; } > "$WORK/mixed.want"
deliver "$WORK/mixed.in" "$WORK/mixed.want" "mixed and bare CR line ends" bob@example.org

# 4: a bare CR cannot smuggle an SMTP end of data
printf '%s\nx\r.\rMAIL FROM:<evil@example.org>\n' "$HDR" > "$WORK/smuggle.in"
{ printf '%s\n' "$HDR" | crlf; printf 'x\r\n.\r\nMAIL FROM:<evil@example.org>\r\n'; } > "$WORK/smuggle.want"
deliver "$WORK/smuggle.in" "$WORK/smuggle.want" "bare CR around a dot is two lines, with -i" -i bob@example.org

# 5: without -i a lone dot ends the message
printf '%s\nbefore\n.\nafter\n' "$HDR" > "$WORK/dot.in"
{ printf '%s\n' "$HDR" | crlf; printf 'before\r\n'; } > "$WORK/dot.want"
deliver "$WORK/dot.in" "$WORK/dot.want" "lone dot ends the message without -i" bob@example.org

# 6: with -i (and -oi) it is data
{ printf '%s\n' "$HDR" | crlf; printf 'before\r\n.\r\nafter\r\n'; } > "$WORK/doti.want"
deliver "$WORK/dot.in" "$WORK/doti.want" "lone dot is data with -i" -i bob@example.org
deliver "$WORK/dot.in" "$WORK/doti.want" "lone dot is data with -oi" -oi bob@example.org

# 8: Sendmail 8's unstuffing without -i (Symfony's -t mode)
printf '%s\n..leading\n...\nnot.first\n' "$HDR" > "$WORK/stuff.in"
{ printf '%s\n' "$HDR" | crlf; printf '.leading\r\n..\r\nnot.first\r\n'; } > "$WORK/stuff.want"
deliver "$WORK/stuff.in" "$WORK/stuff.want" "leading .. becomes . without -i" bob@example.org
{ printf '%s\n' "$HDR" | crlf; printf '..leading\r\n...\r\nnot.first\r\n'; } > "$WORK/stuffi.want"
deliver "$WORK/stuff.in" "$WORK/stuffi.want" "dots untouched with -i" -i bob@example.org

# 10: 8-bit body and raw UTF-8 header kept byte for byte
printf 'Subject: Gr\303\274\303\237e \342\234\223 \346\227\245\346\234\254\nFrom: a@example.org\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <u@example.org>\n\n\303\244\303\266\303\274 \342\202\254\n\377\376 raw bytes\n' > "$WORK/8bit.in"
crlf < "$WORK/8bit.in" > "$WORK/8bit.want"
deliver "$WORK/8bit.in" "$WORK/8bit.want" "8-bit body and UTF-8 header" bob@example.org

# 11: a 1 MB line
{ printf '%s\n' "$HDR"; head -c 1048576 /dev/zero | tr '\0' 'x'; printf '\n'; } > "$WORK/long.in"
crlf < "$WORK/long.in" > "$WORK/long.want"
deliver "$WORK/long.in" "$WORK/long.want" "a 1 MB line" bob@example.org

# 12: header-only message gets an empty body
printf '%s' "$HDR" > "$WORK/ho.in"
{ printf '%s' "$HDR" | crlf; printf '\r\n'; } > "$WORK/ho.want"
deliver "$WORK/ho.in" "$WORK/ho.want" "header-only message" bob@example.org

# 13-15: empty message: generated From, Date, Message-ID, nothing else
rm -rf "$QUEUE/outbox"
run_sm /dev/null -C "$CONF" -f sender@example.org bob@example.org
f=$(outbox_last)
ok $RC "empty message accepted"
check "empty message has generated From, Date, Message-ID" \
    sh -c "grep -q '^From: sender@example.org.$' '$f' && grep -q '^Date: ' '$f' && grep -q '^Message-ID: <.*@test.example.org>.$' '$f'"
check "empty message ends with the empty line" \
    sh -c "tail -c 4 '$f' | od -c | grep -q '\\\\r  \\\\n  \\\\r  \\\\n'"

# 16-18: envelope recorded; Bcc removed; -t union with argv
rm -rf "$QUEUE/outbox"
printf 'From: a@example.org\nTo: "Doe, John" <john@example.org>\nCc: team: c1@example.org, c2@example.org;\nBcc: secret@example.org\nSubject: t\n\nhi\n' > "$WORK/t.in"
run_sm "$WORK/t.in" -C "$CONF" -t -f bounce@example.org argv@example.net
f=$(outbox_last)
ok $RC "-t with command-line recipient"
check "envelope: Return-Path and one Envelope-To per recipient" \
    sh -c "head -n 6 '$f' | tr -d '\r' > '$WORK/env' && printf 'Return-Path: <bounce@example.org>\nEnvelope-To: <argv@example.net>\nEnvelope-To: <john@example.org>\nEnvelope-To: <c1@example.org>\nEnvelope-To: <c2@example.org>\nEnvelope-To: <secret@example.org>\n' | cmp -s - '$WORK/env'"
check "Bcc header removed" sh -c "! grep -qi '^Bcc:' '$f'"

# 19: Bcc removed without -t too (nodemailer)
rm -rf "$QUEUE/outbox"
run_sm "$WORK/t.in" -C "$CONF" -i -f a@example.org to@example.org
f=$(outbox_last)
check "Bcc removed without -t" sh -c "[ $RC -eq 0 ] && ! grep -qi '^Bcc:' '$f' && grep -c '^Envelope-To:' '$f' | grep -qx 1"

# 20: Received names plume and the user
check "Received field names plume and uid" \
    sh -c "sed -n 3,4p '$f' | tr -d '\r' | grep -q '^Received: by test.example.org (plume .*, from userid $(id -u) ($(id -un)))' "

# 21: closed stderr: a log line can never land in the spool
# (not under valgrind, which needs a stderr of its own)
if [ -z "${PLUME_VALGRIND:-}" ]; then
	rm -rf "$QUEUE/outbox"
	"$SENDMAIL" -C "$CONF" -v bob@example.org < "$WORK/lf.in" 2>&-
	rc=$?
	f=$(outbox_last)
	check "closed stderr: delivered and no log text in the message" \
	    sh -c "[ $rc -eq 0 ] && [ -n '$f' ] && ! grep -q 'plume:\\|to=<' '$f'"

else
	T=$((T + 1)); echo "ok $T # SKIP under valgrind"
fi

# 22: closed stdin is an empty message, not a hang or a crash
rm -rf "$QUEUE/outbox"
"$SENDMAIL" -C "$CONF" bob@example.org <&- >/dev/null 2>&1
ok $? "closed stdin is an empty message"

# 23: the spool is cleaned up
check "no spool file left in tmp/" sh -c "[ -z \"\$(ls '$QUEUE/tmp')\" ]"

# 24-27: 100 MB message, byte for byte, with flat memory
if [ -x /usr/bin/time ] && [ -z "${PLUME_VALGRIND:-}" ]; then
	printf '%s\n' "$HDR" > "$WORK/small.in"
	head -c 2048 /dev/urandom | base64 >> "$WORK/small.in"
	rm -rf "$QUEUE/outbox"
	/usr/bin/time -f %M -o "$WORK/rss.small" "$SENDMAIL" -C "$CONF" -i \
	    bob@example.org < "$WORK/small.in"
	printf '%s\n' "$HDR" > "$WORK/big.in"
	head -c 76000000 /dev/urandom | base64 >> "$WORK/big.in"
	rm -rf "$QUEUE/outbox"
	/usr/bin/time -f %M -o "$WORK/rss.big" "$SENDMAIL" -C "$CONF" -i \
	    bob@example.org < "$WORK/big.in"
	ok $? "100 MB message accepted"
	f=$(outbox_last)
	size=$(wc -c < "$WORK/big.in")
	diag "input $size bytes; peak RSS 2 KB: $(cat "$WORK/rss.small") KiB, 100 MB: $(cat "$WORK/rss.big") KiB"
	awk 'f { print } !f && /^$/ { f = 1 }' "$WORK/big.in" | crlf > "$WORK/big.want"
	awk 'f { print } !f && /^\r$/ { f = 1 }' "$f" > "$WORK/big.got"
	check "100 MB body identical (CRLF)" cmp "$WORK/big.want" "$WORK/big.got"
	rm -f "$WORK/big.want" "$WORK/big.got"
	check "peak RSS for 100 MB within 4 MiB of a 2 KB message" \
	    test $(( $(cat "$WORK/rss.big") - $(cat "$WORK/rss.small") )) -lt 4096
	check "peak RSS for 100 MB under 16 MiB" test "$(cat "$WORK/rss.big")" -lt 16384
	rm -f "$WORK/big.in" "$f"
else
	for i in 1 2 3 4; do T=$((T + 1)); echo "ok $T # SKIP needs /usr/bin/time, not under valgrind"; done
fi
