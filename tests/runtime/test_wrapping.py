"""Any stream protocol over WebSocket on both runtimes: a line echo served by the
wrapping server factory, reached by the wrapping client factory and by a plain
WebSocket client (as a browser would) over ``binary`` and ``base64``."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from .harness import Recorder, RuntimeHarness, future, resolve

# --- a line echo, as each runtime writes stream protocols


def line_echo_factory(runtime: str, seen: dict[str, Any]) -> Any:
    """Echoes each line upper-cased; ``quit`` makes it close; reports peer/host and loss."""
    if runtime == "asyncio":

        class AsyncioLineEcho(asyncio.Protocol):
            def connection_made(self, transport: Any) -> None:
                self.transport, self.buffer = transport, b""
                seen["peer"] = transport.get_extra_info("peername")
                seen["host"] = transport.get_extra_info("sockname")

            def data_received(self, data: bytes) -> None:
                self.buffer += data
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    if line == b"quit":
                        self.transport.close()
                        return
                    self.transport.writelines([line.upper(), b"\n"])

            def connection_lost(self, exc: Exception | None) -> None:
                resolve(seen["lost"], exc)

        return AsyncioLineEcho

    from twisted.internet.protocol import Factory
    from twisted.protocols.basic import LineReceiver

    class TwistedLineEcho(LineReceiver):
        delimiter = b"\n"

        def connectionMade(self) -> None:
            peer, host = self.transport.getPeer(), self.transport.getHost()
            seen["peer"], seen["host"] = (peer.host, peer.port), (host.host, host.port)

        def lineReceived(self, line: bytes) -> None:
            if line == b"quit":
                self.transport.loseConnection()
                return
            self.sendLine(line.upper())

        def connectionLost(self, reason: Any) -> None:
            resolve(seen["lost"], reason)

    return Factory.forProtocol(TwistedLineEcho)


def wrapping(runtime: str) -> Any:
    import importlib

    return importlib.import_module(f"wsproto_cb.{runtime}.wrapping")


async def serve_line_echo(runtime: RuntimeHarness, seen: dict[str, Any]) -> int:
    seen["lost"] = future()
    factory = wrapping(runtime.name).WrappingWebSocketServerFactory(
        line_echo_factory(runtime.name, seen), "ws://127.0.0.1"
    )
    return await runtime.listen(factory)


class PlainClient(Recorder):
    """A WebSocket client that knows nothing of the wrapping (a browser, say)."""


@pytest.mark.asyncio_task
@pytest.mark.parametrize("subprotocol", ["binary", "base64"])
async def test_plain_websocket_client_talks_to_a_wrapped_line_echo(
    runtime: RuntimeHarness, subprotocol: str
) -> None:
    seen: dict[str, Any] = {}
    port = await serve_line_echo(runtime, seen)
    factory = runtime.client_factory(PlainClient, protocols=[subprotocol])
    client = await runtime.connect(factory, port)
    await runtime.wait(client.opened)
    assert client.websocket_protocol_in_use == subprotocol

    def send(data: bytes) -> None:
        if subprotocol == "base64":
            client.sendMessage(base64.b64encode(data), False)
        else:
            client.sendMessage(data, True)

    async def receive() -> bytes:
        payload, is_binary = await runtime.wait(client.messages.get())
        assert is_binary == (subprotocol == "binary")
        return base64.b64decode(payload) if subprotocol == "base64" else payload

    send(b"hel")  # a line split across messages, two lines in one
    send(b"lo\nwor")
    send(b"ld\n")
    received = b""
    while received.count(b"\n") < 2:
        received += await receive()
    assert received == b"HELLO\nWORLD\n"
    assert seen["peer"][0] == "127.0.0.1" and seen["host"] == ("127.0.0.1", port)

    send(b"quit\n")  # the wrapped protocol's loseConnection: a clean 1000 close
    assert await runtime.wait(client.closed) == (True, 1000, None)
    lost = await runtime.wait(seen["lost"])
    if runtime.name == "asyncio":
        assert lost is None
    else:
        from twisted.internet.error import ConnectionDone

        assert lost.check(ConnectionDone)


@pytest.mark.asyncio_task
async def test_wrapping_client_factory_to_wrapping_server(runtime: RuntimeHarness) -> None:
    seen: dict[str, Any] = {}
    port = await serve_line_echo(runtime, seen)
    lines: asyncio.Queue[bytes] = asyncio.Queue()
    module = wrapping(runtime.client_name)
    if runtime.client_name == "asyncio":

        class AsyncioLineClient(asyncio.Protocol):
            def connection_made(self, transport: Any) -> None:
                transport.write(b"ping\n")

            def data_received(self, data: bytes) -> None:
                lines.put_nowait(data)

        factory = module.WrappingWebSocketClientFactory(AsyncioLineClient, "ws://127.0.0.1/")
    else:
        from twisted.internet.protocol import ClientFactory, Protocol

        class TwistedLineClient(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(b"ping\n")

            def dataReceived(self, data: bytes) -> None:
                lines.put_nowait(data)

        factory = module.WrappingWebSocketClientFactory(
            ClientFactory.forProtocol(TwistedLineClient), "ws://127.0.0.1/"
        )
    proto = await runtime.connect(factory, port)
    assert await runtime.wait(lines.get()) == b"PING\n"
    assert proto.wrapping_subprotocol == "binary"
    assert proto.websocket_extensions_in_use  # permessage-deflate by default


@pytest.mark.asyncio_task
async def test_client_without_a_wrapping_subprotocol_is_refused(runtime: RuntimeHarness) -> None:
    port = await serve_line_echo(runtime, {})
    factory = runtime.client_factory(PlainClient, protocols=["chat"])
    client = await runtime.connect(factory, port)
    await runtime.wait(client.closed)
    assert client.handshake_error is not None and client.handshake_error.status == 406


@pytest.mark.asyncio_task
async def test_text_in_binary_mode_closes_with_1003(runtime: RuntimeHarness) -> None:
    port = await serve_line_echo(runtime, {})
    client = await runtime.connect(runtime.client_factory(PlainClient, protocols=["binary"]), port)
    await runtime.wait(client.opened)
    client.sendMessage(b"text\n", False)
    was_clean, code, _reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (True, 1003)
