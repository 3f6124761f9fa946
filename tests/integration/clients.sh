#!/bin/sh
# clients.sh - real programs that call sendmail (PHP mail(), Symfony
# Mailer in -bs and sendmail modes, PHPMailer, nodemailer, Ruby's mail
# gem, Perl Email::Sender and MIME::Lite, s-nail, mutt, git send-email)
# send through the built plume to a real SMTP server on loopback; what
# arrives is checked: every To/Cc/Bcc recipient, no Bcc field, the UTF-8
# Subject, the attachment byte for byte, the lone-dot line, Date and
# Message-ID, and the client saw success.  A refused recipient is a
# failure the client sees (or, with -oem, a report to the sender).  A
# client that is not installed is skipped.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/smtp-lib.sh"
smtp_need fault

plan 22
CHECK="$top_srcdir/tests/integration/clients/check.py"
fault_start ok
write_conf "pipeline = smtp" "[smtp]" "host = 127.0.0.1" \
    "port = $FAULT_PORT" "tls = none"
SUBJECT='Grüße aus Köln – Prüfbericht ✓ 日本語'
FROM_ADDR=sender@example.com TO_ADDR=to@example.org
CC_ADDR=cc@example.net BCC_ADDR=bcc@example.com
printf '%s\n' "$SUBJECT" > "$WORK/subject.txt"
printf 'Hallo,\n\nanbei der Bericht. Umlaute: äöüß, Euro: €.\n.\nThe line above is a lone dot.\n' > "$WORK/body.txt"
printf 'col1,col2\nä,ö\n' > "$WORK/bericht.csv"
export WORK SUBJECT FROM_ADDR TO_ADDR CC_ADDR BCC_ADDR
export LC_ALL=C.UTF-8
# sendmail as the clients call it: our binary with -C, by a wrapper
# because the clients take a command, not a config option
cat > "$WORK/bin/sm" <<SH
#!/bin/sh
"$SENDMAIL" -C "$CONF" "\$@"
rc=\$?
echo \$rc > "$WORK/sm.rc"
exit \$rc
SH
chmod +x "$WORK/bin/sm"
SM="$WORK/bin/sm"
export SM

# arrived DESC CLIENT-STATUS: the newest message passes check.py
arrived() {
	n=$(fault_count)
	if [ "$2" -eq 0 ] && [ "$n" -gt "${before:-0}" ] &&
	    "$SMTP_PYTHON" "$CHECK" "$FAULT_DIR/msg.$n" "$FAULT_DIR/env.$n" \
	    "$WORK" "$TO_ADDR" "$CC_ADDR" "$BCC_ADDR" > "$WORK/problems" 2>&1
	then ok 0 "$1"; else
		ok 1 "$1"
		echo "# client exit $2, messages $before -> $n"
		sed 's/^/# /' "$WORK/problems" "$WORK/client.err" 2>/dev/null
	fi
}
# refused CMD...: CMD to recipients the server refuses, all of them (one
# refused among accepted ones is a delivery report, exit 0, as Postfix)
refused() {
	(CC_ADDR=bad-cc@example.net BCC_ADDR=bad-bcc@example.com
	export CC_ADDR BCC_ADDR
	"$@" bad@example.org)
}
# both CMD...: CMD to the accepted recipients, checked as $_n; then to
# refused ones, leaving its status in rc and the count before in before
both() {
	before=$(fault_count)
	"$@" "$TO_ADDR"
	arrived "$_n: everything arrived, the client saw success" $?
	before=$(fault_count)
	refused "$@"
	rc=$?
}
# trial NAME ERR CMD...: CMD sends to accepted recipients (all must
# arrive, the client succeed), then to refused ones (the client fails,
# nothing arrives, and its stderr matches ERR: '' for any line, such as
# plume's own error passed through)
trial() {
	_n=$1 _e=$2
	shift 2
	both "$@"
	check "$_n, every recipient refused: the client sees a failure" \
	    sh -c "[ $rc -ne 0 ] && [ $(fault_count) -eq $before ] &&
	    grep -Eq '$_e' '$WORK/client.err'"
}
# oem_trial NAME SENDER CMD...: as trial, for callers that pass -oem:
# when every recipient is refused the client sees exit 0 and SENDER gets
# a delivery report, as Sendmail does
oem_trial() {
	_n=$1 _s=$2
	shift 2
	both "$@"
	_m=$((before + 1))
	fault_wait "$_m" 10 || :
	check "$_n, every recipient refused: exit 0, a report to <$_s>" \
	    sh -c "[ $rc -eq 0 ] && [ -e '$FAULT_DIR/msg.$_m' ] &&
	    grep -q '^MAIL FROM:<>' '$FAULT_DIR/env.$_m' &&
	    grep -q '^RCPT TO:<$_s>' '$FAULT_DIR/env.$_m' &&
	    grep -q 'report-type=delivery-status' '$FAULT_DIR/msg.$_m'"
}

