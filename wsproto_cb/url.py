"""Parsing and building ``ws://`` / ``wss://`` URLs, with errors that say what is wrong."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

__all__ = ["WebSocketURL", "create_url", "parse_url"]


class WebSocketURL(NamedTuple):
    is_secure: bool
    host: str
    port: int
    resource: str  # path plus query, as sent in the request line
    path: str
    params: dict[str, list[str]]


def parse_url(url: str) -> WebSocketURL:
    """Split a WebSocket URL; ``ValueError`` names the problem for anything else."""
    if not isinstance(url, str):
        raise TypeError(f"WebSocket URL must be a str, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid WebSocket URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
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
    port = port_given if port_given is not None else (443 if secure else 80)
    path = parts.path or "/"
    resource = path + ("?" + parts.query if parts.query else "")
    if not all("!" <= ch <= "~" for ch in resource):
        # the request line could not carry it (the handshake would refuse it later)
        raise ValueError(
            f"invalid WebSocket URL {url!r}: path and query must be printable ASCII "
            "without spaces (percent-encode other characters)"
        )
    return WebSocketURL(secure, host, port, resource, path, parse_qs(parts.query))


def create_url(
    hostname: str, port: int | None = None, isSecure: bool = False, path: str | None = None
) -> str:
    """Build a WebSocket URL (as ``autobahn.websocket.util.create_url``)."""
    scheme = "wss" if isSecure else "ws"
    default = 443 if isSecure else 80
    host = f"[{hostname}]" if ":" in hostname else hostname
    netloc = host if port is None or port == default else f"{host}:{port}"
    return f"{scheme}://{netloc}{path or '/'}"
