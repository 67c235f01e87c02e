"""The reconnect policy and driver, with a fake clock: no sockets, no sleeping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wsproto_cb.core.errors import HandshakeError
from wsproto_cb.reconnect import Backoff, Reconnector


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[tuple[float, Callable[[], None], list[bool]]] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> Any:
        cancelled = [False]
        self.calls.append((self.now + delay, fn, cancelled))

        class Handle:
            def cancel(self) -> None:
                cancelled[0] = True

        return Handle()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [c for c in self.calls if c[0] <= self.now and not c[2][0]]
        self.calls = [c for c in self.calls if c not in due]
        for _when, fn, _ in due:
            fn()

    def pending(self) -> list[float]:
        return [when - self.now for when, _fn, cancelled in self.calls if not cancelled[0]]


def test_delays_grow_exponentially_up_to_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=1, factor=2, max_delay=10, jitter=0)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_jitter_takes_up_to_its_fraction_off() -> None:
    draws = iter([0.0, 1.0, 0.5])
    backoff = Backoff(initial=4, factor=1, max_delay=4, jitter=0.5, random=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [4.0, 2.0, 3.0]


def test_max_attempts_gives_up() -> None:
    backoff = Backoff(jitter=0, max_attempts=3)
    assert backoff.next_delay() is not None and backoff.next_delay() is not None
    assert backoff.next_delay() is None


@pytest.mark.parametrize(
    "kwargs", [{"initial": -1}, {"initial": 5, "max_delay": 1}, {"factor": 0.5}, {"jitter": 2}]
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


class Proto:
    def __init__(self, status: int = 0) -> None:
        self.handshake_error = HandshakeError(status, "Forbidden") if status else None


class Factory:
    _connection_watcher: Any = None


def make(backoff: Backoff) -> tuple[Reconnector, FakeClock, list[int], list[str]]:
    clock = FakeClock()
    connects: list[int] = []
    ended: list[str] = []
    reconnector = Reconnector(
        Factory(),
        backoff,
        lambda: connects.append(1),
        clock.call_later,
        lambda: clock.now,
        ended.append,
    )
    return reconnector, clock, connects, ended


def test_failures_back_off_and_a_healthy_connection_resets() -> None:
    reconnector, clock, connects, _ = make(
        Backoff(initial=1, max_delay=8, jitter=0, healthy_after=5)
    )
    reconnector.start()
    assert len(connects) == 1
    for expected in [1, 2, 4, 8, 8]:
        reconnector.attempt_failed(ConnectionRefusedError())
        assert clock.pending() == [expected]
        clock.advance(expected)
    proto = Proto()
    reconnector.connection_opened(proto)
    clock.advance(6)  # healthy
    reconnector.connection_closed(proto)
    assert clock.pending() == [1]

    clock.advance(1)
    short = Proto()
    reconnector.connection_opened(short)
    clock.advance(1)  # not healthy: the count goes on
    reconnector.connection_closed(short)
    assert clock.pending() == [2]


def test_handshake_refused_with_4xx_stops_unless_asked() -> None:
    reconnector, clock, _connects, ended = make(Backoff(jitter=0))
    reconnector.start()
    assert len(_connects) == 1
    reconnector.connection_closed(Proto(403))
    assert clock.pending() == [] and not reconnector.running
    assert ended == ["the server refused the handshake (403 Forbidden)"]

    reconnector, clock, _connects, ended = make(Backoff(jitter=0, retry_refused=True))
    reconnector.start()
    reconnector.connection_closed(Proto(403))
    assert clock.pending() == [0.5] and ended == []
    reconnector.connection_closed(Proto(503))  # 5xx always retries
    assert len(clock.pending()) == 2


def test_stop_cancels_the_pending_attempt_and_ignores_late_reports() -> None:
    reconnector, clock, connects, _ = make(Backoff(jitter=0))
    reconnector.start()
    reconnector.attempt_failed(OSError("refused"))
    reconnector.stop()
    clock.advance(100)
    assert len(connects) == 1 and clock.pending() == []
    reconnector.connection_closed(Proto())
    assert clock.pending() == []
    assert reconnector.factory._connection_watcher is None
