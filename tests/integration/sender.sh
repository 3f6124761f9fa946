#!/bin/sh
# sender.sh - the envelope sender and From field for relays that accept
# one sender: envelope_from (always|allowed|never), allowed_senders,
# sender_address and from_rewrite (keep|always|unqualified).
. "$top_srcdir/tests/integration/lib.sh"

plan 11
printf 'From: "Web App" <app@example.org>\nSubject: s\n\nhi\n' > "$WORK/msg"
printf 'From: www-data\nSubject: s\n\nhi\n' > "$WORK/bare"
conf() { write_conf "pipeline = outbox" "$@"; }
send() { in=$1; shift; rm -rf "$QUEUE/outbox"; run_sm "$in" -C "$CONF" "$@"; }
# field NAME: the value of the first NAME field of the delivered message
field() {
	f=$(outbox_last)
	[ -n "$f" ] && tr -d '\r' < "$f" | sed -n "s/^$1: //p" | head -n 1
}
is() {	# is DESC NAME WANT
	got=$(field "$2")
	if [ "$RC" -eq 0 ] && [ "$got" = "$3" ]; then ok 0 "$1"; else
		ok 1 "$1"
		echo "# rc $RC, $2: $got"
		sed 's/^/# /' "$WORK/err"
	fi
}

conf
send "$WORK/msg" -f bounce@other.example rcpt@example.net
is "envelope_from = always (default): -f is the envelope sender" \
    Return-Path "<bounce@other.example>"
is "from_rewrite = keep (default): From is untouched" \
    From '"Web App" <app@example.org>'

conf "envelope_from = never" "sender_address = relay@example.org"
send "$WORK/msg" -v -f bounce@other.example rcpt@example.net
is "envelope_from = never: -f is replaced by sender_address" \
    Return-Path "<relay@example.org>"
if grep -q 'not used (envelope_from)' "$WORK/err"; then ok 0 \
    "the ignored -f is logged"; else ok 1 "the ignored -f is logged"; fi

conf "envelope_from = never"
send "$WORK/msg" -f bounce@other.example rcpt@example.net
is "envelope_from = never without sender_address: the user at domain" \
    Return-Path "<$(id -un)@example.org>"

conf "envelope_from = allowed" "sender_address = relay@example.org" \
    "allowed_senders = boss@example.com, *@example.net, *@*.example.org"
send "$WORK/msg" -f Boss@Example.COM rcpt@example.net
is "allowed: an exact address matches, case-insensitively" \
    Return-Path "<Boss@Example.COM>"
send "$WORK/msg" -f anyone@example.net rcpt@example.net
is "allowed: *@domain matches the domain" Return-Path "<anyone@example.net>"
send "$WORK/msg" -f a@mail.example.org rcpt@example.net
is "allowed: *@*.domain matches a subdomain" \
    Return-Path "<a@mail.example.org>"
send "$WORK/msg" -f a@example.org rcpt@example.net
is "allowed: *@*.domain does not match the domain itself" \
    Return-Path "<relay@example.org>"

conf "envelope_from = never" "sender_address = relay@example.org" \
    "from_rewrite = always"
send "$WORK/msg" rcpt@example.net
is "from_rewrite = always: the address is replaced, the display name kept" \
    From 'Web App <relay@example.org>'

conf "from_rewrite = unqualified"
send "$WORK/bare" -f app@example.org rcpt@example.net
a=$(field From)
send "$WORK/msg" -f app2@example.org rcpt@example.net
b=$(field From)
if [ "$a" = "app@example.org" ] && [ "$b" = '"Web App" <app@example.org>' ]
then ok 0 "from_rewrite = unqualified: only a bare local name is rewritten"
else
	ok 1 "from_rewrite = unqualified: only a bare local name is rewritten"
	echo "# got: $a / $b"
fi
