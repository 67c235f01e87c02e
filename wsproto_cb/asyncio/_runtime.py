"""The :class:`~wsproto_cb.runtime.Runtime` for asyncio transports."""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any

from ..runtime import TimerHandle
from ._direct import direct_fd, send_now

__all__ = ["AsyncioRuntime"]

log = logging.getLogger("wsproto_cb")


def describe_peer(transport: asyncio.BaseTransport) -> str:
    """``tcp4:host:port`` (or ``tcp6:``/``unix:``), as Autobahn names peers."""
    peername = transport.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        family = "tcp6" if ":" in str(peername[0]) else "tcp4"
        return f"{family}:{peername[0]}:{peername[1]}"
    if isinstance(peername, str):
        return f"unix:{peername}"
    return "unknown"


class AsyncioRuntime:
    __slots__ = ("_fd", "_loop", "_tasks", "_transport", "is_secure", "octets_written", "peer")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        #: running awaitables of callbacks (made on the first: most connections have none)
        self._tasks: set[asyncio.Future[Any]] | None = None
        self.peer = describe_peer(transport)
        self.is_secure = transport.get_extra_info("sslcontext") is not None
        self.octets_written = 0
        #: the socket to send on while nothing is queued, or -1 (see _direct.py)
        self._fd = -1 if self.is_secure else direct_fd(transport)

    @property
    def sends_directly(self) -> bool:
        """Whether writes go straight to the socket while nothing is queued (_direct.py)."""
        return self._fd >= 0

    def write(self, data: bytes) -> None:
        transport = self._transport
        if not transport.is_closing():
            size = len(data)
            self.octets_written += size
            fd = self._fd
            if fd >= 0 and not transport.get_write_buffer_size():
                sent = send_now(fd, data)
                if sent == size:
                    return
                if sent:
                    data = data[sent:]
            transport.write(data)

    def write_parts(self, parts: Sequence[bytes | memoryview]) -> None:
        # One write() per part: each goes to send() at once while nothing is
        # queued.  (Not writelines(): on 3.11 it joins the parts, and from
        # 3.12, where it uses sendmsg(), it skips the high-water check that
        # pauses a protocol writing faster than the peer reads.)
        transport = self._transport
        if not transport.is_closing():
            for part in parts:
                self.octets_written += len(part)
                transport.write(part)

    def write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size())

    def close(self) -> None:
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self._loop.call_later(delay, callback)

    def call_from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        self._loop.call_soon_threadsafe(callback, *args)

    def now(self) -> float:
        return self._loop.time()

    def pause_reading(self) -> None:
        if not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._transport.is_closing():
            self._transport.resume_reading()

    def set_nodelay(self, enabled: bool) -> None:
        if enabled:
            return  # asyncio and uvloop set TCP_NODELAY on every TCP transport already
        sock = self._transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)

    def is_awaitable(self, value: Any) -> bool:
        return inspect.isawaitable(value)

    def await_result(self, value: Any, done: Callable[[bool, Any], None]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.ensure_future(value, loop=self._loop)
        tasks = self._tasks
        if tasks is None:
            tasks = self._tasks = set()
        tasks.add(future)  # keep a reference: a dropped task may vanish

        def finished(fut: asyncio.Future[Any]) -> None:
            tasks.discard(fut)
            if fut.cancelled():
                done(False, asyncio.CancelledError())
            elif fut.exception() is not None:
                done(False, fut.exception())
            else:
                done(True, fut.result())

        future.add_done_callback(finished)
        return future

    def create_future(self) -> Any:
        return self._loop.create_future()

    def resolve_future(self, future: Any, value: Any) -> None:
        if not future.done():
            future.set_result(value)

    def log_error(self, message: str, exc: BaseException | None = None) -> None:
        if exc is None:
            log.error(message)
        else:
            log.error(message, exc_info=(type(exc), exc, exc.__traceback__))

    def log_warning(self, message: str) -> None:
        log.warning(message)
