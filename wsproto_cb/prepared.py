"""Messages framed once and written to many connections (broadcast)."""

from __future__ import annotations

from .core.codes import Opcode
from .core.connection import Connection
from .core.deflate_codec import PerMessageDeflate
from .core.frames import RSV1, build_frame

__all__ = ["PreparedMessage"]


class PreparedMessage:
    """A message framed once, shared by every connection that can send it unchanged.

    Servers without compression (or for a ``doNotCompress`` message) share
    the uncompressed frame.  Servers whose permessage-deflate compresses
    every message from a fresh state (no context takeover on our side)
    share a compressed frame: it depends only on the compressor settings
    (window bits, memLevel), so one is built per distinct setting, on first
    need, however many connections use it.  Others fall back to a normal
    send of ``payload``: clients, which must mask, and connections with
    context takeover, whose deflate history is their own.
    """

    __slots__ = ("_compressed", "binary", "doNotCompress", "payload", "payloadHybi")

    def __init__(self, payload: bytes, isBinary: bool = False, doNotCompress: bool = False) -> None:
        if not isinstance(payload, bytes):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        self.payload = payload
        self.binary = isBinary
        self.doNotCompress = doNotCompress
        opcode = Opcode.BINARY if isBinary else Opcode.TEXT
        #: the frame on the wire (Autobahn's attribute name)
        self.payloadHybi = build_frame(opcode, payload)
        # compressor settings key -> compressed frame, filled on first need
        self._compressed: dict[tuple[object, ...], bytes] = {}

    def frame_for(self, conn: Connection) -> bytes | None:
        """The shared frame if ``conn`` can send it unchanged, else ``None``.

        A compressed frame is byte for byte what ``conn.send_message``
        would produce for this payload (one frame, RSV1 set).
        """
        if conn.mask_outgoing:
            return None
        codec = conn.codec
        if codec is None or self.doNotCompress:
            return self.payloadHybi  # RSV1 clear is legal under permessage-deflate
        if not isinstance(codec, PerMessageDeflate):
            return None
        key = codec.shared_frame_key
        if key is None:
            return None  # context takeover: the connection's own compressor must do it
        frame = self._compressed.get(key)
        if frame is None:
            opcode = Opcode.BINARY if self.binary else Opcode.TEXT
            frame = build_frame(opcode, codec.compress_whole_message(self.payload), rsv=RSV1)
            self._compressed[key] = frame
        return frame
