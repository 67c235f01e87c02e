"""The publisher process: PUBLISH every message of a run to one channel, raw RESP, pipelined.

    python -m benchmarks.backplane.publisher --port P --count N [--rate R] [--batch B]

It builds all ``PUBLISH`` commands first (message k = envelope k, see
:mod:`.messages`), answers ``ready``, and on ``go`` (stdin) writes them in
batches of ``--batch`` on one TCP connection, with at most
:data:`WINDOW` batches' replies outstanding: as fast as Redis takes them,
or batch ``i`` not before ``i * batch / rate`` seconds with ``--rate``.
Then it answers ``published T0 T1 RECEIVERS``: ``time.monotonic()`` at
the first write and at the last reply (the clock is system-wide, so the
driver compares it with the subscribers'), and the sum of PUBLISH's
replies (how many subscribers each message reached).  ``quit`` or EOF
on stdin: exit.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time

from wsproto_cb.backplane.resp import ReplyReader, encode_command, make_reader

from .messages import CHANNEL, envelope, reply

WINDOW = 8  # batches written and not yet answered


class Replies:
    """The integer replies to PUBLISH, read from the socket as they come."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: ReplyReader = make_reader()
        self.count = 0
        self.receivers = 0

    def read_until(self, count: int) -> None:
        while self.count < count:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("Redis closed the publisher's connection")
            self.reader.feed(data)
            while (value := self.reader.gets()) is not False:
                if not isinstance(value, int):
                    raise RuntimeError(f"PUBLISH answered {value!r}")
                self.count += 1
                self.receivers += value


def publish(port: int, batches: list[tuple[int, bytes]], rate: float) -> tuple[float, float, int]:
    """Write ``batches`` (messages, bytes) at ``rate`` msgs/s (0: at once); times, receivers."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        replies = Replies(sock)
        sent = 0
        marks: list[int] = []  # messages sent after each batch
        t0 = time.monotonic()
        for n, data in batches:
            if rate:
                wait = t0 + sent / rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            sock.sendall(data)
            sent += n
            marks.append(sent)
            if len(marks) > WINDOW:
                replies.read_until(marks[-WINDOW - 1])
        replies.read_until(sent)
        return t0, time.monotonic(), replies.receivers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.backplane.publisher")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="messages/s (0: as fast as possible)")
    p.add_argument("--batch", type=int, default=100)
    a = p.parse_args(argv)
    node = os.urandom(8)
    numbers = range(1, a.count + 1)
    commands = [encode_command("PUBLISH", CHANNEL, envelope(node, k)) for k in numbers]
    batches = [
        (len(commands[i : i + a.batch]), b"".join(commands[i : i + a.batch]))
        for i in range(0, a.count, a.batch)
    ]
    del commands
    reply("ready")
    for line in sys.stdin:
        words = line.split()
        if words == ["go"]:
            t0, t1, receivers = publish(a.port, batches, a.rate)
            reply(f"published {t0!r} {t1!r} {receivers}")
        elif words == ["quit"]:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
