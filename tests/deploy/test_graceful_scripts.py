"""Graceful shutdown of servers written the way the README writes them.

The asyncio script is the seeds' pattern, untouched:
``loop.run_until_complete(loop.create_server(factory, ...))`` then
``loop.run_forever()``.  SIGTERM or Ctrl-C must send 1001 to every client,
wait for the closing handshakes (bounded by closeHandshakeTimeout) and let
the script end with status 0.  The Twisted script is ``listenTCP`` plus
``reactor.run()``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .procs import Proc, RawClient, close_code_after, no_traceback, python, ws_client

ASYNCIO_SCRIPT = """\
import asyncio

from wsproto_cb.asyncio import WebSocketServerFactory, WebSocketServerProtocol


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"closed wasClean={wasClean} code={code}", flush=True)


factory = WebSocketServerFactory("ws://127.0.0.1")
factory.protocol = Echo
factory.setProtocolOptions(closeHandshakeTimeout=CLOSE_TIMEOUT)
loop = asyncio.new_event_loop()
server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
print("port", server.sockets[0].getsockname()[1], flush=True)
loop.run_forever()
print("loop stopped", flush=True)
"""

TWISTED_SCRIPT = """\
from twisted.internet import reactor

from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


factory = WebSocketServerFactory("ws://127.0.0.1")
factory.protocol = Echo
factory.setProtocolOptions(closeHandshakeTimeout=CLOSE_TIMEOUT)
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
print("port", port.getHost().port, flush=True)
reactor.run()
print("reactor stopped", flush=True)
"""

SCRIPTS = {"asyncio": ASYNCIO_SCRIPT, "twisted": TWISTED_SCRIPT}


def start(tmp_path: Path, runtime: str, close_timeout: float = 1.0) -> tuple[Proc, int]:
    script = tmp_path / f"server_{runtime}.py"
    script.write_text(SCRIPTS[runtime].replace("CLOSE_TIMEOUT", repr(close_timeout)))
    proc = Proc(python(str(script)), cwd=tmp_path)
    port = int(proc.wait_for(r"^port (\d+)").group(1))
    return proc, port


@pytest.mark.parametrize(
    ("runtime", "signum"),
    [
        ("asyncio", signal.SIGTERM),
        ("asyncio", signal.SIGINT),
        ("twisted", signal.SIGTERM),
    ],
    ids=["asyncio-SIGTERM", "asyncio-SIGINT", "twisted-SIGTERM"],
)
def test_signal_closes_clients_with_1001_and_exits_0(
    tmp_path: Path, runtime: str, signum: int
) -> None:
    proc, port = start(tmp_path, runtime)
    try:
        with (
            ws_client(f"ws://127.0.0.1:{port}/") as first,
            ws_client(f"ws://127.0.0.1:{port}/") as second,
        ):
            first.send("hello")
            assert first.recv(timeout=5) == "hello"
            second.send(b"\x00\x01")
            assert second.recv(timeout=5) == b"\x00\x01"
            code, reason = close_code_after(first, lambda: proc.signal(signum))
            assert (code, reason) == (1001, "going away")
            assert close_code_after(second, lambda: None)[0] == 1001
        assert proc.wait() == 0, proc.output
    finally:
        proc.kill()
    no_traceback(proc.output)
    assert "stopped" in proc.output
    if runtime == "asyncio":
        assert proc.output.count("closed wasClean=True") == 2, proc.output


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_shutdown_does_not_wait_for_a_stuck_client_beyond_close_timeout(
    tmp_path: Path, runtime: str
) -> None:
    proc, port = start(tmp_path, runtime, close_timeout=0.5)
    try:
        stuck = RawClient(port)  # never reads, never answers the close frame
        started = time.monotonic()
        proc.signal(signal.SIGTERM)
        status = proc.wait()
        elapsed = time.monotonic() - started
        stuck.close()
    finally:
        proc.kill()
    assert status == 0, proc.output
    # closeHandshakeTimeout (0.5 s) plus the TCP close margin, not the client's pace
    assert 0.4 < elapsed < 3.0, elapsed
    no_traceback(proc.output)


def test_idle_asyncio_script_with_opt_out_keeps_default_signals(tmp_path: Path) -> None:
    """``gracefulShutdown = False``: no handlers, SIGTERM kills as before."""
    script = tmp_path / "server.py"
    script.write_text(
        ASYNCIO_SCRIPT.replace("CLOSE_TIMEOUT", "1.0").replace(
            "factory.protocol = Echo\n",
            "factory.protocol = Echo\nfactory.gracefulShutdown = False\n",
        )
    )
    proc = Proc(python(str(script)), cwd=tmp_path)
    try:
        port = int(proc.wait_for(r"^port (\d+)").group(1))
        with ws_client(f"ws://127.0.0.1:{port}/") as client:
            client.send("x")
            assert client.recv(timeout=5) == "x"
            proc.signal(signal.SIGTERM)
            assert proc.wait() == -signal.SIGTERM
    finally:
        proc.kill()
