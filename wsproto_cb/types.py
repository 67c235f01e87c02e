"""Small value classes of the public API, named and shaped as in Autobahn|Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pprint import pformat
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from .core.codec import MessageCodec

#: an offered extension as Autobahn gives it: ``(name, {param: [value, ...]})``
#: (True for a parameter without a value)
ExtensionOffer: TypeAlias = tuple[str, dict[str, list[str | bool]]]

__all__ = [
    "ConnectingRequest",
    "ConnectionAccept",
    "ConnectionDeny",
    "ConnectionRequest",
    "ConnectionResponse",
    "TransportDetails",
]


class TransportDetails:
    """What the client knows about its transport before the handshake.

    Given to ``onConnecting``; ``peer`` is e.g. ``"tcp4:127.0.0.1:9000"``.
    """

    __slots__ = ("is_secure", "peer")

    def __init__(self, peer: str, is_secure: bool) -> None:
        self.peer = peer
        self.is_secure = is_secure

    def __repr__(self) -> str:
        return f"TransportDetails(peer={self.peer!r}, is_secure={self.is_secure!r})"


class ConnectionRequest:
    """The client's opening handshake, as the server's ``onConnect`` sees it.

    ``headers`` maps lower-case header names to values (duplicates joined
    with ``", "``); ``params`` maps query keys to lists of values.  As in
    Autobahn, ``origin`` is ``""`` when the client sent none, and
    ``extensions`` lists the offers as ``(name, {param: [value, ...]})``
    (``True`` for a parameter without a value).
    """

    __slots__ = (
        "extensions",
        "headers",
        "host",
        "origin",
        "params",
        "path",
        "peer",
        "protocols",
        "version",
    )

    def __init__(
        self,
        peer: str,
        headers: Mapping[str, str],
        host: str,
        path: str,
        params: Mapping[str, list[str]],
        version: int,
        origin: str | None,
        protocols: Sequence[str],
        extensions: Sequence[ExtensionOffer],
    ) -> None:
        self.peer = peer
        self.headers = dict(headers)
        self.host = host
        self.path = path
        self.params = dict(params)
        self.version = version
        self.origin = origin
        self.protocols = list(protocols)
        self.extensions = list(extensions)

    def __json__(self) -> dict[str, object]:
        """Every field by name (Autobahn's ``__json__``, which ``str()`` prints)."""
        return {
            "peer": self.peer,
            "headers": self.headers,
            "host": self.host,
            "path": self.path,
            "params": self.params,
            "version": self.version,
            "origin": self.origin,
            "protocols": self.protocols,
            "extensions": self.extensions,
        }

    def __str__(self) -> str:
        return pformat(self.__json__())

    def __repr__(self) -> str:
        return (
            f"ConnectionRequest(peer={self.peer!r}, host={self.host!r}, path={self.path!r}, "
            f"origin={self.origin!r}, protocols={self.protocols!r})"
        )


class ConnectingRequest:
    """What ``onConnecting`` may return to change the client's handshake request."""

    __slots__ = ("headers", "host", "origin", "port", "protocols", "resource", "useragent")

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        resource: str | None = None,
        headers: Mapping[str, str] | None = None,
        useragent: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] | None = None,
    ) -> None:
        self.host = host if host is not None else "localhost"
        self.port = port if port is not None else 80
        self.resource = resource if resource is not None else "/"
        self.headers = dict(headers) if headers is not None else {}
        self.useragent = useragent
        self.origin = origin
        self.protocols = list(protocols) if protocols is not None else []


class ConnectionResponse:
    """The server's opening handshake answer, as the client's ``onConnect`` sees it."""

    __slots__ = ("extensions", "headers", "peer", "protocol", "version")

    def __init__(
        self,
        peer: str,
        headers: Mapping[str, str],
        version: int,
        protocol: str | None,
        extensions: Sequence[MessageCodec],
    ) -> None:
        self.peer = peer
        self.headers = dict(headers)
        self.version = version
        self.protocol = protocol
        self.extensions = list(extensions)

    def __json__(self) -> dict[str, object]:
        """Every field by name (Autobahn's ``__json__``, which ``str()`` prints)."""
        return {
            "peer": self.peer,
            "headers": self.headers,
            "version": self.version,
            "protocol": self.protocol,
            "extensions": self.extensions,
        }

    def __str__(self) -> str:
        return pformat(self.__json__())

    def __repr__(self) -> str:
        return f"ConnectionResponse(peer={self.peer!r}, protocol={self.protocol!r})"


class ConnectionAccept:
    """What ``onConnect`` may return to accept with a subprotocol and extra headers."""

    __slots__ = ("headers", "subprotocol")

    def __init__(
        self, subprotocol: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.subprotocol = subprotocol
        self.headers = headers


class ConnectionDeny(Exception):
    """Raise in ``onConnect`` to refuse the connection with an HTTP status."""

    BAD_REQUEST = 400
    FORBIDDEN = 403
    NOT_FOUND = 404
    NOT_ACCEPTABLE = 406
    REQUEST_TIMEOUT = 408
    INTERNAL_SERVER_ERROR = 500
    NOT_IMPLEMENTED = 501
    SERVICE_UNAVAILABLE = 503

    def __init__(self, code: int, reason: str | None = None) -> None:
        if not isinstance(code, int) or not 400 <= code <= 599:
            raise ValueError(f"ConnectionDeny needs an HTTP error status 400-599, not {code!r}")
        super().__init__(code, reason)
        self.code = code
        self.reason = reason
