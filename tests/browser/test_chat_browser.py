"""The chat page in a real browser: headless Chromium driven by playwright-core.

``chat.mjs`` (node) does the browsing; this test starts the chat server,
runs the script with a timeout and checks its report.  It skips, saying
why, where Chromium (``/usr/bin/chromium`` or ``$CHROMIUM``), node or
``playwright-core`` (``npm ci`` in tests/browser) is missing: ``.ci/run``
installs them when it can.  Only the system Chromium is used, never a
browser downloaded by Playwright.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# (tests/examples/procs.py: tests/ is on sys.path, through tests/conftest.py)
from examples.procs import start_server

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


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


def test_two_browser_pages_chat_with_permessage_deflate() -> None:
    node = require_browser_tools()
    server, port = start_server("chat/server.py")
    try:
        try:
            result = subprocess.run(
                [node, str(HERE / "chat.mjs"), f"http://127.0.0.1:{port}/"],
                capture_output=True,
                text=True,
                timeout=90,
                env={**os.environ, "CHROMIUM": CHROMIUM},
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the browser script did not finish in 90 s: {exc.stdout!r}")
        report = result.stdout + result.stderr
        assert result.returncode == 0, report
        for check in [
            "ok: alice sees bob join",
            "ok: bob sees alice's message",
            "ok: alice sees bob's message",
            "ok: alice's page shows the server's extensions (permessage-deflate (",
            "ok: bob's browser negotiated permessage-deflate (permessage-deflate",
            "ok: alice sees bob leave",
        ]:
            assert check in report, report
    finally:
        server_log = server.stop()
    assert "alice joined from tcp4:127.0.0.1:" in server_log
    assert "bob left" in server_log
