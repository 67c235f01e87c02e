"""Graceful shutdown on asyncio: :func:`shutdown` and the SIGINT/SIGTERM handlers.

A server factory calls :func:`watch` each time it builds a protocol (the
first moment it runs inside its loop: ``loop.create_server`` never calls the
factory before a client connects, and a constructor must not grab a loop).
The first call for a loop installs, with ``loop.add_signal_handler``,
handlers for SIGINT and SIGTERM that close every connection of the watched
factories with 1001, wait for the closing handshakes (bounded, see
:mod:`wsproto_cb.shutdown`) and then stop the loop.  That makes the plain
``loop.run_until_complete(loop.create_server(...)); loop.run_forever()``
script shut down cleanly and exit 0.

Handlers are installed only in the main thread, where the loop supports
them, and only where neither signal has a Python handler yet: an application
that handles signals itself (``asyncio.run`` does for SIGINT, Twisted does
for both) is left alone, and an ignored signal (``nohup``, a background job
of a shell) stays ignored.  The handlers remove themselves when
they fire, so a second Ctrl-C takes the default action (KeyboardInterrupt)
at once.  :func:`install_signal_handlers` installs them before the first
connection (the CLI does); ``factory.gracefulShutdown = False`` opts out.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import weakref
from typing import Any

from ..shutdown import (
    ABORT_WAIT,
    DEFAULT_CODE,
    DEFAULT_REASON,
    abort_connections,
    begin_shutdown,
    close_backplanes,
    shutdown_bound,
)

__all__ = ["install_signal_handlers", "shutdown", "watch"]

log = logging.getLogger("wsproto_cb")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def shutdown(
    *factories: Any,
    code: int | None = DEFAULT_CODE,
    reason: str | None = DEFAULT_REASON,
    timeout: float | None = None,
) -> None:
    """Close every connection of ``factories`` with ``code`` and wait, bounded.

    Waits at most ``timeout`` seconds (default: the largest
    ``closeHandshakeTimeout`` plus a little), then aborts what is left.
    """
    bound = shutdown_bound(factories) if timeout is None else timeout
    pending = _pending(begin_shutdown(factories, code, reason))
    if pending:
        await asyncio.wait(pending, timeout=bound)
    for step in (abort_connections, close_backplanes):
        pending = _pending(step(factories))
        if pending:
            await asyncio.wait(pending, timeout=ABORT_WAIT)


def _pending(futures: list[Any]) -> set[asyncio.Future[Any]]:
    return {f for f in futures if not f.done()}


class _LoopWatcher:
    """The factories served on one loop, and that loop's signal handlers."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop_ref = weakref.ref(loop)
        self.factories: weakref.WeakSet[Any] = weakref.WeakSet()
        self.installed: tuple[signal.Signals, ...] = ()
        self.checked = False
        self.task: asyncio.Task[None] | None = None

    def install(self) -> bool:
        self.checked = True
        loop = self._loop_ref()
        if loop is None or self.installed:
            return bool(self.installed)
        if threading.current_thread() is not threading.main_thread():
            return False
        handlers = {signum: signal.getsignal(signum) for signum in _SIGNALS}
        if any(not _is_default(h) and h != signal.SIG_IGN for h in handlers.values()):
            return False  # someone else handles them (asyncio.run, Twisted, the app)
        installed = []
        try:
            for signum, handler in handlers.items():
                if handler == signal.SIG_IGN:
                    continue  # (ignored on purpose: nohup, a background job)
                loop.add_signal_handler(signum, self._on_signal, signum)
                installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError) as exc:
            # (Windows loops, a loop that cannot wake up on signals ...)
            log.debug("graceful shutdown: no signal handlers on %r: %s", loop, exc)
            for signum in installed:
                loop.remove_signal_handler(signum)
            return False
        self.installed = tuple(installed)
        return True

    def remove(self) -> None:
        loop = self._loop_ref()
        installed, self.installed = self.installed, ()
        if loop is not None and not loop.is_closed():
            for signum in installed:
                loop.remove_signal_handler(signum)

    def _on_signal(self, signum: signal.Signals) -> None:
        loop = self._loop_ref()
        self.remove()  # a second signal takes the default action: no waiting twice
        if loop is None or self.task is not None:
            return
        factories = list(self.factories)
        count = sum(f.countConnections for f in factories)
        log.info(
            "%s: closing %d WebSocket connection(s) with 1001, then stopping",
            signal.Signals(signum).name,
            count,
        )
        self.task = loop.create_task(shutdown(*factories))
        self.task.add_done_callback(self._stop_loop)

    def _stop_loop(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("graceful shutdown failed", exc_info=exc)
        loop = self._loop_ref()
        if loop is not None:
            loop.stop()


def _is_default(handler: Any) -> bool:
    return handler is signal.default_int_handler or handler == signal.SIG_DFL


_watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWatcher] = (
    weakref.WeakKeyDictionary()
)


def _watcher(loop: asyncio.AbstractEventLoop) -> _LoopWatcher:
    watcher = _watchers.get(loop)
    if watcher is None:
        watcher = _watchers[loop] = _LoopWatcher(loop)
    return watcher


def watch(factory: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Register ``factory`` for ``loop``'s graceful shutdown (first time: install handlers)."""
    watcher = _watcher(loop)
    watcher.factories.add(factory)
    if not watcher.checked:
        watcher.install()


def install_signal_handlers(loop: asyncio.AbstractEventLoop, *factories: Any) -> bool:
    """Install the SIGINT/SIGTERM handlers on ``loop`` now; True if they are in place.

    Call it from the thread that runs the loop, before ``run_forever``, to
    shut down gracefully even before the first client connected.
    """
    watcher = _watcher(loop)
    for factory in factories:
        watcher.factories.add(factory)
    return watcher.install()
