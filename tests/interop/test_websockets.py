"""wsproto_cb against the ``websockets`` library (its asyncio client and server).

``websockets`` runs in this process, on the loop both our runtimes share.
Its client compresses by default (``compression="deflate"``), so the
default case checks that permessage-deflate is negotiated with our server
and that both directions really compress.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.extensions.permessage_deflate import PerMessageDeflate as WsDeflate

from wsproto_cb.compress import PerMessageDeflateOffer

from .peers import (
    MESSAGES,
    TRICKY,
    OurClient,
    Ours,
    View,
    assert_compatible,
    assert_wire,
    codec_of,
    compressed,
    our_view,
    strict_accept,
)


def ws_options(compress: bool) -> dict[str, Any]:
    return {
        "compression": "deflate" if compress else None,
        "ping_interval": None,
        "open_timeout": 5,
        "close_timeout": 5,
    }


def payload_of(message: str | bytes) -> tuple[bytes, bool]:
    if isinstance(message, str):
        return message.encode(), False
    return message, True


@pytest.mark.parametrize("closer", ["websockets", "ours"])
@pytest.mark.parametrize("compress", [True, False], ids=["deflate", "plain"])
@pytest.mark.asyncio_task
async def test_our_server_websockets_client(ours: Ours, compress: bool, closer: str) -> None:
    factory, tap = await ours.server(compress=True)  # the client's offer decides
    async with connect(f"ws://127.0.0.1:{tap.port}/", proxy=None, **ws_options(compress)) as ws:
        server = await ours.runtime.wait(factory.opened.get())
        assert compressed(server) is compress
        assert [type(e) for e in ws.protocol.extensions] == ([WsDeflate] if compress else [])
        assert ("Sec-WebSocket-Extensions" in ws.response.headers) is compress
        for payload, binary in MESSAGES:
            await ws.send(payload if binary else payload.decode())
            assert payload_of(await asyncio.wait_for(ws.recv(), 10)) == (payload, binary)
        if closer == "websockets":
            await ws.close(4001, "websockets bye")
            was_clean, code, reason = await ours.runtime.wait(factory.closed.get())
            assert (was_clean, code, reason) == (True, 4001, "websockets bye")
        else:
            await ws.send("close:4002:ours bye")
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 10)
            assert info.value.rcvd is not None
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4002, "ours bye")
            assert (await ours.runtime.wait(factory.closed.get()))[0] is True
    assert_wire(tap, compress)


@pytest.mark.asyncio_task
async def test_websockets_client_window_bits(ours: Ours) -> None:
    """websockets offers ``client_max_window_bits``; our default accept answers 12."""
    factory, tap = await ours.server(compress=True)
    async with connect(f"ws://127.0.0.1:{tap.port}/", proxy=None, **ws_options(True)) as ws:
        server = await ours.runtime.wait(factory.opened.get())
        codec = server.websocket_extensions_in_use[0]
        (theirs,) = ws.protocol.extensions
        assert codec.client_max_window_bits == 12
        assert theirs.local_max_window_bits == 12  # the client compresses with 12 bits
        assert theirs.remote_max_window_bits == codec.server_max_window_bits
        await ws.send("x" * 100_000)
        assert await ws.recv() == "x" * 100_000
    assert all(f.rsv1 and f.length < 1000 for f in tap.to_server.data_frames())


async def ws_echo_server(closed: asyncio.Queue[tuple[int | None, str | None]]) -> Any:
    """A websockets server following the interop contract."""

    async def handler(ws: ServerConnection) -> None:
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith("close:"):
                    _, code, reason = message.split(":", 2)
                    await ws.close(int(code), reason)
                    break
                await ws.send(message)
        except ConnectionClosed:
            pass
        await ws.wait_closed()
        closed.put_nowait((ws.close_code, ws.close_reason))

    return handler


@pytest.mark.parametrize("closer", ["websockets", "ours"])
@pytest.mark.parametrize(
    ("offer", "accept"),
    [(True, True), (True, False), (False, True)],
    ids=["deflate", "declined", "not-offered"],
)
@pytest.mark.asyncio_task
async def test_our_client_websockets_server(
    ours: Ours, offer: bool, accept: bool, closer: str
) -> None:
    closed: asyncio.Queue[tuple[int | None, str | None]] = asyncio.Queue()
    async with serve(
        await ws_echo_server(closed),
        "127.0.0.1",
        0,
        ping_interval=None,
        compression="deflate" if accept else None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        client, tap = await ours.client(port, offer)
        assert compressed(client) is (offer and accept)
        await ours.echo_all(client)
        if closer == "ours":
            client.sendClose(4003, "ours bye")
            assert await ours.runtime.wait(closed.get()) == (4003, "ours bye")
            assert (await ours.runtime.wait(client.closed))[0] is True
        else:
            client.sendMessage(b"close:4004:websockets bye")
            assert await ours.runtime.wait(client.closed) == (True, 4004, "websockets bye")
    assert_wire(tap, offer and accept)


# -- negotiation with websockets' own parameter handling -------------------------------------


def ws_view(theirs: WsDeflate) -> View:
    return (
        theirs.remote_no_context_takeover,
        theirs.local_no_context_takeover,
        theirs.remote_max_window_bits,
        theirs.local_max_window_bits,
    )


CLIENT_CONFIGS = {
    "no-context-takeover": {"server_no_context_takeover": True, "client_no_context_takeover": True},
    "window-bits": {"server_max_window_bits": 10, "client_max_window_bits": 9},
    "no-client-bits": {"client_max_window_bits": None},
}


@pytest.mark.parametrize("accept", ["default", "strict"])
@pytest.mark.parametrize("config", list(CLIENT_CONFIGS))
@pytest.mark.asyncio_task
async def test_websockets_client_offers(ours: Ours, config: str, accept: str) -> None:
    factory, tap = await ours.server(compress=True)
    if accept == "strict":
        factory.setProtocolOptions(perMessageCompressionAccept=strict_accept)
    extension = ClientPerMessageDeflateFactory(**CLIENT_CONFIGS[config])  # type: ignore[arg-type]
    async with connect(
        f"ws://127.0.0.1:{tap.port}/",
        proxy=None,
        extensions=[extension],
        **{**ws_options(False), "compression": None},
    ) as ws:
        server = await ours.runtime.wait(factory.opened.get())
        (theirs,) = ws.protocol.extensions
        assert_compatible(our_view(codec_of(server)), ws_view(theirs))
        for payload, binary in TRICKY:
            await ws.send(payload if binary else payload.decode())
            assert payload_of(await asyncio.wait_for(ws.recv(), 10)) == (payload, binary)
    assert all(f.rsv1 for f in tap.to_server.data_frames() + tap.to_client.data_frames())


SERVER_CONFIGS = {
    "no-context-takeover": {"server_no_context_takeover": True, "client_no_context_takeover": True},
    "window-bits": {"server_max_window_bits": 10, "client_max_window_bits": 9},
    "require-client-bits": {"client_max_window_bits": 11, "require_client_max_window_bits": True},
}

OFFERS = {
    "default": [PerMessageDeflateOffer()],
    "takeover-and-bits": [
        PerMessageDeflateOffer(
            accept_no_context_takeover=False,
            request_max_window_bits=12,
            client_max_window_bits_hint=12,
        )
    ],
    # 8 bits: we compress with distance-1 matches only (see deflate_codec)
    "client-bits-8": [PerMessageDeflateOffer(client_max_window_bits_hint=8)],
    # websockets refuses server_max_window_bits=8 and must take the next offer
    "server-bits-8-then-default": [
        PerMessageDeflateOffer(request_max_window_bits=8),
        PerMessageDeflateOffer(),
    ],
}


@pytest.mark.parametrize("offer", list(OFFERS))
@pytest.mark.parametrize("config", list(SERVER_CONFIGS))
@pytest.mark.asyncio_task
async def test_websockets_server_answers(ours: Ours, config: str, offer: str) -> None:
    views: asyncio.Queue[View] = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        (theirs,) = ws.protocol.extensions
        views.put_nowait(ws_view(theirs))  # type: ignore[arg-type]
        async for message in ws:
            await ws.send(message)

    extension = ServerPerMessageDeflateFactory(**SERVER_CONFIGS[config])  # type: ignore[arg-type]
    async with serve(
        handler, "127.0.0.1", 0, ping_interval=None, compression=None, extensions=[extension]
    ) as server:
        factory = ours.runtime.client_factory(OurClient, perMessageCompressionOffers=OFFERS[offer])
        tap = await ours.tap(server.sockets[0].getsockname()[1])
        client = await ours.runtime.connect(factory, tap.port)
        await ours.runtime.wait(client.opened)
        theirs = await ours.runtime.wait(views.get())
        assert_compatible(our_view(codec_of(client)), theirs)
        for payload, binary in TRICKY:
            client.sendMessage(payload, binary)
            assert await ours.runtime.wait(client.messages.get()) == (payload, binary)
        client.sendClose(1000)
        assert (await ours.runtime.wait(client.closed))[0] is True
    assert all(f.rsv1 for f in tap.to_server.data_frames() + tap.to_client.data_frames())
