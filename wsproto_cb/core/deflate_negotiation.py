"""permessage-deflate negotiation (RFC 7692 section 7.1) for the handshake layers.

- server: :func:`negotiate_server` reads every offer, declines (skips) the
  malformed ones (RFC 7692 section 5), lets the application's
  ``perMessageCompressionAccept`` choose, and returns the codec plus the
  response header value;
- client: :func:`build_client_offers_header`, then :func:`negotiate_client`,
  which checks the server's answer against what was offered and raises
  :class:`HandshakeError` when the server broke the rules.

Header parsing happens elsewhere: extensions arrive as
``[(name, [(param, value_or_None), ...]), ...]``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

from wsproto_cb.core.deflate_codec import EXTENSION_NAME, PerMessageDeflate
from wsproto_cb.core.deflate_params import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from wsproto_cb.core.errors import HandshakeError

__all__ = [
    "DEFAULT_SERVER_CLIENT_WINDOW_BITS",
    "DEFAULT_SERVER_MEM_LEVEL",
    "DEFAULT_SERVER_WINDOW_BITS",
    "OfferAcceptCallback",
    "ParsedExtensions",
    "ResponseAcceptCallback",
    "accept_deflate_offer",
    "accept_deflate_response",
    "build_client_offers_header",
    "negotiate_client",
    "negotiate_server",
]

#: A parsed ``Sec-WebSocket-Extensions`` header: ``[(extension, params)]``.
ParsedExtensions: TypeAlias = Sequence[tuple[str, Sequence[tuple[str, str | None]]]]

#: Window bits :func:`accept_deflate_offer` compresses with (4 KiB window).
DEFAULT_SERVER_WINDOW_BITS: Final = 12
#: Window bits :func:`accept_deflate_offer` asks clients to compress with.
DEFAULT_SERVER_CLIENT_WINDOW_BITS: Final = 12
#: memLevel :func:`accept_deflate_offer` compresses with.
DEFAULT_SERVER_MEM_LEVEL: Final = 5

OfferAcceptCallback: TypeAlias = Callable[
    [list[PerMessageDeflateOffer]], PerMessageDeflateOfferAccept | None
]
ResponseAcceptCallback: TypeAlias = Callable[
    [PerMessageDeflateResponse], PerMessageDeflateResponseAccept | None
]


def accept_deflate_offer(
    offers: Sequence[PerMessageDeflateOffer],
) -> PerMessageDeflateOfferAccept | None:
    """A ``perMessageCompressionAccept`` for servers with many connections.

    Accepts the first offer; compresses with at most
    :data:`DEFAULT_SERVER_WINDOW_BITS` and memLevel
    :data:`DEFAULT_SERVER_MEM_LEVEL`, and asks the client for at most
    :data:`DEFAULT_SERVER_CLIENT_WINDOW_BITS` where the offer allows it.
    Context takeover stays on in both directions unless the client asked
    otherwise: small similar messages compress about three times better
    with it (see ``docs/compression.md``).
    """
    if not offers:
        return None
    offer = offers[0]
    window_bits = min(DEFAULT_SERVER_WINDOW_BITS, offer.request_max_window_bits or 15)
    client_bits = 0
    if offer.accept_max_window_bits:
        client_bits = min(
            DEFAULT_SERVER_CLIENT_WINDOW_BITS, offer.client_max_window_bits_hint or 15
        )
    return PerMessageDeflateOfferAccept(
        offer,
        request_max_window_bits=client_bits,
        window_bits=window_bits,
        mem_level=DEFAULT_SERVER_MEM_LEVEL,
    )


def accept_deflate_response(
    response: PerMessageDeflateResponse,
) -> PerMessageDeflateResponseAccept | None:
    """A client ``perMessageCompressionAccept`` that takes what the server chose."""
    return PerMessageDeflateResponseAccept(response)


def negotiate_server(
    offers_from_header: ParsedExtensions,
    accept_callback: OfferAcceptCallback,
) -> tuple[PerMessageDeflate | None, str | None]:
    """Choose permessage-deflate on a server.

    Reads every ``permessage-deflate`` offer in client order, skipping the
    malformed ones (RFC 7692 section 5: decline, do not fail), and calls
    ``accept_callback`` (the application's ``perMessageCompressionAccept``)
    with the rest when there is any.  Returns ``(codec, response header
    value)`` or ``(None, None)`` when nothing was accepted.
    """
    offers: list[PerMessageDeflateOffer] = []
    for name, params in offers_from_header:
        if name != EXTENSION_NAME:
            continue
        try:
            offers.append(PerMessageDeflateOffer.parse(params))
        except HandshakeError:
            continue
    if not offers:
        return None, None
    accept = accept_callback(offers)
    if accept is None:
        return None, None
    if not isinstance(accept, PerMessageDeflateOfferAccept):
        raise TypeError(
            "perMessageCompressionAccept must return a PerMessageDeflateOfferAccept or None,"
            f" not {type(accept).__name__}"
        )
    if not any(accept.offer is offer for offer in offers):
        raise ValueError("perMessageCompressionAccept must accept one of the offers it was given")
    codec = PerMessageDeflate.create_from_offer_accept(True, accept)
    return codec, accept.get_extension_string()


def build_client_offers_header(offers: Sequence[PerMessageDeflateOffer]) -> str:
    """The client's ``Sec-WebSocket-Extensions`` value, most preferred offer first."""
    return ", ".join(offer.get_extension_string() for offer in offers)


def _mismatch(response: PerMessageDeflateResponse, offer: PerMessageDeflateOffer) -> str | None:
    """Why ``response`` cannot answer ``offer`` (RFC 7692 7.1), or None."""
    if offer.request_no_context_takeover and not response.server_no_context_takeover:
        return "the server ignored server_no_context_takeover"
    if offer.request_max_window_bits:
        if not response.server_max_window_bits:
            return "the server ignored server_max_window_bits"
        if response.server_max_window_bits > offer.request_max_window_bits:
            return (
                f"server_max_window_bits={response.server_max_window_bits} is above the"
                f" offered {offer.request_max_window_bits}"
            )
    if response.client_max_window_bits:
        if not offer.accept_max_window_bits:
            return "client_max_window_bits was not offered"
        hint = offer.client_max_window_bits_hint
        if hint and response.client_max_window_bits > hint:
            return f"client_max_window_bits={response.client_max_window_bits} is above {hint}"
    return None


def negotiate_client(
    response_extensions: ParsedExtensions,
    offers: Sequence[PerMessageDeflateOffer],
    accept_callback: ResponseAcceptCallback,
) -> PerMessageDeflate | None:
    """Check the server's ``Sec-WebSocket-Extensions`` and build the client codec.

    ``response_extensions`` is the parsed response header (empty: no
    compression, returns None).  Every rule the server broke raises
    ``HandshakeError(0, reason)``: an extension that was not offered, more
    than one permessage-deflate, bad parameters, or parameters that answer
    none of ``offers``.  ``accept_callback`` (the application's
    ``perMessageCompressionAccept``) returning None also fails the handshake,
    as in Autobahn: the server is already compressing.

    What the matched offer promised is kept even where the server did not
    repeat it (RFC 7692 7.1.1.2, 7.1.2.2): a ``client_no_context_takeover`` in
    the offer means no context takeover, a hint caps the client's window.
    """
    if not response_extensions:
        return None
    for name, _params in response_extensions:
        if name != EXTENSION_NAME:
            raise HandshakeError(
                0, f"the server selected extension {name!r}, which was not offered"
            )
    if len(response_extensions) > 1:
        raise HandshakeError(0, "the server selected permessage-deflate more than once")
    if not offers:
        raise HandshakeError(0, "the server selected permessage-deflate, which was not offered")
    response = PerMessageDeflateResponse.parse(response_extensions[0][1])
    reasons = [_mismatch(response, offer) for offer in offers]
    matched = next((offer for offer, why in zip(offers, reasons, strict=True) if why is None), None)
    if matched is None:
        raise HandshakeError(
            0, f"the server's permessage-deflate response matches no offer: {reasons[0]}"
        )
    accept = accept_callback(response)
    if accept is None:
        raise HandshakeError(0, "permessage-deflate response from the server denied by the client")
    if not isinstance(accept, PerMessageDeflateResponseAccept):
        raise TypeError(
            "perMessageCompressionAccept must return a PerMessageDeflateResponseAccept or None,"
            f" not {type(accept).__name__}"
        )
    if accept.response is not response:
        raise ValueError("perMessageCompressionAccept must accept the response it was given")
    codec = PerMessageDeflate.create_from_response_accept(False, accept)
    if matched.accept_no_context_takeover:
        codec.client_no_context_takeover = True
    if matched.client_max_window_bits_hint:
        codec.client_max_window_bits = min(
            codec.client_max_window_bits, matched.client_max_window_bits_hint
        )
    return codec
