"""Reconnecting clients on both runtimes against a real server that is stopped and
restarted on the same port; Twisted's own ReconnectingClientFactory mixed in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.reconnect import Backoff
from wsproto_cb.types import ConnectionDeny

from .harness import Echo, RuntimeHarness
from .tinyproxy import free_port


class Server:
    """Listens on a fixed port on the harness's server runtime; stop() drops clients."""

    def __init__(self, runtime: RuntimeHarness, port: int, mixin: type = Echo) -> None:
        self.runtime = runtime
        self.port = port
        self.factory = runtime.server_factory(mixin)
        self._listener: Any = None

    async def start(self) -> None:
        if self.runtime.name == "asyncio":
            loop = asyncio.get_running_loop()
            self._listener = await loop.create_server(self.factory, "127.0.0.1", self.port)
        else:
            from twisted.internet import reactor

            self._listener = reactor.listenTCP(  # type: ignore[attr-defined]
                self.port, self.factory, interface="127.0.0.1"
            )

    async def stop(self) -> None:
        if self.runtime.name == "asyncio":
            self._listener.close()
        else:
            await self.runtime.wait(self._listener.stopListening())
        waits = self.factory.closeAllConnections(abort=True)
        for wait in waits:
            await self.runtime.wait(wait)


class Counting:
    """Client behaviour: each connection reports its open and close to the factory."""

    factory: Any

    def onOpen(self) -> None:
        self.factory.events.put_nowait(("open", self))

    def onClose(self, wasClean: bool, code: Any, reason: Any) -> None:
        self.closed_with = (wasClean, code)
        self.factory.events.put_nowait(("close", self))


def reconnecting(runtime: RuntimeHarness, factory: Any, backoff: Backoff) -> Any:
    module = runtime.client_module
    return module.ReconnectingClient(factory, backoff)


async def stop_client(runtime: RuntimeHarness, client: Any) -> None:
    await runtime.wait(client.stop())


@pytest.mark.asyncio_task
async def test_comes_back_after_each_restart(runtime: RuntimeHarness) -> None:
    port = free_port()
    server = Server(runtime, port)
    await server.start()
    factory = runtime.client_factory(Counting, url=f"ws://127.0.0.1:{port}/")
    factory.events = asyncio.Queue()
    client = reconnecting(runtime, factory, Backoff(initial=0.02, max_delay=0.1))
    client.start()
    protocols = []
    for restart in range(4):
        kind, proto = await runtime.wait(factory.events.get())
        assert kind == "open", restart
        protocols.append(proto)
        await server.stop()
        assert await runtime.wait(factory.events.get()) == ("close", proto)
        await asyncio.sleep(0.15)  # a few refused attempts while the server is down
        await server.start()
    kind, proto = await runtime.wait(factory.events.get())
    assert kind == "open"
    assert len(set(map(id, [*protocols, proto]))) == 5  # one protocol per connection
    assert client.attempts > 5  # refused attempts in between were retried

    await stop_client(runtime, client)
    assert await runtime.wait(factory.events.get()) == ("close", proto)
    assert proto.closed_with == (True, 1000)
    attempts = client.attempts
    await asyncio.sleep(0.2)
    assert client.attempts == attempts and factory.events.empty()  # stopped for good
    await server.stop()


class Refusing:
    def onConnect(self, request: Any) -> None:
        raise ConnectionDeny(403, "Forbidden")


@pytest.mark.asyncio_task
async def test_handshake_refused_with_4xx_is_not_retried(runtime: RuntimeHarness) -> None:
    port = free_port()
    server = Server(runtime, port, Refusing)
    await server.start()
    factory = runtime.client_factory(Counting, url=f"ws://127.0.0.1:{port}/")
    factory.events = asyncio.Queue()
    client = reconnecting(runtime, factory, Backoff(initial=0.01, max_delay=0.02))
    client.start()
    reason = await runtime.wait(client.done)
    assert "refused the handshake (403" in reason
    assert client.attempts == 1

    again = runtime.client_factory(Counting, url=f"ws://127.0.0.1:{port}/")
    again.events = asyncio.Queue()
    client = reconnecting(runtime, again, Backoff(initial=0.01, max_delay=0.02, retry_refused=True))
    client.start()
    while client.attempts < 3:
        await asyncio.sleep(0.01)
    await stop_client(runtime, client)
    await server.stop()


@pytest.mark.asyncio_task
async def test_twisted_reconnecting_client_factory_mixed_in() -> None:
    """Autobahn programs mix Twisted's ReconnectingClientFactory into the client factory."""
    from twisted.internet.protocol import ReconnectingClientFactory

    from wsproto_cb.twisted import WebSocketClientFactory, WebSocketClientProtocol, connectWS

    runtime = RuntimeHarness("twisted")
    port = free_port()
    server = Server(runtime, port)
    await server.start()

    class Proto(Counting, WebSocketClientProtocol):
        def onOpen(self) -> None:
            self.factory.resetDelay()
            super().onOpen()

    class Factory(ReconnectingClientFactory, WebSocketClientFactory):
        protocol = Proto
        maxDelay = 0.1
        initialDelay = 0.02

    factory = Factory(f"ws://127.0.0.1:{port}/")
    factory.events = asyncio.Queue()
    connector = connectWS(factory)
    try:
        for _ in range(3):
            kind, _proto = await runtime.wait(factory.events.get())
            assert kind == "open"
            await server.stop()
            assert (await runtime.wait(factory.events.get()))[0] == "close"
            await asyncio.sleep(0.1)
            await server.start()
        assert (await runtime.wait(factory.events.get()))[0] == "open"
    finally:
        factory.stopTrying()
        connector.disconnect()
        await server.stop()
        await runtime.close()
