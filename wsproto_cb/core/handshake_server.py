"""Server side of the RFC 6455 opening handshake (section 4.2), sans I/O.

Bytes in, a validated :class:`~wsproto_cb.core.http.HandshakeRequest` out;
the application's decision in, response bytes out.  Every rule a client
request must meet is checked in :func:`validate_request`, so a request that
arrived through another HTTP server (e.g. Twisted Web) is held to the same
rules via :meth:`ServerHandshake.receive_request`.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from .errors import HandshakeError, InvalidStateError, status_phrase
from .headers import (
    check_extension_header,
    is_token,
    parse_token_list,
    validate_field_value,
)
from .http import (
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_LINE_SIZE,
    HandshakeRequest,
    HttpHeadReader,
    accept_key,
    is_valid_host,
    is_valid_key,
    join_head,
)

__all__ = ["SUPPORTED_VERSION", "ServerHandshake", "validate_request"]

#: The only protocol version spoken (RFC 6455).
SUPPORTED_VERSION = 13

# Header names the handshake writes itself; an application supplying them
# would produce a contradictory or duplicated response.
_ACCEPT_RESERVED = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-accept",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "content-length",
        "transfer-encoding",
    }
)
_REJECT_RESERVED = frozenset({"connection", "content-length", "transfer-encoding"})
#: Schemes of an absolute-form target (RFC 6455 4.2.1 names http(s); ws(s)
#: tolerated) and the port an authority without one means.
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def _single(request: HandshakeRequest, name: str, display: str) -> str:
    """The one value of a header that must appear exactly once, else 400.

    ``name`` is in lower case (the lookup key), ``display`` as messages spell it.
    """
    values = request.headers.values_of(name)
    if not values:
        raise HandshakeError(400, f"missing {display} header")
    if len(values) > 1:
        raise HandshakeError(400, f"{display} header appears more than once")
    return values[0]


def _has_token(request: HandshakeRequest, name: str, token: str) -> bool:
    """Whether a ``#rule`` list header of ``name`` holds ``token`` (any case)."""
    for value in request.headers.values_of(name):
        # (a value that is the token alone, the usual case, needs no split)
        if value.lower() == token or any(item.lower() == token for item in parse_token_list(value)):
            return True
    return False


def _validate_target(target: str, host: str) -> None:
    """The request-target: origin-form, or absolute-form naming ``host``.

    RFC 9112 3.2.2 lets a server take the authority from an absolute-form
    target and ignore ``Host``; a request whose target and ``Host`` name two
    different servers is what a confused front-end and back-end disagree
    about, so it is refused here rather than resolved one way.  Authority-form
    (CONNECT's) and asterisk-form (OPTIONS') are not WebSocket targets.
    """
    if not target or not target.isascii() or not target.isprintable() or " " in target:
        raise HandshakeError(400, "invalid request target")
    if "#" in target:
        # RFC 6455 3: fragment identifiers MUST NOT be used in WebSocket URIs.
        raise HandshakeError(400, "request target contains a fragment identifier")
    if target.startswith("/"):
        return
    # RFC 6455 4.2.1 also allows an absolute http(s) URI (ws(s) tolerated).
    try:
        parts = urlsplit(target)
    except ValueError:
        raise HandshakeError(400, "invalid request target") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise HandshakeError(400, "request target must be a path or an absolute URI")
    if not is_valid_host(parts.netloc):  # userinfo (RFC 9110 4.2.4: an error) included
        raise HandshakeError(400, "invalid authority in the request target")
    default_port = _DEFAULT_PORTS[scheme]
    if _authority_key(parts.netloc, default_port) != _authority_key(host, default_port):
        # RFC 9112 3.2: the client MUST send the target's authority as Host.
        raise HandshakeError(400, "request target names another host than the Host header")


def _authority_key(authority: str, default_port: int) -> tuple[str, int]:
    """``(host, port)`` of a valid authority (see :func:`is_valid_host`) for
    comparison: the host case-folded, a missing port made the default."""
    if authority.startswith("["):
        host, _, port = authority.partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = authority.partition(":")
    return host.lower(), int(port) if port else default_port


