"""wsproto_cb on Twisted: protocols and factories for ``listenTCP``/``connectTCP``,
endpoints, and the ``listenWS``/``connectWS`` helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet import protocol as twisted_protocol
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IHandshakeListener,
    IPushProducer,
    IReactorTime,
    ISSLTransport,
)
from twisted.logger import Logger
from zope.interface import implementer  # type: ignore[import-untyped]

from .. import client, factories, server
from ..compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from ..proxy import ProxyConfig
from ..types import ConnectionAccept, ConnectionDeny, ConnectionRequest, ConnectionResponse
from . import _shutdown
from ._backplane_io import TwistedBackplaneIO
from ._reconnect import ReconnectingClient
from ._runtime import TwistedRuntime
from ._shutdown import shutdown

__all__ = [
    "ConnectionAccept",
    "ConnectionDeny",
    "ConnectionRequest",
    "ConnectionResponse",
    "PerMessageDeflateOffer",
    "PerMessageDeflateOfferAccept",
    "PerMessageDeflateResponse",
    "PerMessageDeflateResponseAccept",
    "ReconnectingClient",
    "WebSocketAdapterProtocol",
    "WebSocketClientFactory",
    "WebSocketClientProtocol",
    "WebSocketResource",
    "WebSocketServerFactory",
    "WebSocketServerProtocol",
    "connectWS",
    "listenWS",
    "shutdown",
]


#: Added to onClose's reason when the server's certificate was not trusted:
#: verification stays on, and this says how to trust a private CA.
UNTRUSTED_CERTIFICATE_HINT = (
    "; the server's certificate is not trusted by the system's CAs: to trust your own "
    "CA, pass connectWS(factory, contextFactory=optionsForClientTLS(hostname, "
    "trustRoot=Certificate.loadPEM(ca_pem)))"
)


def __getattr__(name: str) -> Any:
    # WebSocketResource pulls in twisted.web: imported on first use only.
    if name == "WebSocketResource":
        from .resource import WebSocketResource

        return WebSocketResource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class _ProtocolLogger(Logger):
    """``twisted.logger.Logger`` plus txaio's ``trace`` (logged as debug)."""

    def trace(self, format: str | None = None, **kwargs: Any) -> None:
        self.debug(format, **kwargs)


@implementer(IPushProducer, IHandshakeListener)
class WebSocketAdapterProtocol(twisted_protocol.Protocol):
    """Twisted transport callbacks, forwarded to the runtime-neutral layer.

    The protocol registers itself with its transport as a streaming producer,
    so the transport's full write buffer pauses message delivery and reading
    (and any producer registered with :meth:`registerProducer`).  Over TLS
    it registers once the TLS handshake is done: until then Twisted's TLS
    layer buffers our writes and pauses its producer, and pausing reading
    in answer would stall the TLS handshake for good.
    """

    factory: Any
    #: txaio's logger on Twisted is a ``twisted.logger.Logger``: ``self.log.info("{x}", x=1)``
    log: Any = _ProtocolLogger()

    def connectionMade(self) -> None:
        clock = getattr(self.factory, "reactor", None) or _default_reactor()  # (any factory)
        if not ISSLTransport.providedBy(self.transport):
            self.transport.registerProducer(self, True)  # type: ignore[union-attr]
        self._connection_made(TwistedRuntime(self.transport, clock))  # type: ignore[attr-defined]

    def handshakeCompleted(self) -> None:
        """The TLS handshake is done (IHandshakeListener)."""
        self.transport.registerProducer(self, True)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self._data_received(data)  # type: ignore[attr-defined]

    def connectionLost(self, reason: Any = twisted_protocol.connectionDone) -> None:
        text = None
        value = getattr(reason, "value", None)
        if value is not None and not isinstance(value, ConnectionDone | ConnectionLost):
            text = str(value)
            if "certificate verify failed" in text:
                text += UNTRUSTED_CERTIFICATE_HINT
        self._connection_lost(text)  # type: ignore[attr-defined]

    # IPushProducer, driven by the transport's write buffer
    def pauseProducing(self) -> None:
        """The transport's buffer is full: stop delivering and pause the registered producer."""
        self._writing_paused()  # type: ignore[attr-defined]

    def resumeProducing(self) -> None:
        """The transport drained: deliver again and resume the registered producer."""
        self._writing_resumed()  # type: ignore[attr-defined]

    def stopProducing(self) -> None:
        """Nothing to do: the connection-lost callback cleans up."""


class WebSocketServerProtocol(WebSocketAdapterProtocol, server.WebSocketServerProtocol):
    """Subclass and override ``onConnect``/``onOpen``/``onMessage``/``onClose``."""

    _tls_hint = (
        "listen with listenWS(factory, contextFactory), reactor.listenSSL() or a TLS endpoint"
    )


class WebSocketClientProtocol(WebSocketAdapterProtocol, client.WebSocketClientProtocol):
    """Subclass and override ``onConnect``/``onOpen``/``onMessage``/``onClose``."""

    _tls_hint = "connect with connectWS(factory), reactor.connectSSL() or a TLS endpoint"


class _TwistedFactoryMixin:
    _new_protocol: Callable[[type, str], Any]  # (from factories.WebSocketFactory)
    _reactor: Any = None

    @property
    def reactor(self) -> Any:
        """The reactor given to the constructor (or set), else the global one.

        Never None, as in Autobahn (``self.factory.reactor.callLater(...)``),
        yet the global reactor is imported only when this is first read, so
        building a factory installs no reactor.
        """
        if self._reactor is not None:
            return self._reactor
        return _default_reactor()

    @reactor.setter
    def reactor(self, value: Any) -> None:
        self._reactor = value

    def buildProtocol(self, addr: Any) -> Any:
        try:
            return self._new_protocol(WebSocketAdapterProtocol, "wsproto_cb.twisted")
        except TypeError:  # (logged; None makes Twisted close the socket, which
            return None  # an exception here would leave open)


