"""A real Redis Sentinel set-up for tests: a master, its replica and one sentinel, stopped by PID.

The sentinel is ``redis-server CONFIG --sentinel`` with a config file of
its own (it rewrites it), watching the master as ``mymaster`` with a
quorum of one and a one-second down-after, so that ``SENTINEL FAILOVER``
(or a killed master) promotes the replica within a few seconds.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .redisproc import RedisServer, redis_server_path

NAME = "mymaster"
#: a replica's first sync starts at once (not after the default 5 s of waiting for others)
QUICK_SYNC = ["--repl-diskless-sync-delay", "0"]


class SentinelServer(RedisServer):
    """``redis-server sentinel.conf --sentinel`` on a free loopback port."""

    def __init__(self, master_port: int) -> None:
        self.conf_dir = tempfile.mkdtemp(prefix="wsproto_cb-sentinel-")
        self.conf = Path(self.conf_dir) / "sentinel.conf"
        self.conf.write_text(
            f"sentinel monitor {NAME} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {NAME} 1000\n"
            f"sentinel failover-timeout {NAME} 10000\n"
        )
        super().__init__()

    def argv(self) -> list[str]:
        return [
            self.path, str(self.conf), "--sentinel",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", self.dir,
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.conf_dir, ignore_errors=True)


class Sentinels:
    """A master, one replica of it, and a sentinel watching them."""

    def __init__(self, timeout: float = 20.0) -> None:
        self.servers: list[RedisServer] = []
        try:
            master = RedisServer(QUICK_SYNC)
            self.servers.append(master)
            replica = RedisServer([*QUICK_SYNC, "--replicaof", "127.0.0.1", str(master.port)])
            self.servers.append(replica)
            self.sentinel = SentinelServer(master.port)
            self.servers.append(self.sentinel)
            self.wait_replica(replica, timeout)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{NAME}"

    def master(self) -> RedisServer:
        """The server the sentinel names as the master now."""
        reply = self.sentinel.command("SENTINEL", "get-master-addr-by-name", NAME)
        return next(s for s in self.servers[:2] if s.port == int(reply[1]))

    def replica(self) -> RedisServer:
        master = self.master()
        return next(s for s in self.servers[:2] if s is not master)

    def wait_replica(self, replica: RedisServer, timeout: float = 20.0) -> None:
        """Until the replica is in sync and the sentinel knows it (so it can fail over)."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError, ConnectionError):
                synced = b"master_link_status:up" in replica.command("INFO", "replication")
                known = self.sentinel.command("SENTINEL", "REPLICAS", NAME)
                if synced and any(_flags(entry) == "slave" for entry in known):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica is not ready after {timeout} s")
            time.sleep(0.05)

    def failover(self, timeout: float = 20.0) -> RedisServer:
        """``SENTINEL FAILOVER``; the new master, once it says it is one."""
        old = self.master()
        self.sentinel.command("SENTINEL", "FAILOVER", NAME)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError, ConnectionError, StopIteration):
                new = self.master()
                if new is not old and new.command("ROLE")[0] == b"master":
                    return new
            if time.monotonic() > deadline:
                raise RuntimeError(f"no failover after {timeout} s")
            time.sleep(0.05)

    def close(self) -> None:
        for server in self.servers:
            server.close()


def _flags(entry: Any) -> str:
    fields = dict(zip(entry[::2], entry[1::2], strict=False))
    return str(fields.get(b"flags", b"").decode())


@contextlib.contextmanager
def running_sentinels() -> Iterator[Sentinels]:
    if redis_server_path() is None:
        import pytest

        pytest.skip("redis-server is not installed (.ci/run installs it)")
    sentinels = Sentinels()
    try:
        yield sentinels
    finally:
        sentinels.close()
