"""A closed connection's traffic in the factory's metrics: the same figures
as its ``trafficStats`` (read in one call, ``TrafficStats.totals``, at close)."""

from __future__ import annotations

import pytest

from wsproto_cb.core.frames import build_frame
from wsproto_cb.metrics import TRAFFIC, snapshot

from .bed import Peer, RecordingServer, open_server

MASK = b"\x01\x02\x03\x04"


def _traffic(peer: Peer) -> dict[str, int]:
    stats = peer.proto.trafficStats
    return {name: getattr(stats, attribute) for name, attribute in TRAFFIC}


def _mixed_traffic(peer: Peer) -> None:
    """Plain whole messages, a fragmented one and sends of each kind, both ways."""
    peer.send_message(b"hello")
    peer.send_message(b"\x00" * 300, is_binary=True)
    peer.send(build_frame(0x1, b"frag", fin=False, mask=MASK))
    peer.send(build_frame(0x0, b"mented", mask=MASK))
    proto = peer.proto
    proto.sendMessage(b"answer")
    proto.sendMessage(b"x" * 70_000, isBinary=True)
    proto.beginMessage()
    proto.sendMessageFrame(b"one")
    proto.sendMessageFrame(b"two")
    proto.endMessage()
    assert len(proto.messages) == 3


@pytest.mark.parametrize("reset", [False, True])
def test_totals_are_the_properties(reset: bool) -> None:
    peer = open_server(RecordingServer, autoPingInterval=0)
    _mixed_traffic(peer)
    if reset:  # (counting from a reset: the base of the plain counters)
        peer.proto.trafficStats.reset()
        peer.send_message(b"after")
        peer.proto.sendMessage(b"reset")
    stats = peer.proto.trafficStats
    expected = tuple(getattr(stats, attribute) for _, attribute in TRAFFIC)
    assert stats.totals() == expected
    assert all(expected), expected  # (every figure moved: none is compared as 0 == 0)


def test_closed_connections_add_up_to_their_traffic_stats() -> None:
    first = open_server(RecordingServer, autoPingInterval=0)
    factory = first.proto.factory
    second = open_server(RecordingServer, factory=factory)
    quiet = open_server(RecordingServer, factory=factory)
    _mixed_traffic(first)
    second.send_message(b"one more")
    expected = {name: 0 for name, _ in TRAFFIC}
    for peer in (first, second, quiet):
        peer.send(build_frame(0x8, b"\x03\xe8", mask=MASK))  # close 1000
        for name, count in _traffic(peer).items():
            expected[name] += count
        peer.lose()
    assert {name: factory.metrics.traffic_closed[name] for name, _ in TRAFFIC} == expected
    values = {sample.name: sample.value for sample in snapshot([factory]) if not sample.labels}
    assert {name: values[name] for name, _ in TRAFFIC} == expected
    assert factory.metrics.close_codes_received[1000] == 3
