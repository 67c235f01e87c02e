"""permessage-deflate (RFC 7692): one import point for the connection layers.

The parameter classes live in :mod:`wsproto_cb.core.deflate_params`, the
handshake functions in :mod:`wsproto_cb.core.deflate_negotiation`, the
per-connection codec in :mod:`wsproto_cb.core.deflate_codec`; this module
re-exports all three so callers need not know the split.
"""

from __future__ import annotations

from wsproto_cb.core.deflate_codec import (
    DEFAULT_MEM_LEVEL,
    DEFAULT_WINDOW_BITS,
    EXTENSION_NAME,
    MEM_LEVEL_PERMISSIBLE_VALUES,
    WINDOW_SIZE_PERMISSIBLE_VALUES,
    PerMessageCompress,
    PerMessageDeflate,
)
from wsproto_cb.core.deflate_negotiation import (
    DEFAULT_SERVER_CLIENT_WINDOW_BITS,
    DEFAULT_SERVER_MEM_LEVEL,
    DEFAULT_SERVER_WINDOW_BITS,
    OfferAcceptCallback,
    ParsedExtensions,
    ResponseAcceptCallback,
    accept_deflate_offer,
    accept_deflate_response,
    build_client_offers_header,
    negotiate_client,
    negotiate_server,
)
from wsproto_cb.core.deflate_params import (
    ExtensionParams,
    PerMessageCompressOffer,
    PerMessageCompressOfferAccept,
    PerMessageCompressResponse,
    PerMessageCompressResponseAccept,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)

__all__ = [
    "DEFAULT_MEM_LEVEL",
    "DEFAULT_SERVER_CLIENT_WINDOW_BITS",
    "DEFAULT_SERVER_MEM_LEVEL",
    "DEFAULT_SERVER_WINDOW_BITS",
    "DEFAULT_WINDOW_BITS",
    "EXTENSION_NAME",
    "MEM_LEVEL_PERMISSIBLE_VALUES",
    "WINDOW_SIZE_PERMISSIBLE_VALUES",
    "ExtensionParams",
    "OfferAcceptCallback",
    "ParsedExtensions",
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
    "ResponseAcceptCallback",
    "accept_deflate_offer",
    "accept_deflate_response",
    "build_client_offers_header",
    "negotiate_client",
    "negotiate_server",
]
