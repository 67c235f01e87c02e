"""Server and client factories: session parameters, protocol options, connections.

These are runtime-neutral; :mod:`wsproto_cb.asyncio` and
:mod:`wsproto_cb.twisted` mix them with their event loop's factory type.
Option names and constructor arguments are Autobahn|Python's (see
:mod:`wsproto_cb.options` for the few deliberate differences in defaults).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from . import __version__
from . import broadcast as _broadcast
from .backplane.base import Backplane, LocalBackplane
from .backplane.io import BackplaneIO
from .broadcast import GroupRegistry
from .contracts import ConnectionWatcher
from .core.codes import CloseCode
from .core.connection import Connection, MessageCodec
from .core.headers import field_pairs, is_token, validate_field_name, validate_field_value
from .core.origin import NULL_ORIGIN, normalize_origin, origin_matches
from .metrics import ServerMetrics
from .options import (
    CLIENT_OPTIONS,
    SERVER_OPTIONS,
    OptionSpec,
    ProtocolOptionAttributes,
    ProtocolOptions,
    origin_patterns,
    validate_options,
)
from .prepared import PreparedMessage
from .protocol import WebSocketProtocol
from .proxy import ProxyConfig, parse_proxy
from .threadsafe import ThreadsafeBroadcast
from .url import parse_url

if TYPE_CHECKING:
    from .contracts import Excluded
    from .server import WebSocketServerProtocol

__all__ = [
    "DEFAULT_SERVER",
    "DEFAULT_USERAGENT",
    "WebSocketClientFactory",
    "WebSocketFactory",
    "WebSocketServerFactory",
]

#: the ``Server`` header a server factory sends unless told otherwise
DEFAULT_SERVER = f"wsproto_cb/{__version__}"
#: the ``User-Agent`` header a client factory sends unless told otherwise
DEFAULT_USERAGENT = f"wsproto_cb/{__version__}"


def _check_protocols(protocols: Sequence[str] | None) -> list[str]:
    if protocols is None:
        return []
    if isinstance(protocols, str):
        raise TypeError("protocols must be a list of subprotocol names, not one string")
    result = list(protocols)
    for name in result:
        if not isinstance(name, str) or not is_token(name):
            raise ValueError(f"invalid subprotocol name {name!r}: must be an HTTP token")
    return result


def _check_headers(headers: Mapping[str, object] | None) -> dict[str, object]:
    """The extra headers as given (Autobahn's ``factory.headers``), refused now
    rather than at each handshake when one could not be sent."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a dict, not {type(headers).__name__}")
    for name, value in field_pairs(headers):
        if not isinstance(name, str):
            raise TypeError(f"header names must be str, not {name!r}")
        validate_field_name(name)
        validate_field_value(value)
    return dict(headers)


