"""``RedisBackplane``: broadcasts across processes and machines over Redis pub/sub.

Two connections per node, because a subscribed Redis connection can do
nothing but subscribe: one *subscriber* link, which reads every message as
it comes (it never stops reading, so a slow WebSocket client can never make
Redis cut the node off for a full output buffer), and one *publisher* link.

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
from .link import LinkSettings, RedisLink
from .resp import RedisReplyError, RespLimits, encode_command
from .secrets import envelope_key

__all__ = ["BackplaneStats", "RedisBackplane"]


@dataclass
class BackplaneStats:
    """Counters since the backplane was made (for logs and metrics)."""

    published: int = 0
    #: published while the publisher link was down or its queue was full
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
    #: times the backplane went down (both links are needed)
    lost: int = 0
    #: times it came back up after going down
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
        self._wanted: set[str | None] = set()
        self._counter = SequenceCounter()
        self._tracker = self._new_tracker()
        self._publisher: RedisLink | None = None
        self._subscriber: RedisLink | None = None
        self._down_reported = False

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
        """Both links are up."""
        return bool(
            self._publisher
            and self._publisher.ready
            and self._subscriber
            and self._subscriber.ready
        )

    @property
    def state(self) -> str:
        """``"idle"`` (not started: no event loop yet), ``"up"`` (both links
        ready), ``"down"`` (lost or never reached; reconnecting) or
        ``"connecting"`` (the first attempt is under way)."""
        if self._publisher is None:
            return "idle"
        if self.connected:
            return "up"
        return "down" if self._down_reported else "connecting"

    def start(self) -> None:
        """Connect both links now (see :meth:`Backplane.start`)."""
        self._start()

    def channel(self, group: str | None) -> str:
        """The Redis channel of a group (``None``: the channel of ``factory.broadcast`` to all)."""
        return f"{self.channelPrefix}all" if group is None else f"{self.channelPrefix}g:{group}"

    # ------------------------------------------------------------ Backplane

    def attach(self, listener: Any) -> None:
        super().attach(listener)
        self._start()

    def detach(self) -> None:
        for link in (self._publisher, self._subscriber):
            if link is not None:
                link.close()
        self._publisher = self._subscriber = None
        # (the next factory starts afresh; the sequence numbers go on, since
        # the node id stays and others would drop a restart at 1 as stale)
        self._wanted.clear()
        self._tracker = self._new_tracker()
        self._down_reported = False
        super().detach()

    def publish(self, group: str | None, payload: bytes, isBinary: bool) -> None:
        epoch, sequence = self._counter.next(group)
        self.stats.published += 1
        self._start()
        link = self._publisher
        if link is None or not link.ready or link.buffered() > self.publishQueueLimit:
            self.stats.publish_dropped += 1
            return
        channel = self.channel(group).encode("utf-8")
        envelope = encode_envelope(
            self.nodeId, sequence, group, payload, isBinary, epoch, key=self._key, channel=channel
        )
        link.send(encode_command("PUBLISH", channel, envelope))

    def subscribe(self, group: str | None) -> None:
        if group in self._wanted:
            return
        self._wanted.add(group)
        self._start()
        if self._subscriber is not None and self._subscriber.ready:
            self._subscriber.send(encode_command("SUBSCRIBE", self.channel(group)))

    def unsubscribe(self, group: str | None) -> None:
        if group not in self._wanted:
            return
        self._wanted.discard(group)
        self._tracker.forget_group(group)
        if self._subscriber is not None and self._subscriber.ready:
            self._subscriber.send(encode_command("UNSUBSCRIBE", self.channel(group)))

    # ------------------------------------------------------------ LinkOwner

    def link_ready(self, link: RedisLink) -> None:
        """A link (re)connected and authenticated: subscribe, report a restored link."""
        if link is self._subscriber and self._wanted:
            channels = [self.channel(group) for group in self._wanted]
            link.send(encode_command("SUBSCRIBE", *channels))
        if self.connected and self._down_reported:
            self._down_reported = False
            self.stats.reconnects += 1
            self._notify("onBackplaneRestored")

    def link_reply(self, link: RedisLink, reply: Any) -> None:
        """A reply or pushed message from Redis on ``link``."""
        if isinstance(reply, RedisReplyError):
            self._log("warning", f"Redis {link.name} link: {reply}")
        elif (
            link is self._subscriber
            and isinstance(reply, list)
            and len(reply) == 3
            and reply[0] == b"message"
        ):
            self._message(reply[1], reply[2])

    def link_down(self, link: RedisLink, reason: str) -> None:
        """A link was lost (it reconnects by itself); report it once per outage."""
        if not self._down_reported:
            self._down_reported = True
            self.stats.lost += 1
            self._notify("onBackplaneLost", reason)

    # ------------------------------------------------------------ internals

    def _start(self) -> None:
        if self._publisher is not None or self._listener is None:
            return
        io = self._listener._backplane_io()
        if io is None:  # (asyncio, before the loop runs: started on first use)
            return
        name = self.nodeId.hex()
        self._publisher = RedisLink(f"{name}-pub", self.address, io, self, self._settings)
        self._subscriber = RedisLink(f"{name}-sub", self.address, io, self, self._settings)
        self._publisher.start()
        self._subscriber.start()

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
