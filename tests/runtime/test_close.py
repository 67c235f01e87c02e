"""The closing handshake as both ends see it, and sending at the wrong time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from wsproto_cb.exceptions import Disconnected

from .harness import Recorder, RuntimeHarness, track_opened


async def open_pair(
    runtime: RuntimeHarness, server_options: dict[str, Any] | None = None, **client_options: Any
) -> tuple[Any, Any]:
    factory = runtime.server_factory(Recorder, **(server_options or {}))
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, **client_options), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    return server, client


@pytest.mark.asyncio_task
async def test_client_closes_with_code_and_reason(runtime_pair: RuntimeHarness) -> None:
    server, client = await open_pair(runtime_pair)
    client.sendClose(4001, "client is done ✓")
    assert client.state == client.STATE_CLOSING
    assert await runtime_pair.wait(server.closed) == (True, 4001, "client is done ✓")
    assert await runtime_pair.wait(client.closed) == (True, 1000, None)
    assert server.wasClean and client.wasClean
    assert server.state == server.STATE_CLOSED and client.state == client.STATE_CLOSED


@pytest.mark.asyncio_task
async def test_server_closes_with_code_and_reason(runtime_pair: RuntimeHarness) -> None:
    server, client = await open_pair(runtime_pair)
    server.sendClose(1001, "going away")
    assert await runtime_pair.wait(client.closed) == (True, 1001, "going away")
    assert await runtime_pair.wait(server.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_close_code_reason_echoed(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, echoCloseCodeReason=True)
    server.sendClose(3333, "echo me")
    assert await runtime.wait(client.closed) == (True, 3333, "echo me")
    assert await runtime.wait(server.closed) == (True, 3333, "echo me")


@pytest.mark.asyncio_task
@pytest.mark.parametrize("closer", ["client", "server"])
async def test_empty_close(runtime: RuntimeHarness, closer: str) -> None:
    server, client = await open_pair(runtime)
    (client if closer == "client" else server).sendClose()
    assert await runtime.wait(server.closed) == (True, None, None)
    assert await runtime.wait(client.closed) == (True, None, None)


@pytest.mark.asyncio_task
async def test_close_code_without_reason(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    client.sendClose(1000)
    assert await runtime.wait(server.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_bad_close_arguments_send_nothing(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    with pytest.raises(ValueError, match="999"):
        client.sendClose(999)
    with pytest.raises(ValueError):
        client.sendClose(None, "a reason needs a code")
    with pytest.raises(TypeError):
        client.sendClose("1000")  # type: ignore[arg-type]
    # nothing was sent: the connection is still open both ways
    assert client.state == client.STATE_OPEN
    client.sendMessage(b"still open")
    assert await runtime.wait(server.messages.get()) == (b"still open", False)
    server.sendMessage(b"me too")
    assert await runtime.wait(client.messages.get()) == (b"me too", False)
    client.sendClose(1000, "now")
    assert await runtime.wait(server.closed) == (True, 1000, "now")
    # bad arguments are still reported once closed
    with pytest.raises(ValueError):
        client.sendClose(999)


@pytest.mark.asyncio_task
async def test_sending_after_close_raises_disconnected(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    client.sendClose(1000)
    for send in (
        lambda: client.sendMessage(b"late"),
        lambda: client.sendPreparedMessage(server.factory.prepareMessage(b"late")),
    ):
        with pytest.raises(Disconnected):
            send()
    # (pings, pongs and streamed messages are dropped instead, as in Autobahn:
    # see test_autobahn_parity.py)
    client.sendClose(1000)  # a second close is a no-op
    await runtime.wait(client.closed)
    await runtime.wait(server.closed)
    for proto in (client, server):
        with pytest.raises(Disconnected):
            proto.sendMessage(b"after the end")
    assert server.messages.empty()  # nothing leaked out after the close frame


@pytest.mark.asyncio_task
async def test_is_closed_resolves(runtime_pair: RuntimeHarness) -> None:
    server, client = await open_pair(runtime_pair)
    for proto, name in ((server, runtime_pair.name), (client, runtime_pair.client_name)):
        if name == "asyncio":
            assert isinstance(proto.is_closed, asyncio.Future)
        else:
            assert isinstance(proto.is_closed, Deferred)
    server.sendClose(1000)
    assert await runtime_pair.wait(client.is_closed) is client
    assert await runtime_pair.wait(server.is_closed) is server


@pytest.mark.asyncio_task
async def test_drop_connection_is_unclean(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    client.dropConnection()
    was_clean, code, reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (False, 1006)
    assert "dropped by the application" in reason
    was_clean, code, reason = await runtime.wait(server.closed)
    assert (was_clean, code) == (False, 1006)
    assert "peer dropped the TCP connection" in reason
    assert client.droppedByMe and not server.droppedByMe


@pytest.mark.asyncio_task
async def test_close_during_handshake(runtime: RuntimeHarness) -> None:
    """sendClose before the handshake is done drops the TCP connection."""
    closed = asyncio.get_running_loop().create_future()

    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            self.sendClose(1000)

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            closed.set_result((wasClean, code))

    port = await runtime.listen(runtime.server_factory(Server))
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    assert await runtime.wait(closed) == (False, 1006)
    was_clean, code, _reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (False, 1006)
    assert not client.opened.done()
