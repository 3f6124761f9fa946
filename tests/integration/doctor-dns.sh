#!/bin/sh
# doctor-dns.sh - "plume doctor"'s sender-domain checks (the domain and
# dkim plugins' probes) against a DNS server of our own
# (tests/integration/dnszone.py, python3-dnslib) on 127.0.0.1 and a
# correct SMTP relay (faultsmtp.py): each scenario publishes a zone that
# recreates a real cause and asserts the diagnosis, the remedy, and that
# the findings are warnings unless --strict.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
. "$top_srcdir/tests/integration/doctor-lib.sh"
smtp_need fault
[ -e "$PLUGINS/domain.so" ] || { echo "1..0 # SKIP the domain plugin is not built (c-ares)"; exit 0; }
[ -e "$PLUGINS/dkim.so" ] || { echo "1..0 # SKIP the dkim plugin is not built"; exit 0; }
/usr/bin/python3 -c 'import dnslib' 2>/dev/null ||
    { echo "1..0 # SKIP python3-dnslib missing (sh build-aux/deps.sh test)"; exit 0; }

plan 38
LC_ALL=C.UTF-8
export LC_ALL

fault_start ok
ok $? "a correct SMTP relay listens on 127.0.0.1:$FAULT_PORT"

ZONE=$WORK/zone
DNSD=$WORK/dns
mkdir -p "$DNSD"
: > "$ZONE"
/usr/bin/python3 "$top_srcdir/tests/integration/dnszone.py" --zone "$ZONE" \
    --dir "$DNSD" < /dev/null 2> "$DNSD/stderr" &
DNS_PID=$!
smtp_at_exit 'kill $DNS_PID 2>/dev/null'
wait_portfile "$DNS_PID" "$DNSD/port"
DNS_PORT=$(cat "$DNSD/port" 2>/dev/null)
check "a DNS server of our own listens on 127.0.0.1:${DNS_PORT:-?}" \
    test -n "$DNS_PORT"

# the signing key and its record; another key for a mismatch
write_conf "pipeline = outbox"
"$PLUME" -C "$CONF" dkim keygen --domain example.test --selector s1 \
    --out "$WORK/s1.pem" > "$WORK/s1.zone" 2>/dev/null
"$PLUME" -C "$CONF" dkim keygen --domain example.test --selector s1 \
    --type ed25519 --out "$WORK/other.pem" > "$WORK/other.zone" 2>/dev/null
rec() { tr -d '\n\t' < "$1" | sed 's/^[^"]*( *//; s/ *)$//; s/" *"//g; s/"//g'; }
DKIM_REC=$(rec "$WORK/s1.zone")
OTHER_REC=$(rec "$WORK/other.zone")
case $DKIM_REC in v=DKIM1*p=*) r=0 ;; *) r=1 ;; esac
ok $r "plume dkim keygen made the key and its record"

write_conf "dns_server = 127.0.0.1:$DNS_PORT" "pipeline = dkim, smtp" \
    "[dkim]" "domain = example.test" "selector = s1" "key = $WORK/s1.pem" \
    "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" "tls = none" \
    "command_timeout = 10s"

# zone [LINE...]: the base zone (MX, a PTR, the EHLO name, the DKIM key,
# DMARC p=reject) with SPF and anything else from the arguments; a
# "-NAME" argument drops the base lines for NAME
zone() {
	{
		echo "example.test MX 10 mx.example.test"
		echo "mx.example.test A 127.0.0.9"
		echo "1.0.0.127.in-addr.arpa PTR relay.example.test"
		echo "relay.example.test A 127.0.0.1"
		echo "test.example.org A 127.0.0.1"
		echo "s1._domainkey.example.test TXT $DKIM_REC"
		echo "_dmarc.example.test TXT v=DMARC1; p=reject; rua=mailto:d@example.test"
	} > "$ZONE.base"
	for a in "$@"; do
		case $a in
		-*) grep -v "^${a#-} " "$ZONE.base" > "$ZONE.tmp"
		    mv "$ZONE.tmp" "$ZONE.base" ;;
		esac
	done
	cp "$ZONE.base" "$ZONE"
	for a in "$@"; do
		case $a in -*) ;; *) printf '%s\n' "$a" >> "$ZONE" ;; esac
	done
}

# dns_doctor ARGS...: doctor (doctor-lib.sh) about the test's sender domain
dns_doctor() { doctor --from user@example.test "$@"; }

