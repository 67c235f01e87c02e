"""Fail fast: a node connects its backplane when it starts listening, not at
the first WebSocket connection, so a Redis that is down is reported at once
(and the node keeps retrying until it comes)."""

from __future__ import annotations

import pytest

from .cluster import Client, nodes
from .redisproc import RedisServer


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_a_redis_that_is_down_is_reported_before_any_client_connects(runtime: str) -> None:
    redis = RedisServer()
    redis.stop()  # (its port is known and nothing listens there)
    try:
        with nodes(redis.url, [runtime], "--reconnect-max", "0.2") as (node,):
            line = node.proc.wait_for(r"^EVENT lost .*").group(0)
            assert f":{redis.port}" in line, line  # (says which Redis)
            redis.start()
            node.proc.wait_for(r"^EVENT restored")
            client = Client(node)
            try:
                answer = client.command("stats")
            finally:
                client.close()
            assert answer["state"] == "up"
            assert answer["stats"]["lost"] == 1
            assert answer["stats"]["reconnects"] == 1
    finally:
        redis.close()
