#!/usr/bin/python3
"""faultsmtp.py - a scriptable, misbehaving ESMTP server for plume's tests.

    faultsmtp.py --port P --dir D --scenario S [--tls-cert F --tls-key F]
        [--implicit-tls] [--auth] [--auth-plaintext] [--users u:p,...]
        [--size N] [--no-pipelining] [--no-8bitmime] [--no-smtputf8] [--dsn]
        [--hostname NAME]

Listens on 127.0.0.1:P (P = 0: any free port), prints "listening on PORT"
on stderr and writes D/port when ready, serves any number of connections
(concurrently) and runs until killed (or, with --exit-with-parent, until
the process that started it is gone).

Normal behaviour: a correct ESMTP server that accepts everything.  EHLO
offers PIPELINING, SIZE N (--size, default 10240000, 0: no limit, no
SIZE), 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN (--dsn only), STARTTLS
(with a certificate, unless --implicit-tls), AUTH PLAIN LOGIN XOAUTH2
OAUTHBEARER (--auth; only once TLS is up unless --auth-plaintext).  MAIL
takes SIZE, BODY, SMTPUTF8, AUTH (--auth), RET and ENVID (--dsn); RCPT
takes NOTIFY and ORCPT (--dsn); anything else is 555, BODY=8BITMIME with
--no-8bitmime is 501.  Accounts: --users user:password,... (default
user@example.test:secret).  XOAUTH2 and OAUTHBEARER accept a bearer
token equal to the user's password; otherwise, as Gmail does, a 334
challenge holding base64 JSON ({"status":"400",...}), then after the
client's answer 535-5.7.8 on two lines.

Built on aiosmtpd (Debian 12: 1.4.3) for what it does right: the command
loop, the STARTTLS upgrade (dropping cleartext pipelined after STARTTLS),
AUTH PLAIN and LOGIN exchanges.  EHLO, MAIL, RCPT and DATA are its own:
aiosmtpd 1.4.3 refuses the null sender MAIL FROM:<>, any RCPT parameter
and MAIL's AUTH=, RET=, ENVID= (555), upper-cases parameter values, does
not advertise PIPELINING or ENHANCEDSTATUSCODES, does not count implicit
TLS as TLS, and cannot be made to misbehave mid-DATA.

Files in D:
  transcript  every line, one per line, "<conn> <dir> <text>": dir "C:" for
              what the client sent, "S:" for what the server sent, "*" for
              events (connect, TLS up, authenticated, close) and "!" for
              client misbehaviour: "! AUTH before TLS", "! MAIL before TLS",
              "! bare LF" (a line ending in LF without CR).  Lines are
              logged when they arrive, so the order shows pipelining.
  msg.N       the N-th message whose body was received to the final dot,
              exactly as sent (CRLF kept) less the dot-stuffing.  Written
              after env.N, atomically (rename): wait for msg.N, then read env.N.
  env.N       its envelope: "CONNECTION: n", "HELO: name", "TLS: yes|no",
              "AUTH: user|-", the MAIL command line and one RCPT line per
              accepted recipient (as received, "MAIL FROM:<a> SIZE=1"),
              and "REPLY: <final reply>" ("REPLY: none" when the scenario
              sends none).

Every scenario answers RCPT by local part: bad* 550 5.1.1, temp* 450 4.2.1,
denied* 554 5.7.1, anything else 250 (tempfail-all-rcpt: 451 to all).
A message over --size is refused with 552 5.3.4 after the dot, not stored.

Scenarios (--scenario, default ok): see SCENARIOS below.
"""

import argparse
import asyncio
import base64
import binascii
import collections
import json
import logging
import os
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, MISSING

