"""permessage-deflate parameters: offers, responses and their acceptance.

The classes keep Autobahn|Python's names, constructor arguments and defaults
(``autobahn.websocket.compress_deflate``), so an application's
``perMessageCompressionOffers`` / ``perMessageCompressionAccept`` work
unchanged; :mod:`wsproto_cb.core.deflate_negotiation` runs the handshake with
them.  Constructors raise ``TypeError``/``ValueError`` on a bad argument (a
program bug); ``parse()`` raises :class:`HandshakeError` on bad input from the
peer.  ``parse()`` takes parameters as ``[(name, value_or_None)]`` (our header
parser's output) or as Autobahn's ``{name: [value_or_True, ...]}``.
Differences from Autobahn are listed in ``docs/compression.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

from wsproto_cb.core.deflate_constants import (
    EXTENSION_NAME,
    MEM_LEVEL_PERMISSIBLE_VALUES,
    WINDOW_SIZE_PERMISSIBLE_VALUES,
)
from wsproto_cb.core.errors import HandshakeError

__all__ = [
    "ExtensionParams",
    "PerMessageCompressOffer",
    "PerMessageCompressOfferAccept",
    "PerMessageCompressResponse",
    "PerMessageCompressResponseAccept",
    "PerMessageDeflateOffer",
    "PerMessageDeflateOfferAccept",
    "PerMessageDeflateResponse",
    "PerMessageDeflateResponseAccept",
]

#: Parameters of one extension: ``[(name, value_or_None)]`` or Autobahn's
#: ``{name: [value_or_True, ...]}``.
ExtensionParams: TypeAlias = (
    Sequence[tuple[str, str | None]] | Mapping[str, Sequence[str | bool | None]]
)

_SERVER_NCT: Final = "server_no_context_takeover"
_CLIENT_NCT: Final = "client_no_context_takeover"
_SERVER_BITS: Final = "server_max_window_bits"
_CLIENT_BITS: Final = "client_max_window_bits"

# RFC 7692 7.1.2: "a decimal integer value without leading zeroes between 8
# to 15 inclusive".  Exact strings, so "09", "+9" and " 9" are rejected.
_WINDOW_VALUES: Final = {str(bits): bits for bits in WINDOW_SIZE_PERMISSIBLE_VALUES}


class PerMessageCompressOffer:
    """Base class of a client's compression offer (Autobahn's name)."""


class PerMessageCompressOfferAccept:
    """Base class of a server's acceptance of an offer (Autobahn's name)."""


class PerMessageCompressResponse:
    """Base class of a server's compression response (Autobahn's name)."""


class PerMessageCompressResponseAccept:
    """Base class of a client's acceptance of a response (Autobahn's name)."""


# -- parameter checks ----------------------------------------------------------


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _check_bits(name: str, value: object, *, zero_ok: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not ((zero_ok and value == 0) or value in WINDOW_SIZE_PERMISSIBLE_VALUES):
        allowed = "0 or 8..15" if zero_ok else "8..15"
        raise ValueError(f"invalid value {value} for {name}: permissible values are {allowed}")


def _check_mem_level(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"mem_level must be an int, not {type(value).__name__}")
    if value not in MEM_LEVEL_PERMISSIBLE_VALUES:
        raise ValueError(f"invalid value {value} for mem_level: permissible values are 1..9")


def _check_max_message_size(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_message_size must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError("max_message_size must be None or >= 0")


def _check_codec_settings(
    no_context_takeover: bool | None,
    window_bits: int | None,
    mem_level: int | None,
    max_message_size: int | None,
    *,
    peer: str,
    peer_requires_no_context_takeover: bool,
    peer_max_window_bits: tuple[str, int],
) -> None:
    """Check an accept's own codec settings against what the peer demanded."""
    if no_context_takeover is not None:
        _check_bool("no_context_takeover", no_context_takeover)
        if peer_requires_no_context_takeover and not no_context_takeover:
            raise ValueError(f"no_context_takeover=False: the {peer} requested it")
    if window_bits is not None:
        _check_bits("window_bits", window_bits, zero_ok=False)
        name, limit = peer_max_window_bits
        if limit and window_bits > limit:
            raise ValueError(f"window_bits={window_bits} exceeds the {peer}'s {name}={limit}")
    _check_mem_level(mem_level)
    _check_max_message_size(max_message_size)


