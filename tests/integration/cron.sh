#!/bin/sh
# cron.sh - the callers that hard-code /usr/sbin/sendmail, run for real
# against the built plume, delivering through its smtp transport to a real
# SMTP server the test starts on 127.0.0.1 (faultsmtp.py, scenario "ok"):
# Debian's cron daemon mailing three jobs' output (root's, 8-bit with lone
# dots; nobody's, failing, with MAILFROM; root's to a recipient the relay
# refuses) and bsd-mailx's mail(1) with -s, -c and -b, then to a refused
# recipient.  What the server received is checked: the exact argv each
# caller used and the exit codes, the envelope as the server recorded it
# (MAIL FROM, one RCPT TO per To/Cc/Bcc recipient), From/To/Subject, no
# Bcc field, cron's "Cron Daemon" name and X-Cron-Env fields, Date and
# Message-ID, the body byte for byte after the server undid the
# dot-stuffing; and that mail(1) reports a failing sendmail.
#
# Refused recipients.  The server answers 550 5.1.1 to RCPT for any local
# part starting "bad" (in every scenario).  mail(1) runs sendmail -i -t:
# plume exits 67 (EX_NOUSER) or 69, mail(1) says "sendmail process failed"
# and exits non-zero, nothing arrives and nothing waits in plume's queue.
# cron runs sendmail with -oem, which asks for errors by mail, as
# Sendmail does: plume exits 0 and the relay receives a delivery report
# from <> to the job's owner, root@example.org.  That report is the only
# failure cron's user can see: cron itself logs the MTA's status ("mailed
# N bytes of output but got status 0x.. from MTA") only when it is
# non-zero, which -oem rules out here, and only through syslog(3): the
# Debian 12 build machine has no /dev/log, and making one would change
# /dev outside the namespace.
#
# Nothing on the machine changes.  As root the test enters a private
# mount and PID namespace (unshare --mount --propagation private --pid
# --fork --kill-child --mount-proc) and there, only there, bind-mounts a
# wrapper over /usr/sbin/sendmail and a private file over /etc/crontab,
# and mounts empty tmpfs over /etc/cron.d, /var/spool/cron/crontabs and
# /run (cron's pid file).  The namespace's first process is the scenario
# shell: when it ends, however it ends, the kernel kills cron and its jobs
# and the mounts vanish; --kill-child does the same if the test is killed.
# The last check compares the system's files before and after.  The SMTP
# server runs outside the namespace, started before it (the namespace
# shares the network, so plume reaches it on 127.0.0.1), and is stopped
# on exit by smtp-lib.sh.
#
# The wrapper records its argv and exit status in $WORK/calls and runs the
# built plume as "sendmail" with PLUME_CONFIG naming the test's config, one
# per uid so that nobody's job has a queue it can write (PLUME_CONFIG from
# the caller wins: the mail(1) failure case sets a broken one).  Neither
# caller can pass -C.  The caller's environment reaches plume unchanged
# except for libfaketime, which the wrapper drops: plume runs on the real
# clock.
#
# Time: cron runs a minute's jobs when the wall-clock minute changes, the
# first time at the first change after it starts: up to 60 s away.  cron
# starts under libfaketime with an offset that puts its clock at hh:mm:57;
# the clock then runs at real speed, so cron's sleep arithmetic holds and
# the "* * * * *" jobs run about 3 s later.  The test polls for all the
# sendmail runs (20 s bound; 75 s when faketime is missing and cron keeps
# the real clock) and stops cron at once, long before the next minute.
#
# Skipped, with the reason, when not root, when unshare cannot make the
# namespace (no CAP_SYS_ADMIN), when there is no /usr/sbin/sendmail to
# cover, when python3-aiosmtpd is missing; cron's or mailx's checks alone
# when cron or bsd-mailx is missing.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" -eq 0 ] ||
    skip_all "not root: a private mount namespace needs CAP_SYS_ADMIN"
have unshare || skip_all "unshare (util-linux) is not installed"
NS="unshare --mount --propagation private --pid --fork --kill-child --mount-proc"
$NS true 2> "$WORK/ns.err" ||
    skip_all "cannot make a private mount and PID namespace: $(head -n 1 "$WORK/ns.err")"
[ -f /usr/sbin/sendmail ] ||
    skip_all "no /usr/sbin/sendmail to bind the test's over (sh build-aux/deps.sh test installs postfix)"
