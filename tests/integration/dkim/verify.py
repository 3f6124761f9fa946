#!/usr/bin/python3
"""verify.py - verify a message's DKIM signatures with two independent
verifiers, offline: python3-dkim (dkimpy, its DNS lookups answered from
KEYS through dnsfunc) and OpenDKIM's test mode (opendkim -t, its key
queries answered from the same file through TestPublicKeys).

usage: verify.py KEYS MESSAGE

KEYS holds one "NAME TXT" line per published key, as OpenDKIM's
TestPublicKeys reads it: s1._domainkey.example.org v=DKIM1; k=rsa; p=...

Prints one line, "dkimpy=R,R,... opendkim=R,R,...", one result (pass or
fail) per DKIM-Signature in field order, and exits 0 only when every
signature passes in both.  Exit 2: a verifier could not run."""

import os
import re
import subprocess
import sys
import tempfile

import dkim


def load_keys(path):
    keys = {}
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if line:
                name, txt = line.split(None, 1)
                keys[name.rstrip(b".").lower() + b"."] = txt
    return keys


def dkimpy(keys, msg):
    d = dkim.DKIM(msg, minkey=1024)
    n = len(re.findall(rb"(?im)^dkim-signature:", msg.split(b"\r\n\r\n")[0]))
    out = []
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=lambda name, timeout=5:
                          keys.get(name.lower()))
        except Exception:
            ok = False
        out.append("pass" if ok else "fail")
    return out


def opendkim(keysfile, msg):
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "opendkim.conf")
        mfile = os.path.join(tmp, "msg")
        with open(conf, "w") as f:
            f.write("Mode v\nSyslog no\nAlwaysAddARHeader yes\n"
                    "MaximumSignaturesToVerify 10\n"
                    "TestPublicKeys %s\n" % os.path.abspath(keysfile))
        with open(mfile, "wb") as f:
            f.write(msg)
        p = subprocess.run(["opendkim", "-x", conf, "-vv", "-t", mfile],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ar = re.search(rb"hname='Authentication-Results' hvalue='(.*?)'",
                   p.stdout, re.S)
    if ar is None:
        if b"no signature" in p.stderr.lower() or \
           b"no signature" in p.stdout.lower():
            return []
        sys.stderr.write(p.stdout.decode(errors="replace") +
                         p.stderr.decode(errors="replace"))
        sys.exit(2)
    return [r.decode() for r in re.findall(rb"\bdkim=(\w+)", ar.group(1))
            if r != b"none"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    keys = load_keys(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        msg = f.read()
    a = dkimpy(keys, msg)
    b = opendkim(sys.argv[1], msg)
    print("dkimpy=%s opendkim=%s" % (",".join(a) or "none",
                                      ",".join(b) or "none"))
    sys.exit(0 if a and b and len(a) == len(b) and
             all(r == "pass" for r in a + b) else 1)


main()
