"""``ReconnectingClient`` on asyncio: :class:`~wsproto_cb.reconnect.Reconnector` with
``connect_ws`` as the attempt and the loop's timers."""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from typing import Any

from ..reconnect import Backoff, Reconnector
from ._connect import connect_ws

__all__ = ["ReconnectingClient"]

log = logging.getLogger("wsproto_cb")


class ReconnectingClient:
    """Keep ``factory`` connected to its URL (through its proxy, if it has one).

    ``start()`` inside the loop; ``await stop()`` ends the retries and closes
    the open connection with ``code``.  :attr:`done` resolves with the reason
    when retrying ends by policy (a 4xx refusal, ``max_attempts``) or stop.
    """

    def __init__(
        self,
        factory: Any,
        backoff: Backoff | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        self.factory = factory
        self.backoff = backoff if backoff is not None else Backoff()
        self._ssl = ssl
        self._pending: asyncio.Task[None] | None = None
        self._reconnector: Reconnector | None = None
        self.done: asyncio.Future[str] | None = None

    @property
    def attempts(self) -> int:
        """Connection attempts made since start (refused ones included)."""
        return self._reconnector.attempts if self._reconnector is not None else 0

    def start(self) -> None:
        """Start connecting (inside the running loop); ``done`` resolves once stopped."""
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        self._reconnector = Reconnector(
            self.factory, self.backoff, self._connect, loop.call_later, loop.time, self._ended
        )
        self._reconnector.start()

    def _ended(self, reason: str) -> None:
        if reason != "stopped" and self.done is not None and not self.done.done():
            log.warning("reconnecting client for %s stops: %s", self.factory.url, reason)
        if self.done is not None and not self.done.done():
            self.done.set_result(reason)

    def _connect(self) -> None:
        self._pending = asyncio.get_running_loop().create_task(self._attempt())

    async def _attempt(self) -> None:
        try:
            await connect_ws(self.factory, self._ssl)
        except (OSError, TimeoutError) as exc:  # (ProxyError and ssl errors are OSErrors)
            if self._reconnector is not None:
                self._reconnector.attempt_failed(exc)

    async def stop(self, code: int = 1000, reason: str | None = None) -> None:
        """Make no more attempts and close the open connection, if any, with ``code``."""
        if self._reconnector is not None:
            self._reconnector.stop()
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        waits = self.factory.closeAllConnections(code, reason)
        if waits:
            await asyncio.gather(*waits)
        self._ended("stopped")
