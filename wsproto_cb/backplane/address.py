"""``redis[s]://[[user]:password@]host[:port][/db][?ssl_...]`` checked once, up front.

``rediss://`` is Redis over TLS, with redis-py's query parameters:
``ssl_ca_certs`` (a PEM file of CAs to trust; the system's by default),
``ssl_certfile`` and ``ssl_keyfile`` (a client certificate, where the server
asks for one) and ``ssl_cert_reqs`` (``required``, the default: the
certificate and the host name are checked; ``none`` checks nothing).
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["RedisAddress", "RedisTLS", "parse_redis_url", "redact_url"]

DEFAULT_PORT = 6379
CERT_REQS = ("required", "none")


class RedisTLS(NamedTuple):
    """How to speak TLS to Redis (the ``ssl_*`` query parameters of a ``rediss://`` URL)."""

    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    verify: bool = True


class RedisAddress(NamedTuple):
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: RedisTLS | None = None

    def __str__(self) -> str:  # never shows the password
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "rediss" if self.tls is not None else "redis"
        return f"{scheme}://{host}:{self.port}/{self.db}"


def redact_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"


def parse_redis_url(url: str) -> RedisAddress:
    """The address in ``url``; ``ValueError`` saying what is wrong otherwise (the
    message never shows the password)."""
    if not isinstance(url, str):
        raise TypeError(f"Redis URL must be a str, not {type(url).__name__}")
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad Redis URL {shown!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"{shown!r} is not a redis:// or rediss:// URL")
    if parts.fragment:
        raise ValueError(f"{shown!r}: a fragment is not supported")
    tls = _tls_options(shown, parts.query) if scheme == "rediss" else None
    if scheme == "redis" and parts.query:
        raise ValueError(f"{shown!r}: query parameters (ssl_...) need a rediss:// URL")
    if parts.username and parts.password is None:
        raise ValueError(f"{shown!r}: a user name needs a password (redis://USER:PASSWORD@HOST)")
    path = parts.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError(f"{shown!r}: the path must be a database number, like /0")
    return RedisAddress(
        host=parts.hostname or "127.0.0.1",
        port=port if port is not None else DEFAULT_PORT,
        db=int(path or 0),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=tls,
    )


def _tls_options(shown: str, query: str) -> RedisTLS:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"{shown!r}: bad query string") from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name not in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs"):
            raise ValueError(f"{shown!r}: unknown parameter {name!r}")
        if name in options:
            raise ValueError(f"{shown!r}: {name} given twice")
        if not value:
            raise ValueError(f"{shown!r}: {name} is empty")
        options[name] = value
    reqs = options.get("ssl_cert_reqs", "required").lower()
    if reqs not in CERT_REQS:
        raise ValueError(f"{shown!r}: ssl_cert_reqs must be one of {', '.join(CERT_REQS)}")
    if "ssl_keyfile" in options and "ssl_certfile" not in options:
        raise ValueError(f"{shown!r}: ssl_keyfile needs ssl_certfile")
    return RedisTLS(
        ca_certs=options.get("ssl_ca_certs"),
        certfile=options.get("ssl_certfile"),
        keyfile=options.get("ssl_keyfile"),
        verify=reqs == "required",
    )
