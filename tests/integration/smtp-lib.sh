# smtp-lib.sh - real SMTP servers on 127.0.0.1 for the SMTP transport's
# integration tests.  Source it after lib.sh:
#
#	. "$top_srcdir/tests/integration/lib.sh"
#	. "$top_srcdir/tests/integration/smtp-lib.sh"
#
# Everything lives under $WORK and is stopped on exit, even when the test
# fails or is interrupted; two tests can run at once (own dirs, own ports).
# POSIX sh (dash), safe under set -e; internal functions are _smtp_*, its
# scratch variables start with "_" (no "local" in POSIX sh).
#
#   smtp_need postfix|fault	before `plan`: skip the whole test (TAP
#				"1..0 # SKIP") when that server cannot run here
#   free_port			print a free TCP port on 127.0.0.1
#   wait_ports [-t SECONDS] PORT...  wait until each accepts connections
#   wait_portfile PID FILE	wait until server PID wrote its port to FILE
#   tls_material DIR		test CA and certificates (see below)
#
#   postfix_start [MAIN.CF-LINE...]   a private Postfix (root only) with
#	(free ports, or PF_FIXED_PORTS="587 465 25" for these three, in a
#	private network namespace: doctor-scenarios.sh)
#	$PF_PORT	plain SMTP, STARTTLS offered, AUTH only after STARTTLS
#	$PF_TLS_PORT	implicit TLS (smtps), AUTH offered
#	$PF_AUTH_PORT	like PF_PORT but relaying to anyone, even to
#			example.test, needs AUTH: proves that AUTH happened
#	$PF_USER $PF_PASS  the SASL account (user@example.test / secret),
#			Cyrus sasldb, mechanisms PLAIN LOGIN CRAM-MD5
#			SCRAM-SHA-256 SCRAM-SHA-1
#	$PF_DIR		the instance ($WORK/postfix), $PF_LOG its log
#	$TLS_DIR	the certificates it uses ($WORK/tls, made if missing)
#     Any recipient, any domain, is delivered into one mbox (one message
#     per recipient); extra arguments are appended to main.cf.
#   postfix_mbox		print the mbox path
#   postfix_count		print how many messages it holds
#   postfix_wait N [SECONDS]	wait until it holds at least N (default 20 s)
#   postfix_messages_dir DIR	split it into DIR/1, DIR/2, ... (see below)
#   postfix_original FILE	print FILE below the headers Postfix added
#   postfix_stop
#
#   fault_start SCENARIO [faultsmtp.py OPTIONS...]  start faultsmtp.py;
#	$FAULT_PORT, $FAULT_DIR (transcript, msg.N, env.N), $FAULT_PID
#   fault_stop			stop the last one started (files stay)
#   fault_count			print how many messages it stored
#   fault_wait N [SECONDS]	wait until it stored at least N
#   smtp_at_exit COMMAND	run COMMAND (eval'd) at exit, before cleanup
#
# The mbox.  Postfix's local(8) writes "mboxo": it turns a line "From x"
# into ">From x" but leaves ">From x" as it is, so the original cannot be
# recovered.  Local delivery here therefore goes through mailbox_command,
# a small script writing "mboxrd" (every /^>*From / line gets one more
# ">"), which postfix_messages_dir undoes exactly.  Each DIR/N is one
# delivered message as Postfix handed it over: Return-Path:, X-Original-To:,
# Delivered-To: and Received: (added by Postfix) on top of what the client
# sent, with LF line ends (Postfix stores lines, not CRLF) and the SMTP
# dot-stuffing undone.  Postfix adds nothing else: header rewriting and
# missing-header insertion are off (local_header_rewrite_clients empty).
# The Received: header says "with ESMTP", "ESMTPS" (TLS), "ESMTPA"/
# "ESMTPSA" (authenticated).  A message for two recipients is two mbox
# messages (X-Original-To tells them apart); local deliveries are serial,
# in queue order.
#
# Certificates (tls_material DIR): EC prime256v1, all signed by one CA.
#	DIR/ca.pem ca.key	the test CA
#	DIR/server.pem .key	SAN IP:127.0.0.1, DNS:localhost
#	DIR/wrong.pem .key	SAN DNS:wrong.example only
#	DIR/expired.pem .key	right names, valid Jan 2020 only

