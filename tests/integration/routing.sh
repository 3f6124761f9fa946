#!/bin/sh
# routing.sh - routing by sender and recipient (DESIGN.md, Routing and
# failover): three SMTP servers, each with its own account, and an HTTPS
# API endpoint; messages land on the right one with the right login,
# split recipients go two ways and each gets exactly one copy, DKIM keys
# follow the route, and what is queued is each route's own copy.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
. "$top_srcdir/tests/integration/http-lib.sh"
smtp_need fault
if [ ! -e "$PLUGINS/http.so" ] || [ ! -e "$PLUGINS/dkim.so" ]; then
	echo "1..0 # SKIP the http or dkim plugin is not built"
	exit 0
fi
http_need
# see http.sh: LeakSanitizer's tracer and libcurl (valgrind checks leaks)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS

plan 34

# ---- three SMTP servers (STARTTLS, AUTH), one account each -------------
_smtp_tls
cert="--tls-cert $TLS_DIR/server.pem --tls-key $TLS_DIR/server.key"
for who in alice bob carol; do
	# shellcheck disable=SC2086
	fault_start ok $cert --auth --users "$who:pw-$who" || exit 1
	eval "DIR_$who=\$FAULT_DIR PORT_$who=\$FAULT_PORT"
	printf 'pw-%s\n' "$who" > "$WORK/$who.pw"
	chmod 600 "$WORK/$who.pw"
done
# ---- the API endpoint: plume's webhook -----------------------------------
cat > "$WORK/providers.json" <<'EOF'
{"webhook": {"path": "/in", "token": "HOOKTOKEN"}}
EOF
httpapi_start "$WORK/api" "$WORK/providers.json" || exit 1
API=$HTTPAPI_DIR
printf 'HOOKTOKEN\n' > "$WORK/hook.key"
chmod 600 "$WORK/hook.key"
# ---- a DKIM key per sending domain ---------------------------------------
for d in a b; do
	openssl genpkey -algorithm ed25519 -out "$WORK/$d.pem" 2>/dev/null
	chmod 600 "$WORK/$d.pem"
done

# smtp_route NAME USER PORT [KEY = VALUE...]: a transport section
smtp_route() {
	n=$1 u=$2 p=$3
	shift 3
	printf '%s\n' "[smtp \"$n\"]" "host = 127.0.0.1" "port = $p" \
	    "tls_ca_file = $TLS_DIR/ca.pem" "auth = plain" "user = $u" \
	    "password_file = $WORK/$u.pw" "command_timeout = 10s" "$@"
}
routes_conf() {	# routes_conf [EXTRA LINES...]
	write_conf "pipeline = dkim:a, dkim:b, smtp:a, smtp:b, http:api, smtp:c" \
	    '[dkim "a"]' "domain = a.test" "selector = s" "key = $WORK/a.pem" \
	    "routes = smtp:a" \
	    '[dkim "b"]' "domain = b.test" "selector = s" "key = $WORK/b.pem" \
	    "routes = smtp:b" \
	    "$(smtp_route a alice "$PORT_alice" "match_from = *@a.test")" \
	    "$(smtp_route b bob "$PORT_bob" "match_from = bob@b.test, *@*.b.test")" \
	    "$(smtp_route c carol "$PORT_carol")" \
	    '[http "api"]' "provider = webhook" "base_url = $HTTPAPI_URL/in" \
	    "tls_ca_file = $TLS_DIR/ca.pem" "api_key_file = $WORK/hook.key" \
	    "match_rcpt = partner.test" "$@"
}
routes_conf
msg() {	# msg FROM TO...: a message file $WORK/m
	f=$1
	shift
	{
		printf 'From: %s\nTo: %s\nSubject: routing\n' "$f" "$(echo "$@" | sed 's/ /, /g')"
		printf 'Message-ID: <%s@routing.test>\n\nhello\n' "$(date +%s%N)"
	} > "$WORK/m"
}
t() { eval "$1"; }	# t CODE: a check in this shell (its functions)
count() { ls "$1"/msg.* 2>/dev/null | wc -l; }
# rcpts DIR N: the RCPT addresses of message N at server DIR, sorted
rcpts() { sed -n 's/^RCPT TO:<\([^>]*\)>.*/\1/p' "$1/env.$2" | sort | xargs; }
api_n() { httpapi_count "$API"; }
api_to() { httpapi_get "$API" "$(api_n)" envelope.to | tr -d '[]" ' | tr ',' ' '; }
# the DKIM d= domains signing message N at server DIR
dkim_d() { grep -o '^DKIM-Signature:.* d=[a-z.]*' "$1/msg.$2" | sed 's/.* d=//' | xargs; }

