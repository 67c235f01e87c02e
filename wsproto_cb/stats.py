"""Per-connection traffic counters and timings, as Autobahn's ``trafficStats`` and
``trackedTimings``.

Counting must cost next to nothing on the hot path (Autobahn counts always,
and so do we).  Incoming wire octets are added once per read; outgoing wire
octets are the runtime's running total (one addition per write); a whole
message in one plain frame costs two additions on the protocol
(:class:`PlainCounters`), and only other frames (fragments, compressed,
streamed, prepared) are counted field by field.  The Autobahn fields are
computed from these when read.  "WebSocket level" octets are frame
payloads as on the wire (compressed, with permessage-deflate); "app level"
octets are message payloads as the application sees them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pprint import pformat
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .core.frames import FrameParts

__all__ = ["PlainCounters", "Timings", "TrafficStats", "count_frames"]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


class PlainCounters:
    """What the hot path counts itself: whole messages that went as one plain
    (uncompressed, unfragmented) frame, and their payload octets.

    Two additions per message on attributes of the protocol (mixed in); every
    other send or receive is counted field by field in :class:`TrafficStats`.
    """

    # (zero when a connection is made: slots of WebSocketProtocol)
    _rx_plain_messages: int
    _rx_plain_octets: int
    _tx_plain_messages: int
    _tx_plain_octets: int


class _Writer(Protocol):
    octets_written: int


class TrafficStats:
    """Octets, frames and messages of one connection (Autobahn's field names).

    The fields read like plain attributes; they add the hot path's
    :class:`PlainCounters` to what is counted here, since :meth:`reset`.
    """

    __slots__ = (
        "_base",
        "_opened_at_write",
        "_out_base",
        "_plain",
        "_preopen_out",
        "_writer",
        "in_app",
        "in_frames",
        "in_messages",
        "in_ws",
        "incomingOctetsWireLevel",
        "out_app",
        "out_frames",
        "out_messages",
        "out_ws",
        "preopenIncomingOctetsWireLevel",
    )

    def __init__(self, plain: PlainCounters, writer: _Writer) -> None:
        """``writer`` counts the octets written in its ``octets_written`` (the runtime)."""
        self._plain = plain
        self._writer = writer
        self._opened_at_write: int | None = None
        self.reset()

    def _octets_written(self) -> int:
        return self._writer.octets_written

    def reset(self) -> None:
        """Start counting again from zero."""
        plain = self._plain
        self._base = (
            plain._rx_plain_messages,
            plain._rx_plain_octets,
            plain._tx_plain_messages,
            plain._tx_plain_octets,
        )
        self._out_base = self._octets_written()
        self._preopen_out = 0
        # counted here: everything but plain whole messages
        self.in_messages = self.in_frames = self.in_app = self.in_ws = 0
        self.out_messages = self.out_frames = self.out_app = self.out_ws = 0
        self.incomingOctetsWireLevel = 0
        self.preopenIncomingOctetsWireLevel = 0

    def count_open(self) -> None:
        """The handshake is done: later octets written are the connection's."""
        written = self._octets_written()
        self._preopen_out = written - self._out_base
        self._out_base = self._opened_at_write = written

    def count_received(
        self, data_length: int, frame_start: bool, frame_length: int, end: bool
    ) -> None:
        """Count received data that is not a plain whole message (see :class:`PlainCounters`)."""
        self.in_app += data_length
        if frame_start:
            self.in_frames += 1
            self.in_ws += frame_length
        if end:
            self.in_messages += 1

    def count_sent_frames(self, data: bytes) -> None:
        """Count the frames (whole, as built to be sent) in ``data``."""
        frames, octets = count_frames(data)
        self.out_frames += frames
        self.out_ws += octets

    def count_sent_parts(self, frames: Sequence[FrameParts]) -> None:
        """Count frames sent as parts (a header, then its payload pieces)."""
        self.out_frames += len(frames)
        self.out_ws += sum(len(piece) for frame in frames for piece in frame[1:])

    def totals(self) -> tuple[int, int, int, int, int, int]:
        """What :mod:`wsproto_cb.metrics` adds up when the connection closes,
        in one call: messages in and out, app-level octets in and out, wire
        octets in and out (the properties of those names, read together)."""
        plain = self._plain
        rx_messages, rx_octets, tx_messages, tx_octets = self._base
        return (
            self.in_messages + plain._rx_plain_messages - rx_messages,
            self.out_messages + plain._tx_plain_messages - tx_messages,
            self.in_app + plain._rx_plain_octets - rx_octets,
            self.out_app + plain._tx_plain_octets - tx_octets,
            self.incomingOctetsWireLevel,
            self.outgoingOctetsWireLevel,
        )

    # incoming
    @property
    def incomingWebSocketMessages(self) -> int:
        """Data messages received."""
        return self.in_messages + self._plain._rx_plain_messages - self._base[0]

    @property
    def incomingWebSocketFrames(self) -> int:
        """Data frames received."""
        return self.in_frames + self._plain._rx_plain_messages - self._base[0]

    @property
    def incomingOctetsAppLevel(self) -> int:
        """Message payload octets received, after decompression."""
        return self.in_app + self._plain._rx_plain_octets - self._base[1]

    @property
    def incomingOctetsWebSocketLevel(self) -> int:
        """Frame payload octets received, as on the wire (compressed)."""
        return self.in_ws + self._plain._rx_plain_octets - self._base[1]

    # outgoing
    @property
    def outgoingWebSocketMessages(self) -> int:
        """Data messages sent."""
        return self.out_messages + self._plain._tx_plain_messages - self._base[2]

    @property
    def outgoingWebSocketFrames(self) -> int:
        """Data frames sent."""
        return self.out_frames + self._plain._tx_plain_messages - self._base[2]

    @property
    def outgoingOctetsAppLevel(self) -> int:
        """Message payload octets sent, before compression."""
        return self.out_app + self._plain._tx_plain_octets - self._base[3]

    @property
    def outgoingOctetsWebSocketLevel(self) -> int:
        """Frame payload octets sent, as on the wire (compressed)."""
        return self.out_ws + self._plain._tx_plain_octets - self._base[3]

    @property
    def outgoingOctetsWireLevel(self) -> int:
        """Octets written since the handshake (frames with headers, control frames too)."""
        if self._opened_at_write is None:
            return 0
        return self._octets_written() - self._out_base

    @property
    def preopenOutgoingOctetsWireLevel(self) -> int:
        """Octets written before the connection opened (the handshake)."""
        if self._opened_at_write is None:
            return self._octets_written() - self._out_base
        return self._preopen_out

    def __json__(self) -> dict[str, float | None]:
        out_wire, in_wire = self.outgoingOctetsWireLevel, self.incomingOctetsWireLevel
        out_ws, in_ws = self.outgoingOctetsWebSocketLevel, self.incomingOctetsWebSocketLevel
        out_app, in_app = self.outgoingOctetsAppLevel, self.incomingOctetsAppLevel
        return {
            "outgoingOctetsWireLevel": out_wire,
            "outgoingOctetsWebSocketLevel": out_ws,
            "outgoingOctetsAppLevel": out_app,
            "outgoingCompressionRatio": _ratio(out_ws, out_app),
            "outgoingWebSocketOverhead": _ratio(out_wire - out_ws, out_ws),
            "outgoingWebSocketFrames": self.outgoingWebSocketFrames,
            "outgoingWebSocketMessages": self.outgoingWebSocketMessages,
            "preopenOutgoingOctetsWireLevel": self.preopenOutgoingOctetsWireLevel,
            "incomingOctetsWireLevel": in_wire,
            "incomingOctetsWebSocketLevel": in_ws,
            "incomingOctetsAppLevel": in_app,
            "incomingCompressionRatio": _ratio(in_ws, in_app),
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
        """Record the time now under ``key``."""
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
