"""Hand-built WebSocket peers and a wire tap, for tests that must see the bytes.

Independent of wsproto_cb on purpose: frames are built and parsed here with
``struct`` alone, so a bug in the library cannot hide itself in both halves
of a test.

- :func:`raw_client`: a client that performs the opening handshake with
  whatever header lines it is given and then speaks frames by hand;
- :func:`raw_server`: a server that answers every handshake with a
  response the test writes (for clients facing a misbehaving server);
- :class:`WireTap`: a TCP relay that forwards both directions unchanged
  and records every frame header that crosses it (RSV1, opcode, length).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 10.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def accept_value(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` answering ``key`` (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode()


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def build_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bool = True,
) -> bytes:
    """One frame; masked (as a client must) unless ``mask`` is False."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", first, mask_bit | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    repeated = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")
    return head + key + masked


@dataclass
class Frame:
    fin: bool
    rsv1: bool
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        return int(struct.unpack("!H", self.payload[:2])[0])


async def read_frame(reader: asyncio.StreamReader, timeout: float = TIMEOUT) -> Frame:
    """Read one (unmasked, server-to-client) frame."""
    async with asyncio.timeout(timeout):
        b1, b2 = await reader.readexactly(2)
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await reader.readexactly(8))
        key = await reader.readexactly(4) if b2 & 0x80 else b""
        payload = await reader.readexactly(n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return Frame(bool(b1 & 0x80), bool(b1 & 0x40), b1 & 0x0F, payload)


@dataclass
class RawResponse:
    status: int
    head: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


@dataclass
class RawClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    response: RawResponse
    key: str

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def read_frame(self, timeout: float = TIMEOUT) -> Frame:
        return await read_frame(self.reader, timeout)

    async def read_eof(self, timeout: float = TIMEOUT) -> bytes:
        """Everything until the server closes the TCP connection.

        A reset counts as closed: a server that stops reading and closes
        with unread bytes in its buffer makes the kernel send RST.
        """
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read()
        except ConnectionResetError:
            return b""

    def close(self) -> None:
        self.writer.close()


async def raw_client(
    port: int,
    headers: Sequence[tuple[str, str]] = (),
    *,
    path: str = "/",
    key: str | None = None,
) -> RawClient:
    """Connect and send an upgrade request with ``headers`` added as given."""
    key = key or new_key()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    async with asyncio.timeout(TIMEOUT):
        head = await reader.readuntil(b"\r\n\r\n")
    status_line, parsed = parse_head(head)
    status = int(status_line.split()[1])
    return RawClient(reader, writer, RawResponse(status, status_line, parsed), key)


@dataclass
class RawServer:
    server: asyncio.Server
    port: int
    requests: list[list[tuple[str, str]]] = field(default_factory=list)

    def close(self) -> None:
        self.server.close()


async def raw_server(
    respond: Callable[[str, list[tuple[str, str]]], list[tuple[str, str]]],
    after: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] | None = None,
) -> RawServer:
    """A server answering ``101`` with the headers ``respond(key, request_headers)`` gives.

    ``after`` then owns the stream (default: wait for EOF).
    """
    holder: list[RawServer] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            _, headers = parse_head(head)
            holder[0].requests.append(headers)
            key = next(v for k, v in headers if k.lower() == "sec-websocket-key")
            lines = ["HTTP/1.1 101 Switching Protocols"]
            lines += [f"{k}: {v}" for k, v in respond(key, headers)]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            if after is not None:
                await after(reader, writer)
            else:
                async with asyncio.timeout(TIMEOUT):
                    await reader.read()
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    result = RawServer(server, int(server.sockets[0].getsockname()[1]))
    holder.append(result)
    return result


def upgrade_headers(key: str) -> list[tuple[str, str]]:
    """The mandatory headers of a ``101`` answer."""
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_value(key)),
    ]


# -- wire tap --------------------------------------------------------------------


@dataclass
class TappedFrame:
    fin: bool
    rsv1: bool
    opcode: int
    length: int  # payload length on the wire
    masked: bool


class _Direction:
    """Frames seen in one direction; the HTTP head is skipped first."""

    def __init__(self) -> None:
        self.frames: list[TappedFrame] = []
        self.total = 0  # bytes forwarded, head included
        self._buf = bytearray()
        self._in_head = True
        self._skip = 0  # payload bytes of the current frame still to pass

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        self._buf += data
        if self._in_head:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            del self._buf[: end + 4]
            self._in_head = False
        while True:
            if self._skip:
                n = min(self._skip, len(self._buf))
                del self._buf[:n]
                self._skip -= n
                if self._skip:
                    return
            buf = self._buf
            if len(buf) < 2:
                return
            b1, b2 = buf[0], buf[1]
            n = b2 & 0x7F
            size = 2
            if n == 126:
                size = 4
                if len(buf) < size:
                    return
                (n,) = struct.unpack_from("!H", buf, 2)
            elif n == 127:
                size = 10
                if len(buf) < size:
                    return
                (n,) = struct.unpack_from("!Q", buf, 2)
            masked = bool(b2 & 0x80)
            size += 4 if masked else 0
            if len(buf) < size:
                return
            self.frames.append(TappedFrame(bool(b1 & 0x80), bool(b1 & 0x40), b1 & 0x0F, n, masked))
            del buf[:size]
            self._skip = n

    def data_frames(self) -> list[TappedFrame]:
        return [f for f in self.frames if f.opcode < OP_CLOSE]


class WireTap:
    """A relay from 127.0.0.1:``port`` to 127.0.0.1:``target`` recording frames.

    ``to_server`` and ``to_client`` hold what crossed in each direction.
    """

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self.to_server = _Direction()
        self.to_client = _Direction()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def _relay(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers += [c_writer, s_writer]
        await asyncio.gather(
            self._pump(c_reader, s_writer, self.to_server),
            self._pump(s_reader, c_writer, self.to_client),
        )

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: _Direction
    ) -> None:
        try:
            while data := await reader.read(65536):
                direction.feed(data)
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer.can_write_eof() and not writer.is_closing():
                with contextlib.suppress(OSError):
                    writer.write_eof()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
