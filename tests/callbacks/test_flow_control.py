"""Flow control on the bed: a full write buffer holds delivery and reading, and
a registered producer (:mod:`wsproto_cb.producers`) follows the transport.

The runtime reports a full buffer with ``_writing_paused()`` and a drained
one with ``_writing_resumed()`` (the asyncio and Twisted adapters call these
from their transports); tests/runtime/test_flow.py keeps the same rules over
real sockets on both runtimes, for the wiring.
"""

from __future__ import annotations

from typing import Any

import pytest

from wsproto_cb.core.events import MessageData

from .bed import Clock, Peer, RecordingServer, WaitingServer, open_server


class Producer:
    """A push or pull producer that records what it was told."""

    def __init__(self, proto: Any = None, frames: int = 0) -> None:
        self.calls: list[str] = []
        self.proto = proto
        self.frames = frames  # (a pull producer: frames to send, one per resume)

    def pauseProducing(self) -> None:
        self.calls.append("pause")

    def resumeProducing(self) -> None:
        self.calls.append("resume")
        if self.proto is not None and self.frames:
            self.frames -= 1
            self.proto.sendMessageFrame(b"part")

    def stopProducing(self) -> None:
        self.calls.append("stop")


def sent_data(peer: Peer) -> list[bytes]:
    return [event.data for event in peer.events() if isinstance(event, MessageData)]


def test_a_full_write_buffer_holds_delivery_and_reading_until_it_drains() -> None:
    peer = open_server(clock=Clock())
    proto: RecordingServer = peer.proto  # type: ignore[assignment]
    proto._writing_paused()
    assert peer.rt.reading_paused
    peer.send(b"".join(peer.conn.send_message(b"m%d" % i) for i in range(2)))
    assert proto.messages == []  # (bytes already read are kept, not delivered)
    proto._writing_resumed()
    assert [m for m, _ in proto.messages] == [b"m0", b"m1"]
    assert not peer.rt.reading_paused


def test_reading_resumes_only_when_every_reason_to_hold_is_gone() -> None:
    peer = open_server(WaitingServer, Clock())
    proto: WaitingServer = peer.proto  # type: ignore[assignment]
    peer.send(b"".join(peer.conn.send_message(b"m%d" % i) for i in range(2)))
    proto._writing_paused()  # (an awaitable runs and the buffer is full)
    proto.pending[0].resolve()
    assert peer.rt.reading_paused and len(proto.messages) == 1
    proto._writing_resumed()
    assert len(proto.messages) == 2 and peer.rt.reading_paused  # (m1's awaitable)
    proto.pending[1].resolve()
    assert not peer.rt.reading_paused


def test_a_push_producer_follows_the_transport_and_is_stopped_when_the_connection_is_lost() -> None:
    peer = open_server(clock=Clock())
    proto = peer.proto
    producer = Producer()
    proto.registerProducer(producer, True)
    assert producer.calls == []
    proto._writing_paused()
    proto._writing_resumed()
    assert producer.calls == ["pause", "resume"]
    peer.lose()
    assert producer.calls == ["pause", "resume", "stop"]


def test_a_push_producer_registered_while_the_buffer_is_full_starts_paused() -> None:
    peer = open_server(clock=Clock())
    peer.proto._writing_paused()
    producer = Producer()
    peer.proto.registerProducer(producer, True)
    assert producer.calls == ["pause"]


def test_a_pull_producer_is_asked_again_after_each_frame_on_a_later_turn() -> None:
    clock = Clock()
    peer = open_server(clock=clock)
    proto = peer.proto
    producer = Producer(proto, frames=2)
    proto.beginMessage()
    proto.registerProducer(producer, False)
    assert producer.calls == []  # (on a later loop turn, never from within the call)
    clock.advance(0)
    # two frames, each followed by a new request; the third sent nothing: no fourth
    assert producer.calls == ["resume"] * 3
    proto.endMessage()
    assert b"".join(sent_data(peer)) == b"part" * 2


def test_a_pull_producer_is_not_asked_while_the_buffer_is_full() -> None:
    clock = Clock()
    peer = open_server(clock=clock)
    proto = peer.proto
    proto._writing_paused()
    producer = Producer(proto, frames=1)
    proto.beginMessage()
    proto.registerProducer(producer, False)
    clock.advance(1)
    assert producer.calls == []
    proto._writing_resumed()
    clock.advance(0)
    assert producer.calls == ["resume", "resume"]


def test_one_producer_at_a_time_and_an_unregistered_one_hears_nothing_more() -> None:
    clock = Clock()
    peer = open_server(clock=clock)
    proto = peer.proto
    first = Producer()
    proto.registerProducer(first, False)
    with pytest.raises(RuntimeError, match="registered already"):
        proto.registerProducer(Producer(), True)
    proto.unregisterProducer()
    clock.advance(0)  # (the pull scheduled for the first one)
    assert first.calls == []
    second = Producer()
    proto.registerProducer(second, True)
    peer.lose()
    assert (first.calls, second.calls) == ([], ["stop"])


def test_a_failing_stopproducing_is_logged_and_the_close_goes_on() -> None:
    class Failing(Producer):
        def stopProducing(self) -> None:
            raise ValueError("boom")

    peer = open_server(clock=Clock())
    peer.proto.registerProducer(Failing(), True)
    peer.lose()
    assert peer.proto.closed is not None  # type: ignore[attr-defined]
    [(message, exc)] = peer.rt.errors
    assert "stopProducing" in message and isinstance(exc, ValueError)
