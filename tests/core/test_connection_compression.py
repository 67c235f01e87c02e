"""Compression framing (RFC 7692 sections 6-7): RSV1 and which frames carry it.

The deflate codec itself is tested elsewhere.  Every test runs with a small
zlib codec implementing :class:`~wsproto_cb.core.connection.MessageCodec`
(so the connection's side is checked on its own) and with the project's
:class:`~wsproto_cb.core.deflate.PerMessageDeflate`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest

from wsproto_cb.core.connection import Connection, MessageCodec
from wsproto_cb.core.deflate import PerMessageDeflate
from wsproto_cb.core.errors import InvalidStateError
from wsproto_cb.core.events import ConnectionFailed, Event, MessageData
from wsproto_cb.core.frames import build_frame, parse_header

RFC_MASK = bytes.fromhex("37fa213d")
_TAIL = b"\x00\x00\xff\xff"


class ZlibCodec:
    """permessage-deflate with context takeover, no parameters (a test double)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(wbits=-15)
        self._decompressor = zlib.decompressobj(wbits=-15)

    def start_compress_message(self) -> None:
        pass

    def compress_message_data(self, data: bytes) -> bytes:
        return self._compressor.compress(data)

    def end_compress_message(self) -> bytes:
        out = self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if not out.endswith(_TAIL):  # pragma: no cover - zlib always ends so
            raise AssertionError("sync flush without its tail")
        return out[:-4]

    def start_decompress_message(self) -> None:
        pass

    def decompress_message_data(self, data: bytes, max_length: int) -> bytes:
        return self._decompressor.decompress(data)

    def end_decompress_message(self, max_length: int) -> bytes:
        return self._decompressor.decompress(_TAIL)


CodecFactory = Callable[[bool], MessageCodec]


def _project_codec(is_server: bool) -> MessageCodec:
    return PerMessageDeflate(is_server, False, False, 0, 0, None)


def _fake_codec(is_server: bool) -> MessageCodec:
    return ZlibCodec()


@pytest.fixture(params=[_fake_codec, _project_codec], ids=["zlib-double", "PerMessageDeflate"])
def codec(request: pytest.FixtureRequest) -> CodecFactory:
    """A factory of codecs: ``codec(is_server)``."""
    factory: CodecFactory = request.param
    return factory


