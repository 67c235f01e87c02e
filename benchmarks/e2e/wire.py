"""The load driver's own WebSocket client bits: just enough RFC 6455/7692.

The driver must cost less per message than the servers it measures, so it
does not use any WebSocket library: frames are built (and masked) once,
replies are compared byte for byte with the expected frame where they are
deterministic, and parsed only where they are not (compressed replies).
Everything is standard library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import socket
import struct
import time
import zlib

__all__ = [
    "DeflateParams",
    "HandshakeFailed",
    "InflateStream",
    "ReplyError",
    "accept_value",
    "build_frame",
    "compress_message",
    "do_handshake",
    "handshake_request",
    "json_messages",
    "parse_frames",
    "parse_handshake_response",
]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# A fixed key is fine for a benchmark: the server cannot tell (RFC 6455 asks
# for unpredictable keys to defeat proxy cache poisoning, not for correctness).
MASK_KEY = b"\x37\xfa\x21\x3d"
SEC_KEY = base64.b64encode(b"wsproto_cb-bench").decode()
# What browsers offer: the server picks the window sizes.
BROWSER_DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
SYNC_TAIL = b"\x00\x00\xff\xff"


class HandshakeFailed(Exception):
    """The server did not answer the upgrade with a valid 101."""


class ReplyError(Exception):
    """The server sent something other than the expected echo."""


def accept_value(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def _mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key (the int trick: fine for frames built once)."""
    n = len(payload)
    if n == 0:
        return b""
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        n, "little"
    )


def build_frame(
    opcode: int, payload: bytes, *, masked: bool = True, rsv1: bool = False, fin: bool = True
) -> bytes:
    """One frame; client frames are masked with :data:`MASK_KEY`."""
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if masked:
        return head + MASK_KEY + _mask(payload, MASK_KEY)
    return head + payload


def parse_frames(buf: bytes | bytearray) -> tuple[list[tuple[int, bool, bytes]], int]:
    """Whole unmasked frames in ``buf``: ``([(opcode, rsv1, payload)], used)``.

    Only unfragmented frames are expected from an echo server; a continuation
    or a masked server frame is an error.
    """
    frames: list[tuple[int, bool, bytes]] = []
    pos = 0
    end = len(buf)
    while end - pos >= 2:
        b0 = buf[pos]
        b1 = buf[pos + 1]
        if b1 & 0x80:
            raise ReplyError("server frame is masked")
        n = b1 & 0x7F
        head = 2
        if n == 126:
            if end - pos < 4:
                break
            n = (buf[pos + 2] << 8) | buf[pos + 3]
            head = 4
        elif n == 127:
            if end - pos < 10:
                break
            (n,) = struct.unpack_from("!Q", buf, pos + 2)
            head = 10
        if end - pos < head + n:
            break
        if not b0 & 0x80:
            raise ReplyError(f"fragmented reply (opcode {b0 & 0x0F}): not expected from an echo")
        frames.append((b0 & 0x0F, bool(b0 & 0x40), bytes(buf[pos + head : pos + head + n])))
        pos += head + n
    return frames, pos


class DeflateParams:
    """The permessage-deflate parameters a server answered with."""

    __slots__ = (
        "client_max_window_bits",
        "client_no_context_takeover",
        "server_max_window_bits",
        "server_no_context_takeover",
    )

    def __init__(self) -> None:
        self.server_no_context_takeover = False
        self.client_no_context_takeover = False
        self.server_max_window_bits = 15
        self.client_max_window_bits = 15

    @classmethod
    def parse(cls, header: str, offered_client_bits: bool) -> DeflateParams:
        """Parse one ``permessage-deflate`` response; reject what was not offered."""
        params = cls()
        parts = [p.strip() for p in header.split(";")]
        if parts[0].lower() != "permessage-deflate" or "," in header:
            raise HandshakeFailed(f"unexpected extension response {header!r}")
        for part in parts[1:]:
            name, _, value = part.partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "server_no_context_takeover":
                params.server_no_context_takeover = True
            elif name == "client_no_context_takeover":
                params.client_no_context_takeover = True
            elif name == "server_max_window_bits":
                params.server_max_window_bits = int(value)
            elif name == "client_max_window_bits":
                if not offered_client_bits:
                    raise HandshakeFailed("client_max_window_bits in response but not offered")
                params.client_max_window_bits = int(value)
            else:
                raise HandshakeFailed(f"unknown permessage-deflate parameter {name!r}")
        for bits in (params.server_max_window_bits, params.client_max_window_bits):
            if not 8 <= bits <= 15:
                raise HandshakeFailed(f"window bits {bits} out of range")
        return params

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def compress_message(data: bytes, params: DeflateParams) -> bytes:
    """One message's deflate payload, without context takeover.

    A client may always leave out context takeover (RFC 7692 7.1.1.1: the
    peer's decompressor copes either way), so the compressed payload of a
    given message is the same every time and can be built once.  The window
    is the one the server allowed us; zlib cannot deflate with 8 bits, so a
    window of 8 gets stored blocks, which reference no history at all.
    """
    bits = params.client_max_window_bits
    if bits >= 9:
        comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -bits)
    else:
        comp = zlib.compressobj(0, zlib.DEFLATED, -9)
    out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
    if not out.endswith(SYNC_TAIL):
        raise RuntimeError("zlib did not end the message with a sync flush")
    return out[:-4]


