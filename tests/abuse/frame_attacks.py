"""Attacks with frames: compression bombs, tiny and empty fragments."""

from __future__ import annotations

import asyncio
import os
import zlib

from wsproto_cb.core.events import CloseReceived, ConnectionFailed, Pong

from .base import BINARY, CONTINUATION, Context, Outcome, masked, open_peers
from .peer import Peer

__all__ = ["deflate_bomb", "empty_deflate_streams", "empty_fragments", "tiny_fragments"]

RSV1 = 0x4  # "this message is compressed" (RFC 7692)
CHUNK = 1 << 20


async def _deflate_peer(ctx: Context) -> Peer:
    peers = await open_peers(ctx.port, 1, extensions="permessage-deflate")
    if not peers:
        raise ConnectionError("handshake refused")
    if b"permessage-deflate" not in peers[0].response.lower():
        peers[0].abort()
        raise ConnectionError("the server did not accept permessage-deflate (--compress)")
    return peers[0]


async def _send_chunked(peer: Peer, data: bytes) -> int:
    """Send ``data`` 1 MiB at a time until the server stops taking it; bytes sent."""
    sent = 0
    view = memoryview(data)
    while sent < len(data):
        if not await peer.send(view[sent : sent + CHUNK].tobytes(), timeout=5.0):
            break
        sent = min(sent + CHUNK, len(data))
    return sent


async def _close_or_pong(peer: Peer, timeout: float) -> str:
    """Ping, then wait: the server's close code, "pong" or "no answer"."""
    await peer.send(masked(0x9, b"are you there"))
    try:
        async with asyncio.timeout(timeout):
            while True:
                event = await peer.event(timeout)
                if event is None:
                    return "TCP close"
                if isinstance(event, CloseReceived | ConnectionFailed):
                    return f"close {event.code}"
                if isinstance(event, Pong):
                    return "pong"
    except TimeoutError:
        return "no answer"


def _bomb(mib: int) -> bytes:
    """``mib`` MiB of zeros, deflated as a permessage-deflate message body."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(CHUNK)
    parts = [deflater.compress(zeros) for _ in range(mib)]
    parts.append(deflater.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(parts)[:-4]  # (without 00 00 ff ff, as RFC 7692 7.2.1 says)


async def deflate_bomb(ctx: Context, mib: int) -> Outcome:
    """One compressed message that inflates to ``mib`` MiB (about 1,000 : 1)."""
    body = _bomb(mib)
    peer = await _deflate_peer(ctx)
    try:
        sent = await _send_chunked(peer, masked(BINARY, body, rsv=RSV1))
        answer = await _close_or_pong(peer, 30.0)
    finally:
        peer.abort()
    return Outcome(
        f"{answer} after {sent >> 10} KiB sent of {len(body) >> 10} KiB compressed "
        f"(would inflate to {mib} MiB)",
        answer == "close 1009",
    )


async def empty_deflate_streams(ctx: Context, kib: int) -> Outcome:
    """One compressed frame of ``kib`` KiB made of empty final deflate streams (``03 00``):
    no output, no size limit reached, a fresh inflater per stream."""
    peer = await _deflate_peer(ctx)
    loop = asyncio.get_running_loop()
    try:
        frame = masked(BINARY, b"\x03\x00" * (kib * 512), rsv=RSV1)
        start = loop.time()
        await _send_chunked(peer, frame)
        answer = await _close_or_pong(peer, 60.0)
        elapsed = loop.time() - start
    finally:
        peer.abort()
    if answer == "pong":
        return Outcome(
            f"HOLE: {kib * 512} empty streams accepted; ping answered after {elapsed:.2f} s",
            False,
        )
    return Outcome(f"{answer} after {elapsed * 1000:.0f} ms", answer == "close 1009")


async def tiny_fragments(ctx: Context, frames: int) -> Outcome:
    """One message in ``frames`` frames of 2 bytes (8 on the wire); the echo must come back
    whole, and the server's peak memory stay within a few times the message."""
    mask = os.urandom(4)
    first = masked(BINARY, b"ab", fin=False)
    middle = _masked_with(CONTINUATION, b"ab", mask, fin=False)
    last = masked(CONTINUATION, b"ab")
    payload = 2 * frames
    peer = (await open_peers(ctx.port, 1))[0]
    try:
        await _send_chunked(peer, first + middle * (frames - 2) + last)
        echo = await peer.message(60.0)
    finally:
        peer.abort()
    peak = ctx.gauges().peak_kib - (ctx.baseline.rss_kib if ctx.baseline else 0)
    ratio = peak * 1024 / payload
    text = (
        f"{'echoed' if echo is not None and len(echo) == payload else 'NOT echoed'}: "
        f"{payload >> 10} KiB in {frames} frames; peak +{peak / 1024:.1f} MiB "
        f"({ratio:.1f} x the message)"
    )
    ok = echo is not None and len(echo) == payload and peak * 1024 < 10 * payload + (8 << 20)
    return Outcome(text if ok else "HOLE: " + text, ok)


def _masked_with(opcode: int, payload: bytes, mask: bytes, fin: bool) -> bytes:
    from wsproto_cb.core.frames import build_frame

    return build_frame(opcode, payload, fin=fin, mask=mask)


async def empty_fragments(ctx: Context, frames: int) -> Outcome:
    """A message started and continued by up to ``frames`` empty frames, never finished."""
    limit = int(ctx.flag("--max-message-size", 16 << 20))
    empty = _masked_with(CONTINUATION, b"", os.urandom(4), fin=False)
    peer = (await open_peers(ctx.port, 1))[0]
    try:
        sent = await _send_chunked(peer, masked(BINARY, b"a", fin=False) + empty * frames)
        answer = await _close_or_pong(peer, 10.0)
    finally:
        peer.abort()
    count = min(frames, sent // len(empty))
    text = f"{answer}; {count} empty frames sent ({sent >> 10} KiB; maxMessagePayloadSize {limit})"
    if answer == "pong":
        return Outcome("HOLE: still open: " + text, False)
    return Outcome(text, answer == "close 1009")
