"""The :class:`Backplane` interface and the in-memory default.

A server factory broadcasts to its own connections itself, at once; the
backplane carries each broadcast to the other nodes (processes, machines)
and hands theirs back.  A factory always has one: the default,
:class:`LocalBackplane`, carries nothing, which is right for one process.

What the factory tells its backplane:

- :meth:`Backplane.subscribe` / :meth:`Backplane.unsubscribe` when a group
  gets its first local member or loses its last (``None``: the first or last
  open connection), so a node receives only what it has members for;
- :meth:`Backplane.publish` for every ``factory.broadcast``.

What the backplane calls on its listener (the factory) is
:class:`BackplaneListener`: ``_backplane_deliver(group, payload, isBinary)``
for another node's broadcast, ``onBackplaneLost(reason)``,
``onBackplaneRestored()``, ``onBackplaneGap(group, node, missed)``, and
``_backplane_io()`` for the runtime's I/O (``None`` until there is a loop).
"""

from __future__ import annotations

from typing import Protocol

from .io import BackplaneIO

__all__ = ["Backplane", "BackplaneListener", "LocalBackplane"]


class BackplaneListener(Protocol):
    """The factory, as its backplane uses it (a server factory is one)."""

    def _backplane_io(self) -> BackplaneIO | None:
        """The runtime's timers, connections and logging; ``None`` while the
        factory has no event loop yet (asyncio before the first connection)."""

    def _backplane_deliver(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        """Another node's broadcast, for this node's members of ``group``."""

    def onBackplaneLost(self, reason: str) -> None: ...

    def onBackplaneRestored(self) -> None: ...

    def onBackplaneGap(self, group: str | None, node: str, missed: int) -> None: ...


class Backplane:
    """Carries broadcasts between nodes; subclasses say how."""

    #: whether broadcasts reach other processes (the worker warning looks at it)
    crossProcess: bool = False

    def __init__(self) -> None:
        self._listener: BackplaneListener | None = None

    @property
    def listener(self) -> BackplaneListener | None:
        """The factory that receives what other nodes publish (set by ``factory.setBackplane``)."""
        return self._listener

    def attach(self, listener: BackplaneListener) -> None:
        """Called by ``factory.setBackplane``; one factory per backplane."""
        if self._listener is not None and self._listener is not listener:
            raise ValueError("this backplane is already attached to another factory")
        self._listener = listener

    def detach(self) -> None:
        """Called when the factory takes another backplane; stop all work."""
        self._listener = None

    def start(self) -> None:
        """Connect now rather than on first use, so that a wrong address or a
        peer that is down is reported when the server starts listening
        (``factory.startBackplane()``).  Never raises for I/O."""

    def publish(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        """Carry one broadcast to the other nodes (never blocks, never raises for I/O)."""

    def subscribe(self, group: str | None) -> None:
        """This node now has members of ``group`` (``None``: open connections)."""

    def unsubscribe(self, group: str | None) -> None:
        """This node no longer has members of ``group``."""

    def close(self) -> None:
        """Stop for good (connections closed, timers cancelled)."""
        self.detach()


class LocalBackplane(Backplane):
    """One process, nothing to install: broadcasts reach this factory's connections only."""