SCENARIOS = {
    "ok": "a correct server",
    "greet421": "greeting 421 4.3.2 Service not available..., then close",
    "greet554": "greeting 554 5.3.2 No SMTP service here; then 503 5.5.1 to "
                "anything but QUIT (RFC 5321 3.1), 221 to QUIT",
    "mail451": "451 4.3.0 to MAIL",
    "mail421-rate": "421 4.7.0 Too many messages, slow down... to MAIL, "
                    "then close (a provider's rate limit)",
    "mail550": "550 5.7.1 to MAIL",
    "data451": "451 4.3.0 to DATA instead of 354",
    "data554": "554 5.7.1 to DATA instead of 354",
    "eod451": "451 4.7.1 after the final dot (message stored)",
    "eod554": "554 5.7.1 after the final dot (message stored)",
    "drop-before-dot": "after 354, read one body line, then close",
    "drop-after-dot": "read the body to the dot, store it, close, no reply",
    "stall-greeting": "accept, never send a byte (log what comes)",
    "stall-data": "read the body to the dot, store it, never reply",
    "no-starttls": "never offer STARTTLS, even with a certificate; "
                   "502 5.5.1 if tried",
    "tls-wrong-cert": "same as ok: give it the wrong-name certificate",
    "auth535": "every AUTH, any mechanism, ends 535 5.7.8 after the "
               "credentials",
    "auth534": "every AUTH ends in Gmail's two-line 534-5.7.9 "
               "Application-specific password required...",
    "huge-reply": "EHLO answered with 100,000 lines (capabilities, then "
                  "250-X-FILLER-nnnnnn), in one write",
    "slow": "every reply written one byte at a time, 2 ms apart "
            "(about 1 s for STARTTLS, AUTH and one message)",
    "malformed": "greeting 'hello there', then 'what did you say?' to every "
                 "line, 'bye now' and close at QUIT",
    "bad-continuation": "EHLO reply 250-, 250-, 554-5.0.0 surprise, 250 ",
    "injected-before-tls": "STARTTLS answered with '220 go ahead' and "
                           "'250 injected' in one write, then TLS "
                           "(CVE-2011-0411: the client must drop the 250)",
    "size-limit": "SIZE 1000, enforced at MAIL SIZE= and after the dot",
    "no-ehlo": "502 5.5.2 to EHLO; HELO works (no extensions then)",
    "tempfail-all-rcpt": "451 4.3.0 to every RCPT",
}

SLOW_DELAY = 0.002      # seconds between two bytes in "slow"
HUGE_LINES = 100000
GMAIL_534 = ("534-5.7.9 Application-specific password required. Learn more at\r\n"
             "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor"
             " x1-20020a05600c000000b00000000000000si0000000wmq.0 - gsmtp")
GMAIL_535 = ("535-5.7.8 Username and Password not accepted. Learn more at\r\n"
             "535 5.7.8  https://support.google.com/mail/?p=BadCredentials"
             " x1-20020a05600c000000b00000000000000si0000000wmq.0 - gsmtp")
XOAUTH2_ERROR = {"status": "400", "schemes": "Bearer",
                 "scope": "https://mail.google.com/"}
OAUTHBEARER_ERROR = {"status": "invalid_token", "schemes": "bearer",
                     "scope": "https://mail.google.com/"}


