"""Attacks with connections: peers that stop reading, vanish, churn, idle or outlast us."""

from __future__ import annotations

import asyncio
import collections
import statistics
import time

from wsproto_cb.core.events import CloseReceived

from .base import BINARY, Context, Outcome, abort_all, bounded_gather, masked, open_peers
from .peer import Peer

__all__ = [
    "connection_churn",
    "dead_peer",
    "idle_connections",
    "sigterm",
    "slow_reader",
    "stopped_reader",
]

TINY_BUFFER = 1024  # (Linux doubles it and applies its minimum)
#: a kernel send queue that has not moved for this long has stalled
STILL = 0.3
#: stop feeding a peer once this much is queued in the server's process (half the
#: 64 KiB write high-water mark, over which the server would stop reading)
MOST_IN_PROCESS = 32 << 10


async def slow_reader(ctx: Context, count: int) -> Outcome:
    """``count`` peers send 32 KiB messages to the echo server and never read: the server
    must stop reading them, not buffer the echoes without bound."""
    cap = 32 << 20
    message = masked(BINARY, b"s" * (32 << 10))
    peers = await open_peers(ctx.port, count, rcvbuf=4096)

    async def flood(peer: Peer) -> int:
        sent = 0
        while sent < cap and await peer.send(message, timeout=2.0):
            sent += len(message)
        return sent

    try:
        accepted = await asyncio.gather(*(flood(p) for p in peers))
        held = ctx.gauges().rss_kib - (ctx.baseline.rss_kib if ctx.baseline else 0)
    finally:
        abort_all(peers)
    median = statistics.median(accepted) if accepted else 0
    stopped = sum(1 for a in accepted if a < cap)
    return Outcome(
        f"{stopped}/{count} stopped reading after a median {median / (1 << 20):.1f} MiB sent "
        f"(kernel buffers included; offered {cap >> 20} MiB); server +{held >> 10} MiB "
        "while they were held",
        stopped == count == len(peers),
    )


def _kernel_queues(server_port: int) -> dict[int, int]:
    """Bytes the kernel holds on their way from the server to each loopback peer, by
    the peer's port: the server socket's send queue plus the peer socket's
    receive queue (``tx_queue`` and ``rx_queue`` of /proc/net/tcp)."""
    server = f"0100007F:{server_port:04X}"
    held: dict[int, int] = collections.defaultdict(int)
    with open("/proc/net/tcp") as table:
        next(table)  # (the column names)
        for line in table:
            fields = line.split()
            tx, rx = (int(n, 16) for n in fields[4].split(":"))
            if fields[1] == server and fields[2].startswith("0100007F:"):
                held[int(fields[2][9:], 16)] += tx
            elif fields[2] == server and fields[1].startswith("0100007F:"):
                held[int(fields[1][9:], 16)] += rx
    return held


class _KernelQueues:
    """:func:`_kernel_queues`, read once for every peer per 10 ms, or per twice the
    time the last read took: the table is long on a busy machine (thousands of
    TIME_WAIT lines after a benchmark), and reading it must not eat the test's time."""

    def __init__(self, server_port: int) -> None:
        self._port = server_port
        self._read_at = -1.0
        self._interval = 0.01
        self._queues: dict[int, int] = {}

    def __call__(self, peer_port: int) -> int:
        now = time.monotonic()
        if now - self._read_at > self._interval:
            self._queues = _kernel_queues(self._port)
            self._read_at = time.monotonic()
            self._interval = max(0.01, 2 * (self._read_at - now))
        return self._queues.get(peer_port, 0)


