"""The client-side examples (examples/proxy ...), run as scripts against real servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from .procs import Proc, example, free_port, run, start_server

try:
    from runtime.tinyproxy import running_tinyproxy
except ModuleNotFoundError:  # pragma: no cover - imported as tests.examples
    from tests.runtime.tinyproxy import running_tinyproxy


@pytest.fixture
def echo_port() -> Iterator[int]:
    proc, port = start_server("echo/server_asyncio.py")
    yield port
    proc.stop()


@pytest.mark.parametrize("client", ["proxy/client_asyncio.py", "proxy/client_twisted.py"])
def test_proxy_clients_through_tinyproxy(echo_port: int, client: str) -> None:
    with running_tinyproxy([echo_port]) as proxy:
        status, out = run(example(client, f"ws://127.0.0.1:{echo_port}", proxy.url))
        assert status == 0, out
        assert "echo: Hello through the proxy" in out
        assert "closed: wasClean=True code=1000" in out

        elsewhere = f"ws://127.0.0.1:{free_port()}"  # a port the proxy may not CONNECT to
        status, out = run(example(client, elsewhere, proxy.url))
        assert status == 1, out
        assert f"error: HTTP proxy 127.0.0.1:{proxy.port}: CONNECT" in out
        assert "refused: HTTP/1.1 403" in out


@pytest.mark.parametrize("client", ["reconnect/client_asyncio.py", "reconnect/client_twisted.py"])
def test_reconnecting_client_outlives_server_restarts(client: str) -> None:
    server, port = start_server("echo/server_asyncio.py")
    proc = Proc(example(client, f"ws://127.0.0.1:{port}", "--connections", "3"))
    try:
        for n in (1, 2):
            proc.expect(f"echo: hello #{n}")
            server.stop()
            proc.expect("reconnecting")
            server, _ = start_server("echo/server_asyncio.py", port=port)
        proc.expect("echo: hello #3")
        proc.expect("stopped after")
        assert proc.wait() == 0, proc.output
    finally:
        proc.kill()
        server.stop()


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_threads_example_sends_from_worker_threads(runtime: str) -> None:
    server, port = start_server("threads/server.py", "--runtime", runtime)
    try:
        cli = [sys.executable, "-m", "wsproto_cb", "connect", f"ws://127.0.0.1:{port}/"]
        status, out = run([*cli, "--grace", "1"], input="job\n")
        assert status == 0, out
        for n in range(3):
            for i in range(5):
                assert f"worker {n}: reading {i}" in out, out
        assert "did JOB" in out, out
    finally:
        server.stop()


@pytest.mark.parametrize("client", ["agent/client_asyncio.py", "agent/client_twisted.py"])
def test_agent_clients(echo_port: int, client: str) -> None:
    status, out = run(example(client, f"ws://127.0.0.1:{echo_port}"))
    assert status == 0, out
    assert "echo: Hello from the agent" in out and "closed" in out


@pytest.mark.parametrize("runtime", ["twisted", "asyncio"])
def test_wrapped_line_echo_example(runtime: str) -> None:
    server, port = start_server("wrapping/server.py", "--runtime", runtime)
    try:
        status, out = run(example("wrapping/client_twisted.py", f"ws://127.0.0.1:{port}"))
        assert status == 0, out
        assert "echo from 127.0.0.1: hello over a stream" in out and "closed" in out
    finally:
        server.stop()
