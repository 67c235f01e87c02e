"""Callbacks that raise, and callbacks that return awaitables (``async def``, Deferreds)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .harness import Echo, Recorder, RuntimeHarness, captured_errors, track_opened


class Boom(RuntimeError):
    pass


@pytest.mark.asyncio_task
async def test_on_message_raising_fails_only_that_connection(runtime: RuntimeHarness) -> None:
    class Server(Echo, Recorder):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if payload == b"boom":
                raise Boom("boom in onMessage")
            super().onMessage(payload, isBinary)

    factory = runtime.server_factory(Server, maxConnections=2)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    with captured_errors() as errors:
        bad = await runtime.connect(runtime.client_factory(Recorder), port)
        bad_server = await runtime.wait(servers.get())
        await runtime.wait(bad.opened)
        good = await runtime.connect(runtime.client_factory(Recorder), port)
        await runtime.wait(good.opened)
        assert factory.countConnections == 2
        bad.sendMessage(b"boom")
        bad.sendMessage(b"never echoed")
        was_clean, code, _reason = await runtime.wait(bad.closed)
        assert (was_clean, code) == (True, 1011)  # the peer sees 1011
        server_clean, server_code, server_reason = await runtime.wait(bad_server.closed)
    assert (server_clean, server_code) == (False, 1006)
    assert "1011" in server_reason
    assert bad.messages.empty()

    (error,) = errors
    assert isinstance(error.exc, Boom)
    assert "boom in onMessage" in error.traceback
    assert "in onMessage" in error.traceback  # the raising frame is in the traceback

    # the other connection never noticed, and the bookkeeping freed the slot
    good.sendMessage(b"still here")
    assert await runtime.wait(good.messages.get()) == (b"still here", False)
    assert factory.countConnections == 1
    third = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(third.opened)  # not refused with 503
    assert factory.countConnections == 2
    third.sendMessage(b"third")
    assert await runtime.wait(third.messages.get()) == (b"third", False)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("callback", ["onOpen", "onClose", "onConnect"])
async def test_other_callbacks_raising(runtime: RuntimeHarness, callback: str) -> None:
    def boom(self: Any, *args: Any) -> None:
        raise Boom(f"boom in {callback}")

    server_class = type("Server", (Recorder,), {callback: boom})
    factory = runtime.server_factory(server_class)
    port = await runtime.listen(factory)
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        if callback == "onClose":
            await runtime.wait(client.opened)
            client.sendClose(1000)
        result = await runtime.wait(client.closed)
        for _ in range(20):  # the server's own onClose runs a moment later
            if errors:
                break
            await asyncio.sleep(0.01)
    if callback == "onOpen":
        assert result[:2] == (True, 1011)
    elif callback == "onConnect":
        assert result[:2] == (False, 1006)
        assert client.handshake_error.status == 500
    else:
        assert result == (True, 1000, None)
    (error,) = errors
    assert isinstance(error.exc, Boom)
    assert f"boom in {callback}" in error.traceback


@pytest.mark.asyncio_task
async def test_async_on_message_in_order_without_overlap(runtime: RuntimeHarness) -> None:
    log: list[tuple[str, bytes]] = []

    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            log.append(("start", payload))
            await runtime.sleep(0.01 if payload[-1] % 2 else 0.03)
            log.append(("end", payload))
            self.sendMessage(payload, isBinary)

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    payloads = [f"m{i}".encode() for i in range(6)]
    for payload in payloads:
        client.sendMessage(payload)
    echoed = [(await runtime.wait(client.messages.get()))[0] for _ in payloads]
    assert echoed == payloads
    assert log == [(kind, p) for p in payloads for kind in ("start", "end")]


@pytest.mark.asyncio_task
async def test_async_on_open_runs_alongside_messages(runtime: RuntimeHarness) -> None:
    """onOpen's awaitable does not hold delivery (it often loops for the
    connection's life): the message arrives while onOpen still waits."""
    log: list[str] = []
    release = runtime.gate()

    class Server(Recorder):
        async def onOpen(self) -> None:
            log.append("open start")
            await release.waiter
            log.append("open end")

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            log.append(payload.decode())
            self.sendMessage(payload)

    class Client(Recorder):
        def onOpen(self) -> None:
            super().onOpen()
            self.sendMessage(b"first")

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Client), port)
    assert await runtime.wait(client.messages.get()) == (b"first", False)
    assert log == ["open start", "first"]
    release.open()
    await asyncio.sleep(0.05)
    assert log == ["open start", "first", "open end"]


