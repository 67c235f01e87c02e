"""Frame headers of RFC 6455 section 5.2: building them and reading them.

This module knows the wire layout only.  Which frames are allowed when (the
state machine, fragmentation, limits) is :mod:`wsproto_cb.core.connection`'s
job; it calls :func:`parse_header` on its receive buffer and
:func:`build_frame` when sending.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from itertools import chain
from typing import NamedTuple, Protocol

from . import speedups
from .codes import Opcode
from .errors import ProtocolError
from .masking import apply_mask

__all__ = [
    "RSV1",
    "FrameHeader",
    "FrameParts",
    "HeaderFields",
    "MaskKeySource",
    "build_frame",
    "build_frame_header",
    "frame_bytes",
    "frame_bytes_c",
    "frame_bytes_python",
    "join_frames",
    "parse_header",
    "read_header",
    "write_parts",
]

_PACK_H = struct.Struct("!BBH").pack
_PACK_Q = struct.Struct("!BBQ").pack
_UNPACK_H = struct.Struct("!H").unpack_from
_UNPACK_Q = struct.Struct("!Q").unpack_from

Payload = bytes | bytearray | memoryview

_KNOWN_OPCODES = frozenset(int(op) for op in Opcode)


#: The RSV1 bit of a frame's first byte (permessage-deflate's "compressed").
RSV1 = 0x4


class FrameHeader(NamedTuple):
    """A parsed frame header; ``size`` is how many bytes the header took."""

    fin: bool
    rsv: int  # the three RSV bits as 0b0xyz0000 >> 4, i.e. rsv1 == 4
    opcode: int
    length: int
    mask: bytes | None
    size: int


#: The fields of :class:`FrameHeader` as a plain tuple.
HeaderFields = tuple[bool, int, int, int, bytes | None, int]


def parse_header(buf: bytes | bytearray, pos: int) -> FrameHeader | None:
    """Read the frame header starting at ``buf[pos]``.

    Returns ``None`` when the header is not complete yet.  Raises
    :class:`ProtocolError` (1002) for reserved opcodes, non-minimal or
    oversized length encodings and malformed control frames; RSV bits and
    masking rules depend on the connection and are checked there.
    """
    fields = read_header(buf, pos)
    return None if fields is None else FrameHeader._make(fields)


def read_header(buf: bytes | bytearray, pos: int) -> HeaderFields | None:
    """:func:`parse_header` returning a plain tuple.

    Optimisation (benchmarks/core.py): the connection calls this once per
    received frame, and building a tuple costs a fraction of building a
    ``NamedTuple`` through its Python-level ``__new__``.
    """
    avail = len(buf) - pos
    if avail < 2:
        return None
    b0 = buf[pos]
    b1 = buf[pos + 1]
    opcode = b0 & 0x0F
    length = b1 & 0x7F
    size = 2
    if length == 126:
        if avail < 4:
            return None
        (length,) = _UNPACK_H(buf, pos + 2)
        size = 4
        if length < 126:
            raise ProtocolError(1002, "non-minimal 16-bit frame length")
    elif length == 127:
        if avail < 10:
            return None
        (length,) = _UNPACK_Q(buf, pos + 2)
        size = 10
        if length >> 63:
            raise ProtocolError(1002, "64-bit frame length with the top bit set")
        if length <= 0xFFFF:
            raise ProtocolError(1002, "non-minimal 64-bit frame length")
    if opcode not in _KNOWN_OPCODES:
        raise ProtocolError(1002, f"reserved opcode 0x{opcode:x}")
    fin = b0 >= 0x80
    if opcode >= 0x8:
        if not fin:
            raise ProtocolError(1002, "fragmented control frame")
        if length > 125:
            raise ProtocolError(1002, "control frame payload over 125 bytes")
    if b1 < 0x80:
        return (fin, (b0 >> 4) & 0x07, opcode, length, None, size)
    if avail < size + 4:
        return None
    start = pos + size
    mask = buf[start : start + 4]
    if type(mask) is not bytes:  # a bytearray (or memoryview) slice
        mask = bytes(mask)
    return (fin, (b0 >> 4) & 0x07, opcode, length, mask, size + 4)


def build_frame_header(
    opcode: int, length: int, *, fin: bool = True, rsv: int = 0, mask: bytes | None = None
) -> bytes:
    """The header bytes (mask key included) for a frame of ``length`` bytes."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        header = bytes((b0, mask_bit | length))
    elif length <= 0xFFFF:
        header = _PACK_H(b0, mask_bit | 126, length)
    else:
        header = _PACK_Q(b0, mask_bit | 127, length)
    if mask is not None:
        return header + mask
    return header


