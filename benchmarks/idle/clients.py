"""A client process: many idle WebSocket connections from one loopback source address.

    python -m benchmarks.idle.clients SOURCE_ADDRESS

Standard library only, every socket non-blocking on one ``epoll``.  Commands
on stdin, one a line, each answered on stdout (``fail REASON`` on any
failure):

- ``open PORT COUNT OFFER``: open COUNT more connections to 127.0.0.1:PORT
  from SOURCE_ADDRESS, at most 256 handshakes in flight; OFFER 1 offers
  permessage-deflate as browsers do and requires the server to accept it.
  Every 101 response is checked (benchmarks/e2e/wire.py).  Answer ``opened
  HELD SECONDS``.  No progress for 20 s fails.
- ``check``: every held connection is still open and has received nothing
  (``ok HELD``).
- ``close``: close every held connection (``closed``).
- ``quit``, or stdin closed: exit (the kernel closes what is left).

Several processes on several source addresses (127.0.0.x) keep each within
the ephemeral port range and its own file descriptor limit.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import sys
import time

from benchmarks.e2e import wire
from benchmarks.e2e.procstat import raise_nofile
from benchmarks.fanout.messages import HOST, reply

IN_FLIGHT = 256
STALL_SECONDS = 20.0
# Linux: choose the source port at connect(), not bind(), so one source
# address serves different destinations from the whole range.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


class Clients:
    def __init__(self, source: str) -> None:
        self.source = source
        self.held: list[socket.socket] = []

    def open(self, port: int, count: int, offer: str | None) -> float:
        request = wire.handshake_request(port, offer)
        ep = select.epoll()
        pending: dict[int, tuple[socket.socket, bytearray]] = {}
        sent: set[int] = set()
        started = done = 0
        t0 = last = time.monotonic()
        try:
            while done < count:
                while started < count and len(pending) < IN_FLIGHT:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    sock.bind((self.source, 0))
                    rc = sock.connect_ex((HOST, port))
                    if rc not in (0, errno.EINPROGRESS):
                        sock.close()
                        raise OSError(rc, f"connect: {os.strerror(rc)}")
                    pending[sock.fileno()] = (sock, bytearray())
                    ep.register(sock.fileno(), select.EPOLLOUT)
                    started += 1
                events = ep.poll(1.0)
                now = time.monotonic()
                if events:
                    last = now
                elif now - last > STALL_SECONDS:
                    raise TimeoutError(f"no progress for {STALL_SECONDS:g} s ({done} open)")
                for fd, _ in events:
                    sock, buf = pending[fd]
                    if fd not in sent:
                        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            raise OSError(err, f"connect: {os.strerror(err)}")
                        sock.send(request)  # (small: fits the empty socket buffer)
                        sent.add(fd)
                        ep.modify(fd, select.EPOLLIN)
                        continue
                    data = sock.recv(65536)
                    if not data:
                        raise ConnectionError(f"closed during the handshake after {bytes(buf)!r}")
                    buf += data
                    head, found, rest = bytes(buf).partition(b"\r\n\r\n")
                    if not found:
                        continue
                    params = wire.parse_handshake_response(head, offer)
                    if offer and params is None:
                        raise wire.HandshakeFailed("the server did not accept permessage-deflate")
                    if rest:
                        raise wire.HandshakeFailed(f"bytes after the response: {rest[:40]!r}")
                    ep.unregister(fd)
                    del pending[fd]
                    sent.discard(fd)
                    self.held.append(sock)
                    done += 1
        finally:
            for sock, _ in pending.values():
                sock.close()
            ep.close()
        return time.monotonic() - t0

    def check(self) -> None:
        """Nothing arrived on any held connection, and none was closed."""
        ep = select.epoll()
        try:
            for sock in self.held:
                ep.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
            events = ep.poll(0.1)
        finally:
            ep.close()
        if events:
            raise ConnectionError(f"{len(events)} idle connections received bytes or were closed")

    def close(self) -> None:
        for sock in self.held:
            sock.close()
        self.held.clear()


def main() -> None:
    clients = Clients(sys.argv[1])
    raise_nofile(1 << 20)
    buf = b""
    while True:
        data = os.read(0, 4096)
        if not data:
            os._exit(0)
        buf += data
        *lines, buf = buf.split(b"\n")
        for line in lines:
            words = line.decode().split()
            try:
                if words[:1] == ["open"]:
                    port, count, offer = int(words[1]), int(words[2]), words[3] == "1"
                    seconds = clients.open(
                        port, count, wire.BROWSER_DEFLATE_OFFER if offer else None
                    )
                    reply(f"opened {len(clients.held)} {seconds:.3f}")
                elif words[:1] == ["check"]:
                    clients.check()
                    reply(f"ok {len(clients.held)}")
                elif words[:1] == ["close"]:
                    clients.close()
                    reply("closed")
                elif words[:1] == ["quit"]:
                    os._exit(0)
                elif words:
                    reply(f"error unknown command {words[0]!r}")
            except Exception as exc:  # reported to the driver, which stops the run
                reply(f"fail {type(exc).__name__}: {exc}".replace("\n", " "))


if __name__ == "__main__":
    main()