# ---- PHP mail(): sendmail_path "sendmail -t -i", additional -f --------
php_mail() {	# php_mail TO: mail() through $SM -t -i
	TO=$1 php -n -d "sendmail_path=$SM -t -i" -r '
$e = getenv(); $b = "b1_fixed";
$h = "From: Sender <$e[FROM_ADDR]>\r\nCc: $e[CC_ADDR]\r\nBcc: $e[BCC_ADDR]\r\n"
   . "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"$b\"";
$body = "--$b\r\nContent-Type: text/plain; charset=UTF-8\r\n"
   . "Content-Transfer-Encoding: 8bit\r\n\r\n"
   . file_get_contents("$e[WORK]/body.txt")
   . "\r\n--$b\r\nContent-Type: text/csv; name=\"bericht.csv\"\r\n"
   . "Content-Disposition: attachment; filename=\"bericht.csv\"\r\n"
   . "Content-Transfer-Encoding: base64\r\n\r\n"
   . chunk_split(base64_encode(file_get_contents("$e[WORK]/bericht.csv")))
   . "--$b--\r\n";
$s = "=?UTF-8?B?" . base64_encode($e["SUBJECT"]) . "?=";
exit(mail($e["TO"], $s, $body, $h, "-f" . $e["FROM_ADDR"]) ? 0 : 1);
' 2> "$WORK/client.err"
}
if have php; then
	trial "PHP mail() (-t -i -f)" '' php_mail
else
	skip "php-cli is not installed"; skip "php-cli is not installed"
fi

# ---- Symfony Mailer: -bs (its default) and its sendmail -t mode -----
SYMFONY=/usr/share/php/Symfony/Component/Mailer/autoload.php
symfony() {	# symfony MODE TO
	MODE=$1 TO=$2 php -r '
require "/usr/share/php/Symfony/Component/Mailer/autoload.php";
require "/usr/share/php/Symfony/Component/Mime/autoload.php";
use Symfony\Component\Mailer\Transport\SendmailTransport;
use Symfony\Component\Mime\Email;
$e = getenv();
$t = new SendmailTransport($e["SM"] . " " . $e["MODE"]);
$m = (new Email())->from("Sender <$e[FROM_ADDR]>")->to($e["TO"])
    ->cc($e["CC_ADDR"])->bcc($e["BCC_ADDR"])->subject($e["SUBJECT"])
    ->text(file_get_contents("$e[WORK]/body.txt"))
    ->attachFromPath("$e[WORK]/bericht.csv", "bericht.csv", "text/csv");
try { $t->send($m); } catch (Exception $x) {
    fwrite(STDERR, get_class($x) . ": " . $x->getMessage() . "\n"); exit(1);
}' 2> "$WORK/client.err"
}
if have php && [ -f "$SYMFONY" ]; then
	# -bs: the exception carries the server's 5xx
	trial "Symfony Mailer -bs" '55[0-9]' symfony -bs
	trial "Symfony Mailer -t mode (-f, --, dot-stuffed, no -i)" \
	    'TransportException' symfony -t
