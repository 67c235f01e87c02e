"""A real Redis Cluster of three masters for tests and benchmarks, stopped by PID.

Three ``redis-server --cluster-enabled yes`` on free loopback ports, each
in its own temporary directory (its ``nodes.conf`` survives a kill, so a
restarted master rejoins with its slots), joined by ``redis-cli --cluster
create``.  No replicas: a killed master's slots stay its own, unreachable
until it is back, which is what the backplane must report.
``cluster-require-full-coverage no`` keeps the other masters serving
meanwhile, and a one-second node timeout lets the cluster notice quickly.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

from wsproto_cb.backplane.slots import key_slot

from .redisproc import RedisServer, free_port, redis_server_path

CLUSTER_CONFIG = [
    "--cluster-enabled", "yes",
    "--cluster-node-timeout", "1000",
    "--cluster-require-full-coverage", "no",
]  # fmt: skip


def redis_cli_path() -> str | None:
    return shutil.which("redis-cli")


class RedisCluster:
    """Three masters, slots 0-5460, 5461-10922, 10923-16383 (``redis-cli``'s split)."""

    def __init__(self, masters: int = 3, timeout: float = 20.0) -> None:
        cli = redis_cli_path()
        if cli is None:
            raise RuntimeError("redis-cli is not installed")
        self.servers: list[RedisServer] = []
        try:
            for _ in range(masters):  # (the bus port too: port + 10000 may be taken, or > 65535)
                bus = ["--cluster-port", str(free_port())]
                self.servers.append(RedisServer([*CLUSTER_CONFIG, *bus]))
            endpoints = [f"127.0.0.1:{server.port}" for server in self.servers]
            subprocess.run(
                [cli, "--cluster", "create", *endpoints, "--cluster-yes"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=True,
            )
            self.wait_ok(timeout)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """The URL of one node (any would do: the backplane discovers the others)."""
        return f"redis://127.0.0.1:{self.servers[0].port}/0"

    def wait_ok(self, timeout: float = 20.0, servers: list[RedisServer] | None = None) -> None:
        """Until every (running) master says ``cluster_state:ok`` and knows every master."""
        deadline = time.monotonic() + timeout
        for server in servers or self.servers:
            while True:
                with contextlib.suppress(OSError, ConnectionError):
                    info = server.command("CLUSTER", "INFO").decode()
                    known = len(server.command("CLUSTER", "SLOTS"))
                    if "cluster_state:ok" in info and known == len(self.servers):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster is not ok after {timeout} s")
                time.sleep(0.05)

    def owner(self, channel: str) -> RedisServer:
        """The master that owns the slot of ``channel``."""
        slot = key_slot(channel)
        for start, end, master, *_ in self.servers[0].command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                port = master[1]
                return next(server for server in self.servers if server.port == port)
        raise LookupError(f"no master owns slot {slot}")

    def numsub(self, channel: str) -> int:
        """Subscribers of a sharded channel, on the master that owns it."""
        reply: Any = self.owner(channel).command("PUBSUB", "SHARDNUMSUB", channel)
        return int(reply[1])

    def close(self) -> None:
        for server in self.servers:
            server.close()


@contextlib.contextmanager
def running_cluster() -> Iterator[RedisCluster]:
    """A fresh three-master cluster; skips the test where redis-server/-cli are missing."""
    if redis_server_path() is None or redis_cli_path() is None:
        import pytest

        pytest.skip("redis-server and redis-cli are not installed (.ci/run installs them)")
    cluster = RedisCluster()
    try:
        yield cluster
    finally:
        cluster.close()
