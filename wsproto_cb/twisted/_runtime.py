"""The :class:`~wsproto_cb.runtime.Runtime` for Twisted transports."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime, ISSLTransport, ITCPTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..runtime import TimerHandle
from ._writethrough import send_now, send_parts_now, write_through_target

__all__ = ["TwistedRuntime"]

log = Logger(namespace="wsproto_cb")

try:  # (needs pyOpenSSL, which plain-TCP users may not have)
    from twisted.protocols.tls import TLSMemoryBIOProtocol as _TLSWrapper
except ImportError:  # pragma: no cover
    _TLSWrapper = None  # type: ignore[assignment,misc]


def describe_peer(transport: Any) -> str:
    """``tcp4:host:port`` (or ``tcp6:``/``unix:``), as Autobahn names peers."""
    try:
        addr = transport.getPeer()
    except Exception:
        return "unknown"
    kind = getattr(addr, "type", None)
    if kind in ("TCP", "TCP6"):
        family = "tcp6" if kind == "TCP6" or ":" in addr.host else "tcp4"
        return f"{family}:{addr.host}:{addr.port}"
    if hasattr(addr, "name"):
        return f"unix:{addr.name}"
    return str(addr)


class CancellableCall:
    """A reactor ``DelayedCall`` whose ``cancel()`` may come after it ran or was cancelled."""

    __slots__ = ("_call",)

    def __init__(self, call: Any) -> None:
        self._call = call

    def cancel(self) -> None:
        if self._call.active():
            self._call.cancel()


class TwistedRuntime:
    __slots__ = ("_clock", "_socket_conn", "_transport", "is_secure", "octets_written", "peer")

    def __init__(self, transport: Any, clock: IReactorTime) -> None:
        self._transport = transport
        self._clock: Any = clock  # (zope interfaces do not type-check as classes)
        self.peer = describe_peer(transport)
        self.is_secure = ISSLTransport.providedBy(transport)
        self.octets_written = 0
        # a plain TCP/UNIX connection whose socket may take writes directly
        self._socket_conn = write_through_target(transport)

    def write(self, data: bytes) -> None:
        """Send what the socket takes now if nothing is queued; queue the rest.

        (Saves Twisted's per-write ``startWriting``/``stopWriting`` pair:
        :mod:`wsproto_cb.twisted._writethrough` says when and why.)
        """
        self.octets_written += len(data)
        conn = self._socket_conn
        sent = 0 if conn is None else send_now(conn, data)
        if sent < len(data):
            self._transport.write(data[sent:] if sent else data)

    def write_parts(self, parts: Sequence[bytes | memoryview]) -> None:
        """:meth:`write` for parts: one ``sendmsg()`` for all that the socket takes now."""
        self.octets_written += sum(map(len, parts))
        conn = self._socket_conn
        rest = [bytes(part) for part in parts] if conn is None else send_parts_now(conn, parts)
        for part in rest:  # (each through write: a wrapper may count or transform them)
            self._transport.write(part)

    def write_buffer_size(self) -> int:
        conn = self._socket_conn
        if conn is not None and not conn.TLS:  # (the common case, asked per broadcast)
            return len(conn.dataBuffer) - conn.offset + conn._tempDataLen  # type: ignore[no-any-return]
        return _queued_bytes(self._transport)

    def close(self) -> None:
        # Over TLS, loseConnection waits for the producer (our protocol) to be
        # unregistered before it shuts TLS down; we write nothing more anyway.
        self._transport.unregisterProducer()
        self._transport.loseConnection()

    def abort(self) -> None:
        abort = getattr(self._transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            self._transport.loseConnection()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return CancellableCall(self._clock.callLater(delay, callback))

    def call_from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        call = getattr(self._clock, "callFromThread", None)  # (a test Clock has none)
        if call is None:
            from twisted.internet import reactor

            call = reactor.callFromThread
        call(callback, *args)

    def now(self) -> float:
        return float(self._clock.seconds())

    def pause_reading(self) -> None:
        self._transport.pauseProducing()

    def resume_reading(self) -> None:
        self._transport.resumeProducing()

    def set_nodelay(self, enabled: bool) -> None:
        if ITCPTransport.providedBy(self._transport):
            # (TLS over a non-TCP transport, or already closed)
            with contextlib.suppress(Exception):
                self._transport.setTcpNoDelay(enabled)

    def is_awaitable(self, value: Any) -> bool:
        return isinstance(value, defer.Deferred) or inspect.isawaitable(value)

    def await_result(
        self, value: Any, done: Callable[[bool, Any], None]
    ) -> defer.Deferred[Any]:
        if isinstance(value, defer.Deferred):
            d = value
        elif inspect.iscoroutine(value):
            d = defer.Deferred.fromCoroutine(value)
        else:  # an asyncio Future on the asyncio reactor, or another awaitable
            d = defer.Deferred.fromFuture(_as_future(value))

        def ok(result: Any) -> None:
            done(True, result)

        def failed(failure: Failure) -> None:
            done(False, failure.value)

        d.addCallbacks(ok, failed)
        return d

    def create_future(self) -> Any:
        return defer.Deferred()

    def resolve_future(self, future: Any, value: Any) -> None:
        if not future.called:
            future.callback(value)

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        if exc is None:
            log.error(message)
        else:
            failure = Failure(exc, type(exc), exc.__traceback__)  # type: ignore[no-untyped-call]
            log.failure(message, failure)

    def log_warning(self, message: str) -> None:
        log.warn("{message}", message=message)  # (braces in the text are not a format)


def _queued_bytes(transport: Any) -> int:
    """Bytes a Twisted transport holds, looking through TLS wrappers.

    Twisted has no public call for this.  A ``FileDescriptor`` (TCP, UNIX)
    keeps them in ``dataBuffer``/``_tempDataBuffer``; the TLS wrapper holds
    cleartext in ``_appSendBuffer`` (until its handshake is done) and in its
    small-write aggregator, and passes the rest, encrypted, to the transport
    it wraps.
    """
    total = 0
    for _ in range(4):  # wrapper depth, bounded
        if _TLSWrapper is None or not isinstance(transport, _TLSWrapper):
            break
        total += sum(len(chunk) for chunk in transport._appSendBuffer)
        aggregated = getattr(getattr(transport, "_aggregator", None), "_buffer", None) or ()
        total += sum(len(chunk) for chunk in aggregated)
        transport = transport.transport
    data = getattr(transport, "dataBuffer", None)
    if data is None:
        return total  # (an unknown transport: only what the wrappers hold)
    return total + len(data) - int(transport.offset) + int(transport._tempDataLen)


def _as_future(value: Any) -> Any:
    import asyncio

    return asyncio.ensure_future(value)
