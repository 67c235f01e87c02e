"""Server memory for one message sent as millions of tiny fragments.

    python benchmarks/fragment_memory.py                  # 3,000,000 frames of 2 bytes
    python benchmarks/fragment_memory.py --frames 500000 --size 0   # empty ones

A wsproto_cb asyncio server runs in a child process (default limits:
16 MiB per message, so a message may take 32 MiB on the wire).  This
process connects over 127.0.0.1 and sends one binary message as a first
frame and ``--frames`` continuation frames of ``--size`` bytes each
(masked, 6-byte headers).  The server answers with its resident memory when
the connection opened and its peak (VmHWM) when the message arrived, or
closes with a code if a limit refused the message.  Bounded: one message,
one connection, a 120 s timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time

MASK = b"\x37\xfa\x21\x3d"
BATCH = 65536  # frames per write


def _status(field: bytes) -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field!r} in /proc/self/status")


def serve() -> None:
    """The child: print the port, answer the one message with memory figures."""
    from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol

    class Measuring(WebSocketServerProtocol):
        def onOpen(self) -> None:
            self.rss_open = _status(b"VmRSS:")

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            report = {
                "payload": len(payload),
                "rss_open": self.rss_open,
                "rss_now": _status(b"VmRSS:"),
                "peak": _status(b"VmHWM:"),
            }
            self.sendMessage(json.dumps(report).encode())

    async def main() -> None:
        factory = WebSocketServerFactory("ws://127.0.0.1")
        factory.protocol = Measuring
        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(120)

    asyncio.run(main())


def frame(opcode: int, payload: bytes, fin: bool) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)])
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return head + MASK + masked


def read_reply(sock: socket.socket) -> tuple[int, bytes]:
    """The server's first frame: (opcode, payload); unmasked, length < 64 KiB."""
    data = b""
    while True:
        if len(data) >= 4:
            length, start = data[1] & 0x7F, 2
            if length == 126:
                (length,), start = struct.unpack("!H", data[2:4]), 4
            if len(data) >= start + length:
                return data[0] & 0x0F, data[start : start + length]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed without a frame")
        data += chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=3_000_000)
    parser.add_argument("--size", type=int, default=2, choices=range(0, 126))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        piece = bytes(range(97, 97 + args.size))
        batch = frame(0x0, piece, False) * BATCH
        started = time.perf_counter()
        sent = 0
        try:
            sock.sendall(frame(0x2, piece, False))
            left = args.frames
            while left > 0:
                n = min(left, BATCH)
                chunk = batch if n == BATCH else batch[: n * (6 + args.size)]
                sock.sendall(chunk)
                sent += len(chunk)
                left -= n
            sock.sendall(frame(0x0, b"", True))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the message; its close frame says why
        opcode, payload = read_reply(sock)
        elapsed = time.perf_counter() - started
        mib = 1024 * 1024
        print(f"sent {args.frames:,} frames of {args.size} bytes: {sent / mib:.1f} MiB")
        if opcode == 0x8:
            (code,) = struct.unpack("!H", payload[:2])
            print(f"refused: close {code} {payload[2:].decode()!r} after {elapsed:.1f} s")
            return
        report = json.loads(payload)
        print(
            f"payload {report['payload'] / mib:.1f} MiB; server RSS at open "
            f"{report['rss_open'] / mib:.1f} MiB, peak {report['peak'] / mib:.1f} MiB "
            f"(+{(report['peak'] - report['rss_open']) / mib:.1f} MiB), "
            f"after delivery {report['rss_now'] / mib:.1f} MiB; {elapsed:.1f} s"
        )
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