else
	for i in 1 2 3 4; do skip "php-symfony-mailer is not installed"; done
fi

# ---- s-nail: -i -F name -f addr -- rcpts ------------------------------
snail() {	# snail TO
	s-nail -:/ -Sv15-compat -Sttycharset=utf-8 -Ssendcharsets=utf-8 \
	    -Smta="$SM" -Sexpandaddr=restrict \
	    -r "Sender <$FROM_ADDR>" -s "$SUBJECT" -a "$WORK/bericht.csv" \
	    -c "$CC_ADDR" -b "$BCC_ADDR" "$1" < "$WORK/body.txt" \
	    > /dev/null 2> "$WORK/client.err"
}
if have s-nail; then
	trial "s-nail (-i -F -f --)" '' snail
else
	skip "s-nail is not installed"; skip "s-nail is not installed"
fi

# ---- Perl Email::Sender: -i -f addr -- rcpts ---------------------------
perl_sender() {	# perl_sender TO
	TO=$1 perl -MEmail::Sender::Simple=sendmail \
	    -MEmail::Sender::Transport::Sendmail -MEmail::MIME -e '
use utf8; use Encode;
my $body = do { local $/; open my $f, "<:raw", "$ENV{WORK}/body.txt"; <$f> };
my $csv = do { local $/; open my $f, "<:raw", "$ENV{WORK}/bericht.csv"; <$f> };
my $m = Email::MIME->create(
  header_str => [ From => "Sender <$ENV{FROM_ADDR}>", To => $ENV{TO},
    Cc => $ENV{CC_ADDR}, Subject => decode("UTF-8", $ENV{SUBJECT}) ],
  parts => [
    Email::MIME->create(attributes => { content_type => "text/plain",
      charset => "UTF-8", encoding => "8bit" }, body => $body),
    Email::MIME->create(attributes => { content_type => "text/csv",
      filename => "bericht.csv", disposition => "attachment",
      encoding => "base64" }, body => $csv) ]);
$m->header_set("Date", Email::Date::Format::email_date())
  if eval { require Email::Date::Format; 1 };
sendmail($m, { from => $ENV{FROM_ADDR},
  to => [ $ENV{TO}, $ENV{CC_ADDR}, $ENV{BCC_ADDR} ],
  transport => Email::Sender::Transport::Sendmail->new(
    { sendmail => $ENV{SM} }) });
' 2> "$WORK/client.err"
}
if have perl && perl -MEmail::Sender::Simple -MEmail::MIME -e 1 2>/dev/null
then
	trial "Perl Email::Sender (-i -f --)" '' perl_sender
else
	skip "libemail-sender-perl is not installed"
	skip "libemail-sender-perl is not installed"
fi

# ---- nodemailer: -i -f addr rcpts (no --), Bcc field without -t -------
node_mail() {	# node_mail TO
	TO=$1 NODE_PATH=/usr/share/nodejs node -e '
const nodemailer = require("nodemailer"), e = process.env;
const t = nodemailer.createTransport({ sendmail: true, path: e.SM,
  newline: "unix" });
t.sendMail({ from: "Sender <" + e.FROM_ADDR + ">", to: e.TO,
  cc: e.CC_ADDR, bcc: e.BCC_ADDR, subject: e.SUBJECT,
  text: require("fs").readFileSync(e.WORK + "/body.txt", "utf8"),
  attachments: [{ filename: "bericht.csv", path: e.WORK + "/bericht.csv" }],
}, (err) => { if (err) { console.error(err.message); process.exit(1); } });
' 2> "$WORK/client.err"
}
if have node && [ -d /usr/share/nodejs/nodemailer ]; then
	trial "nodemailer (-i -f, Bcc field without -t)" '' node_mail
