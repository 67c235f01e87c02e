"""Writes go to the socket at once when nothing is queued, and keep every transport rule.

The first tests run on both runtimes (asyncio's transports always did
this; Twisted's now do, see ``wsproto_cb.twisted._writethrough``).  The
rest drive ``TwistedRuntime`` over real Twisted transports: what must not
take the direct path (closing, aborted, half-closed, ``startTLS``) and a
peer that resets the connection in the middle of a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import pytest
from twisted.internet import protocol as twisted_protocol
from twisted.internet import tcp

from wsproto_cb.twisted._runtime import TwistedRuntime

from .harness import (
    TIMEOUT,
    Recorder,
    RuntimeHarness,
    TLSFiles,
    set_socket_buffer,
    write_buffer_size,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)


def numbered(i: int) -> bytes:
    """Message i: its number, then (i * 37) % 3000 filler bytes (sizes vary, so a
    full socket cuts some frame in the middle)."""
    return struct.pack("!I", i) + bytes([i % 251]) * ((i * 37) % 3000)


# -- both runtimes --------------------------------------------------------


@pytest.mark.asyncio_task
async def test_small_message_is_handed_to_the_kernel_in_the_write(
    runtime: RuntimeHarness,
) -> None:
    queued: list[int] = []

    class Server:
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            for _ in range(3):
                self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]
                queued.append(write_buffer_size(self.transport))  # type: ignore[attr-defined]

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    client.sendMessage(b"x" * 64)
    for _ in range(3):
        assert await runtime.wait(client.messages.get()) == (b"x" * 64, False)
    assert queued == [0, 0, 0]  # nothing waits in user space for the next loop turn


@pytest.mark.parametrize("secure", [False, True], ids=["tcp", "tls"])
@pytest.mark.asyncio_task
async def test_many_writes_in_one_turn_arrive_in_order_past_a_full_socket(
    runtime: RuntimeHarness, tls: TLSFiles, secure: bool
) -> None:
    count = 2000  # ~3 MB: far past a 64 KiB send buffer, so most of it is queued
    peak: list[int] = []

    class Server:
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if not secure:
                set_socket_buffer(self.transport, socket.SO_SNDBUF, 64 * 1024)  # type: ignore[attr-defined]
            for i in range(count):
                self.sendMessage(numbered(i), True)  # type: ignore[attr-defined]
            peak.append(write_buffer_size(self.transport))  # type: ignore[attr-defined]

    factory = runtime.server_factory(Server)
    port = await runtime.listen(factory, tls=tls if secure else None)
    client = await runtime.connect(
        runtime.client_factory(Recorder), port, tls=tls if secure else None
    )
    await runtime.wait(client.opened)
    client.sendMessage(b"go")
    for i in range(count):
        assert await runtime.wait(client.messages.get()) == (numbered(i), True), i
    if not secure:  # (TLS wrappers hold their queue elsewhere)
        assert peak[0] > 0  # the kernel did not take it all: the rest was queued behind


def large(i: int, size: int) -> bytes:
    return struct.pack("!I", i) + bytes([i % 251]) * size


#: (payload size, fragmentSize): written as parts (header, then the payload
#: or views of it) by sendMessage; small ones in between take the plain path
LARGE_SENDS = [(1 << 20, None), (300_000, 70_000), (200_000, 1_000), (100, 30), (70_000, None)]


@pytest.mark.parametrize("secure", [False, True], ids=["tcp", "tls"])
@pytest.mark.asyncio_task
async def test_large_and_fragmented_messages_in_parts_arrive_whole_past_a_full_socket(
    runtime: RuntimeHarness, tls: TLSFiles, secure: bool
) -> None:
    """Parts cut anywhere by a full socket (a partial sendmsg on Twisted) are sent in order."""
    rounds = 3

    class Server:
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if not secure:
                set_socket_buffer(self.transport, socket.SO_SNDBUF, 64 * 1024)  # type: ignore[attr-defined]
            for i in range(rounds):
                for size, fragment in LARGE_SENDS:
                    self.sendMessage(large(i, size), True, fragmentSize=fragment)  # type: ignore[attr-defined]
                    self.sendMessage(numbered(i), True)  # type: ignore[attr-defined]

    port = await runtime.listen(runtime.server_factory(Server), tls=tls if secure else None)
    client = await runtime.connect(
        runtime.client_factory(Recorder), port, tls=tls if secure else None
    )
    await runtime.wait(client.opened)
    client.sendMessage(b"go")
    for i in range(rounds):
        for size, _ in LARGE_SENDS:
            assert await runtime.wait(client.messages.get()) == (large(i, size), True), (i, size)
            assert await runtime.wait(client.messages.get()) == (numbered(i), True), i


# -- Twisted transports under TwistedRuntime -------------------------------


class Scripted(twisted_protocol.Protocol):
    """Runs ``script(runtime, transport)`` once connected; records how it ended."""

    script: Callable[[TwistedRuntime, Any], None]

    def __init__(self) -> None:
        self.lost: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.error: BaseException | None = None

    def connectionMade(self) -> None:
        from twisted.internet import reactor

        try:
            self.script(TwistedRuntime(self.transport, reactor), self.transport)
        except BaseException as exc:  # (reported by the test, not swallowed by Twisted)
            self.error = exc

    def connectionLost(self, reason: Any = None) -> None:
        if not self.lost.done():
            self.lost.set_result(reason)


def listen_tcp(factory: Any) -> Any:
    from twisted.internet import reactor

    return reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def twisted_server(
    script: Callable[[TwistedRuntime, Any], None],
    listen: Callable[[Any], Any] = listen_tcp,
) -> AsyncIterator[tuple[int, list[Scripted]]]:
    """A Twisted server running ``script`` (TCP on 127.0.0.1 unless ``listen`` says
    otherwise); (its TCP port, the protocols made)."""
    made: list[Scripted] = []

    class Factory(twisted_protocol.Factory):
        def buildProtocol(self, addr: Any) -> Scripted:
            proto = Scripted()
            proto.script = script  # type: ignore[method-assign,assignment]
            made.append(proto)
            return proto

    port = listen(Factory())
    try:
        yield getattr(port.getHost(), "port", 0), made
    finally:
        stopped = port.stopListening()
        if stopped is not None:
            await stopped.asFuture(asyncio.get_running_loop())


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything received until EOF or a reset (what came before a reset included)."""
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), TIMEOUT):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def write_lose_write(rt: TwistedRuntime, transport: Any) -> None:
    rt.write(b"one,")
    transport.loseConnection()
    rt.write(b"two,")  # Twisted still sends what is written before the close
    rt.write(b"three")


