"""The backplane when things go wrong: Redis dies, Redis hangs, a client stops reading.

Two real nodes (one asyncio, one Twisted, both orders) on a redis-server of
the test's own, with short probe and reconnect times so that an outage is
noticed and healed within a second or two.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import websocket

from wsproto_cb.backplane.resp import RespReader, encode_command

from .cluster import Client, Node, group_channel, nodes, wait_subscribed
from .redisproc import RedisServer, running_redis

FAST = ("--probe-interval", "0.3", "--probe-timeout", "0.5", "--reconnect-max", "0.3")
ORDERS = [pytest.param(["asyncio", "twisted"], id="asyncio-publishes"),
          pytest.param(["twisted", "asyncio"], id="twisted-publishes")]  # fmt: skip


def member(clients: list[Client], node: Node, group: str, **options: int) -> Client:
    client = Client(node, **options)
    clients.append(client)
    client.command("join", group=group)
    return client


@pytest.mark.parametrize("runtimes", ORDERS)
def test_redis_killed_and_restarted_mid_stream(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client]
) -> None:
    with nodes(redis_server.url, runtimes, *FAST) as (publishing, receiving):
        local = member(clients, publishing, "live")
        remote = member(clients, receiving, "live")
        wait_subscribed(redis_server, group_channel("live"), 2)
        local.command("broadcast", payload="before", group="live")
        assert remote.receive(1) == [(False, "before")]

        redis_server.stop()  # SIGKILL
        for node in (publishing, receiving):
            node.proc.wait_for(r"^EVENT lost .*Redis")
        for i in range(5):  # local members are served while Redis is away
            assert local.command("broadcast", payload=f"during:{i}", group="live")["sent"] == 1
        assert [text for _, text in local.receive(6)] == [
            "before",
            *(f"during:{i}" for i in range(5)),
        ]

        redis_server.start()  # same port; both nodes reconnect by themselves
        for node in (publishing, receiving):
            node.proc.wait_for(r"^EVENT restored")
        wait_subscribed(redis_server, group_channel("live"), 2)
        local.command("broadcast", payload="after", group="live")

        # at most once: what was published during the outage is gone, and said so
        assert remote.receive(1) == [(False, "after")]
        gap = receiving.proc.wait_for(r"^EVENT gap (\S+) ([0-9a-f]{16}) (\d+)$")
        assert (gap.group(1), int(gap.group(3))) == ("live", 5)
        publisher_stats = local.command("stats")["stats"]
        receiver_stats = remote.command("stats")["stats"]
        assert publisher_stats["publish_dropped"] == 5
        assert publisher_stats["lost"] == 1
        assert (receiver_stats["gaps"], receiver_stats["missed"]) == (1, 5)
        assert len(receiving.events("lost")) == 1  # one outage, reported once


def test_a_hung_redis_is_noticed_by_the_liveness_probe(
    redis_server: RedisServer, clients: list[Client]
) -> None:
    with nodes(redis_server.url, ["asyncio", "twisted"], *FAST) as started:
        first, second = (member(clients, node, "probe") for node in started)
        wait_subscribed(redis_server, group_channel("probe"), 2)

        redis_server.pause()  # SIGSTOP: connections stay open, nothing answers
        try:
            for node in started:
                node.proc.wait_for(r"^EVENT lost .*no answer to (PING|the set-up)")
        finally:
            redis_server.resume()
        for node in started:
            node.proc.wait_for(r"^EVENT restored")
        wait_subscribed(redis_server, group_channel("probe"), 2)
        first.command("broadcast", payload="alive", group="probe")
        assert second.receive(1) == [(False, "alive")]


@pytest.fixture
def small_pubsub_buffer_redis() -> Iterator[RedisServer]:
    """Redis cuts a subscriber off past 256 KiB of unread output (the default is 32 MiB)."""
    with running_redis(["--client-output-buffer-limit", "pubsub 256kb 64kb 1"]) as server:
        yield server


@pytest.mark.parametrize("runtimes", ORDERS)
def test_a_stalled_client_neither_holds_back_others_nor_gets_the_node_cut_off(
    small_pubsub_buffer_redis: RedisServer, runtimes: list[str], clients: list[Client]
) -> None:
    redis = small_pubsub_buffer_redis
    queue_limit = ("--queue-limit", str(256 * 1024))
    with nodes(redis.url, runtimes, *FAST, *queue_limit) as (publishing, receiving):
        publisher = member(clients, publishing, "ticker")
        stalled = member(clients, receiving, "ticker", receive_buffer=4096)
        reader = member(clients, receiving, "ticker")
        wait_subscribed(redis, group_channel("ticker"), 2)
        subscriber_before = subscriber_ids(redis)

        # 6 MB through a subscription that Redis cuts at 256 KiB of backlog.  The
        # reader reads as a client does, at the same time; the publisher goes at
        # the pace the reader keeps (100 messages ahead at most), so only the
        # stalled client falls behind.
        count, chunk = 6000, 100
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(reader.receive_until, "t:end:")
            for start in range(0, count, chunk):
                publisher.command(
                    "burst", start=start, count=chunk, size=1000, group="ticker", tag="t"
                )
                reader.wait_received(start + chunk, timeout=30)
            publisher.command("broadcast", payload="t:end:", group="ticker")
            got = reading.result(timeout=30)
        assert [int(text.split(":")[1]) for text in got] == list(range(count))
        stats = reader.command("stats")
        assert stats["dropped"] == 0
        assert stats["dropped_here"] > 0  # the stalled client's, bounded by its queue limit
        assert stats["stats"]["lost"] == 0 and stats["stats"]["gaps"] == 0
        assert receiving.events("lost") == []
        assert subscriber_ids(redis) == subscriber_before  # never reconnected
        assert stalled.ws.connected


def subscriber_ids(redis: RedisServer) -> set[str]:
    """The ids of the connections subscribed to something (the nodes' subscriber links)."""
    return {c["id"] for c in redis.clients() if int(c.get("sub", 0)) > 0}


def test_the_limit_does_cut_off_a_subscriber_that_stops_reading(
    small_pubsub_buffer_redis: RedisServer,
) -> None:
    """The previous test's Redis would have cut the node off had it stopped reading."""
    redis = small_pubsub_buffer_redis
    with socket.create_connection(("127.0.0.1", redis.port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(encode_command("SUBSCRIBE", "slow"))
        sock.recv(100)
        assert subscriber_ids(redis)
        with socket.create_connection(("127.0.0.1", redis.port), timeout=10) as publisher:
            batch = encode_command("PUBLISH", "slow", b"x" * 1000) * 1000
            for _ in range(64):  # up to 64 MB, in pipelined batches of 1 MB, never read
                publisher.sendall(batch)
                replies = RespReader()
                for _ in range(1000):
                    while replies.gets() is False:
                        replies.feed(publisher.recv(65536))
                if not subscriber_ids(redis):
                    break
        assert not subscriber_ids(redis), "Redis never cut off the stalled subscriber"


@pytest.mark.parametrize("runtimes", ORDERS)
def test_a_node_stopped_with_sigterm_still_publishes_what_onclose_broadcasts(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client]
) -> None:
    """Graceful shutdown: 1001 to the node's clients, their onClose runs, and
    only then do the node's links to Redis close, once flushed."""
    with nodes(redis_server.url, runtimes, *FAST) as (stopping, staying):
        leaving = member(clients, stopping, "room")
        leaving.command("farewell", payload="alice left", group="room")
        remote = member(clients, staying, "room")
        wait_subscribed(redis_server, group_channel("room"), 2)

        stopping.proc.signal(signal.SIGTERM)
        opcode, data = leaving.ws.recv_data()  # (websocket-client answers the close)
        assert (opcode, data[:2]) == (websocket.ABNF.OPCODE_CLOSE, (1001).to_bytes(2, "big"))
        assert stopping.proc.wait() == 0, stopping.proc.output
        assert remote.receive(1) == [(False, "alice left")]
        assert "EVENT lost" not in stopping.proc.output  # (closed on purpose: not an outage)
