"""Parsing and building ``ws://`` / ``wss://`` URLs, with errors that say what is wrong.

Both functions take Autobahn's arguments and give its results
(``autobahn.websocket.util``): :func:`parse_url` returns the 6-tuple
``(isSecure, host, port, resource, path, params)`` with ``path``
percent-decoded and ``resource`` as sent on the request line, and, for
``ws://unix:/path/to.sock`` URLs, the socket's path in place of the port;
:func:`create_url` always writes the port.  Where Autobahn builds a broken
URL (an IPv6 host without brackets) this module brackets it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["WebSocketURL", "create_url", "parse_url"]


class WebSocketURL(NamedTuple):
    is_secure: bool
    host: str
    #: the TCP port; for a ``ws://unix:/path`` URL the Unix socket's path
    port: Any
    resource: str  # path plus query, as sent in the request line
    path: str  # percent-decoded
    params: dict[str, list[str]]


def parse_url(url: str) -> WebSocketURL:
    """Split a WebSocket URL; ``ValueError`` names the problem for anything else."""
    if not isinstance(url, str):
        raise TypeError(f"WebSocket URL must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        unix = parts.hostname == "unix" and scheme in ("ws", "wss")
        port_given = None if unix else parts.port
    except ValueError as exc:
        raise ValueError(f"invalid WebSocket URL {url!r}: {exc}") from None
    if scheme not in ("ws", "wss"):
        raise ValueError(
            f"invalid WebSocket URL {url!r}: scheme must be ws or wss, not {parts.scheme!r}"
        )
    if parts.fragment or url.rstrip().endswith("#"):
        raise ValueError(f"invalid WebSocket URL {url!r}: fragments are not allowed (RFC 6455 3)")
    host = parts.hostname
    if not host:
        raise ValueError(f"invalid WebSocket URL {url!r}: no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"invalid WebSocket URL {url!r}: user info is not supported")
    secure = scheme == "wss"
    port: Any = port_given if port_given is not None else (443 if secure else 80)
    raw_path = parts.path or "/"
    if unix:
        # ws://unix:/tmp/ws.sock -> the socket path is everything after "unix:"
        port = (parts.netloc + parts.path).split(":", 1)[1]
        if not port:
            raise ValueError(f"invalid WebSocket URL {url!r}: no Unix socket path after unix:")
    resource = raw_path + ("?" + parts.query if parts.query else "")
    if not all("!" <= ch <= "~" for ch in resource):
        # the request line could not carry it (the handshake would refuse it later)
        raise ValueError(
            f"invalid WebSocket URL {url!r}: path and query must be printable ASCII "
            "without spaces (percent-encode other characters)"
        )
    return WebSocketURL(secure, host, port, resource, unquote(raw_path), parse_qs(parts.query))


def create_url(
    hostname: str,
    port: int | str | None = None,
    isSecure: bool = False,
    path: str | None = None,
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
) -> str:
    """Build a WebSocket URL (as ``autobahn.websocket.util.create_url``).

    The port is always written (80 or 443 when not given); ``hostname="unix"``
    makes ``port`` a Unix socket path.  ``path`` is percent-encoded and
    ``params`` (a dict or pairs) becomes the query.
    """
    if not isinstance(isSecure, bool):
        raise TypeError(f"isSecure must be True or False, not {isSecure!r}")
    if hostname == "unix":
        netloc = f"unix:{port}"
    else:
        if port is not None and (
            not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536
        ):
            raise ValueError(f"invalid port {port!r}: must be an int from 1 to 65535")
        host = f"[{hostname}]" if ":" in hostname and not hostname.startswith("[") else hostname
        netloc = f"{host}:{port if port is not None else (443 if isSecure else 80)}"
    scheme = "wss" if isSecure else "ws"
    query = f"?{urlencode(params)}" if params else ""
    return f"{scheme}://{netloc}{quote(path) if path is not None else '/'}{query}"
