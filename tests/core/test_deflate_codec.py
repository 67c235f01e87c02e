"""permessage-deflate codec: RFC 7692 7.2 vectors, context takeover, limits, garbage."""

from __future__ import annotations

import random
import time
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsproto_cb.core.deflate import PerMessageDeflate
from wsproto_cb.core.errors import InvalidStateError, ProtocolError

HELLO = b"Hello"
HELLO_DEFLATED = bytes.fromhex("f248cdc9c90700")  # RFC 7692 7.2.3.1
HELLO_AGAIN = bytes.fromhex("f200110000")  # 7.2.3.2, with context takeover
TAIL = b"\x00\x00\xff\xff"


def make(
    is_server: bool = True,
    *,
    server_nct: bool = False,
    client_nct: bool = False,
    server_bits: int = 0,
    client_bits: int = 0,
    mem_level: int | None = None,
    max_message_size: int | None = None,
) -> PerMessageDeflate:
    return PerMessageDeflate(
        is_server, server_nct, client_nct, server_bits, client_bits, mem_level, max_message_size
    )


def pair(**kwargs: bool | int) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    """A server codec and a client codec with the same negotiated parameters."""
    return make(True, **kwargs), make(False, **kwargs)  # type: ignore[arg-type]


def send(codec: PerMessageDeflate, *chunks: bytes) -> list[bytes]:
    """Frame payloads of one message sent as ``chunks`` (documented recipe)."""
    codec.start_compress_message()
    payloads = [codec.compress_message_data(chunk) for chunk in chunks[:-1]]
    last = chunks[-1] if chunks else b""
    payloads.append(codec.compress_message_data(last) + codec.end_compress_message())
    return payloads


def receive(codec: PerMessageDeflate, *payloads: bytes, max_length: int = 0) -> bytes:
    """Decompress one message, ``max_length`` per call (0: no limit)."""
    codec.start_decompress_message()
    out = b"".join(codec.decompress_message_data(p, max_length) for p in payloads)
    return out + codec.end_decompress_message(max_length)


# -- RFC 7692 section 7.2.3 examples --------------------------------------------------


def test_rfc_7_2_3_1_hello_compresses_to_the_rfc_bytes() -> None:
    assert send(make(), HELLO) == [HELLO_DEFLATED]


def test_rfc_7_2_3_1_hello_decompresses() -> None:
    assert receive(make(), HELLO_DEFLATED) == HELLO


def test_rfc_7_2_3_1_fragmented_message_decompresses() -> None:
    # Frames 0x41 0x03 f2 48 cd and 0x80 0x04 c9 c9 07 00.
    assert receive(make(), bytes.fromhex("f248cd"), bytes.fromhex("c9c90700")) == HELLO


def test_rfc_7_2_3_2_context_takeover_second_message() -> None:
    codec = make()
    assert send(codec, HELLO) == [HELLO_DEFLATED]
    assert send(codec, HELLO) == [HELLO_AGAIN]
    peer = make(False)
    assert receive(peer, HELLO_DEFLATED) == HELLO
    assert receive(peer, HELLO_AGAIN) == HELLO


def test_rfc_7_2_3_2_without_context_takeover_each_message_is_standalone() -> None:
    codec = make(True, server_nct=True)
    assert send(codec, HELLO) == [HELLO_DEFLATED]
    assert send(codec, HELLO) == [HELLO_DEFLATED]


def test_rfc_7_2_3_3_uncompressed_block() -> None:
    assert receive(make(), bytes.fromhex("000500faff48656c6c6f00")) == HELLO


def test_rfc_7_2_3_4_bfinal_block_and_the_next_message() -> None:
    codec = make()
    assert receive(codec, bytes.fromhex("f348cdc9c9070000")) == HELLO
    # The stream ended; the next message starts a fresh one and must decode.
    assert receive(codec, HELLO_DEFLATED) == HELLO
    # BFINAL block without the trailing empty block also decodes cleanly.
    assert receive(codec, bytes.fromhex("f348cdc9c90700")) == HELLO
    assert receive(codec, HELLO_DEFLATED) == HELLO


