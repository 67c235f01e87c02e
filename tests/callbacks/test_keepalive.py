"""Auto-ping (:mod:`wsproto_cb.keepalive`) on a controllable clock.

(tests/runtime/test_timers.py keeps a silent peer and an answering peer over
real sockets on both runtimes, for the wiring.)
"""

from __future__ import annotations

import pytest

from wsproto_cb.core.events import CloseReceived, Ping, Pong

from .bed import Clock, Peer, open_client, open_server

# (times are binary fractions, so the clock's sums are exact)
OPTIONS = {"autoPingInterval": 0.25, "autoPingTimeout": 0.25}


def ping_from(peer: Peer) -> Ping:
    [event] = peer.events()
    assert isinstance(event, Ping), event
    return event


def test_a_silent_peer_is_dropped_at_interval_plus_timeout() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    clock.advance(0.25 - 2**-10)
    assert peer.events() == []
    clock.advance(2**-10)
    ping = ping_from(peer)
    assert len(ping.payload) == 12  # autoPingSize
    clock.advance(0.25 - 2**-10)
    assert not peer.rt.gone
    clock.advance(2**-10)
    assert peer.rt.aborted
    assert peer.proto.factory.metrics.autoping_timeouts == 1
    peer.lose()
    was_clean, code, reason = peer.proto.closed  # type: ignore[attr-defined,misc]
    assert (was_clean, code) == (False, 1006)
    assert "auto-ping timeout" in reason


@pytest.mark.parametrize("side", ["server", "client"])
def test_a_peer_that_answers_stays_and_onpong_sees_each_pong(side: str) -> None:
    clock = Clock()
    opened = open_server if side == "server" else open_client
    peer = opened(clock=clock, autoPingSize=20, **OPTIONS)  # type: ignore[operator]
    for _ in range(5):
        clock.advance(0.25)
        ping = ping_from(peer)
        assert len(ping.payload) == 20
        peer.send(peer.conn.send_pong(ping.payload))
    clock.advance(0.125)
    assert not peer.rt.gone
    assert len(peer.proto.pongs) == 5  # type: ignore[attr-defined]


def test_a_wrong_pong_does_not_count() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    clock.advance(0.25)
    ping_from(peer)
    peer.send(peer.conn.send_pong(b"not the payload"))
    clock.advance(0.25)
    assert peer.rt.aborted


@pytest.mark.parametrize("restart_on_traffic", [True, False])
def test_chatter_counts_as_alive_only_with_restart_on_any_traffic(
    restart_on_traffic: bool,
) -> None:
    """A peer that never answers pings but sends a message every 1/16 s."""
    clock = Clock()
    peer = open_server(
        clock=clock,
        autoPingInterval=0.125,
        autoPingTimeout=0.125,
        autoPingRestartOnAnyTraffic=restart_on_traffic,
    )
    for _ in range(32):  # 2 s of chatter
        peer.send_message(b"chatter")
        clock.advance(0.0625)
        if peer.rt.gone:
            break
    if restart_on_traffic:
        assert not peer.rt.gone
        assert not any(isinstance(event, Ping) for event in peer.events())  # never idle
    else:
        assert peer.rt.aborted
        assert clock.seconds() == 0.25  # interval + timeout
        assert len(peer.proto.messages) == 4  # type: ignore[attr-defined]


def test_an_idle_peer_is_pinged_after_its_last_message() -> None:
    """With restart on any traffic, the interval counts from the last bytes received."""
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    clock.advance(0.125)
    peer.send_message(b"hello")
    clock.advance(0.1875)  # 0.3125 s after the start, 0.1875 s after the message
    assert peer.events() == []
    clock.advance(0.0625)
    ping_from(peer)


def test_zero_interval_turns_auto_ping_off() -> None:
    clock = Clock()
    peer = open_server(clock=clock, autoPingInterval=0)
    clock.advance(3600)
    assert peer.events() == []
    assert not peer.rt.gone


def test_auto_ping_answers_the_peers_pings_as_usual() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    peer.send(peer.conn.send_ping(b"yours"))
    assert peer.events() == [Pong(b"yours")]


def test_the_keepalive_owns_its_timers_and_stops_them_when_the_connection_is_lost() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    assert peer.proto._timers is None  # (no named deadline: the keep-alive's are its own)
    clock.advance(0.25)
    ping_from(peer)
    assert len(clock.getDelayedCalls()) == 2  # the next tick and the pong deadline
    peer.lose()
    assert clock.getDelayedCalls() == []
    assert peer.proto._keepalive is None


def test_no_ping_once_closing() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    peer.proto.sendClose(1000)
    [close] = peer.events()
    assert isinstance(close, CloseReceived)
    clock.advance(0.25)
    assert peer.events() == []


def test_an_interval_changed_while_open_applies_from_the_next_tick() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    peer.proto.autoPingInterval = 1.0  # (this connection's own copy of the options)
    clock.advance(0.25)  # the tick already scheduled: not idle for 1 s yet
    assert peer.events() == []
    clock.advance(0.75 - 2**-10)
    assert peer.events() == []
    clock.advance(2**-10)
    ping_from(peer)


def test_zero_timeout_pings_but_never_drops() -> None:
    clock = Clock()
    peer = open_server(clock=clock, autoPingInterval=0.25, autoPingTimeout=0)
    for _ in range(4):
        clock.advance(0.25)
    ping_from(peer)  # one ping, still unanswered: no second one
    assert not peer.rt.gone


def test_a_late_pong_after_the_drop_is_still_delivered_to_onpong() -> None:
    clock = Clock()
    peer = open_server(clock=clock, **OPTIONS)
    clock.advance(0.25)
    ping = ping_from(peer)
    clock.advance(0.25)
    assert peer.rt.aborted
    peer.send(peer.conn.send_pong(ping.payload))  # (bytes already in flight)
    assert peer.proto.pongs == [ping.payload]  # type: ignore[attr-defined]
