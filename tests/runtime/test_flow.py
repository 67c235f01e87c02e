"""Flow control: a slow reader bounds the server's memory; producers pause and resume.

Kernel socket buffers on loopback autotune to many MiB, which would hide
user-space buffering; the tests pin them to 64 KiB (SO_RCVBUF/SO_SNDBUF)
so a full pipe shows up in the transports within a few messages.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest

from .harness import (
    Recorder,
    RuntimeHarness,
    pause_transport_reading,
    resume_transport_reading,
    set_socket_buffer,
    track_opened,
    write_buffer_size,
)

KiB = 1024
SOCKET_BUFFER = 64 * KiB
#: what a transport may hold once full: its high-water mark (64 KiB on both
#: runtimes) plus the one write that crossed it, plus slack
BUFFER_BOUND = 64 * KiB + 64 * KiB + 16 * KiB


def small_socket_buffers(transport: Any) -> None:
    set_socket_buffer(transport, socket.SO_RCVBUF, SOCKET_BUFFER)
    set_socket_buffer(transport, socket.SO_SNDBUF, SOCKET_BUFFER)


def numbered(i: int, size: int) -> bytes:
    return struct.pack("!I", i) + bytes([i % 251]) * (size - 4)


async def wait_until_stalled(read_count: Any, interval: float = 0.1) -> int:
    """Wait until ``read_count()`` stops changing; the stalled value."""
    last = -1
    for _ in range(50):
        await asyncio.sleep(interval)
        now = read_count()
        if now == last:
            return now  # type: ignore[no-any-return]
        last = now
    raise AssertionError("never stalled")


@pytest.mark.asyncio_task
async def test_slow_reader_bounds_server_buffer(runtime: RuntimeHarness) -> None:
    count = 100
    size = 64 * KiB
    stats = {"received": 0, "max_buffer": 0}

    class Server(Recorder):
        def onOpen(self) -> None:
            small_socket_buffers(self.transport)
            super().onOpen()

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            stats["received"] += 1
            self.sendMessage(payload, isBinary)
            stats["max_buffer"] = max(stats["max_buffer"], write_buffer_size(self.transport))

    class Client(Recorder):
        def onOpen(self) -> None:
            small_socket_buffers(self.transport)
            pause_transport_reading(self.transport)
            super().onOpen()

    factory = runtime.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Client), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    for i in range(count):
        client.sendMessage(numbered(i, size), True)

    stalled_at = await wait_until_stalled(lambda: stats["received"])
    # the server stopped reading: it echoed a few messages, then waited
    assert stalled_at < count // 2, stalled_at
    assert write_buffer_size(server.transport) <= BUFFER_BOUND
    assert stats["max_buffer"] <= BUFFER_BOUND, stats

    resume_transport_reading(client.transport)
    for i in range(count):
        payload, is_binary = await runtime.wait(client.messages.get())
        assert is_binary and payload == numbered(i, size)
    assert stats["received"] == count
    assert stats["max_buffer"] <= BUFFER_BOUND, stats
    client.sendClose(1000)
    assert await runtime.wait(server.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_slow_async_reader_applies_backpressure(runtime: RuntimeHarness) -> None:
    """No transport fiddling: a client whose async onMessage waits stops reading,
    and the server, its writes piling up, stops reading from it in turn.

    The client sends small requests (its own write buffer never fills); the
    server answers each with 64 KiB.
    """
    count = 60
    size = 64 * KiB
    received = {"server": 0}
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class Server(Recorder):
        def onOpen(self) -> None:
            small_socket_buffers(self.transport)
            super().onOpen()

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            received["server"] += 1
            self.sendMessage(numbered(int(payload), size), True)

    client_side = runtime.client_name

    class Client(Recorder):
        def onOpen(self) -> None:
            small_socket_buffers(self.transport)
            super().onOpen()

        def onMessage(self, payload: bytes, isBinary: bool) -> Any:
            super().onMessage(payload, isBinary)
            if gate.done():
                return None
            if client_side == "asyncio":
                return asyncio.shield(gate)
            from twisted.internet.defer import Deferred

            return Deferred.fromFuture(asyncio.shield(gate))

    factory = runtime.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Client), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    for i in range(count):
        client.sendMessage(str(i).encode())
    stalled_at = await wait_until_stalled(lambda: received["server"])
    assert stalled_at < count // 2
    assert client.messages.qsize() == 1  # the first answer, still being "handled"
    assert write_buffer_size(server.transport) <= BUFFER_BOUND
    gate.set_result(None)
    got = [(await runtime.wait(client.messages.get()))[0] for _ in range(count)]
    assert got == [numbered(i, size) for i in range(count)]


class PushProducer:
    """Streams one binary message of ``total`` bytes in ``chunk`` pieces, one frame."""

    def __init__(self, proto: Any, total: int, chunk: int) -> None:
        self.proto = proto
        self.total = total
        self.chunk = chunk
        self.sent = 0
        self.paused = False
        self.pauses = 0
        self.resumes = 0
        self.stopped = False
        self.max_buffer = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data(self, offset: int, size: int) -> bytes:
        return bytes((offset + k) % 256 for k in range(size))

    def start(self) -> None:
        self.proto.registerProducer(self, True)
        self.proto.beginMessage(isBinary=True)
        self.proto.beginMessageFrame(self.total)
        self.pump()

    def pump(self) -> None:
        while not self.paused and self.sent < self.total:
            size = min(self.chunk, self.total - self.sent)
            self.proto.sendMessageFrameData(self.data(self.sent, size))
            self.sent += size
            self.max_buffer = max(self.max_buffer, write_buffer_size(self.proto.transport))
        if self.sent == self.total and not self.done.done():
            self.proto.endMessage()
            self.proto.unregisterProducer()
            self.done.set_result(None)

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        self.resumes += 1
        self.pump()

    def stopProducing(self) -> None:
        self.stopped = True


class FrameSizes(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[int] = []

    def onOpen(self) -> None:
        small_socket_buffers(self.transport)
        super().onOpen()

    def onMessageFrameBegin(self, length: int) -> Any:
        self.frames.append(length)
        return super().onMessageFrameBegin(length)  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_push_producer_paused_when_transport_full(runtime: RuntimeHarness) -> None:
    total, chunk = 2 * 1024 * KiB, 16 * KiB
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(FrameSizes), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    small_socket_buffers(server.transport)
    producer = PushProducer(server, total, chunk)
    producer.start()
    assert producer.paused and producer.sent < total  # the transport filled up
    await runtime.wait(producer.done)
    payload, is_binary = await runtime.wait(client.messages.get())
    assert is_binary and payload == producer.data(0, total)
    assert client.frames == [total, 0]  # one streamed frame, then the empty final one
    assert producer.pauses >= 1 and producer.resumes >= 1
    assert producer.max_buffer <= BUFFER_BOUND
    # the connection is usable afterwards
    server.sendMessage(b"after")
    assert await runtime.wait(client.messages.get()) == (b"after", False)


@pytest.mark.asyncio_task
async def test_push_producer_stopped_when_connection_lost(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(FrameSizes), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    small_socket_buffers(server.transport)
    pause_transport_reading(client.transport)
    producer = PushProducer(server, 8 * 1024 * KiB, 16 * KiB)
    producer.start()
    assert producer.paused
    client.dropConnection(abort=True)
    await runtime.wait(server.closed)
    assert producer.stopped


class PullProducer:
    """Sends one frame per resumeProducing (a non-streaming producer)."""

    def __init__(self, proto: Any, frames: int) -> None:
        self.proto = proto
        self.frames = frames
        self.sent = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def resumeProducing(self) -> None:
        if self.sent == 0:
            self.proto.beginMessage()
        self.proto.sendMessageFrame(f"part {self.sent};".encode())
        self.sent += 1
        if self.sent == self.frames:
            self.proto.unregisterProducer()
            self.proto.endMessage()
            self.done.set_result(None)

    def stopProducing(self) -> None:
        pass


@pytest.mark.asyncio_task
async def test_pull_producer(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(FrameSizes), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    producer = PullProducer(server, 20)
    server.registerProducer(producer, False)
    with pytest.raises(RuntimeError, match="registered already"):
        server.registerProducer(PullProducer(server, 1), False)
    await runtime.wait(producer.done)
    expected = "".join(f"part {i};" for i in range(20)).encode()
    assert await runtime.wait(client.messages.get()) == (expected, False)
    assert len(client.frames) == 21


class FramedPushProducer:
    """Autobahn's streaming idiom: frames of ``frame`` bytes, the next begun when
    ``sendMessageFrameData`` says the current one is full (<= 0)."""

    def __init__(self, proto: Any, total: int, chunk: int, frame: int) -> None:
        self.proto, self.total, self.chunk, self.frame = proto, total, chunk, frame
        self.sent = 0
        self.paused = False
        self.pauses = self.resumes = 0
        self.returned: list[int | None] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        self.proto.registerProducer(self, True)
        self.proto.beginMessage(isBinary=True)
        self.proto.beginMessageFrame(self.frame)
        self.resumeProducing()
        self.resumes -= 1

    def resumeProducing(self) -> None:
        self.paused = False
        self.resumes += 1
        while not self.paused and self.sent < self.total:
            data = PushProducer.data(self, self.sent, min(self.chunk, self.total - self.sent))  # type: ignore[arg-type]
            left = self.proto.sendMessageFrameData(data)
            self.returned.append(left)
            self.sent += len(data) if left >= 0 else len(data) + left
            if left <= 0 and self.sent < self.total:
                self.proto.beginMessageFrame(min(self.frame, self.total - self.sent))
        if self.sent == self.total and not self.done.done():
            self.proto.endMessage()
            self.proto.unregisterProducer()
            self.done.set_result(None)

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def stopProducing(self) -> None:
        pass


@pytest.mark.asyncio_task
async def test_autobahn_streaming_idiom_with_a_push_producer(runtime: RuntimeHarness) -> None:
    """``if proto.sendMessageFrameData(chunk) <= 0: proto.beginMessageFrame(N)``:
    the return value counts down the frame, a chunk that overflows it is cut
    (minus what was left over), and flow control pauses and resumes it."""
    total, chunk, frame = 3 * 1024 * KiB + 123, 24 * KiB, 100 * KiB
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(
        runtime.client_factory(FrameSizes, maxMessagePayloadSize=0), port
    )
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    small_socket_buffers(server.transport)
    producer = FramedPushProducer(server, total, chunk, frame)
    producer.start()
    await runtime.wait(producer.done)
    payload, _ = await runtime.wait(client.messages.get())
    assert payload == PushProducer.data(producer, 0, total)  # type: ignore[arg-type]
    full, last = divmod(total, frame)
    assert client.frames == [frame] * full + [last, 0]
    assert producer.returned[:2] == [frame - chunk, frame - 2 * chunk]
    assert 0 in producer.returned or any(r < 0 for r in producer.returned)
    assert any(r < 0 for r in producer.returned)  # 100 KiB is no multiple of 24 KiB
    assert producer.pauses >= 1 and producer.resumes >= 1


@pytest.mark.asyncio_task
async def test_a_frame_of_2_63_minus_1_bytes_streams(runtime: RuntimeHarness) -> None:
    """The largest frame RFC 6455 allows: its header and the first megabytes of
    its payload go out as given (the peer's limits then end it, 1009)."""
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    await peer.handshake()
    server = await runtime.wait(servers.get())
    server.beginMessage(isBinary=True)
    server.beginMessageFrame(2**63 - 1)
    sent = 0
    for _ in range(64):
        left = server.sendMessageFrameData(b"\xab" * 16384)
        sent += 16384
        assert left == 2**63 - 1 - sent
    head = await runtime.wait(peer.reader.readexactly(10))
    assert head == b"\x02\x7f" + (2**63 - 1).to_bytes(8, "big")
    body = await runtime.wait(peer.reader.readexactly(sent))
    assert body == b"\xab" * sent
    with pytest.raises(ValueError, match="2\\*\\*63-1"):
        server._conn.begin_message_frame(2**63)  # (checked before anything is sent)


@pytest.mark.asyncio_task
async def test_frame_data_without_a_frame_raises_as_in_autobahn(runtime: RuntimeHarness) -> None:
    """Autobahn raises for frame data outside a frame (instead of dropping it);
    a frame declared empty takes one call, which returns minus what did not fit."""
    from wsproto_cb.core.errors import InvalidStateError

    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    server.beginMessage(isBinary=True)
    with pytest.raises(InvalidStateError):
        server.sendMessageFrameData(b"lost")
    server.beginMessageFrame(3)
    assert server.sendMessageFrameData(b"abcd") == -1  # "abc" sent, "d" not
    with pytest.raises(InvalidStateError):
        server.sendMessageFrameData(b"d")
    server.beginMessageFrame(0)
    assert server.sendMessageFrameData(b"xy") == -2
    with pytest.raises(InvalidStateError):
        server.sendMessageFrameData(b"xy")
    server.beginMessageFrame(1)
    assert server.sendMessageFrameData(b"e") == 0
    server.endMessage()
    assert await runtime.wait(client.messages.get()) == (b"abce", True)


@pytest.mark.asyncio_task
async def test_streaming_inside_frames_with_deflate_negotiated(runtime: RuntimeHarness) -> None:
    """The push-producer idiom (beginMessage() then beginMessageFrame(N)) on a
    connection with permessage-deflate: the message goes out uncompressed
    (Autobahn sets RSV1 over raw bytes here, which its peer cannot inflate)."""
    from wsproto_cb.compress import PerMessageDeflateOffer, accept_deflate_offer

    factory = runtime.server_factory(Recorder, perMessageCompressionAccept=accept_deflate_offer)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client_factory = runtime.client_factory(
        Recorder, perMessageCompressionOffers=[PerMessageDeflateOffer()]
    )
    client = await runtime.connect(client_factory, port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    assert server.websocket_extensions_in_use
    server.beginMessage(isBinary=True)
    for piece in (b"stream", b"ed"):
        server.beginMessageFrame(len(piece))
        assert server.sendMessageFrameData(piece) == 0
    server.endMessage()
    server.sendMessage(b"then compressed " * 64)
    assert await runtime.wait(client.messages.get()) == (b"streamed", True)
    assert await runtime.wait(client.messages.get()) == (b"then compressed " * 64, False)
