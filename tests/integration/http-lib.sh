# http-lib.sh - the strict provider-API server (httpapi.py) for the http
# transport's integration tests.  Source it after lib.sh (it brings in
# smtp-lib.sh for the certificates, ports and the cleanup at exit):
#
#	. "$top_srcdir/tests/integration/lib.sh"
#	. "$top_srcdir/tests/integration/http-lib.sh"
#
# Everything lives under $WORK and is stopped on exit, even when the test
# fails or is interrupted.  POSIX sh (dash); internal names start with _.
#
#   http_need [curl]		before `plan`: skip the whole test (TAP
#				"1..0 # SKIP") when the server (or curl) cannot
#				run here
#   http_ca_make DIR		test CA and a server certificate for
#				127.0.0.1 and localhost (smtp-lib.sh's
#				tls_material: DIR/ca.pem, DIR/server.pem .key)
#   httpapi_start DIR PROVIDERCONF   start httpapi.py recording into DIR
#				with the provider configuration (a JSON file),
#				certificates from $TLS_DIR (made if missing);
#				sets $HTTPAPI_PORT, $HTTPAPI_URL
#				(https://127.0.0.1:PORT), $HTTPAPI_DIR,
#				$HTTPAPI_PID; killed at exit
#   httpapi_stop		stop the last one started (files stay)
#   httpapi_count DIR		print how many requests it recorded
#   httpapi_wait DIR N [SECONDS]  wait until it recorded at least N
#   httpapi_script DIR LINE...	append scripted answers, one a line
#				("429 retry-after=30", "drop", "slow=5", ...)
#   httpapi_get DIR N PATH	print a field of request N's record:
#				PATH is dotted keys and indexes, e.g.
#				"status", "envelope.to", "violations.0";
#				lists and objects print as JSON
#
# The files httpapi.py writes (DIR/NNNN.json, .body, .eml) and the rules
# it enforces are described at the top of httpapi.py.

command -v tls_material > /dev/null 2>&1 ||
    . "$top_srcdir/tests/integration/smtp-lib.sh"

HTTPAPI_PY="$top_srcdir/tests/integration/httpapi.py"
HTTPAPI_PORT=
HTTPAPI_URL=
HTTPAPI_DIR=
HTTPAPI_PID=

http_need() {	# http_need [curl]
	_hn=
	"$SMTP_PYTHON" -c 'import ssl, http.server' 2>/dev/null ||
	    _hn="python3 with ssl missing (sh build-aux/deps.sh test)"
	command -v openssl > /dev/null || _hn="openssl missing"
	if [ "${1:-}" = curl ] && ! command -v curl > /dev/null; then
		_hn="curl missing (sh build-aux/deps.sh test)"
	fi
	if [ -n "$_hn" ]; then
		echo "1..0 # SKIP $_hn"
		exit 0
	fi
}

http_ca_make() {	# http_ca_make DIR
	[ -s "$1/server.pem" ] || tls_material "$1"
}

httpapi_start() {	# httpapi_start DIR PROVIDERCONF
	http_ca_make "$TLS_DIR" || return 1
	mkdir -p "$1" || return 1
	HTTPAPI_DIR=$(cd "$1" && pwd)
	rm -f "$HTTPAPI_DIR/port"
	"$SMTP_PYTHON" "$HTTPAPI_PY" --cert "$TLS_DIR/server.pem" \
	    --key "$TLS_DIR/server.key" --port 0 \
	    --portfile "$HTTPAPI_DIR/port" --dir "$HTTPAPI_DIR" \
	    --provider-config "$2" --exit-with-parent \
	    < /dev/null > "$HTTPAPI_DIR/stdout" 2> "$HTTPAPI_DIR/stderr" &
	HTTPAPI_PID=$!
	smtp_at_exit "_smtp_kill $HTTPAPI_PID"
	if ! wait_portfile "$HTTPAPI_PID" "$HTTPAPI_DIR/port"; then
		echo "httpapi_start: httpapi.py did not start:" >&2
		cat "$HTTPAPI_DIR/stderr" >&2
		httpapi_stop
		return 1
	fi
	HTTPAPI_PORT=$(cat "$HTTPAPI_DIR/port")
	HTTPAPI_URL=https://127.0.0.1:$HTTPAPI_PORT
	export HTTPAPI_PORT HTTPAPI_URL HTTPAPI_DIR HTTPAPI_PID
}

httpapi_stop() {
	[ -n "$HTTPAPI_PID" ] || return 0
	_smtp_kill "$HTTPAPI_PID"
	HTTPAPI_PID=
}

httpapi_count() {	# httpapi_count DIR
	_hc=0
	for _hf in "$1"/[0-9][0-9][0-9][0-9].json; do
		[ -e "$_hf" ] && _hc=$((_hc + 1))
	done
	echo $_hc
}

httpapi_wait() {	# httpapi_wait DIR N [SECONDS]
	_hw=$(( ${3:-20} * 20 ))
	while [ "$(httpapi_count "$1")" -lt "$2" ]; do
		[ $_hw -le 0 ] && {
			echo "httpapi_wait: $(httpapi_count "$1") of $2 requests" >&2
			return 1
		}
		sleep 0.05
		_hw=$((_hw - 1))
	done
}

httpapi_script() {	# httpapi_script DIR LINE...: append, atomically
	_hd=$1
	shift
	{
		cat "$_hd/script" 2>/dev/null
		printf '%s\n' "$@"
	} > "$_hd/.script.new" && mv "$_hd/.script.new" "$_hd/script"
}

httpapi_get() {	# httpapi_get DIR N PATH
	"$SMTP_PYTHON" - "$1" "$2" "$3" <<'PY'
import json, sys
d, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
v = json.load(open("%s/%04d.json" % (d, n)))
for k in filter(None, path.split(".")):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))
PY
}
