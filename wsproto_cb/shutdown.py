"""Graceful shutdown, the part both runtimes share.

When a server is told to stop (Ctrl-C, SIGTERM, ``reactor.stop()``, twistd
stopping), every connection gets a close frame with 1001 ("going away"),
connections still in the opening handshake are dropped, and the process
waits for the closing handshakes, but never longer than
:func:`shutdown_bound`: the largest ``closeHandshakeTimeout`` of the
factories plus a little for the TCP close.  Whatever is still connected then
is aborted.  Last, the backplanes close their links to Redis once what they
were given is written (a second at most).

The waiting is runtime-specific and lives beside each runtime:

- asyncio: ``await wsproto_cb.asyncio.shutdown(factory)``; and a server
  factory installs SIGINT/SIGTERM handlers on its loop when it builds its
  first protocol (only in the main thread, and only where nobody else
  handles those signals yet), which shut down gracefully and then stop the
  loop, so ``loop.run_forever()`` returns and the script exits 0.
- Twisted: ``wsproto_cb.twisted.shutdown(factory)`` returns a Deferred; a
  server factory adds a ``("before", "shutdown")`` reactor trigger when it
  starts listening, so ``reactor.stop()``, SIGINT/SIGTERM and twistd all
  wait for it.

``factory.gracefulShutdown = False`` turns both automatic hooks off.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .core.codes import CloseCode

__all__ = [
    "DEFAULT_CODE",
    "DEFAULT_REASON",
    "ShutdownTarget",
    "abort_connections",
    "begin_shutdown",
    "close_backplanes",
    "shutdown_bound",
]

DEFAULT_CODE = int(CloseCode.GOING_AWAY)
DEFAULT_REASON = "going away"

#: Time for the TCP close after the closing handshake.
TCP_CLOSE_MARGIN = 0.5
#: Bound used when every factory disabled its closeHandshakeTimeout (0).
FALLBACK_CLOSE_TIMEOUT = 1.0
#: How long to wait for aborted connections to be reported lost.
ABORT_WAIT = 1.0


class ShutdownTarget(Protocol):
    """A server or client factory, as shutdown uses it (futures/Deferreds are ``Any``:
    each runtime waits for its own)."""

    closeHandshakeTimeout: float

    def closeAllConnections(
        self, code: int | None = ..., reason: str | None = ..., abort: bool = ...
    ) -> list[Any]: ...

    def _close_backplane(self) -> list[Any]:
        """Close the factory's backplane; what is still closing."""


def shutdown_bound(factories: Iterable[ShutdownTarget]) -> float:
    """Seconds to wait for the closing handshakes of ``factories``' connections."""
    timeouts = [float(f.closeHandshakeTimeout) for f in factories]
    longest = max((t for t in timeouts if t > 0), default=FALLBACK_CLOSE_TIMEOUT)
    return longest + TCP_CLOSE_MARGIN


def begin_shutdown(
    factories: Iterable[ShutdownTarget],
    code: int | None = DEFAULT_CODE,
    reason: str | None = DEFAULT_REASON,
) -> list[Any]:
    """Start closing every connection; return the ``is_closed`` futures/Deferreds."""
    waits: list[Any] = []
    for factory in factories:
        waits.extend(factory.closeAllConnections(code, reason))
    return waits


def abort_connections(factories: Iterable[ShutdownTarget]) -> list[Any]:
    """Drop what is still connected after the bound; return their ``is_closed``."""
    waits: list[Any] = []
    for factory in factories:
        waits.extend(factory.closeAllConnections(abort=True))
    return waits


def close_backplanes(factories: Iterable[ShutdownTarget]) -> list[Any]:
    """Close the factories' backplanes, last: what the connections' ``onClose``
    broadcast (a "left" message, say) is still written out to Redis.  Return a
    future/Deferred per backplane connection still closing (wait, bounded)."""
    waits: list[Any] = []
    for factory in factories:
        waits.extend(factory._close_backplane())
    return waits
