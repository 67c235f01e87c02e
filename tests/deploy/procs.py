"""Processes as a user starts them: servers read from their output, clients over sockets.

Every wait here is bounded, every process is killed at the end of its test,
and everything listens on 127.0.0.1 (port 0 where the program can report the
port it got).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 20.0

#: Runs twistd with the interpreter given (no twistd script needed in a venv).
TWISTD = "import sys; sys.argv[0] = 'twistd'; from twisted.scripts.twistd import run; run()"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without PYTHONPATH: imports come from the interpreter's site."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


class Proc:
    """A child process whose combined output is collected line by line."""

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        stdin: bool = False,
    ) -> None:
        self.args = list(args)
        self.popen = subprocess.Popen(
            self.args,
            cwd=cwd,
            env=env if env is not None else clean_env(),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """The first output line matching ``pattern`` (fails on exit or timeout)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    match = regex.search(line)
                    if match:
                        return match
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.popen.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"no line matching {pattern!r} from {self.args}:\n{self.output_unlocked()}"
                    )
                self._changed.wait(min(left, 0.2))

    def output_unlocked(self) -> str:
        return "\n".join(self.lines)

    def write(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text)
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.close()

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.popen.send_signal(signum)

    def wait(self, timeout: float = TIMEOUT) -> int:
        """The exit status (the process is killed if it does not exit in time)."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.args} did not exit:\n{self.output}") from None
        self._reader.join(TIMEOUT)
        return status

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(TIMEOUT)
        if self.popen.stdin is not None:
            self.popen.stdin.close()


def run(
    args: Sequence[str],
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dropped_without_a_word(port: int) -> bool:
    """Connect over TCP, send nothing (no TLS ClientHello either): True when the
    server closes the connection within TIMEOUT."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        try:
            return sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


# ------------------------------------------------------------------ a raw client


class RawClient:
    """A WebSocket client by hand: it opens, then answers nothing (a stuck peer)."""

    def __init__(self, port: int, path: str = "/") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.response = head
        assert head.startswith(b"HTTP/1.1 101"), head

    def close(self) -> None:
        self.sock.close()


# ------------------------------------------------------------- a websockets client


def ws_client(url: str) -> Any:
    """A connected ``websockets`` (sync) client: an independent implementation."""
    from websockets.sync.client import connect

    return connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT)


def close_code_after(client: Any, action: Any, timeout: float = TIMEOUT) -> tuple[int, str]:
    """Run ``action`` and return the close code and reason the server then sends."""
    from websockets.exceptions import ConnectionClosed

    action()
    try:
        while True:
            client.recv(timeout=timeout)
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, f"no close frame from the server ({exc})"
        return exc.rcvd.code, exc.rcvd.reason
    except TimeoutError:
        raise AssertionError("the server did not close the connection") from None


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


# ------------------------------------------------------------- worker processes


def pid_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an exited child nobody reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # (no /proc here)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def wait_gone(pids: Sequence[int], timeout: float = TIMEOUT) -> list[int]:
    """The ``pids`` still running after ``timeout`` seconds (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if pid_running(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def kill_pids(pids: Sequence[int]) -> None:
    """SIGKILL whatever of ``pids`` is still running (cleanup after a failed test)."""
    for pid in pids:
        if pid_running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


#: Answers every message with the reactor's class and the asyncio loop under it.
REACTOR_REPORTER = """\
from twisted.internet import reactor

from wsproto_cb.twisted import WebSocketServerProtocol


class Reporter(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        loop = getattr(reactor, "_asyncioEventloop", None)
        under = "-" if loop is None else type(loop).__module__ + "." + type(loop).__name__
        self.sendMessage(f"{type(reactor).__name__} {under}".encode())
"""
