"""Autobahn|Python's extra names on the protocol classes: compatibility surface only.

Programs written for Autobahn use more than the callbacks: ``self.log``,
``is_open``, ``trafficStats``, ``setTrackTimings``, the ``CLOSE_STATUS_CODE_*``
and ``MESSAGE_TYPE_*`` constants, the close details (``remoteCloseCode``,
``localCloseCode``, ``closedByMe`` ...), ``on``/``off`` observers and a few
overridable hooks.  They live here, mixed into
:class:`~wsproto_cb.protocol.WebSocketProtocol`, so the callback layer stays
about callbacks.  Observers accept ``"message"`` (as Autobahn: the handler
gets ``payload, is_binary=``) and also ``"open"`` and ``"close"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .core.codes import CloseCode
from .core.connection import Connection
from .core.events import CloseReceived
from .logger import FormatLogger
from .runtime import Runtime
from .stats import PlainCounters, Timings, TrafficStats

if TYPE_CHECKING:
    from .core.handshake_server import ServerHandshake

__all__ = [
    "MAX_CLOSE_REASON_BYTES",
    "AutobahnProtocolCompat",
    "AutobahnServerCompat",
    "close_frame_args",
    "truncate_utf8",
]

#: a close frame's payload is at most 125 bytes, two of them the code
MAX_CLOSE_REASON_BYTES = 123

OBSERVABLE_EVENTS = ("open", "message", "close")


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut so its UTF-8 takes at most ``limit`` bytes, never inside a character."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def close_frame_args(close: CloseReceived) -> tuple[int | None, bytes | None]:
    """``onCloseFrame``'s (code, reasonRaw): None for what the frame did not carry."""
    code = None if close.code == CloseCode.NO_STATUS_RECEIVED else close.code
    return code, (close.reason.encode("utf-8") if close.reason else None)


