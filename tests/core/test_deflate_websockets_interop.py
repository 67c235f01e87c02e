"""Negotiation and payload bytes against the ``websockets`` library's extension, in memory."""

from __future__ import annotations

import pytest

pmd = pytest.importorskip("websockets.extensions.permessage_deflate")
frames = pytest.importorskip("websockets.frames")

from wsproto_cb.core.deflate import (  # noqa: E402
    PerMessageDeflate,
    PerMessageDeflateOffer,
    accept_deflate_offer,
    accept_deflate_response,
    negotiate_client,
    negotiate_server,
)

MESSAGES = [b"Hello", b"Hello", b"", b"{'a': 1}" * 300, bytes(range(256)) * 30]


def exchange(ours: PerMessageDeflate, theirs: object) -> None:
    """Every message both ways, with context carried across messages."""
    for message in MESSAGES:
        ours.start_compress_message()
        payload = ours.compress_message_data(message) + ours.end_compress_message()
        frame = frames.Frame(frames.Opcode.BINARY, payload, rsv1=True)
        assert theirs.decode(frame, max_size=None).data == message  # type: ignore[attr-defined]

        encoded = theirs.encode(frames.Frame(frames.Opcode.BINARY, message))  # type: ignore[attr-defined]
        assert encoded.rsv1
        ours.start_decompress_message()
        out = ours.decompress_message_data(bytes(encoded.data), 0)
        assert out + ours.end_decompress_message(0) == message


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"server_max_window_bits": 10},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
        {"client_max_window_bits": 11},
        {"server_max_window_bits": 8},
    ],
)
def test_websockets_client_against_our_server(kwargs: dict[str, object]) -> None:
    factory = pmd.ClientPerMessageDeflateFactory(**kwargs)
    request = factory.get_request_params()
    server, response = negotiate_server([("permessage-deflate", request)], accept_deflate_offer)
    assert server is not None and response is not None
    params = [
        (key, value or None)
        for key, _, value in (p.strip().partition("=") for p in response.split(";")[1:])
    ]
    theirs = factory.process_response_params(params, [])
    exchange(server, theirs)


@pytest.mark.parametrize(
    "offer",
    [
        PerMessageDeflateOffer(),
        PerMessageDeflateOffer(accept_no_context_takeover=False),
        PerMessageDeflateOffer(False, True, True, 9),
        PerMessageDeflateOffer(False, True, False, 0, client_max_window_bits_hint=10),
    ],
)
@pytest.mark.parametrize("server_bits", [None, 12])
def test_our_client_against_a_websockets_server(
    offer: PerMessageDeflateOffer, server_bits: int | None
) -> None:
    factory = pmd.ServerPerMessageDeflateFactory(
        server_max_window_bits=server_bits, client_max_window_bits=server_bits
    )
    request = [
        (key, value or None)
        for key, _, value in (
            p.strip().partition("=") for p in offer.get_extension_string().split(";")[1:]
        )
    ]
    response_params, theirs = factory.process_request_params(request, [])
    client = negotiate_client(
        [("permessage-deflate", response_params)], [offer], accept_deflate_response
    )
    assert client is not None
    exchange(client, theirs)