def _pairs(params: ExtensionParams, status: int) -> list[tuple[str, str | None]]:
    """Both accepted parameter shapes as ``[(name, value_or_None)]``."""
    pairs: list[tuple[str, str | None]] = []
    try:
        if isinstance(params, Mapping):
            for name, values in params.items():
                for value in values:
                    if value is True or value is None:
                        pairs.append((name, None))
                    elif isinstance(value, str):
                        pairs.append((name, value))
                    else:
                        raise TypeError(value)
        else:
            for name, value in params:
                pairs.append((name, value))
    except (TypeError, ValueError):
        raise HandshakeError(status, "malformed permessage-deflate parameters") from None
    for name, value in pairs:
        if not isinstance(name, str) or not (value is None or isinstance(value, str)):
            raise HandshakeError(status, "malformed permessage-deflate parameters")
    return pairs


def _read_params(
    params: ExtensionParams, *, status: int, bare_client_bits: bool
) -> dict[str, str | None]:
    """Check names, repetitions and values; return ``{name: value_or_None}``.

    ``bare_client_bits``: ``client_max_window_bits`` may come without a value
    (offers only; a response must state the size).
    """
    seen: dict[str, str | None] = {}
    for name, value in _pairs(params, status):
        if name in seen:
            raise HandshakeError(status, f"permessage-deflate parameter {name!r} repeated")
        if name in (_SERVER_NCT, _CLIENT_NCT):
            if value is not None:
                raise HandshakeError(
                    status, f"permessage-deflate parameter {name!r} takes no value"
                )
        elif name in (_SERVER_BITS, _CLIENT_BITS):
            if value is None:
                if not (name == _CLIENT_BITS and bare_client_bits):
                    raise HandshakeError(
                        status, f"permessage-deflate parameter {name!r} needs a value"
                    )
            elif value not in _WINDOW_VALUES:
                raise HandshakeError(
                    status, f"invalid value {value!r} for permessage-deflate parameter {name!r}"
                )
        else:
            raise HandshakeError(status, f"unknown permessage-deflate parameter {name!r}")
        seen[name] = value
    return seen


def _bits(value: str | None) -> int:
    return 0 if value is None else _WINDOW_VALUES[value]


# -- client offer, server acceptance ------------------------------------------------


