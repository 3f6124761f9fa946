#!/bin/sh
# dkim.sh - the DKIM plugin, every signature checked by two independent
# verifiers offline (python3-dkim and OpenDKIM's test mode, both given
# the public keys from a file: tests/integration/dkim/verify.py): RFC
# 8463's worked examples, both algorithms, all four canonicalizations,
# dual signing, a corpus of awkward messages, key formats and refusals,
# tampering and oversigning, the filter in the real pipeline (outbox and
# the signing table), "plume dkim check" against a DNS server of our own
# (tests/integration/dkim/dnsserver.py), and a message signed, relayed
# through a private Postfix and verified where it arrived.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"

PY=/usr/bin/python3
DK=$top_srcdir/tests/integration/dkim
TD=$top_srcdir/tests/data/dkim
skip=
[ -e "$PLUGINS/dkim.so" ] || skip="the dkim plugin is not built"
"$PY" -c 'import dkim' 2>/dev/null || skip="python3-dkim missing"
"$PY" -c 'import dnslib' 2>/dev/null || skip="python3-dnslib missing"
command -v opendkim >/dev/null 2>&1 || skip="opendkim missing"
command -v openssl >/dev/null 2>&1 || skip="openssl missing"
[ -x /usr/bin/time ] || skip="GNU time missing"
if [ -n "$skip" ]; then
	echo "1..0 # SKIP $skip (sh build-aux/deps.sh test)"
	exit 0
fi

plan 134
K=$WORK/k
mkdir -p "$K"
KEYS=$WORK/keys.txt		# "NAME TXT" per published key
write_conf "pipeline = outbox"

# ---- helpers ---------------------------------------------------------
# zone_line: the zone-file record keygen prints, as one "NAME TXT" line
zone_line() {
	"$PY" -c 'import re, sys
t = sys.stdin.read()
print(t.split()[0].rstrip("."), "".join(re.findall(r"\"([^\"]*)\"", t)))'
}
# pub_rec FILE: the record of a key, made by openssl (not by plume)
pub_rec() {
	if openssl pkey -in "$1" -noout -text 2>/dev/null | grep -q ED25519; then
		printf 'v=DKIM1; k=ed25519; p=%s' "$(openssl pkey -in "$1" \
		    -pubout -outform DER | tail -c 32 | base64 -w0)"
	else
		printf 'v=DKIM1; k=rsa; p=%s' "$(openssl pkey -in "$1" \
		    -pubout -outform DER | base64 -w0)"
	fi
}
# sign IN OUT ARGS...: plume dkim sign; RC holds its exit status
sign() {
	_in=$1 _out=$2
	shift 2
	"$PLUME" -C "$CONF" dkim sign "$@" < "$_in" > "$_out" 2> "$WORK/sign.err"
	RC=$?
	cat "$WORK/sign.err" >> "$WORK/all.err"
}
# verified DESC FILE WANT: both verifiers say WANT about FILE, e.g.
# "dkimpy=pass,pass opendkim=pass,pass"
verified() {
	_got=$("$PY" "$DK/verify.py" "$KEYS" "$2" 2>"$WORK/verify.err")
	if [ "$_got" = "$3" ]; then ok 0 "$1"; else
		ok 1 "$1"
		diag "want: $3"
		diag "got:  $_got"
		sed 's/^/# /' "$WORK/verify.err" "$WORK/sign.err" 2>/dev/null |
		    head -n 20
	fi
}
PASS2="dkimpy=pass,pass opendkim=pass,pass"
FAIL2="dkimpy=fail,fail opendkim=fail,fail"
PASS1="dkimpy=pass opendkim=pass"
# field FILE TAG: the value of a tag of the first DKIM-Signature
field() {
	"$PY" - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head = data.split(b"\n\n")[0].decode("utf-8", "replace")
sig = re.search(r"(?ms)^DKIM-Signature:(.*?)(?=^\S)", head + "\nX")
val = re.sub(r"\s+", "", sig.group(1)) if sig else ""
tags = dict(t.split("=", 1) for t in val.split(";") if "=" in t)
print(tags.get(sys.argv[2], ""))
PY
}
# last_out: the newest outbox message below plume's trace fields
last_out() { strip_trace "$(outbox_last)" > "$1"; }

# ---- keys ------------------------------------------------------------
"$PLUME" -C "$CONF" dkim keygen --domain example.org --selector rsa \
    --out "$K/rsa.pem" > "$WORK/rsa.zone" 2> "$WORK/kg.err"
