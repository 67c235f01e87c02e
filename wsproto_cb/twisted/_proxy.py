"""Twisted glue for HTTP CONNECT tunnelling: a factory that asks the proxy for a
tunnel, then hands the connection to the WebSocket factory's protocol.

``connectWS`` uses it for a factory with ``proxy`` set; it still returns the
``IConnector`` of the connection to the proxy, so ``connector.connect()``
(``ReconnectingClientFactory``) reconnects through the proxy.  For
``wss://`` the handed-over protocol is a TLS layer (to the origin, checked
against the origin's host name) around the WebSocket protocol.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import protocol as twisted_protocol
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from ..core.proxy import ProxyConnect, ProxyError

__all__ = ["ProxyTunnelFactory"]


class _TunnelProtocol(twisted_protocol.Protocol):
    """CONNECT until the tunnel is up; afterwards a pass-through to the inner protocol."""

    factory: ProxyTunnelFactory
    transport: Any

    def __init__(self, tunnel: ProxyConnect) -> None:
        self._tunnel = tunnel
        self._inner: Any = None
        self._timer: Any = None
        self.error: ProxyError | None = None

    def connectionMade(self) -> None:
        timeout = self.factory.timeout
        if timeout:
            clock: Any = self.factory.clock
            self._timer = clock.callLater(timeout, self._timed_out, timeout)
        self.transport.write(self._tunnel.request())

    def _timed_out(self, timeout: float) -> None:
        self._timer = None
        self._fail(self._tunnel.timed_out(timeout))

    def _fail(self, error: ProxyError) -> None:
        self.error = error
        self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.dataReceived(data)
            return
        if self.error is not None:
            return
        try:
            up = self._tunnel.receive_data(data)
        except ProxyError as exc:
            self._cancel_timer()
            self._fail(exc)
            return
        if up:
            self._cancel_timer()
            inner = self.factory.inner.buildProtocol(self.transport.getPeer())
            if inner is None:
                self.transport.loseConnection()
                return
            self._inner = inner
            inner.makeConnection(self.transport)
            if self._tunnel.trailing:
                inner.dataReceived(self._tunnel.trailing)

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def connectionLost(self, reason: Failure = twisted_protocol.connectionDone) -> None:
        self._cancel_timer()
        if self._inner is not None:
            self._inner.connectionLost(reason)
        elif self.error is None:
            self.error = self._tunnel.connection_lost()


class ProxyTunnelFactory(twisted_protocol.ClientFactory):
    """Connects to the proxy for ``ws_factory``; ``inner`` builds the protocol run in
    the tunnel (the WebSocket factory, or a TLS factory wrapping it)."""

    def __init__(self, ws_factory: Any, inner: Any, clock: IReactorTime) -> None:
        self.ws_factory = ws_factory
        self.inner = inner
        self.clock = clock
        self.timeout: float = ws_factory.openHandshakeTimeout
        self._proto: _TunnelProtocol | None = None

    def buildProtocol(self, addr: Any) -> _TunnelProtocol:  # type: ignore[override]
        proxy = self.ws_factory.proxy
        proto = _TunnelProtocol(proxy.tunnel(self.ws_factory.host, self.ws_factory.port))
        proto.factory = self
        self._proto = proto
        return proto

    def startedConnecting(self, connector: Any) -> None:
        self._proto = None
        self.ws_factory.startedConnecting(connector)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        proxy = self.ws_factory.proxy
        error = ProxyError(proxy.address, f"cannot connect: {reason.getErrorMessage()}")
        self.ws_factory.clientConnectionFailed(connector, Failure(error))  # type: ignore[no-untyped-call]

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        proto = self._proto
        if proto is not None and proto.error is not None:
            # the tunnel never opened: to the WebSocket factory, a failed connection
            self.ws_factory.clientConnectionFailed(connector, Failure(proto.error))  # type: ignore[no-untyped-call]
        else:
            self.ws_factory.clientConnectionLost(connector, reason)
