"""Other event loops (uvloop, Twisted's own reactor) and warnings from our code.

The test process runs Twisted on the asyncio reactor; other loops get a
subprocess each, running :mod:`tests.runtime.loop_scenario`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import wsproto_cb

from .harness import Echo, Recorder, RuntimeHarness, track_opened

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = str(Path(wsproto_cb.__file__).resolve().parent)


def run_scenario(loop: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "tests.runtime.loop_scenario", loop],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_asyncio_on_uvloop() -> None:
    pytest.importorskip("uvloop")
    result = run_scenario("uvloop")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scenario ok on uvloop" in result.stdout


def test_twisted_on_its_default_reactor() -> None:
    result = run_scenario("twisted")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scenario ok on twisted" in result.stdout


@pytest.mark.asyncio_task
async def test_no_warnings_from_our_code(runtime: RuntimeHarness) -> None:
    """A busy session (echo, async callbacks, ping, timers, close) warns about nothing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        class Server(Echo, Recorder):
            async def onConnect(self, request: Any) -> None:
                await runtime.sleep(0.001)

            async def onMessage(self, payload: bytes, isBinary: bool) -> None:
                await runtime.sleep(0.001)
                super().onMessage(payload, isBinary)

        options = {"autoPingInterval": 0.05, "autoPingTimeout": 0.5}
        factory = runtime.server_factory(Server, **options)
        servers = track_opened(factory)
        port = await runtime.listen(factory)
        client = await runtime.connect(runtime.client_factory(Recorder, **options), port)
        server = await runtime.wait(servers.get())
        await runtime.wait(client.opened)
        for i in range(5):
            client.sendMessage(str(i).encode())
        for _ in range(5):
            await runtime.wait(client.messages.get())
        client.sendPing(b"x")
        await runtime.wait(client.pongs.get())
        await asyncio.sleep(0.15)  # a few auto-pings
        server.sendClose(1000)
        await runtime.wait(client.closed)
        await runtime.wait(server.closed)
    ours = [w for w in caught if w.filename.startswith(PACKAGE_DIR)]
    assert not ours, [str(w.message) for w in ours]
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert not deprecations, [f"{w.filename}: {w.message}" for w in deprecations]
