"""Serving a factory on Twisted from a command line: what ``wsproto-cb serve
--runtime twisted`` and ``twistd wsproto_cb`` (and its workers) share.

Each front keeps its own command line (argparse, Twisted's ``usage.Options``)
and its own way of reporting; the wiring below them is written once here:
logging to a stream, endpoints from strings (with SO_REUSEPORT for workers),
and the order of a graceful stop (stop listening, close every connection
with 1001 and wait, bounded, then let the process exit 0).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import IO, Any

from twisted.internet import defer

from ._shutdown import graceful_exit, shutdown

__all__ = ["EndpointError", "begin_logging", "quote", "server_endpoints", "stop_gracefully"]

# (Twisted's endpoints and loggers are not typed for mypy: used through Any)
_endpoints: Any = importlib.import_module("twisted.internet.endpoints")
_logger: Any = importlib.import_module("twisted.logger")


class EndpointError(ValueError):
    """An endpoint string that cannot be served; ``description`` names it."""

    def __init__(self, description: str, message: str, reuse_port: bool = False) -> None:
        super().__init__(message)
        self.description = description
        #: whether it is SO_REUSEPORT that this endpoint cannot do
        self.reuse_port = reuse_port


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def quote(text: str) -> str:
    """``text`` as one argument of an endpoint string (``:`` ``=`` ``\\`` escaped)."""
    return str(_endpoints.quoteStringArgument(text))


def server_endpoints(
    reactor: Any, descriptions: Sequence[str], reuse_port: bool = False
) -> list[tuple[str, Any]]:
    """``(description, endpoint)`` for each endpoint string (``tcp:9000``, ``ssl:...``);
    ``reuse_port``: listening with SO_REUSEPORT, as the workers of one port do.

    Raises :class:`EndpointError` saying which one is wrong and why.
    """
    found = []
    for description in descriptions:
        try:
            endpoint = _endpoints.serverFromString(reactor, description)
        except Exception as exc:  # (Twisted raises anything from a bad string or file)
            raise EndpointError(description, _describe(exc)) from None
        if reuse_port:
            from .reuseport import reuse_port_endpoint

            try:
                endpoint = reuse_port_endpoint(reactor, endpoint)
            except ValueError as exc:
                raise EndpointError(description, str(exc), reuse_port=True) from None
        found.append((description, endpoint))
    return found


def begin_logging(stream: IO[str], level: Any, timestamps: bool = True) -> None:
    """Send Twisted's log events at ``level`` (a ``LogLevel``) and above to ``stream``,
    one line each; without ``timestamps`` when a parent process adds its own."""
    if timestamps:
        observer = _logger.textFileLogObserver(stream)
    else:

        def observer(event: Any) -> None:
            stream.write(_logger.eventAsText(event, includeTimestamp=False) + "\n")
            stream.flush()

    filtered = _logger.FilteringLogObserver(
        observer, [_logger.LogLevelFilterPredicate(defaultLogLevel=level)]
    )
    _logger.globalLogBeginner.beginLoggingTo([filtered], redirectStandardIO=False)


def stop_gracefully(
    stop_listening: Callable[[], Any],
    factory: Any,
    reactor: Any,
    closing: Callable[[int], None] | None = None,
) -> defer.Deferred[None]:
    """Stop listening, then close ``factory``'s connections with 1001 and wait
    (bounded, :func:`~wsproto_cb.twisted.shutdown`), then let the process exit 0
    after the signal that stopped it.  ``closing(count)`` is told how many
    connections are being closed.  If ``stop_listening`` fails, so does this
    (a service that never started, say), and the connections are left alone."""
    stopped: defer.Deferred[Any] = defer.maybeDeferred(stop_listening)

    def close_connections(_: Any) -> defer.Deferred[None]:
        if closing is not None:
            closing(factory.countConnections)
        return shutdown(factory)

    stopped.addCallback(close_connections)
    stopped.addCallback(lambda _: graceful_exit(reactor))
    return stopped
