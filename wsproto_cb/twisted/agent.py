"""The client agent on Twisted: ``create_client_agent(reactor).open(url, options)``
returns a Deferred firing with an open protocol (Autobahn's names)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail

from ..agent import check_agent_options, make_factory, opening_failed
from . import WebSocketClientFactory, WebSocketClientProtocol, connectWS

__all__ = ["WebSocketClientAgent", "create_client_agent"]


class _AgentFactory(WebSocketClientFactory):
    """Hands the one protocol it builds (or the failure to connect) to ``opened``."""

    opened: Deferred[Any]

    def _connection_made(self, proto: Any) -> None:
        super()._connection_made(proto)

        def opened(_: Any) -> Any:
            if not self.opened.called:
                self.opened.callback(proto)
            return _

        def closed(_: Any) -> Any:
            if not self.opened.called:
                self.opened.errback(opening_failed(proto))
            return _

        proto.is_open.addCallback(opened)
        proto.is_closed.addCallback(closed)

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        if not self.opened.called:
            self.opened.errback(reason)


class WebSocketClientAgent:
    """Autobahn's Twisted client agent: :meth:`open` a URL, get an open protocol."""
    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def open(
        self,
        transport_config: str,
        options: Mapping[str, Any] | None = None,
        protocol_class: type | None = None,
    ) -> Deferred[Any]:
        """Connect to the URL ``transport_config``; fires with the open protocol.

        ``options``: ``headers``, ``origin``, ``protocols``, ``proxy``.  Fails
        with ``ConnectionError`` when the server refuses or the connection
        drops first, or with the connection error.
        """
        try:
            checked = check_agent_options(transport_config, options)
            factory = make_factory(
                _AgentFactory,
                protocol_class or WebSocketClientProtocol,
                transport_config,
                checked,
                reactor=self._reactor,
            )
        except (TypeError, ValueError) as exc:
            return fail(exc)
        opened: Deferred[Any] = Deferred()
        factory.opened = opened
        connectWS(factory)
        return opened


def create_client_agent(reactor: Any) -> WebSocketClientAgent:
    """A client agent on ``reactor`` (Autobahn's ``create_client_agent``)."""
    return WebSocketClientAgent(reactor)
