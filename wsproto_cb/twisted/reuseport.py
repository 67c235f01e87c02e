"""Listening with SO_REUSEPORT on Twisted, for worker processes that share one port.

Twisted's ``tcp:`` and ``ssl:`` endpoints have no SO_REUSEPORT option, but
every POSIX reactor can adopt a socket made elsewhere
(``IReactorSocket.adoptStreamPort``).  :class:`ReusePortEndpoint` makes that
socket (:func:`wsproto_cb.workers.reuse_port_socket`) and adopts it, wrapped
in TLS the way ``listenSSL`` does when it has a context factory.
:func:`reuse_port_endpoint` turns a parsed ``tcp:``/``tcp6:``/``ssl:``
endpoint string into one, so ``--listen`` keeps Twisted's syntax (and all of
``ssl:``'s certificate options).
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IStreamServerEndpoint
from zope.interface import implementer  # type: ignore[import-untyped]

from ..workers import reuse_port_socket

__all__ = ["ReusePortEndpoint", "reuse_port_endpoint"]


def _is_ipv6(address: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0])
    except (OSError, ValueError):
        return False
    return True


@implementer(IStreamServerEndpoint)
class ReusePortEndpoint:
    """An ``IStreamServerEndpoint``: TCP (or TLS with ``tls``, an
    ``IOpenSSLContextFactory``/``IOpenSSLServerConnectionCreator``) on
    ``interface:port`` with SO_REUSEPORT."""

    def __init__(
        self,
        reactor: Any,
        port: int,
        interface: str = "",
        backlog: int = 50,
        tls: Any = None,
    ) -> None:
        self.reactor = reactor
        self.port = port
        self.interface = interface
        self.backlog = backlog
        self.tls = tls

    def __repr__(self) -> str:
        kind = "ssl" if self.tls is not None else "tcp"
        return f"<ReusePortEndpoint {kind}:{self.interface or '*'}:{self.port}>"

    def listen(self, factory: Any) -> defer.Deferred[Any]:
        return defer.execute(self._listen, factory)

    def _listen(self, factory: Any) -> Any:
        family = socket.AF_INET6 if _is_ipv6(self.interface) else socket.AF_INET
        host = self.interface or ("::" if family == socket.AF_INET6 else "0.0.0.0")
        try:
            sock = reuse_port_socket(host, self.port, self.backlog, family=family)
        except OSError as exc:
            raise CannotListenError(self.interface, self.port, exc) from None  # type: ignore[no-untyped-call]
        try:
            if self.tls is not None:
                from twisted.protocols.tls import TLSMemoryBIOFactory

                factory = TLSMemoryBIOFactory(self.tls, False, factory)
            port = self.reactor.adoptStreamPort(sock.fileno(), family, factory)
            if self.tls is not None:
                port._type = "TLS"  # (as listenSSL names it in logs)
            return port
        finally:
            sock.close()  # (the reactor listens on its own duplicate)


def reuse_port_endpoint(reactor: Any, endpoint: Any) -> ReusePortEndpoint:
    """The SO_REUSEPORT twin of a ``tcp:``, ``tcp6:`` or ``ssl:`` server endpoint
    (from ``serverFromString``); ``ValueError`` for any other kind, or port 0."""
    from twisted.internet import endpoints

    tls = None
    if isinstance(endpoint, endpoints.SSL4ServerEndpoint):
        tls = endpoint._sslContextFactory
    elif not isinstance(endpoint, endpoints.TCP4ServerEndpoint | endpoints.TCP6ServerEndpoint):
        raise ValueError("only tcp:, tcp6: and ssl: endpoints can be shared by worker processes")
    port = int(endpoint._port)
    if port == 0:
        raise ValueError("worker processes need a fixed port, not 0")
    return ReusePortEndpoint(reactor, port, str(endpoint._interface), int(endpoint._backlog), tls)
