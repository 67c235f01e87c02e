"""onOpen's awaitable runs alongside delivery; onMessage's may too (messageConcurrency).

Both runtimes, real sockets.  A client whose ``async def onOpen`` loops for
the life of the connection is a common Autobahn pattern: messages, pongs and
the closing handshake must keep flowing meanwhile, and the loop must end
with the connection without an error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from twisted.internet import defer

from .harness import Echo, Recorder, RuntimeHarness, captured_errors, track_opened


def looping_client(runtime: RuntimeHarness, sent: list[int], style: str) -> type:
    """A client that sends a message every 20 ms from onOpen, for ever."""

    class Client(Recorder):
        if style == "inlineCallbacks":

            @defer.inlineCallbacks
            def onOpen(self) -> Any:
                Recorder.onOpen(self)
                while True:
                    sent.append(len(sent))
                    self.sendMessage(str(len(sent)).encode())
                    yield runtime.sleep(0.02, side="client")

        else:

            async def onOpen(self) -> None:
                Recorder.onOpen(self)
                while True:
                    sent.append(len(sent))
                    self.sendMessage(str(len(sent)).encode())
                    await runtime.sleep(0.02, side="client")

    return Client


def styles(runtime_name: str) -> list[str]:
    return ["async def", "inlineCallbacks"] if runtime_name == "twisted" else ["async def"]


@pytest.mark.asyncio_task
@pytest.mark.parametrize("style", ["async def", "inlineCallbacks"])
async def test_a_looping_on_open_does_not_stop_delivery_or_pongs(
    runtime: RuntimeHarness, style: str
) -> None:
    if style not in styles(runtime.client_name):
        pytest.skip("@inlineCallbacks is Twisted's")
    sent: list[int] = []
    port = await runtime.listen(runtime.server_factory(Echo))
    factory = runtime.client_factory(
        looping_client(runtime, sent, style), autoPingInterval=0.1, autoPingTimeout=0.1
    )
    with captured_errors() as errors:
        client = await runtime.connect(factory, port)
        await runtime.wait(client.opened)
        echoes = [await runtime.wait(client.messages.get()) for _ in range(25)]  # ~0.5 s
        assert [payload for payload, _ in echoes] == [str(n).encode() for n in range(1, 26)]
        assert not client.closed.done()  # auto-ping got its pongs: still open
        client.sendClose(1000)
        assert await runtime.wait(client.closed) == (True, 1000, None)
        count = len(sent)
        await asyncio.sleep(0.1)
        assert len(sent) == count  # the loop was cancelled with the connection
    assert errors == []


@pytest.mark.asyncio_task
async def test_an_error_in_on_open_s_awaitable_fails_with_1011(runtime: RuntimeHarness) -> None:
    class Server(Recorder):
        async def onOpen(self) -> None:
            Recorder.onOpen(self)
            await runtime.sleep(0.02)
            raise RuntimeError("onOpen failed on purpose")

    port = await runtime.listen(runtime.server_factory(Server))
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        _clean, code, _reason = await runtime.wait(client.closed)
    assert code == 1011
    assert any("onOpen failed on purpose" in str(e.exc) for e in errors)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("limit", [1, 3])
async def test_message_concurrency_overlaps_handlers_up_to_the_bound(
    runtime: RuntimeHarness, limit: int
) -> None:
    running = 0
    peak = 0
    order: list[bytes] = []

    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            nonlocal running, peak
            order.append(payload)
            running += 1
            peak = max(peak, running)
            await runtime.sleep(0.05)
            running -= 1
            self.sendMessage(payload)

    factory = runtime.server_factory(Server, messageConcurrency=limit)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    await runtime.wait(servers.get())
    for n in range(9):
        client.sendMessage(b"%d" % n)
    replies = {(await runtime.wait(client.messages.get()))[0] for _ in range(9)}
    assert replies == {b"%d" % n for n in range(9)}
    assert order == [b"%d" % n for n in range(9)]  # started in order
    assert peak == limit  # overlapped, never beyond the bound


@pytest.mark.asyncio_task
async def test_concurrent_handlers_still_running_are_cancelled_at_close(
    runtime: RuntimeHarness,
) -> None:
    """(The rule in detail: tests/callbacks/test_lifetimes.py; here the wiring:
    asyncio tasks and Deferreds are cancelled.)"""
    finished: list[bytes] = []
    started: list[bytes] = []
    both_started = asyncio.get_running_loop().create_future()
    gates = [runtime.gate(), runtime.gate()]  # (one each: a Deferred has one result)

    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            gate = gates[len(started)]
            started.append(payload)
            if len(started) == 2:
                both_started.set_result(None)
            await gate.waiter
            finished.append(payload)

    factory = runtime.server_factory(Server, messageConcurrency=4)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        await runtime.wait(client.opened)
        server = await runtime.wait(servers.get())
        client.sendMessage(b"a")
        client.sendMessage(b"b")
        await runtime.wait(both_started)
        client.sendClose(1000)
        assert await runtime.wait(server.closed) == (True, 1000, None)
        for gate in gates:
            gate.open()  # a handler that was not cancelled would finish now
        for _ in range(3):
            await asyncio.sleep(0)
    assert finished == []
    assert errors == []


@pytest.mark.asyncio_task
async def test_a_saturated_connection_starts_no_handler_while_closing(
    runtime: RuntimeHarness,
) -> None:
    """At the bound, with more messages queued, the connection is lost: the
    running handlers are cancelled and none of the queued ones starts (a
    Deferred's cancel settles at once; that must not resume delivery)."""
    started: list[bytes] = []
    cancelled: list[bytes] = []

    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            started.append(payload)
            try:
                await runtime.gate().waiter
            except BaseException:
                cancelled.append(payload)
                raise

    factory = runtime.server_factory(Server, messageConcurrency=2)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder), port)
        await runtime.wait(client.opened)
        server = await runtime.wait(servers.get())
        for n in range(5):
            client.sendMessage(b"%d" % n)
        for _ in range(100):  # (bounded) until the bound is reached
            if len(started) == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert started == [b"0", b"1"]  # saturated: the rest wait unread
        server.dropConnection(abort=True)
        await runtime.wait(server.closed)
        for _ in range(5):
            await asyncio.sleep(0.01)
    assert started == [b"0", b"1"]
    assert sorted(cancelled) == [b"0", b"1"]
    assert errors == []


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_message_concurrency_is_validated(value: object) -> None:
    from wsproto_cb.asyncio import WebSocketServerFactory

    factory = WebSocketServerFactory()
    with pytest.raises((TypeError, ValueError), match="messageConcurrency"):
        factory.setProtocolOptions(messageConcurrency=value)
    assert factory.messageConcurrency == 1
