"""Frame headers on the wire (RFC 6455 section 5.2): parse_header and build_frame.

The connection's rules (masking policy, RSV, fragmentation) are tested in
test_connection*.py; this module checks the layout only, byte for byte.
"""

from __future__ import annotations

import struct

import pytest

from wsproto_cb.core.errors import ProtocolError
from wsproto_cb.core.frames import (
    FrameHeader,
    MaskKeySource,
    build_frame,
    build_frame_header,
    parse_header,
)
from wsproto_cb.core.masking import apply_mask

RFC_MASK = bytes.fromhex("37fa213d")


def _header(hex_bytes: str) -> FrameHeader | None:
    return parse_header(bytes.fromhex(hex_bytes), 0)


# ------------------------------------------------------- RFC 6455 section 5.7


def test_rfc_unmasked_hello_builds_and_parses() -> None:
    wire = bytes.fromhex("810548656c6c6f")
    assert build_frame(0x1, b"Hello") == wire
    assert parse_header(wire, 0) == FrameHeader(True, 0, 0x1, 5, None, 2)


def test_rfc_masked_hello_builds_and_parses() -> None:
    wire = bytes.fromhex("818537fa213d7f9f4d5158")
    assert build_frame(0x1, b"Hello", mask=RFC_MASK) == wire
    header = parse_header(wire, 0)
    assert header == FrameHeader(True, 0, 0x1, 5, RFC_MASK, 6)
    assert apply_mask(wire[6:], RFC_MASK) == b"Hello"


def test_rfc_fragmented_text_builds() -> None:
    assert build_frame(0x1, b"Hel", fin=False) == bytes.fromhex("010348656c")
    assert build_frame(0x0, b"lo") == bytes.fromhex("80026c6f")
    assert _header("010348656c") == FrameHeader(False, 0, 0x1, 3, None, 2)
    assert _header("80026c6f") == FrameHeader(True, 0, 0x0, 2, None, 2)


def test_rfc_ping_and_masked_pong_build() -> None:
    assert build_frame(0x9, b"Hello") == bytes.fromhex("890548656c6c6f")
    assert build_frame(0xA, b"Hello", mask=RFC_MASK) == bytes.fromhex("8a8537fa213d7f9f4d5158")


def test_rfc_256_byte_binary_uses_16_bit_length() -> None:
    data = bytes(range(256))
    wire = build_frame(0x2, data)
    assert wire[:4] == bytes.fromhex("827e0100")
    assert wire[4:] == data
    assert parse_header(wire, 0) == FrameHeader(True, 0, 0x2, 256, None, 4)


def test_rfc_64k_binary_uses_64_bit_length() -> None:
    data = bytes(65536)
    wire = build_frame(0x2, data)
    assert wire[:10] == bytes.fromhex("827f0000000000010000")
    assert len(wire) == 10 + 65536
    assert parse_header(wire, 0) == FrameHeader(True, 0, 0x2, 65536, None, 10)


# ----------------------------------------------------------- length encodings


@pytest.mark.parametrize(
    ("length", "prefix"),
    [
        (0, "8100"),
        (125, "817d"),
        (126, "817e007e"),
        (65535, "817effff"),
        (65536, "817f0000000000010000"),
        (2**32, "817f0000000100000000"),
        (2**63 - 1, "817f7fffffffffffffff"),
    ],
)
def test_length_encodings_are_minimal(length: int, prefix: str) -> None:
    assert build_frame_header(0x1, length) == bytes.fromhex(prefix)
    header = _header(prefix)
    assert header is not None
    assert header.length == length
    assert header.size == len(prefix) // 2


def test_masked_header_carries_key_after_length() -> None:
    assert build_frame_header(0x2, 300, mask=RFC_MASK) == bytes.fromhex("82fe012c37fa213d")
    assert _header("82fe012c37fa213d") == FrameHeader(True, 0, 0x2, 300, RFC_MASK, 8)


@pytest.mark.parametrize(
    "wire",
    [
        "817e0000",  # 16-bit encoding of 0
        "817e007d",  # 16-bit encoding of 125
        "817f0000000000000000",  # 64-bit encoding of 0
        "817f000000000000007e",  # 64-bit encoding of 126
        "817f000000000000ffff",  # 64-bit encoding of 65535
    ],
)
def test_non_minimal_length_is_protocol_error(wire: str) -> None:
    with pytest.raises(ProtocolError) as info:
        _header(wire)
    assert info.value.code == 1002


@pytest.mark.parametrize("wire", ["817f8000000000000000", "827fffffffffffffffff"])
def test_64_bit_length_with_top_bit_is_protocol_error(wire: str) -> None:
    with pytest.raises(ProtocolError) as info:
        _header(wire)
    assert info.value.code == 1002


# ---------------------------------------------------------- header validation


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcode_is_protocol_error(opcode: int) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_header(bytes((0x80 | opcode, 0)), 0)
    assert info.value.code == 1002


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_fragmented_control_frame_is_protocol_error(opcode: int) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_header(bytes((opcode, 0)), 0)
    assert info.value.code == 1002


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_control_frame_over_125_bytes_is_protocol_error(opcode: int) -> None:
    assert parse_header(bytes((0x80 | opcode, 125)), 0) is not None
    with pytest.raises(ProtocolError) as info:
        parse_header(bytes((0x80 | opcode, 126, 0, 126)), 0)
    assert info.value.code == 1002


def test_rsv_bits_are_reported_not_judged() -> None:
    # Whether RSV bits are allowed depends on negotiated extensions: the
    # connection decides, the header parser only reports them.
    assert _header("c100") == FrameHeader(True, 4, 0x1, 0, None, 2)
    assert _header("a100") == FrameHeader(True, 2, 0x1, 0, None, 2)
    assert _header("9100") == FrameHeader(True, 1, 0x1, 0, None, 2)
    assert build_frame_header(0x1, 0, rsv=4) == bytes.fromhex("c100")


def test_incomplete_headers_return_none() -> None:
    full = build_frame_header(0x2, 70000, mask=RFC_MASK)
    assert len(full) == 14
    for cut in range(len(full)):
        assert parse_header(full[:cut], 0) is None
    assert parse_header(full, 0) == FrameHeader(True, 0, 0x2, 70000, RFC_MASK, 14)


def test_parse_header_at_offset_in_bytearray() -> None:
    buf = bytearray(b"junk") + build_frame(0x9, b"x", mask=RFC_MASK)
    assert parse_header(buf, 4) == FrameHeader(True, 0, 0x9, 1, RFC_MASK, 6)


def test_build_frame_accepts_buffers() -> None:
    data = bytearray(b"abc")
    assert build_frame(0x2, data) == b"\x82\x03abc"
    assert build_frame(0x2, memoryview(b"abc"), mask=RFC_MASK) == build_frame(
        0x2, b"abc", mask=RFC_MASK
    )


# --------------------------------------------------------------- mask keys


def test_mask_keys_are_four_bytes_and_vary() -> None:
    source = MaskKeySource()
    keys = [source.next_key() for _ in range(3000)]  # crosses a batch boundary
    assert all(len(k) == 4 for k in keys)
    assert len(set(keys)) > 2900  # 3000 draws from 2**32: collisions are rare


def test_masked_payload_roundtrip_through_header() -> None:
    payload = struct.pack("!100I", *range(100))
    wire = build_frame(0x2, payload, mask=b"\x01\x02\x03\x04")
    header = parse_header(wire, 0)
    assert header is not None and header.mask == b"\x01\x02\x03\x04"
    assert wire[header.size :] != payload
    assert apply_mask(wire[header.size :], header.mask) == payload
