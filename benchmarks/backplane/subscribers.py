"""The subscriber process: one kind of Redis pub/sub receiver, checking every message it gets.

    python -m benchmarks.backplane.subscribers KIND --redis URL --count N

KINDS:

- ``ours-asyncio``: a ``wsproto_cb.asyncio.WebSocketServerFactory`` with a
  ``RedisBackplane`` (hiredis' reader); ``ours-asyncio-purepy`` the same
  with ``WSPROTO_CB_NO_HIREDIS=1`` (our pure-Python RESP reader);
  ``ours-twisted``: the Twisted factory on the epoll reactor (hiredis).
  The factory's ``_backplane_deliver`` is wrapped: count and check the
  message, then the factory's own delivery (a local broadcast to the
  group, which has no members here).  ``backplane.subscribe(GROUP)`` is
  called directly, the call the factory makes when a group gets its first
  member, so no WebSocket connection (and no send) is in the figure.
- ``redis-py``: redis-py's ``redis.asyncio`` PubSub, ``async for`` over
  ``listen()``, each message decoded with our ``decode_envelope`` and its
  order checked with our ``SequenceTracker``, as ``RedisBackplane`` does.

It prints ``READY READER`` once connected (READER: the RESP parser in
use), then ``done FIRST LAST`` (``time.monotonic()`` at message 1 and
message N) when it has had every message 1..N exactly once in order, or
``cutoff GOT REASON`` if its connection to Redis was lost first (Redis
cuts off a subscriber whose output buffer passes
``client-output-buffer-limit pubsub``); messages after a cut-off are
counted, not checked.  Anything else (a gap, a repeat, a message out of
order without a lost connection) is ``fail REASON``.  Commands on stdin:
``status`` (answer ``status handled=H got=G dropped=D``: D is what our
backplane dropped as stale, repeated or not an envelope), ``quit``; EOF
exits too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks.fanout.messages import StdinLines, TwistedStdin
from wsproto_cb.backplane.resp import NO_HIREDIS_ENV, make_reader

from .messages import CHANNEL, GROUP, PREFIX, message_number, reply

KINDS = ("ours-asyncio", "ours-asyncio-purepy", "ours-twisted", "redis-py")
READY_TIMEOUT = 30.0


class Counter:
    """Every message of the run, 1..count, exactly once and in order; and the stdin commands."""

    __slots__ = ("_stdin", "count", "cut", "dropped", "expected", "failed", "first", "handled")

    def __init__(self, count: int) -> None:
        self.count = count
        self.expected = 1  # the next message number
        self.handled = 0  # every message handed to us, after a cut-off too
        self.first = 0.0
        self.cut = False
        self.failed = False
        #: messages the receiver dropped before us (ours: stale, repeated or malformed)
        self.dropped: Callable[[], int] = lambda: 0
        self._stdin = StdinLines()

    def message(self, data: bytes) -> None:
        self.handled += 1
        k = message_number(data)
        if k != self.expected:
            if not (self.cut or self.failed):
                self.fail(f"message {k} where {self.expected} was expected")
            return
        self.expected = k + 1
        if k == 1:
            self.first = time.monotonic()
        elif k == self.count and not self.failed:
            reply(f"done {self.first!r} {time.monotonic()!r}")
        elif k > self.count and not self.cut:
            self.fail(f"message {k} after the last one ({self.count})")

    def lost(self, reason: str) -> None:
        """The connection to Redis ended: a cut-off, unless the run was complete."""
        if self.cut or self.failed or self.expected > self.count:
            return
        self.cut = True
        reply(f"cutoff {self.expected - 1} {' '.join(reason.split())}")

    def gap(self, missed: int) -> None:
        if not (self.cut or self.failed):
            self.fail(f"{missed} message(s) missed before {self.expected} with no lost connection")

    def fail(self, reason: str) -> None:
        self.failed = True
        reply(f"fail {reason}")

    def stdin_readable(self) -> None:
        for line in self._stdin.read():
            if line == b"status":
                got = self.expected - 1
                reply(f"status handled={self.handled} got={got} dropped={self.dropped()}")
            elif line == b"quit":
                os._exit(0)


def our_factory(base: type, url: str, counter: Counter) -> Any:
    """A server factory of ``base`` on a RedisBackplane, subscribed to GROUP, counting."""
    from wsproto_cb.backplane import RedisBackplane

    class Subscriber(base):  # type: ignore[misc]
        def _backplane_deliver(self, group: str | None, payload: bytes, isBinary: bool) -> None:
            counter.message(payload)
            super()._backplane_deliver(group, payload, isBinary)

        def onBackplaneLost(self, reason: str) -> None:
            counter.lost(reason)

        def onBackplaneGap(self, group: str | None, node: str, missed: int) -> None:
            counter.gap(missed)

    factory = Subscriber()
    backplane = RedisBackplane(url, channelPrefix=PREFIX)
    factory.setBackplane(backplane)
    backplane.subscribe(GROUP)
    counter.dropped = lambda: backplane.stats.stale + backplane.stats.malformed
    return factory


def report_ready(factory: Any, call_later: Any, counter: Counter) -> None:
    """``READY`` once the backplane's links are up (checked every 10 ms, for READY_TIMEOUT)."""
    deadline = time.monotonic() + READY_TIMEOUT
    kind = type(make_reader())
    reader = f"{kind.__module__}.{kind.__qualname__}"

    def check() -> None:
        if factory.backplane.connected:
            reply(f"READY {reader}")
        elif time.monotonic() > deadline:
            counter.fail(f"backplane not connected within {READY_TIMEOUT:g} s")
        else:
            call_later(0.01, check)

    check()