NOBODY=$(id -u nobody 2> /dev/null) || skip_all "no user nobody"
smtp_need fault
CRON=yes
if [ ! -x /usr/sbin/cron ]; then CRON="cron is not installed"
elif [ ! -d /etc/cron.d ] || [ ! -d /var/spool/cron/crontabs ]; then
	CRON="cron's /etc/cron.d or /var/spool/cron/crontabs is missing"
fi
MAILX=yes
have bsd-mailx || MAILX="bsd-mailx is not installed"
FAKE=no
have_faketime && FAKE=yes

plan 15
export LC_ALL=C.UTF-8
# the receiving server, outside the namespace, which shares the network
fault_start ok || exit 1
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
    "port = $FAULT_PORT" "tls = none"
chmod 644 "$CONF"
# one queue and config per uid: root's is $QUEUE, nobody's its own
NQUEUE=$WORK/queue-nobody
mkdir -p "$NQUEUE" && chown "$NOBODY" "$NQUEUE"
sed "s|^queue_dir = .*|queue_dir = $NQUEUE|" "$CONF" > "$WORK/conf.$NOBODY"
cp "$CONF" "$WORK/conf.0"
{ cat "$CONF"; echo "this line is no key"; } > "$WORK/broken.conf"
chmod 644 "$WORK"/conf.* "$WORK/broken.conf"
mkdir -m 1777 "$WORK/calls"
mkdir -m 700 "$WORK/home"

# /usr/sbin/sendmail in the namespace
cat > "$WORK/sendmail" <<SH
#!/bin/sh
printf '%s\n' "\$@" > "$WORK/calls/\$\$.argv"
env -u LD_PRELOAD -u FAKETIME -u FAKETIME_SHARED \\
    PLUME_CONFIG="\${PLUME_CONFIG:-$WORK/conf.\$(id -u)}" "$SENDMAIL" "\$@"
rc=\$?
echo \$rc > "$WORK/calls/\$\$.rc"
exit \$rc
SH
chmod 755 "$WORK/sendmail"

# what the callers send
SUBJECT='Prüfbericht Köln ✓'
printf 'Hallo,\n\nUmlaute: äöüß, Euro: €, 日本語.\n.\n..\nThe two lines above are dots.\n' > "$WORK/body.txt"
printf 'Prüfbericht für äöüß, € und 日本語\n.\n..\nafter the lone dots\n' > "$WORK/cron-body.txt"
chmod 644 "$WORK/body.txt" "$WORK/cron-body.txt"
printf '# plume test: no system jobs\nSHELL=/bin/sh\n' > "$WORK/crontab"
cat > "$WORK/cron.job" <<EOF
MAILTO=ops@example.net
* * * * * root cat $WORK/cron-body.txt
MAILTO=bad@example.net
* * * * * root echo refused
MAILTO=dev@example.net
MAILFROM=reports@example.com
* * * * * nobody echo from nobody; exit 3
EOF

