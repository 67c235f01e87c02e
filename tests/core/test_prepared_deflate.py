"""Shared compressed broadcast frames (``PreparedMessage.frame_for``), bytes level.

A server that compresses without context takeover turns a message into
bytes that depend only on its compressor settings, so one compressed frame
serves every such connection with the same settings.  These tests pin that
the shared frame is exactly what the connection's own send would produce,
that it is built once per settings key, that a normal receiver (ours and
the ``websockets`` library's) decodes it, and who must not get one.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wsproto_cb.core.connection import Connection
from wsproto_cb.core.deflate import (
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    accept_deflate_offer,
    accept_deflate_response,
    negotiate_client,
    negotiate_server,
)
from wsproto_cb.core.events import MessageData
from wsproto_cb.core.frames import build_frame
from wsproto_cb.prepared import PreparedMessage

Params = list[tuple[str, str | None]]
Accept = Callable[[list[PerMessageDeflateOffer]], PerMessageDeflateOfferAccept | None]

JSON = json.dumps(
    {
        "type": "quote",
        "items": [{"symbol": f"SYM{i}", "bid": 100 + i, "ask": 101 + i} for i in range(20)],
    }
).encode()

random.seed(7692)
MESSAGES = [
    b"",
    b"x",
    b"Hello",
    JSON,
    b'{"user": "alice", "text": "hello there"}' * 40,  # repeats 40 bytes apart
    bytes(random.getrandbits(8) for _ in range(3000)),  # incompressible
    b"a" * 70_000,  # compressed payload still over 125 bytes: 16-bit length
    random.randbytes(70_000),  # compressed payload over 65535: 64-bit length
]

NCT: Params = [("server_no_context_takeover", None), ("client_max_window_bits", None)]


def accept_with(
    window_bits: int | None = None, mem_level: int | None = None, **kwargs: Any
) -> Accept:
    def accept(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept:
        return PerMessageDeflateOfferAccept(
            offers[0], window_bits=window_bits, mem_level=mem_level, **kwargs
        )

    return accept


def negotiated(
    params: Params, accept: Accept = accept_deflate_offer
) -> tuple[Connection, Connection]:
    """(server, client) connections as the handshake would set them up."""
    server_codec, response = negotiate_server([("permessage-deflate", params)], accept)
    assert server_codec is not None and response is not None
    response_params = [
        (key.strip(), value or None)
        for key, _, value in (p.partition("=") for p in response.split(";")[1:])
    ]
    offer = PerMessageDeflateOffer.parse(params)
    client_codec = negotiate_client(
        [("permessage-deflate", response_params)], [offer], accept_deflate_response
    )
    assert client_codec is not None
    return Connection(True, codec=server_codec), Connection(False, codec=client_codec)


def received(client: Connection, wire: bytes) -> list[tuple[bytes, bool]]:
    """Whole messages the client decodes from ``wire``."""
    client.receive_data(wire)
    messages: list[tuple[bytes, bool]] = []
    parts: list[bytes] = []
    for event in client.events():
        assert isinstance(event, MessageData), event
        parts.append(event.data)
        if event.message_end:
            messages.append((b"".join(parts), event.is_binary))
            parts = []
    return messages


@pytest.fixture
def compressions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts zlib compressors the codec module creates (one per compression)."""
    created: list[int] = []
    real = zlib.compressobj

    def counting(*args: Any, **kwargs: Any) -> Any:
        created.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counting)  # the codec module's zlib
    yield created


# -- what the shared frame is -------------------------------------------------------


@pytest.mark.parametrize("bits", [8, 9, 10, 12, 15])
@pytest.mark.parametrize("mem_level", [1, 5, 8, 9])
def test_shared_frame_is_what_the_connection_would_send(bits: int, mem_level: int) -> None:
    accept = accept_with(window_bits=bits, mem_level=mem_level)
    for message in MESSAGES:
        for binary in (False, True):
            server, _ = negotiated(NCT, accept)
            frame = PreparedMessage(message, binary).frame_for(server)
            assert frame is not None
            assert frame == server.send_message(message, binary)
            assert frame[0] == (0xC2 if binary else 0xC1)  # FIN, RSV1, opcode


