"""Where each channel lives: one Redis, the shard of a Redis Cluster that owns its slot,
or the master Redis Sentinel names.

The :class:`Router` starts by asking the URL's server ``CLUSTER SLOTS``
(:mod:`.topology`).  A server without cluster support is one
:class:`~.shard.Shard` speaking plain pub/sub.  A cluster is one shard per
master speaking sharded pub/sub (``SSUBSCRIBE``/``SPUBLISH``): each channel
is subscribed on, and published to, the master that owns its slot
(:func:`~.slots.key_slot`), so a message crosses one shard, not every node.
The node publishes through every master and subscribes only on those that
own its channels.

The cluster is followed: a ``MOVED`` reply, a channel Redis dropped (its
slot moved), or a master that went down make the router ask again, and
channels whose owner changed are unsubscribed on the old master and
subscribed on the new one.  Each shard is reported on its own: a master
that fails is lost (and later restored) for its channels only, and the
others go on.  Runtime-neutral; the decisions (which master, what moves)
are :mod:`.slots` functions of the slot map.

With a ``redis+sentinel://`` URL the question goes to the sentinels
instead (``SENTINEL get-master-addr-by-name``), at start, whenever the
master's connection is lost, and every ``probe_interval``; when the answer
changes, the one shard moves to the new master.
"""

from __future__ import annotations

from typing import Any, Protocol

from .address import RedisAddress
from .io import BackplaneIO
from .link import LinkSettings
from .resp import RedisReplyError
from .shard import PLAIN, SHARDED, Shard
from .slots import Endpoint, SlotMap, parse_redirect
from .topology import Topology, sentinel_master

__all__ = ["Router", "RouterOwner", "ShardInfo"]

#: channels whose route is remembered for publishing (forgotten all at once beyond this)
ROUTE_CACHE = 65536


class RouterOwner(Protocol):
    def router_message(self, channel: Any, data: Any) -> None: ...

    def router_lost(self, shard: str | None, channels: list[str], reason: str) -> None:
        """``shard`` (``host:port``) is unreachable, with the channels it holds;
        ``None``: the backplane as a whole (one Redis, or no cluster node answers)."""

    def router_restored(self, shard: str | None, channels: list[str]) -> None: ...

    def router_refused_publish(self) -> None:
        """A publish was answered ``MOVED`` (or the cluster was down): it is lost."""

    def router_log(self, level: str, message: str) -> None: ...


class ShardInfo(dict[str, Any]):
    """One shard as ``backplane.shards`` shows it: address, slots, state, channels."""