def test_rfc_7_2_3_5_two_blocks_in_one_message() -> None:
    payload = bytes.fromhex("f24805000000ffffcac9c90700")
    assert receive(make(), payload) == HELLO


def test_rfc_7_2_3_6_empty_fragment() -> None:
    assert receive(make(), b"\x00") == b""


@pytest.mark.parametrize("nct", [False, True])
def test_empty_message_is_one_zero_byte_and_keeps_the_stream_in_sync(nct: bool) -> None:
    sender, receiver = make(True, server_nct=nct), make(False, server_nct=nct)
    for message in (b"", HELLO, b"", b"", HELLO, b""):
        payloads = send(sender, message)
        if not message:
            assert payloads == [b"\x00"]
        assert receive(receiver, *payloads) == message


def test_empty_payload_is_an_empty_message_and_the_stream_continues() -> None:
    codec = make()
    assert receive(codec, HELLO_DEFLATED) == HELLO
    assert receive(codec) == b""
    assert receive(codec, b"", b"") == b""
    assert receive(codec, HELLO_AGAIN) == HELLO


def test_fragmented_send_payloads_concatenate_to_the_whole_message() -> None:
    codec = make()
    payloads = send(codec, b"He", b"", b"ll", b"o")
    assert len(payloads) == 4
    assert b"".join(payloads) == HELLO_DEFLATED
    assert payloads[-1]  # the final frame is never empty
    assert receive(make(False), *payloads) == HELLO


# -- context takeover per negotiated parameters ---------------------------------------


@pytest.mark.parametrize("server_nct", [False, True])
@pytest.mark.parametrize("client_nct", [False, True])
@pytest.mark.parametrize("sender_is_server", [False, True])
def test_context_takeover_follows_the_sending_side_parameter(
    server_nct: bool, client_nct: bool, sender_is_server: bool
) -> None:
    server, client = pair(server_nct=server_nct, client_nct=client_nct)
    sender, receiver = (server, client) if sender_is_server else (client, server)
    reset = server_nct if sender_is_server else client_nct
    message = b"a message that repeats itself a lot " * 3
    first = send(sender, message)
    second = send(sender, message)
    assert receive(receiver, *first) == message
    assert receive(receiver, *second) == message
    if reset:
        assert second == first
    else:
        assert len(second[0]) < len(first[0]) // 4


def test_receiver_without_context_really_resets() -> None:
    """A decoder told the peer resets cannot follow a peer that does not."""
    receiver = make(True, client_nct=True)
    assert receive(receiver, HELLO_DEFLATED) == HELLO
    with pytest.raises(ProtocolError) as info:
        receive(receiver, HELLO_AGAIN)
    assert info.value.code == 1007


def test_peer_window_bits_bound_the_compressor() -> None:
    # 300-byte repeats: a 9-bit window (max distance 250 in zlib) cannot
    # reach back, a 15-bit one can.
    block = random.Random(1).randbytes(300)
    small = send(make(True, server_bits=9), block * 4)[0]
    large = send(make(True, server_bits=15), block * 4)[0]
    assert len(large) < 400 < len(small)


# -- window bits 8 ------------------------------------------------------------------


def _repeating_messages(count: int) -> list[bytes]:
    rnd = random.Random(8)
    block = rnd.randbytes(300)
    return [block + rnd.randbytes(20) + b"z" * 100 for _ in range(count)]


def test_inflater_with_8_bit_window_rejects_longer_distances() -> None:
    """Control for the next test: zlib's -8 inflater does enforce 256 bytes."""
    compressor = zlib.compressobj(-1, zlib.DEFLATED, -10)
    inflater = zlib.decompressobj(-8)
    with pytest.raises(zlib.error, match="too far back"):
        for message in _repeating_messages(5):
            inflater.decompress(compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH))


@pytest.mark.parametrize("is_server", [True, False])
def test_compressing_with_window_8_is_readable_by_a_256_byte_inflater(is_server: bool) -> None:
    codec = make(is_server, server_bits=8, client_bits=8)
    inflater = zlib.decompressobj(-8)  # the strictest peer, with context takeover
    for message in _repeating_messages(20):
        (payload,) = send(codec, message)
        assert inflater.decompress(payload + TAIL) == message
    # And it still compresses the runs.
    assert len(send(make(is_server, server_bits=8, client_bits=8), b"z" * 5000)[0]) < 100


