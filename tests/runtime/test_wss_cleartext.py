"""A ``wss://`` URL on a connection without TLS.

A client refuses before sending a byte (its request would carry cookies and
tokens in the clear) and says how to get TLS on its runtime; a server only
warns, once per factory, because behind a proxy that terminates TLS a
``wss://`` URL on a cleartext listener is the intended setup.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .harness import (
    Echo,
    Recorder,
    RuntimeHarness,
    captured_errors,
    captured_warnings,
    future,
    resolve,
)

#: what the message tells the user to do, per runtime
CLIENT_HINT = {"asyncio": "pass ssl= to loop.create_connection()", "twisted": "connectWS("}
SERVER_HINT = {"asyncio": "pass ssl= to loop.create_server()", "twisted": "listenWS("}


@pytest.mark.asyncio_task
async def test_wss_client_on_cleartext_connection_sends_nothing(runtime: RuntimeHarness) -> None:
    received = bytearray()
    eof: asyncio.Future[None] = future()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                received.extend(chunk)
        except ConnectionError:  # (the client aborts: a reset)
            pass
        resolve(eof)
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    built: asyncio.Queue[Any] = asyncio.Queue()

    class Client(Recorder):
        def __init__(self) -> None:
            super().__init__()
            built.put_nowait(self)

    factory = runtime.client_factory(Client, url=f"wss://127.0.0.1:{port}/")
    try:
        with captured_errors() as errors:
            if runtime.name == "asyncio":  # no ssl=
                loop = asyncio.get_running_loop()
                await loop.create_connection(factory, "127.0.0.1", port)
            else:  # connectTCP, not connectSSL
                from twisted.internet import reactor

                reactor.connectTCP("127.0.0.1", port, factory)  # type: ignore[attr-defined]
            client = await runtime.wait(built.get())
            was_clean, code, reason = await runtime.wait(client.closed)
        await runtime.wait(eof)
    finally:
        listener.close()
    assert received == b""
    assert not client.opened.done()
    assert (was_clean, code) == (False, 1006)
    expected = f"refusing to open wss://127.0.0.1:{port}/ over a connection without TLS"
    assert expected in reason
    assert CLIENT_HINT[runtime.name] in reason
    assert [e.message for e in errors if expected in e.message], errors


@pytest.mark.asyncio_task
async def test_wss_server_factory_without_tls_warns_once(runtime: RuntimeHarness) -> None:
    class Server(Echo, Recorder):
        pass

    # (as behind a proxy that terminates TLS: the URL is the public one)
    factory = runtime.server_factory(Server, url="wss://example.com")
    with captured_warnings() as warnings:
        port = await runtime.listen(factory)
        for n in range(2):
            client = await runtime.connect(runtime.client_factory(Recorder), port)
            await runtime.wait(client.opened)
            client.sendMessage(b"still served %d" % n)
            assert await runtime.wait(client.messages.get()) == (b"still served %d" % n, False)
    messages = [w.message for w in warnings]
    assert len(messages) == 1, messages
    assert "URL is wss://example.com but connections arrive without TLS" in messages[0]
    assert SERVER_HINT[runtime.name] in messages[0]