def test_shared_frame_matches_a_fresh_codec_and_rfc7692_hello() -> None:
    server, _ = negotiated(NCT, accept_with(window_bits=15, mem_level=8))
    frame = PreparedMessage(b"Hello").frame_for(server)
    # RFC 7692 7.2.3.1: "Hello" compressed, tail 00 00 ff ff removed
    assert frame == bytes.fromhex("c107f248cdc9c90700")
    codec = PerMessageDeflate(True, True, False, 15, 15, 8)
    codec.start_compress_message()
    payload = codec.compress_message_data(JSON) + codec.end_compress_message()
    assert PreparedMessage(JSON).frame_for(server) == build_frame(0x1, payload, rsv=0x4)


def test_empty_message_is_one_empty_stored_block() -> None:
    server, client = negotiated(NCT)
    frame = PreparedMessage(b"").frame_for(server)
    assert frame == b"\xc1\x01\x00"  # RFC 7692 7.2.3.6
    assert received(client, frame) == [(b"", False)]


def test_compress_whole_message_leaves_the_codec_alone() -> None:
    codec = PerMessageDeflate(True, False, False, 12, 12, 5)  # context takeover
    codec.start_compress_message()
    first = codec.compress_message_data(JSON) + codec.end_compress_message()
    nct = PerMessageDeflate(True, True, False, 12, 12, 5)
    assert codec.compress_whole_message(JSON) == nct.compress_whole_message(JSON) == first
    codec.start_compress_message()
    second = codec.compress_message_data(JSON) + codec.end_compress_message()
    assert len(second) < len(first) / 4  # its history was not reset by the call


# -- decoding by normal receivers ---------------------------------------------------


@pytest.mark.parametrize("client_nct", [False, True])
@pytest.mark.parametrize("bits", [8, 9, 12, 15])
def test_our_client_decodes_shared_frames(bits: int, client_nct: bool) -> None:
    params: Params = [("server_no_context_takeover", None), ("server_max_window_bits", str(bits))]
    if not client_nct:
        params.append(("client_max_window_bits", None))
    server, client = negotiated(
        params, accept_with(request_no_context_takeover=client_nct, mem_level=5)
    )
    for message in MESSAGES:
        frame = PreparedMessage(message, isBinary=True).frame_for(server)
        assert frame is not None and frame[0] & 0x40
        assert received(client, frame) == [(message, True)]
        # the connection's own sends still decode after the shared frames
        own = server.send_message(message[::-1], is_binary=True)
        assert received(client, own) == [(message[::-1], True)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"server_no_context_takeover": True},
        {"server_no_context_takeover": True, "server_max_window_bits": 8},
        {"server_no_context_takeover": True, "server_max_window_bits": 10},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
    ],
)
def test_websockets_decodes_shared_frames(kwargs: dict[str, Any]) -> None:
    pmd = pytest.importorskip("websockets.extensions.permessage_deflate")
    frames = pytest.importorskip("websockets.frames")
    streams = pytest.importorskip("websockets.streams")
    factory = pmd.ClientPerMessageDeflateFactory(**kwargs)
    request = [(key, value) for key, value in factory.get_request_params()]
    server_codec, response = negotiate_server(
        [("permessage-deflate", request)], accept_deflate_offer
    )
    assert server_codec is not None and response is not None
    response_params = [
        (key.strip(), value or None)
        for key, _, value in (p.partition("=") for p in response.split(";")[1:])
    ]
    extension = factory.process_response_params(response_params, [])
    server = Connection(True, codec=server_codec)
    for message in MESSAGES:
        frame = PreparedMessage(message, isBinary=True).frame_for(server)
        assert frame is not None
        reader = streams.StreamReader()
        reader.feed_data(frame)
        parser = frames.Frame.parse(reader.read_exact, mask=False, extensions=[extension])
        with pytest.raises(StopIteration) as done:
            next(parser)
        decoded = done.value.value
        assert decoded.opcode == frames.Opcode.BINARY and not decoded.rsv1
        assert decoded.data == message


