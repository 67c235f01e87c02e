"""``parse_url``/``create_url``: Autobahn's arguments and results, as unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from wsproto_cb.url import create_url, parse_url

autobahn_util = pytest.importorskip("autobahn.websocket.util")

URLS = [
    "ws://localhost",
    "wss://example.com:9000/a%20b?x=1&x=2&y=",
    "ws://127.0.0.1:8080/chat/room?name=%C3%A9",
    "WS://Example.com/",
    "ws://unix:/tmp/ws.sock",
    "ws://unix:/tmp/ws.sock/chat?a=1",
]


@pytest.mark.parametrize("url", URLS)
def test_parse_url_gives_autobahns_tuple(url: str) -> None:
    ours = parse_url(url)
    assert tuple(ours) == autobahn_util.parse_url(url)
    is_secure, host, port, resource, path, params = ours  # unpacks like Autobahn's
    assert (is_secure, host, port, resource, path, params) == (
        ours.is_secure,
        ours.host,
        ours.port,
        ours.resource,
        ours.path,
        ours.params,
    )


def test_parse_url_decodes_the_path_but_not_the_resource() -> None:
    url = parse_url("ws://h/a%20b?q=%20")
    assert url.path == "/a b"
    assert url.resource == "/a%20b?q=%20"
    assert url.params == {"q": [" "]}


def test_parse_url_unix_socket_path_in_place_of_the_port() -> None:
    assert parse_url("wss://unix:/run/app.sock")[:3] == (True, "unix", "/run/app.sock")


@pytest.mark.parametrize(
    "args",
    [
        ("localhost",),
        ("localhost", 9000),
        ("example.com", None, True),
        ("example.com", 8443, True, "/a b/ü"),
        ("h", 80, False, "/ws", {"room": "a b", "n": 1}),
        ("unix", "/tmp/ws.sock"),
        ("unix", "/tmp/ws.sock", False, "/chat"),
    ],
)
def test_create_url_matches_autobahn(args: tuple[Any, ...]) -> None:
    assert create_url(*args) == autobahn_util.create_url(*args)


def test_create_url_brackets_ipv6_and_round_trips() -> None:
    url = create_url("::1", 9000, path="/ws", params={"a": "1"})
    assert url == "ws://[::1]:9000/ws?a=1"
    assert parse_url(url)[:4] == (False, "::1", 9000, "/ws?a=1")


@pytest.mark.parametrize(
    ("args", "error"),
    [(("h", 70000), ValueError), (("h", "80"), ValueError), (("h", None, 1), TypeError)],
)
def test_create_url_refuses_bad_arguments(args: tuple[Any, ...], error: type) -> None:
    with pytest.raises(error):
        create_url(*args)
