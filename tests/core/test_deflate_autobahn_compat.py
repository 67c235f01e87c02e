"""wsproto_cb.compress against Autobahn's own classes: same strings, same bytes."""

from __future__ import annotations

import itertools

import pytest

autobahn_compress = pytest.importorskip("autobahn.websocket.compress")

import wsproto_cb.compress as ours  # noqa: E402

BITS = [0, 9, 12, 15]


def test_every_autobahn_deflate_name_exists() -> None:
    names = [
        name
        for name in autobahn_compress.__all__
        if "Deflate" in name or "Compress" in name or name == "PERMESSAGE_COMPRESSION_EXTENSION"
    ]
    assert names
    for name in names:
        assert hasattr(ours, name), name
    registry = ours.PERMESSAGE_COMPRESSION_EXTENSION["permessage-deflate"]
    assert registry["PMCE"] is ours.PerMessageDeflate
    assert issubclass(ours.PerMessageDeflateOffer, ours.PerMessageCompressOffer)
    assert issubclass(ours.PerMessageDeflate, ours.PerMessageCompress)


@pytest.mark.parametrize(
    "args", list(itertools.product([False, True], [False, True], [False, True], BITS))
)
def test_offer_strings_match(args: tuple[bool, bool, bool, int]) -> None:
    theirs = autobahn_compress.PerMessageDeflateOffer(*args)
    mine = ours.PerMessageDeflateOffer(*args)
    assert mine.get_extension_string() == theirs.get_extension_string()
    for key, value in theirs.__json__().items():
        assert mine.__json__()[key] == value


@pytest.mark.parametrize(
    ("offer_args", "accept_args"),
    list(
        itertools.product(
            itertools.product([False, True], BITS),
            itertools.product([False, True], BITS),
        )
    ),
)
def test_offer_accept_strings_match(
    offer_args: tuple[bool, int], accept_args: tuple[bool, int]
) -> None:
    theirs = autobahn_compress.PerMessageDeflateOfferAccept(
        autobahn_compress.PerMessageDeflateOffer(True, True, *offer_args), *accept_args
    )
    mine = ours.PerMessageDeflateOfferAccept(
        ours.PerMessageDeflateOffer(True, True, *offer_args), *accept_args
    )
    assert mine.get_extension_string() == theirs.get_extension_string()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"client_max_window_bits": [True]},
        {"client_max_window_bits": ["10"], "server_no_context_takeover": [True]},
        {"server_max_window_bits": ["9"], "client_no_context_takeover": [True]},
    ],
)
def test_parse_matches(params: dict[str, list[str | bool]]) -> None:
    theirs = autobahn_compress.PerMessageDeflateOffer.parse(params).__json__()
    mine = ours.PerMessageDeflateOffer.parse(params).__json__()
    assert {key: mine[key] for key in theirs} == theirs


@pytest.mark.parametrize("bits", [9, 11, 15])
@pytest.mark.parametrize("nct", [False, True])
def test_codecs_interoperate_byte_for_byte(bits: int, nct: bool) -> None:
    args = (nct, nct, bits, bits, 8)
    their_server = autobahn_compress.PerMessageDeflate(True, *args)
    their_client = autobahn_compress.PerMessageDeflate(False, *args)
    my_server = ours.PerMessageDeflate(True, *args)
    my_client = ours.PerMessageDeflate(False, *args)
    for message in (b"Hello", b"Hello", b"x" * 5000, bytes(range(256)) * 20):
        for sender_a, sender_b, receiver in (
            (their_server, my_server, my_client),
            (my_client, their_client, their_server),
        ):
            sender_a.start_compress_message()
            payload_a = sender_a.compress_message_data(message) + sender_a.end_compress_message()
            sender_b.start_compress_message()
            payload_b = sender_b.compress_message_data(message) + sender_b.end_compress_message()
            assert payload_a == payload_b
            receiver.start_decompress_message()
            if isinstance(receiver, ours.PerMessageDeflate):
                out = receiver.decompress_message_data(payload_a, 0)
                out += receiver.end_decompress_message(0)
            else:
                out = receiver.decompress_message_data(payload_a)
                receiver.end_decompress_message()
            assert out == message
