"""The chat page in a real browser: headless Chromium driven by playwright-core.

``chat.mjs`` (node) does the browsing; these tests start the chat servers,
run the script with a timeout and check its report: one server; two
servers (two "machines") sharing one real redis-server, alice's page on one
and bob's on the other; and one server with two worker processes on one
port and the same Redis.  ``wrapping.mjs`` talks from the browser to a
plain line echo behind ``WrappingWebSocketServerFactory``.  They skip, saying why, where Chromium
(``/usr/bin/chromium`` or ``$CHROMIUM``), node or ``playwright-core``
(``npm ci`` in tests/browser) is missing, and the Redis ones where
``redis-server`` is: ``.ci/run`` installs them when it can.  Only the
system Chromium is used, never a browser downloaded by Playwright.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# (tests/ is on sys.path, through tests/conftest.py)
from backplane.redisproc import RedisServer, running_redis
from examples.chat_nodes import (
    chat_workers,
    joined_by_worker,
    start_node,
    wait_nodes,
)
from examples.procs import start_server

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: What chat.mjs reports when alice and bob chatted (whatever servers they were on).
CHATTED = [
    "ok: alice sees bob join",
    "ok: bob sees alice's message",
    "ok: alice sees bob's message",
    "ok: alice's page shows the server's extensions (permessage-deflate (",
    "ok: bob's browser negotiated permessage-deflate (permessage-deflate",
    "ok: alice sees bob leave",
]


def require_browser_tools() -> str:
    """The node executable, or skip with the reason."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (HERE / "node_modules" / "playwright-core" / "package.json").exists():
        pytest.skip("playwright-core is not installed (run `npm ci` in tests/browser)")
    return node


@pytest.fixture
def nodejs() -> str:
    return require_browser_tools()


@pytest.fixture
def redis(nodejs: str) -> Iterator[RedisServer]:
    """A redis-server of this test's own (after the browser check: skip before starting it)."""
    with running_redis() as server:
        yield server


def browse(nodejs: str, *args: str, timeout: float = 90) -> str:
    """Run chat.mjs with ``args``; its report, after checking that it succeeded."""
    try:
        result = subprocess.run(
            [nodejs, str(HERE / "chat.mjs"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the browser script did not finish in {timeout} s: {exc.stdout!r}")
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for check in CHATTED:
        assert check in report, report
    return report


def page(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


def test_two_browser_pages_chat_with_permessage_deflate(nodejs: str) -> None:
    server, port = start_server("chat/server.py")
    try:
        browse(nodejs, page(port))
    finally:
        server_log = server.stop()
    assert "alice joined from tcp4:127.0.0.1:" in server_log
    assert "bob left" in server_log


def test_two_servers_on_one_redis_carry_the_chat_between_browsers(
    nodejs: str, redis: RedisServer
) -> None:
    """alice's page is served by server A, bob's by server B: every line crosses Redis."""
    server_a, port_a = start_node(redis, "--node", "A")
    server_b, port_b = start_node(redis, "--node", "B")
    try:
        wait_nodes(redis, 2)
        report = browse(nodejs, page(port_a), page(port_b))
    finally:
        log_a, log_b = server_a.stop(), server_b.stop()
    assert "alice is on A" in report and "bob is on B" in report, report
    assert "alice joined from tcp4:127.0.0.1:" in log_a and "bob joined" not in log_a
    assert "bob joined from tcp4:127.0.0.1:" in log_b and "bob left" in log_b


def test_worker_processes_on_one_port_share_the_chat(nodejs: str, redis: RedisServer) -> None:
    """``--workers 2 --backplane``: chat.mjs rejoins bob until his page is served by the
    other worker (usually at once); the report and the server log must agree on who
    was served by which worker, and the parent stops both workers on SIGTERM."""
    with chat_workers(2, "--backplane", redis.url, "--node", "chat") as (server, port):
        wait_nodes(redis, 2)
        report = browse(nodejs, page(port), "--spread", "8", timeout=150)
        log = server.stop()
        assert server.popen.returncode == 0, log
    assert "chat server: all 2 worker(s) stopped" in log
    on = dict(re.findall(r"^(alice|bob) is on chat worker (\d)/2$", report, re.MULTILINE))
    served = joined_by_worker(log)
    # (bob's last page is the one that chatted; the log's last "bob joined" is his)
    assert served["alice"][0] == int(on["alice"]), (report, log)
    assert served["bob"][0] == int(on["bob"]), (report, log)
    if on["alice"] != on["bob"]:
        assert "ok: alice and bob are on different servers" in report
        assert served["alice"][1] != served["bob"][1]


@pytest.mark.parametrize("runtime", ["twisted", "asyncio"])
def test_browser_talks_to_a_wrapped_line_echo(nodejs: str, runtime: str) -> None:
    """A plain stream protocol behind WrappingWebSocketServerFactory, from Chromium,
    over both the ``base64`` (text) and ``binary`` subprotocols."""
    server, port = start_server("wrapping/server.py", "--runtime", runtime)
    try:
        result = subprocess.run(
            [nodejs, str(HERE / "wrapping.mjs"), f"ws://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )
    finally:
        server.stop()
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "base64 -> echo from 127.0.0.1: hello from base64, in two parts" in report, report
    assert "binary -> echo from 127.0.0.1: hello from binary, in two parts" in report, report
