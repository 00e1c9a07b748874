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
"""
import argparse
import asyncio
import json
import socket
import sys
import threading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emit(obj):
    print(json.dumps(obj), flush=True)


class Handler:
    def __init__(self, reject, tempfail):
        self.reject = reject
        self.tempfail = tempfail
        self.holding = threading.Event()

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
        if self.holding.is_set():
            emit({"event": "held", "data": data})
            while self.holding.is_set():
                await asyncio.sleep(0.02)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 Client went away"
        emit({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": data})
        return "250 Message accepted for delivery"


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
    args = ap.parse_args()
    port = args.port or free_port()
    if args.stall:
        asyncio.run(stall(port))
        return
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        sys.exit("aiosmtpd is not installed: run scripts/test, which installs it, or pip install aiosmtpd==1.4.6")
    handler = Handler(args.reject_rcpt, args.tempfail_rcpt)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
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
