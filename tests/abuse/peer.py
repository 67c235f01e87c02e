"""A hand-driven WebSocket client on a bare non-blocking socket.

Attacks need a peer that does exactly what it is told and nothing more: no
automatic pong, no reading unless asked, a chosen receive buffer.  Its
well-formed request and frames come from the sans-I/O core (a client-side
:class:`ClientHandshake` and :class:`Connection`), with no runtime, so it
behaves the same whichever runtime the server under attack runs on; the
hostile bytes are written by the attacks themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterable

from wsproto_cb.core.connection import Connection
from wsproto_cb.core.events import (
    CloseReceived,
    ConnectionFailed,
    Event,
    MessageData,
    Ping,
)
from wsproto_cb.core.handshake_client import ClientHandshake

__all__ = ["Peer", "upgrade_request"]


def upgrade_request(port: int, headers: Iterable[str] = (), extensions: str | None = None) -> bytes:
    """A valid opening handshake request (the core's), with ``headers``
    (``"Name: value"``, repeats kept) and a ``Sec-WebSocket-Extensions`` offer added."""
    fields = [
        (name.strip(), value.strip()) for name, _, value in (h.partition(":") for h in headers)
    ]
    handshake = ClientHandshake("127.0.0.1", port, "/", extensions=extensions, headers=fields)
    return handshake.data_to_send()


class Peer:
    """One TCP connection to the server under attack."""

    def __init__(self, sock: socket.socket, port: int) -> None:
        self.sock = sock
        self.port = port
        self.conn = Connection(False)
        self.response = b""
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def connect(cls, port: int, rcvbuf: int | None = None) -> Peer:
        """Connect to 127.0.0.1:port; ``rcvbuf`` pins a (small) receive buffer first."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
        return cls(sock, port)

    async def send(self, data: bytes, timeout: float | None = None) -> bool:
        """Send all of ``data``; False if the server closed, or the send blocked for
        ``timeout`` seconds (the server stopped reading)."""
        try:
            await asyncio.wait_for(self._loop.sock_sendall(self.sock, data), timeout)
        except (TimeoutError, OSError):
            return False
        return True

    async def recv(self, timeout: float) -> bytes | None:
        """Some bytes; b"" when the server closed (or reset); None on timeout."""
        try:
            return await asyncio.wait_for(self._loop.sock_recv(self.sock, 65536), timeout)
        except TimeoutError:
            return None
        except OSError:
            return b""

    async def handshake(
        self, headers: Iterable[str] = (), extensions: str | None = None, timeout: float = 10.0
    ) -> bytes:
        """Send an upgrade request; return the response head (b"" if the server closed)."""
        await self.send(upgrade_request(self.port, headers, extensions))
        return await self.read_head(timeout)

    async def read_head(self, timeout: float = 10.0) -> bytes:
        """The HTTP response head; what follows it goes to the WebSocket parser."""
        data = b""
        async with asyncio.timeout(timeout):
            while b"\r\n\r\n" not in data:
                chunk = await self.recv(timeout)
                if not chunk:
                    return data
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        self.response = head + b"\r\n\r\n"
        if rest:
            self.conn.receive_data(rest)
        return self.response

    @property
    def status(self) -> int | None:
        """The response's status code, if a status line arrived."""
        parts = self.response.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    async def event(self, timeout: float = 10.0) -> Event | None:
        """The next WebSocket event; None when the server closed TCP first.

        Raises TimeoutError when nothing arrives in time.
        """
        async with asyncio.timeout(timeout):
            while True:
                event = self.conn.next_event()
                if event is not None:
                    return event
                data = await self.recv(timeout)
                if not data:
                    return None
                self.conn.receive_data(data)

    async def message(self, timeout: float = 10.0) -> bytes | None:
        """The next whole message (pings answered); None if closed first."""
        parts: list[bytes] = []
        async with asyncio.timeout(timeout):
            while True:
                event = await self.event(timeout)
                if event is None or isinstance(event, CloseReceived | ConnectionFailed):
                    return None
                if isinstance(event, Ping):
                    await self.send(self.conn.send_pong(event.payload))
                elif isinstance(event, MessageData):
                    parts.append(event.data)
                    if event.message_end:
                        return b"".join(parts)

    async def close_code(self, timeout: float = 10.0) -> int | None:
        """Read until the server's close frame (its code) or TCP close (None).

        Raises TimeoutError if neither comes in time.
        """
        async with asyncio.timeout(timeout):
            while True:
                event = await self.event(timeout)
                if event is None:
                    return None
                if isinstance(event, CloseReceived):
                    return event.code
                if isinstance(event, ConnectionFailed):
                    return event.code

    async def closed(self, timeout: float) -> bool:
        """Read (and drop) until the server closes TCP; False on timeout."""
        loop = self._loop
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            data = await self.recv(left)
            if data is None:
                return False
            if not data:
                return True
        return False

    def abort(self) -> None:
        """Close with a reset (SO_LINGER 0): the server sees the peer vanish at once."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()
