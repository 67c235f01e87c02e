"""The factory's metrics count close codes as they were on the wire, on the
bed: a received close frame without a code is 1005 there, while the
protocol's Autobahn property ``remoteCloseCode`` says None."""

from __future__ import annotations

from wsproto_cb.core.events import CloseReceived

from .bed import open_server


def test_a_close_without_a_code_is_counted_as_1005() -> None:
    peer = open_server()
    peer.send(peer.conn.send_close(None))
    [answer] = [event for event in peer.events() if isinstance(event, CloseReceived)]
    assert answer.code == 1005  # (the server's answer echoes no code either)
    peer.lose()
    proto, metrics = peer.proto, peer.proto.factory.metrics
    assert proto.remoteCloseCode is None and proto.localCloseCode is None
    assert dict(metrics.close_codes_received) == {1005: 1}
    assert not metrics.close_codes_sent  # (the answer had no code to count)


def test_codes_sent_and_received_are_counted() -> None:
    peer = open_server()
    peer.proto.sendClose(4001, "bye")
    peer.send(peer.conn.send_close(4002))
    peer.lose()
    proto, metrics = peer.proto, peer.proto.factory.metrics
    assert (proto.localCloseCode, proto.remoteCloseCode) == (4001, 4002)
    assert dict(metrics.close_codes_sent) == {4001: 1}
    assert dict(metrics.close_codes_received) == {4002: 1}


def test_no_close_frame_counts_nothing() -> None:
    peer = open_server()
    peer.lose("the peer went away")
    metrics = peer.proto.factory.metrics
    assert not metrics.close_codes_sent and not metrics.close_codes_received