run_sm /dev/null -C "$CONF" -bv x@partner.test y@elsewhere.test
check "-bv: each recipient's route with the reason" t "
    [ $RC -eq 0 ] &&
    grep -qx 'x@partner.test: deliverable: <x@partner.test> via http:api for recipients partner.test' '$WORK/out' &&
    grep -qx 'y@elsewhere.test: deliverable: <y@elsewhere.test> via smtp:c (the default)' '$WORK/out'"

"$PLUME" -C "$CONF" route --from Alice@A.test --to x@partner.test \
    --to y@elsewhere.test > "$WORK/route" 2>&1
RC=$?
cat > "$WORK/route.want" <<EOF
from <Alice@A.test>
<x@partner.test>
    route: http:api (match_rcpt)
    failover: none
<y@elsewhere.test>
    route: smtp:a (match_from, by the envelope sender)
    failover: none
    dkim:a: signs d=a.test with s=s ed25519-sha256 ($WORK/a.pem)
EOF
check "plume route: each recipient's route, why, failover, the DKIM key of the route" \
    t "[ $RC -eq 0 ] && diff -u '$WORK/route.want' '$WORK/route'"
run_sm /dev/null -C "$CONF" -f bob@b.test -bv z@elsewhere.test
check "-bv -f: the sender's route and the DKIM key it would sign with" t "
    [ $RC -eq 0 ] &&
    grep -qx 'z@elsewhere.test: deliverable: <z@elsewhere.test> via smtp:b for mail from bob@b.test, \*@\*.b.test' '$WORK/out' &&
    grep -qx '    dkim:b: signs d=b.test with s=s ed25519-sha256 ($WORK/b.pem)' '$WORK/out' &&
    ! grep -q 'dkim:a' '$WORK/out'"

# ---- by sender -----------------------------------------------------------
msg alice@a.test one@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -t
check "From alice@a.test: on server a, logged in as alice" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_alice') -eq 1 ] &&
    grep -qx 'AUTH: alice' '$DIR_alice/env.1' &&
    [ \$(count '$DIR_bob') -eq 0 ] && [ \$(count '$DIR_carol') -eq 0 ]"
check "... signed by the DKIM key of its route only (d=a.test)" \
    test "$(dkim_d "$DIR_alice" 1)" = a.test

