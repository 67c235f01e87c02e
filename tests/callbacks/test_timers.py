"""The callback layer's timers on a controllable clock: each fires exactly at
its deadline, not a moment before, and is cancelled when its wait is over.

(tests/runtime/test_timers.py keeps one test per timer over real sockets on
both runtimes, for the wiring.)
"""

from __future__ import annotations

from wsproto_cb.core.events import CloseReceived

from .bed import (
    Clock,
    Peer,
    RecordingClient,
    RecordingServer,
    connect_server,
    open_client,
    open_server,
)


def outcome(proto: object) -> tuple[bool, int | None, str | None]:
    closed = proto.closed  # type: ignore[attr-defined]
    assert closed is not None, "onClose was not called"
    return closed  # type: ignore[no-any-return]


def aborted_after(clock: Clock, peer: Peer, delay: float) -> None:
    """The protocol aborts its transport exactly ``delay`` seconds from now."""
    clock.advance(delay - 0.001)
    assert not peer.rt.gone
    clock.advance(0.001)
    assert peer.rt.aborted


def unclean(peer: Peer, why: str) -> None:
    """The transport is lost; onClose reports 1006 and ``why``."""
    peer.lose()
    was_clean, code, reason = outcome(peer.proto)
    assert (was_clean, code) == (False, 1006)
    assert reason is not None and why in reason


# ------------------------------------------------------------ openHandshakeTimeout


def test_open_handshake_timeout_server_silent_client() -> None:
    clock = Clock()
    peer = connect_server(clock=clock, openHandshakeTimeout=0.3)
    aborted_after(clock, peer, 0.3)
    unclean(peer, "opening handshake timeout")
    assert peer.proto.factory.countConnections == 0


def test_open_handshake_timeout_server_partial_request() -> None:
    clock = Clock()
    peer = connect_server(clock=clock, openHandshakeTimeout=0.2)
    peer.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
    clock.advance(0.1)
    peer.send(b"X-More: still not done\r\n")  # bytes do not restart the timer
    clock.advance(0.1)
    assert peer.rt.aborted


def test_open_handshake_timeout_client_silent_server() -> None:
    clock = Clock()
    peer = open_client(clock=clock, answer=False, openHandshakeTimeout=0.3)
    assert peer.rt.take().startswith(b"GET / HTTP/1.1\r\n")
    aborted_after(clock, peer, 0.3)
    unclean(peer, "opening handshake timeout")
    assert not peer.proto.opened  # type: ignore[attr-defined]


def test_open_handshake_timeout_cancelled_when_open() -> None:
    clock = Clock()
    server = open_server(RecordingServer, clock, openHandshakeTimeout=0.1)
    client = open_client(RecordingClient, clock, openHandshakeTimeout=0.1)
    assert server.proto.opened and client.proto.opened  # type: ignore[attr-defined]
    clock.advance(1.0)  # ten times the timeout (and before the first auto-ping)
    assert not server.rt.gone and not client.rt.gone
    assert server.rt.take() == b"" and client.rt.take() == b""


def test_open_handshake_timeout_zero_is_off() -> None:
    clock = Clock()
    peer = connect_server(clock=clock, openHandshakeTimeout=0)
    assert clock.getDelayedCalls() == []
    clock.advance(3600)
    assert not peer.rt.gone


# ----------------------------------------------------------- closeHandshakeTimeout


def test_close_handshake_timeout_server() -> None:
    clock = Clock()
    peer = open_server(clock=clock, closeHandshakeTimeout=0.3)
    peer.proto.sendClose(1000, "bye")
    assert peer.events() == [CloseReceived(1000, "bye")]
    aborted_after(clock, peer, 0.3)  # the peer never answers the close frame
    unclean(peer, "closing handshake timeout")


def test_close_handshake_timeout_client() -> None:
    clock = Clock()
    peer = open_client(clock=clock, closeHandshakeTimeout=0.3)
    peer.proto.sendClose(4000)
    assert peer.events() == [CloseReceived(4000, "")]
    clock.advance(0.3)
    assert peer.rt.aborted
    unclean(peer, "closing handshake timeout")


def test_close_handshake_timer_stops_when_the_peer_answers() -> None:
    clock = Clock()
    peer = open_server(clock=clock, closeHandshakeTimeout=0.3)
    peer.proto.sendClose(1000)
    peer.events()
    peer.send(peer.conn.acknowledge_close())
    assert peer.rt.closed and not peer.rt.aborted  # the server closes TCP first
    peer.lose()
    clock.advance(10)
    assert outcome(peer.proto) == (True, 1000, None)
    assert peer.rt.errors == []


def test_nothing_queued_means_no_flush_deadline() -> None:
    """A plain TCP close with an empty write buffer has nothing to wait for: no timer."""
    clock = Clock()
    peer = open_server(clock=clock, closeHandshakeTimeout=0.5)
    peer.send(peer.conn.send_close(1000))
    assert peer.rt.closed and not peer.rt.aborted
    assert "flush" not in (peer.proto._timers or {})
    clock.advance(10)
    assert not peer.rt.aborted


def test_flush_deadline_aborts_a_peer_that_never_reads() -> None:
    """After the closing handshake the TCP close waits for queued bytes, at most
    closeHandshakeTimeout: a peer that stops reading is aborted then."""
    clock = Clock()
    peer = open_server(clock=clock, closeHandshakeTimeout=0.5)
    peer.rt.queued = 4096  # the peer stopped reading: our close frame is still queued
    peer.send(peer.conn.send_close(1000))
    assert peer.rt.closed and not peer.rt.aborted
    clock.advance(0.499)
    assert not peer.rt.aborted
    clock.advance(0.001)
    assert peer.rt.aborted
    peer.lose()
    was_clean, code, _ = outcome(peer.proto)
    assert (was_clean, code) == (False, 1006)


# ------------------------------------------------------- serverConnectionDropTimeout


def test_server_connection_drop_timeout() -> None:
    """A server that answers the close but keeps TCP open is dropped by the client."""
    clock = Clock()
    peer = open_client(clock=clock, serverConnectionDropTimeout=0.3)
    peer.proto.sendClose(1000)
    peer.events()
    peer.send(peer.conn.acknowledge_close())
    assert not peer.rt.gone  # the client waits for the server to close TCP
    aborted_after(clock, peer, 0.3)
    unclean(peer, "server did not drop")


def test_server_connection_drop_timer_stops_when_the_server_closes() -> None:
    clock = Clock()
    peer = open_client(clock=clock, serverConnectionDropTimeout=0.3)
    peer.proto.sendClose(1000)
    peer.events()
    peer.send(peer.conn.acknowledge_close())
    peer.lose()  # the server closed TCP
    clock.advance(10)
    assert outcome(peer.proto) == (True, 1000, None)
    assert not peer.rt.aborted
