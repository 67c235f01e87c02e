"""WebSocket on a path of a Twisted Web ``Site``, next to ordinary resources.

::

    root = Resource()
    root.putChild(b"", File("index.html"))
    root.putChild(b"ws", WebSocketResource(factory))
    reactor.listenTCP(8080, Site(root))

Twisted Web has already read and parsed the request by the time
:meth:`WebSocketResource.render` runs.  The resource checks it with the
core's :func:`~wsproto_cb.core.handshake_server.validate_request` (the same
rules as for a ``listenTCP`` server, kept in one place), answers a request
that is not a valid upgrade with an ordinary Twisted Web error response
(426 for a plain ``GET``), and otherwise takes the connection over (the
protocol does not check the request again): the
transport is moved from the HTTP channel to a protocol built by the factory,
which receives the parsed request as it is (nothing is re-serialised and
parsed again; wsproto's ``initiate_upgrade_connection`` is the model) and
runs ``onConnect``, the response, ``onOpen`` ... exactly as a ``listenTCP``
server does.  Origin checks, ``maxConnections``, subprotocols and
permessage-deflate all come from the factory's options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IHandshakeListener, ISSLTransport
from twisted.protocols.policies import ProtocolWrapper
from twisted.web.http import HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from ..core.errors import HandshakeError, status_phrase
from ..core.handshake_server import validate_request
from ..core.headers import Headers
from ..core.http import HandshakeRequest

if TYPE_CHECKING:
    from ..contracts import ValidatedRequestReceiver

__all__ = ["WebSocketResource"]


def handshake_request(request: Any) -> HandshakeRequest:
    """The core's view of a Twisted Web request (method, target, version, headers)."""
    headers = Headers(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in request.requestHeaders.getAllRawHeaders()
        for value in values
    )
    return HandshakeRequest(
        method=request.method.decode("latin-1"),
        target=request.uri.decode("latin-1"),
        http_version=(request.clientproto or b"HTTP/1.0").decode("latin-1"),
        headers=headers,
    )


class WebSocketResource(Resource):
    """A Twisted Web resource that accepts WebSocket connections for ``factory``.

    ``factory`` is a :class:`wsproto_cb.twisted.WebSocketServerFactory`; it
    is never listened on itself.  The resource is a leaf: ``/ws/anything``
    reaches it too, and the protocol sees the full path in
    ``http_request_path``.
    """

    isLeaf = True

    def __init__(self, factory: Any) -> None:
        from . import WebSocketServerFactory

        if not isinstance(factory, WebSocketServerFactory):
            raise TypeError(
                "WebSocketResource needs a wsproto_cb.twisted.WebSocketServerFactory, "
                f"not {type(factory).__module__}.{type(factory).__qualname__}"
            )
        super().__init__()  # type: ignore[no-untyped-call]
        self._factory: Any = factory
        # No port will start the factory: start it here, as listenTCP would,
        # so that what its startFactory sets up (the graceful-shutdown
        # trigger) applies to connections made through the resource too.
        self._factory.doStart()  # type: ignore[no-untyped-call]

    def render(self, request: Any) -> bytes | int:
        channel = request.channel
        if not isinstance(channel, HTTPChannel) or channel.transport is None:
            # HTTP/2 (RFC 8441 WebSocket over h2 is not supported) or gone
            return _error(request, HandshakeError(400, "WebSocket needs an HTTP/1.1 connection"))
        parsed = handshake_request(request)
        try:
            validate_request(parsed)
        except HandshakeError as exc:
            return _error(request, exc)
        protocol: Any = self._factory.buildProtocol(request.getClientAddress())
        if protocol is None:
            return _error(request, HandshakeError(503, "connection refused by the factory"))
        _take_over(channel, protocol)
        receiver: ValidatedRequestReceiver = protocol
        receiver._receive_validated_request(parsed)  # (validated once: above)
        # Frames the client sent right after its request, which the channel
        # has kept (or is about to hand to rawDataReceived, patched in _take_over).
        early = b"".join(getattr(channel, "_dataBuffer", ()))
        channel._dataBuffer = []
        if early:
            protocol.dataReceived(early)
        return NOT_DONE_YET


def _take_over(channel: HTTPChannel, protocol: Any) -> None:
    """Move ``channel``'s transport to ``protocol``; the channel goes quiet."""
    transport: Any = channel.transport
    # Twisted Web's idle timeout must not close a WebSocket connection.
    channel.setTimeout(None)  # type: ignore[no-untyped-call]
    # The channel registered itself as the transport's producer.
    transport.unregisterProducer()
    # Bytes still in the channel's parse loop for this read reach the
    # WebSocket protocol, as does everything the transport reads from now on.
    channel.rawDataReceived = protocol.dataReceived  # type: ignore[method-assign]
    channel.dataReceived = protocol.dataReceived  # type: ignore[method-assign]
    channel.transport = None  # nothing of HTTP may write on this connection again
    if isinstance(transport, ProtocolWrapper):  # TLS, or a WrappingFactory
        transport.wrappedProtocol = protocol
    else:
        transport.protocol = protocol
    # The channel may have paused reading while it handled the request.
    transport.resumeProducing()
    protocol.makeConnection(transport)
    if ISSLTransport.providedBy(transport) and IHandshakeListener.providedBy(protocol):
        protocol.handshakeCompleted()  # (the TLS handshake is long done)


def _error(request: Any, exc: HandshakeError) -> bytes:
    """Answer like a ``listenTCP`` server would, through Twisted Web."""
    status = exc.status if 400 <= exc.status <= 599 else 400
    phrase = status_phrase(status)
    request.setResponseCode(status, phrase.encode())  # (Twisted lacks some phrases, e.g. 426)
    hint = ""
    for name, value in exc.headers:
        request.setHeader(name, value)
        if name.lower() == "upgrade":  # a plain HTTP request
            hint = " (this URL accepts WebSocket connections only)"
    request.setHeader("Content-Type", "text/plain; charset=utf-8")
    return f"{status} {phrase}: {exc.reason}{hint}\n".encode()