def write_abort_write(rt: TwistedRuntime, transport: Any) -> None:
    rt.write(b"before")
    transport.abortConnection()
    rt.write(b"after")  # the socket is still open until the next turn: never sent


def write_half_close_write(rt: TwistedRuntime, transport: Any) -> None:
    rt.write(b"one,")
    transport.loseWriteConnection()
    rt.write(b"two")  # queued before the FIN, as Twisted does it


def parts_lose_parts(rt: TwistedRuntime, transport: Any) -> None:
    rt.write_parts([b"one,", memoryview(b"two,")])
    transport.loseConnection()
    rt.write_parts([memoryview(b"three"), b""])  # queued, as bytes, behind the close


def parts_after_write(rt: TwistedRuntime, transport: Any) -> None:
    set_socket_buffer(transport, socket.SO_SNDBUF, 4096)
    rt.write(b"a" * 500_000)  # most of it is queued: the parts must wait behind it
    rt.write_parts([b"b" * 100, memoryview(b"c" * 70_000)])
    rt.write(b"d")
    transport.loseConnection()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (write_lose_write, {b"one,two,three"}),
        # (what was written before the abort may have reached the kernel, or not)
        (write_abort_write, {b"before", b""}),
        (write_half_close_write, {b"one,two"}),
        (parts_lose_parts, {b"one,two,three"}),
        (parts_after_write, {b"a" * 500_000 + b"b" * 100 + b"c" * 70_000 + b"d"}),
    ],
    ids=["loseConnection", "abortConnection", "loseWriteConnection", "parts", "parts-queued"],
)
@pytest.mark.asyncio_task
async def test_writes_around_closing_calls(
    script: Callable[[TwistedRuntime, Any], None], expected: set[bytes]
) -> None:
    async with twisted_server(script) as (port, made):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await read_all(reader) in expected
        writer.close()
        await asyncio.wait_for(made[0].lost, TIMEOUT)
        assert made[0].error is None


