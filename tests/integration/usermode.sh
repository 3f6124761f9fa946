#!/bin/sh
# usermode.sh - per-user mode: a user who created ~/.config/plume/plume.conf
# (or under $XDG_CONFIG_HOME) gets it instead of the system config, with
# the queue under $XDG_STATE_HOME; unsafe user configs are refused; -C,
# PLUME_CONFIG, a set-id plume and root never take it; without one the
# system config and spool are used, and an unwritable spool is 73.
#
# Runs as root, in a private mount namespace where the compiled-in config
# directory is the test's own (as setid.sh), and drops to uid 65534 for
# the user's side.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null ||
    ! command -v unshare > /dev/null || ! getent group mail > /dev/null; then
	echo "1..0 # SKIP needs root, setpriv, unshare and a mail group"
	exit 0
fi
if [ -z "${PLUME_USERMODE_NS:-}" ]; then
	PLUME_USERMODE_NS=1 exec unshare -m sh "$0" "$@"
fi
. "$top_srcdir/tests/integration/lib.sh"

conf_file=$("$PLUME" version | sed -n 's/^config file: //p')
etc=$(dirname "$(dirname "$conf_file")")	# e.g. /usr/local/etc
[ -d "$etc" ] || { echo "1..0 # SKIP $etc does not exist"; exit 0; }
mkdir -p "$WORK/etc/plume"
mount --bind "$WORK/etc" "$etc" ||
    { echo "1..0 # SKIP cannot bind-mount over $etc"; exit 0; }
if ! setpriv --reuid=65534 --regid=65534 --clear-groups \
    test -x "$PLUME"; then
	echo "1..0 # SKIP uid 65534 cannot run $PLUME"
	exit 0
fi
plan 26
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"

U=65534
H=$WORK/home
UCONF=$H/.config/plume/plume.conf
STATE=$H/.local/state/plume
mkdir -p "$H/.config/plume" "$WORK/sys" "$WORK/sysspool" "$WORK/rootspool" \
    "$WORK/other" "$WORK/roothome/.config/plume"
chown -R $U:$U "$H" "$WORK/other"
chmod 1777 "$WORK/sys"
chmod 777 "$WORK/sysspool"	# any user may queue into the test's system spool
chmod 755 "$WORK/etc" "$WORK/etc/plume" "$WORK/rootspool" "$WORK/roothome"
printf 'From: a@example.org\nSubject: um\n\nhi\n' > "$WORK/msg"
chmod 644 "$WORK/msg"

sysconf() {	# sysconf QUEUE_DIR: the system config
	printf 'queue_dir = %s\nplugin_dir = %s\nsyslog = no\npipeline = testplug\n[testplug]\npath = %s/sys/sent\n' \
	    "$1" "$PLUGINS" "$WORK" > "$etc/plume/plume.conf"
	chmod 644 "$etc/plume/plume.conf"
}
userconf() {	# userconf FILE MODE [LINE...]: a config of uid 65534's
	_f=$1 _m=$2
	shift 2
	mkdir -p "$(dirname "$_f")"
	{ printf 'plugin_dir = %s\nsyslog = no\n' "$PLUGINS"; printf '%s\n' "$@"; } > "$_f"
	chown $U:$U "$(dirname "$_f")" "$_f"
	chmod "$_m" "$_f"
}
# as_user CMD...: CMD as uid 65534, with only HOME (and what XU adds) in
# its environment; rc in $RC, output in $WORK/out and $WORK/err
XU=
as_user() {
	set +e
	# shellcheck disable=SC2086
	setpriv --reuid=$U --regid=$U --clear-groups env -i PATH=/usr/bin:/bin \
	    HOME="$H" $XU "$@" < "$WORK/msg" > "$WORK/out" 2> "$WORK/err"
	RC=$?
}
outbox_count() { ls "$1/outbox/new" 2>/dev/null | wc -l; }

# ---- no user config: the system config and spool --------------------
sysconf "$WORK/sysspool"
as_user "$WORK/bin/sendmail" sys1@example.org
check "no user config: the system config delivers (its pipeline)" \
    sh -c "[ $RC -eq 0 ] && grep -q '^Subject: um' '$WORK/sys/sent'"
check "... and nothing is made in the user's home" test ! -e "$H/.local"
as_user "$PLUME" config check
check "config check names the system config and why" \
    sh -c "grep -qx '# effective configuration, from system config: $etc/plume/plume.conf' '$WORK/out' && grep -qx '# (there is no user config $UCONF)' '$WORK/out'"

