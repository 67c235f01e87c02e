"""websocket-client (synchronous, run in a worker thread) against our server.

websocket-client does not implement permessage-deflate: its requests
offer no extension, and our compressing server must then not compress.
"""

from __future__ import annotations

import asyncio
import struct

import pytest
import websocket

from .peers import MESSAGES, Ours, assert_wire, compressed


def run_client(url: str, closer: str) -> tuple[list[tuple[bytes, bool]], int, bytes]:
    """Echo every message, then close; returns echoes and the close frame seen."""
    ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
    try:
        echoes = []
        for payload, binary in MESSAGES:
            if binary:
                ws.send_bytes(payload)
            else:
                ws.send_text(payload.decode())
            opcode, data = ws.recv_data()
            echoes.append((data, opcode == websocket.ABNF.OPCODE_BINARY))
        if closer == "websocket-client":
            ws.close(status=4001, reason=b"wsclient bye", timeout=5)
            return echoes, 0, b""
        ws.send_text("close:4002:ours bye")
        opcode, data = ws.recv_data(control_frame=True)  # answers the close itself
        return echoes, opcode, data
    finally:
        ws.shutdown()


@pytest.mark.parametrize("closer", ["websocket-client", "ours"])
@pytest.mark.asyncio_task
async def test_our_server_websocket_client(ours: Ours, closer: str) -> None:
    factory, tap = await ours.server(compress=True)
    run = asyncio.to_thread(run_client, f"ws://127.0.0.1:{tap.port}/", closer)
    echoes, opcode, data = await ours.runtime.wait(run)
    server = await ours.runtime.wait(factory.opened.get())
    assert not compressed(server)
    assert echoes == MESSAGES
    was_clean, code, reason = await ours.runtime.wait(factory.closed.get())
    assert was_clean
    if closer == "websocket-client":
        assert (code, reason) == (4001, "wsclient bye")
    else:
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert struct.unpack("!H", data[:2])[0] == 4002 and data[2:] == b"ours bye"
    assert_wire(tap, False)
