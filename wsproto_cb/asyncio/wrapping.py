"""Any asyncio protocol over WebSocket: ``WrappingWebSocketServerFactory`` and
``WrappingWebSocketClientFactory``, the asyncio twins of the Twisted ones.

``factory`` is a protocol factory as ``loop.create_server`` takes (a
callable returning an ``asyncio.Protocol``); its transport's ``write``
sends a message and each message received is its ``data_received``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..wrapping import WrappingCallbacks, configure_wrapping_factory, spoken_subprotocols
from . import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
)

__all__ = [
    "WrappingWebSocketClientFactory",
    "WrappingWebSocketClientProtocol",
    "WrappingWebSocketServerFactory",
    "WrappingWebSocketServerProtocol",
]


class _StreamTransport(asyncio.Transport):
    """The transport the wrapped protocol sees: bytes in and out are WebSocket messages."""

    def __init__(self, ws: Any) -> None:
        super().__init__()
        self._ws = ws
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._ws.write_stream(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self._ws.write_stream(b"".join(list_of_data))

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._ws.sendClose(1000)

    def abort(self) -> None:
        self._closing = True
        self._ws.dropConnection(abort=True)

    def is_closing(self) -> bool:
        return self._closing or self._ws.state != self._ws.STATE_OPEN

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._ws.transport.get_extra_info(name, default)

    def can_write_eof(self) -> bool:
        return False


class _AsyncioWrapping(WrappingCallbacks):
    _stream: Any = None

    def _wrapped_open(self) -> None:
        self._stream = self.factory.wrappedFactory()
        self._stream.connection_made(_StreamTransport(self))

    def _wrapped_data(self, data: bytes) -> None:
        if self._stream is not None:
            self._stream.data_received(data)

    def _wrapped_closed(self, clean: bool) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.connection_lost(None if clean else ConnectionResetError("WebSocket lost"))


class WrappingWebSocketServerProtocol(_AsyncioWrapping, WebSocketServerProtocol):
    """Carries one wrapped protocol's byte stream."""


class WrappingWebSocketClientProtocol(_AsyncioWrapping, WebSocketClientProtocol):
    """Carries one wrapped protocol's byte stream."""


class _WrappingFactory:
    """What both wrapping factories add to ours: the Twisted ones' constructor."""

    #: the stream protocol factory (a callable returning an ``asyncio.Protocol``)
    wrappedFactory: Any

    def __init__(
        self,
        factory: Any,
        url: str,
        loop: asyncio.AbstractEventLoop | None = None,
        enableCompression: bool = True,
        autoFragmentSize: int = 0,
        subprotocol: str | None = None,
    ) -> None:
        super().__init__(url, protocols=spoken_subprotocols(subprotocol), loop=loop)  # type: ignore[call-arg]
        configure_wrapping_factory(self, factory, enableCompression, autoFragmentSize)


class WrappingWebSocketServerFactory(_WrappingFactory, WebSocketServerFactory):
    """Serve ``factory``'s stream protocol over WebSocket at ``url``."""

    protocol = WrappingWebSocketServerProtocol


class WrappingWebSocketClientFactory(_WrappingFactory, WebSocketClientFactory):
    """Run ``factory``'s stream protocol over a WebSocket connection to ``url``."""

    protocol = WrappingWebSocketClientProtocol
