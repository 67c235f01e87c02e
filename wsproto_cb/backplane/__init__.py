"""Broadcast across processes and machines: the backplane a server factory publishes to.

::

    from wsproto_cb.backplane import RedisBackplane
    factory.setBackplane(RedisBackplane("redis://127.0.0.1:6379/0"))

Every factory has a backplane; the default, :class:`LocalBackplane`, keeps
broadcasts inside the process.  :class:`RedisBackplane` carries them to every
other factory on the same Redis.  See docs/scale-out.md for the delivery
promise and how to run it across machines.
"""

from __future__ import annotations

from .address import RedisAddress, parse_redis_url, redact_url
from .base import Backplane, LocalBackplane
from .redis import BackplaneStats, RedisBackplane

__all__ = [
    "Backplane",
    "BackplaneStats",
    "LocalBackplane",
    "RedisAddress",
    "RedisBackplane",
    "backplane_from_url",
    "parse_redis_url",
]


def backplane_from_url(url: str, *, secretFile: str | None = None) -> Backplane:
    """``memory://`` -> :class:`LocalBackplane`, ``redis://``, ``rediss://`` (any node
    of a cluster, too) or ``redis+sentinel://`` -> :class:`RedisBackplane`
    (signing its envelopes with the secret in ``secretFile``, if given)."""
    if not isinstance(url, str):
        raise TypeError(f"backplane URL must be a str, not {type(url).__name__}")
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        if secretFile is not None:
            raise ValueError("a backplane secret is for redis:// backplanes, not memory://")
        return LocalBackplane()
    if scheme in ("redis", "rediss", "redis+sentinel"):
        return RedisBackplane(url, secretFile=secretFile)
    raise ValueError(
        f"unknown backplane URL {redact_url(url)!r} (use redis://HOST:PORT/DB,"
        " redis+sentinel://HOST:PORT/MASTER or memory://)"
    )
