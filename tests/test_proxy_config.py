"""Which proxy a client uses: Autobahn's dict, a URL, the environment (opt-in)."""

from __future__ import annotations

import pytest

from wsproto_cb.proxy import ProxyConfig, parse_proxy, proxy_from_environment


def test_dict_and_url_forms() -> None:
    assert parse_proxy({"host": "p", "port": 3128}) == ProxyConfig("p", 3128)
    assert parse_proxy("http://u%40x:p%3Aw@proxy.local:8080") == ProxyConfig(
        "proxy.local", 8080, "u@x", "p:w"
    )
    assert parse_proxy("proxy.local:3128") == ProxyConfig("proxy.local", 3128)
    assert parse_proxy("http://proxy.local") == ProxyConfig("proxy.local", 80)
    assert parse_proxy(None) is None


def test_password_is_not_in_the_repr() -> None:
    assert "secret" not in repr(parse_proxy("http://u:secret@p:1"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"host": "p"}, "port"),
        ({"host": "", "port": 1}, "host"),
        ({"host": "p", "port": 70000}, "port"),
        ({"host": "p", "port": 1, "pasword": "x"}, "unknown proxy key"),
        ("https://p:1", "only http://"),
        ("socks5://p:1", "only http://"),
        ("http://p:1/path", "no path"),
        ("http://:1", "no host"),
    ],
)
def test_bad_proxies_say_what_is_wrong(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_proxy(value)  # type: ignore[arg-type]


def test_environment_by_scheme() -> None:
    env = {"HTTPS_PROXY": "http://s:1", "http_proxy": "http://h:2"}
    assert proxy_from_environment("wss://example.com/", env) == ProxyConfig("s", 1)
    assert proxy_from_environment("ws://example.com/", env) == ProxyConfig("h", 2)
    assert proxy_from_environment("ws://example.com/", {}) is None


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("example.com", True),
        (".example.com", True),
        ("other.org,example.com", True),
        ("*", True),
        ("ample.com", False),
        ("example.com:443", True),
        ("example.com:80", False),
        ("", False),
    ],
)
def test_no_proxy(no_proxy: str, bypassed: bool) -> None:
    env = {"HTTPS_PROXY": "http://s:1", "NO_PROXY": no_proxy}
    result = proxy_from_environment("wss://api.example.com/", env)
    assert (result is None) is bypassed