check "keygen rsa: a 2048-bit key in a new 0600 file" sh -c "
    [ \"\$(stat -c %a '$K/rsa.pem')\" = 600 ] &&
    openssl pkey -in '$K/rsa.pem' -noout -text | grep -q '2048 bit'"
check "keygen rsa: the zone-file record, strings of at most 255 octets" \
    "$PY" -c 'import re, sys
t = open(sys.argv[1]).read()
assert re.match(r"rsa\._domainkey\.example\.org\. IN TXT \( \"v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+\"\n\t\"[A-Za-z0-9+/=]+\" \)\n$", t), t
strs = re.findall(r"\"([^\"]*)\"", t)
assert len(strs) == 2 and all(len(s) <= 255 for s in strs) and len(strs[0]) == 255
' "$WORK/rsa.zone"
zone_line < "$WORK/rsa.zone" > "$KEYS"
"$PLUME" -C "$CONF" dkim keygen --domain example.org --selector ed \
    --type ed25519 --out "$K/ed.pem" > "$WORK/ed.zone" 2>> "$WORK/kg.err"
zone_line < "$WORK/ed.zone" >> "$KEYS"
check "keygen ed25519: PKCS#8 that openssl reads, the record is openssl's key" \
    sh -c "grep -qx 'ed._domainkey.example.org $(pub_rec "$K/ed.pem")' '$KEYS' &&
    grep -qx 'rsa._domainkey.example.org $(pub_rec "$K/rsa.pem")' '$KEYS'"
cp "$K/ed.pem" "$K/ed.keep"
"$PLUME" -C "$CONF" dkim keygen --domain example.org --selector ed \
    --type ed25519 --out "$K/ed.pem" > /dev/null 2> "$WORK/kg2.err"
check "keygen never overwrites a key (exit 73)" sh -c "[ $? -eq 73 ] &&
    cmp -s '$K/ed.pem' '$K/ed.keep' && grep -q 'never overwrites' '$WORK/kg2.err'"
"$PLUME" -C "$CONF" dkim keygen --domain example.org --selector x \
    --bits 512 --out "$K/x.pem" > /dev/null 2> "$WORK/kg3.err"
check "keygen refuses RSA under 1024 bits (exit 64), writes nothing" sh -c "
    [ $? -eq 64 ] && [ ! -e '$K/x.pem' ] && grep -q '1024 to 4096' '$WORK/kg3.err'"

# keys made by openssl: PKCS#1 RSA-1024, PKCS#8 RSA, PKCS#8 Ed25519
openssl genrsa -traditional -out "$K/rsa1024.pem" 1024 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$K/rsa8.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$K/ed8.pem" 2>/dev/null
"$PLUME" -C "$CONF" dkim keygen --domain example.org --selector big \
    --bits 4096 --out "$K/rsa4096.pem" > "$WORK/big.zone" 2> "$WORK/kg4.err"
# the RFC 8463 keys (copied: git keeps them 0644, plume refuses that)
cp "$TD/rfc8463-rsa.pem" "$TD/rfc8463-ed25519.seed" "$K/"
chmod 600 "$K"/*
for s in rsa1024 rsa8 ed8; do
	echo "$s._domainkey.example.org $(pub_rec "$K/$s.pem")" >> "$KEYS"
done
zone_line < "$WORK/big.zone" >> "$KEYS"
cat "$TD/rfc8463-keys.txt" >> "$KEYS"

# ---- RFC 8463 Appendix A ---------------------------------------------
RFCARGS="--domain football.example.com --key $K/rfc8463-ed25519.seed
    --selector brisbane --key $K/rfc8463-rsa.pem --selector test
    --time 1528637909 --headers from:to:subject:date:message-id:from:subject:date"
verified "RFC 8463 A.3: the RFC's own signatures verify with its keys (the test data is right)" \
    "$TD/rfc8463-signed.eml" "$PASS2"
# shellcheck disable=SC2086
sign "$TD/rfc8463-message.eml" "$WORK/rfc.out" $RFCARGS
check "RFC 8463: plume dkim sign --time reproduces the RFC's bh= in both signatures" \
    sh -c "[ $RC -eq 0 ] && [ \$(grep -c 'bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;' '$WORK/rfc.out') -eq 2 ]"
check "RFC 8463: ed25519-sha256 from the raw seed, rsa-sha256 from PKCS#1, t= as given" \
    sh -c "head -n 1 '$WORK/rfc.out' | grep -q 'a=ed25519-sha256; c=relaxed/relaxed;' &&
    grep -q 'a=rsa-sha256; c=relaxed/relaxed; d=football.example.com;' '$WORK/rfc.out' &&
    [ \$(grep -c 't=1528637909;' '$WORK/rfc.out') -eq 2 ]"
verified "RFC 8463: both signatures verify" "$WORK/rfc.out" "$PASS2"
# shellcheck disable=SC2086
sign "$TD/rfc8463-message.eml" "$WORK/rfc.again" $RFCARGS
check "RFC 8463: the output is reproducible byte for byte" \
    cmp -s "$WORK/rfc.out" "$WORK/rfc.again"
check "the 1024-bit RFC key is signed with, and warned about" \
    grep -q 'RSA of 1024 bits: RFC 8301 asks for 2048' "$WORK/sign.err"
check "the signed message is CRLF throughout" "$PY" -c 'import sys
d = open(sys.argv[1], "rb").read()
assert d.count(b"\n") == d.count(b"\r\n") > 10' "$WORK/rfc.out"

# plume names HASH-DRBG as OpenSSL's generator before OpenSSL reads its
# configuration (dkim_key.c), so a [random] section there still decides:
# CTR-DRBG named there signs as well; a generator that does not exist
# makes RSA signing, which draws random numbers for blinding, fail.
printf 'openssl_conf = init\n[init]\nrandom = rnd\n[rnd]\nrandom = %s\n' \
    CTR-DRBG > "$WORK/ctr.cnf"
printf 'openssl_conf = init\n[init]\nrandom = rnd\n[rnd]\nrandom = %s\n' \
    NO-SUCH-DRBG > "$WORK/nodrbg.cnf"
OPENSSL_CONF=$WORK/ctr.cnf sign "$TD/rfc8463-message.eml" "$WORK/ctr.out" \
    --domain example.org --key "$K/rsa.pem" --selector rsa
verified "OpenSSL's [random] section is honoured: CTR-DRBG named there, RSA signs" \
    "$WORK/ctr.out" "$PASS1"
OPENSSL_CONF=$WORK/nodrbg.cnf "$PLUME" -C "$CONF" dkim sign --domain \
    example.org --key "$K/rsa.pem" --selector rsa \
    < "$TD/rfc8463-message.eml" > /dev/null 2> "$WORK/nodrbg.err"
RC=$?
cat "$WORK/nodrbg.err" >> "$WORK/all.err"
check "OpenSSL's [random] section is honoured: a generator it names that does not exist stops RSA signing" \
    sh -c "[ $RC -ne 0 ] && grep -q 'cannot sign' '$WORK/nodrbg.err'"

# ---- a corpus of messages, all four canonicalizations, dual-signed ----
M=$WORK/m
mkdir -p "$M"
HDR='From: Alice <alice@example.org>
To: Bob <bob@example.net>
Date: Thu, 26 Nov 2026 10:00:00 +0000
Message-ID: <m@example.org>'
printf '%s\nSubject: basic\n\nHello Bob.\n' "$HDR" > "$M/basic"
printf '%s\nSubject: crlf\n\nCRLF line\nand another\n' "$HDR" | sed 's/$/\r/' > "$M/crlf"
printf 'Received: from a by b; Thu, 26 Nov 2026 10:00:00 +0000\nReceived: from c\n\tby d; Thu, 26 Nov 2026 09:59:00 +0000\nFrom: Alice\n  <alice@example.org>\nTo: bob@example.net,\n\tcarol@example.net,  \n   dave@example.net\nCc: eve@example.net\nCc: frank@example.net\nSubject: A  folded\tsubject  \n that continues\t  here   \nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <folded@example.org>\nX-Spaced:   spaced \t  out  \nComments: one\nComments: two\n\nBody.\n' > "$M/folded"
printf '%s\nSubject: trailing\n\nline one   \n\tindented\t\n \t \n\n\nlast text line\n\n\n  \n\t\n\n' "$HDR" > "$M/trailing"
printf '%s\nSubject: empty body\n\n' "$HDR" > "$M/empty"
printf '%s\nSubject: no body at all\n' "$HDR" > "$M/nobody"
printf 'From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\nTo: Zo\303\253 <zoe@example.net>\nSubject: Gr\303\274\303\237e \342\234\223 \346\227\245\346\234\254\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\303\244\303\266\303\274 \342\202\254 8-bit\nLatin-1 \351\350 and \377 bytes\n' > "$M/utf8"
{ printf '%s\nSubject: long lines\n\n' "$HDR"; head -c 1500 /dev/zero | tr '\0' 'x'
  printf '\n'; head -c 20000 /dev/zero | tr '\0' 'y'; printf '  \n'; } > "$M/long"
printf '%s\nSubject: no final newline\n\nlast line without newline   ' "$HDR" > "$M/nofinal"
printf '%s\nSubject: spaces and dots\n\n.\n..\n a  b\t\tc \n\t\n.leading dot\nFrom here\n' "$HDR" > "$M/dots"
for c in relaxed/relaxed simple/simple relaxed/simple simple/relaxed; do
	for f in basic crlf folded trailing empty nobody utf8 long nofinal dots; do
		sign "$M/$f" "$WORK/s.$f" --domain example.org --key "$K/rsa.pem" \
		    --key "$K/ed.pem" --selector rsa --selector ed \
		    --canonicalization "$c"
		verified "$c: $f: rsa-sha256 + ed25519-sha256 verify" "$WORK/s.$f" "$PASS2"
	done
done
check "default h=: each field as often as present, plus one oversigned; Received, Comments unsigned" \
    test "$(field "$WORK/s.folded" h)" = From:From:Reply-To:Subject:Subject:Date:Date:To:To:Cc:Cc:Cc:List-Unsubscribe:Message-ID:Message-ID:MIME-Version:Content-Type
# Several spaces after a colon: OpenDKIM's test mode (opendkim -t) drops
# them when it reads the file, so no simple-header signature of such a
# field verifies there, dkimpy's own included; dkimpy checks plume's.
printf '%s\nSubject:   three spaces\n\nbody\n' "$HDR" > "$M/spaced"
sign "$M/spaced" "$WORK/s.sp" --domain example.org --key "$K/rsa.pem" \
    --key "$K/ed.pem" --selector rsa --selector ed --canonicalization relaxed/simple
verified "relaxed: several spaces after the colon" "$WORK/s.sp" "$PASS2"
sign "$M/spaced" "$WORK/s.sp" --domain example.org --key "$K/rsa.pem" \
    --key "$K/ed.pem" --selector rsa --selector ed --canonicalization simple/simple
verified "simple: several spaces after the colon verify in dkimpy (OpenDKIM -t cannot see them)" \
    "$WORK/s.sp" "dkimpy=pass,pass opendkim=fail,fail"
"$PY" - "$M/spaced" "$K/rsa.pem" "$WORK/s.py" <<'PY'
import dkim, sys
msg = open(sys.argv[1], "rb").read().replace(b"\n", b"\r\n")
sig = dkim.sign(msg, b"rsa", b"example.org", open(sys.argv[2], "rb").read(),
                canonicalize=(b"simple", b"simple"))
open(sys.argv[3], "wb").write(sig + msg)
PY
verified "... the same for dkimpy's own signature: OpenDKIM's test mode, not plume" \
    "$WORK/s.py" "dkimpy=pass opendkim=fail"
{ printf '%s\nSubject: attachment\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nsee attached\n--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n' "$HDR"
  head -c 7500000 /dev/urandom | base64; printf -- '--XX--\n'; } > "$M/10m"
for c in relaxed/relaxed simple/simple; do
	sign "$M/10m" "$WORK/s.10m" --domain example.org --key "$K/rsa.pem" \
	    --key "$K/ed.pem" --selector rsa --selector ed --canonicalization "$c"
	verified "$c: a 10 MB attachment" "$WORK/s.10m" "$PASS2"
done

# ---- what sign takes and refuses --------------------------------------
sign "$M/basic" "$WORK/s.h" --domain example.org --key "$K/rsa.pem" \
    --selector rsa --headers 'from:to:subject:from'
check "--headers is the exact h= list" \
    test "$(field "$WORK/s.h" h)" = from:to:subject:from
verified "... and it verifies" "$WORK/s.h" "$PASS1"
sign "$M/basic" "$WORK/s.i" --domain example.org --key "$K/ed.pem" \
    --selector ed --identity alice@mail.example.org --expire 1d --body-length
check "--identity, --expire and --body-length give i=, x= = t= + 86400, l=" \
    test "$(field "$WORK/s.i" i) $(field "$WORK/s.i" x) $(field "$WORK/s.i" l)" = \
    "alice@mail.example.org $(($(field "$WORK/s.i" t) + 86400)) 12"
verified "... and it verifies" "$WORK/s.i" "$PASS1"
sign "$M/basic" "$WORK/s.x" --domain example.org --key "$K/ed.pem" \
    --selector ed --time 1000000000 --expire 1h
verified "a signature past its x= is refused by both verifiers" "$WORK/s.x" \
    "dkimpy=fail opendkim=permerror"
for kind in rsa1024 rsa8 ed8; do
	sign "$M/folded" "$WORK/s.$kind" --domain example.org \
	    --key "$K/$kind.pem" --selector $kind
	verified "key format: $kind (openssl's own file)" "$WORK/s.$kind" "$PASS1"
done
sign "$M/utf8" "$WORK/s.big" --domain example.org --key "$K/rsa4096.pem" \
    --selector big
verified "RSA-4096" "$WORK/s.big" "$PASS1"
sign "$M/basic" "$WORK/s.u" --key "$K/rsa.pem" --selector rsa
check "sign without --domain: usage (64)" \
    sh -c "[ $RC -eq 64 ] && grep -q 'usage: plume dkim sign' '$WORK/sign.err'"
printf 'To: bob@example.net\nSubject: no From\n\nbody\n' > "$M/nofrom"
sign "$M/nofrom" "$WORK/s.nf" --domain example.org --key "$K/rsa.pem" --selector rsa
check "a message without From is not signed (65)" \
    sh -c "[ $RC -eq 65 ] && grep -q 'no From field' '$WORK/sign.err'"
sign "$M/basic" "$WORK/s.nf" --domain example.org --key "$K/rsa.pem" \
    --selector rsa --headers to:subject
check "--headers without From is refused" \
    sh -c "[ $RC -eq 65 ] && grep -q 'must include From' '$WORK/sign.err'"

# keys plume must refuse, each with the reason
refused() {	# refused DESC FILE PATTERN
	sign "$M/basic" "$WORK/s.bad" --domain example.org --key "$2" --selector x
	if [ $RC -eq 78 ] && grep -q "$3" "$WORK/sign.err" && [ ! -s "$WORK/s.bad" ]; then
		ok 0 "$1"
	else
		ok 1 "$1 (exit $RC)"
		sed 's/^/# /' "$WORK/sign.err"
	fi
}
cp "$K/rsa.pem" "$K/open.pem" && chmod 644 "$K/open.pem"
refused "a key readable by others is refused, saying so" "$K/open.pem" \
    'readable by others than its owner and group'
openssl genrsa -out "$K/small.pem" 512 2>/dev/null; chmod 600 "$K/small.pem"
refused "an RSA key of 512 bits is refused" "$K/small.pem" 'RSA key of 512 bits: DKIM needs 1024 to 4096'
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/ec.pem" 2>/dev/null
chmod 600 "$K/ec.pem"
refused "an EC key is refused" "$K/ec.pem" 'DKIM signs with RSA (rsa-sha256) or Ed25519'
openssl pkey -in "$K/rsa.pem" -aes256 -passout pass:x -out "$K/enc.pem" 2>/dev/null
chmod 600 "$K/enc.pem"
refused "an encrypted key is refused" "$K/enc.pem" 'is encrypted'
printf 'not a key\n' > "$K/junk" && chmod 600 "$K/junk"
refused "a file that is no key is refused" "$K/junk" 'neither PEM'
ln -s "$K/rsa.pem" "$K/link.pem"
refused "a symbolic link is not followed" "$K/link.pem" 'symbolic link'

# ---- tampering, oversigning -------------------------------------------
sign "$M/folded" "$WORK/t.base" --domain example.org --key "$K/rsa.pem" \
    --key "$K/ed.pem" --selector rsa --selector ed
tamper() {	# tamper DESC WANT SED-SCRIPT
	sed "$3" "$WORK/t.base" > "$WORK/t.x"
	if cmp -s "$WORK/t.base" "$WORK/t.x"; then
		ok 1 "$1: the edit changed nothing"
		return
	fi
	verified "$1" "$WORK/t.x" "$2"
}
tamper "a changed body fails" "$FAIL2" 's/^Body\./Bodx./'
tamper "a changed Subject fails" "$FAIL2" 's/^Subject: A  folded/Subject: A  changed/'
tamper "a changed From fails" "$FAIL2" 's/<alice@example.org>/<mallory@example.org>/'
tamper "a second From above the first fails (oversigned)" "$FAIL2" \
    '/^Received: from a/i\
From: Mallory <mallory@evil.example>\r'
tamper "a second Subject above the first fails (oversigned)" "$FAIL2" \
    '/^Received: from a/i\
Subject: pay now\r'
tamper "an added Reply-To, absent when signed, fails (oversigned)" "$FAIL2" \
    '/^Received: from a/i\
Reply-To: mallory@evil.example\r'
tamper "an appended body line fails" "$FAIL2" '$a\
P.S. visit evil.example\r'
tamper "relaxed: refolding, white space and a Received on top still verify" "$PASS2" \
    's/^Subject: A  folded\t/Subject: A folded\r\n /; s/^Body\.\r$/Body.   \r/; 1i\
Received: from relay by mx; Thu, 26 Nov 2026 10:01:00 +0000\r'
sign "$M/folded" "$WORK/t.base" --domain example.org --key "$K/rsa.pem" \
    --key "$K/ed.pem" --selector rsa --selector ed --headers from:to:subject
tamper "control: without oversigning, a Subject added above verifies" "$PASS2" \
    '/^Received: from a/i\
Subject: pay now\r'
# dkimpy refuses two From fields on its own account; OpenDKIM does not
tamper "control: ... and a From added above passes OpenDKIM (dkimpy refuses two Froms itself)" \
    "dkimpy=fail,fail opendkim=pass,pass" '/^Received: from a/i\
From: Mallory <mallory@evil.example>\r'
sign "$M/folded" "$WORK/t.base" --domain example.org --key "$K/rsa.pem" \
    --key "$K/ed.pem" --selector rsa --selector ed --canonicalization simple/simple
tamper "simple: refolding a signed field fails" "$FAIL2" \
    's/^Subject: A  folded\t/Subject: A folded\r\n /'

# ---- the filter in the pipeline ---------------------------------------
dconf() {	# dconf [KEY = VALUE...]: pipeline = dkim, outbox
	write_conf "pipeline = dkim, outbox" "[dkim]" "domain = example.org" "$@"
}
# send FILE [sendmail args]: through the pipeline, into the outbox
send() {
	_f=$1
	shift
	run_sm "$_f" -C "$CONF" -i -v "$@" rcpt@example.net
	cat "$WORK/err" >> "$WORK/all.err"
}
dconf "selector = rsa ed" "key = $K/rsa.pem $K/ed.pem"
send "$M/folded"
last_out "$WORK/p1"
check "pipeline: delivered to the outbox, signed by both keys in one pass" \
    sh -c "[ $RC -eq 0 ] && grep -q 'dkim: signed: d=example.org s=rsa a=rsa-sha256' '$WORK/err' &&
    grep -q 'dkim: signed: d=example.org s=ed a=ed25519-sha256' '$WORK/err'"
verified "pipeline: one instance, two keys: both verify in the outbox file" "$WORK/p1" "$PASS2"
send "$M/10m"
last_out "$WORK/p10"
verified "pipeline: the 10 MB attachment" "$WORK/p10" "$PASS2"
send "$M/utf8"
last_out "$WORK/p8"
verified "pipeline: 8-bit body and raw UTF-8 header" "$WORK/p8" "$PASS2"

write_conf "pipeline = dkim, dkim:second, outbox" "[dkim]" "domain = example.org" \
    "selector = rsa" "key = $K/rsa.pem" "[dkim \"second\"]" \
    "domain = example.org" "selector = ed" "key = $K/ed.pem" \
    "canonicalization = simple/relaxed"
send "$M/trailing"
last_out "$WORK/p2"
verified "pipeline: two instances, one key each (the second on top)" "$WORK/p2" "$PASS2"
check "... with their own canonicalizations" \
    test "$(field "$WORK/p2" c) $(field "$WORK/p2" a)" = "simple/relaxed ed25519-sha256"

dconf "selector = rsa" "key = $K/rsa.pem" "canonicalization = simple/simple" \
    "body_length = yes" "expire = 7d" "oversign = none" "headers = From Subject Date"
send "$M/basic"
last_out "$WORK/p3"
verified "pipeline: simple/simple, l=, x=, own header list" "$WORK/p3" "$PASS1"
check "... l= is the body's length, x= is t= + 7 days, h= has no oversigning" \
    test "$(field "$WORK/p3" l) $(field "$WORK/p3" h) $(field "$WORK/p3" x)" = \
    "12 From:Subject:Date $(($(field "$WORK/p3" t) + 604800))"

# the signing table
dconf "selector = rsa" "key = $K/rsa.pem"
printf 'From: x@mail.example.org\nSubject: sub\n\nhi\n' > "$M/sub"
send "$M/sub"
last_out "$WORK/p4"
verified "signing table: a From in a subdomain is signed by default (d=example.org)" "$WORK/p4" "$PASS1"
check "the filter runs after plume's fix-ups: its own Date and Message-ID are signed" \
    sh -c "! grep -q '^Date:' '$M/sub' && echo '$(field "$WORK/p4" h)' |
    grep -q 'Date:Date:To:Cc:.*Message-ID:Message-ID'"
printf 'From: x@other.test\nSubject: other\n\nhi\n' > "$M/other"
send "$M/other"
check "no key for the From domain: passed on unsigned, with a log line" \
    sh -c "[ $RC -eq 0 ] && ! grep -q '^DKIM-Signature' '$(outbox_last)' &&
    grep -q 'dkim: passed on unsigned: no key for From domain other.test' '$WORK/err'"
dconf "selector = rsa" "key = $K/rsa.pem" "unsigned = refuse"
n0=$(outbox_files | wc -l)
send "$M/other"
check "unsigned = refuse: refused for good (69), nothing delivered" \
    sh -c "[ $RC -eq 69 ] && grep -q 'not signed: no key for From domain other.test' '$WORK/err' &&
    [ \$(ls '$QUEUE/outbox/new' | wc -l) -eq $n0 ]"
printf 'From: a@example.org, b@other.test\nSubject: two\n\nhi\n' > "$M/twofrom"
send "$M/twofrom"
check "a From with a mailbox of a domain without key matches nothing" \
    sh -c "[ $RC -eq 69 ] && grep -q 'no key for From domain other.test' '$WORK/err'"
printf 'From: a@example.org\nFrom: b@example.org\nSubject: two\n\nhi\n' > "$M/twofields"
send "$M/twofields"
check "two From fields match nothing" \
    sh -c "[ $RC -eq 69 ] && grep -q 'more than one From field' '$WORK/err'"
write_conf "pipeline = dkim, dkim:other, outbox" "[dkim]" "domain = example.org" \
    "selector = rsa" "key = $K/rsa.pem" "unsigned = refuse" \
    "[dkim \"other\"]" "domain = other.test" "selector = o" "key = $K/ed8.pem"
echo "o._domainkey.other.test $(pub_rec "$K/ed8.pem")" >> "$KEYS"
send "$M/other"
last_out "$WORK/p5"
verified "two domains, two instances: other.test's key signs other.test's mail" "$WORK/p5" "$PASS1"
check "... only it, and the first instance's refuse does not apply" \
    sh -c "[ $RC -eq 0 ] && [ '$(field "$WORK/p5" d)' = other.test ] &&
    [ \$(grep -c '^DKIM-Signature' '$WORK/p5') -eq 1 ]"
printf 'From: x@third.test\nSubject: third\n\nhi\n' > "$M/third"
send "$M/third"
check "... and mail neither has a key for is refused once, by the last" \
    sh -c "[ $RC -eq 69 ] && [ \$(grep -c 'refused unsigned' '$WORK/err') -eq 1 ] &&
    grep -q 'dkim:other: refused unsigned: no key for From domain third.test' '$WORK/err'"
dconf "selector = rsa" "key = $K/rsa.pem" "match_from_domain = *"
send "$M/other"
last_out "$WORK/p6"
verified "match_from_domain = *: any From domain is signed (d=example.org)" "$WORK/p6" "$PASS1"
dconf "selector = rsa" "key = $K/rsa.pem" "sign_by = sender"
send "$M/other" -f bounces@example.org
last_out "$WORK/p7"
verified "sign_by = sender: From other.test, sender example.org: signed" "$WORK/p7" "$PASS1"
dconf "selector = rsa" "key = $K/rsa.pem" "sign_by = sender" "unsigned = refuse"
send "$M/basic" -f bounces@other.test
check "sign_by = sender: the From domain does not count" \
    sh -c "[ $RC -eq 69 ] && grep -q 'no key for sender domain other.test' '$WORK/err'"

# configuration errors stop plume at start (78), with the reason
start_fails() {	# start_fails DESC PATTERN [KEY = VALUE...]
	_d=$1 _p=$2
	shift 2
	dconf "$@"
	run_sm "$M/basic" -C "$CONF" -i rcpt@example.net
	cat "$WORK/err" >> "$WORK/all.err"
	if [ $RC -eq 78 ] && grep -q "$_p" "$WORK/err"; then ok 0 "$_d"; else
		ok 1 "$_d (exit $RC)"
		sed 's/^/# /' "$WORK/err"
	fi
}
start_fails "config: a key others can read stops plume at start (78)" \
    'readable by others' "selector = rsa" "key = $K/open.pem"
start_fails "config: a missing key file" 'cannot open key file' \
    "selector = rsa" "key = $K/nonesuch.pem"
start_fails "config: three selectors for two keys" 'selector names 3 selectors for 2 keys' \
    "selector = a b c" "key = $K/rsa.pem $K/ed.pem"
start_fails "config: headers without From" 'headers must name From' \
    "selector = rsa" "key = $K/rsa.pem" "headers = To Subject"
start_fails "config: a relative key file name" 'absolute name' \
    "selector = rsa" "key = rsa.pem"
start_fails "config: a bad match_from_domain" 'neither a domain' \
    "selector = rsa" "key = $K/rsa.pem" "match_from_domain = exa*mple.org"
dconf "selector = old" "key = $K/rsa1024.pem"
send "$M/basic"
check "an RSA-1024 key: a warning at start, and mail is signed" \
    sh -c "[ $RC -eq 0 ] && grep -q 'is RSA of 1024 bits' '$WORK/err' &&
    grep -q '^DKIM-Signature: v=1; a=rsa-sha256' '$(outbox_last)'"
dconf "selector = rsa" "key = $K/rsa.pem" "canonicalization = loose"
check "plume config check knows the dkim keys' types" \
    sh -c "! '$PLUME' -C '$CONF' config check > /dev/null 2> '$WORK/cc' &&
    grep -q 'canonicalization' '$WORK/cc'"

# ---- flat memory -------------------------------------------------------
# peak RSS signing 100 MB, next to signing 60 bytes: the same, give or take
{ printf '%s\nSubject: big\n\n' "$HDR"; head -c 75000000 /dev/zero | base64; } > "$M/100m"
for f in basic 100m; do
	/usr/bin/time -f %M -o "$WORK/rss.$f" "$PLUME" -C "$CONF" dkim sign \
	    --domain example.org --key "$K/ed.pem" --selector ed < "$M/$f" \
	    > /dev/null 2>> "$WORK/rss.err"
	echo $? >> "$WORK/rss.rc"
done
diag "peak RSS signing 60 bytes: $(cat "$WORK/rss.basic") KiB, 100 MB: $(cat "$WORK/rss.100m") KiB"
if [ -n "${PLUME_VALGRIND:-}" ]; then
	check "a 100 MB body is signed" sh -c "! grep -qv '^0$' '$WORK/rss.rc'"
else
	check "a 100 MB body is signed with flat memory (under 4 MB more than 60 bytes)" \
	    sh -c "! grep -qv '^0$' '$WORK/rss.rc' &&
	    [ \$(cat '$WORK/rss.100m') -lt \$((\$(cat '$WORK/rss.basic') + 4096)) ]"
fi
rm -f "$M/100m"

# ---- plume dkim check, against a DNS server of our own -----------------
ZONE=$WORK/zone
DNSD=$WORK/dns
mkdir -p "$DNSD"
: > "$ZONE"
"$PY" "$DK/dnsserver.py" --zone "$ZONE" --dir "$DNSD" --udp-limit 512 \
    < /dev/null 2> "$DNSD/stderr" &
DNS_PID=$!
smtp_at_exit 'kill $DNS_PID 2>/dev/null'
_w=0
while [ ! -s "$DNSD/port" ] && [ $_w -lt 100 ]; do sleep 0.05; _w=$((_w + 1)); done
DNS_PORT=$(cat "$DNSD/port" 2>/dev/null)
check "a DNS server of our own listens on 127.0.0.1:${DNS_PORT:-?} (UDP and TCP)" \
    test -n "$DNS_PORT"
cconf() {	# cconf KEYS SELECTORS: check's config
	write_conf "dns_server = 127.0.0.1:$DNS_PORT" "pipeline = dkim, outbox" \
	    "[dkim]" "domain = example.org" "selector = $2" "key = $1"
}
dcheck() {	# dcheck: run plume dkim check into $WORK/check, RC
	"$PLUME" -C "$CONF" dkim check > "$WORK/check" 2>&1
	RC=$?
	cat "$WORK/check" >> "$WORK/all.err"
}
grep '._domainkey.example.org ' "$KEYS" > "$ZONE"
cconf "$K/rsa.pem $K/ed.pem $K/rsa4096.pem" "rsa ed big"
dcheck
check "check: every key matches its record: exit 0, one ok line each" \
    sh -c "[ $RC -eq 0 ] && [ \$(grep -c ': ok: the published key matches' '$WORK/check') -eq 3 ]"
check "check: the 4096-bit record came over TCP after a truncated UDP answer" \
    sh -c "grep -qx 'udp big._domainkey.example.org' '$DNSD/queries' &&
    grep -qx 'tcp big._domainkey.example.org' '$DNSD/queries'"
sed -i "s|^ed._domainkey.example.org .*|ed._domainkey.example.org $(pub_rec "$K/ed8.pem")|" "$ZONE"
dcheck
check "check: another key published: MISMATCH, exit 65" \
    sh -c "[ $RC -eq 65 ] && grep -q 'ed._domainkey.example.org (ed25519-sha256.*): MISMATCH' '$WORK/check'"
sed -i "s|^ed._domainkey.example.org .*|ed._domainkey.example.org v=DKIM1; k=rsa; t=y; $(pub_rec "$K/rsa.pem" | sed 's/^v=DKIM1; k=rsa; //')|" "$ZONE"
dcheck
check "check: a record of another key type: MISMATCH naming it" \
    sh -c "[ $RC -eq 65 ] && grep -q 'MISMATCH: the record is for k=rsa, the key is ed25519' '$WORK/check'"
sed -i "s|^ed._domainkey.example.org .*|ed._domainkey.example.org v=DKIM1; k=ed25519; t=y; $(pub_rec "$K/ed.pem" | sed 's/^v=DKIM1; k=ed25519; //')|" "$ZONE"
dcheck
check "check: t=y: TEST, exit 65" \
    sh -c "[ $RC -eq 65 ] && grep -q 'ed._domainkey.example.org (ed25519-sha256.*): TEST: the published key matches, but t=y' '$WORK/check'"
sed -i "/^ed._domainkey/d" "$ZONE"
dcheck
check "check: no record: MISSING, with the record to publish" \
    sh -c "[ $RC -eq 65 ] && grep -q 'ed._domainkey.example.org (ed25519-sha256.*): MISSING' '$WORK/check' &&
    grep -q 'publish:' '$WORK/check'"
sed -n '/publish:/{n;p}' "$WORK/check" | zone_line >> "$ZONE"
dcheck
check "check: the record it said to publish, published, matches" \
    sh -c "[ $RC -eq 0 ] && [ \$(grep -c ': ok:' '$WORK/check') -eq 3 ]"
echo "rsa._domainkey.example.org v=DKIM1; k=rsa; p=" > "$ZONE.new"
grep -v '^rsa\.' "$ZONE" >> "$ZONE.new" && mv "$ZONE.new" "$ZONE"
dcheck
check "check: p= empty: REVOKED" \
    sh -c "[ $RC -eq 65 ] && grep -q 'rsa._domainkey.example.org (rsa-sha256.*): REVOKED' '$WORK/check'"
# every configured instance is checked (ABI 1.3), not only the first
grep '._domainkey.example.org ' "$KEYS" > "$ZONE"
echo "ed._domainkey.example.net $(pub_rec "$K/ed.pem")" >> "$ZONE"
write_conf "dns_server = 127.0.0.1:$DNS_PORT" "pipeline = dkim, dkim:net, outbox" \
    "[dkim]" "domain = example.org" "selector = rsa" "key = $K/rsa.pem" \
    '[dkim "net"]' "domain = example.net" "selector = ed" "key = $K/ed.pem"
dcheck
check "check: both instances, each key ok" \
    sh -c "[ $RC -eq 0 ] && grep -q '^dkim: d=example.org' '$WORK/check' && grep -q '^dkim:net: d=example.net' '$WORK/check' && grep -q 'ed._domainkey.example.net (ed25519-sha256.*): ok' '$WORK/check'"
write_conf "dns_server = 127.0.0.1:$(free_port)" "pipeline = dkim, outbox" \
    "[dkim]" "domain = example.org" "selector = rsa" "key = $K/rsa.pem"
dcheck
check "check: no DNS answer: ERROR, exit 75" \
    sh -c "[ $RC -eq 75 ] && grep -q 'rsa._domainkey.example.org (rsa-sha256.*): ERROR' '$WORK/check'"
write_conf "pipeline = outbox"
dcheck
check "check: no [dkim] configured: exit 78" sh -c "[ $RC -eq 78 ]"

# ---- end to end through Postfix -----------------------------------------
if [ "$(id -u)" -ne 0 ] || ! [ -x /usr/sbin/postfix ]; then
	for d in 1 2 3; do
		echo "ok $((T + 1)) # SKIP a private Postfix needs root and postfix"
		T=$((T + 1))
	done
else
	postfix_start > "$WORK/pf.log" 2>&1
	ok $? "private Postfix started on 127.0.0.1:$PF_PORT"
	write_conf "pipeline = dkim, smtp" "[dkim]" "domain = example.org" \
	    "selector = rsa ed" "key = $K/rsa.pem $K/ed.pem" "[smtp]" \
	    "host = 127.0.0.1" "port = $PF_PORT" "tls = none"
	n=0
	for f in folded utf8; do
		n=$((n + 1))
		run_sm "$M/$f" -C "$CONF" -i -f alice@example.org rcpt@example.test
		cat "$WORK/err" >> "$WORK/all.err"
		postfix_wait $n >/dev/null 2>&1
		rm -rf "$WORK/msgs"
		postfix_messages_dir "$WORK/msgs"
		# Postfix stores LF: back to CRLF for the verifiers
		sed 's/$/\r/' "$WORK/msgs/$n" > "$WORK/pf.$f"
		verified "Postfix: $f, signed, relayed, verified where it arrived (below Postfix's Received)" \
		    "$WORK/pf.$f" "$PASS2"
	done
fi

# Every plume run's standard error was kept: with PLUME_VALGRIND=1 or a
# sanitizer build, any report there fails the test.
cat "$WORK"/kg*.err "$WORK"/rss.err "$WORK"/cc >> "$WORK/all.err" 2>/dev/null
check "no memory error or leak reported by valgrind or the sanitizers" \
    sh -c "! grep -E '==[0-9]+==|AddressSanitizer|LeakSanitizer|runtime error:' '$WORK/all.err'"
