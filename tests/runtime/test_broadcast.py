"""Broadcast in one process: groups, one frame per message, slow consumers.

The slow-consumer tests pin socket buffers to 64 KiB (as ``test_flow``
does) so a client that stops reading fills the server's transport queue
within a few hundred KiB.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest

import wsproto_cb.prepared
from wsproto_cb.compress import PerMessageDeflateOffer, accept_deflate_offer

from .harness import (
    Recorder,
    RuntimeHarness,
    TLSFiles,
    pause_transport_reading,
    resume_transport_reading,
    set_socket_buffer,
    track_opened,
    write_buffer_size,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)

KiB = 1024
QUEUE_LIMIT = 128 * KiB


def small_socket_buffers(transport: Any) -> None:
    sock = getattr(transport, "socket", None)  # Twisted over TLS: getHandle() is OpenSSL's
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * KiB)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * KiB)
        return
    set_socket_buffer(transport, socket.SO_RCVBUF, 64 * KiB)
    set_socket_buffer(transport, socket.SO_SNDBUF, 64 * KiB)


def numbered(i: int, size: int) -> bytes:
    return struct.pack("!I", i) + bytes([i % 251]) * (size - 4)


async def start(
    runtime: RuntimeHarness,
    count: int,
    server_mixin: type = Recorder,
    client_mixin: type = Recorder,
    tls: TLSFiles | None = None,
    **options: Any,
) -> tuple[Any, list[Any], list[Any]]:
    """A server factory with ``count`` connected clients: factory, server protos, clients."""
    factory = runtime.server_factory(server_mixin, **options)
    opened = track_opened(factory)
    port = await runtime.listen(factory, tls=tls)
    clients = [
        await runtime.connect(runtime.client_factory(client_mixin), port, tls=tls)
        for _ in range(count)
    ]
    servers = [await runtime.wait(opened.get()) for _ in clients]
    for client in clients:
        await runtime.wait(client.opened)
    # accept order is connect order: servers[i] talks to clients[i]
    by_peer = {s.peer.rsplit(":", 1)[1]: s for s in servers}
    ordered = [by_peer[str(c_port(c))] for c in clients]
    return factory, ordered, clients


def c_port(client: Any) -> int:
    transport = client.transport
    if hasattr(transport, "get_extra_info"):
        return int(transport.get_extra_info("sockname")[1])
    return int(transport.getHost().port)


async def received_until(runtime: RuntimeHarness, client: Any, end: bytes) -> list[bytes]:
    got = []
    while True:
        payload, _ = await runtime.wait(client.messages.get())
        if payload == end:
            return got
        got.append(payload)


@pytest.mark.asyncio_task
async def test_groups_exclude_and_self_broadcast(runtime: RuntimeHarness) -> None:
    factory, servers, clients = await start(runtime, 3)
    s0, s1, s2 = servers
    assert factory.broadcast(b"all") == 3
    s0.joinGroup("a")
    s1.joinGroup("a")
    assert factory.broadcast(b"group a", group="a") == 2
    assert factory.broadcast(b"not s0", exclude=s0) == 2
    assert factory.broadcast(b"only s2", exclude=[s0, s1]) == 1
    assert s0.broadcast(b"s0 to a") == 2  # everyone but the sender
    assert s0.broadcast(b"s0 to group a", group="a") == 1
    s1.leaveGroup("a")
    assert factory.broadcast(b"a after leave", group="a") == 1
    assert factory.broadcast(b"binary", isBinary=True, group="nobody") == 0
    assert factory.broadcast(b"end") == 3
    assert await received_until(runtime, clients[0], b"end") == [
        b"all",
        b"group a",
        b"a after leave",
    ]
    assert await received_until(runtime, clients[1], b"end") == [
        b"all",
        b"group a",
        b"not s0",
        b"s0 to a",
        b"s0 to group a",
    ]
    assert await received_until(runtime, clients[2], b"end") == [
        b"all",
        b"not s0",
        b"only s2",
        b"s0 to a",
    ]
    assert factory.broadcast(b"\x00\xff", isBinary=True, exclude=[s0, s1]) == 1
    assert await runtime.wait(clients[2].messages.get()) == (b"\x00\xff", True)
    with pytest.raises(TypeError):
        factory.broadcast("text")
    with pytest.raises(TypeError):
        factory.broadcast(b"x", exclude=3)

    # a closed connection leaves its groups by itself
    s1.joinGroup("b")
    s2.joinGroup("b")
    clients[1].sendClose(1000)
    await runtime.wait(s1.closed)
    registry = factory.broadcastGroups
    assert registry.members("b") == {s2} and registry.groups_of(s1) == frozenset()
    assert factory.broadcast(b"to b", group="b") == 1
    assert factory.broadcast(b"to all") == 2
    assert await runtime.wait(clients[2].messages.get()) == (b"to b", False)
    s1.joinGroup("late")  # joining after the close is a no-op, not a leak
    assert registry.members("late") == frozenset()


@pytest.mark.asyncio_task
async def test_one_frame_per_message(runtime: RuntimeHarness, monkeypatch: Any) -> None:
    built: list[int] = []
    real_build = wsproto_cb.prepared.build_frame

    def counting_build(*args: Any, **kwargs: Any) -> bytes:
        built.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(wsproto_cb.prepared, "build_frame", counting_build)
    factory, servers, clients = await start(
        runtime, 4, perMessageCompressionAccept=accept_deflate_offer
    )
    # one client that compresses: it cannot share the frame and gets its own send
    deflating = runtime.client_factory(
        Recorder, perMessageCompressionOffers=[PerMessageDeflateOffer()]
    )
    port = int(clients[0].factory.port)
    compressed = await runtime.connect(deflating, port)
    await runtime.wait(compressed.opened)
    assert all(s._conn.codec is None for s in servers)
    compressed_server = next(p for p in factory._open_connections if p not in servers)
    assert compressed_server._conn.codec is not None

    messages = [b"tick %d " % i * 20 for i in range(3)]
    for message in messages:
        assert factory.broadcast(message) == 5
    assert len(built) == len(messages)  # not one per recipient
    for client in [*clients, compressed]:
        for message in messages:
            assert await runtime.wait(client.messages.get()) == (message, False)
    assert factory.broadcast(b"nobody", group="empty") == 0
    assert len(built) == len(messages)  # nothing built for no recipient


class SmallBuffers(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.drop_calls: list[int] = []
        self.max_buffer = 0

    def onOpen(self) -> None:
        small_socket_buffers(self.transport)
        super().onOpen()

    def onBroadcastDropped(self, count: int) -> None:
        self.drop_calls.append(count)


class Stalling(Recorder):
    """A client that never reads unless told to."""

    def onOpen(self) -> None:
        small_socket_buffers(self.transport)
        pause_transport_reading(self.transport)
        super().onOpen()


@pytest.mark.asyncio_task
async def test_stalled_client_is_skipped_not_waited_for(runtime: RuntimeHarness) -> None:
    await stalled_client_scenario(runtime, count=100, others=2)


@pytest.mark.asyncio_task
async def test_stalled_client_over_tls(runtime: RuntimeHarness, tls: TLSFiles) -> None:
    """The queue is measured through the TLS layer too (Twisted wraps the TCP transport)."""
    await stalled_client_scenario(runtime, count=80, others=1, tls=tls)


async def stalled_client_scenario(
    runtime: RuntimeHarness, count: int, others: int, tls: TLSFiles | None = None
) -> None:
    size = 16 * KiB
    factory, servers, clients = await start(
        runtime, others, SmallBuffers, tls=tls, broadcastQueueLimit=QUEUE_LIMIT
    )
    stalled = await runtime.connect(
        runtime.client_factory(Stalling), int(clients[0].factory.port), tls=tls
    )
    await runtime.wait(stalled.opened)
    stalled_server = next(p for p in factory._open_connections if p not in servers)

    for i in range(count):
        factory.broadcast(numbered(i, size), isBinary=True)
        stalled_server.max_buffer = max(
            stalled_server.max_buffer,
            # (the harness cannot see through Twisted's TLS wrapper; the runtime can)
            write_buffer_size(stalled_server.transport)
            if tls is None
            else stalled_server._rt.write_buffer_size(),
        )
        for client in clients:  # the others keep receiving, message by message
            assert await runtime.wait(client.messages.get()) == (numbered(i, size), True)

    dropped = stalled_server.broadcastDropped
    assert dropped > count // 4, dropped
    assert stalled_server.drop_calls == list(range(1, dropped + 1))
    assert all(s.broadcastDropped == 0 and not s.drop_calls for s in servers)
    assert stalled_server.max_buffer <= QUEUE_LIMIT
    assert stalled_server.state == stalled_server.STATE_OPEN  # "drop" keeps it

    resume_transport_reading(stalled.transport)
    assert factory.broadcast(b"end") == others + 1
    got = await received_until(runtime, stalled, b"end")
    # what it got is what was written to it: in order, with the drops missing
    assert len(got) == count - dropped
    numbers = [struct.unpack("!I", p[:4])[0] for p in got]
    assert numbers == sorted(numbers) and got[0] == numbered(0, size)


@pytest.mark.asyncio_task
@pytest.mark.parametrize(("policy", "code"), [("close", 1008), ("close-try-again", 1013)])
async def test_overflow_policy_closes(runtime: RuntimeHarness, policy: str, code: int) -> None:
    size = 16 * KiB
    factory, servers, clients = await start(
        runtime,
        1,
        SmallBuffers,
        Stalling,
        broadcastQueueLimit=QUEUE_LIMIT,
        broadcastOverflow=policy,
        closeHandshakeTimeout=5,
    )
    server, client = servers[0], clients[0]
    sent = 0
    for i in range(200):
        sent += factory.broadcast(numbered(i, size), isBinary=True)
        if server.state != server.STATE_OPEN:
            break
        await asyncio.sleep(0)
    assert server.state == server.STATE_CLOSING
    assert server.broadcastDropped == 1 and server.drop_calls == [1]
    assert write_buffer_size(server.transport) <= QUEUE_LIMIT + 64
    assert factory.broadcast(b"after close") == 0

    resume_transport_reading(client.transport)
    wasClean, got_code, _reason = await runtime.wait(client.closed)
    assert (wasClean, got_code) == (True, code)
    assert client.messages.qsize() == sent


def test_broadcast_options(runtime: RuntimeHarness) -> None:
    factory = runtime.module.WebSocketServerFactory()
    assert (factory.broadcastQueueLimit, factory.broadcastOverflow) == (1024 * 1024, "drop")
    factory.setProtocolOptions(broadcastQueueLimit=4096, broadcastOverflow="close-try-again")
    assert (factory.broadcastQueueLimit, factory.broadcastOverflow) == (4096, "close-try-again")
    with pytest.raises(ValueError, match="broadcastOverflow"):
        factory.setProtocolOptions(broadcastOverflow="block")
    with pytest.raises(ValueError, match="broadcastQueueLimit"):
        factory.setProtocolOptions(broadcastQueueLimit=0)
    with pytest.raises(TypeError, match="broadcastQueueLimit"):
        runtime.module.WebSocketClientFactory().setProtocolOptions(broadcastQueueLimit=1)
