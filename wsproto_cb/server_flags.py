"""Command-line flags for server protocol options, shared by ``wsproto-cb serve``
and ``twistd wsproto_cb`` so both spell and check them the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .options import SERVER_OPTIONS

__all__ = [
    "METRICS_HELP",
    "PROTOCOL_FLAGS",
    "ProtocolFlag",
    "metrics_address",
    "protocol_options",
    "workers",
]

METRICS_HELP = (
    "Serve Prometheus metrics at http://HOST:PORT/metrics (needs the metrics extra); "
    "with --workers, one scrape adds up every worker."
)


def seconds(text: str) -> float:
    """A number of seconds >= 0 (0 turns the timer off)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not value >= 0:  # (also refuses nan)
        raise ValueError(f"{text!r} must be >= 0 seconds")
    return value


def count(text: str) -> int:
    """A whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{text!r} must be >= 0")
    return value


def positive(text: str) -> int:
    """A whole number >= 1."""
    value = count(text)
    if value < 1:
        raise ValueError(f"{text!r} must be >= 1")
    return value


def workers(text: str) -> int:
    """A number of worker processes (>= 1)."""
    return positive(text)


def metrics_address(text: str) -> str:
    """Where to serve Prometheus metrics: HOST:PORT."""
    import importlib.util

    from .metrics import parse_address

    parse_address(text)  # (ValueError says what is wrong)
    if importlib.util.find_spec("prometheus_client") is None:
        raise ValueError("needs prometheus_client: pip install 'wsproto_cb[metrics]'")
    return text


OVERFLOW_CHOICES = ("drop", "close", "close-try-again")


def overflow(text: str) -> str:
    """What a broadcast does to a connection over ``broadcastQueueLimit``."""
    if text not in OVERFLOW_CHOICES:
        raise ValueError(f"{text!r} is not one of {', '.join(OVERFLOW_CHOICES)}")
    return text


class ProtocolFlag(NamedTuple):
    flag: str  # "max-message-size"
    option: str  # the setProtocolOptions name
    parse: Callable[[str], Any]
    help: str
    metavar: str = "N"

    @property
    def default(self) -> Any:
        return SERVER_OPTIONS[self.option].default


PROTOCOL_FLAGS: tuple[ProtocolFlag, ...] = (
    ProtocolFlag(
        "max-message-size",
        "maxMessagePayloadSize",
        count,
        "Largest message in bytes (its frames may take twice that on the wire), 0 = no limit.",
        "BYTES",
    ),
    ProtocolFlag(
        "max-frame-size",
        "maxFramePayloadSize",
        count,
        "Largest frame in bytes, 0 = no limit.",
        "BYTES",
    ),
    ProtocolFlag(
        "auto-ping-interval",
        "autoPingInterval",
        seconds,
        "Ping an idle client after this many seconds, 0 = never.",
        "SECONDS",
    ),
    ProtocolFlag(
        "auto-ping-timeout",
        "autoPingTimeout",
        seconds,
        "Drop a client that does not answer a ping within this many seconds.",
        "SECONDS",
    ),
    ProtocolFlag(
        "open-handshake-timeout",
        "openHandshakeTimeout",
        seconds,
        "Drop a client that has not finished the opening handshake after this many seconds.",
        "SECONDS",
    ),
    ProtocolFlag(
        "close-handshake-timeout",
        "closeHandshakeTimeout",
        seconds,
        "Drop a client that has not answered our close frame after this many seconds "
        "(also bounds the wait at shutdown).",
        "SECONDS",
    ),
    ProtocolFlag(
        "max-connections",
        "maxConnections",
        count,
        "Answer 503 to new clients beyond this many connections, 0 = no limit.",
    ),
    ProtocolFlag(
        "trust-x-forwarded-for",
        "trustXForwardedFor",
        count,
        "Take the peer address from X-Forwarded-For, trusting this many proxies, 0 = never.",
    ),
    ProtocolFlag(
        "broadcast-queue-limit",
        "broadcastQueueLimit",
        positive,
        "A broadcast skips a connection (a slow reader) when the bytes queued to it "
        "plus the message would pass this many.",
        "BYTES",
    ),
    ProtocolFlag(
        "broadcast-overflow",
        "broadcastOverflow",
        overflow,
        "What a broadcast does to a connection over --broadcast-queue-limit: drop the "
        "message, close with 1008, or close-try-again with 1013.",
        "|".join(OVERFLOW_CHOICES),
    ),
)


def protocol_options(
    values: Mapping[str, Any],
    allowed_origins: list[str] | None = None,
    compress: bool = False,
) -> dict[str, Any]:
    """``setProtocolOptions`` keyword arguments from flag values (by flag name)."""
    options: dict[str, Any] = {}
    for spec in PROTOCOL_FLAGS:
        value = values.get(spec.flag)
        if value is not None:
            options[spec.option] = value
    if allowed_origins:
        options["allowedOrigins"] = list(allowed_origins)
    if compress:
        from .compress import accept_deflate_offer

        options["perMessageCompressionAccept"] = accept_deflate_offer
    return options


def flag_help(spec: ProtocolFlag) -> str:
    default = spec.default
    shown = f"{default:g}" if isinstance(default, float) else str(default)
    return f"{spec.help} [default: {shown}]"
