"""The built-in echo protocol: the default of ``wsproto-cb serve`` and ``twistd wsproto_cb``.

It derives from the runtime-neutral
:class:`wsproto_cb.server.WebSocketServerProtocol`, so
:func:`wsproto_cb.protocol_loader.load_protocol` can bind it to either
runtime; your own classes may do the same, or derive from the
``wsproto_cb.asyncio`` / ``wsproto_cb.twisted`` base directly.
"""

from __future__ import annotations

from .server import WebSocketServerProtocol

__all__ = ["EchoServerProtocol"]


class EchoServerProtocol(WebSocketServerProtocol):
    """Sends every message back to its sender, text as text, binary as binary."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)
