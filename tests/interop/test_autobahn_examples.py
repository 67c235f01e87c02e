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
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from .autobahn_programs.harness import free_port, port_ours

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


# ---------------------------------------------------------------------------
# More programs, clients as well as servers: tests/interop/autobahn_programs/.
# Each runs as written (on Autobahn) and with its imports changed (on
# wsproto_cb), both at once; both must print the same OUT: lines, and the
# peer (websockets) must see the same things.

from websockets.asyncio.server import serve as reference_serve  # noqa: E402
from websockets.exceptions import InvalidStatus  # noqa: E402

from .autobahn_programs.harness import (  # noqa: E402
    HERE as PROGRAMS_DIR,
)
from .autobahn_programs.harness import (  # noqa: E402
    run_client_program,
    run_server_program,
)


async def reference_server(port: int, seen: list[str]) -> Any:
    """websockets as the peer of the client programs: echo, subprotocol
    chat.v1, deflate, a response header, and on /headers what the client sent."""

    async def handler(ws: Any) -> None:
        request = ws.request
        seen.append(f"path {request.path} subprotocol {ws.subprotocol}")
        if request.path == "/headers":
            headers = request.headers
            text = "|".join(
                str(headers.get(name)) for name in ("X-Client", "Origin", "User-Agent")
            )
            seen.append(f"headers {text}")
            await ws.send(text)
        try:
            async for message in ws:
                size = len(message)
                seen.append(f"got {type(message).__name__} of {size}")
                await ws.send(message)
        except Exception as exc:  # (a client that goes away is no failure here)
            seen.append(f"ended {type(exc).__name__}")

    def add_header(connection: Any, request: Any, response: Any) -> Any:
        response.headers["X-Server"] = "reference"
        return response

    return await reference_serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=["chat.v1"],
        # (websockets refuses a client that offers none unless told otherwise)
        select_subprotocol=lambda ws, offered: "chat.v1" if "chat.v1" in offered else None,
        process_response=add_header,
        max_size=None,
        ping_interval=None,
    )


async def _echo_exchange(url: str, seen: list[str], messages: list[str], **kw: Any) -> None:
    async with connect(url, proxy=None, ping_interval=None, open_timeout=10, **kw) as ws:
        for text in messages:
            await ws.send(text)
            seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)}")
        await ws.close(1000)


async def _refused_or_opened(url: str, seen: list[str], **kw: Any) -> None:
    try:
        async with connect(url, proxy=None, ping_interval=None, open_timeout=10, **kw) as ws:
            seen.append(f"opened, subprotocol {ws.subprotocol}")
            await ws.close(1000)
    except InvalidStatus as exc:
        response = exc.response
        status = response.status_code
        if status == 403 and "origin" in response.reason_phrase:
            status = 400  # (an origin refused: 403 here, 400 in Autobahn; autobahn-compat.md)
        seen.append(f"refused {status} {response.reason_phrase}")


async def drive_upper(port: int, seen: list[str]) -> None:
    await _echo_exchange(f"ws://127.0.0.1:{port}/path?x=1", seen, ["one", "two"])


async def drive_resources(port: int, seen: list[str]) -> None:
    import urllib.request

    def page() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            return f"page {reply.status} {reply.read().decode()}"

    seen.append(await asyncio.to_thread(page))
    for name in ("alpha", "beta"):
        await _echo_exchange(f"ws://127.0.0.1:{port}/{name}", seen, ["hi"])


async def drive_origins(port: int, seen: list[str]) -> None:
    url = f"ws://127.0.0.1:{port}/"
    for origin in (
        "https://good.example",
        "https://chat.other.example:8443",
        "https://evil.example",
        "http://good.example",
        "null",
    ):
        seen.append(f"origin {origin}")
        await _refused_or_opened(url, seen, origin=origin)


async def drive_headers(port: int, seen: list[str]) -> None:
    url = f"ws://127.0.0.1:{port}/p?b=2&a=1"
    async with connect(
        url, proxy=None, additional_headers={"X-Client": "c1"}, open_timeout=10
    ) as ws:
        seen.append(f"response header {ws.response.headers.get('X-Server')}")
        seen.append(f"message {await asyncio.wait_for(ws.recv(), 10)}")
        await ws.close(1000)