def build_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
) -> bytes:
    """A complete frame; ``mask`` (4 bytes) masks the payload, as clients must."""
    return frame_bytes(opcode, payload, fin, rsv, mask)


def frame_bytes_python(
    opcode: int,
    payload: Payload,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
) -> bytes:
    """:func:`build_frame` with positional arguments: the reference for the C twin.

    The send path calls :data:`frame_bytes` directly (one call per frame,
    no keyword parsing); ``wsproto_cb.core._wire.build_frame`` builds the
    same bytes in one allocation, masking included.
    """
    header = build_frame_header(opcode, len(payload), fin=fin, rsv=rsv, mask=mask)
    if mask is not None:
        return header + apply_mask(payload, mask)
    return header + payload


class FrameBytes(Protocol):
    """The signature :func:`frame_bytes_python` and its C twin share."""

    def __call__(
        self,
        opcode: int,
        payload: Payload,
        fin: bool = True,
        rsv: int = 0,
        mask: bytes | None = None,
    ) -> bytes: ...


#: The C twin of :func:`frame_bytes_python`, or None when disabled or not built.
frame_bytes_c: FrameBytes | None = speedups.load("_wire", "build_frame")

#: The implementation in use: the C twin when there is one.
frame_bytes: FrameBytes = frame_bytes_c if frame_bytes_c is not None else frame_bytes_python


#: One frame as parts: its header (masking key included), then its payload
#: in zero or more buffers; joined, they are the frame.
FrameParts = tuple[bytes | memoryview, ...]

#: A payload buffer this large is written as it is; smaller ones are copied
#: together with their neighbours (copying a few KiB costs less than one
#: more write, a system call on asyncio, and a frame header is never
#: written alone before a small payload).
WRITE_AS_IS_MIN = 64 * 1024

#: Small buffers are joined into parts of about this size at most, so that
#: many small frames never become one large copy.
JOINED_PART_MAX = 64 * 1024


def join_frames(frames: Iterable[FrameParts]) -> bytes:
    """The frames' bytes, in one buffer."""
    return b"".join(chain.from_iterable(frames))


def write_parts(frames: Iterable[FrameParts]) -> list[bytes | memoryview]:
    """The buffers to write for ``frames``, in order: large payloads as they are
    (no copy), everything between them joined into ``bytes`` (the headers,
    small payloads).  Joined, they are :func:`join_frames` of ``frames``.
    """
    parts: list[bytes | memoryview] = []
    run: list[bytes | memoryview] = []
    run_size = 0
    for buf in chain.from_iterable(frames):
        size = len(buf)
        if size >= WRITE_AS_IS_MIN:
            if run:
                parts.append(b"".join(run))
                run, run_size = [], 0
            parts.append(buf)
            continue
        run.append(buf)
        run_size += size
        if run_size >= JOINED_PART_MAX:
            parts.append(b"".join(run))
            run, run_size = [], 0
    if run:
        parts.append(b"".join(run))
    return parts


class MaskKeySource:
    """Masking keys from the OS's CSPRNG, fetched in batches.

    RFC 6455 section 5.3 wants keys that are unpredictable; ``os.urandom``
    is, but one system call per frame costs more than building a small
    frame, so keys are read 4 KiB at a time.
    """

    __slots__ = ("_batch", "_pos")

    _BATCH = 4096

    def __init__(self) -> None:
        self._batch = b""
        self._pos = 0

    def next_key(self) -> bytes:
        pos = self._pos
        if pos >= len(self._batch):
            self._batch = os.urandom(self._BATCH)
            pos = 0
        self._pos = pos + 4
        return self._batch[pos : pos + 4]