class PerMessageDeflateOffer(PerMessageCompressOffer):
    """A client's permessage-deflate offer (Autobahn's arguments and defaults).

    ``accept_no_context_takeover`` sends ``client_no_context_takeover``,
    ``accept_max_window_bits`` a bare ``client_max_window_bits``,
    ``request_no_context_takeover`` ``server_no_context_takeover`` and a
    non-zero ``request_max_window_bits`` ``server_max_window_bits=N``.
    ``client_max_window_bits_hint`` (keyword-only, not in Autobahn) gives
    ``client_max_window_bits`` a value: the client promises at most that window.
    """

    EXTENSION_NAME = EXTENSION_NAME
    WINDOW_SIZE_PERMISSIBLE_VALUES = WINDOW_SIZE_PERMISSIBLE_VALUES
    MEM_LEVEL_PERMISSIBLE_VALUES = MEM_LEVEL_PERMISSIBLE_VALUES

    @classmethod
    def parse(cls, params: ExtensionParams) -> PerMessageDeflateOffer:
        """Read an offer a client sent; ``HandshakeError(400)`` if it is malformed.

        As in Autobahn, ``accept_no_context_takeover`` is always true: RFC 7692
        7.1.1.2 lets a server demand ``client_no_context_takeover`` of any client.
        """
        seen = _read_params(params, status=400, bare_client_bits=True)
        return cls(
            accept_no_context_takeover=True,
            accept_max_window_bits=_CLIENT_BITS in seen,
            request_no_context_takeover=_SERVER_NCT in seen,
            request_max_window_bits=_bits(seen.get(_SERVER_BITS)),
            client_max_window_bits_hint=_bits(seen.get(_CLIENT_BITS)),
        )

    def __init__(
        self,
        accept_no_context_takeover: bool = True,
        accept_max_window_bits: bool = True,
        request_no_context_takeover: bool = False,
        request_max_window_bits: int = 0,
        *,
        client_max_window_bits_hint: int = 0,
    ) -> None:
        _check_bool("accept_no_context_takeover", accept_no_context_takeover)
        _check_bool("accept_max_window_bits", accept_max_window_bits)
        _check_bool("request_no_context_takeover", request_no_context_takeover)
        _check_bits("request_max_window_bits", request_max_window_bits, zero_ok=True)
        _check_bits("client_max_window_bits_hint", client_max_window_bits_hint, zero_ok=True)
        if client_max_window_bits_hint and not accept_max_window_bits:
            raise ValueError("client_max_window_bits_hint needs accept_max_window_bits=True")
        self.accept_no_context_takeover = accept_no_context_takeover
        self.accept_max_window_bits = accept_max_window_bits
        self.request_no_context_takeover = request_no_context_takeover
        self.request_max_window_bits = request_max_window_bits
        self.client_max_window_bits_hint = client_max_window_bits_hint

    def get_extension_string(self) -> str:
        """This offer as a ``Sec-WebSocket-Extensions`` element."""
        parts = [EXTENSION_NAME]
        if self.accept_no_context_takeover:
            parts.append(_CLIENT_NCT)
        if self.accept_max_window_bits:
            hint = self.client_max_window_bits_hint
            parts.append(f"{_CLIENT_BITS}={hint}" if hint else _CLIENT_BITS)
        if self.request_no_context_takeover:
            parts.append(_SERVER_NCT)
        if self.request_max_window_bits:
            parts.append(f"{_SERVER_BITS}={self.request_max_window_bits}")
        return "; ".join(parts)

    def __json__(self) -> dict[str, object]:
        return {
            "extension": EXTENSION_NAME,
            "accept_no_context_takeover": self.accept_no_context_takeover,
            "accept_max_window_bits": self.accept_max_window_bits,
            "request_no_context_takeover": self.request_no_context_takeover,
            "request_max_window_bits": self.request_max_window_bits,
            "client_max_window_bits_hint": self.client_max_window_bits_hint,
        }

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflateOffer(accept_no_context_takeover={self.accept_no_context_takeover!r}"
            f", accept_max_window_bits={self.accept_max_window_bits!r}"
            f", request_no_context_takeover={self.request_no_context_takeover!r}"
            f", request_max_window_bits={self.request_max_window_bits!r}"
            f", client_max_window_bits_hint={self.client_max_window_bits_hint!r})"
        )


