# doctor-lib.sh - running "plume doctor" in the integration tests and
# asserting on what it prints.  Source it after lib.sh and smtp-lib.sh
# (doctor.sh, doctor-scenarios.sh, doctor-dns.sh).
#
#   smtp_conf PORT [LINE...]	a config with one [smtp] instance at
#				127.0.0.1:PORT trusting the test CA
#   doctor ARGS...		run plume -C $CONF doctor ARGS: output in
#				$WORK/doc (stderr in doc.err), exit in $RC,
#				seconds taken in $DOC_SECS; with
#				DOCTOR_SAVE=FILE in the environment, the
#				config and output of every run are appended
#				to FILE (how docs/troubleshooting.md got them)
#   has REGEX			the output holds a line matching it
#   show			the output, as TAP comments
#   expect DESCRIPTION RC REGEX...  one TAP check: exit RC and every
#				regex found (the missing ones as comments)

smtp_conf() {	# smtp_conf PORT [KEY = VALUE...]
	_dp=$1
	shift
	write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
	    "port = $_dp" "tls_ca_file = $TLS_DIR/ca.pem" \
	    "command_timeout = 10s" "$@"
}

doctor() {
	set +e
	_dt=$(date +%s)
	"$PLUME" -C "$CONF" doctor "$@" > "$WORK/doc" 2> "$WORK/doc.err"
	RC=$?
	DOC_SECS=$(( $(date +%s) - _dt ))
	if [ -n "${DOCTOR_SAVE:-}" ]; then
		{
			echo "==== plume doctor $* (exit $RC, ${DOC_SECS}s)"
			grep -v '^\(hostname\|domain\|queue_dir\|plugin_dir\|syslog\) = ' "$CONF"
			echo "----"
			cat "$WORK/doc"
		} >> "$DOCTOR_SAVE"
	fi
	set -e 2>/dev/null || true
	set +e
}
has() { grep -E -q -- "$1" "$WORK/doc"; }
show() { sed 's/^/# /' "$WORK/doc" "$WORK/doc.err"; }
expect() {	# expect DESCRIPTION RC REGEX...
	_dd=$1 _dw=$2
	shift 2
	_dr=0
	[ "$RC" -eq "$_dw" ] || { _dr=1; diag "exit $RC, want $_dw"; }
	for _de in "$@"; do
		has "$_de" || { _dr=1; diag "missing: $_de"; }
	done
	ok $_dr "$_dd"
	[ $_dr -eq 0 ] || show
}
