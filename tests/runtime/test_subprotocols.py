"""Subprotocol negotiation (``Sec-WebSocket-Protocol``) over real sockets.

Server: the factory's ``protocols`` list picks the first of *its* names the
client offered; ``onConnect`` may pick instead (a name, ``(name, headers)``,
a :class:`ConnectionAccept`, or any of them from an awaitable); picking a
name the client did not offer is a programming error answered with 500 and
logged.  Client: a server answer naming a subprotocol that was not offered
fails the handshake, with the reason in ``onClose``.  Names are
case-sensitive tokens, as browsers compare them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.asyncio import ConnectionAccept

from .harness import Echo, Recorder, RuntimeHarness, captured_errors, track_opened

try:  # tests/ is on sys.path when pytest runs (see tests/interop/conftest.py)
    from interop.raw import raw_client, raw_server, upgrade_headers
except ModuleNotFoundError:  # pragma: no cover
    from tests.interop.raw import raw_client, raw_server, upgrade_headers


class Server(Echo, Recorder):
    """Echo server that records ``onConnect``'s request and answers with
    ``factory.answer(request)`` (default: leave the choice to the factory)."""

    def onConnect(self, request: Any) -> Any:
        self.factory.requests.append(request)
        answer = getattr(self.factory, "answer", None)
        # (no answer: the default onConnect picks from the factory's protocols)
        return answer(request) if answer is not None else super().onConnect(request)


class Client(Recorder):
    def onConnect(self, response: Any) -> None:
        self.response = response


async def serve(runtime: RuntimeHarness, protocols: list[str] | None, answer: Any = None) -> Any:
    factory = runtime.server_factory(Server, protocols=protocols)
    factory.requests = []
    factory.answer = answer
    track_opened(factory)
    factory.port = await runtime.listen(factory)
    return factory


async def open_client(runtime: RuntimeHarness, port: int, protocols: list[str] | None) -> Any:
    client = await runtime.connect(runtime.client_factory(Client, protocols=protocols), port)
    await runtime.wait(client.opened)
    return client


async def echo_once(runtime: RuntimeHarness, client: Any) -> None:
    client.sendMessage(b"ping")
    assert await runtime.wait(client.messages.get()) == (b"ping", False)
    client.sendClose(1000)
    assert (await runtime.wait(client.closed))[0] is True


# -- the server chooses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server_list", "offered", "chosen"),
    [
        (["b", "c", "a"], ["a", "b", "c"], "b"),  # the server's preference wins
        (["chat.v2", "chat.v1"], ["chat.v1"], "chat.v1"),
        (["x"], ["a", "b"], None),  # no overlap: accepted, no subprotocol
        (["a"], None, None),  # nothing offered, nothing answered
        (None, ["a"], None),  # the server speaks none
        (["B"], ["b"], None),  # names are case-sensitive
    ],
)
@pytest.mark.asyncio_task
async def test_factory_protocols_pick(
    runtime_pair: RuntimeHarness,
    server_list: list[str] | None,
    offered: list[str] | None,
    chosen: str | None,
) -> None:
    runtime = runtime_pair
    factory = await serve(runtime, server_list)
    client = await open_client(runtime, factory.port, offered)
    server = await runtime.wait(factory.opened.get())
    (request,) = factory.requests
    assert request.protocols == (offered or [])
    assert server.websocket_protocol_in_use == chosen
    assert client.websocket_protocol_in_use == chosen
    assert client.response.protocol == chosen
    assert ("sec-websocket-protocol" in client.http_headers) is (chosen is not None)
    await echo_once(runtime, client)


async def _async_choice(request: Any) -> str:
    await asyncio.sleep(0)
    return "a"


def _deferred_choice(request: Any) -> Any:
    from twisted.internet.defer import succeed

    return succeed(("a", {"X-Chosen-By": "deferred"}))


@pytest.mark.parametrize(
    ("answer", "header"),
    [
        (lambda request: "a", None),
        (lambda request: ("a", {"X-Chosen-By": "tuple"}), "tuple"),
        (lambda request: ConnectionAccept("a", {"X-Chosen-By": "accept"}), "accept"),
        (lambda request: _async_choice(request), None),
    ],
    ids=["name", "tuple", "ConnectionAccept", "coroutine"],
)
@pytest.mark.asyncio_task
async def test_on_connect_picks(runtime: RuntimeHarness, answer: Any, header: str | None) -> None:
    # "b" would be the factory's pick; onConnect overrides it.
    factory = await serve(runtime, ["b"], answer)
    client = await open_client(runtime, factory.port, ["a", "b"])
    server = await runtime.wait(factory.opened.get())
    assert server.websocket_protocol_in_use == "a"
    assert client.websocket_protocol_in_use == "a"
    assert client.http_headers.get("x-chosen-by") == header
    await echo_once(runtime, client)


@pytest.mark.asyncio_task
async def test_on_connect_picks_through_a_deferred_on_twisted() -> None:
    runtime = RuntimeHarness("twisted")
    try:
        factory = await serve(runtime, ["b"], _deferred_choice)
        client = await open_client(runtime, factory.port, ["a", "b"])
        assert client.websocket_protocol_in_use == "a"
        assert client.http_headers.get("x-chosen-by") == "deferred"
        await echo_once(runtime, client)
    finally:
        await runtime.close()


@pytest.mark.asyncio_task
async def test_on_connect_picking_an_unoffered_name_is_a_500(runtime: RuntimeHarness) -> None:
    factory = await serve(runtime, ["a"], lambda request: "z")
    with captured_errors() as errors:
        client = await runtime.connect(
            runtime.client_factory(Client, protocols=["a"]), port=factory.port
        )
        was_clean, code, reason = await runtime.wait(client.closed)
        # the same through a raw client: the status line is 500, nothing says 101
        peer = await raw_client(factory.port, [("Sec-WebSocket-Protocol", "a")])
        assert peer.response.status == 500
        assert not peer.response.header("Sec-WebSocket-Accept")
        assert not peer.response.header("Sec-WebSocket-Protocol")
        assert b"500" in await peer.read_eof()  # the body, then the server closes
        peer.close()
    assert (was_clean, code) == (False, 1006)
    assert reason is not None and "500" in reason
    assert client.handshake_error is not None and client.handshake_error.status == 500
    assert not client.opened.done()
    assert factory.opened.empty()
    assert len(errors) == 2, errors
    for error in errors:
        assert "onConnect" in error.message
        assert "'z'" in str(error.exc) and "offer" in str(error.exc)


# -- the client checks the answer -------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "answered", "why"),
    [
        (["a"], "evil", "not offered"),
        (None, "a", "none was offered"),
        (["a", "b"], "a, b", "more than one"),
        (["a"], "A", "not offered"),  # case-sensitive
    ],
)
@pytest.mark.asyncio_task
async def test_client_refuses_a_subprotocol_it_did_not_offer(
    runtime: RuntimeHarness, offered: list[str] | None, answered: str, why: str
) -> None:
    server = await raw_server(
        lambda key, headers: [*upgrade_headers(key), ("Sec-WebSocket-Protocol", answered)]
    )
    try:
        client = await runtime.connect(
            runtime.client_factory(Client, protocols=offered), server.port
        )
        was_clean, code, reason = await runtime.wait(client.closed)
    finally:
        server.close()
    assert (was_clean, code) == (False, 1006)
    assert reason is not None and "subprotocol" in reason and why in reason
    assert client.handshake_error is not None
    assert not client.opened.done()
    assert client.websocket_protocol_in_use is None
    (request,) = server.requests
    sent = [v for k, v in request if k.lower() == "sec-websocket-protocol"]
    assert sent == ([", ".join(offered)] if offered else [])


@pytest.mark.asyncio_task
async def test_on_connecting_may_change_the_offer(runtime_pair: RuntimeHarness) -> None:
    from wsproto_cb.types import ConnectingRequest

    runtime = runtime_pair
    factory = await serve(runtime, ["b", "c"])

    class Changing(Client):
        def onConnecting(self, transport_details: Any) -> Any:
            return ConnectingRequest(
                host="127.0.0.1", port=factory.port, resource="/", protocols=["c"]
            )

    client = await runtime.connect(runtime.client_factory(Changing, protocols=["b"]), factory.port)
    await runtime.wait(client.opened)
    assert factory.requests[0].protocols == ["c"]
    assert client.websocket_protocol_in_use == "c"
    await echo_once(runtime, client)


# -- header parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "server_list", "offered", "chosen"),
    [
        # one list split over two header lines, odd spacing, mixed-case names
        (
            [("Sec-WebSocket-Protocol", "a ,  b"), ("sec-websocket-PROTOCOL", "c\t,d ")],
            ["d", "c"],
            ["a", "b", "c", "d"],
            "d",
        ),
        ([("SEC-WEBSOCKET-PROTOCOL", " ,a,, b ,")], ["b"], ["a", "b"], "b"),  # empty elements
        ([("Sec-WebSocket-Protocol", "Chat, chat")], ["chat"], ["Chat", "chat"], "chat"),
        ([("Sec-WebSocket-Protocol", "a"), ("Sec-WebSocket-Protocol", "a")], ["a"], ["a"], "a"),
    ],
    ids=["two-lines", "empty-elements", "case", "repeated"],
)
@pytest.mark.asyncio_task
async def test_request_header_parsing(
    runtime: RuntimeHarness,
    lines: list[tuple[str, str]],
    server_list: list[str],
    offered: list[str],
    chosen: str,
) -> None:
    factory = await serve(runtime, server_list)
    peer = await raw_client(factory.port, lines)
    try:
        assert peer.response.status == 101
        assert peer.response.header("Sec-WebSocket-Protocol") == [chosen]
        (request,) = factory.requests
        assert request.protocols == offered
        server = await runtime.wait(factory.opened.get())
        assert server.websocket_protocol_in_use == chosen
    finally:
        peer.close()


@pytest.mark.parametrize("value", ["a b", "a;b", "(a)", 'a, "b"', "a/1"])
@pytest.mark.asyncio_task
async def test_non_token_subprotocol_is_a_400(runtime: RuntimeHarness, value: str) -> None:
    factory = await serve(runtime, ["a"])
    peer = await raw_client(factory.port, [("Sec-WebSocket-Protocol", value)])
    try:
        assert peer.response.status == 400
        assert factory.requests == []  # onConnect never saw it
    finally:
        peer.close()
