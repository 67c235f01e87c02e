"""Where a received message's time goes: our receive path in one process, no sockets.

    python -m benchmarks.backplane.layers [--messages N] [--repeat R]

The bytes a subscriber reads from Redis (``message`` replies carrying the
run's envelopes, 100 to a chunk, as :mod:`.publisher` sends them) are fed
to each layer in turn, with hiredis' reader and with ours:

1. the RESP reader alone (``feed`` + ``gets``);
2. ``decode_envelope`` alone, and ``SequenceTracker.observe`` alone;
3. a ``RedisBackplane`` on a server factory, the chunks handed to its
   subscriber link as a runtime adapter hands them (``data_received``
   through a :class:`~wsproto_cb.backplane.io.BackplaneIO` that does no
   I/O), with the factory's ``_backplane_deliver`` a no-op: link, RESP,
   envelope, sequence check;
4. the same with the factory's own ``_backplane_deliver`` (a local
   broadcast to a group with no members here);
5. the same with the subscriber processes' counting wrapper around it:
   what ``ours-*`` runs per message, minus the event loop and ``recv()``.

Figures: process CPU time per message, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from wsproto_cb.backplane.envelope import SequenceTracker, decode_envelope
from wsproto_cb.backplane.io import StreamHandler
from wsproto_cb.backplane.resp import NO_HIREDIS_ENV, encode_command, make_reader
from wsproto_cb.factories import WebSocketServerFactory

from .messages import CHANNEL, GROUP, envelope
from .subscribers import Counter, our_factory

CHUNK = 100  # messages per data_received


class _NoTimer:
    def cancel(self) -> None:
        pass


class _Stream:
    """A connection that keeps what the link writes (to find the subscriber link)."""

    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def buffered(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class MemoryIO:
    """A BackplaneIO whose connections are made at once and whose timers never fire."""

    def __init__(self) -> None:
        self.links: list[tuple[StreamHandler, _Stream]] = []

    def connect_tcp(
        self, host: str, port: int, handler: StreamHandler, timeout: float, tls: Any = None
    ) -> None:
        stream = _Stream()
        self.links.append((handler, stream))
        handler.connection_made(stream)

    def call_later(self, delay: float, callback: Callable[[], None]) -> _NoTimer:
        return _NoTimer()

    def log(self, level: str, message: str) -> None:
        print(f"{level}: {message}", file=sys.stderr)

    def closing(self) -> list[Any]:
        return []


def subscriber_link(deliver: str, count: int) -> StreamHandler:
    """A factory on a RedisBackplane subscribed to GROUP, its links up; the subscriber
    link's handler.  ``deliver``: "none" (a no-op), "factory" or "counted"."""
    io = MemoryIO()

    class InMemory(WebSocketServerFactory):
        def _backplane_io(self) -> MemoryIO:
            return io

    class NoDeliver(InMemory):
        def _backplane_deliver(self, group: str | None, payload: bytes, isBinary: bool) -> None:
            pass

    if deliver == "counted":
        factory = our_factory(InMemory, "redis://127.0.0.1:1/0", Counter(count + 1))
    else:
        from wsproto_cb.backplane import RedisBackplane

        factory = (NoDeliver if deliver == "none" else InMemory)()
        factory.setBackplane(RedisBackplane("redis://127.0.0.1:1/0"))
        factory.backplane.subscribe(GROUP)
    for handler, _ in io.links:
        handler.data_received(b"+OK\r\n")  # (to CLIENT SETNAME: the links are ready)
    if not factory.backplane.connected:
        raise RuntimeError("the backplane's links did not come up")
    return next(handler for handler, stream in io.links if b"SUBSCRIBE" in stream.written)


def best(repeat: int, run: Callable[[], float]) -> float:
    """The least CPU time of ``repeat`` runs (each times itself, set-up left out)."""
    return min(run() for _ in range(repeat))


def cpu_time(work: Callable[[], object]) -> float:
    t0 = time.process_time()
    work()
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.backplane.layers")
    p.add_argument("--messages", type=int, default=50_000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    n = a.messages
    node = os.urandom(8)
    envelopes = [envelope(node, k) for k in range(1, n + 1)]
    replies = [encode_command("message", CHANNEL, e) for e in envelopes]
    chunks = [b"".join(replies[i : i + CHUNK]) for i in range(0, n, CHUNK)]
    decoded = [decode_envelope(e) for e in envelopes]

    def read_all() -> float:
        reader = make_reader()

        def work() -> None:
            for chunk in chunks:
                reader.feed(chunk)
                while reader.gets() is not False:
                    pass

        return cpu_time(work)

    def decode_all() -> float:
        return cpu_time(lambda: list(map(decode_envelope, envelopes)))

    def observe_all() -> float:
        observe = SequenceTracker().observe
        return cpu_time(lambda: [observe(e.node, e.group, e.sequence, e.epoch) for e in decoded])

    def through(deliver: str) -> Callable[[], float]:
        def run() -> float:
            handler = subscriber_link(deliver, n)

            def work() -> None:
                for chunk in chunks:
                    handler.data_received(chunk)

            return cpu_time(work)

        return run

    stages: list[tuple[str, Callable[[], float], bool]] = [
        ("1. RESP reader alone", read_all, True),
        ("2. decode_envelope alone", decode_all, False),
        ("2. SequenceTracker.observe alone", observe_all, False),
        ("3. + link, envelope, sequence check", through("none"), True),
        ("4. + factory's _backplane_deliver", through("factory"), True),
        ("5. + the benchmark's counting", through("counted"), True),
    ]
    size = len(envelopes[0])
    print(f"{n:,} messages, {size}-byte envelopes, CPU us/message (best of {a.repeat})")
    print(f"{'layer':<40}{'hiredis':>10}{'RespReader':>12}")
    for label, run, per_reader in stages:
        figures = []
        for pure in (False, True) if per_reader else (False,):
            if pure:
                os.environ[NO_HIREDIS_ENV] = "1"
            else:
                os.environ.pop(NO_HIREDIS_ENV, None)
            figures.append(f"{best(a.repeat, run) / n * 1e6:.2f}")
        print(f"{label:<40}{figures[0]:>10}" + "".join(f"{f:>12}" for f in figures[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
