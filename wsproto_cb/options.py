"""The protocol options of ``setProtocolOptions``: names, defaults and validation.

Option names and meanings are Autobahn|Python's.  Two deliberate
differences, both in the defaults, protect a server that Autobahn's defaults
leave open: messages and frames are limited to 16 MiB (Autobahn: unlimited),
and auto-ping is on (every 20 s, 20 s to answer; Autobahn: off), counting
any incoming traffic as a sign of life.  ``failByDrop`` defaults to False:
a failed connection gets the RFC's close frame before the TCP close.

Every value is checked when it is set: a bad value is a ``TypeError`` or
``ValueError`` naming the option, and setting one option never changes
another.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from .core.connection import DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_MESSAGE_SIZE
from .core.origin import compile_origin_patterns

if TYPE_CHECKING:
    from .core.deflate import PerMessageDeflateOffer

__all__ = [
    "CLIENT_OPTIONS",
    "SERVER_OPTIONS",
    "OptionSpec",
    "ProtocolOptionAttributes",
    "ProtocolOptions",
    "origin_patterns",
    "validate_options",
]

#: an option's value as given (checked by the option's validator), and as kept
Validator = Callable[[str, object], object]


def _bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"option {name} must be True or False, not {value!r}")
    return value


def _int_at_least(minimum: int) -> Validator:
    def check(name: str, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"option {name} must be an int, not {value!r}")
        if value < minimum:
            raise ValueError(f"option {name} must be >= {minimum}, not {value}")
        return value

    return check


def _seconds(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"option {name} must be a number of seconds, not {value!r}")
    if value < 0 or value != value:
        raise ValueError(f"option {name} must be >= 0 seconds, not {value}")
    return float(value)


def _ping_size(name: str, value: object) -> int:
    size = cast(int, _int_at_least(4)(name, value))
    if size > 125:
        raise ValueError(f"option {name} must be between 4 and 125, not {size}")
    return int(size)


def _callable_or_none(name: str, value: object) -> object:
    if value is not None and not callable(value):
        raise TypeError(f"option {name} must be callable, not {value!r}")
    return value


def _offers(name: str, value: object) -> list[PerMessageDeflateOffer]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"option {name} must be a list of offers, not {value!r}")
    from .core.deflate import PerMessageDeflateOffer

    for offer in value:
        if not isinstance(offer, PerMessageDeflateOffer):
            raise TypeError(f"option {name}: {offer!r} is not a PerMessageDeflateOffer")
    return list(value)


def _origins(name: str, value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"option {name} must be a list of origin patterns, not {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"option {name}: {item!r} is not a str")
    return list(value)


def _versions(name: str, value: object) -> list[int]:
    if not isinstance(value, list | tuple) or not value:
        raise TypeError(f"option {name} must be a non-empty list of versions, not {value!r}")
    for version in value:
        if version != 13:
            raise ValueError(f"option {name}: version {version!r} is not supported (only 13)")
    return list(value)


#: Autobahn's client ``version`` counts drafts of RFC 6455: 13 to 18 (the RFC
#: itself, its default) all send ``Sec-WebSocket-Version: 13``; 10 to 12
#: (version 8 on the wire) are not spoken here.
CLIENT_SPEC_VERSIONS = range(13, 19)


def _version(name: str, value: object) -> int:
    if isinstance(value, bool) or value not in CLIENT_SPEC_VERSIONS:
        raise ValueError(
            f"option {name}: version {value!r} is not supported (13 to 18, which all"
            " speak RFC 6455: Sec-WebSocket-Version 13)"
        )
    return int(cast(int, value))  # (13.0 is in the range too, as it always was)


def _one_of(*choices: str) -> Validator:
    def check(name: str, value: object) -> str:
        if value not in choices:
            raise ValueError(f"option {name} must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    return check


def _ignored_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"option {name} must be a str, not {value!r}")
    return value


class OptionSpec:
    """An option's default and the function that validates a value for it."""

    __slots__ = ("default", "validate")

    def __init__(self, default: object, validate: Validator) -> None:
        self.default = default
        self.validate = validate


_COMMON: dict[str, OptionSpec] = {
    "utf8validateIncoming": OptionSpec(True, _bool),
    "applyMask": OptionSpec(True, _bool),
    "maxFramePayloadSize": OptionSpec(DEFAULT_MAX_FRAME_SIZE, _int_at_least(0)),
    "maxMessagePayloadSize": OptionSpec(DEFAULT_MAX_MESSAGE_SIZE, _int_at_least(0)),
    "autoFragmentSize": OptionSpec(0, _int_at_least(0)),
    "failByDrop": OptionSpec(False, _bool),
    "echoCloseCodeReason": OptionSpec(False, _bool),
    "openHandshakeTimeout": OptionSpec(5.0, _seconds),
    "closeHandshakeTimeout": OptionSpec(1.0, _seconds),
    "tcpNoDelay": OptionSpec(True, _bool),
    "autoPingInterval": OptionSpec(20.0, _seconds),
    "autoPingTimeout": OptionSpec(20.0, _seconds),
    "autoPingSize": OptionSpec(12, _ping_size),
    "autoPingRestartOnAnyTraffic": OptionSpec(True, _bool),
    "perMessageCompressionAccept": OptionSpec(None, _callable_or_none),
    # protocol.trackedTimings is a Timings (onOpen, onMessage ...) when on
    "trackTimings": OptionSpec(False, _bool),
    # how many onMessage awaitables may run at once (1: one at a time, in
    # order, with backpressure; more: as Autobahn, bounded; wsproto_cb.background)
    "messageConcurrency": OptionSpec(1, _int_at_least(1)),
}

