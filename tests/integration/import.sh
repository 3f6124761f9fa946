#!/bin/sh
# import.sh - plume import msmtprc|ssmtp|dma: each fixture in
# tests/data/import (real configs from those projects' documentation,
# their sources noted at the top) converts to exactly the expected text,
# the result passes plume config check, no password of a fixture reaches
# stdout, --write-secrets writes mode 0600 files, a converted msmtprc
# sends through faultsmtp.py (STARTTLS, verified certificate, AUTH with
# the imported password), and the errors exit 66, 65 (file:line) and 64.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 29
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
