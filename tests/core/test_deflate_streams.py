"""Several deflate streams in one message (RFC 7692 7.2.3.4), and what they cost.

A block with BFINAL set ends a deflate stream; the codec inflates what
follows as a new stream, up to ``MAX_STREAMS_PER_MESSAGE`` stream ends per
message.  The cost is measured as work, not time: how many inflaters the
codec creates and how many bytes it hands to zlib.
"""

from __future__ import annotations

import os
import zlib
from typing import Any

import pytest

from wsproto_cb.core import deflate_codec
from wsproto_cb.core.connection import Connection
from wsproto_cb.core.deflate import PerMessageDeflate
from wsproto_cb.core.deflate_codec import MAX_STREAMS_PER_MESSAGE
from wsproto_cb.core.errors import ProtocolError
from wsproto_cb.core.events import ConnectionFailed
from wsproto_cb.core.frames import build_frame

EMPTY_FINAL_STREAM = b"\x03\x00"  # a fixed-Huffman block with BFINAL set and no data
HELLO_FINAL = bytes.fromhex("f348cdc9c90700")  # "Hello" in a BFINAL block (7.2.3.4)


class InflaterCount:
    """Stands in for the codec's ``zlib``: counts inflaters and the bytes fed to them."""

    def __init__(self) -> None:
        self.inflaters = 0
        self.bytes_fed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    def decompressobj(self, wbits: int) -> Any:
        self.inflaters += 1
        return _CountingInflater(self, zlib.decompressobj(wbits))


class _CountingInflater:
    def __init__(self, count: InflaterCount, inflater: Any) -> None:
        self._count = count
        self._inflater = inflater

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inflater, name)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        self._count.bytes_fed += len(data)
        return self._inflater.decompress(data, max_length)  # type: ignore[no-any-return]


@pytest.fixture
def count(monkeypatch: pytest.MonkeyPatch) -> InflaterCount:
    counter = InflaterCount()
    monkeypatch.setattr(deflate_codec, "zlib", counter)
    return counter


def codec(no_context_takeover: bool = False) -> PerMessageDeflate:
    nct = no_context_takeover
    return PerMessageDeflate(True, nct, nct, 0, 0, None)


def receive(receiver: PerMessageDeflate, *payloads: bytes) -> bytes:
    receiver.start_decompress_message()
    out = b"".join(receiver.decompress_message_data(p, 0) for p in payloads)
    return out + receiver.end_decompress_message(0)


def test_a_frame_of_empty_final_streams_costs_a_bounded_amount_of_work(
    count: InflaterCount,
) -> None:
    payload = EMPTY_FINAL_STREAM * 32768  # 64 KiB
    receiver = codec()
    receiver.start_decompress_message()
    with pytest.raises(ProtocolError) as info:
        receiver.decompress_message_data(payload, 0)
    assert info.value.code == 1009
    assert f"more than {MAX_STREAMS_PER_MESSAGE} deflate streams" in info.value.reason
    # (it took 32,768 inflaters and 1 GiB handed to zlib: each stream got
    # a copy of the rest of the frame)
    assert count.inflaters <= MAX_STREAMS_PER_MESSAGE + 2
    assert count.bytes_fed <= (MAX_STREAMS_PER_MESSAGE + 1) * len(payload)


def test_the_connection_fails_such_a_message_with_1009(count: InflaterCount) -> None:
    server = Connection(is_server=True, codec=codec())
    mask = os.urandom(4)
    server.receive_data(build_frame(0x2, EMPTY_FINAL_STREAM * 32768, rsv=0x4, mask=mask))
    events = server.events()
    assert len(events) == 1 and isinstance(events[0], ConnectionFailed)
    assert events[0].code == 1009
    assert count.inflaters <= MAX_STREAMS_PER_MESSAGE + 2


@pytest.mark.parametrize("no_context_takeover", [False, True])
def test_up_to_the_limit_every_stream_is_inflated_in_every_message(
    no_context_takeover: bool,
) -> None:
    receiver = codec(no_context_takeover)
    many = HELLO_FINAL * MAX_STREAMS_PER_MESSAGE
    for _ in range(3):  # the count starts again with each message
        assert receive(receiver, many) == b"Hello" * MAX_STREAMS_PER_MESSAGE
    # split across frames as well, and followed by the RFC's trailing 00
    frames = [HELLO_FINAL] * (MAX_STREAMS_PER_MESSAGE - 1) + [HELLO_FINAL + b"\x00"]
    assert receive(receiver, *frames) == b"Hello" * MAX_STREAMS_PER_MESSAGE


def test_one_stream_more_than_the_limit_fails_across_frames() -> None:
    receiver = codec()
    receiver.start_decompress_message()
    for _ in range(MAX_STREAMS_PER_MESSAGE):
        assert receiver.decompress_message_data(HELLO_FINAL, 0) == b"Hello"
    with pytest.raises(ProtocolError) as info:
        receiver.decompress_message_data(HELLO_FINAL, 0)
    assert info.value.code == 1009


def test_an_ordinary_message_is_fed_to_zlib_once(count: InflaterCount) -> None:
    data = os.urandom(256 * 1024).hex().encode()  # 512 KiB that compresses to about half
    compressor = zlib.compressobj(wbits=-15)
    payload = (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    frames = [payload[i : i + 16384] for i in range(0, len(payload), 16384)]
    assert receive(codec(), *frames) == data
    assert count.inflaters == 1
    assert count.bytes_fed == len(payload) + 4  # every byte once, and the tail
