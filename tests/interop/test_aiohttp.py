"""aiohttp's WebSocket client against our server (aiohttp runs on the shared loop)."""

from __future__ import annotations

import aiohttp
import pytest

from .peers import MESSAGES, Ours, assert_wire, compressed


@pytest.mark.parametrize("closer", ["aiohttp", "ours"])
@pytest.mark.parametrize("compress", [15, 10, 0], ids=["deflate", "deflate-bits10", "plain"])
@pytest.mark.asyncio_task
async def test_our_server_aiohttp_client(ours: Ours, compress: int, closer: str) -> None:
    factory, tap = await ours.server(compress=True)  # the client's offer decides
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            f"http://127.0.0.1:{tap.port}/", compress=compress, autoping=False, heartbeat=None
        ) as ws,
    ):
        server = await ours.runtime.wait(factory.opened.get())
        assert compressed(server) is bool(compress)
        assert bool(ws.compress) is bool(compress)
        if compress:
            codec = server.websocket_extensions_in_use[0]
            # aiohttp asks for server_max_window_bits=N below 15; our default
            # accept compresses with at most 12 bits
            assert codec.server_max_window_bits == min(compress, 12)
        for payload, binary in MESSAGES:
            if binary:
                await ws.send_bytes(payload)
            else:
                await ws.send_str(payload.decode())
            msg = await ws.receive(timeout=10)
            expected = aiohttp.WSMsgType.BINARY if binary else aiohttp.WSMsgType.TEXT
            assert msg.type == expected
            got = msg.data if binary else msg.data.encode()
            assert got == payload
        if closer == "aiohttp":
            await ws.close(code=4001, message=b"aiohttp bye")
            was_clean, code, reason = await ours.runtime.wait(factory.closed.get())
            assert (was_clean, code, reason) == (True, 4001, "aiohttp bye")
        else:
            await ws.send_str("close:4002:ours bye")
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert (msg.data, msg.extra) == (4002, "ours bye")
            assert ws.close_code == 4002
            assert (await ours.runtime.wait(factory.closed.get()))[0] is True
    assert_wire(tap, bool(compress))
