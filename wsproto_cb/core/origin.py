"""The ``Origin`` a browser sends, in the form ``allowedOrigins`` patterns match.

Browsers send ``Origin: https://Example.com`` (default port left out) or
``https://example.com:8443``; a page from a file or a sandboxed frame sends
``null``.  Patterns are matched against one normal form, as Autobahn|Python
does: ``scheme://host:port`` in lower case, with the scheme's default port
written out (80 for http, 443 for https).  So ``https://example.com:443``,
``https://*.example.com:*`` and ``https://example.com*`` all match what a
browser on ``https://example.com`` sends.  Where the port is the scheme's
default, the same origin without ``:port`` is tried too, so the pattern
``https://example.com`` matches it as well (Autobahn would refuse it: there
every pattern must allow for the port).  A scheme with no default port and
no port given (``chrome-extension://abc``) has no ``:port``; ``file:`` URLs
count as ``null``, as Chrome sends them where Firefox sends ``null``.

A ``null`` origin matches no pattern, not even ``*``: it is no page one can
tell apart from another, and ``allowNullOrigin`` alone decides on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["NULL_ORIGIN", "compile_origin_patterns", "normalize_origin", "origin_matches"]

#: What :func:`normalize_origin` returns for an opaque origin.
NULL_ORIGIN = "null"

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalize_origin(origin: str) -> str:
    """``scheme://host:port`` in lower case, or :data:`NULL_ORIGIN`.

    Raises ValueError for an Origin that names no host (which no browser
    sends): the server answers it with 403 like any origin it does not allow.
    """
    text = origin.strip()
    if text.lower() == NULL_ORIGIN:
        return NULL_ORIGIN
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid Origin {origin!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        return NULL_ORIGIN
    host = parts.hostname  # (lower case, IPv6 without brackets)
    if not scheme or not host:
        raise ValueError(f"invalid Origin {origin!r}: no scheme://host")
    if ":" in host:
        host = f"[{host}]"
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def compile_origin_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """``allowedOrigins`` wildcards (``*`` matches anything, case ignored) as regexes."""
    return [
        re.compile(
            "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$",
            re.IGNORECASE,
        )
        for pattern in patterns
    ]


def origin_matches(origin: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    """Whether a normalised origin (not ``null``) matches one of ``patterns``."""
    if origin == NULL_ORIGIN:
        return False
    forms = [origin]
    scheme, _, rest = origin.partition("://")
    host, colon, port = rest.rpartition(":")
    if colon and port.isdigit() and _DEFAULT_PORTS.get(scheme) == int(port):
        forms.append(f"{scheme}://{host}")
    return any(pattern.match(form) for pattern in patterns for form in forms)
