#!/bin/sh
# deps.sh - install what plume needs from Debian's packages (Debian 12),
# only what is missing, never starting a system daemon.
#   sh build-aux/deps.sh build   compilers, autotools, libraries
#   sh build-aux/deps.sh test    what the test suite runs
#   sh build-aux/deps.sh bench   what bench/ compares with: msmtp,
#                                hyperfine, GNU time, postfix (smtp-sink)
# Run as root.  Test packages:
#   python3            JSON checks; the SMTP test servers run /usr/bin/python3
#   time               /usr/bin/time for memory figures
#   util-linux         setpriv, to run plume as an unprivileged caller;
#                      unshare, for private network namespaces
#   iproute2           ip, to bring up lo in a private network namespace
#                      (tests/integration/doctor-scenarios.sh: the usual
#                      ports 25/465/587 without touching a local MTA)
#   postfix            a real MTA the SMTP transport tests start privately on
#                      loopback (tests/integration/smtp-lib.sh).  Installed
#                      with debconf "No configuration": no /etc/postfix/main.cf,
#                      no system mail service, nothing started.  Note that
#                      postfix Provides/Conflicts mail-transport-agent, so
#                      apt REMOVES any other MTA package (exim4, nullmailer,
#                      msmtp-mta, ...) already installed.
#   sasl2-bin          saslpasswd2, to make the private Postfix's sasldb users
#   libsasl2-modules   Cyrus PLAIN, LOGIN, CRAM-MD5, SCRAM mechanisms (only a
#                      Recommends of libsasl2-2, and we install without them)
#   python3-aiosmtpd   the scriptable faulty SMTP server (tests/integration/
#                      faultsmtp.py)
#   openssl            test CA and certificates made at run time
#   ca-certificates    a sane default trust store for the TLS code paths
#   python3-dkim       an independent DKIM verifier (and dkimsign, bench)
#   opendkim           a second verifier (opendkim -t); its service is
#                      disabled right after installing
#   python3-dnslib     a private DNS server for "plume dkim check" and the
#                      sender-domain checks of "plume doctor" (doctor-dns.sh)
#   php-cli, php-mbstring, php-symfony-mailer, s-nail, libemail-sender-perl,
#   libemail-mime-perl, nodejs, node-nodemailer, ruby-mail, libmime-lite-perl
#                      real sendmail clients (tests/integration/clients.sh):
#                      PHP mail(), Symfony Mailer, mailx, Email::Sender,
#                      nodemailer, Ruby's mail gem, MIME::Lite; git-email
#                      (git send-email), libphp-phpmailer, mutt
#   cron, bsd-mailx    the two callers that hard-code /usr/sbin/sendmail
#                      (tests/integration/cron.sh runs them in a private
#                      mount namespace).  policy-rc.d keeps cron from
#                      starting; its package enables cron.service for the
#                      next boot, which is disabled right after installing.
#                      bsd-mailx pulls in no MTA beyond the postfix above.
#   faketime           moves the queue runner's clock days ahead (and
#                      freezes it for the rate-limit tests)
#   redis-server       the shared rate-limit backend (ratelimit.sh starts
#                      its own on loopback); its service is disabled right
#                      after installing
#   strace             fails a submission's Nth write/fsync/rename (-e inject)
#   curl               an independent HTTP client (and AWS SigV4 signer,
#                      --aws-sigv4) driving the provider-API test server
#                      (tests/integration/httpapi.py)
# valgrind is optional and not installed here.
set -eu

BUILD="gcc make autoconf automake libtool libltdl-dev pkg-config
libssl-dev libsasl2-dev libsasl2-modules libcmocka-dev libc-ares-dev
libcurl4-openssl-dev libjansson-dev libgmime-3.0-dev libhiredis-dev"
TEST="python3 time util-linux iproute2 postfix sasl2-bin libsasl2-modules
python3-aiosmtpd openssl ca-certificates python3-dkim opendkim
python3-dnslib php-cli php-mbstring php-symfony-mailer s-nail
libemail-sender-perl libemail-mime-perl nodejs node-nodemailer ruby-mail
libmime-lite-perl git-email libphp-phpmailer mutt faketime strace curl cron
bsd-mailx redis-server"

BENCH="msmtp hyperfine time postfix python3 python3-dkim opendkim"

want=""
for what in "$@"; do
	case $what in
	build) want="$want $BUILD" ;;
	test) want="$want $TEST" ;;
	bench) want="$want $BENCH" ;;
	*) echo "usage: $0 build|test|bench ..." >&2; exit 64 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
# No package we install may start a service: policy-rc.d says no while
# apt runs (only if the admin has no policy of their own).
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	made_policy=yes
fi
trap '[ "$made_policy" = yes ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Postfix must come up unconfigured: no main.cf, no system mail service.
case " $missing " in
*" postfix "*)
	echo 'postfix postfix/main_mailer_type select No configuration' |
	    debconf-set-selections
	;;
esac
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
# opendkim is only a verifier for the tests, cron and redis-server the
# tests' own private daemons: never a service at boot
for svc in opendkim cron redis-server; do
	case " $missing " in
	*" $svc "*) systemctl disable "$svc" > /dev/null 2>&1 || true ;;
	esac
done
