"""The protocol served under attack (``wsproto-cb serve target:Target``).

An echo server, runtime-neutral so the same class runs on asyncio and
Twisted, that answers the text message ``whoami?`` with the peer address it
believes (to show whether ``X-Forwarded-For`` can be spoofed).
"""

from __future__ import annotations

from wsproto_cb.server import WebSocketServerProtocol

WHOAMI = b"whoami?"


class Target(WebSocketServerProtocol):
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if not isBinary and payload == WHOAMI:
            self.sendMessage(str(self.peer).encode(), False)
        else:
            self.sendMessage(payload, isBinary)
