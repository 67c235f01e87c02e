"""One Redis server's pair of links: the connection that publishes and the one subscribed.

A subscribed Redis connection can do nothing but subscribe, so a node
keeps two per server: the *subscriber*, which reads every message as it
comes (it never stops reading, so a slow WebSocket client can never make
Redis cut the node off for a full output buffer), and the *publisher*.
A single Redis is one :class:`Shard` speaking plain pub/sub; a Redis
Cluster is one per master speaking sharded pub/sub (:data:`SHARDED`), each
holding the channels whose slots that master owns.

The shard knows its channels and subscribes them again whenever its
subscriber (re)connects; it tells its owner when it is wholly up, when a
link went down, what arrived, and what Redis refused.  Runtime-neutral.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from .address import RedisAddress
from .io import BackplaneIO
from .link import LinkSettings, RedisLink
from .resp import RedisReplyError, encode_command

__all__ = ["PLAIN", "SHARDED", "PubSubCommands", "Shard", "ShardOwner"]


class PubSubCommands(NamedTuple):
    """The command names and pushed-reply kinds of one flavour of pub/sub."""

    publish: str
    subscribe: str
    unsubscribe: str
    message: bytes
    unsubscribed: bytes
    #: whether one SUBSCRIBE may name several channels (sharded: one slot per command)
    batch: bool


PLAIN = PubSubCommands("PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", b"message", b"unsubscribe", True)
SHARDED = PubSubCommands(
    "SPUBLISH", "SSUBSCRIBE", "SUNSUBSCRIBE", b"smessage", b"sunsubscribe", False
)


class ShardOwner(Protocol):
    def shard_up(self, shard: Shard) -> None:
        """Every link the shard has started is ready (after a connect or reconnect)."""

    def shard_down(self, shard: Shard, reason: str) -> None:
        """A link of the shard was lost or could not be made (it retries by itself)."""

    def shard_message(self, shard: Shard, channel: Any, data: Any) -> None: ...

    def shard_refused(self, shard: Shard, error: RedisReplyError, publishing: bool) -> None:
        """An error reply (``MOVED`` ...): to a publish (``publishing``) or a subscription."""

    def shard_unsubscribed(self, shard: Shard, channel: str) -> None:
        """Redis dropped a channel we still hold (its slot moved to another master)."""


class Shard:
    """The publisher and subscriber links to one server (see the module docstring).

    The subscriber is started with the first channel (or at :meth:`start`
    with ``eager``), so a node holds links only to the shards it needs.
    """

    def __init__(
        self,
        name: str,
        address: RedisAddress,
        io: BackplaneIO,
        owner: ShardOwner,
        settings: LinkSettings,
        commands: PubSubCommands,
    ) -> None:
        self.address = address
        self.commands = commands
        self.channels: set[str] = set()
        #: unsubscriptions sent and not yet confirmed, per channel
        self._leaving: dict[str, int] = {}
        self._owner = owner
        self.publisher = RedisLink(f"{name}-pub", address, io, self, settings)
        self.subscriber = RedisLink(f"{name}-sub", address, io, self, settings)

    def __repr__(self) -> str:
        return f"<Shard {self.address} {len(self.channels)} channel(s)>"

    @property
    def ready(self) -> bool:
        """The publisher is up, and the subscriber too once started."""
        return self.publisher.ready and self.subscriber.state in ("idle", "ready")

    def start(self, eager: bool = False) -> None:
        self.publisher.start()
        if eager or self.channels:
            self.subscriber.start()

    def close(self) -> None:
        self.publisher.close()
        self.subscriber.close()

    def publish(self, channel: bytes, data: bytes, queue_limit: int) -> bool:
        """Send one message; ``False`` (not sent) while down or when its queue is full."""
        link = self.publisher
        if not link.ready or link.buffered() > queue_limit:
            return False
        link.send(encode_command(self.commands.publish, channel, data))
        return True

    def add(self, channel: str) -> None:
        if channel in self.channels:
            return
        self.channels.add(channel)
        if self.subscriber.ready:
            self.subscriber.send(encode_command(self.commands.subscribe, channel))
        elif self.subscriber.state == "idle" and self.publisher.state != "idle":
            self.subscriber.start()  # (the first channel of a started shard)

    def discard(self, channel: str) -> None:
        if channel not in self.channels:
            return
        self.channels.discard(channel)
        if self.subscriber.ready:
            self._leaving[channel] = self._leaving.get(channel, 0) + 1
            self.subscriber.send(encode_command(self.commands.unsubscribe, channel))

    # ------------------------------------------------------------ LinkOwner

    def link_ready(self, link: RedisLink) -> None:
        if link is self.subscriber:
            self._leaving.clear()
        if link is self.subscriber and self.channels:
            names = sorted(self.channels)
            subscribe = self.commands.subscribe
            if self.commands.batch:
                link.send(encode_command(subscribe, *names))
            else:
                link.send(b"".join(encode_command(subscribe, name) for name in names))
        if self.ready:
            self._owner.shard_up(self)

    def link_reply(self, link: RedisLink, reply: Any) -> None:
        if isinstance(reply, RedisReplyError):
            self._owner.shard_refused(self, reply, link is self.publisher)
        elif link is self.subscriber and isinstance(reply, list) and len(reply) == 3:
            kind = reply[0]
            if kind == self.commands.message:
                self._owner.shard_message(self, reply[1], reply[2])
            elif kind == self.commands.unsubscribed and isinstance(reply[1], bytes):
                self._unsubscribed(reply[1].decode("utf-8", "replace"))

    def _unsubscribed(self, channel: str) -> None:
        leaving = self._leaving.get(channel, 0)
        if leaving:  # (the answer to our own unsubscribe)
            if leaving == 1:
                del self._leaving[channel]
            else:
                self._leaving[channel] = leaving - 1
        elif channel in self.channels:  # (Redis dropped it: its slot moved)
            self._owner.shard_unsubscribed(self, channel)

    def link_down(self, link: RedisLink, reason: str) -> None:
        self._owner.shard_down(self, reason)
