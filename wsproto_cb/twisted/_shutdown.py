"""Graceful shutdown on Twisted: :func:`shutdown` and the reactor trigger.

A server factory adds a ``("before", "shutdown")`` system event trigger when
it starts (``startFactory``: the first port listening on it) and removes it
when it stops.  The reactor waits for the Deferred the trigger returns, so
``reactor.stop()``, SIGINT/SIGTERM in a reactor script and twistd stopping
all close every connection with 1001 first, bounded as described in
:mod:`wsproto_cb.shutdown`.

Exit status: after a signal, twistd (and ``twist``) normally end the
process by re-raising that signal (status 143 for SIGTERM).  Once the
connections are closed gracefully, :func:`graceful_exit` tells the reactor
no signal needs reporting, so the process exits 0, as a reactor script does.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from ..shutdown import (
    ABORT_WAIT,
    DEFAULT_CODE,
    DEFAULT_REASON,
    abort_connections,
    begin_shutdown,
    close_backplanes,
    shutdown_bound,
)

__all__ = ["ShutdownTrigger", "graceful_exit", "shutdown"]


def _global_reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _wait(deferreds: list[Any], timeout: float, clock: Any) -> defer.Deferred[None]:
    """Fire when every Deferred fired, or after ``timeout`` seconds."""
    pending = [d for d in deferreds if not d.called]
    done: defer.Deferred[None] = defer.Deferred()
    if not pending:
        done.callback(None)
        return done

    def expire() -> None:
        if not done.called:
            done.callback(None)

    timer = clock.callLater(timeout, expire)

    def finished(_result: Any) -> None:
        if timer.active():
            timer.cancel()
        if not done.called:
            done.callback(None)

    # (is_closed Deferreds are shared with the application: wait on copies)
    waits = [_observe(d) for d in pending]
    defer.gatherResults(waits, consumeErrors=True).addBoth(finished)
    return done


def _observe(d: defer.Deferred[Any]) -> defer.Deferred[None]:
    observer: defer.Deferred[None] = defer.Deferred()

    def passthrough(result: Any) -> Any:
        if not observer.called:
            observer.callback(None)
        return result

    d.addBoth(passthrough)
    return observer


def shutdown(
    *factories: Any,
    code: int | None = DEFAULT_CODE,
    reason: str | None = DEFAULT_REASON,
    timeout: float | None = None,
    reactor: Any = None,
) -> defer.Deferred[None]:
    """Close every connection of ``factories`` with ``code``; the Deferred fires
    when they are closed, after at most ``timeout`` seconds (default: the
    largest ``closeHandshakeTimeout`` plus a little) and an abort of the rest."""
    clock = reactor or _global_reactor()
    bound = shutdown_bound(factories) if timeout is None else timeout
    first = _wait(begin_shutdown(factories, code, reason), bound, clock)

    def abort_rest(_: Any) -> defer.Deferred[None]:
        return _wait(abort_connections(factories), ABORT_WAIT, clock)

    def close_links(_: Any) -> defer.Deferred[None]:
        return _wait(close_backplanes(factories), ABORT_WAIT, clock)

    first.addCallback(abort_rest)
    first.addCallback(close_links)
    return first


def graceful_exit(reactor: Any) -> None:
    """Let twistd exit 0 after a graceful shutdown instead of re-raising the signal.

    (Twisted records the signal in the reactor's ``_exitSignal``, see
    ``twisted.internet.interfaces._ISupportsExitSignalCapturing``.)
    """
    if getattr(reactor, "_exitSignal", None) is not None:
        reactor._exitSignal = None


def _trigger_reactor(factory: Any) -> Any:
    own = getattr(factory, "reactor", None)
    if own is not None and hasattr(own, "addSystemEventTrigger"):
        return own
    return _global_reactor()


class ShutdownTrigger:
    """A ``("before", "shutdown")`` reactor trigger that makes the reactor's
    shutdown wait for ``factory``'s connections to close (the factory holds
    one while it listens: ``startFactory`` / ``stopFactory``)."""

    def __init__(self, factory: Any) -> None:
        self._reactor = reactor = _trigger_reactor(factory)
        #: whether it ran or was removed: nothing to remove any more
        self.done = False

        def on_shutdown() -> defer.Deferred[None]:
            self.done = True
            d = shutdown(factory, reactor=reactor)
            d.addCallback(lambda _: graceful_exit(reactor))
            return d

        self._handle = reactor.addSystemEventTrigger("before", "shutdown", on_shutdown)

    def remove(self) -> None:
        if not self.done:
            self.done = True
            self._reactor.removeSystemEventTrigger(self._handle)
