"""Finding out whether Redis is a cluster, and which master owns which slot.

A :class:`Topology` keeps one connection to a node it knows (the URL's
server at first, then any master it has heard of) and asks it
``CLUSTER SLOTS`` at start and whenever its owner asks again (a ``MOVED``
reply, a slot that moved away, a master that went down).  A server
without cluster support answers with an error: the owner then speaks plain
pub/sub to it.  When the node it asks is down, it tries the next one it
knows, so a cluster is followed as long as one of its masters answers.
Runtime-neutral, like :class:`~.link.RedisLink`, on which it is built.
"""

from __future__ import annotations

from typing import Any, Protocol

from .address import RedisAddress
from .io import BackplaneIO, TimerHandle
from .link import LinkSettings, RedisLink
from .resp import RedisReplyError, encode_command
from .slots import SlotMap

__all__ = ["Topology", "TopologyOwner"]

_CLUSTER_SLOTS = encode_command("CLUSTER", "SLOTS")


class TopologyOwner(Protocol):
    def topology_found(self, slots: SlotMap | None, reason: str) -> None:
        """The answer to the last question: the slot map, or ``None`` and
        why not (no cluster support, or a reply that says nothing usable)."""

    def topology_down(self, reason: str) -> None:
        """The node asked is unreachable (the next one is tried)."""


class Topology:
    """Asks ``CLUSTER SLOTS`` over one link, moving to another node when it fails."""

    def __init__(
        self,
        name: str,
        seed: RedisAddress,
        io: BackplaneIO,
        owner: TopologyOwner,
        settings: LinkSettings,
    ) -> None:
        self._name = name
        self._seeds = [seed._replace(db=0)]  # (a cluster refuses SELECT; no command here needs it)
        self._next = 0
        self._io = io
        self._owner = owner
        self._settings = settings
        self._link: RedisLink | None = None
        self._timer: TimerHandle | None = None
        self._failures = 0
        self._wanted = True  # (a question to ask once the link is ready)
        self._asking = False
        self._closed = False

    @property
    def address(self) -> RedisAddress | None:
        """The node it talks to now."""
        return self._link.address if self._link is not None else None

    def start(self) -> None:
        if self._link is None and self._timer is None and not self._closed:
            self._connect()

    def refresh(self) -> None:
        """Ask again (once; several requests while a question is out make one more)."""
        self._wanted = True
        self._ask()

    def learn(self, addresses: list[RedisAddress]) -> None:
        """Nodes to try when the current one fails (the masters of the latest map)."""
        for address in addresses:
            if address not in self._seeds:
                self._seeds.append(address)

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        link, self._link = self._link, None
        if link is not None:
            link.close()

    # ------------------------------------------------------------ internals

    def _connect(self) -> None:
        self._timer = None
        address = self._seeds[self._next % len(self._seeds)]
        self._next += 1
        self._link = RedisLink(f"{self._name}-topology", address, self._io, self, self._settings)
        self._link.start()

    def _ask(self) -> None:
        link = self._link
        if self._wanted and not self._asking and link is not None and link.ready:
            self._wanted = False
            self._asking = True
            link.send(_CLUSTER_SLOTS)

    # ------------------------------------------------------------ LinkOwner

    def link_ready(self, link: RedisLink) -> None:
        self._failures = 0
        self._ask()

    def link_reply(self, link: RedisLink, reply: Any) -> None:
        if not self._asking:
            return
        self._asking = False
        slots: SlotMap | None = None
        if isinstance(reply, RedisReplyError):
            reason = f"{link.address} answered CLUSTER SLOTS with {reply}"
        else:
            try:
                slots = SlotMap.from_cluster_slots(reply, link.address.host)
                reason = ""
            except ValueError as exc:
                reason = f"{link.address}: {exc}"
        self._owner.topology_found(slots, reason)
        self._ask()

    def link_down(self, link: RedisLink, reason: str) -> None:
        if self._asking:
            self._asking = False
            self._wanted = True
        self._failures += 1
        if len(self._seeds) > 1:  # (another node may answer: move on)
            link.close()
            self._link = None
            settings = self._settings
            delay = min(settings.reconnect_max, settings.reconnect_min * 2 ** (self._failures - 1))
            self._timer = self._io.call_later(delay, self._connect)
        self._owner.topology_down(reason)