def masked(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    return build_frame(opcode, payload, fin=fin, rsv=rsv, mask=RFC_MASK)


def feed(conn: Connection, data: bytes) -> list[Event]:
    conn.receive_data(data)
    return conn.events()


def message_payloads(events: list[Event]) -> list[bytes]:
    out: list[bytes] = []
    parts: list[bytes] = []
    for event in events:
        assert isinstance(event, MessageData), event
        parts.append(event.data)
        if event.message_end:
            out.append(b"".join(parts))
            parts = []
    return out


def first_bytes(wire: bytes) -> list[int]:
    """The first header byte of every frame in ``wire``."""
    out = []
    pos = 0
    while pos < len(wire):
        header = parse_header(wire, pos)
        assert header is not None
        out.append(wire[pos])
        pos += header.size + header.length
    return out


def pair(codec: CodecFactory) -> tuple[Connection, Connection]:
    return Connection(is_server=False, codec=codec(False)), Connection(
        is_server=True, codec=codec(True)
    )


# ------------------------------------------------- RFC 7692 section 7.2.3


def test_rfc7692_compressed_hello(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    events = feed(client, bytes.fromhex("c107f248cdc9c90700"))
    assert events == [MessageData(b"Hello", False, True, True, True, True, 7)]
    # the same message again, using the shared sliding window
    assert message_payloads(feed(client, bytes.fromhex("c105f200110000"))) == [b"Hello"]


def test_rfc7692_fragmented_compressed_hello(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    events = feed(client, bytes.fromhex("4103f248cd") + bytes.fromhex("8004c9c90700"))
    assert message_payloads(events) == [b"Hello"]


def test_rfc7692_uncompressed_deflate_block(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    events = feed(client, bytes.fromhex("c10b000500faff48656c6c6f00"))
    assert message_payloads(events) == [b"Hello"]


def test_server_compresses_hello_like_the_rfc(codec: CodecFactory) -> None:
    server = Connection(is_server=True, codec=codec(True))
    assert server.send_message(b"Hello") == bytes.fromhex("c107f248cdc9c90700")


# ---------------------------------------------------------------- framing


def test_compressed_message_roundtrip_sets_rsv1(codec: CodecFactory) -> None:
    client, server = pair(codec)
    data = b"Hello, compression! " * 50
    wire = client.send_message(data)
    assert first_bytes(wire) == [0xC1]
    assert len(wire) < len(data)
    assert message_payloads(feed(server, wire)) == [data]


def test_only_the_first_fragment_carries_rsv1(codec: CodecFactory) -> None:
    client, server = pair(codec)
    data = bytes(range(256)) * 40
    wire = client.send_message(data, is_binary=True, fragment_size=100)
    heads = first_bytes(wire)
    assert heads[0] == 0x42 and heads[-1] == 0x80
    assert all(b == 0x00 for b in heads[1:-1])
    assert message_payloads(feed(server, wire)) == [data]


def test_compress_false_sends_plain_frames(codec: CodecFactory) -> None:
    client, server = pair(codec)
    wire = client.send_message(b"plain", compress=False)
    assert wire[0] == 0x81
    assert message_payloads(feed(server, wire)) == [b"plain"]


def test_streamed_compressed_message(codec: CodecFactory) -> None:
    client, server = pair(codec)
    client.begin_message()
    wire = client.message_frame(b"part one, ") + client.message_frame(b"part two")
    wire += client.end_message()
    assert first_bytes(wire) == [0x41, 0x00, 0x80]
    assert message_payloads(feed(server, wire)) == [b"part one, part two"]


def test_a_message_streamed_inside_frames_goes_uncompressed(codec: CodecFactory) -> None:
    # Autobahn's push-producer idiom calls beginMessage() (compression on by
    # default) and then beginMessageFrame(N): the payload goes out as given,
    # so the message is sent plain, and compression goes on for the next one.
    client, server = pair(codec)
    client.begin_message()
    header = client.begin_message_frame(3)
    assert header[0] == 0x01  # text, RSV1 clear
    wire = header + client.message_frame_data(b"abc")
    wire += client.begin_message_frame(2) + client.message_frame_data(b"de")
    wire += client.end_message()
    after = client.send_message(b"compressed again")
    assert first_bytes(after)[0] & 0x40
    assert message_payloads(feed(server, wire + after)) == [b"abcde", b"compressed again"]


def test_a_compressed_message_cannot_continue_inside_a_frame(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    client.begin_message()
    client.message_frame(b"compressed part")
    with pytest.raises(InvalidStateError):
        client.begin_message_frame(10)
    client.end_message()


def test_mixed_compressed_and_plain_messages(codec: CodecFactory) -> None:
    client, server = pair(codec)
    wire = client.send_message(b"one") + client.send_message(b"two", compress=False)
    wire += client.send_message(b"three", is_binary=True)
    assert message_payloads(feed(server, wire)) == [b"one", b"two", b"three"]


# ------------------------------------------------------------ refusals


def failure_code(events: list[Event]) -> int | None:
    last = events[-1] if events else None
    return last.code if isinstance(last, ConnectionFailed) else None


def test_rsv1_without_codec_fails(codec: CodecFactory) -> None:
    wire = Connection(is_server=False, codec=codec(False)).send_message(b"Hello")
    assert failure_code(feed(Connection(is_server=True), wire)) == 1002


def test_rsv1_on_continuation_fails(codec: CodecFactory) -> None:
    server = Connection(is_server=True, codec=codec(True))
    wire = masked(0x1, b"", fin=False, rsv=4) + masked(0x0, b"\x00", rsv=4)
    assert failure_code(feed(server, wire)) == 1002


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_rsv1_on_control_frame_fails(opcode: int, codec: CodecFactory) -> None:
    server = Connection(is_server=True, codec=codec(True))
    assert failure_code(feed(server, masked(opcode, b"", rsv=4))) == 1002


@pytest.mark.parametrize("rsv", [1, 2, 5, 6])
def test_rsv2_and_rsv3_fail_even_with_codec(rsv: int, codec: CodecFactory) -> None:
    server = Connection(is_server=True, codec=codec(True))
    assert failure_code(feed(server, masked(0x1, b"", rsv=rsv))) == 1002


def test_corrupt_compressed_data_fails_with_1007(codec: CodecFactory) -> None:
    server = Connection(is_server=True, codec=codec(True))
    assert failure_code(feed(server, masked(0x2, b"\xff\xff\xff\xff", rsv=4))) == 1007


def test_decompressed_invalid_utf8_fails_with_1007(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    wire = client.send_message(b"\xff\xfe", is_binary=True)
    wire = bytes((0xC1,)) + wire[1:]  # same payload, but as a text message
    assert failure_code(feed(Connection(is_server=True, codec=codec(True)), wire)) == 1007


def test_decompressed_size_limit_fails_with_1009(codec: CodecFactory) -> None:
    client = Connection(is_server=False, codec=codec(False))
    wire = client.send_message(bytes(100_000), is_binary=True)
    assert len(wire) < 1000  # small on the wire, big once inflated
    server = Connection(is_server=True, codec=codec(True), max_message_size=50_000)
    assert failure_code(feed(server, wire)) == 1009
    server = Connection(is_server=True, codec=codec(True), max_message_size=100_000)
    assert message_payloads(feed(server, wire)) == [bytes(100_000)]


@pytest.mark.parametrize("fragment_size", [None, 7])
def test_decompressed_size_limit_is_exact(codec: CodecFactory, fragment_size: int | None) -> None:
    for size, ok in ((4096, True), (4097, False)):
        client = Connection(is_server=False, codec=codec(False))
        wire = client.send_message(b"a" * size, fragment_size=fragment_size)
        server = Connection(is_server=True, codec=codec(True), max_message_size=4096)
        events = feed(server, wire)
        if ok:
            assert message_payloads(events) == [b"a" * size]
        else:
            assert failure_code(events) == 1009
