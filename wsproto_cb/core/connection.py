"""The WebSocket connection after the opening handshake, without I/O.

:class:`Connection` turns received bytes into :mod:`events` and local calls
into bytes to send.  It owns every rule of RFC 6455 sections 5-7 (framing,
masking, fragmentation, UTF-8, control frames, the close handshake, size
limits) and the framing half of RFC 7692 (RSV1, which frames may be
compressed); the deflate codec itself is given to it after negotiation.

Receiving is a pull parser: :meth:`Connection.receive_data` only buffers,
and :meth:`Connection.next_event` parses one event at a time.  The caller
therefore controls ordering and backpressure: it can stop pulling while an
``async`` handler runs, and a reply it sends for message N is written before
anything the connection says about message N+1 (for example the close frame
that fails the connection on a broken frame that followed message N).

State (:class:`ConnectionState`):

``OPEN``
    Messages flow both ways.
``CLOSING``
    One close frame has been sent or received, not both.  After *sending*
    close we still parse and deliver what the peer sends until its close
    arrives; after *receiving* close nothing more is parsed and the caller
    answers with :meth:`Connection.acknowledge_close`.
``CLOSED``
    Both close frames were exchanged (the close handshake is complete), or
    the connection failed (:attr:`Connection.failed`).  The TCP connection
    should now be closed: by the server at once, by a client after the
    server has had a moment to close it first (RFC 6455 section 7.1.1).

Size limits (each breach fails the connection with 1009; 0 means no limit):

- ``max_frame_size``: a data frame's payload length, checked at its header.
- ``max_message_size``: a message's payload, summed over its frames (after
  decompression for a compressed message), checked at each frame header
  where the length is known, else as the data inflates.
- The same limit bounds a message on the wire: its payloads as received
  (masked, compressed) and the headers of its frames after the first may
  total at most :data:`WIRE_SIZE_FACTOR` times ``max_message_size``.  Empty or tiny
  continuation frames, and compressed data that inflates to nothing, thus
  cannot keep a message open for ever.  The pieces of a message are
  delivered as they arrive and the core keeps none of them, so what a
  message costs in memory is up to whoever assembles it (the callback
  layer keeps one buffer of about the payload's size).

A connection's close is *clean* (:attr:`Connection.close_handshake_complete`)
when both close frames were exchanged and no failure happened; the runtime
layer adds the TCP side of the story (``wasClean`` in ``onClose``).
"""

from __future__ import annotations

import codecs
import enum
import struct

from .codec import MessageCodec
from .codes import CloseCode, Opcode, is_valid_close_code
from .errors import InvalidStateError, ProtocolError
from .events import CloseReceived, ConnectionFailed, Event, MessageData, Ping, Pong
from .frames import RSV1, read_header
from .masking import apply_mask
from .outgoing import OutgoingFrames
from .whole_message import MASK_FORBIDDEN, MASK_OPTIONAL, MASK_REQUIRED, read_message

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "WIRE_SIZE_FACTOR",
    "Connection",
    "ConnectionState",
    "MessageCodec",
    "build_close_payload",
]

#: Defaults that keep one connection from exhausting a server's memory
#: (Autobahn's are unlimited).  16 MiB still echoes the largest messages of
#: the Autobahn|Testsuite's case group 9.
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024

#: A message may take this many times ``max_message_size`` on the wire,
#: the headers of its frames after the first and compressed bytes included.  Without it, empty
#: continuation frames (or compressed data that inflates to nothing) count
#: toward no limit and keep one message open forever.  Twice the limit
#: leaves room for any honest fragmentation: the Autobahn|Testsuite's 4 MiB
#: in 64-byte frames takes 4.4 MiB.
WIRE_SIZE_FACTOR = 2

_UNPACK_CODE = struct.Struct("!H").unpack_from
_PACK_CODE = struct.Struct("!H").pack

_COMPACT_THRESHOLD = 64 * 1024
# Plain ints on the hot path: comparing with an IntEnum member costs a lookup.
_CONTINUATION = 0x0
_BINARY = 0x2
# Payloads up to this size are sliced out of the receive buffer; larger ones
# are read through a memoryview, which avoids the copy but costs more to set up.
_SLICE_MAX = 2048
_new_tuple = tuple.__new__
_new_utf8_decoder = codecs.getincrementaldecoder("utf-8")


