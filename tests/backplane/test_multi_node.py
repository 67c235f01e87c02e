"""Broadcast across three real processes (asyncio, Twisted, asyncio) sharing one redis-server.

Each test uses its own group names on one module-wide cluster.  Before
publishing, a test waits until Redis reports every node subscribed
(``PUBSUB NUMSUB``): the backplane promises delivery from then on, not to a
subscription still in flight.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cluster import Client, Node, group_channel, joined, nodes, wait_subscribed
from .redisproc import RedisServer

RUNTIMES = ["asyncio", "twisted", "asyncio"]


@pytest.fixture(scope="module")
def cluster(shared_redis: RedisServer) -> Iterator[list[Node]]:
    with nodes(shared_redis.url, RUNTIMES) as started:
        yield started


def test_every_member_on_every_node_receives_each_broadcast_once_in_order(
    shared_redis: RedisServer, cluster: list[Node], clients: list[Client]
) -> None:
    members = [joined(clients, node, "room1") for node in cluster for _ in range(2)]
    outsiders = [joined(clients, node) for node in cluster]
    wait_subscribed(shared_redis, group_channel("room1"), len(cluster))
    wait_subscribed(shared_redis, group_channel(None), len(cluster))
    count = 300
    # Two publishers on two nodes (asyncio and Twisted) at once, interleaved in
    # Redis.  Order is promised per publisher, so each one ends with its own marker.
    publishers = {"a": members[0], "b": outsiders[1]}
    for tag, publisher in publishers.items():
        publisher.command("burst", count=count, size=100, group="room1", tag=tag)
        publisher.command("broadcast", payload=f"{tag}:end:", group="room1")
    expected = {tag: [*range(count), "end"] for tag in publishers}
    for member in members:
        by_tag: dict[str, list[int | str]] = {tag: [] for tag in publishers}
        while any(not seen or seen[-1] != "end" for seen in by_tag.values()):
            ((_, text),) = member.receive(1)
            tag, index, _ = text.split(":")
            by_tag[tag].append(index if index == "end" else int(index))
        assert by_tag == expected, f"{member.node}"
    # Every node has handled every group message by now: a message to every
    # connection must be the next thing anyone receives.
    everyone_marker = "end-all"
    outsiders[2].command("broadcast", payload=everyone_marker, group=None)
    for outsider in [*members, *outsiders]:
        # group messages never reach a connection outside the group; group=None does
        assert outsider.receive_until(everyone_marker) == []


def test_sender_is_left_out_on_its_node_and_members_elsewhere_receive(
    shared_redis: RedisServer, cluster: list[Node], clients: list[Client]
) -> None:
    sender, mate = (joined(clients, cluster[1], "room2") for _ in range(2))
    others = [joined(clients, node, "room2") for node in (cluster[0], cluster[2])]
    wait_subscribed(shared_redis, group_channel("room2"), len(cluster))

    reply = sender.command(
        "broadcast", payload="\x00binary", binary=True, group="room2", others=True
    )
    assert reply["sent"] == 1  # the local mate only; the sender is left out
    sender.command("broadcast", payload="text é", group="room2", others=True)
    sender.command("broadcast", payload="end", group="room2")  # (to everyone, sender too)

    for receiver in [mate, *others]:
        assert receiver.receive(3) == [(True, "\x00binary"), (False, "text é"), (False, "end")]
    assert sender.receive(1) == [(False, "end")]


def test_leaving_a_group_stops_delivery_on_every_node(
    shared_redis: RedisServer, cluster: list[Node], clients: list[Client]
) -> None:
    channel = group_channel("room3")
    publisher = joined(clients, cluster[0], "room3")
    leavers = [joined(clients, cluster[1], "room3") for _ in range(2)]
    stayer, partial_leaver = (joined(clients, cluster[2], "room3") for _ in range(2))
    wait_subscribed(shared_redis, channel, 3)

    for client in [*leavers, partial_leaver]:
        client.command("leave", group="room3")
    # node 1 has no member left and unsubscribes; node 2 keeps one
    wait_subscribed(shared_redis, channel, 2)
    publisher.command("burst", count=50, size=10, group="room3", tag="after")
    publisher.command("broadcast", payload="end", group=None)

    assert len(stayer.receive_until("end")) == 50
    for client in [*leavers, partial_leaver]:
        assert client.receive_until("end") == []


def test_a_group_rejoined_after_leaving_receives_again(
    shared_redis: RedisServer, cluster: list[Node], clients: list[Client]
) -> None:
    channel = group_channel("room4")
    publisher = joined(clients, cluster[2], "room4")
    member = joined(clients, cluster[1], "room4")
    wait_subscribed(shared_redis, channel, 2)
    member.command("leave", group="room4")
    wait_subscribed(shared_redis, channel, 1)
    member.command("join", group="room4")
    wait_subscribed(shared_redis, channel, 2)

    publisher.command("broadcast", payload="again", group="room4")
    assert member.receive(1) == [(False, "again")]
    stats = member.command("stats")["stats"]
    assert stats["gaps"] == 0 and stats["malformed"] == 0
