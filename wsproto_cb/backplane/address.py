"""``redis[s]://[[user]:password@]host[:port][/db][?ssl_...]`` checked once, up front.

``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db]``
names Redis Sentinels (port 26379 by default) and the master they watch;
the credentials and database are the master's (the sentinels are asked
without them).

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
SENTINEL_PORT = 26379
SENTINEL_SCHEME = "redis+sentinel"
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
    #: ``redis+sentinel://``: the sentinels to ask (host and port above are the first)
    sentinels: tuple[tuple[str, int], ...] = ()
    #: ``redis+sentinel://``: the name of the master the sentinels watch
    master_name: str | None = None

    def __str__(self) -> str:  # never shows the password
        if self.master_name is not None:
            hosts = ",".join(_host_port(host, port) for host, port in self.sentinels)
            return f"{SENTINEL_SCHEME}://{hosts}/{self.master_name}/{self.db}"
        scheme = "rediss" if self.tls is not None else "redis"
        return f"{scheme}://{_host_port(self.host, self.port)}/{self.db}"

    def at(self, host: str, port: int) -> RedisAddress:
        """The same credentials and TLS settings for the server at ``host:port``."""
        return self._replace(host=host, port=port, sentinels=(), master_name=None)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
    if url.partition("://")[0].lower() == SENTINEL_SCHEME:
        return _parse_sentinel_url(url, shown)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad Redis URL {shown!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"{shown!r} is not a redis://, rediss:// or redis+sentinel:// URL")
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


def _parse_sentinel_url(url: str, shown: str) -> RedisAddress:
    rest = url.partition("://")[2]
    if "?" in rest or "#" in rest:
        raise ValueError(f"{shown!r}: a redis+sentinel:// URL takes no query or fragment")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        if not colon:
            raise ValueError(f"{shown!r}: a user name needs a password (USER:PASSWORD@HOST)")
        username, password = unquote(user) or None, unquote(secret)
    sentinels = tuple(_sentinel(shown, host) for host in hosts.split(","))
    name, _, db = path.strip("/").partition("/")
    if not name:
        raise ValueError(f"{shown!r}: name the master after the sentinels, like /mymaster")
    if db and not (db.isascii() and db.isdigit()):
        raise ValueError(f"{shown!r}: after the master's name comes a database number, like /0")
    host, port = sentinels[0]
    return RedisAddress(
        host, port, int(db or 0), username, password, None, sentinels, unquote(name)
    )


def _sentinel(shown: str, text: str) -> tuple[str, int]:
    try:
        parts = urlsplit(f"//{text}")
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad sentinel {text!r} in {shown!r}: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"{shown!r}: a sentinel without a host")
    return parts.hostname, port if port is not None else SENTINEL_PORT


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
