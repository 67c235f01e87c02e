"""Attacks on the opening handshake, and the wss:// client check."""

from __future__ import annotations

import asyncio
import collections
import os
from typing import Any

from .base import Context, Outcome, abort_all, bounded_gather, masked, open_peers
from .peer import Peer, upgrade_request
from .target import WHOAMI

__all__ = ["garbage", "oversized_handshake", "slowloris", "wss_cleartext", "xff_spoof"]

DRIP_INTERVAL = 0.5


async def slowloris(ctx: Context, count: int) -> Outcome:
    """``count`` connections send a valid request one byte every 0.5 s, never finishing it."""
    request = upgrade_request(ctx.port)
    peers = await open_peers(ctx.port, count, handshake=False)
    loop = asyncio.get_running_loop()
    start = loop.time()
    timeout = ctx.flag("--open-handshake-timeout", 5.0)

    async def drip(peer: Peer) -> float | None:
        for byte in request[:-1]:  # (never the last byte)
            if not await peer.send(bytes((byte,))):
                break
            if await peer.recv(DRIP_INTERVAL) is not None:  # an answer, or the close
                await peer.closed(5.0)
                break
        else:
            return None
        return loop.time() - start

    try:
        async with asyncio.timeout(timeout + 10):
            times = await asyncio.gather(*(drip(p) for p in peers))
    finally:
        abort_all(peers)
    dropped = [t for t in times if isinstance(t, float)]
    last = max(dropped, default=0.0)
    return Outcome(
        f"{len(dropped)}/{count} dropped, the last {last:.1f} s after connecting "
        f"(openHandshakeTimeout {timeout:g} s)",
        len(dropped) == count,
    )


#: request heads that break the size limits, by what they overflow
def _oversized_heads(port: int) -> dict[str, bytes]:
    valid = upgrade_request(port)[:-2]  # (without the final empty line)
    return {
        "long line": b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n",
        "many headers": valid + b"X-A: b\r\n" * 100_000 + b"\r\n",
        "endless": valid + b"X-Endless: " + b"z" * (16 << 20),
    }


async def oversized_handshake(ctx: Context, count: int) -> Outcome:
    """Request heads of a 1 MiB line, 100,000 headers and 16 MiB that never end, ``count``
    connections of each; the server must answer 4xx and close without reading on
    (its peak memory shows it did not buffer them)."""
    heads = _oversized_heads(ctx.port)

    async def one(kind: str) -> tuple[str, int | None]:
        peer = await Peer.connect(ctx.port)
        data = heads[kind]
        try:
            for offset in range(0, len(data), 65536):
                if not await peer.send(data[offset : offset + 65536], timeout=2.0):
                    break
            await peer.read_head(5.0)
            return kind, peer.status
        finally:
            peer.abort()

    jobs = [kind for kind in heads for _ in range(count)]
    results = [r for r in await bounded_gather(jobs, one) if isinstance(r, tuple)]
    statuses: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for kind, status in results:
        statuses[kind][str(status) if status else "no answer"] += 1
    text = "; ".join(
        f"{kind} ({len(heads[kind]) >> 10} KiB): {_counts(statuses[kind])}" for kind in heads
    )
    refused = sum(
        n for kind in heads for status, n in statuses[kind].items() if status.startswith("4")
    )
    return Outcome(text, refused == len(jobs))


def _counts(counter: collections.Counter[str]) -> str:
    return ", ".join(f"{key} x{n}" for key, n in counter.most_common())


async def garbage(ctx: Context, count: int) -> Outcome:
    """``count`` connections send random bytes: half as the request, half as frames."""

    async def junk_request(_: int) -> str:
        peer = await Peer.connect(ctx.port)
        try:
            await peer.send(os.urandom(4096))
            await peer.read_head(5.0)
            return f"HTTP {peer.status}" if peer.status else "closed"
        finally:
            peer.abort()

    async def junk_frames(_: int) -> str:
        peer = await Peer.connect(ctx.port)
        try:
            await peer.handshake()
            for _chunk in range(16):
                if not await peer.send(os.urandom(4096), timeout=2.0):
                    return "closed"
                try:
                    code = await peer.close_code(0.2)
                except TimeoutError:
                    continue
                return f"close {code}" if code else "closed"
            return "waiting for a frame's payload"
        finally:
            peer.abort()

    half = count // 2
    results = await bounded_gather(range(half), junk_request)
    results += await bounded_gather(range(count - half), junk_frames)
    counter = collections.Counter(r if isinstance(r, str) else type(r).__name__ for r in results)
    answered = sum(n for key, n in counter.items() if key.startswith(("HTTP 4", "close", "wait")))
    return Outcome(_counts(counter), answered == count)


async def xff_spoof(ctx: Context, count: int) -> Outcome:
    """With ``--trust-x-forwarded-for 1``: which address does the server believe when the
    client writes X-Forwarded-For itself?"""
    cases = {
        # the client's line first, then the one line the trusted proxy appends
        "two lines": ("X-Forwarded-For: 6.6.6.6", "X-Forwarded-For: 127.0.0.1"),
        "not an address": ("X-Forwarded-For: <script>",),
        "proxy appended": ("X-Forwarded-For: 6.6.6.6, 127.0.0.1",),
    }
    seen: dict[str, str] = {}
    for name, headers in cases.items():
        peers = await open_peers(ctx.port, 1, headers=headers)
        if not peers:
            seen[name] = "refused"
            continue
        peer = peers[0]
        try:
            await peer.send(masked(0x1, WHOAMI))
            reply = await peer.message(5.0)
            seen[name] = reply.decode(errors="replace") if reply is not None else "closed"
        finally:
            peer.abort()
    spoofed = "6.6.6.6" in seen["two lines"] or "<script>" in seen["not an address"]
    text = "; ".join(f"{name}: {value}" for name, value in seen.items())
    return Outcome(("HOLE: spoofed; " if spoofed else "") + text, not spoofed)


async def wss_cleartext(ctx: Context, count: int) -> Outcome:
    """Our client on ``ctx.runtime`` with a wss:// URL over a cleartext connection
    (``create_connection`` without ``ssl=``, ``connectTCP``): what reaches the server?"""
    received = bytearray()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                received.extend(chunk)
        except ConnectionError:
            pass
        if not done.done():
            done.set_result(None)
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    try:
        factory = _client_factory(ctx.runtime, f"wss://127.0.0.1:{port}/", closed)
        if ctx.runtime == "asyncio":
            await asyncio.get_running_loop().create_connection(factory, "127.0.0.1", port)
        else:
            from twisted.internet import reactor

            reactor.connectTCP("127.0.0.1", port, factory)  # type: ignore[attr-defined]
        async with asyncio.timeout(10):
            reason = await closed
            await done
    finally:
        listener.close()
    said = reason.partition("(nothing was sent): ")[2].removesuffix('")') or reason
    return Outcome(f"{len(received)} bytes reached the server; onClose says: {said}", not received)


def _client_factory(runtime: str, url: str, closed: asyncio.Future[str]) -> Any:
    import importlib

    module = importlib.import_module(f"wsproto_cb.{runtime}")

    class Client(module.WebSocketClientProtocol):  # type: ignore[name-defined,misc]
        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            if not closed.done():
                closed.set_result(str(reason))

    factory = module.WebSocketClientFactory(url)
    factory.protocol = Client
    return factory