else
	skip "node-nodemailer is not installed"
	skip "node-nodemailer is not installed"
fi

# ---- Ruby's mail gem: -i -f addr -- rcpts --------------------------------
# mail 2.7 ignores sendmail's exit status (2.8 raises), so the refused
# case checks what plume told it: exit 67 or 69, nothing sent
ruby_mail() {	# ruby_mail TO
	TO=$1 ruby -e '
require "mail"
e = ENV
m = Mail.new do
  from "Sender <#{e["FROM_ADDR"]}>"; to e["TO"]; cc e["CC_ADDR"]
  bcc e["BCC_ADDR"]; subject e["SUBJECT"]; charset = "UTF-8"
  text_part do
    content_type "text/plain; charset=UTF-8"
    body File.read("#{e["WORK"]}/body.txt", encoding: "UTF-8")
  end
  add_file filename: "bericht.csv",
    content: File.binread("#{e["WORK"]}/bericht.csv")
end
m.delivery_method :sendmail, location: e["SM"]
m.deliver
' 2> "$WORK/client.err"
}
if have ruby && ruby -e 'require "mail"' 2>/dev/null; then
	before=$(fault_count)
	ruby_mail "$TO_ADDR"
	arrived "Ruby mail gem (-i -f --): everything arrived" $?
	before=$(fault_count)
	refused ruby_mail
	check "Ruby mail gem, every recipient refused: plume exits 67/69" \
	    sh -c "grep -Eqx '6[79]' '$WORK/sm.rc' &&
	    [ $(fault_count) -eq $before ]"
else
	skip "ruby-mail is not installed"; skip "ruby-mail is not installed"
fi

# ---- MIME::Lite: sendmail -t -oi -oem -------------------------------------
mime_lite() {	# mime_lite TO
	TO=$1 perl -MMIME::Lite -MEncode -e '
my $m = MIME::Lite->new(From => "Sender <$ENV{FROM_ADDR}>", To => $ENV{TO},
  Cc => $ENV{CC_ADDR}, Bcc => $ENV{BCC_ADDR},
  Subject => encode("MIME-Header", decode("UTF-8", $ENV{SUBJECT})),
  Type => "multipart/mixed");
$m->attach(Type => "text/plain; charset=UTF-8", Encoding => "8bit",
  Path => "$ENV{WORK}/body.txt");
$m->attach(Type => "text/csv", Encoding => "base64",
  Path => "$ENV{WORK}/bericht.csv", Filename => "bericht.csv",
  Disposition => "attachment");
MIME::Lite->send("sendmail", "$ENV{SM} -t -oi -oem");
$m->send or exit 1;
' 2> "$WORK/client.err"
}
if have perl && perl -MMIME::Lite -e 1 2>/dev/null; then
	# MIME::Lite gives no -f: the envelope sender is the user at domain
	oem_trial "MIME::Lite (-t -oi -oem)" "$(id -un)@example.org" mime_lite
else
	skip "libmime-lite-perl is not installed"
	skip "libmime-lite-perl is not installed"
fi