SMTP_PYTHON=/usr/bin/python3
SMTP_FAULT="$top_srcdir/tests/integration/faultsmtp.py"
PF_USER=user@example.test
PF_PASS=secret
PF_DIR=
PF_PORT=
PF_TLS_PORT=
PF_AUTH_PORT=
PF_LOG=
FAULT_PORT=
FAULT_DIR=
FAULT_PID=
TLS_DIR=${TLS_DIR:-$WORK/tls}
_smtp_fault_pids=
_smtp_fault_n=0
_smtp_at_exit=

# ---- cleanup ---------------------------------------------------------
smtp_at_exit() { _smtp_at_exit="$_smtp_at_exit
$1"; }
_smtp_cleanup() {
	set +e
	if [ -n "$_smtp_at_exit" ]; then
		_sc=$_smtp_at_exit
		_smtp_at_exit=
		eval "$_sc"
	fi
	for _sp in $_smtp_fault_pids; do
		_smtp_kill "$_sp"
	done
	_smtp_fault_pids=
	postfix_stop
}
# lib.sh removes $WORK on exit; stop the servers first.  A signal exits,
# which runs the EXIT trap once (PIPE: make check's reader went away).
trap '_smtp_cleanup; runner_release; rm -rf "$WORK"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

_smtp_alive() {	# _smtp_alive PID: running, not a zombie (the master's
	# parent is init, which may take seconds to reap it)
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
	    ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'
}

_smtp_kill() {	# _smtp_kill PID: TERM, then KILL after 3 s; reap it
	kill "$1" 2>/dev/null || return 0
	_sk=0
	while _smtp_alive "$1" && [ $_sk -lt 60 ]; do
		sleep 0.05
		_sk=$((_sk + 1))
	done
	kill -9 "$1" 2>/dev/null || :
	wait "$1" 2>/dev/null || :
	return 0
}

smtp_need() {	# smtp_need postfix|fault: skip the test if it cannot run
	_sn=
	case $1 in
	postfix)
		if [ "$(id -u)" -ne 0 ]; then
			_sn="a private Postfix needs root"
		elif ! [ -x /usr/sbin/postfix ] || ! [ -x /usr/sbin/saslpasswd2 ] ||
		    ! ls /usr/lib/*/sasl2/libplain.so* >/dev/null 2>&1; then
			_sn="postfix, sasl2-bin or libsasl2-modules missing (sh build-aux/deps.sh test)"
		fi ;;
	fault)
		"$SMTP_PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
		    _sn="python3-aiosmtpd missing (sh build-aux/deps.sh test)" ;;
	*) echo "smtp_need: unknown $1" >&2; return 2 ;;
	esac
	command -v openssl >/dev/null || _sn="openssl missing"
	if [ -n "$_sn" ]; then
		echo "1..0 # SKIP $_sn"
		exit 0
	fi
}

# ---- ports -----------------------------------------------------------
free_port() {
	"$SMTP_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

wait_ports() {	# wait_ports [-t SECONDS] PORT...
	_wt=10
	if [ "${1:-}" = -t ]; then _wt=$2; shift 2; fi
	"$SMTP_PYTHON" - "$_wt" "$@" <<'PY'
import socket, sys, time
end = time.monotonic() + float(sys.argv[1])
for port in map(int, sys.argv[2:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > end:
                sys.exit("wait_ports: nothing listens on 127.0.0.1:%d" % port)
            time.sleep(0.05)
PY
}

wait_portfile() {	# wait_portfile PID FILE: until the server PID has
	# written its port to FILE (10 s at most); fails if PID is gone first
	_wp=0
	while ! [ -s "$2" ]; do
		if ! kill -0 "$1" 2>/dev/null || [ $_wp -ge 200 ]; then
			return 1
		fi
		sleep 0.05
		_wp=$((_wp + 1))
	done
}

# ---- certificates ----------------------------------------------------
tls_material() {	# tls_material DIR
	mkdir -p "$1/ca.db" || return 1
	_td=$(cd "$1" && pwd) || return 1
	: > "$_td/ca.db/index.txt"
	cat > "$_td/openssl.cnf" <<EOF || return 1
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = plume test CA
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1, DNS:localhost
[ wrong_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $_td/ca.db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
EOF
	(
		set -e
		cd "$_td"
		cnf=openssl.cnf
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key
		openssl req -config $cnf -new -x509 -key ca.key -sha256 \
		    -days 30 -extensions ca_ext -out ca.pem
		for n in server wrong expired; do
			cn=localhost ext=server_ext
			[ $n = wrong ] && cn=wrong.example ext=wrong_ext
			openssl ecparam -name prime256v1 -genkey -noout -out $n.key
			openssl req -config $cnf -new -key $n.key -subj "/CN=$cn" \
			    -out $n.csr
			if [ $n = expired ]; then
				# x509 -req cannot set dates in OpenSSL 3.0; ca can.
				openssl rand -hex 8 > ca.db/serial
				openssl ca -config $cnf -batch -notext \
				    -extensions $ext -cert ca.pem -keyfile ca.key \
				    -startdate 20200101000000Z \
				    -enddate 20200201000000Z -in $n.csr -out $n.pem
			else
				openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key \
				    -set_serial "0x$(openssl rand -hex 8)" -days 30 \
				    -sha256 -extfile $cnf -extensions $ext -out $n.pem
			fi
		done
		chmod 644 ./*.pem
		chmod 600 ./*.key
	) > "$_td/openssl.log" 2>&1 || {
		echo "tls_material: openssl failed:" >&2
		cat "$_td/openssl.log" >&2
		return 1
	}
}

_smtp_tls() {	# make $TLS_DIR unless there already
	[ -s "$TLS_DIR/server.pem" ] || tls_material "$TLS_DIR"
}

# ---- Postfix ---------------------------------------------------------
postfix_start() {	# postfix_start [MAIN.CF-LINE...]
	if [ -n "$PF_DIR" ] && [ -f "$PF_DIR/queue/pid/master.pid" ]; then
		echo "postfix_start: already running in $PF_DIR" >&2
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "postfix_start: needs root" >&2
		return 1
	fi
	PF_DIR=$WORK/postfix
	PF_LOG=$PF_DIR/postfix.log
	# Postfix's daemons run as postfix, deliveries as sink: both must
	# reach $PF_DIR.  Postfix itself does not mind $WORK's owner or mode,
	# nor /tmp's 1777 (checked: no warning, no refusal); but a private
	# TMPDIR (0700) would lock them out.
	chmod go+x "$WORK"
	_pd=$WORK
	while [ "$_pd" != / ] && [ "$_pd" != . ]; do
		case $(stat -c %A "$_pd") in
		*x|*t) ;;
		*) echo "postfix_start: $_pd is not searchable by others;" \
		    "Postfix's users cannot reach $PF_DIR (set TMPDIR)" >&2
		    return 1 ;;
		esac
		_pd=$(dirname "$_pd")
	done
	_smtp_tls || return 1
	# Every local delivery runs as this user, no home, no shell.
	id sink >/dev/null 2>&1 ||
	    useradd --system --user-group --no-create-home \
	        --home-dir /nonexistent --shell /usr/sbin/nologin sink \
	        >/dev/null 2>&1 || id sink >/dev/null 2>&1 || {
		echo "postfix_start: cannot create the user sink" >&2
		return 1
	}
	mkdir -p "$PF_DIR/conf/sasl" "$PF_DIR/queue" "$PF_DIR/data" \
	    "$PF_DIR/mail" || return 1
	chown postfix "$PF_DIR/data"
	chown sink "$PF_DIR/mail"
	cp /etc/postfix/dynamicmaps.cf "$PF_DIR/conf/"
	cp "$TLS_DIR/server.pem" "$TLS_DIR/server.key" "$PF_DIR/conf/"
	cat > "$PF_DIR/deliver.py" <<'PY'
# mailbox_command: append the message on stdin to the mbox in argv[1] as
# mboxrd (local(8) itself would write mboxo, which loses ">From ").
# local(8) pipes the "From " line, the message unquoted, and a blank line.
import fcntl, os, re, sys
data = sys.stdin.buffer.read()
first, nl, rest = data.partition(b"\n")
rest = re.sub(rb"(?m)^(>*From )", rb">\1", rest)
while not rest.endswith(b"\n\n"):
    rest += b"\n"
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
os.write(fd, first + nl + rest)
os.close(fd)
PY
	cat > "$PF_DIR/conf/main.cf" <<EOF
# A private Postfix for plume's tests (tests/integration/smtp-lib.sh).
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_spool_directory = $PF_DIR/mail
maillog_file = $PF_LOG
maillog_file_prefixes = /var, /dev/stdout, $PF_DIR
syslog_name = postfix-plume-test
myhostname = postfix.test
mydomain = example.test
myorigin = example.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination = \$myhostname, example.test, example.org, example.com,
    example.net, localhost
# Every recipient, of any domain, ends in one mbox.
local_recipient_maps =
luser_relay = sink
alias_maps =
alias_database =
default_transport = local
relay_transport = local
mailbox_command = $SMTP_PYTHON $PF_DIR/deliver.py $PF_DIR/mail/sink
biff = no
notify_classes =
# Fast: no flow control pauses, no sleeping after client errors.
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_tls_loglevel = 1
# What the client sent stays as sent.
local_header_rewrite_clients =
smtputf8_enable = yes
smtpd_tls_cert_file = $PF_DIR/conf/server.pem
smtpd_tls_key_file = $PF_DIR/conf/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
# Debian's Cyrus reads \$cyrus_sasl_config_path/sasl/smtpd.conf.
cyrus_sasl_config_path = $PF_DIR/conf
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
EOF
	printf '%s\n' "$@" >> "$PF_DIR/conf/main.cf"
	cat > "$PF_DIR/conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1
sasldb_path: $PF_DIR/sasldb2
EOF
	rm -f "$PF_DIR/sasldb2"
	printf %s "$PF_PASS" | saslpasswd2 -p -f "$PF_DIR/sasldb2" -c \
	    -u "${PF_USER#*@}" "${PF_USER%@*}" || return 1
	chown postfix "$PF_DIR/sasldb2"
	_pa=0
	while :; do
		_pa=$((_pa + 1))
		if [ -n "${PF_FIXED_PORTS:-}" ]; then
			read -r PF_PORT PF_TLS_PORT PF_AUTH_PORT <<EOF
$PF_FIXED_PORTS
EOF
			_pa=3	# no other ports to try
		else
			PF_PORT=$(free_port) PF_TLS_PORT=$(free_port)
			PF_AUTH_PORT=$(free_port)
		fi
		_smtp_master_cf
		# Postfix rereads a main.cf changed within the current second,
		# sleeping 300 ms each time, for two seconds: backdate it.
		touch -d '1 minute ago' "$PF_DIR/conf/"*
		# check makes the queue tree; quick-start then spares start
		# from running the same checks again.
		postfix -c "$PF_DIR/conf" check >> "$PF_DIR/start.log" 2>&1 &&
		    touch "$PF_DIR/queue/quick-start" &&
		    postfix -c "$PF_DIR/conf" start >> "$PF_DIR/start.log" 2>&1 &&
		    wait_ports "$PF_PORT" "$PF_TLS_PORT" "$PF_AUTH_PORT" && break
		postfix_stop
		if [ $_pa -lt 3 ] &&
		    grep -q 'Address already in use' "$PF_LOG" 2>/dev/null; then
			continue	# lost a race for a port: try others
		fi
		echo "postfix_start: Postfix did not start:" >&2
		cat "$PF_DIR/start.log" "$PF_LOG" >&2 2>/dev/null
		return 1
	done
	export PF_DIR PF_LOG PF_PORT PF_TLS_PORT PF_AUTH_PORT PF_USER PF_PASS TLS_DIR
}

_smtp_master_cf() {
	cat > "$PF_DIR/conf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_PORT inet n - n - - smtpd
127.0.0.1:$PF_TLS_PORT inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
127.0.0.1:$PF_AUTH_PORT inet n - n - - smtpd
  -o mynetworks=
  -o smtpd_client_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       1       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# The processes of our instance: every Postfix daemon works in the queue
# directory; the delivery script under it too.
_smtp_pf_procs() {
	find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$PF_DIR/queue" -o \
	    -lname "$PF_DIR/queue/*" \) 2>/dev/null |
	    sed -n 's|^/proc/\([0-9]*\)/cwd$|\1|p' | grep -vx "$$" || :
}

postfix_stop() {	# stop the instance (SIGTERM to master, as `postfix
	# stop` does, but without its 1-second sleep), wait for every process
	[ -n "$PF_DIR" ] && [ -d "$PF_DIR/queue" ] || return 0
	_mp=$(sed -n '1s/ //gp' "$PF_DIR/queue/pid/master.pid" 2>/dev/null)
	[ -z "$_mp" ] || postfix -c "$PF_DIR/conf" abort >/dev/null 2>&1 || :
	_sw=0
	while [ $_sw -lt 100 ]; do
		_left=$(_smtp_pf_procs)
		[ -z "$_left" ] && ! _smtp_alive "$_mp" && break
		sleep 0.05
		_sw=$((_sw + 1))
	done
	if [ $_sw -ge 100 ]; then
		echo "postfix_stop: killing what is left: $_left" >&2
		# shellcheck disable=SC2086
		kill -9 $_left 2>/dev/null || :
		[ -z "$_mp" ] || kill -9 -"$_mp" 2>/dev/null || :
	fi
	rm -f "$PF_DIR/queue/pid/master.pid"
	return 0
}

postfix_mbox() { echo "$PF_DIR/mail/sink"; }

postfix_count() {
	_pc=$(grep -c '^From ' "$PF_DIR/mail/sink" 2>/dev/null || :)
	echo "${_pc:-0}"
}

postfix_wait() {	# postfix_wait N [SECONDS]
	_pw=$(( ${2:-20} * 20 ))
	while [ "$(postfix_count)" -lt "$1" ]; do
		if [ $_pw -le 0 ]; then
			echo "postfix_wait: $(postfix_count) of $1 messages;" \
			    "Postfix log:" >&2
			tail -n 20 "$PF_LOG" >&2 2>/dev/null
			return 1
		fi
		sleep 0.05
		_pw=$((_pw - 1))
	done
}

postfix_messages_dir() {	# postfix_messages_dir DIR: DIR/1, DIR/2, ...
	mkdir -p "$1" || return 1
	"$SMTP_PYTHON" - "$PF_DIR/mail/sink" "$1" <<'PY'
import fcntl, os, re, sys
mbox, out = sys.argv[1:]
try:
    f = open(mbox, "rb")
except FileNotFoundError:
    sys.exit(0)
fcntl.lockf(f, fcntl.LOCK_SH)
data = f.read()
msgs = []
for line in data.splitlines(keepends=True):
    if line.startswith(b"From "):
        msgs.append([])
    elif msgs:
        msgs[-1].append(line)
for n, lines in enumerate(msgs, 1):
    if lines and lines[-1] == b"\n":
        lines.pop()         # the blank line ending each mbox message
    body = b"".join(re.sub(rb"^>(>*From )", rb"\1", l) for l in lines)
    with open(os.path.join(out, str(n)), "wb") as o:
        o.write(body)
PY
}

postfix_original() {	# postfix_original FILE: below Postfix's headers
	awk 'BEGIN { h = 1 }
	     h == 1 && /^(Return-Path|X-Original-To|Delivered-To): / { next }
	     h == 1 && /^Received: / { h = 2; next }
	     h == 2 && /^[ \t]/ { next }
	     { h = 0; print }' "$1"
}

# ---- faultsmtp -------------------------------------------------------
fault_start() {	# fault_start SCENARIO [OPTIONS...]
	_fs=$1
	shift
	_smtp_fault_n=$((_smtp_fault_n + 1))
	FAULT_DIR=$WORK/fault.$_smtp_fault_n
	mkdir -p "$FAULT_DIR" || return 1
	# Port 0: the server binds a free port itself and writes it to
	# $FAULT_DIR/port once it listens (no race with other tests).
	"$SMTP_PYTHON" "$SMTP_FAULT" --port 0 --dir "$FAULT_DIR" \
	    --scenario "$_fs" --exit-with-parent "$@" \
	    < /dev/null > "$FAULT_DIR/stdout" 2> "$FAULT_DIR/stderr" &
	FAULT_PID=$!
	_smtp_fault_pids="$_smtp_fault_pids $FAULT_PID"
	if ! wait_portfile "$FAULT_PID" "$FAULT_DIR/port"; then
		echo "fault_start: faultsmtp.py $_fs $* did not start:" >&2
		cat "$FAULT_DIR/stderr" >&2
		fault_stop
		return 1
	fi
	FAULT_PORT=$(cat "$FAULT_DIR/port")
	export FAULT_PORT FAULT_DIR FAULT_PID
}

fault_stop() {	# fault_stop: stop the last faultsmtp started
	[ -n "$FAULT_PID" ] || return 0
	_smtp_kill "$FAULT_PID"
	_fl=
	for _fp in $_smtp_fault_pids; do
		[ "$_fp" = "$FAULT_PID" ] || _fl="$_fl $_fp"
	done
	_smtp_fault_pids=$_fl
	FAULT_PID=
}

fault_count() {
	_fc=0
	for _ff in "$FAULT_DIR"/msg.*; do
		[ -e "$_ff" ] && _fc=$((_fc + 1))
	done
	echo $_fc
}

fault_wait() {	# fault_wait N [SECONDS]
	_fw=$(( ${2:-20} * 20 ))
	while [ "$(fault_count)" -lt "$1" ]; do
		[ $_fw -le 0 ] && {
			echo "fault_wait: $(fault_count) of $1 messages" >&2
			return 1
		}
		sleep 0.05
		_fw=$((_fw - 1))
	done
}
