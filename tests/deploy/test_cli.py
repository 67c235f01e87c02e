"""``python -m wsproto_cb serve`` and ``connect``, against each other, as a user runs them."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from wsproto_cb.cli.terminal import escape_controls

from .procs import (
    REACTOR_REPORTER,
    TIMEOUT,
    Proc,
    clean_env,
    dropped_without_a_word,
    free_port,
    no_traceback,
    python,
    run,
)

try:
    from runtime.harness import TLSFiles
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import TLSFiles

CLI = ("-m", "wsproto_cb")

#: A protocol module in the current directory, runtime-neutral: one class, both runtimes.
GREETER = """\
from wsproto_cb.server import WebSocketServerProtocol


class Greeter(WebSocketServerProtocol):
    def onOpen(self):
        self.sendMessage(b"\\x00\\xffhi", isBinary=True)

    def onMessage(self, payload, isBinary):
        self.sendMessage(payload.upper(), isBinary)
"""


def serve(*args: str, cwd: Path | None = None) -> tuple[Proc, int]:
    proc = Proc(python(*CLI, "serve", "--port", "0", *args), cwd=cwd)
    port = int(proc.wait_for(r"on wss?://127\.0\.0\.1:(\d+) ").group(1))
    return proc, port


def connect(url: str, *args: str, input: str = "") -> tuple[int, str, str]:
    result = run(python(*CLI, "connect", url, *args), input=input)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_module_from_cwd_connect_in_a_pipe_then_sigterm(tmp_path: Path, runtime: str) -> None:
    (tmp_path / "greeter.py").write_text(GREETER)
    server, port = serve("greeter:Greeter", "--runtime", runtime, "-v", cwd=tmp_path)
    url = f"ws://127.0.0.1:{port}/"
    try:
        status, out, err = connect(url, input="hello\nwörld\n")
        assert status == 0, err
        assert out == "[binary 4 bytes] 00ff6869\nHELLO\nWöRLD\n"  # (bytes.upper: ASCII only)
        assert f"connected to {url}" in err
        no_traceback(err)

        # a client that stays connected sees 1001 when the server is stopped
        client = Proc(python(*CLI, "connect", url), stdin=True)
        try:
            client.wait_for("connected to")
            client.write("still here\n")
            client.wait_for("^STILL HERE$")
            server.signal(signal.SIGTERM)
            client.wait_for("closed by the server: 1001 going away")
            assert client.wait() == 0, client.output
        finally:
            client.kill()
        assert server.wait() == 0, server.output
    finally:
        server.kill()
    assert "stopping, closing 1 connection(s) with 1001" in server.output
    assert "open tcp4:127.0.0.1:" in server.output  # -v: one line per connection
    no_traceback(server.output)


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_tls_and_connect_with_cafile(tmp_path: Path, runtime: str) -> None:
    tls = TLSFiles.create(str(tmp_path))
    server, port = serve(
        "--runtime", runtime, "--certfile", tls.cert_file, "--keyfile", tls.key_file
    )
    try:
        url = f"wss://localhost:{port}/"
        status, out, err = connect(url, "--cafile", tls.cert_file, input="secret\n")
        assert (status, out) == (0, "secret\n"), err
        # verification is on by default: a self-signed certificate is refused
        status, out, err = connect(url, input="x\n")
        assert status == 1 and out == ""
        assert err.count("\n") == 1 and "not trusted" in err, err
        server.signal(signal.SIGINT)  # Ctrl-C: the same graceful stop
        assert server.wait() == 0, server.output
    finally:
        server.kill()


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_serve_tls_drops_a_silent_client_after_the_open_handshake_timeout(
    tmp_path: Path, runtime: str
) -> None:
    """The TLS handshake is bounded by --open-handshake-timeout (asyncio's own
    bound is 60 s, more than TIMEOUT)."""
    tls = TLSFiles.create(str(tmp_path))
    server, port = serve(
        "--runtime",
        runtime,
        "--certfile",
        tls.cert_file,
        "--keyfile",
        tls.key_file,
        "--open-handshake-timeout",
        "0.3",
    )
    try:
        assert dropped_without_a_word(port)
    finally:
        server.kill()


def test_subprotocol_and_compression_negotiated() -> None:
    server, port = serve("--subprotocol", "chat.v2", "--subprotocol", "chat.v1", "--compress")
    try:
        status, out, err = connect(
            f"ws://127.0.0.1:{port}/",
            "--subprotocol",
            "chat.v1",
            "--subprotocol",
            "chat.v2",
            "--compress",
            input="a" * 1000 + "\n",
        )
        assert (status, out) == (0, "a" * 1000 + "\n"), err
        assert "subprotocol chat.v2" in err  # the server's preference
        assert "PerMessageDeflate" in err
    finally:
        server.kill()


def test_connect_errors_are_one_line() -> None:
    port = free_port()  # nothing listens there
    for url, expected_status, expected in [
        ("http://127.0.0.1/", 2, "scheme must be ws or wss"),
        ("ws://127.0.0.1:99999/", 2, "invalid WebSocket URL"),
        (f"ws://127.0.0.1:{port}/", 1, "connection refused"),
    ]:
        status, out, err = connect(url)
        assert status == expected_status, (url, err)
        assert err.count("\n") == 1 and expected in err, (url, err)
        assert err.startswith("wsproto-cb connect: error: ")
        assert out == ""


def test_handshake_refused_is_one_line() -> None:
    server, port = serve("--allowed-origin", "https://good.example")
    try:
        status, out, err = connect(f"ws://127.0.0.1:{port}/", "--origin", "https://evil.example")
        assert status == 1 and out == ""
        assert (
            err == "wsproto-cb connect: error: handshake failed: the server answered 403 "
            "(WebSocket connection denied: origin 'https://evil.example' not allowed)\n"
        )
    finally:
        server.kill()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("nosuchmodule_xyz:Echo", "no module named 'nosuchmodule_xyz'"),
        ("wsproto_cb.echo:Nope", "has no attribute 'Nope'"),
        ("wsproto_cb.echo", "is not MODULE:CLASS"),
        ("wsproto_cb.protocol:WebSocketProtocol", "is not a WebSocketServerProtocol subclass"),
        ("wsproto_cb.twisted:WebSocketServerProtocol", "runs on twisted only"),
        ("broken:Echo", "importing 'broken' failed: ZeroDivisionError"),
    ],
)
def test_serve_bad_protocol_is_one_line(tmp_path: Path, spec: str, expected: str) -> None:
    (tmp_path / "broken.py").write_text("1 / 0\n")
    result = run(python(*CLI, "serve", spec, "--port", str(free_port())), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("wsproto-cb serve: error: ")
    assert expected in result.stderr, result.stderr


def test_serve_port_in_use_is_one_line() -> None:
    server, port = serve()
    try:
        result = run(python(*CLI, "serve", "--port", str(port)))
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and "cannot listen on" in result.stderr
    finally:
        server.kill()


def test_help_lists_commands_and_flags() -> None:
    help_text = run(python(*CLI, "--help")).stdout
    assert help_text.startswith("usage: wsproto-cb")
    assert "serve" in help_text and "connect" in help_text
    serve_help = run(python(*CLI, "serve", "--help")).stdout
    for flag in ("--runtime", "--certfile", "--subprotocol", "--compress", "--max-message-size"):
        assert flag in serve_help


def test_connect_through_an_http_proxy() -> None:
    """``--proxy`` tunnels through a real tinyproxy; a refusal names the proxy and status."""
    try:
        from runtime.tinyproxy import running_tinyproxy
    except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
        from tests.runtime.tinyproxy import running_tinyproxy

    server, port = serve()  # (echo)
    try:
        with running_tinyproxy([port]) as proxy:
            url = f"ws://127.0.0.1:{port}/"
            status, out, err = connect(url, "--proxy", proxy.url, input="via proxy\n")
            assert (status, out) == (0, "via proxy\n"), err
            status, out, err = connect(f"ws://127.0.0.1:{free_port()}/", "--proxy", proxy.url)
            assert status == 1 and out == ""
            assert err.startswith(f"wsproto-cb connect: error: HTTP proxy 127.0.0.1:{proxy.port}: ")
            assert "refused: HTTP/1.1 403" in err and err.count("\n") == 1, err
    finally:
        server.kill()


#: What a hostile server sends: terminal escape sequences (7-bit and C1),
#: a carriage return that overwrites, a newline that fakes a second message,
#: bidi overrides and isolates; and what must survive: TAB, letters in any
#: script, a zero-width joiner inside an emoji, a right-to-left mark.
HOSTILE_TEXT = (
    "title\x1b]0;owned\x07 red\x1b[31m csi\x9b2J nul\x00 del\x7f over\rwrite "
    "fake\nwsproto-cb connect: ok rlo\u202egnp.exe\u202c lri\u2066x\u2069 ls\u2028 "
    "tab\tkept h\u00e9 \u05e9\u05dc\u05d5\u05dd\u200f \U0001f469\u200d\U0001f4bb"
)
HOSTILE_SHOWN = (
    "title\\x1b]0;owned\\x07 red\\x1b[31m csi\\x9b2J nul\\x00 del\\x7f over\\rwrite "
    "fake\\nwsproto-cb connect: ok rlo\\u202egnp.exe\\u202c lri\\u2066x\\u2069 ls\\u2028 "
    "tab\tkept h\u00e9 \u05e9\u05dc\u05d5\u05dd\u200f \U0001f469\u200d\U0001f4bb"
)

HOSTILE = f"""\
from wsproto_cb.server import WebSocketServerProtocol