class WebSocketServerFactory(
    _TwistedFactoryMixin, factories.WebSocketServerFactory, twisted_protocol.ServerFactory
):
    """A Twisted ``ServerFactory``: ``reactor.listenTCP(port, factory)``, endpoints,
    ``listenWS``."""

    protocol: Any = WebSocketServerProtocol

    def __init__(
        self,
        url: str | None = None,
        protocols: Sequence[str] | None = None,
        server: str | None = factories.DEFAULT_SERVER,
        headers: Mapping[str, Any] | None = None,
        externalPort: int | None = None,
        reactor: IReactorTime | None = None,
    ) -> None:
        self.reactor = reactor
        factories.WebSocketServerFactory.__init__(
            self, url, protocols, server, headers, externalPort
        )

    def _backplane_io(self) -> TwistedBackplaneIO:
        if self._backplane_io_cache is None:
            self._backplane_io_cache = TwistedBackplaneIO(self.reactor)
        return self._backplane_io_cache

    _backplane_io_cache: TwistedBackplaneIO | None = None

    def _call_from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        self.reactor.callFromThread(callback, *args)

    def startFactory(self) -> None:
        """The first port listens: make reactor shutdown close our connections
        (1001), and connect the backplane now (a bad one is logged at once)."""
        trigger = self._shutdown_trigger
        if self.gracefulShutdown and (trigger is None or trigger.done):
            self._shutdown_trigger = _shutdown.ShutdownTrigger(self)
        self.startBackplane()

    #: while listening, the reactor trigger of graceful shutdown
    _shutdown_trigger: _shutdown.ShutdownTrigger | None = None

    def stopFactory(self) -> None:
        trigger, self._shutdown_trigger = self._shutdown_trigger, None
        if trigger is not None:
            trigger.remove()


class WebSocketClientFactory(
    _TwistedFactoryMixin, factories.WebSocketClientFactory, twisted_protocol.ClientFactory
):
    """A Twisted ``ClientFactory``: ``reactor.connectTCP``, endpoints, ``connectWS``."""

    protocol: Any = WebSocketClientProtocol

    def __init__(
        self,
        url: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] | None = None,
        useragent: str | None = factories.DEFAULT_USERAGENT,
        headers: Mapping[str, Any] | None = None,
        proxy: Mapping[str, Any] | str | ProxyConfig | None = None,
        reactor: IReactorTime | None = None,
    ) -> None:
        self.reactor = reactor
        factories.WebSocketClientFactory.__init__(
            self, url, origin, protocols, useragent, headers, proxy
        )

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        """No connection (refused, DNS, proxy): a ``ReconnectingClient`` retries."""
        if self._connection_watcher is not None:
            self._connection_watcher.attempt_failed(reason.value)


def listenWS(
    factory: WebSocketServerFactory,
    contextFactory: Any = None,
    backlog: int = 50,
    interface: str = "",
) -> Any:
    """Listen on the factory's URL port: TLS (``contextFactory`` required) for ``wss://``."""
    reactor: Any = factory.reactor
    if factory.isSecure:
        if contextFactory is None:
            raise ValueError("a wss:// URL needs a TLS context factory (contextFactory)")
        return reactor.listenSSL(
            factory.port, factory, contextFactory, backlog=backlog, interface=interface
        )
    return reactor.listenTCP(factory.port, factory, backlog=backlog, interface=interface)


def connectWS(
    factory: WebSocketClientFactory,
    contextFactory: Any = None,
    timeout: float = 30,
    bindAddress: Any = None,
) -> Any:
    """Connect to the factory's URL; ``wss://`` verifies the server's certificate
    and host name unless another ``contextFactory`` is given.

    With ``factory.proxy`` set, the connection goes to that HTTP proxy, which
    is asked to ``CONNECT`` to the URL's host and port (TLS to the origin
    then runs inside the tunnel); a refusal reaches
    ``factory.clientConnectionFailed`` as a
    :class:`~wsproto_cb.core.proxy.ProxyError`.  Returns the ``IConnector``.
    """
    reactor: Any = factory.reactor
    if factory.isSecure and contextFactory is None:
        from twisted.internet.ssl import optionsForClientTLS

        contextFactory = optionsForClientTLS(factory.host)
    if factory.proxy is not None:
        return _connect_through_proxy(
            reactor, factory, factory.proxy, contextFactory, timeout, bindAddress
        )
    if factory.isSecure:
        return reactor.connectSSL(
            factory.host, factory.port, factory, contextFactory, timeout, bindAddress
        )
    return reactor.connectTCP(factory.host, factory.port, factory, timeout, bindAddress)


def _connect_through_proxy(
    reactor: Any,
    factory: WebSocketClientFactory,
    proxy: ProxyConfig,
    contextFactory: Any,
    timeout: float,
    bindAddress: Any,
) -> Any:
    from ._proxy import ProxyTunnelFactory

    inner: Any = factory
    if factory.isSecure:
        from twisted.protocols.tls import TLSMemoryBIOFactory

        inner = TLSMemoryBIOFactory(contextFactory, True, factory)  # type: ignore[arg-type]
    tunnel = ProxyTunnelFactory(factory, inner, reactor)
    return reactor.connectTCP(proxy.host, proxy.port, tunnel, timeout, bindAddress)


if TYPE_CHECKING:  # broadcastThreadsafe's contract (:mod:`wsproto_cb.contracts`)
    from ..contracts import LoopBroadcaster

    _broadcaster: type[LoopBroadcaster] = WebSocketServerFactory