class Router:
    """Channels to shards, for one Redis, a Redis Cluster or a master under Sentinel."""

    def __init__(
        self,
        name: str,
        address: RedisAddress,
        io: BackplaneIO,
        owner: RouterOwner,
        settings: LinkSettings,
        queue_limit: int,
    ) -> None:
        self._name = name
        self._address = address
        self._io = io
        self._owner = owner
        self._settings = settings
        self._queue_limit = queue_limit
        #: None until the first answer, then "single", "cluster" or "sentinel"
        self.mode: str | None = None
        self._slots: SlotMap | None = None
        self._shards: dict[Endpoint, Shard] = {}
        self._channels: set[str] = set()
        self._route_of: dict[str, Shard] = {}  # (subscribed channels)
        self._publish_routes: dict[bytes, Shard | None] = {}
        self._down: set[Endpoint | None] = set()
        self._sentinel = address.master_name is not None
        self._topology: Topology | None
        if self._sentinel:
            # (the sentinels are asked without the master's credentials)
            anonymous = address._replace(username=None, password=None)
            sentinels = [anonymous.at(host, port) for host, port in address.sentinels]
            question = sentinel_master(address.master_name or "")
            every = settings.probe_interval
            self._topology = Topology(name, sentinels, io, self, settings, question, every)
        else:
            self._topology = Topology(name, [address], io, self, settings)

    # ------------------------------------------------------------ for the backplane

    def start(self) -> None:
        if self._topology is not None:
            self._topology.start()

    def close(self) -> None:
        if self._topology is not None:
            self._topology.close()
            self._topology = None
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()

    @property
    def state(self) -> str:
        """``connecting``, ``up``, ``partial`` (some shards down) or ``down``."""
        ready = [shard.ready for shard in self._shards.values()]
        if ready and all(ready):
            return "up"
        if any(ready):
            return "partial"
        return "down" if self._down else "connecting"

    def shards(self) -> list[ShardInfo]:
        """Each shard's address, slots (cluster), state and channels."""
        return [
            ShardInfo(
                address=str(endpoint),
                slots=self._slots.ranges_of(endpoint) if self._slots is not None else "all",
                state=self._shard_state(shard),
                channels=sorted(shard.channels),
            )
            for endpoint, shard in self._shards.items()
        ]

    def _shard_state(self, shard: Shard) -> str:
        if shard.ready:
            return "up"
        return "down" if self._key(shard) in self._down else "connecting"

    def publish(self, channel: bytes, data: bytes) -> bool:
        """Send to the channel's shard; ``False``: not sent (down, no owner, queue full)."""
        try:
            shard = self._publish_routes[channel]
        except KeyError:
            if len(self._publish_routes) >= ROUTE_CACHE:
                self._publish_routes.clear()
            shard = self._publish_routes[channel] = self._shard_for(channel)
        return shard is not None and shard.publish(channel, data, self._queue_limit)

    def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        self._place(channel)

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        shard = self._route_of.pop(channel, None)
        if shard is not None:
            shard.discard(channel)

    # ------------------------------------------------------------ internals

    def _key(self, shard: Shard) -> Endpoint | None:
        return Endpoint(shard.address.host, shard.address.port) if self.mode == "cluster" else None

    def _shard_for(self, channel: bytes | str) -> Shard | None:
        if self.mode in ("single", "sentinel"):
            return next(iter(self._shards.values()), None)
        if self._slots is None:
            return None
        owner = self._slots.owner_of(channel)
        return self._shards.get(owner) if owner is not None else None

    def _place(self, channel: str) -> None:
        """Subscribe ``channel`` on the shard that owns it now (moving it if it moved)."""
        new = self._shard_for(channel)
        old = self._route_of.get(channel)
        if new is old:
            return
        if old is not None:
            old.discard(channel)
            del self._route_of[channel]
        if new is not None:
            new.add(channel)
            self._route_of[channel] = new

    def _apply(self, slots: SlotMap) -> None:
        """A new slot map: a shard per master, every channel on its owner."""
        self._slots = slots
        self._publish_routes.clear()
        masters = slots.masters()
        if not masters:
            self._owner.router_log("warning", f"the Redis Cluster at {self._address} has no slots")
        addresses = {m: self._address._replace(host=m.host, port=m.port, db=0) for m in masters}
        if self._topology is not None:
            self._topology.learn(list(addresses.values()))
        for endpoint in [e for e in self._shards if e not in addresses]:  # (no master now)
            shard = self._shards.pop(endpoint)
            shard.close()
            for channel in shard.channels:
                del self._route_of[channel]
            if endpoint in self._down:  # (its slots went to a master that answers)
                self._down.discard(endpoint)
                self._owner.router_restored(str(endpoint), sorted(shard.channels))
        for master, address in addresses.items():
            if master not in self._shards:
                name = f"{self._name}-{master}"
                shard = Shard(name, address, self._io, self, self._settings, SHARDED)
                self._shards[master] = shard
                shard.start()
        for channel in sorted(self._channels):
            self._place(channel)

    def _use_server(self, address: RedisAddress) -> None:
        """Plain pub/sub on one server (instead of the one before, if any)."""
        for shard in self._shards.values():
            shard.close()
            for channel in shard.channels:
                del self._route_of[channel]
        self._shards.clear()
        shard = Shard(self._name, address, self._io, self, self._settings, PLAIN)
        self._shards[Endpoint(address.host, address.port)] = shard
        self._publish_routes.clear()
        for channel in self._channels:
            self._place(channel)
        shard.start(eager=True)

    def _follow_sentinel(self, master: Endpoint | None, reason: str) -> None:
        if master is None:
            self._owner.router_log("warning", f"backplane: no master from the sentinels ({reason})")
            if not self._shards:  # (nothing to use: down, and said so once)
                self._lost(None, [], reason)
            return
        self.mode = "sentinel"
        if master in self._shards:
            return
        if self._shards:
            old = next(iter(self._shards))
            self._owner.router_log("info", f"backplane: the master moved from {old} to {master}")
        self._use_server(self._address.at(master.host, master.port))

    # ------------------------------------------------------------ TopologyOwner

    def topology_found(self, answer: Any, reason: str) -> None:
        if self._sentinel:
            self._follow_sentinel(answer, reason)
            return
        slots: SlotMap | None = answer
        if self.mode is None:
            if slots is None:
                self.mode = "single"
                if self._topology is not None:
                    self._topology.close()
                    self._topology = None
                self._use_server(self._address)
                return
            self.mode = "cluster"
            self._owner.router_log(
                "info", f"backplane: Redis Cluster at {self._address}: sharded pub/sub on {slots!r}"
            )
        if slots is None:
            self._owner.router_log("warning", f"backplane: keeping the slot map ({reason})")
        else:  # (also when unchanged: a channel Redis dropped is placed again)
            self._apply(slots)

    def topology_down(self, reason: str) -> None:
        if self.mode is None:  # (nothing answered yet: the backplane is down)
            self._lost(None, [], reason)
        elif self.mode == "sentinel":
            self._owner.router_log("warning", f"backplane: a sentinel is unreachable: {reason}")

    # ------------------------------------------------------------ ShardOwner

    def shard_up(self, shard: Shard) -> None:
        key = self._key(shard)
        if key in self._down:
            self._down.discard(key)
            self._owner.router_restored(None if key is None else str(key), sorted(shard.channels))
        if None in self._down and self.state == "up":  # (the first answer came late)
            self._down.discard(None)
            self._owner.router_restored(None, [])

    def shard_down(self, shard: Shard, reason: str) -> None:
        if self._topology is not None:  # (a cluster, or sentinels)
            self._topology.refresh()  # (a replica may have taken over)
        self._lost(self._key(shard), sorted(shard.channels), reason)

    def _lost(self, key: Endpoint | None, channels: list[str], reason: str) -> None:
        if key not in self._down:
            self._down.add(key)
            self._owner.router_lost(None if key is None else str(key), channels, reason)

    def shard_message(self, shard: Shard, channel: Any, data: Any) -> None:
        self._owner.router_message(channel, data)

    def shard_refused(self, shard: Shard, error: RedisReplyError, publishing: bool) -> None:
        text = str(error)
        followed = parse_redirect(text, shard.address.host) is not None or text.startswith(
            ("CLUSTERDOWN", "TRYAGAIN")
        )
        if publishing:
            self._owner.router_refused_publish()
        if followed and self._topology is not None:
            self._topology.refresh()
        else:
            link = shard.publisher if publishing else shard.subscriber
            self._owner.router_log("warning", f"Redis {link.name} link: {text}")

    def shard_unsubscribed(self, shard: Shard, channel: str) -> None:
        shard.channels.discard(channel)  # (Redis has dropped it already)
        self._route_of.pop(channel, None)
        if self._topology is not None:
            self._topology.refresh()  # (its new owner, then _apply places it)
