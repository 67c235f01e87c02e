"""``RedisBackplane``: broadcasts across processes and machines over Redis pub/sub.

The URL names one Redis or any node of a Redis Cluster; the backplane asks
which (``CLUSTER SLOTS``) and routes each channel accordingly
(:mod:`.router`): on one Redis, plain ``PUBLISH``/``SUBSCRIBE`` over two
connections (a subscribed one that only reads, and one that publishes);
on a cluster, sharded pub/sub (``SPUBLISH``/``SSUBSCRIBE``, Redis 7) on the
master that owns each channel's slot, so each message crosses one shard.

One channel per group (``<prefix>g:<group>``, and ``<prefix>all`` for
broadcasts to every connection), subscribed only while this node has local
members.  Each message is an :mod:`envelope <.envelope>` with the node id
(a node drops its own echo) and a sequence number per publisher and group
(a gap is reported through ``onBackplaneGap`` and counted, never silently
swallowed).

Delivery promise: at most once to each node, in publish order per publisher
and group.  Nothing is queued or retried while Redis is unreachable: the
factory has already served its local members; what it publishes meanwhile
is counted in ``stats.publish_dropped`` and seen as a gap by the others.
On a cluster a master that fails is reported on its own
(``onBackplaneShardLost``/``onBackplaneShardRestored``), for its groups only.

Nothing from Redis is trusted blindly: anyone who can publish there can put
bytes on our channels.  A text message that is not UTF-8 is dropped (it
would make every conforming client close with 1007); without a shared
secret a forged numbering cannot silence a real publisher (see
:class:`~.envelope.SequenceTracker`); with one (``secret``, ``secretFile``
or ``$WSPROTO_CB_BACKPLANE_SECRET``) envelopes are signed and anything not
signed with it is dropped.  Each is counted in :class:`BackplaneStats`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from .address import RedisAddress, parse_redis_url
from .base import Backplane
from .envelope import (
    NODE_ID_SIZE,
    RESET,
    EnvelopeAuthError,
    EnvelopeError,
    SequenceCounter,
    SequenceTracker,
    decode_envelope,
    encode_envelope,
)
from .link import LinkSettings
from .resp import RespLimits
from .router import Router, ShardInfo
from .secrets import envelope_key

__all__ = ["BackplaneStats", "RedisBackplane"]


@dataclass
class BackplaneStats:
    """Counters since the backplane was made (for logs and metrics)."""

    published: int = 0
    #: published while the publisher link was down or its queue was full (or
    #: answered MOVED by a cluster master that no longer owns the channel)
    publish_dropped: int = 0
    received: int = 0
    #: gaps seen, and the number of messages they add up to
    gaps: int = 0
    missed: int = 0
    #: our own messages coming back, dropped
    own_echo: int = 0
    #: stale or repeated sequence numbers, dropped
    stale: int = 0
    #: messages on our channels that are not envelopes of ours
    malformed: int = 0
    #: envelopes not signed with our secret (or signed, where we have none)
    unauthenticated: int = 0
    #: text messages that are not UTF-8, dropped (clients would close with 1007)
    invalid_utf8: int = 0
    #: sequence jumps no real publisher makes (unsigned envelopes): numbering restarted
    sequence_resets: int = 0
    #: times the backplane went down (both links are needed), or on a
    #: cluster a shard (a master and the groups it holds)
    lost: int = 0
    #: times it (or a shard) came back up after going down
    reconnects: int = 0


#: unsigned envelopes: a forward jump over more messages than this is not believed as a gap
MAX_SEQUENCE_JUMP = 1 << 20


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, not {value!r}")
    return float(value)


def _whole(name: str, value: int) -> int:
    number = _positive(name, value)
    if not math.isfinite(number) or number < 1 or number != int(number):
        raise ValueError(f"{name} must be a whole number of bytes >= 1, not {value!r}")
    return int(number)


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RedisBackplane(Backplane):
    """Carries broadcasts between every factory attached to the same Redis (see module)."""

    crossProcess = True

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        channelPrefix: str = "wsproto_cb:",
        probeInterval: float = 5.0,
        probeTimeout: float = 3.0,
        reconnectMin: float = 0.1,
        reconnectMax: float = 5.0,
        publishQueueLimit: int = 8 * 1024 * 1024,
        maxMessageSize: int = RespLimits().max_bulk,
        secret: bytes | str | None = None,
        secretFile: str | None = None,
    ) -> None:
        super().__init__()
        self.address: RedisAddress = parse_redis_url(url)
        if not isinstance(channelPrefix, str):
            raise TypeError("channelPrefix must be a str")
        self.channelPrefix = channelPrefix
        self._settings = LinkSettings(
            probe_interval=_positive("probeInterval", probeInterval),
            probe_timeout=_positive("probeTimeout", probeTimeout),
            reconnect_min=_positive("reconnectMin", reconnectMin),
            reconnect_max=_positive("reconnectMax", reconnectMax),
            limits=RespLimits(max_bulk=_whole("maxMessageSize", maxMessageSize)),
        )
        self._key = envelope_key(secret, secretFile)
        self.publishQueueLimit = _whole("publishQueueLimit", publishQueueLimit)
        #: this node's id, in every envelope it publishes
        self.nodeId = os.urandom(NODE_ID_SIZE)
        self.stats = BackplaneStats()
        #: the groups this node has members of, and their channels
        self._wanted: dict[str | None, str] = {}
        self._counter = SequenceCounter()
        self._tracker = self._new_tracker()
        self._router: Router | None = None

    def __repr__(self) -> str:
        signed = " signed" if self._key is not None else ""
        return f"<RedisBackplane {self.address} node={self.nodeId.hex()}{signed}>"

    @property
    def signed(self) -> bool:
        """Envelopes are signed with a shared secret (and unsigned ones dropped)."""
        return self._key is not None

    def _new_tracker(self) -> SequenceTracker:
        if self._key is not None:  # (every envelope is a real publisher's: every step is real)
            return SequenceTracker()
        return SequenceTracker(max_jump=MAX_SEQUENCE_JUMP, replay_window=0)

    @property
    def connected(self) -> bool:
        """Every link is up (on a cluster: to every master)."""
        return self.state == "up"

    @property
    def state(self) -> str:
        """``"idle"`` (not started: no event loop yet), ``"up"`` (every link
        ready), ``"partial"`` (a cluster with some masters unreachable: their
        groups only are cut off), ``"down"`` (lost or never reached;
        reconnecting) or ``"connecting"`` (the first attempt is under way)."""
        return "idle" if self._router is None else self._router.state

    @property
    def cluster(self) -> bool | None:
        """Whether the URL's Redis is a cluster (``None`` until it has answered)."""
        mode = self._router.mode if self._router is not None else None
        return None if mode is None else mode == "cluster"

    @property
    def master(self) -> str | None:
        """``redis+sentinel://``: the master the sentinels named last (``host:port``)."""
        router = self._router
        if router is None or router.mode != "sentinel" or not self.shards:
            return None
        return str(self.shards[0]["address"])

    @property
    def shards(self) -> list[ShardInfo]:
        """Each Redis this node talks to (one, or a cluster's masters): its
        ``address``, ``slots``, ``state`` and the ``channels`` it holds for us."""
        return self._router.shards() if self._router is not None else []

    def start(self) -> None:
        """Connect now (see :meth:`Backplane.start`)."""
        self._start()

    def channel(self, group: str | None) -> str:
        """The Redis channel of a group (``None``: the channel of ``factory.broadcast`` to all)."""
        return f"{self.channelPrefix}all" if group is None else f"{self.channelPrefix}g:{group}"

    # ------------------------------------------------------------ Backplane

    def attach(self, listener: Any) -> None:
        super().attach(listener)
        self._start()

    def detach(self) -> None:
        if self._router is not None:
            self._router.close()
            self._router = None
        # (the next factory starts afresh; the sequence numbers go on, since
        # the node id stays and others would drop a restart at 1 as stale)
        self._wanted.clear()
        self._tracker = self._new_tracker()
        super().detach()

    def publish(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        epoch, sequence = self._counter.next(group)
        self.stats.published += 1
        self._start()
        router = self._router
        channel = self.channel(group).encode("utf-8")
        if router is not None:
            envelope = encode_envelope(
                self.nodeId,
                sequence,
                group,
                payload,
                isBinary,
                epoch,
                key=self._key,
                channel=channel,
            )
            if router.publish(channel, envelope):
                return
        self.stats.publish_dropped += 1

    def subscribe(self, group: str | None) -> None:
        if group in self._wanted:
            return
        channel = self._wanted[group] = self.channel(group)
        self._start()
        if self._router is not None:
            self._router.subscribe(channel)

    def unsubscribe(self, group: str | None) -> None:
        channel = self._wanted.pop(group, None)
        if channel is None:
            return
        self._tracker.forget_group(group)
        if self._router is not None:
            self._router.unsubscribe(channel)

    # ------------------------------------------------------------ RouterOwner

    def router_message(self, channel: Any, data: Any) -> None:
        """A message pushed by Redis on one of our channels: checked, then delivered."""
        self._message(channel, data)

    def router_lost(self, shard: str | None, channels: list[str], reason: str) -> None:
        """Once per outage: of the backplane (``shard`` None) or of one cluster master."""
        self.stats.lost += 1
        if shard is None:
            self._notify("onBackplaneLost", reason)
        else:
            self._notify("onBackplaneShardLost", shard, self._groups(channels), reason)

    def router_restored(self, shard: str | None, channels: list[str]) -> None:
        """Up again after :meth:`router_lost` (the channels subscribed again)."""
        self.stats.reconnects += 1
        if shard is None:
            self._notify("onBackplaneRestored")
        else:
            self._notify("onBackplaneShardRestored", shard, self._groups(channels))

    def router_refused_publish(self) -> None:
        """Redis answered a publish with an error (``MOVED`` ...): it was not published."""
        self.stats.publish_dropped += 1

    def router_log(self, level: str, message: str) -> None:
        """Through the factory's runtime log (``wsproto_cb.backplane``)."""
        self._log(level, message)

    # ------------------------------------------------------------ internals

    def _groups(self, channels: list[str]) -> list[str | None]:
        group_of = {channel: group for group, channel in self._wanted.items()}
        return [group_of[channel] for channel in channels if channel in group_of]

    def _start(self) -> None:
        if self._router is not None or self._listener is None:
            return
        io = self._listener._backplane_io()
        if io is None:  # (asyncio, before the loop runs: started on first use)
            return
        self._router = Router(
            self.nodeId.hex(), self.address, io, self, self._settings, self.publishQueueLimit
        )
        for channel in self._wanted.values():
            self._router.subscribe(channel)
        self._router.start()

    def _message(self, channel: Any, data: Any) -> None:
        stats = self.stats
        try:
            envelope = decode_envelope(data, key=self._key, channel=channel)
        except EnvelopeAuthError as exc:
            stats.unauthenticated += 1
            self._warn_once(stats.unauthenticated, f"dropping an envelope: {exc}")
            return
        except (EnvelopeError, TypeError) as exc:
            stats.malformed += 1
            self._warn_once(stats.malformed, f"dropping a message that is not ours: {exc}")
            return
        if envelope.node == self.nodeId:
            stats.own_echo += 1
            return
        group = envelope.group
        if group not in self._wanted:
            return  # (in flight when we unsubscribed)
        if not envelope.is_binary and not _is_utf8(envelope.payload):
            stats.invalid_utf8 += 1
            self._warn_once(stats.invalid_utf8, "dropping a text message that is not UTF-8")
            return
        missed = self._tracker.observe(envelope.node, group, envelope.sequence, envelope.epoch)
        if missed is None:
            stats.stale += 1
            return
        if missed == RESET:
            stats.sequence_resets += 1
            self._warn_once(
                stats.sequence_resets,
                f"node {envelope.node.hex()} jumped in its numbering (a forged envelope?)",
            )
        elif missed:
            self.stats.gaps += 1
            self.stats.missed += missed
            self._notify("onBackplaneGap", group, envelope.node.hex(), missed)
        self.stats.received += 1
        self._notify("_backplane_deliver", group, envelope.payload, envelope.is_binary)

    def _warn_once(self, count: int, message: str) -> None:
        """The first of a kind only: a hostile publisher would flood the log."""
        if count == 1:
            self._log("warning", f"backplane: {message} (counted in stats from now on)")

    def _notify(self, method: str, *args: Any) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            getattr(listener, method)(*args)
        except Exception as exc:  # an application callback must not break the link
            self._log("error", f"error in {type(listener).__name__}.{method}: {exc!r}")

    def _log(self, level: str, message: str) -> None:
        listener = self._listener
        io = listener._backplane_io() if listener is not None else None
        if io is not None:
            io.log(level, message)
