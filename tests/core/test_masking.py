"""Payload masking (RFC 6455 section 5.3): C speedup and pure-Python fallback.

Both implementations must give identical bytes for every length and mask
phase, because the connection unmasks payloads chunk by chunk.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsproto_cb.core import masking
from wsproto_cb.core.masking import apply_mask, apply_mask_python

RFC_MASK = bytes.fromhex("37fa213d")
RFC_HELLO_MASKED = bytes.fromhex("7f9f4d5158")

MaskFn = Callable[..., bytes]

IMPLEMENTATIONS: list[object] = [
    pytest.param(apply_mask_python, id="python"),
    pytest.param(
        masking.apply_mask_c,
        id="c",
        marks=pytest.mark.skipif(
            masking.apply_mask_c is None, reason="C extension not built or disabled"
        ),
    ),
]


def _reference(data: bytes, mask: bytes, offset: int = 0) -> bytes:
    """The definition from RFC 6455 section 5.3, one byte at a time."""
    return bytes(b ^ mask[(i + offset) % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
class TestEachImplementation:
    def test_rfc6455_hello_example(self, impl: MaskFn) -> None:
        # RFC 6455 section 5.7: a masked "Hello" with key 37 fa 21 3d.
        assert impl(b"Hello", RFC_MASK) == RFC_HELLO_MASKED
        assert impl(RFC_HELLO_MASKED, RFC_MASK) == b"Hello"

    def test_returns_bytes_for_every_input_type(self, impl: MaskFn) -> None:
        for data in (b"Hello", bytearray(b"Hello"), memoryview(b"Hello")):
            result = impl(data, RFC_MASK)
            assert type(result) is bytes
            assert result == RFC_HELLO_MASKED

    def test_memoryview_slice_and_wide_items(self, impl: MaskFn) -> None:
        buffer = memoryview(b"xxHelloxx")[2:7]
        assert impl(buffer, RFC_MASK) == RFC_HELLO_MASKED
        wide = memoryview(bytearray(b"Hell")).cast("I")  # one 4-byte item
        assert impl(wide, RFC_MASK) == RFC_HELLO_MASKED[:4]

    def test_empty_payload(self, impl: MaskFn) -> None:
        assert impl(b"", RFC_MASK) == b""
        assert impl(b"", RFC_MASK, 3) == b""

    def test_offset_is_the_mask_phase(self, impl: MaskFn) -> None:
        # "Hello" unmasked in chunks 2 + 3 must match unmasking it at once.
        first, rest = RFC_HELLO_MASKED[:2], RFC_HELLO_MASKED[2:]
        assert impl(first, RFC_MASK, 0) + impl(rest, RFC_MASK, 2) == b"Hello"
        # Only offset % 4 matters, including Python's modulo for negatives.
        assert impl(rest, RFC_MASK, 6) == impl(rest, RFC_MASK, 2) == b"llo"
        assert impl(rest, RFC_MASK, -2) == b"llo"
        assert impl(b"\x00" * 4, RFC_MASK, 1) == bytes.fromhex("fa213d37")

    def test_offset_as_keyword(self, impl: MaskFn) -> None:
        assert impl(RFC_HELLO_MASKED[2:], RFC_MASK, offset=2) == b"llo"

    @pytest.mark.parametrize("bad_mask", [b"", b"\x01\x02\x03", b"\x01\x02\x03\x04\x05"])
    def test_mask_must_be_four_bytes(self, impl: MaskFn, bad_mask: bytes) -> None:
        with pytest.raises(ValueError, match="4 bytes"):
            impl(b"Hello", bad_mask)

    def test_does_not_modify_input(self, impl: MaskFn) -> None:
        data = bytearray(b"Hello")
        impl(data, RFC_MASK)
        assert data == b"Hello"

    @pytest.mark.parametrize("size", [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 125, 126, 65535, 65537])
    @pytest.mark.parametrize("offset", [0, 1, 2, 3])
    def test_matches_rfc_definition(self, impl: MaskFn, size: int, offset: int) -> None:
        data = bytes((i * 7 + 3) & 0xFF for i in range(size))
        assert impl(data, RFC_MASK, offset) == _reference(data, RFC_MASK, offset)

    def test_large_payload_round_trip(self, impl: MaskFn) -> None:
        # Above the C code's 64 KiB threshold, where it releases the GIL.
        data = os.urandom(1 << 20) + b"tail"
        masked = impl(data, RFC_MASK, 1)
        assert masked != data
        assert masked[-4:] == _reference(b"tail", RFC_MASK, 1 + (1 << 20))
        assert impl(masked, RFC_MASK, 1) == data


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    offset=st.integers(min_value=0, max_value=1 << 40),
)
def test_python_matches_rfc_definition(data: bytes, mask: bytes, offset: int) -> None:
    assert apply_mask_python(data, mask, offset) == _reference(data, mask, offset)


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=300),
    mask=st.binary(min_size=4, max_size=4),
    offset=st.integers(min_value=0, max_value=1 << 40),
    split=st.integers(min_value=0, max_value=300),
)
def test_round_trip_in_chunks(data: bytes, mask: bytes, offset: int, split: int) -> None:
    split = min(split, len(data))
    masked = apply_mask(data, mask, offset)
    unmasked = apply_mask(masked[:split], mask, offset) + apply_mask(
        masked[split:], mask, offset + split
    )
    assert unmasked == data


@pytest.mark.skipif(masking.apply_mask_c is None, reason="C extension not built or disabled")
@settings(max_examples=500, deadline=None)
@given(
    data=st.binary(max_size=2000),
    mask=st.binary(min_size=4, max_size=4),
    offset=st.integers(min_value=-(1 << 40), max_value=1 << 40),
)
def test_c_and_python_agree(data: bytes, mask: bytes, offset: int) -> None:
    assert masking.apply_mask_c is not None
    assert masking.apply_mask_c(data, mask, offset) == apply_mask_python(data, mask, offset)
