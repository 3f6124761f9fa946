#!/bin/sh
# import.sh - plume import msmtprc|ssmtp|dma: each fixture in
# tests/data/import (real configs from those projects' documentation,
# their sources noted at the top) converts to exactly the expected text,
# the result passes plume config check, no password of a fixture reaches
# stdout, --write-secrets writes mode 0600 files, a converted msmtprc
# sends through faultsmtp.py (STARTTLS, verified certificate, AUTH with
# the imported password), and the errors exit 66, 65 (file:line) and 64.
# Round trips: every fixture's converted config, its secrets supplied as
# the comments ask, sends through faultsmtp.py servers standing in for
# its relays, each message on the relay its route names, logged in with
# that relay's user (msmtp's accounts and ssmtp's revaliases mailhubs
# are routes by sender: three From addresses, three servers).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 42
DATA="$top_srcdir/tests/data/import"
PASSWORDS='secret123|ssmtp-Pa55word|dma-Pa55word|other-Pa55word'

# imp OUT ARGS...: plume import, run in the data directory (the header
# names the input as given); stdout to OUT, rc in RC, stderr in $WORK/err
imp() {
	_o=$1
	shift
	RC=0
	(cd "$DATA" && HOME=/home/test exec "$PLUME" import "$@") \
	    > "$_o" 2> "$WORK/err" || RC=$?
}
# conf_from FILE: the sandbox settings, then the converted config
conf_from() {
	{
		echo "queue_dir = $QUEUE"
		echo "plugin_dir = $PLUGINS"
		echo "syslog = no"
		cat "$1"
	} > "$CONF"
}

