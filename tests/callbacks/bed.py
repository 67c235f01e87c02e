"""A deterministic test bed for the callback layer: no sockets, no event loop,
no sleeping.

:class:`FakeRuntime` implements :class:`wsproto_cb.runtime.Runtime` (the
whole interface between the callback layer and an event loop) over a
:class:`Clock` the test moves by hand, in the shape of Twisted's
``twisted.internet.task.Clock`` (``seconds``, ``callLater``, ``advance``).
Awaitable callbacks return :class:`Pending` values (or coroutines that await
them), which the test settles when it wants.

:class:`Peer` is the other end, written with the sans-I/O core: it makes
the opening handshake and frames, and reads what the protocol wrote.
:func:`open_server` and :func:`open_client` connect one to a protocol.

The rules tested on this bed are the callback layer's (timers, close
outcomes, auto-ping, backpressure of awaitable callbacks, what still runs at
close); each keeps one test over real sockets on both runtimes
(``tests/runtime``) for the wiring.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import Any

from wsproto_cb.client import WebSocketClientProtocol
from wsproto_cb.core.connection import Connection
from wsproto_cb.core.events import Event
from wsproto_cb.core.handshake_client import ClientHandshake
from wsproto_cb.core.handshake_server import ServerHandshake
from wsproto_cb.factories import WebSocketClientFactory, WebSocketServerFactory
from wsproto_cb.protocol import WebSocketProtocol
from wsproto_cb.server import WebSocketServerProtocol

__all__ = [
    "Clock",
    "DelayedCall",
    "FakeRuntime",
    "Peer",
    "Pending",
    "RecordingClient",
    "RecordingServer",
    "connect_server",
    "open_client",
    "open_server",
]


# ------------------------------------------------------------------- the clock


class DelayedCall:
    """One ``callLater``: it runs when :meth:`Clock.advance` passes its time."""

    def __init__(self, when: float, func: Callable[..., object], args: tuple[Any, ...]) -> None:
        self.when = when
        self.func = func
        self.args = args
        self.cancelled = False
        self.called = False

    def getTime(self) -> float:
        return self.when

    def active(self) -> bool:
        return not (self.cancelled or self.called)

    def cancel(self) -> None:
        if self.called:
            raise AssertionError("cancelled after it ran")
        self.cancelled = True


class Clock:
    """Time that moves only when told (Twisted's ``task.Clock`` shape)."""

    def __init__(self) -> None:
        self.rightNow = 0.0
        self._calls: list[tuple[float, int, DelayedCall]] = []
        self._order = itertools.count()

    def seconds(self) -> float:
        return self.rightNow

    def callLater(self, delay: float, func: Callable[..., object], *args: Any) -> DelayedCall:
        if delay < 0:
            raise AssertionError(f"negative delay {delay}")
        call = DelayedCall(self.rightNow + delay, func, args)
        heapq.heappush(self._calls, (call.when, next(self._order), call))
        return call

    def getDelayedCalls(self) -> list[DelayedCall]:
        return [call for _, _, call in sorted(self._calls) if call.active()]

    def advance(self, amount: float) -> None:
        """Move time on by ``amount`` seconds, running what falls due in time order
        (calls made meanwhile included, if due)."""
        target = self.rightNow + amount
        while self._calls and self._calls[0][0] <= target:
            when, _, call = heapq.heappop(self._calls)
            if not call.active():
                continue
            self.rightNow = when
            call.called = True
            call.func(*call.args)
        self.rightNow = target

    def pump(self, timings: list[float]) -> None:
        for amount in timings:
            self.advance(amount)


# ------------------------------------------------------- awaitables, settled by hand


class Pending:
    """An awaitable the test settles: :meth:`resolve` or :meth:`fail`.

    The runtime's futures (``is_closed``) are these too.
    """

    def __init__(self) -> None:
        self.done = False
        self.ok = True
        self.value: Any = None
        self.cancelled = False
        self._callbacks: list[Callable[[bool, Any], None]] = []

    def add_done(self, callback: Callable[[bool, Any], None]) -> None:
        if self.done:
            callback(self.ok, self.value)
        else:
            self._callbacks.append(callback)

    def resolve(self, value: Any = None) -> None:
        self._settle(True, value)

    def fail(self, exc: BaseException) -> None:
        self._settle(False, exc)

    def cancel(self) -> None:
        if not self.done:
            self.cancelled = True
            self._settle(False, CancelledByBed())

    def _settle(self, ok: bool, value: Any) -> None:
        if self.done:
            raise AssertionError("settled twice")
        self.done, self.ok, self.value = True, ok, value
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(ok, value)

    def __await__(self) -> Generator[Pending, None, Any]:
        if not self.done:
            yield self
        if not self.ok:
            raise self.value
        return self.value


class CancelledByBed(Exception):
    """What a cancelled :class:`Pending` (or coroutine waiting on one) fails with."""


class _CoroutineRun:
    """Drives a coroutine that awaits :class:`Pending` values, without a loop."""

    def __init__(self, coro: Coroutine[Any, Any, Any], done: Callable[[bool, Any], None]) -> None:
        self._coro = coro
        self._done = done
        self._waiting: Pending | None = None
        self._finished = False
        self._step(True, None)

    def _step(self, ok: bool, value: Any) -> None:
        self._waiting = None
        try:
            waiting = self._coro.send(value) if ok else self._coro.throw(value)
        except StopIteration as stop:
            self._finish(True, stop.value)
            return
        except BaseException as exc:
            self._finish(False, exc)
            return
        if not isinstance(waiting, Pending):
            raise AssertionError(f"the bed's coroutines await Pending values, not {waiting!r}")
        self._waiting = waiting
        waiting.add_done(self._resumed(waiting))

    def _resumed(self, waiting: Pending) -> Callable[[bool, Any], None]:
        def resume(ok: bool, value: Any) -> None:
            if self._waiting is waiting and not self._finished:
                self._step(ok, value)

        return resume

    def _finish(self, ok: bool, value: Any) -> None:
        self._finished = True
        self._done(ok, value)

    def cancel(self) -> None:
        if self._finished:
            return
        if self._waiting is not None:
            self._waiting.cancel()  # (resumes the coroutine with CancelledByBed)
        else:
            self._coro.close()
            self._finish(False, CancelledByBed())


# ----------------------------------------------------------------- the runtime


class FakeRuntime:
    """A :class:`wsproto_cb.runtime.Runtime` that records everything (see module)."""

    is_secure = False

    def __init__(
        self,
        clock: Clock,
        name: str = "c0",
        log: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.clock = clock
        self.peer = f"tcp4:127.0.0.1:{name}"
        self.name = name
        self.octets_written = 0
        #: every write, in order (and into ``log`` as ``(name, data)`` if one is shared)
        self.writes: list[bytes] = []
        #: what ``write_buffer_size`` says: bytes a slow peer left in the queue
        self.queued = 0
        self.closed = False
        self.aborted = False
        self.reading_paused = False
        self.nodelay: bool | None = None
        self.errors: list[tuple[str, BaseException | None]] = []
        self.warnings: list[str] = []
        self._log = log

    # (the Runtime interface)

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.octets_written += len(data)
        if self._log is not None:
            self._log.append((self.name, data))

    def write_parts(self, parts: Sequence[bytes | memoryview]) -> None:
        self.write(b"".join(parts))  # (recorded as one write, as before parts existed)

    def write_buffer_size(self) -> int:
        return self.queued

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def call_later(self, delay: float, callback: Callable[[], None]) -> DelayedCall:
        return self.clock.callLater(delay, callback)

    def call_from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        callback(*args)

    def now(self) -> float:
        return self.clock.seconds()

    def pause_reading(self) -> None:
        self.reading_paused = True

    def resume_reading(self) -> None:
        self.reading_paused = False

    def set_nodelay(self, enabled: bool) -> None:
        self.nodelay = enabled

    def is_awaitable(self, value: Any) -> bool:
        return isinstance(value, Pending | Coroutine)

    def await_result(self, value: Any, done: Callable[[bool, Any], None]) -> Any:
        if isinstance(value, Pending):
            value.add_done(done)
            return value
        return _CoroutineRun(value, done)

    def create_future(self) -> Pending:
        return Pending()

    def resolve_future(self, future: Pending, value: Any) -> None:
        if not future.done:
            future.resolve(value)

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        self.errors.append((message, exc))

    def log_warning(self, message: str) -> None:
        self.warnings.append(message)

    # (for tests)

    def take(self) -> bytes:
        """What was written since the last call."""
        data = b"".join(self.writes)
        self.writes.clear()
        return data

    @property
    def gone(self) -> bool:
        """Whether the protocol closed or aborted its transport."""
        return self.closed or self.aborted


# ------------------------------------------------------------ recording protocols


class _Recording:
    """Records every callback (no awaitables: subclasses return those)."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = False
        self.messages: list[tuple[bytes, bool]] = []
        self.pongs: list[bytes] = []
        self.closed: tuple[bool, int | None, str | None] | None = None

    def onOpen(self) -> Any:
        self.opened = True

    def onMessage(self, payload: bytes, isBinary: bool) -> Any:
        self.messages.append((payload, isBinary))

    def onPong(self, payload: bytes) -> Any:
        self.pongs.append(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> Any:
        if self.closed is not None:
            raise AssertionError("onClose called twice")
        self.closed = (wasClean, code, reason)


class RecordingServer(_Recording, WebSocketServerProtocol):
    """A server protocol that records its callbacks."""


class RecordingClient(_Recording, WebSocketClientProtocol):
    """A client protocol that records its callbacks."""


class WaitingServer(RecordingServer):
    """A recording server whose onMessage returns a :class:`Pending` the test settles."""

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[Pending] = []

    def onMessage(self, payload: bytes, isBinary: bool) -> Any:
        super().onMessage(payload, isBinary)
        waiting = Pending()
        self.pending.append(waiting)
        return waiting


# -------------------------------------------------------------------- the peer


class Peer:
    """The other end of one protocol on the bed, written with the sans-I/O core."""

    def __init__(self, proto: WebSocketProtocol, rt: FakeRuntime, conn: Connection) -> None:
        self.proto = proto
        self.rt = rt
        self.conn = conn

    def send(self, data: bytes) -> None:
        """Bytes from the peer, as if they arrived on the socket."""
        self.proto._data_received(data)

    def send_message(self, payload: bytes, is_binary: bool = False) -> None:
        self.send(self.conn.send_message(payload, is_binary))

    def events(self) -> list[Event]:
        """What the protocol wrote since the last call, as the peer's events."""
        self.conn.receive_data(self.rt.take())
        return self.conn.events()

    def lose(self, reason: str | None = None) -> None:
        """The TCP connection is gone (what the runtime reports after close/abort)."""
        self.proto._connection_lost(reason)


def connect_server(
    protocol: type[WebSocketServerProtocol] = RecordingServer,
    clock: Clock | None = None,
    **options: Any,
) -> Peer:
    """A server protocol on a fake runtime whose client has connected (TCP) and
    sent nothing yet."""
    factory = WebSocketServerFactory()
    factory.setProtocolOptions(**options)
    proto = protocol()
    proto.factory = factory
    rt = FakeRuntime(clock or Clock())
    proto._connection_made(rt)
    return Peer(proto, rt, Connection(False))


def open_server(
    protocol: type[WebSocketServerProtocol] = RecordingServer,
    clock: Clock | None = None,
    *,
    factory: WebSocketServerFactory | None = None,
    **options: Any,
) -> Peer:
    """A server protocol on a fake runtime, opened by a client peer's handshake."""
    clock = clock or Clock()
    if factory is None:
        factory = WebSocketServerFactory()
        factory.setProtocolOptions(**options)
    proto = protocol()
    proto.factory = factory
    rt = FakeRuntime(clock)
    proto._connection_made(rt)
    proto._data_received(ClientHandshake("localhost", 80, "/").data_to_send())
    head = rt.take()
    if not head.startswith(b"HTTP/1.1 101 "):
        raise AssertionError(f"handshake refused: {head!r}")
    return Peer(proto, rt, Connection(False))


def open_client(
    protocol: type[WebSocketClientProtocol] = RecordingClient,
    clock: Clock | None = None,
    *,
    answer: bool = True,
    **options: Any,
) -> Peer:
    """A client protocol on a fake runtime; a server peer answers its handshake
    (unless ``answer=False``: the peer stays silent)."""
    clock = clock or Clock()
    factory = WebSocketClientFactory("ws://localhost:80/")
    factory.setProtocolOptions(**options)
    proto = protocol()
    proto.factory = factory
    rt = FakeRuntime(clock)
    proto._connection_made(rt)
    peer = Peer(proto, rt, Connection(True))
    if answer:
        handshake = ServerHandshake()
        request = handshake.receive_data(rt.take())
        if request is None:
            raise AssertionError("the client sent no complete request")
        proto._data_received(handshake.accept())
    return peer