class PerMessageDeflateOfferAccept(PerMessageCompressOfferAccept):
    """How a server accepts one offer (Autobahn's arguments and defaults).

    ``request_no_context_takeover`` / ``request_max_window_bits`` constrain the
    client (sent as ``client_*``); ``no_context_takeover`` / ``window_bits``
    constrain the server's own compressor and may only tighten what the
    offer asked; ``mem_level`` and ``max_message_size`` are local settings.
    Invalid combinations raise ``ValueError``/``TypeError`` (Autobahn:
    ``Exception``).
    """

    EXTENSION_NAME = EXTENSION_NAME
    WINDOW_SIZE_PERMISSIBLE_VALUES = WINDOW_SIZE_PERMISSIBLE_VALUES
    MEM_LEVEL_PERMISSIBLE_VALUES = MEM_LEVEL_PERMISSIBLE_VALUES

    def __init__(
        self,
        offer: PerMessageDeflateOffer,
        request_no_context_takeover: bool = False,
        request_max_window_bits: int = 0,
        no_context_takeover: bool | None = None,
        window_bits: int | None = None,
        mem_level: int | None = None,
        max_message_size: int | None = None,
    ) -> None:
        if not isinstance(offer, PerMessageDeflateOffer):
            raise TypeError(f"offer must be a PerMessageDeflateOffer, not {type(offer).__name__}")
        _check_bool("request_no_context_takeover", request_no_context_takeover)
        if request_no_context_takeover and not offer.accept_no_context_takeover:
            raise ValueError("request_no_context_takeover: the client does not accept it")
        _check_bits("request_max_window_bits", request_max_window_bits, zero_ok=True)
        if request_max_window_bits:
            if not offer.accept_max_window_bits:
                # RFC 7692 7.1.2.2: not without client_max_window_bits in the offer.
                raise ValueError("request_max_window_bits: the client did not offer it")
            hint = offer.client_max_window_bits_hint
            if hint and request_max_window_bits > hint:
                raise ValueError(
                    f"request_max_window_bits={request_max_window_bits} exceeds the"
                    f" client's client_max_window_bits={hint}"
                )
        _check_codec_settings(
            no_context_takeover,
            window_bits,
            mem_level,
            max_message_size,
            peer="client",
            peer_requires_no_context_takeover=offer.request_no_context_takeover,
            peer_max_window_bits=("server_max_window_bits", offer.request_max_window_bits),
        )
        self.offer = offer
        self.request_no_context_takeover = request_no_context_takeover
        self.request_max_window_bits = request_max_window_bits
        self.no_context_takeover = no_context_takeover
        self.window_bits = window_bits
        self.mem_level = mem_level
        self.max_message_size = max_message_size

    def get_extension_string(self) -> str:
        """The response header element.

        Unlike Autobahn, a server-side ``no_context_takeover`` or
        ``window_bits`` chosen here is announced too (RFC 7692 7.1.1.1 and
        7.1.2.1 allow it unrequested), so the client can size its inflater.
        """
        parts = [EXTENSION_NAME]
        if self.offer.request_no_context_takeover or self.no_context_takeover:
            parts.append(_SERVER_NCT)
        server_bits = (
            self.window_bits if self.window_bits is not None else self.offer.request_max_window_bits
        )
        if server_bits:
            parts.append(f"{_SERVER_BITS}={server_bits}")
        if self.request_no_context_takeover:
            parts.append(_CLIENT_NCT)
        if self.request_max_window_bits:
            parts.append(f"{_CLIENT_BITS}={self.request_max_window_bits}")
        return "; ".join(parts)

    def __json__(self) -> dict[str, object]:
        return {
            "extension": EXTENSION_NAME,
            "offer": self.offer.__json__(),
            "request_no_context_takeover": self.request_no_context_takeover,
            "request_max_window_bits": self.request_max_window_bits,
            "no_context_takeover": self.no_context_takeover,
            "window_bits": self.window_bits,
            "mem_level": self.mem_level,
            "max_message_size": self.max_message_size,
        }

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflateOfferAccept(offer={self.offer!r}"
            f", request_no_context_takeover={self.request_no_context_takeover!r}"
            f", request_max_window_bits={self.request_max_window_bits!r}"
            f", no_context_takeover={self.no_context_takeover!r}"
            f", window_bits={self.window_bits!r}, mem_level={self.mem_level!r}"
            f", max_message_size={self.max_message_size!r})"
        )


# -- server response, client acceptance ---------------------------------------------


