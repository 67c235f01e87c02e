"""Exceptions of the public API (the core's hierarchy, plus what the runtime layer adds)."""

from __future__ import annotations

from .core.errors import HandshakeError, InvalidStateError, ProtocolError, WebSocketError

__all__ = [
    "Disconnected",
    "HandshakeError",
    "InvalidStateError",
    "PayloadExceededError",
    "ProtocolError",
    "WebSocketError",
]


class Disconnected(WebSocketError):
    """Sending on a connection that is not open (as ``autobahn.exception.Disconnected``)."""


class PayloadExceededError(WebSocketError, ValueError):
    """A message to send is larger than ``maxMessagePayloadSize``."""
