"""asyncio side of :class:`wsproto_cb.backplane.io.BackplaneIO`: TCP, timers, logging."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

from ..backplane.address import RedisTLS
from ..backplane.io import StreamHandler
from ..backplane.tls import read_pem
from ..runtime import TimerHandle

__all__ = ["AsyncioBackplaneIO"]

_log = logging.getLogger("wsproto_cb.backplane")


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, handler: StreamHandler, io: AsyncioBackplaneIO) -> None:
        self._handler = handler
        self._io = io
        self._transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = io.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._io._open.add(self)
        self._handler.connection_made(self)

    def data_received(self, data: bytes) -> None:
        self._handler.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._io._open.discard(self)
        if not self.closed.done():
            self.closed.set_result(None)
        self._handler.connection_lost(str(exc) if exc else "connection closed by Redis")

    # Stream
    def write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport is not None else 0

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class AsyncioBackplaneIO:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._connecting: set[asyncio.Task[Any]] = set()
        self._open: set[_StreamProtocol] = set()

    def connect_tcp(
        self,
        host: str,
        port: int,
        handler: StreamHandler,
        timeout: float,
        tls: RedisTLS | None = None,
    ) -> None:
        async def connect() -> None:
            try:
                context = asyncio_context(tls) if tls is not None else None
                await asyncio.wait_for(
                    self.loop.create_connection(
                        lambda: _StreamProtocol(handler, self),
                        host,
                        port,
                        ssl=context,
                        server_hostname=host if context is not None else None,
                        ssl_handshake_timeout=timeout if context is not None else None,
                    ),
                    timeout,
                )
            except (TimeoutError, OSError, ValueError) as exc:
                reason = str(exc) or f"no connection within {timeout:g} s"
                handler.connection_lost(f"cannot connect: {reason}")

        task = self.loop.create_task(connect())
        self._connecting.add(task)  # (kept until done: never a dropped task)
        task.add_done_callback(self._connecting.discard)

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.loop.call_later(delay, callback)

    def log(self, level: str, message: str) -> None:
        getattr(_log, level)(message)

    def closing(self) -> list[Any]:
        return [stream.closed for stream in self._open]


def asyncio_context(tls: RedisTLS) -> ssl.SSLContext:
    """A client ``SSLContext`` (for ``loop.create_connection(ssl=...)``)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        if tls.ca_certs is not None:
            context.load_verify_locations(cadata=read_pem(tls.ca_certs, "ssl_ca_certs").decode())
        if tls.certfile is not None:
            context.load_cert_chain(tls.certfile, tls.keyfile)
    except (ssl.SSLError, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"bad TLS files for Redis: {exc}") from None
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
