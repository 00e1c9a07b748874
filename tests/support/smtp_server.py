#!/usr/bin/env python3
"""A real SMTP server on loopback for ceasefire-watch's integration tests, built on aiosmtpd.

Prints "PORT <n>" once it listens, then one JSON line per message it accepted:
  {"mail_from": str, "rcpt_tos": [str], "data": str}
and one per event: {"event": "ehlo"} for each greeting (one per connection), and
{"event": "held", "data": str} when a message is held.

Reads commands on stdin, one per line: "hold" (from now on, receive each message's data but
do not answer until released, as a server that hangs after DATA), "release" (answer them).
A held message whose client went away meanwhile is not accepted. EOF stops the server.

Options:
  --port N             listen on N (default: a free port)
  --reject-rcpt TEXT   answer 550 to RCPT for addresses containing TEXT (repeatable)
  --tempfail-rcpt TEXT answer 451 to RCPT for addresses containing TEXT (repeatable)
  --stall              accept connections and never answer (a hung server)
  --slow-first-data S  answer the first message's end of data only after S seconds (250)
  --reject-later-data  answer 554 to the end of data of every message after the first
  --auth USER:PASS     require AUTH (PLAIN or LOGIN, without TLS) with these credentials;
                       each attempt is reported as {"event": "auth", "ok": bool}
"""
import argparse
import asyncio
import json
import logging
import socket
import sys
import threading
import warnings

# The AUTH option is for loopback tests: aiosmtpd's warning about AUTH without TLS is noise.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
logging.getLogger("mail.log").setLevel(logging.ERROR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emit(obj):
    print(json.dumps(obj), flush=True)


class Handler:
    def __init__(self, reject, tempfail, slow_first=0.0, reject_later=False):
        self.reject = reject
        self.tempfail = tempfail
        self.holding = threading.Event()
        self.slow_first = slow_first
        self.reject_later = reject_later
        self.messages = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        emit({"event": "ehlo"})
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if any(r in address for r in self.reject):
            return "550 5.1.1 Mailbox unavailable"
        if any(r in address for r in self.tempfail):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        self.messages += 1
        if self.messages == 1 and self.slow_first:
            # A slow answer: the client may have given up meanwhile; whatever reads this
            # socket next gets the 250.
            await asyncio.sleep(self.slow_first)
        elif self.messages > 1 and self.reject_later:
            emit({"event": "rejected", "data": data})
            return "554 5.7.1 Message rejected"
        if self.holding.is_set():
            emit({"event": "held", "data": data})
            while self.holding.is_set():
                await asyncio.sleep(0.02)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 Client went away"
        emit({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": data})
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = auth_data.login == self.user and auth_data.password == self.password
        emit({"event": "auth", "ok": ok})
        return AuthResult(success=ok)


async def stall(port):
    async def hold(reader, writer):
        await asyncio.sleep(3600)

    server = await asyncio.start_server(hold, "127.0.0.1", port)
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--reject-rcpt", action="append", default=[])
    ap.add_argument("--tempfail-rcpt", action="append", default=[])
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--slow-first-data", type=float, default=0.0)
    ap.add_argument("--reject-later-data", action="store_true")
    ap.add_argument("--auth")
    args = ap.parse_args()
    port = args.port or free_port()
    if args.stall:
        asyncio.run(stall(port))
        return
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        sys.exit("aiosmtpd is not installed: run scripts/test, which installs it, or pip install aiosmtpd==1.4.6")
    handler = Handler(args.reject_rcpt, args.tempfail_rcpt, args.slow_first_data,
                      args.reject_later_data)
    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs = dict(authenticator=Authenticator(user, password), auth_required=True,
                      auth_require_tls=False)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        # Until the test harness closes our stdin or kills us.
        for line in sys.stdin:
            command = line.strip()
            if command == "hold":
                handler.holding.set()
            elif command == "release":
                handler.holding.clear()
            print(f"ACK {command}", flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
