"""The bytes a node publishes for one broadcast, and the per-publisher order check.

Every message carries the publishing node's id, so a node recognises and
drops its own echo, and a sequence number counted per publisher and group,
so a receiver sees a lost message as a gap instead of silently missing it.
Sans-I/O: bytes in, values out.

Layout (network byte order)::

    b"WSCB"  version:u8  flags:u8  node:8 bytes  epoch:u64  sequence:u64
    group_len:u16  group (UTF-8, group_len bytes)  payload (the rest)

``flags`` bit 0 is "binary", bit 1 is "every connection" (``group=None``).

Memory stays bounded on both sides, however many groups come and go (one
per user, say): a publisher keeps the counters of its most recently used
groups only (:class:`SequenceCounter`), a receiver the positions of its
most recently heard publishers and groups (:class:`SequenceTracker`).  A
group whose counter was forgotten starts again at 1 under a new *epoch*
(a number that only grows, per publisher), which tells receivers that the
numbering restarted rather than went back.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from typing import NamedTuple

__all__ = [
    "NODE_ID_SIZE",
    "Envelope",
    "EnvelopeError",
    "SequenceCounter",
    "SequenceTracker",
    "decode_envelope",
    "encode_envelope",
]

MAGIC = b"WSCB"
VERSION = 1
NODE_ID_SIZE = 8
_FLAG_BINARY = 0x01
_FLAG_EVERYONE = 0x02
_HEADER = struct.Struct("!4sBB8sQQH")
_MAX_GROUP_BYTES = 0xFFFF
#: groups (publisher side) and (publisher, group) pairs (receiver side) remembered
DEFAULT_REMEMBERED = 100_000


class EnvelopeError(ValueError):
    """Bytes on a backplane channel that are not an envelope of ours."""


class Envelope(NamedTuple):
    node: bytes
    sequence: int
    group: str | None
    payload: bytes
    is_binary: bool
    epoch: int = 0


def encode_envelope(
    node: bytes,
    sequence: int,
    group: str | None,
    payload: bytes,
    is_binary: bool,
    epoch: int = 0,
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
    header = _HEADER.pack(MAGIC, VERSION, flags, node, epoch, sequence, len(name))
    return b"".join((header, name, payload))


def decode_envelope(data: bytes) -> Envelope:
    if len(data) < _HEADER.size:
        raise EnvelopeError(f"envelope of {len(data)} bytes is shorter than its header")
    magic, version, flags, node, epoch, sequence, name_len = _HEADER.unpack_from(data)
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
    return Envelope(node, sequence, group, data[end:], bool(flags & _FLAG_BINARY), epoch)


class SequenceCounter:
    """A publisher's numbering: 1, 2, 3 ... per group, with an epoch per numbering.

    Only the ``limit`` most recently used groups are remembered; a group
    used again after it was forgotten starts at 1 under a new epoch.
    """

    __slots__ = ("_counters", "_epochs", "limit")

    def __init__(self, limit: int = DEFAULT_REMEMBERED) -> None:
        self.limit = limit
        self._counters: OrderedDict[str | None, tuple[int, int]] = OrderedDict()
        self._epochs = 0

    def __len__(self) -> int:
        return len(self._counters)

    def next(self, group: str | None) -> tuple[int, int]:
        """``(epoch, sequence)`` for the next message to ``group``."""
        counters = self._counters
        entry = counters.pop(group, None)
        if entry is None:
            self._epochs += 1
            entry = (self._epochs, 0)
        entry = (entry[0], entry[1] + 1)
        counters[group] = entry
        if len(counters) > self.limit:
            counters.popitem(last=False)
        return entry


class SequenceTracker:
    """The last (epoch, sequence) seen per (publisher, group): finds gaps and replays.

    A publisher counts 1, 2, 3 ... per group.  The first message seen from a
    publisher in a group, or the first of a new epoch, sets the baseline (a
    node that subscribes late has not missed what came before).
    :meth:`forget_group` drops the baselines when the node unsubscribes on
    purpose; a lost connection keeps them, so what was published meanwhile
    shows up as a gap.  Only the ``limit`` most recently heard pairs are
    remembered (a publisher that restarted has a new node id; the old one's
    entries age out).
    """

    __slots__ = ("_last", "limit")

    def __init__(self, limit: int = DEFAULT_REMEMBERED) -> None:
        self.limit = limit
        self._last: OrderedDict[tuple[bytes, str | None], tuple[int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._last)

    def observe(self, node: bytes, group: str | None, sequence: int, epoch: int = 0) -> int | None:
        """How many messages were missed before this one (0: in order); None: stale, drop it."""
        key = (node, group)
        last = self._last.pop(key, None)
        if last is not None and (epoch, sequence) <= last:
            self._last[key] = last
            return None
        self._last[key] = (epoch, sequence)
        if len(self._last) > self.limit:
            self._last.popitem(last=False)
        if last is None or epoch != last[0]:
            return 0
        return sequence - last[1] - 1

    def forget_group(self, group: str | None) -> None:
        for key in [key for key in self._last if key[1] == group]:
            del self._last[key]
