"""wsproto_cb on asyncio: protocols and factories for ``loop.create_server`` /
``loop.create_connection`` (uvloop works too)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import client, factories, server
from ..compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from ..proxy import ProxyConfig
from ..types import ConnectionAccept, ConnectionDeny, ConnectionRequest, ConnectionResponse
from . import _shutdown
from ._backplane_io import AsyncioBackplaneIO
from ._connect import connect_ws
from ._reconnect import ReconnectingClient
from ._runtime import AsyncioRuntime
from ._shutdown import install_signal_handlers, shutdown

__all__ = [
    "ConnectionAccept",
    "ConnectionDeny",
    "ConnectionRequest",
    "ConnectionResponse",
    "PerMessageDeflateOffer",
    "PerMessageDeflateOfferAccept",
    "PerMessageDeflateResponse",
    "PerMessageDeflateResponseAccept",
    "ReconnectingClient",
    "WebSocketAdapterProtocol",
    "WebSocketClientFactory",
    "WebSocketClientProtocol",
    "WebSocketServerFactory",
    "WebSocketServerProtocol",
    "connect_ws",
    "install_signal_handlers",
    "shutdown",
]


class _ReadBuffer(threading.local):
    """One receive buffer per thread, shared by every connection.

    asyncio fills it and calls ``buffer_updated`` at once, which copies the
    bytes out before any callback runs, so connections never see each
    other's data.  Reading into a reused buffer avoids CPython's
    ``recv(256 KiB)`` per read, whose fresh allocation glibc serves with
    mmap/munmap: that cost 2-3x CPU per small message (docs/performance.md).
    """

    def __init__(self) -> None:
        self.buffer = bytearray(_READ_SIZE)
        self.view = memoryview(self.buffer)


_READ_SIZE = 64 * 1024
_read_buffer = _ReadBuffer()


class WebSocketAdapterProtocol(asyncio.BufferedProtocol, asyncio.Protocol):
    """asyncio transport callbacks, forwarded to the runtime-neutral layer.

    Both a ``BufferedProtocol`` and a ``Protocol``, so that each loop reads
    the way that is cheaper on it: the stock loop sees a BufferedProtocol and
    reads into our buffer (:class:`_ReadBuffer`); uvloop takes any
    ``asyncio.Protocol`` as a plain one and hands :meth:`data_received` the
    bytes it made from its own buffer, which spares two calls and a copy per
    read (docs/performance.md).
    """

    factory: Any
    transport: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        loop = asyncio.get_running_loop()
        self._connection_made(AsyncioRuntime(transport, loop))  # type: ignore[attr-defined,arg-type]

    def get_buffer(self, sizehint: int) -> memoryview:
        """asyncio asks where to read into: the per-thread buffer (see :class:`_ReadBuffer`)."""
        return _read_buffer.view

    def buffer_updated(self, nbytes: int) -> None:
        """asyncio read ``nbytes`` into the buffer: hand a copy to :meth:`data_received`."""
        # through data_received, so subclasses that override it still see every read
        self.data_received(bytes(_read_buffer.view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        """Bytes from the peer, for the callback layer."""
        self._data_received(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection_lost(str(exc) if exc else None)  # type: ignore[attr-defined]

    def pause_writing(self) -> None:
        self._writing_paused()  # type: ignore[attr-defined]

    def resume_writing(self) -> None:
        self._writing_resumed()  # type: ignore[attr-defined]


class WebSocketServerProtocol(WebSocketAdapterProtocol, server.WebSocketServerProtocol):
    """Subclass and override ``onConnect``/``onOpen``/``onMessage``/``onClose``."""

    _tls_hint = "pass ssl= to loop.create_server()"


class WebSocketClientProtocol(WebSocketAdapterProtocol, client.WebSocketClientProtocol):
    """Subclass and override ``onConnect``/``onOpen``/``onMessage``/``onClose``."""

    _tls_hint = (
        "pass ssl= to loop.create_connection() (ssl=True checks the server's certificate "
        "against the system's CAs)"
    )


class _AsyncioFactoryMixin:
    protocol: Any
    _new_protocol: Callable[[type, str], Any]  # (from factories.WebSocketFactory)
    _loop: asyncio.AbstractEventLoop | None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop given to the constructor (or set), else the running loop, else None.

        Reading it never raises and never grabs a loop early: a factory built
        before any loop runs follows the loop that later serves it.
        """
        if self._loop is not None:
            return self._loop
        try:
            return asyncio.get_running_loop()
        except RuntimeError:  # no loop runs in this thread
            return None

    @loop.setter
    def loop(self, value: asyncio.AbstractEventLoop | None) -> None:
        self._loop = value

    @property
    def ssl_handshake_timeout(self) -> float | None:
        """``openHandshakeTimeout`` for asyncio's ``ssl_handshake_timeout``.

        asyncio runs a TLS handshake before the protocol exists, so none of
        the protocol's timers bound it; only its own timeout does, 60 s by
        default: long enough for a client that connects and sends nothing to
        hold a socket and a TLS object per connection.  Pass this to
        ``loop.create_server(..., ssl=context, ssl_handshake_timeout=...)``
        (or ``create_connection``) to give the TLS handshake the same bound
        as the WebSocket one.  ``None`` (asyncio's default) when
        ``openHandshakeTimeout`` is 0 (off), as asyncio has no "never".
        """
        timeout: float = self.openHandshakeTimeout  # type: ignore[attr-defined]
        return float(timeout) if timeout > 0 else None

    def __call__(self) -> Any:
        if self._loop_seen is None:
            # (the loop that serves us, for calls from other threads)
            with contextlib.suppress(RuntimeError):
                self._loop_seen = asyncio.get_running_loop()
        return self._new_protocol(WebSocketAdapterProtocol, "wsproto_cb.asyncio")

    _loop_seen: asyncio.AbstractEventLoop | None = None

    def _call_from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        loop = self._loop or self._loop_seen
        if loop is None:
            raise RuntimeError(
                "this factory has no event loop yet: pass loop= to it, "
                "or call from threads once it has served a connection"
            )
        loop.call_soon_threadsafe(callback, *args)


