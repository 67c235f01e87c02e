"""Sending from threads that are not the event loop's: one call per connection, one per group.

A server often runs beside other work (a thread reading a device, a worker
pool).  ``sendMessage`` and ``broadcast`` must run on the loop's thread;
these variants may be called from any thread.  They hand the call to the
loop (``loop.call_soon_threadsafe`` on asyncio, ``reactor.callFromThread``
on Twisted) and return at once: the caller holds no lock and never waits
for the network.  Calls from one thread run in the order they were made,
so its messages reach each peer in that order; calls from different
threads interleave.  A message for a connection that has closed by the
time the loop runs the call is dropped, as a send on a closed connection
would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .contracts import LoopBroadcaster, ThreadsafeHost
    from .runtime import Runtime

    _Host = ThreadsafeHost
else:
    _Host = object

__all__ = ["ThreadsafeBroadcast", "ThreadsafeSending"]


def _as_bytes(payload: object) -> bytes:
    # (taken now, in the caller's thread: a bytearray it reuses cannot change the message)
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    raise TypeError(f"payload must be bytes, not {type(payload).__name__}")


class ThreadsafeSending(_Host):
    """``sendMessageThreadsafe`` / ``sendCloseThreadsafe`` for protocols
    (what they use of the protocol: :class:`~wsproto_cb.contracts.ThreadsafeHost`)."""

    def sendMessageThreadsafe(self, payload: bytes, isBinary: bool = False) -> None:
        """``sendMessage`` from any thread; queued to the loop, in call order per thread."""
        self._loop_call()(self._send_if_open, _as_bytes(payload), isBinary)

    def sendCloseThreadsafe(self, code: int | None = None, reason: str | None = None) -> None:
        """``sendClose`` from any thread."""
        self._loop_call()(self.sendClose, code, reason)

    def _loop_call(self) -> Callable[..., None]:
        rt: Runtime | None = getattr(self, "_rt", None)
        if rt is None:
            raise RuntimeError("the connection is not made yet: nothing to send on")
        call: Callable[..., None] = rt.call_from_thread
        return call

    def _send_if_open(self, payload: bytes, isBinary: bool) -> None:
        if self.state == self.STATE_OPEN:
            self.sendMessage(payload, isBinary)


class ThreadsafeBroadcast:
    """``broadcastThreadsafe`` for server factories."""

    def broadcastThreadsafe(
        self, payload: bytes, isBinary: bool = False, group: str | None = None
    ) -> None:
        """``factory.broadcast`` from any thread (to every connection, or ``group``'s)."""
        # (a runtime's server factory: it keeps the contract, checked where it is defined)
        factory = cast("LoopBroadcaster", self)
        factory._call_from_thread(
            factory._broadcast_everywhere, _as_bytes(payload), isBinary, group, None
        )
