"""The driver's side of the helper processes: start them, talk to them in lines, stop them."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from benchmarks.e2e.servers import child_env, die_with_parent

ROOT = Path(__file__).resolve().parents[2]
LINE_TIMEOUT = 30.0  # longest wait for any answer from a helper process
SERVERS = "benchmarks.fanout.servers"
CLIENTS = "benchmarks.fanout.clients"


class Child:
    """A helper process (``python -m MODULE``) spoken to in lines on stdin/stdout."""

    def __init__(self, name: str, module: str, argv: list[str], logdir: Path) -> None:
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=child_env(),
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the driver, which stops us
            preexec_fn=die_with_parent,
        )
        if self.proc.stdin is None or self.proc.stdout is None:
            raise RuntimeError(f"{name}: started without pipes")
        self._stdin = self.proc.stdin.fileno()
        self._stdout = self.proc.stdout.fileno()
        self.pid = self.proc.pid
        self._buf = b""
        self.port = 0

    def send(self, line: str) -> None:
        try:
            os.write(self._stdin, (line + "\n").encode())
        except OSError:  # it has exited: raise with its last words
            for _ in range(100_000):
                self.read(5.0)
            raise RuntimeError(f"{self.name} is not reading its commands") from None

    def read(self, timeout: float = LINE_TIMEOUT) -> list[str]:
        fd = self._stdout
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                raise RuntimeError(f"{self.name}: no answer within {timeout:g} s{self.tail()}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"{self.name} exited{self.tail()}")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        words = line.decode().split()
        if words and words[0] in ("fail", "error"):
            raise RuntimeError(f"{self.name}: {line.decode()}")
        return words

    def expect(self, word: str, timeout: float = LINE_TIMEOUT) -> list[str]:
        words = self.read(timeout)
        if not words or words[0] != word:
            raise RuntimeError(f"{self.name}: expected {word!r}, got {words!r}")
        return words

    def status(self) -> dict[str, int]:
        self.send("status")
        return {k: int(v) for k, _, v in (w.partition("=") for w in self.expect("status")[1:])}

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").strip()
            if text:
                return "\n  " + "\n  ".join(text.splitlines()[-15:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("quit")
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()


def pin(pid: int, cores: set[int] | None) -> None:
    """Pin a process to ``cores`` (None: every core); nothing to do on one core."""
    every = set(range(os.cpu_count() or 1))
    if len(every) > 1:
        os.sched_setaffinity(pid, cores if cores is not None else every)


@dataclass
class Fleet:
    """Every process of the benchmark, stopped (by PID) when it ends."""

    logdir: Path
    children: dict[str, Child] = field(default_factory=dict)
    redis: Any = None  # tests/backplane/redisproc.py's RedisServer, when one is running
    cluster: Any = None  # tests/backplane/rediscluster.py's RedisCluster, likewise

    def start_clients(self) -> Child:
        child = self.children["clients"] = Child("clients", CLIENTS, [], self.logdir)
        return child

    def server(self, name: str, kind: str, redis: str | None = None, prefix: str = "") -> Child:
        argv = [kind, *(["--redis", redis, "--prefix", prefix] if redis else [])]
        child = self.children[name] = Child(name, SERVERS, argv, self.logdir)
        child.port = int(child.expect("READY", 60)[1])
        return child

    def close(self) -> None:
        client = self.children.pop("clients", None)
        for child in [*([client] if client else []), *self.children.values()]:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                child.stop()
        for redis in (self.redis, self.cluster):
            if redis is not None:
                redis.close()
