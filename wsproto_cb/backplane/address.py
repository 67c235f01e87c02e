"""``redis://[[user]:password@]host[:port][/db]`` checked once, up front."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = ["RedisAddress", "parse_redis_url", "redact_url"]

DEFAULT_PORT = 6379


class RedisAddress(NamedTuple):
    host: str
    port: int
    db: int
    username: str | None
    password: str | None

    def __str__(self) -> str:  # never shows the password
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.db}"


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
    if scheme == "rediss":
        raise ValueError(f"{shown!r}: TLS to Redis (rediss://) is not supported yet")
    if scheme != "redis":
        raise ValueError(f"{shown!r} is not a redis:// URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{shown!r}: query and fragment are not supported")
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
    )