@pytest.mark.asyncio_task
async def test_start_tls_on_the_connection_encrypts_later_writes(tls: TLSFiles) -> None:
    def script(rt: TwistedRuntime, transport: Any) -> None:
        transport.startTLS(tls.twisted_server_options())
        rt.write(b"secret")  # must go through TLS, never to the socket as is
        transport.loseConnection()

    async with twisted_server(script) as (port, made):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=tls.client_context(), server_hostname="localhost"
        )
        assert await asyncio.wait_for(reader.read(6), TIMEOUT) == b"secret"
        writer.close()
        await asyncio.wait_for(made[0].lost, TIMEOUT)
        assert made[0].error is None


@pytest.mark.asyncio_task
async def test_a_reset_in_the_middle_of_a_burst_ends_in_connection_lost() -> None:
    reset = asyncio.Event()

    def script(rt: TwistedRuntime, transport: Any) -> None:
        async def burst() -> None:
            await reset.wait()
            await asyncio.sleep(0.05)  # (the RST has arrived)
            for _ in range(200):
                rt.write(b"y" * 1024)  # none of these may raise

        task = asyncio.ensure_future(burst())
        task.add_done_callback(lambda t: t.exception() and None)
        scripts_tasks.append(task)

    scripts_tasks: list[asyncio.Task[None]] = []
    async with twisted_server(script) as (port, made):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for _ in range(100):  # wait until the server has the connection
            if made:
                break
            await asyncio.sleep(0.01)
        sock.close()  # RST, not FIN
        reset.set()
        await asyncio.wait_for(scripts_tasks[0], TIMEOUT)  # raises if a write raised
        reason = await asyncio.wait_for(made[0].lost, TIMEOUT)
        assert reason is not None  # Twisted's connectionLost, with the failure
        assert made[0].error is None


@pytest.mark.asyncio_task
async def test_unix_socket_writes_go_straight_to_the_socket(tmp_path: Any) -> None:
    from twisted.internet import reactor

    path = str(tmp_path / "ws.sock")
    queued: list[int] = []

    def script(rt: TwistedRuntime, transport: Any) -> None:
        rt.write(b"hello ")
        rt.write(b"unix")
        queued.append(rt.write_buffer_size())
        transport.loseConnection()

    def listen_unix(factory: Any) -> Any:
        return reactor.listenUNIX(path, factory)  # type: ignore[attr-defined]

    async with twisted_server(script, listen_unix) as (_, made):
        reader, writer = await asyncio.open_unix_connection(path)
        assert await read_all(reader) == b"hello unix"
        writer.close()
        await asyncio.wait_for(made[0].lost, TIMEOUT)
    assert queued == [0]


class CountingServer(tcp.Server):
    """A TCP transport that overrides ``write`` (as one that counts or throttles would)."""

    written: ClassVar[list[bytes]] = []

    def write(self, data: bytes) -> None:
        CountingServer.written.append(data)
        super().write(data)


@pytest.mark.asyncio_task
async def test_a_transport_that_overrides_write_gets_every_write() -> None:
    from twisted.internet import reactor

    class CountingPort(tcp.Port):
        transport = CountingServer

    def listen_counting(factory: Any) -> Any:
        port = CountingPort(0, factory, interface="127.0.0.1", reactor=reactor)
        port.startListening()
        return port

    def script(rt: TwistedRuntime, transport: Any) -> None:
        rt.write(b"counted, ")
        rt.write(b"both")
        transport.loseConnection()

    CountingServer.written = []
    async with twisted_server(script, listen_counting) as (port, made):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await read_all(reader) == b"counted, both"
        writer.close()
        await asyncio.wait_for(made[0].lost, TIMEOUT)
    assert CountingServer.written == [b"counted, ", b"both"]


def many_parts(count: int, filler: int) -> list[bytes | memoryview]:
    """``count`` parts of varied sizes (some empty, some views), numbered so order shows."""
    parts: list[bytes | memoryview] = []
    for i in range(count):
        part = struct.pack("!I", i) + bytes([i % 251]) * ((i * 7919) % filler)
        parts.append(memoryview(part) if i % 3 else part)
        if i % 50 == 0:
            parts.append(b"")
    return parts


