"""The one exception hierarchy of the sans-I/O core.

Every failure the core detects is one of these; garbage input never raises
anything else.  A :class:`ProtocolError` carries the close code the endpoint
must send; a :class:`HandshakeError` carries the HTTP status to answer with.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus


class WebSocketError(Exception):
    """Base class of every error raised by :mod:`wsproto_cb`."""


class ProtocolError(WebSocketError):
    """The peer broke RFC 6455/7692 (or a local limit): fail the connection.

    ``code`` is the close code to send (1002 protocol error, 1007 invalid
    payload data, 1009 message too big, ...).
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


class HandshakeError(WebSocketError):
    """The opening handshake failed.

    On a server, ``status``/``reason`` is the HTTP error response to send
    (with ``headers``); on a client it describes what was wrong with the
    server's response (``status`` is then the status the server sent, or 0
    when the response could not be parsed).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(f"{status} {reason}" if status else reason)
        self.status = status
        self.reason = reason
        self.headers: list[tuple[str, str]] = list(headers)


def status_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status (``"Error"`` for one without)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class InvalidStateError(WebSocketError):
    """A local call that the connection's state does not allow (e.g. send after close)."""