def _refuse_body(request: HandshakeRequest) -> None:
    """A handshake request has no body (RFC 6455 4.1: a GET); refuse any framing of one.

    Bytes after the head are WebSocket frames.  A request announcing a body
    is one a front-end may forward as "request plus body" while this side
    reads the body as frames (or the other way round): the request
    smuggling shape.  ``Content-Length: 0`` (repeated or not) announces no
    body, so it is accepted, as websockets does; some HTTP stacks send it on
    every request.  ``Transfer-Encoding`` in any form is refused: even
    ``identity`` or an empty value is a header an intermediary may read
    differently.
    """
    if "transfer-encoding" in request.headers:
        raise HandshakeError(400, "a WebSocket handshake request has no body (Transfer-Encoding)")
    for value in request.headers.values_of("content-length"):
        if not (value.isascii() and value.isdigit() and int(value) == 0):
            raise HandshakeError(400, "a WebSocket handshake request has no body (Content-Length)")


def validate_request(request: HandshakeRequest) -> None:
    """Check a request against RFC 6455 4.2.1; raise :class:`HandshakeError`.

    The error carries the status and headers to answer with: 405 (with
    ``Allow``) for a method other than GET, 505 for any version but
    HTTP/1.1, 426 (with ``Upgrade``) when the request is not a WebSocket
    upgrade, 426 (with ``Sec-WebSocket-Version: 13``) for another protocol
    version, 400 for everything else malformed, including a missing
    version, a request announcing a body and an absolute-form target naming
    another host than ``Host``.
    """
    if request.method != "GET":
        raise HandshakeError(405, f"method {request.method[:32]!r} not allowed", [("Allow", "GET")])
    if request.http_version != "HTTP/1.1":
        # Only HTTP/1.1 defines Upgrade; 1.0 has no Host rule, and a 1.2 or
        # 2.0 request line is no client's, only a probe for parsers that
        # disagree (RFC 9110 2.5's "process as 1.1" is deliberately not done).
        raise HandshakeError(505, "HTTP/1.1 required")
    host = _single(request, "host", "Host")
    if not is_valid_host(host):
        raise HandshakeError(400, "invalid Host header")
    _validate_target(request.target, host)
    _refuse_body(request)
    if not _has_token(request, "upgrade", "websocket"):
        raise HandshakeError(426, "not a WebSocket upgrade request", [("Upgrade", "websocket")])
    if not _has_token(request, "connection", "upgrade"):
        raise HandshakeError(400, "Connection header lacks the 'upgrade' token")
    if not is_valid_key(_single(request, "sec-websocket-key", "Sec-WebSocket-Key")):
        raise HandshakeError(400, "Sec-WebSocket-Key is not base64 of 16 bytes")
    version = _single(request, "sec-websocket-version", "Sec-WebSocket-Version")
    if version != str(SUPPORTED_VERSION):
        raise HandshakeError(
            426,
            "unsupported WebSocket version",
            [("Sec-WebSocket-Version", str(SUPPORTED_VERSION))],
        )
    # Parse the lists now so that a malformed one fails here, with a 400,
    # rather than later in application code (the request keeps them).
    request.protocols  # noqa: B018
    request.extensions  # noqa: B018


