"""The backplane on a real Redis Cluster of three masters (tests/backplane/rediscluster.py).

An asyncio node and a Twisted node, each given the URL of a different
cluster node, discover the cluster and use sharded pub/sub: each group's
channel is subscribed on, and published to, the master that owns its
slot, and on no other.  A slot that migrates is followed; a master that is
killed cuts off its own groups only (reported as lost, then restored, with
the messages missed meanwhile reported as a gap), while the others flow.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket
from deploy.procs import Proc

from wsproto_cb.backplane.slots import key_slot

from .cluster import Client, group_channel, joined, nodes
from .rediscluster import RedisCluster, running_cluster
from .redisproc import RedisServer

FAST = ("--probe-interval", "0.3", "--probe-timeout", "0.5", "--reconnect-max", "0.3")
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def shared_cluster() -> Iterator[RedisCluster]:
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def redis_cluster() -> Iterator[RedisCluster]:
    """A cluster of the test's own (the test kills one of its masters)."""
    with running_cluster() as cluster:
        yield cluster


def one_group_per_master(cluster: RedisCluster, prefix: str) -> list[str]:
    """Group names whose channels land on master 0, 1 and 2, in that order."""
    found: dict[int, str] = {}
    for i in range(1000):
        name = f"{prefix}{i}"
        port = cluster.owner(group_channel(name)).port
        found.setdefault(port, name)
        if len(found) == len(cluster.servers):
            return [found[server.port] for server in cluster.servers]
    raise AssertionError("no group name for some master")


def wait_until(check: object, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout} s")
        time.sleep(0.02)


def wait_shard_subscribed(cluster: RedisCluster, group: str | None, count: int) -> None:
    channel = group_channel(group)
    wait_until(lambda: cluster.numsub(channel) == count, f"{count} subscribers of {channel}")


def channels_on(server: RedisServer) -> set[str]:
    """The sharded channels someone subscribes to on this master."""
    return {name.decode() for name in server.command("PUBSUB", "SHARDCHANNELS")}


def test_the_slot_function_agrees_with_redis(shared_cluster: RedisCluster) -> None:
    server = shared_cluster.servers[0]
    for name in ["wsproto_cb:g:room", "wsproto_cb:all", "wsproto_cb:g:{eu}chat", "é{}", "{a}{b}"]:
        assert key_slot(name) == server.command("CLUSTER", "KEYSLOT", name)


def test_asyncio_and_twisted_nodes_broadcast_through_the_shard_of_each_group(
    shared_cluster: RedisCluster, clients: list[Client]
) -> None:
    cluster = shared_cluster
    groups = one_group_per_master(cluster, "room")
    first, third = cluster.servers[0], cluster.servers[2]
    with (
        nodes(first.url, ["asyncio"]) as (on_asyncio,),
        nodes(third.url, ["twisted"]) as (on_twisted,),
    ):
        members = [joined(clients, node, *groups) for node in (on_asyncio, on_twisted)]
        for group in [*groups, None]:
            wait_shard_subscribed(cluster, group, 2)
        # each channel lives on its owner only, and nothing uses plain pub/sub
        for server, group in zip(cluster.servers, groups, strict=True):
            assert group_channel(group) in channels_on(server)
            assert server.command("PUBSUB", "CHANNELS") == []
        assert sum(group_channel(g) in channels_on(s) for s in cluster.servers for g in groups) == 3

        for sender, receiver in (members, reversed(members)):
            for group in groups:
                text = f"{group} from {sender.node.runtime}"
                sender.command("broadcast", payload=text, group=group)
                assert receiver.receive(1) == [(False, text)]
                assert sender.receive(1) == [(False, text)]
            sender.command("broadcast", payload="to all", group=None)
            assert receiver.receive(1) == [(False, "to all")]
            assert sender.receive(1) == [(False, "to all")]
        for client in members:
            answer = client.command("stats")
            assert (answer["state"], answer["cluster"]) == ("up", True)
            assert sorted(shard["address"] for shard in answer["shards"]) == sorted(
                f"127.0.0.1:{server.port}" for server in cluster.servers
            )
            assert answer["stats"]["gaps"] == answer["stats"]["publish_dropped"] == 0


def test_a_slot_that_migrates_is_followed(
    shared_cluster: RedisCluster, clients: list[Client]
) -> None:
    cluster = shared_cluster
    (group, *_) = one_group_per_master(cluster, "moving")
    channel = group_channel(group)
    source, target = cluster.servers[0], cluster.servers[1]
    with nodes(cluster.url, ["asyncio", "twisted"]) as started:
        first, second = (joined(clients, node, group) for node in started)
        wait_shard_subscribed(cluster, group, 2)
        first.command("broadcast", payload="before", group=group)
        assert second.receive(1) == first.receive(1) == [(False, "before")]

        slot = key_slot(channel)
        source_id, target_id = (s.command("CLUSTER", "MYID").decode() for s in (source, target))
        target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        for server in (target, source, cluster.servers[2]):
            server.command("CLUSTER", "SETSLOT", slot, "NODE", target_id)
        # Redis drops the subscriptions on the old owner; both nodes follow
        wait_until(lambda: channel not in channels_on(source), "unsubscribed on the old owner")
        wait_until(lambda: cluster.numsub(channel) == 2, "subscribed on the new owner")
        assert cluster.owner(channel) is target
        for sender, receiver in ((first, second), (second, first)):
            sender.command("broadcast", payload=f"after from {sender.node.runtime}", group=group)
            text = f"after from {sender.node.runtime}"
            assert receiver.receive(1) == sender.receive(1) == [(False, text)]
        assert not any(node.events("shard-lost") or node.events("lost") for node in started)