# -- built once per settings key ----------------------------------------------------


def test_one_compression_for_a_thousand_equal_connections(compressions: list[int]) -> None:
    servers = [negotiated(NCT)[0] for _ in range(1000)]
    del compressions[:]  # (none are made by the handshake; be sure)
    prepared = PreparedMessage(JSON)
    frames = [prepared.frame_for(server) for server in servers]
    assert len(compressions) == 1
    assert frames[0] is not None
    assert all(frame is frames[0] for frame in frames)  # the same bytes object
    assert frames[0] == servers[0].send_message(JSON)


def test_empty_message_needs_no_compressor(compressions: list[int]) -> None:
    servers = [negotiated(NCT)[0] for _ in range(3)]
    assert {PreparedMessage(b"").frame_for(server) for server in servers} == {b"\xc1\x01\x00"}
    assert compressions == []


def test_one_frame_per_distinct_settings(compressions: list[int]) -> None:
    settings = [(8, 5), (9, 5), (12, 5), (12, 9), (15, 5)]
    groups = {
        key: [
            negotiated(NCT, accept_with(window_bits=key[0], mem_level=key[1]))[0] for _ in range(5)
        ]
        for key in settings
    }
    # connections with equal server settings share, whatever the client side says
    for client_side in ({"request_max_window_bits": 9}, {"request_no_context_takeover": True}):
        accept = accept_with(window_bits=12, mem_level=5, **client_side)
        groups[(12, 5)].append(negotiated(NCT, accept)[0])
    # repeats 40, 700, 3000 and 10000 bytes apart: each window reaches further
    message = MESSAGES[4] + b"".join(random.randbytes(n) * 2 for n in (700, 3000, 10_000))
    prepared = PreparedMessage(message)
    by_settings: dict[tuple[int, int], bytes] = {}
    for key, servers in groups.items():
        shared = {prepared.frame_for(server) for server in servers}
        assert len(shared) == 1
        frame = shared.pop()
        assert frame is not None
        by_settings[key] = frame
    assert len(compressions) == len(settings)
    # different windows give different bytes (8 is Z_RLE on a 9-bit window)
    windows = [by_settings[(bits, 5)] for bits in (8, 9, 12, 15)]
    assert len(set(windows)) == 4
    assert [len(frame) for frame in windows] == sorted((len(f) for f in windows), reverse=True)
    for key, frame in by_settings.items():
        assert frame == groups[key][0].send_message(message)


def test_window_bits_change_the_bytes_of_long_range_repeats() -> None:
    message = random.randbytes(3000) * 3  # repeats 3000 bytes apart
    small = negotiated(NCT, accept_with(window_bits=10))[0]
    large = negotiated(NCT, accept_with(window_bits=15))[0]
    prepared = PreparedMessage(message)
    small_frame, large_frame = prepared.frame_for(small), prepared.frame_for(large)
    assert small_frame is not None and large_frame is not None
    assert len(large_frame) < len(small_frame) / 2  # only 2^15 reaches back 3000 bytes


# -- who gets no shared compressed frame --------------------------------------------


def test_context_takeover_connections_get_none(compressions: list[int]) -> None:
    takeover, _ = negotiated([("client_max_window_bits", None)])
    codec = takeover.codec
    assert isinstance(codec, PerMessageDeflate) and not codec.local_no_context_takeover
    assert codec.shared_frame_key is None
    prepared = PreparedMessage(JSON)
    assert prepared.frame_for(takeover) is None
    assert compressions == []
    # server context takeover while the client resets: still its own history
    only_client_nct, _ = negotiated(
        [("client_max_window_bits", None)], accept_with(request_no_context_takeover=True)
    )
    assert prepared.frame_for(only_client_nct) is None


