"""Fixtures for the backplane tests: a real redis-server (see redisproc.py), clients to close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cluster import Client
from .redisproc import RedisServer, running_redis


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    """One redis-server for a whole module (tests keep apart by group names)."""
    with running_redis() as server:
        yield server


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    """WebSocket clients a test opened (append them): closed at its end."""
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()