for f in msmtprc:msmtprc-user msmtprc:msmtprc-password \
    msmtprc:msmtprc-system ssmtp:ssmtp/ssmtp.conf \
    ssmtp:ssmtp-hubs/ssmtp.conf dma:dma; do
	kind=${f%%:*} in=${f#*:}
	out=$(echo "$in" | sed 's|/.*||; s|^ssmtp$|ssmtp|')
	imp "$WORK/$out.out" "$kind" "$in"
	if [ "$RC" -eq 0 ] && diff -u "$DATA/$out.out" "$WORK/$out.out" \
	    > "$WORK/diff" 2>&1; then
		ok 0 "import $kind $in: the expected config"
	else
		ok 1 "import $kind $in: the expected config"
		echo "# rc $RC"
		sed 's/^/# /' "$WORK/err" "$WORK/diff"
	fi
	conf_from "$WORK/$out.out"
	check "import $kind $in: passes plume config check" \
	    "$PLUME" -C "$CONF" config check
done

if cat "$WORK"/*.out | grep -Eq "$PASSWORDS"; then
	ok 1 "no password of a fixture on stdout"
	cat "$WORK"/*.out | grep -E "$PASSWORDS" | sed 's/^/# /'
else
	ok 0 "no password of a fixture on stdout"
fi
if grep -q 'password_file = /etc/plume/smtp.secret' "$WORK/ssmtp.out" &&
    grep -q 'create /etc/plume/smtp.secret (mode 0600)' "$WORK/ssmtp.out"
then ok 0 "the user is told which secret file to create"; else
	ok 1 "the user is told which secret file to create"; fi

# --write-secrets: files of mode 0600 holding the passwords, named in the
# config, announced on stderr, still nothing secret on stdout
S="$WORK/secrets"
imp "$WORK/ws-ssmtp" ssmtp --write-secrets "$S/ssmtp" ssmtp/ssmtp.conf
ok "$RC" "import ssmtp --write-secrets: exit 0"
f="$S/ssmtp/smtp.secret"
if [ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] &&
    [ "$(cat "$f")" = ssmtp-Pa55word ] &&
    grep -qx "password_file = $f" "$WORK/ws-ssmtp" &&
    grep -q "wrote $f (mode 0600)" "$WORK/err"; then
	ok 0 "ssmtp: AuthPass written mode 0600 and named in the config"
else
	ok 1 "ssmtp: AuthPass written mode 0600 and named in the config"
	ls -l "$S/ssmtp" 2>&1 | sed 's/^/# /'
	sed 's/^/# /' "$WORK/err"
fi
imp "$WORK/ws-dma" dma --write-secrets "$S/dma" dma
f="$S/dma/smtp.secret"
if [ "$RC" -eq 0 ] && [ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] &&
    [ "$(cat "$f")" = dma-Pa55word ] &&
    grep -qx "password_file = $f" "$WORK/ws-dma"; then
	ok 0 "dma: the smarthost's auth.conf password written mode 0600"
else
	ok 1 "dma: the smarthost's auth.conf password written mode 0600"
	sed 's/^/# /' "$WORK/err"
fi
imp "$WORK/ws-msmtp" msmtprc --write-secrets "$S/msmtp" msmtprc-password
if [ "$RC" -eq 0 ] && [ "$(stat -c %a "$S/msmtp/smtp.secret")" = 600 ] &&
    [ "$(cat "$S/msmtp/smtp-freemail2.secret")" = secret123 ] &&
    ! [ -e "$S/msmtp/smtp-isp.secret" ]; then
	ok 0 "msmtp: one secret file per account that has a password"
else
	ok 1 "msmtp: one secret file per account that has a password"
	ls -l "$S/msmtp" 2>&1 | sed 's/^/# /'
fi
if cat "$WORK"/ws-* | grep -Eq "$PASSWORDS"; then
	ok 1 "--write-secrets: no password on stdout"
else
	ok 0 "--write-secrets: no password on stdout"
fi
imp "$WORK/ws-again" ssmtp --write-secrets "$S/ssmtp" ssmtp/ssmtp.conf
if [ "$RC" -eq 73 ] && [ ! -s "$WORK/ws-again" ] &&
    [ "$(cat "$S/ssmtp/smtp.secret")" = ssmtp-Pa55word ] &&
    grep -q 'never replaces a secret file' "$WORK/err"; then
	ok 0 "an existing secret file is never replaced (exit 73)"
else
	ok 1 "an existing secret file is never replaced (exit 73)"
	echo "# rc $RC"
	sed 's/^/# /' "$WORK/err"
fi

# A converted config sends: STARTTLS with the certificate verified
# against tls_trust_file, AUTH with the imported password, the envelope
# sender from msmtp's from.
tls_material "$TLS_DIR"
fault_start ok --tls-cert "$TLS_DIR/server.pem" \
    --tls-key "$TLS_DIR/server.key" --auth
cat > "$WORK/relay.msmtprc" <<EOF
defaults
tls on
tls_trust_file $TLS_DIR/ca.pem
account relay
host 127.0.0.1
port $FAULT_PORT
auth plain
user user@example.test
password secret
from sender@example.org
account default : relay
EOF
RC=0
"$PLUME" import msmtprc --write-secrets "$WORK/relay-secrets" \
    "$WORK/relay.msmtprc" > "$WORK/relay.out" 2> "$WORK/err" || RC=$?
ok "$RC" "a test msmtprc converts"
conf_from "$WORK/relay.out"
printf 'From: sender@example.org\nSubject: imported\n\nhi\n' > "$WORK/msg"
run_sm "$WORK/msg" -C "$CONF" rcpt@example.net
if [ "$RC" -eq 0 ] && fault_wait 1 &&
    grep -q '^MAIL FROM:<sender@example.org>' \
    "$FAULT_DIR/env.1" &&
    grep -qx 'AUTH: user@example.test' "$FAULT_DIR/env.1" &&
    grep -q '^TLS: yes' "$FAULT_DIR/env.1"; then
	ok 0 "the converted config sends (STARTTLS, AUTH, sender_address)"
else
	ok 1 "the converted config sends (STARTTLS, AUTH, sender_address)"
	echo "# rc $RC"
	sed 's/^/# /' "$WORK/err" "$FAULT_DIR/env.1" 2>/dev/null
fi
fault_stop

# ---- Round trips: each fixture's converted config sends -----------------
# Each fixture is converted as a user would convert it: inline passwords
# written by --write-secrets, and the secret files the comments say to
# create made (in the sandbox, not /etc/plume).  Only then does the test
# point the result at local servers, because the fixtures' relays
# (smtp.freemail.example, ...) are not on this machine: in each [smtp]
# section, host becomes 127.0.0.1, port a faultsmtp server's, and
# tls_ca_file the test CA (the relays' certificates are not from a
# system CA here).  Nothing else in the converted config changes, so the
# routes (pipeline, match_from), TLS modes and logins are the importer's.

# rt KIND INPUT: convert INPUT into $RT.conf, secrets into $RT/secrets
rt() {
	RT=$WORK/rt-$(echo "$2" | sed 's|/.*||')
	mkdir -p "$RT"
	RC=0
	(cd "$DATA" && HOME=/home/test exec "$PLUME" import "$1" \
	    --write-secrets "$RT/secrets" "$2") > "$RT.conf" 2> "$WORK/err" ||
	    RC=$?
	RT_DIRS=
	[ "$RC" -eq 0 ] || {
		echo "# import $1 $2: rc $RC"
		sed 's/^/# /' "$WORK/err"
	}
}
# supply NAME PASSWORD: the secret file the comments ask for,
# /etc/plume/NAME, made as $RT/NAME (mode 0600) and named by password_file
supply() {
	grep -q "create /etc/plume/$1 (mode 0600)" "$RT.conf" || {
		echo "# $RT.conf does not ask for /etc/plume/$1"
		return 1
	}
	printf '%s\n' "$2" > "$RT/$1" && chmod 600 "$RT/$1" &&
	    sed -i "s|^password_file = /etc/plume/$1\$|password_file = $RT/$1|" \
	    "$RT.conf"
}
# serve VAR [OPTIONS...]: a faultsmtp relay with TLS and AUTH; its
# directory in $VAR, its port in $VAR_port
serve() {
	_v=$1
	shift
	fault_start ok --tls-cert "$TLS_DIR/server.pem" \
	    --tls-key "$TLS_DIR/server.key" --auth "$@" || return 1
	eval "$_v=\$FAULT_DIR ${_v}_port=\$FAULT_PORT"
	RT_DIRS="$RT_DIRS $FAULT_DIR"
}
# point SECTION PORT: the one change per section (see above); SECTION as
# written between the brackets: smtp, or smtp "isp"
point() {
	sed -i "/^\\[$1\\]\$/,/^\\[/ {
		/^tls_ca_file = /d
		s|^host = .*|host = 127.0.0.1|
		s|^port = .*|port = $2\\
tls_ca_file = $TLS_DIR/ca.pem|
	}" "$RT.conf"
}
# send [-f FROM]: a message (From: FROM) through the converted config
send() {
	conf_from "$RT.conf"
	printf 'From: %s\nSubject: round trip\n\nhi\n' "${2:-me@example.org}" \
	    > "$WORK/msg"
	run_sm "$WORK/msg" -C "$CONF" "$@" rcpt@example.net
	[ "$RC" -eq 0 ] || {
		echo "# sendmail $*: rc $RC"
		sed 's/^/# /' "$WORK/err"
	}
}
# landed DIR USER FROM: the message with envelope sender FROM is on the
# server in DIR and on no other of this round trip, came over TLS, and
# logged in as USER ("-": no AUTH)
landed() {
	_h=$(for _d in $RT_DIRS; do
		grep -l "^MAIL FROM:<$3>" "$_d"/env.* 2>/dev/null
	done)
	if [ -n "$_h" ] && [ "$(echo "$_h" | wc -l)" -eq 1 ] &&
	    [ "$(dirname "$_h")" = "$1" ] && grep -qx "AUTH: $2" "$_h" &&
	    grep -q '^TLS: yes' "$_h"; then
		return 0
	fi
	echo "$3: found in: ${_h:-nowhere}"
	[ -z "$_h" ] || sed 's/^/  /' $_h
	return 1
}
stop_all() {	# the servers of this round trip
	for _p in $_smtp_fault_pids; do
		FAULT_PID=$_p
		fault_stop
	done
}

# msmtp_routes FIXTURE PASSWORD: msmtprc-user's and msmtprc-password's
# three accounts (freemail, the default; freemail2; isp, whose password
# file the user creates), each relay a server of its own, and a message
# from each account's from: each on its account's server, as its user.
msmtp_routes() {
	supply smtp-isp.secret isp-Pa55word
	serve A --users "joe.smith:$2"
	serve B --users "joe.smith:$2"
	serve C --users 12345:isp-Pa55word
	point smtp "$A_port"
	point 'smtp "freemail2"' "$B_port"
	point 'smtp "isp"' "$C_port"
	for f in joey@freemail.example smithjoe@isp.example \
	    joe_smith@freemail.example; do
		send -f "$f"
	done
	check "$1: joe_smith@ through the default account, freemail" \
	    landed "$A" joe.smith joe_smith@freemail.example
	check "$1: joey@ through freemail2 (its match_from)" \
	    landed "$B" joe.smith joey@freemail.example
	check "$1: smithjoe@isp.example through isp, as 12345" \
	    landed "$C" 12345 smithjoe@isp.example
	stop_all
}

# msmtprc-user: freemail and freemail2 take their password from "gpg2
# --no-tty -q -d ~/.msmtp-password.gpg", run by sh -c; a gpg2 stand-in
# on PATH prints that file when it gets exactly those words, ~ expanded
# from HOME.
rt msmtprc msmtprc-user
mkdir -p "$RT/home" "$RT/bin"
printf 'gpg-Pa55word\n' > "$RT/home/.msmtp-password.gpg"
printf '#!/bin/sh\n[ "$*" = "--no-tty -q -d %s" ] || exit 2\nexec cat "$4"\n' \
    "$RT/home/.msmtp-password.gpg" > "$RT/bin/gpg2"
chmod 755 "$RT/bin/gpg2"
saved_home=$HOME saved_path=$PATH
HOME=$RT/home PATH=$RT/bin:$PATH
msmtp_routes msmtprc-user gpg-Pa55word
HOME=$saved_home PATH=$saved_path

# msmtprc-password: the inline password written by --write-secrets
rt msmtprc msmtprc-password
msmtp_routes msmtprc-password secret123

# msmtprc-system: one account, TLS on port 465 (implicit), no login
rt msmtprc msmtprc-system
serve A --implicit-tls
point smtp "$A_port"
send -f cron@oursite.example
check "msmtprc-system: implicit TLS, no AUTH" \
    landed "$A" - cron@oursite.example
stop_all

# ssmtp: a cron job's mail, no -f: revaliases' root line is the sender
rt ssmtp ssmtp/ssmtp.conf
serve A --users joe@example.org:ssmtp-Pa55word
point smtp "$A_port"
send
check "ssmtp: STARTTLS, AuthUser, the sender from revaliases" \
    landed "$A" joe@example.org joe@example.org
stop_all

# ssmtp-hubs: revaliases sends ann's and bob's mail through mailhubs of
# their own, with ssmtp.conf's AuthUser and AuthPass
rt ssmtp ssmtp-hubs/ssmtp.conf
serve A --users joe@example.org:ssmtp-Pa55word
serve B --users joe@example.org:ssmtp-Pa55word
serve C --users joe@example.org:ssmtp-Pa55word
point smtp "$A_port"
point 'smtp "smtp.example.net"' "$B_port"
point 'smtp "mx.example.com"' "$C_port"
send -f ann@lists.example.net
send -f ann@example.org
send -f bob@example.com
send -f www-data@example.org
check "ssmtp-hubs: ann@lists.example.net through ann's mailhub" \
    landed "$B" joe@example.org ann@lists.example.net
check "ssmtp-hubs: ann@example.org (ann's own sender) through it too" \
    landed "$B" joe@example.org ann@example.org
check "ssmtp-hubs: bob@example.com through bob's mailhub (port 25)" \
    landed "$C" joe@example.org bob@example.com
check "ssmtp-hubs: any other sender through ssmtp.conf's mailhub" \
    landed "$A" joe@example.org www-data@example.org
stop_all

# dma: the smarthost, with auth.conf's login for it; MASQUERADE makes
# every envelope sender herb@example.net, the caller's -f too
rt dma dma
serve A --users herb:dma-Pa55word
point smtp "$A_port"
send -f someone@example.net
check "dma: STARTTLS, auth.conf's login, MASQUERADE's sender" \
    landed "$A" herb herb@example.net
stop_all

# Errors: 66 missing, 65 unparseable with file:line, 64 usage; nothing
# on stdout for any of them.
imp "$WORK/e" msmtprc no-such-file
if [ "$RC" -eq 66 ] && [ ! -s "$WORK/e" ] &&
    grep -q 'no-such-file: No such file' "$WORK/err"; then
	ok 0 "a missing file: exit 66"
else ok 1 "a missing file: exit 66"; echo "# rc $RC"; fi
imp "$WORK/e" dma no-such-dir
if [ "$RC" -eq 66 ] && grep -q 'no-such-dir/dma.conf' "$WORK/err"
then ok 0 "a missing dma directory: exit 66"; else
	ok 1 "a missing dma directory: exit 66"; echo "# rc $RC"; fi
mkdir -p "$WORK/bad"
printf 'account a\nhost h\n<html>garbage</html>\n' > "$WORK/bad/msmtprc"
printf 'mailhub=h\nnot a setting\n' > "$WORK/bad/ssmtp.conf"
mkdir -p "$WORK/bad/dma"
printf 'SMARTHOST h\n\nSTARTTLS yes\n' > "$WORK/bad/dma/dma.conf"
printf 'account a\nport 25\n' > "$WORK/bad/nohost"
for c in "msmtprc $WORK/bad/msmtprc:3:" "ssmtp $WORK/bad/ssmtp.conf:2:" \
    "dma $WORK/bad/dma/dma.conf:3:" "msmtprc $WORK/bad/nohost:1:"; do
	set -- $c
	in=${2%%:*}
	[ "$1" = dma ] && in=${in%/dma.conf}
	imp "$WORK/e" "$1" "$in"
	if [ "$RC" -eq 65 ] && [ ! -s "$WORK/e" ] &&
	    grep -q "$2 .*expected" "$WORK/err"; then
		ok 0 "unparseable $1 input: exit 65 with $(basename "$2")"
	else
		ok 1 "unparseable $1 input: exit 65 with $(basename "$2")"
		echo "# rc $RC"
		sed 's/^/# /' "$WORK/err"
	fi
done
imp "$WORK/e" postfix
if [ "$RC" -eq 64 ]; then ok 0 "an unknown kind: exit 64"; else
	ok 1 "an unknown kind: exit 64"; echo "# rc $RC"; fi

exit $((FAILED > 0))