# ---- all good -----------------------------------------------------------
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all"
dns_doctor
expect "SPF, DKIM, DMARC all good: every sender-domain check passes, exit 0" 0 \
    '^·  domain sender: domain example\.test \(of user@example\.test\), DNS: 127\.0\.0\.1:' \
    '^✓  domain mx: example\.test receives mail at mx\.example\.test$' \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: ip4:127\.0\.0\.1 matched in the SPF record of example\.test \(0 DNS lookups of 10\)$' \
    '^✓  dkim key: s1\._domainkey\.example\.test: the published key matches \(rsa-sha256, 2048 bits, ' \
    '^✓  domain dmarc: _dmarc\.example\.test: p=reject, adkim=r, aspf=r$' \
    '^✓  domain alignment: From domain example\.test aligns through DKIM d=example\.test \(adkim=r\) and SPF$' \
    '^·  domain ptr: the relay address 127\.0\.0\.1 has the name relay\.example\.test$' \
    '^·  domain helo: the EHLO name test\.example\.org resolves to 127\.0\.0\.1$' \
    ', 0 failed$'
dns_doctor --strict
expect "--strict with nothing to warn about: exit 0" 0 ', 0 failed$'

# ---- SPF ----------------------------------------------------------------
zone
dns_doctor
expect "SPF missing: a warning with the record to publish, exit 0" 0 \
    '^!  domain spf: example\.test publishes no SPF record: receivers cannot tell that the relay 127\.0\.0\.1 may send for it$' \
    '^   fix: publish example\.test TXT "v=spf1 ip4:127\.0\.0\.1 ~all" \(with an include: for each other service that sends as example\.test\)$' \
    ', 0 failed$'
dns_doctor --strict
expect "SPF missing with --strict: exit 1, the warning counted" 1 \
    ', 0 failed, 1 sender-domain warning counted as failures \(--strict\)$'
dns_doctor --strict --json
expect "--json --strict: the finding stays a warning, exit 1" 1 \
    '"check": "spf", "instance": "domain", "status": "warn", "text": "example\.test publishes no SPF record'
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/doc"
ok $? "--json prints one valid JSON document"

zone "example.test TXT v=spf1 ip4:192.0.2.1 -all"
dns_doctor
expect "SPF not covering the relay (-all): fail, and the term to add" 0 \
    '^!  domain spf: fail for the relay 127\.0\.0\.1: -all matched in the SPF record of example\.test: receivers may refuse the mail$' \
    "^   fix: add ip4:127\.0\.0\.1 \(or the include: your relay's provider documents\) to the SPF record of example\.test$"
zone "example.test TXT v=spf1 ip4:192.0.2.1 ~all"
dns_doctor
expect "SPF not covering the relay (~all): softfail" 0 \
    '^!  domain spf: softfail for the relay 127\.0\.0\.1: ~all matched in the SPF record of example\.test: receivers count it against the mail$' \
    "^   fix: add ip4:127\.0\.0\.1 "
dns_doctor --strict
expect "softfail with --strict: exit 1" 1 'counted as failures \(--strict\)$'

zone "example.test TXT v=spf1 include:_spf.provider.test -all" \
    "_spf.provider.test TXT v=spf1 ip4:10.9.9.9 ip4:127.0.0.0/8 -all"
dns_doctor
expect "SPF pass through include:" 0 \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: include:_spf\.provider\.test matched in the SPF record of example\.test \(1 DNS lookup of 10\)$'
zone "example.test TXT v=spf1 ip4:192.0.2.0/24 a:relay.example.test -all"
dns_doctor
expect "SPF pass through a:" 0 \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: a:relay\.example\.test matched in the SPF record of example\.test'
zone "example.test TXT v=spf1 mx -all" -mx.example.test \
    "mx.example.test A 127.0.0.1"
dns_doctor
expect "SPF pass through mx" 0 \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: mx matched in the SPF record of example\.test'
zone "example.test TXT v=spf1 exists:%{i}.spf.example.test -all" \
    "127.0.0.1.spf.example.test A 127.0.0.2"
dns_doctor
expect "SPF pass through exists: with a macro" 0 \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: exists:%\{i\}\.spf\.example\.test matched'
zone "example.test TXT v=spf1 redirect=_spf.example.test" \
    "_spf.example.test TXT v=spf1 ip4:127.0.0.1 -all"
dns_doctor
expect "SPF pass through redirect=" 0 \
    '^✓  domain spf: pass for the relay 127\.0\.0\.1: ip4:127\.0\.0\.1 matched in the SPF record of _spf\.example\.test'

zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" \
    "example.test TXT v=spf1 include:_spf.provider.test ~all"
dns_doctor
expect "two SPF records: permerror, merge them" 0 \
    '^!  domain spf: permerror for the relay 127\.0\.0\.1: example\.test publishes 2 v=spf1 records: there must be exactly one$' \
    '^   fix: merge the v=spf1 records of example\.test into one TXT record$'
many="example.test TXT v=spf1"
set --
for i in 1 2 3 4 5 6 7 8 9 10 11; do
	many="$many a:h$i.example.test"
	set -- "$@" "h$i.example.test A 10.0.0.$i"
done
zone "$many -all" "$@"
dns_doctor
expect "too many DNS lookups: permerror, flatten the record" 0 \
    '^!  domain spf: permerror for the relay 127\.0\.0\.1: more than 10 DNS lookups \(include, a, mx, ptr, exists, redirect\): a:h11\.example\.test is the 11th$' \
    '^   fix: bring the SPF record of example\.test down to 10 DNS lookups at most: replace include:, a and mx terms with ip4:/ip6: ranges$'
zone "example.test TXT v=spf1 ip4:127.0.0.1/33 -all"
dns_doctor
expect "an invalid SPF record: permerror with the reason" 0 \
    '^!  domain spf: permerror for the relay 127\.0\.0\.1: the SPF record of example\.test is invalid: ip4:127\.0\.0\.1/33 is not valid$' \
    '^   fix: correct the SPF record of example\.test \(RFC 7208 section 12 gives its syntax\)$'
zone "example.test TXT v=spf1 a:v1.example.test a:v2.example.test a:v3.example.test ip4:127.0.0.1 -all"
dns_doctor
expect "more than 2 void lookups: permerror" 0 \
    '^!  domain spf: permerror for the relay 127\.0\.0\.1: more than 2 lookups found nothing \(the last: a:v3\.example\.test\)$'

# ---- DKIM ---------------------------------------------------------------
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" -s1._domainkey.example.test
dns_doctor
expect "DKIM record missing: the record to publish" 0 \
    '^!  dkim key: s1\._domainkey\.example\.test: no TXT record: receivers cannot verify the signatures of .*/s1\.pem \(rsa-sha256, 2048 bits\)$' \
    '^   fix: publish s1\._domainkey\.example\.test TXT "v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+"$' \
    '^✓  domain alignment: From domain example\.test aligns through SPF \(pass for the relay, aspf=r\)$'
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" -s1._domainkey.example.test \
    "s1._domainkey.example.test TXT $OTHER_REC"
dns_doctor
expect "DKIM record of another key: mismatch, the record to put in its place" 0 \
    "^!  dkim key: s1\._domainkey\.example\.test: the record is for k=ed25519, the key is rsa: receivers cannot verify" \
    '^   fix: publish s1\._domainkey\.example\.test TXT "v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+" in place of the record there$'
dns_doctor --strict
expect "DKIM mismatch with --strict: exit 1" 1 'counted as failures \(--strict\)$'

# ---- DMARC --------------------------------------------------------------
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" -_dmarc.example.test
dns_doctor
expect "DMARC missing: a p=none record to start with" 0 \
    '^!  domain dmarc: no DMARC record at _dmarc\.example\.test$' \
    '^   fix: publish _dmarc\.example\.test TXT "v=DMARC1; p=none; rua=mailto:postmaster@example\.test" \(p=none only asks for reports: tighten it once they show your mail aligned\)$'
zone "example.test TXT v=spf1 ip4:192.0.2.1 -all" -s1._domainkey.example.test
dns_doctor
expect "DMARC p=reject without alignment: your mail will be rejected" 0 \
    '^!  domain alignment: p=reject without alignment: your mail will be rejected \(no DKIM key for a d= aligned with example\.test is published, and SPF does not pass for the relay\)$' \
    '^   fix: sign as example\.test: a \[dkim\] instance with domain = example\.test in pipeline and its key published \(plume dkim keygen prints the record\), or make SPF pass for the relay$'
dns_doctor --strict
expect "p=reject without alignment with --strict: exit 1" 1 \
    ', 0 failed, 3 sender-domain warnings counted as failures \(--strict\)$'
zone "example.test TXT v=spf1 ip4:192.0.2.1 -all" -_dmarc.example.test \
    "_dmarc.example.test TXT v=DMARC1; p=quarantine; adkim=s"
dns_doctor
expect "DMARC aligned through DKIM only (adkim=s): ok" 0 \
    '^✓  domain dmarc: _dmarc\.example\.test: p=quarantine, adkim=s, aspf=r$' \
    '^✓  domain alignment: From domain example\.test aligns through DKIM d=example\.test \(adkim=s\)$'
"$PLUME" -C "$CONF" doctor --from user@mail.example.test > "$WORK/doc" 2>&1
RC=$?
expect "a subdomain: the organizational domain's DMARC record, relaxed DKIM alignment" 0 \
    '^✓  domain dmarc: _dmarc\.example\.test: p=quarantine, adkim=s, aspf=r \(the organizational domain.s record, for mail\.example\.test\)$' \
    '^!  domain alignment: p=quarantine without alignment: your mail will go to spam'

# ---- MX -----------------------------------------------------------------
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" -example.test \
    "example.test TXT v=spf1 ip4:127.0.0.1 -all" "example.test A 127.0.0.9"
dns_doctor
expect "MX missing, an A record: the fallback, said as a fact" 0 \
    '^·  domain mx: example\.test has no MX record: mail for it goes to its address 127\.0\.0\.9 \(the A fallback of RFC 5321 5\.1\)$'
zone -example.test "example.test TXT v=spf1 ip4:127.0.0.1 -all"
dns_doctor
expect "MX missing and no address: a warning" 0 \
    '^!  domain mx: example\.test has no MX record and no address: it takes no mail, and receivers may refuse mail from it$' \
    '^   fix: publish an MX record for example\.test: replies and bounces to user@example\.test need one$'
"$PLUME" -C "$CONF" doctor --from user@nowhere.test > "$WORK/doc" 2>&1
RC=$?
expect "a sender domain that does not exist" 0 \
    '^!  domain mx: nowhere\.test does not exist in DNS: receivers refuse mail from it$'

# ---- PTR, EHLO name, a silent DNS server ---------------------------------
zone "example.test TXT v=spf1 ip4:127.0.0.1 -all" -1.0.0.127.in-addr.arpa \
    -test.example.org
dns_doctor
expect "no PTR and an EHLO name that does not resolve: facts, not warnings" 0 \
    '^·  domain ptr: the relay address 127\.0\.0\.1 has no PTR record' \
    '^·  domain helo: the EHLO name test\.example\.org does not resolve'
dns_doctor --strict
expect "facts do not count with --strict" 0 ', 0 failed$'

# no SMTP relay (the outbox here; an HTTP API alike): SPF is only read
write_conf "dns_server = 127.0.0.1:$DNS_PORT" "pipeline = outbox"
zone "example.test TXT v=spf1 include:_spf.provider.test -all"
dns_doctor
expect "no SMTP relay: the SPF record is read and checked, not evaluated" 0 \
    '^·  domain spf: example\.test publishes "v=spf1 include:_spf\.provider\.test -all"; no SMTP relay to evaluate it for \(an HTTP API.s provider sends from its own addresses: its documentation names the include: to add\)$'

SILENT=$(free_port)
write_conf "dns_server = 127.0.0.1:$SILENT" "pipeline = smtp" \
    "[smtp]" "host = 127.0.0.1" "port = $FAULT_PORT" "tls = none"
t0=$(date +%s)
dns_doctor
t1=$(date +%s)
expect "no DNS answer: warnings naming the server, exit 0" 0 \
    "^!  domain mx: no answer for example\.test MX from 127\.0\.0\.1:$SILENT: " \
    '^   fix: check that dns_server \(or the system resolver\) answers$'
[ $((t1 - t0)) -lt 30 ]
ok $? "a DNS server that does not answer costs one timeout, not one per name ($((t1 - t0)) s)"

# ---- without the domain plugin (c-ares not found at build time) ----------
rm -f "$PLUGINS/domain.so"
dns_doctor
expect "no domain plugin: doctor says why and goes on, exit 0" 0 \
    "^·  domain: no sender-domain checks: unknown plugin 'domain': no domain\.so in "