sysconf "$WORK/rootspool"
as_user "$WORK/bin/sendmail" sys2@example.org
check "unwritable system spool: 73 and one line, no queue of the user's own" \
    sh -c "[ $RC -eq 73 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q '$WORK/rootspool/tmp' '$WORK/err' && [ ! -e '$H/.local' ]"
sysconf "$WORK/sysspool"

# ---- the user's config: wholesale, queue under XDG_STATE_HOME --------
rm -f "$WORK/sys/sent"
userconf "$UCONF" 600 "pipeline = outbox"
as_user "$WORK/bin/sendmail" u1@example.org
check "user config: used instead of the system config (the user's outbox)" \
    sh -c "[ $RC -eq 0 ] && [ $(outbox_count "$STATE") -eq 1 ] && [ ! -e '$WORK/sys/sent' ]"
check "... the state directory is the user's alone (0700)" \
    sh -c "[ \"\$(stat -c '%u %a' '$STATE')\" = '$U 700' ]"
as_user "$PLUME" config check
check "config check: 'user config: FILE', and queue_dir under ~/.local/state" \
    sh -c "grep -qx '# effective configuration, from user config: $UCONF' '$WORK/out' && grep -qx 'queue_dir = $STATE	# default' '$WORK/out'"

XU="XDG_CONFIG_HOME=$WORK/xc XDG_STATE_HOME=$WORK/xs"
mkdir -p "$WORK/xc" "$WORK/xs" && chown $U:$U "$WORK/xc" "$WORK/xs"
userconf "$WORK/xc/plume/plume.conf" 600 "pipeline = testplug" \
    "[testplug]" "path = $WORK/xs/sent" "down = yes"
as_user "$WORK/bin/sendmail" u2@example.org
check "XDG_CONFIG_HOME's config: a relay down queues under XDG_STATE_HOME" \
    sh -c "[ $RC -eq 0 ] && ls '$WORK/xs/plume/deferred' | grep -q '\.env\$'"
as_user "$WORK/bin/mailq"
check "mailq lists the user's queue" grep -q 'u2@example.org' "$WORK/out"
userconf "$WORK/xc/plume/plume.conf" 600 "pipeline = testplug" \
    "[testplug]" "path = $WORK/xs/sent"
as_user "$PLUME" queue flush
check "the user's queue run delivers it" \
    sh -c "[ $RC -eq 0 ] && grep -q '^Subject: um' '$WORK/xs/sent' && ! ls '$WORK/xs/plume/deferred' | grep -q '\.env\$'"
XU=