class WebSocketServerFactory(_AsyncioFactoryMixin, factories.WebSocketServerFactory):
    """``loop.create_server(factory, host, port)``."""

    protocol: Any = WebSocketServerProtocol
    _shutdown_loop: asyncio.AbstractEventLoop | None = None

    def __init__(
        self,
        url: str | None = None,
        protocols: Sequence[str] | None = None,
        server: str | None = factories.DEFAULT_SERVER,
        headers: Mapping[str, Any] | None = None,
        externalPort: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop
        factories.WebSocketServerFactory.__init__(
            self, url, protocols, server, headers, externalPort
        )

    def _backplane_io(self) -> AsyncioBackplaneIO | None:
        loop = self.loop
        if loop is None:  # no loop yet: the backplane starts on first use
            return None
        io = self._backplane_io_cache
        if io is None or io.loop is not loop:
            io = self._backplane_io_cache = AsyncioBackplaneIO(loop)
        return io

    _backplane_io_cache: AsyncioBackplaneIO | None = None

    def __call__(self) -> Any:
        if self.gracefulShutdown:
            # The first moment we run inside the serving loop: register for
            # SIGINT/SIGTERM graceful shutdown (see wsproto_cb.shutdown).
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # built by hand, outside a loop
                loop = None
            if loop is not self._shutdown_loop and loop is not None:
                self._shutdown_loop = loop
                _shutdown.watch(self, loop)
        return super().__call__()


class WebSocketClientFactory(_AsyncioFactoryMixin, factories.WebSocketClientFactory):
    """``loop.create_connection(factory, host, port)``."""

    protocol: Any = WebSocketClientProtocol

    def __init__(
        self,
        url: str | None = None,
        origin: str | None = None,
        protocols: Sequence[str] | None = None,
        useragent: str | None = factories.DEFAULT_USERAGENT,
        headers: Mapping[str, Any] | None = None,
        proxy: Mapping[str, Any] | str | ProxyConfig | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._loop = loop
        factories.WebSocketClientFactory.__init__(
            self, url, origin, protocols, useragent, headers, proxy
        )


if TYPE_CHECKING:  # broadcastThreadsafe's contract (:mod:`wsproto_cb.contracts`)
    from ..contracts import LoopBroadcaster

    _broadcaster: type[LoopBroadcaster] = WebSocketServerFactory
