"""Asking Redis where to go: which master owns which slot, or which server is the master.

A :class:`Topology` keeps one connection to a server it knows and asks it
one :class:`Question` at start and whenever its owner asks again:

- :data:`CLUSTER_SLOTS` (the URL's server at first, then any master it has
  heard of), again on a ``MOVED`` reply, a slot that moved away or a
  master that went down.  A server without cluster support answers with an
  error: the owner then speaks plain pub/sub to it.
- :func:`sentinel_master` (a Redis Sentinel of the URL's list), again when
  the master's connection is lost and every ``every`` seconds.

When the server it asks is down, it tries the next one it knows, so the
answer is found as long as one of them answers.  Runtime-neutral, like
:class:`~.link.RedisLink`, on which it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from .address import RedisAddress
from .io import BackplaneIO, TimerHandle
from .link import LinkSettings, RedisLink
from .resp import RedisReplyError, encode_command
from .slots import Endpoint, SlotMap

__all__ = ["CLUSTER_SLOTS", "Question", "Topology", "TopologyOwner", "sentinel_master"]


class Question(NamedTuple):
    """A command, and how to read its reply (``ValueError`` if it says nothing usable)."""

    command: bytes
    read: Callable[[Any, RedisAddress], Any]


CLUSTER_SLOTS = Question(
    encode_command("CLUSTER", "SLOTS"),
    lambda reply, asked: SlotMap.from_cluster_slots(reply, asked.host),
)


def sentinel_master(name: str) -> Question:
    """``SENTINEL get-master-addr-by-name``: the :class:`~.slots.Endpoint` of the master."""

    def read(reply: Any, asked: RedisAddress) -> Endpoint:
        if reply is None:
            raise ValueError(f"the sentinel {asked.host}:{asked.port} knows no master {name!r}")
        try:
            host, port = reply
            return Endpoint(host.decode("utf-8"), int(port))
        except (TypeError, ValueError, AttributeError, UnicodeDecodeError):
            raise ValueError(f"the sentinel answered {reply!r:.100}") from None

    return Question(encode_command("SENTINEL", "get-master-addr-by-name", name), read)


class TopologyOwner(Protocol):
    def topology_found(self, answer: Any, reason: str) -> None:
        """The answer to the last question (a slot map, a master), or ``None``
        and why not (no cluster support, no such master, a reply that says
        nothing usable)."""

    def topology_down(self, reason: str) -> None:
        """The node asked is unreachable (the next one is tried)."""


class Topology:
    """Asks a :class:`Question` over one link, moving to another server when it fails."""

    def __init__(
        self,
        name: str,
        seeds: list[RedisAddress],
        io: BackplaneIO,
        owner: TopologyOwner,
        settings: LinkSettings,
        question: Question = CLUSTER_SLOTS,
        every: float | None = None,
    ) -> None:
        self._name = name
        # (a cluster refuses SELECT; no question here needs it)
        self._seeds = [seed._replace(db=0) for seed in seeds]
        self._question = question
        self._every = every
        self._again: TimerHandle | None = None
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
        for timer in (self._timer, self._again):
            if timer is not None:
                timer.cancel()
        self._timer = self._again = None
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
            link.send(self._question.command)

    # ------------------------------------------------------------ LinkOwner

    def link_ready(self, link: RedisLink) -> None:
        self._failures = 0
        self._ask()

    def link_reply(self, link: RedisLink, reply: Any) -> None:
        if not self._asking:
            return
        self._asking = False
        answer: Any = None
        if isinstance(reply, RedisReplyError):
            reason = f"{link.address} answered {reply}"
        else:
            try:
                answer = self._question.read(reply, link.address)
                reason = ""
            except ValueError as exc:
                reason = f"{link.address}: {exc}"
        if self._every is not None and self._again is None:
            self._again = self._io.call_later(self._every, self._periodic)
        self._owner.topology_found(answer, reason)
        self._ask()

    def _periodic(self) -> None:
        self._again = None
        self.refresh()

    def link_down(self, link: RedisLink, reason: str) -> None:
        if self._asking:
            self._asking = False
            self._wanted = True
        self._failures += 1
        if len(self._seeds) > 1:  # (another node may answer: move on)
            link.close()
            self._link = None
            delay = self._settings.backoff(self._failures)
            self._timer = self._io.call_later(delay, self._connect)
        self._owner.topology_down(reason)