def run_ours_asyncio(url: str, counter: Counter) -> None:
    from wsproto_cb.asyncio import WebSocketServerFactory

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(0, counter.stdin_readable)
        factory = our_factory(WebSocketServerFactory, url, counter)
        report_ready(factory, loop.call_later, counter)
        await loop.create_future()  # until "quit" (os._exit)

    asyncio.run(main())


def run_ours_twisted(url: str, counter: Counter) -> None:
    from twisted.internet import epollreactor

    epollreactor.install()  # type: ignore[no-untyped-call]
    from twisted.internet import reactor as installed

    from wsproto_cb.twisted import WebSocketServerFactory

    reactor: Any = installed
    reactor.addReader(TwistedStdin(counter))
    factory = our_factory(WebSocketServerFactory, url, counter)
    reactor.callWhenRunning(report_ready, factory, reactor.callLater, counter)
    reactor.run()


class RedisPy:
    """redis-py's asyncio PubSub, as an application would use it."""

    def __init__(self, url: str, counter: Counter) -> None:
        self.url = url
        self.counter = counter

    def reconnected(self, connection: Any) -> None:
        """redis-py reconnects (and resubscribes) by itself: a cut-off all the same."""
        self.counter.lost("redis-py reconnected")

    async def run(self) -> None:
        import redis.asyncio

        from wsproto_cb.backplane.envelope import EnvelopeError, SequenceTracker, decode_envelope

        asyncio.get_running_loop().add_reader(0, self.counter.stdin_readable)
        client = redis.asyncio.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        connection: Any = pubsub.connection  # (made by subscribe; typed None in redis-py)
        if connection is None:
            raise RuntimeError("redis-py subscribed without a connection")
        connection.register_connect_callback(self.reconnected)
        reply("READY redis-py+hiredis" if _redis_py_hiredis() else "READY redis-py")
        tracker = SequenceTracker()
        counter = self.counter
        try:
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                try:
                    envelope = decode_envelope(message["data"])
                except EnvelopeError as exc:
                    counter.fail(f"not an envelope: {exc}")
                    continue
                missed = tracker.observe(
                    envelope.node, envelope.group, envelope.sequence, envelope.epoch
                )
                if missed is None:
                    counter.fail(f"stale or repeated sequence number {envelope.sequence}")
                    continue
                if missed:
                    counter.gap(missed)
                counter.message(envelope.payload)
        except redis.ConnectionError as exc:
            counter.lost(f"redis-py: {exc}")
        await asyncio.get_running_loop().create_future()  # until "quit" (os._exit)


def _redis_py_hiredis() -> bool:
    from redis.utils import HIREDIS_AVAILABLE

    return bool(HIREDIS_AVAILABLE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.backplane.subscribers")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--redis", required=True)
    p.add_argument("--count", type=int, required=True)
    a = p.parse_args(argv)
    counter = Counter(a.count)
    if a.kind == "ours-asyncio-purepy":
        os.environ[NO_HIREDIS_ENV] = "1"  # (read by make_reader when the link connects)
    if a.kind == "ours-twisted":
        run_ours_twisted(a.redis, counter)
    elif a.kind == "redis-py":
        asyncio.run(RedisPy(a.redis, counter).run())
    else:
        run_ours_asyncio(a.redis, counter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
