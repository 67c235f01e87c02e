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
from typing import Any

from .core.codes import CloseCode
from .protocol import WebSocketProtocol
from .sending import checked_payload

__all__ = [
    "GroupRegistry",
    "broadcast",
    "forget_connection",
    "join_group",
    "leave_group",
    "registry_of",
]

_OVERFLOW_CLOSE = {
    "close": (CloseCode.POLICY_VIOLATION, "broadcast queue overflow"),
    "close-try-again": (CloseCode.TRY_AGAIN_LATER, "broadcast queue overflow, try again later"),
}


class GroupRegistry:
    """Group name -> member connections, and the reverse, for one factory."""

    __slots__ = ("_groups", "_memberships")

    def __init__(self) -> None:
        self._groups: dict[str, set[Any]] = {}
        self._memberships: dict[Any, set[str]] = {}

    def join(self, proto: Any, name: str) -> bool:
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

    def leave(self, proto: Any, name: str) -> bool:
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

    def forget(self, proto: Any) -> list[str]:
        """Take a connection out of every group it is in; the groups that are now gone."""
        return [
            name for name in list(self._memberships.get(proto, ())) if self.leave(proto, name)
        ]

    def members(self, name: str) -> frozenset[Any]:
        """The connections in group ``name`` now (a snapshot)."""
        return frozenset(self._groups.get(name, ()))

    def groups_of(self, proto: Any) -> frozenset[str]:
        """The groups a connection is in now (a snapshot)."""
        return frozenset(self._memberships.get(proto, ()))

    def names(self) -> list[str]:
        """The names of the groups that have members."""
        return list(self._groups)


def registry_of(factory: Any) -> GroupRegistry:
    """The factory's group registry, made on first use."""
    registry: GroupRegistry | None = getattr(factory, "_broadcast_groups", None)
    if registry is None:
        registry = GroupRegistry()
        factory._broadcast_groups = registry
    return registry


def join_group(proto: Any, name: str) -> None:
    """Add a connection to its factory's group ``name`` (what ``joinGroup`` does)."""
    factory = proto.factory
    if factory is None or proto.state == proto.STATE_CLOSED:
        return  # a closed connection would never be forgotten again
    if registry_of(factory).join(proto, name):
        factory.backplane.subscribe(name)


def leave_group(proto: Any, name: str) -> None:
    """Remove a connection from group ``name``; a group without members is forgotten."""
    factory = proto.factory
    if factory is not None and registry_of(factory).leave(proto, name):
        factory.backplane.unsubscribe(name)


def forget_connection(factory: Any, proto: Any) -> None:
    """A closed connection leaves every group it was in."""
    registry: GroupRegistry | None = getattr(factory, "_broadcast_groups", None)
    if registry is not None:
        for name in registry.forget(proto):
            factory.backplane.unsubscribe(name)


def _excluded(exclude: Any) -> frozenset[Any]:
    if exclude is None:
        return frozenset()
    if isinstance(exclude, WebSocketProtocol):
        return frozenset((exclude,))
    if isinstance(exclude, Iterable):
        return frozenset(exclude)
    raise TypeError(f"exclude must be a protocol or an iterable of them, not {exclude!r}")


def broadcast(
    factory: Any,
    payload: bytes,
    isBinary: bool = False,
    group: str | None = None,
    exclude: Any = None,
) -> int:
    """Write a message to the factory's open connections (or a group's); how many got it."""
    payload = checked_payload(payload, factory.maxMessagePayloadSize)
    if group is None:
        recipients: Iterable[Any] = list(factory._open_connections)
    else:
        recipients = registry_of(factory).members(group)
    skip = _excluded(exclude)
    prepared = None
    queue_limit: int = factory.broadcastQueueLimit
    policy: str = factory.broadcastOverflow
    sent = 0
    for proto in recipients:
        conn = proto._conn
        if proto in skip or conn is None or proto.state != proto.STATE_OPEN:
            continue
        if prepared is None:
            prepared = factory.prepareMessage(payload, isBinary)
        frame = prepared.frame_for(conn)
        size = len(frame) if frame is not None else len(payload)
        if proto._sending_stream:
            _dropped(proto, None)
            continue
        queued = proto._rt.write_buffer_size()
        if queued and queued + size > queue_limit:
            _dropped(proto, policy)
            continue
        if frame is not None:
            proto._rt.write(frame)
        else:
            proto.sendMessage(payload, isBinary)
        sent += 1
    factory.metrics.broadcast_deliveries += sent
    return sent


def _dropped(proto: Any, policy: str | None) -> None:
    proto.broadcastDropped += 1
    proto.factory.metrics.broadcast_drops += 1
    try:
        proto.onBroadcastDropped(proto.broadcastDropped)
    except Exception as exc:  # one application error must not stop the broadcast
        proto._rt.log_error(f"error in onBroadcastDropped of {type(proto).__name__}", exc)
    close = _OVERFLOW_CLOSE.get(policy or "")
    if close is not None and proto.state == proto.STATE_OPEN:
        proto.sendClose(*close)
