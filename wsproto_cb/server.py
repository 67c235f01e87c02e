"""The server half of the callback layer: the opening handshake and ``onConnect``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compat import AutobahnServerCompat
from .core.deflate import negotiate_server
from .core.errors import HandshakeError, InvalidStateError, status_phrase
from .core.forwarded import x_forwarded_for_client
from .core.handshake_server import ServerHandshake
from .core.headers import field_pairs
from .core.http import HandshakeRequest
from .protocol import WebSocketProtocol
from .runtime import Runtime
from .types import ConnectionAccept, ConnectionDeny, ConnectionRequest

if TYPE_CHECKING:
    from .contracts import ServerConnectionOwner

__all__ = ["WebSocketServerProtocol"]


def _reason_phrase(reason: str | None) -> str:
    """``reason`` fit for an HTTP status line: printable ASCII, at most 120 characters."""
    if not reason:
        return ""
    text = "".join(c if " " <= c <= "~" else "?" for c in str(reason))
    return text[:120].strip()


def _normalise_accept(result: Any) -> tuple[str | None, list[tuple[str, str]]]:
    """``onConnect``'s result: None, a subprotocol, (subprotocol, headers) or ConnectionAccept."""
    headers: Any = None
    if result is None:
        subprotocol = None
    elif isinstance(result, str):
        subprotocol = result
    elif isinstance(result, ConnectionAccept):
        subprotocol, headers = result.subprotocol, result.headers
    elif isinstance(result, tuple) and len(result) <= 2:
        # Autobahn takes (subprotocol,), (subprotocol, headers) and even ()
        subprotocol = result[0] if result else None
        headers = result[1] if len(result) > 1 else None
    else:
        raise TypeError(
            "onConnect must return None, a subprotocol, (subprotocol, headers) or a "
            f"ConnectionAccept, not {result!r}"
        )
    if subprotocol is not None and not isinstance(subprotocol, str):
        raise TypeError(f"onConnect returned a subprotocol that is not a str: {subprotocol!r}")
    return subprotocol, field_pairs(headers) if headers else []


def _autobahn_extensions(
    extensions: list[tuple[str, list[tuple[str, str | None]]]],
) -> list[tuple[str, dict[str, list[str | bool]]]]:
    """Offered extensions in the shape Autobahn gives ``request.extensions``:
    ``(name, {param: [value, ...]})``, names in lower case, True for a
    parameter without a value."""
    shaped: list[tuple[str, dict[str, list[str | bool]]]] = []
    if not extensions:
        return shaped
    for name, params in extensions:
        values: dict[str, list[str | bool]] = {}
        for key, value in params:
            values.setdefault(key.lower(), []).append(True if value is None else value)
        shaped.append((name.lower(), values))
    return shaped


