"""HTTP CONNECT for proxies, bytes only: the request, and every kind of answer."""

from __future__ import annotations

import pytest

from wsproto_cb.core.proxy import ProxyConnect, ProxyError


def test_request_without_credentials() -> None:
    tunnel = ProxyConnect("proxy", 3128, "example.com", 443)
    assert tunnel.request() == b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"


def test_request_with_basic_credentials_and_ipv6_target() -> None:
    tunnel = ProxyConnect("proxy", 3128, "::1", 80, "Aladdin", "open sesame")
    assert tunnel.request() == (
        b"CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\n"
        b"Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
    )


def test_request_refuses_line_injection_through_the_host() -> None:
    with pytest.raises(ValueError):
        ProxyConnect("proxy", 3128, "evil\r\nX-Injected: 1", 80).request()


def test_established_in_pieces_keeps_trailing_bytes() -> None:
    tunnel = ProxyConnect("proxy", 3128, "example.com", 80)
    assert tunnel.receive_data(b"HTTP/1.1 200 Connection est") is False
    assert tunnel.receive_data(b"ablished\r\nVia: x\r\n\r\nHTTP/1.1 101") is True
    assert tunnel.trailing == b"HTTP/1.1 101"
    assert tunnel.response is not None and tunnel.response.status == 200


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (b"HTTP/1.1 403 Forbidden\r\n\r\n", 403, "refused: HTTP/1.1 403 Forbidden"),
        (
            b"HTTP/1.0 407 Proxy Authentication Required\r\n"
            b'Proxy-Authenticate: Basic realm="x"\r\n\r\n',
            407,
            "refused: HTTP/1.0 407 Proxy Authentication Required",
        ),
        (b"HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, "refused: HTTP/1.1 502 Bad Gateway"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", 101, "refused: HTTP/1.1 101"),
    ],
)
def test_refusals_name_proxy_target_and_status_line(
    answer: bytes, status: int, message: str
) -> None:
    tunnel = ProxyConnect("10.0.0.1", 3128, "example.com", 80)
    with pytest.raises(ProxyError) as info:
        tunnel.receive_data(answer)
    assert info.value.status == status
    assert str(info.value).startswith("HTTP proxy 10.0.0.1:3128: CONNECT example.com:80 ")
    assert message in str(info.value)


@pytest.mark.parametrize("garbage", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nbad\r\n\r\n"])
def test_garbage_answer_is_a_proxy_error(garbage: bytes) -> None:
    with pytest.raises(ProxyError, match="bad answer to CONNECT"):
        ProxyConnect("p", 1, "h", 2).receive_data(garbage)


def test_endless_answer_is_bounded() -> None:
    tunnel = ProxyConnect("p", 1, "h", 2)
    tunnel.receive_data(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ProxyError, match="bad answer to CONNECT"):
        for _ in range(10_000):
            tunnel.receive_data(b"X-Padding: " + b"a" * 100 + b"\r\n")


def test_lost_and_timed_out_messages() -> None:
    tunnel = ProxyConnect("p", 1, "h", 2)
    assert str(tunnel.connection_lost()) == (
        "HTTP proxy p:1: closed the connection before answering CONNECT h:2"
    )
    assert str(tunnel.timed_out(5)) == "HTTP proxy p:1: no answer to CONNECT h:2 within 5 s"