SERVER_OPTIONS: dict[str, OptionSpec] = {
    **_COMMON,
    "versions": OptionSpec([13], _versions),
    "webStatus": OptionSpec(True, _bool),
    "maskServerFrames": OptionSpec(False, _bool),
    "requireMaskedClientFrames": OptionSpec(True, _bool),
    "serveFlashSocketPolicy": OptionSpec(False, _bool),
    "flashSocketPolicy": OptionSpec("", _ignored_str),
    "allowedOrigins": OptionSpec(["*"], _origins),
    # None (the default): an Origin of "null" is allowed while allowedOrigins
    # is ["*"] and refused once it names origins, as in Autobahn, whose
    # setProtocolOptions(allowedOrigins=...) also sets allowNullOrigin False
    "allowNullOrigin": OptionSpec(None, _bool),
    "maxConnections": OptionSpec(0, _int_at_least(0)),
    "trustXForwardedFor": OptionSpec(0, _int_at_least(0)),
    # broadcast (wsproto_cb.broadcast): bytes queued per connection, and what
    # happens to a connection over that bound
    "broadcastQueueLimit": OptionSpec(1024 * 1024, _int_at_least(1)),
    "broadcastOverflow": OptionSpec("drop", _one_of("drop", "close", "close-try-again")),
}

CLIENT_OPTIONS: dict[str, OptionSpec] = {
    **_COMMON,
    "version": OptionSpec(18, _version),
    "acceptMaskedServerFrames": OptionSpec(False, _bool),
    "maskClientFrames": OptionSpec(True, _bool),
    "serverConnectionDropTimeout": OptionSpec(1.0, _seconds),
    "perMessageCompressionOffers": OptionSpec([], _offers),
}


def validate_options(
    specs: Mapping[str, OptionSpec], given: Mapping[str, object]
) -> dict[str, Any]:
    """Check every given option (``None`` means "leave as is") and return the valid ones
    (each of its option's type, see :class:`ProtocolOptionAttributes`)."""
    checked: dict[str, Any] = {}
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(sorted(specs))
            raise TypeError(f"unknown protocol option {name!r} (known: {known})")
        if value is None:
            continue
        checked[name] = spec.validate(name, value)
    return checked


class ProtocolOptions:
    """One set of option values: a factory's, shared by every connection it makes.

    Never changed in place: setting an option on a factory or a protocol
    gives that object a changed copy (:meth:`replaced`), so connections that
    hold the old set keep it, as Autobahn's per-connection copies did, for
    one pointer per connection instead of one attribute per option.
    """

    __slots__ = tuple(sorted(set(SERVER_OPTIONS) | set(CLIENT_OPTIONS)))

    @classmethod
    def defaults(cls, specs: Mapping[str, OptionSpec]) -> ProtocolOptions:
        """Every option of ``specs`` at its default (lists copied)."""
        return cls().replaced(
            {
                name: list(spec.default) if isinstance(spec.default, list) else spec.default
                for name, spec in specs.items()
            }
        )

    def values(self) -> dict[str, object]:
        """The options that are set, by name."""
        return {name: getattr(self, name) for name in self.__slots__ if hasattr(self, name)}

    def replaced(self, changes: Mapping[str, object]) -> ProtocolOptions:
        """A copy with ``changes`` applied (names are not checked here)."""
        new = ProtocolOptions()
        for name, value in {**self.values(), **changes}.items():
            setattr(new, name, value)
        return new


def _option_property(name: str) -> property:
    """``obj.<name>``: read from ``obj._options``; setting goes through ``obj._set_option``."""

    def set_option(obj: ProtocolOptionAttributes, value: object) -> None:
        obj._set_option(name, value)

    return property(attrgetter("_options." + name), set_option, doc=f"The {name} option.")


class ProtocolOptionAttributes:
    """The options as attributes of a factory or a protocol, read from its
    :class:`ProtocolOptions` (``_options``).

    A protocol subclass may still override one with a class attribute
    (``autoPingInterval = 5``), which hides the property; an instance that
    sets one gets its own copy of the set (see :meth:`_set_option`).
    """

    _options: ProtocolOptions

    utf8validateIncoming: bool
    applyMask: bool
    maxFramePayloadSize: int
    maxMessagePayloadSize: int
    autoFragmentSize: int
    failByDrop: bool
    echoCloseCodeReason: bool
    openHandshakeTimeout: float
    closeHandshakeTimeout: float
    tcpNoDelay: bool
    autoPingInterval: float
    autoPingTimeout: float
    autoPingSize: int
    autoPingRestartOnAnyTraffic: bool
    perMessageCompressionAccept: Any
    trackTimings: bool
    messageConcurrency: int
    # servers
    versions: list[int]
    webStatus: bool
    maskServerFrames: bool
    requireMaskedClientFrames: bool
    serveFlashSocketPolicy: bool
    flashSocketPolicy: str
    allowedOrigins: list[str]
    allowNullOrigin: bool | None
    maxConnections: int
    trustXForwardedFor: int
    broadcastQueueLimit: int
    broadcastOverflow: str
    # clients
    version: int
    acceptMaskedServerFrames: bool
    maskClientFrames: bool
    serverConnectionDropTimeout: float
    perMessageCompressionOffers: list[PerMessageDeflateOffer]

    def _set_option(self, name: str, value: object) -> None:
        self._options = self._options.replaced({name: value})


for _name in ProtocolOptions.__slots__:
    setattr(ProtocolOptionAttributes, _name, _option_property(_name))
del _name


def origin_patterns(origins: list[str]) -> list[re.Pattern[str]]:
    """Compile ``allowedOrigins`` wildcards (see :mod:`wsproto_cb.core.origin`)."""
    return compile_origin_patterns(origins)
