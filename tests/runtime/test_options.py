"""Factory options, session parameters and URLs: validated, named, never reset by accident."""

from __future__ import annotations

from typing import Any

import pytest

from wsproto_cb.options import CLIENT_OPTIONS, SERVER_OPTIONS
from wsproto_cb.types import ConnectionDeny
from wsproto_cb.url import create_url, parse_url

from .harness import RuntimeHarness

SIDES = ["server", "client"]


def make_factory(runtime: RuntimeHarness, side: str, url: str | None = None) -> Any:
    cls = (
        runtime.module.WebSocketServerFactory
        if side == "server"
        else (runtime.module.WebSocketClientFactory)
    )
    return cls(url)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"autoPingInterval": "1"}, TypeError),
        ({"autoPingInterval": -1}, ValueError),
        ({"autoPingTimeout": float("nan")}, ValueError),
        ({"openHandshakeTimeout": True}, TypeError),
        ({"maxMessagePayloadSize": -1}, ValueError),
        ({"maxFramePayloadSize": 1.5}, TypeError),
        ({"autoFragmentSize": "big"}, TypeError),
        ({"utf8validateIncoming": 1}, TypeError),
        ({"failByDrop": "yes"}, TypeError),
        ({"autoPingSize": 3}, ValueError),
        ({"autoPingSize": 126}, ValueError),
        ({"perMessageCompressionAccept": "deflate"}, TypeError),
        ({"noSuchOption": 1}, TypeError),
    ],
)
def test_bad_option_values_name_the_option(
    runtime: RuntimeHarness, side: str, options: dict[str, Any], error: type[Exception]
) -> None:
    factory = make_factory(runtime, side)
    (name,) = options
    with pytest.raises(error, match=name):
        factory.setProtocolOptions(**options)


@pytest.mark.parametrize(
    ("side", "options", "error"),
    [
        ("server", {"allowedOrigins": "*"}, TypeError),
        ("server", {"allowedOrigins": [1]}, TypeError),
        ("server", {"maxConnections": -1}, ValueError),
        ("server", {"versions": [8]}, ValueError),
        ("server", {"maskClientFrames": True}, TypeError),  # a client option
        ("client", {"version": 8}, ValueError),
        ("client", {"version": 12}, ValueError),  # (Autobahn's drafts 10-12 speak version 8)
        ("client", {"version": 19}, ValueError),
        ("client", {"perMessageCompressionOffers": ["deflate"]}, TypeError),
        ("client", {"serverConnectionDropTimeout": -0.5}, ValueError),
        ("client", {"maxConnections": 1}, TypeError),  # a server option
    ],
)
def test_side_specific_option_errors(
    runtime: RuntimeHarness, side: str, options: dict[str, Any], error: type[Exception]
) -> None:
    factory = make_factory(runtime, side)
    (name,) = options
    with pytest.raises(error, match=name):
        factory.setProtocolOptions(**options)


def test_client_version_is_autobahns_draft_number(runtime: RuntimeHarness) -> None:
    """Autobahn's client ``version`` is 18 (RFC 6455's last draft); 13-18 are accepted."""
    factory = make_factory(runtime, "client")
    assert factory.version == 18
    factory.setProtocolOptions(version=13)
    assert factory.version == 13
    with pytest.raises(ValueError, match="version"):
        factory.setProtocolOptions(version=True)


@pytest.mark.parametrize("side", SIDES)
def test_options_are_independent_and_atomic(runtime: RuntimeHarness, side: str) -> None:
    factory = make_factory(runtime, side)
    specs = SERVER_OPTIONS if side == "server" else CLIENT_OPTIONS
    # defaults as documented in wsproto_cb.options
    for name, spec in specs.items():
        assert getattr(factory, name) == spec.default, name
    assert factory.maxMessagePayloadSize == factory.maxFramePayloadSize == 16 * 1024 * 1024
    assert (factory.autoPingInterval, factory.autoPingTimeout) == (20.0, 20.0)
    assert factory.failByDrop is False

    factory.setProtocolOptions(autoPingInterval=5, maxMessagePayloadSize=1000)
    factory.setProtocolOptions(autoPingTimeout=3)
    assert (factory.autoPingInterval, factory.autoPingTimeout) == (5, 3)
    assert factory.maxMessagePayloadSize == 1000
    # None leaves an option as it is
    factory.setProtocolOptions(autoPingInterval=None, closeHandshakeTimeout=2)
    assert factory.autoPingInterval == 5 and factory.closeHandshakeTimeout == 2
    # a bad call changes nothing, not even the valid options given with it
    with pytest.raises(TypeError, match="maxFramePayloadSize"):
        factory.setProtocolOptions(autoPingInterval=7, maxFramePayloadSize="x")
    assert factory.autoPingInterval == 5
    factory.resetProtocolOptions()
    assert factory.autoPingInterval == 20.0 and factory.maxMessagePayloadSize == 16 * 1024 * 1024


