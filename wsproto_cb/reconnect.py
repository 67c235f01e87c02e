"""Clients that come back: the reconnect policy and its driver, runtime-neutral.

:class:`Backoff` decides the delays (exponential, with jitter, capped, reset
after a healthy connection) and which failures are worth retrying;
:class:`Reconnector` runs it for one client factory.  The runtimes only
supply "connect once" and a timer: ``wsproto_cb.asyncio.ReconnectingClient``
and ``wsproto_cb.twisted.ReconnectingClient``.  Each connection is a fresh
protocol instance, so ``onOpen``/``onClose`` run once per connection.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .runtime import TimerHandle

if TYPE_CHECKING:
    from .contracts import WatchedClientFactory
    from .protocol import WebSocketProtocol

__all__ = ["Backoff", "Reconnector"]


@dataclass
class Backoff:
    """Delays between attempts: ``initial * factor**n`` capped at ``max_delay``.

    ``jitter`` (0..1) takes up to that fraction off each delay at random, so
    clients dropped together do not come back together (1.0 is "full
    jitter").  A connection that stayed open ``healthy_after`` seconds
    resets the count.  A handshake refused with 4xx is not retried unless
    ``retry_refused``; ``max_attempts`` failures in a row (``None``: no
    limit) end the retries.
    """

    initial: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.5
    healthy_after: float = 10.0
    retry_refused: bool = False
    max_attempts: int | None = None
    random: Callable[[], float] = field(default=random.random, repr=False)
    #: failures since the last healthy connection
    failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.initial < 0 or self.max_delay < self.initial or self.factor < 1:
            raise ValueError("need 0 <= initial <= max_delay and factor >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def next_delay(self) -> float | None:
        """Count a failure; the delay before the next attempt, or ``None`` to give up."""
        self.failures += 1
        if self.max_attempts is not None and self.failures >= self.max_attempts:
            return None
        base = min(self.max_delay, self.initial * self.factor ** (self.failures - 1))
        return base * (1.0 - self.jitter * self.random())

    def reset(self) -> None:
        """Start again from the first delay (after a healthy connection)."""
        self.failures = 0

    def retries(self, handshake_status: int) -> bool:
        """Whether a connection that ended this way is retried (0: no HTTP refusal)."""
        return self.retry_refused or not 400 <= handshake_status < 500


class Reconnector:
    """Keeps one client connected: ``connect()`` once per attempt, retries on a timer.

    The runtime calls :meth:`attempt_failed` when an attempt fails before a
    protocol exists (refused, DNS, proxy); the factory reports each
    protocol's open and close here (``factory._connection_watcher``).
    ``on_give_up(reason)`` runs once when retrying ends by policy.
    """

    def __init__(
        self,
        factory: WatchedClientFactory,
        backoff: Backoff,
        connect: Callable[[], None],
        call_later: Callable[[float, Callable[[], None]], TimerHandle],
        now: Callable[[], float],
        on_give_up: Callable[[str], None] | None = None,
    ) -> None:
        self.factory = factory
        self.backoff = backoff
        self._connect = connect
        self._call_later = call_later
        self._now = now
        self._on_give_up = on_give_up
        self._timer: TimerHandle | None = None
        self._opened_at: dict[WebSocketProtocol, float] = {}
        self.running = False
        #: attempts made so far (for logs and tests)
        self.attempts = 0
        #: the delay chosen before the next attempt, if one is scheduled
        self.next_delay: float | None = None

    def start(self) -> None:
        """Make the first attempt now."""
        if self.running:
            return
        if self.factory._connection_watcher not in (None, self):
            raise RuntimeError("this factory is already driven by another ReconnectingClient")
        self.factory._connection_watcher = self
        self.running = True
        self._attempt()

    def stop(self) -> None:
        """No more attempts; a connection that is open stays so (close it yourself)."""
        self.running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.next_delay = None
        if self.factory._connection_watcher is self:
            self.factory._connection_watcher = None

    def _attempt(self) -> None:
        self._timer = None
        self.next_delay = None
        if self.running:
            self.attempts += 1
            self._connect()

    def _retry(self, why: str) -> None:
        if not self.running:
            return
        delay = self.backoff.next_delay()
        if delay is None:
            self._give_up(f"{why}; giving up after {self.backoff.failures} failed attempt(s)")
            return
        self.next_delay = delay
        self._timer = self._call_later(delay, self._attempt)

    def _give_up(self, reason: str) -> None:
        self.stop()
        if self._on_give_up is not None:
            self._on_give_up(reason)

    # --- reported by the runtime and the factory

    def attempt_failed(self, error: BaseException) -> None:
        """An attempt failed before the handshake: retry after the next delay, or give up."""
        self._retry(f"connection failed: {error}")

    def connection_opened(self, proto: WebSocketProtocol) -> None:
        """A connection opened: the backoff starts over once it proves healthy."""
        self._opened_at[proto] = self._now()

    def connection_closed(self, proto: WebSocketProtocol) -> None:
        """The connection closed: schedule the next attempt unless stopped."""
        opened_at = self._opened_at.pop(proto, None)
        if not self.running:
            return
        if opened_at is not None and self._now() - opened_at >= self.backoff.healthy_after:
            self.backoff.reset()
        error = getattr(proto, "handshake_error", None)
        status = getattr(error, "status", 0) or 0
        if not self.backoff.retries(status):
            self._give_up(f"the server refused the handshake ({status} {error.reason})")  # type: ignore[union-attr]
            return
        self._retry("connection closed")
