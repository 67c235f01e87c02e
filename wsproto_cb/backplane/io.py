"""What a backplane needs from an event loop: one small interface, two adapters.

The backplane's logic (links to Redis, reconnects, probes, envelopes) is
runtime-neutral; :mod:`wsproto_cb.asyncio` and :mod:`wsproto_cb.twisted`
each implement :class:`BackplaneIO` once, with no backplane logic in it.
A server factory hands its runtime's implementation to the backplane when
it is attached (``factory.setBackplane``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..runtime import TimerHandle
from .address import RedisTLS

__all__ = ["BackplaneIO", "Stream", "StreamHandler", "TimerHandle"]


class Stream(Protocol):
    """One open TCP connection, as the backplane writes to it."""

    def write(self, data: bytes) -> None: ...

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""

    def close(self) -> None:
        """Close once what is buffered is written; ``connection_lost`` follows."""

    def abort(self) -> None:
        """Close at once, dropping what is buffered; ``connection_lost`` follows."""


class StreamHandler(Protocol):
    """The backplane's side of one TCP connection."""

    def connection_made(self, stream: Stream) -> None: ...

    def data_received(self, data: bytes) -> None: ...

    def connection_lost(self, reason: str) -> None:
        """The connection ended, or could not be made (then without ``connection_made``)."""


class BackplaneIO(Protocol):
    def connect_tcp(
        self,
        host: str,
        port: int,
        handler: StreamHandler,
        timeout: float,
        tls: RedisTLS | None = None,
    ) -> None:
        """Start connecting (over TLS with ``tls``, made by :mod:`.tls`); exactly
        one of ``connection_made`` or ``connection_lost`` follows."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle: ...

    def log(self, level: str, message: str) -> None:
        """``level`` is "info", "warning" or "error"."""

    def closing(self) -> list[Any]:
        """A future (asyncio) or Deferred (Twisted) for each connection still
        open, done when it is closed: a graceful shutdown waits on them."""