TEXT = {HOSTILE_TEXT!r}


class Hostile(WebSocketServerProtocol):
    def onOpen(self):
        self.sendMessage(TEXT.encode())

    def onMessage(self, payload, isBinary):
        self.sendClose(4000, "bye\\x1b[2J\\u202e")
"""


def test_escape_controls_table() -> None:
    assert escape_controls(HOSTILE_TEXT) == HOSTILE_SHOWN
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)]:
        if code != 0x09:
            assert escape_controls(chr(code)).startswith("\\"), hex(code)
    assert escape_controls("\u2066\u2067\u2068\u2069") == "\\u2066\\u2067\\u2068\\u2069"
    assert escape_controls("a\\x1b\tb") == "a\\x1b\tb"  # backslashes as they are


def _connect_bytes(url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Like ``connect`` but bytes out: text mode would rewrite the server's CRs."""
    return subprocess.run(
        python(*CLI, "connect", url, *args),
        env=clean_env(PYTHONIOENCODING="utf-8"),
        input=b"x\n",
        capture_output=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
def test_connect_escapes_what_a_server_sends(tmp_path: Path, runtime: str) -> None:
    (tmp_path / "hostile.py").write_text(HOSTILE)
    server, port = serve("hostile:Hostile", "--runtime", runtime, cwd=tmp_path)
    url = f"ws://127.0.0.1:{port}/"
    try:
        result = _connect_bytes(url)
        assert result.returncode == 0, result.stderr
        assert result.stdout.decode() == HOSTILE_SHOWN + "\n"
        err = result.stderr.decode()
        assert err.endswith("closed by the server: 4000 bye\\x1b[2J\\u202e\n"), err
        assert "\x1b" not in err and "\u202e" not in err

        raw = _connect_bytes(url, "--raw")
        assert raw.returncode == 0, raw.stderr
        assert raw.stdout.decode() == HOSTILE_TEXT + "\n"
        assert b"\x1b" not in raw.stderr  # status lines are escaped even then
    finally:
        server.kill()


def test_connect_escapes_a_status_phrase() -> None:
    """A refusal's reason phrase (latin-1, so C1 controls fit) reaches stderr escaped."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def refuse() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 403 No\x9b2J\x9d0;x\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=refuse, daemon=True)
    thread.start()
    try:
        result = _connect_bytes(f"ws://127.0.0.1:{port}/")
    finally:
        thread.join(TIMEOUT)
        listener.close()
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "wsproto-cb connect: error: handshake failed: the server answered 403 (No\\x9b2J\\x9d0;x)\n"
    )


@pytest.mark.parametrize(
    ("reactor", "expected"),
    [
        ("epoll", "EPollReactor -"),
        ("asyncio", "AsyncioSelectorReactor asyncio.unix_events._UnixSelectorEventLoop"),
        ("uvloop", "AsyncioSelectorReactor uvloop.Loop"),
    ],
)
def test_serve_twisted_on_the_chosen_reactor(tmp_path: Path, reactor: str, expected: str) -> None:
    if reactor == "uvloop":
        pytest.importorskip("uvloop")
    (tmp_path / "reporter.py").write_text(REACTOR_REPORTER)
    server, port = serve(
        "reporter:Reporter", "--runtime", "twisted", "--reactor", reactor, cwd=tmp_path
    )
    try:
        status, out, err = connect(f"ws://127.0.0.1:{port}/", input="which?\n")
        assert (status, out) == (0, expected + "\n"), err
        server.signal(signal.SIGTERM)
        assert server.wait() == 0, server.output
    finally:
        server.kill()
    no_traceback(server.output)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--reactor", "uvloop"), "--reactor needs --runtime twisted"),
        (
            ("--runtime", "twisted", "--reactor", "nosuch"),
            "--reactor nosuch: no such Twisted reactor",
        ),
    ],
)
def test_serve_bad_reactor_is_one_line(args: tuple[str, ...], expected: str) -> None:
    result = run(python(*CLI, "serve", "--port", str(free_port()), *args))
    assert result.returncode == 2
    assert result.stderr == f"wsproto-cb serve: error: {expected}\n", result.stderr
