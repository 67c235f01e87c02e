"""X-Forwarded-For: the client's address counted from the trusted end, across lines."""

from __future__ import annotations

import pytest

from wsproto_cb.core.forwarded import x_forwarded_for_client
from wsproto_cb.core.handshake_server import ServerHandshake

CHAIN = "192.0.2.7, 10.0.0.1, 10.0.0.2"


@pytest.mark.parametrize(
    ("values", "trusted", "expected"),
    [
        # one line
        ([CHAIN], 1, "10.0.0.2"),
        ([CHAIN], 2, "10.0.0.1"),
        ([CHAIN], 3, "192.0.2.7"),
        ([CHAIN], 4, "192.0.2.7"),  # fewer entries than proxies: all are trusted
        (["198.51.100.9"], 1, "198.51.100.9"),
        # several lines: one list, counted from the right across all of them
        (["203.0.113.66", "10.0.0.1"], 1, "10.0.0.1"),  # the client's line comes first
        (["203.0.113.66", "10.0.0.1"], 2, "203.0.113.66"),
        (["203.0.113.66, 10.0.0.1", "10.0.0.2, 10.0.0.3"], 2, "10.0.0.2"),
        (["203.0.113.66, 10.0.0.1", "10.0.0.2, 10.0.0.3"], 3, "10.0.0.1"),
        (["203.0.113.66", "10.0.0.1", "10.0.0.2"], 3, "203.0.113.66"),
        # whitespace and empty entries (RFC 9110 5.6.1: ignored)
        ([" 192.0.2.1 ,\t10.0.0.1\t"], 2, "192.0.2.1"),
        (["192.0.2.1,,10.0.0.1,"], 2, "192.0.2.1"),
        (["192.0.2.1", "", " , ", "10.0.0.1"], 2, "192.0.2.1"),
        # IPv6, ports (some proxies write them), canonical form
        (["2001:db8::1"], 1, "2001:db8::1"),
        (["2001:DB8:0:0::1"], 1, "2001:db8::1"),
        (["192.0.2.1, [2001:db8::1]:4711"], 1, "2001:db8::1"),
        (["[2001:db8::2]"], 1, "2001:db8::2"),
        (["192.0.2.1:4711"], 1, "192.0.2.1"),
        (["::ffff:192.0.2.1"], 1, "::ffff:c000:201"),
        # garbage only matters where the count lands
        (["not an address, 10.0.0.1"], 1, "10.0.0.1"),
    ],
)
def test_the_client_is_counted_from_the_right(
    values: list[str], trusted: int, expected: str
) -> None:
    assert x_forwarded_for_client(values, trusted) == expected


@pytest.mark.parametrize(
    "entry",
    [
        "unknown",
        "_hidden",
        "example.com",
        "1.2.3",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.4:",
        "1.2.3.4:http",
        "1.2.3.4:65536",
        "1.2.3.4:+80",
        "[2001:db8::1",
        "[2001:db8::1]4711",
        "[2001:db8::1]:x",
        "2001:db8::1:4711:1:1:1:1:1",
        "\x1b[31mred",
        "1.2.3.4 5.6.7.8",
        "١٢٣.1.1.1",
    ],
)
def test_a_chosen_entry_that_is_not_an_address_gives_none(entry: str) -> None:
    assert x_forwarded_for_client([f"192.0.2.1, {entry}"], 1) is None


@pytest.mark.parametrize(
    ("values", "trusted"),
    [([CHAIN], 0), ([], 1), ([""], 1), ([" , ,"], 2), ([CHAIN], -1)],
)
def test_nothing_to_go_by_gives_none(values: list[str], trusted: int) -> None:
    assert x_forwarded_for_client(values, trusted) is None


def test_from_a_parsed_request_every_line_counts() -> None:
    handshake = ServerHandshake()
    request = handshake.receive_data(
        b"GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"X-Forwarded-For: 203.0.113.66\r\nx-forwarded-for: 10.0.0.1\r\n\r\n"
    )
    assert request is not None
    values = request.headers.get_all("X-Forwarded-For")
    assert x_forwarded_for_client(values, 1) == "10.0.0.1"
