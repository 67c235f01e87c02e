"""wsproto_cb against Autobahn|Python (asyncio and Twisted flavours), both roles.

Autobahn runs in a peer process (``autobahn_peer.py``); our side runs here
on either runtime behind a wire tap.  Each test: open with or without
permessage-deflate, echo :data:`~interop.peers.MESSAGES` (text, binary,
empty, 1 MB), check what crossed the wire, then close from one side with an
application close code and check both sides saw it.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from wsproto_cb.compress import PerMessageDeflateOffer

from .conftest import AutobahnPeer
from .peers import (
    MESSAGE_SPECS,
    MESSAGES,
    TRICKY,
    TRICKY_SPECS,
    OurClient,
    Ours,
    assert_compatible,
    assert_wire,
    autobahn_view,
    codec_of,
    compressed,
    our_view,
    strict_accept,
)

_tags = itertools.count()


def new_tag(name: str) -> str:
    return f"{name}{next(_tags)}"


@pytest.mark.parametrize("closer", ["autobahn", "ours"])
@pytest.mark.parametrize("compress", [True, False], ids=["deflate", "plain"])
@pytest.mark.asyncio_task
async def test_our_server_autobahn_client(
    ours: Ours, autobahn: AutobahnPeer, compress: bool, closer: str
) -> None:
    factory, tap = await ours.server(compress=True)  # the client's offer decides
    tag = new_tag("c")
    messages: list[dict[str, Any]] = list(MESSAGE_SPECS)
    if closer == "ours":
        messages.append({"text": "close:4002:ours bye", "echo": False})
    autobahn.send(
        {
            "cmd": "connect",
            "tag": tag,
            "port": tap.port,
            "compress": compress,
            "messages": messages,
            "close": [4001, "autobahn bye"] if closer == "autobahn" else None,
        }
    )
    server = await ours.runtime.wait(factory.opened.get())
    assert compressed(server) is compress
    opened = await autobahn.wait(tag=tag, event="open")
    assert bool(opened["extensions"]) is compress
    if compress:
        (ext,) = opened["extensions"]
        codec = server.websocket_extensions_in_use[0]
        assert ext["client_max_window_bits"] == codec.client_max_window_bits
        assert ext["server_max_window_bits"] == codec.server_max_window_bits

    closed = await autobahn.wait(tag=tag, event="close")
    echoes = [e for e in autobahn.tagged(tag) if e["event"] == "echo"]
    assert [(e["ok"], e["size"], e["binary"]) for e in echoes] == [
        (True, len(payload), binary) for payload, binary in MESSAGES
    ]
    was_clean, code, reason = await ours.runtime.wait(factory.closed.get())
    assert closed["wasClean"] and was_clean, closed["notClean"]
    if closer == "autobahn":
        assert (code, reason) == (4001, "autobahn bye")
    else:
        assert (closed["code"], closed["reason"]) == (4002, "ours bye")
    assert_wire(tap, compress)


@pytest.mark.parametrize("closer", ["autobahn", "ours"])
@pytest.mark.parametrize("compress", [True, False], ids=["deflate", "plain"])
@pytest.mark.asyncio_task
async def test_our_client_autobahn_server(
    ours: Ours, autobahn: AutobahnPeer, compress: bool, closer: str
) -> None:
    tag = new_tag("s")
    client, tap = await ours.client(autobahn.port, compress, url=f"ws://127.0.0.1/{tag}")
    assert compressed(client) is compress
    opened = await autobahn.wait(tag=tag, event="open", role="server")
    assert bool(opened["extensions"]) is compress
    await ours.echo_all(client)
    if closer == "ours":
        client.sendClose(4003, "ours bye")
    else:
        client.sendMessage(b"close:4004:autobahn bye")
    was_clean, code, reason = await ours.runtime.wait(client.closed)
    closed = await autobahn.wait(tag=tag, event="close", role="server")
    assert was_clean and closed["wasClean"], closed["notClean"]
    if closer == "ours":
        assert (closed["code"], closed["reason"]) == (4003, "ours bye")
    else:
        assert (code, reason) == (4004, "autobahn bye")
    assert_wire(tap, compress)


@pytest.mark.asyncio_task
async def test_subprotocol_with_autobahn_client(ours: Ours, autobahn: AutobahnPeer) -> None:
    factory, tap = await ours.server(compress=False, protocols=["v2", "v1"])
    tag = new_tag("p")
    autobahn.send(
        {
            "cmd": "connect",
            "tag": tag,
            "port": tap.port,
            "compress": False,
            "protocols": ["v1", "v2"],
            "messages": [{"text": "hi"}],
            "close": [1000, ""],
        }
    )
    server = await ours.runtime.wait(factory.opened.get())
    opened = await autobahn.wait(tag=tag, event="open")
    assert server.websocket_protocol_in_use == opened["protocol"] == "v2"
    closed = await autobahn.wait(tag=tag, event="close")
    assert closed["wasClean"], closed["notClean"]


# -- negotiation with Autobahn's own parameter handling ------------------------------------

AUTOBAHN_OFFERS = {
    "default": {},
    "no-context-takeover": {"request_no_context_takeover": True},
    "server-bits-10": {"request_max_window_bits": 10},
    "no-client-bits": {"accept_max_window_bits": False, "accept_no_context_takeover": False},
}


@pytest.mark.parametrize("accept", ["default", "strict"])
@pytest.mark.parametrize("offer", list(AUTOBAHN_OFFERS))
@pytest.mark.asyncio_task
async def test_autobahn_client_offers(
    ours: Ours, autobahn: AutobahnPeer, offer: str, accept: str
) -> None:
    factory, tap = await ours.server(compress=True)
    if accept == "strict":
        factory.setProtocolOptions(perMessageCompressionAccept=strict_accept)
    tag = new_tag("o")
    autobahn.send(
        {
            "cmd": "connect",
            "tag": tag,
            "port": tap.port,
            "compress": True,
            "offer": AUTOBAHN_OFFERS[offer],
            "messages": TRICKY_SPECS,
            "close": [1000, ""],
        }
    )
    server = await ours.runtime.wait(factory.opened.get())
    (ext,) = (await autobahn.wait(tag=tag, event="open"))["extensions"]
    assert_compatible(our_view(codec_of(server)), autobahn_view(ext))
    closed = await autobahn.wait(tag=tag, event="close")
    assert closed["wasClean"], closed["notClean"]  # (Autobahn's wasNotCleanReason)
    echoes = [e for e in autobahn.tagged(tag) if e["event"] == "echo"]
    assert [e["ok"] for e in echoes] == [True] * len(TRICKY)
    assert all(f.rsv1 for f in tap.to_server.data_frames() + tap.to_client.data_frames())


OUR_OFFERS = {
    "default": [PerMessageDeflateOffer()],
    "takeover-and-bits": [
        PerMessageDeflateOffer(
            accept_no_context_takeover=False,
            request_max_window_bits=12,
            client_max_window_bits_hint=12,
        )
    ],
    "no-context-takeover": [PerMessageDeflateOffer(request_no_context_takeover=True)],
}


@pytest.mark.parametrize("server", ["default", "strict"])
@pytest.mark.parametrize("offer", list(OUR_OFFERS))
@pytest.mark.asyncio_task
async def test_autobahn_server_answers(
    ours: Ours, autobahn: AutobahnPeer, offer: str, server: str
) -> None:
    tag = new_tag("a")
    factory = ours.runtime.client_factory(
        OurClient, url=f"ws://127.0.0.1/{tag}", perMessageCompressionOffers=OUR_OFFERS[offer]
    )
    tap = await ours.tap(autobahn.strict_port if server == "strict" else autobahn.port)
    client = await ours.runtime.connect(factory, tap.port)
    await ours.runtime.wait(client.opened)
    (ext,) = (await autobahn.wait(tag=tag, event="open", role="server"))["extensions"]
    assert_compatible(our_view(codec_of(client)), autobahn_view(ext))
    for payload, binary in TRICKY:
        client.sendMessage(payload, binary)
        assert await ours.runtime.wait(client.messages.get()) == (payload, binary)
    client.sendClose(1000)
    assert (await ours.runtime.wait(client.closed))[0] is True
    assert all(f.rsv1 for f in tap.to_server.data_frames() + tap.to_client.data_frames())
