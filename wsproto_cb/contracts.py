"""What a protocol and the factory that made it ask of each other, written down.

A protocol calls its factory at a few fixed points (connection made, opened,
closed; a finished handshake wants its sans-I/O connection; a server checks
an Origin, broadcasts, joins and leaves groups).  These hooks keep leading
underscores because user subclasses own the public names of both classes
(Autobahn programs add their own ``clients``, ``register`` ...); the typing
Protocols here are where the hooks are listed, and mypy checks both sides
against them (``factories.py`` asserts that its classes satisfy them).

``protocol.factory`` itself stays ``Any`` for users, as in Autobahn: their
factories carry their own attributes.  The callback layer reads it through
these types at each hook.

Modules beside the protocols reach the factory the same way, through the
types here: the metrics read its connections (:class:`ConnectionOwner`), a
reconnecting client watches it (:class:`WatchedClientFactory`), the
thread-safe broadcast hands its call to the event loop
(:class:`LoopBroadcaster`), and Twisted Web's ``WebSocketResource`` gives
a server protocol the request it validated (:class:`ValidatedRequestReceiver`).

The backplane's side of its contract with the factory is
:class:`wsproto_cb.backplane.base.BackplaneListener` (the backplane package
stays below the callback layer and imports nothing from it), and graceful
shutdown's is :class:`wsproto_cb.shutdown.ShutdownTarget`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from .core.connection import Connection, MessageCodec
    from .core.http import HandshakeRequest
    from .metrics import ServerMetrics
    from .options import ProtocolOptionAttributes
    from .protocol import WebSocketProtocol
    from .server import WebSocketServerProtocol

    #: who a broadcast skips: a protocol, several, or nobody
    Excluded: TypeAlias = WebSocketProtocol | Iterable[WebSocketProtocol] | None

__all__ = [
    "ConnectionOwner",
    "ConnectionWatcher",
    "LoopBroadcaster",
    "ServerConnectionOwner",
    "ValidatedRequestReceiver",
    "WatchedClientFactory",
]


class ConnectionOwner(Protocol):
    """The factory, as every protocol (server or client) uses it."""

    @property
    def metrics(self) -> ServerMetrics:
        """Where a connection counts its opens, closes and failures."""
        ...

    @property
    def _connections(self) -> Set[WebSocketProtocol]:
        """Connections from TCP accept/connect until they are lost (the metrics count them)."""
        ...

    @property
    def _open_connections(self) -> Set[WebSocketProtocol]:
        """Connections whose opening handshake is done."""
        ...

    def _connection_made(self, proto: WebSocketProtocol) -> None:
        """TCP (or TLS) is up: the factory holds the connection until it is lost."""

    def _connection_opened(self, proto: WebSocketProtocol) -> None:
        """The opening handshake is done (``onOpen`` comes next)."""

    def _connection_closed(self, proto: WebSocketProtocol) -> None:
        """The connection is lost; the factory forgets it (and its groups)."""

    def _make_connection(
        self,
        is_server: bool,
        codec: MessageCodec | None,
        options: ProtocolOptionAttributes | None = None,
    ) -> Connection:
        """The sans-I/O connection for a finished handshake, set up from ``options``."""


class ServerConnectionOwner(ConnectionOwner, Protocol):
    """The factory, as a server protocol uses it besides."""

    def _origin_allowed(self, origin: str | None) -> bool:
        """Whether a browser from ``origin`` may connect."""

    def _broadcast_everywhere(
        self, payload: bytes, isBinary: bool, group: str | None, exclude: Excluded
    ) -> int:
        """Broadcast locally and through the backplane; how many local connections got it."""

    def _join_group(self, proto: WebSocketServerProtocol, name: str) -> None:
        """``proto`` receives the broadcasts to group ``name`` from now on."""

    def _leave_group(self, proto: WebSocketServerProtocol, name: str) -> None:
        """``proto`` no longer receives group ``name``'s broadcasts."""

    def _warn_once(self, key: str, warn: Callable[[], None]) -> None:
        """Call ``warn()`` the first time ``key`` is seen by this factory."""


class ConnectionWatcher(Protocol):
    """Told of each connection of a client factory (a reconnecting client is one)."""

    def connection_opened(self, proto: WebSocketProtocol) -> None:
        """The handshake of ``proto`` succeeded (a reconnector resets its backoff once it lasts)."""
        ...

    def connection_closed(self, proto: WebSocketProtocol) -> None:
        """``proto`` is gone (a reconnecting client schedules the next attempt)."""
        ...

    def attempt_failed(self, error: BaseException) -> None:
        """An attempt failed before the handshake (a reconnector retries after its next delay)."""
        ...


class WatchedClientFactory(Protocol):
    """A client factory, as a :class:`~wsproto_cb.reconnect.Reconnector` drives it."""

    #: told of each connection's open and close (at most one watcher per factory)
    _connection_watcher: ConnectionWatcher | None


class LoopBroadcaster(Protocol):
    """A runtime's server factory, as ``broadcastThreadsafe`` uses it."""

    def _call_from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback(*args)`` on the event loop's thread (callable from any thread)."""

    def _broadcast_everywhere(
        self, payload: bytes, isBinary: bool, group: str | None, exclude: Excluded
    ) -> int:
        """As :meth:`ServerConnectionOwner._broadcast_everywhere`."""


class ValidatedRequestReceiver(Protocol):
    """A server protocol, as an HTTP server that parsed the upgrade request hands it over."""

    def _receive_validated_request(self, request: HandshakeRequest) -> None:
        """Go on from ``request``, which passed
        :func:`~wsproto_cb.core.handshake_server.validate_request` already:
        ``onConnect``, then the response."""