def test_allowed_origins_survive_other_options(runtime: RuntimeHarness) -> None:
    factory = make_factory(runtime, "server")
    factory.setProtocolOptions(allowedOrigins=["https://a.example"])
    factory.setProtocolOptions(autoPingInterval=1)
    assert factory.allowedOrigins == ["https://a.example"]
    assert factory._origin_allowed("https://a.example")
    assert not factory._origin_allowed("https://b.example")
    factory.resetProtocolOptions()
    assert factory._origin_allowed("https://b.example")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize(
    ("url", "error", "match"),
    [
        ("http://example.com/", ValueError, "scheme"),
        ("example.com", ValueError, "scheme"),
        ("ws://", ValueError, "no host"),
        ("ws://example.com/#frag", ValueError, "fragment"),
        ("ws://example.com/#", ValueError, "fragment"),
        ("ws://user:pw@example.com/", ValueError, "user info"),
        ("ws://example.com:99999/", ValueError, "invalid WebSocket URL"),
        ("ws://example.com:port/", ValueError, "invalid WebSocket URL"),
        ("ws://example.com/a b", ValueError, "printable ASCII"),
        ("ws://example.com/ä", ValueError, "printable ASCII"),
        (b"ws://example.com/", TypeError, "str"),
    ],
)
def test_url_errors(
    runtime: RuntimeHarness, side: str, url: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make_factory(runtime, side, url)


@pytest.mark.parametrize("side", SIDES)
def test_url_parts(runtime: RuntimeHarness, side: str) -> None:
    factory = make_factory(runtime, side, "wss://example.com/chat?room=1&room=2")
    assert factory.isSecure and factory.port == 443 and factory.host == "example.com"
    assert factory.resource == "/chat?room=1&room=2" and factory.path == "/chat"
    assert factory.params == {"room": ["1", "2"]}
    factory = make_factory(runtime, side, "ws://[::1]:9000")
    assert (factory.host, factory.port, factory.resource) == ("::1", 9000, "/")
    assert not factory.isSecure
    factory = make_factory(runtime, side)
    assert (factory.host, factory.port) == ("localhost", 80)


def test_parse_and_create_url() -> None:
    assert parse_url("WS://Example.com:8080/a%20b").port == 8080
    # the port is always written, as Autobahn's create_url does
    assert create_url("example.com") == "ws://example.com:80/"
    assert create_url("example.com", 443, isSecure=True) == "wss://example.com:443/"
    assert create_url("::1", 9000, path="/ws") == "ws://[::1]:9000/ws"
    assert parse_url(create_url("::1", 9000, path="/ws")).host == "::1"


@pytest.mark.parametrize("side", SIDES)
def test_session_parameter_errors(runtime: RuntimeHarness, side: str) -> None:
    cls = (
        runtime.module.WebSocketServerFactory
        if side == "server"
        else (runtime.module.WebSocketClientFactory)
    )
    with pytest.raises(TypeError, match="list"):
        cls("ws://h/", protocols="chat")
    with pytest.raises(ValueError, match="subprotocol"):
        cls("ws://h/", protocols=["bad name"])
    with pytest.raises(TypeError, match="dict"):
        cls("ws://h/", headers=[("X-A", "1")])
    # refused when set, not at each handshake
    with pytest.raises(ValueError, match="header value"):
        cls("ws://h/", headers={"X-A": "1\r\nX-Injected: 2"})
    with pytest.raises(ValueError, match="header value"):
        cls("ws://h/", headers={"Set-Cookie": ["a=1", "b\n"]})
    with pytest.raises(ValueError, match="header name"):
        cls("ws://h/", headers={"X A": "1"})
    # Autobahn's value shapes are kept as given
    factory = cls("ws://h/", headers={"Set-Cookie": ["a=1", "b=2"], "X-Count": 5})
    assert factory.headers == {"Set-Cookie": ["a=1", "b=2"], "X-Count": 5}


def test_client_proxy_is_kept_and_checked(runtime: RuntimeHarness) -> None:
    """The proxy given to the constructor or to setSessionParameters is used (not ignored)."""
    factory = runtime.module.WebSocketClientFactory("ws://h/", proxy={"host": "p", "port": 8080})
    assert (factory.proxy["host"], factory.proxy["port"]) == ("p", 8080)
    factory.setSessionParameters("ws://h/", proxy="http://u:pw@q:3128")
    assert (factory.proxy.host, factory.proxy.port, factory.proxy.username) == ("q", 3128, "u")
    with pytest.raises(ValueError, match="port"):
        factory.setSessionParameters("ws://h/", proxy={"host": "p", "port": "8080"})


def test_connection_deny_needs_error_status() -> None:
    with pytest.raises(ValueError, match="400-599"):
        ConnectionDeny(200)
    deny = ConnectionDeny(ConnectionDeny.FORBIDDEN, "nope")
    assert (deny.code, deny.reason) == (403, "nope")
