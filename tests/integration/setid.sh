#!/bin/sh
# setid.sh - plume installed set-group-id to a mail group: users submit
# into a spool they cannot write themselves, see and change only their
# own queue entries, and never choose the config.
. "$top_srcdir/tests/integration/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv > /dev/null ||
    ! command -v unshare > /dev/null || ! getent group mail > /dev/null; then
	echo "1..0 # SKIP needs root, setpriv, unshare and a mail group"
	exit 0
fi
conf_file=$("$PLUME" version | sed -n 's/^config file: //p')
etc=$(dirname "$(dirname "$conf_file")")	# e.g. /usr/local/etc
[ -d "$etc" ] || { echo "1..0 # SKIP $etc does not exist"; exit 0; }
plan 9
cp "$top_builddir"/tests/unit/fixtures/.libs/testplug.so "$PLUGINS/"

# the set-id binaries, one per personality, group mail
mkdir -p "$WORK/sgid" "$WORK/plain" "$WORK/etc/plume" "$WORK/spool"
for p in sendmail plume; do
	cp "$top_builddir/plume" "$WORK/sgid/$p"
	chgrp mail "$WORK/sgid/$p" && chmod 2755 "$WORK/sgid/$p"
	cp "$top_builddir/plume" "$WORK/plain/$p" && chmod 755 "$WORK/plain/$p"
done
chmod 755 "$WORK/sgid" "$WORK/plain" "$WORK/etc" "$WORK/etc/plume"
chgrp mail "$WORK/spool" && chmod 2770 "$WORK/spool"
printf 'queue_dir = %s/spool\nplugin_dir = %s\nsyslog = no\npipeline = testplug\n[testplug]\npath = %s/sent\ndown = yes\n' \
    "$WORK" "$PLUGINS" "$WORK" > "$WORK/etc/plume/plume.conf"
chmod 644 "$WORK/etc/plume/plume.conf"
printf 'From: a@example.org\nSubject: setid\n\nhi\n' > "$WORK/msg"
chmod 644 "$WORK/msg"

# everything below runs in a private mount namespace where the compiled-in
# config directory is ours; "as_nobody" drops to uid/gid 65534
cat > "$WORK/scenario" <<EOS
set -u
mount --bind '$WORK/etc' '$etc' || exit 99
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "\$@"; }
as_nobody '$WORK/sgid/sendmail' -v mine@example.org < '$WORK/msg' > /dev/null 2> '$WORK/r1'; echo \$? > '$WORK/rc1'
'$WORK/plain/sendmail' roots@example.org < '$WORK/msg' > /dev/null 2>&1; echo \$? > '$WORK/rc2'
ls '$WORK/spool/deferred' | grep '\.env\$' | sed 's/\.env\$//' > '$WORK/ids'
for id in \$(cat '$WORK/ids'); do
	grep -q 'rcpt pending mine@' "$WORK/spool/deferred/\$id.env" && echo \$id > '$WORK/mine' || echo \$id > '$WORK/roots'
done
as_nobody '$WORK/sgid/plume' queue show "\$(cat '$WORK/mine')" > '$WORK/show1' 2>&1; echo \$? > '$WORK/rc3'
as_nobody '$WORK/sgid/plume' queue show "\$(cat '$WORK/roots')" > '$WORK/show2' 2>&1; echo \$? > '$WORK/rc4'
as_nobody '$WORK/sgid/plume' queue delete "\$(cat '$WORK/roots')" > '$WORK/del2' 2>&1; echo \$? > '$WORK/rc5'
as_nobody '$WORK/sgid/plume' queue delete "\$(cat '$WORK/mine')" > '$WORK/del1' 2>&1; echo \$? > '$WORK/rc6'
as_nobody '$WORK/plain/sendmail' x@example.org < '$WORK/msg' > /dev/null 2> '$WORK/r7'; echo \$? > '$WORK/rc7'
as_nobody '$WORK/sgid/plume' queue run > /dev/null 2> '$WORK/r8'; echo \$? > '$WORK/rc8'
EOS
unshare -m sh "$WORK/scenario"
rc=$?
[ $rc -eq 99 ] && { echo "# cannot bind-mount over $etc"; }
check "a user submits through the set-id binary: queued, exit 0" \
    sh -c "[ \$(cat '$WORK/rc1') -eq 0 ] && grep -q 'queued:' '$WORK/r1'"
check "the spool stays closed to others: group mail, mode 2770" \
    sh -c "stat -c '%G %a' '$WORK/spool/deferred' | grep -qx 'mail 2770' && [ \$(cat '$WORK/rc2') -eq 0 ]"
check "the user sees their own entry" \
    sh -c "[ \$(cat '$WORK/rc3') -eq 0 ] && grep -q '^Recipient: <mine@example.org> pending' '$WORK/show1'"
check "... not root's (77, one line)" \
    sh -c "[ \$(cat '$WORK/rc4') -eq 77 ] && grep -q 'is not yours' '$WORK/show2' && ! grep -q roots@ '$WORK/show2'"
check "... and cannot delete root's" \
    sh -c "[ \$(cat '$WORK/rc5') -eq 77 ] && [ -f '$WORK/spool/deferred/'\$(cat '$WORK/roots')'.env' ]"
check "... but can delete their own" \
    sh -c "[ \$(cat '$WORK/rc6') -eq 0 ] && [ ! -e '$WORK/spool/deferred/'\$(cat '$WORK/mine')'.env' ]"
check "without the set-id bit the same user cannot write the spool: 73, one line" \
    sh -c "[ \$(cat '$WORK/rc7') -eq 73 ] && [ \$(wc -l < '$WORK/r7') -eq 1 ]"
check "a queue run by a user runs without the group: a clear failure, nothing touched" \
    sh -c "[ \$(cat '$WORK/rc8') -ne 0 ] && [ -f '$WORK/spool/deferred/'\$(cat '$WORK/roots')'.env' ]"
check "the bind mount was ours alone" test ! -e "$etc/plume/plume.conf" -o "$conf_file" != "$WORK/etc/plume/plume.conf"
