"""Broadcast within one process: groups of connections and one frame per message.

``factory.broadcast(payload, isBinary=False, group=None, exclude=None)``
sends a message to every open connection of a server factory (``group=None``)
or to the members of one group, and returns how many connections it was
written to.  Connections join and leave groups with ``self.joinGroup(name)``
and ``self.leaveGroup(name)``; a closed connection leaves its groups by
itself.  ``self.broadcast(payload, isBinary=False, group=None)`` is the same
call that leaves out the sender.

One frame per message
    The frame is built once (a :class:`~wsproto_cb.prepared.PreparedMessage`)
    and the same bytes object is written to every recipient that can take it
    as is: every uncompressed connection, and every compressing connection
    whose negotiated deflate parameters allow a no-context-takeover frame to
    be shared (one compressed frame per parameter set).  A connection that
    keeps its deflate context between messages falls back to a normal send
    of the payload (docs/compression.md, "Broadcast and compression").

Slow consumers
    Broadcasting never waits for anyone.  Before writing to a connection it
    looks at the bytes already queued in its transport (user space, not yet
    taken by the kernel): if those plus this message would exceed the
    factory's ``broadcastQueueLimit`` (bytes, default 1 MiB), the message is
    not written to that connection, so one connection that does not read
    neither holds the others back nor grows memory without bound.  (A
    connection with an empty queue always takes the message, however large,
    so a message over the limit still reaches readers that keep up.)  What
    happens then is the option ``broadcastOverflow``:

    - ``"drop"`` (default): skip that recipient;
    - ``"close"``: close it with 1008 (policy violation);
    - ``"close-try-again"``: close it with 1013 (try again later).

    In every case the recipient's ``broadcastDropped`` counter goes up and its
    ``onBroadcastDropped(count)`` callback is called with the new total, so
    the application can resynchronise that client or log it.  A connection
    in the middle of sending a streamed message (``beginMessage``) cannot
    take a whole message either; it is counted the same way but never closed.

The registry lives on the factory and holds only open connections, so it
costs nothing for a server that never uses groups.  It tells the factory's
backplane when a group gets its first member or loses its last, so that
other processes' broadcasts reach this one only for groups it has members
of (see :mod:`wsproto_cb.backplane`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from .core.codes import CloseCode
from .prepared import PreparedMessage
from .protocol import WebSocketProtocol
from .sending import checked_payload

if TYPE_CHECKING:
    from .contracts import BroadcastRecipient
    from .metrics import ServerMetrics

__all__ = ["BroadcastSource", "GroupRegistry", "broadcast"]

_OVERFLOW_CLOSE = {
    "close": (CloseCode.POLICY_VIOLATION, "broadcast queue overflow"),
    "close-try-again": (CloseCode.TRY_AGAIN_LATER, "broadcast queue overflow, try again later"),
}


class BroadcastSource(Protocol):
    """What :func:`broadcast` reads of the server factory that broadcasts."""

    maxMessagePayloadSize: int
    broadcastQueueLimit: int
    broadcastOverflow: str

    @property
    def metrics(self) -> ServerMetrics:
        """The factory's counters: a broadcast counts what it dropped there."""
        ...

    def prepareMessage(
        self, payload: bytes, isBinary: bool = False, doNotCompress: bool = False
    ) -> PreparedMessage:
        """Frame (and compress) the payload once for every recipient."""
        ...


class GroupRegistry:
    """Group name -> member connections, and the reverse, for one factory.

    The factory makes it in its ``__init__`` and tells its backplane when
    :meth:`join` makes a group or :meth:`leave` / :meth:`forget` ends one.
    """

    __slots__ = ("_groups", "_memberships")

    def __init__(self) -> None:
        self._groups: dict[str, set[WebSocketProtocol]] = {}
        self._memberships: dict[WebSocketProtocol, set[str]] = {}

    def join(self, proto: WebSocketProtocol, name: str) -> bool:
        """Add a member; whether the group is new (its first member)."""
        if not isinstance(name, str):
            raise TypeError(f"group name must be a str, not {type(name).__name__}")
        members = self._groups.get(name)
        created = members is None
        if members is None:
            members = self._groups[name] = set()
        members.add(proto)
        self._memberships.setdefault(proto, set()).add(name)
        return created

    def leave(self, proto: WebSocketProtocol, name: str) -> bool:
        """Remove a member; whether the group is now gone (that was its last member)."""
        removed = False
        members = self._groups.get(name)
        if members is not None:
            members.discard(proto)
            if not members:
                del self._groups[name]
                removed = True
        names = self._memberships.get(proto)
        if names is not None:
            names.discard(name)
            if not names:
                del self._memberships[proto]
        return removed

    def forget(self, proto: WebSocketProtocol) -> list[str]:
        """Take a connection out of every group it is in; the groups that are now gone."""
        return [name for name in list(self._memberships.get(proto, ())) if self.leave(proto, name)]

    def members(self, name: str) -> frozenset[WebSocketProtocol]:
        """The connections in group ``name`` now (a snapshot)."""
        return frozenset(self._groups.get(name, ()))

    def groups_of(self, proto: WebSocketProtocol) -> frozenset[str]:
        """The groups a connection is in now (a snapshot)."""
        return frozenset(self._memberships.get(proto, ()))

    def names(self) -> list[str]:
        """The names of the groups that have members."""
        return list(self._groups)


def _excluded(exclude: object) -> frozenset[object]:
    if exclude is None:
        return frozenset()
    if isinstance(exclude, WebSocketProtocol):
        return frozenset((exclude,))
    if isinstance(exclude, Iterable):
        return frozenset(exclude)
    raise TypeError(f"exclude must be a protocol or an iterable of them, not {exclude!r}")


def broadcast(
    factory: BroadcastSource,
    recipients: Iterable[BroadcastRecipient],
    payload: bytes,
    isBinary: bool = False,
    exclude: object = None,
) -> int:
    """Write a message to ``recipients`` that are open (but not ``exclude``); how many got it.

    ``recipients`` is a snapshot (a callback run from here may close or join).
    """
    payload = checked_payload(payload, factory.maxMessagePayloadSize)
    skip = _excluded(exclude)
    prepared = None
    queue_limit = factory.broadcastQueueLimit
    policy = factory.broadcastOverflow
    metrics = factory.metrics
    sent = 0
    for proto in recipients:
        if proto in skip or proto.state != proto.STATE_OPEN:
            continue
        if prepared is None:
            prepared = factory.prepareMessage(payload, isBinary)
        refused = proto._write_broadcast(prepared, queue_limit)
        if refused is None:
            sent += 1
        else:  # (a streamed message being sent is counted, never closed)
            _dropped(proto, metrics, policy if refused == "queue_full" else None)
    metrics.broadcast_deliveries += sent
    return sent


def _dropped(proto: BroadcastRecipient, metrics: ServerMetrics, policy: str | None) -> None:
    proto.broadcastDropped += 1
    metrics.broadcast_drops += 1
    try:
        proto.onBroadcastDropped(proto.broadcastDropped)
    except Exception as exc:  # one application error must not stop the broadcast
        proto._report_error(f"error in onBroadcastDropped of {type(proto).__name__}", exc)
    close = _OVERFLOW_CLOSE.get(policy or "")
    if close is not None and proto.state == proto.STATE_OPEN:
        proto.sendClose(*close)
