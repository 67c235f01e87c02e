"""The hot receive path: one whole, plain message in one step.

Most messages are small and arrive in one final frame.  For those the
general parser (:meth:`Connection.next_event`) does more than needed: an
event per frame, flags for streaming, state for fragments.
:func:`read_message` picks such a message straight out of the receive
buffer, unmasked and (for text) checked as UTF-8, and the callback layer
hands it to ``onMessage``.

It decides no protocol rule: it only *declines* (returns ``None``) for
everything else, and the connection's parser then reads those bytes as
always, with its close codes.  It declines for

- an incomplete header or payload (the parser delivers a large frame in
  pieces as it arrives);
- any first byte but ``0x81``/``0x82`` (FIN, RSV clear, text or binary):
  fragments, continuations, control frames, compressed (RSV1) frames,
  reserved opcodes and RSV bits each have rules of their own;
- a non-minimal length encoding or one with the top bit set (1002);
- a frame over ``max_frame`` or ``max_message`` (1009; one final frame is
  the whole message, so the wire bound of twice the limit follows);
- a masked frame where masking is forbidden, or an unmasked one where it
  is required (1002);
- invalid UTF-8 in a text message (1007).

:func:`read_message_python` is the reference; ``wsproto_cb.core._wire``
has a C twin with the same results (the tests compare them), used unless
``WSPROTO_CB_NO_SPEEDUPS=1``.
"""

from __future__ import annotations

from typing import Final, Protocol

from . import speedups
from .masking import apply_mask

__all__ = [
    "MASK_FORBIDDEN",
    "MASK_OPTIONAL",
    "MASK_REQUIRED",
    "ReadMessage",
    "read_message",
    "read_message_c",
    "read_message_python",
]

#: ``mask_rule``: what a frame's mask bit must be.
MASK_FORBIDDEN: Final = 0
MASK_REQUIRED: Final = 1
MASK_OPTIONAL: Final = 2

Buffer = bytes | bytearray

#: (payload, is_binary, end): the message, and where its frame ended in the buffer
Found = tuple[bytes, bool, int]


class ReadMessage(Protocol):
    """The signature :func:`read_message_python` and its C twin share."""

    def __call__(
        self,
        buf: Buffer,
        pos: int,
        mask_rule: int,
        max_frame: int,
        max_message: int,
        check_utf8: bool,
    ) -> Found | None: ...


def read_message_python(
    buf: Buffer, pos: int, mask_rule: int, max_frame: int, max_message: int, check_utf8: bool
) -> Found | None:
    """The whole one-frame message at ``buf[pos:]``, or None (see the module docstring).

    ``max_frame`` and ``max_message`` of 0 mean no limit.
    """
    if not 0 <= pos <= len(buf):
        raise ValueError("pos is outside the buffer")
    avail = len(buf) - pos
    if avail < 2:
        return None
    b0 = buf[pos]
    if b0 != 0x81 and b0 != 0x82:
        return None
    b1 = buf[pos + 1]
    length = b1 & 0x7F
    header = 2
    if length == 126:
        if avail < 4:
            return None
        length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
        header = 4
        if length < 126:
            return None
    elif length == 127:
        if avail < 10:
            return None
        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
        header = 10
        if length >> 63 or length <= 0xFFFF:
            return None
    if (max_frame and length > max_frame) or (max_message and length > max_message):
        return None
    masked = b1 >= 0x80
    if mask_rule == (MASK_FORBIDDEN if masked else MASK_REQUIRED):
        return None
    if masked:
        header += 4
    if avail - header < length:
        return None
    start = pos + header
    end = start + length
    if masked:
        payload = apply_mask(buf[start:end], bytes(buf[start - 4 : start]))
    else:
        payload = bytes(buf[start:end])
    is_binary = b0 == 0x82
    if check_utf8 and not is_binary and not payload.isascii():
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return payload, is_binary, end


#: The C twin, or None when it is disabled or was not built.
read_message_c: ReadMessage | None = speedups.load("_wire", "read_message")

#: The implementation in use: the C twin when there is one.
read_message: ReadMessage = read_message_c if read_message_c is not None else read_message_python
