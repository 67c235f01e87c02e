"""The permessage-deflate codec of one connection (RFC 7692 section 7.2).

One :class:`PerMessageDeflate` per connection, created from the negotiated
parameters (see :mod:`wsproto_cb.core.deflate_negotiation`).  It turns a
message's payload into the payloads of its frames and back, and knows nothing
about frames, RSV1 or opcodes: the connection state machine does that.

Two decisions worth knowing (details in ``docs/compression.md``):

- Window bits 8.  zlib refuses a raw deflate compressor with an 8-bit (256
  byte) window.  Where we agreed to compress with 8 bits we compress with a
  9-bit window and the ``Z_RLE`` strategy, whose matches all have distance 1,
  so the output never reaches further back than 256 bytes.  Decompression
  uses ``max(bits, 9)``: a larger window inflates every stream a smaller one
  does.
- Memory.  With no context takeover on a side, its zlib object exists only
  while a message is in flight, so an idle connection holds none.
- Several deflate streams in one message.  A block with BFINAL set ends a
  stream (RFC 7692 7.2.3.4 lets a sender flush that way) and what follows
  is inflated as a new stream, up to :data:`MAX_STREAMS_PER_MESSAGE`
  stream ends per message; one more fails with 1009.  Inflating thus costs
  at most that many inflaters and copies of a frame, whatever the input.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Final, Protocol

from wsproto_cb.core.codes import CloseCode
from wsproto_cb.core.deflate_constants import (
    DEFAULT_MEM_LEVEL,
    DEFAULT_WINDOW_BITS,
    EXTENSION_NAME,
    LEAN_COMPRESS_MEM_LEVEL,
    LEAN_COMPRESS_WINDOW_BITS,
    MEM_LEVEL_PERMISSIBLE_VALUES,
    WINDOW_SIZE_PERMISSIBLE_VALUES,
)
from wsproto_cb.core.errors import InvalidStateError, ProtocolError

if TYPE_CHECKING:
    from wsproto_cb.core.deflate_params import (
        PerMessageDeflateOfferAccept,
        PerMessageDeflateResponseAccept,
    )

__all__ = [
    "DEFAULT_MEM_LEVEL",
    "DEFAULT_WINDOW_BITS",
    "EXTENSION_NAME",
    "MAX_STREAMS_PER_MESSAGE",
    "MEM_LEVEL_PERMISSIBLE_VALUES",
    "WINDOW_SIZE_PERMISSIBLE_VALUES",
    "PerMessageCompress",
    "PerMessageDeflate",
]

# The empty stored block a sync flush ends with; RFC 7692 7.2.1 strips it on
# send and 7.2.2 appends it on receive.
_SYNC_TAIL: Final = b"\x00\x00\xff\xff"

# RFC 7692 7.2.3.6: an empty message is sent as one empty stored block.
_EMPTY_MESSAGE: Final = b"\x00"

# The smallest window zlib builds for raw deflate (it refuses 8).
_ZLIB_MIN_WINDOW_BITS: Final = 9

#: How many deflate streams one received message may end (blocks with
#: BFINAL set, RFC 7692 7.2.3.4).  A sender that flushes that way ends one
#: per message; each further stream costs a new inflater and a copy of the
#: rest of the frame, so a message of empty final streams (``03 00``
#: repeated) made a 64 KiB frame cost some 50 ms of CPU, a 1 MiB frame
#: seconds.  One more fails with 1009.
MAX_STREAMS_PER_MESSAGE: Final = 8


class _Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class _Decompressor(Protocol):
    @property
    def unused_data(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: bytes, /, max_length: int = ...) -> bytes: ...


class PerMessageCompress:
    """Base class of per-connection compression codecs (Autobahn's name)."""


def _check_window_bits(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value != 0 and value not in WINDOW_SIZE_PERMISSIBLE_VALUES:
        raise ValueError(f"{name}={value}: permissible values are 0 (default) or 8..15")


class PerMessageDeflate(PerMessageCompress):
    """permessage-deflate state of one connection: a compressor and a decompressor.

    Arguments follow Autobahn: window bits ``0`` mean 15; ``mem_level``
    ``None``/``0`` means :data:`DEFAULT_MEM_LEVEL`; ``max_message_size``
    (``None``/``0`` = no limit) caps the decompressed size of each message,
    on top of the ``max_length`` the caller passes on every call.

    Sending a message split into frames ``chunk_1 .. chunk_n``::

        codec.start_compress_message()
        payload_i = codec.compress_message_data(chunk_i)            # i < n
        payload_n = codec.compress_message_data(chunk_n) + codec.end_compress_message()

    Every ``payload_i`` goes into its frame as is (RSV1 on the first frame
    only); a non-final one may be empty, which RFC 6455 allows.  The final
    payload is never empty.  Receiving is the mirror image:
    ``start_decompress_message()``, ``decompress_message_data(payload,
    max_length)`` per frame, then ``end_decompress_message(max_length)``.
    """

    EXTENSION_NAME = EXTENSION_NAME
    WINDOW_SIZE_PERMISSIBLE_VALUES = WINDOW_SIZE_PERMISSIBLE_VALUES
    MEM_LEVEL_PERMISSIBLE_VALUES = MEM_LEVEL_PERMISSIBLE_VALUES
    DEFAULT_WINDOW_BITS = DEFAULT_WINDOW_BITS
    DEFAULT_MEM_LEVEL = DEFAULT_MEM_LEVEL

    @classmethod
    def create_from_offer_accept(
        cls, is_server: bool, accept: PerMessageDeflateOfferAccept
    ) -> PerMessageDeflate:
        """Build the codec a server uses after accepting an offer."""
        offer = accept.offer
        return cls(
            is_server,
            accept.no_context_takeover
            if accept.no_context_takeover is not None
            else offer.request_no_context_takeover,
            accept.request_no_context_takeover,
            accept.window_bits if accept.window_bits is not None else offer.request_max_window_bits,
            accept.request_max_window_bits,
            accept.mem_level,
            accept.max_message_size,
            lean_compressor=accept.window_bits is None and accept.mem_level is None,
        )

    @classmethod
    def create_from_response_accept(
        cls, is_server: bool, accept: PerMessageDeflateResponseAccept
    ) -> PerMessageDeflate:
        """Build the codec a client uses after accepting the server's response."""
        response = accept.response
        return cls(
            is_server,
            response.server_no_context_takeover,
            accept.no_context_takeover
            if accept.no_context_takeover is not None
            else response.client_no_context_takeover,
            response.server_max_window_bits,
            accept.window_bits
            if accept.window_bits is not None
            else response.client_max_window_bits,
            accept.mem_level,
            accept.max_message_size,
            lean_compressor=accept.window_bits is None and accept.mem_level is None,
        )

    def __init__(
        self,
        is_server: bool,
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: int,
        client_max_window_bits: int,
        mem_level: int | None,
        max_message_size: int | None = None,
        *,
        lean_compressor: bool = False,
    ) -> None:
        _check_window_bits("server_max_window_bits", server_max_window_bits)
        _check_window_bits("client_max_window_bits", client_max_window_bits)
        if mem_level and mem_level not in MEM_LEVEL_PERMISSIBLE_VALUES:
            raise ValueError(f"mem_level={mem_level}: permissible values are 1..9")
        if max_message_size is not None and max_message_size < 0:
            raise ValueError("max_message_size must be None or >= 0")
        self._is_server = bool(is_server)
        self.server_no_context_takeover = bool(server_no_context_takeover)
        self.client_no_context_takeover = bool(client_no_context_takeover)
        self.server_max_window_bits = server_max_window_bits or DEFAULT_WINDOW_BITS
        self.client_max_window_bits = client_max_window_bits or DEFAULT_WINDOW_BITS
        self.mem_level = mem_level or DEFAULT_MEM_LEVEL
        self.max_message_size = max_message_size or None
        # What our compressor uses: the negotiated window and memLevel, or
        # with ``lean_compressor`` (an accept that chose neither) at most
        # LEAN_COMPRESS_WINDOW_BITS and LEAN_COMPRESS_MEM_LEVEL.  Compressing
        # with less than negotiated is always valid (RFC 7692 7.1.2.1: the
        # window parameter is a maximum), so the wire and the peer's inflater
        # are unchanged.
        self._compress_bits_cap = LEAN_COMPRESS_WINDOW_BITS if lean_compressor else 15
        self.compress_mem_level = LEAN_COMPRESS_MEM_LEVEL if lean_compressor else self.mem_level

        self._compressor: _Compressor | None = None
        self._message_has_data = False

        self._decompressor: _Decompressor | None = None
        self._decompressing = False
        # Deflate streams the current message ended (MAX_STREAMS_PER_MESSAGE).
        self._streams_ended = 0
        # Compressed bytes the current decompressor got in this message; zero
        # means the sync tail must not be fed (see end_decompress_message).
        self._fed = 0
        # Decompressed bytes of the current message (for max_message_size).
        self._produced = 0

    # -- which side is which -------------------------------------------------

    @property
    def is_server(self) -> bool:
        """Whether this end is the server (which side's window and takeover parameters apply)."""
        return self._is_server

    @property
    def local_no_context_takeover(self) -> bool:
        """Whether we reset our compressor after every message."""
        return (
            self.server_no_context_takeover if self._is_server else self.client_no_context_takeover
        )

    @property
    def remote_no_context_takeover(self) -> bool:
        """Whether the peer resets its compressor after every message."""
        return (
            self.client_no_context_takeover if self._is_server else self.server_no_context_takeover
        )

    @property
    def local_max_window_bits(self) -> int:
        """The window our compressor may use (what the peer inflates with)."""
        return self.server_max_window_bits if self._is_server else self.client_max_window_bits

    @property
    def remote_max_window_bits(self) -> int:
        """The window the peer compresses with."""
        return self.client_max_window_bits if self._is_server else self.server_max_window_bits

    @property
    def compress_window_bits(self) -> int:
        """The window our compressor uses: at most what was negotiated.

        (A property: negotiation may lower the negotiated value after the
        codec is built, as a client's own ``client_max_window_bits`` hint does.)
        """
        return min(self.local_max_window_bits, self._compress_bits_cap)

    def __json__(self) -> dict[str, object]:
        return {
            "extension": EXTENSION_NAME,
            "is_server": self._is_server,
            "server_no_context_takeover": self.server_no_context_takeover,
            "client_no_context_takeover": self.client_no_context_takeover,
            "server_max_window_bits": self.server_max_window_bits,
            "client_max_window_bits": self.client_max_window_bits,
            "mem_level": self.mem_level,
            "max_message_size": self.max_message_size,
        }

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflate(is_server={self._is_server!r}, "
            f"server_no_context_takeover={self.server_no_context_takeover!r}, "
            f"client_no_context_takeover={self.client_no_context_takeover!r}, "
            f"server_max_window_bits={self.server_max_window_bits!r}, "
            f"client_max_window_bits={self.client_max_window_bits!r}, "
            f"mem_level={self.mem_level!r}, max_message_size={self.max_message_size!r})"
        )

    # -- sending -------------------------------------------------------------

    def _new_compressor(self) -> _Compressor:
        bits = self.compress_window_bits
        if bits < _ZLIB_MIN_WINDOW_BITS:
            # Distance-1 matches only: valid for any window, including 256 bytes.
            return zlib.compressobj(
                zlib.Z_DEFAULT_COMPRESSION,
                zlib.DEFLATED,
                -_ZLIB_MIN_WINDOW_BITS,
                self.compress_mem_level,
                zlib.Z_RLE,
            )
        return zlib.compressobj(
            zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -bits, self.compress_mem_level
        )

    @property
    def shared_frame_key(self) -> tuple[object, ...] | None:
        """What our compressed messages depend on, or None if they depend on history.

        With no context takeover on our side every message is compressed by
        a fresh compressor built from the class, the window bits and the
        memLevel alone, so codecs with equal keys turn a message into the
        same bytes and one compressed frame can serve them all (broadcast).
        With context takeover the output depends on earlier messages: None.
        """
        # (spelled out rather than through the local_* properties: this is
        # asked once per broadcast recipient)
        if self._is_server:
            if not self.server_no_context_takeover:
                return None
        elif not self.client_no_context_takeover:
            return None
        return (type(self), self.compress_window_bits, self.compress_mem_level)

    def compress_whole_message(self, data: bytes) -> bytes:
        """The payload of ``data`` compressed as one message from a fresh compressor.

        Byte for byte what ``start_compress_message()`` +
        ``compress_message_data(data)`` + ``end_compress_message()`` give
        without context takeover, but without touching this codec's state,
        so it may be called on any codec with the same :attr:`shared_frame_key`.
        """
        if not data:
            return _EMPTY_MESSAGE
        compressor = self._new_compressor()
        head = compressor.compress(data)
        # The sync flush ends with 00 00 ff ff, dropped (RFC 7692 7.2.1).
        return head + compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]

    def start_compress_message(self) -> None:
        """Begin an outgoing message (creates the compressor if needed)."""
        if self._compressor is None or self.local_no_context_takeover:
            self._compressor = self._new_compressor()
        self._message_has_data = False

    def compress_message_data(self, data: bytes) -> bytes:
        """Compress one chunk of the message; may return ``b""`` (zlib buffers)."""
        if self._compressor is None:
            raise InvalidStateError("compress_message_data() before start_compress_message()")
        if not data:
            return b""
        self._message_has_data = True
        return self._compressor.compress(data)

    def end_compress_message(self) -> bytes:
        """Finish the message: the rest of the final frame's payload (never empty)."""
        compressor = self._compressor
        if compressor is None:
            raise InvalidStateError("end_compress_message() before start_compress_message()")
        if self._message_has_data:
            # A sync flush always ends with the empty stored block 00 00 ff ff
            # (zlib aligns and appends it); RFC 7692 7.2.1 drops those 4 bytes.
            payload = compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]
        else:
            # Nothing went in.  zlib answers a sync flush that directly
            # follows another with no output at all, so send the empty
            # stored block of RFC 7692
            # 7.2.3.6 ("00" once the tail is stripped) and leave the
            # compressor untouched, as "00" + tail leaves the peer's window.
            payload = _EMPTY_MESSAGE
        self._message_has_data = False
        if self.local_no_context_takeover:
            self._compressor = None  # an idle connection keeps no compressor
        return payload

    # -- receiving -----------------------------------------------------------

    def _new_decompressor(self) -> _Decompressor:
        bits = max(self.remote_max_window_bits, _ZLIB_MIN_WINDOW_BITS)
        return zlib.decompressobj(-bits)

    def start_decompress_message(self) -> None:
        """Begin an incoming compressed message."""
        if self._decompressor is None or self.remote_no_context_takeover:
            self._decompressor = self._new_decompressor()
        self._decompressing = True
        self._fed = 0
        self._produced = 0
        self._streams_ended = 0

    def decompress_message_data(self, data: bytes, max_length: int) -> bytes:
        """Inflate one frame's payload.

        ``max_length`` is how many more bytes this message may decompress to
        (0: no limit).  Exceeding it raises ``ProtocolError(1009)`` after at
        most ``max_length + 1`` bytes of output; corrupt input raises
        ``ProtocolError(1007)``.  Since 0 means "no limit", a caller whose
        budget is used up cannot say "nothing more"; the codec's own
        ``max_message_size`` (checked here too, counted across the frames of
        each message) has no such gap.
        """
        return self._inflate(data, max_length)

    def end_decompress_message(self, max_length: int) -> bytes:
        """Finish the message: feed the stripped sync tail, return the last bytes."""
        if self._decompressor is None or not self._decompressing:
            raise InvalidStateError("end_decompress_message() before start_decompress_message()")
        # No compressed byte since the last stream start: either an empty
        # payload (some peers send one for an empty message) or a BFINAL
        # block ended the data.  The tail alone would leave zlib inside a
        # half-read stored block header and break the next message.
        out = self._inflate(_SYNC_TAIL, max_length) if self._fed else b""
        self._decompressing = False
        if self.remote_no_context_takeover:
            self._decompressor = None  # an idle connection keeps no decompressor
        return out

    def _limit(self, max_length: int) -> int | None:
        """Bytes this call may still produce, or None for no limit."""
        if max_length < 0:
            raise ValueError("max_length must be >= 0 (0 = no limit)")
        limit = max_length or None
        if self.max_message_size is not None:
            left = self.max_message_size - self._produced
            limit = left if limit is None else min(limit, left)
        return limit

    def _inflate(self, data: bytes, max_length: int) -> bytes:
        decompressor = self._decompressor
        if decompressor is None or not self._decompressing:
            raise InvalidStateError("decompress_message_data() before start_decompress_message()")
        limit = self._limit(max_length)
        parts: list[bytes] = []
        produced = 0
        while data:
            self._fed += len(data)
            try:
                if limit is None:
                    chunk = decompressor.decompress(data)
                else:
                    # One byte more than allowed tells "too big" from "exactly
                    # full" without inflating further than that.
                    chunk = decompressor.decompress(data, limit - produced + 1)
            except zlib.error as exc:
                raise ProtocolError(
                    CloseCode.INVALID_PAYLOAD, f"invalid permessage-deflate data: {exc}"
                ) from None
            produced += len(chunk)
            if limit is not None and produced > limit:
                raise ProtocolError(
                    CloseCode.MESSAGE_TOO_BIG,
                    f"compressed message decompresses to more than {limit} more bytes",
                )
            parts.append(chunk)
            if not decompressor.eof:
                break  # below the limit zlib consumed all input
            # A block with BFINAL set ended the deflate stream (RFC 7692
            # 7.2.3.4); whatever follows starts a new stream.
            self._streams_ended += 1
            if self._streams_ended > MAX_STREAMS_PER_MESSAGE:
                raise ProtocolError(
                    CloseCode.MESSAGE_TOO_BIG,
                    f"more than {MAX_STREAMS_PER_MESSAGE} deflate streams in one message",
                )
            data = decompressor.unused_data
            decompressor = self._decompressor = self._new_decompressor()
            self._fed = 0
        self._produced += produced
        return b"".join(parts) if len(parts) != 1 else parts[0]
