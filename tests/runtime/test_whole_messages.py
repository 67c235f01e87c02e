"""Whole messages straight to onMessage (core/whole_message.py), on both runtimes.

A burst of frames in one TCP write is read mostly through the shortcut and
partly through the parser; the callback layer must not notice which: order,
backpressure from an ``async def onMessage``, observers added mid-burst,
statistics and the close code for a bad frame after good ones are the
same.  (The bytes-level equivalence is tests/core/test_whole_message.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.core.events import CloseReceived, Pong
from wsproto_cb.core.frames import build_frame

from .harness import RawPeer, Recorder, RuntimeHarness, track_opened

MASK = bytes.fromhex("37fa213d")


def whole(opcode: int, payload: bytes) -> bytes:
    return build_frame(opcode, payload, mask=MASK)


def burst() -> tuple[bytes, list[tuple[bytes, bool]]]:
    """Whole messages, a ping and a fragmented message in one write; what must arrive."""
    expected: list[tuple[bytes, bool]] = []
    wire = b""
    for i in range(30):
        payload = f"m{i} \u03ba\u1f79\u03c3".encode() if i % 3 else bytes([i]) * (i * 7)
        is_binary = i % 3 == 0
        wire += whole(0x2 if is_binary else 0x1, payload)
        expected.append((payload, is_binary))
        if i == 10:
            wire += build_frame(0x9, b"sync", mask=MASK)
        if i == 20:
            wire += build_frame(0x1, b"frag", fin=False, mask=MASK)
            wire += build_frame(0x0, b"mented", mask=MASK)
            expected.append((b"fragmented", False))
    return wire, expected


async def open_raw(runtime: RuntimeHarness, server: type, **options: Any) -> tuple[Any, RawPeer]:
    factory = runtime.server_factory(server, **options)
    servers = track_opened(factory)
    peer = await runtime.raw(await runtime.listen(factory))
    await peer.handshake()
    return await runtime.wait(servers.get()), peer


async def received(runtime: RuntimeHarness, server: Any, count: int) -> list[tuple[bytes, bool]]:
    return [await runtime.wait(server.messages.get()) for _ in range(count)]


@pytest.mark.asyncio_task
async def test_a_burst_arrives_in_order_and_is_counted(runtime: RuntimeHarness) -> None:
    server, peer = await open_raw(runtime, Recorder)
    wire, expected = burst()
    peer.send(wire)
    assert await received(runtime, server, len(expected)) == expected
    assert await peer.next_event() == Pong(b"sync")
    stats = server.trafficStats
    assert stats.incomingWebSocketMessages == len(expected)
    assert stats.incomingOctetsAppLevel == sum(len(p) for p, _ in expected)


@pytest.mark.asyncio_task
async def test_an_async_on_message_holds_back_the_rest_of_the_burst(
    runtime: RuntimeHarness,
) -> None:
    gate = runtime.gate()
    log: list[bytes] = []

    class Server(Recorder):
        def onMessage(self, payload: bytes, isBinary: bool) -> Any:
            log.append(payload)
            super().onMessage(payload, isBinary)
            return gate.waiter if len(log) == 3 else None

    server, peer = await open_raw(runtime, Server)
    wire, expected = burst()
    peer.send(wire)
    assert await received(runtime, server, 3) == expected[:3]
    await asyncio.sleep(0.05)
    assert len(log) == 3  # the rest waits in the buffer, in order
    gate.open()
    assert await received(runtime, server, len(expected) - 3) == expected[3:]


@pytest.mark.asyncio_task
async def test_an_observer_added_in_on_message_sees_the_rest(runtime: RuntimeHarness) -> None:
    observed: list[bytes] = []

    class Server(Recorder):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if not observed and self.messages.qsize() == 4:
                self.on("message", lambda data, is_binary: observed.append(data))
                observed.append(b"<on>")
            super().onMessage(payload, isBinary)

    server, peer = await open_raw(runtime, Server)
    wire, expected = burst()
    peer.send(wire)
    assert await received(runtime, server, len(expected)) == expected
    assert observed == [b"<on>"] + [p for p, _ in expected[5:]]


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (whole(0x1, b"ok \xed\xa0\x80"), 1007),  # a surrogate: invalid UTF-8
        (b"\x81\xfe\x00\x05" + MASK + b"12345", 1002),  # non-minimal length
        (build_frame(0x1, b"abc"), 1002),  # unmasked, from a client
        (whole(0x2, bytes(101)), 1009),  # over maxMessagePayloadSize
    ],
    ids=["utf8", "length", "unmasked", "size"],
)
async def test_a_bad_frame_after_good_ones_fails_with_its_code(
    runtime: RuntimeHarness, bad: bytes, code: int
) -> None:
    server, peer = await open_raw(runtime, Recorder, maxMessagePayloadSize=100)
    good = [(b"one", False), (bytes(100), True)]
    peer.send(whole(0x1, b"one") + whole(0x2, bytes(100)) + bad + whole(0x1, b"never"))
    assert await received(runtime, server, 2) == good
    event = await peer.next_event()
    assert isinstance(event, CloseReceived) and event.code == code
    await runtime.wait(server.closed)
    assert server.messages.empty()
