"""``redis+sentinel://`` without Redis: the URL, and following the master the sentinels name.

The first link goes to a sentinel and asks ``SENTINEL get-master-addr-by-name``;
the test answers as a sentinel would, then plays the master.
"""

from __future__ import annotations

import pytest
from test_backplane_link import FakeIO, answer_setup
from test_backplane_redis_logic import OTHER
from test_backplane_router import ShardListener, resp

from wsproto_cb.backplane import RedisBackplane, backplane_from_url
from wsproto_cb.backplane.address import parse_redis_url
from wsproto_cb.backplane.envelope import encode_envelope

URL = "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster/0"
ASK = [b"SENTINEL", b"get-master-addr-by-name", b"mymaster"]


def test_the_url_names_sentinels_and_the_master() -> None:
    address = parse_redis_url("redis+sentinel://u:p%40w@s1:5000,[::1]/cache/2")
    assert address.sentinels == (("s1", 5000), ("::1", 26379))
    assert (address.master_name, address.db, address.username, address.password) == (
        "cache", 2, "u", "p@w"
    )  # fmt: skip
    assert str(address) == "redis+sentinel://s1:5000,[::1]:26379/cache/2"  # (no password)
    assert str(address.at("10.0.0.9", 6379)) == "redis://10.0.0.9:6379/2"
    assert isinstance(backplane_from_url("redis+sentinel://s1/cache"), RedisBackplane)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("redis+sentinel://s1", "name the master"),
        ("redis+sentinel://s1/", "name the master"),
        ("redis+sentinel://s1/m/x", "database number"),
        ("redis+sentinel://s1:x/m", "bad sentinel"),
        ("redis+sentinel://s1,/m", "without a host"),
        ("redis+sentinel://user@s1/m", "needs a password"),
        ("redis+sentinel://s1/m?ssl_cert_reqs=none", "no query"),
    ],
)
def test_bad_sentinel_urls_say_what_is_wrong(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_redis_url(url)


class SentinelRig:
    def __init__(self) -> None:
        self.io = FakeIO()
        self.listener = ShardListener(self.io)
        self.bp = RedisBackplane(URL, probeInterval=5.0, reconnectMax=1.0)
        self.bp.attach(self.listener)
        self.opened = 0
        self.streams: list[tuple[object, object]] = []

    def pong(self) -> None:
        """Every connection answers the PING it was sent (the probe)."""
        for connect, stream in self.streams:
            for command in stream.take():  # type: ignore[attr-defined]
                if command == [b"PING"]:
                    connect.handler.data_received(b"+PONG\r\n")  # type: ignore[attr-defined]

    def next_connection(self) -> tuple[str, int, object, object]:
        connect = self.io.connects[self.opened]
        self.opened += 1
        stream = self.io.open(connect)
        answer_setup(connect, stream)
        self.streams.append((connect, stream))
        return connect.host, connect.port, connect, stream

    def sentinel_answers(self, connect: object, stream: object, reply: bytes) -> None:
        """Answer the question (and a probe's PING, if one came first)."""
        commands = stream.take()  # type: ignore[attr-defined]
        assert ASK in commands, commands
        for command in commands:
            answer = b"+PONG\r\n" if command == [b"PING"] else reply
            connect.handler.data_received(answer)  # type: ignore[attr-defined]


def test_the_master_the_sentinel_names_is_used_and_followed() -> None:
    rig = SentinelRig()
    rig.bp.subscribe("room")
    host, port, sentinel, sentinel_stream = rig.next_connection()
    assert (host, port) == ("10.0.0.1", 26379)
    assert [b"AUTH", b"pw"] not in sentinel_stream.commands()  # (the master's password)
    rig.sentinel_answers(sentinel, sentinel_stream, resp([b"10.0.0.5", b"6379"]))
    pub = rig.next_connection()
    sub = rig.next_connection()
    assert {(pub[0], pub[1]), (sub[0], sub[1])} == {("10.0.0.5", 6379)}
    assert rig.bp.state == "up" and rig.bp.master == "10.0.0.5:6379" and rig.bp.cluster is False
    subscriber = sub if [b"SUBSCRIBE", b"wsproto_cb:g:room"] in sub[3].commands() else pub
    channel = b"wsproto_cb:g:room"
    subscriber[2].handler.data_received(
        resp([b"message", channel, encode_envelope(OTHER, 1, "room", b"hi", False)])
    )
    assert rig.listener.of("deliver") == [("deliver", "room", b"hi", False)]

    # the master's connections are cut (a failover): the sentinel is asked again
    for _, _, connect, _ in (pub, sub):
        connect.handler.connection_lost("connection reset")  # type: ignore[attr-defined]
    assert [call[0] for call in rig.listener.calls[1:]] == ["lost"]
    rig.sentinel_answers(sentinel, sentinel_stream, resp([b"10.0.0.6", b"6380"]))
    pub, sub = rig.next_connection(), rig.next_connection()
    assert {(pub[0], pub[1]), (sub[0], sub[1])} == {("10.0.0.6", 6380)}
    assert rig.bp.master == "10.0.0.6:6380"
    assert [call[0] for call in rig.listener.calls[1:]] == ["lost", "restored"]
    new_subscriber = sub if [b"SUBSCRIBE", channel] in sub[3].commands() else pub
    assert [b"SUBSCRIBE", channel] in new_subscriber[3].commands()
    rig.io.advance(2.0)  # (the old master's reconnect timers were cancelled)
    assert len(rig.io.connects) == rig.opened


def test_the_sentinel_is_asked_again_now_and_then() -> None:
    """A master demoted without cutting our connections is still left within probeInterval."""
    rig = SentinelRig()
    _, _, sentinel, stream = rig.next_connection()
    rig.sentinel_answers(sentinel, stream, resp([b"10.0.0.5", b"6379"]))
    rig.next_connection(), rig.next_connection()
    rig.io.advance(5.0)
    rig.sentinel_answers(sentinel, stream, resp([b"10.0.0.5", b"6379"]))  # (the same: stays)
    rig.pong()  # (the master's links)
    assert len(rig.io.connects) == rig.opened == 3
    rig.io.advance(5.0)
    rig.sentinel_answers(sentinel, stream, resp([b"10.0.0.7", b"6379"]))
    assert {(c.host, c.port) for c in rig.io.connects[3:]} == {("10.0.0.7", 6379)}


def test_an_unknown_master_name_is_reported_as_lost() -> None:
    rig = SentinelRig()
    _, _, sentinel, stream = rig.next_connection()
    rig.sentinel_answers(sentinel, stream, b"*-1\r\n")  # (a null: no such master)
    (lost,) = rig.listener.calls
    assert lost[0] == "lost" and "knows no master 'mymaster'" in lost[1]
    assert rig.bp.state == "down"


def test_a_sentinel_that_is_down_gives_way_to_the_next() -> None:
    rig = SentinelRig()
    rig.io.connects[0].handler.connection_lost("cannot connect: refused")
    rig.opened = 1
    assert [call[0] for call in rig.listener.calls] == ["lost"]
    rig.io.advance(1.0)
    host, port, sentinel, stream = rig.next_connection()
    assert (host, port) == ("10.0.0.2", 26379)
    rig.sentinel_answers(sentinel, stream, resp([b"10.0.0.5", b"6379"]))
    rig.next_connection(), rig.next_connection()
    assert [call[0] for call in rig.listener.calls] == ["lost", "restored"]
