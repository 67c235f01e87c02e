"""The client half of the callback layer: ``onConnecting``, the handshake, ``onConnect``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.deflate import accept_deflate_response, build_client_offers_header, negotiate_client
from .core.errors import HandshakeError
from .core.handshake_client import ClientHandshake
from .core.headers import field_pairs
from .protocol import WebSocketProtocol
from .runtime import Runtime
from .types import ConnectingRequest, ConnectionResponse, TransportDetails

if TYPE_CHECKING:
    from .contracts import ConnectionOwner

__all__ = ["WebSocketClientProtocol"]


class WebSocketClientProtocol(WebSocketProtocol):
    """Client protocol: subclass it and override the ``on*`` callbacks."""

    is_server = False

    # (slots, as WebSocketProtocol's)
    __slots__ = ("handshake_error",)

    _handshake: ClientHandshake | None
    #: bytes that arrived with or after the response head, before onConnect's answer
    _early: list[bytes]

    def onConnecting(self, transport_details: TransportDetails) -> Any:
        """The TCP (or TLS) connection is up; return a :class:`ConnectingRequest`
        to change the handshake request, or ``None`` to use the factory's."""
        return None

    def onConnect(self, response: ConnectionResponse) -> Any:
        """The server accepted the opening handshake."""

    def _connection_made(self, rt: Runtime) -> None:
        self._init_state(rt)
        factory = self.factory
        self._handshake = None
        self._early = []
        #: the HandshakeError that failed the opening handshake, if one did
        self.handshake_error: HandshakeError | None = None
        rt.set_nodelay(self.tcpNoDelay)
        owner: ConnectionOwner = factory
        owner._connection_made(self)
        if factory.isSecure and not rt.is_secure:
            self._refuse_cleartext()
            return
        self._start_open_timer()
        self._invoke(
            self.onConnecting,
            (TransportDetails(rt.peer, rt.is_secure),),
            on_result=self._send_request,
            on_error=self._on_connecting_error,
        )

    def _refuse_cleartext(self) -> None:
        """A ``wss://`` URL on a connection without TLS: send nothing, say how to fix it.

        (Speaking on would send the request, cookies and tokens included, in
        the clear to a peer the user believes authenticated.)
        """
        message = (
            f"refusing to open {self.factory.url} over a connection without TLS "
            f"(nothing was sent): {self._tls_hint}"
        )
        self._rt.log_error(message)
        self.wasNotCleanReason = message
        self._drop(abort=True)

    def _on_connecting_error(self, exc: BaseException) -> None:
        self._rt.log_error("error in onConnecting", exc)
        self.failHandshake(f"error in onConnecting: {exc}")

    def _send_request(self, request: Any) -> None:
        if self.state != self.STATE_CONNECTING:
            return
        factory = self.factory
        if request is not None and not isinstance(request, ConnectingRequest):
            self._on_connecting_error(
                TypeError(f"onConnecting must return None or a ConnectingRequest, not {request!r}")
            )
            return
        offers = self.perMessageCompressionOffers
        if request is None:
            host, port, resource = factory.host, factory.port, factory.resource
            headers = dict(factory.headers)
            useragent, origin, protocols = factory.useragent, factory.origin, factory.protocols
        else:
            host, port, resource = request.host, request.port, request.resource
            headers, useragent = request.headers, request.useragent
            origin, protocols = request.origin, request.protocols
        try:
            self._handshake = ClientHandshake(
                host,
                port,
                resource,
                secure=factory.isSecure,
                origin=origin,
                protocols=protocols,
                extensions=build_client_offers_header(offers) if offers else None,
                headers=field_pairs(headers),
                useragent=useragent,
            )
        except ValueError as exc:
            self._on_connecting_error(exc)
            return
        self._rt.write(self._handshake.data_to_send())
        early, self._early = b"".join(self._early), []
        if early:
            self._handshake_data(early)

    def failHandshake(self, reason: str) -> None:
        """The opening handshake failed (a bad response, an error in ``onConnecting``):
        close the connection.  Every such failure comes here, as in Autobahn."""
        self.wasNotCleanReason = reason
        self._drop(abort=False)

    def _handshake_data(self, data: bytes) -> None:
        handshake = self._handshake
        if handshake is None or handshake.response is not None:
            self._early.append(data)
            return
        if self.state != self.STATE_CONNECTING:
            return
        factory = self.factory
        try:
            response = handshake.receive_data(data)
            if response is None:
                return
            codec = negotiate_client(
                response.extensions,
                self.perMessageCompressionOffers,
                self.perMessageCompressionAccept or accept_deflate_response,
            )
        except HandshakeError as exc:
            self.handshake_error = exc
            if exc.status:
                why = f"WebSocket connection upgrade failed [{exc.status}]: {exc.reason}"
            else:
                why = f"WebSocket connection upgrade failed: {exc.reason}"
            self.failHandshake(why)
            return
        self.http_headers = response.headers.as_dict()
        self.websocket_version = self.version  # (Autobahn's draft number: 18 is RFC 6455)
        self.websocket_protocol_in_use = response.protocol
        self.websocket_extensions_in_use = [codec] if codec is not None else []
        connection_response = ConnectionResponse(
            peer=self.peer,
            headers=self.http_headers,
            version=self.version,
            protocol=response.protocol,
            extensions=self.websocket_extensions_in_use,
        )

        def opened(_result: object) -> None:  # (what onConnect returned: ignored)
            if self.state == self.STATE_CONNECTING:
                early = handshake.trailing + b"".join(self._early)
                self._early = []
                owner: ConnectionOwner = factory
                self._open(owner._make_connection(False, codec, self), early)

        self._invoke(self.onConnect, (connection_response,), on_result=opened)
