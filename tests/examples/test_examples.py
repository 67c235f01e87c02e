"""Every example runs as a person would run it: as a script, in a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wsproto_cb.core.handshake_client import ClientHandshake

from .chat_nodes import chat_client
from .procs import Proc, example, run, start_server


@pytest.fixture(params=["echo/server_asyncio.py", "echo/server_twisted.py"])
def echo_server(request: pytest.FixtureRequest) -> Iterator[int]:
    proc, port = start_server(request.param)
    yield port
    proc.stop()


@pytest.mark.parametrize("client", ["echo/client_asyncio.py", "echo/client_twisted.py"])
def test_echo_client_against_echo_server(echo_server: int, client: str) -> None:
    status, out = run(example(client, f"ws://127.0.0.1:{echo_server}"))
    assert status == 0, out
    assert "'Hello, world!'" in out
    assert "(100000 bytes, binary=False)" in out
    assert "closed: wasClean=True code=1000" in out


# --------------------------------------------------------------------- chat


@pytest.fixture
def chat_server() -> Iterator[tuple[Proc, int]]:
    proc, port = start_server("chat/server.py")
    yield proc, port
    proc.stop()


def test_chat_page_and_websocket_on_one_port(chat_server: tuple[Proc, int]) -> None:
    proc, port = chat_server
    proc.expect(f"open http://127.0.0.1:{port}/ in your browser")
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{base}/", timeout=5) as response:
        page = response.read().decode()
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<script src="chat.js"' in page
    with urllib.request.urlopen(f"{base}/chat.js", timeout=5) as response:
        assert b"new WebSocket(url)" in response.read()
    for path, status, body in [
        ("/ws", 426, b"accepts WebSocket connections only"),
        ("/nope", 404, b"No Such Resource"),
        ("/../server.py", 404, b"No Such Resource"),
    ]:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{base}{path}", timeout=5)
        assert info.value.code == status, path
        assert body in info.value.read(), path


def test_chat_json_messages_are_broadcast(chat_server: tuple[Proc, int]) -> None:
    _proc, port = chat_server
    alice = chat_client(port, "alice")
    try:
        alice.expect("* welcome alice; online: alice; extensions: permessage-deflate")
        status, bob = run(
            example("chat/client.py", f"ws://127.0.0.1:{port}/ws", "--name", "bob"),
            input="hello everyone\n",
        )
        assert status == 0, bob
        assert "* welcome bob; online: alice, bob" in bob
        assert "<bob> hello everyone" in bob
        alice.expect("* bob joined")
        alice.expect("<bob> hello everyone")
        alice.expect("* bob left")

        status, taken = run(
            example("chat/client.py", f"ws://127.0.0.1:{port}/ws", "--name", "alice")
        )
        assert status == 1, taken
        assert "! the name 'alice' is taken" in taken

        alice.send("bye now\n")
        alice.expect("<alice> bye now")
        alice.close_stdin()
        assert alice.wait() == 0, alice.output
    finally:
        alice.stop()


def test_chat_protocol_rules(chat_server: tuple[Proc, int]) -> None:
    """What the chat server says to a client that does not follow the protocol
    (driven by another library's client: ``websockets``)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    _proc, port = chat_server
    url = f"ws://127.0.0.1:{port}/ws"

    def said(ws: Any) -> Any:
        return json.loads(ws.recv(timeout=5))

    with connect(url, open_timeout=5) as ws:
        ws.send(json.dumps({"type": "message", "text": "too early"}))
        assert said(ws) == {"type": "error", "text": "join first, then send messages"}
        ws.send(json.dumps({"type": "join", "name": " \u202eeve\x07 "}))
        welcome = said(ws)
        assert (welcome["type"], welcome["name"], welcome["online"]) == ("welcome", "eve", ["eve"])
        assert said(ws) == {"type": "join", "name": "eve"}
        ws.send(json.dumps({"type": "join", "name": "mallory"}))
        assert said(ws) == {"type": "error", "text": "already joined as 'eve'"}
        ws.send(json.dumps({"type": "message", "text": "a\tb\u200dc"}))
        assert said(ws) == {"type": "message", "name": "eve", "text": "ab\u200dc"}
        ws.send(b"\x00binary")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (1003, "JSON text messages only")

    with connect(url, open_timeout=5) as ws:
        ws.send("not json")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


def test_chat_server_rejects_other_origins(chat_server: tuple[Proc, int]) -> None:
    """A page on another site cannot open a chat connection (allowedOrigins), nor
    can an opaque origin (a sandboxed iframe, a file:// page, a redirect chain:
    browsers send "null"), as allowNullOrigin is off."""
    _proc, port = chat_server
    for origin, expected in [
        ("http://evil.example", b" 403 "),
        ("null", b" 403 "),
        (f"http://localhost:{port}", b" 101 "),
    ]:
        handshake = ClientHandshake("127.0.0.1", port, "/ws", origin=origin)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(handshake.data_to_send())
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(4096)
                if not data:
                    break
                head += data
        assert head.split(b"\r\n")[0].startswith(b"HTTP/1.1" + expected), (origin, head)


# ------------------------------------------------------------- subprotocols


def test_subprotocol_negotiation() -> None:
    proc, port = start_server("subprotocols/server.py")
    url = f"ws://127.0.0.1:{port}"
    try:
        status, out = run(example("subprotocols/client.py", url))
        assert status == 0, out
        assert "server chose calc.v2" in out
        assert "v2 answer #1: 5" in out and "v2 answer #2: 42" in out

        status, out = run(
            example("subprotocols/client.py", url, "--offer", "calc.v1", "--offer", "calc.v9")
        )
        assert status == 0, out
        assert "server chose calc.v1" in out
        assert "v1 answer: 5" in out and "v1 answer: 42" in out

        status, out = run(example("subprotocols/client.py", url, "--offer", "calc.v3"))
        assert status == 1, out
        assert "400" in out
    finally:
        server_out = proc.stop()
    assert "offered ['calc.v2', 'calc.v1']: calc.v2" in server_out


# --------------------------------------------------------------- compression


def test_permessage_deflate_shrinks_the_wire() -> None:
    proc, port = start_server("compression/server.py")
    url = f"ws://127.0.0.1:{port}"
    try:
        status, out = run(example("compression/client.py", url))
        assert status == 0, out
        assert "negotiated: permessage-deflate (server window 12 bits" in out
        payload, wire = stats(out)
        assert wire * 4 < payload  # (about 10% for this JSON)

        status, out = run(example("compression/client.py", url, "--no-compression"))
        assert status == 0, out
        assert "negotiated: no compression" in out
        plain_payload, plain_wire = stats(out)
        assert plain_payload == payload
        assert payload < plain_wire < payload * 1.01  # (frame headers)
    finally:
        proc.stop()


def stats(out: str) -> tuple[int, int]:
    line = next(line for line in out.splitlines() if "bytes on the wire" in line)
    words = line.replace(",", "").split()
    return int(words[2]), int(words[5])


# ----------------------------------------------------------------------- TLS


def test_wss_with_a_certificate_from_the_command_line(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    status, out = run(example("tls/make_cert.py", str(tmp_path)))
    assert status == 0, out
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    assert os.stat(key).st_mode & 0o077 == 0  # the private key is not world-readable
    proc, port = start_server("tls/server.py", "--cert", str(cert), "--key", str(key))
    try:
        for host in ("localhost", "127.0.0.1"):
            status, out = run(
                example("tls/client.py", f"wss://{host}:{port}", "--cafile", str(cert))
            )
            assert status == 0, out
            assert "server certificate: localhost, verified" in out
            assert "echo: hello over TLS" in out
        # not trusting the self-signed certificate: refused
        status, out = run(example("tls/client.py", f"wss://localhost:{port}"))
        assert status == 1, out
        assert "TLS verification failed: self-signed certificate" in out
    finally:
        server_out = proc.stop()
    assert "connected over TLSv1." in server_out


# ----------------------------------------------------------------- streaming


def test_streaming_a_file_larger_than_max_message_payload_size(tmp_path: Path) -> None:
    from wsproto_cb.options import CLIENT_OPTIONS

    limit = CLIENT_OPTIONS["maxMessagePayloadSize"].default
    data = os.urandom(1 << 20) * (limit // (1 << 20) + 1)  # 1 MiB over the limit
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()

    proc, port = start_server("streaming/receiver.py")
    try:
        status, out = run(example("streaming/send_file.py", str(path), f"ws://127.0.0.1:{port}"))
        assert status == 0, out
        assert f"({len(data)} bytes, over maxMessagePayloadSize ({limit}))" in out
        frames = len(data) // 65536 + 1  # 64 KiB chunks, then endMessage's empty final frame
        assert f"receiver got {len(data)} bytes in {frames} frames" in out
        assert "checksum matches" in out
        proc.expect(f"received {len(data)} bytes in {frames} frames, sha256 {digest}")
    finally:
        proc.stop()


def test_streaming_receiver_enforces_its_own_quota(tmp_path: Path) -> None:
    path = tmp_path / "medium.bin"
    path.write_bytes(os.urandom(300_000))
    proc, port = start_server("streaming/receiver.py", "--max-size", "200000")
    try:
        status, out = run(example("streaming/send_file.py", str(path), f"ws://127.0.0.1:{port}"))
        assert status == 1, out
        assert "closed before an answer: code=1009 reason=over the quota of 200000 bytes" in out
    finally:
        proc.stop()