class ServerHandshake:
    """One server-side opening handshake.

    Feed bytes to :meth:`receive_data` until it returns the request (or
    raises :class:`HandshakeError`: send :meth:`error_response` then close).
    Then answer once with :meth:`accept` or :meth:`reject`.  Bytes the client
    sent after its request are in :attr:`trailing`: frames for the
    connection.

    ``accept``/``reject`` raise :class:`ValueError` for values that are a
    programming error (an unoffered subprotocol, CR/LF in a header...); no
    bytes are produced then.
    """

    def __init__(
        self,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_head_size: int = DEFAULT_MAX_HEAD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        self._reader = HttpHeadReader(
            "request",
            max_line_size=max_line_size,
            max_head_size=max_head_size,
            max_headers=max_headers,
        )
        #: The validated request, once received.
        self.request: HandshakeRequest | None = None
        #: Status of the response produced (101 when accepted), else None.
        self.response_status: int | None = None

    @property
    def trailing(self) -> bytes:
        """Bytes that followed the request head (frames sent early)."""
        return self._reader.trailing

    def receive_data(self, data: bytes) -> HandshakeRequest | None:
        """Feed bytes; return the validated request once the head is complete."""
        if self.request is not None:
            raise InvalidStateError("request already received; frames go to the connection")
        head = self._reader.feed(data)
        if head is None:
            return None
        if not isinstance(head, HandshakeRequest):  # pragma: no cover - mode="request"
            raise HandshakeError(400, "expected an HTTP request")
        return self.receive_request(head)

    def receive_request(self, request: HandshakeRequest) -> HandshakeRequest:
        """Take a request parsed elsewhere (e.g. by Twisted Web) and validate it."""
        if self.request is not None:
            raise InvalidStateError("request already received")
        validate_request(request)
        return self.receive_validated_request(request)

    def receive_validated_request(self, request: HandshakeRequest) -> HandshakeRequest:
        """Take a request that already passed :func:`validate_request` (an HTTP
        server that answers bad requests itself checked it), without checking
        it a second time."""
        if self.request is not None:
            raise InvalidStateError("request already received")
        self.request = request
        return request

    def _responded(self, status: int) -> None:
        if self.response_status is not None:
            raise InvalidStateError("a response has already been produced")
        self.response_status = status

    def accept(
        self,
        subprotocol: str | None = None,
        extensions: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        server: str | None = None,
    ) -> bytes:
        """The ``101 Switching Protocols`` response.

        ``subprotocol`` must be one the client offered; ``extensions`` is
        the already negotiated ``Sec-WebSocket-Extensions`` value (omitted
        when empty); ``headers`` are extra fields; ``server`` the ``Server``
        header.
        """
        request = self.request
        if request is None:
            raise InvalidStateError("cannot accept before the request was received")
        if self.response_status is not None:
            raise InvalidStateError("a response has already been produced")
        offered = request.protocols
        if subprotocol is not None and subprotocol not in offered:
            raise ValueError(
                f"subprotocol {subprotocol!r} was not offered by the client (offered: {offered!r})"
            )
        fields: list[tuple[str, str]] = []
        if server is not None:
            validate_field_value(server, "Server header")
            fields.append(("Server", server))
        fields += [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", accept_key(_single(request, "sec-websocket-key", "Key"))),
        ]
        if subprotocol is not None:
            fields.append(("Sec-WebSocket-Protocol", subprotocol))
        if extensions:
            validate_field_value(extensions, "Sec-WebSocket-Extensions value")
            try:
                check_extension_header(extensions)
            except HandshakeError as exc:
                raise ValueError(f"invalid extensions value: {exc.reason}") from None
            fields.append(("Sec-WebSocket-Extensions", extensions))
        fields += _extra_headers(headers, _ACCEPT_RESERVED)
        # (every value is checked above: the subprotocol is one offered, a
        # token; the extensions value parsed; the extra headers and Server too)
        data = join_head("HTTP/1.1 101 Switching Protocols", fields)
        self._responded(101)
        return data

    def reject(
        self,
        status: int,
        reason: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> bytes:
        """An error (or any non-upgrade) response that ends the connection.

        Adds ``Content-Length`` and ``Connection: close`` (``Upgrade, close``
        when ``headers`` carries an ``Upgrade`` field, as RFC 7230 6.7 asks),
        and ``Content-Type: text/plain; charset=utf-8`` when there is a body
        and ``headers`` names no type.  May be used before the request is
        complete (e.g. on a timeout).
        """
        if self.response_status is not None:
            raise InvalidStateError("a response has already been produced")
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise ValueError(f"reject status must be 200..599, not {status!r}")
        validate_field_value(reason, "reason phrase")
        extra = _extra_headers(headers, _REJECT_RESERVED)
        names = {name.lower() for name, _ in extra}
        fields = list(extra)
        if body and "content-type" not in names:
            fields.append(("Content-Type", "text/plain; charset=utf-8"))
        fields.append(("Content-Length", str(len(body))))
        fields.append(("Connection", "Upgrade, close" if "upgrade" in names else "close"))
        data = join_head(f"HTTP/1.1 {status} {reason}", fields) + bytes(body)
        self._responded(status)
        return data

    def error_response(self, exc: HandshakeError) -> bytes:
        """The response for a failed request: :meth:`reject` with ``exc``'s
        status and headers.

        The status line carries the standard phrase and the detail goes into
        the plain-text body, so nothing derived from the peer's bytes ends up
        in the status line.
        """
        status = exc.status if 400 <= exc.status <= 599 else 400
        phrase = status_phrase(status)
        body = f"{status} {phrase}: {exc.reason}\n".encode()
        return self.reject(status, phrase, exc.headers, body)


def _extra_headers(
    headers: Sequence[tuple[str, str]], reserved: frozenset[str]
) -> list[tuple[str, str]]:
    result = []
    for name, value in headers:
        if not is_token(name):
            raise ValueError(f"invalid HTTP header name {name!r}: must be a token")
        if name.lower() in reserved:
            raise ValueError(f"header {name!r} is set by the handshake itself")
        validate_field_value(value)
        result.append((name, value))
    return result
