"""The runtime-neutral callback layer shared by servers and clients.

:class:`WebSocketProtocol` turns the events of the sans-I/O
:class:`~wsproto_cb.core.connection.Connection` into Autobahn-style
callbacks (``onOpen``, ``onMessage``, ``onClose`` ...) and the Autobahn-style
send calls into bytes for the transport.  It reaches the event loop only
through a :class:`~wsproto_cb.runtime.Runtime`; the handshake halves live in
:mod:`wsproto_cb.server` and :mod:`wsproto_cb.client`.

Callbacks and ``async def``
    Any callback may return an awaitable (coroutine, Future, Deferred).  The
    connection then delivers nothing more until it completes and stops
    reading from the socket meanwhile, so a slow ``async def onMessage``
    applies backpressure to its peer instead of piling up tasks, and
    messages are handled in order.  ``onOpen``'s awaitable, and
    ``onMessage``'s with the ``messageConcurrency`` option above 1, run
    alongside delivery instead (:mod:`wsproto_cb.background`).  An
    exception from a callback (raised or from the awaitable) is logged with
    its traceback and fails that connection with close code 1011; other
    connections never notice.

``wasClean`` in ``onClose``
    True when both close frames were exchanged and the TCP connection then
    closed without this side having to force it (a timeout, a failure, a
    ``dropConnection``).  For a clean close ``code``/``reason`` are the
    peer's (``None`` when its close frame was empty, as in Autobahn); for
    an unclean one ``code`` is 1006 and ``reason`` says what happened.

States (``self.state``, Autobahn's numbers) and what moves between them
    ================  ===========================================  ============
    state             event                                        next state
    ================  ===========================================  ============
    CONNECTING (1)    TCP accepted / connected (``_init_state``)   CONNECTING
    CONNECTING        handshake succeeded (``_open``: ``onOpen``)  OPEN
    CONNECTING        handshake refused or timed out, or           CLOSING
                      ``sendClose`` / ``dropConnection``
    OPEN (3)          ``sendClose``: close frame sent              CLOSING
    OPEN              close frame received and answered            CLOSING
    OPEN              failure (``_fail``: a protocol error, a      CLOSING
                      callback's exception, 1011 ...)
    OPEN              ``dropConnection``, auto-ping timeout        CLOSING
    CLOSING (2)       the peer's close frame, any deadline         CLOSING
                      (:mod:`wsproto_cb.closing`)
    any               the runtime reports the transport lost       CLOSED (0)
                      (``onClose`` once, then ``is_closed``)
    ================  ===========================================  ============

    Nothing is delivered in CLOSED.  The moves to CLOSING are
    :mod:`wsproto_cb.closing`'s, with the deadline that bounds each wait.

Within OPEN (and the end of CONNECTING), a few named parts of the state
    - ``_held``: why delivery, and with it reading, is held; 0 while
      delivering.  ``HELD_AWAITING`` is set while a callback's awaitable is
      waited for (``_invoke``), ``HELD_SATURATED`` while
      ``messageConcurrency`` onMessage awaitables run (``_deliver``), and
      ``HELD_WRITE_FULL`` between the runtime's ``_writing_paused`` and
      ``_writing_resumed``.  Each is cleared by the matching end, and
      ``_update_reading`` keeps ``_reading_paused`` equal to ``_held != 0``.
    - ``_busy``: ``_process_events`` is running (a callback that sends or
      closes must not re-enter it).
    - ``_keepalive``: a :class:`~wsproto_cb.keepalive.KeepAlive` from
      ``_open`` while auto-ping is on, until the timers are cancelled.
    - ``_producer_link``: a :class:`~wsproto_cb.producers.ProducerLink`
      from ``registerProducer`` to ``unregisterProducer`` or the loss.
    - ``_timers``: the named deadlines that run (``close``, ``drop``,
      ``flush``; :mod:`wsproto_cb.closing`), None while none does;
      ``_open_timer``: the opening handshake's, until ``_open`` or the loss.
    - ``_closed_called``: ``onClose`` has run (it runs once).

Flow control
    When the transport's write buffer is full the connection stops
    delivering messages and stops reading, so an echo-style server cannot
    buffer without bound for a peer that does not read; a registered
    producer is paused and resumed with the transport, and stopped when the
    connection is lost (:mod:`wsproto_cb.producers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from .background import BackgroundCalls
from .closing import ClosingHandshake
from .compat import AutobahnProtocolCompat, close_frame_args
from .core.codes import CloseCode
from .core.connection import Connection
from .core.events import CloseReceived, ConnectionFailed, MessageData, Ping, Pong
from .core.message_buffer import MessageBuffer
from .keepalive import KeepAlive
from .options import ProtocolOptionAttributes, ProtocolOptions
from .receiving import StreamingReceive, uses_streaming_hooks
from .runtime import Runtime
from .sending import MessageSending
from .threadsafe import ThreadsafeSending

if TYPE_CHECKING:
    from .contracts import ConnectionOwner
    from .core.codec import MessageCodec
    from .core.handshake_client import ClientHandshake
    from .core.handshake_server import ServerHandshake

__all__ = ["HELD_AWAITING", "HELD_SATURATED", "HELD_WRITE_FULL", "WebSocketProtocol"]

# Why delivery (and with it reading) is held: the bits of ``_held``.
#: a callback's awaitable is being waited for (one at a time, in order)
HELD_AWAITING = 1
#: the transport's write buffer is full (the runtime said so)
HELD_WRITE_FULL = 2
#: ``messageConcurrency`` onMessage awaitables are running
HELD_SATURATED = 4


class WebSocketProtocol(
    ClosingHandshake,
    StreamingReceive,
    MessageSending,
    ThreadsafeSending,
    AutobahnProtocolCompat,
    ProtocolOptionAttributes,
):
    """Callbacks and sending, common to servers and clients (see module docs).

    Protocol options
        When a connection is made the factory's protocol options
        (``setProtocolOptions``) are copied onto the protocol, as Autobahn
        does, except those the protocol class or instance sets itself: a
        class attribute ``autoPingInterval = 5`` overrides the factory for
        that class, and changing the factory later leaves open connections
        alone.  ``self.maxMessagePayloadSize`` and friends read them.
    """

    STATE_CLOSED = 0
    STATE_CONNECTING = 1
    STATE_CLOSING = 2
    STATE_OPEN = 3

    is_server: ClassVar[bool] = False
    factory: Any = None
    transport: Any = None

    #: how to give a connection TLS on this runtime (the adapters say it precisely)
    _tls_hint: ClassVar[str] = "serve or connect over TLS"

    #: computed once per class: whether any streaming receive hook is overridden
    _uses_streaming_hooks: ClassVar[bool | None] = None

    # The state every connection sets lives in slots, set in _init_state: an
    # instance dict shares its keys with the class's other instances only up
    # to 30 names (CPython), and every instance that sets one more (a
    # subclass's own attributes, the names set on close ...) pays for a full
    # dict of its own, about 1.5 KiB.  The dict keeps the runtime's
    # ``factory``/``transport``, the options and the application's attributes.
    __slots__ = (
        "_background",
        "_busy",
        "_closed_called",
        "_closed_fired",
        "_conn",
        "_early",
        "_fast_delivery",
        "_frame_buffer",
        "_handshake",
        "_held",
        "_is_closed_future",
        "_is_open_future",
        "_keepalive",
        "_messages_in_flight",
        "_msg_binary",
        "_msg_buffer",
        "_open_timer",
        "_opened_fired",
        "_reading_paused",
        "_rt",
        "_rx_plain_messages",
        "_rx_plain_octets",
        "_timers",
        "_tx_plain_messages",
        "_tx_plain_octets",
        "closedByMe",
        "droppedByMe",
        "http_headers",
        "peer",
        "state",
        "trafficStats",
        "wasClean",
        "wasNotCleanReason",
        "websocket_extensions_in_use",
        "websocket_protocol_in_use",
        "websocket_version",
    )

    _conn: Connection | None
    #: awaitables running alongside delivery (onOpen's, concurrent onMessage's)
    _background: BackgroundCalls | None
    #: the auto-ping of an open connection (None: off, or not open)
    _keepalive: KeepAlive | None
    #: why delivery is held (HELD_* bits; 0: delivering), and whether the
    #: runtime was told to pause reading (it is, exactly while _held != 0)
    _held: int
    _reading_paused: bool
    #: onMessage awaitables running (with messageConcurrency > 1)
    _messages_in_flight: int
    _handshake: ServerHandshake | ClientHandshake | None
    #: bytes that arrived after the handshake, before our answer (frames sent early)
    _early: list[bytes] | None
    #: the options: none until connected (then the factory's), and those
    #: this instance set itself, which win over the factory's
    _options = ProtocolOptions()
    _own_options: dict[str, object] | None = None

    def _init_state(self, rt: Runtime) -> None:
        owner: ConnectionOwner = self.factory
        options = owner._options
        own = self._own_options
        self._options = options if own is None else options.replaced(own)
        self._rt = rt
        self.state = self.STATE_CONNECTING
        self.peer = rt.peer
        self.wasClean = False
        self.wasNotCleanReason = None
        self.droppedByMe = False
        self.closedByMe = False
        self.websocket_version: int | None = None
        self.websocket_protocol_in_use: str | None = None
        self.websocket_extensions_in_use: list[MessageCodec] = []
        self.http_headers: dict[str, str] = {}
        self._conn = None
        self._handshake = None
        self._early = None
        self._busy = False
        self._held = 0
        self._reading_paused = False
        self._background = None
        self._messages_in_flight = 0
        self._timers = None
        self._open_timer = None
        self._keepalive = None
        self._closed_called = False
        self._init_sending()
        self._init_receiving()
        self._init_compat(rt)
        cls = type(self)
        # (looked up in the class's own __dict__: a value inherited from a
        # base class that was instantiated first says nothing about this one)
        if "_uses_streaming_hooks" not in cls.__dict__:
            cls._uses_streaming_hooks = uses_streaming_hooks(cls)
        self._update_fast_delivery()

    def _set_option(self, name: str, value: object) -> None:
        """``self.<option> = value``: this connection's own copy of the options."""
        own = self._own_options
        if own is None:
            own = self._own_options = {}
        own[name] = value
        self._options = self._options.replaced({name: value})

    # ------------------------------------------------------------ callbacks

    def onOpen(self) -> Any:
        """The opening handshake is done; messages may flow."""

    def onMessage(self, payload: bytes, isBinary: bool) -> Any:
        """A whole message arrived (``payload`` is bytes, text is UTF-8)."""

    def onPing(self, payload: bytes) -> Any:
        """A ping arrived; the default answers with a pong."""
        if self.state == self.STATE_OPEN:
            self.sendPong(payload)

    def onPong(self, payload: bytes) -> Any:
        """A pong arrived."""

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> Any:
        """The connection is gone (see the module docstring for the arguments)."""

    # --------------------------------------------------- runtime entry points

    def _data_received(self, data: bytes) -> None:
        keepalive = self._keepalive
        if keepalive is not None:
            keepalive.last_rx = self._rt.now()
        conn = self._conn
        if conn is None:
            self.trafficStats.preopenIncomingOctetsWireLevel += len(data)
            self._handshake_data(data)
            return
        self.trafficStats.incomingOctetsWireLevel += len(data)
        conn.receive_data(data)
        self._process_events()

    def _handshake_data(self, data: bytes) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _connection_lost(self, reason: str | None) -> None:
        self._cancel_all_timers()
        conn = self._conn
        self.wasClean = bool(
            conn is not None and conn.close_handshake_complete and not self.droppedByMe
        )
        self.state = self.STATE_CLOSED
        if self._background is not None:
            # (after the state change: a cancellation that settles at once, as
            # a Deferred's does, must not let delivery start more handlers)
            self._background.cancel_all()
        link, self._producer_link = self._producer_link, None
        if link is not None:
            link.stop()
        owner: ConnectionOwner | None = self.factory
        if owner is not None:
            owner._connection_closed(self)
        if not self._closed_called:
            self._closed_called = True
            outcome = self._close_outcome(conn, reason)
            self._fire_on_close(*outcome)
            if self._listeners:
                self.fire("close", *outcome)
        # (after onClose: a graceful shutdown waits on is_closed, and what
        # onClose sends, a "left" broadcast say, must go out before it ends)
        self._fire_closed()

    def _writing_paused(self) -> None:
        """The runtime's transport buffer is full (see Flow control)."""
        self._held |= HELD_WRITE_FULL
        self._update_reading()
        if self._producer_link is not None:
            self._producer_link.writing_paused()

    def _writing_resumed(self) -> None:
        """The runtime's transport buffer drained."""
        self._held &= ~HELD_WRITE_FULL
        self._update_reading()
        if self._producer_link is not None:
            self._producer_link.writing_resumed()
        self._process_events()

    def _writes_held(self) -> bool:
        return bool(self._held & HELD_WRITE_FULL)

    # ----------------------------------------------------- event processing

    def _update_reading(self) -> None:
        """Pause or resume reading so that it is paused exactly while delivery is held."""
        should_pause = bool(self._held)
        if should_pause != self._reading_paused and self.state != self.STATE_CLOSED:
            self._reading_paused = should_pause
            if should_pause:
                self._rt.pause_reading()
            else:
                self._rt.resume_reading()

    def _process_events(self) -> None:
        conn = self._conn
        if self._busy or conn is None or self.state == self.STATE_CLOSED:
            return  # (nothing is delivered after onClose)
        self._busy = True
        try:
            while not self._held:
                if self._fast_delivery:
                    # the hot path: a whole plain message straight to onMessage,
                    # no event object (core/whole_message.py); counted as
                    # _on_message_data counts one (stats.PlainCounters)
                    found = conn.next_message()
                    if found is not None:
                        payload = found[0]
                        self._rx_plain_messages += 1
                        self._rx_plain_octets += len(payload)
                        # (what _invoke does, one call level less)
                        try:
                            result = self.onMessage(payload, found[1])
                        except Exception as exc:
                            self._callback_failed(exc)
                            continue
                        if result is not None:
                            self._handle_result(result, None, None, True, None)
                        continue
                event = conn.next_event()
                if event is None:
                    break
                kind = type(event)  # (cheaper than isinstance on the hot path)
                if kind is MessageData:
                    self._on_message_data(cast(MessageData, event))
                elif kind is Ping:
                    self._invoke(self.onPing, (event[0],))
                elif kind is Pong:
                    payload = cast(Pong, event).payload
                    if self._keepalive is not None:
                        self._keepalive.pong_received(payload)
                    self._invoke(self.onPong, (payload,))
                elif kind is CloseReceived:
                    close = cast(CloseReceived, event)
                    self._invoke(self.onCloseFrame, close_frame_args(close))
                elif kind is ConnectionFailed:
                    failed = cast(ConnectionFailed, event)
                    self._fail(failed.code, failed.reason)
        finally:
            self._busy = False

    def _on_message_data(self, ev: MessageData) -> None:
        data = ev.data
        if self._fast_delivery and ev.message_start and ev.message_end:
            # the hot path: a whole message in one frame, onMessage, nothing else
            # to do but count it (stats.PlainCounters) if it was not compressed
            if ev.frame_length == len(data):
                self._rx_plain_messages += 1
                self._rx_plain_octets += len(data)
            else:
                self.trafficStats.count_received(len(data), True, ev.frame_length, True)
            self._invoke(self.onMessage, (data, ev.is_binary))
            return
        self.trafficStats.count_received(len(data), ev.frame_start, ev.frame_length, ev.message_end)
        if ev.message_end and self.trackedTimings is not None:
            self.trackedTimings.track("onMessage")
        if self._uses_streaming_hooks:
            self._streaming_dispatch(ev)
        elif ev.message_start and ev.message_end:
            self._deliver(data, ev.is_binary)
            if self._listeners:
                self.fire("message", data, is_binary=ev.is_binary)
        elif ev.message_start:
            self._msg_buffer = MessageBuffer(ev.data, ev.frame_length)
        else:
            buffer = self._msg_buffer
            if buffer is not None:
                buffer.append(ev.data)
                if ev.message_end:
                    self._msg_buffer = None
                    payload = buffer.take()
                    self._deliver(payload, ev.is_binary)
                    if self._listeners:
                        self.fire("message", payload, is_binary=ev.is_binary)

    def _deliver(self, payload: bytes, is_binary: bool) -> None:
        """onMessage: one at a time (the default), or up to ``messageConcurrency`` at once."""
        limit = self.messageConcurrency
        if limit <= 1:
            self._invoke(self.onMessage, (payload, is_binary))
            return
        try:
            result = self.onMessage(payload, is_binary)
        except Exception as exc:
            self._callback_failed(exc)
            return
        if result is None or not self._rt.is_awaitable(result):
            return
        self._messages_in_flight += 1
        self._background_calls().start(result, self._callback_failed, self._message_settled)
        if self._messages_in_flight >= limit and not self._held & HELD_SATURATED:
            self._held |= HELD_SATURATED  # (at the bound: stop reading until one is done)
            self._update_reading()

    def _background_calls(self) -> BackgroundCalls:
        if self._background is None:
            self._background = BackgroundCalls(self._rt)
        return self._background

    def _message_settled(self) -> None:
        self._messages_in_flight -= 1
        if self._held & HELD_SATURATED and self._messages_in_flight < self.messageConcurrency:
            self._held &= ~HELD_SATURATED
            self._update_reading()
            self._process_events()

    def _invoke(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        on_result: Callable[[object], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        pause: bool = True,
        on_settled: Callable[[], None] | None = None,
    ) -> bool:
        """Call a user callback; True if it returned an awaitable we now wait for.

        With ``on_settled`` an awaitable runs alongside delivery instead
        (:mod:`wsproto_cb.background`), and ``on_settled`` runs when it is over.
        """
        try:
            result = fn(*args)
        except Exception as exc:
            (on_error or self._callback_failed)(exc)
            return False
        return self._handle_result(result, on_result, on_error, pause, on_settled)

    def _handle_result(
        self,
        result: object,
        on_result: Callable[[object], None] | None,
        on_error: Callable[[BaseException], None] | None,
        pause: bool,
        on_settled: Callable[[], None] | None,
    ) -> bool:
        """What a callback returned: wait for an awaitable (see :meth:`_invoke`)."""
        if result is not None and self._rt.is_awaitable(result):
            if on_settled is not None:
                self._background_calls().start(
                    result, on_error or self._callback_failed, on_settled
                )
                return False
            if pause:
                self._held |= HELD_AWAITING
                self._update_reading()

            def done(ok: bool, value: Any) -> None:
                if pause:
                    self._held &= ~HELD_AWAITING
                if ok:
                    if on_result is not None:
                        on_result(value)
                else:
                    (on_error or self._callback_failed)(value)
                if pause:
                    self._update_reading()
                    self._process_events()

            self._rt.await_result(result, done)
            return pause
        if on_result is not None:
            on_result(result)
        return False

    def _callback_failed(self, exc: BaseException) -> None:
        self.factory.metrics.callback_errors += 1
        self._rt.log_error(f"error in a callback of {type(self).__name__}; failing with 1011", exc)
        self._fail(CloseCode.INTERNAL_ERROR, "internal error")

    def _report_error(self, message: str, exc: BaseException) -> None:
        """Log an error of the application's that leaves the connection open."""
        self._rt.log_error(message, exc)

    def _stop_keepalive(self) -> None:
        keepalive, self._keepalive = self._keepalive, None
        if keepalive is not None:
            keepalive.stop()

    # -------------------------------------------------------------- opening

    def _open(self, conn: Connection, early_data: bytes) -> None:
        """The handshake succeeded: switch to frames and call ``onOpen``."""
        self._conn = conn
        self.state = self.STATE_OPEN
        self._cancel_open_timer()
        self._keepalive = KeepAlive.start(self)
        owner: ConnectionOwner | None = self.factory
        if owner is not None:
            owner._connection_opened(self)
        self.trafficStats.count_open()
        if self.trackedTimings is not None:
            self.trackedTimings.track("onOpen")
        # (onOpen's awaitable runs alongside delivery: it often loops for the
        # connection's lifetime, see wsproto_cb.background)
        self._invoke(self.onOpen, (), on_settled=_nothing)
        self._fire_opened()
        if self._listeners:
            self.fire("open")
        if early_data:
            conn.receive_data(early_data)
        self._process_events()


def _nothing() -> None:
    """An ``on_settled`` for background awaitables whose end needs no action."""
