"""Every way a connection can end has a deadline, even when the peer stops reading.

A peer that stops reading leaves bytes queued in our transport.  A graceful
TCP close (after answering a close frame, after failing the connection,
after ``dropConnection()``) waits for those bytes to be written, which
never happens; the transport must be aborted once ``closeHandshakeTimeout``
has passed, whatever is still queued.  The peer here is a raw socket with
a tiny receive buffer that never reads, so the server's socket buffers fill
and the rest of a 48 KiB message stays queued in user space (below the
64 KiB high-water mark, so the server keeps reading and sees what the peer
sends next).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from wsproto_cb.core.connection import Connection

from .harness import (
    TIMEOUT,
    RawServerPeer,
    Recorder,
    RuntimeHarness,
    set_socket_buffer,
    track_opened,
    write_buffer_size,
)

CLOSE_TIMEOUT = 0.5
QUEUED = 48 * 1024  # under both runtimes' 64 KiB write high-water mark
TINY_BUFFER = 1024  # (Linux doubles it and applies its minimum)


async def deaf_socket(port: int) -> tuple[socket.socket, Connection]:
    """A WebSocket client socket that completes the handshake, then never reads again."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, TINY_BUFFER)  # before connect
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    request = (
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    await loop.sock_sendall(sock, request)
    head = b""
    while b"\r\n\r\n" not in head:  # (the server sends nothing after its 101 yet)
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1), TIMEOUT)
        assert chunk, "server closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101")
    return sock, Connection(False)


def peer_sends_close(server: Any, sock: socket.socket, conn: Connection) -> None:
    sock.send(conn.send_close(1000, "bye"))


def peer_breaks_protocol(server: Any, sock: socket.socket, conn: Connection) -> None:
    sock.send(b"\x83\x80" + b"\x00" * 4)  # reserved opcode 3: the server fails with 1002


def app_drops(server: Any, sock: socket.socket, conn: Connection) -> None:
    server.dropConnection()


def app_closes(server: Any, sock: socket.socket, conn: Connection) -> None:
    server.sendClose(1000)


#: how the connection is ended, and what onClose's reason then says
ENDINGS: dict[str, tuple[Callable[[Any, socket.socket, Connection], None], str]] = {
    "peer-sends-close": (peer_sends_close, "did not read what was queued"),
    "peer-breaks-protocol": (peer_breaks_protocol, "(close code 1002)"),
    "app-drops": (app_drops, "dropped by the application"),
    "app-closes": (app_closes, "closing handshake timeout"),
}


@pytest.mark.asyncio_task
@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_server_connection_ends_when_peer_stops_reading(
    runtime: RuntimeHarness, ending: str
) -> None:
    factory = runtime.server_factory(Recorder, closeHandshakeTimeout=CLOSE_TIMEOUT)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    sock, conn = await deaf_socket(port)
    try:
        server = await runtime.wait(servers.get())
        set_socket_buffer(server.transport, socket.SO_SNDBUF, 4096)
        server.sendMessage(b"x" * QUEUED, isBinary=True)
        await asyncio.sleep(0.05)  # (let the kernel take what it will)
        assert write_buffer_size(server.transport) > 0, "nothing stayed queued"
        end, why = ENDINGS[ending]
        end(server, sock, conn)
        was_clean, code, reason = await runtime.wait(server.closed)
        assert (was_clean, code) == (False, 1006)
        assert why in reason
        assert factory.countConnections == 0
    finally:
        sock.close()


@pytest.mark.asyncio_task
async def test_client_failing_ends_when_server_stops_reading(runtime: RuntimeHarness) -> None:
    """The client side: failed by a bad frame while its queue to the server is stuck."""
    stalled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def deaf_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = RawServerPeer(reader, writer)
        try:
            await peer.accept()
            writer.transport.pause_reading()  # type: ignore[attr-defined]
            await stalled
            writer.write(b"\x83\x00")  # reserved opcode 3: the client fails with 1002
            await release.wait()
        finally:
            writer.transport.abort()  # type: ignore[attr-defined]

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, TINY_BUFFER)  # (inherited)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(deaf_server, sock=listener)
    port = listener.getsockname()[1]
    try:
        client = await runtime.connect(
            runtime.client_factory(Recorder, closeHandshakeTimeout=CLOSE_TIMEOUT), port
        )
        await runtime.wait(client.opened)
        set_socket_buffer(client.transport, socket.SO_SNDBUF, 4096)
        client.sendMessage(b"x" * QUEUED, isBinary=True)
        await asyncio.sleep(0.05)
        assert write_buffer_size(client.transport) > 0, "nothing stayed queued"
        stalled.set_result(None)
        was_clean, code, reason = await runtime.wait(client.closed)
        assert (was_clean, code) == (False, 1006)
        assert "1002" in reason
    finally:
        release.set()
        server.close()