@pytest.mark.asyncio_task
async def test_async_on_connect_returns_subprotocol(runtime: RuntimeHarness) -> None:
    class Server(Recorder):
        async def onConnect(self, request: Any) -> str:
            await runtime.sleep(0.02)
            return request.protocols[-1]  # type: ignore[no-any-return]

    class Client(Recorder):
        async def onConnect(self, response: Any) -> None:
            await runtime.sleep(0.02, side="client")
            self.seen_protocol = response.protocol

    factory = runtime.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Client, protocols=["a", "b"]), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    assert server.websocket_protocol_in_use == client.websocket_protocol_in_use == "b"
    assert client.seen_protocol == "b"


@pytest.mark.asyncio_task
async def test_async_on_connect_deny(runtime: RuntimeHarness) -> None:
    from wsproto_cb.types import ConnectionDeny

    class Server(Recorder):
        async def onConnect(self, request: Any) -> None:
            await runtime.sleep(0.01)
            raise ConnectionDeny(404, "no such room")

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    was_clean, code, reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (False, 1006)
    assert "404" in reason
    assert client.handshake_error.status == 404


def runtime_awaitable(runtime: RuntimeHarness, delay: float, value: Any) -> Any:
    """A plain (non-coroutine) awaitable of the runtime's own kind: Deferred or Future."""
    if runtime.name == "twisted":
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        return deferLater(reactor, delay, lambda: value)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_later(delay, fut.set_result, value)
    return fut


@pytest.mark.asyncio_task
async def test_handler_returning_deferred_or_future(runtime: RuntimeHarness) -> None:
    """On Twisted a Deferred, on asyncio a Future: waited for like a coroutine."""
    log: list[str] = []

    class Server(Recorder):
        def onMessage(self, payload: bytes, isBinary: bool) -> Any:
            log.append(f"start {payload.decode()}")
            result = runtime_awaitable(runtime, 0.02, payload)

            def finish(value: bytes) -> bytes:
                log.append(f"end {value.decode()}")
                self.sendMessage(value)
                return value

            if runtime.name == "twisted":
                return result.addCallback(finish)
            result.add_done_callback(lambda fut: finish(fut.result()))
            return result

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    client.sendMessage(b"one")
    client.sendMessage(b"two")
    assert await runtime.wait(client.messages.get()) == (b"one", False)
    assert await runtime.wait(client.messages.get()) == (b"two", False)
    assert log == ["start one", "end one", "start two", "end two"]


@pytest.mark.asyncio_task
async def test_async_handler_failing_after_await(runtime: RuntimeHarness) -> None:
    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            await runtime.sleep(0.01)
            raise Boom("late boom")

    port = await runtime.listen(runtime.server_factory(Server))
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        await runtime.wait(client.opened)
        client.sendMessage(b"x")
        was_clean, code, _reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (True, 1011)
    (error,) = errors
    assert isinstance(error.exc, Boom)
    assert "late boom" in error.traceback


@pytest.mark.asyncio_task
async def test_async_streaming_hooks_in_order(runtime: RuntimeHarness) -> None:
    """Async frame hooks run one after another, in frame order."""
    log: list[str] = []

    class Client(Recorder):
        async def onMessageFrameBegin(self, length: int) -> None:
            await runtime.sleep(0.005, side="client")
            log.append(f"begin {length}")
            super().onMessageFrameBegin(length)  # type: ignore[misc]

        def onMessageFrameEnd(self) -> Any:
            log.append("end")
            return super().onMessageFrameEnd()  # type: ignore[misc]

    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Client), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    server.sendMessage(b"abcdefg", fragmentSize=3)
    server.sendMessage(b"xy")
    assert await runtime.wait(client.messages.get()) == (b"abcdefg", False)
    assert await runtime.wait(client.messages.get()) == (b"xy", False)
    assert log == ["begin 3", "end", "begin 3", "end", "begin 1", "end", "begin 2", "end"]
