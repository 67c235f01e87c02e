"""RedisBackplane on a Redis Cluster without Redis: routing decisions on a fake BackplaneIO.

The first link asks ``CLUSTER SLOTS``; the test answers with a map of
three masters and then plays each master: which connections are made,
which channel is subscribed and published where, and what happens on
``MOVED``, on a slot Redis takes away, and on a master that goes down.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_backplane_link import Connect, FakeIO, FakeStream, answer_setup, answer_topology
from test_backplane_redis_logic import OTHER, Listener

from wsproto_cb.backplane import RedisBackplane
from wsproto_cb.backplane.envelope import decode_envelope, encode_envelope
from wsproto_cb.backplane.slots import key_slot

A, B, C = ("10.0.0.1", 7000), ("10.0.0.2", 7001), ("10.0.0.3", 7002)


def resp(value: Any) -> bytes:
    """A reply as Redis writes it."""
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, str):
        return resp(value.encode())
    return b"*%d\r\n" % len(value) + b"".join(resp(item) for item in value)


def cluster_slots(*ranges: tuple[int, int, tuple[str, int]]) -> bytes:
    return resp([[start, end, [host, port, b"id"]] for start, end, (host, port) in ranges])


THREE = cluster_slots((0, 5460, A), (5461, 10922, B), (10923, 16383, C))


def group_on(master: tuple[str, int], prefix: str = "g") -> str:
    """A group name whose channel is in the slots of ``master`` (in :data:`THREE`)."""
    low, high = {A: (0, 5460), B: (5461, 10922), C: (10923, 16383)}[master]
    return next(
        f"{prefix}{i}" for i in range(1000) if low <= key_slot(f"wsproto_cb:g:{prefix}{i}") <= high
    )


class ShardListener(Listener):
    def onBackplaneShardLost(self, shard: str, groups: list[str | None], reason: str) -> None:
        self._record("shard-lost", shard, groups)

    def onBackplaneShardRestored(self, shard: str, groups: list[str | None]) -> None:
        self._record("shard-restored", shard, groups)


class ClusterRig:
    def __init__(self, url: str = "redis://10.0.0.1:7000/0", slots: bytes = THREE) -> None:
        self.io = FakeIO()
        self.listener = ShardListener(self.io)
        self.bp = RedisBackplane(url, probeInterval=1000.0)
        self.bp.attach(self.listener)
        #: (host, port, role) -> the latest connection
        self.links: dict[tuple[str, int, str], tuple[Connect, FakeStream]] = {}
        self.opened = 0
        self.topology = self.open()[0]
        assert self.topology[2] == "topology"
        assert self.asked_slots()
        self.answer_slots(slots)

    def open(self) -> list[tuple[str, int, str]]:
        """Make every connection asked for; their set-up answered."""
        made = []
        while self.opened < len(self.io.connects):
            connect = self.io.connects[self.opened]
            self.opened += 1
            stream = self.io.open(connect)
            name = next(c[2] for c in stream.commands() if c[:2] == [b"CLIENT", b"SETNAME"])
            assert [b"SELECT", b"3"] not in stream.commands()  # (a cluster has database 0 only)
            key = (connect.host, connect.port, name.decode().rsplit("-", 1)[1])
            self.links[key] = (connect, stream)
            answer_setup(connect, stream)
            made.append(key)
        return made

    def answer_slots(self, slots: bytes) -> None:
        """Answer the question (see :meth:`asked_slots`)."""
        self.links[self.topology][0].handler.data_received(slots)

    def asked_slots(self) -> bool:
        """The topology link has asked CLUSTER SLOTS (since the last look)."""
        return self.links[self.topology][1].take() == [[b"CLUSTER", b"SLOTS"]]

    def take(self, master: tuple[str, int], role: str) -> list[list[bytes]]:
        return self.links[(*master, role)][1].take()

    def feed(self, master: tuple[str, int], role: str, data: bytes) -> None:
        self.links[(*master, role)][0].handler.data_received(data)

    def lose(self, master: tuple[str, int], role: str) -> None:
        self.links[(*master, role)][0].handler.connection_lost("connection reset")

    def published(self, master: tuple[str, int]) -> list[tuple[bytes, bytes]]:
        out = []
        for command in self.take(master, "pub"):
            assert command[0] == b"SPUBLISH", command
            out.append((command[1], decode_envelope(command[2]).payload))
        return out


def test_a_cluster_is_discovered_and_every_master_gets_a_publisher() -> None:
    rig = ClusterRig("redis://10.0.0.1:7000/3")
    assert rig.bp.cluster is True and rig.bp.state == "connecting"
    assert sorted(rig.open()) == [(*A, "pub"), (*B, "pub"), (*C, "pub")]  # (no subscriber yet)
    assert rig.bp.state == "up"
    assert [(s["address"], s["slots"], s["state"]) for s in rig.bp.shards] == [
        ("10.0.0.1:7000", "0-5460", "up"),
        ("10.0.0.2:7001", "5461-10922", "up"),
        ("10.0.0.3:7002", "10923-16383", "up"),
    ]
    assert rig.listener.calls == []


def test_each_group_is_subscribed_and_published_on_its_owner_only() -> None:
    rig = ClusterRig()
    rig.open()
    on_a, on_c, also_c = group_on(A), group_on(C), group_on(C, "h")
    for group in (on_a, on_c, also_c):
        rig.bp.subscribe(group)
    assert sorted(rig.open()) == [(*A, "sub"), (*C, "sub")]  # (none to B: nothing of ours there)
    # one channel per SSUBSCRIBE (a command may name one slot only)
    assert rig.take(A, "sub") == [[b"SSUBSCRIBE", f"wsproto_cb:g:{on_a}".encode()]]
    assert sorted(rig.take(C, "sub")) == sorted(
        [[b"SSUBSCRIBE", f"wsproto_cb:g:{g}".encode()] for g in (on_c, also_c)]
    )
    rig.bp.publish(on_c, b"to c", False)
    rig.bp.publish(on_a, b"to a", False)
    assert rig.published(C) == [(f"wsproto_cb:g:{on_c}".encode(), b"to c")]
    assert rig.published(A) == [(f"wsproto_cb:g:{on_a}".encode(), b"to a")]
    assert rig.published(B) == []
    channel = f"wsproto_cb:g:{on_c}"
    rig.feed(C, "sub", resp([b"ssubscribe", channel, 1]))
    rig.feed(C, "sub", resp([b"smessage", channel, encode_envelope(OTHER, 1, on_c, b"hi", False)]))
    assert rig.listener.of("deliver") == [("deliver", on_c, b"hi", False)]
    rig.bp.unsubscribe(on_c)
    assert rig.take(C, "sub") == [[b"SUNSUBSCRIBE", channel.encode()]]
    rig.feed(C, "sub", resp([b"sunsubscribe", channel, 1]))  # (our own: nothing to follow)
    assert not rig.asked_slots()


def test_moved_loses_the_message_and_the_new_map_moves_the_channel() -> None:
    rig = ClusterRig()
    rig.open()
    group = group_on(A)
    channel = f"wsproto_cb:g:{group}".encode()
    rig.bp.subscribe(group)
    rig.open()
    rig.take(A, "sub")
    rig.bp.publish(group, b"one", False)
    rig.feed(A, "pub", b"-MOVED %d 10.0.0.2:7001\r\n" % key_slot(channel))
    assert rig.bp.stats.publish_dropped == 1
    assert rig.asked_slots()
    # B now has A's slots
    rig.answer_slots(cluster_slots((0, 10922, B), (10923, 16383, C)))
    assert rig.take(A, "sub") == []  # (A is no master any more: its links are closed)
    assert rig.links[(*A, "sub")][1].closes == 1 and rig.links[(*A, "pub")][1].closes == 1
    assert rig.open() == [(*B, "sub")]
    assert rig.take(B, "sub") == [[b"SSUBSCRIBE", channel]]
    rig.bp.publish(group, b"two", False)
    assert rig.published(B) == [(channel, b"two")]
    assert rig.listener.calls == []


def test_a_channel_redis_takes_away_is_subscribed_on_its_new_owner() -> None:
    rig = ClusterRig()
    rig.open()
    group = group_on(A)
    channel = f"wsproto_cb:g:{group}"
    rig.bp.subscribe(group)
    rig.open()
    rig.take(A, "sub")
    slot = key_slot(channel)
    rig.feed(A, "sub", resp([b"sunsubscribe", channel, 0]))  # (its slot moved to C)
    assert rig.asked_slots()
    moved = cluster_slots(
        (0, slot - 1, A), (slot, slot, C), (slot + 1, 10922, B), (10923, 16383, C)
    )
    rig.answer_slots(moved)
    assert rig.take(A, "sub") == []  # (Redis dropped it already: no SUNSUBSCRIBE)
    assert rig.open() == [(*C, "sub")]
    assert rig.take(C, "sub") == [[b"SSUBSCRIBE", channel.encode()]]
    assert rig.bp.shards[0]["slots"] == f"0-{slot - 1}"


def test_a_master_that_goes_down_is_lost_for_its_groups_only() -> None:
    rig = ClusterRig()
    rig.open()
    on_a, on_b = group_on(A), group_on(B)
    for group in (on_a, on_b, None):
        rig.bp.subscribe(group)
    rig.open()
    everyone = "wsproto_cb:all"  # (slot 10492: on B)
    rig.lose(A, "sub")
    rig.lose(A, "pub")
    assert rig.listener.calls == [("shard-lost", "10.0.0.1:7000", [on_a])]
    assert rig.bp.state == "partial" and not rig.bp.connected
    assert rig.asked_slots()  # (a replica may have taken over)
    rig.answer_slots(THREE)  # (it has not)
    assert rig.asked_slots()  # (asked twice while one question was out: once more)
    rig.answer_slots(THREE)
    rig.bp.publish(on_a, b"lost", False)
    rig.bp.publish(on_b, b"goes", False)
    assert rig.bp.stats.publish_dropped == 1
    assert rig.published(B) == [(f"wsproto_cb:g:{on_b}".encode(), b"goes")]
    rig.io.advance(10)
    assert sorted(rig.open()) == [(*A, "pub"), (*A, "sub")]
    assert rig.take(A, "sub") == [[b"SSUBSCRIBE", f"wsproto_cb:g:{on_a}".encode()]]
    assert rig.listener.calls[1:] == [("shard-restored", "10.0.0.1:7000", [on_a])]
    assert rig.bp.state == "up"
    assert (rig.bp.stats.lost, rig.bp.stats.reconnects) == (1, 1)
    assert everyone.encode() in [c[1] for c in rig.links[(*B, "sub")][1].commands()]


def test_when_the_node_asked_is_down_another_master_is_asked() -> None:
    rig = ClusterRig()
    rig.open()
    rig.links[rig.topology][0].handler.connection_lost("connection reset")
    rig.lose(A, "pub")
    assert rig.listener.of("lost") == []  # (the question's link is no shard)
    rig.io.advance(10)
    made = rig.open()
    (topology,) = [key for key in made if key[2] == "topology"]
    assert topology[:2] != A
    assert rig.links[topology][1].take() == [[b"CLUSTER", b"SLOTS"]]


@pytest.mark.parametrize("answer", [b"-NOPERM no CLUSTER for you\r\n", b"+OK\r\n"])
def test_a_server_that_gives_no_map_gets_plain_pub_sub(answer: bytes) -> None:
    io = FakeIO()
    bp = RedisBackplane("redis://10.0.0.1:7000/0", probeInterval=1000.0)
    bp.attach(ShardListener(io))
    stream = io.open(io.connects[0])
    answer_topology(io.connects[0], stream, answer)
    assert bp.cluster is False and len(io.connects) == 3


def test_a_replica_that_takes_over_gets_the_lost_masters_groups() -> None:
    rig = ClusterRig()
    rig.open()
    on_a = group_on(A)
    rig.bp.subscribe(on_a)
    rig.open()
    rig.take(A, "sub")
    rig.lose(A, "pub")
    assert rig.asked_slots()
    rig.answer_slots(THREE)  # (no failover yet)
    rig.io.advance(10)  # (A's publisher tries again; A refuses: each failure asks again)
    assert (rig.io.connects[-1].host, rig.io.connects[-1].port) == A
    rig.opened = len(rig.io.connects)
    rig.io.connects[-1].handler.connection_lost("cannot connect: refused")
    assert rig.asked_slots()
    replica = ("10.0.0.4", 7003)
    rig.answer_slots(cluster_slots((0, 5460, replica), (5461, 10922, B), (10923, 16383, C)))
    assert sorted(rig.open()) == [(*replica, "pub"), (*replica, "sub")]
    assert rig.take(replica, "sub") == [[b"SSUBSCRIBE", f"wsproto_cb:g:{on_a}".encode()]]
    assert rig.listener.calls == [
        ("shard-lost", "10.0.0.1:7000", [on_a]),
        ("shard-restored", "10.0.0.1:7000", [on_a]),  # (its groups have a master again)
    ]
    assert [s["address"] for s in rig.bp.shards] == [
        "10.0.0.2:7001",
        "10.0.0.3:7002",
        "10.0.0.4:7003",
    ]
    rig.bp.publish(on_a, b"again", False)
    assert rig.published(replica) == [(f"wsproto_cb:g:{on_a}".encode(), b"again")]
