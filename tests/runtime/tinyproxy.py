"""A real ``tinyproxy`` for the proxy tests: on a free loopback port, stopped by PID.

The configuration is generated per test: ``Allow 127.0.0.1``, ``ConnectPort``
for the ports the test allows (none given: every port) and ``BasicAuth``
when credentials are asked for.  :func:`running_tinyproxy` skips the test,
saying why, where tinyproxy is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

TINYPROXY = "tinyproxy"


def tinyproxy_path() -> str | None:
    return shutil.which(os.environ.get("TINYPROXY", TINYPROXY))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Tinyproxy:
    port: int
    pid: int
    log: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _config(port: int, directory: str, ports: Sequence[int], auth: tuple[str, str] | None) -> str:
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 30",
        f'LogFile "{directory}/tinyproxy.log"',
        "LogLevel Info",
        "MaxClients 50",
        "Allow 127.0.0.1",
        "DisableViaHeader Yes",
    ]
    lines += [f"ConnectPort {p}" for p in ports]
    if auth is not None:
        lines.append(f"BasicAuth {auth[0]} {auth[1]}")
    return "\n".join(lines) + "\n"


def _wait_listening(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tinyproxy exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("tinyproxy did not start listening within 10 s")


@contextlib.contextmanager
def running_tinyproxy(
    connect_ports: Sequence[int] = (), auth: tuple[str, str] | None = None
) -> Iterator[Tinyproxy]:
    """A fresh tinyproxy allowing CONNECT to ``connect_ports`` (all when empty)."""
    path = tinyproxy_path()
    if path is None:
        import pytest

        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy; .ci/run does)")
    with tempfile.TemporaryDirectory(prefix="tinyproxy-") as directory:
        port = free_port()
        config = os.path.join(directory, "tinyproxy.conf")
        with open(config, "w") as out:
            out.write(_config(port, directory, connect_ports, auth))
        proc = subprocess.Popen(
            [path, "-d", "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_listening(port, proc, time.monotonic() + 10)
            yield Tinyproxy(port, proc.pid, os.path.join(directory, "tinyproxy.log"))
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()
