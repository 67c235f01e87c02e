"""Events that :class:`~wsproto_cb.core.connection.Connection` reports.

Events are immutable values.  They are ``NamedTuple`` s rather than frozen
dataclasses because one is built per received frame and tuple construction
is several times cheaper on that hot path.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CloseReceived", "ConnectionFailed", "Event", "MessageData", "Ping", "Pong"]


class MessageData(NamedTuple):
    """A piece of a data message, delivered as soon as it arrives.

    A small message comes as one event with every flag set.  A large frame
    arriving over several reads comes as several events: the first has
    ``frame_start``, the last ``frame_end``; the last event of the message
    has ``message_end``.  ``data`` is already unmasked, decompressed and (for
    text) validated as UTF-8 so far.  ``frame_length`` is the frame's payload
    length on the wire (compressed, if the message is).
    """

    data: bytes
    is_binary: bool
    message_start: bool
    message_end: bool
    frame_start: bool
    frame_end: bool
    frame_length: int


class Ping(NamedTuple):
    payload: bytes


class Pong(NamedTuple):
    payload: bytes


class CloseReceived(NamedTuple):
    """The peer's close frame.  ``code`` is 1005 when the frame had no payload."""

    code: int
    reason: str


class ConnectionFailed(NamedTuple):
    """The peer broke the protocol or a limit; nothing more will be parsed.

    The application answers with :meth:`Connection.fail` (a close frame with
    ``code``) or by dropping the TCP connection.
    """

    code: int
    reason: str


Event = MessageData | Ping | Pong | CloseReceived | ConnectionFailed