# the system's files the namespace covers, to compare afterwards
sysstate() {
	for f in /usr/sbin/sendmail /etc/crontab; do
		[ -e "$f" ] && md5sum "$f"
	done
	ls -la --time-style=full-iso /etc/cron.d /var/spool/cron/crontabs \
	    2>&1
	for f in /run/*cron*; do [ -e "$f" ] && echo "$f"; done
	:
}
sysstate > "$WORK/state.before"

# sendmail runs: three by mail(1), then one per cron job
want_calls=3
[ "$MAILX" = yes ] && want_calls=6
cat > "$WORK/scenario" <<EOS
set -u
mount --bind '$WORK/sendmail' /usr/sbin/sendmail || exit 99
if [ '$MAILX' = yes ]; then
	# HOME: no ~/.mailrc read, dead.letter written in the test's directory
	export HOME='$WORK/home'
	mail -s '$SUBJECT' -c cc@example.net -b bcc@example.com to@example.org \
	    < '$WORK/body.txt' > '$WORK/mailx.out' 2>&1
	echo \$? > '$WORK/mailx.rc'
	PLUME_CONFIG='$WORK/broken.conf' mail -s broken held@example.org \
	    < '$WORK/body.txt' > '$WORK/mailx-fail.out' 2>&1
	echo \$? > '$WORK/mailx-fail.rc'
	mail -s refused bad@example.org \
	    < '$WORK/body.txt' > '$WORK/mailx-refused.out' 2>&1
	echo \$? > '$WORK/mailx-refused.rc'
fi
[ '$CRON' = yes ] || exit 0
mount -t tmpfs -o mode=755 plume-test /etc/cron.d &&
    mount -t tmpfs -o mode=1730 plume-test /var/spool/cron/crontabs &&
    mount -t tmpfs -o mode=755 plume-test /run || exit 98
if [ -e /etc/crontab ]; then
	mount --bind '$WORK/crontab' /etc/crontab || exit 98
fi
install -m 644 '$WORK/cron.job' /etc/cron.d/plume-test || exit 98
start=\$(date +%s)
if [ '$FAKE' = yes ]; then
	# the first minute change ~3 s away: the clock at hh:mm:57
	off=\$(printf %+d \$((57 - \$(date +%-S))))
	LD_PRELOAD='$FAKETIME_LIB' FAKETIME=\$off cron -f -L 15 &
	bound=20
else
	cron -f -L 15 &
	bound=75
fi
pid=\$!
while [ \$(ls '$WORK/calls' | grep -c '\.rc\$') -lt $want_calls ] &&
    [ \$((\$(date +%s) - start)) -lt \$bound ]; do
	sleep 0.2
done
echo \$((\$(date +%s) - start)) > '$WORK/cron.secs'
kill \$pid
wait \$pid
exit 0
EOS
t0=$(date +%s)
# a hung caller cannot hang the suite: timeout kills unshare, and
# --kill-child the namespace with it
timeout 150 $NS sh "$WORK/scenario" > "$WORK/scenario.out" 2>&1
rc=$?
diag "the namespace ran $(($(date +%s) - t0)) s, exit $rc"
[ $rc -eq 0 ] || sed 's/^/# /' "$WORK/scenario.out"

# called ARGS...: a call of /usr/sbin/sendmail had exactly ARGS and exit 0
# (mail(1) makes three calls with the same argv, two of them failing)
called() {
	printf '%s\n' "$@" > "$WORK/want.argv"
	_c=
	for a in "$WORK"/calls/*.argv; do
		if cmp -s "$a" "$WORK/want.argv"; then
			grep -qx 0 "${a%.argv}.rc" && return 0
			_c="$_c $(cat "${a%.argv}.rc" 2>&1)"
		fi
	done
	[ -z "$_c" ] || { echo "exit$_c, not 0"; return 1; }
	echo "no call with argv: $*; the calls were:"
	for a in "$WORK"/calls/*.argv; do [ -e "$a" ] && tr '\n' ' ' < "$a" && echo; done
	return 1
}
# arrived RCPT NAME: the one message the server took for RCPT, as
# $WORK/NAME with LF line ends, $WORK/NAME.raw as received (CRLF, the
# dot-stuffing undone) and $WORK/NAME.env its envelope (faultsmtp's env.N)
arrived() {
	set -- "$1" "$WORK/$2"
	: > "$2.raw"
	: > "$2.env"
	e=$(grep -lx "RCPT TO:<$1>" "$FAULT_DIR"/env.* 2> /dev/null)
	if [ -n "$e" ] && [ "$(echo "$e" | wc -l)" -eq 1 ]; then
		cp "$e" "$2.env"
		cp "$FAULT_DIR/msg.${e##*.}" "$2.raw"
	fi
	tr -d '\r' < "$2.raw" > "$2"
}
has() { grep -qx -- "$2" "$WORK/$1" || { echo "no line: $2"; return 1; }; }
hasnt() { ! grep -qi -- "$2" "$WORK/$1" || { echo "a line: $2"; return 1; }; }
# sender NAME ADDR: the server took NAME from MAIL FROM:<ADDR>
sender() {
	grep -q "^MAIL FROM:<$2>" "$WORK/$1.env" ||
	    { echo "not from <$2>:"; cat "$WORK/$1.env"; return 1; }
}
# rcpts NAME ADDR...: the server took NAME for exactly these recipients
rcpts() {
	_r=$1
	shift
	printf 'RCPT TO:<%s>\n' "$@" > "$WORK/want.rcpts"
	grep '^RCPT TO:' "$WORK/$_r.env" | cmp -s - "$WORK/want.rcpts" ||
	    { echo "recipients are not $*:"; cat "$WORK/$_r.env"; return 1; }
}
# body_is NAME FILE: NAME's body is FILE's bytes, every line CRLF-ended
body_is() {
	sed '1,/^$/d' "$WORK/$1" | cmp - "$2" &&
	    awk '!/\r$/ { bad = 1 } END { exit bad }' "$WORK/$1.raw"
}
# stamped NAME: Date and a Message-ID from plume's hostname
stamped() {
	grep -q '^Date: ' "$WORK/$1" &&
	    grep -q '^Message-ID: <.*@test.example.org>$' "$WORK/$1" ||
	    { echo "no Date or Message-ID:"; sed '/^$/q' "$WORK/$1"; return 1; }
}
# waiting: nothing left in either queue for a later try, nothing held
# for a bad@ recipient (hold/ keeps mail(1)'s broken-config message)
waiting() {
	n=$(find "$QUEUE" "$NQUEUE" -path '*/hold' -prune -o -type f -print |
	    wc -l)
	[ "$n" -eq 0 ] && ! grep -rqs 'bad@example' "$QUEUE" "$NQUEUE" ||
	    { find "$QUEUE" "$NQUEUE" -type f; return 1; }
}