async def _fill_until_queued(queues: _KernelQueues, peer: Peer, step: int = 16 << 10) -> bool:
    """Have the echo server write to ``peer`` (which never reads) until echoes stay
    queued in the server's process for good; True when that happened.

    That is when what the kernel holds for the peer no longer grows, even
    after another message: on loopback the server's socket buffer grows (to
    megabytes) whenever a segment from the peer acknowledges it while full.  One small
    echo at a time, the next only once the previous one has reached the
    kernel or stalled, and none once 32 KiB stay in the server's process: its
    own queue stays under the 64 KiB write high-water mark, so the server
    keeps reading and sees what the peer sends next.
    """
    port = peer.sock.getsockname()[1]
    message = masked(BINARY, b"q" * step)
    echo_size = step + 4  # (the server's frame header for a 16 KiB payload)
    loop = asyncio.get_running_loop()
    base, echoed, stalled_at = queues(port), 0, -1
    for _ in range((16 << 20) // step):  # (bounded: 16 MiB of echoes)
        if not await peer.send(message, timeout=2.0):
            return False
        echoed += echo_size
        last, since = -1, loop.time()
        while True:
            size = queues(port)
            in_process = echoed - (size - base)  # echoed bytes still in the server
            if size != last:
                last, since = size, loop.time()
            if in_process <= 0 or loop.time() - since > STILL:
                break
            await asyncio.sleep(0.01)
        if in_process > 0:  # stalled, with (part of) an echo in the server
            if size <= stalled_at or in_process >= MOST_IN_PROCESS:
                return True  # the message made no room, or enough is held
            stalled_at = size
    return False


async def stopped_reader(ctx: Context, count: int) -> Outcome:
    """Issue 20, item 4: ``count`` peers stop reading until echoes stay queued in the
    server, then send a close frame (half) or a bad frame (half).  The server
    answers and closes, but its queue never drains; every connection must still
    be gone within ``closeHandshakeTimeout``."""
    timeout = ctx.flag("--close-handshake-timeout", 1.0)
    peers = await open_peers(ctx.port, count, rcvbuf=TINY_BUFFER)
    try:
        queues = _KernelQueues(ctx.port)
        stuck = sum(await asyncio.gather(*(_fill_until_queued(queues, p) for p in peers)))
        for i, peer in enumerate(peers):
            await peer.send(peer.conn.send_close(1000) if i % 2 else b"\x83\x80" + bytes(4))
        gone = await ctx.connections_gone(timeout + 10)
        held = ctx.connections_held()
    finally:
        abort_all(peers)
    queued = f"{stuck}/{count} with bytes queued in the server"
    if gone is None:
        return Outcome(
            f"HOLE: {held}/{count} connections still held {timeout + 10:g} s after the "
            f"close ({queued})",
            False,
        )
    return Outcome(
        f"all {count} gone {gone:.1f} s after their close/bad frame ({queued}; "
        f"closeHandshakeTimeout {timeout:g} s)",
        len(peers) == count and stuck == count,
    )


async def dead_peer(ctx: Context, count: int) -> Outcome:
    """``count`` peers complete the handshake, then never send or read again."""
    interval = ctx.flag("--auto-ping-interval", 20.0)
    ping_timeout = ctx.flag("--auto-ping-timeout", 20.0)
    peers = await open_peers(ctx.port, count)
    try:
        gone = await ctx.connections_gone(interval + ping_timeout + 10)
        held = ctx.connections_held()
    finally:
        abort_all(peers)
    bound = f"autoPingInterval {interval:g} s + autoPingTimeout {ping_timeout:g} s"
    if gone is None:
        return Outcome(f"HOLE: {held}/{count} silent peers still held ({bound})", False)
    return Outcome(f"{len(peers)} silent peers dropped within {gone:.1f} s ({bound})", True)


async def connection_churn(ctx: Context, count: int) -> Outcome:
    """``count`` connections, each: handshake, one echo, closing handshake."""

    async def one(i: int) -> bool:
        peer = await Peer.connect(ctx.port)
        try:
            if not (await peer.handshake()).startswith(b"HTTP/1.1 101"):
                return False
            payload = b"churn %d" % i
            await peer.send(masked(0x1, payload))
            if await peer.message(10.0) != payload:
                return False
            await peer.send(peer.conn.send_close(1000))
            return await peer.close_code(10.0) == 1000 and await peer.closed(10.0)
        finally:
            peer.close()

    start = time.monotonic()
    results = await bounded_gather(range(count), one, concurrency=20)
    elapsed = time.monotonic() - start
    failed = sum(1 for r in results if r is not True)
    gone = await ctx.connections_gone(10.0)
    return Outcome(
        f"{count} connections in {elapsed:.1f} s ({count / elapsed:.0f}/s), {failed} failed"
        + ("" if gone is not None else f"; {ctx.connections_held()} descriptors left"),
        failed == 0 and gone is not None,
    )


async def idle_connections(ctx: Context, count: int) -> Outcome:
    """``count`` connections complete the handshake and stay idle: memory per connection."""
    before = ctx.gauges().rss_kib
    start = time.monotonic()
    peers = await open_peers(ctx.port, count, rcvbuf=4096)
    opening = time.monotonic() - start
    try:
        await asyncio.sleep(1.0)  # (let the server settle)
        held = ctx.connections_held()
        growth = ctx.gauges().rss_kib - before
    finally:
        abort_all(peers)
    gone = await ctx.connections_gone(30.0)
    per = growth / max(len(peers), 1)
    return Outcome(
        f"{len(peers)}/{count} open in {opening:.0f} s ({held} descriptors): "
        f"+{growth >> 10} MiB, {per:.1f} KiB per connection; "
        + (f"all gone {gone:.1f} s after the clients left" if gone is not None else "NOT gone"),
        len(peers) == count and gone is not None,
    )


async def sigterm(ctx: Context, count: int) -> Outcome:
    """SIGTERM with ``count`` connections open, a quarter of them deaf: the server must close
    every one with 1001 and exit 0 within about ``closeHandshakeTimeout``."""
    if ctx.server is None:
        raise RuntimeError("needs a server")
    timeout = ctx.flag("--close-handshake-timeout", 1.0)
    peers = await open_peers(ctx.port, count)
    polite = peers[: len(peers) * 3 // 4]

    async def answer(peer: Peer) -> int | None:
        try:
            event = await peer.event(timeout + 10)
        except TimeoutError:
            return None
        if isinstance(event, CloseReceived):
            await peer.send(peer.conn.acknowledge_close())
            return event.code
        return None

    answering = [asyncio.ensure_future(answer(p)) for p in polite]
    server = ctx.server
    loop = asyncio.get_running_loop()
    try:
        start = loop.time()
        status = await loop.run_in_executor(None, server.terminate, timeout + 20)
        elapsed = loop.time() - start
        codes = await asyncio.gather(*answering)
    finally:
        abort_all(peers)
    got = sum(1 for c in codes if c == 1001)
    return Outcome(
        f"exit {status} {elapsed:.2f} s after SIGTERM; {got}/{len(polite)} answering peers "
        f"got 1001; {len(peers) - len(polite)} deaf ones dropped",
        status == 0 and got == len(polite) and len(peers) == count,
    )
