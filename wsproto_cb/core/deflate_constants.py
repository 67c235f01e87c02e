"""Values that the permessage-deflate codec and its parameter classes share.

RFC 7692's and zlib's ranges and the defaults used when the handshake did not
choose; :mod:`~wsproto_cb.core.deflate_codec` and
:mod:`~wsproto_cb.core.deflate_params` both import them from here, so
neither imports the other.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_MEM_LEVEL",
    "DEFAULT_WINDOW_BITS",
    "EXTENSION_NAME",
    "LEAN_COMPRESS_MEM_LEVEL",
    "LEAN_COMPRESS_WINDOW_BITS",
    "MEM_LEVEL_PERMISSIBLE_VALUES",
    "WINDOW_SIZE_PERMISSIBLE_VALUES",
]

#: The extension token in ``Sec-WebSocket-Extensions``.
EXTENSION_NAME: Final = "permessage-deflate"

#: Window bits RFC 7692 allows (Autobahn allows only 9..15, see docs).
WINDOW_SIZE_PERMISSIBLE_VALUES: Final = (8, 9, 10, 11, 12, 13, 14, 15)

#: zlib's memLevel range.
MEM_LEVEL_PERMISSIBLE_VALUES: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9)

#: Window bits used when the handshake did not limit a direction.
DEFAULT_WINDOW_BITS: Final = 15

#: memLevel when the accept did not choose one (Autobahn's default; the
#: default server accept function chooses a leaner 5).
DEFAULT_MEM_LEVEL: Final = 8

#: What our own compressor uses when the accept chose no window and no
#: memLevel (Autobahn's ``PerMessageDeflateOfferAccept(offer)``): a 4 KiB
#: window and memLevel 5.  An endpoint may always compress with a smaller
#: window than negotiated, since any inflater reads it, so nothing changes on
#: the wire.  Against zlib's 15 and 8 this takes 32 KiB of compressor state
#: instead of 256 KiB and about 40 % less CPU per chat-sized message with
#: context takeover, for a ratio within 3 % (docs/compression.md).
LEAN_COMPRESS_WINDOW_BITS: Final = 12
LEAN_COMPRESS_MEM_LEVEL: Final = 5
