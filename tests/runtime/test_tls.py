"""wss:// on both runtimes (a self-signed certificate made for the session)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .harness import (
    TIMEOUT,
    Echo,
    RawServerPeer,
    Recorder,
    RuntimeHarness,
    TLSFiles,
    track_opened,
)

# Twisted's TLS context setup hands pyOpenSSL X509 objects to pyOpenSSL, which
# deprecates that (not our code; see test_loops for our own warnings).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)


@pytest.mark.asyncio_task
async def test_wss_echo(runtime_pair: RuntimeHarness, tls: TLSFiles) -> None:
    details: list[Any] = []

    class Client(Recorder):
        def onConnecting(self, transport_details: Any) -> None:
            details.append(transport_details)

    class Server(Echo, Recorder):
        pass

    factory = runtime_pair.server_factory(Server, url="wss://localhost")
    servers = track_opened(factory)
    port = await runtime_pair.listen(factory, tls=tls)
    client = await runtime_pair.connect(runtime_pair.client_factory(Client), port, tls=tls)
    server = await runtime_pair.wait(servers.get())
    await runtime_pair.wait(client.opened)
    assert details[0].is_secure is True
    assert client.http_headers["upgrade"].lower() == "websocket"
    assert server.http_request_host == f"localhost:{port}"
    payload = bytes(range(256)) * 1000
    client.sendMessage(payload, True)
    assert await runtime_pair.wait(client.messages.get()) == (payload, True)
    client.sendClose(1000, "tls bye")
    assert await runtime_pair.wait(server.closed) == (True, 1000, "tls bye")
    assert await runtime_pair.wait(client.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_twisted_listen_ws_and_connect_ws(tls: TLSFiles) -> None:
    """The listenWS/connectWS helpers take the port and TLS from the URL."""
    from twisted.internet import reactor

    from wsproto_cb.twisted import (
        WebSocketClientFactory,
        WebSocketServerFactory,
        connectWS,
        listenWS,
    )

    harness = RuntimeHarness("twisted")
    with pytest.raises(ValueError, match="contextFactory"):
        listenWS(WebSocketServerFactory("wss://localhost:0"))
    server_factory = WebSocketServerFactory("wss://localhost:0")
    server_factory.protocol = harness.server_class(Echo)
    listener = listenWS(server_factory, tls.twisted_server_options(), interface="127.0.0.1")
    try:
        port = listener.getHost().port
        opened: Any = None
        client_factory = WebSocketClientFactory(f"wss://localhost:{port}/")
        client_factory.protocol = harness.client_class(Recorder)
        protos: list[Any] = []
        original = client_factory.buildProtocol

        def build(addr: Any) -> Any:
            proto = original(addr)
            protos.append(proto)
            return proto

        client_factory.buildProtocol = build  # type: ignore[method-assign]
        # connectWS resolves "localhost"; the certificate is checked against it
        connector = connectWS(client_factory, tls.twisted_client_options())
        for _ in range(200):
            if protos and protos[0].opened.done():
                break
            await harness.wait(_tick(reactor))
        (opened,) = protos
        opened.sendMessage(b"via connectWS")
        assert await harness.wait(opened.messages.get()) == (b"via connectWS", False)
        opened.sendClose(1000)
        await harness.wait(opened.closed)
        connector.disconnect()
    finally:
        await harness.wait(listener.stopListening())


def _tick(reactor: Any) -> Any:
    from twisted.internet.task import deferLater

    return deferLater(reactor, 0.01, lambda: None)


@pytest.mark.asyncio_task
async def test_stalled_tls_handshake_bounded_by_open_handshake_timeout(
    runtime: RuntimeHarness, tls: TLSFiles
) -> None:
    """A client that connects and never starts TLS is dropped after
    openHandshakeTimeout, not after asyncio's own 60 s TLS handshake bound."""
    factory = runtime.server_factory(Recorder, url="wss://localhost", openHandshakeTimeout=0.2)
    port = await runtime.listen(factory, tls=tls)
    peer = await runtime.raw(port)  # TCP only: no ClientHello, nothing
    assert await peer.closed_within(TIMEOUT)
    assert factory.countConnections == 0


@pytest.mark.asyncio_task
async def test_client_stalled_in_tls_handshake_bounded_by_open_handshake_timeout(
    runtime: RuntimeHarness, tls: TLSFiles
) -> None:
    """A server that accepts TCP and never answers the ClientHello."""
    stalled = asyncio.Event()

    async def silent(peer: RawServerPeer) -> None:
        await peer.reader.read(65536)  # the ClientHello
        stalled.set()
        await peer.reader.read(65536)  # until the client gives up

    port = await runtime.raw_server(silent)
    factory = runtime.client_factory(Recorder, openHandshakeTimeout=0.2)
    try:
        client = await runtime.connect(factory, port, tls=tls)
    except ConnectionError:  # asyncio: create_connection's TLS handshake timed out
        assert runtime.client_name == "asyncio"
    else:
        assert runtime.client_name == "twisted"
        was_clean, code, reason = await runtime.wait(client.closed)
        assert (was_clean, code) == (False, 1006)
        assert "opening handshake timeout" in reason
    assert stalled.is_set()


@pytest.mark.asyncio_task
async def test_an_untrusted_certificate_says_how_to_trust_a_private_ca(
    runtime_pair: RuntimeHarness, tls: TLSFiles
) -> None:
    """Verification stays on by default (unlike Autobahn); the error says how
    to pass one's own CA on the client's runtime."""
    import ssl

    factory = runtime_pair.server_factory(Echo, url="wss://localhost")
    port = await runtime_pair.listen(factory, tls=tls)
    client_factory = runtime_pair.client_factory(Recorder, url=f"wss://localhost:{port}/")
    if runtime_pair.client_name == "asyncio":
        from wsproto_cb.asyncio import connect_ws

        with pytest.raises(ssl.SSLCertVerificationError) as failed:
            await connect_ws(client_factory)
        assert "ssl.create_default_context(cafile=...)" in "\n".join(failed.value.__notes__)
        return
    from wsproto_cb.twisted import connectWS

    protocols: list[Any] = []
    original = client_factory.buildProtocol

    def build(addr: Any) -> Any:
        proto = original(addr)
        protocols.append(proto)
        return proto

    client_factory.buildProtocol = build
    connectWS(client_factory)
    for _ in range(100):
        if protocols:
            break
        await asyncio.sleep(0.05)
    was_clean, code, reason = await runtime_pair.wait(protocols[0].closed)
    assert (was_clean, code) == (False, 1006)
    assert "certificate verify failed" in reason
    assert "contextFactory=optionsForClientTLS(" in reason
