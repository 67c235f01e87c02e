"""The client agent on both runtimes: open(url, options) gives an open protocol
that is used through on("message"), is_open, is_closed and sendClose."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.types import ConnectionDeny

from .harness import Echo, Recorder, RuntimeHarness, track_opened


def open_agent(runtime: RuntimeHarness, url: str, options: Any) -> Any:
    if runtime.client_name == "asyncio":
        from wsproto_cb.asyncio.agent import create_client_agent

        return create_client_agent().open(url, options)
    from twisted.internet import reactor

    from wsproto_cb.twisted.agent import create_client_agent as create_twisted_agent

    return create_twisted_agent(reactor).open(url, options)


class Server(Echo, Recorder):
    def onConnect(self, request: Any) -> Any:
        self.request = request
        if request.headers.get("x-token") != "s3cret":
            raise ConnectionDeny(403, "Forbidden")
        return "chat.v2"


@pytest.mark.asyncio_task
async def test_open_send_receive_close(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Server, protocols=["chat.v2"])
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    options = {
        "headers": {"X-Token": "s3cret"},
        "origin": "https://app.example",
        "protocols": ["chat.v1", "chat.v2"],
    }
    proto = await runtime.wait(open_agent(runtime, f"ws://127.0.0.1:{port}/", options))
    server = await runtime.wait(servers.get())
    assert server.request.origin == "https://app.example"
    assert proto.websocket_protocol_in_use == "chat.v2"
    await runtime.wait(proto.is_open)  # already done

    messages: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
    proto.on("message", lambda payload, is_binary: messages.put_nowait((payload, is_binary)))
    proto.sendMessage(b"agent says hi")
    assert await runtime.wait(messages.get()) == (b"agent says hi", False)

    proto.sendClose(code=1000, reason="done")
    await runtime.wait(proto.is_closed)
    assert await runtime.wait(server.closed) == (True, 1000, "done")


@pytest.mark.asyncio_task
async def test_refused_opening_fails_the_open(runtime: RuntimeHarness) -> None:
    port = await runtime.listen(runtime.server_factory(Server, protocols=["chat.v2"]))
    with pytest.raises(ConnectionError, match="403"):
        await runtime.wait(open_agent(runtime, f"ws://127.0.0.1:{port}/", {}))


@pytest.mark.asyncio_task
async def test_bad_options_are_refused(runtime: RuntimeHarness) -> None:
    with pytest.raises(ValueError, match="unknown agent option"):
        await runtime.wait(open_agent(runtime, "ws://127.0.0.1:9/", {"hedaers": {}}))
    with pytest.raises(ValueError, match="ws:// or wss://"):
        await runtime.wait(open_agent(runtime, "http://127.0.0.1:9/", {}))