class ConnectionState(enum.Enum):
    CONNECTING = 0  # used by the runtime layer before the handshake is done
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


def build_close_payload(code: int | None, reason: str | None) -> bytes:
    """Validate a close code and reason and return the close frame payload."""
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"close code must be an int, not {type(code).__name__}")
    if not is_valid_close_code(code):
        raise ValueError(f"invalid close code {code} (use 1000-1003, 1007-1014 or 3000-4999)")
    raw = reason.encode("utf-8") if reason else b""
    if len(raw) > 123:
        raise ValueError(f"close reason is {len(raw)} bytes of UTF-8; at most 123 fit")
    return _PACK_CODE(code) + raw


class Connection(OutgoingFrames):
    """One side of an open WebSocket connection (see the module docstring)."""

    # A server holds one per client, most of them idle: slots take 8 bytes an
    # attribute, where an instance dict of this many keys takes about 1.5 KiB.
    __slots__ = (
        "_buf",
        "_frame_fin",
        "_frame_length",
        "_frame_mask",
        "_frame_phase",
        "_frame_remaining",
        "_frame_started",
        "_msg_active",
        "_msg_binary",
        "_msg_compressed",
        "_msg_first",
        "_msg_size",
        "_msg_wire_size",
        "_pos",
        "_reply_close",
        "_stopped",
        "_utf8",
        "accept_incoming_mask",
        "apply_outgoing_mask",
        "close_received",
        "close_sent",
        "codec",
        "echo_close_code_reason",
        "failed",
        "is_server",
        "local_close_code",
        "local_close_reason",
        "mask_outgoing",
        "max_frame_size",
        "max_message_size",
        "remote_close_code",
        "remote_close_reason",
        "require_incoming_mask",
        "state",
        "validate_utf8",
    )

    def __init__(
        self,
        is_server: bool,
        *,
        codec: MessageCodec | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        mask_outgoing: bool | None = None,
        require_incoming_mask: bool | None = None,
        accept_incoming_mask: bool | None = None,
        apply_outgoing_mask: bool = True,
        validate_utf8: bool = True,
        echo_close_code_reason: bool = False,
    ) -> None:
        """``max_*_size`` of 0 means unlimited.  Masking rules default to the RFC's:
        clients mask, servers require masked frames and clients refuse them."""
        self.is_server = is_server
        self.codec = codec
        self.max_frame_size = max_frame_size
        self.max_message_size = max_message_size
        self.mask_outgoing = (not is_server) if mask_outgoing is None else mask_outgoing
        self.require_incoming_mask = (
            is_server if require_incoming_mask is None else require_incoming_mask
        )
        self.accept_incoming_mask = (
            is_server if accept_incoming_mask is None else accept_incoming_mask
        )
        self.apply_outgoing_mask = apply_outgoing_mask
        self.validate_utf8 = validate_utf8
        self.echo_close_code_reason = echo_close_code_reason

        self.state = ConnectionState.OPEN
        self.close_sent = False
        self.close_received = False
        #: the peer's close code and reason, once its close frame arrived
        self.remote_close_code: int | None = None
        self.remote_close_reason: str | None = None
        #: the close code we sent (or failed with)
        self.local_close_code: int | None = None
        self.local_close_reason: str | None = None
        self.failed: ProtocolError | None = None

        self._init_outgoing()
        # receive side
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._stopped = False  # parse nothing more (failed or close received)
        self._frame_remaining = -1  # payload bytes still due for the current data frame
        self._frame_length = 0
        self._frame_fin = False
        self._frame_mask: bytes | None = None
        self._frame_phase = 0
        self._frame_started = False
        self._msg_active = False
        self._msg_binary = False
        self._msg_compressed = False
        self._msg_size = 0
        self._msg_wire_size = 0  # headers and payloads as received
        self._msg_first = False
        # (made for the first text message that arrives in pieces)
        self._utf8: codecs.IncrementalDecoder | None = None
        self._reply_close = b""

    # ------------------------------------------------------------------ receive

    @property
    def close_handshake_complete(self) -> bool:
        return self.close_sent and self.close_received and self.failed is None

    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the peer; :meth:`next_event` parses them."""
        if not data or self._stopped:
            return
        buf = self._buf
        if self._pos >= len(buf):
            # keep a caller's bytes as they are; never adopt (and later
            # append to) a caller's bytearray or memoryview
            self._buf = data if type(data) is bytes else bytes(data)
            self._pos = 0
        elif isinstance(buf, bytes):
            self._buf = bytearray(memoryview(buf)[self._pos :])
            self._buf += data
            self._pos = 0
        else:
            if self._pos > _COMPACT_THRESHOLD:
                del buf[: self._pos]
                self._pos = 0
            buf += data

    def next_event(self) -> Event | None:
        """Parse and return the next event, or ``None`` until more data arrives."""
        if self._stopped or self._pos >= len(self._buf):
            return None  # (the cheap answer for a drained buffer: the common case)
        try:
            # Optimisation (benchmarks/core.py): the payload of a frame that
            # has begun is handled here, without a further call level.
            if self._frame_remaining >= 0:
                return self._continue_data_frame()
            return self._parse_frame()
        except ProtocolError as exc:
            return self._stop_with(exc)

    def next_message(self) -> tuple[bytes, bool, int] | None:
        """The next message if it is whole and plain, else ``None``: then call :meth:`next_event`.

        Returns ``(payload, is_binary, end)`` (``end`` is internal).  A
        shortcut for the common case: a message in one final frame, fully
        buffered, uncompressed, breaking no rule, between messages
        (:mod:`wsproto_cb.core.whole_message` says precisely when it
        declines).  What it returns is what :meth:`next_event` would have
        delivered as one ``MessageData`` with every flag set.
        """
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < 2 or self._frame_remaining >= 0 or self._msg_active or self._stopped:
            return None
        if self.require_incoming_mask:
            if not self.accept_incoming_mask:
                return None  # every frame breaks a rule: the parser says which
            rule = MASK_REQUIRED
        else:
            rule = MASK_OPTIONAL if self.accept_incoming_mask else MASK_FORBIDDEN
        found = read_message(
            buf,
            pos,
            rule,
            self.max_frame_size,
            self.max_message_size,
            self.validate_utf8,
        )
        if found is not None:
            self._pos = found[2]
        return found

    def events(self) -> list[Event]:
        """Every event the buffered bytes hold (convenience for tests and tools)."""
        out: list[Event] = []
        while (event := self.next_event()) is not None:
            out.append(event)
        return out

    def _stop_with(self, exc: ProtocolError) -> ConnectionFailed:
        self._stopped = True
        self._buf = b""
        self._pos = 0
        self.failed = exc
        return ConnectionFailed(exc.code, exc.reason)

    def _parse_frame(self) -> Event | None:
        """Read the next frame header: a control frame's event, or the start of a data frame."""
        header = read_header(self._buf, self._pos)
        if header is None:
            return None
        fin, rsv, opcode, length, mask, size = header
        if mask is None:
            if self.require_incoming_mask:
                raise ProtocolError(1002, "unmasked frame from a client")
        elif not self.accept_incoming_mask:
            raise ProtocolError(1002, "masked frame from a server")
        if opcode >= 0x8:
            if rsv:
                raise ProtocolError(1002, "RSV bit set on a control frame")
            end = self._pos + size + length
            if len(self._buf) < end:
                return None
            payload = bytes(self._buf[self._pos + size : end])
            self._pos = end
            if mask is not None:
                payload = apply_mask(payload, mask)
            return self._control_frame(opcode, payload)
        self._start_data_frame(fin, rsv, opcode, length, size)
        self._pos += size
        self._frame_mask = mask
        self._frame_phase = 0
        self._frame_started = False
        # A data frame always yields an event once its payload (possibly
        # empty) is buffered, so there is nothing to loop for.
        return self._continue_data_frame()

    def _start_data_frame(
        self, fin: bool, rsv: int, opcode: int, length: int, header_size: int
    ) -> None:
        if opcode == _CONTINUATION:
            if not self._msg_active:
                raise ProtocolError(1002, "continuation frame without a message to continue")
            if rsv:
                raise ProtocolError(1002, "RSV bit set on a continuation frame")
        else:
            if self._msg_active:
                raise ProtocolError(1002, "new message started before the last one ended")
            if rsv and (rsv & ~RSV1 or self.codec is None):
                raise ProtocolError(1002, "RSV bit set without a negotiated extension")
            self._msg_active = True
            self._msg_binary = opcode == _BINARY
            self._msg_compressed = bool(rsv)
            self._msg_size = 0
            # The first header is free, so a message at the limit always
            # fits in one frame, however small the limit.
            self._msg_wire_size = -header_size
            self._msg_first = True
            if self._msg_compressed and self.codec is not None:
                self.codec.start_decompress_message()
        if self.max_frame_size and length > self.max_frame_size:
            raise ProtocolError(1009, f"frame of {length} bytes exceeds {self.max_frame_size}")
        limit = self.max_message_size
        if limit:
            if not self._msg_compressed and self._msg_size + length > limit:
                raise ProtocolError(
                    1009, f"message of over {self._msg_size + length} bytes exceeds {limit}"
                )
            self._msg_wire_size += header_size + length
            if self._msg_wire_size > limit * WIRE_SIZE_FACTOR:
                raise ProtocolError(
                    1009,
                    f"message takes over {self._msg_wire_size} bytes on the wire (frame "
                    f"headers included), more than {WIRE_SIZE_FACTOR} x {limit}",
                )
        self._frame_fin = fin
        self._frame_length = length
        self._frame_remaining = length

    def _continue_data_frame(self) -> MessageData | None:
        """Deliver whatever part of the current data frame's payload is buffered."""
        remaining = self._frame_remaining
        buf = self._buf
        pos = self._pos
        n = len(buf) - pos
        if n >= remaining:
            n = remaining
        elif n <= 0:
            return None  # the payload's next bytes have not arrived
        end = pos + n
        # Optimisation (benchmarks/core.py): copy each payload byte at most
        # once; a whole ``bytes`` buffer is used as it is.
        whole = pos == 0 and end == len(buf) and type(buf) is bytes
        mask = self._frame_mask
        if mask is not None:
            if whole or n <= _SLICE_MAX:
                src: bytes | bytearray | memoryview = buf if whole else buf[pos:end]
            else:
                src = memoryview(buf)[pos:end]
            chunk = apply_mask(src, mask, self._frame_phase)
            self._frame_phase = (self._frame_phase + n) & 3
        elif whole:
            chunk = buf  # type: ignore[assignment]  # whole and bytes
        elif type(buf) is bytes:
            chunk = buf[pos:end]
        else:
            chunk = bytes(memoryview(buf)[pos:end])
        self._pos = end
        remaining -= n
        frame_end = remaining == 0
        message_end = frame_end and self._frame_fin
        frame_start = not self._frame_started
        self._frame_started = True
        self._frame_remaining = remaining if remaining else -1
        if self._msg_compressed:
            chunk = self._decompress(chunk, message_end)
            if not chunk and not (frame_start or frame_end):
                return None
        else:
            self._msg_size += n
        message_start = self._msg_first
        if not self._msg_binary and self.validate_utf8:
            if message_start and message_end:
                # Optimisation (benchmarks/core.py): a message in one piece
                # is checked in one call, and ASCII needs no decoding.
                if not chunk.isascii():
                    try:
                        chunk.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError(1007, "invalid UTF-8 in a text message") from None
            else:
                self._check_utf8_part(chunk, message_start, message_end)
        self._msg_first = False
        if message_end:
            self._msg_active = False
        # tuple.__new__ skips the NamedTuple's Python-level __new__ (hot path)
        return _new_tuple(
            MessageData,
            (
                chunk,
                self._msg_binary,
                message_start,
                message_end,
                frame_start,
                frame_end,
                self._frame_length,
            ),
        )

    def _check_utf8_part(self, chunk: bytes, message_start: bool, message_end: bool) -> None:
        """Validate one piece of a text message that arrives in several pieces."""
        decoder = self._utf8
        if decoder is None:
            decoder = self._utf8 = _new_utf8_decoder()
        elif message_start:
            # Optimisation: reset here, not per message (two Python-level calls).
            decoder.reset()
        try:
            decoder.decode(chunk, message_end)
        except UnicodeDecodeError:
            raise ProtocolError(1007, "invalid UTF-8 in a text message") from None
        # Fix (tests): CPython's incremental decoder keeps ED A0..BF (the
        # start of a UTF-16 surrogate, never valid) pending until a third
        # byte arrives; fail fast now, as for every other invalid prefix.
        if not message_end and chunk and 0xA0 <= chunk[-1] <= 0xBF:
            pending = decoder.getstate()[0]
            if len(pending) == 2 and pending[0] == 0xED:
                raise ProtocolError(1007, "invalid UTF-8 in a text message")

    def _decompress(self, chunk: bytes, message_end: bool) -> bytes:
        codec = self.codec
        if codec is None:  # pragma: no cover - RSV1 is refused without a codec
            raise ProtocolError(1002, "compressed frame without a negotiated extension")
        limit = self.max_message_size
        allowance = limit - self._msg_size + 1 if limit else 0
        try:
            out = codec.decompress_message_data(chunk, allowance) if chunk else b""
            if message_end:
                allowance = limit - self._msg_size - len(out) + 1 if limit else 0
                out += codec.end_decompress_message(allowance)
        except ProtocolError:
            raise
        except Exception as exc:  # zlib.error and friends: corrupt data
            raise ProtocolError(1007, f"invalid compressed data: {exc}") from None
        self._msg_size += len(out)
        if limit and self._msg_size > limit:
            raise ProtocolError(1009, f"decompressed message exceeds {limit} bytes")
        return out

    def _control_frame(self, opcode: int, payload: bytes) -> Event:
        if opcode == Opcode.PING:
            return Ping(payload)
        if opcode == Opcode.PONG:
            return Pong(payload)
        # close
        if len(payload) == 0:
            code, reason = int(CloseCode.NO_STATUS_RECEIVED), ""
        elif len(payload) == 1:
            raise ProtocolError(1002, "close frame with a 1-byte payload")
        else:
            (code,) = _UNPACK_CODE(payload)
            if not is_valid_close_code(code):
                raise ProtocolError(1002, f"invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise ProtocolError(1007, "close reason is not valid UTF-8") from None
        self.close_received = True
        self.remote_close_code = code
        self.remote_close_reason = reason
        self._stopped = True
        self._buf = b""
        self._pos = 0
        if self.close_sent:
            self.state = ConnectionState.CLOSED
        else:
            self.state = ConnectionState.CLOSING
            if code == CloseCode.NO_STATUS_RECEIVED:
                self._reply_close = b""
            elif self.echo_close_code_reason:
                self._reply_close = payload
            else:
                self._reply_close = _PACK_CODE(CloseCode.NORMAL)
        return CloseReceived(code, reason)

    # --------------------------------------------------------------- closing

    def acknowledge_close(self) -> bytes:
        """The close frame answering the peer's close (``b""`` if we closed first)."""
        if not self.close_received:
            raise InvalidStateError("no close frame has been received")
        if self.close_sent:
            return b""
        self.close_sent = True
        self.state = ConnectionState.CLOSED
        if len(self._reply_close) >= 2:
            (self.local_close_code,) = _UNPACK_CODE(self._reply_close)
        return self._frame(Opcode.CLOSE, self._reply_close)

    def send_close(self, code: int | None = None, reason: str | None = None) -> bytes:
        """Start the closing handshake (code and reason are validated first)."""
        payload = build_close_payload(code, reason)
        self._check_can_send_control()
        self.close_sent = True
        self.local_close_code = code
        self.local_close_reason = reason
        self.state = ConnectionState.CLOSED if self.close_received else ConnectionState.CLOSING
        return self._frame(Opcode.CLOSE, payload)

    def fail(self, code: int, reason: str = "") -> bytes:
        """Fail the connection (RFC 6455 7.1.7): the close frame to send, if any.

        After this the caller closes the TCP connection without waiting for
        the peer's close frame.
        """
        if self.failed is None:
            self.failed = ProtocolError(code, reason)
        self._stopped = True
        self.state = ConnectionState.CLOSED
        if self.close_sent:
            return b""
        self.close_sent = True
        self.local_close_code = code
        self.local_close_reason = reason
        # Fix (tests): cut at a character boundary, or the peer gets an
        # invalid UTF-8 reason (and fails with 1007).
        raw = reason.encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
        if self._out_frame_remaining:
            # Fix (tests): a close frame inside a streamed frame's payload
            # would be garbage; the caller drops the TCP connection anyway.
            return b""
        return self._frame(Opcode.CLOSE, _PACK_CODE(code) + raw)