class PerMessageDeflateResponse(PerMessageCompressResponse):
    """The parameters a server answered with (window bits 0 = not stated)."""

    EXTENSION_NAME = EXTENSION_NAME
    WINDOW_SIZE_PERMISSIBLE_VALUES = WINDOW_SIZE_PERMISSIBLE_VALUES
    MEM_LEVEL_PERMISSIBLE_VALUES = MEM_LEVEL_PERMISSIBLE_VALUES

    @classmethod
    def parse(cls, params: ExtensionParams) -> PerMessageDeflateResponse:
        """Read a server's response; ``HandshakeError(0)`` if it is malformed."""
        seen = _read_params(params, status=0, bare_client_bits=False)
        return cls(
            _bits(seen.get(_CLIENT_BITS)),
            _CLIENT_NCT in seen,
            _bits(seen.get(_SERVER_BITS)),
            _SERVER_NCT in seen,
        )

    def __init__(
        self,
        client_max_window_bits: int,
        client_no_context_takeover: bool,
        server_max_window_bits: int,
        server_no_context_takeover: bool,
    ) -> None:
        _check_bits("client_max_window_bits", client_max_window_bits, zero_ok=True)
        _check_bool("client_no_context_takeover", client_no_context_takeover)
        _check_bits("server_max_window_bits", server_max_window_bits, zero_ok=True)
        _check_bool("server_no_context_takeover", server_no_context_takeover)
        self.client_max_window_bits = client_max_window_bits
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.server_no_context_takeover = server_no_context_takeover

    def __json__(self) -> dict[str, object]:
        return {
            "extension": EXTENSION_NAME,
            "client_max_window_bits": self.client_max_window_bits,
            "client_no_context_takeover": self.client_no_context_takeover,
            "server_max_window_bits": self.server_max_window_bits,
            "server_no_context_takeover": self.server_no_context_takeover,
        }

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflateResponse(client_max_window_bits={self.client_max_window_bits!r}"
            f", client_no_context_takeover={self.client_no_context_takeover!r}"
            f", server_max_window_bits={self.server_max_window_bits!r}"
            f", server_no_context_takeover={self.server_no_context_takeover!r})"
        )


class PerMessageDeflateResponseAccept(PerMessageCompressResponseAccept):
    """How a client accepts the server's response (Autobahn's arguments).

    ``no_context_takeover`` / ``window_bits`` may only tighten what the
    server demanded of the client's compressor; ``mem_level`` and
    ``max_message_size`` are local settings.
    """

    EXTENSION_NAME = EXTENSION_NAME
    WINDOW_SIZE_PERMISSIBLE_VALUES = WINDOW_SIZE_PERMISSIBLE_VALUES
    MEM_LEVEL_PERMISSIBLE_VALUES = MEM_LEVEL_PERMISSIBLE_VALUES

    def __init__(
        self,
        response: PerMessageDeflateResponse,
        no_context_takeover: bool | None = None,
        window_bits: int | None = None,
        mem_level: int | None = None,
        max_message_size: int | None = None,
    ) -> None:
        if not isinstance(response, PerMessageDeflateResponse):
            raise TypeError(
                f"response must be a PerMessageDeflateResponse, not {type(response).__name__}"
            )
        _check_codec_settings(
            no_context_takeover,
            window_bits,
            mem_level,
            max_message_size,
            peer="server",
            peer_requires_no_context_takeover=response.client_no_context_takeover,
            peer_max_window_bits=("client_max_window_bits", response.client_max_window_bits),
        )
        self.response = response
        self.no_context_takeover = no_context_takeover
        self.window_bits = window_bits
        self.mem_level = mem_level
        self.max_message_size = max_message_size

    def __json__(self) -> dict[str, object]:
        return {
            "extension": EXTENSION_NAME,
            "response": self.response.__json__(),
            "no_context_takeover": self.no_context_takeover,
            "window_bits": self.window_bits,
            "mem_level": self.mem_level,
            "max_message_size": self.max_message_size,
        }

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflateResponseAccept(response={self.response!r}"
            f", no_context_takeover={self.no_context_takeover!r}"
            f", window_bits={self.window_bits!r}, mem_level={self.mem_level!r}"
            f", max_message_size={self.max_message_size!r})"
        )
