"""Fixtures for the backplane tests: a real redis-server per test (see redisproc.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .redisproc import RedisServer, redis_server_path


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[RedisServer]:
    """One redis-server for a whole module (tests keep apart by group names)."""
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()
