"""An Autobahn|Python program runs on wsproto_cb once its imports are changed.

Each program below is written the way Autobahn's own examples are.  It runs
twice in a subprocess: as written (on Autobahn) and with only its import
lines pointed at wsproto_cb.  A ``websockets`` client then checks that both
echo, and both print the same lines from their callbacks.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

STARTUP_TIMEOUT = 20.0

PROTOCOL_CLASS = """

class MyServerProtocol(WebSocketServerProtocol):

    def onConnect(self, request):
        print("Client connecting: {0}".format(request.peer))

    def onOpen(self):
        print("WebSocket connection open, extensions: {0}".format(
            [ext.EXTENSION_NAME for ext in self.websocket_extensions_in_use]))

    def onMessage(self, payload, isBinary):
        if isBinary:
            print("Binary message received: {0} bytes".format(len(payload)))
        else:
            print("Text message received: {0}".format(payload.decode('utf8')))

        # echo back message verbatim
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print("WebSocket connection closed: {0} {1}".format(wasClean, code))
"""

ASYNCIO_PROGRAM = (
    "from autobahn.asyncio.websocket import WebSocketServerProtocol, WebSocketServerFactory\n"
    + PROTOCOL_CLASS
    + """

if __name__ == '__main__':
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    factory = WebSocketServerFactory("ws://127.0.0.1:9000")
    factory.protocol = MyServerProtocol

    coro = loop.create_server(factory, '127.0.0.1', 9000)
    server = loop.run_until_complete(coro)

    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
"""
)

ASYNCIO_COMPRESSED_PROGRAM = (
    "from autobahn.asyncio.websocket import WebSocketServerProtocol, WebSocketServerFactory\n"
    "from autobahn.websocket.compress import PerMessageDeflateOffer, "
    "PerMessageDeflateOfferAccept\n"
    + PROTOCOL_CLASS
    + """

if __name__ == '__main__':
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    factory = WebSocketServerFactory("ws://127.0.0.1:9000")
    factory.protocol = MyServerProtocol

    def accept(offers):
        for offer in offers:
            if isinstance(offer, PerMessageDeflateOffer):
                return PerMessageDeflateOfferAccept(offer)

    factory.setProtocolOptions(perMessageCompressionAccept=accept)

    coro = loop.create_server(factory, '127.0.0.1', 9000)
    server = loop.run_until_complete(coro)

    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.close()
"""
)

TWISTED_PROGRAM = (
    "import sys\n\n"
    "from autobahn.twisted.websocket import WebSocketServerProtocol, WebSocketServerFactory\n"
    + PROTOCOL_CLASS
    + """

if __name__ == '__main__':

    from twisted.python import log
    from twisted.internet import reactor

    log.startLogging(sys.stdout)

    factory = WebSocketServerFactory("ws://127.0.0.1:9000")
    factory.protocol = MyServerProtocol
    factory.setProtocolOptions(maxConnections=2)

    reactor.listenTCP(9000, factory, interface="127.0.0.1")
    reactor.run()
"""
)

PROGRAMS = {
    "asyncio": ASYNCIO_PROGRAM,
    "asyncio-compressed": ASYNCIO_COMPRESSED_PROGRAM,
    "twisted": TWISTED_PROGRAM,
}

IMPORTS = {
    "from autobahn.asyncio.websocket import": "from wsproto_cb.asyncio import",
    "from autobahn.twisted.websocket import": "from wsproto_cb.twisted import",
    "from autobahn.websocket.compress import": "from wsproto_cb.compress import",
}


def port_ours(program: str) -> str:
    for theirs, ours in IMPORTS.items():
        program = program.replace(theirs, ours)
    return program


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def connect_when_listening(port: int, proc: subprocess.Popen[bytes]) -> Any:
    """A websockets connection, retried until the program listens.

    (A bare TCP probe would be a connection the program sees and reports.)
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AssertionError(f"the program exited with {proc.returncode}:\n{out}")
        try:
            return await connect(
                f"ws://127.0.0.1:{port}/", proxy=None, ping_interval=None, open_timeout=10
            )
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on {port} after {STARTUP_TIMEOUT} s")


async def run_echo_program(program: str, path: Path, compressed: bool) -> str:
    """Run ``program``, echo through it with websockets, return its output."""
    port = free_port()
    path.write_text(program.replace("9000", str(port)))
    proc = subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=path.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        async with await connect_when_listening(port, proc) as ws:
            assert bool(ws.protocol.extensions) is compressed
            await ws.send("Hello, world")
            assert await asyncio.wait_for(ws.recv(), 10) == "Hello, world"
            await ws.send(b"\x00\x01\x02")
            assert await asyncio.wait_for(ws.recv(), 10) == b"\x00\x01\x02"
        await asyncio.sleep(0.3)  # let onClose print
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.to_thread(proc.communicate, timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate(timeout=5)
    return out.decode(errors="replace")


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.asyncio_task
async def test_autobahn_program_runs_with_changed_imports(name: str, tmp_path: Path) -> None:
    theirs = PROGRAMS[name]
    ours = port_ours(theirs)
    # The two programs differ in their import lines and nowhere else.
    changed = [
        line
        for line in difflib.unified_diff(theirs.splitlines(), ours.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed and all(" import " in line for line in changed), changed
    assert len(changed) == 2 * theirs.count("from autobahn."), changed

    compressed = name == "asyncio-compressed"
    outputs = {}
    for label, program in (("autobahn", theirs), ("wsproto_cb", ours)):
        outputs[label] = await run_echo_program(program, tmp_path / f"echo_{label}.py", compressed)
    extensions = "['permessage-deflate']" if compressed else "[]"
    for label, out in outputs.items():
        for expected in (
            "Client connecting: tcp4:127.0.0.1:",
            f"WebSocket connection open, extensions: {extensions}",
            "Text message received: Hello, world",
            "Binary message received: 3 bytes",
            "WebSocket connection closed: True 1000",
        ):
            assert expected in out, f"{label} program did not print {expected!r}:\n{out}"
        assert "Traceback" not in out and "Unhandled" not in out, f"{label}:\n{out}"
    # Line for line, the callbacks printed the same things on both.
    assert callback_lines(outputs["wsproto_cb"]) == callback_lines(outputs["autobahn"])


CALLBACK_PREFIXES = (
    "Client connecting:",
    "WebSocket connection",
    "Text message received:",
    "Binary message received:",
)


def callback_lines(output: str) -> list[str]:
    """What the callbacks printed, without log prefixes and port numbers."""
    lines = []
    for line in output.splitlines():
        if "] " in line:
            line = line.split("] ", 1)[1]  # Twisted's "time [context] " prefix
        if line.startswith(CALLBACK_PREFIXES):
            lines.append(re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line))
    return lines
