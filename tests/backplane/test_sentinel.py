"""``redis+sentinel://``: the backplane follows the master a Redis Sentinel names.

A master, its replica and a sentinel (tests/backplane/redissentinel.py);
an asyncio node and a Twisted node given only the sentinel's URL.  A
planned failover (``SENTINEL FAILOVER``) and then a killed master: each
time both nodes move to the new master by themselves and broadcast to
each other again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .cluster import Client, joined, nodes, wait_subscribed
from .redissentinel import Sentinels, running_sentinels

FAST = ("--probe-interval", "0.3", "--probe-timeout", "0.5", "--reconnect-max", "0.3")
CHANNEL = "wsproto_cb:g:ha"


@pytest.fixture
def sentinels() -> Iterator[Sentinels]:
    with running_sentinels() as started:
        yield started


def exchange(first: Client, second: Client, text: str) -> None:
    """A broadcast each way; both members (the sender too) receive each."""
    for sender, receiver in ((first, second), (second, first)):
        payload = f"{text} from {sender.node.runtime}"
        sender.command("broadcast", payload=payload, group="ha")
        assert receiver.receive(1) == sender.receive(1) == [(False, payload)]


def wait_master(client: Client, port: int, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.command("stats")
        if answer["master"] == f"127.0.0.1:{port}" and answer["state"] == "up":
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not on 127.0.0.1:{port} after {timeout} s: {answer}")
        time.sleep(0.05)


def test_nodes_follow_a_planned_failover(sentinels: Sentinels, clients: list[Client]) -> None:
    old = sentinels.master()
    with nodes(sentinels.url, ["asyncio", "twisted"], *FAST) as started:
        first, second = (joined(clients, node, "ha") for node in started)
        wait_subscribed(old, CHANNEL, 2)
        exchange(first, second, "before")
        assert first.command("stats")["cluster"] is False

        promoted = sentinels.failover()  # the replica becomes the master
        wait_subscribed(promoted, CHANNEL, 2)
        for client in (first, second):
            wait_master(client, promoted.port)
        exchange(first, second, "after")
    for node in started:  # (an outage, if the old master cut them off, is healed)
        assert len(node.events("lost")) == len(node.events("restored")), node.proc.output


def test_nodes_follow_when_the_master_is_killed(
    sentinels: Sentinels, clients: list[Client]
) -> None:
    old, replica = sentinels.master(), sentinels.replica()
    with nodes(sentinels.url, ["asyncio", "twisted"], *FAST) as started:
        first, second = (joined(clients, node, "ha") for node in started)
        wait_subscribed(old, CHANNEL, 2)
        exchange(first, second, "before")

        old.stop()  # SIGKILL: the sentinel promotes the replica after a second
        for node in started:
            node.proc.wait_for(r"^EVENT lost .*")
        wait_subscribed(replica, CHANNEL, 2, timeout=30)
        for client in (first, second):
            wait_master(client, replica.port, timeout=30)
        exchange(first, second, "after")
        for node in started:
            node.proc.wait_for(r"^EVENT restored")
            assert len(node.events("lost")) == 1, node.proc.output
