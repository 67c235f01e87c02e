"""The client agent (Autobahn's newer Twisted client API), runtime-neutral parts.

``create_client_agent(reactor).open(url, options)`` returns a Deferred (on
asyncio: ``await create_client_agent().open(url, options)``) that fires with
a protocol whose opening handshake is done, for code that prefers
``proto.on("message", handler)`` to subclassing.  The runtimes' modules
(:mod:`wsproto_cb.twisted.agent`, :mod:`wsproto_cb.asyncio.agent`) only
connect and wait; the option checks and the error for a failed opening
live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["AGENT_OPTIONS", "check_agent_options", "make_factory", "opening_failed"]

#: what ``options`` may hold: Autobahn's three, and our ``proxy``
AGENT_OPTIONS = ("headers", "origin", "protocols", "proxy")


def check_agent_options(url: Any, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options as a dict; ``ValueError``/``TypeError`` for a bad URL or option."""
    if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
        raise ValueError(f"the URL must start with ws:// or wss://, not {url!r}")
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, not {type(options).__name__}")
    unknown = sorted(set(options) - set(AGENT_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown agent option(s) {', '.join(unknown)}; known: {', '.join(AGENT_OPTIONS)}"
        )
    return dict(options)


def make_factory(
    factory_class: type, protocol_class: type, url: str, options: dict[str, Any], **runtime: Any
) -> Any:
    """A client factory for one ``open``: ``protocol_class`` must suit the runtime."""
    factory = factory_class(url, **options, **runtime)
    factory.protocol = protocol_class
    return factory


def opening_failed(proto: Any) -> ConnectionError:
    """The error an agent's ``open`` fails with when the connection closed before opening."""
    error = getattr(proto, "handshake_error", None)
    if error is not None:
        return ConnectionError(f"WebSocket opening handshake failed: {error}")
    why = getattr(proto, "wasNotCleanReason", None) or "connection lost"
    return ConnectionError(f"WebSocket connection closed before it opened: {why}")
