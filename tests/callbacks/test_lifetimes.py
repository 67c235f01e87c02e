"""Awaitable callbacks and the end of the connection, on the bed: what runs
after ``onClose`` and what is cancelled.  (tests/runtime/test_background.py
and test_edges.py keep one real-socket test each for the runtimes' wiring:
asyncio tasks and Deferreds.)"""

from __future__ import annotations

from typing import Any

from .bed import CancelledByBed, Clock, Pending, RecordingServer, open_server


class Logging(RecordingServer):
    """onMessage is a coroutine that waits on a Pending the test settles."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.pending: list[Pending] = []

    async def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.log.append(f"start {payload.decode()}")
        waiting = Pending()
        self.pending.append(waiting)
        try:
            await waiting
        except CancelledByBed:
            self.log.append(f"cancelled {payload.decode()}")
            raise
        self.log.append(f"end {payload.decode()}")

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> Any:
        super().onClose(wasClean, code, reason)
        self.log.append("close")


def test_nothing_delivered_after_on_close() -> None:
    """The application drops the connection while a handler runs: onClose is
    the last callback, the queued messages are never delivered; the running
    handler (one at a time, the default) goes on to its end."""
    peer = open_server(Logging, Clock())
    proto: Logging = peer.proto  # type: ignore[assignment]
    peer.send(b"".join(peer.conn.send_message(b"%d" % i) for i in range(3)))
    assert proto.log == ["start 0"]
    proto.dropConnection(abort=True)
    assert peer.rt.aborted
    peer.lose("aborted")  # (what the runtime reports next)
    assert proto.log == ["start 0", "close"]
    proto.pending[0].resolve()
    assert proto.log == ["start 0", "close", "end 0"]
    assert len(proto.pending) == 1  # messages 1 and 2 never started
    assert peer.rt.errors == []


def test_concurrent_handlers_still_running_are_cancelled_at_close() -> None:
    """With ``messageConcurrency`` > 1, the handlers still running when the
    connection closes are cancelled (none finishes, no error is logged)."""
    peer = open_server(Logging, Clock(), messageConcurrency=4)
    proto: Logging = peer.proto  # type: ignore[assignment]
    peer.send_message(b"a")
    peer.send_message(b"b")
    assert proto.log == ["start a", "start b"]
    peer.send(peer.conn.send_close(1000))
    peer.lose()  # the server closes TCP after its answer; the runtime reports it
    assert proto.closed == (True, 1000, None)
    assert all(p.cancelled for p in proto.pending)
    assert not any(entry.startswith("end") for entry in proto.log)
    assert sorted(proto.log) == ["cancelled a", "cancelled b", "close", "start a", "start b"]
    assert peer.rt.errors == []


class LoopingOpen(RecordingServer):
    """onOpen keeps running: it waits, sends, waits ... (a ticker)."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Pending] = []
        self.ticks = 0

    async def onOpen(self) -> None:
        super().onOpen()
        while True:
            waiting = Pending()
            self.pending.append(waiting)
            await waiting
            self.ticks += 1
            self.sendMessage(b"%d" % self.ticks)


def test_a_looping_on_open_neither_blocks_delivery_nor_outlives_the_connection() -> None:
    peer = open_server(LoopingOpen, Clock())
    proto: LoopingOpen = peer.proto  # type: ignore[assignment]
    proto.pending[-1].resolve()
    peer.send_message(b"hello")  # delivered while onOpen still runs
    assert proto.messages == [(b"hello", False)]
    assert [e.data for e in peer.events()] == [b"1"]  # type: ignore[attr-defined]
    peer.send(peer.conn.send_close(1000))
    peer.lose()
    assert proto.closed == (True, 1000, None)
    assert proto.pending[-1].cancelled  # the loop was cancelled with the connection
    assert proto.ticks == 1
    assert peer.rt.errors == []