msg bob@b.test two@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -t
check "From bob@b.test (exact pattern): on server b as bob, d=b.test" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_bob') -eq 1 ] &&
    grep -qx 'AUTH: bob' '$DIR_bob/env.1' &&
    [ \"\$(dkim_d '$DIR_bob' 1)\" = b.test ]"

msg ops@eu.b.test three@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -t
check "From ops@eu.b.test (*@*.b.test): on server b" \
    test "$(count "$DIR_bob")" -eq 2

msg nobody@c.test four@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -t
check "any other sender: the default route, server c as carol, unsigned" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_carol') -eq 1 ] &&
    grep -qx 'AUTH: carol' '$DIR_carol/env.1' &&
    ! grep -q '^DKIM-Signature' '$DIR_carol/msg.1'"

msg nobody@c.test five@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -f alice@a.test -t
check "the envelope sender (-f alice@a.test) routes too: server a" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_alice') -eq 2 ] &&
    [ \$(count '$DIR_carol') -eq 1 ]"

# ---- by recipient, and split ---------------------------------------------
msg alice@a.test p1@partner.test six@elsewhere.test p2@Partner.TEST
run_sm "$WORK/m" -C "$CONF" -t
check "split: partner.test recipients through the API in one request" t "
    [ $RC -eq 0 ] && [ \$(api_n) -eq 1 ] &&
    [ \"\$(api_to)\" = 'p1@partner.test p2@Partner.TEST' ] &&
    [ \"\$(httpapi_get '$API' 1 verdict)\" = accepted ]"
check "split: the rest on server a, only its recipient" t "
    [ \$(count '$DIR_alice') -eq 3 ] &&
    [ \"\$(rcpts '$DIR_alice' 3)\" = six@elsewhere.test ]"
check "split: each route's copy filtered apart (a.test key on a, none on the API)" t "
    [ \"\$(dkim_d '$DIR_alice' 3)\" = a.test ] &&
    ! grep -q '^DKIM-Signature' '$API/0001.eml'"
check "split: nothing queued" test -z "$(ls "$QUEUE/deferred" 2>/dev/null)"

# ---- what is queued is each route's own copy -----------------------------
runner_hold
httpapi_script "$API" 503
msg alice@a.test p3@partner.test seven@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -v -t
check "API down: its recipient queued, server a's delivered now (exit 0)" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_alice') -eq 4 ] &&
    grep -q 'queued: 1 of 2 recipients deferred' '$WORK/err'"
env=$(ls "$QUEUE"/deferred/*.env)
check "... the queued copy is the API route's: filtered, unsigned" t "
    grep -qx 'filtered yes' '$env' && ! grep -q 'DKIM-Signature' '$env' &&
    grep -q '^rcpt pending p3@partner.test' '$env' &&
    grep -q '^rcpt sent seven@elsewhere.test' '$env'"
"$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
check "queue run: the API recipient delivered once, server a not again" t "
    [ \$(api_n) -eq 3 ] && [ \"\$(api_to)\" = p3@partner.test ] &&
    [ \$(count '$DIR_alice') -eq 4 ] && [ -z \"\$(ls '$QUEUE/deferred')\" ]"

# both routes down: queued unfiltered, each copy made at the next attempt
fault_stop_dir() {	# stop the server whose dir is $1
	for p in $_smtp_fault_pids; do
		[ -e "/proc/$p" ] && tr '\0' ' ' < "/proc/$p/cmdline" |
		    grep -q -- "--dir $1 " && { FAULT_PID=$p; fault_stop; }
	done
}
fault_stop_dir "$DIR_alice"
httpapi_script "$API" 503
msg alice@a.test p4@partner.test eight@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -t
env=$(ls "$QUEUE"/deferred/*.env)
check "two routes down: queued once, unfiltered (no route's signature)" t "
    [ $RC -eq 0 ] && [ \$(ls '$QUEUE'/deferred/*.env | wc -l) -eq 1 ] &&
    grep -qx 'filtered no' '$env' && ! grep -q 'DKIM-Signature' '$env'"
# shellcheck disable=SC2086
fault_start ok $cert --auth --users "alice:pw-alice" || exit 1
DIR_alice2=$FAULT_DIR
routes_conf
sed -i "s/port = $PORT_alice\$/port = $FAULT_PORT/" "$CONF"
"$PLUME" -C "$CONF" queue flush > /dev/null 2>&1
check "next attempt: each route gets its own copy, signed for it, once" t "
    [ \$(count '$DIR_alice2') -eq 1 ] &&
    [ \"\$(rcpts '$DIR_alice2' 1)\" = eight@elsewhere.test ] &&
    [ \"\$(dkim_d '$DIR_alice2' 1)\" = a.test ] &&
    [ \$(api_n) -eq 5 ] && [ \"\$(api_to)\" = p4@partner.test ] &&
    ! grep -q '^DKIM-Signature' '$API/0005.eml' &&
    [ -z \"\$(ls '$QUEUE/deferred')\" ]"
runner_release

# ---- unsigned = refuse, decided among the instances of the route ---------
write_conf "pipeline = dkim:a, dkim:b, smtp:a, smtp:c" \
    '[dkim "a"]' "domain = a.test" "selector = s" "key = $WORK/a.pem" \
    "routes = smtp:a" "unsigned = refuse" \
    '[dkim "b"]' "domain = b.test" "selector = s" "key = $WORK/b.pem" \
    "routes = smtp:c" \
    "$(smtp_route a alice "$FAULT_PORT" "match_from = *@a.test")" \
    "$(smtp_route c carol "$PORT_carol")"
a0=$(count "$DIR_alice2")
msg carol@c.test u1@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -f alice@a.test -t
check "route a, From no key of route a signs: refused (its unsigned = refuse)" t "
    [ $RC -eq 69 ] && grep -q 'not signed: no key for From domain c.test' '$WORK/err' &&
    [ \$(count '$DIR_alice2') -eq $a0 ]"

# ---- a rate limit that belongs to one route ------------------------------
write_conf "pipeline = ratelimit, smtp:a, smtp:c" \
    "[ratelimit]" "messages = 1/hour" "scope = route" "routes = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "match_from = *@a.test")" \
    "$(smtp_route c carol "$PORT_carol")"
"$PLUME" -C "$CONF" route --from alice@a.test --to r@elsewhere.test \
    --to partner@elsewhere.test > "$WORK/route" 2>&1
"$PLUME" -C "$CONF" route --from other@c.test --to r@elsewhere.test \
    > "$WORK/route2" 2>&1
check "plume route: the rate limit on route a, none on the default" t "
    grep -qx '    ratelimit: messages 1/hour per route \"smtp:a\", action defer' '$WORK/route' &&
    ! grep -q ratelimit '$WORK/route2'"
runner_hold
a0=$(count "$DIR_alice2") c0=$(count "$DIR_carol")
for i in 1 2; do
	msg alice@a.test "r$i@elsewhere.test"
	run_sm "$WORK/m" -C "$CONF" -t
	msg other@c.test "s$i@elsewhere.test"
	run_sm "$WORK/m" -C "$CONF" -t
done
check "scope = route, routes = smtp:a: route a limited to 1, the default not" t "
    [ \$(count '$DIR_alice2') -eq \$((a0 + 1)) ] &&
    [ \$(count '$DIR_carol') -eq \$((c0 + 2)) ] &&
    [ \$(ls '$QUEUE'/deferred/*.env | wc -l) -eq 1 ] &&
    grep -q '^rcpt pending r2@elsewhere.test' '$QUEUE'/deferred/*.env"
rm -rf "$QUEUE/deferred"
runner_release

# ---- -odq: what is queued is filtered for its route, when it has one ------
routes_conf
sed -i "s/port = $PORT_alice\$/port = $FAULT_PORT/" "$CONF"
runner_hold
msg alice@a.test q1@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -odq -t
env=$(ls "$QUEUE"/deferred/*.env)
check "-odq, one route: queued signed with that route's key" t "
    [ $RC -eq 0 ] && grep -qx 'filtered yes' '$env' && grep -q 'DKIM-Signature:.* d=a.test' '$env'"
rm -rf "$QUEUE/deferred"
msg alice@a.test q2@elsewhere.test q3@partner.test
run_sm "$WORK/m" -C "$CONF" -odq -t
env=$(ls "$QUEUE"/deferred/*.env)
check "-odq, two routes: queued as it came, each copy made at delivery" t "
    [ $RC -eq 0 ] && grep -qx 'filtered no' '$env' && ! grep -q 'DKIM-Signature' '$env'"
rm -rf "$QUEUE/deferred"
runner_release

# ---- no default route ------------------------------------------------------
write_conf "pipeline = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "match_from = *@a.test")"
check "no default route: config check warns, and shows the route's keys" t "
    '$PLUME' -C '$CONF' config check > '$WORK/cc' 2>&1;
    grep -q 'every transport has match_from or match_rcpt' '$WORK/cc' &&
    grep -qx 'match_from = \*@a.test' '$WORK/cc'"
runner_hold
msg nobody@c.test nine@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -v -t
check "a message no route takes waits in the queue (451 4.3.5, exit 0)" t "
    [ $RC -eq 0 ] && grep -q 'status=deferred (451 4.3.5 no route' '$WORK/err' &&
    '$WORK/bin/mailq' -C '$CONF' | grep -q 'no route'"
run_sm /dev/null -C "$CONF" -bv ten@elsewhere.test
check "-bv says so" grep -qx 'ten@elsewhere.test: deliverable: <ten@elsewhere.test> via (no route)' "$WORK/out"
"$PLUME" -C "$CONF" route --to ten@elsewhere.test > "$WORK/route" 2>&1
RC=$?
check "plume route: no route is exit 69, saying what would happen" t "
    [ $RC -eq 69 ] && grep -q 'no route: .* would wait in the queue (451 4.3.5)' '$WORK/route'"
rm -rf "$QUEUE/deferred"
# one recipient routed and delivered, the other without a route
write_conf "pipeline = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "match_rcpt = partner.test")"
a0=$(count "$DIR_alice2")
msg nobody@c.test p9@partner.test eleven@elsewhere.test
run_sm "$WORK/m" -C "$CONF" -v -t
env=$(ls "$QUEUE"/deferred/*.env 2>/dev/null)
check "one recipient routed and sent, one without a route queued" t "
    [ $RC -eq 0 ] && [ \$(count '$DIR_alice2') -eq \$((a0 + 1)) ] &&
    [ \"\$(rcpts '$DIR_alice2' \$((a0 + 1)))\" = p9@partner.test ] &&
    grep -q '^rcpt pending eleven@elsewhere.test' '$env' &&
    grep -qx 'filtered no' '$env'"
rm -rf "$QUEUE/deferred"
runner_release

# ---- config errors, with file:line -----------------------------------------
write_conf "pipeline = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "match_from = a*@a.test")"
run_sm "$WORK/m" -C "$CONF" -t
check "a bad pattern: exit 78 with file:line and the reason" t "
    [ $RC -eq 78 ] && grep -q \"$CONF:[0-9]*: match_from: 'a\\*@a.test' is not a pattern: '\\*' may only\" '$WORK/err'"
write_conf "pipeline = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "match_rcpt = x@@y")"
run_sm "$WORK/m" -C "$CONF" -t
check "match_rcpt is checked too" t "[ $RC -eq 78 ] && grep -q 'more than one' '$WORK/err'"
write_conf "pipeline = dkim, smtp:a" '[dkim]' "domain = a.test" \
    "selector = s" "key = $WORK/a.pem" "routes = smtp:b, logfile" \
    "$(smtp_route a alice "$FAULT_PORT")"
run_sm "$WORK/m" -C "$CONF" -t
check "routes must name transports in pipeline" t "
    [ $RC -eq 78 ] && grep -q \"routes names 'smtp:b', which is not a transport in pipeline\" '$WORK/err'"
write_conf "pipeline = smtp:a" \
    "$(smtp_route a alice "$FAULT_PORT" "failover = smtp:b")" \
    "$(smtp_route b bob "$PORT_bob" "match_from = *@b.test")"
run_sm "$WORK/m" -C "$CONF" -t
check "match_from on a transport that is only a failover: refused" t "
    [ $RC -eq 78 ] && grep -q 'smtp:b is only a failover' '$WORK/err'"
write_conf "pipeline = outbox" "[outbox]" "routes = smtp"
run_sm "$WORK/m" -C "$CONF" -t
check "routes on a transport is an unknown key" t "
    [ $RC -eq 78 ] && grep -q \"unknown key 'routes'\" '$WORK/err'"
write_conf "pipeline = logfile, outbox" "[logfile]" "path = $WORK/l" \
    "match_from = *@a.test"
run_sm "$WORK/m" -C "$CONF" -t
check "match_from on an observer is an unknown key" t "
    [ $RC -eq 78 ] && grep -q \"unknown key 'match_from'\" '$WORK/err'"
