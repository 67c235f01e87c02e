"""Client side of the RFC 6455 opening handshake (section 4.1), sans I/O.

The constructor validates everything the application supplies
(:class:`ValueError`, nothing sent), :meth:`ClientHandshake.data_to_send`
gives the GET request, :meth:`ClientHandshake.receive_data` checks the
server's answer (:class:`~wsproto_cb.core.errors.HandshakeError`).
Extension negotiation is not judged here: the accepted extensions are parsed
into :attr:`HandshakeResponse.extensions` for the extension layer to check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from .errors import HandshakeError, InvalidStateError
from .headers import (
    Headers,
    is_token,
    parse_extension_header,
    parse_token_list,
    validate_field_value,
)
from .http import (
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_LINE_SIZE,
    HandshakeRequest,
    HandshakeResponse,
    HttpHeadReader,
    accept_key,
    build_head,
    generate_key,
    is_valid_key,
)

__all__ = ["ClientHandshake", "validate_response"]

_RESERVED = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "content-length",
        "transfer-encoding",
    }
)
# RFC 3986 reg-name (which also covers IPv4 addresses), no port.
_REG_NAME_RE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=%]+")
# RFC 3986 path-abempty [ "?" query ]: printable ASCII, no space, no fragment.
_RESOURCE_RE = re.compile(r"/[\x21-\x22\x24-\x7e]*")


def _host_header(host: str, port: int, secure: bool) -> str:
    """The ``Host`` value for ``host``/``port``; :class:`ValueError` if unusable."""
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in literal:
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise ValueError(f"invalid host {host!r}") from None
        authority = f"[{literal}]"
    elif _REG_NAME_RE.fullmatch(host):
        authority = host
    else:
        raise ValueError(
            f"invalid host {host!r} (an internationalised name must be IDNA-encoded first)"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"invalid port {port!r}")
    if port != (443 if secure else 80):
        authority = f"{authority}:{port}"
    return authority


def _response_has_token(response: HandshakeResponse, name: str, token: str) -> bool:
    return any(
        item.lower() == token
        for value in response.headers.get_all(name)
        for item in parse_token_list(value)
    )


def validate_response(response: HandshakeResponse, key: str, protocols: Sequence[str]) -> None:
    """Check a server response against RFC 6455 4.1 (client side).

    Raises :class:`HandshakeError` whose ``status`` is the one the server
    sent and whose ``reason`` says what was wrong.
    """
    status = response.status
    if status != 101:
        raise HandshakeError(status, response.reason or "handshake refused by server")

    def fail(reason: str) -> HandshakeError:
        return HandshakeError(status, reason)

    if response.http_version != "HTTP/1.1":
        # 101 exists in HTTP/1.1 only (RFC 9110 15.2: never sent to 1.0); a
        # switch announced in any other version is not one to trust.
        raise fail(f"101 response in {response.http_version}, not HTTP/1.1")
    if not _response_has_token(response, "Upgrade", "websocket"):
        raise fail("response lacks 'Upgrade: websocket'")
    if not _response_has_token(response, "Connection", "upgrade"):
        raise fail("response lacks 'Connection: Upgrade'")
    accepts = response.headers.get_all("Sec-WebSocket-Accept")
    if len(accepts) != 1:
        raise fail("response needs exactly one Sec-WebSocket-Accept header")
    if accepts[0] != accept_key(key):
        raise fail("wrong Sec-WebSocket-Accept value")
    selected = response.headers.get_all("Sec-WebSocket-Protocol")
    if len(selected) > 1 or (selected and len(parse_token_list(selected[0])) != 1):
        raise fail("response selects more than one subprotocol")
    if selected:
        if not protocols:
            raise fail("server selected a subprotocol although none was offered")
        if selected[0] not in protocols:
            raise fail("server selected a subprotocol that was not offered")
    try:
        parse_extension_header(response.headers.get_all("Sec-WebSocket-Extensions"))
    except HandshakeError as exc:
        raise fail(exc.reason) from None


class ClientHandshake:
    """One client-side opening handshake.

    ``host``/``port``/``resource`` address the server (``resource`` is the
    path and query, starting with ``/``); ``protocols`` are offered in order
    of preference; ``extensions`` is a ready ``Sec-WebSocket-Extensions``
    value (the offer); ``headers`` are extra request fields.  The ``Host``
    header leaves out the port when it is the scheme's default.
    """

    def __init__(
        self,
        host: str,
        port: int,
        resource: str,
        *,
        secure: bool = False,
        origin: str | None = None,
        protocols: Sequence[str] = (),
        extensions: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        useragent: str | None = None,
        key: str | None = None,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        max_head_size: int = DEFAULT_MAX_HEAD_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        host_value = _host_header(host, port, secure)
        if _RESOURCE_RE.fullmatch(resource) is None:
            raise ValueError(
                f"invalid resource {resource!r}: must start with '/' and contain"
                " only printable ASCII, no spaces and no '#'"
            )
        if isinstance(protocols, str):
            raise ValueError("protocols must be a sequence of names, not one string")
        for name in protocols:
            if not is_token(name):
                raise ValueError(f"invalid subprotocol name {name!r}: must be a token")
        if len(set(protocols)) != len(protocols):
            raise ValueError(f"duplicate subprotocol names in {list(protocols)!r}")
        if key is None:
            key = generate_key()
        elif not is_valid_key(key):
            raise ValueError(f"invalid key {key!r}: must be base64 of 16 bytes")

        fields = [("Host", host_value)]
        if useragent is not None:
            validate_field_value(useragent, "User-Agent")
            fields.append(("User-Agent", useragent))
        fields += [("Upgrade", "websocket"), ("Connection", "Upgrade")]
        if origin is not None:
            validate_field_value(origin, "Origin")
            fields.append(("Origin", origin))
        fields.append(("Sec-WebSocket-Key", key))
        if protocols:
            fields.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
        if extensions:
            validate_field_value(extensions, "Sec-WebSocket-Extensions value")
            try:
                parse_extension_header([extensions])
            except HandshakeError as exc:
                raise ValueError(f"invalid extensions value: {exc.reason}") from None
            fields.append(("Sec-WebSocket-Extensions", extensions))
        fields.append(("Sec-WebSocket-Version", "13"))
        for name, value in headers:
            if not is_token(name):
                raise ValueError(f"invalid HTTP header name {name!r}: must be a token")
            if name.lower() in _RESERVED:
                raise ValueError(f"header {name!r} is set by the handshake itself")
            validate_field_value(value)
            fields.append((name, value))

        self.key = key
        self.protocols: list[str] = list(protocols)
        #: The request this handshake sends.
        self.request = HandshakeRequest("GET", resource, "HTTP/1.1", Headers(fields))
        #: The validated response, once received.
        self.response: HandshakeResponse | None = None
        self._outgoing = build_head(f"GET {resource} HTTP/1.1", fields)
        self._reader = HttpHeadReader(
            "response",
            max_line_size=max_line_size,
            max_head_size=max_head_size,
            max_headers=max_headers,
        )

    def data_to_send(self) -> bytes:
        """The request bytes on the first call, ``b""`` afterwards."""
        data, self._outgoing = self._outgoing, b""
        return data

    @property
    def trailing(self) -> bytes:
        """Bytes that followed the response head (frames the server sent early)."""
        return self._reader.trailing

    def receive_data(self, data: bytes) -> HandshakeResponse | None:
        """Feed bytes; return the validated response once its head is complete."""
        if self.response is not None:
            raise InvalidStateError("response already received; frames go to the connection")
        head = self._reader.feed(data)
        if head is None:
            return None
        if not isinstance(head, HandshakeResponse):  # pragma: no cover - mode="response"
            raise HandshakeError(0, "expected an HTTP response")
        validate_response(head, self.key, self.protocols)
        self.response = head
        return head