def test_window_8_peer_is_inflated_with_a_larger_window() -> None:
    """A peer that agreed to 8 but (like old zlib) deflates with 9 bits still decodes."""
    peer = zlib.compressobj(-1, zlib.DEFLATED, -9)
    codec = make(True, client_bits=8)
    for message in _repeating_messages(10):
        payload = (peer.compress(message) + peer.flush(zlib.Z_SYNC_FLUSH))[:-4]
        assert receive(codec, payload) == message


# -- size limits: deflate bombs ---------------------------------------------------------

MIB = 1 << 20


def _bomb() -> bytes:
    (payload,) = send(make(False), bytes(10 * 1000 * 1000))
    assert len(payload) < 12_000  # ~10 MB of zeros in ~10 KB
    return payload


def _bounded(call: object) -> tuple[ProtocolError, int, float]:
    """Run ``call``, expecting ProtocolError; return it, peak traced bytes, seconds."""
    assert callable(call)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ProtocolError) as info:
            call()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak, elapsed


def test_bomb_in_one_frame_stops_at_max_length() -> None:
    payload = _bomb()
    codec = make()
    codec.start_decompress_message()
    error, peak, elapsed = _bounded(lambda: codec.decompress_message_data(payload, MIB))
    assert error.code == 1009
    # zlib's output buffer is a Python bytes object, so tracemalloc sees it:
    # inflating everything first would peak at 10 MB.
    assert peak < 3 * MIB
    assert elapsed < 2.0


def test_bomb_in_many_frames_with_caller_tracking_the_budget() -> None:
    payload = _bomb()
    codec = make()
    codec.start_decompress_message()
    budget = MIB
    chunks: list[int] = []

    def feed() -> None:
        nonlocal budget
        for start in range(0, len(payload), 1000):
            out = codec.decompress_message_data(payload[start : start + 1000], budget)
            chunks.append(len(out))
            budget -= len(out)
        codec.end_decompress_message(budget)

    error, peak, _ = _bounded(feed)
    assert error.code == 1009
    assert sum(chunks) <= MIB and max(chunks) <= MIB
    assert peak < 3 * MIB


def test_max_message_size_of_the_accept_limits_each_message() -> None:
    payload = _bomb()
    codec = make(max_message_size=MIB)
    codec.start_decompress_message()
    error, peak, _ = _bounded(lambda: codec.decompress_message_data(payload, 0))
    assert error.code == 1009
    assert peak < 3 * MIB


def _message_and_payload() -> tuple[bytes, bytes]:
    message = bytes(range(256)) * 40
    (payload,) = send(make(False), message)
    return message, payload


def test_max_length_is_exact() -> None:
    message, payload = _message_and_payload()
    assert receive(make(), payload, max_length=len(message)) == message
    with pytest.raises(ProtocolError) as info:
        receive(make(), payload, max_length=len(message) - 1)
    assert info.value.code == 1009


@pytest.mark.parametrize("frames", [1, 3, 40])
def test_max_message_size_is_exact_across_frames(frames: int) -> None:
    """The codec's own per-message budget, including "0 bytes left" mid-message."""
    message, payload = _message_and_payload()
    step = -(-len(payload) // frames)
    parts = [payload[i : i + step] for i in range(0, len(payload), step)]
    codec = make(max_message_size=len(message))
    assert receive(codec, *parts) == message
    assert receive(codec, *parts) == message  # the budget is per message
    with pytest.raises(ProtocolError) as info:
        receive(make(max_message_size=len(message) - 1), *parts)
    assert info.value.code == 1009


def test_negative_max_length_is_a_caller_error() -> None:
    codec = make()
    codec.start_decompress_message()
    with pytest.raises(ValueError):
        codec.decompress_message_data(HELLO_DEFLATED, -1)


# -- corrupt input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "payloads",
    [
        [b"\xff\xff\xff"],  # reserved block type 11
        [b"\x00\x05\x00\x00\x00"],  # stored block LEN/NLEN mismatch
        [b"\x00\x01"],  # half a stored header, completed wrongly by the tail
        [bytes.fromhex("f248cd"), b"\xff\xff\xff\xff\xff"],  # bad in a later frame
    ],
)
def test_corrupt_data_is_1007(payloads: list[bytes]) -> None:
    with pytest.raises(ProtocolError) as info:
        receive(make(), *payloads)
    assert info.value.code == 1007