def test_a_killed_master_cuts_off_its_groups_only_until_it_is_back(
    redis_cluster: RedisCluster, clients: list[Client]
) -> None:
    cluster = redis_cluster
    doomed, alive, other = one_group_per_master(cluster, "g")
    victim = cluster.servers[0]  # (owns ``doomed``; also the URL both nodes were given)
    with nodes(cluster.url, ["asyncio", "twisted"], *FAST) as started:
        publisher, receiver = (joined(clients, node, doomed, alive, other) for node in started)
        for group in (doomed, alive, other):
            wait_shard_subscribed(cluster, group, 2)
        publisher.command("broadcast", payload="before", group=doomed)
        assert receiver.receive(1) == publisher.receive(1) == [(False, "before")]

        victim.stop()  # SIGKILL
        shard = f"127.0.0.1:{victim.port}"
        for node in started:
            line = node.proc.wait_for(r"^EVENT shard-lost .*").group(0)
            assert line.split(" ", 3)[2:] == [shard, json.dumps([doomed])], line
        for i in range(3):  # lost for the others meanwhile (and reported as a gap later)
            publisher.command("broadcast", payload=f"during:{i}", group=doomed)
        assert [t for _, t in publisher.receive(3)] == [f"during:{i}" for i in range(3)]
        for group in (alive, other):  # the other shards carry on
            publisher.command("broadcast", payload=f"still {group}", group=group)
            assert receiver.receive(1) == [(False, f"still {group}")]
            assert publisher.receive(1) == [(False, f"still {group}")]
        assert receiver.command("stats")["state"] == "partial"

        victim.start()  # same port, same nodes.conf: it rejoins with its slots
        for node in started:
            line = node.proc.wait_for(r"^EVENT shard-restored .*").group(0)
            assert line.split(" ", 3)[2:] == [shard, json.dumps([doomed])], line
        wait_shard_subscribed(cluster, doomed, 2)
        publisher.command("broadcast", payload="back", group=doomed)
        assert receiver.receive(1) == [(False, "back")]
        gap = started[1].proc.wait_for(r"^EVENT gap (\S+) ([0-9a-f]{16}) (\d+)$")
        assert (gap.group(1), int(gap.group(3))) == (doomed, 3)
        for client in (publisher, receiver):
            answer = client.command("stats")
            assert answer["state"] == "up"
            assert (answer["stats"]["lost"], answer["stats"]["reconnects"]) == (1, 1)
        assert publisher.command("stats")["stats"]["publish_dropped"] == 3
        assert not any(node.events("lost") for node in started)  # (the whole: never)


#: A runtime-neutral protocol module: every message goes to everyone in "relay".
RELAY = """\
from wsproto_cb.server import WebSocketServerProtocol


class Relay(WebSocketServerProtocol):
    def onOpen(self):
        self.joinGroup("relay")

    def onMessage(self, payload, isBinary):
        self.factory.broadcast(payload, isBinary, group="relay")
"""


def test_the_command_line_on_both_runtimes_finds_the_cluster_by_its_url(
    shared_cluster: RedisCluster, tmp_path: Path
) -> None:
    """``wsproto-cb serve --backplane URL`` (each given another node of the cluster)."""
    (tmp_path / "relay.py").write_text(RELAY)
    servers: list[Proc] = []
    sockets: list[websocket.WebSocket] = []
    try:
        for runtime, redis in zip(("asyncio", "twisted"), shared_cluster.servers, strict=False):
            command = ["serve", "relay:Relay", "--runtime", runtime, "--port", "0"]
            proc = Proc([sys.executable, "-m", "wsproto_cb", *command, "--backplane", redis.url],
                        cwd=tmp_path)  # fmt: skip
            servers.append(proc)
            port = int(proc.wait_for(r"on ws://127\.0\.0\.1:(\d+) ").group(1))
            sockets.append(websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=TIMEOUT))
        wait_shard_subscribed(shared_cluster, "relay", 2)
        for sender, receiver in (sockets, sockets[::-1]):
            sender.send("across the cluster")
            assert receiver.recv() == sender.recv() == "across the cluster"
    finally:
        for ws in sockets:
            ws.close()
        for proc in servers:
            proc.kill()
    for proc in servers:
        assert "Traceback" not in proc.output and "backplane lost" not in proc.output
