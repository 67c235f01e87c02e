"""The whole interface between the callback layer and an event loop.

:mod:`wsproto_cb.protocol` holds every WebSocket rule that is not in the
sans-I/O core; it touches the event loop only through one :class:`Runtime`
object per connection.  :mod:`wsproto_cb.asyncio` and
:mod:`wsproto_cb.twisted` each implement this interface once, in a few
dozen lines, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["Runtime", "TimerHandle"]


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Runtime(Protocol):
    """Transport and loop services for one connection."""

    #: ``"tcp4:127.0.0.1:9000"`` style peer description
    peer: str
    #: whether the transport is TLS
    is_secure: bool
    #: bytes passed to :meth:`write` so far (``trafficStats`` reads it)
    octets_written: int

    def write(self, data: bytes) -> None:
        """Queue bytes for the peer."""

    def write_parts(self, parts: Sequence[bytes | memoryview]) -> None:
        """Queue ``parts`` for the peer, in order, as ``write`` of them joined would.

        A large message goes this way (header, then payload) so that its
        payload is not copied into a frame first; the buffers must not
        change afterwards, as they may be queued as they are.
        """

    def write_buffer_size(self) -> int:
        """Bytes written but still queued in user space (not yet given to the kernel)."""

    def close(self) -> None:
        """Close the transport after queued bytes are written."""

    def abort(self) -> None:
        """Close the transport at once, discarding queued bytes."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` after ``delay`` seconds unless cancelled."""

    def call_from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop's thread soon; callable from any thread,
        and calls from one thread run in order."""

    def now(self) -> float:
        """Monotonic time in seconds, as the loop sees it."""

    def pause_reading(self) -> None:
        """Stop delivering received bytes (backpressure towards the peer)."""

    def resume_reading(self) -> None:
        """Resume delivering received bytes."""

    def set_nodelay(self, enabled: bool) -> None:
        """Set TCP_NODELAY where the transport is TCP."""

    def is_awaitable(self, value: Any) -> bool:
        """Whether a callback's result is something to wait for (coroutine, Future, Deferred)."""

    def await_result(self, value: Any, done: Callable[[bool, Any], None]) -> TimerHandle:
        """Wait for an awaitable; call ``done(True, result)`` or ``done(False, exception)``.

        The wait is tracked (never fire-and-forget), so an error surfaces
        through ``done`` instead of vanishing in a dropped task.  The handle's
        ``cancel()`` cancels the awaitable (its Task or Deferred); ``done``
        then gets the cancellation as an error.
        """

    def create_future(self) -> Any:
        """A Future (asyncio) or Deferred (Twisted) for ``is_closed``."""

    def resolve_future(self, future: Any, value: Any) -> None:
        """Resolve a future made by :meth:`create_future` (idempotent)."""

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        """Log an error, with the traceback of ``exc`` when given."""

    def log_warning(self, message: str) -> None:
        """Log a warning: something works, but is probably not what the user meant."""
