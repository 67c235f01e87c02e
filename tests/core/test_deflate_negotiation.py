"""permessage-deflate negotiation: parameter parsing, server choice, client checks."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsproto_cb.core.deflate import (
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
    accept_deflate_offer,
    accept_deflate_response,
    build_client_offers_header,
    negotiate_client,
    negotiate_server,
)
from wsproto_cb.core.errors import HandshakeError

Params = list[tuple[str, str | None]]
PMD = "permessage-deflate"


def parse_header(value: str) -> list[tuple[str, Params]]:
    """A tiny Sec-WebSocket-Extensions parser, enough for our own output."""
    result: list[tuple[str, Params]] = []
    for element in value.split(","):
        name, *params = (part.strip() for part in element.split(";"))
        pairs: Params = []
        for param in params:
            key, sep, val = param.partition("=")
            pairs.append((key, val if sep else None))
        result.append((name, pairs))
    return result


def talk(server: PerMessageDeflate, client: PerMessageDeflate) -> None:
    """Both codecs understand each other, twice (context takeover) each way."""
    for sender, receiver in ((server, client), (client, server)):
        for message in (b"ping " * 50, b"ping " * 50):
            sender.start_compress_message()
            payload = sender.compress_message_data(message) + sender.end_compress_message()
            receiver.start_decompress_message()
            out = receiver.decompress_message_data(payload, 0)
            assert out + receiver.end_decompress_message(0) == message


# -- offers -------------------------------------------------------------------------


def test_offer_defaults_match_autobahn() -> None:
    offer = PerMessageDeflateOffer()
    assert offer.get_extension_string() == (
        "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    )
    assert offer.__json__()["request_max_window_bits"] == 0


def test_offer_string_with_everything() -> None:
    offer = PerMessageDeflateOffer(False, True, True, 10, client_max_window_bits_hint=11)
    assert offer.get_extension_string() == (
        "permessage-deflate; client_max_window_bits=11; server_no_context_takeover;"
        " server_max_window_bits=10"
    )
    assert eval(repr(offer)).__json__() == offer.__json__()


def test_parse_empty_offer() -> None:
    offer = PerMessageDeflateOffer.parse([])
    assert offer.accept_no_context_takeover  # RFC 7692 7.1.1.2: always allowed
    assert not offer.accept_max_window_bits
    assert not offer.request_no_context_takeover
    assert offer.request_max_window_bits == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("server_no_context_takeover", None)], {"request_no_context_takeover": True}),
        ([("client_no_context_takeover", None)], {"accept_no_context_takeover": True}),
        ([("server_max_window_bits", "8")], {"request_max_window_bits": 8}),
        ([("server_max_window_bits", "15")], {"request_max_window_bits": 15}),
        ([("client_max_window_bits", None)], {"accept_max_window_bits": True}),
        (
            [("client_max_window_bits", "9")],
            {"accept_max_window_bits": True, "client_max_window_bits_hint": 9},
        ),
    ],
)
def test_parse_valid_offer_parameters(params: Params, expected: dict[str, object]) -> None:
    offer = PerMessageDeflateOffer.parse(params)
    for key, value in expected.items():
        assert getattr(offer, key) == value


@pytest.mark.parametrize(
    "params",
    [
        [("server_no_context_takeover", "1")],
        [("client_no_context_takeover", "")],
        [("server_max_window_bits", None)],
        *([("server_max_window_bits", v)] for v in ("7", "16", "abc", "09", "", " 9", "+9")),
        *([("client_max_window_bits", v)] for v in ("7", "16", "abc", "010")),
        [("server_no_context_takeover", None), ("server_no_context_takeover", None)],
        [("client_max_window_bits", None), ("client_max_window_bits", "10")],
        [("server_max_window_bits", "10"), ("server_max_window_bits", "10")],
        [("mux", None)],
        [("Server_No_Context_Takeover", None)],
    ],
)
def test_parse_malformed_offer_raises_handshake_error(params: Params) -> None:
    with pytest.raises(HandshakeError) as info:
        PerMessageDeflateOffer.parse(params)
    assert info.value.status == 400


def test_parse_accepts_autobahns_dict_form() -> None:
    offer = PerMessageDeflateOffer.parse(
        {"server_max_window_bits": ["10"], "client_max_window_bits": [True]}
    )
    assert offer.request_max_window_bits == 10 and offer.accept_max_window_bits
    with pytest.raises(HandshakeError):
        PerMessageDeflateOffer.parse({"server_no_context_takeover": [True, True]})
    with pytest.raises(HandshakeError):
        PerMessageDeflateOffer.parse({"server_max_window_bits": [False]})


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((1,), {}, TypeError),
        ((True, "yes"), {}, TypeError),
        ((True, True, False, 16), {}, ValueError),
        ((True, True, False, 7), {}, ValueError),
        ((True, False), {"client_max_window_bits_hint": 10}, ValueError),
    ],
)
def test_offer_constructor_validation(
    args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        PerMessageDeflateOffer(*args, **kwargs)  # type: ignore[arg-type]


# -- offer accept ---------------------------------------------------------------------


def test_offer_accept_validation() -> None:
    bare = PerMessageDeflateOffer.parse([])
    wants = PerMessageDeflateOffer.parse(
        [
            ("server_no_context_takeover", None),
            ("server_max_window_bits", "10"),
            ("client_max_window_bits", "11"),
        ]
    )
    with pytest.raises(ValueError):  # RFC 7692 7.1.2.2
        PerMessageDeflateOfferAccept(bare, request_max_window_bits=10)
    with pytest.raises(ValueError):
        PerMessageDeflateOfferAccept(wants, request_max_window_bits=12)
    with pytest.raises(ValueError):
        PerMessageDeflateOfferAccept(wants, no_context_takeover=False)
    with pytest.raises(ValueError):
        PerMessageDeflateOfferAccept(wants, window_bits=11)
    for mem_level in (0, 10):
        with pytest.raises(ValueError):
            PerMessageDeflateOfferAccept(bare, mem_level=mem_level)
    with pytest.raises(ValueError):
        PerMessageDeflateOfferAccept(
            PerMessageDeflateOffer(accept_no_context_takeover=False),
            request_no_context_takeover=True,
        )
    with pytest.raises(TypeError):
        PerMessageDeflateOfferAccept("offer")  # type: ignore[arg-type]
    ok = PerMessageDeflateOfferAccept(wants, True, 11, True, 9, 5, 1000)
    assert ok.get_extension_string() == (
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=9;"
        " client_no_context_takeover; client_max_window_bits=11"
    )
    assert ok.__json__()["offer"] == wants.__json__()
    assert "window_bits=9" in repr(ok)


def test_offer_accept_announces_what_the_server_chose_itself() -> None:
    accept = PerMessageDeflateOfferAccept(
        PerMessageDeflateOffer.parse([]), no_context_takeover=True, window_bits=11
    )
    assert accept.get_extension_string() == (
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11"
    )
    codec = PerMessageDeflate.create_from_offer_accept(True, accept)
    assert codec.server_no_context_takeover and codec.server_max_window_bits == 11
    assert not codec.client_no_context_takeover and codec.client_max_window_bits == 15


# -- responses ------------------------------------------------------------------------


def test_parse_response() -> None:
    response = PerMessageDeflateResponse.parse(
        [
            ("server_no_context_takeover", None),
            ("client_no_context_takeover", None),
            ("server_max_window_bits", "9"),
            ("client_max_window_bits", "10"),
        ]
    )
    assert response.__json__() == {
        "extension": PMD,
        "client_max_window_bits": 10,
        "client_no_context_takeover": True,
        "server_max_window_bits": 9,
        "server_no_context_takeover": True,
    }
    assert eval(repr(response)).__json__() == response.__json__()


@pytest.mark.parametrize(
    "params",
    [
        [("client_max_window_bits", None)],  # a response must state the size
        [("server_max_window_bits", "16")],
        [("client_max_window_bits", "7")],
        [("server_no_context_takeover", "x")],
        [("client_no_context_takeover", None), ("client_no_context_takeover", None)],
        [("foo", "bar")],
    ],
)
def test_parse_malformed_response(params: Params) -> None:
    with pytest.raises(HandshakeError) as info:
        PerMessageDeflateResponse.parse(params)
    assert info.value.status == 0


def test_response_accept_validation() -> None:
    response = PerMessageDeflateResponse(10, True, 0, False)
    with pytest.raises(ValueError):
        PerMessageDeflateResponseAccept(response, no_context_takeover=False)
    with pytest.raises(ValueError):
        PerMessageDeflateResponseAccept(response, window_bits=11)
    with pytest.raises(TypeError):
        PerMessageDeflateResponseAccept(object())  # type: ignore[arg-type]
    accept = PerMessageDeflateResponseAccept(response, True, 9, 4, 100)
    codec = PerMessageDeflate.create_from_response_accept(False, accept)
    assert codec.__json__() == {
        "extension": PMD,
        "is_server": False,
        "server_no_context_takeover": False,
        "client_no_context_takeover": True,
        "server_max_window_bits": 15,
        "client_max_window_bits": 9,
        "mem_level": 4,
        "max_message_size": 100,
    }


# -- negotiate_server ---------------------------------------------------------------


def never(offers: Sequence[PerMessageDeflateOffer]) -> None:
    raise AssertionError("accept callback called without offers")


def test_server_without_offers_does_not_call_the_application() -> None:
    assert negotiate_server([], never) == (None, None)
    assert negotiate_server([("x-webkit-deflate-frame", [])], never) == (None, None)
    assert negotiate_server([(PMD, [("mux", None)])], never) == (None, None)


def test_server_skips_malformed_offers_and_keeps_order() -> None:
    seen: list[list[PerMessageDeflateOffer]] = []

    def choose(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept | None:
        seen.append(offers)
        return PerMessageDeflateOfferAccept(offers[0])

    header = parse_header(
        "permessage-deflate; server_max_window_bits=16,"
        " permessage-deflate; client_no_context_takeover; client_no_context_takeover,"
        " x-foo, permessage-deflate; server_max_window_bits=10,"
        " permessage-deflate; unknown, permessage-deflate"
    )
    codec, response = negotiate_server(header, choose)
    assert [o.request_max_window_bits for o in seen[0]] == [10, 0]
    assert response == "permessage-deflate; server_max_window_bits=10"
    assert codec is not None and codec.server_max_window_bits == 10


def test_server_application_may_decline() -> None:
    assert negotiate_server([(PMD, [])], lambda offers: None) == (None, None)


def test_server_rejects_a_foreign_accept() -> None:
    foreign = PerMessageDeflateOfferAccept(PerMessageDeflateOffer())
    with pytest.raises(ValueError):
        negotiate_server([(PMD, [])], lambda offers: foreign)
    with pytest.raises(TypeError):
        negotiate_server([(PMD, [])], lambda offers: "yes")  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("offer", "response", "server_bits", "client_bits"),
    [
        # A browser's offer.
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            12,
            12,
        ),
        # No client_max_window_bits: the response must not have it (7.1.2.2).
        ("permessage-deflate", "permessage-deflate; server_max_window_bits=12", 12, 15),
        (
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            10,
            9,
        ),
        (
            "permessage-deflate; server_max_window_bits=14; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
            12,
            15,
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
            8,
            15,
        ),
    ],
)
def test_default_server_accept(
    offer: str, response: str, server_bits: int, client_bits: int
) -> None:
    codec, header = negotiate_server(parse_header(offer), accept_deflate_offer)
    assert header == response
    assert codec is not None
    assert (codec.server_max_window_bits, codec.client_max_window_bits) == (
        server_bits,
        client_bits,
    )
    assert codec.mem_level == 5


def test_default_server_accept_without_offers() -> None:
    assert accept_deflate_offer([]) is None


@settings(deadline=None, max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([PMD, "x-other"]),
            st.lists(
                st.tuples(
                    st.sampled_from(
                        [
                            "server_no_context_takeover",
                            "client_no_context_takeover",
                            "server_max_window_bits",
                            "client_max_window_bits",
                            "other",
                        ]
                    ),
                    st.one_of(
                        st.none(), st.sampled_from(["8", "9", "12", "15", "7", "16"]), st.text()
                    ),
                ),
                max_size=5,
            ),
        ),
        max_size=4,
    )
)
def test_server_never_crashes_and_its_answer_satisfies_a_client(
    header: list[tuple[str, Params]],
) -> None:
    codec, response = negotiate_server(header, accept_deflate_offer)
    if codec is None:
        assert response is None
        return
    assert response is not None
    # The client that sent exactly these offers accepts the answer.
    offers = []
    for name, params in header:
        if name == PMD:
            with contextlib.suppress(HandshakeError):
                offers.append(PerMessageDeflateOffer.parse(params))
    client = negotiate_client(parse_header(response), offers, accept_deflate_response)
    assert client is not None
    talk(codec, client)


# -- negotiate_client -----------------------------------------------------------------


def client(
    response: str, offers: Sequence[PerMessageDeflateOffer] | None = None
) -> PerMessageDeflate | None:
    if offers is None:
        offers = [PerMessageDeflateOffer()]
    return negotiate_client(parse_header(response), offers, accept_deflate_response)


def test_client_without_response_extension_has_no_compression() -> None:
    assert negotiate_client([], [PerMessageDeflateOffer()], accept_deflate_response) is None


@pytest.mark.parametrize(
    ("offer", "response"),
    [
        # Unknown or repeated extension in the response.
        (PerMessageDeflateOffer(), "x-foo"),
        (PerMessageDeflateOffer(), "permessage-deflate, x-foo"),
        (PerMessageDeflateOffer(), "permessage-deflate, permessage-deflate"),
        # Malformed parameters.
        (PerMessageDeflateOffer(), "permessage-deflate; mux"),
        (PerMessageDeflateOffer(), "permessage-deflate; server_max_window_bits=7"),
        (PerMessageDeflateOffer(), "permessage-deflate; server_max_window_bits=16"),
        (PerMessageDeflateOffer(), "permessage-deflate; server_max_window_bits=abc"),
        (PerMessageDeflateOffer(), "permessage-deflate; server_max_window_bits"),
        (PerMessageDeflateOffer(), "permessage-deflate; client_max_window_bits"),
        (
            PerMessageDeflateOffer(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ),
        (PerMessageDeflateOffer(), "permessage-deflate; client_no_context_takeover=1"),
        # Parameters that answer no offer.
        (PerMessageDeflateOffer(request_max_window_bits=10), "permessage-deflate"),
        (
            PerMessageDeflateOffer(request_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=11",
        ),
        (PerMessageDeflateOffer(request_no_context_takeover=True), "permessage-deflate"),
        (
            PerMessageDeflateOffer(accept_max_window_bits=False),
            "permessage-deflate; client_max_window_bits=10",
        ),
        (
            PerMessageDeflateOffer(client_max_window_bits_hint=10),
            "permessage-deflate; client_max_window_bits=11",
        ),
    ],
)
def test_client_fails_the_handshake_on_a_bad_response(
    offer: PerMessageDeflateOffer, response: str
) -> None:
    with pytest.raises(HandshakeError) as info:
        client(response, [offer])
    assert info.value.status == 0
    assert info.value.reason


def test_client_fails_when_nothing_was_offered() -> None:
    with pytest.raises(HandshakeError):
        client("permessage-deflate", [])


@pytest.mark.parametrize(
    ("offer", "response", "expected"),
    [
        (PerMessageDeflateOffer(), "permessage-deflate", (False, True, 15, 15)),
        (
            PerMessageDeflateOffer(accept_no_context_takeover=False),
            "permessage-deflate",
            (False, False, 15, 15),
        ),
        (
            PerMessageDeflateOffer(accept_no_context_takeover=False),
            "permessage-deflate; client_no_context_takeover",
            (False, True, 15, 15),
        ),
        # Unrequested server parameters are allowed (7.1.1.1, 7.1.2.1).
        (
            PerMessageDeflateOffer(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
            (True, True, 9, 15),
        ),
        (
            PerMessageDeflateOffer(request_max_window_bits=12),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=8",
            (False, True, 10, 8),
        ),
        # The client keeps its own promise of a smaller window.
        (
            PerMessageDeflateOffer(client_max_window_bits_hint=10),
            "permessage-deflate",
            (False, True, 15, 10),
        ),
    ],
)
def test_client_codec_parameters(
    offer: PerMessageDeflateOffer, response: str, expected: tuple[bool, bool, int, int]
) -> None:
    codec = client(response, [offer])
    assert codec is not None and not codec.is_server
    assert (
        codec.server_no_context_takeover,
        codec.client_no_context_takeover,
        codec.server_max_window_bits,
        codec.client_max_window_bits,
    ) == expected


def test_client_matches_the_response_to_a_later_offer() -> None:
    offers = [
        PerMessageDeflateOffer(request_no_context_takeover=True),
        PerMessageDeflateOffer(accept_no_context_takeover=False, request_max_window_bits=11),
    ]
    codec = client("permessage-deflate; server_max_window_bits=11", offers)
    assert codec is not None
    assert not codec.client_no_context_takeover  # second offer made no promise


def test_client_application_may_refuse_which_fails_the_handshake() -> None:
    with pytest.raises(HandshakeError):
        negotiate_client(parse_header(PMD), [PerMessageDeflateOffer()], lambda response: None)
    with pytest.raises(ValueError):
        negotiate_client(
            parse_header(PMD),
            [PerMessageDeflateOffer()],
            lambda response: PerMessageDeflateResponseAccept(
                PerMessageDeflateResponse(0, False, 0, False)
            ),
        )


def test_build_client_offers_header() -> None:
    assert build_client_offers_header([]) == ""
    header = build_client_offers_header(
        [PerMessageDeflateOffer(request_max_window_bits=10), PerMessageDeflateOffer(False, False)]
    )
    assert header == (
        "permessage-deflate; client_no_context_takeover; client_max_window_bits;"
        " server_max_window_bits=10, permessage-deflate"
    )


@pytest.mark.parametrize(
    "offer",
    [
        PerMessageDeflateOffer(),
        PerMessageDeflateOffer(False, True, True, 9),
        PerMessageDeflateOffer(False, True, False, 8, client_max_window_bits_hint=8),
        PerMessageDeflateOffer(False, False),
    ],
)
def test_full_handshake_round_trip(offer: PerMessageDeflateOffer) -> None:
    header = build_client_offers_header([offer])
    server, response = negotiate_server(parse_header(header), accept_deflate_offer)
    assert server is not None and response is not None
    codec = negotiate_client(parse_header(response), [offer], accept_deflate_response)
    assert codec is not None
    talk(server, codec)
