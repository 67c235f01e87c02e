"""The client process: every client connection on one ``epoll``, checking what each receives.

    python -m benchmarks.fanout.clients

No WebSocket library: each connection keeps a byte count and a running
CRC-32 of what it received, so a recv costs two C calls however many frames
it holds.  All frames of a run have the same known bytes, so a connection
has its messages exactly when its byte count reaches the expected total and
the CRC equals that of the expected frames in order: a missing, repeated,
reordered or corrupted message, or any other frame (a ping), fails the run
loudly, and so does one byte more after the end or on a connection outside
the run.

Commands on stdin, one a line: ``connect NAME PORT COUNT`` (answer
``connected NAME``), ``run START COUNT BURST NAME...`` (``armed``; then
``burst I`` whenever every connection of the run has burst I, and ``done
NAME=T ...`` with the time each group had everything), ``check`` (``ok``),
``quit``.  Any failure is answered with ``fail REASON``.
"""

from __future__ import annotations

import os
import select
import time
import zlib
from typing import Any

from benchmarks.e2e.loads import open_conn
from benchmarks.e2e.procstat import raise_nofile

from .messages import frame, reply

STALL_SECONDS = 10.0  # a run with no progress for this long has failed


class DeliveryError(Exception):
    """A client did not get exactly the messages of the run (or got bytes outside one)."""


class Receiver:
    """One client connection: bytes and CRC-32 of what it got in the current run."""

    __slots__ = ("conn", "crc", "got", "group", "mark", "mark_index", "recv")

    def __init__(self, conn: Any, group: str) -> None:
        self.conn = conn
        self.recv = conn.recv
        self.group = group
        self.got = self.crc = self.mark_index = 0
        self.mark = 1  # any byte outside a run is a stray


class Run:
    """What every connection of the run's groups must receive, and who has it."""

    def __init__(self, start: int, count: int, burst: int, receivers: list[Receiver]) -> None:
        frames = [frame(k) for k in range(start, start + count)]
        self.marks: list[int] = []
        total = 0
        for i, f in enumerate(frames):
            total += len(f)
            if (i + 1) % burst == 0 or i + 1 == count:
                self.marks.append(total)
        self.total = total
        self.crc = zlib.crc32(b"".join(frames))
        self.need = len(receivers)
        self.done = [0] * len(self.marks)
        self.left: dict[str, int] = {}
        for r in receivers:
            self.left[r.group] = self.left.get(r.group, 0) + 1
            r.got = r.crc = r.mark_index = 0
            r.mark = self.marks[0]
        self.finished_at: dict[str, float] = {}
        self.last_progress = time.monotonic()

    def advance(self, r: Receiver) -> None:
        """``r`` passed its next mark: count bursts; check the whole stream at the end."""
        marks = self.marks
        nmarks = len(marks)
        if r.mark_index == nmarks:
            raise DeliveryError(f"{r.group}: {r.got - self.total} bytes after the last message")
        while r.mark_index < nmarks and r.got >= marks[r.mark_index]:
            i = r.mark_index
            self.done[i] += 1
            if self.done[i] == self.need:
                reply(f"burst {i}")
            r.mark_index += 1
        if r.mark_index < nmarks:
            r.mark = marks[r.mark_index]
            return
        if r.got != self.total or r.crc != self.crc:
            raise DeliveryError(
                f"{r.group}: got {r.got} bytes (CRC {r.crc:08x}) where {self.total} bytes"
                f" (CRC {self.crc:08x}) were expected: a message missing, repeated or altered"
            )
        r.mark = self.total + 1  # one more byte is a failure
        self.left[r.group] -= 1
        if self.left[r.group] == 0:
            self.finished_at[r.group] = time.monotonic()
            if len(self.finished_at) == len(self.left):
                reply("done " + " ".join(f"{g}={t!r}" for g, t in self.finished_at.items()))


def run_clients() -> None:
    """The client process: ``connect``, ``run``, ``check``, ``quit`` on stdin."""
    raise_nofile(20000)
    ep = select.epoll()
    ep.register(0, select.EPOLLIN)
    groups: dict[str, list[Receiver]] = {}
    by_fd: dict[int, Receiver] = {}
    run: Run | None = None
    buf = b""
    crc32 = zlib.crc32
    try:
        while True:
            events = ep.poll(1.0)
            for fd, _ in events:
                if fd != 0:
                    r = by_fd[fd]
                    try:
                        data = r.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        raise DeliveryError(f"{r.group}: {exc}") from None
                    if not data:
                        raise DeliveryError(f"{r.group}: the server closed a connection")
                    r.got += len(data)
                    r.crc = crc32(data, r.crc)
                    if r.got >= r.mark:
                        if run is None or r.group not in run.left:
                            raise DeliveryError(f"{r.group}: {len(data)} bytes outside a run")
                        run.advance(r)
                        run.last_progress = time.monotonic()
                    continue
                chunk = os.read(0, 65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, _, buf = buf.partition(b"\n")
                    words = line.decode().split()
                    if words[0] == "connect":
                        name, port, count = words[1], int(words[2]), int(words[3])
                        members = groups.setdefault(name, [])
                        for _ in range(count):
                            r = Receiver(open_conn(port, False, None), name)
                            members.append(r)
                            by_fd[r.conn.fd] = r
                            ep.register(r.conn.fd, select.EPOLLIN)
                        reply(f"connected {name}")
                    elif words[0] == "run":
                        start, count, burst = int(words[1]), int(words[2]), int(words[3])
                        for r in by_fd.values():  # everyone else: any byte is a stray
                            r.got = r.crc = r.mark_index = 0
                            r.mark = 1
                        receivers = [r for g in words[4:] for r in groups[g]]
                        run = Run(start, count, burst, receivers)
                        reply("armed")
                    elif words[0] == "check":
                        reply("ok")  # (a stray byte would have failed before this)
                    elif words[0] == "quit":
                        return
            if (
                run is not None
                and run.finished_at.keys() != run.left.keys()
                and time.monotonic() - run.last_progress > STALL_SECONDS
            ):
                short = [r for g in run.left for r in groups[g] if r.got < run.total]
                raise DeliveryError(
                    f"no progress for {STALL_SECONDS:.0f} s: {len(short)} connections"
                    f" short of {run.total} bytes (least: {min(r.got for r in short)})"
                )
    except DeliveryError as exc:
        reply(f"fail {exc}")
    finally:
        for r in by_fd.values():
            r.conn.sock.close()
        ep.close()


if __name__ == "__main__":
    run_clients()
