"""What an attack is, what it is given, and what it reports."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from wsproto_cb.core.codes import Opcode
from wsproto_cb.core.frames import build_frame

from .peer import Peer
from .server import Gauges, ServerProcess

__all__ = [
    "Attack",
    "Context",
    "Outcome",
    "bounded_gather",
    "masked",
    "open_peers",
]

T = TypeVar("T")

#: how many connections an attack opens at once (under both runtimes' listen backlogs)
CONCURRENCY = 40


@dataclass(frozen=True)
class Outcome:
    """What the server did; ``ok`` when it defended itself as designed."""

    text: str
    ok: bool


@dataclass
class Context:
    """What an attack works with: the server (None for client-side checks) and the scale."""

    runtime: str
    quick: bool
    server: ServerProcess | None = None
    #: the server's gauges before the attack
    baseline: Gauges | None = None

    @property
    def port(self) -> int:
        if self.server is None:
            raise RuntimeError("this attack has no server")
        return self.server.port

    def gauges(self) -> Gauges:
        if self.server is None:
            raise RuntimeError("this attack has no server")
        return self.server.gauges()

    def flag(self, name: str, default: float) -> float:
        """The value of one of the server's command-line flags (or its default)."""
        flags = self.server.flags if self.server is not None else ()
        for i, value in enumerate(flags[:-1]):
            if value == name:
                return float(flags[i + 1])
        return default

    async def connections_gone(self, timeout: float) -> float | None:
        """Seconds until the server holds no more descriptors than before the attack
        (its connections are gone); None if that takes longer than ``timeout``."""
        if self.baseline is None:
            raise RuntimeError("no baseline")
        loop = asyncio.get_running_loop()
        start = loop.time()
        while loop.time() - start < timeout:
            if self.gauges().fds <= self.baseline.fds:
                return loop.time() - start
            await asyncio.sleep(0.05)
        return None

    def connections_held(self) -> int:
        """Descriptors the server holds beyond its baseline (about one per connection)."""
        if self.baseline is None:
            raise RuntimeError("no baseline")
        return max(self.gauges().fds - self.baseline.fds, 0)


@dataclass(frozen=True)
class Attack:
    """One attack: ``run(context, size)`` with ``sizes[0]`` (full) or ``sizes[1]`` (quick)."""

    name: str
    #: what defends the server (option names, as in docs/deployment.md)
    defence: str
    run: Callable[[Context, int], Awaitable[Outcome]]
    sizes: tuple[int, int]
    #: the server's command-line flags (full run, quick run)
    flags: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    #: upper bound for one run, in seconds
    limit: float = 120.0
    #: a client-side check: no server process
    client_side: bool = False
    #: the attack stops the server (no health check afterwards)
    stops_server: bool = False

    def size(self, quick: bool) -> int:
        return self.sizes[1] if quick else self.sizes[0]

    def server_flags(self, quick: bool) -> tuple[str, ...]:
        return self.flags[1] if quick else self.flags[0]


def masked(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """A client frame (masked, as RFC 6455 requires of clients)."""
    return build_frame(opcode, payload, fin=fin, rsv=rsv, mask=os.urandom(4))


BINARY = Opcode.BINARY
CONTINUATION = Opcode.CONTINUATION


async def bounded_gather(
    items: Iterable[T], work: Callable[[T], Awaitable[object]], concurrency: int = CONCURRENCY
) -> list[object]:
    """``work(item)`` for every item, at most ``concurrency`` at a time; results in order
    (an exception is returned in place of its result)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> object:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(i) for i in items), return_exceptions=True))


async def open_peers(
    port: int,
    count: int,
    handshake: bool = True,
    rcvbuf: int | None = None,
    headers: tuple[str, ...] = (),
    extensions: str | None = None,
) -> list[Peer]:
    """``count`` connections (with the opening handshake done unless told not to);
    those that failed are left out, so check the length."""

    async def one(_: int) -> Peer:
        peer = await Peer.connect(port, rcvbuf=rcvbuf)
        if handshake:
            head = await peer.handshake(headers, extensions)
            if not head.startswith(b"HTTP/1.1 101"):
                peer.abort()
                raise ConnectionError(f"handshake refused: {head[:40]!r}")
        return peer

    results = await bounded_gather(range(count), one)
    return [peer for peer in results if isinstance(peer, Peer)]


def abort_all(peers: Iterable[Peer]) -> None:
    for peer in peers:
        with contextlib.suppress(OSError):
            peer.abort()
