"""Any Twisted protocol over WebSocket: ``WrappingWebSocketServerFactory`` and
``WrappingWebSocketClientFactory`` (Autobahn's names and arguments).

``WrappingWebSocketServerFactory(lineEchoFactory, "ws://127.0.0.1:9000")``
serves ``lineEchoFactory``'s protocol to WebSocket clients (a browser too):
its ``transport.write`` sends a message, each message received is its
``dataReceived``, ``loseConnection`` closes the WebSocket with 1000.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import ITransport
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from ..wrapping import WrappingCallbacks, configure_wrapping_factory, spoken_subprotocols
from . import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
)

__all__ = [
    "WrappingWebSocketClientFactory",
    "WrappingWebSocketClientProtocol",
    "WrappingWebSocketServerFactory",
    "WrappingWebSocketServerProtocol",
]


@implementer(ITransport)
class _StreamTransport:
    """The transport the wrapped protocol sees: bytes in and out are WebSocket messages."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self.disconnecting = False

    def write(self, data: bytes) -> None:
        self._ws.write_stream(data)

    def writeSequence(self, data: Any) -> None:
        self._ws.write_stream(b"".join(data))

    def loseConnection(self) -> None:
        if not self.disconnecting:
            self.disconnecting = True
            self._ws.sendClose(1000)

    def abortConnection(self) -> None:
        self.disconnecting = True
        self._ws.dropConnection(abort=True)

    def getPeer(self) -> Any:
        return self._ws.transport.getPeer()

    def getHost(self) -> Any:
        return self._ws.transport.getHost()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self._ws.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        self._ws.unregisterProducer()


class _TwistedWrapping(WrappingCallbacks):
    transport: Any
    _stream: Any = None

    def _wrapped_open(self) -> None:
        stream = self.factory.wrappedFactory.buildProtocol(self.transport.getPeer())
        if stream is None:
            self.sendClose(1011, "the wrapped factory refused the connection")  # type: ignore[attr-defined]
            return
        self._stream = stream
        stream.makeConnection(_StreamTransport(self))

    def _wrapped_data(self, data: bytes) -> None:
        if self._stream is not None:
            self._stream.dataReceived(data)

    def _wrapped_closed(self, clean: bool) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            reason = ConnectionDone() if clean else ConnectionLost()
            stream.connectionLost(Failure(reason))  # type: ignore[no-untyped-call]


class WrappingWebSocketServerProtocol(_TwistedWrapping, WebSocketServerProtocol):
    """Carries one wrapped protocol's byte stream."""


class WrappingWebSocketClientProtocol(_TwistedWrapping, WebSocketClientProtocol):
    """Carries one wrapped protocol's byte stream."""


class _WrappingFactory:
    """What both wrapping factories add to ours: Autobahn's constructor, and
    starting and stopping the wrapped factory with this one."""

    #: the stream protocol's factory (Autobahn's ``factory`` argument)
    wrappedFactory: Any

    def __init__(
        self,
        factory: Any,
        url: str,
        reactor: Any = None,
        enableCompression: bool = True,
        autoFragmentSize: int = 0,
        subprotocol: str | None = None,
    ) -> None:
        super().__init__(url, protocols=spoken_subprotocols(subprotocol), reactor=reactor)  # type: ignore[call-arg]
        configure_wrapping_factory(self, factory, enableCompression, autoFragmentSize)

    def startFactory(self) -> None:
        self.wrappedFactory.doStart()
        super().startFactory()  # type: ignore[misc]

    def stopFactory(self) -> None:
        self.wrappedFactory.doStop()
        super().stopFactory()  # type: ignore[misc]


class WrappingWebSocketServerFactory(_WrappingFactory, WebSocketServerFactory):
    """Serve ``factory``'s stream protocol over WebSocket at ``url``."""

    protocol = WrappingWebSocketServerProtocol


class WrappingWebSocketClientFactory(_WrappingFactory, WebSocketClientFactory):
    """Run ``factory``'s stream protocol over a WebSocket connection to ``url``."""

    protocol = WrappingWebSocketClientProtocol

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        super().clientConnectionFailed(connector, reason)
        handler = getattr(self.wrappedFactory, "clientConnectionFailed", None)
        if handler is not None:
            handler(connector, reason)
