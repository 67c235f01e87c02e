"""Twisted side of :class:`wsproto_cb.backplane.io.BackplaneIO`: TCP, timers, logging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, protocol
from twisted.logger import Logger

try:  # (Twisted checks host names with it: its "tls" extra)
    from service_identity import VerificationError as _NameMismatch
except ImportError:  # pragma: no cover
    _NameMismatch = None  # type: ignore[assignment,misc]

from ..backplane.address import RedisTLS
from ..backplane.io import StreamHandler
from ..backplane.tls import read_pem
from ..runtime import TimerHandle
from ._runtime import CancellableCall, _queued_bytes

__all__ = ["TwistedBackplaneIO"]

_log = Logger(namespace="wsproto_cb.backplane")


def _reason(failure: Any) -> str:
    """What went wrong, said plainly where TLS refused the server's certificate."""
    if _NameMismatch is not None and failure.check(_NameMismatch):
        return f"TLS: the certificate is not for this host name or address ({failure.value})"
    return str(failure.getErrorMessage())


class _StreamProtocol(protocol.Protocol):
    def __init__(self, handler: StreamHandler, io: TwistedBackplaneIO) -> None:
        self._handler = handler
        self._io = io
        self.closed: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        self._io._open.add(self)
        self._handler.connection_made(self)

    def dataReceived(self, data: bytes) -> None:
        self._handler.data_received(data)

    def connectionLost(self, reason: Any = protocol.connectionDone) -> None:
        self._io._open.discard(self)
        if not self.closed.called:
            self.closed.callback(None)
        self._handler.connection_lost(_reason(reason))

    # Stream
    # (``transport`` is typed through zope.interface, which mypy cannot follow.)
    def write(self, data: bytes) -> None:
        transport: Any = self.transport
        transport.write(data)

    def buffered(self) -> int:
        return _queued_bytes(self.transport)

    def close(self) -> None:
        transport: Any = self.transport
        transport.loseConnection()

    def abort(self) -> None:
        transport: Any = self.transport
        transport.abortConnection()


class TwistedBackplaneIO:
    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self._open: set[_StreamProtocol] = set()

    def connect_tcp(
        self,
        host: str,
        port: int,
        handler: StreamHandler,
        timeout: float,
        tls: RedisTLS | None = None,
    ) -> None:
        from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS

        endpoint: Any = HostnameEndpoint(self.reactor, host, port, timeout=timeout)
        if tls is not None:
            try:
                endpoint = wrapClientTLS(twisted_options(tls, host), endpoint)
            except ValueError as exc:  # (reported later, as a refused connection is)
                self.reactor.callLater(0, handler.connection_lost, f"cannot connect: {exc}")
                return
        factory: Any = protocol.Factory.forProtocol(lambda: _StreamProtocol(handler, self))
        connecting = endpoint.connect(factory)

        def failed(failure: Any) -> None:
            handler.connection_lost(f"cannot connect: {failure.getErrorMessage()}")

        connecting.addErrback(failed)

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return CancellableCall(self.reactor.callLater(delay, callback))

    def closing(self) -> list[Any]:
        return [stream.closed for stream in self._open]

    def log(self, level: str, message: str) -> None:
        {"info": _log.info, "warning": _log.warn, "error": _log.error}[level](
            "{message}", message=message
        )


def twisted_options(tls: RedisTLS, host: str) -> Any:
    """Twisted's client TLS options (for ``wrapClientTLS``): the same checks."""
    from twisted.internet import ssl as tssl

    client: Any = None
    try:
        if tls.certfile is not None:
            pem = read_pem(tls.certfile, "ssl_certfile")
            if tls.keyfile is not None:
                pem += b"\n" + read_pem(tls.keyfile, "ssl_keyfile")
            client = tssl.PrivateCertificate.loadPEM(pem)  # type: ignore[no-untyped-call]
        if not tls.verify:
            if client is None:
                return tssl.CertificateOptions()
            return client.options()
        trust: Any = (
            tssl.Certificate.loadPEM(read_pem(tls.ca_certs, "ssl_ca_certs"))
            if tls.ca_certs is not None
            else tssl.platformTrust()  # type: ignore[no-untyped-call]
        )
    except ValueError:
        raise
    except Exception as exc:  # (pyOpenSSL's errors for a bad PEM)
        raise ValueError(f"bad TLS files for Redis: {exc}") from None
    return tssl.optionsForClientTLS(host, trustRoot=trust, clientCertificate=client)
