#!/usr/bin/python3
"""dnszone.py - a small authoritative DNS server for plume's doctor tests
(python3-dnslib).

usage: dnszone.py --zone FILE --dir DIR

Answers from FILE, re-read for every query so that a test changes the
zone between runs: one record per line, "NAME TYPE VALUE" with TYPE one
of A, AAAA, MX ("PREF HOST"), TXT (the rest of the line, split into
strings of 255 octets), PTR and CNAME; "#" starts a comment.
Serving is dkim/dnsserver.py's serve().  A name
with no line at all is NXDOMAIN; a name with lines of other types only
is an empty answer (NODATA).  Listens on 127.0.0.1, UDP and TCP, on a
free port it writes to DIR/port once both listen; logs "TYPE NAME" per
query to DIR/queries.  Exits when its parent does."""

import argparse
import os
import sys

from dnslib import A, AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "dkim"))
from dnsserver import serve  # noqa: E402  (the same loop as DKIM's tests)


class Zone(BaseResolver):
    def __init__(self, path, logpath):
        self.path = path
        self.logpath = logpath

    def records(self):
        recs = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    if not line.strip() or line.lstrip().startswith("#"):
                        continue
                    name, rtype, value = (line.split(None, 2) + [""])[:3]
                    key = name.rstrip(".").lower()
                    recs.setdefault(key, []).append((rtype.upper(), value))
        except FileNotFoundError:
            pass
        return recs

    def rdata(self, rtype, value):
        if rtype == "A":
            return A(value)
        if rtype == "AAAA":
            return AAAA(value)
        if rtype == "MX":
            pref, host = value.split()
            return MX(host, int(pref))
        if rtype == "PTR":
            return PTR(value)
        if rtype == "CNAME":
            return CNAME(value)
        raw = value.encode()
        return TXT([raw[i:i + 255] for i in range(0, len(raw), 255)] or
                   [b""])

    def resolve(self, request, handler):
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        with open(self.logpath, "a") as f:
            f.write("%s %s\n" % (qtype, qname))
        reply = request.reply()
        reply.header.aa = 1
        recs = self.records()
        if qname not in recs:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rtype, value in recs[qname]:
            if rtype == qtype or (rtype == "CNAME" and qtype != "CNAME"):
                reply.add_answer(RR(request.q.qname, getattr(QTYPE, rtype),
                                    ttl=60, rdata=self.rdata(rtype, value)))
        return reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone", required=True)
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    serve(Zone(a.zone, os.path.join(a.dir, "queries")), a.dir, "dnszone.py")


if __name__ == "__main__":
    main()