def _strip_port(host: str) -> str:
    """``Host`` header value without its port, as Autobahn's ``request.host``."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


def _warn_wss_without_tls(url: str, rt: Runtime, hint: str) -> None:
    """The factory's URL says ``wss://`` but connections arrive without TLS
    (said once per factory).

    Only a warning: behind a proxy that terminates TLS this is the intended
    setup (the URL is the public one).  Without such a proxy every byte,
    cookies included, travels in the clear.
    """
    rt.log_warning(
        f"the factory's URL is {url} but connections arrive without TLS: "
        f"fine behind a proxy that terminates TLS, otherwise {hint}"
    )


class WebSocketServerProtocol(WebSocketProtocol, AutobahnServerCompat):
    """Server protocol: subclass it and override the ``on*`` callbacks."""

    is_server = True

    #: broadcast messages not written to this connection because its queue
    #: was full (see :mod:`wsproto_cb.broadcast`)
    broadcastDropped: int = 0

    def joinGroup(self, name: str) -> None:
        """Receive the factory's broadcasts to group ``name`` (until closed or left)."""
        owner: ServerConnectionOwner | None = self.factory
        if owner is None or self.state == self.STATE_CLOSED:
            return  # a closed connection would never be forgotten again
        owner._join_group(self, name)

    def leaveGroup(self, name: str) -> None:
        """Stop receiving the factory's broadcasts to group ``name``."""
        owner: ServerConnectionOwner | None = self.factory
        if owner is not None:
            owner._leave_group(self, name)

    def broadcast(self, payload: bytes, isBinary: bool = False, group: str | None = None) -> int:
        """``factory.broadcast`` to everyone (or ``group``) but this connection."""
        owner: ServerConnectionOwner = self.factory
        return owner._broadcast_everywhere(payload, isBinary, group, self)

    def onBroadcastDropped(self, count: int) -> None:
        """A broadcast message was not written here (queue full); ``count`` so far."""

    def onConnect(self, request: ConnectionRequest) -> Any:
        """A client asks to connect.

        Return ``None`` (accept, no subprotocol), a subprotocol,
        ``(subprotocol, headers)`` or a :class:`ConnectionAccept`, directly
        or from an awaitable; raise :class:`ConnectionDeny` to refuse with an
        HTTP status.  This default picks the first of the factory's
        ``protocols`` the client offers (an override that returns None
        chooses none, as in Autobahn; ``super().onConnect(request)`` picks).
        """
        spoken = self.factory.protocols
        if spoken:  # (most servers speak none: nothing to look for)
            offered = request.protocols
            for protocol in spoken:
                if protocol in offered:
                    return protocol
        return None

    # (slots, as WebSocketProtocol's; the Autobahn attributes read out of the request)
    __slots__ = (
        "http_request_host",
        "http_request_params",
        "http_request_path",
        "http_request_uri",
        "websocket_extensions",
        "websocket_origin",
        "websocket_protocols",
    )

    _handshake: ServerHandshake | None

    def _connection_made(self, rt: Runtime) -> None:
        self._init_state(rt)
        factory = self.factory
        self.http_request_uri: str | None = None
        self.http_request_path: str | None = None
        self.http_request_params: dict[str, list[str]] = {}
        self.http_request_host: str | None = None
        self._handshake = ServerHandshake()
        rt.set_nodelay(self.tcpNoDelay)
        owner: ServerConnectionOwner = factory
        owner._connection_made(self)
        if factory.isSecure and not rt.is_secure:
            url, hint = factory.url, self._tls_hint
            owner._warn_once("wss without TLS", lambda: _warn_wss_without_tls(url, rt, hint))
        self._start_open_timer()

    def _handshake_data(self, data: bytes) -> None:
        handshake = self._handshake
        if handshake is None or self.state != self.STATE_CONNECTING:
            return  # refused or dropped: nothing more is read
        if handshake.request is not None:
            # frames sent before our answer (onConnect may still run): keep them
            if self._early is None:
                self._early = []
            self._early.append(data)
            return
        try:
            request = handshake.receive_data(data)
        except HandshakeError as exc:
            self._reject(exc.status or 400, exc.reason, exc.headers)
            return
        if request is not None:
            self._on_request(request)

    def _receive_validated_request(self, request: HandshakeRequest) -> None:
        """Start from a request another HTTP server already parsed and checked
        with :func:`~wsproto_cb.core.handshake_server.validate_request` (Twisted
        Web's :class:`~wsproto_cb.twisted.resource.WebSocketResource`, which
        answers a bad request itself): the same ``onConnect`` and response as
        for a request read here, without validating it a second time."""
        handshake = self._handshake
        if handshake is None:
            return
        handshake.receive_validated_request(request)
        self._on_request(request)

    def _reject(
        self, status: int, reason: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        if self.factory is not None:
            self.factory.metrics.handshakes_refused[status] += 1
        self.failHandshake(reason, status, headers)

    def failHandshake(
        self, reason: str, code: int = 400, responseHeaders: list[tuple[str, str]] | None = None
    ) -> None:
        """Refuse the opening handshake: an HTTP error response, then close.

        Every refusal goes through here (as in Autobahn), so a subclass may
        override it to log, or to answer with its own page (:meth:`sendHtml`).
        """
        self.wasNotCleanReason = f"WebSocket opening handshake failed ({code} - {reason})"
        self.sendHttpErrorResponse(code, reason, responseHeaders)
        self._drop(abort=False)

    def sendHttpErrorResponse(
        self, code: int, reason: str, responseHeaders: list[tuple[str, str]] | None = None
    ) -> None:
        """Write the HTTP error response: ``reason`` in the status line (as in
        Autobahn) and in the body.

        The status line gets the reason with anything but printable ASCII
        replaced, at most 120 characters (it may quote what the client sent);
        an empty reason gets the status's standard phrase.
        """
        phrase = _reason_phrase(reason) or status_phrase(code)
        body = f"{code} {status_phrase(code)}: {reason}\n".encode("utf-8", "replace")
        try:
            response = self._handshake_writer().reject(code, phrase, responseHeaders or [], body)
            self._rt.write(response)
        except Exception as exc:  # a response was already produced, or bad headers
            self._rt.log_error("could not send the handshake error response", exc)

    def _handshake_writer(self) -> ServerHandshake:
        """The handshake, for an HTTP answer; an error once the connection is open."""
        handshake = self._handshake
        if handshake is None:
            raise InvalidStateError("the opening handshake is over: no HTTP response can be sent")
        return handshake

    def _peer_address(self, request: HandshakeRequest) -> str:
        if not self.trustXForwardedFor:
            return self.peer
        forwarded = x_forwarded_for_client(
            request.headers.values_of("x-forwarded-for"), self.trustXForwardedFor
        )
        return self.peer if forwarded is None else forwarded

    def _on_request(self, request: HandshakeRequest) -> None:
        # (each value is read out of the request once, and shared by the
        # Autobahn attributes and the ConnectionRequest, as in Autobahn)
        factory = self.factory
        self.peer = peer = self._peer_address(request)
        self.http_headers = headers = request.headers.as_dict()
        self.http_request_uri = request.target
        self.http_request_path = path = request.path
        self.http_request_params = params = request.params
        self.http_request_host = host = request.host
        self.websocket_version = version = request.version
        if self.maxConnections and factory.countConnections > self.maxConnections:
            self._reject(503, "maximum number of connections reached")
            return
        origin = request.origin
        owner: ServerConnectionOwner = factory
        if not owner._origin_allowed(origin):
            self._reject(403, f"WebSocket connection denied: origin '{origin}' not allowed")
            return
        # Autobahn's names and shapes: "" for no Origin, parsed extension offers
        self.websocket_origin = origin = origin or ""
        self.websocket_protocols = protocols = request.protocols
        self.websocket_extensions = extensions = _autobahn_extensions(request.extensions)
        connection_request = ConnectionRequest(
            peer=peer,
            headers=headers,
            host=_strip_port(host or ""),
            path=path,
            params=params,
            version=version or 13,
            origin=origin,
            protocols=protocols,
            extensions=extensions,
        )
        self._invoke(
            self.onConnect,
            (connection_request,),
            on_result=self._accept,
            on_error=self._on_connect_error,
        )

    def _on_connect_error(self, exc: BaseException) -> None:
        if isinstance(exc, ConnectionDeny):
            self._reject(exc.code, exc.reason or "")
            return
        self._rt.log_error("error in onConnect; answering 500", exc)
        self._reject(500, "internal server error")

    def _accept(self, result: Any) -> None:
        handshake = self._handshake
        if handshake is None or self.state != self.STATE_CONNECTING:
            return
        request = handshake.request
        if request is None:
            return
        factory = self.factory
        try:
            subprotocol, headers = _normalise_accept(result)
        except TypeError as exc:
            self._on_connect_error(exc)
            return
        if subprotocol is not None and subprotocol not in request.protocols:
            self._on_connect_error(
                ValueError(
                    f"onConnect chose subprotocol {subprotocol!r}, which the client did not "
                    f"offer (offered: {request.protocols!r})"
                )
            )
            return
        codec, extension_header = None, None
        if self.perMessageCompressionAccept is not None:
            try:
                codec, extension_header = negotiate_server(
                    request.extensions, self.perMessageCompressionAccept
                )
            except Exception as exc:
                self._on_connect_error(exc)
                return
        extra_headers = factory.headers
        try:
            response = handshake.accept(
                subprotocol,
                extension_header,
                [*field_pairs(extra_headers), *headers] if extra_headers else headers,
                server=factory.server,
            )
        except ValueError as exc:
            self._on_connect_error(exc)
            return
        self._rt.write(response)
        self.websocket_protocol_in_use = subprotocol
        if codec is not None:
            self.websocket_extensions_in_use = [codec]
        early = handshake.trailing
        if self._early is not None:
            early += b"".join(self._early)
            self._early = None
        self._handshake = None  # (the request and its parser: not needed any more)
        owner: ServerConnectionOwner = factory
        self._open(owner._make_connection(True, codec, self), early)


if TYPE_CHECKING:  # Twisted Web's WebSocketResource hands it a validated request
    from .contracts import ValidatedRequestReceiver

    def _receiver(proto: WebSocketServerProtocol) -> ValidatedRequestReceiver:
        return proto
