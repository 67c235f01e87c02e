"""Auto-ping: how a connection notices a peer that is gone without a FIN.

With ``autoPingInterval`` set, a connection that has heard nothing for that
long sends a ping with ``autoPingSize`` random bytes and drops the peer (1006,
counted in the metrics) if neither the matching pong nor, with
``autoPingRestartOnAnyTraffic``, any other traffic arrives within
``autoPingTimeout``.  Any received bytes count as a sign of life, so a busy
connection is never pinged.  A mixin of :class:`~wsproto_cb.protocol.WebSocketProtocol`;
its state (``_ping_payload``, ``_last_rx`` ...) is set up there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.connection import Connection
    from .runtime import Runtime

__all__ = ["AutoPing"]


class AutoPing:
    """The auto-ping timers of one connection (see the module docstring)."""

    # (provided by WebSocketProtocol)
    _rt: Runtime
    _conn: Connection | None
    state: int
    STATE_OPEN: int
    factory: Any
    wasNotCleanReason: str | None
    autoPingInterval: float
    autoPingTimeout: float
    autoPingSize: int
    autoPingRestartOnAnyTraffic: bool
    _ping_payload: bytes | None
    _ping_sent_at: float
    _last_rx: float
    _track_rx: bool
    _start_timer: Callable[[str, float, Callable[[], None]], None]
    _cancel_timer: Callable[[str], None]
    _drop: Callable[..., None]
    _invoke: Callable[..., bool]
    onPong: Callable[[bytes], Any]

    def _start_auto_ping(self) -> None:
        interval = self.autoPingInterval
        if interval and interval > 0:
            self._track_rx = True
            self._last_rx = self._rt.now()
            self._start_timer("ping", interval, self._auto_ping_tick)

    def _auto_ping_tick(self) -> None:
        if self.state != self.STATE_OPEN or self._conn is None:
            return
        interval = self.autoPingInterval
        now = self._rt.now()
        idle = now - self._last_rx
        if self.autoPingRestartOnAnyTraffic and idle < interval:
            self._start_timer("ping", interval - idle, self._auto_ping_tick)
            return
        if self._ping_payload is None:
            self._ping_payload = os.urandom(self.autoPingSize)
            self._ping_sent_at = now
            self._rt.write(self._conn.send_ping(self._ping_payload))
            self._start_timer("pong", self.autoPingTimeout, self._auto_ping_timeout)
        self._start_timer("ping", interval, self._auto_ping_tick)

    def _auto_ping_timeout(self) -> None:
        if self.autoPingRestartOnAnyTraffic and self._last_rx > self._ping_sent_at:
            self._ping_payload = None  # the peer sent something: it is alive
            return
        self.wasNotCleanReason = "WebSocket auto-ping timeout (peer did not answer in time)"
        self.factory.metrics.autoping_timeouts += 1
        self._drop(abort=True)

    def _on_pong(self, payload: bytes) -> None:
        if self._ping_payload is not None and payload == self._ping_payload:
            self._ping_payload = None
            self._cancel_timer("pong")
        self._invoke(self.onPong, (payload,))
