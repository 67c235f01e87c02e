"""Sending on a WebSocket connection: messages, control frames, streams, producers.

:class:`MessageSending` is a base class of
:class:`~wsproto_cb.protocol.WebSocketProtocol`: it turns Autobahn's send
calls into bytes from the sans-I/O connection and writes them through the
runtime.  Closing (``sendClose``, ``dropConnection``) stays with the
protocol, which owns the close handshake and its timers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.connection import Connection
from .core.errors import InvalidStateError
from .core.frames import WRITE_AS_IS_MIN, write_parts
from .exceptions import Disconnected, PayloadExceededError
from .prepared import PreparedMessage
from .producers import ProducerLink

if TYPE_CHECKING:
    from .contracts import PullProducer, SendingHost

    _Host = SendingHost
else:
    _Host = object

__all__ = ["MessageSending", "checked_payload"]


def checked_payload(payload: Any, limit: int) -> bytes:
    """``payload`` as bytes, or a clear error for a wrong type or a size over ``limit``."""
    if type(payload) is not bytes:
        if not isinstance(payload, bytearray | memoryview):
            hint = " (encode text with .encode('utf8'))" if isinstance(payload, str) else ""
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}{hint}")
        payload = bytes(payload)
    data: bytes = payload
    _check_size(len(data), limit)
    return data


def _check_size(size: int, limit: int) -> None:
    if 0 < limit < size:
        raise PayloadExceededError(
            f"message of {size} bytes exceeds maxMessagePayloadSize ({limit})"
        )


class MessageSending(_Host):
    """The send half of the callback layer.

    What it reads of the protocol it is mixed into is the typed contract
    :class:`~wsproto_cb.contracts.SendingHost`; the state of a streamed
    message and the registered producer are its own (:meth:`_init_sending`).
    """

    __slots__ = ("_frame_open", "_producer_link", "_sending_stream")

    #: between beginMessage and endMessage
    _sending_stream: bool
    #: between beginMessageFrame and the data that completes the frame
    _frame_open: bool
    #: the producer of registerProducer, when there is one
    _producer_link: ProducerLink | None

    def _init_sending(self) -> None:
        self._sending_stream = False
        self._frame_open = False
        self._producer_link = None

    def _send_conn(self) -> Connection:
        conn = self._conn
        if conn is None or self.state != self.STATE_OPEN:
            raise Disconnected("Attempt to send on a closed protocol")
        return conn

    def sendMessage(
        self,
        payload: bytes,
        isBinary: bool = False,
        fragmentSize: int | None = None,
        sync: bool = False,
        doNotCompress: bool = False,
    ) -> None:
        """Send a whole message.  ``payload`` must be bytes (text: UTF-8 bytes).

        Raises :class:`PayloadExceededError` for a payload over
        ``maxMessagePayloadSize`` (the limit the peer most likely has too),
        before anything is sent.
        """
        limit = self.maxMessagePayloadSize
        if type(payload) is not bytes or 0 < limit < len(payload):
            payload = checked_payload(payload, limit)
        conn = self._conn
        if conn is None or self.state != self.STATE_OPEN:
            conn = self._send_conn()  # (raises)
        size = len(payload)
        if fragmentSize is None:
            fragmentSize = self.autoFragmentSize or None
            if (
                fragmentSize is None
                and size < WRITE_AS_IS_MIN
                and (doNotCompress or not self.websocket_extensions_in_use)
            ):
                # the hot path: one plain frame, counted as stats.PlainCounters says
                self._tx_plain_messages += 1
                self._tx_plain_octets += size
                self._rt.write(conn.send_message(payload, isBinary, compress=False))
                return
        elif fragmentSize < 1:
            raise ValueError(f"fragmentSize must be at least 1, not {fragmentSize}")
        if size >= WRITE_AS_IS_MIN or (fragmentSize is not None and size > fragmentSize):
            self._send_in_parts(conn, payload, isBinary, fragmentSize, doNotCompress)
            return
        data = conn.send_message(
            payload, isBinary, fragment_size=fragmentSize, compress=not doNotCompress
        )
        if not self._counted_as_plain(fragmentSize, doNotCompress, size):
            self._count_sent(1, size, data)
        self._rt.write(data)

    def _send_in_parts(
        self,
        conn: Connection,
        payload: bytes,
        is_binary: bool,
        fragment_size: int | None,
        do_not_compress: bool,
    ) -> None:
        """sendMessage for a large or fragmented message: frames written as parts,
        so that the payload is not copied into them (docs/performance.md)."""
        frames = conn.message_frames(
            payload, is_binary, fragment_size=fragment_size, compress=not do_not_compress
        )
        if not self._counted_as_plain(fragment_size, do_not_compress, len(payload)):
            stats = self.trafficStats
            stats.out_messages += 1
            stats.out_app += len(payload)
            stats.count_sent_parts(frames)
        self._rt.write_parts(write_parts(frames))

    def _counted_as_plain(
        self, fragment_size: int | None, do_not_compress: bool, length: int
    ) -> bool:
        """Count a message sent as one uncompressed frame in the cheap counters
        (stats.PlainCounters) and say so; False for any other message."""
        if fragment_size is None and (do_not_compress or not self.websocket_extensions_in_use):
            self._tx_plain_messages += 1
            self._tx_plain_octets += length
            return True
        return False

    def _count_sent(self, messages: int, app_octets: int, frames: bytes) -> None:
        stats = self.trafficStats
        stats.out_messages += messages
        stats.out_app += app_octets
        stats.count_sent_frames(frames)

    def _check_payload_size(self, size: int) -> None:
        _check_size(size, self.maxMessagePayloadSize)

    def sendPreparedMessage(self, preparedMsg: PreparedMessage) -> None:
        """Send a message built once by ``factory.prepareMessage`` (for broadcasts)."""
        conn = self._send_conn()
        if self._sending_stream:
            # the shared frame bypasses the core, which refuses this for sendMessage
            raise InvalidStateError("a streamed message is being sent")
        self._check_payload_size(len(preparedMsg.payload))
        frame = preparedMsg.frame_for(conn)
        if frame is None:
            self.sendMessage(
                preparedMsg.payload, preparedMsg.binary, doNotCompress=preparedMsg.doNotCompress
            )
        else:
            self._count_sent(1, len(preparedMsg.payload), frame)
            self._rt.write(frame)

    # Pings, pongs and the ends of a streamed message are dropped on a
    # connection that is not open, as in Autobahn: a timer or producer that
    # fires after the peer left must not crash the program.

    def sendPing(self, payload: bytes | None = None) -> None:
        """Send a ping (payload at most 125 bytes); does nothing unless the connection is open."""
        conn = self._conn
        if conn is not None and self.state == self.STATE_OPEN:
            self._rt.write(conn.send_ping(payload or b""))

    def sendPong(self, payload: bytes | None = None) -> None:
        """Send an unsolicited pong; does nothing unless the connection is open."""
        conn = self._conn
        if conn is not None and self.state == self.STATE_OPEN:
            self._rt.write(conn.send_pong(payload or b""))

    def beginMessage(self, isBinary: bool = False, doNotCompress: bool = False) -> None:
        """Start a message to be sent frame by frame (streaming send)."""
        conn = self._conn
        if conn is not None and self.state == self.STATE_OPEN:
            conn.begin_message(isBinary, compress=not doNotCompress)
            self._sending_stream = True
            self.trafficStats.out_messages += 1

    def sendMessageFrame(self, payload: bytes, sync: bool = False) -> None:
        """Send one whole frame of the message begun with :meth:`beginMessage`."""
        conn = self._conn
        if conn is None or self.state != self.STATE_OPEN:
            return  # (as in Autobahn: a producer's last turn after a close)
        if len(payload) < WRITE_AS_IS_MIN or type(payload) is not bytes:
            data = conn.message_frame(payload)
            self._count_sent(0, len(payload), data)
            self._rt.write(data)
        else:  # (written as parts: the payload is not copied behind the header)
            frame = conn.message_frame_parts(payload)
            stats = self.trafficStats
            stats.out_app += len(payload)
            stats.count_sent_parts((frame,))
            self._rt.write_parts(write_parts((frame,)))
        self._after_producer_write()

    def beginMessageFrame(self, length: int) -> None:
        """Start a frame of ``length`` payload bytes, sent with :meth:`sendMessageFrameData`."""
        conn = self._conn
        if conn is None or self.state != self.STATE_OPEN:
            return  # (as in Autobahn)
        self._rt.write(conn.begin_message_frame(length))
        self._frame_open = True
        self.trafficStats.out_frames += 1
        self.trafficStats.out_ws += length

    def sendMessageFrameData(self, payload: bytes, sync: bool = False) -> int | None:
        """Send payload bytes of the frame begun with :meth:`beginMessageFrame`.

        Returns what Autobahn returns: the bytes still due in the frame (> 0),
        0 when ``payload`` completed it exactly, or minus the bytes of
        ``payload`` that did not fit (< 0; only those that fit were sent).
        Does nothing and returns None unless the connection is open.  Data
        with no frame begun raises (as in Autobahn) instead of being dropped.
        """
        conn = self._conn
        if conn is None or self.state != self.STATE_OPEN:
            return None
        if not self._frame_open:
            raise InvalidStateError("sendMessageFrameData needs a frame begun by beginMessageFrame")
        due = conn.frame_bytes_due
        self._frame_open = due > len(payload)
        part = payload if len(payload) <= due else payload[:due]
        self._rt.write(conn.message_frame_data(part))
        self.trafficStats.out_app += len(part)
        self._after_producer_write()
        return due - len(payload)

    def endMessage(self) -> None:
        """End the message begun with :meth:`beginMessage` (a final, empty frame)."""
        conn = self._conn
        if conn is not None and self.state == self.STATE_OPEN:
            data = conn.end_message()
            self._count_sent(0, 0, data)
            self._rt.write(data)
        self._sending_stream = False

    def _write_broadcast(self, prepared: PreparedMessage, queue_limit: int) -> str | None:
        """Write a broadcast's shared frame here, or say why this connection cannot take it.

        ``"streaming"``: a streamed message is being sent; ``"queue_full"``:
        the bytes queued in the transport plus this message would pass
        ``queue_limit`` (an empty queue takes any message).  None: written.
        """
        conn = self._send_conn()
        frame = prepared.frame_for(conn)
        size = len(frame) if frame is not None else len(prepared.payload)
        if self._sending_stream:
            return "streaming"
        queued = self._rt.write_buffer_size()
        if queued and queued + size > queue_limit:
            return "queue_full"
        if frame is not None:
            self._rt.write(frame)
        else:
            self.sendMessage(prepared.payload, prepared.binary)
        return None

    # producers

    def registerProducer(self, producer: PullProducer, streaming: bool) -> None:
        """Let a producer stream into this connection, paused with the transport."""
        link = self._producer_link
        if link is not None and link.producer is not None:
            raise RuntimeError(f"producer {link.producer!r} is registered already")
        self._producer_link = ProducerLink(self, producer, streaming, self._writes_held())

    def unregisterProducer(self) -> None:
        """Forget the producer registered with :meth:`registerProducer`."""
        link, self._producer_link = self._producer_link, None
        if link is not None:
            link.forget()

    def _after_producer_write(self) -> None:
        link = self._producer_link
        if link is not None:
            link.frame_written()
