#!/usr/bin/python3
"""check.py MSG ENV WORK [RCPT...]: what a real client sent through plume
arrived whole.  MSG and ENV are faultsmtp's msg.N and env.N; WORK holds
body.txt, bericht.csv and subject.txt.  Prints one line per problem and
exits 1 if there is any."""
import email
import email.header
import email.policy
import sys

msg_path, env_path, work = sys.argv[1:4]
want_rcpts = sys.argv[4:]
problems = []
raw = open(msg_path, "rb").read()
env = open(env_path, encoding="utf-8", errors="replace").read()
m = email.message_from_bytes(raw, policy=email.policy.default)

for r in want_rcpts:
    if f"RCPT TO:<{r}>" not in env:
        problems.append(f"recipient {r} not in the envelope")
if b"\nBcc:" in raw or raw.startswith(b"Bcc:") or b"\nbcc:" in raw.lower():
    problems.append("a Bcc header arrived")
subject = open(f"{work}/subject.txt", encoding="utf-8").read().strip()
got = str(m.get("Subject", ""))
if got != subject:
    problems.append(f"Subject {got!r} is not {subject!r}")
for h in ("Date", "Message-ID", "From"):
    if m.get(h) is None:
        problems.append(f"no {h} field")
if b"\r\n" not in raw or b"\n" in raw.replace(b"\r\n", b""):
    problems.append("line endings are not CRLF throughout")

text, attachment = None, None
for part in m.walk():
    if part.is_multipart():
        continue
    if part.get_filename() == "bericht.csv":
        attachment = part.get_payload(decode=True)
    elif part.get_content_type() == "text/plain" and text is None:
        text = part.get_content()
if attachment is None:
    problems.append("no bericht.csv attachment")
elif attachment.replace(b"\r\n", b"\n") != open(f"{work}/bericht.csv", "rb").read():
    problems.append(f"attachment differs: {attachment!r}")
# Ruby's mail gem encodes its own CRLF as =0D in quoted-printable, so
# the text compares without any CR
lines = (text or "").replace("\r", "").split("\n")
if "." not in lines:
    problems.append("the lone-dot line is gone")
if not any(line.endswith("Umlaute: äöüß, Euro: €.") for line in lines):
    problems.append("the UTF-8 body line is damaged")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
