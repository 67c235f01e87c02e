"""Headers container and the list grammars of the opening handshake."""

from __future__ import annotations

import pytest

from wsproto_cb.core.errors import HandshakeError
from wsproto_cb.core.headers import (
    Headers,
    build_extension_header,
    field_pairs,
    is_token,
    parse_extension_header,
    parse_subprotocol_list,
    parse_token_list,
    validate_field_name,
    validate_field_value,
)


def test_headers_keep_order_duplicates_and_spelling() -> None:
    h = Headers([("X-A", "1"), ("Host", "example.com"), ("x-a", "2")])
    h.add("X-A", "3")
    assert list(h) == [("X-A", "1"), ("Host", "example.com"), ("x-a", "2"), ("X-A", "3")]
    assert h.items() == list(h)
    assert len(h) == 4
    assert h.get_all("X-a") == ["1", "2", "3"]
    assert h.get("x-A") == "1"  # the first value
    assert h.get("missing") is None
    assert h.get("missing", "d") == "d"
    assert "HOST" in h and "host" in h
    assert "nope" not in h
    assert 1 not in h


def test_headers_as_dict_is_autobahn_view() -> None:
    h = Headers([("Connection", "keep-alive"), ("X-A", "1"), ("connection", "Upgrade")])
    assert h.as_dict() == {"connection": "keep-alive, Upgrade", "x-a": "1"}


def test_headers_items_is_a_copy_and_equality() -> None:
    h = Headers([("A", "1")])
    h.items().append(("B", "2"))
    assert len(h) == 1
    assert h == Headers([("A", "1")])
    assert h != Headers([("a", "1")])
    assert repr(h) == "Headers([('A', '1')])"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Upgrade", ["Upgrade"]),
        ("keep-alive, Upgrade", ["keep-alive", "Upgrade"]),
        (" ,a ,\t, b\t,,", ["a", "b"]),
        ("", []),
        ("websocket/13, HTTP/2.0", ["websocket/13", "HTTP/2.0"]),
    ],
)
def test_parse_token_list(value: str, expected: list[str]) -> None:
    assert parse_token_list(value) == expected


def test_parse_subprotocol_list_joins_values_drops_repeats() -> None:
    assert parse_subprotocol_list(["chat, superchat", "  ", "chat,v2.x"]) == [
        "chat",
        "superchat",
        "v2.x",
    ]
    assert parse_subprotocol_list([]) == []


@pytest.mark.parametrize("bad", ["a b", "chat/1", 'x"y', "ü"])
def test_parse_subprotocol_list_rejects_non_tokens(bad: str) -> None:
    with pytest.raises(HandshakeError) as info:
        parse_subprotocol_list([f"ok, {bad}"])
    assert info.value.status == 400


def test_parse_extension_header_rfc_example() -> None:
    value = 'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo'
    assert parse_extension_header([value]) == [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("x-foo", []),
    ]


def test_parse_extension_header_whitespace_empty_elements_and_values() -> None:
    values = [
        ' , foo ;a = 1 ;\tb="x\\yz" ,,',
        "bar",
        "permessage-deflate;client_no_context_takeover",
    ]
    assert parse_extension_header(values) == [
        ("foo", [("a", "1"), ("b", "xyz")]),
        ("bar", []),
        ("permessage-deflate", [("client_no_context_takeover", None)]),
    ]
    assert parse_extension_header([]) == []
    assert parse_extension_header([""]) == []


@pytest.mark.parametrize(
    "bad",
    [
        "foo;",  # parameter name missing
        "foo; =1",
        "foo; a=",  # value missing
        'foo; a="1',  # unterminated quoted-string
        'foo; a="1 2"',  # quoted value is not a token after unescaping
        'foo; a=""',
        "foo bar",  # missing separator
        "foo; a=1 2",
        "f@o",
        ";a",
        "foo; a=\x01",
        'foo; a="\x01"',
        'foo; a="\\',
        "foo; a==1",
    ],
)
def test_parse_extension_header_malformed(bad: str) -> None:
    with pytest.raises(HandshakeError) as info:
        parse_extension_header(["ok", bad])
    assert info.value.status == 400
    assert "Sec-WebSocket-Extensions" in info.value.reason


def test_build_extension_header_round_trip() -> None:
    exts = [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("x-foo", []),
    ]
    value = build_extension_header(exts)
    assert value == ("permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo")
    assert parse_extension_header([value]) == exts
    assert build_extension_header([]) == ""


@pytest.mark.parametrize(
    "exts",
    [
        [("bad name", [])],
        [("ok", [("bad=name", None)])],
        [("ok", [("p", "two words")])],
        [("ok", [("p", "a\r\nX-Injected: 1")])],
    ],
)
def test_build_extension_header_rejects_non_tokens(
    exts: list[tuple[str, list[tuple[str, str | None]]]],
) -> None:
    with pytest.raises(ValueError):
        build_extension_header(exts)


def test_field_validators() -> None:
    assert is_token("Sec-WebSocket-Key")
    assert not is_token("")
    assert not is_token("a:b")
    validate_field_name("X-Ok")
    validate_field_value("tab\tand latin-1 é are fine")
    for bad_name in ("", "X Bad", "X:", "X\r\n"):
        with pytest.raises(ValueError):
            validate_field_name(bad_name)
    for bad_value in ("a\r\nInjected: 1", "a\nb", "a\rb", "nul\x00", "del\x7f", "snow☃"):
        with pytest.raises(ValueError):
            validate_field_value(bad_value)


def test_field_pairs_take_autobahn_value_shapes() -> None:
    """A list (or tuple) is one field per item, in order; anything else one field."""
    given = {"Set-Cookie": ["a=1", "b=2"], "X-Count": 5, "X-Pair": ("p", 1), "X-S": "s"}
    assert field_pairs(given) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-Count", "5"),
        ("X-Pair", "p"),
        ("X-Pair", "1"),
        ("X-S", "s"),
    ]
    assert field_pairs([("A", "1"), ("A", ["2", "3"])]) == [("A", "1"), ("A", "2"), ("A", "3")]
    assert field_pairs({}) == []
