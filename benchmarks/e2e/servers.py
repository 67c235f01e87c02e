"""The echo servers under test, and starting/stopping them as pinned processes."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

__all__ = [
    "SERVERS",
    "ServerProcess",
    "ServerSpec",
    "baseline_spec",
    "child_env",
    "die_with_parent",
    "pin_command",
    "unavailable_reason",
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "benchmarks" / "servers"
SERVER_CORE = 0
DRIVER_CORE = 1


@dataclass(frozen=True)
class ServerSpec:
    name: str
    script: str
    args: tuple[str, ...] = ()
    raw: bool = False  # a plain TCP echo: no WebSocket handshake
    deflate: bool = True  # can negotiate permessage-deflate
    needs: tuple[str, ...] = ()  # importable modules it needs
    about: str = ""
    #: Run from this source tree instead of this checkout (``--baseline``).
    tree: Path | None = None


SERVERS: dict[str, ServerSpec] = {
    s.name: s
    for s in [
        ServerSpec("ours-asyncio", "ours_asyncio.py", about="wsproto_cb, asyncio (stock loop)"),
        ServerSpec(
            "ours-uvloop",
            "ours_asyncio.py",
            ("--loop", "uvloop"),
            needs=("uvloop",),
            about="wsproto_cb, asyncio on uvloop",
        ),
        ServerSpec(
            "ours-asyncio-autobahn-accept",
            "ours_asyncio.py",
            ("--autobahn-accept",),
            about="wsproto_cb, asyncio, deflate accepted by PerMessageDeflateOfferAccept(offer)",
        ),
        ServerSpec(
            "ours-asyncio-metrics",
            "ours_asyncio.py",
            ("--metrics",),
            needs=("prometheus_client",),
            about="wsproto_cb, asyncio (stock loop), Prometheus metrics served and scraped 1/s",
        ),
        ServerSpec(
            "ours-twisted",
            "ours_twisted.py",
            needs=("twisted",),
            about="wsproto_cb, Twisted epoll reactor",
        ),
        ServerSpec(
            "autobahn-asyncio",
            "autobahn_asyncio.py",
            needs=("autobahn",),
            about="Autobahn|Python, asyncio (stock loop)",
        ),
        ServerSpec(
            "autobahn-twisted",
            "autobahn_twisted.py",
            needs=("autobahn", "twisted"),
            about="Autobahn|Python, Twisted epoll reactor",
        ),
        ServerSpec(
            "websockets",
            "websockets_server.py",
            needs=("websockets",),
            about="websockets.asyncio.server (stock loop)",
        ),
        ServerSpec(
            "aiohttp",
            "aiohttp_server.py",
            needs=("aiohttp",),
            about="aiohttp WebSocketResponse (stock loop)",
        ),
        ServerSpec(
            "picows",
            "picows_server.py",
            needs=("picows", "uvloop"),
            deflate=False,
            about="picows on uvloop (frame echo, no deflate)",
        ),
        ServerSpec(
            "tcp-asyncio",
            "tcp_echo.py",
            raw=True,
            deflate=False,
            about="plain TCP echo, asyncio (floor)",
        ),
        ServerSpec(
            "tcp-uvloop",
            "tcp_echo.py",
            ("--loop", "uvloop"),
            raw=True,
            deflate=False,
            needs=("uvloop",),
            about="plain TCP echo, uvloop (floor)",
        ),
    ]
}


def unavailable_reason(spec: ServerSpec) -> str | None:
    for module in spec.needs:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def pin_command(core: int, argv: list[str]) -> list[str]:
    """``taskset -c CORE argv`` (when there are enough cores and taskset exists)."""
    if (os.cpu_count() or 1) > core and shutil.which("taskset"):
        return ["taskset", "-c", str(core), *argv]
    return argv


def die_with_parent() -> None:
    """preexec: SIGTERM this child if the runner dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def baseline_spec(spec: ServerSpec, tree: Path) -> ServerSpec:
    """``spec`` run from another checkout (say the last release), named ``NAME@baseline``.

    Before/after figures then come from one run, side by side, on one machine
    state: the only figures this shared, noisy machine can compare.
    """
    about = f"{spec.about}, from {tree}"
    return replace(spec, name=f"{spec.name}@baseline", tree=tree, about=about)


def child_env(
    extra: dict[str, str] | None = None, tree: Path | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tree or ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env.pop("WSBENCH_CPROFILE", None)
    if extra:
        env.update(extra)
    return env


class ServerProcess:
    """One running echo server, pinned to the server core; stopped by PID."""

    def __init__(
        self,
        spec: ServerSpec,
        logdir: Path,
        max_seconds: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.log_path = logdir / f"{spec.name}-{time.monotonic_ns()}.log"
        argv = [
            sys.executable,
            str((spec.tree / "benchmarks" / "servers" if spec.tree else SCRIPTS) / spec.script),
            *spec.args,
            "--port",
            "0",
            "--max-seconds",
            str(int(max_seconds)),
        ]
        self._log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            pin_command(SERVER_CORE, argv),
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env=child_env(env, spec.tree),
            start_new_session=True,  # Ctrl-C reaches the runner, which stops us by PID
            preexec_fn=die_with_parent,
        )
        self.pid = self.proc.pid  # taskset execs the interpreter: same PID
        self.port = 0

    def wait_ready(self, timeout: float = 30.0) -> None:
        out = self.proc.stdout
        if out is None:
            raise RuntimeError("server started without a stdout pipe")
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if self.proc.poll() is not None:
                break
            ready, _, _ = select.select([out], [], [], 0.2)
            if ready:
                chunk = os.read(out.fileno(), 256)
                if not chunk:
                    break
                line += chunk
        if not line.startswith(b"READY "):
            self.stop()
            raise RuntimeError(f"{self.spec.name} did not start:\n{self.log_tail()}")
        self.port = int(line.split()[1])

    def prime(self) -> None:
        """Open and close one bare TCP connection, as a server in service has seen.

        On CPython 3.11's selector loop every read allocates ``max_size``
        (256 KiB) bytes; glibc serves that with mmap/mremap/munmap, three
        system calls per read, until the process first frees such a buffer
        whole, which raises glibc's dynamic mmap threshold.  Reading the EOF
        of a closed connection does that.  Without this a fresh stock-asyncio
        server pays 2-3x more CPU per small message than one that has seen a
        disconnect (measured: 24.6 vs 7.7 us in a TCP echo), and which
        repetition was first decided the result.
        """
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            time.sleep(0.1)
        time.sleep(0.3)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout)
            except ProcessLookupError:
                pass
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