def test_calls_out_of_order_are_invalid_state() -> None:
    codec = make()
    with pytest.raises(InvalidStateError):
        codec.compress_message_data(HELLO)
    with pytest.raises(InvalidStateError):
        codec.end_compress_message()
    with pytest.raises(InvalidStateError):
        codec.decompress_message_data(HELLO_DEFLATED, 0)
    with pytest.raises(InvalidStateError):
        codec.end_decompress_message(0)


def test_constructor_defaults_and_validation() -> None:
    codec = make()
    assert (codec.server_max_window_bits, codec.client_max_window_bits) == (15, 15)
    assert codec.mem_level == 8
    for bad in (7, 16):
        with pytest.raises(ValueError):
            make(server_bits=bad)
    with pytest.raises(ValueError):
        make(mem_level=10)
    server = make(True, server_nct=True, client_bits=10)
    assert server.local_no_context_takeover and not server.remote_no_context_takeover
    assert (server.local_max_window_bits, server.remote_max_window_bits) == (15, 10)
    assert "is_server=True" in repr(server)
    assert server.__json__()["client_max_window_bits"] == 10


# -- properties -------------------------------------------------------------------------


window = st.sampled_from([0, 8, 9, 10, 12, 15])
chunked_message = st.lists(st.binary(max_size=700), max_size=5)
text_like = st.lists(
    st.sampled_from([b"alpha ", b"beta ", b"gamma ", b"\x00", b"\xff" * 30, b"{}"]), max_size=60
).map(b"".join)


@settings(deadline=None, max_examples=150)
@given(
    server_nct=st.booleans(),
    client_nct=st.booleans(),
    server_bits=window,
    client_bits=window,
    mem_level=st.sampled_from([None, 1, 5, 9]),
    messages=st.lists(st.one_of(chunked_message, text_like.map(lambda m: [m])), max_size=6),
    data=st.data(),
)
def test_round_trip_both_directions(
    server_nct: bool,
    client_nct: bool,
    server_bits: int,
    client_bits: int,
    mem_level: int | None,
    messages: list[list[bytes]],
    data: st.DataObject,
) -> None:
    server, client = (
        PerMessageDeflate(side, server_nct, client_nct, server_bits, client_bits, mem_level)
        for side in (True, False)
    )
    for chunks in messages:
        for sender, receiver in ((server, client), (client, server)):
            payloads = send(sender, *chunks)
            assert payloads[-1]
            # The receiver may see the payload bytes cut differently.
            joined = b"".join(payloads)
            cuts = sorted(data.draw(st.lists(st.integers(0, len(joined)), max_size=3)))
            frames = [joined[a:b] for a, b in zip([0, *cuts], [*cuts, len(joined)], strict=True)]
            assert receive(receiver, *frames) == b"".join(chunks)


@settings(deadline=None, max_examples=150)
@given(
    is_server=st.booleans(),
    remote_nct=st.booleans(),
    bits=window,
    prefix=st.booleans(),
    frames=st.lists(st.binary(max_size=64), max_size=4),
    max_length=st.sampled_from([0, 1, 100]),
    max_message_size=st.sampled_from([None, 0, 10]),
)
def test_garbage_raises_only_protocol_error(
    is_server: bool,
    remote_nct: bool,
    bits: int,
    prefix: bool,
    frames: list[bytes],
    max_length: int,
    max_message_size: int | None,
) -> None:
    codec = PerMessageDeflate(is_server, remote_nct, remote_nct, bits, bits, None, max_message_size)
    messages = [[HELLO_DEFLATED]] if prefix else []
    messages += [frames, frames[:1]]
    for payloads in messages:
        try:
            receive(codec, *payloads, max_length=max_length)
        except ProtocolError as exc:
            assert exc.code in (1007, 1009)
            return
