"""Every example runs as a person would run it: as a script, in a subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def start(script: str, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_listening(port, proc)
    return proc


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@pytest.fixture(params=["echo/server_asyncio.py", "echo/server_twisted.py"])
def echo_server(request: pytest.FixtureRequest) -> Iterator[int]:
    port = free_port()
    proc = start(request.param, port)
    yield port
    stop(proc)


@pytest.mark.parametrize("client", ["echo/client_asyncio.py", "echo/client_twisted.py"])
def test_echo_client_against_echo_server(echo_server: int, client: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / client), f"ws://127.0.0.1:{echo_server}"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "'Hello, world!'" in result.stdout
    assert "(100000 bytes, binary=False)" in result.stdout
    assert "closed: wasClean=True code=1000" in result.stdout


def test_chat_broadcasts_to_every_client() -> None:
    port = free_port()
    server = start("chat/server.py", port)
    url = f"ws://127.0.0.1:{port}"
    try:
        listener = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "chat/client.py"), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            assert listener.stdout is not None
            first = listener.stdout.readline()  # its own "joined" line
            assert "joined (1 online)" in first, first
            speaker = subprocess.run(
                [sys.executable, str(EXAMPLES / "chat/client.py"), url],
                input="hello everyone\n",
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert speaker.returncode == 0, speaker.stdout + speaker.stderr
            assert "hello everyone" in speaker.stdout
            seen = ""
            while "hello everyone" not in seen and time.monotonic() < deadline:
                seen += listener.stdout.readline()
            assert "] hello everyone" in seen
        finally:
            out, _ = listener.communicate(input="", timeout=TIMEOUT)
        assert listener.returncode == 0, out
    finally:
        stop(server)
