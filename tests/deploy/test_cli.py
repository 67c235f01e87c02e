"""``python -m wsproto_cb serve`` and ``connect``, against each other, as a user runs them."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .procs import Proc, free_port, no_traceback, python, run

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
            err
            == "wsproto-cb connect: error: handshake failed: the server answered 403 (Forbidden)\n"
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
