"""``connect_ws``: open a client factory's connection, directly or through its HTTP proxy."""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from typing import Any

from ..core.proxy import ProxyConnect, ProxyError

__all__ = ["connect_ws"]


class _TunnelProtocol(asyncio.Protocol):
    """Speaks CONNECT to the proxy until the tunnel is up, then steps aside."""

    def __init__(self, tunnel: ProxyConnect, ready: asyncio.Future[None]) -> None:
        self._tunnel = tunnel
        self._ready = ready
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self._tunnel.request())  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        if self._ready.done():
            return
        try:
            if self._tunnel.receive_data(data):
                self.transport.pause_reading()  # type: ignore[union-attr]
                self._ready.set_result(None)
        except ProxyError as exc:
            self._ready.set_exception(exc)
            self.transport.abort()  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._ready.done():
            self._ready.set_exception(self._tunnel.connection_lost())


async def _open_tunnel(factory: Any, context: ssl_module.SSLContext | None) -> Any:
    loop = asyncio.get_running_loop()
    tunnel = factory.proxy.tunnel(factory.host, factory.port)
    ready: asyncio.Future[None] = loop.create_future()
    timeout = factory.openHandshakeTimeout or None
    transport: Any = None

    async def establish() -> None:
        nonlocal transport
        try:
            transport, _ = await loop.create_connection(
                lambda: _TunnelProtocol(tunnel, ready), factory.proxy.host, factory.proxy.port
            )
        except OSError as exc:  # (refused, unreachable, DNS): say it was the proxy
            raise ProxyError(tunnel.proxy, f"cannot connect: {exc.strerror or exc}") from exc
        await ready

    try:
        await asyncio.wait_for(establish(), timeout)
    except TimeoutError:
        if transport is not None:
            transport.abort()
        raise tunnel.timed_out(timeout or 0) from None
    except BaseException:
        if transport is not None:
            transport.abort()
        raise
    trailing = tunnel.trailing
    if context is not None:
        if trailing:  # (a TLS server never speaks first)
            transport.abort()
            raise ProxyError(tunnel.proxy, "sent bytes after its answer, before TLS started")
        transport = await loop.start_tls(
            transport,
            transport.get_protocol(),
            context,
            server_hostname=factory.host,
            ssl_handshake_timeout=factory.ssl_handshake_timeout,
        )
    proto = factory()
    transport.set_protocol(proto)
    proto.connection_made(transport)
    if trailing:
        proto.data_received(trailing)
    transport.resume_reading()
    return transport, proto


async def connect_ws(
    factory: Any, ssl: ssl_module.SSLContext | None = None
) -> tuple[asyncio.BaseTransport, Any]:
    """Connect ``factory`` (an asyncio ``WebSocketClientFactory``) to its URL.

    ``wss://`` uses ``ssl`` or a default context that checks the server's
    certificate against the URL's host name.  With ``factory.proxy`` set the
    connection goes to the proxy, which is asked to ``CONNECT`` to the URL's
    host and port; TLS then runs to the origin inside that tunnel.  A proxy
    that refuses, closes or stays silent past ``openHandshakeTimeout``
    raises :class:`~wsproto_cb.core.proxy.ProxyError` naming the proxy and
    its status line.  Returns ``(transport, protocol)`` as
    ``loop.create_connection`` does.
    """
    context = None
    if factory.isSecure:
        context = ssl if ssl is not None else ssl_module.create_default_context()
    try:
        if factory.proxy is not None:
            return await _open_tunnel(factory, context)  # type: ignore[no-any-return]
        loop = asyncio.get_running_loop()
        return await loop.create_connection(
            factory,
            factory.host,
            factory.port,
            ssl=context,
            server_hostname=factory.host if context is not None else None,
            ssl_handshake_timeout=factory.ssl_handshake_timeout if context is not None else None,
        )
    except ssl_module.SSLCertVerificationError as exc:
        exc.add_note(UNTRUSTED_CERTIFICATE_HINT)  # (verification stays on: say how to trust)
        raise


#: Added to a certificate verification error: how to trust a private CA.
UNTRUSTED_CERTIFICATE_HINT = (
    "The server's certificate is not trusted by the system's CAs. To trust your own CA, "
    "pass ssl=ssl.create_default_context(cafile=...) (to connect_ws, or to "
    "loop.create_connection as in Autobahn's examples)."
)
