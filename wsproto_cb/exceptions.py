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


class Disconnected(WebSocketError, RuntimeError):
    """Sending on a connection that is not open (as ``autobahn.exception.Disconnected``,
    a ``RuntimeError``, so ``except RuntimeError`` written for Autobahn catches it)."""


class PayloadExceededError(WebSocketError, ValueError, RuntimeError):
    """A message to send is larger than ``maxMessagePayloadSize``.

    A ``RuntimeError`` like ``autobahn.exception.PayloadExceededError``, and
    a ``ValueError`` as it always was here.
    """
