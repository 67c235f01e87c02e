"""The bytes a node publishes for one broadcast, and the per-publisher order check.

Every message carries the publishing node's id, so a node recognises and
drops its own echo, and a sequence number counted per publisher and group,
so a receiver sees a lost message as a gap instead of silently missing it.
Sans-I/O: bytes in, values out.

Layout (network byte order)::

    b"WSCB"  version:u8  flags:u8  node:8 bytes  sequence:u64  group_len:u16
    group (UTF-8, group_len bytes)  payload (the rest)

``flags`` bit 0 is "binary", bit 1 is "every connection" (``group=None``).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

__all__ = [
    "NODE_ID_SIZE",
    "Envelope",
    "EnvelopeError",
    "SequenceTracker",
    "decode_envelope",
    "encode_envelope",
]

MAGIC = b"WSCB"
VERSION = 1
NODE_ID_SIZE = 8
_FLAG_BINARY = 0x01
_FLAG_EVERYONE = 0x02
_HEADER = struct.Struct("!4sBB8sQH")
_MAX_GROUP_BYTES = 0xFFFF


class EnvelopeError(ValueError):
    """Bytes on a backplane channel that are not an envelope of ours."""


class Envelope(NamedTuple):
    node: bytes
    sequence: int
    group: str | None
    payload: bytes
    is_binary: bool


def encode_envelope(
    node: bytes, sequence: int, group: str | None, payload: bytes, is_binary: bool
) -> bytes:
    if len(node) != NODE_ID_SIZE:
        raise ValueError(f"node id must be {NODE_ID_SIZE} bytes, not {len(node)}")
    flags = _FLAG_BINARY if is_binary else 0
    if group is None:
        flags |= _FLAG_EVERYONE
        name = b""
    else:
        name = group.encode("utf-8")
        if len(name) > _MAX_GROUP_BYTES:
            raise ValueError(f"group name longer than {_MAX_GROUP_BYTES} bytes in UTF-8")
    return b"".join((_HEADER.pack(MAGIC, VERSION, flags, node, sequence, len(name)), name, payload))


def decode_envelope(data: bytes) -> Envelope:
    if len(data) < _HEADER.size:
        raise EnvelopeError(f"envelope of {len(data)} bytes is shorter than its header")
    magic, version, flags, node, sequence, name_len = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise EnvelopeError("not a wsproto_cb envelope (bad magic)")
    if version != VERSION:
        raise EnvelopeError(f"envelope version {version} is not supported (only {VERSION})")
    start = _HEADER.size
    end = start + name_len
    if end > len(data):
        raise EnvelopeError("envelope group name runs past its end")
    group: str | None
    if flags & _FLAG_EVERYONE:
        if name_len:
            raise EnvelopeError("envelope for every connection names a group")
        group = None
    else:
        try:
            group = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise EnvelopeError("envelope group name is not UTF-8") from None
    return Envelope(node, sequence, group, data[end:], bool(flags & _FLAG_BINARY))


class SequenceTracker:
    """The last sequence number seen per (publisher, group): finds gaps and replays.

    A publisher counts 1, 2, 3 ... per group.  The first message seen from a
    publisher in a group sets the baseline (a node that subscribes late has
    not missed what came before).  :meth:`forget_group` drops the baselines
    when the node unsubscribes on purpose; a lost connection keeps them, so
    what was published meanwhile shows up as a gap.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[tuple[bytes, str | None], int] = {}

    def observe(self, node: bytes, group: str | None, sequence: int) -> int | None:
        """How many messages were missed before this one (0: in order); None: stale, drop it."""
        key = (node, group)
        last = self._last.get(key)
        if last is not None and sequence <= last:
            return None
        self._last[key] = sequence
        if last is None:
            return 0
        return sequence - last - 1

    def forget_group(self, group: str | None) -> None:
        for key in [key for key in self._last if key[1] == group]:
            del self._last[key]
