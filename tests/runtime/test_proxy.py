"""Clients through a real HTTP proxy (tinyproxy) on both runtimes: ``ws://`` and
``wss://`` tunnelled with CONNECT, Basic proxy authentication, and the errors
for a proxy that refuses (403, 407, 500/502) or never answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from wsproto_cb.core.proxy import ProxyError

from .harness import Echo, Recorder, RuntimeHarness, TLSFiles, future, resolve, track_opened
from .tinyproxy import free_port, running_tinyproxy

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)


async def open_through_proxy(
    runtime: RuntimeHarness, factory: Any, tls: TLSFiles | None = None
) -> Any:
    """Connect the way users do (``connect_ws`` / ``connectWS``); the open protocol,
    or the error the runtime reported."""
    if runtime.client_name == "asyncio":
        from wsproto_cb.asyncio import connect_ws

        context = tls.client_context() if tls is not None else None
        transport, proto = await runtime.wait(connect_ws(factory, context), 10)
        runtime._clients.append(transport)
        await runtime.wait(proto.opened)
        return proto
    from wsproto_cb.twisted import connectWS

    failed = future()
    factory.clientConnectionFailed = lambda _connector, reason: resolve(failed, reason.value)
    opened = track_opened(factory)
    context = tls.twisted_client_options() if tls is not None else None
    connectWS(factory, context)
    getter = asyncio.ensure_future(opened.get())
    done, _ = await asyncio.wait({getter, failed}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    getter.cancel()
    if failed in done:
        raise failed.result()
    if getter not in done:
        raise TimeoutError("neither opened nor failed")
    proto = getter.result()
    runtime._clients.append(proto.transport)
    return proto


async def echo_server(runtime: RuntimeHarness, tls: TLSFiles | None = None) -> int:
    class Server(Echo, Recorder):
        pass

    url = "wss://localhost" if tls is not None else "ws://127.0.0.1"
    return await runtime.listen(runtime.server_factory(Server, url=url), tls=tls)


async def round_trip(runtime: RuntimeHarness, proto: Any) -> None:
    proto.sendMessage(b"through the tunnel")
    assert await runtime.wait(proto.messages.get()) == (b"through the tunnel", False)
    proto.sendClose(1000)
    assert await runtime.wait(proto.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_ws_through_proxy(runtime: RuntimeHarness) -> None:
    port = await echo_server(runtime)
    with running_tinyproxy([port]) as proxy:
        factory = runtime.client_factory(Recorder, url=f"ws://127.0.0.1:{port}/")
        factory.setSessionParameters(factory.url, proxy={"host": "127.0.0.1", "port": proxy.port})
        proto = await open_through_proxy(runtime, factory)
        await round_trip(runtime, proto)
        log = Path(proxy.log).read_text()
    assert "CONNECT" in log and f"127.0.0.1:{port}" in log  # it really went through


@pytest.mark.asyncio_task
async def test_wss_through_proxy_checks_the_origin_certificate(
    runtime: RuntimeHarness, tls: TLSFiles
) -> None:
    port = await echo_server(runtime, tls)
    with running_tinyproxy([port]) as proxy:
        factory = runtime.client_factory(Recorder, url=f"wss://localhost:{port}/")
        factory.setSessionParameters(factory.url, proxy=proxy.url)
        proto = await open_through_proxy(runtime, factory, tls)
        assert proto.http_headers["upgrade"].lower() == "websocket"
        await round_trip(runtime, proto)


@pytest.mark.asyncio_task
async def test_wss_through_proxy_refuses_a_certificate_for_another_name(
    runtime: RuntimeHarness, tls: TLSFiles
) -> None:
    """The tunnel leads to 127.0.0.1, whose certificate names only localhost."""
    port = await echo_server(runtime, tls)
    with running_tinyproxy([port]) as proxy:
        factory = runtime.client_factory(Recorder, url=f"wss://127.0.0.1:{port}/")
        factory.setSessionParameters(factory.url, proxy=proxy.url)
        if runtime.client_name == "asyncio":
            import ssl

            with pytest.raises(ssl.SSLCertVerificationError):
                await open_through_proxy(runtime, factory, tls)
        else:
            from twisted.internet.ssl import Certificate, optionsForClientTLS

            from wsproto_cb.twisted import connectWS

            closed = future()

            class Client(Recorder):
                def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
                    resolve(closed, (self.opened.done(), wasClean, reason))

            factory.protocol = runtime.client_class(Client)
            # (what connectWS builds by default, with the test CA trusted)
            options = optionsForClientTLS(factory.host, trustRoot=Certificate.loadPEM(tls.cert_pem))
            connectWS(factory, options)
            opened, clean, reason = await runtime.wait(closed)
            assert (opened, clean) == (False, False)
            assert "certificate" in reason.lower() or "verif" in reason.lower(), reason


@pytest.mark.asyncio_task
async def test_basic_proxy_authentication(runtime: RuntimeHarness) -> None:
    port = await echo_server(runtime)
    with running_tinyproxy(auth=("alice", "s3cret")) as proxy:
        url = f"ws://127.0.0.1:{port}/"
        factory = runtime.client_factory(Recorder, url=url)
        factory.setSessionParameters(url, proxy=f"http://alice:s3cret@127.0.0.1:{proxy.port}")
        await round_trip(runtime, await open_through_proxy(runtime, factory))

        refused = runtime.client_factory(Recorder, url=url)
        refused.setSessionParameters(url, proxy=proxy.url)
        with pytest.raises(ProxyError) as info:
            await open_through_proxy(runtime, refused)
    assert info.value.status == 407
    assert f"HTTP proxy 127.0.0.1:{proxy.port}" in str(info.value)
    assert "407 Proxy Authentication Required" in str(info.value)


@pytest.mark.asyncio_task
async def test_proxy_refusing_the_port(runtime: RuntimeHarness) -> None:
    port = await echo_server(runtime)
    with running_tinyproxy([free_port()]) as proxy:  # CONNECT allowed to another port only
        factory = runtime.client_factory(
            Recorder,
            url=f"ws://127.0.0.1:{port}/",
        )
        factory.setSessionParameters(factory.url, proxy=proxy.url)
        with pytest.raises(ProxyError) as info:
            await open_through_proxy(runtime, factory)
    assert info.value.status == 403
    assert f"CONNECT 127.0.0.1:{port} refused: HTTP/1.1 403" in str(info.value)


@pytest.mark.asyncio_task
async def test_proxy_cannot_reach_the_origin(runtime: RuntimeHarness) -> None:
    closed_port = free_port()
    with running_tinyproxy() as proxy:
        factory = runtime.client_factory(Recorder, url=f"ws://127.0.0.1:{closed_port}/")
        factory.setSessionParameters(factory.url, proxy=proxy.url)
        with pytest.raises(ProxyError) as info:
            await open_through_proxy(runtime, factory)
    assert 500 <= info.value.status < 600  # tinyproxy says 500, others 502


@pytest.mark.asyncio_task
async def test_silent_proxy_times_out_with_the_open_handshake_timeout(
    runtime: RuntimeHarness,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # reads the CONNECT, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    proxy_port = server.sockets[0].getsockname()[1]
    try:
        factory = runtime.client_factory(
            Recorder, url="ws://127.0.0.1:9/", openHandshakeTimeout=0.3
        )
        factory.setSessionParameters(factory.url, proxy={"host": "127.0.0.1", "port": proxy_port})
        with pytest.raises(ProxyError) as info:
            await open_through_proxy(runtime, factory)
        assert str(info.value) == (
            f"HTTP proxy 127.0.0.1:{proxy_port}: no answer to CONNECT 127.0.0.1:9 within 0.3 s"
        )
    finally:
        for writer in accepted:
            writer.close()
        server.close()


@pytest.mark.asyncio_task
async def test_proxy_that_is_not_there(runtime: RuntimeHarness) -> None:
    factory = runtime.client_factory(Recorder, url="ws://127.0.0.1:9/")
    factory.setSessionParameters(factory.url, proxy={"host": "127.0.0.1", "port": free_port()})
    with pytest.raises(ProxyError, match=r"^HTTP proxy 127\.0\.0\.1:\d+: cannot connect: "):
        await open_through_proxy(runtime, factory)
