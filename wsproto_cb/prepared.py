"""Messages framed once and written to many connections (broadcast)."""

from __future__ import annotations

from .core.codes import Opcode
from .core.connection import Connection
from .core.frames import build_frame

__all__ = ["PreparedMessage"]


class PreparedMessage:
    """A message whose unmasked, uncompressed frame is built once.

    Connections that can take that frame as is (servers without compression
    for this message) get the same bytes object; others (clients, which
    must mask, and compressing connections, whose deflate context is their
    own) fall back to a normal send of ``payload``.
    """

    __slots__ = ("binary", "doNotCompress", "payload", "payloadHybi")

    def __init__(self, payload: bytes, isBinary: bool = False, doNotCompress: bool = False) -> None:
        if not isinstance(payload, bytes):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        self.payload = payload
        self.binary = isBinary
        self.doNotCompress = doNotCompress
        opcode = Opcode.BINARY if isBinary else Opcode.TEXT
        #: the frame on the wire (Autobahn's attribute name)
        self.payloadHybi = build_frame(opcode, payload)

    def frame_for(self, conn: Connection) -> bytes | None:
        """The shared frame if ``conn`` can send it unchanged, else ``None``."""
        if conn.mask_outgoing or (conn.codec is not None and not self.doNotCompress):
            return None
        return self.payloadHybi
