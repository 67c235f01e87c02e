"""Closing a connection: the closing handshake, failing, dropping, and their deadlines.

:class:`ClosingHandshake` is a base of :class:`~wsproto_cb.protocol.WebSocketProtocol`
(whose docstring has the table of states); it owns every move to
``STATE_CLOSING``, the named timers that bound each wait (the opening
handshake's too) and ``onClose``'s arguments, and reads the protocol
through the typed :class:`~wsproto_cb.contracts.ClosingHost`.

Deadlines
    No state waits on the peer for ever (each bound is an option; 0 turns
    it off):

    - opening handshake, both sides, including an ``onConnect`` still
      running: ``openHandshakeTimeout``, then abort;
    - open: ``autoPingInterval`` + ``autoPingTimeout`` for a peer that
      stops answering (a peer that stops reading never sees the ping);
    - closing after we sent a close frame: ``closeHandshakeTimeout``;
    - a client that answered the server's close, waiting for the server to
      close TCP: ``serverConnectionDropTimeout``;
    - every graceful TCP close (a server answering a close frame, a failed
      connection's close frame, a refused handshake, ``dropConnection()``):
      the bytes still queued get ``closeHandshakeTimeout`` to reach a peer
      that may have stopped reading, then the transport is aborted
      (:meth:`ClosingHandshake._close_transport`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from .compat import MAX_CLOSE_REASON_BYTES, truncate_utf8
from .core.codes import CloseCode
from .core.connection import Connection, build_close_payload
from .core.errors import InvalidStateError

if TYPE_CHECKING:
    from .contracts import ClosingHost
    from .runtime import TimerHandle

    _Host = ClosingHost
else:
    _Host = object

__all__ = ["ClosingHandshake"]


class ClosingHandshake(_Host):
    """The closing half of the protocol (see the module docstring)."""

    # (set in the protocol's _init_state, changed only here)
    #: running deadlines by name; None while there are none (an idle connection)
    _timers: dict[str, TimerHandle] | None
    #: the opening handshake's deadline, while it runs (every connection has
    #: one, so it skips the named timers' dict and partial: _start_open_timer)
    _open_timer: TimerHandle | None
    #: why the connection did not close cleanly (onClose's reason), once known
    wasNotCleanReason: str | None
    #: whether this side closed TCP without a complete closing handshake
    droppedByMe: bool

    def _on_close_frame(self) -> None:
        conn = self._conn
        if conn is None:
            return
        self._cancel_timer("close")
        reply = conn.acknowledge_close()
        self.state = self.STATE_CLOSING
        if reply:
            self._rt.write(reply)
        if self.is_server:
            self._close_transport()  # the server closes TCP first (RFC 6455 7.1.1)
        else:
            self._start_timer(
                "drop",
                self.serverConnectionDropTimeout,
                self._server_drop_timeout,
            )

    def _server_drop_timeout(self) -> None:
        self.wasNotCleanReason = (
            "WebSocket closing handshake timeout (server did not drop TCP connection in time)"
        )
        self._drop(abort=True)

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection: close frame (unless failByDrop), then TCP close."""
        if self.state == self.STATE_CLOSED:
            return
        self.wasNotCleanReason = f"{reason} (close code {code})"
        conn = self._conn
        if conn is not None:
            frame = conn.fail(code, reason)
            if frame and not self.failByDrop:
                self.closedByMe = True
                self._rt.write(frame)
        self._drop(abort=False)

    def _drop(self, abort: bool) -> None:
        self.droppedByMe = True
        self.state = self.STATE_CLOSING if self.state != self.STATE_CLOSED else self.state
        self._cancel_all_timers()
        if abort:
            self._rt.abort()
        else:
            self._close_transport()

    def _close_transport(self) -> None:
        """Close TCP once what is queued is written, but wait at most ``closeHandshakeTimeout``.

        A peer that stops reading never lets the queue drain: without this
        deadline the connection, and its buffer, would stay for good.  With
        nothing queued on a plain TCP transport the close is immediate and
        no deadline is needed (TLS still has its close_notify to send).
        """
        rt = self._rt
        pending = rt.is_secure or rt.write_buffer_size() > 0
        rt.close()
        if pending:
            self._start_timer("flush", self.closeHandshakeTimeout, self._flush_timeout)

    def _flush_timeout(self) -> None:
        self.droppedByMe = True  # (the peer may never have seen our close frame)
        if self.wasNotCleanReason is None:
            self.wasNotCleanReason = (
                "WebSocket closing handshake timeout (peer did not read what was queued "
                "for it before the TCP close)"
            )
        self._rt.abort()

    def _start_open_timer(self) -> None:
        """Bound the opening handshake by ``openHandshakeTimeout`` (0: no bound)."""
        delay = self.openHandshakeTimeout
        if delay and delay > 0:
            self._open_timer = self._rt.call_later(delay, self._open_timer_fired)

    def _cancel_open_timer(self) -> None:
        timer = self._open_timer
        if timer is not None:
            self._open_timer = None
            timer.cancel()

    def _open_timer_fired(self) -> None:
        self._open_timer = None
        self._open_handshake_timeout()

    def _open_handshake_timeout(self) -> None:
        if self.state == self.STATE_CONNECTING:
            self.wasNotCleanReason = (
                "WebSocket opening handshake timeout (peer did not finish the opening "
                "handshake in time)"
            )
            self._drop(abort=True)

    def sendClose(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the closing handshake; a bad code raises before sending.

        A reason longer than 123 bytes of UTF-8 is cut to fit (on a character
        boundary), as Autobahn does.
        """
        if isinstance(reason, str):
            reason = truncate_utf8(reason, MAX_CLOSE_REASON_BYTES)
        conn = self._conn
        if self.state == self.STATE_CONNECTING:
            self.wasNotCleanReason = "connection closed by the application during the handshake"
            self._drop(abort=False)
            return
        if conn is None or self.state != self.STATE_OPEN or conn.close_sent:
            if code is not None or reason is not None:
                build_close_payload(code, reason)  # still report bad arguments
            return
        try:
            frame = conn.send_close(code, reason)
        except InvalidStateError:
            return
        self.state = self.STATE_CLOSING
        self.closedByMe = True
        self._rt.write(frame)
        self._start_timer("close", self.closeHandshakeTimeout, self._close_timeout)

    def _keepalive_failed(self) -> None:
        self.wasNotCleanReason = "WebSocket auto-ping timeout (peer did not answer in time)"
        self.factory.metrics.autoping_timeouts += 1
        self._drop(abort=True)

    def _close_timeout(self) -> None:
        self.wasNotCleanReason = (
            "WebSocket closing handshake timeout "
            "(peer did not finish the closing handshake in time)"
        )
        self._drop(abort=True)

    def dropConnection(self, abort: bool = False) -> None:
        """Close the TCP connection without a closing handshake."""
        if self.state == self.STATE_CLOSED:
            return
        if self.wasNotCleanReason is None:
            self.wasNotCleanReason = "connection dropped by the application"
        self._drop(abort=abort)

    # the outcome (onClose's arguments)

    def _close_outcome(
        self, conn: Connection | None, reason: str | None
    ) -> tuple[bool, int | None, str | None]:
        """onClose's arguments: (wasClean, code, reason)."""
        if self.wasClean and conn is not None:
            code = conn.remote_close_code
            if code == CloseCode.NO_STATUS_RECEIVED:
                return True, None, None
            # no reason bytes -> None, as in Autobahn
            return True, code, conn.remote_close_reason or None
        why = (
            self.wasNotCleanReason
            or reason
            or ("peer dropped the TCP connection without previous WebSocket closing handshake")
        )
        return False, 1006, f'connection was closed uncleanly ("{why}")'

    def _fire_on_close(self, was_clean: bool, code: int | None, reason: str | None) -> None:
        self._invoke(
            self.onClose, (was_clean, code, reason), on_error=self._on_close_failed, pause=False
        )

    def _on_close_failed(self, exc: BaseException) -> None:
        self._rt.log_error("error in onClose", exc)

    # deadlines by name: close, drop, flush (the opening one has its own slot)

    def _start_timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel_timer(name)
        if delay and delay > 0:
            timers = self._timers
            if timers is None:
                timers = self._timers = {}
            timers[name] = self._rt.call_later(delay, partial(self._timer_fired, name, callback))

    def _timer_fired(self, name: str, callback: Callable[[], None]) -> None:
        self._forget_timer(name)
        callback()

    def _forget_timer(self, name: str) -> TimerHandle | None:
        timers = self._timers
        if timers is None:
            return None
        timer = timers.pop(name, None)
        if not timers:
            self._timers = None  # (an emptied dict keeps its table: drop it)
        return timer

    def _cancel_timer(self, name: str) -> None:
        timer = self._forget_timer(name)
        if timer is not None:
            timer.cancel()

    def _cancel_all_timers(self) -> None:
        self._stop_keepalive()
        self._cancel_open_timer()
        timers, self._timers = self._timers, None
        if timers is not None:
            for timer in timers.values():
                timer.cancel()