class AutobahnProtocolCompat(PlainCounters):
    """Autobahn's extra protocol attributes (see the module docstring)."""

    MESSAGE_TYPE_TEXT = 1
    MESSAGE_TYPE_BINARY = 2

    CLOSE_STATUS_CODE_NORMAL = 1000
    CLOSE_STATUS_CODE_GOING_AWAY = 1001
    CLOSE_STATUS_CODE_PROTOCOL_ERROR = 1002
    CLOSE_STATUS_CODE_UNSUPPORTED_DATA = 1003
    CLOSE_STATUS_CODE_RESERVED1 = 1004
    CLOSE_STATUS_CODE_NULL = 1005  # never sent in a frame
    CLOSE_STATUS_CODE_ABNORMAL_CLOSE = 1006  # never sent in a frame
    CLOSE_STATUS_CODE_INVALID_PAYLOAD = 1007
    CLOSE_STATUS_CODE_POLICY_VIOLATION = 1008
    CLOSE_STATUS_CODE_MESSAGE_TOO_BIG = 1009
    CLOSE_STATUS_CODE_MANDATORY_EXTENSION = 1010
    CLOSE_STATUS_CODE_INTERNAL_ERROR = 1011
    CLOSE_STATUS_CODE_SERVICE_RESTART = 1012
    CLOSE_STATUS_CODE_TRY_AGAIN_LATER = 1013
    CLOSE_STATUS_CODE_TLS_HANDSHAKE_FAILED = 1015  # never sent in a frame

    #: txaio-style logger: ``self.log.info("{n} bytes", n=3)``
    log: Any = FormatLogger()

    # (set per connection; slots of WebSocketProtocol)
    #: whether this side started the closing handshake (sent the first close frame)
    closedByMe: bool
    trafficStats: TrafficStats
    _conn: Connection | None
    #: the futures behind ``is_open``/``is_closed``, made when first asked for
    #: (most connections never are), and whether each has happened
    _is_open_future: Any
    _is_closed_future: Any
    _opened_fired: bool
    _closed_fired: bool
    #: whether a whole message goes straight to onMessage: no streaming hooks,
    #: no observers, no timings (the one check the hot path makes for them)
    _fast_delivery: bool
    _rt: Runtime
    _uses_streaming_hooks: ClassVar[bool | None]

    #: a :class:`~wsproto_cb.stats.Timings` while ``trackTimings`` is on, else None
    trackedTimings: Timings | None = None
    _listeners: dict[str, list[Callable[..., object]]] | None = None

    def _update_fast_delivery(self) -> None:
        self._fast_delivery = not (
            self._uses_streaming_hooks
            or self._listeners
            or self.trackedTimings is not None
            or self.messageConcurrency > 1  # type: ignore[attr-defined]
        )

    def _init_compat(self, rt: Runtime) -> None:
        self._is_open_future = self._is_closed_future = None
        self._opened_fired = self._closed_fired = False
        self._rx_plain_messages = self._rx_plain_octets = 0
        self._tx_plain_messages = self._tx_plain_octets = 0
        self.trafficStats = TrafficStats(self, rt)
        if self.trackTimings:
            self.trackedTimings = Timings()

    @property
    def is_open(self) -> Any:
        """A Future (asyncio) or Deferred (Twisted) that fires when the connection is open."""
        return self._future("_is_open_future", self._opened_fired, None)

    @property
    def is_closed(self) -> Any:
        """A Future or Deferred that fires with the protocol once ``onClose`` has run."""
        return self._future("_is_closed_future", self._closed_fired, self)

    def _future(self, name: str, fired: bool, value: object) -> Any:
        """The future in attribute ``name``, made now if need be (fired if it happened)."""
        future = getattr(self, name)
        if future is None:
            future = self._rt.create_future()
            setattr(self, name, future)
            if fired:
                self._rt.resolve_future(future, value)
        return future

    def _fire_opened(self) -> None:
        self._opened_fired = True
        if self._is_open_future is not None:
            self._rt.resolve_future(self._is_open_future, None)

    def _fire_closed(self) -> None:
        self._closed_fired = True
        if self._is_closed_future is not None:
            self._rt.resolve_future(self._is_closed_future, self)

    def setTrackTimings(self, enable: bool) -> None:
        """Turn ``trackedTimings`` on (a fresh :class:`Timings`) or off (None)."""
        if bool(enable) != (self.trackedTimings is not None):
            self.trackedTimings = Timings() if enable else None
        self.trackTimings = bool(enable)
        self._update_fast_delivery()

    # close details, from the sans-I/O connection

    @property
    def remoteCloseCode(self) -> int | None:
        """The code in the peer's close frame; None before it or when the frame had none."""
        conn = self._conn
        code = conn.remote_close_code if conn is not None else None
        return None if code == CloseCode.NO_STATUS_RECEIVED else code

    @property
    def remoteCloseReason(self) -> str | None:
        """The reason in the peer's close frame; None when there was none."""
        conn = self._conn
        return (conn.remote_close_reason or None) if conn is not None else None

    @property
    def localCloseCode(self) -> int | None:
        """The code in the close frame this side sent (None before, or when it had none)."""
        conn = self._conn
        if conn is None or not conn.close_sent:
            return None
        code = conn.local_close_code
        return None if code == CloseCode.NO_STATUS_RECEIVED else code

    def _close_codes_sent_received(self) -> tuple[int | None, int | None]:
        """The codes of the close frames sent and received as on the wire (the
        metrics count them): 1005 stays 1005 here; None: no such frame."""
        conn = self._conn
        if conn is None:
            return None, None
        return (conn.local_close_code if conn.close_sent else None), conn.remote_close_code

    @property
    def localCloseReason(self) -> bytes | None:
        """The reason this side sent, as UTF-8 bytes (as Autobahn keeps it), or None."""
        conn = self._conn
        if conn is None or not conn.close_sent or not conn.local_close_reason:
            return None
        return conn.local_close_reason.encode("utf-8")

    def onCloseFrame(self, code: int | None, reasonRaw: bytes | None) -> Any:
        """The peer's close frame arrived; the default answers it and closes.

        Override to look at it first, then call this (``super().onCloseFrame(...)``).
        """
        self._on_close_frame()

    def _on_close_frame(self) -> None:  # pragma: no cover - WebSocketProtocol's
        raise NotImplementedError

    # observers (Autobahn's ObservableMixin)

    def on(self, event: str, handler: Callable[..., object]) -> None:
        """Call ``handler`` on ``event``: ``"message"`` (``payload, is_binary=``),
        ``"open"`` or ``"close"`` (``wasClean, code, reason``)."""
        _check_event(event)
        if self._listeners is None:
            self._listeners = {}
        self._listeners.setdefault(event, []).append(handler)
        self._update_fast_delivery()

    def off(self, event: str | None = None, handler: Callable[..., object] | None = None) -> None:
        """Remove ``handler`` from ``event``, every handler of ``event``, or all."""
        if event is None:
            self._listeners = None
            self._update_fast_delivery()
            return
        _check_event(event)
        listeners = self._listeners
        if listeners is None or event not in listeners:
            return
        if handler is None:
            del listeners[event]
        elif handler in listeners[event]:
            listeners[event].remove(handler)
            if not listeners[event]:
                del listeners[event]
        self._update_fast_delivery()

    def fire(self, event: str, *args: object, **kwargs: object) -> None:
        """Call the handlers of ``event``; an error (or failed awaitable) is logged."""
        _check_event(event)
        if not self._listeners:
            return
        for handler in list(self._listeners.get(event, ())):
            try:
                result = handler(*args, **kwargs)
            except Exception as exc:
                self._rt.log_error(f"error in a {event!r} observer", exc)
                continue
            if result is not None and self._rt.is_awaitable(result):
                self._rt.await_result(result, self._observer_done)

    def _observer_done(self, ok: bool, value: Any) -> None:
        if not ok:
            self._rt.log_error("error in an observer", value)


def _check_event(event: str) -> None:
    if event not in OBSERVABLE_EVENTS:
        expected = ", ".join(OBSERVABLE_EVENTS)
        raise RuntimeError(f"Invalid event {event!r}. Expected one of: {expected}")


class AutobahnServerCompat:
    """Autobahn's HTTP answers on the server side, for hooks such as ``failHandshake``.

    Each writes a whole HTTP response and closes the connection: the
    opening handshake ends there.  Header values are checked (no CR/LF),
    so a redirect target cannot smuggle headers.
    """

    factory: Any
    _rt: Runtime
    _handshake_writer: Callable[[], ServerHandshake]

    def _respond(
        self, status: int, phrase: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        server = self.factory.server
        if server:
            headers = [("Server", server), *headers]
        self._rt.write(self._handshake_writer().reject(status, phrase, headers, body))
        self._drop(abort=False)

    def _drop(self, abort: bool) -> None:  # pragma: no cover - WebSocketProtocol's
        raise NotImplementedError

    def sendHtml(self, html: str) -> None:
        """Answer ``200 OK`` with the page ``html`` and close."""
        self._respond(
            200, "OK", [("Content-Type", "text/html; charset=UTF-8")], html.encode("utf-8")
        )

    def sendRedirect(self, url: str) -> None:
        """Answer ``303 See Other`` to ``url`` and close."""
        self._respond(303, "See Other", [("Location", url)], b"")
