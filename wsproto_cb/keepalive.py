"""Auto-ping: how a connection notices a peer that is gone without a FIN.

With ``autoPingInterval`` set, a connection that has heard nothing for that
long sends a ping with ``autoPingSize`` random bytes and drops the peer (1006,
counted in the metrics) if neither the matching pong nor, with
``autoPingRestartOnAnyTraffic``, any other traffic arrives within
``autoPingTimeout``.  Any received bytes count as a sign of life, so a busy
connection is never pinged.

One :class:`KeepAlive` per open connection with auto-ping on (the protocol
makes it in ``_open`` and stops it with its other timers); it owns its two
timers and reads the options from the protocol at each tick, so a protocol
that changes ``self.autoPingInterval`` while open is obeyed from the next one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .contracts import KeepAliveOwner
    from .runtime import TimerHandle

__all__ = ["KeepAlive"]


class KeepAlive:
    """The auto-ping of one open connection (see the module docstring).

    ``last_rx`` is the time bytes last arrived; the protocol sets it.  A ping
    is outstanding while ``_payload`` is not None.
    """

    __slots__ = ("_deadline", "_owner", "_payload", "_sent_at", "_tick", "last_rx")

    def __init__(self, owner: KeepAliveOwner, now: float) -> None:
        self._owner = owner
        self.last_rx = now
        self._payload: bytes | None = None
        self._sent_at = 0.0
        self._tick: TimerHandle | None = None
        self._deadline: TimerHandle | None = None

    @classmethod
    def start(cls, owner: KeepAliveOwner) -> KeepAlive | None:
        """A running keep-alive for ``owner``, or None when auto-ping is off."""
        interval = owner.autoPingInterval
        if not (interval and interval > 0):
            return None
        keepalive = cls(owner, owner._rt.now())
        keepalive._schedule_tick(interval)
        return keepalive

    def stop(self) -> None:
        """Cancel both timers (the connection is closing or gone)."""
        tick, deadline, self._tick, self._deadline = self._tick, self._deadline, None, None
        if tick is not None:
            tick.cancel()
        if deadline is not None:
            deadline.cancel()

    def pong_received(self, payload: bytes) -> None:
        """A pong arrived: it answers our ping if it carries the ping's payload."""
        if self._payload is not None and payload == self._payload:
            self._payload = None
            deadline, self._deadline = self._deadline, None
            if deadline is not None:
                deadline.cancel()

    def _schedule_tick(self, delay: float) -> None:
        if self._tick is not None:
            self._tick.cancel()
        self._tick = self._owner._rt.call_later(delay, self._on_tick) if delay > 0 else None

    def _on_tick(self) -> None:
        self._tick = None
        owner = self._owner
        conn = owner._conn
        if owner.state != owner.STATE_OPEN or conn is None:
            return
        interval = owner.autoPingInterval
        now = owner._rt.now()
        idle = now - self.last_rx
        if owner.autoPingRestartOnAnyTraffic and idle < interval:
            self._schedule_tick(interval - idle)
            return
        if self._payload is None:
            self._payload = os.urandom(owner.autoPingSize)
            self._sent_at = now
            owner._rt.write(conn.send_ping(self._payload))
            if self._deadline is not None:
                self._deadline.cancel()
            timeout = owner.autoPingTimeout
            self._deadline = (
                owner._rt.call_later(timeout, self._on_timeout) if timeout and timeout > 0 else None
            )
        self._schedule_tick(interval)

    def _on_timeout(self) -> None:
        self._deadline = None
        owner = self._owner
        if owner.autoPingRestartOnAnyTraffic and self.last_rx > self._sent_at:
            self._payload = None  # the peer sent something: it is alive
            return
        owner._keepalive_failed()
