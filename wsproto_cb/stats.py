"""Per-connection traffic counters and timings, as Autobahn's ``trafficStats`` and
``trackedTimings``.

The protocol layer updates :class:`TrafficStats` at a few points: once per
read (incoming wire octets), once per received frame and message, once per
message sent; outgoing wire octets come from the runtime's running total
(:attr:`~wsproto_cb.runtime.Runtime.octets_written`, one addition per
write), so nothing is counted per byte.  "WebSocket level" octets are frame
payloads as on the wire (compressed, with permessage-deflate); "app level"
octets are message payloads as the application sees them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pprint import pformat
from typing import Any

__all__ = ["Timings", "TrafficStats"]

_FIELDS = (
    "outgoingOctetsWebSocketLevel",
    "outgoingOctetsAppLevel",
    "outgoingWebSocketFrames",
    "outgoingWebSocketMessages",
    "incomingOctetsWireLevel",
    "incomingOctetsWebSocketLevel",
    "incomingOctetsAppLevel",
    "incomingWebSocketFrames",
    "incomingWebSocketMessages",
    "preopenIncomingOctetsWireLevel",
)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


class TrafficStats:
    """Octets, frames and messages of one connection (Autobahn's field names)."""

    outgoingOctetsWebSocketLevel: int
    outgoingOctetsAppLevel: int
    outgoingWebSocketFrames: int
    outgoingWebSocketMessages: int
    incomingOctetsWireLevel: int
    incomingOctetsWebSocketLevel: int
    incomingOctetsAppLevel: int
    incomingWebSocketFrames: int
    incomingWebSocketMessages: int
    preopenIncomingOctetsWireLevel: int

    def __init__(self, octets_written: Callable[[], int] | None = None) -> None:
        self._octets_written = octets_written or (lambda: 0)
        self._open_at: int | None = None  # octets written when the handshake finished
        self._out_base = 0
        self._preopen_out = 0
        self.reset()

    def reset(self) -> None:
        """Start counting again from zero."""
        for name in _FIELDS:
            setattr(self, name, 0)
        self._preopen_out = 0
        self._out_base = self._octets_written()

    def _opened(self) -> None:
        written = self._octets_written()
        self._preopen_out = written - self._out_base
        self._out_base = written
        self._open_at = written

    @property
    def outgoingOctetsWireLevel(self) -> int:
        """Octets written since the handshake (frames with headers, control frames too)."""
        if self._open_at is None:
            return 0
        return self._octets_written() - self._out_base

    @property
    def preopenOutgoingOctetsWireLevel(self) -> int:
        """Octets written before the connection opened (the handshake)."""
        if self._open_at is None:
            return self._octets_written() - self._out_base
        return self._preopen_out

    def __json__(self) -> dict[str, Any]:
        out_wire, in_wire = self.outgoingOctetsWireLevel, self.incomingOctetsWireLevel
        out_ws, in_ws = self.outgoingOctetsWebSocketLevel, self.incomingOctetsWebSocketLevel
        return {
            "outgoingOctetsWireLevel": out_wire,
            "outgoingOctetsWebSocketLevel": out_ws,
            "outgoingOctetsAppLevel": self.outgoingOctetsAppLevel,
            "outgoingCompressionRatio": _ratio(out_ws, self.outgoingOctetsAppLevel),
            "outgoingWebSocketOverhead": _ratio(out_wire - out_ws, out_ws),
            "outgoingWebSocketFrames": self.outgoingWebSocketFrames,
            "outgoingWebSocketMessages": self.outgoingWebSocketMessages,
            "preopenOutgoingOctetsWireLevel": self.preopenOutgoingOctetsWireLevel,
            "incomingOctetsWireLevel": in_wire,
            "incomingOctetsWebSocketLevel": in_ws,
            "incomingOctetsAppLevel": self.incomingOctetsAppLevel,
            "incomingCompressionRatio": _ratio(in_ws, self.incomingOctetsAppLevel),
            "incomingWebSocketOverhead": _ratio(in_wire - in_ws, in_ws),
            "incomingWebSocketFrames": self.incomingWebSocketFrames,
            "incomingWebSocketMessages": self.incomingWebSocketMessages,
            "preopenIncomingOctetsWireLevel": self.preopenIncomingOctetsWireLevel,
        }

    def __str__(self) -> str:
        return json.dumps(self.__json__())


class Timings:
    """Seconds since creation at named points (``track``), and differences between them."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._timings: dict[str, float] = {}

    def track(self, key: str) -> None:
        self._timings[key] = time.perf_counter() - self._start

    def diff(self, startKey: str, endKey: str, formatted: bool = True) -> str | float | None:
        """``endKey``'s time minus ``startKey``'s; formatted ("  12 us") unless told not to."""
        if startKey not in self._timings or endKey not in self._timings:
            return "n.a.".rjust(8) if formatted else None
        d = self._timings[endKey] - self._timings[startKey]
        if not formatted:
            return d
        for limit, scale, unit in ((1e-5, 1e9, "ns"), (1e-2, 1e6, "us"), (10, 1e3, "ms")):
            if d < limit:
                return f"{round(d * scale)} {unit}".rjust(8)
        return f"{round(d)} s".rjust(8)

    def __getitem__(self, key: str) -> float | None:
        return self._timings.get(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._timings)

    def __str__(self) -> str:
        return pformat(self._timings)


def count_frames(data: bytes) -> tuple[int, int]:
    """(frames, payload octets) in ``data``, whole frames as the sending side built them."""
    frames = octets = 0
    pos, end = 0, len(data)
    while pos + 2 <= end:
        second = data[pos + 1]
        length = second & 0x7F
        pos += 2
        if length == 126:
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif length == 127:
            length = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        if second & 0x80:
            pos += 4  # masking key
        frames += 1
        octets += length
        pos += length
    return frames, octets
