"""The sending half of :class:`~wsproto_cb.core.connection.Connection`.

Whole messages, the frame-by-frame streaming API and control frames, all
returned as bytes for the caller to write; a whole message also as
:meth:`OutgoingFrames.message_frames`, its frames in parts that reference
the payload, so that a large, fragmented or compressed message is written
without being copied into one buffer first (a streamed frame likewise:
:meth:`OutgoingFrames.message_frame_parts`).  :class:`OutgoingFrames` is a
base class of ``Connection`` rather than a separate object so the hot send
path costs no extra call; it uses only the attributes declared below.
"""

from __future__ import annotations

from .codec import MessageCodec
from .codes import Opcode
from .errors import InvalidStateError
from .frames import RSV1, FrameParts, MaskKeySource, build_frame_header, frame_bytes, join_frames
from .masking import apply_mask

__all__ = ["OutgoingFrames"]

# Plain ints on the hot path: an IntEnum member costs a lookup.
_TEXT = int(Opcode.TEXT)
_BINARY = int(Opcode.BINARY)
_CONTINUATION = int(Opcode.CONTINUATION)

#: RFC 6455 5.2: a payload length is 63 bits (the most significant bit is 0).
_MAX_FRAME_LENGTH = (1 << 63) - 1


class OutgoingFrames:
    """Builds the frames one side sends; state lives on the ``Connection``."""

    # (slots: a server holds one Connection per client, see Connection)
    __slots__ = (
        "_masks",
        "_out_active",
        "_out_compressed",
        "_out_frame_mask",
        "_out_frame_phase",
        "_out_frame_remaining",
        "_out_opcode",
    )

    close_sent: bool
    codec: MessageCodec | None
    mask_outgoing: bool
    apply_outgoing_mask: bool
    _masks: MaskKeySource
    _out_active: bool
    _out_opcode: int
    _out_compressed: bool
    _out_frame_remaining: int
    _out_frame_mask: bytes | None
    _out_frame_phase: int

    def _init_outgoing(self) -> None:
        self._masks = MaskKeySource()
        self._out_active = False
        self._out_opcode = 0
        self._out_compressed = False
        self._out_frame_remaining = 0
        self._out_frame_mask = None
        self._out_frame_phase = 0

    def _check_can_send(self) -> None:
        if self.close_sent:
            raise InvalidStateError("cannot send after a close frame was sent")

    def _check_can_send_control(self) -> None:
        # Fix (tests): a control frame may go between the frames of a
        # message, never inside the payload begun by begin_message_frame.
        self._check_can_send()
        if self._out_frame_remaining:
            raise InvalidStateError(
                f"{self._out_frame_remaining} bytes of the current frame are still due"
            )

    def _next_mask(self) -> bytes | None:
        return self._masks.next_key() if self.mask_outgoing else None

    def _frame(self, opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
        if not self.mask_outgoing:
            return frame_bytes(opcode, payload, fin, rsv)
        mask = self._masks.next_key()
        if not self.apply_outgoing_mask:
            return build_frame_header(opcode, len(payload), fin=fin, rsv=rsv, mask=mask) + payload
        return frame_bytes(opcode, payload, fin, rsv, mask)

    def send_ping(self, payload: bytes = b"") -> bytes:
        self._check_can_send_control()
        if len(payload) > 125:
            raise ValueError(f"ping payload is {len(payload)} bytes; at most 125 fit")
        return self._frame(Opcode.PING, payload)

    def send_pong(self, payload: bytes = b"") -> bytes:
        self._check_can_send_control()
        if len(payload) > 125:
            raise ValueError(f"pong payload is {len(payload)} bytes; at most 125 fit")
        return self._frame(Opcode.PONG, payload)

    def send_message(
        self,
        data: bytes,
        is_binary: bool = False,
        *,
        fragment_size: int | None = None,
        compress: bool = True,
    ) -> bytes:
        """A whole message, split into frames of ``fragment_size`` if given."""
        if self.close_sent:
            self._check_can_send()  # (raises)
        if self._out_active:
            raise InvalidStateError("a streamed message is being sent")
        if (self.codec is None or not compress) and (
            fragment_size is None or len(data) <= fragment_size
        ):
            opcode = _BINARY if is_binary else _TEXT
            if not self.mask_outgoing:  # (a server's messages: the hot path)
                return frame_bytes(opcode, data)
            return self._frame(opcode, data)
        return join_frames(
            self.message_frames(data, is_binary, fragment_size=fragment_size, compress=compress)
        )

    def message_frames(
        self,
        data: bytes,
        is_binary: bool = False,
        *,
        fragment_size: int | None = None,
        compress: bool = True,
    ) -> list[FrameParts]:
        """:meth:`send_message`'s frames, each as its header and then its payload.

        Joined, they are exactly the bytes :meth:`send_message` returns.  An
        unmasked payload is ``data`` itself or a ``memoryview`` of it, and a
        compressed one the compressor's output as it came, so nothing is
        copied (``data`` must not change until the parts are written).
        """
        if self.close_sent:
            self._check_can_send()  # (raises)
        if self._out_active:
            raise InvalidStateError("a streamed message is being sent")
        opcode = _BINARY if is_binary else _TEXT
        codec = self.codec if compress else None
        payload: tuple[bytes, ...]
        if codec is None:
            payload, rsv = (data,), 0
        else:
            codec.start_compress_message()
            body = codec.compress_message_data(data)
            tail = codec.end_compress_message()
            payload, rsv = ((body, tail) if body else (tail,)), RSV1
        length = sum(map(len, payload))
        if fragment_size is None or length <= fragment_size:
            return [self._frame_parts(opcode, payload, length, True, rsv)]
        if fragment_size < 1:
            raise ValueError("fragment size must be at least 1")
        view = memoryview(payload[0] if len(payload) == 1 else b"".join(payload))
        last = length - fragment_size
        frames = []
        for start in range(0, length, fragment_size):
            piece = view[start : start + fragment_size]
            frames.append(self._frame_parts(opcode, (piece,), len(piece), start >= last, rsv))
            opcode = _CONTINUATION
            rsv = 0
        return frames

    def _frame_parts(
        self, opcode: int, payload: tuple[bytes | memoryview, ...], length: int, fin: bool, rsv: int
    ) -> FrameParts:
        """One frame as parts; ``payload``'s buffers are masked on the way if need be."""
        if not self.mask_outgoing:
            return (build_frame_header(opcode, length, fin=fin, rsv=rsv), *payload)
        mask = self._masks.next_key()
        header = build_frame_header(opcode, length, fin=fin, rsv=rsv, mask=mask)
        if not self.apply_outgoing_mask:
            return (header, *payload)
        masked: list[bytes | memoryview] = [header]
        phase = 0
        for buf in payload:
            masked.append(apply_mask(buf, mask, phase))
            phase += len(buf)
        return tuple(masked)

    # streaming: begin_message, message_frame / begin_message_frame +
    # message_frame_data, end_message

    def begin_message(self, is_binary: bool = False, *, compress: bool = True) -> None:
        """Start a message sent frame by frame (see :meth:`message_frame`)."""
        self._check_can_send()
        if self._out_active:
            raise InvalidStateError("a streamed message is being sent already")
        self._out_active = True
        self._out_opcode = Opcode.BINARY if is_binary else Opcode.TEXT
        self._out_compressed = compress and self.codec is not None
        self._out_frame_remaining = 0
        if self._out_compressed and self.codec is not None:
            self.codec.start_compress_message()

    def _check_streaming(self) -> None:
        self._check_can_send()
        if not self._out_active:
            raise InvalidStateError("no message was begun")
        if self._out_frame_remaining:
            raise InvalidStateError(
                f"{self._out_frame_remaining} bytes of the current frame are still due"
            )

    def _take_opcode_rsv(self) -> tuple[int, int]:
        opcode = self._out_opcode
        rsv = RSV1 if self._out_compressed and opcode != Opcode.CONTINUATION else 0
        self._out_opcode = Opcode.CONTINUATION
        return opcode, rsv

    def message_frame(self, data: bytes, fin: bool = False) -> bytes:
        """One frame of the begun message (``fin`` ends it)."""
        opcode, rsv, payload = self._next_stream_frame(data, fin)
        if len(payload) == 1:
            return self._frame(opcode, payload[0], fin, rsv)
        return join_frames((self._frame_parts(opcode, payload, sum(map(len, payload)), fin, rsv),))

    def message_frame_parts(self, data: bytes, fin: bool = False) -> FrameParts:
        """:meth:`message_frame` as its header and then its payload, not joined.

        An unmasked, uncompressed payload is ``data`` itself, so a large
        streamed frame is written without being copied behind its header
        (``data`` must not change until the parts are written).
        """
        opcode, rsv, payload = self._next_stream_frame(data, fin)
        return self._frame_parts(opcode, payload, sum(map(len, payload)), fin, rsv)

    def _next_stream_frame(self, data: bytes, fin: bool) -> tuple[int, int, tuple[bytes, ...]]:
        """The opcode, RSV bits and payload buffers of the begun message's next frame
        (compressed: the compressor's output, then its tail if ``fin``)."""
        self._check_streaming()
        payload: tuple[bytes, ...] = (data,)
        codec = self.codec
        if self._out_compressed and codec is not None:
            body = codec.compress_message_data(data)
            if not fin:
                payload = (body,)
            else:
                tail = codec.end_compress_message()
                payload = (body, tail) if body else (tail,)
        opcode, rsv = self._take_opcode_rsv()
        if fin:
            self._out_active = False
        return opcode, rsv, payload

    def end_message(self) -> bytes:
        """End the begun message with an empty final frame."""
        return self.message_frame(b"", fin=True)

    def begin_message_frame(self, length: int) -> bytes:
        """Header of a frame whose ``length`` payload bytes follow in pieces.

        The payload goes out as it is given, so it cannot be compressed: a
        message whose first frame is begun this way goes out uncompressed
        (RSV1 clear; the compressor, fed nothing, is left as it was), and
        one whose compressed frames have begun refuses it.
        """
        if not 0 <= length <= _MAX_FRAME_LENGTH:
            raise ValueError(f"frame length must be 0 to 2**63-1, not {length}")
        self._check_streaming()
        if self._out_compressed:
            if self._out_opcode == Opcode.CONTINUATION:
                raise InvalidStateError("a compressed message cannot be streamed inside a frame")
            self._out_compressed = False  # (nothing compressed yet: send it plain)
        opcode, rsv = self._take_opcode_rsv()
        mask = self._next_mask()
        self._out_frame_mask = mask if self.apply_outgoing_mask else None
        self._out_frame_phase = 0
        self._out_frame_remaining = length
        return build_frame_header(opcode, length, fin=False, rsv=rsv, mask=mask)

    @property
    def frame_bytes_due(self) -> int:
        """Payload bytes still due in the frame begun with :meth:`begin_message_frame`."""
        return self._out_frame_remaining

    def message_frame_data(self, data: bytes) -> bytes:
        """Payload bytes of the frame begun with :meth:`begin_message_frame`."""
        self._check_can_send()
        if len(data) > self._out_frame_remaining:
            raise ValueError(
                f"{len(data)} bytes given but only {self._out_frame_remaining} are due"
            )
        self._out_frame_remaining -= len(data)
        mask = self._out_frame_mask
        if mask is None:
            return bytes(data)
        out = apply_mask(data, mask, self._out_frame_phase)
        self._out_frame_phase = (self._out_frame_phase + len(data)) & 3
        return out
