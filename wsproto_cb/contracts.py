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

The parts a connection is built from (:mod:`wsproto_cb.keepalive`,
:mod:`wsproto_cb.producers`, :mod:`wsproto_cb.sending`) and
:func:`wsproto_cb.broadcast.broadcast` reach the protocol through the
small Protocols below as well (``KeepAliveOwner``, ``ProducerOwner``,
``SendingHost``, ``BroadcastRecipient``), so that what each reads of it is
written down in one place.

The backplane's side of its contract with the factory is
:class:`wsproto_cb.backplane.base.BackplaneListener` (the backplane package
stays below the callback layer and imports nothing from it), and graceful
shutdown's is :class:`wsproto_cb.shutdown.ShutdownTarget`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias

if TYPE_CHECKING:
    from .core.connection import Connection, MessageCodec
    from .core.http import HandshakeRequest
    from .metrics import ServerMetrics
    from .options import ProtocolOptionAttributes, ProtocolOptions
    from .prepared import PreparedMessage
    from .protocol import WebSocketProtocol
    from .runtime import Runtime
    from .server import WebSocketServerProtocol
    from .stats import TrafficStats

    #: who a broadcast skips: a protocol, several, or nobody
    Excluded: TypeAlias = WebSocketProtocol | Iterable[WebSocketProtocol] | None

__all__ = [
    "BroadcastRecipient",
    "ClosingHost",
    "ConnectionOwner",
    "ConnectionWatcher",
    "KeepAliveOwner",
    "LoopBroadcaster",
    "ProducerOwner",
    "PullProducer",
    "PushProducer",
    "ReceivingHost",
    "SendingHost",
    "ServerConnectionOwner",
    "ThreadsafeHost",
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
    def _options(self) -> ProtocolOptions:
        """The options its protocols start from (a protocol's own settings win)."""
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


class PullProducer(Protocol):
    """A producer asked for data (Twisted's ``IPullProducer``): ``registerProducer(p, False)``."""

    def resumeProducing(self) -> None:
        """Produce some data (a pull producer: one piece, then wait to be asked again)."""

    def stopProducing(self) -> None:
        """Stop for good: the connection is gone."""


class PushProducer(PullProducer, Protocol):
    """A producer that streams until paused (Twisted's ``IPushProducer``)."""

    def pauseProducing(self) -> None:
        """Stop producing until :meth:`resumeProducing` (the write buffer is full)."""


class _Connected(Protocol):
    """What every part of a connection reads: its state, runtime and sans-I/O connection."""

    STATE_OPEN: int

    #: ``STATE_CONNECTING`` ... ``STATE_CLOSED`` (Autobahn's numbers)
    state: int

    #: the runtime of the connection (its transport and loop)
    _rt: Runtime

    #: the sans-I/O connection once open, None before
    _conn: Connection | None


class KeepAliveOwner(_Connected, Protocol):
    """The protocol, as its :class:`~wsproto_cb.keepalive.KeepAlive` uses it."""

    #: seconds of silence before a ping
    autoPingInterval: float

    #: seconds a ping may go unanswered
    autoPingTimeout: float

    #: random payload bytes per ping
    autoPingSize: int

    #: whether any received bytes answer a ping too
    autoPingRestartOnAnyTraffic: bool

    def _keepalive_failed(self) -> None:
        """No answer in time: drop the connection."""


class ProducerOwner(_Connected, Protocol):
    """The protocol, as its :class:`~wsproto_cb.producers.ProducerLink` uses it."""


class SendingHost(_Connected, Protocol):
    """The protocol, as :class:`~wsproto_cb.sending.MessageSending` (mixed into it) uses it."""

    trafficStats: TrafficStats
    #: whole messages sent as one plain frame, and their octets (stats.PlainCounters)
    _tx_plain_messages: int
    _tx_plain_octets: int

    #: the negotiated extensions (a compressing connection has one)
    websocket_extensions_in_use: list[MessageCodec]

    #: the largest message sent or received (0: no limit)
    maxMessagePayloadSize: int

    #: fragment sent messages into frames of this size (0: one frame)
    autoFragmentSize: int

    def _writes_held(self) -> bool:
        """Whether the transport's write buffer is full now (a new producer starts paused)."""
        ...


class ClosingHost(_Connected, Protocol):
    """The protocol, as :class:`~wsproto_cb.closing.ClosingHandshake` (mixed into it) uses it."""

    STATE_CLOSED: int
    STATE_CONNECTING: int
    STATE_CLOSING: int
    is_server: ClassVar[bool]
    #: whether this side sent the first close frame (:mod:`wsproto_cb.compat`)
    closedByMe: bool
    #: the options a close reads
    failByDrop: bool
    openHandshakeTimeout: float
    closeHandshakeTimeout: float
    serverConnectionDropTimeout: float
    #: the factory (``ConnectionOwner``; Any for users, as in Autobahn)
    factory: Any

    #: whether the closing handshake completed (set when the transport is lost)
    wasClean: bool

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> Any:
        """The application's handler of the end of the connection."""

    def _stop_keepalive(self) -> None:
        """Stop the auto-ping (with the deadlines: the connection is closing)."""

    def _invoke(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        on_result: Callable[[object], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        pause: bool = True,
    ) -> bool:
        """Call a callback (``on_error`` gets its exception; ``pause=False``: no backpressure)."""
        ...


class ReceivingHost(Protocol):
    """The protocol, as :class:`~wsproto_cb.receiving.StreamingReceive` (mixed into it) uses it."""

    #: the observers of ``on()`` (None: there are none)
    _listeners: dict[str, list[Callable[..., object]]] | None

    def onMessage(self, payload: bytes, isBinary: bool) -> Any:
        """The application's handler of a whole message."""

    def fire(self, event: str, *args: object, **kwargs: object) -> None:
        """Call the observers of ``event``."""

    def _invoke(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        on_result: Callable[[object], None] | None = None,
    ) -> bool:
        """Call a callback, waiting for its awaitable (then ``on_result``)."""
        ...


class ThreadsafeHost(_Connected, Protocol):
    """The protocol, as :class:`~wsproto_cb.threadsafe.ThreadsafeSending` (a base) uses it."""

    def sendMessage(self, payload: bytes, isBinary: bool = False) -> None:
        """Send a whole message (on the loop's thread)."""

    def sendClose(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the closing handshake (on the loop's thread)."""


class BroadcastRecipient(Protocol):
    """A server protocol, as :func:`wsproto_cb.broadcast.broadcast` uses it."""

    STATE_OPEN: int
    #: broadcasts this connection could not take (``onBroadcastDropped`` gets it)
    broadcastDropped: int

    #: only open connections get broadcasts
    state: int

    def _write_broadcast(self, prepared: PreparedMessage, queue_limit: int) -> str | None:
        """Write the message, or say why not: ``"streaming"``, ``"queue_full"`` (None: sent)."""

    def _report_error(self, message: str, exc: BaseException) -> None:
        """Log an application error on this connection (it stays open)."""

    def onBroadcastDropped(self, count: int) -> None:
        """The application's hook for a skipped broadcast (``count``: the new total)."""

    def sendClose(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the closing handshake (an overflow policy may close)."""
