#!/bin/sh
# smtp-session.sh - the transport's session API as a queue run uses it:
# many messages over one connection, RSET after a failed transaction;
# and every address of a host tried in turn.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 7
tls_material "$TLS_DIR"
fault_start ok --tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key"
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" \
    "tls_ca_file = $TLS_DIR/ca.pem"
"$top_builddir/tests/unit/smtp_session" "$CONF" one@example.org \
    bad@example.org two@example.org three@example.org > "$WORK/out" 2>&1
ok $? "session opened, four messages delivered over it, closed"
check "results per message: sent, bounced (550 5.1.1), sent, sent" \
    sh -c "awk '{ print \$1, \$2, \$3, \$4 }' '$WORK/out' | tr '\n' ' ' | grep -qx '1 one@example.org sent 250 2 bad@example.org bounced 550 3 two@example.org sent 250 4 three@example.org sent 250 '"
check "one connection, one STARTTLS for all of them" \
    sh -c "[ \$(grep -c '\* connect' '$FAULT_DIR/transcript') -eq 1 ] && [ \$(grep -c 'C: STARTTLS' '$FAULT_DIR/transcript') -eq 1 ]"
check "three messages arrived" test "$(fault_count)" -eq 3
check "RSET only after the failed transaction, QUIT at the end" \
    sh -c "[ \$(grep -c 'C: RSET' '$FAULT_DIR/transcript') -eq 1 ] && tail -n 3 '$FAULT_DIR/transcript' | grep -q 'C: QUIT'"

# every address of a host, in turn: ::1 (nothing listens) then 127.0.0.1
printf '::1 multi.test\n127.0.0.1 multi.test\n' > "$WORK/hosts"
if unshare -m sh -c "mount --bind '$WORK/hosts' /etc/hosts && getent ahosts multi.test" 2>/dev/null | head -n 1 | grep -q '^::1'; then
	write_conf "pipeline = smtp" "[smtp]" "host = multi.test" \
	    "port = $FAULT_PORT" "tls = none"
	unshare -m sh -c "mount --bind '$WORK/hosts' /etc/hosts && exec '$SENDMAIL' -C '$CONF' -v one@example.org" \
	    < "$top_srcdir/tests/fuzz/corpus/intake/lonedot" > /dev/null 2> "$WORK/err"
	rc=$?
	check "first address refused, the next one used" \
	    sh -c "[ $rc -eq 0 ] && grep -q 'relay=multi.test\[127.0.0.1\]' '$WORK/err'"
	write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $(free_port)" "tls = none"
	run_sm "$top_srcdir/tests/fuzz/corpus/intake/lonedot" -C "$CONF" -v one@example.org
	check "nothing listening: queued, the log naming the address" \
	    sh -c "[ $RC -eq 0 ] && grep -q 'queued: ' '$WORK/err' && grep -q 'connect to 127.0.0.1\[127.0.0.1\]:[0-9]*: Connection refused' '$WORK/err'"
else
	for i in 1 2; do T=$((T + 1)); echo "ok $T # SKIP needs unshare -m and IPv6 loopback"; done
fi