class WebSocketFactory(ProtocolOptionAttributes):
    """What server and client factories share: options, connections, prepared messages.

    The protocol options are held in one :class:`~wsproto_cb.options.ProtocolOptions`
    that every connection made afterwards shares; setting an option replaces it.
    """

    _option_specs: ClassVar[dict[str, OptionSpec]] = {}
    isServer: ClassVar[bool] = False
    protocol: Any

    def _new_protocol(self, adapter: type, runtime: str) -> Any:
        """``self.protocol()``, refusing a protocol class made for another runtime.

        (A class from ``wsproto_cb.server`` or from the other runtime's module
        would otherwise fail deep inside the event loop, or never answer.)
        The verdict is kept for the class last checked: a factory's runtime
        does not change, so only a new ``protocol`` is checked again.
        """
        cls = self.protocol
        if cls is not self._protocol_checked:
            wrong_runtime = (
                isinstance(cls, type)
                and issubclass(cls, WebSocketProtocol)
                and not issubclass(cls, adapter)
            )
            if wrong_runtime:
                side = "Server" if self.isServer else "Client"
                message = (
                    f"{type(self).__name__}.protocol is {cls.__module__}.{cls.__qualname__}, "
                    f"which cannot run on {runtime}: subclass {runtime}.WebSocket{side}Protocol"
                )
                # (said here too: asyncio drops a protocol factory's error unless in debug mode)
                logging.getLogger("wsproto_cb").error(message)
                raise TypeError(message)
            self._protocol_checked = cls
        proto = cls()
        proto.factory = self
        return proto

    #: the ``protocol`` that last passed :meth:`_new_protocol`'s check
    _protocol_checked: object = None

    def _init_factory(self) -> None:
        #: connections from TCP accept/connect until they are lost
        self._connections: set[WebSocketProtocol] = set()
        #: connections whose handshake is done
        self._open_connections: set[WebSocketProtocol] = set()
        #: counters for operating the server (:mod:`wsproto_cb.metrics`)
        self.metrics = ServerMetrics()
        self.resetProtocolOptions()

    def resetProtocolOptions(self) -> None:
        """Set every protocol option back to its default."""
        self._options = ProtocolOptions.defaults(self._option_specs)
        self._origin_patterns: list[re.Pattern[str]] = origin_patterns(["*"])

    def setProtocolOptions(self, **options: object) -> None:
        """Set protocol options by their Autobahn names; ``None`` leaves one unchanged.

        Every value is validated before any is set, so a bad call changes nothing.
        """
        checked = validate_options(self._option_specs, options)
        self._options = self._options.replaced(checked)
        if "allowedOrigins" in checked:
            self._origin_patterns = origin_patterns(checked["allowedOrigins"])

    def _set_url(self, url: str | None) -> int | str:
        """The URL's parts as Autobahn's attributes (``ws://localhost`` when none); its
        port (a Unix socket's path for ``ws://unix:/path``)."""
        parsed = parse_url(url or "ws://localhost")
        self.url = url or "ws://localhost"
        self.isSecure = parsed.is_secure
        self.host = parsed.host
        self.port = parsed.port
        self.resource = parsed.resource
        self.path = parsed.path
        self.params = parsed.params
        port: int | str = parsed.port
        return port

    @property
    def countConnections(self) -> int:
        """Connections currently held (including those still in the handshake)."""
        return len(self._connections)

    def getConnectionCount(self) -> int:
        """:attr:`countConnections` (Autobahn's name)."""
        return len(self._connections)

    def _connection_made(self, proto: WebSocketProtocol) -> None:
        self._connections.add(proto)

    def _connection_opened(self, proto: WebSocketProtocol) -> None:
        self._open_connections.add(proto)
        self.metrics.connections_opened += 1

    def _connection_closed(self, proto: WebSocketProtocol) -> None:
        self._connections.discard(proto)
        self._open_connections.discard(proto)
        self.metrics.connection_closed(proto)

    def closeAllConnections(
        self,
        code: int | None = CloseCode.GOING_AWAY,
        reason: str | None = "going away",
        abort: bool = False,
    ) -> list[Any]:
        """Start closing every connection; return their ``is_closed`` futures/Deferreds.

        Open connections get a close frame with ``code`` and ``reason`` and drop
        themselves after ``closeHandshakeTimeout`` if the peer never answers;
        connections still in the opening handshake are dropped.  ``abort=True``
        drops every connection at once, without a closing handshake.  Graceful
        shutdown (:mod:`wsproto_cb.shutdown`) is built on this.
        """
        waits = []
        for proto in list(self._connections):
            waits.append(proto.is_closed)
            if abort:
                proto.wasNotCleanReason = proto.wasNotCleanReason or "aborted at shutdown"
                proto.dropConnection(abort=True)
            elif proto.state == proto.STATE_OPEN:
                proto.sendClose(code, reason)
            elif proto.state == proto.STATE_CONNECTING:
                proto.wasNotCleanReason = "server going away during the opening handshake"
                proto.dropConnection()
            # (a closing connection is bounded by its own timers already)
        return waits

    def _close_backplane(self) -> list[Any]:
        """Shutdown's last step (:mod:`wsproto_cb.shutdown`): a client has no backplane."""
        return []

    def prepareMessage(
        self, payload: bytes, isBinary: bool = False, doNotCompress: bool = False
    ) -> PreparedMessage:
        """Frame a message once, to send it to many connections."""
        return PreparedMessage(payload, isBinary, doNotCompress)

    def _make_connection(
        self,
        is_server: bool,
        codec: MessageCodec | None,
        options: ProtocolOptionAttributes | None = None,
    ) -> Connection:
        """The sans-I/O connection for a finished handshake, set up from the options
        (``options``: the protocol, which holds its copy of them; else this factory)."""
        if options is None:
            options = self
        if is_server:
            masking = {
                "mask_outgoing": options.maskServerFrames,
                "require_incoming_mask": options.requireMaskedClientFrames,
                "accept_incoming_mask": True,
            }
        else:
            masking = {
                "mask_outgoing": options.maskClientFrames,
                "require_incoming_mask": False,
                "accept_incoming_mask": options.acceptMaskedServerFrames,
            }
        return Connection(
            is_server,
            codec=codec,
            max_frame_size=options.maxFramePayloadSize,
            max_message_size=options.maxMessagePayloadSize,
            apply_outgoing_mask=options.applyMask,
            validate_utf8=options.utf8validateIncoming,
            echo_close_code_reason=options.echoCloseCodeReason,
            **masking,
        )