as_user "$WORK/bin/sendmail" -odb u3@example.org
n=0
while [ "$(outbox_count "$STATE")" -lt 2 ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "-odb: the detached queue run finds the user's config and queue" \
    sh -c "[ $RC -eq 0 ] && [ $(outbox_count "$STATE") -eq 2 ]"

# ---- refusals --------------------------------------------------------
chmod 664 "$UCONF"
as_user "$WORK/bin/sendmail" u4@example.org
check "a group-writable user config: 78, one line naming the file and why" \
    sh -c "[ $RC -eq 78 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q '$UCONF: user config refused: writable by its group' '$WORK/err'"
check "... the message is kept in the user's hold/, the system's untouched" \
    sh -c "ls '$STATE/hold' | grep -q '\.env\$' && [ ! -e '$WORK/sys/sent' ]"
as_user "$PLUME" config check
check "config check refuses it too (78)" \
    sh -c "[ $RC -eq 78 ] && grep -q 'writable by its group' '$WORK/err'"

userconf "$UCONF" 644 "pipeline = outbox, testplug" "[testplug]" \
    "path = $H/tp" "token = s3cret"
as_user "$WORK/bin/sendmail" u5@example.org
check "an inline secret in a config others may read: 78, one line, the reason" \
    sh -c "[ $RC -eq 78 ] && [ \$(wc -l < '$WORK/err') -eq 1 ] && grep -q '$UCONF:6: user config refused: it holds a secret (token) and is readable by others (mode 0644)' '$WORK/err' && ! grep -q s3cret '$WORK/err'"
chmod 600 "$UCONF"
as_user "$WORK/bin/sendmail" u6@example.org
check "... the same config with mode 0600 is used" \
    sh -c "[ $RC -eq 0 ] && [ $(outbox_count "$STATE") -eq 3 ]"

# ---- what wins over the user config, and who never reads one ---------
userconf "$WORK/other/other.conf" 600 "queue_dir = $WORK/other/q" \
    "pipeline = outbox"
as_user "$WORK/bin/sendmail" -C "$WORK/other/other.conf" u7@example.org
check "-C wins over the user config" \
    sh -c "[ $RC -eq 0 ] && [ $(outbox_count "$WORK/other/q") -eq 1 ] && [ $(outbox_count "$STATE") -eq 3 ]"
XU="PLUME_CONFIG=$WORK/other/other.conf"
as_user "$PLUME" config check
XU=
check "PLUME_CONFIG wins too, and config check says so" \
    grep -qx "# effective configuration, from PLUME_CONFIG: $WORK/other/other.conf" "$WORK/out"

mkdir -p "$WORK/sgid" && chmod 755 "$WORK/sgid"
cp "$top_builddir/plume" "$WORK/sgid/plume"
ln -s plume "$WORK/sgid/sendmail"
chgrp mail "$WORK/sgid/plume" && chmod 2755 "$WORK/sgid/plume"
as_user "$WORK/sgid/plume" config check
check "set-id plume: the user config is never read, and config check says why" \
    sh -c "grep -qx '# effective configuration, from system config: $etc/plume/plume.conf' '$WORK/out' && grep -qx '# (plume is installed set-id: user configs are read only when the system config says user_config = yes)' '$WORK/out'"
as_user "$WORK/sgid/sendmail" u8@example.org
check "... a submission through it takes the system's pipeline" \
    sh -c "[ $RC -eq 0 ] && grep -q '^Subject: um' '$WORK/sys/sent' && [ $(outbox_count "$STATE") -eq 3 ]"

# the system config lets users of the set-id plume have their own
sed -i '1i user_config = yes' "$etc/plume/plume.conf"
as_user "$WORK/sgid/plume" config check
check "set-id, user_config = yes: the user's config, read as the user, and why" \
    sh -c "grep -qx '# effective configuration, from user config: $UCONF' '$WORK/out' && grep -q 'user_config = yes: plume gave up its group and reads it as the user' '$WORK/out'"
as_user "$WORK/sgid/sendmail" u9@example.org
f=$(ls -t "$STATE/outbox/new" | head -n 1)
check "... a submission takes the user's route, into the user's queue, without the group" \
    sh -c "[ $RC -eq 0 ] && [ $(outbox_count "$STATE") -eq 4 ] && grep -q 'Envelope-To: <u9@example.org>' '$STATE/outbox/new/$f' && [ \"\$(stat -c '%u %g' '$STATE/outbox/new/$f')\" = '$U $U' ]"
# a file only the group may read stays closed to the user's config
printf '# a valid config file, but only the group may read it\n' > "$WORK/grouponly"
chgrp mail "$WORK/grouponly" && chmod 640 "$WORK/grouponly"
userconf "$UCONF" 600 "pipeline = outbox" "include = $WORK/grouponly"
as_user "$WORK/sgid/sendmail" u10@example.org
check "... its config cannot read what only the group may (exit 78)" \
    sh -c "[ $RC -eq 78 ] && grep -q 'grouponly.*Permission denied' '$WORK/err' && [ $(outbox_count "$STATE") -eq 4 ]"
userconf "$UCONF" 600 "pipeline = outbox"
sed -i '/^user_config = yes$/d' "$etc/plume/plume.conf"

printf 'pipeline = outbox\n' > "$WORK/roothome/.config/plume/plume.conf"
chmod 644 "$WORK/roothome/.config/plume/plume.conf"
HOME=$WORK/roothome "$PLUME" config check > "$WORK/out" 2>&1
check "root never reads a user config of its own" \
    sh -c "grep -qx '# effective configuration, from system config: $etc/plume/plume.conf' '$WORK/out' && grep -q \"root's mail is the system's\" '$WORK/out'"
H=$WORK/roothome as_user "$PLUME" config check
check "a HOME that is not the user's (root's, kept by su): not their config" \
    sh -c "grep -q 'from system config' '$WORK/out' && grep -q 'is owned by uid 0, not by uid $U' '$WORK/out'"
H=$WORK/home
check "the system config was never changed by any of it" \
    sh -c "grep -qx 'pipeline = testplug' '$etc/plume/plume.conf' && [ -z \"\$(ls '$WORK/rootspool')\" ]"