@pytest.mark.parametrize(
    ("filler", "sndbuf"),
    [(9000, 16 * 1024), (8, None)],
    ids=["cut-by-a-full-socket", "tiny-parts-in-several-batches"],
)
@pytest.mark.asyncio_task
async def test_write_parts_past_a_full_socket_and_many_sendmsg_batches(
    filler: int, sndbuf: int | None
) -> None:
    """More parts than one sendmsg() takes: whole batches go one after another,
    and a cut by a full socket (between parts or inside one) resumes in order
    through transport.write."""
    parts = many_parts(1500, filler)

    def script(rt: TwistedRuntime, transport: Any) -> None:
        if sndbuf is not None:
            set_socket_buffer(transport, socket.SO_SNDBUF, sndbuf)
        for _ in range(2):
            rt.write_parts(parts)
        transport.loseConnection()

    async with twisted_server(script) as (port, made):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        received = await read_all(reader)
        writer.close()
    assert made[0].error is None
    assert received == b"".join(parts) * 2


# -- asyncio: the direct send of wsproto_cb.asyncio._direct ----------------


def _count_direct_sends(
    monkeypatch: pytest.MonkeyPatch, take: Callable[[bytes], bytes] = lambda data: data
) -> list[int]:
    """Wrap the runtime's ``send_now``: record each call; send only ``take(data)``."""
    from wsproto_cb.asyncio import _runtime

    real = _runtime.send_now
    calls: list[int] = []

    def counting(fd: int, data: bytes) -> int:
        calls.append(len(data))
        return real(fd, take(data))

    monkeypatch.setattr(_runtime, "send_now", counting)
    return calls


@pytest.mark.parametrize("secure", [False, True], ids=["tcp", "tls"])
@pytest.mark.asyncio_task
async def test_asyncio_sends_straight_to_a_plain_socket_only(
    tls: TLSFiles, monkeypatch: pytest.MonkeyPatch, secure: bool
) -> None:
    from wsproto_cb.core import speedups

    if speedups.DISABLED:
        pytest.skip("WSPROTO_CB_NO_SPEEDUPS=1: every write goes through the transport")
    pytest.importorskip("wsproto_cb._sendnow")
    runtime = RuntimeHarness("asyncio")
    calls = _count_direct_sends(monkeypatch)
    direct: list[bool] = []
    reads: list[int] = []

    class Server:
        def onOpen(self) -> None:
            direct.append(self._rt.sends_directly)  # type: ignore[attr-defined]

        def buffer_updated(self, nbytes: int) -> None:
            reads.append(nbytes)  # (the stock loop reads into our buffer)
            super().buffer_updated(nbytes)  # type: ignore[misc]

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.sendMessage(payload, isBinary)  # type: ignore[attr-defined]

    try:
        port = await runtime.listen(runtime.server_factory(Server), tls=tls if secure else None)
        client = await runtime.connect(
            runtime.client_factory(Recorder), port, tls=tls if secure else None
        )
        await runtime.wait(client.opened)
        client.sendMessage(b"x" * 64)
        assert await runtime.wait(client.messages.get()) == (b"x" * 64, False)
    finally:
        await runtime.close()
    assert reads  # (uvloop reads plain instead: tests/runtime/loop_scenario.py)
    if secure:  # (the bytes must be encrypted first: never beneath TLS)
        assert direct == [False] and not calls
    else:  # both ends: the server's echo and the client's masked frame
        assert direct == [True] and 2 + 64 in calls and 6 + 64 in calls


@pytest.mark.asyncio_task
async def test_asyncio_what_the_kernel_does_not_take_goes_through_the_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A direct send that takes only part of a frame: the transport sends the rest, in order."""
    pytest.importorskip("wsproto_cb._sendnow")
    runtime = RuntimeHarness("asyncio")
    calls = _count_direct_sends(monkeypatch, take=lambda data: data[: len(data) // 2])
    count = 200

    class Server:
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            for i in range(count):
                self.sendMessage(numbered(i), True)  # type: ignore[attr-defined]

    try:
        port = await runtime.listen(runtime.server_factory(Server))
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        await runtime.wait(client.opened)
        client.sendMessage(b"go")
        for i in range(count):
            assert await runtime.wait(client.messages.get()) == (numbered(i), True), i
    finally:
        await runtime.close()
    from wsproto_cb.core import speedups

    assert bool(calls) is not speedups.DISABLED
