"""Any stream protocol over WebSocket: the runtime-neutral half of the wrapping factories.

A plain byte-stream protocol (a line echo, a database wire protocol) runs
unchanged inside a WebSocket: each ``transport.write`` becomes one message,
each message is delivered to ``dataReceived`` / ``data_received``.  The
subprotocol says how bytes travel: ``binary`` (binary messages) or
``base64`` (text messages holding base64, for peers that only send text);
a further subprotocol name given to the factory behaves as ``binary``.
The runtimes' modules (:mod:`wsproto_cb.twisted.wrapping`,
:mod:`wsproto_cb.asyncio.wrapping`) provide the transport the wrapped
protocol writes to.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from .compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from .core.codes import CloseCode
from .types import ConnectionDeny, ConnectionRequest, ConnectionResponse

__all__ = ["WRAPPING_SUBPROTOCOLS", "WrappingCallbacks", "configure_wrapping_factory"]

WRAPPING_SUBPROTOCOLS = ("binary", "base64")


def spoken_subprotocols(extra: str | None) -> list[str]:
    return [*WRAPPING_SUBPROTOCOLS, *([extra] if extra else [])]


def _accept_deflate(offers: Sequence[object]) -> PerMessageDeflateOfferAccept | None:
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def configure_wrapping_factory(
    factory: Any, wrapped: Any, enableCompression: bool, autoFragmentSize: int
) -> None:
    """Options every wrapping factory sets (Autobahn's constructor arguments)."""
    factory.wrappedFactory = wrapped
    factory.setProtocolOptions(autoFragmentSize=autoFragmentSize)
    if enableCompression:
        if factory.isServer:
            factory.setProtocolOptions(perMessageCompressionAccept=_accept_deflate)
        else:
            factory.setProtocolOptions(perMessageCompressionOffers=[PerMessageDeflateOffer()])


class WrappingCallbacks:
    """The WebSocket callbacks of a wrapping protocol; the runtime glue supplies
    ``_wrapped_open()``, ``_wrapped_data(bytes)`` and ``_wrapped_closed(clean)``."""

    factory: Any
    #: the negotiated subprotocol, which decides the payload encoding
    wrapping_subprotocol: str | None = None

    def onConnect(self, request_or_response: ConnectionRequest | ConnectionResponse) -> str | None:
        """Agree on a wrapping subprotocol, or refuse the handshake with 406."""
        spoken = self.factory.protocols
        if isinstance(request_or_response, ConnectionRequest):  # (a server's)
            name: str
            for name in request_or_response.protocols:
                if name in spoken:
                    self.wrapping_subprotocol = name
                    return name
            raise ConnectionDeny(
                ConnectionDeny.NOT_ACCEPTABLE,
                f"this server only speaks the WebSocket subprotocols {', '.join(spoken)}",
            )
        chosen = request_or_response.protocol
        if chosen not in spoken:
            raise ConnectionDeny(
                ConnectionDeny.NOT_ACCEPTABLE,
                f"the server chose subprotocol {chosen!r}; this client speaks {', '.join(spoken)}",
            )
        self.wrapping_subprotocol = chosen
        return None

    def onOpen(self) -> None:
        """Build the wrapped protocol and give it its transport."""
        self._wrapped_open()

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """Decode for the subprotocol and hand the bytes on (1003 for the wrong kind)."""
        if self.wrapping_subprotocol == "base64":
            if isBinary:
                self._refuse("base64 subprotocol: expected text messages")
                return
            try:
                payload = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                self._refuse("base64 subprotocol: message is not valid base64")
                return
        elif not isBinary:
            self._refuse(f"{self.wrapping_subprotocol} subprotocol: expected binary messages")
            return
        self._wrapped_data(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        """Tell the wrapped protocol its connection is gone."""
        self._wrapped_closed(wasClean)

    def _refuse(self, reason: str) -> None:
        self.sendClose(CloseCode.UNSUPPORTED_DATA, reason)  # type: ignore[attr-defined]

    def write_stream(self, data: bytes) -> None:
        """What the wrapped protocol writes: one message, encoded for the subprotocol."""
        if not data:
            return
        if getattr(self, "state", None) != getattr(self, "STATE_OPEN", object()):
            return  # (closing or closed: a stream transport would drop it too)
        if self.wrapping_subprotocol == "base64":
            self.sendMessage(base64.b64encode(data), False)  # type: ignore[attr-defined]
        else:
            self.sendMessage(bytes(data), True)  # type: ignore[attr-defined]

    # supplied by the runtime glue
    def _wrapped_open(self) -> None:
        raise NotImplementedError

    def _wrapped_data(self, data: bytes) -> None:
        raise NotImplementedError

    def _wrapped_closed(self, clean: bool) -> None:
        raise NotImplementedError