# ---- git send-email: -i -f addr rcpts, a patch ----------------------------
if have git && git send-email -h 2>&1 | grep -q smtp-server; then
	r=$WORK/repo
	git init -q "$r" && cd "$r" &&
	    git config user.name "Jörg Sender" &&
	    git config user.email "$FROM_ADDR" &&
	    printf 'line one\n.\n..\nÄnderung\n' > f.txt && git add f.txt &&
	    git commit -q -m "f.txt: lone dots and an umlaut" &&
	    git format-patch -q -1 -o "$WORK/patch" && cd "$WORK" &&
	    sed '1,/^$/d' "$WORK"/patch/*.patch > "$WORK/patch.body"
	gse() {	# gse TO: git send-email the patch through $SM
		git -C "$r" send-email --quiet --confirm=never --no-chain-reply-to \
		    --smtp-server="$SM" --from="Jörg Sender <$FROM_ADDR>" \
		    --to="$1" --cc="$CC_ADDR" --bcc="$BCC_ADDR" --no-signed-off-by-cc \
		    --suppress-cc=all "$WORK"/patch/*.patch \
		    > /dev/null 2> "$WORK/client.err"
	}
	before=$(fault_count)
	gse "$TO_ADDR"
	rc=$?
	n=$((before + 1))
	check "git send-email: the patch arrived whole, to every recipient" \
	    sh -c "[ $rc -eq 0 ] && [ -e '$FAULT_DIR/msg.$n' ] &&
	    grep -q '^RCPT TO:<$TO_ADDR>' '$FAULT_DIR/env.$n' &&
	    grep -q '^RCPT TO:<$CC_ADDR>' '$FAULT_DIR/env.$n' &&
	    grep -q '^RCPT TO:<$BCC_ADDR>' '$FAULT_DIR/env.$n' &&
	    ! grep -qi '^Bcc:' '$FAULT_DIR/msg.$n' &&
	    tr -d '\r' < '$FAULT_DIR/msg.$n' | sed '1,/^\$/d' |
	    cmp -s - '$WORK/patch.body'"
	before=$(fault_count)
	refused gse
	rc=$?
	check "git send-email, every recipient refused: it fails" \
	    sh -c "[ $rc -ne 0 ] && [ $(fault_count) -eq $before ]"
else
	skip "git-email is not installed"; skip "git-email is not installed"
fi

# ---- PHPMailer: -oi -fsender -t ------------------------------------------
PHPMAILER=/usr/share/php/libphp-phpmailer/autoload.php
phpmailer() {	# phpmailer TO
	TO=$1 php -r '
require "/usr/share/php/libphp-phpmailer/autoload.php";
$e = getenv();
$m = new PHPMailer\PHPMailer\PHPMailer(true);
$m->isSendmail(); $m->Sendmail = $e["SM"]; $m->CharSet = "UTF-8";
$m->setFrom($e["FROM_ADDR"], "Sender"); $m->addAddress($e["TO"]);
$m->addCC($e["CC_ADDR"]); $m->addBCC($e["BCC_ADDR"]);
$m->Subject = $e["SUBJECT"]; $m->Encoding = "8bit";
$m->Body = file_get_contents("$e[WORK]/body.txt");
$m->addAttachment("$e[WORK]/bericht.csv", "bericht.csv", "base64", "text/csv");
try { $m->send(); } catch (Exception $x) {
    fwrite(STDERR, $x->getMessage() . "\n"); exit(1);
}' 2> "$WORK/client.err"
}
if have php && [ -f "$PHPMAILER" ]; then
	trial "PHPMailer (-oi -f -t)" '' phpmailer
else
	skip "libphp-phpmailer is not installed"
	skip "libphp-phpmailer is not installed"
fi

# ---- mutt: -oem -oi -B8BITMIME -f sender -- rcpts -------------------------
mutt_send() {	# mutt_send TO
	printf 'set sendmail="%s"\nset from="Sender <%s>"\nset use_from=yes\nset use_envelope_from=yes\nset send_charset=utf-8\nset charset=utf-8\n' \
	    "$SM -oem -oi -B8BITMIME" "$FROM_ADDR" > "$WORK/muttrc"
	mutt -n -F "$WORK/muttrc" -s "$SUBJECT" -a "$WORK/bericht.csv" \
	    -c "$CC_ADDR" -b "$BCC_ADDR" -- "$1" < "$WORK/body.txt" \
	    > /dev/null 2> "$WORK/client.err"
}
if have mutt; then
	oem_trial "mutt (-oem -oi -B8BITMIME -f --)" "$FROM_ADDR" mutt_send
else
	skip "mutt is not installed"; skip "mutt is not installed"
fi
