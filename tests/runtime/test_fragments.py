"""Messages in many tiny fragments, over real sockets on both runtimes.

The bytes-level rules (a message may take at most twice
``maxMessagePayloadSize`` on the wire, and end at most 8 deflate streams)
are tested in ``tests/core/test_connection_limits.py`` and
``tests/core/test_deflate_streams.py``, the memory of assembly in
``tests/core/test_message_buffer.py``; here a hand-driven client sends the
frames and the server's callbacks must see whole messages, or a 1009 close
once a flood of empty fragments or of deflate streams crosses the bound.
"""

from __future__ import annotations

import os
import tracemalloc
import zlib
from typing import Any

import pytest

from wsproto_cb.compress import accept_deflate_offer
from wsproto_cb.core.events import CloseReceived, Pong
from wsproto_cb.core.frames import build_frame

from .harness import RawPeer, Recorder, RuntimeHarness, track_opened

MASK = bytes.fromhex("37fa213d")
DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate"


def fragmented(opcode: int, pieces: list[bytes], *, rsv: int = 0, fin: bool = True) -> bytes:
    """One message as one frame per piece (RSV1 on the first only when ``rsv``)."""
    last = len(pieces) - 1
    return b"".join(
        build_frame(
            opcode if i == 0 else 0x0,
            piece,
            fin=fin and i == last,
            rsv=rsv if i == 0 else 0,
            mask=MASK,
        )
        for i, piece in enumerate(pieces)
    )


def deflated(data: bytes) -> bytes:
    """``data`` as a permessage-deflate payload (sync flush, tail removed)."""
    compressor = zlib.compressobj(wbits=-15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


class FrameRecorder(Recorder):
    """Overrides one streaming hook: the default assembly must still work."""

    def __init__(self) -> None:
        super().__init__()
        self.frame_sizes: list[int] = []

    def onMessageFrame(self, payload: list[bytes]) -> Any:
        self.frame_sizes.append(sum(map(len, payload)))
        return super().onMessageFrame(payload)  # type: ignore[misc]


async def open_raw(
    runtime: RuntimeHarness, server: type, compress: bool, **options: Any
) -> tuple[Any, RawPeer]:
    if compress:
        options["perMessageCompressionAccept"] = accept_deflate_offer
    factory = runtime.server_factory(server, **options)
    servers = track_opened(factory)
    peer = await runtime.raw(await runtime.listen(factory))
    head = await peer.handshake(headers=(DEFLATE_OFFER,) if compress else ())
    assert (b"permessage-deflate" in head) == compress
    return await runtime.wait(servers.get()), peer


@pytest.mark.asyncio_task
@pytest.mark.parametrize("server_class", [Recorder, FrameRecorder], ids=["onMessage", "hooks"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
async def test_a_message_in_two_byte_fragments_arrives_whole(
    runtime: RuntimeHarness, server_class: type, compress: bool
) -> None:
    text = ("fragments " * 2000).encode()  # 20,000 bytes
    payload = deflated(text) if compress else text
    pieces = in_pieces(payload, 2) + [b""] * 100  # and empty ones before the end
    server, peer = await open_raw(runtime, server_class, compress)
    peer.send(fragmented(0x1, pieces, rsv=0x4 if compress else 0))
    assert await runtime.wait(server.messages.get()) == (text, False)
    if server_class is FrameRecorder:
        assert len(server.frame_sizes) == len(pieces)
        if not compress:
            assert server.frame_sizes[:3] == [2, 2, 2] and server.frame_sizes[-1] == 0
    # the connection goes on: a second message in one frame
    peer.send(build_frame(0x2, b"next", mask=MASK))
    assert await runtime.wait(server.messages.get()) == (b"next", True)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
async def test_a_message_in_assembly_takes_about_its_payload_in_memory(
    runtime: RuntimeHarness, compress: bool
) -> None:
    """Held by wsproto_cb while the last fragment is outstanding: about the payload.

    (Kept as one ``bytes`` object per fragment, 2-byte fragments took some
    20 times their payload.)  tracemalloc counts what is still allocated
    from wsproto_cb's own lines, so the transports' buffers are left out;
    the allowance beyond 1.5 x the payload is for the receive buffer.
    """
    text = os.urandom(50_000).hex().encode()  # 100,000 bytes, compresses to about half
    payload = deflated(text) if compress else text
    pieces = in_pieces(payload, 2)
    server, peer = await open_raw(runtime, Recorder, compress)
    wire = fragmented(0x1, pieces, rsv=0x4 if compress else 0, fin=False)
    ping = build_frame(0x9, b"sync", mask=MASK)
    tracemalloc.start()
    try:
        peer.send(wire + ping)
        event = await peer.next_event(timeout=30)  # every fragment before it was read
        assert event == Pong(b"sync")
        held = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(True, "*/wsproto_cb/*")]
        )
        size = sum(stat.size for stat in held.statistics("filename"))
    finally:
        tracemalloc.stop()
    assert size <= 1.5 * len(text) + 128 * 1024, f"{size} bytes held for {len(text)}"
    peer.send(build_frame(0x0, b"", mask=MASK))
    assert await runtime.wait(server.messages.get()) == (text, False)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "deflate"])
async def test_a_flood_of_empty_fragments_fails_with_1009(
    runtime: RuntimeHarness, compress: bool
) -> None:
    server, peer = await open_raw(runtime, Recorder, compress, maxMessagePayloadSize=1000)
    # 6 bytes on the wire each (the first header is free): 335 cross 2 x 1000 bytes
    flood = fragmented(0x2, [b""] * 400, rsv=0x4 if compress else 0, fin=False)
    peer.send(flood)
    event = await peer.next_event()
    assert isinstance(event, CloseReceived) and event.code == 1009
    assert "on the wire" in event.reason
    was_clean, code, reason = await runtime.wait(server.closed)
    assert (was_clean, code) == (False, 1006) and "1009" in (reason or "")
    assert server.messages.empty()


@pytest.mark.asyncio_task
async def test_a_message_of_empty_final_deflate_streams_fails_with_1009(
    runtime: RuntimeHarness,
) -> None:
    """``03 00`` repeated: deflate streams that end at once (see docs/compression.md)."""
    server, peer = await open_raw(runtime, Recorder, True)
    peer.send(build_frame(0x2, b"\x03\x00" * 32768, rsv=0x4, mask=MASK))
    event = await peer.next_event()
    assert isinstance(event, CloseReceived) and event.code == 1009
    assert "deflate streams" in event.reason
    assert server.messages.empty()
