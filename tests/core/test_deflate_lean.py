"""An accept that chooses no window and no memLevel compresses lean (window 12, memLevel 5).

Compressing with a smaller window than negotiated is always valid, so the
handshake and the peer's inflater stay as they were; explicit arguments are
honoured.  The window our compressor really uses shows in its output: a
block repeated 8 KiB later is a back-reference for a 32 KiB window and
literal bytes again for a 4 KiB one.
"""

from __future__ import annotations

import os
import zlib

import pytest

from wsproto_cb.core.deflate import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponseAccept,
    negotiate_client,
    negotiate_server,
)
from wsproto_cb.core.deflate_constants import LEAN_COMPRESS_MEM_LEVEL, LEAN_COMPRESS_WINDOW_BITS

BROWSER_OFFER = [("permessage-deflate", [("client_max_window_bits", None)])]
BLOCK = os.urandom(8192)
REPEATED = BLOCK + BLOCK  # the second copy is 8 KiB back


def compressed(codec: object, data: bytes) -> bytes:
    codec.start_compress_message()  # type: ignore[attr-defined]
    body = codec.compress_message_data(data)  # type: ignore[attr-defined]
    return body + codec.end_compress_message()  # type: ignore[attr-defined]


def inflate(payload: bytes, bits: int = 15) -> bytes:
    return zlib.decompressobj(-bits).decompress(payload + b"\x00\x00\xff\xff")


def test_autobahn_style_accept_compresses_with_a_4_kib_window() -> None:
    codec, response = negotiate_server(BROWSER_OFFER, lambda o: PerMessageDeflateOfferAccept(o[0]))
    assert codec is not None
    assert (codec.compress_window_bits, codec.compress_mem_level) == (
        LEAN_COMPRESS_WINDOW_BITS,
        LEAN_COMPRESS_MEM_LEVEL,
    )
    # nothing changes on the wire: the response still allows 15 bits
    assert response == "permessage-deflate"
    assert codec.server_max_window_bits == 15
    payload = compressed(codec, REPEATED)
    assert len(payload) > len(REPEATED) * 0.9  # no match 8 KiB back
    assert inflate(payload) == REPEATED  # a 15-bit inflater reads it


@pytest.mark.parametrize(
    ("window_bits", "mem_level", "expected"),
    [(15, None, (15, 8)), (None, 8, (15, 8)), (15, 9, (15, 9)), (10, None, (10, 8))],
)
def test_explicit_arguments_are_honoured(
    window_bits: int | None, mem_level: int | None, expected: tuple[int, int]
) -> None:
    codec, _ = negotiate_server(
        BROWSER_OFFER,
        lambda o: PerMessageDeflateOfferAccept(o[0], window_bits=window_bits, mem_level=mem_level),
    )
    assert codec is not None
    assert (codec.compress_window_bits, codec.compress_mem_level) == expected
    if expected[0] == 15:
        assert len(compressed(codec, REPEATED)) < len(BLOCK) * 1.1  # the match is found


def test_a_smaller_window_the_client_asked_for_stays_smaller() -> None:
    offer = [("permessage-deflate", [("server_max_window_bits", "9")])]
    codec, response = negotiate_server(offer, lambda o: PerMessageDeflateOfferAccept(o[0]))
    assert codec is not None
    assert codec.compress_window_bits == 9
    assert response == "permessage-deflate; server_max_window_bits=9"
    assert inflate(compressed(codec, REPEATED), 9) == REPEATED


def test_client_accept_with_no_arguments_compresses_lean() -> None:
    offers = [PerMessageDeflateOffer()]
    codec = negotiate_client(
        [("permessage-deflate", [])], offers, lambda r: PerMessageDeflateResponseAccept(r)
    )
    assert codec is not None
    assert codec.compress_window_bits == LEAN_COMPRESS_WINDOW_BITS
    assert codec.client_max_window_bits == 15
    assert inflate(compressed(codec, REPEATED)) == REPEATED


def test_codecs_that_compress_alike_share_broadcast_frames() -> None:
    """The shared-frame key is what the compressor uses, not what was negotiated."""
    lean, _ = negotiate_server(
        BROWSER_OFFER,
        lambda o: PerMessageDeflateOfferAccept(o[0], no_context_takeover=True),
    )
    explicit, _ = negotiate_server(
        BROWSER_OFFER,
        lambda o: PerMessageDeflateOfferAccept(
            o[0], no_context_takeover=True, window_bits=12, mem_level=5
        ),
    )
    assert lean is not None and explicit is not None
    assert lean.shared_frame_key == explicit.shared_frame_key
    assert lean.compress_whole_message(REPEATED) == explicit.compress_whole_message(REPEATED)
