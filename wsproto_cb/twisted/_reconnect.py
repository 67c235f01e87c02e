"""``ReconnectingClient`` on Twisted: :class:`~wsproto_cb.reconnect.Reconnector` with
``connectWS`` as the attempt and the reactor's timers."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.logger import Logger

from ..reconnect import Backoff, Reconnector

__all__ = ["ReconnectingClient"]

log = Logger(namespace="wsproto_cb")


class ReconnectingClient:
    """Keep ``factory`` connected to its URL (through its proxy, if it has one).

    ``stop()`` ends the retries and closes the open connection with ``code``;
    its Deferred fires once closed.  :attr:`done` fires with the reason when
    retrying ends by policy (a 4xx refusal, ``max_attempts``) or stop.
    (Twisted's own ``ReconnectingClientFactory`` mixed into our client
    factory works too; this one adds jitter, the 4xx rule and a clean stop.)
    """

    def __init__(
        self,
        factory: Any,
        backoff: Backoff | None = None,
        contextFactory: Any = None,
        reactor: Any = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.factory = factory
        self.backoff = backoff if backoff is not None else Backoff()
        self._context = contextFactory
        self._reactor = reactor
        self._connector: Any = None
        self.done: Deferred[str] = Deferred()
        self._reconnector = Reconnector(
            factory, self.backoff, self._connect, reactor.callLater, reactor.seconds, self._ended
        )

    @property
    def attempts(self) -> int:
        """Connection attempts made since start (refused ones included)."""
        return self._reconnector.attempts

    def start(self) -> None:
        """Start connecting (with the factory's reactor)."""
        self._reconnector.start()

    def _ended(self, reason: str) -> None:
        if not self.done.called:
            if reason != "stopped":
                log.warn(
                    "reconnecting client for {url} stops: {reason}",
                    url=self.factory.url,
                    reason=reason,
                )
            self.done.callback(reason)

    def _connect(self) -> None:
        from . import connectWS

        self._connector = connectWS(self.factory, self._context)

    def stop(self, code: int = 1000, reason: str | None = None) -> Deferred[Any]:
        """Make no more attempts and close the open connection, if any; fires when it is closed."""
        self._reconnector.stop()
        connector = self._connector
        if connector is not None and connector.state == "connecting":
            connector.stopConnecting()
        waits = self.factory.closeAllConnections(code, reason)
        self._ended("stopped")
        return DeferredList(waits)
