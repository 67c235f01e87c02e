"""Messages over real sockets: echo, fragmentation, ping/pong, prepared messages."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from .harness import Echo, Recorder, RuntimeHarness, track_opened

MiB = 1024 * 1024


async def echo_pair(runtime: RuntimeHarness, **server_options: Any) -> Any:
    port = await runtime.listen(runtime.server_factory(Echo, **server_options))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    return client


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("payload", "is_binary"),
    [
        ("héllo wörld ✓".encode(), False),
        (bytes(range(256)) * 4, True),
        (b"", False),
        (b"", True),
    ],
    ids=["text", "binary", "empty-text", "empty-binary"],
)
async def test_echo(runtime: RuntimeHarness, payload: bytes, is_binary: bool) -> None:
    client = await echo_pair(runtime)
    client.sendMessage(payload, is_binary)
    assert await runtime.wait(client.messages.get()) == (payload, is_binary)
    client.sendClose(1000)
    assert await runtime.wait(client.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_echo_16_mib(runtime: RuntimeHarness) -> None:
    # 16 MiB is the default message limit: the largest message that passes.
    client = await echo_pair(runtime)
    payload = os.urandom(16 * MiB)
    client.sendMessage(payload, True)
    got, is_binary = await runtime.wait(client.messages.get(), timeout=30)
    assert is_binary and len(got) == len(payload) and got == payload


@pytest.mark.asyncio_task
async def test_echo_many_in_order(runtime_pair: RuntimeHarness) -> None:
    """Our client against our server in every runtime combination."""
    client = await echo_pair(runtime_pair)
    for i in range(50):
        client.sendMessage(f"message {i}".encode(), False)
    got = [await runtime_pair.wait(client.messages.get()) for _ in range(50)]
    assert got == [(f"message {i}".encode(), False) for i in range(50)]
    client.sendPing(b"are you there")
    assert await runtime_pair.wait(client.pongs.get()) == b"are you there"
    client.sendClose(3001, "bye now")
    assert await runtime_pair.wait(client.closed) == (True, 1000, None)


class FrameCounter(Recorder):
    """A client that records the length of every frame it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[int] = []
        self.ended = 0

    def onMessageFrameBegin(self, length: int) -> Any:
        self.frames.append(length)
        return super().onMessageFrameBegin(length)  # type: ignore[misc]

    def onMessageFrameEnd(self) -> Any:
        self.ended += 1
        return super().onMessageFrameEnd()  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_auto_fragment_size(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder, autoFragmentSize=4096)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(FrameCounter), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    payload = os.urandom(10_000)
    server.sendMessage(payload, True)
    assert await runtime.wait(client.messages.get()) == (payload, True)
    assert client.frames == [4096, 4096, 10_000 - 8192]
    assert client.ended == 3
    # a message that fits is one frame
    server.sendMessage(b"small")
    assert await runtime.wait(client.messages.get()) == (b"small", False)
    assert client.frames[3:] == [5]


@pytest.mark.asyncio_task
async def test_fragment_size_argument(runtime: RuntimeHarness) -> None:
    """sendMessage(fragmentSize=...) overrides autoFragmentSize, for text too."""
    factory = runtime.server_factory(Recorder, autoFragmentSize=4096)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(FrameCounter), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    text = ("äöü€" * 250).encode()  # 2250 bytes; frames split UTF-8 sequences
    server.sendMessage(text, False, fragmentSize=1000)
    assert await runtime.wait(client.messages.get()) == (text, False)
    assert client.frames == [1000, 1000, 250]
    with pytest.raises(ValueError, match="fragmentSize"):
        server.sendMessage(b"x", fragmentSize=0)


@pytest.mark.asyncio_task
async def test_client_fragments_towards_server(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(FrameCounter)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, autoFragmentSize=100), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    client.sendMessage(b"a" * 250, True)
    assert await runtime.wait(server.messages.get()) == (b"a" * 250, True)
    assert server.frames == [100, 100, 50]


@pytest.mark.asyncio_task
async def test_ping_pong(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    pings: list[bytes] = []

    class Client(Recorder):
        def onPing(self, payload: bytes) -> None:
            pings.append(payload)  # and do not answer

    client = await runtime.connect(runtime.client_factory(Client), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    # the default onPing answers with the same payload
    client.sendPing(b"payload-1")
    assert await runtime.wait(client.pongs.get()) == b"payload-1"
    client.sendPing()
    assert await runtime.wait(client.pongs.get()) == b""
    # an overridden onPing does not answer
    server.sendPing(b"no answer")
    server.sendMessage(b"marker")
    assert await runtime.wait(client.messages.get()) == (b"marker", False)
    assert pings == [b"no answer"]
    assert server.pongs.empty()
    # an unsolicited pong reaches onPong
    client.sendPong(b"unsolicited")
    assert await runtime.wait(server.pongs.get()) == b"unsolicited"
    with pytest.raises(ValueError):
        client.sendPing(b"x" * 126)


@pytest.mark.asyncio_task
async def test_prepared_message_to_several_clients(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    clients = [await runtime.connect(runtime.client_factory(Recorder), port) for _ in range(3)]
    server_protos = [await runtime.wait(servers.get()) for _ in clients]
    for client in clients:
        await runtime.wait(client.opened)
    text = factory.prepareMessage("broadcast ✓".encode())
    binary = factory.prepareMessage(b"\x00\x01" * 1000, isBinary=True)
    for proto in server_protos:
        proto.sendPreparedMessage(text)
        proto.sendPreparedMessage(binary)
    for client in clients:
        assert await runtime.wait(client.messages.get()) == ("broadcast ✓".encode(), False)
        assert await runtime.wait(client.messages.get()) == (b"\x00\x01" * 1000, True)
    # a client (which must mask) falls back to a normal send
    server = server_protos[0]
    clients[0].sendPreparedMessage(factory.prepareMessage(b"from client"))
    assert await runtime.wait(server.messages.get()) == (b"from client", False)
    with pytest.raises(TypeError):
        factory.prepareMessage("text")


@pytest.mark.asyncio_task
async def test_send_message_needs_bytes(runtime: RuntimeHarness) -> None:
    client = await echo_pair(runtime)
    with pytest.raises(TypeError, match="encode"):
        client.sendMessage("text")
    with pytest.raises(TypeError):
        client.sendMessage(None)
    client.sendMessage(bytearray(b"bytearray"), True)
    client.sendMessage(memoryview(b"memoryview"), True)
    assert await runtime.wait(client.messages.get()) == (b"bytearray", True)
    assert await runtime.wait(client.messages.get()) == (b"memoryview", True)


@pytest.mark.asyncio_task
async def test_streaming_hooks_of_a_subclass_after_its_base(runtime: RuntimeHarness) -> None:
    """Whether a class overrides the frame hooks is its own business, even when
    its base class had connections first."""
    base_port = await runtime.listen(runtime.server_factory(None))
    base_client = await runtime.connect(runtime.client_factory(None), base_port)
    await runtime.wait(_opened(runtime, base_client))

    factory = runtime.server_factory(FrameCounter)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, autoFragmentSize=100), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    client.sendMessage(b"b" * 150, True)
    assert await runtime.wait(server.messages.get()) == (b"b" * 150, True)
    assert server.frames == [100, 50]


async def _opened(runtime: RuntimeHarness, proto: Any) -> None:
    """Wait until a plain protocol (no Recorder) is open."""
    for _ in range(500):
        if proto.state == proto.STATE_OPEN:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never opened")
