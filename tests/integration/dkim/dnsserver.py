#!/usr/bin/python3
"""dnsserver.py - a tiny DNS server for plume's DKIM tests (python3-dnslib).

usage: dnsserver.py --zone FILE --dir DIR [--udp-limit N]

Answers TXT queries from FILE, re-read for every query so a test can
change records between runs: one "NAME TEXT" line per record (the same
format as OpenDKIM's TestPublicKeys), a name may have several lines;
TEXT is split into strings of 255 octets.  Any other name is NXDOMAIN.
Listens on 127.0.0.1, UDP and TCP, on a free port it writes to DIR/port
once both listen; logs "udp NAME" or "tcp NAME" per query to
DIR/queries.  --udp-limit N answers UDP queries whose reply would pass
N octets with an empty, truncated (TC) reply, whatever EDNS says, so a
client must retry over TCP.  Exits when its parent does."""

import argparse
import os
import sys
import time

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Quiet(DNSLogger):
    def __init__(self):
        pass

    def log_pass(self, *args):
        pass

    def log_prefix(self, *args):
        return ""

    def log_recv(self, *args):
        pass

    def log_send(self, *args):
        pass

    def log_request(self, *args):
        pass

    def log_reply(self, *args):
        pass

    def log_truncated(self, *args):
        pass

    def log_error(self, *args):
        pass

    def log_data(self, *args):
        pass


class Zone(BaseResolver):
    def __init__(self, path, logpath, udp_limit):
        self.path = path
        self.logpath = logpath
        self.udp_limit = udp_limit

    def records(self):
        recs = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    line = line.rstrip("\r\n")
                    if not line.strip() or line.startswith("#"):
                        continue
                    name, _, text = line.partition(" ")
                    recs.setdefault(name.rstrip(".").lower(), []).append(text)
        except FileNotFoundError:
            pass
        return recs

    def resolve(self, request, handler):
        qname = str(request.q.qname).rstrip(".").lower()
        with open(self.logpath, "a") as f:
            f.write("%s %s\n" % (handler.protocol, qname))
        reply = request.reply()
        recs = self.records()
        if qname not in recs:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for text in recs[qname]:
                raw = text.encode()
                chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)]
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=60,
                                    rdata=TXT(chunks or [b""])))
        if handler.protocol == "udp" and self.udp_limit and \
           len(reply.pack()) > self.udp_limit:
            reply = request.reply()
            reply.header.tc = 1
        return reply


def serve(resolver, directory, name):
    """Serves resolver on 127.0.0.1, UDP and TCP, on one free port written
    to DIRECTORY/port once both listen, until the parent process is gone
    (dnszone.py uses it too)."""
    parent = os.getppid()
    for _ in range(20):
        udp = DNSServer(resolver, port=0, address="127.0.0.1",
                        logger=Quiet())
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, port=port, address="127.0.0.1",
                            tcp=True, logger=Quiet())
            break
        except OSError:
            udp.server.server_close()
    else:
        sys.exit("%s: no free port for UDP and TCP" % name)
    udp.start_thread()
    tcp.start_thread()
    tmp = os.path.join(directory, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(directory, "port"))
    while os.getppid() == parent:
        time.sleep(0.2)
    udp.stop()
    tcp.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--udp-limit", type=int, default=0)
    a = ap.parse_args()
    zone = Zone(a.zone, os.path.join(a.dir, "queries"), a.udp_limit)
    serve(zone, a.dir, "dnsserver.py")


if __name__ == "__main__":
    main()
