"""Redis Cluster's key slots and who owns them: bytes and replies in, answers out, no I/O.

A Redis Cluster splits its key space into 16,384 *slots*; each master owns
some of them.  Sharded pub/sub (``SSUBSCRIBE``/``SPUBLISH``, Redis 7) puts a
channel on the master that owns the channel name's slot, exactly as a key,
so a message crosses one shard instead of every node of the cluster.

- :func:`key_slot`: CRC-16/XMODEM of the name mod 16384, hashing only the
  *hash tag* (``{...}``, the first non-empty one) where there is one, as
  Redis does, so ``room{eu}`` and ``chat{eu}`` share a slot;
- :class:`SlotMap`: which master owns which slot, read from ``CLUSTER SLOTS``;
- :func:`parse_redirect`: the slot and new owner in a ``MOVED``/``ASK`` error.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

__all__ = ["HASH_SLOTS", "Endpoint", "Redirect", "SlotMap", "crc16", "key_slot", "parse_redirect"]

HASH_SLOTS = 16384


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster uses."""
    crc = 0
    table = _TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def key_slot(key: bytes | str) -> int:
    """The cluster slot of a key or sharded channel name (hash tags honoured)."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:  # ("{}" is no tag: the whole name is hashed)
            key = key[start + 1 : end]
    return crc16(key) % HASH_SLOTS


class Endpoint(NamedTuple):
    """A master's host and port, as the cluster announces it."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class Redirect(NamedTuple):
    """``-MOVED slot host:port`` (the slot has a new owner) or ``-ASK`` (for now)."""

    kind: str
    slot: int
    endpoint: Endpoint


def parse_redirect(message: str, default_host: str) -> Redirect | None:
    """The redirect in an error reply's text, or ``None`` if it is not one.

    An empty host (``MOVED 3999 :6381``: the node does not know its own
    address) means the host we asked.
    """
    parts = message.split(" ")
    if len(parts) != 3 or parts[0] not in ("MOVED", "ASK"):
        return None
    host, colon, port = parts[2].rpartition(":")
    if not colon or not parts[1].isdigit() or not port.isdigit():
        return None
    slot = int(parts[1])
    if slot >= HASH_SLOTS:
        return None
    return Redirect(parts[0], slot, Endpoint(host.strip("[]") or default_host, int(port)))


class SlotMap:
    """Which master owns which slot (ranges; a slot no master owns has no owner)."""

    __slots__ = ("_ends", "_owners", "_starts")

    def __init__(self, ranges: Iterable[tuple[int, int, Endpoint]]) -> None:
        ordered = sorted(ranges)
        for (_, end, _), (start, _, _) in itertools.pairwise(ordered):
            if start <= end:
                raise ValueError(f"slot ranges overlap at slot {start}")
        for start, end, _ in ordered:
            if not 0 <= start <= end < HASH_SLOTS:
                raise ValueError(f"bad slot range {start}-{end}")
        self._starts = [start for start, _, _ in ordered]
        self._ends = [end for _, end, _ in ordered]
        self._owners = [owner for _, _, owner in ordered]

    @classmethod
    def from_cluster_slots(cls, reply: Any, default_host: str) -> SlotMap:
        """Read a ``CLUSTER SLOTS`` reply: ``[[start, end, [host, port, id, ...], replicas...]]``.

        ``ValueError`` if it has another shape.  An empty host or ``?``
        means the node we asked (it does not know the address it is reached at).
        """
        if not isinstance(reply, list):
            raise ValueError(f"CLUSTER SLOTS replied {type(reply).__name__}, not an array")
        ranges = []
        for entry in reply:
            try:
                start, end, master = entry[0], entry[1], entry[2]
                host, port = master[0], master[1]
                if not (isinstance(start, int) and isinstance(end, int)):
                    raise TypeError
                if not isinstance(master, list) or not isinstance(host, bytes):
                    raise TypeError
                if not isinstance(port, int) or not 0 < port < 65536:
                    raise TypeError
                host = host.decode("utf-8")
            except (TypeError, IndexError, UnicodeDecodeError):
                raise ValueError(f"unexpected CLUSTER SLOTS entry {entry!r:.100}") from None
            if host in ("", "?"):
                host = default_host
            ranges.append((start, end, Endpoint(host, port)))
        return cls(ranges)

    def owner(self, slot: int) -> Endpoint | None:
        index = bisect.bisect_right(self._starts, slot) - 1
        if index >= 0 and slot <= self._ends[index]:
            return self._owners[index]
        return None

    def owner_of(self, name: bytes | str) -> Endpoint | None:
        """The master of the slot of a channel name."""
        return self.owner(key_slot(name))

    def masters(self) -> list[Endpoint]:
        """Every master that owns a slot, in slot order, each once."""
        return list(dict.fromkeys(self._owners))

    def ranges_of(self, master: Endpoint) -> str:
        """Its slots, for messages: ``"0-5460"`` or ``"0-99,200-299"``."""
        return ",".join(
            f"{start}-{end}" if end > start else str(start)
            for start, end, owner in self
            if owner == master
        )

    def __iter__(self) -> Iterator[tuple[int, int, Endpoint]]:
        return iter(zip(self._starts, self._ends, self._owners, strict=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlotMap) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        shards = ", ".join(f"{master} {self.ranges_of(master)}" for master in self.masters())
        return f"<SlotMap {shards}>"