def test_clients_get_none() -> None:
    _, client = negotiated(NCT, accept_with(request_no_context_takeover=True))
    codec = client.codec
    assert isinstance(codec, PerMessageDeflate) and codec.local_no_context_takeover
    assert PreparedMessage(JSON).frame_for(client) is None
    assert PreparedMessage(JSON, doNotCompress=True).frame_for(client) is None  # must mask
    assert PreparedMessage(JSON).frame_for(Connection(False)) is None


def test_masking_server_gets_none() -> None:
    server_codec = PerMessageDeflate(True, True, False, 12, 12, 5)
    server = Connection(True, codec=server_codec, mask_outgoing=True)
    assert PreparedMessage(JSON).frame_for(server) is None


def test_do_not_compress_shares_the_uncompressed_frame(compressions: list[int]) -> None:
    nct, nct_client = negotiated(NCT)
    takeover, takeover_client = negotiated([("client_max_window_bits", None)])
    plain = Connection(True)
    prepared = PreparedMessage(JSON, doNotCompress=True)
    frames = {id(prepared.frame_for(c)) for c in (nct, takeover, plain)}
    assert frames == {id(prepared.payloadHybi)}
    assert prepared.payloadHybi[0] == 0x81  # RSV1 clear
    assert compressions == []
    for server, client in ((nct, nct_client), (takeover, takeover_client)):
        assert received(client, prepared.payloadHybi) == [(JSON, False)]
        # the takeover connection's compressor did not see it: its next send decodes
        assert received(client, server.send_message(JSON)) == [(JSON, False)]


def test_uncompressed_connections_share_the_plain_frame() -> None:
    prepared = PreparedMessage(JSON)
    assert prepared.frame_for(Connection(True)) is prepared.payloadHybi


class _OtherCodec:
    """A codec that is not permessage-deflate: its output is unknown here."""

    def start_compress_message(self) -> None: ...
    def compress_message_data(self, data: bytes) -> bytes:
        return data

    def end_compress_message(self) -> bytes:
        return b""

    def start_decompress_message(self) -> None: ...
    def decompress_message_data(self, data: bytes, max_length: int) -> bytes:
        return data

    def end_decompress_message(self, max_length: int) -> bytes:
        return b""


def test_other_codecs_get_none() -> None:
    server = Connection(True, codec=_OtherCodec())
    assert PreparedMessage(JSON).frame_for(server) is None
    assert PreparedMessage(JSON, doNotCompress=True).frame_for(server) is not None


def test_shared_frame_key() -> None:
    a = PerMessageDeflate(True, True, False, 12, 15, 5)
    b = PerMessageDeflate(True, True, True, 12, 9, 5)  # client side differs: same key
    c = PerMessageDeflate(True, True, False, 13, 15, 5)
    d = PerMessageDeflate(True, True, False, 12, 15, 6)
    assert a.shared_frame_key == b.shared_frame_key is not None
    assert len({a.shared_frame_key, c.shared_frame_key, d.shared_frame_key}) == 3
    assert PerMessageDeflate(True, False, True, 12, 12, 5).shared_frame_key is None
    client = PerMessageDeflate(False, False, True, 15, 11, 5)  # key of the client's own side
    assert client.shared_frame_key == (PerMessageDeflate, 11, 5)


def test_server_may_choose_no_context_takeover_itself() -> None:
    """The accept documented for cheap compressed broadcasts works with any offer."""

    def accept(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept:
        return PerMessageDeflateOfferAccept(
            offers[0], no_context_takeover=True, window_bits=12, mem_level=5
        )

    server, client = negotiated([("client_max_window_bits", None)], accept)  # browser offer
    frame = PreparedMessage(JSON).frame_for(server)
    assert frame is not None and frame[0] == 0xC1
    assert received(client, frame) == [(JSON, False)]