class Store:
    """The transcript and the received messages, shared by all connections."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.transcript = open(os.path.join(directory, "transcript"), "ab",
                               buffering=0)
        self.conns = 0
        self.msgs = 0

    def log(self, conn, tag, text):
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogateescape")
        self.transcript.write(b"%d %s %s\n" % (conn, tag.encode(), text))

    def log_many(self, conn, tag, lines):
        prefix = b"%d %s " % (conn, tag.encode())
        self.transcript.write(b"".join(prefix + l + b"\n" for l in lines))

    def _put(self, name, data):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.dir, name))

    def save(self, env_lines, content):
        self.msgs += 1
        n = self.msgs
        env = "".join(l + "\n" for l in env_lines)
        self._put("env.%d" % n, env.encode("utf-8", "surrogateescape"))
        self._put("msg.%d" % n, bytes(content))
        return n


class Handler:
    """aiosmtpd wants a handler; every hook lives in FaultSMTP instead."""


def split_params(text):
    """ESMTP parameters: [(KEY, value or None)], keys upper-cased."""
    out = []
    for word in text.split():
        key, eq, value = word.partition("=")
        out.append((key.upper(), value if eq else None))
    return out


def parse_path(arg, keyword):
    """'FROM:<a@b> X=1' -> ('a@b', 'X=1'); None on a syntax error.
    The null path <> gives ''."""
    if arg is None or arg[:len(keyword)].upper() != keyword:
        return None
    rest = arg[len(keyword):].lstrip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        return rest[1:end], rest[end + 1:].strip()
    path, _, params = rest.partition(" ")
    if not path:
        return None
    return path, params.strip()


class FaultSMTP(SMTP):
    # Generous limits: this server exists to observe the client, not to
    # enforce RFC 5321's line lengths (the transcript shows them anyway).
    line_length_limit = 1 << 20
    command_size_limit = 1 << 16

    def __init__(self, opts, store, tls_context, implicit):
        self.opts = opts
        self.sc = opts.scenario
        self.store = store
        self.implicit = implicit
        self.conn = 0
        self.tls_active = False
        self.tls_info = ""
        self.rx = b""
        self.in_data = False
        self.inject_next = False
        self.auth_user = None
        self.mail_line = None
        self.rcpt_lines = []
        starttls_ctx = None
        if tls_context is not None and not implicit and self.sc != "no-starttls":
            starttls_ctx = tls_context
        super().__init__(
            Handler(),
            data_size_limit=opts.size,
            enable_SMTPUTF8=not opts.no_smtputf8,
            hostname=opts.hostname,
            ident="ESMTP faultsmtp",
            tls_context=starttls_ctx,
            timeout=120,
            auth_require_tls=not opts.auth_plaintext,
            authenticator=self.check_login,
        )
        self.command_size_limits = collections.defaultdict(
            lambda: self.command_size_limit)

    # ---- transcript ---------------------------------------------------
    def log(self, tag, text):
        self.store.log(self.conn, tag, text)

    def connection_made(self, transport):
        upgrade = self._original_transport is not None
        super().connection_made(transport)
        if upgrade:
            self.tls_up(transport, "STARTTLS")
            return
        self.store.conns += 1
        self.conn = self.store.conns
        peer = transport.get_extra_info("peername")
        self.log("*", "connect from %s:%s" % (peer[0], peer[1]) if peer else
                 "connect")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        if transport.get_extra_info("ssl_object") is not None:
            self.tls_up(transport, "implicit")
            self._auth_require_tls = False

    def tls_up(self, transport, how):
        self.tls_active = True
        obj = transport.get_extra_info("ssl_object")
        if obj is not None:
            self.tls_info = "%s %s" % (obj.version(), obj.cipher()[0])
        self.log("*", "TLS established (%s) %s" % (how, self.tls_info))
        if self.rx:
            self.log("*", b"discarded partial cleartext line: " + self.rx)
            self.rx = b""

    def data_received(self, data):
        buf = self.rx + data
        lines = buf.split(b"\n")
        self.rx = lines.pop()
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            self.log("C:", line)
            if not raw.endswith(b"\r"):
                self.log("!", "bare LF")
            if not self.in_data and not self.tls_active:
                verb = line[:5].upper()
                if verb.startswith(b"AUTH") and verb[4:5] in (b" ", b""):
                    self.log("!", "AUTH before TLS")
                elif verb == b"MAIL ":
                    self.log("!", "MAIL before TLS")
        super().data_received(data)

    def connection_lost(self, error):
        if self.rx:
            self.log("C:", self.rx + b" [no line end]")
            self.rx = b""
        self.log("*", "close" + (" (%r)" % error if error else ""))
        super().connection_lost(error)

    # ---- writing replies ----------------------------------------------
    async def send(self, data):
        lines = data.split(b"\r\n")
        if lines and lines[-1] == b"":
            lines.pop()
        self.store.log_many(self.conn, "S:", lines)
        if self.transport is None:
            return
        if self.sc == "slow":
            # Sleep between bytes, not after the last: after "220 ...\n"
            # to STARTTLS, TLS must be set up before the loop runs again.
            for i in range(len(data)):
                if i:
                    await asyncio.sleep(SLOW_DELAY)
                self._writer.write(data[i:i + 1])
                await self._writer.drain()
        else:
            self._writer.write(data)
            await self._writer.drain()

    async def push(self, status):
        if isinstance(status, str):
            status = status.encode("utf-8", "surrogateescape")
        if self.inject_next and status.startswith(b"220"):
            # CVE-2011-0411 style: a reply the client must not read as
            # the answer to its first command inside TLS.
            self.inject_next = False
            await self.send(b"220 go ahead\r\n250 injected\r\n")
            return
        await self.send(status + b"\r\n")

    def close_now(self):
        """Close the connection at once, whatever the client is doing."""
        tr = self.transport
        if tr is None:
            return
        tr.close()
        # Under TLS, close() waits for the peer's close_notify: close the
        # TCP connection under it too.
        raw = self._original_transport
        if raw is None:
            proto = getattr(tr, "_ssl_protocol", None)
            raw = getattr(proto, "_transport", None)
        if raw is not None:
            raw.close()

    async def hang_up(self):
        """Close without a reply; wait to be cancelled (connection_lost)."""
        self.close_now()
        await asyncio.Event().wait()

    async def wait_for_close(self):
        """Say nothing more; what arrives is logged until the client leaves."""
        try:
            while await self._reader.read(65536):
                pass
        finally:
            self.close_now()

    # ---- connection ---------------------------------------------------
    async def _handle_client(self):
        try:
            return await self._misbehave()
        except asyncio.CancelledError:
            self.close_now()
            raise

    async def _misbehave(self):
        sc = self.sc
        if sc == "stall-greeting":
            return await self.wait_for_close()
        if sc == "greet421":
            await self.push("421 4.3.2 Service not available, closing "
                            "transmission channel")
            return await self.hang_up()
        if sc in ("greet554", "malformed"):
            if sc == "greet554":
                await self.push("554 5.3.2 %s No SMTP service here"
                                % self.hostname)
            else:
                await self.send(b"hello there\r\n")
            while True:
                line = await self._reader.readline()
                if not line:
                    return await self.hang_up()
                cmd = line.strip().upper()
                if sc == "greet554":
                    if cmd == b"QUIT":
                        await self.push("221 2.0.0 Bye")
                        return await self.hang_up()
                    await self.push("503 5.5.1 Error: no SMTP service here")
                elif cmd == b"QUIT":
                    await self.send(b"bye now\r\n")
                    return await self.hang_up()
                else:
                    await self.send(b"what did you say?\r\n")
        return await super()._handle_client()

    # ---- EHLO ---------------------------------------------------------
    def capabilities(self):
        o = self.opts
        caps = []
        if not o.no_pipelining:
            caps.append("PIPELINING")
        if self.data_size_limit:
            caps.append("SIZE %d" % self.data_size_limit)
        if not o.no_8bitmime:
            caps.append("8BITMIME")
        if not o.no_smtputf8:
            caps.append("SMTPUTF8")
        caps.append("ENHANCEDSTATUSCODES")
        if o.dsn:
            caps.append("DSN")
        if self.tls_context is not None and not self.tls_active:
            caps.append("STARTTLS")
        if o.auth and (self.tls_active or o.auth_plaintext):
            caps.append("AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER")
        return caps

    async def smtp_EHLO(self, hostname):
        if not hostname:
            return await self.push("501 5.5.4 Syntax: EHLO hostname")
        if self.sc == "no-ehlo":
            return await self.push("502 5.5.2 Error: command not recognized")
        self._set_rset_state()
        self.session.extended_smtp = True
        self.session.host_name = hostname
        lines = [self.hostname] + self.capabilities()
        if self.sc == "bad-continuation":
            lines = ["250-" + lines[0], "250-" + lines[1],
                     "554-5.0.0 surprise", "250 " + lines[-1]]
            return await self.send("".join(l + "\r\n" for l in lines)
                                   .encode())
        if self.sc == "huge-reply":
            lines += ["X-FILLER-%06d" % i for i in
                      range(len(lines) + 1, HUGE_LINES + 1)]
        text = "".join("250-%s\r\n" % l for l in lines[:-1])
        text += "250 %s\r\n" % lines[-1]
        await self.send(text.encode())

    async def smtp_HELO(self, hostname):
        self.auth_user = None
        await super().smtp_HELO(hostname)

    def _set_rset_state(self):
        super()._set_rset_state()
        self.mail_line = None
        self.rcpt_lines = []

    # ---- STARTTLS -----------------------------------------------------
    async def smtp_STARTTLS(self, arg):
        if self.tls_context is None:
            return await self.push("502 5.5.1 Error: command not implemented")
        if self.tls_active:
            return await self.push("503 5.5.1 Error: TLS already active")
        if arg:
            return await self.push("501 5.5.4 Syntax: STARTTLS")
        self.inject_next = self.sc == "injected-before-tls"
        self.auth_user = None
        await super().smtp_STARTTLS(arg)

    # ---- AUTH ---------------------------------------------------------
    def failure(self):
        if self.sc == "auth534":
            return GMAIL_534
        return "535 5.7.8 Authentication credentials invalid"

    def check_login(self, server, session, envelope, mechanism, data):
        if self.sc in ("auth534", "auth535"):
            return AuthResult(success=False, handled=False,
                              message=self.failure())
        user = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        if self.opts.users.get(user) == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False,
                          message=self.failure())

    async def smtp_AUTH(self, arg):
        if not self.opts.auth:
            return await self.push("502 5.5.1 Error: authentication not enabled")
        await super().smtp_AUTH(arg)
        if self.session.authenticated and self.auth_user is None:
            data = self.session.auth_data
            self.auth_user = data if isinstance(data, str) else str(data)
            self.log("*", "authenticated as " + self.auth_user)

    async def _initial(self, args):
        if len(args) > 1:
            try:
                return base64.b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                await self.push("501 5.5.2 Can't decode base64")
                return None
        blob = await self.challenge_auth("", encode_to_b64=False)
        return None if blob is MISSING else blob

    async def _oauth(self, mech, args, parse, error):
        blob = await self._initial(args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        if self.sc in ("auth534", "auth535"):
            return AuthResult(success=False, handled=False,
                              message=self.failure())
        user, token = parse(blob)
        if user is not None and token is not None and \
                self.opts.users.get(user) == token:
            return AuthResult(success=True, auth_data=user)
        # Gmail: a base64 JSON error as a challenge, the client answers
        # (empty line for XOAUTH2, ^A for OAUTHBEARER), then 535.
        challenge = base64.b64encode(
            json.dumps(error, separators=(",", ":")).encode())
        await self.push(b"334 " + challenge)
        await self._reader.readline()
        return AuthResult(success=False, handled=False, message=GMAIL_535)

    @staticmethod
    def _fields(parts):
        user = token = None
        for p in parts:
            if p.startswith(b"user="):
                user = p[5:].decode("utf-8", "replace")
            elif p.startswith(b"auth="):
                kind, _, tok = p[5:].partition(b" ")
                if kind.lower() == b"bearer":
                    token = tok.decode("utf-8", "replace")
        return user, token

    async def auth_XOAUTH2(self, _, args):
        def parse(blob):
            # user=U ^A auth=Bearer T ^A ^A
            return self._fields(blob.split(b"\x01"))
        return await self._oauth("XOAUTH2", args, parse, XOAUTH2_ERROR)

    async def auth_OAUTHBEARER(self, _, args):
        def parse(blob):
            # n,a=U, ^A host=H ^A port=P ^A auth=Bearer T ^A ^A  (RFC 7628)
            parts = blob.split(b"\x01")
            gs2 = parts[0].split(b",")
            _, token = self._fields(parts[1:])
            user = None
            for g in gs2:
                if g.startswith(b"a="):
                    user = g[2:].decode("utf-8", "replace")
                    user = user.replace("=2C", ",").replace("=3D", "=")
            return user, token
        return await self._oauth("OAUTHBEARER", args, parse,
                                 OAUTHBEARER_ERROR)

    # ---- MAIL, RCPT ---------------------------------------------------
    async def smtp_MAIL(self, arg):
        if not self.session.host_name:
            return await self.push("503 5.5.1 Error: send HELO/EHLO first")
        if self.envelope.mail_from is not None:
            return await self.push("503 5.5.1 Error: nested MAIL command")
        parsed = parse_path(arg, "FROM:")
        if parsed is None:
            return await self.push("501 5.5.4 Syntax: MAIL FROM:<address>")
        address, params = parsed
        o = self.opts
        allowed = {"SIZE", "BODY"}
        if not o.no_smtputf8:
            allowed.add("SMTPUTF8")
        if o.auth:
            allowed.add("AUTH")
        if o.dsn:
            allowed |= {"RET", "ENVID"}
        plist = split_params(params)
        if plist and not self.session.extended_smtp:
            return await self.push("555 5.5.4 Error: parameters need EHLO")
        for key, value in plist:
            if key not in allowed:
                return await self.push("555 5.5.4 Unsupported option: %s" % key)
            if key == "BODY" and (value or "").upper() not in \
                    (("7BIT",) if o.no_8bitmime else ("7BIT", "8BITMIME")):
                return await self.push("501 5.5.4 Bad BODY parameter")
            if key == "SIZE":
                if not (value or "").isdigit():
                    return await self.push("501 5.5.4 Bad SIZE parameter")
                if self.data_size_limit and int(value) > self.data_size_limit:
                    return await self.push("552 5.3.4 Message size exceeds "
                                           "fixed limit")
        if self.sc == "mail421-rate":
            await self.push("421 4.7.0 Too many messages in this period, "
                            "slow down; closing connection")
            return await self.hang_up()
        if self.sc == "mail451":
            return await self.push("451 4.3.0 <%s>: Temporary lookup failure"
                                   % address)
        if self.sc == "mail550":
            return await self.push("550 5.7.1 <%s>: Sender address rejected: "
                                   "Access denied" % address)
        self.envelope.mail_from = address
        self.mail_line = "MAIL " + arg
        await self.push("250 2.1.0 Ok")

    async def smtp_RCPT(self, arg):
        if self.envelope.mail_from is None:
            return await self.push("503 5.5.1 Error: need MAIL command")
        parsed = parse_path(arg, "TO:")
        if parsed is None or not parsed[0]:
            return await self.push("501 5.5.4 Syntax: RCPT TO:<address>")
        address, params = parsed
        allowed = {"NOTIFY", "ORCPT"} if self.opts.dsn else set()
        for key, _ in split_params(params):
            if key not in allowed or not self.session.extended_smtp:
                return await self.push("555 5.5.4 Unsupported option: %s" % key)
        local = address.rpartition("@")[0] if "@" in address else address
        local = local.lower()
        if self.sc == "tempfail-all-rcpt":
            return await self.push("451 4.3.0 <%s>: Temporary failure, try "
                                   "again later" % address)
        if local.startswith("bad"):
            return await self.push("550 5.1.1 <%s>: Recipient address "
                                   "rejected: User unknown" % address)
        if local.startswith("temp"):
            return await self.push("450 4.2.1 <%s>: Mailbox temporarily "
                                   "unavailable" % address)
        if local.startswith("denied"):
            return await self.push("554 5.7.1 <%s>: Relay access denied"
                                   % address)
        self.envelope.rcpt_tos.append(address)
        self.rcpt_lines.append("RCPT " + arg)
        await self.push("250 2.1.5 Ok")

    # ---- DATA ---------------------------------------------------------
    async def smtp_DATA(self, arg):
        if not self.session.host_name:
            return await self.push("503 5.5.1 Error: send HELO/EHLO first")
        if self.envelope.mail_from is None:
            return await self.push("503 5.5.1 Error: need MAIL command")
        if not self.envelope.rcpt_tos:
            return await self.push("554 5.5.1 Error: no valid recipients")
        if arg:
            return await self.push("501 5.5.4 Syntax: DATA")
        if self.sc == "data451":
            return await self.push("451 4.3.0 Error: queue file write error")
        if self.sc == "data554":
            return await self.push("554 5.7.1 Error: transaction refused")
        self.in_data = True
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        if self.sc == "drop-before-dot":
            try:
                await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                pass
            self.log("*", "dropping the connection inside DATA")
            return await self.hang_up()
        content = bytearray()
        at_start = True
        while True:
            try:
                line = await self._reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as e:
                line = await self._reader.read(e.consumed)
            except asyncio.IncompleteReadError:
                self.log("*", "connection closed inside DATA")
                return await self.hang_up()
            if at_start and line == b".\r\n":
                break
            if at_start and line.startswith(b"."):
                line = line[1:]
            content += line
            at_start = line.endswith(b"\r\n")
        self.in_data = False
        if self.data_size_limit and len(content) > self.data_size_limit:
            self._set_rset_state()
            return await self.push("552 5.3.4 Message size exceeds fixed "
                                   "limit")
        reply = {
            "eod451": "451 4.7.1 Please try again later",
            "eod554": "554 5.7.1 Message rejected: content policy",
            "drop-after-dot": None,
            "stall-data": None,
        }.get(self.sc, "250 2.0.0 Ok: queued as %d" % (self.store.msgs + 1))
        env = ["CONNECTION: %d" % self.conn,
               "HELO: %s" % self.session.host_name,
               "TLS: %s" % ("yes " + self.tls_info if self.tls_active else "no"),
               "AUTH: %s" % (self.auth_user or "-"),
               self.mail_line] + self.rcpt_lines + \
              ["REPLY: %s" % (reply.replace("\r\n", " ") if reply else "none")]
        n = self.store.save(env, content)
        self.log("*", "stored message %d" % n)
        self._set_rset_state()
        if self.sc == "drop-after-dot":
            return await self.hang_up()
        if self.sc == "stall-data":
            return await self.wait_for_close()
        await self.push(reply)

    async def handle_exception(self, error):
        self.log("*", "exception: %r" % (error,))
        if isinstance(error, (ConnectionError, asyncio.IncompleteReadError)):
            return "421 4.3.0 connection problem"
        return "451 4.3.0 internal error: %s" % error.__class__.__name__


def parse_args(argv):
    p = argparse.ArgumentParser(description="misbehaving ESMTP server")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--scenario", default="ok", choices=sorted(SCENARIOS),
                   help="; ".join("%s: %s" % kv for kv in SCENARIOS.items()))
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", action="store_true")
    p.add_argument("--auth-plaintext", action="store_true",
                   help="offer AUTH before TLS too")
    p.add_argument("--users", default="user@example.test:secret",
                   help="user:pass,... (default user@example.test:secret)")
    p.add_argument("--size", type=int, default=10240000,
                   help="SIZE limit (default 10240000; 0: none)")
    p.add_argument("--no-pipelining", action="store_true")
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--no-smtputf8", action="store_true")
    p.add_argument("--dsn", action="store_true")
    p.add_argument("--hostname", default="faultsmtp.test")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="exit when the process that started it is gone")
    o = p.parse_args(argv)
    users = {}
    for item in filter(None, o.users.split(",")):
        user, sep, password = item.rpartition(":")
        if not sep:
            p.error("--users: want user:password, got %r" % item)
        users[user] = password
    o.users = users
    if o.scenario == "size-limit":
        o.size = 1000
    if (o.tls_cert is None) != (o.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    if o.implicit_tls and o.tls_cert is None:
        p.error("--implicit-tls needs --tls-cert and --tls-key")
    return o


def main(argv):
    opts = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="faultsmtp: %(name)s: %(message)s")
    # aiosmtpd warns about its own deprecations and about the clients this
    # server is here to observe; the transcript says it all.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    store = Store(opts.dir)
    ctx = None
    if opts.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", opts.port))
    sock.listen(64)
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    implicit = opts.implicit_tls
    server = loop.run_until_complete(loop.create_server(
        lambda: FaultSMTP(opts, store, ctx, implicit), sock=sock,
        ssl=ctx if implicit else None))
    tmp = os.path.join(opts.dir, ".port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(opts.dir, "port"))
    print("listening on %d" % port, file=sys.stderr, flush=True)
    if opts.exit_with_parent:
        parent = os.getppid()

        def orphaned():
            if os.getppid() != parent:
                loop.stop()
            else:
                loop.call_later(0.5, orphaned)
        loop.call_later(0.5, orphaned)
    try:
        loop.run_until_complete(server.serve_forever())
    except (KeyboardInterrupt, RuntimeError):
        pass        # RuntimeError: loop stopped by orphaned()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