async def drive_deny(port: int, seen: list[str]) -> None:
    await _refused_or_opened(f"ws://127.0.0.1:{port}/private", seen)
    await _refused_or_opened(f"ws://127.0.0.1:{port}/", seen, subprotocols=["v2", "v1"])
    await _refused_or_opened(f"ws://127.0.0.1:{port}/", seen, subprotocols=["other"])


async def drive_streaming(port: int, seen: list[str]) -> None:
    async with connect(f"ws://127.0.0.1:{port}/", proxy=None, open_timeout=10) as ws:
        await ws.send(["a" * 1000, "b" * 1000, "c" * 1000])  # one message, three frames
        seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)}")
        await ws.close(1000)


async def drive_endpoint(port: int, seen: list[str]) -> None:
    async with connect(f"ws://127.0.0.1:{port}/", proxy=None, open_timeout=10) as ws:
        await ws.send("x")
        seen.append(f"reply {await asyncio.wait_for(ws.recv(), 10)}")
        await asyncio.sleep(0.35)  # auto-pings come and are answered meanwhile
        await ws.close(1000, "bye")


def drive_tls(cert_file: str) -> Driver:
    async def drive(port: int, seen: list[str]) -> None:
        import ssl

        context = ssl.create_default_context(cafile=cert_file)
        await _echo_exchange(f"wss://localhost:{port}/secure", seen, ["over tls"], ssl=context)

    return drive


Driver = Any

SERVER_DRIVERS: dict[str, Any] = {
    "s_asyncio_coroutine": drive_upper,
    "s_twisted_deferred": drive_upper,
    "s_twisted_resources": drive_resources,
    "s_asyncio_origins": drive_origins,
    "s_twisted_origins": drive_origins,
    "s_asyncio_headers": drive_headers,
    "s_asyncio_deny": drive_deny,
    "s_asyncio_streaming": drive_streaming,
    "s_twisted_endpoint": drive_endpoint,
    "s_asyncio_tls": "tls",
    "s_twisted_tls": "tls",
}

#: client programs whose server starts late (they must keep trying)
CLIENT_DELAYS = {"c_twisted_reconnecting": 0.6}

MORE_PROGRAMS = sorted(p.stem for p in PROGRAMS_DIR.glob("[cs]_*.py"))


def test_there_are_at_least_24_programs() -> None:
    assert len(MORE_PROGRAMS) + len(PROGRAMS) >= 24
    assert set(SERVER_DRIVERS) == {name for name in MORE_PROGRAMS if name.startswith("s_")}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    try:
        from runtime.harness import TLSFiles
    except ModuleNotFoundError:  # pragma: no cover - imported as tests.interop
        from tests.runtime.harness import TLSFiles
    return TLSFiles.create(str(tmp_path_factory.mktemp("tls")))


@pytest.mark.parametrize("name", MORE_PROGRAMS)
@pytest.mark.asyncio_task
async def test_more_autobahn_programs(name: str, tmp_path: Path, tls_files: Any) -> None:
    runs = {}
    if name.startswith("c_"):
        delay = CLIENT_DELAYS.get(name, 0.0)
        pending = {
            impl: run_client_program(name, impl, tmp_path, reference_server, delay)
            for impl in ("autobahn", "wsproto_cb")
        }
    else:
        drive = SERVER_DRIVERS[name]
        args: tuple[str, ...] = ()
        if drive == "tls":
            drive = drive_tls(tls_files.cert_file)
            args = (tls_files.key_file, tls_files.cert_file)
        pending = {
            impl: run_server_program(name, impl, tmp_path, drive, args)
            for impl in ("autobahn", "wsproto_cb")
        }
    results = await asyncio.gather(*pending.values())
    runs = dict(zip(pending, results, strict=True))
    theirs, ours = runs["autobahn"], runs["wsproto_cb"]
    assert theirs.out, f"the Autobahn run printed nothing:\n{theirs.output}"
    assert "Traceback" not in ours.output, ours.output
    assert ours.compared() == theirs.compared(), (
        f"\n--- autobahn:\n{theirs.output}\n{theirs.seen}"
        f"\n--- wsproto_cb:\n{ours.output}\n{ours.seen}"
    )