class InflateStream:
    """Decompresses the server's messages, keeping its window between them.

    With context takeover (the default) the server's messages refer back to
    earlier ones, so one decompressor lives as long as the connection; a
    window of 15 bits reads any window the server may use.  A server that
    ends a message with a final block (allowed) starts a new stream.
    """

    __slots__ = ("_d",)

    def __init__(self) -> None:
        self._d = zlib.decompressobj(-15)

    def message(self, payload: bytes, params: DeflateParams) -> bytes:
        d = self._d
        out = d.decompress(payload + SYNC_TAIL)
        if d.eof or params.server_no_context_takeover:
            self._d = zlib.decompressobj(-15)
        return out


def handshake_request(port: int, offer: str | None) -> bytes:
    lines = [
        "GET / HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {SEC_KEY}",
        "Sec-WebSocket-Version: 13",
    ]
    if offer:
        lines.append(f"Sec-WebSocket-Extensions: {offer}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


EXPECTED_ACCEPT = accept_value(SEC_KEY)


def parse_handshake_response(head: bytes, offer: str | None) -> DeflateParams | None:
    """Check the 101 response; return the deflate parameters if negotiated."""
    text = head.decode("latin-1")
    status, *lines = text.split("\r\n")
    if not status.startswith("HTTP/1.1 101"):
        raise HandshakeFailed(f"status line {status!r}")
    headers: dict[str, str] = {}
    for line in lines:
        if not line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if headers.get("sec-websocket-accept") != EXPECTED_ACCEPT:
        raise HandshakeFailed("wrong Sec-WebSocket-Accept")
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeFailed("no Upgrade: websocket")
    ext = headers.get("sec-websocket-extensions")
    if not ext:
        return None
    if not offer:
        raise HandshakeFailed(f"extension {ext!r} not offered")
    return DeflateParams.parse(ext, "client_max_window_bits" in offer)


def do_handshake(
    sock: socket.socket, port: int, offer: str | None, timeout: float = 10.0
) -> tuple[DeflateParams | None, bytes]:
    """Blocking handshake on a connected socket: ``(deflate params, early bytes)``."""
    sock.settimeout(timeout)
    sock.sendall(handshake_request(port, offer))
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline or len(buf) > 65536:
            raise HandshakeFailed("no complete response")
        chunk = sock.recv(65536)
        if not chunk:
            raise HandshakeFailed(f"connection closed during handshake after {buf[:200]!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return parse_handshake_response(head, offer), rest


def json_messages(count: int = 8, size: int = 2048, seed: int = 7) -> list[bytes]:
    """``count`` different JSON documents of about ``size`` bytes (compressible like
    real API payloads: repeated keys, varied values)."""
    rng = random.Random(seed)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    out = []
    for m in range(count):
        items: list[dict[str, object]] = []
        doc: dict[str, object] = {"type": "update", "seq": m, "items": items}
        while len(json.dumps(doc, separators=(",", ":"))) < size - 110:
            items.append(
                {
                    "id": rng.randrange(10**6),
                    "name": f"{rng.choice(words)}-{rng.randrange(1000)}",
                    "price": round(rng.random() * 1000, 2),
                    "qty": rng.randrange(100),
                    "active": rng.random() < 0.5,
                }
            )
        doc["note"] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(40))
        out.append(json.dumps(doc, separators=(",", ":")).encode())
    return out
