"""A real ``redis-server`` for tests and benchmarks: on a free loopback port, stopped by PID.

Persistence is off (no RDB, no AOF, its files in a temporary directory), so a
killed server leaves nothing behind.  Tests that need one use
:func:`running_redis` (or the ``redis_server`` fixtures built on it in
tests/backplane/conftest.py), which skips with the reason where Debian's
``redis-server`` is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

from wsproto_cb.backplane.resp import RespReader, encode_command

#: Debian's package puts it on PATH; REDIS_SERVER overrides.
REDIS_SERVER = "redis-server"


def redis_server_path() -> str | None:
    import os

    return shutil.which(os.environ.get("REDIS_SERVER", REDIS_SERVER))


@contextlib.contextmanager
def running_redis(config: Sequence[str] = ()) -> Iterator[RedisServer]:
    """A fresh redis-server, closed afterwards; skips the test where none is installed."""
    if redis_server_path() is None:
        import pytest  # (only tests get here: the benchmarks check redis_server_path first)

        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    with RedisServer(config) as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1; :meth:`restart` keeps the port."""

    def __init__(self, config: Sequence[str] = (), port: int | None = None) -> None:
        path = redis_server_path()
        if path is None:
            raise RuntimeError("redis-server is not installed")
        self.path = path
        self.config = list(config)
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="wsproto_cb-redis-")
        self.popen: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def argv(self) -> list[str]:
        """The command line (a subclass may run redis-server another way)."""
        return [
            self.path,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", self.dir,
            "--daemonize", "no",
            "--loglevel", "warning",
            *self.config,
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> None:
        self.popen = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                stdout = self.popen.stdout
                output = stdout.read().decode(errors="replace") if stdout else ""
                raise RuntimeError(f"redis-server exited with {self.popen.returncode}: {output}")
            with contextlib.suppress(OSError):
                if self.command("PING") == b"PONG":
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Stop the process by its PID (SIGKILL by default: a crash, not a shutdown)."""
        popen, self.popen = self.popen, None
        if popen is None:
            return
        if popen.poll() is None:
            popen.send_signal(sig)
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=10)
        if popen.stdout is not None:
            popen.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the server stays connected but answers nothing (a silent partition)."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.resume()  # (a stopped process would not die of SIGTERM)
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, *args: str | bytes | int, timeout: float = 5.0) -> Any:
        """One command on a new blocking connection; the reply as RespReader returns it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(encode_command(*args))
            reader = RespReader()
            while True:
                reply = reader.gets()
                if reply is not False:
                    return reply
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("redis-server closed the connection")
                reader.feed(data)

    def clients(self) -> list[dict[str, str]]:
        """``CLIENT LIST``, one dict per connection."""
        text = self.command("CLIENT", "LIST").decode()
        return [
            dict(field.split("=", 1) for field in line.split() if "=" in field)
            for line in text.splitlines()
        ]

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
