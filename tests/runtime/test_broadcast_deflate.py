"""Broadcast to permessage-deflate clients over real sockets, on both runtimes.

Clients that asked for ``server_no_context_takeover`` share one compressed
frame per distinct server setting; a client with context takeover gets its
own compression; a client without the extension shares the plain frame.
What each server connection wrote is recorded at the runtime's ``write`` so
"shared" is a fact about the bytes objects on the wire, and every client
must decode every message.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from wsproto_cb.compress import PerMessageDeflate, PerMessageDeflateOffer, accept_deflate_offer

from .harness import Recorder, RuntimeHarness, track_opened

NCT = PerMessageDeflateOffer(request_no_context_takeover=True)
NCT_WINDOW_10 = PerMessageDeflateOffer(request_no_context_takeover=True, request_max_window_bits=10)
TAKEOVER = PerMessageDeflateOffer()

JSON = json.dumps(
    [{"id": i, "user": f"user{i}", "text": "hello, world", "ok": True} for i in range(16)]
).encode()
# a repeat 3000 bytes apart: a 4 KiB window reaches it, a 1 KiB one does not
FAR_REPEAT = random.Random(6455).randbytes(3000) * 2
MESSAGES = [(JSON, False), (FAR_REPEAT, True), (b"", False), (b"tick " * 10, False)]


@pytest.mark.asyncio_task
async def test_broadcast_shares_compressed_frames(
    runtime: RuntimeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = runtime.server_factory(Recorder, perMessageCompressionAccept=accept_deflate_offer)
    opened = track_opened(factory)
    port = await runtime.listen(factory)
    offers: list[list[PerMessageDeflateOffer] | None] = [
        [NCT],
        [NCT],
        [NCT],
        [NCT_WINDOW_10],
        [TAKEOVER],
        None,
    ]
    clients = []
    servers = []
    for offer in offers:  # one at a time, so servers[i] talks to clients[i]
        options: dict[str, Any] = {} if offer is None else {"perMessageCompressionOffers": offer}
        client = await runtime.connect(runtime.client_factory(Recorder, **options), port)
        clients.append(client)
        servers.append(await runtime.wait(opened.get()))
        await runtime.wait(client.opened)

    codecs = [server._conn.codec for server in servers]
    assert all(isinstance(c, PerMessageDeflate) for c in codecs[:5]) and codecs[5] is None
    assert [c.local_no_context_takeover for c in codecs[:5]] == [True] * 4 + [False]
    assert [c.local_max_window_bits for c in codecs[:4]] == [12, 12, 12, 10]

    # what each server connection writes, and how often a shared frame is compressed
    written: dict[int, list[bytes]] = {id(server._rt): [] for server in servers}
    runtime_class = type(servers[0]._rt)
    real_write = runtime_class.write

    def recording_write(rt: Any, data: bytes) -> None:
        if id(rt) in written:
            written[id(rt)].append(data)
        real_write(rt, data)

    compressed: list[int] = []
    real_compress = PerMessageDeflate.compress_whole_message

    def counting_compress(codec: PerMessageDeflate, data: bytes) -> bytes:
        compressed.append(len(data))
        return real_compress(codec, data)

    monkeypatch.setattr(runtime_class, "write", recording_write)
    monkeypatch.setattr(PerMessageDeflate, "compress_whole_message", counting_compress)

    for payload, binary in MESSAGES:
        assert factory.broadcast(payload, binary) == len(servers)
    monkeypatch.undo()

    # two server settings among the no-context-takeover clients: two
    # compressions per message, not one per recipient
    assert compressed == [len(payload) for payload, _ in MESSAGES for _key in (12, 10)]
    frames = [written[id(server._rt)] for server in servers]
    assert all(len(f) == len(MESSAGES) for f in frames), [len(f) for f in frames]
    for i, (payload, _binary) in enumerate(MESSAGES):
        nct12, nct12b, nct12c, nct10, takeover, plain = (f[i] for f in frames)
        assert nct12b is nct12 and nct12c is nct12  # one bytes object for all three
        for frame in (nct12, nct10, takeover):
            assert frame[0] & 0x40  # RSV1: compressed
        assert not plain[0] & 0x40
        assert nct10 is not nct12
        if payload:
            assert len(nct12) < len(plain)
    far = MESSAGES.index((FAR_REPEAT, True))
    assert len(frames[0][far]) < len(frames[3][far]) - 2000  # the 4 KiB window reached back

    for client in clients:
        for message in MESSAGES:
            assert await runtime.wait(client.messages.get()) == message

    # the connections' own sends still work after shared frames
    for server in servers:
        server.sendMessage(JSON)
    for client in clients:
        assert await runtime.wait(client.messages.get()) == (JSON, False)
