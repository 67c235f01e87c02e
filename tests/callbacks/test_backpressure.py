"""Awaitable callbacks and reading, and the close outcome, on the bed: reading
pauses while ``onMessage``'s awaitable runs (or while ``messageConcurrency``
of them do) and resumes when they settle; ``wasClean`` follows the closing
handshake."""

from __future__ import annotations

from .bed import Clock, Pending, RecordingServer, WaitingServer, open_server


def test_one_awaitable_onmessage_at_a_time_and_reading_paused_meanwhile() -> None:
    peer = open_server(WaitingServer, Clock())
    proto: WaitingServer = peer.proto  # type: ignore[assignment]
    peer.send(b"".join(peer.conn.send_message(b"m%d" % i) for i in range(3)))
    assert proto.messages == [(b"m0", False)]
    assert peer.rt.reading_paused
    proto.pending[0].resolve()
    assert proto.messages == [(b"m0", False), (b"m1", False)]
    proto.pending[1].resolve()
    proto.pending[2].resolve()
    assert [m for m, _ in proto.messages] == [b"m0", b"m1", b"m2"]
    assert not peer.rt.reading_paused


def test_message_concurrency_bounds_the_awaitables_in_flight() -> None:
    peer = open_server(WaitingServer, Clock(), messageConcurrency=2)
    proto: WaitingServer = peer.proto  # type: ignore[assignment]
    peer.send(b"".join(peer.conn.send_message(b"m%d" % i) for i in range(4)))
    assert len(proto.messages) == 2 and peer.rt.reading_paused
    proto.pending[1].resolve()  # any one settling makes room
    assert len(proto.messages) == 3 and peer.rt.reading_paused
    proto.pending[0].resolve()
    assert len(proto.messages) == 4
    proto.pending[2].resolve()
    assert not peer.rt.reading_paused


def test_a_failed_awaitable_fails_the_connection_with_1011() -> None:
    peer = open_server(WaitingServer, Clock())
    proto: WaitingServer = peer.proto  # type: ignore[assignment]
    peer.send_message(b"boom")
    proto.pending[0].fail(ValueError("boom"))
    [close] = peer.events()
    assert close.code == 1011  # type: ignore[attr-defined]
    assert [message for message, _ in peer.rt.errors] == [
        "error in a callback of WaitingServer; failing with 1011"
    ]


def test_coroutine_onmessage_runs_to_its_end_before_the_next() -> None:
    gate = Pending()

    class Async(RecordingServer):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            self.messages.append((payload, isBinary))
            if payload == b"first":
                await gate
            self.messages.append((b"done " + payload, isBinary))

    peer = open_server(Async, Clock())
    peer.send(peer.conn.send_message(b"first") + peer.conn.send_message(b"second"))
    assert [m for m, _ in peer.proto.messages] == [b"first"]  # type: ignore[attr-defined]
    gate.resolve()
    assert [m for m, _ in peer.proto.messages] == [  # type: ignore[attr-defined]
        b"first",
        b"done first",
        b"second",
        b"done second",
    ]


def test_was_clean_after_a_closing_handshake_either_way() -> None:
    peer = open_server(clock=Clock())
    peer.send(peer.conn.send_close(1000, "bye"))
    peer.events()
    peer.lose()
    assert peer.proto.closed == (True, 1000, "bye")  # type: ignore[attr-defined]

    peer = open_server(clock=Clock())
    peer.proto.sendClose(4000)
    peer.events()
    peer.send(peer.conn.acknowledge_close())
    peer.lose()
    assert peer.proto.closed == (True, 1000, None)  # type: ignore[attr-defined]  # (the peer's code)


def test_not_clean_when_tcp_goes_without_a_closing_handshake() -> None:
    peer = open_server(clock=Clock())
    peer.lose("reset by peer")
    was_clean, code, reason = peer.proto.closed  # type: ignore[attr-defined,misc]
    assert (was_clean, code) == (False, 1006)
    assert "reset by peer" in reason
    assert peer.proto.is_closed.done
