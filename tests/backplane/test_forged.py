"""Forged messages on Redis, published raw: they must not reach or disconnect any client.

Anyone who can PUBLISH on the Redis a cluster uses can put bytes on its
channels.  Two real nodes (one asyncio, one Twisted, both orders) on a
redis-server of the test's own; the forged envelopes go in with a raw RESP
``PUBLISH`` on a plain socket, as an attacker would send them.  The bytes-level
rules are in tests/core/test_backplane_trust.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wsproto_cb.backplane.envelope import encode_envelope

from .cluster import Client, Node, group_channel, nodes, wait_subscribed
from .redisproc import RedisServer

ORDERS = [pytest.param(["asyncio", "twisted"], id="twisted-receives"),
          pytest.param(["twisted", "asyncio"], id="asyncio-receives")]  # fmt: skip
CHANNEL = group_channel("room")
STRANGER = b"\x66" * 8


def member(clients: list[Client], node: Node) -> Client:
    client = Client(node)
    clients.append(client)
    client.command("join", group="room")
    return client


def forge(redis: RedisServer, node: bytes, sequence: int, payload: bytes, epoch: int = 0) -> None:
    envelope = encode_envelope(node, sequence, "room", payload, False, epoch)
    assert redis.command("PUBLISH", CHANNEL, envelope) == 2  # (both nodes got it)


@pytest.mark.parametrize("runtimes", ORDERS)
def test_forged_text_that_is_not_utf8_reaches_no_client(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client]
) -> None:
    """Before: one PUBLISH made every member on every node get an invalid text
    frame, and a conforming client closes with 1007."""
    with nodes(redis_server.url, runtimes) as (publishing, receiving):
        sender, remote = member(clients, publishing), member(clients, receiving)
        wait_subscribed(redis_server, CHANNEL, 2)
        forge(redis_server, STRANGER, 1, b"caf\xc3 \xff")
        sender.command("broadcast", payload="after", group="room")
        assert remote.receive(1) == [(False, "after")]  # (and not the forged one before it)
        assert sender.receive(1) == [(False, "after")]
        for client in (sender, remote):
            assert until_counted(client, "invalid_utf8")["invalid_utf8"] == 1
            assert client.ws.connected


@pytest.mark.parametrize("runtimes", ORDERS)
def test_a_forged_huge_sequence_does_not_silence_the_real_publisher(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client]
) -> None:
    """Before: the real node's later messages were all dropped as stale."""
    with nodes(redis_server.url, runtimes) as (publishing, receiving):
        sender, remote = member(clients, publishing), member(clients, receiving)
        wait_subscribed(redis_server, CHANNEL, 2)
        real_node = bytes.fromhex(sender.command("stats")["node"])
        sender.command("broadcast", payload="one", group="room")
        assert remote.receive(1) == [(False, "one")]
        forge(redis_server, real_node, 2**64 - 1, b"forged", epoch=2**64 - 1)
        sender.command("broadcast", payload="two", group="room")
        sender.command("broadcast", payload="three", group="room")
        assert remote.receive(3) == [(False, "forged"), (False, "two"), (False, "three")]
        stats = remote.command("stats")["stats"]
        assert stats["sequence_resets"] >= 1 and stats["stale"] == 0
        assert receiving.events("gap") == []


def secret_file(tmp_path: Path, name: str, secret: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(secret + b"\n")
    path.chmod(0o600)
    return str(path)


@pytest.mark.parametrize("runtimes", ORDERS)
def test_with_a_shared_secret_only_signed_envelopes_are_delivered(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client], tmp_path: Path
) -> None:
    secret = ("--secret-file", secret_file(tmp_path, "secret", b"a shared secret of 32 bytes....."))
    with nodes(redis_server.url, runtimes, *secret) as (publishing, receiving):
        sender, remote = member(clients, publishing), member(clients, receiving)
        wait_subscribed(redis_server, CHANNEL, 2)
        real_node = bytes.fromhex(sender.command("stats")["node"])
        forge(redis_server, STRANGER, 1, b"forged")
        forge(redis_server, real_node, 2**64 - 1, b"forged with a real node id")
        sender.command("broadcast", payload="signed", group="room")
        assert remote.receive(1) == [(False, "signed")]
        stats = remote.command("stats")["stats"]
        assert (stats["unauthenticated"], stats["received"]) == (2, 1)


@pytest.mark.parametrize("runtimes", ORDERS)
def test_nodes_with_different_secrets_drop_each_others_messages(
    redis_server: RedisServer, runtimes: list[str], clients: list[Client], tmp_path: Path
) -> None:
    first, second = runtimes
    one = secret_file(tmp_path, "one", b"the first secret, 16 bytes or more")
    two = secret_file(tmp_path, "two", b"the second secret, different")
    with (
        nodes(redis_server.url, [first], "--secret-file", one) as (publishing,),
        nodes(redis_server.url, [second], "--secret-file", two) as (receiving,),
    ):
        sender, remote = member(clients, publishing), member(clients, receiving)
        wait_subscribed(redis_server, CHANNEL, 2)
        sender.command("broadcast", payload="not for you", group="room")
        remote.command("broadcast", payload="nor for you", group="room")
        for client, other in ((sender, "nor for you"), (remote, "not for you")):
            stats = until_counted(client, "unauthenticated")
            assert (stats["unauthenticated"], stats["received"]) == (1, 0)
            assert other not in [text for _, text in client.inbox]


def until_counted(client: Client, counter: str, timeout: float = 20.0) -> dict[str, int]:
    """The node's stats once ``counter`` is non-zero (the message crosses Redis meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        stats: dict[str, int] = client.command("stats")["stats"]
        if stats[counter] or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)