class WebSocketServerFactory(ThreadsafeBroadcast, WebSocketFactory):
    """Runtime-neutral server factory (use the asyncio or Twisted one)."""

    _option_specs = SERVER_OPTIONS
    isServer = True

    #: Close every connection with 1001 when the process is told to stop: on
    #: Twisted from a ``before shutdown`` reactor trigger added when the
    #: factory starts listening, on asyncio from SIGINT/SIGTERM handlers
    #: installed on the first connection (see :mod:`wsproto_cb.shutdown`).
    #: Set it to False to handle shutdown yourself.
    gracefulShutdown: bool = True

    # (protocol options that the broadcast reads; set by resetProtocolOptions)
    maxMessagePayloadSize: int
    broadcastQueueLimit: int
    broadcastOverflow: str

    def __init__(
        self,
        url: str | None = None,
        protocols: Sequence[str] | None = None,
        server: str | None = DEFAULT_SERVER,
        headers: Mapping[str, object] | None = None,
        externalPort: int | None = None,
    ) -> None:
        self._init_factory()
        #: broadcast groups of this factory's open connections
        self._groups = GroupRegistry()
        #: warnings given once per factory (see :meth:`_warn_once`)
        self._warned: set[str] = set()
        self._backplane: Backplane = LocalBackplane()
        self._backplane.attach(self)
        self.setSessionParameters(url, protocols, server, headers, externalPort)

    def setSessionParameters(
        self,
        url: str | None = None,
        protocols: Sequence[str] | None = None,
        server: str | None = None,
        headers: Mapping[str, object] | None = None,
        externalPort: int | None = None,
    ) -> None:
        """Set the URL served, the subprotocols spoken (in order of preference),
        the ``Server`` header and extra response headers."""
        port = self._set_url(url)
        self.protocols = _check_protocols(protocols)
        if server is not None or not hasattr(self, "server"):
            self.server = server
        self.headers = _check_headers(headers)
        self.externalPort = externalPort if externalPort is not None else port

    def _connection_opened(self, proto: WebSocketProtocol) -> None:
        super()._connection_opened(proto)
        if len(self._open_connections) == 1:
            self._backplane.subscribe(None)

    def _connection_closed(self, proto: WebSocketProtocol) -> None:
        was_open = proto in self._open_connections
        super()._connection_closed(proto)
        for name in self._groups.forget(proto):
            self._backplane.unsubscribe(name)
        if was_open and not self._open_connections:
            self._backplane.unsubscribe(None)

    def _join_group(self, proto: WebSocketProtocol, name: str) -> None:
        if self._groups.join(proto, name):
            self._backplane.subscribe(name)

    def _leave_group(self, proto: WebSocketProtocol, name: str) -> None:
        if self._groups.leave(proto, name):
            self._backplane.unsubscribe(name)

    @property
    def broadcastGroups(self) -> GroupRegistry:
        """The groups of this factory's open connections (read it; join and leave
        through the protocols' ``joinGroup`` and ``leaveGroup``)."""
        return self._groups

    def _warn_once(self, key: str, warn: Callable[[], None]) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn()

    def broadcast(
        self,
        payload: bytes,
        isBinary: bool = False,
        group: str | None = None,
        exclude: Excluded = None,
    ) -> int:
        """Send a message to every open connection, or to ``group``'s members, but not to
        ``exclude`` (a protocol or several); how many local connections it was written to.

        The frame is built once; slow connections are skipped or closed, never
        waited for (``broadcastQueueLimit``, ``broadcastOverflow``; see
        :mod:`wsproto_cb.broadcast`).  The backplane (:meth:`setBackplane`)
        then carries the message to the other nodes' members.
        """
        return self._broadcast_everywhere(payload, isBinary, group, exclude)

    def _broadcast_everywhere(
        self, payload: bytes, isBinary: bool, group: str | None, exclude: Excluded
    ) -> int:
        # (``protocol.broadcast`` calls this, not :meth:`broadcast`, which
        # Autobahn programs often redefine on their factory with their own
        # signature.)  The local send checks the payload before it is published.
        sent = self._broadcast_here(payload, isBinary, group, exclude)
        self._backplane.publish(group, payload, isBinary)
        return sent

    def _broadcast_here(
        self, payload: bytes, isBinary: bool, group: str | None, exclude: Excluded = None
    ) -> int:
        recipients = self._open_connections if group is None else self._groups.members(group)
        # (a server factory makes server protocols only: _new_protocol checks)
        servers = cast("Iterable[WebSocketServerProtocol]", recipients)
        return _broadcast.broadcast(self, list(servers), payload, isBinary, exclude)

    # ---------------------------------------------------------------- backplane

    @property
    def backplane(self) -> Backplane:
        """Where broadcasts go beyond this process (default: nowhere, :class:`LocalBackplane`)."""
        return self._backplane

    def setBackplane(self, backplane: Backplane) -> None:
        """Carry broadcasts to other nodes through ``backplane`` (e.g. a ``RedisBackplane``)."""
        if not isinstance(backplane, Backplane):
            raise TypeError(f"expected a Backplane, not {type(backplane).__name__}")
        if backplane is self._backplane:
            return
        old, self._backplane = self._backplane, backplane
        old.detach()
        backplane.attach(self)
        if self._open_connections:
            backplane.subscribe(None)
        for name in self._groups.names():
            backplane.subscribe(name)

    def startBackplane(self) -> None:
        """Connect the backplane now, so that a wrong URL or a Redis that is
        down is logged when the server starts listening, not at the first
        WebSocket connection.  The CLI and twistd call it once listening;
        an asyncio script calls it after ``loop.create_server`` (Twisted
        factories do it in ``startFactory``)."""
        self._backplane.start()

    def _backplane_io(self) -> BackplaneIO | None:
        """The runtime's I/O for the backplane; the asyncio and Twisted factories provide it."""
        return None

    def _close_backplane(self) -> list[Any]:
        """Close the backplane, last: what the connections' ``onClose`` broadcast
        (a "left" message, say) is still written out.  The links still closing."""
        self._backplane.close()
        io = self._backplane_io()
        return io.closing() if io is not None else []

    def _backplane_deliver(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        """Another node's broadcast: to this node's members (the sender is not here)."""
        self._broadcast_here(payload, isBinary, group)

    def onBackplaneLost(self, reason: str) -> None:
        """The backplane cannot reach its peers; local broadcasts go on.  Override to react."""
        self._backplane_log("warning", f"backplane lost ({reason}); broadcasting locally only")

    def onBackplaneRestored(self) -> None:
        """The backplane is up again after :meth:`onBackplaneLost`."""
        self._backplane_log("info", "backplane restored")

    def onBackplaneShardLost(self, shard: str, groups: list[str | None], reason: str) -> None:
        """A Redis Cluster master (``host:port``) is unreachable: broadcasts to
        ``groups`` (this node's groups on it; ``None`` is every connection) stay
        local, the other groups go on.  By default, :meth:`onBackplaneLost`."""
        shown = ", ".join("every connection" if g is None else repr(g) for g in groups)
        self.onBackplaneLost(f"shard {shard}, groups: {shown or 'none yet'}; {reason}")

    def onBackplaneShardRestored(self, shard: str, groups: list[str | None]) -> None:
        """The master of :meth:`onBackplaneShardLost` is back, with ``groups``
        subscribed again.  By default, :meth:`onBackplaneRestored`."""
        self.onBackplaneRestored()

    def onBackplaneGap(self, group: str | None, node: str, missed: int) -> None:
        """``missed`` messages from publisher ``node`` to ``group`` never arrived."""
        where = "every connection" if group is None else f"group {group!r}"
        self._backplane_log(
            "warning", f"backplane: {missed} message(s) from node {node} to {where} were lost"
        )

    def _backplane_log(self, level: str, message: str) -> None:
        io = self._backplane_io()
        if io is not None:
            io.log(level, message)
        else:
            getattr(logging.getLogger("wsproto_cb.backplane"), level)(message)

    def _origin_allowed(self, origin: str | None) -> bool:
        """Whether a browser from ``origin`` may connect (:mod:`wsproto_cb.core.origin`)."""
        if origin is None:
            return True  # non-browser clients send no Origin
        try:
            normal = normalize_origin(origin)
        except ValueError:
            return False
        if normal == NULL_ORIGIN:
            allow: bool | None = self.allowNullOrigin
            if allow is None:  # not chosen: only while every origin is allowed
                return list(self.allowedOrigins) == ["*"]
            return allow
        return origin_matches(normal, self._origin_patterns)


class WebSocketClientFactory(WebSocketFactory):
    """Runtime-neutral client factory (use the asyncio or Twisted one)."""

    _option_specs = CLIENT_OPTIONS

    def __init__(
        self,
        url: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] | None = None,
        useragent: str | None = DEFAULT_USERAGENT,
        headers: Mapping[str, object] | None = None,
        proxy: Mapping[str, Any] | str | ProxyConfig | None = None,
    ) -> None:
        self._init_factory()
        self.proxy: ProxyConfig | None = None
        self.setSessionParameters(url, origin, protocols, useragent, headers, proxy)

    #: a :class:`~wsproto_cb.reconnect.Reconnector` told of each connection's open and close
    _connection_watcher: ConnectionWatcher | None = None

    def _connection_opened(self, proto: WebSocketProtocol) -> None:
        super()._connection_opened(proto)
        if self._connection_watcher is not None:
            self._connection_watcher.connection_opened(proto)

    def _connection_closed(self, proto: WebSocketProtocol) -> None:
        super()._connection_closed(proto)
        if self._connection_watcher is not None:
            self._connection_watcher.connection_closed(proto)

    def setSessionParameters(
        self,
        url: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] | None = None,
        useragent: str | None = None,
        headers: Mapping[str, object] | None = None,
        proxy: Mapping[str, Any] | str | ProxyConfig | None = None,
    ) -> None:
        """Set the URL to connect to, the Origin, the subprotocols offered,
        the ``User-Agent``, extra request headers and the HTTP proxy to
        tunnel through (see :func:`wsproto_cb.proxy.parse_proxy`; ``None``
        keeps the one set before)."""
        self._set_url(url)
        self.origin = origin
        self.protocols = _check_protocols(protocols)
        if useragent is not None or not hasattr(self, "useragent"):
            self.useragent = useragent
        self.headers = _check_headers(headers)
        if proxy is not None:
            self.proxy = parse_proxy(proxy)


if TYPE_CHECKING:  # the factories keep the contracts of :mod:`wsproto_cb.contracts`
    from .backplane.base import BackplaneListener
    from .contracts import ConnectionOwner, ServerConnectionOwner, WatchedClientFactory
    from .shutdown import ShutdownTarget

    _server_owner: type[ServerConnectionOwner] = WebSocketServerFactory
    _client_owner: type[ConnectionOwner] = WebSocketClientFactory
    _watched: type[WatchedClientFactory] = WebSocketClientFactory
    _listener: type[BackplaneListener] = WebSocketServerFactory
    _server_shutdown: type[ShutdownTarget] = WebSocketServerFactory
    _client_shutdown: type[ShutdownTarget] = WebSocketClientFactory
