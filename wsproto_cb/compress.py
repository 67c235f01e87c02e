"""permessage-deflate classes under Autobahn's names (``autobahn.websocket.compress``).

``from wsproto_cb.compress import PerMessageDeflateOffer, ...`` replaces
``from autobahn.websocket.compress import ...``.  Only permessage-deflate is
provided (Autobahn's optional bzip2/snappy/brotli extensions are not).
:func:`accept_deflate_offer` and :func:`accept_deflate_response` are ready-made
``perMessageCompressionAccept`` functions for servers and clients.
"""

from __future__ import annotations

from typing import Final

from .core.deflate import (
    EXTENSION_NAME,
    PerMessageCompress,
    PerMessageCompressOffer,
    PerMessageCompressOfferAccept,
    PerMessageCompressResponse,
    PerMessageCompressResponseAccept,
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
    accept_deflate_offer,
    accept_deflate_response,
)

__all__ = [
    "PERMESSAGE_COMPRESSION_EXTENSION",
    "PerMessageCompress",
    "PerMessageCompressOffer",
    "PerMessageCompressOfferAccept",
    "PerMessageCompressResponse",
    "PerMessageCompressResponseAccept",
    "PerMessageDeflate",
    "PerMessageDeflateOffer",
    "PerMessageDeflateOfferAccept",
    "PerMessageDeflateResponse",
    "PerMessageDeflateResponseAccept",
    "accept_deflate_offer",
    "accept_deflate_response",
]

#: Extension name -> its classes, the shape of Autobahn's registry.
PERMESSAGE_COMPRESSION_EXTENSION: Final[dict[str, dict[str, type]]] = {
    EXTENSION_NAME: {
        "Offer": PerMessageDeflateOffer,
        "OfferAccept": PerMessageDeflateOfferAccept,
        "Response": PerMessageDeflateResponse,
        "ResponseAccept": PerMessageDeflateResponseAccept,
        "PMCE": PerMessageDeflate,
    }
}
