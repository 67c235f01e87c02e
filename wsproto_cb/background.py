"""Callbacks whose awaitables run alongside message delivery.

Most callbacks that return an awaitable hold delivery until it is done (see
:mod:`wsproto_cb.protocol`).  Two do not:

- ``onOpen``: client code often loops in it for the life of the connection
  (``while True: self.sendMessage(...); await asyncio.sleep(1)``, or the
  same with ``@inlineCallbacks``).  Holding delivery behind it would starve
  ``onMessage``, pongs and the closing handshake, and auto-ping would drop a
  healthy connection.
- ``onMessage`` with the ``messageConcurrency`` option above 1: up to that
  many handlers run at once (they start in order), as in Autobahn, which
  fires coroutine callbacks and forgets them.  At the bound the connection
  stops reading until one finishes, so memory stays bounded.

Either way the awaitable is tracked, never fire-and-forget: an error fails
the connection with 1011 like any callback error, and whatever still runs
when the connection closes is cancelled (a Task's ``cancel()``, a
Deferred's ``cancel()``); a cancellation we caused is not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .runtime import Runtime, TimerHandle

__all__ = ["BackgroundCalls"]


class BackgroundCalls:
    """The awaitables of one connection that run alongside delivery."""

    __slots__ = ("_closing", "_handles", "_rt")

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._handles: dict[object, TimerHandle] = {}
        self._closing = False

    def __len__(self) -> int:
        """How many are still running."""
        return len(self._handles)

    def start(
        self,
        awaitable: Any,
        on_error: Callable[[BaseException], None],
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        """Run ``awaitable``; ``on_error`` gets its exception (not one we
        caused by cancelling), ``on_settled`` runs when it is over either way."""
        token = object()
        settled = False

        def done(ok: bool, value: Any) -> None:
            nonlocal settled
            settled = True
            self._handles.pop(token, None)
            if not ok and not self._closing:
                on_error(value)
            if on_settled is not None:
                on_settled()

        handle = self._rt.await_result(awaitable, done)
        if not settled:  # (an awaitable that was already done settles at once)
            self._handles[token] = handle

    def cancel_all(self) -> None:
        """The connection is gone: cancel whatever still runs."""
        self._closing = True
        handles, self._handles = list(self._handles.values()), {}
        for handle in handles:
            handle.cancel()
