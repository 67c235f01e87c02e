"""The load loops of the end-to-end scenarios (run inside the driver process).

Every loop is bounded twice: by a number of operations and by time.  The
sockets are plain non-blocking ``socket`` objects on an ``epoll``; each
client frame is built (masked) once, and a reply whose bytes are known in
advance is checked with one ``==``.  What is measured is a *window* in the
middle of a steady run: the load is already going when the window opens
and still going when it closes, so connection set-up and tear-down are
outside it.
"""

from __future__ import annotations

import os
import select
import socket
import time
from typing import Any

from . import wire
from .procstat import cpu_seconds

__all__ = ["Conn", "Window", "close_all", "open_conn", "run_echo_load"]

Result = dict[str, Any]
ADDR = "127.0.0.1"
TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8
CLOSE_FRAME = wire.build_frame(CLOSE, b"\x03\xe8")  # 1000, masked
STALL_SECONDS = 10.0  # no progress at all for this long: the server is stuck


class Window:
    """Wall time, server CPU and driver CPU across the timed part of a run."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.t0 = self.s0 = self.d0 = self.u0 = 0.0
        self.ops0 = 0

    def open(self, ops: int) -> None:
        self.ops0 = ops
        self.s0 = cpu_seconds(self.pid)
        self.d0 = time.process_time()
        self.u0 = os.times().user
        self.t0 = time.perf_counter()

    def close(self, ops: int) -> Result:
        wall = time.perf_counter() - self.t0
        driver = time.process_time() - self.d0
        user = os.times().user - self.u0
        server = cpu_seconds(self.pid) - self.s0
        n = ops - self.ops0
        return {
            "ops": n,
            "wall_s": wall,
            "rate": n / wall if wall > 0 else 0.0,
            "server_cpu_s": server,
            "driver_cpu_s": driver,
            "server_us_per_op": server / n * 1e6 if n else None,
            "driver_us_per_op": driver / n * 1e6 if n else None,
            # the rest of the driver's CPU is the kernel's TCP work, which the
            # server pays in the same way for its own reads and writes
            "driver_user_us_per_op": user / n * 1e6 if n else None,
            "server_share": server / wall if wall > 0 else 0.0,
            "driver_share": driver / wall if wall > 0 else 0.0,
        }


class Conn:
    """One client connection of a multi-connection load."""

    __slots__ = (
        "buf",
        "expect",
        "fd",
        "idx",
        "inflate",
        "outstanding",
        "params",
        "recv",
        "send",
        "sock",
    )

    def __init__(self, sock: socket.socket, params: wire.DeflateParams | None) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.recv = sock.recv
        self.send = sock.send
        self.params = params
        self.inflate = wire.InflateStream() if params is not None else None
        self.buf = b""
        self.idx = 0
        self.expect: bytes | None = None
        self.outstanding = False


def open_conn(port: int, raw: bool, offer: str | None) -> Conn:
    """Connect (and shake hands unless ``raw``); the socket is left non-blocking."""
    sock = socket.create_connection((ADDR, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    params = None
    if not raw:
        params, early = wire.do_handshake(sock, port, offer)
        if early:
            raise wire.ReplyError(f"unexpected bytes after the handshake: {early[:40]!r}")
    sock.setblocking(False)
    return Conn(sock, params)


def send_all(c: Conn, data: bytes, deadline: float) -> None:
    """Write all of ``data`` on a non-blocking socket (waiting when it is full)."""
    view = memoryview(data)
    while view:
        try:
            n = c.send(view)
        except BlockingIOError:
            n = 0
        view = view[n:]
        if view:
            if time.monotonic() > deadline:
                raise TimeoutError("send timed out")
            select.select([], [c.sock], [], 0.5)


def close_all(conns: list[Conn], raw: bool, timeout: float = 10.0) -> int:
    """Closing handshake on every connection (bounded); returns how many closed cleanly."""
    clean = 0
    deadline = time.monotonic() + timeout
    if not raw:
        pending: dict[int, Conn] = {}
        ep = select.epoll()
        try:
            for c in conns:
                try:
                    send_all(c, CLOSE_FRAME, deadline)
                    c.buf = b""
                    pending[c.fd] = c
                    ep.register(c.fd, select.EPOLLIN)
                except OSError:
                    pass
            while pending and time.monotonic() < deadline:
                for fd, _ in ep.poll(0.5):
                    c = pending[fd]
                    try:
                        data = c.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        c.buf += data
                        continue
                    frames, _ = wire.parse_frames(c.buf)
                    if frames and frames[-1][0] == CLOSE:
                        clean += 1
                    ep.unregister(fd)
                    del pending[fd]
        finally:
            ep.close()
    for c in conns:
        c.sock.close()
    return clean


def _slow_reply(c: Conn, data: bytes, messages: list[bytes]) -> bool:
    """Check a reply that was not the expected bytes in one piece; True when complete."""
    exp = c.expect
    if exp is not None:
        if len(data) < len(exp) and exp.startswith(data):
            c.buf = data
            return False
        raise wire.ReplyError(f"unexpected reply {data[:60]!r}... ({len(data)} bytes)")
    frames, used = wire.parse_frames(data)
    if not frames:
        c.buf = data
        return False
    if len(frames) != 1 or used != len(data):
        raise wire.ReplyError(f"{len(frames)} frames where one echo was expected")
    opcode, rsv1, payload = frames[0]
    if opcode != TEXT:
        raise wire.ReplyError(f"opcode {opcode} where a text echo was expected")
    if rsv1:
        if c.inflate is None or c.params is None:
            raise wire.ReplyError("compressed frame without permessage-deflate")
        payload = c.inflate.message(payload, c.params)
    if payload != messages[c.idx]:
        raise wire.ReplyError("echoed message differs from the one sent")
    c.buf = b""
    return True


def run_echo_load(
    conns: list[Conn],
    frames: list[list[bytes]],
    replies: list[list[bytes]] | None,
    messages: list[bytes],
    window: Window,
    warmup: float,
    duration: float,
    max_ops: int,
) -> Result:
    """Every connection keeps one message in flight, sending the next on each echo.

    ``frames[i][k]`` is connection i's frame for message k (round-robin over
    k); ``replies[i][k]`` the exact echo expected, or ``replies is None``
    when echoes must be parsed (compressed).  Returns the window's figures.
    """
    ep = select.epoll()
    by_fd: dict[int, Conn] = {}
    nmsg = len(messages)
    for i, c in enumerate(conns):
        by_fd[c.fd] = c
        ep.register(c.fd, select.EPOLLIN)
        c.idx = 0
        c.expect = replies[i][0] if replies is not None else None
    frame_of = {c.fd: frames[i] for i, c in enumerate(conns)}
    reply_of = {c.fd: replies[i] for i, c in enumerate(conns)} if replies is not None else None
    ops = 0
    t_start = time.perf_counter()
    deadline_send = time.monotonic() + 30
    for c in conns:
        send_all(c, frame_of[c.fd][0], deadline_send)
        c.outstanding = True
    sending = True
    in_flight = len(conns)
    phase = 0  # 0 warm-up, 1 timed, 2 draining
    warm_end = t_start + warmup
    end = warm_end + duration
    result: Result | None = None
    last_progress = time.perf_counter()
    drain_deadline = float("inf")
    poll = ep.poll
    try:
        while in_flight:
            events = poll(0.5)
            now = time.perf_counter()
            if not events:
                if now - last_progress > STALL_SECONDS:
                    raise TimeoutError(f"no echo for {STALL_SECONDS} s ({in_flight} in flight)")
            else:
                last_progress = now
            for fd, _ in events:
                c = by_fd[fd]
                try:
                    data = c.recv(65536)  # (not more: a larger buffer is an mmap per call)
                except BlockingIOError:
                    continue
                if not data:
                    raise wire.ReplyError("server closed the connection")
                if c.buf:
                    data = c.buf + data
                    c.buf = b""
                if data != c.expect and not _slow_reply(c, data, messages):
                    continue
                ops += 1
                if sending:
                    k = c.idx + 1
                    if k == nmsg:
                        k = 0
                    c.idx = k
                    if reply_of is not None:
                        c.expect = reply_of[fd][k]
                    frame = frame_of[fd][k]
                    if c.send(frame) != len(frame):
                        raise wire.ReplyError("short send of a small frame")  # pragma: no cover
                else:
                    c.outstanding = False
                    in_flight -= 1
            if phase == 0 and now >= warm_end:
                window.open(ops)
                phase = 1
            elif phase == 1 and (now >= end or ops - window.ops0 >= max_ops):
                result = window.close(ops)
                phase = 2
                sending = False
                drain_deadline = now + 10
            elif phase == 2 and now > drain_deadline:
                raise TimeoutError(f"{in_flight} echoes still missing after the run")
    finally:
        ep.close()
    if result is None:
        raise RuntimeError("the run ended before its timed window")
    return result