# ---- bsd-mailx: mail -s SUBJECT -c CC -b BCC TO ----------------------------
mailx_ran() { grep -qx 0 "$WORK/mailx.rc" && called -i -t; }
mailx_rcpts() {
	sender mailx root@example.org &&
	    rcpts mailx to@example.org cc@example.net bcc@example.com &&
	    has mailx 'To: to@example.org' && has mailx 'Cc: cc@example.net' &&
	    hasnt mailx '^Bcc:'
}
mailx_content() {
	has mailx "Subject: $SUBJECT" && body_is mailx "$WORK/body.txt"
}
mailx_added() {
	has mailx 'From: root <root@example.org>' && stamped mailx
}
mailx_failed() {
	! grep -qx 0 "$WORK/mailx-fail.rc" &&
	    grep -q 'sendmail process failed with error code 78' \
	    "$WORK/mailx-fail.out" &&
	    grep -q 'plume: config error: .*message kept in' \
	    "$WORK/mailx-fail.out" &&
	    grep -ql '^To: held@example.org' "$QUEUE"/hold/* &&
	    ! grep -qx 'RCPT TO:<held@example.org>' "$FAULT_DIR"/env.* ||
	    { cat "$WORK/mailx-fail.out"; return 1; }
}
# the argv of the call that exited RC
argv_of() {
	for r in "$WORK"/calls/*.rc; do
		grep -qx "$1" "$r" && tr '\n' ' ' < "${r%.rc}.argv"
	done
}
mailx_refused() {
	[ "$(argv_of '6[79]')" = "-i -t " ] &&
	    ! grep -qx 0 "$WORK/mailx-refused.rc" &&
	    grep -Eq 'sendmail process failed with error code 6[79]' \
	    "$WORK/mailx-refused.out" &&
	    grep -q '^plume: refused: <bad@example.org>: 550 5\.1\.1 ' \
	    "$WORK/mailx-refused.out" &&
	    grep -qx 'S: 550 5.1.1 <bad@example.org>: .*' "$WORK/transcript" &&
	    ! grep -qx 'RCPT TO:<bad@example.org>' "$FAULT_DIR"/env.* &&
	    waiting ||
	    { cat "$WORK/mailx-refused.out"; echo "calls exiting 67/69:" \
	    "$(argv_of '6[79]')"; return 1; }
}
sed 's/^[0-9]* //' "$FAULT_DIR/transcript" > "$WORK/transcript"
if [ "$MAILX" = yes ]; then
	arrived to@example.org mailx
	check "mail(1) runs /usr/sbin/sendmail -i -t; it and plume exit 0" \
	    mailx_ran
	check "mail(1): the server got MAIL FROM root@example.org, RCPT TO the To, Cc and Bcc recipients; no Bcc field" \
	    mailx_rcpts
	check "mail(1): the raw UTF-8 Subject and the 8-bit body with lone dots (-i) byte for byte, CRLF" \
	    mailx_content
	check "mail(1): plume adds From: root <root@example.org>, Date, Message-ID" \
	    mailx_added
	check "mail(1) sees a failing sendmail (broken config, exit 78); the message is held, not sent" \
	    mailx_failed
	check "mail(1) to a recipient the relay refuses (550): plume exits 67/69, mail(1) fails and says so; nothing sent or queued" \
	    mailx_refused
else
	skip "$MAILX" 6
fi

# ---- cron: root's jobs (one to a refused recipient), a failing user job
# with MAILFROM ---------------------------------------------------------
cron_root_ran() {
	called -FCronDaemon -i -B8BITMIME -oem ops@example.net
}
cron_root_fields() {
	has cron 'From: root@example.org (Cron Daemon)' &&
	    has cron 'To: ops@example.net' &&
	    grep -qx "Subject: Cron <root@[^>]*> cat $WORK/cron-body.txt" \
	    "$WORK/cron" || { sed '/^$/q' "$WORK/cron"; return 1; }
}
cron_root_envelope() {
	sender cron root@example.org && rcpts cron ops@example.net
}
cron_root_extra() {
	has cron 'X-Cron-Env: <MAILTO=ops@example.net>' &&
	    has cron 'X-Cron-Env: <LOGNAME=root>' &&
	    has cron 'Content-Type: text/plain; charset=UTF-8' &&
	    has cron 'Content-Transfer-Encoding: 8bit' &&
	    stamped cron
}
cron_user() {
	called -FCronDaemon -i -B8BITMIME -oem dev@example.net &&
	    grep -q "^Received: by test.example.org .*from userid $NOBODY (nobody))" \
	    "$WORK/cron-nobody" &&
	    has cron-nobody 'From: reports@example.com' &&
	    sender cron-nobody nobody@example.org &&
	    rcpts cron-nobody dev@example.net &&
	    grep -qx 'Subject: Cron <nobody@[^>]*> echo from nobody; exit 3 (failed)' \
	    "$WORK/cron-nobody" &&
	    body_is cron-nobody "$WORK/nobody-body.txt" && stamped cron-nobody ||
	    { cat "$WORK/cron-nobody"; return 1; }
}
# -oem: plume exits 0 and mails the failure to the job's owner
cron_refused() {
	called -FCronDaemon -i -B8BITMIME -oem bad@example.net &&
	    grep -qx 'S: 550 5.1.1 <bad@example.net>: .*' "$WORK/transcript" &&
	    ! grep -qx 'RCPT TO:<bad@example.net>' "$FAULT_DIR"/env.* &&
	    sender cron-report '' && rcpts cron-report root@example.org &&
	    has cron-report 'From: Mail Delivery System <MAILER-DAEMON@example.org>' &&
	    grep -q '^Content-Type: multipart/report; report-type=delivery-status' \
	    "$WORK/cron-report" &&
	    has cron-report 'Final-Recipient: rfc822; bad@example.net' &&
	    has cron-report 'Action: failed' &&
	    has cron-report 'Status: 5.1.1' &&
	    has cron-report 'X-Cron-Env: <MAILTO=bad@example.net>' &&
	    has cron-report 'refused' && waiting ||
	    { cat "$WORK/cron-report"; return 1; }
}
cron_once() {
	n=$(fault_count)
	want=3
	[ "$MAILX" = yes ] && want=4
	[ "$n" -eq "$want" ] || { echo "$n messages, not $want"; return 1; }
	[ "$(cat "$WORK/cron.secs")" -lt "$bound" ] ||
	    { echo "cron took $(cat "$WORK/cron.secs") s"; return 1; }
}
if [ "$CRON" = yes ]; then
	arrived ops@example.net cron
	arrived dev@example.net cron-nobody
	arrived root@example.org cron-report
	echo "from nobody" > "$WORK/nobody-body.txt"
	bound=20
	[ "$FAKE" = yes ] || bound=75
	diag "cron mailed the jobs' output $(cat "$WORK/cron.secs" 2>&1) s after it started"
	check "cron runs /usr/sbin/sendmail -FCronDaemon -i -B8BITMIME -oem ops@example.net; plume exits 0" \
	    cron_root_ran
	check "cron: From: root@example.org (Cron Daemon), To, Subject: Cron <root@host> command" \
	    cron_root_fields
	check "cron: the server got MAIL FROM root@example.org, RCPT TO ops@example.net alone" \
	    cron_root_envelope
	check "cron: X-Cron-Env, charset and 8bit fields kept; Date, Message-ID added" \
	    cron_root_extra
	check "cron: the 8-bit job output (-B8BITMIME) with lone dots (-i) byte for byte, CRLF" \
	    body_is cron "$WORK/cron-body.txt"
	check "cron: nobody's failing job with MAILFROM: plume runs as nobody, From: reports@, MAIL FROM nobody@example.org, Subject (failed)" \
	    cron_user
	check "cron to a recipient the relay refuses (550), with -oem: plume exits 0 and the relay gets a delivery report from <> to root@example.org" \
	    cron_refused
	check "cron: one mail per job (and the report), within $bound s of starting cron" \
	    cron_once
else
	skip "$CRON" 8
fi

sysstate > "$WORK/state.after"
check "nothing outside the namespace changed: /usr/sbin/sendmail, /etc/crontab, /etc/cron.d, crontabs, /run" \
    diff "$WORK/state.before" "$WORK/state.after"
